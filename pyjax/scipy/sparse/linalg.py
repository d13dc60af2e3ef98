"""``jax.scipy.sparse.linalg``."""
from pyjax._src.scipy.sparse.linalg import bicgstab, cg, gmres

__all__ = ["bicgstab", "cg", "gmres"]

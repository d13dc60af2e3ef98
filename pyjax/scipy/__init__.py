"""``jax.scipy``."""
from pyjax.scipy import linalg, sparse

__all__ = ["linalg", "sparse"]

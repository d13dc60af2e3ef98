"""``jax.scipy.sparse``."""
from pyjax.scipy.sparse import linalg

__all__ = ["linalg"]

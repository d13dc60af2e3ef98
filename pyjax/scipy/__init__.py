"""``jax.scipy``."""
from pyjax.scipy import linalg

__all__ = ["linalg"]

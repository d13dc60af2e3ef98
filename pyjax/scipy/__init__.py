"""``jax.scipy``."""
from pyjax.scipy import linalg, special

__all__ = ["linalg", "special"]

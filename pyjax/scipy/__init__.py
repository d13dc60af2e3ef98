"""``jax.scipy``."""
from pyjax.scipy import linalg, optimize, spatial

__all__ = ["linalg", "optimize", "spatial"]

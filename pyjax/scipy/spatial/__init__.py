"""``jax.scipy.spatial``."""
from pyjax.scipy.spatial import transform

__all__ = ["transform"]

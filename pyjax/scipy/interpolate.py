"""``jax.scipy.interpolate``."""
from pyjax._src.scipy.interpolate import RegularGridInterpolator

__all__ = ["RegularGridInterpolator"]

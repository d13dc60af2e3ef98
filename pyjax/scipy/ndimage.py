"""``jax.scipy.ndimage``."""
from pyjax._src.scipy.ndimage import map_coordinates

__all__ = ["map_coordinates"]

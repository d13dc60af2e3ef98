"""``jax.scipy.spatial.transform``."""
from pyjax._src.scipy.spatial.transform import Rotation, Slerp

__all__ = ["Rotation", "Slerp"]

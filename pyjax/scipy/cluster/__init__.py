"""``jax.scipy.cluster``."""
from pyjax.scipy.cluster import vq

__all__ = ["vq"]

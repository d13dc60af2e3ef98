"""``jax.scipy.cluster.vq``."""
from pyjax._src.scipy.cluster.vq import vq

__all__ = ["vq"]

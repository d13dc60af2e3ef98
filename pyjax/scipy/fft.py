"""``jax.scipy.fft``."""
from pyjax._src.scipy.fft import dct, dctn, idct, idctn

__all__ = ["dct", "dctn", "idct", "idctn"]

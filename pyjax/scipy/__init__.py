"""``jax.scipy``."""
from pyjax.scipy import (cluster, fft, integrate, interpolate, linalg, ndimage, signal,
                         sparse)

__all__ = ["cluster", "fft", "integrate", "interpolate", "linalg", "ndimage", "signal",
           "sparse"]

"""``jax.scipy.signal``."""
from pyjax._src.scipy.signal import (convolve, convolve2d, correlate, correlate2d, csd,
                                     detrend, fftconvolve, istft, stft, welch)

__all__ = ["convolve", "convolve2d", "correlate", "correlate2d", "csd", "detrend",
           "fftconvolve", "istft", "stft", "welch"]

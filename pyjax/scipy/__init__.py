"""``jax.scipy``."""
from pyjax.scipy import (cluster, fft, integrate, interpolate, linalg, ndimage, optimize,
                         signal, sparse, spatial, special, stats)

__all__ = ["cluster", "fft", "integrate", "interpolate", "linalg", "ndimage", "optimize",
           "signal", "sparse", "spatial", "special", "stats"]

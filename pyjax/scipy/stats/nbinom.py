"""``jax.scipy.stats.nbinom``."""
from pyjax._src.scipy.stats.nbinom import (
    logpmf as logpmf,
    pmf as pmf,
)

__all__ = ["logpmf", "pmf"]

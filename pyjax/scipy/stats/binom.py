"""``jax.scipy.stats.binom``."""
from pyjax._src.scipy.stats.binom import (
    logpmf as logpmf,
    pmf as pmf,
)

__all__ = ["logpmf", "pmf"]

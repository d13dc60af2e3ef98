"""``jax.scipy.stats.betabinom``."""
from pyjax._src.scipy.stats.betabinom import (
    logpmf as logpmf,
    pmf as pmf,
)

__all__ = ["logpmf", "pmf"]

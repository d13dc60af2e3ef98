"""``jax.scipy.stats.multinomial``."""
from pyjax._src.scipy.stats.multinomial import (
    logpmf as logpmf,
    pmf as pmf,
)

__all__ = ["logpmf", "pmf"]

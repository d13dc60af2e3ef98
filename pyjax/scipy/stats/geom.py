"""``jax.scipy.stats.geom``."""
from pyjax._src.scipy.stats.geom import (
    logpmf as logpmf,
    pmf as pmf,
)

__all__ = ["logpmf", "pmf"]

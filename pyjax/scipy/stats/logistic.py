"""``jax.scipy.stats.logistic``."""
from pyjax._src.scipy.stats.logistic import (
    cdf as cdf,
    isf as isf,
    logpdf as logpdf,
    pdf as pdf,
    ppf as ppf,
    sf as sf,
)

__all__ = ["cdf", "isf", "logpdf", "pdf", "ppf", "sf"]

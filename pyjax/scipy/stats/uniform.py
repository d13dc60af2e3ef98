"""``jax.scipy.stats.uniform``."""
from pyjax._src.scipy.stats.uniform import (
    cdf as cdf,
    logpdf as logpdf,
    pdf as pdf,
    ppf as ppf,
)

__all__ = ["cdf", "logpdf", "pdf", "ppf"]

"""``jax.scipy.stats.laplace``."""
from pyjax._src.scipy.stats.laplace import (
    cdf as cdf,
    logpdf as logpdf,
    pdf as pdf,
)

__all__ = ["cdf", "logpdf", "pdf"]

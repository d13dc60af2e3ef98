"""``jax.scipy.stats.multivariate_normal``."""
from pyjax._src.scipy.stats.multivariate_normal import (
    logpdf as logpdf,
    pdf as pdf,
)

__all__ = ["logpdf", "pdf"]

"""``jax.scipy.stats.wrapcauchy``."""
from pyjax._src.scipy.stats.wrapcauchy import (
    logpdf as logpdf,
    pdf as pdf,
)

__all__ = ["logpdf", "pdf"]

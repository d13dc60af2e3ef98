"""``jax.scipy.stats.t``."""
from pyjax._src.scipy.stats.t import (
    logpdf as logpdf,
    pdf as pdf,
)

__all__ = ["logpdf", "pdf"]

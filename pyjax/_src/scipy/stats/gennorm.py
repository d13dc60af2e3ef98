"""``jax.scipy.stats.gennorm``: the generalized normal distribution (no loc/scale)."""
from __future__ import annotations

from pyjax._src.lax import lax
from pyjax._src.lax import special as lax_special
from pyjax._src.numpy.util import promote_args_inexact

__all__ = ["cdf", "logpdf", "pdf"]


def logpdf(x, beta):
  x, beta = promote_args_inexact("gennorm.logpdf", x, beta)
  return lax.log(0.5 * beta) - lax_special.lgamma(1 / beta) - lax.abs(x) ** beta


def cdf(x, beta):
  x, beta = promote_args_inexact("gennorm.cdf", x, beta)
  return 0.5 * (1 + lax.sign(x) * lax_special.igamma(1 / beta, lax.abs(x) ** beta))


def pdf(x, beta):
  return lax.exp(logpdf(x, beta))

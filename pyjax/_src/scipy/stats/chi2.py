"""``jax.scipy.stats.chi2``: the chi-squared distribution."""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.lax import special as lax_special
from pyjax._src.lax.lax import _const as _lax_const
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy.util import promote_args_inexact
from pyjax._src.scipy.special import gammainc, gammaincc

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]


def logpdf(x, df, loc=0, scale=1):
  x, df, loc, scale = promote_args_inexact("chi2.logpdf", x, df, loc, scale)
  one = _lax_const(x, 1)
  two = _lax_const(x, 2)
  y = lax.div(lax.sub(x, loc), scale)
  df_on_two = lax.div(df, two)
  kernel = lax.sub(lax.mul(lax.sub(df_on_two, one), lax.log(y)), lax.div(y, two))
  nrml_cnst = lax.neg(lax.add(lax_special.lgamma(df_on_two),
                              lax.div(lax.mul(lax.log(two), df), two)))
  log_probs = lax.add(lax.sub(nrml_cnst, lax.log(scale)), kernel)
  return jnp.where(lax.lt(x, loc), -np.inf, log_probs)


def pdf(x, df, loc=0, scale=1):
  return lax.exp(logpdf(x, df, loc, scale))


def _clamped(x, loc, scale):
  two = _lax_const(scale, 2)
  return lax.clamp(_lax_const(x, 0), lax.div(lax.sub(x, loc), lax.mul(scale, two)),
                   _lax_const(x, np.inf))


def cdf(x, df, loc=0, scale=1):
  x, df, loc, scale = promote_args_inexact("chi2.cdf", x, df, loc, scale)
  return gammainc(lax.div(df, _lax_const(scale, 2)), _clamped(x, loc, scale))


def logcdf(x, df, loc=0, scale=1):
  return lax.log(cdf(x, df, loc, scale))


def sf(x, df, loc=0, scale=1):
  x, df, loc, scale = promote_args_inexact("chi2.sf", x, df, loc, scale)
  return gammaincc(lax.div(df, _lax_const(scale, 2)), _clamped(x, loc, scale))


def logsf(x, df, loc=0, scale=1):
  return lax.log(sf(x, df, loc, scale))

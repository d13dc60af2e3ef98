"""``jax.scipy.stats.beta``: the beta distribution."""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.lax.lax import _const as _lax_const
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.util import promote_args_inexact
from pyjax._src.scipy.special import betainc, betaln, xlog1py, xlogy

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]


def logpdf(x, a, b, loc=0, scale=1):
  x, a, b, loc, scale = promote_args_inexact("beta.logpdf", x, a, b, loc, scale)
  one = _lax_const(x, 1)
  zero = _lax_const(a, 0)
  shape_term = lax.neg(betaln(a, b))
  y = lax.div(lax.sub(x, loc), scale)
  log_linear_term = lax.add(xlogy(lax.sub(a, one), y), xlog1py(lax.sub(b, one), lax.neg(y)))
  log_probs = lax.sub(lax.add(shape_term, log_linear_term), lax.log(scale))
  outside = ufuncs.logical_or(lax.gt(x, lax.add(loc, scale)), lax.lt(x, loc))
  result = jnp.where(outside, -np.inf, log_probs)
  bad = ufuncs.logical_or(ufuncs.logical_or(lax.le(a, zero), lax.le(b, zero)),
                          lax.le(scale, zero))
  return jnp.where(bad, np.nan, result)


def pdf(x, a, b, loc=0, scale=1):
  return lax.exp(logpdf(x, a, b, loc, scale))


def _unit(x, loc, scale):
  return lax.clamp(_lax_const(x, 0), lax.div(lax.sub(x, loc), scale), _lax_const(x, 1))


def cdf(x, a, b, loc=0, scale=1):
  x, a, b, loc, scale = promote_args_inexact("beta.cdf", x, a, b, loc, scale)
  return betainc(a, b, _unit(x, loc, scale))


def logcdf(x, a, b, loc=0, scale=1):
  return lax.log(cdf(x, a, b, loc, scale))


def sf(x, a, b, loc=0, scale=1):
  x, a, b, loc, scale = promote_args_inexact("beta.sf", x, a, b, loc, scale)
  return betainc(b, a, 1 - _unit(x, loc, scale))


def logsf(x, a, b, loc=0, scale=1):
  return lax.log(sf(x, a, b, loc, scale))

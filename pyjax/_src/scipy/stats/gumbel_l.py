"""``jax.scipy.stats.gumbel_l``: the left-skewed Gumbel distribution.

nan where scale <= 0, as JAX.
"""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.lax.lax import _const as _lax_const
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.util import promote_args_inexact
from pyjax._src.scipy.special import xlog1py, xlogy

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]


def logpdf(x, loc=0, scale=1):
  x, loc, scale = promote_args_inexact("gumbel_l.logpdf", x, loc, scale)
  ok = lax.gt(scale, _lax_const(scale, 0))
  z = lax.div(lax.sub(x, loc), scale)
  neg_log_scale = xlogy(-1, scale)
  t2 = lax.sub(z, lax.exp(z))
  return jnp.where(ok, lax.add(neg_log_scale, t2), np.nan)


def pdf(x, loc=0, scale=1):
  return lax.exp(logpdf(x, loc, scale))


def logcdf(x, loc=0, scale=1):
  x, loc, scale = promote_args_inexact("gumbel_l.logcdf", x, loc, scale)
  ok = lax.gt(scale, _lax_const(scale, 0))
  z = lax.div(lax.sub(x, loc), scale)
  neg_exp_z = lax.neg(lax.exp(z))
  return jnp.where(ok, lax.log(-lax.expm1(neg_exp_z)), np.nan)


def cdf(x, loc=0, scale=1):
  return lax.exp(logcdf(x, loc, scale))


def ppf(p, loc=0, scale=1):
  p, loc, scale = promote_args_inexact("gumbel_l.ppf", p, loc, scale)
  ok = lax.bitwise_and(lax.gt(p, _lax_const(p, 0)), lax.lt(p, _lax_const(p, 1)))
  t1 = xlog1py(-1, lax.neg(p))
  quantile = lax.add(loc, lax.mul(scale, lax.log(t1)))
  return jnp.where(ok, quantile, np.nan)


def sf(x, loc=0, scale=1):
  return ufuncs.exp(logsf(x, loc, scale))


def logsf(x, loc=0, scale=1):
  x, loc, scale = promote_args_inexact("gumbel_l.logsf", x, loc, scale)
  ok = lax.gt(scale, _lax_const(scale, 0))
  z = lax.div(lax.sub(x, loc), scale)
  return jnp.where(ok, lax.neg(lax.exp(z)), np.nan)

"""``jax.scipy.stats.gumbel_r``: the right-skewed Gumbel distribution.

nan where scale <= 0, as JAX.
"""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.lax.lax import _const as _lax_const
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.nn.functions import log1mexp
from pyjax._src.numpy.util import promote_args_inexact
from pyjax._src.scipy.special import xlogy

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]


def logpdf(x, loc=0, scale=1):
  x, loc, scale = promote_args_inexact("gumbel_r.logpdf", x, loc, scale)
  ok = lax.gt(scale, _lax_const(scale, 0))
  z = lax.div(lax.sub(x, loc), scale)
  neg_log_scale = xlogy(-1, scale)
  t2 = lax.neg(lax.add(z, lax.exp(lax.neg(z))))
  return jnp.where(ok, lax.add(neg_log_scale, t2), np.nan)


def pdf(x, loc=0, scale=1):
  return lax.exp(logpdf(x, loc, scale))


def logcdf(x, loc=0, scale=1):
  x, loc, scale = promote_args_inexact("gumbel_r.logcdf", x, loc, scale)
  ok = lax.gt(scale, _lax_const(scale, 0))
  z = lax.div(lax.sub(x, loc), scale)
  return jnp.where(ok, lax.neg(lax.exp(lax.neg(z))), np.nan)


def cdf(x, loc=0, scale=1):
  return lax.exp(logcdf(x, loc, scale))


def ppf(p, loc=0, scale=1):
  p, loc, scale = promote_args_inexact("gumbel_r.ppf", p, loc, scale)
  ok = lax.bitwise_and(lax.gt(p, _lax_const(p, 0)), lax.lt(p, _lax_const(p, 1)))
  t1 = xlogy(-1, p)
  quantile = lax.sub(loc, lax.mul(scale, lax.log(t1)))
  return jnp.where(ok, quantile, np.nan)


def sf(x, loc=0, scale=1):
  x, loc, scale = promote_args_inexact("gumbel_r.sf", x, loc, scale)
  ok = lax.gt(scale, _lax_const(scale, 0))
  neg_z = lax.div(lax.sub(loc, x), scale)
  t1 = lax.exp(lax.neg(lax.exp(neg_z)))
  return jnp.where(ok, lax.sub(_lax_const(x, 1), t1), np.nan)


def logsf(x, loc=0, scale=1):
  x, loc, scale = promote_args_inexact("gumbel_r.logsf", x, loc, scale)
  ok = lax.gt(scale, _lax_const(scale, 0))
  neg_z = lax.div(lax.sub(loc, x), scale)
  return jnp.where(ok, log1mexp(lax.exp(neg_z)), np.nan)

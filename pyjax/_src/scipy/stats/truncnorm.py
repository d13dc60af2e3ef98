"""``jax.scipy.stats.truncnorm``: the normal distribution truncated to [a, b].

JAX jits these functions; here they run op by op (the same ops).
"""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.numpy import array_creation, ufuncs
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy.util import array, promote_args_inexact
from pyjax._src.ops.special import logsumexp
from pyjax._src.scipy.special import log_ndtr, ndtr
from pyjax._src.scipy.stats import norm

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]


def _log_diff(x, y):
  return logsumexp(array([x, y]), axis=0,
                   b=array([array_creation.ones_like(x), -array_creation.ones_like(y)]))


def _log_gauss_mass(a, b):
  """log(ndtr(b) - ndtr(a)), from the tail nearer to the interval."""
  a, b = jnp.broadcast_arrays(array(a), array(b))
  case_left = b <= 0
  case_right = a > 0
  case_central = ~(case_left | case_right)
  a_tail = jnp.where(case_right, -b, a)
  b_tail = jnp.where(case_right, -a, b)
  mass_tail = _log_diff(log_ndtr(b_tail), log_ndtr(a_tail))
  mass_central = ufuncs.log1p(-ndtr(a) - ndtr(-b))
  return jnp.where(case_central, mass_central, mass_tail)


def logpdf(x, a, b, loc=0, scale=1):
  x, a, b, loc, scale = promote_args_inexact("truncnorm.logpdf", x, a, b, loc, scale)
  val = lax.sub(norm.logpdf(x, loc, scale), _log_gauss_mass(a, b))
  x_scaled = lax.div(lax.sub(x, loc), scale)
  val = jnp.where((x_scaled < a) | (x_scaled > b), -np.inf, val)
  return jnp.where(a >= b, np.nan, val)


def pdf(x, a, b, loc=0, scale=1):
  return lax.exp(logpdf(x, a, b, loc, scale))


def logsf(x, a, b, loc=0, scale=1):
  x, a, b, loc, scale = promote_args_inexact("truncnorm.logsf", x, a, b, loc, scale)
  return logcdf(-x, -b, -a, -loc, scale)


def sf(x, a, b, loc=0, scale=1):
  return lax.exp(logsf(x, a, b, loc, scale))


def logcdf(x, a, b, loc=0, scale=1):
  x, a, b, loc, scale = promote_args_inexact("truncnorm.logcdf", x, a, b, loc, scale)
  x, a, b = jnp.broadcast_arrays(x, a, b)
  x = lax.div(lax.sub(x, loc), scale)
  lgm_ab = _log_gauss_mass(a, b)
  logcdf_ = _log_gauss_mass(a, x) - lgm_ab
  logsf_ = _log_gauss_mass(x, b) - lgm_ab
  logcdf_ = jnp.select([x >= b, x <= a, logcdf_ > -0.1, x > a],
                       [0, -np.inf, ufuncs.log1p(-ufuncs.exp(logsf_)), logcdf_])
  return jnp.where(a >= b, np.nan, logcdf_)


def cdf(x, a, b, loc=0, scale=1):
  return lax.exp(logcdf(x, a, b, loc, scale))

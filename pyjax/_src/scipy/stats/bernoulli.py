"""``jax.scipy.stats.bernoulli``: the Bernoulli distribution."""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.lax.lax import _const as _lax_const
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.util import promote_args_inexact
from pyjax._src.scipy.special import xlog1py, xlogy

__all__ = ["cdf", "logpmf", "pmf", "ppf"]


def logpmf(k, p, loc=0):
  k, p, loc = promote_args_inexact("bernoulli.logpmf", k, p, loc)
  zero = _lax_const(k, 0)
  one = _lax_const(k, 1)
  x = lax.sub(k, loc)
  log_probs = xlogy(x, p) + xlog1py(lax.sub(one, x), -p)
  return jnp.where(ufuncs.logical_or(lax.lt(x, zero), lax.gt(x, one)), -np.inf, log_probs)


def pmf(k, p, loc=0):
  return ufuncs.exp(logpmf(k, p, loc))


def cdf(k, p):
  k, p = promote_args_inexact("bernoulli.cdf", k, p)
  zero, one = _lax_const(k, 0), _lax_const(k, 1)
  conds = [
      ufuncs.isnan(k) | ufuncs.isnan(p) | (p < zero) | (p > one),
      lax.lt(k, zero),
      ufuncs.logical_and(lax.ge(k, zero), lax.lt(k, one)),
      lax.ge(k, one),
  ]
  vals = [np.nan, zero, one - p, one]
  return jnp.select(conds, vals)


def ppf(q, p):
  q, p = promote_args_inexact("bernoulli.ppf", q, p)
  zero, one = _lax_const(q, 0), _lax_const(q, 1)
  bad = (ufuncs.isnan(q) | ufuncs.isnan(p) | (p < zero) | (p > one) | (q < zero)
         | (q > one))
  return jnp.where(bad, np.nan, jnp.where(lax.le(q, one - p), zero, one))

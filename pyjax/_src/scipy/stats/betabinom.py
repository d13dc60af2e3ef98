"""``jax.scipy.stats.betabinom``: the beta-binomial distribution."""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.lax.lax import _const as _lax_const
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.util import promote_args_inexact
from pyjax._src.scipy.special import betaln

__all__ = ["logpmf", "pmf"]


def logpmf(k, n, a, b, loc=0):
  """JAX jits this function; here it runs op by op (the same ops)."""
  k, n, a, b, loc = promote_args_inexact("betabinom.logpmf", k, n, a, b, loc)
  y = lax.sub(lax.floor(k), loc)
  one = _lax_const(y, 1)
  zero = _lax_const(y, 0)
  combiln = lax.neg(lax.add(lax.log1p(n), betaln(lax.add(lax.sub(n, y), one),
                                                 lax.add(y, one))))
  beta_lns = lax.sub(betaln(lax.add(y, a), lax.add(lax.sub(n, y), b)), betaln(a, b))
  log_probs = lax.add(combiln, beta_lns)
  log_probs = jnp.where(ufuncs.logical_and(lax.eq(y, zero), lax.eq(n, zero)), 0.0,
                        log_probs)
  y_cond = ufuncs.logical_or(ufuncs.logical_or(lax.lt(y, lax.neg(loc)), lax.gt(y, n)),
                             lax.le(lax.add(y, a), zero))
  log_probs = jnp.where(y_cond, -np.inf, log_probs)
  n_a_b_cond = ufuncs.logical_or(ufuncs.logical_or(lax.lt(n, zero), lax.le(a, zero)),
                                 lax.le(b, zero))
  return jnp.where(n_a_b_cond, np.nan, log_probs)


def pmf(k, n, a, b, loc=0):
  return lax.exp(logpmf(k, n, a, b, loc))

"""``jax.scipy.stats.binom``: the binomial distribution."""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.lax.lax import _const as _lax_const
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.util import promote_args_inexact
from pyjax._src.scipy.special import gammaln, xlog1py, xlogy

__all__ = ["logpmf", "pmf"]


def logpmf(k, n, p, loc=0):
  k, n, p, loc = promote_args_inexact("binom.logpmf", k, n, p, loc)
  y = lax.sub(k, loc)
  zero = _lax_const(y, 0)
  comb_term = lax.sub(gammaln(n + 1), lax.add(gammaln(y + 1), gammaln(n - y + 1)))
  log_linear_term = lax.add(xlogy(y, p), xlog1py(lax.sub(n, y), lax.neg(p)))
  log_probs = lax.add(comb_term, log_linear_term)
  y_n_cond = ufuncs.logical_or(ufuncs.logical_and(lax.eq(y, zero), lax.eq(n, zero)),
                               lax.eq(log_linear_term, zero))
  log_probs = jnp.where(y_n_cond, 0.0, log_probs)
  return jnp.where(lax.ge(k, loc) & lax.lt(k, loc + n + 1), log_probs, -np.inf)


def pmf(k, n, p, loc=0):
  return lax.exp(logpmf(k, n, p, loc))

"""``jax.scipy.stats.uniform``: the uniform distribution on [loc, loc + scale]."""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.util import array, promote_args_inexact

__all__ = ["cdf", "logpdf", "pdf", "ppf"]


def logpdf(x, loc=0, scale=1):
  x, loc, scale = promote_args_inexact("uniform.logpdf", x, loc, scale)
  log_probs = lax.neg(lax.log(scale))
  outside = ufuncs.logical_or(lax.gt(x, lax.add(loc, scale)), lax.lt(x, loc))
  return jnp.where(outside, -np.inf, log_probs)


def pdf(x, loc=0, scale=1):
  return lax.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
  x, loc, scale = promote_args_inexact("uniform.cdf", x, loc, scale)
  zero, one = array(0, x.dtype), array(1, x.dtype)
  hi = lax.add(loc, scale)
  conds = [lax.lt(x, loc), lax.gt(x, hi), lax.ge(x, loc) & lax.le(x, hi)]
  vals = [zero, one, lax.div(lax.sub(x, loc), scale)]
  return jnp.select(conds, vals)


def ppf(q, loc=0, scale=1):
  q, loc, scale = promote_args_inexact("uniform.ppf", q, loc, scale)
  bad = ufuncs.isnan(q) | (q < 0) | (q > 1)
  return jnp.where(bad, np.nan, lax.add(loc, lax.mul(scale, q)))

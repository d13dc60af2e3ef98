"""``jax.scipy.stats.multinomial``: the multinomial distribution (integer x and n)."""
from __future__ import annotations

import numpy as np

from pyjax._src import dtypes
from pyjax._src.lax import lax
from pyjax._src.numpy import reductions, ufuncs
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy.util import promote_args_inexact, promote_args_numeric
from pyjax._src.scipy.special import gammaln, xlogy

__all__ = ["logpmf", "pmf"]


def logpmf(x, n, p):
  p, = promote_args_inexact("multinomial.logpmf", p)
  x, n = promote_args_numeric("multinomial.logpmf", x, n)
  if not dtypes.issubdtype(x.dtype, np.integer):
    raise ValueError(f"x and n must be of integer type; got x.dtype={x.dtype}, "
                     f"n.dtype={n.dtype}")
  x = x.astype(p.dtype)
  n = n.astype(p.dtype)
  logprobs = gammaln(n + 1) + reductions.sum(xlogy(x, p) - gammaln(x + 1), axis=-1)
  return jnp.where(ufuncs.equal(reductions.sum(x), n), logprobs, -np.inf)


def pmf(x, n, p):
  return lax.exp(logpmf(x, n, p))

"""``jax.scipy.stats.wrapcauchy``: the wrapped Cauchy distribution on [0, 2 pi]."""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.lax.lax import _const as _lax_const
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.util import promote_args_inexact

__all__ = ["logpdf", "pdf"]


def logpdf(x, c):
  x, c = promote_args_inexact("wrapcauchy.logpdf", x, c)
  c_ok = lax.gt(c, _lax_const(c, 0)) & lax.lt(c, _lax_const(c, 1))
  x_ok = lax.ge(x, _lax_const(x, 0)) & lax.le(x, _lax_const(x, np.pi * 2))
  val = (ufuncs.log(1 - c * c) - ufuncs.log(2 * np.pi)
         - ufuncs.log(1 + c * c - 2 * c * ufuncs.cos(x)))
  return jnp.where(c_ok, jnp.where(x_ok, val, -np.inf), np.nan)


def pdf(x, c):
  return lax.exp(logpdf(x, c))

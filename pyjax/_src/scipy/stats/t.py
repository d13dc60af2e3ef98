"""``jax.scipy.stats.t``: Student's t distribution."""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.lax import special as lax_special
from pyjax._src.lax.lax import _const as _lax_const
from pyjax._src.numpy.util import promote_args_inexact

__all__ = ["logpdf", "pdf"]


def logpdf(x, df, loc=0, scale=1):
  x, df, loc, scale = promote_args_inexact("t.logpdf", x, df, loc, scale)
  two = _lax_const(x, 2)
  scaled_x = lax.div(lax.sub(x, loc), scale)
  df_over_two = lax.div(df, two)
  df_plus_one_over_two = lax.add(df_over_two, _lax_const(x, 0.5))
  normalize_term_const = lax.mul(lax.mul(scale, scale), _lax_const(x, np.pi))
  normalize_term_tmp = lax.div(lax.log(lax.mul(normalize_term_const, df)), two)
  normalize_term = lax.sub(lax.add(lax_special.lgamma(df_over_two), normalize_term_tmp),
                           lax_special.lgamma(df_plus_one_over_two))
  quadratic = lax.div(lax.mul(scaled_x, scaled_x), df)
  log_kernel = lax.mul(df_plus_one_over_two, lax.log1p(quadratic))
  return lax.neg(lax.add(normalize_term, log_kernel))


def pdf(x, df, loc=0, scale=1):
  return lax.exp(logpdf(x, df, loc, scale))

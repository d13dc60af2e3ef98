"""``jax.scipy.stats.dirichlet``: the Dirichlet distribution (components on axis 0)."""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.lax.lax import _const as _lax_const
from pyjax._src.numpy import reductions
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy.util import promote_dtypes_inexact
from pyjax._src.scipy.special import gammaln, xlogy

__all__ = ["logpdf", "pdf"]


def _is_simplex(x):
  x_sum = reductions.sum(x, axis=0)
  return reductions.all(x > 0, axis=0) & (abs(x_sum - 1) < 1e-6)


def logpdf(x, alpha):
  return _logpdf(*promote_dtypes_inexact(x, alpha))


def _logpdf(x, alpha):
  if alpha.ndim != 1:
    raise ValueError(f"`alpha` must be one-dimensional; got alpha.shape={alpha.shape}")
  if x.ndim == 0 or x.shape[0] not in (alpha.shape[0], alpha.shape[0] - 1):
    raise ValueError("`x` must have either the same number of entries as `alpha` "
                     f"or one entry fewer; got x.shape={x.shape}, "
                     f"alpha.shape={alpha.shape}")
  one = _lax_const(x, 1)
  if x.shape[0] != alpha.shape[0]:
    x = jnp.concatenate([x, lax.sub(one, x.sum(0, keepdims=True))], axis=0)
  normalize_term = reductions.sum(gammaln(alpha)) - gammaln(reductions.sum(alpha))
  if x.ndim > 1:
    alpha = lax.broadcast_in_dim(alpha, alpha.shape + (1,) * (x.ndim - 1), (0,))
  log_probs = lax.sub(reductions.sum(xlogy(lax.sub(alpha, one), x), axis=0), normalize_term)
  return jnp.where(_is_simplex(x), log_probs, -np.inf)


def pdf(x, alpha):
  return lax.exp(logpdf(x, alpha))

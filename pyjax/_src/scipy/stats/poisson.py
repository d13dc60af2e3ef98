"""``jax.scipy.stats.poisson``: the Poisson distribution."""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.lax.lax import _const as _lax_const
from pyjax._src.numpy import array_creation, reductions, ufuncs
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy.util import ensure_arraylike, promote_args_inexact
from pyjax._src.numpy.util import promote_dtypes_inexact
from pyjax._src.scipy.special import entr, gammaincc, gammaln, xlogy

__all__ = ["cdf", "entropy", "logpmf", "pmf"]


def logpmf(k, mu, loc=0):
  k, mu, loc = promote_args_inexact("poisson.logpmf", k, mu, loc)
  zero = _lax_const(k, 0)
  x = lax.sub(k, loc)
  log_probs = xlogy(x, mu) - gammaln(x + 1) - mu
  bad = ufuncs.logical_or(lax.lt(x, zero), lax.ne(jnp.round(k), k))
  return jnp.where(bad, -np.inf, log_probs)


def pmf(k, mu, loc=0):
  return ufuncs.exp(logpmf(k, mu, loc))


def cdf(k, mu, loc=0):
  k, mu, loc = promote_args_inexact("poisson.logpmf", k, mu, loc)
  zero = _lax_const(k, 0)
  x = lax.sub(k, loc)
  p = gammaincc(ufuncs.floor(1 + x), mu)
  return jnp.where(lax.lt(x, zero), zero, p)


def entropy(mu, loc=0):
  """Sums -p log p over k < 35 (mu < 10) or k < 250 (mu < 100), else the asymptote.

  As JAX's; ``loc`` only broadcasts. JAX jits this function; here it runs op by op.
  """
  mu, loc = ensure_arraylike("poisson.entropy", mu, loc)
  promoted_mu, promoted_loc = promote_dtypes_inexact(mu, loc)
  result_shape = jnp.broadcast_shapes(promoted_mu.shape, promoted_loc.shape)
  mu_flat = jnp.ravel(promoted_mu)
  zero_result = array_creation.zeros_like(mu_flat)
  result = jnp.where(
      mu_flat == 0, zero_result,
      jnp.where(mu_flat < 10, _entropy_small_mu(mu_flat),
                jnp.where(mu_flat < 100, _entropy_medium_mu(mu_flat),
                          _entropy_large_mu(mu_flat))))
  return jnp.broadcast_to(jnp.reshape(result, promoted_mu.shape), result_shape)


def _entropy_sum(mu, max_k, upper):
  k = array_creation.arange(max_k, dtype=mu.dtype)[:, None]
  probs = pmf(k, mu, 0)
  mask = k < upper.astype(k.dtype)[None, :]
  probs_masked = jnp.where(mask, probs, 0.0)
  return reductions.sum(entr(probs_masked), axis=0)


def _entropy_small_mu(mu):
  return _entropy_sum(mu, 35, ufuncs.ceil(mu + 20))


def _entropy_medium_mu(mu):
  return _entropy_sum(mu, 250, ufuncs.ceil(mu + 10 * ufuncs.sqrt(mu) + 20))


def _entropy_large_mu(mu):
  return 0.5 * ufuncs.log(2 * np.pi * np.e * mu) - 1.0 / (12 * mu)

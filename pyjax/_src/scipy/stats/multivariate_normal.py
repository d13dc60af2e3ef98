"""``jax.scipy.stats.multivariate_normal`` (``allow_singular`` is not supported, as JAX)."""
from __future__ import annotations

from functools import partial

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.lax import linalg as lax_linalg
from pyjax._src.numpy import array_manipulation, ufuncs
from pyjax._src.numpy.einsum import einsum
from pyjax._src.numpy.util import promote_dtypes_inexact
from pyjax._src.numpy.vectorize import vectorize

__all__ = ["logpdf", "pdf"]


def logpdf(x, mean, cov, allow_singular=None):
  if allow_singular is not None:
    raise NotImplementedError("allow_singular argument of multivariate_normal.logpdf")
  x, mean, cov = promote_dtypes_inexact(x, mean, cov)
  log = ufuncs.log
  if not mean.shape:
    return (-1 / 2 * ufuncs.square(x - mean) / cov
            - 1 / 2 * (log(2 * np.pi) + log(cov)))
  n = mean.shape[-1]
  if not np.shape(cov):
    y = x - mean
    return (-1 / 2 * einsum("...i,...i->...", y, y) / cov
            - n / 2 * (log(2 * np.pi) + log(cov)))
  if cov.ndim < 2 or cov.shape[-2:] != (n, n):
    raise ValueError("multivariate_normal.logpdf got incompatible shapes")
  L = lax_linalg.cholesky(cov)
  solve = vectorize(partial(lax_linalg.triangular_solve, lower=True, transpose_a=True),
                    signature="(n,n),(n)->(n)")
  y = solve(L, x - mean)
  log_diag = log(array_manipulation.diagonal(L, axis1=-1, axis2=-2)).sum(-1)
  return (-1 / 2 * einsum("...i,...i->...", y, y) - n / 2 * log(2 * np.pi) - log_diag)


def pdf(x, mean, cov):
  return lax.exp(logpdf(x, mean, cov))

"""logsumexp, shared by jax.nn and jax.scipy.special (JAX's sequence of operations)."""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import reductions, ufuncs
from pyjax._src.numpy.util import canonicalize_axis, promote_args_inexact

__all__ = ["logsumexp"]


def _reduction_dims(a, axis):
  if axis is None:
    return tuple(range(np.ndim(a)))
  axes = tuple(axis) if isinstance(axis, (np.ndarray, tuple, list)) else (axis,)
  dims = tuple(canonicalize_axis(x, np.ndim(a)) for x in axes)
  if len(dims) != len(set(dims)):
    raise ValueError(f"duplicate value in 'axis': {axis}")
  return dims


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
  """``log(sum(b * exp(a)))`` over ``axis``, shifted by the maximum for stability.

  With ``return_sign`` returns ``(log|sum|, sign(sum))``; else a negative sum with ``b``
  gives NaN. Named (vmap) axes are not accepted as ``axis``."""
  if where is not None:
    a = jnp.where(where, a, 0)
  if b is not None:
    a_arr, b_arr = promote_args_inexact("logsumexp", a, b)
    a_arr = jnp.where(b_arr != 0, a_arr, -np.inf)
  else:
    a_arr, = promote_args_inexact("logsumexp", a)
    b_arr = a_arr
  dims = _reduction_dims(a_arr, axis)
  amax = reductions.max(a_arr.real, axis=dims, keepdims=keepdims, where=where,
                        initial=-np.inf)
  amax = lax.stop_gradient(lax.select(ufuncs.isfinite(amax), amax, lax.full_like(amax, 0)))
  amax_with_dims = amax if keepdims else lax.expand_dims(amax, dims)
  exp_a = lax.exp(lax.sub(a_arr, amax_with_dims.astype(a_arr.dtype)))
  if b is not None:
    exp_a = lax.mul(exp_a, b_arr)
  sumexp = exp_a.sum(axis=dims, keepdims=keepdims, where=where)
  sign = lax.sign(sumexp)
  if return_sign or not np.issubdtype(a_arr.dtype, np.complexfloating):
    sumexp = abs(sumexp)
  out = lax.add(lax.log(sumexp), amax.astype(sumexp.dtype))
  if return_sign:
    return (out, sign)
  if b is not None and not np.issubdtype(out.dtype, np.complexfloating):
    out = jnp.where(sign < 0, jnp.asarray(np.nan, dtype=out.dtype), out)
  return out

"""``jax.scipy.stats``'s mode, rankdata and sem.

JAX jits these functions; here they run op by op (the same ops, so the same numbers).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from pyjax._src import dtypes
from pyjax._src.array import Array
from pyjax._src.interpreters.batching import vmap
from pyjax._src.lax import sorting as lax_sorting
from pyjax._src.lax.control_flow import cond
from pyjax._src.numpy import (array_creation, array_manipulation, indexing, reductions,
                              setops, ufuncs)
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy.functional import apply_along_axis
from pyjax._src.numpy.util import (array, canonicalize_axis, check_arraylike,
                                   promote_args_inexact)

__all__ = ["ModeResult", "mode", "rankdata", "sem"]


class ModeResult(NamedTuple):
  mode: Array
  count: Array


def _check_nan_policy(name, nan_policy):
  if nan_policy not in ["propagate", "omit", "raise"]:
    raise ValueError(f"Illegal nan_policy value {nan_policy!r}; expected one of "
                     "{'propagate', 'omit', 'raise'}")
  if nan_policy == "omit":
    raise NotImplementedError(f"Logic for `nan_policy` of {nan_policy} is not implemented")
  if nan_policy == "raise":
    raise NotImplementedError(
        f"In order to best JIT compile `{name}`, we cannot know whether `x` contains "
        f"nans. Please check if nans exist in `x` outside of the `{name}` function.")


def mode(a, axis: int | None = 0, nan_policy: str = "propagate", keepdims: bool = False):
  """The most common value along ``axis`` and its count (the smallest on ties)."""
  check_arraylike("mode", a)
  x = array_manipulation.atleast_1d(a)
  _check_nan_policy("mode", nan_policy)
  if axis is not None:
    axis = canonicalize_axis(axis, x.ndim)
  input_shape = x.shape
  if keepdims:
    if axis is None:
      output_shape = tuple(1 for _ in input_shape)
    else:
      output_shape = tuple(1 if i == axis else s for i, s in enumerate(input_shape))
  elif axis is None:
    output_shape = ()
  else:
    output_shape = tuple(s for i, s in enumerate(input_shape) if i != axis)
  if axis is None:
    axis = 0
    x = jnp.ravel(x)

  def _mode_helper(x):
    if x.size == 0:
      return (array(np.nan, dtype=dtypes.default_float_dtype()),
              array(0, dtype=dtypes.default_float_dtype()))
    vals, counts = setops.unique(x, return_counts=True, size=x.size)
    return vals[reductions.argmax(counts)], counts.max()

  x = jnp.moveaxis(x, axis, 0)
  x = x.reshape(x.shape[0], math.prod(x.shape[1:]))
  vals, counts = vmap(_mode_helper, in_axes=1)(x)
  return ModeResult(vals.reshape(output_shape), counts.reshape(output_shape))


def _invert_permutation(i):
  idx = array_creation.arange(i.size, dtype=i.dtype)
  return array_creation.empty_like(i).at[i].set(idx)


def rankdata(a, method: str = "average", *, axis: int | None = None,
             nan_policy: str = "propagate"):
  """Ranks from 1, ties by ``method``; all nan where the data holds a nan."""
  check_arraylike("rankdata", a)
  _check_nan_policy("rankdata", nan_policy)
  if method not in ("average", "min", "max", "dense", "ordinal"):
    raise ValueError(f"unknown method '{method}'")
  if axis is not None:
    return apply_along_axis(rankdata, axis, a, method)

  a = jnp.ravel(a)
  out_dtype = dtypes.default_float_dtype()

  def _rankdata(a):
    arr, sorter = lax_sorting.sort_key_val(a, array_creation.arange(a.size))
    inv = _invert_permutation(sorter)
    if method == "ordinal":
      return (inv + 1).astype(out_dtype)
    obs = jnp.concatenate([array([True]), arr[1:] != arr[:-1]])
    dense = obs.cumsum()[inv]
    if method == "dense":
      return dense.astype(out_dtype)
    count = indexing.nonzero(obs, size=arr.size + 1, fill_value=obs.size)[0]
    count = count.astype(out_dtype)
    if method == "max":
      return count[dense]
    if method == "min":
      return count[dense - 1] + 1
    return .5 * (count[dense] + count[dense - 1] + 1)

  return cond(reductions.any(ufuncs.isnan(a)),
              lambda a: array_creation.full_like(a, np.nan, out_dtype), _rankdata, a)


def sem(a, axis: int | None = 0, ddof: int = 1, nan_policy: str = "propagate", *,
        keepdims: bool = False):
  """Standard error of the mean; ``nan_policy`` 'propagate' or 'omit'."""
  b, = promote_args_inexact("sem", a)
  if nan_policy == "propagate":
    size = b.size if axis is None else b.shape[axis]
    return (b.std(axis, ddof=ddof, keepdims=keepdims)
            / ufuncs.sqrt(size).astype(b.dtype))
  if nan_policy == "omit":
    count = (~ufuncs.isnan(b)).sum(axis, keepdims=keepdims)
    return (reductions.nanstd(b, axis, ddof=ddof, keepdims=keepdims)
            / ufuncs.sqrt(count).astype(b.dtype))
  raise ValueError(f"{nan_policy} is not supported")

"""jax.numpy sorting: sort, argsort, lexsort, partition, searchsorted (all traceable)."""
from __future__ import annotations

import builtins
import operator

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.lax import lax
from pyjax._src.lax import reductions as lax_reductions
from pyjax._src.lax import sorting as lax_sorting
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.util import staged_jit
from pyjax._src.numpy.util import asarray, canonicalize_axis, check_arraylike, promote_dtypes


def _sort_axis(a, axis, name):
  if axis is None:
    return lax.reshape(a, (a.size,)), 0
  if a.ndim == 0:
    raise ValueError(f"axis {axis} is out of bounds for array of dimension 0")
  axis = core.concrete_or_error(operator.index, axis, f"axis argument of jnp.{name}()")
  return a, canonicalize_axis(axis, a.ndim)


@staged_jit(static_argnames=('axis', 'kind', 'order', 'stable', 'descending'))
def sort(a, axis=-1, *, kind=None, order=None, stable: bool = True, descending: bool = False):
  """Sorted copy (NaNs last), ascending or descending along ``axis``."""
  check_arraylike("sort", a)
  if order is not None:
    raise ValueError("The 'order' argument to sort is not supported.")
  a = asarray(a)
  a, axis = _sort_axis(a, axis, "sort")
  out = lax_sorting.sort(a, dimension=axis, is_stable=stable)
  return lax.rev(out, (axis,)) if descending else out


@staged_jit(static_argnames=('axis', 'kind', 'order', 'stable', 'descending', 'dtype'))
def argsort(a, axis=-1, *, kind=None, order=None, stable: bool = True,
            descending: bool = False, dtype=None):
  """Indices that sort ``a``; stable (ties keep their order) in both directions."""
  check_arraylike("argsort", a)
  if order is not None:
    raise ValueError("The 'order' argument to argsort is not supported.")
  a = asarray(a)
  a, axis = _sort_axis(a, axis, "argsort")
  idx_dt = dtypes.default_int_dtype() if dtype is None else dtypes.canonicalize_dtype(dtype)
  iota = lax.broadcasted_iota(idx_dt, a.shape, axis)
  if descending:
    a = lax.rev(a, (axis,))
  _, perm = lax_sorting.sort((a, iota), dimension=axis, is_stable=stable, num_keys=1)
  if descending:
    n = a.shape[axis]
    perm = lax.rev(lax.sub(lax.full_like(perm, n - 1), perm), (axis,))
  return perm


def lexsort(keys, axis: int = -1):
  """Indirect stable sort on several keys; the last key is the primary one."""
  keys = tuple(keys)
  if len(keys) == 0:
    raise TypeError("need sequence of keys with len > 0 in lexsort")
  check_arraylike("lexsort", *keys)
  keys = [asarray(k) for k in keys]
  shape0 = keys[0].shape
  if builtins.any(k.shape != shape0 for k in keys):
    raise ValueError("all keys need to be the same shape")
  if len(shape0) == 0:
    return lax.full((), 0, dtypes.default_int_dtype())
  axis = canonicalize_axis(axis, len(shape0))
  iota = lax.broadcasted_iota(dtypes.default_int_dtype(), shape0, axis)
  outs = lax_sorting.sort((*keys[::-1], iota), dimension=axis, is_stable=True,
                          num_keys=len(keys))
  return outs[-1]


def sort_complex(a):
  a = asarray(a)
  out = sort(a, axis=0)
  return lax._convert_element_type(out, dtypes.to_complex_dtype(out.dtype))


def partition(a, kth: int, axis: int = -1):
  """A valid partition (this implementation fully sorts)."""
  check_arraylike("partition", a)
  a = asarray(a)
  kth = core.concrete_or_error(operator.index, kth, "kth argument of jnp.partition()")
  axis = canonicalize_axis(axis, a.ndim)
  if not -a.shape[axis] <= kth < a.shape[axis]:  # (JAX's message names kth as an axis)
    raise ValueError(f"axis {kth} is out of bounds for array of dimension {a.shape[axis]}")
  return sort(a, axis)


def argpartition(a, kth: int, axis: int = -1):
  check_arraylike("argpartition", a)
  a = asarray(a)
  kth = core.concrete_or_error(operator.index, kth, "kth argument of jnp.argpartition()")
  axis = canonicalize_axis(axis, a.ndim)
  if not -a.shape[axis] <= kth < a.shape[axis]:  # (JAX's message names kth as an axis)
    raise ValueError(f"axis {kth} is out of bounds for array of dimension {a.shape[axis]}")
  return argsort(a, axis)


def _total_lt(x, y):
  """``x < y`` in sort order (NaN largest), broadcasting."""
  lt = ufuncs.less(x, y)
  if x.dtype.kind in "fc" or x.dtype == dtypes.bfloat16:
    lt = ufuncs.logical_or(lt, ufuncs.logical_and(ufuncs.isnan(y),
                                                   ufuncs.logical_not(ufuncs.isnan(x))))
  return lt


def _onehot_take(vals, idx):
  """``vals[idx]`` for 1-D ``vals`` and integer ``idx`` of any shape, by a one-hot mask
  (traceable; O(idx.size * vals.size))."""
  n = vals.shape[0]
  iota = lax.broadcasted_iota(idx.dtype, (*idx.shape, n), idx.ndim)
  mask = lax.eq(lax.broadcast_in_dim(idx, (*idx.shape, n), tuple(range(idx.ndim))), iota)
  vb = lax.broadcast_in_dim(vals, (*idx.shape, n), (idx.ndim,))
  if vals.dtype == np.bool_:  # jnp.any over the last axis
    return lax_reductions.reduce_or(lax.bitwise_and(mask, vb), (idx.ndim,))
  return lax.reduce_sum(lax.select(mask, vb, lax.full_like(vb, 0)), (idx.ndim,))


def searchsorted(a, v, side: str = "left", sorter=None, *, method: str = "scan"):
  """Insertion indices of ``v`` into sorted 1-D ``a`` (a comparison count; traceable)."""
  check_arraylike("searchsorted", a, v)
  if side not in ("left", "right"):
    raise ValueError(f"invalid argument side={side!r}, expected 'left' or 'right'")
  if method not in ("scan", "scan_unrolled", "sort", "compare_all"):
    raise ValueError(f"invalid argument method={method!r}, expected one of "
                     f"['compare_all', 'scan', 'scan_unrolled', 'sort']")
  a, v = asarray(a), asarray(v)
  if a.ndim != 1:
    raise ValueError("a should be 1-dimensional")
  a, v = promote_dtypes(a, v)
  if sorter is not None:
    a = _onehot_take(a, asarray(sorter))
  n = a.shape[0]
  idt = dtypes.default_int_dtype()
  if n == 0:
    return lax.full(v.shape, 0, idt)
  ab = lax.broadcast_in_dim(a, (*v.shape, n), (v.ndim,))
  vb = lax.broadcast_in_dim(v, (*v.shape, n), tuple(range(v.ndim)))
  hit = _total_lt(ab, vb) if side == "left" else ufuncs.logical_not(_total_lt(vb, ab))
  return lax.reduce_sum(lax._convert_element_type(hit, idt), (v.ndim,))


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]

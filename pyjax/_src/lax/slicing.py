"""Slicing primitives: slice, dynamic_slice, dynamic_update_slice, gather, scatter."""
from __future__ import annotations

import numpy as np

from pyjax._src import core
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.lax.lax import _canon_axis, _to_array

# ---------------------------------------------------------------- slice

slice_p = Primitive("slice")


def _slice_check(x: ShapedArray, *, start_indices, limit_indices, strides):
  nd = x.ndim
  if len(start_indices) != nd or len(limit_indices) != nd:
    raise TypeError(f"slice start_indices and limit_indices must have length equal to the "
                    f"number of dimensions of the operand, got start_indices "
                    f"{start_indices}, limit_indices {limit_indices} for operand shape "
                    f"{x.shape}.")
  if strides is not None and len(strides) != nd:
    raise TypeError(f"slice strides must have length equal to the number of dimensions of "
                    f"the operand, got strides {strides} for operand shape {x.shape}.")
  st = strides or (1,) * nd
  for d, lo, hi, s in zip(x.shape, start_indices, limit_indices, st):
    if not 0 <= lo <= hi <= d:
      raise TypeError(f"slice indices must satisfy 0 <= start <= limit <= shape, got "
                      f"start_indices={start_indices}, limit_indices={limit_indices} for "
                      f"operand shape {x.shape}.")
    if s <= 0:
      raise TypeError(f"slice strides must be positive, got {strides}")
  shape = tuple((hi - lo + s - 1) // s if hi > lo else 0
                for lo, hi, s in zip(start_indices, limit_indices, st))
  return ShapedArray(shape, x.dtype, x.weak_type)


def _slice_impl(x, *, start_indices, limit_indices, strides):
  _slice_check(x.aval, start_indices=start_indices, limit_indices=limit_indices,
               strides=strides)
  st = strides or (1,) * len(start_indices)
  idx = tuple(slice(lo, hi, s) for lo, hi, s in zip(start_indices, limit_indices, st))
  return ArrayImpl(np.asarray(x._value)[idx], x.weak_type)


slice_p.def_impl(_slice_impl)
slice_p.def_abstract_eval(_slice_check)


def slice(operand, start_indices, limit_indices, strides=None):
  operand = _to_array(operand)
  start = tuple(int(i) for i in start_indices)
  limit = tuple(int(i) for i in limit_indices)
  strides = None if strides is None else tuple(int(s) for s in strides)
  if strides is not None and all(s == 1 for s in strides):
    strides = None
  return slice_p.bind(operand, start_indices=start, limit_indices=limit, strides=strides)


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
  operand = _to_array(operand)
  axis = _canon_axis(axis, operand.ndim)
  n = operand.shape[axis]
  start = 0 if start_index is None else int(start_index)
  limit = n if limit_index is None else int(limit_index)
  start = start + n if start < 0 else start
  limit = limit + n if limit < 0 else limit
  starts = [0] * operand.ndim
  limits = list(operand.shape)
  strides = [1] * operand.ndim
  starts[axis], limits[axis], strides[axis] = start, limit, int(stride)
  return slice(operand, starts, limits, strides)


def index_in_dim(operand, index, axis=0, keepdims=True):
  from pyjax._src.lax import lax
  operand = _to_array(operand)
  axis = _canon_axis(axis, operand.ndim)
  n = operand.shape[axis]
  index = int(index)
  if not -n <= index < n:
    raise IndexError(f"index {index} is out of bounds for axis {axis} with size {n}")
  index = index + n if index < 0 else index
  out = slice_in_dim(operand, index, index + 1, 1, axis)
  return out if keepdims else lax.squeeze(out, (axis,))

"""Slicing primitives: slice, dynamic_slice, dynamic_update_slice, gather, scatter."""
from __future__ import annotations

import builtins
import enum
import math
from typing import NamedTuple, Sequence

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Primitive, ShapedArray, Tracer
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import lowering as mlir
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.lax import lax
from pyjax._src.lax.lax import _canon_axis, _to_array
from pyjax._src.lax.utils import _same_dtypes_check
from pyjax._src.lax.utils import (ShardingTypeError, make_sharding, mesh_of, spec_of,
                                  varying_shape_sharding)

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
  idx = tuple(builtins.slice(lo, hi, s) for lo, hi, s in zip(start_indices, limit_indices, st))
  return ArrayImpl(np.asarray(x._value)[idx], x.weak_type)


slice_p.def_impl(_slice_impl)
slice_p.def_abstract_eval(_slice_check)
slice_p.sharding_rule = lambda x, **params: varying_shape_sharding(
    _slice_check(x, **params).shape, x, "slicing")
slice_p.lower = lambda ctx, x, *, start_indices, limit_indices, strides: ctx.op(
    "stablehlo.slice", [x], ctx.aval_out,
    f"start_indices = {mlir._i64_array(start_indices)}, "
    f"limit_indices = {mlir._i64_array(limit_indices)}, "
    f"strides = {mlir._i64_array(strides or (1,) * len(start_indices))}")


def _slice_batch(vals, dims, *, start_indices, limit_indices, strides):
  x, d = vals[0], dims[0]
  ins = lambda t, v: (*t[:d], v, *t[d:])
  return slice_p.bind(x, start_indices=ins(start_indices, 0),
                      limit_indices=ins(limit_indices, core.get_aval(x).shape[d]),
                      strides=None if strides is None else ins(strides, 1)), d


slice_p.batch = _slice_batch
def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
  shape = x.aval.shape
  if strides is None or all(s == 1 for s in strides):
    cfg = [(s, n - l, 0) for s, l, n in zip(start_indices, limit_indices, shape)]
  else:
    real_limits = [s + (0 if c == 0 else (c - 1) * st + 1)
                   for s, c, st in zip(start_indices, ct.shape, strides)]
    cfg = [(s, n - l, st - 1) for s, l, n, st in zip(start_indices, real_limits, shape, strides)]
  return [pad(ct, lax._const(ct, 0), cfg)]


ad.deflinear(slice_p, _slice_transpose)


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
  operand = _to_array(operand)
  axis = _canon_axis(axis, operand.ndim)
  n = operand.shape[axis]
  index = int(index)
  if not -n <= index < n:
    raise IndexError(f"index {index} is out of bounds for axis {axis} with size {n}")
  index = index + n if index < 0 else index
  out = slice_in_dim(operand, index, index + 1, 1, axis)
  return out if keepdims else lax.squeeze(out, (axis,))


# ---------------------------------------------------------------- concatenate and pad
#
# Here beside slice: their transposes slice, and slice's transposes pads.

concatenate_p = Primitive("concatenate")


def _concatenate_check(*xs: ShapedArray, dimension):
  if not xs:
    raise TypeError("concatenate expects at least one operand, got 0.")
  x0 = xs[0]
  shapes = ", ".join(str(x.shape) for x in xs)
  if len({x.ndim for x in xs}) != 1:
    raise TypeError(f"Cannot concatenate arrays with different numbers of dimensions: got "
                    f"{shapes}.")
  if not 0 <= dimension < x0.ndim:
    raise TypeError(f"concatenate dimension out of bounds: dimension {dimension} for "
                    f"shapes {shapes}.")
  if any(x.shape[:dimension] + x.shape[dimension + 1:] !=
         x0.shape[:dimension] + x0.shape[dimension + 1:] for x in xs):
    raise TypeError(f"Cannot concatenate arrays with shapes that differ in dimensions "
                    f"other than the one being concatenated: concatenating along "
                    f"dimension {dimension} for shapes {shapes}.")
  _same_dtypes_check("concatenate", *xs)
  shape = list(x0.shape)
  shape[dimension] = sum(x.shape[dimension] for x in xs)
  return ShapedArray(shape, x0.dtype, all(x.weak_type for x in xs))


def _concatenate_impl(*xs, dimension):
  aval = _concatenate_check(*(x.aval for x in xs), dimension=dimension)
  return ArrayImpl(np.concatenate([np.asarray(x._value) for x in xs], axis=dimension),
                   aval.weak_type)


concatenate_p.def_impl(_concatenate_impl)
concatenate_p.def_abstract_eval(_concatenate_check)


def _concatenate_sharding_rule(*xs, dimension):
  """JAX's: the sharded operands share one sharding (replicated types are not told
  apart from unmeshed ones here, which JAX lets through)."""
  shs = [x.sharding for x in xs if x.sharding is not None]
  if any(s != shs[0] for s in shs[1:]):
    raise ShardingTypeError(f"All operands should have the same sharding. Got "
                            f"shardings {', '.join(str(x.sharding) for x in xs)}")
  return shs[0]


concatenate_p.sharding_rule = _concatenate_sharding_rule


def _concatenate_transpose(ct, *xs, dimension):
  out, start = [], 0
  for x in xs:
    n = x.aval.shape[dimension]
    out.append(slice_in_dim(ct, start, start + n, axis=dimension)
               if ad.is_undefined_primal(x) else None)
    start += n
  return out


ad.deflinear(concatenate_p, _concatenate_transpose)
concatenate_p.lower = lambda ctx, *xs, dimension: ctx.op(
    "stablehlo.concatenate", xs, ctx.aval_out, f"dimension = {dimension} : i64")


def _concatenate_batch(vals, dims, *, dimension):
  size = batching.batch_size(vals, dims)
  xs = [batching.bdim_at_front(x, d, size) for x, d in zip(vals, dims)]
  return concatenate_p.bind(*xs, dimension=dimension + 1), 0


concatenate_p.batch = _concatenate_batch


pad_p = Primitive("pad")


def _pad_check(x: ShapedArray, pv: ShapedArray, *, padding_config):
  if pv.shape:
    raise ValueError(f"padding_value must be a scalar; got np.shape(padding_value)="
                     f"{pv.shape}")
  if len(padding_config) != x.ndim:
    raise ValueError(f"length of padding_config must equal the number of axes of "
                     f"operand, got padding_config {padding_config} for operand shape "
                     f"{x.shape}")
  if any(interior < 0 for _, _, interior in padding_config):
    raise ValueError(f"interior padding in padding_config must be nonnegative, got "
                     f"padding_config {padding_config}")
  shape = tuple(lo + hi + d + builtins.max(d - 1, 0) * interior
                for d, (lo, hi, interior) in zip(x.shape, padding_config))
  if any(n < 0 for n in shape):
    raise ValueError(f"Dimension size after padding is not at least 0, got result shape "
                     f"{shape}, for padding_config {padding_config} and operand shape "
                     f"{x.shape}")
  if x.dtype != pv.dtype:
    raise TypeError(f"pad operand and padding_value must be same dtype: got "
                    f"{x.dtype.name} and {pv.dtype.name}.")
  return ShapedArray(shape, x.dtype, x.weak_type and pv.weak_type)


def _pad_impl(x, pv, *, padding_config):
  aval = _pad_check(x.aval, pv.aval, padding_config=padding_config)
  v = np.asarray(x._value)
  # Interior padding first, then negative/positive edge padding via slices.
  inner = [d + builtins.max(d - 1, 0) * it
           for d, (_, _, it) in zip(v.shape, padding_config)]
  buf = np.full(inner, pv._value, dtype=v.dtype)
  buf[tuple(builtins.slice(None, None, it + 1) for _, _, it in padding_config)] = v
  out = np.full(aval.shape, pv._value, dtype=v.dtype)
  src, dst = [], []
  for n, (lo, hi, _) in zip(inner, padding_config):
    s0, d0 = builtins.max(-lo, 0), builtins.max(lo, 0)
    s1 = n - builtins.max(-hi, 0)
    cnt = builtins.max(s1 - s0, 0)
    src.append(builtins.slice(s0, s0 + cnt))
    dst.append(builtins.slice(d0, d0 + cnt))
  out[tuple(dst)] = buf[tuple(src)]
  return ArrayImpl(out, aval.weak_type)


pad_p.def_impl(_pad_impl)
pad_p.def_abstract_eval(_pad_check)
pad_p.sharding_rule = lambda x, pv, *, padding_config: varying_shape_sharding(
    _pad_check(x, pv, padding_config=padding_config).shape, x, "padding")


def _pad_transpose(ct, x, pv, *, padding_config):
  total = lambda v: lax.reduce_sum(v, tuple(range(v.ndim)))
  unpadded = pad_p.bind(ct, lax._const(ct, 0),
                        padding_config=tuple((-lo, -hi, 0) for lo, hi, _ in padding_config))
  t_x = slice(unpadded, [0] * unpadded.ndim, unpadded.shape,
                      [it + 1 for _, _, it in padding_config])
  t_pv = lax.sub(total(ct), total(t_x)) if ad.is_undefined_primal(pv) else None
  return [t_x if ad.is_undefined_primal(x) else None, t_pv]


ad.deflinear(pad_p, _pad_transpose)
def _pad_lower(ctx, x, pv, *, padding_config):
  if any(it or lo < 0 or hi < 0 for lo, hi, it in padding_config):
    if x.aval.dtype.kind == "c":  # IREE crashes on a complex stablehlo.pad: pad the parts
      rdt = np.dtype(np.float32 if x.aval.dtype == np.complex64 else np.float64)
      saved, ctx.avals_out = ctx.avals_out, [ctx.aval_out.update(dtype=rdt)]
      try:
        parts = [_pad_lower(ctx, ctx.unary(p, x, rdt), ctx.unary(p, pv, rdt),
                            padding_config=padding_config) for p in ("real", "imag")]
      finally:
        ctx.avals_out = saved
      return ctx.op("stablehlo.complex", parts, ctx.aval_out)
    return ctx.op(
        "stablehlo.pad", [x, pv], ctx.aval_out,
        f"edge_padding_low = {mlir._i64_array([c[0] for c in padding_config])}, "
        f"edge_padding_high = {mlir._i64_array([c[1] for c in padding_config])}, "
        f"interior_padding = {mlir._i64_array([c[2] for c in padding_config])}")
  # Edge padding as concatenations with the padding value: IREE fails to compile two
  # pads of values with a common producer that are then added (the transpose of
  # overlapping slices: jit(grad) of sum((x[1:] - x[:-1]**2)**2)); see
  # repro/pad_pad_add.mlir.
  shape = list(x.aval.shape)
  for d, (lo, hi, _) in enumerate(padding_config):
    if lo == 0 and hi == 0:
      continue
    edge = lambda n: ctx.broadcast(pv, shape[:d] + [n] + shape[d + 1:])
    parts = ([edge(lo)] if lo else []) + [x] + ([edge(hi)] if hi else [])
    shape[d] += lo + hi
    x = ctx.op("stablehlo.concatenate", parts, x.aval.update(shape=tuple(shape)),
               f"dimension = {d} : i64")
  return x


pad_p.lower = _pad_lower


def _pad_batch(vals, dims, *, padding_config):
  (x, pv), (xd, pd) = vals, dims
  cfg = ((0, 0, 0), *padding_config)
  if pd is None:
    return pad_p.bind(batching.moveaxis(x, xd, 0), pv, padding_config=cfg), 0
  # A batched padding value: pad with zeros, then select it in where a mask says so.
  size = batching.batch_size(vals, dims)
  x = batching.bdim_at_front(x, xd, size)
  padded = pad_p.bind(x, lax._const(x, 0), padding_config=cfg)
  inside = pad_p.bind(lax.full(x.shape, True, np.bool_), _to_array(False),
                      padding_config=cfg)
  pv = lax.broadcast_in_dim(batching.moveaxis(pv, pd, 0), padded.shape, (0,))
  return lax.select_n(inside, pv, padded), 0


pad_p.batch = _pad_batch


def concatenate(operands, dimension):
  operands = [_to_array(o) for o in operands]
  if not operands:
    raise ValueError("concatenate requires a non-empty sequences of arrays")
  if len(operands) == 1:
    return operands[0]
  return concatenate_p.bind(*operands, dimension=int(dimension))


def pad(operand, padding_value, padding_config):
  operand = _to_array(operand)
  padding_value = _to_array(padding_value, operand.dtype)
  cfg = tuple((int(lo), int(hi), int(it)) for lo, hi, it in padding_config)
  return pad_p.bind(operand, padding_value, padding_config=cfg)


# ---------------------------------------------------------------- shared helpers


def _is_int_dtype(dt) -> bool:
  return np.dtype(dt).kind in "iu"


def _index_scalar(i):
  """A start index as a lax operand: Python ints become strong int32 scalars."""
  if isinstance(i, (ArrayImpl, Tracer)):
    return i
  if isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
    dt = np.dtype(np.int32) if -2**31 <= int(i) < 2**31 else np.dtype(np.int64)
    return ArrayImpl(np.asarray(i, dt)[()], False)
  return _to_array(i)


def _dynamic_slice_indices(operand, start_indices, allow_negative_indices=True):
  """Normalizes negative start indices (i + dim when i < 0), as JAX does."""
  if len(start_indices) != operand.ndim:
    raise ValueError(f"Length of slice indices must match number of operand dimensions "
                     f"({len(start_indices)} vs {operand.shape})")
  out = []
  for i, d in zip(start_indices, operand.shape):
    if isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
      i = int(i)
      out.append(_index_scalar(i + d if (i < 0 and allow_negative_indices) else i))
      continue
    i = _to_array(i)
    if not allow_negative_indices or i.dtype.kind == "u" or i.dtype.kind not in "iu":
      out.append(i)
      continue
    neg = lax.lt(i, 0)
    strong = lax._convert_element_type(i, i.dtype, False)
    out.append(lax.select_n(neg, i, lax.add(strong, ArrayImpl(np.asarray(d, i.dtype)[()]))))
  return out


# ---------------------------------------------------------------- dynamic_slice

dynamic_slice_p = Primitive("dynamic_slice")


def _check_start_indices(name, idxs):
  dts = {i.dtype for i in idxs}
  if any(i.shape != () for i in idxs):
    raise TypeError(f"index arguments to {name} must be scalars, got shapes "
                    f"{[i.shape for i in idxs]}")
  if len(dts) > 1 or any(not _is_int_dtype(d) for d in dts):
    raise TypeError(f"index arguments to {name} must be integers of the same type, got: "
                    f"{', '.join(d.name for d in dts)}")


def _dynamic_slice_check(x: ShapedArray, *idxs: ShapedArray, slice_sizes):
  if len(idxs) != x.ndim:
    raise TypeError(f"dynamic_slice: len(start_indices) ({len(idxs)}) must equal the "
                    f"rank of operand ({x.ndim}).")
  _check_start_indices("dynamic_slice", idxs)
  if len(slice_sizes) != x.ndim:
    raise TypeError(f"slice slice_sizes must have the same length as operand rank, got "
                    f"slice_sizes {slice_sizes} for operand shape {x.shape}.")
  if any(s < 0 for s in slice_sizes):
    raise TypeError(f"slice slice_sizes must be greater than or equal to zero, got "
                    f"slice_sizes of {slice_sizes}")
  if any(s > d for s, d in zip(slice_sizes, x.shape)):
    raise TypeError(f"slice slice_sizes must be less than or equal to operand shape, got "
                    f"slice_sizes {slice_sizes} for operand shape {x.shape}.")
  return ShapedArray(slice_sizes, x.dtype, x.weak_type)


def _clamped_starts(idxs, shape, sizes):
  return tuple(min(max(int(i), 0), d - s) for i, d, s in zip(idxs, shape, sizes))


def _dynamic_slice_impl(x, *idxs, slice_sizes):
  _dynamic_slice_check(x.aval, *(i.aval for i in idxs), slice_sizes=slice_sizes)
  starts = _clamped_starts((i._value for i in idxs), x.shape, slice_sizes)
  v = np.asarray(x._value)
  out = v[tuple(builtins_slice(s, s + n) for s, n in zip(starts, slice_sizes))]
  return ArrayImpl(out, x.weak_type)


builtins_slice = builtins.slice

dynamic_slice_p.def_impl(_dynamic_slice_impl)
dynamic_slice_p.def_abstract_eval(_dynamic_slice_check)
dynamic_slice_p.sharding_rule = lambda x, *idx, **params: varying_shape_sharding(
    _dynamic_slice_check(x, *idx, **params).shape, x, "dynamic_slice")
def _dynamic_slice_lower(ctx, x, *idxs, slice_sizes):
  if not idxs:  # (IREE fails on a 0-d dynamic_slice)
    return x
  return ctx.op("stablehlo.dynamic_slice", [x, *idxs], ctx.aval_out,
                f"slice_sizes = {mlir._i64_array(slice_sizes)}")


dynamic_slice_p.lower = _dynamic_slice_lower


def _index_matrix(idxs, dims, size):
  """Scalar start indices, some batched, as one (size, len(idxs)) index array."""
  cols = [lax.broadcast_in_dim(i, (size, 1), () if d is None else (0,))
          for i, d in zip(idxs, dims)]
  return concatenate(cols, 1)


def _dynamic_slice_batch(vals, dims, *, slice_sizes):
  """Unbatched indices slice the whole batch; batched ones make a (clamping) gather."""
  (x, *idxs), (xd, *ids) = vals, dims
  size = batching.batch_size(vals, dims)
  if all(d is None for d in ids):
    zero = ArrayImpl(np.zeros((), core.get_aval(idxs[0]).dtype))
    return dynamic_slice_p.bind(x, *idxs[:xd], zero, *idxs[xd:],
                                slice_sizes=(*slice_sizes[:xd], size, *slice_sizes[xd:])), xd
  nd = len(slice_sizes)
  ind = _index_matrix(idxs, ids, size)
  win = tuple(range(1, nd + 1))
  if xd is None:
    dn = GatherDimensionNumbers(win, (), tuple(range(nd)))
  else:
    x, slice_sizes = batching.moveaxis(x, xd, 0), (builtins.min(size, 1), *slice_sizes)
    dn = GatherDimensionNumbers(win, (), win, (0,), (0,))
  return gather_p.bind(x, ind, dimension_numbers=dn, slice_sizes=tuple(slice_sizes),
                       indices_are_sorted=False, unique_indices=False,
                       mode=GatherScatterMode.CLIP, fill_value=None), 0


dynamic_slice_p.batch = _dynamic_slice_batch
def _dynamic_slice_transpose(ct, x, *idxs, slice_sizes):
  zeros = lax.full(x.aval.shape, 0, x.aval.dtype)
  return [dynamic_update_slice_p.bind(zeros, ct, *idxs)] + [None] * len(idxs)


ad.defjvp(dynamic_slice_p,
          lambda t, x, *idxs, slice_sizes: dynamic_slice_p.bind(t, *idxs,
                                                                slice_sizes=slice_sizes))
dynamic_slice_p.transpose = _dynamic_slice_transpose


def dynamic_slice(operand, start_indices, slice_sizes, *, allow_negative_indices=True):
  operand = _to_array(operand)
  if hasattr(start_indices, "ndim") and getattr(start_indices, "ndim", 0) == 1:
    start_indices = [start_indices[i] for i in range(start_indices.shape[0])]
  idxs = _dynamic_slice_indices(operand, list(start_indices), allow_negative_indices)
  sizes = core.canonicalize_shape(slice_sizes)
  return dynamic_slice_p.bind(operand, *idxs, slice_sizes=sizes)


def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0, *,
                         allow_negative_indices=True):
  operand = _to_array(operand)
  axis = _canon_axis(axis, operand.ndim)
  starts = [0] * operand.ndim
  sizes = list(operand.shape)
  starts[axis] = start_index
  sizes[axis] = int(slice_size)
  return dynamic_slice(operand, starts, sizes, allow_negative_indices=allow_negative_indices)


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True, *,
                         allow_negative_indices=True):
  out = dynamic_slice_in_dim(operand, index, 1, axis,
                             allow_negative_indices=allow_negative_indices)
  return out if keepdims else lax.squeeze(out, (_canon_axis(axis, out.ndim),))


# ---------------------------------------------------------------- dynamic_update_slice

dynamic_update_slice_p = Primitive("dynamic_update_slice")


def _dynamic_update_slice_check(x: ShapedArray, u: ShapedArray, *idxs: ShapedArray):
  if x.ndim != u.ndim:
    raise TypeError(f"dynamic_update_slice update must have the same rank as operand, "
                    f"got update shape {u.shape} for operand shape {x.shape}.")
  if len(idxs) != x.ndim:
    raise TypeError(f"dynamic_update_slice start_indices must have length equal to the "
                    f"rank of operand, got indices {tuple(i.shape for i in idxs)} for "
                    f"operand shape {x.shape}.")
  if any(a > b for a, b in zip(u.shape, x.shape)):
    raise TypeError(f"dynamic_update_slice update shape must be smaller than operand "
                    f"shape, got update shape {u.shape} for operand shape {x.shape}.")
  if x.dtype != u.dtype:
    raise TypeError(f"lax.dynamic_update_slice requires arguments to have the same "
                    f"dtypes, got {x.dtype.name}, {u.dtype.name}.")
  _check_start_indices("dynamic_update_slice", idxs)
  return ShapedArray(x.shape, x.dtype, x.weak_type)


def _dynamic_update_slice_impl(x, u, *idxs):
  _dynamic_update_slice_check(x.aval, u.aval, *(i.aval for i in idxs))
  starts = _clamped_starts((i._value for i in idxs), x.shape, u.shape)
  out = np.array(x._value, copy=True)
  out[tuple(builtins_slice(s, s + n) for s, n in zip(starts, u.shape))] = u._value
  return ArrayImpl(out, x.weak_type)


dynamic_update_slice_p.def_impl(_dynamic_update_slice_impl)
dynamic_update_slice_p.def_abstract_eval(_dynamic_update_slice_check)


def _dynamic_update_slice_sharding_rule(operand, update, *start_indices):
  """JAX's: the update is split as the operand."""
  if operand.sharding != update.sharding:
    mesh = mesh_of(operand, update)
    by_type: dict = {}
    for n, t in zip(mesh.axis_names, mesh.axis_types):
      by_type.setdefault(t, []).append(n)
    types = "({" + ", ".join(f"{t!r}: {tuple(ns)}" for t, ns in by_type.items()) + "})"
    raise ShardingTypeError(
        f"dynamic_update_slice operand sharding must be equal to update sharding, got "
        f"operand sharding {operand.str_short(short_dtypes=False)}{types} and update "
        f"sharding {update.str_short(short_dtypes=False)}{types}.")
  return operand.sharding


dynamic_update_slice_p.sharding_rule = _dynamic_update_slice_sharding_rule
dynamic_update_slice_p.lower = lambda ctx, x, u, *idxs: u if not idxs else ctx.op(
    "stablehlo.dynamic_update_slice", [x, u, *idxs], x.aval)  # (0-d: as dynamic_slice)


def _dynamic_update_slice_batch(vals, dims):
  """Unbatched indices update the whole batch; batched ones make a (clamping) scatter."""
  (x, u, *idxs), (xd, ud, *ids) = vals, dims
  size = batching.batch_size(vals, dims)
  x, u = batching.bdim_at_front(x, xd, size), batching.bdim_at_front(u, ud, size)
  if all(d is None for d in ids):
    zero = ArrayImpl(np.zeros((), core.get_aval(idxs[0]).dtype))
    return dynamic_update_slice_p.bind(x, u, zero, *idxs), 0
  win = tuple(range(1, len(idxs) + 1))
  dn = ScatterDimensionNumbers(win, (), win, (0,), (0,))
  return scatter_p.bind(x, _index_matrix(idxs, ids, size), u, dimension_numbers=dn,
                        indices_are_sorted=True, unique_indices=True,
                        mode=GatherScatterMode.CLIP, update_jaxpr=None, update_consts=()), 0


dynamic_update_slice_p.batch = _dynamic_update_slice_batch
def _dynamic_update_slice_jvp(primals, tangents):
  x, u, *idxs = primals
  out = dynamic_update_slice_p.bind(x, u, *idxs)
  tx, tu = ad.instantiate(tangents[0]), ad.instantiate(tangents[1])
  return out, dynamic_update_slice_p.bind(tx, tu, *idxs)


def _dynamic_update_slice_transpose(ct, x, u, *idxs):
  u_aval = u.aval
  ct_x = (dynamic_update_slice_p.bind(ct, lax.full(u_aval.shape, 0, u_aval.dtype), *idxs)
          if ad.is_undefined_primal(x) else None)
  ct_u = (dynamic_slice_p.bind(ct, *idxs, slice_sizes=tuple(u_aval.shape))
          if ad.is_undefined_primal(u) else None)
  return [ct_x, ct_u] + [None] * len(idxs)


dynamic_update_slice_p.jvp = _dynamic_update_slice_jvp
dynamic_update_slice_p.transpose = _dynamic_update_slice_transpose


def dynamic_update_slice(operand, update, start_indices, *, allow_negative_indices=True):
  operand = _to_array(operand)
  update = _to_array(update, operand.dtype)
  if hasattr(start_indices, "ndim") and getattr(start_indices, "ndim", 0) == 1:
    start_indices = [start_indices[i] for i in range(start_indices.shape[0])]
  idxs = _dynamic_slice_indices(operand, list(start_indices), allow_negative_indices)
  return dynamic_update_slice_p.bind(operand, update, *idxs)


def dynamic_update_slice_in_dim(operand, update, start_index, axis):
  operand = _to_array(operand)
  axis = _canon_axis(axis, operand.ndim)
  starts = [0] * operand.ndim
  starts[axis] = start_index
  return dynamic_update_slice(operand, update, starts)


def dynamic_update_index_in_dim(operand, update, index, axis):
  operand = _to_array(operand)
  update = _to_array(update, operand.dtype)
  axis = _canon_axis(axis, operand.ndim)
  if update.ndim == operand.ndim - 1:
    update = lax.expand_dims(update, (axis,))
  return dynamic_update_slice_in_dim(operand, update, index, axis)


# ---------------------------------------------------------------- gather / scatter types


class GatherScatterMode(enum.Enum):
  """How out-of-bounds indices are handled by gather and scatter.

  CLIP clamps windows into range; FILL_OR_DROP fills out-of-bounds gathered
  windows with ``fill_value`` and drops out-of-bounds scattered windows;
  PROMISE_IN_BOUNDS clamps gathers and drops scatters (XLA's behaviour).
  """
  CLIP = enum.auto()
  FILL_OR_DROP = enum.auto()
  PROMISE_IN_BOUNDS = enum.auto()
  ONE_HOT = enum.auto()

  @staticmethod
  def from_any(s) -> "GatherScatterMode":
    if isinstance(s, GatherScatterMode):
      return s
    if s == "clip":
      return GatherScatterMode.CLIP
    if s is None or s == "fill" or s == "drop":
      return GatherScatterMode.FILL_OR_DROP
    if s == "promise_in_bounds":
      return GatherScatterMode.PROMISE_IN_BOUNDS
    if s == "one_hot":
      return GatherScatterMode.ONE_HOT
    raise ValueError(f'Unknown gather mode "{s}"')


class GatherDimensionNumbers(NamedTuple):
  offset_dims: tuple[int, ...]
  collapsed_slice_dims: tuple[int, ...]
  start_index_map: tuple[int, ...]
  operand_batching_dims: tuple[int, ...] = ()
  start_indices_batching_dims: tuple[int, ...] = ()


class ScatterDimensionNumbers(NamedTuple):
  update_window_dims: Sequence[int]
  inserted_window_dims: Sequence[int]
  scatter_dims_to_operand_dims: Sequence[int]
  operand_batching_dims: Sequence[int] = ()
  scatter_indices_batching_dims: Sequence[int] = ()


def _canon_dnums(cls, dn):
  return cls(*(tuple(int(d) for d in f) for f in dn))


def _window_starts(op_shape, idx, start_map, op_batch, idx_batch, sizes, mode, is_gather):
  """Per-operand-dim start arrays (shape = batch shape) and a validity mask."""
  batch_shape = idx.shape[:-1]
  nb = len(batch_shape)
  starts = [None] * len(op_shape)
  valid = None
  idx = idx.astype(np.int64, copy=False)
  for k, d in enumerate(start_map):
    s = idx[..., k]
    hi = op_shape[d] - sizes[d]
    if mode is GatherScatterMode.FILL_OR_DROP or (
        not is_gather and mode is not GatherScatterMode.CLIP):
      ok = (s >= 0) & (s <= hi)
      valid = ok if valid is None else valid & ok
    starts[d] = np.clip(s, 0, max(hi, 0))
  for od, bd in zip(op_batch, idx_batch):
    shp = [1] * nb
    shp[bd] = batch_shape[bd]
    starts[od] = np.arange(batch_shape[bd]).reshape(shp)
  return starts, valid


def _full_indices(op_shape, starts, window_dims, sizes, batch_shape):
  nb, nw = len(batch_shape), len(window_dims)
  full = tuple(batch_shape) + tuple(sizes[d] for d in window_dims)
  arrs = []
  for d in range(len(op_shape)):
    s = starts[d]
    a = np.zeros((), np.int64) if s is None else np.asarray(s).reshape(
        np.shape(s) + (1,) * nw)
    if d in window_dims:
      j = window_dims.index(d)
      shp = [1] * (nb + nw)
      shp[nb + j] = sizes[d]
      a = a + np.arange(sizes[d]).reshape(shp)
    arrs.append(np.broadcast_to(a, full))
  return tuple(arrs), full


# ---------------------------------------------------------------- gather

gather_p = Primitive("gather")


def _gather_check(operand: ShapedArray, indices: ShapedArray, *, dimension_numbers,
                  slice_sizes, indices_are_sorted=False, unique_indices=False, mode=None,
                  fill_value=None):
  dn = dimension_numbers
  if not _is_int_dtype(indices.dtype):
    raise ValueError("indices must have an integer type")
  if indices.ndim < 1:
    raise TypeError("Gather index leaf dimension must be within [0, rank(indices) + 1). "
                    f"rank(indices) is {indices.ndim} and gather index leaf dimension is "
                    f"{indices.ndim - 1}.")
  if tuple(dn.offset_dims) != tuple(sorted(dn.offset_dims)):
    raise TypeError(f"offset_dims in gather op must be sorted; got {tuple(dn.offset_dims)}.")
  if len(slice_sizes) != operand.ndim:
    raise TypeError(f"Gather op must have one slice size for every input dimension; got: "
                    f"len(slice_sizes)={len(slice_sizes)}, input_shape.rank={operand.ndim}")
  if len(dn.start_index_map) != indices.shape[-1]:
    raise TypeError(f"Gather op has {len(dn.start_index_map)} elements in start_index_map "
                    f"and the bound of dimension index_vector_dim={indices.ndim - 1} of "
                    f"indices is {indices.shape[-1]}. These two numbers must be equal.")
  for d in (*dn.start_index_map, *dn.collapsed_slice_dims, *dn.operand_batching_dims):
    if not 0 <= d < operand.ndim:
      raise TypeError(f"Invalid dimension number {d} in gather dimension_numbers for "
                      f"operand of rank {operand.ndim}: {dn}.")
  for i, (s, d) in enumerate(zip(slice_sizes, operand.shape)):
    if not 0 <= s <= d:
      raise TypeError(f"Slice size at index {i} in gather op is out of range, must be "
                      f"within [0, {d} + 1), got {s}.")
  for d in (*dn.collapsed_slice_dims, *dn.operand_batching_dims):
    if slice_sizes[d] > 1:
      raise TypeError(f"Gather op can only collapse slice dims with bound 1, but bound is "
                      f"{slice_sizes[d]} for index {d} at position "
                      f"{list(dn.collapsed_slice_dims).index(d) if d in dn.collapsed_slice_dims else 0}.")
  window = [slice_sizes[d] for d in range(operand.ndim)
            if d not in dn.collapsed_slice_dims and d not in dn.operand_batching_dims]
  if len(window) != len(dn.offset_dims):
    raise TypeError(f"All components of the offset index in a gather op must either be a "
                    f"offset dimension or explicitly collapsed/batching; got "
                    f"len(slice_sizes)={len(slice_sizes)}, output_slice_sizes={window}, "
                    f"collapsed_slice_dims={dn.collapsed_slice_dims}, "
                    f"operand_batching_dims={dn.operand_batching_dims}.")
  batch = list(indices.shape[:-1])
  rank = len(batch) + len(window)
  shape, wi, bi = [], iter(window), iter(batch)
  for pos in range(rank):
    shape.append(next(wi) if pos in dn.offset_dims else next(bi))
  return ShapedArray(tuple(shape), operand.dtype, operand.weak_type)


def _default_fill(dtype):
  dtype = np.dtype(dtype)
  if dtype.kind in "fcV" or dtype == dtypes.bfloat16:
    return np.nan
  if dtype.kind == "i":
    return dtypes.iinfo(dtype).min
  if dtype.kind == "u":
    return dtypes.iinfo(dtype).max
  return True


def _gather_np(op, idx, dn, slice_sizes, mode, fill_value):
  batch_shape = idx.shape[:-1]
  nb = len(batch_shape)
  window_dims = [d for d in range(op.ndim)
                 if d not in dn.collapsed_slice_dims and d not in dn.operand_batching_dims]
  starts, valid = _window_starts(op.shape, idx, dn.start_index_map, dn.operand_batching_dims,
                                 dn.start_indices_batching_dims, slice_sizes, mode, True)
  arrs, full = _full_indices(op.shape, starts, window_dims, slice_sizes, batch_shape)
  if 0 in op.shape:
    out = np.zeros(full, op.dtype)
  else:
    out = op[arrs] if arrs else np.broadcast_to(op, full).copy()
  if valid is not None and not valid.all():
    fv = _default_fill(op.dtype) if fill_value is None else fill_value
    mask = valid.reshape(valid.shape + (1,) * len(window_dims))
    out = np.where(mask, out, np.asarray(fv).astype(op.dtype))
  perm, b = [], 0
  offs = list(dn.offset_dims)
  for pos in range(nb + len(window_dims)):
    if pos in offs:
      perm.append(nb + offs.index(pos))
    else:
      perm.append(b)
      b += 1
  return np.ascontiguousarray(out.transpose(perm)) if perm != sorted(perm) else out


def _gather_impl(operand, indices, **params):
  aval = _gather_check(operand.aval, indices.aval, **params)
  out = _gather_np(np.asarray(operand._value), np.asarray(indices._value),
                   params["dimension_numbers"], params["slice_sizes"], params["mode"],
                   params.get("fill_value"))
  return ArrayImpl(np.asarray(out, aval.dtype).reshape(aval.shape), aval.weak_type)


gather_p.def_impl(_gather_impl)
gather_p.def_abstract_eval(_gather_check)


def _gather_sharding_rule(operand, indices, **params):
  """JAX's error for the common case (its finer rules for batched gathers are not
  here): a gather from or by sharded arrays needs its output sharding spelled out."""
  raise ShardingTypeError(
      f"Use `.at[...].get(out_sharding=)` to provide output PartitionSpec for the gather "
      f"indexing as out sharding could not be resolved unambiguously (or would require "
      f"collectives on inputs). Got operand={operand!r}, indices={indices!r}")


gather_p.sharding_rule = _gather_sharding_rule


def _index_columns(ctx, idx, start_map, op_shape, sizes):
  """Per index-vector entry: (column of indices, its in-bounds mask), and the indices with
  every column clamped into [0, dim - size]."""
  idt = idx.aval.dtype
  batch = idx.aval.shape[:-1]
  n = len(batch)
  cols, masks = [], []
  top = np.iinfo(idt).max
  for k, d in enumerate(start_map):
    col = ctx.op("stablehlo.slice", [idx], ShapedArray((*batch, 1), idt),
                 f"start_indices = {mlir._i64_array([0] * n + [k])}, "
                 f"limit_indices = {mlir._i64_array([*batch, k + 1])}, "
                 f"strides = {mlir._i64_array([1] * (n + 1))}")
    hi = ctx.full(builtins.min(builtins.max(op_shape[d] - sizes[d], 0), top), (), idt)
    lo = ctx.full(0, (), idt)
    ok = ctx.binary("and", ctx.compare("GE", col, lo), ctx.compare("LE", col, hi))
    masks.append(ok)
    cols.append(ctx.binary("minimum", ctx.binary("maximum", col, lo), hi))
  clamped = ctx.op("stablehlo.concatenate", cols, idx.aval, f"dimension = {n} : i64") \
      if cols else idx
  mask = None
  for m in masks:
    mask = m if mask is None else ctx.binary("and", mask, m)
  if mask is not None:
    mask = ctx.op("stablehlo.reshape", [mask], ShapedArray(batch, np.bool_))
  return clamped, mask


def _dims(xs):
  return f"[{', '.join(map(str, xs))}]"


def _gather_lower(ctx, operand, indices, *, dimension_numbers, slice_sizes,
                  indices_are_sorted=False, unique_indices=False, mode=None, fill_value=None):
  dn = dimension_numbers
  out = ctx.aval_out
  idx, mask = _index_columns(ctx, indices, dn.start_index_map, operand.aval.shape,
                             slice_sizes)
  fields = [("offset_dims", dn.offset_dims), ("collapsed_slice_dims", dn.collapsed_slice_dims),
            ("operand_batching_dims", dn.operand_batching_dims),
            ("start_indices_batching_dims", dn.start_indices_batching_dims),
            ("start_index_map", dn.start_index_map)]
  attr = ", ".join(f"{k} = {_dims(v)}" for k, v in fields if len(v))
  attr += f"{', ' if attr else ''}index_vector_dim = {indices.aval.ndim - 1}"
  r = ctx.op("stablehlo.gather", [operand, idx], out.update(weak_type=False),
             f"dimension_numbers = #stablehlo.gather<{attr}>, "
             f"slice_sizes = {mlir._i64_array(slice_sizes)}, indices_are_sorted = false")
  if mode is GatherScatterMode.FILL_OR_DROP and mask is not None:
    fv = _default_fill(out.dtype) if fill_value is None else fill_value
    batch_pos = [i for i in range(out.ndim) if i not in dn.offset_dims]
    m = ctx.op("stablehlo.broadcast_in_dim", [mask], ShapedArray(out.shape, np.bool_),
               f"broadcast_dimensions = {mlir._i64_array(batch_pos)}")
    r = ctx.select(m, r, ctx.full(np.asarray(fv).astype(out.dtype), (), out.dtype))
  return r


gather_p.lower = _gather_lower


def _shift(t):
  return tuple(int(i) + 1 for i in t)


def _gather_batch(vals, dims, *, dimension_numbers, slice_sizes, **params):
  """A batched operand adds a window (or operand batching) dimension in front;
  batched indices add an indices batching dimension."""
  (op, ind), (od, idd) = vals, dims
  dn = dimension_numbers
  if idd is None:
    op = batching.moveaxis(op, od, 0)
    dn = GatherDimensionNumbers((0, *_shift(dn.offset_dims)), _shift(dn.collapsed_slice_dims),
                                _shift(dn.start_index_map), _shift(dn.operand_batching_dims),
                                tuple(dn.start_indices_batching_dims))
    slice_sizes = (core.get_aval(op).shape[0], *slice_sizes)
  elif od is None:
    ind = batching.moveaxis(ind, idd, 0)
    dn = dn._replace(offset_dims=_shift(dn.offset_dims),
                     start_indices_batching_dims=_shift(dn.start_indices_batching_dims))
  else:
    op, ind = batching.moveaxis(op, od, 0), batching.moveaxis(ind, idd, 0)
    dn = GatherDimensionNumbers(_shift(dn.offset_dims), _shift(dn.collapsed_slice_dims),
                                _shift(dn.start_index_map),
                                (0, *_shift(dn.operand_batching_dims)),
                                (0, *_shift(dn.start_indices_batching_dims)))
    slice_sizes = (builtins.min(core.get_aval(op).shape[0], 1), *slice_sizes)
  return gather_p.bind(op, ind, dimension_numbers=dn, slice_sizes=tuple(slice_sizes),
                       **params), 0


gather_p.batch = _gather_batch
def _gather_jvp(primals, tangents, *, dimension_numbers, slice_sizes, indices_are_sorted,
                unique_indices, mode, fill_value):
  operand, indices = primals
  params = dict(dimension_numbers=dimension_numbers, slice_sizes=slice_sizes,
                indices_are_sorted=indices_are_sorted, unique_indices=unique_indices,
                mode=mode)
  out = gather_p.bind(operand, indices, fill_value=fill_value, **params)
  fill0 = None if fill_value is None else 0
  return out, gather_p.bind(tangents[0], indices, fill_value=fill0, **params)


def _gather_transpose(ct, operand, indices, *, dimension_numbers, slice_sizes,
                      indices_are_sorted, unique_indices, mode, fill_value):
  dn = dimension_numbers
  zeros = lax.full(operand.aval.shape, 0, operand.aval.dtype)
  sdn = ScatterDimensionNumbers(
      update_window_dims=tuple(dn.offset_dims), inserted_window_dims=tuple(dn.collapsed_slice_dims),
      scatter_dims_to_operand_dims=tuple(dn.start_index_map),
      operand_batching_dims=tuple(dn.operand_batching_dims),
      scatter_indices_batching_dims=tuple(dn.start_indices_batching_dims))
  out = _scatter_bind(scatter_add_p, zeros, indices, ct, sdn, indices_are_sorted,
                      unique_indices, mode)
  return [out, None]


gather_p.jvp = _gather_jvp
gather_p.transpose = _gather_transpose


def gather(operand, start_indices, dimension_numbers, slice_sizes, *, unique_indices=False,
           indices_are_sorted=False, mode=None, fill_value=None):
  operand = _to_array(operand)
  start_indices = _to_array(start_indices)
  parsed = GatherScatterMode.from_any(mode)
  if parsed is GatherScatterMode.FILL_OR_DROP:
    if fill_value is None:
      fill_value = _default_fill(operand.dtype)
    fill_value = np.asarray(fill_value).astype(operand.dtype)[()]
    fill_value = fill_value.item() if operand.dtype != dtypes.bfloat16 else fill_value
  else:
    fill_value = None
  dn = _canon_dnums(GatherDimensionNumbers, dimension_numbers)
  return gather_p.bind(operand, start_indices, dimension_numbers=dn,
                       slice_sizes=tuple(int(s) for s in slice_sizes),
                       indices_are_sorted=bool(indices_are_sorted),
                       unique_indices=bool(unique_indices), mode=parsed,
                       fill_value=fill_value)


# ---------------------------------------------------------------- scatter


def _scatter_check(name, operand: ShapedArray, indices: ShapedArray, updates: ShapedArray,
                   dn):
  if not _is_int_dtype(indices.dtype):
    raise TypeError(f"{name} indices must have an integer type")
  if operand.dtype != updates.dtype:
    raise TypeError(f"{name} requires arguments to have the same dtypes, got "
                    f"{operand.dtype.name}, {updates.dtype.name}.")
  if tuple(dn.update_window_dims) != tuple(sorted(dn.update_window_dims)):
    raise TypeError(f"update_window_dims in scatter op must be sorted; got "
                    f"{tuple(dn.update_window_dims)}.")
  if indices.ndim < 1 or len(dn.scatter_dims_to_operand_dims) != indices.shape[-1]:
    raise TypeError(f"Scatter op has {len(dn.scatter_dims_to_operand_dims)} elements in "
                    f"scatter_dims_to_operand_dims and the bound of dimension "
                    f"index_vector_dim={indices.ndim - 1} of indices is "
                    f"{indices.shape[-1] if indices.ndim else 0}. These two numbers must "
                    f"be equal.")
  window_rank = operand.ndim - len(dn.inserted_window_dims) - len(dn.operand_batching_dims)
  if len(dn.update_window_dims) != window_rank:
    raise TypeError(f"Scatter op has window of size {len(dn.update_window_dims)}; doesn't "
                    f"match operand of rank {operand.ndim}.")
  scatter_dims = [d for d in range(updates.ndim) if d not in dn.update_window_dims]
  if tuple(updates.shape[d] for d in scatter_dims) != tuple(indices.shape[:-1]):
    raise TypeError(f"Bounds of the scatter dimensions of updates must be the same as the "
                    f"bounds of the corresponding dimensions of scatter indices. For "
                    f"scatter dimension {scatter_dims}, updates bound is "
                    f"{tuple(updates.shape[d] for d in scatter_dims)}, indices bound is "
                    f"{tuple(indices.shape[:-1])}.")
  window_dims = [d for d in range(operand.ndim)
                 if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
  for ud, od in zip(dn.update_window_dims, window_dims):
    if updates.shape[ud] > operand.shape[od]:
      raise TypeError(f"Bounds of the window dimensions of updates must not exceed the "
                      f"bounds of the corresponding dimensions of operand. For dimension "
                      f"{ud}, updates bound is {updates.shape[ud]}, operand bound is "
                      f"{operand.shape[od]}.")
  return ShapedArray(operand.shape, operand.dtype, operand.weak_type)


def _scatter_np(op, idx, upd, dn, mode, combine):
  uwd = list(dn.update_window_dims)
  scat = [d for d in range(upd.ndim) if d not in uwd]
  u = upd.transpose(scat + uwd)
  window_dims = [d for d in range(op.ndim)
                 if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
  sizes = [1] * op.ndim
  for ud, od in zip(uwd, window_dims):
    sizes[od] = upd.shape[ud]
  batch_shape = idx.shape[:-1]
  starts, valid = _window_starts(op.shape, idx, dn.scatter_dims_to_operand_dims,
                                 dn.operand_batching_dims, dn.scatter_indices_batching_dims,
                                 sizes, mode, False)
  arrs, full = _full_indices(op.shape, starts, window_dims, sizes, batch_shape)
  u = np.broadcast_to(u, full)
  if valid is not None and not valid.all():
    keep = valid.reshape(-1)
    flat = lambda a: a.reshape((-1,) + a.shape[len(batch_shape):])[keep]
    arrs = tuple(flat(a) for a in arrs)
    u = flat(u)
  out = np.array(op, copy=True)
  if out.size == 0 or u.size == 0:
    return out
  if combine is None:
    out[arrs] = u
  else:
    try:
      combine.at(out, arrs, u)
    except TypeError:  # dtypes without ufunc.at loops (bfloat16): go via float32
      tmp = out.astype(np.float32)
      combine.at(tmp, arrs, u.astype(np.float32))
      out = tmp.astype(op.dtype)
  return out


def _scatter_lower(ctx, operand, indices, updates, *, dimension_numbers,
                   indices_are_sorted=False, unique_indices=False, mode=None,
                   update_jaxpr=None, update_consts=()):
  """Out-of-bounds windows are clamped (CLIP) or dropped. IREE's scatter writes out of
  bounds, so a dropped window is sent to a scratch margin padded onto the operand."""
  dn = dimension_numbers
  shape = operand.aval.shape
  window_dims = [d for d in range(operand.aval.ndim)
                 if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
  sizes = [1] * operand.aval.ndim
  for ud, od in zip(dn.update_window_dims, window_dims):
    sizes[od] = updates.aval.shape[ud]
  smap = dn.scatter_dims_to_operand_dims
  if mode is GatherScatterMode.CLIP:
    idx, _ = _index_columns(ctx, indices, smap, shape, sizes)
    target = operand
  else:
    wide = np.dtype(np.int64 if max(shape, default=0) >= 2 ** 31 - 2 ** 20 else np.int32)
    if indices.aval.dtype.kind == "u" and indices.aval.dtype.itemsize >= wide.itemsize:
      wide = np.dtype(np.int64)
    idx = ctx.convert(indices, wide)
    _, mask = _index_columns(ctx, idx, smap, shape, sizes)
    if mask is not None:
      n = idx.aval.ndim - 1
      m = ctx.op("stablehlo.broadcast_in_dim", [mask], idx.aval.update(dtype=np.bool_),
                 f"broadcast_dimensions = {mlir._i64_array(range(n))}")
      scratch = np.broadcast_to(np.array([shape[d] for d in smap], wide), idx.aval.shape)
      idx = ctx.select(m, idx, ctx.constant(scratch, idx.aval))
    high = [sizes[d] if d in smap else 0 for d in range(len(shape))]
    padded = ShapedArray([d + h for d, h in zip(shape, high)], operand.aval.dtype)
    pad = lambda v: ctx.op(
        "stablehlo.pad", [v, ctx.full(0, (), v.aval.dtype)],
        padded.update(dtype=v.aval.dtype),
        f"edge_padding_low = {mlir._i64_array([0] * len(shape))}, "
        f"edge_padding_high = {mlir._i64_array(high)}, "
        f"interior_padding = {mlir._i64_array([0] * len(shape))}")
    if operand.aval.dtype.kind == "c":  # (IREE crashes padding a complex tensor)
      rdt = np.dtype(np.float32 if operand.aval.dtype == np.complex64 else np.float64)
      target = ctx.op("stablehlo.complex", [pad(ctx.unary(p, operand, rdt))
                                            for p in ("real", "imag")], padded)
    else:
      target = pad(operand)
  scal = ShapedArray((), operand.aval.dtype)

  def body(b, old, new):
    if update_jaxpr is None:
      return [new]
    consts = [b.constant(np.asarray(getattr(c, "_value", c)), core.get_aval(c))
              for c in update_consts]
    return b.lower_jaxpr(update_jaxpr, consts, [old, new])

  reg = ctx.region([scal, scal], body)
  fields = [("update_window_dims", dn.update_window_dims),
            ("inserted_window_dims", dn.inserted_window_dims),
            ("input_batching_dims", dn.operand_batching_dims),
            ("scatter_indices_batching_dims", dn.scatter_indices_batching_dims),
            ("scatter_dims_to_operand_dims", dn.scatter_dims_to_operand_dims)]
  attr = ", ".join(f"{k} = {_dims(v)}" for k, v in fields if len(v))
  attr += f"{', ' if attr else ''}index_vector_dim = {indices.aval.ndim - 1}"
  out = ctx.op("stablehlo.scatter", [target, idx, updates], target.aval,
               f"scatter_dimension_numbers = #stablehlo.scatter<{attr}>, "
               f"indices_are_sorted = false, unique_indices = false", [reg])
  if target is operand:
    return out
  return ctx.op("stablehlo.slice", [out], operand.aval,
                f"start_indices = {mlir._i64_array([0] * len(shape))}, "
                f"limit_indices = {mlir._i64_array(shape)}, "
                f"strides = {mlir._i64_array([1] * len(shape))}")


def _scatter_sharding_rule(operand, indices, updates, *, dimension_numbers, **_):
  """JAX's rule in its common case: the output is split as the operand when the indexed
  operand dimensions are replicated, the indices are, and each update window dimension
  is split as its operand dimension (or replicated); else JAX's error. (JAX's finer rules
  for batched scatters are not here.)"""
  dn = dimension_numbers
  ospec, uspec = spec_of(operand), spec_of(updates)
  window = [d for d in range(operand.ndim) if d not in dn.inserted_window_dims and
            d not in dn.operand_batching_dims]
  ok = (not dn.operand_batching_dims and indices.sharding is None and
        all(ospec[d] is None for d in dn.scatter_dims_to_operand_dims))
  for d, u in zip(window, dn.update_window_dims):
    ok = ok and (uspec[u] is None or uspec[u] == ospec[d])
    ok = ok and (ospec[d] is None or updates.shape[u] == operand.shape[d])
  scatter_dims = [u for u in range(updates.ndim) if u not in dn.update_window_dims]
  ok = ok and all(uspec[u] is None for u in scatter_dims)
  if not ok:
    raise ShardingTypeError(
        f"Use `.at[...].set/add/mul/...(out_sharding=)` to provide output PartitionSpec "
        f"for the scatter update as out sharding could not be resolved unambiguously (or "
        f"would require collectives on inputs). Got operand={operand!r}, "
        f"indices={indices!r}, updates={updates!r}")
  return operand.sharding


def _make_scatter(name, combine, accepted):
  p = Primitive(name)
  p.sharding_rule = _scatter_sharding_rule

  def check(operand, indices, updates, *, dimension_numbers, indices_are_sorted=False,
            unique_indices=False, mode=None, update_jaxpr=None, update_consts=()):
    if operand.dtype not in accepted:
      lax._check_dtype(name, operand.dtype, accepted)
    return _scatter_check(name, operand, indices, updates, dimension_numbers)

  def impl(operand, indices, updates, **params):
    aval = check(operand.aval, indices.aval, updates.aval, **params)
    op, upd = np.asarray(operand._value), np.asarray(updates._value)
    jaxpr = params.get("update_jaxpr")
    if combine is None and jaxpr is not None and name == "scatter":
      out = _scatter_apply_np(op, np.asarray(indices._value), upd, params, jaxpr)
    else:
      out = _scatter_np(op, np.asarray(indices._value), upd, params["dimension_numbers"],
                        params["mode"], combine)
    return ArrayImpl(np.asarray(out, aval.dtype), aval.weak_type)

  p.def_impl(impl)
  p.def_abstract_eval(check)
  p.lower = _scatter_lower
  p.batch = lambda vals, dims, **params: _scatter_batch(p, vals, dims, **params)
  return p


def _scatter_batch(p, vals, dims, *, dimension_numbers, **params):
  """Operand and updates get the batch axis in front: as a window dimension for
  unbatched indices, as an operand/indices batching dimension for batched ones."""
  (op, ind, upd), (od, idd, ud) = vals, dims
  size = batching.batch_size(vals, dims)
  dn = dimension_numbers
  op, upd = batching.bdim_at_front(op, od, size), batching.bdim_at_front(upd, ud, size)
  if idd is None:
    dn = ScatterDimensionNumbers(
        (0, *_shift(dn.update_window_dims)), _shift(dn.inserted_window_dims),
        _shift(dn.scatter_dims_to_operand_dims), _shift(dn.operand_batching_dims),
        tuple(dn.scatter_indices_batching_dims))
  else:
    ind = batching.moveaxis(ind, idd, 0)
    dn = ScatterDimensionNumbers(
        _shift(dn.update_window_dims), _shift(dn.inserted_window_dims),
        _shift(dn.scatter_dims_to_operand_dims), (0, *_shift(dn.operand_batching_dims)),
        (0, *_shift(dn.scatter_indices_batching_dims)))
  return p.bind(op, ind, upd, dimension_numbers=dn, **params), 0


def _eval_scalar_jaxpr(jaxpr, consts, *args):
  """Evaluates an update_jaxpr elementwise on whole arrays (literals become arrays)."""
  env = dict(zip(jaxpr.constvars, consts))
  env.update(zip(jaxpr.invars, args))

  def read(v):
    if type(v) is core.Literal:
      return ArrayImpl(np.asarray(v.val, v.aval.dtype)[()], v.aval.weak_type)
    return env[v]

  for eqn in jaxpr.eqns:
    ins = list(map(read, eqn.invars))
    shape = np.broadcast_shapes(*(i.shape for i in ins)) if ins else ()
    ins = [ArrayImpl(np.broadcast_to(i._value, shape), i.weak_type) if i.shape != shape
           else i for i in ins]
    out = eqn.primitive.bind(*ins, **eqn.params)
    outs = out if eqn.primitive.multiple_results else (out,)
    env.update(zip(eqn.outvars, outs))
  return read(jaxpr.outvars[0])


def _scatter_apply_np(op, idx, upd, params, jaxpr):
  """scatter with a user computation: out[i] = f(out[i], u) once per touched window."""
  # Gather the touched windows, combine them, and scatter the results back.
  dn = params["dimension_numbers"]
  # Mark which elements are touched using a scatter of ones.
  touched = _scatter_np(np.zeros(op.shape, np.bool_), idx, np.ones(upd.shape, np.bool_),
                        dn, params["mode"], None)
  scalar = _eval_scalar_jaxpr(jaxpr, params.get("update_consts", ()),
                              ArrayImpl(op), ArrayImpl(np.zeros(op.shape, op.dtype)))
  return np.where(touched, np.asarray(scalar._value), op)


from pyjax._src.lax import utils as _lax_mod  # noqa: E402

_scatter_any = _lax_mod._any
_scatter_num = _lax_mod._num | _lax_mod._bool

scatter_p = _make_scatter("scatter", None, _scatter_any)
scatter_add_p = _make_scatter("scatter-add", np.add, _scatter_num)
scatter_sub_p = _make_scatter("scatter-sub", np.subtract, _lax_mod._num)
scatter_mul_p = _make_scatter("scatter-mul", np.multiply, _scatter_num)
scatter_min_p = _make_scatter("scatter-min", np.minimum, _scatter_any)
scatter_max_p = _make_scatter("scatter-max", np.maximum, _scatter_any)
# ---------------------------------------------------------------- scatter autodiff rules


def _gather_of_scatter(dn: ScatterDimensionNumbers, operand_shape, updates_shape):
  """The gather that reads back, for every update element, the operand element it hits."""
  gdn = GatherDimensionNumbers(
      offset_dims=tuple(dn.update_window_dims),
      collapsed_slice_dims=tuple(dn.inserted_window_dims),
      start_index_map=tuple(dn.scatter_dims_to_operand_dims),
      operand_batching_dims=tuple(dn.operand_batching_dims),
      start_indices_batching_dims=tuple(dn.scatter_indices_batching_dims))
  sizes, pos = [], 0
  for i in range(len(operand_shape)):
    if i in dn.inserted_window_dims or i in dn.operand_batching_dims:
      sizes.append(1)
    else:
      sizes.append(updates_shape[dn.update_window_dims[pos]])
      pos += 1
  return gdn, tuple(sizes)


def _gather_for_scatter(x, indices, dn, operand_shape, updates_shape, mode):
  gdn, sizes = _gather_of_scatter(dn, operand_shape, updates_shape)
  fill = 0 if mode is GatherScatterMode.FILL_OR_DROP else None
  return gather_p.bind(x, indices, dimension_numbers=gdn, slice_sizes=sizes,
                       indices_are_sorted=False, unique_indices=False, mode=mode,
                       fill_value=fill)


def _scatter_params(params):
  return (params["dimension_numbers"], params["indices_are_sorted"],
          params["unique_indices"], params["mode"])


def _scatter_add_jvp(p):
  def jvp(primals, tangents, **params):
    operand, indices, updates = primals
    out = p.bind(operand, indices, updates, **params)
    t_op, t_up = ad.instantiate(tangents[0]), ad.instantiate(tangents[2])
    return out, p.bind(t_op, indices, t_up, **params)
  return jvp


def _scatter_add_transpose(sign):
  def rule(ct, operand, indices, updates, **params):
    dn, _, _, mode = _scatter_params(params)
    ct_op = ct if ad.is_undefined_primal(operand) else None
    ct_up = None
    if ad.is_undefined_primal(updates):
      ct_up = _gather_for_scatter(ct, indices, dn, ct.shape, updates.aval.shape, mode)
      if sign < 0:
        ct_up = lax.neg(ct_up)
    return [ct_op, None, ct_up]
  return rule


scatter_add_p.jvp = _scatter_add_jvp(scatter_add_p)
scatter_add_p.transpose = _scatter_add_transpose(1)
scatter_sub_p.jvp = _scatter_add_jvp(scatter_sub_p)
scatter_sub_p.transpose = _scatter_add_transpose(-1)


def _scatter_jvp(primals, tangents, **params):
  """Overlapping indices: which update wins is unspecified, so each update gets an id,
  the ids are scattered, and only the winners (read back by a gather) contribute."""
  operand, indices, updates = primals
  dn, sorted_, unique, mode = _scatter_params(params)
  t_op, t_up = ad.instantiate(tangents[0]), ad.instantiate(tangents[2])
  if unique:
    out = scatter_p.bind(operand, indices, updates, **params)
    return out, scatter_p.bind(t_op, indices, t_up, **params)
  ushape = updates.shape
  batch_dims = [d for d in range(len(ushape)) if d not in dn.update_window_dims]
  n = math.prod(ushape[d] for d in batch_dims)
  ids = lax.add(lax.iota(np.int32, n), lax._const(lax.iota(np.int32, n), 1))
  ids = lax.reshape(ids, tuple(ushape[d] for d in batch_dims))
  ids = lax.broadcast_in_dim(ids, ushape, tuple(batch_dims))
  zeros_ids = lax.full(operand.shape, 0, np.int32)
  scattered_ids = scatter_p.bind(zeros_ids, indices, ids, dimension_numbers=dn,
                                 indices_are_sorted=sorted_, unique_indices=False, mode=mode,
                                 update_jaxpr=None, update_consts=())
  won = lax.eq(ids, _gather_for_scatter(scattered_ids, indices, dn, operand.shape, ushape,
                                        mode))
  kept = lax.eq(scattered_ids, lax._const(scattered_ids, 0))
  mask = lambda m, v: lax.select(m, v, lax.full_like(v, 0))
  add = lambda o, u: _scatter_bind(scatter_add_p, o, indices, u, dn, sorted_, False, mode)
  return (add(mask(kept, operand), mask(won, updates)),
          add(mask(kept, t_op), mask(won, t_up)))


def _scatter_transpose(ct, operand, indices, updates, **params):
  dn, _, unique, mode = _scatter_params(params)
  if not unique:
    raise NotImplementedError("scatter transpose is only implemented where "
                              "unique_indices=True")
  ct_op = ct_up = None
  if ad.is_undefined_primal(operand):
    ct_op = scatter_p.bind(ct, indices, lax.full(updates.aval.shape, 0, ct.dtype), **params)
  if ad.is_undefined_primal(updates):
    ct_up = _gather_for_scatter(ct, indices, dn, ct.shape, updates.aval.shape, mode)
  return [ct_op, None, ct_up]


scatter_p.jvp = _scatter_jvp
scatter_p.transpose = _scatter_transpose


def _scatter_mul_jvp(primals, tangents, **params):
  operand, indices, updates = primals
  dn, sorted_, unique, mode = _scatter_params(params)
  out = scatter_mul_p.bind(operand, indices, updates, **params)
  t = None
  if type(tangents[0]) is not ad.Zero:
    t = scatter_mul_p.bind(tangents[0], indices, updates, **params)
  if type(tangents[2]) is not ad.Zero:
    if not unique:
      raise NotImplementedError("scatter_mul gradients are only implemented if "
                                "`unique_indices=True`")
    zeros = lax.full(operand.shape, 0, operand.dtype)
    tu = lax.mul(operand, _scatter_bind(scatter_add_p, zeros, indices, tangents[2], dn,
                                        sorted_, True, mode))
    t = tu if t is None else ad.add_any_p.bind(t, tu)
  return out, t


def _scatter_mul_transpose(ct, operand, indices, updates, **params):
  if ad.is_undefined_primal(updates):
    raise NotImplementedError("scatter_mul transpose with respect to updates is not "
                              "implemented (it is not linear in updates and operand).")
  return [scatter_mul_p.bind(ct, indices, updates, **params), None, None]


scatter_mul_p.jvp = _scatter_mul_jvp
scatter_mul_p.transpose = _scatter_mul_transpose


def _scatter_extremal_jvp(p):
  """Tangents flow from every value equal to the result, split evenly among ties."""
  def jvp(primals, tangents, **params):
    operand, indices, updates = primals
    dn, sorted_, _, mode = _scatter_params(params)
    out = p.bind(operand, indices, updates, **params)
    t_op, t_up = ad.instantiate(tangents[0]), ad.instantiate(tangents[2])
    one = lambda m: lax._convert_element_type(m, operand.dtype)
    won = one(lax.eq(updates, _gather_for_scatter(out, indices, dn, operand.shape,
                                                  updates.shape, mode)))
    kept = one(lax.eq(operand, out))
    zeros = lax.full(operand.shape, 0, operand.dtype)
    add = lambda o, u: _scatter_bind(scatter_add_p, o, indices, u, dn, sorted_, False, mode)
    count = add(kept, won)
    num = add(lax.mul(kept, t_op), lax.mul(won, t_up))
    safe = lax.select(lax.eq(count, zeros), lax.full_like(count, 1), count)
    return out, lax.div(num, safe)
  return jvp


scatter_min_p.jvp = _scatter_extremal_jvp(scatter_min_p)
scatter_max_p.jvp = _scatter_extremal_jvp(scatter_max_p)

_update_jaxpr_cache: dict = {}


def _scalar_jaxpr(fn, dtype, key=None):
  """The ``update_jaxpr`` of a scatter: ``fn`` traced on two scalars of ``dtype``."""
  k = (key or fn, np.dtype(dtype))
  hit = _update_jaxpr_cache.get(k)
  if hit is not None:
    return hit
  aval = ShapedArray((), dtype)
  jaxpr, consts = pe.trace_to_jaxpr(lambda x, y: [fn(x, y)], [aval, aval])
  out = (jaxpr, tuple(consts))
  if key is not None or fn in _combine_fns.values():
    _update_jaxpr_cache[k] = out
  return out


_combine_fns = {}


def _combine(p):
  q = {scatter_add_p: lax.add_p, scatter_sub_p: lax.sub_p, scatter_mul_p: lax.mul_p,
       scatter_min_p: lax.min_p, scatter_max_p: lax.max_p}[p]
  fn = _combine_fns.get(p)
  if fn is None:
    fn = _combine_fns[p] = lambda x, y: q.bind(x, y)
  return fn


def _scatter_bind(p, operand, scatter_indices, updates, dimension_numbers,
                  indices_are_sorted, unique_indices, mode, update_jaxpr=None,
                  update_consts=()):
  operand = _to_array(operand)
  scatter_indices = _to_array(scatter_indices)
  updates = _to_array(updates, operand.dtype)
  dn = _canon_dnums(ScatterDimensionNumbers, dimension_numbers)
  if p is not scatter_p:
    fn = _combine(p)
    update_jaxpr, update_consts = _scalar_jaxpr(fn, operand.dtype, key=p)
  return p.bind(operand, scatter_indices, updates, dimension_numbers=dn,
                indices_are_sorted=bool(indices_are_sorted),
                unique_indices=bool(unique_indices),
                mode=GatherScatterMode.from_any(mode), update_jaxpr=update_jaxpr,
                update_consts=tuple(update_consts))


def _scatter_api(p, name):
  def fn(operand, scatter_indices, updates, dimension_numbers, *, indices_are_sorted=False,
         unique_indices=False, mode=None):
    return _scatter_bind(p, operand, scatter_indices, updates, dimension_numbers,
                         indices_are_sorted, unique_indices, mode)
  fn.__name__ = name
  return fn


scatter = _scatter_api(scatter_p, "scatter")
scatter_add = _scatter_api(scatter_add_p, "scatter_add")
scatter_sub = _scatter_api(scatter_sub_p, "scatter_sub")
scatter_mul = _scatter_api(scatter_mul_p, "scatter_mul")
scatter_min = _scatter_api(scatter_min_p, "scatter_min")
scatter_max = _scatter_api(scatter_max_p, "scatter_max")


def scatter_apply(operand, scatter_indices, func, dimension_numbers, *, update_shape=(),
                  indices_are_sorted=False, unique_indices=False, mode=None):
  """Applies ``func`` to the windows of ``operand`` selected by ``scatter_indices``."""
  operand = _to_array(operand)
  unused = lax.full(tuple(update_shape), 0, operand.dtype)
  jaxpr, consts = _scalar_jaxpr(lambda x, _: func(x), operand.dtype)
  return _scatter_bind(scatter_p, operand, scatter_indices, unused, dimension_numbers,
                       indices_are_sorted, unique_indices, mode, jaxpr, consts)


# The lax operations that core (Tracer iteration), ad (zeros, broadcasts) and batching
# (axis moves) call at run time: registered here, where index_in_dim lives and lax is
# whole, since the lower layers may not import lax.
core.register_lax_ops(index_in_dim=index_in_dim, full=lax.full,
                      broadcast_in_dim=lax.broadcast_in_dim, transpose=lax.transpose)


# ---------------------------------------------------------------- split, stack, unstack, tile
# JAX 0.10.2's structural primitives: split (transposed by concatenate), stack and
# unstack (each other's transposes), tile (transposed by a reshape and a sum).

split_p = Primitive("split")
split_p.multiple_results = True


def _split_check(x: ShapedArray, *, sizes, axis):
  if any(s < 0 for s in sizes):
    raise ValueError(f"Sizes passed to split must be nonnegative, got {list(sizes)}")
  if x.shape[axis] != sum(sizes):
    raise ValueError(f"Sum of sizes {sum(sizes)} must be equal to dimension {axis} of the "
                     f"operand shape {list(x.shape)}")
  return [ShapedArray(x.shape[:axis] + (s,) + x.shape[axis + 1:], x.dtype, x.weak_type)
          for s in sizes]


def _split_impl(x, *, sizes, axis):
  _split_check(x.aval, sizes=sizes, axis=axis)
  v = np.asarray(x._value)
  cuts = np.cumsum(sizes)[:-1] if sizes else []
  parts = np.split(v, cuts, axis=axis) if sizes else []
  return [ArrayImpl(np.ascontiguousarray(p), x.weak_type) for p in parts]


def _split_transpose(cts, x, *, sizes, axis):
  aval = x.aval
  if all(c is None or type(c) is ad.Zero for c in cts):
    return [None]
  cts = [lax.full(a.shape, 0, a.dtype) if c is None or type(c) is ad.Zero else c
         for c, a in zip(cts, _split_check(aval, sizes=sizes, axis=axis))]
  return [concatenate(cts, axis)]


def _split_lower(ctx, x, *, sizes, axis):
  outs, start = [], 0
  for a in ctx.avals_out:
    outs.append(mlir.slice_axis(ctx, x, axis, start, start + a.shape[axis]))
    start += a.shape[axis]
  return outs


def _split_batch(vals, dims, *, sizes, axis):
  x, d = vals[0], dims[0]
  ax = axis + (d <= axis)
  return split_p.bind(x, sizes=sizes, axis=ax), [d] * len(sizes)


split_p.def_impl(_split_impl)
split_p.def_abstract_eval(_split_check)
ad.deflinear(split_p, _split_transpose)
split_p.lower = _split_lower
split_p.batch = _split_batch


def split(operand, sizes, axis=0):
  operand = _to_array(operand)
  return split_p.bind(operand, sizes=tuple(int(s) for s in sizes),
                      axis=_canon_axis(axis, operand.ndim))


stack_p = Primitive("stack")


def _stack_check(*xs: ShapedArray, axis):
  if not xs:
    raise ValueError("stack expects at least one operand, got 0.")
  if len({x.ndim for x in xs}) != 1:
    raise ValueError("Cannot stack arrays with different numbers of dimensions: got "
                     f"{', '.join(str(x.shape) for x in xs)}.")
  if len({x.shape for x in xs}) != 1:
    raise ValueError("All input arrays must have the same shape. Got "
                     f"{', '.join(str(x.shape) for x in xs)}.")
  _same_dtypes_check("stack", *xs)
  shape = list(xs[0].shape)
  shape.insert(axis, len(xs))
  return ShapedArray(tuple(shape), xs[0].dtype, all(x.weak_type for x in xs))


def _stack_impl(*xs, axis):
  aval = _stack_check(*(x.aval for x in xs), axis=axis)
  return ArrayImpl(np.stack([np.asarray(x._value) for x in xs], axis=axis), aval.weak_type)


def _stack_transpose(ct, *xs, axis):
  if type(ct) is ad.Zero:
    return [None] * len(xs)
  return unstack_p.bind(ct, axis=axis)


def _stack_lower(ctx, *xs, axis):
  out = ctx.aval_out
  one = out.shape[:axis] + (1,) + out.shape[axis + 1:]
  parts = [mlir.reshape(ctx, x, one) for x in xs]
  if len(parts) == 1:
    return mlir.reshape(ctx, parts[0], out.shape)
  return ctx.op("stablehlo.concatenate", parts, out, f"dimension = {axis} : i64")


def _stack_batch(vals, dims, *, axis):
  size = batching.batch_size(vals, dims)
  xs = [batching.bdim_at_front(x, d, size) for x, d in zip(vals, dims)]
  return stack_p.bind(*xs, axis=axis + 1), 0


def _stack_sharding_rule(*xs, axis):
  """JAX's: the sharded operands share one sharding; the new axis is replicated."""
  sharded = [x for x in xs if x.sharding is not None]
  if any(x.sharding != sharded[0].sharding for x in sharded[1:]):
    raise ShardingTypeError(f"All operands should have the same sharding. Got "
                            f"shardings {', '.join(str(x.sharding) for x in xs)}")
  spec = list(spec_of(sharded[0]))
  spec.insert(axis, None)
  return make_sharding(sharded[0].sharding.mesh, spec)


stack_p.def_impl(_stack_impl)
stack_p.def_abstract_eval(_stack_check)
stack_p.sharding_rule = _stack_sharding_rule
ad.deflinear(stack_p, _stack_transpose)
stack_p.lower = _stack_lower
stack_p.batch = _stack_batch


def stack(operands, axis=0):
  arrays = [_to_array(op) for op in operands]
  if not arrays:  # (JAX reads arrays[0])
    raise IndexError("list index out of range")
  return stack_p.bind(*arrays, axis=_canon_axis(axis, arrays[0].ndim + 1))


unstack_p = Primitive("unstack")
unstack_p.multiple_results = True


def _unstack_check(x: ShapedArray, *, axis):
  if x.ndim == 0:
    raise ValueError("unstack requires arrays with rank > 0, however a scalar array of "
                     f"shape {x.shape} was passed.")
  shape = x.shape[:axis] + x.shape[axis + 1:]
  return [ShapedArray(shape, x.dtype, x.weak_type)] * x.shape[axis]


def _unstack_impl(x, *, axis):
  _unstack_check(x.aval, axis=axis)
  v = np.asarray(x._value)
  return [ArrayImpl(np.array(np.take(v, i, axis=axis), order="C"), x.weak_type)  # (0-d)
          for i in range(v.shape[axis])]


def _unstack_transpose(cts, x, *, axis):
  if all(c is None or type(c) is ad.Zero for c in cts):
    return [None]
  aval = x.aval
  shape = aval.shape[:axis] + aval.shape[axis + 1:]
  cts = [lax.full(shape, 0, aval.dtype) if c is None or type(c) is ad.Zero else c
         for c in cts]
  return [stack_p.bind(*cts, axis=axis)]


def _unstack_lower(ctx, x, *, axis):
  return [mlir.reshape(ctx, mlir.slice_axis(ctx, x, axis, i, i + 1), a.shape)
          for i, a in enumerate(ctx.avals_out)]


def _unstack_batch(vals, dims, *, axis):
  x, d = vals[0], dims[0]
  ax, od = (axis, d - 1) if axis < d else (axis + 1, d)
  outs = unstack_p.bind(x, axis=ax)
  return outs, [od] * len(outs)


def _unstack_sharding_rule(x, *, axis):
  spec = list(spec_of(x))
  if spec[axis] is not None:
    raise ShardingTypeError(f"unstack operand cannot be sharded on the unstacking axis "
                            f"{axis}. Got operand type={x.str_short(True)}")
  del spec[axis]
  return [make_sharding(x.sharding.mesh, spec)] * x.shape[axis]


unstack_p.def_impl(_unstack_impl)
unstack_p.def_abstract_eval(_unstack_check)
unstack_p.sharding_rule = _unstack_sharding_rule
ad.deflinear(unstack_p, _unstack_transpose)
unstack_p.lower = _unstack_lower
unstack_p.batch = _unstack_batch


def unstack(x, axis=0):
  x = _to_array(x)
  return tuple(unstack_p.bind(x, axis=_canon_axis(axis, x.ndim)))


tile_p = Primitive("tile")


def _tile_check(x: ShapedArray, *, reps):
  if x.ndim != len(reps):
    raise TypeError(f"reps length must be equal to the ndim of x, got len(reps)={len(reps)} "
                    f"and x.ndim={x.ndim}.")
  return x.update(shape=tuple(int(d) * int(r) for d, r in zip(x.shape, reps)))


def _tile_impl(x, *, reps):
  _tile_check(x.aval, reps=reps)
  return ArrayImpl(np.tile(np.asarray(x._value), reps) if reps else np.asarray(x._value),
                   x.weak_type)


def _tile_transpose(ct, x, *, reps):
  if type(ct) is ad.Zero:
    return [None]
  shape = x.aval.shape
  ct = lax.reshape(ct, tuple(k for pair in zip(reps, shape) for k in pair))
  return [lax.reduce_sum(ct, tuple(2 * i for i in range(len(shape))))]


def _tile_lower(ctx, x, *, reps):
  shape = x.aval.shape
  expand = tuple(j for i in shape for j in (1, i))
  y = mlir.reshape(ctx, x, expand)
  big = tuple(k for pair in zip(reps, shape) for k in pair)
  y = ctx.op("stablehlo.broadcast_in_dim", [y], y.aval.update(shape=big),
             f"broadcast_dimensions = {mlir._i64_array(range(len(big)))}")
  return mlir.reshape(ctx, y, ctx.aval_out.shape)


def _tile_batch(vals, dims, *, reps):
  r = list(reps)
  r.insert(dims[0], 1)
  return tile_p.bind(vals[0], reps=tuple(r)), dims[0]


tile_p.def_impl(_tile_impl)
tile_p.def_abstract_eval(_tile_check)
ad.deflinear(tile_p, _tile_transpose)
tile_p.lower = _tile_lower
tile_p.batch = _tile_batch


def tile(operand, reps):
  return tile_p.bind(_to_array(operand), reps=tuple(int(r) for r in reps))


def index_take(src, idxs, axes):
  """JAX's lax.index_take: ``src`` gathered at the index arrays ``idxs`` (one per axis
  of ``axes``, taken modulo that axis' size)."""
  src = _to_array(src)
  indices = concatenate([lax.expand_dims(_to_array(i), (1,)) for i in idxs], 1)
  max_idx = lax.expand_dims(np.array([src.shape[ax] for ax in axes]),
                            tuple(range(indices.ndim - 1)))
  indices = indices % max_idx
  slice_sizes = list(src.shape)
  for ax in axes:
    slice_sizes[ax] = 1
  offset_dims = tuple(range(1, src.ndim - indices.shape[1] + 1))
  dnums = GatherDimensionNumbers(offset_dims=offset_dims, collapsed_slice_dims=tuple(axes),
                                 start_index_map=tuple(axes))
  return gather(src, indices, dimension_numbers=dnums, slice_sizes=tuple(slice_sizes))

"""jax.numpy shape manipulation beyond the basics in lax_numpy: splitting, tiling,
flipping, stacking, padding, diagonals and triangles, insertion and deletion."""
from __future__ import annotations

import builtins
import operator

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Tracer
from pyjax._src.lax import lax, slicing
from pyjax._src.numpy import reductions, ufuncs
from pyjax._src.numpy.array_creation import _tri_mask, eye, unravel_index, zeros
from pyjax._src.numpy.lax_numpy import (_pad_axis_const, _pad_const, _shape_arg,
                                        _slice_axis, _static_int, _take_static,
                                        broadcast_to, clip, concatenate, moveaxis, ravel,
                                        reshape, swapaxes, where)
from pyjax._src.numpy.util import array
from pyjax._src.numpy.util import staged_jit
from pyjax._src.numpy.util import (_broadcast_to, asarray as _asarray, canonicalize_axis,
                                   check_arraylike)


def _split(name, ary, indices_or_sections, axis, equal):
  check_arraylike(name, ary)
  ary = _asarray(ary)
  axis = _static_int(axis, f"axis argument of jnp.{name}()")
  n = ary.shape[axis]  # (an out-of-range axis is JAX's IndexError)
  axis = canonicalize_axis(axis, ary.ndim)
  ios = indices_or_sections
  if isinstance(ios, (ArrayImpl, Tracer, np.ndarray)) and np.ndim(ios) == 0:
    ios = core.concrete_or_error(operator.index, ios, f"in jax.numpy.{name} argument 1")
  if isinstance(ios, (int, np.integer)):
    k = operator.index(ios)
    q, r = divmod(n, k)  # (zero sections: JAX's ZeroDivisionError)
    if k < 0:
      raise ValueError("number sections must be larger than 0.")
    if equal and r:
      raise ValueError(f"array split does not result in an equal division: rest is {r}")
    sizes = [q + 1] * r + [q] * (k - r)
    bounds = np.cumsum([0] + sizes).tolist()
  else:
    ios = core.concrete_or_error(np.asarray, ios, f"in jax.numpy.{name} argument 1")
    if ios.ndim != 1:
      raise ValueError(f"jnp.{name}: indices_or_sections must be an integer or a 1D "
                       f"sequence of integers")
    bounds = [0] + [int(i) for i in ios] + [n]
  out = []
  for lo, hi in zip(bounds[:-1], bounds[1:]):
    lo = builtins.min(builtins.max(lo + n if lo < 0 else lo, 0), n)
    hi = builtins.min(builtins.max(hi + n if hi < 0 else hi, 0), n)
    out.append(_slice_axis(ary, lo, builtins.max(lo, hi), axis))
  return out


def split(ary, indices_or_sections, axis: int = 0):
  """Splits into equal sections (or at the given static indices)."""
  return _split("split", ary, indices_or_sections, axis, True)


def array_split(ary, indices_or_sections, axis: int = 0):
  """Like ``split`` but allows sections of unequal size."""
  return _split("array_split", ary, indices_or_sections, axis, False)


def hsplit(ary, indices_or_sections):
  a = _asarray(ary)
  return _split("hsplit", a, indices_or_sections, 0 if a.ndim == 1 else 1, True)


def vsplit(ary, indices_or_sections):
  return _split("vsplit", _asarray(ary), indices_or_sections, 0, True)


def dsplit(ary, indices_or_sections):
  return _split("dsplit", _asarray(ary), indices_or_sections, 2, True)


def tile(A, reps):
  check_arraylike("tile", A)
  a = _asarray(A)
  try:
    iter(reps)
  except TypeError:
    reps = (reps,)
  reps = tuple(_static_int(r, "reps argument of jnp.tile()") for r in reps)
  reps = (1,) * (a.ndim - len(reps)) + reps
  a = lax.reshape(a, (1,) * (len(reps) - a.ndim) + a.shape)
  inter = tuple(x for r, d in zip(reps, a.shape) for x in (r, d))
  b = lax.broadcast_in_dim(a, inter, tuple(range(1, 2 * a.ndim, 2)))
  return lax.reshape(b, tuple(r * d for r, d in zip(reps, a.shape)))


def repeat(a, repeats, axis=None, *, total_repeat_length=None, out_sharding=None):
  """Repeats elements; ``repeats`` must be static (a concrete int or array)."""
  check_arraylike("repeat", a)
  a = _asarray(a)
  if axis is None:
    a = ravel(a)
    axis = 0
  axis = canonicalize_axis(_static_int(axis, "axis argument of jnp.repeat()"), a.ndim)
  n = a.shape[axis]
  reps = core.concrete_or_error(
      np.asarray, repeats,
      "When jit-compiling jnp.repeat, the total number of repeats must be static. To fix "
      "this, either specify a static value for `repeats`, or pass a static value to "
      "`total_repeat_length`.")
  if reps.ndim > 1:
    raise ValueError(f"repeats must be 0- or 1-d, got shape {reps.shape}")
  if reps.ndim == 1 and reps.shape[0] != 1:
    np.broadcast_to(reps, (n,))  # (a wrong length raises NumPy's error, as in JAX)
  if reps.ndim == 0 or reps.shape[0] == 1:
    r = int(reps.reshape(()))
    if total_repeat_length is None or total_repeat_length == n * r:
      # (r < 0: broadcast_in_dim's TypeError, as in JAX)
      shp = list(a.shape)
      b = lax.broadcast_in_dim(a, (*shp[:axis + 1], r, *shp[axis + 1:]),
                               tuple(i if i <= axis else i + 1 for i in range(a.ndim)))
      shp[axis] *= r
      return lax.reshape(b, tuple(shp))
    if r < 0:
      raise ValueError("repeats may not contain negative values.")
    idx = np.repeat(np.arange(n), r)
  else:
    if (reps < 0).any():
      raise ValueError("repeats may not contain negative values.")
    idx = np.repeat(np.arange(n), reps)
  if total_repeat_length is not None:
    total = operator.index(total_repeat_length)
    if len(idx) >= total:
      idx = idx[:total]
    else:
      fill = idx[-1] if len(idx) else 0
      idx = np.concatenate([idx, np.full(total - len(idx), fill, idx.dtype)])
  return _take_static(a, idx, axis)


def flip(m, axis=None):
  check_arraylike("flip", m)
  m = _asarray(m)
  if axis is None:
    axes = tuple(range(m.ndim))
  else:
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = tuple(canonicalize_axis(ax, m.ndim) for ax in axes)
  return lax.rev(m, axes) if axes else m


def fliplr(m):
  return flip(_asarray(m), 1)


def flipud(m):
  return flip(_asarray(m), 0)


def roll(a, shift, axis=None):
  """Rolls elements along axes (static shifts slice and concatenate; traced ones take a
  dynamic slice of the axis repeated twice, as JAX's)."""
  check_arraylike("roll", a)
  a = _asarray(a)
  if isinstance(shift, Tracer) or (isinstance(shift, (list, tuple)) and
                                   builtins.any(isinstance(s, Tracer) for s in shift)):
    return _roll_dynamic(a, shift, axis)
  shifts = np.asarray(shift._value if isinstance(shift, ArrayImpl) else shift)
  if axis is None:
    return reshape(roll(ravel(a), shifts, 0), a.shape)
  axes = tuple(canonicalize_axis(ax, a.ndim) for ax in np.atleast_1d(np.asarray(axis)).tolist())
  return _roll_static(a, tuple(np.atleast_1d(shifts).tolist()), axes)


@staged_jit(static_argnums=(1, 2))
def _roll_static(a, shift, axis):
  """JAX's: per axis, the tail from (-s) mod n, then the head (an empty one at s = 0),
  slices with explicit unit strides (its jaxprs print strides=(1, ...))."""
  for ax, s in zip(*np.broadcast_arrays(axis, shift)):
    n = a.shape[ax]
    if n == 0:
      continue
    i = int(-s) % n
    a = slicing.concatenate([_unit_slice(a, i, n, int(ax)), _unit_slice(a, 0, i, int(ax))],
                            int(ax))
  return a


def _unit_slice(a, start, limit, axis):
  starts, limits = [0] * a.ndim, list(a.shape)
  starts[axis], limits[axis] = start, limit
  return slicing.slice_p.bind(a, start_indices=tuple(starts), limit_indices=tuple(limits),
                              strides=(1,) * a.ndim)


def _roll_dynamic(a, shift, axis):
  if axis is None:
    return reshape(_roll_dynamic(ravel(a), shift, 0), a.shape)
  shift = _asarray(shift)
  if not dtypes.issubdtype(shift.dtype, np.integer):
    raise TypeError(f"jnp.roll: shift must be an integer, got {shift.dtype}")
  axes = np.atleast_1d(np.asarray(axis))
  shape = np.broadcast_shapes(shift.shape, axes.shape, (1,))
  if len(shape) != 1:
    raise ValueError("'shift' and 'axis' arguments to roll must be scalars or 1D arrays")
  shifts = _broadcast_to(shift, shape)
  for k, ax in enumerate(np.broadcast_to(axes, shape).tolist()):
    ax = canonicalize_axis(ax, a.ndim)
    n = a.shape[ax]
    if n == 0:
      continue
    s = ufuncs.remainder(lax._convert_element_type(shifts[k], np.dtype(np.int32)),
                         np.int32(n))
    a = slicing.dynamic_slice_in_dim(slicing.concatenate([a, a], ax),
                                     ufuncs.subtract(np.int32(n), s), n, ax)
  return a


@staged_jit(static_argnames=('k', 'axes'))
def rot90(m, k=1, axes=(0, 1)):
  check_arraylike("rot90", m)
  m = _asarray(m)
  if len(axes) != 2:
    raise ValueError("len(axes) must be 2.")
  if m.ndim < 2:
    raise ValueError(f"rot90 requires its first argument to have ndim at least two, but "
                     f"got first argument of shape {m.shape}, which has ndim {m.ndim}")
  ax1, ax2 = (canonicalize_axis(ax, m.ndim) for ax in axes)
  if ax1 == ax2:
    raise ValueError("Axes must be different")
  k = _static_int(k, "k argument of jnp.rot90()") % 4
  if k == 0:
    return m
  if k == 2:
    return flip(flip(m, ax1), ax2)
  perm = list(range(m.ndim))
  perm[ax1], perm[ax2] = perm[ax2], perm[ax1]
  if k == 1:
    return lax.transpose(flip(m, ax2), perm)
  return flip(lax.transpose(m, perm), ax2)


def _atleast(name, n, arys):
  out = []
  for x in arys:
    check_arraylike(name, x)
    x = array(x, copy=False)
    if x.ndim < n:
      if n == 3 and x.ndim == 1:
        x = lax.reshape(x, (1, x.shape[0], 1))
      elif n == 3 and x.ndim == 2:
        x = lax.reshape(x, (*x.shape, 1))
      else:
        x = lax.reshape(x, (1,) * (n - x.ndim) + x.shape)
    out.append(x)
  return out[0] if len(out) == 1 else out


@staged_jit
def atleast_1d(*arys):
  return _atleast("atleast_1d", 1, arys)


@staged_jit
def atleast_2d(*arys):
  return _atleast("atleast_2d", 2, arys)


@staged_jit
def atleast_3d(*arys):
  return _atleast("atleast_3d", 3, arys)


def _seq(tup, name):
  if isinstance(tup, (ArrayImpl, Tracer, np.ndarray)):
    return [tup[i] for i in range(tup.shape[0])] if not isinstance(tup, np.ndarray) \
        else list(tup)
  tup = list(tup)
  check_arraylike(name, *tup)  # (JAX's message names the stacking function)
  return tup


def hstack(tup, dtype=None):
  arrs = [atleast_1d(a) for a in _seq(tup, "hstack")]
  return concatenate(arrs, 0 if arrs and arrs[0].ndim == 1 else 1, dtype=dtype)


def vstack(tup, dtype=None):
  return concatenate([atleast_2d(a) for a in _seq(tup, "vstack")], 0, dtype=dtype)


def dstack(tup, dtype=None):
  return concatenate([atleast_3d(a) for a in _seq(tup, "dstack")], 2, dtype=dtype)


def column_stack(tup):
  arrs = []
  for a in _seq(tup, "column_stack"):
    a = _asarray(a)
    arrs.append(lax.reshape(a, (a.size, 1)) if a.ndim < 2 else a)
  return concatenate(arrs, 1)


@staged_jit(static_argnames=('axis',))
def append(arr, values, axis=None):
  if axis is None:
    return concatenate([ravel(arr), ravel(values)], 0)
  return concatenate([arr, values], axis)


def _pad_pairs(pad_width, ndim, name="pad_width"):
  pw = core.concrete_or_error(np.asarray, pad_width, f"{name} argument of jnp.pad")
  if pw.dtype.kind not in "iu" and pw.size and not np.all(pw == np.round(pw)):
    raise TypeError(f"`{name}` must be of integral type.")
  if pw.size == 0 and ndim:
    raise ValueError(f"jnp.pad: {name} has invalid shape {pw.shape}")
  try:
    pw = np.broadcast_to(pw.astype(np.int64) if pw.size else np.zeros((ndim, 2), np.int64),
                         (ndim, 2))
  except ValueError:
    raise ValueError(f"jnp.pad: {name} with nd={ndim} has unsupported shape "
                     f"{np.shape(pad_width)}. Valid shapes are ({ndim}, 2), (1, 2), (2,), "
                     f"(1,), or ().") from None
  return [(int(b), int(a)) for b, a in pw]


def pad(array, pad_width, mode="constant", **kwargs):
  """Pads an array; modes constant, edge, reflect, symmetric, wrap, empty, maximum,
  minimum, mean and linear_ramp (static pad widths)."""
  check_arraylike("pad", array)
  a = _asarray(array)
  pairs = _pad_pairs(pad_width, a.ndim)
  if builtins.any(b < 0 or e < 0 for b, e in pairs):
    raise ValueError("index can't contain negative values")
  allowed = {"constant": {"constant_values"}, "edge": set(), "empty": set(),
             "reflect": {"reflect_type"}, "symmetric": {"reflect_type"}, "wrap": set(),
             "maximum": {"stat_length"}, "minimum": {"stat_length"},
             "mean": {"stat_length"}, "median": {"stat_length"},
             "linear_ramp": {"end_values"}}
  if callable(mode):
    raise NotImplementedError("jnp.pad with a callable mode is not implemented in pyjax")
  if mode not in allowed:
    raise NotImplementedError(f"Unimplemented padding mode '{mode}' for np.pad.")
  bad = set(kwargs) - allowed[mode]
  if bad:
    raise ValueError(f"unsupported keyword arguments for mode '{mode}': {bad}")
  if mode in ("constant", "empty"):
    cv = kwargs.get("constant_values", 0) if mode == "constant" else 0
    cvs = _asarray(cv)
    if cvs.ndim == 0:
      cvs = lax._convert_element_type(cvs, a.dtype, a.weak_type)
      if builtins.all(b == 0 and e == 0 for b, e in pairs):
        return a
      return _pad_const(a, cvs, pairs)
    cvs = core.concrete_or_error(np.asarray, cv, "jnp.pad: constant_values")
    cvs = np.broadcast_to(cvs, (a.ndim, 2))
    for ax, ((b, e), (vb, ve)) in enumerate(zip(pairs, cvs)):
      a = _pad_axis_const(a, vb, ax, b, 0)
      a = _pad_axis_const(a, ve, ax, 0, e)
    return a
  if mode in ("edge", "reflect", "symmetric", "wrap"):
    rt = kwargs.get("reflect_type", "even")
    if rt != "even":
      raise NotImplementedError("jnp.pad: only reflect_type='even' is implemented in pyjax")
    for ax, (b, e) in enumerate(pairs):
      if b == 0 and e == 0:
        continue
      n = a.shape[ax]
      if n == 0:
        raise ValueError(f"Cannot apply '{mode}' padding to empty axis")
      idx = np.pad(np.arange(n), (b, e), mode=mode)
      a = _take_static(a, idx, ax)
    return a
  if mode == "linear_ramp":
    ev = np.broadcast_to(np.asarray(kwargs.get("end_values", 0)), (a.ndim, 2))
    for ax, (b, e) in enumerate(pairs):
      n = a.shape[ax]
      parts = []
      if b:
        edge = _slice_axis(a, 0, 1, ax)
        parts.append(_ramp(edge, ev[ax][0], b, ax, True))
      parts.append(a)
      if e:
        edge = _slice_axis(a, n - 1, n, ax)
        parts.append(_ramp(edge, ev[ax][1], e, ax, False))
      a = slicing.concatenate(parts, ax) if len(parts) > 1 else a
    return a
  red = {"maximum": reductions.max, "minimum": reductions.min, "mean": reductions.mean,
         "median": reductions.median}[mode]
  sl = kwargs.get("stat_length", None)
  sls = None if sl is None else np.broadcast_to(np.asarray(sl), (a.ndim, 2))
  for ax, (b, e) in enumerate(pairs):
    n = a.shape[ax]
    parts = []
    for side, w in ((0, b), (1, e)):
      if not w:
        continue
      L = n if sls is None else builtins.max(1, builtins.min(int(sls[ax][side]), n))
      chunk = _slice_axis(a, 0, L, ax) if side == 0 else _slice_axis(a, n - L, n, ax)
      v = red(chunk, axis=ax, keepdims=True)
      if mode in ("mean", "median") and a.dtype.kind in "iub":
        v = lax._convert_element_type(ufuncs.rint(v), a.dtype)
      v = lax._convert_element_type(v, a.dtype, a.weak_type)
      shp = list(a.shape)
      shp[ax] = w
      parts.append((side, broadcast_to(v, tuple(shp))))
    out = [p for s, p in parts if s == 0] + [a] + [p for s, p in parts if s == 1]
    a = slicing.concatenate(out, ax) if len(out) > 1 else a
  return a


def _ramp(edge, end, w, ax, before):
  """Linear ramp of width ``w`` between ``end`` and ``edge`` along ``ax``."""
  comp = dtypes.to_inexact_dtype(edge.dtype)
  shp = list(edge.shape)
  shp[ax] = w
  shp = tuple(shp)
  i = lax.broadcasted_iota(comp, shp, ax)
  e = broadcast_to(lax._convert_element_type(edge, comp), shp)
  endv = lax.full(shp, end, comp)
  if before:   # end + (edge - end) * i / w
    out = lax.add(endv, lax.div(lax.mul(lax.sub(e, endv), i), lax.full(shp, w, comp)))
  else:        # edge + (end - edge) * (i + 1) / w
    out = lax.add(e, lax.div(lax.mul(lax.sub(endv, e), lax.add(i, lax.full(shp, 1, comp))),
                             lax.full(shp, w, comp)))
  if edge.dtype.kind in "iub":
    out = ufuncs.trunc(out)
  return lax._convert_element_type(out, edge.dtype, edge.weak_type)


def diagonal(a, offset=0, axis1: int = 0, axis2: int = 1):
  """The given diagonal, moved to the last axis (built from reshape and a strided slice)."""
  check_arraylike("diagonal", a)
  a = _asarray(a)
  if a.ndim < 2:
    raise ValueError("diagonal requires an array of at least two dimensions.")
  offset = _static_int(offset, "offset argument of jnp.diagonal()")
  ax1, ax2 = canonicalize_axis(axis1, a.ndim), canonicalize_axis(axis2, a.ndim)
  if ax1 == ax2:
    raise TypeError(f"diagonal requires two different axes, got axis1={axis1} and "
                    f"axis2={axis2}.")
  perm = [i for i in range(a.ndim) if i not in (ax1, ax2)] + [ax1, ax2]
  a = lax.transpose(a, perm)
  n, m = a.shape[-2:]
  batch = a.shape[:-2]
  length = builtins.max(0, builtins.min(n, m - offset) if offset >= 0 else
                        builtins.min(n + offset, m))
  if length == 0:
    return lax.full((*batch, 0), 0, a.dtype) if not a.weak_type else \
        lax._convert_element_type(lax.full((*batch, 0), 0, a.dtype), a.dtype, True)
  flat = lax.reshape(a, (*batch, n * m))
  start = offset if offset >= 0 else -offset * m
  stop = start + (length - 1) * (m + 1) + 1
  return _slice_axis(flat, start, stop, len(batch), m + 1)


def diag(v, k=0):
  check_arraylike("diag", v)
  v = _asarray(v)
  k = _static_int(k, "k argument of jnp.diag()")
  if v.ndim == 2:
    return diagonal(v, k)
  if v.ndim != 1:
    raise ValueError("diag input must be 1d or 2d")
  vb = lax.broadcast_in_dim(v, (v.shape[0], v.shape[0]), (1,))
  mask = eye(v.shape[0], dtype=bool)
  m = lax.select(mask, vb, lax.full_like(vb, 0))
  pairs = [(builtins.max(-k, 0), builtins.max(k, 0)), (builtins.max(k, 0), builtins.max(-k, 0))]
  return _pad_const(m, 0, pairs)


def diagflat(v, k=0):
  check_arraylike("diagflat", v)
  v = ravel(v)  # JAX's: scattered into strongly typed zeros
  return diag(lax._convert_element_type(v, v.dtype, False), k)


def trace(a, offset=0, axis1: int = 0, axis2: int = 1, dtype=None, out=None):
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.trace is not supported.")
  return reductions.sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def _tri_select(name, m, k, lower):
  check_arraylike(name, m)
  m = _asarray(m)
  if m.ndim < 2:
    raise ValueError(f"Argument to jax.numpy.{name} must be at least 2D")
  k = _static_int(k, f"k argument of jnp.{name}()")
  N, M = m.shape[-2:]
  mask = _tri_mask(N, M, k if lower else k - 1)
  if not lower:
    mask = lax.bitwise_not(mask)
  mask = lax.broadcast_in_dim(mask, m.shape, (m.ndim - 2, m.ndim - 1))
  return lax.select(mask, m, lax.full_like(m, 0))


@staged_jit(static_argnames=('k',))
def tril(m, k=0):
  return _tri_select("tril", m, k, True)


@staged_jit(static_argnames=('k',))
def triu(m, k=0):
  return _tri_select("triu", m, k, False)


def delete(arr, obj, axis=None, *, assume_unique_indices: bool = False):
  check_arraylike("delete", arr)
  a = _asarray(arr)
  if axis is None:
    a = ravel(a)
    axis = 0
  axis = canonicalize_axis(axis, a.ndim)
  n = a.shape[axis]
  if isinstance(obj, slice):
    drop = np.arange(n)[obj]
  elif isinstance(obj, (list, tuple)):
    raise TypeError(f"delete requires ndarray or scalar arguments, got {type(obj)} at "
                    f"position 1.")
  else:
    drop = core.concrete_or_error(np.asarray, obj, "jnp.delete(arr, obj): obj must be static")
    if drop.dtype == np.bool_:
      raise ValueError("boolean obj is not supported by jnp.delete in pyjax")
    if np.any((drop < -n) | (drop >= n)):
      raise IndexError(f"index out of bounds for axis {axis} with size {n}")
    drop = np.where(drop < 0, drop + n, drop)
  keep = np.setdiff1d(np.arange(n), drop)
  return _take_static(a, keep, axis)


def rollaxis(a, axis: int, start=0):
  a = _asarray(a)
  axis = canonicalize_axis(axis, a.ndim)
  start = canonicalize_axis(start, a.ndim + 1)
  if start > axis:
    start -= 1
  return moveaxis(a, axis, start)


def fill_diagonal(a, val, wrap: bool = False, *, inplace: bool = True):
  if inplace:
    raise NotImplementedError("JAX arrays are immutable; use fill_diagonal(..., inplace=False)")
  a = _asarray(a)
  if a.ndim < 2:
    raise ValueError("array must be at least 2-d")
  if a.ndim > 2 and len(set(a.shape)) != 1:
    raise ValueError("All dimensions of input must be of equal length")
  n = builtins.min(a.shape)
  mask = lax.full(a.shape, True, np.bool_)
  for d in range(a.ndim):
    mask = lax.bitwise_and(mask, lax.eq(lax.broadcasted_iota(np.int32, a.shape, d),
                                        lax.broadcasted_iota(np.int32, a.shape, 0)))
  v = _asarray(val)
  if v.ndim == 0:
    return where(mask, lax._convert_element_type(v, a.dtype), a)
  v = ravel(v)
  vals = tile(v, -(-n // v.shape[0]))
  vals = _slice_axis(vals, 0, n, 0)
  vb = lax.broadcast_in_dim(vals, a.shape, (0,))
  return where(mask, lax._convert_element_type(vb, a.dtype), a)


def unstack(x, /, *, axis: int = 0):
  x = _asarray(x)
  axis = canonicalize_axis(axis, x.ndim)
  return tuple(lax.squeeze(_slice_axis(x, i, i + 1, axis), (axis,))
               for i in range(x.shape[axis]))


def block(arrays):
  def depth(a):
    return 1 + depth(a[0]) if isinstance(a, list) and a else (1 if isinstance(a, list) else 0)
  d = depth(arrays)

  def rec(a, level):
    if not isinstance(a, list):
      return _asarray(a)
    parts = [rec(x, level + 1) for x in a]
    nd = builtins.max([d] + [p.ndim for p in parts])
    parts = [lax.reshape(p, (1,) * (nd - p.ndim) + p.shape) for p in parts]
    return concatenate(parts, axis=level - d)

  if not isinstance(arrays, list):
    return _asarray(arrays)
  return rec(arrays, 0)


def resize(a, new_shape):
  a = ravel(a)
  new_shape = _shape_arg(new_shape, "resize")
  n = int(np.prod(new_shape))
  if a.shape[0] == 0 or n == 0:
    return zeros(new_shape, a.dtype)
  reps = -(-n // a.shape[0])
  return reshape(_slice_axis(tile(a, reps), 0, n, 0), new_shape)


def insert(arr, obj, values, axis=None):
  """Inserts values before static indices ``obj``."""
  a = _asarray(arr)
  if axis is None:
    a, axis = ravel(a), 0
  axis = canonicalize_axis(axis, a.ndim)
  n = a.shape[axis]
  if isinstance(obj, slice):
    idx = np.arange(n + 1)[obj]
  else:
    idx = core.concrete_or_error(np.asarray, obj, "jnp.insert: obj must be static in pyjax")
  scalar_idx = idx.ndim == 0
  idx = np.atleast_1d(idx).astype(np.int64)
  idx = np.where(idx < 0, idx + n, idx)
  if np.any((idx < 0) | (idx > n)):
    raise IndexError(f"index out of bounds for axis {axis} with size {n}")
  v = _asarray(values)
  v = lax._convert_element_type(v, a.dtype, a.weak_type)
  shp = list(a.shape)
  if scalar_idx:
    if v.ndim < a.ndim:  # (NumPy's ndmin: leading unit dimensions, then moveaxis)
      v = lax.reshape(v, (1,) * (a.ndim - v.ndim) + v.shape)
    v = moveaxis(v, 0, axis)
    vshape = list(a.shape)
    vshape[axis] = v.shape[axis]
    v = broadcast_to(v, tuple(vshape))
    k = vshape[axis]
    idx = np.full(k, idx[0])
  else:
    k = len(idx)
    shp[axis] = k
    if v.ndim == 1 and a.ndim > 1 and v.shape[0] == k:
      v = lax.broadcast_in_dim(v, tuple(shp), (axis,))
    v = broadcast_to(v, tuple(shp))
  order = np.argsort(np.concatenate([np.arange(n), idx]) +
                     np.concatenate([np.zeros(n), np.full(k, -0.5)]), kind="stable")
  both = concatenate([a, v], axis)
  return _take_static(both, order, axis)


def trim_zeros(filt, trim="fb"):
  f = core.concrete_or_error(np.asarray, filt, "jnp.trim_zeros needs a concrete input")
  if f.ndim != 1:
    raise TypeError(f"trim_zeros requires 1-D input, got shape {f.shape}")
  nz = np.flatnonzero(f != 0)
  if nz.size == 0:
    return _slice_axis(_asarray(filt), 0, 0, 0)
  lo = nz[0] if "f" in trim.lower() else 0
  hi = nz[-1] + 1 if "b" in trim.lower() else f.shape[0]
  return _slice_axis(_asarray(filt), int(lo), int(hi), 0)


# ------------------------------------------------------------ place, put, bits

def _tile_to_size(arr, size):
  """The 1-D ``arr`` repeated (and cut) to ``size`` elements."""
  if arr.shape[0] < size:
    arr = tile(arr, -(-size // arr.shape[0]))
  return _slice_axis(arr, 0, size, 0) if arr.shape[0] > size else arr


def place(arr, mask, vals, *, inplace=True):
  """``arr`` with the elements where ``mask`` holds set to ``vals`` in order (repeated)."""
  check_arraylike("place", arr, mask, vals)
  data, mask, vals = _asarray(arr), _asarray(mask), ravel(_asarray(vals))
  if inplace:
    raise ValueError(
        "jax.numpy.place cannot modify arrays in-place, because JAX arrays are immutable. "
        "Pass inplace=False to instead return an updated array.")
  if data.size != mask.size:
    raise ValueError("place: arr and mask must be the same size")
  if not vals.size:
    raise ValueError("Cannot place values from an empty array")
  if not data.size:
    return data
  indices = where(ravel(mask), size=mask.size, fill_value=mask.size)[0]
  vals = _tile_to_size(vals, indices.shape[0])
  return reshape(ravel(data).at[indices].set(vals, mode="drop"), data.shape)


def put(a, ind, v, mode=None, *, inplace=True):
  """``a`` with the flat positions ``ind`` set to ``v`` (repeated)."""
  if inplace:
    raise ValueError(
        "jax.numpy.put cannot modify arrays in-place, because JAX arrays are immutable. "
        "Pass inplace=False to instead return an updated array.")
  check_arraylike("put", a, ind, v)
  arr, ind, v = _asarray(a), ravel(_asarray(ind)), ravel(_asarray(v))
  if not arr.size or not ind.size or not v.size:
    return arr
  v = _tile_to_size(v, ind.shape[0])
  if mode is None:
    scatter_mode = "drop"
  elif mode == "clip":
    ind = clip(ind, 0, arr.size - 1)
    scatter_mode = "promise_in_bounds"
  elif mode == "wrap":
    ind = ufuncs.remainder(ind, arr.size)
    scatter_mode = "promise_in_bounds"
  elif mode == "raise":
    raise NotImplementedError("The 'raise' mode to jnp.put is not supported.")
  else:
    raise ValueError(f"mode should be one of 'wrap' or 'clip'; got mode={mode!r}")
  return arr.at[unravel_index(ind, arr.shape)].set(v, mode=scatter_mode)


def put_along_axis(arr, indices, values, axis, inplace=True, *, mode=None):
  """``arr`` with ``values`` written at ``indices`` along ``axis`` (the inverse of
  take_along_axis)."""
  if inplace:
    raise ValueError(
        "jax.numpy.put_along_axis cannot modify arrays in-place, because JAX arrays"
        "are immutable. Pass inplace=False to instead return an updated array.")
  check_arraylike("put_along_axis", arr, indices, values)
  arr, indices, values = _asarray(arr), _asarray(indices), _asarray(values)
  original_axis, original_shape = axis, arr.shape
  if axis is None:
    arr, axis = ravel(arr), 0
  if arr.ndim != indices.ndim:
    raise ValueError("put_along_axis arguments 'arr' and 'indices' must have same ndim. "
                     f"Got arr.ndim={arr.ndim} and indices.ndim={indices.ndim}.")
  try:
    values = _broadcast_to(values, indices.shape)
  except ValueError:
    raise ValueError("put_along_axis argument 'values' must be broadcastable to 'indices'. "
                     f"Got values.shape={values.shape} and indices.shape={indices.shape}.")
  axis = canonicalize_axis(axis, arr.ndim)
  idx = []
  for d in range(arr.ndim):
    if d == axis:
      i = indices
      if i.dtype.kind == "i":  # negative indices count from the end, as in indexing
        i = where(ufuncs.less(i, 0), ufuncs.add(i, arr.shape[d]), i)
      idx.append(i)
    else:
      shape = [1] * arr.ndim
      shape[d] = indices.shape[d]
      idx.append(lax.broadcasted_iota(np.int32, tuple(shape), d))
  result = arr.at[tuple(idx)].set(values, mode=mode)
  return reshape(result, original_shape) if original_axis is None else result


def packbits(a, axis=None, bitorder="big"):
  """Packs the truth of the elements into the bits of uint8s (8 a byte, zero-padded)."""
  check_arraylike("packbits", a)
  arr = _asarray(a)
  if arr.dtype.kind not in "iub":
    raise TypeError("Expected an input array of integer or boolean data type")
  if bitorder not in ("little", "big"):
    raise ValueError("'order' must be either 'little' or 'big'")
  # (in int32: IREE's CPU compiler fails on uint8 shifts and sums)
  arr = lax.convert_element_type(lax.ne(arr, lax._const(arr, 0)), np.int32)
  bits = lax.iota(np.int32, 8)
  if bitorder == "big":
    bits = lax.rev(bits, (0,))
  if axis is None:
    arr, axis = ravel(arr), 0
  arr = swapaxes(arr, axis, -1)
  rem = arr.shape[-1] % 8
  if rem:
    arr = _pad_const(arr, 0, [(0, 0)] * (arr.ndim - 1) + [(0, 8 - rem)])
  arr = reshape(arr, arr.shape[:-1] + (arr.shape[-1] // 8, 8))
  bits = lax.broadcast_in_dim(bits, arr.shape, (arr.ndim - 1,))
  packed = lax.convert_element_type(
      lax.reduce_sum(lax.shift_left(arr, bits), (arr.ndim - 1,)), np.uint8)
  return swapaxes(packed, axis, -1)


def unpackbits(a, axis=None, count=None, bitorder="big"):
  """The bits of uint8s as 0/1 uint8s (the inverse of packbits)."""
  check_arraylike("unpackbits", a)
  arr = _asarray(a)
  if arr.dtype != np.uint8:
    raise TypeError("Expected an input array of unsigned byte data type")
  if bitorder not in ("little", "big"):
    raise ValueError("'order' must be either 'little' or 'big'")
  bits = lax.shift_left(lax.full((8,), 1, np.int32), lax.iota(np.int32, 8))
  if bitorder == "big":
    bits = lax.rev(bits, (0,))
  if axis is None:
    arr, axis = ravel(arr), 0
  arr = swapaxes(arr, axis, -1)
  shape = arr.shape + (8,)
  arr = lax.broadcast_in_dim(lax.convert_element_type(arr, np.int32), shape,
                             tuple(range(arr.ndim)))
  bits = lax.broadcast_in_dim(bits, shape, (len(shape) - 1,))
  unpacked = lax.convert_element_type(
      lax.gt(lax.bitwise_and(arr, bits), lax._const(arr, 0)), np.uint8)
  unpacked = reshape(unpacked, unpacked.shape[:-2] + (-1,))
  if count is not None:
    count = _static_int(count, "count argument of jnp.unpackbits")
    if count > unpacked.shape[-1]:
      unpacked = _pad_const(unpacked, 0, [(0, 0)] * (unpacked.ndim - 1)
                            + [(0, count - unpacked.shape[-1])])
    else:
      unpacked = _slice_axis(unpacked, 0, count, unpacked.ndim - 1)
  return swapaxes(unpacked, axis, -1)


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]

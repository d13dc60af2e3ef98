"""jax.numpy's core: array/asarray, shapes and the basic shape operations (reshape,
transpose, broadcasting, concatenate, stack, where), elementwise helpers and dtype
utilities. The other jnp modules build on these."""
from __future__ import annotations

import builtins
import operator

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Tracer
from pyjax._src.lax import lax, slicing
from pyjax._src.lax import sorting as lax_sorting
from pyjax._src.numpy import indexing, reductions, ufuncs
from pyjax._src.numpy.util import _where, staged_jit
from pyjax._src.numpy.util import (array, asarray as _asarray,
                                   broadcast_shapes as _broadcast_shapes, canonicalize_axis,
                                   check_arraylike, promote_dtypes, _broadcast_to)

# ------------------------------------------------------------ creation


def asarray(a, dtype=None, order=None, *, copy=None):
  """Like ``array`` but without copying arrays that already have the dtype."""
  if dtype is None and (type(a) is ArrayImpl or isinstance(a, Tracer)):
    return a
  return array(a, dtype=dtype, copy=bool(copy), order=order)


def _shape_arg(shape, name):
  if isinstance(shape, (int, np.integer)) or (hasattr(shape, "ndim") and shape.ndim == 0
                                             and not isinstance(shape, (list, tuple))):
    shape = (shape,)
  return core.canonicalize_shape(shape)


def _dtype_arg(dtype, name, default=None):
  if dtype is None:
    return dtypes.canonicalize_dtype(default or dtypes.default_float_dtype())
  dtypes.check_user_dtype_supported(dtype, name)
  return dtypes.canonicalize_dtype(dtype)


# ------------------------------------------------------------ shapes


def shape(a):
  return np.shape(a) if not hasattr(a, "shape") else tuple(a.shape)


def ndim(a):
  return len(shape(a))


def size(a, axis=None):
  s = shape(a)
  return int(np.prod(s)) if axis is None else s[axis]


def reshape(a, shape=None, order="C", *, copy=None, out_sharding=None, newshape=None):
  if shape is None:
    shape = newshape
  check_arraylike("reshape", a)
  a = _asarray(a)
  if order not in ("C", "F", "A", "K"):
    raise ValueError(f"Unexpected value for 'order' argument: {order}.")
  if order != "C":
    raise NotImplementedError("jnp.reshape only supports order='C'")
  given = shape  # (JAX's messages show the shape as given)
  if isinstance(shape, (int, np.integer)) or isinstance(shape, (ArrayImpl, Tracer)) and \
      not shape.shape:
    shape = (shape,)
  shape = core.canonicalize_shape(shape)
  neg = [i for i, d in enumerate(shape) if d == -1]
  if len(neg) > 1:
    raise TypeError(f"can only specify one unknown axis size with a `-1` value, got "
                    f"{shape}")
  if neg:
    rest = int(np.prod([d for d in shape if d != -1]))
    if rest == 0 or a.size % rest:
      raise TypeError(f"cannot reshape array of shape {a.shape} (size {a.size}) into "
                      f"shape {shape}")
    shape = tuple(a.size // rest if d == -1 else d for d in shape)
  if int(np.prod(shape)) != a.size:
    raise TypeError(f"cannot reshape array of shape {a.shape} (size {a.size}) into shape "
                    f"{given} (size {int(np.prod(shape))})")
  return lax.reshape(a, shape, out_sharding=out_sharding)


def ravel(a, order="C", *, out_sharding=None):
  check_arraylike("ravel", a)
  a = _asarray(a)
  return lax.reshape(a, (a.size,), out_sharding=out_sharding)


def transpose(a, axes=None):
  check_arraylike("transpose", a)
  a = _asarray(a)
  if axes is None:
    axes = tuple(range(a.ndim - 1, -1, -1))
  axes = tuple(canonicalize_axis(ax, a.ndim) for ax in axes)
  if sorted(axes) != list(range(a.ndim)):
    raise TypeError(f"transpose permutation isn't a permutation of operand dimensions, "
                    f"got permutation {axes} for operand shape {a.shape}.")
  return lax.transpose(a, axes)


def matrix_transpose(x):
  x = _asarray(x)
  if x.ndim < 2:
    raise ValueError(f"x must be at least two-dimensional for matrix_transpose; got "
                     f"ndim={x.ndim}")
  perm = (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2)
  return lax.transpose(x, perm)


def swapaxes(a, axis1, axis2):
  a = _asarray(a)
  perm = list(range(a.ndim))
  i, j = canonicalize_axis(axis1, a.ndim), canonicalize_axis(axis2, a.ndim)
  perm[i], perm[j] = perm[j], perm[i]
  return lax.transpose(a, perm)


def moveaxis(a, source, destination):
  a = _asarray(a)
  src = [canonicalize_axis(s, a.ndim) for s in np.atleast_1d(source)]
  dst = [canonicalize_axis(d, a.ndim) for d in np.atleast_1d(destination)]
  if len(src) != len(dst):
    raise ValueError("Inconsistent number of elements: "
                     f"{len(src)} vs {len(dst)}")
  perm = [i for i in range(a.ndim) if i not in src]
  for d, s in sorted(zip(dst, src)):
    perm.insert(d, s)
  return lax.transpose(a, perm)


def expand_dims(a, axis):
  check_arraylike("expand_dims", a)
  a = _asarray(a)
  axis = core.concrete_or_error(None, axis, "expected a static index or sequence of indices.")
  axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
  nd = a.ndim + len(axes)
  axes = tuple(canonicalize_axis(ax, nd) for ax in axes)
  if len(set(axes)) != len(axes):
    raise ValueError(f"repeated axis in expand_dims: {axis}")
  return lax.expand_dims(a, axes)


def squeeze(a, axis=None):
  check_arraylike("squeeze", a)
  a = _asarray(a)
  if axis is None:
    axes = tuple(i for i, d in enumerate(a.shape) if d == 1)
  else:
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = tuple(canonicalize_axis(ax, a.ndim) for ax in axes)
    for ax in axes:
      if a.shape[ax] != 1:
        raise ValueError(f"cannot select an axis to squeeze out which has size not equal "
                         f"to one, got shape={a.shape} and dimensions={axes}")
  return lax.squeeze(a, axes)


def broadcast_to(array, shape):
  check_arraylike("broadcast_to", array)
  a = _asarray(array)
  shape = _shape_arg(shape, "broadcast_to")
  if a.shape == shape:
    return a
  if a.ndim > len(shape):
    raise ValueError(f"Cannot broadcast to shape with fewer dimensions: arr_shape="
                     f"{a.shape} shape={shape}")
  return _broadcast_to(a, shape)


def broadcast_arrays(*args):
  args = [_asarray(a) for a in args]
  shape = broadcast_shapes(*(a.shape for a in args))
  return [broadcast_to(a, shape) for a in args]


def broadcast_shapes(*shapes):
  return _broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes])


def concatenate(arrays, axis=0, dtype=None):
  if isinstance(arrays, (ArrayImpl, Tracer)):
    return concatenate(list(arrays), axis, dtype)
  if not len(arrays):
    raise ValueError("Need at least one array to concatenate.")
  arrays = [_asarray(a) for a in arrays]
  if axis is None:
    arrays = [ravel(a) for a in arrays]
    axis = 0
  if builtins.any(a.ndim == 0 for a in arrays):
    raise ValueError("Zero-dimensional arrays cannot be concatenated.")
  axis = canonicalize_axis(axis, arrays[0].ndim)
  arrays = promote_dtypes(*arrays)
  if dtype is not None:
    arrays = [lax._convert_element_type(a, dtype) for a in arrays]
  if builtins.any(a.ndim != arrays[0].ndim for a in arrays[1:]):
    raise TypeError(f"Cannot concatenate arrays with different numbers of dimensions: got "
                    f"{', '.join(str(a.shape) for a in arrays)}.")
  return slicing.concatenate(arrays, axis)


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
  """Elementwise selection ``x if condition else y`` (or nonzero with one argument)."""
  if x is None and y is None:
    return indexing.nonzero(condition, size=size, fill_value=fill_value)
  if x is None or y is None:
    raise ValueError("Either both or neither of the x and y arguments should be provided "
                     "to jax.numpy.where, got {} and {}.".format(x, y))
  check_arraylike("where", condition, x, y)
  return _where(condition, x, y)


def astype(x, dtype, /, *, copy=False, device=None):
  check_arraylike("astype", x)
  dtypes.check_user_dtype_supported(dtype, "astype")
  x = _asarray(x)
  return lax._convert_element_type(x, dtype, False)


# ------------------------------------------------------------ static slicing helpers


def _pad_axis_const(a, value, axis, lo, hi):
  """Constant padding of one axis by concatenation (``lo``/``hi`` >= 0)."""
  if not lo and not hi:
    return a
  value = lax._convert_element_type(value, a.dtype, a.weak_type)
  parts = []
  for w in (lo, hi):
    shp = list(a.shape)
    shp[axis] = w
    parts.append(lax.broadcast_in_dim(value, tuple(shp), ()) if w else None)
  return slicing.concatenate([p for p in (parts[0], a, parts[1]) if p is not None], axis)


def _pad_const(a, value, pairs):
  for ax, (lo, hi) in enumerate(pairs):
    a = _pad_axis_const(a, value, ax, lo, hi)
  return a


def _slice_axis(a, start, stop, axis, stride=1):
  return slicing.slice_in_dim(a, start, stop, stride, axis)


def _take_static(a, idx, axis):
  """``a`` indexed along ``axis`` by a static integer sequence, built from slices and
  concatenation (runs of consecutive or reversed indices become one slice each)."""
  idx = [int(i) for i in idx]
  n = a.shape[axis]
  if not idx:
    shp = list(a.shape)
    shp[axis] = 0
    return lax.full(tuple(shp), 0, a.dtype) if not a.weak_type else \
        lax._convert_element_type(lax.full(tuple(shp), 0, a.dtype), a.dtype, True)
  if idx == list(range(n)):
    return a
  pieces, i = [], 0
  while i < len(idx):
    j = i + 1
    step = idx[j] - idx[i] if j < len(idx) and builtins.abs(idx[j] - idx[i]) == 1 else 0
    if step:
      while j < len(idx) and idx[j] - idx[j - 1] == step:
        j += 1
    lo, hi = builtins.min(idx[i], idx[j - 1]), builtins.max(idx[i], idx[j - 1]) + 1
    piece = _slice_axis(a, lo, hi, axis)
    if step == -1:
      piece = lax.rev(piece, (axis,))
    pieces.append(piece)
    i = j
  return pieces[0] if len(pieces) == 1 else slicing.concatenate(pieces, axis)


def _static_int(x, what):
  return core.concrete_or_error(operator.index, x, f"The {what} must be static.")


# ------------------------------------------------------------ elementwise helpers


@staged_jit
def clip(arr=None, /, min=None, max=None):
  """Clips values to ``[min, max]`` (either bound may be None)."""
  check_arraylike("clip", arr)
  if min is not None:
    arr = ufuncs.maximum(min, arr)
  if max is not None:
    arr = ufuncs.minimum(max, arr)
  return _asarray(arr)


@staged_jit(static_argnames=('decimals',))
def round(a, decimals=0, out=None):
  """Rounds half to even, to the given number of decimals."""
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.round is not supported.")
  check_arraylike("round", a)
  a = _asarray(a)
  decimals = _static_int(decimals, "'decimals' argument of jnp.round")
  if a.dtype.kind in "iub":
    if decimals < 0:
      raise NotImplementedError("integer np.round not implemented for decimals < 0")
    return a

  def _round_float(x):
    if decimals == 0:
      return lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)
    comp = np.float32 if x.dtype in (np.float16, dtypes.bfloat16) else x.dtype
    xc = lax._convert_element_type(x, comp, x.weak_type)
    f = lax._convert_element_type(10.0 ** decimals, comp, True)
    r = lax.div(lax.round(lax.mul(xc, f), lax.RoundingMethod.TO_NEAREST_EVEN), f)
    return lax._convert_element_type(r, x.dtype, x.weak_type)

  if a.dtype.kind == "c":
    return lax.complex(_round_float(lax.real(a)), _round_float(lax.imag(a)))
  return _round_float(a)


around = round


@staged_jit(static_argnames=('equal_nan',))
def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan: bool = False):
  check_arraylike("isclose", a, b)
  a, b = promote_dtypes(a, b)
  if a.dtype.kind in "iub":
    return lax._convert_element_type(ufuncs.equal(a, b), np.bool_, False)
  dt = dtypes.finfo(a.dtype).dtype if a.dtype.kind == "c" else a.dtype
  rtol = lax._convert_element_type(rtol, np.dtype(np.real(np.zeros((), dt)).dtype), True) \
      if not isinstance(rtol, (ArrayImpl, Tracer)) else rtol
  atol = lax._convert_element_type(atol, rtol.dtype, True) \
      if not isinstance(atol, (ArrayImpl, Tracer)) else atol
  diff = ufuncs.abs(ufuncs.subtract(a, b))
  tol = ufuncs.add(atol, ufuncs.multiply(rtol, ufuncs.abs(b)))
  out = ufuncs.less_equal(diff, tol)
  fin_a, fin_b = ufuncs.isfinite(a), ufuncs.isfinite(b)
  both_fin = ufuncs.logical_and(fin_a, fin_b)
  # Infinities compare equal only to themselves.
  out = ufuncs.logical_or(ufuncs.logical_and(both_fin, out),
                          ufuncs.logical_and(ufuncs.logical_not(both_fin), ufuncs.equal(a, b)))
  if equal_nan:
    out = ufuncs.logical_or(out, ufuncs.logical_and(ufuncs.isnan(a), ufuncs.isnan(b)))
  return lax._convert_element_type(out, np.bool_, False)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan: bool = False):
  return reductions.all(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1, a2, equal_nan: bool = False):
  try:
    a1, a2 = _asarray(a1), _asarray(a2)
  except Exception:
    return _asarray(False)
  if a1.shape != a2.shape:
    return _asarray(False)
  eq = ufuncs.equal(a1, a2)
  if equal_nan:
    eq = ufuncs.logical_or(eq, ufuncs.logical_and(ufuncs.isnan(a1), ufuncs.isnan(a2)))
  return reductions.all(eq)


def array_equiv(a1, a2):
  a1, a2 = _asarray(a1), _asarray(a2)
  try:
    eq = ufuncs.equal(a1, a2)
  except ValueError:
    return _asarray(False)
  return reductions.all(eq)


@staged_jit
def nan_to_num(x, copy: bool = True, nan=0.0, posinf=None, neginf=None):
  check_arraylike("nan_to_num", x)
  x = _asarray(x)
  if x.dtype.kind not in "fc" and x.dtype != dtypes.bfloat16:
    return x
  if x.dtype.kind == "c":
    return lax.complex(nan_to_num(lax.real(x), nan=nan, posinf=posinf, neginf=neginf),
                       nan_to_num(lax.imag(x), nan=nan, posinf=posinf, neginf=neginf))
  info = dtypes.finfo(x.dtype)
  posinf = info.max if posinf is None else posinf
  neginf = info.min if neginf is None else neginf
  out = where(ufuncs.isnan(x), lax._convert_element_type(nan, x.dtype), x)
  out = where(ufuncs.isposinf(out), lax._convert_element_type(posinf, x.dtype), out)
  out = where(ufuncs.isneginf(out), lax._convert_element_type(neginf, x.dtype), out)
  return out  # JAX's: strongly typed (the replacements are)


# ------------------------------------------------------------ dtype utilities


def iscomplexobj(x):
  if x is None:
    return False
  try:
    typ = x.dtype.type
  except AttributeError:
    typ = _asarray(x).dtype.type
  return issubclass(typ, np.complexfloating)


def isrealobj(x):
  return not iscomplexobj(x)


@staged_jit
def iscomplex(x):
  x = _asarray(x)
  i = ufuncs.imag(x)
  return lax.ne(i, lax._const(i, 0))


@staged_jit
def isreal(x):
  x = _asarray(x)
  i = ufuncs.imag(x)
  return lax.eq(i, lax._const(i, 0))


def isscalar(element):
  if np.isscalar(element):
    return True
  if isinstance(element, (np.ndarray, ArrayImpl, Tracer)):
    return element.ndim == 0
  if hasattr(element, "__jax_array__"):
    element = element.__jax_array__()
    return isinstance(element, (np.ndarray, ArrayImpl, Tracer)) and element.ndim == 0
  return False


def result_type(*args):
  return dtypes.result_type(*args)


def promote_types(a, b):
  return dtypes.promote_types(a, b)


def can_cast(from_, to, casting="safe"):
  if isinstance(from_, (ArrayImpl, Tracer)):
    from_ = from_.dtype
  return np.can_cast(from_, to, casting=casting)


def copy(a, order=None):
  return array(a, copy=True, order=order)


def iterable(y):
  try:
    iter(y)
  except TypeError:
    return False
  return True


def select(condlist, choicelist, default=0):
  if len(condlist) != len(choicelist):
    raise ValueError(f"condlist must have length equal to choicelist ({len(condlist)} vs "
                     f"{len(choicelist)})")
  if len(condlist) == 0:
    raise ValueError("condlist must be non-empty")
  out = default
  for c, v in reversed(list(zip(condlist, choicelist))):
    c = _asarray(c)
    if c.dtype != np.bool_:
      raise TypeError(f"condlist must be a list of boolean arrays, got {c.dtype}")
    out = where(c, v, out)
  return _asarray(out)


# ------------------------------------------------------------ array-API aliases and extras


def concat(arrays, /, *, axis=0):
  return concatenate(arrays, axis)


def permute_dims(a, /, axes):
  return transpose(a, axes)


def array_repr(arr, max_line_width=None, precision=None, suppress_small=None):
  return repr(arr)


def array_str(a, max_line_width=None, precision=None, suppress_small=None):
  return np.array_str(np.asarray(a), max_line_width, precision, suppress_small)


def choose(a, choices, out=None, mode="raise"):
  """``choices[a]`` elementwise via select_n (``mode='raise'`` needs concrete ``a``)."""
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.choose is not supported.")
  a = _asarray(a)
  choices = [_asarray(c) for c in choices]
  n = len(choices)
  if mode == "raise":
    av = core.concrete_or_error(np.asarray, a, "The error occurred because jnp.choose was "
                                "jit-compiled with mode='raise'. Use mode='wrap' or 'clip'.")
    if np.any((av < 0) | (av >= n)):
      raise ValueError("invalid entry in choice array")
  elif mode == "wrap":
    a = ufuncs.remainder(a, n)
  elif mode == "clip":
    a = clip(a, 0, n - 1)
  else:
    raise ValueError(f"mode={mode!r} not understood. Must be 'raise', 'wrap', or 'clip'")
  choices = promote_dtypes(*choices) if n > 1 else choices
  arrs = broadcast_arrays(a, *choices)
  return lax.select_n(lax._convert_element_type(arrs[0], np.int32), *arrs[1:])


def compress(condition, a, axis=None, *, size=None, fill_value=0, out=None):
  if size is not None and isinstance(condition, Tracer):
    return _compress_traced(condition, a, axis, size, fill_value)
  cond = core.concrete_or_error(np.asarray, condition, "jnp.compress needs a static condition")
  a = _asarray(a)
  if axis is None:
    a, axis = ravel(a), 0
  axis = canonicalize_axis(axis, a.ndim)
  cond = cond.astype(bool).ravel()[:a.shape[axis]]
  idx = np.flatnonzero(cond)
  out = _take_static(a, idx, axis)
  if size is not None:
    n = out.shape[axis]
    if n > size:
      out = _slice_axis(out, 0, size, axis)
    elif n < size:
      out = _pad_axis_const(out, fill_value, axis, 0, size - n)
  return out


def _compress_traced(condition, a, axis, size, fill_value):
  """A traced condition with a static size, as JAX: the kept rows first (in order), then
  fill_value rows."""
  a = _asarray(a)
  a = ravel(a) if axis is None else moveaxis(a, axis, 0)
  c = lax._convert_element_type(ravel(condition), np.bool_)[:a.shape[0]]
  a = a[:c.shape[0]]
  if not 0 <= size <= a.shape[0]:
    raise ValueError("size must be positive and not greater than the size of the array "
                     f"axis; got size={size} for a.shape[axis]={a.shape[0]}")
  a = lax.select(lax.broadcast_in_dim(c, a.shape, (0,)), a, lax.full_like(a, fill_value))
  key = lax._convert_element_type(lax.bitwise_not(c), np.int32)
  _, perm = lax_sorting.sort((key, lax.iota(np.int32, c.shape[0])), 0, True, 1)
  out = a[perm[:size]]
  return out if axis is None else moveaxis(out, 0, axis)


def extract(condition, arr, *, size=None, fill_value=0):
  return compress(ravel(condition), ravel(arr), size=size, fill_value=fill_value)


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]

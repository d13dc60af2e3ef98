"""jax.numpy: array creation, shape manipulation and linear-algebra basics."""
from __future__ import annotations

import builtins
import operator
from typing import Sequence

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.core import Tracer
from pyjax._src.lax import lax
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.util import (asarray as _asarray, canonicalize_axis, check_arraylike,
                                   promote_dtypes, promote_shapes, _broadcast_to)

# ------------------------------------------------------------ creation


def _is_traced_seq(obj):
  if isinstance(obj, (list, tuple)):
    return builtins.any(_is_traced_seq(o) for o in obj)
  return isinstance(obj, Tracer)


def array(object, dtype=None, copy=True, order="K", ndmin=0):
  """Creates an array; Python scalars give weakly typed results as in JAX."""
  if order not in ("K", "C", None):
    raise NotImplementedError("Only implemented for order='K' or 'C'")
  if dtype is not None:
    dtypes.check_user_dtype_supported(dtype, "array")
  weak = dtype is None and dtypes.is_weakly_typed(object)
  if isinstance(object, (ArrayImpl, Tracer)):
    out = object
  elif hasattr(object, "__jax_array__"):
    out = _asarray(object.__jax_array__())
  elif isinstance(object, (list, tuple)):
    if not object:
      out = asarray_value(np.array([], dtype=dtypes.default_float_dtype() if dtype is None
                                   else dtypes.canonicalize_dtype(dtype)))
    elif _is_traced_seq(object):
      out = stack([array(o) for o in object])
    else:
      leaves = _flatten_nested(object)
      if builtins.any(isinstance(l, ArrayImpl) for l in leaves):
        out = stack([array(o) for o in object])
      else:
        np_val = np.array(object) if dtype is None else np.array(object, dtype=dtype)
        if np_val.dtype == np.dtype("O"):
          raise TypeError(f"JAX only supports number and bool dtypes, got dtype object "
                          f"in array")
        if dtype is None:
          dt, w = dtypes.result_type(*leaves, return_weak_type_flag=True)
          np_val = np_val.astype(dt)
        out = asarray_value(np_val)
  else:
    if type(object) in (bool, int, float, complex):
      if dtype is not None and type(object) is int:  # range-check against dtype itself
        out = asarray_value(object, dtypes.canonicalize_dtype(dtype))
      else:
        out = _asarray(object)
      weak = dtype is None and type(object) is not bool
    else:
      if isinstance(object, (np.ndarray, np.generic)) and object.dtype == np.dtype("O"):
        raise TypeError("JAX only supports number and bool dtypes, got dtype object in array")
      out = asarray_value(np.asarray(object))
  if dtype is not None:
    out = lax._convert_element_type(out, dtypes.canonicalize_dtype(dtype), weak)
  elif not weak and out.weak_type:
    out = lax._convert_element_type(out, out.dtype, False)
  elif copy and type(out) is ArrayImpl and out is object:
    out = ArrayImpl(out._value, out.weak_type)
  if ndmin > out.ndim:
    out = lax.expand_dims(out, tuple(range(ndmin - out.ndim)))
  return out


def _flatten_nested(obj):
  out = []
  stack_ = [obj]
  while stack_:
    o = stack_.pop()
    if isinstance(o, (list, tuple)):
      stack_.extend(reversed(o))
    else:
      out.append(o)
  return out


def asarray(a, dtype=None, order=None, *, copy=None):
  """Like ``array`` but without copying arrays that already have the dtype."""
  if dtype is None and (type(a) is ArrayImpl or isinstance(a, Tracer)):
    return a
  return array(a, dtype=dtype, copy=bool(copy), order=order)


def _shape_arg(shape, name):
  if isinstance(shape, (int, np.integer)) or (hasattr(shape, "ndim") and shape.ndim == 0
                                             and not isinstance(shape, (list, tuple))):
    shape = (shape,)
  try:
    return tuple(core.concrete_or_error(operator.index, d,
                                        f"The shape argument to jnp.{name} must be static.")
                 for d in shape)
  except TypeError as e:
    if isinstance(e, core.ConcretizationTypeError):
      raise
    raise TypeError(f"Shapes must be 1D sequences of concrete values of integer type, "
                    f"got {shape}.") from None


def _dtype_arg(dtype, name, default=None):
  if dtype is None:
    return dtypes.canonicalize_dtype(default or dtypes.default_float_dtype())
  dtypes.check_user_dtype_supported(dtype, name)
  return dtypes.canonicalize_dtype(dtype)


def zeros(shape, dtype=None, *, device=None, out_sharding=None):
  shape = _shape_arg(shape, "zeros")
  if builtins.any(d < 0 for d in shape):
    raise ValueError(f"negative dimensions are not allowed, got shape {shape}")
  return lax.full(shape, 0, _dtype_arg(dtype, "zeros"))


def ones(shape, dtype=None, *, device=None, out_sharding=None):
  shape = _shape_arg(shape, "ones")
  if builtins.any(d < 0 for d in shape):
    raise ValueError(f"negative dimensions are not allowed, got shape {shape}")
  return lax.full(shape, 1, _dtype_arg(dtype, "ones"))


def empty(shape, dtype=None, *, device=None, out_sharding=None):
  return zeros(shape, dtype)


def full(shape, fill_value, dtype=None, *, device=None):
  shape = _shape_arg(shape, "full")
  if dtype is not None:
    dtypes.check_user_dtype_supported(dtype, "full")
  fill_value = _asarray(fill_value) if not isinstance(fill_value, (int, float, complex, bool)) \
      else fill_value
  if getattr(fill_value, "ndim", 0) == 0:
    return lax.full(shape, fill_value, dtype)
  fv = fill_value if dtype is None else lax._convert_element_type(fill_value, dtype)
  return broadcast_to(fv, shape)


def _like(name, value):
  def fn(a, dtype=None, shape=None, *, device=None):
    check_arraylike(name, a)
    if dtype is not None:
      dtypes.check_user_dtype_supported(dtype, name)
    a = _asarray(a)
    return lax.full_like(a, value, dtype, None if shape is None else _shape_arg(shape, name))
  fn.__name__ = name
  return fn


zeros_like = _like("zeros_like", 0)
ones_like = _like("ones_like", 1)
empty_like = _like("empty_like", 0)


def full_like(a, fill_value, dtype=None, shape=None, *, device=None):
  check_arraylike("full_like", a)
  a = _asarray(a)
  fv = _asarray(fill_value)
  if fv.ndim == 0:
    return lax.full_like(a, fill_value, dtype,
                         None if shape is None else _shape_arg(shape, "full_like"))
  out_shape = a.shape if shape is None else _shape_arg(shape, "full_like")
  return broadcast_to(lax._convert_element_type(fv, dtype or a.dtype), out_shape)


def arange(start, stop=None, step=None, dtype=None, *, device=None):
  """Evenly spaced values; arguments must be concrete."""
  if dtype is not None:
    dtypes.check_user_dtype_supported(dtype, "arange")
  ctx = "It arose in the jnp.arange argument '{}'."
  start = core.concrete_or_error(None, start, ctx.format("start"))
  stop = None if stop is None else core.concrete_or_error(None, stop, ctx.format("stop"))
  step = None if step is None else core.concrete_or_error(None, step, ctx.format("step"))
  args = [a for a in (start, stop, step) if a is not None]
  for a in args:
    if np.ndim(a) != 0:
      raise ValueError(f"jax.numpy.arange: arguments must be scalars; got {a}")
  if dtype is None:
    dtype = dtypes.result_type(*(np.asarray(a) if isinstance(a, ArrayImpl) else a
                                 for a in args))
  dtype = dtypes.canonicalize_dtype(dtype)
  vals = [np.asarray(a).item() if isinstance(a, (ArrayImpl, np.ndarray, np.generic)) else a
          for a in (start, stop, step)]
  if stop is None and step is None:
    n = vals[0]
    if dtype.kind in "iu" and n == int(n) and n >= 0:
      return lax.iota(dtype, int(np.ceil(n)))
    return _asarray(np.arange(n, dtype=dtype))
  return _asarray(np.arange(*[v for v in vals if v is not None] if step is not None else
                            vals[:2], dtype=dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0,
             *, device=None):
  num = core.concrete_or_error(operator.index, num, "'num' argument of jnp.linspace")
  if num < 0:
    raise ValueError(f"Number of samples, {num}, must be non-negative.")
  if dtype is not None:
    dtypes.check_user_dtype_supported(dtype, "linspace")
  start, stop = _asarray(start), _asarray(stop)
  dt = dtypes.to_inexact_dtype(dtypes.result_type(start, stop)) if dtype is None else \
      dtypes.canonicalize_dtype(dtype)
  comp = dtypes.to_inexact_dtype(dt)
  start, stop = lax._convert_element_type(start, comp), lax._convert_element_type(stop, comp)
  bshape = promote_shapes("linspace", start, stop)
  start, stop = bshape
  div = (num - 1) if endpoint else num
  shape = start.shape
  if num > 1:
    delta = lax.div(lax.sub(stop, start), lax._convert_element_type(div, comp))
    it = lax.broadcasted_iota(comp, (num, *shape), 0)
    out = lax.add(lax.broadcast_in_dim(start, (num, *shape), tuple(range(1, len(shape) + 1))),
                  lax.mul(it, lax.broadcast_in_dim(delta, (num, *shape),
                                                   tuple(range(1, len(shape) + 1)))))
    if endpoint:
      # Make the last sample exactly ``stop``.
      last = lax.broadcast_in_dim(stop, (1, *shape), tuple(range(1, len(shape) + 1)))
      out = lax.concatenate([lax.slice_in_dim(out, 0, num - 1), last], 0) \
          if hasattr(lax, "slice_in_dim") else _set_last(out, last)
  elif num == 1:
    delta = lax.sub(stop, start) if not endpoint else lax.full_like(start, np.nan)
    out = lax.broadcast_in_dim(start, (1, *shape), tuple(range(1, len(shape) + 1)))
  else:
    delta = lax.full_like(start, np.nan)
    out = lax.full((0, *shape), 0, comp)
  out = moveaxis(out, 0, axis) if axis else out
  if dt.kind in "iu":
    out = lax.floor(out)
  out = lax._convert_element_type(out, dt)
  return (out, delta) if retstep else out


def _set_last(out, last):
  from pyjax._src.lax import slicing
  return lax.concatenate([slicing.slice_in_dim(out, 0, out.shape[0] - 1), last], 0)


def eye(N, M=None, k=0, dtype=None, *, device=None):
  N = core.concrete_or_error(operator.index, N, "'N' argument of jnp.eye()")
  M = N if M is None else core.concrete_or_error(operator.index, M, "'M' argument of jnp.eye()")
  if N < 0 or M < 0:
    raise ValueError(f"negative dimensions are not allowed, got {N} and {M}")
  k = operator.index(k)
  dt = _dtype_arg(dtype, "eye")
  rows = lax.broadcasted_iota(np.int32, (N, M), 0)
  cols = lax.broadcasted_iota(np.int32, (N, M), 1)
  return lax.convert_element_type(lax.eq(lax.add(rows, lax._const(rows, k)), cols), dt)


def identity(n, dtype=None):
  return eye(n, dtype=dtype)


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
  if order != "C":
    raise NotImplementedError("jnp.reshape only supports order='C'")
  if isinstance(shape, (int, np.integer)) or isinstance(shape, (ArrayImpl, Tracer)) and \
      not shape.shape:
    shape = (shape,)
  shape = tuple(core.concrete_or_error(operator.index, d,
                                       "The shape argument to jnp.reshape must be static.")
                for d in shape)
  neg = [i for i, d in enumerate(shape) if d == -1]
  if len(neg) > 1:
    raise ValueError("can only specify one unknown dimension")
  if neg:
    rest = int(np.prod([d for d in shape if d != -1]))
    if rest == 0 or a.size % rest:
      raise TypeError(f"cannot reshape array of shape {a.shape} (size {a.size}) into "
                      f"shape {shape}")
    shape = tuple(a.size // rest if d == -1 else d for d in shape)
  if int(np.prod(shape)) != a.size:
    raise TypeError(f"cannot reshape array of shape {a.shape} (size {a.size}) into shape "
                    f"{shape} (size {int(np.prod(shape))})")
  return lax.reshape(a, shape)


def ravel(a, order="C"):
  check_arraylike("ravel", a)
  a = _asarray(a)
  return lax.reshape(a, (a.size,))


def transpose(a, axes=None):
  check_arraylike("transpose", a)
  a = _asarray(a)
  if axes is None:
    axes = tuple(range(a.ndim - 1, -1, -1))
  axes = tuple(canonicalize_axis(ax, a.ndim) for ax in axes)
  if sorted(axes) != list(range(a.ndim)):
    raise ValueError(f"axes don't match array: {axes} for array of ndim {a.ndim}")
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
  from pyjax._src.numpy.util import broadcast_shapes as bs
  return bs(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes])


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
  for a in arrays[1:]:
    if a.ndim != arrays[0].ndim:
      raise ValueError(f"All input arrays must have the same number of dimensions, got "
                       f"{arrays[0].ndim} and {a.ndim}")
  return lax.concatenate(arrays, axis)


def stack(arrays, axis=0, out=None, dtype=None):
  if not len(arrays):
    raise ValueError("Need at least one array to stack.")
  arrays = [_asarray(a) for a in arrays]
  shape0 = arrays[0].shape
  for a in arrays[1:]:
    if a.shape != shape0:
      raise ValueError("All input arrays must have the same shape.")
  axis = canonicalize_axis(axis, arrays[0].ndim + 1)
  return concatenate([lax.expand_dims(a, (axis,)) for a in arrays], axis, dtype)


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
  """Elementwise selection ``x if condition else y`` (or nonzero with one argument)."""
  if x is None and y is None:
    from pyjax._src.numpy import indexing
    return indexing.nonzero(condition, size=size, fill_value=fill_value)
  if x is None or y is None:
    raise ValueError("Either both or neither of the x and y arguments should be provided "
                     "to jax.numpy.where, got {} and {}.".format(x, y))
  check_arraylike("where", condition, x, y)
  cond = _asarray(condition)
  if cond.dtype != np.bool_:
    cond = lax.ne(cond, lax._const(cond, 0))
  x, y = promote_dtypes(x, y)
  shape = broadcast_shapes(cond.shape, x.shape, y.shape)
  cond, x, y = [v if v.shape == shape else _broadcast_to(v, shape) for v in (cond, x, y)]
  return lax.select(cond, x, y)


def astype(x, dtype, /, *, copy=False, device=None):
  check_arraylike("astype", x)
  dtypes.check_user_dtype_supported(dtype, "astype")
  x = _asarray(x)
  return lax._convert_element_type(x, dtype, False)


# ------------------------------------------------------------ linear algebra


def dot(a, b, *, precision=None, preferred_element_type=None):
  """Dot product with NumPy's semantics (scalars, vectors, matrices, N-d)."""
  if preferred_element_type is None and precision is None:
    out = _dot_2d_fast(a, b)
    if out is not None:
      return out
  check_arraylike("dot", a, b)
  a, b = promote_dtypes(a, b)
  pet = preferred_element_type or a.dtype
  if a.ndim == 0 or b.ndim == 0:
    return ufuncs.multiply(a, b)
  contract_b = 0 if b.ndim == 1 else b.ndim - 2
  if a.shape[-1] != b.shape[contract_b]:
    raise TypeError(f"Incompatible shapes for dot: got {a.shape} and {b.shape}.")
  return lax.dot_general(a, b, (((a.ndim - 1,), (contract_b,)), ((), ())), precision,
                         preferred_element_type=pet)


_Arrays = (ArrayImpl, Tracer)


def _dot_2d_fast(a, b):
  """2-D . 2-D or 2-D . 1-D arrays of one dtype (where dot and matmul agree) as one
  dot_general, skipping promotion; None for anything else."""
  if not (isinstance(a, _Arrays) and isinstance(b, _Arrays)):
    return None
  sa, sb = a.shape, b.shape
  if (len(sa) == 2 and 1 <= len(sb) <= 2 and a.dtype == b.dtype
      and a.weak_type == b.weak_type and sa[1] == sb[0]):
    return lax.dot_general_p.bind(a, b, dimension_numbers=(((1,), (0,)), ((), ())),
                                  precision=None, preferred_element_type=a.dtype,
                                  out_sharding=None)
  return None


def matmul(a, b, *, precision=None, preferred_element_type=None):
  """Matrix product with batch broadcasting (NumPy's ``@``)."""
  if preferred_element_type is None and precision is None:
    out = _dot_2d_fast(a, b)
    if out is not None:
      return out
  check_arraylike("matmul", a, b)
  a, b = promote_dtypes(a, b)
  if a.ndim == 0 or b.ndim == 0:
    raise ValueError(f"matmul operand must have at least 1 dimension, got shapes "
                     f"{a.shape} and {b.shape}.")
  pet = preferred_element_type or a.dtype
  if a.ndim <= 2 and b.ndim <= 2:  # no batch dims: one dot_general, as JAX emits
    if a.shape[-1] != b.shape[0]:
      raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0, "
                       f"with gufunc signature (n?,k),(k,m?)->(n?,m?) (size {b.shape[0]} is "
                       f"different from {a.shape[-1]})")
    return lax.dot_general(a, b, (((a.ndim - 1,), (0,)), ((), ())), precision,
                           preferred_element_type=pet)
  a_vec, b_vec = a.ndim == 1, b.ndim == 1
  if a_vec:
    a = lax.expand_dims(a, (0,))
  if b_vec:
    b = lax.expand_dims(b, (1,))
  if a.shape[-1] != b.shape[-2]:
    raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0, "
                     f"with gufunc signature (n?,k),(k,m?)->(n?,m?) (size {b.shape[-2]} is "
                     f"different from {a.shape[-1]})")
  batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
  nb = len(batch)
  a = broadcast_to(a, (*batch, *a.shape[-2:]))
  b = broadcast_to(b, (*batch, *b.shape[-2:]))
  out = lax.dot_general(a, b, (((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb)))),
                        precision, preferred_element_type=pet)
  if a_vec:
    out = lax.squeeze(out, (nb,))
  if b_vec:
    out = lax.squeeze(out, (out.ndim - 1,))
  return out


def vdot(a, b, *, precision=None, preferred_element_type=None):
  a, b = _asarray(a), _asarray(b)
  if a.dtype.kind == "c":
    a = lax.conj(a)
  return dot(ravel(a), ravel(b), precision=precision,
             preferred_element_type=preferred_element_type)


def inner(a, b, *, precision=None, preferred_element_type=None):
  a, b = promote_dtypes(a, b)
  if a.ndim == 0 or b.ndim == 0:
    return ufuncs.multiply(a, b)
  return lax.dot_general(a, b, (((a.ndim - 1,), (b.ndim - 1,)), ((), ())), precision,
                         preferred_element_type=preferred_element_type or a.dtype)


def outer(a, b, out=None):
  a, b = ravel(a), ravel(b)
  return ufuncs.multiply(lax.expand_dims(a, (1,)), lax.expand_dims(b, (0,)))


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None):
  check_arraylike("tensordot", a, b)
  a, b = promote_dtypes(a, b)
  if isinstance(axes, (int, np.integer)):
    n = operator.index(axes)
    if n > builtins.min(a.ndim, b.ndim) or n < 0:
      raise TypeError(f"Number of tensordot axes (axes {n}) exceeds input ranks ({a.shape} "
                      f"and {b.shape})")
    ca, cb = tuple(range(a.ndim - n, a.ndim)), tuple(range(n))
  else:
    ax_a, ax_b = axes
    ax_a = (ax_a,) if isinstance(ax_a, (int, np.integer)) else tuple(ax_a)
    ax_b = (ax_b,) if isinstance(ax_b, (int, np.integer)) else tuple(ax_b)
    if len(ax_a) != len(ax_b):
      raise TypeError(f"tensordot requires axes lists to have equal length, got {ax_a} and "
                      f"{ax_b}.")
    ca = tuple(canonicalize_axis(i, a.ndim) for i in ax_a)
    cb = tuple(canonicalize_axis(i, b.ndim) for i in ax_b)
  return lax.dot_general(a, b, ((ca, cb), ((), ())), precision,
                         preferred_element_type=preferred_element_type or a.dtype)


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
  return lax.concatenate([p for p in (parts[0], a, parts[1]) if p is not None], axis)


def _pad_const(a, value, pairs):
  for ax, (lo, hi) in enumerate(pairs):
    a = _pad_axis_const(a, value, ax, lo, hi)
  return a


def _slice_axis(a, start, stop, axis, stride=1):
  from pyjax._src.lax import slicing
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
  return pieces[0] if len(pieces) == 1 else lax.concatenate(pieces, axis)


def _static_int(x, what):
  return core.concrete_or_error(operator.index, x, f"The {what} must be static.")


# ------------------------------------------------------------ splitting


def _split(name, ary, indices_or_sections, axis, equal):
  check_arraylike(name, ary)
  ary = _asarray(ary)
  axis = _static_int(axis, f"axis argument of jnp.{name}()")
  n = ary.shape[axis]  # (an out-of-range axis is JAX's IndexError)
  axis = canonicalize_axis(axis, ary.ndim)
  ios = indices_or_sections
  if isinstance(ios, (ArrayImpl, Tracer, np.ndarray)) and np.ndim(ios) == 0:
    ios = _static_int(ios, f"indices_or_sections argument of jnp.{name}()")
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
    ios = core.concrete_or_error(np.asarray, ios,
                                 f"indices_or_sections argument of jnp.{name}() must be static")
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


# ------------------------------------------------------------ tiling, repeating, flipping


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
  """Rolls elements along axes; shifts must be static."""
  check_arraylike("roll", a)
  a = _asarray(a)
  shifts = core.concrete_or_error(np.asarray, shift, "The shift argument of jnp.roll() must "
                                  "be static in pyjax.")
  if axis is None:
    return reshape(roll(ravel(a), shifts, 0), a.shape)
  axes = np.atleast_1d(np.asarray(axis))
  shifts, axes = np.broadcast_arrays(np.atleast_1d(shifts), axes)
  for s, ax in zip(shifts.tolist(), axes.tolist()):
    ax = canonicalize_axis(ax, a.ndim)
    n = a.shape[ax]
    if n == 0:
      continue
    s = int(s) % n
    if s:
      a = lax.concatenate([_slice_axis(a, n - s, n, ax), _slice_axis(a, 0, n - s, ax)], ax)
  return a


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


# ------------------------------------------------------------ stacking


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


def atleast_1d(*arys):
  return _atleast("atleast_1d", 1, arys)


def atleast_2d(*arys):
  return _atleast("atleast_2d", 2, arys)


def atleast_3d(*arys):
  return _atleast("atleast_3d", 3, arys)


def _seq(tup):
  if isinstance(tup, (ArrayImpl, Tracer, np.ndarray)):
    return [tup[i] for i in range(tup.shape[0])] if not isinstance(tup, np.ndarray) \
        else list(tup)
  return list(tup)


def hstack(tup, dtype=None):
  arrs = [atleast_1d(a) for a in _seq(tup)]
  return concatenate(arrs, 0 if arrs and arrs[0].ndim == 1 else 1, dtype=dtype)


def vstack(tup, dtype=None):
  return concatenate([atleast_2d(a) for a in _seq(tup)], 0, dtype=dtype)


row_stack = vstack


def dstack(tup, dtype=None):
  return concatenate([atleast_3d(a) for a in _seq(tup)], 2, dtype=dtype)


def column_stack(tup):
  arrs = []
  for a in _seq(tup):
    a = _asarray(a)
    arrs.append(lax.reshape(a, (a.size, 1)) if a.ndim < 2 else a)
  return concatenate(arrs, 1)


def append(arr, values, axis=None):
  if axis is None:
    return concatenate([ravel(arr), ravel(values)], 0)
  return concatenate([arr, values], axis)


# ------------------------------------------------------------ padding


def _pad_pairs(pad_width, ndim, name="pad_width"):
  pw = core.concrete_or_error(np.asarray, pad_width, f"jnp.pad: {name} must be static")
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
      a = lax.concatenate(parts, ax) if len(parts) > 1 else a
    return a
  from pyjax._src.numpy import reductions
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
    a = lax.concatenate(out, ax) if len(out) > 1 else a
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


# ------------------------------------------------------------ diagonals and triangles


def diagonal(a, offset=0, axis1: int = 0, axis2: int = 1):
  """The given diagonal, moved to the last axis (built from reshape and a strided slice)."""
  check_arraylike("diagonal", a)
  a = _asarray(a)
  if a.ndim < 2:
    raise ValueError("diagonal requires an array of at least two dimensions.")
  offset = _static_int(offset, "offset argument of jnp.diagonal()")
  ax1, ax2 = canonicalize_axis(axis1, a.ndim), canonicalize_axis(axis2, a.ndim)
  if ax1 == ax2:
    raise ValueError("axis1 and axis2 must not be equal")
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
  n = v.shape[0] + builtins.abs(k)
  vb = lax.broadcast_in_dim(v, (v.shape[0], v.shape[0]), (1,))
  mask = eye(v.shape[0], dtype=bool)
  m = lax.select(mask, vb, lax.full_like(vb, 0))
  pairs = [(builtins.max(-k, 0), builtins.max(k, 0)), (builtins.max(k, 0), builtins.max(-k, 0))]
  return _pad_const(m, 0, pairs)


def diagflat(v, k=0):
  check_arraylike("diagflat", v)
  return diag(ravel(v), k)


def trace(a, offset=0, axis1: int = 0, axis2: int = 1, dtype=None, out=None):
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.trace is not supported.")
  from pyjax._src.numpy import reductions
  return reductions.sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def _tri_mask(N, M, k):
  rows = lax.broadcasted_iota(np.int32, (N, M), 0)
  cols = lax.broadcasted_iota(np.int32, (N, M), 1)
  return lax.ge(lax.add(rows, lax._const(rows, k)), cols)


def tri(N, M=None, k=0, dtype=None):
  N = _static_int(N, "N argument of jnp.tri()")
  M = N if M is None else _static_int(M, "M argument of jnp.tri()")
  k = _static_int(k, "k argument of jnp.tri()")
  dt = _dtype_arg(dtype, "tri")
  return lax.convert_element_type(_tri_mask(N, M, k), dt)


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


def tril(m, k=0):
  return _tri_select("tril", m, k, True)


def triu(m, k=0):
  return _tri_select("triu", m, k, False)


def _int_tuple(arrs):
  return tuple(asarray_value(np.asarray(x, dtype=dtypes.default_int_dtype())) for x in arrs)


def tril_indices(n, k=0, m=None):
  n = _static_int(n, "n argument of jnp.tril_indices")
  k = _static_int(k, "k argument of jnp.tril_indices")
  m = n if m is None else _static_int(m, "m argument of jnp.tril_indices")
  return _int_tuple(np.tril_indices(n, k, m))


def triu_indices(n, k=0, m=None):
  n = _static_int(n, "n argument of jnp.triu_indices")
  k = _static_int(k, "k argument of jnp.triu_indices")
  m = n if m is None else _static_int(m, "m argument of jnp.triu_indices")
  return _int_tuple(np.triu_indices(n, k, m))


def tril_indices_from(arr, k=0):
  arr = _asarray(arr)
  if arr.ndim != 2:
    raise ValueError("Only 2-D inputs are accepted")
  return tril_indices(arr.shape[0], k, arr.shape[1])


def triu_indices_from(arr, k=0):
  arr = _asarray(arr)
  if arr.ndim != 2:
    raise ValueError("Only 2-D inputs are accepted")
  return triu_indices(arr.shape[0], k, arr.shape[1])


def diag_indices(n, ndim=2):
  n = _static_int(n, "n argument of jnp.diag_indices")
  ndim = _static_int(ndim, "ndim argument of jnp.diag_indices")
  if n < 0:
    raise ValueError(f"n argument to diag_indices must be nonnegative, got {n}")
  if ndim < 0:
    raise ValueError(f"ndim argument to diag_indices must be nonnegative, got {ndim}")
  return (lax.iota(dtypes.default_int_dtype(), n),) * ndim


def diag_indices_from(arr):
  arr = _asarray(arr)
  if arr.ndim < 2:
    raise ValueError("input array must be at least 2-d")
  if len(set(arr.shape)) != 1:
    raise ValueError("All dimensions of input must be of equal length")
  return diag_indices(arr.shape[0], arr.ndim)


# ------------------------------------------------------------ grids


def meshgrid(*xi, copy: bool = True, sparse: bool = False, indexing: str = "xy"):
  check_arraylike("meshgrid", *xi)
  args = [_asarray(x) for x in xi]
  if indexing not in ("xy", "ij"):
    raise ValueError(f"Valid values for indexing are 'xy' and 'ij', got {indexing}")
  if builtins.any(a.ndim != 1 for a in args):
    raise ValueError(f"Arguments to jax.numpy.meshgrid must be 1D, got shapes "
                     f"{[a.shape for a in args]}")
  shp = tuple(a.shape[0] for a in args)
  outs = []
  for i, a in enumerate(args):
    if sparse:
      outs.append(lax.reshape(a, tuple(d if j == i else 1 for j, d in enumerate(shp))))
    else:
      outs.append(lax.broadcast_in_dim(a, shp, (i,)))
  if indexing == "xy" and len(args) >= 2:
    outs = [swapaxes(o, 0, 1) for o in outs]
  return outs


def indices(dimensions, dtype=None, sparse: bool = False):
  dims = _shape_arg(dimensions, "indices")
  dt = _dtype_arg(dtype, "indices", dtypes.default_int_dtype())
  outs = []
  for i, d in enumerate(dims):
    if sparse:
      outs.append(lax.broadcasted_iota(dt, tuple(d if j == i else 1 for j in range(len(dims))), i))
    else:
      outs.append(lax.broadcasted_iota(dt, dims, i))
  return tuple(outs) if sparse else (stack(outs) if outs else lax.full((0,), 0, dt))


def ix_(*args):
  check_arraylike("ix_", *args)
  n = len(args)
  out = []
  for i, a in enumerate(args):
    a = _asarray(a)
    if a.ndim != 1:
      raise ValueError(f"Arguments to jax.numpy.ix_ must be 1-dimensional, got shape "
                       f"{a.shape}")
    if a.dtype == np.bool_:
      raise NotImplementedError("Boolean arguments to jax.numpy.ix_ are not supported.")
    out.append(lax.reshape(a, tuple(a.shape[0] if j == i else 1 for j in range(n))))
  return tuple(out)


# ------------------------------------------------------------ elementwise helpers


def clip(arr=None, /, min=None, max=None):
  """Clips values to ``[min, max]`` (either bound may be None)."""
  check_arraylike("clip", arr)
  if min is not None:
    arr = ufuncs.maximum(min, arr)
  if max is not None:
    arr = ufuncs.minimum(max, arr)
  return _asarray(arr)


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
round_ = round


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
  from pyjax._src.numpy import reductions
  return reductions.all(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1, a2, equal_nan: bool = False):
  from pyjax._src.numpy import reductions
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
  from pyjax._src.numpy import reductions
  a1, a2 = _asarray(a1), _asarray(a2)
  try:
    eq = ufuncs.equal(a1, a2)
  except ValueError:
    return _asarray(False)
  return reductions.all(eq)


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
  return lax._convert_element_type(out, x.dtype, x.weak_type)


def _onehot_take(vals, idx):
  """``vals[idx]`` for 1-D ``vals`` and integer ``idx`` of any shape, by a one-hot mask
  (traceable; O(idx.size * vals.size))."""
  n = vals.shape[0]
  iota = lax.broadcasted_iota(idx.dtype, (*idx.shape, n), idx.ndim)
  mask = lax.eq(lax.broadcast_in_dim(idx, (*idx.shape, n), tuple(range(idx.ndim))), iota)
  vb = lax.broadcast_in_dim(vals, (*idx.shape, n), (idx.ndim,))
  from pyjax._src.numpy import reductions
  if vals.dtype == np.bool_:
    return reductions.any(lax.bitwise_and(mask, vb), axis=-1)
  return lax.reduce_sum(lax.select(mask, vb, lax.full_like(vb, 0)), (idx.ndim,))


def interp(x, xp, fp, left=None, right=None, period=None):
  """One-dimensional linear interpolation (``xp`` increasing)."""
  check_arraylike("interp", x, xp, fp)
  x, xp, fp = _asarray(x), _asarray(xp), _asarray(fp)
  if xp.ndim != 1 or fp.ndim != 1:
    raise ValueError("xp and fp must be one-dimensional")
  if xp.shape[0] != fp.shape[0]:
    raise ValueError("xp and fp must be one-dimensional arrays of equal size")
  if xp.shape[0] == 0:
    raise ValueError("xp and fp must be non-empty")
  dtype = dtypes.to_inexact_dtype(dtypes.result_type(x, xp, fp))
  if dtype.kind == "c":
    raise NotImplementedError("complex interp is not implemented in pyjax")
  x, xp, fp = (lax._convert_element_type(v, dtype) for v in (x, xp, fp))
  if period is not None:
    if left is not None or right is not None:
      raise ValueError("Cannot specify left or right with period")
    period = ufuncs.abs(lax._convert_element_type(period, dtype))
    x = ufuncs.remainder(x, period)
    from pyjax._src.numpy import sorting
    order = sorting.argsort(xp)
    xp, fp = _onehot_take(xp, order), _onehot_take(fp, order)
    xp = ufuncs.remainder(xp, period)
    order = sorting.argsort(xp)
    xp, fp = _onehot_take(xp, order), _onehot_take(fp, order)
    xp = concatenate([ufuncs.subtract(_slice_axis(xp, xp.shape[0] - 1, xp.shape[0], 0), period),
                      xp, ufuncs.add(_slice_axis(xp, 0, 1, 0), period)])
    fp = concatenate([_slice_axis(fp, fp.shape[0] - 1, fp.shape[0], 0), fp,
                      _slice_axis(fp, 0, 1, 0)])
  from pyjax._src.numpy import sorting
  n = xp.shape[0]
  i = clip(sorting.searchsorted(xp, x, side="right"), 1, builtins.max(n - 1, 1))
  i = lax._convert_element_type(i, np.int32)
  im1 = lax.sub(i, lax._const(i, 1))
  if n == 1:
    i = im1
  x0, x1 = _onehot_take(xp, im1), _onehot_take(xp, i)
  y0, y1 = _onehot_take(fp, im1), _onehot_take(fp, i)
  dx = lax.sub(x1, x0)
  t = lax.div(lax.sub(x, x0), dx)
  out = lax.add(y0, lax.mul(t, lax.sub(y1, y0)))
  out = where(lax.eq(dx, lax._const(dx, 0)), y1, out)
  if period is None:
    lo = lax.reshape(_slice_axis(fp, 0, 1, 0), ())
    hi = lax.reshape(_slice_axis(fp, n - 1, n, 0), ())
    left = lo if left is None else lax._convert_element_type(left, dtype)
    right = hi if right is None else lax._convert_element_type(right, dtype)
    out = where(ufuncs.less(x, lax.reshape(_slice_axis(xp, 0, 1, 0), ())), left, out)
    out = where(ufuncs.greater(x, lax.reshape(_slice_axis(xp, n - 1, n, 0), ())), right, out)
  return out


def cross(a, b, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis=None):
  check_arraylike("cross", a, b)
  a, b = promote_dtypes(a, b)
  if axis is not None:
    axisa = axisb = axisc = axis
  a = moveaxis(a, axisa, -1)
  b = moveaxis(b, axisb, -1)
  if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
    raise ValueError("Dimension must be either 2 or 3 for cross product")

  def comp(v, i):
    return lax.squeeze(_slice_axis(v, i, i + 1, v.ndim - 1), (v.ndim - 1,))

  a0, a1 = comp(a, 0), comp(a, 1)
  b0, b1 = comp(b, 0), comp(b, 1)
  if a.shape[-1] == 2 and b.shape[-1] == 2:
    return ufuncs.subtract(ufuncs.multiply(a0, b1), ufuncs.multiply(a1, b0))
  a2 = comp(a, 2) if a.shape[-1] == 3 else zeros_like(a0)
  b2 = comp(b, 2) if b.shape[-1] == 3 else zeros_like(b0)
  c = broadcast_arrays(ufuncs.subtract(ufuncs.multiply(a1, b2), ufuncs.multiply(a2, b1)),
                       ufuncs.subtract(ufuncs.multiply(a2, b0), ufuncs.multiply(a0, b2)),
                       ufuncs.subtract(ufuncs.multiply(a0, b1), ufuncs.multiply(a1, b0)))
  return moveaxis(stack(c, -1), -1, axisc)


def kron(a, b):
  check_arraylike("kron", a, b)
  a, b = promote_dtypes(a, b)
  nd = builtins.max(a.ndim, b.ndim)
  a = lax.reshape(a, (1,) * (nd - a.ndim) + a.shape)
  b = lax.reshape(b, (1,) * (nd - b.ndim) + b.shape)
  a = lax.reshape(a, tuple(x for d in a.shape for x in (d, 1)))
  b = lax.reshape(b, tuple(x for d in b.shape for x in (1, d)))
  out = ufuncs.multiply(a, b)
  return lax.reshape(out, tuple(x * y for x, y in zip(a.shape[::2], b.shape[1::2])))


def diff(a, n: int = 1, axis: int = -1, prepend=None, append=None):
  check_arraylike("diff", a)
  a = _asarray(a)
  n = _static_int(n, "n argument of jnp.diff()")
  if n < 0:
    raise ValueError(f"order must be non-negative but got {n}")
  if n == 0:
    return a
  if a.ndim == 0:
    raise ValueError(f"diff requires input that is at least one dimensional; got {a}")
  axis = canonicalize_axis(axis, a.ndim)
  parts = []
  for v in (prepend, a, append):
    if v is None:
      continue
    v = _asarray(v)
    if v.ndim == 0:
      shp = list(a.shape)
      shp[axis] = 1
      v = broadcast_to(v, tuple(shp))
    parts.append(v)
  a = concatenate(parts, axis) if len(parts) > 1 else a
  for _ in range(n):
    m = a.shape[axis]
    if m == 0:
      break
    hi, lo = _slice_axis(a, 1, m, axis), _slice_axis(a, 0, m - 1, axis)
    a = ufuncs.not_equal(hi, lo) if a.dtype == np.bool_ else ufuncs.subtract(hi, lo)
  return a


def ediff1d(ary, to_end=None, to_begin=None):
  check_arraylike("ediff1d", ary)
  a = ravel(ary)
  out = diff(a) if a.shape[0] else a
  parts = []
  if to_begin is not None:
    parts.append(lax._convert_element_type(ravel(to_begin), a.dtype, a.weak_type))
  parts.append(out)
  if to_end is not None:
    parts.append(lax._convert_element_type(ravel(to_end), a.dtype, a.weak_type))
  return lax.concatenate(parts, 0) if len(parts) > 1 else out


def _conv(name, a, v, mode, flip_v, precision, preferred_element_type):
  """Full correlation as one dot_general over static windows, then NumPy's slice of it."""
  check_arraylike(name, a, v)
  a, v = _conv_promote(a, v)
  if a.ndim != 1 or v.ndim != 1:
    raise ValueError(f"{name}() only support 1-dimensional inputs.")
  if a.shape[0] == 0 or v.shape[0] == 0:
    raise ValueError(f"{name}: inputs cannot be empty, got shapes {a.shape} and {v.shape}.")
  if mode not in ("full", "same", "valid"):
    raise ValueError("mode must be one of ['full', 'same', 'valid']")
  if flip_v:
    v = lax.rev(v, (0,))
  elif v.dtype.kind == "c":
    v = lax.conj(v)
  n, m = a.shape[0], v.shape[0]
  ap = _pad_const(a, 0, [(m - 1, m - 1)])
  L = n + m - 1
  idx = np.arange(L)[:, None] + np.arange(m)[None, :]
  win = lax.reshape(_take_static(ap, idx.ravel(), 0), (L, m))
  full = lax.dot_general(win, v, (((1,), (0,)), ((), ())), precision,
                         preferred_element_type=preferred_element_type)
  lo, hi = builtins.min(n, m), builtins.max(n, m)
  if mode == "full":
    return full
  if mode == "valid":
    return _slice_axis(full, lo - 1, lo - 1 + hi - lo + 1, 0)
  off = (lo - 1) // 2 if (flip_v or m <= n) else lo // 2
  return _slice_axis(full, off, off + hi, 0)


def _conv_promote(a, v):
  from pyjax._src.numpy.util import promote_dtypes_inexact
  return promote_dtypes_inexact(a, v)


def convolve(a, v, mode: str = "full", *, precision=None, preferred_element_type=None):
  return _conv("convolve", a, v, mode, True, precision, preferred_element_type)


def correlate(a, v, mode: str = "valid", *, precision=None, preferred_element_type=None):
  return _conv("correlate", a, v, mode, False, precision, preferred_element_type)


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


def iscomplex(x):
  x = _asarray(x)
  i = ufuncs.imag(x)
  return lax.ne(i, lax._const(i, 0))


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


def bincount(x, weights=None, minlength: int = 0, *, length=None, out_sharding=None):
  """Counts of each non-negative integer (a one-hot sum; ``length`` needed under jit)."""
  check_arraylike("bincount", x)
  x = _asarray(x)
  if x.dtype.kind not in "iub":
    raise TypeError(f"x argument to bincount must have an integer type; got {x.dtype}")
  if x.ndim != 1:
    raise ValueError("only 1-dimensional input supported.")
  minlength = core.concrete_or_error(operator.index, minlength,
                                     "The error occurred because of argument 'minlength' of "
                                     "jnp.bincount.")
  if length is None:
    xv = core.concrete_or_error(np.asarray, x,
                                "The error occurred because of argument 'x' of jnp.bincount. "
                                "To avoid this error, pass a static `length` argument.")
    length = builtins.max(minlength, int(xv.max()) + 1 if xv.size else 0)
  else:
    length = _static_int(length, "length argument of jnp.bincount")
  if weights is None:
    w = lax.full(x.shape, 1, dtypes.default_int_dtype())
  else:
    w = _asarray(weights)
    if w.shape != x.shape:
      raise ValueError("shape of weights must match shape of x.")
  xi = lax._convert_element_type(x, np.int32)
  iota = lax.broadcasted_iota(np.int32, (x.shape[0], length), 1)
  mask = lax.eq(lax.broadcast_in_dim(xi, (x.shape[0], length), (0,)), iota)
  wb = lax.broadcast_in_dim(w, (x.shape[0], length), (0,))
  out = lax.reduce_sum(lax.select(mask, wb, lax.full_like(wb, 0)), (0,))
  if w.dtype == np.bool_:
    out = lax._convert_element_type(out, dtypes.default_int_dtype())
  return out


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
  dims = _shape_arg(dims, "ravel_multi_index")
  if len(multi_index) != len(dims):
    raise ValueError(f"parameter multi_index must be a sequence of length {len(dims)}")
  idx = [lax._convert_element_type(_asarray(i), dtypes.default_int_dtype()) for i in multi_index]
  if mode == "raise":
    core.concrete_or_error(None, idx[0] if idx else 0, "The error occurred because "
                           "ravel_multi_index was jit-compiled with mode='raise'. Use "
                           "mode='wrap' or mode='clip' instead.")
    for i, d in zip(idx, dims):
      v = np.asarray(i._value) if isinstance(i, ArrayImpl) else core.concrete_or_error(
          np.asarray, i, "ravel_multi_index with mode='raise'")
      if np.any((v < 0) | (v >= d)):
        raise ValueError("invalid entry in coordinates array")
  elif mode == "wrap":
    idx = [ufuncs.remainder(i, d) for i, d in zip(idx, dims)]
  elif mode == "clip":
    idx = [clip(i, 0, d - 1) for i, d in zip(idx, dims)]
  else:
    raise ValueError(f"invalid mode={mode!r}. Expected 'raise', 'wrap', or 'clip'")
  strides = np.cumprod((1,) + tuple(dims[::-1]))[:-1][::-1] if order == "C" else \
      np.cumprod((1,) + tuple(dims))[:-1]
  out = _asarray(0)
  for i, s in zip(idx, strides):
    out = ufuncs.add(out, ufuncs.multiply(i, int(s)))
  return out


def unravel_index(indices, shape):
  check_arraylike("unravel_index", indices)
  shp = _shape_arg(shape, "unravel_index")
  idx = _asarray(indices)
  if idx.dtype.kind not in "iu":
    raise TypeError("Only int indices permitted")
  total = int(np.prod(shp))
  idx = clip(where(ufuncs.less(idx, 0), ufuncs.add(idx, total), idx), 0, builtins.max(total - 1, 0))
  out = []
  for d in shp[::-1]:
    out.append(ufuncs.remainder(idx, d) if d else idx)
    idx = ufuncs.floor_divide(idx, d) if d else idx
  return tuple(out[::-1])


def trapezoid(y, x=None, dx=1.0, axis: int = -1):
  from pyjax._src.numpy import reductions
  y = _asarray(y)
  axis = canonicalize_axis(axis, y.ndim)
  n = y.shape[axis]
  avg = ufuncs.multiply(ufuncs.add(_slice_axis(y, 1, n, axis), _slice_axis(y, 0, n - 1, axis)),
                        0.5)
  if x is None:
    return ufuncs.multiply(reductions.sum(avg, axis=axis), dx)
  x = _asarray(x)
  d = diff(x, axis=-1 if x.ndim == 1 else axis)
  if x.ndim == 1:
    d = lax.reshape(d, tuple(d.shape[0] if i == axis else 1 for i in range(y.ndim)))
  return reductions.sum(ufuncs.multiply(avg, d), axis=axis)


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


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
  dt = dtypes.to_inexact_dtype(dtypes.result_type(start, stop)) if dtype is None else \
      dtypes.canonicalize_dtype(dtype)
  comp = dtypes.to_inexact_dtype(dt)
  lin = linspace(start, stop, num, endpoint=endpoint, dtype=comp, axis=axis)
  return lax._convert_element_type(ufuncs.power(lax._convert_element_type(base, comp), lin), dt)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
  dt = dtypes.to_inexact_dtype(dtypes.result_type(start, stop)) if dtype is None else \
      dtypes.canonicalize_dtype(dtype)
  comp = dtypes.to_inexact_dtype(dt)
  s, e = lax._convert_element_type(start, comp), lax._convert_element_type(stop, comp)
  sign = ufuncs.sign(s)
  ls, le = ufuncs.log10(ufuncs.abs(s)), ufuncs.log10(ufuncs.abs(e))
  out = logspace(ls, le, num, endpoint=endpoint, dtype=comp, axis=axis)
  out = ufuncs.multiply(out, sign)
  return lax._convert_element_type(out, dt)


def vander(x, N=None, increasing: bool = False):
  x = _asarray(x)
  if x.ndim != 1:
    raise ValueError("x must be a one-dimensional array")
  N = x.shape[0] if N is None else _static_int(N, "N argument of jnp.vander")
  if N < 0:
    raise ValueError("N must be nonnegative")
  pows = lax.iota(dtypes.default_int_dtype(), N)
  if not increasing:
    pows = lax.rev(pows, (0,))
  return ufuncs.power(lax.expand_dims(x, (1,)), pows)


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


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
  from pyjax._src.numpy import reductions
  if fweights is not None or aweights is not None:
    raise NotImplementedError("cov weights are not implemented in pyjax")
  m = atleast_2d(_asarray(m))
  dt = dtypes.to_inexact_dtype(m.dtype)
  if not rowvar and m.shape[0] != 1:
    m = m.T if hasattr(m, "T") else transpose(m)
  if y is not None:
    y = atleast_2d(_asarray(y))
    if not rowvar and y.shape[0] != 1:
      y = transpose(y)
    m = concatenate([m, y], 0)
  m = lax._convert_element_type(m, dtypes.to_inexact_dtype(dtypes.result_type(m, dt)))
  if ddof is None:
    ddof = 0 if bias else 1
  n = m.shape[1]
  x = ufuncs.subtract(m, reductions.mean(m, axis=1, keepdims=True))
  c = dot(x, ufuncs.conj(transpose(x)))
  return squeeze(ufuncs.true_divide(c, builtins.max(n - ddof, 0)))


def corrcoef(x, y=None, rowvar=True):
  c = cov(x, y, rowvar)
  if c.ndim == 0:
    return ufuncs.true_divide(c, c)
  d = diagonal(c)
  sd = ufuncs.sqrt(d)
  c = ufuncs.true_divide(c, lax.expand_dims(sd, (1,)))
  c = ufuncs.true_divide(c, lax.expand_dims(sd, (0,)))
  return clip(c, -1, 1) if c.dtype.kind != "c" else c


# ------------------------------------------------------------ array-API aliases and extras


def concat(arrays, /, *, axis=0):
  return concatenate(arrays, axis)


def permute_dims(a, /, axes):
  return transpose(a, axes)


def unstack(x, /, *, axis: int = 0):
  x = _asarray(x)
  axis = canonicalize_axis(axis, x.ndim)
  return tuple(lax.squeeze(_slice_axis(x, i, i + 1, axis), (axis,))
               for i in range(x.shape[axis]))


def vecdot(x1, x2, /, *, axis: int = -1, precision=None, preferred_element_type=None):
  from pyjax._src.numpy import reductions
  x1, x2 = promote_dtypes(x1, x2)
  if x1.shape[axis] != x2.shape[axis]:
    raise ValueError(f"axes must match; got shapes {x1.shape} and {x2.shape} with axis={axis}")
  if x1.dtype.kind == "c":
    x1 = lax.conj(x1)
  return reductions.sum(ufuncs.multiply(x1, x2), axis=axis)


def matvec(x1, x2, /):
  return squeeze(matmul(x1, expand_dims(x2, -1)), -1)


def vecmat(x1, x2, /):
  x1 = _asarray(x1)
  if x1.dtype.kind == "c":
    x1 = lax.conj(x1)
  return squeeze(matmul(expand_dims(x1, -2), x2), -2)


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


def digitize(x, bins, right: bool = False, *, method=None):
  from pyjax._src.numpy import sorting
  x, bins = _asarray(x), _asarray(bins)
  if bins.ndim != 1:
    raise ValueError(f"digitize: bins must be a 1-dimensional array; got bins={bins}")
  if bins.shape[0] == 0:
    return zeros_like(x, dtype=np.int32)
  side = "left" if right else "right"
  first = lax.reshape(_slice_axis(bins, 0, 1, 0), ())
  last = lax.reshape(_slice_axis(bins, bins.shape[0] - 1, bins.shape[0], 0), ())
  inc = sorting.searchsorted(bins, x, side=side)
  dec = lax.sub(lax.full_like(inc, bins.shape[0]),
                sorting.searchsorted(lax.rev(bins, (0,)), x, side=side))
  return where(ufuncs.greater_equal(last, first), inc, dec)


def histogram_bin_edges(a, bins=10, range=None, weights=None):
  a = ravel(a)
  dt = dtypes.to_inexact_dtype(a.dtype)
  if not isinstance(bins, (int, np.integer)):
    return _asarray(bins)
  if range is None:
    from pyjax._src.numpy import reductions
    lo, hi = reductions.min(a), reductions.max(a)
  else:
    lo, hi = range
  lo, hi = lax._convert_element_type(lo, dt), lax._convert_element_type(hi, dt)
  eq = lax.eq(lo, hi)
  lo = where(eq, ufuncs.subtract(lo, 0.5), lo)
  hi = where(eq, ufuncs.add(hi, 0.5), hi)
  return linspace(lo, hi, operator.index(bins) + 1, dtype=dt)


def histogram(a, bins=10, range=None, weights=None, density=None):
  from pyjax._src.numpy import reductions
  a = ravel(a)
  edges = histogram_bin_edges(a, bins, range, weights)
  nb = edges.shape[0] - 1
  idx = ufuncs.subtract(digitize(a, edges), 1)
  last = lax.reshape(_slice_axis(edges, nb, nb + 1, 0), ())
  idx = where(ufuncs.equal(a, last), nb - 1, idx)
  w = ones_like(a) if weights is None else ravel(weights)
  valid = ufuncs.logical_and(ufuncs.greater_equal(idx, 0), ufuncs.less(idx, nb))
  iota = lax.broadcasted_iota(idx.dtype, (a.shape[0], nb), 1)
  mask = ufuncs.logical_and(ufuncs.equal(expand_dims(idx, 1), iota), expand_dims(valid, 1))
  counts = reductions.sum(where(mask, expand_dims(w, 1), 0), axis=0)
  if density:
    widths = diff(edges)
    counts = ufuncs.true_divide(ufuncs.true_divide(counts, widths), reductions.sum(counts))
  return counts, edges


def gradient(f, *varargs, axis=None, edge_order=None):
  if edge_order is not None:
    raise NotImplementedError("The 'edge_order' argument to jnp.gradient is not supported.")
  f = _asarray(f)
  axes = tuple(range(f.ndim)) if axis is None else (
      (canonicalize_axis(axis, f.ndim),) if isinstance(axis, (int, np.integer)) else
      tuple(canonicalize_axis(ax, f.ndim) for ax in axis))
  if len(varargs) == 0:
    spacing = [1.0] * len(axes)
  elif len(varargs) == 1:
    spacing = list(varargs) * len(axes)
  else:
    spacing = list(varargs)
  if len(spacing) != len(axes):
    raise TypeError("Invalid number of spacing arguments")
  (f,) = [lax._convert_element_type(f, dtypes.to_inexact_dtype(f.dtype))]
  outs = []
  for ax, h in zip(axes, spacing):
    n = f.shape[ax]
    if n < 2:
      raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                       "least (edge_order + 1) elements are required.")
    if np.ndim(h) != 0:
      raise NotImplementedError("non-uniform spacing in jnp.gradient is not supported")
    first = ufuncs.subtract(_slice_axis(f, 1, 2, ax), _slice_axis(f, 0, 1, ax))
    last = ufuncs.subtract(_slice_axis(f, n - 1, n, ax), _slice_axis(f, n - 2, n - 1, ax))
    mid = ufuncs.multiply(ufuncs.subtract(_slice_axis(f, 2, n, ax), _slice_axis(f, 0, n - 2, ax)),
                          0.5)
    g = concatenate([first, mid, last], ax)
    outs.append(ufuncs.true_divide(g, h))
  return outs[0] if len(outs) == 1 else outs


def polyval(p, x, *, unroll=16):
  p, x = promote_dtypes(p, x)
  out = zeros_like(x)
  for i in range(p.shape[0]):
    out = ufuncs.add(ufuncs.multiply(out, x), lax.reshape(_slice_axis(p, i, i + 1, 0), ()))
  return out


def _poly_pad(a, n):
  return _pad_const(a, 0, [(n - a.shape[0], 0)]) if n > a.shape[0] else a


def polyadd(a1, a2):
  a1, a2 = promote_dtypes(atleast_1d(a1), atleast_1d(a2))
  n = builtins.max(a1.shape[0], a2.shape[0])
  return ufuncs.add(_poly_pad(a1, n), _poly_pad(a2, n))


def polysub(a1, a2):
  a1, a2 = promote_dtypes(atleast_1d(a1), atleast_1d(a2))
  n = builtins.max(a1.shape[0], a2.shape[0])
  return ufuncs.subtract(_poly_pad(a1, n), _poly_pad(a2, n))


def polymul(a1, a2, *, trim_leading_zeros=False):
  a1, a2 = promote_dtypes(atleast_1d(a1), atleast_1d(a2))
  return convolve(a1, a2)


def polyder(p, m: int = 1):
  p = _asarray(p)
  m = _static_int(m, "m argument of jnp.polyder")
  if m < 0:
    raise ValueError("Order of derivative must be positive")
  dt = dtypes.to_inexact_dtype(p.dtype) if p.dtype.kind == "b" else p.dtype
  for _ in range(m):
    n = p.shape[0]
    if n <= 1:
      return lax._convert_element_type(_slice_axis(p, 0, 0, 0), dt)
    coeff = lax.rev(lax.iota(dt, n - 1), (0,))
    p = ufuncs.multiply(_slice_axis(p, 0, n - 1, 0), ufuncs.add(coeff, 1))
  return p


def polyint(p, m: int = 1, k=None):
  p = _asarray(p)
  m = _static_int(m, "m argument of jnp.polyint")
  if m < 0:
    raise ValueError("Order of integral must be positive (see polyder)")
  k = zeros(m, dtypes.to_inexact_dtype(p.dtype)) if k is None else atleast_1d(k)
  if k.shape[0] == 1 and m > 1:
    k = broadcast_to(k, (m,))
  (p,) = [lax._convert_element_type(p, dtypes.to_inexact_dtype(dtypes.result_type(p, k)))]
  for i in range(m):
    n = p.shape[0]
    div = lax.rev(ufuncs.add(lax.iota(p.dtype, n), 1), (0,))
    p = concatenate([ufuncs.true_divide(p, div),
                     lax._convert_element_type(_slice_axis(k, i, i + 1, 0), p.dtype)])
  return p


def _window(name, fn):
  def w(M, *args):
    M = _static_int(M, f"M argument of jnp.{name}")
    dt = dtypes.default_float_dtype()
    if M <= 0:
      return zeros((0,), dt)
    if M == 1:
      return ones((1,), dt)
    return fn(M, lax.iota(dt, M), dt, *args)
  w.__name__ = name
  return w


def _bartlett(M, n, dt):
  return ufuncs.subtract(1, ufuncs.abs(ufuncs.true_divide(ufuncs.subtract(
      ufuncs.multiply(2, n), M - 1), M - 1)))


def _cos_window(*coefs):
  def fn(M, n, dt):
    out = zeros((M,), dt)
    for k, c in enumerate(coefs):
      out = ufuncs.add(out, ufuncs.multiply(c * (-1) ** k, ufuncs.cos(
          ufuncs.true_divide(ufuncs.multiply(2 * np.pi * k, n), M - 1))))
    return out
  return fn


bartlett = _window("bartlett", _bartlett)
blackman = _window("blackman", _cos_window(0.42, 0.5, 0.08))
hamming = _window("hamming", _cos_window(0.54, 0.46))
hanning = _window("hanning", _cos_window(0.5, 0.5))


def _kaiser(M, n, dt, beta):
  alpha = (M - 1) / 2.0
  r = ufuncs.true_divide(ufuncs.subtract(n, alpha), alpha)
  return ufuncs.true_divide(
      ufuncs.i0(ufuncs.multiply(beta, ufuncs.sqrt(ufuncs.subtract(1, ufuncs.square(r))))),
      ufuncs.i0(lax._convert_element_type(beta, dt)))


kaiser = _window("kaiser", _kaiser)


def fromfunction(function, shape, *, dtype=float, **kwargs):
  shape = _shape_arg(shape, "fromfunction")
  dt = _dtype_arg(dtype, "fromfunction")
  return function(*(lax.broadcasted_iota(dt, shape, i) for i in range(len(shape))), **kwargs)


def frombuffer(buffer, dtype=float, count=-1, offset=0):
  return asarray(np.frombuffer(buffer, dtype=dtype, count=count, offset=offset))


def fromstring(string, dtype=float, count=-1, *, sep):
  return asarray(np.fromstring(string, dtype=dtype, count=count, sep=sep))


def fromiter(*args, **kwargs):
  raise NotImplementedError("jnp.fromiter() is not implemented because it may be non-pure "
                            "and thus unsafe for use with JIT and other JAX transformations. "
                            "Consider using jnp.asarray(np.fromiter(...)) instead.")


def fromfile(*args, **kwargs):
  raise NotImplementedError("jnp.fromfile() is not implemented because it may be non-pure "
                            "and thus unsafe for use with JIT and other JAX transformations. "
                            "Consider using jnp.asarray(np.fromfile(...)) instead.")


def array_repr(arr, max_line_width=None, precision=None, suppress_small=None):
  return repr(arr)


def array_str(a, max_line_width=None, precision=None, suppress_small=None):
  return np.array_str(np.asarray(a), max_line_width, precision, suppress_small)


def unwrap(p, discont=None, axis: int = -1, period=2 * np.pi):
  from pyjax._src.numpy import reductions
  p = _asarray(p)
  (p,) = [lax._convert_element_type(p, dtypes.to_inexact_dtype(p.dtype))]
  axis = canonicalize_axis(axis, p.ndim)
  if p.shape[axis] == 0:
    return p
  half = period / 2
  discont = half if discont is None else discont
  dd = diff(p, axis=axis)
  ddmod = ufuncs.subtract(ufuncs.remainder(ufuncs.add(dd, half), period), half)
  ddmod = where(ufuncs.logical_and(ufuncs.equal(ddmod, -half), ufuncs.greater(dd, 0)), half,
                ddmod)
  corr = where(ufuncs.less(ufuncs.abs(dd), discont), 0, ufuncs.subtract(ddmod, dd))
  corr = reductions.cumsum(corr, axis=axis)
  first = _slice_axis(p, 0, 1, axis)
  rest = ufuncs.add(_slice_axis(p, 1, p.shape[axis], axis), corr)
  return concatenate([first, rest], axis)


def mask_indices(n, mask_func, k=0, *, size=None):
  m = np.asarray(mask_func(np.ones((n, n), np.int32), k))
  return _int_tuple(np.nonzero(m))


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
  _, perm = lax.sort((key, lax.iota(np.int32, c.shape[0])), 0, True, 1)
  out = a[perm[:size]]
  return out if axis is None else moveaxis(out, 0, axis)


def extract(condition, arr, *, size=None, fill_value=0):
  return compress(ravel(condition), ravel(arr), size=size, fill_value=fill_value)


class _IndexGrid:
  def __init__(self, np_obj):
    self._np = np_obj

  def __getitem__(self, key):
    out = self._np[key]
    if isinstance(out, tuple) or isinstance(out, list):
      return [_asarray(o) for o in out]
    return _asarray(out)


mgrid = _IndexGrid(np.mgrid)
ogrid = _IndexGrid(np.ogrid)
r_ = _IndexGrid(np.r_)
c_ = _IndexGrid(np.c_)


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]
__all__ += ["mgrid", "ogrid", "r_", "c_"]

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
        if np_val.dtype == object:
          raise TypeError(f"JAX only supports number and bool dtypes, got dtype object "
                          f"in array")
        if dtype is None:
          dt, w = dtypes.result_type(*leaves, return_weak_type_flag=True)
          np_val = np_val.astype(dt)
        out = asarray_value(np_val)
  else:
    if type(object) in (bool, int, float, complex):
      out = _asarray(object)
      weak = dtype is None and type(object) is not bool
    else:
      if isinstance(object, (np.ndarray, np.generic)) and object.dtype == object:
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
  cond, x, y = promote_shapes("where", cond, x, y)
  shape = tuple(builtins.max(d) for d in zip(*[(1,) * (len(s) == 0) or s
                                              for s in (cond.shape, x.shape, y.shape)])) \
      if builtins.any(v.shape for v in (cond, x, y)) else ()
  if shape:
    cond, x, y = [v if v.shape == shape else lax.broadcast_in_dim(v, shape, ())
                  for v in (cond, x, y)]
  return lax.select(cond, x, y)


def astype(x, dtype, /, *, copy=False, device=None):
  check_arraylike("astype", x)
  dtypes.check_user_dtype_supported(dtype, "astype")
  x = _asarray(x)
  return lax._convert_element_type(x, dtype, False)


# ------------------------------------------------------------ linear algebra


def dot(a, b, *, precision=None, preferred_element_type=None):
  """Dot product with NumPy's semantics (scalars, vectors, matrices, N-d)."""
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


def matmul(a, b, *, precision=None, preferred_element_type=None):
  """Matrix product with batch broadcasting (NumPy's ``@``)."""
  check_arraylike("matmul", a, b)
  a, b = promote_dtypes(a, b)
  if a.ndim == 0 or b.ndim == 0:
    raise ValueError(f"matmul operand must have at least 1 dimension, got shapes "
                     f"{a.shape} and {b.shape}.")
  pet = preferred_element_type or a.dtype
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


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]

"""Argument checking, dtype promotion and rank/shape broadcasting for jax.numpy."""
from __future__ import annotations

import builtins
import functools

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src import pjit
from pyjax._src.array import ArrayImpl, _check_int_range, asarray_value
from pyjax._src.config import config
from pyjax._src.core import Tracer
from pyjax._src.lax import lax, slicing
from pyjax._src.sharding import NamedSharding

_scalar_types = (bool, int, float, complex)


def staged_jit(fun=None, *, static_argnums=(), static_argnames=()):
  """JAX's ``@jit`` on a jnp function, for the jaxpr only: under a staging trace
  (``jit``, ``make_jaxpr``) a call is a nested ``jit[name=...]`` equation as in JAX's
  jaxprs; outside one the function runs directly (the eager path stays one NumPy call
  per op, and vmap/grad see its primitives)."""
  if fun is None:
    return functools.partial(staged_jit, static_argnums=static_argnums,
                             static_argnames=static_argnames)
  jitted = pjit.jit(fun, static_argnums=static_argnums, static_argnames=static_argnames)
  eval_trace, trace_ctx = core.eval_trace, core.trace_ctx
  staging = core.unsafe_am_i_under_a_jit

  @functools.wraps(fun)
  def call(*args, **kwargs):
    if trace_ctx.trace is eval_trace or not staging():
      return fun(*args, **kwargs)
    return jitted(*args, **kwargs)
  call.__wrapped__ = fun
  return call


def _arraylike(x) -> bool:
  return (isinstance(x, (ArrayImpl, Tracer, np.ndarray, np.generic)) or
          type(x) in _scalar_types or hasattr(x, "__jax_array__"))


def check_arraylike(fun_name: str, *args) -> None:
  for pos, a in enumerate(args):
    if not _arraylike(a):
      raise TypeError(f"{fun_name} requires ndarray or scalar arguments, got {type(a)} at "
                      f"position {pos}.")


def ensure_arraylike(fun_name: str, *args):
  check_arraylike(fun_name, *args)
  out = [asarray(a) for a in args]
  return out[0] if len(out) == 1 else out


def asarray(x):
  """Array or tracer for any array-like, keeping Python scalars weakly typed."""
  if type(x) is ArrayImpl or isinstance(x, Tracer):
    return x
  if hasattr(x, "__jax_array__"):
    return asarray(x.__jax_array__())
  return asarray_value(x)


def _lattice(*args):
  """Common dtype of args as jnp ops promote (weak results keep their width)."""
  dt, weak = dtypes.lattice_result_type(*args)
  return dtypes.canonicalize_dtype(dt), weak


def promote_dtypes(*args):
  """Converts args to their common dtype (JAX's lattice, weak types respected)."""
  if len(args) < 2:
    return [asarray(a) for a in args]
  to_dtype, weak = _lattice(*args)
  return [lax._convert_element_type(a, to_dtype, weak) for a in args]


def promote_dtypes_inexact(*args):
  to_dtype, weak = _lattice(*args)
  to_dtype = dtypes.to_inexact_dtype(to_dtype)
  return [lax._convert_element_type(a, to_dtype, weak) for a in args]


def promote_dtypes_numeric(*args):
  to_dtype, weak = _lattice(*args)
  to_dtype = dtypes.to_numeric_dtype(to_dtype)
  return [lax._convert_element_type(a, to_dtype, weak) for a in args]


def promote_dtypes_complex(*args):
  to_dtype, weak = _lattice(*args)
  to_dtype = dtypes.to_complex_dtype(to_dtype)
  return [lax._convert_element_type(a, to_dtype, weak) for a in args]


def broadcast_shapes(*shapes) -> tuple:
  """NumPy broadcasting of static shapes, with JAX's error message."""
  if len(shapes) == 1:
    return tuple(shapes[0])
  nd = max(len(s) for s in shapes)
  out = []
  for dims in zip(*((1,) * (nd - len(s)) + tuple(s) for s in shapes)):
    big = [d for d in dims if d != 1]
    if big and any(d != big[0] for d in big):
      raise ValueError(f"Incompatible shapes for broadcasting: shapes="
                       f"{[tuple(s) for s in shapes]}")
    out.append(big[0] if big else 1)
  return tuple(out)


def promote_shapes(fun_name: str, *args, rank_only=False):
  """Broadcasts args to a common shape (scalars stay rank 0: lax accepts them). With
  ``rank_only`` (JAX's promote_shapes, for operands of one lax binary op) only the rank:
  lax broadcasts size-1 dimensions itself."""
  if len(args) < 2:
    return list(args)
  shapes = [np.shape(a) if not hasattr(a, "shape") else a.shape for a in args]
  nonscalar = [s for s in shapes if len(s)]
  if not nonscalar or all(s == nonscalar[0] for s in nonscalar):
    return list(args)
  if rank_only and len({len(s) for s in nonscalar}) == 1:
    return list(args)
  if config.jax_numpy_rank_promotion != "allow":
    ranks = {len(s) for s in nonscalar}
    if len(ranks) > 1:
      msg = (f"Operands could not be broadcast together for {fun_name} on shapes "
             f"{' '.join(map(str, shapes))} and with the config option "
             f"jax_numpy_rank_promotion='{config.jax_numpy_rank_promotion}'.")
      if config.jax_numpy_rank_promotion == "raise":
        raise ValueError(msg)
      import warnings
      warnings.warn(msg)
  try:
    result = broadcast_shapes(*shapes)
  except ValueError:
    if len({len(s) for s in nonscalar}) > 1:  # as JAX: ranks differ, broadcast_shapes'
      raise
    raise TypeError(f"{fun_name} got incompatible shapes for broadcasting: "
                    f"{', '.join(map(str, shapes))}.") from None
  if rank_only:
    return [a if (len(s) == 0 or len(s) == len(result)) else
            lax.broadcast_to_rank(a, len(result)) for a, s in zip(args, shapes)]
  return [a if (len(s) == 0 or s == result) else _broadcast_to(a, result)
          for a, s in zip(args, shapes)]


def _broadcast_to(x, shape):
  """Broadcasts ``x`` (rank <= len(shape)) to ``shape`` with NumPy's rules."""
  nd = len(shape)
  xs = x.shape
  lead = nd - len(xs)
  if any(d != 1 and d != shape[lead + i] for i, d in enumerate(xs)):
    raise ValueError(f"Incompatible shapes for broadcasting: {xs} and requested shape {shape}")
  # Squeeze size-1 dims that expand, then broadcast_in_dim the rest.
  keep = [i for i, d in enumerate(xs) if d == shape[lead + i]]
  if len(keep) != len(xs):
    x = lax.reshape(x, tuple(xs[i] for i in keep))
  return lax.broadcast_in_dim(x, shape, tuple(lead + i for i in keep))


_scalar_kind_ok = {int: "iuf" "c", float: "fc"}


def _scalar_fast(x, y):
  """(x, y) when x is an array and y a Python int/float that takes x's dtype as is."""
  ok = _scalar_kind_ok.get(type(y))
  if ok is not None and type(x) is ArrayImpl:
    dt = x._value.dtype
    if dt.kind in ok and dt.kind != "V":
      if type(y) is int and dt.kind in "iu":
        _check_int_range(y, dt)
      return x, ArrayImpl(dt.type(y), True)
  return None


def promote_args(fun_name: str, *args, rank_only=False):
  if len(args) == 2:
    fast = _scalar_fast(args[0], args[1])
    if fast is not None:
      return fast
    fast = _scalar_fast(args[1], args[0])
    if fast is not None:
      return fast[::-1]
  check_arraylike(fun_name, *args)
  try:
    return promote_shapes(fun_name, *promote_dtypes(*args), rank_only=rank_only)
  except ValueError:
    _check_no_float0s(fun_name, args)
    raise


def promote_args_numeric(fun_name: str, *args, rank_only=False):
  check_arraylike(fun_name, *args)
  try:
    return promote_shapes(fun_name, *promote_dtypes_numeric(*args),
                          rank_only=rank_only)
  except ValueError:
    _check_no_float0s(fun_name, args)
    raise


def promote_args_inexact(fun_name: str, *args, rank_only=False):
  check_arraylike(fun_name, *args)
  try:
    return promote_shapes(fun_name, *promote_dtypes_inexact(*args),
                          rank_only=rank_only)
  except ValueError:
    _check_no_float0s(fun_name, args)
    raise


def _check_no_float0s(fun_name, args):
  """JAX's TypeError for a float0 operand (checked once promotion has failed: the eager
  path pays nothing for it)."""
  if any(getattr(a, "dtype", None) == dtypes.float0 for a in args):
    raise TypeError(
        f"Called {fun_name} with a float0 array. float0s do not support any operations by "
        f"design because they are not compatible with non-trivial vector spaces. No "
        f"implicit dtype conversion is done. You can use np.zeros_like(arr, dtype=np.float) "
        f"to cast a float0 array to a regular zeros array. \nIf you didn't expect to get a "
        f"float0 you might have accidentally taken a gradient with respect to an integer "
        f"argument.") from None


def canonicalize_axis(axis, ndim: int) -> int:
  import operator
  try:
    axis = operator.index(axis)
  except TypeError:
    if isinstance(axis, Tracer):  # JAX's TracerIntegerConversionError
      raise
    raise TypeError(f"axis must be an integer, got {axis!r}") from None
  if not -ndim <= axis < max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
    raise np.exceptions.AxisError(axis, ndim)  # a ValueError and an IndexError, as NumPy's
  return axis % ndim if ndim else 0


# ------------------------------------------------------------ jnp.array and jnp.stack
# Here rather than in lax_numpy because indexing (below lax_numpy) builds index arrays
# from lists of tracers with them.


def _is_traced_seq(obj):
  if isinstance(obj, (list, tuple)):
    return builtins.any(_is_traced_seq(o) for o in obj)
  return isinstance(obj, Tracer)


def _flatten_nested(obj):
  out = []
  todo = [obj]
  while todo:
    o = todo.pop()
    if isinstance(o, (list, tuple)):
      todo.extend(reversed(o))
    else:
      out.append(o)
  return out


def _array_of_arrays(object, leaves, dtype):
  """JAX's way with a list holding arrays or tracers: each element converted to the
  common dtype, given a leading axis and concatenated (in groups of 16)."""
  if builtins.any(l is None for l in leaves):
    raise ValueError("None is not a valid value for jnp.array")
  dt = dtypes.result_type(*leaves) if dtype is None else dtypes.canonicalize_dtype(dtype)
  arrs = [lax.expand_dims(array(o, dtype=dt, copy=False), (0,)) for o in object]
  while len(arrs) > 16:
    arrs = [slicing.concatenate(arrs[i:i + 16], 0) for i in range(0, len(arrs), 16)]
  return slicing.concatenate(arrs, 0)


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
    out = asarray(object.__jax_array__())
  elif isinstance(object, (list, tuple)):
    if not object:
      out = asarray_value(np.array([], dtype=dtypes.default_float_dtype() if dtype is None
                                   else dtypes.canonicalize_dtype(dtype)))
    else:
      leaves = _flatten_nested(object)
      if _is_traced_seq(object) or builtins.any(isinstance(l, ArrayImpl) for l in leaves):
        out = _array_of_arrays(object, leaves, dtype)
      else:
        np_val = np.array(object) if dtype is None else np.array(object, dtype=dtype)
        if np_val.dtype == np.dtype("O"):
          raise TypeError("JAX only supports number and bool dtypes, got dtype object "
                          "in array")
        if dtype is None:
          np_val = np_val.astype(dtypes.result_type(*leaves))
        out = asarray_value(np_val)
  else:
    if type(object) in (bool, int, float, complex):
      if dtype is not None and type(object) is int:  # range-check against dtype itself
        out = asarray_value(object, dtypes.canonicalize_dtype(dtype))
      else:
        out = asarray(object)
      weak = dtype is None and type(object) is not bool
    else:
      if isinstance(object, (np.ndarray, np.generic)) and object.dtype == np.dtype("O"):
        raise TypeError("JAX only supports number and bool dtypes, got dtype object in array")
      if isinstance(object, (str, bytes)):  # (JAX's error names the value)
        raise TypeError(f"Value '{object}' with dtype {np.asarray(object).dtype} is not a "
                        f"valid JAX array type. Only arrays of numeric types are supported "
                        f"by JAX.")
      out = asarray_value(np.asarray(object))
  if dtype is not None and type(out) is ArrayImpl and (
      type(object) in _scalar_types or isinstance(object, (np.ndarray, np.generic))):
    # A host value: converted here, as JAX folds the conversion of a constant (no
    # convert_element_type equation when staged).
    dt = dtypes.canonicalize_dtype(dtype)
    if out.dtype != dt or out.weak_type != weak:
      v = np.asarray(out._value)
      if v.dtype.kind == "c" and dt.kind != "c":
        v = v.real
      out = ArrayImpl(v.astype(dt), weak)
  elif dtype is not None:
    out = lax._convert_element_type(out, dtypes.canonicalize_dtype(dtype), weak)
  elif not weak and out.weak_type:
    out = lax._convert_element_type(out, out.dtype, False)
  elif copy and type(out) is ArrayImpl and out is object:  # a sharded array stays so
    d = out._device
    out = ArrayImpl(out._value, out.weak_type, d if isinstance(d, NamedSharding) else None)
  if ndmin > out.ndim:
    out = lax.expand_dims(out, tuple(range(ndmin - out.ndim)))
  return out


def stack(arrays, axis=0, out=None, dtype=None):
  if not len(arrays):
    raise ValueError("Need at least one array to stack.")
  if isinstance(arrays, (np.ndarray, ArrayImpl, Tracer)):  # (JAX: expand, concatenate)
    a = asarray(arrays)
    axis = canonicalize_axis(axis, a.ndim)
    parts = [lax.expand_dims(p, (axis,)) for p in _unstack_all(a)]
    if dtype is not None:
      parts = [lax._convert_element_type(p, dtypes.canonicalize_dtype(dtype)) for p in parts]
    return slicing.concatenate(parts, axis)
  arrays = [asarray(a) for a in arrays]
  if dtype is not None:  # (JAX's: a stack primitive of the promoted operands)
    arrays = [asarray(a, dtype=dtype) for a in arrays]
  else:
    arrays = promote_dtypes(*arrays)
  return slicing.stack(arrays, axis)


def _unstack_all(a):
  return [a[i] for i in range(a.shape[0])]


@staged_jit
def _where(condition, x, y):
  """``jnp.where(condition, x, y)`` (a ``jit[name=_where]`` in jaxprs, as JAX's)."""
  cond = asarray(condition)
  if cond.dtype != np.bool_:
    cond = lax.ne(cond, lax._const(cond, 0))
  x, y = promote_dtypes(x, y)
  if cond.ndim == 0:  # (as JAX: a scalar condition is not broadcast; select takes it)
    shape = broadcast_shapes(x.shape, y.shape)
    x, y = [v if v.shape == shape else _broadcast_to(v, shape) for v in (x, y)]
  else:
    shape = broadcast_shapes(cond.shape, x.shape, y.shape)
    cond, x, y = [v if v.shape == shape else _broadcast_to(v, shape) for v in (cond, x, y)]
  return lax.select(cond, x, y)


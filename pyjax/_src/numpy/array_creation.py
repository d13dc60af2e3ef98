"""jax.numpy array creation: filled arrays, ranges, grids and index arrays built from
shapes (the ``*_like`` functions from an array's shape and dtype)."""
from __future__ import annotations

import builtins
import operator

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.errors import out_of_memory
from pyjax._src.lax import lax, slicing
from pyjax._src.lax.sharding_ops import reshard
from pyjax._src.mesh import get_concrete_mesh
from pyjax._src.sharding import NamedSharding, PartitionSpec
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.lax_numpy import (_dtype_arg, _shape_arg, _static_int, asarray,
                                        broadcast_to, clip, moveaxis, swapaxes, where)
from pyjax._src.numpy.util import stack
from pyjax._src.numpy.util import asarray as _asarray, check_arraylike, promote_shapes


def _out_sharding(device, out_sharding):
  """The sharding asked for by ``out_sharding`` or a sharding passed as ``device``."""
  if out_sharding is not None:
    return out_sharding
  if isinstance(device, (NamedSharding, PartitionSpec)):
    return device
  mesh = get_concrete_mesh()  # JAX's: under set_mesh, replicated over its devices
  if device is None and mesh is not None and not mesh.empty:
    return NamedSharding(mesh, PartitionSpec())
  return None


def zeros(shape, dtype=None, *, device=None, out_sharding=None):
  shape = _shape_arg(shape, "zeros")
  if builtins.any(d < 0 for d in shape):
    raise TypeError(f"negative dimensions are not allowed, got shape {shape}")
  return lax.full(shape, 0, _dtype_arg(dtype, "zeros"),
                  sharding=_out_sharding(device, out_sharding))


def ones(shape, dtype=None, *, device=None, out_sharding=None):
  shape = _shape_arg(shape, "ones")
  if builtins.any(d < 0 for d in shape):
    raise TypeError(f"negative dimensions are not allowed, got shape {shape}")
  return lax.full(shape, 1, _dtype_arg(dtype, "ones"),
                  sharding=_out_sharding(device, out_sharding))


def empty(shape, dtype=None, *, device=None, out_sharding=None):
  return zeros(shape, dtype, device=device, out_sharding=out_sharding)


def full(shape, fill_value, dtype=None, *, device=None, out_sharding=None):
  shape = _shape_arg(shape, "full")
  if dtype is not None:
    dtypes.check_user_dtype_supported(dtype, "full")
  fill_value = _asarray(fill_value) if not isinstance(fill_value, (int, float, complex, bool)) \
      else fill_value
  sharding = _out_sharding(device, out_sharding)
  if getattr(fill_value, "ndim", 0) == 0:
    return lax.full(shape, fill_value, dtype, sharding=sharding)
  fv = fill_value if dtype is None else lax._convert_element_type(fill_value, dtype)
  out = broadcast_to(fv, shape)
  return out if sharding is None else reshard(out, sharding)


def _duck_typed(a) -> bool:
  """Whether ``a`` is no array but has ``shape`` and ``dtype`` (a ShapeDtypeStruct):
  JAX's ``*_like`` functions take those from it (Optax builds states from them)."""
  return (hasattr(a, "shape") and hasattr(a, "dtype")
          and not isinstance(a, (ArrayImpl, core.Tracer, np.ndarray, np.generic)))


def _like_value(name, a, value, dtype, shape, out_sharding=None):
  if dtype is not None:
    dtypes.check_user_dtype_supported(dtype, name)
  shape = None if shape is None else _shape_arg(shape, name)
  if _duck_typed(a):
    dt = dtypes.canonicalize_dtype(a.dtype if dtype is None else dtypes.dtype(dtype))
    weak = dtype is None and bool(getattr(a, "weak_type", False))
    fv = lax._convert_element_type(value, dt, weak)
    out = lax.broadcast(fv, tuple(a.shape) if shape is None else tuple(shape))
    return out if out_sharding is None else reshard(out, out_sharding)
  check_arraylike(name, a)
  return lax.full_like(_asarray(a), value, dtype, shape, sharding=out_sharding)


def zeros_like(a, dtype=None, shape=None, *, device=None, out_sharding=None):
  return _like_value("zeros_like", a, 0, dtype, shape, out_sharding)


def ones_like(a, dtype=None, shape=None, *, device=None, out_sharding=None):
  return _like_value("ones_like", a, 1, dtype, shape, out_sharding)


def empty_like(prototype, dtype=None, shape=None, *, device=None):
  return _like_value("empty_like", prototype, 0, dtype, shape)


def full_like(a, fill_value, dtype=None, shape=None, *, device=None, out_sharding=None):
  fv = _asarray(fill_value)
  if fv.ndim == 0:
    return _like_value("full_like", a, fill_value, dtype, shape, out_sharding)
  if not _duck_typed(a):
    check_arraylike("full_like", a)
    a = _asarray(a)
  out_shape = tuple(a.shape) if shape is None else _shape_arg(shape, "full_like")
  out = broadcast_to(lax._convert_element_type(fv, dtype or a.dtype), out_shape)
  return out if out_sharding is None else reshard(out, out_sharding)


def arange(start, stop=None, step=None, dtype=None, *, device=None, out_sharding=None):
  """Evenly spaced values; arguments must be concrete."""
  sharding = _out_sharding(device, out_sharding)
  out, placed = _arange(start, stop, step, dtype, sharding)
  return out if sharding is None or placed else reshard(out, sharding)


def _arange(start, stop, step, dtype, sharding=None):
  if dtype is not None:
    dtypes.check_user_dtype_supported(dtype, "arange")
  ctx = "It arose in the jnp.arange argument '{}'"
  start = core.concrete_or_error(
      None, start, ctx.format("stop" if stop is None and step is None else "start"))
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
  if any(isinstance(v, complex) for v in vals):
    raise ValueError("Passing complex start/stop/step to jnp.arange is no longer supported"
                     " starting in JAX v0.10.0.")
  try:
    return _arange_iota(*vals, dtype, sharding), True
  except MemoryError as e:
    raise out_of_memory(getattr(e, "_total_size", 0)) from None


def _arange_iota(start, stop, step, dtype, sharding):
  """As JAX: an iota, scaled and shifted in the result dtype (float32 for half floats);
  eagerly the same arithmetic in NumPy."""
  if stop is None:
    start, stop = 0, start
  if sharding is None and core.trace_ctx.trace is core.eval_trace:
    return _asarray(_arange_np(start, stop, step, dtype))
  if step is not None:
    work = (np.dtype(np.float32) if dtype.kind == "f" and dtype.itemsize < 4 or
            dtype == dtypes.bfloat16 else dtype)
    size = builtins.max(0, int(np.ceil((stop - start) / step)))
    out = lax.add(lax.convert_element_type(start, work),
                  lax.mul(lax.convert_element_type(step, work),
                          lax.broadcasted_iota(work, (size,), 0, out_sharding=sharding)))
    return lax.convert_element_type(out, dtype)
  if start == 0:
    size = builtins.max(0, int(np.ceil(stop)))
    return lax.broadcasted_iota(dtype, (size,), 0, out_sharding=sharding)
  size = builtins.max(0, int(np.ceil(stop - start)))
  return lax.add(lax.convert_element_type(start, dtype),
                 lax.broadcasted_iota(dtype, (size,), 0, out_sharding=sharding))


def _arange_np(start, stop, step, dtype):
  """``_arange_iota``'s values, computed in NumPy (IEEE arithmetic in the same dtypes)."""
  if step is not None:
    work = (np.dtype(np.float32) if dtype.kind == "f" and dtype.itemsize < 4 or
            dtype == dtypes.bfloat16 else dtype)
    size = builtins.max(0, int(np.ceil((stop - start) / step)))
    with np.errstate(over="ignore", invalid="ignore"):
      out = np.asarray(start).astype(work) + np.asarray(step).astype(work) * np.arange(
          size, dtype=work)
    return out.astype(dtype)
  if start == 0:
    return np.arange(builtins.max(0, int(np.ceil(stop))), dtype=dtype)
  size = builtins.max(0, int(np.ceil(stop - start)))
  with np.errstate(over="ignore"):
    return np.asarray(start).astype(dtype) + np.arange(size, dtype=dtype)


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
      out = slicing.concatenate([slicing.slice_in_dim(out, 0, num - 1), last], 0) \
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
  return slicing.concatenate([slicing.slice_in_dim(out, 0, out.shape[0] - 1), last], 0)


def eye(N, M=None, k=0, dtype=None, *, device=None):
  N = core.canonicalize_dim(N, "argument of 'N' jnp.eye()")
  M = N if M is None else core.canonicalize_dim(M, "argument 'M' of jnp.eye()")
  if N < 0 or M < 0:
    raise ValueError(f"negative dimensions are not allowed, got {N} and {M}")
  k = operator.index(k)
  dt = _dtype_arg(dtype, "eye")
  rows = lax.broadcasted_iota(np.int32, (N, M), 0)
  cols = lax.broadcasted_iota(np.int32, (N, M), 1)
  return lax.convert_element_type(lax.eq(lax.add(rows, lax._const(rows, k)), cols), dt)


def identity(n, dtype=None):
  return eye(n, dtype=dtype)


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


def mask_indices(n, mask_func, k=0, *, size=None):
  m = np.asarray(mask_func(np.ones((n, n), np.int32), k))
  return _int_tuple(np.nonzero(m))


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


def from_dlpack(x, /, *, device=None, copy=None):
  """An Array from an object with ``__dlpack__`` (a NumPy array, a JAX or pyjax array):
  the values are read through NumPy's DLPack import and canonicalized as by jnp.asarray."""
  if isinstance(x, (ArrayImpl, core.Tracer)):
    return asarray(x, copy=copy)
  if not (hasattr(x, "__dlpack__") and hasattr(x, "__dlpack_device__")):
    raise TypeError("The array passed to from_dlpack must have __dlpack__ and "
                    "__dlpack_device__ methods.")
  return asarray(np.from_dlpack(x), copy=copy)


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]

__all__ += ["mgrid", "ogrid", "r_", "c_"]

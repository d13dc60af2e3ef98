"""``jnp.ufunc``: JAX's universal-function objects. ``jnp.add``, ``jnp.multiply``, ... (the
14 names JAX makes ufuncs) are instances wrapping the plain functions of ``ufuncs``, with
``reduce``/``accumulate``/``at``/``outer``/``reduceat``; ``frompyfunc`` makes one from any
scalar function (called through ``vectorize``, i.e. vmap). The library code calls the
plain functions; a call through the object adds one Python call."""
from __future__ import annotations

import math
import operator

import numpy as np

from pyjax._src import api_util
from pyjax._src.core import ShapedArray
from pyjax._src.interpreters import batching
from pyjax._src.lax import lax, slicing
from pyjax._src.lax import reductions as lax_reductions
from pyjax._src.lax.control_flow import loops
from pyjax._src.numpy import indexing, reductions, ufuncs
from pyjax._src.numpy.lax_numpy import asarray, moveaxis, where as _where
from pyjax._src.numpy.util import (_broadcast_to, canonicalize_axis, check_arraylike,
                                   promote_dtypes_inexact)
from pyjax._src.numpy.vectorize import vectorize

_AT_INPLACE_WARNING = """\
Because JAX arrays are immutable, jnp.ufunc.at() cannot operate inplace like
np.ufunc.at(). Instead, you can pass inplace=False and capture the result; e.g.
>>> arr = jnp.add.at(arr, ind, val, inplace=False)
"""


def _out_dtype(func, *args):
  """The dtype ``func`` gives for scalars of the dtypes of ``args`` (traced, not run)."""
  avals = [ShapedArray((), asarray(a).dtype) for a in args]
  closed, _, _ = api_util.trace_to_jaxpr(lambda *xs: [func(*xs)], avals)
  return closed.out_avals[0].dtype


class ufunc:
  """A universal function: elementwise ``__call__`` plus ``reduce``, ``accumulate``,
  ``at``, ``outer`` and ``reduceat`` (JAX's ``jax.numpy.ufunc``)."""

  def __init__(self, func, /, nin, nout, *, name=None, nargs=None, identity=None,
               call=None, reduce=None, accumulate=None, at=None, reduceat=None):
    self.__doc__ = func.__doc__
    self.__name__ = name or func.__name__
    self._func = func
    self._nin, self._nout = operator.index(nin), operator.index(nout)
    self._nargs = operator.index(nargs or nin)
    self._identity = identity
    self._call = call or self._call_vectorized
    self._reduce, self._accumulate, self._at, self._reduceat = reduce, accumulate, at, reduceat

  nin = property(lambda self: self._nin)
  nout = property(lambda self: self._nout)
  nargs = property(lambda self: self._nargs)
  identity = property(lambda self: self._identity)

  def _key(self):
    return (self._func, self.__name__, self._identity, self._nin, self._nout, self._nargs)

  def __hash__(self):
    return hash(self._key())

  def __eq__(self, other):
    return isinstance(other, ufunc) and self._key() == other._key()

  def __repr__(self):
    return f"<jnp.ufunc '{self.__name__}'>"

  def __call__(self, *args, out=None, where=None):
    if out is not None:
      raise NotImplementedError(f"out argument of {self}")
    if where is not None:
      raise NotImplementedError(f"where argument of {self}")
    return self._call(*args)

  def _call_vectorized(self, *args):
    check_arraylike(self.__name__, *args)
    return vectorize(self._func)(*args)

  # ---------------------------------------------------------------- reduce

  def reduce(self, a, axis=0, dtype=None, out=None, keepdims=False, initial=None,
             where=None):
    check_arraylike(f"{self.__name__}.reduce", a)
    if self.nin != 2:
      raise ValueError("reduce only supported for binary ufuncs")
    if self.nout != 1:
      raise ValueError("reduce only supported for functions returning a single value")
    if out is not None:
      raise NotImplementedError(f"out argument of {self.__name__}.reduce()")
    if initial is not None:
      check_arraylike(f"{self.__name__}.reduce", initial)
    if where is not None:
      check_arraylike(f"{self.__name__}.reduce", where)
      if self.identity is None and initial is None:
        raise ValueError(f"reduction operation {self.__name__!r} does not have an "
                         "identity, so to use a where mask one has to specify 'initial'.")
      if asarray(where).dtype != np.bool_:
        raise ValueError(f"where argument must have dtype=bool; got "
                         f"dtype={asarray(where).dtype}")
    reduce = self._reduce or self._reduce_via_scan
    return reduce(a, axis=axis, dtype=dtype, keepdims=keepdims, initial=initial,
                  where=where)

  def _reduce_via_scan(self, arr, axis=0, dtype=None, keepdims=False, initial=None,
                       where=None):
    arr = asarray(arr)
    if initial is None:
      initial = self.identity
    if dtype is None:
      dtype = _out_dtype(self._func, arr, arr)
    if where is not None:
      where = _broadcast_to(asarray(where), arr.shape)
    if isinstance(axis, tuple):
      axis = tuple(canonicalize_axis(a, arr.ndim) for a in axis)
      raise NotImplementedError("tuple of axes")
    if axis is None:
      final_shape = (1,) * arr.ndim if keepdims else ()
      arr = lax.reshape(arr, (arr.size,))
      if where is not None:
        where = lax.reshape(where, (where.size,))
      axis = 0
    else:
      axis = canonicalize_axis(axis, arr.ndim)
      final_shape = ((*arr.shape[:axis], 1, *arr.shape[axis + 1:]) if keepdims
                     else (*arr.shape[:axis], *arr.shape[axis + 1:]))
    if axis != 0:
      arr = moveaxis(arr, axis, 0)
      if where is not None:
        where = moveaxis(where, axis, 0)
    if arr.shape[0] == 0:
      if initial is None:
        raise ValueError(f"zero-size array to reduction operation {self.__name__} which "
                         "has no identity")
      return lax.full(final_shape, initial, dtype)

    def body(i, val):
      new = self(val, lax._convert_element_type(arr[i], dtype))
      return new if where is None else _where(where[i], new, val)

    if initial is None:
      start, init = 1, arr[0]
    else:
      start, init = 0, initial
    init = _broadcast_to(lax._convert_element_type(asarray(init), dtype), arr.shape[1:])
    result = loops.fori_loop(start, arr.shape[0], body, init)
    return lax.reshape(result, final_shape) if keepdims else result

  # ---------------------------------------------------------------- accumulate

  def accumulate(self, a, axis=0, dtype=None, out=None):
    if self.nin != 2:
      raise ValueError("accumulate only supported for binary ufuncs")
    if self.nout != 1:
      raise ValueError("accumulate only supported for functions returning a single value")
    if out is not None:
      raise NotImplementedError(f"out argument of {self.__name__}.accumulate()")
    accumulate = self._accumulate or self._accumulate_via_scan
    return accumulate(a, axis=axis, dtype=dtype)

  def _accumulate_via_scan(self, arr, axis=0, dtype=None):
    check_arraylike(f"{self.__name__}.accumulate", arr)
    arr = asarray(arr)
    if dtype is None:
      dtype = _out_dtype(self._func, arr, arr)
    if axis is None or isinstance(axis, tuple):
      raise ValueError("accumulate does not allow multiple axes")
    axis = canonicalize_axis(axis, arr.ndim)
    if arr.size == 0:
      return lax.full(arr.shape, 0, dtype)
    arr = lax._convert_element_type(moveaxis(arr, axis, 0), dtype)
    first = arr[0:1]

    def step(acc, x):
      y = self(acc, x)
      return y, y
    _, rest = loops.scan(step, arr[0], arr[1:])
    result = slicing.concatenate([first, rest], 0)
    return moveaxis(result, 0, axis)

  # ---------------------------------------------------------------- at

  def at(self, a, indices, b=None, /, *, inplace=True):
    if inplace:
      raise NotImplementedError(_AT_INPLACE_WARNING)
    at = self._at or self._at_via_scan
    return at(a, indices) if b is None else at(a, indices, b)

  def _at_via_scan(self, a, indices, *args):
    check_arraylike(f"{self.__name__}.at", a, *args)
    dtype = _out_dtype(self._func, a, *args)
    a = lax._convert_element_type(asarray(a), dtype)
    args = tuple(lax._convert_element_type(asarray(x), dtype) for x in args)
    if not isinstance(indices, tuple):
      indices = (indices,)
    if not indices:
      return a
    shapes = [np.shape(i) for i in indices if not isinstance(i, slice)]
    shape = np.broadcast_shapes(*shapes) if shapes else ()
    if not shape:
      return a.at[indices].set(self(a.at[indices].get(), *args))
    if args:
      arg = _broadcast_to(args[0], (*shape, *args[0].shape[len(shape):]))
      args = (lax.reshape(arg, (math.prod(shape), *args[0].shape[len(shape):])),)
    indices = [i if isinstance(i, slice) else
               lax.reshape(_broadcast_to(asarray(i), shape), (math.prod(shape),))
               for i in indices]

    def step(carry, _):
      i, a = carry
      idx = tuple(ind if isinstance(ind, slice) else ind[i] for ind in indices)
      a = a.at[idx].set(self(a.at[idx].get(), *(x[i] for x in args)))
      return (i + 1, a), None
    (_, a), _ = loops.scan(step, (0, a), None, length=math.prod(shape))
    return a

  # ---------------------------------------------------------------- reduceat

  def reduceat(self, a, indices, axis=0, dtype=None, out=None):
    if self.nin != 2:
      raise ValueError("reduceat only supported for binary ufuncs")
    if self.nout != 1:
      raise ValueError("reduceat only supported for functions returning a single value")
    if out is not None:
      raise NotImplementedError(f"out argument of {self.__name__}.reduceat()")
    reduceat = self._reduceat or self._reduceat_via_scan
    return reduceat(a, indices, axis=axis, dtype=dtype)

  def _reduceat_via_scan(self, a, indices, axis=0, dtype=None):
    check_arraylike(f"{self.__name__}.reduceat", a, indices)
    a, indices = asarray(a), asarray(indices)
    if a.ndim == 0:
      raise ValueError(f"reduceat: a must have 1 or more dimension, got a.shape={a.shape}")
    if indices.ndim != 1:
      raise ValueError(f"reduceat: indices must be one-dimensional, got "
                       f"indices.shape={indices.shape}")
    if axis is None or isinstance(axis, (tuple, list)):
      raise ValueError("reduceat requires a single integer axis.")
    axis = canonicalize_axis(axis, a.ndim)
    out = indexing.take(a, indices, axis=axis)
    n = a.shape[axis]
    ends = slicing.concatenate([indices, lax.full((1,), n, indices.dtype)], 0)
    bdims = tuple(d for d in range(out.ndim) if d != axis)
    ind = lax.expand_dims(ends, bdims)
    start = slicing.slice_in_dim(ind, 0, ind.shape[axis] - 1, axis=axis)
    end = slicing.slice_in_dim(ind, 1, ind.shape[axis], axis=axis)

    def body(i, out):
      return _where(ufuncs.logical_and(ufuncs.greater(i, start), ufuncs.less(i, end)),
                    self(out, indexing.take(a, lax.expand_dims(i, (0,)), axis=axis)), out)
    return loops.fori_loop(0, n, body, out)

  # ---------------------------------------------------------------- outer

  def outer(self, A, B, /):
    if self.nin != 2:
      raise ValueError("outer only supported for binary ufuncs")
    if self.nout != 1:
      raise ValueError("outer only supported for functions returning a single value")
    check_arraylike(f"{self.__name__}.outer", A, B)
    A, B = asarray(A), asarray(B)
    flat = batching.vmap(batching.vmap(self, (None, 0)), (0, None))(
        lax.reshape(A, (A.size,)), lax.reshape(B, (B.size,)))
    return lax.reshape(flat, (*A.shape, *B.shape))


def frompyfunc(func, /, nin, nout, *, identity=None):
  """A ``jnp.ufunc`` from a scalar function (called through ``jnp.vectorize``)."""
  return ufunc(func, nin, nout, identity=identity)


# ------------------------------------------------------------ the built-in ufuncs

def _bool_as_int_at(method):
  def at(a, indices, b):
    a = asarray(a)
    if a.dtype == np.bool_:
      b = lax._convert_element_type(lax._convert_element_type(asarray(b), np.bool_),
                                    np.int32)
      return lax._convert_element_type(
          getattr(lax._convert_element_type(a, np.int32).at[indices], method)(b), np.bool_)
    return getattr(a.at[indices], method)(b)
  return at


def _subtract_at(a, indices, b):
  return asarray(a).at[indices].subtract(b)


def _bitwise_reduce(name, prim_fn, ident):
  def reduce(a, axis=0, dtype=None, keepdims=False, initial=None, where=None):
    a = asarray(a)
    if a.dtype.kind not in "iub":
      raise ValueError(f"{name} requires integer dtype; got {a.dtype}")
    return reductions._reduction(a, name, prim_fn, lambda dt: ident if dt.kind != "u" or
                                 ident != -1 else np.iinfo(dt).max, axis, dtype, None,
                                 keepdims, initial, where)
  return reduce


def _logical_reduce(name, prim_fn, ident):
  def reduce(a, axis=0, dtype=None, keepdims=False, initial=None, where=None):
    a = ufuncs._to_bool(asarray(a))
    return reductions._reduction(a, name, prim_fn, lambda dt: ident, axis, dtype, None,
                                 keepdims, initial, where)
  return reduce


def _extremum_reduce(fn):
  def reduce(a, axis=0, dtype=None, keepdims=False, initial=None, where=None):
    if dtype is not None:
      a = lax._convert_element_type(asarray(a), dtype)
    return fn(a, axis=axis, keepdims=keepdims, initial=initial, where=where)
  return reduce


def _logsumexp(a, axis=0, dtype=None, keepdims=False, initial=None, where=None):
  """log(sum(exp(a))) shifted by the finite maximum (JAX's ``_logsumexp``)."""
  a, = promote_dtypes_inexact(asarray(a))
  re = ufuncs.real(a)
  amax = reductions.max(re, axis=axis, keepdims=True, where=where, initial=-np.inf)
  amax = lax.stop_gradient(lax.select(lax.is_finite(amax), amax, lax.full_like(amax, 0)))
  e = lax.exp(ufuncs.subtract(a, lax._convert_element_type(amax, a.dtype)))
  s = reductions.sum(e, axis=axis, keepdims=keepdims, where=where)
  if not keepdims:
    amax = reductions.sum(amax, axis=axis)  # drops the kept axes (of one element)
  out = lax.add(lax.log(s), lax._convert_element_type(amax, s.dtype))
  return out if initial is None else ufuncs.logaddexp(initial, out)


def _logsumexp2(a, axis=0, dtype=None, keepdims=False, initial=None, where=None):
  a, = promote_dtypes_inexact(asarray(a))
  ln2 = lax._const(a, np.log(2))
  out = lax.div(_logsumexp(lax.mul(a, ln2), axis=axis, keepdims=keepdims, where=where), ln2)
  return out if initial is None else ufuncs.logaddexp2(initial, out)


def _binary(func, identity, reduce=None, accumulate=None, at=None):
  return ufunc(func, 2, 1, name=func.__name__, call=func, identity=identity, reduce=reduce,
               accumulate=accumulate, at=at)


add = _binary(ufuncs.add, 0, reductions.sum, reductions.cumsum, _bool_as_int_at("add"))
multiply = _binary(ufuncs.multiply, 1, reductions.prod, reductions.cumprod,
                   _bool_as_int_at("multiply"))
subtract = _binary(ufuncs.subtract, None, at=_subtract_at)
bitwise_and = _binary(ufuncs.bitwise_and, -1,
                      _bitwise_reduce("bitwise_and", lax_reductions.reduce_and, -1))
bitwise_or = _binary(ufuncs.bitwise_or, 0,
                     _bitwise_reduce("bitwise_or", lax_reductions.reduce_or, 0))
bitwise_xor = _binary(ufuncs.bitwise_xor, 0,
                      _bitwise_reduce("bitwise_xor", lax_reductions.reduce_xor, 0))
logical_and = _binary(ufuncs.logical_and, True,
                      _logical_reduce("logical_and", lax_reductions.reduce_and, True))
logical_or = _binary(ufuncs.logical_or, False,
                     _logical_reduce("logical_or", lax_reductions.reduce_or, False))
logical_xor = _binary(ufuncs.logical_xor, False,
                      _logical_reduce("logical_xor", lax_reductions.reduce_xor, False))
maximum = _binary(ufuncs.maximum, None, _extremum_reduce(reductions.max))
minimum = _binary(ufuncs.minimum, None, _extremum_reduce(reductions.min))
logaddexp = _binary(ufuncs.logaddexp, -np.inf, _logsumexp)
logaddexp2 = _binary(ufuncs.logaddexp2, -np.inf, _logsumexp2)
negative = ufunc(ufuncs.negative, 1, 1, name="negative", call=ufuncs.negative)

__all__ = ["ufunc", "frompyfunc", "add", "multiply", "subtract", "bitwise_and",
           "bitwise_or", "bitwise_xor", "logical_and", "logical_or", "logical_xor",
           "maximum", "minimum", "logaddexp", "logaddexp2", "negative"]

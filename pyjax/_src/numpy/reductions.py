"""jax.numpy reductions: sum, prod, max, min, all, any, mean, var, std, arg*, cum*."""
from __future__ import annotations

import builtins
import math

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.lax import lax
from pyjax._src.numpy.util import asarray, canonicalize_axis, check_arraylike, promote_shapes


def _axes(axis, ndim, name):
  if axis is None:
    return tuple(range(ndim))
  if isinstance(axis, (tuple, list)):
    axes = tuple(canonicalize_axis(a, ndim) for a in axis)
    if len(set(axes)) != len(axes):
      raise ValueError(f"duplicate value in 'axis': {axis}")
    return axes
  return (canonicalize_axis(core.concrete_or_error(
      int, axis, f"axis argument of jnp.{name}() must be static"), ndim),)


def _keepdims(out, shape, axes, keepdims):
  if not keepdims:
    return out
  return lax.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(shape)))


def _reduction(a, name, prim_fn, identity, axis, dtype, out, keepdims, initial, where,
               upcast_small_ints=False, bool_op=None, promote_bool=None):
  if out is not None:
    raise NotImplementedError(f"The 'out' argument to jnp.{name} is not supported.")
  check_arraylike(name, a)
  a = asarray(a)
  axes = _axes(axis, a.ndim, name)
  if dtype is not None:
    dtypes.check_user_dtype_supported(dtype, name)
    a = lax._convert_element_type(a, dtype)
  elif upcast_small_ints and (a.dtype == np.bool_ or (
      a.dtype.kind in "iu" and a.dtype.itemsize < dtypes.default_int_dtype().itemsize)):
    a = lax._convert_element_type(
        a, dtypes.default_uint_dtype() if a.dtype.kind == "u" else dtypes.default_int_dtype(),
        a.weak_type)
  if where is not None:
    if identity is None:
      if initial is None:
        raise ValueError(f"reduction operation {name} does not have an identity, so to "
                         f"use a where mask one has to specify 'initial'")
      ident = initial
    else:
      ident = identity(a.dtype)
    where = asarray(where)
    a, where = promote_shapes(name, a, where)
    if where.shape != a.shape:
      a = lax.broadcast_in_dim(a, where.shape, tuple(range(where.ndim - a.ndim, where.ndim)))
    a = lax.select(where, a, lax.full_like(a, ident))
  if identity is None and initial is None and any(a.shape[i] == 0 for i in axes):
    raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
  res = prim_fn(a, axes)
  if initial is not None:
    init = lax._convert_element_type(initial, res.dtype)
    res = {"max": lax.max, "min": lax.min, "sum": lax.add, "prod": lax.mul}[
        name.replace("amax", "max").replace("amin", "min")](res, init)
  return _keepdims(res, a.shape, axes, keepdims)


def _zero(dt):
  return 0


def _one(dt):
  return 1


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
        promote_integers=True):
  """Sum of array elements over the given axes."""
  return _reduction(a, "sum", lax.reduce_sum, _zero, axis, dtype, out, keepdims, initial,
                    where, upcast_small_ints=promote_integers)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
         promote_integers=True):
  """Product of array elements over the given axes."""
  return _reduction(a, "prod", lax.reduce_prod, _one, axis, dtype, out, keepdims, initial,
                    where, upcast_small_ints=promote_integers)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):
  """Maximum over the given axes (NaN-propagating)."""
  return _reduction(a, "max", lax.reduce_max, None, axis, None, out, keepdims, initial, where)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):
  """Minimum over the given axes (NaN-propagating)."""
  return _reduction(a, "min", lax.reduce_min, None, axis, None, out, keepdims, initial, where)


amax, amin = max, min


def _to_bool_arr(a):
  a = asarray(a)
  return a if a.dtype == np.bool_ else lax.ne(a, lax._const(a, 0))


def all(a, axis=None, out=None, keepdims=False, *, where=None):
  check_arraylike("all", a)
  return _reduction(_to_bool_arr(a), "all", lax.reduce_and, lambda dt: True, axis, None,
                    out, keepdims, None, where)


def any(a, axis=None, out=None, keepdims=False, *, where=None):
  check_arraylike("any", a)
  return _reduction(_to_bool_arr(a), "any", lax.reduce_or, lambda dt: False, axis, None,
                    out, keepdims, None, where)


def _count(a, axes, where, keepdims, ndim):
  if where is None:
    return math.prod(a.shape[i] for i in axes)
  return sum(lax.broadcast_in_dim(asarray(where), a.shape,
                                  tuple(range(a.ndim - asarray(where).ndim, a.ndim)))
             if asarray(where).shape != a.shape else where,
             axis=axes, dtype=dtypes.default_int_dtype(), keepdims=keepdims)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
  """Arithmetic mean over the given axes; integers are averaged in float."""
  check_arraylike("mean", a)
  a = asarray(a)
  axes = _axes(axis, a.ndim, "mean")
  if dtype is None:
    res_dtype = dtypes.to_inexact_dtype(a.dtype)
  else:
    dtypes.check_user_dtype_supported(dtype, "mean")
    res_dtype = dtypes.canonicalize_dtype(dtype)
  total = sum(a, axis=axes, dtype=res_dtype, keepdims=keepdims, where=where)
  n = _count(a, axes, where, keepdims, a.ndim)
  if isinstance(n, int):
    return lax.div(total, lax._convert_element_type(n, total.dtype, True))
  return lax.div(total, lax._convert_element_type(n, total.dtype))


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        correction=None):
  """Variance over the given axes."""
  check_arraylike("var", a)
  a = asarray(a)
  if correction is not None:
    ddof = correction
  axes = _axes(axis, a.ndim, "var")
  comp = dtypes.to_inexact_dtype(a.dtype) if dtype is None else dtypes.canonicalize_dtype(dtype)
  a = lax._convert_element_type(a, comp, a.weak_type)
  centered = lax.sub(a, mean(a, axis=axes, keepdims=True, where=where))
  if centered.dtype.kind == "c":
    sq = lax.real(lax.mul(centered, lax.conj(centered)))
  else:
    sq = lax.mul(centered, centered)
  n = _count(a, axes, where, keepdims, a.ndim)
  total = sum(sq, axis=axes, keepdims=keepdims, where=where)
  if isinstance(n, int):
    denom = lax._convert_element_type(builtins.max(n - ddof, 0), total.dtype, True)
  else:
    denom = lax.max(lax.sub(lax._convert_element_type(n, total.dtype),
                            lax._convert_element_type(ddof, total.dtype)),
                    lax._convert_element_type(0, total.dtype))
  return lax.div(total, denom)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        correction=None):
  """Standard deviation over the given axes."""
  return lax.sqrt(var(a, axis, dtype, out, ddof, keepdims, where=where, correction=correction))


def _arg(name, prim_fn):
  def fn(a, axis=None, out=None, keepdims=None):
    if out is not None:
      raise NotImplementedError(f"The 'out' argument to jnp.{name} is not supported.")
    check_arraylike(name, a)
    a = asarray(a)
    if axis is None:
      flat = lax.reshape(a, (a.size,))
      if a.size == 0:
        raise ValueError(f"attempt to get {name} of an empty sequence")
      res = prim_fn(flat, 0, dtypes.default_int_dtype())
      return lax.reshape(res, (1,) * a.ndim) if keepdims else res
    ax = canonicalize_axis(axis, a.ndim)
    if a.shape[ax] == 0:
      raise ValueError(f"attempt to get {name} of an empty sequence")
    res = prim_fn(a, ax, dtypes.default_int_dtype())
    return lax.expand_dims(res, (ax,)) if keepdims else res
  fn.__name__ = name
  return fn


argmax = _arg("argmax", lax.argmax)
argmin = _arg("argmin", lax.argmin)


def _cum(name, prim_fn, upcast=True):
  def fn(a, axis=None, dtype=None, out=None):
    if out is not None:
      raise NotImplementedError(f"The 'out' argument to jnp.{name} is not supported.")
    check_arraylike(name, a)
    a = asarray(a)
    if axis is None:
      a = lax.reshape(a, (a.size,))
      axis = 0
    axis = canonicalize_axis(axis, a.ndim)
    if dtype is not None:
      a = lax._convert_element_type(a, dtype)
    elif upcast and (a.dtype == np.bool_ or (a.dtype.kind in "iu" and
                     a.dtype.itemsize < dtypes.default_int_dtype().itemsize)):
      a = lax._convert_element_type(a, dtypes.default_uint_dtype() if a.dtype.kind == "u"
                                    else dtypes.default_int_dtype())
    return prim_fn(a, axis)
  fn.__name__ = name
  return fn


cumsum = _cum("cumsum", lax.cumsum)
cumprod = _cum("cumprod", lax.cumprod)
cumulative_sum = cumsum
cumulative_prod = cumprod


def ptp(a, axis=None, out=None, keepdims=False):
  return lax.sub(max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims))


def count_nonzero(a, axis=None, keepdims=False):
  return sum(lax.ne(asarray(a), lax._const(asarray(a), 0)), axis=axis,
             dtype=dtypes.default_int_dtype(), keepdims=keepdims)


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]

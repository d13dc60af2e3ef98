"""jax.numpy reductions: sum, prod, max, min, all, any, mean, var, std, arg*, cum*."""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.lax import lax, slicing
from pyjax._src.lax import reductions as lax_reductions
from pyjax._src.numpy import sorting, ufuncs
from pyjax._src.numpy.util import _where, staged_jit
from pyjax._src.numpy.util import (asarray, canonicalize_axis, check_arraylike,
                                   promote_dtypes_inexact, promote_shapes)


def _axes(axis, ndim, name):
  if axis is None:
    return tuple(range(ndim))
  if isinstance(axis, (tuple, list)):
    axes = tuple(canonicalize_axis(a, ndim) for a in axis)
    if len(set(axes)) != len(axes):
      raise ValueError(f"duplicate value in 'axis': {axis}")
    return axes
  return (canonicalize_axis(core.concrete_or_error(
      operator.index, axis, "The axis argument must be known statically."), ndim),)


def _keepdims(out, shape, axes, keepdims):
  if not keepdims:
    return out
  return lax.expand_dims(out, tuple(sorted(axes)))  # (a broadcast_in_dim, as JAX's)


# How ``initial`` joins a reduction's result; for bool sums and products (as JAX: or, and)
# the reduction too.
_COMBINE = {"max": lax.max, "min": lax.min, "sum": lax.add, "prod": lax.mul}
_BOOL_REDUCTIONS = {"sum": (lax_reductions.reduce_or, lax.bitwise_or),
                    "prod": (lax_reductions.reduce_and, lax.bitwise_and)}


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
  elif (upcast_small_ints and a.dtype.kind in "iu" and
        a.dtype.itemsize < dtypes.default_int_dtype().itemsize) or (
        a.dtype == np.bool_ and name in ("sum", "prod")):
    a = lax._convert_element_type(
        a, dtypes.default_uint_dtype() if a.dtype.kind == "u" else dtypes.default_int_dtype(),
        a.weak_type)
  if a.weak_type:  # JAX's: reduced strongly typed (its transpose makes it weak again)
    a = lax._convert_element_type(a, a.dtype, False)
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
  if identity is None and initial is None and builtins.any(a.shape[i] == 0 for i in axes):
    raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
  combine = _COMBINE.get(name)
  if a.dtype == np.bool_ and name in _BOOL_REDUCTIONS:  # as JAX: logical or / and
    prim_fn, combine = _BOOL_REDUCTIONS[name]
  res = prim_fn(a, axes)
  if initial is not None:
    res = combine(lax._convert_element_type(initial, res.dtype), res)  # (initial first)
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
  return _reduction(a, "prod", lax_reductions.reduce_prod, _one, axis, dtype, out, keepdims,
                    initial, where, upcast_small_ints=promote_integers)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):
  """Maximum over the given axes (NaN-propagating)."""
  return _reduction(a, "max", lax_reductions.reduce_max, None, axis, None, out, keepdims,
                    initial, where)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):
  """Minimum over the given axes (NaN-propagating)."""
  return _reduction(a, "min", lax_reductions.reduce_min, None, axis, None, out, keepdims,
                    initial, where)


amax, amin = max, min


def _to_bool_arr(a):
  a = asarray(a)
  return a if a.dtype == np.bool_ else lax.ne(a, lax._const(a, 0))


def all(a, axis=None, out=None, keepdims=False, *, where=None):
  check_arraylike("all", a)
  return _reduction(_to_bool_arr(a), "all", lax_reductions.reduce_and, lambda dt: True,
                    axis, None, out, keepdims, None, where)


def any(a, axis=None, out=None, keepdims=False, *, where=None):
  check_arraylike("any", a)
  return _reduction(_to_bool_arr(a), "any", lax_reductions.reduce_or, lambda dt: False,
                    axis, None, out, keepdims, None, where)


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
  # half floats sum and divide in float32, as JAX's (a count over 65504 is inf in
  # float16)
  comp = np.dtype(np.float32) if res_dtype in (dtypes.bfloat16, np.dtype(np.float16)) \
      else res_dtype
  total = sum(a, axis=axes, dtype=comp, keepdims=keepdims, where=where)
  n = _count(a, axes, where, keepdims, a.ndim)
  if isinstance(n, int):
    out = lax.div(total, lax._convert_element_type(n, total.dtype, True))
  else:
    out = lax.div(total, lax._convert_element_type(n, total.dtype))
  return out if comp == res_dtype else lax._convert_element_type(out, res_dtype,
                                                                 out.weak_type)


def _static_axis(axis):
  """``axis`` as a static (hashable) jit argument: a list becomes a tuple."""
  return tuple(axis) if isinstance(axis, list) else axis


def _upcast_f16(dtype) -> np.dtype:
  dtype = np.dtype(dtype)
  return np.dtype(np.float32) if dtype in (np.dtype(np.float16), dtypes.bfloat16) else dtype


def _var_promote_types(a_dtype, dtype):
  """JAX's (computation dtype, result dtype) of var and std."""
  if dtype is not None:
    dtype = dtypes.canonicalize_dtype(dtype)
    if dtype.kind != "c" and a_dtype.kind == "c":
      raise ValueError(
          "jax.numpy.var does not yet support real dtype parameters when computing the "
          "variance of an array of complex values. The semantics of numpy.var seem "
          "unclear in this case. Please comment on https://github.com/jax-ml/jax/issues/"
          "2283 if this behavior is important to you.")
    comp = dtype
  elif a_dtype.kind not in "fc" and a_dtype != dtypes.bfloat16:
    comp = dtype = dtypes.to_inexact_dtype(a_dtype)
  else:
    comp, dtype = a_dtype, np.array(0, a_dtype).real.dtype
  return _upcast_f16(comp), np.dtype(dtype)


def _correction(name, a, ddof, correction):
  """var/std's degrees-of-freedom correction (ddof or correction, not both), as JAX."""
  if correction is None:
    correction = ddof
  elif not isinstance(ddof, int) or ddof != 0:
    raise ValueError("ddof and correction can't be provided simultaneously.")
  check_arraylike(name, a)
  return correction


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        mean=None, correction=None):
  """Variance over the given axes (NaN where the count less ``correction`` is not
  positive, as JAX)."""
  correction = _correction("var", a, ddof, correction)
  return _var(asarray(a), axis=_static_axis(axis), dtype=dtype, out=out,
              correction=correction, keepdims=keepdims, where=where, a_mean=mean)


@staged_jit(static_argnames=("axis", "dtype", "keepdims"))
def _var(a, *, axis=None, dtype=None, out=None, correction=0, keepdims=False, where=None,
         a_mean=None):
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.var is not supported.")
  comp, dtype = _var_promote_types(a.dtype, dtype)
  a = lax._convert_element_type(a, comp, False)
  axes = _axes(axis, a.ndim, "var")
  if a_mean is None:
    a_mean = mean(a, axis, dtype=comp, keepdims=True, where=where)
  else:
    a_mean = lax._convert_element_type(asarray(a_mean), comp, False)
  centered = lax.sub(a, a_mean)
  if comp.kind == "c":
    centered = lax.real(lax.mul(centered, lax.conj(centered)))
    comp = centered.dtype
  else:
    centered = lax.square(centered)
  if where is None:
    normalizer = lax._convert_element_type(math.prod(a.shape[i] for i in axes), comp)
  else:
    w = asarray(where)
    w = lax.broadcast_in_dim(w, a.shape, tuple(range(a.ndim - w.ndim, a.ndim)))
    normalizer = sum(w, axis, dtype=comp, keepdims=keepdims)
  normalizer = lax.sub(normalizer, lax._convert_element_type(correction, comp))
  result = sum(centered, axis, dtype=comp, keepdims=keepdims, where=where)
  result = lax._convert_element_type(lax.div(result, normalizer), dtype)
  return _where(ufuncs.greater(normalizer, 0), result, np.nan)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        mean=None, correction=None):
  """Standard deviation over the given axes."""
  correction = _correction("std", a, ddof, correction)
  return _std(asarray(a), axis=_static_axis(axis), dtype=dtype, out=out,
              correction=correction, keepdims=keepdims, where=where, mean=mean)


@staged_jit(static_argnames=("axis", "dtype", "keepdims"))
def _std(a, *, axis=None, dtype=None, out=None, correction=0, keepdims=False, where=None,
         mean=None):
  if dtype is not None:
    dtype = dtypes.canonicalize_dtype(dtype)
    if dtype.kind not in "fc" and dtype != dtypes.bfloat16:
      raise ValueError(f"dtype argument to jnp.std must be inexact; got {dtype}")
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.std is not supported.")
  return lax.sqrt(var(a, axis=axis, dtype=dtype, correction=correction,
                      keepdims=keepdims, where=where, mean=mean))


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


argmax = _arg("argmax", lax_reductions.argmax)
argmin = _arg("argmin", lax_reductions.argmin)


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
    if a.dtype == np.bool_ and (upcast or dtype is not None):
      # JAX promotes only bool here; a bool result accumulates in int, then converts back
      out = prim_fn(lax._convert_element_type(a, dtypes.default_int_dtype()), axis)
      return out if dtype is None else lax._convert_element_type(out, np.bool_)
    if a.weak_type:  # JAX's: accumulated strongly typed (its transpose makes it weak)
      a = lax._convert_element_type(a, a.dtype, False)
    return prim_fn(a, axis)
  fn.__name__ = fn.__qualname__ = name
  return staged_jit(fn, static_argnames=("axis", "dtype"))


cumsum = _cum("cumsum", lax_reductions.cumsum)
cumprod = _cum("cumprod", lax_reductions.cumprod)


def _cumulative(name, what, fn, init, upcast):
  def f(x, /, *, axis=None, dtype=None, include_initial=False):
    check_arraylike(name, x)
    x = asarray(x)
    if x.ndim == 0:
      raise ValueError(f"The input must be non-scalar to take a cumulative {what}, however "
                       "a scalar value or scalar array was given.")
    if axis is None:
      axis = 0
      if x.ndim > 1:
        raise ValueError(f"The input array has rank {x.ndim}, however axis was not set to "
                         "an explicit value. The axis argument is only optional for "
                         "one-dimensional arrays.")
    axis = canonicalize_axis(axis, x.ndim)
    if (dtype is None and upcast and x.dtype.kind in "iu" and
        x.dtype.itemsize < dtypes.default_int_dtype().itemsize):  # (as JAX's sum)
      dtype = dtypes.default_uint_dtype() if x.dtype.kind == "u" else \
          dtypes.default_int_dtype()
    out = fn(x, axis, dtype)
    if include_initial:
      shape = list(x.shape)
      shape[axis] = 1
      out = slicing.concatenate([lax.full(shape, init, out.dtype), out], axis)
    return out
  f.__name__ = name
  return f


cumulative_sum = _cumulative("cumulative_sum", "sum", cumsum, 0, True)
cumulative_prod = _cumulative("cumulative_prod", "product", cumprod, 1, False)


def ptp(a, axis=None, out=None, keepdims=False):
  return lax.sub(max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims))


@staged_jit(static_argnames=('axis', 'keepdims'))
def count_nonzero(a, axis=None, keepdims=False):
  return sum(lax.ne(asarray(a), lax._const(asarray(a), 0)), axis=axis,
             dtype=dtypes.default_int_dtype(), keepdims=keepdims)



# ------------------------------------------------------------ NaN-ignoring reductions


def _isnan(a):
  return lax.ne(a, a)


def _nan_replaced(name, a, fill):
  check_arraylike(name, a)
  a = asarray(a)
  if a.dtype.kind not in "fc" and a.dtype != dtypes.bfloat16:
    return a, None
  isn = _isnan(a)
  return lax.select(isn, lax.full_like(a, fill), a), isn


@staged_jit(static_argnames=('axis', 'dtype', 'keepdims'))
def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
  a, _ = _nan_replaced("nansum", a, 0)
  return sum(a, axis, dtype, out, keepdims, initial, where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
  a, _ = _nan_replaced("nanprod", a, 1)
  return prod(a, axis, dtype, out, keepdims, initial, where)


def _nan_extremum(name, fn, fill):
  def f(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    check_arraylike(name, a)
    a = asarray(a)
    if a.dtype.kind not in "fc" and a.dtype != dtypes.bfloat16:
      return fn(a, axis, out, keepdims, initial, where)
    isn = _isnan(a)
    res = fn(lax.select(isn, lax.full_like(a, fill), a), axis, out, keepdims, initial, where)
    all_nan = all(isn, axis=axis, keepdims=keepdims)
    return lax.select(all_nan, lax.full_like(res, np.nan), res) if res.shape == all_nan.shape \
        else res
  f.__name__ = name
  return f


nanmax = _nan_extremum("nanmax", max, -np.inf)
nanmin = _nan_extremum("nanmin", min, np.inf)


@staged_jit(static_argnames=('axis', 'dtype', 'keepdims'))
def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
  check_arraylike("nanmean", a)
  a = asarray(a)
  if a.dtype.kind not in "fc" and a.dtype != dtypes.bfloat16:
    return mean(a, axis, dtype, out, keepdims, where=where)
  if dtype is None:
    dtype = dtypes.to_inexact_dtype(a.dtype)
  isn = _isnan(a)
  valid = lax.bitwise_not(isn)
  if where is not None:
    valid = lax.bitwise_and(valid, asarray(where))
  total = sum(lax.select(isn, lax.full_like(a, 0), a), axis, dtype, keepdims=keepdims,
              where=where)
  n = sum(valid, axis, dtype, keepdims=keepdims)
  return lax.div(total, lax._convert_element_type(n, total.dtype))


@staged_jit(static_argnames=('axis', 'dtype', 'keepdims'))
def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None):
  check_arraylike("nanvar", a)
  a = asarray(a)
  comp = dtypes.to_inexact_dtype(a.dtype) if dtype is None else dtypes.canonicalize_dtype(dtype)
  a = lax._convert_element_type(a, comp)
  m = nanmean(a, axis, keepdims=True, where=where) if mean is None else asarray(mean)
  centered = ufuncs.subtract(a, m)
  sq = lax.real(lax.mul(centered, lax.conj(centered))) if comp.kind == "c" else \
      lax.mul(centered, centered)
  isn = _isnan(a)
  valid = lax.bitwise_not(isn)
  if where is not None:
    valid = lax.bitwise_and(valid, asarray(where))
  # Mask by the input's NaNs only: inf - inf in ``sq`` must stay NaN.
  total = sum(lax.select(isn, lax.full_like(sq, 0), sq), axis, keepdims=keepdims, where=where)
  n = sum(valid, axis, total.dtype, keepdims=keepdims)
  denom = lax.sub(n, lax._convert_element_type(ddof, n.dtype))
  out = lax.div(total, denom)
  return lax.select(lax.le(denom, lax.full_like(denom, 0)), lax.full_like(out, np.nan), out)


@staged_jit(static_argnames=('axis', 'dtype', 'keepdims'))
def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None):
  return lax.sqrt(nanvar(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean))


def _nanarg(name, fn, fill):
  def f(a, axis=None, out=None, keepdims=None):
    check_arraylike(name, a)
    a = asarray(a)
    if a.dtype.kind not in "fc" and a.dtype != dtypes.bfloat16:
      return fn(a, axis, out, keepdims)
    isn = _isnan(a)
    res = fn(lax.select(isn, lax.full_like(a, fill), a), axis, out, keepdims)
    all_nan = all(isn, axis=axis, keepdims=bool(keepdims))
    return lax.select(all_nan, lax.full_like(res, -1), res)
  f.__name__ = name
  return f


nanargmax = _nanarg("nanargmax", argmax, -np.inf)
nanargmin = _nanarg("nanargmin", argmin, np.inf)


def _nancum(name, fn, fill):
  def f(a, axis=None, dtype=None, out=None):
    a, _ = _nan_replaced(name, a, fill)
    return fn(a, axis, dtype, out)
  f.__name__ = name
  return f


nancumsum = _nancum("nancumsum", cumsum, 0)
nancumprod = _nancum("nancumprod", cumprod, 1)


# ------------------------------------------------------------ weighted mean and quantiles


def average(a, axis=None, weights=None, returned=False, keepdims=False):
  """Weighted average; with ``returned`` also the sum of weights."""
  check_arraylike("average", a)
  a = asarray(a)
  if weights is None:
    avg = mean(a, axis=axis, keepdims=keepdims)
    axes = _axes(axis, a.ndim, "average")
    n = math.prod(a.shape[i] for i in axes)
    wsum = lax.full_like(avg, n)
  else:
    w = asarray(weights)
    a, w = promote_dtypes_inexact(a, w)
    if a.shape != w.shape:
      if axis is None:
        raise ValueError("Axis must be specified when shapes of a and weights differ.")
      if not isinstance(axis, (int, np.integer)):
        raise TypeError("Single axis expected when shapes of a and weights differ")
      ax = canonicalize_axis(axis, a.ndim)
      if w.ndim != 1:
        raise TypeError("1D weights expected when shapes of a and weights differ.")
      if w.shape[0] != a.shape[ax]:
        raise ValueError("Length of weights not compatible with specified axis.")
      w = lax.broadcast_in_dim(w, a.shape, (ax,))
    wsum = sum(w, axis=axis, keepdims=keepdims)
    avg = lax.div(sum(lax.mul(a, w), axis=axis, keepdims=keepdims), wsum)
  if returned:
    if avg.shape != wsum.shape:
      wsum = lax.broadcast_in_dim(wsum, avg.shape, ())
    return avg, wsum
  return avg


def _quantile(name, a, q, axis, method, keepdims, squash_nans):
  check_arraylike(name, a, q)
  a, q = asarray(a), asarray(q)
  if q.ndim > 1:
    raise ValueError(f"q must be have rank <= 1, got shape {q.shape}")
  if a.dtype.kind == "c":
    raise ValueError(f"{name} does not support complex input, as the operation is poorly "
                     f"defined.")
  methods = ("linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf",
             "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
             "hazen", "weibull", "median_unbiased", "normal_unbiased")
  if method not in methods[:5]:
    if method in methods:
      raise NotImplementedError(f"method={method!r} is not implemented in pyjax")
    raise ValueError("method can only be 'linear', 'lower', 'higher', 'midpoint', "
                     "'nearest' or 'inverted_cdf'")
  a, q = promote_dtypes_inexact(a, q)
  nd = a.ndim
  if axis is None:
    axes = tuple(range(nd))
  else:
    axes = _axes(axis, nd, name)
  rest = [i for i in range(nd) if i not in axes]
  a_t = lax.transpose(a, (*rest, *axes))
  n = math.prod(a.shape[i] for i in axes)
  a_t = lax.reshape(a_t, (*[a.shape[i] for i in rest], n))
  if n == 0:
    raise ValueError(f"{name}: cannot compute quantile of an empty axis")
  srt = sorting.sort(a_t, axis=-1)  # NaNs last
  isn = lax.ne(a_t, a_t)
  if squash_nans:
    cnt = sum(lax.bitwise_not(isn), axis=-1, keepdims=True, dtype=q.dtype)
  else:
    cnt = lax.full((*a_t.shape[:-1], 1), n, q.dtype)
  qb = lax.reshape(q, (q.size,))
  # positions, shape (*rest, nq)
  out_shape = (*a_t.shape[:-1], q.size)
  cnt = lax.broadcast_in_dim(lax.reshape(cnt, cnt.shape[:-1]), out_shape,
                             tuple(range(a_t.ndim - 1)))
  pos = lax.mul(lax.sub(cnt, lax._convert_element_type(1, q.dtype)),
                lax.broadcast_in_dim(qb, out_shape, (a_t.ndim - 1,)))
  lo = lax.floor(pos)
  hi = lax.ceil(pos)
  last = lax.sub(cnt, lax._convert_element_type(1, q.dtype))
  lo = lax.clamp(lax._convert_element_type(0, q.dtype), lo, lax.max(last, lax.full_like(last, 0)))
  hi = lax.clamp(lax._convert_element_type(0, q.dtype), hi, lax.max(last, lax.full_like(last, 0)))

  def take(idx):
    ii = lax._convert_element_type(idx, np.int32)
    it = lax.broadcasted_iota(np.int32, (*ii.shape, n), ii.ndim)
    mask = lax.eq(lax.broadcast_in_dim(ii, (*ii.shape, n), tuple(range(ii.ndim))), it)
    sb = lax.broadcast_in_dim(srt, (*ii.shape, n), (*range(ii.ndim - 1), ii.ndim))
    return lax.reduce_sum(lax.select(mask, sb, lax.full_like(sb, 0)), (ii.ndim,))

  vlo, vhi = take(lo), take(hi)
  if method == "linear":
    t = lax.sub(pos, lo)
    res = lax.add(vlo, lax.mul(t, lax.sub(vhi, vlo)))
  elif method == "lower":
    res = vlo
  elif method == "higher":
    res = vhi
  elif method == "midpoint":
    res = lax.mul(lax.add(vlo, vhi), lax._convert_element_type(0.5, vlo.dtype))
  else:  # nearest: round half to even like NumPy
    r = lax.round(pos, lax.RoundingMethod.TO_NEAREST_EVEN)
    res = take(lax.clamp(lax._convert_element_type(0, q.dtype), r,
                         lax.max(last, lax.full_like(last, 0))))
  # NaN handling: any NaN in the slice gives NaN unless squashed; all-NaN gives NaN.
  if squash_nans:
    bad = lax.eq(cnt, lax.full_like(cnt, 0))
  else:
    bad = any(isn, axis=-1, keepdims=True)
    bad = lax.broadcast_in_dim(lax.reshape(bad, bad.shape[:-1]), res.shape,
                               tuple(range(res.ndim - 1)))
  res = lax.select(bad, lax.full_like(res, np.nan), res)
  # res: (*rest, nq) -> (nq, *rest) [with keepdims ones]
  res = lax.transpose(res, (res.ndim - 1, *range(res.ndim - 1)))
  if keepdims:
    shp = tuple(1 if i in axes else a.shape[i] for i in range(nd))
    res = lax.reshape(res, (q.size, *shp))
  if q.ndim == 0:
    res = lax.reshape(res, res.shape[1:])
  return res


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None):
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.quantile is not supported.")
  if weights is not None:
    raise NotImplementedError("quantile weights are not implemented in pyjax")
  return _quantile("quantile", a, q, axis, method, keepdims, False)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False):
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.nanquantile is not supported.")
  return _quantile("nanquantile", a, q, axis, method, keepdims, True)


def _pct(q):
  q = asarray(q)
  (q,) = promote_dtypes_inexact(q)
  return lax.div(q, lax._convert_element_type(100, q.dtype, True))


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, out_sharding=None):
  check_arraylike("percentile", a, q)
  a, q = promote_dtypes_inexact(a, q)
  return quantile(a, _pct(q), axis, out, overwrite_input, method, keepdims, weights=weights)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False):
  check_arraylike("nanpercentile", a, q)
  a, q = promote_dtypes_inexact(a, q)
  return nanquantile(a, _pct(q), axis, out, overwrite_input, method, keepdims)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
  return quantile(a, 0.5, axis=axis, out=out, keepdims=keepdims, method="midpoint")


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
  return nanquantile(a, 0.5, axis=axis, out=out, keepdims=keepdims, method="midpoint")


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]

"""jax.numpy set operations. ``unique`` and friends need concrete input (their output size
depends on the values) unless a static ``size`` is given (traced input: 1-D semantics
only, no ``axis`` and no ``return_indices``); ``isin`` is traceable."""
from __future__ import annotations

import builtins
import operator

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import asarray_value
from pyjax._src.lax import lax, slicing
from pyjax._src.lax import sorting as lax_sorting
from pyjax._src.lax import reductions as lax_reductions
from pyjax._src.numpy import indexing, ufuncs
from pyjax._src.numpy.util import asarray, canonicalize_axis, check_arraylike, promote_dtypes


def _concrete(ar, name):
  return core.concrete_or_error(
      np.asarray, ar, f"The error arose in jnp.{name}(). The size of the result depends on "
      f"the values of the input, so it must be concrete. In pyjax, jnp.{name} needs a "
      f"concrete input even when `size` is given.")


def _wrap(v, dt):
  return asarray_value(np.asarray(v, dtype=dt))


def _pad_to(x, size, fill, axis=0):
  n = x.shape[axis]
  if n >= size:
    idx = [builtins.slice(None)] * x.ndim
    idx[axis] = builtins.slice(0, size)
    return x[tuple(idx)]
  pad_shape = list(x.shape)
  pad_shape[axis] = size - n
  return np.concatenate([x, np.full(pad_shape, fill, x.dtype)], axis)


def _sorted_firsts(flat, equal_nan=True):
  """The sorted values, their original positions and a mask of each value's first
  occurrence (traceable)."""
  idt = dtypes.default_int_dtype()
  n = flat.shape[0]
  # (a 2-D iota: IREE sorts in place, and would sort an equal 1-D iota used elsewhere)
  pos = lax.broadcasted_iota(idt, (n, 1), 0)
  aux, perm = lax_sorting.sort((lax.reshape(flat, (n, 1)), pos), 0, True, 1)
  aux, perm = lax.reshape(aux, (n,)), lax.reshape(perm, (n,))
  neq = lax.ne(aux[1:], aux[:-1])
  if equal_nan and aux.dtype.kind in "fc":
    nan = ufuncs.isnan(aux)
    neq = lax.bitwise_and(neq, lax.bitwise_not(lax.bitwise_and(nan[1:], nan[:-1])))
  return aux, perm, slicing.concatenate([lax.full((1,), True, np.bool_), neq], 0)


def _compact(vals, keep, size, fill_value):
  """The kept values in ascending order, padded to ``size`` with ``fill_value`` (default:
  the smallest kept value, or 0 if none), as JAX's sized set operations (traceable)."""
  idt = dtypes.default_int_dtype()
  key = lax._convert_element_type(lax.bitwise_not(keep), idt)
  _, vals = lax_sorting.sort((key, vals), 0, True, 2)
  num = lax.reduce_sum(lax._convert_element_type(keep, idt), (0,))
  out = vals[lax.min(lax.iota(idt, size), lax.full((size,), vals.shape[0] - 1, idt))]
  if fill_value is None:
    fill = lax.select(lax.gt(num, 0), vals[0], lax.full((), 0, vals.dtype))
  else:
    fill = lax.full((), fill_value, vals.dtype)
  return lax.select(lax.lt(lax.iota(idt, size), lax.full((size,), num, idt)), out,
                    lax.broadcast_in_dim(fill, (size,), ()))


def _unique_traced(a, size, fill_value, equal_nan, return_index, return_inverse,
                   return_counts):
  idt = dtypes.default_int_dtype()
  flat = ravel_(a)
  n = flat.shape[0]
  aux, perm, mask = _sorted_firsts(flat, equal_nan)
  ind = lax._convert_element_type(indexing.nonzero(mask, size=size)[0], idt)
  vals = aux[ind]
  if fill_value is not None:
    num = lax.reduce_sum(lax._convert_element_type(mask, idt), (0,))
    vals = lax.select(lax.lt(lax.iota(idt, size), lax.full((size,), num, idt)), vals,
                      lax.full((size,), fill_value, vals.dtype))
  out = [vals]
  if return_index:
    out.append(perm[ind])
  if return_inverse:
    group = lax_reductions.cumsum(lax._convert_element_type(mask, idt), 0)
    group = lax.sub(group, lax.full((n,), 1, idt))
    out.append(lax.reshape(lax.full((n,), 0, idt).at[perm].set(group), a.shape))
  if return_counts:
    idx = lax._convert_element_type(indexing.nonzero(mask, size=size + 1)[0], idt)
    tail = idx[1:]
    tail = lax.select(lax.ne(tail, lax.full_like(tail, 0)), tail, lax.full_like(tail, n))
    out.append(lax.sub(tail, slicing.concatenate([idx[:1], tail[:-1]], 0)))
  return out[0] if len(out) == 1 else tuple(out)


def unique(ar, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis=None, *, equal_nan: bool = True, size=None,
           fill_value=None, sorted: bool = True):
  check_arraylike("unique", ar)
  a = asarray(ar)
  if size is not None:
    size = core.concrete_or_error(operator.index, size, "size argument of jnp.unique")
    if isinstance(a, core.Tracer) and axis is None and a.size:
      return _unique_traced(a, size, fill_value, equal_nan, return_index, return_inverse,
                            return_counts)
  v = _concrete(a, "unique") if size is not None else core.concrete_or_error(
      np.asarray, a, "The error arose for the first argument of jnp.unique(). To make "
      "jnp.unique() compatible with JIT and other transforms, you can specify a concrete "
      "value for the size argument, which will determine the output size.")
  idt = dtypes.default_int_dtype()
  if axis is not None:
    axis = canonicalize_axis(axis, v.ndim)
  if v.dtype.kind in "fc" and not equal_nan and axis is None:
    # NumPy's equal_nan=False keeps every NaN.
    flat = v.ravel()
    vals, idx, inv, cnt = np.unique(flat, True, True, True, equal_nan=False)
  else:
    vals, idx, inv, cnt = np.unique(v, True, True, True, axis=axis,
                                    equal_nan=equal_nan) if axis is None else \
        np.unique(v, True, True, True, axis=axis)
  if size is not None:
    ax = 0 if axis is None else axis
    if fill_value is None:
      fv = vals.take([0], axis=ax) if vals.size else np.zeros(
          [1 if i == ax else d for i, d in enumerate(vals.shape)], vals.dtype)
      n = vals.shape[ax]
      if n < size:
        reps = [1] * vals.ndim
        reps[ax] = size - n
        vals = np.concatenate([vals, np.tile(fv, reps)], ax)
      else:
        vals = np.take(vals, np.arange(size), axis=ax)
    else:
      vals = _pad_to(vals, size, np.asarray(fill_value).astype(vals.dtype), ax)
    idx = _pad_to(idx, size, idx[0] if idx.size else 0)  # (JAX: the smallest's index)
    cnt = _pad_to(cnt, size, 0)
  # JAX's: a gather of the input (complex ones pass a strongly typed where)
  out = [asarray_value(vals, weak_type=a.weak_type and vals.dtype.kind != "c")]
  if return_index:
    out.append(_wrap(idx, idt))
  if return_inverse:
    inv = inv.reshape(v.shape) if axis is None else inv.reshape(-1)
    out.append(_wrap(inv, idt))
  if return_counts:
    out.append(_wrap(cnt, idt))
  return out[0] if len(out) == 1 else tuple(out)


def unique_values(x, *, size=None, fill_value=None):
  return unique(x, size=size, fill_value=fill_value)


def unique_counts(x, *, size=None, fill_value=None):
  from collections import namedtuple
  vals, cnt = unique(ravel_(x), return_counts=True, size=size, fill_value=fill_value)
  return namedtuple("UniqueCountsResult", ["values", "counts"])(vals, cnt)


def unique_inverse(x, *, size=None, fill_value=None):
  from collections import namedtuple
  vals, inv = unique(x, return_inverse=True, size=size, fill_value=fill_value)
  return namedtuple("UniqueInverseResult", ["values", "inverse_indices"])(
      vals, lax.reshape(inv, asarray(x).shape))


def unique_all(x, *, size=None, fill_value=None):
  from collections import namedtuple
  vals, idx, inv, cnt = unique(x, True, True, True, size=size, fill_value=fill_value)
  return namedtuple("UniqueAllResult", ["values", "indices", "inverse_indices", "counts"])(
      vals, idx, lax.reshape(inv, asarray(x).shape), cnt)


def ravel_(x):
  x = asarray(x)
  return lax.reshape(x, (x.size,))


def isin(element, test_elements, assume_unique: bool = False, invert: bool = False, *,
         method="auto"):
  """Elementwise membership test by broadcasting comparison (traceable)."""
  check_arraylike("isin", element, test_elements)
  e, t = asarray(element), ravel_(test_elements)
  e, t = promote_dtypes(e, t)
  n = t.shape[0]
  if n == 0:
    out = lax.full(e.shape, False, np.bool_)
  else:
    eb = lax.broadcast_in_dim(e, (*e.shape, n), tuple(range(e.ndim)))
    tb = lax.broadcast_in_dim(t, (*e.shape, n), (e.ndim,))
    m = lax.eq(eb, tb)  # JAX's jnp.any: reduced strongly typed
    out = lax_reductions.reduce_or(lax._convert_element_type(m, m.dtype, False), (e.ndim,))
  return lax.bitwise_not(out) if invert else out


def _setop_traced(name, a, b, size, fill_value):
  """A set operation on traced 1-D operands with a static size (sorted, padded)."""
  dt = dtypes.result_type(a, b)
  a, b = (lax._convert_element_type(ravel_(v), dt) for v in (a, b))
  if name == "union1d":
    return unique(slicing.concatenate([a, b], 0), size=size, fill_value=fill_value)
  if name == "setdiff1d" and fill_value is None:
    fill_value = 0  # (JAX's default here)
  ua, _, fa = _sorted_firsts(a)
  if name == "setxor1d":
    ub, _, fb = _sorted_firsts(b)
    keep = slicing.concatenate([lax.bitwise_and(fa, isin(ua, b, invert=True)),
                            lax.bitwise_and(fb, isin(ub, a, invert=True))], 0)
    return _compact(slicing.concatenate([ua, ub], 0), keep, size, fill_value)
  return _compact(ua, lax.bitwise_and(fa, isin(ua, b, invert=name == "setdiff1d")), size,
                  fill_value)


def _setop(name, fn, *arrs, size=None, fill_value=None):
  check_arraylike(name, *arrs)
  if size is not None and builtins.any(isinstance(a, core.Tracer) for a in arrs):
    a, b = (asarray(v) for v in arrs)
    if a.size and b.size:
      return _setop_traced(name, a, b, operator.index(size), fill_value)
  vals = [_concrete(asarray(a), name) for a in arrs]
  out = fn(*vals)
  dt, weak = dtypes.result_type(*[asarray(a) for a in arrs], return_weak_type_flag=True)
  out = np.asarray(out).astype(dt)
  if size is not None:
    fill = (out.min() if out.size and name != "setdiff1d" else 0) if fill_value is None \
        else fill_value  # (JAX pads setdiff1d with 0, the others with their smallest)
    out = _pad_to(out, size, fill)
  return asarray_value(out, weak_type=weak)  # JAX's: typed as the promoted inputs


def union1d(ar1, ar2, *, size=None, fill_value=None):
  return _setop("union1d", np.union1d, ar1, ar2, size=size, fill_value=fill_value)


def setdiff1d(ar1, ar2, assume_unique: bool = False, *, size=None, fill_value=None):
  return _setop("setdiff1d", lambda a, b: np.setdiff1d(a, b, assume_unique), ar1, ar2,
                size=size, fill_value=fill_value)


def setxor1d(ar1, ar2, assume_unique: bool = False, *, size=None, fill_value=None):
  return _setop("setxor1d", lambda a, b: np.setxor1d(a, b, assume_unique), ar1, ar2,
                size=size, fill_value=fill_value)


def intersect1d(ar1, ar2, assume_unique: bool = False, return_indices: bool = False, *,
                size=None, fill_value=None):
  if return_indices:
    check_arraylike("intersect1d", ar1, ar2)
    a, b = _concrete(asarray(ar1), "intersect1d"), _concrete(asarray(ar2), "intersect1d")
    v, i1, i2 = np.intersect1d(a, b, assume_unique, return_indices=True)
    idt = dtypes.default_int_dtype()
    return (asarray_value(v.astype(dtypes.result_type(asarray(ar1), asarray(ar2)))),
            _wrap(i1, idt), _wrap(i2, idt))
  return _setop("intersect1d", lambda a, b: np.intersect1d(a, b, assume_unique), ar1, ar2,
                size=size, fill_value=fill_value)


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__
           and _n != "ravel_"]

"""jax.numpy set operations. ``unique`` and friends need concrete input (their output size
depends on the values) unless a static ``size`` is given; ``isin`` is traceable."""
from __future__ import annotations

import builtins
import operator

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import asarray_value
from pyjax._src.lax import lax
from pyjax._src.lax import reductions as lax_reductions
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


def unique(ar, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis=None, *, equal_nan: bool = True, size=None,
           fill_value=None, sorted: bool = True):
  check_arraylike("unique", ar)
  a = asarray(ar)
  if size is not None:
    size = core.concrete_or_error(operator.index, size, "size argument of jnp.unique")
  v = _concrete(a, "unique")
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
    idx = _pad_to(idx, size, 0)
    cnt = _pad_to(cnt, size, 0)
  out = [asarray_value(vals)]
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
    out = lax_reductions.reduce_or(lax.eq(eb, tb), (e.ndim,))
  return lax.bitwise_not(out) if invert else out


def in1d(ar1, ar2, assume_unique=False, invert=False, *, method="auto"):
  return isin(ravel_(ar1), ar2, assume_unique, invert)


def _setop(name, fn, *arrs, size=None, fill_value=None):
  check_arraylike(name, *arrs)
  vals = [_concrete(asarray(a), name) for a in arrs]
  out = fn(*vals)
  dt = dtypes.result_type(*[asarray(a) for a in arrs])
  out = np.asarray(out).astype(dt)
  if size is not None:
    fill = (out.min() if out.size else 0) if fill_value is None else fill_value
    out = _pad_to(out, size, fill)
  return asarray_value(out)


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

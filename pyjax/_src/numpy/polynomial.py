"""jax.numpy polynomials as coefficient arrays (highest degree first)."""
from __future__ import annotations

import builtins

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.lax import lax
from pyjax._src.lax import sorting as lax_sorting
from pyjax._src.numpy import linalg, reductions, ufuncs
from pyjax._src.numpy.array_creation import ones, vander, zeros, zeros_like
from pyjax._src.numpy.array_manipulation import atleast_1d, diag, roll
from pyjax._src.numpy.lax_numpy import (_pad_const, _slice_axis, _static_int,
                                        broadcast_to, concatenate, where)
from pyjax._src.numpy.tensor_contractions import convolve, dot, outer
from pyjax._src.numpy.util import (array, asarray as _asarray, check_arraylike,
                                   promote_dtypes, promote_dtypes_inexact)


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


def _roots_no_zeros(p):
  if p.shape[0] < 2:
    return array([], dtype=dtypes.to_complex_dtype(p.dtype))
  n = p.shape[0]
  a = diag(ones((n - 2,), p.dtype), -1)
  a = a.at[0, :].set(ufuncs.negative(ufuncs.true_divide(p[1:], p[0])))
  return linalg.eigvals(a)


def _roots_with_zeros(p, num_leading_zeros):
  p = where(ufuncs.equal(p.shape[0], num_leading_zeros), lax._const(p, 1), p)
  r = _roots_no_zeros(roll(p, ufuncs.negative(num_leading_zeros)))
  r = lax_sorting.sort_key_val(ufuncs.equal(r, 0), r)[1]
  keep = ufuncs.less(lax.iota(np.int32, r.shape[0]),
                     ufuncs.subtract(r.shape[0], num_leading_zeros))
  return where(keep, r, complex(np.nan, np.nan))


def roots(p, *, strip_zeros: bool = True):
  """The roots of the polynomial ``p`` (eigenvalues of its companion matrix)."""
  check_arraylike("roots", p)
  p, = promote_dtypes_inexact(_asarray(p))
  p = atleast_1d(p)
  if p.ndim != 1:
    raise ValueError("Input must be a rank-1 array.")
  if p.shape[0] < 2:
    return array([], dtype=dtypes.to_complex_dtype(p.dtype))
  is_zero = ufuncs.equal(p, 0)
  num_leading_zeros = where(reductions.all(is_zero), p.shape[0],
                            reductions.argmin(is_zero))
  if strip_zeros:
    num_leading_zeros = core.concrete_or_error(
        int, num_leading_zeros,
        "The error occurred in the jnp.roots() function. To use this within a "
        "JIT-compiled context, pass strip_zeros=False, but be aware that leading zeros "
        "will result in some returned roots being set to NaN.")
    return _roots_no_zeros(p[num_leading_zeros:])
  return _roots_with_zeros(p, num_leading_zeros)


def poly(seq_of_zeros):
  """The coefficients of the monic polynomial with the given roots (or of a square
  matrix's characteristic polynomial)."""
  check_arraylike("poly", seq_of_zeros)
  z, = promote_dtypes_inexact(_asarray(seq_of_zeros))
  z = atleast_1d(z)
  sh = z.shape
  if len(sh) == 2 and sh[0] == sh[1] and sh[0] != 0:
    z = linalg.eigvals(z)
  if z.ndim != 1:
    raise ValueError("input must be 1d or non-empty square 2d array.")
  dt = z.dtype
  if z.shape[0] == 0:
    return ones((), dtype=dt)
  a = ones((1,), dtype=dt)
  for k in range(z.shape[0]):
    a = convolve(a, concatenate([ones((1,), dt), ufuncs.negative(z[k:k + 1])]),
                 mode="full")
  return a


def polydiv(u, v, *, trim_leading_zeros: bool = False):
  """Quotient and remainder of the polynomial division u / v."""
  check_arraylike("polydiv", u, v)
  u, v = promote_dtypes_inexact(_asarray(u), _asarray(v))
  m, n = u.shape[0] - 1, v.shape[0] - 1
  scale = ufuncs.true_divide(1.0, v[0])
  q = zeros(builtins.max(m - n + 1, 1), dtype=u.dtype)
  for k in range(0, m - n + 1):
    d = ufuncs.multiply(scale, u[k])
    q = q.at[k].set(d)
    u = u.at[k:k + n + 1].add(ufuncs.multiply(ufuncs.negative(d), v))
  if trim_leading_zeros:
    tol = float(np.sqrt(dtypes.finfo(u.dtype).eps))
    uv = core.concrete_or_error(np.asarray, u, "trim_leading_zeros=True in jnp.polydiv")
    nz = np.flatnonzero(np.abs(uv) > tol)
    u = u[nz[0]:] if nz.size else u[:0]
  return q, u


def polyfit(x, y, deg: int, rcond=None, full: bool = False, w=None, cov=False):
  """Least-squares polynomial fit of degree ``deg`` (a scaled Vandermonde lstsq)."""
  if w is None:
    check_arraylike("polyfit", x, y)
  else:
    check_arraylike("polyfit", x, y, w)
  x, y = _asarray(x), _asarray(y)
  deg = core.concrete_or_error(int, deg, "deg must be int")
  order = deg + 1
  if deg < 0:
    raise ValueError("expected deg >= 0")
  if x.ndim != 1:
    raise TypeError("expected 1D vector for x")
  if x.size == 0:
    raise TypeError("expected non-empty vector for x")
  if y.ndim < 1 or y.ndim > 2:
    raise TypeError("expected 1D or 2D array for y")
  if x.shape[0] != y.shape[0]:
    raise TypeError("expected x and y to have same length")
  if rcond is None:
    rcond = x.shape[0] * float(dtypes.finfo(dtypes.to_inexact_dtype(x.dtype)).eps)
  rcond = core.concrete_or_error(float, rcond, "rcond must be float")
  lhs, rhs = vander(x, order), y
  if w is not None:
    w, = promote_dtypes_inexact(_asarray(w))
    if w.ndim != 1:
      raise TypeError("expected a 1-d array for weights")
    if w.shape[0] != y.shape[0]:
      raise TypeError("expected w and y to have the same length")
    lhs = ufuncs.multiply(lhs, w[:, None])
    rhs = ufuncs.multiply(rhs, w[:, None] if rhs.ndim == 2 else w)
  scale = ufuncs.sqrt(reductions.sum(ufuncs.multiply(lhs, lhs), axis=0))
  lhs = ufuncs.true_divide(lhs, scale[None, :])
  c, resids, rank, s = linalg.lstsq(lhs, rhs, rcond)
  c = (ufuncs.true_divide(c.T, scale[None, :]).T if c.ndim > 1
       else ufuncs.true_divide(c, scale))
  if full:
    return c, resids, rank, s, _asarray(rcond)
  if cov:
    vbase = ufuncs.true_divide(linalg.inv(dot(lhs.T, lhs)), outer(scale, scale))
    if cov == "unscaled":
      fac = array(1.0)
    else:
      if x.shape[0] <= order:
        raise ValueError("the number of data points must exceed order to scale the "
                         "covariance matrix")
      fac = ufuncs.true_divide(resids, x.shape[0] - order)
    if y.ndim == 1:
      return c, ufuncs.multiply(vbase, atleast_1d(fac)[None])
    return c, ufuncs.multiply(vbase[:, :, None], atleast_1d(fac)[None, None, :])
  return c


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]

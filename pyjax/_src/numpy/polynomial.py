"""jax.numpy polynomials as coefficient arrays (highest degree first)."""
from __future__ import annotations

import builtins

from pyjax._src import dtypes
from pyjax._src.lax import lax
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.array_creation import zeros, zeros_like
from pyjax._src.numpy.array_manipulation import atleast_1d
from pyjax._src.numpy.lax_numpy import (_pad_const, _slice_axis, _static_int,
                                        broadcast_to, concatenate)
from pyjax._src.numpy.tensor_contractions import convolve
from pyjax._src.numpy.util import asarray as _asarray, promote_dtypes


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


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]

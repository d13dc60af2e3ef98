"""jax.numpy window functions (bartlett, blackman, hamming, hanning, kaiser)."""
from __future__ import annotations

import numpy as np

from pyjax._src import dtypes
from pyjax._src.lax import lax
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.array_creation import ones, zeros
from pyjax._src.numpy.lax_numpy import _static_int


def _window(name, fn):
  def w(M, *args):
    M = _static_int(M, f"M argument of jnp.{name}")
    dt = dtypes.default_float_dtype()
    if M <= 0:
      return zeros((0,), dt)
    if M == 1:
      return ones((1,), dt)
    return fn(M, lax.iota(dt, M), dt, *args)
  w.__name__ = name
  return w


def _bartlett(M, n, dt):
  return ufuncs.subtract(1, ufuncs.abs(ufuncs.true_divide(ufuncs.subtract(
      ufuncs.multiply(2, n), M - 1), M - 1)))


def _cos_window(*coefs):
  def fn(M, n, dt):
    out = zeros((M,), dt)
    for k, c in enumerate(coefs):
      out = ufuncs.add(out, ufuncs.multiply(c * (-1) ** k, ufuncs.cos(
          ufuncs.true_divide(ufuncs.multiply(2 * np.pi * k, n), M - 1))))
    return out
  return fn


bartlett = _window("bartlett", _bartlett)
blackman = _window("blackman", _cos_window(0.42, 0.5, 0.08))
hamming = _window("hamming", _cos_window(0.54, 0.46))
hanning = _window("hanning", _cos_window(0.5, 0.5))


def _kaiser(M, n, dt, beta):
  alpha = (M - 1) / 2.0
  r = ufuncs.true_divide(ufuncs.subtract(n, alpha), alpha)
  return ufuncs.true_divide(
      ufuncs.i0(ufuncs.multiply(beta, ufuncs.sqrt(ufuncs.subtract(1, ufuncs.square(r))))),
      ufuncs.i0(lax._convert_element_type(beta, dt)))


kaiser = _window("kaiser", _kaiser)


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]

"""Shared test helpers: random inputs per dtype and per-dtype closeness checks."""
from __future__ import annotations

import contextlib

import ml_dtypes
import numpy as np

bfloat16 = np.dtype(ml_dtypes.bfloat16)

# (rtol, atol) per dtype. float32 allows a few ulps: XLA's transcendental
# approximations differ from NumPy's (libm) by up to ~2 ulps.
_TOL = {
    np.dtype(np.float16): (2e-3, 2e-3),
    bfloat16: (1.6e-2, 1.6e-2),
    np.dtype(np.float32): (2e-6, 1e-6),
    np.dtype(np.float64): (1e-13, 1e-14),
    np.dtype(np.complex64): (2e-6, 1e-6),
    np.dtype(np.complex128): (1e-13, 1e-14),
}


def tolerance(dtype, scale=1.0):
  rtol, atol = _TOL.get(np.dtype(dtype), (0.0, 0.0))
  return rtol * scale, atol * scale


def check_close(a, b, dtype=None, *, scale=1.0, err_msg=""):
  """Asserts ``a`` and ``b`` are equal within ``dtype``'s tolerance (exact for
  integers and bools; NaNs must match positions)."""
  a, b = np.asarray(a), np.asarray(b)
  dtype = np.dtype(dtype if dtype is not None else a.dtype)
  assert a.shape == b.shape, f"shape {a.shape} != {b.shape} {err_msg}"
  rtol, atol = tolerance(dtype, scale)
  if dtype.kind in "fc" or dtype == bfloat16:
    wide = np.complex128 if dtype.kind == "c" else np.float64
    np.testing.assert_allclose(a.astype(wide), b.astype(wide), rtol=rtol, atol=atol,
                               equal_nan=True, err_msg=err_msg)
  else:
    np.testing.assert_array_equal(a, b, err_msg=err_msg)


def rand(shape, dtype, rng, *, low=None, high=None, special=False):
  """Random NumPy array of ``dtype``. Floats are uniform in [low, high) (default
  [-3, 3)); ``special`` sprinkles in 0, -0, inf, -inf and NaN."""
  dtype = np.dtype(dtype)
  shape = tuple(shape)
  if dtype == np.bool_:
    return rng.random(shape) < 0.5
  if dtype.kind in "iu":
    info = np.iinfo(dtype)
    lo = info.min if low is None else low
    hi = info.max if high is None else high
    lo, hi = max(lo, -(2 ** 62)), min(hi, 2 ** 62)
    return rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype)
  lo = -3.0 if low is None else low
  hi = 3.0 if high is None else high
  if dtype.kind == "c":
    v = rng.uniform(lo, hi, shape) + 1j * rng.uniform(lo, hi, shape)
  else:
    v = rng.uniform(lo, hi, shape)
  v = np.asarray(v).astype(dtype)
  if special and v.size:
    flat = v.reshape(-1)
    sp = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], np.float64).astype(dtype)
    idx = rng.choice(flat.size, size=min(flat.size, len(sp)), replace=False)
    flat[idx] = sp[:len(idx)]
  return v


@contextlib.contextmanager
def enable_x64(on=True):
  """Turns jax_enable_x64 on (or off) in pyjax and, when installed, real JAX."""
  import pyjax
  try:
    import jax
  except ImportError:
    jax = None
  old = pyjax.config.jax_enable_x64
  pyjax.config.update("jax_enable_x64", on)
  if jax is not None:
    jold = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", on)
  try:
    yield
  finally:
    pyjax.config.update("jax_enable_x64", old)
    if jax is not None:
      jax.config.update("jax_enable_x64", jold)


def norm_jaxpr(text: str) -> str:
  """Jaxpr text with line layout removed (JAX puts short jaxprs on one line,
  separating equations with '; ')."""
  import re
  t = re.sub(r"\s*\n\s*", " ", text)
  return re.sub(r"(?<!lambda );\s+(?=[a-z_]+:)", " ", t).replace("let  in", "let in")


def rand_matrix(rng, shape, dtype):
  """Normal random matrices (complex parts for complex dtypes)."""
  v = rng.normal(size=shape)
  if np.dtype(dtype).kind == "c":
    v = v + 1j * rng.normal(size=shape)
  return v.astype(dtype)


def rand_hpd(rng, shape, dtype):
  """Random Hermitian positive-definite matrices (well conditioned)."""
  a = rand_matrix(rng, shape, np.complex128 if np.dtype(dtype).kind == "c" else np.float64)
  n = shape[-1]
  return (a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)).astype(dtype)

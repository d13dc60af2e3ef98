"""The one table of elementwise lax operations behind the lax sweeps: eager against JAX
and NumPy (lax/test_lax.py), compiled jit against eager (interpreters/test_lowering.py),
vmap against a loop (interpreters/test_batching.py) and grad against finite differences
(lax/test_lax_autodiff.py). Per op: its NumPy reference, how to make its operands per
dtype, the dtypes each sweep runs, its error scale, and whether it is differentiable."""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import scipy.special as sps

from util import bfloat16, rand

F = [np.dtype(t) for t in (np.float16, bfloat16, np.float32, np.float64)]
SI = [np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64)]
UI = [np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64)]
C = [np.dtype(t) for t in (np.complex64, np.complex128)]
B = [np.dtype(np.bool_)]
f64 = np.float64


@dataclasses.dataclass(frozen=True)
class Op:
  name: str                 # the pyjax.lax / jax.lax function
  ref: Callable | None      # NumPy reference (computed wide, cast back), or None
  domain: tuple | None      # (low, high) of float operands; None: rand's default
  scale: float | None       # error scale against JAX and NumPy (None: no eager sweep)
  jit_dtypes: list          # dtypes of the compiled sweep (eager: every dtype, JAX decides)
  jit_scale: float          # error scale of jit against eager
  vmap_dtype: np.dtype | None  # dtype of the vmap sweep (None: not swept)
  grad: tuple | None        # (low, high) for grad vs finite differences; None: not swept
  kind: str = ""            # how binary operands are made (see binary_operands)


def _ref(fn, wide=True):
  """NumPy reference computed in float64/complex128, cast back to the input dtype."""
  def r(x):
    if wide and (x.dtype.kind == "f" or x.dtype == bfloat16):
      return np.asarray(fn(x.astype(f64))).astype(x.dtype)
    if wide and x.dtype.kind == "c":
      return np.asarray(fn(x.astype(np.complex128))).astype(x.dtype)
    return np.asarray(fn(x))
  return r


def _sign_ref(x):
  if x.dtype.kind == "c":
    a = np.abs(x)
    return np.where(a == 0, 0, x / np.where(a == 0, 1, a))
  return np.sign(x)


def _popcount_ref(x):
  u = x.view(np.dtype(f"u{x.dtype.itemsize}"))
  return np.vectorize(lambda v: bin(int(v)).count("1"))(u).astype(x.dtype)


def _clz_ref(x):
  bits = x.dtype.itemsize * 8
  u = x.view(np.dtype(f"u{x.dtype.itemsize}"))
  return np.vectorize(lambda v: bits - int(v).bit_length())(u).astype(x.dtype)


def _u(name, ref, domain, scale, jit_dtypes, jit_scale, vmap_dtype, grad):
  return Op(name, ref, domain, scale, jit_dtypes, jit_scale, np.dtype(vmap_dtype), grad)


f32 = np.float32
UNARY = {o.name: o for o in [
    _u("neg", _ref(np.negative, False), None, 1, F + SI + UI + C, 1, f32, (-2, 2)),
    _u("sign", _ref(_sign_ref), None, 1, F + SI + UI + C, 1, np.int32, None),
    _u("floor", _ref(np.floor), None, 1, F, 1, f32, None),
    _u("ceil", _ref(np.ceil), None, 1, F, 1, np.float16, None),
    _u("is_finite", lambda x: np.isfinite(x.astype(f64) if x.dtype == bfloat16 else x),
       None, 1, F, 1, f32, None),
    _u("exp", _ref(np.exp), None, 1, F + C, 4, f32, (-2, 2)),
    _u("exp2", _ref(np.exp2), None, 1, F, 8, f32, (-2, 2)),
    _u("log", _ref(np.log), (0.1, 5), 1, F + C, 4, f32, (0.5, 3)),
    _u("log1p", _ref(np.log1p), (-0.5, 5), 1, F, 4, f32, (-0.5, 2)),
    _u("expm1", _ref(np.expm1), None, 1, F, 4, np.complex64, (-2, 2)),
    _u("tanh", _ref(np.tanh), None, 1, F + C, 4, f32, (-2, 2)),
    _u("logistic", _ref(lambda x: 1 / (1 + np.exp(-x))), None, 1, F, 4, f32, (-3, 3)),
    _u("sin", _ref(np.sin), None, 1, F + C, 4, f32, (-3, 3)),
    _u("cos", _ref(np.cos), None, 1, F + C, 4, np.float64, (-3, 3)),
    _u("tan", _ref(np.tan), (-1.2, 1.2), 2, F, 8, f32, (-1.2, 1.2)),
    _u("asin", _ref(np.arcsin), (-0.9, 0.9), 1, F, 4, f32, (-0.8, 0.8)),
    _u("acos", _ref(np.arccos), (-0.9, 0.9), 1, F, 4, f32, (-0.8, 0.8)),
    _u("atan", _ref(np.arctan), None, 1, F, 4, f32, (-3, 3)),
    _u("sinh", _ref(np.sinh), None, 1, F, 4, f32, (-2, 2)),
    _u("cosh", _ref(np.cosh), None, 1, F, 4, f32, (-2, 2)),
    _u("asinh", _ref(np.arcsinh), None, 1, F, 4, f32, (-3, 3)),
    _u("acosh", _ref(np.arccosh), (1.1, 4), 1, F, 4, f32, (1.2, 4)),
    _u("atanh", _ref(np.arctanh), (-0.9, 0.9), 1, F, 4, f32, (-0.8, 0.8)),
    _u("sqrt", _ref(np.sqrt), (0.1, 5), 1, F + C, 2, f32, (0.5, 4)),
    _u("rsqrt", _ref(lambda x: 1 / np.sqrt(x)), (0.1, 5), 1, F, 4, f32, (0.5, 4)),
    _u("cbrt", _ref(np.cbrt), None, 1, F, 4, f32, (0.5, 4)),
    _u("erf", _ref(sps.erf), None, 1, F, 8, f32, (-2, 2)),
    _u("erfc", _ref(sps.erfc), None, 1, F, 16, f32, (-2, 2)),
    _u("erf_inv", _ref(sps.erfinv), (-0.9, 0.9), 4, F, 64, f32, (-0.8, 0.8)),
    _u("lgamma", _ref(sps.gammaln), (0.1, 5), 4, F, 64, f32, (0.5, 4)),
    _u("digamma", _ref(sps.digamma), (0.1, 5), 4, F, 64, f32, (0.5, 4)),
    # (bessel_i0e: both of its series, |x| <= 20 and beyond)
    _u("bessel_i0e", _ref(sps.i0e), (-40, 40), 2, F, 16, f32, (0.2, 3)),
    _u("bessel_i1e", _ref(sps.i1e), None, 2, F, 16, f32, (-3, 3)),
    _u("bitwise_not", lambda x: np.invert(x), None, 1, B + SI + UI, 1, np.int32, None),
    _u("population_count", _popcount_ref, None, 1, SI + UI, 1, np.uint8, None),
    _u("clz", _clz_ref, None, 1, SI + UI, 1, np.int32, None),
    _u("real", np.real, None, 1, C, 1, np.complex64, None),
    _u("imag", np.imag, None, 1, C, 1, np.complex64, None),
    _u("conj", np.conj, None, 1, [np.dtype(f32), np.dtype(f64)] + C, 1, np.complex64, None),
    _u("abs", _ref(np.abs, False), None, 1, F + SI + C, 2, np.int32, (0.3, 2)),
    _u("square", _ref(np.square), None, 1, F + SI + C, 4, f32, (-2, 2)),
    _u("reciprocal", _ref(lambda x: 1 / x), (0.5, 3), 1, F + C, 4, f32, (0.5, 2)),
]}


def unary_operand(op: Op, dtype, rng, shape=(3, 4)):
  dtype = np.dtype(dtype)
  lo, hi = op.domain or (None, None)
  if dtype.kind == "c" and op.name in ("acosh", "asin", "acos", "atanh"):
    lo, hi = 0.2, 0.8
  if dtype.kind in "iu":
    lo, hi = (-8, 8) if op.name in ("square", "reciprocal") else (None, None)
    if dtype.kind == "u" and lo is not None:
      lo = 0
  return rand(shape, dtype, rng, low=lo, high=hi)


def _int_div_ref(x, y):
  if x.dtype.kind not in "iu":
    return x / y
  with np.errstate(all="ignore"):
    q = np.trunc(x.astype(f64) / y.astype(f64))
  return q.astype(x.dtype)


def _b(name, ref, kind, scale, jit_dtypes, jit_scale, vmap_dtype, grad):
  return Op(name, ref, None, scale, jit_dtypes, jit_scale,
            None if vmap_dtype is None else np.dtype(vmap_dtype), grad, kind)


# grad: ((low, high) of x, (low, high) of y)
BINARY = {o.name: o for o in [
    _b("add", lambda x, y: x + y, "", 1, F + SI + UI + C, 4, f32, ((-2, 2), (-2, 2))),
    _b("sub", lambda x, y: x - y, "", 1, F + SI + UI + C, 4, np.int32, ((-2, 2), (-2, 2))),
    _b("mul", lambda x, y: x * y, "", 1, F + SI + UI + C, 4, np.complex64,
       ((-2, 2), (-2, 2))),
    _b("div", _int_div_ref, "nonzero", 1, F + SI + UI + C, 4, np.int32,
       ((-2, 2), (0.5, 2))),
    _b("rem", lambda x, y: np.fmod(x, y), "nonzero", 1, F + SI + UI, 4, f32,
       ((2.1, 2.9), (1.55, 1.9))),
    _b("pow", lambda x, y: np.power(x, y), "positive", 8, F + C, 64, f32,
       ((0.5, 2), (-1.5, 1.5))),
    _b("max", np.maximum, "nan", 1, F + SI + UI + B, 4, f32, ((-2, -0.5), (0.5, 2))),
    _b("min", np.minimum, "nan", 1, F + SI + UI + B, 4, np.uint8, ((-2, -0.5), (0.5, 2))),
    _b("nextafter", np.nextafter, "", 1, [np.dtype(f32), np.dtype(f64)], 4, f32, None),
    _b("atan2", lambda x, y: (-1j * np.log((y + 1j * x) / np.sqrt(x * x + y * y))
                              if x.dtype.kind == "c" else np.arctan2(x, y)),
       "", 1, F, 4, f32, ((0.5, 2), (0.5, 2))),
    _b("bitwise_and", np.bitwise_and, "", 1, SI + UI + B, 4, np.int32, None),
    _b("bitwise_or", np.bitwise_or, "", 1, SI + UI + B, 4, np.bool_, None),
    _b("bitwise_xor", np.bitwise_xor, "", 1, SI + UI + B, 4, np.int16, None),
    _b("shift_left", None, "shift", 1, SI + UI, 4, np.int32, None),
    _b("shift_right_arithmetic", None, "shift", 1, SI + UI, 4, np.int32, None),
    _b("shift_right_logical", None, "shift", 1, SI + UI, 4, np.uint32, None),
    _b("complex", lambda x, y: x + 1j * y, "", 1, [np.dtype(f32), np.dtype(f64)], 4, f32,
       None),
    _b("eq", np.equal, "nan", 1, F + SI + UI + C + B, 4, np.int32, None),
    _b("ne", np.not_equal, "nan", 1, F + SI + UI + C + B, 4, f32, None),
    _b("lt", np.less, "nan", 1, F + SI + UI + B, 4, f32, None),
    _b("le", np.less_equal, "", 1, F + SI + UI + B, 4, np.int32, None),
    _b("gt", np.greater, "", 1, F + SI + UI + B, 4, f32, None),
    _b("ge", np.greater_equal, "", 1, F + SI + UI + B, 4, np.bool_, None),
    _b("igamma", sps.gammainc, "gamma", 8, F, 64, f32, None),
    _b("igammac", sps.gammaincc, "gamma", 8, F, 64, f32, None),
    _b("polygamma", None, "polygamma", 8, [np.dtype(f32), np.dtype(f64)], 64, f32, None),
    _b("zeta", None, "zeta", 8, [np.dtype(f32), np.dtype(f64)], 64, f32, None),
    # (eagerly SciPy by central differences: only the compiled and vmap sweeps)
    _b("igamma_grad_a", None, "gamma", None, [np.dtype(f32), np.dtype(f64)], 2e4, None,
       None),
    _b("random_gamma_grad", None, "gamma", None, [np.dtype(f32), np.dtype(f64)], 2e4, f32,
       None),
]}


def binary_operands(op: Op, dtype, rng, shape=(3, 4), edges=False):
  """Operands for ``op``; ``edges`` adds the edge values the compiled sweep checks
  (integer division by zero and INT_MIN / -1, NaNs through max/min/compares)."""
  dtype = np.dtype(dtype)
  isfloat = dtype.kind == "f" or dtype == bfloat16
  kind = op.kind
  if kind == "shift":
    bits = dtype.itemsize * 8 if dtype.kind in "iu" else 8
    x = rand(shape, dtype, rng)
    lo = -2 if edges and dtype.kind == "i" else 0
    y = rand(shape, dtype, rng, low=lo, high=bits + 2) if dtype.kind in "iu" else \
        rand(shape, dtype, rng)
    return x, y
  if kind == "polygamma":
    x = np.floor(rand(shape, dtype, rng, low=0, high=3)).astype(dtype) if isfloat else \
        rand(shape, dtype, rng)
    return x, rand(shape, dtype, rng, low=0.5, high=4)
  if kind == "zeta":
    return (rand(shape, dtype, rng, low=1.5, high=4),
            rand(shape, dtype, rng, low=0.5, high=3))
  if kind == "gamma":  # a, x > 0, on both sides of x = a (series and continued fraction)
    if dtype.kind in "iub":
      return rand(shape, dtype, rng, low=0, high=3), rand(shape, dtype, rng, low=0, high=3)
    return rand(shape, dtype, rng, low=0.2, high=12), rand(shape, dtype, rng, low=0.1,
                                                           high=15)
  if kind == "positive":
    lo = 0 if dtype.kind in "iub" else 0.1
    return rand(shape, dtype, rng, low=lo, high=3), rand(shape, dtype, rng, low=lo, high=3)
  if kind == "nonzero" and dtype.kind in "iu":
    x = rand(shape, dtype, rng)
    y = rand(shape, dtype, rng, low=1, high=100)
    if edges:
      y = rand(shape, dtype, rng, low=-3 if dtype.kind == "i" else 0, high=3)
      y.flat[0] = 0  # integer division by zero: -1 / x, as XLA
      if dtype.kind == "i":
        x.flat[1], y.flat[1] = np.iinfo(dtype).min, -1  # INT_MIN / -1
    return x, y
  small = dtype.kind in "iu"
  x = rand(shape, dtype, rng, low=-50 if small else None, high=50 if small else None)
  y = rand(shape, dtype, rng, low=-50 if small else None, high=50 if small else None)
  if dtype.kind == "u":
    x = rand(shape, dtype, rng, low=0, high=100)
    y = rand(shape, dtype, rng, low=0, high=100)
  if kind == "nonzero" and dtype.kind in "fc":
    y = np.where(np.abs(y) < 0.1, 1, y).astype(dtype)
  if op.name == "pow" and isfloat:
    x = rand(shape, dtype, rng, low=0.1, high=3.0)
  if edges and kind == "nan" and isfloat:
    x.flat[0] = np.nan  # NaN propagates through max/min; compares false (ne true)
    y.flat[1] = np.nan
  return x, y

"""Core lax primitives. Each primitive is one block holding all of its rules.

Eager impls receive ``ArrayImpl`` values and run NumPy on their buffers; the
abstract eval rule computes the output ``ShapedArray`` for tracing. Shape and
dtype checks live in one function per primitive and serve both paths.
Transformation rules (jvp, transpose, batch, lower) are added to each block by
the autodiff, vmap and jit layers; until then ``Primitive.rule`` raises.
"""
from __future__ import annotations

import builtins
import enum
import math
import operator
import warnings
from functools import partial
from typing import Sequence

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import ArrayImpl, asarray_value, from_python_scalar
from pyjax._src.core import Primitive, ShapedArray, Tracer
from pyjax._src.interpreters import lowering as mlir
from pyjax._src.interpreters import ad, batching

# NumPy reports floating-point exceptions (overflow, divide by zero, invalid) as
# RuntimeWarnings; JAX does not. Silence them for NumPy calls made from our
# primitive modules only (zero cost on the normal path, unlike np.errstate).
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"pyjax\._src\.lax\..*")

# ---------------------------------------------------------------- dtype sets

_bool = {np.dtype(np.bool_)}
_sint = {np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64)}
_uint = {np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64)}
_int = _sint | _uint
_float = {np.dtype(t) for t in (np.float16, np.float32, np.float64)} | {dtypes.bfloat16}
_complex = {np.dtype(np.complex64), np.dtype(np.complex128)}
_inexact = _float | _complex
_num = _int | _inexact
_any = _num | _bool
_int_bool = _int | _bool
_ordered = _int | _float | _bool


class _Number(frozenset):
  """The numeric dtypes as JAX's reductions and cumulative ops check them (against
  ``np.number``): their error message says "subtypes of number"."""


_number = _Number(_num)

_kind_names = [(_bool, "bool"), (_sint, "signedinteger"), (_uint, "unsignedinteger"),
               (_float, "floating"), (_complex, "complexfloating")]


def _accepted_str(accepted) -> str:
  if isinstance(accepted, _Number):
    return "number"
  names = [n for s, n in _kind_names if s <= accepted]
  if _int <= accepted:
    names = [n for n in names if n not in ("signedinteger", "unsignedinteger")] + ["integer"]
  if "floating" not in names:  # e.g. complex/conj accept only float32 and float64
    names += [d.name for d in _float if d in accepted]
  order = ["integer", "floating", "float16", "bfloat16", "float32", "complexfloating",
           "float64", "signedinteger", "unsignedinteger", "bool"]
  return ", ".join(sorted(names, key=order.index))


def _check_dtype(name, dtype, accepted, pos=None):
  if dtype not in accepted:
    at = "" if pos is None else f" at position {pos}"
    raise TypeError(f"{name} does not accept dtype {dtype.name}{at}. Accepted dtypes"
                    f"{at} are subtypes of {_accepted_str(accepted)}.")


def _wrap(v, weak=False):
  return ArrayImpl(v, weak)


# ---------------------------------------------------------------- argument conversion


def _to_array(x, like_dtype=None):
  """Lax-level conversion: Python scalars become weak arrays (of ``like_dtype``'s
  kind when compatible); NumPy values become arrays; arrays/tracers pass."""
  if isinstance(x, (ArrayImpl, Tracer)):
    return x
  if type(x) in (int, float, builtins.complex) and like_dtype is not None:
    kind = {int: "iub", float: "fc", builtins.complex: "c"}[type(x)]
    if like_dtype.kind in kind and not (type(x) is int and like_dtype.kind == "b"):
      return from_python_scalar(x, like_dtype)
  if type(x) in (bool, int, float, complex):
    return from_python_scalar(x)
  if hasattr(x, "__jax_array__"):
    return _to_array(x.__jax_array__(), like_dtype)
  return asarray_value(x)


def _dtype_of(x):
  return getattr(x, "dtype", None)


def _args2(x, y):
  """Converts a pair of lax operands, letting Python scalars take the other's dtype."""
  if type(x) is ArrayImpl and type(y) is ArrayImpl:
    return x, y
  xd = _dtype_of(x) if not isinstance(x, (int, float, builtins.complex)) else None
  yd = _dtype_of(y) if not isinstance(y, (int, float, builtins.complex)) else None
  return _to_array(x, yd), _to_array(y, xd)


# ---------------------------------------------------------------- elementwise factories


def _unop_dtype_rule(name, accepted, result_dtype=None):
  def rule(x: ShapedArray):
    _check_dtype(name, x.dtype, accepted)
    return x.dtype if result_dtype is None else result_dtype(x.dtype)
  return rule


def unop(name: str, npfn, accepted, result_dtype=None, lower=None) -> Primitive:
  """A unary elementwise primitive computed by ``npfn`` on the buffer."""
  p = Primitive(name)
  p.lower = lower
  check = _unop_dtype_rule(name, accepted, result_dtype)

  if result_dtype is None:
    def impl(x):
      v = x._value
      if v.dtype not in accepted:
        check(x.aval)
      return ArrayImpl(npfn(v), x.weak_type)
  else:
    def impl(x):
      v = x._value
      dt = check(x.aval)
      return ArrayImpl(np.asarray(npfn(v), dt) if v.ndim else npfn(v).astype(dt), x.weak_type)

  def abstract_eval(x):
    return ShapedArray(x.shape, check(x), x.weak_type)

  p.def_impl(impl)
  p.def_abstract_eval(abstract_eval)
  p.batch = batching.vectorized_batcher(p)
  return p


def _same_dtypes_check(name, *avals):
  """JAX's check_same_dtypes: all operands share one dtype (tip names the jnp twin)."""
  if any(a.dtype != avals[0].dtype for a in avals[1:]):
    tip = _jnp_name.get(name)
    raise TypeError(
        f"lax.{name} requires arguments to have the same dtypes, got "
        f"{', '.join(a.dtype.name for a in avals)}."
        + (f" (Tip: jnp.{tip} is a similar function that does automatic type promotion "
           f"on inputs)." if tip else ""))


def _binop_shape(name, x: ShapedArray, y: ShapedArray):
  """Shape rule of binary elementwise ops: equal shapes, or one of them rank 0."""
  if x.shape == y.shape or not x.shape or not y.shape:
    return x.shape if x.shape else y.shape
  if len(x.shape) != len(y.shape):
    raise TypeError(f"{name}: arrays must have the same number of dimensions, got "
                    f"{ {len(x.shape), len(y.shape)} }")
  raise TypeError(f"{name} got incompatible shapes for broadcasting: "
                  f"{x.shape}, {y.shape}.")


def _binop_check(name, x: ShapedArray, y: ShapedArray, accepted):
  shape = _binop_shape(name, x, y)
  for i, a in enumerate((x, y)):
    if a.dtype not in accepted:
      _check_dtype(name, a.dtype, accepted, pos=i)
  _same_dtypes_check(name, x, y)
  return shape


# lax name -> the jax.numpy function that promotes (JAX's table, for error tips)
_jnp_name = {"add": "add", "atan2": "arctan2", "div": "divide", "eq": "equal",
             "max": "maximum", "min": "minimum", "mul": "multiply", "ne": "not_equal",
             "nextafter": "nextafter", "pow": "float_power", "select": "where",
             "shift_left": "left_shift", "shift_right_logical": "right_shift",
             "shift_right_arithmetic": "right_shift", "sub": "subtract",
             "concatenate": "concatenate"}


def binop(name: str, npfn, accepted, result_dtype=None, lower=None,
          check=None) -> Primitive:
  """A binary elementwise primitive. Operands share a dtype (unless ``check``, the
  shape/dtype rule, says otherwise); shapes are equal or one of them is a scalar
  (rank 0); the lax functions broadcast size-1 dimensions first, as JAX's do."""
  p = Primitive(name)
  p.lower = lower
  check = check or _binop_check

  def impl(x, y):
    xv, yv = x._value, y._value
    if xv.dtype != yv.dtype or xv.dtype not in accepted or (
        xv.shape != yv.shape and xv.shape and yv.shape):
      check(name, x.aval, y.aval, accepted)
    out = npfn(xv, yv)
    if result_dtype is not None and out.dtype != result_dtype(xv.dtype):
      out = out.astype(result_dtype(xv.dtype))
    return ArrayImpl(out, x.weak_type and y.weak_type)

  def abstract_eval(x, y):
    shape = check(name, x, y, accepted)
    dt = x.dtype if result_dtype is None else result_dtype(x.dtype)
    return ShapedArray(shape, dt, x.weak_type and y.weak_type)

  p.def_impl(impl)
  p.def_abstract_eval(abstract_eval)
  p.batch = batching.broadcast_batcher(p)
  return p


def _bool_result(_):
  return np.dtype(np.bool_)


def _real_dtype(dt):
  return np.finfo(dt).dtype if dt.kind == "c" else dt


def _complex_dtype(dt):
  return np.dtype(np.complex128) if dt == np.float64 else np.dtype(np.complex64)


# ---------------------------------------------------------------- autodiff rule helpers


def _zeros(x):
  return full_like(x, 0)


def _brcast_to(t, shape):
  return t if t.shape == tuple(shape) else broadcast_in_dim(t, shape, ())


def _unbroadcast(aval, ct):
  """Cotangent of a rank-0 operand that was broadcast against an array operand."""
  if ct.shape == aval.shape:
    return ct
  return reduce_sum(ct, tuple(range(ct.ndim)))


def _linear_binop_transpose(sign_y):
  def rule(ct, x, y, **_):
    return [_unbroadcast(x.aval, ct) if ad.is_undefined_primal(x) else None,
            (_unbroadcast(y.aval, ct if sign_y > 0 else neg(ct))
             if ad.is_undefined_primal(y) else None)]
  return rule


def _mul_transpose(ct, x, y):
  if ad.is_undefined_primal(x) and ad.is_undefined_primal(y):
    raise ValueError("mul transpose: both operands are linear; the function is not "
                     "linear in its inputs.")
  if ad.is_undefined_primal(x):
    return [_unbroadcast(x.aval, mul(ct, y)), None]
  return [None, _unbroadcast(y.aval, mul(x, ct))]


def _balanced_eq(x, z, y):
  """1 where x alone attains z, 1/2 where x and y tie, else 0 (for max/min JVPs)."""
  ex = _convert_element_type(eq(x, z), z.dtype)
  ey = _convert_element_type(eq(y, z), z.dtype)
  return div(ex, add(_const(z, 1), ey))
  return np.dtype(np.complex128) if dt == np.float64 else np.dtype(np.complex64)


# ---------------------------------------------------------------- integer helpers


def _int_div(x, y):
  """C-style (truncating) integer division; x / 0 gives -1 (all bits set), as XLA."""
  if x.dtype.kind == "b":
    return x  # only reached for bool / bool = x (divide by True)
  zero = y == 0
  ysafe = np.where(zero, 1, y).astype(x.dtype)
  q = np.abs(x) // np.abs(ysafe) if x.dtype.kind == "i" else x // ysafe
  if x.dtype.kind == "i":
    q = np.where((x < 0) != (ysafe < 0), -q, q).astype(x.dtype)
    # INT_MIN / -1 overflows in XLA to INT_MIN.
  return np.where(zero, np.array(-1).astype(x.dtype), q).astype(x.dtype)


def _complex_div(x, y):
  """XLA's complex division, written with lax operations (the eager impl's fix-up and,
  through ``mlir.lower_fun``, the jit lowering): Smith's algorithm, which neither
  overflows nor underflows |y|^2, then C99's answers where it gives NaN + NaN i: a zero
  divisor (inf with y's real sign times x), an infinite numerator over a finite divisor
  (inf) and a finite numerator over an infinite divisor (signed zero)."""
  ar, ai, br, bi = real(x), imag(x), real(y), imag(y)
  zero, one, inf = full_like(ar, 0), full_like(ar, 1), full_like(ar, np.inf)
  ibits = np.dtype(f"i{ar.dtype.itemsize}")

  def copysign(v, sign):  # |v| with sign's sign bit (-0 included), for v >= 0
    bits = bitcast_convert_type(sign, ibits)
    return select(lt(bits, _const(bits, 0)), neg(v), v)

  bra, bia = abs(br), abs(bi)
  small = lt(bra, bia)
  ratio = select(small, div(br, bi), div(bi, br))
  denom = select(small, add(bi, mul(br, ratio)), add(br, mul(bi, ratio)))
  cr = div(select(small, add(mul(ar, ratio), ai), add(ar, mul(ai, ratio))), denom)
  ci = div(select(small, sub(mul(ai, ratio), ar), sub(ai, mul(ar, ratio))), denom)
  # Case 1: 0 divisor and a numerator that is not NaN + NaN i.
  zero_den = bitwise_and(bitwise_and(eq(bra, zero), eq(bia, zero)),
                         bitwise_or(eq(ar, ar), eq(ai, ai)))
  s = copysign(inf, br)
  r1, i1 = mul(s, ar), mul(s, ai)

  def infinite(pr, pi):  # (either part infinite, the parts' signs there, 0 elsewhere)
    fr, fi = eq(abs(pr), inf), eq(abs(pi), inf)
    return (bitwise_or(fr, fi), copysign(select(fr, one, zero), pr),
            copysign(select(fi, one, zero), pi))

  def finite(pr, pi):
    return bitwise_and(lt(abs(pr), inf), lt(abs(pi), inf))

  def scaled_times_conj(scale, pr, pi, qr, qi):  # scale * p * conj(q)
    return (mul(scale, add(mul(pr, qr), mul(pi, qi))),
            mul(scale, sub(mul(pi, qr), mul(pr, qi))))

  # Case 2: infinite numerator, finite divisor: inf * sign(x) * conj(y).
  x_inf, ur, ui = infinite(ar, ai)
  inf_num = bitwise_and(x_inf, finite(br, bi))
  r2, i2 = scaled_times_conj(inf, ur, ui, br, bi)
  # Case 3: finite numerator, infinite divisor: 0 * x * conj(sign(y)).
  y_inf, vr, vi = infinite(br, bi)
  inf_den = bitwise_and(y_inf, finite(ar, ai))
  r3, i3 = scaled_times_conj(zero, ar, ai, vr, vi)
  nan = bitwise_and(ne(cr, cr), ne(ci, ci))

  def pick(c, x1, x2, x3):
    return select(nan, select(zero_den, x1, select(inf_num, x2, select(inf_den, x3, c))), c)

  return complex(pick(cr, r1, r2, r3), pick(ci, i1, i2, i3))


def _div_impl(x, y):
  if x.dtype.kind in "iub":
    return _int_div(x, y)
  if x.dtype.kind != "c":
    return np.true_divide(x, y)
  # NumPy's Smith division agrees with XLA's to an ulp except where it gives NaN + NaN i:
  # those elements get XLA's answer.
  with np.errstate(all="ignore"):
    out = np.asarray(np.true_divide(x, y))
    bad = np.isnan(out.real) & np.isnan(out.imag)
    if bad.any():
      x, y = np.broadcast_to(x, out.shape)[bad], np.broadcast_to(y, out.shape)[bad]
      out[bad] = _complex_div(ArrayImpl(x, False), ArrayImpl(y, False))._value
  return out


def _rem_impl(x, y):
  if x.dtype.kind in "iu":
    zero = y == 0
    r = np.fmod(x, np.where(zero, 1, y).astype(x.dtype))
    return np.where(zero, x, r).astype(x.dtype)
  return np.fmod(x, y)


def _round_half_away(x):
  return np.where(np.signbit(x), -np.floor(-x + 0.5), np.floor(x + 0.5)).astype(x.dtype)


def _sign(x):
  if x.dtype.kind == "u":
    return (x != 0).astype(x.dtype)
  if x.dtype.kind == "c":
    a = np.abs(x)
    return np.where(a == 0, 0, x / np.where(a == 0, 1, a)).astype(x.dtype)
  return np.sign(x)


def _popcount(x):
  u = x.view(np.dtype(f"u{x.dtype.itemsize}")) if x.ndim else np.asarray(x).view(
      np.dtype(f"u{x.dtype.itemsize}"))
  return np.bitwise_count(u).astype(x.dtype)


def _clz(x):
  bits = x.dtype.itemsize * 8
  u = np.asarray(x).view(np.dtype(f"u{x.dtype.itemsize}")).astype(np.uint64)
  out = np.full(u.shape, bits, np.int64)
  nz = u != 0
  # floor(log2(u)) computed exactly with bit tricks on uint64.
  msb = np.zeros(u.shape, np.int64)
  v = u.copy()
  for s in (32, 16, 8, 4, 2, 1):
    hi = v >> np.uint64(s)
    m = hi != 0
    msb = np.where(m, msb + s, msb)
    v = np.where(m, hi, v)
  out = np.where(nz, bits - 1 - msb, out)
  return out.astype(x.dtype)


def _shift_amount_ok(x, y):
  bits = x.dtype.itemsize * 8
  yu = y.astype(np.int64) if y.dtype.kind == "i" else y.astype(np.uint64).astype(np.int64)
  return (yu >= 0) & (yu < bits), np.clip(yu, 0, bits - 1).astype(x.dtype)


def _shift_left(x, y):
  ok, s = _shift_amount_ok(x, y)
  return np.where(ok, np.left_shift(x, s), 0).astype(x.dtype)


def _shift_right_arithmetic(x, y):
  ok, s = _shift_amount_ok(x, y)
  if x.dtype.kind == "u":
    sx = np.asarray(x).view(np.dtype(f"i{x.dtype.itemsize}"))
    r = np.right_shift(sx, s.view(sx.dtype))
    full = np.where(sx < 0, -1, 0).astype(sx.dtype)
    return np.where(ok, r, full).astype(sx.dtype).view(x.dtype)
  return np.where(ok, np.right_shift(x, s), np.where(x < 0, -1, 0)).astype(x.dtype)


def _shift_right_logical(x, y):
  ok, s = _shift_amount_ok(x, y)
  udt = np.dtype(f"u{x.dtype.itemsize}")
  ux = np.asarray(x).view(udt)
  return np.where(ok, np.right_shift(ux, s.view(udt)), 0).astype(udt).view(x.dtype)


def _nextafter(x, y):
  return np.nextafter(x, y)


def _scipy_special(name):
  def fn(x):
    import scipy.special as sp
    return getattr(sp, name)(x).astype(x.dtype)
  return fn


def _f32_compute(npfn):
  """Runs npfn in float32 for bfloat16/float16 inputs (as XLA upcasts them)."""
  def fn(x):
    if x.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
      return npfn(x.astype(np.float32)).astype(x.dtype)
    return npfn(x)
  return fn


# XLA's CPU backend evaluates these float32 functions with its own polynomial
# approximations (FMA-contracted, denormals flushed); jax.random's bit-exactness
# depends on reproducing them. Other dtypes use NumPy/SciPy.
_F32 = np.dtype(np.float32)
_F32_TINY = np.float32(1.17549435e-38)


def _fma32(a, b, c):
  """float32 fused multiply-add (exact product and sum in float64, one rounding)."""
  return (np.asarray(a, np.float64) * b + c).astype(np.float32)


def _fma64(a, b, c):
  """float64 fused multiply-add: Dekker's exact product plus an error-free sum."""
  a, b, c = (np.asarray(v, np.float64) for v in (a, b, c))
  return fma_by_splitting(a, b, c, 134217729.0, np.where, np.isfinite)


def fma_by_splitting(a, b, c, split, where, isfinite):
  """``a * b + c`` with one rounding, from ordinary float ops: Dekker's exact product
  (``split`` = 2**ceil(p/2) + 1 for a p-bit mantissa) plus an error-free sum. Works
  on NumPy values or traced pyjax values (pass the module's ``where``/``isfinite``)."""
  def halves(x):
    t = x * split
    hi = t - (t - x)
    return hi, x - hi

  p = a * b
  (ah, al), (bh, bl) = halves(a), halves(b)
  err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
  s = p + c
  bv = s - p
  t = (p - (s - bv)) + (c - bv)
  return where(isfinite(p) & isfinite(c), s + (t + err), s)


# Emulating XLA's polynomials costs 10-30x NumPy's SIMD kernels, so exp/log/log1p
# emulate them only up to this many elements (what jax.random's samplers need for
# bit-exact draws of typical sizes); larger arrays use NumPy (within 1 ulp of XLA).
_XLA_EXACT_MAX_SIZE = 4096


def _xla_f32(npfn, f32fn, f64fn=None, max_size=None):
  def fn(x):
    if max_size is not None and x.size > max_size:
      return _f32_compute(npfn)(x)
    if x.dtype == _F32:
      return f32fn(x)
    if x.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
      return f32fn(x.astype(np.float32)).astype(x.dtype)
    if f64fn is not None and x.dtype == np.float64:
      return f64fn(x)
    return npfn(x)
  return fn


_LOG_P = np.array([7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1,
                   1.4249322787E-1, -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1,
                   3.3333331174E-1], np.float32)


def _log_f32(x):
  """Cephes-style logf: mantissa in [sqrt(.5), sqrt(2)) and a degree-8 polynomial."""
  x = np.asarray(x, np.float32)
  b = np.maximum(x, _F32_TINY).view(np.uint32)
  e = ((b >> 23).astype(np.int32) - 126).astype(np.float32)
  m = ((b & 0x807fffff) | 0x3f000000).view(np.float32)
  lo = m < np.float32(0.707106781186547524)
  m = (m - np.float32(1)) + np.where(lo, m, np.float32(0))
  e = e - lo.astype(np.float32)
  m2 = m * m
  m3 = m2 * m
  p = _LOG_P
  y0 = _fma32(_fma32(p[0], m, p[1]), m, p[2])
  y1 = _fma32(_fma32(p[3], m, p[4]), m, p[5])
  y2 = _fma32(_fma32(p[6], m, p[7]), m, p[8])
  y = _fma32(_fma32(_fma32(y0, m3, y1), m3, y2), m3, e * np.float32(-2.12194440e-4))
  r = _fma32(e, np.float32(0.693359375), _fma32(m2, np.float32(-0.5), m) + y)
  r = np.where(x < _F32_TINY, np.float32(-np.inf), r)  # zero and (flushed) denormals
  r = np.where(x < 0, np.float32(np.nan), r)
  return np.where((x == np.inf) | np.isnan(x), x, r)


_LOG1P_NUM = (4.5270000862445199635215E-5, 4.9854102823193375972212E-1,
              6.5787325942061044846969E0, 2.9911919328553073277375E1,
              6.0949667980987787057556E1, 5.7112963590585538103336E1,
              2.0039553499201281259648E1)
_LOG1P_DEN = (1., 1.5062909083469192043167E1, 8.3047565967967209469434E1,
              2.2176239823732856465394E2, 3.0909872225312059774938E2,
              2.1642788614495947685003E2, 6.0118660497603843919306E1)


def _horner32(x, coeffs):
  p = np.zeros_like(x)
  for c in coeffs:
    p = _fma32(p, x, np.float32(c))
  return p


def _log1p_f64(x):
  x = np.asarray(x, np.float64)
  x2 = x * x
  num, den = np.zeros_like(x), np.zeros_like(x)
  for a, b in zip(_LOG1P_NUM, _LOG1P_DEN):
    num, den = _fma64(num, x, a), _fma64(den, x, b)
  small = x + _fma64(-0.5, x2, (x * x2) * (num / den))
  return np.where(np.abs(x) < 0.41421356237309504880, small, np.log(x + 1))


def _log1p_f32(x):
  """log(1 + x) for |x| >= sqrt(2) - 1, else Cephes' rational approximation."""
  x = np.asarray(x, np.float32)
  x2 = x * x
  r = _horner32(x, _LOG1P_NUM) / _horner32(x, _LOG1P_DEN)
  small = x + _fma32(np.float32(-0.5), x2, (x * x2) * r)
  return np.where(np.abs(x) < np.float32(0.41421356237309504880), small,
                  _log_f32(x + np.float32(1)))


_EXP_P = np.array([1.9875691500E-4, 1.3981999507E-3, 8.3334519073E-3, 4.1665795894E-2,
                   1.6666665459E-1, 5.0000001201E-1], np.float32)


def _exp_f32(x):
  """Cephes-style expf: x = m ln2 + r, degree-5 polynomial in r, result 2^m exp(r)."""
  x = np.asarray(x, np.float32)
  xc = np.clip(x, np.float32(-88.3762626647949), np.float32(88.3762626647950))
  m = np.floor(_fma32(xc, np.float32(1.44269504088896341), np.float32(0.5)))
  r = _fma32(m, np.float32(2.12194440e-4), _fma32(m, np.float32(-0.693359375), xc))
  y = _EXP_P[0]
  for c in _EXP_P[1:]:
    y = _fma32(y, r, c)
  y = _fma32(y, r * r, r) + np.float32(1)
  out = np.ldexp(y.astype(np.float64), m.astype(np.int32)).astype(np.float32)
  out = np.where(xc != x, np.exp(x), out)  # overflow, underflow, inf, nan
  return np.where(out < _F32_TINY, np.float32(0), out)


def _exp_f64(x):
  """Cephes-style exp: a rational approximation in r = x - m ln2."""
  x = np.asarray(x, np.float64)
  xc = np.clip(x, -709.436139303, 709.437)
  m = np.floor(_fma64(1.4426950408889634073599, xc, 0.5))
  r = _fma64(m, -1.42860682030941723212e-6, _fma64(m, -0.693145751953125, xc))
  r2 = r * r
  px = _fma64(_fma64(1.26177193074810590878e-4, r2, 3.02994407707441961300e-2), r2,
              9.99999999999999999910e-1) * r
  qx = _fma64(_fma64(_fma64(3.00198505138664455042e-6, r2, 2.52448340349684104192e-3),
                     r2, 2.27265548208155028766e-1), r2, 2.00000000000000000009e0)
  y = _fma64(2.0, px / (qx - px), 1.0)
  out = np.ldexp(y, np.nan_to_num(m).astype(np.int64))
  return np.where(xc != x, np.exp(x), out)

# XLA's CPU tan calls libm's tanf: fdlibm's float kernel after a double-precision
# reduction by pi/2 (Cody-Waite below 120, a table of 2/pi bits above). NumPy's
# float32 tan is SIMD code on AVX-512 machines and differs from it in the last ulp.
_TAN_T = np.array([0x3eaaaaab, 0x3e088889, 0x3d5d0dd1, 0x3cb327a4, 0x3c11371f, 0x3b6b6916,
                   0x3abede48, 0x3a1a26c8, 0x398137b9, 0x38a3f445, 0x3895c07a, 0xb79bae5f,
                   0x37d95384], np.uint32).view(np.float32)
_PIO4_HI, _PIO4_LO = np.array([0x3f490fda, 0x33222168], np.uint32).view(np.float32)
_HPI_INV_2P24 = float.fromhex("0x1.45F306DC9C883p+23")  # 2/pi * 2^24
_HPI = float.fromhex("0x1.921FB54442D18p0")
_PI_2M62 = float.fromhex("0x1.921FB54442D18p-62")  # 2 pi * 2^-64
_TWO_OVER_PI_192 = 0xa2f9836e4e441529fc2757d1f534ddc0db6295993c439041
# Word i: the 32 bits of 2/pi ending at its (i+1)-th byte.
_INV_PIO4_WORDS = np.array([(_TWO_OVER_PI_192 >> (8 * (23 - i))) & 0xffffffff
                            for i in range(24)], np.uint64)


def _tan_reduce(x):
  """x = n pi/2 + (y0 + y1), |y| <= pi/4, as float32 pair; the quadrant n (int32)."""
  u = x.view(np.uint32)
  dx = x.astype(np.float64)
  n = ((dx * _HPI_INV_2P24).astype(np.int32) + np.int32(0x800000)) >> 24
  red = dx - n * _HPI
  big = ((u >> 20) & 0x7ff) >= 0x42f  # |x| >= 120 (and inf/nan)
  if big.any():  # 32x96-bit fixed-point product with 4/pi: the exact modulo
    xi = u[big]
    words = _INV_PIO4_WORDS[((xi >> 26) & 15).astype(np.intp)[:, None] + [0, 4, 8]]
    m = (((xi & 0xffffff) | 0x800000).astype(np.uint64) << ((xi >> 23) & 7)
         ).astype(np.uint64) & np.uint64(0xffffffff)
    r0 = (m * words[:, 0]) & np.uint64(0xffffffff)
    r0 = ((m * words[:, 2]) >> np.uint64(32)) | (r0 << np.uint64(32))
    r0 = r0 + m * words[:, 1]
    nb = (r0 + np.uint64(1 << 61)) >> np.uint64(62)
    v = (r0 - (nb << np.uint64(62))).view(np.int64).astype(np.float64) * _PI_2M62
    red[big] = np.where(xi >> 31 != 0, -v, v)
    n[big] = nb.astype(np.int32)
  y0 = red.astype(np.float32)
  return n, y0, (red - y0).astype(np.float32)


def _tan_kernel(x, y, iy):
  """fdlibm's float tan kernel on x + y, |x + y| <= pi/4; iy = 1 for tan, -1 for
  -1/tan (odd quadrants)."""
  f, T = np.float32, _TAN_T
  hx = x.view(np.int32)
  ix = hx & 0x7fffffff
  sgn = np.where(hx < 0, f(-1), f(1))
  big = ix >= 0x3f2ca140  # |x| >= 0.6744: tan(pi/4 - x') instead
  x = np.where(big, (_PIO4_HI - np.abs(x)) + (_PIO4_LO - sgn * y), x)
  y = np.where(big, f(0), y)
  z = x * x
  w = z * z
  r = T[1] + w * (T[3] + w * (T[5] + w * (T[7] + w * (T[9] + w * T[11]))))
  v = z * (T[2] + w * (T[4] + w * (T[6] + w * (T[8] + w * (T[10] + w * T[12])))))
  s = z * x
  r = y + z * (s * (r + v) + y)
  r = r + T[0] * s
  w = x + r
  big_val = np.where(np.abs(x) < f(2.0 ** -13), sgn * iy * (f(1) - f(2) * iy * x),
                     sgn * (iy - f(2) * (x - (w * w / (w + iy) - r))))
  # -1/(x + r) from a 12-bit-truncated reciprocal and one correction step
  mask = np.uint32(0xfffff000)
  zt = (w.view(np.uint32) & mask).view(np.float32)
  a = f(-1) / w
  t = (a.view(np.uint32) & mask).view(np.float32)
  neg_val = t + a * ((f(1) + t * zt) + t * (r - (zt - x)))
  out = np.where(big, big_val, np.where(iy == 1, w, neg_val))
  tiny_val = np.where(iy == 1, x, np.where(ix == 0, f(1) / np.abs(x), f(-1) / x))
  return np.where(ix < 0x39000000, tiny_val, out)


def _tan_f32(x):
  x = np.asarray(x, np.float32)
  flat = x.reshape(-1)
  with np.errstate(all="ignore"):
    n, y0, y1 = _tan_reduce(flat)
    inside = (flat.view(np.uint32) & 0x7fffffff) <= 0x3f490fda
    y0 = np.where(inside, flat, y0)
    y1 = np.where(inside, np.float32(0), y1)
    iy = np.where(inside | (n & 1 == 0), np.float32(1), np.float32(-1))
    out = np.where(np.isfinite(flat), _tan_kernel(y0, y1, iy), flat - flat)
  return out.reshape(x.shape)


_ERF_INV_A = np.array([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                       0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
                       1.50140941], np.float32)
_ERF_INV_B = np.array([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                       0.00573950773, -0.0076224613, 0.00943887047, 1.00167406,
                       2.83297682], np.float32)


def _erf_inv_f32(x):
  """Giles' single-precision erfinv: two polynomials in w = -log1p(-x*x)."""
  x = np.asarray(x, np.float32)
  w = -_log1p_f32(-(x * x))
  lt = w < np.float32(5)
  w = np.where(lt, w - np.float32(2.5), np.sqrt(w) - np.float32(3))
  p = np.where(lt, _ERF_INV_A[0], _ERF_INV_B[0])
  for a, b in zip(_ERF_INV_A[1:], _ERF_INV_B[1:]):
    p = _fma32(p, w, np.where(lt, a, b))
  return np.where(np.abs(x) == 1, x * np.float32(np.inf), p * x)


_ERF_INV64 = (  # Giles' double-precision pieces: w < 6.25, w < 16, w >= 16
    (-3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
     1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
     6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
     2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
     1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
     4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
     0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
     0.24015818242558961693, 1.6536545626831027356),
    (2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
     1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
     2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
     6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
     0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
     -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
     3.0838856104922207635),
    (-2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
     -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
     2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
     -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
     7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
     1.0103004648645343977, 4.8499064014085844221))


def _erf_inv_f64(x):
  """Giles' double-precision erfinv; shorter pieces join the Horner chain late."""
  x = np.asarray(x, np.float64)
  w = -_log1p_f64(-(x * x))
  lt6, lt16 = w < 6.25, w < 16
  a, b, c = _ERF_INV64

  def coef(i):
    v = np.full_like(x, a[i])
    if i < 19:
      v = np.where(lt6, v, b[i])
    if i < 17:
      v = np.where(lt16, v, c[i])
    return v

  w = np.where(lt6, w - 3.125, np.sqrt(w) - np.where(lt16, 3.25, 5.0))
  p = coef(0)
  for i in range(1, 23):
    q = _fma64(p, w, coef(i))
    p = q if i < 17 else np.where(lt16 if i < 19 else lt6, q, p)
  return np.where(np.abs(x) == 1, x * np.inf, p * x)


def _logistic(x):
  if x.dtype.kind == "c":
    return 1 / (1 + np.exp(-x))
  # Numerically stable form: exp(min(x,0)) / (1 + exp(-|x|)).
  e = np.exp(-np.abs(x))
  return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def _rsqrt(x):
  return (1 / np.sqrt(x)).astype(x.dtype)


def _atan2(x, y):
  if x.dtype.kind == "c":  # atan2(x, y) = -i log((y + i x) / sqrt(x^2 + y^2))
    return (-1j * np.log((y + 1j * x) / np.sqrt(x * x + y * y))).astype(x.dtype)
  return np.arctan2(x, y)


def _is_finite(x):
  return np.isfinite(x)


# ---------------------------------------------------------------- elementwise primitives

def _sign_lower(ctx, x):
  if x.aval.dtype.kind == "u":  # stablehlo.sign is for signed and float types
    return ctx.convert(ctx.compare("NE", x, ctx.full(0, (), x.aval.dtype)), x.aval.dtype)
  return ctx.unary("sign", x)


def _cbrt_lower(ctx, x):
  if x.aval.dtype != np.float64:
    return mlir.elementwise("cbrt", True)(ctx, x)
  # IREE has no float64 cbrt: sign(x) * |x| ** (1/3).
  r = ctx.binary("power", ctx.unary("abs", x), ctx.full(1 / 3, x.aval.shape, x.aval.dtype))
  return ctx.binary("multiply", ctx.unary("sign", x), r)


def _hlo_c(ctx, v, d=_F32):
  # Scalar constants, broadcast where used: full-shape ones make IREE fold converts of
  # them into huge constants at compile time (a minute for 4M elements).
  return ctx.full(np.asarray(v).astype(d), (), d)


def _hlo_fma32(ctx, p, q, r):
  """float32 p * q + r rounded once: the product in float64 is exact, whatever IREE
  contracts."""
  p, q, r = (v if isinstance(v, mlir.Val) else _hlo_c(ctx, v) for v in (p, q, r))
  s = ctx.binary("add", ctx.binary("multiply", ctx.convert(p, np.float64),
                                   ctx.convert(q, np.float64)), ctx.convert(r, np.float64))
  return ctx.convert(s, _F32)


def _log_f32_hlo(ctx, v):
  """``_log_f32`` in StableHLO ops."""
  b, c, sel, fma = ctx.binary, partial(_hlo_c, ctx), ctx.select, partial(_hlo_fma32, ctx)
  bits = ctx.op("stablehlo.bitcast_convert", [b("maximum", v, c(_F32_TINY))],
                v.aval.update(dtype=np.uint32))
  e = ctx.convert(b("shift_right_logical", bits, c(23, np.uint32)), np.int32)
  e = ctx.convert(b("subtract", e, c(126, np.int32)), _F32)
  m = b("or", b("and", bits, c(0x807fffff, np.uint32)), c(0x3f000000, np.uint32))
  m = ctx.op("stablehlo.bitcast_convert", [m], v.aval)
  lo = ctx.compare("LT", m, c(0.707106781186547524))
  m = b("add", b("subtract", m, c(1)), sel(lo, m, c(0)))
  e = b("subtract", e, sel(lo, c(1), c(0)))
  m2 = b("multiply", m, m)
  m3 = b("multiply", m2, m)
  p = _LOG_P
  y0, y1, y2 = (fma(fma(p[i], m, p[i + 1]), m, p[i + 2]) for i in (0, 3, 6))
  y = fma(fma(fma(y0, m3, y1), m3, y2), m3, b("multiply", e, c(-2.12194440e-4)))
  r = fma(e, 0.693359375, b("add", fma(m2, -0.5, m), y))
  r = sel(ctx.compare("LT", v, c(_F32_TINY)), c(-np.inf), r)
  r = sel(ctx.compare("LT", v, c(0)), c(np.nan), r)
  keep = b("or", ctx.compare("EQ", v, c(np.inf)), ctx.compare("NE", v, v))
  return sel(keep, v, r)


def _log1p_f32_hlo(ctx, v):
  """``_log1p_f32`` in StableHLO ops."""
  b, c = ctx.binary, partial(_hlo_c, ctx)

  def horner(coeffs):
    p = c(0)
    for k in coeffs:
      p = _hlo_fma32(ctx, p, v, k)
    return p

  v2 = b("multiply", v, v)
  r = b("divide", horner(_LOG1P_NUM), horner(_LOG1P_DEN))
  small = b("add", v, _hlo_fma32(ctx, -0.5, v2, b("multiply", b("multiply", v, v2), r)))
  lt = ctx.compare("LT", ctx.unary("abs", v), c(0.41421356237309504880))
  return ctx.select(lt, small, _log_f32_hlo(ctx, b("add", v, c(1))))


def _erf_inv_f32_hlo(ctx, x):
  """``_erf_inv_f32`` in StableHLO ops (chlo.erf_inv's IREE log differs by an ulp)."""
  b, c, sel = ctx.binary, partial(_hlo_c, ctx), ctx.select
  w = ctx.unary("negate", _log1p_f32_hlo(ctx, ctx.unary("negate", b("multiply", x, x))))
  lt = ctx.compare("LT", w, c(5))
  w = sel(lt, b("subtract", w, c(2.5)), b("subtract", ctx.unary("sqrt", w), c(3)))
  p = sel(lt, c(_ERF_INV_A[0]), c(_ERF_INV_B[0]))
  for a, bb in zip(_ERF_INV_A[1:], _ERF_INV_B[1:]):
    p = _hlo_fma32(ctx, p, w, sel(lt, c(a), c(bb)))
  return sel(ctx.compare("EQ", ctx.unary("abs", x), c(1)), b("multiply", x, c(np.inf)),
             b("multiply", p, x))


def _xla_f32_lower(f32_hlo, other):
  """Lowering that computes float32 (and half, in float32) with ``f32_hlo``, XLA's CPU
  algorithm written out in StableHLO ops, so jit gives XLA's numbers; ``other`` lowers
  the remaining dtypes."""
  def rule(ctx, x):
    dt = x.aval.dtype
    if dt != _F32 and dt not in (dtypes.bfloat16, np.dtype(np.float16)):
      return other(ctx, x)
    return ctx.convert(f32_hlo(ctx, ctx.convert(x, _F32)), dt)
  return rule


_erf_inv_lower = _xla_f32_lower(_erf_inv_f32_hlo, mlir.elementwise("chlo.erf_inv"))


def _exp2_lower(ctx, x):
  return ctx.binary("power", ctx.full(2, x.aval.shape, x.aval.dtype), x)


def _conj_lower(ctx, x):
  dt = ctx.aval_out.dtype
  if x.aval.dtype.kind != "c":
    return ctx.binary("complex", x, ctx.full(0, x.aval.shape, x.aval.dtype), dt)
  rdt = _real_dtype(dt)
  im = ctx.unary("negate", ctx.unary("imag", x, rdt))
  return ctx.binary("complex", ctx.unary("real", x, rdt), im, dt)


def _int_div_guard(ctx, x, y):
  """(x, y with 0 and INT_MIN / -1 divisors replaced by 1, y == 0) for integer div/rem."""
  dt = x.aval.dtype
  shape = ctx.aval_out.shape
  x, y = ctx.broadcast(x, shape), ctx.broadcast(y, shape)
  zero = ctx.compare("EQ", y, ctx.full(0, shape, dt))
  bad = zero
  if dt.kind == "i":
    ovf = ctx.binary("and", ctx.compare("EQ", x, ctx.full(np.iinfo(dt).min, shape, dt)),
                     ctx.compare("EQ", y, ctx.full(-1, shape, dt)))
    bad = ctx.binary("or", zero, ovf)
  return x, ctx.select(bad, ctx.full(1, shape, dt), y), zero


_complex_div_lower = mlir.lower_fun(_complex_div)


def _div_lower(ctx, x, y):
  dt = x.aval.dtype
  if dt == np.bool_:
    return ctx.broadcast(x, ctx.aval_out.shape)
  if dt.kind == "c":
    return _complex_div_lower(ctx, x, y)
  if dt.kind not in "iu":
    return ctx.binary("divide", x, y)
  x, ysafe, zero = _int_div_guard(ctx, x, y)  # XLA: x / 0 = -1 and INT_MIN / -1 = INT_MIN
  q = ctx.binary("divide", x, ysafe)
  return ctx.select(zero, ctx.full(np.array(-1).astype(dt), x.aval.shape, dt), q)


def _rem_lower(ctx, x, y):
  if x.aval.dtype.kind not in "iu":
    return ctx.binary("remainder", x, y)
  x, ysafe, zero = _int_div_guard(ctx, x, y)  # x % 0 = x; INT_MIN % -1 = 0
  return ctx.select(zero, x, ctx.binary("remainder", x, ysafe))


def _shift_lower(name):
  def rule(ctx, x, y):
    dt = x.aval.dtype
    shape = ctx.aval_out.shape
    x, y = ctx.broadcast(x, shape), ctx.broadcast(y, shape)
    bits = dt.itemsize * 8
    ok = ctx.binary("and", ctx.compare("GE", y, ctx.full(0, shape, dt)),
                    ctx.compare("LT", y, ctx.full(bits, shape, dt)))
    r = ctx.binary(name, x, ctx.select(ok, y, ctx.full(0, shape, dt)))
    if name == "shift_right_arithmetic":  # out of range: every bit is the sign bit
      fill = ctx.binary(name, x, ctx.full(bits - 1, shape, dt))
    else:
      fill = ctx.full(0, shape, dt)
    return ctx.select(ok, r, fill)
  return rule


neg_p = unop("neg", np.negative, _num, lower=mlir.elementwise("negate"))
ad.deflinear(neg_p, lambda ct, x: [neg(ct)])
sign_p = unop("sign", _sign, _num, lower=_sign_lower)
ad.defjvp_zero(sign_p)
floor_p = unop("floor", np.floor, _float, lower=mlir.elementwise("floor"))
ad.defjvp_zero(floor_p)
ceil_p = unop("ceil", np.ceil, _float, lower=mlir.elementwise("ceil"))
ad.defjvp_zero(ceil_p)
is_finite_p = unop("is_finite", _is_finite, _float, _bool_result, lower=mlir.elementwise("is_finite"))
ad.defjvp_zero(is_finite_p)
exp_p = unop("exp", _xla_f32(np.exp, _exp_f32, _exp_f64, _XLA_EXACT_MAX_SIZE), _inexact, lower=mlir.elementwise("exponential", True))
ad.defjvp2(exp_p, lambda t, ans, x: mul(t, ans))
exp2_p = unop("exp2", _f32_compute(np.exp2), _inexact, lower=_exp2_lower)
ad.defjvp2(exp2_p, lambda t, ans, x: mul(t, mul(ans, _const(ans, math.log(2)))))
log_p = unop("log", _xla_f32(np.log, _log_f32, None, _XLA_EXACT_MAX_SIZE), _inexact, lower=_xla_f32_lower(_log_f32_hlo, mlir.elementwise("log")))
ad.defjvp(log_p, lambda t, x: div(t, x))
log1p_p = unop("log1p", _xla_f32(np.log1p, _log1p_f32, _log1p_f64, _XLA_EXACT_MAX_SIZE), _inexact, lower=_xla_f32_lower(_log1p_f32_hlo, mlir.elementwise("log_plus_one")))
ad.defjvp(log1p_p, lambda t, x: div(t, add(x, _const(x, 1))))
expm1_p = unop("expm1", _f32_compute(np.expm1), _inexact, lower=mlir.elementwise("exponential_minus_one", True))
ad.defjvp2(expm1_p, lambda t, ans, x: mul(t, add(ans, _const(ans, 1))))
tanh_p = unop("tanh", _f32_compute(np.tanh), _inexact, lower=mlir.elementwise("tanh", True))
ad.defjvp2(tanh_p, lambda t, ans, x: mul(t, sub(_const(ans, 1), mul(ans, ans))))
logistic_p = unop("logistic", _f32_compute(_logistic), _inexact, lower=mlir.elementwise("logistic", True))
ad.defjvp2(logistic_p, lambda t, ans, x: mul(t, mul(ans, sub(_const(ans, 1), ans))))
sin_p = unop("sin", _f32_compute(np.sin), _inexact, lower=mlir.elementwise("sine", True))
ad.defjvp(sin_p, lambda t, x: mul(t, cos(x)))
cos_p = unop("cos", _f32_compute(np.cos), _inexact, lower=mlir.elementwise("cosine", True))
ad.defjvp(cos_p, lambda t, x: neg(mul(t, sin(x))))
tan_p = unop("tan", _xla_f32(np.tan, _tan_f32, None, _XLA_EXACT_MAX_SIZE), _inexact, lower=mlir.elementwise("tan", True))
ad.defjvp2(tan_p, lambda t, ans, x: mul(t, add(_const(ans, 1), mul(ans, ans))))
asin_p = unop("asin", _f32_compute(np.arcsin), _inexact, lower=mlir.elementwise("chlo.asin", True))
ad.defjvp(asin_p, lambda t, x: mul(t, rsqrt(sub(_const(x, 1), mul(x, x)))))
acos_p = unop("acos", _f32_compute(np.arccos), _inexact, lower=mlir.elementwise("chlo.acos", True))
ad.defjvp(acos_p, lambda t, x: neg(mul(t, rsqrt(sub(_const(x, 1), mul(x, x))))))
atan_p = unop("atan", _f32_compute(np.arctan), _inexact, lower=mlir.elementwise("chlo.atan", True))
ad.defjvp(atan_p, lambda t, x: div(t, add(_const(x, 1), mul(x, x))))
sinh_p = unop("sinh", _f32_compute(np.sinh), _inexact, lower=mlir.elementwise("chlo.sinh", True))
ad.defjvp(sinh_p, lambda t, x: mul(t, cosh(x)))
cosh_p = unop("cosh", _f32_compute(np.cosh), _inexact, lower=mlir.elementwise("chlo.cosh", True))
ad.defjvp(cosh_p, lambda t, x: mul(t, sinh(x)))
asinh_p = unop("asinh", _f32_compute(np.arcsinh), _inexact, lower=mlir.elementwise("chlo.asinh", True))
ad.defjvp(asinh_p, lambda t, x: mul(t, rsqrt(add(mul(x, x), _const(x, 1)))))
acosh_p = unop("acosh", _f32_compute(np.arccosh), _inexact, lower=mlir.elementwise("chlo.acosh", True))
ad.defjvp(acosh_p, lambda t, x: mul(t, rsqrt(mul(sub(x, _const(x, 1)), add(x, _const(x, 1))))))
atanh_p = unop("atanh", _f32_compute(np.arctanh), _inexact, lower=mlir.elementwise("chlo.atanh", True))
ad.defjvp(atanh_p, lambda t, x: div(t, sub(_const(x, 1), mul(x, x))))
sqrt_p = unop("sqrt", _f32_compute(np.sqrt), _inexact, lower=mlir.elementwise("sqrt", True))
ad.defjvp2(sqrt_p, lambda t, ans, x: div(t, mul(_const(ans, 2), ans)))
rsqrt_p = unop("rsqrt", _f32_compute(_rsqrt), _inexact, lower=mlir.elementwise("rsqrt", True))
ad.defjvp2(rsqrt_p, lambda t, ans, x: mul(t, mul(_const(x, -0.5), div(ans, x))))
cbrt_p = unop("cbrt", _f32_compute(np.cbrt), _float, lower=_cbrt_lower)
ad.defjvp2(cbrt_p, lambda t, ans, x: mul(t, mul(_const(x, 1 / 3), integer_pow(ans, -2))))
erf_p = unop("erf", _f32_compute(_scipy_special("erf")), _float, lower=mlir.elementwise("chlo.erf", True))
ad.defjvp(erf_p, lambda t, x: mul(t, mul(_const(x, 2 / math.sqrt(math.pi)),
                                         exp(neg(mul(x, x))))))
erfc_p = unop("erfc", _f32_compute(_scipy_special("erfc")), _float, lower=mlir.elementwise("chlo.erfc", True))
ad.defjvp(erfc_p, lambda t, x: mul(t, mul(_const(x, -2 / math.sqrt(math.pi)),
                                          exp(neg(mul(x, x))))))
erf_inv_p = unop("erf_inv", _xla_f32(_scipy_special("erfinv"), _erf_inv_f32, _erf_inv_f64), _float, lower=_erf_inv_lower)
ad.defjvp2(erf_inv_p, lambda t, ans, x: mul(t, mul(_const(x, math.sqrt(math.pi) / 2),
                                                   exp(mul(ans, ans)))))
lgamma_p = unop("lgamma", _f32_compute(_scipy_special("gammaln")), _float, lower=mlir.elementwise("chlo.lgamma", True))
ad.defjvp(lgamma_p, lambda t, x: mul(t, digamma(x)))
digamma_p = unop("digamma", _f32_compute(_scipy_special("digamma")), _float, lower=mlir.elementwise("chlo.digamma", True))
ad.defjvp(digamma_p, lambda t, x: mul(t, polygamma(_const(x, 1), x)))
def _bessel_i0e_lax(x):
  """exp(-|x|) I0(x) with lax operations (CHLO has no bessel_i0e): the power series
  sum_k (x^2/4)^k / k!^2 (positive terms: no cancellation) up to |x| = 20, then the
  asymptotic series (2 pi |x|)^-1/2 sum_k ((2k-1)!!)^2 / (k! (8|x|)^k), whose smallest
  term there is below float64's epsilon. Within 8 ulps of SciPy's (Cephes) in float64
  and float32."""
  f64 = x.dtype == np.float64
  ax = abs(x)
  q = div(mul(ax, ax), _const(x, 4))
  term = s = full_like(x, 1)
  for k in range(1, 46 if f64 else 31):
    term = mul(term, div(q, _const(x, k * k)))
    s = add(s, term)
  small = mul(exp(neg(ax)), s)
  r = div(_const(x, 0.125), ax)
  term = s = full_like(x, 1)
  for k in range(1, 26 if f64 else 13):
    term = mul(term, mul(r, _const(x, (2 * k - 1) ** 2 / k)))
    s = add(s, term)
  large = div(s, sqrt(mul(_const(x, 2 * np.pi), ax)))
  return select(le(ax, _const(x, 20)), small, large)


bessel_i0e_p = unop("bessel_i0e", _f32_compute(_scipy_special("i0e")), _float,
                    lower=mlir.lower_fun(_bessel_i0e_lax, compute_f32=True))
ad.defjvp2(bessel_i0e_p, lambda t, ans, x: mul(t, sub(bessel_i1e(x), mul(sign(x), ans))))
bessel_i1e_p = unop("bessel_i1e", _f32_compute(_scipy_special("i1e")), _float, lower=mlir.elementwise("chlo.bessel_i1e", True))
def _bessel_i1e_jvp(t, ans, x):
  # d/dx i1e(x) = i0e(x) - i1e(x) * (sign(x) + 1/x), which tends to 1/2 at x = 0.
  tiny = gt(abs(x), _const(x, np.finfo(np.float32).eps))
  safe_x = select(tiny, x, full_like(x, 1))
  d = sub(bessel_i0e(safe_x), mul(ans, add(sign(safe_x), div(_const(x, 1), safe_x))))
  return mul(t, select(tiny, d, full_like(x, 0.5)))


ad.defjvp2(bessel_i1e_p, _bessel_i1e_jvp)
not_p = unop("not", np.invert, _int_bool, lower=mlir.elementwise("not"))
ad.defjvp_zero(not_p)
population_count_p = unop("population_count", _popcount, _int, lower=mlir.elementwise("popcnt"))
ad.defjvp_zero(population_count_p)
clz_p = unop("clz", _clz, _int, lower=mlir.elementwise("count_leading_zeros"))
ad.defjvp_zero(clz_p)
conj_p = unop("conj", np.conjugate, _complex | {np.dtype(np.float32), np.dtype(np.float64)}, lambda dt: _complex_dtype(dt) if dt.kind == "f" else dt, lower=_conj_lower)
ad.deflinear(conj_p, lambda ct, x: [conj(ct) if x.aval.dtype.kind == "c" else real(ct)])
real_p = unop("real", np.real, _complex, _real_dtype, lower=mlir.elementwise("real"))
ad.deflinear(real_p, lambda ct, x: [complex(ct, _const(ct, 0))])
imag_p = unop("imag", np.imag, _complex, _real_dtype, lower=mlir.elementwise("imag"))
ad.deflinear(imag_p, lambda ct, x: [complex(_const(ct, 0), neg(ct))])
abs_p = unop("abs", np.abs, _sint | _inexact, _real_dtype, lower=mlir.elementwise("abs"))
def _abs_jvp(t, ans, x):
  if x.dtype.kind != "c":
    return mul(t, sign(x))
  zero = eq(ans, _const(ans, 0))
  safe = select(zero, full_like(ans, 1), ans)
  return select(zero, _zeros(ans), div(real(mul(conj(x), t)), safe))


ad.defjvp2(abs_p, _abs_jvp)

add_p = binop("add", np.add, _num, lower=mlir.elementwise("add"))
ad.defjvp(add_p, lambda t, x, y: t, lambda t, x, y: t)
add_p.transpose = _linear_binop_transpose(1)
sub_p = binop("sub", np.subtract, _num, lower=mlir.elementwise("subtract"))
ad.defjvp(sub_p, lambda t, x, y: t, lambda t, x, y: neg(t))
sub_p.transpose = _linear_binop_transpose(-1)
mul_p = binop("mul", np.multiply, _num, lower=mlir.elementwise("multiply"))
ad.defjvp(mul_p, lambda t, x, y: mul(t, y), lambda t, x, y: mul(x, t))
mul_p.transpose = _mul_transpose
div_p = binop("div", _div_impl, _num, lower=_div_lower)
ad.defjvp(div_p, lambda t, x, y: div(t, y),
          lambda t, x, y: mul(mul(neg(t), x), integer_pow(y, -2)))
div_p.transpose = lambda ct, x, y: [_unbroadcast(x.aval, div(ct, y)), None]
rem_p = binop("rem", _rem_impl, _int | _float, lower=_rem_lower)
ad.defjvp(rem_p, lambda t, x, y: t,
          lambda t, x, y: mul(neg(t), mul(sign(div(x, y)), floor(abs(div(x, y))))))
def _pow_check(name, x: ShapedArray, y: ShapedArray, accepted):
  """JAX's pow: a floating or complex base; the exponent of the base's dtype or any
  integer dtype."""
  shape = _binop_shape(name, x, y)
  _check_dtype(name, x.dtype, accepted, pos=0)
  _check_dtype(name, y.dtype, accepted | _int, pos=1)
  if y.dtype.kind not in "iu" and y.dtype != x.dtype:
    raise TypeError("the first argument to pow must have an inexact dtype (float or "
                    "complex), and the second argument must have an inexact or integer "
                    "dtype, and two inexact dtypes must match, but got "
                    f"{x.dtype.name} and {y.dtype.name} respectively.")
  return shape


def _np_pow(x, y):
  # an integer exponent is converted to the base's dtype, as XLA's lowering does
  return np.power(x, y if y.dtype == x.dtype else y.astype(x.dtype))


def _pow_lower(ctx, x, y):
  if y.aval.dtype != x.aval.dtype:
    y = ctx.convert(y, x.aval.dtype)
  if x.aval.dtype.kind == "c":
    return _pow_elementwise_lower(ctx, x, y)
  # IREE's powf is exp(y log x): C's pow (XLA's) differs for negative bases (and -0)
  # with odd integral exponents, for y = 0 (1, even for x = 0 or NaN) and for x = 1.
  shape, dt = ctx.aval_out.shape, x.aval.dtype
  x, y = ctx.broadcast(x, shape), ctx.broadcast(y, shape)
  full = lambda v: ctx.full(v, shape, dt)  # noqa: E731
  mag = _pow_elementwise_lower(ctx, ctx.unary("abs", x), y)  # |x|^y, also for x >= 0
  integral = ctx.compare("EQ", ctx.unary("floor", y), y)
  odd = ctx.binary("and", integral,
                   ctx.compare("NE", ctx.binary("remainder", y, full(2)), full(0)))
  negative = ctx.compare("LT", x, full(0))
  minus_zero = ctx.binary("and", ctx.compare("EQ", x, full(0)),
                          ctx.compare("LT", ctx.binary("divide", full(1), x), full(0)))
  sign_set = ctx.binary("or", negative, minus_zero)
  r = ctx.select(ctx.binary("and", odd, sign_set), ctx.unary("negate", mag), mag)
  r = ctx.select(ctx.binary("and", negative, ctx.unary("not", integral)), full(np.nan), r)
  one = ctx.binary("or", ctx.compare("EQ", y, full(0)), ctx.compare("EQ", x, full(1)))
  return ctx.select(one, full(1), r)


_pow_elementwise_lower = mlir.elementwise("power")
pow_p = binop("pow", _np_pow, _inexact, lower=_pow_lower, check=_pow_check)
def _pow_jvp_lhs(t, ans, x, y):
  yf = y if y.dtype == x.dtype else convert_element_type(y, x.dtype)  # integer exponent
  jac = mul(yf, pow(x, sub(y, _const(y, 1))))
  return mul(t, select(_brcast_to(eq(y, _const(y, 0)), jac.shape), _zeros(jac), jac))


def _pow_jvp_rhs(t, ans, x, y):
  safe_x = select(eq(x, _const(x, 0)), full_like(x, 1), x)
  return mul(t, mul(log(safe_x), ans))


ad.defjvp2(pow_p, _pow_jvp_lhs, _pow_jvp_rhs)
max_p = binop("max", np.maximum, _any, lower=mlir.elementwise("maximum", bool_name="or"))
ad.defjvp2(max_p, lambda t, ans, x, y: mul(t, _balanced_eq(x, ans, y)),
           lambda t, ans, x, y: mul(t, _balanced_eq(y, ans, x)))
min_p = binop("min", np.minimum, _any, lower=mlir.elementwise("minimum", bool_name="and"))
ad.defjvp2(min_p, lambda t, ans, x, y: mul(t, _balanced_eq(x, ans, y)),
           lambda t, ans, x, y: mul(t, _balanced_eq(y, ans, x)))
nextafter_p = binop("nextafter", _nextafter, _float, lower=mlir.elementwise("chlo.next_after"))
atan2_p = binop("atan2", _atan2, _inexact, lower=mlir.elementwise("atan2", True))
ad.defjvp(atan2_p, lambda t, x, y: mul(t, div(y, add(mul(x, x), mul(y, y)))),
          lambda t, x, y: mul(t, div(neg(x), add(mul(x, x), mul(y, y)))))
and_p = binop("and", np.bitwise_and, _int_bool, lower=mlir.elementwise("and"))
ad.defjvp_zero(and_p)
or_p = binop("or", np.bitwise_or, _int_bool, lower=mlir.elementwise("or"))
ad.defjvp_zero(or_p)
xor_p = binop("xor", np.bitwise_xor, _int_bool, lower=mlir.elementwise("xor"))
ad.defjvp_zero(xor_p)
shift_left_p = binop("shift_left", _shift_left, _int, lower=_shift_lower("shift_left"))
ad.defjvp_zero(shift_left_p)
shift_right_arithmetic_p = binop("shift_right_arithmetic", _shift_right_arithmetic, _int, lower=_shift_lower("shift_right_arithmetic"))
ad.defjvp_zero(shift_right_arithmetic_p)
shift_right_logical_p = binop("shift_right_logical", _shift_right_logical, _int, lower=_shift_lower("shift_right_logical"))
ad.defjvp_zero(shift_right_logical_p)
complex_p = binop("complex", lambda x, y: x + 1j * y,
                  {np.dtype(np.float32), np.dtype(np.float64)}, _complex_dtype, lower=mlir.elementwise("complex"))
ad.deflinear(complex_p, lambda ct, x, y: [
    _unbroadcast(x.aval, real(ct)) if ad.is_undefined_primal(x) else None,
    _unbroadcast(y.aval, imag(neg(ct))) if ad.is_undefined_primal(y) else None])
eq_p = binop("eq", np.equal, _any, _bool_result, lower=mlir.comparison("EQ"))
ad.defjvp_zero(eq_p)
ne_p = binop("ne", np.not_equal, _any, _bool_result, lower=mlir.comparison("NE"))
ad.defjvp_zero(ne_p)
lt_p = binop("lt", np.less, _ordered, _bool_result, lower=mlir.comparison("LT"))
ad.defjvp_zero(lt_p)
le_p = binop("le", np.less_equal, _ordered, _bool_result, lower=mlir.comparison("LE"))
ad.defjvp_zero(le_p)
gt_p = binop("gt", np.greater, _ordered, _bool_result, lower=mlir.comparison("GT"))
ad.defjvp_zero(gt_p)
ge_p = binop("ge", np.greater_equal, _ordered, _bool_result, lower=mlir.comparison("GE"))
ad.defjvp_zero(ge_p)
# igamma family: regularized incomplete gamma functions. Eagerly SciPy's; under jit
# XLA's algorithm written with lax operations (``_igamma_lax``): Cephes' power series
# and continued fraction, iterated until every element has converged. d/da is the JVP
# of that algorithm; a gamma sample's d/da follows by implicit differentiation.


def _lax_impl(fun):
  """An eager impl running ``fun`` (lax operations) on the operands, half floats in
  float32: the same algorithm as the lowering."""
  def impl(*xs):
    dt = xs[0].dtype
    xs = np.broadcast_arrays(*xs)
    if dt in (dtypes.bfloat16, np.dtype(np.float16)):
      xs = [x.astype(np.float32) for x in xs]
    with np.errstate(all="ignore"):
      return np.asarray(fun(*(ArrayImpl(x, False) for x in xs))._value).astype(dt)
  return impl


def _igamma_loop(body, enabled, *carry):
  """Applies ``body(*carry) -> (new carry, still running)`` to the elements still
  ``enabled`` until none is (at most 2000 times, as XLA)."""
  from pyjax._src.lax.control_flow import while_loop
  axes = tuple(range(enabled.ndim))

  def cond(c):
    return bitwise_and(lt(c[0], np.int32(2000)), reduce_or(c[1], axes))

  def step(c):
    i, en, *vals = c
    new, still = body(*vals)
    return [add(i, np.int32(1)), bitwise_and(en, still),
            *[select(en, n, v) for n, v in zip(new, vals)]]

  return while_loop(cond, step, [np.int32(0), enabled, *carry])[2:]


def _igamma_series(a, x, enabled, deriv=False):
  """g = S / a for P(a, x) = e^L g, L = a log x - x - lgamma(a), with Cephes' power series
  S = sum_n x^n / ((a+1)...(a+n)), for x <= max(1, a); ``deriv``: also dg/da, summed
  term by term until it too has converged (as XLA)."""
  eps = _const(a, np.finfo(a.dtype).eps)
  zero, one = full_like(a, 0), full_like(a, 1)

  def body(r, c, ans, *d):
    r = add(r, _const(a, 1))
    step = div(x, r)
    c, c_before = mul(c, step), c
    ans = add(ans, c)
    going = gt(abs(div(c, ans)), eps)
    if not deriv:
      return (r, c, ans), going
    dc, dans = d
    dc = mul(sub(dc, div(c_before, r)), step)  # d/da of c x / r, with dr/da = 1
    dans = add(dans, dc)
    return (r, c, ans, dc, dans), bitwise_or(going, gt(abs(div(dc, dans)), eps))

  out = _igamma_loop(body, enabled, a, one, one, *((zero, zero) if deriv else ()))
  g = div(out[2], a)
  return (g, sub(div(out[4], a), div(g, a))) if deriv else g


def _igammac_continued_fraction(a, x, enabled, deriv=False):
  """F for Q(a, x) = e^L F by Legendre's continued fraction (Cephes' igamc), for
  x > max(1, a); ``deriv``: also dF/da from the recurrences' derivatives, iterated until
  it too has converged (for an integral a the fraction ends exactly while dF/da
  does not)."""
  eps = np.finfo(a.dtype).eps
  c1, big, small = _const(a, 1), _const(a, 1 / eps), _const(a, eps)
  zero, one = full_like(a, 0), full_like(a, 1)
  y = sub(c1, a)
  z = add(add(x, y), c1)
  pkm2, qkm2, pkm1, qkm1 = one, x, add(x, c1), mul(z, x)
  ans = div(pkm1, qkm1)

  def body(c, y, z, pkm2, qkm2, pkm1, qkm1, ans, *d):
    c, y, z = add(c, c1), add(y, c1), add(z, _const(a, 2))
    yc = mul(y, c)
    pk = sub(mul(pkm1, z), mul(pkm2, yc))
    qk = sub(mul(qkm1, z), mul(qkm2, yc))
    nonzero = ne(qk, _const(a, 0))
    r = div(pk, qk)
    t = select(nonzero, abs(div(sub(ans, r), r)), one)
    rescale = gt(abs(pk), big)

    def shifted(vm1, vk):  # (new v_{k-2}, v_{k-1}): one step on, rescaled with pk
      return [select(rescale, mul(v, small), v) for v in (vm1, vk)]

    p, q = shifted(pkm1, pk), shifted(qkm1, qk)
    state = (c, y, z, p[0], q[0], p[1], q[1], select(nonzero, r, ans))
    going = gt(t, small)
    if not deriv:
      return state, going
    # d/da of the recurrences (dy/da = dz/da = -1, so d(yc)/da = -c)
    dpkm2, dqkm2, dpkm1, dqkm1, dans = d
    dpk = add(sub(sub(mul(dpkm1, z), pkm1), mul(dpkm2, yc)), mul(pkm2, c))
    dqk = add(sub(sub(mul(dqkm1, z), qkm1), mul(dqkm2, yc)), mul(qkm2, c))
    dr = div(sub(dpk, mul(r, dqk)), qk)
    dt = select(nonzero, abs(sub(dans, dr)), one)
    dans = select(nonzero, dr, dans)
    dp, dq = shifted(dpkm1, dpk), shifted(dqkm1, dqk)
    return (*state, dp[0], dq[0], dp[1], dq[1], dans), \
        bitwise_or(going, gt(dt, mul(small, abs(dans))))

  dinit = (zero, zero, zero, neg(x), div(mul(ans, x), qkm1)) if deriv else ()
  out = _igamma_loop(body, enabled, zero, y, z, pkm2, qkm2, pkm1, qkm1, ans, *dinit)
  return (out[7], out[12]) if deriv else out[7]


def _igamma_cases(a, x):
  """(NaN operand, x = 0, x = inf, a = 0, domain error, L = a log x - x - lgamma(a))."""
  zero = _const(a, 0)
  nan = bitwise_or(ne(a, a), ne(x, x))
  domain = bitwise_or(lt(x, zero), lt(a, zero))
  log_ax = sub(sub(mul(a, log(x)), x), lgamma(a))
  return nan, eq(x, zero), eq(x, _const(a, np.inf)), eq(a, zero), domain, log_ax


def _igamma_lax(a, x, upper=False):
  """P(a, x) (``upper``: Q(a, x) = 1 - P) as XLA computes it."""
  zero, one = _const(a, 0), _const(a, 1)
  nan, x_zero, x_inf, a_zero, domain, log_ax = _igamma_cases(a, x)
  underflow = lt(log_ax, _const(a, -np.log(np.finfo(a.dtype).max)))
  ax = exp(log_ax)
  if upper:  # (XLA's boundaries differ by a hair between P and Q)
    use_cf = bitwise_not(bitwise_or(lt(x, one), lt(x, a)))
  else:
    use_cf = bitwise_and(gt(x, one), gt(x, a))
  skip = bitwise_or(bitwise_or(x_zero, domain), bitwise_or(underflow, nan))
  enabled = bitwise_not(bitwise_or(skip, a_zero))
  # Each branch's loop runs only where its result is used (elsewhere it starts done).
  q = mul(ax, _igammac_continued_fraction(a, x, bitwise_and(enabled, use_cf)))
  p = mul(ax, _igamma_series(a, x, bitwise_and(enabled, bitwise_not(use_cf))))
  out = select(use_cf, q, sub(one, p)) if upper else select(use_cf, sub(one, q), p)
  lo, hi = (one, zero) if upper else (zero, one)
  out = select(x_zero, full_like(a, lo), out)
  out = select(bitwise_or(x_inf, a_zero), full_like(a, hi), out)
  return select(bitwise_or(domain, nan), full_like(a, np.nan), out)


def _igamma_scaled_grad(a, x):
  """(h, L, x = 0, undefined) with dP/da = e^L h: h = L' g + g' (series) or
  -(L' F + F') (continued fraction), L' = log x - digamma(a)."""
  one = _const(a, 1)
  nan, x_zero, x_inf, a_zero, domain, log_ax = _igamma_cases(a, x)
  use_cf = bitwise_and(gt(x, one), gt(x, a))
  bad = bitwise_or(bitwise_or(nan, x_inf), bitwise_or(a_zero, domain))
  enabled = bitwise_not(bitwise_or(bad, x_zero))
  f, df = _igammac_continued_fraction(a, x, bitwise_and(enabled, use_cf), deriv=True)
  g, dg = _igamma_series(a, x, bitwise_and(enabled, bitwise_not(use_cf)), deriv=True)
  dlog = sub(log(x), digamma(a))
  h = select(use_cf, neg(add(mul(dlog, f), df)), add(mul(dlog, g), dg))
  return h, log_ax, x_zero, bad


def _igamma_grad_a_lax(a, x):
  """d/da P(a, x); NaN where P is not differentiable in a (a <= 0, x < 0, x = inf, NaN),
  0 at x = 0, as XLA."""
  h, log_ax, x_zero, bad = _igamma_scaled_grad(a, x)
  out = select(x_zero, full_like(a, 0), mul(exp(log_ax), h))
  return select(bad, full_like(a, np.nan), out)


def _random_gamma_grad_lax(a, x):
  """d/da of a sample x of Gamma(a, 1): -(dP/da) / (dP/dx) with dP/dx = e^L / x, i.e.
  -x h: e^L, which underflows in the tails, cancels."""
  h, _, x_zero, bad = _igamma_scaled_grad(a, x)
  out = select(x_zero, full_like(a, 0), neg(mul(x, h)))
  return select(bad, full_like(a, np.nan), out)


igamma_p = binop("igamma", lambda a, x: _sp2("gammainc", a, x), _float,
                 lower=mlir.lower_fun(_igamma_lax, compute_f32=True))
ad.defjvp(igamma_p, lambda t, a, x: mul(t, igamma_grad_a(a, x)),
          lambda t, a, x: mul(t, exp(sub(sub(mul(sub(a, _const(a, 1)), log(x)), x),
                                         lgamma(a)))))
igammac_p = binop("igammac", lambda a, x: _sp2("gammaincc", a, x), _float,
                  lower=mlir.lower_fun(partial(_igamma_lax, upper=True), compute_f32=True))
ad.defjvp(igammac_p, lambda t, a, x: neg(mul(t, igamma_grad_a(a, x))),
          lambda t, a, x: neg(mul(t, exp(sub(sub(mul(sub(a, _const(a, 1)), log(x)), x),
                                             lgamma(a))))))
random_gamma_grad_p = binop("random_gamma_grad", _lax_impl(_random_gamma_grad_lax), _float,
                            lower=mlir.lower_fun(_random_gamma_grad_lax, compute_f32=True))
polygamma_p = binop("polygamma", lambda m, x: _sp2("polygamma", m, x), _float, lower=mlir.elementwise("chlo.polygamma", True))
def _no_jvp(what):
  def rule(*args, **kwargs):
    raise NotImplementedError(f"Differentiation of {what} is not implemented (as in JAX).")
  return rule


ad.defjvp(polygamma_p, _no_jvp("polygamma with respect to the order m"),
          lambda t, m, x: mul(t, polygamma(add(m, _const(m, 1)), x)))
zeta_p = binop("zeta", lambda x, q: _sp2("zeta", x, q), _float,
               lower=mlir.elementwise("chlo.zeta", True))
ad.defjvp(zeta_p, _no_jvp("zeta with respect to x"),
          lambda t, x, q: mul(t, mul(neg(x), zeta(add(x, _const(x, 1)), q))))
# igamma_grad_a: d/da of the regularized lower incomplete gamma function.
igamma_grad_a_p = binop("igamma_grad_a", _lax_impl(_igamma_grad_a_lax), _float,
                        lower=mlir.lower_fun(_igamma_grad_a_lax, compute_f32=True))


def _sp2(name, a, b):
  import scipy.special as sp
  dt = a.dtype
  if dt in (dtypes.bfloat16, np.dtype(np.float16)):
    a, b = a.astype(np.float32), b.astype(np.float32)
  return np.asarray(getattr(sp, name)(a, b)).astype(dt)


class RoundingMethod(enum.IntEnum):
  AWAY_FROM_ZERO = 0
  TO_NEAREST_EVEN = 1

  def __str__(self):
    return str(int(self))


# round: one primitive with a rounding_method param.
round_p = Primitive("round")


def _round_impl(x, *, rounding_method):
  v = x._value
  _check_dtype("round", v.dtype, _float)
  if rounding_method == RoundingMethod.TO_NEAREST_EVEN:
    out = _f32_compute(np.round)(v)
  else:
    out = _f32_compute(_round_half_away)(v)
  return ArrayImpl(np.asarray(out, v.dtype) if v.ndim else out.astype(v.dtype), x.weak_type)


round_p.def_impl(_round_impl)
round_p.lower = lambda ctx, x, *, rounding_method: ctx.unary(
    "round_nearest_even" if rounding_method == RoundingMethod.TO_NEAREST_EVEN
    else "round_nearest_afz", x)
round_p.def_abstract_eval(
    lambda x, *, rounding_method: (_check_dtype("round", x.dtype, _float), x)[1])
ad.defjvp_zero(round_p)
round_p.batch = batching.vectorized_batcher(round_p)


# integer_pow: x ** y for a static Python int y.
integer_pow_p = Primitive("integer_pow")


def _integer_pow_np(v, y):
  if y == 0:
    return np.ones_like(v)
  if y < 0:
    if v.dtype.kind in "iu":
      raise TypeError(f"Integers cannot be raised to negative powers, got "
                      f"integer_pow({ShapedArray(v.shape, v.dtype).str_short(False)}, {y})")
    return (1 / _integer_pow_np(v, -y)).astype(v.dtype)
  acc, base = None, v
  while y:  # square-and-multiply, as XLA expands it
    if y & 1:
      acc = base if acc is None else acc * base
    y >>= 1
    if y:
      base = base * base
  return acc


def _integer_pow_impl(x, *, y):
  v = x._value
  _check_dtype("integer_pow", v.dtype, _num)
  out = _integer_pow_np(v, y)
  return ArrayImpl(np.asarray(out, v.dtype) if v.ndim else out.astype(v.dtype), x.weak_type)


def _integer_pow_abstract(x, *, y):
  _check_dtype("integer_pow", x.dtype, _num)
  if y < 0 and x.dtype.kind in "iu":
    raise TypeError(f"Integers cannot be raised to negative powers, got "
                    f"integer_pow({x.str_short(False)}, {y})")
  return x


integer_pow_p.def_impl(_integer_pow_impl)
integer_pow_p.def_abstract_eval(_integer_pow_abstract)
ad.defjvp(integer_pow_p, lambda t, x, *, y: _zeros(t) if y == 0 else
          mul(t, mul(_const(x, y), integer_pow(x, y - 1))))


def _integer_pow_lower(ctx, x, *, y):
  if y == 0:
    return ctx.full(1, x.aval.shape, x.aval.dtype)
  acc, base, n = None, x, abs(y)
  while n:  # square-and-multiply, as the impl
    if n & 1:
      acc = base if acc is None else ctx.binary("multiply", acc, base)
    n >>= 1
    if n:
      base = ctx.binary("multiply", base, base)
  return ctx.binary("divide", ctx.full(1, x.aval.shape, x.aval.dtype), acc) if y < 0 else acc


integer_pow_p.lower = _integer_pow_lower
integer_pow_p.batch = batching.vectorized_batcher(integer_pow_p)


# square: its own primitive in JAX (what lax.square and jnp.square bind)
square_p = unop("square", lambda v: v * v, _num, lower=lambda ctx, x: ctx.binary("multiply", x, x))
ad.defjvp2(square_p, lambda t, ans, x: mul(t, mul(_const(x, 2), x)))


# select_n(which, *cases): cases[which] elementwise; which is bool or int32.
select_n_p = Primitive("select_n")


def _select_n_check(which: ShapedArray, *cases: ShapedArray):
  if not cases:
    raise TypeError("select must have at least one case")
  c0 = cases[0]
  if any(c.shape != c0.shape for c in cases[1:]):
    raise TypeError(f"select cases must have the same shapes, got "
                    f"[{', '.join(str(c.shape) for c in cases)}].")
  if which.shape and which.shape != c0.shape:
    raise TypeError(f"select `which` must be scalar or have the same shape as cases, got "
                    f"`which` shape {which.shape} but case shape {c0.shape}.")
  _same_dtypes_check("select", *cases)
  if which.dtype != np.bool_ and which.dtype.kind not in "iu":
    raise TypeError(f"select `which` must be boolean or integer type, got {which.dtype}.")
  if which.dtype == np.bool_ and len(cases) > 2:
    raise TypeError("select with boolean `which` cannot have > 2 cases.")
  return ShapedArray(c0.shape, c0.dtype, all(c.weak_type for c in cases))


def _select_n_impl(which, *cases):
  out = _select_n_check(which.aval, *(c.aval for c in cases))
  w = which._value
  vals = [c._value for c in cases]
  if len(vals) == 1:
    r = vals[0]
  elif w.dtype == np.bool_:
    r = np.where(w, vals[1], vals[0])
  else:
    r = np.choose(np.broadcast_to(w, out.shape), vals, mode="clip") if out.shape else \
        vals[int(np.clip(w, 0, len(vals) - 1))]
  return ArrayImpl(np.asarray(r, out.dtype) if out.shape else np.asarray(r, out.dtype)[()],
                   out.weak_type)


select_n_p.def_impl(_select_n_impl)
select_n_p.def_abstract_eval(_select_n_check)
def _select_n_jvp(primals, tangents):
  which, *cases = primals
  out = select_n_p.bind(which, *cases)
  if all(type(t) is ad.Zero for t in tangents[1:]):
    return out, ad.Zero(ad.tangent_aval(out.aval))
  return out, select_n_p.bind(which, *map(ad.instantiate, tangents[1:]))


def _select_n_transpose(ct, which, *cases):
  if ad.is_undefined_primal(which):
    raise ValueError("select_n transpose: the predicate cannot be linear.")
  zeros = _zeros(ct)
  return [None] + [select_n_p.bind(which, *[ct if j == i else zeros
                                            for j in range(len(cases))])
                   if ad.is_undefined_primal(c) else None for i, c in enumerate(cases)]


select_n_p.jvp = _select_n_jvp
select_n_p.transpose = _select_n_transpose


def _select_n_lower(ctx, which, *cases):
  if len(cases) == 1:
    return cases[0]
  if which.aval.dtype == np.bool_:
    return ctx.select(which, cases[1], cases[0])
  out = cases[-1]  # which is clipped into range, as np.choose(mode="clip")
  for k in range(len(cases) - 2, -1, -1):
    out = ctx.select(ctx.compare("LE", which, ctx.full(k, (), which.aval.dtype)), cases[k], out)
  return out


select_n_p.lower = _select_n_lower


def _select_n_batch(vals, dims):
  if dims[0] is None and not core.get_aval(vals[0]).shape:  # an unbatched scalar `which`
    size = batching.batch_size(vals, dims)
    if len(set(dims[1:])) == 1:
      return select_n_p.bind(*vals), dims[1]
    return select_n_p.bind(vals[0], *(batching.bdim_at_front(c, d, size)
                                      for c, d in zip(vals[1:], dims[1:]))), 0
  return _select_n_broadcast(vals, dims)


_select_n_broadcast = batching.broadcast_batcher(select_n_p, scalar_ok=False)
select_n_p.batch = _select_n_batch


# clamp(min, x, max)
clamp_p = Primitive("clamp")


def _clamp_check(lo: ShapedArray, x: ShapedArray, hi: ShapedArray):
  for name, b in (("min", lo), ("max", hi)):
    if b.shape and b.shape != x.shape:
      raise TypeError(f"clamp requires {name}.shape == operand.shape or {name}.shape "
                      f"== (), got {name}.shape={b.shape}, operand.shape={x.shape}.")
  _same_dtypes_check("clamp", lo, x, hi)
  return x


def _clamp_impl(lo, x, hi):
  aval = _clamp_check(lo.aval, x.aval, hi.aval)
  lv, xv, hv = lo._value, x._value, hi._value
  if aval.dtype.kind == "c":  # XLA orders complex values by their real parts here
    r = np.where(xv.real > lv.real, xv, lv)
    r = np.where(r.real > hv.real, hv, r)
  else:
    r = np.minimum(np.maximum(xv, lv), hv)
  return ArrayImpl(np.asarray(r, aval.dtype) if aval.shape else np.asarray(r, aval.dtype)[()],
                   x.weak_type)


clamp_p.def_impl(_clamp_impl)
clamp_p.def_abstract_eval(_clamp_check)
ad.defjvp(clamp_p,
          lambda t, lo, x, hi: select(bitwise_and(gt(lo, x), lt(lo, hi)),
                                      _brcast_to(t, x.shape), _zeros(x)),
          lambda t, lo, x, hi: select(bitwise_and(gt(x, lo), lt(x, hi)), t, _zeros(x)),
          lambda t, lo, x, hi: select(lt(hi, x), _brcast_to(t, x.shape), _zeros(x)))
def _clamp_lower(ctx, lo, x, hi):
  dt = x.aval.dtype
  if dt == np.bool_:
    return ctx.binary("and", ctx.binary("or", x, lo), hi)
  if dt.kind == "c":  # as the impl: compare real parts
    re = lambda v: ctx.unary("real", v, _real_dtype(dt))  # noqa: E731
    r = ctx.select(ctx.compare("GT", re(x), re(lo)), x, lo)
    return ctx.select(ctx.compare("GT", re(r), re(hi)), hi, r)
  return ctx.binary("minimum", ctx.binary("maximum", x, lo), hi)


clamp_p.lower = _clamp_lower


def _clamp_batch(vals, dims):
  if dims[1] is None:  # min or max batched: the operand must carry the batch axis
    vals = [vals[0], batching.broadcast(vals[1], batching.batch_size(vals, dims), 0),
            vals[2]]
    dims = [dims[0], 0, dims[2]]
  return _clamp_broadcast(vals, dims)


_clamp_broadcast = batching.broadcast_batcher(clamp_p)
clamp_p.batch = _clamp_batch


# ---------------------------------------------------------------- type conversion

convert_element_type_p = Primitive("convert_element_type")


def _convert_np(v, new_dtype):
  old = v.dtype
  if old == new_dtype:
    return v
  if old.kind == "c" and new_dtype.kind != "c":
    v = np.real(v)
  if new_dtype.kind in "iu" and (v.dtype.kind == "f" or v.dtype == dtypes.bfloat16):
    # XLA: NaN -> 0, out-of-range saturates to the integer range.
    info = np.iinfo(new_dtype)
    v = np.nan_to_num(np.asarray(v, np.float64), nan=0.0, posinf=info.max, neginf=info.min)
    v = np.clip(np.trunc(v), info.min, info.max)
    out = np.asarray(v).astype(new_dtype)
    # float64 cannot hold int64 max exactly: clip then cast may wrap; fix it.
    if info.bits == 64:
      out = np.where(v >= 2.0 ** 63 if new_dtype.kind == "i" else v >= 2.0 ** 64,
                     info.max, out).astype(new_dtype)
    return out
  if new_dtype == np.bool_:
    return v != 0
  return v.astype(new_dtype)


def _convert_element_type_impl(x, *, new_dtype, weak_type, sharding=None):
  v = x._value
  out = _convert_np(v, new_dtype)
  if not v.ndim and isinstance(out, np.ndarray):
    out = out[()]
  return ArrayImpl(out, weak_type)


convert_element_type_p.def_impl(_convert_element_type_impl)
convert_element_type_p.def_abstract_eval(
    lambda x, *, new_dtype, weak_type, sharding=None: ShapedArray(x.shape, new_dtype, weak_type))
convert_element_type_p.pp_params = lambda p: {k: v for k, v in p.items() if k != "sharding"}
def _convert_element_type_jvp(primals, tangents, *, new_dtype, weak_type, sharding=None):
  out = convert_element_type_p.bind(primals[0], new_dtype=new_dtype, weak_type=weak_type,
                                    sharding=sharding)
  if not ad.is_float(np.dtype(new_dtype)):
    return out, ad.Zero(ad.tangent_aval(out.aval))
  return out, convert_element_type_p.bind(tangents[0], new_dtype=new_dtype,
                                          weak_type=weak_type, sharding=sharding)


def _convert_element_type_transpose(ct, x, *, new_dtype, weak_type, sharding=None):
  return [convert_element_type_p.bind(ct, new_dtype=x.aval.dtype,
                                      weak_type=x.aval.weak_type, sharding=None)]


convert_element_type_p.jvp = _convert_element_type_jvp
convert_element_type_p.transpose = _convert_element_type_transpose


def _convert_lower(ctx, x, *, new_dtype, weak_type, sharding=None):
  old, new = x.aval.dtype, np.dtype(new_dtype)
  if old == new:
    return x
  if old.kind == "c" and new.kind != "c":
    x = ctx.unary("real", x, _real_dtype(old))
    old = x.aval.dtype
  if new == np.bool_:
    return ctx.compare("NE", x, ctx.full(0, (), old))
  if old == np.bool_:  # a select: IREE folds an i1 convert into a dot as -1 for true
    shape = x.aval.shape
    return ctx.select(x, ctx.full(1, shape, new), ctx.full(0, shape, new))
  if new.kind in "iu" and (old.kind == "f" or old == dtypes.bfloat16):
    # XLA saturates: NaN -> 0, out-of-range -> the integer range ends.
    info, shape = np.iinfo(new), x.aval.shape
    top = np.array(2.0 ** (info.bits - (new.kind == "i"))).astype(old)
    bot = -top if new.kind == "i" else np.zeros((), old)
    hi = np.nextafter(top.astype(np.float64), 0)
    hi = np.array(hi).astype(old)
    hi = hi if hi < top else np.nextafter(hi, np.array(0, old))
    nan = ctx.compare("NE", x, x)
    v = ctx.select(nan, ctx.full(0, shape, old), x)
    v = ctx.binary("minimum", ctx.binary("maximum", v, ctx.full(bot, (), old)),
                   ctx.full(hi, (), old))
    out = ctx.convert(v, new)
    out = ctx.select(ctx.compare("GE", x, ctx.full(top, (), old)),
                     ctx.full(info.max, shape, new), out)
    if new.kind == "i":
      out = ctx.select(ctx.compare("LE", x, ctx.full(bot, (), old)),
                       ctx.full(info.min, shape, new), out)
    return out
  return ctx.convert(x, new)


convert_element_type_p.lower = _convert_lower
convert_element_type_p.batch = batching.vectorized_batcher(convert_element_type_p)


bitcast_convert_type_p = Primitive("bitcast_convert_type")


def _bitcast_shape(x: ShapedArray, new_dtype):
  a, b = x.dtype.itemsize * 8, np.dtype(new_dtype).itemsize * 8
  if a == b:
    return x.shape
  if a > b:
    return (*x.shape, a // b)
  n = x.shape[-1] if x.shape else 1
  if n * a != b:
    raise ValueError(f"Attempting to convert array of shape {x.shape} from {x.dtype} of "
                     f"size {a} bits to {np.dtype(new_dtype)} of size {b}, bits but "
                     f"{n} * {a} != {b}")
  return x.shape[:-1]


def _bitcast_abstract(x, *, new_dtype):
  shape = _bitcast_shape(x, new_dtype)
  new_dtype = np.dtype(new_dtype)
  if x.dtype != new_dtype and (x.dtype.kind in "bc" or new_dtype.kind in "bc"):
    raise TypeError("lax.bitcast_convert_type does not support bool or complex values "
                    "unless the operand and destination types match. Got operand "
                    f"dtype={x.dtype}, new_dtype={new_dtype!r}. Consider using the "
                    "arr.view() method instead.")
  return ShapedArray(shape, new_dtype)


def _bitcast_impl(x, *, new_dtype):
  aval = _bitcast_abstract(x.aval, new_dtype=new_dtype)
  v = np.ascontiguousarray(x._value)
  return ArrayImpl(v.view(new_dtype).reshape(aval.shape), False)


bitcast_convert_type_p.def_impl(_bitcast_impl)
bitcast_convert_type_p.def_abstract_eval(_bitcast_abstract)
ad.defjvp_zero(bitcast_convert_type_p)
bitcast_convert_type_p.lower = lambda ctx, x, *, new_dtype: ctx.op(
    "stablehlo.bitcast_convert", [x], ctx.aval_out)


def _bitcast_batch(vals, dims, *, new_dtype):
  x, d = vals[0], dims[0]
  if core.get_aval(x).dtype.itemsize != np.dtype(new_dtype).itemsize:
    x, d = batching.moveaxis(x, d, 0), 0  # the last axis changes size
  return bitcast_convert_type_p.bind(x, new_dtype=new_dtype), d


bitcast_convert_type_p.batch = _bitcast_batch


reduce_precision_p = Primitive("reduce_precision")


def _reduce_precision_np(v, exponent_bits, mantissa_bits):
  """XLA's ReducePrecision, done on the operand's own bits (so its subnormals round
  at their own scale): round the mantissa to nearest even, then flush exponents out
  of the narrower range to signed zero / infinity. NaNs pass unchanged."""
  dt = v.dtype
  finfo = dtypes.finfo(dt)
  m_src, e_src = finfo.nmant, dt.itemsize * 8 - 1 - finfo.nmant
  u = np.dtype(f"u{dt.itemsize}").type
  x = np.ascontiguousarray(v).view(u)
  if mantissa_bits < m_src:
    drop = m_src - mantissa_bits
    last = (x >> u(drop)) & u(1)
    x = (x + (u((1 << (drop - 1)) - 1) + last)) & u(~((1 << drop) - 1) & ((1 << (8 * dt.itemsize)) - 1))
  if exponent_bits < e_src:
    exp_mask = ((1 << e_src) - 1) << m_src
    bias, rbias = (1 << (e_src - 1)) - 1, (1 << (exponent_bits - 1)) - 1
    e = x & u(exp_mask)
    sign = x & u(1 << (8 * dt.itemsize - 1))
    x = np.where(e > u((bias + rbias) << m_src), sign | u(exp_mask), x)
    x = np.where(e <= u((bias - rbias) << m_src), sign, x)
  return np.where(np.isnan(v), v, np.asarray(x, u).view(dt)).astype(dt)


def _reduce_precision_impl(x, *, exponent_bits, mantissa_bits):
  _check_dtype("reduce_precision", x.dtype, _float)
  out = _reduce_precision_np(np.asarray(x._value), exponent_bits, mantissa_bits)
  return ArrayImpl(out if x.ndim else out[()], x.weak_type)


reduce_precision_p.def_impl(_reduce_precision_impl)
reduce_precision_p.lower = lambda ctx, x, *, exponent_bits, mantissa_bits: ctx.op(
    "stablehlo.reduce_precision", [x], x.aval,
    f"exponent_bits = {exponent_bits} : i32, mantissa_bits = {mantissa_bits} : i32")
reduce_precision_p.def_abstract_eval(
    lambda x, *, exponent_bits, mantissa_bits: (_check_dtype("reduce_precision", x.dtype, _float), x)[1])
ad.deflinear(reduce_precision_p, lambda ct, x, **params: [reduce_precision_p.bind(ct, **params)])
reduce_precision_p.batch = batching.vectorized_batcher(reduce_precision_p)


# ---------------------------------------------------------------- shape primitives


def _canon_shape(shape, what="shape", op="broadcast_in_dim") -> tuple:
  try:
    out = tuple(core.concrete_dim(d, f"The {what} argument must be static.") for d in shape)
  except TypeError as e:
    if isinstance(e, core.ConcretizationTypeError):
      raise
    raise TypeError(f"{what} must be a sequence of integers, got {shape!r}") from None
  if any(d < 0 for d in out):
    if what == "new_sizes":
      raise TypeError(f"reshape new_sizes must all be positive, got {out}.")
    raise TypeError(f"{op} {what} must have every element be nonnegative, got {out}.")
  return out


broadcast_in_dim_p = Primitive("broadcast_in_dim")


def _broadcast_in_dim_check(x: ShapedArray, shape, broadcast_dimensions, sharding=None):
  if len(broadcast_dimensions) != x.ndim:
    raise TypeError(
        f"broadcast_in_dim broadcast_dimensions must have length equal to operand ndim; "
        f"got broadcast_dimensions {broadcast_dimensions} for operand ndim {x.ndim}.")
  if len(shape) < x.ndim:
    raise TypeError(f"broadcast_in_dim target broadcast shape must have equal or higher "
                    f"rank to the operand shape; got operand ndim {x.ndim} and target "
                    f"broadcast ndim {len(shape)}.")
  if not all(0 <= d < len(shape) for d in broadcast_dimensions):
    raise TypeError(f"broadcast_in_dim broadcast_dimensions must be a subset of output "
                    f"dimensions, got {broadcast_dimensions} for operand ndim {x.ndim} and "
                    f"shape {shape}.")
  if any(x.shape[i] not in (1, shape[d]) for i, d in enumerate(broadcast_dimensions)):
    raise TypeError(
        f"broadcast_in_dim operand dimension sizes must either be 1, or be equal to "
        f"their corresponding dimensions in the target broadcast shape; got operand of "
        f"shape {x.shape}, target broadcast shape {shape}, broadcast_dimensions "
        f"{broadcast_dimensions} ")
  if len(set(broadcast_dimensions)) != len(broadcast_dimensions):
    raise TypeError(f"broadcast_in_dim broadcast_dimensions must not contain duplicates, "
                    f"got broadcast_dimensions {broadcast_dimensions}")
  return ShapedArray(shape, x.dtype, x.weak_type)


def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions, sharding=None):
  _broadcast_in_dim_check(x.aval, shape, broadcast_dimensions)
  v = np.asarray(x._value)
  if list(broadcast_dimensions) != sorted(broadcast_dimensions):  # a transposing broadcast
    v = v.transpose(sorted(range(v.ndim), key=lambda i: broadcast_dimensions[i]))
    broadcast_dimensions = sorted(broadcast_dimensions)
  expanded = [1] * len(shape)
  for i, d in enumerate(broadcast_dimensions):
    expanded[d] = v.shape[i]
  return ArrayImpl(np.broadcast_to(v.reshape(expanded), shape), x.weak_type)


broadcast_in_dim_p.def_impl(_broadcast_in_dim_impl)
broadcast_in_dim_p.def_abstract_eval(_broadcast_in_dim_check)
broadcast_in_dim_p.lower = lambda ctx, x, *, shape, broadcast_dimensions, sharding=None: ctx.op(
    "stablehlo.broadcast_in_dim", [x], ctx.aval_out,
    f"broadcast_dimensions = {mlir._i64_array(broadcast_dimensions)}")
broadcast_in_dim_p.pp_params = lambda p: (
    {"broadcast_dimensions": p["broadcast_dimensions"]} if p["broadcast_dimensions"] else {})
def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions, sharding=None):
  xshape = x.aval.shape
  unit = [d for i, d in enumerate(broadcast_dimensions) if xshape[i] == 1 and shape[d] != 1]
  new = [d for d in range(len(shape)) if d not in broadcast_dimensions]
  axes = tuple(sorted(new + unit))
  summed = reduce_sum_p.bind(ct, axes=axes, out_sharding=None) if axes else ct
  kept = [i for i in sorted(range(len(xshape)), key=lambda i: broadcast_dimensions[i])
          if broadcast_dimensions[i] not in unit]  # operand axes, in output order
  if kept != sorted(kept):
    summed = transpose_p.bind(summed, permutation=tuple(np.argsort(kept).tolist()))
  return [reshape_p.bind(summed, new_sizes=tuple(xshape), dimensions=None, sharding=None)
          if summed.shape != xshape else summed]


ad.deflinear(broadcast_in_dim_p, _broadcast_in_dim_transpose)


def _broadcast_in_dim_batch(vals, dims, *, shape, broadcast_dimensions, sharding=None):
  x = batching.moveaxis(vals[0], dims[0], 0)
  size = core.get_aval(x).shape[0]
  return broadcast_in_dim_p.bind(
      x, shape=(size, *shape), broadcast_dimensions=(0, *(d + 1 for d in broadcast_dimensions)),
      sharding=None), 0


broadcast_in_dim_p.batch = _broadcast_in_dim_batch


reshape_p = Primitive("reshape")


def _reshape_check(x: ShapedArray, *, new_sizes, dimensions=None, sharding=None):
  if not all(d >= 0 for d in new_sizes):
    raise TypeError(f"reshape new_sizes must all be positive, got {new_sizes}.")
  if dimensions is not None and set(dimensions) != set(range(x.ndim)):
    raise TypeError(f"reshape dimensions must be a permutation of operand dimensions, got "
                    f"dimensions {dimensions} for shape {x.shape}.")
  if math.prod(new_sizes) != math.prod(x.shape):
    raise TypeError(f"reshape total size must be unchanged, got new_sizes {new_sizes} "
                    f"(of total size {math.prod(new_sizes)}) for shape {x.shape} "
                    f"(of total size {math.prod(x.shape)}).")
  return ShapedArray(new_sizes, x.dtype, x.weak_type)


def _reshape_impl(x, *, new_sizes, dimensions=None, sharding=None):
  _reshape_check(x.aval, new_sizes=new_sizes, dimensions=dimensions)
  v = np.asarray(x._value)
  if dimensions is not None:
    v = v.transpose(dimensions)
  return ArrayImpl(v.reshape(new_sizes), x.weak_type)


reshape_p.def_impl(_reshape_impl)
reshape_p.def_abstract_eval(_reshape_check)
def _reshape_transpose(ct, x, *, new_sizes, dimensions=None, sharding=None):
  if dimensions is None:
    return [reshape_p.bind(ct, new_sizes=tuple(x.aval.shape), dimensions=None, sharding=None)]
  permuted = tuple(x.aval.shape[d] for d in dimensions)
  r = reshape_p.bind(ct, new_sizes=permuted, dimensions=None, sharding=None)
  return [transpose_p.bind(r, permutation=tuple(np.argsort(dimensions)))]


ad.deflinear(reshape_p, _reshape_transpose)


def _reshape_lower(ctx, x, *, new_sizes, dimensions=None, sharding=None):
  if dimensions is not None:
    x = _transpose_lower(ctx, x, permutation=dimensions)
  return ctx.op("stablehlo.reshape", [x], ctx.aval_out)


reshape_p.lower = _reshape_lower


def _reshape_batch(vals, dims, *, new_sizes, dimensions=None, sharding=None):
  x = batching.moveaxis(vals[0], dims[0], 0)
  size = core.get_aval(x).shape[0]
  if dimensions is not None:
    dimensions = (0, *(d + 1 for d in dimensions))
  return reshape_p.bind(x, new_sizes=(size, *new_sizes), dimensions=dimensions,
                        sharding=None), 0


reshape_p.batch = _reshape_batch


transpose_p = Primitive("transpose")


def _transpose_check(x: ShapedArray, *, permutation):
  if sorted(permutation) != list(range(x.ndim)):
    raise TypeError(f"transpose permutation isn't a permutation of operand dimensions, "
                    f"got permutation {permutation} for operand shape {x.shape}.")
  return ShapedArray(tuple(x.shape[i] for i in permutation), x.dtype, x.weak_type)


def _transpose_impl(x, *, permutation):
  _transpose_check(x.aval, permutation=permutation)
  return ArrayImpl(np.asarray(x._value).transpose(permutation), x.weak_type)


transpose_p.def_impl(_transpose_impl)
transpose_p.def_abstract_eval(_transpose_check)
ad.deflinear(transpose_p, lambda ct, x, *, permutation: [
    transpose_p.bind(ct, permutation=tuple(int(i) for i in np.argsort(permutation)))])


def _transpose_lower(ctx, x, *, permutation):
  return ctx.op("stablehlo.transpose", [x], _transpose_check(x.aval, permutation=permutation),
                f"permutation = {mlir._i64_array(permutation)}")


transpose_p.lower = _transpose_lower


def _transpose_batch(vals, dims, *, permutation):
  d = dims[0]
  perm = [p + (p >= d) for p in permutation]
  perm.insert(d, d)  # the batch axis stays where it is
  return transpose_p.bind(vals[0], permutation=tuple(perm)), d


transpose_p.batch = _transpose_batch


squeeze_p = Primitive("squeeze")


def _squeeze_check(x: ShapedArray, *, dimensions):
  for d in dimensions:
    if not 0 <= d < x.ndim or x.shape[d] != 1:
      raise ValueError(f"cannot select an axis to squeeze out which has size not equal "
                       f"to one, got shape={x.shape} and dimensions={dimensions}")
  return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i not in dimensions),
                     x.dtype, x.weak_type)


def _squeeze_impl(x, *, dimensions):
  aval = _squeeze_check(x.aval, dimensions=dimensions)
  return ArrayImpl(np.asarray(x._value).reshape(aval.shape), x.weak_type)


squeeze_p.def_impl(_squeeze_impl)
squeeze_p.def_abstract_eval(_squeeze_check)
ad.deflinear(squeeze_p, lambda ct, x, *, dimensions: [
    reshape_p.bind(ct, new_sizes=tuple(x.aval.shape), dimensions=None, sharding=None)])
squeeze_p.lower = lambda ctx, x, *, dimensions: ctx.op("stablehlo.reshape", [x], ctx.aval_out)


def _squeeze_batch(vals, dims, *, dimensions):
  d = dims[0]
  return (squeeze_p.bind(vals[0], dimensions=tuple(a + (a >= d) for a in dimensions)),
          d - builtins.sum(a < d for a in dimensions))


squeeze_p.batch = _squeeze_batch


rev_p = Primitive("rev")


def _rev_check(x: ShapedArray, *, dimensions):
  if any(d < 0 for d in dimensions):
    raise TypeError(f"rev dimensions must have every element be nonnegative, got "
                    f"{dimensions}.")
  if len(set(dimensions)) != len(dimensions):
    raise TypeError(f"rev dimensions must be unique, got {dimensions}.")
  if dimensions and not builtins.max(dimensions) < x.ndim:
    raise TypeError(f"rev dimensions must all be less than operand ndim, got dimensions "
                    f"{dimensions} for operand ndim {x.ndim}.")
  return x


def _rev_impl(x, *, dimensions):
  _rev_check(x.aval, dimensions=dimensions)
  v = np.asarray(x._value)
  idx = tuple(slice(None, None, -1) if i in dimensions else slice(None) for i in range(v.ndim))
  return ArrayImpl(v[idx], x.weak_type)


rev_p.def_impl(_rev_impl)
rev_p.def_abstract_eval(_rev_check)
ad.deflinear(rev_p, lambda ct, x, *, dimensions: [rev_p.bind(ct, dimensions=dimensions)])
rev_p.lower = lambda ctx, x, *, dimensions: ctx.op(
    "stablehlo.reverse", [x], x.aval, f"dimensions = {mlir._i64_array(dimensions)}")


def _rev_batch(vals, dims, *, dimensions):
  d = dims[0]
  return rev_p.bind(vals[0], dimensions=tuple(a + (a >= d) for a in dimensions)), d


rev_p.batch = _rev_batch


iota_p = Primitive("iota")


def _iota_check(*, dtype, shape, dimension, sharding=None):
  _check_dtype("iota", np.dtype(dtype), _num)
  if not 0 <= dimension < len(shape):
    raise ValueError(f"iota dimension must be between 0 and len(shape), got "
                     f"dimension={dimension} for shape={shape}")
  return ShapedArray(shape, dtype)


def _iota_impl(*, dtype, shape, dimension, sharding=None):
  _iota_check(dtype=dtype, shape=shape, dimension=dimension)
  r = np.arange(shape[dimension], dtype=dtype)
  bshape = [1] * len(shape)
  bshape[dimension] = shape[dimension]
  return ArrayImpl(np.broadcast_to(r.reshape(bshape), shape), False)


iota_p.def_impl(_iota_impl)
iota_p.def_abstract_eval(_iota_check)
iota_p.lower = lambda ctx, *, dtype, shape, dimension, sharding=None: ctx.op(
    "stablehlo.iota", [], ctx.aval_out, f"iota_dimension = {dimension} : i64")
iota_p.batch = lambda vals, dims, **params: (iota_p.bind(**params), None)  # no operands


concatenate_p = Primitive("concatenate")


def _concatenate_check(*xs: ShapedArray, dimension):
  if not xs:
    raise TypeError("concatenate expects at least one operand, got 0.")
  x0 = xs[0]
  shapes = ", ".join(str(x.shape) for x in xs)
  if len({x.ndim for x in xs}) != 1:
    raise TypeError(f"Cannot concatenate arrays with different numbers of dimensions: got "
                    f"{shapes}.")
  if not 0 <= dimension < x0.ndim:
    raise TypeError(f"concatenate dimension out of bounds: dimension {dimension} for "
                    f"shapes {shapes}.")
  if any(x.shape[:dimension] + x.shape[dimension + 1:] !=
         x0.shape[:dimension] + x0.shape[dimension + 1:] for x in xs):
    raise TypeError(f"Cannot concatenate arrays with shapes that differ in dimensions "
                    f"other than the one being concatenated: concatenating along "
                    f"dimension {dimension} for shapes {shapes}.")
  _same_dtypes_check("concatenate", *xs)
  shape = list(x0.shape)
  shape[dimension] = sum(x.shape[dimension] for x in xs)
  return ShapedArray(shape, x0.dtype, all(x.weak_type for x in xs))


def _concatenate_impl(*xs, dimension):
  aval = _concatenate_check(*(x.aval for x in xs), dimension=dimension)
  return ArrayImpl(np.concatenate([np.asarray(x._value) for x in xs], axis=dimension),
                   aval.weak_type)


concatenate_p.def_impl(_concatenate_impl)
concatenate_p.def_abstract_eval(_concatenate_check)
def _concatenate_transpose(ct, *xs, dimension):
  from pyjax._src.lax import slicing
  out, start = [], 0
  for x in xs:
    n = x.aval.shape[dimension]
    out.append(slicing.slice_in_dim(ct, start, start + n, axis=dimension)
               if ad.is_undefined_primal(x) else None)
    start += n
  return out


ad.deflinear(concatenate_p, _concatenate_transpose)
concatenate_p.lower = lambda ctx, *xs, dimension: ctx.op(
    "stablehlo.concatenate", xs, ctx.aval_out, f"dimension = {dimension} : i64")


def _concatenate_batch(vals, dims, *, dimension):
  size = batching.batch_size(vals, dims)
  xs = [batching.bdim_at_front(x, d, size) for x, d in zip(vals, dims)]
  return concatenate_p.bind(*xs, dimension=dimension + 1), 0


concatenate_p.batch = _concatenate_batch


pad_p = Primitive("pad")


def _pad_check(x: ShapedArray, pv: ShapedArray, *, padding_config):
  if pv.shape:
    raise ValueError(f"padding_value must be a scalar; got np.shape(padding_value)="
                     f"{pv.shape}")
  if len(padding_config) != x.ndim:
    raise ValueError(f"length of padding_config must equal the number of axes of "
                     f"operand, got padding_config {padding_config} for operand shape "
                     f"{x.shape}")
  if any(interior < 0 for _, _, interior in padding_config):
    raise ValueError(f"interior padding in padding_config must be nonnegative, got "
                     f"padding_config {padding_config}")
  shape = tuple(lo + hi + d + builtins.max(d - 1, 0) * interior
                for d, (lo, hi, interior) in zip(x.shape, padding_config))
  if any(n < 0 for n in shape):
    raise ValueError(f"Dimension size after padding is not at least 0, got result shape "
                     f"{shape}, for padding_config {padding_config} and operand shape "
                     f"{x.shape}")
  if x.dtype != pv.dtype:
    raise TypeError(f"pad operand and padding_value must be same dtype: got "
                    f"{x.dtype.name} and {pv.dtype.name}.")
  return ShapedArray(shape, x.dtype, x.weak_type and pv.weak_type)


def _pad_impl(x, pv, *, padding_config):
  aval = _pad_check(x.aval, pv.aval, padding_config=padding_config)
  v = np.asarray(x._value)
  # Interior padding first, then negative/positive edge padding via slicing.
  inner = [d + builtins.max(d - 1, 0) * it for d, (_, _, it) in zip(v.shape, padding_config)]
  buf = np.full(inner, pv._value, dtype=v.dtype)
  buf[tuple(slice(None, None, it + 1) for _, _, it in padding_config)] = v
  out = np.full(aval.shape, pv._value, dtype=v.dtype)
  src, dst = [], []
  for n, (lo, hi, _) in zip(inner, padding_config):
    s0, d0 = builtins.max(-lo, 0), builtins.max(lo, 0)
    s1 = n - builtins.max(-hi, 0)
    cnt = builtins.max(s1 - s0, 0)
    src.append(slice(s0, s0 + cnt))
    dst.append(slice(d0, d0 + cnt))
  out[tuple(dst)] = buf[tuple(src)]
  return ArrayImpl(out, aval.weak_type)


pad_p.def_impl(_pad_impl)
pad_p.def_abstract_eval(_pad_check)
def _pad_transpose(ct, x, pv, *, padding_config):
  from pyjax._src.lax import slicing
  total = lambda v: reduce_sum(v, tuple(range(v.ndim)))
  unpadded = pad_p.bind(ct, _const(ct, 0),
                        padding_config=tuple((-lo, -hi, 0) for lo, hi, _ in padding_config))
  t_x = slicing.slice(unpadded, [0] * unpadded.ndim, unpadded.shape,
                      [it + 1 for _, _, it in padding_config])
  t_pv = sub(total(ct), total(t_x)) if ad.is_undefined_primal(pv) else None
  return [t_x if ad.is_undefined_primal(x) else None, t_pv]


ad.deflinear(pad_p, _pad_transpose)
pad_p.lower = lambda ctx, x, pv, *, padding_config: ctx.op(
    "stablehlo.pad", [x, pv], ctx.aval_out,
    f"edge_padding_low = {mlir._i64_array([c[0] for c in padding_config])}, "
    f"edge_padding_high = {mlir._i64_array([c[1] for c in padding_config])}, "
    f"interior_padding = {mlir._i64_array([c[2] for c in padding_config])}")


def _pad_batch(vals, dims, *, padding_config):
  (x, pv), (xd, pd) = vals, dims
  cfg = ((0, 0, 0), *padding_config)
  if pd is None:
    return pad_p.bind(batching.moveaxis(x, xd, 0), pv, padding_config=cfg), 0
  # A batched padding value: pad with zeros, then select it in where a mask says so.
  size = batching.batch_size(vals, dims)
  x = batching.bdim_at_front(x, xd, size)
  padded = pad_p.bind(x, _const(x, 0), padding_config=cfg)
  inside = pad_p.bind(full(x.shape, True, np.bool_), _to_array(False), padding_config=cfg)
  pv = broadcast_in_dim(batching.moveaxis(pv, pd, 0), padded.shape, (0,))
  return select_n(inside, pv, padded), 0


pad_p.batch = _pad_batch


# ---------------------------------------------------------------- dot_general


class Precision(enum.Enum):
  DEFAULT = 0
  HIGH = 1
  HIGHEST = 2

  def __str__(self):
    return self.name


dot_general_p = Primitive("dot_general")


def _dot_general_check(x: ShapedArray, y: ShapedArray, *, dimension_numbers,
                       precision=None, preferred_element_type=None, out_sharding=None):
  (xc, yc), (xb, yb) = dimension_numbers
  if not xb and not yb and len(xc) == 1 and len(yc) == 1:  # one contraction, no batch
    (cx,), (cy,) = xc, yc
    xs, ys = x.shape, y.shape
    if 0 <= cx < len(xs) and 0 <= cy < len(ys) and xs[cx] == ys[cy]:
      out_dtype, _ = _dot_general_dtypes(x.dtype, y.dtype, preferred_element_type)
      return ShapedArray((*xs[:cx], *xs[cx + 1:], *ys[:cy], *ys[cy + 1:]), out_dtype,
                         x.weak_type and y.weak_type)
  for side, v, c, b in (("lhs", x, xc, xb), ("rhs", y, yc, yb)):
    if not all(0 <= d < v.ndim for d in (*c, *b)):
      raise TypeError(f"dot_general requires {side} dimension numbers to be nonnegative and "
                      f"less than the number of axes of the {side} value, got {side}_batch of "
                      f"{b} and {side}_contracting of {c} for {side} of rank {v.ndim}")
  if len(xb) != len(yb):
    raise TypeError(f"dot_general requires equal numbers of lhs_batch and rhs_batch "
                    f"dimensions, got lhs_batch {xb} and rhs_batch {yb}.")
  for side, what, d in (("lhs", "batch", xb), ("rhs", "batch", yb),
                        ("lhs", "contracting", xc), ("rhs", "contracting", yc)):
    if len(set(d)) != len(d):
      raise TypeError(f"dot_general requires {side} {what} dimensions to be distinct, got "
                      f"{side}_{what} {d}.")
  for side, c, b in (("lhs", xc, xb), ("rhs", yc, yb)):
    if set(c) & set(b):
      raise TypeError(f"dot_general requires {side} batch dimensions to be disjoint from "
                      f"contracting dimensions, got {side}_batch {b} and {side}_contracting "
                      f"{c}.")
  if tuple(x.shape[d] for d in xb) != tuple(y.shape[d] for d in yb):
    raise TypeError(f"dot_general requires lhs batch dimensions and rhs batch dimensions "
                    f"to have the same shape, got {tuple(x.shape[d] for d in xb)} and "
                    f"{tuple(y.shape[d] for d in yb)}.")
  if tuple(x.shape[d] for d in xc) != tuple(y.shape[d] for d in yc):
    raise TypeError(f"dot_general requires contracting dimensions to have the same "
                    f"shape, got {tuple(x.shape[d] for d in xc)} and "
                    f"{tuple(y.shape[d] for d in yc)}.")
  out_dtype, _ = _dot_general_dtypes(x.dtype, y.dtype, preferred_element_type)
  batch = [x.shape[d] for d in xb]
  xfree = [s for i, s in enumerate(x.shape) if i not in xc and i not in xb]
  yfree = [s for i, s in enumerate(y.shape) if i not in yc and i not in yb]
  return ShapedArray((*batch, *xfree, *yfree), out_dtype, x.weak_type and y.weak_type)


def _dot_type_rank(dt):
  """XLA's order of operand types (HigherPrecisionType): the higher one wins."""
  real = _real_dtype(dt)
  fl = real.kind == "f" or real == dtypes.bfloat16
  return (dt.kind == "c", dtypes.finfo(real).maxexp if fl else -1,
          dtypes.finfo(real).nmant if fl else -1, 1 if dt == np.bool_ else real.itemsize * 8,
          real.kind != "u")


def _dot_general_dtypes(xdt, ydt, preferred_element_type):
  """(result dtype, compute dtype) of a dot_general as JAX runs it on CPU: the operands
  are converted (saturating) to the compute dtype, the products accumulate there (half
  floats in float32), and the sum is converted (saturating) to the result dtype."""
  if xdt == ydt and (preferred_element_type is None or preferred_element_type == xdt):
    return xdt, xdt  # the common case, without ranking the types
  rx, ry = _dot_type_rank(xdt), _dot_type_rank(ydt)
  if rx == ry and xdt != ydt:
    raise TypeError(f"lax.dot_general argument type error: {xdt}, {ydt}")
  res = xdt if rx >= ry else ydt
  pet = None if preferred_element_type is None else np.dtype(preferred_element_type)
  out = res if pet is None else pet
  if (out != res and res.kind != "f" and res != dtypes.bfloat16 and
      _dot_type_rank(pet)[3] < _dot_type_rank(res)[3]):
    raise TypeError(f"`preferred_element_type` must not be narrower than the original "
                    f"type, got preferred_element_type of {pet} for result type of {res}.")
  if out == res or xdt != ydt:  # mixed operands: both become the result type
    return out, out
  if res.kind in "fc" or res == dtypes.bfloat16:  # accumulate in the wider of the two
    wider = pet.kind in "fc" or pet == dtypes.bfloat16
    return pet, pet if wider and pet.itemsize > res.itemsize else res
  return pet, pet


def _dot_general_np(x, y, dimension_numbers, out_dtype, compute):
  (xc, yc), (xb, yb) = dimension_numbers
  if (not xb and y.ndim <= 2 and xc == (x.ndim - 1,) and yc in ((0,), (y.ndim - 1,))
      and x.dtype == y.dtype == out_dtype == compute and out_dtype.kind in "fc"
      and out_dtype.itemsize >= 4):
    return np.dot(x, y if yc == (0,) else y.T)  # plain matrix/vector product
  xf = [i for i in range(x.ndim) if i not in xc and i not in xb]
  yf = [i for i in range(y.ndim) if i not in yc and i not in yb]
  # Move to (batch, free, contract) / (batch, contract, free) and use matmul.
  xt = x.transpose((*xb, *xf, *xc))
  yt = y.transpose((*yb, *yc, *yf))
  b = [x.shape[d] for d in xb]
  m = math.prod(x.shape[d] for d in xf)
  n = math.prod(y.shape[d] for d in yf)
  k = math.prod(x.shape[d] for d in xc)
  acc = {np.dtype(np.bool_): np.dtype(np.int32), dtypes.bfloat16: np.dtype(np.float32),
         np.dtype(np.float16): np.dtype(np.float32)}.get(compute, compute)
  xt, yt = (_convert_np(_convert_np(v, compute), acc) for v in (xt, yt))
  out = np.matmul(xt.reshape(*b, m, k), yt.reshape(*b, k, n))
  if compute != acc and compute != np.bool_ or compute.kind in "iu":
    out = out.astype(compute)  # (integer products wrap; half floats round)
  out = _convert_np(out, out_dtype)
  return out.reshape((*b, *(x.shape[d] for d in xf), *(y.shape[d] for d in yf)))


def _dot_general_impl(x, y, *, dimension_numbers, precision=None,
                      preferred_element_type=None, out_sharding=None):
  aval = _dot_general_check(x.aval, y.aval, dimension_numbers=dimension_numbers,
                            preferred_element_type=preferred_element_type)
  _, compute = _dot_general_dtypes(x.dtype, y.dtype, preferred_element_type)
  out = _dot_general_np(np.asarray(x._value), np.asarray(y._value), dimension_numbers,
                        aval.dtype, compute)
  return ArrayImpl(np.asarray(out, aval.dtype), aval.weak_type)


def _dot_general_pp(params):
  (xc, yc), (xb, yb) = params["dimension_numbers"]
  out = {"dimension_numbers": _DimNums(f"(({list(xc)}, {list(yc)}), ({list(xb)}, {list(yb)}))")}
  for k in ("precision", "preferred_element_type", "out_sharding"):
    if params.get(k) is not None:
      out[k] = params[k]
  return out


class _DimNums(str):
  pass


dot_general_p.def_impl(_dot_general_impl)
dot_general_p.def_abstract_eval(_dot_general_check)
dot_general_p.pp_params = _dot_general_pp
def _ranges_like(*xs):
  start = 0
  for x in xs:
    yield list(range(start, start + len(x)))
    start += len(x)


def _dot_general_transpose_lhs(ct, x, y, *, dimension_numbers, precision=None,
                               preferred_element_type=None, out_sharding=None, swap_ans=False):
  (xc, yc), (xb, yb) = dimension_numbers
  x_ndim, y_ndim = x.aval.ndim, core.get_aval(y).ndim
  x_kept = [i for i in range(x_ndim) if i not in xc and i not in xb]
  y_kept = [i for i in range(y_ndim) if i not in yc and i not in yb]
  if swap_ans:
    ans_batch, ans_y, _ = _ranges_like(xb, y_kept, x_kept)
  else:
    ans_batch, _, ans_y = _ranges_like(xb, x_kept, y_kept)
  dims = ((tuple(ans_y), tuple(y_kept)), (tuple(ans_batch), tuple(yb)))
  xc_sorted_by_y = [xc[i] for i in np.argsort(yc)]
  out_axes = tuple(int(i) for i in np.argsort(list(xb) + x_kept + xc_sorted_by_y))
  r = dot_general_p.bind(ct, y, dimension_numbers=dims, precision=precision,
                         preferred_element_type=preferred_element_type, out_sharding=None)
  r = transpose_p.bind(r, permutation=out_axes)
  if r.dtype != x.aval.dtype:
    r = _convert_element_type(r, x.aval.dtype, x.aval.weak_type)
  return r


def _dot_general_transpose(ct, x, y, *, dimension_numbers, precision=None,
                           preferred_element_type=None, out_sharding=None):
  (xc, yc), (xb, yb) = dimension_numbers
  if ad.is_undefined_primal(x) and ad.is_undefined_primal(y):
    raise ValueError("dot_general transpose: both operands are linear.")
  if ad.is_undefined_primal(x):
    return [_dot_general_transpose_lhs(ct, x, y, dimension_numbers=dimension_numbers,
                                       precision=precision,
                                       preferred_element_type=preferred_element_type), None]
  swapped = ((yc, xc), (yb, xb))
  return [None, _dot_general_transpose_lhs(ct, y, x, dimension_numbers=swapped,
                                           precision=precision,
                                           preferred_element_type=preferred_element_type,
                                           swap_ans=True)]


ad.defjvp(dot_general_p,
          lambda t, x, y, **params: dot_general_p.bind(t, y, **params),
          lambda t, x, y, **params: dot_general_p.bind(x, t, **params))
dot_general_p.transpose = _dot_general_transpose


def _dot_general_lower(ctx, x, y, *, dimension_numbers, precision=None,
                       preferred_element_type=None, out_sharding=None):
  (xc, yc), (xb, yb) = dimension_numbers
  out = ctx.aval_out
  # Compute as the impl does: bool via int32, half floats in float32.
  _, compute = _dot_general_dtypes(x.aval.dtype, y.aval.dtype, preferred_element_type)
  cdt = {np.dtype(np.bool_): np.dtype(np.int32), dtypes.bfloat16: np.dtype(np.float32),
         np.dtype(np.float16): np.dtype(np.float32)}.get(compute, compute)

  def operand(v):
    if v.aval.dtype == np.bool_:  # IREE folds i1 -> i32 into the matmul and fails: select
      return ctx.select(v, ctx.full(1, v.aval.shape, cdt), ctx.full(0, v.aval.shape, cdt))
    unsigned = v.aval.dtype.kind == "u" and v.aval.dtype != cdt
    if v.aval.dtype != compute:  # (saturating, when a float becomes an integer)
      v = _convert_lower(ctx, v, new_dtype=compute, weak_type=False)
    v = ctx.convert(v, cdt)
    # IREE folds a widening of unsigned integers into the matmul as a signed one: a
    # barrier keeps the conversion out.
    return ctx.op("stablehlo.optimization_barrier", [v], [v.aval])[0] if unsigned else v

  x, y = operand(x), operand(y)
  fields = [(n, v) for n, v in (("lhs_batching_dimensions", xb), ("rhs_batching_dimensions", yb),
                                ("lhs_contracting_dimensions", xc),
                                ("rhs_contracting_dimensions", yc)) if v]
  dn = ", ".join(f"{n} = [{', '.join(map(str, v))}]" for n, v in fields)

  def dot(a, b, dt):
    return ctx.op("stablehlo.dot_general", [a, b], out.update(dtype=dt),
                  f"dot_dimension_numbers = #stablehlo.dot<{dn}>")

  if cdt.kind == "c":  # IREE cannot vectorize a complex matmul: four real ones
    rdt = np.dtype(np.float32 if cdt == np.complex64 else np.float64)
    parts = [ctx.op(f"stablehlo.{p}", [v], v.aval.update(dtype=rdt))
             for v in (x, y) for p in ("real", "imag")]
    (xr, xi), (yr, yi) = parts[:2], parts[2:]
    re = ctx.binary("subtract", dot(xr, yr, rdt), dot(xi, yi, rdt))
    im = ctx.binary("add", dot(xr, yi, rdt), dot(xi, yr, rdt))
    # (a barrier: fused into the matmuls, the complex epilogue fails to vectorize)
    re, im = ctx.op("stablehlo.optimization_barrier", [re, im], [re.aval, im.aval])
    r = ctx.op("stablehlo.complex", [re, im], out.update(dtype=cdt))
  else:
    r = dot(x, y, cdt)
  if cdt != compute and compute != np.bool_:
    r = ctx.convert(r, compute)  # half floats round before any conversion
  return _convert_lower(ctx, r, new_dtype=out.dtype, weak_type=False)


dot_general_p.lower = _dot_general_lower


def _dot_general_batch(vals, dims, *, dimension_numbers, **params):
  """Both batched: one more batch dimension. One batched: its batch axis becomes a
  free dimension, so a batched matrix-vector product is one matrix-matrix product."""
  (x, y), (xd, yd) = vals, dims
  (xc, yc), (xb, yb) = dimension_numbers
  if xd is not None and yd is not None:
    x, y = batching.moveaxis(x, xd, 0), batching.moveaxis(y, yd, 0)
    sh = lambda t: tuple(i + 1 for i in t)
    dn = ((sh(xc), sh(yc)), ((0, *sh(xb)), (0, *sh(yb))))
    return dot_general_p.bind(x, y, dimension_numbers=dn, **params), 0
  d = xd if xd is not None else yd
  sh = lambda t: tuple(i + (i >= d) for i in t)
  ny = core.get_aval(y).ndim
  if xd is None and ny - len(yc) - len(yb) == 1:
    # The batch axis is the rhs's only free axis: with the operands swapped it lands
    # just after the batch dimensions and the lhs free axes keep their order.
    dn = ((sh(yc), xc), (sh(yb), xb))
    return dot_general_p.bind(y, x, dimension_numbers=dn, **params), len(xb)
  if xd is not None:
    dn = ((sh(xc), yc), (sh(xb), yb))
    free = [i for i in range(core.get_aval(x).ndim) if i not in dn[0][0] + dn[1][0]]
    out_d = len(xb) + free.index(d)
  else:
    dn = ((xc, sh(yc)), (xb, sh(yb)))
    free = [i for i in range(core.get_aval(y).ndim) if i not in dn[0][1] + dn[1][1]]
    out_d = core.get_aval(x).ndim - len(xc) + free.index(d)
  return dot_general_p.bind(x, y, dimension_numbers=dn, **params), out_d


dot_general_p.batch = _dot_general_batch


# ---------------------------------------------------------------- reductions


def _reduce_check(name, accepted, x: ShapedArray, axes):
  if accepted is _int_bool and x.dtype not in accepted:
    raise TypeError(f"logical reduction requires operand dtype bool or int, got "
                    f"{x.dtype.name}.")
  _check_dtype(name, x.dtype, accepted)
  for a in axes:
    if not 0 <= a < x.ndim:
      raise ValueError(f"reduction axes {axes} contains out-of-bounds indices for "
                       f"{x.str_short(short_dtypes=False)}.")
  if len(set(axes)) != len(axes):
    raise ValueError(f"duplicate value in 'axes' of reduction: {axes}")
  return tuple(s for i, s in enumerate(x.shape) if i not in axes)


def reduction(name: str, npfn, accepted, has_sharding=False, lower=None) -> Primitive:
  """A monoid reduction over static ``axes``."""
  p = Primitive(name)
  p.lower = lower

  def abstract_eval(x, *, axes, out_sharding=None):
    return ShapedArray(_reduce_check(name, accepted, x, axes), x.dtype, x.weak_type)

  def impl(x, *, axes, out_sharding=None):
    _reduce_check(name, accepted, x.aval, axes)
    v = x._value
    out = npfn(v, axis=axes) if axes else v
    return ArrayImpl(np.asarray(out, v.dtype) if v.ndim > len(axes) else
                     np.asarray(out, v.dtype)[()], x.weak_type)

  p.def_impl(impl)
  p.def_abstract_eval(abstract_eval)
  if not has_sharding:
    p.pp_params = lambda params: {"axes": params["axes"]}
  p.batch = partial(_reduce_batch, p)
  return p


def _reduce_batch(p, vals, dims, *, axes, **params):
  """Reduces around the batch axis (no transpose); also serves argmax/argmin."""
  d = dims[0]
  return (p.bind(vals[0], axes=tuple(a + (a >= d) for a in axes), **params),
          d - builtins.sum(a < d for a in axes))


# The ufuncs' ``reduce`` directly: np.sum/np.max add a Python wrapper layer (~1 us).
def _np_sum(v, axis):
  if v.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
    return np.add.reduce(v.astype(np.float32), axis=axis).astype(v.dtype)
  return np.add.reduce(v, axis=axis, dtype=v.dtype)


def _np_prod(v, axis):
  if v.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
    return np.multiply.reduce(v.astype(np.float32), axis=axis).astype(v.dtype)
  return np.multiply.reduce(v, axis=axis, dtype=v.dtype)


def _np_max(v, axis):
  if v.size == 0:
    return np.full(tuple(s for i, s in enumerate(v.shape) if i not in axis),
                   _identity("max", v.dtype), v.dtype)
  return np.maximum.reduce(v, axis=axis)


def _np_min(v, axis):
  if v.size == 0:
    return np.full(tuple(s for i, s in enumerate(v.shape) if i not in axis),
                   _identity("min", v.dtype), v.dtype)
  return np.minimum.reduce(v, axis=axis)


def _identity(kind, dt):
  if dt == np.bool_:
    return kind == "min"
  if dt.kind in "iu":
    info = np.iinfo(dt)
    return info.min if kind == "max" else info.max
  return -np.inf if kind == "max" else np.inf


reduce_sum_p = reduction("reduce_sum", _np_sum, _number, has_sharding=True,
                         lower=mlir.monoid_reduce("add"))
ad.deflinear(reduce_sum_p, lambda ct, x, *, axes, out_sharding=None: [broadcast_in_dim_p.bind(
    ct, shape=tuple(x.aval.shape),
    broadcast_dimensions=tuple(i for i in range(x.aval.ndim) if i not in axes),
    sharding=None)])
reduce_prod_p = reduction("reduce_prod", _np_prod, _number,
                         lower=mlir.monoid_reduce("mul"))
def _reduce_prod_jvp(primals, tangents, *, axes, out_sharding=None):
  # d prod = sum_i t_i * prod_{j != i} x_j; the exclusive products come from cumprods,
  # which stay exact when some x_j are zero.
  x, = primals
  t = ad.instantiate(tangents[0])
  ans = reduce_prod_p.bind(x, axes=axes)
  kept = [i for i in range(x.ndim) if i not in axes]
  n = math.prod(x.shape[a] for a in axes)
  perm = tuple(axes) + tuple(kept)
  rest = tuple(x.shape[i] for i in kept)
  xt = reshape(transpose(x, perm), (n, *rest))
  tt = reshape(transpose(t, perm), (n, *rest))
  if n == 0:
    return ans, _zeros(ans)
  ones = full((1, *rest), 1, x.dtype)
  from pyjax._src.lax import slicing
  left = cumprod(concatenate([ones, slicing.slice_in_dim(xt, 0, n - 1)], 0), 0)
  right = cumprod(concatenate([slicing.slice_in_dim(xt, 1, n), ones], 0), 0, reverse=True)
  return ans, reduce_sum(mul(tt, mul(left, right)), (0,))


reduce_prod_p.jvp = _reduce_prod_jvp
reduce_max_p = reduction("reduce_max", _np_max, _any,
                         lower=mlir.monoid_reduce("max"))
def _reduce_chooser_jvp(p):
  def jvp(primals, tangents, *, axes, **params):
    x, = primals
    ans = p.bind(x, axes=axes, **params)
    kept = tuple(i for i in range(x.ndim) if i not in axes)
    loc = _convert_element_type(eq(x, broadcast_in_dim(ans, x.shape, kept)), x.dtype)
    counts = reduce_sum(loc, axes)
    return ans, div(reduce_sum(mul(tangents[0], loc), axes), counts)
  return jvp


reduce_max_p.jvp = _reduce_chooser_jvp(reduce_max_p)
reduce_min_p = reduction("reduce_min", _np_min, _any,
                         lower=mlir.monoid_reduce("min"))
reduce_min_p.jvp = _reduce_chooser_jvp(reduce_min_p)
reduce_and_p = reduction("reduce_and", lambda v, axis: np.bitwise_and.reduce(v, axis=axis),
                         _int_bool,
                         lower=mlir.monoid_reduce("and"))
ad.defjvp_zero(reduce_and_p)
reduce_or_p = reduction("reduce_or", lambda v, axis: np.bitwise_or.reduce(v, axis=axis),
                        _int_bool,
                         lower=mlir.monoid_reduce("or"))
ad.defjvp_zero(reduce_or_p)
reduce_xor_p = reduction("reduce_xor", lambda v, axis: np.bitwise_xor.reduce(v, axis=axis),
                         _int_bool, lower=mlir.monoid_reduce("xor"))
ad.defjvp_zero(reduce_xor_p)


def _arg_reduction(name, npfn, compare, lower):
  p = Primitive(name)

  def lower_rule(ctx, x, **params):
    check_operand(x.aval.dtype)
    return lower(ctx, x, **params)
  p.lower = lower_rule

  def check(x: ShapedArray, axes, index_dtype):
    axis, = axes
    if not 0 <= axis < x.ndim:
      raise ValueError(f"Invalid axis {axis} for operand shape {x.shape}")
    if x.shape[axis] < 1:
      raise ValueError(f"argmin and argmax require non-empty reduced dimension. "
                       f"operand.shape={x.shape} axis={axis}")
    if np.dtype(index_dtype).kind not in "iu":
      raise TypeError(f"index_dtype must be an integer type, but got "
                      f"{np.dtype(index_dtype).name}")
    return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i != axis), index_dtype)

  def check_operand(dtype):
    # As in JAX, the operand dtype is checked only when the comparison is built.
    _check_dtype(compare, dtype, _ordered, pos=0)

  def impl(x, *, axes, index_dtype):
    aval = check(x.aval, axes, index_dtype)
    check_operand(x.dtype)
    v = np.asarray(x._value)
    if v.dtype.kind == "f" or v.dtype == dtypes.bfloat16:
      # NaNs win, as in XLA: argmax/argmin return the first NaN.
      nan = np.isnan(v.astype(np.float32) if v.dtype == dtypes.bfloat16 else v)
      out = np.where(nan.any(axis=axes[0]), np.argmax(nan, axis=axes[0]),
                     npfn(v, axis=axes[0]))
    else:
      out = npfn(v, axis=axes[0])
    return ArrayImpl(np.asarray(out, index_dtype), False)

  p.def_impl(impl)
  p.def_abstract_eval(lambda x, *, axes, index_dtype: check(x, axes, index_dtype))
  p.batch = partial(_reduce_batch, p)
  return p


argmax_p = _arg_reduction("argmax", np.argmax, "gt", mlir.arg_reduce("GT"))
ad.defjvp_zero(argmax_p)
argmin_p = _arg_reduction("argmin", np.argmin, "lt", mlir.arg_reduce("LT"))
ad.defjvp_zero(argmin_p)


# ---------------------------------------------------------------- cumulative ops


def _cumulative(name, npfn, accepted, lower):
  p = Primitive(name)
  p.lower = lower

  def check(x: ShapedArray, axis):
    if axis < 0:
      raise ValueError("XLA operations do not allow negative axes")
    if axis >= x.ndim:
      raise ValueError(f"axis {axis} is out of bounds for array of shape {x.shape}")
    _check_dtype(name, x.dtype, accepted)
    return x

  def impl(x, *, axis, reverse):
    check(x.aval, axis)
    v = np.asarray(x._value)
    if reverse:
      v = np.flip(v, axis)
    out = npfn(v, axis)
    if reverse:
      out = np.flip(out, axis)
    return ArrayImpl(np.ascontiguousarray(out).astype(v.dtype, copy=False), x.weak_type)

  p.def_impl(impl)
  p.def_abstract_eval(lambda x, *, axis, reverse: check(x, axis))
  p.batch = lambda vals, dims, *, axis, reverse: (
      p.bind(vals[0], axis=axis + (axis >= dims[0]), reverse=reverse), dims[0])
  return p


def _np_cumsum(v, axis):
  if v.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
    return np.cumsum(v.astype(np.float32), axis=axis).astype(v.dtype)
  return np.cumsum(v, axis=axis, dtype=v.dtype)


def _np_cumprod(v, axis):
  if v.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
    return np.cumprod(v.astype(np.float32), axis=axis).astype(v.dtype)
  return np.cumprod(v, axis=axis, dtype=v.dtype)


def _no_int_logaddexp(dt):
  # JAX accepts any number here, then fails making the -inf start of the window.
  if dt.kind in "iu":
    raise OverflowError("cannot convert float infinity to integer")


def _np_logaddexp_accumulate(v, axis):
  _no_int_logaddexp(v.dtype)
  if v.dtype.kind == "c":  # JAX's complex logaddexp folded along the axis from -inf
    vs = np.moveaxis(v, axis, 0)
    out = np.empty_like(vs)
    acc = np.full(vs.shape[1:], -np.inf, v.dtype)
    for i in range(vs.shape[0]):
      acc = out[i] = _np_logaddexp_complex(acc, vs[i])
    return np.moveaxis(out, 0, axis)
  if v.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
    return np.logaddexp.accumulate(v.astype(np.float32), axis=axis).astype(v.dtype)
  return np.logaddexp.accumulate(v, axis=axis)


def _np_logaddexp_complex(a, b):
  """log(exp(a) + exp(b)) for complex values, as JAX computes it: around the
  lexicographic max, with the imaginary part wrapped into [-pi, pi]."""
  bigger = (a.real > b.real) | ((a.real == b.real) & (a.imag > b.imag))
  amax = np.where(bigger, a, b)
  out = amax + np.log1p(np.exp(a + b - amax * 2))
  pi = out.imag.dtype.type(np.pi)
  r = np.fmod(out.imag + pi, 2 * pi)
  return (out.real + 1j * (np.where(r < 0, r + 2 * pi, r) - pi)).astype(a.dtype)


def _cumlogsumexp_lower(ctx, x, *, axis, reverse):
  _no_int_logaddexp(x.aval.dtype)
  if x.aval.dtype.kind != "c":
    return _cumlogsumexp_real_lower(ctx, x, axis=axis, reverse=reverse)
  # complex: a reduce_window spanning the axis whose body is JAX's complex logaddexp
  from pyjax._src.interpreters import partial_eval as pe
  scal = ShapedArray((), x.aval.dtype)
  jaxpr, consts = pe.trace_to_jaxpr(lambda a, b: [_logaddexp(a, b)], [scal, scal])

  def body(b, acc, v):
    cs = [b.constant(np.asarray(getattr(c, "_value", c)), core.get_aval(c)) for c in consts]
    return b.lower_jaxpr(jaxpr, cs, [acc, v])

  n = x.aval.shape[axis]
  win = [1] * x.aval.ndim
  win[axis] = n
  pad = [0, 0] * x.aval.ndim
  pad[2 * axis + bool(reverse)] = n - 1
  return ctx.op("stablehlo.reduce_window", [x, ctx.constant(np.array(-np.inf, scal.dtype), scal)],
                x.aval, f"window_dimensions = {mlir._i64_array(win)}, "
                f"padding = {mlir._dense_i64(pad, (len(win), 2))}", [ctx.region([scal, scal], body)])


_cumlogsumexp_real_lower = mlir.cumulative("logaddexp")
cumsum_p = _cumulative("cumsum", _np_cumsum, _number, mlir.cumulative("add"))
ad.deflinear(cumsum_p, lambda ct, x, *, axis, reverse: [
    cumsum_p.bind(ct, axis=axis, reverse=not reverse)])
cumprod_p = _cumulative("cumprod", _np_cumprod, _number, mlir.cumulative("mul"))
cummax_p = _cumulative("cummax", lambda v, a: np.maximum.accumulate(v, axis=a), _number, mlir.cumulative("max"))
cummin_p = _cumulative("cummin", lambda v, a: np.minimum.accumulate(v, axis=a), _number, mlir.cumulative("min"))
cumlogsumexp_p = _cumulative("cumlogsumexp", _np_logaddexp_accumulate, _number,
                             _cumlogsumexp_lower)
def _scan_by_doubling(combine, identity, x, axis, reverse):
  """Inclusive prefix scan in log2(n) shifted combines, built from differentiable ops;
  the JVP of cumprod/cummax/cummin/cumlogsumexp differentiates it."""
  from pyjax._src.lax import slicing
  if reverse:
    x = rev(x, (axis,))
  n, s = x.shape[axis], 1
  while s < n:
    cfg = [(0, 0, 0)] * x.ndim
    cfg[axis] = (s, 0, 0)
    shifted = pad(slicing.slice_in_dim(x, 0, n - s, axis=axis), _const(x, identity), cfg)
    x = combine(x, shifted)
    s *= 2
  return rev(x, (axis,)) if reverse else x


def _logaddexp(a, b):
  if a.dtype.kind == "c":  # as _np_logaddexp_complex
    m = max(a, b)
    out = add(m, log1p(exp(sub(add(a, b), mul(m, _const(m, 2))))))
    pi, two_pi = _const(real(out), np.pi), _const(real(out), 2 * np.pi)
    r = rem(add(imag(out), pi), two_pi)
    return complex(real(out), sub(select(lt(r, _zeros(r)), add(r, two_pi), r), pi))
  m = max(a, b)
  safe_m = select(is_finite(m), m, _zeros(m))
  return add(safe_m, log(add(exp(sub(a, safe_m)), exp(sub(b, safe_m)))))


def _cumulative_jvp(p, combine, identity):
  def jvp(primals, tangents, *, axis, reverse):
    out = p.bind(primals[0], axis=axis, reverse=reverse)
    _, (t,) = ad.jvp_flat(
        lambda x: [_scan_by_doubling(combine, identity, x, axis, reverse)],
        primals, tangents)
    return out, t
  p.jvp = jvp


_cumulative_jvp(cumprod_p, lambda a, b: mul(a, b), 1)
_cumulative_jvp(cummax_p, lambda a, b: max(a, b), -np.inf)
_cumulative_jvp(cummin_p, lambda a, b: min(a, b), np.inf)
_cumulative_jvp(cumlogsumexp_p, _logaddexp, -np.inf)


# ---------------------------------------------------------------- sort


sort_p = Primitive("sort")
sort_p.multiple_results = True


def _sort_check(*xs: ShapedArray, dimension, is_stable, num_keys):
  if not xs:
    raise TypeError("Sort requires at least one operand")
  if not 1 <= num_keys <= len(xs):
    raise ValueError(f"num_keys={num_keys} must be between 1 and len(operand)={len(xs)}")
  if any(x.shape != xs[0].shape for x in xs):
    raise TypeError(f"Arguments to sort must have equal shapes, got: "
                    f"{' '.join(str(x.shape) for x in xs)}")
  if not 0 <= dimension < xs[0].ndim:
    raise ValueError(f"sort dimension {dimension} out of bounds for shape {xs[0].shape}")
  return list(xs)


def _sort_keys(v):
  """Key columns, primary first, giving JAX's sort order for floats:
  -inf < ... < 0.0 < ... < inf < NaN, where -0.0 ties 0.0 and all NaNs tie (a stable
  sort keeps their order); complex values order by (real, imag)."""
  if v.dtype.kind == "c":
    return _sort_keys(np.real(v)) + _sort_keys(np.imag(v))
  if v.dtype.kind == "f" or v.dtype == dtypes.bfloat16:
    f = v.astype(np.float64)
    nan = np.isnan(f)
    return [nan, np.where(nan, 0.0, f) + 0.0]  # (+ 0.0: -0.0 becomes 0.0)
  return [v]


def _sort_impl(*xs, dimension, is_stable, num_keys):
  _sort_check(*(x.aval for x in xs), dimension=dimension, is_stable=is_stable,
              num_keys=num_keys)
  vals = [np.asarray(x._value) for x in xs]
  keys = [k for v in vals[:num_keys] for k in _sort_keys(v)]
  moved = [np.moveaxis(k, dimension, -1) for k in reversed(keys)]  # lexsort: last is primary
  perm = np.lexsort(moved, axis=-1)
  return [ArrayImpl(np.moveaxis(np.take_along_axis(np.moveaxis(v, dimension, -1), perm, -1),
                                -1, dimension), x.weak_type) for v, x in zip(vals, xs)]


sort_p.def_impl(_sort_impl)
sort_p.def_abstract_eval(_sort_check)
def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
  shape = primals[0].shape
  idx_dtype = np.dtype(np.int32)
  iota_ = broadcasted_iota(idx_dtype, shape, dimension)
  *outs, perm = sort_p.bind(*primals, iota_, dimension=dimension, is_stable=is_stable,
                            num_keys=num_keys)
  from pyjax._src.numpy.indexing import take_along_axis
  touts = [t if type(t) is ad.Zero else take_along_axis(t, perm, axis=dimension)
           for t in tangents]
  return outs, touts


sort_p.jvp = _sort_jvp
# stop_gradient: the identity whose tangent is zero.
stop_gradient_p = Primitive("stop_gradient")
stop_gradient_p.def_impl(lambda x: x)
stop_gradient_p.def_abstract_eval(lambda x: x)
ad.defjvp_zero(stop_gradient_p)
stop_gradient_p.batch = lambda vals, dims: (stop_gradient_p.bind(vals[0]), dims[0])
stop_gradient_p.lower = lambda ctx, x: x


def _sort_key_lt(b, x, y):
  """(x < y, x == y) in the impl's total order (see ``_sort_keys``) for scalar Vals."""
  dt = x.aval.dtype
  if dt.kind == "c":
    rdt = _real_dtype(dt)
    parts = [(b.unary("real", x, rdt), b.unary("real", y, rdt)),
             (b.unary("imag", x, rdt), b.unary("imag", y, rdt))]
    cols = [c for px, py in parts for c in _float_sort_cols(b, px, py)]
  elif dt.kind == "f" or dt == dtypes.bfloat16:
    cols = _float_sort_cols(b, x, y)
  else:
    cols = [(x, y)]
  return _lex_lt(b, cols)


def _float_sort_cols(b, x, y):
  dt = x.aval.dtype

  def key(v):  # (the compare is a float one: -0.0 == 0.0)
    nan = b.compare("NE", v, v)
    return nan, b.select(nan, b.full(0, (), dt), v)
  return list(zip(key(x), key(y)))


def _lex_lt(b, cols):
  lt = eq = None
  for cx, cy in reversed(cols):
    c_lt, c_eq = b.compare("LT", cx, cy), b.compare("EQ", cx, cy)
    if lt is None:
      lt, eq = c_lt, c_eq
    else:
      lt = b.binary("or", c_lt, b.binary("and", c_eq, lt))
      eq = b.binary("and", c_eq, eq)
  return lt, eq


def _sort_lower(ctx, *xs, dimension, is_stable, num_keys):
  # IREE's sort is not stable: an iota operand breaks ties by position.
  pos = ctx.op("stablehlo.iota", [], ShapedArray(xs[0].aval.shape, np.int32),
               f"iota_dimension = {dimension} : i64")
  # IREE cannot compile a sort of rank >= 2 with two operands that are iotas along
  # the sort dimension fused into it (argsort's and ours); a barrier keeps them out.
  ops = ctx.op("stablehlo.optimization_barrier", [*xs, pos],
               [x.aval for x in xs] + [pos.aval])
  scal = [ShapedArray((), x.aval.dtype) for x in ops]

  def body(b, *args):
    cols = [_sort_key_lt(b, args[2 * k], args[2 * k + 1]) for k in range(num_keys)]
    n = 2 * len(xs)
    cols.append((b.compare("LT", args[n], args[n + 1]), None))
    out = None
    for lt, eq in reversed(cols):
      out = lt if out is None else b.binary("or", lt, b.binary("and", eq, out))
    return [out]

  reg = ctx.region([a for s in scal for a in (s, s)], body)
  outs = ctx.op("stablehlo.sort", ops, [x.aval for x in ops],
                f"dimension = {dimension} : i64, is_stable = true", [reg])
  return outs[:-1]


sort_p.lower = _sort_lower


def _sort_batch(vals, dims, *, dimension, is_stable, num_keys):
  size = batching.batch_size(vals, dims)
  xs = [batching.bdim_at_front(x, d, size) for x, d in zip(vals, dims)]
  return (sort_p.bind(*xs, dimension=dimension + 1, is_stable=is_stable, num_keys=num_keys),
          [0] * len(xs))


sort_p.batch = _sort_batch


# ================================================================ lax API functions


def _bind2(p):
  def fn(x, y):
    if type(x) is not ArrayImpl or type(y) is not ArrayImpl:
      x, y = _args2(x, y)
    xs, ys = x.shape, y.shape
    if xs != ys and xs and ys and len(xs) == len(ys):
      x, y = _broadcast_ones(x, y)
    return p.bind(x, y)
  fn.__name__ = p.name
  return fn


def _broadcast_ones(x, y):
  """Operands of equal rank whose dimensions differ only where one of them is 1, each
  broadcast to the common shape (JAX's lax binary ops broadcast those); others are
  left for the primitive's shape rule to reject."""
  shape = []
  for a, b in zip(x.shape, y.shape):
    if a != b and a != 1 and b != 1:
      return x, y
    shape.append(b if a == 1 else a)
  dims = tuple(range(len(shape)))
  return tuple(v if v.shape == tuple(shape) else broadcast_in_dim(v, tuple(shape), dims)
               for v in (x, y))


def _unary_api(p):
  bind = p.bind

  def fn(x):
    if type(x) is not ArrayImpl and not isinstance(x, Tracer):
      x = _to_array(x)
    return bind(x)
  fn.__name__ = p.name
  return fn


neg = _unary_api(neg_p)
sign = _unary_api(sign_p)
floor = _unary_api(floor_p)
ceil = _unary_api(ceil_p)
is_finite = _unary_api(is_finite_p)
exp = _unary_api(exp_p)
exp2 = _unary_api(exp2_p)
log = _unary_api(log_p)
log1p = _unary_api(log1p_p)
expm1 = _unary_api(expm1_p)
tanh = _unary_api(tanh_p)
logistic = _unary_api(logistic_p)
sin = _unary_api(sin_p)
cos = _unary_api(cos_p)
tan = _unary_api(tan_p)
asin = _unary_api(asin_p)
acos = _unary_api(acos_p)
atan = _unary_api(atan_p)
sinh = _unary_api(sinh_p)
cosh = _unary_api(cosh_p)
asinh = _unary_api(asinh_p)
acosh = _unary_api(acosh_p)
atanh = _unary_api(atanh_p)
sqrt = _unary_api(sqrt_p)
rsqrt = _unary_api(rsqrt_p)
cbrt = _unary_api(cbrt_p)
erf = _unary_api(erf_p)
erfc = _unary_api(erfc_p)
erf_inv = _unary_api(erf_inv_p)
lgamma = _unary_api(lgamma_p)
digamma = _unary_api(digamma_p)
bessel_i0e = _unary_api(bessel_i0e_p)
bessel_i1e = _unary_api(bessel_i1e_p)
bitwise_not = _unary_api(not_p)
population_count = _unary_api(population_count_p)
clz = _unary_api(clz_p)
real = _unary_api(real_p)
imag = _unary_api(imag_p)
abs = _unary_api(abs_p)


def conj(x):
  x = _to_array(x)
  return conj_p.bind(x)


add = _bind2(add_p)
sub = _bind2(sub_p)
mul = _bind2(mul_p)
div = _bind2(div_p)
rem = _bind2(rem_p)
pow = _bind2(pow_p)
max = _bind2(max_p)
min = _bind2(min_p)
nextafter = _bind2(nextafter_p)
atan2 = _bind2(atan2_p)
bitwise_and = _bind2(and_p)
bitwise_or = _bind2(or_p)
bitwise_xor = _bind2(xor_p)
shift_left = _bind2(shift_left_p)
shift_right_arithmetic = _bind2(shift_right_arithmetic_p)
shift_right_logical = _bind2(shift_right_logical_p)
complex = _bind2(complex_p)
eq = _bind2(eq_p)
ne = _bind2(ne_p)
lt = _bind2(lt_p)
le = _bind2(le_p)
gt = _bind2(gt_p)
ge = _bind2(ge_p)
igamma = _bind2(igamma_p)
igammac = _bind2(igammac_p)
random_gamma_grad = _bind2(random_gamma_grad_p)
polygamma = _bind2(polygamma_p)
zeta = _bind2(zeta_p)
igamma_grad_a = _bind2(igamma_grad_a_p)


def stop_gradient(x):
  """Returns ``x`` with a zero derivative (applied to every inexact leaf of a pytree)."""
  from pyjax._src import tree_util

  def stop(v):
    v = _to_array(v)
    return stop_gradient_p.bind(v) if dtypes.issubdtype(v.dtype, np.inexact) else v
  return tree_util.tree_map(stop, x)


def square(x):
  return square_p.bind(_to_array(x))


def reciprocal(x):
  return integer_pow(x, -1)


def round(x, rounding_method=RoundingMethod.AWAY_FROM_ZERO):
  return round_p.bind(_to_array(x), rounding_method=RoundingMethod(rounding_method))


def integer_pow(x, y: int):
  return integer_pow_p.bind(_to_array(x), y=int(y))


def select_n(which, *cases):
  if not cases:
    raise ValueError("select_n() must have at least one case")
  return select_n_p.bind(_to_array(which), *(_to_array(c) for c in cases))


def select(pred, on_true, on_false):
  """``on_true`` where ``pred`` else ``on_false`` (note the argument order)."""
  return select_n(pred, on_false, on_true)


def clamp(min, x, max):
  x = _to_array(x)
  return clamp_p.bind(_to_array(min, x.dtype), x, _to_array(max, x.dtype))


def convert_element_type(operand, new_dtype):
  return _convert_element_type(operand, new_dtype, weak_type=False)


def _convert_element_type(operand, new_dtype=None, weak_type=False):
  """Converts ``operand`` to ``new_dtype`` (canonicalized); no-op when already there."""
  if new_dtype is None:
    new_dtype = dtypes.dtype(operand)
  new_dtype = dtypes.canonicalize_dtype(new_dtype)
  if type(operand) in (bool, int, float, builtins.complex):
    if type(operand) is builtins.complex and new_dtype.kind != "c":
      operand = operand.real
    if type(operand) is float and new_dtype.kind in "iu":
      operand = int(operand)
    arr = ArrayImpl(np.asarray(operand).astype(new_dtype)[()], weak_type)
    return arr
  if not isinstance(operand, (ArrayImpl, Tracer)):
    operand = asarray_value(operand)
  if operand.dtype == new_dtype and operand.weak_type == weak_type:
    return operand
  return convert_element_type_p.bind(operand, new_dtype=new_dtype,
                                     weak_type=bool(weak_type))


def bitcast_convert_type(operand, new_dtype):
  return bitcast_convert_type_p.bind(_to_array(operand),
                                     new_dtype=dtypes.canonicalize_dtype(new_dtype))


def reduce_precision(operand, exponent_bits: int, mantissa_bits: int):
  return reduce_precision_p.bind(_to_array(operand), exponent_bits=int(exponent_bits),
                                 mantissa_bits=int(mantissa_bits))


def _const(like, val):
  """A weak scalar of ``like``'s dtype."""
  return ArrayImpl(np.asarray(val, like.dtype)[()], True)


def full(shape, fill_value, dtype=None, *, sharding=None):
  shape = _canon_shape(shape)
  if dtype is None:
    dtype = dtypes.dtype(fill_value)
  dt = dtypes.canonicalize_dtype(dtype)
  weak = dtype is None and dtypes.is_weakly_typed(fill_value)
  fv = _convert_element_type(fill_value, dt, weak)
  if getattr(fv, "ndim", 0) != 0:
    raise TypeError(f"full must be called with scalar fill_value, got fill_value.shape "
                    f"{np.shape(fill_value)}.")
  return broadcast(fv, shape)


def broadcast_in_dim(operand, shape, broadcast_dimensions, *, out_sharding=None):
  operand = _to_array(operand)
  shape = _canon_shape(shape)
  broadcast_dimensions = tuple(int(d) for d in broadcast_dimensions)
  if operand.shape == shape and broadcast_dimensions == tuple(range(len(shape))):
    return operand
  return broadcast_in_dim_p.bind(operand, shape=shape,
                                 broadcast_dimensions=broadcast_dimensions, sharding=None)


def broadcast(operand, sizes):
  operand = _to_array(operand)
  sizes = tuple(sizes)
  nd = operand.ndim
  return broadcast_in_dim(operand, sizes + tuple(operand.shape),
                          tuple(range(len(sizes), len(sizes) + nd)))


def broadcast_to_rank(x, rank):
  x = _to_array(x)
  return broadcast(x, (1,) * (rank - x.ndim)) if x.ndim < rank else x


def reshape(operand, new_sizes, dimensions=None, *, out_sharding=None):
  operand = _to_array(operand)
  new_sizes = _canon_shape(new_sizes, "new_sizes")
  if dimensions is not None:
    dimensions = tuple(int(d) for d in dimensions)
    if dimensions == tuple(range(operand.ndim)):
      dimensions = None
  if operand.shape == new_sizes and dimensions is None:
    return operand
  return reshape_p.bind(operand, new_sizes=new_sizes, dimensions=dimensions, sharding=None)


def transpose(operand, permutation):
  operand = _to_array(operand)
  permutation = tuple(int(p) for p in permutation)
  if permutation == tuple(range(operand.ndim)):
    return operand
  return transpose_p.bind(operand, permutation=permutation)


def squeeze(array, dimensions):
  array = _to_array(array)
  nd = array.ndim
  dims = tuple(sorted(_canon_axis(d, nd) for d in dimensions))
  if not dims:
    return array
  return squeeze_p.bind(array, dimensions=dims)


def expand_dims(array, dimensions):
  array = _to_array(array)
  nd_out = array.ndim + len(dimensions)
  dims = sorted(_canon_axis(d, nd_out) for d in dimensions)
  shape = list(array.shape)
  for d in dims:
    shape.insert(d, 1)
  bdims = tuple(i for i in range(nd_out) if i not in dims)
  return broadcast_in_dim(array, tuple(shape), bdims)


def _canon_axis(axis, ndim):
  axis = operator.index(axis)
  if not -ndim <= axis < ndim:
    raise ValueError(f"axis {axis} is out of bounds for array of dimension {ndim}")
  return axis % ndim if ndim else 0


def rev(operand, dimensions):
  operand = _to_array(operand)
  dims = tuple(int(d) for d in dimensions)
  if not dims:
    return operand
  return rev_p.bind(operand, dimensions=dims)


def iota(dtype, size):
  return broadcasted_iota(dtype, (size,), 0)


def broadcasted_iota(dtype, shape, dimension, *, out_sharding=None):
  shape = _canon_shape(shape, op="iota")
  return iota_p.bind(dtype=dtypes.canonicalize_dtype(dtype), shape=shape,
                     dimension=int(dimension), sharding=None)


def concatenate(operands, dimension):
  operands = [_to_array(o) for o in operands]
  if not operands:
    raise ValueError("concatenate requires a non-empty sequences of arrays")
  if len(operands) == 1:
    return operands[0]
  return concatenate_p.bind(*operands, dimension=int(dimension))


def pad(operand, padding_value, padding_config):
  operand = _to_array(operand)
  padding_value = _to_array(padding_value, operand.dtype)
  cfg = tuple((int(lo), int(hi), int(it)) for lo, hi, it in padding_config)
  return pad_p.bind(operand, padding_value, padding_config=cfg)


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None,
                out_sharding=None):
  lhs, rhs = _to_array(lhs), _to_array(rhs)
  (xc, yc), (xb, yb) = dimension_numbers
  dn = ((tuple(int(i) for i in xc), tuple(int(i) for i in yc)),
        (tuple(int(i) for i in xb), tuple(int(i) for i in yb)))
  pet = None if preferred_element_type is None else \
      dtypes.canonicalize_dtype(preferred_element_type)
  return dot_general_p.bind(lhs, rhs, dimension_numbers=dn, precision=precision,
                            preferred_element_type=pet, out_sharding=None)


def dot(lhs, rhs, precision=None, preferred_element_type=None):
  lhs, rhs = _to_array(lhs), _to_array(rhs)
  if 1 <= lhs.ndim <= 2 and 1 <= rhs.ndim <= 2 and lhs.shape[-1] == rhs.shape[0]:
    return dot_general(lhs, rhs, (((lhs.ndim - 1,), (0,)), ((), ())), precision,
                       preferred_element_type)
  raise TypeError(f"Incompatible shapes for dot: got {lhs.shape} and {rhs.shape}.")


def _reduce_api(p, name):
  def fn(operand, axes):
    operand = _to_array(operand)
    axes = tuple(sorted(operator.index(a) for a in axes))  # negative: JAX's error
    if p is reduce_sum_p:
      return p.bind(operand, axes=axes, out_sharding=None)
    return p.bind(operand, axes=axes)
  fn.__name__ = name
  return fn


reduce_sum = _reduce_api(reduce_sum_p, "reduce_sum")
reduce_prod = _reduce_api(reduce_prod_p, "reduce_prod")
reduce_max = _reduce_api(reduce_max_p, "reduce_max")
reduce_min = _reduce_api(reduce_min_p, "reduce_min")
reduce_and = _reduce_api(reduce_and_p, "reduce_and")
reduce_or = _reduce_api(reduce_or_p, "reduce_or")
reduce_xor = _reduce_api(reduce_xor_p, "reduce_xor")


def argmax(operand, axis: int, index_dtype):
  operand = _to_array(operand)
  return argmax_p.bind(operand, axes=(operator.index(axis),),
                       index_dtype=dtypes.canonicalize_dtype(index_dtype))


def argmin(operand, axis: int, index_dtype):
  operand = _to_array(operand)
  return argmin_p.bind(operand, axes=(operator.index(axis),),
                       index_dtype=dtypes.canonicalize_dtype(index_dtype))


def _cum_api(p):
  def fn(operand, axis: int = 0, reverse: bool = False):
    operand = _to_array(operand)
    return p.bind(operand, axis=int(axis), reverse=bool(reverse))
  fn.__name__ = p.name
  return fn


cumsum = _cum_api(cumsum_p)
cumprod = _cum_api(cumprod_p)
cummax = _cum_api(cummax_p)
cummin = _cum_api(cummin_p)
cumlogsumexp = _cum_api(cumlogsumexp_p)


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
  if isinstance(operand, (tuple, list)):
    if not operand:
      raise TypeError("Sort requires at least one operand")
    if not 1 <= num_keys <= len(operand):
      raise ValueError(f"num_keys={num_keys} must be between 1 and len(operand)={len(operand)}")
    ops = [_to_array(o) for o in operand]
    d = _canon_axis(dimension, ops[0].ndim)
    return tuple(sort_p.bind(*ops, dimension=d, is_stable=bool(is_stable),
                             num_keys=int(num_keys)))
  operand = _to_array(operand)
  d = _canon_axis(dimension, operand.ndim)
  return sort_p.bind(operand, dimension=d, is_stable=bool(is_stable), num_keys=1)[0]


def sort_key_val(keys, values, dimension=-1, is_stable=True):
  k, v = sort((keys, values), dimension, is_stable, num_keys=1)
  return k, v


def index_in_dim(operand, index, axis=0, keepdims=True):
  from pyjax._src.lax import slicing
  return slicing.index_in_dim(operand, index, axis, keepdims)


def zeros_like_array(x):
  x = _to_array(x)
  return full(x.shape, 0, x.dtype)


def full_like(x, fill_value, dtype=None, shape=None, sharding=None):
  x = _to_array(x)
  dt = x.dtype if dtype is None else dtype
  weak = dtype is None and x.weak_type
  shape = x.shape if shape is None else shape
  fv = _convert_element_type(fill_value, dt, weak)
  return broadcast(fv, tuple(shape))

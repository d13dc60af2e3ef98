"""Core lax primitives: elementwise, select/clamp, shape ops and reduce_sum. Each
primitive is one block holding all of its rules. Siblings build on these: conversions
(below lax.py), special, reductions, dot and sorting (above it); utils holds the
primitive factories and cpu_numerics the eager path's XLA-compatible NumPy numerics.

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
from functools import partial

import numpy as np

from pyjax._src import core, dtypes, tree_util
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Primitive, ShapedArray, Tracer
from pyjax._src.interpreters import lowering as mlir
from pyjax._src.interpreters import ad, batching
from pyjax._src.lax.conversions import (_convert_element_type, bitcast_convert_type,
                                        convert_element_type)
from pyjax._src.lax.cpu_numerics import (
    _XLA_EXACT_MAX_SIZE, _atan2, _clz, _exp_f32, _exp_f64, _f32_compute, _int_div,
    _is_finite, _log1p_f32, _log1p_f32_hlo, _log1p_f64, _log_f32, _log_f32_hlo, _logistic,
    _logistic_f32,
    _nextafter, _popcount, _rem_impl, _round_half_away, _rsqrt, _shift_left,
    _shift_right_arithmetic, _shift_right_logical, _sign, _sin_f32, _cos_f32, _tan_f32,
    _tanh_f32, _xla_f32,
    _xla_f32_lower)
from pyjax._src.lax.cpu_numerics import tree_reduce as _np_tree_reduce
from pyjax._src.lax.utils import (
    _any, _args2, _binop_shape, _bool_result, _check_dtype, _complex, _complex_dtype,
    _float, _inexact, _int, _int_bool, _num, _number, _ordered, _real_dtype,
    _same_dtypes_check, _sint, _to_array, binop, unop)
from pyjax._src.lax.utils import (
    ShardingTypeError, broadcasting_sharding_rule, canon_out_sharding, make_sharding,
    param_sharding, same_sharding_rule, spec_of, typed)
from pyjax._src.sharding import spec_axes
from pyjax._src.util import check_allocation


# ---------------------------------------------------------------- autodiff rule helpers


def _zeros(x):
  return full_like(x, 0)


def _brcast_to(t, shape):
  """``t`` (rank 0, or ``shape``'s rank with size-1 dimensions) broadcast to ``shape``."""
  if t.shape == tuple(shape):
    return t
  return broadcast_in_dim(t, shape, tuple(range(t.ndim)) if t.ndim else ())


def _unbroadcast(aval, ct):
  """Cotangent of an operand that was broadcast against the other (rank 0, or size-1
  dimensions: summed over those, as JAX's)."""
  if ct.shape == aval.shape:
    return ct
  if not aval.shape:
    return reduce_sum(ct, tuple(range(ct.ndim)))
  dims = tuple(i for i, (a, b) in enumerate(zip(ct.shape, aval.shape)) if a != b)
  return reshape(reduce_sum(ct, dims), aval.shape)


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
  ones = full_like(z, 1)  # JAX's: like z, so weak where z is
  return div(select(eq(x, z), ones, full_like(z, 0)),
             select(eq(y, z), full_like(z, 2), ones))


# ---------------------------------------------------------------- integer helpers


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


# ---------------------------------------------------------------- elementwise primitives

def _sign_lower(ctx, x):
  if x.aval.dtype.kind == "u":  # stablehlo.sign is for signed and float types
    return ctx.convert(ctx.compare("NE", x, ctx.full(0, (), x.aval.dtype)), x.aval.dtype)
  return ctx.unary("sign", x)


def _keep_zero(rule):
  """``rule`` with f(+-0) = +-0 (IREE's polynomials for odd functions lose -0)."""
  def keep(ctx, x):
    r = rule(ctx, x)
    if x.aval.dtype.kind == "c":
      return r
    zero = ctx.compare("EQ", x, ctx.full(0, (), x.aval.dtype))
    return ctx.select(zero, ctx.broadcast(x, ctx.aval_out.shape), r)
  return keep


def _pio2_parts():
  """pi/2 as three float64s: the first two of 21 significant bits (so k * part is exact
  for integers k < 2**32), the third the rest, rounded."""
  from fractions import Fraction
  pio2 = Fraction(
      "1.57079632679489661923132169163975144209858469968755291048747229615390820314")
  parts = []
  for _ in range(2):
    m, e = np.frexp(float(pio2))  # keep the top 21 bits
    p = float(np.ldexp(np.floor(np.ldexp(m, 21)), e - 21))
    parts.append(p)
    pio2 -= Fraction(p)
  return parts + [float(pio2)]


_PIO2 = _pio2_parts()
# Taylor coefficients (in r**2) of sin(r)/r and cos(r): on |r| <= pi/4 the terms left
# out are below 1e-11, far under a float32 rounding.
_SIN_TAYLOR = [(-1) ** n / math.factorial(2 * n + 1) for n in range(7)]
_COS_TAYLOR = [(-1) ** n / math.factorial(2 * n) for n in range(7)]


def _trig_lower(name):
  """sin/cos/tan of float32 and half types. IREE's float32 kernels reduce the argument
  in float32 (wrong from |x| >= 256: sin(3.4e38) is -inf), and its float64 kernels call
  libm one element at a time (40x slower). So the reduction x = k pi/2 + r is done in
  float64 arithmetic (three-part pi/2: exact for |x| < 2**31, |r| <= pi/4), sin(r) and
  cos(r) are float64 polynomials (IREE's float32 kernels are off by up to 2e-7 on
  [-pi/4, pi/4]), and the quadrant k mod 4 chooses the sign and the function. Arrays
  holding some |x| >= 2**31 take those elements from the float64 kernels."""
  f64 = np.dtype(np.float64)

  def rule(ctx, x):
    dt = ctx.aval_out.dtype
    if dt.kind == "c" or dt == f64:
      return mlir.elementwise(name)(ctx, x)
    shape = x.aval.shape
    c64 = lambda v: ctx.full(v, shape, f64)  # noqa: E731
    x64 = ctx.convert(x, f64)
    # k = round(x 2/pi) through int64 (float64 round/floor/fmod are libm calls here)
    y = ctx.binary("multiply", x64, c64(2 / np.pi))
    half = ctx.select(ctx.compare("LT", y, c64(0.0)), c64(-0.5), c64(0.5))
    i64 = np.dtype(np.int64)
    ki = ctx.convert(ctx.binary("add", y, half), i64)  # (garbage for |x| >= 2**31)
    k = ctx.convert(ki, f64)
    r = x64
    for part in _PIO2:
      r = ctx.binary("subtract", r, ctx.binary("multiply", k, c64(part)))
    r2 = ctx.binary("multiply", r, r)

    def poly(coeffs):  # Horner in r2
      acc = c64(coeffs[-1])
      for co in coeffs[-2::-1]:
        acc = ctx.binary("add", ctx.binary("multiply", acc, r2), c64(co))
      return acc
    s = ctx.binary("multiply", r, poly(_SIN_TAYLOR))
    c = poly(_COS_TAYLOR)
    ci = lambda v: ctx.full(v, shape, i64)  # noqa: E731
    if name == "cosine":  # cos(k pi/2 + r) = sin((k + 1) pi/2 + r)
      ki = ctx.binary("add", ki, ci(1))
    q = ctx.binary("and", ki, ci(3))
    odd = ctx.compare("EQ", ctx.binary("and", q, ci(1)), ci(1))
    if name == "tan":
      out = ctx.select(odd, ctx.unary("negate", ctx.binary("divide", c, s)),
                       ctx.binary("divide", s, c))
    else:
      mag = ctx.select(odd, c, s)
      out = ctx.select(ctx.compare("GE", q, ci(2)), ctx.unary("negate", mag), mag)
    out = ctx.convert(out, dt)
    # |x| >= 2**31 (rare): those elements from IREE's float64 (libm) kernel, run only
    # when the array has any (a case: about 4 us a call, so small arrays just select).
    big = ctx.compare("GE", ctx.unary("abs", x64), c64(2.0 ** 31))
    if math.prod(shape) <= 128:
      exact = ctx.convert(ctx.op(f"stablehlo.{name}", [x64], x64.aval), dt)
      return ctx.select(big, exact, out)
    if shape:
      false = ctx.full(False, (), np.bool_)
      big_any = ctx.reduce([big], [false], range(len(shape)),
                           lambda b, acc, v: [b.binary("or", acc, v)])[0]
    else:
      big_any = big

    def slow(b):
      exact = b.convert(b.op(f"stablehlo.{name}", [x64], x64.aval), dt)
      return [b.select(big, exact, out)]
    regions = [ctx.region([], lambda b: [out]), ctx.region([], slow)]
    return ctx.op("stablehlo.case", [ctx.convert(big_any, np.int32)], out.aval, "",
                  regions)
  return rule


def _cbrt_lower(ctx, x):
  if x.aval.dtype != np.float64:  # (IREE's cbrt(+-inf) is NaN)
    inf = ctx.compare("EQ", ctx.unary("abs", x), ctx.full(np.inf, (), x.aval.dtype))
    return ctx.select(inf, x, mlir.elementwise("cbrt", True)(ctx, x))
  # IREE has no float64 cbrt: sign(x) * |x| ** (1/3).
  r = ctx.binary("power", ctx.unary("abs", x), ctx.full(1 / 3, x.aval.shape, x.aval.dtype))
  return ctx.binary("multiply", ctx.unary("sign", x), r)


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
ad.defjvp2(exp2_p, lambda t, ans, x: mul(log(_const(x, 2)), mul(t, ans)))
def _complex_magnitude(ctx, z, shape, rdt):
  """(re z, im z, m = max(|re|, |im|), n/m with n the min (0 where m is 0), where |z|
  is inf: a part infinite and none NaN, as XLA). |z| = m sqrt(1 + (n/m)**2) without
  the under/overflow of re**2 + im**2, which IREE's complex abs and log compute."""
  re, im = ctx.unary("real", z, rdt), ctx.unary("imag", z, rdt)
  a, b = ctx.unary("abs", re), ctx.unary("abs", im)
  m, n = ctx.binary("maximum", a, b), ctx.binary("minimum", a, b)
  c = lambda v: ctx.full(v, shape, rdt)  # noqa: E731
  inf = ctx.binary("or", ctx.compare("EQ", a, c(np.inf)), ctx.compare("EQ", b, c(np.inf)))
  inf = ctx.binary("and", inf, ctx.compare("EQ", m, m))
  ratio = ctx.select(ctx.compare("EQ", m, c(0)), c(0), ctx.binary("divide", n, m))
  return re, im, m, ratio, inf


def _abs_lower(ctx, x):
  dt = x.aval.dtype
  if dt.kind != "c":
    return mlir.elementwise("abs")(ctx, x)
  shape, rdt = ctx.aval_out.shape, ctx.aval_out.dtype
  _, _, m, ratio, inf = _complex_magnitude(ctx, x, shape, rdt)
  one = ctx.full(1, shape, rdt)
  mag = ctx.binary("multiply", m, ctx.unary(
      "sqrt", ctx.binary("add", one, ctx.binary("multiply", ratio, ratio))))
  return ctx.select(inf, ctx.full(np.inf, shape, rdt), mag)


def _complex_log(real_rule):
  """Complex log as log|z| + i atan2(im z, re z): IREE's complex log has a NaN phase
  where z is 0 or infinite (JAX: -inf + i(0, +-pi), inf + i(+-pi/4, ...))."""
  def rule(ctx, z):
    dt = ctx.aval_out.dtype
    if dt.kind != "c":
      return real_rule(ctx, z)
    shape, rdt = ctx.aval_out.shape, np.finfo(dt).dtype
    re, im, m, ratio, inf = _complex_magnitude(ctx, z, shape, rdt)
    # log|z| = log m + log1p((n/m)**2) / 2 (no overflow of |z| itself)
    c = lambda v: ctx.full(v, shape, rdt)  # noqa: E731
    lr = ctx.binary("add", ctx.unary("log", m), ctx.binary(
        "multiply", c(0.5), ctx.unary("log_plus_one", ctx.binary("multiply", ratio, ratio))))
    lr = ctx.select(inf, c(np.inf), lr)
    return ctx.op("stablehlo.complex", [lr, _atan2_hlo(ctx, im, re, shape, rdt)],
                  ShapedArray(shape, dt))
  return rule


def _np_log(x):
  """np.log, with XLA's complex log: log|z| NaN where a part is NaN (C99: inf for an
  infinite other part)."""
  r = np.log(x)
  if x.dtype.kind == "c":  # (np.where: 0-d inputs give NumPy scalars)
    nan = np.isnan(x.real) | np.isnan(x.imag)
    r = np.where(nan, np.nan + 1j * r.imag, r).astype(r.dtype)
  return r


log_p = unop("log", _xla_f32(_np_log, _log_f32, None, _XLA_EXACT_MAX_SIZE), _inexact, lower=_complex_log(_xla_f32_lower(_log_f32_hlo, mlir.elementwise("log"))))
ad.defjvp(log_p, lambda t, x: div(t, x))
log1p_p = unop("log1p", _xla_f32(np.log1p, _log1p_f32, _log1p_f64, _XLA_EXACT_MAX_SIZE), _inexact, lower=_keep_zero(_xla_f32_lower(_log1p_f32_hlo, mlir.elementwise("log_plus_one"))))
ad.defjvp(log1p_p, lambda t, x: div(t, add(x, _const(x, 1))))
expm1_p = unop("expm1", _f32_compute(np.expm1), _inexact, lower=_keep_zero(mlir.elementwise("exponential_minus_one", True)))
ad.defjvp2(expm1_p, lambda t, ans, x: mul(t, add(ans, _const(ans, 1))))
tanh_p = unop("tanh", _xla_f32(np.tanh, _tanh_f32, None, _XLA_EXACT_MAX_SIZE), _inexact, lower=mlir.elementwise("tanh", True))
ad.defjvp2(tanh_p, lambda t, ans, x: mul(add(t, mul(t, ans)), sub(_const(ans, 1), ans)))
logistic_p = unop("logistic", _xla_f32(_logistic, _logistic_f32, None, _XLA_EXACT_MAX_SIZE), _inexact, lower=mlir.elementwise("logistic", True))
ad.defjvp2(logistic_p, lambda t, ans, x: mul(t, mul(ans, sub(_const(ans, 1), ans))))
sin_p = unop("sin", _xla_f32(np.sin, _sin_f32, None, _XLA_EXACT_MAX_SIZE), _inexact, lower=_keep_zero(_trig_lower("sine")))
ad.defjvp(sin_p, lambda t, x: mul(t, cos(x)))
cos_p = unop("cos", _xla_f32(np.cos, _cos_f32, None, _XLA_EXACT_MAX_SIZE), _inexact, lower=_trig_lower("cosine"))
ad.defjvp(cos_p, lambda t, x: neg(mul(t, sin(x))))
tan_p = unop("tan", _xla_f32(np.tan, _tan_f32, None, _XLA_EXACT_MAX_SIZE), _inexact, lower=_keep_zero(_trig_lower("tan")))
ad.defjvp2(tan_p, lambda t, ans, x: mul(t, add(_const(x, 1), square(ans))))
asin_p = unop("asin", _f32_compute(np.arcsin), _inexact, lower=mlir.elementwise("chlo.asin", True))
ad.defjvp(asin_p, lambda t, x: mul(t, rsqrt(sub(_const(x, 1), square(x)))))
acos_p = unop("acos", _f32_compute(np.arccos), _inexact, lower=mlir.elementwise("chlo.acos", True))
ad.defjvp(acos_p, lambda t, x: mul(t, neg(rsqrt(sub(_const(x, 1), square(x))))))
atan_p = unop("atan", _f32_compute(np.arctan), _inexact, lower=mlir.elementwise("chlo.atan", True))
ad.defjvp(atan_p, lambda t, x: div(t, add(_const(x, 1), square(x))))
sinh_p = unop("sinh", _f32_compute(np.sinh), _inexact, lower=_keep_zero(mlir.elementwise("chlo.sinh", True)))
ad.defjvp(sinh_p, lambda t, x: mul(t, cosh(x)))
cosh_p = unop("cosh", _f32_compute(np.cosh), _inexact, lower=mlir.elementwise("chlo.cosh", True))
ad.defjvp(cosh_p, lambda t, x: mul(t, sinh(x)))
asinh_p = unop("asinh", _f32_compute(np.arcsinh), _inexact, lower=mlir.elementwise("chlo.asinh", True))
ad.defjvp(asinh_p, lambda t, x: mul(t, rsqrt(add(square(x), _const(x, 1)))))
acosh_p = unop("acosh", _f32_compute(np.arccosh), _inexact, lower=mlir.elementwise("chlo.acosh", True))
ad.defjvp(acosh_p, lambda t, x: mul(t, rsqrt(sub(square(x), _const(x, 1)))))
atanh_p = unop("atanh", _f32_compute(np.arctanh), _inexact, lower=_keep_zero(mlir.elementwise("chlo.atanh", True)))
ad.defjvp(atanh_p, lambda t, x: mul(reciprocal(add(_const(x, 1), x)),
                                     div(t, sub(_const(x, 1), x))))
sqrt_p = unop("sqrt", _f32_compute(np.sqrt), _inexact, lower=mlir.elementwise("sqrt", True))
ad.defjvp2(sqrt_p, lambda t, ans, x: mul(t, div(_const(x, 0.5), ans)))
rsqrt_p = unop("rsqrt", _f32_compute(_rsqrt), _inexact, lower=mlir.elementwise("rsqrt", True))
ad.defjvp2(rsqrt_p, lambda t, ans, x: mul(t, mul(_const(x, -0.5), div(ans, x))))
cbrt_p = unop("cbrt", _f32_compute(np.cbrt), _float, lower=_cbrt_lower)
ad.defjvp2(cbrt_p, lambda t, ans, x: mul(t, mul(_const(x, 1 / 3), integer_pow(ans, -2))))
not_p = unop("not", np.invert, _int_bool, lower=mlir.elementwise("not"))
ad.defjvp_zero(not_p)
population_count_p = unop("population_count", _popcount, _int, lower=mlir.elementwise("popcnt"))
ad.defjvp_zero(population_count_p)
clz_p = unop("clz", _clz, _int, lower=mlir.elementwise("count_leading_zeros"))
ad.defjvp_zero(clz_p)
conj_p = unop("conj", np.conjugate, _complex | {np.dtype(np.float32), np.dtype(np.float64)}, lambda dt: _complex_dtype(dt) if dt.kind == "f" else dt, lower=_conj_lower)
ad.deflinear(conj_p, lambda ct, x: [conj(ct) if x.aval.dtype.kind == "c" else real(ct)])
real_p = unop("real", np.real, _complex, _real_dtype, lower=mlir.elementwise("real"))
# (a strong NumPy zero, as JAX's: the cotangent of a weak complex input comes out strong)
ad.deflinear(real_p, lambda ct, x: [complex(ct, np.zeros((), ct.dtype))])
imag_p = unop("imag", np.imag, _complex, _real_dtype, lower=mlir.elementwise("imag"))
ad.deflinear(imag_p, lambda ct, x: [complex(np.zeros((), ct.dtype), neg(ct))])
def _np_abs(x):
  """np.abs, with XLA's complex abs: NaN where a part is NaN (C's hypot: inf for an
  infinite other part)."""
  r = np.abs(x)
  if x.dtype.kind == "c":  # (np.where: 0-d inputs give NumPy scalars)
    r = np.where(np.isnan(x.real) | np.isnan(x.imag), np.nan, r).astype(r.dtype)
  return r


abs_p = unop("abs", _np_abs, _sint | _inexact, _real_dtype, lower=_abs_lower)
def _abs_jvp(t, ans, x):
  """JAX's rule: t's sign flipped where x < 0 (so 1 at 0); complex, the real part of
  t * conj(x) / |x| (with |x| = 0 replaced by 1)."""
  if x.dtype.kind != "c":
    return select(ge(x, _const(x, 0)), t, neg(t))
  a = convert_element_type(ans, x.dtype)
  return real(mul(t, div(conj(x), select(eq(a, _const(a, 0)), full_like(a, 1), a))))


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
  ax = ctx.unary("abs", x)
  if dt.itemsize < 8:  # |x|^y, also for x >= 0; float32's exp(y log x) loses bits
    f64 = np.dtype(np.float64)
    mag = ctx.binary("power", ctx.convert(ax, f64), ctx.convert(y, f64))
    mag = ctx.convert(ctx.convert(mag, np.float32), dt)  # (f64 -> f16 flushes subnormals)
  else:
    mag = _pow_elementwise_lower(ctx, ax, y)
  integral = ctx.compare("EQ", ctx.unary("floor", y), y)
  # (|y mod 2| = 1: false for infinite y, whose remainder is NaN)
  odd = ctx.binary("and", integral, ctx.compare(
      "EQ", ctx.unary("abs", ctx.binary("remainder", y, full(2))), full(1)))
  negative = ctx.compare("LT", x, full(0))
  minus_zero = ctx.binary("and", ctx.compare("EQ", x, full(0)),
                          ctx.compare("LT", ctx.binary("divide", full(1), x), full(0)))
  sign_set = ctx.binary("or", negative, minus_zero)
  r = ctx.select(ctx.binary("and", odd, sign_set), ctx.unary("negate", mag), mag)
  finite_neg = ctx.binary("and", negative, ctx.compare("NE", x, full(-np.inf)))
  r = ctx.select(ctx.binary("and", finite_neg, ctx.unary("not", integral)), full(np.nan), r)
  # pow(x, 0) = pow(1, y) = pow(-1, +-inf) = 1
  one = ctx.binary("or", ctx.compare("EQ", y, full(0)), ctx.compare("EQ", x, full(1)))
  one = ctx.binary("or", one, ctx.binary("and", ctx.compare("EQ", x, full(-1)),
                                         ctx.compare("EQ", ctx.unary("abs", y), full(np.inf))))
  return ctx.select(one, full(1), r)


_pow_elementwise_lower = mlir.elementwise("power")
pow_p = binop("pow", _np_pow, _inexact, lower=_pow_lower, check=_pow_check)
def _replace_zero(x):
  return select(eq(x, _const(x, 0)), full_like(x, 1), x)


def _pow_jvp_lhs(t, ans, x, y):
  """JAX's rule: x and y in their result dtype (strongly typed); y * x ** (y - 1), and 0
  where an integer y is 0."""
  y_int = y.dtype.kind in "iub"
  dt = dtypes.result_type(x, y)
  dt = np.dtype(np.int32) if dt == np.bool_ else dt
  x, y = convert_element_type(x, dt), convert_element_type(y, dt)
  if not y_int:
    return mul(t, mul(y, pow(x, sub(y, full_like(y, 1)))))
  shape = np.broadcast_shapes(x.shape, y.shape)
  x, y = _brcast_to(x, shape), _brcast_to(y, shape)
  return mul(t, select(eq(y, _const(y, 0)), _zeros(y),
                       mul(_replace_zero(y), pow(x, sub(y, full_like(y, 1))))))


def _pow_jvp_rhs(t, ans, x, y):
  """JAX's rule: t * log(x) * x ** y (log(1) where x is 0), in y's dtype, strongly typed."""
  return convert_element_type(mul(t, mul(log(_replace_zero(x)), ans)), y.dtype)


ad.defjvp2(pow_p, _pow_jvp_lhs, _pow_jvp_rhs)
def _complex_first(x, y, gt):
  """Where XLA's complex max (``gt``) / min takes ``x``: ``x`` strictly beyond ``y`` in
  lexicographic (real, imaginary) order, every comparison with a NaN false (so a NaN
  operand is not propagated as NumPy's maximum does)."""
  c = np.greater if gt else np.less
  return c(x.real, y.real) | ((x.real == y.real) & c(x.imag, y.imag))


def _minmax_np(npfn, gt):
  def f(x, y):
    if x.dtype.kind != "c":
      return npfn(x, y)
    with np.errstate(invalid="ignore"):
      return np.where(_complex_first(x, y, gt), x, y)
  return f


def _minmax_lower(name, bool_name, direction):
  """``stablehlo.maximum``/``minimum``; complex operands by hand (IREE compares only
  their real parts), as XLA does (``_complex_first``)."""
  plain = mlir.elementwise(name, bool_name=bool_name)

  def rule(ctx, x, y):
    out = ctx.aval_out
    if out.dtype.kind != "c":
      return plain(ctx, x, y)
    x, y = ctx.broadcast(x, out.shape), ctx.broadcast(y, out.shape)
    rdt = np.dtype(np.float32 if out.dtype == np.complex64 else np.float64)
    xr, xi, yr, yi = [ctx.unary(p, v, rdt) for v in (x, y) for p in ("real", "imag")]
    first = ctx.binary("or", ctx.compare(direction, xr, yr), ctx.binary(
        "and", ctx.compare("EQ", xr, yr), ctx.compare(direction, xi, yi)))
    return ctx.select(first, x, y)
  return rule


max_p = binop("max", _minmax_np(np.maximum, True), _any,
              lower=_minmax_lower("maximum", "or", "GT"))
ad.defjvp2(max_p, lambda t, ans, x, y: mul(t, _balanced_eq(x, ans, y)),
           lambda t, ans, x, y: mul(t, _balanced_eq(y, ans, x)))
min_p = binop("min", _minmax_np(np.minimum, False), _any,
              lower=_minmax_lower("minimum", "and", "LT"))
ad.defjvp2(min_p, lambda t, ans, x, y: mul(t, _balanced_eq(x, ans, y)),
           lambda t, ans, x, y: mul(t, _balanced_eq(y, ans, x)))
nextafter_p = binop("nextafter", _nextafter, _float, lower=mlir.elementwise("chlo.next_after"))
def _atan2_lower(ctx, x, y):
  """IREE's atan2 gives NaN where both operands are zero or both infinite: those and the
  other axis cases get C's answers, with the signs of zero of both operands."""
  dt = ctx.aval_out.dtype
  if dt.kind == "c":
    return mlir.elementwise("atan2")(ctx, x, y)
  return _atan2_hlo(ctx, x, y, ctx.aval_out.shape, dt)


def _atan2_hlo(ctx, x, y, shape, dt):
  """Real atan2(x, y) of ``shape`` and ``dt`` (also complex log's imaginary part)."""
  cdt = np.dtype(np.float32) if dt.itemsize < 4 else dt
  x, y = (ctx.convert(ctx.broadcast(v, shape), cdt) for v in (x, y))
  c = lambda v: ctx.full(v, shape, cdt)  # noqa: E731
  idt = np.dtype(f"i{cdt.itemsize}")

  def negative(v):  # the sign bit, -0 and -NaN included
    bits = ctx.op("stablehlo.bitcast_convert", [v], v.aval.update(dtype=idt))
    return ctx.compare("LT", bits, ctx.full(0, shape, idt))

  r = ctx.op("stablehlo.atan2", [x, y], ShapedArray(shape, cdt))
  inf = c(np.inf)
  x_inf, y_inf = ctx.compare("EQ", ctx.unary("abs", x), inf), ctx.compare(
      "EQ", ctx.unary("abs", y), inf)
  x_zero = ctx.compare("EQ", x, c(0))
  y_neg, y_num = negative(y), ctx.compare("EQ", y, y)
  x_fin, y_fin = (ctx.compare("LT", ctx.unary("abs", v), inf) for v in (x, y))
  # x = 0, or y infinite and x finite: 0 or pi; both infinite: pi/4 or 3pi/4; x infinite
  # and y finite: pi/2; then x's sign.
  axis = ctx.binary("and", y_num, ctx.binary("or", x_zero, ctx.binary("and", y_inf, x_fin)))
  v = ctx.select(y_neg, c(np.pi), c(0))
  both = ctx.binary("and", x_inf, y_inf)
  v = ctx.select(both, ctx.select(y_neg, c(3 * np.pi / 4), c(np.pi / 4)), v)
  v = ctx.select(ctx.binary("and", x_inf, y_fin), c(np.pi / 2), v)
  v = ctx.select(negative(x), ctx.unary("negate", v), v)
  special = ctx.binary("or", axis, ctx.binary("and", x_inf, y_num))
  # The result has x's sign (IREE's loses it when x / y underflows: atan2(-1, -huge)).
  ar = ctx.unary("abs", r)
  r = ctx.select(negative(x), ctx.unary("negate", ar), ar)
  return ctx.convert(ctx.select(special, v, r), dt)


atan2_p = binop("atan2", _atan2, _inexact, lower=_atan2_lower)
ad.defjvp(atan2_p, lambda t, x, y: mul(t, div(y, add(square(x), square(y)))),
          lambda t, x, y: mul(t, div(neg(x), add(square(x), square(y)))))
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
round_p.sharding_rule = same_sharding_rule
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
  if y < 0 and v.dtype.kind in "iu":  # (the message shows a weak operand as JAX's: ~)
    _integer_pow_abstract(ShapedArray(v.shape, v.dtype, x.weak_type), y=y)
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
integer_pow_p.sharding_rule = same_sharding_rule
def _integer_pow_jvp(t, x, *, y):
  """JAX's rule (y = 1 and 2 without a power)."""
  if y == 0:
    return _zeros(t)
  if y == 1:
    return t
  if y == 2:
    return mul(t, mul(_const(x, y), x))
  return mul(t, mul(_const(x, y), integer_pow(x, y - 1)))


ad.defjvp(integer_pow_p, _integer_pow_jvp)


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
  if y > 0:
    return acc
  one = ctx.full(1, x.aval.shape, x.aval.dtype)
  if x.aval.dtype.kind == "c":  # XLA's complex division (1 / 0 is inf + nan i)
    return _complex_div_lower(ctx, one, acc)
  return ctx.binary("divide", one, acc)


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


def _select_n_sharding_rule(which, *cases):
  """JAX's: the cases share one sharding; ``which`` is a scalar or shares it too."""
  shs = [c.sharding for c in cases if c.sharding is not None]
  first = shs[0] if shs else None
  if any(s != first for s in shs[1:]):
    raise ShardingTypeError(f"select cases must have the same shardings, got "
                            f"[{', '.join(_sharding_str(c) for c in cases)}].")
  if which.shape and which.sharding != first:
    raise ShardingTypeError(
        f"select `which` must be scalar or have the same sharding as cases, got `which` "
        f"sharding {_sharding_str(which)} but case sharding {_sharding_str(cases[0])}.")
  return first


def _sharding_str(aval):
  s = aval.sharding
  return str(s) if s is not None else f"P({', '.join(['None'] * len(aval.shape))})"


select_n_p.sharding_rule = _select_n_sharding_rule
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
clamp_p.sharding_rule = lambda lo, x, hi: broadcasting_sharding_rule("clamp", lo, x, hi)
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


# ---------------------------------------------------------------- shape primitives


def _canon_shape(shape, what="shape", op="broadcast_in_dim") -> tuple:
  out = core.canonicalize_shape(shape)  # JAX's TypeError for a traced or float dimension
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
  out = np.broadcast_to(v.reshape(expanded), shape)  # a view: takes no memory yet
  check_allocation(out.nbytes)
  return ArrayImpl(out, x.weak_type)


broadcast_in_dim_p.def_impl(_broadcast_in_dim_impl)
broadcast_in_dim_p.def_abstract_eval(
    lambda x, *, shape, broadcast_dimensions, sharding=None: typed(
        _broadcast_in_dim_check(x, shape, broadcast_dimensions), sharding))


def _broadcast_in_dim_sharding_rule(x, *, shape, broadcast_dimensions, sharding=None):
  """JAX's: the operand's dimensions keep their sharding, new ones are replicated."""
  if sharding is not None:
    return param_sharding(sharding, len(shape))
  parts = [None] * len(shape)
  for p, d in zip(spec_of(x), broadcast_dimensions):
    parts[d] = p
  return make_sharding(x.sharding.mesh, parts)


broadcast_in_dim_p.sharding_rule = _broadcast_in_dim_sharding_rule
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
  # (NumPy integers, as JAX's rule computes them: its jaxprs print np.int64(2))
  bdims = (0,) + tuple(np.add(1, np.asarray(broadcast_dimensions, np.int64)))
  return broadcast_in_dim_p.bind(x, shape=(size, *shape), broadcast_dimensions=bdims,
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
reshape_p.def_abstract_eval(
    lambda x, *, new_sizes, dimensions=None, sharding=None: typed(
        _reshape_check(x, new_sizes=new_sizes, dimensions=dimensions), sharding))


class _ReshapeError(Exception):
  pass


def _reshape_error(x, new_sizes):
  return ShardingTypeError(
      f"This reshape is not supported. Please specify the sharding of the output via "
      f"the `out_sharding` argument of jax.lax.reshape. Got operand type: "
      f"{x.str_short(short_dtypes=False)}, new sizes: {tuple(new_sizes)}")


def _split_on_one_axis(op_shape, new_sizes):
  """JAX's: does ``new_sizes`` split exactly one of ``op_shape``'s dimensions? Then
  (True, per operand dimension its size or the list of sizes it splits into)."""
  if len(new_sizes) <= len(op_shape):
    return False, []
  orig = op_shape
  ones = 0
  while op_shape[-1] == 1 and new_sizes[-1] == 1:
    ones += 1
    op_shape, new_sizes = op_shape[:-1], new_sizes[:-1]
  i, j, count, out = 0, 0, 0, []
  while j < len(new_sizes):
    if op_shape[i] == new_sizes[j]:
      out.append(op_shape[i])
    else:
      count += 1
      if count > 1:
        raise _ReshapeError()
      temp = [new_sizes[j]]
      next_j, next_i = j + 1, i + 1
      while (math.prod(temp) != op_shape[i] or
             (next_j < len(new_sizes) and new_sizes[next_j] == 1)):
        if math.prod(temp) > op_shape[i]:
          return False, []
        if (math.prod(temp) == op_shape[i] and next_i < len(op_shape) and
            new_sizes[next_j] == op_shape[next_i]):
          break
        j += 1
        if j >= len(new_sizes):
          return False, []
        temp.append(new_sizes[j])
        next_j += 1
      out.append(temp)
    i += 1
    j += 1
  out.extend([1] * ones)
  if len(out) != len(orig):
    return False, []
  return True, out


def _split_partitions(mesh, axes, sizes, x, new_sizes):
  it = iter(axes)
  parts = []
  for o in sizes:
    dim = []
    while o > 1:
      a = next(it, None)
      if a is None:
        break
      o, r = divmod(o, mesh.shape[a])
      if r:
        raise _reshape_error(x, new_sizes)
      dim.append(a)
    parts.append(tuple(dim))
  return parts


def _reshape_sharding_rule(x, *, new_sizes, dimensions=None, sharding=None):
  """JAX's: a sharded dimension may be split (its axes go to the leading pieces) or
  merged with others (when the sharded one leads); other reshapes of sharded
  dimensions need ``out_sharding``."""
  if sharding is not None:
    return param_sharding(sharding, len(new_sizes))
  mesh, spec = x.sharding.mesh, spec_of(x)
  new_sizes = tuple(new_sizes)
  if [s for s in x.shape if s != 1] == [s for s in new_sizes if s != 1]:
    fs = iter(p for n, p in zip(x.shape, spec) if n != 1)
    return make_sharding(mesh, [None if n == 1 else next(fs) for n in new_sizes])
  try:
    is_split, out_split = _split_on_one_axis(x.shape, new_sizes)
    if not is_split:
      is_merge, op_merge = ((False, []) if len(new_sizes) >= len(x.shape) else
                            _split_on_one_axis(new_sizes, x.shape))
  except _ReshapeError:
    raise _reshape_error(x, new_sizes) from None
  parts = []
  if is_split:
    for o, p in zip(out_split, spec):
      if not isinstance(o, list):
        parts.append(p)
      elif p is None:
        parts.extend([None] * len(o))
      elif dimensions is None:
        parts.extend(_split_partitions(mesh, spec_axes(p), o, x, new_sizes))
      else:
        raise _reshape_error(x, new_sizes)
    return make_sharding(mesh, parts)
  if is_merge:
    it = iter(spec)
    for n, m in zip(new_sizes, op_merge):
      if not isinstance(m, list):
        parts.append(next(it))
        continue
      tup = [next(it) for _ in m]
      if all(t is None for t in tup):
        parts.append(None)
        continue
      if dimensions is not None:
        raise _reshape_error(x, new_sizes)
      flat = [a for t in tup for a in (spec_axes(t) if t is not None else (None,))]
      while flat[-1] is None:
        flat.pop()
      if None in flat:
        raise _reshape_error(x, new_sizes)
      parts.extend(_split_partitions(mesh, flat, [n], x, new_sizes))
    return make_sharding(mesh, parts)
  raise _reshape_error(x, new_sizes)


reshape_p.sharding_rule = _reshape_sharding_rule
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
transpose_p.sharding_rule = lambda x, *, permutation: make_sharding(
    x.sharding.mesh, [spec_of(x)[i] for i in permutation])
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
squeeze_p.sharding_rule = lambda x, *, dimensions: make_sharding(
    x.sharding.mesh, [p for i, p in enumerate(spec_of(x)) if i not in dimensions])
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
rev_p.sharding_rule = same_sharding_rule
ad.deflinear(rev_p, lambda ct, x, *, dimensions: [rev_p.bind(ct, dimensions=dimensions)])
def _rev_lower(ctx, x, *, dimensions):
  dt = x.aval.dtype
  attrs = f"dimensions = {mlir._i64_array(dimensions)}"
  if dt.kind != "u":
    return ctx.op("stablehlo.reverse", [x], x.aval, attrs)
  # IREE cannot compile a reverse of unsigned integers: reverse their signed bits
  s = ctx.op("stablehlo.bitcast_convert", [x], x.aval.update(dtype=np.dtype(f"i{dt.itemsize}")))
  s = ctx.op("stablehlo.reverse", [s], s.aval, attrs)
  return ctx.op("stablehlo.bitcast_convert", [s], x.aval)


rev_p.lower = _rev_lower


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
  check_allocation(math.prod(shape) * np.dtype(dtype).itemsize)
  r = np.arange(shape[dimension], dtype=dtype)
  bshape = [1] * len(shape)
  bshape[dimension] = shape[dimension]
  return ArrayImpl(np.broadcast_to(r.reshape(bshape), shape), False)


iota_p.def_impl(_iota_impl)
iota_p.def_abstract_eval(lambda *, dtype, shape, dimension, sharding=None: typed(
    _iota_check(dtype=dtype, shape=shape, dimension=dimension), sharding))
iota_p.lower = lambda ctx, *, dtype, shape, dimension, sharding=None: ctx.op(
    "stablehlo.iota", [], ctx.aval_out, f"iota_dimension = {dimension} : i64")
iota_p.batch = lambda vals, dims, **params: (iota_p.bind(**params), None)  # no operands


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

  def sharding_rule(x, *, axes, out_sharding=None):
    """JAX's: the reduced dimensions' shardings go; the others stay."""
    if out_sharding is not None:
      return param_sharding(out_sharding, x.ndim - len(axes))
    return make_sharding(x.sharding.mesh,
                         [p for i, p in enumerate(spec_of(x)) if i not in axes])

  def impl(x, *, axes, out_sharding=None):
    _reduce_check(name, accepted, x.aval, axes)
    v = x._value
    out = npfn(v, axis=axes) if axes else v
    return ArrayImpl(np.asarray(out, v.dtype) if v.ndim > len(axes) else
                     np.asarray(out, v.dtype)[()], x.weak_type)

  p.def_impl(impl)
  p.def_abstract_eval(abstract_eval)
  p.sharding_rule = sharding_rule
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
# Float sums go as a tree (``_np_tree_reduce``), half floats in float32, as XLA's.
def _np_sum(v, axis):
  if v.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
    return _np_tree_reduce(np.add, v.astype(np.float32), axis).astype(v.dtype)
  if v.size > mlir.TREE_BLOCK and v.dtype.kind in "fc":
    return _np_tree_reduce(np.add, v, axis)
  return np.add.reduce(v, axis=axis, dtype=v.dtype)


reduce_sum_p = reduction("reduce_sum", _np_sum, _number, has_sharding=True,
                         lower=mlir.monoid_reduce("add"))
ad.deflinear(reduce_sum_p, lambda ct, x, *, axes, out_sharding=None: [broadcast_in_dim_p.bind(
    ct, shape=tuple(x.aval.shape),
    broadcast_dimensions=tuple(i for i in range(x.aval.ndim) if i not in axes),
    sharding=x.aval.sharding)])  # the cotangent is split as the operand (JAX's)
# stop_gradient: the identity whose tangent is zero.
stop_gradient_p = Primitive("stop_gradient")
stop_gradient_p.def_impl(lambda x: x)
stop_gradient_p.def_abstract_eval(lambda x: x)
stop_gradient_p.sharding_rule = same_sharding_rule
ad.defjvp_zero(stop_gradient_p)
stop_gradient_p.batch = lambda vals, dims: (stop_gradient_p.bind(vals[0]), dims[0])
stop_gradient_p.lower = lambda ctx, x: x
# ================================================================ lax API functions


def _bind2(p):
  def fn(x, y):
    if type(x) is not ArrayImpl or type(y) is not ArrayImpl:
      x, y = _args2(x, y)
    return p.bind(x, y)  # (size-1 dimensions broadcast in the primitive, as JAX's)
  fn.__name__ = p.name
  return fn


def _unary_accuracy_api(p):
  """A unary lax function taking JAX's ``accuracy=`` (a Tolerance or AccuracyMode). pyjax
  checks it and computes with its one kernel (XLA's CPU backend picks another log
  for some accuracies)."""
  bind = p.bind

  def fn(x, *, accuracy=None):
    if accuracy is not None and not isinstance(accuracy, (Tolerance, AccuracyMode)):
      raise NotImplementedError(f"Accuracy {accuracy} not supported")
    if type(x) is not ArrayImpl and not isinstance(x, Tracer):
      x = _to_array(x)
    return bind(x)
  fn.__name__ = p.name
  return fn


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
exp = _unary_accuracy_api(exp_p)
exp2 = _unary_accuracy_api(exp2_p)
log = _unary_accuracy_api(log_p)
log1p = _unary_accuracy_api(log1p_p)
expm1 = _unary_accuracy_api(expm1_p)
tanh = _unary_accuracy_api(tanh_p)
logistic = _unary_accuracy_api(logistic_p)
sin = _unary_accuracy_api(sin_p)
cos = _unary_accuracy_api(cos_p)
tan = _unary_accuracy_api(tan_p)
asin = _unary_api(asin_p)
acos = _unary_api(acos_p)
atan = _unary_api(atan_p)
sinh = _unary_api(sinh_p)
cosh = _unary_api(cosh_p)
asinh = _unary_api(asinh_p)
acosh = _unary_api(acosh_p)
atanh = _unary_api(atanh_p)
sqrt = _unary_accuracy_api(sqrt_p)
rsqrt = _unary_accuracy_api(rsqrt_p)
cbrt = _unary_accuracy_api(cbrt_p)
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


def stop_gradient(x):
  """Returns ``x`` with a zero derivative (applied to every inexact leaf of a pytree)."""
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


def _const(like, val):
  """A weak scalar of ``like``'s dtype."""
  return ArrayImpl(np.asarray(val, like.dtype)[()], True)


def full(shape, fill_value, dtype=None, *, sharding=None):
  shape = _canon_shape(shape)
  weak = dtype is None and dtypes.is_weakly_typed(fill_value)  # JAX's: a Python scalar
  if dtype is None:
    dtype = dtypes.dtype(fill_value)
  dt = dtypes.canonicalize_dtype(dtype)
  fv = _convert_element_type(fill_value, dt, weak)
  if getattr(fv, "ndim", 0) != 0:
    raise TypeError(f"full must be called with scalar fill_value, got fill_value.shape "
                    f"{np.shape(fill_value)}.")
  sharding = canon_out_sharding(sharding, "sharding")
  if sharding is not None:
    return broadcast_in_dim_p.bind(_to_array(fv), shape=shape, broadcast_dimensions=(),
                                   sharding=sharding)
  return broadcast(fv, shape)


def broadcast_in_dim(operand, shape, broadcast_dimensions, *, out_sharding=None):
  operand = _to_array(operand)
  shape = _canon_shape(shape)
  # (NumPy integers kept as given: JAX's jaxprs print them so, e.g. vmap's np.int64(1))
  broadcast_dimensions = tuple(d if isinstance(d, np.integer) else int(d)
                               for d in broadcast_dimensions)
  out_sharding = canon_out_sharding(out_sharding)
  if (operand.shape == shape and broadcast_dimensions == tuple(range(len(shape))) and
      out_sharding is None):
    return operand
  return broadcast_in_dim_p.bind(operand, shape=shape,
                                 broadcast_dimensions=broadcast_dimensions,
                                 sharding=out_sharding)


def broadcast(operand, sizes, *, out_sharding=None):
  operand = _to_array(operand)
  sizes = tuple(sizes)
  nd = operand.ndim
  return broadcast_in_dim(operand, sizes + tuple(operand.shape),
                          tuple(range(len(sizes), len(sizes) + nd)),
                          out_sharding=out_sharding)


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
  out_sharding = canon_out_sharding(out_sharding)
  if operand.shape == new_sizes and dimensions is None and out_sharding is None:
    return operand
  return reshape_p.bind(operand, new_sizes=new_sizes, dimensions=dimensions,
                        sharding=out_sharding)


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
    raise np.exceptions.AxisError(axis, ndim)  # a ValueError and an IndexError, as NumPy's
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
                     dimension=int(dimension), sharding=canon_out_sharding(out_sharding))


def _reduce_api(p, name):
  def fn(operand, axes):
    operand = _to_array(operand)
    axes = tuple(sorted(operator.index(a) for a in axes))  # negative: JAX's error
    return p.bind(operand, axes=axes)
  fn.__name__ = name
  return fn


def reduce_sum(operand, axes, *, out_sharding=None):
  operand = _to_array(operand)
  axes = tuple(sorted(operator.index(a) for a in axes))  # negative: JAX's error
  return reduce_sum_p.bind(operand, axes=axes,
                           out_sharding=canon_out_sharding(out_sharding))


def zeros_like_array(x):
  x = _to_array(x)
  return full(x.shape, 0, x.dtype)


def full_like(x, fill_value, dtype=None, shape=None, sharding=None):
  x = _to_array(x)
  dt = x.dtype if dtype is None else dtype
  weak = dtype is None and x.weak_type
  shape = x.shape if shape is None else shape
  fv = _convert_element_type(fill_value, dt, weak)
  if sharding is None and tuple(shape) == x.shape and x.aval.sharding is not None:
    sharding = x.aval.sharding  # JAX's: like x, split as x
  sharding = canon_out_sharding(sharding, "sharding")
  if sharding is not None:
    return broadcast_in_dim_p.bind(_to_array(fv), shape=tuple(shape),
                                   broadcast_dimensions=(), sharding=sharding)
  return broadcast(fv, tuple(shape))


# ================================================================ more of jax.lax's names
# mulhi, the total-order comparisons, copy/stage (identities), optimization_barrier,
# dce_sink, empty and the small shape helpers (collapse, broadcast_like,
# broadcast_shapes, batch_matmul lives in dot.py).


def _mulhi_np(x, y):
  dt = x.dtype
  bits = dt.itemsize * 8
  if bits < 64:
    wide = np.dtype(f"{'i' if dt.kind == 'i' else 'u'}{bits * 2 // 8}")
    return ((x.astype(wide) * y.astype(wide)) >> bits).astype(dt)
  x, y = np.broadcast_arrays(x, y)
  prod = (x.astype(object) * y.astype(object)) >> 64  # exact 128-bit product
  return np.asarray(prod, dtype=object).astype(dt).reshape(x.shape)


def _mulhi_lax(x, y):
  """JAX's mulhi written with lax operations (its lowering for jaxlibs without
  chlo.mulhi): a double-width product, or four 32-bit partial products for 64 bits."""
  dt = x.dtype
  bits = dt.itemsize * 8
  signed = dt.kind == "i"
  if bits < 64:
    wide = np.dtype(f"{'i' if signed else 'u'}{bits * 2 // 8}")
    prod = mul(convert_element_type(x, wide), convert_element_type(y, wide))
    sh = shift_right_arithmetic if signed else shift_right_logical
    return convert_element_type(sh(prod, _const(prod, bits)), dt)
  u64 = np.dtype(np.uint64)
  xu, yu = convert_element_type(x, u64), convert_element_type(y, u64)
  mask, c32 = _const(xu, np.uint64(0xFFFFFFFF)), _const(xu, 32)
  x_lo, x_hi = bitwise_and(xu, mask), shift_right_logical(xu, c32)
  y_lo, y_hi = bitwise_and(yu, mask), shift_right_logical(yu, c32)
  lo_lo, lo_hi, hi_lo, hi_hi = mul(x_lo, y_lo), mul(x_lo, y_hi), mul(x_hi, y_lo), mul(x_hi, y_hi)
  cross = add(add(bitwise_and(lo_hi, mask), bitwise_and(hi_lo, mask)),
              shift_right_logical(lo_lo, c32))
  hi = add(hi_hi, add(shift_right_logical(lo_hi, c32),
                      add(shift_right_logical(hi_lo, c32), shift_right_logical(cross, c32))))
  hi = convert_element_type(hi, dt)
  if signed:
    c63 = _const(x, 63)
    hi = add(hi, add(mul(shift_right_arithmetic(x, c63), y),
                     mul(shift_right_arithmetic(y, c63), x)))
  return hi


def _mulhi_lower(ctx, x, y):
  dt = x.aval.dtype
  bits = dt.itemsize * 8
  if bits == 64:
    return mlir.lower_fun(_mulhi_lax)(ctx, x, y)
  # (in HLO: lax would canonicalize the double-width type away with x64 off)
  wide = np.dtype(f"{'i' if dt.kind == 'i' else 'u'}{bits * 2 // 8}")
  prod = ctx.binary("multiply", ctx.convert(x, wide), ctx.convert(y, wide))
  shift = "shift_right_arithmetic" if dt.kind == "i" else "shift_right_logical"
  return ctx.convert(ctx.binary(shift, prod, ctx.full(bits, (), wide)), dt)


mulhi_p = binop("mulhi", _mulhi_np, _int, lower=_mulhi_lower)
ad.defjvp_zero(mulhi_p)
mulhi = _bind2(mulhi_p)


def _total_order_key_np(v):
  """Signed integers ordered as XLA's TOTALORDER orders ``v``'s floats (-NaN < -inf <
  ... < -0 < +0 < ... < inf < NaN); other dtypes unchanged."""
  if v.dtype.kind != "f" and v.dtype != dtypes.bfloat16:
    return v
  it = np.dtype(f"i{v.dtype.itemsize}")
  i = v.view(it)
  return i ^ ((i >> (8 * v.dtype.itemsize - 1)) & np.iinfo(it).max).astype(it)


def _total_order_key_hlo(ctx, v):
  dt = v.aval.dtype
  if dt.kind != "f" and dt != dtypes.bfloat16:
    return v
  it = np.dtype(f"i{dt.itemsize}")
  i = ctx.op("stablehlo.bitcast_convert", [v], v.aval.update(dtype=it))
  sign = ctx.binary("shift_right_arithmetic", i, ctx.full(8 * dt.itemsize - 1, (), it))
  return ctx.binary("xor", i, ctx.binary("and", sign, ctx.full(np.iinfo(it).max, (), it)))


def _total_order_np(npfn):
  def fn(x, y):
    if x.dtype.kind == "c":
      kx = [_total_order_key_np(np.ascontiguousarray(p)) for p in (x.real, x.imag)]
      ky = [_total_order_key_np(np.ascontiguousarray(p)) for p in (y.real, y.imag)]
      return np.asarray(npfn(kx[0], ky[0]) & npfn(kx[1], ky[1]))
    return np.asarray(npfn(_total_order_key_np(x), _total_order_key_np(y)))
  return fn


def _total_order_lower(direction):
  def rule(ctx, x, y):
    if x.aval.dtype.kind == "c":
      rdt = _real_dtype(x.aval.dtype)
      parts = [ctx.compare(direction,
                           _total_order_key_hlo(ctx, ctx.unary(k, x, rdt)),
                           _total_order_key_hlo(ctx, ctx.unary(k, y, rdt)))
               for k in ("real", "imag")]
      return ctx.binary("and", *parts)
    return ctx.compare(direction, _total_order_key_hlo(ctx, x), _total_order_key_hlo(ctx, y))
  return rule


# eq_to / le_to / lt_to: comparisons in XLA's total order (-0.0 < 0.0, NaNs ordered).
eq_to_p = binop("eq_to", _total_order_np(np.equal), _any, _bool_result,
                lower=_total_order_lower("EQ"))
le_to_p = binop("le_to", _total_order_np(np.less_equal), _ordered, _bool_result,
                lower=_total_order_lower("LE"))
lt_to_p = binop("lt_to", _total_order_np(np.less), _ordered, _bool_result,
                lower=_total_order_lower("LT"))
for _p in (eq_to_p, le_to_p, lt_to_p):
  ad.defjvp_zero(_p)


def _identity_primitive(name):
  """A linear identity (copy_p, stage_p): every rule passes its operand through."""
  p = Primitive(name)
  p.def_impl(lambda x: ArrayImpl(np.array(x._value, copy=True), x.weak_type))
  p.def_abstract_eval(lambda x: x)
  p.sharding_rule = same_sharding_rule
  ad.deflinear(p, lambda ct, x: [None if type(ct) is ad.Zero else p.bind(ct)])
  p.batch = lambda vals, dims: (p.bind(vals[0]), dims[0])
  p.lower = lambda ctx, x: x
  return p


copy_p = _identity_primitive("copy")
stage_p = _identity_primitive("stage")


def stage(x, /):
  """Lifts a value into the current trace: the identity (JAX folds its stage_p away
  for constants and its own trace's tracers, so no equation is staged)."""
  return x if isinstance(x, Tracer) else _to_array(x)


optimization_barrier_p = Primitive("optimization_barrier")
optimization_barrier_p.multiple_results = True
optimization_barrier_p.def_impl(lambda *xs: list(xs))
optimization_barrier_p.def_abstract_eval(lambda *xs: list(xs))
optimization_barrier_p.sharding_rule = lambda *xs: [x.sharding for x in xs]


def _optimization_barrier_jvp(primals, tangents):
  # two barriers (JAX: optimization_barrier(primals), optimization_barrier(tangents)),
  # so that linearize keeps the primal one known
  tangents = [ad.instantiate(t) for t in tangents]
  return (optimization_barrier_p.bind(*primals), optimization_barrier_p.bind(*tangents))


def _optimization_barrier_transpose(cts, *xs):
  cts = [ad.zeros_like_aval(x.aval) if c is None or type(c) is ad.Zero else c
         for c, x in zip(cts, xs)]
  return optimization_barrier_p.bind(*cts)


optimization_barrier_p.jvp = _optimization_barrier_jvp
optimization_barrier_p.transpose = _optimization_barrier_transpose
optimization_barrier_p.batch = lambda vals, dims: (optimization_barrier_p.bind(*vals),
                                                   list(dims))
optimization_barrier_p.lower = lambda ctx, *xs: ctx.op(
    "stablehlo.optimization_barrier", xs, [x.aval for x in xs]) if xs else []


def optimization_barrier(operand, /):
  """Prevents the compiler from moving operations across the barrier (a pytree in, the
  same pytree out)."""
  flat, tree = tree_util.tree_flatten(operand)
  flat = [_to_array(x) for x in flat]
  return tree_util.tree_unflatten(tree, optimization_barrier_p.bind(*flat))


dce_sink_p = Primitive("dce_sink")
dce_sink_p.multiple_results = True
dce_sink_p.def_impl(lambda x, **_: [])
dce_sink_p.def_abstract_eval(lambda x, **_: [])
dce_sink_p.jvp = lambda primals, tangents, **params: (dce_sink_p.bind(*primals, **params), [])
dce_sink_p.transpose = lambda cts, x, **_: [None]
dce_sink_p.batch = lambda vals, dims, **params: (dce_sink_p.bind(*vals, **params), [])
dce_sink_p.lower = lambda ctx, x, **_: []


def dce_sink(val, *, prevent_mlir_dce=False):
  """Binds ``dce_sink`` on every leaf of ``val`` (a use that no output needs)."""
  for x in tree_util.tree_leaves(val):
    dce_sink_p.bind(_to_array(x), prevent_mlir_dce=prevent_mlir_dce)


def empty(shape, dtype, *, out_sharding=None):
  """An array of ``shape`` and ``dtype`` whose values are unspecified (zeros here, as
  XLA's CPU backend gives)."""
  return full(shape, 0, dtype, sharding=out_sharding)


def collapse(operand, start_dimension, stop_dimension=None):
  operand = _to_array(operand)
  lo, hi, _ = builtins.slice(start_dimension, stop_dimension).indices(operand.ndim)
  if hi < lo:
    raise ValueError(f"Invalid dimension range passed to collapse: {operand.shape}"
                     f"[{start_dimension}:{stop_dimension}]")
  size = math.prod(operand.shape[lo:hi])
  return reshape(operand, operand.shape[:lo] + (size,) + operand.shape[hi:])


def broadcast_shapes(*shapes):
  """The NumPy broadcast of ``shapes`` (JAX's errors)."""
  if not shapes:
    raise TypeError("broadcast_shapes() requires at least one positional argument")
  shapes = [tuple(operator.index(d) for d in s) if isinstance(s, (tuple, list)) else s
            for s in shapes]
  for s in shapes:
    if not isinstance(s, tuple):
      raise TypeError(f"Shapes must be tuples of integers, got {shapes}.")
  fst, *rst = shapes
  if not rst:
    return fst
  ndim = builtins.max(len(s) for s in shapes)
  padded = [(1,) * (ndim - len(s)) + s for s in shapes]
  out = []
  for ds in zip(*padded):
    big = {d for d in ds if d != 1}
    if len(big) > 1:
      raise ValueError(f"Incompatible shapes for broadcasting: shapes={list(shapes)}")
    out.append(big.pop() if big else 1)
  return tuple(out)


def broadcast_like(arr, like_arr):
  arr = _to_array(arr)
  shape = tuple(core.get_aval(like_arr).shape) if isinstance(like_arr, (Tracer, ArrayImpl)) \
      else np.shape(like_arr)
  shape = tuple(shape)
  if arr.shape == shape:
    return arr
  return broadcast_in_dim(arr, shape, tuple(range(len(shape) - arr.ndim, len(shape))))


def shape_as_value(shape):
  """``shape`` as an int array (JAX: int32, int64 where a dimension needs it)."""
  shape = tuple(shape)
  dt = np.int64 if builtins.any(d > np.iinfo(np.int32).max for d in shape) else np.int32
  if not shape:
    return full((0,), np.array(0, dtype=dt))
  return np.asarray(shape, dtype=dt)


class Tolerance:
  """Tolerances for computing unary functions: two at most of (atol, rtol) or (atol,
  ulps). pyjax accepts the ``accuracy=`` argument's types; its kernels are fixed."""

  def __init__(self, atol: float = 0.0, rtol: float = 0.0, ulps: int = 0):
    if atol < 0.0 or rtol < 0.0 or ulps < 0.0:
      raise ValueError('Tolerances must be non-negative.')
    if atol == 0.0 and rtol == 0.0 and ulps == 0:
      raise ValueError('At least one of atol, rtol, or ulps must be set.')
    self.atol = atol
    self.rtol = rtol
    self.ulps = ulps


class AccuracyMode(enum.Enum):
  HIGHEST = 1
  DEFAULT = 2


# Tokens (create_token, after_all): XLA tokens order side effects. pyjax has no token
# type: a token is an empty bool array (shape (0,)) that the identity-like primitives
# pass along; under jit it lowers to an empty constant.
_TOKEN_AVAL = ShapedArray((0,), np.dtype(np.bool_))


def _token():
  return ArrayImpl(np.zeros((0,), np.bool_), False)


create_token_p = Primitive("create_token")
create_token_p.def_impl(lambda *_: _token())
create_token_p.def_abstract_eval(lambda *_: _TOKEN_AVAL)
create_token_p.lower = lambda ctx, *_: ctx.constant(np.zeros((0,), np.bool_), _TOKEN_AVAL)
create_token_p.batch = lambda vals, dims: (create_token_p.bind(*vals), None)
ad.defjvp_zero(create_token_p)


def create_token(_=None):
  """A token with no preconditions for sequencing effects (experimental in JAX)."""
  return create_token_p.bind()


after_all_p = Primitive("after_all")
after_all_p.def_impl(lambda *_: _token())
after_all_p.def_abstract_eval(lambda *_: _TOKEN_AVAL)
after_all_p.lower = lambda ctx, *_: ctx.constant(np.zeros((0,), np.bool_), _TOKEN_AVAL)
after_all_p.batch = lambda vals, dims: (after_all_p.bind(*vals), None)
ad.defjvp_zero(after_all_p)


def after_all(*operands):
  """Merges tokens (experimental in JAX)."""
  return after_all_p.bind(*operands)


def padtype_to_pads(in_shape, window_shape, window_strides, padding):
  """Converts 'SAME' / 'SAME_LOWER' / 'VALID' to a list of (low, high) pad pairs."""
  if isinstance(padding, str):
    kind = padding.upper()
    if kind not in ("SAME", "SAME_LOWER", "VALID"):
      raise RuntimeError(f"Unrecognized padding type: expected 'VALID', 'SAME', or "
                         f"'SAME_LOWER', got {padding}.")
  else:
    kind = getattr(padding, "name", None)
    if kind not in ("SAME", "SAME_LOWER", "VALID"):
      raise TypeError(f"Unknown padding type: {padding}.")
  if kind == "VALID":
    return [(0, 0)] * len(in_shape)
  pads = []
  for d, k, s in zip(in_shape, window_shape, window_strides):
    d, k, s = int(d), int(k), int(s)
    size = builtins.max(0, (-(-d // s) - 1) * s + k - d)
    pads.append((size // 2, size - size // 2) if kind == "SAME" else
                (size - size // 2, size // 2))
  return pads


def _dilate_dim(d, r):
  return d if r == 1 else builtins.max(0, 1 + r * (d - 1))


def _dilate_shape(shape, dilation):
  if not all(d > 0 for d in dilation):
    raise TypeError(f"All dilations must be positive, got {tuple(dilation)}.")
  dilation = (1,) * (len(shape) - len(dilation)) + tuple(dilation)
  return tuple(map(_dilate_dim, shape, dilation))

"""XLA's CPU numerics for the eager path: NumPy functions giving the results XLA's CPU
backend gives (integer division by zero, shifts past the width, float32 exp/log/log1p/
tan/erf_inv from its own polynomials), with StableHLO twins of the polynomials so jit
gives the same numbers. No primitives: lax.py and special.py build theirs from these.
They reproduce XLA's CPU backend only."""
from __future__ import annotations

import ctypes
import ctypes.util
import math
import struct
from functools import partial

import numpy as np

from pyjax._src import dtypes
from pyjax._src.interpreters import lowering as mlir

def _int_div(x, y):
  """C-style (truncating) integer division; x / 0 gives -1 (all bits set) and
  INT_MIN / -1 gives INT_MIN, as XLA."""
  if x.dtype.kind == "b":
    return x  # only reached for bool / bool = x (divide by True)
  zero = y == 0
  bad = zero | ((x == np.iinfo(x.dtype).min) & (y == -1)) if x.dtype.kind == "i" else zero
  ysafe = np.where(bad, 1, y).astype(x.dtype)
  q = np.floor_divide(x, ysafe)
  if x.dtype.kind == "i":  # floor to truncation (no abs: |INT_MIN| overflows)
    q = np.where((q * ysafe != x) & ((x < 0) != (ysafe < 0)), q + 1, q).astype(x.dtype)
  return np.where(zero, np.array(-1).astype(x.dtype), q).astype(x.dtype)


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
  return np.where(x == 0, x, np.sign(x))  # sign(-0) is -0, as XLA


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


def _scipy_fixed(name, fix):
  """SciPy's ``name`` with XLA's answers where ``fix(x, r)`` says they differ."""
  sp = _scipy_special(name)
  return lambda x: fix(x, sp(x))


_lgamma = _scipy_fixed("gammaln", lambda x, r: np.where(x == -np.inf, np.inf, r))  # XLA
_digamma = _scipy_fixed("digamma", lambda x, r: np.where(x == 0, np.nan, r))  # XLA: NaN
_i1e = _scipy_fixed("i1e", lambda x, r: np.where(x == 0, x, r))  # i1e(-0) = -0


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
  small = np.where(x == 0, x, small)  # log1p(-0) = -0
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

_TANH_P = (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
           5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
           4.89352455891786e-03)
_TANH_Q = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03,
           4.89352518554385e-03)
_TANH_P32, _TANH_Q32 = ([float(np.float32(c)) for c in t] for t in (_TANH_P, _TANH_Q))


def _r32(v):
  """A Python float rounded to float32 (a float32 FMA: the double result rounded once)."""
  return struct.unpack("f", struct.pack("f", v))[0]


def _tanh_scalar(v):
  """_tanh_f32 of one value, in Python floats (the eager path's scalars)."""
  if v != v or abs(v) < 0.0004:
    return v
  xc = min(max(v, -7.99881172180175781), 7.99881172180175781)
  xc = _r32(xc)
  x2 = _r32(xc * xc)
  p = 0.0
  for c in _TANH_P32:
    p = _r32(p * x2 + c)
  q = 0.0
  for c in _TANH_Q32:
    q = _r32(q * x2 + c)
  return _r32(_r32(p * xc) / q)


def _tanh_f32(x):
  """XLA's (and IREE's) float32 tanh: an odd/even rational function of x clamped to
  +-7.9988, FMA-evaluated; x itself below 0.0004."""
  x = np.asarray(x, np.float32)
  if x.size == 1:
    return np.array(_tanh_scalar(float(x.reshape(-1)[0])), np.float32).reshape(x.shape)
  xc = np.clip(x, np.float32(-7.99881172180175781), np.float32(7.99881172180175781))
  x2 = xc * xc
  p = _horner32(x2, _TANH_P) * xc
  q = _horner32(x2, _TANH_Q)
  return np.where(np.abs(x) < np.float32(0.0004), x, p / q)


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


def _reduce_big(xi):
  """(|x| mod pi/2 as float64, the quadrant as uint64) of the float32 bits ``xi``
  (|x| >= 120): a 32x96-bit fixed-point product with 4/pi, the exact modulo (glibc's)."""
  words = _INV_PIO4_WORDS[((xi >> 26) & 15).astype(np.intp)[:, None] + [0, 4, 8]]
  m = (((xi & 0xffffff) | 0x800000).astype(np.uint64) << ((xi >> 23) & 7)
       ).astype(np.uint64) & np.uint64(0xffffffff)
  r0 = (m * words[:, 0]) & np.uint64(0xffffffff)
  r0 = ((m * words[:, 2]) >> np.uint64(32)) | (r0 << np.uint64(32))
  r0 = r0 + m * words[:, 1]
  nb = (r0 + np.uint64(1 << 61)) >> np.uint64(62)
  return (r0 - (nb << np.uint64(62))).view(np.int64).astype(np.float64) * _PI_2M62, nb


def _tan_reduce(x):
  """x = n pi/2 + (y0 + y1), |y| <= pi/4, as float32 pair; the quadrant n (int32)."""
  u = x.view(np.uint32)
  dx = x.astype(np.float64)
  n = ((dx * _HPI_INV_2P24).astype(np.int32) + np.int32(0x800000)) >> 24
  red = dx - n * _HPI
  big = ((u >> 20) & 0x7ff) >= 0x42f  # |x| >= 120 (and inf/nan)
  if big.any():  # 32x96-bit fixed-point product with 4/pi: the exact modulo
    xi = u[big]
    v, nb = _reduce_big(xi)
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


# XLA's CPU sin and cos call libm's sinf/cosf: glibc's (ARM's optimized routines): the
# reduction above in double precision, then a double polynomial for sin or cos by
# quadrant, rounded once to float32.
_SINF_C = tuple(float.fromhex(h) for h in (
    "0x1p0", "-0x1.ffffffd0c621cp-2", "0x1.55553e1068f19p-5", "-0x1.6c087e89a359dp-10",
    "0x1.99343027bf8c3p-16"))
_SINF_S = tuple(float.fromhex(h) for h in (
    "-0x1.555545995a603p-3", "0x1.1107605230bc4p-7", "-0x1.994eb3774cf24p-13"))


def _sincos_f32(x, cos):
  x = np.asarray(x, np.float32)
  flat = x.reshape(-1)
  u = flat.view(np.uint32)
  top = (u >> 20) & 0x7ff
  dx = flat.astype(np.float64)
  with np.errstate(all="ignore"):
    n = ((dx * _HPI_INV_2P24).astype(np.int32) + np.int32(0x800000)) >> 24
    red = dx - n * _HPI
    q = n.copy()
    big = (top >= 0x42f) & (top < 0x7f8)  # 120 <= |x| < inf: the exact modulo
    if big.any():
      xi = u[big]
      red[big], nb = _reduce_big(xi)
      n[big] = nb.astype(np.int32)
      q[big] = n[big] + (xi >> 31).astype(np.int32)  # (the sign enters the quadrant)
    small = top < 0x3f4  # |x| < pi/4: no reduction
    red = np.where(small, dx, red)
    q = np.where(small, 0, q) & 3
    odd = ((np.where(small, 0, n) ^ int(cos)) & 1) == 1  # the cos polynomial
    xs = np.where((q == 1) | (q == 2), -red, red)
    x2 = red * red
    x3 = xs * x2
    sv = xs + x3 * _SINF_S[0] + (x3 * x2) * (_SINF_S[1] + x2 * _SINF_S[2])
    c1 = _SINF_C[0] + x2 * _SINF_C[1]
    x4 = x2 * x2
    cv = c1 + x4 * _SINF_C[2] + (x4 * x2) * (_SINF_C[3] + x2 * _SINF_C[4])
    out = np.where(odd, np.where(q >= 2, -cv, cv), sv).astype(np.float32)
    out = np.where(top < 0x398, np.float32(1) if cos else flat, out)  # |x| < 2^-12
    out = np.where(top >= 0x7f8, flat - flat, out)  # inf, nan
  return out.reshape(x.shape)


def _libm_f32(name):
  """libm's float32 function ``name`` (what XLA calls), or None where it cannot be
  loaded: a few values cost a call each, not the emulation's dozens of NumPy ops."""
  try:
    f = getattr(ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6"), name)
  except (OSError, AttributeError):
    return None
  f.restype, f.argtypes = ctypes.c_float, [ctypes.c_float]
  return f


_LIBM_SINF, _LIBM_COSF = _libm_f32("sinf"), _libm_f32("cosf")


def _sin_f32(x):
  x = np.asarray(x, np.float32)
  if x.size <= 8 and _LIBM_SINF is not None:
    return np.array([_LIBM_SINF(v) for v in x.reshape(-1).tolist()],
                    np.float32).reshape(x.shape)
  return _sincos_f32(x, False)


def _cos_f32(x):
  x = np.asarray(x, np.float32)
  if x.size <= 8 and _LIBM_COSF is not None:
    return np.array([_LIBM_COSF(v) for v in x.reshape(-1).tolist()],
                    np.float32).reshape(x.shape)
  return _sincos_f32(x, True)


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


def _logistic_f32(x):
  """XLA's float32 logistic: 1 / (1 + exp(-x)) with its exp, denormal results flushed."""
  one = np.float32(1)
  with np.errstate(all="ignore"):
    r = one / (one + _exp_f32(-np.asarray(x, np.float32)))
  return np.where(r < _F32_TINY, np.float32(0), r)


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


# ---------------------------------------------------------------- sums and scans
# NumPy adds pairwise only along the innermost contiguous axis and accumulates every
# other axis (and products, and scans) in sequence, losing accuracy as n; XLA's results
# lose it as log(n). Floats follow the jit lowering's blocks (``mlir.tree_reduce``,
# ``mlir.blocked_scan``); up to ``_WIDE_MAX`` terms, float32 and complex64 go in double
# precision instead (as accurate; NumPy's per-call costs make the blocks slow there).
_WIDER = {np.dtype(np.float32): np.dtype(np.float64),
          np.dtype(np.complex64): np.dtype(np.complex128)}
_WIDE_MAX = 4096


def _tree_axis(ufunc, v, axis):
  """``ufunc.reduce`` over ``axis`` as a tree of windows of ``TREE_BLOCK`` (keeps it).
  A window's elements lie ``n / TREE_BLOCK`` apart, so NumPy reduces them as whole
  rows."""
  k, pre = mlir.TREE_BLOCK, (slice(None),) * axis
  while v.shape[axis] > k:
    n = v.shape[axis]
    m = n // k
    out = ufunc.reduce(v[pre + (slice(0, m * k),)].reshape(
        v.shape[:axis] + (k, m) + v.shape[axis + 1:]), axis=axis)
    if m * k != n:
      tail = ufunc.reduce(v[pre + (slice(m * k, n),)], axis=axis, keepdims=True)
      out = np.concatenate([out, tail], axis=axis)
    v = out
  return ufunc.reduce(v, axis=axis, keepdims=True)


def tree_reduce(ufunc, v, axis):
  """``ufunc.reduce`` (add or multiply) of a float array over the tuple ``axis``,
  accurate to log(n) as XLA's: NumPy's pairwise sum over the trailing axes of a
  contiguous array, a tree of windows over the others."""
  nd = v.ndim
  if ufunc is np.add and v.flags.c_contiguous and min(axis) == nd - len(axis):
    return np.add.reduce(v, axis=axis)
  terms = math.prod([v.shape[a] for a in axis])
  if terms <= mlir.TREE_BLOCK:
    return ufunc.reduce(v, axis=axis)
  if terms <= _WIDE_MAX and v.dtype in _WIDER:
    return ufunc.reduce(v, axis=axis, dtype=_WIDER[v.dtype]).astype(v.dtype)
  rest = sorted(axis)
  if ufunc is np.add and v.flags.c_contiguous:  # the trailing axes pairwise
    while rest[-1] == nd - 1 - (len(axis) - len(rest)):
      rest.pop()
    v = np.add.reduce(v, axis=tuple(a for a in axis if a not in rest), keepdims=True)
  for a in rest:
    v = _tree_axis(ufunc, v, a)
  return v.reshape(tuple(s for i, s in enumerate(v.shape) if i not in axis))


def blocked_scan(ufunc, v, axis):
  """``ufunc.accumulate`` (add, multiply, logaddexp) of a float array along ``axis``,
  accurate to log(n): within blocks of ``TREE_BLOCK``, the blocks' totals scanned the
  same way and combined into the blocks after them."""
  k, n = mlir.TREE_BLOCK, v.shape[axis]
  if n <= 2 * k:  # (in sequence: as accurate as XLA's up to there)
    return ufunc.accumulate(v, axis=axis)
  if n <= _WIDE_MAX and v.dtype in _WIDER:
    return ufunc.accumulate(v, axis=axis, dtype=_WIDER[v.dtype]).astype(v.dtype)
  m, pre = n // k, (slice(None),) * axis
  out = np.empty(v.shape, v.dtype)
  blocks = out[pre + (slice(0, m * k),)]
  blocks.shape = v.shape[:axis] + (m, k) + v.shape[axis + 1:]  # (a view: raises if not)
  ufunc.accumulate(v[pre + (slice(0, m * k),)].reshape(blocks.shape), axis=axis + 1,
                   out=blocks)
  before = blocked_scan(ufunc, blocks[pre + (slice(None), k - 1)], axis)
  ufunc(before[pre + (slice(0, m - 1), None)], blocks[pre + (slice(1, None),)],
        out=blocks[pre + (slice(1, None),)])
  if m * k < n:
    tail = out[pre + (slice(m * k, None),)]
    ufunc.accumulate(v[pre + (slice(m * k, None),)], axis=axis, out=tail)
    ufunc(before[pre + (slice(m - 1, m),)], tail, out=tail)
  return out


def _sp2(name, a, b):
  import scipy.special as sp
  dt = a.dtype
  if dt in (dtypes.bfloat16, np.dtype(np.float16)):
    a, b = a.astype(np.float32), b.astype(np.float32)
  return np.asarray(getattr(sp, name)(a, b)).astype(dt)

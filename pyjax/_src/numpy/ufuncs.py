"""Elementwise jax.numpy functions, built from lax primitives.

The common case (same-dtype, same-shape ``ArrayImpl`` operands) goes straight
to the primitive; everything else goes through promotion and broadcasting.
"""
from __future__ import annotations

import operator

import numpy as np

from pyjax._src import dtypes
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Tracer
from pyjax._src.lax import lax
from pyjax._src.lax import special as lax_special
from pyjax._src.numpy.util import _where, staged_jit
from pyjax._src.numpy.util import (check_arraylike, promote_args, promote_args_inexact,
                                   promote_args_numeric, promote_dtypes_inexact,
                                   promote_dtypes_numeric,
                                   promote_shapes, asarray, broadcast_shapes,
                                   _broadcast_to)

_float_kinds = "fc"


def _fast2(x, y):
  """True when x, y are concrete arrays needing no promotion or broadcasting."""
  if type(x) is ArrayImpl and type(y) is ArrayImpl:
    xv, yv = x._value, y._value
    return (xv.dtype == yv.dtype and x.weak_type == y.weak_type
            and xv.shape == yv.shape)
  return False


def _is_inexact_array(x):
  return type(x) is ArrayImpl and x._value.dtype.kind in _float_kinds


def _unary_inexact(name, prim):
  """A float-valued unary op: integer/bool inputs are promoted to float."""
  bind = prim.bind

  def fn(x, /):
    if _is_inexact_array(x) and x._value.dtype != dtypes.float0:
      return bind(x)
    x, = promote_args_inexact(name, x)
    return bind(x)
  fn.__name__ = fn.__qualname__ = name
  fn.__doc__ = f"Elementwise {name}."
  return fn


# ------------------------------------------------------------ arithmetic

def multiply(x, y, /):
  """Elementwise product (logical and for booleans)."""
  if _fast2(x, y) and x._value.dtype != np.bool_:
    return lax.mul_p.bind(x, y)
  x, y = promote_args("multiply", x, y, rank_only=True)
  return lax.and_p.bind(x, y) if x.dtype == np.bool_ else lax.mul_p.bind(x, y)


def _add_bool_aware(x, y):
  return lax.or_p.bind(x, y) if x.dtype == np.bool_ else lax.add_p.bind(x, y)


def add(x, y, /):
  """Elementwise sum (logical or for booleans)."""
  if _fast2(x, y) and x._value.dtype != np.bool_:
    return lax.add_p.bind(x, y)
  x, y = promote_args("add", x, y, rank_only=True)
  return _add_bool_aware(x, y)


def subtract(x, y, /):
  """Elementwise difference."""
  if _fast2(x, y) and x._value.dtype != np.bool_:
    return lax.sub_p.bind(x, y)
  x, y = promote_args("subtract", x, y, rank_only=True)
  if x.dtype == np.bool_:
    raise TypeError("numpy boolean subtract, the `-` operator, is not supported, use the "
                    "bitwise_xor, the `^` operator, or the logical_xor function instead.")
  return lax.sub_p.bind(x, y)


def true_divide(x1, x2, /):
  """Elementwise true division: integers are promoted to float."""
  if _fast2(x1, x2) and x1._value.dtype.kind in _float_kinds:
    return lax.div_p.bind(x1, x2)
  x1, x2 = promote_args_inexact("true_divide", x1, x2, rank_only=True)
  return lax.div_p.bind(x1, x2)


divide = true_divide


def _same_shape(x1, x2):
  """x1 and x2 broadcast to one shape (lax.select needs equal shapes)."""
  shape = broadcast_shapes(x1.shape, x2.shape)
  return tuple(v if v.shape == shape else _broadcast_to(v, shape) for v in (x1, x2))


@staged_jit
def floor_divide(x1, x2, /):
  """Elementwise division rounded toward negative infinity."""
  x1, x2 = promote_args_numeric("floor_divide", x1, x2)
  dt = x1.dtype
  if dt.kind in "iu":
    q = lax.div(x1, x2)
    if dt.kind == "u":
      return q
    # Truncation rounds toward zero: step down where the signs differ (x2 = 0 included:
    # x // 0 is -1 - 1 = -2 for x != 0, as JAX) and r != 0.
    fix = lax.bitwise_and(lax.ne(lax.sign(x1), lax.sign(x2)),
                          lax.ne(lax.rem(x1, x2), lax._const(x1, 0)))
    return _where(fix, lax.sub(q, lax._const(q, 1)), q)
  if dt.kind == "c":
    raise TypeError("floor_divide does not support complex-valued inputs")
  return _float_divmod(x1, x2)[0]


def _float_divmod(x1, x2):
  """CPython's float divmod (floatobject.c), as JAX's: x % 0 is NaN, x // 0 is x / 0."""
  x1, x2 = _same_shape(x1, x2)
  mod = lax.rem(x1, x2)
  div = lax.div(lax.select(lax.eq(x2, lax._const(x2, 0)), x1, lax.sub(x1, mod)), x2)
  ind = lax.bitwise_and(lax.ne(mod, lax._const(mod, 0)),
                        lax.ne(lax.sign(x2), lax.sign(mod)))
  mod = lax.select(ind, lax.add(mod, x2), mod)
  div = lax.select(ind, lax.sub(div, lax._const(div, 1)), div)
  return lax.round(div), mod


@staged_jit
def remainder(x1, x2, /):
  """Elementwise remainder with the sign of the divisor (Python's %); x % 0 is 0 for
  integers, as JAX."""
  x1, x2 = promote_args_numeric("remainder", x1, x2)
  if x1.dtype.kind == "c":
    raise TypeError("remainder does not support complex-valued inputs")
  if x1.dtype.kind in "iu":
    x2 = _where(lax.eq(x2, lax._const(x2, 0)), lax.full_like(x2, 1), x2)
  r = lax.rem(x1, x2)
  if x1.dtype.kind == "u":
    return r
  zero = lax._const(r, 0)
  nonzero = lax.ne(r, zero)
  fix = lax.bitwise_and(lax.ne(lax.lt(r, zero), lax.lt(x2, zero)), nonzero)
  return lax.select(fix, lax.add(r, x2), r)


mod = remainder


@staged_jit
def fmod(x1, x2, /):
  """Elementwise C-style remainder (sign of the dividend)."""
  was_bool = dtypes.result_type(x1, x2) == np.bool_  # (JAX: True fmod False is 1)
  x1, x2 = promote_args_numeric("fmod", x1, x2)
  if x1.dtype.kind in "iu" and not was_bool:  # x fmod 0 is 0, as JAX
    x2 = lax.select(lax.eq(x2, lax._const(x2, 0)), lax.full_like(x2, 1), x2)
  return lax.rem(x1, x2)


@staged_jit
def divmod(x1, x2, /):
  x1, x2 = promote_args_numeric("divmod", x1, x2)
  if x1.dtype.kind in "iu":
    return floor_divide(x1, x2), remainder(x1, x2)
  if x1.dtype.kind == "c":
    raise TypeError("divmod does not support complex-valued inputs")
  return _float_divmod(x1, x2)


def power(x1, x2, /):
  """Elementwise power. A concrete integer exponent (anything ``operator.index`` takes)
  uses integer_pow, as JAX's."""
  check_arraylike("power", x1, x2)
  if not isinstance(x2, Tracer):
    try:
      n = operator.index(x2)
    except TypeError:
      pass
    else:
      x1, = promote_dtypes_numeric(x1)
      return lax.integer_pow(x1, n)
  x1, x2 = promote_args_numeric("power", x1, x2)
  dt = x1.dtype
  if dt.kind in "iub":
    return _int_power(x1, x2)
  return lax.pow(x1, x2)


def _int_power(x1, x2):
  """Integer power by binary exponentiation over the bits of x2 (x2 >= 0)."""
  if x1.dtype == np.bool_:
    return lax.bitwise_or(x1, lax.bitwise_not(x2))
  # JAX's: the low 6 bits of x2 only (more overflows for any |x1| > 1); 0 ** x2 = 0
  # for x2 != 0.
  x1, x2 = _same_shape(x1, x2)
  zero, one = lax._const(x2, 0), lax._const(x2, 1)
  acc = lax.select(lax.bitwise_and(lax.eq(x1, lax._const(x1, 0)), lax.ne(x2, zero)),
                   lax.full_like(x1, 0), lax.full_like(x1, 1))
  base, e = x1, x2
  for _ in range(6):
    acc = lax.select(lax.ne(lax.bitwise_and(e, one), lax._const(e, 0)), lax.mul(acc, base), acc)
    base = lax.mul(base, base)
    e = lax.shift_right_logical(e, one)
  return acc


def float_power(x1, x2, /):
  """x1 ** x2 in the promoted inexact dtype (JAX's: no widening to float64)."""
  return lax.pow(*promote_args_inexact("float_power", x1, x2, rank_only=True))


def negative(x, /):
  """Elementwise negation."""
  if type(x) is ArrayImpl and x._value.dtype != np.bool_:
    return lax.neg_p.bind(x)
  check_arraylike("negative", x)
  x = asarray(x)
  if x.dtype == np.bool_:
    raise TypeError("The numpy boolean negative, the `-` operator, is not supported, use "
                    "the `~` operator or the logical_not function instead.")
  return lax.neg_p.bind(x)


def positive(x, /):
  check_arraylike("positive", x)
  return asarray(x)


def absolute(x, /):
  """Elementwise absolute value (magnitude for complex input)."""
  check_arraylike("absolute", x)
  x = asarray(x)
  if x.dtype == np.bool_ or x.dtype.kind == "u":
    return x
  return lax.abs(x)


abs = absolute


def fabs(x, /):
  x, = promote_args_inexact("fabs", x)
  if x.dtype.kind == "c":
    raise TypeError("ufunc 'fabs' does not support complex dtypes")
  return lax.abs(x)


def sign(x, /):
  check_arraylike("sign", x)
  x = asarray(x)
  if x.dtype == np.bool_:
    raise TypeError("sign does not accept dtype bool. Accepted dtypes are subtypes of "
                    "integer, floating, complexfloating.")
  return lax.sign(x)


def _keep_int(name, fn):
  def f(x, /):
    check_arraylike(name, x)
    x = asarray(x)
    if x.dtype.kind in "iub":
      return x
    if x.dtype.kind == "c":
      raise TypeError(f"{name} does not support complex-valued inputs.")
    return fn(x)
  f.__name__ = f.__qualname__ = name
  return f


floor = _keep_int("floor", lax.floor)
ceil = _keep_int("ceil", lax.ceil)
trunc = _keep_int("trunc", lambda x: lax.select(lax.lt(x, lax._const(x, 0)), lax.ceil(x),
                                                  lax.floor(x)))


@staged_jit
def rint(x, /):
  """Rounds to the nearest integer, half to even; integers and bools become floats and
  complex numbers round both parts, as JAX's."""
  check_arraylike("rint", x)
  x = asarray(x)
  if x.dtype.kind in "iub":
    return lax.convert_element_type(x, dtypes.default_float_dtype())
  if x.dtype.kind == "c":
    return lax.complex(rint(lax.real(x)), rint(lax.imag(x)))
  return lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)


def square(x, /):
  check_arraylike("square", x)
  x, = promote_args_numeric("square", x)
  return lax.square(x)


def reciprocal(x, /):
  x, = promote_args_inexact("reciprocal", x)
  return lax.integer_pow(x, -1)


# ------------------------------------------------------------ transcendental

exp = _unary_inexact("exp", lax.exp_p)
exp2 = _unary_inexact("exp2", lax.exp2_p)
expm1 = _unary_inexact("expm1", lax.expm1_p)
log = _unary_inexact("log", lax.log_p)
log1p = _unary_inexact("log1p", lax.log1p_p)
sqrt = _unary_inexact("sqrt", lax.sqrt_p)
sin = _unary_inexact("sin", lax.sin_p)
cos = _unary_inexact("cos", lax.cos_p)
tan = _unary_inexact("tan", lax.tan_p)
arcsin = _unary_inexact("arcsin", lax.asin_p)
arccos = _unary_inexact("arccos", lax.acos_p)
arctan = _unary_inexact("arctan", lax.atan_p)
sinh = _unary_inexact("sinh", lax.sinh_p)
cosh = _unary_inexact("cosh", lax.cosh_p)
tanh = _unary_inexact("tanh", lax.tanh_p)
arcsinh = _unary_inexact("arcsinh", lax.asinh_p)
arccosh = _unary_inexact("arccosh", lax.acosh_p)
arctanh = _unary_inexact("arctanh", lax.atanh_p)
asin, acos, atan, asinh, acosh, atanh = arcsin, arccos, arctan, arcsinh, arccosh, arctanh


def cbrt(x, /):
  x, = promote_args_inexact("cbrt", x)
  return lax.cbrt(x)


def _constant_like(x, val):
  """JAX's: a strongly typed scalar of ``x``'s dtype (results with it are strong)."""
  return ArrayImpl(np.asarray(val, x.dtype)[()], False)


def log2(x, /):
  """JAX's: each part divided by log(2) (strongly typed)."""
  x, = promote_args_inexact("log2", x)
  lx = lax.log(x)
  if x.dtype.kind != "c":
    return lax.div(lx, lax.log(_constant_like(x, 2)))
  re, im = lax.real(lx), lax.imag(lx)
  ln2 = lax.log(_constant_like(re, 2))
  return lax.complex(lax.div(re, ln2), lax.div(im, ln2))


def log10(x, /):
  """JAX's: each part multiplied by 1/log(10) (strongly typed)."""
  x, = promote_args_inexact("log10", x)
  lx = lax.log(x)
  if x.dtype.kind != "c":
    return lax.mul(lx, _constant_like(x, 0.4342944819032518))
  c = _constant_like(lax.real(lx), 0.4342944819032518)
  return lax.complex(lax.mul(lax.real(lx), c), lax.mul(lax.imag(lx), c))


def arctan2(x1, x2, /):
  x1, x2 = promote_args_inexact("arctan2", x1, x2, rank_only=True)
  return lax.atan2(x1, x2)


atan2 = arctan2


@staged_jit
def hypot(x1, x2, /):
  x1, x2 = promote_args_inexact("hypot", x1, x2)
  if x1.dtype.kind == "c":
    raise ValueError("jnp.hypot is not well defined for complex-valued inputs. Please "
                     "convert to real values first, such as by using abs(x)")
  x1, x2 = lax.abs(x1), lax.abs(x2)
  big, small = lax.max(x1, x2), lax.min(x1, x2)
  zero = lax._const(big, 0)
  safe = lax.select(lax.eq(big, zero), lax.full_like(big, 1), big)
  r = lax.div(small, safe)
  out = lax.mul(big, lax.sqrt(lax.add(lax._const(r, 1), lax.mul(r, r))))
  out = lax.select(lax.eq(big, zero), big, out)
  pinf = lax._const(big, np.inf)  # hypot(inf, NaN) = inf
  inf = lax.bitwise_or(lax.eq(x1, pinf), lax.eq(x2, pinf))
  return lax.select(inf, lax.full_like(out, np.inf), out)


def deg2rad(x, /):
  x, = promote_args_inexact("deg2rad", x)
  return lax.mul(x, lax._const(x, np.pi / 180))


def rad2deg(x, /):
  x, = promote_args_inexact("rad2deg", x)
  return lax.mul(x, lax._const(x, 180 / np.pi))


radians, degrees = deg2rad, rad2deg


def logaddexp(x1, x2, /):
  x1, x2 = promote_args_inexact("logaddexp", x1, x2)
  amax = lax.max(x1, x2)
  delta = lax.sub(x1, x2)
  out = lax.add(amax, lax.log1p(lax.exp(lax.neg(lax.abs(delta)))))
  return lax.select(lax.ne(delta, delta), lax.add(x1, x2), out)  # NaN (incl. inf-inf)


def logaddexp2(x1, x2, /):
  x1, x2 = promote_args_inexact("logaddexp2", x1, x2)
  ln2 = lax._const(x1, np.log(2))
  return lax.div(logaddexp(lax.mul(x1, ln2), lax.mul(x2, ln2)), ln2)


@staged_jit
def sinc(x, /):
  x, = promote_args_inexact("sinc", x)
  zero = lax.eq(x, lax._const(x, 0))
  pix = lax.mul(lax._const(x, np.pi), lax.select(zero, lax.full_like(x, 1), x))
  return lax.select(zero, lax.full_like(x, 1), lax.div(lax.sin(pix), pix))


# ------------------------------------------------------------ comparisons & logic

def _compare(name, prim):
  bind = prim.bind

  def fn(x, y, /):
    if _fast2(x, y):
      return bind(x, y)
    return bind(*promote_args(name, x, y, rank_only=True))
  fn.__name__ = fn.__qualname__ = name
  return fn


equal = _compare("equal", lax.eq_p)
not_equal = _compare("not_equal", lax.ne_p)


def _complex_compare(name, prim):
  # NumPy orders complex numbers lexicographically (real, then imag).
  def fn(x, y, /):
    x, y = promote_args(name, x, y, rank_only=True)
    if x.dtype.kind != "c":
      return prim.bind(x, y)
    xr, yr = lax.real(x), lax.real(y)
    strict = {"less": lax.lt, "less_equal": lax.lt, "greater": lax.gt,
              "greater_equal": lax.gt}[name]
    return lax.bitwise_or(strict(xr, yr),
                          lax.bitwise_and(lax.eq(xr, yr), prim.bind(lax.imag(x), lax.imag(y))))
  fn.__name__ = fn.__qualname__ = name
  return fn


less = _complex_compare("less", lax.lt_p)
less_equal = _complex_compare("less_equal", lax.le_p)
greater = _complex_compare("greater", lax.gt_p)
greater_equal = _complex_compare("greater_equal", lax.ge_p)


def _int_bool_binary(name, prim):
  def fn(x, y, /):
    if _fast2(x, y):
      return prim.bind(x, y)
    x, y = promote_args(name, x, y, rank_only=True)
    if x.dtype.kind not in "iub":
      raise TypeError(f"{name} only accepts integer or boolean dtypes, got {x.dtype.name}")
    return prim.bind(x, y)
  fn.__name__ = fn.__qualname__ = name
  return fn


bitwise_and = _int_bool_binary("bitwise_and", lax.and_p)
bitwise_or = _int_bool_binary("bitwise_or", lax.or_p)
bitwise_xor = _int_bool_binary("bitwise_xor", lax.xor_p)


def bitwise_not(x, /):
  check_arraylike("bitwise_not", x)
  return lax.bitwise_not(asarray(x))


invert = bitwise_not


def bitwise_count(x, /):
  check_arraylike("bitwise_count", x)
  x = asarray(x)
  if x.dtype == np.bool_:
    return lax.convert_element_type(x, np.uint8)
  return lax.convert_element_type(lax.population_count(lax.abs(x) if x.dtype.kind == "i"
                                                       else x), np.uint8)


def left_shift(x1, x2, /):
  x1, x2 = promote_args_numeric("left_shift", x1, x2, rank_only=True)
  return lax.shift_left(x1, x2)


def right_shift(x1, x2, /):
  x1, x2 = promote_args_numeric("right_shift", x1, x2, rank_only=True)
  return (lax.shift_right_logical if x1.dtype.kind == "u" else lax.shift_right_arithmetic)(x1, x2)


bitwise_left_shift, bitwise_right_shift = left_shift, right_shift


def _logical(name, prim):
  def fn(x, y, /):
    check_arraylike(name, x, y)
    x, y = promote_shapes(name, _to_bool(x), _to_bool(y), rank_only=True)
    return prim.bind(x, y)
  fn.__name__ = fn.__qualname__ = name
  return fn


def _to_bool(x):
  x = asarray(x)
  return x if x.dtype == np.bool_ else lax.ne(x, lax._const(x, 0))


logical_and = _logical("logical_and", lax.and_p)
logical_or = _logical("logical_or", lax.or_p)
logical_xor = _logical("logical_xor", lax.xor_p)


def logical_not(x, /):
  check_arraylike("logical_not", x)
  return lax.bitwise_not(_to_bool(x))


def maximum(x, y, /):
  """Elementwise maximum, propagating NaNs."""
  if _fast2(x, y) and x._value.dtype.kind in "iub":
    return lax.max_p.bind(x, y)
  x, y = promote_args("maximum", x, y, rank_only=True)
  return lax.max(x, y)


def minimum(x, y, /):
  """Elementwise minimum, propagating NaNs."""
  if _fast2(x, y) and x._value.dtype.kind in "iub":
    return lax.min_p.bind(x, y)
  x, y = promote_args("minimum", x, y, rank_only=True)
  return lax.min(x, y)


@staged_jit
def fmax(x1, x2, /):
  """x1 where x1 > x2 or x2 is NaN, else x2 (JAX's: fmax(0, -0) is -0)."""
  x1, x2 = promote_args("fmax", x1, x2)
  if x1.dtype.kind not in "fc":
    return lax.max(x1, x2)
  x1, x2 = _same_shape(x1, x2)
  return lax.select(lax.bitwise_or(greater(x1, x2), isnan(x2)), x1, x2)


@staged_jit
def fmin(x1, x2, /):
  """x1 where x1 < x2 or x2 is NaN, else x2."""
  x1, x2 = promote_args("fmin", x1, x2)
  if x1.dtype.kind not in "fc":
    return lax.min(x1, x2)
  x1, x2 = _same_shape(x1, x2)
  return lax.select(lax.bitwise_or(less(x1, x2), isnan(x2)), x1, x2)


def isfinite(x, /):
  check_arraylike("isfinite", x)
  x = asarray(x)
  if x.dtype.kind == "c":
    return lax.bitwise_and(lax.is_finite(lax.real(x)), lax.is_finite(lax.imag(x)))
  if x.dtype.kind not in "f" and x.dtype != dtypes.bfloat16:
    return lax.full(x.shape, True, np.bool_)
  return lax.is_finite(x)


@staged_jit
def isinf(x, /):
  check_arraylike("isinf", x)
  x = asarray(x)
  if x.dtype.kind == "c":
    return lax.bitwise_or(isinf(lax.real(x)), isinf(lax.imag(x)))
  if not dtypes.issubdtype(x.dtype, np.floating):
    return lax.full(x.shape, False, np.bool_)
  return lax.eq(lax.abs(x), _constant_like(x, np.inf))


def isnan(x, /):
  check_arraylike("isnan", x)
  x = asarray(x)
  return lax.ne(x, x)  # JAX's: also for integers (False, weak for a Python int)


def isposinf(x, /):
  x = asarray(x)
  if x.dtype.kind == "c":
    raise ValueError("isposinf/isneginf are not well defined for complex types")
  if not dtypes.issubdtype(x.dtype, np.floating):
    return lax.full(x.shape, False, np.bool_)
  return lax.eq(x, _constant_like(x, np.inf))


def isneginf(x, /):
  x = asarray(x)
  if x.dtype.kind == "c":
    raise ValueError("isposinf/isneginf are not well defined for complex types")
  if not dtypes.issubdtype(x.dtype, np.floating):
    return lax.full(x.shape, False, np.bool_)
  return lax.eq(x, _constant_like(x, -np.inf))


@staged_jit
def signbit(x, /):
  check_arraylike("signbit", x)
  x = asarray(x)
  if x.dtype.kind in "iu":
    return lax.lt(x, _constant_like(x, 0))
  if x.dtype == np.bool_:
    return lax.full(x.shape, False, np.bool_)
  if x.dtype.kind == "c":
    raise ValueError("signbit does not support complex-valued inputs.")
  idt = np.dtype(f"i{x.dtype.itemsize}")
  return lax.lt(lax.bitcast_convert_type(x, idt), lax._const(ArrayImpl(np.zeros((), idt)), 0))


@staged_jit
def copysign(x1, x2, /):
  x1, x2 = promote_args_inexact("copysign", x1, x2)
  if x1.dtype.kind == "c":
    raise TypeError("copysign does not support complex-valued inputs")
  return lax.select(signbit(x2), lax.neg(lax.abs(x1)), lax.abs(x1))


def nextafter(x1, x2, /):
  x1, x2 = promote_args_inexact("nextafter", x1, x2, rank_only=True)
  return lax.nextafter(x1, x2)


def _pow2(e):
  """2 ** e, exactly, for integral float ``e`` in the normal exponent range of its
  dtype (built from its bits)."""
  info = dtypes.finfo(e.dtype)
  idt = np.dtype(f"int{8 * e.dtype.itemsize}")
  biased = lax.convert_element_type(lax.add(e, lax._const(e, info.maxexp - 1)), idt)
  return lax.bitcast_convert_type(lax.shift_left(biased, lax._const(biased, info.nmant)),
                                  e.dtype)


@staged_jit
def ldexp(x1, x2, /):
  check_arraylike("ldexp", x1, x2)
  x2 = asarray(x2)
  if x2.dtype.kind not in "iub":
    raise ValueError(f"ldexp x2 must be of integer dtype: got {x2.dtype}")
  x1, = promote_dtypes_inexact(x1)
  if x1.dtype.kind == "c":
    raise ValueError(f"ldexp not supported for input types {(x1.dtype, x2.dtype)}")
  x1, x2 = _same_shape(x1, lax.convert_element_type(x2, x1.dtype))
  # JAX's: the exponent split off first (2 ** x2 alone under/overflows), x1 kept for
  # 0 and inf.
  m, e = frexp(x1)
  e = lax.add(lax.convert_element_type(e, x1.dtype), x2)
  info = dtypes.finfo(x1.dtype)
  # 2**e as two exact powers of two (exp2 is not exact; one power alone under/overflows)
  e = lax.clamp(lax._const(e, info.minexp - info.nmant - 2), e,
                lax._const(e, info.maxexp + 1))
  half = lax.floor(lax.div(e, lax._const(e, 2)))
  x = lax.mul(lax.mul(m, _pow2(half)), _pow2(lax.sub(e, half)))
  keep = lax.bitwise_or(lax.eq(lax.abs(x1), lax._const(x1, np.inf)),
                        lax.eq(x1, lax._const(x1, 0)))
  return lax.select(keep, x1, x)


@staged_jit
def frexp(x, /):
  x, = promote_args_inexact("frexp", x)
  if x.dtype.kind == "c":
    raise TypeError("frexp does not support complex-valued inputs")
  finite_nonzero = lax.bitwise_and(isfinite(x), lax.ne(x, lax._const(x, 0)))
  safe = lax.select(finite_nonzero, x, lax.full_like(x, 1))
  e = lax.add(lax.floor(log2(lax.abs(safe))), lax._const(x, 1))
  half = lax.floor(lax.div(e, lax._const(e, 2)))  # (2**e alone overflows for the largest)
  m = lax.div(lax.div(safe, _pow2(half)), _pow2(lax.sub(e, half)))
  # log2 rounding can be off by one: renormalise m into [0.5, 1).
  big = lax.ge(lax.abs(m), lax._const(m, 1))
  m = lax.select(big, lax.div(m, lax._const(m, 2)), m)
  e = lax.select(big, lax.add(e, lax._const(e, 1)), e)
  small = lax.lt(lax.abs(m), lax._const(m, 0.5))
  m = lax.select(small, lax.mul(m, lax._const(m, 2)), m)
  e = lax.select(small, lax.sub(e, lax._const(e, 1)), e)
  m = lax.select(finite_nonzero, m, x)
  e = lax.select(finite_nonzero, e, lax.full_like(e, 0))
  return m, lax.convert_element_type(e, dtypes.default_int_dtype())


@staged_jit
def modf(x, /):
  x, = promote_args_inexact("modf", x)
  whole = trunc(x)
  return lax.sub(x, whole), whole


@staged_jit
def heaviside(x1, x2, /):
  x1, x2 = _same_shape(*promote_args_inexact("heaviside", x1, x2))
  zero = lax._const(x1, 0)
  at_zero = lax.select(lax.ne(x1, x1), x1, x2)  # NaN stays NaN
  return lax.select(lax.lt(x1, zero), lax.full_like(x1, 0),
                    lax.select(lax.gt(x1, zero), lax.full_like(x1, 1), at_zero))


def real(val, /):
  check_arraylike("real", val)
  val = asarray(val)
  return lax.real(val) if val.dtype.kind == "c" else val


def imag(val, /):
  check_arraylike("imag", val)
  val = asarray(val)
  return lax.imag(val) if val.dtype.kind == "c" else lax.full_like(val, 0)


def conjugate(x, /):
  check_arraylike("conjugate", x)
  x = asarray(x)
  return lax.conj(x) if x.dtype.kind == "c" else x


conj = conjugate


@staged_jit(static_argnames=('deg',))
def angle(z, deg=False):
  check_arraylike("angle", z)
  z = asarray(z)
  re, im = real(z), imag(z)
  # JAX's: integers and bools, and real scalars (weak ones made strong), in the default
  # float type
  if not dtypes.issubdtype(re.dtype, np.inexact) or (
      dtypes.issubdtype(z.dtype, np.floating) and z.ndim == 0):
    dt = dtypes.default_float_dtype()
    re, im = lax.convert_element_type(re, dt), lax.convert_element_type(im, dt)
  out = lax.atan2(im, re)
  return rad2deg(out) if deg else out


@staged_jit
def gcd(x1, x2, /):
  check_arraylike("gcd", x1, x2)
  if dtypes.result_type(x1, x2) == np.bool_:
    raise ValueError("Arguments to jax.numpy.gcd must be integers.")
  x1, x2 = promote_args_numeric("gcd", x1, x2)
  if x1.dtype.kind not in "iu":
    raise ValueError("Arguments to jax.numpy.gcd must be integers.")
  a, b = absolute(x1), absolute(x2)
  shape = np.broadcast_shapes(a.shape, b.shape)  # (select needs equal shapes)
  a, b = (lax.broadcast_in_dim(v, shape, tuple(range(len(shape) - v.ndim, len(shape))))
          for v in (a, b))
  zero = lax.full_like(a, 0)
  for _ in range(x1.dtype.itemsize * 8 * 2):  # Euclid; bounded iteration count
    nz = lax.ne(b, zero)
    safe_b = lax.select(nz, b, lax.full_like(b, 1))
    a, b = lax.select(nz, b, a), lax.select(nz, lax.rem(a, safe_b), zero)
  return a


@staged_jit
def lcm(x1, x2, /):
  check_arraylike("lcm", x1, x2)
  if dtypes.result_type(x1, x2) == np.bool_:
    raise ValueError("Arguments to jax.numpy.lcm must be integers.")
  x1, x2 = promote_args_numeric("lcm", x1, x2)
  if x1.dtype.kind not in "iu":
    raise ValueError("Arguments to jax.numpy.lcm must be integers.")
  d = gcd(x1, x2)
  zero = lax.full_like(d, 0)
  safe = lax.select(lax.eq(d, zero), lax.full_like(d, 1), d)
  return lax.select(lax.eq(d, zero), zero,
                    lax.mul(absolute(x1), lax.div(absolute(x2), safe)))


def spacing(x, /):
  """The distance to the next representable number away from zero (JAX's: toward
  +inf for float16; the smallest subnormal with x's sign where that difference is 0)."""
  x, = promote_args_inexact("spacing", x)
  if x.dtype.kind == "c":
    raise ValueError("jnp.spacing is not defined for complex inputs.")
  inf = lax.full(x.shape, _constant_like(x, np.inf))  # strongly typed, as JAX's
  if x.dtype == np.float16:
    return lax.sub(lax.nextafter(x, inf), x)
  result = lax.sub(lax.nextafter(x, copysign(inf, x)), x)
  tiny = copysign(lax.full_like(x, dtypes.finfo(x.dtype).smallest_subnormal), x)
  return lax.select(lax.eq(result, lax._const(result, 0)), tiny, result)


@staged_jit
def i0(x):
  x, = promote_args_inexact("i0", x)
  if x.dtype.kind == "c":
    raise ValueError(f"Unsupported input type to jax.numpy.i0: {x.dtype}")
  return lax.mul(lax.exp(lax.abs(x)), lax_special.bessel_i0e(x))


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]

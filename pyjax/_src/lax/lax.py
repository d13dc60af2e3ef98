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

_kind_names = [(_bool, "bool"), (_sint, "signedinteger"), (_uint, "unsignedinteger"),
               (_float, "floating"), (_complex, "complexfloating")]


def _accepted_str(accepted) -> str:
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
    kind = {int: "iub", float: "fc", complex: "c"}[type(x)]
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


def unop(name: str, npfn, accepted, result_dtype=None) -> Primitive:
  """A unary elementwise primitive computed by ``npfn`` on the buffer."""
  p = Primitive(name)
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
  return p


def _binop_check(name, x: ShapedArray, y: ShapedArray, accepted):
  if x.dtype != y.dtype:
    raise TypeError(
        f"lax.{name} requires arguments to have the same dtypes, got {x.dtype.name}, "
        f"{y.dtype.name}. (Tip: jnp.{_jnp_name.get(name, name)} is a similar function "
        f"that does automatic type promotion on inputs).")
  if x.dtype not in accepted:
    _check_dtype(name, x.dtype, accepted, pos=0)
  if x.shape != y.shape and x.shape and y.shape:
    raise TypeError(f"{name} got incompatible shapes for broadcasting: "
                    f"{x.shape}, {y.shape}.")
  return x.shape if x.shape else y.shape


_jnp_name = {"and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
             "div": "divide", "rem": "remainder", "sub": "subtract", "mul": "multiply",
             "max": "maximum", "min": "minimum", "pow": "power"}


def binop(name: str, npfn, accepted, result_dtype=None) -> Primitive:
  """A binary elementwise primitive. Operands share a dtype; shapes are equal
  or one of them is a scalar (rank 0), as in JAX's lax."""
  p = Primitive(name)

  def impl(x, y):
    xv, yv = x._value, y._value
    if xv.dtype != yv.dtype or xv.dtype not in accepted or (
        xv.shape != yv.shape and xv.shape and yv.shape):
      _binop_check(name, x.aval, y.aval, accepted)
    out = npfn(xv, yv)
    if result_dtype is not None and out.dtype != result_dtype(xv.dtype):
      out = out.astype(result_dtype(xv.dtype))
    return ArrayImpl(out, x.weak_type and y.weak_type)

  def abstract_eval(x, y):
    shape = _binop_check(name, x, y, accepted)
    dt = x.dtype if result_dtype is None else result_dtype(x.dtype)
    return ShapedArray(shape, dt, x.weak_type and y.weak_type)

  p.def_impl(impl)
  p.def_abstract_eval(abstract_eval)
  return p


def _bool_result(_):
  return np.dtype(np.bool_)


def _real_dtype(dt):
  return np.finfo(dt).dtype if dt.kind == "c" else dt


def _complex_dtype(dt):
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


def _div_impl(x, y):
  if x.dtype.kind in "iub":
    return _int_div(x, y)
  return np.true_divide(x, y)


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

neg_p = unop("neg", np.negative, _num)
sign_p = unop("sign", _sign, _num)
floor_p = unop("floor", np.floor, _float)
ceil_p = unop("ceil", np.ceil, _float)
is_finite_p = unop("is_finite", _is_finite, _float, _bool_result)
exp_p = unop("exp", _f32_compute(np.exp), _inexact)
exp2_p = unop("exp2", _f32_compute(np.exp2), _inexact)
log_p = unop("log", _f32_compute(np.log), _inexact)
log1p_p = unop("log1p", _f32_compute(np.log1p), _inexact)
expm1_p = unop("expm1", _f32_compute(np.expm1), _inexact)
tanh_p = unop("tanh", _f32_compute(np.tanh), _inexact)
logistic_p = unop("logistic", _f32_compute(_logistic), _inexact)
sin_p = unop("sin", _f32_compute(np.sin), _inexact)
cos_p = unop("cos", _f32_compute(np.cos), _inexact)
tan_p = unop("tan", _f32_compute(np.tan), _inexact)
asin_p = unop("asin", _f32_compute(np.arcsin), _inexact)
acos_p = unop("acos", _f32_compute(np.arccos), _inexact)
atan_p = unop("atan", _f32_compute(np.arctan), _inexact)
sinh_p = unop("sinh", _f32_compute(np.sinh), _inexact)
cosh_p = unop("cosh", _f32_compute(np.cosh), _inexact)
asinh_p = unop("asinh", _f32_compute(np.arcsinh), _inexact)
acosh_p = unop("acosh", _f32_compute(np.arccosh), _inexact)
atanh_p = unop("atanh", _f32_compute(np.arctanh), _inexact)
sqrt_p = unop("sqrt", _f32_compute(np.sqrt), _inexact)
rsqrt_p = unop("rsqrt", _f32_compute(_rsqrt), _inexact)
cbrt_p = unop("cbrt", _f32_compute(np.cbrt), _float)
erf_p = unop("erf", _f32_compute(_scipy_special("erf")), _float)
erfc_p = unop("erfc", _f32_compute(_scipy_special("erfc")), _float)
erf_inv_p = unop("erf_inv", _f32_compute(_scipy_special("erfinv")), _float)
lgamma_p = unop("lgamma", _f32_compute(_scipy_special("gammaln")), _float)
digamma_p = unop("digamma", _f32_compute(_scipy_special("digamma")), _float)
bessel_i0e_p = unop("bessel_i0e", _f32_compute(_scipy_special("i0e")), _float)
bessel_i1e_p = unop("bessel_i1e", _f32_compute(_scipy_special("i1e")), _float)
not_p = unop("not", np.invert, _int_bool)
population_count_p = unop("population_count", _popcount, _int)
clz_p = unop("clz", _clz, _int)
conj_p = unop("conj", np.conjugate, _complex | {np.dtype(np.float32), np.dtype(np.float64)}, lambda dt: _complex_dtype(dt) if dt.kind == "f" else dt)
real_p = unop("real", np.real, _complex, _real_dtype)
imag_p = unop("imag", np.imag, _complex, _real_dtype)
abs_p = unop("abs", np.abs, _sint | _inexact, _real_dtype)

add_p = binop("add", np.add, _num | _bool)
sub_p = binop("sub", np.subtract, _num)
mul_p = binop("mul", np.multiply, _num | _bool)
div_p = binop("div", _div_impl, _num)
rem_p = binop("rem", _rem_impl, _int | _float)
pow_p = binop("pow", np.power, _inexact)
max_p = binop("max", np.maximum, _any)
min_p = binop("min", np.minimum, _any)
nextafter_p = binop("nextafter", _nextafter, _float)
atan2_p = binop("atan2", _atan2, _inexact)
and_p = binop("and", np.bitwise_and, _int_bool)
or_p = binop("or", np.bitwise_or, _int_bool)
xor_p = binop("xor", np.bitwise_xor, _int_bool)
shift_left_p = binop("shift_left", _shift_left, _int)
shift_right_arithmetic_p = binop("shift_right_arithmetic", _shift_right_arithmetic, _int)
shift_right_logical_p = binop("shift_right_logical", _shift_right_logical, _int)
complex_p = binop("complex", lambda x, y: x + 1j * y,
                  {np.dtype(np.float32), np.dtype(np.float64)}, _complex_dtype)
eq_p = binop("eq", np.equal, _any, _bool_result)
ne_p = binop("ne", np.not_equal, _any, _bool_result)
lt_p = binop("lt", np.less, _ordered, _bool_result)
le_p = binop("le", np.less_equal, _ordered, _bool_result)
gt_p = binop("gt", np.greater, _ordered, _bool_result)
ge_p = binop("ge", np.greater_equal, _ordered, _bool_result)
# igamma family: regularized incomplete gamma functions.
igamma_p = binop("igamma", lambda a, x: _sp2("gammainc", a, x), _float)
igammac_p = binop("igammac", lambda a, x: _sp2("gammaincc", a, x), _float)
random_gamma_grad_p = binop("random_gamma_grad", lambda a, x: _gamma_grad(a, x), _float)
polygamma_p = binop("polygamma", lambda m, x: _sp2("polygamma", m, x), _float)
zeta_p = binop("zeta", lambda x, q: _sp2("zeta", x, q), _float)


def _sp2(name, a, b):
  import scipy.special as sp
  dt = a.dtype
  if dt in (dtypes.bfloat16, np.dtype(np.float16)):
    a, b = a.astype(np.float32), b.astype(np.float32)
  return np.asarray(getattr(sp, name)(a, b)).astype(dt)


def _gamma_grad(a, x):
  """d/da of the gamma sample x ~ Gamma(a) via implicit differentiation (numeric)."""
  import scipy.special as sp
  a64, x64 = np.asarray(a, np.float64), np.asarray(x, np.float64)
  eps = 1e-4 * np.maximum(a64, 1e-3)
  dcdf_da = (sp.gammainc(a64 + eps, x64) - sp.gammainc(a64 - eps, x64)) / (2 * eps)
  pdf = np.exp((a64 - 1) * np.log(x64) - x64 - sp.gammaln(a64))
  return (-dcdf_da / pdf).astype(a.dtype)


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
round_p.def_abstract_eval(
    lambda x, *, rounding_method: (_check_dtype("round", x.dtype, _float), x)[1])


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


# select_n(which, *cases): cases[which] elementwise; which is bool or int32.
select_n_p = Primitive("select_n")


def _select_n_check(which: ShapedArray, *cases: ShapedArray):
  if not cases:
    raise ValueError("select_n called with no cases")
  c0 = cases[0]
  for c in cases[1:]:
    if c.shape != c0.shape or c.dtype != c0.dtype:
      raise TypeError(
          f"select cases must have the same shapes and dtypes, got "
          f"[{', '.join(c.str_short(False) for c in cases)}].")
  if which.dtype != np.bool_ and which.dtype.kind not in "iu":
    raise TypeError(f"select `which` must be boolean or integer type, got {which.dtype}.")
  if which.dtype == np.bool_ and len(cases) > 2:
    raise TypeError("select with boolean `which` cannot have > 2 cases.")
  if which.shape and which.shape != c0.shape:
    raise TypeError(f"select `which` must be scalar or have the same shape as cases, got "
                    f"`which` shape {which.shape} but case shape {c0.shape}.")
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


# clamp(min, x, max)
clamp_p = Primitive("clamp")


def _clamp_check(lo: ShapedArray, x: ShapedArray, hi: ShapedArray):
  _check_dtype("clamp", x.dtype, _ordered - _bool)
  for name, b in (("min", lo), ("max", hi)):
    if b.dtype != x.dtype:
      raise TypeError(f"clamp requires {name}.dtype == operand.dtype, got "
                      f"{b.dtype.name} and {x.dtype.name}.")
    if b.shape and b.shape != x.shape:
      raise TypeError(f"clamp requires {name}.shape == operand.shape or {name}.shape "
                      f"== (), got {b.shape} and {x.shape}.")
  return x


def _clamp_impl(lo, x, hi):
  aval = _clamp_check(lo.aval, x.aval, hi.aval)
  r = np.minimum(np.maximum(x._value, lo._value), hi._value)
  return ArrayImpl(np.asarray(r, aval.dtype) if aval.shape else np.asarray(r, aval.dtype)[()],
                   x.weak_type)


clamp_p.def_impl(_clamp_impl)
clamp_p.def_abstract_eval(_clamp_check)


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


bitcast_convert_type_p = Primitive("bitcast_convert_type")


def _bitcast_shape(x: ShapedArray, new_dtype):
  a, b = x.dtype.itemsize, np.dtype(new_dtype).itemsize
  if a == b:
    return x.shape
  if a > b:
    return (*x.shape, a // b)
  if not x.shape or x.shape[-1] != b // a:
    raise TypeError(f"Attempting to convert array of shape {x.shape} from {x.dtype} to "
                    f"{np.dtype(new_dtype)}; last dimension must be {b // a}.")
  return x.shape[:-1]


def _bitcast_abstract(x, *, new_dtype):
  if x.dtype == np.bool_ or np.dtype(new_dtype) == np.bool_:
    raise TypeError("lax.bitcast_convert_type does not support bool")
  return ShapedArray(_bitcast_shape(x, new_dtype), new_dtype)


def _bitcast_impl(x, *, new_dtype):
  aval = _bitcast_abstract(x.aval, new_dtype=new_dtype)
  v = np.ascontiguousarray(x._value)
  return ArrayImpl(v.view(new_dtype).reshape(aval.shape), False)


bitcast_convert_type_p.def_impl(_bitcast_impl)
bitcast_convert_type_p.def_abstract_eval(_bitcast_abstract)


reduce_precision_p = Primitive("reduce_precision")


def _reduce_precision_np(v, exponent_bits, mantissa_bits):
  """Rounds float values to the given exponent/mantissa widths (round to nearest even)."""
  dt = v.dtype
  finfo = dtypes.finfo(dt)
  nexp, nmant = finfo.nexp, finfo.nmant
  if exponent_bits >= nexp and mantissa_bits >= nmant:
    return v
  wide = np.asarray(v, np.float64)
  bits = wide.view(np.uint64)
  if mantissa_bits < 52:
    drop = 52 - mantissa_bits
    half = np.uint64(1) << np.uint64(drop - 1)
    last = (bits >> np.uint64(drop)) & np.uint64(1)
    rounded = (bits + (half - np.uint64(1)) + last) & ~((np.uint64(1) << np.uint64(drop)) - np.uint64(1))
    bits = np.where(np.isnan(wide), bits, rounded)
  out = bits.view(np.float64)
  if exponent_bits < 11:
    emax = 2 ** (exponent_bits - 1) - 1
    max_val = (2 - 2.0 ** -mantissa_bits) * 2.0 ** emax
    min_normal = 2.0 ** (1 - emax)
    out = np.where(np.abs(out) > max_val, np.copysign(np.inf, out), out)
    out = np.where(np.abs(out) < min_normal, np.copysign(0.0, out), out)
    out = np.where(np.isnan(wide), wide, out)
  return out.astype(dt)


def _reduce_precision_impl(x, *, exponent_bits, mantissa_bits):
  _check_dtype("reduce_precision", x.dtype, _float)
  out = _reduce_precision_np(np.asarray(x._value), exponent_bits, mantissa_bits)
  return ArrayImpl(out if x.ndim else out[()], x.weak_type)


reduce_precision_p.def_impl(_reduce_precision_impl)
reduce_precision_p.def_abstract_eval(
    lambda x, *, exponent_bits, mantissa_bits: (_check_dtype("reduce_precision", x.dtype, _float), x)[1])


# ---------------------------------------------------------------- shape primitives


def _canon_shape(shape, what="shape") -> tuple:
  try:
    out = tuple(core.concrete_dim(d, f"The {what} argument must be static.") for d in shape)
  except TypeError as e:
    if isinstance(e, core.ConcretizationTypeError):
      raise
    raise TypeError(f"{what} must be a sequence of integers, got {shape!r}") from None
  if any(d < 0 for d in out):
    raise TypeError(f"{what} elements must be nonnegative, got {out}")
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
  for i, d in enumerate(broadcast_dimensions):
    if not 0 <= d < len(shape) or x.shape[i] not in (1, shape[d]):
      raise TypeError(
          f"broadcast_in_dim operand dimension sizes must either be 1, or be equal to "
          f"their corresponding dimensions in the target broadcast shape; got operand of "
          f"shape {x.shape}, target broadcast shape {shape}, broadcast_dimensions "
          f"{broadcast_dimensions}")
  if list(broadcast_dimensions) != sorted(set(broadcast_dimensions)):
    raise TypeError(f"broadcast_in_dim broadcast_dimensions must be strictly increasing; "
                    f"got broadcast_dimensions {broadcast_dimensions}")
  return ShapedArray(shape, x.dtype, x.weak_type)


def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions, sharding=None):
  _broadcast_in_dim_check(x.aval, shape, broadcast_dimensions)
  v = np.asarray(x._value)
  expanded = [1] * len(shape)
  for i, d in enumerate(broadcast_dimensions):
    expanded[d] = v.shape[i]
  return ArrayImpl(np.broadcast_to(v.reshape(expanded), shape), x.weak_type)


broadcast_in_dim_p.def_impl(_broadcast_in_dim_impl)
broadcast_in_dim_p.def_abstract_eval(_broadcast_in_dim_check)
broadcast_in_dim_p.pp_params = lambda p: (
    {"broadcast_dimensions": p["broadcast_dimensions"]} if p["broadcast_dimensions"] else {})


reshape_p = Primitive("reshape")


def _reshape_check(x: ShapedArray, *, new_sizes, dimensions=None, sharding=None):
  if math.prod(new_sizes) != math.prod(x.shape):
    raise TypeError(f"reshape total size must be unchanged, got new_sizes {new_sizes} "
                    f"(of total size {math.prod(new_sizes)}) for shape {x.shape} "
                    f"(of total size {math.prod(x.shape)}).")
  return ShapedArray(new_sizes, x.dtype, x.weak_type)


def _reshape_impl(x, *, new_sizes, dimensions=None, sharding=None):
  _reshape_check(x.aval, new_sizes=new_sizes)
  v = np.asarray(x._value)
  if dimensions is not None:
    v = v.transpose(dimensions)
  return ArrayImpl(v.reshape(new_sizes), x.weak_type)


reshape_p.def_impl(_reshape_impl)
reshape_p.def_abstract_eval(_reshape_check)


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


rev_p = Primitive("rev")


def _rev_check(x: ShapedArray, *, dimensions):
  if any(not 0 <= d < x.ndim for d in dimensions) or len(set(dimensions)) != len(dimensions):
    raise TypeError(f"rev dimensions must be unique and in range, got {dimensions} for "
                    f"operand of shape {x.shape}")
  return x


def _rev_impl(x, *, dimensions):
  _rev_check(x.aval, dimensions=dimensions)
  v = np.asarray(x._value)
  idx = tuple(slice(None, None, -1) if i in dimensions else slice(None) for i in range(v.ndim))
  return ArrayImpl(v[idx], x.weak_type)


rev_p.def_impl(_rev_impl)
rev_p.def_abstract_eval(_rev_check)


iota_p = Primitive("iota")


def _iota_check(*, dtype, shape, dimension, sharding=None):
  if not 0 <= dimension < len(shape):
    raise ValueError(f"iota dimension must be between 0 and len(shape), got "
                     f"dimension={dimension} for shape {shape}")
  _check_dtype("iota", np.dtype(dtype), _num)
  return ShapedArray(shape, dtype)


def _iota_impl(*, dtype, shape, dimension, sharding=None):
  _iota_check(dtype=dtype, shape=shape, dimension=dimension)
  r = np.arange(shape[dimension], dtype=dtype)
  bshape = [1] * len(shape)
  bshape[dimension] = shape[dimension]
  return ArrayImpl(np.broadcast_to(r.reshape(bshape), shape), False)


iota_p.def_impl(_iota_impl)
iota_p.def_abstract_eval(_iota_check)


concatenate_p = Primitive("concatenate")


def _concatenate_check(*xs: ShapedArray, dimension):
  if not xs:
    raise TypeError("concatenate requires at least one operand")
  x0 = xs[0]
  if not 0 <= dimension < x0.ndim:
    raise TypeError(f"concatenate dimension out of bounds: dimension {dimension} for "
                    f"shapes {', '.join(str(x.shape) for x in xs)}.")
  for x in xs:
    if x.dtype != x0.dtype:
      raise TypeError(f"Cannot concatenate arrays with different dtypes: "
                      f"{', '.join(x.dtype.name for x in xs)}.")
    if x.ndim != x0.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, x0.shape))
                                if i != dimension):
      raise TypeError(f"Cannot concatenate arrays with shapes that differ in dimensions "
                      f"other than the one being concatenated: concatenating along "
                      f"dimension {dimension} for shapes "
                      f"{', '.join(str(x.shape) for x in xs)}.")
  shape = list(x0.shape)
  shape[dimension] = sum(x.shape[dimension] for x in xs)
  return ShapedArray(shape, x0.dtype, all(x.weak_type for x in xs))


def _concatenate_impl(*xs, dimension):
  aval = _concatenate_check(*(x.aval for x in xs), dimension=dimension)
  return ArrayImpl(np.concatenate([np.asarray(x._value) for x in xs], axis=dimension),
                   aval.weak_type)


concatenate_p.def_impl(_concatenate_impl)
concatenate_p.def_abstract_eval(_concatenate_check)


pad_p = Primitive("pad")


def _pad_check(x: ShapedArray, pv: ShapedArray, *, padding_config):
  if x.dtype != pv.dtype:
    raise TypeError(f"pad operand and padding_value must be same dtype: got "
                    f"{x.dtype.name} and {pv.dtype.name}.")
  if pv.shape:
    raise TypeError(f"pad padding_value must be a scalar, got shape {pv.shape}.")
  if len(padding_config) != x.ndim:
    raise ValueError(f"length of padding_config must equal the number of axes of "
                     f"operand, got padding_config {padding_config} for operand shape "
                     f"{x.shape}")
  shape = []
  for d, (lo, hi, interior) in zip(x.shape, padding_config):
    if interior < 0:
      raise ValueError(f"interior padding in padding_config must be nonnegative, got "
                       f"padding_config {padding_config}")
    n = lo + hi + d + builtins.max(d - 1, 0) * interior
    if n < 0:
      raise ValueError(f"Dimension size after padding is not at least 0, got result "
                       f"shape for padding_config {padding_config} of operand shape "
                       f"{x.shape}")
    shape.append(n)
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
  if len(xc) != len(yc) or len(xb) != len(yb):
    raise TypeError(f"dot_general requires equal numbers of contracting and batch "
                    f"dimensions, got {dimension_numbers}.")
  for d in (*xc, *xb):
    if not 0 <= d < x.ndim:
      raise TypeError(f"dot_general requires lhs dimension numbers to be nonnegative and "
                      f"less than the number of axes of the lhs value, got "
                      f"lhs_contracting_dimensions of {xc} and lhs_batch_dimensions of "
                      f"{xb} for lhs of rank {x.ndim}")
  for d in (*yc, *yb):
    if not 0 <= d < y.ndim:
      raise TypeError(f"dot_general requires rhs dimension numbers to be nonnegative and "
                      f"less than the number of axes of the rhs value, got "
                      f"rhs_contracting_dimensions of {yc} and rhs_batch_dimensions of "
                      f"{yb} for rhs of rank {y.ndim}")
  if tuple(x.shape[d] for d in xb) != tuple(y.shape[d] for d in yb):
    raise TypeError(f"dot_general requires lhs batch dimensions and rhs batch dimensions "
                    f"to have the same shape, got {tuple(x.shape[d] for d in xb)} and "
                    f"{tuple(y.shape[d] for d in yb)}.")
  if tuple(x.shape[d] for d in xc) != tuple(y.shape[d] for d in yc):
    raise TypeError(f"dot_general requires contracting dimensions to have the same "
                    f"shape, got {tuple(x.shape[d] for d in xc)} and "
                    f"{tuple(y.shape[d] for d in yc)}.")
  if x.dtype != y.dtype and preferred_element_type is None:
    raise TypeError(f"dot_general requires operands of the same dtype, got "
                    f"{x.dtype.name} and {y.dtype.name}; pass preferred_element_type.")
  batch = [x.shape[d] for d in xb]
  xfree = [s for i, s in enumerate(x.shape) if i not in xc and i not in xb]
  yfree = [s for i, s in enumerate(y.shape) if i not in yc and i not in yb]
  dt = x.dtype if preferred_element_type is None else np.dtype(preferred_element_type)
  return ShapedArray((*batch, *xfree, *yfree), dt, x.weak_type and y.weak_type)


def _dot_general_np(x, y, dimension_numbers, out_dtype):
  (xc, yc), (xb, yb) = dimension_numbers
  if (not xb and y.ndim <= 2 and xc == (x.ndim - 1,) and yc == (0,) and x.dtype == y.dtype
      == out_dtype and out_dtype.kind in "fc" and out_dtype.itemsize >= 4):
    return np.dot(x, y)  # plain matrix/vector product: skip the transposes
  xf = [i for i in range(x.ndim) if i not in xc and i not in xb]
  yf = [i for i in range(y.ndim) if i not in yc and i not in yb]
  # Move to (batch, free, contract) / (batch, contract, free) and use matmul.
  xt = x.transpose((*xb, *xf, *xc))
  yt = y.transpose((*yb, *yc, *yf))
  b = [x.shape[d] for d in xb]
  m = math.prod(x.shape[d] for d in xf)
  n = math.prod(y.shape[d] for d in yf)
  k = math.prod(x.shape[d] for d in xc)
  compute = out_dtype
  if x.dtype != compute:
    xt = xt.astype(compute)
  if y.dtype != compute:
    yt = yt.astype(compute)
  if compute.kind == "b":
    out = np.matmul(xt.reshape(*b, m, k).astype(np.int8), yt.reshape(*b, k, n).astype(np.int8)) > 0
  elif compute in (dtypes.bfloat16, np.dtype(np.float16)):
    out = np.matmul(xt.reshape(*b, m, k).astype(np.float32),
                    yt.reshape(*b, k, n).astype(np.float32)).astype(compute)
  else:
    out = np.matmul(xt.reshape(*b, m, k), yt.reshape(*b, k, n))
  return out.reshape((*b, *(x.shape[d] for d in xf), *(y.shape[d] for d in yf)))


def _dot_general_impl(x, y, *, dimension_numbers, precision=None,
                      preferred_element_type=None, out_sharding=None):
  aval = _dot_general_check(x.aval, y.aval, dimension_numbers=dimension_numbers,
                            preferred_element_type=preferred_element_type)
  out = _dot_general_np(np.asarray(x._value), np.asarray(y._value), dimension_numbers,
                        aval.dtype)
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


# ---------------------------------------------------------------- reductions


def _reduce_check(name, accepted, x: ShapedArray, axes):
  if accepted is _int_bool and x.dtype not in accepted:
    raise TypeError(f"logical reduction requires operand dtype bool or int, got "
                    f"{x.dtype.name}.")
  _check_dtype(name, x.dtype, accepted)
  for a in axes:
    if not 0 <= a < x.ndim:
      raise ValueError(f"reduction axes {axes} out of bounds for operand of shape "
                       f"{x.shape}")
  if len(set(axes)) != len(axes):
    raise ValueError(f"duplicate value in 'axes' of reduction: {axes}")
  return tuple(s for i, s in enumerate(x.shape) if i not in axes)


def reduction(name: str, npfn, accepted, has_sharding=False) -> Primitive:
  """A monoid reduction over static ``axes``."""
  p = Primitive(name)

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
  return p


def _np_sum(v, axis):
  if v.dtype == np.bool_:
    return np.any(v, axis=axis)
  if v.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
    return np.sum(v.astype(np.float32), axis=axis).astype(v.dtype)
  return np.sum(v, axis=axis, dtype=v.dtype)


def _np_prod(v, axis):
  if v.dtype == np.bool_:
    return np.all(v, axis=axis)
  if v.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
    return np.prod(v.astype(np.float32), axis=axis).astype(v.dtype)
  return np.prod(v, axis=axis, dtype=v.dtype)


def _np_max(v, axis):
  if v.size == 0:
    return np.full(tuple(s for i, s in enumerate(v.shape) if i not in axis),
                   _identity("max", v.dtype), v.dtype)
  return np.max(v, axis=axis)


def _np_min(v, axis):
  if v.size == 0:
    return np.full(tuple(s for i, s in enumerate(v.shape) if i not in axis),
                   _identity("min", v.dtype), v.dtype)
  return np.min(v, axis=axis)


def _identity(kind, dt):
  if dt == np.bool_:
    return kind == "min"
  if dt.kind in "iu":
    info = np.iinfo(dt)
    return info.min if kind == "max" else info.max
  return -np.inf if kind == "max" else np.inf


reduce_sum_p = reduction("reduce_sum", _np_sum, _num | _bool, has_sharding=True)
reduce_prod_p = reduction("reduce_prod", _np_prod, _num | _bool)
reduce_max_p = reduction("reduce_max", _np_max, _any)
reduce_min_p = reduction("reduce_min", _np_min, _any)
reduce_and_p = reduction("reduce_and", lambda v, axis: np.bitwise_and.reduce(v, axis=axis),
                         _int_bool)
reduce_or_p = reduction("reduce_or", lambda v, axis: np.bitwise_or.reduce(v, axis=axis),
                        _int_bool)
reduce_xor_p = reduction("reduce_xor", lambda v, axis: np.bitwise_xor.reduce(v, axis=axis),
                         _int_bool)


def _arg_reduction(name, npfn):
  p = Primitive(name)

  def check(x: ShapedArray, axes, index_dtype):
    _check_dtype(name, x.dtype, _ordered)
    if len(axes) != 1 or not 0 <= axes[0] < x.ndim:
      raise ValueError(f"{name} requires a single in-bounds axis, got axes={axes} for "
                       f"operand of shape {x.shape}")
    if x.shape[axes[0]] == 0:
      raise ValueError(f"{name} on an empty axis: operand shape {x.shape}, axis {axes[0]}")
    if np.dtype(index_dtype).kind not in "iu":
      raise TypeError(f"index_dtype must be an integer type, but got {index_dtype}")
    return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i != axes[0]), index_dtype)

  def impl(x, *, axes, index_dtype):
    aval = check(x.aval, axes, index_dtype)
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
  return p


argmax_p = _arg_reduction("argmax", np.argmax)
argmin_p = _arg_reduction("argmin", np.argmin)


# ---------------------------------------------------------------- cumulative ops


def _cumulative(name, npfn, accepted):
  p = Primitive(name)

  def check(x: ShapedArray, axis):
    _check_dtype(name, x.dtype, accepted)
    if not 0 <= axis < builtins.max(x.ndim, 1) or x.ndim == 0:
      raise ValueError(f"axis {axis} is out of bounds for array of shape {x.shape}")
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
  return p


def _np_cumsum(v, axis):
  if v.dtype == np.bool_:
    return np.logical_or.accumulate(v, axis=axis)
  if v.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
    return np.cumsum(v.astype(np.float32), axis=axis).astype(v.dtype)
  return np.cumsum(v, axis=axis, dtype=v.dtype)


def _np_cumprod(v, axis):
  if v.dtype == np.bool_:
    return np.logical_and.accumulate(v, axis=axis)
  if v.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
    return np.cumprod(v.astype(np.float32), axis=axis).astype(v.dtype)
  return np.cumprod(v, axis=axis, dtype=v.dtype)


def _np_logaddexp_accumulate(v, axis):
  if v.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
    return np.logaddexp.accumulate(v.astype(np.float32), axis=axis).astype(v.dtype)
  return np.logaddexp.accumulate(v, axis=axis)


cumsum_p = _cumulative("cumsum", _np_cumsum, _num | _bool)
cumprod_p = _cumulative("cumprod", _np_cumprod, _num | _bool)
cummax_p = _cumulative("cummax", lambda v, a: np.maximum.accumulate(v, axis=a), _any)
cummin_p = _cumulative("cummin", lambda v, a: np.minimum.accumulate(v, axis=a), _any)
cumlogsumexp_p = _cumulative("cumlogsumexp", _np_logaddexp_accumulate, _float)


# ---------------------------------------------------------------- sort


sort_p = Primitive("sort")
sort_p.multiple_results = True


def _sort_check(*xs: ShapedArray, dimension, is_stable, num_keys):
  if not xs:
    raise TypeError("sort requires at least one operand")
  if not 1 <= num_keys <= len(xs):
    raise ValueError(f"num_keys must be between 1 and the number of operands "
                     f"({len(xs)}), got {num_keys}")
  for x in xs:
    if x.shape != xs[0].shape:
      raise TypeError(f"sort arguments must have equal shapes, got "
                      f"{', '.join(str(x.shape) for x in xs)}")
  if not 0 <= dimension < xs[0].ndim:
    raise ValueError(f"sort dimension {dimension} out of bounds for shape {xs[0].shape}")
  return list(xs)


def _sort_keys(v):
  """Key columns, primary first, giving XLA's total order for floats:
  -inf < ... < -0.0 < 0.0 < ... < inf < NaN; complex values order by (real, imag)."""
  if v.dtype.kind == "c":
    return _sort_keys(np.real(v)) + _sort_keys(np.imag(v))
  if v.dtype.kind == "f" or v.dtype == dtypes.bfloat16:
    f = v.astype(np.float64)
    nan = np.isnan(f)
    return [nan, np.where(nan, 0.0, f), ~np.signbit(f)]
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


# ================================================================ lax API functions


def _bind2(p):
  def fn(x, y):
    if type(x) is not ArrayImpl or type(y) is not ArrayImpl:
      x, y = _args2(x, y)
    return p.bind(x, y)
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


def square(x):
  return integer_pow(x, 2)


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
  shape = _canon_shape(shape)
  return iota_p.bind(dtype=dtypes.canonicalize_dtype(dtype), shape=shape,
                     dimension=int(dimension), sharding=None)


def concatenate(operands, dimension):
  operands = [_to_array(o) for o in operands]
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
    axes = tuple(sorted(_canon_axis(a, operand.ndim) for a in axes))
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
  return argmax_p.bind(operand, axes=(_canon_axis(axis, operand.ndim),),
                       index_dtype=dtypes.canonicalize_dtype(index_dtype))


def argmin(operand, axis: int, index_dtype):
  operand = _to_array(operand)
  return argmin_p.bind(operand, axes=(_canon_axis(axis, operand.ndim),),
                       index_dtype=dtypes.canonicalize_dtype(index_dtype))


def _cum_api(p):
  def fn(operand, axis: int = 0, reverse: bool = False):
    operand = _to_array(operand)
    return p.bind(operand, axis=_canon_axis(axis, operand.ndim), reverse=bool(reverse))
  fn.__name__ = p.name
  return fn


cumsum = _cum_api(cumsum_p)
cumprod = _cum_api(cumprod_p)
cummax = _cum_api(cummax_p)
cummin = _cum_api(cummin_p)
cumlogsumexp = _cum_api(cumlogsumexp_p)


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
  if isinstance(operand, (tuple, list)):
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

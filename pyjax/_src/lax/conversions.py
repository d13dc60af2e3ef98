"""Type conversion primitives: convert_element_type, bitcast_convert_type and
reduce_precision, each one block with all its rules, and their lax functions."""
from __future__ import annotations

import builtins

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.core import Primitive, ShapedArray, Tracer
from pyjax._src.interpreters import ad, batching
from pyjax._src.lax.utils import (_check_dtype, _float, _real_dtype, _to_array,
                                  param_sharding, same_sharding_rule, typed)

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
    lambda x, *, new_dtype, weak_type, sharding=None: typed(
        ShapedArray(x.shape, new_dtype, weak_type), sharding))
convert_element_type_p.sharding_rule = (
    lambda x, *, sharding=None, **_: x.sharding if sharding is None
    else param_sharding(sharding, len(x.shape)))
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
    with np.errstate(over="ignore"):  # (float16's range ends below 2**31: top is inf)
      top = np.array(2.0 ** (info.bits - (new.kind == "i"))).astype(old)
      hi = np.array(np.nextafter(top.astype(np.float64), 0)).astype(old)
    bot = -top if new.kind == "i" else np.zeros((), old)
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
bitcast_convert_type_p.sharding_rule = lambda x, *, new_dtype: (
    x.sharding if np.dtype(new_dtype).itemsize == x.dtype.itemsize else None)
ad.defjvp_zero(bitcast_convert_type_p)
# (a bitcast to the operand's own type is the operand: IREE fails on complex ones)
bitcast_convert_type_p.lower = lambda ctx, x, *, new_dtype: x if x.aval.dtype == np.dtype(
    new_dtype) else ctx.op("stablehlo.bitcast_convert", [x], ctx.aval_out)


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
reduce_precision_p.sharding_rule = same_sharding_rule
reduce_precision_p.def_abstract_eval(
    lambda x, *, exponent_bits, mantissa_bits: (_check_dtype("reduce_precision", x.dtype, _float), x)[1])
ad.deflinear(reduce_precision_p, lambda ct, x, **params: [reduce_precision_p.bind(ct, **params)])
reduce_precision_p.batch = batching.vectorized_batcher(reduce_precision_p)


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

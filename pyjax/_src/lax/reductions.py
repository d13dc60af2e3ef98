"""Reductions other than reduce_sum (which lax.py holds: the transposes of its
broadcasting ops need it), argmax/argmin and the cumulative ops. Each primitive is one
block with all its rules; their lax functions follow."""
from __future__ import annotations

import math
import operator
from functools import partial

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.interpreters import ad
from pyjax._src.interpreters import lowering as mlir
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.lax import slicing
from pyjax._src.lax.cpu_numerics import blocked_scan, tree_reduce
from pyjax._src.lax.lax import (
    _const, _reduce_api, _reduce_batch, _zeros, add, broadcast_in_dim, complex,
    _convert_element_type, div, eq, exp, full, imag, is_finite, log, log1p, lt, max,
    mul, real, reduction, rem, reshape, select, sub, transpose, reduce_sum)
from pyjax._src.lax.utils import _any, _check_dtype, _int_bool, _number, _ordered, _to_array
from pyjax._src.lax.utils import ShardingTypeError, make_sharding, spec_of

def _np_prod(v, axis):
  if v.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
    return tree_reduce(np.multiply, v.astype(np.float32), axis).astype(v.dtype)
  if v.size > mlir.TREE_BLOCK and v.dtype.kind in "fc":
    return tree_reduce(np.multiply, v, axis)
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
  left = cumprod(slicing.concatenate([ones, slicing.slice_in_dim(xt, 0, n - 1)], 0), 0)
  right = cumprod(slicing.concatenate([slicing.slice_in_dim(xt, 1, n), ones], 0), 0,
                  reverse=True)
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
    check(x.aval, axes, index_dtype)
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
  p.sharding_rule = lambda x, *, axes, index_dtype: make_sharding(  # the axis goes
      x.sharding.mesh, [s for i, s in enumerate(spec_of(x)) if i != axes[0]])
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

  def sharding_rule(x, *, axis, reverse):
    """JAX's: the scanned axis must be replicated."""
    if spec_of(x)[axis] is not None:
      raise ShardingTypeError(f"Input should be unsharded over the axis being reduced. "
                              f"Got input type={x} and axis={axis}")
    return x.sharding
  p.sharding_rule = sharding_rule
  p.batch = lambda vals, dims, *, axis, reverse: (
      p.bind(vals[0], axis=axis + (axis >= dims[0]), reverse=reverse), dims[0])
  return p


def _np_scan(ufunc):
  """``ufunc.accumulate``; floats as a blocked scan, half floats in float32."""
  def scan(v, axis):
    if v.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
      return blocked_scan(ufunc, v.astype(np.float32), axis).astype(v.dtype)
    if v.dtype.kind in "fc":
      return blocked_scan(ufunc, v, axis)
    return ufunc.accumulate(v, axis=axis, dtype=v.dtype)
  return scan


_np_cumsum, _np_cumprod = _np_scan(np.add), _np_scan(np.multiply)


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
  return _np_scan(np.logaddexp)(v, axis)


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
  if not x.aval.size:  # (IREE rejects the empty window)
    return x
  if x.aval.dtype.kind != "c":
    return _cumlogsumexp_real_lower(ctx, x, axis=axis, reverse=reverse)
  # complex: a reduce_window spanning the axis whose body is JAX's complex logaddexp
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


# cumprod/cummax/cummin/cumlogsumexp's JVPs differentiate lax.associative_scan, as
# JAX's: they are registered in control_flow/loops.py (which defines it).


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


reduce_prod = _reduce_api(reduce_prod_p, "reduce_prod")
reduce_max = _reduce_api(reduce_max_p, "reduce_max")
reduce_min = _reduce_api(reduce_min_p, "reduce_min")
reduce_and = _reduce_api(reduce_and_p, "reduce_and")
reduce_or = _reduce_api(reduce_or_p, "reduce_or")
reduce_xor = _reduce_api(reduce_xor_p, "reduce_xor")
cumsum = _cum_api(cumsum_p)
cumprod = _cum_api(cumprod_p)
cummax = _cum_api(cummax_p)
cummin = _cum_api(cummin_p)
cumlogsumexp = _cum_api(cumlogsumexp_p)

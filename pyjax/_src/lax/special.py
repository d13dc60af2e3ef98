"""Special functions: the erf and gamma families, Bessel functions, zeta. Each
primitive is one block with all its rules; their lax functions follow.

Eagerly most are SciPy's; under jit, CHLO's or (where CHLO has none, or IREE's
differs from XLA's) XLA's algorithm written with lax operations."""
from __future__ import annotations

from functools import partial

import numpy as np

from pyjax._src import dtypes
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import lowering as mlir
from pyjax._src.lax.control_flow.while_loop import while_loop
from pyjax._src.lax.cpu_numerics import (_erf_inv_f32, _erf_inv_f32_hlo, _erf_inv_f64,
                                         _digamma, _f32_compute, _i1e, _lgamma,
                                         _scipy_special, _sp2, _xla_f32,
                                         _xla_f32_lower)
from pyjax._src.lax.lax import (
    _bind2, _const, _unary_api, abs, add, bitwise_and, bitwise_not, bitwise_or,
    broadcast_in_dim, convert_element_type, div, eq, exp, full_like, ge, gt, le, log, log1p,
    lt, mul, ne, neg, rem, select, sign, sqrt, square, sub)
from pyjax._src.lax.reductions import reduce_or
from pyjax._src.lax.utils import (_check_dtype, _float, _same_dtypes_check, _to_array, binop,
                                  unop)

_erf_inv_lower = _xla_f32_lower(_erf_inv_f32_hlo, mlir.elementwise("chlo.erf_inv"))

erf_p = unop("erf", _f32_compute(_scipy_special("erf")), _float, lower=mlir.elementwise("chlo.erf", True))
ad.defjvp(erf_p, lambda t, x: mul(_const(x, 2. / np.sqrt(np.pi)),
                                     mul(t, exp(neg(square(x))))))
erfc_p = unop("erfc", _f32_compute(_scipy_special("erfc")), _float, lower=mlir.elementwise("chlo.erfc", True))
ad.defjvp(erfc_p, lambda t, x: mul(_const(x, -2. / np.sqrt(np.pi)),
                                      mul(t, exp(neg(square(x))))))
erf_inv_p = unop("erf_inv", _xla_f32(_scipy_special("erfinv"), _erf_inv_f32, _erf_inv_f64), _float, lower=_erf_inv_lower)
ad.defjvp2(erf_inv_p, lambda t, ans, x: mul(_const(x, np.sqrt(np.pi) / 2.),
                                               mul(t, exp(square(ans)))))
lgamma_p = unop("lgamma", _f32_compute(_lgamma), _float, lower=mlir.elementwise("chlo.lgamma", True))
ad.defjvp(lgamma_p, lambda t, x: mul(t, digamma(x)))
def _digamma_lower(ctx, x):  # chlo.digamma(+-0) is -inf; XLA's is NaN
  r = mlir.elementwise("chlo.digamma", True)(ctx, x)
  zero = ctx.compare("EQ", x, ctx.full(0, (), x.aval.dtype))
  return ctx.select(zero, ctx.full(np.nan, x.aval.shape, x.aval.dtype), r)


digamma_p = unop("digamma", _f32_compute(_digamma), _float, lower=_digamma_lower)
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
bessel_i1e_p = unop("bessel_i1e", _f32_compute(_i1e), _float, lower=mlir.elementwise("chlo.bessel_i1e", True))
def _bessel_i1e_jvp(t, ans, x):
  # d/dx i1e(x) = i0e(x) - i1e(x) * (sign(x) + 1/x), which tends to 1/2 at x = 0.
  tiny = gt(abs(x), _const(x, np.finfo(np.float32).eps))
  safe_x = select(tiny, x, full_like(x, 1))
  d = sub(bessel_i0e(safe_x), mul(ans, add(sign(safe_x), div(_const(x, 1), safe_x))))
  return mul(t, select(tiny, d, full_like(x, 0.5)))


ad.defjvp2(bessel_i1e_p, _bessel_i1e_jvp)
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


def _igamma_eager(name, upper):
  """SciPy's P or Q; where a = inf (SciPy: 0 or 1, XLA: NaN for some x), the lowering's
  algorithm."""
  lax_impl = _lax_impl(partial(_igamma_lax, upper=upper))

  def impl(a, x):
    out = _sp2(name, a, x)
    edge = np.isinf(a)
    if edge.any():
      out = np.where(edge, lax_impl(a, x), out).astype(out.dtype)
    return out
  return impl


igamma_p = binop("igamma", _igamma_eager("gammainc", False), _float,
                 lower=mlir.lower_fun(_igamma_lax, compute_f32=True))
ad.defjvp(igamma_p, lambda t, a, x: mul(t, igamma_grad_a(a, x)),
          lambda t, a, x: mul(t, exp(sub(sub(mul(sub(a, _const(a, 1)), log(x)), x),
                                         lgamma(a)))))
igammac_p = binop("igammac", _igamma_eager("gammaincc", True), _float,
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


erf = _unary_api(erf_p)
erfc = _unary_api(erfc_p)
erf_inv = _unary_api(erf_inv_p)
lgamma = _unary_api(lgamma_p)
digamma = _unary_api(digamma_p)
bessel_i0e = _unary_api(bessel_i0e_p)
bessel_i1e = _unary_api(bessel_i1e_p)
igamma = _bind2(igamma_p)
igammac = _bind2(igammac_p)
random_gamma_grad = _bind2(random_gamma_grad_p)
polygamma = _bind2(polygamma_p)
zeta = _bind2(zeta_p)
igamma_grad_a = _bind2(igamma_grad_a_p)


# ---------------------------------------------------------------- betainc
# regularized_incomplete_beta: I_x(a, b), JAX's algorithm (a continued fraction, DLMF
# 8.17.22, by the modified Lentz method, on the side where it converges fast), written
# with lax operations: the eager impl and the lowering run the same function.


def _lentz(num_iterations, small, threshold, numerator, denominator, inputs):
  def cond(v):
    return bitwise_and(lt(v[0], np.int32(num_iterations)), v[1])

  def body(v):
    it, _, c, d, h = v
    pn, pd = numerator(it, *inputs), denominator(it, *inputs)
    small_c = full_like(c, small)
    c = add(pd, div(pn, c))
    c = select(lt(abs(c), small_c), small_c, c)
    d = add(pd, mul(pn, d))
    d = select(lt(abs(d), small_c), small_c, d)
    d = div(full_like(d, 1), d)
    delta = mul(c, d)
    h = mul(h, delta)
    going = reduce_or(ge(abs(sub(delta, full_like(delta, 1))), full_like(delta, threshold)),
                      tuple(range(delta.ndim)))
    return [add(it, np.int32(1)), going, c, d, h]

  pd0 = denominator(np.int32(0), *inputs)
  h = select(lt(abs(pd0), full_like(pd0, small)), full_like(pd0, small), pd0)
  return while_loop(cond, body, [np.int32(1), np.bool_(True), h, full_like(h, 0), h])[4]


def _betainc_lax(a, b, x):
  dt = a.dtype
  shape = a.shape
  one, two = full_like(a, 1), full_like(a, 2)

  def numerator(it, a, b, x):
    it = broadcast_in_dim(it, shape, ())
    even = eq(rem(it, full_like(it, 2)), full_like(it, 0))
    first = eq(it, full_like(it, 1))
    m_int = div(sub(it, full_like(it, 1)), full_like(it, 2))
    m_zero = eq(m_int, full_like(m_int, 0))
    m = convert_element_type(m_int, dt)
    zero_num = div(mul(neg(add(a, b)), x), add(a, one))
    a2m = add(a, mul(two, m))
    even_num = select(m_zero, zero_num,
                      div(mul(mul(neg(add(a, m)), add(add(a, b), m)), x),
                          mul(a2m, add(a2m, one))))
    odd_num = div(mul(mul(m, sub(b, m)), x), mul(sub(a2m, one), a2m))
    return select(first, full_like(x, 1), select(even, even_num, odd_num))

  def denominator(it, a, b, x):
    it = broadcast_in_dim(it, shape, ())
    return select(eq(it, full_like(it, 0)), full_like(x, 0), full_like(x, 1))

  inf = full_like(a, np.inf)
  a_zero = bitwise_or(eq(a, full_like(a, 0)), eq(b, inf))
  b_zero = bitwise_or(eq(b, full_like(b, 0)), eq(a, inf))
  x_zero, x_one = eq(x, full_like(x, 0)), eq(x, full_like(x, 1))
  is_nan = bitwise_or(bitwise_or(ne(a, a), ne(b, b)), ne(x, x))
  res_zero = bitwise_or(bitwise_and(b_zero, bitwise_not(x_one)), bitwise_and(a_zero, x_zero))
  res_one = bitwise_or(bitwise_and(a_zero, bitwise_not(x_zero)), bitwise_and(b_zero, x_one))
  zero = full_like(a, 0)
  res_nan = bitwise_or(bitwise_or(lt(a, zero), lt(b, zero)), bitwise_or(lt(x, zero), gt(x, one)))
  res_nan = bitwise_or(res_nan, bitwise_or(bitwise_and(a_zero, b_zero), is_nan))
  fast = lt(x, div(add(a, one), add(add(a, b), two)))
  a, b = select(fast, a, b), select(fast, b, a)
  x = select(fast, x, sub(one, x))
  eps = np.finfo(dt).eps / 2
  cf = _lentz(200 if dt == np.float32 else 600, dt.type(eps), dt.type(eps), numerator,
              denominator, [a, b, x])
  very_small = full_like(a, np.finfo(dt).tiny * 2)
  lbeta_small = sub(lgamma(b), lgamma(add(a, b)))
  lbeta = add(lgamma(a), lbeta_small)
  factor = select(lt(a, very_small), exp(sub(mul(log1p(neg(x)), b), lbeta_small)),
                  div(exp(sub(add(mul(log(x), a), mul(log1p(neg(x)), b)), lbeta)), a))
  r = mul(cf, factor)
  r = select(fast, r, sub(full_like(r, 1), r))
  r = select(res_zero, full_like(a, 0), r)
  r = select(res_one, full_like(a, 1), r)
  return select(res_nan, full_like(a, np.nan), r)


regularized_incomplete_beta_p = Primitive("regularized_incomplete_beta")


def _betainc_check(a, b, x):
  name = "regularized_incomplete_beta"
  for i, v in enumerate((a, b, x)):
    _check_dtype(name, v.dtype, _float, pos=i)
  _same_dtypes_check(name, a, b, x)
  shapes = {v.shape for v in (a, b, x) if v.shape}
  if len(shapes) > 1:
    if len({len(s) for s in shapes}) > 1:
      raise TypeError(f"{name}: arrays must have the same number of dimensions, got "
                      f"{ {len(s) for s in shapes} }")
    raise TypeError(f"{name} got incompatible shapes for broadcasting: "
                    f"{', '.join(str(v.shape) for v in (a, b, x))}.")
  return ShapedArray(shapes.pop() if shapes else (), a.dtype,
                     a.weak_type and b.weak_type and x.weak_type)


def _betainc_impl(a, b, x):
  aval = _betainc_check(a.aval, b.aval, x.aval)
  return ArrayImpl(np.asarray(_lax_impl(_betainc_lax)(a._value, b._value, x._value),
                              aval.dtype), aval.weak_type)


def _betainc_grad_ab(*_):
  raise ValueError("Betainc gradient with respect to a and b not supported.")


def _betainc_grad_x(t, a, b, x):
  lbeta = sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)))
  one = full_like(a, 1)
  return mul(t, exp(sub(add(mul(sub(b, one), log1p(neg(x))), mul(sub(a, one), log(x))),
                        lbeta)))


regularized_incomplete_beta_p.def_impl(_betainc_impl)
regularized_incomplete_beta_p.def_abstract_eval(_betainc_check)
ad.defjvp(regularized_incomplete_beta_p, _betainc_grad_ab, _betainc_grad_ab, _betainc_grad_x)
regularized_incomplete_beta_p.batch = batching.broadcast_batcher(regularized_incomplete_beta_p)
regularized_incomplete_beta_p.lower = mlir.lower_fun(_betainc_lax, compute_f32=True)


def betainc(a, b, x):
  """The regularized incomplete beta function I_x(a, b), elementwise."""
  a, b, x = (_to_array(v) for v in (a, b, x))
  shapes = [v.shape for v in (a, b, x)]
  if len({len(s) for s in shapes if s}) == 1:  # equal ranks: size-1 dims broadcast
    shape = tuple(max(ds) for ds in zip(*[s for s in shapes if s]))
    if all(d in (1, n) for s in shapes if s for d, n in zip(s, shape)):
      a, b, x = (v if not v.shape or v.shape == shape else
                 broadcast_in_dim(v, shape, tuple(range(len(shape)))) for v in (a, b, x))
  return regularized_incomplete_beta_p.bind(a, b, x)

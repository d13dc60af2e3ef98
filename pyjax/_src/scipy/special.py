"""``jax.scipy.special``: SciPy's special functions on lax and jnp.

Each function runs the same sequence of operations as JAX 0.10.2's (so float32 values
agree closely) with its custom JVP where JAX has one. ``logsumexp``, ``softmax`` and
``log_softmax`` live with ``jax.nn`` (``_src/ops/special.py``). ``factorial`` has no
``exact=True``; ``zeta`` needs ``q`` (no Riemann zeta), as in JAX.
"""
from __future__ import annotations

import operator
from functools import partial

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.custom_derivatives import custom_jvp
from pyjax._src.interpreters import ad
from pyjax._src.interpreters.batching import vmap
from pyjax._src.lax import lax
from pyjax._src.lax import special as lax_special
from pyjax._src.lax.control_flow.conditionals import cond
from pyjax._src.lax.control_flow.loops import fori_loop, scan
from pyjax._src.lax.control_flow.while_loop import while_loop
from pyjax._src.lax.lax import _const
from pyjax._src.numpy import lax_numpy as lnp
from pyjax._src.numpy import reductions, ufuncs
from pyjax._src.numpy.array_creation import (
    arange, diag_indices, full, full_like, meshgrid, ogrid, ones_like, triu_indices, zeros,
    zeros_like)
from pyjax._src.numpy.array_manipulation import pad, roll
from pyjax._src.numpy.einsum import einsum
from pyjax._src.numpy.functional import piecewise
from pyjax._src.numpy.lax_numpy import (
    asarray, broadcast_to, clip, expand_dims, isscalar, moveaxis, select, where)
from pyjax._src.numpy.polynomial import polyval
from pyjax._src.numpy.reductions import sum as jnp_sum
from pyjax._src.numpy.tensor_contractions import matmul
from pyjax._src.numpy.ufuncs import isnan, isneginf, isposinf, maximum, minimum, signbit
from pyjax._src.numpy.util import (
    array, check_arraylike, promote_args_inexact, promote_dtypes_complex,
    promote_dtypes_inexact, promote_shapes)
from pyjax._src.numpy.vectorize import vectorize

__all__ = [
    "bernoulli", "bessel_jn", "beta", "betainc", "betaln", "boxcox", "boxcox1p", "comb",
    "dawsn", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp1", "expi",
    "expit", "expn", "factorial", "fresnel", "gamma", "gammainc", "gammaincc",
    "gammaln", "gammasgn", "hyp1f1", "hyp2f1", "i0", "i0e", "i1", "i1e", "kl_div",
    "log_ndtr", "loggamma", "logit", "lpmn", "lpmn_values", "multigammaln", "ndtr",
    "ndtri", "owens_t", "poch", "polygamma", "rel_entr", "sici", "spence", "sph_harm_y",
    "wofz", "xlog1py", "xlogy", "zeta",
]


def promote_args_complex(fun_name, *args):
  check_arraylike(fun_name, *args)
  return promote_shapes(fun_name, *promote_dtypes_complex(*args))


def _complex_check(name, x):
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    raise ValueError(f"{name} does not support complex-valued inputs.")


# ----------------------------------------------------------------- gamma and beta


def gammaln(x):
  """log |Gamma(x)| (``lax.lgamma``)."""
  x, = promote_args_inexact("gammaln", x)
  return lax_special.lgamma(x)


def gammasgn(x):
  """The sign of Gamma(x): NaN at the poles and for NaN, -1 at -0.0."""
  x, = promote_args_inexact("gammasgn", x)
  _complex_check("gammasgn", x)
  typ = x.dtype.type
  floor_x = lax.floor(x)
  neg = x < 0
  return select([(neg & (x == floor_x)) | isnan(x),
                 (neg & (floor_x % 2 != 0)) | ((x == 0) & signbit(x))],
                [typ(np.nan), typ(-1.0)], typ(1.0))


def gamma(x):
  """Gamma(x) as gammasgn(x) exp(lgamma(x)); Lanczos' approximation for complex x."""
  x, = promote_args_inexact("gamma", x)
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    return _complex_gamma(x)
  return gammasgn(x) * lax.exp(lax_special.lgamma(x))


def _algdiv(a, b):
  """log Gamma(b) - log Gamma(a + b) for b >= 8 (TOMS 708's algdiv)."""
  c0 = 0.833333333333333e-01
  c1 = -0.277777777760991e-02
  c2 = 0.793650666825390e-03
  c3 = -0.595202931351870e-03
  c4 = 0.837308034031215e-03
  c5 = -0.165322962780713e-02
  h = a / b
  c = h / (1 + h)
  x = h / (1 + h)
  d = b + (a - 0.5)
  x2 = x * x
  s3 = 1.0 + (x + x2)
  s5 = 1.0 + (x + x2 * s3)
  s7 = 1.0 + (x + x2 * s5)
  s9 = 1.0 + (x + x2 * s7)
  s11 = 1.0 + (x + x2 * s9)
  t = (1.0 / b) ** 2
  w = ((((c5 * s11 * t + c4 * s9) * t + c3 * s7) * t + c2 * s5) * t + c1 * s3) * t + c0
  w = w * (c / b)
  u = d * lax.log1p(a / b)
  v = a * (lax.log(b) - 1.0)
  return where(u <= v, (w - v) - u, (w - u) - v)


def betaln(a, b):
  """log |B(a, b)|, with TOMS 708's algdiv once the larger argument reaches 8."""
  a, b = promote_args_inexact("betaln", a, b)
  a, b = minimum(a, b), maximum(a, b)
  lg = lax_special.lgamma
  small_b = lg(a) + (lg(b) - lg(a + b))
  large_b = lg(a) + _algdiv(a, b)
  return where(b < 8, small_b, large_b)


def beta(a, b):
  """B(a, b) = sign * exp(betaln(a, b))."""
  a, b = promote_args_inexact("beta", a, b)
  _complex_check("beta", a)
  sign = gammasgn(a) * gammasgn(b) * gammasgn(a + b)
  return sign * lax.exp(betaln(a, b))


def factorial(n, exact: bool = False):
  """n! = Gamma(n + 1) (0 for n < 0). ``exact=True`` is not supported (as in JAX)."""
  if exact:
    raise NotImplementedError("factorial with exact=True")
  n, = promote_args_inexact("factorial", n)
  return where(n < 0, 0, lax.exp(lax_special.lgamma(n + 1)))


def betainc(a, b, x):
  """The regularized incomplete beta function I_x(a, b) (``lax.betainc``)."""
  a, b, x = promote_args_inexact("betainc", a, b, x)
  _complex_check("betainc", x)
  return lax_special.betainc(a, b, x)


def digamma(x):
  """psi(x), the logarithmic derivative of Gamma (``lax.digamma``)."""
  x, = promote_args_inexact("digamma", x)
  return lax_special.digamma(x)


def gammainc(a, x):
  """The regularized lower incomplete gamma function P(a, x)."""
  a, x = promote_args_inexact("gammainc", a, x)
  return lax_special.igamma(a, x)


def gammaincc(a, x):
  """The regularized upper incomplete gamma function Q(a, x)."""
  a, x = promote_args_inexact("gammaincc", a, x)
  return lax_special.igammac(a, x)


def multigammaln(a, d):
  """The log of the multivariate gamma function of dimension ``d`` (a concrete int)."""
  d = core.concrete_or_error(int, d, "d argument of multigammaln")
  a, d_ = promote_args_inexact("multigammaln", a, d)
  constant = lax.mul(lax.mul(lax.mul(_const(a, 0.25), d_), lax.sub(d_, _const(a, 1))),
                     lax.log(_const(a, np.pi)))
  b = lax.div(arange(d, dtype=d_.dtype), _const(a, 2))
  res = jnp_sum(gammaln(expand_dims(a, axis=-1) -
                        expand_dims(b, axis=tuple(range(a.ndim)))), axis=-1)
  return res + constant


def _poch_z_derivative(z, m):
  return (digamma(z + m) - digamma(z)) * poch(z, m)


def _poch_m_derivative(z, m):
  return digamma(z + m) * poch(z, m)


@custom_jvp
def poch(z, m):
  """The rising factorial (z)_m = Gamma(z + m) / Gamma(z)."""
  z, m = promote_args_inexact("poch", z, m)
  if dtypes.issubdtype(z.dtype, np.complexfloating):
    raise ValueError("jnp.poch does not support complex-valued inputs.")
  return where(m == 0., 1., gamma(z + m) / gamma(z))


poch.defjvps(lambda z_dot, primal_out, z, m: _poch_z_derivative(z, m) * z_dot,
             lambda m_dot, primal_out, z, m: _poch_m_derivative(z, m) * m_dot)


# ----------------------------------------------------------------- error functions


def erf(x):
  """The error function (``lax.erf``)."""
  x, = promote_args_inexact("erf", x)
  return lax_special.erf(x)


def erfc(x):
  """The complementary error function (``lax.erfc``)."""
  x, = promote_args_inexact("erfc", x)
  return lax_special.erfc(x)


def erfinv(x):
  """The inverse error function (``lax.erf_inv``)."""
  x, = promote_args_inexact("erfinv", x)
  return lax_special.erf_inv(x)


def _check_ndtr_dtype(x):
  dtype = np.dtype(x.dtype)
  if dtype not in (np.float32, np.float64):
    raise TypeError(f"x.dtype={dtype} is not supported, see docstring for supported types.")


def ndtr(x):
  """The standard normal CDF (float32 and float64 only, as JAX)."""
  x = asarray(x)
  _check_ndtr_dtype(x)
  return _ndtr(x)


def _ndtr(x):
  dtype = x.dtype.type
  half_sqrt_2 = dtype(0.5) * np.sqrt(2., dtype=dtype)
  w = x * half_sqrt_2
  z = lax.abs(w)
  y = lax.select(lax.lt(z, half_sqrt_2), dtype(1.) + lax_special.erf(w),
                 lax.select(lax.gt(w, dtype(0.)), dtype(2.) - lax_special.erfc(z),
                            lax_special.erfc(z)))
  return dtype(0.5) * y


# Cephes' ndtri coefficients: p0/q0 for p near 1/2, p1/q1 for z < 8, p2/q2 for z >= 8.
_NDTRI_P0 = [-5.99633501014107895267E1, 9.80010754185999661536E1,
             -5.66762857469070293439E1, 1.39312609387279679503E1,
             -1.23916583867381258016E0]
_NDTRI_Q0 = [1.0, 1.95448858338141759834E0, 4.67627912898881538453E0,
             8.63602421390890590575E1, -2.25462687854119370527E2,
             2.00260212380060660359E2, -8.20372256168333339912E1,
             1.59056225126211695515E1, -1.18331621121330003142E0]
_NDTRI_P1 = [4.05544892305962419923E0, 3.15251094599893866154E1,
             5.71628192246421288162E1, 4.40805073893200834700E1,
             1.46849561928858024014E1, 2.18663306850790267539E0,
             -1.40256079171354495875E-1, -3.50424626827848203418E-2,
             -8.57456785154685413611E-4]
_NDTRI_Q1 = [1.0, 1.57799883256466749731E1, 4.53907635128879210584E1,
             4.13172038254672030440E1, 1.50425385692907503408E1,
             2.50464946208309415979E0, -1.42182922854787788574E-1,
             -3.80806407691578277194E-2, -9.33259480895457427372E-4]
_NDTRI_P2 = [3.23774891776946035970E0, 6.91522889068984211695E0,
             3.93881025292474443415E0, 1.33303460815807542389E0,
             2.01485389549179081538E-1, 1.23716634817820021358E-2,
             3.01581553508235416007E-4, 2.65806974686737550832E-6,
             6.23974539184983293730E-9]
_NDTRI_Q2 = [1.0, 6.02427039364742014255E0, 3.67983563856160859403E0,
             1.37702099489081330271E0, 2.16236993594496635890E-1,
             1.34204006088543189037E-2, 3.28014464682127739104E-4,
             2.89247864745380683936E-6, 6.79019408009981274425E-9]


def ndtri(p):
  """The inverse of ndtr (Cephes' rational approximations; float32 and float64 only)."""
  p = asarray(p)
  _check_ndtr_dtype(p)
  dtype = p.dtype.type
  shape = np.shape(p)
  p0, q0, p1, q1, p2, q2 = (np.array(c, dtype=dtype) for c in (
      _NDTRI_P0, _NDTRI_Q0, _NDTRI_P1, _NDTRI_Q1, _NDTRI_P2, _NDTRI_Q2))
  maybe_complement_p = where(p > dtype(-np.expm1(-2.)), dtype(1.) - p, p)
  sanitized_mcp = where(maybe_complement_p == dtype(0.), full(shape, dtype(0.5)),
                        maybe_complement_p)
  w = sanitized_mcp - dtype(0.5)
  ww = lax.square(w)
  x_for_big_p = w + w * ww * (polyval(p0, ww) / polyval(q0, ww))
  x_for_big_p = x_for_big_p * -dtype(np.sqrt(2. * np.pi))
  z = lax.sqrt(dtype(-2.) * lax.log(sanitized_mcp))
  first_term = z - lax.log(z) / z
  second_term_small_p = polyval(p2, 1 / z) / polyval(q2, 1 / z) / z
  second_term_otherwise = polyval(p1, 1 / z) / polyval(q1, 1 / z) / z
  x_for_small_p = first_term - second_term_small_p
  x_otherwise = first_term - second_term_otherwise
  x = where(sanitized_mcp > dtype(np.exp(-2.)), x_for_big_p,
            where(z >= dtype(8.0), x_for_small_p, x_otherwise))
  x = where(p > dtype(1. - np.exp(-2.)), x, -x)
  infinity = full(shape, dtype(np.inf))
  return where(p == dtype(0.0), -infinity, where(p == dtype(1.0), infinity, x))


_LOGNDTR_BOUNDS = {np.dtype(np.float64): (np.array(-20, np.float64), np.array(8, np.float64)),
                   np.dtype(np.float32): (np.array(-10, np.float32), np.array(5, np.float32))}


def log_ndtr(x, series_order: int = 3):
  """log of the standard normal CDF: log(ndtr) in the middle, -ndtr(-x) above and an
  asymptotic series of ``series_order`` terms below."""
  return _log_ndtr(x, series_order)


@partial(custom_jvp, nondiff_argnums=(1,))
def _log_ndtr(x, series_order):
  # (a custom_jvp called with fewer positional arguments than it has does not fill in
  # the defaults in pyjax yet: the public function passes both)
  if not isinstance(series_order, int):
    raise TypeError("series_order must be a Python integer.")
  if series_order < 0:
    raise ValueError("series_order must be non-negative.")
  if series_order > 30:
    raise ValueError("series_order must be <= 30.")
  x = asarray(x)
  bounds = _LOGNDTR_BOUNDS.get(np.dtype(x.dtype))
  if bounds is None:
    raise TypeError(f"x.dtype={np.dtype(x.dtype)} is not supported.")
  lower, upper = bounds
  above = lax.gt(x, upper)
  ndtr_res = _ndtr(where(above, -x, lax.max(x, lower)))
  return where(above, -ndtr_res,
               where(lax.gt(x, lower), lax.log(ndtr_res),
                     _log_ndtr_lower(lax.min(x, lower), series_order)))


def _norm_logpdf(x):
  return lax.sub(lax.mul(_const(x, -0.5), lax.square(x)),
                 _const(x, np.log(np.sqrt(2 * np.pi))))


def _log_ndtr_jvp(series_order, primals, tangents):
  (x,), (t,) = primals, tangents
  ans = _log_ndtr(x, series_order)
  return ans, lax.mul(t, lax.exp(lax.sub(_norm_logpdf(x), ans)))


_log_ndtr.defjvp(_log_ndtr_jvp)


def _log_ndtr_lower(x, series_order):
  dtype = x.dtype.type
  log_scale = -dtype(0.5) * lax.square(x) - lax.log(-x) - dtype(0.5 * np.log(2. * np.pi))
  return log_scale + lax.log(_log_ndtr_asymptotic_series(x, series_order))


def _log_ndtr_asymptotic_series(x, series_order):
  dtype = x.dtype.type
  if series_order <= 0:
    return np.array(1, dtype)
  x_2 = lax.square(x)
  even_sum = zeros_like(x)
  odd_sum = zeros_like(x)
  x_2n = x_2
  for n in range(1, series_order + 1):
    y = np.array(np.prod(np.arange(2 * n - 1, 1, -2)), dtype) / x_2n
    if n % 2:
      odd_sum = odd_sum + y
    else:
      even_sum = even_sum + y
    x_2n = x_2n * x_2
  return dtype(1.) + even_sum - odd_sum


# ----------------------------------------------------------------- logistic, entropy


@custom_jvp
def logit(x):
  """log(x / (1 - x))."""
  x, = promote_args_inexact("logit", x)
  return lax.log(lax.div(x, lax.sub(_const(x, 1), x)))


logit.defjvps(lambda g, ans, x: lax.div(g, lax.mul(x, lax.sub(_const(x, 1), x))))


def expit(x):
  """The logistic sigmoid (``lax.logistic``)."""
  x, = promote_args_inexact("expit", x)
  return lax.logistic(x)


@custom_jvp
def xlogy(x, y):
  """x * log(y), 0 where x == 0 (unless y is NaN)."""
  x, y = promote_args_inexact("xlogy", x, y)
  return where((x != 0.) | isnan(y), lax.mul(x, lax.log(y)), zeros_like(x))


def _xlogy_jvp(primals, tangents):
  (x, y), (x_dot, y_dot) = primals, tangents
  result = xlogy(x, y)
  return result, (x_dot * lax.log(y) + y_dot * x / y).astype(result.dtype)


xlogy.defjvp(_xlogy_jvp)


@custom_jvp
def xlog1py(x, y):
  """x * log1p(y), 0 where x == 0 (unless y is NaN)."""
  x, y = promote_args_inexact("xlog1py", x, y)
  return where((x != 0.) | isnan(y), lax.mul(x, lax.log1p(y)), zeros_like(x))


def _xlog1py_jvp(primals, tangents):
  (x, y), (x_dot, y_dot) = primals, tangents
  result = xlog1py(x, y)
  return result, (x_dot * lax.log1p(y) + y_dot * x / (1 + y)).astype(result.dtype)


xlog1py.defjvp(_xlog1py_jvp)


@custom_jvp
def _xlogx(x):
  return xlogy(x, x)


def _xlogx_jvp(primals, tangents):
  (x,), (x_dot,) = primals, tangents
  return _xlogx(x), x_dot * (lax.log(x) + 1)


_xlogx.defjvp(_xlogx_jvp)


def entr(x):
  """-x log(x) for x >= 0, -inf for x < 0."""
  x, = promote_args_inexact("entr", x)
  _complex_check("entr", x)
  return lax.select(lax.lt(x, _const(x, 0)), lax.full_like(x, -np.inf), lax.neg(_xlogx(x)))


# ----------------------------------------------------------------- Bessel


def i0e(x):
  """exp(-|x|) I0(x) (``lax.bessel_i0e``)."""
  x, = promote_args_inexact("i0e", x)
  return lax_special.bessel_i0e(x)


def i0(x):
  """I0(x) = exp(|x|) i0e(x)."""
  x, = promote_args_inexact("i0", x)
  return lax.mul(lax.exp(lax.abs(x)), lax_special.bessel_i0e(x))


def i1e(x):
  """exp(-|x|) I1(x) (``lax.bessel_i1e``)."""
  x, = promote_args_inexact("i1e", x)
  return lax_special.bessel_i1e(x)


def i1(x):
  """I1(x) = exp(|x|) i1e(x)."""
  x, = promote_args_inexact("i1", x)
  return lax.mul(lax.exp(lax.abs(x)), lax_special.bessel_i1e(x))


# ----------------------------------------------------------------- complex gamma

# Lanczos coefficients (g = 7, N = 9; GSL's lanczos_7_c) for complex log-gamma.
_LANCZOS_G = 7.0
_LANCZOS_COEFFS = np.array([
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7])


def _complex_loggamma(z):
  """log Gamma(z) by Lanczos' approximation, reflected for Re z < 1/2."""
  needs_reflection = ufuncs.real(z) < 0.5
  zz = where(needs_reflection, 1.0 - z, z) - 1.0
  # c_0 + sum_k c_k / (zz + k), the terms on a new trailing axis
  coeffs = asarray(_LANCZOS_COEFFS, dtype=z.dtype)
  ks = lax.expand_dims(arange(1, 9, dtype=z.dtype), tuple(range(zz.ndim)))
  ag = coeffs[0] + jnp_sum(lax.expand_dims(coeffs[1:], tuple(range(zz.ndim)))
                           / (lax.expand_dims(zz, (zz.ndim,)) + ks), axis=-1)
  t = zz + _LANCZOS_G + 0.5
  half_log2pi = asarray(0.5 * np.log(2.0 * np.pi), dtype=z.dtype)
  log_gamma_lanczos = half_log2pi + (zz + 0.5) * ufuncs.log(t) - t + ufuncs.log(ag)
  z_safe = where(needs_reflection, z, full_like(z, 0.5))
  reflected = (ufuncs.log(asarray(np.pi, dtype=z.dtype)) -
               ufuncs.log(ufuncs.sin(np.pi * z_safe)) - log_gamma_lanczos)
  return where(needs_reflection, reflected, log_gamma_lanczos)


def _complex_pole_or_nan(z):
  is_pole = ((ufuncs.imag(z) == 0) & (ufuncs.real(z) == ufuncs.floor(ufuncs.real(z))) &
             (ufuncs.real(z) <= 0))
  return is_pole | isnan(z)


def _complex_gamma(z):
  safe = _complex_pole_or_nan(z)
  nan_val = asarray(complex(np.nan, np.nan), dtype=z.dtype)
  z_safe = where(safe, ones_like(z), z)
  return where(safe, nan_val, ufuncs.exp(_complex_loggamma(z_safe)))


def _complex_loggamma_scipy(z):
  """SciPy's branch of complex log-gamma: z shifted right of Re z = 1/2 first."""
  safe = _complex_pole_or_nan(z)
  nan_val = asarray(complex(np.nan, np.nan), dtype=z.dtype)
  z_safe = where(safe, ones_like(z), z)
  n = maximum(0, ufuncs.ceil(0.5 - ufuncs.real(z_safe)).astype(int))

  def cond_fun(state):
    return reductions.any(state[0] < n)

  def body_fun(state):
    k, sum_log = state
    mask = k < n
    zk = where(mask, z_safe + k, ones_like(z_safe))
    return k + 1, sum_log + where(mask, ufuncs.log(zk), zeros_like(sum_log))

  _, sum_log = while_loop(cond_fun, body_fun, (0, zeros_like(z_safe)))
  return where(safe, nan_val, _complex_loggamma(z_safe + n) - sum_log)


def loggamma(x):
  """log Gamma(x): NaN for x <= 0 (real); SciPy's principal branch for complex x."""
  x, = promote_args_inexact("loggamma", x)
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    return _complex_loggamma_scipy(x)
  return where(x > 0, lax_special.lgamma(x), np.nan)


def comb(N, k, *, repetition: bool = False):
  """The binomial coefficient C(N, k) through log-gamma (0 outside 0 <= k <= N)."""
  N, k = promote_args_inexact("comb", N, k)
  if repetition:
    return where((k == 0) & (N >= 0), 1.0, comb(N + k - 1, k, repetition=False))
  cond = (k <= N) & (N >= 0) & (k >= 0)
  safe_N = where(cond, N, 0.0)
  safe_k = where(cond, k, 0.0)
  result = lax.exp(gammaln(safe_N + 1) - gammaln(safe_k + 1) -
                   gammaln(safe_N + 1 - safe_k))
  return where(cond, result, 0.0)


def boxcox(x, lmbda):
  """The Box-Cox transform: (x**lmbda - 1) / lmbda, log(x) at lmbda == 0."""
  x, lmbda = promote_args_inexact("boxcox", x, lmbda)
  return _boxcox(ufuncs.log(x), lmbda)


def boxcox1p(x, lmbda):
  """boxcox(1 + x, lmbda), accurate for small x."""
  x, lmbda = promote_args_inexact("boxcox1p", x, lmbda)
  return _boxcox(ufuncs.log1p(x), lmbda)


def _boxcox(log_x, lmbda):
  lmbda_is_zero = lmbda == 0
  safe_lmbda = where(lmbda_is_zero, ones_like(lmbda), lmbda)
  power_branch = ufuncs.expm1(safe_lmbda * log_x) / safe_lmbda
  return where(lmbda_is_zero, log_x, power_branch)


def rel_entr(p, q):
  """p log(p / q) for p, q > 0; 0 for p == 0 <= q; inf otherwise."""
  p, q = promote_args_inexact("rel_entr", p, q)
  _complex_check("rel_entr", p)
  zero = _const(p, 0.0)
  both_gt_zero_mask = lax.bitwise_and(lax.gt(p, zero), lax.gt(q, zero))
  one_zero_mask = lax.bitwise_and(lax.eq(p, zero), lax.ge(q, zero))
  safe_p = where(both_gt_zero_mask, p, 1)
  safe_q = where(both_gt_zero_mask, q, 1)
  log_val = lax.sub(_xlogx(safe_p), xlogy(safe_p, safe_q))
  return where(both_gt_zero_mask, log_val, where(one_zero_mask, zero, np.inf))


def kl_div(p, q):
  """rel_entr(p, q) - p + q."""
  p, q = promote_args_inexact("kl_div", p, q)
  _complex_check("kl_div", p)
  return rel_entr(p, q) - p + q


# ----------------------------------------------------------------- zeta, polygamma

# (2k)! / B_{2k} for the Euler-Maclaurin tail of the Hurwitz zeta function.
_BERNOULLI_COEFS = np.array([
    12, -720, 30240, -1209600, 47900160, -1307674368000 / 691, 74724249600,
    -10670622842880000 / 3617, 5109094217170944000 / 43867,
    -802857662698291200000 / 174611, 14101100039391805440000 / 77683,
    -1693824136731743669452800000 / 236364091, 186134520519971831808000000 / 657931,
    -37893265687455865519472640000000 / 3392780147,
    759790291646040068357842010112000000 / 1723168255201,
    -134196726836183700385281186201600000000 / 7709321041217,
])


def _riemann_missing():
  return NotImplementedError("Riemann zeta function not implemented; pass q != None to "
                             "compute the Hurwitz Zeta function.")


@custom_jvp
def zeta(x, q=None):
  """The Hurwitz zeta function zeta(x, q) (``q`` is required: no Riemann zeta)."""
  if q is None:
    raise _riemann_missing()
  x, q = promote_args_inexact("zeta", x, q)
  return lax_special.zeta(x, q)


def _zeta_series_expansion(x, q=None):
  """The Euler-Maclaurin sum zeta's JVP differentiates."""
  if q is None:
    raise _riemann_missing()
  s, a = promote_args_inexact("zeta", x, q)
  dtype = a.dtype.type
  s_, a_ = expand_dims(s, -1), expand_dims(a, -1)
  N = M = dtype(8) if a.dtype == np.float32 else dtype(16)
  k = expand_dims(np.arange(N, dtype=N.dtype), tuple(range(a.ndim)))
  S = jnp_sum((a_ + k) ** -s_, -1)
  I = lax.div((a + N) ** (dtype(1) - s), s - dtype(1))
  T0 = (a + N) ** -s
  m = expand_dims(np.arange(2 * M, dtype=M.dtype), tuple(range(s.ndim)))
  s_over_a = (s_ + m) / (a_ + N)
  T1 = reductions.cumprod(s_over_a, -1)[..., ::2]
  T1 = clip(T1, max=dtypes.finfo(dtype).max)
  coefs = np.expand_dims(np.array(_BERNOULLI_COEFS[:T1.shape[-1]], dtype=dtype),
                         tuple(range(a.ndim)))
  T1 = T1 / coefs
  T = T0 * (dtype(0.5) + T1.sum(-1))
  return S + I + T


def _zeta_jvp(primals, tangents):
  outs, touts = ad.jvp_flat(lambda *a: [_zeta_series_expansion(*a)], list(primals),
                            list(tangents))
  return outs[0], ad.instantiate(touts[0])


zeta.defjvp(_zeta_jvp)


def polygamma(n, x):
  """The n-th derivative of digamma (``n`` of an integer dtype)."""
  if not dtypes.issubdtype(dtypes.dtype(n), np.integer):
    raise ValueError(f"Argument `n` to polygamma must be of integer type. Got dtype "
                     f"{dtypes.dtype(n)}.")
  n_arr, x_arr = promote_args_inexact("polygamma", n, x)
  _complex_check("polygamma", x_arr)
  return lax_special.polygamma(n_arr, x_arr)


# ----------------------------------------------------------------- Faddeeva family

# Weideman's (1994) N = 32 rational approximation of the Faddeeva function, in the
# upper half plane: w(z) = 2 p(Z) / (L - iz)^2 + 1 / (sqrt(pi) (L - iz)),
# Z = (L + iz) / (L - iz); p's coefficients by descending degree.
_WOFZ_L = 4.7568284600108841
_WOFZ_C = np.array([
    -1.3034426067909105e-12, 3.7411838373738471e-12, 8.030427700497756e-12,
    -2.1543593557490879e-11, -5.5442449963237932e-11, 1.165824698850374e-10,
    4.1537441121999766e-10, -5.2310202114920615e-10, -3.2080151339721323e-09,
    8.1248864216535907e-10, 2.3797556530014025e-08, 2.2930438438915445e-08,
    -1.4813078929137642e-07, -4.1840763750512053e-07, 4.2558331397138446e-07,
    4.4015317312832251e-06, 6.8210319443575151e-06, -2.1409619201999998e-05,
    -0.00013075449254579421, -0.00024532980270038237, 0.00039259136070109705,
    0.0045195411053493093, 0.019006155784845501, 0.057304403529837282,
    0.14060716226893755, 0.29544451071508743, 0.54601397206393376, 0.9019254893648001,
    1.3455441692345449, 1.8256696296324815, 2.2635372999002676, 2.5722534081245696,
])


def _wofz_upper(z):
  re = lax.real(z)
  L = lax.complex(_const(re, _WOFZ_L), _const(re, 0.))
  iz = lax.complex(lax.neg(lax.imag(z)), re)
  denom = L - iz
  Z = (L + iz) / denom
  p = polyval(asarray(_WOFZ_C, dtype=Z.dtype), Z)
  one_over_sqrtpi = lax.complex(_const(re, 1. / np.sqrt(np.pi)), _const(re, 0.))
  return 2 * p / (denom * denom) + one_over_sqrtpi / denom


@custom_jvp
def _wofz(z):
  sign = lax.ge(lax.imag(z), _const(lax.real(z), 0.))
  z_upper = lax.select(sign, z, lax.neg(z))
  w_upper = _wofz_upper(z_upper)
  correction = 2 * lax.exp(lax.neg(z * z)) - w_upper
  return lax.select(sign, w_upper, correction)


_wofz.defjvps(lambda g, ans, z: g * (lax.neg(2 * z * ans) + lax.complex(
    _const(lax.real(z), 0.), _const(lax.real(z), 2. / np.sqrt(np.pi)))))


def wofz(z):
  """The Faddeeva function exp(-z^2) erfc(-iz) (Weideman's approximation)."""
  z, = promote_args_complex("wofz", z)
  return _wofz(z)


def erfcx(x):
  """The scaled complementary error function exp(x^2) erfc(x)."""
  x, = promote_args_inexact("erfcx", x)
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    return _wofz(lax.complex(lax.neg(lax.imag(x)), lax.real(x)))
  return _erfcx(x)


@custom_jvp
def _erfcx(x):
  if x.dtype == np.float64:
    return _erfcx_impl(x, nterms=9)
  if x.dtype == np.float32:
    return _erfcx_impl(x, nterms=5)
  return _erfcx_impl(x.astype(np.float32), nterms=5).astype(x.dtype)


_erfcx.defjvps(lambda g, ans, x: g * (2 * x * ans - _const(x, 2. / np.sqrt(np.pi))))


def _erfcx_asymptotic(x, nterms):
  # erfcx(x) ~ P(1/x^2) / (sqrt(pi) x), c_k = (-1)^k (2k-1)!! / 2^k, descending degree
  coeffs = [7918.06640625, -1055.7421875, 162.421875, -29.53125, 6.5625,
            -1.875, .75, -.5, 1.]
  t = _const(x, 1.) / lax.square(x)
  p = polyval(np.array(coeffs[-nterms:], dtype=x.dtype), t)
  return p / (x * _const(x, np.sqrt(np.pi)))


def _erfcx_impl(x, nterms):
  # the asymptotic series where exp(x^2) would overflow
  large = x > _const(x, np.sqrt(np.log(dtypes.finfo(x.dtype).max)))
  safe_x = lax.select(large, lax.full_like(x, 1.), x)
  direct = lax.exp(lax.square(safe_x)) * lax_special.erfc(safe_x)
  return lax.select(large, _erfcx_asymptotic(x, nterms), direct)


# Dawson's integral: Cody, Paciorek and Thacher's (1970) rational approximations on
# [0, 3.25) (A), [3.25, 6.25) (B) and [6.25, inf) (C).
_DAWSN_AN = [1.13681498971755972054e-11, 8.49262267667473811108e-10,
             1.94434204175553054283e-8, 9.53151741254484363489e-7,
             3.07828309874913200438e-6, 3.52513368520288738649e-4,
             -8.50149846724410912031e-4, 4.22618223005546594270e-2,
             -9.17480371773452345351e-2, 9.99999999999999994612e-1]
_DAWSN_AD = [2.40372073066762605484e-11, 1.48864681368493396752e-9,
             5.21265281010541664570e-8, 1.27258478273186970203e-6,
             2.32490249820789513991e-5, 3.25524741826057911661e-4,
             3.48805814657162590916e-3, 2.79448531198828973716e-2,
             1.58874241960120565368e-1, 5.74918629489320327824e-1,
             1.00000000000000000539e0]
_DAWSN_BN = [5.08955156417900903354e-1, -2.44754418142697847934e-1,
             9.41512335303534411857e-2, -2.18711255142039025206e-2,
             3.66207612329569181322e-3, -4.23209114460388756528e-4,
             3.59641304793896631888e-5, -2.14640351719968974225e-6,
             9.10010780076391431042e-8, -2.40274520828250956942e-9,
             3.59233385440928410398e-11]
_DAWSN_BD = [1.00000000000000000000e0, -6.31839869873368190192e-1,
             2.36706788228248691528e-1, -5.31806367003223277662e-2,
             8.48041718586295374409e-3, -9.47996768486665330168e-4,
             7.81025592944552338085e-5, -4.55875153252442634831e-6,
             1.89100358111421846170e-7, -4.91324691331920606875e-9,
             7.18466403235734541950e-11]
_DAWSN_CN = [-5.90592860534773254987e-1, 6.29235242724368800674e-1,
             -1.72858975380388136411e-1, 1.64837047825189632310e-2,
             -4.86827613020462700845e-4]
_DAWSN_CD = [1.00000000000000000000e0, -2.69820057197544900361e0,
             1.73270799045947845857e0, -3.93708582281939493482e-1,
             3.44278924041233391079e-2, -9.73655226040941223894e-4]


def dawsn(x):
  """Dawson's integral exp(-x^2) int_0^x exp(t^2) dt."""
  x, = promote_args_inexact("dawsn", x)
  _complex_check("dawsn", x)
  return _dawsn(x)


@custom_jvp
def _dawsn(x):
  if x.dtype in (np.float32, np.float64):
    return _dawsn_impl(x)
  return _dawsn_impl(x.astype(np.float32)).astype(x.dtype)


_dawsn.defjvps(lambda g, ans, x: g * (_const(x, 1.) - _const(x, 2.) * x * ans))


def _dawsn_impl(x):
  sign = ufuncs.sign(x)
  ax = lax.abs(x)
  AN, AD, BN, BD, CN, CD = (np.array(c, dtype=x.dtype) for c in (
      _DAWSN_AN, _DAWSN_AD, _DAWSN_BN, _DAWSN_BD, _DAWSN_CN, _DAWSN_CD))
  c = partial(_const, x)
  t = c(1.) / lax.square(ax)
  # each region on safe dummy inputs elsewhere (no inf / inf there)
  safe_ax_r1 = lax.select(ax < c(3.25), ax, lax.full_like(ax, 1.))
  safe_ax2_r1 = lax.square(safe_ax_r1)
  val_r1 = safe_ax_r1 * polyval(AN, safe_ax2_r1) / polyval(AD, safe_ax2_r1)
  in_r2 = (ax >= c(3.25)) & (ax < c(6.25))
  safe_t_r2 = lax.select(in_r2, t, lax.full_like(t, 1.))
  safe_ax_r2 = lax.select(in_r2, ax, lax.full_like(ax, 1.))
  val_r2 = (c(0.5) / safe_ax_r2) * (
      c(1.) + safe_t_r2 * polyval(BN, safe_t_r2) / polyval(BD, safe_t_r2))
  safe_t_r3 = lax.select(ax >= c(6.25), t, lax.full_like(t, 1.))
  safe_ax_r3 = lax.select(ax >= c(6.25), ax, lax.full_like(ax, 1.))
  val_r3 = (c(0.5) / safe_ax_r3) * (
      c(1.) + safe_t_r3 * polyval(CN, safe_t_r3) / polyval(CD, safe_t_r3))
  result = lax.select(ax < c(3.25), val_r1, lax.select(ax < c(6.25), val_r2, val_r3))
  return sign * result


# ----------------------------------------------------------------- exponential integrals
# Cephes' ei.c and expn.c: expi on (0, 2] and (2^i, 2^(i+1)] by rational approximations.

_EXPINT_COEFS = [
    ([-5.350447357812542947283e0, 2.185049168816613393830e2, -4.176572384826693777058e3,
      5.541176756393557601232e4, -3.313381331178144034309e5, 1.592627163384945414220e6],
     [1.0, -5.250547959112862969197e1, 1.259616186786790571525e3,
      -1.756549581973534652631e4, 1.493062117002725991967e5, -7.294949239640527645655e5,
      1.592627163384945429726e6]),
    ([1.981808503259689673238e-2, -1.271645625984917501326e0, -2.088160335681228318920e0,
      2.755544509187936721172e0, -4.409507048701600257171e-1, 4.665623805935891391017e-2,
      -1.545042679673485262580e-3, 7.059980605299617478514e-5],
     [1.0, 1.476498670914921440652e0, 5.629177174822436244827e-1,
      1.699017897879307263248e-1, 2.291647179034212017463e-2, 4.450150439728752875043e-3,
      1.727439612206521482874e-4, 3.953167195549672482304e-5]),
    ([-1.373215375871208729803e0, -7.084559133740838761406e-1, 1.580806855547941010501e0,
      -2.601500427425622944234e-1, 2.994674694113713763365e-2, -1.038086040188744005513e-3,
      4.371064420753005429514e-5, 2.141783679522602903795e-6],
     [1.0, 8.585231423622028380768e-1, 4.483285822873995129957e-1,
      7.687932158124475434091e-2, 2.449868241021887685904e-2, 8.832165941927796567926e-4,
      4.590952299511353531215e-4, -4.729848351866523044863e-6, 2.665195537390710170105e-6]),
    ([-2.106934601691916512584e0, 1.732733869664688041885e0, -2.423619178935841904839e-1,
      2.322724180937565842585e-2, 2.372880440493179832059e-4, -8.343219561192552752335e-5,
      1.363408795605250394881e-5, -3.655412321999253963714e-7, 1.464941733975961318456e-8,
      6.176407863710360207074e-10],
     [1.0, -2.298062239901678075778e-1, 1.105077041474037862347e-1,
      -1.566542966630792353556e-2, 2.761106850817352773874e-3, -2.089148012284048449115e-4,
      1.708528938807675304186e-5, -4.459311796356686423199e-7, 1.394634930353847498145e-8,
      6.150865933977338354138e-10]),
    ([-2.458119367674020323359e-1, -1.483382253322077687183e-1, 7.248291795735551591813e-2,
      -1.348315687380940523823e-2, 1.342775069788636972294e-3, -7.942465637159712264564e-5,
      2.644179518984235952241e-6, -4.239473659313765177195e-8],
     [1.0, -1.044225908443871106315e-1, -2.676453128101402655055e-1,
      9.695000254621984627876e-2, -1.601745692712991078208e-2, 1.496414899205908021882e-3,
      -8.462452563778485013756e-5, 2.728938403476726394024e-6, -4.239462431819542051337e-8]),
    ([1.212561118105456670844e-1, -5.823133179043894485122e-1, 2.348887314557016779211e-1,
      -3.040034318113248237280e-2, 1.510082146865190661777e-3, -2.523137095499571377122e-5],
     [1.0, -1.002252150365854016662e0, 2.928709694872224144953e-1,
      -3.337004338674007801307e-2, 1.560544881127388842819e-3, -2.523137093603234562648e-5]),
    ([-7.657847078286127362028e-1, 6.886192415566705051750e-1, -2.132598113545206124553e-1,
      3.346107552384193813594e-2, -3.076541477344756050249e-3, 1.747119316454907477380e-4,
      -6.103711682274170530369e-6, 1.218032765428652199087e-7, -1.086076102793290233007e-9],
     [1.0, -1.888802868662308731041e0, 1.066691687211408896850e0,
      -2.751915982306380647738e-1, 3.930852688233823569726e-2, -3.414684558602365085394e-3,
      1.866844370703555398195e-4, -6.345146083130515357861e-6, 1.239754287483206878024e-7,
      -1.086076102793126632978e-9]),
]


def _expint1(x):
  A, B = (np.array(c, dtype=x.dtype) for c in _EXPINT_COEFS[0])
  f = polyval(A, x) / polyval(B, x)
  return x * f + np.euler_gamma + ufuncs.log(x)


def _expint_k(k):
  def f(x):
    A, B = (np.array(c, dtype=x.dtype) for c in _EXPINT_COEFS[k])
    one = _const(x, 1.0)
    w = one / x
    f = polyval(A, w) / polyval(B, w)
    f = w * f + one
    return ufuncs.exp(x) * w * f
  return f


def _expi_pos(x):
  c = partial(_const, x)
  conds = [(c(0) < x) & (x <= c(2))] + [
      (c(2 ** i) < x) & (x <= c(2 ** (i + 1))) for i in range(1, 6)]
  return piecewise(x, conds, [_expint1] + [_expint_k(k) for k in range(1, 7)])


def _expi_neg(x):
  return -exp1(-x)


@custom_jvp
def expi(x):
  """The exponential integral Ei(x) (Cephes' ei.c)."""
  x_arr, = promote_args_inexact("expi", x)
  _complex_check("expi", x_arr)
  return piecewise(x_arr, [x_arr < 0], [_expi_neg, _expi_pos])


@expi.defjvp
def _expi_jvp(primals, tangents):
  (x,), (x_dot,) = primals, tangents
  return expi(x), ufuncs.exp(x) / x * x_dot


def _expn1(x, n):
  c = _const
  MACHEP = dtypes.finfo(x.dtype).eps
  zero, one = c(x, 0.0), c(x, 1.0)
  psi = -np.euler_gamma - ufuncs.log(x)
  psi = fori_loop(c(n, 1), n, lambda i, psi: psi + one / i, psi)
  n1 = where(n == c(n, 1), one + one, n)
  init = dict(x=x, z=-x, xk=zero, yk=one, pk=one - n,
              ans=where(n == c(n, 1), zero, one / (one - n1)), t=np.inf)

  def body(d):
    d["xk"] += one
    d["yk"] *= d["z"] / d["xk"]
    d["pk"] += one
    d["ans"] += where(d["pk"] != zero, d["yk"] / d["pk"], zero)
    d["t"] = where(d["ans"] != zero, abs(d["yk"] / d["ans"]), one)
    return d

  def cond(d):
    return (d["x"] > c(d["x"], 0.0)) & (d["t"] > MACHEP)

  d = while_loop(cond, body, init)
  return d["z"] ** (n - c(n, 1)) * psi / ufuncs.exp(gammaln(n)) - d["ans"]


def _expn2(x, n):
  c = _const
  BIG = c(x, 1.44115188075855872e17)
  MACHEP = dtypes.finfo(x.dtype).eps
  zero, one = c(x, 0.0), c(x, 1.0)
  init = dict(k=c(n, 1), pkm2=one, qkm2=x, pkm1=one, qkm1=x + n, ans=one / (x + n),
              t=c(x, np.inf), r=zero, x=x)

  def body(d):
    x = d["x"]
    d["k"] += c(d["k"], 1)
    k = d["k"]
    odd = k % c(k, 2) == c(k, 1)
    yk = where(odd, one, x)
    xk = where(odd, n + (k - c(k, 1)) / c(k, 2), k / c(k, 2))
    pk = d["pkm1"] * yk + d["pkm2"] * xk
    qk = d["qkm1"] * yk + d["qkm2"] * xk
    nz = qk != zero
    d["r"] = r = where(nz, pk / qk, d["r"])
    d["t"] = where(nz, abs((d["ans"] - r) / r), one)
    d["ans"] = where(nz, r, d["ans"])
    d["pkm2"] = d["pkm1"]
    d["pkm1"] = pk
    d["qkm2"] = d["qkm1"]
    d["qkm1"] = qk
    is_big = abs(pk) > BIG
    for key in ("pkm1", "pkm2", "qkm1", "qkm2"):
      d[key] = where(is_big, d[key] / BIG, d[key])
    return d

  def cond(d):
    return (d["x"] > c(d["k"], 0)) & (d["t"] > MACHEP)

  d = while_loop(cond, body, init)
  return d["ans"] * ufuncs.exp(-x)


def _expn3(x, n):
  c = _const
  one = c(x, 1.0)
  xk = x + n
  yk = one / (xk * xk)
  t = n
  ans = yk * t * (c(x, 6) * x * x - c(x, 8) * t * x + t * t)
  ans = yk * (ans + t * (t - c(x, 2) * x))
  ans = yk * (ans + t)
  return (ans + one) * ufuncs.exp(-x) / xk


@vectorize
def _expn(n, x):
  n, x = promote_args_inexact("expn", n, x)
  _complex_check("expn", x)
  c = _const
  zero, one = c(x, 0), c(x, 1)
  conds = [(n < c(n, 0)) | (x < zero), (x == zero) & (n < c(n, 2)),
           (x == zero) & (n >= c(n, 2)), (n == c(n, 0)) & (x >= zero),
           (n >= c(n, 5000)), (x > one)]
  n1 = where(n == c(n, 1), n + n, n)
  vals = [np.nan, np.inf, one / n1, ufuncs.exp(-x) / x, _expn3, _expn2, _expn1]
  return piecewise(x, conds, vals, n=n)


@partial(custom_jvp, nondiff_argnums=(0,))
def expn(n, x):
  """The generalized exponential integral E_n(x) (Cephes' expn.c)."""
  return _expn(n, x)


@expn.defjvp
def _expn_jvp(n, primals, tangents):
  (x,), (x_dot,) = primals, tangents
  n_arr = asarray(n)
  return expn(n, x), lax.mul(lax.neg(x_dot), expn(lax.sub(n_arr, _const(n_arr, 1)), x))


def exp1(x):
  """E_1(x) = expn(1, x)."""
  x, = promote_args_inexact("exp1", x)
  _complex_check("exp1", x)
  return expn(1, x)


# ----------------------------------------------------------------- sine/cosine integrals

_SICI_SN = [-8.39167827910303881427E-11, 4.62591714427012837309E-8,
            -9.75759303843632795789E-6, 9.76945438170435310816E-4,
            -4.13470316229406538752E-2, 1.00000000000000000302E0]
_SICI_SD = [2.03269266195951942049E-12, 1.27997891179943299903E-9,
            4.41827842801218905784E-7, 9.96412122043875552487E-5,
            1.42085239326149893930E-2, 9.99999999999999996984E-1]
_SICI_CN = [2.02524002389102268789E-11, -1.35249504915790756375E-8,
            3.59325051419993077021E-6, -4.74007206873407909465E-4,
            2.89159652607555242092E-2, -1.00000000000000000080E0]
_SICI_CD = [4.07746040061880559506E-12, 3.06780997581887812692E-9,
            1.23210355685883423679E-6, 3.17442024775032769882E-4,
            5.10028056236446052392E-2, 4.00000000000000000080E0]
_SICI_FN4 = [4.23612862892216586994E0, 5.45937717161812843388E0,
             1.62083287701538329132E0, 1.67006611831323023771E-1,
             6.81020132472518137426E-3, 1.08936580650328664411E-4,
             5.48900223421373614008E-7]
_SICI_FD4 = [1, 8.16496634205391016773E0, 7.30828822505564552187E0,
             1.86792257950184183883E0, 1.78792052963149907262E-1,
             7.01710668322789753610E-3, 1.10034357153915731354E-4,
             5.48900252756255700982E-7]
_SICI_GN4 = [8.71001698973114191777E-2, 6.11379109952219284151E-1,
             3.97180296392337498885E-1, 7.48527737628469092119E-2,
             5.38868681462177273157E-3, 1.61999794598934024525E-4,
             1.97963874140963632189E-6, 7.82579040744090311069E-9]
_SICI_GD4 = [1, 1.64402202413355338886E0, 6.66296701268987968381E-1,
             9.88771761277688796203E-2, 6.22396345441768420760E-3,
             1.73221081474177119497E-4, 2.02659182086343991969E-6,
             7.82579218933534490868E-9]
_SICI_FN8 = [4.55880873470465315206E-1, 7.13715274100146711374E-1,
             1.60300158222319456320E-1, 1.16064229408124407915E-2,
             3.49556442447859055605E-4, 4.86215430826454749482E-6,
             3.20092790091004902806E-8, 9.41779576128512936592E-11,
             9.70507110881952024631E-14]
_SICI_FD8 = [1.0, 9.17463611873684053703E-1, 1.78685545332074536321E-1,
             1.22253594771971293032E-2, 3.58696481881851580297E-4,
             4.92435064317881464393E-6, 3.21956939101046018377E-8,
             9.43720590350276732376E-11, 9.70507110881952025725E-14]
_SICI_GN8 = [6.97359953443276214934E-1, 3.30410979305632063225E-1,
             3.84878767649974295920E-2, 1.71718239052347903558E-3,
             3.48941165502279436777E-5, 3.47131167084116673800E-7,
             1.70404452782044526189E-9, 3.85945925430276600453E-12,
             3.14040098946363334640E-15]
_SICI_GD8 = [1.0, 1.68548898811011640017E0, 4.87852258695304967486E-1,
             4.67913194259625806320E-2, 1.90284426674399523638E-3,
             3.68475504442561108162E-5, 3.57043223443740838771E-7,
             1.72693748966316146736E-9, 3.87830166023954706752E-12,
             3.14040098946363335242E-15]


def _sici_approx(x):
  si = (np.pi / 2) - ufuncs.cos(x) / x
  ci = ufuncs.sin(x) / x
  return where(isposinf(x), np.pi / 2, si), where(isposinf(x), 0.0, ci)


def _sici_series(x):
  SN, SD, CN, CD = (np.array(c, dtype=x.dtype)
                    for c in (_SICI_SN, _SICI_SD, _SICI_CN, _SICI_CD))
  t = x * x
  si = (x * polyval(SN, t)) / polyval(SD, t)
  ci = np.euler_gamma + ufuncs.log(x) + t * polyval(CN, t) / polyval(CD, t)
  return where(x == 0, 0.0, si), where(x == 0, -np.inf, ci)


def _sici_asympt(x):
  s, c = ufuncs.sin(x), ufuncs.cos(x)
  z = 1.0 / (x * x)
  FN4, FD4, GN4, GD4, FN8, FD8, GN8, GD8 = (np.array(v, dtype=x.dtype) for v in (
      _SICI_FN4, _SICI_FD4, _SICI_GN4, _SICI_GD4, _SICI_FN8, _SICI_FD8, _SICI_GN8,
      _SICI_GD8))
  f4 = polyval(FN4, z) / (x * polyval(FD4, z))
  g4 = z * polyval(GN4, z) / polyval(GD4, z)
  f8 = polyval(FN8, z) / (x * polyval(FD8, z))
  g8 = z * polyval(GN8, z) / polyval(GD8, z)
  mask = x < 8.0
  f = where(mask, f4, f8)
  g = where(mask, g4, g8)
  return (np.pi / 2) - f * c - g * s, f * s - g * c


@custom_jvp
def sici(x):
  """The sine and cosine integrals (Si(x), Ci(x)) (Cephes' sici.c)."""
  x, = promote_args_inexact("sici", x)
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    raise ValueError(f"Argument `x` to sici must be real-valued. Got dtype {x.dtype}.")
  x_abs = ufuncs.abs(x)
  si_series, ci_series = _sici_series(x_abs)
  si_asymp, ci_asymp = _sici_asympt(x_abs)
  si_approx, ci_approx = _sici_approx(x_abs)
  cond1 = x_abs <= 4
  cond2 = (x_abs > 4) & (x_abs <= 1e9)
  si = select([cond1, cond2], [si_series, si_asymp], si_approx)
  ci = select([cond1, cond2], [ci_series, ci_asymp], ci_approx)
  return ufuncs.sign(x) * si, where(isneginf(x), np.nan, ci)


@sici.defjvp
def _sici_jvp(primals, tangents):
  (p,), (t,) = primals, tangents
  return sici(p), (ufuncs.sinc(p / np.pi) * t, ufuncs.cos(p) / p * t)


# ----------------------------------------------------------------- spence

_SPENCE_A = [4.65128586073990045278E-5, 7.31589045238094711071E-3,
             1.33847639578309018650E-1, 8.79691311754530315341E-1,
             2.71149851196553469920E0, 4.25697156008121755724E0,
             3.29771340985225106936E0, 1.00000000000000000126E0]
_SPENCE_B = [6.90990488912553276999E-4, 2.54043763932544379113E-2,
             2.82974860602568089943E-1, 1.41172597751831069617E0,
             3.63800533345137075418E0, 5.03278880143316990390E0,
             3.54771340985225096217E0, 9.99999999999999998740E-1]


def _spence_poly(w):
  A = array(_SPENCE_A, dtype=w.dtype)
  B = array(_SPENCE_B, dtype=w.dtype)
  return -w * polyval(A, w) / polyval(B, w)


def _spence_calc(x):
  x2_bool = x > 2.0
  x = piecewise(x, [x2_bool], [lambda x: 1.0 / x, lambda x: x])
  x1_5_bool = x > 1.5
  x_5_bool = x < 0.5
  x2_bool = x2_bool | x1_5_bool
  w = piecewise(x, [x1_5_bool, x_5_bool],
                [lambda x: 1.0 / x - 1.0, lambda x: -x, lambda x: x - 1.0])
  y = _spence_poly(w)
  y_flag_one = np.pi ** 2 / 6.0 - ufuncs.log(x) * ufuncs.log(1.0 - x) - y
  y = where(x_5_bool, y_flag_one, y)
  y_flag_two = -0.5 * ufuncs.log(x) ** 2 - y
  return where(x2_bool, y_flag_two, y)


def spence(x):
  """Spence's function (the dilogarithm Li2(1 - x)); NaN for x < 0. float32/64 only."""
  x = asarray(x)
  if x.dtype not in (np.float32, np.float64):
    raise TypeError(f"x.dtype={x.dtype} is not supported, see docstring for supported "
                    f"types.")
  return piecewise(x, [x < 0.0, x == 1.0, x == 0.0],
                   [np.nan, 0, np.pi ** 2 / 6, _spence_calc])


def bernoulli(n: int):
  """The first n + 1 Bernoulli numbers B_0..B_n (B_1 = -1/2), in the default float."""
  n = core.concrete_or_error(operator.index, n, "Argument n of bernoulli")
  if n < 0:
    raise ValueError("n must be a non-negative integer.")
  b3 = array([1, -1 / 2, 1 / 6])
  if n < 3:
    return b3[:n + 1]
  bn = zeros(n + 1).at[:3].set(b3)
  m = arange(4, n + 1, 2, dtype=bn.dtype)
  q1 = (1. / np.pi ** 2) * reductions.cumprod(-(m - 1) * m / 4 / np.pi ** 2)
  k = arange(2, 50, dtype=bn.dtype)  # 2 ** -50 < 1e-15
  q2 = jnp_sum(k[:, None] ** -m[None, :], axis=0)
  return bn.at[4::2].set(q1 * (1 + q2))


# ----------------------------------------------------------------- hypergeometric


def _series_loop(init, step, x, rel=True):
  """Sums ``serie += f(term, k)``, ``term = step(term, k)`` from k = 1 until the term is
  below eps (relative to the sum), at most 250 terms."""
  precision = dtypes.finfo(x.dtype).eps

  def cond(state):
    serie, k, term = state
    if rel:
      return (k < 250) & (lax.abs(term) / lax.abs(serie) > precision)
    return (k < 250) & (lax.abs(term) > precision * lax.abs(serie))

  return while_loop(cond, step, init)[0]


def _hyp1f1_serie(a, b, x):
  def body(state):
    serie, k, term = state
    serie += term
    term *= (a + k) / (b + k) * x / (k + 1)
    return serie, k + 1, term
  return _series_loop((1, 1, a / b * x), body, x)


def _hyp1f1_asymptotic(a, b, x):
  def body(state):
    serie, k, term = state
    serie += term
    term *= (b - a + k) * (1 - a + k) / (k + 1) / x
    return serie, k + 1, term
  serie = _series_loop((1, 1, (b - a) * (1 - a) / x), body, x)
  return gamma(b) / gamma(a) * lax.exp(x) * x ** (a - b) * serie


@vectorize
def _hyp1f1_a_derivative(a, b, x):
  def body(state):
    serie, k, term = state
    serie += term * (digamma(a + k) - digamma(a))
    term *= (a + k) / (b + k) * x / (k + 1)
    return serie, k + 1, term
  return _series_loop((0, 1, a / b * x), body, x)


@vectorize
def _hyp1f1_b_derivative(a, b, x):
  def body(state):
    serie, k, term = state
    serie += term * (digamma(b) - digamma(b + k))
    term *= (a + k) / (b + k) * x / (k + 1)
    return serie, k + 1, term
  return _series_loop((0, 1, a / b * x), body, x)


@vectorize
def _hyp1f1(a, b, x):
  a, b, x = promote_args_inexact("hyp1f1", a, b, x)
  _complex_check("hyp1f1", x)
  result = cond(lax.abs(x) < 100, _hyp1f1_serie, _hyp1f1_asymptotic, a, b, x)
  index = (a == 0) * 1 + ((a == b) & (a != 0)) * 2 + ((b == 0) & (a != 0)) * 3
  return lax.select_n(index, result, array(1, dtype=x.dtype), ufuncs.exp(x),
                      array(np.inf, dtype=x.dtype))


@custom_jvp
def hyp1f1(a, b, x):
  """Kummer's confluent hypergeometric function 1F1(a; b; x): its series for |x| < 100,
  else the asymptotic series (inaccurate for large |a| or |b|, as JAX's)."""
  return _hyp1f1(a, b, x)


hyp1f1.defjvps(
    lambda a_dot, primal_out, a, b, x: _hyp1f1_a_derivative(a, b, x) * a_dot,
    lambda b_dot, primal_out, a, b, x: _hyp1f1_b_derivative(a, b, x) * b_dot,
    lambda x_dot, primal_out, a, b, x: a / b * hyp1f1(a + 1, b + 1, x) * x_dot)


def _hyp2f1_terminal(a, b, c, x):
  """The terminating series where a (or b) is a nonpositive integer."""
  eps = dtypes.finfo(x.dtype).eps * 50
  ib = lnp.round(b)
  mask = (b < a) & (ufuncs.abs(b - ib) < eps) & ~((c % 1 == 0) & (c <= 0) & (c > b))
  a, b = where(mask, b, a), where(mask, a, b)
  a = ufuncs.abs(a)

  def body(i, state):
    serie, term = state
    term *= -(a - i + 1) / (c + i - 1) * (b + i - 1) / i * x
    serie += term
    return serie, term

  init = (array(1, dtype=x.dtype), array(1, dtype=x.dtype))
  return fori_loop(array(1, dtype=a.dtype), a + 1, body, init)[0]


def _hyp2f1_serie(a, b, c, x):
  def body(state):
    serie, k, term = state
    serie += term
    term *= (a + k - 1) * (b + k - 1) / (c + k - 1) / k * x
    return serie, k + 1, term
  init = (array(0, dtype=x.dtype), array(1, dtype=x.dtype), array(1, dtype=x.dtype))
  return _series_loop(init, body, x, rel=False)


def _hyp2f1_terminal_or_serie(a, b, c, x):
  eps = dtypes.finfo(x.dtype).eps * 50
  d = c - a - b
  neg_int_a = (a <= 0) & (ufuncs.abs(a - lnp.round(a)) < eps)
  neg_int_b = (b <= 0) & (ufuncs.abs(b - lnp.round(b)) < eps)
  neg_int_a_or_b = neg_int_a | neg_int_b
  index = where((x > 0.9) & ~neg_int_a_or_b,
                where(ufuncs.abs(d - lnp.round(d)) >= eps, 0, 1),
                where(neg_int_a_or_b, 2, 0))
  return lax.select_n(index, _hyp2f1_serie(a, b, c, x),
                      _hyp2f1_digamma_transform(a, b, c, x),
                      _hyp2f1_terminal(a, b, c, x))


def _hyp2f1_digamma_transform(a, b, c, x):
  """1F1 near x = 1 with c - a - b an integer: the digamma series (Cephes' hys2f1)."""
  rtol = dtypes.finfo(x.dtype).eps
  d = c - a - b
  s = 1 - x
  rd = lnp.round(d)
  e = where(rd >= 0, d, -d)
  d1 = where(rd >= 0, d, array(0, dtype=d.dtype))
  d2 = where(rd >= 0, array(0, dtype=d.dtype), d)
  ard = where(rd >= 0, rd, -rd).astype("int32")
  ax = ufuncs.log(s)
  y = digamma(1.0) + digamma(1.0 + e) - digamma(a + d1) - digamma(b + d1) - ax
  y /= gamma(e + 1.0)
  p = (a + d1) * (b + d1) * s / gamma(e + 2.0)

  def cond_fn(state):
    _, _, _, _, _, _, q, _, _, t, y = state
    return (t < 250) & (ufuncs.abs(q) >= rtol * ufuncs.abs(y))

  def body(state):
    a, ax, b, d1, e, p, q, r, s, t, y = state
    r = (digamma(1.0 + t) + digamma(1.0 + t + e) - digamma(a + t + d1) -
         digamma(b + t + d1) - ax)
    q = p * r
    y += q
    p *= s * (a + t + d1) / (t + 1.0)
    p *= (b + t + d1) / (t + 1.0 + e)
    t += 1.0
    return a, ax, b, d1, e, p, q, r, s, t, y

  init = (a, ax, b, d1, e, p, y, array(0, dtype=x.dtype), s, array(1, dtype=x.dtype), y)
  _, _, _, _, _, _, q, r, _, _, y = while_loop(cond_fn, body, init)

  def compute_sum(y):
    y1 = array(1, dtype=x.dtype)
    t = array(0, dtype=x.dtype)
    p = array(1, dtype=x.dtype)

    def for_body(i, state):
      a, b, d2, e, p, s, t, y1 = state
      r = 1.0 - e + t
      p *= s * (a + t + d2) * (b + t + d2) / r
      t += 1.0
      p /= t
      y1 += p
      return a, b, d2, e, p, s, t, y1

    y1 = fori_loop(1, ard, for_body, (a, b, d2, e, p, s, t, y1))[-1]
    p = gamma(c)
    y1 *= gamma(e) * p / (gamma(a + d1) * gamma(b + d1))
    y *= p / (gamma(a + d2) * gamma(b + d2))
    y = where((ard & 1) != 0, -y, y)
    q = s ** rd
    return where(rd > 0, y * q + y1, y + y1 * q)

  return where(rd == 0, y * gamma(c) / (gamma(a) * gamma(b)), compute_sum(y))


def _hyp2f1_param_derivative(which):
  @vectorize
  def deriv(a, b, c, x):
    p = (a, b, c)[which]
    sgn = -1 if which == 2 else 1

    def body(state):
      serie, k, term = state
      serie += term * sgn * (digamma(p + k) - digamma(p))
      term *= (a + k) * (b + k) / (c + k) / (k + 1) * x
      return serie, k + 1, term
    return _series_loop((0, 1, a * b / c * x), body, x)
  return deriv


_hyp2f1_a_derivative = _hyp2f1_param_derivative(0)
_hyp2f1_b_derivative = _hyp2f1_param_derivative(1)
_hyp2f1_c_derivative = _hyp2f1_param_derivative(2)


@vectorize
def _hyp2f1(a, b, c, x):
  a, b, c, x = promote_args_inexact("hyp2f1", a, b, c, x)
  eps = dtypes.finfo(x.dtype).eps * 50
  d = c - a - b
  s = 1 - x
  ca = c - a
  cb = c - b
  id_ = lnp.round(d)
  index = where((x == 0) | (((a == 0) | (b == 0)) & (c != 0)), 0,
                where((c == 0) | ((c < 0) & (c % 1 == 0)), 1,
                      where((d <= -1) & ~((ufuncs.abs(d - id_) >= eps) & (s < 0)), 2,
                            where((d <= 0) & (x == 1), 1,
                                  where((x < 1) & (b == c), 3,
                                        where((x < 1) & (a == c), 4,
                                              where(x > 1, 1,
                                                    where(x == 1, 5, 6))))))))
  return lax.select_n(index, array(1, dtype=x.dtype), array(np.inf, dtype=x.dtype),
                      s ** d * _hyp2f1_terminal_or_serie(ca, cb, c, x), s ** (-a),
                      s ** (-b), gamma(c) * gamma(d) / (gamma(ca) * gamma(cb)),
                      _hyp2f1_terminal_or_serie(a, b, c, x))


@custom_jvp
def hyp2f1(a, b, c, x):
  """Gauss' hypergeometric function 2F1(a, b; c; x) for x <= 1 (inf above, as JAX)."""
  return _hyp2f1(a, b, c, x)


hyp2f1.defjvps(
    lambda a_dot, primal_out, a, b, c, x: _hyp2f1_a_derivative(a, b, c, x) * a_dot,
    lambda b_dot, primal_out, a, b, c, x: _hyp2f1_b_derivative(a, b, c, x) * b_dot,
    lambda c_dot, primal_out, a, b, c, x: _hyp2f1_c_derivative(a, b, c, x) * c_dot,
    lambda x_dot, primal_out, a, b, c, x: a * b / c * hyp2f1(a + 1, b + 1, c + 1, x) * x_dot)


# ----------------------------------------------------------------- Owen's T

# 13-point Gauss-Legendre nodes and weights on [0, 1] for Owen's T integral.
_OWENS_T_QUAD_PTS = np.array([
    0.0035082039676451715, 0.031279042338030754, 0.085266826283219451,
    0.16245071730812277, 0.25851196049125435, 0.36807553840697534, 0.48501092905604697,
    0.60277514152618577, 0.71477884217753227, 0.81475510988760099, 0.89711029755948966,
    0.95723808085944262, 0.99178832974629704])
_OWENS_T_QUAD_WTS = np.array([
    0.018831438115323503, 0.018567086243977649, 0.018042093461223386,
    0.017263829606398753, 0.016243219975989857, 0.014994592034116705,
    0.013535474469662088, 0.011886351605820165, 0.010070377242777432,
    0.0081130545742299587, 0.0060419009528470239, 0.0038862217010742058,
    0.0016793031084546090])


def _owens_t_quadrature(h, a):
  quad_pts = expand_dims(_OWENS_T_QUAD_PTS, tuple(range(a.ndim)))
  r = ufuncs.square(a)[..., None] * quad_pts
  integrand = ufuncs.exp(-0.5 * ufuncs.square(h)[..., None] * (1. + r)) / (1. + r)
  return a * matmul(integrand, _OWENS_T_QUAD_WTS)


@custom_jvp
def _owens_t_impl(h, a):
  h = ufuncs.abs(h)
  abs_a = ufuncs.abs(a)
  root_2 = _const(h, np.sqrt(2))
  h_normed = h / root_2
  modified_a = where(abs_a <= 1., abs_a, ufuncs.reciprocal(abs_a))
  modified_h = where(abs_a <= 1., h, abs_a * h)
  result = _owens_t_quadrature(modified_h, modified_a)
  result = where(modified_h == 0., ufuncs.arctan(modified_a) / (2 * np.pi), result)
  result = where(modified_a == 1.,
                 0.125 * lax_special.erfc(-modified_h / root_2) *
                 lax_special.erfc(modified_h / root_2), result)
  normh = lax_special.erfc(h_normed)
  normah = lax_special.erfc(abs_a * h_normed)
  result = where(abs_a > 1.,
                 where(abs_a * h <= 0.67,
                       (0.25 - 0.25 * lax_special.erf(h_normed) *
                        lax_special.erf(abs_a * h_normed) - result),
                       0.25 * (normh + normah - normh * normah) - result),
                 result)
  result = lax.sign(a) * result
  return where(isnan(a) | isnan(h), full_like(result, np.nan), result)


def _owens_t_jvp(primals, tangents):
  (h, a), (dh, da) = primals, tangents
  result = _owens_t_impl(h, a)
  root_2 = _const(h, np.sqrt(2))
  dout_dh = (-lax.exp(-0.5 * lax.square(h)) * lax_special.erf(a * h / root_2) /
             (2. * _const(h, np.sqrt(2. * np.pi))))
  dout_da = (lax.exp(-0.5 * (lax.square(a) + 1.) * lax.square(h)) /
             (2. * np.pi * (lax.square(a) + 1.)))
  return result, (dout_dh * dh + dout_da * da).astype(result.dtype)


_owens_t_impl.defjvp(_owens_t_jvp)


def owens_t(h, a):
  """Owen's T function T(h, a) (13-point Gauss-Legendre quadrature)."""
  h, a = promote_args_inexact("owens_t", h, a)
  return _owens_t_impl(h, a)


# ----------------------------------------------------------------- Fresnel

# Cephes' fresnl.c: float32 polynomials (no denominators), float64 rational ones.
_FRESNEL_F32 = dict(
    sn=[+1.647629463788700e-9, -1.522754752581096e-7, +8.424748808502400e-6,
        -3.120693124703272e-4, +7.244727626597022e-3, -9.228055941124598e-2,
        +5.235987735681432e-1],
    cn=[+1.416802502367354e-8, -1.157231412229871e-6, +5.387223446683264e-5,
        -1.604381798862293e-3, +2.818489036795073e-2, -2.467398198317899e-1,
        +9.999999760004487e-1],
    fn=[-1.903009855649792e12, +1.355942388050252e11, -4.158143148511033e9,
        +7.343848463587323e7, -8.732356681548485e5, +8.560515466275470e3,
        -1.032877601091159e2, +2.999401847870011e0],
    gn=[-1.860843997624650e11, +1.278350673393208e10, -3.779387713202229e8,
        +6.492611570598858e6, -7.787789623358162e4, +8.602931494734327e2,
        -1.493439396592284e1, +9.999841934744914e-1])
_FRESNEL_F64 = dict(
    sn=[-2.99181919401019853726e3, +7.08840045257738576863e5, -6.29741486205862506537e7,
        +2.54890880573376359104e9, -4.42979518059697779103e10, +3.18016297876567817986e11],
    sd=[+1.00000000000000000000e0, +2.81376268889994315696e2, +4.55847810806532581675e4,
        +5.17343888770096400730e6, +4.19320245898111231129e8, +2.24411795645340920940e10,
        +6.07366389490084639049e11],
    cn=[-4.98843114573573548651e-8, +9.50428062829859605134e-6, -6.45191435683965050962e-4,
        +1.88843319396703850064e-2, -2.05525900955013891793e-1, +9.99999999999999998822e-1],
    cd=[+3.99982968972495980367e-12, +9.15439215774657478799e-10,
        +1.25001862479598821474e-7, +1.22262789024179030997e-5,
        +8.68029542941784300606e-4, +4.12142090722199792936e-2, +1.00000000000000000118e0],
    fn=[+4.21543555043677546506e-1, +1.43407919780758885261e-1, +1.15220955073585758835e-2,
        +3.45017939782574027900e-4, +4.63613749287867322088e-6, +3.05568983790257605827e-8,
        +1.02304514164907233465e-10, +1.72010743268161828879e-13,
        +1.34283276233062758925e-16, +3.76329711269987889006e-20],
    fd=[+1.00000000000000000000e0, +7.51586398353378947175e-1, +1.16888925859191382142e-1,
        +6.44051526508858611005e-3, +1.55934409164153020873e-4, +1.84627567348930545870e-6,
        +1.12699224763999035261e-8, +3.60140029589371370404e-11,
        +5.88754533621578410010e-14, +4.52001434074129701496e-17,
        +1.25443237090011264384e-20],
    gn=[+5.04442073643383265887e-1, +1.97102833525523411709e-1, +1.87648584092575249293e-2,
        +6.84079380915393090172e-4, +1.15138826111884280931e-5, +9.82852443688422223854e-8,
        +4.45344415861750144738e-10, +1.08268041139020870318e-12,
        +1.37555460633261799868e-15, +8.36354435630677421531e-19,
        +1.86958710162783235106e-22],
    gd=[+1.00000000000000000000e0, +1.47495759925128324529e0, +3.37748989120019970451e-1,
        +2.53603741420338795122e-2, +8.14679107184306179049e-4, +1.27545075667729118702e-5,
        +1.04314589657571990585e-7, +4.60680728146520428211e-10,
        +1.10273215066240270757e-12, +1.38796531259578871258e-15,
        +8.39158816283118707363e-19, +1.86958710162783236342e-22])


def _sincospisquaredhalf(x):
  """(sin(pi x^2 / 2), cos(pi x^2 / 2)) with the argument reduced exactly mod 2."""
  x = ufuncs.abs(x)
  s = ufuncs.fmod(x, 2.0)
  r = ufuncs.fmod(s * (x - s / 2), 2.0)
  sinpi = where(r < 0.5, ufuncs.sin(np.pi * r),
                where(r > 1.5, ufuncs.sin(np.pi * (r - 2.0)),
                      -ufuncs.sin(np.pi * (r - 1.0))))
  cospi = where(r == 0.5, 0.0,
                where(r < 1.0, -ufuncs.sin(np.pi * (r - 0.5)),
                      ufuncs.sin(np.pi * (r - 1.5))))
  return sinpi, cospi


@custom_jvp
def fresnel(x):
  """The Fresnel integrals (S(x), C(x)) (Cephes' fresnl.c; real inputs only)."""
  xxa, = promote_args_inexact("fresnel", x)
  original_dtype = xxa.dtype
  if dtypes.issubdtype(xxa.dtype, np.complexfloating):
    raise NotImplementedError("Support for complex-valued inputs is not implemented yet.")
  if xxa.dtype in (np.float32, np.float16, dtypes.bfloat16):
    xxa = xxa.astype(np.float32)
    k = {n: array(v, dtype=np.float32) for n, v in _FRESNEL_F32.items()}
  elif xxa.dtype == np.float64:
    k = {n: array(v, dtype=np.float64) for n, v in _FRESNEL_F64.items()}
  else:
    raise NotImplementedError(f"Support for {xxa.dtype} dtype is not implemented yet.")
  single = xxa.dtype == np.float32
  x = ufuncs.abs(xxa)
  x2 = x * x
  s_inf = c_inf = 0.5
  t = x2 * x2
  if single:
    s_small = x * x2 * polyval(k["sn"], t)
    c_small = x * polyval(k["cn"], t)
  else:
    s_small = x * x2 * polyval(k["sn"], t) / polyval(k["sd"], t)
    c_small = x * polyval(k["cn"], t) / polyval(k["cd"], t)
  sinpi, cospi = _sincospisquaredhalf(x)
  if single:
    c_large, s_large = c_inf, s_inf
  else:
    c_large = 0.5 + 1 / (np.pi * x) * sinpi
    s_large = 0.5 - 1 / (np.pi * x) * cospi
  t = np.pi * x2
  u = 1.0 / (t * t)
  t = 1.0 / t
  if single:
    f = 1.0 - u * polyval(k["fn"], u)
    g = t * polyval(k["gn"], u)
  else:
    f = 1.0 - u * polyval(k["fn"], u) / polyval(k["fd"], u)
    g = t * polyval(k["gn"], u) / polyval(k["gd"], u)
  t = np.pi * x
  c_other = 0.5 + (f * sinpi - g * cospi) / t
  s_other = 0.5 - (f * cospi + g * sinpi) / t
  inf = ufuncs.isinf(xxa)
  small = x2 < 2.5625
  large = x > 36974.0
  s = where(inf, s_inf, where(small, s_small, where(large, s_large, s_other)))
  c = where(inf, c_inf, where(small, c_small, where(large, c_large, c_other)))
  neg = xxa < 0.0
  s = where(neg, -s, s)
  c = where(neg, -c, c)
  if original_dtype != xxa.dtype:
    s, c = s.astype(original_dtype), c.astype(original_dtype)
  return s, c


@fresnel.defjvp
def _fresnel_jvp(primals, tangents):
  (x,), (x_dot,) = primals, tangents
  sinpi, cospi = _sincospisquaredhalf(x)
  return fresnel(x), (sinpi * x_dot, cospi * x_dot)


# ----------------------------------------------------------------- Bessel J_n


def _bessel_jn_scan_body_fun(carry, k):
  f0, f1, bs, z = carry
  f = 2.0 * (k + 1.0) * f1 / z - f0
  bs = lnp.where(ufuncs.mod(k, 2) == 0, bs + 2.0 * f, bs)  # (JAX: a cond; vmap selects)
  return (f1, f, bs, z), f


def _bessel_jn(z, *, v, n_iter=50):
  """J_0..J_v at one z by Miller's backward recurrence from n_iter."""
  f0 = _const(z, 0.0)
  f1 = _const(z, 1E-16)
  bs = _const(z, 0.0)
  (_, _, bs, _), j_vals = scan(_bessel_jn_scan_body_fun, (f0, f1, bs, z),
                               lax.iota(z.dtype, n_iter + 1), reverse=True)
  f = j_vals[0]
  return j_vals[:v + 1] / (bs - f)


def bessel_jn(z, *, v: int, n_iter: int = 50):
  """Bessel functions of the first kind J_0(z)..J_v(z), stacked on a new leading axis
  (Miller's backward recurrence: inaccurate for large |z|, as JAX's)."""
  z = asarray(z)
  z, = promote_dtypes_inexact(z)
  if z.dtype == np.complex128:  # (as JAX: complex64 fails below, in rem)
    raise ValueError("complex input not supported.")
  v = core.concrete_or_error(operator.index, v, "Argument v of bessel_jn.")
  n_iter = core.concrete_or_error(int, n_iter, "Argument n_iter of bessel_jn.")
  fun = partial(_bessel_jn, v=v, n_iter=n_iter)
  for _ in range(z.ndim):
    fun = vmap(fun)
  return moveaxis(fun(z), -1, 0)


# ----------------------------------------------------------------- Legendre, harmonics


def _gen_recurrence_mask(l_max, is_normalized, dtype):
  """The three-term recurrence's coefficients, masked to the valid (m, l)."""
  m_mat, l_mat = meshgrid(arange(l_max + 1, dtype=dtype), arange(l_max + 1, dtype=dtype),
                          indexing="ij")
  if is_normalized:
    c0 = l_mat * l_mat
    c1 = m_mat * m_mat
    c2 = 2.0 * l_mat
    c3 = (l_mat - 1.0) * (l_mat - 1.0)
    d0 = ufuncs.sqrt((4.0 * c0 - 1.0) / (c0 - c1))
    d1 = ufuncs.sqrt(((c2 + 1.0) * (c3 - c1)) / ((c2 - 3.0) * (c0 - c1)))
  else:
    d0 = (2.0 * l_mat - 1.0) / (l_mat - m_mat)
    d1 = (l_mat + m_mat - 1.0) / (l_mat - m_mat)
  d0_idx = triu_indices(l_max + 1, 1)
  d1_idx = triu_indices(l_max + 1, 2)
  d_zeros = zeros((l_max + 1, l_max + 1), dtype=dtype)
  d0_mask = d_zeros.at[d0_idx].set(d0[d0_idx])
  d1_mask = d_zeros.at[d1_idx].set(d1[d1_idx])
  i, j, k = ogrid[:l_max + 1, :l_max + 1, :l_max + 1]
  mask = (i + j - k == 0).astype(dtype)
  return einsum("jk,ijk->ijk", d0_mask, mask), einsum("jk,ijk->ijk", d1_mask, mask)


def _gen_derivatives(p, x, is_normalized):
  """d/dx of the associated Legendre functions ``p`` (shape (m, l, x))."""
  num_m, num_l, num_x = p.shape
  p_m_lm1 = pad(p, ((0, 0), (1, 0), (0, 0)))[:, :num_l, :]
  p_mp2_lm1 = pad(p_m_lm1, ((0, 2), (0, 0), (0, 0)))[2:num_m + 2, :, :]
  p_mm2_lm1 = pad(p_m_lm1, ((2, 0), (0, 0), (0, 0)))[:num_m, :, :]
  if is_normalized:
    raise NotImplementedError("Negative orders for normalization is not implemented yet.")
  if num_l > 1:
    l_vec = arange(1, num_l - 1, dtype=x.dtype)
    coeff = -1.0 / ((l_vec + 1) * l_vec)
    update = einsum("i,ij->ij", coeff, p[1, 1:num_l - 1, :])
    p_mm2_lm1 = p_mm2_lm1.at[1, 2:num_l, :].set(update)
  if num_l > 2:
    l_vec = arange(2, num_l - 1, dtype=x.dtype)
    coeff = 1.0 / ((l_vec + 2) * (l_vec + 1) * l_vec * (l_vec - 1))
    update = einsum("i,ij->ij", coeff, p[2, 2:num_l - 1, :])
    p_mm2_lm1 = p_mm2_lm1.at[0, 3:num_l, :].set(update)
  m_mat, l_mat = meshgrid(arange(num_m, dtype=x.dtype), arange(num_l, dtype=x.dtype),
                          indexing="ij")
  coeff_zeros = zeros((num_m, num_l), dtype=x.dtype)
  upper_0 = triu_indices(num_m, 0, num_l)
  zero_vec = zeros((num_l,), dtype=x.dtype)

  def masked(v):
    return coeff_zeros.at[upper_0].set(v[upper_0])

  a0 = -0.5 / (m_mat - 1.0)
  a0_masked = masked(a0).at[1, :].set(zero_vec)
  b0 = l_mat + m_mat
  c0 = a0 * (b0 - 2.0) * (b0 - 1.0)
  c0_masked = masked(c0).at[1, :].set(zero_vec)
  p_mm1_l = (einsum("ij,ijk->ijk", a0_masked, p_m_lm1) +
             einsum("ij,ijk->ijk", c0_masked, p_mm2_lm1))
  d0 = -0.5 / (m_mat + 1.0)
  e0 = d0 * b0 * (b0 + 1.0)
  p_mp1_l = (einsum("ij,ijk->ijk", masked(d0), p_mp2_lm1) +
             einsum("ij,ijk->ijk", masked(e0), p_m_lm1))
  f0 = b0 * (l_mat - m_mat + 1.0) / 2.0
  p_derivative = einsum("ij,ijk->ijk", masked(f0), p_mm1_l) - 0.5 * p_mp1_l
  if num_m > 1:
    l_vec = arange(num_l, dtype=p.dtype)
    g0 = einsum("i,ij->ij", (l_vec + 1) * l_vec, p[0, :, :])
    if num_l > 2:
      g0 = g0 - p[2, :, :]
    p_derivative_m0 = einsum("j,ij->ij", 0.5 / ufuncs.sqrt(1 - x * x), g0)
    p_derivative = p_derivative.at[1, :, :].set(p_derivative_m0)
    p_derivative = p_derivative.at[1, 0, :].set(0)
  return p_derivative


def _gen_associated_legendre(l_max, x, is_normalized):
  """P_l^m(x) for 0 <= m, l <= l_max (shape (m, l, x)), by the three-term recurrence."""
  p = zeros((l_max + 1, l_max + 1, x.shape[0]), dtype=x.dtype)
  a_idx = arange(1, l_max + 1, dtype=x.dtype)
  b_idx = arange(l_max, dtype=x.dtype)
  if is_normalized:
    initial_value = 0.5 / np.sqrt(np.pi)
    f_a = reductions.cumprod(-1 * ufuncs.sqrt(1.0 + 0.5 / a_idx))
    f_b = ufuncs.sqrt(2.0 * b_idx + 3.0)
  else:
    initial_value = 1.0
    f_a = reductions.cumprod(1.0 - 2.0 * a_idx)
    f_b = 2.0 * b_idx + 1.0
  p = p.at[(0, 0)].set(initial_value)
  y = reductions.cumprod(broadcast_to(ufuncs.sqrt(1.0 - x * x), (l_max, x.shape[0])),
                         axis=0)
  p_diag = initial_value * einsum("i,ij->ij", f_a, y)
  diag = diag_indices(l_max + 1)
  p = p.at[(diag[0][1:], diag[1][1:])].set(p_diag)
  p_offdiag = einsum("ij,ij->ij", einsum("i,j->ij", f_b, x), p[diag_indices(l_max)])
  p = p.at[(diag[0][:l_max], diag[1][:l_max] + 1)].set(p_offdiag)
  d0_mask_3d, d1_mask_3d = _gen_recurrence_mask(l_max, is_normalized, x.dtype)

  def body_fun(i, p_val):
    h = (einsum("ij,ijk->ijk", d0_mask_3d[i],
                einsum("ijk,k->ijk", roll(p_val, shift=1, axis=1), x)) -
         einsum("ij,ijk->ijk", d1_mask_3d[i], roll(p_val, shift=2, axis=1)))
    return p_val + h

  p = p.astype(dtypes.result_type(p, x, d0_mask_3d))
  if l_max > 1:
    p = fori_loop(2, l_max + 1, body_fun, p)
  return p


def _lpmn_check(m, n, z):
  if z.dtype not in (np.float32, np.float64):
    raise TypeError(f"z.dtype={z.dtype} is not supported, see docstring for supported "
                    f"types.")
  if z.ndim != 1:
    raise ValueError("z must be a 1D array.")
  m = core.concrete_or_error(int, m, "Argument m of lpmn.")
  n = core.concrete_or_error(int, n, "Argument n of lpmn.")
  if m != n:
    raise NotImplementedError("Computations for m!=n are not yet supported.")
  return n


def lpmn(m: int, n: int, z):
  """Associated Legendre functions P_n^m(z) and their derivatives, shape (m+1, n+1,
  len(z)) (m == n only; deprecated in JAX)."""
  l_max = _lpmn_check(m, n, z)
  p_vals = _gen_associated_legendre(l_max, z, False)
  return p_vals, _gen_derivatives(p_vals, z, False)


def lpmn_values(m: int, n: int, z, is_normalized: bool):
  """The values of ``lpmn`` (optionally normalized), without derivatives."""
  l_max = _lpmn_check(m, n, z)
  return _gen_associated_legendre(l_max, z, is_normalized)


def _sph_harm(n, m, theta, phi, n_max):
  legendre = _gen_associated_legendre(n_max, ufuncs.cos(theta), True)
  legendre_val = legendre.at[abs(m), n, arange(len(n))].get(mode="clip")
  angle = abs(m) * phi
  vandermonde = lax.complex(ufuncs.cos(angle), ufuncs.sin(angle))
  harmonics = lax.complex(legendre_val * ufuncs.real(vandermonde),
                          legendre_val * ufuncs.imag(vandermonde))
  return where(m < 0, (-1.0) ** abs(m) * ufuncs.conjugate(harmonics), harmonics)


def sph_harm_y(n, m, theta, phi, diff_n: int | None = None, n_max: int | None = None):
  """Spherical harmonics Y_n^m(theta, phi) (theta the polar angle); ``n_max`` must be
  static under transformations; no ``diff_n``."""
  if diff_n is not None:
    raise NotImplementedError(
        "The 'diff_n' argument to jax.scipy.special.sph_harm_y is not supported.")
  if isscalar(theta):
    theta = array([theta])
  if n_max is None:
    n_max = np.max(n)
  n_max = core.concrete_or_error(
      int, n_max, "The `n_max` argument of `jnp.scipy.special.sph_harm` must be "
      "statically specified to use `sph_harm` within JAX transformations.")
  return _sph_harm(n, m, theta, phi, n_max)

"""``jax.scipy.special``: SciPy's special functions on lax and jnp.

Each function runs the same sequence of operations as JAX 0.10.2's (so float32 values
agree closely) with its custom JVP where JAX has one. ``logsumexp``, ``softmax`` and
``log_softmax`` live with ``jax.nn`` (``_src/ops/special.py``). ``factorial`` has no
``exact=True``; ``zeta`` needs ``q`` (no Riemann zeta), as in JAX.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.custom_derivatives import custom_jvp
from pyjax._src.lax import lax
from pyjax._src.lax import special as lax_special
from pyjax._src.lax.lax import _const
from pyjax._src.numpy.array_creation import arange, full, zeros_like
from pyjax._src.numpy.lax_numpy import asarray, expand_dims, select, where
from pyjax._src.numpy.polynomial import polyval
from pyjax._src.numpy.reductions import sum as jnp_sum
from pyjax._src.numpy.ufuncs import isnan, maximum, minimum, signbit
from pyjax._src.numpy.util import promote_args_inexact

__all__ = [
    "betainc", "betaln", "beta", "digamma", "entr", "erf", "erfc", "erfinv", "expit",
    "factorial", "gamma", "gammainc", "gammaincc", "gammaln", "gammasgn", "i0", "i0e",
    "i1", "i1e", "log_ndtr", "logit", "multigammaln", "ndtr", "ndtri", "poch",
    "xlog1py", "xlogy",
]


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
  """Gamma(x) as gammasgn(x) exp(lgamma(x)) (real inputs only here)."""
  x, = promote_args_inexact("gamma", x)
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    raise NotImplementedError("pyjax's gamma does not support complex inputs yet.")
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

"""jax.scipy.special's other functions (exponential and sine integrals, Faddeeva family,
hypergeometric, Owen's T, Fresnel, Bessel J, Legendre and spherical harmonics, zeta,
complex gamma, ...): values vs JAX and SciPy, jit vs eager, grad vs JAX, vmap vs a loop
from the one op table ``ROWS`` (``special_harness``); JAX's errors for bad input."""
import warnings

import numpy as np
import pytest

import pyjax
from special_harness import Row, assert_match, define_tests, jax, jsp, psp, sp_none, ssp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

_N = np.arange(24) % 4  # polygamma's and expn's orders
_SPH_N = np.arange(24) % 5
_SPH_M = (np.arange(24) % 3) - 1


def _bessel_sp(z):
  return ssp.jv(np.arange(4)[:, None], z)


ROWS = [
    Row("loggamma", ["real"], tol=4e-6),
    Row("loggamma", ["cplx"], grad=(), tol=2e-5, tol64=1e-11, label="loggamma_c"),
    Row("gamma", ["cplx"], grad=(), tol=4e-5, tol64=1e-11, label="gamma_c", sp_tol=2e-4),
    Row("comb", ["pos", "pos"], grad=(0, 1), tol=1e-4, gtol=1e-4),
    Row("boxcox", ["pos", "small"], grad=(0, 1), tol=4e-6),
    Row("boxcox1p", ["pos", "small"], grad=(0, 1), tol=4e-6),
    Row("rel_entr", ["real", "pos"], grad=(0, 1)),
    Row("kl_div", ["real", "pos"], grad=(0, 1)),
    Row("zeta", ["zx", "ppos"], grad=(0, 1), tol=1e-5, gtol=1e-4),
    Row("polygamma", ["ppos"], fn=lambda M: lambda x: M.polygamma(_N, x),
        sp=lambda x: ssp.polygamma(_N, x), tol=1e-5, gtol=1e-4),
    Row("erfcx", ["real"], tol=4e-6),
    Row("erfcx", ["cplx"], grad=(), tol=1e-5, tol64=1e-11, label="erfcx_c",
        sp=lambda z: ssp.wofz(1j * z), sp_tol=1e-4),
    Row("wofz", ["cplx"], grad=(), tol=1e-5, tol64=1e-11),
    Row("dawsn", ["real"], tol=4e-6),
    Row("expi", ["real"], tol=8e-6, gtol=1e-4),
    Row("exp1", ["epos"], tol=8e-6, gtol=1e-4),
    Row("expn", ["epos"], fn=lambda M: lambda x: M.expn(_N, x),
        sp=lambda x: ssp.expn(_N, x), tol=8e-6, gtol=1e-4),
    Row("sici", ["real"], tol=4e-6, sp=lambda x: np.stack(ssp.sici(x), -1)),
    Row("spence", ["pos"], tol=4e-6),
    Row("fresnel", ["real"], tol=4e-6, sp=lambda x: np.stack(ssp.fresnel(x), -1)),
    Row("owens_t", ["real", "real"], grad=(0, 1), tol=4e-6, sp_tol=1e-4),
    Row("hyp1f1", ["small", "gpos", "real"], grad=(0, 1, 2), tol=1e-5, gtol=1e-4),
    Row("hyp2f1", ["small", "small", "gpos", "hx"], grad=(0, 1, 2, 3), tol=1e-5,
        gtol=1e-4),
    # (n_iter=25: float32's recurrence from n_iter=50 overflows to NaN for z < ~20)
    Row("bessel_jn", ["gpos"], fn=lambda M: lambda z: M.bessel_jn(z, v=3, n_iter=25),
        sp=_bessel_sp,
        tol=1e-5, tol64=1e-11, sp_tol=1e-4),
    Row("lpmn", ["small"], fn=lambda M: lambda z: _lpmn(M)(3, 3, z),
        sp=sp_none, vmap=False, tol=4e-6, tol64=1e-11, signed_zeros=False),
    Row("lpmn_values", ["small"], fn=lambda M: lambda z: _lpmn_values(M)(3, 3, z, True),
        sp=sp_none, vmap=False, grad=(), tol=4e-6, tol64=1e-11, signed_zeros=False),
    Row("sph_harm_y", ["hx", "real"], grad=(), vmap=False, tol=1e-5, tol64=1e-11,
        signed_zeros=False,
        fn=lambda M: lambda t, p: M.sph_harm_y(_SPH_N, _SPH_M, t, p, n_max=4),
        sp=lambda t, p: ssp.sph_harm_y(_SPH_N, _SPH_M, t, p)),
]


def _lpmn(M):
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    return M.lpmn


def _lpmn_values(M):
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    return M.lpmn_values


# (under jit float32 only: the core functions' float64 programs are test_special's;
# these rows' float64 programs took minutes to compile)
define_tests(ROWS, globals(), jit_dtypes=[np.float32])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 31])
def test_bernoulli(n):
  ref, got = np.asarray(jsp.bernoulli(n)), np.asarray(psp.bernoulli(n))
  assert_match(ref, got, 1e-6, "bernoulli")
  assert_match(ssp.bernoulli(n).astype(got.dtype), got, 1e-5, "bernoulli vs SciPy")


def test_bernoulli_jit_and_concrete_n():
  check = np.asarray(pyjax.jit(lambda: psp.bernoulli(12))())
  assert_match(np.asarray(jsp.bernoulli(12)), check, 1e-6, "bernoulli jit")
  with pytest.raises(jax.errors.ConcretizationTypeError):
    jax.jit(jsp.bernoulli)(3)
  with pytest.raises(pyjax.errors.ConcretizationTypeError):
    pyjax.jit(psp.bernoulli)(3)


def test_lpmn_is_deprecated_and_sph_harm_removed():
  for M in (jsp, psp):
    M.__getattr__.cache_clear()  # (both warn on a name's first access only)
    with pytest.warns(DeprecationWarning, match="lpmn is deprecated"):
      M.lpmn
    with pytest.warns(DeprecationWarning, match="lpmn_values is deprecated"):
      M.lpmn_values
    with pytest.raises(AttributeError, match="sph_harm_y instead"):
      M.sph_harm
    with pytest.raises(AttributeError):
      M.no_such_function


@pytest.mark.parametrize("call,exc,msg", [
    (lambda M: M.zeta(2.0), NotImplementedError, "Riemann zeta"),
    (lambda M: M.polygamma(1.0, 2.0), ValueError, "must be of integer type"),
    (lambda M: M.polygamma(1, np.ones(2, np.complex64)), ValueError, "complex"),
    (lambda M: M.spence(np.arange(3)), TypeError, "not supported"),
    (lambda M: M.sici(np.ones(2, np.complex64)), ValueError, "real-valued"),
    (lambda M: M.expi(np.ones(2, np.complex64)), ValueError, "complex"),
    (lambda M: M.exp1(np.ones(2, np.complex64)), ValueError, "complex"),
    (lambda M: M.dawsn(np.ones(2, np.complex64)), ValueError, "complex"),
    (lambda M: M.rel_entr(np.ones(2, np.complex64), 1.0), ValueError, "complex"),
    (lambda M: M.kl_div(np.ones(2, np.complex64), 1.0), ValueError, "complex"),
    (lambda M: M.hyp1f1(1.0, 1.0, np.ones(2, np.complex64)), ValueError, "complex"),
    (lambda M: M.poch(np.ones(2, np.complex64), 1.0), ValueError, "complex"),
    (lambda M: M.fresnel(np.ones(2, np.complex64)), NotImplementedError, "complex"),
    # (JAX refuses complex128 only; complex64 fails in its recurrence's rem)
    (lambda M: M.bessel_jn(np.ones(2, np.complex64), v=1), TypeError, "complex"),
    (lambda M: M.bessel_jn(np.ones(2), v=1.5), TypeError, ""),
    (lambda M: M.bernoulli(-1), ValueError, "non-negative"),
    (lambda M: _lpmn(M)(2, 3, np.ones(2, np.float32)), NotImplementedError, "m!=n"),
    (lambda M: _lpmn(M)(2, 2, np.ones((2, 2), np.float32)), ValueError, "1D"),
    (lambda M: _lpmn(M)(2, 2, np.ones(2, np.int32)), TypeError, "not supported"),
    (lambda M: M.sph_harm_y(np.ones(2, int), np.ones(2, int), np.ones(2), np.ones(2),
                            diff_n=1), NotImplementedError, "diff_n"),
])
def test_errors(call, exc, msg):
  with pytest.raises(exc, match=msg):
    call(jsp)
  with pytest.raises(exc, match=msg):
    call(psp)


def test_sph_harm_y_needs_static_n_max():
  n, m = np.array([1, 2]), np.array([0, 1])
  with pytest.raises(jax.errors.ConcretizationTypeError):
    jax.jit(lambda n: jsp.sph_harm_y(n, m, np.ones(2), np.ones(2)))(n)
  with pytest.raises(pyjax.errors.ConcretizationTypeError):
    pyjax.jit(lambda n: psp.sph_harm_y(n, m, np.ones(2), np.ones(2)))(n)

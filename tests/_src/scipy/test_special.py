"""jax.scipy.special (the functions helper C's stats build on): values vs JAX and SciPy,
jit vs eager, grad vs JAX, vmap vs a loop, all from the one op table ``ROWS``
(``special_harness``); JAX's errors for bad input; the public names."""
import numpy as np
import pytest

import pyjax
from special_harness import Row, define_tests, jax, jsp, partial, psp, ssp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

ROWS = [
    Row("xlogy", ["real", "pos"]),
    Row("xlog1py", ["real", "pos"]),
    Row("entr", ["pos"]),
    Row("gammaln", ["real"], grad=(0,)),
    Row("gamma", ["real"], tol=2e-5),
    Row("gammasgn", ["real"], grad=()),
    Row("betaln", ["pos", "gpos"], grad=(0, 1), tol=4e-6),
    Row("beta", ["pos", "gpos"], grad=(0, 1), tol=8e-6),
    Row("digamma", ["real"], tol=4e-6, gtol=1e-4),
    Row("erf", ["real"]),
    Row("erfc", ["real"]),
    Row("erfinv", ["small"]),
    Row("ndtr", ["real"]),
    Row("ndtri", ["unit"], tol=4e-6),
    Row("log_ndtr", ["real"], tol=4e-6),
    Row("expit", ["real"]),
    Row("logit", ["unit"]),
    Row("gammainc", ["apos", "pos"], grad=(1,), tol=2e-5, gtol=1e-4),
    Row("gammaincc", ["apos", "pos"], grad=(1,), tol=2e-5, gtol=1e-4),
    Row("betainc", ["pos", "pos", "unit"], grad=(2,), tol=2e-5, sp_tol=1e-3, gtol=1e-4),
    Row("i0e", ["real"]),
    Row("i1e", ["real"]),
    Row("i0", ["real"], tol=4e-6),
    Row("i1", ["real"], tol=4e-6),
    Row("multigammaln", ["gpos"], fn=lambda M: partial(M.multigammaln, d=3),
        sp=lambda a: ssp.multigammaln(a, 3) if np.ndim(a) == 0 else
        np.vectorize(lambda t: ssp.multigammaln(t, 3) if t > 1 else np.nan)(a),
        tol=4e-6),
    Row("factorial", ["real"], tol=2e-5,
        sp=lambda n: np.where(n < 0, 0.0, ssp.gamma(n + 1))),
    Row("poch", ["pos", "small"], grad=(0, 1), tol=8e-6),
]

define_tests(ROWS, globals())


def test_public_names_match_jax():
  ours = {n for n in dir(psp) if not n.startswith("_")}
  theirs = {n for n in dir(jsp) if not n.startswith("_")}
  assert ours - {"annotations"} == theirs, (sorted(theirs - ours), sorted(ours - theirs))
  assert set(psp.__all__) == theirs
  # (the three jax.nn shares, one implementation each)
  assert psp.logsumexp is pyjax.nn.logsumexp and psp.softmax is pyjax.nn.softmax
  assert psp.log_softmax is pyjax.nn.log_softmax


# ------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call,exc,msg", [
    (lambda M: M.ndtr(np.arange(3)), TypeError, "not supported"),
    (lambda M: M.ndtri(np.arange(3)), TypeError, "not supported"),
    (lambda M: M.log_ndtr(np.arange(3)), TypeError, "not supported"),
    (lambda M: M.log_ndtr(1.0, series_order=1.5), TypeError, "Python integer"),
    (lambda M: M.log_ndtr(1.0, series_order=-1), ValueError, "non-negative"),
    (lambda M: M.log_ndtr(1.0, series_order=31), ValueError, "<= 30"),
    (lambda M: M.factorial(3.0, exact=True), NotImplementedError, "exact=True"),
    (lambda M: M.entr(np.ones(2, np.complex64)), ValueError, "complex"),
    (lambda M: M.beta(np.ones(2, np.complex64), 1.0), ValueError, "complex"),
    (lambda M: M.betainc(1.0, 1.0, np.ones(2, np.complex64)), ValueError, "complex"),
    (lambda M: M.gammasgn(np.ones(2, np.complex64)), ValueError, "complex"),
    (lambda M: M.xlogy("a", 1.0), TypeError, ""),
])
def test_errors(call, exc, msg):
  with pytest.raises(exc, match=msg):
    call(jsp)
  with pytest.raises(exc, match=msg):
    call(psp)


def test_multigammaln_needs_concrete_d():
  with pytest.raises(jax.errors.ConcretizationTypeError):
    jax.jit(jsp.multigammaln)(3.0, 2)
  with pytest.raises(pyjax.errors.ConcretizationTypeError):
    pyjax.jit(psp.multigammaln)(3.0, 2)

"""jax.scipy.stats: every distribution method from the one table ``ROWS`` against JAX
(float32 and float64, edge and outside-support points included) and SciPy, jit vs eager
(one program), grad vs JAX's grad, vmap vs a loop; the multivariate distributions,
gaussian_kde, mode/rankdata/sem; JAX's public names and errors."""
from functools import partial

import numpy as np
import pytest

import pyjax
import pyjax.scipy.stats as pst
from oracle import Oracle
from util import enable_x64, special_mismatches

jax = pytest.importorskip("jax")
jst = pytest.importorskip("jax.scipy.stats")
sst = pytest.importorskip("scipy.stats")
ORACLE = Oracle("test_stats")

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

N = 18  # elements per argument

# Each domain: the random range and the edge values mixed into it (value tests only:
# infinities, nan, the support's ends and points outside it, bad parameters).
_DOMAINS = {
    "x": ((-4.0, 4.0), [0.0, -1.0, 1.0, 3.5, -np.inf, np.inf, np.nan]),
    "loc": ((-1.0, 1.0), [0.0, np.nan]),
    "scale": ((0.5, 2.5), [1.0, 0.0, -1.0]),
    "shape": ((0.6, 5.0), [1.0, 2.0, 0.0, -1.0]),
    "xpos": ((0.05, 6.0), [0.0, -1.0, 1.0, np.inf, np.nan]),
    "unit": ((0.02, 0.98), [0.0, 1.0, 0.5, -0.5, 1.5, np.nan]),
    "q": ((0.02, 0.98), [0.0, 1.0, 0.5, -0.1, 1.1, np.nan]),
    "p": ((0.05, 0.95), [0.0, 1.0, 0.5]),
    "k": ((0, 12), [-1.0, 0.0, 2.5, 30.0, np.nan]),
    "kloc": ((-2, 2), [0.0, 0.5]),
    "n": ((12, 20), [0.0, 12.0]),
    "angle": ((0.0, 6.2), [0.0, -0.5, 7.0, np.pi]),
    "c": ((0.05, 0.95), [0.0, 1.2, 0.5]),
    "ab": ((-2.0, -0.5), [-1.0, 0.0, 1.0]),
    "ba": ((0.5, 2.0), [1.0, -1.0, np.inf]),
    "mu": ((0.2, 8.0), [0.0, 1.0, 15.0, 150.0]),
}
_INT_DOMAINS = {"k", "n", "kloc"}


def _arg(domain, i, dtype, edges):
  rng = np.random.default_rng(100 * i + len(domain))
  (lo, hi), edge = _DOMAINS[domain]
  if domain in _INT_DOMAINS:
    v = rng.integers(lo, hi, N, endpoint=True).astype(np.float64)
  else:
    v = rng.uniform(lo, hi, N)
  if edges:
    e = np.roll(np.resize(edge, N), 2 * i)
    v = np.where(np.arange(N) % 3 == i % 3, e, v)
  return v.astype(dtype)


class Row:
  """``dist.method`` on arguments of ``domains``: rtol vs JAX in float32 (``tol``) and
  float64 (``tol64``), vs SciPy (``sp_tol``, None: no SciPy twin), the argnums
  differentiated against JAX's grad (``grad``, with rtol ``gtol``)."""

  def __init__(self, dist, method, domains, *, tol=2e-6, tol64=1e-13, sp_tol=2e-5,
               grad=(0,), gtol=2e-5, sp=None, kw=None):
    self.dist, self.method, self.domains = dist, method, domains
    self.name = f"{dist}.{method}"
    self.tol, self.tol64, self.sp_tol, self.grad, self.gtol = tol, tol64, sp_tol, grad, gtol
    self.sp, self.kw = sp, kw or {}

  def fn(self, M):
    return partial(getattr(getattr(M, self.dist), self.method), **self.kw)

  def sp_fn(self):
    if self.sp is not None:
      return self.sp
    return getattr(getattr(sst, self.dist), self.method)

  def args(self, dtype, edges=True):
    return [_arg(d, i, dtype, edges) for i, d in enumerate(self.domains)]

  def __repr__(self):
    return self.name


def _rows(dist, methods, domains, **kw):
  return [Row(dist, m, domains, **kw.get(m, kw.get("all", {}))) for m in methods]


_LS = ["x", "loc", "scale"]
_CONT = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]
_Q = ["q", "loc", "scale"]

ROWS = (
    _rows("norm", _CONT, _LS, logcdf={"tol": 4e-6}, logsf={"tol": 4e-6})
    + _rows("norm", ["ppf", "isf"], _Q, all={"tol": 4e-6, "grad": (0, 1, 2)})
    + _rows("uniform", ["pdf", "logpdf", "cdf"], _LS, all={"grad": (0, 1, 2)})
    + _rows("uniform", ["ppf"], _Q, all={"grad": (0, 1, 2)})
    + _rows("laplace", ["pdf", "logpdf", "cdf"], _LS, all={"grad": (0, 1, 2)})
    + _rows("logistic", ["pdf", "logpdf", "cdf", "sf"], _LS, all={"grad": (0, 1, 2)})
    + _rows("logistic", ["ppf", "isf"], _Q)
    + _rows("cauchy", _CONT, _LS, all={"grad": (0, 1, 2)})
    + _rows("cauchy", ["ppf", "isf"], _Q, all={"tol": 1e-5, "sp_tol": 1e-4})
    + _rows("expon", _CONT, _LS, all={"grad": (0, 2)})
    + _rows("expon", ["ppf"], _Q)
    # JAX's grads of the Gumbel pdf/logpdf in scale and ppf in p fail (xlogy of the int
    # -1 gets a float0 tangent), and so do ours: test_gumbel_grads_fail_as_jax.
    + _rows("gumbel_l", _CONT, _LS, all={"grad": (0, 1, 2)}, pdf={"grad": (0, 1)},
            logpdf={"grad": (0, 1)})
    + _rows("gumbel_r", _CONT, _LS, all={"grad": (0, 1, 2)}, pdf={"grad": (0, 1)},
            logpdf={"grad": (0, 1)})
    + _rows("gumbel_l", ["ppf"], _Q, all={"grad": (1, 2)})
    + _rows("gumbel_r", ["ppf"], _Q, all={"grad": (1, 2)})
    + _rows("pareto", _CONT + ["ppf"], ["xpos", "shape", "loc", "scale"],
            all={"grad": (0, 1)})
    + _rows("t", ["pdf", "logpdf"], ["x", "shape", "loc", "scale"], all={"grad": (0, 1)})
    + _rows("chi2", ["pdf", "logpdf"], ["xpos", "shape", "loc", "scale"],
            all={"tol": 4e-6, "grad": (0, 1)})
    + _rows("chi2", ["cdf", "logcdf", "sf", "logsf"], ["xpos", "shape", "loc", "scale"],
            all={"tol": 2e-5, "tol64": 1e-11, "sp_tol": 1e-4})
    + _rows("gamma", ["pdf", "logpdf"], ["xpos", "shape", "loc", "scale"],
            all={"tol": 4e-6, "grad": (0, 1)})
    + _rows("gamma", ["cdf", "logcdf", "sf", "logsf"], ["xpos", "shape", "loc", "scale"],
            all={"tol": 2e-5, "tol64": 1e-11, "sp_tol": 1e-4})
    + _rows("beta", ["pdf", "logpdf"], ["unit", "shape", "shape", "loc", "scale"],
            all={"tol": 1e-5, "sp_tol": 1e-4, "grad": (0, 1, 2), "gtol": 1e-4})
    + _rows("beta", ["cdf", "logcdf", "sf", "logsf"], ["unit", "shape", "shape"],
            all={"tol": 4e-5, "tol64": 1e-11, "sp_tol": 2e-4, "gtol": 1e-4})
    + _rows("gennorm", ["pdf", "logpdf"], ["x", "shape"], all={"grad": (0, 1),
                                                               "tol": 4e-6})
    + _rows("gennorm", ["cdf"], ["x", "shape"], all={"tol": 2e-5, "sp_tol": 1e-4})
    + _rows("vonmises", ["pdf", "logpdf"], ["angle", "shape"], all={"grad": (0, 1),
                                                                    "tol": 4e-6})
    + _rows("wrapcauchy", ["pdf", "logpdf"], ["angle", "c"], all={"grad": (0, 1)})
    + _rows("truncnorm", _CONT, ["x", "ab", "ba", "loc", "scale"],
            all={"tol": 2e-5, "tol64": 1e-11, "sp_tol": 2e-4, "gtol": 1e-4})
    + _rows("bernoulli", ["pmf", "logpmf"], ["k", "p", "kloc"], all={"grad": (1,)})
    + _rows("bernoulli", ["cdf"], ["k", "p"], all={"grad": (1,)})
    + _rows("bernoulli", ["ppf"], ["q", "p"], all={"grad": ()})
    + _rows("binom", ["pmf", "logpmf"], ["k", "n", "p", "kloc"],
            all={"grad": (2,), "tol": 1e-5, "sp_tol": 1e-4})
    + _rows("betabinom", ["pmf", "logpmf"], ["k", "n", "shape", "shape", "kloc"],
            all={"grad": (2, 3), "tol": 1e-5, "sp_tol": 1e-4, "gtol": 1e-4})
    + _rows("nbinom", ["pmf", "logpmf"], ["k", "n", "p", "kloc"],
            all={"grad": (2,), "tol": 1e-5, "sp_tol": 1e-4})
    + _rows("geom", ["pmf", "logpmf"], ["k", "p", "kloc"], all={"grad": (1,)})
    + _rows("poisson", ["pmf", "logpmf"], ["k", "mu", "kloc"],
            all={"grad": (1,), "tol": 1e-5, "sp_tol": 1e-4})
    + _rows("poisson", ["cdf"], ["k", "mu", "kloc"],
            all={"grad": (1,), "tol": 2e-5, "tol64": 1e-11, "sp_tol": 1e-4})
    + _rows("poisson", ["entropy"], ["mu"], all={"grad": (0,), "tol": 1e-5,
                                                 "sp_tol": 1e-4, "tol64": 1e-12})
)
_ROW = {r.name: r for r in ROWS}


def _assert_match(ref, got, rtol, what):
  ref, got = np.asarray(ref), np.asarray(got)
  assert got.shape == ref.shape and got.dtype == ref.dtype, (
      what, got.shape, ref.shape, got.dtype, ref.dtype)
  bad = special_mismatches(ref, got, rtol)
  assert not len(bad), (f"{what}: {len(bad)} mismatches at {bad[:8]}\n"
                        f"ref {ref.ravel()[bad[:8]]}\ngot {got.ravel()[bad[:8]]}")


def _x64(dtype):
  return enable_x64(np.dtype(dtype) == np.float64)


_DTYPES = [np.float32, np.float64]


def test_public_names_match_jax():
  names = sorted(n for n in dir(jst) if not n.startswith("_"))
  assert sorted(pst.__all__) == names
  assert sorted(n for n in dir(pst) if not n.startswith("_")) == names
  for n in names:
    theirs = getattr(jst, n)
    if type(theirs).__name__ != "module":
      continue
    ours = getattr(pst, n)
    want = sorted(m for m in dir(theirs) if not m.startswith("_"))
    assert sorted(ours.__all__) == want, n
    assert sorted(m for m in dir(ours) if not m.startswith("_")) == want, n


def test_every_method_has_a_row():
  have = {r.name for r in ROWS} | {"dirichlet.pdf", "dirichlet.logpdf",
                                   "multinomial.pmf", "multinomial.logpmf",
                                   "multivariate_normal.pdf", "multivariate_normal.logpdf"}
  want = set()
  for n in pst.__all__:
    m = getattr(jst, n)
    if type(m).__name__ == "module":
      want |= {f"{n}.{f}" for f in dir(m) if not f.startswith("_")}
  assert want == have, sorted(want ^ have)


def test_submodules_import_as_jax():
  import pyjax.scipy.stats.norm as norm_mod
  assert norm_mod.logpdf is pst.norm.logpdf
  assert "stats" in pyjax.scipy.__all__ and pyjax.scipy.stats is pst


@pytest.mark.parametrize("dtype", _DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("row", ROWS, ids=repr)
def test_value_vs_jax(row, dtype):
  with _x64(dtype):
    args = row.args(dtype)
    ref = ORACLE.call(row.fn(jst), *args, oracle_tag=row.name)
    got = row.fn(pst)(*args)
  _assert_match(ref, got, row.tol if dtype == np.float32 else row.tol64, row.name)


@pytest.mark.parametrize("row", [r for r in ROWS if r.sp_tol is not None], ids=repr)
def test_value_vs_scipy(row):
  args = row.args(np.float32, edges=False)
  got = np.asarray(row.fn(pst)(*args), np.float64)
  with np.errstate(all="ignore"):
    ref = np.asarray(row.sp_fn()(*[a.astype(np.float64) for a in args]), np.float64)
  _assert_match(ref, got, row.sp_tol, row.name)


# IREE's compile time grows with the square of a program's size (all rows: minutes), so
# the jitted program holds a sample: each special function and each kind of support
# check once (the other methods are the same ops).
_JIT_ROWS = [_ROW[n] for n in (
    "norm.logpdf", "norm.cdf", "norm.ppf", "gamma.logpdf", "gamma.cdf", "beta.cdf",
    "truncnorm.logcdf", "poisson.logpmf", "binom.logpmf", "cauchy.logcdf",
    "gumbel_r.logsf", "t.logpdf", "vonmises.logpdf", "bernoulli.cdf")]


@pytest.fixture(scope="module")
def jitted():
  """The float32 values of ``_JIT_ROWS`` from one jitted pyjax program, compiled once."""
  argsets = [r.args(np.float32) for r in _JIT_ROWS]

  def program(argsets):
    return [r.fn(pst)(*a) for r, a in zip(_JIT_ROWS, argsets)]

  vals = pyjax.jit(program)(argsets)
  return {r.name: np.asarray(v) for r, v in zip(_JIT_ROWS, vals)}


@pytest.mark.parametrize("row", _JIT_ROWS, ids=repr)
def test_jit_vs_eager(row, jitted):
  args = row.args(np.float32)
  ref = np.asarray(row.fn(pst)(*args))
  if len(special_mismatches(ref, jitted[row.name], row.tol * 4)):
    # JAX's jit and eager differ at a few infinities (XLA's fused atan(-inf), exp(inf)
    # - inf): jitted pyjax follows jitted JAX there.
    ref = jax.jit(row.fn(jst))(*args)
  _assert_match(ref, jitted[row.name], row.tol * 4, row.name)


def _grad(M, api, row, i):
  f = row.fn(M)
  return api.grad(lambda *a: f(*a).sum(), argnums=i)


_GRAD_ROWS = [r for r in ROWS if r.grad]


@pytest.mark.parametrize("row", _GRAD_ROWS, ids=repr)
def test_grad_vs_jax(row):
  args = row.args(np.float32, edges=False)
  for i in row.grad:
    ref = ORACLE.call(_grad(jst, jax, row, i), *args, oracle_tag=(row.name, i))
    got = _grad(pst, pyjax, row, i)(*args)
    _assert_match(ref, got, row.gtol, f"{row.name} d/darg{i}")


@pytest.mark.parametrize("name,argnum", [("gumbel_l.logpdf", 2), ("gumbel_r.pdf", 2),
                                         ("gumbel_l.ppf", 0), ("gumbel_r.ppf", 0)])
def test_gumbel_grads_fail_as_jax(name, argnum):
  # TODO: JAX raises TypeError ("Called multiply with a float0 array"); ours ValueError.
  row = _ROW[name]
  args = row.args(np.float32, edges=False)
  with pytest.raises(TypeError, match="float0"):
    _grad(jst, jax, row, argnum)(*args)
  with pytest.raises((TypeError, ValueError), match="float0"):
    _grad(pst, pyjax, row, argnum)(*args)


@pytest.mark.parametrize("row", ROWS, ids=repr)
def test_vmap_vs_loop(row):
  args = [a[:4] for a in row.args(np.float32)]
  f = row.fn(pst)
  got = np.asarray(pyjax.vmap(f)(*args))
  ref = np.stack([np.asarray(f(*[a[j] for a in args])) for j in range(4)])
  # (betainc's and igamma's iterations run to the batch's slowest element)
  _assert_match(ref, got, 1e-6, row.name)


# The support's ends and the points outside it, as JAX gives them (values spelled out,
# so an error shared with JAX's oracle would still fail here).
_OUTSIDE = [
    ("uniform.logpdf", (2.0,), -np.inf), ("uniform.logpdf", (-0.5,), -np.inf),
    ("uniform.cdf", (-1.0,), 0.0), ("uniform.cdf", (3.0,), 1.0),
    ("uniform.ppf", (1.5,), np.nan), ("expon.logpdf", (-1.0,), -np.inf),
    ("expon.cdf", (-1.0,), 0.0), ("expon.logsf", (-1.0,), 0.0),
    ("expon.ppf", (-0.1,), np.nan), ("gamma.logpdf", (-1.0, 2.0), -np.inf),
    ("gamma.sf", (-1.0, 2.0), 1.0), ("gamma.cdf", (-1.0, 2.0), 0.0),
    ("beta.logpdf", (1.5, 2.0, 2.0), -np.inf), ("beta.logpdf", (0.5, -1.0, 2.0), np.nan),
    ("beta.cdf", (1.5, 2.0, 2.0), 1.0), ("beta.sf", (-0.5, 2.0, 2.0), 1.0),
    ("chi2.logpdf", (-1.0, 3.0), -np.inf), ("chi2.cdf", (-1.0, 3.0), 0.0),
    ("pareto.logpdf", (0.5, 2.0), -np.inf), ("pareto.cdf", (0.5, 2.0), 0.0),
    ("pareto.logsf", (0.5, 2.0), 0.0), ("pareto.ppf", (1.5, 2.0), np.nan),
    ("gumbel_l.logpdf", (0.0, 0.0, -1.0), np.nan), ("gumbel_r.ppf", (1.0,), np.nan),
    ("vonmises.logpdf", (1.0, 0.0), np.nan), ("wrapcauchy.logpdf", (-0.5, 0.5), -np.inf),
    ("wrapcauchy.logpdf", (1.0, 1.5), np.nan), ("poisson.logpmf", (2.5, 3.0), -np.inf),
    ("poisson.logpmf", (-1.0, 3.0), -np.inf), ("poisson.cdf", (-1.0, 3.0), 0.0),
    ("bernoulli.logpmf", (2.0, 0.3), -np.inf), ("bernoulli.cdf", (0.5, 1.5), np.nan),
    ("bernoulli.ppf", (1.2, 0.3), np.nan), ("binom.logpmf", (11.0, 10.0, 0.3), -np.inf),
    ("binom.logpmf", (0.0, 0.0, 0.3), 0.0), ("geom.logpmf", (0.0, 0.3), -np.inf),
    ("nbinom.logpmf", (-1.0, 3.0, 0.3), -np.inf),
    ("betabinom.logpmf", (11.0, 10.0, 2.0, 3.0), -np.inf),
    ("betabinom.logpmf", (1.0, 10.0, -2.0, 3.0), np.nan),
    ("truncnorm.logpdf", (3.0, -1.0, 2.0), -np.inf),
    ("truncnorm.logpdf", (0.0, 2.0, 1.0), np.nan), ("truncnorm.logcdf", (3.0, -1.0, 2.0), 0.0),
    ("truncnorm.logcdf", (-3.0, -1.0, 2.0), -np.inf),
    ("dirichlet.logpdf", (np.array([0.5, 0.6]), np.array([1.0, 2.0])), -np.inf),
    ("multinomial.logpmf", (np.array([1, 2]), 4, np.array([0.5, 0.5])), -np.inf),
]


@pytest.mark.parametrize("name,args,want", _OUTSIDE,
                         ids=[f"{i}-{o[0]}" for i, o in enumerate(_OUTSIDE)])
def test_outside_support(name, args, want):
  dist, method = name.split(".")
  got = np.asarray(getattr(getattr(pst, dist), method)(*args))
  ref = np.asarray(getattr(getattr(jst, dist), method)(*args))
  np.testing.assert_array_equal(got, ref)
  np.testing.assert_array_equal(got, np.asarray(want, got.dtype))


# ------------------------------------------------------------------ multivariate


def _mv_cases():
  rng = np.random.default_rng(3)
  a = rng.normal(size=(3, 3))
  cov = (a @ a.T + 3 * np.eye(3)).astype(np.float32)
  x = rng.normal(size=(5, 3)).astype(np.float32)
  mean = rng.normal(size=3).astype(np.float32)
  alpha = np.array([0.7, 2.0, 3.5], np.float32)
  simplex = rng.dirichlet(alpha, size=4).T.astype(np.float32)
  counts = np.array([[1, 2, 3], [0, 6, 0], [2, 2, 1]], np.int32)
  probs = np.array([0.2, 0.3, 0.5], np.float32)
  return {
      "mvn": (lambda M, *a: M.multivariate_normal.logpdf(*a), (x, mean, cov),
              lambda x, m, c: sst.multivariate_normal.logpdf(x, m, c)),
      "mvn_pdf": (lambda M, *a: M.multivariate_normal.pdf(*a), (x, mean, cov),
                  lambda x, m, c: sst.multivariate_normal.pdf(x, m, c)),
      "mvn_scalar_cov": (lambda M, *a: M.multivariate_normal.logpdf(*a),
                         (x, mean, np.float32(2.0)),
                         lambda x, m, c: sst.multivariate_normal.logpdf(x, m, c)),
      "mvn_1d": (lambda M, *a: M.multivariate_normal.logpdf(*a),
                 (x[:, 0], np.float32(0.5), np.float32(2.0)),
                 lambda x, m, c: sst.multivariate_normal.logpdf(x, m, c)),
      "dirichlet": (lambda M, *a: M.dirichlet.logpdf(*a), (simplex, alpha),
                    lambda x, a: sst.dirichlet.logpdf(x, a)),
      "dirichlet_short": (lambda M, *a: M.dirichlet.pdf(*a), (simplex[:2], alpha),
                          lambda x, a: sst.dirichlet.pdf(
                              np.concatenate([x, 1 - x.sum(0, keepdims=True)]), a)),
      "multinomial": (lambda M, *a: M.multinomial.logpmf(*a), (counts[2], 5, probs),
                      lambda x, n, p: sst.multinomial.logpmf(x, n, p)),
      "multinomial_pmf": (lambda M, *a: M.multinomial.pmf(*a), (counts[0], 6, probs),
                          lambda x, n, p: sst.multinomial.pmf(x, n, p)),
  }


_MV = _mv_cases()


@pytest.mark.parametrize("case", sorted(_MV))
def test_multivariate(case):
  f, args, sp = _MV[case]
  got = f(pst, *args)
  _assert_match(f(jst, *args), got, 4e-6, case)
  _assert_match(np.asarray(sp(*args), np.float32), got, 5e-5, case + " vs scipy")
  jitted = pyjax.jit(lambda *a: f(pst, *a))(*args)
  _assert_match(got, jitted, 2e-5, case + " jit")
  if case.startswith(("mvn", "dirichlet")):
    i = 0 if case.startswith("mvn") else 1
    g_ref = jax.grad(lambda *a: f(jst, *a).sum(), argnums=i)(*args)
    g = pyjax.grad(lambda *a: f(pst, *a).sum(), argnums=i)(*args)
    _assert_match(g_ref, g, 2e-5, case + " grad")


def test_multivariate_vmap():
  f, (x, mean, cov), _ = _MV["mvn"]
  got = pyjax.vmap(pst.multivariate_normal.logpdf, (0, None, None))(x, mean, cov)
  ref = np.stack([np.asarray(pst.multivariate_normal.logpdf(xi, mean, cov)) for xi in x])
  _assert_match(ref, got, 1e-6, "mvn vmap")
  counts = np.array([[1, 2, 3], [0, 6, 0]], np.int32)
  got = pyjax.vmap(pst.multinomial.logpmf, (0, None, None))(counts, 6,
                                                           np.float32([.2, .3, .5]))
  ref = np.stack([np.asarray(pst.multinomial.logpmf(c, 6, np.float32([.2, .3, .5])))
                  for c in counts])
  _assert_match(ref, got, 0.0, "multinomial vmap")


# ------------------------------------------------------------ mode, rankdata, sem


_DATA_I = np.array([[1, 2, 1, 3, 2, 1], [3, 1, 3, 2, 1, 3], [1, 2, 2, 3, 1, 2]], np.int32)
_DATA_F = np.array([[0.5, 2.0, 0.5, 3.0], [2.0, 2.0, -1.0, 3.0], [7.0, 0.5, 8.0, 3.0]],
                   np.float32)
_DATA_NAN = np.array([[1, 2, 3, np.nan, 4, 2], [4, 5, 4, 3, np.nan, 1],
                      [7, np.nan, 8, 7, 9, np.nan]], np.float32)

_SUMMARY = [
    ("mode", lambda M, a: M.mode(a), _DATA_I),
    ("mode_axis1", lambda M, a: M.mode(a, axis=1), _DATA_I),
    ("mode_none_keep", lambda M, a: M.mode(a, axis=None, keepdims=True), _DATA_I),
    ("mode_keep", lambda M, a: M.mode(a, axis=1, keepdims=True), _DATA_F),
    ("mode_float", lambda M, a: M.mode(a), _DATA_F),
    ("mode_empty", lambda M, a: M.mode(a[:0]), _DATA_F),
    ("mode_scalar", lambda M, a: M.mode(a[0, 0]), _DATA_I),
] + [
    (f"rankdata_{m}", partial(lambda m, M, a: M.rankdata(a, m), m), _DATA_F)
    for m in ("average", "min", "max", "dense", "ordinal")
] + [
    ("rankdata_axis", lambda M, a: M.rankdata(a, "min", axis=1), _DATA_I),
    ("rankdata_axis0", lambda M, a: M.rankdata(a, axis=0), _DATA_F),
    ("rankdata_nan", lambda M, a: M.rankdata(a), _DATA_NAN),
    ("rankdata_nan_axis", lambda M, a: M.rankdata(a, axis=1), _DATA_NAN),
    ("sem", lambda M, a: M.sem(a), _DATA_I),
    ("sem_axis1", lambda M, a: M.sem(a, axis=1, ddof=0), _DATA_F),
    ("sem_none", lambda M, a: M.sem(a, axis=None, keepdims=True), _DATA_F),
    ("sem_nan", lambda M, a: M.sem(a), _DATA_NAN),
    ("sem_omit", lambda M, a: M.sem(a, nan_policy="omit"), _DATA_NAN),
    ("sem_omit_axis1", lambda M, a: M.sem(a, axis=1, nan_policy="omit"), _DATA_NAN),
]


@pytest.mark.parametrize("case", _SUMMARY, ids=[c[0] for c in _SUMMARY])
def test_summary_vs_jax(case):
  name, f, data = case
  ref = f(jst, data)
  got = f(pst, data)
  if name.startswith("mode"):
    assert type(got).__name__ == "ModeResult" and got._fields == ("mode", "count")
  for r, g in zip(jax.tree_util.tree_leaves(ref), pyjax.tree_util.tree_leaves(got)):
    _assert_match(r, g, 1e-6, name)


@pytest.mark.parametrize("case", [c for c in _SUMMARY if "empty" not in c[0]
                                  and "nan_axis" not in c[0]],
                         ids=lambda c: c[0])
def test_summary_vs_scipy(case):
  name, f, data = case
  got = [np.asarray(v) for v in pyjax.tree_util.tree_leaves(f(pst, data))]
  ref = f(sst, data)
  ref = [np.asarray(v) for v in (ref if isinstance(ref, tuple) else (ref,))]
  for r, g in zip(ref, got):
    np.testing.assert_allclose(g, r.astype(g.dtype), rtol=1e-5, err_msg=name)


def test_summary_jit_and_grad():
  f = pyjax.jit(lambda a, b: (pst.mode(a), pst.rankdata(b, axis=1), pst.sem(b),
                              pst.rankdata(b, "dense")))
  got = f(_DATA_I, _DATA_F)
  ref = (pst.mode(_DATA_I), pst.rankdata(_DATA_F, axis=1), pst.sem(_DATA_F),
         pst.rankdata(_DATA_F, "dense"))
  for r, g in zip(pyjax.tree_util.tree_leaves(ref), pyjax.tree_util.tree_leaves(got)):
    _assert_match(r, g, 1e-6, "jit")
  g_ref = jax.grad(lambda a: jst.sem(a, axis=None))(_DATA_F)
  g = pyjax.grad(lambda a: pst.sem(a, axis=None))(_DATA_F)
  _assert_match(g_ref, g, 1e-6, "sem grad")
  v = pyjax.vmap(pst.rankdata)(_DATA_F)
  _assert_match(np.stack([np.asarray(pst.rankdata(r)) for r in _DATA_F]), v, 0.0,
                "rankdata vmap")


# ----------------------------------------------------------------- gaussian_kde


_KDE_DATA = np.random.default_rng(7).normal(size=(2, 12)).astype(np.float32)
_KDE_W = np.linspace(1.0, 3.0, 12).astype(np.float32)
_KDE_PTS = np.random.default_rng(8).normal(size=(2, 5)).astype(np.float32)

_KDE_CASES = {
    "scott": (lambda M: M.gaussian_kde(_KDE_DATA), None),
    "silverman_w": (lambda M: M.gaussian_kde(_KDE_DATA, "silverman", _KDE_W), None),
    "scalar_bw": (lambda M: M.gaussian_kde(_KDE_DATA[0], 0.4), None),
    "callable_bw": (lambda M: M.gaussian_kde(_KDE_DATA[0],
                                             lambda k: k.neff ** -0.25), None),
}


def _kde_values(M, kde, one_d):
  pts = _KDE_PTS[0] if one_d else _KDE_PTS
  out = {"evaluate": kde.evaluate(pts), "call": kde(pts), "pdf": kde.pdf(pts),
         "logpdf": kde.logpdf(pts), "covariance": kde.covariance, "inv_cov": kde.inv_cov,
         "neff": kde.neff, "weights": kde.weights,
         "integrate_kde": kde.integrate_kde(kde),
         "integrate_gaussian": kde.integrate_gaussian(np.zeros(kde.d, np.float32),
                                                      np.eye(kde.d, dtype=np.float32)),
         "resample": kde.resample((jax if M is jst else pyjax).random.PRNGKey(3), (4,))}
  if one_d:
    out["integrate_box_1d"] = kde.integrate_box_1d(-0.5, 1.0)
  return out


@pytest.mark.parametrize("case", sorted(_KDE_CASES))
def test_kde_vs_jax(case):
  make, _ = _KDE_CASES[case]
  ours, theirs = make(pst), make(jst)
  one_d = ours.d == 1
  assert (ours.d, ours.n) == (theirs.d, theirs.n)
  got, ref = _kde_values(pst, ours, one_d), _kde_values(jst, theirs, one_d)
  for k in ref:
    _assert_match(ref[k], got[k], 2e-5, f"{case} {k}")


def test_kde_vs_scipy():
  ours = pst.gaussian_kde(_KDE_DATA, "silverman", _KDE_W)
  theirs = sst.gaussian_kde(_KDE_DATA.astype(np.float64), "silverman",
                            _KDE_W.astype(np.float64))
  np.testing.assert_allclose(ours.evaluate(_KDE_PTS), theirs.evaluate(_KDE_PTS), rtol=1e-4)
  np.testing.assert_allclose(ours.logpdf(_KDE_PTS), theirs.logpdf(_KDE_PTS), rtol=1e-4)
  np.testing.assert_allclose(ours.covariance, theirs.covariance, rtol=1e-4)
  np.testing.assert_allclose(ours.integrate_kde(ours), theirs.integrate_kde(theirs),
                             rtol=1e-4)


def test_kde_pytree_jit_grad_vmap():
  kde = pst.gaussian_kde(_KDE_DATA, weights=_KDE_W)
  leaves, tree = pyjax.tree_util.tree_flatten(kde)
  assert len(leaves) == 5
  back = pyjax.tree_util.tree_unflatten(tree, leaves)
  assert type(back) is pst.gaussian_kde and back.d == 2 and back.n == 12
  got = pyjax.jit(lambda k, p: k.logpdf(p))(kde, _KDE_PTS)
  _assert_match(kde.logpdf(_KDE_PTS), got, 2e-5, "kde jit")
  g = pyjax.grad(lambda p: kde.logpdf(p).sum())(_KDE_PTS)
  g_ref = jax.grad(lambda p: jst.gaussian_kde(_KDE_DATA, weights=_KDE_W).logpdf(p).sum())(
      _KDE_PTS)
  _assert_match(g_ref, g, 2e-5, "kde grad")
  v = pyjax.vmap(kde.evaluate, in_axes=1)(_KDE_PTS[:, :, None])
  _assert_match(kde.evaluate(_KDE_PTS), v[:, 0], 1e-6, "kde vmap")
  with pytest.raises(Exception):
    kde.neff = 1.0  # frozen, as JAX's dataclass


# ---------------------------------------------------------------------- errors


_ERRORS = [
    (lambda M: M.dirichlet.logpdf(np.ones((3, 2)), np.ones((3, 2))), ValueError,
     "one-dimensional"),
    (lambda M: M.dirichlet.logpdf(np.ones(5) / 5, np.ones(3)), ValueError,
     "one entry fewer"),
    (lambda M: M.multinomial.logpmf(np.ones(3), 3, np.ones(3) / 3), ValueError,
     "integer type"),
    (lambda M: M.multivariate_normal.logpdf(np.ones(3), np.zeros(3), np.eye(2)),
     ValueError, "incompatible shapes"),
    (lambda M: M.multivariate_normal.logpdf(np.ones(3), np.zeros(3), np.eye(3),
                                            allow_singular=True),
     NotImplementedError, "allow_singular"),
    (lambda M: M.norm.logpdf("a"), TypeError, ""),
    (lambda M: M.rankdata(np.ones(3), "bogus"), ValueError, "unknown method"),
    (lambda M: M.rankdata(np.ones(3), nan_policy="bogus"), ValueError, "nan_policy"),
    (lambda M: M.rankdata(np.ones(3), nan_policy="omit"), NotImplementedError, "omit"),
    (lambda M: M.mode(np.ones(3), nan_policy="raise"), NotImplementedError, "nans"),
    (lambda M: M.sem(np.ones(3), nan_policy="raise"), ValueError, "not supported"),
    (lambda M: M.gaussian_kde(np.ones(1)), ValueError, "multiple elements"),
    (lambda M: M.gaussian_kde(np.ones(4, np.complex64)), NotImplementedError, "complex"),
    (lambda M: M.gaussian_kde(_KDE_DATA, "bogus"), ValueError, "bw_method"),
    (lambda M: M.gaussian_kde(_KDE_DATA, weights=np.ones(3)), ValueError, "length n"),
    (lambda M: M.gaussian_kde(_KDE_DATA).evaluate(np.ones((3, 2))), ValueError,
     "dimension"),
    (lambda M: M.gaussian_kde(_KDE_DATA).integrate_box(0.0, 1.0), NotImplementedError,
     "integrate_box_1d"),
    (lambda M: M.gaussian_kde(_KDE_DATA).set_bandwidth(), NotImplementedError,
     "bandwidth"),
    (lambda M: M.gaussian_kde(_KDE_DATA).integrate_box_1d(0.0, 1.0), ValueError, "1D"),
    (lambda M: M.gaussian_kde(_KDE_DATA).integrate_gaussian(np.zeros(3), np.eye(2)),
     ValueError, "mean does not have dimension"),
    (lambda M: M.gaussian_kde(_KDE_DATA).integrate_kde(M.gaussian_kde(_KDE_DATA[0])),
     ValueError, "dimensionality"),
]


@pytest.mark.parametrize("call,exc,msg", _ERRORS, ids=[str(i) for i in range(len(_ERRORS))])
def test_errors(call, exc, msg):
  with pytest.raises(exc, match=msg):
    call(jst)
  with pytest.raises(exc, match=msg):
    call(pst)

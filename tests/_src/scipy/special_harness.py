"""The jax.scipy.special test harness: a table row per function and the value (vs JAX and
SciPy), jit-vs-eager (one program per dtype per module), grad-vs-JAX and vmap-vs-loop
tests that ``define_tests`` builds from a module's table."""
from functools import partial

import numpy as np
import pytest

import pyjax
from oracle import Oracle
from util import enable_x64, special_mismatches

jax = pytest.importorskip("jax")
jsp = pytest.importorskip("jax.scipy.special")
ssp = pytest.importorskip("scipy.special")
psp = pytest.importorskip("pyjax.scipy.special")

N = 24  # elements per argument

# Edge values each domain mixes into its random values (value, jit and vmap tests).
_EDGES = {
    "real": [0.0, -0.0, 1.0, -1.0, -2.5, 3.0, 30.0, -30.0, np.inf, -np.inf, np.nan],
    "pos": [0.0, 1.0, 2.0, 0.5, 1e-3, 50.0, np.inf, np.nan],
    # (exp1/expn: all of expn's branches run on every element, and its continued
    # fraction takes ~1e5 iterations to reach float64's eps at x = 1e-3: minutes of
    # Python loop eagerly, as long as JAX's own eager while loops are compiled)
    "epos": [0.0, 1.0, 2.0, 0.5, 0.05, 50.0, np.inf, np.nan],
    "unit": [0.0, 1.0, 0.5, 1e-6, 1 - 1e-6, -0.25, 1.5, np.nan],
    "gpos": [1.0, 2.0, 0.5, 40.0, np.nan],
    # lax.igamma's a = 0 and a = inf, and lax.zeta/polygamma at 0, inf and x < 0 differ
    # from XLA's (lax's work, not this module's): these domains leave them out
    "apos": [1.0, 2.0, 0.5, 1e-3, 50.0, np.nan],
    "ppos": [1.0, 2.0, 0.5, 1e-3, 30.0, np.nan],
    "zx": [2.0, 1.0, 3.5, 30.0, np.nan],
    "small": [0.0, -0.0, 0.5, -0.5, np.nan],
    "hx": [0.0, -0.5, 0.5, 0.95, -1.0, 1.0, np.nan],
    "cplx": [0.0, 1.0, -1.0, 1j, -2.5 + 0.5j, 3 - 4j, np.nan],
}
_RANGES = {"real": (-4.0, 4.0), "pos": (0.2, 6.0), "epos": (0.2, 6.0), "unit": (0.02, 0.98),
           "gpos": (1.5, 8.0), "apos": (0.2, 6.0), "ppos": (0.2, 6.0), "zx": (1.2, 6.0),
           "small": (-0.8, 0.8), "hx": (-0.9, 0.9), "cplx": (-4.0, 4.0)}


def _arg(domain, k, dtype, edges):
  """The ``k``-th argument's values in ``domain``: random in its range, edge values
  mixed in at every third element (shifted by ``k``)."""
  rng = np.random.default_rng(1000 * k + len(domain))
  lo, hi = _RANGES[domain]
  v = rng.uniform(lo, hi, N)
  if domain == "cplx":
    v = v + 1j * rng.uniform(lo, hi, N)
    dtype = np.result_type(dtype, np.complex64)
  if edges and domain in _EDGES:
    e = np.roll(np.resize(np.asarray(_EDGES[domain]), N), 3 * k)
    v = np.where(np.arange(N) % 3 == k % 3, e, v)
  return v.astype(dtype)


def sp_none(*_):
  return None


class Row:
  """One function: ``fn(M)`` gives it from the module M (ours or JAX's), ``domains``
  its arguments, ``sp`` SciPy's twin (``sp_none``: none), ``grad`` the argnums
  differentiated (vs JAX's grad), rtols vs JAX (``tol`` float32, ``tol64`` float64),
  SciPy (``sp_tol`` float32) and for gradients (``gtol``); ``vmap=False`` where the
  function cannot map over its elements (lpmn's z must be 1-D); ``signed_zeros=False``
  where JAX's einsum-built zeros carry signs ours need not (lpmn, sph_harm_y)."""

  def __init__(self, name, domains, fn=None, sp=None, grad=(0,), tol=2e-6, sp_tol=1e-4,
               tol64=1e-12, gtol=2e-5, vmap=True, label=None, signed_zeros=True):
    self.name, self.domains, self.label = name, domains, label or name
    self.fn = fn or (lambda M: getattr(M, name))
    self.sp = getattr(ssp, name) if sp is None else sp
    self.grad, self.tol, self.sp_tol, self.tol64, self.gtol = grad, tol, sp_tol, tol64, gtol
    self.vmap, self.signed_zeros = vmap, signed_zeros

  def args(self, dtype, edges=True):
    return [_arg(d, k, dtype, edges) for k, d in enumerate(self.domains)]

  def __repr__(self):
    return self.label


def to_np(out):
  """An output as one NumPy array (a tuple's parts stacked on a last axis)."""
  if isinstance(out, (tuple, list)):
    return np.stack([np.asarray(o) for o in out], -1)
  return np.asarray(out)


def _eval(M, row, args):
  return to_np(row.fn(M)(*args))


def assert_match(ref, got, rtol, what, signed_zeros=True):
  ref, got = np.asarray(ref), np.asarray(got)
  if not signed_zeros:  # (x + 0 is +0 for x = -0)
    ref, got = ref + ref.dtype.type(0), got + got.dtype.type(0)
  assert got.shape == ref.shape and got.dtype == ref.dtype, (
      what, got.shape, got.dtype, ref.shape, ref.dtype)
  bad = special_mismatches(ref, got, rtol)
  assert not len(bad), (f"{what}: {len(bad)} mismatches at {bad[:8]}\n"
                        f"ref {ref.ravel()[bad[:8]]}\ngot {got.ravel()[bad[:8]]}")


DTYPES = [np.float32, np.float64]
_IDS = ["f32", "f64"]


JIT_CHUNK = 7


def _x64(dtype):
  return enable_x64(np.dtype(dtype) == np.float64)


def define_tests(rows, ns, jit_dtypes=DTYPES):
  """Puts the four table-driven tests and the module's jit fixture into ``ns``."""
  oracle = Oracle(ns["__name__"].rsplit(".", 1)[-1])

  @pytest.mark.parametrize("dtype", DTYPES, ids=_IDS)
  @pytest.mark.parametrize("row", rows, ids=repr)
  def test_value_vs_jax(row, dtype):
    with _x64(dtype):
      args = row.args(dtype)
      ref = to_np(oracle.call(row.fn(jsp), *args, oracle_tag=row.label))
      got = _eval(psp, row, args)
      assert_match(ref, got, row.tol if dtype == np.float32 else row.tol64, row.label,
                   row.signed_zeros)

  @pytest.mark.parametrize("dtype", DTYPES, ids=_IDS)
  @pytest.mark.parametrize("row", [r for r in rows if r.sp is not sp_none], ids=repr)
  def test_value_vs_scipy(row, dtype):
    with _x64(dtype):
      args = row.args(dtype, edges=False)
      got = _eval(psp, row, args)
      wide = [a.astype(np.complex128 if a.dtype.kind == "c" else np.float64) for a in args]
      with np.errstate(all="ignore"):
        ref = np.asarray(row.sp(*wide))
      ref = ref.astype(np.complex128 if ref.dtype.kind == "c" else np.float64)
      got = got.astype(ref.dtype)
      assert_match(ref, got, row.sp_tol if dtype == np.float32 else 1e-9, row.label,
                   row.signed_zeros)

  @pytest.fixture(scope="module")
  def jitted():
    """Every row's jitted values: programs of up to JIT_CHUNK rows per dtype, compiled
    once (IREE's compile time grows faster than the program, and it fails some very
    large ones: a 27-row program gave "stream.async.splat ... i128")."""
    out = {}
    for dtype in jit_dtypes:
      out[np.dtype(dtype)] = {}
      with _x64(dtype):
        for i in range(0, len(rows), JIT_CHUNK):
          chunk = rows[i:i + JIT_CHUNK]
          argsets = [row.args(dtype) for row in chunk]

          def program(argsets, chunk=chunk):
            return [row.fn(psp)(*args) for row, args in zip(chunk, argsets)]

          vals = pyjax.jit(program)(argsets)
          out[np.dtype(dtype)].update({r.label: to_np(v) for r, v in zip(chunk, vals)})
    return out

  @pytest.mark.parametrize("dtype", jit_dtypes,
                           ids=[_IDS[DTYPES.index(d)] for d in jit_dtypes])
  @pytest.mark.parametrize("row", rows, ids=repr)
  def test_jit_vs_eager(row, dtype, jitted):
    with _x64(dtype):
      eager = _eval(psp, row, row.args(dtype))
    tol = 4 * (row.tol if dtype == np.float32 else row.tol64)
    assert_match(eager, jitted[np.dtype(dtype)][row.label], tol, row.label,
                 row.signed_zeros)

  def grad_fn(M, api, row, i):
    f = row.fn(M)

    def total(*a):
      out = f(*a)
      return sum(o.sum() for o in out) if isinstance(out, tuple) else out.sum()
    return api.grad(total, argnums=i)

  @pytest.mark.parametrize("dtype", DTYPES, ids=_IDS)
  @pytest.mark.parametrize("row", [r for r in rows if r.grad], ids=repr)
  def test_grad_vs_jax(row, dtype):
    with _x64(dtype):
      args = row.args(dtype, edges=False)
      for i in row.grad:
        ref = np.asarray(oracle.call(grad_fn(jsp, jax, row, i), *args,
                                     oracle_tag=(row.label, i)))
        got = np.asarray(grad_fn(psp, pyjax, row, i)(*args))
        tol = row.gtol if dtype == np.float32 else 1e-10
        assert_match(ref, got, tol, f"{row.label} d/darg{i}")

  @pytest.mark.parametrize("row", [r for r in rows if r.vmap], ids=repr)
  def test_vmap_vs_loop(row):
    args = [a[:5] for a in row.args(np.float32)]
    f = row.fn(psp)
    got = to_np(pyjax.vmap(f)(*args))
    ref = np.stack([to_np(f(*[a[j] for a in args])) for j in range(5)])
    assert_match(ref, got, row.tol, row.label, row.signed_zeros)

  ns.update(test_value_vs_jax=test_value_vs_jax, test_value_vs_scipy=test_value_vs_scipy,
            jitted=jitted, test_jit_vs_eager=test_jit_vs_eager,
            test_grad_vs_jax=test_grad_vs_jax, test_vmap_vs_loop=test_vmap_vs_loop)


__all__ = ["Row", "define_tests", "sp_none", "assert_match", "to_np", "jax", "jsp", "ssp",
           "psp", "partial", "np", "pytest", "pyjax"]

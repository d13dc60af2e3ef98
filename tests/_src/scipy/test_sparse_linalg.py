"""jax.scipy.sparse.linalg (cg, bicgstab, gmres): values vs JAX and SciPy, one jitted
program vs eager, grad (custom_linear_solve) vs JAX, vmap vs a loop, pytrees, errors."""
import numpy as np
import pytest
import scipy.sparse.linalg as ssl

import pyjax
import pyjax.numpy as jnp
import pyjax.scipy.sparse.linalg as psl
from util import check_close


def _jax():
  return pytest.importorskip("jax")


_R = np.random.default_rng(2)
_A = _R.normal(size=(6, 6)).astype(np.float32)
SPD = (_A @ _A.T + 6 * np.eye(6)).astype(np.float32)
GEN = (_A + 4 * np.eye(6)).astype(np.float32)
B = _R.normal(size=6).astype(np.float32)
PRE = np.diag(1 / np.diag(SPD)).astype(np.float32)


def _tree_op(x):
  return {"a": x["a"] * 2.0, "b": x["b"] * 3.0 + x["a"][:1].sum()}


# name, fn(module, b), SciPy reference fn(b) or None, flags "j" (jitted) / "g" (grad in b)
ROWS = [
    ("cg", lambda m, b: m.cg(SPD, b)[0], lambda b: ssl.cg(SPD, b, rtol=1e-6)[0], "jg"),
    ("cg_M", lambda m, b: m.cg(SPD, b, M=PRE)[0], lambda b: ssl.cg(SPD, b, rtol=1e-6)[0],
     "jg"),
    ("cg_fun_maxiter", lambda m, b: m.cg(lambda x: SPD @ x, b, maxiter=2)[0], None, "j"),
    ("cg_x0_atol", lambda m, b: m.cg(SPD, b, x0=b, tol=0.0, atol=1e-3)[0], None, "j"),
    ("bicgstab", lambda m, b: m.bicgstab(GEN, b)[0],
     lambda b: ssl.bicgstab(GEN, b, rtol=1e-6)[0], "jg"),
    ("bicgstab_M", lambda m, b: m.bicgstab(GEN, b, M=PRE)[0], None, "j"),
    ("gmres", lambda m, b: m.gmres(GEN, b)[0], lambda b: ssl.gmres(GEN, b, rtol=1e-6)[0],
     "g"),
    ("gmres_info", lambda m, b: m.gmres(GEN, b, restart=3)[1], None, ""),
    ("gmres_incremental", lambda m, b: m.gmres(GEN, b, restart=3,
                                               solve_method="incremental")[0],
     lambda b: ssl.gmres(GEN, b, rtol=1e-6)[0], "jg"),
]
_ROW = {r[0]: r for r in ROWS}


@pytest.mark.parametrize("name", list(_ROW))
def test_value_vs_jax(name):
  jax = _jax()
  _, f, _, _ = _ROW[name]
  ours, ref = f(psl, B), f(jax.scipy.sparse.linalg, B)
  assert np.asarray(ours).dtype == np.asarray(ref).dtype
  check_close(ours, np.asarray(ref), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name", [r[0] for r in ROWS if r[2] is not None])
def test_value_vs_scipy(name):
  _, f, ref, _ = _ROW[name]
  check_close(f(psl, B), ref(B.astype(np.float64)).astype(np.float32), rtol=1e-4,
              atol=1e-4)


@pytest.fixture(scope="module")
def jitted():
  rows = [r for r in ROWS if "j" in r[3]]
  outs = pyjax.jit(lambda b: [f(psl, b) for _, f, _, _ in rows])(B)
  return {r[0]: o for r, o in zip(rows, outs)}


@pytest.mark.parametrize("name", [r[0] for r in ROWS if "j" in r[3]])
def test_jit_vs_eager(name, jitted):
  check_close(jitted[name], f_eager := _ROW[name][1](psl, B), rtol=2e-5, atol=2e-5)
  assert np.asarray(jitted[name]).dtype == np.asarray(f_eager).dtype


@pytest.mark.parametrize("name", [r[0] for r in ROWS if "g" in r[3]])
def test_grad_vs_jax(name):
  jax = _jax()
  f = _ROW[name][1]
  w = np.arange(6, dtype=np.float32)
  ours = pyjax.grad(lambda b: jnp.sum(f(psl, b) * w))(B)
  ref = jax.grad(lambda b: jax.numpy.sum(f(jax.scipy.sparse.linalg, b) * w))(B)
  check_close(ours, np.asarray(ref), rtol=1e-4, atol=1e-4)


def test_vmap_vs_loop():
  bs = np.stack([B, 2 * B + 1, -B])
  for solve in (psl.cg, psl.bicgstab):
    got = pyjax.vmap(lambda b: solve(SPD, b)[0])(bs)
    for k in range(3):
      check_close(got[k], solve(SPD, bs[k])[0], rtol=1e-4, atol=1e-4)


def test_pytree_vs_jax():
  jax = _jax()
  b = {"a": B[:3], "b": B[3:]}
  for name in ("cg", "bicgstab", "gmres"):
    ours = getattr(psl, name)(_tree_op, b)[0]
    ref = getattr(jax.scipy.sparse.linalg, name)(_tree_op, b)[0]
    assert sorted(ours) == ["a", "b"]
    for k in ours:
      check_close(ours[k], np.asarray(ref[k]), rtol=2e-5, atol=2e-5)


def test_info_and_names():
  jax = _jax()
  assert psl.cg(SPD, B)[1] is None and psl.bicgstab(GEN, B)[1] is None
  assert int(psl.gmres(GEN, B)[1]) == 0
  assert sorted(psl.__all__) == sorted(n for n in dir(jax.scipy.sparse.linalg)
                                       if not n.startswith("_"))
  import pyjax.scipy.sparse as ps
  assert ps.__all__ == ["linalg"]


ERRORS = [
    ("nonsquare", lambda m: m.cg(np.ones((3, 4), np.float32), B)),
    ("operator", lambda m: m.cg("A", B)),
    ("x0_tree", lambda m: m.cg(SPD, B, x0=[B])),
    ("x0_shape", lambda m: m.bicgstab(SPD, B, x0=B[:3])),
    ("gmres_method", lambda m: m.gmres(GEN, B, solve_method="x")),
    ("gmres_x0_tree", lambda m: m.gmres(GEN, B, x0=(B,))),
]


@pytest.mark.parametrize("name", [e[0] for e in ERRORS])
def test_errors_match_jax(name):
  jax = _jax()
  f = dict(ERRORS)[name]
  with pytest.raises(Exception) as theirs:
    f(jax.scipy.sparse.linalg)
  with pytest.raises(type(theirs.value)):
    f(psl)

"""Accuracy of float reductions and cumulative ops (pyjax/_src/lax/reductions.py, the
reduce_sum and dot_general lowerings, cpu_numerics' trees): long float32 / bfloat16 /
float16 sums, means, dots and cumsums, eager and jitted, against float64 and against
JAX's own error (XLA reduces as a tree and scans associatively: errors grow as log n)."""
import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax import lax
from util import bfloat16

jax = pytest.importorskip("jax")
jjnp = jax.numpy

N = 10 ** 7          # float32
N_HALF = 10 ** 5     # bfloat16 / float16 (sums stay far from float16's 65504)
OPS = ("sum", "mean", "dot", "cumsum", "sum_axis0")


def _ops(np_):
  """The operations under test, written with ``np_`` (pyjax.numpy or jax.numpy)."""
  return lambda x: (np_.sum(x), np_.mean(x), np_.dot(x, x), np_.cumsum(x),
                    np_.sum(x.reshape(-1, 4), axis=0))


def _rel_err(got, ref):
  got = np.asarray(np.asarray(got).astype(np.float32), np.float64)
  return float(np.max(np.abs(got - ref) / np.abs(ref)))


def _refs(x):
  w = np.asarray(x).astype(np.float64)
  return (w.sum(), w.mean(), w @ w, np.cumsum(w), w.reshape(-1, 4).sum(0))


@pytest.fixture(scope="module")
def cases():
  """(name, dtype, values as a NumPy array): a constant (the worst case for a sequential
  sum: every rounding error has the same sign) and uniform values in [0, 1)."""
  rng = np.random.default_rng(0)
  out = []
  for dt, n in ((np.dtype(np.float32), N), (bfloat16, N_HALF),
                (np.dtype(np.float16), N_HALF)):
    out.append(("const", dt, np.full(n, 0.1, np.float32).astype(dt)))
    out.append(("uniform", dt, rng.random(n, dtype=np.float32).astype(dt)))
  return out


@pytest.fixture(scope="module")
def jax_errors(cases):
  f = jax.jit(_ops(jjnp))
  return [[_rel_err(o, r) for o, r in zip(f(x), _refs(x))] for _, _, x in cases]


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_long_reductions_and_cumsum_as_accurate_as_jax(cases, jax_errors, mode):
  f = _ops(jnp) if mode == "eager" else pyjax.jit(_ops(jnp))
  bad = []
  for (name, dt, x), jerr in zip(cases, jax_errors):
    ulp = float(np.finfo(np.float32 if dt == np.float32 else dt).eps)
    outs = f(jnp.asarray(x))
    for op, o, r, je in zip(OPS, outs, _refs(x), jerr):
      assert np.asarray(o).dtype == dt, (op, dt)
      err = _rel_err(o, r)
      if err > 4 * je + 4 * ulp:
        bad.append(f"{op} {name} {np.dtype(dt).name}: {err:.2e} (JAX {je:.2e})")
  assert not bad, bad


def test_cumulative_ops_long_and_reversed():
  # cumsum / cumprod / cumlogsumexp past one block, forward and reversed, along a
  # middle axis, eager and jit, against float64.
  rng = np.random.default_rng(1)
  x = rng.uniform(0.5, 1.5, (3, 5000, 2)).astype(np.float32)
  args = {"cumsum": x, "cumprod": x ** np.float32(0.01), "cumlogsumexp": x}
  fns = {"cumsum": np.cumsum, "cumprod": np.cumprod,
         "cumlogsumexp": np.logaddexp.accumulate}
  refs = {k: fns[k](args[k].astype(np.float64), 1) for k in fns}

  def run(a, b, c):
    outs = []
    for name, v in zip(refs, (a, b, c)):
      for rev in (False, True):
        outs.append(getattr(lax, name)(v, axis=1, reverse=rev))
    return outs

  for f in (run, pyjax.jit(run)):
    outs = f(*(args[k] for k in refs))
    for i, name in enumerate(refs):
      for j, rev in enumerate((False, True)):
        ref = refs[name] if not rev else np.flip(
            fns[name](np.flip(args[name].astype(np.float64), 1), 1), 1)
        err = np.max(np.abs(np.asarray(outs[2 * i + j], np.float64) - ref) / np.abs(ref))
        # (a product's rounding errors all reach its result, in any order: ~sqrt(n))
        assert err < (2e-5 if name == "cumprod" else 1e-6), (name, rev, f, err)


def test_cummax_cummin_long_exact():
  x = np.random.default_rng(2).standard_normal(10000).astype(np.float32)
  f = lambda v: (lax.cummax(v), lax.cummin(v, reverse=True))  # noqa: E731
  for g in (f, pyjax.jit(f)):
    mx, mn = g(x)
    np.testing.assert_array_equal(np.asarray(mx), np.maximum.accumulate(x))
    np.testing.assert_array_equal(np.asarray(mn), np.minimum.accumulate(x[::-1])[::-1])


def test_long_matrix_contractions_accurate():
  # dot_general with a long contraction: IREE accumulates it in sequence unless cut
  # into blocks; compared with float64 (JAX's own CPU matvec is worse here).
  k = 1_000_000
  x = np.full((4, k), 0.1, np.float32)
  y = np.full((k, 3), 0.1, np.float32)
  exact = k * np.float64(np.float32(0.1)) ** 2
  f = pyjax.jit(lambda a, b: (a @ b, a @ b[:, 0], jnp.einsum("ij,ij->i", a, a)))
  for o in f(x, y):
    assert np.max(np.abs(np.asarray(o, np.float64) - exact)) / exact < 2e-6

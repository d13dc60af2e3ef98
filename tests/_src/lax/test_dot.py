"""dot_general's lowering (pyjax/_src/lax/dot.py): the canonical (B, M, K) x (B, K, N)
form under jit, on dimension numbers with size-1 and size-0 dimensions, and per-example
gradients (``jit(vmap(grad(loss)))`` over ``x[:, None]``), which IREE failed to compile
before, compared with real JAX."""
from __future__ import annotations

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from util import check_close

jax = pytest.importorskip("jax")

# (lhs shape, rhs shape, dimension numbers): batch, free and contracting dimensions in
# every order, of sizes 0, 1 and more.
CASES = [
    ((3, 4), (4, 5), (((1,), (0,)), ((), ()))),
    ((4, 3), (4, 5), (((0,), (0,)), ((), ()))),
    ((3, 4), (5, 4), (((1,), (1,)), ((), ()))),
    ((1, 4), (4, 5), (((1,), (0,)), ((), ()))),
    ((3, 4), (4, 1), (((1,), (0,)), ((), ()))),
    ((3, 1), (1, 5), (((1,), (0,)), ((), ()))),
    ((6, 1, 4), (4, 5), (((2,), (0,)), ((), ()))),
    ((6, 1, 4), (6, 4, 5), (((2,), (1,)), ((0,), (0,)))),
    ((6, 1, 4), (6, 1, 5), (((1,), (1,)), ((0,), (0,)))),
    ((6, 1, 4), (6, 1, 1), (((1,), (1,)), ((0,), (0,)))),
    ((1, 3, 4), (1, 4, 5), (((2,), (1,)), ((0,), (0,)))),
    ((4, 2, 3, 5), (3, 5, 2, 4, 7), (((0, 3), (3, 1)), ((1, 2), (2, 0)))),
    ((2, 3, 4, 5), (2, 5, 3, 6), (((3,), (1,)), ((0,), (0,)))),
    ((5, 2, 1, 3), (3, 1, 2, 5), (((0, 2), (3, 1)), ((1,), (2,)))),
    ((7,), (7,), (((0,), (0,)), ((), ()))),
    ((1,), (1,), (((0,), (0,)), ((), ()))),
    ((), (), (((), ()), ((), ()))),
    ((3,), (4,), (((), ()), ((), ()))),
    ((2, 3), (2, 4), (((), ()), ((0,), (0,)))),
    ((0, 4), (4, 5), (((1,), (0,)), ((), ()))),
    ((3, 0), (0, 5), (((1,), (0,)), ((), ()))),
    ((2, 3, 0), (2, 0, 5), (((2,), (1,)), ((0,), (0,)))),
    ((0, 3, 4), (0, 4, 5), (((2,), (1,)), ((0,), (0,)))),
    ((2, 1, 5000), (2, 5000), (((2,), (1,)), ((0,), (0,)))),
    ((1, 5000), (5000, 3), (((1,), (0,)), ((), ()))),
]
DTYPES = (np.float32, np.int32, np.complex64, np.bool_)
FEW = (1, 3, 7, 9, 14, 20)  # the cases of the dtypes other than float32 (compile time)


def _operands(dtype):
  rng = np.random.default_rng(0)
  out = []
  for xs, ys, _ in _cases(dtype):
    if dtype == np.bool_:
      out.append((rng.random(xs) < 0.5, rng.random(ys) < 0.5))
    elif dtype == np.int32:
      out.append((rng.integers(-5, 5, xs).astype(dtype), rng.integers(-5, 5, ys).astype(dtype)))
    else:
      f = lambda s: (rng.standard_normal(s) + (1j * rng.standard_normal(s)
                                              if dtype == np.complex64 else 0)).astype(dtype)
      out.append((f(xs), f(ys)))
  return out


def _cases(dtype):
  return [c for i, c in enumerate(CASES) if dtype == np.float32 or i in FEW]


def _dots(lax_mod, jnp_mod, dtype):
  def f(ops):
    return [lax_mod.dot_general(jnp_mod.asarray(x), jnp_mod.asarray(y), dn)
            for (x, y), (_, _, dn) in zip(ops, _cases(dtype))]
  return f


def test_dot_general_shapes_under_jit():
  ops = [_operands(dt) for dt in DTYPES]
  dots = lambda m: lambda ops: [_dots(m.lax, m.numpy, dt)(o) for dt, o in zip(DTYPES, ops)]
  got = pyjax.jit(dots(pyjax))(ops)  # one program holds every case of every dtype
  want = jax.jit(dots(jax))(ops)
  for dt, gs, ws in zip(DTYPES, got, want):
    for (xs, ys, dn), g, w in zip(_cases(dt), gs, ws):
      assert g.dtype == w.dtype, (dt, xs, ys, dn)
      check_close(g, w, scale=50, err_msg=f"{np.dtype(dt).name} {xs} {ys} {dn}")


def _mlp_loss(np_mod):
  def loss(params, x, y):
    h = x
    for w, b in params[:-1]:
      h = np_mod.tanh(h @ w + b)
    w, b = params[-1]
    return -np_mod.sum(y * (h @ w + b))
  return loss


def test_per_example_grads_singleton_axes():
  # 16-256-256-4, batch 64: IREE "exceeded stack allocation limit" before the canonical
  # form (a matmul whose size-1 free dimension went into the fused bias and tanh).
  rng = np.random.default_rng(1)
  sizes = (16, 256, 256, 4)
  raw = [(rng.standard_normal((m, n)).astype(np.float32) * 0.1,
          rng.standard_normal(n).astype(np.float32) * 0.1)
         for m, n in zip(sizes[:-1], sizes[1:])]
  xs = rng.standard_normal((64, 16)).astype(np.float32)
  ys = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 64)]
  res = []
  for mod, np_mod in ((pyjax, jnp), (jax, jax.numpy)):
    f = mod.jit(mod.vmap(mod.grad(_mlp_loss(np_mod)), in_axes=(None, 0, 0)))
    res.append(f(raw, np_mod.asarray(xs)[:, None], np_mod.asarray(ys)[:, None]))
  got, want = (jax.tree_util.tree_leaves(r) for r in res)
  assert [g.shape for g in got] == [w.shape for w in want]
  check_close([np.asarray(g) for g in got], [np.asarray(w) for w in want], scale=20)


@pytest.mark.parametrize("shape", [(4, 3), (128, 4), (1, 5), (7,), (3, 7), (6, 1)])
def test_small_matvec_float32_bit_exact_as_jax(shape, rng):
  """A float32 matrix-vector product of fewer than 8 terms is XLA's: one FMA a term,
  in order (the tutorials' logistic regression, whose finite differences show an ulp)."""
  x = rng.standard_normal(shape).astype(np.float32)
  v = rng.standard_normal(shape[-1]).astype(np.float32)
  np.testing.assert_array_equal(np.asarray(jnp.dot(x, v)),
                                np.asarray(jax.numpy.dot(x, v)))

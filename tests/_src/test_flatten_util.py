"""pyjax.flatten_util.ravel_pytree against JAX: values, dtypes and weak types of the
flat vector and of unravel's leaves, under jit (one program), grad and vmap."""
import numpy as np
import pytest

import pyjax
import pyjax.numpy as pjnp
from pyjax.flatten_util import ravel_pytree

from util import check_jax_dtype, enable_x64

jax = pytest.importorskip("jax")
jjnp = jax.numpy
from jax.flatten_util import ravel_pytree as jax_ravel_pytree  # noqa: E402

A = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
B = np.array([1.5, -2.0, 3.25], np.float32)

# (name, builder(jnp) -> pytree, differentiable). One table for every test below.
CASES = [
    ("dict_f32", lambda n: {"w": n.asarray(A), "b": n.asarray(B)}, True),
    ("nested", lambda n: [n.asarray(B), (n.asarray(A), {"c": n.asarray(2.5, n.float32)})],
     True),
    ("pyfloat_and_array", lambda n: {"a": 1.0, "b": n.asarray(B)}, True),
    ("int_and_float", lambda n: [1, 2.0], False),
    ("python_ints", lambda n: [1, 2], False),
    ("weak_floats", lambda n: [n.array(1.0) * 1.0, 2.0], True),
    ("int32_f16", lambda n: (n.ones(2, n.int32), n.asarray(B, n.float16)), False),
    ("bool_uint8", lambda n: [True, n.ones(2, n.uint8)], False),
    ("complex_f32", lambda n: [n.asarray(B, n.complex64) * 1j, n.asarray(A)], False),
    ("scalar_leaf", lambda n: [n.float32(1.5)], True),
    ("empty", lambda n: [], False),
    ("empty_leaf", lambda n: {"e": n.zeros((0, 3)), "x": n.asarray(B)}, True),
]
IDS = [c[0] for c in CASES]


def _leaves(tree):
  return pyjax.tree_util.tree_leaves(tree)


def _check_same(ours, ref, rtol=0):
  """Same structure, dtypes and weak types as JAX; values exact (or within rtol)."""
  assert (pyjax.tree_util.tree_structure(ours).num_leaves
          == jax.tree_util.tree_structure(ref).num_leaves)
  ol, rl = _leaves(ours), jax.tree_util.tree_leaves(ref)
  check_jax_dtype(ol, rl)
  for o, r in zip(ol, rl):
    np.testing.assert_allclose(np.asarray(o), np.asarray(r), rtol=rtol, atol=0)


@pytest.mark.parametrize("name,build,_", CASES, ids=IDS)
def test_value(name, build, _):
  flat, unravel = ravel_pytree(build(pjnp))
  rflat, runravel = jax_ravel_pytree(build(jjnp))
  _check_same(flat, rflat)
  _check_same(unravel(flat), runravel(rflat))
  assert (pyjax.tree_util.tree_structure(unravel(flat))
          == pyjax.tree_util.tree_structure(build(pjnp)))


def test_value_x64():
  with enable_x64(True):
    for name, build, _ in CASES:
      flat, unravel = ravel_pytree(build(pjnp))
      rflat, runravel = jax_ravel_pytree(build(jjnp))
      _check_same(flat, rflat)
      _check_same(unravel(flat), runravel(rflat))


@pytest.fixture(scope="module")
def jitted():
  """Every case's ravel and unravel in ONE jitted program (compiled once)."""
  trees = [build(pjnp) for _, build, _ in CASES]

  @pyjax.jit
  def f(trees):
    out = []
    for t in trees:
      flat, unravel = ravel_pytree(t)
      out.append((flat, unravel(flat * 2 if flat.dtype != bool else flat)))
    return out
  return trees, f(trees)


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_jit(jitted, i):
  trees, outs = jitted
  flat, unravel = ravel_pytree(trees[i])
  eflat = flat * 2 if flat.dtype != bool else flat
  _check_same(outs[i][0], flat)
  for o, e in zip(_leaves(outs[i][1]), _leaves(unravel(eflat))):
    assert o.dtype == e.dtype and o.shape == e.shape
    np.testing.assert_array_equal(np.asarray(o), np.asarray(e))


def _loss(tree_map, leaves_of, jnp_):
  def loss(flat, unravel):
    tree = unravel(flat)
    return sum(jnp_.sum(jnp_.sin(x.astype(jnp_.float32)) * (k + 1))
               for k, x in enumerate(leaves_of(tree)))
  return loss


@pytest.mark.parametrize("name,build,diff", [c for c in CASES if c[2]],
                         ids=[c[0] for c in CASES if c[2]])
def test_grad(name, build, diff):
  """Through unravel (grad w.r.t. the flat vector) and through ravel (w.r.t. the tree)."""
  flat, unravel = ravel_pytree(build(pjnp))
  rflat, runravel = jax_ravel_pytree(build(jjnp))
  ours = pyjax.grad(lambda v: _loss(None, _leaves, pjnp)(v, unravel))(flat)
  ref = jax.grad(lambda v: _loss(None, jax.tree_util.tree_leaves, jjnp)(v, runravel))(rflat)
  _check_same(ours, ref, rtol=1e-6)  # eager float32 cos is within an ulp of XLA's
  g = pyjax.grad(lambda t: pjnp.sum(pjnp.cos(ravel_pytree(t)[0]) * 3))(build(pjnp))
  rg = jax.grad(lambda t: jjnp.sum(jjnp.cos(jax_ravel_pytree(t)[0]) * 3))(build(jjnp))
  for o, r in zip(_leaves(g), jax.tree_util.tree_leaves(rg)):
    np.testing.assert_allclose(np.asarray(o), np.asarray(r), rtol=1e-6)


def test_grad_finite_differences():
  from pyjax.test_util import check_grads
  with enable_x64(True):
    tree = {"w": pjnp.asarray(A, pjnp.float64), "b": pjnp.asarray(B, pjnp.float64)}
    _, unravel = ravel_pytree(tree)
    flat = ravel_pytree(tree)[0]
    check_grads(lambda v: pjnp.sum(unravel(v)["w"] ** 3) + pjnp.prod(unravel(v)["b"]),
                (flat,), order=2)


@pytest.mark.parametrize("name,build,_", CASES, ids=IDS)
def test_vmap(name, build, _):
  """vmap of unravel over a batch of flat vectors, and of ravel over batched trees,
  against a loop."""
  flat, unravel = ravel_pytree(build(pjnp))
  batch = pjnp.stack([flat, flat, flat]) if flat.dtype == bool else (
      pjnp.stack([flat, flat * 2, flat * 3]))
  got = pyjax.vmap(unravel)(batch)
  for j in range(3):
    want = unravel(batch[j])
    for o, w in zip(_leaves(got), _leaves(want)):
      assert o.dtype == w.dtype
      np.testing.assert_array_equal(np.asarray(o[j]), np.asarray(w))
  tree = build(pjnp)
  leaves = _leaves(tree)
  if leaves:
    btree = pyjax.tree_util.tree_map(lambda x: pjnp.stack([x, x]), tree)
    bflat = pyjax.vmap(lambda t: ravel_pytree(t)[0])(btree)
    np.testing.assert_array_equal(np.asarray(bflat[1]), np.asarray(flat))


def test_errors_match_jax():
  t = [np.ones(2, np.float32), np.ones(3, np.float32)]
  _, unravel = ravel_pytree([pjnp.asarray(x) for x in t])
  _, runravel = jax_ravel_pytree([jjnp.asarray(x) for x in t])
  with pytest.raises(ValueError) as e:
    unravel(pjnp.ones(4))
  with pytest.raises(ValueError) as r:
    runravel(jjnp.ones(4))
  assert str(e.value) == str(r.value)
  mixed = [np.ones(2, np.float32), np.ones(3, np.int32)]
  _, unravel = ravel_pytree([pjnp.asarray(x) for x in mixed])
  _, runravel = jax_ravel_pytree([jjnp.asarray(x) for x in mixed])
  with pytest.raises(TypeError) as e:
    unravel(pjnp.ones(5, pjnp.int32))
  with pytest.raises(TypeError) as r:
    runravel(jjnp.ones(5, jjnp.int32))
  assert str(e.value) == str(r.value)
  # a single-dtype unravel takes any dtype (dtype-polymorphic, as JAX's)
  _, unravel = ravel_pytree([pjnp.ones(2), pjnp.ones(3)])
  assert all(x.dtype == np.int32 for x in unravel(pjnp.ones(5, pjnp.int32)))


def test_unravel_is_hashable_and_jit_static():
  _, u1 = ravel_pytree({"a": pjnp.ones(2), "b": pjnp.ones(3)})
  _, u2 = ravel_pytree({"a": pjnp.zeros(2), "b": pjnp.zeros(3)})
  _, u3 = ravel_pytree({"a": pjnp.zeros(3), "b": pjnp.zeros(2)})
  assert u1 == u2 and hash(u1) == hash(u2) and u1 != u3
  f = pyjax.jit(lambda v, u: u(v)["b"], static_argnums=1)
  np.testing.assert_array_equal(np.asarray(f(pjnp.arange(5.0), u1)), [2.0, 3.0, 4.0])


def test_public_names():
  import jax.flatten_util
  import pyjax.flatten_util
  pub = lambda m: sorted(n for n in dir(m) if not n.startswith("_"))
  assert pub(pyjax.flatten_util) == pub(jax.flatten_util)
  assert pyjax.flatten_util.__all__ == ["ravel_pytree"]

"""Collectives under vmap with axis_name, against NumPy formulas and real JAX."""
from __future__ import annotations

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax import lax
from util import check_close

vmap = pyjax.vmap


def test_psum_normalizes():
  out = vmap(lambda x: x / lax.psum(x, "i"), axis_name="i")(jnp.arange(4.))
  np.testing.assert_array_equal(np.asarray(out),
                                np.array([0., 0.16666667, 0.33333334, 0.5], np.float32))


def test_reductions_and_mean():
  x = np.arange(12., dtype=np.float32).reshape(4, 3) - 5
  for fn, ref in ((lax.psum, x.sum(0)), (lax.pmax, x.max(0)), (lax.pmin, x.min(0)),
                  (lax.pmean, x.mean(0))):
    out = vmap(lambda v: fn(v, "i"), axis_name="i")(x)
    check_close(out, np.broadcast_to(ref, x.shape))
  # unbatched operands: psum multiplies by the axis size, pmax is the value itself
  out = vmap(lambda v: (lax.psum(1, "i"), lax.pmax(2., "i")), axis_name="i")(x)
  assert out[0].tolist() == [4] * 4 and out[1].tolist() == [2.] * 4
  # pytrees and pmean of ints (true division)
  t = vmap(lambda v: lax.psum({"a": v, "b": (v * 2,)}, "i"), axis_name="i")(x)
  check_close(t["b"][0], np.broadcast_to(2 * x.sum(0), x.shape))
  m = vmap(lambda v: lax.pmean(v, "i"), axis_name="i")(np.arange(4, dtype=np.int32))
  assert m.dtype == np.float32 and m.tolist() == [1.5] * 4


def test_axis_index_and_size():
  out = vmap(lambda x: lax.axis_index("i") * 10 + lax.axis_size("i"), axis_name="i")(
      jnp.zeros(5))
  assert out.dtype == np.int32 and out.tolist() == [5, 15, 25, 35, 45]
  out = vmap(lambda x: lax.axis_index("i"), axis_name="i", in_axes=None, axis_size=3)(1.0)
  assert out.tolist() == [0, 1, 2]


def test_nested_names_and_tuple_psum():
  x = np.arange(6., dtype=np.float32).reshape(2, 3)
  f = lambda fn: vmap(vmap(fn, axis_name="j"), axis_name="i")(x)
  check_close(f(lambda v: lax.psum(v, ("i", "j"))), np.full((2, 3), 15.))
  check_close(f(lambda v: lax.psum(v, "i")), np.broadcast_to(x.sum(0), (2, 3)))
  check_close(f(lambda v: lax.psum(v, "j")), np.broadcast_to(x.sum(1)[:, None], (2, 3)))
  check_close(f(lambda v: lax.pmax(v, ("j", "i"))), np.full((2, 3), 5.))
  idx = f(lambda v: lax.axis_index("i") * 10 + lax.axis_index("j"))
  assert idx.tolist() == [[0, 1, 2], [10, 11, 12]]
  g = f(lambda v: lax.all_gather(v, "i"))
  check_close(g, np.broadcast_to(x.T[:, None, :], (3, 2, 2)).transpose(1, 0, 2))


def test_all_gather():
  x = np.arange(24., dtype=np.float32).reshape(4, 3, 2)
  for axis in (0, 1, 2, -1):
    out = vmap(lambda v: lax.all_gather(v, "i", axis=axis), axis_name="i")(x)
    want = np.moveaxis(x, 0, axis % 3)
    check_close(out, np.broadcast_to(want, (4, *want.shape)))
  for axis in (0, 1):
    out = vmap(lambda v: lax.all_gather(v, "i", axis=axis, tiled=True), axis_name="i")(x)
    want = np.concatenate(list(x), axis=axis)
    check_close(out, np.broadcast_to(want, (4, *want.shape)))


def test_psum_scatter():
  x = np.arange(16., dtype=np.float32).reshape(4, 4)
  out = vmap(lambda v: lax.psum_scatter(v, "i"), axis_name="i")(x)
  check_close(out, x.sum(0))
  y = np.arange(48., dtype=np.float32).reshape(4, 3, 4)
  out = vmap(lambda v: lax.psum_scatter(v, "i", scatter_dimension=1, tiled=True),
             axis_name="i")(y)
  check_close(out, y.sum(0).reshape(3, 4, 1).transpose(1, 0, 2))
  with pytest.raises(ValueError, match="reduce_scatter operand scatter dimension size 3 must match shard count 4"):
    vmap(lambda v: lax.psum_scatter(v, "i"), axis_name="i")(np.ones((4, 3), np.float32))


def test_all_to_all():
  x = np.arange(16., dtype=np.float32).reshape(4, 4)
  out = vmap(lambda v: lax.all_to_all(v, "i", 0, 0), axis_name="i")(x)
  check_close(out, x.T)
  y = np.arange(32., dtype=np.float32).reshape(4, 8)
  out = vmap(lambda v: lax.all_to_all(v, "i", 0, 0, tiled=True), axis_name="i")(y)
  want = np.stack([np.concatenate([y[j, 2 * k:2 * k + 2] for j in range(4)]) for k in range(4)])
  check_close(out, want)
  z = np.arange(48., dtype=np.float32).reshape(4, 4, 3)
  out = vmap(lambda v: lax.all_to_all(v, "i", 0, 1), axis_name="i")(z)
  check_close(out, np.stack([z[:, k, :].T for k in range(4)]))


def test_ppermute_pshuffle():
  x = jnp.arange(4.) + 1
  ring = [(0, 1), (1, 2), (2, 3), (3, 0)]
  assert vmap(lambda v: lax.ppermute(v, "i", ring), axis_name="i")(x).tolist() == [4, 1, 2, 3]
  part = vmap(lambda v: lax.ppermute(v, "i", [(0, 1), (1, 2)]), axis_name="i")(x)
  assert part.tolist() == [0, 1, 2, 0]
  sh = vmap(lambda v: lax.pshuffle(v, "i", [3, 2, 0, 1]), axis_name="i")(x)
  assert sh.tolist() == [4, 3, 1, 2]
  with pytest.raises(ValueError, match="unique"):
    vmap(lambda v: lax.ppermute(v, "i", [(0, 1), (0, 2)]), axis_name="i")(x)


def test_collective_over_other_axis_with_batched_operand():
  # inner vmap batches the operand; the collective runs over the outer axis.
  x = np.arange(24., dtype=np.float32).reshape(2, 3, 4)
  out = vmap(vmap(lambda v: lax.all_gather(v, "i", axis=0), axis_name="j", in_axes=1),
             axis_name="i")(x)
  # out[i, j] = stack over i' of x[i', :, j]
  want = np.broadcast_to(x.transpose(2, 0, 1)[None], (2, 4, 2, 3))
  check_close(out, want)
  out = vmap(vmap(lambda v: lax.psum_scatter(v, "i"), axis_name="j"), axis_name="i")(
      np.arange(12., dtype=np.float32).reshape(2, 3, 2))
  check_close(out, np.arange(12., dtype=np.float32).reshape(2, 3, 2).sum(0).T)


def test_unbound_axis_name():
  with pytest.raises(NameError, match="unbound axis name: i"):
    lax.psum(1.0, "i")
  with pytest.raises(NameError, match="unbound axis name: j"):
    vmap(lambda x: lax.psum(x, "j"), axis_name="i")(jnp.ones(3))
  with pytest.raises(NameError, match="unbound axis name: i"):
    vmap(lambda x: lax.axis_index("i"))(jnp.ones(3))


def test_matches_real_jax():
  jax = pytest.importorskip("jax")
  from jax import lax as jlax
  x = np.arange(48., dtype=np.float32).reshape(4, 4, 3)
  progs = [
      lambda L, v: L.psum(v, "i") - L.pmax(v, "i") * L.axis_index("i"),
      lambda L, v: L.all_gather(v, "i", axis=1, tiled=True),
      lambda L, v: L.all_to_all(v, "i", 0, 1, tiled=False),
      lambda L, v: L.all_to_all(v, "i", 0, 1, tiled=True),
      lambda L, v: L.psum_scatter(v, "i", scatter_dimension=0, tiled=True),
      lambda L, v: L.pshuffle(v, "i", [2, 3, 1, 0]),
  ]
  for p in progs:
    want = jax.vmap(lambda v: p(jlax, v), axis_name="i")(x)
    got = vmap(lambda v: p(lax, v), axis_name="i")(x)
    check_close(got, np.asarray(want))


_RING = [(0, 1), (1, 2), (2, 3), (3, 0)]
_AD_PROGS = [
    # (name, program(jax_module, lax_module, jnp_module, x)); x is float32[4, 4]
    ("vmap(grad) psum", lambda J, L, N, x: J.vmap(
        J.grad(lambda v: (v / L.psum(v, "i")).sum()), axis_name="i")(x + 1)),
    ("vmap(grad) all_gather", lambda J, L, N, x: J.vmap(
        J.grad(lambda v: (L.all_gather(v, "i", axis=1) * N.arange(4.)[:, None]).sum()),
        axis_name="i")(x)),
    ("vmap(grad) ppermute", lambda J, L, N, x: J.vmap(
        J.grad(lambda v: (v * L.ppermute(v, "i", _RING)).sum()), axis_name="i")(x)),
    ("vmap(grad) psum_scatter", lambda J, L, N, x: J.vmap(
        J.grad(lambda v: (L.psum_scatter(v, "i", tiled=True) ** 2).sum()), axis_name="i")(x)),
    ("vmap(jvp) psum", lambda J, L, N, x: J.vmap(
        lambda v: J.jvp(lambda w: w / L.psum(w, "i"), (v,), (N.ones_like(v),))[1],
        axis_name="i")(x + 1)),
    ("grad(vmap) psum", lambda J, L, N, x: J.grad(lambda y: (J.vmap(
        lambda v: v / L.psum(v, "i"), axis_name="i")(y) * N.arange(4.)).sum())(x + 1)),
    ("grad(vmap) all_to_all", lambda J, L, N, x: J.grad(lambda y: (J.vmap(
        lambda v: L.all_to_all(v, "i", 0, 0), axis_name="i")(y) * N.arange(4.)).sum())(x)),
]


@pytest.mark.parametrize("name,prog", _AD_PROGS, ids=[n for n, _ in _AD_PROGS])
def test_autodiff_through_collectives_matches_jax(name, prog):
  jax = pytest.importorskip("jax")
  import jax.numpy as jjnp
  if not hasattr(pyjax, "grad"):
    pytest.skip("grad not available")
  x = np.arange(16., dtype=np.float32).reshape(4, 4) / 7
  want = prog(jax, jax.lax, jjnp, jjnp.asarray(x))
  got = prog(pyjax, lax, jnp, jnp.asarray(x))
  check_close(got, np.asarray(want), scale=10)


def test_vmap_grad_all_to_all():
  # Real JAX 0.10.2 fails on this one (cotangent shape error); by hand: member k's
  # loss is sum_j v_j[k] * j, so summed over members d/dv_k[i] = k.
  if not hasattr(pyjax, "grad"):
    pytest.skip("grad not available")
  g = vmap(pyjax.grad(lambda v: (lax.all_to_all(v, "i", 0, 0) * jnp.arange(4.)).sum()),
           axis_name="i")(jnp.ones((4, 4)))
  check_close(g, np.repeat(np.arange(4., dtype=np.float32)[:, None], 4, 1))


def test_collectives_inside_jit_inside_vmap():
  import pyjax
  f = lambda x: x / pyjax.lax.psum(x, "i")
  x = pyjax.numpy.arange(4.0)
  np.testing.assert_allclose(np.asarray(pyjax.vmap(pyjax.jit(f), axis_name="i")(x)),
                             [0.0, 1 / 6, 2 / 6, 3 / 6], rtol=1e-6)
  g = pyjax.vmap(pyjax.jit(lambda x: pyjax.lax.all_gather(x, "i")), axis_name="i")(
      pyjax.numpy.arange(3.0))
  np.testing.assert_array_equal(np.asarray(g), np.tile(np.arange(3.0), (3, 1)))

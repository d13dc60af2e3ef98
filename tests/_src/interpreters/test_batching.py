"""vmap: every batch rule against a Python loop over the batch (stacked), plus the
vmap API (in_axes/out_axes, errors vs JAX's wording) and the seed examples."""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import pyjax
import pyjax.numpy as jnp
from pyjax import lax
from pyjax._src import tree_util
from lax_ops import BINARY, UNARY, binary_operands, unary_operand
from util import check_close, rand

vmap = pyjax.vmap


def _take(a, i, ax):
  return jnp.asarray(a if ax is None else np.take(np.asarray(a), i, axis=ax))


def loop_ref(f, args, in_axes, out_axes=0, size=None):
  """``f`` applied to each batch element in a Python loop, stacked along out_axes."""
  if not isinstance(in_axes, tuple):
    in_axes = (in_axes,) * len(args)
  if size is None:
    size = next(np.shape(a)[ax] for a, ax in zip(args, in_axes) if ax is not None)
  outs = [f(*[_take(a, i, ax) for a, ax in zip(args, in_axes)]) for i in range(size)]
  per = [tree_util.tree_leaves(o) for o in outs]
  treedef = tree_util.tree_structure(outs[0])
  oaxes = tree_util.broadcast_prefix(out_axes, outs[0], is_leaf=lambda x: x is None)
  stacked = []
  for k, ax in enumerate(oaxes):
    col = [np.asarray(p[k]) for p in per]
    stacked.append(col[0] if ax is None else np.stack(col, axis=ax))
  return tree_util.tree_unflatten(treedef, stacked)


def check_vmap(f, args, in_axes=0, out_axes=0, scale=1.0):
  got = vmap(f, in_axes=in_axes, out_axes=out_axes)(*map(jnp.asarray, args))
  want = loop_ref(f, args, in_axes, out_axes)
  for g, w in zip(tree_util.tree_leaves(got), tree_util.tree_leaves(want)):
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    check_close(g, w, scale=scale)


# ---------------------------------------------------------------- elementwise

@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, rng):
  op = UNARY[name]
  x = unary_operand(op, op.vmap_dtype, rng, (3, 4, 2))
  check_vmap(getattr(lax, name), (x,), 0)
  check_vmap(getattr(lax, name), (x,), 2, out_axes=1)


# Unary ops with parameters (not in the shared table).
UNARY_PARAMS = [
    (lax.round, np.float32), (lambda x: lax.integer_pow(x, 3), np.float32),
    (lambda x: lax.reduce_precision(x, 5, 10), np.float32),
    (lambda x: lax.convert_element_type(x, np.int32), np.float32),
    (lambda x: lax.bitcast_convert_type(x, np.int32), np.float32),
    (lambda x: lax.bitcast_convert_type(x, np.uint8), np.float32),
    (lambda x: lax.bitcast_convert_type(x, np.int16), np.float32),
]


@pytest.mark.parametrize("fn,dtype", UNARY_PARAMS,
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_unary_with_params(fn, dtype, rng):
  x = rand((3, 4, 2), dtype, rng, low=0.1, high=0.9)
  check_vmap(fn, (x,), 0)
  check_vmap(fn, (x,), 2, out_axes=1)


@pytest.mark.parametrize("name", sorted(n for n, op in BINARY.items() if op.vmap_dtype))
def test_binary(name, rng):
  op = BINARY[name]
  fn = getattr(lax, name)
  x, y = binary_operands(op, op.vmap_dtype, rng, (3, 4))
  ys = binary_operands(op, op.vmap_dtype, rng, (3,))[0]
  y4 = binary_operands(op, op.vmap_dtype, rng, (4,))[1]
  s = binary_operands(op, op.vmap_dtype, rng, ())[0]
  scale = 1e3 if name == "random_gamma_grad" else 1.0
  check_vmap(fn, (x, y), 0, scale=scale)                 # same batch axis: no moves
  check_vmap(fn, (x, y.T), (0, 1), scale=scale)          # different batch axes
  check_vmap(fn, (x, y4), (0, None), scale=scale)        # unbatched array operand
  check_vmap(fn, (s, x), (None, 1), scale=scale)         # unbatched scalar stays scalar
  check_vmap(fn, (ys, y4), (0, None), scale=scale)       # batched scalar, unbatched array


def test_select_n(rng):
  x, y, z = (rand((5, 3), np.float32, rng) for _ in range(3))
  p = rand((5, 3), np.bool_, rng)
  w = rng.integers(0, 3, (5, 3)).astype(np.int32)
  check_vmap(lax.select, (p, x, y), 0)
  check_vmap(lax.select, (p, x, y[0]), (0, 0, None))
  check_vmap(lax.select, (p[:, 0], x, y), (0, 0, 0))            # batched scalar predicate
  check_vmap(lax.select, (np.bool_(True), x, y.T), (None, 0, 1))  # unbatched scalar predicate
  check_vmap(lax.select, (p[0], x, y[0]), (None, 0, None))
  check_vmap(lambda w, a, b, c: lax.select_n(w, a, b, c), (w, x, y[0], z), (0, 0, None, 0))
  check_vmap(lambda w, a: lax.select_n(w, a, a + 1, a + 2), (w[:, 0], x), (0, None))


def test_clamp(rng):
  x = rand((4, 3), np.float32, rng)
  lo, hi = rand((4,), np.float32, rng, low=-1, high=0), rand((4,), np.float32, rng, low=0, high=1)
  check_vmap(lax.clamp, (lo, x, hi), 0)
  check_vmap(lax.clamp, (np.float32(-0.5), x, np.float32(0.5)), (None, 1, None))
  check_vmap(lax.clamp, (lo, np.float32(0.3), np.float32(2.0)), (0, None, None))
  check_vmap(lax.clamp, (lo, x[0], hi), (0, None, 0))


# ---------------------------------------------------------------- shapes


def test_shape_ops(rng):
  x = rand((2, 3, 4), np.float32, rng)
  for ax in (0, 1, 2, -1):
    check_vmap(lambda v: lax.broadcast_in_dim(v, (5, *v.shape), (1, 2)), (x,), ax)
    check_vmap(lambda v: lax.reshape(v, (v.size,)), (x,), ax)
    check_vmap(lambda v: lax.reshape(v, (v.size,), dimensions=(1, 0)), (x,), ax)
    check_vmap(lambda v: lax.transpose(v, (1, 0)), (x,), ax)
    check_vmap(lambda v: lax.rev(v, (0,)), (x,), ax)
    check_vmap(lambda v: lax.expand_dims(v, (0, 2)), (x,), ax)
    check_vmap(lambda v: lax.squeeze(lax.expand_dims(v, (1,)), (1,)), (x,), ax)
    check_vmap(lambda v: lax.slice(v, (0, 1), (v.shape[0], 3), (1, 2)), (x,), ax)
    check_vmap(lambda v: lax.pad(v, np.float32(9), ((1, 2, 1), (-1, 0, 0))), (x,), ax)
  check_vmap(lambda v: v + lax.iota(np.float32, 4), (x[0],), 1 - 1)
  check_vmap(lambda v: lax.broadcasted_iota(np.int32, (2, 3), 1) * v, (np.arange(4, dtype=np.int32),), 0)


def test_squeeze_bdim_positions(rng):
  x = rand((1, 3, 1, 2), np.float32, rng)
  check_vmap(lambda v: lax.squeeze(v, (0, 1)), (x,), 1)
  check_vmap(lambda v: lax.squeeze(v, (0, 2)), (x,), 3)
  check_vmap(lambda v: lax.squeeze(v, (1,)), (x,), 0)


def test_pad_batched_value(rng):
  x = rand((3, 4), np.float32, rng)
  pv = rand((3,), np.float32, rng)
  cfg = ((1, 2, 1),)
  check_vmap(lambda a, p: lax.pad(a, p, cfg), (x, pv), (0, 0))
  check_vmap(lambda a, p: lax.pad(a, p, cfg), (x[0], pv), (None, 0))
  check_vmap(lambda a, p: lax.pad(a, p, ((0, 0, 0),)), (x.T, pv), (1, 0))


def test_concatenate(rng):
  a, b = rand((3, 2, 4), np.int32, rng), rand((3, 5, 4), np.int32, rng)
  check_vmap(lambda x, y: lax.concatenate([x, y, x], 0), (a, b), 0)
  check_vmap(lambda x, y: lax.concatenate([x, y], 0), (a, b[0]), (0, None))
  check_vmap(lambda x, y: lax.concatenate([x, y], 1), (a, np.moveaxis(a, 0, 2)), (0, 2))


# ---------------------------------------------------------------- dot_general


DOTS = [
    ((((1,), (0,)), ((), ())), (3, 4), (4, 5)),   # matmul
    ((((1,), (1,)), ((), ())), (3, 4), (5, 4)),
    ((((0,), (0,)), ((), ())), (4,), (4,)),       # inner product
    ((((2,), (1,)), ((0,), (0,))), (2, 3, 4), (2, 4, 5)),  # batched matmul
    ((((), ()), ((), ())), (3,), (2,)),           # outer product
]


@pytest.mark.parametrize("dn,xs,ys", DOTS)
@pytest.mark.parametrize("axes", [(0, 0), (1, 0), (0, None), (None, 0), (-1, None), (None, -1)])
def test_dot_general(dn, xs, ys, axes, rng):
  def mk(shape, ax):
    if ax is None:
      return rand(shape, np.float32, rng)
    a = rand((3, *shape), np.float32, rng)
    return np.moveaxis(a, 0, ax)
  x, y = mk(xs, axes[0]), mk(ys, axes[1])
  check_vmap(lambda a, b: lax.dot_general(a, b, dn), (x, y), axes, scale=10)


def test_matvec_becomes_one_matmul(rng):
  mat = jnp.asarray(rand((5, 4), np.float32, rng))
  vs = rand((3, 4), np.float32, rng)
  jaxpr = pyjax.make_jaxpr(vmap(lambda v: jnp.dot(mat, v)))(vs)
  prims = [e.primitive.name for e in jaxpr.eqns]
  assert prims.count("dot_general") == 1 and len(prims) <= 2, prims
  dn = [e for e in jaxpr.eqns if e.primitive.name == "dot_general"][0].params[
      "dimension_numbers"]
  assert dn == (((1,), (1,)), ((), ()))
  check_close(vmap(lambda v: jnp.dot(mat, v))(vs), vs @ np.asarray(mat).T, scale=4)


# ---------------------------------------------------------------- reductions, scans, sort


@pytest.mark.parametrize("name,dtype", [
    ("reduce_sum", np.float32), ("reduce_prod", np.float32), ("reduce_max", np.int32),
    ("reduce_min", np.float32), ("reduce_and", np.bool_), ("reduce_or", np.int32),
    ("reduce_xor", np.uint8)])
def test_reductions(name, dtype, rng):
  x = rand((2, 3, 4), dtype, rng, low=-2, high=2)
  fn = getattr(lax, name)
  for ax in (0, 1, 2):
    for axes in ((0,), (1,), (0, 1), ()):
      check_vmap(lambda v: fn(v, axes), (x,), ax, scale=4)


def test_argminmax_cumulative(rng):
  x = rand((3, 4, 5), np.float32, rng)
  for ax in (0, 1, 2):
    for a in (0, 1):
      check_vmap(lambda v: lax.argmax(v, a, np.int32), (x,), ax)
      check_vmap(lambda v: lax.argmin(v, a, np.int32), (x,), ax)
      for fn in (lax.cumsum, lax.cumprod, lax.cummax, lax.cummin, lax.cumlogsumexp):
        check_vmap(lambda v: fn(v, a, reverse=True), (x,), ax, scale=4)
        check_vmap(lambda v: fn(v, a), (x,), ax, scale=4)


def test_sort(rng):
  k = rng.integers(0, 3, (4, 6)).astype(np.int32)
  v = rand((4, 6), np.float32, rng)
  check_vmap(lambda a: lax.sort(a), (v,), 0)
  check_vmap(lambda a: lax.sort(a, 0), (v,), 1)
  check_vmap(lambda a, b: lax.sort((a, b), num_keys=1), (k, v), (0, 0))
  check_vmap(lambda a, b: lax.sort((a, b), num_keys=2), (k, v[0]), (0, None))
  check_vmap(lambda a, b: lax.sort_key_val(a, b), (k[0], v.T), (None, 1))


# ---------------------------------------------------------------- slicing


def test_dynamic_slice(rng):
  x = rand((4, 6, 5), np.float32, rng)
  i = np.array([0, 2, 5, -1], np.int32)  # out of range starts clamp
  j = np.array([1, 0, 3, 2], np.int32)
  ds = lambda a, s, t: lax.dynamic_slice(a, (s, t), (2, 3))
  check_vmap(ds, (x, np.int32(1), np.int32(2)), (0, None, None))
  check_vmap(ds, (x, np.int32(1), np.int32(2)), (2, None, None))
  check_vmap(ds, (x, i, j), (0, 0, 0))           # batched operand and indices: gather
  check_vmap(ds, (x[0], i, np.int32(2)), (None, 0, None))  # unbatched operand
  check_vmap(ds, (np.moveaxis(x, 0, 1), i, np.int32(2)), (1, 0, None))
  check_vmap(lambda a, s: lax.dynamic_index_in_dim(a, s, 0, False), (x[0], i), (None, 0))


def test_dynamic_update_slice(rng):
  x = rand((4, 6, 5), np.float32, rng)
  u = rand((4, 2, 3), np.float32, rng)
  i = np.array([0, 2, 5, -1], np.int32)
  dus = lambda a, b, s, t: lax.dynamic_update_slice(a, b, (s, t))
  check_vmap(dus, (x, u, np.int32(1), np.int32(2)), (0, 0, None, None))
  check_vmap(dus, (x, u[0], np.int32(1), np.int32(2)), (2, None, None, None))
  check_vmap(dus, (x[0], u, np.int32(1), np.int32(2)), (None, 0, None, None))
  check_vmap(dus, (x, u, i, i[::-1]), (0, 0, 0, 0))       # scatter
  check_vmap(dus, (x[0], u[0], i, np.int32(4)), (None, None, 0, None))


def test_gather_via_indexing(rng):
  x = rand((4, 6, 5), np.float32, rng)
  idx = rng.integers(-6, 6, (4, 3)).astype(np.int32)
  check_vmap(lambda a, i: a[i], (x, idx), (0, 0))
  check_vmap(lambda a, i: a[i], (x[0], idx), (None, 0))
  check_vmap(lambda a, i: a[i], (x, idx[0]), (2, None))
  check_vmap(lambda a, i: a[:, i], (x, idx.T), (0, 1))
  check_vmap(lambda a, i: a[i, 1:3], (np.moveaxis(x, 0, 1), idx), (1, 0))
  check_vmap(lambda a, i: jnp.take(a, i, axis=1, mode="fill", fill_value=-1), (x, idx), (0, 0))
  check_vmap(lambda a, i: jnp.take_along_axis(a[:3], i[:, None] % 5, axis=1), (x, idx), (0, 0))


def test_gather_with_batching_dims(rng):
  op = rand((3, 4, 5), np.float32, rng)
  ind = rng.integers(0, 4, (3, 2, 1)).astype(np.int32)
  dn = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(1,),
                                  start_index_map=(1,), operand_batching_dims=(0,),
                                  start_indices_batching_dims=(0,))
  g = lambda o, i: lax.gather(o, i, dn, (1, 1, 5), mode="clip")
  ops = np.stack([op, op + 1])
  inds = np.stack([ind, (ind + 1) % 4])
  check_vmap(g, (ops, inds), (0, 0))
  check_vmap(g, (ops, ind), (0, None))
  check_vmap(g, (op, inds), (None, 0))


@pytest.mark.parametrize("method", ["set", "add", "multiply", "min", "max"])
def test_scatter_via_at(method, rng):
  x = rand((4, 6, 3), np.float32, rng)
  idx = rng.integers(0, 6, (4, 2)).astype(np.int32)
  v = rand((4, 2, 3), np.float32, rng)
  up = lambda a, i, b: getattr(a.at[i], method)(b)
  check_vmap(up, (x, idx, v), (0, 0, 0))
  check_vmap(up, (x, idx[0], v), (0, None, 0))
  check_vmap(up, (x[0], idx, v[0]), (None, 0, None))
  check_vmap(up, (x[0], idx[0], v), (None, None, 0))
  check_vmap(up, (np.moveaxis(x, 0, 2), idx, np.moveaxis(v, 0, 1)), (2, 0, 1))
  check_vmap(lambda a, i, b: a.at[:, i].add(b), (x, idx, np.float32(2)), (0, 0, None))


def test_scatter_sub_and_apply(rng):
  x = rand((3, 5), np.float32, rng)
  idx = rng.integers(0, 5, (3, 2, 1)).astype(np.int32)
  u = rand((3, 2), np.float32, rng)
  dn = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                   scatter_dims_to_operand_dims=(0,))
  check_vmap(lambda a, i, b: lax.scatter_sub(a, i, b, dn), (x, idx, u), (0, 0, 0))
  check_vmap(lambda a, i: lax.scatter_apply(a, i, lambda t: t * 2, dn, update_shape=(2,)),
             (x, idx), (0, 0))


# ---------------------------------------------------------------- jnp programs, dtypes


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_, np.float16, np.complex64])
def test_jnp_functions_dtypes(dtype, rng):
  x = rand((3, 4, 5), dtype, rng, low=-3, high=3)
  for f in (jnp.sum, lambda v: jnp.cumsum(v, 1), jnp.ravel, lambda v: v.T, jnp.flip,
            lambda v: jnp.where(v == v[0, 0], v, v[1]), lambda v: jnp.concatenate([v, v]),
            lambda v: jnp.roll(v, 2), lambda v: jnp.tile(v, 2), lambda v: v[::2, 1]):
    check_vmap(f, (x,), 0)
    check_vmap(f, (x,), 2)
  if dtype != np.complex64:
    for f in (jnp.sort, jnp.argsort, jnp.max, lambda v: jnp.argmax(v, 1)):
      check_vmap(f, (x,), 1)


def test_mlp_predict_and_softmax(rng):
  params = [(rand((5, 4), np.float32, rng), rand((5,), np.float32, rng)),
            (rand((2, 5), np.float32, rng), rand((2,), np.float32, rng))]

  def predict(params, x):
    for W, b in params:
      x = jnp.tanh(jnp.dot(W, x) + b)
    return x - jax_logsumexp(x)

  def jax_logsumexp(x):
    m = jnp.max(x)
    return m + jnp.log(jnp.sum(jnp.exp(x - m)))

  xs = rand((7, 4), np.float32, rng)
  got = vmap(predict, in_axes=(None, 0))(params, xs)
  want = np.stack([np.asarray(predict(params, x)) for x in xs])
  check_close(got, want, scale=8)


# ---------------------------------------------------------------- API: in_axes / out_axes


def test_pytree_in_out_axes_and_kwargs(rng):
  a, b = rand((3, 2), np.float32, rng), rand((2, 3), np.float32, rng)
  c = rand((2,), np.float32, rng)
  scale = rand((3,), np.float32, rng)

  def f(t, c, scale=1.0):
    return {"s": t["a"] + t["b"] * scale, "p": (c * 2, t["b"].sum())}

  out = vmap(f, in_axes=({"a": 0, "b": 1}, None), out_axes={"s": 1, "p": (None, 0)})(
      {"a": a, "b": b}, c, scale=scale)
  check_close(out["s"], (a + b.T * scale[:, None]).T)
  check_close(out["p"][0], c * 2)
  check_close(out["p"][1], b.sum(0), scale=4)
  with pytest.raises(ValueError, match="inconsistent sizes"):
    vmap(f, in_axes=({"a": 0, "b": 1}, None))({"a": a, "b": b}, c, scale=c)


def test_out_axes_none_for_unbatched_output(rng):
  x = rand((3, 2), np.float32, rng)
  out = vmap(lambda v, w: (v * 2, w + 1), in_axes=(0, None), out_axes=(0, None))(x, np.float32(1))
  check_close(out[0], x * 2)
  assert np.asarray(out[1]).shape == ()
  assert float(out[1]) == 2.0


def test_unbatched_output_is_broadcast():
  out = vmap(lambda x: 1.0)(jnp.ones(3))
  assert out.shape == (3,) and out.dtype == np.float32 and out.weak_type
  out = vmap(lambda x: jnp.ones(2), in_axes=None, axis_size=4)(jnp.ones(3))
  assert out.shape == (4, 2)


def test_size_zero_and_one_batches():
  out = vmap(lambda x: jnp.sin(x) @ jnp.ones(3))(jnp.ones((0, 3)))
  assert out.shape == (0,)
  out = vmap(lambda x, y: x[y], in_axes=(0, 0))(jnp.ones((0, 3)), jnp.zeros((0,), jnp.int32))
  assert out.shape == (0,)
  x = np.arange(6., dtype=np.float32).reshape(1, 2, 3)
  check_close(vmap(lambda v: v.T @ v)(x), np.stack([x[0].T @ x[0]]))


def test_nested_vmap(rng):
  x = rand((2, 3, 4), np.float32, rng)
  y = rand((4, 5), np.float32, rng)
  got = vmap(vmap(lambda a, b: jnp.dot(a, b), in_axes=(0, None)), in_axes=(0, None))(x, y)
  check_close(got, np.einsum("ijk,kl->ijl", x, y), scale=4)
  got = vmap(vmap(jnp.outer, in_axes=(None, 0)), in_axes=(0, None))(x[0], y)
  want = np.einsum("ik,jl->ijkl", x[0], y)
  check_close(got, want, scale=4)


def test_closure_over_outer_tracer(rng):
  x = rand((3, 4), np.float32, rng)
  y = rand((5,), np.float32, rng)
  got = vmap(lambda a: vmap(lambda b: a.sum() * b)(y))(x)
  check_close(got, np.outer(x.sum(1), y), scale=4)


def test_wraps_and_doc():
  def f(x):
    """doc of f"""
    return x
  g = vmap(f)
  assert g.__name__ == "f" and g.__wrapped__ is f
  assert g.__doc__.startswith("Vectorized version of f.") and g.__doc__.endswith("doc of f")


def test_leaked_tracer_raises():
  leaked = []
  vmap(lambda x: leaked.append(x) or x)(jnp.ones(3))
  with pytest.raises(pyjax.errors.UnexpectedTracerError):
    leaked[0] + 1


def test_bool_of_batched_tracer_raises():
  with pytest.raises(pyjax.errors.TracerBoolConversionError):
    vmap(lambda x: x if x > 0 else -x)(jnp.ones(3))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 3), st.sampled_from([0, 1, 2, -1, None]),
       st.sampled_from([0, 1, -1, None]), st.sampled_from([0, 1, -1]), st.integers(0, 1))
def test_in_out_axes_hypothesis(size, ax_x, ax_y, out_ax, kind):
  r = np.random.default_rng(size * 100 + kind)
  if ax_x is None and ax_y is None:
    ax_y = 0
  xs = (2, 3)
  x = r.standard_normal(xs).astype(np.float32)
  if ax_x is not None:
    x = np.moveaxis(np.stack([x + i for i in range(size)] or [x[:0]]).reshape(size, *xs), 0, ax_x)
  y = r.standard_normal(3).astype(np.float32)
  if ax_y is not None:
    y = np.moveaxis(np.stack([y * i for i in range(size)] or [y[:0]]).reshape(size, 3), 0, ax_y)
  f = [lambda a, b: jnp.tanh(a) @ b + a.sum(), lambda a, b: jnp.sort(a * b, axis=0)][kind]
  got = vmap(f, in_axes=(ax_x, ax_y), out_axes=out_ax)(x, y)
  if size == 0:
    single = f(np.zeros(xs, np.float32), np.zeros(3, np.float32))
    shape = list(np.shape(single))
    shape.insert(out_ax if out_ax >= 0 else len(shape) + 1 + out_ax, 0)
    assert got.shape == tuple(shape)
    return
  check_close(got, loop_ref(f, (x, y), (ax_x, ax_y), out_ax), scale=8)


# ---------------------------------------------------------------- errors (JAX's wording)


def test_error_inconsistent_sizes():
  with pytest.raises(ValueError) as e:
    vmap(lambda x, y: x + y, in_axes=(0, 1))(jnp.ones(3), jnp.ones((2, 4)))
  assert str(e.value) == (
      "vmap got inconsistent sizes for array axes to be mapped:\n"
      "  * one axis had size 3: axis 0 of argument x of type float32[3];\n"
      "  * one axis had size 4: axis 1 of argument y of type float32[2,4]")
  with pytest.raises(ValueError) as e:
    vmap(lambda x, y: x + y)(jnp.ones(3), (jnp.ones(4), jnp.ones(5)))
  assert "axis 0 of argument y[1] of type float32[5]" in str(e.value)
  with pytest.raises(ValueError) as e:
    vmap(lambda x: x, axis_size=4)(jnp.ones(3))
  assert str(e.value).splitlines()[1] == "  * the `axis_size` argument was 4;"


def test_error_messages_match_jax():
  cases = [
      (lambda: vmap(lambda x: x, in_axes=1)(jnp.ones(3)), ValueError,
       "vmap was requested to map its argument along axis 1, which implies that its rank "
       "should be at least 2, but is only 1 (its shape is (3,))"),
      (lambda: vmap(lambda x: x, in_axes=(0, 0))(jnp.ones(3)), ValueError,
       "vmap in_axes must be an int, None, or a tuple of entries corresponding to the "
       "positional arguments passed to the function, but got len(in_axes)=2, len(args)=1"),
      (lambda: vmap(lambda x: x, in_axes="a"), TypeError,
       "vmap in_axes must be an int, None, or a tuple of entries corresponding to the "
       "positional arguments passed to the function, but got a."),
      (lambda: vmap(lambda x: x, out_axes="a"), TypeError,
       "vmap out_axes must be an int, None, or (nested) container with those types as "
       "leaves, but got a."),
      (lambda: vmap(lambda x: x, in_axes=None)(jnp.ones(3)), ValueError,
       "vmap must have at least one non-None value in in_axes or axis_size must be "
       "specified"),
      (lambda: vmap(lambda: 1.0)(), ValueError,
       "vmap wrapped function must be passed at least one argument containing an array or "
       "axis_size must be specified, got empty *args=() and **kwargs={}"),
      (lambda: vmap(lambda x: x, out_axes=None)(jnp.ones(3)), ValueError,
       "at vmap out_axes, got axis spec None but output was batched on axis 0"),
      (lambda: vmap(lambda x: x, out_axes=2)(jnp.ones(3)), ValueError,
       "axis 2 is out of bounds for array of dimension 1"),
  ]
  for fn, exc, msg in cases:
    with pytest.raises(exc) as e:
      fn()
    assert str(e.value) == msg
  with pytest.raises(ValueError, match="vmap out_axes specification must be a tree prefix"):
    vmap(lambda x: (x, x), out_axes=(0, 0, 0))(jnp.ones(3))
  with pytest.raises(ValueError, match="vmap in_axes specification must be a tree prefix"):
    vmap(lambda x: x, in_axes=({"a": 0},))({"b": jnp.ones(3)})


def test_errors_match_real_jax():
  jax = pytest.importorskip("jax")
  import jax.numpy as jjnp
  calls = [
      lambda m, n: m.vmap(lambda x, y: x + y, in_axes=(0, 1))(n.ones(3), n.ones((2, 4))),
      lambda m, n: m.vmap(lambda x: x, in_axes=-2)(n.ones(3)),
      lambda m, n: m.vmap(lambda x: x, axis_size=4)(n.ones(3)),
      lambda m, n: m.vmap(lambda x, y: x, in_axes=(0,))(n.ones(3), 1),
  ]
  for call in calls:
    msgs = []
    for m, n in ((jax, jjnp), (pyjax, jnp)):
      with pytest.raises(ValueError) as e:
        call(m, n)
      msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


# ---------------------------------------------------------------- seeds


def test_seed_apply_matrix(rng):
  # seeds 000/001: promote matrix-vector products to matrix-matrix with vmap.
  mat = jnp.asarray(rng.standard_normal((150, 100)).astype(np.float32))
  batched_x = jnp.asarray(rng.standard_normal((10, 100)).astype(np.float32))

  def apply_matrix(v):
    return jnp.dot(mat, v)

  naive = jnp.stack([apply_matrix(v) for v in batched_x])
  manual = jnp.dot(batched_x, mat.T)
  auto = vmap(apply_matrix)(batched_x)
  np.testing.assert_allclose(naive, manual, atol=1e-4, rtol=1e-4)
  np.testing.assert_allclose(naive, auto, atol=1e-4, rtol=1e-4)


def test_seed_square_rows():
  # seed 002: vmap(square)(x) equals the list comprehension over rows.
  def square(x):
    return jnp.sum(x ** 2)

  x = jnp.arange(100).reshape(10, 10)
  assert int(square(jnp.arange(10))) == 285
  out = vmap(square)(x)
  assert out.dtype == np.int32
  np.testing.assert_array_equal(out, np.array([int(square(row)) for row in x]))


def test_seed_predict_in_axes(rng):
  # seed 003: vmap(partial(predict, params)) == vmap(predict, in_axes=(None, 0)) == stack.
  params = [(jnp.asarray(rand((8, 4), np.float32, rng)), jnp.asarray(rand((8,), np.float32, rng))),
            (jnp.asarray(rand((3, 8), np.float32, rng)), jnp.asarray(rand((3,), np.float32, rng)))]

  def predict(params, input_vec):
    assert input_vec.ndim == 1
    activations = input_vec
    for W, b in params:
      outputs = jnp.dot(W, activations) + b
      activations = jnp.tanh(outputs)
    return outputs

  input_batch = jnp.asarray(rand((6, 4), np.float32, rng))
  stacked = jnp.stack(list(map(partial(predict, params), input_batch)))
  p1 = vmap(partial(predict, params))(input_batch)
  p2 = vmap(predict, in_axes=(None, 0))(params, input_batch)
  check_close(p1, stacked, scale=8)
  check_close(p2, stacked, scale=8)


def test_vmap_matches_real_jax_on_programs(rng):
  jax = pytest.importorskip("jax")
  import jax.numpy as jjnp
  x = rand((4, 3, 5), np.float32, rng)
  idx = rng.integers(0, 5, (4, 2)).astype(np.int32)
  progs = [
      lambda np_, a, i: np_.cumsum(a[:, i], axis=0) + np_.sort(a, axis=1)[:, :2],
      lambda np_, a, i: (a.at[:, i].add(1.0) * np_.arange(5.0)).max(axis=1),
      lambda np_, a, i: np_.argsort(a[0]) + i.sum(),
  ]
  for p in progs:
    want = jax.vmap(partial(p, jjnp))(x, idx)
    got = vmap(partial(p, jnp))(x, idx)
    check_close(got, np.asarray(want), scale=4)


# ---------------------------------------------------------------- composition


def _mlp_loss(params, inputs, targets):
  for W, b in params:
    outputs = jnp.dot(inputs, W) + b
    inputs = jnp.tanh(outputs)
  return jnp.sum((outputs - targets) ** 2)


def _mlp_data(rng):
  params = [(rand((4, 6), np.float32, rng), rand((6,), np.float32, rng)),
            (rand((6, 2), np.float32, rng), rand((2,), np.float32, rng))]
  return params, rand((5, 4), np.float32, rng, low=-1, high=1), rand((5, 2), np.float32, rng)


def test_per_example_grads(rng):
  # seed 003: vmap(grad(loss), in_axes=(None, 0, 0)) and vmap(partial(grad(loss), params)).
  grad = getattr(pyjax, "grad", None)
  if grad is None:
    pytest.skip("grad not available")
  params, xs, ys = _mlp_data(rng)
  per_ex = vmap(grad(_mlp_loss), in_axes=(None, 0, 0))(params, xs, ys)
  per_ex2 = vmap(partial(grad(_mlp_loss), params))(xs, ys)
  loop = [grad(_mlp_loss)(params, x, y) for x, y in zip(xs, ys)]
  for k in range(2):
    for j in range(2):
      want = np.stack([np.asarray(l[k][j]) for l in loop])
      # (batched and single-example products round differently: near-zero entries
      # of a gradient whose largest is ~20 differ by ulps of that largest)
      atol = 8e-6 * np.abs(want).max()
      check_close(per_ex[k][j], want, scale=8, atol=atol)
      check_close(per_ex2[k][j], want, scale=8, atol=atol)


def test_grad_of_vmap(rng):
  grad = getattr(pyjax, "grad", None)
  if grad is None:
    pytest.skip("grad not available")
  params, xs, ys = _mlp_data(rng)
  g = grad(lambda p: vmap(_mlp_loss, in_axes=(None, 0, 0))(p, xs, ys).sum())(params)
  want = grad(lambda p: sum(_mlp_loss(p, x, y) for x, y in zip(xs, ys)))(params)
  for a, b in zip(pyjax.tree_util.tree_leaves(g), pyjax.tree_util.tree_leaves(want)):
    check_close(a, b, scale=8)
  # vmap of a per-example Jacobian-vector structure: vmap(vmap(grad)) over a grid
  f = lambda x, y: jnp.sin(x) * y ** 2
  got = vmap(vmap(grad(f, argnums=(0, 1)), in_axes=(0, None)), in_axes=(None, 0))(
      jnp.arange(3.), jnp.arange(4.))
  X, Y = np.meshgrid(np.arange(3.), np.arange(4.))
  check_close(got[0], np.cos(X) * Y ** 2, np.float32)
  check_close(got[1], np.sin(X) * 2 * Y, np.float32)


def test_batch_jaxpr(rng):
  from pyjax._src.interpreters import batching
  m = rand((3, 4), np.float32, rng)
  vs = rand((5, 4), np.float32, rng)
  cj = pyjax.make_jaxpr(lambda a, v: (jnp.dot(a, v), a.sum()))(m, vs[0])
  bj, out_dims = batching.batch_jaxpr(cj, 5, [None, 0])
  assert out_dims == [0, None]
  assert [e.primitive.name for e in bj.eqns].count("dot_general") == 1
  out = bj(m, vs)
  check_close(out[0], vs @ m.T, scale=4)
  check_close(out[1], m.sum(), scale=4)


def _vmap_tracer_prints(jax, jnp):
  out = []
  jax.vmap(lambda x, y: out.append((repr(x), str(y), f"{x}")) or x)(jnp.ones((2, 3)),
                                                                     jnp.ones(2))
  jax.vmap(lambda x: out.append(str(x)) or x, in_axes=1)(jnp.ones((2, 3)))
  jax.vmap(lambda x: out.append(str(x * 2)) or x)(jnp.arange(3))
  jax.vmap(lambda x: out.append(str(x)) or x)(jnp.ones(2) * 2)
  return out


def test_vmap_tracer_prints_as_jax():
  """Issue 22: a tracer printed under vmap reads as JAX 0.10.2 prints it."""
  ours = _vmap_tracer_prints(pyjax, jnp)
  assert ours[0] == ("VmapTracer(aval=float32[3], batched=float32[2,3])",
                     "VmapTracer(aval=float32[], batched=float32[2])",
                     "VmapTracer(aval=float32[3], batched=float32[2,3])")
  jax = pytest.importorskip("jax")
  assert ours == _vmap_tracer_prints(jax, jax.numpy)

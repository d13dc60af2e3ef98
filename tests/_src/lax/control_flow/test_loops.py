"""lax.scan, lax.map, lax.fori_loop, lax.associative_scan: values vs Python loops and
JAX, under jit, grad (check_grads to order 2), vmap (vs a loop) and compositions."""
from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import pyjax as jax
import pyjax.numpy as jnp
from pyjax import lax
from pyjax.test_util import check_grads
from tests.util import check_close, enable_x64


def _np(tree):
  return jax.tree_util.tree_map(np.asarray, tree)


def _close(a, b, **kw):
  la, ta = jax.tree_util.tree_flatten(a)
  lb, tb = jax.tree_util.tree_flatten(b)
  assert ta == tb, (ta, tb)
  for x, y in zip(la, lb):
    assert np.asarray(x).dtype == np.asarray(y).dtype, (np.asarray(x).dtype, np.asarray(y).dtype)
    check_close(x, y, **kw)


def py_scan(f, init, xs, length=None, reverse=False):
  """The reference: a Python loop with the documented semantics of lax.scan."""
  xs_flat, tree = jax.tree_util.tree_flatten(xs)
  n = length if length is not None else np.shape(xs_flat[0])[0]
  carry, ys = init, []
  idx = range(n - 1, -1, -1) if reverse else range(n)
  for i in idx:
    x = jax.tree_util.tree_unflatten(tree, [v[i] for v in xs_flat])
    carry, y = f(carry, x)
    ys.append(y)
  if reverse:
    ys.reverse()
  ys = jax.tree_util.tree_map(lambda *v: jnp.stack(v), *ys) if ys else None
  return carry, ys


def rnn_step(params, h, x, np_=jnp):
  W, U, b = params
  h = np_.tanh(h @ W + x @ U + b)
  return h, np_.sum(h ** 2)


def _rnn_params(rng, n=4, m=3):
  return (jnp.asarray(rng.normal(size=(n, n)).astype(np.float32) * 0.5),
          jnp.asarray(rng.normal(size=(m, n)).astype(np.float32) * 0.5),
          jnp.asarray(rng.normal(size=(n,)).astype(np.float32) * 0.1))


# ---------------------------------------------------------------- values


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("jit", [False, True])
def test_scan_pytree_mixed_dtypes(reverse, jit):
  def f(carry, x):
    count, acc = carry["count"], carry["acc"]
    a, flag = x
    acc = acc * 0.5 + jnp.where(flag, a, -a)
    return {"count": count + 1, "acc": acc}, (acc.sum(), count * 2, flag)

  init = {"count": jnp.int32(0), "acc": jnp.zeros(2, jnp.float32)}
  xs = (jnp.arange(10.0, dtype=jnp.float32).reshape(5, 2), jnp.array([1, 0, 1, 1, 0], bool))
  run = (lambda i, x: lax.scan(f, i, x, reverse=reverse))
  got = (jax.jit(run) if jit else run)(init, xs)
  _close(got, py_scan(f, init, xs, reverse=reverse))


@pytest.mark.parametrize("jit", [False, True])
def test_scan_no_xs_length_and_empty(jit):
  wrap = jax.jit if jit else (lambda g: g)
  c, ys = wrap(lambda c: lax.scan(lambda c, _: (c * 2.0, c), c, None, length=4))(1.5)
  check_close(c, np.float32(24.0))
  check_close(ys, np.array([1.5, 3, 6, 12], np.float32))
  c, ys = wrap(lambda c, xs: lax.scan(lambda c, x: (c + x.sum(), x * 2), c, xs))(
      1.0, jnp.zeros((0, 3)))
  check_close(c, np.float32(1.0))
  assert ys.shape == (0, 3) and ys.dtype == np.float32


@pytest.mark.parametrize("unroll", [1, 2, 3, True])
def test_scan_unroll_same_values(unroll):
  rng = np.random.default_rng(0)
  params = _rnn_params(rng)
  xs = jnp.asarray(rng.normal(size=(7, 3)).astype(np.float32))
  h0 = jnp.zeros(4)
  f = functools.partial(rnn_step, params)
  want = py_scan(f, h0, xs)
  got = jax.jit(lambda h, x: lax.scan(f, h, x, unroll=unroll))(h0, xs)
  _close(got, want, scale=4)
  _close(lax.scan(f, h0, xs, unroll=unroll), want, scale=4)


def test_scan_closure_over_tracer_and_array():
  big = jnp.arange(100.0).reshape(10, 10)

  def loss(w):
    def step(c, x):
      return c * w + jnp.sum(big[x]), c
    return lax.scan(step, 1.0, jnp.arange(3))[0]

  def ref(w):
    c = 1.0
    for x in range(3):
      c = c * w + float(np.sum(np.asarray(big)[x]))
    return c

  check_close(loss(0.5), np.float32(ref(0.5)))
  check_close(jax.jit(loss)(0.5), np.float32(ref(0.5)))
  # d/dw of ((w + 45) w + 145) w + 245 = 3 w^2 + 90 w + 145
  check_close(jax.grad(loss)(0.5), np.float32(3 * 0.25 + 45 + 145))
  check_close(jax.jit(jax.grad(loss))(0.5), np.float32(3 * 0.25 + 45 + 145))


def test_scan_weak_carry_promoted():
  c, _ = lax.scan(lambda c, x: (c + x, None), 0.0, jnp.ones(3, jnp.float32))
  assert c.dtype == np.float32
  c, _ = lax.scan(lambda c, x: (c + 1, None), 0, None, length=3)
  assert int(c) == 3


def test_scan_vs_jax():
  jax_ = pytest.importorskip("jax")
  rng = np.random.default_rng(1)
  params = _rnn_params(rng)
  xs = rng.normal(size=(6, 3)).astype(np.float32)

  def make(J, p):
    def loss(p, h, xs):
      h, ys = J.lax.scan(lambda h, x: rnn_step(p, h, x, J.numpy), h, xs)
      return J.numpy.sum(h) + J.numpy.sum(ys)
    return loss

  ours = jax.grad(make(jax, None), argnums=(0, 1, 2))(params, jnp.zeros(4), jnp.asarray(xs))
  theirs = jax_.grad(make(jax_, None), argnums=(0, 1, 2))(
      tuple(np.asarray(p) for p in params), np.zeros(4, np.float32), xs)
  for a, b in zip(jax.tree_util.tree_leaves(ours), jax_.tree_util.tree_leaves(theirs)):
    check_close(a, np.asarray(b), scale=10)


# ---------------------------------------------------------------- autodiff


def test_scan_check_grads_order2():
  rng = np.random.default_rng(2)
  params = _rnn_params(rng)
  xs = jnp.asarray(rng.normal(size=(4, 3)).astype(np.float32))

  def loss(params, h0, xs):
    h, ys = lax.scan(lambda h, x: rnn_step(params, h, x), h0, xs)
    return jnp.sum(h * h) + jnp.sum(ys)

  with enable_x64():
    p64 = tuple(jnp.asarray(np.asarray(p), jnp.float64) for p in params)
    x64 = jnp.asarray(np.asarray(xs), jnp.float64)
    check_grads(loss, (p64, jnp.zeros(4, jnp.float64) + 0.1, x64), order=2,
                modes=("fwd", "rev"))


def test_scan_reverse_grad_and_consts():
  with enable_x64():
    w = jnp.array([0.3, -0.2], jnp.float64)
    xs = jnp.arange(6.0, dtype=jnp.float64).reshape(3, 2) / 5

    def f(w, xs):
      c, ys = lax.scan(lambda c, x: (jnp.sin(c * w + x), jnp.cos(c) * x), jnp.ones(2), xs,
                       reverse=True)
      return jnp.sum(c) + jnp.sum(ys ** 2)

    check_grads(f, (w, xs), order=2, modes=("fwd", "rev"))


def test_grad_of_jit_of_scan_and_jit_of_grad():
  rng = np.random.default_rng(3)
  params = _rnn_params(rng)
  xs = jnp.asarray(rng.normal(size=(5, 3)).astype(np.float32))

  def loss(params, xs):
    h, ys = lax.scan(lambda h, x: rnn_step(params, h, x), jnp.zeros(4), xs)
    return jnp.sum(ys) + jnp.sum(h)

  want = jax.grad(loss)(params, xs)
  _close(jax.jit(jax.grad(loss))(params, xs), want, scale=10)
  _close(jax.grad(jax.jit(loss))(params, xs), want, scale=10)


def test_linearize_keeps_weights_unstacked():
  """Residuals that only depend on loop constants are not stacked per iteration."""
  W = jnp.ones((3, 3))

  def f(h):
    return lax.scan(lambda h, _: (jnp.tanh(W @ h), None), h, None, length=5)[0]

  jaxpr = jax.make_jaxpr(lambda h: jax.linearize(f, h)[1](h))(jnp.ones(3))
  scans = [e for e in jaxpr.eqns if e.primitive.name == "scan"]
  lin = scans[-1]
  assert lin.params["num_consts"] >= 1
  assert all(v.aval.shape != (5, 3, 3) for v in lin.invars)


def test_scan_integer_carry_grad():
  def f(x):
    (i, y), _ = lax.scan(lambda c, _: ((c[0] + 1, c[1] * x), None), (0, 1.0), None, length=3)
    return y

  check_close(jax.grad(f)(2.0), np.float32(12.0))


# ---------------------------------------------------------------- vmap


@pytest.mark.parametrize("which", ["init", "xs", "consts", "all"])
def test_vmap_scan_vs_loop(which):
  rng = np.random.default_rng(4)
  B = 3
  W = jnp.asarray(rng.normal(size=(B, 4, 4)).astype(np.float32) * 0.4)
  h0 = jnp.asarray(rng.normal(size=(B, 4)).astype(np.float32))
  xs = jnp.asarray(rng.normal(size=(B, 5, 4)).astype(np.float32))

  def f(W, h0, xs):
    return lax.scan(lambda h, x: (jnp.tanh(h @ W + x), h.sum()), h0, xs)

  axes = {"init": (None, 0, None), "xs": (None, None, 0), "consts": (0, None, None),
          "all": (0, 0, 0)}[which]
  args = [W, h0, xs]
  got = jax.vmap(f, in_axes=axes)(*[a if ax == 0 else a[0] for a, ax in zip(args, axes)])
  loop = [f(*[a[b] if ax == 0 else a[0] for a, ax in zip(args, axes)]) for b in range(B)]
  want = jax.tree_util.tree_map(lambda *v: jnp.stack(v), *loop)
  _close(got, want, scale=4)
  got_jit = jax.jit(jax.vmap(f, in_axes=axes))(
      *[a if ax == 0 else a[0] for a, ax in zip(args, axes)])
  _close(got_jit, want, scale=4)


def test_vmap_scan_xs_batched_on_other_axis():
  xs = jnp.arange(12.0).reshape(4, 3)   # batch along axis 1, scan along axis 0 of each
  got = jax.vmap(lambda x: lax.scan(lambda c, v: (c + v, c), 0.0, x), in_axes=1)(xs)
  want = [lax.scan(lambda c, v: (c + v, c), 0.0, xs[:, b]) for b in range(3)]
  _close(got, jax.tree_util.tree_map(lambda *v: jnp.stack(v), *want))


def test_vmap_grad_scan_and_grad_vmap_scan():
  rng = np.random.default_rng(5)
  params = _rnn_params(rng)
  xs = jnp.asarray(rng.normal(size=(4, 6, 3)).astype(np.float32))

  def loss(params, xs):
    h, ys = lax.scan(lambda h, x: rnn_step(params, h, x), jnp.zeros(4), xs)
    return jnp.sum(ys) + jnp.sum(h)

  per_ex = jax.vmap(jax.grad(loss), in_axes=(None, 0))(params, xs)
  loop = [jax.grad(loss)(params, xs[b]) for b in range(4)]
  _close(per_ex, jax.tree_util.tree_map(lambda *v: jnp.stack(v), *loop), scale=10)
  _close(jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0)))(params, xs), per_ex, scale=10)
  total = jax.grad(lambda p: jnp.sum(jax.vmap(loss, in_axes=(None, 0))(p, xs)))(params)
  _close(total, jax.tree_util.tree_map(lambda v: v.sum(0), per_ex), scale=10)


def test_scan_collective_in_body_under_vmap():
  xs = jnp.arange(8.0).reshape(2, 4)   # vmap over axis 1 named i

  def f(x):
    return lax.scan(lambda c, v: (c + lax.psum(v, "i"), c), 0.0, x)

  got = jax.vmap(f, in_axes=1, axis_name="i")(xs)
  tot = np.asarray(xs).sum(1)
  check_close(got[0], np.full(4, tot.sum(), np.float32))
  check_close(jax.jit(jax.vmap(f, in_axes=1, axis_name="i"))(xs)[0],
              np.full(4, tot.sum(), np.float32))


# ---------------------------------------------------------------- errors


def test_scan_errors_match_jax():
  with pytest.raises(TypeError, match="carry input and carry output must have equal types"):
    lax.scan(lambda c, x: (c.astype(jnp.int32), x), 1.0, jnp.arange(3.0))
  with pytest.raises(TypeError, match="must have the same pytree structure"):
    lax.scan(lambda c, x: ((c, c), x), 1.0, jnp.arange(3.0))
  with pytest.raises(ValueError, match="different leading axis sizes: 3, 4"):
    lax.scan(lambda c, x: (c, x), 1.0, (jnp.arange(3.0), jnp.arange(4.0)))
  with pytest.raises(ValueError, match="no values to scan over and `length` not provided"):
    lax.scan(lambda c, x: (c, x), 1.0, None)
  with pytest.raises(ValueError, match="no leading axis to scan over"):
    lax.scan(lambda c, x: (c, x), 1.0, 3.0)
  with pytest.raises(ValueError, match="`length` argument of 4 which disagrees"):
    lax.scan(lambda c, x: (c, x), 1.0, jnp.ones(3), length=4)


def test_scan_error_texts_equal_jax():
  jax_ = pytest.importorskip("jax")
  cases = [
      (lambda L, np_: L.scan(lambda c, x: (c.astype(np_.int32), x), 1.0, np_.arange(3.0))),
      (lambda L, np_: L.scan(lambda c, x: (c, x), 1.0, (np_.arange(3.0), np_.arange(4.0)))),
      (lambda L, np_: L.scan(lambda c, x: (c, x), 1.0, None)),
      (lambda L, np_: L.scan(lambda c, x: (c, x), 1.0, np_.ones(3), length=4)),
  ]
  for case in cases:
    with pytest.raises(Exception) as ours:
      case(lax, jnp)
    with pytest.raises(Exception) as theirs:
      case(jax_.lax, jax_.numpy)
    assert type(ours.value).__name__ == type(theirs.value).__name__
    assert str(ours.value) == str(theirs.value)


# ---------------------------------------------------------------- fori_loop, map


def test_fori_loop_static_is_scan_and_differentiable():
  f = lambda x: lax.fori_loop(0, 5, lambda i, c: c * 1.5 + i, x)
  assert "scan" in str(jax.make_jaxpr(f)(1.0))
  ref = 1.0
  for i in range(5):
    ref = ref * 1.5 + i
  check_close(f(1.0), np.float32(ref))
  check_close(jax.jit(f)(1.0), np.float32(ref))
  check_close(jax.grad(f)(1.0), np.float32(1.5 ** 5))
  with enable_x64():
    check_grads(lambda x: lax.fori_loop(0, 3, lambda i, c: jnp.sin(c) * c, x),
                (jnp.float64(0.7),), order=2, modes=("fwd", "rev"))


def test_fori_loop_pytree_and_index_dtype():
  out = lax.fori_loop(2, 6, lambda i, c: (c[0] + i, c[1] * 2), (jnp.int32(0), 1.0))
  assert int(out[0]) == 2 + 3 + 4 + 5 and float(out[1]) == 16.0
  with pytest.raises(TypeError, match="must have equal types, got float32 and int32"):
    lax.fori_loop(0.0, 3, lambda i, c: c, 1.0)
  # float bounds of one dtype loop as JAX's: concrete ones count from int(lower)
  assert float(lax.fori_loop(jnp.float32(0.5), jnp.float32(3.0), lambda i, c: c + i,
                             0.0)) == 0.0 + 1.0 + 2.0
  n = jnp.float32(3.5)
  assert float(jax.jit(lambda n: lax.fori_loop(jnp.float32(0.5), n, lambda i, c: c + i,
                                               0.0))(n)) == 0.5 + 1.5 + 2.5


def test_fori_loop_dynamic_bounds_forward_only():
  f = lambda n, x: lax.fori_loop(0, n, lambda i, c: c * 2.0, x)
  check_close(jax.jit(f)(3, 1.0), np.float32(8.0))
  check_close(f(jnp.int32(4), 1.0), np.float32(16.0))
  check_close(jax.jvp(lambda x: f(3, x), (1.0,), (1.0,))[1], np.float32(8.0))


@pytest.mark.parametrize("batch_size", [None, 1, 3, 4, 10])
def test_map(batch_size):
  xs = {"a": jnp.arange(10.0), "b": jnp.arange(20.0).reshape(10, 2)}
  f = lambda d: jnp.sin(d["a"]) + d["b"].sum()
  got = lax.map(f, xs, batch_size=batch_size)
  check_close(got, np.sin(np.arange(10.0, dtype=np.float32))
              + np.arange(20.0, dtype=np.float32).reshape(10, 2).sum(1))
  check_close(jax.jit(lambda x: lax.map(f, x, batch_size=batch_size))(xs), got)


# ---------------------------------------------------------------- associative_scan


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 17), reverse=st.booleans())
def test_associative_scan_cumsum(n, reverse):
  x = np.arange(1, n + 1, dtype=np.float32)
  got = lax.associative_scan(jnp.add, jnp.asarray(x), reverse=reverse)
  want = np.cumsum(x[::-1])[::-1] if reverse else np.cumsum(x)
  check_close(got, want.astype(np.float32))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_associative_scan_pytree_axis_jit_vmap_grad(axis):
  rng = np.random.default_rng(6)
  a = jnp.asarray(rng.uniform(0.5, 1.0, size=(5, 6)).astype(np.float32))
  b = jnp.asarray(rng.normal(size=(5, 6)).astype(np.float32))

  def affine(x, y):  # composition of maps h -> a h + b
    return (x[0] * y[0], y[0] * x[1] + y[1])

  def ref(a, b):
    a, b = np.moveaxis(np.asarray(a), axis, 0), np.moveaxis(np.asarray(b), axis, 0)
    out_a, out_b, ca, cb = [], [], np.ones_like(a[0]), np.zeros_like(b[0])
    for i in range(a.shape[0]):
      ca, cb = ca * a[i], a[i] * cb + b[i]
      out_a.append(ca)
      out_b.append(cb)
    return np.moveaxis(np.stack(out_a), 0, axis), np.moveaxis(np.stack(out_b), 0, axis)

  f = lambda a, b: lax.associative_scan(affine, (a, b), axis=axis)
  _close(f(a, b), ref(a, b), scale=4)
  _close(jax.jit(f)(a, b), ref(a, b), scale=4)
  _close(jax.vmap(f, in_axes=(2 if axis == 0 else 0,) * 2, out_axes=(2 if axis == 0 else 0))(
      a[..., None] if False else jnp.stack([a, a], 2 if axis == 0 else 0),
      jnp.stack([b, b], 2 if axis == 0 else 0)),
         tuple(np.stack([r, r], 2 if axis == 0 else 0) for r in ref(a, b)), scale=4)
  with enable_x64():
    check_grads(lambda a, b: f(a, b)[1].sum(), (jnp.asarray(np.asarray(a), jnp.float64),
                                                jnp.asarray(np.asarray(b), jnp.float64)),
                order=2, modes=("fwd", "rev"))


def test_associative_scan_errors():
  with pytest.raises(ValueError, match="must have the same first dimension"):
    lax.associative_scan(lambda x, y: (x[0] + y[0], x[1] + y[1]),
                         (jnp.ones(3), jnp.ones(4)))


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("length", [37, 40])
def test_scan_chunked_lowering(monkeypatch, reverse, length):
  """Long scans with big outputs are lowered as chunks (one private function called per
  chunk) plus a tail; values must equal the Python loop for any length."""
  from pyjax._src.lax.control_flow import loops
  monkeypatch.setattr(loops, "_CHUNK_MIN_BLOCKS", 4)
  monkeypatch.setattr(loops, "_CHUNK_MIN_YS_BYTES", 0)
  xs = jnp.arange(length * 3, dtype=jnp.float32).reshape(length, 3) / 10
  f = lambda c, x: (jnp.sin(c) + x, (c * 2, x.sum()))
  got = jax.jit(lambda c, xs: lax.scan(f, c, xs, reverse=reverse, unroll=2))(jnp.zeros(3), xs)
  _close(got, py_scan(f, jnp.zeros(3), xs, reverse=reverse), scale=4)
  text = jax.jit(lambda c, xs: lax.scan(f, c, xs, reverse=reverse, unroll=2)).lower(
      jnp.zeros(3), xs).as_text()
  assert "scan_chunk" in text

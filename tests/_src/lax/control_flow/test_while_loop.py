"""lax.while_loop: eager, jit, vmap, jvp/linearize, errors; vs Python loops and real JAX."""
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import pyjax
import pyjax.numpy as jnp
from pyjax import lax
from pyjax.errors import TracerBoolConversionError
from pyjax.test_util import check_grads
from util import check_close, norm_jaxpr


def py_while(cond, body, val):
  while cond(val):
    val = body(val)
  return val


# ---------------------------------------------------------------- eager and jit


def collatz_steps(n):
  """(steps, n) with a pytree carry of mixed dtypes: int32, bool, float32."""
  def cond(c):
    return c["n"] != 1

  def body(c):
    n = c["n"]
    even = n % 2 == 0
    return {"n": jnp.where(even, n // 2, 3 * n + 1), "steps": c["steps"] + 1,
            "any_odd": c["any_odd"] | ~even, "acc": c["acc"] + n.astype(jnp.float32)}
  return lax.while_loop(cond, body, {"n": n, "steps": jnp.int32(0), "any_odd": False,
                                     "acc": jnp.float32(0)})


def collatz_ref(n):
  steps, acc, odd = 0, 0.0, False
  while n != 1:
    odd = odd or n % 2 == 1
    acc += n
    n = n // 2 if n % 2 == 0 else 3 * n + 1
    steps += 1
  return steps, odd, acc


@pytest.mark.parametrize("n", [1, 6, 27])
@pytest.mark.parametrize("jit", [False, True])
def test_pytree_mixed_dtypes(n, jit):
  f = pyjax.jit(collatz_steps) if jit else collatz_steps
  out = f(jnp.int32(n))
  steps, odd, acc = collatz_ref(n)
  assert out["steps"].dtype == np.int32 and out["any_odd"].dtype == np.bool_
  assert out["acc"].dtype == np.float32
  assert int(out["n"]) == 1 and int(out["steps"]) == steps
  assert bool(out["any_odd"]) == odd
  check_close(out["acc"], np.float32(acc))


@pytest.mark.parametrize("jit", [False, True])
def test_closure_and_zero_trips(jit):
  w = jnp.array([1.0, 2.0, 3.0])

  def f(x, limit):
    return lax.while_loop(lambda c: c[1] < limit, lambda c: (c[0] * w + 1.0, c[1] + 1),
                          (x, 0))

  g = pyjax.jit(f) if jit else f
  x = np.array([0.5, -1.0, 2.0], np.float32)
  for limit in [0, 1, 4]:
    ref = py_while(lambda c: c[1] < limit, lambda c: (c[0] * np.asarray(w) + 1, c[1] + 1),
                   (x, 0))
    out = g(x, limit)
    check_close(out[0], ref[0].astype(np.float32))
    assert int(out[1]) == ref[1]


def test_closure_over_outer_tracer_is_an_operand():
  def f(x, s):
    return lax.while_loop(lambda c: c < 100.0, lambda c: c * s, x)

  jaxpr = pyjax.make_jaxpr(f)(1.0, 3.0)
  eqn = jaxpr.eqns[-1]
  assert eqn.primitive is lax.while_p and eqn.params["body_nconsts"] == 1
  check_close(pyjax.jit(f)(1.0, 3.0), np.float32(243.0))
  check_close(f(2.0, 5.0), np.float32(250.0))


def test_nested_and_with_scan():
  def inner(i):
    return lax.while_loop(lambda c: c[0] < i, lambda c: (c[0] + 1, c[1] + c[0]), (0, 0))[1]

  def outer(n):
    return lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] + inner(c[0])),
                          (0, 0))[1]

  ref = sum(sum(range(i)) for i in range(7))
  assert int(outer(7)) == ref
  assert int(pyjax.jit(outer)(7)) == ref

  def in_scan(xs):
    return lax.scan(lambda acc, x: (acc + lax.while_loop(lambda v: v < x, lambda v: v * 2.0,
                                                         1.0), None), 0.0, xs)[0]
  xs = np.array([3.0, 10.0, 0.5], np.float32)
  ref = sum(py_while(lambda v: v < x, lambda v: v * 2, 1.0) for x in xs)
  check_close(in_scan(xs), np.float32(ref))
  check_close(pyjax.jit(in_scan)(xs), np.float32(ref))


def test_x64_float64(x64):
  f = lambda x: lax.while_loop(lambda c: c[0] < 30, lambda c: (c[0] + 1, c[1] * 1.1), (0, x))
  out = pyjax.jit(f)(jnp.float64(1.0))
  assert out[1].dtype == np.float64
  check_close(out[1], np.float64(1.1) ** 30, dtype=np.float64, scale=10)


def test_disable_jit_runs_python_loop():
  seen = []

  def body(c):
    seen.append(type(c))
    return c + 1

  pyjax.config.update("jax_disable_jit", True)
  try:
    assert int(lax.while_loop(lambda c: c < 3, body, jnp.int32(0))) == 3
  finally:
    pyjax.config.update("jax_disable_jit", False)
  assert len(seen) == 3


def test_fori_loop_dynamic_bounds_uses_while():
  def f(n, x):
    return lax.fori_loop(0, n, lambda i, v: v + i * x, 0.0)
  jaxpr = pyjax.make_jaxpr(f)(5, 2.0)
  assert any(e.primitive is lax.while_p for e in jaxpr.eqns)
  check_close(pyjax.jit(f)(5, 2.0), np.float32(20.0))


# ---------------------------------------------------------------- weak types


def test_weak_types_like_jax():
  jax = pytest.importorskip("jax")

  def cases(lax_, jnp_):
    return [
        lax_.while_loop(lambda c: c < 10, lambda c: (c + 1.0).astype(jnp_.float32), 0),
        lax_.while_loop(lambda c: c < 10, lambda c: c + jnp_.float32(1), 1.0),
        lax_.while_loop(lambda c: c < 10, lambda c: c + 1, 1.0),
        lax_.while_loop(lambda c: c < 10, lambda c: c + 1, jnp_.float32(1.0)),
        lax_.while_loop(lambda c: c < 10, lambda c: c + jnp_.int32(1), 1),
        lax_.while_loop(lambda c: c < 10, lambda c: c + jnp_.int8(1), 1.0),
        lax_.while_loop(lambda c: c < 10, lambda c: (c + 1.0).astype(jnp_.float16), 1),
        lax_.while_loop(lambda c: c > 10, lambda c: c + jnp_.float32(1), 1.0),
    ]
  for ours, theirs in zip(cases(lax, jnp), cases(jax.lax, jax.numpy)):
    assert ours.dtype == theirs.dtype and ours.weak_type == theirs.weak_type, (ours, theirs)
    check_close(ours, np.asarray(theirs))


# ---------------------------------------------------------------- printing


def test_jaxpr_matches_jax():
  jax = pytest.importorskip("jax")

  def make(lax_):
    return lambda x: lax_.while_loop(lambda c: c[1] < 10,
                                     lambda c: (c[0] * x, c[1] + 1), (0.5, 0))
  ours = str(pyjax.make_jaxpr(make(lax))(1.0))
  theirs = str(jax.make_jaxpr(make(jax.lax))(1.0))
  assert norm_jaxpr(ours) == norm_jaxpr(theirs)
  assert "while[" in ours and "body_nconsts=1" in ours and "cond_nconsts=0" in ours


def test_jvp_jaxpr_matches_jax():
  jax = pytest.importorskip("jax")

  def make(lax_, jax_):
    f = lambda x: lax_.while_loop(lambda c: c[1] < 10, lambda c: (c[0] * x, c[1] + 1),
                                  (0.5, 0))[0]
    return lambda x, t: jax_.jvp(f, (x,), (t,))
  ours = pyjax.make_jaxpr(make(lax, pyjax))(1.0, 1.0).eqns[0]
  theirs = jax.make_jaxpr(make(jax.lax, jax))(1.0, 1.0).eqns[0]
  assert ours.primitive.name == theirs.primitive.name == "while"
  for k in ("body_jaxpr", "cond_jaxpr"):  # JAX prints unused binders as _: compare bodies
    assert norm_jaxpr(str(ours.params[k])) == norm_jaxpr(str(theirs.params[k]))
  for k in ("body_nconsts", "cond_nconsts"):
    assert ours.params[k] == theirs.params[k]
  assert [float(v.val) for v in ours.invars[2:]] == [float(v.val) for v in theirs.invars[2:]]


# ---------------------------------------------------------------- vmap


def halve_until_small(x, tol):
  """Trip count depends on x: a batched predicate under vmap."""
  return lax.while_loop(lambda c: jnp.abs(c[0]) > tol,
                        lambda c: (c[0] * 0.5, c[1] + 1, c[2] + c[0]), (x, 0, 0.0))


def halve_ref(x, tol):
  n, acc = 0, 0.0
  x = np.float32(x)
  while abs(x) > tol:
    acc += x
    x, n = np.float32(x * 0.5), n + 1
  return x, n, acc


@pytest.mark.parametrize("jit", [False, True])
def test_vmap_batched_predicate(jit, rng):
  xs = rng.uniform(-100, 100, 7).astype(np.float32)
  xs[2] = 0.0  # a lane that never runs
  f = pyjax.vmap(halve_until_small, in_axes=(0, None))
  f = pyjax.jit(f) if jit else f
  out = f(xs, 1.0)
  for i, x in enumerate(xs):
    rx, rn, racc = halve_ref(x, 1.0)
    check_close(out[0][i], np.float32(rx))
    assert int(out[1][i]) == rn
    check_close(out[2][i], np.float32(racc), scale=4)


def test_vmap_batched_predicate_from_consts(rng):
  tols = rng.uniform(0.1, 10, 5).astype(np.float32)
  out = pyjax.jit(pyjax.vmap(halve_until_small, in_axes=(None, 0)))(64.0, tols)
  for i, t in enumerate(tols):
    assert int(out[1][i]) == halve_ref(64.0, t)[1]


def test_vmap_unbatched_predicate_keeps_counter_unbatched():
  f = lambda x: lax.while_loop(lambda c: c[1] < 4, lambda c: (c[0] * 2.0 + c[1], c[1] + 1),
                               (x, 0))
  jaxpr = pyjax.make_jaxpr(pyjax.vmap(f))(jnp.ones(3))
  (w,) = [e for e in jaxpr.eqns if e.primitive is lax.while_p]
  assert [v.aval.shape for v in w.outvars] == [(3,), ()]
  xs = np.array([1.0, -2.0, 0.5], np.float32)
  for g in (pyjax.vmap(f), pyjax.jit(pyjax.vmap(f))):
    out = g(xs)
    check_close(out[0], np.array([py_while(lambda c: c[1] < 4,
                                           lambda c: (c[0] * 2 + c[1], c[1] + 1),
                                           (x, 0))[0] for x in xs], np.float32))
    np.testing.assert_array_equal(out[1], [4, 4, 4])


def test_vmap_axes_and_nested(rng):
  xs = rng.uniform(-50, 50, (3, 4)).astype(np.float32)
  f = lambda x: halve_until_small(x, 2.0)[1]
  out = pyjax.vmap(pyjax.vmap(f), in_axes=1, out_axes=1)(xs)
  ref = np.array([[halve_ref(x, 2.0)[1] for x in row] for row in xs])
  np.testing.assert_array_equal(out, ref)
  np.testing.assert_array_equal(pyjax.jit(pyjax.vmap(pyjax.vmap(f)))(xs), ref)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=6), st.integers(0, 3))
def test_vmap_counts_hypothesis(ns, start):
  """Each lane counts to its own n; done lanes must keep their carry unchanged."""
  f = lambda n: lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 2), (start, 1))
  out = pyjax.vmap(f)(jnp.array(ns, jnp.int32))
  np.testing.assert_array_equal(out[0], [max(n, start) for n in ns])
  np.testing.assert_array_equal(out[1], [2 ** max(n - start, 0) for n in ns])


def test_vmap_of_jvp_and_jvp_of_vmap(rng):
  xs = rng.uniform(1, 30, 5).astype(np.float32)
  g = lambda x: halve_until_small(x, 1.0)[2]
  _, t1 = pyjax.vmap(lambda x: pyjax.jvp(g, (x,), (1.0,)))(xs)
  _, t2 = pyjax.jvp(pyjax.vmap(g), (xs,), (np.ones(5, np.float32),))
  ref = [sum(0.5 ** k for k in range(halve_ref(x, 1.0)[1])) for x in xs]
  check_close(t1, np.float32(ref))
  check_close(t2, np.float32(ref))


# ---------------------------------------------------------------- autodiff


def power_loop(x, y):
  """x ** 5 * y by repeated multiplication, with an integer counter."""
  return lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * x), (0, y))[1]


def test_jvp_vs_jax(rng):
  jax = pytest.importorskip("jax")
  x, y = np.float32(1.3), np.float32(-0.7)
  tx, ty = np.float32(0.4), np.float32(2.0)
  out, tan = pyjax.jvp(power_loop, (x, y), (tx, ty))
  jout, jtan = jax.jvp(lambda x, y: jax.lax.while_loop(
      lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * x), (0, y))[1], (x, y), (tx, ty))
  check_close(out, np.asarray(jout))
  check_close(tan, np.asarray(jtan), scale=2)
  check_close(tan, np.float32(5 * x ** 4 * y * tx + x ** 5 * ty), scale=4)


def test_jacfwd_and_jit():
  x = np.array([0.5, 1.5, -2.0], np.float32)
  f = lambda v: lax.while_loop(lambda c: c[1] < 3, lambda c: (jnp.sin(c[0]) * v, c[1] + 1),
                               (v, 0))[0]
  jac = pyjax.jacfwd(f)(x)
  jac_jit = pyjax.jit(pyjax.jacfwd(f))(x)
  jax = pytest.importorskip("jax")
  jf = lambda v: jax.lax.while_loop(lambda c: c[1] < 3,
                                    lambda c: (jax.numpy.sin(c[0]) * v, c[1] + 1), (v, 0))[0]
  ref = np.asarray(jax.jacfwd(jf)(x))
  check_close(jac, ref, scale=4)
  check_close(jac_jit, ref, scale=4)


def test_check_grads_forward_second_order():
  f = lambda x: lax.while_loop(lambda c: c[1] < 4, lambda c: (jnp.sin(c[0]) + c[0] * x, c[1] + 1),
                               (x, 0))[0]
  check_grads(f, (np.float32(0.7),), order=2, modes=["fwd"])


def test_linearize():
  f = lambda x: halve_until_small(x, 1.0)[2] * x
  x = np.float32(20.0)
  y, lin = pyjax.linearize(f, x)
  steps = halve_ref(x, 1.0)[1]
  acc = halve_ref(x, 1.0)[2]
  check_close(y, np.float32(acc * x))
  dacc = sum(0.5 ** k for k in range(steps))
  check_close(lin(np.float32(1.0)), np.float32(dacc * x + acc), scale=4)
  check_close(pyjax.jit(lin)(np.float32(2.0)), np.float32(2 * (dacc * x + acc)), scale=4)


def test_linearize_with_unknown_body_const():
  """Tangent flows in through a body const only (the carry starts known)."""
  f = lambda s: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * s), (0, 1.0))[1]
  y, lin = pyjax.linearize(f, np.float32(2.0))
  check_close(y, np.float32(8.0))
  check_close(lin(np.float32(1.0)), np.float32(12.0))


GRAD_MSG = ("Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop "
            "with dynamic start/stop values. Try using lax.scan, or using fori_loop with "
            "static start/stop.")


def test_grad_raises_like_jax():
  jax = pytest.importorskip("jax")
  f = lambda x: lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, x)
  with pytest.raises(ValueError) as ours:
    pyjax.grad(f)(1.0)
  with pytest.raises(ValueError) as theirs:
    jax.grad(lambda x: jax.lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, x))(1.0)
  assert str(ours.value) == str(theirs.value) == GRAD_MSG
  with pytest.raises(ValueError, match=re.escape(GRAD_MSG)):
    pyjax.jit(pyjax.grad(lambda x, n: lax.fori_loop(0, n, lambda i, v: v * x, x)))(1.0, 3)


def test_grad_through_known_loop_is_fine():
  """A loop that only touches non-differentiated values does not block reverse mode."""
  def f(x):
    n = lax.while_loop(lambda c: c < 40, lambda c: c * 3, 1)
    return x * n
  check_close(pyjax.grad(f)(2.0), np.float32(81.0))


# ---------------------------------------------------------------- errors


def _both_raise(make):
  jax = pytest.importorskip("jax")
  with pytest.raises(Exception) as ours:
    make(lax, jnp)
  with pytest.raises(Exception) as theirs:
    make(jax.lax, jax.numpy)
  assert type(ours.value).__name__ == type(theirs.value).__name__
  return str(ours.value), str(theirs.value)


@pytest.mark.parametrize("case", [
    lambda lax_, jnp_: lax_.while_loop(lambda c: c, lambda c: c, 1.0),
    lambda lax_, jnp_: lax_.while_loop(lambda c: jnp_.array([True, False]), lambda c: c, 1.0),
    lambda lax_, jnp_: lax_.while_loop(lambda c: (c < 10, c < 1), lambda c: c, 1),
    lambda lax_, jnp_: lax_.while_loop(lambda c: c < 1, lambda c: (c, c), 1.0),
    lambda lax_, jnp_: lax_.while_loop(lambda c: c[0] < 10, lambda c: [c[0]], (1,)),
    lambda lax_, jnp_: lax_.while_loop(lambda c: c[0] < 10,
                                       lambda c: (c[0] + 1, c[1].astype(jnp_.int32)), (0, 1.0)),
    lambda lax_, jnp_: lax_.while_loop(
        lambda c: c[0] < 10, lambda c: (c[0].astype(jnp_.int8), c[1].reshape(1)),
        (jnp_.int32(1), jnp_.zeros(()))),
    lambda lax_, jnp_: lax_.while_loop(lambda c: c["a"] < 10,
                                       lambda c: {"a": c["a"].astype(jnp_.int8)},
                                       {"a": jnp_.int32(1)}),
    lambda lax_, jnp_: lax_.while_loop(1, lambda c: c, 1),
])
def test_errors_match_jax(case):
  ours, theirs = _both_raise(case)
  assert ours.replace("pyjax.", "jax.") == theirs


def test_python_while_on_tracer_under_jit():
  @pyjax.jit
  def f(x):
    while x < 3:
      x = x + 1
    return x
  with pytest.raises(TracerBoolConversionError, match="Attempted boolean conversion"):
    f(1.0)
  # a concrete (static) bound keeps working
  g = pyjax.jit(lambda x, n: py_while(lambda c: c[1] < n, lambda c: (c[0] * 2, c[1] + 1),
                                      (x, 0))[0], static_argnums=1)
  check_close(g(1.5, 3), np.float32(12.0))


def test_rejection_loop_with_keys():
  """The shape of a rejection sampler: the body draws a new value ignoring the old one
  (which only the cond reads); eager, jit, vmap with a batched predicate agree."""
  from pyjax import random

  def sample(key):
    def body(c):
      k, sub = random.split(c[0])
      return k, random.uniform(sub), c[2] + 1
    return lax.while_loop(lambda c: c[1] < 0.8, body, (key, jnp.float32(0.0), 0))[1:]

  keys = random.split(random.key(3), 6)
  eager = [sample(k) for k in keys]
  for f in (pyjax.vmap(sample), pyjax.jit(pyjax.vmap(sample))):
    u, n = f(keys)
    check_close(u, np.array([e[0] for e in eager]))
    np.testing.assert_array_equal(n, [int(e[1]) for e in eager])
  assert all(float(e[0]) >= 0.8 for e in eager)
  u, n = pyjax.jit(sample)(keys[0])
  check_close(u, eager[0][0])
  assert int(n) == int(eager[0][1])


@pytest.mark.parametrize("body", [
    lambda c: (c[0] + 3, c[0].astype(jnp.float32), c[0] * 2),  # cond reads an ignored carry
    lambda c: (c[0] + 3, c[0].astype(jnp.float32), c[2]),
    lambda c: (c[2] + 3, c[2].astype(jnp.float32), c[2] + 1),  # carry 0 read by cond only
])
def test_body_ignoring_carries_jit_matches_eager(body):
  f = lambda k: lax.while_loop(lambda c: (c[1] < 10.0) & (c[0] < 10), body, (k, 0.0, k))
  ref = py_while(lambda c: bool(c[1] < 10.0) and bool(c[0] < 10), body,
                 (jnp.int32(1), jnp.float32(0.0), jnp.int32(1)))
  for g in (f, pyjax.jit(f)):
    out = g(jnp.int32(1))
    for o, r in zip(out, ref):
      check_close(o, np.asarray(r).astype(o.dtype))


def test_compositions_vs_jax():
  jax = pytest.importorskip("jax")

  def mk(lax_, jnp_):
    def f(x):  # unbatched predicate
      return lax_.while_loop(lambda c: c[0] < 4, lambda c: (c[0] + 1, jnp_.sin(c[1]) * x),
                             (0, x))[1]

    def g(x):  # predicate depends on x: batched under vmap
      return lax_.while_loop(lambda c: c[1] < 10.0, lambda c: (c[0] + 1, c[1] * 1.5 + x),
                             (0, x))[1]
    return f, g

  (pf, pg), (jf, jg) = mk(lax, jnp), mk(jax.lax, jax.numpy)
  xs = np.array([0.3, 1.2, 2.0], np.float32)
  x = np.float32(0.7)
  cases = [
      (lambda j, f, g: j.jit(lambda x: j.jvp(f, (x,), (1.0,)))(x)),
      (lambda j, f, g: j.jit(lambda x: j.linearize(f, x)[1](2.0))(x)),
      (lambda j, f, g: j.jit(j.vmap(lambda x: j.linearize(g, x)[1](1.0)))(xs)),
      (lambda j, f, g: j.jacfwd(j.jacfwd(f))(x)),
      (lambda j, f, g: j.jit(j.vmap(j.jacfwd(j.jacfwd(g))))(xs)),
  ]
  for case in cases:
    ours, theirs = case(pyjax, pf, pg), case(jax, jf, jg)
    for a, b in zip(pyjax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs)):
      check_close(a, np.asarray(b), scale=10)


def test_vmap_axis_name_in_body():
  xs = np.array([0.3, 1.2, 2.0], np.float32)
  h = lambda x: lax.while_loop(lambda c: c < 20.0, lambda c: c + lax.psum(x, "i"), 0.0)
  check_close(pyjax.vmap(h, axis_name="i")(xs), np.full(3, 21.0, np.float32))


def test_grad_of_scan_around_while():
  def known(x):  # the while only sees non-differentiated values: reverse mode works
    n = lax.while_loop(lambda c: c < 5, lambda c: c + 2, 0)
    return lax.scan(lambda a, _: (a * x + n, None), 1.0, None, length=3)[0]
  check_close(pyjax.grad(known)(0.5), np.float32(12.75))  # n = 6: a3 = (x^2 + 6x + 6)x + 6

  def through(x):  # c -> c * x + 1 until c >= 5, from the scan's carry
    return lax.scan(lambda a, _: (lax.while_loop(lambda c: c < 5.0, lambda c: c * x + 1, a),
                                  None), 1.0, None, length=2)[0]
  y, t = pyjax.jvp(through, (2.0,), (1.0,))
  check_close(y, np.float32(7.0))
  check_close(t, np.float32(5.0))
  with pytest.raises(ValueError, match=re.escape(GRAD_MSG)):
    pyjax.grad(through)(2.0)

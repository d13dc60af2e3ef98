"""lax.cond / lax.switch: eager, jit, grad, vmap and their compositions, jaxpr text and
errors; vs Python ifs and real JAX."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import pyjax
import pyjax.numpy as jnp
from pyjax import lax
from pyjax.errors import TracerBoolConversionError
from pyjax.test_util import check_grads
from util import check_close, enable_x64, norm_jaxpr

def branches(p, x, y):
  """A cond over a pytree operand with mixed dtypes (f32 array, i32 scalar, bool)."""
  def t(o):
    return {"a": jnp.sin(o["x"]) * o["y"], "n": o["n"] + 1, "b": ~o["b"]}

  def f(o):
    return {"a": o["x"] * o["x"] - o["y"], "n": o["n"] * 2, "b": o["b"]}
  return lax.cond(p, t, f, {"x": x, "y": y, "n": jnp.int32(3), "b": True})


def branches_ref(p, x, y):
  if p:
    return {"a": np.sin(x) * y, "n": 4, "b": False}
  return {"a": x * x - y, "n": 6, "b": True}


def three(i, x):
  return lax.switch(i, [lambda a: a * 2.0, jnp.sin, lambda a: a ** 3], x)


def three_ref(i, x):
  i = min(max(int(i), 0), 2)
  return [lambda a: a * 2.0, np.sin, lambda a: a ** 3][i](x)


def _check_tree(got, want):
  assert set(got) == set(want)
  for k in want:
    check_close(got[k], want[k], np.asarray(got[k]).dtype)


# ---------------------------------------------------------------- eager and jit


@pytest.mark.parametrize("p", [True, False])
def test_cond_pytree_mixed_dtypes(p, rng):
  x = rng.standard_normal(4).astype(np.float32)
  want = branches_ref(p, x, np.float32(0.5))
  _check_tree(branches(p, x, np.float32(0.5)), want)
  _check_tree(pyjax.jit(branches)(p, x, np.float32(0.5)), want)
  out = pyjax.jit(branches)(p, x, np.float32(0.5))
  assert out["n"].dtype == np.int32 and out["b"].dtype == np.bool_


@pytest.mark.parametrize("pred", [1, 0, -2, 0.5, 0.0, np.int8(3), np.float32(0)])
def test_cond_numeric_pred(pred):
  f = lambda p, x: lax.cond(p, lambda v: v + 1.0, lambda v: v - 1.0, x)
  want = 3.0 if pred != 0 else 1.0
  assert float(f(pred, 2.0)) == want
  assert float(pyjax.jit(f)(pred, 2.0)) == want


def test_cond_operand_keyword_and_no_operands():
  assert float(lax.cond(True, lambda x: x * 2, lambda x: x, operand=3.0)) == 6.0
  assert float(lax.cond(False, lambda: 1.0, lambda: 2.0)) == 2.0
  assert float(pyjax.jit(lambda p: lax.cond(p, lambda: 1.0, lambda: 2.0))(True)) == 1.0
  with pytest.raises(TypeError, match="if 'operand' keyword is passed"):
    lax.cond(True, lambda x: x, lambda x: x, 1.0, operand=2.0)


@pytest.mark.parametrize("i", [-3, 0, 1, 2, 7])
def test_switch_clamps_index(i):
  x = np.float32(0.7)
  check_close(three(i, x), three_ref(i, x))
  check_close(pyjax.jit(three)(i, x), three_ref(i, x))
  check_close(pyjax.jit(three)(np.int32(i), x), three_ref(i, x))


@settings(max_examples=25, deadline=None)
@given(st.integers(-5, 8), st.floats(-3, 3, width=32))
def test_switch_hypothesis(i, x):
  check_close(three(i, np.float32(x)), three_ref(i, np.float32(x)))


def test_switch_single_branch_is_a_call():
  seen = []
  out = lax.switch(5, [lambda x: seen.append(1) or x + 1], 1.0)
  assert float(out) == 2.0 and seen == [1]


def test_concrete_pred_traces_both_runs_one(monkeypatch):
  from pyjax._src.lax.control_flow import conditionals
  traced, run = [], []
  orig = conditionals.eval_closed

  def spy(closed, *args):
    run.append(closed)
    return orig(closed, *args)

  monkeypatch.setattr(conditionals, "eval_closed", spy)

  def t(x):
    traced.append("t")
    return x + 1.0

  def f(x):
    traced.append("f")
    return x - 1.0

  assert float(lax.cond(True, t, f, 1.0)) == 2.0
  assert sorted(traced) == ["f", "t"] and len(run) == 1


def test_disable_jit_runs_python_if():
  seen = []
  pyjax.config.update("jax_disable_jit", True)
  try:
    out = lax.cond(False, lambda x: seen.append("t") or x, lambda x: seen.append("f") or -x,
                   2.0)
    out2 = lax.switch(9, [lambda x: x, lambda x: seen.append("s1") or x * 3], 2.0)
  finally:
    pyjax.config.update("jax_disable_jit", False)
  assert float(out) == -2.0 and float(out2) == 6.0 and seen == ["f", "s1"]


def test_x64_dtypes(rng):
  with enable_x64():
    x = rng.standard_normal(3)
    out = lax.cond(True, lambda v: (v * 2, jnp.int64(7)), lambda v: (v, jnp.int64(1)), x)
    assert out[0].dtype == np.float64 and out[1].dtype == np.int64
    check_close(pyjax.jit(lambda v: lax.cond(v.sum() > 0, jnp.sin, jnp.cos, v))(x),
                np.sin(x) if x.sum() > 0 else np.cos(x))


def test_nested_cond_and_switch():
  def f(x):
    return lax.cond(x > 0, lambda x: lax.switch(jnp.int32(x), [jnp.sin, jnp.cos, jnp.exp], x),
                    lambda x: x * x, x)
  for v in [-1.5, 0.5, 1.5, 2.5, 7.0]:
    want = v * v if v <= 0 else [np.sin, np.cos, np.exp][min(int(v), 2)](np.float32(v))
    check_close(f(v), want)
    check_close(pyjax.jit(f)(v), want)


def test_cond_inside_scan_and_while():
  def step(c, x):
    c = lax.cond(x > 0, lambda c: c + x, lambda c: c * 0.5, c)
    return c, c
  xs = np.array([1.0, -2.0, 3.0, -1.0], np.float32)
  c, ys = pyjax.jit(lambda xs: lax.scan(step, 1.0, xs))(xs)
  ref, acc = 1.0, []
  for x in xs:
    ref = ref + x if x > 0 else ref * 0.5
    acc.append(ref)
  check_close(c, np.float32(ref))
  check_close(ys, np.asarray(acc, np.float32))
  out = pyjax.jit(lambda n: lax.while_loop(
      lambda s: s[0] != 1, lambda s: (lax.cond(s[0] % 2 == 0, lambda n: n // 2,
                                               lambda n: 3 * n + 1, s[0]), s[1] + 1),
      (n, 0)))(np.int32(27))
  assert int(out[1]) == 111


# ---------------------------------------------------------------- weak types and jaxprs


def test_weak_type_follows_false_branch():
  """Outputs take the types of branch 0 (false_fun), weak type included, as in JAX."""
  jax = pytest.importorskip("jax")
  cases = [("weak", "strong"), ("strong", "weak"), ("weak", "weak"), ("arg", "arg")]

  def mk(kind, n):
    return {"weak": lambda x: 1.0, "strong": lambda x: n.float32(2),
            "arg": lambda x: x}[kind]
  for t, f in cases:
    ours = lax.cond(True, mk(t, jnp), mk(f, jnp), 0.0)
    want = jax.lax.cond(True, mk(t, jax.numpy), mk(f, jax.numpy), 0.0)
    assert (ours.weak_type, ours.dtype) == (want.weak_type, want.dtype), (t, f)


def _same_jaxpr(jax, f_ours, f_jax, *args):
  ours = norm_jaxpr(str(pyjax.make_jaxpr(f_ours)(*args)))
  theirs = norm_jaxpr(str(jax.make_jaxpr(f_jax)(*args)))
  assert ours == theirs, f"\nours:   {ours}\ntheirs: {theirs}"


def test_jaxpr_text_matches_jax():
  jax = pytest.importorskip("jax")

  def mk(l, n):
    def f(p, x, y):
      return l.cond(p, lambda a, b: (a * 2.0, b), lambda a, b: (a + 1.0, b), x, y)

    def g(i, x):
      return l.switch(i, [lambda a: a * 2.0, lambda a: n.sin(a), lambda a: a], x)

    def h(p, x):
      return l.cond(p, lambda v: -v, lambda v: v, x)
    return f, g, h

  (f, g, h), (jf, jg, jh) = mk(lax, jnp), mk(jax.lax, jax.numpy)
  _same_jaxpr(jax, f, jf, True, 1.0, 2)
  _same_jaxpr(jax, g, jg, 1, 1.0)
  _same_jaxpr(jax, h, jh, 1, 2.0)
  _same_jaxpr(jax, lambda x: lax.cond(True, jnp.sin, jnp.cos, x),
              lambda x: jax.lax.cond(True, jax.numpy.sin, jax.numpy.cos, x), 1.0)


def test_vmap_batched_pred_jaxpr_matches_jax():
  jax = pytest.importorskip("jax")
  _same_jaxpr(jax, pyjax.vmap(lambda p, x: lax.cond(p, jnp.sin, jnp.cos, x)),
              jax.vmap(lambda p, x: jax.lax.cond(p, jax.numpy.sin, jax.numpy.cos, x)),
              np.array([True, False]), np.ones(2, np.float32))


# ---------------------------------------------------------------- autodiff


def f2(x, y):
  """Both branches use x and y (closed over); outputs of two shapes."""
  return lax.cond(x.sum() > 0, lambda a: (jnp.sin(a) * y, a.sum() * y),
                  lambda a: (a * a, jnp.cos(y)), x)


def f2_scalar(x, y):
  a, b = f2(x, y)
  return a.sum() + b


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_grads_second_order(sign):
  x = sign * np.array([1.0, 2.0, -0.5], np.float32)
  check_grads(f2_scalar, (x, np.float32(0.7)), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("i", [0, 1, 2])
def test_switch_grads(i):
  check_grads(lambda x: three(i, x), (np.float32(0.3),), order=2, modes=("fwd", "rev"))


def test_grad_vs_jax():
  jax = pytest.importorskip("jax")
  x = np.array([1.0, 2.0, -0.5], np.float32)
  for s in (1.0, -1.0):
    ours = pyjax.grad(f2_scalar, (0, 1))(s * x, np.float32(0.7))

    def jf(x, y):
      a, b = jax.lax.cond(x.sum() > 0, lambda a: (jax.numpy.sin(a) * y, a.sum() * y),
                          lambda a: (a * a, jax.numpy.cos(y)), x)
      return a.sum() + b
    want = jax.grad(jf, (0, 1))(s * x, np.float32(0.7))
    for o, w in zip(ours, want):
      check_close(o, w, np.float32, scale=4)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_jit_grad(sign):
  x = sign * np.array([1.0, 2.0, -0.5], np.float32)
  g = pyjax.jit(pyjax.grad(f2_scalar, (0, 1)))(x, np.float32(0.7))
  want = pyjax.grad(f2_scalar, (0, 1))(x, np.float32(0.7))
  for a, b in zip(g, want):
    check_close(a, b, np.float32, scale=4)
  check_grads(pyjax.jit(f2_scalar), (x, np.float32(0.7)), order=2, modes=("fwd", "rev"))


def test_grad_closure_over_outer_tracers():
  def k(x, y):
    return lax.cond(x > 0, lambda: x * y, lambda: y)
  assert [float(v) for v in pyjax.grad(k, (0, 1))(2.0, 3.0)] == [3.0, 2.0]
  assert [float(v) for v in pyjax.grad(k, (0, 1))(-2.0, 3.0)] == [0.0, 1.0]
  assert float(pyjax.jacfwd(lambda y: pyjax.grad(k)(2.0, y))(3.0)) == 1.0
  _, lin = pyjax.linearize(lambda x: k(x, 3.0), 2.0)
  assert float(lin(1.0)) == 3.0


def test_grad_integer_operand_and_output():
  def f(x, n):
    out, m = lax.cond(n > 2, lambda x, n: (x * n.astype(jnp.float32), n - 1),
                      lambda x, n: (jnp.exp(x), n + 1), x, n)
    return out * m.astype(jnp.float32)
  check_close(pyjax.grad(f)(0.5, np.int32(4)), np.float32(12.0))
  check_close(pyjax.grad(f)(0.5, np.int32(1)), np.float32(2 * np.exp(0.5)))
  check_grads(lambda x: f(x, np.int32(1)), (np.float32(0.5),), order=2)


def test_grad_jaxpr_has_one_cond_per_direction():
  """Forward: a known cond that also returns the residuals; backward: one cond of the
  transposed branches."""
  text = str(pyjax.make_jaxpr(pyjax.grad(lambda x: lax.cond(x > 0, jnp.sin, jnp.cos, x)))(1.0))
  assert text.count("cond[") == 2


def test_residuals_shared_across_branches():
  """Each branch's residuals of one type share slots: four f32[3] residuals per branch
  make four outputs beside the primal, not eight."""
  f = lambda x: lax.cond(x.sum() > 0, lambda v: jnp.sin(v) * jnp.cos(v),
                         lambda v: jnp.exp(v) * jnp.tanh(v), x).sum()
  jaxpr = pyjax.make_jaxpr(pyjax.grad(f))(np.ones(3, np.float32))
  fwd = next(e for e in jaxpr.eqns if e.primitive.name == "cond")
  assert len(fwd.outvars) == 5
  check_grads(f, (np.array([0.5, -1.0, 2.0], np.float32),), order=2)


# ---------------------------------------------------------------- vmap


def test_vmap_batched_pred_vs_loop(rng):
  ps = np.array([True, False, True, False])
  x = rng.standard_normal(4).astype(np.float32)
  want = [branches_ref(p, v, np.float32(0.5)) for p, v in zip(ps, x)]
  for fn in (pyjax.vmap(branches, (0, 0, None)), pyjax.jit(pyjax.vmap(branches, (0, 0, None)))):
    out = fn(ps, x, np.float32(0.5))
    for k in ("a", "n", "b"):
      check_close(out[k], np.array([w[k] for w in want]).astype(np.asarray(out[k]).dtype))


def test_vmap_unbatched_pred_batched_operand(rng):
  x = rng.standard_normal((3, 2)).astype(np.float32)
  for p in (True, False):
    out = pyjax.vmap(lambda v: branches(p, v, np.float32(0.5)))(x)
    want = [branches_ref(p, v, np.float32(0.5)) for v in x]
    check_close(out["a"], np.stack([w["a"] for w in want]))
    assert out["n"].shape == (3,)  # instantiated: batched in one branch's join
    out_j = pyjax.jit(pyjax.vmap(lambda v: branches(p, v, np.float32(0.5))))(x)
    check_close(out_j["a"], out["a"])


def test_vmap_switch_batched_index():
  idx = np.array([-1, 0, 1, 2, 5], np.int32)
  x = np.array([1.0, 1.0, 2.0, 2.0, 0.5], np.float32)
  want = np.array([three_ref(i, v) for i, v in zip(idx, x)], np.float32)
  check_close(pyjax.vmap(three)(idx, x), want)
  check_close(pyjax.jit(pyjax.vmap(three))(idx, x), want)
  check_close(pyjax.vmap(three, (None, 0))(1, x), np.sin(x))
  check_close(pyjax.vmap(pyjax.jit(three))(idx, x), want)


def test_vmap_grad_and_grad_vmap():
  idx = np.array([0, 1, 2, 5], np.int32)
  x = np.array([1.0, 1.0, 2.0, 2.0], np.float32)
  d = [2.0, np.cos(1.0), 12.0, 12.0]
  check_close(pyjax.vmap(pyjax.grad(three, 1))(idx, x), np.array(d, np.float32))
  check_close(pyjax.grad(lambda v: pyjax.vmap(three)(idx, v).sum())(x),
              np.array(d, np.float32))
  h = lambda v: lax.cond(v > 0, jnp.sin, jnp.cos, v)
  v = np.array([1.0, -1.0], np.float32)
  check_close(pyjax.jit(pyjax.vmap(pyjax.grad(h)))(v), np.array([np.cos(1.0), np.sin(1.0)]))
  check_grads(lambda v: pyjax.vmap(h)(v).sum(), (v,), order=2)


def test_grad_vmap_untaken_branch_nan_free():
  """Under vmap both branches run; the untaken branch's operands are stop_gradient-ed,
  so its NaNs do not reach the gradient (as in JAX)."""
  jax = pytest.importorskip("jax")
  x = np.array([4.0, -4.0], np.float32)
  ours = pyjax.grad(lambda v: pyjax.vmap(
      lambda u: lax.cond(u > 0, jnp.sqrt, lambda u: u * u, u))(v).sum())(x)
  want = jax.grad(lambda v: jax.vmap(
      lambda u: jax.lax.cond(u > 0, jax.numpy.sqrt, lambda u: u * u, u))(v).sum())(x)
  check_close(ours, np.asarray(want))
  assert np.isfinite(np.asarray(ours)).all()


# ---------------------------------------------------------------- errors


def _jax_error(fn):
  try:
    fn()
  except Exception as e:  # noqa: BLE001
    return type(e), str(e)
  raise AssertionError("JAX did not raise")


def _same_error(ours, theirs):
  et, msg = _jax_error(theirs)
  with pytest.raises(et) as e:
    ours()
  assert str(e.value) == msg


def test_errors_match_jax():
  jax = pytest.importorskip("jax")
  jl = jax.lax
  two = lambda x: (x, x)
  one = lambda x: x
  to_int = lambda x: x.astype("int32")
  ones3 = lambda x: x * np.ones(3, np.float32)
  ones2 = lambda x: x * np.ones(2, np.float32)
  d1 = lambda x: {"a": x}
  d2 = lambda x: {"b": x}
  cases = [
      (lambda l: l.cond(np.ones(2, bool), one, one, 1.0)),
      (lambda l: l.cond("a", one, one, 1.0)),
      (lambda l: l.cond(None, one, one, 1.0)),
      (lambda l: l.cond(1j, one, one, 1.0)),
      (lambda l: l.cond(True, one, to_int, np.float32(1))),
      (lambda l: l.cond(True, ones3, ones2, np.float32(1))),
      (lambda l: l.cond(True, two, one, 1.0)),
      (lambda l: l.cond(True, d1, d2, 1.0)),
      (lambda l: l.cond(True, (1, 2), one, 1.0)),
      (lambda l: l.switch(1, [], 1.0)),
      (lambda l: l.switch(1.5, [one, one], 1.0)),
      (lambda l: l.switch(np.ones(2, np.int32), [one, one], 1.0)),
      (lambda l: l.switch(0, [one, 3], 1.0)),
      (lambda l: l.switch(0, [one, to_int, one], np.float32(1))),
  ]
  for case in cases:
    _same_error(lambda: case(lax), lambda: case(jl))


def test_traced_python_if_points_to_cond():
  with pytest.raises(TracerBoolConversionError) as e:
    pyjax.jit(lambda x: x if x > 0 else -x)(1.0)
  msg = str(e.value)
  assert msg.startswith("Attempted boolean conversion of traced array with shape bool[].")
  assert "argument x" in msg  # (JAX's message: no hint towards lax.cond)
  # concrete values keep working under jit (static argument)
  f = pyjax.jit(lambda x, n: x if n > 0 else -x, static_argnums=1)
  assert float(f(2.0, 1)) == 2.0 and float(f(2.0, -1)) == -2.0


def test_lowers_to_stablehlo_case():
  # (not sin or cos: float32 sin and cos lower with a case of their own)
  f = lambda i, x: lax.switch(i, [jnp.exp, jnp.tanh, lambda v: (v, v)[0]], x)
  text = pyjax.jit(f).lower(np.int32(0), np.float32(1)).as_text()
  assert text.count('"stablehlo.case"') == 1
  # a branch yielding an operand, the same value twice and constants (see _fresh)
  g = pyjax.jit(lambda p, x, y: lax.cond(p, lambda: (y, y, 0.0, 0.0),
                                          lambda: (jnp.sin(x).sum(), y * 2, jnp.cos(y),
                                                   x.sum()))[1:])
  x = np.array([1.0, 2.0], np.float32)
  for p in (True, False):
    want = (0.7, 0.0, 0.0) if p else (1.4, np.cos(0.7), 3.0)
    for o, w in zip(g(p, x, np.float32(0.7)), want):
      check_close(o, np.float32(w))

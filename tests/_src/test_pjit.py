"""jit: tracing cache, static args, errors, nesting, AOT, donation (seed cells included)."""
from __future__ import annotations

import io
import contextlib
from functools import partial

import numpy as np
import pytest

import pyjax
import pyjax as jax
import pyjax.numpy as jnp
from pyjax import jit, make_jaxpr
from pyjax._src.backends import iree
from pyjax.errors import NonConcreteBooleanIndexError, TracerBoolConversionError


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path_factory):
  d = str(tmp_path_factory.getbasetemp() / "pyjax-cache")
  old = jax.config.jax_compilation_cache_dir
  jax.config.update("jax_compilation_cache_dir", d)
  yield
  jax.config.update("jax_compilation_cache_dir", old)


def test_seed_tracer_prints_and_cache():
  """Seed 001: print() inside jit shows JitTracers; a second call does not retrace."""
  @jit
  def f(x, y):
    print("Running f():")
    print(f"  x = {x}")
    print(f"  y = {y}")
    result = jnp.dot(x + 1, y + 1)
    print(f"  result = {result}")
    return result

  rng = np.random.default_rng(0)
  x, y = rng.standard_normal((3, 4)), rng.standard_normal(4)
  buf = io.StringIO()
  with contextlib.redirect_stdout(buf):
    out = f(x, y)
  assert buf.getvalue() == ("Running f():\n  x = JitTracer<float32[3,4]>\n"
                            "  y = JitTracer<float32[4]>\n  result = JitTracer<float32[3]>\n")
  want = np.dot(x.astype(np.float32) + 1, y.astype(np.float32) + 1)
  np.testing.assert_allclose(np.asarray(out), want, rtol=1e-5)
  assert out.dtype == np.float32
  buf = io.StringIO()
  with contextlib.redirect_stdout(buf):
    out2 = f(x * 2, y)  # same shapes: no retrace, nothing printed
  assert buf.getvalue() == ""
  np.testing.assert_allclose(np.asarray(out2), np.dot(2 * x.astype(np.float32) + 1,
                                                       y.astype(np.float32) + 1), rtol=1e-5)
  with contextlib.redirect_stdout(io.StringIO()) as b:
    f(np.ones((2, 4)), y)  # new shape: retrace
  assert "x = JitTracer<float32[2,4]>" in b.getvalue()


def test_seed_norm_matches_eager():
  def norm(X):
    X = X - X.mean(0)
    return X / X.std(0)

  np.random.seed(1701)
  X = jnp.array(np.random.rand(1000, 10))
  assert np.allclose(norm(X), jit(norm)(X), atol=1e-6)


def test_seed_boolean_index_error():
  def get_negatives(x):
    return x[x < 0]

  x = jnp.array(np.random.default_rng(1).standard_normal(10))
  assert np.all(np.asarray(get_negatives(x)) < 0)
  with pytest.raises(NonConcreteBooleanIndexError,
                     match=r"Array boolean indices must be concrete; got bool\[10\]"):
    jit(get_negatives)(x)


def test_seed_bool_conversion_error_names_argument():
  @jit
  def f(x, neg):
    return -x if neg else x

  with pytest.raises(TracerBoolConversionError) as e:
    f(1, True)
  msg = str(e.value)
  assert msg.startswith("Attempted boolean conversion of traced array with shape bool[].")
  assert "for jit. This concrete value was not available in Python because it depends on " \
         "the value of the argument neg." in msg
  assert "The error occurred while tracing the function f at " in msg


def test_seed_static_argnums():
  @partial(jit, static_argnums=(1,))
  def f(x, neg):
    return -x if neg else x

  assert repr(f(1, True)) == "Array(-1, dtype=int32, weak_type=True)"
  assert repr(f(1, False)) == "Array(1, dtype=int32, weak_type=True)"
  g = jit(lambda x, n: x * n, static_argnames="n")
  assert float(g(2.0, n=3)) == 6.0


def test_non_hashable_static_arg():
  f = jit(lambda x, n: x * n[0], static_argnums=1)
  with pytest.raises(ValueError, match=r"Non-hashable static arguments are not supported. "
                     r"An error occurred while trying to hash an object of type "
                     r"<class 'list'>, \[1, 2\]. The error was:\nTypeError: unhashable "
                     r"type: 'list'"):
    f(1.0, [1, 2])


def test_retrace_only_on_new_signature():
  traces = []

  @jit
  def f(x):
    traces.append(x.aval)
    return x * 2

  f(jnp.ones(3))
  f(jnp.zeros(3))
  f(np.ones(3, np.float32))
  assert len(traces) == 1
  f(jnp.ones(4))
  f(1.0)  # weak float32[] is a new signature
  f(jnp.float32(1.0))  # strong float32[] another
  assert len(traces) == 4
  assert [t.weak_type for t in traces[2:]] == [True, False]


def test_weak_type_and_dtypes_preserved():
  out = jit(lambda x: x + 1)(2)
  assert out.dtype == np.int32 and out.weak_type
  out = jit(lambda x: (x > 0, x.astype(jnp.uint8), x.astype(jnp.bfloat16)))(jnp.arange(4.0))
  assert [o.dtype for o in out] == [np.bool_, np.uint8, jnp.bfloat16]
  np.testing.assert_array_equal(np.asarray(out[0]), [False, True, True, True])


def test_pytrees_kwargs_and_constants():
  c = np.arange(100, dtype=np.float32)  # hoisted as a parameter (large constant)

  @jit
  def f(d, scale=2.0):
    return {"s": d["a"] * scale + c[:3].sum(), "t": (d["b"], jnp.array([1, 2, 3]))}

  out = f({"a": jnp.ones(3), "b": 4}, scale=3.0)
  np.testing.assert_allclose(np.asarray(out["s"]), [6.0, 6.0, 6.0])
  assert int(out["t"][0]) == 4 and out["t"][1].tolist() == [1, 2, 3]


def test_outputs_feed_next_call_without_upload():
  f = jit(lambda x: x * 2.0)
  y = f(jnp.ones(4))
  assert getattr(y, "_buf", None) is not None
  z = f(y)
  np.testing.assert_array_equal(np.asarray(z), [4.0] * 4)
  v = np.asarray(z)
  assert not v.flags.writeable  # read-only host view of the result buffer
  assert z.block_until_ready() is z and jax.block_until_ready({"a": z})["a"] is z


def test_nested_jit_jaxpr_matches_jax():
  def f(x):
    return jnp.sin(x) * 2.0

  def g(x):
    return jit(f)(x) + 1

  assert str(make_jaxpr(g)(jnp.ones(3))) == """\
{ lambda ; a:f32[3]. let
    b:f32[3] = jit[
      name=f
      jaxpr={ lambda ; a:f32[3]. let
          c:f32[3] = sin a
          b:f32[3] = mul c 2.0:f32[]
        in (b,) }
    ] a
    d:f32[3] = add b 1.0:f32[]
  in (d,) }"""
  h = jit(lambda x, y: (x @ y, x))
  assert str(make_jaxpr(h)(jnp.ones((2, 2)), jnp.ones((2, 2)))) == """\
{ lambda ; a:f32[2,2] b:f32[2,2]. let
    c:f32[2,2] d:f32[2,2] = jit[
      name=<lambda>
      jaxpr={ lambda ; a:f32[2,2] b:f32[2,2]. let
          c:f32[2,2] = dot_general[
            dimension_numbers=(([1], [0]), ([], []))
            preferred_element_type=float32
          ] a b
        in (c, a) }
    ] a b
  in (c, d) }"""


def test_nested_jit_closure_over_tracer():
  def outer(x):
    return jit(lambda y: y + x)(2.0)

  assert str(make_jaxpr(outer)(1.0)) == """\
{ lambda ; a:f32[]. let
    b:f32[] = jit[
      name=<lambda>
      jaxpr={ lambda ; a:f32[] c:f32[]. let b:f32[] = add c a in (b,) }
    ] a 2.0:f32[]
  in (b,) }"""
  assert float(jit(outer)(1.0)) == 3.0


def test_jit_of_jit_runs_and_inline():
  inner = jit(lambda x: jnp.exp(x) - 1)
  outer = jit(lambda x: inner(x) * inner(2 * x))
  x = jnp.linspace(-1, 1, 5)
  np.testing.assert_allclose(np.asarray(outer(x)), np.expm1(x) * np.expm1(2 * x), rtol=1e-5)
  j = make_jaxpr(lambda x: jit(jnp.sin, inline=True)(x))(1.0)
  assert [e.primitive.name for e in j.eqns] == ["sin"]


def test_grad_of_jit_seed():
  """Seed 000/001: grad(jit(grad(jit(grad(sum_logistic))))) prints -0.0353256."""
  def sum_logistic(x):
    return jnp.sum(1.0 / (1.0 + jnp.exp(-x)))

  out = jax.grad(jit(jax.grad(jit(jax.grad(sum_logistic)))))(1.0)
  assert str(out) == "-0.0353256"


def test_jit_composes_with_grad_and_vmap():
  """jit(grad(f)), grad(jit(f)), vmap(jit(f)), jit(vmap(f)) agree with eager."""
  def f(x):
    return jnp.sum(jnp.tanh(x) * jnp.sin(2.0 * x))
  x = jnp.linspace(-1.0, 1.0, 6)
  xs = jnp.stack([x, 2 * x])
  eager_g = np.asarray(jax.grad(f)(x))
  np.testing.assert_allclose(np.asarray(jit(jax.grad(f))(x)), eager_g, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(np.asarray(jax.grad(jit(f))(x)), eager_g, rtol=1e-5, atol=1e-6)
  eager_v = np.asarray(jax.vmap(f)(xs))
  np.testing.assert_allclose(np.asarray(jax.vmap(jit(f))(xs)), eager_v, rtol=1e-5)
  np.testing.assert_allclose(np.asarray(jit(jax.vmap(f))(xs)), eager_v, rtol=1e-5)
  np.testing.assert_allclose(np.asarray(jax.hessian(jit(f))(x)),
                             np.asarray(jax.hessian(f)(x)), rtol=1e-4, atol=1e-5)
  out, t = jax.jvp(jit(f), (x,), (jnp.ones(6),))
  np.testing.assert_allclose(float(t), float(jnp.dot(eager_g, jnp.ones(6))), rtol=1e-5,
                             atol=1e-6)  # (a sum of odd terms: about 0)


def test_grad_of_jit_keeps_both_passes_compiled():
  text = str(make_jaxpr(jax.grad(jit(lambda x: jnp.sum(jnp.sin(x) * x))))(jnp.ones(3)))
  assert "name=jvp(<lambda>)" in text and "name=transpose(jvp(<lambda>))" in text


def test_aot_lower_compile():
  f = jit(lambda x, y: jnp.sin(x) * y)
  lowered = f.lower(jax.ShapeDtypeStruct((3,), jnp.float32), 2.0)
  text = lowered.as_text()
  assert text.startswith("module @jit__lambda")
  assert '"stablehlo.sine"' in text and "tensor<3xf32>" in text
  compiled = lowered.compile()
  out = compiled(jnp.ones(3), 2.0)
  np.testing.assert_allclose(np.asarray(out), 2 * np.sin(np.ones(3)), rtol=1e-6)
  with pytest.raises(TypeError, match="Argument types differ"):
    compiled(jnp.ones(4), 2.0)
  shapes = f.eval_shape(jnp.ones((2, 3)), 1.0)
  assert shapes.shape == (2, 3) and shapes.dtype == np.float32
  assert f.trace(jnp.ones(2), 1.0).jaxpr.eqns[0].primitive.name == "sin"


def test_aot_stages_have_jax_trees():
  """Lowered/Compiled.in_tree is the (args, kwargs) structure without static
  arguments, out_tree the result's, as JAX prints them."""
  real = pytest.importorskip("jax")
  f = lambda p, x, *, scale=1.0: {"y": x * scale, "s": (p["w"], None)}
  args, kw = ({"w": 1.0, "b": 2.0}, np.ones(3)), {"scale": 2.0}
  for j in (jit, real.jit):
    lowered = j(f).lower(*args, **kw)
    got = [str(t) for t in (lowered.in_tree, lowered.out_tree,
                            lowered.compile().in_tree, lowered.compile().out_tree)]
    static = str(j(lambda a, n: a * n, static_argnums=1).lower(np.ones(3), 2).in_tree)
    if j is jit:
      ours = got, static
  assert ours == (got, static)


def test_donation_deletes_input():
  f = jit(lambda x: x + 1, donate_argnums=0)
  x = jnp.ones(3)
  y = f(x)
  np.testing.assert_array_equal(np.asarray(y), [2.0] * 3)
  assert x.is_deleted()
  with pytest.raises(RuntimeError, match=r"Array has been deleted with shape=float32\[3\]."):
    f(x)
  with pytest.raises(RuntimeError, match="Array has been deleted"):
    print(x)


def test_unusable_donation_warns_as_jax():
  """A donated argument no result can reuse (no output of its shape and dtype) gets
  JAX's warning, once per compilation; usable donations stay silent."""
  f = jit(lambda x, y: (x + y).sum(), donate_argnums=(0, 1))
  with pytest.warns(UserWarning, match=r"Some donated buffers were not usable: "
                    r"float32\[3\], float32\[3\]\.\nSee an explanation at "
                    r"https://docs.jax.dev/en/latest/faq.html#buffer-donation"):
    f(jnp.ones(3), jnp.ones(3))
  import warnings
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    f(jnp.ones(3), jnp.ones(3))  # (compiled already)
    jit(lambda x: x * 2, donate_argnums=0)(jnp.ones(3))


def test_disable_jit():
  calls = []

  def f(x):
    calls.append(type(x).__name__)
    return x + 1

  jax.config.update("jax_disable_jit", True)
  try:
    jit(f)(jnp.ones(2))
  finally:
    jax.config.update("jax_disable_jit", False)
  assert calls == ["ArrayImpl"]


def test_repr_and_wrapping():
  def ff(x):
    """doc"""
    return x

  j = jit(ff)
  assert repr(j).startswith("<PjitFunction of <function ")
  assert j.__name__ == "ff" and j.__doc__ == "doc"
  with pytest.raises(TypeError, match="callable"):
    jit(3)


def test_gpu_backend_skips_cleanly():
  if not iree.gpu_available():
    with pytest.raises(RuntimeError, match="Unknown backend: 'gpu'"):
      jit(lambda x: x, backend="gpu")
    pytest.skip("no CUDA device")
  out = jit(lambda x: x * 2, backend="gpu")(jnp.ones(3))
  np.testing.assert_array_equal(np.asarray(out), [2.0] * 3)


def test_seed_jit_of_grad_and_vmap():
  """Seeds 002/003: jit(grad(loss)) and jit(vmap(grad(loss), in_axes=(None, 0)))."""
  def loss(w, x):
    return jnp.sum(jnp.tanh(x @ w) ** 2)

  w = jnp.ones((3, 2))
  x = jnp.arange(12.0).reshape(4, 3) / 10
  want = jax.grad(loss)(w, x)
  np.testing.assert_allclose(np.asarray(jit(jax.grad(loss))(w, x)), np.asarray(want),
                             atol=1e-5)
  per_ex = jit(jax.vmap(jax.grad(loss), in_axes=(None, 0)))(w, x[:, None, :])
  assert per_ex.shape == (4, 3, 2)
  np.testing.assert_allclose(np.asarray(per_ex).sum(0), np.asarray(want), atol=1e-5)


def test_seed_selu_jit():
  def selu(x, alpha=1.67, lmbda=1.05):
    return lmbda * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)

  x = jnp.linspace(-3, 3, 1001)
  np.testing.assert_allclose(np.asarray(jit(selu)(x)), np.asarray(selu(x)), rtol=2e-6,
                             atol=1e-6)


def _addr(x):
  """Address of the device buffer behind a jit argument or result."""
  return np.frombuffer(x._buf.view.map(), np.uint8).ctypes.data


@pytest.fixture
def async_driver(monkeypatch):
  """Every program runs on local-task (asynchronous dispatch), however small."""
  monkeypatch.setattr(iree, "SMALL_PROGRAM_BYTES", 0)


def test_async_results_equal_sync_and_block(monkeypatch):
  def f(x, y):
    return {"a": jnp.sin(x) * y, "b": (x @ y.T).sum(0)}

  x = jnp.arange(12.0).reshape(3, 4) / 7
  y = jnp.cos(x)
  fs = jit(f)
  sync = fs(x, y)
  assert next(iter(fs._cache.values())).compiled.driver == "local-sync"
  monkeypatch.setattr(iree, "SMALL_PROGRAM_BYTES", 0)
  fs.clear_cache()  # (jit(f) again would share fs's trace and its compiled program)
  fa = jit(f)
  out = fa(x, y)
  assert next(iter(fa._cache.values())).compiled.driver == "local-task"
  for k in ("a", "b"):
    np.testing.assert_array_equal(np.asarray(out[k]), np.asarray(sync[k]))
  out2 = fa(out["a"], y)  # a pending result feeds the next call without a host wait
  assert jax.block_until_ready(out2) is out2
  assert all(v.is_ready() for v in jax.tree_util.tree_leaves(out2))
  np.testing.assert_allclose(np.asarray(out["a"]), np.sin(np.asarray(x)) * np.asarray(y),
                             rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(np.asarray(out["b"]),
                             (np.asarray(x) @ np.asarray(y).T).sum(0), rtol=1e-5)
  a2 = np.sin(np.asarray(out["a"])) * np.asarray(y)
  np.testing.assert_allclose(np.asarray(out2["a"]), a2, rtol=1e-6, atol=1e-6)
  r = fa(x, y)["a"]
  assert r.block_until_ready() is r and r.is_ready()
  assert "Array(" in repr(fa(x, y)["b"])
  np.testing.assert_allclose(np.asarray(fa(x, y)["a"] + 1), np.asarray(out["a"]) + 1)


def test_async_error_surfaces_by_block_until_ready(async_driver):
  f = jit(lambda x: x * 2.0)
  x = jnp.arange(4.0)
  np.testing.assert_array_equal(np.asarray(f(x)), [0, 2, 4, 6])
  s = iree.stream("local-task")
  s.t += 1  # a stand-in for an earlier call that has not ended
  try:
    y = f(x)
    assert not y.is_ready()
  finally:  # (else every later call on the stream would wait for it)
    s.sem.fail("stand-in call failed")
  with pytest.raises(RuntimeError, match="computation producing this array failed"):
    y.block_until_ready()
  with pytest.raises(RuntimeError, match="stand-in call failed"):
    np.asarray(y)
  with pytest.raises(RuntimeError, match="stand-in call failed"):
    f(y)  # a failed input fails the call that uses it
  np.testing.assert_array_equal(np.asarray(f(x)), [0, 2, 4, 6])  # later calls run


@pytest.mark.parametrize("driver", ["local-sync", "local-task"])
def test_donation_reuses_the_buffer(driver, monkeypatch):
  if driver == "local-task":
    monkeypatch.setattr(iree, "SMALL_PROGRAM_BYTES", 0)
  f = jit(lambda x, y: (x * y + 1.0, y.sum()), donate_argnums=0)
  x = jit(lambda v: v * 2.0)(jnp.arange(6.0))
  y = jnp.full(6, 3.0)
  where = _addr(x)
  out, total = f(x, y)
  assert x.is_deleted() and _addr(out) == where  # written in place
  np.testing.assert_array_equal(np.asarray(out), np.arange(6.0) * 6 + 1)
  assert float(total) == 18.0
  with pytest.raises(RuntimeError, match="Array has been deleted"):
    x + 1
  with pytest.raises(RuntimeError, match=r"Array has been deleted with shape=float32\[6\]"):
    f(x, y)
  out2, _ = f(out, y)  # a result donated again: the same memory once more
  assert _addr(out2) == where
  np.testing.assert_array_equal(np.asarray(out2), (np.arange(6.0) * 6 + 1) * 3 + 1)


def test_donation_never_overwrites_shared_memory():
  f = jit(lambda x: x + 1.0, donate_argnums=0)
  base = jnp.arange(4.0)
  a = jit(lambda v: v * 2.0)(base)
  view = np.asarray(a)  # a NumPy view of a's buffer is still held
  out = f(a)
  np.testing.assert_array_equal(view, [0, 2, 4, 6])
  np.testing.assert_array_equal(np.asarray(out), [1, 3, 5, 7])
  b = jit(lambda v: v * 3.0)(base)
  c = jit(lambda v: v.reshape(2, 2))(b)  # IREE returns b's memory for the reshape
  out = f(b)
  np.testing.assert_array_equal(np.asarray(c), [[0, 3], [6, 9]])
  np.testing.assert_array_equal(np.asarray(out), [1, 4, 7, 10])
  h = jnp.arange(4.0)  # a host array: uploaded to a copy, donated, and deleted
  np.testing.assert_array_equal(np.asarray(f(h)), [1, 2, 3, 4])
  assert h.is_deleted()
  g = jit(lambda x, y: x + y, donate_argnums=0)
  d = jit(lambda v: v * 1.0)(base)
  np.testing.assert_array_equal(np.asarray(g(d, d)), [0, 2, 4, 6])  # passed twice


def test_pending_results_in_eager_ops(async_driver):
  from pyjax._src.array import ArrayImpl, PendingArray
  r = jit(lambda s: s * 2)(3.0)  # weakly typed
  assert type(r) is PendingArray and r.weak_type
  out = r + jnp.ones(2, jnp.bfloat16)  # read on first use; weak typing kept
  assert out.dtype == jnp.bfloat16 and type(r) is ArrayImpl
  np.testing.assert_array_equal(np.asarray(out, np.float32), [7, 7])
  v = jit(lambda x: x + 1)(jnp.arange(3))
  np.testing.assert_allclose(np.asarray(jnp.sin(v)), np.sin(np.arange(1.0, 4.0)), rtol=1e-6)
  assert jnp.asarray(jit(lambda x: -x)(jnp.arange(3))).tolist() == [0, -1, -2]


# ---------------------------------------------------------------- traces shared by wrappers


def _sharing_log(jax, jnp):
  """What a program sees of JAX's trace cache: which calls trace (side effects run) and
  the values (a global read when tracing)."""
  log = []
  state = {"g": 1.}

  def f(x):
    log.append("trace f")
    return x + state["g"]
  log.append(float(jax.jit(f)(1.)))
  state["g"] = 2.
  log.append(float(jax.jit(f)(1.)))  # another wrapper: f's trace is shared (g was 1)
  jaxpr = jax.make_jaxpr(f)(1.)  # make_jaxpr reads jit's trace too (JAX's is jit's)
  log.append([float(v.val) for e in jaxpr.eqns for v in e.invars if hasattr(v, "val")])
  jax.jit(f).eval_shape(jnp.float32(1.))  # not weak typed: traced again
  jax.jit(f).eval_shape(1)  # an int
  jax.jit(f).eval_shape(1.)
  jax.jit(f).lower(1.)
  jax.config.update("jax_enable_x64", True)
  try:
    jax.jit(f).eval_shape(1.)  # x64 is in the trace context: traced again
  finally:
    jax.config.update("jax_enable_x64", False)
  jax.jit(f).eval_shape(1.)  # back: the first trace again
  with jax.default_matmul_precision("float32"):
    jax.jit(f).eval_shape(1.)
  jax.jit(f).clear_cache()  # evicts f's traces
  jax.jit(f).eval_shape(1.)

  def h(x, n):
    log.append(f"trace h {n!r}")
    return x * n
  jax.jit(h, static_argnums=1).eval_shape(1., 2)
  jax.jit(h, static_argnums=(1,)).eval_shape(1., 2)
  jax.jit(h, static_argnames="n").eval_shape(1., 2)
  jax.jit(h, static_argnums=1).eval_shape(1., 2.0)  # 2 == 2.0, but of another type
  jax.jit(h, static_argnums=1).eval_shape(1., True)
  jax.jit(h, static_argnums=1, donate_argnums=0).eval_shape(1., 2)
  jax.jit(h, static_argnums=1, inline=True).eval_shape(1., 2)
  hs = jax.jit(h, static_argnums=1)
  jax.make_jaxpr(lambda x: jax.grad(hs)(x, 2))(1.)  # the same avals under grad
  jax.make_jaxpr(lambda x: jax.vmap(hs, in_axes=(0, None))(x, 2))(jnp.ones(2))
  jax.make_jaxpr(lambda x: jax.jit(h, static_argnums=1)(x, 2))(1.)
  p = partial(h, n=3)
  jax.jit(p).eval_shape(1.)
  jax.jit(p).eval_shape(1.)
  jax.jit(partial(h, n=3)).eval_shape(1.)  # a new partial: another function

  class M:
    def m(self, x):
      log.append("trace m")
      return x
  obj = M()
  a = jax.jit(obj.m)
  a.eval_shape(1.)
  b = jax.jit(obj.m)  # equal bound methods: one function
  b.eval_shape(1.)

  def k(x):
    log.append("trace k")
    return x
  jax.make_jaxpr(k)(1.)
  jax.jit(k).eval_shape(1.)  # make_jaxpr traced as jit does: shared
  return log


_SHARING = ["trace f", 2.0, 2.0, [1.0], "trace f", "trace f", "trace f", "trace f",
            "trace f", "trace h 2", "trace h 2.0", "trace h True", "trace h 2", "trace h 3",
            "trace h 3", "trace m", "trace k"]


def test_jit_wrappers_of_one_function_share_traces():
  """Issue 22 item 3: JAX's trace cache is keyed on the function, not on the wrapper."""
  assert _sharing_log(pyjax, jnp) == _SHARING


def test_trace_sharing_matches_jax():
  real = pytest.importorskip("jax")
  assert _sharing_log(real, real.numpy) == _SHARING


def test_shared_traces_go_with_their_function():
  import gc
  import weakref
  from pyjax._src import pjit

  def make():
    def g(x):
      return x * 2
    jit(g).eval_shape(1.)
    return weakref.ref(g), len(pjit._traces._lru)

  gc.collect()  # (other tests' dead functions first)
  before = len(pjit._traces._lru)
  g, n = make()
  assert n >= before  # (one more, unless the bounded cache dropped its oldest)
  gc.collect()
  assert g() is None  # the cache does not keep the function alive
  assert len(pjit._traces._lru) <= before  # and its trace went with it

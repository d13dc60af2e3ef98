"""make_jaxpr, eval_shape, ShapeDtypeStruct, device_get, config."""
import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp

SEED_001_JAXPR = """\
{ lambda ; a:f32[3,4] b:f32[4]. let
    c:f32[3,4] = add a 1.0:f32[]
    d:f32[4] = add b 1.0:f32[]
    e:f32[3] = dot_general[
      dimension_numbers=(([1], [0]), ([], []))
      preferred_element_type=float32
    ] c d
  in (e,) }"""


def test_seed_001_make_jaxpr():
  def f(x, y):
    return jnp.dot(x + 1, y + 1)
  x, y = np.random.randn(3, 4), np.random.randn(4)
  assert str(pyjax.make_jaxpr(f)(x, y)) == SEED_001_JAXPR
  assert repr(pyjax.make_jaxpr(f)(x, y)) == SEED_001_JAXPR


def test_make_jaxpr_consts_literals_and_outputs():
  c = np.arange(3.0, dtype=np.float32)
  closed = pyjax.make_jaxpr(lambda x: (x * jnp.asarray(c), 2, x))(1.0)
  text = str(closed)
  assert text.startswith("{ lambda a:f32[3]; b:f32[]. let")
  assert "in (" in text and "2:i32[]" in text
  assert len(closed.consts) == 1
  assert [str(a) for a in closed.in_avals] == ["~float32[]"]
  out = closed(np.float32(2.0))
  np.testing.assert_allclose(out[0], 2 * c)


def test_make_jaxpr_static_argnums_and_return_shape():
  f = lambda x, n: x * n
  j, shape = pyjax.make_jaxpr(f, static_argnums=1, return_shape=True)(jnp.ones(3), 4)
  assert "mul a 4.0:f32[]" in str(j)
  assert shape.shape == (3,) and shape.dtype == np.float32


def test_make_jaxpr_matches_real_jax():
  jax = pytest.importorskip("jax")
  import jax.numpy as jjnp

  def build(m):
    return lambda x, y: m.sin(x) * 2.0 + m.dot(x, y).sum() - y.T @ x

  x, y = np.ones((3, 3), np.float32), np.ones((3, 3), np.float32)
  ours = str(pyjax.make_jaxpr(build(jnp))(x, y))
  theirs = str(jax.make_jaxpr(build(jjnp))(x, y))
  assert ours == theirs


def test_eval_shape():
  out = pyjax.eval_shape(lambda x: {"y": x @ x.T}, pyjax.ShapeDtypeStruct((5, 2), jnp.float32))
  assert out["y"].shape == (5, 5) and out["y"].dtype == np.float32
  assert repr(pyjax.ShapeDtypeStruct((2,), np.float64)) == \
      "ShapeDtypeStruct(shape=(2,), dtype=float32)"


def test_tracer_errors_name_argument():
  def f(x, neg):
    return -x if neg else x
  with pytest.raises(pyjax.errors.TracerBoolConversionError) as e:
    pyjax.make_jaxpr(f)(1, True)
  msg = str(e.value)
  assert msg.startswith("Attempted boolean conversion of traced array with shape bool[].")
  assert "depends on the value of the argument neg" in msg
  assert "TracerBoolConversionError" in msg


def test_tracer_repr_inside_trace():
  seen = []
  pyjax.make_jaxpr(lambda x: seen.append(repr(x)) or x)(np.ones((3, 4), np.float32))
  assert seen == ["JitTracer<float32[3,4]>"]


def test_leaked_tracer():
  box = []
  pyjax.make_jaxpr(lambda x: box.append(x) or x)(1.0)
  with pytest.raises(pyjax.errors.UnexpectedTracerError):
    jnp.sin(box[0])


def test_non_array_argument_error():
  # (JAX's make_jaxpr traces as jit does: jit's error)
  with pytest.raises(TypeError, match="Error interpreting argument to .* as an abstract "
                                      "array.*at path x"):
    pyjax.make_jaxpr(lambda x: x)("hello")


def test_device_get_and_typeof():
  x = jnp.arange(3)
  out = pyjax.device_get({"x": x})
  assert isinstance(out["x"], np.ndarray)
  assert str(pyjax.typeof(x)) == "int32[3]"


def test_config_update_unknown():
  with pytest.raises(AttributeError):
    pyjax.config.update("jax_not_an_option", 1)


# ---------------------------------------------------------------- runtime utilities


def test_clear_caches_retraces_jit():
  traces = []

  @pyjax.jit
  def f(x):
    traces.append(1)
    return x + 1
  f(jnp.ones(2))
  f(jnp.ones(2))
  assert len(traces) == 1
  pyjax.clear_caches()
  np.testing.assert_array_equal(np.asarray(f(jnp.ones(2))), [2.0, 2.0])
  assert len(traces) == 2


def test_live_arrays_effects_barrier_copy_to_host_async():
  x = jnp.arange(5.0)
  y = pyjax.jit(lambda a: a * 2)(x)
  live = pyjax.live_arrays()
  assert any(a is x for a in live) and any(a is y for a in live)
  assert all(isinstance(a, pyjax.Array) for a in live)
  assert pyjax.live_arrays("gpu") == [] or pyjax.default_backend() == "gpu"
  x.delete()
  assert not any(a is x for a in pyjax.live_arrays())
  assert pyjax.effects_barrier() is None
  tree = {"a": y, "b": [1, "s"]}
  assert pyjax.copy_to_host_async(tree) is tree


def test_make_user_context_retraces():
  ctx = pyjax.make_user_context(default_value=None)
  traces = []

  @pyjax.jit
  def f(x):
    traces.append(ctx.value)
    return x * 2
  f(1.0)
  with ctx(1):
    f(1.0)
    f(1.0)
  with ctx(2):
    f(1.0)
  f(1.0)
  # JAX keeps a trace per value (returning to None would not retrace: [None, 1, 2]);
  # pyjax drops jit's traces on each change of value.
  assert traces == [None, 1, 2, None] and ctx.value is None
  with pytest.raises(TypeError, match="requires an argument"):
    ctx()

  @ctx(5)
  def g():
    return ctx.value
  assert g() == 5 and ctx.value is None

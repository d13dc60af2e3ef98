"""Config options as JAX exposes them at top level (jax.debug_nans, jax.enable_x64, ...):
values, context managers, decorators and errors, against JAX; jit retraces when an
option its trace depends on changes."""
import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp

jax = pytest.importorskip("jax")

STATES = {  # top-level name -> a value to set it to
    "debug_nans": True, "debug_infs": True, "log_compiles": True, "enable_x64": True,
    "default_matmul_precision": "highest", "numpy_rank_promotion": "raise",
    "numpy_dtype_promotion": "strict", "default_prng_impl": "threefry2x32",
    "threefry_partitionable": False, "debug_key_reuse": True,
    "softmax_custom_jvp": True, "check_tracer_leaks": True, "enable_checks": True,
    "explain_cache_misses": True, "transfer_guard_host_to_device": "disallow",
    "transfer_guard_device_to_device": "log", "transfer_guard_device_to_host": "allow",
    "no_tracing": True, "no_execution": True, "enable_custom_prng": True,
    "legacy_prng_key": "warn", "thread_guard": True,
    "array_garbage_collection_guard": "log", "jax2tf_associative_scan_reductions": True,
}


@pytest.mark.parametrize("name", sorted(STATES))
def test_state_context_manager(name):
  new = STATES[name]
  seen = []
  for mod in (pyjax, jax):
    st = getattr(mod, name)
    before = st.value
    with st(new):
      inside = st.value, getattr(mod.config, st.name)

    @st(new)
    def f():
      return st.value
    seen.append((st.name, st.__name__, before, inside, st.value, f(), st.value))
  assert seen[0] == seen[1]


@pytest.mark.parametrize("name, bad", [
    ("numpy_rank_promotion", "bad"), ("default_matmul_precision", "foo"),
    ("transfer_guard_host_to_device", "nope"), ("numpy_dtype_promotion", "loose"),
    ("legacy_prng_key", "x"), ("default_prng_impl", "mt19937"),
])
def test_bad_values_raise_as_jax(name, bad):
  msgs = []
  for mod in (pyjax, jax):
    with pytest.raises(ValueError) as e:
      with getattr(mod, name)(bad):
        pass
    with pytest.raises(ValueError) as e2:
      mod.config.update(f"jax_{name}", bad)
    msgs.append((str(e.value), str(e2.value)))
  assert msgs[0] == msgs[1]


def test_state_errors_as_jax():
  for mod in (pyjax, jax):  # a boolean option's context manager defaults to True
    with mod.debug_nans():
      assert mod.config.jax_debug_nans is True
  for exc_call in (lambda m: bool(m.debug_nans), lambda m: m.numpy_rank_promotion()):
    msgs = []
    for mod in (pyjax, jax):
      with pytest.raises(TypeError) as e:
        exc_call(mod)
      msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_functions_disable_jit_checking_leaks_transfer_guard():
  seen = []
  for mod in (pyjax, jax):
    out = []
    with mod.disable_jit():
      out.append(mod.config.jax_disable_jit)
    with mod.disable_jit(False):
      out.append(mod.config.jax_disable_jit)
    with mod.checking_leaks():
      out.append(mod.config.jax_check_tracer_leaks)
    with mod.transfer_guard("disallow"):
      out.append(mod.config.jax_transfer_guard_host_to_device)
    out.append(mod.config.jax_transfer_guard_host_to_device)
    seen.append(out)
  assert seen[0] == seen[1]
  with pyjax.disable_jit():
    traced = []
    pyjax.jit(lambda x: traced.append(type(x).__name__) or x)(jnp.ones(2))
  assert traced == ["ArrayImpl"]


def test_jit_retraces_when_traced_options_change():
  f = pyjax.jit(lambda: jnp.ones(1))
  jf = jax.jit(lambda: jax.numpy.ones(1))
  got = [f().dtype]
  want = [jf().dtype]
  with pyjax.enable_x64(True):
    got.append(f().dtype)
  with jax.enable_x64(True):
    want.append(jf().dtype)
  got.append(f().dtype)
  want.append(jf().dtype)
  assert got == want == [np.float32, np.float64, np.float32]
  g = pyjax.jit(lambda a, b: a + b)
  g(jnp.ones(2), jnp.ones((2, 2)))
  with pyjax.numpy_rank_promotion("raise"):
    with pytest.raises(ValueError, match="could not be broadcast"):
      g(jnp.ones(2), jnp.ones((2, 2)))


def test_version_and_environment_info(capsys):
  assert pyjax.version.__version__ == pyjax.__version__
  assert pyjax.version.__version_info__ == tuple(
      int(p) for p in pyjax.__version__.split("."))
  info = pyjax.print_environment_info(return_string=True)
  assert info.splitlines()[0].startswith("pyjax:") and "numpy:  " + np.__version__ in info
  assert pyjax.print_environment_info() is None
  assert capsys.readouterr().out.strip() == info.strip()

"""DLPack and the array API namespace: Array.__dlpack__/__dlpack_device__,
jax.dlpack.from_dlpack, Array.__array_namespace__, against JAX."""
import numpy as np
import pytest

import pyjax
import pyjax.dlpack
import pyjax.numpy as jnp

jax = pytest.importorskip("jax")
import jax.dlpack  # noqa: E402
import jax.numpy as jjnp  # noqa: E402


@pytest.mark.parametrize("dtype", ["float32", "int8", "uint16", "bool", "complex64",
                                   "float16"])
def test_export_to_numpy(dtype):
  x = jnp.arange(6).reshape(2, 3).astype(dtype)
  jx = jjnp.arange(6).reshape(2, 3).astype(dtype)
  ours, theirs = np.from_dlpack(x), np.from_dlpack(jx)
  assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
  np.testing.assert_array_equal(ours, theirs)
  dev, jdev = x.__dlpack_device__(), jx.__dlpack_device__()
  assert (int(dev[0]), dev[1]) == (int(jdev[0]), jdev[1]) == (1, 0)
  assert dev[0].name == jdev[0].name == "kDLCPU"


def test_bfloat16_export_fails():
  # NumPy cannot take JAX's bfloat16 capsule (RuntimeError on import); pyjax exports
  # through NumPy, which cannot make one (BufferError on export).
  with pytest.raises(RuntimeError, match="Unsupported dtype"):
    np.from_dlpack(jjnp.ones(2, "bfloat16"))
  with pytest.raises(BufferError, match="DLPack only supports"):
    np.from_dlpack(jnp.ones(2, "bfloat16"))


def test_old_protocol_and_jit_results():
  x = pyjax.jit(lambda a: a * 2)(jnp.arange(3.0))
  capsule = x.__dlpack__()  # DLPack 0.x (no max_version)
  assert type(capsule).__name__ == "PyCapsule"
  np.testing.assert_array_equal(np.from_dlpack(x), [0.0, 2.0, 4.0])
  with pytest.raises(BufferError):
    x.__dlpack__(dl_device=(2, 0))


@pytest.mark.parametrize("value", [np.arange(3.0), np.arange(4, dtype=np.int16),
                                   np.array([True, False]), np.ones((2, 2), np.complex64)])
def test_from_dlpack(value):
  ours, theirs = pyjax.dlpack.from_dlpack(value), jax.dlpack.from_dlpack(value)
  assert repr(ours) == repr(theirs)
  round_trip = pyjax.dlpack.from_dlpack(jnp.asarray(value))
  assert repr(round_trip) == repr(theirs)
  value_before = np.array(value)
  value[...] = 0 if value.dtype != bool else False  # not shared: pyjax copies
  np.testing.assert_array_equal(np.asarray(ours), value_before)


def test_from_dlpack_errors_and_dtypes():
  for mod in (pyjax, jax):
    with pytest.raises(TypeError, match="must have __dlpack__ and __dlpack_device__"):
      mod.dlpack.from_dlpack([1, 2])
  for dt in ("float32", "bfloat16", "int4", "float8_e4m3fn", "bool", "uint64"):
    assert pyjax.dlpack.is_supported_dtype(dt) == jax.dlpack.is_supported_dtype(dt)
  msgs = []
  for mod in (pyjax, jax):
    with pytest.raises(TypeError) as e:
      mod.dlpack.is_supported_dtype(None)
    msgs.append(str(e.value))
  assert msgs[0] == msgs[1]
  dev = pyjax.devices()[0]
  assert pyjax.dlpack.from_dlpack(np.ones(2), device=dev).device == dev


def test_array_namespace():
  x = jnp.ones(2)
  assert x.__array_namespace__() is jnp and jnp.__array_api_version__ == \
      jjnp.__array_api_version__
  assert x.__array_namespace__(api_version=jnp.__array_api_version__) is jnp
  seen = []
  pyjax.jit(lambda t: seen.append(t.__array_namespace__() is jnp) or t)(x)
  assert seen == [True]
  msgs = []
  for a in (x, jjnp.ones(2)):
    with pytest.raises(ValueError) as e:
      a.__array_namespace__(api_version="2021.12")
    msgs.append(str(e.value))
  assert msgs[0] == msgs[1]

"""Devices: CPU and GPU discovery, placement, and eager operations on a GPU.

No GPU is needed: the ``fake_gpu`` fixture backs the "gpu" platform with IREE's CPU
driver, so device discovery, eager dispatch of primitives as compiled programs, jit
placement and host reads all run their GPU code paths. ``test_cuda_*`` run only where
IREE finds a CUDA device.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax import lax
from pyjax._src import devices as devices_mod, dispatch
from pyjax._src.backends import iree


@contextlib.contextmanager
def _gpu_platform(driver, platforms=""):
  """GPUs visible (the suite runs with JAX_PLATFORMS=cpu), backed by IREE ``driver``."""
  old_driver, old_platforms = iree.gpu_driver, pyjax.config.jax_platforms
  iree.gpu_driver = driver
  pyjax.config.update("jax_platforms", platforms)
  devices_mod._reset_gpu_devices()
  try:
    yield
  finally:
    iree.gpu_driver = old_driver
    pyjax.config.update("jax_platforms", old_platforms)
    devices_mod._reset_gpu_devices()


@pytest.fixture
def fake_gpu():
  with _gpu_platform("local-sync"):
    yield devices_mod.gpu_devices()[0]


def test_cpu_only_devices():
  assert pyjax.devices("cpu") == [devices_mod.Device(0)]
  assert repr(pyjax.devices("cpu")[0]) == "CpuDevice(id=0)"
  if not iree.gpu_available():
    assert pyjax.default_backend() == "cpu"
    with pytest.raises(RuntimeError, match="Unknown backend: 'gpu' requested, but no "
                       "platforms that are instances of gpu are present. Platforms "
                       "present are: cpu"):
      pyjax.devices("gpu")
  with pytest.raises(RuntimeError, match="Unknown backend tpu. Available backends are"):
    pyjax.devices("tpu")


def test_gpu_discovery_and_default_backend(fake_gpu):
  assert repr(fake_gpu) == "CudaDevice(id=0)" and fake_gpu.platform == "gpu"
  assert pyjax.default_backend() == "gpu"
  assert pyjax.devices() == [fake_gpu] == pyjax.devices("gpu") == pyjax.devices("cuda")
  assert pyjax.devices("cpu")[0].platform == "cpu"
  assert devices_mod.default_device() == fake_gpu


def test_jax_platforms_cpu_hides_the_gpu():
  with _gpu_platform("local-sync", platforms="cpu"):
    assert pyjax.default_backend() == "cpu"
    with pytest.raises(RuntimeError, match="Unknown backend: 'gpu'"):
      pyjax.devices("gpu")
  with _gpu_platform("local-sync", platforms="cuda"):
    assert pyjax.default_backend() == "gpu"


def test_eager_ops_run_on_the_gpu_and_are_cached(fake_gpu):
  x = pyjax.device_put(np.arange(6.0, dtype=np.float32).reshape(2, 3), fake_gpu)
  assert x.device == fake_gpu and x.platform == "gpu" and x.committed
  before = len(dispatch._on_device)
  y = jnp.sin(x) * 2.0 + x
  assert y.device == fake_gpu and y.committed
  np.testing.assert_allclose(np.asarray(y), np.sin(np.asarray(x)) * 2 + np.asarray(x),
                             rtol=1e-6)
  n = len(dispatch._on_device)
  assert n > before  # each primitive compiled once ...
  jnp.sin(x) * 2.0 + x
  assert len(dispatch._on_device) == n  # ... and reused
  s = jnp.sum(y, axis=0)
  assert s.device == fake_gpu
  np.testing.assert_allclose(np.asarray(s), np.asarray(y).sum(0), rtol=1e-6)


def test_uncommitted_values_follow_the_default_device(fake_gpu):
  z = jnp.ones(3) + 1.0
  assert z.device == fake_gpu
  np.testing.assert_array_equal(np.asarray(z), [2.0, 2.0, 2.0])
  c = pyjax.device_put(np.ones(3, np.float32), pyjax.devices("cpu")[0])
  w = c * 3.0  # committed to the CPU: NumPy, not a compiled program
  assert w.device.platform == "cpu"
  np.testing.assert_array_equal(np.asarray(w), [3.0, 3.0, 3.0])


def test_multiple_results_and_host_fallback(fake_gpu):
  k = pyjax.device_put(np.array([3, 1, 2], np.int32), fake_gpu)
  v = pyjax.device_put(np.array([30.0, 10.0, 20.0], np.float32), fake_gpu)
  ks, vs = lax.sort((k, v), num_keys=1)
  assert ks.device == fake_gpu
  np.testing.assert_array_equal(np.asarray(ks), [1, 2, 3])
  np.testing.assert_array_equal(np.asarray(vs), [10.0, 20.0, 30.0])
  a = pyjax.device_put(np.array([0.5, 2.0], np.float32), fake_gpu)
  got = lax.igamma(a, a)  # (lowered with lax-written loops)
  import scipy.special
  np.testing.assert_allclose(np.asarray(got), scipy.special.gammainc([0.5, 2.0],
                                                                     [0.5, 2.0]), rtol=1e-5)
  # A primitive with no StableHLO lowering is evaluated on the host, still correct.
  from pyjax._src.core import Primitive
  host_only = Primitive("host_only_square")
  host_only.def_impl(lambda x: np.square(x))
  host_only.def_abstract_eval(lambda x: x)
  np.testing.assert_array_equal(np.asarray(host_only.bind(a)), [0.25, 4.0])


def test_jit_runs_where_its_arguments_live(fake_gpu):
  f = pyjax.jit(lambda x: x * 2.0 + 1.0)
  x = pyjax.device_put(np.ones(4, np.float32), fake_gpu)
  out = f(x)
  assert out.device == fake_gpu
  np.testing.assert_array_equal(np.asarray(out), [3.0] * 4)
  entry = next(iter(f._cache.values()))
  assert fake_gpu in entry.on_gpu and entry.compiled is None
  cpu = pyjax.devices("cpu")[0]
  out_cpu = pyjax.jit(lambda x: x * 2.0 + 1.0, device=cpu)(x)
  assert out_cpu.device.platform == "cpu"
  np.testing.assert_array_equal(np.asarray(out_cpu), [3.0] * 4)
  out_gpu = pyjax.jit(lambda x: x - 1.0, backend="gpu")(np.ones(2, np.float32))
  assert out_gpu.device == fake_gpu


def test_transformations_on_gpu_values(fake_gpu):
  x = pyjax.device_put(np.array([0.1, 0.2, 0.3], np.float32), fake_gpu)
  g = pyjax.grad(lambda x: jnp.sum(jnp.tanh(x) ** 2))(x)
  np.testing.assert_allclose(np.asarray(g), 2 * np.tanh([0.1, 0.2, 0.3]) *
                             (1 - np.tanh([0.1, 0.2, 0.3]) ** 2), rtol=1e-5)
  v = pyjax.vmap(lambda r: jnp.dot(r, r))(jnp.ones((2, 3)))
  assert v.device == fake_gpu
  np.testing.assert_array_equal(np.asarray(v), [3.0, 3.0])
  key = pyjax.random.key(0)
  np.testing.assert_array_equal(np.asarray(pyjax.random.normal(key, (3,))),
                                _cpu_normal())


def _cpu_normal():  # seed 000's random.normal(key(0), ...), computed on the CPU
  return np.array([1.6226422, 2.0252647, -0.43359444], np.float32)


@pytest.mark.skipif(not iree.gpu_available(), reason="no CUDA device")
def test_cuda_eager_and_jit():
  with _gpu_platform("cuda"):
    _cuda_checks(pyjax.devices("gpu")[0])


def _cuda_checks(gpu):
  x = pyjax.device_put(np.arange(8.0, dtype=np.float32), gpu)
  y = jnp.exp(x) + x
  np.testing.assert_allclose(np.asarray(y), np.exp(np.arange(8.0)) + np.arange(8.0),
                             rtol=1e-5)
  f = pyjax.jit(lambda a: a @ a.T)
  m = pyjax.device_put(np.ones((64, 32), np.float32), gpu)
  np.testing.assert_allclose(np.asarray(f(m)), np.full((64, 64), 32.0))

"""jax._src.xla_bridge (pyjax/_src/xla_bridge.py): backends and the device queries by
backend against JAX's; `_backends` stays empty until the devices are first asked for,
so Chex's `set_n_cpu_devices` (it reads `_backends`, then sets XLA_FLAGS) gives the
CPU device count it asks for, under `python -m pyjax` as under JAX (subprocesses)."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import textwrap
import warnings

import pytest

import pyjax
from pyjax._src import xla_bridge as xb

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Run once under `python -m pyjax` and once with JAX, in fresh processes.
CHEX_LIKE = textwrap.dedent("""
    import json, os, re
    import jax
    xb = jax._src.xla_bridge
    out = {"before": sorted(xb._backends), "init": xb.backends_are_initialized()}
    # chex.set_n_cpu_devices(4), line for line:
    cpu_backend = (jax._src.xla_bridge._backends or {}).get("cpu", None)
    out["cpu_backend"] = cpu_backend is not None
    flags = re.sub(r"--xla_force_host_platform_device_count=[0-9]+\\s?", "",
                   os.getenv("XLA_FLAGS", ""))
    os.environ["XLA_FLAGS"] = " ".join(
        ["--xla_force_host_platform_device_count=4"] + flags.split())
    out["count"] = jax.device_count()
    out["devices"] = [repr(d) for d in jax.devices()]
    out["after"] = sorted(xb._backends)
    out["backend_count"] = xb._backends["cpu"].device_count()
    out["sum"] = float(jax.numpy.arange(4.0).sum())
    try:
      import chex
    except Exception as e:  # a part of JAX pyjax lacks (yet)
      if "pyjax does not implement" not in str(e):
        raise
      out["chex"] = "import failed: " + str(e)
    else:
      chex.set_n_cpu_devices(4)  # the count already in effect: allowed
      try:
        chex.set_n_cpu_devices(2)
      except RuntimeError as e:
        out["chex"] = str(e)
    print(json.dumps(out))
""")


def _run(args):
  r = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                     timeout=120)
  assert r.returncode == 0, r.stderr
  return json.loads(r.stdout)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
  """CHEX_LIKE's findings under `python -m pyjax` and under JAX."""
  pytest.importorskip("jax")
  script = tmp_path_factory.mktemp("xla_bridge") / "chex_like.py"
  script.write_text(CHEX_LIKE)
  return _run(["-m", "pyjax", str(script)]), _run([str(script)])


def test_xla_flags_device_count_set_as_chex_does(fresh):
  got, want = ({k: v for k, v in d.items() if k != "chex"} for d in fresh)
  assert want["count"] == 4 and want["before"] == [] and want["after"] == ["cpu"]
  assert got == want


def test_chex_set_n_cpu_devices(fresh):
  got, want = (d["chex"] for d in fresh)
  assert want.startswith("Attempted to set 2 devices, but 4 CPUs already available")
  if got.startswith("import failed: "):
    # Chex needs parts of JAX that other helpers write; the count is checked above.
    assert "pyjax does not implement" in got, got
    pytest.skip(f"chex does not import under pyjax yet: {got}")
  assert got == want


def _errors(mod):
  out = {}
  for name in ("foo", "cuda"):
    try:
      mod.get_backend(name)
    except RuntimeError as e:
      out[name] = str(e)
  try:
    mod.local_devices(1)
  except ValueError as e:
    out["process"] = str(e)
  return out


def test_queries_and_errors_as_jax():
  jax_xb = pytest.importorskip("jax._src.xla_bridge")
  b = xb.get_backend()
  jb = jax_xb.get_backend()
  assert (b.platform, b.platform_version, b.process_index()) == \
      (jb.platform, jb.platform_version, jb.process_index())
  assert xb.get_backend("cpu") is b and xb.get_backend(b) is b
  assert b.devices() == pyjax.devices() == xb.devices() == xb.local_devices(0)
  assert b.device_count() == b.local_device_count() == xb.device_count() \
      == xb.local_device_count("cpu") == pyjax.device_count()
  assert xb.get_device_backend(pyjax.devices()[0]) is b and xb.get_device_backend() is b
  assert list(xb.backends()) == list(jax_xb.backends()) == ["cpu"]
  assert xb._backends["cpu"] is b and xb.backends_are_initialized()
  for f in ("default_backend", "process_index", "process_count", "process_indices",
            "using_pjrt_c_api"):
    assert getattr(xb, f)() == getattr(jax_xb, f)(), f
  assert xb.canonicalize_platform("cpu") == "cpu" and xb.canonicalize_platform("x") == "x"
  assert xb.expand_platform_alias("gpu") == jax_xb.expand_platform_alias("gpu")
  assert xb.known_platforms() <= jax_xb.known_platforms()
  assert xb.is_known_platform("cuda") and not xb.is_known_platform("foo")
  assert _errors(xb) == _errors(jax_xb)
  with pytest.raises(RuntimeError, match="Unknown backend: 'gpu' requested, but no "
                     "platforms that are instances of gpu are present. Platforms "
                     "present are: cpu"):
    xb.canonicalize_platform("gpu")
  with pytest.raises(RuntimeError, match=r"Unknown backend tpu. Available backends are "
                     r"\['cpu'\]"):
    pyjax.devices("tpu")


def test_deprecated_host_names_warn_as_jax():
  jax_xb = pytest.importorskip("jax._src.xla_bridge")
  for name in ("host_id", "host_count", "host_ids"):
    with warnings.catch_warnings(record=True) as got:
      warnings.simplefilter("always")
      a = getattr(xb, name)()
    with warnings.catch_warnings(record=True) as want:
      warnings.simplefilter("always")
      b = getattr(jax_xb, name)()
    assert a == b
    assert [str(w.message) for w in got] == [str(w.message) for w in want]
  with pytest.warns(UserWarning, match="renamed from `host_id` to `process_index`"):
    assert xb.local_devices(host_id=0) == pyjax.devices()


def test_clear_backends_reads_the_device_count_again(monkeypatch):
  before = pyjax.devices()
  try:
    xb._clear_backends()
    assert xb._backends == {} and not xb.backends_are_initialized()
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=3")
    if not pyjax.config.jax_num_cpu_devices or pyjax.config.jax_num_cpu_devices < 0:
      assert xb.device_count() == 3
    assert list(xb._backends) == ["cpu"]
  finally:
    monkeypatch.undo()
    xb._clear_backends()
    assert pyjax.devices() == before


def test_gpu_backend_is_cuda():
  """With a GPU (IREE's CPU driver standing in for CUDA, as in test_devices), the
  default backend is "cuda" (platform "gpu"), and "gpu" names it."""
  from pyjax._src import devices as devices_mod
  from pyjax._src.backends import iree
  old_driver, old_platforms = iree.gpu_driver, pyjax.config.jax_platforms
  iree.gpu_driver = "local-sync"
  pyjax.config.update("jax_platforms", "")
  devices_mod._reset_gpu_devices()
  try:
    gpu = xb.get_backend()
    assert list(xb.backends()) == ["cpu", "cuda"] and xb._backends["cuda"] is gpu
    assert gpu.platform == "gpu" == xb.default_backend()
    assert xb.get_backend("gpu") is gpu is xb.get_backend("cuda")
    assert xb.canonicalize_platform("gpu") == "cuda"
    assert xb.devices("gpu") == devices_mod.gpu_devices() == gpu.devices()
    assert xb.get_device_backend(gpu.devices()[0]) is gpu
    assert xb.get_backend("cpu").platform == "cpu"
  finally:
    iree.gpu_driver = old_driver
    pyjax.config.update("jax_platforms", old_platforms)
    devices_mod._reset_gpu_devices()
  assert "cuda" not in xb._backends

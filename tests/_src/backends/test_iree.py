"""IREE backend: compilation caches (memory, disk, corruption), buffers, drivers."""
from __future__ import annotations

import os

import numpy as np
import pytest

import pyjax
from pyjax._src.backends import iree

MODULE = """module @m {
  func.func public @main(%arg0: tensor<4xf32>, %arg1: tensor<4xf32>) -> (tensor<4xf32>) {
    %0 = "stablehlo.add"(%arg0, %arg1) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    func.return %0 : tensor<4xf32>
  }
}
"""


@pytest.fixture
def cache_dir(tmp_path):
  old = pyjax.config.jax_compilation_cache_dir
  pyjax.config.update("jax_compilation_cache_dir", str(tmp_path))
  yield tmp_path
  pyjax.config.update("jax_compilation_cache_dir", old)


def _entries(d):
  return [os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs if f.endswith(".vmfb")]


def _run(vmfb, driver="local-sync"):
  ex = iree.Executable(vmfb, driver, 1)
  a = iree.to_device(np.arange(4, dtype=np.float32), driver)
  out, = ex.call([a.view, a.view])
  return iree.to_host(iree.DeviceBuffer(out, driver), (4,), np.float32)


def test_disk_cache_roundtrip_and_corruption(cache_dir):
  text = MODULE + f"// {cache_dir}\n"  # a key no other test uses
  n0 = iree.stats["compiles"]
  vmfb = iree.compile_module(text)
  assert iree.stats["compiles"] == n0 + 1
  files = _entries(cache_dir)
  assert len(files) == 1
  iree._mem_cache.clear()
  d0 = iree.stats["disk_hits"]
  assert iree.compile_module(text) == vmfb and iree.stats["disk_hits"] == d0 + 1
  # Truncate the entry: detected by its checksum, recompiled, rewritten; no crash.
  with open(files[0], "r+b") as f:
    f.truncate(os.path.getsize(files[0]) // 2)
  iree._mem_cache.clear()
  c0 = iree.stats["corrupt"]
  vmfb2 = iree.compile_module(text)
  assert iree.stats["corrupt"] == c0 + 1 and iree.stats["compiles"] == n0 + 2
  np.testing.assert_array_equal(_run(vmfb2), [0, 2, 4, 6])
  # Flip a payload byte: also detected.
  with open(files[0], "r+b") as f:
    f.seek(-5, os.SEEK_END)
    b = f.read(1)
    f.seek(-5, os.SEEK_END)
    f.write(bytes([b[0] ^ 0xFF]))
  iree._mem_cache.clear()
  iree.compile_module(text)
  assert iree.stats["corrupt"] == c0 + 2


def test_cache_key_depends_on_text_flags_and_version():
  k = iree.cache_key(MODULE, iree.CPU_FLAGS)
  assert k != iree.cache_key(MODULE + " ", iree.CPU_FLAGS)
  assert k != iree.cache_key(MODULE, iree.CPU_FLAGS[:-1])
  assert iree.compiler_version() in "".join([iree.compiler_version()])


def test_default_cache_dir_is_user_cache(monkeypatch):
  old = pyjax.config.jax_compilation_cache_dir
  pyjax.config.update("jax_compilation_cache_dir", None)
  try:
    monkeypatch.setenv("XDG_CACHE_HOME", "/tmp/xdg-test")
    assert iree.cache_dir() == "/tmp/xdg-test/pyjax"
  finally:
    pyjax.config.update("jax_compilation_cache_dir", old)


def test_both_cpu_drivers_and_readonly_views(cache_dir):
  vmfb = iree.compile_module(MODULE)
  for drv in ("local-sync", "local-task"):
    h = _run(vmfb, drv)
    np.testing.assert_array_equal(h, [0, 2, 4, 6])
    assert not h.flags.writeable


def test_buffers_all_dtypes_roundtrip():
  from util import bfloat16
  for dt in (np.bool_, np.int8, np.uint16, np.int32, np.int64, np.uint64, np.float16,
             bfloat16, np.float32, np.float64, np.complex64, np.complex128):
    v = (np.arange(6) % 3).astype(dt).reshape(2, 3)
    b = iree.to_device(v, "local-sync")
    np.testing.assert_array_equal(iree.to_host(b, (2, 3), dt), v)
  s = iree.to_device(np.asarray(np.float32(2.5)), "local-sync")
  assert list(s.view.shape) == []


def test_driver_choice_by_size():
  from pyjax._src.core import ShapedArray
  small = [ShapedArray((4,), np.float32)]
  big = [ShapedArray((1000, 1000), np.float32)]
  assert iree.pick_driver(small, small) == "local-sync"
  assert iree.pick_driver(big, big) == "local-task"


def test_compile_error_is_clear():
  with pytest.raises(RuntimeError, match="IREE failed to compile the lowered module"):
    iree.compile_module("module @bad { func.func @main( }")

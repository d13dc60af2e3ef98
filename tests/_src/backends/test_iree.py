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


_USER_IREE_FLAGS = os.environ.get("IREE_PY_RUNTIME_FLAGS", "")  # before any test's edits


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
  many = small * (iree.MANY_RESULTS + 1)  # IREE's synchronous scheduling is cubic in them
  assert iree.pick_driver(small, many[:-1]) == "local-sync"
  assert iree.pick_driver(small, many) == "local-task"


def test_compile_error_is_clear():
  with pytest.raises(RuntimeError, match="IREE failed to compile the lowered module"):
    iree.compile_module("module @bad { func.func @main( }")


def test_async_module_submit_chain_and_wait(cache_dir):
  ex = iree.Executable(iree.compile_module(MODULE, asynchronous=True), "local-task", 1)
  assert ex.is_async
  a = iree.to_device(np.arange(4, dtype=np.float32), "local-task")
  (o1,), d1 = ex.submit([a.view, a.view])
  (o2,), d2 = ex.submit([o1, a.view])  # consumes o1 with no host wait: the stream orders it
  b = iree.DeviceBuffer(o2, "local-task", (4,), np.float32, d2.fence, d2.sem, d2.t)
  np.testing.assert_array_equal(b.value(), [0, 3, 6, 9])
  assert b.is_ready() and b.fence is None
  out, = ex.call([a.view, a.view])  # ``call`` waits
  np.testing.assert_array_equal(iree.to_host(iree.DeviceBuffer(out, "local-task"), (4,),
                                             np.float32), [0, 2, 4, 6])


def test_async_failure_surfaces_at_wait_and_stream_recovers(cache_dir):
  ex = iree.Executable(iree.compile_module(MODULE, asynchronous=True), "local-task", 1)
  s = ex.stream
  a = iree.to_device(np.ones(4, np.float32), "local-task")
  s.t += 1  # a stand-in for a call still running: the next call waits for it
  (o,), d = ex.submit([a.view, a.view])
  b = iree.DeviceBuffer(o, "local-task", (4,), np.float32, d.fence, d.sem, d.t)
  assert not b.is_ready()
  s.sem.fail("stand-in call failed")
  with pytest.raises(RuntimeError, match="computation producing this array failed.*stand-in"):
    b.wait()
  with pytest.raises(RuntimeError, match="stand-in"):
    b.value()
  (o,), d = ex.submit([a.view, a.view])  # a fresh semaphore: later calls run again
  b = iree.DeviceBuffer(o, "local-task", (4,), np.float32, d.fence, d.sem, d.t)
  np.testing.assert_array_equal(b.value(), [2, 2, 2, 2])


def test_compiler_crash_is_recognised():
  """A compiler that died of a signal (with or without LLVM's stack dump) is retried
  without data tiling; a diagnosed error is not."""
  assert iree._crashed("Error code: -11\nPlease report issues ... crash backtrace.")
  assert iree._crashed("Stack dump:\n0. Program arguments")
  assert not iree._crashed("Error code: 1\nerror: 'stablehlo.add' op requires ...")


@pytest.mark.parametrize("n", [1000, 1_000_000])  # local-sync and local-task programs
def test_reused_buffers_never_change_live_results(n):
  """Freed device buffers are cached for reuse: a result read as a NumPy view, or
  still held as an Array, keeps its memory while later calls of the same size run."""
  f = pyjax.jit(lambda x: x * 2.0)
  x = pyjax.numpy.ones(n)
  y = f(x)
  view = np.asarray(y)
  del y
  kept = f(x + 1.0)
  for i in range(10):
    f(x + float(i)).block_until_ready()
  assert (view == 2.0).all()
  assert (np.asarray(kept) == 4.0).all()


def test_same_arguments_reuse_and_new_arguments():
  """A small program called again on the same buffers reuses its argument list; new
  buffers (or a donated one) still reach the program."""
  f = pyjax.jit(lambda x, y: x + y)
  a, b = pyjax.numpy.ones(3), pyjax.numpy.arange(3.0)
  for _ in range(3):
    np.testing.assert_array_equal(f(a, b), [1.0, 2.0, 3.0])
  np.testing.assert_array_equal(f(b, b), [0.0, 2.0, 4.0])
  np.testing.assert_array_equal(f(a, b), [1.0, 2.0, 3.0])
  g = pyjax.jit(lambda x: x + 1.0, donate_argnums=0)
  c = pyjax.numpy.zeros(3)
  for i in range(3):
    c = g(c)
  np.testing.assert_array_equal(c, [3.0, 3.0, 3.0])


def test_worker_pool_is_unpinned_one_per_core(monkeypatch):
  """local-task gets one unpinned worker per usable physical core (SMT siblings count
  once), unless the user chose IREE's topology flags; the workers of the running
  process are free to migrate."""
  monkeypatch.delenv("IREE_PY_RUNTIME_FLAGS", raising=False)
  cpus = os.sched_getaffinity(0)
  flag, = iree._worker_flags()
  n = int(flag.split("=")[1])
  assert flag.startswith("--task_topology_group_count=") and 1 <= n <= len(cpus)
  siblings = {open(f"/sys/devices/system/cpu/cpu{c}/topology/thread_siblings_list").read()
              for c in cpus} if os.path.exists("/sys/devices/system/cpu/cpu0/topology") else None
  if siblings is not None:
    assert n == len(siblings)
  monkeypatch.setenv("IREE_PY_RUNTIME_FLAGS", "--task_topology_mode=physical_cores")
  assert iree._worker_flags() == []
  f = pyjax.jit(lambda x: x * 2.0)
  f(pyjax.numpy.ones(1_000_000)).block_until_ready()  # a local-task program
  workers = [t for t in os.listdir("/proc/self/task")
             if open(f"/proc/self/task/{t}/comm").read().startswith("iree-worker")]
  assert workers
  if "task_topology" not in _USER_IREE_FLAGS:
    for t in workers:
      assert os.sched_getaffinity(int(t)) == os.sched_getaffinity(0)


def test_outputs_of_the_fast_call_path():
  """A small synchronous program takes the short call path after its first call: its
  results are fresh arrays with the right shapes, dtypes and weak types, several outputs
  come back in order, and a single output is returned as itself."""
  f = pyjax.jit(lambda x, y: (x + y, (x * y).astype(np.int32), 2.0))
  a, b = pyjax.numpy.arange(4.0), pyjax.numpy.ones(4)
  for _ in range(3):
    s, p, c = f(a, b)
    np.testing.assert_array_equal(s, [1.0, 2.0, 3.0, 4.0])
    assert p.dtype == np.int32 and p.tolist() == [0, 1, 2, 3]
    assert c.weak_type and float(c) == 2.0
  g = pyjax.jit(lambda x: x + 1)
  for _ in range(3):
    r = g(a)
    assert type(r).__name__ in ("ArrayImpl", "PendingArray") and r.shape == (4,)
  assert g(a) is not g(a)
  for empty in (None, (), [], {}):  # one-node output trees with no leaves
    h = pyjax.jit(lambda x, e=empty: e)
    for _ in range(2):
      assert h(a) == empty
  assert pyjax.jit(lambda x: [x])(a)[0].shape == (4,)


def test_large_results_reuse_heap_memory(monkeypatch):
  """Large device buffers come from glibc's heap and stay there once freed: a program
  with a 100 MB result does not page-fault it in again on every call."""
  import resource
  import sys
  monkeypatch.setenv("PYJAX_MALLOC_TUNING", "0")
  assert not iree._tune_malloc()
  monkeypatch.delenv("PYJAX_MALLOC_TUNING")
  if not sys.platform.startswith("linux") or not iree._tune_malloc():
    pytest.skip("needs glibc's mallopt")
  f = pyjax.jit(lambda a, b: a[:, :, None] * b[:, None, :])
  a, b = pyjax.numpy.ones((64, 512)), pyjax.numpy.ones((64, 784))  # 103 MB result
  for _ in range(2):
    f(a, b).block_until_ready()
  before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
  for _ in range(3):
    r = f(a, b).block_until_ready()
    del r
  faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 3
  assert faults < 2000, faults  # a fresh 103 MB mapping costs ~25,000 faults
  np.testing.assert_array_equal(np.asarray(f(a, b))[:2, :2, :2], np.ones((2, 2, 2)))


# ---------------------------------------------------------------- many inputs and outputs
#
# IREE's runtime takes at most 32 buffer bindings a dispatch; its fusion does not know.
# NumPy is the oracle (JAX computes the same sums and products).

@pytest.fixture(scope="module")
def many_cache(tmp_path_factory):
  old = pyjax.config.jax_compilation_cache_dir
  pyjax.config.update("jax_compilation_cache_dir", str(tmp_path_factory.mktemp("many")))
  yield
  pyjax.config.update("jax_compilation_cache_dir", old)


def _inputs(n):
  return [np.arange(4, dtype=np.float32) * (i % 7) + i for i in range(n)]


@pytest.mark.parametrize("n", [1, 31, 32, 33, 100, 1000])
def test_many_inputs_fused_into_one_sum(n, many_cache):
  xs = _inputs(n)  # integers: every order of summation is exact in float32
  got = pyjax.jit(lambda *a: sum(a))(*xs)
  np.testing.assert_array_equal(np.asarray(got), np.sum(xs, axis=0))


@pytest.mark.parametrize("n", [1, 31, 32, 33, 100, 1000])
def test_many_outputs(n, many_cache):
  x = np.arange(4 * n, dtype=np.float32).reshape(n, 4)
  got = pyjax.jit(lambda x: list(x * 2 + 1))(x)  # n results of one dispatch
  assert len(got) == n
  np.testing.assert_array_equal(np.stack([np.asarray(g) for g in got]), x * 2 + 1)


def test_many_outputs_that_differ_in_a_constant(many_cache):
  """Many results: constants are read from buffers (one executable for all the adds)."""
  x = np.arange(4, dtype=np.float32)
  got = pyjax.jit(lambda x: [x + i for i in range(200)] + [x * 2.5 - 1])(x)
  np.testing.assert_array_equal(np.stack([np.asarray(g) for g in got]),
                                np.stack([x + i for i in range(200)] + [x * 2.5 - 1]))


@pytest.mark.parametrize("n", [33, 100])
def test_many_inputs_feed_many_outputs(n, many_cache):
  xs = _inputs(n)
  got = pyjax.jit(lambda *a: [sum(a) * (i % 3) - a[i] for i in range(len(a))])(*xs)
  s = np.sum(xs, axis=0)
  np.testing.assert_array_equal(np.stack([np.asarray(g) for g in got]),
                                np.stack([s * (i % 3) - x for i, x in enumerate(xs)]))


def test_loops_carry_40_values(many_cache):
  xs = _inputs(40)

  def body(vals):
    s = sum(vals)
    return [v * 0.5 + s * (k % 3) for k, v in enumerate(vals)]

  want = list(xs)
  for _ in range(3):
    want = [np.float32(.5) * v + sum(want) * np.float32(k % 3) for k, v in enumerate(want)]
  fw = pyjax.jit(lambda *a: pyjax.lax.fori_loop(0, 3, lambda i, c: body(c), list(a)))
  fs = pyjax.jit(lambda *a: pyjax.lax.scan(lambda c, _: (body(c), sum(c)), list(a),
                                           None, length=3))
  carry, ys = fs(*xs)
  for got in (fw(*xs), carry):
    np.testing.assert_allclose(np.stack([np.asarray(g) for g in got]), np.stack(want),
                               rtol=1e-5)
  np.testing.assert_allclose(np.asarray(ys)[0], np.sum(xs, axis=0), rtol=1e-6)


def test_pytree_of_50_leaves_through_jit_and_grad(many_cache):
  tree = {f"w{i}": np.arange(3, dtype=np.float32) + i for i in range(50)}

  def loss(t):
    return sum(((v * v).sum() * (int(k[1:]) + 1) for k, v in t.items()), 0.0)

  jl = pyjax.jit(loss)
  np.testing.assert_allclose(float(jl(tree)), loss(tree), rtol=1e-6)
  g = pyjax.grad(jl)(tree)
  assert sorted(g) == sorted(tree)
  for k, v in tree.items():
    np.testing.assert_allclose(np.asarray(g[k]), 2 * v * (int(k[1:]) + 1), rtol=1e-6)
  out = pyjax.jit(lambda t: {k: v * 2 + 1 for k, v in t.items()})(tree)
  for k, v in tree.items():
    np.testing.assert_array_equal(np.asarray(out[k]), v * 2 + 1)


def test_a_dispatch_over_the_limit_recompiles(monkeypatch, cache_dir):
  """When the fusion width misses a wide dispatch, the module fails to load on IREE's
  binding limit and is compiled again without wide fusion."""
  monkeypatch.setattr(iree, "MAX_FUSION_WIDTH", {"cpu": 10 ** 9, "gpu": 10 ** 9})
  xs = _inputs(40)
  before = iree.stats["compiles"]
  got = pyjax.jit(lambda *a: sum(a) * 3)(*xs)
  np.testing.assert_array_equal(np.asarray(got), np.sum(xs, axis=0) * 3)
  assert iree.stats["compiles"] - before == 2
  assert iree.binding_limit_error(IndexError("OUT_OF_RANGE; binding count 33 > 32; ..."))
  assert iree.binding_limit_error(RuntimeError(
      "CUDA executable export[0] binding count 17 exceeds maximum of 16"))
  assert not iree.binding_limit_error(RuntimeError("binding count"))

"""IREE backend: compilation caches (memory, disk, corruption), buffers, drivers."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax import lax
from pyjax._src.backends import iree
from pyjax.extend import backend as extend_backend
from util import enable_x64

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


def _option(request, name, value):
  """Sets config option ``name`` for the rest of the test."""
  old = getattr(pyjax.config, name)
  pyjax.config.update(name, value)
  request.addfinalizer(lambda: pyjax.config.update(name, old))


def _reset_warnings(monkeypatch):
  monkeypatch.setattr(iree, "_warned", set())


def _path(text, asynchronous=False):
  key, text_hash = iree.entry_key(text, asynchronous=asynchronous)
  return os.path.join(iree.cache_dir(), key[:2], key + ".vmfb"), key, text_hash


MUL = MODULE.replace("stablehlo.add", "stablehlo.multiply")


@pytest.fixture(scope="module")
def vmfbs(tmp_path_factory):
  """The modules of MODULE (adds) and MUL (multiplies), compiled once."""
  old = pyjax.config.jax_compilation_cache_dir
  pyjax.config.update("jax_compilation_cache_dir", str(tmp_path_factory.mktemp("c")))
  try:
    return iree.compile_module(MODULE), iree.compile_module(MUL)
  finally:
    pyjax.config.update("jax_compilation_cache_dir", old)


def test_disk_cache_roundtrip_and_corruption(cache_dir, monkeypatch):
  _reset_warnings(monkeypatch)
  text = MODULE + f"// {cache_dir}\n"  # a key no other test uses
  n0 = iree.stats["compiles"]
  vmfb = iree.compile_module(text)
  assert iree.stats["compiles"] == n0 + 1
  files = _entries(cache_dir)
  assert files == [_path(text)[0]]
  iree._mem_cache.clear()
  d0 = iree.stats["disk_hits"]
  assert iree.compile_module(text) == vmfb and iree.stats["disk_hits"] == d0 + 1
  # Truncate the entry: detected by its checksum, reported, recompiled, rewritten.
  with open(files[0], "r+b") as f:
    f.truncate(os.path.getsize(files[0]) // 2)
  iree._mem_cache.clear()
  c0 = iree.stats["corrupt"]
  with pytest.warns(UserWarning, match="entry .* is unusable: its checksum"):
    vmfb2 = iree.compile_module(text)
  assert iree.stats["corrupt"] == c0 + 1 and iree.stats["compiles"] == n0 + 2
  np.testing.assert_array_equal(_run(vmfb2), [0, 2, 4, 6])
  iree._mem_cache.clear()
  iree.compile_module(text)  # replaced: a good entry again
  assert iree.stats["disk_hits"] == d0 + 2
  # Flip a payload byte: also detected, and reported only once per process.
  with open(files[0], "r+b") as f:
    f.seek(-5, os.SEEK_END)
    b = f.read(1)
    f.seek(-5, os.SEEK_END)
    f.write(bytes([b[0] ^ 0xFF]))
  iree._mem_cache.clear()
  import warnings
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    iree.compile_module(text)
  assert iree.stats["corrupt"] == c0 + 2


def test_cache_key_depends_on_text_flags_versions_and_cpu(monkeypatch):
  k = iree.cache_key(MODULE, iree.CPU_FLAGS)
  assert k != iree.cache_key(MODULE + " ", iree.CPU_FLAGS)
  assert k != iree.cache_key(MODULE, iree.CPU_FLAGS[:-1])
  cpu = iree.host_cpu()
  assert cpu and cpu == iree.host_cpu()
  if os.path.exists("/proc/cpuinfo") and iree._cpuinfo() is not None:
    assert cpu == iree._cpuinfo()
    with open("/proc/cpuinfo") as f:
      flags = next((ln for ln in f if ln.split(":")[0].strip() in ("flags", "Features")),
                   None)
    if flags is not None:  # the features are in the key
      assert all(w in cpu for w in flags.split(":", 1)[1].split())
  monkeypatch.setattr(iree, "_host_cpu", cpu + " with one feature less")
  assert iree.cache_key(MODULE, iree.CPU_FLAGS) != k
  assert iree.cache_key(MODULE, iree.CUDA_FLAGS) == iree.cache_key(MODULE, iree.CUDA_FLAGS)
  monkeypatch.setattr(iree, "_host_cpu", cpu)
  assert iree.cache_key(MODULE, iree.CPU_FLAGS) == k
  monkeypatch.setattr(iree, "_versions", "another\0runtime")
  assert iree.cache_key(MODULE, iree.CPU_FLAGS) != k
  assert iree.runtime_version() and iree.compiler_version()


def test_compiler_resolves_host_to_a_named_cpu():
  """Where there is no /proc/cpuinfo, the key holds the target IREE makes of ``host``."""
  t = iree._compiler_host_target()
  assert "cpu: " in t and "(unresolved)" not in t, t
  assert "cpu: host" not in t


def test_entry_made_on_another_cpu_is_never_loaded(cache_dir, monkeypatch, vmfbs):
  """An entry compiled for another CPU has another key; planted under this CPU's name
  (an entry written by a key that ignored the CPU), its stored key gives it away."""
  _reset_warnings(monkeypatch)
  text = MODULE + "// another cpu\n"
  cpu = iree.host_cpu()
  monkeypatch.setattr(iree, "_host_cpu", "a CPU with other features")
  other, key, text_hash = _path(text)
  iree._write_disk(other, key, text_hash, vmfbs[0])  # what that CPU's process wrote
  monkeypatch.setattr(iree, "_host_cpu", cpu)
  mine = _path(text)[0]
  assert mine != other and not os.path.exists(mine)
  iree._mem_cache.clear()
  n0, d0 = iree.stats["compiles"], iree.stats["disk_hits"]
  iree.compile_module(text)
  assert iree.stats["compiles"] == n0 + 1 and iree.stats["disk_hits"] == d0
  os.replace(other, mine)  # the other CPU's entry under this CPU's name
  iree._mem_cache.clear()
  m0 = iree.stats["mismatched"]
  with pytest.warns(UserWarning, match="holds another module"):
    iree.compile_module(text)
  assert iree.stats["mismatched"] == m0 + 1 and iree.stats["compiles"] == n0 + 2
  with open(mine, "rb") as f:  # replaced by this CPU's entry
    assert f.read()[len(iree._MAGIC) + 32:][:32] == bytes.fromhex(_path(text)[1])


def test_entry_with_a_valid_checksum_for_another_function_is_not_run(cache_dir,
                                                                     monkeypatch, vmfbs):
  _reset_warnings(monkeypatch)
  add_text, mul_text = MODULE + "// f\n", MUL + "// g\n"
  add_path, add_key, add_hash = _path(add_text)
  mul_path = _path(mul_text)[0]
  iree._write_disk(add_path, add_key, add_hash, vmfbs[0])
  os.makedirs(os.path.dirname(mul_path), exist_ok=True)
  with open(add_path, "rb") as f, open(mul_path, "wb") as g:
    g.write(f.read())  # a valid entry, for the other function
  iree._mem_cache.clear()
  with pytest.warns(UserWarning, match="holds another module"):
    vmfb = iree.compile_module(mul_text)
  np.testing.assert_array_equal(_run(vmfb), [0, 1, 4, 9])  # x * x, not x + x
  iree._mem_cache.clear()
  d0 = iree.stats["disk_hits"]
  np.testing.assert_array_equal(_run(iree.compile_module(mul_text)), [0, 1, 4, 9])
  assert iree.stats["disk_hits"] == d0 + 1  # the entry was replaced


def test_cached_module_the_runtime_refuses_is_recompiled(cache_dir, monkeypatch):
  """An entry whose checksum and key match but which the runtime cannot load (another
  IREE's format): reported once, recompiled and replaced; never a permanent failure."""
  _reset_warnings(monkeypatch)
  text = MODULE + "// refused\n"
  path, key, text_hash = _path(text)
  iree._write_disk(path, key, text_hash, b"not a VM module" * 8)
  iree._mem_cache.clear()
  f0 = iree.stats["load_failures"]
  with pytest.warns(UserWarning, match="refused a cached compiled module"):
    ex = iree.load_module(text, "cpu", "local-sync", 1)
  assert iree.stats["load_failures"] == f0 + 1
  a = iree.to_device(np.arange(4, dtype=np.float32), "local-sync")
  out, = ex.call([a.view, a.view])
  np.testing.assert_array_equal(
      iree.to_host(iree.DeviceBuffer(out, "local-sync"), (4,), np.float32), [0, 2, 4, 6])
  iree._mem_cache.clear()
  iree.load_module(text, "cpu", "local-sync", 1)  # the replaced entry loads
  assert iree.stats["load_failures"] == f0 + 1
  # Through jit: a refused entry of a jitted function's module is recompiled too.
  f = pyjax.jit(lambda x: x * 3.0 + 1.0)
  x = pyjax.numpy.arange(3.0)
  text = f.lower(x).as_text()
  path, key, text_hash = _path(text)
  iree._write_disk(path, key, text_hash, b"junk" * 64)
  iree._mem_cache.clear()
  np.testing.assert_array_equal(f(x), [1.0, 4.0, 7.0])  # (warned once already)
  assert iree.stats["load_failures"] == f0 + 2


def _no_tmp_files(d):
  return [f for _, _, fs in os.walk(d) for f in fs if f.startswith(".tmp-")]


@pytest.mark.parametrize("how", ["file-in-path", "chmod", "full-disk"])
def test_unwritable_cache_dir_warns_once_and_leaves_nothing(tmp_path, monkeypatch, how,
                                                             vmfbs, request):
  _reset_warnings(monkeypatch)
  d = tmp_path / "cache"
  if how == "file-in-path":  # (chmod does not stop root)
    (tmp_path / "file").write_text("")
    d = tmp_path / "file" / "cache"
  elif how == "chmod":
    if os.geteuid() == 0:
      pytest.skip("root writes to read-only directories (the other cases cover it)")
    d.mkdir()
    d.chmod(0o500)
  else:
    def full(fd, data):  # half of it fits
      os.write(fd, data[:len(data) // 2])
      raise OSError(28, "No space left on device")
    monkeypatch.setattr(iree, "_write_all", full)
  _option(request, "jax_compilation_cache_dir", str(d))
  w0 = iree.stats["write_failures"]
  try:
    with pytest.warns(UserWarning, match="cannot write to the compilation cache"):
      for i in range(3):  # go on without the disk cache; one warning
        iree._write_disk(_path(f"{i}")[0], *_path(f"{i}")[1:], vmfbs[0])
    assert iree.stats["write_failures"] == w0 + 1
    if os.path.isdir(d):
      assert _no_tmp_files(d) == [] and _entries(d) == []
    iree._mem_cache.clear()
    np.testing.assert_array_equal(_run(iree.compile_module(MODULE)), [0, 2, 4, 6])
  finally:
    if how == "chmod":
      d.chmod(0o700)


def test_disk_cache_evicts_least_recently_used(cache_dir, vmfbs, request):
  vmfb = vmfbs[0]
  size = len(iree._MAGIC) + 96 + len(vmfb)
  _option(request, "jax_compilation_cache_max_size", int(size * 2.5))
  texts = [MODULE + f"// lru {i}\n" for i in range(4)]
  paths = [_path(t) for t in texts]
  now = time.time()
  for (p, k, h), age in zip(paths[:2], (100, 50)):
    iree._write_disk(p, k, h, vmfb)
    os.utime(p, (now - age, now - age))
  iree._mem_cache.clear()
  d0 = iree.stats["disk_hits"]
  iree.compile_module(texts[0])  # a hit: now the most recently used
  assert iree.stats["disk_hits"] == d0 + 1 and os.path.getmtime(paths[0][0]) > now - 10
  sub = os.path.dirname(paths[0][0])
  for name, age in ((".tmp-dead", 2 * iree.STALE_TMP_SECONDS), (".tmp-live", 0)):
    with open(os.path.join(sub, name), "wb") as f:  # a dead and a live writer's files
      f.write(b"x")
    os.utime(os.path.join(sub, name), (now - age, now - age))
  iree._write_disk(*paths[2], vmfb)  # 3 entries > 2.5: the least recently used goes
  assert sorted(_entries(cache_dir)) == sorted([paths[0][0], paths[2][0]])
  assert _no_tmp_files(cache_dir) == [".tmp-live"]
  # Larger than the whole cache: not written; size 0: no disk cache at all.
  _option(request, "jax_compilation_cache_max_size", size - 1)
  iree._write_disk(*paths[3], vmfb)
  assert not os.path.exists(paths[3][0])
  _option(request, "jax_compilation_cache_max_size", 0)
  iree._mem_cache.clear()
  iree.compile_module(texts[3])
  assert not os.path.exists(paths[3][0])
  assert os.path.exists(paths[0][0])


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


def test_driver_choice_for_loops():
  # A program with a VM-level loop runs on the calling thread up to LOOP_SYNC_FACTOR
  # times the size limit of other programs (each iteration's hand-off to the workers
  # costs more than its small dispatches).
  from pyjax._src.core import ShapedArray
  n = iree.SMALL_PROGRAM_BYTES // 4  # float32 elements: twice the limit, in and out
  mid = [ShapedArray((n,), np.float32)]
  assert iree.pick_driver(mid, mid) == "local-task"
  assert iree.pick_driver(mid, mid, loops=True) == "local-sync"
  huge = [ShapedArray((n * iree.LOOP_SYNC_FACTOR,), np.float32)]
  assert iree.pick_driver(huge, huge, loops=True) == "local-task"
  # ... unless a loop body's own arrays are big: each step is then worth the workers.
  assert iree.pick_driver(mid, mid, loops=True,
                          loop_elements=iree.LOOP_TASK_ELEMENTS) == "local-task"
  assert iree.pick_driver(mid, mid, loops=True,
                          loop_elements=iree.LOOP_TASK_ELEMENTS - 1) == "local-sync"


def test_loop_body_work_picks_the_workers():
  """Knuth's Poisson sampler over 2^20 lanes: a while loop whose body works on whole
  arrays of 2^20 elements runs on local-task (the workers) though its 4 MiB of
  results are under the loop limit; a scan RNN's body (16x256 arrays, a 256x256 dot)
  measures 4,096 elements and stays on the calling thread."""
  import pyjax
  from pyjax import lax
  from pyjax._src import dispatch
  n = 1 << 20
  f = pyjax.jit(lambda k: pyjax.random.poisson(k, 4.0, (n,)))
  jaxpr = pyjax.make_jaxpr(lambda k: pyjax.random.poisson(k, 4.0, (n,)))(
      pyjax.random.key(0)).jaxpr
  assert dispatch._loop_body_elements(jaxpr) == n
  x = f(pyjax.random.key(0))
  assert next(iter(f._cache.values())).compiled.driver == "local-task"
  assert abs(float(jnp.mean(x)) - 4.0) < 0.02

  def rnn(w, xs):
    return lax.scan(lambda h, x: (jnp.tanh(h @ w + x), h), jnp.zeros((16, 256)), xs)
  jaxpr = pyjax.make_jaxpr(rnn)(jnp.zeros((256, 256)), jnp.zeros((200, 16, 256))).jaxpr
  assert dispatch._loop_body_elements(jaxpr) == 16 * 256
  assert dispatch._loop_body_elements(
      pyjax.make_jaxpr(lambda x: x * 2)(jnp.zeros((n,))).jaxpr) == 0


def test_memory_bound_programs_stay_on_the_calling_thread_longer():
  """A program of only cheap arithmetic, moves and sums runs on the calling thread up
  to MEMORY_BOUND_FACTOR times SMALL_PROGRAM_BYTES (the workers do not repay their hand-off); one that
  computes (exp), works in float16 or multiplies matrices keeps the 1 MiB limit."""
  import pyjax
  from pyjax._src import dispatch
  from pyjax._src.core import ShapedArray
  n = 1000  # 4 MB in, 4 MB out
  mid = [ShapedArray((n, n), np.float32)]
  assert iree.pick_driver(mid, mid, memory_bound=True) == "local-sync"
  assert iree.pick_driver(mid, mid) == "local-task"
  big = [ShapedArray((2000, 2000), np.float32)]
  assert iree.pick_driver(big, big, memory_bound=True) == "local-task"
  x = jnp.asarray(np.random.default_rng(0).standard_normal((n, n)).astype(np.float32))
  cases = [(lambda x: x * x + x * 2.0, True),
           (lambda x: jnp.sum(jnp.maximum(x, 0) ** 2, 0) + x.T[0], True),
           (lambda x: jnp.exp(x) * 2.0, False),
           (lambda x: (x.astype(jnp.float16) * 2).astype(jnp.float32), False),
           (lambda x: x @ x, False)]
  for fn, cheap in cases:
    assert dispatch._memory_bound(pyjax.make_jaxpr(fn)(x).jaxpr) is cheap
    f = pyjax.jit(fn)
    np.testing.assert_allclose(np.asarray(f(x)), np.asarray(fn(np.asarray(x))),
                               rtol=2e-3, atol=2e-3)
    driver = next(iter(f._cache.values())).compiled.driver
    assert driver == ("local-sync" if cheap else "local-task"), (fn, driver)


def test_blocking_wait_restores_the_scheduling_policy():
  """A wait that blocks runs under SCHED_BATCH (IREE's waiter spins after its wake-up;
  see ``iree.wait``) and the thread gets its own policy back, errors included."""
  import os
  if not hasattr(os, "SCHED_BATCH"):
    pytest.skip("no SCHED_BATCH on this platform")
  seen = []

  class Slow:  # a fence that is not ready at the first (immediate) check
    def __init__(self, fail=False):
      self.calls, self.fail = 0, fail

    def wait(self, timeout):
      self.calls += 1
      seen.append(os.sched_getscheduler(0))
      if self.fail and self.calls > 1:
        raise RuntimeError("failed")
      return self.calls > 2

  before = os.sched_getscheduler(0)
  if before != os.SCHED_OTHER:
    pytest.skip("this thread is not under the default policy")
  iree.wait(Slow())
  assert seen == [before, os.SCHED_BATCH, os.SCHED_BATCH]
  assert os.sched_getscheduler(0) == before
  with pytest.raises(RuntimeError, match="failed"):
    iree.wait(Slow(fail=True))
  assert os.sched_getscheduler(0) == before


def test_scan_program_runs_on_the_calling_thread():
  import pyjax
  from pyjax import lax, numpy as jnp

  def loss(w, xs):
    h, _ = lax.scan(lambda h, x: (jnp.tanh(h @ w + x), None), jnp.zeros((16, 256)), xs)
    return jnp.mean(h ** 2)
  w = jnp.asarray(np.eye(256, dtype=np.float32) * 0.5)
  xs = jnp.asarray(np.ones((200, 16, 256), np.float32) * 0.01)  # 3.3 MB: over 1 MiB
  f = pyjax.jit(pyjax.value_and_grad(loss))
  v, g = f(w, xs)
  assert next(iter(f._cache.values())).compiled.driver == "local-sync"
  ref = np.zeros((16, 256), np.float32)
  for x in np.asarray(xs):
    ref = np.tanh(ref @ np.asarray(w) + x)
  np.testing.assert_allclose(float(v), np.mean(ref ** 2), rtol=1e-5)
  assert g.shape == (256, 256)


def test_float64_math_of_constants_links_libm():
  """float64 sin/cos/atan2/tanh call libm, which IREE's compile-time evaluation of
  constants could not link ("undefined symbol: sin"): jnp.sin of a small iota failed to
  compile, in float32 too (its float32 sin evaluates float64 kernels)."""
  x = pyjax.jit(lambda s: s * jnp.sin(jnp.arange(4, dtype=np.float32)))(np.float32(2))
  np.testing.assert_allclose(np.asarray(x), 2 * np.sin(np.arange(4, dtype=np.float32)),
                             rtol=1e-6)
  with enable_x64():
    c = np.arange(1, 5) / 8

    def f(s):
      k = jnp.arange(1, 5, dtype=np.float64) / 8
      return [s * g(k) for g in (jnp.sin, jnp.cos, jnp.tan, jnp.tanh, jnp.arcsin)] + \
          [s * jnp.arctan2(k, 1.5)]

    got = pyjax.jit(f)(np.float64(1))
    want = [g(c) for g in (np.sin, np.cos, np.tan, np.tanh, np.arcsin)] + \
        [np.arctan2(c, 1.5)]
    for g, w in zip(got, want):
      np.testing.assert_allclose(np.asarray(g), w, rtol=1e-14)


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
  once) and EXTRA_WORKERS more, unless the user chose IREE's topology flags; the workers
  of the running process are free to migrate."""
  monkeypatch.delenv("IREE_PY_RUNTIME_FLAGS", raising=False)
  cpus = os.sched_getaffinity(0)
  flag, stack = iree._worker_flags()
  n = int(flag.split("=")[1]) - iree.EXTRA_WORKERS
  assert flag.startswith("--task_topology_group_count=") and 1 <= n <= len(cpus)
  assert stack == f"--task_worker_stack_size={iree.WORKER_STACK_BYTES}"
  siblings = {open(f"/sys/devices/system/cpu/cpu{c}/topology/thread_siblings_list").read()
              for c in cpus} if os.path.exists("/sys/devices/system/cpu/cpu0/topology") else None
  if siblings is not None:
    assert n == len(siblings)
  monkeypatch.setenv("IREE_PY_RUNTIME_FLAGS", "--task_topology_mode=physical_cores")
  assert iree._worker_flags() == [stack]
  monkeypatch.setenv("IREE_PY_RUNTIME_FLAGS", "--task_worker_stack_size=65536")
  assert iree._worker_flags() == [flag]
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


# ---------------------------------------------------------------- process life: exit,
# Ctrl-C, fork (each in fresh interpreters)

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _python(args, tmp_path, timeout=120, **kw):
  """Runs ``python *args`` on this checkout's pyjax, with its own compilation cache."""
  import subprocess
  import sys
  env = dict(os.environ, PYTHONPATH=_ROOT, JAX_COMPILATION_CACHE_DIR=str(tmp_path),
             JAX_PLATFORMS="cpu")
  return subprocess.run([sys.executable, *args], env=env, cwd=_ROOT, timeout=timeout,
                        capture_output=True, text=True, **kw)


# A runner of unmodified JAX programs: ``jax`` and its public submodules are pyjax's. It
# forks ``n`` children (one first, to fill the compilation cache; then the rest at once);
# each runs the program and exits through the interpreter's normal teardown. It prints
# the children's exit codes.
_ALIASED_RUNNER = """
import importlib, json, os, pkgutil, runpy, sys
import pyjax
sys.modules["jax"] = pyjax
for info in pkgutil.walk_packages(pyjax.__path__, "pyjax."):
  if "._" not in info.name:
    sys.modules["jax" + info.name[len("pyjax"):]] = importlib.import_module(info.name)
prog, n = sys.argv[1], int(sys.argv[2])
codes = []
def child():
  if os.fork() == 0:
    runpy.run_path(prog, run_name="__main__")
    sys.exit(0)  # (SystemExit ends the interpreter normally)
child()
codes.append(os.waitstatus_to_exitcode(os.wait()[1]))
for _ in range(n - 1):
  child()
for _ in range(n - 1):
  codes.append(os.waitstatus_to_exitcode(os.wait()[1]))
print(json.dumps(codes))
"""

# Dataclass pytrees through jit, a result kept in a reference cycle, and an asynchronous
# (local-task) result still computing at exit.
_EXIT_PROGRAM = """
import dataclasses
import jax, jax.numpy as jnp

@jax.tree_util.register_dataclass
@dataclasses.dataclass
class P:
  w: object
  b: object

@jax.tree_util.register_pytree_node_class
class Q:
  def __init__(self, a):
    self.a = a
  def tree_flatten(self):
    return (self.a,), None
  @classmethod
  def tree_unflatten(cls, aux, children):
    return cls(*children)

p = P(w=jnp.ones(2), b=jnp.zeros(2))
f = jax.jit(lambda p, q: (p.w + p.b, Q(q.a * 2)))
r, q = f(p, Q(jnp.arange(3.0)))
big = jax.jit(lambda a: jnp.tanh(a @ a))
x = big(jnp.ones((400, 400)))
x = big(x)  # left computing
cycle = [p, r, f, q, big, x]
cycle.append(cycle)
assert r.tolist() == [1.0, 1.0] and q.a.tolist() == [0.0, 2.0, 4.0], (r, q.a)
"""


def test_exit_is_clean_with_jax_aliased_and_dataclass_pytrees(tmp_path):
  """The interpreter's teardown frees arrays, jitted functions and executables in no
  fixed order; IREE's instance and devices outlive them all: 20 runs exit with code 0
  (before: SIGSEGV in IREE's runtime in most runs)."""
  import json
  prog = tmp_path / "prog.py"
  prog.write_text(_EXIT_PROGRAM)
  res = _python(["-c", _ALIASED_RUNNER, str(prog), "20"], tmp_path)
  assert res.returncode == 0, res.stderr
  codes = json.loads(res.stdout.strip().splitlines()[-1])
  assert codes == [0] * 20, (codes, res.stderr[-3000:])
  assert "leaked" not in res.stderr, res.stderr[-3000:]


_LONG_LOOPS = """
import pyjax, pyjax.numpy as jnp
from pyjax._src.interpreters import native_loops
# (loops as stablehlo.while: a native loop is one dispatch, which runs to its end and
# holds the process's exit until then; see docs/architecture.md, "Native loops")
native_loops.set_enabled(False)
f = pyjax.jit(lambda x, n: pyjax.lax.fori_loop(0, n, lambda i, x: jnp.sin(x) + 0.5, x))
x = jnp.ones(1_000_000)  # a local-task (asynchronous) program
assert abs(float(f(x, 1)[0]) - 1.3414710) < 1e-6
# (compiled now: once f's interrupted work runs on in the background, it takes the cores)
g = pyjax.jit(lambda x, n: pyjax.lax.fori_loop(0, n, lambda i, x: x * 0.999 + 1.0, x))
assert float(g(0.0, 1)) == 1.0
try:  # (the signal may come before the call on a loaded machine: caught all the same)
  print("started", flush=True)
  f(x, 10**7).block_until_ready()  # minutes of work
except KeyboardInterrupt:
  print("interrupted", flush=True)
# A small (local-sync) program: once one call ran long, the next ones can be stopped.
assert abs(float(g(0.0, 50_000)) - 1000.0) < 0.1
print("started", flush=True)
g(0.0, 10**9)  # hours of work
print("finished", flush=True)
"""


def test_ctrl_c_interrupts_a_running_program(tmp_path):
  """SIGINT while waiting on a running compiled program raises KeyboardInterrupt at once,
  the work left running (before: only once it ended); twice: an asynchronous program
  caught, then a synchronous one that ends the process."""
  import queue
  import signal
  import subprocess
  import sys
  import threading
  import time
  env = dict(os.environ, PYTHONPATH=_ROOT, JAX_COMPILATION_CACHE_DIR=str(tmp_path),
             JAX_PLATFORMS="cpu")
  def default_sigint():  # (whatever the test process's own SIGINT state is)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)

  p = subprocess.Popen([sys.executable, "-c", _LONG_LOOPS], env=env, cwd=_ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       preexec_fn=default_sigint)
  lines = queue.SimpleQueue()
  threading.Thread(target=lambda: [lines.put(s) for s in p.stdout], daemon=True).start()

  def line(timeout):
    try:
      return lines.get(timeout=timeout)
    except queue.Empty:
      p.kill()
      raise AssertionError(f"no output for {timeout} s; the program's stderr:\n"
                           f"{p.stderr.read()[-3000:]}") from None
  took = []
  try:
    for expect in ("interrupted\n", None):
      assert line(60) == "started\n"
      time.sleep(0.5)
      p.send_signal(signal.SIGINT)
      t = time.perf_counter()
      if expect is not None:
        assert line(30) == expect
      else:
        p.wait(timeout=30)
      took.append(time.perf_counter() - t)
  finally:
    p.kill()
    err = p.stderr.read()
  assert p.returncode != 0 and "KeyboardInterrupt" in err, err
  # Here: interrupted within ~1 ms and exited within ~0.4 s; each program runs minutes.
  assert max(took) < 10, took


_FORK = """
import os, sys, time
import numpy as np
import pyjax, pyjax.numpy as jnp
f = pyjax.jit(lambda a: jnp.tanh(a @ a).sum(0))  # local-task (asynchronous)
loop = pyjax.jit(lambda x, n: pyjax.lax.fori_loop(0, n, lambda i, x: x * 0.5 + 1.0, x))
a = jnp.full((600, 600), 1 / 600, jnp.float32)
want = np.tanh(np.full(600, 1 / 600, np.float32)).sum() * np.ones(600, np.float32)
r = f(a)
assert np.allclose(r, want) and float(loop(jnp.ones(1_000_000), 3)[0]) == 1.875
r = f(a)  # still computing at the fork
pid = os.fork()
if pid == 0:
  ok = [np.allclose(r, want), np.allclose(f(a), want),  # the same program again
        np.allclose(pyjax.jit(lambda a: a @ a)(a), 1 / 600),  # a new program
        float(loop(jnp.ones(1_000_000), 3)[0]) == 1.875,
        float(loop(jnp.ones(4), 3)[0]) == 1.875]  # synchronous (local-sync)
  print("child", ok, flush=True)
  sys.exit(0 if all(ok) else 1)
for _ in range(600):
  done, status = os.waitpid(pid, os.WNOHANG)
  if done:
    print("child exit", os.waitstatus_to_exitcode(status), flush=True)
    break
  time.sleep(0.05)
else:
  os.kill(pid, 9)
  print("child hung", flush=True)
assert np.allclose(f(a), want)  # the parent goes on
"""


def test_jit_in_a_forked_child(tmp_path):
  """After os.fork() a child runs compiled programs (asynchronous ones load again on a
  fresh worker pool) and reads a result its parent was still computing; the parent goes
  on (before: the child hung on its first asynchronous program)."""
  res = _python(["-c", _FORK], tmp_path)
  assert res.returncode == 0, res.stderr[-3000:]
  assert res.stdout.splitlines()[-2:] == ["child [True, True, True, True, True]",
                                          "child exit 0"], (res.stdout, res.stderr[-3000:])


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


def test_1000_outputs_of_mixed_dtypes_and_shapes(many_cache):
  """Results of four dtypes and three shapes, interleaved, come back in order."""
  m = 250
  a = np.arange(m * 12, dtype=np.float32).reshape(m, 3, 4) / 7
  b = np.arange(m, dtype=np.int32) * 3 - 100

  def f(a, b):
    x, y = a * 2 + 1, b * b - 7
    z, e = y % 5 == 0, pyjax.numpy.zeros((m, 0), np.float16) + a[:, :1, 0].astype(np.float16)
    return [v for k in range(m) for v in (x[k], y[k], z[k], e[k])]

  got = pyjax.jit(f)(a, b)
  x, y = a * 2 + 1, b * b - 7
  want = [v for k in range(m) for v in (x[k], y[k], y[k] % 5 == 0, np.zeros(0, np.float16))]
  assert len(got) == len(want) == 1000
  for g, w in zip(got, want):
    assert (g.dtype, g.shape) == (w.dtype, w.shape)
    np.testing.assert_array_equal(np.asarray(g), w)


def test_multi_use_fusion_failure_recompiles_without_it():
  """IREE's multi-use fusion makes a dispatch its code generation refuses ("restricted
  to workgroup distributed contexts") for a reduction used fused and directly; the
  backend compiles such a module again without that fusion."""
  f = pyjax.jit(lambda a, b: (lambda m: ((a - m[:, None]) * b).sum(1) + m)(a.max(1)))
  a = np.arange(12.0, dtype=np.float32).reshape(3, 4)
  b = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
  m = a.max(1)
  np.testing.assert_allclose(np.asarray(f(a, b)), ((a - m[:, None]) * b).sum(1) + m)


def test_compile_remedies_combine():
  """sin and cos values used across fused products fail multi-use fusion ("operand
  does not dominate this use"); the module compiled without it then needs libm: the
  remedies apply one after the other."""
  def g(a, b):
    c, d, k = lax.sin(a), lax.cos(a), lax.sin(a)
    f = c * b
    return jnp.sum(f * d), jnp.sum(f * -(b * k) + (b * d * b + c * a) * d)
  x = np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(2, 3)
  for got, want in zip(pyjax.jit(g)(x, x), g(x, x)):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5)


def test_edge_pads_compile_as_concatenations():
  """Two edge pads of values with a common producer, added (the transpose of
  overlapping slices), fail IREE's compiler as stablehlo.pad (repro/pad_pad_add.mlir);
  edge pads lower as concatenations."""
  def rosen(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
  x = jnp.arange(5.0)
  np.testing.assert_allclose(np.asarray(pyjax.jit(pyjax.grad(rosen))(x)),
                             np.asarray(pyjax.grad(rosen)(x)), rtol=1e-6)
  text = pyjax.jit(lambda x: jnp.pad(x, ((1, 2), (0, 3)), constant_values=7.0)).lower(
      jnp.ones((2, 2))).as_text()
  assert "stablehlo.pad" not in text and "stablehlo.concatenate" in text
  got = pyjax.jit(lambda x: jnp.pad(x, ((1, 2), (0, 3)), constant_values=7.0))(
      jnp.ones((2, 2)))
  np.testing.assert_array_equal(np.asarray(got), np.pad(np.ones((2, 2)), ((1, 2), (0, 3)),
                                                        constant_values=7.0))


def test_complex128_fills_in_loop_carries(x64):
  """IREE cannot splat a complex128 constant (a 128-bit integer fill): a loop carry
  that starts at complex zeros compiles (constants are float64 parts, combined)."""
  z = jnp.ones(4, jnp.complex128) * (1 + 2j)

  def f(z):
    return pyjax.lax.fori_loop(0, 3, lambda i, s: s + z, jnp.zeros_like(z))

  def g(z):
    body = lambda s: (s[0] + 1, s[1] + z * (0.5 - 1j))
    return pyjax.lax.while_loop(lambda s: s[0] < 2, body, (0, jnp.full_like(z, 1j)))[1]

  np.testing.assert_allclose(np.asarray(pyjax.jit(f)(z)), 3 * np.asarray(z))
  np.testing.assert_allclose(np.asarray(pyjax.jit(g)(z)),
                             1j + 2 * np.asarray(z) * (0.5 - 1j))


def test_cache_knobs_min_time_min_size_and_off(cache_dir, request, vmfbs, monkeypatch):
  """JAX's options: modules that compiled faster than the minimum time, or are smaller
  than the minimum size, are not written; jax_enable_compilation_cache=False neither
  reads nor writes the disk cache."""
  texts = [MODULE + f"// knobs {i} {cache_dir}\n" for i in range(3)]
  assert pyjax.config.jax_enable_compilation_cache is True
  assert pyjax.config.jax_persistent_cache_min_compile_time_secs == 0.0  # JAX: 1.0
  assert pyjax.config.jax_persistent_cache_min_entry_size_bytes == 0
  _option(request, "jax_persistent_cache_min_compile_time_secs", 1e6)
  s0 = dict(iree.stats)
  iree.compile_module(texts[0])
  assert not os.path.exists(_path(texts[0])[0])
  assert iree.stats["skipped_fast"] == s0["skipped_fast"] + 1
  _option(request, "jax_persistent_cache_min_compile_time_secs", 0)
  _option(request, "jax_persistent_cache_min_entry_size_bytes", 1 << 30)
  iree.compile_module(texts[1])
  assert not os.path.exists(_path(texts[1])[0])
  assert iree.stats["skipped_small"] == s0["skipped_small"] + 1
  _option(request, "jax_persistent_cache_min_entry_size_bytes", -1)  # any size
  assert iree._worth_writing(0.0, 1)
  # Off: an entry on disk is not read, and the module compiled is not written.
  iree._write_disk(*_path(texts[2]), vmfbs[1])  # (a module that multiplies)
  _option(request, "jax_enable_compilation_cache", False)
  np.testing.assert_array_equal(_run(iree.compile_module(texts[2])), [0, 2, 4, 6])
  assert iree.stats["disk_hits"] == s0["disk_hits"]
  assert iree.stats["compiles"] == s0["compiles"] + 3
  pyjax.config.update("jax_enable_compilation_cache", True)
  iree._mem_cache.clear()
  np.testing.assert_array_equal(_run(iree.compile_module(texts[2])), [0, 1, 4, 9])
  assert iree.stats["disk_hits"] == s0["disk_hits"] + 1
  # clear_caches and jax.extend's clear_in_memory_compilation_cache empty the
  # in-memory modules, not the disk.
  pyjax.clear_caches()
  assert len(iree._mem_cache) == 0 and os.path.exists(_path(texts[2])[0])
  iree.compile_module(texts[2])
  assert len(iree._mem_cache) == 1
  extend_backend.clear_in_memory_compilation_cache()
  assert len(iree._mem_cache) == 0 and os.path.exists(_path(texts[2])[0])


def test_cache_options_checked_as_jax(request, tmp_path):
  jax = pytest.importorskip("jax")
  for name, bad in (("jax_persistent_cache_min_compile_time_secs", "1"),
                    ("jax_persistent_cache_min_entry_size_bytes", 1.5),
                    ("jax_compilation_cache_max_size", "big")):
    with pytest.raises(ValueError) as theirs:
      jax.config.update(name, bad)
    with pytest.raises(ValueError) as ours:
      pyjax.config.update(name, bad)
    assert str(ours.value) == str(theirs.value)
  from pyjax.experimental.compilation_cache import compilation_cache as cc
  old = pyjax.config.jax_compilation_cache_dir
  request.addfinalizer(lambda: pyjax.config.update("jax_compilation_cache_dir", old))
  cc.set_cache_dir(str(tmp_path))
  assert iree.cache_dir() == str(tmp_path)
  iree._unwritable.add("/nowhere")
  cc.reset_cache()
  assert not iree._unwritable


# ---------------------------------------------------------------- compile time (issue 21)

def test_modules_needing_libm_are_compiled_once(cache_dir):
  """float64 sin/cos/tan/tanh/atan2/fmod (and CHLO's functions built on them) and
  complex128 exp/log/sqrt/pow call libm, which IREE's embedded executables cannot link:
  such modules compile as system libraries at once, where they ran the whole pipeline
  to fail at the link first (a float32 sin keeps a float64 sine for huge arguments)."""
  op = '%1 = "{}"(%0) : (tensor<4x{t}>) -> tensor<4x{t}>'
  assert iree.needs_libm(op.format("stablehlo.sine", t="f64"))
  assert iree.needs_libm(op.format("stablehlo.remainder", t="f64"))
  assert iree.needs_libm(op.format("chlo.lgamma", t="f64"))
  assert iree.needs_libm(op.format("stablehlo.exponential", t="complex<f64>"))
  assert not iree.needs_libm(op.format("stablehlo.sine", t="f32"))
  assert not iree.needs_libm(op.format("stablehlo.exponential", t="f64"))
  assert not iree.needs_libm(op.format("stablehlo.exponential", t="complex<f32>"))
  tag = f"// {cache_dir}\n"  # keys no other test uses
  x = np.linspace(-3.0, 3.0, 4, dtype=np.float32)
  text = pyjax.jit(lambda x: jnp.sin(x) * 2 + 1).lower(x).as_text() + tag
  n0, r0 = iree.stats["compiles"], iree.stats["retries"]
  ex = iree.Executable(iree.compile_module(text), "local-sync", 1)
  out, = ex.call([iree.to_device(x, "local-sync").view])
  np.testing.assert_allclose(iree.to_host(iree.DeviceBuffer(out, "local-sync"), (4,),
                                          np.float32), np.sin(x) * 2 + 1, rtol=1e-6)
  with enable_x64():
    def f(s):
      k = jnp.arange(1, 5, dtype=np.float64) / 8 * s
      return [g(k) for g in (jnp.sin, jnp.cos, jnp.tan, jnp.tanh, jnp.arcsin,
                             jnp.arctan, lax.lgamma, lax.digamma)] + \
          [jnp.arctan2(k, 1.5), jnp.fmod(k, 0.3), jnp.exp(k * 1j), jnp.sqrt(k * 1j)]
    text = pyjax.jit(f).lower(np.float64(1)).as_text() + tag
  assert iree.needs_libm(text)
  iree.compile_module(text)
  assert iree.stats["compiles"] == n0 + 2 and iree.stats["retries"] == r0


def test_compiles_from_threads(cache_dir, monkeypatch):
  """Compiles run on several threads at once (tiered jit compiles in the background):
  different modules compile side by side into the right programs; a thread asking for
  a module another thread is compiling waits for it and takes its result."""
  import threading
  from iree import compiler as iree_compiler
  tag = f"// {cache_dir}\n"
  key = iree.entry_key(MODULE + tag)[0]
  real, first = iree_compiler.compile_str, threading.Event()

  def compile_str(*args, **kw):
    if not first.is_set():  # the first compile goes on once a second thread waits
      first.set()
      deadline = time.monotonic() + 30
      while iree._inflight.get(key, (None, 0))[1] < 2 and time.monotonic() < deadline:
        time.sleep(0.001)
    return real(*args, **kw)
  monkeypatch.setattr(iree_compiler, "compile_str", compile_str)
  n0, w0 = iree.stats["compiles"], iree.stats["waited"]
  got = {}

  def work(name, text):
    got[name] = iree.compile_module(text)
  threads = [threading.Thread(target=work, args=(n, t)) for n, t in
             (("add", MODULE + tag), ("add again", MODULE + tag), ("mul", MUL + tag))]
  threads[0].start()
  first.wait(30)
  for t in threads[1:]:
    t.start()
  for t in threads:
    t.join(60)
  assert got["add again"] is got["add"]
  assert iree.stats["compiles"] == n0 + 2 and iree.stats["waited"] == w0 + 1
  assert not iree._inflight
  np.testing.assert_array_equal(_run(got["add"]), [0, 2, 4, 6])
  np.testing.assert_array_equal(_run(got["mul"]), [0, 1, 4, 9])


_FORK_WHILE_COMPILING = """
import os, signal, threading
import numpy as np
from pyjax._src.backends import iree
text = '''%s'''
held, done = threading.Event(), threading.Event()

def compiling():  # another thread compiling the module at the fork
  with iree._compiling(iree.entry_key(text)[0]):
    held.set()
    done.wait()
t = threading.Thread(target=compiling)
t.start()
held.wait()
pid = os.fork()
if pid == 0:
  signal.alarm(60)  # (a child stuck on the parent's lock dies)
  ex = iree.Executable(iree.compile_module(text), "local-sync", 1)
  a = iree.to_device(np.arange(4, dtype=np.float32), "local-sync")
  out, = ex.call([a.view, a.view])
  v = iree.to_host(iree.DeviceBuffer(out, "local-sync"), (4,), np.float32)
  os._exit(0 if list(v) == [0, 2, 4, 6] else 3)
print("child", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
done.set()
t.join()
"""


def test_fork_while_another_thread_compiles(tmp_path):
  """A child forked while a thread of its parent compiles a module compiles that module
  itself: the parent's compile locks are not held in the child."""
  r = _python(["-c", _FORK_WHILE_COMPILING % MODULE], tmp_path)
  assert r.returncode == 0, r.stderr[-2000:]
  assert r.stdout.split()[-2:] == ["child", "0"], (r.stdout, r.stderr[-2000:])
def test_functions_of_modules_with_loops_are_placed_on_the_device(monkeypatch):
  """IREE copied each loop carry every step (it could not infer the device of an
  scf.while's block arguments): function definitions of a module with a
  ``stablehlo.while`` are placed on ``@__device_0`` when compiled; declarations (host
  callbacks) and modules without loops are left as they are. The key hashes the placed
  text."""
  f = pyjax.jit(lambda n, x: lax.while_loop(lambda c: c[0] < n,
                                            lambda c: (c[0] + 1, c[1] * 2.0), (0, x))[1])
  big = np.ones(iree.PLACE_MIN_ELEMENTS, np.float32)
  small = f.lower(np.int32(3), np.ones(100, np.float32)).as_text()
  assert iree._placed(small) == small  # small loops are left as they are
  text = f.lower(np.int32(3), big).as_text()
  decl = "  func.func private @pyjax_host.cb0(tensor<f32>) -> (tensor<f32>)\n"
  loop = text.replace("module @jit__lambda", "module @m", 1).replace(
      "\n  func.func public", "\n" + decl + "  func.func public", 1)
  placed = iree._placed(loop)
  attr = "attributes {stream.affinity = #hal.device.affinity<@__device_0>} {\n"
  assert placed.count(attr) == 1 and decl in placed
  assert placed.replace(" " + attr, " {\n") == loop
  assert iree._placed(MODULE) == MODULE
  out = f(np.int32(3), big)  # compiles and runs placed
  np.testing.assert_array_equal(np.asarray(out), np.full(big.size, 8.0, np.float32))
  key = iree.cache_key(loop, iree.CPU_FLAGS)
  monkeypatch.setattr(iree, "PLACE_LOOPS", False)
  assert iree._placed(loop) == loop and iree.cache_key(loop, iree.CPU_FLAGS) != key

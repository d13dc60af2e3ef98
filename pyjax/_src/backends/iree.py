"""IREE backend: compile StableHLO text to a VM module and call it on HAL buffers.

CPU executables run on two HAL devices: ``local-sync`` (runs on the calling
thread: ~8 us a call) for small programs and ``local-task`` (a worker pool:
~60 us to wake, but multi-threaded) for large ones. Buffers are host memory on
both; one made by the other CPU device is re-imported by copy. Results are read
back without a copy by mapping the buffer (a read-only NumPy view).

``local-task`` modules are compiled for IREE's async-external execution model:
``main`` takes a wait and a signal fence and returns once the work is queued
(asynchronous dispatch). All calls on a device form one in-order stream (see
``Stream``); a result's ``DeviceBuffer`` carries the fence it is ready at.

Compiled modules are cached in memory and on disk, keyed by the module text,
the compiler version and the flags; a disk entry carries a SHA-256 of its bytes
and is recompiled when it does not match.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading

import numpy as np

from pyjax._src import devices as _devices_mod, dtypes
from pyjax._src.config import config
from pyjax._src.interpreters import lowering

_lock = threading.Lock()

# Programs moving fewer bytes than this run on the calling thread (local-sync).
SMALL_PROGRAM_BYTES = int(os.environ.get("PYJAX_IREE_SYNC_BYTES", 1 << 20))

CPU_FLAGS = (
    "--iree-hal-target-device=local",
    "--iree-hal-local-target-device-backends=llvm-cpu",
    "--iree-llvmcpu-target-cpu=host",
    "--iree-opt-level=O3",
    "--iree-opt-data-tiling",
    "--iree-llvmcpu-enable-ukernels=all",
    "--iree-input-demote-f64-to-f32=false",
    "--iree-input-demote-i64-to-i32=false",
)
CUDA_FLAGS = (
    "--iree-hal-target-device=cuda",
    "--iree-opt-level=O3",
    "--iree-input-demote-f64-to-f32=false",
    "--iree-input-demote-i64-to-i32=false",
)


# The IREE driver behind the "gpu" platform. Tests set it to a CPU driver to exercise
# the GPU code paths (device placement, eager dispatch) on machines without a GPU.
gpu_driver = "cuda"
HOST_DRIVERS = ("local-sync", "local-task")


def platform_flags(platform: str):
  """Compiler flags for a platform ("cpu" or "gpu")."""
  if platform == "cpu" or gpu_driver in HOST_DRIVERS:
    return CPU_FLAGS
  return CUDA_FLAGS


def compiler_version() -> str:
  from iree.compiler import version
  return f"{version.VERSION}-{version.REVISIONS}"


# ---------------------------------------------------------------- compilation + caches

_mem_cache: dict[str, bytes] = {}
stats = {"compiles": 0, "disk_hits": 0, "mem_hits": 0, "corrupt": 0}
_MAGIC = b"PYJAXVMFB1"


def cache_dir() -> str:
  d = config.jax_compilation_cache_dir
  if not d:
    d = os.path.join(os.environ.get("XDG_CACHE_HOME") or
                     os.path.join(os.path.expanduser("~"), ".cache"), "pyjax")
  return d


def cache_key(text: str, flags) -> str:
  h = hashlib.sha256()
  for part in (compiler_version(), "\0".join(flags), text):
    h.update(part.encode())
    h.update(b"\1")
  return h.hexdigest()


def _read_disk(path: str) -> bytes | None:
  try:
    with open(path, "rb") as f:
      blob = f.read()
  except OSError:
    return None
  n = len(_MAGIC)
  if len(blob) < n + 32 or blob[:n] != _MAGIC:
    stats["corrupt"] += 1
    return None
  digest, payload = blob[n:n + 32], blob[n + 32:]
  if hashlib.sha256(payload).digest() != digest:
    stats["corrupt"] += 1
    return None
  return payload


def _write_disk(path: str, payload: bytes) -> None:
  try:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
      f.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
    os.replace(tmp, path)  # atomic: readers never see a half-written entry
  except OSError:
    pass  # the disk cache is an optimisation only


ASYNC_FLAGS = ("--iree-execution-model=async-external",)

# IREE's runtime takes at most 32 buffer bindings a dispatch (16 on CUDA), but its
# multi-use producer fusion joins a cluster of elementwise ops of any width into one
# dispatch (a sum of 32 arrays reads 32 and writes 1: "binding count 33 > 32" when the
# module loads). A module whose widest cluster (``lowering.fusion_width``) could pass the
# limit is compiled without that fusion; its other elementwise fusion keeps a dispatch
# under 16 operands. Not for every module: it splits multi-use producers from their
# consumers (an Adam update ran 1.6x slower).
BOUNDED_FLAGS = ("--iree-dispatch-creation-fuse-multi-use=false",)
MAX_FUSION_WIDTH = {"cpu": 24, "gpu": 12}

# Constants read as buffers, not written into each dispatch: dispatches that differ only
# in a constant (``[x + i for i in range(1000)]``) become one executable, where IREE's
# code generation costs ~45 ms per distinct executable (1,000 outputs: 47 s). For
# programs with many results only; each constant then takes a binding.
SHARED_CONSTANTS_FLAGS = ("--iree-flow-inline-constants-max-byte-length=0",)


def binding_limit_error(e: BaseException) -> bool:
  """Whether ``e`` is IREE refusing a dispatch with too many buffer bindings."""
  return re.search(r"binding count \d+ (>|exceeds)", str(e)) is not None


def _crashed(message: str) -> bool:
  """Whether iree-compile died of a signal (a compiler bug), not a diagnosed error."""
  return ("Stack dump" in message or "crash backtrace" in message
          or re.search(r"Error code: -\d+", message) is not None)


def compile_module(text: str, platform: str = "cpu", asynchronous: bool = False,
                   bounded: bool | None = None, shared_constants: bool = False) -> bytes:
  """The VM flatbuffer for ``text``, from the memory cache, the disk cache or IREE;
  ``asynchronous``: ``main`` takes wait/signal fences (for ``Stream``); ``bounded``:
  with ``BOUNDED_FLAGS`` (None: when ``text``'s fusion width asks for them);
  ``shared_constants``: with ``SHARED_CONSTANTS_FLAGS``."""
  base = flags = platform_flags(platform)
  if bounded:
    flags = flags + BOUNDED_FLAGS
  if shared_constants:
    flags = flags + SHARED_CONSTANTS_FLAGS
  if asynchronous:
    flags = flags + ASYNC_FLAGS
  # The width is measured only when compiling: the key says it is left to the text.
  key = cache_key(text, flags + (("auto-bounded",) if bounded is None else ()))
  hit = _mem_cache.get(key)
  if hit is not None:
    stats["mem_hits"] += 1
    return hit
  path = os.path.join(cache_dir(), key[:2], key + ".vmfb")
  payload = _read_disk(path)
  if payload is not None:
    stats["disk_hits"] += 1
  else:
    limit = MAX_FUSION_WIDTH["cpu" if base is CPU_FLAGS else "gpu"]
    if bounded is None and text.count("%") > limit and \
        lowering.fusion_width(text, shared_constants) > limit:
      flags = flags + BOUNDED_FLAGS
    from iree.compiler import compile_str
    from iree.compiler.tools.core import CompilerToolError
    try:
      try:
        payload = compile_str(text, input_type="stablehlo", extra_args=list(flags))
      except CompilerToolError as e:
        if _crashed(str(e)) and "--iree-opt-data-tiling" in flags:
          # IREE's data-tiling encoding pass crashes on some modules (seen with
          # unrolled loops of small dots): compile those without data tiling.
          flags = tuple(f for f in flags if f != "--iree-opt-data-tiling")
          payload = compile_str(text, input_type="stablehlo", extra_args=list(flags))
          stats["compiles"] += 1
          _write_disk(path, payload)
          _mem_cache[key] = payload
          return payload
        missing = re.findall(r"undefined symbol: (\S+)", str(e))
        if base is CUDA_FLAGS or not missing or any(m.startswith("_") for m in missing):
          raise
        # float64 math calls libm, which IREE's embedded (self-contained) executables
        # cannot link: link a system shared library instead.
        payload = compile_str(text, input_type="stablehlo",
                              extra_args=[*flags, "--iree-llvmcpu-link-embedded=false"])
    except CompilerToolError as e:
      raise RuntimeError(f"IREE failed to compile the lowered module:\n{e}\n"
                         f"Module:\n{text}") from None
    stats["compiles"] += 1
    _write_disk(path, payload)
  _mem_cache[key] = payload
  return payload


# ---------------------------------------------------------------- runtime

# Freed device buffers are kept for reuse (same size), as XLA's allocator does: a fresh
# multi-megabyte buffer each call costs its page faults (a third of a 2000x2000
# elementwise program). Buffers over 256 MiB are not kept; the cache holds at most 64
# free buffers and stops keeping them once live + free memory reaches 2 GiB.
_ALLOCATOR_SPEC = "caching:*=268435456;2147483648;64"

_rt = None
_instance = None
_devices: dict[str, object] = {}


def _worker_flags() -> list[str]:
  """local-task's worker pool: one unpinned worker per physical core this process may
  use, unless the user set IREE's topology flags (``IREE_PY_RUNTIME_FLAGS``). IREE's
  default pins one worker per physical core; beside the Python thread, a pinned worker
  descheduled mid-dispatch stalls the whole dispatch for a scheduler tick (a 1 ms MLP
  forward took 3-5 ms on one call in ten on 2 cores); unpinned workers migrate."""
  if "task_topology" in os.environ.get("IREE_PY_RUNTIME_FLAGS", ""):
    return []
  try:
    cpus = os.sched_getaffinity(0)
  except (AttributeError, OSError):
    cpus = range(os.cpu_count() or 1)
  cores = set()  # SMT siblings share a core
  for c in cpus:
    try:
      with open(f"/sys/devices/system/cpu/cpu{c}/topology/thread_siblings_list") as f:
        cores.add(f.read().strip())
    except OSError:
      cores.add(str(c))
  return [f"--task_topology_group_count={max(len(cores), 1)}"]


# Device buffers on the CPU come from malloc. glibc serves a block over its mmap
# threshold (dynamic, at most 32 MiB) with a fresh mapping and unmaps it when freed, so
# every call of a program with large results or intermediates page-faulted all of them
# anew: 48 of the 50 ms of a 100 MB outer product, and 120 of the 196 ms of jitted
# per-example gradients of a 784-512-512-10 MLP (740 MB a call). Blocks up to 1 GiB now
# come from the heap and, freed, stay there for the next call: the process keeps up to
# 1 GiB of free heap, as XLA's allocators keep theirs. PYJAX_MALLOC_TUNING=0 leaves
# glibc's defaults.
MMAP_THRESHOLD = TRIM_THRESHOLD = 1 << 30


def _tune_malloc() -> bool:
  if os.environ.get("PYJAX_MALLOC_TUNING", "1") == "0":
    return False
  try:
    import ctypes
    mallopt = ctypes.CDLL(None).mallopt  # glibc (musl and macOS have none)
  except (OSError, AttributeError, TypeError):
    return False
  M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
  return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
              and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def _runtime():
  global _rt, _instance
  if _rt is None:
    _tune_malloc()
    import iree.runtime as rt
    flags = _worker_flags()
    if flags:
      rt.flags.parse_flags(*flags)
    _instance = rt.VmInstance()
    _rt = rt
  return _rt


def device(driver: str):
  d = _devices.get(driver)
  if d is None:
    with _lock:
      d = _devices.get(driver)
      if d is None:
        d = _devices[driver] = _runtime().get_driver(driver).create_default_device(allocators=[_ALLOCATOR_SPEC])
  return d


def gpu_available() -> bool:
  try:
    rt = _runtime()
    if gpu_driver not in rt.query_available_drivers():
      return False
    device(gpu_driver)
    return True
  except Exception:
    return False


def _find_gpu() -> bool:
  """Whether the "gpu" platform has a device (the probe ``devices`` runs once)."""
  # Without NVIDIA's kernel driver there is no CUDA device: skip loading IREE's
  # runtime (most of a second) just to find that out.
  if gpu_driver == "cuda" and not _nvidia_driver_loaded():
    return False
  return gpu_available()


def _nvidia_driver_loaded() -> bool:
  return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidiactl")


_devices_mod.register_gpu_probe(_find_gpu)


_ELEM = None


def element_type(dt: np.dtype):
  global _ELEM
  if _ELEM is None:
    E = _runtime().HalElementType
    _ELEM = {np.dtype(np.bool_): E.BOOL_8, np.dtype(np.int8): E.SINT_8,
             np.dtype(np.int16): E.SINT_16, np.dtype(np.int32): E.SINT_32,
             np.dtype(np.int64): E.SINT_64, np.dtype(np.uint8): E.UINT_8,
             np.dtype(np.uint16): E.UINT_16, np.dtype(np.uint32): E.UINT_32,
             np.dtype(np.uint64): E.UINT_64, np.dtype(np.float16): E.FLOAT_16,
             np.dtype(np.float32): E.FLOAT_32, np.dtype(np.float64): E.FLOAT_64,
             dtypes.bfloat16: E.BFLOAT_16, np.dtype(np.complex64): E.COMPLEX_64,
             np.dtype(np.complex128): E.COMPLEX_128}
  return _ELEM[np.dtype(dt)]


class DeviceBuffer:
  """A HAL buffer view on one device, the shape/dtype it holds (kept on
  ``ArrayImpl._buf``), and for an asynchronous result the fence it is ready at.

  ``host``: the NumPy view once mapped; ``shared``: another Array's buffer may alias
  this memory (a result IREE returned without a copy), so it is never donated in place.
  """
  __slots__ = ("view", "driver", "shape", "dtype", "fence", "sem", "t", "host", "shared")

  def __init__(self, view, driver, shape=None, dtype=None, fence=None, sem=None, t=0):
    self.view = view
    self.driver = driver
    self.shape = shape
    self.dtype = dtype
    self.fence = fence
    self.sem = sem
    self.t = t
    self.host = None
    self.shared = False

  def wait(self):
    """Blocks until the computation producing the buffer ends; raises its error."""
    f = self.fence
    if f is not None:
      try:
        f.wait()
      except RuntimeError as e:
        raise RuntimeError(f"The computation producing this array failed: {e}") from None
      self.fence = self.sem = None

  def is_ready(self) -> bool:
    if self.fence is None:
      return True
    try:
      return self.sem.query() >= self.t
    except RuntimeError:  # failed: done (``wait`` raises the error)
      return True

  def value(self):
    """The host value (waits for it): a read-only NumPy view, or a scalar for shape ()."""
    self.wait()
    a = self.host
    if a is None:
      a = self.host = to_host(self, self.shape, self.dtype)
    return a if self.shape else a[()]


def to_device(value: np.ndarray, driver: str) -> DeviceBuffer:
  rt = _runtime()
  dev = device(driver)
  v = np.asarray(value)
  if not v.flags.c_contiguous:
    v = np.ascontiguousarray(v)
  if v.dtype == dtypes.bfloat16:
    v = v.view(np.uint16)
  view = dev.allocator.allocate_buffer_copy(
      memory_type=rt.MemoryType.DEVICE_LOCAL, allowed_usage=rt.BufferUsage.DEFAULT,
      device=dev, buffer=v, element_type=element_type(value.dtype))
  return DeviceBuffer(view, driver, v.shape, value.dtype)


def to_host(buf: DeviceBuffer, shape, dtype) -> np.ndarray:
  """A read-only NumPy view of ``buf`` (no copy on CPU: the buffer is host memory); a
  copy from a GPU."""
  if buf.driver not in HOST_DRIVERS:
    raw = np.uint16 if dtype == dtypes.bfloat16 else dtype
    a = np.array(_runtime().DeviceArray(device(buf.driver), buf.view,
                                        override_dtype=raw).to_host(), copy=True)
    a = a.view(dtype).reshape(shape)
    a.flags.writeable = False
    return a
  a = np.frombuffer(buf.view.map(), dtype)  # the mapping stays alive as the array's base
  if len(shape) != 1:
    a = a.reshape(shape)
  a.flags.writeable = False
  return a


class Stream:
  """The in-order asynchronous call stream of one device: call k waits for call k-1
  (timeline semaphore value k-1) and signals value k. In order, a buffer donated to a
  call is never overwritten while an earlier call still reads it, and a result feeds
  the next call without a host wait. A failed call fails the semaphore and so every
  call queued after it; the next call then starts a fresh semaphore."""

  def __init__(self, dev):
    self.dev = dev
    self.sem = dev.create_semaphore(0)
    self.t = 0
    self.lock = threading.Lock()  # one submission at a time: values stay in order

  def _restart(self):
    try:
      self.sem.wait(self.t)  # let queued calls end: none may outlive the stream
    except RuntimeError:
      pass
    self.sem = self.dev.create_semaphore(0)
    self.t = 0

  def submit(self, context, fn, args, ret, inputs=()) -> DeviceBuffer:
    """Invokes ``fn`` with ``args`` + (wait, signal) fences; returns a fence-only
    ``DeviceBuffer`` (its ``fence``/``sem``/``t``) for the outputs to copy. ``inputs``:
    the argument buffers, waited for here if made before the stream restarted."""
    with self.lock:
      try:
        self.sem.query()
      except RuntimeError:
        self._restart()
      for b in inputs:
        if b.fence is not None and b.sem is not self.sem:
          b.wait()  # raises the error of the call that made it
      HalFence = _rt.HalFence
      sem, t = self.sem, self.t
      sig = HalFence.create_at(sem, t + 1)
      args.push_ref(HalFence.create_at(sem, t) if t else HalFence(0))
      args.push_ref(sig)
      try:
        context.invoke(fn, args, ret)
      except BaseException:
        self._restart()
        raise
      self.t = t + 1
    return DeviceBuffer(None, None, fence=sig, sem=sem, t=t + 1)


_streams: dict[str, Stream] = {}


def stream(driver: str) -> Stream:
  s = _streams.get(driver)
  if s is None:
    with _lock:
      s = _streams.get(driver)
      if s is None:
        s = _streams[driver] = Stream(device(driver))
  return s


class Executable:
  """One compiled module. ``call(views) -> output HAL buffer views`` runs it to the
  end; an asynchronous module (``is_async``) is started with ``submit``."""

  def __init__(self, vmfb: bytes, driver: str, n_out: int):
    rt = _runtime()
    dev = device(driver)
    self.driver = driver
    self.vmfb = vmfb
    hal = rt.create_hal_module(_instance, dev)
    self.module = rt.VmModule.copy_buffer(_instance, vmfb)
    self.context = rt.VmContext(_instance, [hal, self.module])
    self.fn = self.module.lookup_function("main")
    self.is_async = self.fn.reflection.get("iree.abi.model") == "coarse-fences"
    self.stream = stream(driver) if self.is_async else None
    self.n_out = n_out
    self._List = rt.VmVariantList
    self._BV = rt.HalBufferView
    # A synchronous program called again on the same buffers reuses its argument list
    # (a loop feeding the same parameters); it keeps those buffers alive, so only
    # small (local-sync) programs do.
    self.keep_args = driver == "local-sync"
    self._last_views = self._last_args = None

  def call(self, views):
    if self.is_async:
      outs, done = self.submit(views)
      done.wait()
      return outs
    if views == self._last_views:  # the same buffers as last call: reuse the list
      args = self._last_args
    else:
      args = self._List(len(views))
      push = args.push_ref
      for v in views:
        push(v)
      if self.keep_args:
        self._last_views, self._last_args = views, args
    n = self.n_out
    ret = self._List(n)
    self.context.invoke(self.fn, args, ret)
    get, BV = ret.get_as_object, self._BV
    return [get(0, BV)] if n == 1 else [get(i, BV) for i in range(n)]

  def submit(self, views, inputs=()):
    """Queues the call: (output views, a fence-only ``DeviceBuffer`` they are ready at);
    ``inputs``: the ``DeviceBuffer``s of ``views`` that may still be computing."""
    args = self._List(len(views) + 2)
    for v in views:
      args.push_ref(v)
    ret = self._List(self.n_out)
    done = self.stream.submit(self.context, self.fn, args, ret, inputs)
    get, BV = ret.get_as_object, self._BV
    return [get(i, BV) for i in range(self.n_out)], done


# Programs with more results than this run on local-task, compiled for the asynchronous
# execution model (in the synchronous one IREE's stream scheduling grows with the cube of
# the result count: 1,000 results took 71 s of a 113 s compile; asynchronous: 1 s) and
# with ``SHARED_CONSTANTS_FLAGS``.
MANY_RESULTS = 64


def pick_driver(avals_in, avals_out, platform="cpu") -> str:
  if platform != "cpu":
    return gpu_driver
  if len(avals_out) > MANY_RESULTS:
    return "local-task"
  nbytes = sum(a.size * a.dtype.itemsize for a in (*avals_in, *avals_out))
  return "local-sync" if nbytes < SMALL_PROGRAM_BYTES else "local-task"

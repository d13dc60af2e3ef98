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

Compiled modules are cached in memory and on disk, keyed by the module text, the
compiler and runtime versions and the flags, with ``host`` resolved to this CPU's model
and features (an entry made on another CPU could die of an illegal instruction). A disk
entry carries its key and a SHA-256 of its bytes; one that does not match, or that the
runtime refuses, is reported once, recompiled and replaced. The disk cache keeps the
least recently used entries within ``jax_compilation_cache_max_size`` bytes; modules
that compiled faster than ``jax_persistent_cache_min_compile_time_secs`` or are smaller
than ``jax_persistent_cache_min_entry_size_bytes`` are not written, and
``jax_enable_compilation_cache=False`` turns it off.
"""
from __future__ import annotations

import atexit
import ctypes
import hashlib
import contextlib
import os
import queue
import re
import platform as _platform
import tempfile
import threading
import time
import warnings

import numpy as np

from pyjax._src import devices as _devices_mod, dtypes
from pyjax._src.errors import JaxRuntimeError, callback_error
from pyjax._src.caches import LRUCache
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
    # No compile-time evaluation of constant expressions: IREE JIT-compiles and runs
    # each one while compiling (a VAE's evaluation over a closed-over test set, whose
    # Bernoulli draws from a constant key fold entirely: 143 s of a 155 s compile, 50 s
    # without), fails on some (complex division by a constant: "jit global source
    # initialization order invalid"), and cannot link libm. Such expressions run per
    # call instead, as XLA runs what it does not fold.
    "--iree-opt-const-eval=false",
    # (IREE's default 32 KiB failed matmuls of (73728, 288) x (288, 64) fused with an
    # epilogue writing two results, the bias add and its relu; see WORKER_STACK_BYTES)
    "--iree-llvmcpu-stack-allocation-limit=262144",
)
CUDA_FLAGS = (
    "--iree-hal-target-device=cuda",
    "--iree-opt-level=O3",
    "--iree-opt-const-eval=false",  # (as CPU_FLAGS: constants fold on the host)
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


_versions = None


def _version_of(package: str) -> str:
  """``package``'s version, read from its ``version.py`` without importing the package
  (``iree.compiler`` takes ~0.3 s to import, ``iree.runtime`` ~0.1 s: a first call that
  finds its module cached, or runs eagerly while it compiles, needs only the key)."""
  import importlib.util
  spec = importlib.util.find_spec(package)
  path = os.path.join(list(spec.submodule_search_locations)[0], "version.py")
  ns: dict = {}
  with open(path) as f:
    exec(compile(f.read(), path, "exec"), ns)
  return f"{ns['VERSION']}-{ns['REVISIONS']}"


def compiler_version() -> str:
  return _version_of("iree.compiler")


def runtime_version() -> str:
  # iree.runtime's version.py re-exports that of the runtime libraries it selects
  # (``_runtime_libs``, or the tracing build's when IREE_PY_RUNTIME asks for it).
  if os.environ.get("IREE_PY_RUNTIME", "default") != "default":
    _runtime()
    from iree.runtime import version
    return f"{version.VERSION}-{version.REVISIONS}"
  return _version_of("iree._runtime_libs")


# ---------------------------------------------------------------- the host CPU

# The /proc/cpuinfo fields that tell CPUs apart: model and features (x86, Arm, RISC-V).
_CPUINFO_FIELDS = frozenset((
    "vendor_id", "cpu family", "model", "model name", "stepping", "flags",
    "CPU implementer", "CPU architecture", "CPU variant", "CPU part", "CPU revision",
    "Features", "isa", "uarch", "mvendorid", "marchid", "mimpid"))
_host_cpu = None


def host_cpu() -> str:
  """What ``--iree-llvmcpu-target-cpu=host`` compiles for. LLVM's host detection reads
  the CPU's model and feature bits (cpuid), which Linux lists in /proc/cpuinfo; elsewhere
  the compiler is asked once for the target it resolves. Cached for the process."""
  global _host_cpu
  if _host_cpu is None:
    _host_cpu = _cpuinfo() or _compiler_host_target()
  return _host_cpu


def _cpuinfo() -> str | None:
  try:
    with open("/proc/cpuinfo") as f:
      lines = f.read().splitlines()
  except OSError:
    return None
  seen = set()
  for line in lines:
    k, _, v = line.partition(":")
    if k.strip() in _CPUINFO_FIELDS:
      seen.add(f"{k.strip()}: {' '.join(sorted(v.split()))}")
  return "\n".join([_platform.machine(), *sorted(seen)]) if seen else None


_HOST_PROBE = """func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %a, %a : tensor<4xf32>
  return %0 : tensor<4xf32>
}"""


def _compiler_host_target() -> str:
  """The ``cpu`` and ``cpu_features`` of the executable target IREE makes for ``host``."""
  try:
    from iree.compiler import compile_str
    out = compile_str(_HOST_PROBE, input_type="stablehlo",
                      extra_args=[*CPU_FLAGS, "--compile-to=executable-sources"])
    text = out.decode(errors="replace") if isinstance(out, bytes) else str(out)
    found = re.findall(r'\b(cpu|cpu_features) = "([^"]*)"', text)
    if found:
      return "\n".join([_platform.machine(), *sorted(set(f"{k}: {v}" for k, v in found))])
  except Exception:
    pass
  return f"{_platform.machine()} {_platform.processor()} (unresolved)"


# ---------------------------------------------------------------- compilation + caches

# Compiled modules by key; the least recently used go beyond 256 MiB.
_mem_cache = LRUCache(4096, max_weight=256 << 20, weigh=len)
stats = {"compiles": 0, "disk_hits": 0, "mem_hits": 0, "corrupt": 0, "mismatched": 0,
         "load_failures": 0, "write_failures": 0, "evicted": 0, "skipped_fast": 0,
         "skipped_small": 0, "retries": 0, "waited": 0}
# An entry: magic, SHA-256 of the rest, the entry's key, SHA-256 of the module text, the
# VM flatbuffer.
_MAGIC = b"PYJAXVMFB2"
_HOST_CPU_FLAG = "--iree-llvmcpu-target-cpu=host"
_warned: set = set()  # kinds of cache errors already reported in this process
_unwritable: set = set()  # cache directories a write failed in: not written again
_disk_usage: dict = {}  # cache directory -> bytes it holds, as this process knows
STALE_TMP_SECONDS = 3600  # a temporary file this old was left by a writer that died


def cache_dir() -> str:
  d = config.jax_compilation_cache_dir
  if not d:
    d = os.path.join(os.environ.get("XDG_CACHE_HOME") or
                     os.path.join(os.path.expanduser("~"), ".cache"), "pyjax")
  return d


def reset_disk_state() -> None:
  """Forgets the directories' known sizes, the unwritable ones and the reported errors
  (``compilation_cache.reset_cache``)."""
  _warned.clear()
  _unwritable.clear()
  _disk_usage.clear()


# IREE (3.13) cannot infer the device of a value carried around a loop (an scf.while's
# block arguments): each dispatch reading a carry first transfers it "to" the device, a
# copy of the whole carry every step (4 MB a step for a 1e6-float carry), and a carry that
# started as an argument is copied from "external" to "transient" memory. With the
# functions of a module with loops placed on the (one) device, the copies go (a step over
# a 1e6-float carry: 2.6x less CPU time). ``PYJAX_IREE_PLACE_LOOPS=0``: not placed (the
# text, and so the cache key, is the one compiled).
# Not for loops over more than ``MAX_PLACED_CARRIES`` values: the copies packed the
# carries into one buffer, and without them a dispatch reading 40 carries took 40
# buffer bindings, over the runtime's 32 (``test_loops_carry_40_values``).
PLACE_LOOPS = os.environ.get("PYJAX_IREE_PLACE_LOOPS", "1") != "0"
MAX_PLACED_CARRIES = 16
_PLACED = ' attributes {stream.affinity = #hal.device.affinity<@__device_0>} {\n'
_FUNC_DEF = re.compile(r"^(  func\.func (?:public|private) @[^\n]*\)) \{\n", re.M)
_WHILE_OPERANDS = re.compile(r'"stablehlo\.while"\(([^)]*)\)')


# Only modules with a tensor of at least this many elements are placed: the copies cost
# only for big carries, and placement broke some small loop programs at run time
# (scipy.optimize's BFGS, sparse cg: "indirect buffer reference slot 0 is out range of
# the declared binding capacity of the command buffer").
PLACE_MIN_ELEMENTS = 1 << 18
_TENSOR_DIMS = re.compile(r"tensor<((?:\d+x)+)")


def _largest_tensor(text: str) -> int:
  most = 0
  for m in _TENSOR_DIMS.finditer(text):
    n = 1
    for d in m.group(1)[:-1].split("x"):
      n *= int(d)
    most = max(most, n)
  return most


def _placed(text: str) -> str:
  """``text`` whose function definitions carry ``_PLACED``, where it has loops, none
  over more than ``MAX_PLACED_CARRIES`` values, and a tensor of at least
  ``PLACE_MIN_ELEMENTS`` elements."""
  if not PLACE_LOOPS or "stablehlo.while" not in text:
    return text
  if any(m.group(1).count(",") >= MAX_PLACED_CARRIES
         for m in _WHILE_OPERANDS.finditer(text)):
    return text
  if _largest_tensor(text) < PLACE_MIN_ELEMENTS:
    return text
  return _FUNC_DEF.sub(lambda m: m.group(1) + _PLACED, text)


def _keys(text: str, flags) -> tuple[str, bytes]:
  """(the cache key: hex SHA-256 of the compiler and runtime versions, the flags with
  ``host`` resolved to this CPU, and the text; SHA-256 of the text)."""
  global _versions
  if _versions is None:
    _versions = f"{compiler_version()}\0{runtime_version()}"
  text = _placed(text)
  text_hash = hashlib.sha256(text.encode()).digest()
  h = hashlib.sha256(_versions.encode())
  for f in flags:
    h.update(b"\1")
    h.update((f"{f}:{host_cpu()}" if f == _HOST_CPU_FLAG else f).encode())
  h.update(b"\2")
  h.update(text_hash)
  return h.hexdigest(), text_hash


def cache_key(text: str, flags) -> str:
  return _keys(text, flags)[0]


def _warn_once(kind: str, message: str) -> None:
  if kind not in _warned:
    _warned.add(kind)
    warnings.warn(message + " (Reported once per process.)", stacklevel=2)


def _read_disk(path: str, key: str, text_hash: bytes) -> bytes | None:
  """The entry's module, or None: missing, or unusable (reported once; the caller
  recompiles and replaces it)."""
  try:
    with open(path, "rb") as f:
      blob = f.read()
  except OSError:
    return None
  n = len(_MAGIC)
  if len(blob) < n + 96 or blob[:n] != _MAGIC or \
      hashlib.sha256(blob[n + 32:]).digest() != blob[n:n + 32]:
    stats["corrupt"] += 1
    why = "its checksum does not match (a truncated or damaged file)"
  elif blob[n + 32:n + 64] != bytes.fromhex(key) or blob[n + 64:n + 96] != text_hash:
    stats["mismatched"] += 1
    why = "it holds another module (its stored key differs from its name)"
  else:
    try:
      os.utime(path)  # recently used: evicted last
    except OSError:
      pass
    return blob[n + 96:]
  _warn_once("read", f"pyjax: the compilation cache entry {path} is unusable: {why}. "
                     "Recompiling the module and replacing the entry.")
  return None


def _write_all(fd: int, data: bytes) -> None:
  view = memoryview(data)
  while view:
    view = view[os.write(fd, view):]


def _write_disk(path: str, key: str, text_hash: bytes, payload: bytes) -> None:
  """Writes the entry (atomically: readers never see half of one), then evicts the least
  recently used entries beyond ``jax_compilation_cache_max_size``. A directory that
  cannot be written (no permission, a full disk) is reported once and not written to
  again in this process; no temporary file is left behind."""
  d = os.path.dirname(os.path.dirname(path))
  limit = config.jax_compilation_cache_max_size
  body = bytes.fromhex(key) + text_hash + payload
  blob = _MAGIC + hashlib.sha256(body).digest() + body
  if d in _unwritable or 0 <= limit < len(blob):
    return
  tmp = None
  try:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
      _write_all(fd, blob)
    finally:
      os.close(fd)
    os.replace(tmp, path)
    tmp = None
  except OSError as e:
    stats["write_failures"] += 1
    _unwritable.add(d)
    _warn_once("write", f"pyjax: cannot write to the compilation cache in {d}: {e}. "
                        "Compiled modules are not cached on disk in this process; set "
                        "jax_compilation_cache_dir to a writable directory, or "
                        "jax_compilation_cache_max_size to 0 to turn the disk cache off.")
    return
  finally:
    if tmp is not None:
      try:
        os.unlink(tmp)
      except OSError:
        pass
  if limit > 0:
    # The directory is scanned (a few ms per thousand entries) on this process's first
    # write and whenever the size it knows of (that scan's plus its own writes) passes
    # the limit; other processes' writes are seen at those scans.
    used = _disk_usage.get(d)
    if used is None or used + len(blob) > limit:
      _disk_usage[d] = _evict(d, limit)
    else:
      _disk_usage[d] = used + len(blob)


def _evict(d: str, limit: int) -> int:
  """Removes the least recently used entries of cache directory ``d`` until it holds at
  most ``limit`` bytes, and temporary files a dead writer left; returns the bytes left."""
  entries, total, now = [], 0, time.time()
  try:
    subdirs = [e.path for e in os.scandir(d) if len(e.name) == 2 and e.is_dir()]
  except OSError:
    return 0
  for sub in subdirs:
    try:
      files = list(os.scandir(sub))
    except OSError:
      continue
    for e in files:
      try:
        st = e.stat()
        if e.name.endswith(".vmfb"):
          entries.append((st.st_mtime, st.st_size, e.path))
          total += st.st_size
        elif e.name.startswith(".tmp-") and now - st.st_mtime > STALE_TMP_SECONDS:
          os.unlink(e.path)
      except OSError:  # removed by another process meanwhile
        pass
  if total <= limit:
    return total
  entries.sort()
  for _, size, p in entries:
    try:
      os.unlink(p)
      stats["evicted"] += 1
    except OSError:
      pass
    total -= size
    if total <= limit:
      break
  return total


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
# What IREE says of modules that compile only with the other multi-use fusion setting.
_FUSION_FAILURES = ("restricted to workgroup distributed contexts",
                    "circular dependency", "failed to solve for timepoint coverage",
                    "does not dominate this use")

# Constants read as buffers, not written into each dispatch: dispatches that differ only
# in a constant (``[x + i for i in range(1000)]``) become one executable, where IREE's
# code generation costs ~45 ms per distinct executable (1,000 outputs: 47 s). For
# programs with many results only; each constant then takes a binding.
SHARED_CONSTANTS_FLAGS = ("--iree-flow-inline-constants-max-byte-length=0",)


# float64 math IREE's CPU code generation calls libm for (measured on IREE 3.13, each
# operation alone in a module): sine, cosine, tan, tanh, atan2, remainder (fmod) and
# CHLO's expansions built on them, and complex128 exponentials, logarithms, roots and
# powers. IREE's embedded (self-contained) executables cannot link libm: such a module
# compiled as usual ran the whole pipeline only to fail at its link ("undefined symbol:
# sin") and compiled again with ``LIBM_FLAGS`` (a jitted float32 ``sin``, whose lowering
# keeps a float64 ``sine`` for huge arguments, compiled twice). ``needs_libm`` foresees
# it from the text; the libm remedy still catches what it misses.
LIBM_FLAGS = ("--iree-llvmcpu-link-embedded=false",)
_LIBM_OPS = re.compile(
    r'"(?:stablehlo\.(?:sine|cosine|tan|tanh|atan2|remainder)|'
    r'chlo\.(?:lgamma|digamma|asin|acos|atan|polygamma))"[^\n]*f64>|'
    r'"stablehlo\.(?:exponential|exponential_minus_one|log|log_plus_one|sqrt|rsqrt|'
    r'power)"[^\n]*complex<f64>')


def needs_libm(text: str) -> bool:
  """Whether the CPU code of ``text`` calls libm (see ``LIBM_FLAGS``)."""
  return "f64" in text and _LIBM_OPS.search(text) is not None


def binding_limit_error(e: BaseException) -> bool:
  """Whether ``e`` is IREE refusing a dispatch with too many buffer bindings."""
  return re.search(r"binding count \d+ (>|exceeds)", str(e)) is not None


def _crashed(message: str) -> bool:
  """Whether iree-compile died of a signal (a compiler bug), not a diagnosed error."""
  return ("Stack dump" in message or "crash backtrace" in message
          or re.search(r"Error code: -\d+", message) is not None)


def _is_cuda(base) -> bool:
  return "--iree-hal-target-device=cuda" in base


def _module_flags(platform, asynchronous, bounded, shared_constants, base=None) -> tuple:
  flags = platform_flags(platform) if base is None else tuple(base)
  if bounded:
    flags = flags + BOUNDED_FLAGS
  if shared_constants:
    flags = flags + SHARED_CONSTANTS_FLAGS
  if asynchronous:
    flags = flags + ASYNC_FLAGS
  return flags


def entry_key(text: str, platform: str = "cpu", asynchronous: bool = False,
              bounded: bool | None = None, shared_constants: bool = False, base=None):
  """(cache key, text hash) of ``compile_module``'s arguments. ``bounded=None`` (the
  fusion width, measured only when compiling, decides) is marked in the key."""
  flags = _module_flags(platform, asynchronous, bounded, shared_constants, base)
  return _keys(text, flags + (("auto-bounded",) if bounded is None else ()))


def _remedy(message: str, flags: tuple, base, tried: set):
  """(name, flags) to compile again with after IREE failed with ``message``, or None.
  Each remedy is tried once; they combine (a module may need two)."""
  if "fusion" not in tried and any(m in message for m in _FUSION_FAILURES):
    # IREE fails some modules with multi-use fusion (a reduction's result used both
    # by a fused consumer and directly, as in logsumexp with a broadcast b; the loops
    # of scipy's exp1; values of sin and cos used across fused products) and others
    # without it (bessel_jn's loops, given it for their width): the other setting
    # compiles them.
    if BOUNDED_FLAGS[0] in flags:
      return "fusion", tuple(f for f in flags if f not in BOUNDED_FLAGS)
    return "fusion", flags + BOUNDED_FLAGS
  if "tiling" not in tried and _crashed(message) and "--iree-opt-data-tiling" in flags:
    # IREE's data-tiling encoding pass crashes on some modules (seen with unrolled
    # loops of small dots): compile those without data tiling.
    return "tiling", tuple(f for f in flags if f != "--iree-opt-data-tiling")
  missing = re.findall(r"undefined symbol: (\S+)", message)
  if "libm" not in tried and not _is_cuda(base) and missing and \
      not any(m.startswith("_") for m in missing):
    # float64 math calls libm, which IREE's embedded (self-contained) executables
    # cannot link: link a system shared library instead.
    return "libm", flags + LIBM_FLAGS
  return None


def compile_module(text: str, platform: str = "cpu", asynchronous: bool = False,
                   bounded: bool | None = None, shared_constants: bool = False,
                   cached: bool = True, base=None) -> bytes:
  """The VM flatbuffer for ``text``, from the memory cache, the disk cache or IREE;
  ``asynchronous``: ``main`` takes wait/signal fences (for ``Stream``); ``bounded``:
  with ``BOUNDED_FLAGS`` (None: when ``text``'s fusion width asks for them);
  ``shared_constants``: with ``SHARED_CONSTANTS_FLAGS``; ``cached=False`` compiles anew
  and replaces the cached module; ``base``: compiler flags in place of the platform's
  (``CPU_FLAGS``/``CUDA_FLAGS``: other targets, as ``pyjax.deploy`` compiles for)."""
  base = platform_flags(platform) if base is None else tuple(base)
  flags = _module_flags(platform, asynchronous, bounded, shared_constants, base)
  key, text_hash = entry_key(text, platform, asynchronous, bounded, shared_constants,
                             base)
  if cached:
    hit = _mem_cache.get(key)
    if hit is not None:
      stats["mem_hits"] += 1
      return hit
  with _compiling(key) as waited:
    if cached and waited:  # another thread compiled it meanwhile
      hit = _mem_cache.get(key)
      if hit is not None:
        stats["waited"] += 1
        return hit
    return _compile_or_read(text, flags, base, bounded, shared_constants, cached, key,
                            text_hash)


# The modules being compiled, by key: [a lock its compiling thread holds, the threads
# using the entry]. A thread asking for a module another thread is compiling waits for
# that compile and takes its result, where it would have run IREE again (tiered jit
# compiles in the background, and a function jitted anew in a loop asks for the same
# module meanwhile). Modules with different keys compile at once (each ``iree-compile``
# is a process of its own).
_inflight: dict = {}
_inflight_lock = threading.Lock()


def _forget_compiles_in_child():
  """After a fork: the parent's threads compiling modules are not in the child, nor do
  they release their locks there."""
  global _inflight_lock
  _inflight_lock = threading.Lock()
  _inflight.clear()


if hasattr(os, "register_at_fork"):
  os.register_at_fork(after_in_child=_forget_compiles_in_child)


@contextlib.contextmanager
def _compiling(key: str):
  """Holds ``key``'s compile lock; yields whether another thread held it first."""
  with _inflight_lock:
    entry = _inflight.get(key)
    if entry is None:
      entry = _inflight[key] = [threading.Lock(), 0]
    entry[1] += 1
  try:
    lock = entry[0]
    waited = not lock.acquire(blocking=False)
    if waited:
      lock.acquire()
    try:
      yield waited
    finally:
      lock.release()
  finally:
    with _inflight_lock:
      entry[1] -= 1
      if not entry[1] and _inflight.get(key) is entry:
        del _inflight[key]


def _disk_path(key: str) -> str | None:
  """The disk cache file of ``key``; None when the disk cache is off."""
  if not config.jax_enable_compilation_cache or config.jax_compilation_cache_max_size == 0:
    return None
  return os.path.join(cache_dir(), key[:2], key + ".vmfb")


def _compile_or_read(text, flags, base, bounded, shared_constants, cached, key,
                     text_hash) -> bytes:
  """``compile_module``'s disk cache and compile, under ``key``'s compile lock."""
  path = _disk_path(key)
  payload = _read_disk(path, key, text_hash) if cached and path else None
  if payload is not None:
    stats["disk_hits"] += 1
    _mem_cache[key] = payload
    return payload
  limit = MAX_FUSION_WIDTH["gpu" if _is_cuda(base) else "cpu"]
  if bounded is None and text.count("%") > limit and \
      lowering.fusion_width(text, shared_constants) > limit:
    flags = flags + BOUNDED_FLAGS
  from iree.compiler import compile_str
  from iree.compiler.tools.core import CompilerToolError
  tried = set()
  if not _is_cuda(base) and LIBM_FLAGS[0] not in flags and needs_libm(text):
    flags = flags + LIBM_FLAGS  # (the key stays that of the flags asked for)
    tried.add("libm")
  source = _placed(text)
  t0 = time.perf_counter()
  while True:
    try:
      payload = compile_str(source, input_type="stablehlo", extra_args=list(flags))
      break
    except CompilerToolError as e:
      remedy = _remedy(str(e), flags, base, tried)
      if remedy is None:
        raise RuntimeError(f"IREE failed to compile the lowered module:\n{e}\n"
                           f"Module:\n{text}") from None
      tried.add(remedy[0])
      flags = remedy[1]
      stats["retries"] += 1
  stats["compiles"] += 1
  if path and _worth_writing(time.perf_counter() - t0, len(payload)):
    _write_disk(path, key, text_hash, payload)
  _mem_cache[key] = payload
  return payload


def _worth_writing(seconds: float, size: int) -> bool:
  """Whether a module that took ``seconds`` to compile and has ``size`` bytes goes to
  the disk cache: ``jax_persistent_cache_min_compile_time_secs`` and
  ``jax_persistent_cache_min_entry_size_bytes`` (-1: no size limit), as JAX's."""
  if seconds < (config.jax_persistent_cache_min_compile_time_secs or 0):
    stats["skipped_fast"] += 1
    return False
  if size < (config.jax_persistent_cache_min_entry_size_bytes or 0):
    stats["skipped_small"] += 1
    return False
  return True


def _shared_constants(asynchronous: bool, n_out: int) -> bool:
  return asynchronous and n_out > MANY_RESULTS


def precompile(text: str, platform: str, n_out: int, asynchronous: bool = False) -> None:
  """Compiles (into the caches) the module ``load_module`` with these arguments loads
  first; safe from any thread (jit's background compiles)."""
  compile_module(text, platform, asynchronous,
                 shared_constants=_shared_constants(asynchronous, n_out))


def is_compiled(text: str, platform: str, n_out: int, asynchronous: bool = False) -> bool:
  """Whether ``load_module`` with these arguments would find its module in the memory
  or disk cache (not compile it)."""
  key, _ = entry_key(text, platform, asynchronous, None,
                     _shared_constants(asynchronous, n_out))
  if _mem_cache.get(key) is not None:
    return True
  path = _disk_path(key)
  return path is not None and os.path.exists(path)


def load_module(text: str, platform: str, driver: str, n_out: int,
                asynchronous: bool = False, callbacks=()) -> "Executable":
  """``text`` compiled (or cached) and loaded on ``driver``. A cached module the
  runtime refuses (made by another IREE, damaged) is reported once, recompiled and
  replaced; one with a dispatch over the runtime's binding limit (wider than
  ``fusion_width`` foresaw) is compiled again without wide fusion."""
  shared = _shared_constants(asynchronous, n_out)
  loops = "stablehlo.while" in text
  vmfb = compile_module(text, platform, asynchronous, shared_constants=shared)
  try:
    return Executable(vmfb, driver, n_out, loops, callbacks)
  except (IndexError, RuntimeError, ValueError) as e:
    if binding_limit_error(e):
      vmfb = compile_module(text, platform, asynchronous, bounded=True,
                            shared_constants=shared)
      return Executable(vmfb, driver, n_out, loops, callbacks)
    stats["load_failures"] += 1
    _warn_once("load", f"pyjax: IREE's runtime refused a cached compiled module ({e}). "
                       "Recompiling it and replacing the cache entry.")
  vmfb = compile_module(text, platform, asynchronous, shared_constants=shared,
                        cached=False)
  return Executable(vmfb, driver, n_out, loops, callbacks)


# ---------------------------------------------------------------- runtime

# Freed device buffers are kept for reuse (same size), as XLA's allocator does: a fresh
# multi-megabyte buffer each call costs its page faults (a third of a 2000x2000
# elementwise program). Buffers over 256 MiB are not kept; the cache holds at most 64
# free buffers and stops keeping them once live + free memory reaches 2 GiB.
_ALLOCATOR_SPEC = "caching:*=268435456;2147483648;64"

_rt = None
_instance = None
_drivers: dict[str, object] = {}
_devices: dict[str, object] = {}
_fork_generation = 0  # one more in each forked child (see ``_after_fork_in_child``)


# Worker thread stacks: IREE's default is 128 KiB, and ``CPU_FLAGS`` let a dispatch
# keep up to 256 KiB of tiles on its stack.
WORKER_STACK_BYTES = 1 << 20


# XLA computes on the calling thread and a pool of one thread per core; IREE's caller
# sleeps while the workers compute. One worker more than the cores matches XLA's count:
# on 2 cores, a 1000x1000 matmul 9.8 ms every run (two workers: 9.9-12 ms, idle gaps
# while a worker waits for a core), the MLP forward's median 1.55 ms (1.95 ms), its
# 90th percentile 5.1 ms (6.0 ms); a machine shared with other processes gives each
# thread its share, and XLA's processes have as many.
EXTRA_WORKERS = 1


def _worker_flags() -> list[str]:
  """local-task's worker pool: one unpinned worker per physical core this process may
  use and ``EXTRA_WORKERS`` more, unless the user set IREE's topology flags
  (``IREE_PY_RUNTIME_FLAGS``), each with a ``WORKER_STACK_BYTES`` stack unless the user
  set its size. IREE's default pins one worker per physical core; beside the Python
  thread, a pinned worker descheduled mid-dispatch stalls the whole dispatch for a
  scheduler tick (a 1 ms MLP forward took 3-5 ms on one call in ten on 2 cores);
  unpinned workers migrate."""
  user = os.environ.get("IREE_PY_RUNTIME_FLAGS", "")
  flags = [] if "task_worker_stack_size" in user else [
      f"--task_worker_stack_size={WORKER_STACK_BYTES}"]
  if "task_topology" in user:
    return flags
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
  return [f"--task_topology_group_count={max(len(cores), 1) + EXTRA_WORKERS}", *flags]


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


_init_lock = threading.Lock()


def _runtime():
  global _rt, _instance
  if _instance is None:
    with _init_lock:  # (jit's background compile thread may get here first)
      if _rt is None:
        _tune_malloc()
        import iree.runtime as rt
        flags = _worker_flags()
        if flags:
          rt.flags.parse_flags(*flags)
        _rt = rt
      if _instance is None:
        _instance = _rt.VmInstance()
  return _rt


# Teardown. IREE's runtime objects must outlive everything made from them: a buffer,
# context or module released after its device or VM instance dies touches freed memory.
# Python frees objects at exit in no fixed order (a final garbage collection takes the
# user's arrays and jitted functions together with this module's globals: with ``jax``
# aliased to pyjax, that crashed nine runs in ten with SIGSEGV), so at exit the instance
# and devices are kept alive for good: whatever Python frees after that is freed
# safely, and the process's end takes the rest. Work still queued is not waited for (a
# Ctrl-C must end the process at once): IREE holds the buffers it uses until it ends.
# (nanobind's report of leaked objects at exit is turned off: these leaks are wanted.)

def _pin(objs):
  """Keeps ``objs`` alive until the process ends (a reference nothing releases)."""
  for o in objs:
    if o is not None:
      ctypes.pythonapi.Py_IncRef(ctypes.py_object(o))


def _at_exit():
  if _rt is None:
    return
  _pin([_instance, *_drivers.values(), *_devices.values()])
  _rt._binding.disable_leak_checker()  # the pinned objects are leaks on purpose


atexit.register(_at_exit)


# Fork. A child process has none of its parent's threads: work queued on local-task's
# worker pool never runs there, and releasing that device would join workers that do not
# exist. Before a fork the queued work ends (the child then sees every result); in the
# child the threaded devices and their streams are set aside (kept alive, never used),
# and executables load themselves again on fresh ones at their next call. local-sync
# runs on the calling thread: its device and programs go on as they are.

def _before_fork():
  for s in list(_streams.values()):
    try:
      wait(s.sem, s.t)
    except RuntimeError:
      pass  # a failed call: its error is raised where its results are read


def _after_fork_in_child():
  global _lock, _init_lock, _fork_generation
  _lock = threading.Lock()  # another thread may have held it
  _init_lock = threading.Lock()
  for table in (_drivers, _devices):
    for name in [n for n in table if n != "local-sync"]:
      _pin([table.pop(name)])
  _pin([s.sem for s in _streams.values()])
  _streams.clear()
  _idle_invokers.clear()  # their threads stayed in the parent
  _fork_generation += 1


if hasattr(os, "register_at_fork"):
  os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


def device(driver: str):
  d = _devices.get(driver)
  if d is None:
    with _lock:
      d = _devices.get(driver)
      if d is None:
        rt = _runtime()
        drv = _drivers.get(driver)
        if drv is None:
          # IREE caches one driver per name, and local-task's holds its worker pool:
          # a forked child makes its own (see ``_after_fork_in_child``).
          with _no_mpi_env():
            drv = _drivers[driver] = (rt._binding.create_hal_driver(driver)
                                      if _fork_generation else rt.get_driver(driver))
        with _no_mpi_env():
          d = _devices[driver] = drv.create_default_device(allocators=[_ALLOCATOR_SPEC])
  return d


# What IREE's HAL reads to give a device an MPI channel provider of its own (which would
# initialize and finalize MPI itself, and fails unless libmpi.so is on the library path):
# pyjax runs its collectives between processes through mpi4py, so a device made under
# mpirun must not see them.
_MPI_ENV = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPIEXEC_HOSTNAME")


@contextlib.contextmanager
def _no_mpi_env():
  saved = {k: os.environ.pop(k) for k in _MPI_ENV if k in os.environ}
  try:
    yield
  finally:
    os.environ.update(saved)


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


# A wait inside IREE is deaf to signals, and Python runs its signal handlers (Ctrl-C's
# KeyboardInterrupt) only between bytecodes: waits on device work are taken in slices.
WAIT_SLICE_NS = 20_000_000


# IREE's blocking wait (``iree_async_semaphore_multi_wait``) is woken by the worker
# that signals the semaphore, from a callback that then marks itself done; the woken
# waiter cancels its timepoint and, the callback being under way, spins until it is
# done. Woken on the signalling worker's core, the waiter preempts it (the kernel
# favours a thread that slept) and spins while that worker waits for the core: up to a
# scheduler tick per call. On 2 cores the main thread of ``x * x + x * 2`` on
# 2000x2000 (0.5 ms a call) spun a third of the time and the call took 1.2 ms of CPU
# (XLA: 0.85). So a thread that has to block waits under SCHED_BATCH, whose wake-ups do
# not preempt (Linux; 3 us of system calls), and goes back to its policy after:
# 0.85 ms of CPU, the median 0.45 ms. Helper threads that only invoke stay SCHED_BATCH.
_SCHED_BATCH = getattr(os, "SCHED_BATCH", None)
_SCHED_OTHER = getattr(os, "SCHED_OTHER", None)


def _batch_policy() -> bool:
  """Puts the calling thread under SCHED_BATCH if it is under SCHED_OTHER (the default
  policy); True if it did."""
  if _SCHED_BATCH is None:
    return False
  try:
    if os.sched_getscheduler(0) != _SCHED_OTHER:
      return False  # real-time, idle or already batch: the user's choice
    os.sched_setscheduler(0, _SCHED_BATCH, os.sched_param(0))
    return True
  except OSError:
    return False


def wait(waitable, *value):
  """Waits on an IREE fence (or a semaphore reaching ``value``); raises its error."""
  if waitable.wait(*value, timeout=0):  # done: no wait, no system call
    return
  batch = _batch_policy()
  try:
    while not waitable.wait(*value, timeout=WAIT_SLICE_NS):
      pass
  finally:
    if batch:
      os.sched_setscheduler(0, _SCHED_OTHER, os.sched_param(0))


# A module whose control flow reads device values (a while loop's condition) runs to
# its end inside ``invoke``, which no signal interrupts either. Such calls may run on a
# helper thread while the caller waits on a lock, which Ctrl-C does interrupt; the call
# then goes on in the background (as an abandoned computation does in JAX).

class _Invoker:
  """A helper thread running ``invoke`` calls, one at a time; idle ones are pooled."""

  def __init__(self):
    self.jobs = queue.SimpleQueue()
    threading.Thread(target=self._loop, name="pyjax-invoke", daemon=True).start()

  def _loop(self):
    _batch_policy()  # (see ``wait``: IREE waits inside ``invoke``)
    while True:
      context, fn, args, ret, done, err, sem = self.jobs.get()
      try:
        context.invoke(fn, args, ret)
      except BaseException as e:
        err.append(e)
        if sem is not None:  # no waiter on the stream may wait for a lost signal
          try:
            sem.fail(str(e))
          except RuntimeError:
            pass
      done.release()
      del context, fn, args, ret, done, err, sem
      _idle_invokers.append(self)


_idle_invokers: list = []


def invoke_interruptibly(context, fn, args, ret, sem=None):
  """``context.invoke(fn, args, ret)`` on a helper thread; the wait for it ends at a
  KeyboardInterrupt (the call goes on). ``sem``: failed if the call fails."""
  try:
    w = _idle_invokers.pop()
  except IndexError:
    w = _Invoker()
  done = threading.Lock()
  done.acquire()
  err = []
  w.jobs.put((context, fn, args, ret, done, err, sem))
  done.acquire()  # (a lock's wait is interrupted by signals)
  if err:
    raise err[0]


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
        wait(f)
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
      wait(self.sem, self.t)  # let queued calls end: none may outlive the stream
    except RuntimeError:
      pass
    self.sem = self.dev.create_semaphore(0)
    self.t = 0

  def submit(self, context, fn, args, ret, inputs=(), blocking=False) -> DeviceBuffer:
    """Invokes ``fn`` with ``args`` + (wait, signal) fences; returns a fence-only
    ``DeviceBuffer`` (its ``fence``/``sem``/``t``) for the outputs to copy. ``inputs``:
    the argument buffers, waited for here if made before the stream restarted.
    ``blocking``: the call may run long before returning (``invoke_interruptibly``)."""
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
        if blocking:
          self.t = t + 1  # taken: a Ctrl-C leaves the call running, to signal it
          invoke_interruptibly(context, fn, args, ret, sem)
        else:
          context.invoke(fn, args, ret)
      except BaseException as e:
        if blocking and isinstance(e, KeyboardInterrupt):
          raise  # the call goes on and signals t + 1
        self.t = t
        self._restart()
        raise
      self.t = t + 1
    return DeviceBuffer(None, None, fence=sig, sem=sem, t=t + 1)


_streams: dict[str, Stream] = {}


def stream(driver: str) -> Stream:
  s = _streams.get(driver)
  if s is None:
    dev = device(driver)  # (takes ``_lock`` itself: not reentrant)
    with _lock:
      s = _streams.get(driver)
      if s is None:
        s = _streams[driver] = Stream(dev)
  return s


# A synchronous program with loops taking longer than this runs its later calls on a
# helper thread (``invoke_interruptibly``: ~40 us a call), so Ctrl-C can stop them.
LONG_CALL_S = 0.05


# ---------------------------------------------------------------- host callbacks
#
# A module that calls Python (``lowering.FnBuilder.host_call``: jax.debug.print,
# pure_callback, io_callback, eig) imports ``@pyjax_host.cb<k>``; tensors cross as HAL
# buffer views (IREE's ABI for imported functions). Each loaded module gets its own
# ``pyjax_host`` module, a ``PyModuleInterface`` whose export ``cb<k>`` runs the k-th
# ``HostCallback`` of the lowered text: the callables are bound at load time, never
# written into the compiled (disk-cached) module. The VM runs the calls in program
# order on the invoking thread, synchronously (such modules are never compiled for the
# asynchronous model, whose imports would take fences).

def _host_array(ref, aval, dev) -> np.ndarray:
  bv = ref.deref(_rt.HalBufferView)
  dt = aval.dtype
  raw = np.uint16 if dt == dtypes.bfloat16 else dt
  if not aval.size:
    return np.empty(aval.shape, dt)
  try:
    a = np.frombuffer(bv.map(), raw)
  except RuntimeError:  # device memory the host cannot map (a GPU): copied
    a = np.asarray(_rt.DeviceArray(dev, bv, override_dtype=raw).to_host()).ravel()
  return np.array(a.view(dt).reshape(aval.shape), copy=True)


class _CallbackError:
  """The first error a host callback raised during the current call."""
  __slots__ = ("error",)

  def __init__(self):
    self.error = None


def _host_export(cb, dev, err: _CallbackError):
  rt = _rt
  outs = cb.out_avals

  def run(_state, *refs):
    try:
      args = [_host_array(r, a, dev) for r, a in zip(refs, cb.in_avals)]
      res = cb.fn(*args)
      views = []
      for r, a in zip(res, outs):
        v = np.array(r, a.dtype, order="C").reshape(a.shape)  # (0-d stays 0-d)
        if a.dtype == dtypes.bfloat16:
          v = v.view(np.uint16)
        views.append(dev.allocator.allocate_buffer_copy(
            memory_type=rt.MemoryType.DEVICE_LOCAL, allowed_usage=rt.BufferUsage.DEFAULT,
            device=dev, buffer=v, element_type=element_type(a.dtype)).ref)
    except BaseException as e:
      if err.error is None:
        err.error = e
      raise
    if not views:
      return None
    return views[0] if len(views) == 1 else tuple(views)

  sig = "0" + "r" * len(cb.in_avals) + "_" + ("r" * len(outs) or "v")
  return sig, run


def host_module(callbacks, dev, err: _CallbackError):
  rt = _runtime()
  iface = rt.PyModuleInterface(lowering.HOST_MODULE, lambda _iface: None)
  for k, cb in enumerate(callbacks):
    sig, fn = _host_export(cb, dev, err)
    iface.export(f"cb{k}", sig, fn)
  return iface.create()


class Executable:
  """One compiled module. ``call(views) -> output HAL buffer views`` runs it to the
  end; an asynchronous module (``is_async``) is started with ``submit``. ``loops``: its
  control flow reads device values (``invoke`` may run long before it returns).
  ``callbacks``: the ``HostCallback``s it imports (see ``host_module``)."""

  def __init__(self, vmfb: bytes, driver: str, n_out: int, loops: bool = False,
               callbacks=()):
    self.driver = driver
    self.vmfb = vmfb
    self.n_out = n_out
    self.loops = loops
    self.callbacks = tuple(callbacks)
    self._cb_error = _CallbackError()
    self._bind()
    # A synchronous program called again on the same buffers reuses its argument list
    # (a loop feeding the same parameters); it keeps those buffers alive, so only
    # small (local-sync) programs do.
    self.keep_args = driver == "local-sync"
    self._last_views = self._last_args = None

  def _bind(self):
    """Loads the module on the current runtime's device (again in a forked child)."""
    rt = _runtime()
    dev = device(self.driver)
    hal = rt.create_hal_module(_instance, dev)
    self.module = rt.VmModule.copy_buffer(_instance, self.vmfb)
    mods = [hal]
    if self.callbacks:
      mods.append(host_module(self.callbacks, dev, self._cb_error))
    self.context = rt.VmContext(_instance, [*mods, self.module])
    self.fn = self.module.lookup_function("main")
    self.is_async = self.fn.reflection.get("iree.abi.model") == "coarse-fences"
    self.stream = stream(self.driver) if self.is_async else None
    self.fork_generation = _fork_generation
    self._List = rt.VmVariantList
    self._BV = rt.HalBufferView
    self._invoke = self._invoke_timed if self.loops else self.context.invoke
    if self.callbacks:
      self._invoke = self._invoke_with_callbacks

  def _invoke_with_callbacks(self, fn, args, ret):
    err = self._cb_error
    err.error = None
    try:  # on this thread: callbacks run where the caller is (pdb, thread-locals)
      self.context.invoke(fn, args, ret)
    except RuntimeError:
      e, err.error = err.error, None
      if e is None:
        raise
      if isinstance(e, (KeyboardInterrupt, JaxRuntimeError)):
        raise e from None
      raise callback_error(e) from None

  def _invoke_timed(self, fn, args, ret):
    t = time.perf_counter()
    self.context.invoke(fn, args, ret)
    if time.perf_counter() - t > LONG_CALL_S:
      self._invoke = self._invoke_on_helper

  def _invoke_on_helper(self, fn, args, ret):
    invoke_interruptibly(self.context, fn, args, ret)

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
    self._invoke(self.fn, args, ret)
    get, BV = ret.get_as_object, self._BV
    return [get(0, BV)] if n == 1 else [get(i, BV) for i in range(n)]

  def submit(self, views, inputs=()):
    """Queues the call: (output views, a fence-only ``DeviceBuffer`` they are ready at);
    ``inputs``: the ``DeviceBuffer``s of ``views`` that may still be computing."""
    if self.fork_generation != _fork_generation:
      self._bind()  # the device this was loaded on has no worker threads in this child
    args = self._List(len(views) + 2)
    for v in views:
      args.push_ref(v)
    ret = self._List(self.n_out)
    done = self.stream.submit(self.context, self.fn, args, ret, inputs, self.loops)
    get, BV = ret.get_as_object, self._BV
    return [get(i, BV) for i in range(self.n_out)], done


# Programs with more results than this run on local-task, compiled for the asynchronous
# execution model (in the synchronous one IREE's stream scheduling grows with the cube of
# the result count: 1,000 results took 71 s of a 113 s compile; asynchronous: 1 s) and
# with ``SHARED_CONSTANTS_FLAGS``.
MANY_RESULTS = 64

# A ``stablehlo.while`` runs on IREE's VM, its body's dispatches once per iteration;
# on local-task each is handed to the workers and waited for, which costs more than the
# small dispatches of a typical loop body do (a 200-step scan RNN's gradient, hidden
# 256, batch 16: 25 ms on the calling thread, 26-65 ms on two workers, which also burnt
# 2-4x the CPU time). Programs with such loops run on local-sync up to this many times
# ``SMALL_PROGRAM_BYTES`` (hidden 512: 98 vs 155 ms; hidden 1024 or batch 128, 7-10 MB,
# are as fast or faster on the workers), unless a loop body makes an array of
# ``LOOP_TASK_ELEMENTS`` or more (dots aside), work worth the workers at each step:
# Knuth's Poisson sampler over 10^6 lanes (a 4 MB result), 91 ms on the calling thread,
# 58 ms on the workers (XLA: 57 ms).
LOOP_SYNC_FACTOR = 4
LOOP_TASK_ELEMENTS = 1 << 18

# A call on local-task costs ~25-50 us more than on the calling thread (the submission,
# waking the workers, waking the caller: system calls and, in a VM, interrupts between
# cores), which work that only moves memory hardly repays: two workers do not double
# the bandwidth. Per call on 2 cores, calling thread vs workers (ms), float32:
# ``x * x + x * 2`` on 500^2 0.031 vs 0.065, 1000^2 (8 MB in and out) 0.096 vs 0.103,
# 1200^2 0.147 vs 0.155, 1400^2 0.221 vs 0.184; ``sum(x * x)`` alike; ``exp`` and
# ``tanh``, which compute, gain from the workers from ~2 MB (``tanh`` on 1000^2: 0.293
# vs 0.209). So programs of only cheap arithmetic, moves and sums (``memory_bound``;
# see dispatch's ``_MEMORY_BOUND``) run on the calling thread up to this many times
# ``SMALL_PROGRAM_BYTES``.
MEMORY_BOUND_FACTOR = 10


def pick_driver(avals_in, avals_out, platform="cpu", loops=False,
                loop_elements=0, memory_bound=False) -> str:
  """The IREE driver to run a program on; ``loops``: it holds a ``stablehlo.while``;
  ``loop_elements``: the most elements an equation of a loop body makes, dots aside;
  ``memory_bound``: it only does cheap arithmetic, moves and sums."""
  if platform != "cpu":
    return gpu_driver
  if len(avals_out) > MANY_RESULTS or loop_elements >= LOOP_TASK_ELEMENTS:
    return "local-task"
  nbytes = sum(a.size * a.dtype.itemsize for a in (*avals_in, *avals_out))
  factor = LOOP_SYNC_FACTOR if loops else MEMORY_BOUND_FACTOR if memory_bound else 1
  limit = SMALL_PROGRAM_BYTES * factor
  return "local-sync" if nbytes < limit else "local-task"

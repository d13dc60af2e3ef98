"""The compiled call path of jit: arguments to device buffers, run, results to Arrays.

A jit result is a ``PendingArray`` whose ``_buf`` holds the result buffer and whose
``_value`` is unset until first use, when it becomes a read-only NumPy view of the
buffer (no copy on CPU); the next jit call passes ``_buf`` on without an upload.
On ``local-task`` the call only queues the work (asynchronous dispatch) and the
buffer carries the fence it is ready at. Host arrays are uploaded once: the
buffer is remembered on the (immutable) Array.

Donation: each donated argument is marked as the storage of the first result of
its shape and dtype (``iree.abi.output``), so IREE writes that result in place.
"""
from __future__ import annotations

import atexit
import collections
import os
import sys
import threading

import numpy as np

from pyjax._src import compiler, core, devices as _devices, monitoring
from pyjax._src.caches import LRUCache, WeakLRUCache
from pyjax._src.array import ArrayImpl, GlobalArray, PendingArray, asarray_value
from pyjax._src.backends import iree
from pyjax._src.config import config
from pyjax._src.core import ClosedJaxpr
from pyjax._src.errors import JaxRuntimeError, out_of_memory
from pyjax._src.interpreters import lowering, native_loops
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.mesh import AxisType, Mesh, get_concrete_mesh
from pyjax._src.sharding import (NamedSharding, PartitionSpec, concrete_meshes,
                                 typed_sharding)
from pyjax._src.util import host_memory_limit, one_blas_thread


DeviceBuffer = iree.DeviceBuffer


@atexit.register
def wait_for_tokens():
  """Waits for the effects of launched programs (JAX's runtime tokens; registered to run
  at exit, as in JAX: Equinox swaps it for its own). A program with callbacks runs
  synchronously and its callbacks within the call, so there is nothing to wait for."""


def _deleted_error(x):
  b = x._buf
  shape = core.ShapedArray(b.shape, b.dtype).str_short(short_dtypes=False) \
      if b is not None else x.aval.str_short(short_dtypes=False)
  return RuntimeError(f"Array has been deleted with shape={shape}.")


def _upload(x: ArrayImpl, driver: str):
  return iree.to_device(np.asarray(x._value), driver)


def _alias_map(in_avals, out_avals, donated) -> dict[int, int]:
  """{donated input: the first unclaimed output of the same shape and dtype}."""
  free = list(range(len(out_avals)))
  out = {}
  for i, (a, d) in enumerate(zip(in_avals, donated)):
    if not d:
      continue
    for j in free:
      o = out_avals[j]
      if o.shape == a.shape and o.dtype == a.dtype:
        out[i] = j
        free.remove(j)
        break
  return out


def _mark_outputs(text: str, first: int, aliases: dict[int, int]) -> str | None:
  """``text`` with ``{iree.abi.output = j}`` on @main's parameter ``first + i`` for each
  ``i: j`` of ``aliases``; None when the signature is not in the expected form."""
  head = "func.func public @main("
  start = text.find(head)
  end = text.find(") -> (", start)
  if start < 0 or end < 0:
    return None
  start += len(head)
  params = text[start:end].split(", ")
  for i, j in aliases.items():
    k = first + i
    if k >= len(params) or not params[k].startswith(f"%arg{k}: tensor<") or \
        not params[k].endswith(">"):
      return None
    params[k] += f" {{iree.abi.output = {j} : index}}"
  return text[:start] + ", ".join(params) + text[end:]


def _exclusive(x, b: DeviceBuffer, bufs) -> bool:
  """Whether ``b`` (the buffer of argument ``x``) may be overwritten: no other Array,
  NumPy view or argument of this call shares its memory."""
  if b.shared or sum(c is b for c in bufs) > 1:
    return False
  h = b.host
  if h is None:
    return True
  # References: b.host, ``h``, getrefcount's argument and x._value when it is ``h``.
  return sys.getrefcount(h) <= 3 + (type(x) is ArrayImpl and x._value is h)


def _span(view):
  """(address, bytes) of a CPU buffer view."""
  n = view.byte_length
  return (np.frombuffer(view.map(), np.uint8).ctypes.data if n else 0), n


def _nbytes(aval) -> int:
  try:
    return aval.size * aval.dtype.itemsize
  except (AttributeError, TypeError):  # (tokens, keys: small)
    return 0


def _largest_value(jaxpr: core.Jaxpr) -> int:
  """Bytes of the largest value an equation of ``jaxpr`` (or of a jaxpr in its params)
  makes."""
  most = 0
  for eqn in jaxpr.eqns:
    for v in eqn.outvars:
      most = max(most, _nbytes(v.aval))
    for p in eqn.params.values():
      for sub in p if isinstance(p, (tuple, list)) else (p,):
        if isinstance(sub, ClosedJaxpr):
          sub = sub.jaxpr
        if isinstance(sub, core.Jaxpr):
          most = max(most, _largest_value(sub))
  return most


def _bytes_needed(closed: ClosedJaxpr) -> int:
  """Memory a program needs at least: its results together, or its largest value."""
  return max(sum(_nbytes(a) for a in closed.out_avals), _largest_value(closed.jaxpr))


class _OutOfMemory:
  """The executable of a program whose values cannot fit in memory: a call raises JAX's
  error, as XLA's allocator does when the program runs."""
  is_async = False

  def __init__(self, nbytes: int):
    self.nbytes = nbytes

  def call(self, views):
    raise out_of_memory(self.nbytes)


def _without_native_loops(closed, name, text, n_consts, aliases):
  """``closed``'s module with its loops as ``stablehlo.while`` (no native loops), for a
  module with native loops that IREE failed to compile; None if it had none."""
  if "scf.while" not in text:
    return None
  old = native_loops.set_enabled(False)
  try:
    plain = lowering.lower_jaxpr(closed, name)
  finally:
    native_loops.set_enabled(old)
  if aliases:
    marked = _mark_outputs(plain, n_consts, aliases)
    if marked is None:
      return None
    marked = lowering.ModuleText(marked)
    marked.callbacks = plain.callbacks
    plain = marked
  return plain


# Equations of a loop body that do not measure its work per step: dots (counted by
# their results, a matmul's work is not; see ``iree.pick_driver``) and updates of an
# array in place (a scan's stacked results).
_NOT_LOOP_WORK = frozenset({"dot_general", "dynamic_update_slice", "scatter",
                            "scatter-add"})


def _loop_body_elements(jaxpr, in_loop=False) -> int:
  """The most elements an equation inside a ``while`` or ``scan`` body of ``jaxpr``
  makes (0: none), ``_NOT_LOOP_WORK`` aside."""
  most = 0
  for eqn in jaxpr.eqns:
    name = eqn.primitive.name
    if in_loop and name not in _NOT_LOOP_WORK:
      for v in eqn.outvars:
        most = max(most, getattr(v.aval, "size", 0))
    inner = in_loop or name in ("while", "scan")
    for sub in core.jaxprs_in_params(eqn.params):
      most = max(most, _loop_body_elements(sub, inner))
  return most


# Primitives whose compiled code moves memory more than it computes (in float32,
# float64, integer or bool): programs of nothing else take ``iree.pick_driver``'s
# ``memory_bound`` limit.
_MEMORY_BOUND = frozenset({
    "add", "sub", "mul", "div", "neg", "abs", "sign", "max", "min", "square",
    "integer_pow", "floor", "ceil", "round", "select_n", "clamp", "eq", "ne", "lt",
    "le", "gt", "ge", "and", "or", "not", "xor", "shift_left",
    "shift_right_logical", "shift_right_arithmetic", "convert_element_type",
    "broadcast_in_dim", "reshape", "squeeze", "expand_dims", "transpose", "rev",
    "slice", "dynamic_slice", "concatenate", "pad", "iota", "copy", "copy_p",
    "reduce_sum", "reduce_max", "reduce_min", "reduce_and", "reduce_or", "pjit",
    "jit", "closed_call"})
_CHEAP_KINDS = frozenset("fiub")


def _memory_bound(jaxpr) -> bool:
  """Whether every equation of ``jaxpr`` (nested jits included) is in
  ``_MEMORY_BOUND`` and makes no float16, bfloat16 or complex values."""
  for eqn in jaxpr.eqns:
    if eqn.primitive.name not in _MEMORY_BOUND:
      return False
    for v in eqn.outvars:
      dt = getattr(v.aval, "dtype", None)
      if dt is None or dt.kind not in _CHEAP_KINDS or (dt.kind == "f" and
                                                      dt.itemsize < 4):
        return False
    for sub in core.jaxprs_in_params(eqn.params):
      if not _memory_bound(sub):
        return False
  return True


class _Plan:
  """How a jaxpr is compiled and called: its hoisted constants, IREE driver, donation
  aliases and final module text (known before compiling, so that jit can compile in the
  background)."""

  def __init__(self, closed: ClosedJaxpr, text: str, platform="cpu", donated=()):
    consts = lowering.hoisted_consts(closed)
    in_avals = [core.get_aval(c) for c in consts] + list(closed.in_avals)
    out_avals = closed.out_avals
    self.platform = platform
    self.consts = consts
    self.callbacks = getattr(text, "callbacks", ())
    loops = "stablehlo.while" in text
    self.driver = iree.pick_driver(
        in_avals, out_avals, platform, loops=loops,
        loop_elements=_loop_body_elements(closed.jaxpr) if loops else 0,
        memory_bound=not loops and _memory_bound(closed.jaxpr))
    self.asynchronous = self.driver == "local-task" and not self.callbacks
    self.n_out = len(out_avals)
    self.n_consts = len(consts)
    self.aliases = _alias_map(closed.in_avals, out_avals, donated) if any(donated) else {}
    if self.aliases:
      marked = _mark_outputs(text, self.n_consts, self.aliases)
      if marked is None:
        self.aliases = {}
      else:
        text = marked
    unused = [a for i, (a, d) in enumerate(zip(closed.in_avals, donated))
              if d and i not in self.aliases]
    if unused:  # JAX's warning: no result of the same type to write into
      import warnings
      names = ", ".join(("~" if a.weak_type else "") + a.str_short(short_dtypes=False)
                        for a in unused)
      warnings.warn(f"Some donated buffers were not usable: {names}.\nSee an explanation "
                    "at https://docs.jax.dev/en/latest/faq.html#buffer-donation.")
    self.text = text
    self.need = _bytes_needed(closed)

  def fits(self) -> bool:
    return self.need <= host_memory_limit()

  def is_compiled(self) -> bool:
    return iree.is_compiled(self.text, self.platform, self.n_out, self.asynchronous)

  def precompile(self) -> None:
    iree.precompile(self.text, self.platform, self.n_out, self.asynchronous)


class CompiledCall:
  """A compiled jaxpr: ``call(leaves, donated) -> list of ArrayImpl``."""

  def __init__(self, closed: ClosedJaxpr, name: str, text: str, platform="cpu",
               donated=(), device=None, plan: _Plan | None = None):
    if plan is None:
      plan = _Plan(closed, text, platform, donated)
    consts, text, callbacks = plan.consts, plan.text, plan.callbacks
    out_avals = closed.out_avals
    self.driver = plan.driver
    self.n_consts = plan.n_consts
    self.aliases = plan.aliases
    self.text = text
    if not plan.fits():  # JAX's error when it runs (IREE's compiler may fail)
      self.exe = _OutOfMemory(plan.need)
    else:
      def load(text, callbacks):
        # A program calling Python runs synchronously (see iree.host_module). Called
        # through the module attribute, which code such as Chex's patches.
        return compiler.backend_compile_and_load(
            compiler.backend(platform), text, None, None, callbacks, driver=self.driver,
            n_out=len(out_avals), asynchronous=plan.asynchronous)
      try:
        self.exe = load(text, callbacks)
      except RuntimeError as e:  # IREE's own text stays as the cause
        if not compiler.is_iree_failure(e):
          raise
        plain = _without_native_loops(closed, name, text, self.n_consts, self.aliases)
        if plain is None:
          raise _compile_error(closed, name, e) from e
        try:
          self.exe = load(plain, getattr(plain, "callbacks", ()))
        except RuntimeError as e2:
          if not compiler.is_iree_failure(e2):
            raise
          raise _compile_error(closed, name, e) from e
        self.text = plain
    self.out_meta = [(tuple(a.shape), a.dtype, a.weak_type) for a in out_avals]
    self.const_bufs = [self._buffer(c) for c in consts]
    self.const_views = [b.view for b in self.const_bufs]
    for b in self.const_bufs:
      b.shared = True  # a closed-over Array: never donated in place
    # (input, output) and (output, output) pairs IREE returns without a copy (e.g. the
    # identity, a reshape); found on the first call, the same on every call.
    self.same_memory = None
    self.simple = False  # set after the first call (see ``__call__``'s fast path)
    self.device = device  # the GPU Device its results are committed to (None: CPU)
    if config.jax_log_compiles:
      import logging
      logging.getLogger("pyjax").warning("Compiled %s for %s", name, self.driver)

  def _arg(self, x):
    """The device buffer of argument ``x`` on this program's driver."""
    t = type(x)
    b = x._buf if t is ArrayImpl or t is PendingArray else None
    if b is None or b.driver != self.driver or x._deleted:
      b = self._buffer(x)
    return b

  def _buffer(self, x):
    if not isinstance(x, ArrayImpl):
      x = asarray_value(x)
    if x._deleted:
      raise _deleted_error(x)
    b = x._buf
    if b is None or b.driver != self.driver:
      b = _upload(x, self.driver)
      if x._buf is None:
        x._buf = b
    return b

  def __call__(self, leaves, donated=()):
    drv = self.driver
    if self.simple and not donated:
      # The common case, kept short: a synchronous program with no constants, no
      # aliasing, and results that never share an argument's memory.
      views = []
      for x in leaves:  # (``_arg`` inlined for the common case: 0.25 us a call)
        t = type(x)
        if (t is ArrayImpl or t is PendingArray) and (b := x._buf) is not None \
            and b.driver == drv and not x._deleted:
          views.append(b.view)
        else:
          views.append(self._arg(x).view)
      res = []
      for o, (shape, dtype, weak) in zip(self.exe.call(views), self.out_meta):
        a = _new_object(PendingArray)
        a.weak_type = weak
        a._device = None
        a._deleted = False
        a._buf = DeviceBuffer(o, drv, shape, dtype)
        res.append(a)
      return res
    views = self.const_views.copy()
    bufs = [self._arg(x) for x in leaves]
    views += [b.view for b in bufs]
    if self.aliases:
      self._guard_aliases(leaves, bufs, views, donated)
    exe = self.exe
    if exe.is_async:
      outs, done = exe.submit(views, bufs)
      fence, sem, t = done.fence, done.sem, done.t
    else:
      outs = exe.call(views)
      fence = sem = None
      t = 0
    if donated:
      _delete_donated(leaves, donated)
    res = []
    for o, (shape, dtype, weak) in zip(outs, self.out_meta):
      a = _new_object(PendingArray)  # ``_value`` stays unset until read
      a.weak_type = weak
      a._device = self.device
      a._deleted = False
      a._buf = DeviceBuffer(o, drv, shape, dtype, fence, sem, t)
      res.append(a)
    same = self.same_memory
    if same is None:
      if fence is not None and res:
        res[0]._buf.wait()
      same = self.same_memory = self._find_same_memory(views, outs)
      self.simple = (not same and not self.const_views and not self.aliases
                     and not exe.is_async and self.device is None)
    for i, j in same:
      if i is not None:
        (self.const_bufs + bufs)[i].shared = True
      res[j]._buf.shared = True
    return res

  def _guard_aliases(self, leaves, bufs, views, donated):
    """A parameter marked as a result's storage gets a copy unless it is donated and
    nothing else shares its memory."""
    nc = self.n_consts
    for i in self.aliases:
      b = bufs[i]
      if not (donated and donated[i] and _exclusive(leaves[i], b, bufs)):
        views[nc + i] = iree.to_device(np.asarray(b.value()), self.driver).view

  def _find_same_memory(self, views, outs):
    nc = self.n_consts
    skip = {(nc + i, j) for i, j in self.aliases.items()}  # in place by request
    ins = [_span(v) for v in views]
    spans = [_span(o) for o in outs]
    pairs = []
    for j, (p, n) in enumerate(spans):
      if not n:
        continue
      for k, (q, m) in enumerate(ins):
        if m and p < q + m and q < p + n and (k, j) not in skip:
          pairs.append((k, j))
      for k in range(j):
        q, m = spans[k]
        if m and p < q + m and q < p + n:
          pairs += [(None, k), (None, j)]
    return pairs


_new_object = object.__new__


def _delete_donated(leaves, donated):
  """Deletes the donated arguments of a call: any later read raises (the memory may
  hold a result)."""
  for x, d in zip(leaves, donated):
    if d and isinstance(x, ArrayImpl):
      x.delete()
      if type(x) is ArrayImpl:
        del x._value
        x.__class__ = PendingArray


def _compile_error(closed: ClosedJaxpr, name: str, e: Exception) -> JaxRuntimeError:
  """JAX's error for a program IREE failed to compile, naming the function."""
  if "RESOURCE_EXHAUSTED" in str(e):
    big = max((v.aval for eqn in closed.jaxpr.eqns for v in eqn.outvars),
              key=lambda a: a.size * a.dtype.itemsize, default=None)
    what = "" if big is None else (
        f" Its largest array is {big.str_short(short_dtypes=False)} "
        f"({big.size * big.dtype.itemsize} bytes).")
    return JaxRuntimeError(
        f"RESOURCE_EXHAUSTED: Out of memory while compiling jit({name}): the compiler "
        f"evaluates arrays built from constants (such as jnp.zeros of a static shape) "
        f"ahead of time.{what} Pass large arrays as arguments, or make them smaller.")
  first = next((l.strip() for l in str(e).splitlines() if "error:" in l), "")
  return JaxRuntimeError(
      f"INTERNAL: the IREE compiler failed on the program of jit({name}); this is a bug "
      f"in pyjax or IREE, please report it with the IREE output given as this error's "
      f"cause. {first}".rstrip())


def compile_closed_jaxpr(closed: ClosedJaxpr, name: str, text: str | None = None,
                         platform: str = "cpu", donated=(), device=None) -> CompiledCall:
  if text is None:
    with monitoring.timed_event(monitoring.JAXPR_TO_MLIR_MODULE_EVENT, name):
      text = lowering.lower_jaxpr(closed, name)
  with monitoring.timed_event(monitoring.BACKEND_COMPILE_EVENT, name):
    return CompiledCall(closed, name, text, platform, donated, device)


# ---------------------------------------------------------------- tiered execution
#
# IREE takes 0.1-4 s to compile a program that XLA compiles in 0.01-1 s. So that a
# jitted function's first calls do not wait for it, a cache miss (``compile_tiered``)
# lowers the jaxpr, and unless the memory or disk cache already holds its module,
# hands the compile to one background thread and returns a ``TieredCall``: its calls run
# the jaxpr eagerly (the NumPy primitive impls; nested jits inline, ``in_eager_tier``) until the
# module is ready, then load it and hand the ``CompiledCall`` to the caller's cache
# (``on_ready``). An eager run of a program without effects stops as soon as the module
# is ready (a check at each ``core.eval_jaxpr``: each loop step, ``core.eval_check``) and
# the call runs compiled: a long loop does not run to its end eagerly. A program with
# effects (callbacks, prints) runs to its end, and one with effects and a while loop is
# compiled synchronously. Not tiered: programs whose eager impls compile (shard_map,
# exported calls), GPU programs, sharded arguments, ``pyjax_jit_tiering='off'``.
# At exit the queued compiles finish (they fill the disk cache: the next run starts
# compiled); a forked child compiles again what its parent had queued.

class _Ready(Exception):
  """Raised inside a tiered call's eager run once its compiled program is ready."""


# Set on the thread running a tiered call eagerly: the jit primitive's impl then
# evaluates its jaxpr inline (``in_eager_tier``) instead of compiling it.
_eager_tier = threading.local()


def in_eager_tier() -> bool:
  return getattr(_eager_tier, "on", False)


# Primitives whose eager impls compile programs themselves: jaxprs holding them are
# compiled synchronously.
NOT_TIERED = {"shard_map", "call_exported"}


def _tier_kind(jaxpr: core.Jaxpr) -> tuple[bool, bool, bool]:
  """(can run eagerly, has effects, has a while loop) of ``jaxpr`` and its sub-jaxprs."""
  ok, effects, loops = True, False, False
  for eqn in jaxpr.eqns:
    p = eqn.primitive
    if p.name in NOT_TIERED:
      return False, effects, loops
    effects |= p.effectful
    loops |= p.name == "while"
    for sub in core.jaxprs_in_params(eqn.params):
      o, e, w = _tier_kind(sub)
      ok, effects, loops = ok and o, effects or e, loops or w
  return ok, effects, loops


class _Job:
  __slots__ = ("plan", "key", "done", "error", "generation")

  def __init__(self, plan, key, generation):
    self.plan, self.key, self.generation = plan, key, generation
    self.done = threading.Event()
    self.error = None


def _below_eager_priority(fn):
  """Runs ``fn()`` on a thread of its own with niceness 10, which the ``iree-compile``
  process inherits (Linux): the compiler takes the cores the eager calls leave (NumPy's
  BLAS threads, descheduled by it, slowed eager matmuls 10-50x on a 2-core machine). A
  thread of its own, since a thread cannot take its priority back, and IREE's worker
  threads inherit their creator's."""
  err = []

  def run():
    try:
      os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
      pass
    try:
      fn()
    except BaseException as e:
      err.append(e)
  t = threading.Thread(target=run, name="pyjax-compile-job", daemon=True)
  t.start()
  t.join()
  if err:
    raise err[0]


class _BackgroundCompiler:
  """One daemon thread compiling queued plans in order; a module asked for twice is
  compiled once."""

  def __init__(self):
    self.generation = 0
    self._reset()

  def _reset(self):
    self.lock = threading.Condition()
    self.queue = collections.deque()
    self.pending = {}
    self.thread = None
    self.busy = None
    self.stopping = False

  def submit(self, plan: _Plan) -> _Job:
    key = (plan.text, plan.platform, plan.n_out, plan.asynchronous)
    with self.lock:
      job = self.pending.get(key)
      if job is None:
        job = self.pending[key] = _Job(plan, key, self.generation)
        self.queue.append(job)
        if self.thread is None:
          self.thread = threading.Thread(target=self._loop, name="pyjax-compile",
                                         daemon=True)
          self.thread.start()
        self.lock.notify()
    return job

  def _loop(self):
    while True:
      with self.lock:
        while not self.queue and not self.stopping:
          self.lock.wait()
        if not self.queue:  # stopping, and nothing left
          return
        job = self.busy = self.queue.popleft()
      try:
        _below_eager_priority(job.plan.precompile)
        iree.device(job.plan.driver)  # the runtime too, before the switch needs it
      except BaseException as e:  # the foreground compile reports it (see TieredCall)
        job.error = e
      with self.lock:
        self.busy = None
        self.pending.pop(job.key, None)
      job.done.set()

  def stop(self):
    """At exit: the queued compiles end (their modules go to the disk cache, so the
    next run starts compiled); a program never waits longer than with tiering off."""
    with self.lock:
      self.stopping = True
      self.lock.notify_all()
      thread = self.thread
    if thread is not None:
      thread.join()

  def after_fork_in_child(self):
    self.generation += 1  # the parent's jobs never finish here: compiled again
    self._reset()


_background = _BackgroundCompiler()
atexit.register(_background.stop)
if hasattr(os, "register_at_fork"):
  os.register_at_fork(after_in_child=_background.after_fork_in_child)


def _as_result(x, aval):
  """An eager run's output as a jit result: an Array of the aval's dtype and weak type."""
  if type(x) is ArrayImpl and x.weak_type == aval.weak_type and x.dtype == aval.dtype:
    return x
  if isinstance(x, ArrayImpl) and not isinstance(x, GlobalArray):
    return ArrayImpl(np.asarray(x._value, aval.dtype), aval.weak_type, x._device)
  return x if not hasattr(aval, "dtype") or isinstance(x, core.Tracer) else \
      ArrayImpl(np.asarray(x, aval.dtype), aval.weak_type)


def _ready_check(done: threading.Event, thread: int):
  """A check raising ``_Ready`` in ``thread`` once ``done`` is set."""
  def check():
    if done.is_set() and threading.get_ident() == thread:
      raise _Ready
  return check


class TieredCall:
  """A program compiling in the background: runs eagerly until it is compiled."""

  def __init__(self, closed: ClosedJaxpr, name: str, plan: _Plan, donated, effects,
               on_ready=None):
    self.closed, self.name, self.plan = closed, name, plan
    self.donated = tuple(donated)
    self.effects = effects
    self.on_ready = on_ready
    self.compiled = None
    self.job = _background.submit(plan)
    if config.jax_log_compiles:
      import logging
      logging.getLogger("pyjax").warning(
          "Compiling %s in the background; running it eagerly until then", name)

  def ready(self) -> bool:
    job = self.job
    if job.generation != _background.generation:  # forked: the parent's compile is lost
      job = self.job = _background.submit(self.plan)
    return job.done.is_set()

  def _switch(self) -> CompiledCall:
    c = self.compiled
    if c is None:
      # The module is in the cache (or the compile failed: compiling again here gives
      # the synchronous path's fallbacks and errors).
      with monitoring.timed_event(monitoring.BACKEND_COMPILE_EVENT, self.name):
        c = self.compiled = CompiledCall(self.closed, self.name, self.plan.text,
                                         self.plan.platform, self.donated, plan=self.plan)
      if self.on_ready is not None:
        self.on_ready(c)
    return c

  def __call__(self, leaves, donated=()):
    if self.ready():
      return self._switch()(leaves, donated)
    check = None if self.effects else _ready_check(self.job.done, threading.get_ident())
    prev, prev_on = core.eval_check, in_eager_tier()
    core.eval_check, _eager_tier.on = check, True
    try:
      closed = self.closed
      with one_blas_thread():
        outs = core.eval_jaxpr(closed.jaxpr, closed.consts, *leaves)
    except _Ready:
      return self._switch()(leaves, donated)
    finally:
      core.eval_check, _eager_tier.on = prev, prev_on
    outs = [_as_result(o, a) for o, a in zip(outs, self.closed.out_avals)]
    if donated:
      for i, (x, d) in enumerate(zip(leaves, donated)):
        if d and isinstance(x, ArrayImpl):
          for j, o in enumerate(outs):
            if o is x:  # the result is the donated argument itself: a new Array
              outs[j] = ArrayImpl(x._value, x.weak_type, x._device)
      _delete_donated(leaves, donated)
    return outs


def compile_tiered(closed: ClosedJaxpr, name: str, donated=(), on_ready=None):
  """A ``CompiledCall`` of ``closed`` when its module is cached or tiering is off or
  does not apply, else a ``TieredCall`` compiling it in the background (see above)."""
  if config.pyjax_jit_tiering == "off":
    return compile_closed_jaxpr(closed, name, donated=donated)
  with monitoring.timed_event(monitoring.JAXPR_TO_MLIR_MODULE_EVENT, name):
    text = lowering.lower_jaxpr(closed, name)
  plan = _Plan(closed, text, "cpu", donated)
  ok, effects, loops = _tier_kind(closed.jaxpr)
  if not ok or (effects and loops) or not plan.fits() or plan.is_compiled():
    with monitoring.timed_event(monitoring.BACKEND_COMPILE_EVENT, name):
      return CompiledCall(closed, name, text, "cpu", donated, plan=plan)
  return TieredCall(closed, name, plan, donated, effects, on_ready)


# ---------------------------------------------------------------- eager ops on a GPU
#
# NumPy cannot run on a GPU: once a GPU is found, an eager primitive whose operands live
# there (or, with none committed anywhere, when the default device is a GPU) runs as a
# small compiled program of that one primitive, cached by (primitive, params, avals), as
# JAX's apply_primitive does. The eager hook (``core.set_eval_hook``) is the routing
# version only while a GPU is known, and none at all (the host path, run inline by
# ``EvalTrace``) once the first eager operation has found no GPU: CPU-only eager code
# pays nothing for it.

def _eval_routed(prim, args, params):
  dev, committed = target_device(args)
  if dev.platform != "cpu":
    return apply_on_device(prim, args, params, dev)
  out = prim.impl(*args, **params)
  if committed:  # operands committed to the CPU: so is the result
    commit(out if prim.multiple_results else (out,), dev)
  return out


def commit(arrays, device):
  for a in arrays:
    if isinstance(a, ArrayImpl):
      a._device = device


def _eval_first(prim, args, params):
  """The first eager operation looks for a GPU once (cheap without an NVIDIA driver)."""
  global _probed
  _probed = True
  _install_hook()
  _devices.gpu_devices()  # sets the routing hook when it finds one
  return core.eval_trace.process_primitive(prim, args, params)


gpu_found = False  # a GPU was found: jit calls and eager operations may run there
_probed = False  # the first eager operation has looked for a GPU
_sharded = False  # a sharded array or type exists: eager results carry shardings


def _install_hook():
  core.set_eval_hook(_eval_first if not _probed else _eval_sharded if _sharded
                     else _eval_routed if gpu_found else None)


def _gpus_changed(found: bool):
  global gpu_found, _probed
  gpu_found = found
  if not found:
    _probed = False
    _on_device.clear()
  _install_hook()


# ---------------------------------------------------------------- eager ops, sharded arrays
#
# JAX runs an operation on committed sharded arrays as a jitted program whose output
# shardings are those of the types (Explicit axes) or GSPMD's choice (Auto axes). Here the
# values are one host buffer either way: the hook runs the NumPy impl and places each
# result by the primitive's sharding rule (``core.shard_avals``). It is installed when the
# first sharded array or type appears (``core.on_first_sharded``), so eager code that never
# shards pays nothing.

_SHARDING_PARAMS = ("sharding", "out_sharding", "dst_sharding")


# Operations on Arrays spanning several processes (``array.GlobalArray``): the
# ``multiprocess`` module (above this one) registers how they run.
_global_eval = None


def register_global_eval(fn):
  global _global_eval
  _global_eval = fn


def _eval_sharded(prim, args, params):
  named = None
  for a in args:
    d = getattr(a, "_device", None)
    if d is not None and isinstance(d, NamedSharding):
      if named is None:
        named = d
      if type(a) is GlobalArray:
        return _global_eval(prim, args, params)
  if named is None:
    for k in _SHARDING_PARAMS:
      if params.get(k) is not None:
        break
    else:
      return _eval_plain(prim, args, params)
  if prim.abstract_eval is None:  # nothing to type the results with
    return _eval_plain(prim, args, params)
  avals = [core.get_aval(a) for a in args]
  mesh = None if named is None else named.mesh
  if mesh is not None and not mesh.are_all_axes_explicit:
    out_avals = _gspmd_avals(prim, args, avals, params, mesh)
  else:
    out = prim.rule("abstract_eval")(*avals, **params)
    out = core.shard_avals(prim, avals, out, params)
    out_avals = out if prim.multiple_results else (out,)
  outs = _eval_plain(prim, args, params)
  flat = list(outs) if prim.multiple_results else [outs]
  for i, o in enumerate(flat):
    if any(o is a for a in args):  # an identity's operand: the result is a new array
      flat[i] = ArrayImpl(o._value, o.weak_type, o._device)
  place_sharded(flat, out_avals, mesh, params, args)
  if not prim.multiple_results:
    return flat[0]
  return flat if isinstance(outs, list) else tuple(flat)


def _eval_plain(prim, args, params):
  if gpu_found and not any(isinstance(getattr(a, "_device", None), NamedSharding)
                           for a in args):
    return _eval_routed(prim, args, params)
  return prim.impl(*args, **params)


def _gspmd_avals(prim, args, avals, params, mesh):
  """Output avals for operands on a mesh with Auto axes: the Explicit rules applied to
  the operands' full shardings (what GSPMD gives in the common cases), replicated where
  they raise."""
  explicit = mesh.abstract_mesh.update(axis_types=(AxisType.Explicit,) * len(
      mesh.axis_names))
  full = []
  for a, av in zip(args, avals):
    d = getattr(a, "_device", None)
    if isinstance(d, NamedSharding) and d.mesh.axis_names == mesh.axis_names:
      av = core.ShapedArray(av.shape, av.dtype, av.weak_type,
                            sharding=typed_sharding(explicit, d.spec, len(av.shape)))
    full.append(av)
  out = prim.rule("abstract_eval")(*avals, **params)
  try:
    out = core.shard_avals(prim, full, out, params)
  except (core.ShardingTypeError, NotImplementedError):
    pass
  return out if prim.multiple_results else (out,)


def place_sharded(outs, out_avals, mesh=None, params=None, args=()):
  """Commits each result to ``NamedSharding(mesh, its aval's spec)`` (replicated where
  the aval has none). ``mesh``: the concrete mesh (None: the first concrete mesh among
  ``params``' shardings, ``args``' shardings and the mesh in context)."""
  if mesh is None:
    mesh = _concrete_mesh(params, args)
    if mesh is None:
      return
  for o, av in zip(outs, out_avals):
    if not isinstance(o, ArrayImpl):
      continue
    s = getattr(av, "sharding", None)
    spec = s.spec if s is not None else PartitionSpec(*[None] * len(av.shape))
    if s is not None and s.mesh.axis_names != mesh.axis_names:
      continue
    o._device = NamedSharding(mesh, spec)


def _concrete_mesh(params, args):
  for k in _SHARDING_PARAMS:
    s = (params or {}).get(k)
    if isinstance(s, NamedSharding):
      m = s.mesh if isinstance(s.mesh, Mesh) else concrete_meshes.get(s.mesh)
      if m is not None:
        return m
  for a in args:
    d = getattr(a, "_device", None)
    if isinstance(d, NamedSharding):
      return d.mesh
  m = get_concrete_mesh()
  return None if m is None or m.empty else m


class ShardedCall:
  """A compiled call on sharded arguments: its results placed as their types say (the
  values are global host buffers either way)."""

  def __init__(self, call, out_avals):
    self._call, self._out_avals = call, out_avals

  def __call__(self, leaves, donated=()):
    outs = self._call(leaves, donated)
    place_sharded(outs, self._out_avals, None, None, leaves)
    return outs

  def __getattr__(self, name):
    return getattr(self._call, name)


def _enable_sharded():
  global _sharded
  _sharded = True
  _install_hook()


def target_device(args):
  """(device, committed): where an operation on ``args`` runs, a GPU operand's device,
  else a committed operand's device, else (uncommitted) the default device."""
  committed = None
  for a in args:
    d = getattr(a, "_device", None)
    if d is not None:
      if not isinstance(d, _devices.Device):  # sharded over the host devices
        continue
      if d.platform != "cpu":
        return d, True
      committed = d
  if committed is not None:
    return committed, True
  return _devices.default_device(), False


# Keyed by content; bounded: eager code over ever new shapes compiles ever new programs.
_on_device = LRUCache(4096)
_gpus_changed(False)
_devices.on_gpus_changed(_gpus_changed)
core.on_first_sharded(_enable_sharded)


def _params_key(params):
  try:
    key = tuple(sorted(params.items()))
    hash(key)
    return key
  except TypeError:  # e.g. arrays in params: not cached
    return None


def apply_on_device(prim, args, params, device):
  """Runs one primitive on ``device`` as a compiled program (cached)."""
  avals = tuple(core.get_aval(a) for a in args)
  pk = _params_key(params)
  key = (prim, pk, avals, device) if pk is not None else None
  c = _on_device.get(key) if key is not None else None
  if c is None:
    def one(*xs):
      out = prim.bind(*xs, **params)
      return list(out) if prim.multiple_results else [out]
    try:
      jaxpr, consts = pe.trace_to_jaxpr(one, avals)
      c = compile_closed_jaxpr(ClosedJaxpr(jaxpr, consts), prim.name, platform="gpu",
                               device=device)
    except (NotImplementedError, RuntimeError):
      c = False  # no lowering (or IREE cannot compile it): evaluated on the host
    if key is not None:
      _on_device[key] = c
  if c is False:
    return prim.impl(*args, **params)
  outs = c(list(args), ())
  return outs if prim.multiple_results else outs[0]


# The jit primitive's compiled calls, by jaxpr object (held weakly: a jaxpr traced anew
# on each call, as grad(jit(f)) and vmap(jit(f)) do, takes its program with it) and
# bounded (jaxprs kept alive elsewhere).
_by_jaxpr = WeakLRUCache(1024)


def run_closed_jaxpr(closed: ClosedJaxpr, name: str, args, donated=()):
  """The impl of the jit primitive: compiles ``closed`` once (per object) and runs it.
  Not tiered: a jit under an eager transformation (``grad(jit(f))``) gives its compiled
  numbers from the first call, as seed 001's printed ``-0.0353256`` asks (eagerly:
  ``-0.035325605``)."""
  donated = tuple(donated)
  c = _by_jaxpr.get(closed, donated)
  if c is None:
    c = compile_closed_jaxpr(closed, name, donated=donated)
    _by_jaxpr.set(closed, donated, c)
  return c(args, donated)

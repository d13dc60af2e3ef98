"""``jax.distributed``: several processes, one program, over MPI (mpi4py).

``initialize()`` joins the processes an ``mpirun``/``mpiexec`` launch started (MPICH's
``PMI_RANK``/``PMI_SIZE``, Open MPI's ``OMPI_COMM_WORLD_RANK``/``_SIZE``, PMIx's
``PMIX_RANK``): each process keeps its own CPU devices (``jax_num_cpu_devices`` /
``XLA_FLAGS``, or ``local_device_ids``), and ``jax.devices()`` becomes every process's
devices, process ``p``'s ``i``-th one numbered ``p * 2048 + i`` as JAX's CPU client
numbers them. There is no coordinator service: MPI's launcher is the coordinator, so
``coordinator_address`` is only checked for its form.

The collectives between processes (``allreduce``, ``allgather``, ``alltoall``,
``reduce_scatter``, ``bcast``, ``sendrecv``) take and return NumPy arrays and run as
MPI's non-blocking collectives on a communicator of their own, polled so that a failure
elsewhere is seen: a process whose Python raises an uncaught exception, or that exits
while the others still wait, tells every other process first (``_notice``), and a
process waiting in a collective then raises JAX's ``JaxRuntimeError`` naming the failed
process and its error, within ``_GRACE`` seconds. A process killed outright is the MPI
launcher's to clean up (it ends the job).
"""
from __future__ import annotations

import atexit
import os
import pickle
import sys
import time

import numpy as np

from pyjax._src import devices as _devices
from pyjax._src.errors import JaxRuntimeError

__all__ = ["initialize", "is_initialized", "shutdown", "global_state"]

# Seconds a failing process gives the others to report its failure before it ends the
# job; seconds a process that saw a peer fail still waits for the collective in flight
# (the peer may have taken part in it before failing) before raising.
_GRACE = 2.0
_SETTLE = 0.5
_NOTICE = 7  # the MPI tag of failure notices, on the notice communicator


class State:
  """The distributed state (JAX's ``global_state``): the process's place and the
  communicators."""

  def __init__(self):
    self.process_id = 0
    self.num_processes = 1
    self.coordinator_address = None
    self.client = None  # JAX's coordination client: the MPI communicator here
    self.service = None
    self.comm = None  # collectives
    self.notices = None  # failure notices
    self.failed: dict[int, str] = {}  # process -> what it reported
    self.groups: dict = {}  # key -> sub-communicator
    self.hooked = False

  @property
  def initialized(self) -> bool:
    return self.comm is not None


global_state = State()


def _launch_env() -> tuple[int, int] | None:
  """(rank, size) of an MPI launch, read from the launcher's environment, or None."""
  for rank, size in (("PMI_RANK", "PMI_SIZE"),
                     ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
                     ("PMIX_RANK", "PMIX_SIZE"), ("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE")):
    if rank in os.environ and size in os.environ:
      try:
        return int(os.environ[rank]), int(os.environ[size])
      except ValueError:
        pass
  return None


def _mpi():
  try:
    from mpi4py import MPI  # an optional dependency: pip install 'pyjax[mpi]'
  except ImportError as e:
    raise RuntimeError(
        "jax.distributed needs mpi4py and an MPI library: install them with "
        "`pip install 'pyjax[mpi]'` and launch the processes with "
        f"`mpirun -n N python script.py` ({e}).") from None
  return MPI


def initialize(coordinator_address: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, local_device_ids=None,
               cluster_detection_method: str | None = None,
               initialization_timeout: int = 300, heartbeat_timeout_seconds: int = 100,
               shutdown_timeout_seconds: int = 300,
               coordinator_bind_address: str | None = None,
               slice_index: int | None = None, partition_index: int | None = None):
  """Joins this process to the others of an MPI launch (see the module docstring).

  Without an MPI launch only a one-process run can start (``num_processes`` 1, or
  nothing given): several processes must be started by ``mpirun``/``mpiexec``.
  """
  if global_state.initialized:
    raise RuntimeError("distributed.initialize should only be called once.")
  if _devices._devices is not None:
    raise RuntimeError(
        "jax.distributed.initialize() must be called before any JAX calls that might "
        "initialise the XLA backend. This includes any computation, but also calls to "
        "jax.devices, jax.device_put, and others.")
  if process_id is not None and (not isinstance(process_id, int) or process_id < 0):
    raise TypeError("process_id must be a nonnegative int. "
                    f"Got process_id={process_id} of type {type(process_id)}.")
  if num_processes is not None and (not isinstance(num_processes, int)
                                    or num_processes <= 0):
    raise TypeError("num_processes must be a positive int. "
                    f"Got num_processes={num_processes} of type {type(num_processes)}.")
  if (process_id is not None and num_processes is not None
      and process_id >= num_processes):
    raise ValueError("process_id and num_processes must be nonnegative, with process_id < "
                     f"num_processes. Got process_id={process_id}, "
                     f"num_processes={num_processes}.")
  if coordinator_address is not None and not isinstance(coordinator_address, str):
    raise TypeError(f"coordinator_address must be a 'host:port' string, got "
                    f"{coordinator_address!r}.")
  launch = _launch_env()
  if launch is None and (num_processes or 1) > 1:
    raise RuntimeError(
        f"jax.distributed.initialize(num_processes={num_processes}): pyjax runs several "
        "processes through MPI, and this process was not started by an MPI launcher "
        "(no PMI_RANK / OMPI_COMM_WORLD_RANK in its environment). Start all processes "
        f"with `mpirun -n {num_processes} python script.py`.")
  MPI = _mpi()
  world = MPI.COMM_WORLD
  rank, size = world.Get_rank(), world.Get_size()
  if num_processes is not None and num_processes != size:
    raise ValueError(f"jax.distributed.initialize: num_processes={num_processes}, but the "
                     f"MPI launch started {size} processes.")
  if process_id is not None and process_id != rank:
    raise ValueError(f"jax.distributed.initialize: process_id={process_id}, but MPI gave "
                     f"this process rank {rank}; the process ids are the MPI ranks.")
  if local_device_ids is not None:
    ids = [local_device_ids] if isinstance(local_device_ids, int) else list(local_device_ids)
    n_local = len(ids)
  else:
    n_local = _devices.local_cpu_count()
  global_state.comm = world.Dup()
  global_state.notices = world.Dup()
  global_state.process_id, global_state.num_processes = rank, size
  global_state.coordinator_address = coordinator_address
  global_state.client = global_state.comm
  counts = allgather(np.array([n_local], np.int64), timeout=initialization_timeout)
  _devices.set_processes(rank, [int(c) for c in counts[:, 0]])
  if not global_state.hooked:
    global_state.hooked = True
    _prev = sys.excepthook

    def hook(kind, value, tb):
      _prev(kind, value, tb)
      _notice(f"{kind.__name__}: {value}")
      sys.stderr.flush()
      if global_state.comm is not None:
        _mpi().COMM_WORLD.Abort(1)  # never to hang in MPI's finalize

    sys.excepthook = hook
    atexit.register(_at_exit)


def is_initialized() -> bool:
  return global_state.initialized


def shutdown():
  """Waits for every process (a barrier), then leaves the distributed system; the
  devices stay as they are."""
  if not global_state.initialized:
    return
  barrier()
  for c in global_state.groups.values():
    c.Free()
  global_state.groups.clear()
  global_state.comm.Free()
  global_state.notices.Free()
  global_state.comm = global_state.notices = global_state.client = None


def _at_exit():
  """At a normal exit: waits for the other processes (a barrier). One still waiting in a
  collective for this process after a second is told that this process exited, so that
  it raises instead of waiting for good."""
  st = global_state
  if not st.initialized or st.num_processes == 1:
    return
  MPI = _mpi()
  req = st.comm.Ibarrier()
  start, told = time.monotonic(), False
  while not req.Test():
    if not told and time.monotonic() - start > 1.0:
      _notice(None)
      told = True
    _read_notices()
    if st.failed:
      break
    time.sleep(0.005)
  del MPI


def _notice(what):
  """Tells every other process that this one failed (``what``: its error) or exited
  (None), and gives them ``_GRACE`` seconds to report it (a failure) before this
  process ends."""
  st = global_state
  if st.notices is None or st.num_processes == 1:
    return
  MPI = _mpi()
  msg = pickle.dumps((st.process_id, what if what is not None else "it exited"))
  reqs = [st.notices.Isend([np.frombuffer(msg, np.uint8), MPI.BYTE], dest=p, tag=_NOTICE)
          for p in range(st.num_processes) if p != st.process_id]
  deadline = time.monotonic() + _GRACE
  while time.monotonic() < deadline and not MPI.Request.Testall(reqs):
    time.sleep(0.01)
  if what is not None:
    time.sleep(_GRACE + 1.0)


def _read_notices():
  st = global_state
  MPI = _mpi()
  status = MPI.Status()
  while st.notices.Iprobe(source=MPI.ANY_SOURCE, tag=_NOTICE, status=status):
    buf = np.empty(status.Get_count(MPI.BYTE), np.uint8)
    st.notices.Recv([buf, MPI.BYTE], source=status.Get_source(), tag=_NOTICE)
    p, what = pickle.loads(buf.tobytes())
    st.failed[p] = what


def _failure_error(what: str) -> JaxRuntimeError:
  p, msg = next(iter(global_state.failed.items()))
  return JaxRuntimeError(
      f"INTERNAL: {what} in process {global_state.process_id} cannot complete: process "
      f"{p} failed ({msg}). All processes of a multi-process program must run the same "
      f"collectives in the same order.")


def wait(req, what: str, timeout: float | None = None):
  """Waits for MPI request ``req``, watching for failure notices. It polls without
  sleeping, as MPI's blocking calls do: MPI progresses a non-blocking collective only
  inside its calls, so a sleep between polls would stall a large one."""
  if req.Test():
    return
  st = global_state
  seen = None
  start = last = time.monotonic()
  spins = 0
  while not req.Test():
    spins += 1
    if spins & 255:
      continue
    now = time.monotonic()
    if now - last < 0.01:
      continue
    last = now
    _read_notices()
    if st.failed:
      if seen is None:
        seen = now
      elif now - seen > _SETTLE:
        raise _failure_error(what)
    if timeout is not None and now - start > timeout:
      raise JaxRuntimeError(f"DEADLINE_EXCEEDED: {what} in process {st.process_id} did "
                            f"not complete within {timeout} s.")


def _comm(group):
  c = global_state.comm if group is None else group
  if c is None:
    raise RuntimeError("A collective between processes needs jax.distributed.initialize() "
                       "first.")
  return c


def group(key, color: int, order: int):
  """The sub-communicator of the processes passing the same ``color``, ranked by
  ``order``; made once per ``key`` (every process must ask for it, in the same order)."""
  c = global_state.groups.get(key)
  if c is None:
    barrier()  # (Split blocks: all must be there first, or a failure is seen here)
    c = global_state.groups[key] = _comm(None).Split(color, order)
  return c


# ---------------------------------------------------------------- collectives on NumPy


_NATIVE = frozenset("bBhHiIlLqQfdFD")  # dtypes MPI reduces natively (by typecode)


def _op(name):
  MPI = _mpi()
  return {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[name]


# Receive buffers of large exchanges, reused once nothing else holds them (a result the
# caller dropped): a fresh 100 MB buffer costs its page faults (~20 ms) on every call.
_POOL: list = []
_POOL_MIN = 1 << 20
_POOL_SIZE = 4


def _buffer(shape, dtype) -> np.ndarray:
  dtype = np.dtype(dtype)
  n = int(np.prod(shape)) * dtype.itemsize
  if n < _POOL_MIN:
    return np.empty(shape, dtype)
  for i, b in enumerate(_POOL):
    # only the pool, this loop and getrefcount's argument hold it: no array views it
    if b.nbytes == n and sys.getrefcount(b) <= 3:
      _POOL.append(_POOL.pop(i))
      return b.view(dtype).reshape(shape)
  b = np.empty(n, np.uint8)
  _POOL.append(b)
  if len(_POOL) > _POOL_SIZE:
    _POOL.pop(0)
  return b.view(dtype).reshape(shape)


def allreduce(x: np.ndarray, op: str = "sum", group=None) -> np.ndarray:
  """Every process's ``x`` reduced (``op``: sum, max or min), on every process."""
  c = _comm(group)
  x = _contiguous(x)
  if x.dtype.char not in _NATIVE:  # float16, bfloat16, bool, ...: reduced in float32/int
    wide = np.float32 if x.dtype.kind == "f" or x.dtype.kind == "V" else np.int64
    return allreduce(x.astype(wide), op, group).astype(x.dtype)
  out = _buffer(x.shape, x.dtype)
  wait(c.Iallreduce(x, out, op=_op(op)), f"all-reduce ({op}) of {x.dtype}{list(x.shape)}")
  return out


def _contiguous(x):
  x = np.asarray(x)
  return np.ascontiguousarray(x).reshape(x.shape)  # (ascontiguousarray makes 0-d 1-d)


def _bytes(x):
  x = _contiguous(x)
  return x, x.reshape(-1).view(np.uint8)


def allgather(x: np.ndarray, group=None, timeout=None) -> np.ndarray:
  """Every process's ``x`` stacked in rank order: shape (processes, *x.shape)."""
  c = _comm(group)
  x, b = _bytes(x)
  out = np.empty((c.Get_size(),) + x.shape, x.dtype)
  wait(c.Iallgather(b, out.reshape(-1).view(np.uint8)),
       f"all-gather of {x.dtype}{list(x.shape)}", timeout)
  return out


def alltoall(x: np.ndarray, group=None) -> np.ndarray:
  """``x`` of shape (processes, ...): block ``q`` goes to process ``q``; the result's
  block ``p`` came from process ``p``."""
  c = _comm(group)
  x, b = _bytes(x)
  out = np.empty_like(x)
  wait(c.Ialltoall(b, out.reshape(-1).view(np.uint8)),
       f"all-to-all of {x.dtype}{list(x.shape)}")
  return out


def reduce_scatter(x: np.ndarray, group=None) -> np.ndarray:
  """``x`` of shape (processes, ...) summed over processes; process ``p`` gets block
  ``p`` of the sum."""
  c = _comm(group)
  x = _contiguous(x)
  if x.dtype.char not in _NATIVE:
    wide = np.float32 if x.dtype.kind in "fV" else np.int64
    return reduce_scatter(x.astype(wide), group).astype(x.dtype)
  out = np.empty(x.shape[1:], x.dtype)
  wait(c.Ireduce_scatter_block(x, out, op=_op("sum")),
       f"reduce-scatter of {x.dtype}{list(x.shape)}")
  return out


def bcast(x: np.ndarray, root: int, group=None) -> np.ndarray:
  """Process ``root``'s ``x`` (every process passes an array of its shape)."""
  c = _comm(group)
  x = np.array(x, copy=True, order="C")
  wait(c.Ibcast(x.reshape(-1).view(np.uint8), root=root), f"broadcast of {x.dtype}")
  return x


def sendrecv(sends: dict, recvs, like: np.ndarray, group=None) -> dict:
  """Point to point: ``sends`` {(process, tag): array} go out; for each (process, tag)
  of ``recvs`` an array like ``like`` comes in. Returns {(process, tag): array}."""
  MPI = _mpi()
  c = _comm(group)
  reqs, out = [], {}
  for p, tag in recvs:
    buf = np.empty_like(like)
    out[p, tag] = buf
    reqs.append(c.Irecv(buf.reshape(-1).view(np.uint8), source=p, tag=tag))
  keep = []
  for (p, tag), x in sends.items():
    x, b = _bytes(x)
    keep.append(x)
    reqs.append(c.Isend(b, dest=p, tag=tag))
  if reqs:
    wait(_AllRequests(MPI, reqs), "collective permute")
  return out


class _AllRequests:
  """Several MPI requests waited on as one."""

  def __init__(self, MPI, reqs):
    self.MPI, self.reqs = MPI, reqs

  def Test(self):
    return self.MPI.Request.Testall(self.reqs)

  def Cancel(self):
    for r in self.reqs:
      if r != self.MPI.REQUEST_NULL:
        r.Cancel()


def barrier(group=None):
  wait(_comm(group).Ibarrier(), "barrier")


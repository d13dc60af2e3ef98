"""``pyjax.Array``: an immutable array backed by a host NumPy buffer.

``Array`` is the public, abstract type (``isinstance(x, pyjax.Array)`` holds for
concrete arrays and for tracers, as in JAX); ``ArrayImpl`` is the concrete class.
The operators and NumPy-style methods are installed on both ``ArrayImpl`` and
``core.Tracer`` by ``pyjax._src.numpy.array_methods`` so they behave alike.
"""
from __future__ import annotations

import abc
import enum

import numpy as np

from pyjax._src import core, devices as _devices_mod, dtypes, sharding as _sharding
from pyjax._src import layout as _layout


class DLDeviceType(enum.IntEnum):
  """DLPack's device types (JAX's ``jax._src.typing.DLDeviceType``)."""
  kDLCPU = 1
  kDLCUDA = 2
  kDLCUDAHost = 3
  kDLROCM = 10


class Array(abc.ABC):
  """The JAX array type (abstract; see ``ArrayImpl``)."""
  __slots__ = ()
  __module__ = "jax.jaxlib._jax"  # printed as JAX prints it (no pickle names it)


Array.register(core.Tracer)


class ArrayImpl(Array):
  # ``_buf``: the device buffer of a jit result or of an uploaded jit argument (None on
  # eager arrays). A jit result starts as a ``PendingArray``, with ``_value`` unset.
  __slots__ = ("_value", "weak_type", "_device", "_deleted", "_buf", "__weakref__")
  __array_priority__ = 100
  # ``type(x)`` prints JAX's class path, ``<class 'jaxlib._jax.ArrayImpl'>``. Pickles
  # name ``_reconstruct`` (``__reduce__``), never the class, so they load in pyjax.
  __module__ = "jaxlib._jax"

  def __init__(self, value, weak_type=False, device=None):
    # ``value`` is an np.ndarray or np.generic of a canonical dtype; callers own it.
    self._value = value
    self.weak_type = weak_type
    self._device = device
    self._deleted = False
    self._buf = None

  # ------------------------------------------------------------ basic facts
  shape = property(lambda self: self._value.shape)
  dtype = property(lambda self: self._value.dtype)
  ndim = property(lambda self: self._value.ndim)
  size = property(lambda self: self._value.size)
  itemsize = property(lambda self: self._value.itemsize)
  nbytes = property(lambda self: self._value.nbytes)

  @property
  def aval(self):
    v = self._value
    a = core._shaped_array_fast(v.shape, v.dtype, self.weak_type)
    if self._device is not None and isinstance(self._device, _sharding.NamedSharding):
      a.sharding = _sharding.aval_sharding(self._device, v.ndim)
    return a

  def __len__(self):
    if not self._value.shape:
      raise TypeError("len() of unsized object")
    return self._value.shape[0]

  # ------------------------------------------------------------ host views
  def _host(self) -> np.ndarray:
    """A read-only ndarray view of the buffer (no copy)."""
    if self._deleted:
      raise RuntimeError("Array has been deleted.")
    v = self._value
    if type(v) is not np.ndarray:
      v = np.asarray(v)
    elif v.flags.writeable:
      v = v.view()
      v.flags.writeable = False
    return v

  def __array__(self, dtype=None, copy=None):
    v = self._host()
    if copy:
      return np.array(v, dtype=dtype, copy=True)
    if dtype is not None and np.dtype(dtype) != v.dtype:
      if copy is False:
        raise ValueError("Unable to avoid copy while creating an array as requested.")
      return v.astype(dtype)
    return v

  def __float__(self):
    return float(self._scalar("float"))

  def __int__(self):
    return int(self._scalar("int"))

  def __complex__(self):
    return complex(self._scalar("complex"))

  def __bool__(self):
    return bool(self._value)

  def __index__(self):  # (JAX's checks: a scalar of an integer type)
    if self._value.dtype.kind not in "iu" or self._value.ndim:
      raise TypeError("Only integer scalar arrays can be converted to a scalar index.")
    return int(self._value)

  def _scalar(self, what):
    if self._value.ndim:  # (JAX's check: NumPy's size-1 arrays are refused too)
      raise TypeError(f"Only scalar arrays can be converted to Python scalars; got "
                      f"arr.ndim={self._value.ndim}")
    return self._value[()]

  def item(self, *args):
    return self._host().item(*args)

  def tolist(self):
    return self._host().tolist()

  def tobytes(self, order="C"):
    return self._host().tobytes(order)

  def __hash__(self):
    raise TypeError("unhashable type: 'jax.Array'")

  def __setitem__(self, idx, val):
    raise TypeError(
        "JAX arrays are immutable and do not support in-place item assignment. "
        "Instead of x[idx] = y, use x = x.at[idx].set(y) or another .at[] method: "
        "https://docs.jax.dev/en/latest/_autosummary/jax.numpy.ndarray.at.html")

  def __iter__(self):
    v = self._value
    if not v.shape:
      raise TypeError("iteration over a 0-d array")
    w = self.weak_type
    if v.ndim == 1:
      return (ArrayImpl(x, w) for x in v)  # x is an np.generic scalar
    return (ArrayImpl(v[i], w) for i in range(v.shape[0]))

  def __reduce__(self):
    return (_reconstruct, (np.asarray(self._value), self.weak_type))

  def __copy__(self):
    return self

  def __deepcopy__(self, memo):
    return self

  def __format__(self, spec):
    if self._value.ndim == 0:
      return format(self._value[()], spec)
    return format(str(self), spec)

  # ------------------------------------------------------------ printing
  def __repr__(self):
    prefix = "Array("
    dtype_str = f"dtype={self.dtype.name}"
    dtype_str += ", weak_type=True)" if self.weak_type else ")"
    v = self._host()
    line_width = np.get_printoptions()["linewidth"]
    if v.size == 0:
      s = f"[], shape={v.shape}"
    else:
      s = np.array2string(v, prefix=prefix, suffix=",", separator=", ",
                          max_line_width=line_width)
    last_line_len = len(s) - s.rfind("\n") + 1
    sep = " " * len(prefix) if last_line_len + len(dtype_str) + 1 > line_width else " "
    return f"{prefix}{s},{sep}{dtype_str}"

  def __str__(self):
    return str(self._host())

  # ------------------------------------------------------------ devices
  # ``_device``: None (uncommitted, on the default device), a Device, or a multi-device
  # Sharding (the global value is the host buffer; each device's shard is a slice of it).
  @property
  def device(self):
    d = self._device
    if d is None:
      return _devices_mod.default_device()
    return d

  def devices(self):
    d = self._device
    if isinstance(d, _sharding.Sharding):
      return d.device_set
    return {self.device}

  @property
  def sharding(self):
    d = self._device
    if isinstance(d, _sharding.Sharding):
      return d
    return _sharding.SingleDeviceSharding(self.device)

  committed = property(lambda self: self._device is not None)
  is_fully_addressable = property(lambda self: True)
  is_fully_replicated = property(lambda self: self.sharding.is_fully_replicated)
  platform = property(lambda self: next(iter(self.devices())).platform)

  def block_until_ready(self):
    b = self._buf
    if b is not None:
      b.wait()
    return self

  def is_ready(self):
    b = self._buf
    return b is None or b.is_ready()

  def copy_to_host_async(self):
    return None

  def on_device_size_in_bytes(self):
    """Bytes the array's buffer takes (a byte per element for sub-byte dtypes, as JAX's
    CPU buffers)."""
    return self.nbytes

  @property
  def format(self):
    """The array's ``Format``: row-major layout, its sharding."""
    if self._deleted:
      return _layout.Format(None, self.sharding)
    return _layout.Format(_layout.row_major(self.ndim), self.sharding)

  def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """A DLPack capsule of the host value (read-only; a GPU array is copied to the
    host). Exported through NumPy's DLPack."""
    if self._deleted:
      raise RuntimeError("Array has been deleted.")
    if dl_device is not None and tuple(dl_device) != (DLDeviceType.kDLCPU, 0):
      raise BufferError(f"pyjax exports arrays to the host only, not to {dl_device}.")
    v = np.asarray(self._value)
    if max_version is None or max_version[0] < 1:
      v = v.copy() if not v.flags.writeable else v  # DLPack 0.x has no read-only flag
      return v.__dlpack__(stream=stream)
    return v.__dlpack__(stream=stream, max_version=max_version, copy=copy)

  def __dlpack_device__(self):
    return DLDeviceType.kDLCPU, 0

  def delete(self):
    self._deleted = True

  def is_deleted(self):
    return self._deleted

  def unsafe_buffer_pointer(self):
    return np.asarray(self._value).ctypes.data

  @property
  def addressable_shards(self):
    """One ``Shard`` per device: its slice of the global array (a view of the host
    buffer), in the sharding's device order."""
    s = self.sharding
    if isinstance(s, _sharding.SingleDeviceSharding):
      return [Shard(s._device, tuple(slice(None) for _ in self.shape), 0, self)]
    index_map = s.devices_indices_map(self.shape)
    replicas = s.replica_ids(self.shape) if isinstance(s, _sharding.NamedSharding) else {}
    v, w = self._host(), self.weak_type
    return [Shard(d, idx, replicas.get(d, 0), ArrayImpl(v[idx], w, d))
            for d, idx in index_map.items()]

  global_shards = addressable_shards

  def addressable_data(self, index):
    return self.addressable_shards[index].data

  def to_device(self, device, *, stream=None):
    return ArrayImpl(self._value, self.weak_type, device)


class PendingArray(ArrayImpl):
  """A jit result not read yet (it may still be computing: asynchronous dispatch), or a
  donated array. The first read of ``_value`` waits for the device buffer, views it and
  turns the object into a plain ``ArrayImpl``. A subclass, so that ``ArrayImpl`` has no
  ``__getattr__`` (which would slow every attribute read of eager arrays). Printed as
  ``ArrayImpl`` (``type(jit(f)(x))`` is JAX's class too)."""
  __slots__ = ()
  __module__ = "jaxlib._jax"
  __qualname__ = "ArrayImpl"

  def __getattr__(self, name):
    # Reached only for an unset slot, i.e. ``_value``.
    if name != "_value":
      raise AttributeError(f"'ArrayImpl' object has no attribute '{name}'")
    if self._deleted:
      raise RuntimeError("Array has been deleted.")
    v = self._value = self._buf.value()  # waits for the computation; raises its error
    # The object becomes what it would have been had the value been there from the start.
    # The class swap (legal: both classes have the same slots) is the cheapest design:
    # eager code tests ``type(x) is ArrayImpl`` and reads ``x._value`` as a plain slot;
    # a ``_value`` property or an ``ArrayImpl.__getattr__`` would tax every eager array,
    # and a wrapper object would change the identity callers hold. dispatch swaps the
    # other way for a donated argument, so that reading it raises.
    self.__class__ = ArrayImpl
    return v


class GlobalArray(ArrayImpl):
  """An Array of a multi-process run whose devices are not all this process's: it holds
  only this process's block of the global value (``_value``: the box ``_box`` of the
  global array that this process's shards cover) and ``_gshape``. Reading the value
  (``np.asarray``, printing its elements, ``float()``) works only when the block is the
  whole array (every process holds all of it); otherwise JAX's error. Operations on it
  run through ``multiprocess`` (the dispatch layer), never on ``_value`` directly."""
  __slots__ = ("_gshape", "_box")

  def __init__(self, block, weak_type, sharding, gshape, box):
    super().__init__(block, weak_type, sharding)
    core.note_sharded()  # operations on it go through dispatch's sharded hook
    self._gshape = tuple(gshape)
    self._box = box

  shape = property(lambda self: self._gshape)
  ndim = property(lambda self: len(self._gshape))
  size = property(lambda self: _prod(self._gshape))
  nbytes = property(lambda self: _prod(self._gshape) * self._value.itemsize)
  is_fully_addressable = property(lambda self: False)

  @property
  def _whole(self) -> bool:
    return self._value.shape == self._gshape

  @property
  def aval(self):
    a = core._shaped_array_fast(self._gshape, self._value.dtype, self.weak_type)
    a.sharding = _sharding.aval_sharding(self._device, len(self._gshape))
    return a

  def _host(self):
    if not self._whole:
      raise RuntimeError(
          "Fetching value for `jax.Array` that spans non-addressable (non process local) "
          "devices is not possible. You can use "
          "`jax.experimental.multihost_utils.process_allgather` to print the global array "
          "or use `.addressable_shards` method of jax.Array to inspect the addressable "
          "(process local) shards.")
    return ArrayImpl._host(self)

  def __bool__(self):
    return bool(self._host())

  def __index__(self):
    return ArrayImpl(self._host(), self.weak_type).__index__()

  def _scalar(self, what):
    return ArrayImpl(self._host(), self.weak_type)._scalar(what)

  def __iter__(self):
    return iter(ArrayImpl(self._host(), self.weak_type))

  def __reduce__(self):
    return (_reconstruct, (np.asarray(self._host()), self.weak_type))

  def __repr__(self):
    if self._whole:
      return ArrayImpl.__repr__(self)
    return f"Array(shape={self._gshape}, dtype={self.dtype.name})"

  def __str__(self):
    return str(self._host()) if self._whole else repr(self)

  def __format__(self, spec):
    return format(ArrayImpl(self._host(), self.weak_type), spec)

  def __dlpack__(self, *args, **kwargs):
    return ArrayImpl(self._host(), self.weak_type).__dlpack__(*args, **kwargs)

  def unsafe_buffer_pointer(self):
    raise RuntimeError("unsafe_buffer_pointer of an Array spanning several processes: "
                       "use its addressable_shards.")

  @property
  def addressable_shards(self):
    s = self._device
    index_map = s.addressable_devices_indices_map(self._gshape)
    replicas = s.replica_ids(self._gshape)
    v, w = self._value, self.weak_type
    out = []
    for d, idx in index_map.items():
      local = tuple(slice(i.start - b.start if i.start is not None else None,
                          i.stop - b.start if i.stop is not None else None)
                    if b.start is not None else i for i, b in zip(idx, self._box))
      out.append(Shard(d, idx, replicas.get(d, 0), ArrayImpl(v[local], w, d)))
    return out

  @property
  def global_shards(self):
    s = self._device
    mine = {sh.device: sh for sh in self.addressable_shards}
    replicas = s.replica_ids(self._gshape)
    return [mine.get(d) or Shard(d, idx, replicas.get(d, 0), None)
            for d, idx in s.devices_indices_map(self._gshape).items()]

  def to_device(self, device, *, stream=None):
    return ArrayImpl(self._host(), self.weak_type, device)


def local_box(sharding, gshape) -> tuple:
  """The box of the global array this process's shards of ``sharding`` cover: a tuple of
  slices (``slice(None)`` for a whole dimension). NotImplementedError where the shards
  are not one box (a mesh whose devices of one process are not a block of it)."""
  idx = list(sharding.addressable_devices_indices_map(tuple(gshape)).values())
  if not idx:
    raise ValueError(f"{sharding} has no device in this process.")
  box, count = [], 1
  for d, n in enumerate(gshape):
    lo = min(i[d].start or 0 for i in idx)
    hi = max(n if i[d].stop is None else i[d].stop for i in idx)
    box.append(slice(None) if (lo, hi) == (0, n) else slice(lo, hi))
    count *= hi - lo
  distinct = {tuple((i[d].start or 0, n if i[d].stop is None else i[d].stop)
                    for d, n in enumerate(gshape)) for i in idx}
  covered = sum(_prod(b - a for a, b in r) for r in distinct)
  if covered != count:
    raise NotImplementedError(
        f"{sharding}: this process's devices do not form one block of the mesh; lay the "
        f"mesh out so that each process's devices are a contiguous block (as "
        f"jax.make_mesh does).")
  return tuple(box)


def _prod(xs) -> int:
  n = 1
  for x in xs:
    n *= x
  return n


class Shard:
  def __init__(self, device, index, replica_id, data):
    self.device, self.index, self.replica_id, self.data = device, index, replica_id, data

  def __repr__(self):
    return (f"Shard(device={self.device!r}, index={self.index}, "
            f"replica_id={self.replica_id}, data={self.data})")


def _reconstruct(value, weak_type):
  return ArrayImpl(value, weak_type)


# ---------------------------------------------------------------- conversion


_python_scalar_types = (bool, int, float, complex)


def from_python_scalar(x, dtype=None) -> ArrayImpl:
  """A weakly typed 0-d array for a Python scalar (bool is strongly typed)."""
  if dtype is None:
    dtype = dtypes.canonicalize_dtype(dtypes.python_scalar_dtypes[type(x)])
  if type(x) is int:
    _check_int_range(x, dtype)
  # (float0 holds no value; the ml_dtypes types, also of kind "V", convert as NumPy's)
  return ArrayImpl(np.asarray(x, dtype)[()] if dtype != dtypes.float0 else np.zeros((), dtype),
                   type(x) is not bool)


def _check_int_range(x: int, dtype):
  if dtype.kind in "iu":
    info = np.iinfo(dtype)
    if not info.min <= x <= info.max:
      raise OverflowError(f"Python integer {x} out of bounds for {dtype.name}")


def asarray_value(x, dtype=None, weak_type=None):
  """Converts anything array-like (not a tracer) to an ArrayImpl on the host."""
  if type(x) is ArrayImpl:
    if dtype is None or x.dtype == dtype:
      return x
    return ArrayImpl(np.asarray(x._value).astype(dtype), False)
  if type(x) in _python_scalar_types:
    return from_python_scalar(x, None if dtype is None else np.dtype(dtype))
  if type(x) is PendingArray:
    x._value  # a jit result: its value is read here, and x becomes an ArrayImpl
    return asarray_value(x, dtype, weak_type)
  if type(x) is GlobalArray:
    if dtype is None or x.dtype == dtype:
      return x
    return GlobalArray(x._value.astype(dtype), False, x._device, x._gshape, x._box)
  v = np.asarray(x)
  if v.dtype == object:
    raise TypeError("JAX only supports number and bool dtypes, got dtype object in array")
  target = dtypes.canonicalize_dtype(v.dtype if dtype is None else dtype)
  if v.dtype != target:
    v = v.astype(target)
  elif v.flags.writeable:
    v = v.copy()  # the Array must not alias a buffer the caller can still mutate
  return ArrayImpl(v, bool(weak_type))


core.register_array_type(ArrayImpl, asarray_value)

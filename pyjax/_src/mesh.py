"""Device meshes: ``Mesh`` (devices in an n-d grid with named axes), ``AbstractMesh``
(axis names, sizes and types only: what tracing sees), ``AxisType`` and the mesh in
context (``set_mesh`` / ``use_mesh``), as ``jax.sharding`` has them."""
from __future__ import annotations

import enum
import math
import threading
from collections import OrderedDict

import numpy as np

from pyjax._src import devices as devices_mod


class AxisType(enum.Enum):
  """How a mesh axis shards: ``Auto`` (the compiler chooses), ``Explicit`` (shardings
  are part of the types, ``jax.typeof`` shows them) or ``Manual`` (inside shard_map)."""
  Auto = enum.auto()
  Explicit = enum.auto()
  Manual = enum.auto()

  def __repr__(self):
    return self.name


def _normalize_axis_types(axis_names, axis_types, name):
  if axis_types is None:
    axis_types = (AxisType.Auto,) * len(axis_names)
  if not isinstance(axis_types, tuple):
    axis_types = (axis_types,)
  if not all(isinstance(a, AxisType) for a in axis_types):
    raise TypeError(
        f"axis_types passed to {name} must be of type `jax.sharding.AxisType`. Got "
        f"{axis_types} of type {tuple(type(a) for a in axis_types)}")
  if len(axis_names) != len(axis_types):
    raise ValueError(
        "Number of axis names should match the number of axis_types. Got "
        f"axis_names={axis_names} and axis_types={axis_types}")
  return axis_types


def _normalize_axis_names(axis_names):
  if isinstance(axis_names, str):
    axis_names = (axis_names,)
  axis_names = tuple(axis_names)
  if len(set(axis_names)) != len(axis_names):
    raise ValueError(f"Mesh axis names must be unique, got {axis_names}")
  return axis_names


class BaseMesh:
  """What ``Mesh`` and ``AbstractMesh`` share: axis names, sizes and types."""
  axis_names: tuple
  axis_sizes: tuple
  axis_types: tuple

  @property
  def shape(self):
    return OrderedDict(zip(self.axis_names, self.axis_sizes))

  @property
  def shape_tuple(self):
    return tuple(zip(self.axis_names, self.axis_sizes))

  size = property(lambda self: math.prod(self.axis_sizes))
  empty = property(lambda self: not self.axis_names)
  _name_to_type = property(lambda self: dict(zip(self.axis_names, self.axis_types)))

  def _axes_of_type(self, t):
    return tuple(n for n, ty in zip(self.axis_names, self.axis_types) if ty == t)

  explicit_axes = property(lambda self: self._axes_of_type(AxisType.Explicit))
  auto_axes = property(lambda self: self._axes_of_type(AxisType.Auto))
  manual_axes = property(lambda self: self._axes_of_type(AxisType.Manual))
  are_all_axes_explicit = property(
      lambda self: all(t == AxisType.Explicit for t in self.axis_types))
  are_all_axes_auto = property(
      lambda self: all(t == AxisType.Auto for t in self.axis_types))
  are_all_axes_manual = property(
      lambda self: all(t == AxisType.Manual for t in self.axis_types))

  def _check_axis(self, name):
    if name not in self.axis_names:
      raise ValueError(f"Resource axis: {name} of the partition spec is not found in "
                       f"mesh: {tuple(self.axis_names)}.")


class Mesh(BaseMesh):
  """Devices laid out in an n-d array whose axes have names.

  Usable as a context manager (``with mesh:``), as in JAX; ``jax.set_mesh`` is the
  current way to make a mesh the context."""

  def __init__(self, devices, axis_names, axis_types=None):
    if isinstance(devices, (list, tuple)):
      devices = np.array(devices, dtype=object)
    if not isinstance(devices, np.ndarray):
      raise TypeError(f"Mesh devices must be a numpy array of devices, got {devices!r}")
    axis_names = _normalize_axis_names(axis_names)
    if devices.ndim != len(axis_names):
      raise ValueError(
          "Mesh requires the ndim of its first argument (`devices`) to equal the length "
          f"of its second argument (`axis_names`), but got devices.ndim == {devices.ndim} "
          f"and len(axis_names) == {len(axis_names)}.")
    ids = [d.id for d in devices.flat]
    if len(set(ids)) != len(ids):
      raise ValueError(f"Devices in a mesh must be unique, got device ids {ids}")
    self.devices = devices.copy()
    self.devices.flags.writeable = False
    self.axis_names = axis_names
    self.axis_sizes = tuple(devices.shape)
    self.axis_types = _normalize_axis_types(axis_names, axis_types, "Mesh")
    self._prev = []

  device_ids = property(lambda self: np.vectorize(lambda d: d.id, otypes=[int])(
      self.devices) if self.devices.size else np.zeros(self.devices.shape, int))
  @property
  def local_devices(self) -> list:
    p = devices_mod.process_index()
    return [d for d in self.devices.flat if d.process_index == p]

  @property
  def is_multi_process(self) -> bool:
    return len({d.process_index for d in self.devices.flat}) > 1

  @property
  def local_mesh(self) -> "Mesh":
    """The sub-mesh of this process's devices (they must form a block of the mesh)."""
    if not self.is_multi_process:
      return self
    p = devices_mod.process_index()
    coords = [c for c, d in np.ndenumerate(self.devices) if d.process_index == p]
    lo = np.min(coords, axis=0)
    hi = np.max(coords, axis=0) + 1
    block = self.devices[tuple(slice(a, b) for a, b in zip(lo, hi))]
    if block.size != len(coords):
      raise ValueError(f"The devices of process {p} do not form a block of {self}.")
    return Mesh(block, self.axis_names, self.axis_types)

  @property
  def abstract_mesh(self) -> AbstractMesh:
    m = AbstractMesh(self.axis_sizes, self.axis_names, axis_types=self.axis_types)
    if self.devices.size:  # printed as JAX's (not part of equality here)
      d = self.devices.flat[0]
      m._device_repr = f"device_kind={d.device_kind}, num_cores=None, platform={d.platform}"
    return m

  def _key(self):
    return (self.axis_names, self.axis_sizes, self.axis_types,
            tuple(d.id for d in self.devices.flat))

  def __eq__(self, other):
    return isinstance(other, Mesh) and self._key() == other._key()

  def __hash__(self):
    return hash(self._key())

  def __str__(self):
    if self.empty:
      return "Mesh()"
    axes = ", ".join(f"'{k}': {v}" for k, v in self.shape.items())
    return f"Mesh({axes}, axis_types={self.axis_types})"

  def __repr__(self):
    if self.empty:
      return "Mesh(axis_sizes=(), axis_names=())"
    return (f"Mesh(axis_sizes={self.axis_sizes}, axis_names={self.axis_names!r}, "
            f"axis_types={self.axis_types})")

  def __enter__(self):
    self._prev.append(_mesh_ctx.swap(self))
    return self

  def __exit__(self, *exc):
    _mesh_ctx.restore(self._prev.pop())
    return False

  def update(self, devices=None, axis_names=None, axis_types=None):
    return Mesh(self.devices if devices is None else devices,
                self.axis_names if axis_names is None else axis_names,
                self.axis_types if axis_types is None else axis_types)


class AbstractMesh(BaseMesh):
  """A mesh's axis names, sizes and types, without devices."""

  def __init__(self, axis_sizes, axis_names, axis_types=None):
    self.axis_sizes = tuple(int(s) for s in axis_sizes)
    self.axis_names = _normalize_axis_names(axis_names)
    if len(self.axis_sizes) != len(self.axis_names):
      raise ValueError(f"AbstractMesh got {len(self.axis_sizes)} axis sizes and "
                       f"{len(self.axis_names)} axis names")
    self.axis_types = _normalize_axis_types(self.axis_names, axis_types, "AbstractMesh")

  abstract_mesh = property(lambda self: self)

  def _key(self):
    return (self.axis_names, self.axis_sizes, self.axis_types)

  def __eq__(self, other):
    return isinstance(other, AbstractMesh) and self._key() == other._key()

  def __hash__(self):
    return hash(self._key())

  _device_repr = None

  def __repr__(self):
    axes = (", ".join(f"'{n}': {v}" for n, v in self.shape_tuple)
            if self.axis_names else "()")
    dev = "" if self._device_repr is None else f", {self._device_repr}"
    return f"AbstractMesh({axes}, axis_types={self.axis_types}{dev})"

  __str__ = __repr__

  def update(self, axis_sizes=None, axis_names=None, axis_types=None):
    m = AbstractMesh(self.axis_sizes if axis_sizes is None else axis_sizes,
                     self.axis_names if axis_names is None else axis_names,
                     self.axis_types if axis_types is None else axis_types)
    m._device_repr = self._device_repr
    return m

  def update_axis_types(self, name_to_type: dict):
    return self.update(axis_types=tuple(name_to_type.get(n, t) for n, t in
                                        zip(self.axis_names, self.axis_types)))


empty_abstract_mesh = AbstractMesh((), ())


# ---------------------------------------------------------------- the mesh in context


class _MeshCtx(threading.local):
  mesh: Mesh | None = None
  global_mesh: Mesh | None = None  # set by ``set_mesh(m)`` used as a plain call

  def current(self):
    return self.mesh if self.mesh is not None else self.global_mesh

  def swap(self, mesh):
    prev = self.mesh
    self.mesh = mesh
    return prev

  def restore(self, prev):
    self.mesh = prev


_mesh_ctx = _MeshCtx()


def get_concrete_mesh() -> Mesh | None:
  """The mesh set by ``set_mesh``/``use_mesh``/``with mesh:`` (None: none is)."""
  return _mesh_ctx.current()


def get_abstract_mesh() -> AbstractMesh:
  m = _mesh_ctx.current()
  return empty_abstract_mesh if m is None else m.abstract_mesh


class set_mesh:
  """Makes ``mesh`` the mesh in context: as a call it sets it for the thread (until the
  next ``set_mesh``), as a context manager for the ``with`` block. With a mesh in
  context, a bare ``PartitionSpec`` is accepted wherever a sharding is, and Explicit
  axes type the arrays traced under it."""
  __slots__ = ("_prev", "_prev_global")

  def __init__(self, mesh):
    if mesh is not None and not isinstance(mesh, Mesh):
      raise ValueError(f"Expected a Mesh or None, got {mesh!r} of type {type(mesh)}")
    self._prev = _mesh_ctx.mesh
    self._prev_global = _mesh_ctx.global_mesh
    _mesh_ctx.global_mesh = mesh
    _mesh_ctx.mesh = mesh

  def __enter__(self):
    return _mesh_ctx.mesh

  def __exit__(self, *exc):
    _mesh_ctx.mesh = self._prev
    _mesh_ctx.global_mesh = self._prev_global
    return False


def use_mesh(mesh):
  """``set_mesh`` as a context manager only (JAX's older name)."""
  return set_mesh(mesh)


def get_mesh() -> Mesh | None:
  return get_concrete_mesh()


def _canonicalize_axis_sizes(axis_shapes):
  try:
    return tuple(int(s) for s in axis_shapes)
  except TypeError:
    return None


def make_mesh(axis_shapes, axis_names, axis_types=None, *, devices=None) -> Mesh:
  """A mesh of ``axis_shapes`` named ``axis_names`` over the first prod(axis_shapes)
  devices (all of them by default), with Explicit axes unless ``axis_types`` says."""
  if devices is None:
    devices = devices_mod.devices()
  shape = _canonicalize_axis_sizes(axis_shapes)
  if shape is None:
    raise ValueError("`axis_shapes` passed to `make_mesh` should be a sequence of ints. "
                     f"Got {axis_shapes}")
  n = math.prod(shape)
  if n > len(devices):
    raise ValueError(f"Number of devices {len(devices)} must be >= the product of "
                     f"mesh_shape {shape}")
  devs = np.empty(n, dtype=object)
  devs[:] = list(devices)[:n]
  axis_names = _normalize_axis_names(axis_names)
  if axis_types is None:
    axis_types = (AxisType.Explicit,) * len(shape)
  return Mesh(devs.reshape(shape), axis_names, axis_types=axis_types)

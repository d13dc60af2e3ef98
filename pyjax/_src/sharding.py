"""Shardings: how an array's elements are laid out over devices.

``Sharding`` is the base; ``SingleDeviceSharding`` (one device holds everything) and
``NamedSharding`` (a ``Mesh`` and a ``PartitionSpec``) are the two concrete kinds.
pyjax's CPU devices share the host's memory, so a sharded array keeps one global host
buffer and a sharding; ``devices_indices_map`` says which slice each device holds
(``Array.addressable_shards`` views those slices)."""
from __future__ import annotations

import math
import weakref

from pyjax._src import core, devices as devices_mod
from pyjax._src.mesh import AbstractMesh, AxisType, Mesh, get_concrete_mesh


class IndivisibleError(ValueError):
  """A sharding splits a dimension into pieces that do not divide it."""


# ---------------------------------------------------------------- PartitionSpec


class _Unconstrained:
  _instance = None

  def __new__(cls):
    if cls._instance is None:
      cls._instance = object.__new__(cls)
    return cls._instance

  def __repr__(self):
    return "UNCONSTRAINED"

  def __reduce__(self):
    return (_Unconstrained, ())


UNCONSTRAINED = _Unconstrained()


def _canonicalize_partition(p):
  if p is None or p is UNCONSTRAINED:
    return p
  if isinstance(p, (tuple, list)):
    p = tuple(p)
    if any(a is None for a in p):
      raise TypeError(f"PartitionSpec entries must be None, a mesh axis name or a tuple "
                      f"of mesh axis names, got {p!r}")
    return p[0] if len(p) == 1 else (None if not p else p)
  return p


class PartitionSpec:
  """How each dimension of an array is split over mesh axes: one entry per dimension,
  ``None`` (not split), an axis name, or a tuple of axis names (split over their
  product, the first one major). Interned: equal specs are the same object."""
  __slots__ = ("_partitions", "unreduced", "reduced", "__weakref__")
  UNCONSTRAINED = UNCONSTRAINED
  _interned: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

  def __new__(cls, *partitions, unreduced=frozenset(), reduced=frozenset()):
    parts = tuple(_canonicalize_partition(p) for p in partitions)
    for name, val in (("unreduced", unreduced), ("reduced", reduced)):
      if not isinstance(val, (set, frozenset)):
        raise TypeError(f"{name} argument of PartitionSpec should of type `frozenset` "
                        f"or `set`. Got type {val}")
    unreduced, reduced = frozenset(unreduced), frozenset(reduced)
    key = (parts, unreduced, reduced)
    obj = cls._interned.get(key)
    if obj is None:
      if unreduced & reduced:
        raise ValueError("`unreduced` and `reduced` argument to PartitionSpec cannot "
                         f"overlap. Got unreduced: {unreduced} and reduced: {reduced}")
      obj = object.__new__(cls)
      object.__setattr__(obj, "_partitions", parts)
      object.__setattr__(obj, "unreduced", unreduced)
      object.__setattr__(obj, "reduced", reduced)
      cls._interned[key] = obj
    return obj

  def __init_subclass__(cls, *args, **kwargs):
    raise TypeError("Subclassing `jax.P` is prohibited.")

  def __setattr__(self, name, value):
    raise AttributeError("PartitionSpec is immutable")

  partitions = property(lambda self: self._partitions)

  def __repr__(self):
    pr = repr(self._partitions)[1:-1]
    extra = []
    if self.unreduced:
      extra.append(f"unreduced={set(self.unreduced)!r}")
    if self.reduced:
      extra.append(f"reduced={set(self.reduced)!r}")
    if not extra:
      return f"P({pr})"
    pr = "" if not pr else f"{pr} " if pr.endswith(",") else f"{pr}, "
    return f"P({pr}{', '.join(extra)})"

  __str__ = __repr__

  def __reduce__(self):
    return (_make_spec, (self._partitions, self.unreduced, self.reduced))

  def __getitem__(self, i):
    return self._partitions[i]

  def __iter__(self):
    return iter(self._partitions)

  def __len__(self):
    return len(self._partitions)

  def __add__(self, other):
    if isinstance(other, PartitionSpec):
      return PartitionSpec(*self._partitions, *other._partitions,
                           unreduced=self.unreduced | other.unreduced,
                           reduced=self.reduced | other.reduced)
    if isinstance(other, tuple):
      return PartitionSpec(*self._partitions, *other)
    return NotImplemented

  def __radd__(self, other):
    if isinstance(other, tuple):
      return PartitionSpec(*other, *self._partitions)
    return NotImplemented

  def index(self, value):
    return self._partitions.index(_canonicalize_partition(value))

  def count(self, value):
    return self._partitions.count(_canonicalize_partition(value))

  def update(self, partitions=None, unreduced=None, reduced=None):
    return PartitionSpec(*(self._partitions if partitions is None else partitions),
                         unreduced=self.unreduced if unreduced is None else unreduced,
                         reduced=self.reduced if reduced is None else reduced)

  def _normalized_spec_for_aval(self, ndim: int) -> "PartitionSpec":
    out = [None if p is UNCONSTRAINED else p for p in self._partitions]
    out.extend([None] * (ndim - len(out)))
    return self.update(partitions=out)

  def _check_compatible_wrt_shape(self, shape):
    if len(shape) < len(self._partitions):
      extra = " For scalars the PartitionSpec should be P()" if not shape else ""
      raise ValueError(
          f"PartitionSpec {self} is only valid for values of rank at least "
          f"{len(self._partitions)}, but was applied to a value of rank {len(shape)}."
          f"{extra}")


def _make_spec(partitions, unreduced, reduced):
  return PartitionSpec(*partitions, unreduced=unreduced, reduced=reduced)


P = PartitionSpec


def spec_axes(entry) -> tuple:
  """The mesh axis names one spec entry splits over (major first)."""
  if entry is None or entry is UNCONSTRAINED:
    return ()
  return entry if isinstance(entry, tuple) else (entry,)


def show_axes(axes) -> str:
  return ", ".join(sorted(f"`{a}`" for a in axes))


# ---------------------------------------------------------------- shardings


class Sharding:
  """The base class of shardings: which slice of an array each device holds."""

  device_set = property(lambda self: set(self._device_assignment))
  num_devices = property(lambda self: len(self._device_assignment))
  memory_kind = property(lambda self: None)

  @property
  def is_fully_addressable(self) -> bool:
    """Whether this process holds every device (always, but in multi-process runs)."""
    if devices_mod.process_count() == 1:
      return True
    p = devices_mod.process_index()
    return all(d.process_index == p for d in self._device_assignment)

  @property
  def addressable_devices(self):
    p = devices_mod.process_index()
    return {d for d in self._device_assignment if d.process_index == p}

  def devices_indices_map(self, global_shape) -> dict:
    """{device: index} where index is a tuple of slices into the global array."""
    raise NotImplementedError

  def addressable_devices_indices_map(self, global_shape) -> dict:
    m = self.devices_indices_map(global_shape)
    if devices_mod.process_count() == 1:
      return m
    p = devices_mod.process_index()
    return {d: i for d, i in m.items() if d.process_index == p}

  def shard_shape(self, global_shape) -> tuple:
    return tuple(global_shape)

  def is_equivalent_to(self, other, ndim: int) -> bool:
    if not isinstance(other, Sharding):
      return False
    shape = (8 * 9 * 5 * 7,) * ndim  # any shape all the meshes here divide
    return (self._device_assignment == other._device_assignment and
            self.devices_indices_map(shape) == other.devices_indices_map(shape))

  def with_memory_kind(self, kind):
    raise NotImplementedError


class SingleDeviceSharding(Sharding):
  """Everything on one device."""

  def __init__(self, device, *, memory_kind: str | None = None):
    self._device = device
    # The seeds print `memory_kind=unpinned_host` for a CPU array (JAX 0.10.2 prints
    # `device`): where the two differ, the seed is followed.
    self._memory_kind = memory_kind or "unpinned_host"

  device_set = property(lambda self: {self._device})
  _device_assignment = property(lambda self: (self._device,))
  memory_kind = property(lambda self: self._memory_kind)
  num_devices = property(lambda self: 1)
  is_fully_replicated = property(lambda self: True)
  spec = property(lambda self: PartitionSpec())

  def devices_indices_map(self, global_shape):
    return {self._device: tuple(slice(None) for _ in global_shape)}

  def with_memory_kind(self, kind):
    return SingleDeviceSharding(self._device, memory_kind=kind)

  def __repr__(self):
    return f"SingleDeviceSharding(device={self._device!r}, memory_kind={self._memory_kind})"

  def __eq__(self, other):
    return isinstance(other, SingleDeviceSharding) and other._device == self._device

  def __hash__(self):
    return hash(self._device)


def _check_spec(mesh, spec: PartitionSpec):
  counts: dict = {}
  for entry in spec.partitions:
    for a in spec_axes(entry):
      counts[a] = counts.get(a, 0) + 1
  dup = [a for a, c in counts.items() if c > 1]
  if dup:
    raise ValueError(
        f"A single NamedSharding spec specification can map every mesh axis to at most "
        f"one positional dimension, but {spec} has duplicate entries for {show_axes(dup)}")
  for entry in spec.partitions:
    for a in spec_axes(entry):
      if a not in mesh.axis_names:
        raise ValueError(f"Resource axis: {a} of {spec} is not found in mesh: "
                         f"{tuple(mesh.axis_names)}.")
  for kind, axes in (("Unreduced", spec.unreduced), ("Reduced", spec.reduced)):
    for u in axes:
      if u not in mesh.axis_names:
        raise ValueError(f"{kind} axes {u} is not found in mesh.axis_names="
                         f"{mesh.axis_names}. Got pspec={spec}")
      if mesh._name_to_type[u] != AxisType.Explicit:
        raise ValueError(f"{kind} axes can only refer to mesh axes that is of type "
                         f"`Explicit`. Got {kind.lower()} axes: {axes} and mesh: {mesh}")


class NamedSharding(Sharding):
  """A ``Mesh`` and a ``PartitionSpec``: dimension ``d`` of the array is split over the
  mesh axes ``spec[d]`` names; the other mesh axes hold replicas."""

  def __init__(self, mesh, spec, *, memory_kind: str | None = None):
    if not isinstance(mesh, (Mesh, AbstractMesh)):
      raise TypeError(f"NamedSharding mesh must be a Mesh or AbstractMesh, got {mesh!r}")
    if not isinstance(spec, PartitionSpec):
      raise TypeError(
          f"spec of NamedSharding must be an instance of PartitionSpec, got {spec!r} of "
          f"type {type(spec)}")
    _check_spec(mesh, spec)
    self.mesh = mesh
    self.spec = spec
    self._memory_kind = memory_kind

  memory_kind = property(lambda self: self._memory_kind if self._memory_kind is not None
                         else "device")

  @property
  def _device_assignment(self):
    if not isinstance(self.mesh, Mesh):
      raise ValueError("NamedSharding with an AbstractMesh has no devices")
    return tuple(self.mesh.devices.flat)

  @property
  def is_fully_replicated(self):
    sizes = self.mesh.shape
    return all(sizes[a] == 1 for e in self.spec.partitions for a in spec_axes(e))

  def _key(self):
    parts = list(self.spec.partitions)
    while parts and (parts[-1] is None):
      parts.pop()
    return (self.mesh, tuple(parts), self.spec.unreduced, self.spec.reduced,
            self.memory_kind)

  def __eq__(self, other):
    return isinstance(other, NamedSharding) and self._key() == other._key()

  def __hash__(self):
    return hash(self._key())

  def __repr__(self):
    if isinstance(self.mesh, AbstractMesh) and self._memory_kind is None:  # JAX's
      return f"NamedSharding(mesh={self.mesh}, spec={self.spec})"
    return (f"NamedSharding(mesh={self.mesh}, spec={self.spec}, "
            f"memory_kind={self.memory_kind})")

  def __reduce__(self):
    return (_make_named, (self.mesh, self.spec, self._memory_kind))

  def with_memory_kind(self, kind):
    return NamedSharding(self.mesh, self.spec, memory_kind=kind)

  def update(self, mesh=None, spec=None, memory_kind=None):
    return NamedSharding(self.mesh if mesh is None else mesh,
                         self.spec if spec is None else spec,
                         memory_kind=self._memory_kind if memory_kind is None
                         else memory_kind)

  def _dim_splits(self, ndim):
    """For each dimension, the number of pieces it is split into."""
    sizes = self.mesh.shape
    parts = self.spec._normalized_spec_for_aval(ndim).partitions
    return [math.prod(sizes[a] for a in spec_axes(e)) for e in parts]

  def check_compatible_aval(self, shape):
    self.spec._check_compatible_wrt_shape(shape)

  def shard_shape(self, global_shape):
    global_shape = tuple(global_shape)
    self.check_compatible_aval(global_shape)
    out = []
    for d, (n, k) in enumerate(zip(global_shape, self._dim_splits(len(global_shape)))):
      if n % k:
        raise IndivisibleError(
            f"Sharding {self} implies that array axis {d} is partitioned {k} times, but "
            f"the dimension size is {n} (full shape: {global_shape}, per-dimension tiling "
            f"factors: {self._dim_splits(len(global_shape))} should evenly divide the "
            f"shape)")
      out.append(n // k)
    return tuple(out)

  def _device_coords(self):
    """(device, {mesh axis: coordinate}) for each device, in the mesh's order."""
    names, sizes = self.mesh.axis_names, self.mesh.axis_sizes
    for flat, dev in enumerate(self._device_assignment):
      coord, rest = {}, flat
      for name, size in zip(reversed(names), reversed(sizes)):
        coord[name] = rest % size
        rest //= size
      yield dev, coord

  def devices_indices_map(self, global_shape):
    global_shape = tuple(global_shape)
    shard = self.shard_shape(global_shape)
    parts = self.spec._normalized_spec_for_aval(len(global_shape)).partitions
    out = {}
    for dev, coord in self._device_coords():
      index = []
      for d, entry in enumerate(parts):
        axes = spec_axes(entry)
        if not axes:
          index.append(slice(None))
          continue
        k = 0
        for a in axes:  # mixed radix, the first axis major
          k = k * self.mesh.shape[a] + coord[a]
        index.append(slice(k * shard[d], (k + 1) * shard[d]))
      out[dev] = tuple(index)
    return out

  def replica_ids(self, global_shape) -> dict:
    """{device: replica id}: the index of the device among those holding its slice."""
    used = {a for e in self.spec._normalized_spec_for_aval(len(global_shape)).partitions
            for a in spec_axes(e)}
    out = {}
    for dev, coord in self._device_coords():
      r = 0
      for name, size in zip(self.mesh.axis_names, self.mesh.axis_sizes):
        if name not in used:
          r = r * size + coord[name]
      out[dev] = r
    return out


def make_single_device_sharding(device, *, memory_kind: str | None = None):
  return SingleDeviceSharding(device, memory_kind=memory_kind)


def _make_named(mesh, spec, memory_kind):
  return NamedSharding(mesh, spec, memory_kind=memory_kind)


def canonicalize_sharding(s, what: str = "sharding"):
  """``s`` as a Sharding: a bare PartitionSpec takes the mesh in context
  (``jax.set_mesh``), a Device becomes a SingleDeviceSharding; None stays None."""
  if s is None or isinstance(s, Sharding):
    return s
  if isinstance(s, devices_mod.Device):
    return SingleDeviceSharding(s)
  if isinstance(s, PartitionSpec):
    mesh = get_concrete_mesh()
    if mesh is None or mesh.empty:
      raise ValueError(
          f"Using PartitionSpec when you are not under a mesh context is not allowed. "
          f"Please pass a NamedSharding instance or enter into a mesh context via "
          f"`jax.set_mesh`. Got {s}")
    return NamedSharding(mesh, s)
  raise TypeError(f"{what} must be a Sharding, a PartitionSpec or a Device, got {s!r}")


def sharding_from_spec(s, who: str, what: str):
  """``s`` (a Sharding or a PartitionSpec) as a Sharding: a PartitionSpec takes the mesh
  in context, else JAX's error naming ``who`` (jit, with_sharding_constraint) and
  ``what`` (its parameter)."""
  if not isinstance(s, PartitionSpec):
    return s
  mesh = get_concrete_mesh()
  if mesh is None or mesh.empty:
    raise RuntimeError(
        f"{who} requires a non-empty mesh in context if you are passing `PartitionSpec`s "
        f"to {what}. You can define a context mesh via `jax.set_mesh(mesh)`. "
        f"Alternatively, provide `Sharding`s to {what} and then the mesh context manager "
        f"is not required.")
  return NamedSharding(mesh, s)


# ---------------------------------------------------------------- shardings in types

_aval_shardings: dict = {}


def aval_sharding(s, ndim: int):
  """The sharding a ShapedArray of rank ``ndim`` carries for an array sharded as ``s``:
  over the abstract mesh, one spec entry per dimension, only Explicit axes (Auto and
  Manual ones are not part of the type); None when that splits nothing."""
  if not isinstance(s, NamedSharding):
    return None
  key = (s, ndim)
  out = _aval_shardings.get(key, False)
  if out is not False:
    return out
  mesh = s.mesh.abstract_mesh
  types = mesh._name_to_type
  spec = s.spec
  if len(spec) > ndim:
    raise ValueError(f"Length of sharding.spec must be equal to aval's ndim. Got "
                     f"sharding.spec {spec}, aval.ndim {ndim} and sharding {s}")
  parts = []
  for e in spec._normalized_spec_for_aval(ndim).partitions:
    axes = tuple(a for a in spec_axes(e) if types[a] == AxisType.Explicit)
    parts.append(None if not axes else axes if isinstance(e, tuple) else axes[0])
  unreduced = frozenset(u for u in spec.unreduced if types[u] == AxisType.Explicit)
  reduced = frozenset(u for u in spec.reduced if types[u] == AxisType.Explicit)
  if all(p is None for p in parts) and not unreduced and not reduced:
    out = None
  else:
    out = NamedSharding(mesh, PartitionSpec(*parts, unreduced=unreduced, reduced=reduced))
    core.note_sharded()
  if len(_aval_shardings) > 4096:
    _aval_shardings.clear()
  _aval_shardings[key] = out
  return out


# The concrete mesh each abstract mesh of a sharding parameter came from (eager results of
# primitives with a sharding parameter are placed on it).
concrete_meshes: dict = {}


def abstract_sharding(s: NamedSharding) -> NamedSharding:
  """``s`` over its abstract mesh, as JAX keeps shardings in primitive parameters."""
  if isinstance(s.mesh, Mesh):
    concrete_meshes[s.mesh.abstract_mesh] = s.mesh
    return NamedSharding(s.mesh.abstract_mesh, s.spec)
  return s


def sharding_without_dim(s: NamedSharding, d: int):
  """A type sharding with dimension ``d`` removed (None when nothing stays split)."""
  parts = list(s.spec.partitions)
  del parts[d]
  if all(p is None for p in parts) and not s.spec.unreduced and not s.spec.reduced:
    return None
  return NamedSharding(s.mesh, s.spec.update(partitions=parts))


def typed_sharding(mesh, spec, ndim: int):
  """``aval_sharding`` of ``NamedSharding(mesh, spec)`` (mesh concrete or abstract)."""
  return aval_sharding(NamedSharding(mesh, spec), ndim)

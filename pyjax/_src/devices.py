"""Devices and shardings. Eager values live in host memory on CPU devices."""
from __future__ import annotations

from pyjax._src.config import config


class Device:
  platform = "cpu"
  device_kind = "cpu"

  def __init__(self, id: int, process_index: int = 0):
    self.id = id
    self.process_index = process_index
    self.host_id = process_index

  def __repr__(self):
    return f"CpuDevice(id={self.id})"

  def __str__(self):
    return f"{self.platform}:{self.id}"

  def __eq__(self, other):
    return type(other) is type(self) and other.id == self.id

  def __hash__(self):
    return hash((type(self), self.id))

  def memory_spaces(self):
    return []


CpuDevice = Device

_devices: list[Device] | None = None


def _init_devices() -> list[Device]:
  global _devices
  if _devices is None:
    n = config.jax_num_cpu_devices
    _devices = [Device(i) for i in range(n if n and n > 0 else 1)]
  return _devices


def _check_num_devices(_value):
  if _devices is not None and len(_devices) != max(_value, 1):
    raise RuntimeError(
        "jax_num_cpu_devices config should be updated before backends are initialized "
        "i.e. before any JAX operation is executed. You should initialize this config "
        "immediately after `import pyjax`.")


config.on_update("jax_num_cpu_devices", _check_num_devices)


def _check_backend(backend):
  if backend not in (None, "cpu"):
    raise RuntimeError(
        f"Unknown backend {backend!r}. Available backends are ['cpu'].")


def devices(backend=None) -> list[Device]:
  _check_backend(backend)
  return list(_init_devices())


def local_devices(process_index=None, backend=None) -> list[Device]:
  return devices(backend)


def device_count(backend=None) -> int:
  return len(devices(backend))


def local_device_count(backend=None) -> int:
  return len(devices(backend))


def default_backend() -> str:
  return "cpu"


def process_index(backend=None) -> int:
  return 0


def process_count(backend=None) -> int:
  return 1


def default_device() -> Device:
  d = config.jax_default_device
  return d if d is not None else _init_devices()[0]


class Sharding:
  pass


class SingleDeviceSharding(Sharding):
  def __init__(self, device: Device, *, memory_kind: str | None = None):
    self._device = device
    self._memory_kind = memory_kind or "unpinned_host"

  device_set = property(lambda self: {self._device})
  memory_kind = property(lambda self: self._memory_kind)
  num_devices = property(lambda self: 1)
  is_fully_replicated = property(lambda self: True)
  is_fully_addressable = property(lambda self: True)

  def __repr__(self):
    return f"SingleDeviceSharding(device={self._device!r}, memory_kind={self._memory_kind})"

  def __eq__(self, other):
    return isinstance(other, SingleDeviceSharding) and other._device == self._device

  def __hash__(self):
    return hash(self._device)

"""Devices: the CPU devices (as many as `jax_num_cpu_devices` or XLA_FLAGS ask for) and
the GPUs IREE finds. Eager values live in host memory."""
from __future__ import annotations

import os

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


class GpuDevice(Device):
  """A GPU, run by IREE's CUDA driver: jit programs and eager operations on its arrays
  are compiled for it (``dispatch.apply_on_device``)."""
  platform = "gpu"
  device_kind = "gpu"

  def __repr__(self):
    return f"CudaDevice(id={self.id})"


_devices: list[Device] | None = None
_gpus: list[GpuDevice] | None = None

# What the higher layers provide, registered once at their import: the GPU backend
# (backends/iree.py) how to look for a GPU, and the eager path (dispatch.py) what to do
# when GPUs are found (True) or forgotten (False).
_gpu_probe = None  # () -> bool: whether a GPU can be driven
_gpu_listeners: list = []  # (found: bool) -> None


def register_gpu_probe(probe):
  global _gpu_probe
  _gpu_probe = probe


def on_gpus_changed(listener):
  _gpu_listeners.append(listener)


def _xla_flags_device_count() -> int:
  """``--xla_force_host_platform_device_count=N`` in ``XLA_FLAGS`` (JAX users' way to ask
  for N host devices), or 0."""
  for flag in os.environ.get("XLA_FLAGS", "").split():
    name, _, value = flag.partition("=")
    if name == "--xla_force_host_platform_device_count":
      try:
        return int(value)
      except ValueError:
        raise ValueError(f"XLA_FLAGS: {flag!r} needs an integer device count") from None
  return 0


def _init_devices() -> list[Device]:
  global _devices
  if _devices is None:
    n = config.jax_num_cpu_devices
    if not n or n < 0:
      n = _xla_flags_device_count()
    _devices = [Device(i) for i in range(n if n and n > 0 else 1)]
  return _devices


def _check_num_devices(_value):
  if _devices is not None and len(_devices) != max(_value, 1):
    raise RuntimeError(
        "jax_num_cpu_devices config should be updated before backends are initialized "
        "i.e. before any JAX operation is executed. You should initialize this config "
        "immediately after `import pyjax`.")


config.on_update("jax_num_cpu_devices", _check_num_devices)


def _platform(name: str) -> str:
  """A platform or backend name as a platform: "cuda" is the "gpu" platform."""
  return "gpu" if name == "cuda" else name


def _platforms_allowed() -> set[str]:
  want = {p.strip() for p in (config.jax_platforms or "").split(",") if p.strip()}
  if not want:
    return {"cpu", "gpu"}
  return {_platform(p) for p in want}


def gpu_devices() -> list[GpuDevice]:
  """The GPUs IREE can drive (none unless ``jax_platforms`` allows gpu/cuda). Found
  once; finding one routes eager operations on GPU arrays to the device."""
  global _gpus
  if _gpus is None:
    if _gpu_probe is None:  # no GPU backend loaded (yet): nothing found, nothing kept
      return []
    _gpus = [GpuDevice(0)] if "gpu" in _platforms_allowed() and _gpu_probe() else []
    if _gpus:
      for listener in _gpu_listeners:
        listener(True)
  return _gpus


def _reset_gpu_devices():
  """Forgets the GPUs found (tests that swap IREE's GPU driver)."""
  global _gpus
  _gpus = None
  for listener in _gpu_listeners:
    listener(False)


def _platforms_present() -> list[str]:
  return (["cpu"] if "cpu" in _platforms_allowed() or not gpu_devices() else []) + \
      (["gpu"] if gpu_devices() else [])


def _check_backend(backend):
  if backend is None:
    return
  if _platform(backend) not in _platforms_present():
    raise RuntimeError(
        f"Unknown backend: '{backend}' requested, but no platforms that are instances of "
        f"{backend} are present. Platforms present are: {','.join(_platforms_present())}")


def devices(backend=None) -> list[Device]:
  _check_backend(backend)
  if backend is None:
    backend = default_backend()
  if _platform(backend) == "gpu":
    return list(gpu_devices())
  return list(_init_devices())


def local_devices(process_index=None, backend=None) -> list[Device]:
  return devices(backend)


def device_count(backend=None) -> int:
  return len(devices(backend))


def local_device_count(backend=None) -> int:
  return len(devices(backend))


def default_backend() -> str:
  return "gpu" if gpu_devices() else "cpu"


def process_index(backend=None) -> int:
  return 0


def process_count(backend=None) -> int:
  return 1


def default_device() -> Device:
  d = config.jax_default_device
  return d if d is not None else devices()[0]

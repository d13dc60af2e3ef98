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


class Client:
  """A backend (JAX's ``xla_client.Client``): the devices of one platform, as
  ``jax._src.xla_bridge.get_backend()`` returns it. It cannot compile or hold buffers:
  pyjax compiles through ``compiler`` and keeps buffers on its arrays."""
  runtime_type = "pyjax_iree"

  def __init__(self, platform: str, devices_of):
    self.platform = platform
    self.platform_version = platform
    self._devices_of = devices_of

  def devices(self) -> list[Device]:
    return list(self._devices_of())

  def local_devices(self) -> list[Device]:
    return [d for d in self._devices_of() if d.process_index == _process_index]

  def _get_all_devices(self) -> list[Device]:
    return list(self._devices_of())

  def device_count(self) -> int:
    return len(self._devices_of())

  def local_device_count(self) -> int:
    return len(self.local_devices())

  def process_index(self) -> int:
    return _process_index

  host_id = task_id = process_index

  def live_arrays(self) -> list:
    return []


_devices: list[Device] | None = None
_gpus: list[GpuDevice] | None = None
# The initialized backends by name ("cpu", "cuda"), entered when their devices are first
# asked for: what `jax._src.xla_bridge._backends` is (Chex reads it to learn whether the
# CPU device count can still change).
_backends: dict[str, Client] = {}

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


def local_cpu_count() -> int:
  """The CPU devices this process asks for (``jax_num_cpu_devices`` or ``XLA_FLAGS``)."""
  n = config.jax_num_cpu_devices
  if not n or n < 0:
    n = _xla_flags_device_count()
  return n if n and n > 0 else 1


# A multi-process run (``distributed.initialize``): this process's index and every
# process's CPU device count. JAX's CPU client numbers process p's devices from p * 2048.
_process_index = 0
_process_counts: list[int] | None = None
PROCESS_ID_STRIDE = 2048


def set_processes(index: int, counts: list[int]):
  global _process_index, _process_counts
  _process_index, _process_counts = index, list(counts)


def _init_devices() -> list[Device]:
  global _devices
  if _devices is None:
    if _process_counts is None:
      _devices = [Device(i) for i in range(local_cpu_count())]
    else:
      _devices = [Device(p * PROCESS_ID_STRIDE + i, p)
                  for p, n in enumerate(_process_counts) for i in range(n)]
    _backends["cpu"] = Client("cpu", _init_devices)
  return _devices


def _clear_cpu_devices():
  """Forgets the CPU devices and the backends made (``xla_bridge._clear_backends``):
  the next use reads ``jax_num_cpu_devices`` / ``XLA_FLAGS`` again."""
  global _devices
  _devices = None
  _backends.clear()


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
      _backends["cuda"] = Client("gpu", gpu_devices)
      for listener in _gpu_listeners:
        listener(True)
  return _gpus


def _reset_gpu_devices():
  """Forgets the GPUs found (tests that swap IREE's GPU driver)."""
  global _gpus
  _gpus = None
  _backends.pop("cuda", None)
  for listener in _gpu_listeners:
    listener(False)


def _platforms_present() -> list[str]:
  return (["cpu"] if "cpu" in _platforms_allowed() or not gpu_devices() else []) + \
      (["gpu"] if gpu_devices() else [])


def _backend_names() -> list[str]:
  """The names of the backends present, as JAX's keys: "cpu", "cuda"."""
  return ["cuda" if p == "gpu" else p for p in _platforms_present()]


def _check_backend(backend):
  if backend is None:
    return
  if _platform(backend) not in _platforms_present():
    if backend == "gpu":  # JAX's platform alias (for cuda, rocm, oneapi)
      raise RuntimeError(
          f"Unknown backend: '{backend}' requested, but no platforms that are instances "
          f"of {backend} are present. Platforms present are: "
          f"{','.join(_backend_names())}")
    raise RuntimeError(
        f"Unknown backend {backend}. Available backends are {_backend_names()}")


def devices(backend=None) -> list[Device]:
  _check_backend(backend)
  if backend is None:
    backend = default_backend()
  if _platform(backend) == "gpu":
    return list(gpu_devices())
  return list(_init_devices())


def local_devices(process_index=None, backend=None) -> list[Device]:
  p = _process_index if process_index is None else process_index
  return [d for d in devices(backend) if d.process_index == p]


def device_count(backend=None) -> int:
  return len(devices(backend))


def local_device_count(backend=None) -> int:
  return len(local_devices(None, backend))


def default_backend() -> str:
  return "gpu" if gpu_devices() else "cpu"


def process_index(backend=None) -> int:
  return _process_index


def process_count(backend=None) -> int:
  return 1 if _process_counts is None else len(_process_counts)


def default_device() -> Device:
  d = config.jax_default_device
  if d is not None:
    return d
  ds = devices()
  return ds[0] if _process_counts is None else local_devices()[0]

"""``jax.extend.backend``: the platforms pyjax runs on, as backend objects.

A backend is pyjax's view of one platform ("cpu", "gpu"): its devices and platform
name. pyjax compiles with IREE: ``backend_xla_version`` is None, and XLA's compile
options and backend factories (``get_compile_options``, ``register_backend_factory``)
do not exist here; they raise NotImplementedError naming the gap.
"""
from __future__ import annotations

from pyjax._src import devices as _devices

__all__ = ["Backend", "backend_xla_version", "backends", "clear_backends",
           "clear_in_memory_compilation_cache", "get_backend", "get_compile_options",
           "get_default_device", "register_backend_cache", "register_backend_factory"]


class Backend:
  """One platform's devices (JAX's ``xla_client.Client`` surface that libraries read)."""

  def __init__(self, platform: str):
    self.platform = platform
    self.platform_version = f"pyjax {platform} (IREE)"

  def devices(self):
    return _devices.devices(self.platform)

  local_devices = devices

  def device_count(self) -> int:
    return len(self.devices())

  local_device_count = device_count

  def process_index(self) -> int:
    return 0

  def __repr__(self):
    return f"Backend({self.platform!r})"


_backends: dict = {}


def get_backend(platform=None) -> Backend:
  """The backend of ``platform`` (a name or a backend; the default one for None)."""
  if isinstance(platform, Backend):
    return platform
  name = _devices.default_backend() if platform is None else platform
  _devices.devices(name)  # JAX's error for an unknown or absent platform
  name = "gpu" if name in ("gpu", "cuda") else name
  b = _backends.get(name)
  if b is None:
    b = _backends[name] = Backend(name)
  return b


def backends() -> dict:
  """Every platform present, by name."""
  names = ["cpu"] + (["gpu"] if _devices.gpu_devices() else [])
  return {n: get_backend(n) for n in names}


def clear_backends() -> None:
  _backends.clear()


def get_default_device():
  return _devices.default_device()


def backend_xla_version(platform=None):
  """None: pyjax's backends are not XLA."""
  del platform
  return None


def clear_in_memory_compilation_cache() -> None:
  """pyjax keeps compiled programs with the jitted functions (``clear_cache()``)."""


def register_backend_cache(cache, for_what: str) -> None:
  del cache, for_what


def _no_xla(name):
  def f(*args, **kwargs):
    raise NotImplementedError(f"jax.extend.backend.{name}: pyjax compiles with IREE, not "
                              f"XLA, and has no equivalent")
  f.__name__ = name
  return f


get_compile_options = _no_xla("get_compile_options")
register_backend_factory = _no_xla("register_backend_factory")

"""``jax.extend.backend``: the platforms pyjax runs on, as backend objects.

A backend is pyjax's view of one platform ("cpu", "gpu"): its devices and platform
name. pyjax compiles with IREE: ``backend_xla_version`` is None, and XLA's compile
options and backend factories (``get_compile_options``, ``register_backend_factory``)
do not exist here; they raise NotImplementedError naming the gap.
"""
from __future__ import annotations

from pyjax._src import devices as _devices, xla_bridge
from pyjax._src.backends import iree as _iree
from pyjax._src.devices import Client as Backend

__all__ = ["Backend", "backend_xla_version", "backends", "clear_backends",
           "clear_in_memory_compilation_cache", "get_backend", "get_compile_options",
           "get_default_device", "register_backend_cache", "register_backend_factory"]

# One backend object per platform: xla_bridge's (JAX's jax.extend.backend re-exports it).
get_backend = xla_bridge.get_backend
backends = xla_bridge.backends
clear_backends = xla_bridge._clear_backends


def get_default_device():
  return _devices.default_device()


def backend_xla_version(platform=None):
  """None: pyjax's backends are not XLA."""
  del platform
  return None


def clear_in_memory_compilation_cache() -> None:
  """Forgets the compiled modules kept in memory (by module text), as JAX's forgets its
  executables: the next compile of one reads the disk cache or compiles again. Programs
  already loaded by jitted functions stay (``clear_cache()``, ``jax.clear_caches()``)."""
  _iree._mem_cache.clear()


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

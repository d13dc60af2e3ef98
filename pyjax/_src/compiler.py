"""`jax._src.compiler`: the one function every jit program is compiled through, so that
code patching it (Chex's `restrict_backends`) sees each compile.

`backend_compile_and_load(backend, module, ...)` compiles StableHLO text with IREE and
loads it; `backend` is a `Backend` naming the platform ("cpu" or "gpu"). It cannot
take XLA's compile options or host callbacks objects: pyjax passes its own.
"""
from __future__ import annotations

from pyjax._src.backends import iree

__all__ = ["Backend", "backend", "backend_compile_and_load", "is_iree_failure"]


class Backend:
  """The platform a program is compiled for (JAX's backend client, name only)."""
  __slots__ = ("platform",)

  def __init__(self, platform: str):
    self.platform = platform

  def __repr__(self):
    return f"Backend({self.platform!r})"


_BACKENDS = {"cpu": Backend("cpu"), "gpu": Backend("gpu")}


def backend(platform: str) -> Backend:
  """The Backend of a platform name ("cpu", "gpu"; "cuda" is "gpu")."""
  return _BACKENDS["gpu" if platform == "cuda" else platform]


def backend_compile_and_load(backend: Backend, module: str, executable_devices=None,
                             options=None, host_callbacks=(), *, driver: str,
                             n_out: int, asynchronous: bool = False):
  """``module`` (StableHLO text) compiled (or read from the cache) and loaded on
  ``driver``, with ``n_out`` results."""
  try:
    return iree.load_module(module, backend.platform, driver, n_out,
                            asynchronous=asynchronous, callbacks=host_callbacks)
  except RuntimeError as e:
    e._pyjax_iree_failure = True
    raise


def is_iree_failure(e: BaseException) -> bool:
  """Whether ``e`` came from IREE (not from code wrapping the compile function)."""
  return getattr(e, "_pyjax_iree_failure", False)

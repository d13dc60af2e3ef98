"""`jax._src.compiler`: the one function every jit program is compiled through, so that
code patching it (Chex's `restrict_backends`) sees each compile.

`backend_compile_and_load(backend, module, ...)` compiles StableHLO text with IREE and
loads it; `backend` is the platform's Client ("cpu" or "gpu"). It cannot
take XLA's compile options or host callbacks objects: pyjax passes its own.
"""
from __future__ import annotations

from pyjax._src import xla_bridge
from pyjax._src.backends import iree
from pyjax._src.devices import Client

__all__ = ["backend", "backend_compile_and_load", "is_iree_failure"]


def backend(platform: str) -> Client:
  """The backend (``xla_bridge``'s one Client per platform) of a platform name ("cpu",
  "gpu"; "cuda" is "gpu")."""
  return xla_bridge.get_backend("cuda" if platform in ("gpu", "cuda") else platform)


def backend_compile_and_load(backend: Client, module: str, executable_devices=None,
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

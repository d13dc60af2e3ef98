"""Global configuration: ``pyjax.config.update(name, value)`` as in JAX.

Options are plain attributes on the ``config`` object so that hot paths read
them with one attribute lookup (``config.jax_enable_x64``).
"""
from __future__ import annotations

import os


def _env_bool(name: str, default: bool) -> bool:
  v = os.environ.get(name.upper())
  if v is None:
    return default
  return v.strip().lower() in ("1", "true", "yes", "on", "t", "y")


def _env_int(name: str, default: int) -> int:
  v = os.environ.get(name.upper())
  return default if v is None else int(v)


class Config:
  """Holds every option; ``update`` validates names and notifies listeners."""

  def __init__(self):
    self._defaults = {}
    self._listeners = {}
    self._define("jax_enable_x64", _env_bool("jax_enable_x64", False))
    self._define("jax_num_cpu_devices", _env_int("jax_num_cpu_devices", -1))
    self._define("jax_platforms", os.environ.get("JAX_PLATFORMS", ""))
    self._define("jax_platform_name", os.environ.get("JAX_PLATFORM_NAME", ""))
    self._define("jax_default_device", None)
    self._define("jax_disable_jit", _env_bool("jax_disable_jit", False))
    self._define("jax_numpy_rank_promotion",
                 os.environ.get("JAX_NUMPY_RANK_PROMOTION", "allow"))
    self._define("jax_numpy_dtype_promotion",
                 os.environ.get("JAX_NUMPY_DTYPE_PROMOTION", "standard"))
    self._define("jax_default_matmul_precision", None)
    self._define("jax_threefry_partitionable",
                 _env_bool("jax_threefry_partitionable", True))
    self._define("jax_default_prng_impl", "threefry2x32")
    self._define("jax_debug_key_reuse", _env_bool("jax_debug_key_reuse", False))
    self._define("jax_compilation_cache_dir",
                 os.environ.get("JAX_COMPILATION_CACHE_DIR"))
    # Bytes the on-disk compilation cache may hold; the least recently used entries go
    # first. -1: no limit; 0: no disk cache (JAX's meanings; JAX's default is -1).
    self._define("jax_compilation_cache_max_size",
                 _env_int("jax_compilation_cache_max_size", 1 << 30))
    self._define("jax_debug_nans", _env_bool("jax_debug_nans", False))
    self._define("jax_debug_infs", _env_bool("jax_debug_infs", False))
    self._define("jax_softmax_custom_jvp", _env_bool("jax_softmax_custom_jvp", False))
    self._define("jax_log_compiles", _env_bool("jax_log_compiles", False))
    self._define("jax_traceback_filtering", "auto")

  def _define(self, name, value):
    self._defaults[name] = value
    object.__setattr__(self, name, value)

  def update(self, name: str, value) -> None:
    if name not in self._defaults:
      raise AttributeError(f"Unrecognized config option: {name}")
    if name == "jax_numpy_rank_promotion" and value not in ("allow", "warn", "raise"):
      raise ValueError(
          f"jax_numpy_rank_promotion must be one of 'allow', 'warn', 'raise'; got {value!r}")
    object.__setattr__(self, name, value)
    for fn in self._listeners.get(name, ()):
      fn(value)

  def on_update(self, name: str, fn) -> None:
    """Registers ``fn(value)`` to be called whenever option ``name`` changes."""
    self._listeners.setdefault(name, []).append(fn)

  def read(self, name: str):
    return getattr(self, name)

  def __setattr__(self, name, value):
    if not name.startswith("_"):
      raise AttributeError(f"Use config.update({name!r}, value) to change options.")
    object.__setattr__(self, name, value)

  @property
  def values(self):
    return {k: getattr(self, k) for k in self._defaults}

  def __repr__(self):
    return f"Config({self.values})"


config = Config()

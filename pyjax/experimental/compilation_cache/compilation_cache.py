"""``jax.experimental.compilation_cache.compilation_cache``: the on-disk cache of
compiled programs (IREE modules), on by default. Its options are JAX's:
``jax_compilation_cache_dir``, ``jax_enable_compilation_cache``,
``jax_compilation_cache_max_size``, ``jax_persistent_cache_min_compile_time_secs``
(pyjax's default is 0, JAX's 1.0) and ``jax_persistent_cache_min_entry_size_bytes``."""
from __future__ import annotations

from pyjax._src.backends import iree as _iree
from pyjax._src.config import config as _config

__all__ = ["reset_cache", "set_cache_dir"]


def set_cache_dir(path) -> None:
  """Sets the directory compiled programs are saved to and looked up in. Like JAX's,
  the cache is trusted: do not share it with users you do not trust."""
  _config.update("jax_compilation_cache_dir", path)


def reset_cache() -> None:
  """Forgets what this process knows of the cache directories (their sizes, the ones
  it could not write to, the errors already reported); the entries stay."""
  _iree.reset_disk_state()

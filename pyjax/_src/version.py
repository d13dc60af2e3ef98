"""pyjax's version, and the JAX release whose API it implements."""
from __future__ import annotations

__version__ = "0.1.0"
_jax_api_version = "0.10.2"  # the JAX release pyjax reproduces


def _version_as_tuple(version_str: str) -> tuple[int, ...]:
  return tuple(int(i) for i in version_str.split(".") if i.isdigit())


__version_info__ = _version_as_tuple(__version__)

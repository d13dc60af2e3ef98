"""Module ``__getattr__`` for names JAX deprecated or removed (its messages)."""
from __future__ import annotations

import functools
import warnings

__all__ = ["deprecation_getattr"]


def deprecation_getattr(module: str, deprecations: dict):
  """A module ``__getattr__``: a name mapped to ``(message, value)`` warns (once) with
  ``message`` and returns ``value``; one mapped to ``(message, None)`` raises
  AttributeError with ``message`` (JAX removed it); others raise Python's error."""
  @functools.cache
  def getattr_(name):
    if name in deprecations:
      message, value = deprecations[name]
      if value is None:
        raise AttributeError(message)
      warnings.warn(message, DeprecationWarning, stacklevel=2)
      return value
    raise AttributeError(f"module {module!r} has no attribute {name!r}")
  return getattr_

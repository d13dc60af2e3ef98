"""``jax.stages``: the stages of ``jit``: a wrapped function is traced (``Traced``),
lowered to StableHLO (``Lowered``) and compiled (``Compiled``)."""
from __future__ import annotations

import dataclasses
from typing import Any, Protocol, Union

from pyjax._src.pjit import Compiled, Lowered, Traced

__all__ = ["ArgInfo", "Compiled", "CompilerOptions", "Lowered", "Traced", "Wrapped"]

CompilerOptions = dict[str, Union[str, bool]]


@dataclasses.dataclass(frozen=True)
class ArgInfo:
  """An argument's abstract value and whether it is donated."""
  _aval: Any
  donated: bool

  @property
  def shape(self):
    if not hasattr(self._aval, "shape"):
      raise TypeError(f"No shape attribute with aval of type {type(self._aval)}")
    return self._aval.shape

  @property
  def dtype(self):
    if not hasattr(self._aval, "dtype"):
      raise TypeError(f"No dtype attribute with aval of type {type(self._aval)}")
    return self._aval.dtype


class Wrapped(Protocol):
  """What ``jit`` returns: call it, or ``trace``/``lower`` it explicitly."""

  def __call__(self, *args, **kwargs): ...

  def trace(self, *args, **kwargs) -> Traced: ...

  def lower(self, *args, **kwargs) -> Lowered: ...

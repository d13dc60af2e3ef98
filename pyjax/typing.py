"""``jax.typing``: static type annotations, defined as JAX defines them.

``ArrayLike`` is a ``Union`` of ``jax.Array``, ``np.ndarray`` and the static scalars
(NumPy and Python numbers); ``DTypeLike`` is a ``Union`` of what can name a dtype.
``isinstance(x, ArrayLike)`` works; ``isinstance(x, DTypeLike)`` raises TypeError, as
in JAX (the union holds the parameterized ``type[Any]``).
"""
from __future__ import annotations

import typing
from typing import Any, Protocol, Union

import numpy as np

from pyjax._src.array import Array

__all__ = ["ArrayLike", "DTypeLike"]

DType = np.dtype

# Scalars that convert to arrays and may be static arguments.
StaticScalar = Union[np.bool_, np.number, bool, int, float, complex]

# What converts implicitly to a standard array: not sequences, not strings, not keys.
ArrayLike = Union[Array, np.ndarray, StaticScalar]


@typing.runtime_checkable
class SupportsDType(Protocol):
  """Anything with a ``dtype`` attribute (``jnp.float32``, an array, ...)."""

  @property
  def dtype(self, /) -> DType: ...


DTypeLike = Union[
    str,            # 'float32', 'int32'
    type[Any],      # np.float32, float
    np.dtype,       # np.dtype('float32')
    SupportsDType,  # jnp.float32
]

"""`jax._src.literals`: JAX's typed host literals, Python scalars and NumPy arrays that
carry a JAX type (TypedInt, TypedFloat, TypedComplex: weakly typed scalars with a
dtype; TypedNdArray: an ndarray with an optional weak type). Libraries test for them
(Equinox counts TypedNdArray as an array).

pyjax never makes them (JAX makes them while tracing). As inputs to pyjax operations a
TypedNdArray acts as its ndarray (its weak type is dropped); the typed scalars are not
accepted (pyjax takes exact Python scalar types), a TypeError says so.
"""
from __future__ import annotations

import numpy as np

from pyjax._src.core import ShapedArray

__all__ = ["TypedComplex", "TypedFloat", "TypedInt", "TypedNdArray",
           "typed_scalar_types"]


def _weak_scalar_aval(dtype) -> ShapedArray:
  return ShapedArray((), dtype, weak_type=True)


class TypedInt(int):
  dtype: np.dtype
  aval: ShapedArray

  def __new__(cls, value: int, dtype):
    v = super().__new__(cls, value)
    v.dtype = np.dtype(dtype)
    v.aval = _weak_scalar_aval(v.dtype)
    return v

  def __repr__(self):
    return f"TypedInt({int(self)}, dtype={self.dtype.name})"

  def __getnewargs__(self):
    return (int(self), self.dtype)


class TypedFloat(float):
  __slots__ = ("dtype", "aval")

  def __new__(cls, value: float, dtype):
    v = super().__new__(cls, value)
    v.dtype = np.dtype(dtype)
    v.aval = _weak_scalar_aval(v.dtype)
    return v

  def __repr__(self):
    return f"TypedFloat({float(self)}, dtype={self.dtype.name})"

  def __str__(self):
    return str(float(self))

  def __getnewargs__(self):
    return (float(self), self.dtype)


class TypedComplex(complex):
  __slots__ = ("dtype", "aval")

  def __new__(cls, value: complex, dtype):
    v = super().__new__(cls, value)
    v.dtype = np.dtype(dtype)
    v.aval = _weak_scalar_aval(v.dtype)
    return v

  def __repr__(self):
    return f"TypedComplex({complex(self)}, dtype={self.dtype.name})"

  def __getnewargs__(self):
    return (complex(self), self.dtype)


typed_scalar_types: set[type] = {TypedInt, TypedFloat, TypedComplex}


class TypedNdArray(np.ndarray):
  """A host ndarray with a JAX aval (possibly weakly typed); NumPy operations on it
  return plain ndarrays."""
  __slots__ = ("_aval", "_weak_type")

  def __new__(cls, val, aval: ShapedArray | None = None):
    obj = np.asarray(val).view(cls)
    if aval is not None:
      obj._aval = aval
    return obj

  def __array_finalize__(self, obj):
    self._aval = None
    self._weak_type = obj.aval.weak_type if isinstance(obj, TypedNdArray) else False

  @property
  def aval(self) -> ShapedArray:
    if self._aval is None:
      self._aval = ShapedArray(self.shape, self.dtype, weak_type=self._weak_type)
    return self._aval

  @property
  def weak_type(self) -> bool:
    return self.aval.weak_type

  @property
  def val(self) -> np.ndarray:
    return np.asarray(self)

  def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
    inputs = tuple(np.asarray(x) if isinstance(x, TypedNdArray) else x for x in inputs)
    if "out" in kwargs:
      kwargs["out"] = tuple(np.asarray(x) if isinstance(x, TypedNdArray) else x
                            for x in kwargs["out"])
    return getattr(ufunc, method)(*inputs, **kwargs)

  def __repr__(self):
    prefix = "TypedNdArray("
    dtype_str = (f"dtype={self.dtype.name}, weak_type=True)" if self.aval.weak_type
                 else f"dtype={self.dtype.name})")
    width = np.get_printoptions()["linewidth"]
    if self.size == 0:
      s = f"[], shape={self.shape}"
    else:
      s = np.array2string(np.asarray(self), prefix=prefix, suffix=",", separator=", ",
                          max_line_width=width)
    last_line_len = len(s) - s.rfind("\n") + 1
    sep = " " * len(prefix) if last_line_len + len(dtype_str) + 1 > width else " "
    return f"{prefix}{s},{sep}{dtype_str}"

  # (JAX's passes the weak type where the aval goes, so its copies break: here the aval.)
  def __reduce__(self):
    return (TypedNdArray, (np.asarray(self), self.aval))

  def __getnewargs__(self):
    return (np.asarray(self), self.aval)

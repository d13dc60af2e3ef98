"""JAX's scalar type objects: ``jnp.float32(1.5)`` makes a 0-d Array, and
``jnp.float32`` works wherever a dtype is expected (it has a ``dtype``)."""
from __future__ import annotations

import numpy as np

from pyjax._src import dtypes
from pyjax._src.numpy.util import array


class _ScalarMeta(type):
  def __hash__(cls):
    return hash(cls.dtype.type)

  def __eq__(cls, other):
    return cls is other or other is cls.dtype.type or other == cls.dtype

  def __ne__(cls, other):
    return not cls == other

  def __call__(cls, x):
    return array(x, dtype=cls.dtype)

  def __instancecheck__(cls, instance):
    return isinstance(instance, cls.dtype.type)


def _make(name, dt):
  return _ScalarMeta(name, (object,), {"dtype": np.dtype(dt), "__module__": "pyjax.numpy"})


bool_ = _make("bool", np.bool_)
bool = bool_  # noqa: A001  (jnp.bool, as JAX)
int8, int16, int32, int64 = (_make(f"int{b}", f"int{b}") for b in (8, 16, 32, 64))
uint8, uint16, uint32, uint64 = (_make(f"uint{b}", f"uint{b}") for b in (8, 16, 32, 64))
float16, float32, float64 = (_make(f"float{b}", f"float{b}") for b in (16, 32, 64))
bfloat16 = _make("bfloat16", dtypes.bfloat16)
complex64, complex128 = _make("complex64", np.complex64), _make("complex128", np.complex128)
float8_e4m3fn = _make("float8_e4m3fn", dtypes.float8_e4m3fn)
float8_e5m2 = _make("float8_e5m2", dtypes.float8_e5m2)
# the other ml_dtypes types JAX names (IREE compiles few of them: jit says so)
float8_e3m4 = _make("float8_e3m4", dtypes.float8_e3m4)
float8_e4m3 = _make("float8_e4m3", dtypes.float8_e4m3)
float8_e4m3b11fnuz = _make("float8_e4m3b11fnuz", dtypes.float8_e4m3b11fnuz)
float8_e4m3fnuz = _make("float8_e4m3fnuz", dtypes.float8_e4m3fnuz)
float8_e5m2fnuz = _make("float8_e5m2fnuz", dtypes.float8_e5m2fnuz)
float8_e8m0fnu = _make("float8_e8m0fnu", dtypes.float8_e8m0fnu)
float4_e2m1fn = _make("float4_e2m1fn", dtypes.float4_e2m1fn)
float6_e2m3fn = _make("float6_e2m3fn", dtypes.float6_e2m3fn)
float6_e3m2fn = _make("float6_e3m2fn", dtypes.float6_e3m2fn)
int1, int2, int4 = (_make(f"int{b}", getattr(dtypes, f"int{b}")) for b in (1, 2, 4))
uint1, uint2, uint4 = (_make(f"uint{b}", getattr(dtypes, f"uint{b}")) for b in (1, 2, 4))
int_, uint, float_, complex_ = int64, uint64, float64, complex128
single, double, csingle, cdouble = float32, float64, complex64, complex128

__all__ = ["bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "bfloat16", "complex64", "complex128",
           "float8_e4m3fn", "float8_e5m2", "float8_e3m4", "float8_e4m3",
           "float8_e4m3b11fnuz", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
           "float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn", "int1", "int2", "int4",
           "uint1", "uint2", "uint4", "bool", "int_", "uint", "float_", "complex_", "single",
           "double", "csingle", "cdouble"]

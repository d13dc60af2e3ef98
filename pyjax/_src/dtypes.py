"""JAX's dtype system: supported dtypes, canonicalization and type promotion.

JAX differs from NumPy in (a) the set of supported dtypes (bfloat16, float8,
int4, float0, ...), (b) 64-bit "canonicalization" (with ``jax_enable_x64`` off,
64-bit types are narrowed to 32 bits) and (c) type promotion, which follows the
lattice of JAX's "Type promotion semantics" doc, including *weak types*:
Python scalars take part in promotion as the weak nodes ``i*``, ``f*``, ``c*``
and never widen a strongly-typed operand of the same kind.

Hot paths (``canonicalize_dtype``, ``result_type``, ``promote_types``,
``issubdtype``) are memoized in plain dicts.  Caches that depend on
configuration are cleared when ``jax_enable_x64`` or
``jax_numpy_dtype_promotion`` change.
"""
from __future__ import annotations

import abc
import warnings
from typing import Any

import ml_dtypes
import numpy as np

from pyjax._src.config import config

# ---------------------------------------------------------------------------
# Dtype constants
# ---------------------------------------------------------------------------

bool_ = np.dtype(np.bool_)
int8, int16, int32, int64 = map(np.dtype, ("int8", "int16", "int32", "int64"))
uint8, uint16, uint32, uint64 = map(np.dtype, ("uint8", "uint16", "uint32", "uint64"))
float16, float32, float64 = map(np.dtype, ("float16", "float32", "float64"))
complex64, complex128 = np.dtype("complex64"), np.dtype("complex128")
bfloat16 = np.dtype(ml_dtypes.bfloat16)

# Trivial vector-space dtype for tangents of int/bool primals.
float0 = np.dtype([("float0", np.void, 0)])

DType = np.dtype  # JAX's alias (jax._src.typing.DType); Flax annotates with it


class extended(np.generic):
  """Scalar class of extended dtypes, for ``issubdtype`` only (never instantiated)."""


class prng_key(extended):
  """Scalar class of PRNG key dtypes, for ``issubdtype`` only (never instantiated)."""


class ExtendedDType(abc.ABC):
  """A dtype NumPy does not know (typed PRNG keys' ``key<fry>``): its ``type`` is a
  subclass of ``extended``, so ``issubdtype`` places it in NumPy's hierarchy."""

  @property
  @abc.abstractmethod
  def type(self) -> type: ...

  _rules: Any = None


def _ml(name):
  t = getattr(ml_dtypes, name, None)
  return None if t is None else np.dtype(t)


# Narrow floats, in JAX's order (fp4, fp6, fp8). Missing ones are None.
float4_e2m1fn = _ml("float4_e2m1fn")
float6_e2m3fn = _ml("float6_e2m3fn")
float6_e3m2fn = _ml("float6_e3m2fn")
float8_e3m4 = _ml("float8_e3m4")
float8_e4m3 = _ml("float8_e4m3")
float8_e8m0fnu = _ml("float8_e8m0fnu")
float8_e4m3b11fnuz = _ml("float8_e4m3b11fnuz")
float8_e4m3fn = _ml("float8_e4m3fn")
float8_e4m3fnuz = _ml("float8_e4m3fnuz")
float8_e5m2 = _ml("float8_e5m2")
float8_e5m2fnuz = _ml("float8_e5m2fnuz")
int1, uint1 = _ml("int1"), _ml("uint1")
int2, uint2 = _ml("int2"), _ml("uint2")
int4, uint4 = _ml("int4"), _ml("uint4")

_present = lambda *ds: [d for d in ds if d is not None]
_float4_dtypes = _present(float4_e2m1fn)
_float6_dtypes = _present(float6_e2m3fn, float6_e3m2fn)
_float8_dtypes = _present(float8_e3m4, float8_e4m3, float8_e8m0fnu,
                          float8_e4m3b11fnuz, float8_e4m3fn, float8_e4m3fnuz,
                          float8_e5m2, float8_e5m2fnuz)
# ml_dtypes floats: not subclasses of np.floating, kind 'V'.
_custom_float_dtypes = [*_float4_dtypes, *_float6_dtypes, *_float8_dtypes, bfloat16]
_small_float_dtypes = _custom_float_dtypes[:-1]  # fp4/fp6/fp8: no implicit promotion
# Sub-byte integers (ml_dtypes, kind 'V'); int1/uint1 only on new ml_dtypes.
_signed_intn = _present(int1, int2, int4)
_unsigned_intn = _present(uint1, uint2, uint4)
_intn_dtypes = _signed_intn + _unsigned_intn

_signed_types = [*_signed_intn, int8, int16, int32, int64]
_unsigned_types = [*_unsigned_intn, uint8, uint16, uint32, uint64]
_float_types = [*_custom_float_dtypes, float16, float32, float64]
_complex_types = [complex64, complex128]
_jax_types = [bool_, *_unsigned_types, *_signed_types, *_float_types, *_complex_types]
# Every dtype a pyjax array may have (float0 cannot take part in promotion).
_jax_dtype_set = frozenset([*_jax_types, float0])

_custom_float_set = frozenset(_custom_float_dtypes)
# Concrete np.dtype subclasses of supported dtypes: `type(d) in` this set is a
# much faster test than isinstance(d, np.dtype) (which goes through a metaclass).
_dtype_classes = frozenset(type(d) for d in _jax_dtype_set)
_intn_set = frozenset(_intn_dtypes)
_signed_intn_set = frozenset(_signed_intn)

# Abstract scalar classes, for ``issubdtype(x, floating)`` etc.
generic, number, inexact = np.generic, np.number, np.inexact
floating, complexfloating = np.floating, np.complexfloating
integer, signedinteger, unsignedinteger = np.integer, np.signedinteger, np.unsignedinteger
character, flexible = np.character, np.flexible

# Python scalar types -> their (uncanonicalized) dtypes.
python_scalar_dtypes: dict[type, np.dtype] = {
    bool: bool_, int: int64, float: float64, complex: complex128}
python_scalar_types_to_dtypes = python_scalar_dtypes
python_scalar_types = frozenset(python_scalar_dtypes)

iinfo = ml_dtypes.iinfo
finfo = ml_dtypes.finfo


class TypePromotionError(ValueError):
  """Raised when JAX type promotion fails."""


# ---------------------------------------------------------------------------
# Canonicalization
# ---------------------------------------------------------------------------

_to_32bit = {int64: int32, uint64: uint32, float64: float32, complex128: complex64}


def default_int_dtype() -> np.dtype:
  return int64 if config.jax_enable_x64 else int32


def default_uint_dtype() -> np.dtype:
  return uint64 if config.jax_enable_x64 else uint32


def default_float_dtype() -> np.dtype:
  return float64 if config.jax_enable_x64 else float32


def default_complex_dtype() -> np.dtype:
  return complex128 if config.jax_enable_x64 else complex64


_default_for_pytype = {bool: lambda: bool_, int: default_int_dtype,
                       float: default_float_dtype, complex: default_complex_dtype}
# Keyed by _kind() below.
_default_for_kind = {"b": lambda: bool_, "i": default_int_dtype, "u": default_uint_dtype,
                     "f": default_float_dtype, "c": default_complex_dtype}


def _invalid_dtype_error(dt) -> TypeError:
  return TypeError(f"Dtype {dt} is not a valid JAX array type. Only arrays of "
                   "numeric types are supported by JAX.")


def _np_dtype(x) -> np.dtype:
  """np.dtype(x), but Python ``int``/``float``/... map to JAX defaults."""
  if isinstance(x, type) and x in _default_for_pytype:
    return _default_for_pytype[x]()
  if x is None:
    return default_float_dtype()
  try:
    return np.dtype(x)
  except TypeError as e:
    if isinstance(x, ExtendedDType):
      raise ValueError(f"Internal: canonicalize_dtype called on extended dtype {x} with "
                       "allow_extended_dtype=False") from None
    raise TypeError(f"dtype {x!r} not understood") from e


_canon_cache: dict = {}  # dtype-like -> canonical np.dtype (per x64 setting)


def canonicalize_dtype(dtype) -> np.dtype:
  """Maps ``dtype`` to the dtype JAX actually uses under the current x64 flag.

  With x64 disabled: int64->int32, uint64->uint32, float64->float32,
  complex128->complex64. Python ``int``/``float``/``complex`` map to the default
  types. Raises TypeError for dtypes JAX does not support (object, str, ...).
  """
  try:
    return _canon_cache[dtype]
  except (KeyError, TypeError):  # TypeError: unhashable dtype specifier
    pass
  dt = _np_dtype(dtype)
  if dt not in _jax_dtype_set:
    raise _invalid_dtype_error(dt)
  out = dt if config.jax_enable_x64 else _to_32bit.get(dt, dt)
  if dtype is not None and len(_canon_cache) < 4096:  # (bounded: any string may come)
    try:
      _canon_cache[dtype] = out
    except TypeError:
      pass
  return out


# ---------------------------------------------------------------------------
# dtype() of values / weak types
# ---------------------------------------------------------------------------

def is_python_scalar(x) -> bool:
  """True for Python bool/int/float/complex, and weakly-typed 0-d arrays."""
  if type(x) in python_scalar_dtypes:
    return True
  return bool(_weak_attr(x) and getattr(x, "ndim", None) == 0)


def _weak_attr(x) -> bool:
  w = getattr(x, "weak_type", None)
  if w is None:
    w = getattr(getattr(x, "aval", None), "weak_type", False)
  return bool(w)


def is_weakly_typed(x) -> bool:
  """Python int/float/complex are weak (bool is not); otherwise ``x.weak_type``."""
  t = type(x)
  if t is int or t is float or t is complex:
    return True
  return _weak_attr(x)  # False for bool and NumPy values (no weak_type)


_dtype_like_cache: dict = {}  # hashable dtype specifier -> uncanonicalized np.dtype


def dtype(x: Any, canonicalize: bool = False) -> np.dtype:
  """Returns the dtype of a value (scalar, array, object with ``.dtype``) or
  of a dtype specifier (string, scalar type, np.dtype, Python type).

  Python scalars and Python scalar types give int64/float64/complex128/bool
  before canonicalization, as in JAX.
  """
  t = type(x)
  dt = python_scalar_dtypes.get(t)
  if dt is None:
    if x is None:
      raise ValueError(f"Invalid argument to dtype: {x}.")
    if t in _dtype_classes:
      dt = x
    elif isinstance(x, (str, type)):
      try:
        dt = _dtype_like_cache[x]
      except KeyError:
        # (np.dtype objects are falsy, so no `or` here.)
        dt = python_scalar_dtypes[x] if x in python_scalar_dtypes else np.dtype(x)
        if len(_dtype_like_cache) < 4096:  # (bounded: "S1", "S2", ... are dtypes too)
          _dtype_like_cache[x] = dt
    else:
      dt = getattr(x, "dtype", None)  # arrays, NumPy scalars, tracers, ...
      if type(dt) not in _dtype_classes and not isinstance(dt, np.dtype):
        if isinstance(x, np.dtype):  # an unsupported dtype: rejected below
          dt = x
        else:
          try:
            dt = np.result_type(x)
          except TypeError as err:
            raise TypeError(f"Cannot determine dtype of {x}") from err
    if dt not in _jax_dtype_set:
      raise TypeError(f"Value '{x}' with dtype {dt} is not a valid JAX array type. "
                      "Only arrays of numeric types are supported by JAX.")
  return canonicalize_dtype(dt) if canonicalize else dt


def _kind(dt: np.dtype) -> str:
  """NumPy-style kind letter ('b','i','u','f','c'), correct for ml_dtypes."""
  if dt in _custom_float_set:
    return "f"
  if dt in _intn_set:
    return "i" if dt in _signed_intn_set else "u"
  return dt.kind


def scalar_type_of(x) -> type:
  """The Python scalar type (bool/int/float/complex) associated with ``x``."""
  k = _kind(dtype(x))
  try:
    return {"b": bool, "i": int, "u": int, "f": float, "c": complex}[k]
  except KeyError:
    raise TypeError(f"Invalid scalar value {x}") from None


def scalar_type_to_dtype(typ: type, value: Any = None) -> np.dtype:
  """Canonical dtype for a Python scalar type; checks ``int`` values fit."""
  dt = canonicalize_dtype(python_scalar_dtypes[typ])
  if typ is int and value is not None:
    info = np.iinfo(dt)
    if value < info.min or value > info.max:
      raise OverflowError(f"Python integer {value} out of bounds for {dt}")
  return dt


def coerce_to_array(x: Any, dtype=None) -> np.ndarray:
  """np.asarray(x, dtype), giving Python scalars JAX's default dtypes."""
  if dtype is None and type(x) in python_scalar_dtypes:
    dtype = scalar_type_to_dtype(type(x), x)
  return np.asarray(x, dtype)


# ---------------------------------------------------------------------------
# issubdtype / isdtype
# ---------------------------------------------------------------------------

_issubdtype_cache: dict = {}
_signed_intn_types = frozenset(d.type for d in _signed_intn)
_unsigned_intn_types = frozenset(d.type for d in _unsigned_intn)
_custom_float_types = frozenset(d.type for d in _custom_float_dtypes)


def _sctype(x) -> type:
  # Note: as in np.issubdtype, Python `float` means float64 here (not x64-aware).
  if isinstance(x, type) and issubclass(x, np.generic):
    return x
  return np.dtype(x).type


def issubdtype(a, b) -> bool:
  """np.issubdtype that also places bfloat16/float8 under np.floating and
  int4/uint4 (etc.) under np.signedinteger/np.unsignedinteger."""
  key = (a, b)
  try:
    return _issubdtype_cache[key]
  except (KeyError, TypeError):
    pass
  if isinstance(b, type) and issubclass(b, extended):  # extended dtypes: own hierarchy
    out = issubclass(a.type if isinstance(a, ExtendedDType) else _sctype(a), b)
  elif isinstance(b, ExtendedDType):
    out = isinstance(a, ExtendedDType) and a == b
  else:
    out = _issubdtype_np(a.type if isinstance(a, ExtendedDType) else a, b)
  try:
    if len(_issubdtype_cache) < 4096:
      _issubdtype_cache[key] = out
  except TypeError:
    pass
  return out


def _issubdtype_np(a, b) -> bool:
  a_t, b_t = _sctype(a), _sctype(b)
  if a_t in _custom_float_types:
    out = b_t in (a_t, np.floating, np.inexact, np.number, np.generic)
  elif a_t in _signed_intn_types:
    out = b_t in (a_t, np.signedinteger, np.integer, np.number, np.generic)
  elif a_t in _unsigned_intn_types:
    out = b_t in (a_t, np.unsignedinteger, np.integer, np.number, np.generic)
  else:
    out = bool(np.issubdtype(a_t, b_t))
  return out


_dtype_kinds = {
    "bool": {bool_},
    "signed integer": set(_signed_types),
    "unsigned integer": set(_unsigned_types),
    "integral": {*_signed_types, *_unsigned_types},
    "real floating": set(_float_types),
    "complex floating": set(_complex_types),
    "numeric": {*_signed_types, *_unsigned_types, *_float_types, *_complex_types},
}


def isdtype(dtype, kind) -> bool:
  """Array-API ``isdtype``: is ``dtype`` of ``kind`` (str, dtype, or tuple)?"""
  the_dtype = np.dtype(dtype)
  options = set()
  for k in kind if isinstance(kind, tuple) else (kind,):
    if isinstance(k, str) and k in _dtype_kinds:
      options |= _dtype_kinds[k]
      continue
    try:
      options.add(np.dtype(k))
    except TypeError as e:
      if isinstance(k, str):
        raise ValueError(f"Unrecognized kind={k!r} expected one of "
                         f"{list(_dtype_kinds)}, or a compatible input for jnp.dtype()")
      raise TypeError(f"Expected kind to be a dtype, string, or tuple; got kind={k!r}") from e
  return the_dtype in options


def supports_inf(dtype) -> bool:
  """True if the dtype can represent infinity."""
  dt = np.dtype(dtype)
  if dt in (float8_e4m3b11fnuz, float8_e4m3fn, float8_e4m3fnuz, float8_e5m2fnuz):
    return False
  return issubdtype(dt, np.inexact)


def itemsize_bits(dtype) -> int:
  """Bits per element (correct for sub-byte types; bool counts as 8)."""
  if dtype is None:
    raise ValueError("dtype cannot be None.")
  if isinstance(dtype, ExtendedDType):
    raise ValueError(f"unexpected input: dtype={dtype}")
  dt = np.dtype(dtype)
  k = _kind(dt)
  if k == "b":
    return 8
  if k in "iu":
    return iinfo(dt).bits
  if k == "f":
    return finfo(dt).bits
  if k == "c":
    return 2 * finfo(dt).bits
  raise ValueError(f"unexpected input: dtype={dt}")


# ---------------------------------------------------------------------------
# Inexact / complex / numeric conversions
# ---------------------------------------------------------------------------

# Narrow ints promote to float32 (as in JAX, for backward compatibility), only
# 64-bit ints promote to float64.
_dtype_to_inexact = {d: float32 for d in [bool_, *_intn_dtypes, int8, uint8, int16,
                                          uint16, int32, uint32]}
_dtype_to_inexact.update({int64: float64, uint64: float64})


def to_numeric_dtype(dtype) -> np.dtype:
  """bool -> int32; numeric dtypes unchanged."""
  dt = _np_dtype(dtype)
  return int32 if dt == bool_ else dt


def to_inexact_dtype(dtype) -> np.dtype:
  """Bools and ints -> a float type (64-bit ints -> default float); inexact
  dtypes are returned unchanged."""
  dt = _np_dtype(dtype)
  out = _dtype_to_inexact.get(dt)
  return dt if out is None else canonicalize_dtype(out)


def to_floating_dtype(dtype) -> np.dtype:
  """Like to_inexact_dtype, but complex -> its real counterpart."""
  return finfo(to_inexact_dtype(dtype)).dtype


def to_complex_dtype(dtype) -> np.dtype:
  """The complex dtype matching ``dtype``'s precision (after to_inexact_dtype)."""
  ftype = to_inexact_dtype(dtype)
  out = complex128 if ftype in (float64, complex128) else complex64
  return canonicalize_dtype(out)


# ---------------------------------------------------------------------------
# Type promotion lattice
# ---------------------------------------------------------------------------

class _WeakNode:
  """A weak lattice node (``i*``, ``f*``, ``c*``): the type of a Python scalar.

  Plain objects (identity hash/eq) are used instead of the Python types
  themselves because np.dtype.__eq__ treats ``int`` as equal to int64.
  """
  __slots__ = ("name", "pytype")

  def __init__(self, name, pytype):
    self.name, self.pytype = name, pytype

  def __repr__(self):
    return self.name


_weak_int, _weak_float, _weak_complex = (
    _WeakNode("int", int), _WeakNode("float", float), _WeakNode("complex", complex))
_weak_nodes = {int: _weak_int, float: _weak_float, complex: _weak_complex}
_weak_for_kind = {"i": _weak_int, "u": _weak_int, "f": _weak_float, "c": _weak_complex}


def _type_promotion_lattice(strict: bool, x64: bool) -> dict:
  """The promotion lattice as a DAG: node -> immediately higher nodes."""
  i_, f_, c_ = _weak_int, _weak_float, _weak_complex
  if strict:
    return {i_: [f_, *_unsigned_types, *_signed_types], f_: [c_, *_float_types],
            c_: list(_complex_types), **{t: [] for t in _jax_types}}
  return {
      bool_: [i_],
      i_: [uint8, int8, *_intn_dtypes],
      uint8: [int16, uint16],
      uint16: [int32, uint32],
      # Without x64, avoid forming a 64-bit type from 32-bit inputs:
      # u32 x i32 -> i32 (JAX >= 0.7), and with x64 -> i64.
      uint32: [int64, uint64] if x64 else [int32, uint64],
      uint64: [f_],
      int8: [int16],
      int16: [int32],
      int32: [int64],
      int64: [f_],
      f_: [*_small_float_dtypes, bfloat16, float16, c_],
      bfloat16: [float32],
      float16: [float32],
      float32: [float64, complex64],
      float64: [complex128],
      c_: [complex64],
      complex64: [complex128],
      complex128: [],
      **{t: [] for t in [*_small_float_dtypes, *_intn_dtypes]},
  }


def _upper_bounds(strict: bool, x64: bool) -> dict:
  """Transitive closure of the lattice: node -> set of nodes >= it."""
  lattice = _type_promotion_lattice(strict, x64)
  ub = {n: {n} for n in lattice}
  changed = True
  while changed:
    changed = False
    for n in lattice:
      new = set().union(*(lattice[m] for m in ub[n])) - ub[n]
      if new:
        ub[n] |= new
        changed = True
  return ub


_UB = {("standard", True): _upper_bounds(False, True),
       ("standard", False): _upper_bounds(False, False),
       ("strict", True): _upper_bounds(True, True),
       ("strict", False): _upper_bounds(True, True)}


def _least_upper_bound(*nodes):
  """Least upper bound of lattice nodes under the current config."""
  mode = config.jax_numpy_dtype_promotion
  try:
    UB = _UB[(mode, bool(config.jax_enable_x64))]
  except KeyError:
    raise ValueError(f"Unexpected value of jax_numpy_dtype_promotion={mode!r}") from None
  N = set(nodes)
  try:
    bounds = [UB[n] for n in N]
  except KeyError:
    bad = next(n for n in N if n not in UB)
    raise ValueError(f"dtype={bad} is not a valid dtype for JAX type promotion.") from None
  CUB = set.intersection(*bounds)
  # If an input is itself a common upper bound it is the LUB; otherwise the
  # LUB is the common upper bound that is below all the others.
  LUB = (CUB & N) or {c for c in CUB if CUB <= UB[c]}
  if len(LUB) == 1:
    return LUB.pop()
  names = tuple(str(n) for n in nodes)
  if LUB:
    raise TypePromotionError(
        f"Internal Type Promotion error: {names} do not have a unique least upper "
        f"bound on the specified lattice; options are {LUB}.")
  if mode == "strict":
    msg = (f"Input dtypes {names} have no available implicit dtype promotion path "
           "when jax_numpy_dtype_promotion=strict. Try explicitly casting inputs to "
           "the desired output type, or set jax_numpy_dtype_promotion=standard.")
  else:
    for group, what, cast in [(_float8_dtypes, "8-bit floats", "float32"),
                              (_float6_dtypes, "6-bit floats", "float32"),
                              (_float4_dtypes, "4-bit floats", "float32"),
                              (_intn_dtypes, "1-bit, 2-bit and 4-bit integers", "int32")]:
      if any(n in group for n in nodes):
        msg = (f"Input dtypes {names} have no available implicit dtype promotion "
               f"path. To avoid unintended promotion, {what} do not support implicit "
               "promotion. If you'd like your inputs to be promoted to another type, "
               f"you can do so explicitly using e.g. x.astype('{cast}')")
        break
    else:
      msg = (f"Input dtypes {names} have no available implicit dtype promotion path. "
             "Try explicitly casting inputs to the desired output type.")
  raise TypePromotionError(msg)


def _node_dtype(node) -> np.dtype:
  """Canonical dtype of a lattice node (weak nodes -> default types)."""
  if type(node) is _WeakNode:
    return _default_for_pytype[node.pytype]()
  return canonicalize_dtype(node)


def _jax_type(dt: np.dtype, weak: bool):
  """Lattice node for a (dtype, weak_type) pair."""
  if not weak or dt == bool_:
    return dt
  return _weak_for_kind[_kind(dt)]


_promote_cache: dict = {}


def promote_types(a, b) -> np.dtype:
  """Strong-type promotion of two dtype specifiers (``jnp.promote_types``).

  Python ``int``/``float``/``complex`` act as weak types. The result is not
  canonicalized (e.g. ``promote_types(int64, uint64) == float64`` even with
  x64 off), matching JAX.
  """
  na = _weak_nodes.get(a) if isinstance(a, type) else None
  nb = _weak_nodes.get(b) if isinstance(b, type) else None
  if na is None:
    na = np.dtype(a)
  if nb is None:
    nb = np.dtype(b)
  key = (na, nb)
  try:
    return _promote_cache[key]
  except KeyError:
    pass
  lub = _least_upper_bound(na, nb)
  out = _promote_cache[key] = np.dtype(lub.pytype) if type(lub) is _WeakNode else lub
  return out


def _dtype_and_weak(x):
  """(canonical dtype, weak flag) of a result_type argument."""
  # Fast path: arrays/tracers/NumPy values whose dtype is already in the cache.
  dt = getattr(x, "dtype", None)
  if dt is not None:
    try:
      c = _canon_cache.get(dt)
    except TypeError:  # unhashable .dtype attribute
      c = None
    if c is not None:
      w = getattr(x, "weak_type", None)
      return c, (_weak_attr(x) if w is None else bool(w))
  t = type(x)
  if t is int or t is float or t is complex:
    return _default_for_pytype[t](), True
  if t is bool:
    return bool_, False
  if x is None:
    return default_float_dtype(), False
  if type(dt) in _dtype_classes or isinstance(dt, np.dtype):
    return canonicalize_dtype(dt), _weak_attr(x)
  # dtype specifiers; the Python types int/float/complex are weak.
  return canonicalize_dtype(dtype(x)), (t is type and x in _weak_nodes)


_lattice_cache: dict = {}  # tuple of (dtype, weak) -> (dtype, weak)


def _lattice_result(key) -> tuple[np.dtype, bool]:
  dtypes = [d for d, _ in key]
  weaks = [w for _, w in key]
  if len(key) == 1:
    out, weak = key[0]
  elif len(set(dtypes)) == 1 and not all(weaks):
    out, weak = dtypes[0], False
  elif all(weaks) and config.jax_numpy_dtype_promotion != "strict":
    # All weak: promote the strong counterparts and re-apply weakness (avoids
    # returning non-canonical weak types such as weak int16).
    out, weak = _node_dtype(_least_upper_bound(*dtypes)), True
  else:
    lub = _least_upper_bound(*(_jax_type(d, w) for d, w in key))
    out, weak = _node_dtype(lub), type(lub) is _WeakNode
  return out, weak and out != bool_


def lattice_result_type(*args) -> tuple[np.dtype, bool]:
  """(dtype, weak_type) of the result of promoting ``args`` on the lattice.

  This is what JAX's jnp operations use: unlike ``result_type`` it keeps a
  weak non-default dtype (e.g. weak float16) as is.
  """
  key = tuple(map(_dtype_and_weak, args))
  try:
    return _lattice_cache[key]
  except KeyError:
    pass
  out = _lattice_result(key)
  if len(_lattice_cache) > 8192:
    _lattice_cache.clear()
  _lattice_cache[key] = out
  return out


def result_type(*args, return_weak_type_flag: bool = False):
  """JAX type promotion of values and/or dtype specifiers.

  Python scalars (and the types int/float/complex) are weakly typed; the
  result is canonicalized. With ``return_weak_type_flag`` returns
  ``(dtype, weak_type)``.
  """
  if not args:
    raise ValueError("at least one array or dtype is required")
  dt, weak = lattice_result_type(*args)
  if weak:  # a weak result always carries the default dtype of its kind
    dt = _default_for_kind[_kind(dt)]()
  return (dt, weak) if return_weak_type_flag else dt


def _clear_caches(_=None):
  _canon_cache.clear()
  _promote_cache.clear()
  _lattice_cache.clear()


config.on_update("jax_enable_x64", _clear_caches)
config.on_update("jax_numpy_dtype_promotion", _clear_caches)


# ---------------------------------------------------------------------------
# User-supplied dtypes
# ---------------------------------------------------------------------------

def check_valid_dtype(dtype) -> None:
  if dtype not in _jax_dtype_set:
    raise _invalid_dtype_error(dtype)


def _check_user_dtype(dtype, fun_name, stacklevel):
  if isinstance(dtype, type) and dtype in _default_for_pytype:
    return _default_for_pytype[dtype]()  # Python types never warn
  if not isinstance(dtype, (np.dtype, str, type)) and isinstance(
      getattr(dtype, "dtype", None), np.dtype):
    raise ValueError("Passing an array as a dtype argument is no longer supported; "
                     "instead of dtype=arr use dtype=arr.dtype.")
  np_dtype = np.dtype(dtype)
  if np_dtype not in _jax_dtype_set:
    msg = f"JAX only supports number and bool dtypes, got dtype {dtype}"
    raise TypeError(msg + (f" in {fun_name}" if fun_name else ""))
  canonical = canonicalize_dtype(np_dtype)
  if canonical != np_dtype:
    where = f" requested in {fun_name}" if fun_name else ""
    warnings.warn(
        f"Explicitly requested dtype {np_dtype}{where} is not available, and will "
        f"be truncated to dtype {canonical.name}. To enable more dtypes, set the "
        "jax_enable_x64 configuration option or the JAX_ENABLE_X64 shell "
        "environment variable. See https://github.com/jax-ml/jax#current-gotchas "
        "for more.", stacklevel=stacklevel)
  return canonical


def check_user_dtype_supported(dtype, fun_name=None) -> None:
  """Validates a user-requested dtype: TypeError if unsupported, UserWarning if
  it is a 64-bit dtype that will be truncated because x64 is disabled."""
  if dtype is not None:
    _check_user_dtype(dtype, fun_name, stacklevel=4)


def check_and_canonicalize_user_dtype(dtype, fun_name=None) -> np.dtype:
  """check_user_dtype_supported, then returns the canonical dtype (Python
  scalar types give the default dtypes)."""
  if dtype is None:
    raise ValueError("dtype must be specified.")
  return _check_user_dtype(dtype, fun_name, stacklevel=4)


# ---------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------

_short_names: dict = {float0: "float0"}


def short_dtype_name(dtype) -> str:
  """Short dtype name used in jaxprs: f32, bf16, i32, u8, c64, bool, f8_e4m3fn."""
  try:
    return _short_names[dtype]
  except KeyError:
    pass
  if isinstance(dtype, ExtendedDType):
    return dtype.name
  name = (np.dtype(dtype).name.replace("float", "f").replace("uint", "u")
          .replace("int", "i").replace("complex", "c"))
  _short_names[dtype] = name
  return name

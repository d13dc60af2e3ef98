"""Tests for pyjdtypes.

The promotion table in tests/data/promotion_table.json was generated from real
JAX by running this file as a script:

    python tests/_src/test_dtypes.py --regenerate

The generator also asserts that ``jnp.add`` produces exactly the dtype and
weak_type that ``jax.dtypes.result_type`` reports for every pair. The table
tests always run; the oracle tests compare against live JAX when installed.
"""
import contextlib
import json
import os
import sys
import warnings

import ml_dtypes
import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from pyjax._src import dtypes  # noqa: E402
from pyjax._src.config import config  # noqa: E402

TABLE_PATH = os.path.join(os.path.dirname(__file__), "..", "data", "promotion_table.json")

STRONG = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
          "int64", "bfloat16", "float16", "float32", "float64", "complex64",
          "complex128"]
WEAK = {"weak_int": 1, "weak_float": 1.0, "weak_complex": 1j}
NAMES = STRONG + list(WEAK)
PY_TYPES = {"weak_int": int, "weak_float": float, "weak_complex": complex}


def value(name):
  """A (NumPy) value of the given table type: Python scalars for weak types."""
  return WEAK[name] if name in WEAK else np.zeros((), dtype=np.dtype(name))


def dtype_spec(name):
  """The dtype specifier for promote_types: Python types for weak entries."""
  return PY_TYPES.get(name, name)


@contextlib.contextmanager
def x64(flag):
  old = config.jax_enable_x64
  config.update("jax_enable_x64", flag)
  try:
    yield
  finally:
    config.update("jax_enable_x64", old)


def _mode(flag):
  return "x64" if flag else "x32"


# ---------------------------------------------------------------------------
# Table generation (run with real JAX; not part of the test run)
# ---------------------------------------------------------------------------

def generate_table():
  import jax
  import jax.numpy as jnp

  def jax_value(name):
    return WEAK[name] if name in WEAK else jnp.zeros((), dtype=name)

  table = {"types": NAMES, "jax_version": jax.__version__}
  for flag in (False, True):
    with jax.enable_x64(flag), warnings.catch_warnings():
      warnings.simplefilter("ignore")
      rt, pt = {}, {}
      for a in NAMES:
        dt, w = jax.dtypes.result_type(value(a), return_weak_type_flag=True)
        rt[a] = [str(dt), bool(w)]
        for b in NAMES:
          dt, w = jax.dtypes.result_type(value(a), value(b), return_weak_type_flag=True)
          out = jnp.add(jax_value(a), jax_value(b))
          # result_type and the actual op must agree (they do in jax 0.10.2).
          assert (out.dtype, out.aval.weak_type) == (dt, w), (a, b, out.aval, dt, w)
          rt[f"{a},{b}"] = [str(dt), bool(w)]
          pt[f"{a},{b}"] = str(jnp.promote_types(dtype_spec(a), dtype_spec(b)))
      table[f"result_type_{_mode(flag)}"] = rt
      table[f"promote_types_{_mode(flag)}"] = pt
  with open(TABLE_PATH, "w") as f:
    json.dump(table, f, indent=0, sort_keys=True)
    f.write("\n")


# ---------------------------------------------------------------------------
# Promotion: checked-in table
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def table():
  with open(TABLE_PATH) as f:
    return json.load(f)


@pytest.mark.parametrize("flag", [False, True])
def test_result_type_matches_table(table, flag):
  expected = table[f"result_type_{_mode(flag)}"]
  with x64(flag):
    bad = []
    for key, (dt, weak) in expected.items():
      args = [value(n) for n in key.split(",")]
      got = dtypes.result_type(*args, return_weak_type_flag=True)
      if (str(got[0]), got[1]) != (dt, weak):
        bad.append((key, (dt, weak), got))
    assert not bad, bad[:10]
    assert len(expected) == len(NAMES) ** 2 + len(NAMES)


@pytest.mark.parametrize("flag", [False, True])
def test_result_type_dtype_specs_match_table(table, flag):
  # Dtype specifiers give the same answers as values (Python types are weak).
  expected = table[f"result_type_{_mode(flag)}"]
  with x64(flag):
    for key, (dt, weak) in expected.items():
      args = [dtype_spec(n) for n in key.split(",")]
      assert (str(dtypes.result_type(*args, return_weak_type_flag=True)[0]), key) == (dt, key)


@pytest.mark.parametrize("flag", [False, True])
def test_promote_types_matches_table(table, flag):
  expected = table[f"promote_types_{_mode(flag)}"]
  with x64(flag):
    for key, dt in expected.items():
      a, b = key.split(",")
      assert (key, str(dtypes.promote_types(dtype_spec(a), dtype_spec(b)))) == (key, dt)


def test_result_type_examples():
  i8 = np.zeros(3, np.int8)
  assert dtypes.result_type(i8, 1) == np.int8
  assert dtypes.result_type(np.zeros(3, np.int32), 2.5) == np.float32
  assert dtypes.result_type(dtypes.bfloat16, np.float16) == np.float32
  assert dtypes.result_type(np.zeros(3, bool), 1, return_weak_type_flag=True) == (np.int32, True)
  assert dtypes.result_type(1, 1.0, return_weak_type_flag=True) == (np.float32, True)
  assert dtypes.result_type(np.uint8, 2) == np.uint8
  assert dtypes.result_type(np.float16, 1.0) == np.float16
  assert dtypes.result_type(True, return_weak_type_flag=True) == (np.bool_, False)
  assert dtypes.result_type(None) == np.float32
  with x64(True):
    assert dtypes.result_type(np.int64, np.uint64, return_weak_type_flag=True) == (np.float64, True)
    assert dtypes.result_type(np.uint32, np.int32) == np.int64
    assert dtypes.result_type(1) == np.int64
  assert dtypes.result_type(np.uint32, np.int32) == np.int32
  with pytest.raises(ValueError, match="at least one array or dtype is required"):
    dtypes.result_type()


class FakeArray:
  def __init__(self, dtype, weak_type=False):
    self.dtype, self.weak_type, self.ndim = np.dtype(dtype), weak_type, 0


def test_result_type_weak_attribute():
  weak_f32 = FakeArray(np.float32, weak_type=True)
  assert dtypes.result_type(weak_f32, np.float16) == np.float16
  assert dtypes.result_type(weak_f32, np.int8) == np.float32
  assert dtypes.result_type(weak_f32, return_weak_type_flag=True) == (np.float32, True)
  assert dtypes.result_type(FakeArray(np.int32, True), 1.0,
                            return_weak_type_flag=True) == (np.float32, True)
  # A weak float16 keeps its dtype on the lattice, but result_type reports the
  # default dtype of a weak result (as JAX does).
  weak_f16 = FakeArray(np.float16, weak_type=True)
  assert dtypes.lattice_result_type(weak_f16, 1) == (np.float16, True)
  assert dtypes.result_type(weak_f16, 1, return_weak_type_flag=True) == (np.float32, True)
  assert dtypes.is_weakly_typed(weak_f32) and not dtypes.is_weakly_typed(FakeArray(np.int8))
  assert dtypes.is_python_scalar(weak_f32) and dtypes.is_python_scalar(3)


def test_narrow_types_do_not_promote():
  f8 = dtypes.float8_e4m3fn
  assert dtypes.result_type(f8, 1.0) == f8
  assert dtypes.result_type(dtypes.int4, 1) == dtypes.int4
  with pytest.raises(dtypes.TypePromotionError, match="8-bit floats"):
    dtypes.result_type(f8, np.float32)
  with pytest.raises(dtypes.TypePromotionError, match="4-bit integers"):
    dtypes.result_type(dtypes.int4, np.int8)
  assert issubclass(dtypes.TypePromotionError, ValueError)


def test_strict_promotion():
  old = config.jax_numpy_dtype_promotion
  config.update("jax_numpy_dtype_promotion", "strict")
  try:
    assert dtypes.result_type(np.int8, 1) == np.int8
    with pytest.raises(dtypes.TypePromotionError, match="strict"):
      dtypes.result_type(np.int8, np.int16)
  finally:
    config.update("jax_numpy_dtype_promotion", old)
  assert dtypes.result_type(np.int8, np.int16) == np.int16


# ---------------------------------------------------------------------------
# Canonicalization and x64
# ---------------------------------------------------------------------------

def test_canonicalize_dtype():
  c = dtypes.canonicalize_dtype
  with x64(False):
    assert [c(t) for t in ("int64", "uint64", "float64", "complex128")] == [
        np.int32, np.uint32, np.float32, np.complex64]
    assert c(int) == np.int32 and c(float) == np.float32 and c(complex) == np.complex64
    assert c(bool) == np.bool_ and c(np.float64) == np.float32
    assert c(dtypes.bfloat16) == dtypes.bfloat16 and c(np.int8) == np.int8
    assert dtypes.default_int_dtype() == np.int32
    assert dtypes.default_uint_dtype() == np.uint32
    assert dtypes.default_float_dtype() == np.float32
    assert dtypes.default_complex_dtype() == np.complex64
  with x64(True):
    assert [c(t) for t in ("int64", "uint64", "float64", "complex128")] == [
        np.int64, np.uint64, np.float64, np.complex128]
    assert c(int) == np.int64 and c(float) == np.float64
    assert dtypes.default_int_dtype() == np.int64
    assert dtypes.default_uint_dtype() == np.uint64
    assert dtypes.default_float_dtype() == np.float64
    assert dtypes.default_complex_dtype() == np.complex128
  assert c(dtypes.float0) == dtypes.float0
  for bad in (object, np.str_, "U5", "datetime64[s]", np.dtype("O")):
    with pytest.raises(TypeError):
      c(bad)


def test_x64_toggle_clears_caches():
  # Interleave calls so stale cache entries would be detected.
  for _ in range(2):
    with x64(True):
      assert dtypes.canonicalize_dtype("float64") == np.float64
      assert dtypes.result_type(1.0, np.int32) == np.float64
      assert dtypes.promote_types(np.uint32, np.int32) == np.int64
    assert dtypes.canonicalize_dtype("float64") == np.float32
    assert dtypes.result_type(1.0, np.int32) == np.float32
    assert dtypes.promote_types(np.uint32, np.int32) == np.int32


def test_dtype_of_values():
  d = dtypes.dtype
  assert d(1) == np.int64 and d(1.0) == np.float64 and d(1j) == np.complex128
  assert d(True) == np.bool_ and d(int) == np.int64
  assert d(1, canonicalize=True) == np.int32
  assert d(np.float64(1), canonicalize=True) == np.float32
  assert d(np.zeros(2, np.int16)) == np.int16
  assert d("bfloat16") == dtypes.bfloat16 and d(ml_dtypes.bfloat16) == dtypes.bfloat16
  assert d(FakeArray(np.uint8)) == np.uint8
  for bad in ([1, 2], np.array(["a"]), "object"):
    with pytest.raises(TypeError):
      d(bad)
  with pytest.raises(ValueError):
    d(None)


def test_weak_and_python_scalars():
  assert dtypes.is_weakly_typed(1) and dtypes.is_weakly_typed(1.0) and dtypes.is_weakly_typed(1j)
  assert not dtypes.is_weakly_typed(True)
  assert not dtypes.is_weakly_typed(np.float32(1)) and not dtypes.is_weakly_typed(np.int64(1))
  assert not dtypes.is_weakly_typed(np.zeros(2))
  assert dtypes.is_python_scalar(True) and not dtypes.is_python_scalar(np.float32(1))
  assert dtypes.python_scalar_dtypes[int] == np.int64
  assert [dtypes.scalar_type_of(t) for t in (np.bool_, np.uint8, np.int32, dtypes.bfloat16,
                                            np.float64, np.complex64, dtypes.int4)] == [
      bool, int, int, float, float, complex, int]
  assert dtypes.scalar_type_of(3.0) is float


# ---------------------------------------------------------------------------
# issubdtype, conversions, names
# ---------------------------------------------------------------------------

def test_issubdtype_custom_types():
  iss = dtypes.issubdtype
  for t in (dtypes.bfloat16, ml_dtypes.bfloat16, dtypes.float8_e4m3fn, "float8_e5m2"):
    assert iss(t, dtypes.floating) and iss(t, dtypes.inexact) and iss(t, dtypes.number)
    assert not iss(t, dtypes.integer) and not iss(t, dtypes.complexfloating)
  assert iss(dtypes.bfloat16, dtypes.bfloat16) and not iss(dtypes.bfloat16, np.float16)
  assert iss(dtypes.int4, dtypes.signedinteger) and not iss(dtypes.int4, dtypes.unsignedinteger)
  assert iss(dtypes.uint4, dtypes.unsignedinteger) and iss(dtypes.uint4, dtypes.integer)
  assert not iss(dtypes.int4, dtypes.floating)
  assert iss(np.float32, dtypes.floating) and iss("int8", np.integer)
  assert iss(np.bool_, dtypes.bool_) and not iss(np.bool_, dtypes.number)
  assert not iss(np.float32, float) and iss(np.float64, float)  # as np.issubdtype
  assert iss(dtypes.float0, np.void)
  assert dtypes.isdtype(dtypes.bfloat16, "real floating")
  assert dtypes.isdtype(np.int8, ("bool", "signed integer"))
  assert not dtypes.isdtype(np.uint8, "signed integer")


def test_inexact_complex_numeric():
  with x64(False):
    assert dtypes.to_inexact_dtype(np.int8) == np.float32
    assert dtypes.to_inexact_dtype(np.bool_) == np.float32
    assert dtypes.to_inexact_dtype(int) == np.float32
    assert dtypes.to_complex_dtype(np.int32) == np.complex64
  with x64(True):
    assert dtypes.to_inexact_dtype(np.int64) == np.float64
    assert dtypes.to_inexact_dtype(np.int8) == np.float32  # as JAX
    assert dtypes.to_complex_dtype(np.float64) == np.complex128
  assert dtypes.to_inexact_dtype(dtypes.bfloat16) == dtypes.bfloat16
  assert dtypes.to_inexact_dtype(np.complex64) == np.complex64
  assert dtypes.to_complex_dtype(dtypes.bfloat16) == np.complex64
  assert dtypes.to_numeric_dtype(np.bool_) == np.int32
  assert dtypes.to_numeric_dtype(np.uint8) == np.uint8
  assert dtypes.finfo(dtypes.bfloat16).bits == 16 and dtypes.iinfo(dtypes.int4).max == 7
  assert dtypes.finfo(np.float32).eps == np.finfo(np.float32).eps
  assert dtypes.itemsize_bits(dtypes.int4) == 4 and dtypes.itemsize_bits(np.complex64) == 64


SHORT_NAMES = {"float32": "f32", "bfloat16": "bf16", "bool": "bool", "int32": "i32",
               "uint8": "u8", "complex64": "c64", "float16": "f16", "float64": "f64",
               "float8_e4m3fn": "f8_e4m3fn", "int4": "i4", "uint4": "u4",
               "complex128": "c128", "uint64": "u64"}


def test_short_dtype_name():
  for name, short in SHORT_NAMES.items():
    assert dtypes.short_dtype_name(np.dtype(name)) == short
  assert dtypes.short_dtype_name(dtypes.float0) == "float0"


def test_float0():
  assert dtypes.float0.itemsize == 0
  assert np.zeros(3, dtypes.float0).nbytes == 0
  assert dtypes.dtype(np.zeros(3, dtypes.float0)) == dtypes.float0
  dtypes.check_user_dtype_supported(dtypes.float0)


def test_check_user_dtype_supported():
  chk = dtypes.check_user_dtype_supported
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    for ok in (None, int, float, complex, bool, np.float32, "bfloat16", dtypes.int4):
      chk(ok, "zeros")
  with pytest.raises(TypeError, match="JAX only supports number and bool dtypes, "
                     "got dtype object in array"):
    chk("object", "array")
  with pytest.raises(TypeError, match="JAX only supports number"):
    chk(np.str_)
  with x64(False):
    msg = ("Explicitly requested dtype float64 requested in zeros is not available, "
           "and will be truncated to dtype float32. To enable more dtypes, set the "
           "jax_enable_x64 configuration option or the JAX_ENABLE_X64 shell "
           "environment variable. See https://github.com/jax-ml/jax#current-gotchas "
           "for more.")
    def zeros():  # stands in for a pyjax API function calling the check
      chk(np.float64, "zeros")
    with pytest.warns(UserWarning) as rec:
      zeros()
    assert str(rec[0].message) == msg
    assert rec[0].filename == __file__  # stacklevel points past zeros() at the caller
    with pytest.warns(UserWarning, match="dtype int64 is not available"):
      chk("int64")
    with pytest.warns(UserWarning, match="truncated to dtype float32"):
      assert dtypes.check_and_canonicalize_user_dtype("float64", "ones") == np.float32
  with x64(True), warnings.catch_warnings():
    warnings.simplefilter("error")
    chk(np.float64, "zeros")
    assert dtypes.check_and_canonicalize_user_dtype(int) == np.int64


def test_public_module():
  from pyjax import dtypes as public
  for name in ["bfloat16", "float0", "canonicalize_dtype", "issubdtype", "iinfo",
               "finfo", "result_type", "promote_types", "is_weakly_typed",
               "scalar_type_of"]:
    assert getattr(public, name) is getattr(dtypes, name)


# ---------------------------------------------------------------------------
# Live oracle: real JAX
# ---------------------------------------------------------------------------

EXTRA = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3b11fnuz", "float8_e4m3fnuz",
         "float8_e5m2fnuz", "float8_e3m4", "float8_e4m3", "float8_e8m0fnu", "int4",
         "uint4", "int2", "uint2", "float4_e2m1fn"]
EXTRA = [n for n in EXTRA if hasattr(ml_dtypes, n)]


def _outcome(fn, *args):
  try:
    dt, weak = fn(*args, return_weak_type_flag=True)
    return str(dt), bool(weak)
  except ValueError as e:  # TypePromotionError
    return type(e).__name__


@pytest.mark.parametrize("flag", [False, True])
def test_result_type_vs_live_jax(flag):
  jax = pytest.importorskip("jax")
  names = NAMES + EXTRA
  with jax.enable_x64(flag), x64(flag), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    bad = []
    for a in names:
      for b in names:
        for args in [(value(a), value(b)), (dtype_spec(a), dtype_spec(b))]:
          want = _outcome(jax.dtypes.result_type, *args)
          got = _outcome(dtypes.result_type, *args)
          if want != got:
            bad.append((a, b, want, got))
        if a not in EXTRA and b not in EXTRA:
          want = str(jax.numpy.promote_types(dtype_spec(a), dtype_spec(b)))
          if want != str(dtypes.promote_types(dtype_spec(a), dtype_spec(b))):
            bad.append(("promote_types", a, b, want))
    assert not bad, bad[:10]


def test_misc_vs_live_jax():
  jax = pytest.importorskip("jax")
  from jax._src import core as jcore
  from jax._src import dtypes as jdtypes
  for name in list(SHORT_NAMES) + EXTRA:
    aval = jcore.ShapedArray((), np.dtype(name))
    assert dtypes.short_dtype_name(np.dtype(name)) == aval.str_short(short_dtypes=True)[:-2]
  aval = jcore.ShapedArray((), jax.dtypes.float0)
  assert dtypes.short_dtype_name(dtypes.float0) == aval.str_short(short_dtypes=True)[:-2]
  for flag in (False, True):
    with jax.enable_x64(flag), x64(flag), warnings.catch_warnings():
      warnings.simplefilter("ignore")  # jax.dtypes.* warn on explicit 64-bit types
      for name in STRONG + EXTRA:
        jdt = np.dtype(name)
        assert dtypes.canonicalize_dtype(name) == jax.dtypes.canonicalize_dtype(name)
        for kind in (np.floating, np.integer, np.signedinteger, np.unsignedinteger,
                     np.inexact, np.complexfloating, np.number, np.bool_, jdt):
          assert dtypes.issubdtype(jdt, kind) == jax.numpy.issubdtype(jdt, kind), (name, kind)
        assert dtypes.scalar_type_of(jdt) is jax.dtypes.scalar_type_of(jdt)
        assert dtypes.to_numeric_dtype(jdt) == jdtypes.to_numeric_dtype(jdt)
        # pyjax canonicalizes the results of these helpers; it also maps int2/uint2
        # to float32 where JAX leaves them unchanged (only int4/uint4 are mapped).
        if flag and name not in ("int2", "uint2"):
          assert dtypes.to_inexact_dtype(jdt) == jdtypes.to_inexact_dtype(jdt)
          assert dtypes.to_complex_dtype(jdt) == jdtypes.to_complex_dtype(jdt)
      for v in [1, 1.0, 1j, True, np.float32(1), np.zeros(2)]:
        assert dtypes.is_weakly_typed(v) == jdtypes.is_weakly_typed(v)
        assert dtypes.dtype(v, canonicalize=True) == jdtypes.dtype(v)
      for v in [int, float, complex, bool]:
        assert dtypes.dtype(v, canonicalize=True) == jdtypes.dtype(v)


def test_user_dtype_messages_vs_live_jax():
  jax = pytest.importorskip("jax")
  with jax.enable_x64(False), x64(False):
    for dt in (np.float64, "int64", np.uint64, "complex128"):
      with warnings.catch_warnings(record=True) as want:
        warnings.simplefilter("always")
        jax.numpy.zeros(2, dtype=dt)
      with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        dtypes.check_user_dtype_supported(dt, "zeros")
      assert [str(w.message) for w in got] == [str(w.message) for w in want]


if __name__ == "__main__":
  if "--regenerate" in sys.argv:
    generate_table()
    print("wrote", os.path.abspath(TABLE_PATH))
  else:
    sys.exit(pytest.main([__file__, "-q"]))


def test_dtype_alias_is_jaxs():
  """``jax._src.dtypes.DType`` (Flax's fp8 ops annotate with it) is NumPy's dtype class,
  as JAX's."""
  jax_dtypes = pytest.importorskip("jax._src.dtypes")
  assert dtypes.DType is jax_dtypes.DType is np.dtype

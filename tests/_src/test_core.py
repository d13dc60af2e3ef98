"""Tests of pyjax/_src/core.py: avals, jaxpr printing, eval_jaxpr, tracer errors."""
import numpy as np
import pytest

import pyjax
from pyjax import lax
from util import norm_jaxpr
from pyjax._src import core
from pyjax._src.core import ShapedArray
from pyjax.errors import (ConcretizationTypeError, TracerArrayConversionError,
                          TracerBoolConversionError, TracerIntegerConversionError,
                          UnexpectedTracerError)


# ---------------------------------------------------------------- ShapedArray


def test_shaped_array_repr_and_str_short():
  a = ShapedArray((2, 3), np.float32)
  assert repr(a) == "ShapedArray(float32[2,3])"
  assert str(a) == "float32[2,3]"  # JAX: str is the short text, repr the class form
  assert str(ShapedArray((), np.float32, weak_type=True)) == "~float32[]"
  assert a.str_short() == "f32[2,3]"
  assert a.str_short(short_dtypes=False) == "float32[2,3]"
  w = ShapedArray((), np.int32, weak_type=True)
  assert repr(w) == "ShapedArray(int32[], weak_type=True)"
  assert w.str_short() == "i32[]"
  assert ShapedArray((4,), np.bool_).str_short() == "bool[4]"
  assert ShapedArray((1,), np.uint8).str_short() == "u8[1]"
  assert ShapedArray((1,), np.complex64).str_short() == "c64[1]"


def test_shaped_array_matches_jax():
  jax = pytest.importorskip("jax")
  from jax import core as jcore
  for shape, dt, weak in [((2, 3), np.float32, False), ((), np.int32, True),
                          ((5,), np.bool_, False)]:
    ja = jcore.ShapedArray(shape, dt, weak_type=weak)
    pa = ShapedArray(shape, dt, weak)
    assert repr(pa) == repr(ja)
    assert pa.str_short(short_dtypes=True) == ja.str_short(short_dtypes=True)
    assert pa.str_short(short_dtypes=False) == ja.str_short(short_dtypes=False)
  del jax


def test_shaped_array_eq_hash():
  a = ShapedArray((2, 3), np.float32)
  assert a == ShapedArray([2, 3], "float32")
  assert hash(a) == hash(ShapedArray((2, 3), np.float32))
  assert a != ShapedArray((2, 3), np.float32, weak_type=True)
  assert a != ShapedArray((3, 2), np.float32)
  assert a != ShapedArray((2, 3), np.int32)
  assert a != (2, 3)
  assert len({a, ShapedArray((2, 3), np.float32), ShapedArray((2,), np.float32)}) == 2
  assert a.ndim == 2 and a.size == 6
  assert a.update(dtype=np.int32) == ShapedArray((2, 3), np.int32)
  assert ShapedArray((), np.float32, True).strip_weak_type() == ShapedArray((), np.float32)


def test_get_aval():
  assert core.get_aval(1.0) == ShapedArray((), np.float32, True)
  assert core.get_aval(True) == ShapedArray((), np.bool_, False)
  assert core.get_aval(np.ones((2,), np.int8)) == ShapedArray((2,), np.int8)
  with pytest.raises(TypeError):
    core.get_aval("a string")


# ---------------------------------------------------------------- jaxpr printing


def test_variable_naming_beyond_z():
  assert [core._encode(i) for i in (0, 1, 25, 26, 27, 51, 52)] == \
      ["a", "b", "z", "ba", "bb", "bz", "ca"]

  def f(x):
    for _ in range(30):
      x = lax.sin(x)
    return x
  text = str(pyjax.make_jaxpr(f)(np.float32(1)))
  lines = text.splitlines()
  assert lines[0] == "{ lambda ; a:f32[]. let"
  assert lines[1].strip() == "b:f32[] = sin a"
  assert "ba:f32[] = sin z" in text
  assert lines[-1].strip() == "in (be,) }"


def test_literal_printing():
  text = str(pyjax.make_jaxpr(lambda x: lax.add(lax.mul(x, 2.0), 1.0))(np.float32(1)))
  assert norm_jaxpr(text) == ("{ lambda ; a:f32[]. let b:f32[] = mul a 2.0:f32[] "
                               "c:f32[] = add b 1.0:f32[] in (c,) }")


def test_constvars_printing():
  c = np.arange(3, dtype=np.float32)
  f = lambda x: lax.mul(lax.add(c, x), x)  # noqa: E731
  cj = pyjax.make_jaxpr(f)(np.float32(2))
  text = str(cj)
  assert text.startswith("{ lambda a:f32[3]; b:f32[]. let"), text
  assert len(cj.consts) == 1
  np.testing.assert_array_equal(np.asarray(cj.consts[0]), c)


def test_multiple_outputs_and_no_equations():
  text = str(pyjax.make_jaxpr(lambda x, y: (y, x))(np.float32(1), np.int32(1)))
  assert text == "{ lambda ; a:f32[] b:i32[]. let  in (b, a) }"
  text = str(pyjax.make_jaxpr(lambda x: x)(np.ones((2,), np.float32)))
  assert text == "{ lambda ; a:f32[2]. let  in (a,) }"
  text = str(pyjax.make_jaxpr(lambda x: (lax.sin(x), lax.cos(x)))(np.float32(1)))
  assert norm_jaxpr(text) == "{ lambda ; a:f32[]. let b:f32[] = sin a c:f32[] = cos a in (b, c) }"


def test_printing_matches_jax():
  jax = pytest.importorskip("jax")
  cases = [
      (lambda x: lax.add(lax.mul(x, 2.0), 1.0), lambda x: jax.lax.add(jax.lax.mul(x, 2.0), 1.0)),
      (lambda x, y: (y, x), lambda x, y: (y, x)),
      (lambda x, y: (lax.sin(x), lax.cos(x), y), lambda x, y: (jax.lax.sin(x), jax.lax.cos(x), y)),
  ]
  for pf, jf in cases:
    args = (np.float32(1), np.int32(1)) if pf.__code__.co_argcount == 2 else (np.float32(1),)
    assert norm_jaxpr(str(pyjax.make_jaxpr(pf)(*args))) == norm_jaxpr(str(jax.make_jaxpr(jf)(*args)))


def test_printing_layout_matches_jax_exactly():
  jax = pytest.importorskip("jax")
  f = lambda x: (lax.sin(x), lax.cos(x))  # noqa: E731
  jf = lambda x: (jax.lax.sin(x), jax.lax.cos(x))  # noqa: E731
  assert str(pyjax.make_jaxpr(f)(np.float32(1))) == str(jax.make_jaxpr(jf)(np.float32(1)))


# ---------------------------------------------------------------- eval_jaxpr


def test_eval_jaxpr_roundtrip():
  c = np.arange(3, dtype=np.float32)

  def f(x, y):
    z = lax.mul(lax.add(c, x), y)
    return lax.reduce_sum(z, (0,)), lax.neg(z)
  x, y = np.float32(2), np.float32(3)
  cj = pyjax.make_jaxpr(f)(x, y)
  out = core.eval_jaxpr(cj.jaxpr, cj.consts, x, y)
  want = f(x, y)
  assert len(out) == 2
  for o, w in zip(out, want):
    np.testing.assert_array_equal(np.asarray(o), np.asarray(w))
  out2 = cj(x, y)
  np.testing.assert_array_equal(np.asarray(out2[1]), np.asarray(want[1]))
  # Re-tracing the evaluation gives the same jaxpr text.
  cj2 = pyjax.make_jaxpr(lambda a, b: core.eval_jaxpr(cj.jaxpr, cj.consts, a, b))(x, y)
  assert str(cj2).splitlines()[1:] == str(cj).splitlines()[1:]
  with pytest.raises(TypeError):
    core.eval_jaxpr(cj.jaxpr, cj.consts, x)


# ---------------------------------------------------------------- tracer errors

_leaked = []


def test_leaked_tracer_raises():
  _leaked.clear()

  def f(x):
    _leaked.append(x)
    return lax.sin(x)
  pyjax.make_jaxpr(f)(np.float32(1))
  t = _leaked[0]
  with pytest.raises(UnexpectedTracerError):
    lax.cos(t)
  with pytest.raises(UnexpectedTracerError):
    pyjax.make_jaxpr(lambda y: lax.add(y, t))(np.float32(1))


def test_bool_conversion_error_names_argument():
  def f(neg, pos):
    if neg > 0:
      return pos
    return neg
  with pytest.raises(TracerBoolConversionError) as e:
    pyjax.make_jaxpr(f)(np.float32(1), np.float32(2))
  msg = str(e.value)
  assert "Attempted boolean conversion of traced array with shape bool[]" in msg
  assert "depends on the value of the argument neg" in msg
  assert isinstance(e.value, ConcretizationTypeError)


def test_integer_conversion_error():
  def f(x):
    return [1, 2, 3][x]
  with pytest.raises(TracerIntegerConversionError) as e:
    pyjax.make_jaxpr(f)(np.int32(1))
  assert "The __index__() method was called on traced array with shape int32[]" in \
      str(e.value) or "__index__()" in str(e.value)


def test_array_conversion_error():
  with pytest.raises(TracerArrayConversionError) as e:
    pyjax.make_jaxpr(lambda x: np.asarray(x))(np.ones(3, np.float32))
  assert "__array__()" in str(e.value)


def test_concretization_error_on_float():
  with pytest.raises(ConcretizationTypeError) as e:
    pyjax.make_jaxpr(lambda x: float(x))(np.float32(1))
  assert "Abstract tracer value encountered where concrete value is expected" in str(e.value)
  assert "float" in str(e.value)
  with pytest.raises(ConcretizationTypeError):
    pyjax.make_jaxpr(lambda x: int(x))(np.float32(1))


def test_tracer_misc():
  def f(x):
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
    assert x.dtype == np.float32
    with pytest.raises(TypeError):
      hash(x)
    with pytest.raises(ValueError):
      bool(x)
    return x
  pyjax.make_jaxpr(f)(np.ones((2, 3), np.float32))


def test_missing_rule_names_primitive():
  with pytest.raises(NotImplementedError, match="Primitive 'sin' has no rule for"):
    core.Primitive("sin").rule("jvp")

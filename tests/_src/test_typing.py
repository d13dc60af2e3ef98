"""pyjax.typing against jax.typing: the same unions, the same isinstance answers."""
import typing

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
import pyjax.typing as pt

jax = pytest.importorskip("jax")
import jax.numpy as jjnp  # noqa: E402
import jax.typing as jt  # noqa: E402


def _names(union):
  return [getattr(a, "__name__", repr(a)) for a in typing.get_args(union)]


def test_unions_match_jax():
  # The first member is each library's Array class; the rest are the same objects.
  assert typing.get_args(pt.ArrayLike)[0] is pyjax.Array
  assert typing.get_args(pt.ArrayLike)[1:] == typing.get_args(jt.ArrayLike)[1:]
  assert typing.get_args(pt.DTypeLike)[:3] == typing.get_args(jt.DTypeLike)[:3]
  assert _names(pt.DTypeLike)[3] == _names(jt.DTypeLike)[3] == "SupportsDType"


@pytest.mark.parametrize("make", [
    lambda m, np_: m.ones(3), lambda m, np_: np_.float32(1), lambda m, np_: 1.5,
    lambda m, np_: True, lambda m, np_: np_.arange(3), lambda m, np_: [1, 2],
    lambda m, np_: "a", lambda m, np_: None, lambda m, np_: (1,),
])
def test_arraylike_isinstance(make):
  assert isinstance(make(jnp, np), pt.ArrayLike) == isinstance(make(jjnp, np),
                                                               jt.ArrayLike)


def test_key_and_tracer_are_arraylike():
  assert isinstance(pyjax.random.key(0), pt.ArrayLike)
  assert isinstance(jax.random.key(0), jt.ArrayLike)
  seen = []
  pyjax.jit(lambda x: seen.append(isinstance(x, pt.ArrayLike)) or x)(1.0)
  assert seen == [True]


def test_dtypelike_isinstance_raises_as_jax():
  with pytest.raises(TypeError) as ours:
    isinstance(jnp.float32, pt.DTypeLike)
  with pytest.raises(TypeError) as theirs:
    isinstance(jjnp.float32, jt.DTypeLike)
  assert str(ours.value) == str(theirs.value)

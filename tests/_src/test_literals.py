"""jax._src.literals (pyjax/_src/literals.py): the typed host literals against JAX's:
reprs, avals, pickling, NumPy arithmetic; a TypedNdArray as an input to pyjax."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import pyjax.numpy as pnp
from pyjax._src import core, literals

jax = pytest.importorskip("jax")
from jax._src import core as jax_core, literals as jax_literals  # noqa: E402


def _aval(a):
  return (a.shape, a.dtype, a.weak_type)


def _scalars(L):
  return [L.TypedInt(3, np.dtype("int64")), L.TypedInt(-2, np.dtype("uint8")),
          L.TypedFloat(1.5, np.dtype("float32")), L.TypedFloat(2.0, np.dtype("float16")),
          L.TypedComplex(1 + 2j, np.dtype("complex64"))]


def _arrays(L, C):
  return [L.TypedNdArray(np.arange(3.0, dtype=np.float32),
                         C.ShapedArray((3,), np.dtype(np.float32), weak_type=True)),
          L.TypedNdArray(np.arange(6, dtype=np.int32).reshape(2, 3)),
          L.TypedNdArray(np.zeros((0,), np.int16)),
          L.TypedNdArray(np.arange(40.0).reshape(4, 10))]


def test_typed_scalars_as_jax():
  for got, want in zip(_scalars(literals), _scalars(jax_literals)):
    assert repr(got) == repr(want) and str(got) == str(want)
    assert got == want and got.dtype == want.dtype
    assert _aval(got.aval) == _aval(want.aval)
    back = pickle.loads(pickle.dumps(got))
    assert type(back) is type(got) and repr(back) == repr(got)
    assert type(got + 1) is type(want + 1)
  assert {t.__name__ for t in literals.typed_scalar_types} == \
      {t.__name__ for t in jax_literals.typed_scalar_types}


def test_typed_ndarray_as_jax():
  for got, want in zip(_arrays(literals, core), _arrays(jax_literals, jax_core)):
    assert repr(got) == repr(want)
    assert _aval(got.aval) == _aval(want.aval) and got.weak_type == want.weak_type
    assert type(got.val) is np.ndarray
    assert repr(got + 1) == repr(want + 1)  # ufuncs return plain ndarrays
    assert repr(got[1:]) == repr(want[1:])  # views keep the weak type
    back = pickle.loads(pickle.dumps(got))  # (JAX's copy breaks: its aval is a bool)
    assert repr(back) == repr(got) and _aval(back.aval) == _aval(got.aval)


def test_typed_ndarray_is_an_input_as_its_ndarray():
  t = literals.TypedNdArray(np.arange(3.0, dtype=np.float32))
  got = pnp.add(t, 1.0)
  want = jax.numpy.add(jax_literals.TypedNdArray(np.arange(3.0, dtype=np.float32)), 1.0)
  assert repr(got) == repr(want)


def test_typed_scalars_as_inputs_are_refused():
  with pytest.raises(TypeError, match="add requires ndarray or scalar arguments"):
    pnp.add(literals.TypedInt(3, np.dtype("int32")), 1)

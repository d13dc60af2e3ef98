"""Typed PRNG keys as JAX's: the key<fry> extended dtype, typeof, issubdtype, key_data /
wrap_key_data, eval_shape and ShapeDtypeStruct of keys."""
import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp

jax = pytest.importorskip("jax")
import jax.numpy as jjnp  # noqa: E402


def test_key_dtype_and_typeof():
  k, jk = pyjax.random.key(0), jax.random.key(0)
  assert str(k.dtype) == str(jk.dtype) == "key<fry>"
  assert repr(k.dtype) == repr(jk.dtype)
  assert k.dtype.name == jk.dtype.name
  assert repr(pyjax.typeof(k)) == repr(jax.typeof(jk)) == "ShapedArray(key<fry>[])"
  ks, jks = pyjax.random.split(k, 3), jax.random.split(jk, 3)
  assert repr(pyjax.typeof(ks)) == repr(jax.typeof(jks))
  assert k.dtype.type is pyjax.dtypes.prng_key
  assert jk.dtype.type is jax.dtypes.prng_key
  assert k.itemsize == jk.itemsize == 8
  assert k.dtype == pyjax.random.key_dtype() and hash(k.dtype) == hash(ks.dtype)


@pytest.mark.parametrize("a, b", [
    ("key", "prng_key"), ("key", "extended"), ("prng_key", "extended"),
    ("float32", "prng_key"), ("float32", "extended"), ("key", "floating"),
    ("key", "generic"), ("key", "key"), ("float32", "key"), ("int32", "integer"),
    ("bfloat16", "floating"),
])
def test_issubdtype(a, b):
  def resolve(name, mod, np_mod, key):
    if name == "key":
      return key.dtype
    if name in ("prng_key", "extended"):
      return getattr(mod.dtypes, name)
    return getattr(np_mod, name)
  k, jk = pyjax.random.key(1), jax.random.key(1)
  ours = jnp.issubdtype(resolve(a, pyjax, jnp, k), resolve(b, pyjax, jnp, k))
  theirs = jjnp.issubdtype(resolve(a, jax, jjnp, jk), resolve(b, jax, jjnp, jk))
  assert ours == theirs
  assert pyjax.dtypes.issubdtype(resolve(a, pyjax, jnp, k),
                                 resolve(b, pyjax, jnp, k)) == theirs


def test_key_data_round_trip():
  k = pyjax.random.split(pyjax.random.key(42), 4)
  jk = jax.random.split(jax.random.key(42), 4)
  data = pyjax.random.key_data(k)
  np.testing.assert_array_equal(np.asarray(data), np.asarray(jax.random.key_data(jk)))
  k2 = pyjax.random.wrap_key_data(data)
  assert k2.dtype == k.dtype and k2.shape == k.shape == (4,)
  np.testing.assert_array_equal(np.asarray(pyjax.random.key_data(k2)), np.asarray(data))
  np.testing.assert_array_equal(
      np.asarray(pyjax.random.normal(k2[1], (3,))),
      np.asarray(jax.random.normal(jax.random.wrap_key_data(jax.random.key_data(jk))[1],
                                   (3,))))


def test_eval_shape_and_shape_dtype_struct():
  k, jk = pyjax.random.key(0), jax.random.key(0)
  assert repr(pyjax.eval_shape(pyjax.random.split, k)) == \
      repr(jax.eval_shape(jax.random.split, jk))
  s, js = pyjax.ShapeDtypeStruct((), k.dtype), jax.ShapeDtypeStruct((), jk.dtype)
  assert repr(s) == repr(js)
  f = lambda key: (pyjax.random.normal(key, (2,)), pyjax.random.split(key))
  jf = lambda key: (jax.random.normal(key, (2,)), jax.random.split(key))
  assert repr(pyjax.eval_shape(f, s)) == repr(jax.eval_shape(jf, js))


def test_extended_dtype_errors():
  k, jk = pyjax.random.key(0), jax.random.key(0)
  for fn in ("canonicalize_dtype", "itemsize_bits"):
    with pytest.raises(ValueError) as ours:
      getattr(pyjax.dtypes, fn)(k.dtype)
    with pytest.raises(ValueError) as theirs:
      getattr(jax.dtypes, fn)(jk.dtype)
    assert str(ours.value) == str(theirs.value)
  with pytest.raises(TypeError) as ours:
    pyjax.dtypes.result_type(k.dtype)
  with pytest.raises(TypeError) as theirs:
    jax.dtypes.result_type(jk.dtype)
  assert str(ours.value) == str(theirs.value)
  assert pyjax.dtypes.itemsize_bits(jnp.int4) == jax.dtypes.itemsize_bits(jjnp.int4) == 4
  assert pyjax.dtypes.itemsize_bits(jnp.bool_) == 8

"""jax.experimental.layout and Array.format against JAX."""
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax.experimental import layout as L

jax = pytest.importorskip("jax")
import jax.numpy as jjnp  # noqa: E402
from jax.experimental import layout as JL  # noqa: E402


@pytest.mark.parametrize("shape, dtype", [((2, 3), "float32"), ((), "int32"),
                                          ((3,), "int4"), ((2, 1, 4), "bfloat16")])
def test_array_format_layout(shape, dtype):
  x, jx = jnp.ones(shape, dtype), jjnp.ones(shape, dtype)
  assert repr(x.format.layout) == repr(jx.format.layout)
  assert x.on_device_size_in_bytes() == jx.on_device_size_in_bytes()
  assert x.format.sharding == x.sharding
  assert x.format == L.Format(L.Layout(tuple(range(len(shape))), ()), x.sharding)


def test_layout_and_format_objects():
  for mod in (L, JL):
    a = mod.Layout((1, 0))
    assert a == mod.Layout((1, 0)) and hash(a) == hash(mod.Layout((1, 0)))
    assert a != mod.Layout((1, 0), ())
  assert repr(L.Layout((1, 0)).update(tiling=((8,),))) == \
      repr(JL.Layout((1, 0)).update(tiling=((8,),)))
  assert repr(L.Format()) == repr(JL.Format())
  assert repr(L.Format(L.Layout.AUTO)) == repr(JL.Format(JL.Layout.AUTO))
  x, jx = jnp.ones((2, 3)), jjnp.ones((2, 3))
  assert L.with_layout_constraint(x, L.Layout((0, 1))) is x
  assert (JL.with_layout_constraint(jx, JL.Layout((0, 1))) == jx).all()


@pytest.mark.parametrize("make", [lambda m: m.Format(m.Layout((0,))),
                                  lambda m: m.Format(3), lambda m: m.Format(None, 3),
                                  lambda m: m.Layout((0,)).check_compatible_aval((2, 2))])
def test_errors_as_jax(make):
  errs = []
  for mod in (L, JL):
    with pytest.raises(Exception) as e:
      make(mod)
    errs.append((type(e.value), str(e.value).replace("pyjax._src.layout", "M")
                 .replace("jax._src.layout", "M")))
  assert errs[0] == errs[1]


def test_deleted_array_format():
  x = pyjax.device_put(jnp.ones(2))
  x.delete()
  assert x.format.layout is None

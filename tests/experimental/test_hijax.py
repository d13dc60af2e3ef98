"""jax.experimental.hijax: JAX's names, usable the way Flax's nnx uses them at import;
binding a high-level primitive raises a NotImplementedError naming it."""
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax.experimental import hijax as hjx


def test_names_are_jaxs():
  jax_hijax = pytest.importorskip("jax.experimental.hijax")
  jax_names = {n for n in dir(jax_hijax) if not n.startswith("_")}
  assert set(hjx.__all__) == jax_names - {"TransformedRef"}
  for n in hjx.__all__:
    assert hasattr(hjx, n), n


def test_flax_style_definitions():
  class VariableEffect:
    pass
  hjx.control_flow_allowed_effects.add_type(VariableEffect)
  assert hjx.control_flow_allowed_effects.contains(VariableEffect())
  assert not hjx.control_flow_allowed_effects.contains(object())
  assert hjx.control_flow_allowed_effects.filter_in([VariableEffect(), 1]) != []

  class NewVariable(hjx.HiPrimitive):
    def abstract_eval(self, *leaves, **params):
      return leaves[0], set()

  p = NewVariable("new_variable")
  assert p.name == "new_variable" and p.is_high()
  with pytest.raises(NotImplementedError, match="'new_variable'.*hijax|hijax.*'new_variable'"):
    p.bind(jnp.ones(2))

  class Box:
    pass

  class AbstractBox(hjx.MutableHiType):
    get = hjx.aval_method(lambda self: 1)
    size = hjx.aval_property(fget=lambda self: 2)
  hjx.register_hitype(Box, lambda b: AbstractBox())
  assert isinstance(AbstractBox(), hjx.AbstractValue) and AbstractBox.has_qdd
  assert AbstractBox.get.fun(None) == 1 and AbstractBox.size.fget(None) == 2
  q = hjx.AvalQDD(AbstractBox(), None)
  assert q.has_qdd and isinstance(q.aval, AbstractBox)

  class Vjp(hjx.VJPHiPrimitive):
    pass
  with pytest.raises(NotImplementedError, match="Vjp"):
    Vjp()(1.0)


def test_autodiff_names():
  assert hjx.Zero is pyjax.interpreters.ad.Zero
  z = hjx.Zero(pyjax.core.ShapedArray((2,), jnp.float32))
  assert hjx.instantiate_zeros(z).shape == (2,)
  assert not hjx.is_undefined_primal(jnp.ones(2))

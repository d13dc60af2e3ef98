"""jax._src.state(.types).AbstractRef is the type jax.typeof gives a Ref (the path Flax's
nnx imports it from)."""
import pyjax
import pyjax.numpy as jnp
from pyjax._src import state
from pyjax._src.state import types


def test_abstract_ref_is_typeof_a_ref():
  r = pyjax.new_ref(jnp.zeros(3))
  assert types.AbstractRef is state.AbstractRef
  assert isinstance(pyjax.typeof(r), types.AbstractRef)
  assert not isinstance(pyjax.typeof(jnp.zeros(3)), types.AbstractRef)

"""Array methods' argument forms (pyjax/_src/numpy/array_methods.py)."""
import numpy as np
import pytest

import pyjax.numpy as jnp


@pytest.mark.parametrize("args,kwargs,shape", [
    (((),), {}, ()), ((), {"shape": ()}, ()), ((1, 1), {}, (1, 1)),
    (((1, 1),), {}, (1, 1)), ((-1,), {}, (1,)), (([1],), {}, (1,)),
])
def test_reshape_forms(args, kwargs, shape):
  x = jnp.ones(1)
  out = x.reshape(*args, **kwargs)
  assert out.shape == shape
  np.testing.assert_array_equal(np.asarray(out), np.ones(shape))

"""Chex on JAX: assert_shape/assert_type/assert_trees_all_close (passing and failing),
chex.dataclass as a pytree under jit, assert_max_traces, and chex.variants tests."""
import unittest

import chex
import jax
import jax.numpy as jnp

from report import close, exact


def failure(fn):
  try:
    fn()
  except AssertionError as e:
    return "AssertionError: " + str(e).splitlines()[0]
  return "no error"


x = jnp.ones((2, 3))
chex.assert_shape(x, (2, 3))
chex.assert_shape([x, x], (2, None))
chex.assert_rank(x, 2)
chex.assert_type(x, jnp.float32)
chex.assert_equal_shape([x, x + 1])
chex.assert_trees_all_close({"a": x}, {"a": x + 1e-7})
chex.assert_tree_all_finite({"a": x})
exact("shape_fail", failure(lambda: chex.assert_shape(x, (3, 2))))
exact("rank_fail", failure(lambda: chex.assert_rank(x, 3)))
exact("type_fail", failure(lambda: chex.assert_type(x, jnp.int32)))
exact("close_fail", failure(lambda: chex.assert_trees_all_close(x, x + 1.0)))
exact("finite_fail", failure(lambda: chex.assert_tree_all_finite(x / 0.0)))


@chex.dataclass
class State:
  step: chex.Array
  weights: chex.Array


@jax.jit
def advance(s):
  return s.replace(step=s.step + 1, weights=s.weights * 2.0)


s = advance(State(step=jnp.array(0), weights=jnp.arange(3.0)))
exact("dataclass", s.step, s.weights, len(jax.tree_util.tree_leaves(s)))
exact("dataclass_treedef_equal",
      jax.tree_util.tree_structure(s) == jax.tree_util.tree_structure(
          State(step=1, weights=2)))


@jax.jit
@chex.assert_max_traces(n=1)
def double(v):
  return v * 2.0


double(jnp.ones(3))
double(jnp.ones(3) * 4)
exact("max_traces_ok", double(jnp.ones(3)))
exact("max_traces_fail", failure(lambda: double(jnp.ones(4))))
chex.clear_trace_counter()


class VariantsTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  def test_fn(self):
    @self.variant
    def f(a, b):
      return jnp.tanh(a) * b
    out = f(jnp.linspace(-1.0, 1.0, 5), 2.0)
    chex.assert_shape(out, (5,))
    close("variant_" + self.variant.type.name if hasattr(self.variant, "type") else
          "variant", out)


suite = unittest.defaultTestLoader.loadTestsFromTestCase(VariantsTest)
result = unittest.TextTestRunner(stream=open("/dev/null", "w")).run(suite)
exact("variants_run", result.testsRun, len(result.failures), len(result.errors))
for _, tb in result.failures + result.errors:
  print(tb)

"""custom_vmap and sequential_vmap: the rule is used under vmap (also inside jit and of
a jitted function), the body elsewhere; compared with JAX."""
import importlib

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax.custom_batching import custom_vmap
from util import check_close

jax = pytest.importorskip("jax")


def _run(top):
  J, np_ = top, importlib.import_module(f"{top.__name__}.numpy")
  cb = importlib.import_module(f"{top.__name__}.custom_batching")
  seen = []

  @cb.custom_vmap
  def f(x, y):
    return {"a": np_.sin(x) + y}

  @f.def_vmap
  def f_rule(axis_size, in_batched, x, y):
    seen.append((axis_size, in_batched))
    xb, yb = in_batched
    return {"a": np_.cos(x) + y}, {"a": xb or yb}  # (not f's vmap: shows the rule ran)

  @cb.sequential_vmap
  def g(x, n):
    return np_.sum(x) * n

  x = np.linspace(0, 1, 3).astype(np.float32)
  m = np.arange(6, dtype=np.float32).reshape(3, 2)
  out = {
      "eager": f(x[0], 1.0),
      "vmap": J.vmap(f, (0, None))(x, 2.0),
      "jit_vmap_vmap_jit": J.jit(lambda a: (J.vmap(f)(a, a), J.vmap(J.jit(f))(a, a),
                                            J.vmap(g)(m, a)))(x),
      "jvp": J.jvp(lambda a: f(a, 1.0)["a"], (0.5,), (1.0,)),
      "sequential": J.vmap(g, (0, None))(m, 2.0),
      "kwargs": J.vmap(lambda a: f(a, y=3.0))(x),
  }
  return out, seen


def test_custom_vmap_matches_jax():
  want, want_seen = _run(jax)
  got, got_seen = _run(pyjax)
  assert got_seen == want_seen
  for k in want:
    check_close(pyjax.tree_util.tree_leaves(got[k]), jax.tree_util.tree_leaves(want[k]),
                err_msg=k)


def test_custom_vmap_errors():
  @custom_vmap
  def f(x):
    return x
  with pytest.raises(AttributeError, match="No batching rule defined for custom_vmap "
                     "function f using def_vmap"):
    f(1.0)
  f.def_vmap(lambda n, b, x: ((x, x), (True, True)))
  with pytest.raises(ValueError, match="does not match that of original"):
    pyjax.vmap(f)(jnp.ones(2))
  f.def_vmap(lambda n, b, x: (x, (True,)))
  with pytest.raises(ValueError, match="output value and output batching specification"):
    pyjax.vmap(f)(jnp.ones(2))
  with pytest.raises(TypeError, match="could not be resolved to positional-only"):
    f(1.0, z=2)

  @custom_vmap
  def h(x, *, k=1.0):
    return x * k
  with pytest.raises(TypeError, match="keyword arguments could not be resolved to "
                     "positions: k"):
    h(1.0, k=2.0)


def test_closed_over_batched_value_batches_the_body():
  def outer(c):
    @custom_vmap
    def f(x):
      return x * c
    f.def_vmap(lambda n, b, x: (x * 100.0, b[0]))
    return f(2.0)
  check_close(pyjax.vmap(outer)(jnp.arange(3.0)), np.array([0.0, 2.0, 4.0]))

"""Shared helpers for the jax.numpy tests: NumPy comparison and tracing round trips."""
import numpy as np

import pyjax
from pyjax._src import core
from pyjax._src import tree_util


def rand(shape, dtype, seed=0):
  rng = np.random.RandomState(seed)
  dtype = np.dtype(dtype)
  if dtype == np.bool_:
    return np.asarray(rng.rand(*shape) > 0.5)
  if dtype.kind in "iu":
    lo = 0 if dtype.kind == "u" else -5
    return np.asarray(rng.randint(lo, 6, size=shape)).astype(dtype)
  return np.asarray(rng.randn(*shape)).astype(dtype)


def tol(dtype):
  dtype = np.dtype(dtype)
  return {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-5}.get(dtype, 1e-6)


def check_close(ours, ref, rtol=None, check_dtype=True):
  ol = ours if isinstance(ours, (list, tuple)) else [ours]
  rl = ref if isinstance(ref, (list, tuple)) else [ref]
  assert len(ol) == len(rl)
  for o, r in zip(ol, rl):
    o_, r_ = np.asarray(o), np.asarray(r)
    assert o_.shape == r_.shape, (o_.shape, r_.shape)
    if check_dtype:
      assert o_.dtype == r_.dtype, (o_.dtype, r_.dtype)
    t = rtol if rtol is not None else tol(o_.dtype if o_.dtype.kind == "f" else np.float64)
    if o_.dtype.kind in "fc" or r_.dtype.kind in "fc":
      np.testing.assert_allclose(o_.astype(np.complex128), r_.astype(np.complex128),
                                 rtol=t, atol=t, equal_nan=True)
    else:
      np.testing.assert_array_equal(o_, r_)


def check_jax_dtype(ours, ref):
  """Result dtype and weak type agree with real JAX."""
  ol = ours if isinstance(ours, (list, tuple)) else [ours]
  rl = ref if isinstance(ref, (list, tuple)) else [ref]
  assert len(ol) == len(rl)
  for o, r in zip(ol, rl):
    assert np.dtype(o.dtype) == np.dtype(r.dtype), (o.dtype, r.dtype)
    assert bool(getattr(o, "weak_type", False)) == bool(getattr(r, "weak_type", False)), (
        getattr(o, "weak_type", None), getattr(r, "weak_type", None))
    assert tuple(o.shape) == tuple(r.shape)


def traced(f, *args):
  """Runs ``f`` through make_jaxpr and evaluates the jaxpr (checks it is traceable)."""
  flat, tree = tree_util.tree_flatten(args)

  def flat_f(*xs):
    return f(*tree_util.tree_unflatten(tree, xs))

  closed = pyjax.make_jaxpr(flat_f)(*flat)
  shapes = pyjax.make_jaxpr(flat_f, return_shape=True)(*flat)[1]
  outs = core.eval_jaxpr(closed.jaxpr, closed.consts, *flat)
  return tree_util.tree_unflatten(tree_util.tree_structure(shapes), outs)

"""Host callbacks: ``jax.pure_callback`` and ``jax.experimental.io_callback``.

A callback primitive carries a flat Python function of arrays. Eagerly it runs at
once; under ``jit`` its lowering rule makes the compiled program call it
(``lowering.FnBuilder.host_call``: an imported function the IREE backend binds to
Python when it loads the module), so it runs each time the program runs, in program
order, inside loops too.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from pyjax._src import dtypes, tree_util
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.errors import JaxRuntimeError, callback_error
from pyjax._src.interpreters import batching
from pyjax._src.lax import lax
from pyjax._src.lax.control_flow import loops


# ---------------------------------------------------------------- shared helpers


def to_arrays(xs, avals):
  """NumPy values (from the compiled program) as the Arrays a callback receives."""
  out = []
  for x, a in zip(xs, avals):
    v = np.asarray(x, a.dtype)
    out.append(ArrayImpl(v if v.ndim else v[()], a.weak_type))
  return out


def _result_avals(result_shape_dtypes):
  leaves, tree = tree_util.tree_flatten(result_shape_dtypes)
  avals = []
  for x in leaves:
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    if shape is None or dtype is None:
      raise ValueError(f"result_shape_dtypes must be a pytree of objects with shape and "
                       f"dtype attributes (such as jax.ShapeDtypeStruct), got {x!r}")
    dt = np.dtype(dtype)
    if dtypes.canonicalize_dtype(dt) != dt:
      raise ValueError("result_shape_dtypes cannot specify 64-bit types when "
                       "`jax_enable_x64` is disabled")
    avals.append(ShapedArray(tuple(shape), dt))
  return avals, tree


def _check_results(results, result_avals, result_tree):
  """The callback's results as NumPy arrays, checked against ``result_avals`` with
  JAX's errors."""
  leaves = tree_util.tree_leaves(results)
  if len(leaves) != len(result_avals):
    raise RuntimeError(f"Mismatched number of returned values: expected "
                       f"{len(result_avals)}, got {len(leaves)}.")
  outs = []
  for i, (r, a) in enumerate(zip(leaves, result_avals)):
    v = np.asarray(r)
    if v.shape != a.shape:
      raise RuntimeError(f"Incorrect output shape for return value #{i}: Expected: "
                         f"{a.shape}, Actual: {v.shape}")
    if v.dtype != a.dtype:
      raise RuntimeError(f"Incorrect output dtype for return value #{i}: Expected: "
                         f"{a.dtype}, Actual: {v.dtype}")
    outs.append(v)
  return outs


class FlatCallback:
  """The user's callback on flat arrays: unflattens its arguments, calls it, and
  checks and flattens its results. Hashable by identity (a jaxpr parameter)."""
  __slots__ = ("callback", "in_tree", "result_avals", "result_tree", "__weakref__")

  def __init__(self, callback, in_tree, result_avals, result_tree):
    self.callback = callback
    self.in_tree = in_tree
    self.result_avals = result_avals
    self.result_tree = result_tree

  def __call__(self, *arrays):
    args, kwargs = tree_util.tree_unflatten(self.in_tree, list(arrays))
    res = self.callback(*args, **kwargs)
    return _check_results(res, self.result_avals, self.result_tree)

  def __repr__(self):
    return f"_FlatCallback(callback_func={self.callback!r}, in_tree={self.in_tree!r})"


def run_eagerly(callback: FlatCallback, args):
  """Calls ``callback`` on eager Arrays; an error is JAX's (a JaxRuntimeError)."""
  args = [x if isinstance(x, ArrayImpl) else asarray_value(x) for x in args]
  try:
    outs = callback(*args)
  except JaxRuntimeError:
    raise
  except Exception as e:
    raise callback_error(e) from None
  return [ArrayImpl(o if o.ndim else o[()], False) for o in outs]


def lower_callback(ctx, args, callback, result_avals):
  """The lowering: the compiled program calls ``callback`` with NumPy values."""
  in_avals = [a.aval for a in args]

  def host(*xs):
    return callback(*to_arrays(xs, in_avals))

  return ctx.host_call(host, list(args), list(result_avals))


# The rules pure_callback_p and io_callback_p share (their other params: vmap_method,
# ordered, sharding, matter only to batching).

def _callback_abstract(*avals, result_avals, **_):
  return list(result_avals)


def _callback_impl(*args, callback, **_):
  return run_eagerly(callback, args)


def _callback_lower(ctx, *args, callback, result_avals, **_):
  return lower_callback(ctx, args, callback, result_avals)


def _sequential(prim, vals, dims, params, unrolled=False):
  """The batch rule that calls the callback once per element: a scan over the mapped
  arguments (unrolled for ``sequential_unrolled``), as JAX's."""
  mapped = [batching.moveaxis(x, d, 0) for x, d in zip(vals, dims) if d is not None]

  def one(_, xs):
    it = iter(xs)
    args = [next(it) if d is not None else x for x, d in zip(vals, dims)]
    return (), prim.bind(*args, **params)

  _, outs = loops.scan(one, (), mapped, unroll=unrolled)
  return list(outs), [0] * len(outs)


# ---------------------------------------------------------------- pure_callback

pure_callback_p = Primitive("pure_callback")
pure_callback_p.multiple_results = True

def _pure_callback_jvp(primals, tangents, **params):
  raise ValueError("Pure callbacks do not support JVP. Please use `jax.custom_jvp` to "
                   "use callbacks while taking gradients.")


def _pure_callback_batch(vals, dims, *, callback, result_avals, vmap_method,
                         sharding=None):
  params = dict(callback=callback, result_avals=result_avals, vmap_method=vmap_method,
                sharding=sharding)
  if vmap_method in ("sequential", "sequential_unrolled"):
    return _sequential(pure_callback_p, vals, dims, params,
                       unrolled=vmap_method == "sequential_unrolled")
  if vmap_method not in ("expand_dims", "broadcast_all", "legacy_vectorized"):
    raise NotImplementedError(
        "vmap is only supported for the pure_callback primitive when vmap_method is one "
        "of 'sequential', 'sequential_unrolled', 'expand_dims', 'broadcast_all', or "
        f"'legacy_vectorized'. Got vmap_method={vmap_method}.")
  size = next(x.shape[d] for x, d in zip(vals, dims) if d is not None)
  args = []
  for x, d in zip(vals, dims):
    if d is not None:
      args.append(batching.moveaxis(x, d, 0))
    elif vmap_method == "expand_dims":
      args.append(lax.expand_dims(x, (0,)))
    elif vmap_method == "broadcast_all":
      args.append(batching.broadcast(x, size, 0))
    else:
      args.append(x)
  new_avals = tuple(ShapedArray((size, *a.shape), a.dtype) for a in result_avals)
  inner = FlatCallback(callback.callback, callback.in_tree, list(new_avals),
                       callback.result_tree)
  outs = pure_callback_p.bind(*args, callback=inner, result_avals=new_avals,
                              vmap_method=vmap_method, sharding=sharding)
  return outs, [0] * len(outs)


pure_callback_p.def_impl(_callback_impl)
pure_callback_p.def_abstract_eval(_callback_abstract)
pure_callback_p.jvp = _pure_callback_jvp
pure_callback_p.batch = _pure_callback_batch
pure_callback_p.lower = _callback_lower


def pure_callback(callback: Callable[..., Any], result_shape_dtypes: Any, *args: Any,
                  sharding=None, vmap_method: str | None = None, **kwargs: Any):
  """Calls a pure Python function from JAX code (``jax.pure_callback``): it may be
  called any number of times, or not at all if its results are unused."""
  allowed = ["sequential", "sequential_unrolled", "expand_dims", "broadcast_all",
             "legacy_vectorized", None]
  if vmap_method not in allowed:
    raise ValueError(f"vmap_method must be on of the allowed methods {allowed}, "
                     f"but got: {vmap_method}")
  flat_args, in_tree = tree_util.tree_flatten((args, kwargs))
  result_avals, result_tree = _result_avals(result_shape_dtypes)
  flat_cb = FlatCallback(callback, in_tree, result_avals, result_tree)
  outs = pure_callback_p.bind(*flat_args, callback=flat_cb,
                              result_avals=tuple(result_avals), vmap_method=vmap_method,
                              sharding=sharding)
  return tree_util.tree_unflatten(result_tree, outs)


# ---------------------------------------------------------------- io_callback

io_callback_p = Primitive("io_callback")
io_callback_p.multiple_results = True
io_callback_p.effectful = True


def _io_callback_jvp(primals, tangents, **params):
  raise ValueError("IO callbacks do not support JVP.")


def _io_callback_batch(vals, dims, *, callback, result_avals, ordered, sharding=None):
  if ordered:
    raise ValueError("Cannot `vmap` ordered IO callback.")
  params = dict(callback=callback, result_avals=result_avals, ordered=ordered,
                sharding=sharding)
  return _sequential(io_callback_p, vals, dims, params)


io_callback_p.def_impl(_callback_impl)
io_callback_p.def_abstract_eval(_callback_abstract)
io_callback_p.jvp = _io_callback_jvp
io_callback_p.batch = _io_callback_batch
io_callback_p.lower = _callback_lower


def io_callback(callback: Callable[..., Any], result_shape_dtypes: Any, *args: Any,
                sharding=None, ordered: bool = False, **kwargs: Any):
  """Calls an impure Python function from JAX code (``jax.experimental.io_callback``):
  never dropped; with ``ordered=True`` calls run in program order and cannot be
  vmapped."""
  if not callable(callback):
    raise TypeError(f"io_callback: the callback must be callable, got {callback!r}")
  flat_args, in_tree = tree_util.tree_flatten((args, kwargs))
  result_avals, result_tree = _result_avals(result_shape_dtypes)
  flat_cb = FlatCallback(callback, in_tree, result_avals, result_tree)
  outs = io_callback_p.bind(*flat_args, callback=flat_cb, result_avals=tuple(result_avals),
                            ordered=ordered, sharding=sharding)
  return tree_util.tree_unflatten(result_tree, outs)


__all__ = ["io_callback", "io_callback_p", "pure_callback", "pure_callback_p"]

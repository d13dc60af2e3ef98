"""Public transformations that need only the core: make_jaxpr, eval_shape, device_put."""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from pyjax._src import core, devices as _devices, dtypes, tree_util
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.core import ShapedArray, Tracer
from pyjax._src.interpreters import partial_eval as pe


class ShapeDtypeStruct:
  """A shape/dtype placeholder accepted wherever an abstract argument is."""
  __slots__ = ("shape", "dtype", "sharding", "weak_type")

  def __init__(self, shape, dtype, *, sharding=None, weak_type=False):
    self.shape = tuple(shape)
    self.dtype = dtypes.canonicalize_dtype(dtype)
    self.sharding = sharding
    self.weak_type = weak_type

  ndim = property(lambda self: len(self.shape))
  size = property(lambda self: int(np.prod(self.shape)))

  @property
  def aval(self):
    return ShapedArray(self.shape, self.dtype, self.weak_type)

  def __repr__(self):
    w = ", weak_type=True" if self.weak_type else ""
    return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name}{w})"

  def __eq__(self, other):
    return (isinstance(other, ShapeDtypeStruct) and self.shape == other.shape
            and self.dtype == other.dtype and self.weak_type == other.weak_type)

  def __hash__(self):
    return hash((self.shape, self.dtype, self.weak_type))


def _abstractify(x, argname) -> ShapedArray:
  try:
    return core.get_aval(x)
  except TypeError:
    raise TypeError(f"Argument '{argname}' of type {type(x)} is not a valid JAX type. "
                    f"Only arrays, NumPy values, Python scalars and pytrees of them can "
                    f"be passed to transformed functions.") from None


def _static_args(fun, args, kwargs, static_argnums, what):
  static_argnums = (static_argnums,) if isinstance(static_argnums, int) else \
      tuple(static_argnums)
  n = len(args)
  static_argnums = tuple(i % n if i < 0 else i for i in static_argnums)
  for i in static_argnums:
    if i >= n:
      raise ValueError(f"{what} static_argnums {i} is out of range for {n} positional "
                       f"arguments.")
  dyn = [a for i, a in enumerate(args) if i not in static_argnums]
  return static_argnums, dyn


def make_jaxpr(fun: Callable, static_argnums: int | Sequence[int] = (),
               axis_env=None, return_shape: bool = False, abstracted_axes=None):
  """Returns a function that gives the ``ClosedJaxpr`` of ``fun`` for given arguments."""
  if isinstance(static_argnums, int):
    static_argnums = (static_argnums,)

  @functools.wraps(fun)
  def make_jaxpr_f(*args, **kwargs):
    sargs, dyn = _static_args(fun, args, kwargs, static_argnums, "make_jaxpr")
    flat, in_tree = tree_util.tree_flatten((tuple(dyn), kwargs))
    dbg = core.debug_info("make_jaxpr", fun, args, kwargs, sargs)
    names = dbg.arg_names
    in_avals = [_abstractify(x, names[i] if i < len(names) else f"args[{i}]")
                for i, x in enumerate(flat)]
    out_tree_box = []

    def flat_fun(*tracers):
      dyn_args, kw = tree_util.tree_unflatten(in_tree, list(tracers))
      it = iter(dyn_args)
      full = [a if i in sargs else next(it) for i, a in enumerate(args)]
      out = fun(*full, **kw)
      out_flat, out_tree = tree_util.tree_flatten(out)
      out_tree_box.append(out_tree)
      return out_flat

    jaxpr, consts = pe.trace_to_jaxpr(flat_fun, in_avals, dbg)
    closed = core.ClosedJaxpr(jaxpr, consts)
    if return_shape:
      shapes = [ShapeDtypeStruct(v.aval.shape, v.aval.dtype, weak_type=v.aval.weak_type)
                for v in jaxpr.outvars]
      return closed, tree_util.tree_unflatten(out_tree_box[0], shapes)
    return closed

  make_jaxpr_f.__name__ = f"make_jaxpr({getattr(fun, '__name__', repr(fun))})"
  return make_jaxpr_f


def eval_shape(fun: Callable, *args, **kwargs):
  """Output shapes/dtypes of ``fun`` without running it (as ShapeDtypeStructs)."""
  _, shapes = make_jaxpr(fun, return_shape=True)(*args, **kwargs)
  return shapes


def device_put(x, device=None, *, src=None, donate=False, may_alias=None):
  """Places a pytree of array-likes on ``device`` (host memory on CPU)."""
  if device is not None and not isinstance(device, (_devices.Device, _devices.Sharding)):
    raise TypeError(f"device_put: device must be a Device or Sharding, got {device!r}")
  dev = device._device if isinstance(device, _devices.SingleDeviceSharding) else device

  def put(leaf):
    if isinstance(leaf, Tracer):
      return leaf
    if isinstance(leaf, ArrayImpl):
      return leaf if dev is None else ArrayImpl(leaf._value, leaf.weak_type, dev)
    if isinstance(leaf, ShapeDtypeStruct):
      raise TypeError("device_put: ShapeDtypeStruct is not a concrete value")
    arr = asarray_value(leaf)
    return arr if dev is None else ArrayImpl(arr._value, arr.weak_type, dev)
  return tree_util.tree_map(put, x)


def device_get(x):
  """Copies a pytree of arrays to NumPy values on the host."""
  return tree_util.tree_map(lambda l: np.asarray(l) if isinstance(l, ArrayImpl) else l, x)


def block_until_ready(x):
  """Waits for every array in a pytree to be computed; returns the pytree."""
  for leaf in tree_util.tree_leaves(x):
    if hasattr(leaf, "block_until_ready"):
      leaf.block_until_ready()
  return x


# ---------------------------------------------------------------- autodiff (ad.py owns the machinery)


# ---------------------------------------------------------------- vmap (batching.py owns the machinery)


# ---------------------------------------------------------------- jit (pjit.py / dispatch.py own the machinery)

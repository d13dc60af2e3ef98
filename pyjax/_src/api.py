"""The public transformations: make_jaxpr, eval_shape, device_put, autodiff, vmap, jit.

Argument handling and tracing are api_util's; each transformation's machinery lives with
its interpreter (ad.py, batching.py, pjit.py)."""
from __future__ import annotations

import functools
import gc
import importlib.metadata
import os
import platform
import sys
import textwrap
from typing import Callable, Sequence

import numpy as np

from pyjax._src import api_util, caches, core, devices as _devices, dtypes, multiprocess, pjit
from pyjax._src import prng
from pyjax._src import config as config_mod, tree_util, version as version_mod
from pyjax._src import sharding as sharding_mod, source_info_util
from pyjax._src.api_util import ShapeDtypeStruct
from pyjax._src.array import ArrayImpl, GlobalArray, asarray_value
from pyjax._src.core import Tracer
from pyjax._src.errors import UnexpectedTracerError
from pyjax._src.interpreters import ad, batching
from pyjax._src.lax import lax, slicing
from pyjax._src.lax.sharding_ops import device_put_p

jit = pjit.jit


def make_jaxpr(fun: Callable, static_argnums: int | Sequence[int] = (),
               axis_env=None, return_shape: bool = False, abstracted_axes=None):
  """Returns a function that gives the ``ClosedJaxpr`` of ``fun`` for given arguments."""

  @functools.wraps(fun)
  def make_jaxpr_f(*args, **kwargs):
    sargs = api_util.static_argnums_in_range(static_argnums, len(args), "make_jaxpr")
    hit = pjit.trace_for_make_jaxpr(fun, sargs, args, kwargs) if axis_env is None else None
    if hit is not None:  # traced as jit traces (shared with jit's of fun), as JAX's
      closed, out_tree = hit
      if return_shape:
        shapes = api_util.shape_dtype_structs(closed.out_avals, closed.in_avals)
        return closed, tree_util.tree_unflatten(out_tree, shapes)
      return closed
    f, dyn = api_util.static_partial(fun, args, sargs)
    flat, in_tree = tree_util.tree_flatten((dyn, kwargs))
    dbg = api_util.debug_info("make_jaxpr", fun, args, kwargs, sargs)
    in_avals = api_util.abstractify_args(flat, dbg)
    closed, _, out_tree = api_util.trace_to_jaxpr(f, in_avals, dbg, in_tree=in_tree,
                                                  hoist=False)
    if return_shape:
      shapes = api_util.shape_dtype_structs(closed.out_avals, closed.in_avals)
      return closed, tree_util.tree_unflatten(out_tree, shapes)
    return closed

  make_jaxpr_f.__name__ = f"make_jaxpr({getattr(fun, '__name__', repr(fun))})"
  return make_jaxpr_f


def eval_shape(fun: Callable, *args, **kwargs):
  """Output shapes/dtypes of ``fun`` without running it (as ShapeDtypeStructs)."""
  is_key = lambda x: isinstance(x, prng.PRNGKeyArray)
  args, kwargs = tree_util.tree_map(_key_struct_in, (args, kwargs), is_leaf=is_key)
  _, shapes = make_jaxpr(fun, return_shape=True)(*args, **kwargs)
  return tree_util.tree_map(_key_struct_out, shapes, is_leaf=is_key)


def _key_struct_in(x):
  """A typed-key ShapeDtypeStruct as a key array over a uint32 struct (its pytree)."""
  if isinstance(x, ShapeDtypeStruct) and isinstance(x.dtype, prng.KeyTy):
    impl = x.dtype._impl
    return prng.PRNGKeyArray(impl, ShapeDtypeStruct((*x.shape, *impl.key_shape),
                                                    np.uint32))
  return x


def _key_struct_out(x):
  if isinstance(x, prng.PRNGKeyArray):
    return ShapeDtypeStruct(x.shape, x.dtype)
  return x


def _placement(device):
  """What ``device_put`` stores in an array's ``_device``: None, a Device, or a
  multi-device Sharding."""
  if device is None or isinstance(device, _devices.Device):
    return device
  s = sharding_mod.canonicalize_sharding(device, "device_put: device")
  if isinstance(s, sharding_mod.SingleDeviceSharding):
    return s._device
  if s.num_devices == 1:
    return s._device_assignment[0]
  return s


_PLACEMENTS = (_devices.Device, sharding_mod.Sharding, sharding_mod.PartitionSpec)


def device_put(x, device=None, *, src=None, donate=False, may_alias=None):
  """Places a pytree of array-likes on ``device``: a Device, a Sharding or a
  PartitionSpec (with a mesh set), or a pytree prefix of those. The values stay in host
  memory; a sharding says which slice each device holds."""
  if device is not None and not isinstance(device, _PLACEMENTS):
    flat, tree = tree_util.tree_flatten(x)
    try:
      devs = tree_util.broadcast_prefix(device, x, is_leaf=lambda d: d is None)
    except ValueError as e:
      raise ValueError(f"device_put: the devices/shardings must be a pytree prefix of "
                       f"the values: {e}") from None
    for d in devs:
      if d is not None and not isinstance(d, _PLACEMENTS):
        raise ValueError("`jax.device_put` only accepts `None`, `jax.sharding.Sharding`, "
                         "`jax.Device`, `Format`, `jax.memory.Space` or a pytree of these "
                         f"values. Received invalid value: {d}")
    return tree_util.tree_unflatten(tree, [device_put(l, d) for l, d in zip(flat, devs)])
  dev = _placement(device)

  def put(leaf):
    if isinstance(leaf, Tracer):
      if isinstance(dev, sharding_mod.NamedSharding):  # the type takes the sharding
        return device_put_p.bind(leaf, devices=(dev,), srcs=(None,),
                                 copy_semantics=(None,))[0]
      return leaf
    if isinstance(leaf, ArrayImpl):
      if dev is None:
        return leaf
      arr = leaf
    elif isinstance(leaf, ShapeDtypeStruct):
      raise TypeError("device_put: ShapeDtypeStruct is not a concrete value")
    else:
      arr = asarray_value(leaf)
      if dev is None:
        return arr
    if isinstance(dev, sharding_mod.Sharding):
      dev.shard_shape(arr.shape)  # JAX's errors: rank, divisibility
      if isinstance(dev, sharding_mod.NamedSharding):
        core.note_sharded()  # eager results take shardings from now on
        if type(arr) is GlobalArray or not dev.is_fully_addressable:
          return multiprocess.put(arr, dev)  # this process's block of the whole value
    elif type(arr) is GlobalArray:
      return multiprocess.put(arr, sharding_mod.SingleDeviceSharding(dev))
    return ArrayImpl(arr._value, arr.weak_type, dev)
  return tree_util.tree_map(put, x)


# ---------------------------------------------------------------- arrays from shards
# One process holds every device here, so an array built from per-device pieces is one
# global host buffer the pieces are copied into, plus the sharding.


def _check_dtype(pieces, dtype, fname):
  if dtype is None:
    if not pieces:
      raise ValueError(f"If the Array has no addressable shards, `dtype` must be provided "
                       f"via the `dtype` argument to `jax.{fname}`.")
    return pieces[0].dtype
  dtype = dtypes.canonicalize_dtype(dtype)
  if pieces and pieces[0].dtype != dtype:
    raise ValueError(
        f"If `dtype` is provided to `jax.{fname}`, it must match the dtype of the "
        f"addressable shards. Got dtype={dtype} and shard dtype={pieces[0].dtype}`.")
  return dtype


def _assemble(shape, sharding, pieces, indices, dtype):
  """The global array of ``pieces`` (one per index of ``indices``) with ``sharding``."""
  expected = sharding.shard_shape(shape)
  full = core.ShapedArray(shape, dtype).str_short(short_dtypes=False)
  for p in pieces:
    if p.dtype != dtype:
      raise ValueError(f"Input buffers to `Array` must have matching dtypes. Got "
                       f"{p.dtype}, expected {dtype} for buffer: {p}")
    if tuple(p.shape) != tuple(expected):
      raise ValueError(
          f"Expected shard shape {tuple(expected)} doesn't match the single device array "
          f"shape {tuple(p.shape)}. Shape of Array is {full} with sharding {sharding}")
  if not sharding.is_fully_addressable:  # this process's pieces make its block
    found = dict(zip(map(_index_key, indices), pieces))
    return multiprocess.from_shards(sharding, shape,
                                    lambda d, idx: found[_index_key(idx)])
  out = np.empty(shape, dtype)
  for p, idx in zip(pieces, indices):
    out[idx] = p
  out.flags.writeable = False
  return ArrayImpl(out, False, pjit._placement(sharding))


def _index_key(idx):
  return tuple((i.start, i.stop) for i in idx)


def _piece(x):
  """A callback's or caller's piece as a NumPy value of a canonical dtype."""
  if isinstance(x, ArrayImpl):
    return np.asarray(x)
  if isinstance(x, bool):
    return np.asarray(x, np.bool_)
  v = np.asarray(x)
  if isinstance(x, (int, float, complex)):
    v = v.astype(dtypes.canonicalize_dtype(dtypes.python_scalar_dtypes[type(x)]))
  return v.astype(dtypes.canonicalize_dtype(v.dtype), copy=False)


def make_array_from_callback(shape, sharding, data_callback, dtype=None) -> ArrayImpl:
  """An Array of ``shape`` and ``sharding`` whose shards are ``data_callback(index)``
  (index: a tuple of slices into the global array). Not under a transformation."""
  if not isinstance(sharding, sharding_mod.Sharding):
    raise TypeError(f"sharding should be an instance of `jax.sharding`. Got {sharding} of "
                    f"type {type(sharding)}")
  shape = tuple(shape)

  def get(index):
    r = data_callback(index)
    if isinstance(r, Tracer):
      raise UnexpectedTracerError(
          "jax.make_array_from_callback cannot be called within a traced context.")
    return _piece(r)
  if sharding.is_fully_replicated:
    indices = [tuple(slice(None) for _ in shape)]
  else:
    indices = list(sharding.addressable_devices_indices_map(shape).values())
  pieces = [get(i) for i in indices]
  dtype = _check_dtype(pieces, dtype, "make_array_from_callback")
  return _assemble(shape, sharding, pieces, indices, dtype)


def make_array_from_single_device_arrays(shape, sharding, arrays, *, dtype=None
                                         ) -> ArrayImpl:
  """An Array of ``shape`` and ``sharding`` from one single-device Array per device
  (each on its own device, in any order)."""
  if not isinstance(arrays, (list, tuple)):
    raise TypeError(f"jax.make_array_from_single_device_arrays `arrays` argument must be "
                    f"a list or tuple, but got {type(arrays)}.")
  if any(isinstance(a, Tracer) for a in arrays):
    raise ValueError(f"jax.make_array_from_single_device_arrays requires a list of "
                     f"concrete arrays as input, but got types {set(map(type, arrays))}")
  dtype = _check_dtype(arrays, dtype, "make_array_from_single_device_arrays")
  shape = tuple(shape)
  index_map = sharding.addressable_devices_indices_map(shape)
  if len(arrays) != len(index_map):
    raise ValueError(f"Expected {len(index_map)} per-device arrays (this is how many "
                     f"devices are addressable by the sharding), but got {len(arrays)}")
  devs = [a.device if isinstance(a, ArrayImpl) else _devices.default_device()
          for a in arrays]
  if len(set(devs)) != len(devs):
    raise ValueError(f"When making an array from single-device arrays, the input arrays "
                     f"must be from distinct devices, but got device IDs "
                     f"{[d.id for d in devs]}")
  missing = [d for d in devs if d not in index_map]
  if missing:
    raise ValueError(f"When making an array from single-device arrays, the input arrays "
                     f"must be on the sharding's devices {list(index_map)}, but got "
                     f"device IDs {[d.id for d in devs]}")
  pieces = [_piece(a) for a in arrays]
  return _assemble(shape, sharding, pieces, [index_map[d] for d in devs], dtype)


def make_array_from_process_local_data(sharding, local_data, global_shape=None):
  """``device_put(local_data, sharding)``: one process holds all the data (pytrees of
  shardings, data and shapes as JAX's)."""
  datas = tree_util.tree_leaves(local_data)
  shapes = tree_util.broadcast_prefix(global_shape, local_data,
                                      is_leaf=lambda x: x is None or isinstance(x, tuple))
  if multiprocess.active():
    shards = tree_util.broadcast_prefix(sharding, local_data)
    flat, tree = tree_util.tree_flatten(local_data)
    return tree_util.tree_unflatten(tree, [
        multiprocess.from_process_local(sh, _piece(d), gs)
        for sh, d, gs in zip(shards, flat, shapes)])
  for s, d in zip(shapes, datas):
    if s is not None and tuple(s) != np.shape(d):
      raise ValueError(
          f"When calling `make_array_from_process_local_data` on a single process, "
          f"global_shape should be None or equal to local_data.shape.Got "
          f"global_shape={tuple(s)} and local_data.shape={np.shape(d)}.")
  return device_put(local_data, sharding)


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


def _check_callable(fun, what):
  if not callable(fun):
    raise TypeError(f"{what} expected a callable value, got {fun!r}")


def _leaf_dtype(x, argname):
  try:
    return core.get_aval(x).dtype
  except TypeError:
    raise TypeError(f"Argument '{argname}' of type {type(x)} is not a valid JAX type."
                    ) from None


def _check_input_dtype(name, x, holomorphic, allow_int):
  dt = _leaf_dtype(x, type(x).__name__)
  if holomorphic:
    if dt.kind != "c":
      raise TypeError(f"{name} with holomorphic=True requires inputs with complex dtype, "
                      f"but got {dt.name}.")
  if name == "jacfwd":  # (forward mode: real inputs only, unless holomorphic)
    if not holomorphic and not (dtypes.issubdtype(dt, np.floating) or
                                dt == dtypes.bfloat16):
      raise TypeError(
          f"jacfwd requires real-valued inputs (input dtype that is a sub-dtype of "
          f"np.floating), but got {dt.name}. For holomorphic differentiation, pass "
          f"holomorphic=True. For differentiation of non-holomorphic functions involving "
          f"complex inputs or integer inputs, use jax.jvp directly.")
    return
  if dtypes.issubdtype(dt, np.inexact) or dt == dtypes.bfloat16:
    return
  if (dt.kind in "iub" or dt == dtypes.float0) and allow_int:
    return
  raise TypeError(
      f"{name} requires real- or complex-valued inputs (input dtype that is a sub-dtype "
      f"of np.inexact), but got {dt.name}. If you want to use Boolean- or integer-valued "
      f"inputs, use vjp or set allow_int to True.")


def _check_output_dtype(name, dt, holomorphic):
  if holomorphic:
    if dt.kind != "c":
      raise TypeError(f"{name} with holomorphic=True requires outputs with complex dtype, "
                      f"but got {dt.name}.")
  elif dt.kind == "c":
    raise TypeError(
        f"{name} requires real-valued outputs (output dtype that is a sub-dtype of "
        f"np.floating), but got {dt.name}. For holomorphic differentiation, pass "
        f"holomorphic=True. For differentiation of non-holomorphic functions involving "
        f"complex outputs, use jax.vjp directly.")
  elif not (dtypes.issubdtype(dt, np.floating) or dt == dtypes.bfloat16):
    raise TypeError(
        f"{name} requires real-valued outputs (output dtype that is a sub-dtype of "
        f"np.floating), but got {dt.name}. For differentiation of functions with integer "
        f"outputs, use jax.vjp directly.")


def jvp(fun: Callable, primals, tangents, has_aux: bool = False):
  """Forward-mode Jacobian-vector product: ``(fun(*primals), J @ tangents)``."""
  _check_callable(fun, "jvp")
  if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
    raise TypeError(f"primal and tangent arguments to jax.jvp must be tuples or lists; "
                    f"found {type(primals).__name__} and {type(tangents).__name__}.")
  p_flat, p_tree = tree_util.tree_flatten(tuple(primals))
  t_flat, t_tree = tree_util.tree_flatten(tuple(tangents))
  if p_tree != t_tree:
    raise TypeError(f"primal and tangent arguments to jax.jvp must have the same tree "
                    f"structure; primals have tree structure {p_tree} whereas tangents "
                    f"have tree structure {t_tree}.")
  p_flat = [ad._as_array(p) for p in p_flat]
  ts = []
  for p, t in zip(p_flat, t_flat):
    pa = core.get_aval(p)
    ta = core.get_aval(t)  # float0 arrays included
    expected = ad.tangent_aval(pa).dtype
    if ta.dtype != expected and not (type(t) is float and expected.kind == "f"):
      raise TypeError(
          f"primal and tangent arguments to jax.jvp do not match; dtypes must be equal, "
          f"or in case of int/bool primal dtype the tangent dtype must be float0.Got "
          f"primal dtype {pa.dtype} and so expected tangent dtype {expected}, "
          f"but got tangent dtype {ta.dtype} instead.")  # (float0 prints as NumPy's)
    if pa.shape != ta.shape:
      raise ValueError(f"jvp called with different primal and tangent shapes;Got primal "
                       f"shape {pa.shape} and tangent shape as {ta.shape}")
    ts.append(ad.Zero(ad.tangent_aval(pa)) if expected == dtypes.float0
              else ad._as_array(t))
  flat_fun, store = api_util.flatten_fun(fun, p_tree, kwargs=False,
                                         has_aux="jvp" if has_aux else None)
  out_p, out_t = ad.jvp_flat(
      (lambda *xs: flat_fun(*xs) + store.aux_leaves) if has_aux else flat_fun, p_flat, ts)
  out_t = [ad.instantiate(t) for t in out_t]
  n = store.out_tree.num_leaves
  primal_out = tree_util.tree_unflatten(store.out_tree, out_p[:n])
  tangent_out = tree_util.tree_unflatten(store.out_tree, out_t[:n])
  if has_aux:
    return primal_out, tangent_out, tree_util.tree_unflatten(store.aux_tree, out_p[n:])
  return primal_out, tangent_out


def _linearize(fun, primals, has_aux, what):
  """Linearizes ``fun(*primals)`` (pytrees). Returns outputs, trees, the linear jaxpr."""
  p_flat, in_tree = tree_util.tree_flatten(tuple(primals))
  for i, p in enumerate(p_flat):
    _leaf_dtype(p, f"primals[{i}]")
  p_flat = [ad._as_array(p) for p in p_flat]
  flat_fun, store = api_util.flatten_fun(fun, in_tree, kwargs=False,
                                         has_aux=what if has_aux else None,
                                         check_out=lambda o: _leaf_dtype(o, "output"))

  def grab_aux(trace):
    if has_aux:
      store.aux_leaves = ad.unbox_aux(trace, store.aux_leaves)

  out_p, jaxpr, consts, nonzero = ad.linearize_flat(flat_fun, p_flat, grab_aux)
  aux = tree_util.tree_unflatten(store.aux_tree, store.aux_leaves) if has_aux else None
  return p_flat, in_tree, out_p, store.out_tree, jaxpr, consts, nonzero, aux


class _VJP:
  """The pullback returned by ``vjp``: maps output cotangents to input cotangents."""

  def __init__(self, fun, p_flat, in_tree, out_p, out_tree, jaxpr, consts, nonzero):
    self.fun, self.p_flat, self.in_tree = fun, p_flat, in_tree
    self.out_avals = [core.get_aval(o) for o in out_p]
    self.out_tree, self.jaxpr, self.consts, self.nonzero = out_tree, jaxpr, consts, nonzero

  def __call__(self, ct):
    ct_flat, ct_tree = tree_util.tree_flatten(ct)
    if ct_tree != self.out_tree:
      name = getattr(self.fun, "__name__", repr(self.fun))
      raise ValueError(
          f"unexpected tree structure of argument to vjp function: got {ct_tree}, but "
          f"expected to match {self.out_tree} (the output structure of the "
          f"differentiated function {name}).")
    cts = []
    for c, aval, nz in zip(ct_flat, self.out_avals, self.nonzero):
      ca = core.get_aval(c)  # float0 arrays included
      expect = ad.tangent_aval(aval)
      if ca.shape != expect.shape or ca.dtype != expect.dtype:
        raise ValueError(
            f"unexpected JAX type (e.g. shape/dtype) for argument to VJP function: got "
            f"{ca.str_short(False)}, but expected {expect.str_short(False)} because the "
            f"corresponding output of the differentiated function had JAX type "
            f"{aval.str_short(False)}")
      if nz:
        cts.append(ad._as_array(c))
    cts_in = ad.linear_transpose_flat(self.jaxpr, self.consts, cts)
    it = iter(cts_in)
    out = []
    for p in self.p_flat:
      aval = core.get_aval(p)
      if ad.is_float(aval.dtype):
        c = next(it)
        out.append(ad.zeros_like_aval(aval) if c is None else c)
      else:
        out.append(ad.zeros_like_aval(ad.tangent_aval(aval)))
    return tree_util.tree_unflatten(self.in_tree, out)

  def __repr__(self):
    return f"VJP(fun={getattr(self.fun, '__name__', self.fun)}, in_tree={self.in_tree})"


def vjp(fun: Callable, *primals, has_aux: bool = False, reduce_axes=()):
  """Reverse mode: returns ``(fun(*primals), vjp_fun)`` (and aux with ``has_aux``)."""
  _check_callable(fun, "vjp")
  p_flat, in_tree, out_p, out_tree, jaxpr, consts, nonzero, aux = _linearize(
      fun, primals, has_aux, "vjp")
  pullback = _VJP(fun, p_flat, in_tree, out_p, out_tree, jaxpr, consts, nonzero)
  out = tree_util.tree_unflatten(out_tree, out_p)
  return (out, pullback, aux) if has_aux else (out, pullback)


def linearize(fun: Callable, *primals, has_aux: bool = False):
  """Returns ``(fun(*primals), f_jvp)`` where ``f_jvp`` evaluates the staged tangent map."""
  _check_callable(fun, "linearize")
  p_flat, in_tree, out_p, out_tree, jaxpr, consts, nonzero, aux = _linearize(
      fun, primals, has_aux, "linearize")
  in_avals = [core.get_aval(p) for p in p_flat]
  out_avals = [ad.tangent_aval(core.get_aval(o)) for o in out_p]

  def f_jvp(*tangents):
    t_flat, t_tree = tree_util.tree_flatten(tuple(tangents))
    if t_tree != in_tree:
      raise TypeError(f"linearized function called on tangent values inconsistent with "
                      f"the original primal values: expected structure {in_tree}, got "
                      f"{t_tree}.")
    lin_in = []
    for t, a in zip(t_flat, in_avals):
      ta = core.get_aval(t)
      if ad.is_float(a.dtype):
        if ta.shape != a.shape or ta.dtype != a.dtype:
          raise ValueError(f"linearized function called on tangent values inconsistent "
                           f"with the original primal values: got {ta.str_short()} for "
                           f"primal aval {a.str_short()}")
        lin_in.append(t)
    outs = iter(core.eval_jaxpr(jaxpr, consts, *lin_in))
    flat = [next(outs) if nz else ad.zeros_like_aval(a) for nz, a in zip(nonzero, out_avals)]
    return tree_util.tree_unflatten(out_tree, flat)

  out = tree_util.tree_unflatten(out_tree, out_p)
  return (out, f_jvp, aux) if has_aux else (out, f_jvp)


def value_and_grad(fun: Callable, argnums=0, has_aux: bool = False,
                   holomorphic: bool = False, allow_int: bool = False, reduce_axes=()):
  """Returns a function computing ``fun``'s value and its gradient w.r.t. ``argnums``."""
  _check_callable(fun, "value_and_grad")
  return _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, "value_and_grad")


def _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, name):
  @functools.wraps(fun)
  def value_and_grad_f(*args, **kwargs):
    f_partial, dyn = api_util.argnums_partial(fun, argnums, args, kwargs)
    for leaf in tree_util.tree_leaves(dyn):
      _check_input_dtype("grad", leaf, holomorphic, allow_int)
    res = vjp(f_partial, *dyn, has_aux=has_aux)
    ans, pullback = res[0], res[1]
    if not (isinstance(ans, (ArrayImpl, Tracer)) or type(ans) in (int, float, complex)
            or isinstance(ans, (np.ndarray, np.generic))):
      raise TypeError(f"Gradient only defined for scalar-output functions. Output was "
                      f"{ans!r}.")
    aval = core.get_aval(ans)
    if aval.shape:
      raise TypeError(f"Gradient only defined for scalar-output functions. Output had "
                      f"shape: {aval.shape}.")
    _check_output_dtype("grad", aval.dtype, holomorphic)
    g = pullback(lax._convert_element_type(1, aval.dtype, aval.weak_type))  # JAX's _one
    g = g[0] if isinstance(argnums, int) else g
    if has_aux:
      return (ans, res[2]), g
    return ans, g

  return value_and_grad_f


def grad(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
         allow_int: bool = False, reduce_axes=()):
  """Returns a function computing the gradient of scalar-valued ``fun``."""
  _check_callable(fun, "grad")
  vg = _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, "grad")

  def grad_f(*args, **kwargs):
    out, g = vg(*args, **kwargs)
    return (g, out[1]) if has_aux else g

  functools.update_wrapper(grad_f, fun)
  return grad_f


def _std_basis(flat_leaves):
  """Rows of the identity, split and reshaped like ``flat_leaves``: one (N, *shape) each."""
  sizes = [int(np.prod(core.get_aval(l).shape)) for l in flat_leaves]
  n = sum(sizes)
  dt = dtypes.lattice_result_type(*[core.get_aval(l).dtype for l in flat_leaves])[0] \
      if flat_leaves else np.dtype(np.float32)
  eye = np.eye(n, dtype=dt)
  out, start = [], 0
  for l, sz in zip(flat_leaves, sizes):
    aval = core.get_aval(l)
    out.append(ArrayImpl(eye[:, start:start + sz].reshape((n, *aval.shape)).astype(
        aval.dtype), aval.weak_type))  # JAX's _possible_downcast: like the leaf
    start += sz
  return out


def _possible_downcast(x, example):
  """``x`` as ``example``'s dtype and weak type (its real part for a real example)."""
  ex = core.get_aval(example)
  if x.dtype == dtypes.float0:  # an integer input's cotangent: zeros of its dtype
    return lax.full(x.shape, lax._convert_element_type(0, ex.dtype, ex.weak_type))
  if x.dtype.kind == "c" and ex.dtype.kind != "c":
    x = lax.real(x)
  return lax._convert_element_type(x, ex.dtype, ex.weak_type)


def _unravel(pytree_leaves, axis, arr, n_total, example=None):
  """Splits ``arr``'s ``axis`` (of length n_total) into pieces shaped like the leaves,
  each of ``example``'s dtype and weak type (the leaf's when None), as JAX's."""
  out, start = [], 0
  for leaf in pytree_leaves:
    shape = core.get_aval(leaf).shape
    sz = int(np.prod(shape))
    ax = axis % arr.ndim
    piece = slicing.slice_in_dim(arr, start, start + sz, axis=ax)
    piece = lax.reshape(piece, (*arr.shape[:ax], *shape, *arr.shape[ax + 1:]))
    out.append(_possible_downcast(piece, leaf if example is None else example))
    start += sz
  return out


def _jac_inputs(name, fun, argnums, args, kwargs, holomorphic, allow_int):
  """The differentiated arguments of a Jacobian call, flattened and dtype-checked."""
  f_partial, dyn = api_util.argnums_partial(fun, argnums, args, kwargs)
  in_flat, in_tree = tree_util.tree_flatten(dyn)
  for leaf in in_flat:
    _check_input_dtype(name, leaf, holomorphic, allow_int)
  return f_partial, dyn, in_flat, in_tree


def jacfwd(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False):
  """Jacobian of ``fun`` by forward mode, vectorized over the input basis with vmap."""
  _check_callable(fun, "jacfwd")

  @functools.wraps(fun)
  def jacfun(*args, **kwargs):
    f_partial, dyn, in_flat, in_tree = _jac_inputs("jacfwd", fun, argnums, args, kwargs,
                                                   holomorphic, False)
    basis = _std_basis(in_flat)

    def pushfwd(*tangent_flat):
      tangents = tree_util.tree_unflatten(in_tree, list(tangent_flat))
      res = jvp(f_partial, dyn, tangents, has_aux=has_aux)
      return res if has_aux else (*res, None)

    y, jac, aux = vmap(pushfwd, out_axes=(None, -1, None))(*basis)
    y_flat, y_tree = tree_util.tree_flatten(y)
    if not holomorphic:
      for leaf in y_flat:
        if core.get_aval(leaf).dtype.kind == "c":
          _check_output_dtype("jacfwd", core.get_aval(leaf).dtype, False)
    n = len(basis[0]) if basis else 0
    jac_flat = tree_util.tree_leaves(jac)
    per_out = [tree_util.tree_unflatten(in_tree, _unravel(in_flat, -1, j, n, y_leaf))
               for j, y_leaf in zip(jac_flat, y_flat)]
    if isinstance(argnums, int):
      per_out = [p[0] for p in per_out]
    out = tree_util.tree_unflatten(y_tree, per_out)
    return (out, aux) if has_aux else out

  return jacfun


def jacrev(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
           allow_int: bool = False):
  """Jacobian of ``fun`` by reverse mode, vectorized over the output basis with vmap."""
  _check_callable(fun, "jacrev")

  @functools.wraps(fun)
  def jacfun(*args, **kwargs):
    f_partial, dyn, in_flat, in_tree = _jac_inputs("jacrev", fun, argnums, args, kwargs,
                                                   holomorphic, allow_int)
    res = vjp(f_partial, *dyn, has_aux=has_aux)
    y, pullback = res[0], res[1]
    y_flat, y_tree = tree_util.tree_flatten(y)
    for leaf in y_flat:
      _check_output_dtype("jacrev", core.get_aval(leaf).dtype, holomorphic) \
          if holomorphic or core.get_aval(leaf).dtype.kind == "c" else None
    basis = _std_basis(y_flat)
    jac = vmap(lambda *ct: pullback(tree_util.tree_unflatten(y_tree, list(ct))))(*basis)
    # jac: tuple (per dyn arg) of pytrees with leaves (M, *in_shape).
    jac_in_flat = tree_util.tree_leaves(jac)
    m = sum(int(np.prod(core.get_aval(l).shape)) for l in y_flat)
    per_in = [_unravel(y_flat, 0, j, m, x_leaf)
              for j, x_leaf in zip(jac_in_flat, in_flat)]  # [in][out]
    per_out = [tree_util.tree_unflatten(in_tree, [per_in[i][o] for i in range(len(per_in))])
               for o in range(len(y_flat))]
    if isinstance(argnums, int):
      per_out = [p[0] for p in per_out]
    out = tree_util.tree_unflatten(y_tree, per_out)
    return (out, res[2]) if has_aux else out

  return jacfun


jacobian = jacrev


def hessian(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False):
  """Hessian of scalar ``fun``: ``jacfwd(jacrev(fun))``."""
  return jacfwd(jacrev(fun, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)


def linear_transpose(fun: Callable, *primals, reduce_axes=()):
  """Transpose of the linear function ``fun`` at (shape/dtype of) ``primals``."""
  # stand-ins typed as the primals (weak ones weak; Python scalars too, as JAX's)
  zeros = tree_util.tree_map(lambda x: ad.zeros_like_aval(core.ShapedArray(
      np.shape(x), dtypes.canonicalize_dtype(dtypes.dtype(x)), dtypes.is_weakly_typed(x))),
      primals)
  p_flat, in_tree, out_p, out_tree, jaxpr, consts, nonzero, _ = _linearize(
      fun, zeros, False, "linear_transpose")
  return _VJP(fun, p_flat, in_tree, out_p, out_tree, jaxpr, consts, nonzero)



# ---------------------------------------------------------------- vmap (batching.py owns the machinery)


def vmap(fun: Callable, in_axes=0, out_axes=0, axis_name=None, axis_size=None,
         spmd_axis_name=None) -> Callable:
  """Vectorizing map: ``fun`` over one more array axis, the loop pushed into each
  primitive's batch rule (kwargs are mapped over axis 0). ``spmd_axis_name`` is
  accepted and ignored (it only names a sharding)."""
  return batching.vmap(fun, in_axes, out_axes, axis_name, axis_size)


# ---------------------------------------------------------------- name scopes


def named_scope(name: str):
  """Context manager (or decorator) adding ``name`` to the name stack. pyjax keeps the
  stack (``jax.extend.source_info_util.current_name_stack()``) but does not record it
  in jaxprs or compiled programs."""
  if not isinstance(name, str):
    raise TypeError("named_scope name argument must be a string.")
  return source_info_util.extend_name_stack(name)


def named_call(fun: Callable, *, name: str | None = None) -> Callable:
  """``fun`` run inside ``named_scope(name)`` (``fun.__name__`` by default)."""
  if name is None:
    name = fun.__name__
  return source_info_util.extend_name_stack(name)(fun)


# ---------------------------------------------------------------- runtime utilities


def clear_caches():
  """Empties pyjax's in-memory caches: jit's traces and compiled programs, eager GPU
  programs, IREE's in-memory modules. The on-disk compilation cache stays."""
  caches.clear_all()


def live_arrays(platform=None):
  """The arrays alive in this process on ``platform`` (default: the default backend's).
  Found by scanning the garbage collector's objects: slow, for debugging only."""
  plat = platform or _devices.default_backend()
  return [o for o in gc.get_objects()
          if isinstance(o, ArrayImpl) and not o._deleted and o.device.platform == plat]


def effects_barrier():
  """Waits until effects (callbacks) of launched computations have run: pyjax runs them
  during the call, so there is nothing to wait for."""


def copy_to_host_async(x):
  """Starts copying each array leaf of ``x`` to the host (a no-op on host arrays);
  returns ``x``."""
  for leaf in tree_util.tree_leaves(x):
    fn = getattr(leaf, "copy_to_host_async", None)
    if fn is not None:
      fn()
  return x


class UserContext(config_mod.State):
  """A value that jit's caches depend on (``jax.make_user_context``): entering a context
  with a new value clears jit's traces, so functions are traced again."""

  def __init__(self, default_value=None):
    self._value = default_value
    self.__name__ = "user_context"
    self._name = "user_context"
    self._default_context_manager_value = config_mod.no_default

  value = property(lambda self: self._value)

  def __call__(self, new_val=config_mod.no_default):
    return _UserContextManager(self, new_val)


class _UserContextManager:
  __slots__ = ("ctx", "new_val", "prev")

  def __init__(self, ctx, new_val):
    if new_val is config_mod.no_default:
      raise TypeError("Context manager for user_context config option requires an "
                      "argument representing the new value for the config option.")
    self.ctx, self.new_val = ctx, new_val

  def _set(self, value):
    if value is not self.ctx._value and value != self.ctx._value:
      caches.clear_all()
    self.ctx._value = value

  def __enter__(self):
    self.prev = self.ctx._value
    self._set(self.new_val)

  def __exit__(self, exc_type, exc_value, traceback):
    self._set(self.prev)

  def __call__(self, func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
      with _UserContextManager(self.ctx, self.new_val):
        return func(*args, **kwargs)
    return wrapper


def make_user_context(default_value=None):
  """A context (``ctx(value)``) whose value jit's caches depend on."""
  return UserContext(default_value)


def print_environment_info(return_string: bool = False):
  """pyjax's, NumPy's, IREE's and Python's versions, the devices and the JAX_/XLA_
  environment variables; printed, or returned with ``return_string``."""
  devs, n_local = _devices.devices(), _devices.local_device_count()
  info = textwrap.dedent(f"""\
  pyjax:  {version_mod.__version__} (JAX {version_mod._jax_api_version} API)
  iree:   {_iree_version()}
  numpy:  {np.__version__}
  python: {sys.version.replace(chr(10), ' ')}
  device info: {devs[0].device_kind}-{len(devs)}, {n_local} local devices
  process_count: {_devices.process_count()}
  platform: {platform.uname()}""")
  for key, value in os.environ.items():
    if key.startswith(("JAX_", "XLA_")):
      info += f"\n{key}={value}"
  if return_string:
    return info
  print(info)
  return None


def _iree_version():
  try:
    return importlib.metadata.version("iree-base-compiler")
  except importlib.metadata.PackageNotFoundError:
    return "unknown"

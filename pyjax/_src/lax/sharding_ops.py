"""The staged identities of placement: sharding_constraint_p (with_sharding_constraint),
device_put_p and reshard_p, and ``auto_axes``/``explicit_axes``. Values pass through
every rule: a sharded array is one host buffer. reshard changes the type (Explicit axes)
and, eagerly, the array's sharding (the eager hook in dispatch places it). (JAX keeps
them in pjit.py and dispatch.py; they sit here, below both.)"""
from __future__ import annotations

import functools

import numpy as np

from pyjax._src import core, tree_util
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.interpreters import ad
from pyjax._src.lax.utils import _to_array, canon_out_sharding
from pyjax._src.mesh import AxisType, Mesh, get_concrete_mesh, set_mesh
from pyjax._src.sharding import (NamedSharding, PartitionSpec as P, Sharding,
                                 aval_sharding, spec_axes)

sharding_constraint_p = Primitive("sharding_constraint")
sharding_constraint_p.def_impl(lambda x, **_: x)
sharding_constraint_p.def_abstract_eval(lambda x, **_: x)
sharding_constraint_p.sharding_rule = lambda x, **_: x.sharding  # JAX's: the type's
ad.deflinear(sharding_constraint_p, lambda ct, x, **params: [
    None if type(ct) is ad.Zero else sharding_constraint_p.bind(ct, **params)])
sharding_constraint_p.batch = lambda vals, dims, **params: (
    sharding_constraint_p.bind(vals[0], **params), dims[0])
sharding_constraint_p.lower = lambda ctx, x, **_: x


def with_sharding_constraint(x, shardings):
  """``x`` (a pytree) constrained to ``shardings`` (a prefix pytree); on one device the
  values pass through unchanged."""
  flat, tree = tree_util.tree_flatten(x)
  if isinstance(shardings, (list, tuple)) and not hasattr(shardings, "_fields") and \
      len(flat) > 1:
    shard_flat = tree_util.tree_leaves(shardings, is_leaf=lambda s: s is None)
  else:
    shard_flat = [shardings] * len(flat)
  if len(shard_flat) != len(flat):
    shard_flat = [shardings] * len(flat)
  outs = [sharding_constraint_p.bind(_to_array(v), sharding=s, layout=None,
                                     unconstrained_dims=frozenset())
          for v, s in zip(flat, shard_flat)]
  return tree_util.tree_unflatten(tree, outs)


device_put_p = Primitive("device_put")
device_put_p.multiple_results = True
device_put_p.def_impl(lambda *xs, **_: list(xs))
device_put_p.def_abstract_eval(lambda *xs, **_: list(xs))
device_put_p.sharding_rule = lambda *xs, devices, **_: [  # JAX's: as the target says
    aval_sharding(d, len(x.shape)) if isinstance(d, NamedSharding) else
    None if isinstance(d, Sharding) else x.sharding for x, d in zip(xs, devices)]


def _device_put_transpose(cts, *xs, devices, srcs, copy_semantics):
  cts = [ad.zeros_like_aval(x.aval) if c is None or type(c) is ad.Zero else c
         for c, x in zip(cts, xs)]
  return device_put_p.bind(*cts, devices=srcs, srcs=devices, copy_semantics=copy_semantics)


ad.deflinear(device_put_p, _device_put_transpose)
device_put_p.batch = lambda vals, dims, **params: (device_put_p.bind(*vals, **params),
                                                   list(dims))
device_put_p.lower = lambda ctx, *xs, **_: list(xs)


# ---------------------------------------------------------------- reshard (Explicit axes)

reshard_p = Primitive("reshard")


def _reshard_sharding(x, dst_sharding):
  return aval_sharding(dst_sharding, len(x.shape))


reshard_p.def_impl(lambda x, *, dst_sharding: x)  # the eager hook places the result
reshard_p.def_abstract_eval(lambda x, *, dst_sharding: ShapedArray(
    x.shape, x.dtype, x.weak_type, sharding=_reshard_sharding(x, dst_sharding)))
reshard_p.sharding_rule = lambda x, *, dst_sharding: _reshard_sharding(x, dst_sharding)
reshard_p.pp_params = lambda params: {}  # printed bare, as JAX's


def _reshard_transpose(ct, x, *, dst_sharding):
  """The cotangent goes back to the operand's sharding."""
  if type(ct) is ad.Zero:
    return [None]
  src = x.aval.sharding
  if src is None:
    src = NamedSharding(dst_sharding.mesh, P(*[None] * len(x.aval.shape)))
  return [reshard_p.bind(ct, dst_sharding=src)]


ad.deflinear(reshard_p, _reshard_transpose)


def _reshard_batch(vals, dims, *, dst_sharding):
  x, d = vals[0], dims[0]
  if d is None:
    return reshard_p.bind(x, dst_sharding=dst_sharding), None
  parts = list(dst_sharding.spec._normalized_spec_for_aval(len(x.shape) - 1).partitions)
  parts.insert(d, None)
  return reshard_p.bind(x, dst_sharding=dst_sharding.update(spec=P(*parts))), d


reshard_p.batch = _reshard_batch
reshard_p.lower = lambda ctx, x, **_: x


def reshard(xs, out_shardings):
  """``xs`` (a pytree) with the shardings ``out_shardings`` (a prefix pytree of
  NamedShardings or PartitionSpecs, the latter on the mesh in context): the values are
  unchanged, the types (Explicit axes) and the arrays' layouts are the new ones."""
  flat, tree = tree_util.tree_flatten(xs)
  if isinstance(out_shardings, (Sharding, P)) or out_shardings is None:
    shard_flat = [out_shardings] * len(flat)
  else:
    shard_flat = tree_util.broadcast_prefix(out_shardings, xs, is_leaf=lambda s: s is None)
  outs = []
  for x, s in zip(flat, shard_flat):
    x = _to_array(x)
    ds = canon_out_sharding(s, "reshard")
    if ds is None:
      raise ValueError(f"Reshard should only be used with out_shardings which are non-None "
                       f"and have a non-empty mesh. Got sharding {s}.")
    ds.shard_shape(x.shape)  # JAX's errors: rank, divisibility
    ds = ds.update(spec=ds.spec._normalized_spec_for_aval(len(x.shape)))
    outs.append(reshard_p.bind(x, dst_sharding=ds))
  return tree_util.tree_unflatten(tree, outs)


# ---------------------------------------------------------------- auto_axes / explicit_axes


def _new_mesh(axes, axis_type, name, shardings=None):
  """(mesh in context, the same with ``axes`` of ``axis_type``), or None without one."""
  cur = get_concrete_mesh()
  cur = None if cur is None or cur.empty else cur
  smesh = None
  for s in tree_util.tree_leaves(shardings):
    if isinstance(s, NamedSharding):
      if smesh is not None and smesh.abstract_mesh != s.mesh.abstract_mesh:
        raise ValueError(f"Shardings passed to {name} should have the same mesh. Got one "
                         f"mesh {smesh.abstract_mesh} and another {s.mesh}")
      smesh = s.mesh
  if cur is None and smesh is None:
    return None
  if cur is not None and smesh is not None and \
      smesh.abstract_mesh.axis_names != cur.abstract_mesh.axis_names:
    raise ValueError(f"Context mesh {cur.abstract_mesh} must match the mesh passed to "
                     f"shardings {smesh.abstract_mesh}. Recommended approach is to use "
                     f"`jax.set_mesh` context manager.")
  mesh = cur if cur is not None else smesh
  if not isinstance(mesh, Mesh):
    return None
  axes = mesh.axis_names if axes is None else axes if isinstance(axes, tuple) else (axes,)
  for a in axes:
    if mesh._name_to_type[a] == AxisType.Manual:
      raise NotImplementedError(
          "Going from `Manual` AxisType to `Auto` or `Explicit` AxisType is not allowed. "
          "Please file a bug at https://github.com/jax-ml/jax/issues with your use case")
  types = mesh._name_to_type
  types.update({a: axis_type for a in axes})
  return mesh, mesh.update(axis_types=tuple(types[n] for n in mesh.axis_names)), axes


def _auto_spec(x, mesh):
  """The spec of ``x``'s type with the axes that are not Explicit in ``mesh`` dropped."""
  s = core.get_aval(x).sharding
  if s is None:
    return P(*[None] * len(np.shape(x)))
  kept = []
  for e in s.spec.partitions:
    axes = tuple(a for a in spec_axes(e) if mesh._name_to_type[a] == AxisType.Explicit)
    kept.append(None if not axes else axes if isinstance(e, tuple) else axes[0])
  return P(*kept)


def auto_axes(f=None, /, *, axes=None, out_sharding=None):
  """``f`` run with the mesh ``axes`` (default: all) Auto: its operands lose those axes
  from their types, its results are resharded to ``out_sharding``."""
  if f is None:
    return lambda g: auto_axes(g, axes=axes, out_sharding=out_sharding)

  @functools.wraps(f)
  def wrapper(*args, **kwargs):
    if out_sharding is None:
      if "out_sharding" not in kwargs:
        raise TypeError("Missing required keyword argument: 'out_sharding'")
      out_s = kwargs.pop("out_sharding")
    else:
      out_s = out_sharding
    info = _new_mesh(axes, AxisType.Auto, "auto_axes", out_s)
    if info is None or set(info[0].auto_axes) == set(info[2]):
      return f(*args, **kwargs)
    prev, new, _ = info
    with set_mesh(new):
      args = reshard(args, tree_util.tree_map(lambda a: _auto_spec(a, new), args))
      out = f(*args, **kwargs)
    with set_mesh(prev):
      return reshard(out, out_s)
  return wrapper


def explicit_axes(f=None, /, *, axes=None, in_sharding=None):
  """``f`` run with the mesh ``axes`` (default: all) Explicit: its operands are resharded
  to ``in_sharding``, its results keep only the axes Explicit outside."""
  if f is None:
    return lambda g: explicit_axes(g, axes=axes, in_sharding=in_sharding)

  @functools.wraps(f)
  def wrapper(*args, **kwargs):
    if in_sharding is None:
      if "in_sharding" not in kwargs:
        raise TypeError("Missing required keyword argument: 'in_sharding'")
      in_s = kwargs.pop("in_sharding")
    else:
      in_s = in_sharding
    info = _new_mesh(axes, AxisType.Explicit, "explicit_axes")
    if info is None:
      raise ValueError("Context mesh cannot be empty. Please use `jax.set_mesh` API to "
                       "enter into a mesh context when using `explicit_axes` API.")
    prev, new, _ = info
    with set_mesh(new):
      args = reshard(args, in_s)
      out = f(*args, **kwargs)
    with set_mesh(prev):
      return reshard(out, tree_util.tree_map(lambda o: _auto_spec(o, prev), out))
  return wrapper

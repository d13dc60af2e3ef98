"""The staged identities of placement: sharding_constraint_p (with_sharding_constraint)
and device_put_p. A sharding never changes a value (one program computes the global
arrays), so both pass their operands through in every rule; an eager
with_sharding_constraint returns the value with the sharding set, and jit reads the
constraint's sharding when it propagates its results' shardings. (JAX keeps them in
pjit.py and dispatch.py; they sit here, below both.)"""
from __future__ import annotations

from pyjax._src import devices as devices_mod, tree_util
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Primitive
from pyjax._src.sharding import (PartitionSpec, Sharding, SingleDeviceSharding,
                                 sharding_from_spec)
from pyjax._src.interpreters import ad
from pyjax._src.lax.utils import _to_array

sharding_constraint_p = Primitive("sharding_constraint")


def _constraint_impl(x, *, sharding, **_):
  """The value unchanged, with the sharding set (a new Array: ``x`` is left alone)."""
  if not isinstance(x, ArrayImpl) or not isinstance(sharding, Sharding):
    return x
  if isinstance(sharding, SingleDeviceSharding):
    place = sharding._device
  else:
    place = sharding if sharding.num_devices > 1 else sharding._device_assignment[0]
  return ArrayImpl(x._value, x.weak_type, place)


sharding_constraint_p.def_impl(_constraint_impl)
sharding_constraint_p.def_abstract_eval(lambda x, **_: x)
ad.deflinear(sharding_constraint_p, lambda ct, x, **params: [
    None if type(ct) is ad.Zero else sharding_constraint_p.bind(ct, **params)])
sharding_constraint_p.batch = lambda vals, dims, **params: (
    sharding_constraint_p.bind(vals[0], **params), dims[0])
sharding_constraint_p.lower = lambda ctx, x, **_: x


def _constraint_sharding(s, x):
  """``s`` as a Sharding checked against the value ``x`` (JAX's errors)."""
  s = sharding_from_spec(s, "with_sharding_constraint", "shardings")
  if isinstance(s, devices_mod.Device):
    s = SingleDeviceSharding(s)
  shape = x.shape
  spec = getattr(s, "spec", None)
  if spec is not None and len(spec) > len(shape):
    raise ValueError(
        f"One of with_sharding_constraint arguments is incompatible with its sharding "
        f"annotation {s}: Sharding {s} is only valid for values of rank at least "
        f"{len(spec)}, but was applied to a value of rank {len(shape)}.")
  s.shard_shape(shape)  # JAX's IndivisibleError
  return s


def with_sharding_constraint(x, shardings):
  """``x`` (a pytree) constrained to ``shardings`` (a pytree prefix of Shardings, or
  PartitionSpecs with a mesh set): the values unchanged, the shardings set."""
  flat, tree = tree_util.tree_flatten(x)
  try:
    shard_flat = tree_util.broadcast_prefix(shardings, x, is_leaf=lambda s: s is None)
  except ValueError as e:
    raise ValueError(f"with_sharding_constraint shardings must be a tree prefix of the "
                     f"values: {e}") from None
  for s in shard_flat:
    if s is not None and not isinstance(s, (Sharding, PartitionSpec, devices_mod.Device)):
      raise TypeError(f"shardings leaf specifications are expected to be PartitionSpec "
                      f"instances or None, but got {s}")
  outs = []
  for v, s in zip(flat, shard_flat):
    v = _to_array(v)
    if s is None:
      outs.append(v)
      continue
    outs.append(sharding_constraint_p.bind(v, sharding=_constraint_sharding(s, v),
                                           layout=None, unconstrained_dims=frozenset()))
  return tree_util.tree_unflatten(tree, outs)


device_put_p = Primitive("device_put")
device_put_p.multiple_results = True
device_put_p.def_impl(lambda *xs, **_: list(xs))
device_put_p.def_abstract_eval(lambda *xs, **_: list(xs))


def _device_put_transpose(cts, *xs, devices, srcs, copy_semantics):
  cts = [ad.zeros_like_aval(x.aval) if c is None or type(c) is ad.Zero else c
         for c, x in zip(cts, xs)]
  return device_put_p.bind(*cts, devices=srcs, srcs=devices, copy_semantics=copy_semantics)


ad.deflinear(device_put_p, _device_put_transpose)
device_put_p.batch = lambda vals, dims, **params: (device_put_p.bind(*vals, **params),
                                                   list(dims))
device_put_p.lower = lambda ctx, *xs, **_: list(xs)

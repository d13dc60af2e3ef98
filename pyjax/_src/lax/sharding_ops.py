"""The staged identities of placement: sharding_constraint_p (with_sharding_constraint)
and device_put_p. pyjax runs on one device, so both pass their operands through in
every rule; they exist so that programs naming them run and their jaxprs read as
JAX's. (JAX keeps them in pjit.py and dispatch.py; they sit here, below both.)"""
from __future__ import annotations

from pyjax._src import tree_util
from pyjax._src.core import Primitive
from pyjax._src.interpreters import ad
from pyjax._src.lax.utils import _to_array

sharding_constraint_p = Primitive("sharding_constraint")
sharding_constraint_p.def_impl(lambda x, **_: x)
sharding_constraint_p.def_abstract_eval(lambda x, **_: x)
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


def _device_put_transpose(cts, *xs, devices, srcs, copy_semantics):
  cts = [ad.zeros_like_aval(x.aval) if c is None or type(c) is ad.Zero else c
         for c, x in zip(cts, xs)]
  return device_put_p.bind(*cts, devices=srcs, srcs=devices, copy_semantics=copy_semantics)


ad.deflinear(device_put_p, _device_put_transpose)
device_put_p.batch = lambda vals, dims, **params: (device_put_p.bind(*vals, **params),
                                                   list(dims))
device_put_p.lower = lambda ctx, *xs, **_: list(xs)

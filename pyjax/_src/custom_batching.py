"""custom_vmap and sequential_vmap: functions with a user-defined vmap rule.

A call is one ``custom_vmap_call`` equation holding the traced body (its closed-over
values as leading operands) and the rule. Evaluated, jitted, differentiated or
transposed it is the body; under vmap the rule runs instead, as
``rule(axis_size, in_batched, *args) -> (out, out_batched)`` with batched arguments'
batch axis first. Differs from JAX: the JVP is the body's (JAX differentiates the rule
too when the JVP is later vmapped), so a vmap of a derivative batches the body.
"""
from __future__ import annotations

import functools
import inspect

from pyjax._src import api_util, core, tree_util
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.lax.control_flow.loops import map as lax_map

__all__ = ["custom_vmap", "sequential_vmap", "custom_vmap_p"]


def _name(f):
  return getattr(f, "__name__", "<unnamed rule>")


class custom_vmap:
  """``fun`` with a vmap rule set by ``def_vmap``."""

  def __init__(self, fun):
    functools.update_wrapper(self, fun)
    self.fun = fun
    self.vmap_rule = None

  def def_vmap(self, vmap_rule):
    """Sets ``vmap_rule(axis_size, in_batched, *args) -> (out, out_batched)``."""
    self.vmap_rule = vmap_rule
    return vmap_rule

  def __call__(self, *args, **kwargs):
    if kwargs:
      try:
        ba = inspect.signature(self.fun).bind(*args, **kwargs)
        ba.apply_defaults()
        if ba.kwargs:
          raise TypeError(f"The following keyword arguments could not be resolved to "
                          f"positions: {', '.join(ba.kwargs)}")
      except TypeError as e:
        raise TypeError(
            f"The input arguments to the custom_vmap-decorated function "
            f"{_name(self.fun)} could not be resolved to positional-only arguments. "
            f"Binding failed with the error:\n{e}") from e
      args = ba.args
    if self.vmap_rule is None:
      raise AttributeError(f"No batching rule defined for custom_vmap function "
                           f"{_name(self.fun)} using def_vmap.")
    flat, in_tree = tree_util.tree_flatten(args)
    closed, _, out_tree = api_util.trace_to_jaxpr(
        self.fun, [core.get_aval(x) for x in flat], in_tree=in_tree, kwargs=False,
        hoist=False)
    call = core.ClosedJaxpr(pe.convert_constvars_jaxpr(closed.jaxpr), [])
    outs = custom_vmap_p.bind(*closed.consts, *flat, call=call, rule=self.vmap_rule,
                              in_tree=in_tree, out_tree=out_tree,
                              num_consts=len(closed.consts))
    return tree_util.tree_unflatten(out_tree, outs)


def _impl(*args, call, **_):
  return core.eval_jaxpr(call.jaxpr, [], *args)


def _jvp(primals, tangents, *, call, **_):
  return ad.jvp_flat(lambda *xs: core.eval_jaxpr(call.jaxpr, [], *xs), list(primals),
                     list(tangents))


def _batch(vals, dims, *, call, rule, in_tree, out_tree, num_consts, axis_name=None):
  size = batching.batch_size(vals, dims)
  if any(d is not None for d in dims[:num_consts]):
    # a closed-over value varies along the mapped axis: batch the body
    batched, out_dims = batching.batch_jaxpr(call, size, dims, axis_name)
    return core.eval_jaxpr(batched.jaxpr, batched.consts, *vals), out_dims
  args = [v if d is None else batching.moveaxis(v, d, 0)
          for v, d in zip(vals[num_consts:], dims[num_consts:])]
  in_batched = tree_util.tree_unflatten(in_tree, [d is not None
                                                  for d in dims[num_consts:]])
  out, out_batched = rule(size, list(in_batched),
                          *tree_util.tree_unflatten(in_tree, args))
  flat_out, tree1 = tree_util.tree_flatten(out)
  flat_batched, tree2 = tree_util.tree_flatten(out_batched)
  if tree1 != tree2:
    raise ValueError(f"structure of output value and output batching specification "
                     f"returned by custom vmap rule ({_name(rule)}) do not match.\n"
                     f"Output values: {tree1}\nBatching spec: {tree2}")
  if tree1 != out_tree:
    raise ValueError(f"structure of output returned by custom vmap rule ({_name(rule)}) "
                     f"does not match that of original custom-vmapped function.\n"
                     f"Original output: {out_tree}\nRule output: {tree1}")
  return flat_out, [0 if b else None for b in flat_batched]


def _lower(ctx, *args, call, **_):
  return ctx.call(call.jaxpr, call.consts, args, "custom_vmap")


custom_vmap_p = core.Primitive("custom_vmap_call")
custom_vmap_p.multiple_results = True
custom_vmap_p.def_impl(_impl)
custom_vmap_p.def_abstract_eval(lambda *avals, call, **_: list(call.out_avals))
custom_vmap_p.jvp = _jvp
custom_vmap_p.batch = _batch
custom_vmap_p.batch_with_axis_name = True
custom_vmap_p.lower = _lower


def _tree_split(mask, tree):
  lhs = tree_util.tree_map(lambda m, x: x if m else None, mask, tree)
  rhs = tree_util.tree_map(lambda m, x: None if m else x, mask, tree)
  return lhs, rhs


def _tree_merge(mask, lhs, rhs):
  return tree_util.tree_map(lambda m, a, b: a if m else b, mask, lhs, rhs,
                            is_leaf=lambda x: x is None)


def sequential_vmap(f):
  """``f`` as a custom_vmap whose vmap is a loop over the batch (``lax.map``)."""
  f = custom_vmap(f)

  @f.def_vmap
  def rule(axis_size, in_batched, *args):
    del axis_size
    mapped, bcast = _tree_split(in_batched, list(args))
    out = lax_map(lambda m: f(*_tree_merge(in_batched, m, bcast)), mapped)
    return out, tree_util.tree_map(lambda _: True, out)
  return f

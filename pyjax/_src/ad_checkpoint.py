"""checkpoint / remat: recompute a function's forward pass during the backward pass.

Under reverse mode the checkpointed function's tangent map is staged as one
``remat_lin`` equation holding only the function's inputs; transposing it
re-linearizes the function at those inputs, so no intermediate of the function
is stored between the forward and the backward pass.
"""
from __future__ import annotations

import functools
import types

from pyjax._src import core, tree_util


def _nothing_saveable(*_, **__):
  return False


def _everything_saveable(*_, **__):
  return True


def _dots_saveable(prim, *_, **__):
  return prim.name == "dot_general"


def _names_policy(save):
  def make(*names):
    def policy(prim, *_, **params):
      return save(params.get("name") in names)
    return policy
  return make


checkpoint_policies = types.SimpleNamespace(
    nothing_saveable=_nothing_saveable,
    everything_saveable=_everything_saveable,
    dots_saveable=_dots_saveable,
    checkpoint_dots=_dots_saveable,
    dots_with_no_batch_dims_saveable=_dots_saveable,
    save_only_these_names=_names_policy(lambda hit: hit),
    save_anything_except_these_names=_names_policy(lambda hit: not hit),
    save_any_names_but_these=_names_policy(lambda hit: not hit),
)


def checkpoint(fun=None, *, prevent_cse: bool = True, policy=None, static_argnums=()):
  """Marks ``fun`` for rematerialization in reverse-mode differentiation.

  ``policy=checkpoint_policies.everything_saveable`` keeps every intermediate
  (plain differentiation); any other policy recomputes the whole function.
  """
  if fun is None:
    return functools.partial(checkpoint, prevent_cse=prevent_cse, policy=policy,
                             static_argnums=static_argnums)
  static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
  saveable = policy is _everything_saveable

  @functools.wraps(fun)
  def fun_remat(*args, **kwargs):
    trace = core.trace_ctx.trace
    if trace is core.eval_trace:
      return fun(*args, **kwargs)
    n = len(args)
    static_vals = {i % n: args[i] for i in static}
    dyn = [a for i, a in enumerate(args) if i not in static_vals]
    flat, in_tree = tree_util.tree_flatten((dyn, kwargs))
    box = {}

    def f_flat(*xs):
      d, kw = tree_util.tree_unflatten(in_tree, list(xs))
      it = iter(d)
      full = [static_vals[i] if i in static_vals else next(it) for i in range(n)]
      out_flat, box["out_tree"] = tree_util.tree_flatten(fun(*full, **kw))
      return out_flat

    outs = trace.process_remat(f_flat, flat, saveable)
    return tree_util.tree_unflatten(box["out_tree"], outs)

  return fun_remat


remat = checkpoint


def checkpoint_name(x, name):
  """Names a value for name-based checkpoint policies (the identity here)."""
  return x

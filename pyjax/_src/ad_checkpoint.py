"""checkpoint / remat: recompute a function's forward pass during the backward pass.

Under reverse mode the checkpointed function's tangent map is staged as one
``remat_lin`` equation holding only the function's inputs; transposing it
re-linearizes the function at those inputs, so no intermediate of the function
is stored between the forward and the backward pass.
"""
from __future__ import annotations

import functools
import types

import numpy as np

from pyjax._src import api_util, core, tree_util
from pyjax._src.array import asarray_value


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
  static = api_util.as_tuple(static_argnums)
  saveable = policy is _everything_saveable

  @functools.wraps(fun)
  def fun_remat(*args, **kwargs):
    trace = core.trace_ctx.trace
    if trace is core.eval_trace:  # JAX evaluates on arrays (Python scalars weakly typed)
      n = len(args)
      args = [a if i in static or i - n in static else tree_util.tree_map(_host_to_array, a)
              for i, a in enumerate(args)]
      return fun(*args, **tree_util.tree_map(_host_to_array, kwargs))
    n = len(args)
    f, dyn = api_util.static_partial(fun, args, {i % n: args[i] for i in static})
    flat, in_tree = tree_util.tree_flatten((dyn, kwargs))
    f_flat, store = api_util.flatten_fun(f, in_tree)
    outs = trace.process_remat(f_flat, flat, saveable)
    return tree_util.tree_unflatten(store.out_tree, outs)

  return fun_remat


remat = checkpoint


def _host_to_array(x):
  if type(x) in (int, float, complex, bool) or isinstance(x, (np.ndarray, np.generic)):
    return asarray_value(x)
  return x


def checkpoint_name(x, name):
  """Names a value for name-based checkpoint policies (the identity here)."""
  return x

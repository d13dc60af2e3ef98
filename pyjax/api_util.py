"""``jax.api_util``: helpers for writing transformations over ``linear_util``
wrapped functions (flattening pytrees, argnums, donation, debug info)."""
from __future__ import annotations

from typing import Sequence

from pyjax._src import api_util as _api_util
from pyjax._src import core as _core
from pyjax._src import linear_util as _lu
from pyjax._src import tree_util as _tree_util

__all__ = ["argnums_partial", "debug_info", "donation_vector", "flatten_axes",
           "flatten_fun", "flatten_fun_nokwargs", "rebase_donate_argnums", "safe_map",
           "shaped_abstractify"]


def safe_map(f, *args) -> list:
  """``list(map(f, *args))`` requiring the argument lists to have equal lengths."""
  args = list(map(list, args))
  n = len(args[0])
  for i, arg in enumerate(args[1:], 2):
    if len(arg) != n:
      what = "longer" if len(arg) > n else "shorter"
      raise ValueError(f"safe_map() argument {i} is {what} than argument 1")
  return list(map(f, *args))


def shaped_abstractify(x) -> _core.ShapedArray:
  """The ShapedArray of an array-like or of anything with ``shape`` and ``dtype``."""
  if isinstance(x, _core.AbstractValue):
    return x
  try:
    return _core.get_aval(x)
  except TypeError:
    if hasattr(x, "dtype") and hasattr(x, "shape"):
      return _core.ShapedArray(x.shape, x.dtype, getattr(x, "weak_type", False))
    raise TypeError(f"Cannot interpret value of type {type(x)} as an abstract array; "
                    f"it does not have a dtype attribute") from None


def debug_info(traced_for: str, fun, args: Sequence, kwargs: dict, *,
               static_argnums=(), static_argnames=(), result_paths_thunk=None,
               sourceinfo=None, signature=None) -> _core.DebugInfo:
  """A DebugInfo naming ``fun``'s flat dynamic arguments from example arguments."""
  del result_paths_thunk, sourceinfo, signature
  return _api_util.debug_info(traced_for, fun, args, kwargs, static_argnums,
                              static_argnames)


@_lu.transformation_with_aux2
def flatten_fun(f, store, in_tree, *args_flat):
  """``f(*args, **kwargs)`` as a function of the leaves of ``(args, kwargs)``; the thunk
  gives the output's tree."""
  py_args, py_kwargs = _tree_util.tree_unflatten(in_tree, args_flat)
  ans, out_tree = _tree_util.tree_flatten(f(*py_args, **py_kwargs))
  store.store(out_tree)
  return ans


@_lu.transformation_with_aux2
def flatten_fun_nokwargs(f, store, in_tree, *args_flat):
  """``f(*args)`` as a function of the leaves of ``args``; the thunk gives the output's
  tree."""
  ans, out_tree = _tree_util.tree_flatten(f(*_tree_util.tree_unflatten(in_tree,
                                                                       args_flat)))
  store.store(out_tree)
  return ans


def argnums_partial(f, dyn_argnums, args: Sequence, require_static_args_hashable=True):
  """``(f of the arguments at dyn_argnums, those arguments)``: the WrappedFun ``f``
  with the other ``args`` fixed."""
  nums = (dyn_argnums,) if isinstance(dyn_argnums, int) else tuple(dyn_argnums)
  nums = tuple(i % len(args) for i in nums)
  if require_static_args_hashable:
    for i, a in enumerate(args):
      if i not in nums:
        try:
          hash(a)
        except TypeError:
          raise ValueError(
              f"Non-hashable static arguments are not supported, as this can lead to "
              f"unexpected cache-misses. Static argument (index {i}) of type "
              f"{type(a)} for function {f.__name__} is non-hashable.") from None
  fixed = tuple(args)

  def partial(g, *dyn, **kwargs):
    full = list(fixed)
    for i, d in zip(nums, dyn):
      full[i] = d
    return g(*full, **kwargs)
  return f.wrap(partial, (), None), tuple(args[i] for i in nums)


def donation_vector(donate_argnums, donate_argnames, in_tree, kws: bool = True
                    ) -> tuple[bool, ...]:
  """One bool per leaf of ``in_tree`` (``(args, kwargs)``, or ``args`` without
  ``kws``): whether it belongs to a donated argument."""
  if kws:
    args_tree, kwargs_tree = _tree_util.treedef_children(in_tree)
  else:
    args_tree, kwargs_tree = in_tree, None
  res: list = []
  for i, arg in enumerate(_tree_util.treedef_children(args_tree)):
    res.extend([i in donate_argnums] * arg.num_leaves)
  if kwargs_tree is not None:
    kw = _tree_util.tree_unflatten(kwargs_tree, [None] * kwargs_tree.num_leaves)
    for key in sorted(kw):
      n = _tree_util.tree_structure(kw[key], is_leaf=lambda x: x is None).num_leaves
      res.extend([key in donate_argnames] * n)
  return tuple(res)


def rebase_donate_argnums(donate_argnums, static_argnums) -> tuple[int, ...]:
  """``donate_argnums`` renumbered as positions among the non-static arguments."""
  static = set(static_argnums)
  return tuple(sorted(d - sum(1 for s in static if s < d)
                      for d in set(donate_argnums) if d not in static))


def flatten_axes(name, treedef, axis_tree, *, kws=False, tupled_args=False) -> list:
  """``axis_tree`` (a prefix of ``treedef``'s tree; None leaves allowed) broadcast to
  one entry per leaf."""
  del tupled_args
  proxy = _tree_util.tree_unflatten(treedef, [object()] * treedef.num_leaves)
  try:
    return _tree_util.broadcast_prefix(axis_tree, proxy, is_leaf=lambda x: x is None)
  except ValueError:
    what = "positional arguments" if not kws else "arguments"
    raise ValueError(f"{name} specification must be a tree prefix of the corresponding "
                     f"value, got specification {axis_tree} for value tree {treedef} "
                     f"({what}).") from None


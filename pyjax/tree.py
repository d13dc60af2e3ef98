"""Utilities for working with tree-like container data structures.

The :mod:`pyjax.tree` namespace contains aliases of utilities from
:mod:`pyjax.tree_util` (it mirrors :mod:`jax.tree`).
"""
from __future__ import annotations

from collections.abc import Callable as _Callable, Iterable as _Iterable
import dataclasses as _dataclasses
from typing import Any as _Any, TypeVar as _TypeVar

from pyjax._src import tree_util as _tree_util

_T = _TypeVar("_T")

__all__ = ["all", "broadcast", "flatten", "flatten_with_path", "leaves",
           "leaves_with_path", "map", "map_with_path", "reduce",
           "reduce_associative", "static", "structure", "transpose",
           "unflatten"]


def all(tree: _Any, *, is_leaf: _Callable[[_Any], bool] | None = None) -> bool:
  """Call all() over the leaves of a tree.

  >>> all([True, {'a': True, 'b': (True, True)}])
  True
  """
  return _tree_util.tree_all(tree, is_leaf=is_leaf)


def flatten(tree: _Any,
            is_leaf: _Callable[[_Any], bool] | None = None
            ) -> tuple[list[_tree_util.Leaf], _tree_util.PyTreeDef]:
  """Flattens a pytree into ``(leaves, treedef)``.

  >>> flatten([1, (2, 3), [4, 5]])
  ([1, 2, 3, 4, 5], PyTreeDef([*, (*, *), [*, *]]))
  """
  return _tree_util.tree_flatten(tree, is_leaf)


def leaves(tree: _Any,
           is_leaf: _Callable[[_Any], bool] | None = None
           ) -> list[_tree_util.Leaf]:
  """Gets the leaves of a pytree.

  >>> leaves([1, (2, 3), [4, 5]])
  [1, 2, 3, 4, 5]
  """
  return _tree_util.tree_leaves(tree, is_leaf)


def map(f: _Callable[..., _Any],
        tree: _Any,
        *rest: _Any,
        is_leaf: _Callable[[_Any], bool] | None = None) -> _Any:
  """Maps a multi-input function over pytree args to produce a new pytree.

  >>> map(lambda x: x + 1, {"x": 7, "y": 42})
  {'x': 8, 'y': 43}
  """
  return _tree_util.tree_map(f, tree, *rest, is_leaf=is_leaf)


def reduce(function: _Callable[[_T, _Any], _T],
           tree: _Any,
           initializer: _T | _tree_util.Unspecified = _tree_util.Unspecified(),
           is_leaf: _Callable[[_Any], bool] | None = None) -> _T:
  """Call reduce() over the leaves of a tree.

  >>> import operator
  >>> reduce(operator.add, [1, (2, 3), [4, 5, 6]])
  21
  """
  return _tree_util.tree_reduce(function, tree, initializer, is_leaf=is_leaf)


def reduce_associative(
    operation: _Callable[[_T, _T], _T],
    tree: _Any,
    *,
    identity: _T | _tree_util.Unspecified = _tree_util.Unspecified(),
    is_leaf: _Callable[[_Any], bool] | None = None,
) -> _T:
  """Perform a reduction over a pytree with an associative binary operation.

  >>> import operator
  >>> reduce_associative(operator.add, [1, (2, 3), [4, 5, 6]])
  21
  """
  return _tree_util.tree_reduce_associative(
      operation, tree, identity=identity, is_leaf=is_leaf)


def structure(tree: _Any,
              is_leaf: None | (_Callable[[_Any], bool]) = None
              ) -> _tree_util.PyTreeDef:
  """Gets the treedef for a pytree.

  >>> structure([1, (2, 3), [4, 5]])
  PyTreeDef([*, (*, *), [*, *]])
  """
  return _tree_util.tree_structure(tree, is_leaf)


def transpose(outer_treedef: _tree_util.PyTreeDef,
              inner_treedef: _tree_util.PyTreeDef | None,
              pytree_to_transpose: _Any) -> _Any:
  """Transform a tree having tree structure (outer, inner) into one having
  structure (inner, outer).

  >>> transpose(structure([0, 0]), structure((0, 0)), [(1, 2), (3, 4)])
  ([1, 3], [2, 4])
  """
  return _tree_util.tree_transpose(outer_treedef, inner_treedef,
                                  pytree_to_transpose)


def unflatten(treedef: _tree_util.PyTreeDef,
              leaves: _Iterable[_tree_util.Leaf]) -> _Any:
  """Reconstructs a pytree from the treedef and the leaves.

  >>> vals, treedef = flatten([1, (2, 3), [4, 5]])
  >>> unflatten(treedef, [v * 10 for v in vals])
  [10, (20, 30), [40, 50]]
  """
  return _tree_util.tree_unflatten(treedef, leaves)


def flatten_with_path(
    tree: _Any, is_leaf: _Callable[..., bool] | None = None,
    is_leaf_takes_path: bool = False,
) -> tuple[list[tuple[_tree_util.KeyPath, _Any]], _tree_util.PyTreeDef]:
  """Flattens a pytree like ``flatten``, but also returns each leaf's key path.

  >>> flatten_with_path([1, {'x': 3}])
  ([((SequenceKey(idx=0),), 1), ((SequenceKey(idx=1), DictKey(key='x')), 3)], PyTreeDef([*, {'x': *}]))
  """
  return _tree_util.tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)


def leaves_with_path(
    tree: _Any, is_leaf: _Callable[..., bool] | None = None,
    is_leaf_takes_path: bool = False,
) -> list[tuple[_tree_util.KeyPath, _Any]]:
  """Gets the leaves of a pytree like ``leaves`` and returns each leaf's key
  path.

  >>> leaves_with_path([1, {'x': 3}])
  [((SequenceKey(idx=0),), 1), ((SequenceKey(idx=1), DictKey(key='x')), 3)]
  """
  return _tree_util.tree_leaves_with_path(tree, is_leaf, is_leaf_takes_path)


def map_with_path(
    f: _Callable[..., _Any],
    tree: _Any,
    *rest: _Any,
    is_leaf: _Callable[..., bool] | None = None,
    is_leaf_takes_path: bool = False,
) -> _Any:
  """Maps a multi-input function over pytree key path and args.

  >>> map_with_path(lambda path, x: x + path[0].idx, [1, 2])
  [1, 3]
  """
  return _tree_util.tree_map_with_path(
      f, tree, *rest, is_leaf=is_leaf, is_leaf_takes_path=is_leaf_takes_path)


def broadcast(prefix_tree: _Any, full_tree: _Any,
              is_leaf: _Callable[[_Any], bool] | None = None
              ) -> _Any:
  """Broadcasts a tree prefix into the full structure of a given tree.

  >>> broadcast([1, 2, 3], [[0, 0], [0], [0, 0, 0]])
  [[1, 1], [2], [3, 3, 3]]
  """
  return _tree_util.tree_broadcast(prefix_tree, full_tree, is_leaf=is_leaf)


def static(**kwargs):
  """Convenience wrapper to declare a static pytree attribute.

  Arguments are those of :func:`dataclasses.field`; ``metadata`` is populated
  with ``static=True``, as used by
  :func:`pyjax.tree_util.register_dataclass`.
  """
  metadata = {"static": True, **(kwargs.pop("metadata", {}) or {})}
  return _dataclasses.field(metadata=metadata, **kwargs)


# Names used only in (string) annotations; removed so that dir(pyjax.tree)
# matches dir(jax.tree).
del annotations

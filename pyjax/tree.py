"""``jax.tree``: the short names (``map``, ``leaves``, ``flatten``, ...) for the
pytree functions of ``pyjax.tree_util``."""
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
  """True when every leaf of ``tree`` is truthy: ``all([True, {"a": (1, 2)}])``."""
  return _tree_util.tree_all(tree, is_leaf=is_leaf)


def flatten(tree: _Any,
            is_leaf: _Callable[[_Any], bool] | None = None
            ) -> tuple[list[_tree_util.Leaf], _tree_util.PyTreeDef]:
  """``(leaves, treedef)`` of ``tree``, leaves in pytree order."""
  return _tree_util.tree_flatten(tree, is_leaf)


def leaves(tree: _Any,
           is_leaf: _Callable[[_Any], bool] | None = None
           ) -> list[_tree_util.Leaf]:
  """The leaves of ``tree`` as a list, in pytree order."""
  return _tree_util.tree_leaves(tree, is_leaf)


def map(f: _Callable[..., _Any],
        tree: _Any,
        *rest: _Any,
        is_leaf: _Callable[[_Any], bool] | None = None) -> _Any:
  """A tree shaped like ``tree`` holding ``f(leaf, *matching leaves of rest)``."""
  return _tree_util.tree_map(f, tree, *rest, is_leaf=is_leaf)


def reduce(function: _Callable[[_T, _Any], _T],
           tree: _Any,
           initializer: _T | _tree_util.Unspecified = _tree_util.Unspecified(),
           is_leaf: _Callable[[_Any], bool] | None = None) -> _T:
  """``functools.reduce(function, leaves(tree)[, initializer])``."""
  return _tree_util.tree_reduce(function, tree, initializer, is_leaf=is_leaf)


def reduce_associative(
    operation: _Callable[[_T, _T], _T],
    tree: _Any,
    *,
    identity: _T | _tree_util.Unspecified = _tree_util.Unspecified(),
    is_leaf: _Callable[[_Any], bool] | None = None,
) -> _T:
  """Combines the leaves pairwise, as a balanced tree, with an associative
  ``operation``; an empty tree gives ``identity`` (an error when none is given)."""
  return _tree_util.tree_reduce_associative(
      operation, tree, identity=identity, is_leaf=is_leaf)


def structure(tree: _Any,
              is_leaf: None | (_Callable[[_Any], bool]) = None
              ) -> _tree_util.PyTreeDef:
  """The treedef of ``tree`` (its shape without its leaves)."""
  return _tree_util.tree_structure(tree, is_leaf)


def transpose(outer_treedef: _tree_util.PyTreeDef,
              inner_treedef: _tree_util.PyTreeDef | None,
              pytree_to_transpose: _Any) -> _Any:
  """Turns a tree of structure outer-of-inner into one of inner-of-outer:
  ``transpose(structure([0, 0]), structure((0, 0)), [(1, 2), (3, 4)])`` is
  ``([1, 3], [2, 4])``. ``inner_treedef=None`` infers it from the first subtree."""
  return _tree_util.tree_transpose(outer_treedef, inner_treedef,
                                  pytree_to_transpose)


def unflatten(treedef: _tree_util.PyTreeDef,
              leaves: _Iterable[_tree_util.Leaf]) -> _Any:
  """The pytree of structure ``treedef`` holding ``leaves`` (inverse of ``flatten``)."""
  return _tree_util.tree_unflatten(treedef, leaves)


def flatten_with_path(
    tree: _Any, is_leaf: _Callable[..., bool] | None = None,
    is_leaf_takes_path: bool = False,
) -> tuple[list[tuple[_tree_util.KeyPath, _Any]], _tree_util.PyTreeDef]:
  """``flatten`` with a key path (tuple of DictKey / SequenceKey / GetAttrKey /
  FlattenedIndexKey) paired with each leaf."""
  return _tree_util.tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)


def leaves_with_path(
    tree: _Any, is_leaf: _Callable[..., bool] | None = None,
    is_leaf_takes_path: bool = False,
) -> list[tuple[_tree_util.KeyPath, _Any]]:
  """``leaves`` as ``(key_path, leaf)`` pairs."""
  return _tree_util.tree_leaves_with_path(tree, is_leaf, is_leaf_takes_path)


def map_with_path(
    f: _Callable[..., _Any],
    tree: _Any,
    *rest: _Any,
    is_leaf: _Callable[..., bool] | None = None,
    is_leaf_takes_path: bool = False,
) -> _Any:
  """``map`` where ``f`` also receives each leaf's key path as its first argument."""
  return _tree_util.tree_map_with_path(
      f, tree, *rest, is_leaf=is_leaf, is_leaf_takes_path=is_leaf_takes_path)


def broadcast(prefix_tree: _Any, full_tree: _Any,
              is_leaf: _Callable[[_Any], bool] | None = None
              ) -> _Any:
  """``full_tree``'s structure filled from ``prefix_tree``: each prefix leaf is
  repeated over the subtree of ``full_tree`` at its position."""
  return _tree_util.tree_broadcast(prefix_tree, full_tree, is_leaf=is_leaf)


def static(**kwargs):
  """A dataclass field marked static (``metadata={"static": True}``), which
  ``tree_util.register_dataclass`` treats as part of the treedef, not a leaf.
  Takes the arguments of ``dataclasses.field``."""
  metadata = {"static": True, **(kwargs.pop("metadata", {}) or {})}
  return _dataclasses.field(metadata=metadata, **kwargs)


# Names used only in (string) annotations; removed so that dir(pyjax.tree)
# matches dir(jax.tree).
del annotations

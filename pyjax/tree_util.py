"""Utilities for working with tree-like container data structures.

This module provides a small set of utility functions for working with tree-like
data structures, such as nested tuples, lists, and dicts. We call these
structures pytrees. They are trees in that they are defined recursively (any
non-pytree is a pytree, i.e. a leaf, and any pytree of pytrees is a pytree) and
can be operated on recursively (object identity equivalence is not preserved by
mapping operations, and the structures cannot contain reference cycles).

The set of Python types that are considered pytree nodes (e.g. that can be
mapped over, rather than treated as leaves) is extensible. There is a single
module-level registry of types, and class hierarchy is ignored. By registering a
new pytree node type, that type in effect becomes transparent to the utility
functions in this file.

This is the public ``pyjax.tree_util`` module; it mirrors ``jax.tree_util``.
"""

from pyjax._src.tree_util import (
    DictKey as DictKey,
    FlattenedIndexKey as FlattenedIndexKey,
    GetAttrKey as GetAttrKey,
    KeyEntry as KeyEntry,
    KeyPath as KeyPath,
    Partial as Partial,
    PyTreeDef as PyTreeDef,
    SequenceKey as SequenceKey,
    all_leaves as all_leaves,
    default_registry as default_registry,
    flatten_one_level as flatten_one_level,
    flatten_one_level_with_keys as flatten_one_level_with_keys,
    is_tree_node as is_tree_node,
    keystr as keystr,
    register_dataclass as register_dataclass,
    register_pytree_node_class as register_pytree_node_class,
    register_pytree_node as register_pytree_node,
    register_pytree_with_keys_class as register_pytree_with_keys_class,
    register_pytree_with_keys as register_pytree_with_keys,
    register_static as register_static,
    tree_all as tree_all,
    tree_broadcast as tree_broadcast,
    tree_flatten_with_path as tree_flatten_with_path,
    tree_flatten as tree_flatten,
    tree_leaves_with_path as tree_leaves_with_path,
    tree_leaves as tree_leaves,
    tree_map_with_path as tree_map_with_path,
    tree_map as tree_map,
    tree_reduce_associative as tree_reduce_associative,
    tree_reduce as tree_reduce,
    tree_structure as tree_structure,
    tree_transpose as tree_transpose,
    tree_unflatten as tree_unflatten,
    treedef_children as treedef_children,
    treedef_is_leaf as treedef_is_leaf,
    treedef_tuple as treedef_tuple,
)

__all__ = [
    'DictKey', 'FlattenedIndexKey', 'GetAttrKey', 'KeyEntry', 'KeyPath', 'Partial',
    'PyTreeDef', 'SequenceKey', 'all_leaves', 'default_registry', 'flatten_one_level',
    'flatten_one_level_with_keys', 'is_tree_node', 'keystr', 'register_dataclass',
    'register_pytree_node', 'register_pytree_node_class', 'register_pytree_with_keys',
    'register_pytree_with_keys_class', 'register_static', 'tree_all', 'tree_broadcast',
    'tree_flatten', 'tree_flatten_with_path', 'tree_leaves', 'tree_leaves_with_path',
    'tree_map', 'tree_map_with_path', 'tree_reduce', 'tree_reduce_associative',
    'tree_structure', 'tree_transpose', 'tree_unflatten', 'treedef_children',
    'treedef_is_leaf', 'treedef_tuple'
]

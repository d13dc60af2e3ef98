"""Pytrees: a pure-Python implementation of ``jax.tree_util`` (JAX 0.10).

The public functions: flatten / unflatten / map and friends, registration,
key paths, structure-mismatch diagnostics, ``Partial``. Key entries live in
``tree_keys``; node kinds, registries and ``PyTreeDef`` in ``tree_registry``.
Only the standard library and those two modules are imported here.
"""
from __future__ import annotations

import collections
from collections.abc import Callable, Hashable, Iterable, Sequence
import dataclasses
import difflib
import functools
from functools import partial
import operator as op
import textwrap
from typing import Any, TypeVar

from pyjax._src import tree_keys, tree_registry
from pyjax._src.tree_keys import KeyEntry, KeyPath, keystr
from pyjax._src.tree_registry import (
    LEAF, TUPLE_NODE, CustomKind, DataclassKind, PyTreeDef, default_registry,
    make_treedef, register_everywhere, tracing_registry)

# Defined in tree_keys / tree_registry, part of this module's interface.
DictKey = tree_keys.DictKey
FlattenedIndexKey = tree_keys.FlattenedIndexKey
GetAttrKey = tree_keys.GetAttrKey
SequenceKey = tree_keys.SequenceKey
PyTreeRegistry = tree_registry.PyTreeRegistry
none_leaf_registry = tree_registry.none_leaf_registry
dispatch_registry = tree_registry.dispatch_registry

T = TypeVar("T")
Typ = TypeVar("Typ", bound=type[Any])
H = TypeVar("H", bound=Hashable)

Leaf = Any
PyTree = Any

_Children = TypeVar("_Children", bound=Iterable[Any])
_AuxData = TypeVar("_AuxData", bound=Hashable)
KeyLeafPair = tuple[KeyEntry, Any]
KeyLeafPairs = Iterable[KeyLeafPair]

_default_flatten = default_registry.flatten
_default_flatten_with_path = default_registry.flatten_with_path


# ---------------------------------------------------------------------------
# ---------------------------------------------------------------------------
# Core API
# ---------------------------------------------------------------------------

def tree_flatten(tree: Any,
                 is_leaf: Callable[[Any], bool] | None = None
                 ) -> tuple[list[Leaf], PyTreeDef]:
  """Alias of :func:`jax.tree.flatten`."""
  return _default_flatten(tree, is_leaf)


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Leaf]) -> Any:
  """Alias of :func:`jax.tree.unflatten`."""
  return treedef.unflatten(leaves)


def tree_leaves(tree: Any,
                is_leaf: Callable[[Any], bool] | None = None
                ) -> list[Leaf]:
  """Alias of :func:`jax.tree.leaves`."""
  return _default_flatten(tree, is_leaf)[0]


def tree_leaves_checked(treedef_expected: PyTreeDef, tree: Any) -> list[Leaf]:
  flat_vals, treedef_actual = tracing_registry.flatten(tree)
  assert treedef_actual == treedef_expected
  return flat_vals


def tree_structure(tree: Any,
                   is_leaf: None | (Callable[[Any], bool]) = None
                   ) -> PyTreeDef:
  """Alias of :func:`jax.tree.structure`."""
  return _default_flatten(tree, is_leaf)[1]


def treedef_tuple(treedefs: Iterable[PyTreeDef]) -> PyTreeDef:
  """Makes a tuple treedef from an iterable of child treedefs."""
  treedefs = list(treedefs)
  for td in treedefs:
    if not isinstance(td, PyTreeDef):
      raise TypeError(f"treedef_tuple expects PyTreeDefs, got {td!r}")
  spec = (TUPLE_NODE, None, tuple(td._spec for td in treedefs))
  return make_treedef(spec, sum(td._nl for td in treedefs))


def treedef_children(treedef: PyTreeDef) -> list[PyTreeDef]:
  """Return a list of treedefs for immediate children."""
  return treedef.children()


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
  """Return True if the treedef represents a leaf."""
  return treedef.num_nodes == 1


def treedef_is_strict_leaf(treedef: PyTreeDef) -> bool:
  return treedef._spec is LEAF


def all_leaves(iterable: Iterable[Any],
               is_leaf: Callable[[Any], bool] | None = None) -> bool:
  """Tests whether all elements in the given iterable are all leaves."""
  if is_leaf is None:
    kind_of = default_registry._kind_of
    for x in iterable:
      if kind_of(x) is not None:
        return False
    return True
  items = list(iterable)
  leaves = tree_leaves(items, is_leaf)
  return len(leaves) == len(items) and all(
      item is leaf for item, leaf in zip(items, leaves))


def is_tree_node(typ: type) -> bool:
  """Returns True if the type is a registered PyTree node type."""
  return default_registry.is_node(typ)


def build_tree(treedef: PyTreeDef, xs: Any) -> Any:
  """Builds a pytree from nested iterables ``xs`` (pre-0.4.26 JAX API)."""
  return treedef.from_iterable_tree(xs)


# ---------------------------------------------------------------------------
# Registration API
# ---------------------------------------------------------------------------

def register_pytree_node(
    nodetype: type[T],
    flatten_func: Callable[[T], tuple[_Children, _AuxData]],
    unflatten_func: Callable[[_AuxData, _Children], T],
    flatten_with_keys_func: (
        Callable[[T], tuple[KeyLeafPairs, _AuxData]] | None
    ) = None,
) -> None:
  """Extends the set of types that are considered internal nodes in pytrees.

  ``flatten_func(x) -> (children, aux_data)`` and
  ``unflatten_func(aux_data, children) -> x``; the optional
  ``flatten_with_keys_func(x) -> ((key, child), ...), aux_data)`` provides key
  paths.
  """
  node = CustomKind(nodetype, flatten_func, unflatten_func,
                    flatten_with_keys_func)
  register_everywhere(node, "Duplicate custom PyTreeDef type registration")


def register_pytree_node_class(cls: Typ) -> Typ:
  """Registers ``cls`` via its ``tree_flatten`` / ``tree_unflatten`` methods."""
  register_pytree_node(cls, op.methodcaller("tree_flatten"), cls.tree_unflatten)
  return cls


def register_pytree_with_keys(
    nodetype: type[T],
    flatten_with_keys: Callable[[T], tuple[Iterable[KeyLeafPair], _AuxData]],
    unflatten_func: Callable[[_AuxData, Iterable[Any]], T],
    flatten_func: None | (Callable[[T], tuple[Iterable[Any], _AuxData]]) = None,
):
  """Like :func:`register_pytree_node` with a key-aware flatten function."""
  if not flatten_func:
    def flatten_func_impl(tree):
      key_children, treedef = flatten_with_keys(tree)
      return [c for _, c in key_children], treedef
    flatten_func = flatten_func_impl
  register_pytree_node(nodetype, flatten_func, unflatten_func,
                       flatten_with_keys)


def register_pytree_with_keys_class(cls: Typ) -> Typ:
  """Registers ``cls`` via ``tree_flatten_with_keys`` / ``tree_unflatten``."""
  flatten_func = (
      op.methodcaller("tree_flatten") if hasattr(cls, "tree_flatten") else None)
  register_pytree_with_keys(cls, op.methodcaller("tree_flatten_with_keys"),
                            cls.tree_unflatten, flatten_func)
  return cls


def register_dataclass(
    nodetype: Typ,
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] | None = None,
    drop_fields: Sequence[str] = (),
) -> Typ:
  """Registers a dataclass-like type whose fields are data or static metadata.

  When ``data_fields`` and ``meta_fields`` are omitted, ``nodetype`` must be a
  dataclass; fields whose ``metadata`` has ``static=True`` are metadata.
  """
  if data_fields is None or meta_fields is None:
    if (data_fields is None) != (meta_fields is None):
      raise TypeError("register_dataclass: data_fields and meta_fields must "
                      "both be specified when either is specified. Got "
                      f"{data_fields=} {meta_fields=}.")
    if not dataclasses.is_dataclass(nodetype):
      raise TypeError("register_dataclass: data_fields and meta_fields are "
                      "required when nodetype is not a dataclass. Got "
                      f"{nodetype=}.")
    data_fields = [f.name for f in dataclasses.fields(nodetype)
                   if not f.metadata.get("static", False)]
    meta_fields = [f.name for f in dataclasses.fields(nodetype)
                   if f.metadata.get("static", False)]

  meta_fields = tuple(meta_fields)
  data_fields = tuple(data_fields)

  if dataclasses.is_dataclass(nodetype):
    init_fields = {f.name for f in dataclasses.fields(nodetype) if f.init}
    init_fields.difference_update(drop_fields)
    if {*meta_fields, *data_fields} != init_fields:
      msg = ("data_fields and meta_fields must include all dataclass fields "
             "with ``init=True`` and only them.")
      if missing := init_fields - {*meta_fields, *data_fields}:
        msg += (f" Missing fields: {missing}. Add them to drop_fields to "
                "suppress this error.")
      if unexpected := {*meta_fields, *data_fields} - init_fields:
        msg += f" Unexpected fields: {unexpected}."
      raise ValueError(msg)

  if overlap := set(data_fields) & set(meta_fields):
    raise ValueError("data_fields and meta_fields must not overlap. "
                     f"Overlapping fields: {overlap}.")

  node = DataclassKind(nodetype, data_fields, meta_fields)
  register_everywhere(
      node, "Duplicate custom dataclass PyTreeDef type registration")
  return nodetype


def register_static(cls: type[H]) -> type[H]:
  """Registers ``cls`` as a pytree with no leaves (instances are static)."""
  flatten = lambda obj: ((), obj)
  unflatten = lambda obj, empty_iter_children: obj
  register_pytree_with_keys(cls, flatten, unflatten)
  return cls


# ---------------------------------------------------------------------------
# Mapping / reduction utilities
# ---------------------------------------------------------------------------

def tree_map(f: Callable[..., Any],
             tree: Any,
             *rest: Any,
             is_leaf: Callable[[Any], bool] | None = None) -> Any:
  """Alias of :func:`jax.tree.map`."""
  leaves, treedef = _default_flatten(tree, is_leaf)
  if not rest:
    return treedef.unflatten([f(x) for x in leaves])
  all_leaves = [leaves]
  for r in rest:
    try:
      all_leaves.append(treedef.flatten_up_to(r))
    except Exception as e:
      err = next(_prefix_error((), tree, r, is_leaf), None)
      raise (err("tree_map tree") if err is not None else e) from None
  return treedef.unflatten([f(*xs) for xs in zip(*all_leaves)])


def tree_transpose(outer_treedef: PyTreeDef, inner_treedef: PyTreeDef | None,
                   pytree_to_transpose: Any) -> Any:
  """Alias of :func:`jax.tree.transpose`."""
  flat, treedef = tree_flatten(pytree_to_transpose)
  if inner_treedef is None:
    inner_treedef = tree_structure(
        outer_treedef.flatten_up_to(pytree_to_transpose)[0])
  inner_size = inner_treedef.num_leaves
  outer_size = outer_treedef.num_leaves
  if treedef.num_leaves != (inner_size * outer_size):
    expected_treedef = outer_treedef.compose(inner_treedef)
    raise TypeError(f"Mismatch\n{treedef}\n != \n{expected_treedef}")
  iter_flat = iter(flat)
  lol = [[next(iter_flat) for _ in range(inner_size)]
         for __ in range(outer_size)]
  transposed_lol = zip(*lol)
  subtrees = map(partial(tree_unflatten, outer_treedef), transposed_lol)
  return tree_unflatten(inner_treedef, subtrees)


class Unspecified:
  pass


def tree_reduce(function: Callable[[T, Any], T],
                tree: Any,
                initializer: T | Unspecified = Unspecified(),
                is_leaf: Callable[[Any], bool] | None = None) -> T:
  """Alias of :func:`jax.tree.reduce`."""
  if isinstance(initializer, Unspecified):
    return functools.reduce(function, tree_leaves(tree, is_leaf=is_leaf))
  return functools.reduce(function, tree_leaves(tree, is_leaf=is_leaf),
                          initializer)


def _parallel_reduce(sequence, operation, identity=Unspecified()):
  length = len(sequence)
  if length == 0:
    if isinstance(identity, Unspecified):
      raise TypeError(
          "Must specify identity for parallel reduction of empty sequence.")
    return identity
  elif length == 1:
    return sequence[0]
  index = length // 2
  a = _parallel_reduce(sequence[:index], operation, identity)
  b = _parallel_reduce(sequence[index:], operation, identity)
  return operation(a, b)


def tree_reduce_associative(
    operation: Callable[[T, T], T],
    tree: Any,
    *,
    identity: T | Unspecified = Unspecified(),
    is_leaf: Callable[[Any], bool] | None = None,
) -> T:
  """Alias of :func:`jax.tree.reduce_associative`."""
  sequence = tree_leaves(tree, is_leaf=is_leaf)
  return _parallel_reduce(sequence, operation, identity)


def tree_all(tree: Any, *, is_leaf: Callable[[Any], bool] | None = None
             ) -> bool:
  """Alias of :func:`jax.tree.all`."""
  return all(tree_leaves(tree, is_leaf=is_leaf))


# ---------------------------------------------------------------------------
# Partial
# ---------------------------------------------------------------------------

class _HashableCallableShim:
  """Object that delegates __call__, __hash__, and __eq__ to another object."""

  def __init__(self, fun):
    self.fun = fun

  def __call__(self, *args, **kw):
    return self.fun(*args, **kw)

  def __hash__(self):
    return hash(self.fun)

  def __eq__(self, other):
    if isinstance(other, _HashableCallableShim):
      return self.fun == other.fun
    return self.fun == other

  def __repr__(self):
    return f"_HashableCallableShim({self.fun!r})"


class Partial(functools.partial):
  """A version of functools.partial that works in pytrees.

  The bound positional and keyword arguments are the pytree children; the
  wrapped function is static metadata.
  """

  def __new__(klass, func, *args, **kw):
    # If func is itself a functools.partial, functools.partial.__new__ would
    # merge its arguments into this one; box it to keep them static.
    if isinstance(func, functools.partial):
      original_func = func
      func = _HashableCallableShim(original_func)
      out = super().__new__(klass, func, *args, **kw)
      func.func = original_func.func
      func.args = original_func.args
      func.keywords = original_func.keywords
      return out
    return super().__new__(klass, func, *args, **kw)


register_pytree_node(
    Partial,
    lambda partial_: ((partial_.args, partial_.keywords), partial_.func),
    lambda func, xs: Partial(func, *xs[0], **xs[1]),
)


# ---------------------------------------------------------------------------
# Broadcasting
# ---------------------------------------------------------------------------

def tree_broadcast(prefix_tree: Any, full_tree: Any,
                   is_leaf: Callable[[Any], bool] | None = None) -> Any:
  """Alias of :func:`jax.tree.broadcast`."""
  broadcast_leaves = broadcast_prefix(prefix_tree, full_tree, is_leaf=is_leaf)
  return tree_structure(full_tree).unflatten(broadcast_leaves)


def broadcast_prefix(prefix_tree: Any, full_tree: Any,
                     is_leaf: Callable[[Any], bool] | None = None
                     ) -> list[Any]:
  """Broadcasts tree prefix leaves into the full set of leaves of a tree."""
  result = []
  num_leaves = lambda t: tree_structure(t).num_leaves
  add_leaves = lambda x, subtree: result.extend([x] * num_leaves(subtree))
  try:
    tree_map(add_leaves, prefix_tree, full_tree, is_leaf=is_leaf)
  except ValueError:
    e, *_ = prefix_errors(prefix_tree, full_tree)
    raise e("broadcast_prefix prefix_tree") from None
  return result


def broadcast_flattened_prefix_with_treedef(
    prefix_leaves: list[Any],
    prefix_treedef: PyTreeDef,
    full_treedef: PyTreeDef,
) -> list[Any]:
  """Broadcasts flattened prefix leaves into the leaves of ``full_treedef``."""
  ret = []

  def _broadcast(leaf_start, leaf_end, prefix_treedef, treedef):
    if treedef_is_strict_leaf(prefix_treedef):
      assert (leaf_end - leaf_start) == 1
      ret.extend(prefix_leaves[leaf_start:leaf_end] * treedef.num_leaves)
      return
    if treedef_is_strict_leaf(treedef):
      raise ValueError("`prefix_treedef` is not a prefix of `full_treedef`")
    prefix_node_data = prefix_treedef.node_data()
    node_data = treedef.node_data()
    if prefix_node_data != node_data:
      raise ValueError(f"expected {node_data}, got {prefix_node_data}")
    prefix_i = leaf_start
    prefix_children = prefix_treedef.children()
    tree_children = treedef.children()
    if len(prefix_children) != len(tree_children):
      raise ValueError("zip() argument 2 is shorter than argument 1"
                       if len(tree_children) < len(prefix_children) else
                       "zip() argument 2 is longer than argument 1")
    for prefix_child, tree_child in zip(prefix_children, tree_children):
      _broadcast(prefix_i, prefix_i + prefix_child.num_leaves, prefix_child,
                 tree_child)
      prefix_i += prefix_child.num_leaves

  _broadcast(0, len(prefix_leaves), prefix_treedef, full_treedef)
  return ret


# ---------------------------------------------------------------------------
# One-level flattening
# ---------------------------------------------------------------------------

def flatten_one_level(tree: Any) -> tuple[Iterable[Any], Hashable]:
  """Flatten the given pytree node by one level."""
  out = default_registry.flatten_one_level(tree)
  if out is None:
    raise ValueError(f"can't tree-flatten type: {type(tree)}")
  return out


def flatten_one_level_with_keys(
    tree: Any,
) -> tuple[Iterable[KeyLeafPair], Hashable]:
  """Flatten the given pytree node by one level, with keys."""
  out = default_registry.flatten_one_level_with_keys(tree)
  if out is None:
    raise ValueError(f"can't tree-flatten type: {type(tree)}")
  return out


# ---------------------------------------------------------------------------
# Key paths
# ---------------------------------------------------------------------------

def tree_flatten_with_path(
    tree: Any, is_leaf: Callable[..., bool] | None = None,
    is_leaf_takes_path: bool = False,
) -> tuple[list[tuple[KeyPath, Any]], PyTreeDef]:
  """Alias of :func:`jax.tree.flatten_with_path`."""
  is_leaf_with_kp = is_leaf
  if not is_leaf_takes_path and is_leaf is not None:
    is_leaf_with_kp = lambda _, x: is_leaf(x)
  return _default_flatten_with_path(tree, is_leaf_with_kp)


def tree_leaves_with_path(
    tree: Any, is_leaf: Callable[..., bool] | None = None,
    is_leaf_takes_path: bool = False,
) -> list[tuple[KeyPath, Any]]:
  """Alias of :func:`jax.tree.leaves_with_path`."""
  return tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)[0]


generate_key_paths = tree_leaves_with_path


def tree_map_with_path(
    f: Callable[..., Any],
    tree: Any,
    *rest: Any,
    is_leaf: Callable[..., bool] | None = None,
    is_leaf_takes_path: bool = False,
) -> Any:
  """Alias of :func:`jax.tree.map_with_path`."""
  keypath_leaves, treedef = tree_flatten_with_path(
      tree, is_leaf, is_leaf_takes_path)
  all_keypath_leaves = [keypath_leaves]
  for r in rest:
    try:
      all_keypath_leaves.append(treedef.flatten_up_to(r))
    except Exception as e:
      err = next(_prefix_error((), tree, r, is_leaf), None)
      raise (err("tree_map_with_path tree") if err is not None else e) from None
  if not rest:
    return treedef.unflatten([f(p, x) for p, x in keypath_leaves])
  return treedef.unflatten(
      [f(kl[0], kl[1], *xs) for kl, *xs in zip(*all_keypath_leaves)])


# ---------------------------------------------------------------------------
# Structure-mismatch diagnostics
# ---------------------------------------------------------------------------

def prefix_errors(prefix_tree: Any, full_tree: Any,
                  is_leaf: Callable[[Any], bool] | None = None,
                  ) -> list[Callable[[str], ValueError]]:
  return list(_prefix_error((), prefix_tree, full_tree, is_leaf))


def equality_errors(
    tree1: Any, tree2: Any, is_leaf: Callable[[Any], bool] | None = None,
) -> Iterable[tuple[KeyPath, str, str, str]]:
  """Describes structural differences between two pytrees.

  Yields ``(key_path, thing1, thing2, explanation)`` tuples.
  """
  yield from _equality_errors((), tree1, tree2, is_leaf)


def equality_errors_pytreedef(
    tree1: PyTreeDef,
    tree2: PyTreeDef) -> Iterable[tuple[KeyPath, str, str, str]]:
  """Like `equality_errors` but invoked on PyTreeDef."""
  leaf = type("LeafMeta", (type,), dict(__repr__=lambda _: "pytree leaf")
              )("Leaf", (), {})()
  return equality_errors(tree_unflatten(tree1, [leaf] * tree1.num_leaves),
                         tree_unflatten(tree2, [leaf] * tree2.num_leaves))


def _equality_errors(path, t1, t2, is_leaf):
  # If both are leaves, this isn't a structure equality error.
  if (treedef_is_strict_leaf(tree_structure(t1, is_leaf=is_leaf)) and
      treedef_is_strict_leaf(tree_structure(t2, is_leaf=is_leaf))):
    return

  # The trees may disagree because they are different types:
  if type(t1) != type(t2):
    yield path, str(type(t1)), str(type(t2)), "their Python types differ"
    return

  # Or because their roots have different numbers or keys of children:
  if isinstance(t1, (list, tuple)):
    assert type(t1) == type(t2)
    if len(t1) != len(t2):
      yield (path,
             f"{type(t1).__name__} of length {len(t1)}",
             f"{type(t2).__name__} of length {len(t2)}",
             "the lengths do not match")
      return
  t1_children, t1_meta = flatten_one_level(t1)
  t2_children, t2_meta = flatten_one_level(t2)
  t1_children = tuple(t1_children)
  t2_children = tuple(t2_children)
  t1_keys, t2_keys = _child_keys(t1), _child_keys(t2)
  try:
    diff = " ".join(repr(k.key) for k in
                    set(t1_keys).symmetric_difference(set(t2_keys)))
  except:  # noqa: E722
    diff = ""
  if len(t1_children) != len(t2_children):
    yield (path,
           f"{type(t1)} with {len(t1_children)} child"
           f"{'ren' if len(t1_children) > 1 else ''}",
           f"{type(t2)} with {len(t2_children)} child"
           f"{'ren' if len(t2_children) > 1 else ''}",
           "the numbers of children do not match" +
           (diff and f", with the symmetric difference of key sets: {{{diff}}}")
           )
    return

  # Or if their roots have different pytree metadata:
  if t1_meta != t2_meta:
    yield (path,
           f"{type(t1)} with pytree metadata {t1_meta}",
           f"{type(t2)} with pytree metadata {t2_meta}",
           "the pytree node metadata does not match")
    return

  assert t1_keys == t2_keys, \
      f"equal pytree nodes gave different tree keys: {t1_keys} and {t2_keys}"
  for k, c1, c2 in zip(t1_keys, t1_children, t2_children):
    yield from _equality_errors((*path, k), c1, c2, is_leaf)


def _child_keys(pytree: Any) -> KeyPath:
  assert not treedef_is_strict_leaf(tree_structure(pytree))
  return tuple(k for k, _ in flatten_one_level_with_keys(pytree)[0])


def _prefix_error(
    key_path: KeyPath,
    prefix_tree: Any,
    full_tree: Any,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Iterable[Callable[[str], ValueError]]:
  # A leaf is a valid prefix of any tree:
  if treedef_is_strict_leaf(tree_structure(prefix_tree, is_leaf=is_leaf)):
    return

  # The subtrees may disagree because their roots are of different types:
  if type(prefix_tree) != type(full_tree):
    yield lambda name: ValueError(
        "pytree structure error: different types at key path\n"
        f"    {name}{keystr(key_path)}\n"
        f"At that key path, the prefix pytree {name} has a subtree of type\n"
        f"    {type(prefix_tree)}\n"
        f"but at the same key path the full pytree has a subtree of different "
        f"type\n"
        f"    {type(full_tree)}.")
    return

  # Or they may disagree if their roots have different numbers or keys of
  # children.
  prefix_tree_children, prefix_tree_meta = flatten_one_level(prefix_tree)
  full_tree_children, full_tree_meta = flatten_one_level(full_tree)
  prefix_tree_children = tuple(prefix_tree_children)
  full_tree_children = tuple(full_tree_children)
  prefix_tree_keys = _child_keys(prefix_tree)
  full_tree_keys = _child_keys(full_tree)
  if isinstance(prefix_tree, (list, tuple)):
    if len(prefix_tree) != len(full_tree):
      ty = type(prefix_tree)
      yield lambda name: ValueError(
          f"pytree structure error: different lengths of {ty.__name__} at key "
          f"path\n"
          f"    {name}{keystr(key_path)}\n"
          f"At that key path, the prefix pytree {name} has a subtree of type "
          f"{ty.__name__} of length {len(prefix_tree)}, but the full pytree "
          f"has a subtree of the same type but of length {len(full_tree)}.")
      return
  else:
    try:
      diff = set(prefix_tree_keys).symmetric_difference(set(full_tree_keys))
    except:  # noqa: E722
      diff = None
    if len(prefix_tree_children) != len(full_tree_children):
      yield lambda name: ValueError(
          "pytree structure error: different numbers of pytree children at "
          "key path\n"
          f"    {name}{keystr(key_path)}\n"
          f"At that key path, the prefix pytree {name} has a subtree of type\n"
          f"    {type(prefix_tree)}\n"
          f"with {len(prefix_tree_children)} child keys\n"
          f"    {' '.join(str(k.key) for k in prefix_tree_keys)}\n"
          f"but at the same key path the full pytree has a subtree of the same "
          f"type but with {len(full_tree_children)} child keys\n"
          f"    {' '.join(str(k.key) for k in full_tree_keys)}\n"
          + ("" if diff is None else
             f"so the symmetric difference on key sets is\n"
             f"    {' '.join(str(k.key) for k in diff)}"))
      return

  # Or they may disagree if their roots have different pytree metadata:
  if prefix_tree_meta != full_tree_meta:
    prefix_tree_meta_str = str(prefix_tree_meta)
    full_tree_meta_str = str(full_tree_meta)
    metadata_diff = textwrap.indent(
        "\n".join(
            difflib.ndiff(prefix_tree_meta_str.splitlines(),
                          full_tree_meta_str.splitlines())),
        prefix="    ")
    yield lambda name: ValueError(
        "pytree structure error: different pytree metadata at key path\n"
        f"    {name}{keystr(key_path)}\n"
        f"At that key path, the prefix pytree {name} has a subtree of type\n"
        f"    {type(prefix_tree)}\n"
        f"with metadata\n"
        f"    {prefix_tree_meta_str}\n"
        f"but at the same key path the full pytree has a subtree of the same "
        f"type but with metadata\n"
        f"    {full_tree_meta_str}\n"
        f"so the diff in the metadata at these pytree nodes is\n"
        f"{metadata_diff}")
    return

  # If the root types and numbers of children agree, there must be an error
  # in a subtree, so recurse:
  assert prefix_tree_keys == full_tree_keys, \
      ("equal pytree nodes gave differing prefix_tree_keys: "
       f"{prefix_tree_keys} and {full_tree_keys}")
  for k, t1, t2 in zip(prefix_tree_keys, prefix_tree_children,
                       full_tree_children):
    yield from _prefix_error((*key_path, k), t1, t2)


# ---------------------------------------------------------------------------
# Built-in registrations of standard-library containers
# ---------------------------------------------------------------------------

def _safe_zip(*args):
  return list(zip(*args, strict=True))


register_pytree_with_keys(
    collections.OrderedDict,
    lambda x: (tuple((DictKey(k), x[k]) for k in x.keys()), tuple(x.keys())),
    lambda keys, values: collections.OrderedDict(_safe_zip(keys, values)),
)


def _flatten_defaultdict_with_keys(d):
  keys = tuple(sorted(d))
  return tuple((DictKey(k), d[k]) for k in keys), (d.default_factory, keys)


register_pytree_with_keys(
    collections.defaultdict,
    _flatten_defaultdict_with_keys,
    lambda s, values: collections.defaultdict(s[0], _safe_zip(s[1], values)),
)


@register_static
@dataclasses.dataclass(frozen=True, slots=True)
class Static:
  """Wraps a hashable value so that it is treated as static pytree metadata."""
  val: Any

  def __eq__(self, other):
    return (type(other) is Static and type(self.val) is type(other.val) and
            self.val == other.val)


def _ensure_inbounds(allow_invalid: bool, num_args: int,
                     argnums: Sequence[int]) -> tuple[int, ...]:
  """Ensure argnum is within bounds. Also resolves negative argnums."""
  result = []
  for i in argnums:
    if i >= num_args and allow_invalid:
      continue
    if not -num_args <= i < num_args:
      raise ValueError(
          "Positional argument indices, e.g. for `static_argnums`, must have "
          "value greater than or equal to -len(args) and less than len(args), "
          f"but got value {i} for len(args) == {num_args}.")
    result.append(i % num_args)
  return tuple(result)


# JAX's Python-side registry, which libraries read (Flax asks `type(x) in _registry`):
# here a read-only view of the default registry's node types, each entry the node's
# (flatten, unflatten). Writing to it registers nothing (use register_pytree_node).
_RegistryEntry = collections.namedtuple("_RegistryEntry", ["to_iter", "from_iter"])


class _RegistryView(collections.abc.Mapping):
  """``{node type: _RegistryEntry(to_iter, from_iter)}`` of the default registry."""

  def __getitem__(self, nodetype):
    node = default_registry._regs[nodetype]
    return _RegistryEntry(node.flatten, node.unflatten)

  def __contains__(self, nodetype):
    return nodetype in default_registry._regs

  def __iter__(self):
    return iter(list(default_registry._regs))

  def __len__(self):
    return len(default_registry._regs)


_registry = _RegistryView()

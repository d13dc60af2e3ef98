"""Pytrees: a pure-Python implementation of ``jax.tree_util`` (JAX 0.10).

JAX implements the core of its pytree machinery (``PyTreeDef``, the registry,
flatten/unflatten) in C++.  This module reproduces that behaviour in Python:
reprs, error messages, key paths, equality and the order of leaves all follow
JAX 0.10.2.

Representation
--------------
A ``PyTreeDef`` wraps an immutable nested *spec*:

* the sentinel ``_LEAF`` for a leaf;
* a 3-tuple ``(registration, node_data, child_specs)`` for an interior node,
  where ``registration`` is a ``_Registration`` object (shared by every
  registry, compared by identity), ``node_data`` is the per-node metadata
  (sorted keys for a dict, the class for a namedtuple, the aux data for a
  custom node, the tuple of static field values for a dataclass, ``None``
  otherwise) and ``child_specs`` is a tuple of specs.

Equality of treedefs is therefore plain (C-level) tuple equality.  Flattening
is a recursive function specialised for the built-in containers, with a cache
of the types already known to be leaves; unflattening is interpreted on the
first call of a given treedef object and compiled to a straight-line Python
function on later calls.

Only the standard library is imported here.
"""
from __future__ import annotations

import collections
from collections.abc import Callable, Hashable, Iterable, Sequence
import dataclasses
import difflib
import functools
from functools import partial
import keyword
import operator as op
import textwrap
from typing import Any, TypeVar
import warnings

T = TypeVar("T")
Typ = TypeVar("Typ", bound=type[Any])
H = TypeVar("H", bound=Hashable)

Leaf = Any
PyTree = Any

_Children = TypeVar("_Children", bound=Iterable[Any])
_AuxData = TypeVar("_AuxData", bound=Hashable)
KeyEntry = TypeVar("KeyEntry", bound=Any)
KeyLeafPair = tuple[KeyEntry, Any]
KeyLeafPairs = Iterable[KeyLeafPair]
KeyPath = tuple[KeyEntry, ...]

_NoneType = type(None)

# ---------------------------------------------------------------------------
# Node kinds and registrations
# ---------------------------------------------------------------------------

_KIND_LEAF = 0
_KIND_NONE = 1
_KIND_TUPLE = 2
_KIND_NAMEDTUPLE = 3
_KIND_LIST = 4
_KIND_DICT = 5
_KIND_CUSTOM = 6
_KIND_DATACLASS = 7


class _Registration:
  """How one node type is flattened and rebuilt.  Compared by identity."""
  __slots__ = ("kind", "type", "to_iterable", "from_iterable",
               "to_iterable_with_keys", "data_fields", "meta_fields")

  def __init__(self, kind, type_, to_iterable=None, from_iterable=None,
               to_iterable_with_keys=None, data_fields=(), meta_fields=()):
    self.kind = kind
    self.type = type_
    self.to_iterable = to_iterable
    self.from_iterable = from_iterable
    self.to_iterable_with_keys = to_iterable_with_keys
    self.data_fields = tuple(data_fields)
    self.meta_fields = tuple(meta_fields)

  def __repr__(self):
    return f"_Registration(kind={self.kind}, type={self.type!r})"

  def __reduce__(self):
    # Pickle by reference: re-resolved in the default registry on load.
    return (_lookup_registration, (self.kind, self.type))


class _LeafSpec:
  """The spec of a leaf; a singleton."""
  __slots__ = ()

  def __repr__(self):
    return "*"

  def __reduce__(self):
    return "_LEAF"


_LEAF = _LeafSpec()

_NONE_REG = _Registration(_KIND_NONE, _NoneType)
_TUPLE_REG = _Registration(_KIND_TUPLE, tuple)
_LIST_REG = _Registration(_KIND_LIST, list)
_DICT_REG = _Registration(_KIND_DICT, dict)
_NAMEDTUPLE_REG = _Registration(_KIND_NAMEDTUPLE, None)
_NONE_SPEC = (_NONE_REG, None, ())
# Interned child-spec tuples of nodes whose children are all leaves.
_LEAF_CHILDREN = [(_LEAF,) * n for n in range(64)]
_N_LEAF_CHILDREN = len(_LEAF_CHILDREN)

_BUILTIN_REGS = {
    _KIND_NONE: _NONE_REG, _KIND_TUPLE: _TUPLE_REG, _KIND_LIST: _LIST_REG,
    _KIND_DICT: _DICT_REG, _KIND_NAMEDTUPLE: _NAMEDTUPLE_REG,
}


def _lookup_registration(kind, type_):
  if kind in _BUILTIN_REGS:
    return _BUILTIN_REGS[kind]
  reg = default_registry._regs.get(type_)
  if reg is None:
    raise RuntimeError(
        f"Unknown custom type in pickled PyTreeDef: {type_!r}")
  return reg


class _NeverType:
  """A type no object has: stands in for a disabled built-in node type."""


# Iterator types that JAX warns about when they are treated as leaves.
_WARN_ITER_TYPES = (
    type({}.values()), type(iter([])), type(iter(set())), type(iter(())),
    type(iter({})), type(iter({}.values())), type(iter({}.items())),
    zip, map, filter, enumerate, reversed,
    type((lambda: (yield))()),
)


def _warn_if_iterator(x):
  if isinstance(x, _WARN_ITER_TYPES):
    warnings.warn(
        f"Python iterable type '{type(x).__name__}' is treated as a leaf in "
        "PyTree. Use is_leaf to suppress this warning if you want this "
        "behavior. In a future version of JAX, this will become an error.",
        DeprecationWarning, stacklevel=4)
    return True
  return False


def _sorted_dict_keys(d):
  """Sorted keys of a dict, raising JAX's error when they do not compare."""
  try:
    return sorted(d)
  except Exception as e:
    raise ValueError("Comparator raised exception while sorting pytree "
                     "dictionary keys.") from e


def _call_to_iterable(reg, x):
  return _check_to_iterable_output(reg.to_iterable(x))


# Sorting dict keys is a large part of flattening dicts, and the same key sets
# recur.  Maps the insertion-ordered key tuple of a dict whose keys are all
# exactly ``str`` to (sorted key tuple, itemgetter of the values in that
# order).  Only exact ``str`` keys are cached (and checked on lookup) so that
# equal-but-distinct keys (1 vs 1.0 vs True, str subclasses such as StrEnum
# members) always keep their own identity.
_DICT_KEY_CACHE: dict[tuple, tuple] = {}
_DICT_KEY_CACHE_MAX = 8192


def _sorted_keys_and_values(x, ins):
  """(sorted key tuple, values in that order) of dict ``x``."""
  try:
    keys = (*sorted(ins),)
  except Exception:
    _sorted_dict_keys(x)   # raises JAX's error
    raise
  n = len(keys)
  if n > 1:
    for k in ins:
      if type(k) is not str:
        break
    else:
      if len(_DICT_KEY_CACHE) >= _DICT_KEY_CACHE_MAX:
        _DICT_KEY_CACHE.clear()
      getter = op.itemgetter(*keys)
      _DICT_KEY_CACHE[ins] = (keys, getter)
      return keys, getter(x)
  return keys, [x[k] for k in keys]


def _check_to_iterable_output(out):
  if not isinstance(out, tuple) or len(out) != 2:
    raise ValueError(
        "The to_iterable function for a custom PyTree node should return "
        f"a (children, aux_data) tuple, got {out!r}")
  children = out[0]
  try:
    iter(children)
  except TypeError:
    raise ValueError(
        "The to_iterable function for a custom PyTree node should return "
        "a (children, aux_data) tuple where 'children' is iterable, "
        f"got {out!r}") from None
  return children, out[1]


def _call_to_iterable_with_keys(reg, x):
  """Returns ([(key, child), ...], aux_data) for a custom node."""
  if reg.to_iterable_with_keys is None:
    children, aux = _call_to_iterable(reg, x)
    return ([(FlattenedIndexKey(i), c) for i, c in enumerate(children)], aux)
  out = reg.to_iterable_with_keys(x)
  if not isinstance(out, tuple) or len(out) != 2:
    raise ValueError(
        "The to_iterable_with_keys function for a custom PyTree "
        f"node should return a (key_leaf_pairs, aux_data) tuple, got {out!r}")
  try:
    it = iter(out[0])
  except TypeError:
    raise ValueError(
        "The to_iterable_with_keys function for a custom PyTree node should "
        "return a (key_leaf_pairs, aux_data) tuple where 'key_leaf_pairs' is "
        f"iterable, got {out!r}") from None
  result = []
  for pair in it:
    if not isinstance(pair, tuple) or len(pair) != 2:
      raise ValueError(
          "The to_iterable_with_keys function for a custom PyTree node should "
          f"return a (key_leaf_pairs, aux_data) tuple where 'child{pair!r}")
    result.append((pair[0], pair[1]))
  return result, out[1]


# ---------------------------------------------------------------------------
# Key path entries
# ---------------------------------------------------------------------------

def _check_int(cls_name, arg_name, value):
  if isinstance(value, int):
    return int(value)
  if hasattr(type(value), "__index__") and not isinstance(value, float):
    return op.index(value)
  raise TypeError(
      f"__init__(): incompatible function arguments. The following argument "
      f"types are supported:\n    1. __init__(self, {arg_name}: int) -> "
      f"None\n\nInvoked with types: {cls_name}, {type(value).__name__}")


class SequenceKey:
  """Key of a child of a list or tuple: ``[idx]``."""
  __slots__ = ("_idx",)
  __match_args__ = ("idx",)

  def __init__(self, idx: int):
    self._idx = _check_int("SequenceKey", "idx", idx)

  @property
  def idx(self) -> int:
    return self._idx

  def __str__(self):
    return f"[{self._idx}]"

  def __repr__(self):
    return f"SequenceKey(idx={self._idx})"

  def __eq__(self, other):
    return isinstance(other, SequenceKey) and self._idx == other._idx

  def __ne__(self, other):
    return not self.__eq__(other)

  def __hash__(self):
    return self._idx + 1

  def __reduce__(self):
    return (SequenceKey, (self._idx,))


class DictKey:
  """Key of a child of a dict: ``[key]``."""
  __slots__ = ("_key",)
  __match_args__ = ("key",)

  def __init__(self, key: Hashable):
    self._key = key

  @property
  def key(self):
    return self._key

  def __str__(self):
    return f"[{self._key!r}]"

  def __repr__(self):
    return f"DictKey(key={self._key!r})"

  def __eq__(self, other):
    return isinstance(other, DictKey) and bool(self._key == other._key)

  def __ne__(self, other):
    return not self.__eq__(other)

  def __hash__(self):
    return hash(self._key)

  def __reduce__(self):
    return (DictKey, (self._key,))


class GetAttrKey:
  """Key of an attribute child (namedtuple or dataclass field): ``.name``."""
  __slots__ = ("_name",)
  __match_args__ = ("name",)

  def __init__(self, name: str):
    if not isinstance(name, str):
      raise TypeError(
          "__init__(): incompatible function arguments. The following "
          "argument types are supported:\n    1. __init__(self, name: str) "
          f"-> None\n\nInvoked with types: GetAttrKey, {type(name).__name__}")
    self._name = str(name)

  @property
  def name(self) -> str:
    return self._name

  def __str__(self):
    return f".{self._name}"

  def __repr__(self):
    return f"GetAttrKey(name='{self._name}')"

  def __eq__(self, other):
    return isinstance(other, GetAttrKey) and self._name == other._name

  def __ne__(self, other):
    return not self.__eq__(other)

  def __hash__(self):
    return hash(self._name)

  def __reduce__(self):
    return (GetAttrKey, (self._name,))


class FlattenedIndexKey:
  """Key of the i-th child of a custom node registered without keys."""
  __slots__ = ("_key",)
  __match_args__ = ("key",)

  def __init__(self, key: int):
    self._key = _check_int("FlattenedIndexKey", "key", key)

  @property
  def key(self) -> int:
    return self._key

  def __str__(self):
    return f"[<flat index {self._key}>]"

  def __repr__(self):
    return f"FlattenedIndexKey(key={self._key})"

  def __eq__(self, other):
    return isinstance(other, FlattenedIndexKey) and self._key == other._key

  def __ne__(self, other):
    return not self.__eq__(other)

  def __hash__(self):
    return self._key + 42

  def __reduce__(self):
    return (FlattenedIndexKey, (self._key,))


# Immutable, so small ones are shared by every key path.
_SEQUENCE_KEYS = [SequenceKey(i) for i in range(256)]


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------

_MAX_LEAF_TYPE_CACHE = 4096
_builtin_type = type  # PyTreeRegistry methods take an argument named `type`


class PyTreeRegistry:
  """A pytree node registry (mirrors ``jaxlib``'s ``PyTreeRegistry``).

  ``flatten``, ``flatten_with_path``, ``flatten_one_level`` and
  ``flatten_one_level_with_keys`` are per-instance closures specialised to
  this registry's options.
  """

  def __init__(self, enable_none=True, enable_tuple=True,
               enable_namedtuple=True, enable_list=True, enable_dict=True):
    self._regs = {}
    self._leaf_types = set()
    self._enable_none = enable_none
    self._enable_tuple = enable_tuple
    self._enable_namedtuple = enable_namedtuple
    self._enable_list = enable_list
    self._enable_dict = enable_dict
    if enable_none:
      self._regs[_NoneType] = _NONE_REG
    if enable_tuple:
      self._regs[tuple] = _TUPLE_REG
    if enable_list:
      self._regs[list] = _LIST_REG
    if enable_dict:
      self._regs[dict] = _DICT_REG
    _build_registry_functions(self)

  def __repr__(self):
    name = getattr(self, "__name__", None)
    return f"<PyTreeRegistry {name}>" if name else "<PyTreeRegistry>"

  def __reduce__(self):
    name = getattr(self, "__name__", None)
    if name is None:
      raise TypeError("cannot pickle an anonymous PyTreeRegistry")
    return name

  # -- registration --
  def _add_registration(self, reg, duplicate_msg):
    t = reg.type
    if t in self._regs:
      raise ValueError(f"{duplicate_msg} for {t!r}.")
    self._regs[t] = reg
    self._leaf_types.discard(t)

  def register_node(self, type, to_iterable, from_iterable,
                    to_iterable_with_keys=None):
    reg = _Registration(_KIND_CUSTOM, type, to_iterable, from_iterable,
                        to_iterable_with_keys)
    self._add_registration(reg, "Duplicate custom PyTreeDef type registration")

  def register_dataclass_node(self, type, data_fields, meta_fields, /):
    reg = _Registration(_KIND_DATACLASS, type, data_fields=data_fields,
                        meta_fields=meta_fields)
    self._add_registration(
        reg, "Duplicate custom dataclass PyTreeDef type registration")

  def is_node(self, type):
    if type in self._regs:
      return True
    return (isinstance(type, _builtin_type) and issubclass(type, tuple)
            and hasattr(type, "_fields"))


def _build_registry_functions(registry):
  """Creates the flatten closures of ``registry``."""
  regs = registry._regs
  leaf_types = registry._leaf_types
  tuple_t = tuple if registry._enable_tuple else _NeverType
  list_t = list if registry._enable_list else _NeverType
  dict_t = dict if registry._enable_dict else _NeverType
  none_t = _NoneType if registry._enable_none else _NeverType
  enable_nt = registry._enable_namedtuple
  TUPLE_REG, LIST_REG, DICT_REG, NT_REG = (
      _TUPLE_REG, _LIST_REG, _DICT_REG, _NAMEDTUPLE_REG)
  LEAF, NONE_SPEC = _LEAF, _NONE_SPEC
  dict_key_cache = _DICT_KEY_CACHE
  LEAF_CHILDREN, N_LEAF_CHILDREN = _LEAF_CHILDREN, len(_LEAF_CHILDREN)
  KIND_CUSTOM, KIND_DATACLASS = _KIND_CUSTOM, _KIND_DATACLASS

  def _kind_slow(x, t):
    """Registration of a non-builtin ``x`` (``None`` for a leaf)."""
    reg = regs.get(t)
    if reg is not None:
      return reg
    if enable_nt and isinstance(x, tuple) and hasattr(x, "_fields"):
      return NT_REG
    if not _warn_if_iterator(x) and not isinstance(x, tuple):
      if len(leaf_types) > _MAX_LEAF_TYPE_CACHE:
        leaf_types.clear()
      leaf_types.add(t)
    return None

  # -- fast path: no predicate, no key paths --------------------------------
  def _flat(x, leaves):
    t = type(x)
    if t is tuple_t or t is list_t:
      # Common case: all children are leaves of already-seen types.
      for c in x:
        if type(c) not in leaf_types:
          break
      else:
        n = len(x)
        if n < N_LEAF_CHILDREN:
          leaves.extend(x)
          return (TUPLE_REG if t is tuple else LIST_REG, None,
                  LEAF_CHILDREN[n])
      specs = []
      sa = specs.append
      append = leaves.append
      for c in x:
        if type(c) in leaf_types:
          append(c)
          sa(LEAF)
        else:
          sa(_flat(c, leaves))
      return (TUPLE_REG if t is tuple else LIST_REG, None, (*specs,))
    if t in leaf_types:
      leaves.append(x)
      return LEAF
    if t is dict_t:
      ins = (*x,)
      entry = dict_key_cache.get(ins)
      if entry is not None:
        for k in ins:
          if type(k) is not str:
            entry = None
            break
      if entry is not None:
        keys, getter = entry
        vals = getter(x)
      else:
        keys, vals = _sorted_keys_and_values(x, ins)
      for c in vals:
        if type(c) not in leaf_types:
          break
      else:
        n = len(vals)
        if n < N_LEAF_CHILDREN:
          leaves.extend(vals)
          return (DICT_REG, keys, LEAF_CHILDREN[n])
      specs = []
      sa = specs.append
      append = leaves.append
      for c in vals:
        if type(c) in leaf_types:
          append(c)
          sa(LEAF)
        else:
          sa(_flat(c, leaves))
      return (DICT_REG, keys, (*specs,))
    if t is none_t:
      return NONE_SPEC
    reg = _kind_slow(x, t)
    if reg is None:
      leaves.append(x)
      return LEAF
    kind = reg.kind
    if kind == KIND_CUSTOM:
      children, aux = _check_to_iterable_output(reg.to_iterable(x))
      return (reg, aux, (*[_flat(c, leaves) for c in children],))
    if kind == KIND_DATACLASS:
      aux = (*[getattr(x, f) for f in reg.meta_fields],)
      return (reg, aux,
              (*[_flat(getattr(x, f), leaves) for f in reg.data_fields],))
    # namedtuple
    return (NT_REG, t, (*[_flat(c, leaves) for c in x],))

  # -- general path: leaf predicate and/or key paths -------------------------
  seq_keys = _SEQUENCE_KEYS
  n_seq_keys = len(seq_keys)
  new_dict_key = object.__new__

  def _flat_general(x, leaves, pred, kp):
    if pred is not None:
      r = pred(x) if kp is None else pred((*kp,), x)
      if r is None or r is False:
        pass
      elif r is True:
        leaves.append(x if kp is None else ((*kp,), x))
        return LEAF
      else:
        raise ValueError(f"is_leaf predicate returned a non-boolean value "
                         f"{r!r}; expected a boolean")
    t = type(x)
    if t in leaf_types:
      leaves.append(x if kp is None else ((*kp,), x))
      return LEAF
    if t is tuple_t or t is list_t:
      if kp is None:
        specs = [_flat_general(c, leaves, pred, None) for c in x]
      else:
        specs = []
        for i, c in enumerate(x):
          kp.append(seq_keys[i] if i < n_seq_keys else SequenceKey(i))
          specs.append(_flat_general(c, leaves, pred, kp))
          kp.pop()
      return (TUPLE_REG if t is tuple else LIST_REG, None, (*specs,))
    if t is dict_t:
      keys = _sorted_dict_keys(x)
      if kp is None:
        specs = [_flat_general(x[k], leaves, pred, None) for k in keys]
      else:
        specs = []
        for k in keys:
          dk = new_dict_key(DictKey)
          dk._key = k
          kp.append(dk)
          specs.append(_flat_general(x[k], leaves, pred, kp))
          kp.pop()
      return (DICT_REG, (*keys,), (*specs,))
    if t is none_t:
      return NONE_SPEC
    reg = _kind_slow(x, t)
    if reg is None:
      leaves.append(x if kp is None else ((*kp,), x))
      return LEAF
    kind = reg.kind
    if kind == KIND_CUSTOM:
      if kp is None:
        children, aux = _call_to_iterable(reg, x)
        specs = [_flat_general(c, leaves, pred, None) for c in children]
      else:
        pairs, aux = _call_to_iterable_with_keys(reg, x)
        specs = []
        for k, c in pairs:
          kp.append(k)
          specs.append(_flat_general(c, leaves, pred, kp))
          kp.pop()
      return (reg, aux, (*specs,))
    if kind == KIND_DATACLASS:
      aux = (*[getattr(x, f) for f in reg.meta_fields],)
      specs = []
      for f in reg.data_fields:
        if kp is not None:
          kp.append(GetAttrKey(f))
        specs.append(_flat_general(getattr(x, f), leaves, pred, kp))
        if kp is not None:
          kp.pop()
      return (reg, aux, (*specs,))
    # namedtuple
    if kp is None:
      specs = [_flat_general(c, leaves, pred, None) for c in x]
    else:
      fields = getattr(x, "_fields")
      if not isinstance(fields, tuple) or len(fields) != len(x):
        raise ValueError("A namedtuple's _fields attribute should have the "
                         "same size as the tuple.")
      specs = []
      for name, c in zip(fields, x):
        kp.append(GetAttrKey(str(name)))
        specs.append(_flat_general(c, leaves, pred, kp))
        kp.pop()
    return (NT_REG, t, (*specs,))

  new = object.__new__

  def flatten(tree, leaf_predicate=None):
    leaves = []
    if leaf_predicate is None:
      spec = _flat(tree, leaves)
    else:
      spec = _flat_general(tree, leaves, leaf_predicate, None)
    td = new(PyTreeDef)
    td._spec = spec
    td._nl = len(leaves)
    td._hash = None
    td._ufn = None
    td._nn = 0
    return leaves, td

  def flatten_with_path(tree, leaf_predicate=None):
    leaves = []
    spec = _flat_general(tree, leaves, leaf_predicate, [])
    return leaves, _make_treedef(spec, len(leaves))

  def kind_of(x):
    t = type(x)
    if t is tuple_t or t is list_t or t is dict_t or t is none_t:
      return regs[t]
    if t in leaf_types:
      return None
    return _kind_slow(x, t)

  def flatten_one_level(tree, with_keys=False):
    reg = kind_of(tree)
    if reg is None:
      return None
    kind = reg.kind
    if kind == _KIND_NONE:
      return ((), None)
    if kind == _KIND_TUPLE or kind == _KIND_LIST:
      if with_keys:
        return (tuple((SequenceKey(i), v) for i, v in enumerate(tree)), None)
      return (tree, None)
    if kind == _KIND_DICT:
      keys = tuple(_sorted_dict_keys(tree))
      if with_keys:
        return (tuple((DictKey(k), tree[k]) for k in keys), keys)
      return (tuple(tree[k] for k in keys), keys)
    if kind == _KIND_NAMEDTUPLE:
      if with_keys:
        fields = getattr(tree, "_fields")
        if not isinstance(fields, tuple) or len(fields) != len(tree):
          raise ValueError("A namedtuple's _fields attribute should have the "
                           "same size as the tuple.")
        return ([(GetAttrKey(str(f)), v) for f, v in zip(fields, tree)],
                type(tree))
      return (list(tree), type(tree))
    if kind == _KIND_CUSTOM:
      if with_keys:
        return _call_to_iterable_with_keys(reg, tree)
      return _call_to_iterable(reg, tree)
    # dataclass
    aux = tuple(getattr(tree, f) for f in reg.meta_fields)
    if with_keys:
      return ([(GetAttrKey(f), getattr(tree, f)) for f in reg.data_fields],
              aux)
    return ([getattr(tree, f) for f in reg.data_fields], aux)

  registry.flatten = flatten
  registry.flatten_with_path = flatten_with_path
  registry.flatten_one_level = lambda tree: flatten_one_level(tree, False)
  registry.flatten_one_level_with_keys = (
      lambda tree: flatten_one_level(tree, True))
  registry._kind_of = kind_of


# ---------------------------------------------------------------------------
# PyTreeDef
# ---------------------------------------------------------------------------

def _spec_num_leaves(spec):
  if spec is _LEAF:
    return 1
  return sum([_spec_num_leaves(c) for c in spec[2]])


def _spec_num_nodes(spec):
  if spec is _LEAF:
    return 1
  return 1 + sum([_spec_num_nodes(c) for c in spec[2]])


def _spec_skeleton(spec):
  """The spec without node data (used to hash unhashable node data)."""
  if spec is _LEAF:
    return 0
  reg = spec[0]
  return (reg.kind, reg.type, tuple([_spec_skeleton(c) for c in spec[2]]))


def _spec_depth(spec):
  if spec is _LEAF:
    return 0
  return 1 + max([_spec_depth(c) for c in spec[2]], default=0)


def _spec_repr(spec):
  if spec is _LEAF:
    return "*"
  reg, data, children = spec
  kind = reg.kind
  parts = [_spec_repr(c) for c in children]
  joined = ", ".join(parts)
  if kind == _KIND_NONE:
    return "None"
  if kind == _KIND_TUPLE:
    if len(parts) == 1:
      joined += ","
    return f"({joined})"
  if kind == _KIND_LIST:
    return f"[{joined}]"
  if kind == _KIND_DICT:
    return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(data, parts)) + "}"
  if kind == _KIND_NAMEDTUPLE:
    return f"CustomNode(namedtuple[{data.__name__}], [{joined}])"
  return f"CustomNode({reg.type.__name__}[{data}], [{joined}])"


def _make_node(reg, data, children):
  """Builds a node from its (already built) children, as a list."""
  kind = reg.kind
  if kind == _KIND_TUPLE:
    return tuple(children)
  if kind == _KIND_LIST:
    return list(children)
  if kind == _KIND_DICT:
    return dict(zip(data, children))
  if kind == _KIND_NONE:
    return None
  if kind == _KIND_NAMEDTUPLE:
    return data(*children)
  if kind == _KIND_CUSTOM:
    return reg.from_iterable(data, tuple(children))
  # dataclass
  kwargs = dict(zip(reg.meta_fields, data))
  kwargs.update(zip(reg.data_fields, children))
  return reg.type(**kwargs)


def _unflatten_interp(spec, nxt):
  reg, data, children = spec
  kind = reg.kind
  vals = [nxt() if c is _LEAF else _unflatten_interp(c, nxt)
          for c in children]
  if kind == _KIND_TUPLE:
    return (*vals,)
  if kind == _KIND_LIST:
    return vals
  if kind == _KIND_DICT:
    return dict(zip(data, vals))
  return _make_node(reg, data, vals)


_COMPILE_MAX_NODES = 5000
_COMPILED_UNFLATTEN: dict = {}  # spec -> compiled unflatten, shared by equal treedefs
_COMPILE_MAX_DEPTH = 40


def _compile_unflatten(spec, num_leaves):
  """Compiles ``spec`` to a function ``leaves_list -> pytree``.

  Returns ``None`` when the tree is too large or too deep to be worth it.
  """
  if (_spec_num_nodes(spec) > _COMPILE_MAX_NODES
      or _spec_depth(spec) > _COMPILE_MAX_DEPTH):
    return None
  consts = {}
  leaf_counter = [0]

  def const(obj):
    name = f"c{len(consts)}"
    consts[name] = obj
    return name

  def gen(s):
    if s is _LEAF:
      i = leaf_counter[0]
      leaf_counter[0] = i + 1
      return f"l{i}"
    reg, data, children = s
    kind = reg.kind
    parts = [gen(c) for c in children]
    joined = ", ".join(parts)
    if kind == _KIND_TUPLE:
      return f"({joined},)" if len(parts) == 1 else f"({joined})"
    if kind == _KIND_LIST:
      return f"[{joined}]"
    if kind == _KIND_NONE:
      return "None"
    if kind == _KIND_DICT:
      return "{" + ", ".join(f"{const(k)}: {p}"
                             for k, p in zip(data, parts)) + "}"
    if kind == _KIND_NAMEDTUPLE:
      return f"{const(data)}({joined})"
    if kind == _KIND_CUSTOM:
      tup = f"({joined},)" if len(parts) == 1 else f"({joined})"
      return f"{const(reg.from_iterable)}({const(data)}, {tup})"
    # dataclass
    items = [(n, const(v)) for n, v in zip(reg.meta_fields, data)]
    items += list(zip(reg.data_fields, parts))
    names = [n for n, _ in items]
    if (len(set(names)) == len(names) and
        all(n.isidentifier() and not keyword.iskeyword(n) for n in names)):
      args = ", ".join(f"{n}={v}" for n, v in items)
    else:
      args = "**{" + ", ".join(f"{const(n)}: {v}" for n, v in items) + "}"
    return f"{const(reg.type)}({args})"

  try:
    expr = gen(spec)
    lines = ["def _unflatten(L):"]
    if num_leaves:
      lines.append("  " + ", ".join(f"l{i}" for i in range(num_leaves))
                   + ", = L")
    lines.append(f"  return {expr}")
    namespace = dict(consts)
    namespace["__builtins__"] = {}
    exec(compile("\n".join(lines), "<pytree unflatten>", "exec"), namespace)
    return namespace["_unflatten"]
  except Exception:  # e.g. too deeply nested for the compiler
    return None


# States of PyTreeDef._ufn besides None (never unflattened) and a compiled
# function: unflattened once; too large to compile.
_ONCE = object()
_INTERPRET = object()


def _raise_unflatten_type_error(leaves):
  raise TypeError(
      "unflatten(): incompatible function arguments. The following argument "
      "types are supported:\n"
      "    1. unflatten(self, arg: Iterable[Any], /) -> Any\n\n"
      f"Invoked with types: PyTreeDef, {type(leaves).__name__}")


def _make_treedef(spec, num_leaves=None):
  td = object.__new__(PyTreeDef)
  td._spec = spec
  td._nl = _spec_num_leaves(spec) if num_leaves is None else num_leaves
  # Lazily computed: hash, unflatten function (state), number of nodes.
  td._hash = None
  td._ufn = None
  td._nn = 0
  return td


class PyTreeDef:
  """The structure of a pytree (what ``jax.tree.structure`` returns)."""
  __slots__ = ("_spec", "_nl", "_hash", "_nn", "_ufn", "__weakref__")

  def __new__(cls, *args, **kwargs):
    raise TypeError("PyTreeDef: no constructor defined! Use "
                    "tree_structure/tree_flatten to build a PyTreeDef.")

  # -- properties --
  @property
  def num_leaves(self) -> int:
    return self._nl

  @property
  def num_nodes(self) -> int:
    n = self._nn
    if not n:
      n = self._nn = _spec_num_nodes(self._spec)
    return n

  # -- comparison / hashing --
  def __eq__(self, other):
    if not isinstance(other, PyTreeDef):
      return False
    if self is other:
      return True
    if self._nl != other._nl:
      return False
    try:
      return self._spec == other._spec
    except Exception as e:
      raise ValueError(
          "Exception raised while checking equality of metadata fields of "
          "pytree. Make sure that metadata fields are hashable and have "
          "simple equality semantics. (Note: arrays cannot be passed as "
          "metadata fields!)") from e

  def __ne__(self, other):
    if not isinstance(other, PyTreeDef):
      return False
    return not self.__eq__(other)

  def __hash__(self):
    h = self._hash
    if h is None:
      try:
        h = hash(self._spec)
      except Exception:
        # Unhashable node data (JAX does not hash node data either).
        h = hash(_spec_skeleton(self._spec))
      self._hash = h
    return h

  def __repr__(self):
    return f"PyTreeDef({_spec_repr(self._spec)})"

  def __copy__(self):
    return self

  def __deepcopy__(self, memo):
    return self

  def __reduce__(self):
    return (_make_treedef, (self._spec, self._nl))

  # -- core operations --
  def unflatten(self, leaves):
    """Rebuilds a pytree of this structure from an iterable of leaves."""
    if type(leaves) is not list and type(leaves) is not tuple:
      try:
        leaves = list(leaves)
      except TypeError:
        if not hasattr(leaves, "__iter__"):
          _raise_unflatten_type_error(leaves)
        raise
    n = self._nl
    if len(leaves) != n:
      if len(leaves) < n:
        raise ValueError(f"Too few leaves for PyTreeDef; expected {n}, got "
                         f"{len(leaves)}")
      raise ValueError(f"Too many leaves for PyTreeDef; expected {n}.")
    spec = self._spec
    if spec is _LEAF:
      return leaves[0]
    fn = self._ufn
    if fn is None:
      # First unflatten of this treedef: interpret; compile if reused.
      self._ufn = _ONCE
      return _unflatten_interp(spec, iter(leaves).__next__)
    if fn is _ONCE:
      try:
        fn = _COMPILED_UNFLATTEN.get(spec)
      except TypeError:  # unhashable node data
        fn = _INTERPRET
      if fn is None:
        fn = _compile_unflatten(spec, n) or _INTERPRET
        if len(_COMPILED_UNFLATTEN) < 4096:
          _COMPILED_UNFLATTEN[spec] = fn
      self._ufn = fn
    if fn is _INTERPRET:
      return _unflatten_interp(spec, iter(leaves).__next__)
    return fn(leaves)

  def flatten_up_to(self, tree):
    """Flattens ``tree`` up to the structure of this treedef."""
    spec = self._spec
    if spec is _LEAF:
      return [tree]
    out = []
    try:
      _flatten_up_to_fast(spec, tree, out)
      return out
    except _Mismatch:
      pass
    # Redo the traversal in JAX's order to report JAX's error.
    out = []
    _flatten_up_to(spec, tree, out.append, self)
    out.reverse()
    return out

  def children(self):
    """The treedefs of the children of the root node."""
    spec = self._spec
    if spec is _LEAF:
      return []
    return [_make_treedef(c) for c in spec[2]]

  def node_data(self):
    """``None`` for a leaf, else ``(node_type, node_data)``."""
    spec = self._spec
    if spec is _LEAF:
      return None
    reg, data, _ = spec
    kind = reg.kind
    if kind == _KIND_DICT:
      return (dict, list(data))
    if kind == _KIND_NAMEDTUPLE:
      return (data, None)
    return (reg.type, data)

  @staticmethod
  def from_node_data_and_children(registry, node_data, children):
    """Inverse of ``node_data()`` and ``children()``."""
    children = list(children)
    specs = tuple(c._spec for c in children)
    if node_data is None:
      return _make_treedef(_LEAF, 1)
    typ, data = node_data
    if (isinstance(typ, type) and issubclass(typ, tuple)
        and hasattr(typ, "_fields")):
      spec = (_NAMEDTUPLE_REG, typ, specs)
    else:
      reg = registry._regs.get(typ)
      if reg is None:
        raise RuntimeError(f"Could not find type: {typ!r}.")
      if reg.kind == _KIND_DICT:
        spec = (reg, tuple(data), specs)
      elif reg.kind in (_KIND_CUSTOM, _KIND_DATACLASS):
        spec = (reg, data, specs)
      else:
        spec = (reg, None, specs)
    return _make_treedef(spec, sum(c._nl for c in children))

  def compose(self, inner):
    """Replaces every leaf of this treedef by ``inner``."""
    inner_spec = inner._spec

    def sub(s):
      if s is _LEAF:
        return inner_spec
      return (s[0], s[1], tuple([sub(c) for c in s[2]]))
    return _make_treedef(sub(self._spec), self._nl * inner._nl)

  def walk(self, f_node, f_leaf, leaves):
    """Walks the tree calling ``f_node(children, node_data)`` at nodes and
    ``f_leaf`` at leaves."""
    it = iter(leaves)
    sentinel = object()

    def go(s):
      if s is _LEAF:
        leaf = next(it, sentinel)
        if leaf is sentinel:
          raise ValueError("Too few leaves for PyTreeDef")
        return leaf if f_leaf is None else f_leaf(leaf)
      reg, data, children = s
      vals = tuple([go(c) for c in children])
      if reg.kind == _KIND_DICT:
        data = list(data)
      return f_node(vals, data)
    out = go(self._spec)
    if next(it, sentinel) is not sentinel:
      raise ValueError("Too many leaves for PyTreeDef")
    return out

  def from_iterable_tree(self, xs):
    """Builds a pytree from nested iterables following this structure."""
    def go(s, x):
      if s is _LEAF:
        return x
      reg, data, children = s
      ys = list(x)
      if len(ys) != len(children):
        raise ValueError("Arity mismatch between trees")
      vals = [go(c, y) for c, y in zip(children, ys)]
      return _make_node(reg, data, vals)
    return go(self._spec, xs)


class _Mismatch(Exception):
  """Internal: ``_flatten_up_to_fast`` found a structure mismatch."""


_MISMATCH = _Mismatch()


def _flatten_up_to_fast(spec, x, leaves):
  """Appends the leaves of ``x`` up to ``spec``; raises ``_Mismatch``."""
  reg, data, children = spec
  kind = reg.kind
  n = len(children)
  if kind == _KIND_TUPLE or kind == _KIND_LIST:
    if type(x) is not reg.type or len(x) != n:
      raise _MISMATCH
    vals = x
  elif kind == _KIND_DICT:
    if type(x) is not dict or len(x) != n:
      raise _MISMATCH
    try:
      vals = list(map(x.__getitem__, data))
    except KeyError:
      raise _MISMATCH from None
  elif kind == _KIND_NONE:
    if x is not None:
      raise _MISMATCH
    return
  elif kind == _KIND_NAMEDTUPLE:
    if type(x) is not data or len(x) != n:
      raise _MISMATCH
    vals = x
  elif kind == _KIND_CUSTOM:
    if type(x) is not reg.type:
      raise _MISMATCH
    ch, aux = _call_to_iterable(reg, x)
    if data != aux:
      raise _MISMATCH
    vals = ch if type(ch) is tuple or type(ch) is list else list(ch)
    if len(vals) != n:
      raise _MISMATCH
  else:  # dataclass
    if type(x) is not reg.type:
      raise _MISMATCH
    if data != tuple([getattr(x, f) for f in reg.meta_fields]):
      raise _MISMATCH
    vals = [getattr(x, f) for f in reg.data_fields]
  if n < _N_LEAF_CHILDREN and children is _LEAF_CHILDREN[n]:
    leaves.extend(vals)
    return
  append = leaves.append
  for c, v in zip(children, vals):
    if c is _LEAF:
      append(v)
    else:
      _flatten_up_to_fast(c, v, leaves)


def _flatten_up_to(spec, x, append, treedef):
  """Appends the leaves of ``x`` (up to ``spec``) in *reverse* order.

  Children are visited right to left so that, like JAX's C++
  implementation, the right-most mismatch is the one reported.
  """
  if spec is _LEAF:
    append(x)
    return
  reg, data, children = spec
  kind = reg.kind
  if kind == _KIND_TUPLE:
    if type(x) is not tuple:
      raise ValueError(f"Expected tuple, got {x!r}.")
    if len(x) != len(children):
      raise ValueError(f"Tuple arity mismatch: {len(x)} != {len(children)}; "
                       f"tuple: {x!r}.")
    vals = x
  elif kind == _KIND_LIST:
    if type(x) is not list:
      raise ValueError(f"Expected list, got {x!r}.")
    if len(x) != len(children):
      raise ValueError(f"List arity mismatch: {len(x)} != {len(children)}; "
                       f"list: {x!r}.")
    vals = x
  elif kind == _KIND_DICT:
    if type(x) is not dict:
      raise ValueError(f"Expected dict, got {x!r}.")
    keys = _sorted_dict_keys(x)
    if len(keys) != len(data) or any(a != b for a, b in zip(keys, data)):
      raise ValueError(f"Dict key mismatch; expected keys: {list(data)!r}; "
                       f"present keys: {keys!r}.")
    vals = [x[k] for k in keys]
  elif kind == _KIND_NONE:
    if x is not None:
      raise ValueError(
          f"Expected None, got {x!r}.\n\n"
          "In previous releases of JAX, flatten-up-to used to "
          "consider None to be a tree-prefix of non-None values. To obtain "
          "the previous behavior, you can usually write:\n"
          "  jax.tree.map(lambda x, y: None if x is None else f(x, y), a, "
          "b, is_leaf=lambda x: x is None)")
    return
  elif kind == _KIND_NAMEDTUPLE:
    if not isinstance(x, tuple) or not hasattr(x, "_fields"):
      raise ValueError(f"Expected named tuple, got {x!r}.")
    if len(x) != len(children):
      raise ValueError(f"Named tuple arity mismatch: {len(x)} != "
                       f"{len(children)}; tuple: {x!r}.")
    if type(x) != data:
      raise ValueError(f"Named tuple type mismatch: expected type: {data!r}, "
                       f"tuple: {x!r}.")
    vals = x
  elif kind == _KIND_CUSTOM:
    if type(x) is not reg.type:
      raise ValueError(f"Custom node type mismatch: expected type: "
                       f"{reg.type!r}, value: {x!r}.")
    ch, aux = _call_to_iterable(reg, x)
    if data != aux:
      raise ValueError(f"Mismatch custom node data: {data!r} != {aux!r}; "
                       f"value: {x!r}.")
    vals = list(ch)
    if len(vals) != len(children):
      raise ValueError(f"Custom type arity mismatch: {len(vals)} != "
                       f"{len(children)}; value: {x!r}.")
  else:  # dataclass
    if type(x) is not reg.type:
      raise ValueError(f"Custom dataclass node type mismatch: expected type: "
                       f"{reg.type!r}, value: {x!r}.")
    aux = tuple(getattr(x, f) for f in reg.meta_fields)
    if data != aux:
      raise ValueError(f"Mismatch custom dataclass node data: {data!r} != "
                       f"{aux!r}; value: {x!r}.")
    vals = [getattr(x, f) for f in reg.data_fields]
  for i in range(len(children) - 1, -1, -1):
    c = children[i]
    if c is _LEAF:
      append(vals[i])
    else:
      _flatten_up_to(c, vals[i], append, treedef)


# ---------------------------------------------------------------------------
# Registries
# ---------------------------------------------------------------------------

default_registry = PyTreeRegistry()
default_registry.__name__ = "default_registry"

# A copy of the default registry in which None is a leaf.
none_leaf_registry = PyTreeRegistry(enable_none=False)
none_leaf_registry.__name__ = "none_leaf_registry"

# JAX keeps separate registries for its dispatch and tracing machinery; they
# receive every registration made through the public API.
dispatch_registry = PyTreeRegistry()
dispatch_registry.__name__ = "dispatch_registry"
tracing_registry = PyTreeRegistry()
tracing_registry.__name__ = "tracing_registry"

_all_registries = (default_registry, none_leaf_registry, dispatch_registry,
                   tracing_registry)

_default_flatten = default_registry.flatten
_default_flatten_with_path = default_registry.flatten_with_path


def _register_everywhere(reg, duplicate_msg):
  for registry in _all_registries:
    if reg.type in registry._regs:
      raise ValueError(f"{duplicate_msg} for {reg.type!r}.")
  for registry in _all_registries:
    registry._add_registration(reg, duplicate_msg)


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
  spec = (_TUPLE_REG, None, tuple(td._spec for td in treedefs))
  return _make_treedef(spec, sum(td._nl for td in treedefs))


def treedef_children(treedef: PyTreeDef) -> list[PyTreeDef]:
  """Return a list of treedefs for immediate children."""
  return treedef.children()


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
  """Return True if the treedef represents a leaf."""
  return treedef.num_nodes == 1


def treedef_is_strict_leaf(treedef: PyTreeDef) -> bool:
  return treedef._spec is _LEAF


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
  reg = _Registration(_KIND_CUSTOM, nodetype, flatten_func, unflatten_func,
                      flatten_with_keys_func)
  _register_everywhere(reg, "Duplicate custom PyTreeDef type registration")


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

  reg = _Registration(_KIND_DATACLASS, nodetype, data_fields=data_fields,
                      meta_fields=meta_fields)
  _register_everywhere(
      reg, "Duplicate custom dataclass PyTreeDef type registration")
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

def keystr(keys: KeyPath, *, simple: bool = False, separator: str = "") -> str:
  """Helper to pretty-print a tuple of keys.

  >>> keystr((DictKey('foo'), SequenceKey(0), GetAttrKey('bar')))
  "['foo'][0].bar"
  >>> keystr((DictKey('foo'), SequenceKey(0)), simple=True, separator='/')
  'foo/0'
  """
  str_fn = _simple_entrystr if simple else str
  return separator.join(map(str_fn, keys))


def _simple_entrystr(key: KeyEntry) -> str:
  match key:
    case (SequenceKey(idx=key) | DictKey(key=key) | GetAttrKey(name=key)
          | FlattenedIndexKey(key=key)):
      return str(key)
    case _:
      return str(key)


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

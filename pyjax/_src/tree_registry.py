"""Pytree node kinds, registries, ``PyTreeDef``, flatten and unflatten.

JAX implements this in C++; this module reproduces its behaviour in Python:
reprs, error messages, key paths, equality and the order of leaves all follow
JAX 0.10.2.

Representation
--------------
A ``PyTreeDef`` wraps an immutable nested *spec*:

* the sentinel ``LEAF`` for a leaf;
* a 3-tuple ``(node, node_data, child_specs)`` for an interior node, where
  ``node`` is the ``NodeKind`` object of the node's type (shared by every
  registry, compared by identity), ``node_data`` is the per-node metadata
  (sorted keys for a dict, the class for a namedtuple, the aux data for a
  custom node, the tuple of static field values for a dataclass, ``None``
  otherwise) and ``child_specs`` is a tuple of specs.

Each node kind (None, tuple, list, dict, namedtuple, custom, dataclass) is a
``NodeKind`` subclass whose methods flatten, rebuild, print and match nodes of
that kind; a registry maps a type to its kind object. Equality of treedefs is
plain (C-level) tuple equality. Flattening is a recursive function in which
tuples, lists and dicts (most nodes in practice) are inlined; unflattening is
interpreted on the first call of a treedef and built into a chain of closures
(``NodeKind.builder``) on later calls.

Only the standard library and ``tree_keys`` are imported here.
"""
from __future__ import annotations

from functools import partial
from itertools import islice, repeat
import operator as op
import warnings

from pyjax._src.tree_keys import (
    DictKey, FlattenedIndexKey, GetAttrKey, SEQUENCE_KEYS, SequenceKey)

_NoneType = type(None)
_call = op.call
_new = object.__new__
_builtin_type = type  # PyTreeRegistry methods take an argument named `type`


class _LeafSpec:
  """The spec of a leaf; a singleton."""
  __slots__ = ()

  def __repr__(self):
    return "*"

  def __reduce__(self):
    return "LEAF"


LEAF = _LeafSpec()
# Interned child-spec tuples of nodes whose children are all leaves.
LEAF_CHILDREN = [(LEAF,) * n for n in range(64)]
N_LEAF_CHILDREN = len(LEAF_CHILDREN)


def _all_leaves(children):
  n = len(children)
  return n < N_LEAF_CHILDREN and (children is LEAF_CHILDREN[n]
                                  or children == LEAF_CHILDREN[n])


class StructureMismatch(ValueError):
  """A tree does not match a treedef.

  Its argument is JAX's message, or a function computing it (which may raise
  instead, as JAX does at that point).
  """

  def message(self):
    msg = self.args[0]
    return msg() if callable(msg) else msg


def sorted_dict_keys(d):
  """Sorted keys of a dict, raising JAX's error when they do not compare."""
  try:
    return sorted(d)
  except Exception as e:
    raise ValueError("Comparator raised exception while sorting pytree "
                     "dictionary keys.") from e


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


def _check_namedtuple_fields(x):
  fields = getattr(x, "_fields")
  # tuple's own length: a namedtuple may define __len__ (JAX's Rotation does).
  if not isinstance(fields, tuple) or len(fields) != tuple.__len__(x):
    raise ValueError("A namedtuple's _fields attribute should have the "
                     "same size as the tuple.")
  return fields


# ---------------------------------------------------------------------------
# Node kinds
# ---------------------------------------------------------------------------

class NodeKind:
  """How nodes of one type are flattened, rebuilt, printed and matched.

  ``node_data`` below is the spec's per-node metadata. ``flatten`` returns
  ``(children, node_data)``; ``flatten_with_keys`` returns
  ``([(key, child), ...], node_data)``; ``unflatten(node_data, children)``
  rebuilds a node from an iterable of children; ``builder(node_data, vals)``
  turns ``vals``, a function from the tuple of all the tree's leaves to the
  tuple of the node's children, into a function from that tuple to the node.
  Compared by identity.
  """
  __slots__ = ("type",)

  def __init__(self, type_):
    self.type = type_

  def __repr__(self):
    return f"{type(self).__name__}({self.type!r})"

  def builder(self, data, vals):
    unflatten = self.unflatten
    return lambda leaves: unflatten(data, vals(leaves))

  def repr(self, data, parts):
    return f"CustomNode({self.type.__name__}[{data}], [{', '.join(parts)}])"

  def node_data(self, data):
    """``PyTreeDef.node_data()`` of a node."""
    return (self.type, data)

  def spec_data(self, data):
    """Inverse of ``node_data``'s second item."""
    return data

  def walk_data(self, data):
    return data

  def match(self, x, data, n):
    """The children of ``x`` if it matches the node, else ``StructureMismatch``."""
    raise NotImplementedError


class _NoneKind(NodeKind):
  __slots__ = ()

  def flatten(self, x):
    return ((), None)

  flatten_with_keys = flatten

  def unflatten(self, data, children):
    return None

  def builder(self, data, vals):
    return lambda leaves: None

  def repr(self, data, parts):
    return "None"

  def spec_data(self, data):
    return None

  def match(self, x, data, n):
    if x is not None:
      raise StructureMismatch(
          f"Expected None, got {x!r}.\n\n"
          "In previous releases of JAX, flatten-up-to used to "
          "consider None to be a tree-prefix of non-None values. To obtain "
          "the previous behavior, you can usually write:\n"
          "  jax.tree.map(lambda x, y: None if x is None else f(x, y), a, "
          "b, is_leaf=lambda x: x is None)")
    return ()

  def __reduce__(self):
    return "NONE_NODE"


class _SequenceKind(NodeKind):
  """tuple or list."""
  __slots__ = ("_name",)

  def __init__(self, type_, name):
    super().__init__(type_)
    self._name = name

  def flatten(self, x):
    return (x, None)

  def flatten_with_keys(self, x):
    return (tuple((SequenceKey(i), v) for i, v in enumerate(x)), None)

  def unflatten(self, data, children):
    return self.type(children)

  def builder(self, data, vals):
    if self.type is tuple:
      return vals
    return lambda leaves: list(vals(leaves))

  def repr(self, data, parts):
    joined = ", ".join(parts)
    if self.type is list:
      return f"[{joined}]"
    return f"({joined},)" if len(parts) == 1 else f"({joined})"

  def spec_data(self, data):
    return None

  def match(self, x, data, n):
    if type(x) is not self.type:
      raise StructureMismatch(f"Expected {self._name}, got {x!r}.")
    if len(x) != n:
      raise StructureMismatch(
          f"{self._name.capitalize()} arity mismatch: {len(x)} != {n}; "
          f"{self._name}: {x!r}.")
    return x

  def __reduce__(self):
    return f"{self._name.upper()}_NODE"


class _DictKind(NodeKind):
  __slots__ = ()

  def flatten(self, x):
    keys = tuple(sorted_dict_keys(x))
    return (tuple(x[k] for k in keys), keys)

  def flatten_with_keys(self, x):
    keys = tuple(sorted_dict_keys(x))
    return (tuple((DictKey(k), x[k]) for k in keys), keys)

  def unflatten(self, data, children):
    return dict(zip(data, children))

  def builder(self, data, vals):
    if not data:
      return lambda leaves: {}
    return lambda leaves: dict(zip(data, vals(leaves)))

  def repr(self, data, parts):
    return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(data, parts)) + "}"

  def node_data(self, data):
    return (dict, list(data))

  def spec_data(self, data):
    return tuple(data)

  def walk_data(self, data):
    return list(data)

  def match(self, x, data, n):
    if type(x) is not dict:
      raise StructureMismatch(f"Expected dict, got {x!r}.")
    if len(x) == n:
      try:
        return list(map(x.__getitem__, data))
      except KeyError:
        pass
    raise StructureMismatch(
        lambda: f"Dict key mismatch; expected keys: {list(data)!r}; "
        f"present keys: {sorted_dict_keys(x)!r}.")

  def __reduce__(self):
    return "DICT_NODE"


class _NamedTupleKind(NodeKind):
  """Every namedtuple class; the node data is the class."""
  __slots__ = ()

  def flatten(self, x):
    return (list(x), type(x))

  def flatten_with_keys(self, x):
    fields = _check_namedtuple_fields(x)
    return ([(GetAttrKey(str(f)), v) for f, v in zip(fields, x)], type(x))

  def unflatten(self, data, children):
    return data(*children)

  def builder(self, data, vals):
    return lambda leaves: data(*vals(leaves))

  def repr(self, data, parts):
    return f"CustomNode(namedtuple[{data.__name__}], [{', '.join(parts)}])"

  def node_data(self, data):
    return (data, None)

  def match(self, x, data, n):
    if not isinstance(x, tuple) or not hasattr(x, "_fields"):
      raise StructureMismatch(f"Expected named tuple, got {x!r}.")
    if tuple.__len__(x) != n:
      raise StructureMismatch(f"Named tuple arity mismatch: {tuple.__len__(x)} != "
                              f"{n}; tuple: {x!r}.")
    if type(x) != data:
      raise StructureMismatch(f"Named tuple type mismatch: expected type: "
                              f"{data!r}, tuple: {x!r}.")
    return x

  def __reduce__(self):
    return "NAMEDTUPLE_NODE"


class _RegisteredKind(NodeKind):
  """A type registered by the user; pickled by reference to its type."""
  __slots__ = ()

  def __reduce__(self):
    return (_lookup_node, (self.type,))


class CustomKind(_RegisteredKind):
  """A type registered with flatten / unflatten functions."""
  __slots__ = ("to_iterable", "from_iterable", "to_iterable_with_keys")

  def __init__(self, type_, to_iterable, from_iterable,
               to_iterable_with_keys=None):
    super().__init__(type_)
    self.to_iterable = to_iterable
    self.from_iterable = from_iterable
    self.to_iterable_with_keys = to_iterable_with_keys

  def flatten(self, x):
    return _check_to_iterable_output(self.to_iterable(x))

  def flatten_with_keys(self, x):
    if self.to_iterable_with_keys is None:
      children, aux = self.flatten(x)
      return ([(FlattenedIndexKey(i), c) for i, c in enumerate(children)], aux)
    out = self.to_iterable_with_keys(x)
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

  def unflatten(self, data, children):
    return self.from_iterable(data, tuple(children))

  def match(self, x, data, n):
    if type(x) is not self.type:
      raise StructureMismatch(f"Custom node type mismatch: expected type: "
                              f"{self.type!r}, value: {x!r}.")
    ch, aux = self.flatten(x)
    if data != aux:
      raise StructureMismatch(f"Mismatch custom node data: {data!r} != "
                              f"{aux!r}; value: {x!r}.")
    vals = ch if type(ch) is tuple or type(ch) is list else list(ch)
    if len(vals) != n:
      raise StructureMismatch(f"Custom type arity mismatch: {len(vals)} != "
                              f"{n}; value: {x!r}.")
    return vals


class DataclassKind(_RegisteredKind):
  """A type registered by data and metadata field names."""
  __slots__ = ("data_fields", "meta_fields")

  def __init__(self, type_, data_fields, meta_fields):
    super().__init__(type_)
    self.data_fields = tuple(data_fields)
    self.meta_fields = tuple(meta_fields)

  def flatten(self, x):
    aux = (*[getattr(x, f) for f in self.meta_fields],)
    return [getattr(x, f) for f in self.data_fields], aux

  def flatten_with_keys(self, x):
    aux = (*[getattr(x, f) for f in self.meta_fields],)
    return [(GetAttrKey(f), getattr(x, f)) for f in self.data_fields], aux

  def unflatten(self, data, children):
    kwargs = dict(zip(self.meta_fields, data))
    kwargs.update(zip(self.data_fields, children))
    return self.type(**kwargs)

  def match(self, x, data, n):
    if type(x) is not self.type:
      raise StructureMismatch(f"Custom dataclass node type mismatch: expected "
                              f"type: {self.type!r}, value: {x!r}.")
    aux = tuple(getattr(x, f) for f in self.meta_fields)
    if data != aux:
      raise StructureMismatch(f"Mismatch custom dataclass node data: {data!r} "
                              f"!= {aux!r}; value: {x!r}.")
    return [getattr(x, f) for f in self.data_fields]


NONE_NODE = _NoneKind(_NoneType)
TUPLE_NODE = _SequenceKind(tuple, "tuple")
LIST_NODE = _SequenceKind(list, "list")
DICT_NODE = _DictKind(dict)
NAMEDTUPLE_NODE = _NamedTupleKind(None)
NONE_SPEC = (NONE_NODE, None, ())


def _lookup_node(type_):
  node = default_registry._regs.get(type_)
  if node is None:
    raise RuntimeError(
        f"Unknown custom type in pickled PyTreeDef: {type_!r}")
  return node


# ---------------------------------------------------------------------------
# Registry and flattening
# ---------------------------------------------------------------------------

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
    sorted_dict_keys(x)   # raises JAX's error
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


_MAX_LEAF_TYPE_CACHE = 4096


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
    for enabled, node in ((enable_none, NONE_NODE), (enable_tuple, TUPLE_NODE),
                          (enable_list, LIST_NODE), (enable_dict, DICT_NODE)):
      if enabled:
        self._regs[node.type] = node
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
  def _add_registration(self, node, duplicate_msg):
    t = node.type
    if t in self._regs:
      raise ValueError(f"{duplicate_msg} for {t!r}.")
    self._regs[t] = node
    self._leaf_types.discard(t)

  def register_node(self, type, to_iterable, from_iterable,
                    to_iterable_with_keys=None):
    node = CustomKind(type, to_iterable, from_iterable, to_iterable_with_keys)
    self._add_registration(node, "Duplicate custom PyTreeDef type registration")

  def register_dataclass_node(self, type, data_fields, meta_fields, /):
    node = DataclassKind(type, data_fields, meta_fields)
    self._add_registration(
        node, "Duplicate custom dataclass PyTreeDef type registration")

  def is_node(self, type):
    if type in self._regs:
      return True
    return (isinstance(type, _builtin_type) and issubclass(type, tuple)
            and hasattr(type, "_fields"))


def _build_registry_functions(registry):
  """Creates the flatten closures of ``registry``.

  Tuples, lists and dicts are inlined in ``_flat`` and ``_flat_general``: they
  are most of the nodes of real trees, and a method call per node would cost
  more than the rest of their flattening. Every other kind is flattened by its
  ``NodeKind``.
  """
  regs = registry._regs
  leaf_types = registry._leaf_types
  tuple_t = tuple if registry._enable_tuple else _NeverType
  list_t = list if registry._enable_list else _NeverType
  dict_t = dict if registry._enable_dict else _NeverType
  none_t = _NoneType if registry._enable_none else _NeverType
  enable_nt = registry._enable_namedtuple
  TUPLE, LIST, DICT, NAMEDTUPLE = TUPLE_NODE, LIST_NODE, DICT_NODE, NAMEDTUPLE_NODE
  LEAF_, NONE_SPEC_ = LEAF, NONE_SPEC
  dict_key_cache = _DICT_KEY_CACHE
  LEAF_CHILDREN_, N_LEAF_CHILDREN_ = LEAF_CHILDREN, N_LEAF_CHILDREN

  def _kind_slow(x, t):
    """Node kind of a non-builtin ``x`` (``None`` for a leaf)."""
    node = regs.get(t)
    if node is not None:
      return node
    if enable_nt and isinstance(x, tuple) and hasattr(x, "_fields"):
      return NAMEDTUPLE
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
        if n < N_LEAF_CHILDREN_:
          leaves.extend(x)
          return (TUPLE if t is tuple else LIST, None, LEAF_CHILDREN_[n])
      specs = []
      sa = specs.append
      append = leaves.append
      for c in x:
        if type(c) in leaf_types:
          append(c)
          sa(LEAF_)
        else:
          sa(_flat(c, leaves))
      return (TUPLE if t is tuple else LIST, None, (*specs,))
    if t in leaf_types:
      leaves.append(x)
      return LEAF_
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
        if n < N_LEAF_CHILDREN_:
          leaves.extend(vals)
          return (DICT, keys, LEAF_CHILDREN_[n])
      specs = []
      sa = specs.append
      append = leaves.append
      for c in vals:
        if type(c) in leaf_types:
          append(c)
          sa(LEAF_)
        else:
          sa(_flat(c, leaves))
      return (DICT, keys, (*specs,))
    if t is none_t:
      return NONE_SPEC_
    node = _kind_slow(x, t)
    if node is None:
      leaves.append(x)
      return LEAF_
    children, aux = node.flatten(x)
    return (node, aux, (*[_flat(c, leaves) for c in children],))

  # -- general path: leaf predicate and/or key paths -------------------------
  seq_keys = SEQUENCE_KEYS
  n_seq_keys = len(seq_keys)

  def _flat_general(x, leaves, pred, kp):
    if pred is not None:
      r = pred(x) if kp is None else pred((*kp,), x)
      if r is None or r is False:
        pass
      elif r is True:
        leaves.append(x if kp is None else ((*kp,), x))
        return LEAF_
      else:
        raise ValueError(f"is_leaf predicate returned a non-boolean value "
                         f"{r!r}; expected a boolean")
    t = type(x)
    if t in leaf_types:
      leaves.append(x if kp is None else ((*kp,), x))
      return LEAF_
    if t is tuple_t or t is list_t:
      if kp is None:
        specs = [_flat_general(c, leaves, pred, None) for c in x]
      else:
        specs = []
        for i, c in enumerate(x):
          kp.append(seq_keys[i] if i < n_seq_keys else SequenceKey(i))
          specs.append(_flat_general(c, leaves, pred, kp))
          kp.pop()
      return (TUPLE if t is tuple else LIST, None, (*specs,))
    if t is dict_t:
      keys = sorted_dict_keys(x)
      if kp is None:
        specs = [_flat_general(x[k], leaves, pred, None) for k in keys]
      else:
        specs = []
        for k in keys:
          dk = _new(DictKey)
          dk._v = k
          kp.append(dk)
          specs.append(_flat_general(x[k], leaves, pred, kp))
          kp.pop()
      return (DICT, (*keys,), (*specs,))
    if t is none_t:
      return NONE_SPEC_
    node = _kind_slow(x, t)
    if node is None:
      leaves.append(x if kp is None else ((*kp,), x))
      return LEAF_
    if kp is None:
      children, aux = node.flatten(x)
      specs = [_flat_general(c, leaves, pred, None) for c in children]
    else:
      pairs, aux = node.flatten_with_keys(x)
      specs = []
      for k, c in pairs:
        kp.append(k)
        specs.append(_flat_general(c, leaves, pred, kp))
        kp.pop()
    return (node, aux, (*specs,))

  def flatten(tree, leaf_predicate=None):
    leaves = []
    if leaf_predicate is None:
      spec = _flat(tree, leaves)
    else:
      spec = _flat_general(tree, leaves, leaf_predicate, None)
    td = _new(PyTreeDef)
    td._spec = spec
    td._nl = len(leaves)
    td._hash = None
    td._ufn = None
    td._nn = 0
    return leaves, td

  def flatten_with_path(tree, leaf_predicate=None):
    leaves = []
    spec = _flat_general(tree, leaves, leaf_predicate, [])
    return leaves, make_treedef(spec, len(leaves))

  def kind_of(x):
    t = type(x)
    if t is tuple_t or t is list_t or t is dict_t or t is none_t:
      return regs[t]
    if t in leaf_types:
      return None
    return _kind_slow(x, t)

  def flatten_one_level(tree, with_keys=False):
    node = kind_of(tree)
    if node is None:
      return None
    return node.flatten_with_keys(tree) if with_keys else node.flatten(tree)

  registry.flatten = flatten
  registry.flatten_with_path = flatten_with_path
  registry.flatten_one_level = lambda tree: flatten_one_level(tree, False)
  registry.flatten_one_level_with_keys = (
      lambda tree: flatten_one_level(tree, True))
  registry._kind_of = kind_of


# ---------------------------------------------------------------------------
# Specs
# ---------------------------------------------------------------------------

def _spec_count(spec, leaves_only):
  """The number of leaves (or of nodes, leaves included) of ``spec``."""
  if spec is LEAF:
    return 1
  return (not leaves_only) + sum([_spec_count(c, leaves_only) for c in spec[2]])


def _spec_skeleton(spec):
  """The spec without node data (used to hash unhashable node data)."""
  if spec is LEAF:
    return 0
  return (spec[0], tuple([_spec_skeleton(c) for c in spec[2]]))


def _spec_depth(spec):
  if spec is LEAF:
    return 0
  return 1 + max([_spec_depth(c) for c in spec[2]], default=0)


def _spec_repr(spec):
  if spec is LEAF:
    return "*"
  node, data, children = spec
  return node.repr(data, [_spec_repr(c) for c in children])


def _unflatten_interp(spec, it):
  """Builds the tree of ``spec`` from the leaves in the iterator ``it``."""
  node, data, children = spec
  n = len(children)
  if n < N_LEAF_CHILDREN and children is LEAF_CHILDREN[n]:
    return node.unflatten(data, islice(it, n))
  return node.unflatten(data, [next(it) if c is LEAF else _unflatten_interp(c, it)
                               for c in children])


def _child_vals(children, start):
  """(function from the tuple of all leaves to the tuple of the children of a
  node, end of its leaves), the node's leaves starting at ``start``.

  Leaves and tuples of leaves are taken with one ``itemgetter`` (a slice of a
  tuple is a tuple); other children get their own builder.
  """
  items, simple, pos = [], True, start
  for c in children:
    if c is LEAF:
      items.append(pos)
      pos += 1
    elif c[0] is TUPLE_NODE and _all_leaves(c[2]):
      items.append(slice(pos, pos + len(c[2])))
      pos += len(c[2])
    else:
      vals, pos = _child_vals(c[2], pos)
      items.append(c[0].builder(c[1], vals))
      simple = False
  if not items:
    vals = lambda leaves: ()
  elif not simple:
    getters = [i if callable(i) else op.itemgetter(i) for i in items]
    vals = lambda leaves: (*map(_call, getters, repeat(leaves)),)
  elif len(items) == 1:
    get = op.itemgetter(items[0])
    vals = lambda leaves: (get(leaves),)
  else:
    vals = op.itemgetter(*items)
  return vals, pos


_COMPILE_MAX_NODES = 5000
_COMPILED_UNFLATTEN: dict = {}  # spec -> compiled unflatten, shared by equal treedefs
_COMPILE_MAX_DEPTH = 40


def _compile_unflatten(spec):
  """A function ``leaves -> pytree`` for ``spec`` (``leaves`` a list or tuple).

  Returns ``None`` when the tree is too large or too deep to be worth it.
  """
  if (_spec_count(spec, False) > _COMPILE_MAX_NODES
      or _spec_depth(spec) > _COMPILE_MAX_DEPTH):
    return None
  node, data, children = spec
  if _all_leaves(children):
    if node is TUPLE_NODE or node is LIST_NODE:
      return node.type
    if node is DICT_NODE and data:
      return lambda leaves: dict(zip(data, leaves))
  vals, _ = _child_vals(children, 0)
  if node is LIST_NODE and type(vals) is op.itemgetter:
    return lambda leaves: list(vals(tuple(leaves)))  # one call less
  build = node.builder(data, vals)
  return lambda leaves: build(tuple(leaves))


# The state of PyTreeDef._ufn after one unflatten; before, it is None, and
# after two, the function doing it.
_ONCE = object()


def _unflatten_list(spec, leaves):
  return _unflatten_interp(spec, iter(leaves))


def _raise_unflatten_type_error(leaves):
  raise TypeError(
      "unflatten(): incompatible function arguments. The following argument "
      "types are supported:\n"
      "    1. unflatten(self, arg: Iterable[Any], /) -> Any\n\n"
      f"Invoked with types: PyTreeDef, {type(leaves).__name__}")


def make_treedef(spec, num_leaves=None):
  td = _new(PyTreeDef)
  td._spec = spec
  td._nl = _spec_count(spec, True) if num_leaves is None else num_leaves
  # Lazily computed: hash, unflatten function (state), number of nodes.
  td._hash = None
  td._ufn = None
  td._nn = 0
  return td


def _flatten_up_to(spec, x, leaves, reverse):
  """Appends the leaves of ``x`` up to ``spec``; ``StructureMismatch`` if no match.

  With ``reverse`` the children are visited right to left and the leaves come
  out reversed, so that, like JAX's C++ implementation, the right-most
  mismatch is the one reported. Matching tuples, lists and dicts are accepted
  inline (the method call would cost more); the node kind checks the rest.
  """
  node, data, children = spec
  n = len(children)
  t = type(x)
  vals = None
  if node is TUPLE_NODE:
    if t is tuple and len(x) == n:
      vals = x
  elif node is LIST_NODE:
    if t is list and len(x) == n:
      vals = x
  elif node is DICT_NODE and t is dict and len(x) == n:
    try:
      vals = list(map(x.__getitem__, data))
    except KeyError:
      pass
  if vals is None:
    vals = node.match(x, data, n)
  if reverse:
    for i in range(n - 1, -1, -1):
      c = children[i]
      if c is LEAF:
        leaves.append(vals[i])
      else:
        _flatten_up_to(c, vals[i], leaves, True)
  elif n < N_LEAF_CHILDREN and children is LEAF_CHILDREN[n]:
    leaves.extend(vals)
  else:
    for c, v in zip(children, vals):
      if c is LEAF:
        leaves.append(v)
      else:
        _flatten_up_to(c, v, leaves, False)


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
      n = self._nn = _spec_count(self._spec, False)
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
    return (make_treedef, (self._spec, self._nl))

  # -- core operations --
  def unflatten(self, leaves):
    """Rebuilds a pytree of this structure from an iterable of leaves."""
    t = type(leaves)
    if t is not list and t is not tuple:
      try:
        leaves = list(leaves)
      except TypeError:
        if not hasattr(leaves, "__iter__"):
          _raise_unflatten_type_error(leaves)
        raise
    if len(leaves) != self._nl:
      n = self._nl
      if len(leaves) < n:
        raise ValueError(f"Too few leaves for PyTreeDef; expected {n}, got "
                         f"{len(leaves)}")
      raise ValueError(f"Too many leaves for PyTreeDef; expected {n}.")
    fn = self._ufn
    if fn is not None and fn is not _ONCE:
      return fn(leaves)
    spec = self._spec
    if spec is LEAF:
      return leaves[0]
    if fn is None:
      # First unflatten of this treedef: interpret; build a function if reused.
      self._ufn = _ONCE
      return _unflatten_interp(spec, iter(leaves))
    try:
      fn = _COMPILED_UNFLATTEN.get(spec)
    except TypeError:  # unhashable node data
      fn = partial(_unflatten_list, spec)
    else:
      if fn is None:
        fn = _compile_unflatten(spec) or partial(_unflatten_list, spec)
        if len(_COMPILED_UNFLATTEN) < 4096:
          _COMPILED_UNFLATTEN[spec] = fn
    self._ufn = fn
    return fn(leaves)

  def flatten_up_to(self, tree):
    """Flattens ``tree`` up to the structure of this treedef."""
    spec = self._spec
    if spec is LEAF:
      return [tree]
    out = []
    try:
      _flatten_up_to(spec, tree, out, False)
      return out
    except StructureMismatch:
      pass
    # Redo the traversal in JAX's order to report JAX's error.
    out = []
    try:
      _flatten_up_to(spec, tree, out, True)
    except StructureMismatch as e:
      raise ValueError(e.message()) from None
    out.reverse()
    return out

  def children(self):
    """The treedefs of the children of the root node."""
    spec = self._spec
    if spec is LEAF:
      return []
    return [make_treedef(c) for c in spec[2]]

  def node_data(self):
    """``None`` for a leaf, else ``(node_type, node_data)``."""
    spec = self._spec
    if spec is LEAF:
      return None
    return spec[0].node_data(spec[1])

  @staticmethod
  def from_node_data_and_children(registry, node_data, children):
    """Inverse of ``node_data()`` and ``children()``."""
    children = list(children)
    specs = tuple(c._spec for c in children)
    if node_data is None:
      return make_treedef(LEAF, 1)
    typ, data = node_data
    if (isinstance(typ, type) and issubclass(typ, tuple)
        and hasattr(typ, "_fields")):
      spec = (NAMEDTUPLE_NODE, typ, specs)
    else:
      node = registry._regs.get(typ)
      if node is None:
        raise RuntimeError(f"Could not find type: {typ!r}.")
      spec = (node, node.spec_data(data), specs)
    return make_treedef(spec, sum(c._nl for c in children))

  def compose(self, inner):
    """Replaces every leaf of this treedef by ``inner``."""
    inner_spec = inner._spec

    def sub(s):
      if s is LEAF:
        return inner_spec
      return (s[0], s[1], tuple([sub(c) for c in s[2]]))
    return make_treedef(sub(self._spec), self._nl * inner._nl)

  def walk(self, f_node, f_leaf, leaves):
    """Walks the tree calling ``f_node(children, node_data)`` at nodes and
    ``f_leaf`` at leaves."""
    it = iter(leaves)
    sentinel = object()

    def go(s):
      if s is LEAF:
        leaf = next(it, sentinel)
        if leaf is sentinel:
          raise ValueError("Too few leaves for PyTreeDef")
        return leaf if f_leaf is None else f_leaf(leaf)
      node, data, children = s
      vals = tuple([go(c) for c in children])
      return f_node(vals, node.walk_data(data))
    out = go(self._spec)
    if next(it, sentinel) is not sentinel:
      raise ValueError("Too many leaves for PyTreeDef")
    return out

  def from_iterable_tree(self, xs):
    """Builds a pytree from nested iterables following this structure."""
    def go(s, x):
      if s is LEAF:
        return x
      node, data, children = s
      ys = list(x)
      if len(ys) != len(children):
        raise ValueError("Arity mismatch between trees")
      return node.unflatten(data, [go(c, y) for c, y in zip(children, ys)])
    return go(self._spec, xs)


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

all_registries = (default_registry, none_leaf_registry, dispatch_registry,
                  tracing_registry)


def register_everywhere(node, duplicate_msg):
  """Adds ``node`` to every registry, or to none if one has its type."""
  for registry in all_registries:
    if node.type in registry._regs:
      raise ValueError(f"{duplicate_msg} for {node.type!r}.")
  for registry in all_registries:
    registry._add_registration(node, duplicate_msg)

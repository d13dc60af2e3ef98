"""Tests of pyjax.tree_util / pyjax.tree (pytrees).

Where real JAX is installed it is used as an oracle (``pytest.importorskip``);
every behaviour is also pinned by an explicit expectation so that the suite is
meaningful without JAX.
"""
from __future__ import annotations

import collections
import copy
import dataclasses
import functools
import inspect
import operator
import pickle
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import pyjax.tree as ptree
import pyjax.tree_util as tu
from pyjax._src import tree_util as stu

try:
  from hypothesis import given, settings, HealthCheck
  from hypothesis import strategies as st
except ImportError:  # pragma: no cover
  given = None


def _jtu():
  jax = pytest.importorskip("jax")
  import jax.tree_util
  return jax.tree_util


def _jax_available():
  import importlib.util
  return importlib.util.find_spec("jax") is not None


def _same_tree(a, b):
  """Same structure (incl. node types and metadata) and identical leaves."""
  la, ta = tu.tree_flatten(a)
  lb, tb = tu.tree_flatten(b)
  return (type(a) is type(b) and ta == tb and len(la) == len(lb)
          and all(x is y for x, y in zip(la, lb)))


def _raises_msg(fn):
  """(exception type name, message) raised by ``fn()``; None if none."""
  try:
    fn()
  except Exception as e:  # noqa: BLE001
    return type(e).__name__, str(e)
  return None


# ---------------------------------------------------------------------------
# Test node types, registered in pyjax and (when installed) in JAX.
# ---------------------------------------------------------------------------

Point = collections.namedtuple("Point", ["x", "y"])
Other = collections.namedtuple("Other", ["x", "y"])


class Box:
  """A custom node with children (a, b) and aux data ``tag``."""

  def __init__(self, a, b, tag="t"):
    self.a, self.b, self.tag = a, b, tag

  def __eq__(self, other):
    return (type(other) is Box and self.a == other.a and self.b == other.b
            and self.tag == other.tag)

  def __repr__(self):
    return f"Box({self.a!r}, {self.b!r}, {self.tag!r})"


def _box_flatten(x):
  return (x.a, x.b), x.tag


def _box_unflatten(tag, children):
  return Box(*children, tag=tag)


class KeyedBox:
  """A custom node registered with keys."""

  def __init__(self, x, y):
    self.x, self.y = x, y

  def __eq__(self, other):
    return type(other) is KeyedBox and (self.x, self.y) == (other.x, other.y)

  def __repr__(self):
    return f"KeyedBox({self.x!r}, {self.y!r})"

  def tree_flatten_with_keys(self):
    return (((stu.GetAttrKey("x"), self.x), (stu.GetAttrKey("y"), self.y)),
            None)

  def tree_flatten(self):
    return (self.x, self.y), None

  @classmethod
  def tree_unflatten(cls, aux, children):
    return cls(*children)


class ClassNode:
  """Registered through register_pytree_node_class."""

  def __init__(self, v, meta):
    self.v, self.meta = v, meta

  def __eq__(self, other):
    return (type(other) is ClassNode and self.v == other.v
            and self.meta == other.meta)

  def __repr__(self):
    return f"ClassNode({self.v!r}, {self.meta!r})"

  def tree_flatten(self):
    return (self.v,), self.meta

  @classmethod
  def tree_unflatten(cls, meta, children):
    return cls(children[0], meta)


@dataclasses.dataclass
class DC:
  x: object
  y: object
  op: str = dataclasses.field(default="add", metadata=dict(static=True))


@dataclasses.dataclass
class DCExplicit:
  w: object
  name: str
  cache: object = dataclasses.field(default=None)


class StaticThing:

  def __init__(self, v):
    self.v = v

  def __eq__(self, other):
    return type(other) is StaticThing and self.v == other.v

  def __hash__(self):
    return hash(self.v)

  def __repr__(self):
    return f"StaticThing({self.v})"


def _register_all(m):
  """Registers the test node types with tree_util module ``m``."""
  m.register_pytree_node(Box, _box_flatten, _box_unflatten)
  m.register_pytree_with_keys_class(KeyedBox)
  m.register_pytree_node_class(ClassNode)
  m.register_dataclass(DC)
  m.register_dataclass(DCExplicit, data_fields=["w"], meta_fields=["name"],
                       drop_fields=["cache"])
  m.register_static(StaticThing)


_register_all(tu)
if _jax_available():
  import jax.tree_util as _real_jtu
  _register_all(_real_jtu)


# A corpus of trees exercising every node kind.
W = np.arange(6.0).reshape(2, 3)
B = np.ones(3)
TREES = [
    1,
    None,
    (),
    [],
    {},
    (1,),
    [1, 2],
    (1, {"a": 2, "b": [3, None]}),
    [(W, B), (W, B), (W, B)],
    {"b": 1, "a": [2, (3, 4)], "c": {"z": None, "y": ()}},
    {3: "x", 1: "y", 2: ("z",)},
    {True: 1, 1.5: 2, 2: 3},
    [None, (None,), {"n": None}],
    Point(1, (2, 3)),
    [Point(Point(1, 2), None), Other(3, 4)],
    collections.OrderedDict([("b", 1), ("a", [2, 3])]),
    collections.defaultdict(list, {"b": 1, "a": 2}),
    Box(1, [2, 3]),
    Box(Box(1, 2, "in"), None, "out"),
    KeyedBox(1, {"q": [2]}),
    ClassNode((1, 2), "meta"),
    DC(1, [2, 3], "mul"),
    DCExplicit(w=(1, 2), name="n"),
    [StaticThing(1), 2, StaticThing(3)],
    {"p": Point(1, 2), "dc": DC(x={"k": 1}, y=None), "box": Box(1, 2)},
]


# ---------------------------------------------------------------------------
# Structures, reprs and round trips
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("tree,expected", [
    (1, "PyTreeDef(*)"),
    (None, "PyTreeDef(None)"),
    ((), "PyTreeDef(())"),
    ((1,), "PyTreeDef((*,))"),
    ([], "PyTreeDef([])"),
    ({}, "PyTreeDef({})"),
    ((1, {"a": 2, "b": [3, None]}), "PyTreeDef((*, {'a': *, 'b': [*, None]}))"),
    (Point(1, 2), "PyTreeDef(CustomNode(namedtuple[Point], [*, *]))"),
    (collections.OrderedDict([("b", 1), ("a", 2)]),
     "PyTreeDef(CustomNode(OrderedDict[('b', 'a')], [*, *]))"),
    (collections.defaultdict(list, {"b": 1, "a": 2}),
     "PyTreeDef(CustomNode(defaultdict[(<class 'list'>, ('a', 'b'))], "
     "[*, *]))"),
    (Box(1, [2, 3]), "PyTreeDef(CustomNode(Box[t], [*, [*, *]]))"),
    (KeyedBox(1, 2), "PyTreeDef(CustomNode(KeyedBox[None], [*, *]))"),
    (DC(1, 2), "PyTreeDef(CustomNode(DC[('add',)], [*, *]))"),
    (DCExplicit(1, "n"), "PyTreeDef(CustomNode(DCExplicit[('n',)], [*]))"),
    ([StaticThing(1), 2],
     "PyTreeDef([CustomNode(StaticThing[StaticThing(1)], []), *])"),
    ({True: 1, 1.5: 2, 2: 3}, "PyTreeDef({True: *, 1.5: *, 2: *})"),
    (tu.Partial(print, 1, k=2),
     "PyTreeDef(CustomNode(Partial[<built-in function print>], "
     "[(*,), {'k': *}]))"),
])
def test_structure_repr(tree, expected):
  td = tu.tree_structure(tree)
  assert repr(td) == expected
  assert str(td) == expected


@pytest.mark.parametrize("tree", TREES, ids=range(len(TREES)))
def test_round_trip(tree):
  leaves, td = tu.tree_flatten(tree)
  assert td.num_leaves == len(leaves)
  for _ in range(3):  # first call interprets, later calls use compiled code
    rebuilt = td.unflatten(leaves)
    assert _same_tree(rebuilt, tree)
    assert tu.tree_structure(rebuilt) == td
  assert _same_tree(tu.tree_unflatten(td, iter(leaves)), tree)


def _check_flatten_matches_jax(tree):
  """Same leaves (by identity), treedef repr, node count and key paths as JAX."""
  jtu = _jtu()
  leaves, td = tu.tree_flatten(tree)
  jleaves, jtd = jtu.tree_flatten(tree)
  assert len(leaves) == len(jleaves)
  assert all(a is b for a, b in zip(leaves, jleaves))
  assert repr(td) == repr(jtd)
  assert td.num_nodes == jtd.num_nodes
  assert [tu.keystr(p) for p, _ in tu.tree_leaves_with_path(tree)] == [
      jtu.keystr(p) for p, _ in jtu.tree_leaves_with_path(tree)]
  return td, jtd


@pytest.mark.parametrize("tree", TREES, ids=range(len(TREES)))
def test_matches_jax(tree):
  jtu = _jtu()
  td, jtd = _check_flatten_matches_jax(tree)
  assert td.num_leaves == jtd.num_leaves
  assert [repr(c) for c in td.children()] == [repr(c) for c in jtd.children()]
  assert repr(td.node_data()) == repr(jtd.node_data())
  assert [repr(p) for p, _ in tu.tree_leaves_with_path(tree)] == [
      repr(p) for p, _ in jtu.tree_leaves_with_path(tree)]


def test_none_is_a_node_not_a_leaf():
  assert tu.tree_leaves(None) == []
  assert tu.tree_leaves([None, 1, (None,)]) == [1]
  td = tu.tree_structure(None)
  assert td.num_leaves == 0 and td.num_nodes == 1
  assert td.node_data() == (type(None), None)
  assert td.children() == []
  assert td.unflatten([]) is None
  assert not tu.treedef_is_leaf(tu.tree_structure([None]))
  assert tu.treedef_is_leaf(td)  # a single node
  assert tu.tree_map(lambda x: x + 1, [None, 1]) == [None, 2]
  # None is a leaf for is_leaf=lambda x: x is None
  assert tu.tree_leaves([1, None], is_leaf=lambda x: x is None) == [1, None]
  # and in the none_leaf registry
  leaves, td = stu.none_leaf_registry.flatten([1, None])
  assert leaves == [1, None] and repr(td) == "PyTreeDef([*, *])"


def test_leaf_types_and_subclasses():
  # Subclasses of built-in containers are leaves; namedtuple subclasses are not.
  class MyDict(dict):
    pass

  class MyList(list):
    pass

  class MyTuple(tuple):
    pass

  class SubPoint(Point):
    pass

  assert tu.tree_leaves(MyDict(a=1)) == [MyDict(a=1)]
  assert tu.tree_leaves(MyList([1])) == [MyList([1])]
  assert tu.tree_leaves(MyTuple((1, 2))) == [MyTuple((1, 2))]
  assert repr(tu.tree_structure(SubPoint(1, 2))) == (
      "PyTreeDef(CustomNode(namedtuple[SubPoint], [*, *]))")
  assert tu.tree_leaves(np.float32(1)) == [np.float32(1)]
  assert tu.tree_leaves("abc") == ["abc"]
  assert tu.tree_leaves({"a": {}, "b": ()}) == []


def test_dict_key_sorting():
  assert tu.tree_leaves({"b": 1, "a": 2, "c": 3}) == [2, 1, 3]
  assert tu.tree_leaves({3: "c", 1: "a", 2: "b"}) == ["a", "b", "c"]
  with pytest.raises(ValueError, match="Comparator raised exception while "
                     "sorting pytree dictionary keys.") as info:
    tu.tree_flatten({1: 2, "a": 3})
  assert isinstance(info.value.__cause__, TypeError)
  # Equal keys of different types keep their own identity.
  for d in ({1: "x"}, {1.0: "x"}, {True: "x"}):
    td = tu.tree_structure(d)
    (key,) = td.node_data()[1]
    assert type(key) is type(next(iter(d)))
    out = td.unflatten(["y"])
    assert type(next(iter(out))) is type(next(iter(d)))


def test_dict_key_cache_keeps_str_subclass_keys():
  import enum

  class Color(str, enum.Enum):
    RED = "red"
    BLUE = "blue"

  plain = {"red": 1, "blue": 2}
  tu.tree_flatten(plain)  # populates the sorted-keys cache
  enum_keyed = {Color.RED: 1, Color.BLUE: 2}
  td = tu.tree_structure(enum_keyed)
  assert all(type(k) is Color for k in td.node_data()[1])
  out = td.unflatten([10, 20])
  assert all(type(k) is Color for k in out)


def test_ordered_dict_and_defaultdict():
  od = collections.OrderedDict([("b", 1), ("a", 2)])
  leaves, td = tu.tree_flatten(od)
  assert leaves == [1, 2]  # insertion order
  assert td.unflatten([5, 6]) == collections.OrderedDict([("b", 5), ("a", 6)])
  dd = collections.defaultdict(int, {"b": 1, "a": 2})
  leaves, td = tu.tree_flatten(dd)
  assert leaves == [2, 1]  # sorted
  out = td.unflatten([5, 6])
  assert type(out) is collections.defaultdict and out.default_factory is int
  assert dict(out) == {"a": 5, "b": 6}
  assert (tu.tree_structure(collections.OrderedDict(b=1, a=2)) !=
          tu.tree_structure(collections.OrderedDict(a=1, b=2)))


def test_is_leaf():
  tree = [1, [2, 3], (4, [5])]
  assert tu.tree_leaves(tree, is_leaf=lambda x: isinstance(x, list)) == [tree]
  assert tu.tree_leaves(tree, is_leaf=lambda x: isinstance(x, list) and
                        len(x) == 1) == [1, 2, 3, 4, [5]]
  # None returned from is_leaf means "not a leaf"
  assert tu.tree_leaves(tree, is_leaf=lambda x: None) == [1, 2, 3, 4, 5]
  with pytest.raises(ValueError, match=r"is_leaf predicate returned a "
                     r"non-boolean value 1; expected a boolean"):
    tu.tree_flatten([1, 2], is_leaf=lambda x: 1)
  with pytest.raises(ValueError, match="non-boolean value"):
    tu.tree_flatten([1, 2], is_leaf=lambda x: np.bool_(True))
  out = tu.tree_map(lambda x: len(x), tree,
                    is_leaf=lambda x: isinstance(x, list))
  assert out == 3
  td = tu.tree_structure(tree, is_leaf=lambda x: isinstance(x, tuple))
  assert repr(td) == "PyTreeDef([*, [*, *], *])"


def test_iterator_leaves_warn():
  with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    leaves = tu.tree_leaves([iter([1, 2]), (x for x in [1]), zip([1], [2])])
  assert len(leaves) == 3
  msgs = [str(x.message) for x in w if x.category is DeprecationWarning]
  assert msgs[0] == (
      "Python iterable type 'list_iterator' is treated as a leaf in PyTree. "
      "Use is_leaf to suppress this warning if you want this behavior. In a "
      "future version of JAX, this will become an error.")
  assert len(msgs) == 3
  with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    tu.tree_leaves([iter([1])], is_leaf=lambda x: not isinstance(x, list))
  assert not w


# ---------------------------------------------------------------------------
# PyTreeDef API
# ---------------------------------------------------------------------------

def test_treedef_eq_hash():
  a = tu.tree_structure([1, (2, 3), {"a": 4}])
  b = tu.tree_structure(["x", ("y", "z"), {"a": 5}])
  c = tu.tree_structure([1, [2, 3], {"a": 4}])
  assert a == b and hash(a) == hash(b)
  assert a != c and not (a == c)
  assert len({a, b, c}) == 2
  # Comparisons with other types are False both ways (as in JAX).
  assert (a == 3) is False and (a != 3) is False
  assert tu.tree_structure([1]) != tu.tree_structure((1,))
  assert tu.tree_structure(Point(1, 2)) != tu.tree_structure(Other(1, 2))
  assert tu.tree_structure(Box(1, 2, "x")) != tu.tree_structure(Box(1, 2, "y"))
  assert tu.tree_structure({"a": 1}) != tu.tree_structure({"b": 1})
  # Unhashable aux data: the treedef is still hashable.
  td = tu.tree_structure(Box(1, 2, ["unhashable"]))
  assert hash(td) == hash(tu.tree_structure(Box(3, 4, ["unhashable"])))
  assert td == tu.tree_structure(Box(3, 4, ["unhashable"]))
  with pytest.raises(ValueError, match="Exception raised while checking "
                     "equality of metadata fields of pytree"):
    _ = (tu.tree_structure(Box(1, 2, np.arange(3))) ==
         tu.tree_structure(Box(1, 2, np.arange(3))))


def test_treedef_is_immutable_and_copyable():
  td = tu.tree_structure([1, {"a": (2, None)}])
  with pytest.raises(AttributeError):
    td.num_leaves = 3
  with pytest.raises(TypeError):
    tu.PyTreeDef()
  assert copy.copy(td) is td and copy.deepcopy(td) is td
  td2 = pickle.loads(pickle.dumps(td))
  assert td2 == td and repr(td2) == repr(td)
  td3 = pickle.loads(pickle.dumps(tu.tree_structure([Point(1, 2), Box(1, 2)])))
  assert td3 == tu.tree_structure([Point(1, 2), Box(1, 2)])


def test_unflatten_errors():
  td = tu.tree_structure([1, (2, 3), {"a": 4}, None])
  with pytest.raises(
      ValueError, match=r"^Too few leaves for PyTreeDef; expected 4, got 3$"):
    td.unflatten([1, 2, 3])
  with pytest.raises(ValueError,
                     match=r"^Too many leaves for PyTreeDef; expected 4\.$"):
    td.unflatten([1, 2, 3, 4, 5])
  with pytest.raises(TypeError):
    td.unflatten(5)
  assert td.unflatten(iter([1, 2, 3, 4])) == [1, (2, 3), {"a": 4}, None]
  assert tu.tree_unflatten(tu.tree_structure(1), [7]) == 7


FLATTEN_UP_TO_CASES = [
    ([1, (2, 3), {"a": 4}], "List arity mismatch: 3 != 4; list: "
     "[1, (2, 3), {'a': 4}]."),
    ([1, [2, 3], {"a": 4}, None], "Expected tuple, got [2, 3]."),
    ([1, (2, 3, 4), {"a": 4}, None],
     "Tuple arity mismatch: 3 != 2; tuple: (2, 3, 4)."),
    ([1, (2, 3), {"b": 4}, None],
     "Dict key mismatch; expected keys: ['a']; present keys: ['b']."),
    ([1, (2, 3), {"a": 4}, 5], "Expected None, got 5.\n\nIn previous releases "
     "of JAX, flatten-up-to used to consider None to be a tree-prefix of "
     "non-None values. To obtain the previous behavior, you can usually "
     "write:\n  jax.tree.map(lambda x, y: None if x is None else f(x, y), a, "
     "b, is_leaf=lambda x: x is None)"),
    ((1, (2, 3), {"a": 4}, None),
     "Expected list, got (1, (2, 3), {'a': 4}, None)."),
    # Two mismatches: like JAX, the right-most one is reported.
    ([1, [2, 3], {"b": 4}, None],
     "Dict key mismatch; expected keys: ['a']; present keys: ['b']."),
]


@pytest.mark.parametrize("other,msg", FLATTEN_UP_TO_CASES)
def test_flatten_up_to_errors(other, msg):
  td = tu.tree_structure([1, (2, 3), {"a": 4}, None])
  with pytest.raises(ValueError) as info:
    td.flatten_up_to(other)
  assert str(info.value) == msg


def test_flatten_up_to_custom_errors():
  td = tu.tree_structure(Point(1, 2))
  assert _raises_msg(lambda: td.flatten_up_to(Other(1, 2))) == (
      "ValueError", "Named tuple type mismatch: expected type: "
      f"{Point!r}, tuple: Other(x=1, y=2).")
  assert _raises_msg(lambda: td.flatten_up_to((1, 2))) == (
      "ValueError", "Expected named tuple, got (1, 2).")
  tdb = tu.tree_structure(Box(1, 2, "x"))
  assert _raises_msg(lambda: tdb.flatten_up_to(Box(1, 2, "y"))) == (
      "ValueError", "Mismatch custom node data: 'x' != 'y'; value: "
      "Box(1, 2, 'y').")
  assert _raises_msg(lambda: tdb.flatten_up_to([1])) == (
      "ValueError", f"Custom node type mismatch: expected type: {Box!r}, "
      "value: [1].")
  tdd = tu.tree_structure(DC(1, 2, "add"))
  assert _raises_msg(lambda: tdd.flatten_up_to(DC(1, 2, "mul"))) == (
      "ValueError", "Mismatch custom dataclass node data: ('add',) != "
      "('mul',); value: DC(x=1, y=2, op='mul').")
  assert _raises_msg(lambda: tdd.flatten_up_to(Box(1, 2))) == (
      "ValueError", f"Custom dataclass node type mismatch: expected type: "
      f"{DC!r}, value: Box(1, 2, 't').")


@pytest.mark.parametrize("other", [o for o, _ in FLATTEN_UP_TO_CASES] + [
    [[1], ([2], 3), {"a": (4,)}, None]])
def test_flatten_up_to_matches_jax(other):
  jtu = _jtu()
  base = [1, (2, 3), {"a": 4}, None]
  mine = _raises_msg(lambda: tu.tree_structure(base).flatten_up_to(other))
  theirs = _raises_msg(lambda: jtu.tree_structure(base).flatten_up_to(other))
  assert mine == theirs
  if mine is None:
    assert (tu.tree_structure(base).flatten_up_to(other) ==
            jtu.tree_structure(base).flatten_up_to(other))


def test_children_node_data_compose_walk():
  td = tu.tree_structure([1, (2, 3), {"a": 4}, None])
  assert [repr(c) for c in td.children()] == [
      "PyTreeDef(*)", "PyTreeDef((*, *))", "PyTreeDef({'a': *})",
      "PyTreeDef(None)"]
  assert tu.treedef_children(td) == td.children()
  assert tu.tree_structure(1).children() == []
  assert tu.tree_structure(1).node_data() is None
  assert td.node_data() == (list, None)
  assert tu.tree_structure({"b": 1, "a": 2}).node_data() == (dict, ["a", "b"])
  assert tu.tree_structure(Point(1, 2)).node_data() == (Point, None)
  assert tu.tree_structure(Box(1, 2, "q")).node_data() == (Box, "q")
  assert td.num_nodes == 8
  composed = td.compose(tu.tree_structure((1, 2)))
  assert repr(composed) == (
      "PyTreeDef([(*, *), ((*, *), (*, *)), {'a': (*, *)}, None])")
  assert composed.num_leaves == 8
  walked = td.walk(lambda cs, d: ("N", cs, d), lambda x: x * 10, [1, 2, 3, 4])
  assert walked == ("N", (10, ("N", (20, 30), None), ("N", (40,), ["a"]),
                          ("N", (), None)), None)
  assert td.from_iterable_tree([1, [2, 3], [4], []]) == [1, (2, 3), {"a": 4},
                                                           None]
  for child_td, data in [(td, td.node_data()),
                         (tu.tree_structure(Point(1, (2,))), (Point, None)),
                         (tu.tree_structure(Box(1, 2, "z")), (Box, "z")),
                         (tu.tree_structure({"k": [1]}), (dict, ["k"]))]:
    rebuilt = tu.PyTreeDef.from_node_data_and_children(
        tu.default_registry, data, child_td.children())
    assert rebuilt == child_td
  with pytest.raises(RuntimeError, match="Could not find type"):
    tu.PyTreeDef.from_node_data_and_children(tu.default_registry, (int, None),
                                             [])


def test_treedef_tuple_and_leaf_predicates():
  td = tu.treedef_tuple([tu.tree_structure([1, 2]), tu.tree_structure(1)])
  assert repr(td) == "PyTreeDef(([*, *], *))"
  assert td == tu.tree_structure(([1, 2], 3))
  assert td.num_leaves == 3
  assert tu.treedef_is_leaf(tu.tree_structure(1))
  assert not tu.treedef_is_leaf(tu.tree_structure([1]))
  assert tu.all_leaves([1, 2, "a"])
  assert not tu.all_leaves([1, None])
  assert not tu.all_leaves([1, [2]])
  # (the iterable itself goes through is_leaf too, as in JAX)
  assert not tu.all_leaves([1, [2]], is_leaf=lambda x: isinstance(x, list))
  assert tu.all_leaves([1, [2]], is_leaf=lambda x: x == [2])
  assert tu.is_tree_node(list) and tu.is_tree_node(type(None))
  assert tu.is_tree_node(Point) and tu.is_tree_node(Box)
  assert tu.is_tree_node(collections.OrderedDict)
  assert not tu.is_tree_node(int)


def test_flatten_one_level():
  assert tu.flatten_one_level({"b": [2], "a": 1}) == ((1, [2]), ("a", "b"))
  assert tu.flatten_one_level([1, 2]) == ([1, 2], None)
  assert tu.flatten_one_level(None) == ((), None)
  assert tu.flatten_one_level(Point(1, 2)) == ([1, 2], Point)
  with pytest.raises(ValueError, match="can't tree-flatten type: "
                     "<class 'int'>"):
    tu.flatten_one_level(1)
  assert tu.flatten_one_level_with_keys({"a": 1}) == (
      ((tu.DictKey("a"), 1),), ("a",))
  assert tu.flatten_one_level_with_keys([5]) == (((tu.SequenceKey(0), 5),),
                                                 None)


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

def test_registered_custom_nodes():
  leaves, td = tu.tree_flatten(Box(1, [2, 3], "tag"))
  assert leaves == [1, 2, 3]
  assert td.unflatten([4, 5, 6]) == Box(4, [5, 6], "tag")
  assert tu.tree_map(lambda x: x * 2, ClassNode((1, 2), "m")) == ClassNode(
      (2, 4), "m")
  assert tu.tree_leaves(KeyedBox(1, [2])) == [1, 2]
  assert tu.tree_leaves([StaticThing(1), 2]) == [2]
  out = tu.tree_map(lambda x: x + 1, [StaticThing(1), 2])
  assert out == [StaticThing(1), 3]


def test_custom_flatten_output_validation():
  class Bad:
    pass

  tu.register_pytree_node(Bad, lambda x: [(), None], lambda a, c: Bad())
  with pytest.raises(ValueError, match=r"The to_iterable function for a custom "
                     r"PyTree node should return a \(children, aux_data\) "
                     r"tuple, got \[\(\), None\]"):
    tu.tree_flatten(Bad())

  class Bad2:
    pass

  tu.register_pytree_node(Bad2, lambda x: (3, None), lambda a, c: Bad2())
  with pytest.raises(ValueError, match="where 'children' is iterable"):
    tu.tree_flatten(Bad2())


def test_duplicate_registration():
  with pytest.raises(ValueError, match=re.escape(
      f"Duplicate custom PyTreeDef type registration for {Box!r}.")):
    tu.register_pytree_node(Box, _box_flatten, _box_unflatten)
  with pytest.raises(ValueError, match=re.escape(
      "Duplicate custom dataclass PyTreeDef type registration for "
      f"{DC!r}.")):
    tu.register_dataclass(DC)
  with pytest.raises(ValueError, match="Duplicate custom PyTreeDef type "
                     "registration for <class 'list'>"):
    tu.register_pytree_node(list, lambda x: (x, None), lambda a, c: list(c))


def test_registration_after_leaf_use():
  class Late:

    def __init__(self, v):
      self.v = v

  x = Late(1)
  assert tu.tree_leaves([x]) == [x]  # cached as a leaf type
  tu.register_pytree_node(Late, lambda o: ((o.v,), None),
                          lambda _, c: Late(*c))
  assert tu.tree_leaves([x]) == [1]
  assert tu.tree_leaves([x], is_leaf=lambda _: False) == [1]


def test_register_dataclass():
  leaves, td = tu.tree_flatten(DC(1, 2, "mul"))
  assert leaves == [1, 2]
  assert td.node_data() == (DC, ("mul",))
  assert td.unflatten([3, 4]) == DC(3, 4, "mul")
  assert (tu.tree_flatten_with_path(DC(1, 2))[0] ==
          [((tu.GetAttrKey("x"),), 1), ((tu.GetAttrKey("y"),), 2)])
  out = tu.tree_unflatten(tu.tree_structure(DCExplicit((1, 2), "n")), [5, 6])
  assert out == DCExplicit((5, 6), "n")

  @dataclasses.dataclass
  class D2:
    x: int
    y: int
    z: int = dataclasses.field(init=False, default=3)

  cases = [
      (lambda: tu.register_dataclass(D2, ["x"], ["y", "q"]),
       ValueError, "data_fields and meta_fields must include all dataclass "
       "fields with ``init=True`` and only them. Unexpected fields: {'q'}."),
      (lambda: tu.register_dataclass(D2, ["x"], None), TypeError,
       "register_dataclass: data_fields and meta_fields must both be "
       "specified when either is specified. Got data_fields=['x'] "
       "meta_fields=None."),
      (lambda: tu.register_dataclass(Box), TypeError,
       "register_dataclass: data_fields and meta_fields are required when "
       f"nodetype is not a dataclass. Got nodetype={Box!r}."),
      (lambda: tu.register_dataclass(D2, ["x"], []), ValueError,
       "data_fields and meta_fields must include all dataclass fields with "
       "``init=True`` and only them. Missing fields: {'y'}. Add them to "
       "drop_fields to suppress this error."),
      (lambda: tu.register_dataclass(D2, ["x", "y"], ["y"]), ValueError,
       "data_fields and meta_fields must not overlap. Overlapping fields: "
       "{'y'}."),
  ]
  for fn, exc, msg in cases:
    with pytest.raises(exc) as info:
      fn()
    assert str(info.value) == msg
  assert tu.register_dataclass(D2, ["x"], [], drop_fields=["y"]) is D2
  assert tu.tree_flatten(D2(1, 2))[0] == [1]


def test_register_dataclass_with_tree_static():
  @tu.register_dataclass
  @dataclasses.dataclass
  class Op:
    x: object
    op: str = ptree.static(default="add")

  assert tu.tree_leaves(Op(1)) == [1]
  assert repr(tu.tree_structure(Op(1))) == (
      "PyTreeDef(CustomNode(Op[('add',)], [*]))")


def test_partial():
  p = tu.Partial(lambda a, b, c=0: a + b + c, 1, c=3)
  assert p(2) == 6
  leaves, td = tu.tree_flatten(p)
  assert leaves == [1, 3]
  assert tu.tree_map(lambda x: x * 10, p)(2) == 42
  assert tu.tree_structure(p) == tu.tree_structure(tu.Partial(p.func, 5, c=7))
  assert repr(tu.Partial(print, 1, k=2)) == (
      "Partial(<built-in function print>, 1, k=2)")
  inner = functools.partial(lambda a, b, c: a + b + c, 1)
  p2 = tu.Partial(inner, 2)
  assert tu.tree_leaves(p2) == [2]  # inner partial's args are static
  assert p2(3) == 6
  assert isinstance(p2, functools.partial)


# ---------------------------------------------------------------------------
# tree_map & friends
# ---------------------------------------------------------------------------

def test_tree_map_multiple_trees():
  a = {"x": [1, 2], "y": (3, None)}
  b = {"x": [10, 20], "y": (30, None)}
  assert tu.tree_map(operator.add, a, b) == {"x": [11, 22], "y": (33, None)}
  # rest trees may be deeper than `tree` (tree is a prefix)
  assert tu.tree_map(lambda x, y: (x, y), [1, 2], [(1, 2), [3]]) == [
      (1, (1, 2)), (2, [3])]
  assert ptree.map(lambda x: x + 1, {"x": 7, "y": 42}) == {"x": 8, "y": 43}


TREE_MAP_ERROR_CASES = [
    ([1, 2], [1, 2, 3],
     "pytree structure error: different lengths of list at key path\n"
     "    tree_map tree\n"
     "At that key path, the prefix pytree tree_map tree has a subtree of type "
     "list of length 2, but the full pytree has a subtree of the same type but "
     "of length 3."),
    ((1, 2), [1, 2],
     "pytree structure error: different types at key path\n"
     "    tree_map tree\n"
     "At that key path, the prefix pytree tree_map tree has a subtree of type\n"
     "    <class 'tuple'>\n"
     "but at the same key path the full pytree has a subtree of different "
     "type\n"
     "    <class 'list'>."),
    ({"a": 1}, {"b": 1},
     "pytree structure error: different pytree metadata at key path\n"
     "    tree_map tree\n"
     "At that key path, the prefix pytree tree_map tree has a subtree of type\n"
     "    <class 'dict'>\n"
     "with metadata\n"
     "    ('a',)\n"
     "but at the same key path the full pytree has a subtree of the same type "
     "but with metadata\n"
     "    ('b',)\n"
     "so the diff in the metadata at these pytree nodes is\n"
     "    - ('a',)\n"
     "    ?   ^\n\n"
     "    + ('b',)\n"
     "    ?   ^\n"),
    ({"a": 1, "b": 2}, {"a": 1},
     "pytree structure error: different numbers of pytree children at key "
     "path\n"
     "    tree_map tree\n"
     "At that key path, the prefix pytree tree_map tree has a subtree of type\n"
     "    <class 'dict'>\n"
     "with 2 child keys\n"
     "    a b\n"
     "but at the same key path the full pytree has a subtree of the same type "
     "but with 1 child keys\n"
     "    a\n"
     "so the symmetric difference on key sets is\n"
     "    b"),
    ([1, None], [1, 2],
     "pytree structure error: different types at key path\n"
     "    tree_map tree[1]\n"
     "At that key path, the prefix pytree tree_map tree has a subtree of type\n"
     "    <class 'NoneType'>\n"
     "but at the same key path the full pytree has a subtree of different "
     "type\n"
     "    <class 'int'>."),
    ({"k": [1, (2, 3)]}, {"k": [1, 2]},
     "pytree structure error: different types at key path\n"
     "    tree_map tree['k'][1]\n"
     "At that key path, the prefix pytree tree_map tree has a subtree of type\n"
     "    <class 'tuple'>\n"
     "but at the same key path the full pytree has a subtree of different "
     "type\n"
     "    <class 'int'>."),
    (Box(1, 2, "x"), Box(1, 2, "y"),
     "pytree structure error: different pytree metadata at key path\n"
     "    tree_map tree\n"
     "At that key path, the prefix pytree tree_map tree has a subtree of type\n"
     f"    {Box}\n"
     "with metadata\n"
     "    x\n"
     "but at the same key path the full pytree has a subtree of the same type "
     "but with metadata\n"
     "    y\n"
     "so the diff in the metadata at these pytree nodes is\n"
     "    - x\n"
     "    + y"),
    (Point(1, 2), Other(1, 2),
     "pytree structure error: different types at key path\n"
     "    tree_map tree\n"
     "At that key path, the prefix pytree tree_map tree has a subtree of type\n"
     f"    {Point}\n"
     "but at the same key path the full pytree has a subtree of different "
     "type\n"
     f"    {Other}."),
]


@pytest.mark.parametrize("tree,other,msg", TREE_MAP_ERROR_CASES)
def test_tree_map_structure_errors(tree, other, msg):
  with pytest.raises(ValueError) as info:
    tu.tree_map(lambda *xs: xs[0], tree, other)
  assert str(info.value) == msg


@pytest.mark.parametrize("tree,other", [(t, o) for t, o, _ in
                                        TREE_MAP_ERROR_CASES] + [
    ([1, 2], [1, None]), ([DC(1, 2)], [DC(1, 2, "mul")]),
    ({"a": [1]}, {"a": [1, 2]})])
def test_tree_map_errors_match_jax(tree, other):
  jtu = _jtu()
  f = lambda *xs: xs[0]
  assert _raises_msg(lambda: tu.tree_map(f, tree, other)) == _raises_msg(
      lambda: jtu.tree_map(f, tree, other))
  g = lambda p, *xs: xs[0]
  assert _raises_msg(lambda: tu.tree_map_with_path(g, tree, other)) == (
      _raises_msg(lambda: jtu.tree_map_with_path(g, tree, other)))


def test_namedtuple_one_level_keys():
  # Deliberate divergence: JAX 0.10.2 returns GetAttrKey('x') for every child
  # here (a bug); pyjax names each field.
  assert tu.flatten_one_level_with_keys(Point(1, 2)) == (
      [(tu.GetAttrKey("x"), 1), (tu.GetAttrKey("y"), 2)], Point)
  with pytest.raises(ValueError, match=r"    tree_map tree\.y\n"):
    tu.tree_map(lambda *x: x, Point(0, ()), Point(None, []))


def test_tree_map_with_path():
  out = tu.tree_map_with_path(lambda p, x, y: (tu.keystr(p), x, y),
                              {"a": 1, "b": [2]}, {"a": 10, "b": [20]})
  assert out == {"a": ("['a']", 1, 10), "b": [("['b'][0]", 2, 20)]}
  with pytest.raises(ValueError, match=r"    tree_map_with_path tree\['b'\]"):
    tu.tree_map_with_path(lambda p, x, y: x, {"b": [2]}, {"b": [20, 3]})
  assert ptree.map_with_path(lambda path, x: x + path[0].idx, [1, 2]) == [1, 3]


def test_reduce_all_transpose_broadcast():
  assert tu.tree_reduce(operator.add, [1, (2, 3), {"a": 4}]) == 10
  assert tu.tree_reduce(operator.add, [], 0) == 0
  with pytest.raises(TypeError):
    tu.tree_reduce(operator.add, [])
  assert tu.tree_reduce_associative(operator.add, [1, (2, 3), [4, 5, 6]]) == 21
  with pytest.raises(TypeError, match="Must specify identity"):
    tu.tree_reduce_associative(operator.add, [])
  assert tu.tree_all([True, {"a": (1, 2)}])
  assert not tu.tree_all([1, 0])
  assert ptree.all([True, {"a": True}])
  outer = tu.tree_structure([0, 0])
  inner = tu.tree_structure((0, 0))
  assert tu.tree_transpose(outer, inner, [(1, 2), (3, 4)]) == ([1, 3], [2, 4])
  assert tu.tree_transpose(outer, None, [(1, 2), (3, 4)]) == ([1, 3], [2, 4])
  with pytest.raises(TypeError) as info:
    tu.tree_transpose(outer, tu.tree_structure((0, 0, 0)), [(1, 2), (3, 4)])
  assert str(info.value) == ("Mismatch\nPyTreeDef([(*, *), (*, *)])\n != \n"
                             "PyTreeDef([(*, *, *), (*, *, *)])")
  assert tu.tree_broadcast([1, 2], [(1, 2), {"a": 3}]) == [(1, 1), {"a": 2}]
  assert ptree.broadcast([1, 2, 3], [[0, 0], [0], [0, 0, 0]]) == [
      [1, 1], [2], [3, 3, 3]]
  with pytest.raises(ValueError, match="broadcast_prefix prefix_tree"):
    tu.tree_broadcast([1, 2], [(1, 2)])


# ---------------------------------------------------------------------------
# Key paths
# ---------------------------------------------------------------------------

def test_key_entries():
  assert repr(tu.SequenceKey(2)) == "SequenceKey(idx=2)"
  assert str(tu.SequenceKey(2)) == "[2]"
  assert repr(tu.DictKey("a")) == "DictKey(key='a')"
  assert str(tu.DictKey("a")) == "['a']"
  assert str(tu.DictKey(1)) == "[1]"
  assert repr(tu.GetAttrKey("x")) == "GetAttrKey(name='x')"
  assert str(tu.GetAttrKey("x")) == ".x"
  assert repr(tu.FlattenedIndexKey(3)) == "FlattenedIndexKey(key=3)"
  assert str(tu.FlattenedIndexKey(3)) == "[<flat index 3>]"
  assert tu.SequenceKey(1) == tu.SequenceKey(1)
  assert tu.DictKey(1) != tu.SequenceKey(1)
  assert tu.DictKey("a") != "a"
  assert hash(tu.SequenceKey(3)) == 4
  assert hash(tu.FlattenedIndexKey(3)) == 45
  assert hash(tu.DictKey("a")) == hash("a")
  assert hash(tu.GetAttrKey("a")) == hash("a")
  assert tu.SequenceKey(idx=1).idx == 1
  assert tu.SequenceKey(True).idx == 1
  with pytest.raises(TypeError):
    tu.SequenceKey("a")
  with pytest.raises(TypeError):
    tu.SequenceKey(1.0)
  with pytest.raises(TypeError):
    tu.GetAttrKey(1)
  with pytest.raises(TypeError):
    hash(tu.DictKey([1]))
  match tu.DictKey("k"):
    case tu.DictKey(key=k):
      assert k == "k"
  for k in (tu.SequenceKey(1), tu.DictKey("a"), tu.GetAttrKey("n"),
            tu.FlattenedIndexKey(2)):
    assert pickle.loads(pickle.dumps(k)) == k


def test_keystr():
  path = (tu.DictKey("a"), tu.SequenceKey(0), tu.GetAttrKey("x"),
          tu.FlattenedIndexKey(3))
  assert tu.keystr(path) == "['a'][0].x[<flat index 3>]"
  assert tu.keystr(path, simple=True, separator="/") == "a/0/x/3"
  assert tu.keystr(path, simple=True) == "a0x3"
  assert tu.keystr(("foo", 1)) == "foo1"
  assert tu.keystr(()) == ""
  assert (list(inspect.signature(tu.keystr).parameters) ==
          ["keys", "simple", "separator"])
  params = inspect.signature(tu.keystr).parameters
  assert params["separator"].default == ""
  assert params["simple"].kind is inspect.Parameter.KEYWORD_ONLY


def test_flatten_with_path():
  tree = {"a": [1, Point(2, 3)], "b": Box(4, 5), "c": KeyedBox(6, 7),
          "d": collections.OrderedDict(z=8, y=9), "e": DC(10, 11), "n": None}
  got = [(tu.keystr(p), v) for p, v in tu.tree_leaves_with_path(tree)]
  assert got == [
      ("['a'][0]", 1), ("['a'][1].x", 2), ("['a'][1].y", 3),
      ("['b'][<flat index 0>]", 4), ("['b'][<flat index 1>]", 5),
      ("['c'].x", 6), ("['c'].y", 7), ("['d']['z']", 8), ("['d']['y']", 9),
      ("['e'].x", 10), ("['e'].y", 11)]
  leaves_paths, td = tu.tree_flatten_with_path(tree)
  assert td == tu.tree_structure(tree)
  assert [v for _, v in leaves_paths] == tu.tree_leaves(tree)
  # is_leaf, with and without the path
  out = tu.tree_flatten_with_path([1, [2, 3]], is_leaf=lambda p, x: len(p) == 1,
                                  is_leaf_takes_path=True)[0]
  assert out == [((tu.SequenceKey(0),), 1), ((tu.SequenceKey(1),), [2, 3])]
  out = tu.tree_leaves_with_path([1, [2, 3]], is_leaf=lambda x: isinstance(
      x, list) and len(x) == 2)
  assert out == [((), [1, [2, 3]])]
  assert ptree.leaves_with_path([1, {"x": 3}]) == [
      ((tu.SequenceKey(0),), 1), ((tu.SequenceKey(1), tu.DictKey("x")), 3)]


# ---------------------------------------------------------------------------
# Public module surfaces
# ---------------------------------------------------------------------------

def test_public_tree_util_names_match_jax():
  jtu = _jtu()
  mine = {n for n in dir(tu) if not n.startswith("_")}
  theirs = {n for n in dir(jtu) if not n.startswith("_")}
  assert mine == theirs


def test_tree_module_matches_jax_signatures():
  jax = pytest.importorskip("jax")
  mine = {n for n in dir(ptree) if not n.startswith("_")}
  theirs = {n for n in dir(jax.tree) if not n.startswith("_")}
  assert mine == theirs
  for name in theirs:
    a = inspect.signature(getattr(jax.tree, name))
    b = inspect.signature(getattr(ptree, name))
    assert [(p.name, p.kind) for p in a.parameters.values()] == [
        (p.name, p.kind) for p in b.parameters.values()], name
    for pa, pb in zip(a.parameters.values(), b.parameters.values()):
      if pa.default is inspect.Parameter.empty or pa.default is None:
        assert pa.default is pb.default or pa.default == pb.default, name


def test_tree_util_signatures_match_jax():
  jtu = _jtu()
  for name in dir(jtu):
    obj = getattr(jtu, name)
    if name.startswith("_") or not inspect.isfunction(obj):
      continue
    a = inspect.signature(obj)
    b = inspect.signature(getattr(tu, name))
    assert [(p.name, p.kind) for p in a.parameters.values()] == [
        (p.name, p.kind) for p in b.parameters.values()], name


def test_tree_aliases():
  vals, td = ptree.flatten([1, (2, 3), [4, 5]])
  assert vals == [1, 2, 3, 4, 5]
  assert ptree.unflatten(td, vals) == [1, (2, 3), [4, 5]]
  assert ptree.leaves([1, (2, 3)]) == [1, 2, 3]
  assert repr(ptree.structure([1, (2, 3)])) == "PyTreeDef([*, (*, *)])"
  assert ptree.reduce(operator.add, [1, (2, 3)]) == 6
  assert ptree.reduce(operator.add, [], 5) == 5
  assert ptree.reduce_associative(operator.add, [1, (2, 3)]) == 6
  assert ptree.transpose(ptree.structure([0, 0]), ptree.structure((0, 0)),
                         [(1, 2), (3, 4)]) == ([1, 3], [2, 4])
  paths, td2 = ptree.flatten_with_path({"k": 1})
  assert paths == [((tu.DictKey("k"),), 1)]


def test_no_jax_import():
  code = ("import sys; import pyjax.tree_util, pyjax.tree; "
          "assert not any(m == 'jax' or m.startswith('jax.') or "
          "m.startswith('jaxlib') for m in sys.modules), 'jax imported'")
  subprocess.run([sys.executable, "-c", code], check=True,
                 cwd=__file__.rsplit("/tests/", 1)[0])


# ---------------------------------------------------------------------------
# Compiled unflatten
# ---------------------------------------------------------------------------

def test_compiled_unflatten_equals_interpreted():
  class Weird:
    pass

  # A dataclass-like node without fields.
  tu.register_dataclass(Weird, data_fields=[], meta_fields=[])
  tree = {"a": [1, (2, None)], "b": Point(3, {"c": 4}), "d": Box(5, 6, "q"),
          "e": DC(7, [8], "x"), "f": collections.OrderedDict(z=9),
          "g": (10,), "h": [], "i": Weird(), "j": [(11, 12), (13, 14)],
          "k": ((15,), [16], {}, (), None, {"m": 17})}
  leaves, td = tu.tree_flatten(tree)
  outs = [td.unflatten(leaves) for _ in range(4)]
  assert td._ufn is not None and callable(td._ufn)
  for out in outs:
    assert tu.tree_structure(out) == td
    assert tu.tree_leaves(out) == leaves
    assert type(out["i"]) is Weird
  # Deep trees fall back to interpretation.
  deep = 1
  for _ in range(100):
    deep = [deep]
  leaves, td = tu.tree_flatten(deep)
  assert all(td.unflatten(leaves) == deep for _ in range(3))


# ---------------------------------------------------------------------------
# Property-based round trips (vs JAX when available)
# ---------------------------------------------------------------------------

if given is not None:
  _leaf = st.integers(-5, 5) | st.sampled_from(["s", 1.5, True])
  _str_keys = st.sampled_from(["a", "b", "c", "dd", "e"])
  _int_keys = st.integers(-3, 3)

  def _extend(children, namedtuples=True):
    options = [
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(_str_keys, children, max_size=4),
        st.dictionaries(_int_keys, children, max_size=3),
        st.tuples(children, children, _str_keys).map(lambda t: Box(*t)),
        st.tuples(children, children).map(lambda t: DC(*t)),
        st.tuples(children, children).map(lambda t: KeyedBox(*t)),
        st.lists(st.tuples(_str_keys, children), max_size=3).map(
            collections.OrderedDict),
    ]
    if namedtuples:
      options.append(st.tuples(children, children).map(lambda t: Point(*t)))
    return st.one_of(*options)

  _trees = st.recursive(_leaf | st.none(), _extend, max_leaves=20)
  # JAX 0.10.2's flatten_one_level_with_keys labels every namedtuple child
  # with the first field's name, which leaks into its tree_map error messages
  # (see test_namedtuple_one_level_keys); pyjax reports the right field, so
  # namedtuples are left out of the error-message comparison.
  _trees_no_nt = st.recursive(
      _leaf | st.none(), functools.partial(_extend, namedtuples=False),
      max_leaves=20)

  @settings(max_examples=150, deadline=None,
            suppress_health_check=[HealthCheck.too_slow])
  @given(_trees)
  def test_hypothesis_round_trip(tree):
    leaves, td = tu.tree_flatten(tree)
    for _ in range(3):
      rebuilt = tu.tree_unflatten(td, leaves)
      assert _same_tree(rebuilt, tree)
    assert tu.tree_structure(rebuilt) == td
    assert hash(tu.tree_structure(rebuilt)) == hash(td)
    assert td.flatten_up_to(tree) == leaves
    assert _same_tree(tu.tree_map(lambda x: x, tree), tree)
    paths = tu.tree_leaves_with_path(tree)
    assert [v for _, v in paths] == leaves
    assert td.num_leaves == len(leaves)
    assert sum(c.num_nodes for c in td.children()) + 1 == td.num_nodes or (
        td.num_nodes == 1)

  @settings(max_examples=150, deadline=None,
            suppress_health_check=[HealthCheck.too_slow])
  @given(_trees)
  def test_hypothesis_matches_jax(tree):
    _check_flatten_matches_jax(tree)

  @settings(max_examples=100, deadline=None,
            suppress_health_check=[HealthCheck.too_slow])
  @given(_trees_no_nt, _trees_no_nt)
  def test_hypothesis_tree_map_errors_match_jax(t1, t2):
    jtu = _jtu()
    f = lambda *xs: 0
    assert _raises_msg(lambda: tu.tree_map(f, t1, t2)) == _raises_msg(
        lambda: jtu.tree_map(f, t1, t2))
    assert _raises_msg(lambda: tu.tree_structure(t1).flatten_up_to(t2)) == (
        _raises_msg(lambda: jtu.tree_structure(t1).flatten_up_to(t2)))
    assert (tu.tree_structure(t1) == tu.tree_structure(t2)) == (
        jtu.tree_structure(t1) == jtu.tree_structure(t2))


def test_private_registry_view_matches_jax():
  """jax._src.tree_util._registry (Flax asks `type(x) in _registry`): the registered node
  types, each entry the node's (flatten, unflatten) as JAX's."""
  jax = pytest.importorskip("jax")
  from jax._src import tree_util as theirs
  del jax
  _registry = stu._registry

  class Box:
    def __init__(self, v):
      self.v = v
  for t in (tuple, list, dict, type(None), collections.OrderedDict,
            collections.defaultdict):
    assert t in _registry and t in theirs._registry
  for t in (int, Box, np.ndarray):
    assert t not in _registry and t not in theirs._registry
  d = {"b": 1, "a": 2}
  assert tuple(_registry[dict].to_iter(d)) == tuple(theirs._registry[dict].to_iter(d))
  assert _registry[tuple].from_iter(None, [1, 2]) == (1, 2)
  tu.register_pytree_node(Box, lambda b: ((b.v,), None), lambda _, c: Box(*c))
  assert Box in _registry and _registry[Box].from_iter(None, [3]).v == 3
  assert len(_registry) == len(list(_registry))

"""Key path entries of pytrees (``SequenceKey``, ``DictKey``, ...).

The four entry types share one base class; each names its value's attribute,
how the value prints, and how it is checked. Reprs, equality and hashes follow
JAX 0.10.2. Only the standard library is imported here.
"""
from __future__ import annotations

from collections.abc import Hashable
import operator as op
from typing import Any, TypeVar

KeyEntry = TypeVar("KeyEntry", bound=Any)
KeyPath = tuple[KeyEntry, ...]


def _check_int(cls_name, arg_name, value):
  if isinstance(value, int):
    return int(value)
  if hasattr(type(value), "__index__") and not isinstance(value, float):
    return op.index(value)
  raise TypeError(
      f"__init__(): incompatible function arguments. The following argument "
      f"types are supported:\n    1. __init__(self, {arg_name}: int) -> "
      f"None\n\nInvoked with types: {cls_name}, {type(value).__name__}")


class _KeyEntryBase:
  """A key path entry holding one value ``_v``.

  A direct subclass is its own equality class (``_kind``): an entry equals
  another of that kind (subclasses included) with an equal value. It sets
  ``_str`` and ``_repr_value``, formats of the value in ``str`` and ``repr``.
  """
  __slots__ = ("_v",)
  _kind: type
  _str = "{}"
  _repr_value = "{}"

  def __init_subclass__(cls, **kwargs):
    super().__init_subclass__(**kwargs)
    if _KeyEntryBase in cls.__bases__:
      cls._kind = cls

  def __str__(self):
    return self._str.format(self._v)

  def __repr__(self):
    kind = self._kind
    return (f"{kind.__name__}({kind.__match_args__[0]}="
            f"{self._repr_value.format(self._v)})")

  def __eq__(self, other):
    return isinstance(other, self._kind) and bool(self._v == other._v)

  def __hash__(self):
    return hash(self._v)

  def __reduce__(self):
    return (self._kind, (self._v,))


class SequenceKey(_KeyEntryBase):
  """Key of a child of a list or tuple: ``[idx]``."""
  __slots__ = ()
  __match_args__ = ("idx",)
  _str = "[{}]"

  def __init__(self, idx: int):
    self._v = _check_int("SequenceKey", "idx", idx)

  @property
  def idx(self) -> int:
    return self._v

  def __hash__(self):
    return self._v + 1


class DictKey(_KeyEntryBase):
  """Key of a child of a dict: ``[key]``."""
  __slots__ = ()
  __match_args__ = ("key",)
  _str = "[{!r}]"
  _repr_value = "{!r}"

  def __init__(self, key: Hashable):
    self._v = key

  @property
  def key(self):
    return self._v


class GetAttrKey(_KeyEntryBase):
  """Key of an attribute child (namedtuple or dataclass field): ``.name``."""
  __slots__ = ()
  __match_args__ = ("name",)
  _str = ".{}"
  _repr_value = "'{}'"

  def __init__(self, name: str):
    if not isinstance(name, str):
      raise TypeError(
          "__init__(): incompatible function arguments. The following "
          "argument types are supported:\n    1. __init__(self, name: str) "
          f"-> None\n\nInvoked with types: GetAttrKey, {type(name).__name__}")
    self._v = str(name)

  @property
  def name(self) -> str:
    return self._v


class FlattenedIndexKey(_KeyEntryBase):
  """Key of the i-th child of a custom node registered without keys."""
  __slots__ = ()
  __match_args__ = ("key",)
  _str = "[<flat index {}>]"

  def __init__(self, key: int):
    self._v = _check_int("FlattenedIndexKey", "key", key)

  @property
  def key(self) -> int:
    return self._v

  def __hash__(self):
    return self._v + 42


# Immutable, so small ones are shared by every key path.
SEQUENCE_KEYS = [SequenceKey(i) for i in range(256)]


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
  if isinstance(key, _KeyEntryBase):
    return str(key._v)
  return str(key)

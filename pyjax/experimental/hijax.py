"""``jax.experimental.hijax``: JAX's names for high-level ("hijax") types and
primitives, so libraries that define them at import (Flax's nnx Variables) import.

What works: the classes can be subclassed and instantiated, ``register_hitype`` records
a type's typeof function, ``control_flow_allowed_effects`` is an effect type set,
``aval_method``/``aval_property`` are JAX's markers, ``Zero``, ``instantiate_zeros`` and
``is_undefined_primal`` are the autodiff ones, ``ShapedArray``/``AbstractValue``/
``AbstractRef`` the core types. What cannot: pyjax does not lower hijax types to
low-level ones, so binding a ``HiPrimitive`` or calling a ``VJPHiPrimitive`` raises
NotImplementedError naming the primitive (Flax uses them only with its
``flax_hijax_variable`` option on, off by default). ``TransformedRef`` is absent.
"""
from __future__ import annotations

from collections import namedtuple

from pyjax._src.core import AbstractValue, Primitive, ShapedArray
from pyjax.interpreters.ad import Zero, instantiate_zeros, is_undefined_primal
from pyjax._src.ref import AbstractRef

__all__ = ["AbstractRef", "AbstractValue", "AvalMutableQDD", "AvalQDD", "HiPrimitive",
           "HiPspec", "HiType", "MutableHiType", "ShapedArray", "VJPHiPrimitive", "Zero",
           "aval_method", "aval_property", "control_flow_allowed_effects",
           "instantiate_zeros", "is_undefined_primal", "register_hitype"]

# JAX's markers for methods and properties of an abstract value reachable from values
# of its type (core.aval_method / core.aval_property).
aval_property = namedtuple("aval_property", ["fget"])
aval_method = namedtuple("aval_method", ["fun"])


def _unsupported(what: str):
  return NotImplementedError(
      f"pyjax does not implement hijax (jax.experimental.hijax) {what}: its high-level "
      "types are not lowered to arrays. Please report the program that needs it.")


class EffectTypeSet:
  """A set of effect types (JAX's ``effects.EffectTypeSet``)."""

  def __init__(self):
    self._effect_types: set[type] = set()

  def __repr__(self):
    return f"EffectTypeSet({self._effect_types})"

  def add_type(self, effect_type: type):
    self._effect_types.add(effect_type)

  def contains(self, eff) -> bool:
    return any(isinstance(eff, t) for t in self._effect_types)

  def filter_in(self, effects):
    return [e for e in effects if self.contains(e)]

  def filter_not_in(self, effects):
    return [e for e in effects if not self.contains(e)]


control_flow_allowed_effects = EffectTypeSet()

_hitypes: dict[type, object] = {}


def register_hitype(val_cls, typeof_fn) -> None:
  """Records ``typeof_fn`` as the type function of ``val_cls``'s values (pyjax does not
  use it: its ``jax.typeof`` knows arrays, keys and Refs only)."""
  _hitypes[val_cls] = typeof_fn


class AvalQDD:
  """An abstract value with its quasi-dynamic data (JAX's ``core.AvalQDD``)."""
  is_high = True
  has_qdd = True

  def __init__(self, aval, qdd):
    self.aval, self.qdd = aval, qdd

  def __repr__(self):
    return f"AvalQDD({self.aval!r}, {self.qdd!r})"


class AvalMutableQDD:
  """An abstract value with mutable quasi-dynamic data (JAX's ``core.AvalMutableQDD``)."""

  def __init__(self, aval, mutable_qdd):
    self.aval, self.mutable_qdd = aval, mutable_qdd


class HiType(AbstractValue):
  """Base of immutable high-level types."""
  is_high = True
  has_qdd = False


class MutableHiType(AbstractValue):
  """Base of mutable high-level types."""
  is_high = True
  has_qdd = True
  is_writer = False


class HiPspec:
  """Base of high-level partition specs."""


class HiPrimitive(Primitive):
  """A primitive over high-level types. Subclasses define ``abstract_eval``,
  ``to_lojax``, ``jvp``, ``transpose``...; binding one raises NotImplementedError."""

  def __init__(self, name):
    super().__init__(name)

  def is_high(self, *avals, **params) -> bool:
    return True

  def bind(self, *args, **params):
    raise _unsupported(f"primitives (binding {self.name!r})")


class VJPHiPrimitive:
  """A high-level primitive defined by its VJP; calling one raises NotImplementedError."""

  def __call__(self, *args):
    raise _unsupported(f"primitives (calling {type(self).__name__})")

"""JAX's per-primitive rule tables (``ad.primitive_jvps``, ``batching.primitive_batchers``,
``mlir.register_lowering``, ...) mapped onto pyjax's rules, which live on the primitives.

A ``RuleRegistry`` is a mapping keyed by primitive whose entries are the primitive's own
rule attribute: assigning installs the rule (adapted from JAX's calling convention to
pyjax's where they differ), reading gives the rule as it was assigned (or pyjax's own
rule for a primitive nobody assigned), deleting removes it. Iteration covers only the
primitives assigned through the registry, not every primitive pyjax has.
"""
from __future__ import annotations

import weakref
from collections.abc import MutableMapping
from typing import Callable, NamedTuple

import numpy as np

from pyjax._src import core
from pyjax._src.core import Primitive
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import partial_eval as pe

__all__ = ["RuleRegistry", "AxisData", "LoweringRuleContext", "adapt_transpose",
           "adapt_axis_batcher", "adapt_fancy_batcher", "adapt_lowering", "lower_fun"]


class RuleRegistry(MutableMapping):
  """Primitive -> rule, stored as the primitive's ``attr`` rule. ``adapt(prim, rule)``
  gives the rule pyjax calls; ``on_set(prim)`` runs after each assignment."""

  def __init__(self, name: str, attr: str, adapt: Callable | None = None,
               on_set: Callable | None = None):
    self._name = name
    self._attr = attr
    self._adapt = adapt
    self._on_set = on_set
    self._given: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

  def _check(self, prim):
    if not isinstance(prim, Primitive):
      raise TypeError(f"{self._name} keys are primitives (jax.extend.core.Primitive), "
                      f"got {type(prim).__name__}: {prim!r}")

  def __setitem__(self, prim, rule):
    self._check(prim)
    installed = rule if self._adapt is None else self._adapt(prim, rule)
    setattr(prim, self._attr, installed)
    self._given[prim] = (rule, installed)
    if self._on_set is not None:
      self._on_set(prim)

  def __getitem__(self, prim):
    if not isinstance(prim, Primitive):
      raise KeyError(prim)
    current = getattr(prim, self._attr, None)
    if current is None:
      raise KeyError(prim)
    given = self._given.get(prim)
    return given[0] if given is not None and given[1] is current else current

  def __contains__(self, prim):
    return isinstance(prim, Primitive) and getattr(prim, self._attr, None) is not None

  def __delitem__(self, prim):
    if prim not in self:
      raise KeyError(prim)
    setattr(prim, self._attr, None)
    self._given.pop(prim, None)

  def __iter__(self):
    return iter([p for p in list(self._given.keys()) if p in self])

  def __len__(self):
    return sum(1 for _ in self)

  def __repr__(self):
    return f"<{self._name}: {len(self)} rules assigned>"


# ---------------------------------------------------------------- autodiff


def _out_avals(prim, args, params) -> list:
  avals = [a.aval if ad.is_undefined_primal(a) else core.get_aval(a) for a in args]
  out = prim.rule("abstract_eval")(*avals, **params)
  return list(out) if prim.multiple_results else [out]


def adapt_transpose(prim, rule):
  """JAX passes ``Zero`` (pyjax: None) for an output's zero cotangent."""
  if not prim.multiple_results:
    return rule

  def transpose(cts, *args, **params):
    if any(c is None for c in cts):
      avals = _out_avals(prim, args, params)
      cts = [ad.Zero(a.to_tangent_aval()) if c is None else c for c, a in zip(cts, avals)]
    return rule(cts, *args, **params)
  return transpose


# ---------------------------------------------------------------- batching


class AxisData(NamedTuple):
  """The vmap axis a batching rule runs under (JAX's ``batching.AxisData``)."""
  name: object
  size: int
  spmd_name: object = None
  explicit_mesh_axis: object = None


def _with_axis(prim, call):
  def rule(vals, dims, axis_name=None, **params):
    return call(AxisData(axis_name, batching.batch_size(vals, dims)), vals, dims, params)
  return rule


def adapt_axis_batcher(prim, rule):
  """``rule(axis_size, axis_name, trace_type, vals, dims, **params)``."""
  return _with_axis(prim, lambda ax, vals, dims, params:
                    rule(ax.size, ax.name, None, vals, dims, **params))


def adapt_fancy_batcher(prim, rule):
  """``rule(axis_data, vals, dims, **params)``."""
  return _with_axis(prim, lambda ax, vals, dims, params: rule(ax, vals, dims, **params))


def set_axis_name(flag: bool):
  def on_set(prim):
    prim.batch_with_axis_name = flag
  return on_set


# ---------------------------------------------------------------- lowering


class LoweringRuleContext:
  """What a lowering rule gets as ``ctx``: the operands' and results' avals, and pyjax's
  StableHLO builder (``builder``), which ``lower_fun`` rules emit into. pyjax has no
  MLIR Python bindings: rules that build ``ir``/``hlo`` operations cannot run."""
  __slots__ = ("builder", "avals_in", "avals_out")

  def __init__(self, builder, avals_in, avals_out):
    self.builder = builder
    self.avals_in = list(avals_in)
    self.avals_out = list(avals_out)

  module_context = None
  tokens_in = None
  tokens_out = None
  platforms = ("cpu",)

  def replace(self, **kw):
    d = dict(builder=self.builder, avals_in=self.avals_in, avals_out=self.avals_out)
    d.update(kw)
    return LoweringRuleContext(**d)


def adapt_lowering(prim, rule):
  """``rule(ctx, *operands, **params) -> list of results`` on pyjax's builder."""
  def lower(b, *vals, **params):
    ctx = LoweringRuleContext(b, [v.aval for v in vals], b.avals_out)
    outs = rule(ctx, *vals, **params)
    if prim.multiple_results:
      return list(outs)
    if isinstance(outs, (list, tuple)):
      if len(outs) != 1:
        raise ValueError(f"lowering rule of {prim} returned {len(outs)} results for a "
                         f"primitive with one")
      return outs[0]
    return outs
  return lower


def lower_fun(fun: Callable, multiple_results: bool = True) -> Callable:
  """A lowering rule from a function of JAX operations: ``fun(*operands, **params)`` is
  traced on the operands' avals and lowered in place (JAX's ``mlir.lower_fun``)."""
  def f_lowered(ctx, *args, **params):
    b = ctx.builder
    def flat(*xs):
      out = fun(*xs, **params)
      return list(out) if multiple_results else [out]
    jaxpr, consts = pe.trace_to_jaxpr(flat, [a.aval for a in args])
    cs = [b.constant(np.asarray(c), core.get_aval(c)) for c in consts]
    return b.lower_jaxpr(jaxpr, cs, list(args))
  f_lowered.__name__ = f"lower_{getattr(fun, '__name__', 'fun')}"
  return f_lowered

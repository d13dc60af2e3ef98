"""``jax.interpreters.ad``: JVP and transpose rules of primitives.

``primitive_jvps[p] = rule`` sets ``p``'s JVP, ``rule(primals, tangents, **params) ->
(primal_out, tangent_out)`` with ``Zero`` for symbolic zero tangents;
``primitive_transposes[p] = rule`` sets its transpose, ``rule(ct, *args, **params) ->
cotangents`` with ``UndefinedPrimal`` for the linear arguments. Iterating a registry
lists only the primitives assigned through it.
"""
from __future__ import annotations

from pyjax._src import tree_util as _tree_util
from pyjax._src.deprecations import deprecation_getattr as _deprecation_getattr
from pyjax._src.interpreters import ad as _ad
from pyjax._src.interpreters.ad import (JVPTrace, JVPTracer, UndefinedPrimal, Zero,
                                        add_tangents, defjvp, defjvp2,
                                        is_undefined_primal, zeros_like_aval)
from pyjax._src.interpreters.registries import RuleRegistry as _RuleRegistry
from pyjax._src.interpreters.registries import adapt_transpose as _adapt_transpose

__all__ = ["JVPTrace", "JVPTracer", "UndefinedPrimal", "Zero", "add_jaxvals",
           "add_jaxvals_p", "add_tangents", "defbilinear", "defjvp", "defjvp2",
           "deflinear", "deflinear2", "get_primitive_transpose", "instantiate_zeros",
           "is_undefined_primal", "jvp", "linearize", "primitive_jvps",
           "primitive_transposes", "zeros_like_aval"]

primitive_jvps = _RuleRegistry("primitive_jvps", "jvp")
primitive_transposes = _RuleRegistry("primitive_transposes", "transpose",
                                     adapt=_adapt_transpose)

add_jaxvals_p = _ad.add_any_p


def add_jaxvals(x, y):
  """The sum of two tangents of the same type."""
  return add_jaxvals_p.bind(x, y)


def instantiate_zeros(tangent):
  """A ``Zero`` made an array of zeros; other tangents unchanged."""
  return _ad.instantiate(tangent)


def get_primitive_transpose(p):
  try:
    return primitive_transposes[p]
  except KeyError:
    raise NotImplementedError(
        f"Transpose rule (for reverse-mode differentiation) for '{p}' not implemented"
    ) from None


def _linear_jvp(prim):
  def jvp(primals, tangents, **params):
    out = prim.bind(*primals, **params)
    if all(type(t) is Zero for t in tangents):
      if prim.multiple_results:
        return out, [Zero.from_primal_value(o) for o in out]
      return out, Zero.from_primal_value(out)
    return out, prim.bind(*map(instantiate_zeros, tangents), **params)
  return jvp


def _zero_cts(args):
  return [Zero(a.aval.to_tangent_aval()) if is_undefined_primal(a) else None
          for a in args]


def deflinear(prim, transpose_rule):
  """``prim`` is linear in all its operands: its JVP applies it to the tangents, its
  transpose is ``transpose_rule(ct, **params) -> one cotangent per operand``."""
  def transpose(ct, *args, **params):
    if type(ct) is Zero:
      return _zero_cts(args)
    return transpose_rule(ct, **params)
  primitive_jvps[prim] = _linear_jvp(prim)
  primitive_transposes[prim] = transpose


def deflinear2(prim, transpose_rule):
  """As ``deflinear`` with ``transpose_rule(ct, *args, **params)``."""
  def transpose(ct, *args, **params):
    if type(ct) is Zero:
      return _zero_cts(args)
    return transpose_rule(ct, *args, **params)
  primitive_jvps[prim] = _linear_jvp(prim)
  primitive_transposes[prim] = transpose


def defbilinear(prim, lhs_rule, rhs_rule):
  """``prim(x, y)`` is linear in each operand: the JVP binds it on one tangent at a
  time; ``lhs_rule(ct, x, y, **params)`` / ``rhs_rule`` transpose it."""
  defjvp(prim, lambda g, x, y, **kw: prim.bind(g, y, **kw),
         lambda g, x, y, **kw: prim.bind(x, g, **kw))

  def transpose(ct, x, y, **params):
    if is_undefined_primal(x) == is_undefined_primal(y):
      raise ValueError(f"transpose of bilinear {prim}: exactly one operand must be "
                       f"linear")
    if type(ct) is Zero:
      return _zero_cts([x, y])
    if is_undefined_primal(x):
      return [lhs_rule(ct, x, y, **params), None]
    return [None, rhs_rule(ct, x, y, **params)]
  primitive_transposes[prim] = transpose


def jvp(fun, primals, tangents, has_aux=False, instantiate=True, transform_stack=True):
  """``(out_primals, out_tangents[, aux])``: forward mode of ``fun(*primals)`` with flat
  lists (JAX 0.10's internal form; its FlatTree arguments are plain sequences here).
  Output tangents are instantiated where ``instantiate`` says; ``Zero`` otherwise."""
  del transform_stack
  box = {}

  def flat(*xs):
    out = fun(*xs)
    if has_aux:
      out, box["aux"] = out
    leaves, _ = _tree_util.tree_flatten(out)
    return leaves
  ts = [Zero.from_primal_value(p) if t is None else t for p, t in zip(primals, tangents)]
  outs, touts = _ad.jvp_flat(flat, list(primals), ts)
  inst = [instantiate] * len(touts) if isinstance(instantiate, bool) else instantiate
  touts = [instantiate_zeros(t) if i else t for t, i in zip(touts, inst)]
  return (outs, touts, box["aux"]) if has_aux else (outs, touts)


def linearize(traceable, primals, has_aux=False, is_vjp=False):
  """``(out_primals, out_zeros, jaxpr, consts[, aux])``: ``traceable(*primals)`` and
  the jaxpr of its tangent map (inputs: every primal's tangent; outputs: the tangents
  that are not zero, ``out_zeros`` marking the others)."""
  del is_vjp
  box = {}

  def flat(*xs):
    out = traceable(*xs)
    if has_aux:
      out, box["aux"] = out
    leaves, _ = _tree_util.tree_flatten(out)
    return leaves
  out, jaxpr, consts, nonzero = _ad.linearize_flat(flat, list(primals))
  res = (out, [not nz for nz in nonzero], jaxpr, consts)
  return res + (box["aux"],) if has_aux else res


_deprecations = {
    "reducing_transposes": (
        "jax.interpreters.ad.reducing_transposes was deprecated in v0.9.0. and removed "
        "in v0.10.0. It has been unused since JAX v0.4.38.", None),
}

__getattr__ = _deprecation_getattr(__name__, _deprecations)


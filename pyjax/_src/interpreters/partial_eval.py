"""Staging Python functions into jaxprs (the tracing trace used by make_jaxpr and jit)."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from pyjax._src import core
from pyjax._src.array import ArrayImpl
from pyjax._src.core import (ClosedJaxpr, DebugInfo, Jaxpr, JaxprEqn, Literal,
                             ShapedArray, Tracer, Var)


class JitTracer(Tracer):
  """A value being staged into a jaxpr; it knows only its aval."""
  __slots__ = ("_aval", "var")

  def __init__(self, trace, aval, var):
    self._trace = trace
    self._aval = aval
    self.var = var

  @property
  def aval(self):
    return self._aval

  def _origin_msg(self) -> str:
    return self._trace.origin_msg(self.var)

  def __repr__(self):
    w = "~" if self._aval.weak_type else ""
    return f"JitTracer<{w}{self._aval.str_short(short_dtypes=False)}>"

  __str__ = __repr__


DynamicJaxprTracer = JitTracer


class DynamicJaxprTrace(core.Trace):
  """Records every primitive applied to its tracers as a jaxpr equation."""
  __slots__ = ("eqns", "invars", "constvar_of", "consts", "debug_info", "_producer", "outer")

  def __init__(self, debug_info: DebugInfo | None = None):
    super().__init__(parent=None)
    self.eqns: list[JaxprEqn] = []
    self.invars: list[Var] = []
    self.constvar_of: dict[int, tuple[Var, object]] = {}  # id(const) -> (var, const)
    self.debug_info = debug_info
    self._producer: dict[Var, JaxprEqn] = {}
    self.outer = core.trace_ctx.trace  # where staging began (for vmap axis names)

  def new_arg(self, aval: ShapedArray) -> JitTracer:
    v = Var(aval)
    self.invars.append(v)
    return JitTracer(self, aval, v)

  def to_atom(self, x):
    """A jaxpr atom (Var or Literal) for a tracer of ours or any other value."""
    if isinstance(x, JitTracer) and x._trace is self:
      return x.var
    if isinstance(x, Tracer):
      core.check_valid(x)
    return self._const_atom(x)

  def _const_atom(self, x):
    aval = core.get_aval(x)
    if not aval.shape and not isinstance(x, Tracer) and aval.dtype.kind in "biufc":
      return Literal(_scalar_value(x, aval.dtype), aval)
    entry = self.constvar_of.get(id(x))
    if entry is None:
      entry = self.constvar_of[id(x)] = (Var(aval), x)
    return entry[0]

  def process_primitive(self, prim, args, params):
    if core.trace_ctx.fold_constants and not any(isinstance(x, Tracer) for x in args):
      return core.eval_trace.process_primitive(prim, args, params)
    atoms = [self.to_atom(x) for x in args]
    avals = [a.aval for a in atoms]
    out = prim.rule("abstract_eval")(*avals, **params)
    if core.sharded_types:
      out = core.shard_avals(prim, avals, out, params)
    out_avals = out if prim.multiple_results else (out,)
    outvars = [Var(a) for a in out_avals]
    eqn = JaxprEqn(atoms, outvars, prim, params)
    self.eqns.append(eqn)
    for v in outvars:
      self._producer[v] = eqn
    tracers = [JitTracer(self, a, v) for a, v in zip(out_avals, outvars)]
    return tracers if prim.multiple_results else tracers[0]

  def process_custom_jvp_call(self, fun, jvp, args, symbolic_zeros):
    if core.trace_ctx.fold_constants and not any(isinstance(x, Tracer) for x in args):
      return core.eval_trace.process_custom_jvp_call(fun, jvp, args, symbolic_zeros)
    return custom_staging_rules["custom_jvp"](self, fun, jvp, args, symbolic_zeros)

  def process_custom_vjp_call(self, fun, fwd, bwd, args, out_avals, symbolic_zeros):
    if core.trace_ctx.fold_constants and not any(isinstance(x, Tracer) for x in args):
      return core.eval_trace.process_custom_vjp_call(fun, fwd, bwd, args, out_avals,
                                                     symbolic_zeros)
    return custom_staging_rules["custom_vjp"](self, fun, fwd, bwd, args, symbolic_zeros)

  def to_jaxpr(self, outs) -> tuple[Jaxpr, list]:
    outvars = [self.to_atom(x) for x in outs]
    constvars, consts = [], []
    for v, c in self.constvar_of.values():
      constvars.append(v)
      consts.append(c)
    jaxpr = Jaxpr(constvars, self.invars, outvars, self.eqns, self.debug_info)
    return jaxpr, consts

  def origin_msg(self, var) -> str:
    """Which arguments a traced value depends on, for concretization errors."""
    dbg = self.debug_info
    if dbg is None:
      return ""
    deps, seen, stack = set(), set(), [var]
    while stack:
      v = stack.pop()
      if v in seen or type(v) is Literal:
        continue
      seen.add(v)
      eqn = self._producer.get(v)
      if eqn is None:
        if v in self.invars:
          deps.add(self.invars.index(v))
      else:
        stack.extend(eqn.invars)
    where = (f"The error occurred while tracing the function {dbg.func_src_info} "
             f"for {dbg.traced_for}.")
    names = [dbg.arg_names[i] for i in sorted(deps) if i < len(dbg.arg_names)]
    if not names:
      return where
    if len(names) == 1:
      return (f"{where} This concrete value was not available in Python because it "
              f"depends on the value of the argument {names[0]}.")
    args = (f"{names[0]} and {names[1]}" if len(names) == 2
            else f"{', '.join(names[:-1])}, and {names[-1]}")
    return (f"{where} This concrete value was not available in Python because it "
            f"depends on the values of the arguments {args}.")


# How a DynamicJaxprTrace stages a custom_jvp / custom_vjp call (as one equation keeping
# the rule): registered by custom_derivatives at its import, the only place such calls
# come from.
custom_staging_rules: dict[str, Callable] = {}


class LinearizeTrace(DynamicJaxprTrace):
  """Partial evaluation for linearize: an operation with none of this trace's
  tracers among its inputs runs on the parent trace (it is known); the others
  are recorded. Used to stage the tangent map of a JVP."""
  __slots__ = ()

  def __init__(self, parent):
    super().__init__(None)
    self.parent = parent

  def process_primitive(self, prim, args, params):
    for x in args:
      if type(x) is JitTracer and x._trace is self:
        break
    else:
      return self.parent.process_primitive(prim, args, params)
    rule = prim.partial_eval
    if rule is not None and not all(type(x) is JitTracer and x._trace is self for x in args):
      return rule(self, args, params)
    return DynamicJaxprTrace.process_primitive(self, prim, args, params)

  def is_known(self, x) -> bool:
    return not (type(x) is JitTracer and x._trace is self)

  def _known(self, args):
    return not any(type(x) is JitTracer and x._trace is self for x in args)

  def process_custom_jvp_call(self, fun, jvp, args, symbolic_zeros):
    if self._known(args):
      return self.parent.process_custom_jvp_call(fun, jvp, args, symbolic_zeros)
    return core.Trace.process_custom_jvp_call(self, fun, jvp, args, symbolic_zeros)

  def process_custom_vjp_call(self, fun, fwd, bwd, args, out_avals, symbolic_zeros):
    if self._known(args):
      return self.parent.process_custom_vjp_call(fun, fwd, bwd, args, out_avals,
                                                 symbolic_zeros)
    return core.Trace.process_custom_vjp_call(self, fun, fwd, bwd, args, out_avals,
                                              symbolic_zeros)

  def process_remat(self, fun, args, saveable):
    if self._known(args):
      return self.parent.process_remat(fun, args, saveable)
    return super().process_remat(fun, args, saveable)


def _scalar_value(x, dtype):
  """The literal's value as a 0-d Array (so eval_jaxpr can bind it directly)."""
  if type(x) is ArrayImpl:
    return x
  return ArrayImpl(np.asarray(x, dtype=dtype)[()], core.get_aval(x).weak_type)


def trace_to_jaxpr(fun: Callable, in_avals: Sequence[ShapedArray],
                   debug_info: DebugInfo | None = None) -> tuple[Jaxpr, list]:
  """Stages ``fun(*tracers) -> list of outputs`` into a jaxpr and its constants."""
  trace = DynamicJaxprTrace(debug_info)
  try:
    with core.set_current_trace(trace):
      args = [trace.new_arg(a) for a in in_avals]
      outs = fun(*args)
      jaxpr, consts = trace.to_jaxpr(outs)
  finally:
    trace.invalidate()
  return jaxpr, consts


def partial_eval_jaxpr(closed: ClosedJaxpr, in_unknowns: Sequence[bool], instantiate=False):
  """Splits ``closed`` into a known and an unknown part.

  Returns ``(known, unknown, out_unknowns, num_res)``: ``known`` maps the known
  inputs to the known outputs followed by ``num_res`` residuals; ``unknown``
  maps (residuals, unknown inputs) to the unknown outputs. Built by evaluating
  the jaxpr under a LinearizeTrace nested in the trace of the known jaxpr.
  Outputs marked in ``instantiate`` (a bool or one per output) are unknown even
  when they could be computed from the known inputs (their value is a residual).
  """
  in_avals = [v.aval for v in closed.jaxpr.invars]
  known_avals = [a for a, u in zip(in_avals, in_unknowns) if not u]
  box = {}

  def known_fun(*known_vals):
    lin = LinearizeTrace(core.trace_ctx.trace)
    try:
      it = iter(known_vals)
      args = [lin.new_arg(a) if u else next(it) for a, u in zip(in_avals, in_unknowns)]
      with core.set_current_trace(lin):
        outs = core.eval_jaxpr(closed.jaxpr, closed.consts, *args)
      inst = [instantiate] * len(outs) if isinstance(instantiate, bool) else instantiate
      out_unknowns = [i or not lin.is_known(o) for o, i in zip(outs, inst)]
      unk_jaxpr, residuals = lin.to_jaxpr([o for o, u in zip(outs, out_unknowns) if u])
    finally:
      lin.invalidate()
    box.update(out_unknowns=out_unknowns, unk_jaxpr=unk_jaxpr, num_res=len(residuals))
    return [o for o, u in zip(outs, out_unknowns) if not u] + list(residuals)

  known_jaxpr, known_consts = trace_to_jaxpr(known_fun, known_avals, closed.jaxpr.debug_info)
  unknown = ClosedJaxpr(convert_constvars_jaxpr(box["unk_jaxpr"]), [])
  return (ClosedJaxpr(known_jaxpr, known_consts), unknown, box["out_unknowns"],
          box["num_res"])


def convert_constvars_jaxpr(jaxpr: Jaxpr) -> Jaxpr:
  """Turns constvars into leading invars."""
  return Jaxpr([], jaxpr.constvars + jaxpr.invars, jaxpr.outvars, jaxpr.eqns,
               jaxpr.debug_info)


def dce_jaxpr(jaxpr: Jaxpr, keep_effects: bool = True) -> Jaxpr:
  """Drops equations whose outputs are unused (but for effectful primitives, unless
  ``keep_effects`` is False: a part computed for its values only)."""
  live = {v for v in jaxpr.outvars if type(v) is Var}
  kept = []
  for eqn in reversed(jaxpr.eqns):
    if (keep_effects and eqn.primitive.effectful) or any(v in live for v in eqn.outvars):
      kept.append(eqn)
      live.update(v for v in eqn.invars if type(v) is not Literal)
  kept.reverse()
  return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, kept, jaxpr.debug_info)

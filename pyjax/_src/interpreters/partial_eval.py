"""Staging Python functions into jaxprs (the tracing trace used by make_jaxpr and jit)."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from pyjax._src import core
from pyjax._src.core import (ClosedJaxpr, DebugInfo, DropVar, Jaxpr, JaxprEqn, Literal,
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
  __slots__ = ("eqns", "invars", "constvar_of", "consts", "debug_info", "_producer")

  def __init__(self, debug_info: DebugInfo | None = None):
    super().__init__(parent=None)
    self.eqns: list[JaxprEqn] = []
    self.invars: list[Var] = []
    self.constvar_of: dict[int, tuple[Var, object]] = {}  # id(const) -> (var, const)
    self.debug_info = debug_info
    self._producer: dict[Var, JaxprEqn] = {}

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
    atoms = [self.to_atom(x) for x in args]
    avals = [a.aval for a in atoms]
    out = prim.rule("abstract_eval")(*avals, **params)
    out_avals = out if prim.multiple_results else (out,)
    outvars = [Var(a) for a in out_avals]
    eqn = JaxprEqn(atoms, outvars, prim, params)
    self.eqns.append(eqn)
    for v in outvars:
      self._producer[v] = eqn
    tracers = [JitTracer(self, a, v) for a, v in zip(out_avals, outvars)]
    return tracers if prim.multiple_results else tracers[0]

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
    return (f"{where} This concrete value was not available in Python because it "
            f"depends on the values of the arguments {', '.join(names[:-1])} and "
            f"{names[-1]}.")


def _scalar_value(x, dtype):
  """The literal's value as a 0-d Array (so eval_jaxpr can bind it directly)."""
  from pyjax._src.array import ArrayImpl
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


def convert_constvars_jaxpr(jaxpr: Jaxpr) -> Jaxpr:
  """Turns constvars into leading invars."""
  return Jaxpr([], jaxpr.constvars + jaxpr.invars, jaxpr.outvars, jaxpr.eqns,
               jaxpr.debug_info)


def dce_jaxpr(jaxpr: Jaxpr) -> Jaxpr:
  """Drops equations whose outputs are unused (primitives here are pure)."""
  live = {v for v in jaxpr.outvars if type(v) is Var}
  kept = []
  for eqn in reversed(jaxpr.eqns):
    if any(v in live for v in eqn.outvars):
      kept.append(eqn)
      live.update(v for v in eqn.invars if type(v) is not Literal)
  kept.reverse()
  return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, kept, jaxpr.debug_info)

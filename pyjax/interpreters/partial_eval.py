"""``jax.interpreters.partial_eval``: tracing to jaxprs, known/unknown splitting, DCE.

``trace_to_jaxpr_nounits`` runs a ``linear_util.WrappedFun`` with some inputs known
(values) and others unknown (avals): operations on known values run now, the rest is
staged into a jaxpr. Not provided: JAX's per-primitive partial-eval and DCE rule tables
(``custom_partial_eval_rules``, ``partial_eval_jaxpr_custom_rules``, ``dce_rules`` and
their default rules): pyjax's partial evaluation has no rules of that form.
"""
from __future__ import annotations

from typing import Any, Sequence

from pyjax._src import core as _core
from pyjax._src.core import Jaxpr as _Jaxpr, Literal as _Literal
from pyjax._src.interpreters import partial_eval as _pe

__all__ = ["DynamicJaxprTracer", "JaxprTracer", "PartialVal", "Val", "dce_jaxpr",
           "dce_jaxpr_consts", "trace_to_jaxpr_dynamic", "trace_to_jaxpr_nounits"]

Val = Any
DynamicJaxprTracer = _pe.JitTracer
JaxprTracer = _pe.JitTracer


class PartialVal(tuple):
  """``(None, value)`` for a known value or ``(aval, None)`` for an unknown one."""

  def __new__(cls, xs):
    pv, const = xs
    return tuple.__new__(cls, (pv, const))

  @classmethod
  def known(cls, const) -> "PartialVal":
    return PartialVal((None, const))

  @classmethod
  def unknown(cls, aval) -> "PartialVal":
    return PartialVal((aval, None))

  def is_known(self) -> bool:
    return self[0] is None

  def get_known(self):
    return self[1] if self[0] is None else None

  def get_aval(self):
    return _core.get_aval(self[1]) if self[0] is None else self[0]


def _flags(x, n) -> list:
  return [x] * n if isinstance(x, bool) else list(x)


def trace_to_jaxpr_nounits(fun, pvals: Sequence[PartialVal], instantiate=False):
  """``(jaxpr, out_pvals, consts)``: ``fun`` run with the known ``pvals`` as values and
  the unknown ones as jaxpr inputs. Known outputs come back as values (unless marked
  in ``instantiate``); the jaxpr (constants ``consts``) computes the unknown ones."""
  parent = _core.trace_ctx.trace
  lin = _pe.LinearizeTrace(parent)
  try:
    args = [pv[1] if pv.is_known() else lin.new_arg(pv[0]) for pv in pvals]
    with _core.set_current_trace(lin):
      outs = list(fun.call_wrapped(*args))
    out_pvals, unknown = [], []
    for o, inst in zip(outs, _flags(instantiate, len(outs))):
      if lin.is_known(o) and not inst:
        out_pvals.append(PartialVal.known(o))
      else:
        out_pvals.append(PartialVal.unknown(_core.get_aval(o)))
        unknown.append(o)
    with _core.set_current_trace(parent):
      jaxpr, consts = lin.to_jaxpr(unknown)
  finally:
    lin.invalidate()
  return jaxpr, out_pvals, consts


def trace_to_jaxpr_dynamic(fun, in_avals, *, keep_inputs=None, lower=False,
                           auto_dce=False):
  """``(jaxpr, out_avals, consts)``: the WrappedFun ``fun`` staged on ``in_avals``."""
  del lower, auto_dce
  jaxpr, consts = _pe.trace_to_jaxpr(lambda *xs: list(fun.call_wrapped(*xs)), in_avals,
                                     fun.debug_info if isinstance(
                                         fun.debug_info, _core.DebugInfo) else None)
  if keep_inputs is not None:
    jaxpr = _Jaxpr(jaxpr.constvars, [v for v, k in zip(jaxpr.invars, keep_inputs) if k],
                   jaxpr.outvars, jaxpr.eqns, jaxpr.debug_info)
  return jaxpr, [v.aval for v in jaxpr.outvars], consts


def dce_jaxpr(jaxpr: _Jaxpr, used_outputs, instantiate=False):
  """``(jaxpr, used_inputs)``: ``jaxpr`` with only the outputs marked in
  ``used_outputs`` and the equations and inputs they need (inputs marked in
  ``instantiate`` kept regardless)."""
  used = _flags(used_outputs, len(jaxpr.outvars))
  outvars = [v for v, u in zip(jaxpr.outvars, used) if u]
  pruned = _pe.dce_jaxpr(_Jaxpr(jaxpr.constvars, jaxpr.invars, outvars, jaxpr.eqns,
                                jaxpr.debug_info))
  live = {v for v in outvars if type(v) is not _Literal}
  for eqn in pruned.eqns:
    live.update(v for v in eqn.invars if type(v) is not _Literal)
  used_inputs = [v in live or i
                 for v, i in zip(jaxpr.invars, _flags(instantiate, len(jaxpr.invars)))]
  new = _Jaxpr(pruned.constvars, [v for v, u in zip(jaxpr.invars, used_inputs) if u],
               outvars, pruned.eqns, jaxpr.debug_info)
  return new, used_inputs


def dce_jaxpr_consts(jaxpr: _Jaxpr, used_outputs, instantiate=False):
  """``(jaxpr, used_consts, used_inputs)``: ``dce_jaxpr`` that also drops unused
  constvars."""
  n = len(jaxpr.constvars)
  inst = _flags(instantiate, len(jaxpr.invars))
  as_inputs = _pe.convert_constvars_jaxpr(jaxpr)
  new, used = dce_jaxpr(as_inputs, used_outputs, [False] * n + inst)
  used_consts, used_inputs = used[:n], used[n:]
  k = sum(used_consts)
  new = _Jaxpr(new.invars[:k], new.invars[k:], new.outvars, new.eqns, new.debug_info)
  return new, used_consts, used_inputs

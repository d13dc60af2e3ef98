"""Automatic differentiation: JVP, linearization, transposition.

* ``JVPTrace`` carries (primal, tangent) pairs through each primitive's JVP
  rule. Tangents may be ``Zero`` (symbolic zero) so that unused inputs and
  integer inputs cost nothing.
* ``linearize_flat`` runs the JVP with its tangents staged by a
  ``LinearizeTrace`` (a partial evaluator: operations on known values run on
  the parent trace, operations touching tangents are recorded). The recorded
  jaxpr is the linear tangent map.
* ``backward_pass`` transposes a linear jaxpr with each primitive's transpose
  rule, accumulating cotangents with ``add_any``. ``vjp`` and ``grad`` (in
  api.py) are built from these, as in JAX.

Rule signatures (set on primitives beside their definitions):
  ``p.jvp(primals, tangents, **params) -> (primal_out, tangent_out)``
  ``p.transpose(ct, *args, **params) -> list of cotangents (None = zero)``
where linear inputs arrive as ``UndefinedPrimal`` in ``args``.
"""
from __future__ import annotations

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.literals import TypedNdArray
from pyjax._src.core import Literal, Primitive, ShapedArray, Tracer
from pyjax._src.interpreters import batching, lowering
from pyjax._src.interpreters.partial_eval import DynamicJaxprTrace, LinearizeTrace

# ---------------------------------------------------------------- symbolic zeros


class Zero:
  """A tangent or cotangent known to be zero; carries only its aval."""
  __slots__ = ("aval",)

  def __init__(self, aval: ShapedArray):
    self.aval = aval

  @staticmethod
  def from_primal_value(x) -> "Zero":
    return Zero(tangent_aval(core.get_aval(x)))

  def __repr__(self):
    return f"Zero({self.aval.str_short()})"


def is_float(dtype) -> bool:
  """Whether values of ``dtype`` have (non-float0) tangents."""
  return dtype.kind in "fc" or dtype == dtypes.bfloat16 or dtypes.issubdtype(dtype, np.inexact)


def tangent_aval(aval: ShapedArray) -> ShapedArray:
  if is_float(aval.dtype):
    return aval
  return ShapedArray(aval.shape, dtypes.float0)


def zeros_like_aval(aval: ShapedArray):
  """Zeros of ``aval``: its dtype, weak type and (when split) sharding, as JAX's."""
  if aval.dtype == dtypes.float0:  # a host ndarray, as JAX's (NumPy's errors on use)
    return TypedNdArray(np.zeros(aval.shape, dtypes.float0))
  zero = ArrayImpl(np.zeros((), aval.dtype)[()], aval.weak_type)
  if aval.sharding is not None:  # split as the value it is the zero of (JAX's)
    return core.lax_ops.full(aval.shape, zero, sharding=aval.sharding)
  return core.lax_ops.full(aval.shape, zero)


def instantiate(t):
  return zeros_like_aval(t.aval) if type(t) is Zero else t


def instantiate_cts(cts, avals) -> list:
  """Cotangents with zeros (``None`` or ``Zero``) made concrete, one per aval."""
  return [zeros_like_aval(a) if c is None or type(c) is Zero else c
          for c, a in zip(cts, avals)]


def add_tangents(a, b):
  if type(a) is Zero:
    return b
  if type(b) is Zero:
    return a
  return add_any_p.bind(a, b)


# add_any: the sum of two tangents/cotangents of equal aval (never broadcasts).
add_any_p = Primitive("add_any")


def _add_any_impl(x, y):
  return ArrayImpl(np.add(x._value, y._value), x.weak_type and y.weak_type)


add_any_p.def_impl(_add_any_impl)
add_any_p.def_abstract_eval(lambda x, y: x)
add_any_p.sharding_rule = lambda x, y: x.sharding if x.sharding is not None else y.sharding
add_any_p.jvp = lambda primals, tangents: (
    add_any_p.bind(*primals), add_tangents(*tangents))
add_any_p.transpose = lambda ct, x, y: [ct, ct]
add_any_p.batch = batching.broadcast_batcher(add_any_p, scalar_ok=False)


add_any_p.lower = lowering.elementwise("add")


# ---------------------------------------------------------------- rule helpers


def _bcast_to(t, aval):
  """Broadcasts a tangent computed from a rank-0 operand (or one with size-1
  dimensions) to the output's shape."""
  if t.shape == aval.shape:
    return t
  dims = tuple(range(t.ndim)) if t.ndim == len(aval.shape) else ()
  return core.lax_ops.broadcast_in_dim(t, aval.shape, dims)


def defjvp(prim: Primitive, *rules):
  """JVP from one rule per operand: ``rule(t_i, *primals, **params)``; sums them."""
  return _defjvp(prim, rules, with_ans=False)


def defjvp2(prim: Primitive, *rules):
  """Like ``defjvp`` but rules also get the primal output: ``rule(t, ans, *primals)``."""
  return _defjvp(prim, rules, with_ans=True)


def _defjvp(prim, rules, with_ans):
  def jvp(primals, tangents, **params):
    ans = prim.bind(*primals, **params)
    lead = (ans,) if with_ans else ()
    acc = None
    for rule, t in zip(rules, tangents):
      if rule is not None and type(t) is not Zero:
        v = _bcast_to(rule(t, *lead, *primals, **params), ans.aval)
        acc = v if acc is None else add_any_p.bind(acc, v)
    return ans, (Zero(tangent_aval(ans.aval)) if acc is None else acc)
  prim.jvp = jvp
  return jvp


def defjvp_zero(prim: Primitive):
  """The output does not depend differentiably on the inputs (e.g. floor, comparisons)."""
  def jvp(primals, tangents, **params):
    ans = prim.bind(*primals, **params)
    if prim.multiple_results:
      return ans, [Zero(tangent_aval(a.aval)) for a in ans]
    return ans, Zero(tangent_aval(ans.aval))
  prim.jvp = jvp


def deflinear(prim: Primitive, transpose_rule):
  """A primitive linear in all of its operands: its JVP applies it to the tangents."""
  def jvp(primals, tangents, **params):
    ans = prim.bind(*primals, **params)
    return ans, prim.bind(*map(instantiate, tangents), **params)
  prim.jvp = jvp
  prim.transpose = transpose_rule


def is_undefined_primal(x) -> bool:
  return type(x) is UndefinedPrimal


class UndefinedPrimal:
  """Stands for a linear input of an equation being transposed."""
  __slots__ = ("aval",)

  def __init__(self, aval):
    self.aval = aval

  shape = property(lambda self: self.aval.shape)
  dtype = property(lambda self: self.aval.dtype)
  ndim = property(lambda self: len(self.aval.shape))

  def __repr__(self):
    return f"UndefinedPrimal({self.aval.str_short()})"


# ---------------------------------------------------------------- JVP trace


class JVPTracer(Tracer):
  __slots__ = ("primal", "tangent")

  def __init__(self, trace, primal, tangent):
    self._trace = trace
    self.primal = primal
    self.tangent = tangent

  @property
  def aval(self):
    return core.get_aval(self.primal)

  def to_concrete_value(self):
    p = self.primal
    return p.to_concrete_value() if isinstance(p, Tracer) else p

  def _origin_msg(self):
    fn = getattr(self.primal, "_origin_msg", None)
    return fn() if fn is not None else ""

  def __repr__(self):
    t = self.tangent
    if isinstance(self._trace.parent, LinearizeTrace):
      return (f"GradTracer(primal={self.primal}, "
              f"typeof(tangent)={t.aval.str_short()})")
    return f"JVPTracer(primal={self.primal}, tangent={instantiate(t)})"

  __str__ = __repr__


class JVPTrace(core.Trace):
  """Forward mode. Values that are not this trace's tracers have zero tangents."""
  __slots__ = ()

  def _unbox(self, args):
    primals, tangents, nonzero = [], [], False
    for x in args:
      if type(x) is JVPTracer and x._trace is self:
        primals.append(x.primal)
        tangents.append(x.tangent)
        nonzero = nonzero or type(x.tangent) is not Zero
      else:
        if isinstance(x, Tracer):
          core.check_valid(x)
        primals.append(x)
        tangents.append(None)
    if nonzero:
      tangents = [Zero.from_primal_value(p) if t is None else t
                  for p, t in zip(primals, tangents)]
    return primals, tangents, nonzero

  def _box(self, p, t):
    return p if type(t) is Zero else JVPTracer(self, p, t)

  def process_primitive(self, prim, args, params):
    primals, tangents, nonzero = self._unbox(args)
    if not nonzero:
      return self.parent.process_primitive(prim, primals, params)
    with core.set_current_trace(self.parent):
      out, tout = prim.rule("jvp")(primals, tangents, **params)
    if prim.multiple_results:
      return [self._box(p, t) for p, t in zip(out, tout)]
    return self._box(out, tout)

  def process_custom_jvp_call(self, fun, jvp, args, symbolic_zeros):
    primals, tangents, nonzero = self._unbox(args)
    with core.set_current_trace(self.parent):
      if not nonzero:
        return self.parent.process_custom_jvp_call(fun, jvp, primals, symbolic_zeros)
      if not symbolic_zeros:
        tangents = [instantiate(t) for t in tangents]
      out, tout = jvp(primals, tangents)
    return [self._box(p, t) for p, t in zip(out, tout)]

  def process_custom_vjp_call(self, fun, fwd, bwd, args, out_avals, symbolic_zeros):
    primals, tangents, nonzero = self._unbox(args)
    with core.set_current_trace(self.parent):
      if not nonzero:
        return self.parent.process_custom_vjp_call(fun, fwd, bwd, primals, out_avals,
                                                   symbolic_zeros)
      out, res = fwd(primals, [type(t) is not Zero for t in tangents])
      # Not staged (linearize or a jit): JAX's error, after fwd ran (as JAX's order).
      if not isinstance(self.parent, DynamicJaxprTrace):
        raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp "
                        "function.")
      tangents = [instantiate(t) for t in tangents]
      tout = custom_lin_p.bind(*res, *tangents, num_res=len(res), bwd=bwd,
                               out_avals=tuple(tangent_aval(core.get_aval(o)) for o in out),
                               symbolic_zeros=symbolic_zeros)
    return [self._box(p, t) for p, t in zip(out, tout)]

  def process_remat(self, fun, args, saveable):
    primals, tangents, nonzero = self._unbox(args)
    if not nonzero:
      with core.set_current_trace(self.parent):
        return self.parent.process_remat(fun, primals, saveable)
    if saveable or not isinstance(self.parent, LinearizeTrace):
      with core.set_current_trace(self):  # differentiate the body directly
        return fun(*args)
    with core.set_current_trace(self.parent):
      out = fun(*primals)
      tangents = [instantiate(t) for t in tangents]
      tout = remat_lin_p.bind(*primals, *tangents, fun=fun, num_primals=len(primals),
                              out_avals=tuple(tangent_aval(core.get_aval(o)) for o in out))
    return [self._box(p, t) for p, t in zip(out, tout)]


# custom_lin: the linear part of a custom_vjp function; transposing it calls bwd.
custom_lin_p = Primitive("custom_lin")
custom_lin_p.multiple_results = True


def _custom_lin_impl(*args, num_res, bwd, out_avals, symbolic_zeros):
  raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function.")


def _custom_lin_transpose(cts, *args, num_res, bwd, out_avals, symbolic_zeros):
  res = args[:num_res]
  if symbolic_zeros:  # bwd sees zero cotangents as Zero (its SymbolicZero)
    cts = [Zero(a) if c is None or type(c) is Zero else c for c, a in zip(cts, out_avals)]
  else:
    cts = instantiate_cts(cts, out_avals)
  cts_in = bwd(list(res), cts)
  return [None] * num_res + list(cts_in)


custom_lin_p.def_impl(_custom_lin_impl)
custom_lin_p.lower = _custom_lin_impl
custom_lin_p.def_abstract_eval(lambda *args, out_avals, **_: list(out_avals))
custom_lin_p.sharding_rule = lambda *args, out_avals, **_: [a.sharding for a in out_avals]
custom_lin_p.transpose = _custom_lin_transpose


# remat_lin: the tangent map of a checkpointed function, recomputed when needed.
remat_lin_p = Primitive("remat_lin")
remat_lin_p.multiple_results = True


def _remat_lin_impl(*args, fun, num_primals, out_avals):
  primals, tangents = args[:num_primals], args[num_primals:]
  return jvp_flat(fun, list(primals), list(tangents))[1]


def _remat_lin_transpose(cts, *args, fun, num_primals, out_avals):
  primals = args[:num_primals]
  cts = instantiate_cts(cts, out_avals)
  _, jaxpr, consts, nonzero = linearize_flat(fun, list(primals))  # recompute
  cts_in = backward_pass(jaxpr, consts, [UndefinedPrimal(v.aval) for v in jaxpr.invars],
                         [c for c, nz in zip(cts, nonzero) if nz])
  it = iter(cts_in)
  return [None] * num_primals + [next(it) if is_float(core.get_aval(p).dtype) else None
                                 for p in primals]


remat_lin_p.def_impl(_remat_lin_impl)
remat_lin_p.def_abstract_eval(lambda *args, out_avals, **_: list(out_avals))
remat_lin_p.sharding_rule = lambda *args, out_avals, **_: [a.sharding for a in out_avals]
remat_lin_p.transpose = _remat_lin_transpose


# ---------------------------------------------------------------- linearize


def _as_array(x):
  if isinstance(x, (ArrayImpl, Tracer)):
    return x
  return asarray_value(x)


def _unbox_out(trace, outs):
  primals, tangents = [], []
  for o in outs:
    if type(o) is JVPTracer and o._trace is trace:
      primals.append(o.primal)
      tangents.append(o.tangent)
    else:
      o = _as_array(o)
      primals.append(o)
      tangents.append(Zero.from_primal_value(o))
  return primals, tangents


def jvp_flat(fun, primals, tangents):
  """Forward mode on flat lists; ``tangents`` may hold ``Zero``s."""
  trace = JVPTrace(core.trace_ctx.trace)
  try:
    ins = [JVPTracer(trace, _as_array(p), t) if type(t) is not Zero else _as_array(p)
           for p, t in zip(primals, tangents)]
    with core.set_current_trace(trace):
      outs = fun(*ins)
    return _unbox_out(trace, outs)
  finally:
    trace.invalidate()


def linearize_flat(fun, primals, aux_fn=None):
  """Runs ``fun`` (flat list -> flat list) forward and stages its tangent map.

  Returns ``(out_primals, jaxpr, consts, nonzero)``: the linear jaxpr maps the
  tangents of the float inputs to the tangents of the outputs marked nonzero.
  """
  parent = core.trace_ctx.trace
  lin = LinearizeTrace(parent)
  trace = JVPTrace(lin)
  try:
    ins = []
    for p in primals:
      p = _as_array(p)
      aval = core.get_aval(p)
      if is_float(aval.dtype):
        ins.append(JVPTracer(trace, p, lin.new_arg(aval)))
      else:
        ins.append(p)
    with core.set_current_trace(trace):
      outs = fun(*ins)
      if aux_fn is not None:
        aux_fn(trace)
    out_p, out_t = _unbox_out(trace, outs)
    nonzero = [type(t) is not Zero for t in out_t]
    with core.set_current_trace(parent):
      jaxpr, consts = lin.to_jaxpr([t for t in out_t if type(t) is not Zero])
    return out_p, jaxpr, consts, nonzero
  finally:
    trace.invalidate()
    lin.invalidate()


def unbox_aux(trace, aux_flat):
  """Primal values of auxiliary outputs (they are not differentiated)."""
  return [a.primal if type(a) is JVPTracer and a._trace is trace else a for a in aux_flat]


# ---------------------------------------------------------------- transpose


def backward_pass(jaxpr: core.Jaxpr, consts, args, cts_out) -> list:
  """Transposes ``jaxpr`` with respect to the ``UndefinedPrimal`` entries of ``args``.

  ``cts_out`` has one cotangent per outvar (``None`` or ``Zero`` for zero).
  Equations with only known inputs are evaluated forward first. Returns one
  cotangent per invar (``None`` where it is zero or the input is not linear).
  """
  env = dict(zip(jaxpr.constvars, consts))
  linear: set = set()
  for v, a in zip(jaxpr.invars, args):
    if type(a) is UndefinedPrimal:
      linear.add(v)
    else:
      env[v] = a

  def read(v):
    return v.val if type(v) is Literal else env[v]

  lin_eqns = []
  for eqn in jaxpr.eqns:
    if any(type(v) is not Literal and v in linear for v in eqn.invars):
      linear.update(eqn.outvars)
      lin_eqns.append(eqn)
    else:
      outs = eqn.primitive.bind(*map(read, eqn.invars), **eqn.params)
      env.update(zip(eqn.outvars, outs if eqn.primitive.multiple_results else (outs,)))

  ct_env: dict = {}

  def write_ct(v, ct):
    if ct is None or type(ct) is Zero or type(v) is Literal or v not in linear:
      return
    prev = ct_env.get(v)
    ct_env[v] = ct if prev is None else add_any_p.bind(prev, ct)

  for v, ct in zip(jaxpr.outvars, cts_out):
    write_ct(v, ct)
  for eqn in reversed(lin_eqns):
    cts = [ct_env.pop(v, None) for v in eqn.outvars]
    if all(c is None for c in cts):
      continue
    invals = [UndefinedPrimal(v.aval) if type(v) is not Literal and v in linear else read(v)
              for v in eqn.invars]
    rule = eqn.primitive.rule("transpose")
    if eqn.primitive.multiple_results:
      cts_in = rule(cts, *invals, **eqn.params)
    else:
      cts_in = rule(cts[0], *invals, **eqn.params)
    for v, ct in zip(eqn.invars, cts_in):
      write_ct(v, ct)
  return [ct_env.get(v) if v in linear else None for v in jaxpr.invars]


def linear_transpose_flat(jaxpr, consts, cts_out):
  return backward_pass(jaxpr, consts, [UndefinedPrimal(v.aval) for v in jaxpr.invars],
                       cts_out)

"""``while_loop`` and its primitive ``while_p``.

``while_p`` operands are ``cond_consts``, ``body_consts`` (loop-invariant values the two
jaxprs close over) and the carry; its results are the final carry. The trip count is only
known at run time, so the loop cannot save per-iteration residuals: it has forward-mode
rules (JVP, partial evaluation for linearize) but no transpose. Under ``vmap`` with a
batched predicate, all lanes loop until every predicate is false; lanes already done keep
their carry (the body's result is merged with ``select``).
"""
from __future__ import annotations

import weakref
from typing import Callable

import numpy as np

from pyjax._src import core, dtypes, ref, tree_util
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.config import config
from pyjax._src.core import ClosedJaxpr, Jaxpr, Primitive, Tracer, Var
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import lowering as mlir
from pyjax._src.interpreters import native_loops
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.lax import lax
from pyjax._src.lax import reductions as lax_reductions
from pyjax._src.lax.control_flow.common import (avals_of, check_carry, eval_closed, jvp_jaxpr,
                                                lower_closed, trace_fun)

# ---------------------------------------------------------------- the primitive

while_p = Primitive("while")
while_p.multiple_results = True
while_p.batch_with_axis_name = True


def _split(args, cond_nconsts, body_nconsts):
  n = cond_nconsts + body_nconsts
  return list(args[:cond_nconsts]), list(args[cond_nconsts:n]), list(args[n:])


def _while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
  cc, bc, carry = _split(args, cond_nconsts, body_nconsts)
  with core.set_current_trace(core.eval_trace):
    while np.asarray(eval_closed(cond_jaxpr, *cc, *carry)[0]):
      carry = eval_closed(body_jaxpr, *bc, *carry)
  # A carry that entered weakly typed leaves typed as the body makes it (also when the
  # body never ran), as abstract evaluation says.
  return [ArrayImpl(np.asarray(x), a.weak_type) if x.weak_type != a.weak_type else x
          for x, a in zip(carry, body_jaxpr.out_avals)]


def _while_abstract_eval(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
  return list(body_jaxpr.out_avals)


# IREE's limit on a dispatch's stack allocation: a dead result over it fails the compile.
_STACK_LIMIT = 32768


def _while_lower(ctx, *args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
  """A ``stablehlo.while`` whose state is (cond consts, body consts, carry).

  IREE (3.13) crashes compiling a loop whose body ignores one of its carries (as in
  ``c = f(key)`` while ``c < t``), and an ``optimization_barrier`` in the body makes it
  loop forever. So the body keeps such a carry used: it re-evaluates the predicate
  (true inside the body) and selects the new value with it.

  The loop's operands pass an ``optimization_barrier`` first: IREE evaluates the
  predicate once before entering the loop, and where it could fold constant operands
  there (a carry starting as zeros, compared with a broadcast scalar and reduced) it
  made a dispatch with a dead whole-array result that it placed on the stack ("exceeded
  stack allocation limit", 4 MB for 1e6 floats). Only loops with an operand over the
  stack limit get it (the barrier made IREE fail small loops, eigh's Jacobi sweeps and
  cg's, with "operand #1 does not dominate this use")."""
  nc, nb = cond_nconsts, body_nconsts
  native = _native_lower(ctx, args, cond_jaxpr, body_jaxpr, nc, nb)
  if native is not None:
    return native
  avals = [a.aval for a in args]
  if any(a.size * a.dtype.itemsize > _STACK_LIMIT for a in avals
         if hasattr(a, "dtype") and hasattr(a.dtype, "itemsize")):
    args = ctx.op("stablehlo.optimization_barrier", list(args), avals)
    args = [args] if isinstance(args, mlir.Val) else list(args)
  ignored = [not u for u in _used_inputs(body_jaxpr.jaxpr)[nb:]]

  def cond(b, *state):
    return lower_closed(b, cond_jaxpr, list(state[:nc]) + list(state[nc + nb:]))

  def body(b, *state):
    consts, carry = list(state[:nc + nb]), list(state[nc + nb:])
    outs = lower_closed(b, body_jaxpr, consts[nc:] + carry)
    if any(ignored):
      pred, = cond(b, *state)
      outs = [b.select(pred, o, x) if i else o for o, x, i in zip(outs, carry, ignored)]
    return consts + outs

  effects = core.jaxpr_has_effects(body_jaxpr) or core.jaxpr_has_effects(cond_jaxpr)
  outs = mlir.while_op(ctx, list(args), avals, cond, body, token=effects)
  return list(outs[nc + nb:])


# A vmapped while whose predicate is batched, by its body: (the per-lane cond and body
# jaxprs, which of the per-lane cond / body consts are batched). Its lowering may run
# each lane's loop on its own (``native_loops`` lane mode).
_LANE_FORMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _native_lower(ctx, args, cond_jaxpr, body_jaxpr, nc, nb):
  """The loop as native code (``native_loops``), or None where it does not qualify."""
  if core.jaxpr_has_effects(body_jaxpr) or core.jaxpr_has_effects(cond_jaxpr):
    return None
  lane = _LANE_FORMS.get(body_jaxpr)
  if lane is not None and not ctx.native:
    cond1, body1, cc_b, bc_b = lane
    # operands: (cc, cc, bc, carry) of the batched loop (see ``_while_batch``)
    cc, bc, carry = args[:len(cc_b)], args[2 * len(cc_b):nb + nc], args[nb + nc:]
    lanes = carry[0].aval.shape[0] if carry else None
    n1 = len(cc)
    out = native_loops.lower_while(
        ctx, [*cc, *bc], carry,
        lambda b, cs, c: lower_closed(b, cond1, cs[:n1] + c)[0],
        lambda b, cs, c: lower_closed(b, body1, cs[n1:] + c),
        lanes=lanes, batched=[*cc_b, *bc_b] + [True] * len(carry))
    if out is not None:
      return out
  if any(a.aval.size > native_loops.MAX_ELEMS for a in args):
    return None
  return native_loops.lower_while(
      ctx, args[:nc + nb], args[nc + nb:],
      lambda b, cs, c: lower_closed(b, cond_jaxpr, cs[:nc] + c)[0],
      lambda b, cs, c: lower_closed(b, body_jaxpr, cs[nc:] + c))


def _used_inputs(jaxpr: Jaxpr) -> list[bool]:
  read = {v for e in jaxpr.eqns for v in e.invars if type(v) is Var}
  read.update(v for v in jaxpr.outvars if type(v) is Var)
  return [v in read for v in jaxpr.invars]


def _while_pp_params(params):
  return {k: params[k] for k in ("body_jaxpr", "body_nconsts", "cond_jaxpr", "cond_nconsts")}


# ---------------------------------------------------------------- jaxpr surgery


def _reorder(closed: ClosedJaxpr, in_order) -> ClosedJaxpr:
  """``closed`` whose k-th input is its old input ``in_order[k]``."""
  j = closed.jaxpr
  return ClosedJaxpr(Jaxpr(j.constvars, [j.invars[i] for i in in_order], j.outvars, j.eqns,
                           j.debug_info), closed.consts)


def _with_ignored_inputs(closed: ClosedJaxpr, avals) -> ClosedJaxpr:
  """``closed`` taking extra trailing inputs of ``avals`` that it does not use."""
  j = closed.jaxpr
  return ClosedJaxpr(Jaxpr(j.constvars, j.invars + [Var(a) for a in avals], j.outvars,
                           j.eqns, j.debug_info), closed.consts)


def _only_known_outputs(closed: ClosedJaxpr, n: int) -> ClosedJaxpr:
  """``closed`` keeping its first ``n`` outputs (dropping residuals), dead code removed."""
  j = closed.jaxpr
  return ClosedJaxpr(pe.dce_jaxpr(Jaxpr(j.constvars, j.invars, j.outvars[:n], j.eqns,
                                        j.debug_info)), closed.consts)


# ---------------------------------------------------------------- autodiff


def _while_jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
  """A while over (primal carry, tangent carry): the body is the body's JVP, the cond
  ignores the tangents. Which carries have tangents is found by a fixpoint."""
  nz = [type(t) is not ad.Zero and ad.is_float(core.get_aval(p).dtype)
        for p, t in zip(primals, tangents)]
  _, bc_nz, carry_nz = _split(nz, cond_nconsts, body_nconsts)
  while True:
    jvp_body, out_nz = jvp_jaxpr(body_jaxpr, bc_nz + carry_nz, instantiate=carry_nz)
    new = [a or b for a, b in zip(carry_nz, out_nz)]
    if new == carry_nz:
      break
    carry_nz = new
  if not any(carry_nz):  # nothing is differentiated through the loop
    out = while_p.bind(*primals, cond_jaxpr=cond_jaxpr, body_jaxpr=body_jaxpr,
                       cond_nconsts=cond_nconsts, body_nconsts=body_nconsts)
    return out, [ad.Zero(ad.tangent_aval(a)) for a in body_jaxpr.out_avals]
  cc, bc, carry = _split(primals, cond_nconsts, body_nconsts)
  _, bc_t, carry_t = _split(tangents, cond_nconsts, body_nconsts)
  bc_t = [t for t, z in zip(bc_t, bc_nz) if z]
  carry_t = [ad.instantiate(t) for t, z in zip(carry_t, carry_nz) if z]
  # jvp_body takes (bc, carry, bc_t, carry_t); the while body wants (bc, bc_t, carry, carry_t)
  nb, nk, nbt = len(bc), len(carry), len(bc_t)
  order = (list(range(nb)) + list(range(nb + nk, nb + nk + nbt)) + list(range(nb, nb + nk))
           + list(range(nb + nk + nbt, nb + nk + nbt + len(carry_t))))
  body = _reorder(jvp_body, order)
  cond = _with_ignored_inputs(cond_jaxpr, avals_of(carry_t))
  outs = while_p.bind(*cc, *bc, *bc_t, *carry, *carry_t, cond_jaxpr=cond, body_jaxpr=body,
                      cond_nconsts=cond_nconsts, body_nconsts=nb + nbt)
  it = iter(outs[nk:])
  return outs[:nk], [next(it) if z else ad.Zero(ad.tangent_aval(a))
                     for z, a in zip(carry_nz, body_jaxpr.out_avals)]


def _while_partial_eval(trace, args, params):
  """The known carries are computed by a while over the known inputs on the parent
  trace. A while cannot hand per-iteration residuals to the unknown part, so the unknown
  carries come from the whole loop staged again, with the known inputs as residuals."""
  cond_jaxpr, body_jaxpr = params["cond_jaxpr"], params["body_jaxpr"]
  cond_nconsts, body_nconsts = params["cond_nconsts"], params["body_nconsts"]
  unk = [not trace.is_known(a) for a in args]
  cc_unk, bc_unk, carry_unk = _split(unk, cond_nconsts, body_nconsts)
  while True:  # a carry is unknown if its value out of the body is
    body_known, _, out_unk, _ = pe.partial_eval_jaxpr(body_jaxpr, bc_unk + carry_unk,
                                                      instantiate=carry_unk)
    new = [a or b for a, b in zip(carry_unk, out_unk)]
    if new == carry_unk:
      break
    carry_unk = new
  cond_known, _, (pred_unk,), _ = pe.partial_eval_jaxpr(cond_jaxpr, cc_unk + carry_unk)
  staged = pe.DynamicJaxprTrace.process_primitive(trace, while_p, list(args), params)
  if pred_unk or all(carry_unk):
    return staged
  known = lambda xs, us: [x for x, u in zip(xs, us) if not u]
  cc, bc, carry = _split(args, cond_nconsts, body_nconsts)
  kcc, kbc = known(cc, cc_unk), known(bc, bc_unk)
  known_outs = trace.parent.process_primitive(
      while_p, kcc + kbc + known(carry, carry_unk),
      dict(cond_jaxpr=_only_known_outputs(cond_known, 1),
           body_jaxpr=_only_known_outputs(body_known, len(known(carry, carry_unk))),
           cond_nconsts=len(kcc), body_nconsts=len(kbc)))
  k = iter(known_outs)
  return [s if u else next(k) for s, u in zip(staged, carry_unk)]


def _while_transpose(cts, *args, **params):
  raise ValueError("Reverse-mode differentiation does not work for lax.while_loop or "
                   "lax.fori_loop with dynamic start/stop values. Try using lax.scan, or "
                   "using fori_loop with static start/stop.")


# ---------------------------------------------------------------- vmap


def _while_batch(vals, dims, *, axis_name=None, cond_jaxpr, body_jaxpr, cond_nconsts,
                 body_nconsts):
  size = batching.batch_size(vals, dims)
  vals = [batching.moveaxis(v, d, 0) if d is not None else v for v, d in zip(vals, dims)]
  cc_b, bc_b, carry_b = _split([d is not None for d in dims], cond_nconsts, body_nconsts)
  at0 = lambda bs: [0 if b else None for b in bs]
  while True:  # a carry is batched if its value out of the body is
    _, out_d = batching.batch_jaxpr(body_jaxpr, size, at0(bc_b + carry_b), axis_name,
                                    instantiate=carry_b)
    new = [a or d is not None for a, d in zip(carry_b, out_d)]
    if new == carry_b:
      break
    carry_b = new
  cond_b, (pred_d,) = batching.batch_jaxpr(cond_jaxpr, size, at0(cc_b + carry_b), axis_name)
  if pred_d is not None:  # every lane needs its own carry: it may stop at its own time
    carry_b = [True] * len(carry_b)
    cond_b, _ = batching.batch_jaxpr(cond_jaxpr, size, at0(cc_b + carry_b), axis_name)
  body_b, _ = batching.batch_jaxpr(body_jaxpr, size, at0(bc_b + carry_b), axis_name,
                                   instantiate=carry_b)
  cc, bc, carry = _split(vals, cond_nconsts, body_nconsts)
  carry = [batching.broadcast(x, size, 0) if b and d is None else x
           for x, b, d in zip(carry, carry_b, dims[cond_nconsts + body_nconsts:])]
  params = dict(cond_nconsts=cond_nconsts, body_nconsts=body_nconsts)
  if pred_d is None:
    outs = while_p.bind(*cc, *bc, *carry, cond_jaxpr=cond_b, body_jaxpr=body_b, **params)
    return outs, at0(carry_b)
  nc, nb = len(cc), len(bc)

  def any_cond(*args):  # (cond consts, carry) -> does any lane go on
    pred, = eval_closed(cond_b, *args)
    return [lax_reductions.reduce_or(pred, (0,))]

  def masked_body(*args):  # (cond consts, body consts, carry) -> carry of running lanes
    old = list(args[nc + nb:])
    pred, = eval_closed(cond_b, *args[:nc], *old)
    new = eval_closed(body_b, *args[nc:])
    return [lax.select(lax.broadcast_in_dim(pred, o.shape, (0,)), n, o)
            for n, o in zip(new, old)]

  c_avals, b_avals = avals_of(cc), avals_of(bc)
  k_avals = avals_of(carry)
  cj, cconsts = pe.trace_to_jaxpr(any_cond, c_avals + k_avals)
  bj, bconsts = pe.trace_to_jaxpr(masked_body, c_avals + b_avals + k_avals)
  body_closed = ClosedJaxpr(bj, bconsts)
  if axis_name is None:  # each lane's loop is the unbatched loop on that lane's values
    _LANE_FORMS[body_closed] = (cond_jaxpr, body_jaxpr, cc_b, bc_b)
  outs = while_p.bind(*cc, *cc, *bc, *carry, cond_jaxpr=ClosedJaxpr(cj, cconsts),
                      body_jaxpr=body_closed, cond_nconsts=nc, body_nconsts=nc + nb)
  return outs, [0] * len(outs)


while_p.def_impl(_while_impl)
while_p.def_abstract_eval(_while_abstract_eval)
while_p.jvp = _while_jvp
while_p.partial_eval = _while_partial_eval
while_p.transpose = _while_transpose
while_p.batch = _while_batch
while_p.lower = _while_lower
while_p.pp_params = _while_pp_params


# ---------------------------------------------------------------- while_loop (the API)


def _as_array(x):
  if isinstance(x, (ArrayImpl, Tracer)):
    return x
  try:
    return asarray_value(x)
  except TypeError:
    raise TypeError(f"Value {x!r} of type {type(x)} is not a valid JAX type") from None


def _while_with_refs(cond_fun, body_fun, init_val, refs):
  """``while_loop`` whose functions close over ``refs``: their values ride in the carry,
  and their final values are written back to them."""
  cond_g, body_g = ref.with_ref_values(cond_fun, refs), ref.with_ref_values(body_fun, refs)
  val, vals = while_loop(lambda c: cond_g(c[0], c[1])[0], lambda c: body_g(c[0], c[1]),
                         (init_val, [ref.get(r) for r in refs]))
  for r, v in zip(refs, vals):
    ref.set(r, ..., v)
  return val


def while_loop(cond_fun: Callable, body_fun: Callable, init_val):
  """``val = init_val; while cond_fun(val): val = body_fun(val)``, as one primitive.

  Forward-mode differentiable only (see ``fori_loop``/``scan`` for reverse mode).
  """
  if not (callable(body_fun) and callable(cond_fun)):
    raise TypeError("lax.while_loop: body_fun and cond_fun arguments should be callable.")
  if config.jax_disable_jit:
    val = init_val
    while cond_fun(val):
      val = body_fun(val)
    return val
  flat, in_tree = tree_util.tree_flatten(init_val)
  flat = [_as_array(x) for x in flat]
  cond_probed, cond_refs = ref.probe_closed_refs(cond_fun)
  body_probed, body_refs = ref.probe_closed_refs(body_fun)
  for _ in range(2):
    avals = avals_of(flat)
    arg = (tree_util.tree_unflatten(in_tree, avals),)
    cond, cond_consts, cond_tree = trace_fun(cond_probed, arg, "while_cond",
                                             debug_fun=cond_fun)
    body, body_consts, body_tree = trace_fun(body_probed, arg, "while_body",
                                             debug_fun=body_fun)
    if cond_refs or body_refs:  # Refs the functions close over: carried instead
      refs = body_refs + [r for r in cond_refs if not any(r is b for b in body_refs)]
      return _while_with_refs(cond_fun, body_fun, init_val, refs)
    if not tree_util.treedef_is_leaf(cond_tree) or len(cond.out_avals) != 1:
      raise TypeError(f"cond_fun must return a boolean scalar, but got pytree {cond_tree}.")
    pred = cond.out_avals[0]
    if pred.shape != () or pred.dtype != np.bool_:
      raise TypeError(f"cond_fun must return a boolean scalar, but got output type(s) "
                      f"[{pred!r}].")
    # A weakly typed carry whose output has another dtype is promoted, and traced again.
    if body_tree != in_tree:
      break
    promoted = [dtypes.result_type(x, b) if a.weak_type and a.dtype != b.dtype else None
                for x, a, b in zip(flat, avals, body.out_avals)]
    if all(d is None or d == a.dtype for d, a in zip(promoted, avals)):
      break
    flat = [x if d is None else lax.convert_element_type(x, d) for x, d in zip(flat, promoted)]
  check_carry("while_loop body", body_fun, in_tree, avals, body_tree, body.out_avals)
  outs = while_p.bind(*cond_consts, *body_consts, *flat, cond_jaxpr=cond, body_jaxpr=body,
                      cond_nconsts=len(cond_consts), body_nconsts=len(body_consts))
  return tree_util.tree_unflatten(body_tree, outs)

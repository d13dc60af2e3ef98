"""``cond`` and ``switch``, and their primitive ``cond_p``.

``cond_p`` operands are an int32 ``index`` followed by the operands every branch takes;
``branches`` holds one ClosedJaxpr per index value (for ``cond``: false, then true), all
with the same inputs and output types. Only the chosen branch runs, except under ``vmap``
with a batched index, where every branch runs and ``select_n`` picks each element's result.
Reverse mode splits each branch into known and unknown parts; the known cond also returns
the residuals of every branch (zeros for the branches not taken), so the unknown cond can
run whichever branch the index picks.
"""
from __future__ import annotations

import functools
import inspect
from typing import Callable, Sequence

import numpy as np

from pyjax._src import core, devices, dtypes, ref, tree_util
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.config import config
from pyjax._src.core import ClosedJaxpr, Jaxpr, Primitive, ShapedArray, Tracer, Var
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import native_loops
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.lax import lax
from pyjax._src.lax.control_flow.common import (avals_of, eval_closed, jvp_jaxpr, lower_closed,
                                                trace_fun)

# ---------------------------------------------------------------- the primitive

cond_p = Primitive("cond")
cond_p.multiple_results = True
cond_p.batch_with_axis_name = True


def _cond_impl(index, *args, branches):
  """Out-of-range indices run the last branch (as ``stablehlo.case``)."""
  i = int(np.asarray(getattr(index, "_value", index)))
  if not 0 <= i < len(branches):
    i = len(branches) - 1
  with core.set_current_trace(core.eval_trace):
    outs = eval_closed(branches[i], *args)
  return [x if x.weak_type == a.weak_type else ArrayImpl(x._value, a.weak_type)
          for x, a in zip(outs, branches[0].out_avals)]


def _cond_abstract_eval(index, *avals, branches):
  return list(branches[0].out_avals)


def _cond_lower(ctx, index, *args, branches):
  """A ``stablehlo.case`` on an i32 index; the regions use the operands directly."""
  if index.aval.dtype != np.int32:
    index = ctx.convert(index, np.int32)

  out_avals = list(ctx.avals_out)
  if ctx.native and not any(core.jaxpr_has_effects(br) for br in branches):
    return native_loops.lower_switch(
        ctx, index, [lambda b, br=br: lower_closed(b, br, list(args)) for br in branches],
        out_avals)
  # Branches making host calls also yield the host-call token, so that calls after the
  # cond come after theirs (see ``lowering.FnBuilder.host_call``).
  token = any(core.jaxpr_has_effects(br) for br in branches)
  if token:
    out_avals.append(ctx.token().aval)

  def region(b, br):
    outs = lower_closed(b, br, list(args))
    return _fresh(b, [*outs, b._token] if token else outs)

  regions = [ctx.region([], lambda b, br=br: region(b, br)) for br in branches]
  outs = ctx.op("stablehlo.case", [index], out_avals, "", regions)
  if not token:
    return outs
  outs = [outs] if not isinstance(outs, list) else outs
  ctx._token = outs[-1]
  return outs[:-1]


def _fresh(b, outs):
  """``outs``, each computed anew in the region: ``x + z`` (``x | z`` for bools) with
  ``z`` an identity element (-0.0, 0, False) hidden behind an optimization barrier, so
  that IREE can neither fold it nor merge two results. IREE 3.13 builds modules that
  fail at run time ("ref is null" creating a result buffer view) when a region yields
  one value for two results, an operand or a constant."""
  if not outs:
    return outs
  zs = [b.constant(np.array(-0.0 if o.aval.dtype.kind in "fcV" or
                            o.aval.dtype.name == "bfloat16" else 0).astype(o.aval.dtype),
                   ShapedArray((), o.aval.dtype)) for o in outs]
  zs = b.op("stablehlo.optimization_barrier", zs, [z.aval for z in zs])
  return [b.binary("or" if o.aval.dtype == np.bool_ else "add", o, z)
          for o, z in zip(outs, zs)]


cond_p.def_impl(_cond_impl)
cond_p.def_abstract_eval(_cond_abstract_eval)
cond_p.lower = _cond_lower


# ---------------------------------------------------------------- jaxpr helpers


def _with_invars(closed: ClosedJaxpr, invars) -> ClosedJaxpr:
  j = closed.jaxpr
  return ClosedJaxpr(Jaxpr(j.constvars, invars, j.outvars, j.eqns, j.debug_info), closed.consts)


def _trace_closed(fun, in_avals, like: ClosedJaxpr) -> ClosedJaxpr:
  jaxpr, consts = pe.trace_to_jaxpr(fun, list(in_avals), like.jaxpr.debug_info)
  return ClosedJaxpr(jaxpr, consts)


def _n_out(branches) -> int:
  return len(branches[0].out_avals)


# ---------------------------------------------------------------- autodiff


def _cond_jvp(primals, tangents, *, branches):
  """One cond over (operands, nonzero tangents): every branch's JVP emits the tangents
  that are nonzero in any branch."""
  index, ops = primals[0], primals[1:]
  nz = [type(t) is not ad.Zero and ad.is_float(core.get_aval(p).dtype)
        for p, t in zip(ops, tangents[1:])]
  firsts = [jvp_jaxpr(br, nz, False) for br in branches]
  out_nz = [any(z) for z in zip(*(o for _, o in firsts))] if firsts else []
  jvps = tuple(j if o == out_nz else jvp_jaxpr(br, nz, out_nz)[0]
               for (j, o), br in zip(firsts, branches))
  tans = [t for t, z in zip(tangents[1:], nz) if z]
  outs = cond_p.bind(index, *ops, *tans, branches=jvps)
  n = _n_out(branches)
  it = iter(outs[n:])
  return outs[:n], [next(it) if z else ad.Zero(ad.tangent_aval(a))
                    for z, a in zip(out_nz, branches[0].out_avals)]


def _merge_residuals(res_avals: Sequence[Sequence[ShapedArray]]):
  """Residual slots shared across branches: a branch's k-th residual of a given type
  takes that type's k-th slot. Returns (slot avals, per branch: slot of each residual)."""
  slots: list[ShapedArray] = []
  where = []
  for avals in res_avals:
    used: dict = {}
    mine = []
    for a in avals:
      key = (a.shape, a.dtype)
      k = used.get(key, 0)
      used[key] = k + 1
      idx = [i for i, s in enumerate(slots) if (s.shape, s.dtype) == key]
      if k < len(idx):
        mine.append(idx[k])
      else:
        mine.append(len(slots))
        slots.append(a.update(weak_type=False))
    where.append(mine)
  return slots, where


def _cond_partial_eval(trace, args, params):
  """Known index: a known cond on the parent trace returns the known outputs and the
  residuals of every branch; the unknown cond takes the residuals and the unknown
  operands. Unknown index: the whole cond is staged."""
  branches = params["branches"]
  index, ops = args[0], list(args[1:])
  if not trace.is_known(index):
    return pe.DynamicJaxprTrace.process_primitive(trace, cond_p, list(args), params)
  unk = [not trace.is_known(a) for a in ops]
  splits = [pe.partial_eval_jaxpr(br, unk) for br in branches]
  out_unk = [any(u) for u in zip(*(s[2] for s in splits))]
  splits = [s if s[2] == out_unk else pe.partial_eval_jaxpr(br, unk, instantiate=out_unk)
            for s, br in zip(splits, branches)]
  n_kout = len(out_unk) - sum(out_unk)
  res_avals = [s[0].out_avals[n_kout:] for s in splits]
  slots, where = _merge_residuals(res_avals)
  known_ops = [a for a, u in zip(ops, unk) if not u]

  def known_branch(known, mine):
    def fun(*xs):
      outs = eval_closed(known, *xs)
      res = [None] * len(slots)
      for r, k in zip(outs[n_kout:], mine):
        res[k] = r
      return outs[:n_kout] + [ad.zeros_like_aval(a) if r is None else r
                              for r, a in zip(res, slots)]
    return _trace_closed(fun, known.in_avals, known)

  def unknown_branch(unknown, mine, num_res):
    ins = [Var(a) for a in slots]
    for v, k in zip(unknown.jaxpr.invars[:num_res], mine):
      ins[k] = v
    return _with_invars(unknown, ins + unknown.jaxpr.invars[num_res:])

  if n_kout or slots:
    known_brs = tuple(known_branch(s[0], m) for s, m in zip(splits, where))
    known_outs = trace.parent.process_primitive(cond_p, [index] + known_ops,
                                                dict(branches=known_brs))
  else:
    known_outs = []
  unk_brs = tuple(unknown_branch(s[1], m, s[3]) for s, m in zip(splits, where))
  unk_args = [index] + list(known_outs[n_kout:]) + [a for a, u in zip(ops, unk) if u]
  unk_outs = pe.DynamicJaxprTrace.process_primitive(trace, cond_p, unk_args,
                                                    dict(branches=unk_brs))
  k, u = iter(known_outs[:n_kout]), iter(unk_outs)
  return [next(u) if x else next(k) for x in out_unk]


def _cond_transpose(cts, index, *args, branches):
  """A cond of the transposed branches over (non-linear operands, nonzero cotangents);
  the index and the residuals are not linear."""
  undef = [ad.is_undefined_primal(a) for a in args]
  in_avals = branches[0].in_avals
  out_avals = branches[0].out_avals
  known = [a for a, u in zip(args, undef) if not u]
  ct_nz = [c is not None and type(c) is not ad.Zero and ad.is_float(a.dtype)
           for c, a in zip(cts, out_avals)]
  cts_nz = [c for c, z in zip(cts, ct_nz) if z]
  nk = len(known)

  def transposed(br):
    def fun(*vals):
      kv, cv = iter(vals[:nk]), iter(vals[nk:])
      full = [ad.UndefinedPrimal(a) if u else next(kv) for a, u in zip(in_avals, undef)]
      res = ad.backward_pass(br.jaxpr, br.consts, full,
                             [next(cv) if z else None for z in ct_nz])
      return [ad.zeros_like_aval(a) if r is None else r
              for r, a, u in zip(res, in_avals, undef) if u]
    return _trace_closed(fun, avals_of(known) + avals_of(cts_nz), br)

  t_brs = tuple(transposed(br) for br in branches)
  outs = iter(cond_p.bind(index, *known, *cts_nz, branches=t_brs))
  return [None] + [next(outs) if u else None for u in undef]


cond_p.jvp = _cond_jvp
cond_p.partial_eval = _cond_partial_eval
cond_p.transpose = _cond_transpose


# ---------------------------------------------------------------- vmap


def _cond_batch(vals, dims, *, axis_name=None, branches):
  size = batching.batch_size(vals, dims)
  index, ops = vals[0], list(vals[1:])
  idx_dim, op_dims = dims[0], list(dims[1:])
  if idx_dim is not None:
    # Every branch runs on every element; select_n keeps each element's branch. In the
    # branches not taken, the operands pass through stop_gradient, so that their
    # (discarded) results add nothing, not even NaN, to the gradient.
    idx = batching.moveaxis(index, idx_dim, 0)
    ops = [batching.bdim_at_front(x, d, size) for x, d in zip(ops, op_dims)]
    per_branch = []
    for i, br in enumerate(branches):
      bj, _ = batching.batch_jaxpr(br, size, [0] * len(ops), axis_name, instantiate=True)
      taken = lax.eq(idx, np.int32(i))
      ins = [lax.select_n(_bcast(taken, x), lax.stop_gradient(x), x)
             if dtypes.issubdtype(x.dtype, np.inexact) else x for x in ops]
      per_branch.append(eval_closed(bj, *ins))
    outs = [lax.select_n(_bcast(idx, cases[0]), *cases) for cases in zip(*per_branch)]
    return outs, [0] * len(outs)
  firsts = [batching.batch_jaxpr(br, size, op_dims, axis_name) for br in branches]
  out_b = [any(d is not None for d in ds) for ds in zip(*(o for _, o in firsts))]
  new = tuple(j if [d is not None for d in o] == out_b else
              batching.batch_jaxpr(br, size, op_dims, axis_name, instantiate=out_b)[0]
              for (j, o), br in zip(firsts, branches))
  outs = cond_p.bind(index, *ops, branches=new)
  return outs, [0 if b else None for b in out_b]


def _bcast(pred, like):
  """``pred`` (batch axis only) broadcast along the trailing axes of ``like``."""
  shape = core.get_aval(like).shape
  return pred if len(shape) == 1 else lax.broadcast_in_dim(pred, shape, (0,))


cond_p.batch = _cond_batch


# ---------------------------------------------------------------- the API


def _src_info(f) -> str:
  while isinstance(f, functools.partial):
    f = f.func
  f = inspect.unwrap(f)
  code = getattr(f, "__code__", None)
  if code is not None:
    return f"{f.__name__} at {code.co_filename}:{code.co_firstlineno}"
  return getattr(f, "__name__", "<unknown>")


class _Leaf:
  def __repr__(self):
    return "pytree leaf"


def _struct_diffs(path, t1, t2):
  """(path, what t1 is, what t2 is, why) for each structural difference."""
  l1, l2 = type(t1) is _Leaf, type(t2) is _Leaf
  if l1 and l2:
    return
  if type(t1) is not type(t2):
    yield (path, "pytree leaf" if l1 else str(type(t1)), "pytree leaf" if l2 else
           str(type(t2)), "their Python types differ")
    return
  if isinstance(t1, (list, tuple)) and len(t1) != len(t2):
    yield (path, f"{type(t1).__name__} of length {len(t1)}",
           f"{type(t2).__name__} of length {len(t2)}", "the lengths do not match")
    return
  if isinstance(t1, dict):
    n1, n2 = len(t1), len(t2)
    if n1 != n2:
      diff = " ".join(repr(k) for k in set(t1) ^ set(t2))
      yield (path, f"{type(t1)} with {n1} child{'ren' if n1 > 1 else ''}",
             f"{type(t2)} with {n2} child{'ren' if n2 > 1 else ''}",
             f"the numbers of children do not match, with the symmetric difference of "
             f"key sets: {{{diff}}}")
      return
    if set(t1) != set(t2):
      yield (path, f"{type(t1)} with pytree metadata {tuple(sorted(t1))}",
             f"{type(t2)} with pytree metadata {tuple(sorted(t2))}",
             "the pytree node metadata does not match")
      return
    for k in t1:
      yield from _struct_diffs(path + (tree_util.DictKey(k),), t1[k], t2[k])
    return
  if isinstance(t1, (list, tuple)):
    for i, (a, b) in enumerate(zip(t1, t2)):
      yield from _struct_diffs(path + (tree_util.SequenceKey(i),), a, b)
    return
  yield (path, str(type(t1)), str(type(t2)), "their pytree structures differ")


def _check_outputs(what, name1, name2, f1, f2, tree1, avals1, tree2, avals2):
  """JAX's errors for branches whose outputs differ in structure or types."""
  info = f"{name1} is {_src_info(f1)}\n{name2} is {_src_info(f2)}\n\n"
  comp = lambda p: f" at path {tree_util.keystr(p)}" if p else ""
  if tree1 != tree2:
    diffs = [f"{name1} output{comp(p)} is a {a} but {name2} output{comp(p)} is a {b}, so "
             f"{why}" for p, a, b, why in _struct_diffs(
                 (), tree_util.tree_unflatten(tree1, [_Leaf()] * tree1.num_leaves),
                 tree_util.tree_unflatten(tree2, [_Leaf()] * tree2.num_leaves))]
    if not diffs:
      diffs = [f"{name1} output is {tree1} but {name2} output is {tree2}, so their pytree "
               f"structures differ"]
    body = (f"{diffs[0]}.\n" if len(diffs) == 1 else
            "\n".join(f"  * {d};\n" for d in diffs[:-1]) + f"  * {diffs[-1]}.\n")
    raise TypeError(f"{what} branch outputs must have the same pytree structure, but they "
                    f"differ:\n\n{info}{body}\nRevise {name1} and/or {name2} so that they "
                    f"have the same pytree structure.")
  paths = [p for p, _ in tree_util.tree_flatten_with_path(
      tree_util.tree_unflatten(tree1, list(range(tree1.num_leaves))))[0]]
  diffs = []
  for p, a, b in zip(paths, avals1, avals2):
    why = [w for w, bad in (("the dtypes do not match", a.dtype != b.dtype),
                            ("the shapes do not match", a.shape != b.shape)) if bad]
    if why:
      diffs.append(f"the output of {name1}{comp(p)} has type {a.str_short(False)} but the "
                   f"corresponding output of {name2} has type {b.str_short(False)}, so "
                   f"{' and '.join(why)}")
  if not diffs:
    return
  body = (f"{diffs[0][0].upper()}{diffs[0][1:]}.\n" if len(diffs) == 1 else
          "\n".join(f"  * {d};" for d in diffs[:-1]) + f"\n  * {diffs[-1]}.\n")
  raise TypeError(f"{what} branches must have equal output types but they differ.\n\n"
                  f"{info}{body}\nRevise {name1} and/or {name2} so that all output types "
                  f"match.")


def _as_operand(x):
  if isinstance(x, (ArrayImpl, Tracer)):
    return x
  try:
    return asarray_value(x)
  except TypeError:
    raise TypeError(f"Value {x!r} with type {type(x)} is not a valid JAX type") from None


def _bind_branches(what, index, funs, names, operands, reverse=False):
  """Traces every branch on the operands' avals, checks their outputs agree and binds
  ``cond_p`` (with the branches in reverse order if ``reverse``). Outputs that every
  branch forwards from the same operand are not computed by the cond (as in JAX)."""
  ops_flat, in_tree = tree_util.tree_flatten(operands)
  ops_flat = [_as_operand(x) for x in ops_flat]
  args_avals = tree_util.tree_unflatten(in_tree, avals_of(ops_flat))
  probes = [ref.probe_closed_refs(f) for f in funs]
  traced = [trace_fun(p, args_avals, what, debug_fun=f) for (p, _), f in zip(probes, funs)]
  refs = []
  for _, found in probes:
    refs += [r for r in found if not any(r is q for q in refs)]
  if refs:  # Refs the branches close over: passed in and returned (their values)
    gs = [ref.with_ref_values(f, refs) for f in funs]
    out, vals = _bind_branches(what, index, gs, names,
                               (*operands, [ref.get(r) for r in refs]), reverse)
    for r, v in zip(refs, vals):
      ref.set(r, ..., v)
    return out
  # As JAX: a branch's constants become operands (constvars of the enclosing jaxpr).
  traced = [(_consts_as_invars(c), [*c.consts, *cs], t) for c, cs, t in traced]
  (c0, _, tree0), f0 = traced[0], funs[0]
  for (c, _, tree), f, name in zip(traced[1:], funs[1:], names[1:]):
    _check_outputs(what, names[0], name, f0, f, tree0, c0.out_avals, tree, c.out_avals)
  # One list of closed-over tracers for all branches; each branch ignores the others'.
  consts, pos = [], {}
  for _, cs, _ in traced:
    for c in cs:
      if id(c) not in pos:
        pos[id(c)] = len(consts)
        consts.append(c)
  branches = []
  for closed, cs, _ in traced:
    j = closed.jaxpr
    cvars = [Var(core.get_aval(c)) for c in consts]
    for v, c in zip(j.invars[:len(cs)], cs):
      cvars[pos[id(c)]] = v
    branches.append(_with_invars(closed, cvars + j.invars[len(cs):]))
  if reverse:
    branches.reverse()
  fwds = []
  for br in branches:
    where = {v: i for i, v in enumerate(br.jaxpr.invars)}
    fwds.append([where.get(v) if type(v) is Var else None for v in br.jaxpr.outvars])
  fwd = [f[0] if f[0] is not None and len(set(f)) == 1 else None for f in zip(*fwds)]
  if any(f is not None for f in fwd):
    keep = [i for i, f in enumerate(fwd) if f is None]
    branches = [ClosedJaxpr(pe.dce_jaxpr(Jaxpr(
        b.jaxpr.constvars, b.jaxpr.invars, [b.jaxpr.outvars[i] for i in keep], b.jaxpr.eqns,
        b.jaxpr.debug_info)), b.consts) for b in branches]
  all_ins = consts + ops_flat
  effects = any(core.jaxpr_has_effects(b) for b in branches)  # (run though all forward)
  outs = iter(cond_p.bind(index, *all_ins, branches=tuple(branches))
              if effects or any(f is None for f in fwd) else ())
  out = [next(outs) if f is None else all_ins[f] for f in fwd]
  return tree_util.tree_unflatten(tree0, out)


def _consts_as_invars(closed: ClosedJaxpr) -> ClosedJaxpr:
  j = closed.jaxpr
  if not j.constvars:
    return closed
  return ClosedJaxpr(Jaxpr([], [*j.constvars, *j.invars], j.outvars, j.eqns, j.debug_info),
                     [])


_NO_OPERAND = object()


def _operands(operands, operand):
  if operand is _NO_OPERAND:
    return operands
  if operands:
    raise TypeError(f"if 'operand' keyword is passed then no positional operands can be "
                    f"passed, got operand={operand!r} and positional operands {operands}")
  return (operand,)


def _is_concrete(x) -> bool:
  return not isinstance(x, Tracer) or x.to_concrete_value() is not None


def _concrete_value(x):
  if isinstance(x, Tracer):
    return np.asarray(x.to_concrete_value())
  return np.asarray(getattr(x, "_value", x))


def cond(pred, true_fun: Callable, false_fun: Callable, *operands, operand=_NO_OPERAND):
  """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``. Both branches are
  traced (their outputs must have equal types); only one runs."""
  if not (callable(true_fun) and callable(false_fun)):
    raise TypeError("lax.cond: true_fun and false_fun arguments should be callable.")
  operands = _operands(operands, operand)
  if pred is None:
    raise TypeError("cond predicate is None")
  if isinstance(pred, Sequence) or np.ndim(pred) != 0:
    raise TypeError(f"Pred must be a scalar, got {pred} of " +
                    (f"type {type(pred)}" if isinstance(pred, Sequence)
                     else f"shape {np.shape(pred)}."))
  try:
    pred_dtype = dtypes.result_type(pred)
  except TypeError:
    raise TypeError(f"Pred type must be either boolean or number, got {pred}.") from None
  if pred_dtype.kind != "b" and pred_dtype.kind not in "iuf":
    raise TypeError(f"Pred type must be either boolean or number, got {pred_dtype}.")
  if config.jax_disable_jit and _is_concrete(pred):
    return true_fun(*operands) if _concrete_value(pred) else false_fun(*operands)
  if isinstance(pred, Tracer):
    if pred_dtype.kind != "b":
      pred = lax.ne(pred, lax._const(pred, 0))
    index = lax.convert_element_type(pred, np.int32)
  else:
    index = ArrayImpl(np.int32(bool(_concrete_value(pred))), False)
  # cond_p's branches are (false, true); the checks name true_fun first, as JAX.
  return _bind_branches("cond", index, (true_fun, false_fun), ("true_fun", "false_fun"),
                        operands, reverse=True)


def switch(index, branches: Sequence[Callable], *operands, operand=_NO_OPERAND):
  """``branches[clamp(0, index, len(branches) - 1)](*operands)``."""
  branches = tuple(branches)
  if not all(callable(b) for b in branches):
    raise TypeError("lax.switch: branches argument should be a sequence of callables.")
  operands = _operands(operands, operand)
  if np.ndim(index) != 0:
    raise TypeError(f"Branch index must be scalar, got {index} of shape {np.shape(index)}.")
  try:
    index_dtype = dtypes.result_type(index)
  except TypeError:
    raise TypeError(f"Index type must be an integer, got {index}.") from None
  if index_dtype.kind not in "iu":
    raise TypeError(f"Index type must be an integer, got {index} as {index_dtype}")
  if not branches:
    raise ValueError("Empty branch sequence")
  if len(branches) == 1:
    return branches[0](*operands)
  n = len(branches)
  if config.jax_disable_jit and _is_concrete(index):
    return branches[int(np.clip(_concrete_value(index), 0, n - 1))](*operands)
  if isinstance(index, Tracer):
    index = lax.clamp(np.int32(0), lax.convert_element_type(index, np.int32),
                      np.int32(n - 1))
  else:
    index = ArrayImpl(np.int32(np.clip(_concrete_value(index), 0, n - 1)), False)
  return _bind_branches("switch", index, branches,
                        ("branch 0",) + tuple(f"branch{i}" for i in range(1, n)), operands)


def platform_dependent(*args, default=None, **per_platform):
  """``per_platform[platform](*args)`` for the platform pyjax runs on ('cpu', or 'cuda'
  with a GPU), else ``default(*args)``. pyjax picks the branch when tracing (JAX stages
  a ``platform_index`` and a cond over the branches, lowered for each platform)."""
  branches = []
  for pname, pbranch in per_platform.items():
    if not callable(pbranch):
      raise TypeError(f"lax.platform_dependent: the '{pname}' branch must be a callable.")
    if pname == "gpu":
      raise ValueError("Use 'cuda' or 'rocm' for lax.platform_dependent.")
    for ps, b in branches:
      if b == pbranch:
        ps.append(pname)
        break
    else:
      branches.append(([pname], pbranch))
  platforms = tuple(tuple(ps) for ps, _ in branches)
  if default is not None:
    if not callable(default):
      raise TypeError("lax.platform_dependent: the 'default' branch must be a callable.")
    branches.append((None, default))
    platforms = platforms + (None,)
  platform = "cuda" if devices.default_backend() == "gpu" else "cpu"
  for ps, b in branches:
    if ps is None or platform in ps:
      return b(*args)
  staged = not isinstance(core.trace_ctx.trace, core.EvalTrace)
  if staged and len(branches) == 1:  # JAX: a one-branch switch is its branch
    return branches[0][1](*args)
  raise NotImplementedError(f"MLIR translation rule for primitive "
                            f"'platform_index(platforms={platforms})' not found for "
                            f"platform {platform}")

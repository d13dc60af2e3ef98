"""``jit``: trace once per signature, lower to StableHLO, compile with IREE.

``jit`` is also a primitive (``jit_p``, printed ``jit[name=... jaxpr=...]`` as in
JAX 0.10) carrying its ClosedJaxpr, so a jitted function called under another
transformation (grad, vmap, make_jaxpr, an outer jit) is one equation there and
composes. At the top level (the EvalTrace) a call takes the fast path: flatten the
arguments, look the signature up, call the compiled executable (dispatch.py).
"""
from __future__ import annotations

import functools
import math
import weakref
from typing import Callable, Sequence

from pyjax._src import (api_util, core, devices as devices_mod, dispatch, monitoring, ref,
                        tree_util)
from pyjax._src import sharding as sharding_mod
from pyjax._src import multiprocess
from pyjax._src.array import ArrayImpl, GlobalArray, PendingArray, asarray_value
from pyjax._src.caches import LRUCache, put_bounded, register_clear
from pyjax._src.config import config
from pyjax._src.core import ClosedJaxpr, Primitive
from pyjax._src.interpreters import ad, batching, lowering
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.mesh import AxisType, Mesh, get_concrete_mesh
from pyjax._src.sharding import (NamedSharding, PartitionSpec, Sharding, aval_sharding,
                                 spec_axes)

# ---------------------------------------------------------------- the primitive

jit_p = Primitive("jit")
jit_p.multiple_results = True


def _jit_impl(*args, jaxpr: ClosedJaxpr, name: str, donated_invars=(), keep_unused=False,
              inline=False, **_):
  if dispatch.in_eager_tier():  # a tiered call's eager run: no compile of its own
    return core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *args)
  return dispatch.run_closed_jaxpr(jaxpr, name, args, donated_invars)


def _jit_abstract_eval(*avals, jaxpr: ClosedJaxpr, **_):
  return jaxpr.out_avals


def _jit_lower(ctx, *args, jaxpr: ClosedJaxpr, name: str, **_):
  return ctx.call(jaxpr.jaxpr, jaxpr.consts, args, name)


class _Name(str):
  """A name printed bare (``name=f``), not quoted."""


class _Unspecified:
  """An argument or result of a jit with shardings whose sharding is not given."""

  def __repr__(self):
    return "UnspecifiedValue"


UNSPECIFIED = _Unspecified()


def _jit_pp_params(params):
  out = {"name": _Name(params["name"])}
  if any(params.get("donated_invars", ())):
    out["donated_invars"] = params["donated_invars"]
  if "in_shardings" in params:  # (present only when some sharding is given)
    out["in_shardings"] = params["in_shardings"]
  out["jaxpr"] = params["jaxpr"]
  if "out_shardings" in params:
    out["out_shardings"] = params["out_shardings"]
  return out


def _jit_pp_seed_names(eqn, context):
  """The inner jaxpr's binders take the names of the equation's operands and results."""
  inner = eqn.params["jaxpr"].jaxpr
  if inner not in context.shared_jaxprs:
    context.suggest_same_var_names(inner.invars, eqn.invars)
    context.suggest_same_var_names(inner.outvars, eqn.outvars)


jit_p.def_impl(_jit_impl)
jit_p.def_abstract_eval(_jit_abstract_eval)
jit_p.lower = _jit_lower
jit_p.pp_params = _jit_pp_params
jit_p.pp_seed_names = _jit_pp_seed_names
jit_p.pp_keep_order = True


# ---------------------------------------------------------------- jit: autodiff and vmap rules


def _jit_jvp(primals, tangents, *, jaxpr: ClosedJaxpr, name: str, **params):
  """The JVP of a jit is a jit of the JVP jaxpr (primals, nonzero tangents)."""
  nz = [type(t) is not ad.Zero for t in tangents]
  in_avals = [v.aval for v in jaxpr.jaxpr.invars]
  n = len(in_avals)
  out_nz = []

  def jvp_fun(*args):
    it = iter(args[n:])
    tans = [next(it) if z else ad.Zero(ad.tangent_aval(a)) for z, a in zip(nz, in_avals)]
    out_p, out_t = ad.jvp_flat(
        lambda *xs: core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *xs), list(args[:n]), tans)
    out_nz[:] = [type(t) is not ad.Zero for t in out_t]
    return out_p + [t for t in out_t if type(t) is not ad.Zero]

  t_avals = [ad.tangent_aval(a) for a, z in zip(in_avals, nz) if z]
  jvp_jaxpr, consts = pe.trace_to_jaxpr(jvp_fun, in_avals + t_avals)
  outs = jit_p.bind(*primals, *[t for t in tangents if type(t) is not ad.Zero],
                    jaxpr=ClosedJaxpr(jvp_jaxpr, consts), name=f"jvp({name})",
                    **_jit_params_for(params, len(primals) + len(t_avals)))
  m = len(jaxpr.jaxpr.outvars)
  it = iter(outs[m:])
  out_avals = [v.aval for v in jaxpr.jaxpr.outvars]
  return outs[:m], [next(it) if z else ad.Zero(ad.tangent_aval(a))
                    for z, a in zip(out_nz, out_avals)]


def _jit_params_for(params, n_in):
  """Params of a derived jit (jvp/transpose/partial eval/vmap): nothing donated, no
  shardings (its arguments and results are not the original ones)."""
  out = dict(params)
  out.pop("in_shardings", None)
  out.pop("out_shardings", None)
  if "donated_invars" in out:
    out["donated_invars"] = (False,) * n_in
  return out


def _jit_partial_eval(trace, args, params):
  """Known inputs run as one jit on the parent trace; the rest is staged as a second
  jit over the residuals and the unknown inputs (so both halves stay compiled)."""
  jaxpr, name = params["jaxpr"], params["name"]
  rest = {k: v for k, v in params.items() if k not in ("jaxpr", "name")}
  unknowns = [not trace.is_known(a) for a in args]
  known, unknown, out_unknowns, num_res = pe.partial_eval_jaxpr(jaxpr, unknowns)
  known_args = [a for a, u in zip(args, unknowns) if not u]
  known_outs = trace.parent.process_primitive(
      jit_p, known_args, dict(jaxpr=known, name=name,
                              **_jit_params_for(rest, len(known_args))))
  n_known_out = len(known_outs) - num_res
  residuals = known_outs[n_known_out:]
  unk_args = list(residuals) + [a for a, u in zip(args, unknowns) if u]
  unk_outs = pe.DynamicJaxprTrace.process_primitive(
      trace, jit_p, unk_args, dict(jaxpr=unknown, name=name,
                                   **_jit_params_for(rest, len(unk_args))))
  k, u = iter(known_outs[:n_known_out]), iter(unk_outs)
  return [next(u) if unk else next(k) for unk in out_unknowns]


def _jit_transpose(cts, *args, jaxpr: ClosedJaxpr, name: str, **params):
  """Transposes the inner jaxpr into a new jit (the backward pass stays compiled)."""
  undef = [ad.is_undefined_primal(a) for a in args]
  in_avals = [v.aval for v in jaxpr.jaxpr.invars]
  out_avals = [v.aval for v in jaxpr.jaxpr.outvars]
  known = [a for a, u in zip(args, undef) if not u]
  cts = ad.instantiate_cts(cts, out_avals)

  def transposed(*vals):
    kv, cv = iter(vals[:len(known)]), vals[len(known):]
    full = [ad.UndefinedPrimal(a) if u else next(kv) for a, u in zip(in_avals, undef)]
    res = ad.backward_pass(jaxpr.jaxpr, jaxpr.consts, full, list(cv))
    return [ad.zeros_like_aval(a) if r is None else r
            for r, a, u in zip(res, in_avals, undef) if u]

  t_jaxpr, consts = pe.trace_to_jaxpr(
      transposed, [core.get_aval(k) for k in known] + [core.get_aval(c) for c in cts])
  outs = iter(jit_p.bind(*known, *cts, jaxpr=ClosedJaxpr(t_jaxpr, consts),
                         name=f"transpose({name})",
                         **_jit_params_for(params, len(known) + len(cts))))
  return [next(outs) if u else None for u in undef]


def _jit_batch(vals, dims, *, jaxpr: ClosedJaxpr, axis_name=None, **params):
  new, out_dims = batching.batch_jaxpr(jaxpr, batching.batch_size(vals, dims), dims,
                                       axis_name)
  params.pop("in_shardings", None)  # (they were for the unbatched shapes)
  params.pop("out_shardings", None)
  return jit_p.bind(*vals, jaxpr=new, **params), out_dims


jit_p.jvp = _jit_jvp
jit_p.partial_eval = _jit_partial_eval
jit_p.transpose = _jit_transpose
jit_p.batch = _jit_batch
jit_p.batch_with_axis_name = True


# ---------------------------------------------------------------- argument handling


def _hash_static(v):
  try:
    hash(v)
  except TypeError as e:
    raise ValueError(
        f"Non-hashable static arguments are not supported. An error occurred while trying "
        f"to hash an object of type {type(v)}, {v}. The error was:\n"
        f"{type(e).__name__}: {e}\n") from None
  return v


class _Entry:
  """One traced signature: its jaxpr, output tree and compiled call."""
  __slots__ = ("closed", "out_tree", "compiled", "tracer_consts", "on_gpu", "one_leaf",
               "ref_pos", "closed_refs", "has_refs", "placements", "constraint_mesh",
               "in_tree", "unhoisted")

  def __init__(self, closed, out_tree, tracer_consts, ref_pos=(), closed_refs=(),
               unhoisted=None):
    self.closed = closed
    # With tracer_consts: the jaxpr keeping them as constants, in tracing order (what
    # make_jaxpr shows); None otherwise.
    self.unhoisted = unhoisted
    self.out_tree = out_tree
    # The argument leaves that are Refs and the Refs the function closes over: the jaxpr
    # takes their values (the closed-over ones after the arguments) and returns their
    # final values after its outputs (see ``_trace``, ``_call_with_refs``).
    self.ref_pos = ref_pos
    self.closed_refs = closed_refs
    self.has_refs = bool(ref_pos or closed_refs)
    # The result is the single output itself (not None, whose tree is one node too).
    self.one_leaf = out_tree.num_nodes == 1 and out_tree.num_leaves == 1
    self.tracer_consts = tracer_consts
    self.compiled = None  # for the CPU
    self.on_gpu = {}  # GPU Device -> its compiled call
    self.placements = {}  # arguments' placements -> results' (jit with shardings)
    # The mesh of the jaxpr's first multi-device sharding constraint (None: none): its
    # results get shardings even from unsharded arguments.
    self.constraint_mesh = _constraint_mesh(closed.jaxpr)
    self.in_tree = None  # the (args, kwargs) structure it was traced for (``_trace``)


# ---------------------------------------------------------------- jit with shardings
# One program computes the global arrays (a sharding names which slice each device
# holds, over one shared host buffer), so shardings never change what runs: in_shardings
# are checked and recorded, and each result's sharding is out_shardings' or, unspecified,
# the one propagated through the jaxpr by the simple rules below (as GSPMD gives in the
# common cases: elementwise keeps the operands' sharding, a reduction drops the reduced
# dimensions, a matmul keeps the batch and free dimensions; anything else: replicated).


def _check_spec_leaves(tree, what):
  """``tree`` unchanged, after JAX's check of its leaves (checked when jitting)."""
  if tree is None:
    return None
  for leaf in tree_util.tree_leaves(tree, is_leaf=lambda x: x is None):
    if leaf is not None and not isinstance(leaf, (Sharding, PartitionSpec)):
      raise TypeError(f"{what} leaf specifications are expected to be PartitionSpec "
                      f"instances or None, but got {leaf}")
  return tree


def _placement(s):
  """What an array's ``_device`` holds for sharding ``s``: a Device or a multi-device
  Sharding."""
  if isinstance(s, sharding_mod.SingleDeviceSharding):
    return s._device
  if s.num_devices == 1:
    return s._device_assignment[0]
  return s


def _as_sharding(p):
  return sharding_mod.SingleDeviceSharding(p) if isinstance(p, devices_mod.Device) else p


def _flat_in_shardings(in_sh, dyn, dkw):
  """in_shardings broadcast over the flat dynamic arguments (None: unspecified), with
  JAX's errors for a prefix that does not fit and for keyword arguments."""
  if dkw:
    raise ValueError("pjit does not support kwargs when in_shardings is specified.")
  prefix = tuple(in_sh) if isinstance(in_sh, list) else in_sh
  try:
    flat = tree_util.broadcast_prefix(prefix, tuple(dyn), is_leaf=lambda x: x is None)
  except ValueError as e:
    if isinstance(prefix, tuple) and len(prefix) != len(dyn):
      raise ValueError(
          "pjit in_shardings specification must be a tree prefix of the positional "
          "arguments tuple. In particular, pjit in_shardings must either be a Sharding, "
          "a PartitionSpec, or a tuple of length equal to the number of positional "
          f"arguments. But pjit in_shardings is the wrong length: got a tuple or list of "
          f"length {len(prefix)} for an args tuple of length {len(dyn)}.") from None
    raise ValueError(f"pjit in_shardings specification must be a tree prefix of the "
                     f"positional arguments tuple. {e}") from None
  return [None if s is None else sharding_mod.sharding_from_spec(s, "jit", "in_shardings")
          for s in flat]


def _in_placements(in_sh, split, leaves):
  """Each flat argument's placement: in_shardings' (checked against a committed
  argument's own), else a committed argument's, else None. ``split()``: the dynamic
  positional and keyword arguments."""
  owns = [x._device if isinstance(x, ArrayImpl) else None for x in leaves]
  if in_sh is None:
    return owns
  flat = _flat_in_shardings(in_sh, *split())
  out = []
  for x, s, own in zip(leaves, flat, owns):
    if s is None:
      out.append(own)
      continue
    aval = core.get_aval(x)
    if own is not None:
      cur = _as_sharding(own)
      if not cur.is_equivalent_to(s, aval.ndim):
        raise ValueError(
            f"Sharding passed to jit does not match the sharding on the respective arg. "
            f"Got jit sharding: {s},\narg sharding: {cur} for arg type: "
            f"{aval.str_short(short_dtypes=False)}")
    s.shard_shape(aval.shape)  # JAX's IndivisibleError
    out.append(_placement(s))
  return out


def _check_same_devices(fun, dbg, leaves, placements):
  """JAX's error when two arguments are committed to different sets of devices."""
  first = None
  one = next((p for p in placements if p is not None), None)
  if all(p is None or p is one for p in placements):
    return
  for i, p in enumerate(placements):
    if p is None:
      continue
    ids = sorted(d.id for d in _as_sharding(p)._device_assignment)
    if first is None:
      first = (i, ids)
    elif ids != first[1]:
      name = getattr(fun, "__qualname__", api_util.fun_name(fun))

      def describe(k, ids):
        names = dbg.arg_names if dbg is not None else ()
        arg = names[k] if k < len(names) else f"args[{k}]"
        shape = core.get_aval(leaves[k]).str_short(short_dtypes=False)
        return (f"argument {arg} of {name} with shape {shape} and with device ids {ids} "
                f"on platform CPU")
      raise ValueError(f"Received incompatible devices for jitted computation. Got "
                       f"{describe(*first)} and {describe(i, ids)}")


def _out_shardings_flat(out_sh, out_tree):
  """out_shardings broadcast over the result's leaves (None: unspecified)."""
  if out_sh is None:
    return [None] * out_tree.num_leaves
  full = tree_util.tree_unflatten(out_tree, [0] * out_tree.num_leaves)
  prefix = tuple(out_sh) if isinstance(out_sh, list) else out_sh
  try:
    flat = tree_util.broadcast_prefix(prefix, full, is_leaf=lambda x: x is None)
  except ValueError:
    errs = tree_util.prefix_errors(prefix, full, is_leaf=lambda x: x is None)
    details = "\n".join(str(e("pjit out_shardings")) for e in errs)
    raise ValueError(f"Mismatch details ({len(errs)} found):\n{details}") from None
  return [None if s is None else sharding_mod.sharding_from_spec(s, "jit", "out_shardings")
          for s in flat]


def _out_placements(entry, placements, out_sh):
  """Each result's placement (None: as without shardings), cached on the entry by the
  arguments' placements."""
  # keyed by identity (the same sharding objects recur from call to call); the
  # placements are kept with the result, so a reused id cannot match a dead object
  key = tuple(map(id, placements))
  cached = entry.placements.get(key)
  if cached is not None and all(a is b for a, b in zip(cached[0], placements)):
    return cached[1]
  eq_key = ("eq", *placements)  # equal shardings, new objects
  cached = entry.placements.get(eq_key)
  if cached is not None:
    put_bounded(entry.placements, key, (tuple(placements), cached), 64)
    return cached
  avals = entry.closed.out_avals
  outs = _out_shardings_flat(out_sh, entry.out_tree)
  mesh = next((p.mesh for p in placements if isinstance(p, NamedSharding)),
              entry.constraint_mesh)
  if mesh is not None and not all(outs):
    shardings = [_as_sharding(p) if p is not None else None for p in placements]
    invars = entry.closed.jaxpr.invars
    in_dims = [_dims_of(s, v.aval.ndim) for s, v in zip(shardings, invars)]
    dims = _propagate(entry.closed.jaxpr, in_dims, mesh.shape)
    outs = [o if o is not None else _named_from_dims(mesh, d, v.aval)
            for o, d, v in zip(outs, dims, entry.closed.jaxpr.outvars)]
  result = []
  for o, a in zip(outs, avals):
    if o is not None:
      o.shard_shape(a.shape)  # JAX's IndivisibleError
      o = _placement(o)
    result.append(o)
  put_bounded(entry.placements, key, (tuple(placements), result), 64)
  put_bounded(entry.placements, eq_key, result, 64)
  return result


def _constraint_mesh(jaxpr):
  """The mesh of ``jaxpr``'s first sharding constraint or nested jit's sharding (inner
  jaxprs included); None when it has none."""
  for eqn in jaxpr.eqns:
    if eqn.primitive.name == "sharding_constraint":
      s = eqn.params.get("sharding")
      if isinstance(s, NamedSharding) and not isinstance(s.mesh, Mesh):
        m = get_concrete_mesh()  # (a spec traced under set_mesh: its mesh is this one)
        if m is not None and not m.empty and m.size > 1:
          return m
      elif isinstance(s, NamedSharding) and s.num_devices > 1:
        return s.mesh
    for s in (*_given(eqn, "in_shardings"), *_given(eqn, "out_shardings")):
      if isinstance(s, NamedSharding) and s.num_devices > 1:  # a nested jit's
        return s.mesh
    for v in eqn.params.values():
      for j in (v if isinstance(v, (tuple, list)) else (v,)):
        if isinstance(j, (ClosedJaxpr, core.Jaxpr)):
          m = _constraint_mesh(j.jaxpr if isinstance(j, ClosedJaxpr) else j)
          if m is not None:
            return m
  return None


def _given(eqn, name):
  """A jit equation's in_shardings/out_shardings (a tuple; empty when absent)."""
  v = eqn.params.get(name) if eqn.primitive is jit_p else None
  return v if isinstance(v, tuple) else ()


def _dims_of(s, ndim):
  """A NamedSharding as the mesh axes of each dimension; None: no sharding known."""
  if not isinstance(s, NamedSharding):
    return None
  return tuple(spec_axes(e) for e in s.spec._normalized_spec_for_aval(ndim).partitions)


def _named_from_dims(mesh, dims, aval):
  """The NamedSharding JAX reports for a result: the aval's own (explicit sharding in
  types, when avals carry one), else the propagated dims, written as JAX writes them
  (trailing unsharded dimensions dropped on Auto meshes, kept on Explicit ones)."""
  own = getattr(aval, "sharding", None)
  if isinstance(own, NamedSharding):
    return NamedSharding(mesh, own.spec)
  if dims is None:
    return NamedSharding(mesh, PartitionSpec())
  parts = [None if not a else a[0] if len(a) == 1 else a for a in dims]
  if not all(t == AxisType.Explicit for t in mesh.axis_types):
    while parts and parts[-1] is None:
      parts.pop()
  return NamedSharding(mesh, PartitionSpec(*parts))


def _propagate(jaxpr, in_dims, sizes):
  """The dims (``_dims_of``) of ``jaxpr``'s results, given those of its inputs
  (``sizes``: the mesh's axis sizes)."""
  env = {}
  for v, d in zip(jaxpr.invars, in_dims):
    env[v] = d
  read = lambda v: env.get(v) if type(v) is not core.Literal else None
  for eqn in jaxpr.eqns:
    ins = [read(v) for v in eqn.invars]
    if all(d is None for d in ins) and eqn.primitive.name != "sharding_constraint" \
        and _inner_jaxpr(eqn) is None:
      continue
    for v, d in zip(eqn.outvars, _eqn_dims(eqn, ins, sizes)):
      env[v] = d
  return [read(v) for v in jaxpr.outvars]


def _replicated(v):
  return tuple(() for _ in v.aval.shape)


def _merge(dims_list, ndim):
  """Elementwise: each dimension takes the first operand's axes not used elsewhere."""
  out, used = [], set()
  for k in range(ndim):
    pick = ()
    for d in dims_list:
      if d[k] and not used.intersection(d[k]):
        pick = d[k]
        break
    used.update(pick)
    out.append(pick)
  return tuple(out)


def _inner_jaxpr(eqn):
  for name in ("jaxpr", "call_jaxpr", "fun_jaxpr"):
    j = eqn.params.get(name)
    if j is not None:
      return j.jaxpr if isinstance(j, ClosedJaxpr) else j
  return None


def _eqn_dims(eqn, ins, sizes):
  if eqn.primitive.name == "reshape":
    return _dims_reshape(eqn, ins, sizes)
  rule = _dims_rules.get(eqn.primitive.name)
  if rule is not None:
    return rule(eqn, ins)
  inner = _inner_jaxpr(eqn)
  if isinstance(inner, core.Jaxpr) and len(inner.invars) == len(ins):
    given = _given(eqn, "in_shardings")
    ins = [_dims_of(g, v.aval.ndim) or d for g, d, v in zip(given, ins, eqn.invars)] + \
        ins[len(given):]
    outs = _propagate(inner, ins, sizes)
    given = _given(eqn, "out_shardings")  # (a nested jit's own)
    return [_dims_of(g, v.aval.ndim) or d for g, d, v in zip(given, outs, eqn.outvars)] + \
        outs[len(given):]
  if all(d is None for d in ins):
    return [None] * len(eqn.outvars)
  if len(eqn.outvars) == 1:  # elementwise: operands of the result's shape, or scalars
    out = eqn.outvars[0]
    shape = out.aval.shape
    def fits(s):  # the result's shape, or broadcast to it along size-1 dimensions
      return len(s) == len(shape) and all(a == b or a == 1 for a, b in zip(s, shape))
    if all(d is None or fits(v.aval.shape) or not v.aval.shape
           for v, d in zip(eqn.invars, ins)):
      same = [d for v, d in zip(eqn.invars, ins) if d is not None and v.aval.shape == shape]
      return [_merge(same, len(shape))]
  return [_replicated(v) for v in eqn.outvars]


def _dims_broadcast(eqn, ins):
  (d, *_), x = ins, eqn.invars[0]
  shape, bdims = eqn.params["shape"], eqn.params["broadcast_dimensions"]
  res = [()] * len(shape)
  if d is not None:
    for i, od in enumerate(bdims):
      if x.aval.shape[i] == shape[od]:
        res[od] = d[i]
  return [tuple(res)]


def _dims_transpose(eqn, ins):
  return [tuple(ins[0][p] for p in eqn.params["permutation"])]


def _dims_reduce(eqn, ins):
  axes = set(eqn.params["axes"])
  return [tuple(a for i, a in enumerate(ins[0]) if i not in axes)]


def _dims_squeeze(eqn, ins):
  drop = {i % len(ins[0]) for i in eqn.params["dimensions"]}
  return [tuple(a for i, a in enumerate(ins[0]) if i not in drop)]


def _dims_reshape(eqn, ins, sizes):
  """A dimension starting after as many elements as one of the operand's keeps that
  dimension's axes when it is that dimension or its shards tile it (a split or merge of
  the major dimension); the others are replicated."""
  d, old, new = ins[0], eqn.invars[0].aval.shape, eqn.outvars[0].aval.shape
  starts, p = {}, 1
  for i, n in enumerate(old):
    starts[p] = (n, d[i])
    p *= n
  res, p = [], 1
  for m in new:
    n, axes = starts.get(p, (None, ()))
    k = math.prod(sizes[a] for a in axes)
    res.append(axes if n is not None and (n == m or (n % k == 0 and m % k == 0))
               else ())
    p *= m
  return [tuple(res)]


def _dims_dot(eqn, ins):
  (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
  x, y = eqn.invars
  dl = ins[0] if ins[0] is not None else tuple(() for _ in x.aval.shape)
  dr = ins[1] if ins[1] is not None else tuple(() for _ in y.aval.shape)
  out = [dl[i] or dr[j] for i, j in zip(lb, rb)]
  out += [dl[i] for i in range(len(dl)) if i not in lc and i not in lb]
  out += [dr[i] for i in range(len(dr)) if i not in rc and i not in rb]
  res, used = [], set()
  for a in out:
    a = () if used.intersection(a) else a
    used.update(a)
    res.append(a)
  return [tuple(res)]


def _dims_slice(eqn, ins):
  """Dimensions left whole keep their axes."""
  d, x, out = ins[0], eqn.invars[0], eqn.outvars[0]
  if d is None:
    return [_replicated(out)]
  return [tuple(a if n == m else () for a, n, m in zip(d, x.aval.shape, out.aval.shape))]


def _dims_concatenate(eqn, ins):
  k, out = eqn.params["dimension"], eqn.outvars[0]
  ds = [tuple(() if i == k else a for i, a in enumerate(d)) for d in ins if d is not None]
  return [_merge(ds, out.aval.ndim)]


def _dims_constraint(eqn, ins):
  s = eqn.params.get("sharding")
  dims = _dims_of(s, eqn.outvars[0].aval.ndim)
  return [dims if dims is not None else ins[0]]


_dims_rules = {
    "broadcast_in_dim": _dims_broadcast, "transpose": _dims_transpose,
    "squeeze": _dims_squeeze, "dot_general": _dims_dot,
    "slice": _dims_slice, "dynamic_slice": lambda e, ins: _dims_slice(e, ins[:1]),
    "concatenate": _dims_concatenate, "sharding_constraint": _dims_constraint,
    "device_put": lambda e, ins: list(ins),
    **{name: _dims_reduce for name in (
        "reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and",
        "reduce_or", "reduce_xor", "argmax", "argmin")},
}


# ---------------------------------------------------------------- jit

# Signatures (with their compiled programs) one jitted function keeps; the oldest traced
# goes first beyond this.
MAX_SIGNATURES = 1024


class JitWrapped:
  """What ``jit(fun)`` returns: callable, with ``lower``/``trace``/``eval_shape``."""

  def __init__(self, fun, static_argnums, static_argnames, donate_argnums, donate_argnames,
               device, backend, inline, keep_unused, in_shardings=None,
               out_shardings=None):
    if not callable(fun):
      raise TypeError(f"jax.jit: fun must be callable, got {fun!r} of type {type(fun)}.")
    functools.update_wrapper(self, fun)
    self._fun = fun
    self._static_nums, self._static_names = api_util.resolve_argnums(
        fun, static_argnums, static_argnames)
    self._donate_nums, self._donate_names = api_util.resolve_argnums(
        fun, donate_argnums, donate_argnames)
    api_util.validate_argnums(fun, self._static_nums, self._static_names, "static")
    api_util.validate_argnums(fun, self._donate_nums, self._donate_names, "donate")
    self._donate_nums = tuple(i for i in self._donate_nums if i not in self._static_nums)
    self._device = _requested_device(device, backend)
    self._inline = inline
    self._keep_unused = keep_unused
    self._name = getattr(fun, "__name__", type(fun).__name__)
    self._cache: dict = {}
    _jit_functions.add(self)
    self._in_sh = _check_spec_leaves(in_shardings, "in_shardings")
    self._out_sh = _check_spec_leaves(out_shardings, "out_shardings")
    # What a compiled program of this wrapper depends on besides the trace: wrappers
    # that agree share their traces' compiled programs (``_TraceCache``).
    self._options = ((self._donate_nums, self._donate_names, self._device)
                     if in_shardings is None and out_shardings is None else object())
    self._simple = not (self._static_nums or self._static_names or self._donate_nums
                        or self._donate_names or in_shardings is not None
                        or out_shardings is not None)

  def __repr__(self):
    return f"<PjitFunction of {self._fun!r}>"

  def __get__(self, obj, objtype=None):
    if obj is None:
      return self
    return functools.partial(self, obj)

  # ------------------------------------------------------------ signature -> entry
  def _split(self, args, kwargs):
    """(static key, dynamic positional args, dynamic kwargs, donated flags per arg)."""
    n = len(args)
    snums = tuple(i % n for i in self._static_nums if -n <= i < n)
    # (by type and value, as JAX's: 2 and 2.0 trace apart)
    statics = tuple((type(args[i]), _hash_static(args[i])) for i in snums)
    skw = tuple(sorted((k, type(v), _hash_static(v)) for k, v in kwargs.items()
                       if k in self._static_names))
    dyn = tuple(a for i, a in enumerate(args) if i not in snums)
    dkw = {k: v for k, v in kwargs.items() if k not in self._static_names}
    return (snums, statics, skw), dyn, dkw

  def _trace(self, static_key, dyn, dkw, args, kwargs):
    snums = static_key[0]
    leaves, in_tree = tree_util.tree_flatten((dyn, dkw))
    dbg = api_util.debug_info("jit", self._fun, args, kwargs, snums, self._static_names)
    fun, _ = api_util.static_partial(self._fun, args, snums, {
        k: v for k, v in kwargs.items() if k in self._static_names})
    ref_pos = tuple(i for i, x in enumerate(leaves) if isinstance(x, ref.Ref))
    if ref_pos:
      in_avals = [x._aval.inner_aval if i in ref_pos else
                  api_util.abstractify(x, api_util.arg_name(dbg, i), True, self._fun)
                  for i, x in enumerate(leaves)]
    else:
      in_avals = api_util.abstractify_args(leaves, dbg, True, self._fun)
    flat_fun, store = api_util.flatten_fun(fun, in_tree,
                                           check_out=functools.partial(_check_out, dbg))
    closed_refs = []

    def traced(*vals):
      """Ref arguments: the function gets a Ref over the value on this trace; Refs it
      closes over become inputs after the arguments (ref.functionalize_closed_refs).
      The final values of both follow the outputs."""
      vals = list(vals)
      cells = [ref.local_ref(vals[i], leaves[i]._aval) for i in ref_pos]
      for i, cell in zip(ref_pos, cells):
        vals[i] = cell
      with ref.functionalize_closed_refs(core.find_cur_trace()) as env:
        outs = list(flat_fun(*vals))
      closed_refs.extend(env.pairs())
      return (outs + [cell._value for cell in cells]
              + [proxy._value for _, proxy in closed_refs])
    with monitoring.timed_event(monitoring.JAXPR_TRACE_EVENT, self._name):
      raw, _, _ = api_util.trace_to_jaxpr(traced, in_avals, dbg, hoist=False)
    jaxpr, consts, tracer_consts = api_util.hoist_tracer_consts(raw.jaxpr, raw.consts)
    closed = ClosedJaxpr(jaxpr, [_as_array(c) for c in consts])
    entry = _Entry(closed, store.out_tree, tracer_consts, ref_pos,
                   tuple(r for r, _ in closed_refs), raw if tracer_consts else None)
    entry.in_tree = in_tree
    return leaves, entry

  def _call_with_refs(self, leaves, entry, outs_of):
    """Runs ``entry`` (``outs_of(inputs)``) on the values of its Ref arguments and of
    the Refs it closed over, and writes their final values back (Ref.set's checks)."""
    refs = [leaves[i] for i in entry.ref_pos] + list(entry.closed_refs)
    leaves = list(leaves)
    for i in entry.ref_pos:
      leaves[i] = ref.get(leaves[i])
    outs = outs_of(leaves + [ref.get(r) for r in entry.closed_refs])
    n = len(outs) - len(refs)
    for r, v in zip(refs, outs[n:]):
      ref.set(r, ..., v)
    return tree_util.tree_unflatten(entry.out_tree, outs[:n])

  def _donated(self, args, kwargs, static_key):
    if not (self._donate_nums or self._donate_names):
      return ()
    n = len(args)
    dnums = {i % n for i in self._donate_nums if -n <= i < n}
    flags = []
    for i, a in enumerate(args):
      if i in static_key[0]:
        continue
      flags += [i in dnums] * len(tree_util.tree_leaves(a))
    for k, v in kwargs.items():
      if k not in self._static_names:
        flags += [k in self._donate_names] * len(tree_util.tree_leaves(v))
    return tuple(flags)

  def _entry(self, args, kwargs):
    static_key, dyn, dkw = self._split(args, kwargs)
    leaves, in_tree = tree_util.tree_flatten((dyn, dkw))
    key = (in_tree, static_key, tuple(_sig(x) for x in leaves))
    entry = self._cache.get(key)
    if entry is None:
      entry = _traces.get(self, key)  # another wrapper's trace of this function
      if entry is None:
        leaves, entry = self._trace(static_key, dyn, dkw, args, kwargs)
        if not entry.tracer_consts:
          _traces.put(self, key, entry)
      if not entry.tracer_consts:
        put_bounded(self._cache, key, entry, MAX_SIGNATURES)
    return leaves, entry, static_key

  # ------------------------------------------------------------ calling
  def __call__(self, *args, **kwargs):
    if config.jax_disable_jit:
      return self._fun(*args, **kwargs)
    trace = core.trace_ctx.trace
    if self._simple and not kwargs and trace is core.eval_trace:
      # Fast path: all-array positional arguments, one cache lookup.
      key = []
      dev = None  # the one device committed arguments are on (the results are too)
      for a in args:
        if type(a) is not ArrayImpl and type(a) is not PendingArray:
          break
        d = a._device
        if d is not None:  # (sharded, or on several devices: the general path)
          if type(d) is not devices_mod.Device or (dev is not None and d is not dev):
            break
          dev = d
        b = a._buf
        key.append((b.shape, b.dtype, a.weak_type) if b is not None else _sig(a))
      else:
        key = tuple(key)
        entry = self._cache.get(key)
        if entry is None:
          _, entry, _ = self._entry(args, kwargs)
          if entry.has_refs:  # never cached here: Refs go through _call_with_refs
            return self._call_with_refs(
                list(args), entry, lambda vals: _run(entry, vals, (), self._device or dev))
          if entry.constraint_mesh is None:
            put_bounded(self._cache, key, entry, MAX_SIGNATURES)
          else:  # sharding constraints: the results' shardings are set below
            entry = None
        if entry is not None:
          c = entry.compiled
          if c is None or self._device is not None or dispatch.gpu_found or \
              dev is not None:
            outs = _run(entry, args, (), self._device or dev)
          else:
            outs = c(args, ())
          return outs[0] if entry.one_leaf else tree_util.tree_unflatten(entry.out_tree,
                                                                         outs)
    leaves, entry, static_key = self._entry(args, kwargs)
    donated = self._donated(args, kwargs, static_key)
    if entry.has_refs:
      return self._call_with_refs(
          leaves, entry, lambda vals: self._outs(trace, entry, vals, donated, args, kwargs))
    return tree_util.tree_unflatten(entry.out_tree,
                                    self._outs(trace, entry, leaves, donated, args, kwargs))

  def _outs(self, trace, entry, leaves, donated, args, kwargs):
    """The flat outputs of ``entry`` on ``leaves``: run (results placed as the
    shardings say), inlined or bound on ``trace``."""
    if trace is core.eval_trace and not entry.tracer_consts and multiprocess.active() and \
        any(type(x) is GlobalArray for x in leaves):
      return multiprocess.run_jit(entry.closed, leaves, None if self._out_sh is None else
                                  _out_shardings_flat(self._out_sh, entry.out_tree))
    if trace is core.eval_trace and not entry.tracer_consts:
      places = _in_placements(self._in_sh, lambda: self._split(args, kwargs)[1:], leaves)
      dbg = entry.closed.jaxpr.debug_info
      if self._out_sh is None and entry.constraint_mesh is None and \
          not any(isinstance(p, Sharding) for p in places):
        if any(places):  # committed to one device: so are the results
          _check_same_devices(self._fun, dbg, leaves, places)
          device = self._device or next(p for p in places if p is not None)
        else:
          device = self._device
        return _run(entry, leaves, donated, device)
      _check_same_devices(self._fun, dbg, leaves, places)
      out_places = _out_placements(entry, places, self._out_sh)
      outs = _run(entry, leaves, donated, self._device)
      for o, p in zip(outs, out_places):
        if p is not None:
          o._device = p
      return outs
    if self._inline:
      return core.eval_jaxpr(entry.closed.jaxpr, entry.closed.consts,
                             *entry.tracer_consts, *leaves)
    nt = len(entry.tracer_consts)
    return jit_p.bind(*entry.tracer_consts, *leaves, jaxpr=entry.closed, name=self._name,
                      donated_invars=(False,) * nt + tuple(donated or
                                                           (False,) * len(leaves)),
                      keep_unused=self._keep_unused, inline=self._inline,
                      **self._sharding_params(args, kwargs, entry))

  def _sharding_params(self, args, kwargs, entry):
    """The jit equation's in_shardings/out_shardings (flat; absent when not given)."""
    out = {}
    if self._in_sh is not None:
      flat = _flat_in_shardings(self._in_sh, *self._split(args, kwargs)[1:])
      out["in_shardings"] = (UNSPECIFIED,) * len(entry.tracer_consts) + tuple(
          UNSPECIFIED if s is None else s for s in flat)
    if self._out_sh is not None:
      out["out_shardings"] = tuple(UNSPECIFIED if s is None else s for s in
                                   _out_shardings_flat(self._out_sh, entry.out_tree))
    return out

  # ------------------------------------------------------------ AOT
  def trace(self, *args, **kwargs) -> "Traced":
    _, entry, _ = self._entry(args, kwargs)  # ShapeDtypeStructs trace as their avals
    return Traced(self, entry)

  def lower(self, *args, **kwargs) -> "Lowered":
    return self.trace(*args, **kwargs).lower()

  def eval_shape(self, *args, **kwargs):
    _, entry, _ = self._entry(args, kwargs)
    avals = entry.closed.out_avals
    n_refs = len(entry.ref_pos) + len(entry.closed_refs)
    outs = api_util.shape_dtype_structs(avals[:len(avals) - n_refs], entry.closed.in_avals)
    if self._out_sh is not None:  # (propagated shardings are not reported, as JAX's)
      for o, s in zip(outs, _out_shardings_flat(self._out_sh, entry.out_tree)):
        o._sharding = s
    return tree_util.tree_unflatten(entry.out_tree, outs)

  def clear_cache(self):
    self._cache.clear()
    _traces.evict(self._fun)


_jit_functions: weakref.WeakSet = weakref.WeakSet()  # every jit wrapper, for clear_caches

# The options JAX keeps in its trace context (a trace made under other values is not
# reused); pyjax's subset of them.
TRACE_CONTEXT_OPTIONS = (
    "jax_enable_x64", "jax_numpy_rank_promotion", "jax_numpy_dtype_promotion",
    "jax_default_matmul_precision", "jax_threefry_partitionable", "jax_softmax_custom_jvp",
    "jax_default_device", "jax_debug_key_reuse", "jax_disable_jit", "jax_enable_checks",
    "jax_no_tracing")


class _TraceCache:
  """Traces shared by every ``jit`` of one function, as JAX's (its ``trace_to_jaxpr``
  cache): keyed by the function, held weakly and matched by ``==`` (two bound methods of
  one object match), the call's signature (argument tree, static arguments by hash and
  ``==``, avals with weak types) and the trace context (``TRACE_CONTEXT_OPTIONS`` and
  the mesh in context). So ``jit(f)`` made twice traces ``f`` once: a global changed in
  between is not seen, side effects of tracing run once. A value is ``(options, entry)``:
  a wrapper whose donation, device or shardings differ gets a fresh ``_Entry`` over the
  same trace (its compiled program depends on them). Functions that cannot be weakly
  referenced or hashed are not shared."""

  def __init__(self, max_size: int):
    self._lru = LRUCache(max_size)

  @staticmethod
  def _key(wrapped, key):
    try:
      ref = weakref.ref(wrapped._fun)
      hash(ref)
    except TypeError:
      return None
    ctx = tuple(getattr(config, n) for n in TRACE_CONTEXT_OPTIONS)
    in_tree, static_key, sigs = key  # a Python scalar's key is its type: its aval here
    sigs = tuple(_scalar_sig(s) if type(s) is type else s for s in sigs)
    return (ref, (in_tree, static_key, sigs), ctx, get_concrete_mesh())

  def get(self, wrapped, key):
    k = self._key(wrapped, key)
    if k is None:
      return None
    hit = self._lru.get(k)
    if hit is None:
      return None
    opts, entry = hit
    if opts == wrapped._options:
      return entry
    return _Entry(entry.closed, entry.out_tree, entry.tracer_consts, entry.ref_pos,
                  entry.closed_refs)

  def put(self, wrapped, key, entry):
    k = self._key(wrapped, key)
    if k is None:
      return
    d = self._lru._d

    def drop(ref):  # the function died: its traces go
      for dead in [x for x in list(d) if x[0] is ref]:
        d.pop(dead, None)
    k = (weakref.ref(wrapped._fun, drop),) + k[1:]
    self._lru[k] = (wrapped._options, entry)

  def evict(self, fun):
    try:
      ref = weakref.ref(fun)
      for k in [k for k in list(self._lru._d) if k[0] == ref]:
        self._lru.pop(k)
    except TypeError:
      pass

  def clear(self):
    self._lru.clear()


_traces = _TraceCache(4 * MAX_SIGNATURES)


def trace_for_make_jaxpr(fun, static_argnums, args, kwargs):
  """``(closed jaxpr, out tree)`` of ``fun`` as a ``jit`` traces it (JAX's make_jaxpr is
  ``jit(fun).trace``): shared with every jit of ``fun`` (``_traces``), with jit's errors
  and debug info. Closed-over tracers stay constants, in tracing order. None when Refs
  are among the arguments or closed over (make_jaxpr shows them as Refs, not values)."""
  if any(isinstance(x, ref.Ref) for x in tree_util.tree_leaves((args, kwargs))):
    return None
  w = JitWrapped(fun, static_argnums, None, None, None, None, None, False, False)
  _, entry, _ = w._entry(args, kwargs)
  if entry.has_refs:
    return None
  return entry.unhoisted or entry.closed, entry.out_tree


def _clear_jit_caches():
  for f in list(_jit_functions):
    f._cache.clear()


register_clear(_clear_jit_caches)
# Options a trace depends on (JAX keys its jit cache on them): a change retraces.
for _name in ("jax_enable_x64", "jax_numpy_rank_promotion", "jax_numpy_dtype_promotion",
              "jax_default_matmul_precision", "jax_default_prng_impl",
              "jax_threefry_partitionable", "jax_softmax_custom_jvp", "jax_default_device"):
  config.on_update(_name, lambda _: _clear_jit_caches())


def _check_out(dbg, x):
  """An output of a traced function: a Ref cannot be one (JAX's error)."""
  err = ref.returned_ref_error(x, dbg)
  if err is not None:
    raise err


def _sig(x):
  """Cache key of one argument: its abstract signature."""
  if type(x) is ArrayImpl or type(x) is PendingArray:
    b = x._buf
    if b is not None:  # (a jit result not read yet stays so)
      key = (b.shape, b.dtype, x.weak_type)
    else:
      v = x._value
      key = (v.shape, v.dtype, x.weak_type)
    d = x._device
    if d is not None and isinstance(d, NamedSharding):  # its type may be sharded
      key += (aval_sharding(d, len(key[0])), d.mesh.abstract_mesh)
    return key
  if type(x) in (int, float, bool, complex):
    return type(x)
  try:
    a = core.get_aval(x)
  except TypeError:
    if isinstance(x, ref.Ref):  # a Ref argument: traced on its value's type
      return ("Ref", x._aval)
    return ("not a JAX type", type(x))  # (tracing it raises JAX's error, naming it)
  return (a.shape, a.dtype, a.weak_type)


def _scalar_sig(t):
  """The ``_sig`` of a tracer of the aval of a Python scalar of type ``t``."""
  a = core.get_aval(t())
  return (a.shape, a.dtype, a.weak_type)


def _as_array(c):
  return c if type(c) is ArrayImpl else asarray_value(c)


def _run(entry: _Entry, leaves, donated, device=None):
  """Runs ``entry`` on ``device``: by default where its arguments live (a GPU when one
  holds them or is the default device), else the CPU."""
  committed = device is not None
  if device is None and dispatch.gpu_found:
    device, committed = dispatch.target_device(leaves)
  if device is not None and device.platform != "cpu":
    c = entry.on_gpu.get(device)
    if c is None:
      c = entry.on_gpu[device] = dispatch.compile_closed_jaxpr(
          entry.closed, _entry_name(entry), platform="gpu", donated=donated, device=device)
    return c(leaves, donated)
  c = entry.compiled
  if c is None:
    if core.sharded_types and any(isinstance(getattr(a, "_device", None), NamedSharding)
                                  for a in leaves):
      c = entry.compiled = dispatch.ShardedCall(
          dispatch.compile_closed_jaxpr(entry.closed, _entry_name(entry), donated=donated),
          entry.closed.out_avals)
    else:
      c = entry.compiled = dispatch.compile_tiered(
          entry.closed, _entry_name(entry), donated,
          on_ready=lambda c: setattr(entry, "compiled", c))
  outs = c(leaves, donated)
  if committed:
    dispatch.commit(outs, device)
  return outs


def _entry_name(entry):
  dbg = entry.closed.jaxpr.debug_info
  return dbg.func_name if dbg is not None else "fn"


def _requested_device(device, backend):
  """The Device ``jit(device=..., backend=...)`` asks for (None: where the arguments
  live). An unknown or absent backend raises JAX's error."""
  if device is not None:
    if not isinstance(device, devices_mod.Device):
      raise TypeError(f"jit: device must be a Device, got {device!r}")
    return device
  if backend is None:
    return None
  return devices_mod.devices(backend)[0]


def jit(fun: Callable | None = None, *, in_shardings=None, out_shardings=None,
        static_argnums: int | Sequence[int] | None = None,
        static_argnames: str | Sequence[str] | None = None,
        donate_argnums: int | Sequence[int] | None = None,
        donate_argnames: str | Sequence[str] | None = None,
        keep_unused: bool = False, device=None, backend: str | None = None,
        inline: bool = False, abstracted_axes=None, compiler_options=None):
  """Compiles ``fun`` with IREE; usable as ``@jit`` or ``@partial(jit, ...)``/``@jit(...)``."""
  if fun is None:
    return lambda f: jit(f, in_shardings=in_shardings, out_shardings=out_shardings,
                         static_argnums=static_argnums, static_argnames=static_argnames,
                         donate_argnums=donate_argnums, donate_argnames=donate_argnames,
                         keep_unused=keep_unused, device=device, backend=backend,
                         inline=inline)
  return JitWrapped(fun, static_argnums, static_argnames, donate_argnums, donate_argnames,
                    device, backend, inline, keep_unused, in_shardings, out_shardings)


# ---------------------------------------------------------------- AOT stages


class Traced:
  def __init__(self, wrapped, entry):
    self._wrapped, self._entry = wrapped, entry

  @property
  def jaxpr(self) -> ClosedJaxpr:
    return self._entry.closed

  out_info = property(lambda self: self._wrapped.eval_shape)

  def lower(self) -> "Lowered":
    return Lowered(self._entry, self._wrapped._name, self._wrapped._out_sh)


class Lowered:
  """A lowered computation: ``as_text()`` is its StableHLO; ``compile()`` compiles it."""

  def __init__(self, entry, name, out_shardings=None):
    self._entry = entry
    self._name = name
    self._out_sh = out_shardings
    self._text = None

  def as_text(self, dialect: str | None = None, **_) -> str:
    if self._text is None:
      self._text = lowering.lower_jaxpr(self._entry.closed, self._name)
    return self._text

  def compiler_ir(self, dialect: str | None = None):
    return self.as_text()

  in_tree = property(lambda self: self._entry.in_tree)
  out_tree = property(lambda self: self._entry.out_tree)

  def compile(self, compiler_options=None) -> "Compiled":
    e = self._entry
    if e.compiled is None:
      e.compiled = dispatch.compile_closed_jaxpr(e.closed, self._name, self.as_text())
    return Compiled(e, self._out_sh)


class Compiled:
  """A compiled computation, callable on arguments of the lowered signature."""

  def __init__(self, entry, out_shardings=None):
    self._entry = entry
    self._out_sh = out_shardings

  def __call__(self, *args, **kwargs):
    leaves = tree_util.tree_leaves((args, kwargs))
    avals = self._entry.closed.in_avals
    if len(leaves) != len(avals):
      raise TypeError(f"Compiled function called with {len(leaves)} arguments, expected "
                      f"{len(avals)}.")
    for i, (x, a) in enumerate(zip(leaves, avals)):
      got = core.get_aval(x)
      if got.shape != a.shape or got.dtype != a.dtype:
        raise TypeError(f"Argument types differ from the types for which this computation "
                        f"was compiled. Argument {i}: expected {a.str_short()}, got "
                        f"{got.str_short()}.")
    outs = self._entry.compiled(leaves, ())
    places = [x._device if isinstance(x, ArrayImpl) else None for x in leaves]
    if self._out_sh is not None or self._entry.constraint_mesh is not None or \
        any(isinstance(p, Sharding) for p in places):  # results placed as jit's
      for o, p in zip(outs, _out_placements(self._entry, places, self._out_sh)):
        if p is not None:
          o._device = p
    return tree_util.tree_unflatten(self._entry.out_tree, outs)

  def as_text(self) -> str:
    return self._entry.compiled.text

  in_tree = property(lambda self: self._entry.in_tree)
  out_tree = property(lambda self: self._entry.out_tree)

  def cost_analysis(self):
    return None

"""``jax.shard_map``: a function of one device's shards, run on every device of a mesh.

``shard_map_p`` is one primitive carrying the per-device jaxpr (printed
``shard_map[check_vma=... in_specs=... jaxpr={...} mesh=... newly_manual_axes=...
out_specs=...]`` as in JAX 0.10.2). Every rule comes from one implementation,
``_per_device``: each input's dimensions named in its spec are split into
(mesh axis, shard) axes, the per-device jaxpr runs under one vmap per manual mesh
axis (named by that axis, so the collectives of ``lax/parallel.py`` reduce over
it) and the outputs are put back together per ``out_specs``. Eager calls run it
jitted (traced and compiled once per signature); jit lowers it in place; JVP,
vmap and linearization process it inline under their trace (so ``grad`` and
``vmap`` of a shard_map have no shard_map equation in their jaxprs, unlike JAX).

What it cannot do: the varying-manual-axes types of ``check_vma`` are not part of
the avals (the jaxpr prints no ``{V:x}`` and no ``pvary`` / ``psum_invariant``);
the check is an inference over the per-device jaxpr after tracing (JAX's errors;
primitives holding jaxprs other than jit, scan, while, cond and custom derivatives
are taken to vary wherever an input does). Without those types, a ``grad`` taken
*inside* the body differs from JAX where JAX inserts ``pvary``: the cotangent of a
value invariant over an axis (an input with ``P()``, say) is not psum'd over it, and
``psum_invariant`` (what ``psum`` binds under ``check_vma``) transposes to a copy even
for an invariant operand; ``grad`` of a shard_map is exact. ``in_specs`` inferred from
arguments needs Explicit mesh axes and reads the arguments' NamedShardings (a traced
argument's sharding is not known: replicated).
"""
from __future__ import annotations

import inspect
import math

import numpy as np

from pyjax._src import api_util, core, dispatch, tree_util
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.caches import LRUCache, put_bounded
from pyjax._src.core import ClosedJaxpr, Primitive, Tracer
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.interpreters.batching import BatchTrace
from pyjax._src.lax import lax, sharding_ops, slicing
from pyjax._src.mesh import (AbstractMesh, AxisType, Mesh, get_abstract_mesh,
                             get_concrete_mesh)
from pyjax._src.sharding import NamedSharding, PartitionSpec, spec_axes

__all__ = ["DuplicateSpecError", "Infer", "shard_map", "shard_map_p", "smap"]


class _InferType:
  """``in_specs``' default: infer them from the arguments (Explicit mesh axes only)."""

  def __repr__(self):
    return "jax.sharding.Infer"


Infer = _InferType()


class DuplicateSpecError(Exception):
  """A spec that maps one mesh axis to two dimensions (JAX's class)."""

  def __init__(self, message, mesh=None, pspec=None):
    super().__init__(message)
    self.message, self.mesh, self.pspec = message, mesh, pspec

  def __str__(self):
    return self.message


# ---------------------------------------------------------------- the implementation


def _manual_names(mesh, manual) -> tuple:
  return tuple(a for a in mesh.axis_names if a in manual)


def _spec_dims(spec, manual) -> list:
  """(dimension, mesh axes) for each dimension the spec splits over manual axes."""
  return [(d, tuple(a for a in spec_axes(e) if a in manual))
          for d, e in enumerate(spec.partitions)
          if any(a in manual for a in spec_axes(e))]


def _split_input(x, spec, names, sizes, manual):
  """``x`` (global) as (one axis per mesh axis the spec uses, in mesh order, *shard);
  returns it and the mesh axes it has, in order."""
  shape = core.get_aval(x).shape
  dims = _spec_dims(spec, manual)
  if not dims:
    return x, ()
  new_shape, pos, local_pos = [], {}, []
  for d, n in enumerate(shape):
    axes = dict(dims).get(d, ())
    for a in axes:
      pos[a] = len(new_shape)
      new_shape.append(int(sizes[a]))
    local_pos.append(len(new_shape))
    new_shape.append(n // math.prod(sizes[a] for a in axes))
  x = lax.reshape(x, tuple(new_shape))
  used = tuple(a for a in names if a in pos)
  perm = [pos[a] for a in used] + local_pos
  if perm != list(range(len(perm))):
    x = lax.transpose(x, perm)
  return x, used


def _join_output(x, spec, used, sizes, manual):
  """The inverse of ``_split_input``: ``x`` is (the mesh axes ``used``, *shard)."""
  if not used:
    return x
  shape = core.get_aval(x).shape
  m = len(used)
  local = shape[m:]
  axes_of = dict(_spec_dims(spec, manual))
  perm, out_shape = [], []
  for d, n in enumerate(local):
    axes = axes_of.get(d, ())
    perm.extend(used.index(a) for a in axes)
    perm.append(m + d)
    out_shape.append(n * math.prod(sizes[a] for a in axes))
  if perm != list(range(len(perm))):
    x = lax.transpose(x, perm)
  return lax.reshape(x, tuple(out_shape))


def _per_device(args, *, jaxpr, mesh, in_specs, out_specs, check_vma, newly_manual_axes,
                local=None):
  """The global computation: ``jaxpr`` on every device's shards, vmapped over the
  manual mesh axes (named after them), the results assembled per ``out_specs``.
  ``local`` ({axis: (members here, Span or None)}, from ``multiprocess``): ``args`` are
  this process's blocks, and the vmaps run over its members only (``SpanSize``)."""
  manual = newly_manual_axes
  names = _manual_names(mesh, manual)
  sizes = dict(mesh.shape)
  if local is not None:
    sizes = {a: n if span is None else batching.SpanSize(n, span)
             for a, (n, span) in local.items()}
  vals, used_in = [], []
  for x, spec in zip(args, in_specs):
    s = core.get_aval(x).sharding
    if s is not None:  # an Explicit-axes type: the split below works on the global value
      x = sharding_ops.reshard_p.bind(x, dst_sharding=NamedSharding(s.mesh, PartitionSpec()))
    v, used = _split_input(x, spec, names, sizes, manual)
    vals.append(v)
    used_in.append(used)
  out_used = [tuple(a for a in names if any(a in spec_axes(e) for e in s.partitions))
              for s in out_specs]

  def level(i, xs):
    if i == len(names):
      return core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *xs)
    name, size = names[i], sizes[names[i]]
    trace = BatchTrace(core.trace_ctx.trace, name, size)
    try:
      outs = trace.call(lambda *ys: level(i + 1, ys), xs,
                        [0 if name in u else None for u in used_in])
      res = []
      for o, u in zip(outs, out_used):
        v, d = trace.to_batch_info(o)
        if name in u:
          v = batching.matchaxis(v, d, 0, size)
        elif d is not None:  # unchecked: the output is taken to be replicated
          v = slicing.index_in_dim(v, 0, d, keepdims=False)
        res.append(v)
      return res
    finally:
      trace.invalidate()

  outs = level(0, vals)
  return [_join_output(o, s, u, sizes, manual)
          for o, s, u in zip(outs, out_specs, out_used)]


# ---------------------------------------------------------------- the primitive


shard_map_p = Primitive("shard_map")
shard_map_p.multiple_results = True

_PARAMS = ("jaxpr", "mesh", "in_specs", "out_specs", "check_vma", "newly_manual_axes")


def _out_aval(aval, spec, mesh, manual):
  shape = list(aval.shape)
  for d, axes in _spec_dims(spec, manual):
    shape[d] *= math.prod(mesh.shape[a] for a in axes)
  return aval.update(shape=tuple(shape))


def _abstract_eval(*avals, jaxpr, mesh, out_specs, newly_manual_axes, **_):
  return [_out_aval(a, s, mesh, newly_manual_axes)
          for a, s in zip(jaxpr.out_avals, out_specs)]


# The global program of one (per-device jaxpr, params, input avals): traced once.
_expanded_cache = LRUCache(256)


def _fold_reduced_dots(jaxpr):
  """``reduce_sum`` over batch dimensions of a ``dot_general`` used only there (a psum
  of per-device products: the devices share memory) becomes one ``dot_general``
  contracting them too, as the global program would compute it."""
  uses: dict = {}
  for e in jaxpr.eqns:
    for v in e.invars:
      if type(v) is core.Var:
        uses[v] = uses.get(v, 0) + 1
  for v in jaxpr.outvars:
    if type(v) is core.Var:
      uses[v] = uses.get(v, 0) + 2
  dots = {e.outvars[0]: e for e in jaxpr.eqns if e.primitive.name == "dot_general"}
  fold = {}  # reduce eqn -> the dot eqn replacing it
  for e in jaxpr.eqns:
    if e.primitive.name != "reduce_sum" or type(e.invars[0]) is not core.Var:
      continue
    d = dots.get(e.invars[0])
    axes = tuple(e.params["axes"])
    if d is None or uses.get(e.invars[0]) != 1:
      continue
    (lc, rc), (lb, rb) = d.params["dimension_numbers"]
    if not axes or not all(a < len(lb) for a in axes):
      continue
    keep = [i for i in range(len(lb)) if i not in axes]
    dn = ((tuple(lc) + tuple(lb[a] for a in axes), tuple(rc) + tuple(rb[a] for a in axes)),
          (tuple(lb[i] for i in keep), tuple(rb[i] for i in keep)))
    fold[e] = d.replace(outvars=e.outvars, params=dict(d.params, dimension_numbers=dn))
  if not fold:
    return jaxpr
  gone = {id(dots[e.invars[0]]) for e in fold}
  eqns = [fold.get(e, e) for e in jaxpr.eqns if id(e) not in gone]
  return core.Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, eqns, jaxpr.debug_info)


def _expanded(avals, params) -> ClosedJaxpr:
  key = (tuple((a.shape, a.dtype, a.weak_type) for a in avals),
         *(params[k] for k in _PARAMS))
  closed = _expanded_cache.get(key)
  if closed is None:
    jaxpr, consts = pe.trace_to_jaxpr(lambda *xs: _per_device(xs, **params), list(avals))
    closed = ClosedJaxpr(_fold_reduced_dots(jaxpr), consts)
    _expanded_cache[key] = closed
  return closed


def _impl(*args, **params):
  avals = [core.get_aval(a) for a in args]
  closed = _expanded(avals, params)
  return dispatch.run_closed_jaxpr(closed, "shard_map", args)


def _lower(ctx, *args, **params):
  closed = _expanded([a.aval for a in args], params)
  return ctx.call(closed.jaxpr, closed.consts, args, "shard_map")


def _jvp(primals, tangents, **params):
  return ad.jvp_flat(lambda *xs: _per_device(xs, **params), primals, tangents)


def _batch(vals, dims, *, axis_name=None, **params):
  size = batching.batch_size(vals, dims)
  trace = BatchTrace(core.trace_ctx.trace, axis_name, size)
  try:
    outs = trace.call(lambda *xs: _per_device(xs, **params), vals, dims)
    res = [trace.to_batch_info(o) for o in outs]
  finally:
    trace.invalidate()
  return [v for v, _ in res], [d for _, d in res]


def _partial_eval(trace, args, params):
  with core.set_current_trace(trace):
    return _per_device(args, **params)


def _transpose(cts, *args, **params):
  """Transposes the global program (only reached for a shard_map staged as linear)."""
  avals = [a.aval if ad.is_undefined_primal(a) else core.get_aval(a) for a in args]
  closed = _expanded(avals, params)
  res = ad.backward_pass(closed.jaxpr, closed.consts, list(args), list(cts))
  return [r if ad.is_undefined_primal(a) else None for r, a in zip(res, args)]


class _Bare(str):
  """A param printed as is."""


def _show_axes(mesh, axes):
  inner = ", ".join(repr(a) for a in mesh.axis_names if a in axes)
  return _Bare(f"frozenset({{{inner}}})")


def _pp_params(params):
  return {"check_vma": params["check_vma"], "in_specs": params["in_specs"],
          "jaxpr": params["jaxpr"], "mesh": _Bare(str(params["mesh"])),
          "newly_manual_axes": _show_axes(params["mesh"], params["newly_manual_axes"]),
          "out_specs": params["out_specs"]}


shard_map_p.def_impl(_impl)
shard_map_p.def_abstract_eval(_abstract_eval)
shard_map_p.lower = _lower
shard_map_p.jvp = _jvp
shard_map_p.batch = _batch
shard_map_p.batch_with_axis_name = True
shard_map_p.partial_eval = _partial_eval
shard_map_p.transpose = _transpose
shard_map_p.pp_params = _pp_params
shard_map_p.pp_keep_order = True


# ---------------------------------------------------------------- varying axes (check_vma)

_REDUCING = {"psum", "psum_invariant", "pmax", "pmin"}
_VARYING = {"all_gather", "reduce_scatter", "all_to_all", "ppermute", "pbroadcast",
            "axis_index", "ragged_all_to_all"}


def _eqn_axes(eqn) -> frozenset:
  p = eqn.primitive
  names = p.axis_names(eqn.params) if isinstance(p, batching.AxisPrimitive) else ()
  return frozenset(names)


_LOOPS = {"scan", "while", "cond"}


def _fixpoint(body, fixed, carry, rest, n_out_carry):
  """The carries' varying axes through a loop ``body(*fixed, *carry, *rest)``."""
  while True:
    outs = _infer_vma(body.jaxpr, [*fixed, *carry, *rest])
    new = [c | o for c, o in zip(carry, outs[:n_out_carry])]
    if new == carry:
      return carry, outs[n_out_carry:]
    carry = new


def _infer_sub_vma(eqn, ins) -> list:
  """Varying axes through an equation holding jaxprs (other such equations: every
  output varies wherever an input does)."""
  p, name = eqn.params, eqn.primitive.name
  sub = p.get("jaxpr", p.get("call_jaxpr", p.get("fun_jaxpr")))
  if name == "scan":
    nc, nk = p["num_consts"], p["num_carry"]
    carry, ys = _fixpoint(sub, ins[:nc], ins[nc:nc + nk], ins[nc + nk:], nk)
    return carry + ys
  if name == "while":
    cn, bn = p["cond_nconsts"], p["body_nconsts"]
    # as JAX 0.10.2: a varying predicate or index does not make the results vary
    carry = ins[cn + bn:]
    return _fixpoint(p["body_jaxpr"], ins[cn:cn + bn], carry, [], len(carry))[0]
  if name == "cond":
    outs = [_infer_vma(b.jaxpr, ins[1:]) for b in p["branches"]]
    return [frozenset().union(*o) for o in zip(*outs)]
  if isinstance(sub, ClosedJaxpr) and len(sub.jaxpr.invars) == len(ins):
    return _infer_vma(sub.jaxpr, ins)
  return [frozenset().union(*ins)] * len(eqn.outvars)


def _infer_vma(jaxpr, in_vma) -> list:
  """The mesh axes each output of ``jaxpr`` may vary over, from its inputs'."""
  env = dict(zip(jaxpr.invars, in_vma))
  read = lambda v: env.get(v, frozenset()) if type(v) is core.Var else frozenset()
  for eqn in jaxpr.eqns:
    ins = frozenset().union(*map(read, eqn.invars))
    name = eqn.primitive.name
    if name in _REDUCING:
      outs = [ins - _eqn_axes(eqn)] * len(eqn.outvars)
    elif name in _VARYING:
      outs = [ins | _eqn_axes(eqn)] * len(eqn.outvars)
    elif name in ("jit", "custom_jvp_call", "custom_vjp_call") or name in _LOOPS:
      outs = _infer_sub_vma(eqn, [read(v) for v in eqn.invars])
    else:
      outs = [ins] * len(eqn.outvars)
    for v, s in zip(eqn.outvars, outs):
      env[v] = s
  return [read(v) for v in jaxpr.outvars]


# ---------------------------------------------------------------- checks and JAX's errors


def _check_mesh(mesh, axis_names, in_specs, out_specs, is_smap=False):
  if mesh is None:
    mesh = get_concrete_mesh()
    if mesh is None or mesh.empty:
      if get_abstract_mesh().empty:
        raise ValueError("The context mesh cannot be empty. Use `jax.set_mesh(mesh)` to "
                         "enter into a mesh context")
      mesh = get_abstract_mesh()
  if not isinstance(mesh, (Mesh, AbstractMesh)):
    raise TypeError("shard_map requires a `jax.sharding.Mesh` or a "
                    "`jax.sharding.AbstractMesh` instance for its second argument, but got "
                    f"{mesh} of type {type(mesh)}.")
  if mesh.empty:
    raise ValueError(f"shard_map requires a non-empty mesh. Got {mesh}")
  all_names = frozenset(mesh.axis_names)
  if not isinstance(axis_names, (frozenset, set)):
    raise TypeError("`axis_names` argument of shard_map should be of type `frozenset` or "
                    f"`set`. Got type: {type(axis_names)}")
  axis_names = frozenset(axis_names) or all_names
  if not axis_names <= all_names:
    raise ValueError(f"jax.shard_map requires axis_names={_fs(axis_names)} to be a subset "
                     f"of mesh.axis_names={_fs(all_names)}")
  types = mesh._name_to_type
  if in_specs is Infer and not all(types[a] == AxisType.Explicit for a in axis_names):
    kinds = ", ".join(str(types[a]) for a in _manual_names(mesh, axis_names))
    if is_smap:
      raise TypeError(f"in_axes was not specified when axis_name={_fs(axis_names, mesh)} "
                      f"was of type {kinds}")
    raise TypeError("shard_map in_specs argument must be a pytree of "
                    "`jax.sharding.PartitionSpec` instances, but it was `None` when "
                    f"axis_names={_fs(axis_names, mesh)} are of type {kinds}")
  if in_specs is not Infer and in_specs is not None:  # None: every argument static
    _check_specs("in", in_specs, axis_names, mesh)
  _check_specs("out", out_specs, axis_names, mesh)
  return mesh, axis_names


def _fs(names, mesh=None) -> str:
  order = list(mesh.axis_names) if mesh is not None else sorted(names, key=str)
  return "frozenset({" + ", ".join(repr(a) for a in order if a in names) + "})"


def _spec_leaves(specs):
  return tree_util.tree_flatten_with_path(specs, is_leaf=lambda x: x is None)[0]


def _check_specs(prefix, specs, manual, mesh):
  leaves = [(k, p) for k, p in _spec_leaves(specs) if not (prefix == "in" and p is None)]
  bad = [f"  {prefix}_specs{tree_util.keystr(k)} is {p} of type {type(p).__name__}, "
         for k, p in leaves if not isinstance(p, PartitionSpec)]
  if bad:
    raise TypeError(f"shard_map {prefix}_specs argument must be a pytree of "
                    "`jax.sharding.PartitionSpec` instances, but:\n\n" + "\n\n".join(bad) +
                    f"\n\nCheck the {prefix}_specs values passed to shard_map.")
  msgs = [f"  {prefix}_specs{tree_util.keystr(k)} refers to {a!r}"
          for k, p in leaves for e in p.partitions for a in spec_axes(e) if a not in manual]
  if msgs:
    raise ValueError(f"shard_map {prefix}_specs argument must refer to an axis marked as "
                     f"manual ({_fs(manual, mesh)}), but:\n\n" + "\n\n".join(msgs) +
                     f"\n\nCheck the {prefix}_specs values passed to shard_map.")
  for _, p in leaves:
    seen, dup = set(), []
    for e in p.partitions:
      for a in spec_axes(e):
        if a in seen and a not in dup:
          dup.append(a)
        seen.add(a)
    if dup:
      raise DuplicateSpecError(
          "A single NamedSharding spec specification can map every mesh axis to at most "
          f"one positional dimension, but {p} has duplicate entries for "
          f"{', '.join(f'`{a}`' for a in dup)}", mesh, p)


def _bound_args(f, n):
  try:
    params = [p for p in inspect.signature(f).parameters.values()
              if p.kind not in (p.KEYWORD_ONLY, p.VAR_KEYWORD)]
  except (TypeError, ValueError):
    return None
  if len(params) < n and not any(p.kind == p.VAR_POSITIONAL for p in params):
    return None
  return params


def _arg_where(f, params, path):
  """JAX's ", where args[0] is bound to f's parameter 'x'," for a failing argument."""
  if params is None or not path:
    return ""
  i = path[0].idx
  name = api_util.fun_name(f)
  if i >= len(params) or params[i].kind == params[i].VAR_POSITIONAL:
    return (f", where args{tree_util.keystr(path[:1])} is the index "
            f"{i - len(params) + 1} component of {name}'s varargs parameter "
            f"'{params[-1].name}',")
  return (f", where args{tree_util.keystr(path[:1])} is bound to {name}'s parameter "
          f"'{params[i].name}',")


def _spec_paths(specs, tree_args):
  """The key path of the spec each argument leaf takes (JAX's message names it)."""
  treedef = tree_util.tree_structure(specs, is_leaf=lambda x: x is None)
  keyed = tree_util.tree_unflatten(treedef, [_Keyed(k) for k, _ in _spec_leaves(specs)])
  return [k.path for k in tree_util.broadcast_prefix(keyed, tree_args,
                                                     is_leaf=lambda x: x is None)]


class _Keyed:
  __slots__ = ("path",)

  def __init__(self, path):
    self.path = path


def _one_or_bullets(msgs):
  return [msgs[0][2:]] if len(msgs) == 1 else msgs


def _rank_error(prefix, f, fails):
  """JAX's message for specs longer than the rank: ``fails`` holds (spec path, spec,
  value path, aval, where)."""
  name = api_util.fun_name(f)
  base = "the passed args" if prefix == "in" else f"{name}(*args)"
  msgs = [f"* {prefix}_specs{tree_util.keystr(sk)} is {spec} which has length {len(spec)}, "
          f"but {base}{tree_util.keystr(vk)}{where} has shape {_short(aval)}, which has "
          f"rank {aval.ndim} (and {aval.ndim} < {len(spec)})"
          for sk, spec, vk, aval, where in fails]
  msg = (f"shard_map applied to the function '{name}' was given an {prefix}_specs entry "
         f"which is too long to be compatible with the corresponding {prefix}put value "
         f"from the function:\n\n" + "\n\n".join(_one_or_bullets(msgs)) + "\n\n" +
         f"Entries in {prefix}_specs must be of length no greater than the number of axes "
         f"in the corresponding {prefix}put value.\n\nEither revise the spec to be "
         f"shorter, or modify '{name}' so that its {prefix}puts have sufficient rank.")
  if any(not aval.ndim for *_, aval, _ in fails):
    msg += (f"\n\nFor scalar values (rank 0), consider using an {prefix}_specs entry of "
            "`P()`, where `P = jax.sharding.PartitionSpec`.")
  return ValueError(msg)


def _mesh_shape(mesh):
  return (f"The mesh given has shape {tuple(mesh.axis_sizes)} with corresponding axis "
          f"names {tuple(mesh.axis_names)}.")


def _short(aval):
  return aval.str_short(short_dtypes=False)


def _check_args(f, mesh, args, in_specs, manual, leaf_paths, spec_paths, avals):
  params = _bound_args(f, len(args))
  fails = [(sk, s, vk, a, _arg_where(f, params, vk))
           for s, a, vk, sk in zip(in_specs, avals, leaf_paths, spec_paths)
           if s is not None and len(s) > a.ndim]
  if fails:
    raise _rank_error("in", f, fails)
  name = api_util.fun_name(f)
  msgs = []
  for s, a, vk, sk in zip(in_specs, avals, leaf_paths, spec_paths):
    if s is None:
      continue
    for d, e in enumerate(s.partitions):
      ns = spec_axes(e)
      sz = math.prod(mesh.shape[n] for n in ns)
      if ns and a.shape[d] % sz:
        axis = f"axes {ns}" if len(ns) > 1 else f"axis '{ns[0]}'"
        total = "total " if len(ns) > 1 else ""
        msgs.append(
            f"* the passed args{tree_util.keystr(vk)} of shape {_short(a)}"
            f"{_arg_where(f, params, vk)} corresponds to in_specs{tree_util.keystr(sk)} of "
            f"value {s}, which maps array axis {d} (of size {a.shape[d]}) to mesh {axis} "
            f"(of {total}size {sz}), but {sz} does not evenly divide {a.shape[d]}")
  if msgs:
    raise ValueError(
        f"shard_map applied to the function '{name}' was given argument arrays with axis "
        "sizes that are not evenly divisible by the corresponding mesh axis sizes:\n\n"
        f"{_mesh_shape(mesh)}\n\n" + "\n\n".join(_one_or_bullets(msgs)) + "\n\n" +
        "Array arguments' axis sizes must be evenly divisible by the mesh axis or axes "
        "indicated by the corresponding elements of the argument's in_specs entry. "
        "Consider checking that in_specs are correct, and if so consider changing the mesh "
        f"axis sizes or else padding the input and adapting '{name}' appropriately.")


def _vma_error(name, mesh, fails):
  msgs = []
  for key, spec, got in fails:
    mentioned = {a for e in spec.partitions for a in spec_axes(e)}
    unmentioned = [n for n in mesh.axis_names if n not in mentioned]
    show = lambda s: ",".join(str(a) for a in mesh.axis_names if a in s)
    if len(unmentioned) > 1:
      msgs.append(
          f"* out_specs{tree_util.keystr(key)} is {spec} which implies that the "
          f"corresponding output value is only varying across mesh axes "
          f"{{{show(mentioned)}}} and not {{{show(set(unmentioned) & got)}}}, but it was "
          f"inferred to be possibly varying over {{{show(got)}}}")
    else:
      msgs.append(
          f"* out_specs{tree_util.keystr(key)} is {spec} which implies that the "
          f"corresponding output value is replicated across mesh axis '{unmentioned[0]}', "
          f"but could not infer replication over any axes")
  return ValueError(
      f"shard_map applied to the function '{name}' was given out_specs which require "
      "replication which can't be statically inferred given the mesh:\n\n"
      f"{_mesh_shape(mesh)}\n\n" + "\n\n".join(_one_or_bullets(msgs)) + "\n\n" +
      "Check if these output values are meant to be replicated over those mesh axes. If "
      "not, consider revising the corresponding out_specs entries. If so, consider "
      "disabling the check by passing the check_vma=False argument to `jax.shard_map`.")


def _arg_spec(x, ndim):
  """The spec of an argument's NamedSharding (unsharded: all None)."""
  s = getattr(x, "_device", None)
  if isinstance(s, NamedSharding):
    return s.spec._normalized_spec_for_aval(ndim)
  return PartitionSpec(*[None] * ndim)


def _manual_spec(spec, manual):
  out = []
  for e in spec.partitions:
    axes = tuple(a for a in spec_axes(e) if a in manual)
    out.append(None if not axes else axes if isinstance(e, tuple) else axes[0])
  return PartitionSpec(*out)


# ---------------------------------------------------------------- shard_map

# Signatures one shard_mapped function keeps traced for eager calls (as jit's cache).
_MAX_SIGNATURES = 64


def shard_map(f=None, /, *, out_specs, in_specs=Infer, mesh=None, axis_names=frozenset(),
              check_vma=True):
  """Maps ``f`` over the shards of its arguments on the devices of ``mesh`` (JAX's
  semantics; usable as a decorator factory). See the module docstring for the parts
  that differ from JAX."""
  kwargs = dict(out_specs=out_specs, in_specs=in_specs, mesh=mesh, axis_names=axis_names,
                check_vma=check_vma)
  if f is None:
    return lambda g: _shard_map(g, **kwargs)
  return _shard_map(f, **kwargs)


def smap(f=None, /, *, in_axes=Infer, out_axes, axis_name):
  """A shard_map over the one mesh axis ``axis_name`` of the context mesh, with vmap-style
  ``in_axes``/``out_axes`` (JAX's ``jax.smap``)."""
  kwargs = dict(in_axes=in_axes, out_axes=out_axes, axis_name=axis_name)
  if f is None:
    return lambda g: _smap(g, **kwargs)
  return _smap(f, **kwargs)


def _axes_to_spec(axis_name, axis):
  return PartitionSpec() if axis is None else PartitionSpec(*[None] * axis, axis_name)


def _smap(f, *, in_axes, out_axes, axis_name):
  if isinstance(axis_name, (list, tuple)):
    raise TypeError(
        f"smap axis_name should be a `str` or a `Hashable`, but got {axis_name}")
  if in_axes is not None and in_axes is not Infer and not isinstance(in_axes, (int, tuple)):
    raise TypeError("smap in_axes must be an int, None, jax.sharding.Infer, or a tuple of "
                    "entries corresponding to the positional arguments passed to the "
                    f"function, but got {in_axes}.")
  if in_axes is not Infer and not all(isinstance(l, int)
                                      for l in tree_util.tree_leaves(in_axes)):
    raise TypeError("smap in_axes must be an int, None, jax.sharding.Infer, or (nested) "
                    f"container with those types as leaves, but got {in_axes}.")
  if not all(isinstance(l, int) for l in tree_util.tree_leaves(out_axes)):
    raise TypeError("smap out_axes must be an int, None, or (nested) container with those "
                    f"types as leaves, but got {out_axes}.")
  spec = lambda a: _axes_to_spec(axis_name, a)
  in_specs = (Infer if in_axes is Infer else
              tree_util.tree_map(spec, in_axes, is_leaf=lambda x: x is None))
  out_specs = tree_util.tree_map(spec, out_axes, is_leaf=lambda x: x is None)
  return _shard_map(f, out_specs=out_specs, in_specs=in_specs, mesh=None,
                    axis_names={axis_name}, check_vma=True, _smap=True)


def _shard_map(f, *, out_specs, in_specs, mesh, axis_names, check_vma, _smap=False):
  if not callable(f):
    raise TypeError("shard_map requires a callable for its first argument, but got "
                    f"{f} of type {type(f)}.")
  check_vma = bool(check_vma)
  cache: dict = {}  # eager calls: (mesh, specs, signature) -> traced body

  def wrapped(*args):
    m, manual = _check_mesh(mesh, axis_names, in_specs, out_specs, _smap)
    leaves_p, in_tree = tree_util.tree_flatten_with_path(args)
    leaf_paths = [p for p, _ in leaves_p]
    leaves = [x for _, x in leaves_p]
    if in_specs is Infer:
      specs_flat = [_manual_spec(_arg_spec(x, np.ndim(x)), manual) for x in leaves]
      spec_paths = leaf_paths
    else:
      try:
        specs_flat = tree_util.broadcast_prefix(in_specs, args, is_leaf=lambda x: x is None)
      except ValueError:
        e, *_ = tree_util.prefix_errors(in_specs, args, is_leaf=lambda x: x is None)
        raise e("shard_map in_specs") from None
      spec_paths = _spec_paths(in_specs, args)
    dbg = api_util.debug_info("shard_map", f, args, {})
    avals = [api_util.abstractify(x, api_util.arg_name(dbg, i))
             for i, x in enumerate(leaves)]
    _check_args(f, m, args, specs_flat, manual, leaf_paths, spec_paths, avals)
    if all(m._name_to_type[a] == AxisType.Explicit for a in manual) \
        and manual == frozenset(m.axis_names):
      for x, s, a in zip(leaves, specs_flat, avals):
        if s is None or isinstance(x, Tracer):
          continue
        s = s._normalized_spec_for_aval(a.ndim)
        got = _arg_spec(x, a.ndim)
        if got != s:
          raise ValueError(
              f"in_specs passed to shard_map: {s} does not match the specs of the input: "
              f"{got} for arg: {_short(a)}. `in_specs` is an optional argument so you "
              "can omit specifying it and shard_map will infer the in_specs from the "
              "arguments. If you want to reshard your inputs, you can use `jax.reshard` on "
              "the arguments and then pass those args to shard_map.")
    dyn = [s is not None for s in specs_flat]
    dyn_specs = tuple(s for s in specs_flat if s is not None)
    dyn_args = [x if isinstance(x, (ArrayImpl, Tracer)) else asarray_value(x)
                for x, d in zip(leaves, dyn) if d]
    local = [_local_aval(a, s, m, manual)
             for a, s in zip(avals, specs_flat) if s is not None]
    def trace_and_check():
      out_box = {}

      def flat_fun(*xs):
        it = iter(xs)
        full = [next(it) if d else x for x, d in zip(leaves, dyn)]
        ans = f(*tree_util.tree_unflatten(in_tree, full))
        out_flat, out_tree = tree_util.tree_flatten(ans)
        try:
          specs = tree_util.broadcast_prefix(out_specs, ans, is_leaf=lambda x: x is None)
        except ValueError:
          e, *_ = tree_util.prefix_errors(out_specs, ans, is_leaf=lambda x: x is None)
          raise e("shard_map out_specs") from None
        out_box.update(tree=out_tree, specs=specs, ans=ans)
        return out_flat

      closed, tracer_consts = _trace_body(flat_fun, local, dbg, m, manual, check_vma)
      out_tree, o_specs = out_box["tree"], tuple(out_box["specs"])
      o_avals = closed.out_avals
      o_paths = [p for p, _ in tree_util.tree_flatten_with_path(out_box["ans"])[0]]
      o_spec_paths = _spec_paths(out_specs, out_box["ans"])
      fails = [(sk, s, vk, a, "")
               for s, a, vk, sk in zip(o_specs, o_avals, o_paths, o_spec_paths)
               if len(s) > a.ndim]
      if fails:
        err = _rank_error("out", f, fails)
        if any(not a.ndim for *_, a, _ in fails):
          err = ValueError(str(err) + " In particular, for rank 0 outputs which are not "
                           "constant over the mesh, add at least one (singleton) axis to "
                           "them so that they can be concatenated using out_specs.")
        raise err
      specs_all = (PartitionSpec(),) * len(tracer_consts) + dyn_specs
      if check_vma:
        in_vma = [frozenset(a for e in s.partitions for a in spec_axes(e) if a in manual)
                  for s in specs_all]
        got = _infer_vma(closed.jaxpr, in_vma)
        bad = []
        for g, s, sk in zip(got, o_specs, o_spec_paths):
          mentioned = {a for e in s.partitions for a in spec_axes(e)}
          if g - mentioned:
            bad.append((sk, s, g))
        if bad:
          if core.trace_ctx.trace is core.eval_trace:
            # JAX 0.10.2 reports an eager call's failure from the inner shard_map that
            # places one output: its function, its single spec, the first failure
            raise _vma_error("_rem_singleton", m, [((),) + bad[0][1:]])
          raise _vma_error(api_util.fun_name(f), m, bad)
      return closed, tracer_consts, out_tree, o_specs, specs_all

    eager = core.trace_ctx.trace is core.eval_trace
    key = None
    if eager:
      try:
        key = (m, manual, in_tree, tuple(specs_flat),
               tuple((a.shape, a.dtype, a.weak_type) for a in avals),
               tuple(x for x, d in zip(leaves, dyn) if not d))
        hash(key)
      except TypeError:
        key = None
    hit = cache.get(key) if key is not None else None
    if hit is None:
      hit = trace_and_check()
      if key is not None and not hit[1]:
        put_bounded(cache, key, hit, _MAX_SIGNATURES)
    closed, tracer_consts, out_tree, o_specs, specs_all = hit
    outs = shard_map_p.bind(*tracer_consts, *dyn_args, jaxpr=closed, mesh=m,
                            in_specs=specs_all, out_specs=o_specs, check_vma=check_vma,
                            newly_manual_axes=manual)
    if isinstance(m, Mesh):
      for o, s in zip(outs, o_specs):
        if isinstance(o, ArrayImpl):
          o._device = NamedSharding(m, s)
    return tree_util.tree_unflatten(out_tree, outs)

  try:
    wrapped.__name__ = f.__name__
    wrapped.__qualname__ = getattr(f, "__qualname__", f.__name__)
    wrapped.__doc__ = f.__doc__
    wrapped.__wrapped__ = f
  except AttributeError:
    pass
  return wrapped


class _AxisFrame(BatchTrace):
  """A manual mesh axis while the body is staged: only ``axis_size`` lookups (and
  ``psum``, which binds ``psum_invariant`` under ``check_vma``) read it."""
  __slots__ = ("vma_checked",)

  def __init__(self, parent, name, size, vma_checked):
    super().__init__(parent, name, size)
    self.vma_checked = vma_checked


def _trace_body(fun, avals, dbg, mesh, manual, check_vma):
  """Stages the per-device ``fun`` with the manual mesh axes bound (collectives over
  them find their sizes): axis frames between the current trace and the staging."""
  frames = []
  t = core.trace_ctx.trace
  for name in _manual_names(mesh, manual):
    t = _AxisFrame(t, name, mesh.shape[name], check_vma)
    frames.append(t)
  try:
    with core.set_current_trace(t):
      closed, tracer_consts, _ = api_util.trace_to_jaxpr(fun, avals, dbg)
  finally:
    for fr in frames:
      fr.invalidate()
  return closed, tracer_consts


def _local_aval(aval, spec, mesh, manual):
  shape = list(aval.shape)
  for d, axes in _spec_dims(spec, manual):
    shape[d] //= math.prod(mesh.shape[a] for a in axes)
  return core.ShapedArray(tuple(shape), aval.dtype, aval.weak_type)

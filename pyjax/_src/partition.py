"""SPMD partitioning of a jaxpr over sharded inputs: the per-device program (a
``shard_map`` body) that computes each result's shards from the inputs' shards, with
collectives where the data must move, as GSPMD does for the common cases.

``partition(closed, in_dims, mesh)`` walks the jaxpr with each value's sharding (one tuple
of mesh axes per dimension) and stages, per equation, the local operation on shards:

- elementwise primitives keep their first sharded operand's sharding (the others are
  resharded to it; rank-0 operands broadcast as they are);
- ``broadcast_in_dim``, ``transpose``, ``squeeze``, a ``reshape`` that keeps its split
  leading dimensions, a ``slice`` that keeps its split dimensions whole, ``concatenate``
  along an unsplit dimension: the same operation on the local shapes;
- ``reduce_sum``/``reduce_max``/``reduce_min`` reduce locally, then ``psum``/``pmax``/
  ``pmin`` over the mesh axes of the split dimensions they removed;
- ``dot_general`` contracts split dimensions locally and ``psum``s over their axes (an
  operand split where the other is whole is sliced to match; free and batch dimensions
  keep their splits);
- nested ``jit`` and custom_jvp/custom_vjp calls are partitioned inside (their primal
  bodies: no derivative is taken here);
- anything else (gathers, scatters, sorts, control flow, ...) gathers its operands whole
  and runs replicated on every device.

A value moves between shardings by ``all_gather`` (a split dimension made whole) and by
slicing at ``axis_index`` (a whole dimension split). The result is what
``shard_map_p`` takes: the body's ClosedJaxpr, in/out PartitionSpecs.
"""
from __future__ import annotations

import math

from pyjax._src import core
from pyjax._src.core import ClosedJaxpr, Literal
from pyjax._src.lax import lax, parallel, slicing
from pyjax._src.lax.utils import ELEMENTWISE
from pyjax._src.sharding import PartitionSpec
from pyjax._src import shard_map as shard_map_mod

__all__ = ["dims_of", "has_shard_map", "partition", "spec_of"]

_REDUCE = {"reduce_sum": parallel.psum, "reduce_max": parallel.pmax,
           "reduce_min": parallel.pmin}
_CALLS = {"jit": "jaxpr", "pjit": "jaxpr", "custom_jvp_call": "call_jaxpr",
          "custom_vjp_call": "call_jaxpr", "closed_call": "call_jaxpr"}


def dims_of(spec, ndim) -> tuple:
  """A PartitionSpec as one tuple of mesh axes per dimension."""
  parts = list(spec.partitions) + [None] * (ndim - len(spec.partitions))
  return tuple(() if e is None else (e,) if isinstance(e, str) else tuple(e)
               for e in parts[:ndim])


def spec_of(dims) -> PartitionSpec:
  return PartitionSpec(*[None if not d else d[0] if len(d) == 1 else d for d in dims])


class _Bcast:
  """A ``broadcast_in_dim`` of a replicated operand, made when a consumer says which
  sharding it wants (a bias or a scalar's cotangent broadcast to a batch-split shape
  is made as its shard, not whole and then sliced)."""
  __slots__ = ("x", "shape", "bd", "dtype")

  def __init__(self, x, shape, bd):
    self.x, self.shape, self.bd = x, tuple(shape), tuple(bd)


class _Part:
  """The walk: global avals and mesh sizes, and the reshards it stages."""

  def __init__(self, mesh):
    self.sizes = dict(mesh.shape)

  def split(self, axes) -> int:
    return math.prod(self.sizes[a] for a in axes)

  def local_shape(self, shape, dims):
    return tuple(n // self.split(d) for n, d in zip(shape, dims))

  def made(self, x, want=None):
    """``x`` as a value (a deferred broadcast made split as ``want``, or whole)."""
    if type(x) is not _Bcast:
      return x
    ok = want is not None and all(
        not w or (i not in x.bd or core.get_aval(x.x).shape[x.bd.index(i)] == 1)
        for i, w in enumerate(want))
    if ok:
      return lax.broadcast_in_dim(x.x, self.local_shape(x.shape, want), x.bd)
    y = lax.broadcast_in_dim(x.x, x.shape, x.bd)
    if want is not None and any(want):
      y = self.reshard(y, tuple(() for _ in x.shape), want, x.shape)
    return y

  def reshard(self, x, cur, want, gshape):
    """Local ``x`` (sharded as ``cur``) as sharded ``want``."""
    if type(x) is _Bcast:
      return self.made(x, want)
    for d, (c, w) in enumerate(zip(cur, want)):
      if c and c != w:
        x = parallel.all_gather(x, c if len(c) > 1 else c[0], axis=d, tiled=True)
    for d, (c, w) in enumerate(zip(cur, want)):
      if w and c != w:
        n = gshape[d] // self.split(w)
        i = parallel.axis_index(w if len(w) > 1 else w[0])
        x = slicing.dynamic_slice_in_dim(x, lax.mul(i, n), n, d)
    return x

  def whole(self, x, cur, gshape):
    return self.reshard(x, cur, tuple(() for _ in cur), gshape)

  # ------------------------------------------------------------ the walk
  def run(self, jaxpr, consts, args):
    """``args``: (local value, dims) per input; returns the same for the outputs."""
    env = {}

    def read(v):
      if type(v) is Literal:
        return v.val, ()
      return env[v]

    for v, c in zip(jaxpr.constvars, consts):
      env[v] = (c, tuple(() for _ in core.get_aval(c).shape))
    for v, a in zip(jaxpr.invars, args):
      env[v] = a
    for eqn in jaxpr.eqns:
      ins = [read(v) for v in eqn.invars]
      avals = [v.aval for v in eqn.invars]
      outs = self.eqn(eqn, ins, avals)
      for v, o in zip(eqn.outvars, outs):
        env[v] = o
    return [(self.made(x), d) for x, d in (read(v) for v in jaxpr.outvars)]

  def eqn(self, eqn, ins, avals):
    prim, params = eqn.primitive, eqn.params
    name = prim.name
    vals = [x for x, _ in ins]
    dims = [tuple(d) for _, d in ins]
    params = _local_params(params)
    if name in ELEMENTWISE and not prim.multiple_results:
      return self._elementwise(eqn, vals, dims, avals, params)
    vals = [self.made(x) for x in vals]
    if name == "broadcast_in_dim":  # (a replicated operand: deferred, see _Bcast)
      res = self._broadcast_in_dim(eqn, vals, dims, avals)
      if res is not None:
        return res
    if all(not any(d) for d in dims):  # nothing split: as it is, on every device
      out = prim.bind(*vals, **params)
      return self._wrap(eqn, out, [() for _ in eqn.outvars])
    rule = getattr(self, "_" + name, None)
    if rule is not None:
      res = rule(eqn, vals, dims, avals)
      if res is not None:
        return res
    if name in _CALLS and _CALLS[name] in params:
      closed = params[_CALLS[name]]
      return self.run(closed.jaxpr, closed.consts, list(zip(vals, dims)))
    # anything else: whole operands, replicated result
    vals = [self.whole(x, d, a.shape) for x, d, a in zip(vals, dims, avals)]
    out = prim.bind(*vals, **params)
    return self._wrap(eqn, out, None)

  def _wrap(self, eqn, out, out_dims):
    outs = out if eqn.primitive.multiple_results else [out]
    if out_dims is None:
      out_dims = [tuple(() for _ in v.aval.shape) for v in eqn.outvars]
    return [(o, tuple(d) if d else tuple(() for _ in v.aval.shape))
            for o, d, v in zip(outs, out_dims, eqn.outvars)]

  # ------------------------------------------------------------ rules
  def _elementwise(self, eqn, vals, dims, avals, params):
    shape = eqn.outvars[0].aval.shape
    target = next((d for d, a in zip(dims, avals) if a.shape == shape and any(d)),
                  tuple(() for _ in shape))
    # an operand of the result's rank with size-1 dimensions (lax broadcasts them) keeps
    # those whole
    vals = [self.reshard(x, d, tuple(t if n == m else () for t, n, m in
                                     zip(target, a.shape, shape)), a.shape)
            if len(a.shape) == len(shape) else x
            for x, d, a in zip(vals, dims, avals)]
    return self._wrap(eqn, eqn.primitive.bind(*vals, **params), [target])

  def _broadcast_in_dim(self, eqn, vals, dims, avals):
    p = eqn.params
    shape, bd = p["shape"], p["broadcast_dimensions"]
    (x,), (d,), (a,) = vals, dims, avals
    if not any(d):
      return [(_Bcast(x, shape, bd), tuple(() for _ in shape))]
    out = [()] * len(shape)
    for i, o in enumerate(bd):
      if a.shape[i] == shape[o]:
        out[o] = d[i]
      elif d[i]:  # (a size-1 dimension is never split)
        return None
    local = self.local_shape(shape, out)
    y = lax.broadcast_in_dim(x, local, bd)
    return [(y, tuple(out))]

  def _transpose(self, eqn, vals, dims, avals):
    perm = eqn.params["permutation"]
    return [(eqn.primitive.bind(vals[0], **eqn.params), tuple(dims[0][i] for i in perm))]

  def _squeeze(self, eqn, vals, dims, avals):
    drop = set(eqn.params["dimensions"])
    return [(eqn.primitive.bind(vals[0], **eqn.params),
             tuple(d for i, d in enumerate(dims[0]) if i not in drop))]

  def _reshape(self, eqn, vals, dims, avals):
    old, new = avals[0].shape, eqn.params["new_sizes"]
    k = 0
    while k < min(len(old), len(new)) and old[k] == new[k]:
      k += 1
    if any(d for d in dims[0][k:]) or eqn.params.get("dimensions") is not None:
      return None
    out = tuple(dims[0][:k]) + tuple(() for _ in new[k:])
    local = dict(_local_params(eqn.params), new_sizes=self.local_shape(new, out))
    return [(eqn.primitive.bind(vals[0], **local), out)]

  def _slice(self, eqn, vals, dims, avals):
    p = eqn.params
    start, limit, strides = p["start_indices"], p["limit_indices"], p["strides"]
    shape, d = avals[0].shape, dims[0]
    for i, ax in enumerate(d):
      if ax and (start[i] != 0 or limit[i] != shape[i] or (strides and strides[i] != 1)):
        return None
    local = self.local_shape(shape, d)
    lim = tuple(local[i] if ax else limit[i] for i, ax in enumerate(d))
    return [(eqn.primitive.bind(vals[0], **dict(p, limit_indices=lim)), d)]

  def _concatenate(self, eqn, vals, dims, avals):
    dim = eqn.params["dimension"]
    first = dims[0]
    if first[dim] or any(d != first for d in dims[1:]):
      return None
    return [(eqn.primitive.bind(*vals, **eqn.params), first)]

  def _reduce(self, eqn, vals, dims, avals):
    axes = tuple(eqn.params["axes"])
    d = dims[0]
    out = eqn.primitive.bind(vals[0], **_local_params(eqn.params))
    mesh_axes = tuple(a for i in axes for a in d[i])
    if mesh_axes:
      out = _REDUCE[eqn.primitive.name](out, mesh_axes)
    return [(out, tuple(x for i, x in enumerate(d) if i not in axes))]

  _reduce_sum = _reduce_max = _reduce_min = _reduce

  def _dot_general(self, eqn, vals, dims, avals):
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    (x, y), (dx, dy), (ax, ay) = vals, dims, avals
    dx, dy = list(dx), list(dy)
    for i, j in list(zip(lc, rc)) + list(zip(lb, rb)):  # paired dimensions agree
      if dx[i] == dy[j]:
        continue
      if not dx[i]:
        dx[i] = dy[j]
      elif not dy[j]:
        dy[j] = dx[i]
      else:
        dx[i] = dy[j] = ()
    lf = [i for i in range(len(dx)) if i not in lc and i not in lb]
    rf = [j for j in range(len(dy)) if j not in rc and j not in rb]
    used = [a for i in lb for a in dx[i]] + [a for i in lf for a in dx[i]] + \
        [a for i in lc for a in dx[i]]
    for j in rf:  # an axis splitting two output (or contracted) dimensions: rhs whole
      if any(a in used for a in dy[j]):
        dy[j] = ()
      used += list(dy[j])
    if len(used) != len(set(used)):
      return None
    x = self.reshard(x, dims[0], tuple(dx), ax.shape)
    y = self.reshard(y, dims[1], tuple(dy), ay.shape)
    out = eqn.primitive.bind(x, y, **_local_params(eqn.params))
    summed = tuple(a for i in lc for a in dx[i])
    if summed:
      out = parallel.psum(out, summed)
    out_dims = [dx[i] for i in lb] + [dx[i] for i in lf] + [dy[j] for j in rf]
    return [(out, tuple(out_dims))]


_SHARDING_PARAMS = ("sharding", "out_sharding")


def _local_params(params):
  """The params with no sharding: in the body every value is a shard, unsharded."""
  if any(params.get(k) is not None for k in _SHARDING_PARAMS):
    params = {k: (None if k in _SHARDING_PARAMS else v) for k, v in params.items()}
  return params


def has_shard_map(jaxpr) -> bool:
  """Whether ``jaxpr`` (or a jaxpr inside it) binds shard_map."""
  for e in jaxpr.eqns:
    if e.primitive is shard_map_mod.shard_map_p:
      return True
    for v in e.params.values():
      inner = getattr(v, "jaxpr", None)
      if isinstance(v, ClosedJaxpr) and has_shard_map(inner):
        return True
      if isinstance(v, core.Jaxpr) and has_shard_map(v):
        return True
  return False


def partition(closed: ClosedJaxpr, in_dims, mesh):
  """The shard_map parameters computing ``closed`` from inputs split as ``in_dims`` (one
  tuple of mesh axes per dimension, per input) over every axis of ``mesh``."""
  part = _Part(mesh)
  avals = [v.aval for v in closed.jaxpr.invars]
  local = [core.ShapedArray(part.local_shape(a.shape, d), a.dtype, a.weak_type)
           for a, d in zip(avals, in_dims)]
  box = []

  def body(*xs):
    outs = part.run(closed.jaxpr, closed.consts, list(zip(xs, in_dims)))
    box[:] = [d for _, d in outs]
    return [x for x, _ in outs]

  manual = frozenset(mesh.axis_names)
  body_closed, tracer_consts = shard_map_mod._trace_body(body, local, None, mesh, manual,
                                                         False)
  assert not tracer_consts
  return dict(jaxpr=body_closed, mesh=mesh, in_specs=tuple(spec_of(d) for d in in_dims),
              out_specs=tuple(spec_of(d) for d in box), check_vma=False,
              newly_manual_axes=manual)


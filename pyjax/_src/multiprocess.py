"""Running on Arrays whose shards live in several processes (``array.GlobalArray``).

Each process holds one block of a global array (the box its devices' shards cover) and
runs only its own part:

- ``shard_map`` (so ``pmap`` too) runs its body on this process's members of the mesh,
  vmapped over them as on one process (``shard_map._per_device``); a mesh axis split
  across processes is a ``batching.SpanSize``, whose collectives reduce (gather,
  permute, ...) the local members and then exchange with the other processes through
  MPI (``parallel.cross_process_p``: a host call in the compiled program). The
  per-process program is traced and compiled once per signature.
- ``jit`` of a function taking GlobalArrays is interpreted equation by equation
  (``run_jaxpr``): a ``shard_map`` as above, a nested jit recursively, an elementwise
  primitive whose operands share one sharding on the blocks, anything else on the whole
  values (each process gathers its operands with MPI and computes the result, which is
  then replicated). So a jitted data-parallel step written with ``shard_map``/``pmap``
  scales across processes; other sharded computations are correct but not partitioned
  (no GSPMD: every process computes them whole).

Every process must make the same calls in the same order (as in JAX), since each
collective is an MPI collective.
"""
from __future__ import annotations

import math

import numpy as np

from pyjax._src import core, devices as devices_mod, dispatch, distributed, partition
from pyjax._src.array import ArrayImpl, GlobalArray, PendingArray, local_box
from pyjax._src.caches import LRUCache
from pyjax._src.core import ClosedJaxpr
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.lax import lax as lax_mod
from pyjax._src.lax.utils import ELEMENTWISE
from pyjax._src.lax.parallel import Span, allreduce_many_p, cross_process_p
from pyjax._src.mesh import Mesh
from pyjax._src.sharding import NamedSharding, PartitionSpec, spec_axes
from pyjax._src import shard_map as shard_map_mod

__all__ = ["active", "make_global", "whole", "put", "run_jaxpr", "apply_primitive",
           "is_global"]


def active() -> bool:
  return devices_mod.process_count() > 1


def is_global(x) -> bool:
  return type(x) is GlobalArray


# ---------------------------------------------------------------- making and reading


def make_global(sharding, gshape, block, weak_type=False):
  """The Array of ``sharding`` and global shape ``gshape`` whose block here is ``block``
  (a NumPy array of the box ``local_box`` gives)."""
  block = np.asarray(block)
  if sharding.is_fully_addressable:
    return ArrayImpl(block, weak_type, sharding)
  return GlobalArray(block, weak_type, sharding, tuple(gshape),
                     local_box(sharding, gshape))


def _box_shape(box, gshape):
  return tuple(n if b.start is None else b.stop - b.start for b, n in zip(box, gshape))


def whole(x) -> np.ndarray:
  """The whole value of ``x`` on every process (an all-gather of the blocks when this
  process holds only part of it)."""
  if type(x) is not GlobalArray:
    return np.asarray(x)
  if x._value.shape == x._gshape:
    return x._value
  starts = np.array([0 if b.start is None else b.start for b in x._box], np.int64)
  blocks = distributed.allgather(np.ascontiguousarray(x._value))
  origins = distributed.allgather(starts)
  out = np.empty(x._gshape, x._value.dtype)
  for blk, org in zip(blocks, origins):
    out[tuple(slice(o, o + n) for o, n in zip(org, blk.shape))] = blk
  return out


def put(x, sharding):
  """``x`` (any Array or array-like, the same whole value on every process, or a
  GlobalArray) as an Array of ``sharding``: this process's block of it."""
  if type(x) is GlobalArray and x._device == sharding:
    return x
  weak = getattr(x, "weak_type", False)
  v = whole(x)
  if sharding.is_fully_addressable:
    return ArrayImpl(np.array(v), weak, sharding)
  box = local_box(sharding, v.shape)
  return GlobalArray(np.ascontiguousarray(v[box]), weak, sharding, v.shape, box)


def from_process_local(sharding, local, global_shape=None):
  """``jax.make_array_from_process_local_data``: ``local`` is this process's block
  (dimensions split across processes are this process's part; the others whole)."""
  local = np.asarray(local)
  if global_shape is None:
    global_shape = _infer_global_shape(sharding, local.shape)
  global_shape = tuple(global_shape)
  box = local_box(sharding, global_shape)
  want = _box_shape(box, global_shape)
  if local.shape == global_shape and want != global_shape:
    local = local[box]  # every process passed the whole value
  elif local.shape != want:
    raise ValueError(f"make_array_from_process_local_data: this process's data has shape "
                     f"{local.shape}, but its part of the global shape {global_shape} "
                     f"under {sharding} is {want}.")
  return make_global(sharding, global_shape, np.ascontiguousarray(local))


def _infer_global_shape(sharding, local_shape):
  """Each dimension scaled by how many process blocks split it (JAX's inference)."""
  splits = sharding._dim_splits(len(local_shape))
  box = local_box(sharding, tuple(splits))  # in units of shards
  return tuple(n * k // (k if b.start is None else b.stop - b.start)
               for n, k, b in zip(local_shape, splits, box))


def from_shards(sharding, gshape, shard_of):
  """The Array whose shard on each addressable device is ``shard_of(device, index)``."""
  gshape = tuple(gshape)
  box = local_box(sharding, gshape)
  block = None
  for d, idx in sharding.addressable_devices_indices_map(gshape).items():
    v = np.asarray(shard_of(d, idx))
    if block is None:
      block = np.empty(_box_shape(box, gshape), v.dtype)
    local = tuple(slice((i.start or 0) - (b.start or 0),
                        (i.stop if i.stop is not None else n) - (b.start or 0))
                  for i, b, n in zip(idx, box, gshape))
    block[local] = v
  return make_global(sharding, gshape, block)


# ---------------------------------------------------------------- the mesh's layout


class _Layout:
  """Where this process sits on ``mesh``: for each axis its members here
  ``(offset, count)``, and a ``Span`` for each axis split across processes."""

  def __init__(self, mesh: Mesh):
    me = devices_mod.process_index()
    names = mesh.axis_names
    coords = [c for c, d in np.ndenumerate(mesh.devices) if d.process_index == me]
    if not coords:
      raise ValueError(f"The mesh {mesh} has no device of process {me}: every process "
                       f"must take part in a computation over it.")
    lo = [min(c[i] for c in coords) for i in range(len(names))]
    hi = [max(c[i] for c in coords) + 1 for i in range(len(names))]
    if math.prod(h - l for l, h in zip(lo, hi)) != len(coords):
      raise NotImplementedError(
          f"The devices of process {me} do not form a block of the mesh {mesh}; lay the "
          f"mesh out so that each process's devices are a contiguous block (as "
          f"jax.make_mesh does).")
    ids = tuple(d.id for d in mesh.devices.flat)
    self.local = {}
    self.spans = {}
    for i, a in enumerate(names):
      n, total = hi[i] - lo[i], mesh.axis_sizes[i]
      self.local[a] = n
      if n == total:
        continue
      if total % n:
        raise NotImplementedError(f"Mesh axis {a!r}: the processes hold unequal parts.")
      # the group: processes at this process's place on the other axes, ranked along a
      others = [lo[j] for j in range(len(names)) if j != i]
      color = 0
      for j, o in enumerate(others):
        color = color * (mesh.axis_sizes[j if j < i else j + 1] + 1) + o
      key = (ids, names, a)
      distributed.group(key, color, lo[i])
      self.spans[a] = Span(key, n, total, lo[i])


_layouts = LRUCache(64)


def layout(mesh) -> _Layout:
  lay = _layouts.get(mesh)
  if lay is None:
    lay = _layouts[mesh] = _Layout(mesh)
  return lay


# ---------------------------------------------------------------- shard_map


_programs = LRUCache(256)
# A per-process program made only of these (views and exchanges) runs eagerly.
_MOVES = frozenset({"reshape", "squeeze", "expand_dims", "broadcast_in_dim", "transpose",
                    "cross_process", "convert_element_type", "copy", "copy_p", "slice"})


def _block_for(x, sharding):
  """This process's block of ``x`` as ``sharding`` splits it."""
  if type(x) is GlobalArray and x._device == sharding:
    return x._value
  if type(x) is GlobalArray or isinstance(x, PendingArray):
    x = put(x, sharding)
    return x._value if type(x) is GlobalArray else np.asarray(x)
  v = np.asarray(x)
  return np.ascontiguousarray(v[local_box(sharding, v.shape)])


def run_shard_map(args, params):
  """shard_map on this process's members of the mesh (see the module docstring)."""
  mesh = params["mesh"]
  lay = layout(mesh)
  blocks, weak = [], []
  for x, spec in zip(args, params["in_specs"]):
    s = NamedSharding(mesh, _manual_only(spec, params["newly_manual_axes"]))
    blocks.append(_block_for(x, s))
    weak.append(getattr(x, "weak_type", False) if not isinstance(x, (int, float, complex))
                else True)
  avals = [core.ShapedArray(b.shape, b.dtype, w) for b, w in zip(blocks, weak)]
  key = (tuple((a.shape, a.dtype, a.weak_type) for a in avals),
         *(params[k] for k in shard_map_mod._PARAMS))
  prog = _programs.get(key)
  if prog is None:
    local = {a: (lay.local[a], lay.spans.get(a)) for a in mesh.axis_names}
    jaxpr, consts = pe.trace_to_jaxpr(
        lambda *xs: shard_map_mod._per_device(xs, **params, local=local), avals)
    closed = ClosedJaxpr(_combine_allreduces(jaxpr), consts)
    prog = _programs[key] = (closed, all(e.primitive.name in _MOVES for e in jaxpr.eqns))
  closed, moves_only = prog
  ins = [ArrayImpl(b, w) for b, w in zip(blocks, weak)]
  if moves_only:  # views and MPI on NumPy: compiling would copy into and out of IREE
    outs = core.eval_jaxpr(closed.jaxpr, closed.consts, *ins)
  else:
    outs = dispatch.run_closed_jaxpr(closed, "shard_map", ins)
  res = []
  for o, spec, aval in zip(outs, params["out_specs"], shard_map_mod._abstract_eval(**params)):
    s = NamedSharding(mesh, _manual_only(spec, params["newly_manual_axes"]))
    res.append(make_global(s, aval.shape, np.asarray(o), o.weak_type))
  return res


def _combine_allreduces(jaxpr):
  """One exchange for the program's independent all-reduces over one group (XLA's
  all-reduce combiner): a data-parallel step's per-parameter gradient psums become one
  MPI all-reduce, one wait for the slowest process instead of one per parameter.

  Greedy, in program order: an all-reduce joins the group of its (span, op) unless its
  operand depends on the group's results. The combined equation goes where the group's
  last member was, and every equation depending on a member's result moves after it
  (their order kept); nothing they depend on moves, so the order stays valid."""
  eqns = jaxpr.eqns
  def is_ar(e):
    return e.primitive is cross_process_p and e.params["kind"] == "allreduce"
  if sum(map(is_ar, eqns)) < 2:
    return jaxpr
  groups: dict = {}  # (span, op) -> [eqn]
  tainted: dict = {}  # var -> set of group keys whose results it depends on
  for e in eqns:
    deps = set()
    for v in e.invars:
      if type(v) is core.Var:
        deps |= tainted.get(v, set())
    if is_ar(e):
      k = (e.params["span"], e.params["op"])
      if k not in deps:
        groups.setdefault(k, []).append(e)
        deps = deps | {k}
    for v in e.outvars:
      if deps:
        tainted[v] = deps
  groups = {k: g for k, g in groups.items() if len(g) > 1}
  if not groups:
    return jaxpr
  out = list(eqns)
  for (span, op), mem_eqns in groups.items():
    members_set = {id(m) for m in mem_eqns}
    last = max(j for j, e in enumerate(out) if id(e) in members_set)
    combined = core.new_jaxpr_eqn([m.invars[0] for m in mem_eqns],
                                  [m.outvars[0] for m in mem_eqns], allreduce_many_p,
                                  dict(span=span, op=op))
    produced = {m.outvars[0] for m in mem_eqns}
    before, after = [], []
    for j, e in enumerate(out):
      if id(e) in members_set:
        continue
      uses = any(type(v) is core.Var and v in produced for v in e.invars)
      if j < last and uses:
        after.append(e)
        produced |= set(e.outvars)
      elif j < last:
        before.append(e)
      else:
        after.append(e)
    out = before + [combined] + after
  return core.Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, out, jaxpr.debug_info)


def _manual_only(spec, manual):
  """``spec`` with only the manual mesh axes (the others are not split in the body)."""
  parts = []
  for e in spec.partitions:
    axes = tuple(a for a in spec_axes(e) if a in manual)
    parts.append(None if not axes else axes[0] if len(axes) == 1 else axes)
  return PartitionSpec(*parts)


# ---------------------------------------------------------------- jit and eager ops


def _sharding_of(args):
  for a in args:
    if type(a) is GlobalArray:
      return a._device
  return None


def _replicated(mesh):
  return NamedSharding(mesh, PartitionSpec())


def apply_primitive(prim, args, params):
  """One primitive on operands some of which are GlobalArrays."""
  if prim is shard_map_mod.shard_map_p:
    return run_shard_map(args, params)
  if prim.name in ("jit", "pjit", "closed_call", "core_call"):
    closed = params["jaxpr"]
    return run_jaxpr(closed.jaxpr, closed.consts, args)
  s = _sharding_of(args)
  avals = [core.get_aval(a) for a in args]
  # elementwise on operands split alike (rank-0 ones broadcast): on the blocks
  g = next((a for a, av in zip(args, avals) if type(a) is GlobalArray and av.shape), None)
  if g is not None and prim.name in ELEMENTWISE and not prim.multiple_results and all(
      type(a) is GlobalArray and a._device == g._device and av.shape == g._gshape
      or not av.shape for a, av in zip(args, avals)):
    ins = [ArrayImpl(a._value, a.weak_type) if type(a) is GlobalArray else a for a in args]
    out = prim.bind(*ins, **params)
    return GlobalArray(np.asarray(out), out.weak_type, g._device, g._gshape, g._box)
  # Anything else: on the whole values, replicated over the mesh.
  ins = [ArrayImpl(whole(a), a.weak_type) if type(a) is GlobalArray else a for a in args]
  outs = prim.bind(*ins, **params)
  rep = _replicated(s.mesh)
  flat = outs if prim.multiple_results else [outs]
  res = [GlobalArray(np.asarray(o), o.weak_type, rep, np.shape(o),
                     tuple(slice(None) for _ in np.shape(o))) for o in flat]
  return res if prim.multiple_results else res[0]


def run_jaxpr(jaxpr, consts, args):
  """Evaluates ``jaxpr`` equation by equation: equations with GlobalArray operands run
  through ``apply_primitive``, the others as usual (eagerly)."""
  env = {}

  def read(v):
    return v.val if type(v) is core.Literal else env[v]

  for v, c in zip(jaxpr.constvars, consts):
    env[v] = c
  for v, a in zip(jaxpr.invars, args):
    env[v] = a
  for eqn in jaxpr.eqns:
    ins = [read(v) for v in eqn.invars]
    if any(type(a) is GlobalArray for a in ins):
      outs = apply_primitive(eqn.primitive, ins, eqn.params)
    else:
      outs = eqn.primitive.bind(*ins, **eqn.params)
    if not eqn.primitive.multiple_results:
      outs = [outs]
    for v, o in zip(eqn.outvars, outs):
      env[v] = o
  return [read(v) for v in jaxpr.outvars]


_partitioned = LRUCache(256)


def _common_mesh(args):
  mesh = None
  for a in args:
    if type(a) is GlobalArray:
      m = a._device.mesh
      if mesh is not None and m != mesh:
        return None
      mesh = m
  return mesh


def run_partitioned(closed: ClosedJaxpr, args):
  """``closed`` on its arguments' shards (``partition``: GSPMD's common cases), as a
  shard_map over their mesh; None where that does not apply (several meshes, or a
  shard_map inside, which ``run_jaxpr`` runs as it is)."""
  mesh = _common_mesh(args)
  if mesh is None or partition.has_shard_map(closed.jaxpr):
    return None
  in_dims = tuple(
      partition.dims_of(a._device.spec, len(a._gshape)) if type(a) is GlobalArray
      else tuple(() for _ in core.get_aval(a).shape) for a in args)
  key = (closed, in_dims, mesh)
  params = _partitioned.get(key)
  if params is None:
    params = _partitioned[key] = partition.partition(closed, in_dims, mesh)
  return run_shard_map(args, params)


def run_jit(closed: ClosedJaxpr, leaves, out_shardings=None):
  """A jitted function on arguments some of which are GlobalArrays; results placed per
  ``out_shardings`` (a Sharding or None per result)."""
  outs = run_partitioned(closed, leaves)
  if outs is None:
    outs = run_jaxpr(closed.jaxpr, closed.consts, leaves)
  outs = [o if isinstance(o, ArrayImpl) else lax_mod._to_array(o) for o in outs]
  if out_shardings is not None:
    outs = [o if s is None or not isinstance(s, NamedSharding) else put(o, s)
            for o, s in zip(outs, out_shardings)]
  return outs


dispatch.register_global_eval(apply_primitive)

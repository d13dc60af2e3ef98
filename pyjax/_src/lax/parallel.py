"""Collectives over named axes: psum, pmax, pmin, all_gather, axis_index,
psum_scatter, all_to_all, ppermute (and pmean, pshuffle, axis_size on top).

Each primitive is an ``AxisPrimitive``: ``named_batch`` runs it across the
batch axis of the vmap that names it (a reduction or re-layout over that
axis); ``batch`` vectorizes it over a vmap axis it does not name. The linear
ones transpose into each other as in JAX (psum <-> psum, all_gather <->
psum_scatter, all_to_all <-> all_to_all, ppermute <-> inverse ppermute); pmax
and pmin have no derivative (nor in JAX). Outside any trace that binds the
name, they raise ``NameError("unbound axis name: i")``.
"""
from __future__ import annotations

import math

import numpy as np

from pyjax._src import core, distributed, tree_util
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters.batching import AxisPrimitive, SpanSize, axis_size
from pyjax._src.lax import lax, slicing
from pyjax._src.lax import reductions as lax_reductions


def _names(axis_name) -> tuple:
  names = axis_name if isinstance(axis_name, (tuple, list)) else (axis_name,)
  for n in names:
    axis_size(n)  # NameError when unbound
  return tuple(names)


def _single_name(axis_name, what):
  names = _names(axis_name)
  if len(names) != 1:
    raise NotImplementedError(f"{what} over several axes {names} is not supported; "
                              f"nest one call per axis.")
  return names


def _no_groups(axis_index_groups, what):
  if axis_index_groups is not None:
    raise NotImplementedError(f"{what}: axis_index_groups is not supported.")


def _unbound_impl(p):
  def impl(*args, **params):
    raise NameError(f"unbound axis name: {p.axis_names(params)[0]}")
  return impl


def _axis_prim(name, axis_param="axis_name"):
  p = AxisPrimitive(name, axis_param)
  p.def_impl(_unbound_impl(p))
  return p


# ---------------------------------------------------------------- across processes


class Span:
  """A mesh axis split across processes (see ``batching.SpanSize``): ``total`` members,
  of which this process holds ``local`` consecutive ones from ``offset``; the processes
  sharing this process's place on the mesh's other axes form MPI group ``key`` (made by
  ``multiprocess`` when it sets the axis up), ranked along the axis: the group's
  process ``r`` holds members ``[r * local, (r + 1) * local)``."""
  __slots__ = ("key", "local", "total", "offset")

  def __init__(self, key, local, total, offset):
    self.key, self.local, self.total, self.offset = key, local, total, offset

  nproc = property(lambda self: self.total // self.local)
  rank = property(lambda self: self.offset // self.local)
  comm = property(lambda self: distributed.global_state.groups[self.key])

  def _id(self):
    return (self.key, self.local, self.total, self.offset)

  def __eq__(self, other):
    return type(other) is Span and other._id() == self._id()

  def __hash__(self):
    return hash(self._id())

  def __repr__(self):
    return f"Span({self.key!r}, {self.offset}:{self.offset + self.local} of {self.total})"


def _span(size):
  return size.span if type(size) is SpanSize else None


# One primitive for every exchange between processes; ``kind`` says which, over the
# group of ``span``. Shapes: allreduce keeps x; allgather concatenates along ``axis``
# (process order); reduce_scatter sums, then keeps this process's block along ``axis``;
# alltoall sends block q along axis 0 to process q and stacks what arrives there;
# ppermute moves members (axis 0, ``local`` of them here) per ``perm``; bcast sends
# ``root``'s x. Eagerly NumPy + MPI (``distributed``); compiled, a host call.
cross_process_p = Primitive("cross_process")


def _xp_abstract(x, *, kind, span, **params):
  shape = list(x.shape)
  if kind == "allgather":
    shape[params["axis"]] *= span.nproc
  elif kind == "reduce_scatter":
    shape[params["axis"]] //= span.nproc
  return ShapedArray(tuple(shape), x.dtype, x.weak_type)


def _xp_numpy(x, *, kind, span, **params):
  x = np.asarray(x)
  comm = span.comm
  if kind == "allreduce":
    return distributed.allreduce(x, params["op"], comm)
  if kind == "allgather":
    a = params["axis"]
    g = distributed.allgather(x, comm)  # (process, *x.shape)
    return np.concatenate(list(g), axis=a) if g.shape[0] > 1 else g[0]
  if kind == "reduce_scatter":
    a = params["axis"]
    y = np.moveaxis(x, a, 0)
    y = y.reshape((span.nproc, y.shape[0] // span.nproc) + y.shape[1:])
    return np.moveaxis(distributed.reduce_scatter(y, comm), 0, a)
  if kind == "alltoall":
    return distributed.alltoall(x, comm)
  if kind == "bcast":
    return distributed.bcast(x, params["root"], comm)
  if kind == "ppermute":
    return _xp_ppermute(x, span, params["perm"])
  raise ValueError(kind)


def _xp_ppermute(x, span, perm):
  """Members ``[offset, offset + local)`` are x's axis 0 here; each (src, dst) of
  ``perm`` moves member src's slice to member dst (tagged by dst)."""
  lo, n, out = span.offset, span.local, np.zeros_like(x)
  sends, recvs = {}, []
  for src, dst in perm:
    mine_src, mine_dst = lo <= src < lo + n, lo <= dst < lo + n
    if mine_src and mine_dst:
      out[dst - lo] = x[src - lo]
    elif mine_src:
      sends[dst // n, dst] = x[src - lo]
    elif mine_dst:
      recvs.append((src // n, dst))
  got = distributed.sendrecv(sends, recvs, x[0], span.comm)
  for (_, dst), v in got.items():
    out[dst - lo] = v
  return out


def _xp_impl(x, **params):
  v = _xp_numpy(x, **params)
  return ArrayImpl(v if v.ndim else v[()], core.get_aval(x).weak_type)


def _xp_lower(ctx, x, **params):
  return ctx.host_call(lambda v: [_xp_numpy(v, **params)], [x], ctx.avals_out)[0]


def _xp_batch(vals, dims, *, kind, span, **params):
  x, d = vals[0], dims[0]
  if kind in ("allreduce", "bcast"):
    return cross_process_p.bind(x, kind=kind, span=span, **params), d
  x = batching.moveaxis(x, d, 1)  # past the process/member axis 0 of alltoall/ppermute
  if "axis" in params:
    a = params["axis"]
    x = batching.moveaxis(x, 1, 0)
    return cross_process_p.bind(x, kind=kind, span=span, **dict(params, axis=a + 1)), 0
  return cross_process_p.bind(x, kind=kind, span=span, **params), 1


cross_process_p.def_impl(_xp_impl)
cross_process_p.def_abstract_eval(_xp_abstract)
cross_process_p.lower = _xp_lower
cross_process_p.batch = _xp_batch
cross_process_p.effectful = True  # every process must run it: never dropped


# Several all-reduces over one group in one exchange (``multiprocess`` combines a
# program's independent ones, as XLA's all-reduce combiner does): the operands are
# raveled into one buffer per dtype, reduced, and split again.
allreduce_many_p = Primitive("cross_process_allreduce")
allreduce_many_p.multiple_results = True
allreduce_many_p.effectful = True


def _many_numpy(*xs, span, op):
  xs = [np.asarray(x) for x in xs]
  out = [None] * len(xs)
  for dt in dict.fromkeys(x.dtype for x in xs):  # (an order every process shares)
    idx = [i for i, x in enumerate(xs) if x.dtype == dt]
    flat = np.concatenate([xs[i].reshape(-1) for i in idx])
    red = distributed.allreduce(flat, op, span.comm)
    at = 0
    for i in idx:
      n = xs[i].size
      out[i] = red[at:at + n].reshape(xs[i].shape)
      at += n
  return out


allreduce_many_p.def_impl(lambda *xs, **params: [
    ArrayImpl(v if v.ndim else v[()], core.get_aval(x).weak_type)
    for v, x in zip(_many_numpy(*xs, **params), xs)])
allreduce_many_p.def_abstract_eval(lambda *avals, **_: list(avals))
allreduce_many_p.lower = lambda ctx, *xs, **params: ctx.host_call(
    lambda *vs: _many_numpy(*vs, **params), list(xs), ctx.avals_out)


def _xp(x, kind, span, **params):
  return cross_process_p.bind(x, kind=kind, span=span, **params)


def _local_members(x, span, axis):
  """This process's members ``[offset, offset + local)`` of axis ``axis`` of a value
  computed for all members."""
  return slicing.slice_in_dim(x, span.offset, span.offset + span.local, axis=axis)


# ---------------------------------------------------------------- psum / pmax / pmin


def _reducer(name, reduce, unbatched):
  """An all-reduce; ``unbatched(x, size)`` is its value for a value equal on every member."""
  p = _axis_prim(name, "axes")
  p.def_abstract_eval(lambda x, *, axes, axis_index_groups: x)
  op = name[1:]  # psum -> sum: the MPI reduction between processes

  def named_batch(name, size, vals, dims, /, *, axes, axis_index_groups):
    x, d = vals[0], dims[0]
    span = _span(size)
    if span is None:
      x = unbatched(x, size) if d is None else reduce(x, (d,))
    elif d is None:  # equal on every member, in every process
      x = unbatched(x, span.total)
    else:  # (one member here: a squeeze, no copy)
      x = lax.squeeze(x, (d,)) if core.get_aval(x).shape[d] == 1 else reduce(x, (d,))
      x = _xp(x, "allreduce", span, op=op)
    rest = tuple(a for a in axes if a != name)
    if rest:
      x = p.bind(x, axes=rest, axis_index_groups=axis_index_groups)
    return x, None

  p.named_batch = named_batch
  p.batch = lambda vals, dims, **params: (p.bind(vals[0], **params), dims[0])
  return p


psum_p = _reducer("psum", lax.reduce_sum, lambda x, n: lax.mul(x, lax._const(x, n)))
pmax_p = _reducer("pmax", lax_reductions.reduce_max, lambda x, n: x)
pmin_p = _reducer("pmin", lax_reductions.reduce_min, lambda x, n: x)
# Linear: the cotangent of every member's operand sums every member's cotangent.
ad.deflinear(psum_p, lambda ct, x, **params: [psum_p.bind(ct, **params)])


def _allreduce_api(p):
  def fn(x, axis_name, *, axis_index_groups=None):
    _no_groups(axis_index_groups, p.name)
    names = _names(axis_name)
    if p is psum_p and all(_vma_checked(n) for n in names):
      return tree_util.tree_map(
          lambda l: psum_invariant_p.bind(lax._to_array(l), axes=names), x)
    return tree_util.tree_map(
        lambda l: p.bind(lax._to_array(l), axes=names, axis_index_groups=None), x)
  fn.__name__ = p.name
  return fn


def _vma_checked(name) -> bool:
  """Whether ``name`` is a mesh axis of a shard_map body traced with check_vma (its
  axis frame says so)."""
  t = core.trace_ctx.trace
  while t is not None:
    if getattr(t, "axis_name", None) == name:
      return getattr(t, "vma_checked", False)
    t = t.parent if t.parent is not None else getattr(t, "outer", None)
  return False


# psum in a shard_map body with check_vma (JAX's name): the same reduction, but its
# operand is taken to vary over the axes, so its transpose copies the cotangent to every
# member (JAX's pvary) instead of summing it again.
psum_invariant_p = _axis_prim("psum_invariant", "axes")
psum_invariant_p.def_abstract_eval(lambda x, *, axes: x)


def _psum_invariant_named(name, size, vals, dims, /, *, axes):
  x, d = vals[0], dims[0]
  span = _span(size)
  if d is None:
    x = lax.mul(x, lax._const(x, size if span is None else span.total))
  elif span is not None:
    x = lax.squeeze(x, (d,)) if core.get_aval(x).shape[d] == 1 else lax.reduce_sum(x, (d,))
    x = _xp(x, "allreduce", span, op="sum")
  else:
    x = lax.reduce_sum(x, (d,))
  rest = tuple(a for a in axes if a != name)
  return (psum_invariant_p.bind(x, axes=rest) if rest else x), None


psum_invariant_p.named_batch = _psum_invariant_named
psum_invariant_p.batch = lambda vals, dims, **params: (
    psum_invariant_p.bind(vals[0], **params), dims[0])
ad.deflinear(psum_invariant_p, lambda ct, x, **params: [ct])


psum = _allreduce_api(psum_p)
pmax = _allreduce_api(pmax_p)
pmin = _allreduce_api(pmin_p)


def pmean(x, axis_name, *, axis_index_groups=None):
  _no_groups(axis_index_groups, "pmean")
  n = math.prod(axis_size(a) for a in _names(axis_name))
  # The Array's ``/`` (jnp.true_divide, as JAX): lax may not import the numpy layer.
  return tree_util.tree_map(lambda s: s / n, psum(x, axis_name))


# ---------------------------------------------------------------- axis_index


axis_index_p = _axis_prim("axis_index")
axis_index_p.def_abstract_eval(lambda *, axis_name: ShapedArray((), np.int32))
def _axis_index_named(name, size, vals, dims, /, **params):
  span = _span(size)
  i = lax.iota(np.int32, int(size))
  return (i if span is None else lax.add(i, np.int32(span.offset))), 0


axis_index_p.named_batch = _axis_index_named


def axis_index(axis_name):
  """This member's position along the named axis (int32); over a tuple of axes, the
  position in their product (the first axis major)."""
  names = _names(axis_name)
  if len(names) == 1:
    return axis_index_p.bind(axis_name=names[0])
  idx, stride = np.int32(0), 1  # JAX's sum, from the last (minor) axis
  for n in reversed(names):
    idx = lax.add(idx, lax.mul(axis_index_p.bind(axis_name=n), np.int32(stride)))
    stride *= axis_size(n)
  return idx


def _size(names) -> int:
  return math.prod(axis_size(n) for n in names)


# ---------------------------------------------------------------- all_gather


all_gather_p = _axis_prim("all_gather")


def _all_gather_abstract(x, *, all_gather_dimension, axis_name, axis_index_groups, axis_size,
                         tiled):
  shape = list(x.shape)
  if tiled:
    shape[all_gather_dimension] *= axis_size
  else:
    shape.insert(all_gather_dimension, axis_size)
  return ShapedArray(shape, x.dtype, x.weak_type)


def _merge(x, a):
  """Merges axes ``a`` and ``a + 1`` of ``x`` (the first one major)."""
  s = core.get_aval(x).shape
  return lax.reshape(x, (*s[:a], s[a] * s[a + 1], *s[a + 2:]))


def _all_gather_named(name, size, vals, dims, /, *, all_gather_dimension, tiled, **_):
  x = batching.bdim_at_front(vals[0], dims[0], int(size))
  span = _span(size)
  if span is not None:  # every process's members, in member order
    x = _xp(x, "allgather", span, axis=0)
  x = batching.moveaxis(x, 0, all_gather_dimension)
  return (_merge(x, all_gather_dimension) if tiled else x), None


def _all_gather_batch(vals, dims, *, all_gather_dimension, **params):
  x = batching.moveaxis(vals[0], dims[0], 0)
  return all_gather_p.bind(x, all_gather_dimension=all_gather_dimension + 1, **params), 0


all_gather_p.def_abstract_eval(_all_gather_abstract)
all_gather_p.named_batch = _all_gather_named
all_gather_p.batch = _all_gather_batch
ad.deflinear(all_gather_p, lambda ct, x, *, all_gather_dimension, **params: [
    reduce_scatter_p.bind(ct, scatter_dimension=all_gather_dimension, **params)])


def all_gather(x, axis_name, *, axis_index_groups=None, axis=0, tiled=False):
  """Every member's ``x`` stacked along a new ``axis`` (or concatenated if ``tiled``)."""
  _no_groups(axis_index_groups, "all_gather")
  names = _names(axis_name)
  if len(names) > 1:  # the last axis first, then tiled gathers: the first axis is major
    def gather_multi(l):
      l = lax._to_array(l)
      a = lax._canon_axis(axis, l.ndim + (not tiled))
      for k, n in enumerate(reversed(names)):
        l = all_gather(l, n, axis=a, tiled=tiled or k > 0)
      return l
    return tree_util.tree_map(gather_multi, x)
  n = axis_size(names[0])

  def gather_leaf(l):
    l = lax._to_array(l)
    a = lax._canon_axis(axis, l.ndim + (not tiled))
    return all_gather_p.bind(l, all_gather_dimension=a, axis_name=names,
                             axis_index_groups=None, axis_size=n, tiled=bool(tiled))
  return tree_util.tree_map(gather_leaf, x)


# ---------------------------------------------------------------- psum_scatter


reduce_scatter_p = _axis_prim("reduce_scatter")


def _reduce_scatter_abstract(x, *, scatter_dimension, axis_name, axis_index_groups, axis_size,
                             tiled):
  shape = list(x.shape)
  if tiled:
    shape[scatter_dimension] //= axis_size
  else:
    del shape[scatter_dimension]
  return ShapedArray(shape, x.dtype, x.weak_type)


def _reduce_scatter_named(name, size, vals, dims, /, *, scatter_dimension, tiled, **_):
  x, d = vals[0], dims[0]
  span, sd = _span(size), scatter_dimension
  total = size if span is None else span.total
  s = lax.mul(x, lax._const(x, total)) if d is None else lax.reduce_sum(x, (d,))
  if span is not None:  # the members here keep their consecutive block of the sum
    if d is None:
      n = core.get_aval(s).shape[sd] // span.nproc
      s = slicing.slice_in_dim(s, span.rank * n, (span.rank + 1) * n, axis=sd)
    else:
      s = _xp(s, "reduce_scatter", span, axis=sd)
  if tiled:  # split the scattered axis into (members, chunk): members is the batch axis
    shp = core.get_aval(s).shape
    s = lax.reshape(s, (*shp[:sd], int(size), shp[sd] // int(size), *shp[sd + 1:]))
  return s, sd


def _reduce_scatter_batch(vals, dims, *, scatter_dimension, **params):
  x = batching.moveaxis(vals[0], dims[0], 0)
  return reduce_scatter_p.bind(x, scatter_dimension=scatter_dimension + 1, **params), 0


reduce_scatter_p.def_abstract_eval(_reduce_scatter_abstract)
reduce_scatter_p.named_batch = _reduce_scatter_named
reduce_scatter_p.batch = _reduce_scatter_batch
ad.deflinear(reduce_scatter_p, lambda ct, x, *, scatter_dimension, **params: [
    all_gather_p.bind(ct, all_gather_dimension=scatter_dimension, **params)])


def _check_split(op, what, shape, axis, n, tiled, name):
  """The axis split across ``n`` members must have size n (or a multiple, if tiled)."""
  m = shape[axis]
  if (m % n if tiled else m != n):
    need = "divisible by" if tiled else "equal to"
    raise ValueError(f"{op}: {what} of the operand (shape {shape}) must be {need} the "
                     f"size {n} of axis {name!r}.")


def _check_scatter(m, n, tiled):
  """JAX's errors for a scattered dimension of size ``m`` over ``n`` members."""
  if tiled and m % n:
    raise ValueError(f"tiled reduce_scatter operand scatter dimension size {m} must be "
                     f"divisible by shard_count {n}")
  if not tiled and m != n:
    raise ValueError(f"reduce_scatter operand scatter dimension size {m} must match shard "
                     f"count {n}")


def psum_scatter(x, axis_name, *, scatter_dimension=0, axis_index_groups=None, tiled=False):
  """psum, with member ``k`` keeping only the ``k``-th piece along ``scatter_dimension``."""
  _no_groups(axis_index_groups, "psum_scatter")
  names = _names(axis_name)
  if len(names) > 1:  # scatter over the first axis, then within its piece, ...
    def scatter_multi(l):
      l = lax._to_array(l)
      sd = lax._canon_axis(scatter_dimension, l.ndim)
      _check_scatter(l.shape[sd], _size(names), tiled)
      if not tiled:
        l = lax.reshape(l, (*l.shape[:sd], *(axis_size(n) for n in names),
                            *l.shape[sd + 1:]))
      for n in names:
        l = psum_scatter(l, n, scatter_dimension=sd, tiled=tiled)
      return l
    return tree_util.tree_map(scatter_multi, x)
  n = axis_size(names[0])

  def leaf(l):
    l = lax._to_array(l)
    sd = lax._canon_axis(scatter_dimension, l.ndim)
    _check_scatter(l.shape[sd], n, tiled)
    return reduce_scatter_p.bind(l, scatter_dimension=sd, axis_name=names,
                                 axis_index_groups=None, axis_size=n, tiled=bool(tiled))
  return tree_util.tree_map(leaf, x)


# ---------------------------------------------------------------- all_to_all


all_to_all_p = _axis_prim("all_to_all")


def _all_to_all_abstract(x, *, split_axis, concat_axis, axis_name, axis_index_groups,
                         tiled):
  axis_size = _size(axis_name if isinstance(axis_name, tuple) else (axis_name,))
  shape = list(x.shape)
  if tiled:
    shape[split_axis] //= axis_size
    shape[concat_axis] *= axis_size
  else:
    del shape[split_axis]
    shape.insert(concat_axis, axis_size)
  return ShapedArray(shape, x.dtype, x.weak_type)


def _all_to_all_named(name, size, vals, dims, /, *, split_axis, concat_axis, tiled, **_):
  x = batching.bdim_at_front(vals[0], dims[0], int(size))  # (sender j, *shape)
  span, s = _span(size), split_axis + 1
  if span is not None:
    # The split axis as (receiving process q, its members, chunk): block q goes to
    # process q, and what arrives is (sending process, its members, ...): all senders.
    shp = core.get_aval(x).shape
    p, n = span.nproc, span.local
    x = lax.reshape(x, (*shp[:s], p, n, shp[s] // (p * n), *shp[s + 1:]))
    x = _xp(batching.moveaxis(x, s, 0), "alltoall", span)
    shp = core.get_aval(x).shape
    x = lax.reshape(x, (p * n, *shp[2:]))  # (sender j, *shape with (n, chunk) at s)
    if not tiled:
      x = lax.squeeze(x, (s + 1,))
  elif tiled:
    shp = core.get_aval(x).shape
    x = lax.reshape(x, (*shp[:s], size, shp[s] // size, *shp[s + 1:]))
  # Receiver k takes piece k of every sender: k becomes the batch axis, and the
  # sender axis j goes to concat_axis (merged with the axis there if tiled).
  x = batching.moveaxis(batching.moveaxis(x, split_axis + 1, 0), 1, 1 + concat_axis)
  return (_merge(x, 1 + concat_axis) if tiled else x), 0


def _all_to_all_batch(vals, dims, *, split_axis, concat_axis, **params):
  x = batching.moveaxis(vals[0], dims[0], 0)
  return all_to_all_p.bind(x, split_axis=split_axis + 1, concat_axis=concat_axis + 1,
                           **params), 0


all_to_all_p.def_abstract_eval(_all_to_all_abstract)
all_to_all_p.named_batch = _all_to_all_named
all_to_all_p.batch = _all_to_all_batch
ad.deflinear(all_to_all_p, lambda ct, x, *, split_axis, concat_axis, **params: [
    all_to_all_p.bind(ct, split_axis=concat_axis, concat_axis=split_axis, **params)])


def all_to_all(x, axis_name, split_axis, concat_axis, *, axis_index_groups=None,
               tiled=False):
  """Member ``k`` receives piece ``k`` (along ``split_axis``) of every member's ``x``,
  stacked (or, if ``tiled``, concatenated) along ``concat_axis`` in member order."""
  _no_groups(axis_index_groups, "all_to_all")
  names = _names(axis_name)
  if len(names) > 1:
    return tree_util.tree_map(
        lambda l: _all_to_all_multi(lax._to_array(l), names, split_axis, concat_axis,
                                    tiled), x)
  n = axis_size(names[0])

  def leaf(l):
    l = lax._to_array(l)
    sa = lax._canon_axis(split_axis, l.ndim)
    ca = lax._canon_axis(concat_axis, l.ndim)
    _check_split("all_to_all", f"split_axis {sa}", l.shape, sa, n, tiled, names[0])
    return all_to_all_p.bind(l, split_axis=sa, concat_axis=ca, axis_name=names[0],
                             axis_index_groups=None, tiled=bool(tiled))
  return tree_util.tree_map(leaf, x)


def _all_to_all_multi(l, names, split_axis, concat_axis, tiled):
  """all_to_all over several axes: every member's ``l`` gathered, then this member's
  piece of each."""
  n = _size(names)
  sa = lax._canon_axis(split_axis, l.ndim)
  ca = lax._canon_axis(concat_axis, l.ndim)
  _check_split("all_to_all", f"split_axis {sa}", l.shape, sa, n, tiled, names)
  chunk = l.shape[sa] // n if tiled else 1
  g = all_gather(l, names, axis=0)  # (member, *shape)
  start = lax.mul(axis_index(names), np.int32(chunk))
  piece = slicing.dynamic_slice_in_dim(g, start, chunk, sa + 1)
  if not tiled:
    return batching.moveaxis(lax.squeeze(piece, (sa + 1,)), 0, ca)
  return _merge(batching.moveaxis(piece, 0, ca), ca)


# ---------------------------------------------------------------- ppermute


ppermute_p = _axis_prim("ppermute")
ppermute_p.def_abstract_eval(lambda x, *, axis_name, perm: x)


def _ppermute_named(name, size, vals, dims, /, *, perm, **_):
  span = _span(size)
  if span is not None:
    x = batching.bdim_at_front(vals[0], dims[0], int(size))
    return _xp(x, "ppermute", span, perm=tuple(perm)), 0
  x = batching.bdim_at_front(vals[0], dims[0], size)
  src = np.full(size, -1, np.int32)
  for s, t in perm:
    src[t] = s
  shape = core.get_aval(x).shape
  dn = slicing.GatherDimensionNumbers(tuple(range(1, len(shape))), (0,), (0,))
  out = slicing.gather(x, np.maximum(src, 0)[:, None], dn, (1, *shape[1:]),
                       mode=slicing.GatherScatterMode.PROMISE_IN_BOUNDS)
  if (src < 0).any():  # members nobody sends to receive zeros
    keep = lax.broadcast_in_dim(lax._to_array(src >= 0), shape, (0,))
    out = lax.select(keep, out, lax.full_like(out, 0))
  return out, 0


ppermute_p.named_batch = _ppermute_named
ppermute_p.batch = lambda vals, dims, **params: (ppermute_p.bind(vals[0], **params), dims[0])
ad.deflinear(ppermute_p, lambda ct, x, *, axis_name, perm: [
    ppermute_p.bind(ct, axis_name=axis_name, perm=tuple((t, s) for s, t in perm))])


def ppermute(x, axis_name, perm):
  """Sends member ``src``'s ``x`` to member ``dst`` for each ``(src, dst)`` in ``perm``;
  members that receive nothing get zeros."""
  names = _names(axis_name)
  n = _size(names)
  perm = tuple((int(s), int(t)) for s, t in perm)
  srcs, dsts = [s for s, _ in perm], [t for _, t in perm]
  if len(set(srcs)) != len(srcs) or len(set(dsts)) != len(dsts):
    raise ValueError(f"ppermute sources and destinations must be unique, got {perm}.")
  if any(not 0 <= i < n for i in srcs + dsts):
    where = repr(names[0]) if len(names) == 1 else str(names)
    raise ValueError(f"ppermute perm {perm} has indices outside the axis {where} of "
                     f"size {n}.")
  if len(names) > 1:
    return tree_util.tree_map(lambda l: _ppermute_multi(lax._to_array(l), names, perm, n),
                              x)
  return tree_util.tree_map(
      lambda l: ppermute_p.bind(lax._to_array(l), axis_name=names, perm=perm), x)


def _ppermute_multi(l, names, perm, n):
  """ppermute over several axes (members numbered in their product): every member's
  ``l`` gathered, then the sender's taken."""
  src = np.full(n, -1, np.int32)
  for s, t in perm:
    src[t] = s
  me = axis_index(names)
  g = all_gather(l, names, axis=0)
  who = slicing.dynamic_index_in_dim(lax._to_array(np.maximum(src, 0)), me, 0, False)
  out = slicing.dynamic_index_in_dim(g, who, 0, False)
  if (src < 0).any():  # members nobody sends to receive zeros
    keep = slicing.dynamic_index_in_dim(lax._to_array(src >= 0), me, 0, False)
    out = lax.select(lax.broadcast_in_dim(keep, l.shape, ()), out, lax.full_like(out, 0))
  return out


def pshuffle(x, axis_name, perm):
  """Member ``i`` receives member ``perm[i]``'s ``x``."""
  perm = [int(p) for p in perm]
  if sorted(perm) != list(range(len(perm))):
    raise ValueError(f"`perm` does not represent a permutation: {perm}")
  return ppermute(x, axis_name, [(s, t) for t, s in enumerate(perm)])


# ---------------------------------------------------------------- pswapaxes, pbroadcast, pcast


def pswapaxes(x, axis_name, axis, *, axis_index_groups=None):
  """Swaps the named axis with the unmapped axis ``axis`` (an all_to_all from ``axis``
  to ``axis``)."""
  return all_to_all(x, axis_name, axis, axis, axis_index_groups=axis_index_groups)


pbroadcast_p = _axis_prim("pbroadcast")
pbroadcast_p.def_abstract_eval(lambda x, *, axis_name, source: x)


def _pbroadcast_named(name, size, vals, dims, /, *, axis_name, source):
  if len(axis_name) != 1:
    raise NotImplementedError("pbroadcast batcher only supports a single axis")
  span = _span(size)
  if span is not None:
    if dims[0] is None:
      return vals[0], None
    x = batching.moveaxis(vals[0], dims[0], 0)
    root, here = divmod(source, span.local)
    mine = slicing.index_in_dim(x, here, 0, keepdims=False)  # the source's on its process
    return _xp(mine, "bcast", span, root=root), None
  x = batching.bdim_at_front(vals[0], dims[0], size)
  return lax.broadcast_in_dim(slicing.index_in_dim(x, source, 0, keepdims=False),
                              core.get_aval(x).shape,
                              tuple(range(1, core.get_aval(x).ndim))), 0


def _pbroadcast_transpose(ct, x, *, axis_name, source):
  # every member's cotangent flows back to the source
  if type(ct) is ad.Zero:
    return [None]
  total = psum_p.bind(ct, axes=axis_name, axis_index_groups=None)
  is_src = lax.eq(axis_index_p.bind(axis_name=axis_name), np.int32(source))
  return [lax.select(lax.broadcast_in_dim(is_src, core.get_aval(ct).shape, ()), total,
                     lax.full_like(total, 0))]


pbroadcast_p.named_batch = _pbroadcast_named
pbroadcast_p.batch = lambda vals, dims, **params: (pbroadcast_p.bind(vals[0], **params),
                                                   dims[0])
ad.deflinear(pbroadcast_p, _pbroadcast_transpose)


def pbroadcast(x, axis_name, source):
  """Every member of ``axis_name`` receives member ``source``'s ``x``."""
  names = _single_name(axis_name, "pbroadcast")
  n = axis_size(names[0])
  if not 0 <= source < n:
    raise AssertionError("collective broadcast doesn't fit in the axis size!")
  return tree_util.tree_map(
      lambda l: pbroadcast_p.bind(lax._to_array(l), axis_name=names, source=int(source)), x)


_ALLOWED_PCAST_TO = {'unreduced', 'reduced', 'varying'}


def pcast(x, axis_name, *, to):
  """Casts ``x``'s varying-ness over ``axis_name`` (shard_map's type system). pyjax has
  no varying types: after JAX's checks the values pass through."""
  if isinstance(axis_name, (set, frozenset)):
    raise TypeError(f"axis_name={axis_name} must be a tuple or a str. Got {axis_name}")
  if not axis_name:
    return x
  if to not in _ALLOWED_PCAST_TO:
    raise ValueError("Got unexpected `to` value. Allowed `to` values are:"
                     f" {_ALLOWED_PCAST_TO}")
  _names(axis_name)
  return x


def psend(x, axis_name, perm):
  """Collective send (JAX runs it under shard_map on GPU only)."""
  _names(axis_name)
  raise NotImplementedError("psend is currently only implemented on GPU")


def precv(token, out_shape, axis_name, perm):
  """Collective receive (JAX runs it under shard_map on GPU only)."""
  _names(axis_name)
  raise NotImplementedError("precv is currently only implemented on GPU")


# ---------------------------------------------------------------- ragged_all_to_all


ragged_all_to_all_p = _axis_prim("ragged_all_to_all")


def _ragged_all_to_all_abstract(operand, output, input_offsets, send_sizes, output_offsets,
                                recv_sizes, *, axis_name, axis_index_groups):
  if operand.shape[1:] != output.shape[1:]:
    raise ValueError("ragged_all_to_all input and output shapes must be equal, except "
                     "for the outermost dimension.")
  for what, a in (("input_offsets", input_offsets), ("send_sizes", send_sizes),
                  ("output_offsets", output_offsets), ("recv_sizes", recv_sizes)):
    if a.dtype.kind not in "iu":
      raise ValueError(f"ragged_all_to_all {what} must be integer type.")
  for what, a in (("input_offsets", input_offsets), ("send_sizes", send_sizes),
                  ("output_offsets", output_offsets), ("recv_sizes", recv_sizes)):
    if a.ndim != 1 or a.shape[0] < 1:
      raise ValueError(f"ragged_all_to_all {what} must be rank 1 with positive dimension "
                       f"size, but got shape {a.shape}")
  return output


def _ragged_all_to_all_named(name, size, vals, dims, /, *, axis_name, axis_index_groups):
  if _span(size) is not None:
    raise NotImplementedError(f"ragged_all_to_all over axis {name!r}, which spans "
                              f"several processes, is not supported.")
  operand, output, io, ss, oo, _ = [batching.bdim_at_front(v, d, size)
                                    for v, d in zip(vals, dims)]
  op_shape = core.get_aval(operand).shape
  out_shape = core.get_aval(output).shape
  n, m = op_shape[1], out_shape[1]
  rest = out_shape[2:]
  idx_t = np.dtype(np.int32)
  t = lax.broadcasted_iota(idx_t, (size, m), 1)  # (receiver r, output row t)
  result = output
  for s in range(size):  # sender s writes operand[s] rows into every receiver
    row = lambda a: lax.convert_element_type(slicing.index_in_dim(a, s, 0, False), idx_t)
    start = lax.broadcast_in_dim(row(oo), (size, m), (0,))
    length = lax.broadcast_in_dim(row(ss), (size, m), (0,))
    src = lax.add(lax.broadcast_in_dim(row(io), (size, m), (0,)), lax.sub(t, start))
    mask = lax.bitwise_and(lax.ge(t, start), lax.lt(t, lax.add(start, length)))
    src = lax.clamp(np.int32(0), src, np.int32(max(n - 1, 0)))
    rows = slicing.index_in_dim(operand, s, 0, False)  # (n, *rest)
    dn = slicing.GatherDimensionNumbers(tuple(range(2, 2 + len(rest))), (0,), (0,))
    got = slicing.gather(rows, lax.reshape(src, (size, m, 1)), dn, (1, *rest),
                         mode=slicing.GatherScatterMode.PROMISE_IN_BOUNDS)
    full_mask = lax.broadcast_in_dim(mask, out_shape, (0, 1))
    result = lax.select(full_mask, got, result)
  return result, 0


def _ragged_all_to_all_batch(vals, dims, **params):
  size = batching.batch_size(vals, dims)
  vals = [batching.bdim_at_front(v, d, size) for v, d in zip(vals, dims)]
  outs = [ragged_all_to_all_p.bind(*(slicing.index_in_dim(v, i, 0, False) for v in vals),
                                   **params) for i in range(size)]
  return slicing.stack(outs), 0


def _ragged_all_to_all_jvp(primals, tangents, **params):
  out = ragged_all_to_all_p.bind(*primals, **params)
  t_op, t_out = (ad.instantiate(t) if type(t) is not ad.Zero else
                 lax.full_like(p, 0) for t, p in zip(tangents[:2], primals[:2]))
  if type(tangents[0]) is ad.Zero and type(tangents[1]) is ad.Zero:
    return out, ad.Zero(ad.tangent_aval(core.get_aval(out)))
  return out, ragged_all_to_all_p.bind(t_op, t_out, *primals[2:], **params)


ragged_all_to_all_p.def_abstract_eval(_ragged_all_to_all_abstract)
ragged_all_to_all_p.named_batch = _ragged_all_to_all_named
ragged_all_to_all_p.batch = _ragged_all_to_all_batch
ragged_all_to_all_p.jvp = _ragged_all_to_all_jvp


def ragged_all_to_all(operand, output, input_offsets, send_sizes, output_offsets,
                      recv_sizes, *, axis_name, axis_index_groups=None):
  """Member s sends ``operand[input_offsets[j]:][:send_sizes[j]]`` to member j, which
  writes it into its ``output`` at row ``output_offsets[j]`` (the sender's)."""
  _no_groups(axis_index_groups, "ragged_all_to_all")
  names = _single_name(axis_name, "ragged_all_to_all")
  args = [lax._to_array(a) for a in (operand, output, input_offsets, send_sizes,
                                      output_offsets, recv_sizes)]
  return ragged_all_to_all_p.bind(*args, axis_name=names, axis_index_groups=None)

"""vmap's interpreter: BatchTrace/BatchTracer, named axes, and helpers for batch rules.

A BatchTracer holds a value of its parent trace with one extra axis (the batch
axis, at ``batch_dim``); values that do not vary along the batch are never
boxed (``None`` stands for "not batched" in rules). Primitive batch rules live beside each primitive; they have
JAX's signature ``rule(vals, dims, **params) -> (out, out_dim)`` (lists for
multiple results) and run with the parent trace current, so they just call lax.
"""
from __future__ import annotations

import functools

import numpy as np

from pyjax._src import api_util, core, tree_util
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.sharding import sharding_without_dim
from pyjax._src.core import ShapedArray, Tracer
from pyjax._src.interpreters import partial_eval as pe


class BatchTracer(Tracer):
  __slots__ = ("val", "batch_dim", "_aval")

  def __init__(self, trace, val, batch_dim):
    self._trace = trace
    self.val = val
    self.batch_dim = batch_dim
    self._aval = None

  @property
  def aval(self) -> ShapedArray:
    a = self._aval
    if a is None:
      a = core.get_aval(self.val)
      bd = self.batch_dim
      if bd is not None:
        a = ShapedArray(a.shape[:bd] + a.shape[bd + 1:], a.dtype, a.weak_type,
                        sharding=None if a.sharding is None else
                        sharding_without_dim(a.sharding, bd))
      self._aval = a
    return a

  def __repr__(self):  # (JAX 0.10.2's: the per-example aval and the batched value's)
    def s(a):
      return ("~" if a.weak_type else "") + a.str_short(short_dtypes=False)
    return f"VmapTracer(aval={s(self.aval)}, batched={s(core.get_aval(self.val))})"

  __str__ = __repr__


class AxisPrimitive(core.Primitive):
  """A primitive over named axes (collectives). ``axis_param`` names its
  param holding the axis name(s); ``named_batch(axis_size, vals, dims, **params)``
  is its rule under a vmap whose ``axis_name`` it names, while ``batch`` is the
  rule for a batch axis it does not name."""

  def __init__(self, name, axis_param="axis_name"):
    super().__init__(name)
    self.axis_param = axis_param
    self.named_batch = None

  def axis_names(self, params) -> tuple:
    n = params[self.axis_param]
    return n if isinstance(n, tuple) else (n,)


class BatchTrace(core.Trace):
  """One vmap level: a batch axis of ``axis_size``, optionally named ``axis_name``."""
  __slots__ = ("axis_name", "axis_size")

  def __init__(self, parent, axis_name, axis_size):
    super().__init__(parent)
    self.axis_name = axis_name
    self.axis_size = axis_size

  def to_batch_info(self, x):
    if isinstance(x, BatchTracer) and (x._trace is self or x._trace.tag is self.tag):
      return x.val, x.batch_dim
    if isinstance(x, Tracer):
      core.check_valid(x)
    return x, None

  def process_primitive(self, prim, args, params):
    vals, dims = [], []
    batched = False
    for x in args:
      # a subtrace (custom rules) shares its tag with the trace whose tracers it reads
      if type(x) is BatchTracer and (x._trace is self or x._trace.tag is self.tag):
        vals.append(x.val)
        dims.append(x.batch_dim)
        batched = batched or x.batch_dim is not None
      else:
        if isinstance(x, Tracer):
          core.check_valid(x)
        vals.append(x)
        dims.append(None)
    ctx = core.trace_ctx
    prev, ctx.trace = ctx.trace, self.parent  # rules run on the parent trace
    try:
      if (self.axis_name is not None and isinstance(prim, AxisPrimitive)
          and self.axis_name in prim.axis_names(params)):
        out, out_dim = prim.named_batch(self.axis_name, self.axis_size, vals, dims, **params)
      elif not batched:
        return prim.bind(*vals, **params)
      elif prim.batch_with_axis_name:  # e.g. jit: its body may use this vmap's axis name
        out, out_dim = prim.rule("batch")(vals, dims, axis_name=self.axis_name, **params)
      else:
        out, out_dim = prim.rule("batch")(vals, dims, **params)
    finally:
      ctx.trace = prev
    if prim.multiple_results:
      return [BatchTracer(self, o, d) if d is not None else o for o, d in zip(out, out_dim)]
    return BatchTracer(self, out, out_dim) if out_dim is not None else out

  def process_custom_jvp_call(self, fun, jvp, args, symbolic_zeros):
    return custom_batching_rules["custom_jvp"](self, fun, jvp, args, symbolic_zeros)

  def process_custom_vjp_call(self, fun, fwd, bwd, args, out_avals, symbolic_zeros):
    return custom_batching_rules["custom_vjp"](self, fun, fwd, bwd, args, out_avals,
                                               symbolic_zeros)

  def call(self, fun, vals, dims):
    """``fun(*vals)`` with ``vals[i]`` batched at ``dims[i]`` (None: not batched), this
    trace current meanwhile; the outputs are read with ``to_batch_info``."""
    ins = [x if d is None else BatchTracer(self, x, d) for x, d in zip(vals, dims)]
    ctx = core.trace_ctx
    prev, ctx.trace = ctx.trace, self
    try:
      return fun(*ins)
    finally:
      ctx.trace = prev

  def __repr__(self):
    return f"BatchTrace(axis_name={self.axis_name!r}, axis_size={self.axis_size})"


# How a BatchTrace batches a custom_jvp / custom_vjp call (batching the body and its
# rules alike): registered by custom_derivatives at its import.
custom_batching_rules: dict = {}


class SpanSize(int):
  """The batch size of a mesh axis split across processes (``multiprocess``): the int is
  this process's members of the axis; ``span`` (a ``parallel.Span``) says where they
  sit among all members and how to reach the other processes. ``axis_size`` reports
  the whole axis; collectives' named rules reduce the local members, then call MPI."""

  def __new__(cls, local: int, span):
    o = int.__new__(cls, local)
    o.span = span
    return o


def axis_size(axis_name) -> int:
  """Size of the named axis bound by an enclosing vmap (or any trace naming one): the
  whole axis for one split across processes."""
  t = core.trace_ctx.trace
  while t is not None:
    if getattr(t, "axis_name", None) == axis_name:
      s = t.axis_size
      return s if type(s) is not SpanSize else s.span.total
    # a jaxpr being staged (jit inside vmap) sees the axes of where it is traced
    t = t.parent if t.parent is not None else getattr(t, "outer", None)
  raise NameError(f"unbound axis name: {axis_name}")


# ---------------------------------------------------------------- helpers for rules


def moveaxis(x, src: int, dst: int):
  """Moves axis ``src`` of ``x`` to position ``dst`` (one transpose, or none)."""
  nd = core.get_aval(x).ndim
  src, dst = src % nd, dst % nd
  if src == dst:
    return x
  perm = [i for i in range(nd) if i != src]
  perm.insert(dst, src)
  return core.lax_ops.transpose(x, perm)


def broadcast(x, size: int, axis: int):
  """Inserts a new axis of ``size`` at ``axis`` (values repeated)."""
  aval = core.get_aval(x)
  shape = list(aval.shape)
  shape.insert(axis, size)
  dims = [i for i in range(len(shape)) if i != axis]
  return core.lax_ops.broadcast_in_dim(x, tuple(shape), tuple(dims))


def bdim_at_front(x, bdim, size: int):
  """``x`` with its batch axis at 0 (created by broadcasting if ``bdim`` is None)."""
  if bdim is None:
    return broadcast(x, size, 0)
  return moveaxis(x, bdim, 0)


def matchaxis(x, src, dst, size: int):
  """``x`` with batch axis ``src`` (or none) moved/broadcast to ``dst`` (or dropped if None)."""
  if src == dst:
    return x
  if src is None:
    return broadcast(x, size, dst)
  if dst is None:
    raise ValueError("vmap has mapped output but out_axes is None")
  return moveaxis(x, src, dst)


def batch_size(vals, dims) -> int:
  for v, d in zip(vals, dims):
    if d is not None:
      return core.get_aval(v).shape[d]
  raise ValueError("batch rule called with no batched operand")


def vectorized_batcher(prim):
  """Rule for unary elementwise primitives: the batch axis stays where it is."""
  def rule(vals, dims, **params):
    return prim.bind(vals[0], **params), dims[0]
  return rule


def broadcast_batcher(prim, scalar_ok=True, size_one=False):
  """Rule for n-ary elementwise primitives whose operands share a shape or are
  scalars (rank 0). Unbatched scalars stay scalars when ``scalar_ok``. With
  ``size_one`` (primitives that broadcast size-1 dimensions, as JAX's binary ops) an
  unbatched operand gets a size-1 batch axis and a lower-rank one trailing size-1 axes
  (JAX's batcher, its NumPy-integer broadcast_dimensions included)."""
  def rule(vals, dims, **params):
    avals = [core.get_aval(v) for v in vals]
    ranks = [a.ndim - (d is not None) for a, d in zip(avals, dims)]
    rank = max(ranks)
    # Fast path: every batched operand has full rank and the same batch axis.
    bd = next(d for d in dims if d is not None)
    if all((d == bd and r == rank) or (d is None and r == 0 and scalar_ok)
           for d, r in zip(dims, ranks)):
      return prim.bind(*vals, **params), bd
    lax = core.lax_ops
    if size_one:
      args = []
      for v, a, d in zip(vals, avals, dims):
        if d is not None:
          args.append(moveaxis(v, d, 0))
        elif a.ndim:
          args.append(lax.broadcast_in_dim(v, (1, *a.shape),
                                           tuple(np.delete(np.arange(a.ndim + 1), 0))))
        else:
          args.append(v)
      nd = max(core.get_aval(x).ndim for x in args)
      args = [x if d is None or core.get_aval(x).ndim == nd else
              lax.broadcast_in_dim(x, (*core.get_aval(x).shape,
                                       *(1,) * (nd - core.get_aval(x).ndim)),
                                   tuple(range(core.get_aval(x).ndim)))
              for x, d in zip(args, dims)]
      return prim.bind(*args, **params), 0
    size = batch_size(vals, dims)
    # (the operands' common shape: they may differ in size-1 dimensions)
    shape = np.broadcast_shapes(*[a.shape if d is None else a.shape[:d] + a.shape[d + 1:]
                                  for a, d, r in zip(avals, dims, ranks) if r == rank])
    full = (size, *shape)
    lax = core.lax_ops
    out = []
    for v, a, d, r in zip(vals, avals, dims, ranks):
      if d is None:
        if r == 0 and scalar_ok:
          out.append(v)
        else:
          out.append(lax.broadcast_in_dim(v, full, tuple(range(rank + 1 - r, rank + 1))))
      else:
        v = moveaxis(v, d, 0)
        if r < rank:
          v = lax.broadcast_in_dim(v, full, (0,))
        out.append(v)
    return prim.bind(*out, **params), 0
  return rule


def batch_jaxpr(closed, axis_size: int, in_dims, axis_name=None, instantiate=False):
  """Batches a ClosedJaxpr whose inputs carry a batch axis at ``in_dims`` (None:
  unbatched). Returns the batched ClosedJaxpr and its outputs' batch dims (0 or
  None); for rules of primitives holding a jaxpr, such as ``jit``. Outputs marked
  in ``instantiate`` (a bool or one per output) are batched (at 0) even if they
  do not vary."""
  avals = []
  for a, d in zip(closed.in_avals, in_dims):
    if d is not None:
      shape = list(a.shape)
      shape.insert(d, axis_size)
      a = a.update(shape=tuple(shape))
    avals.append(a)
  out_dims = []
  n_out = len(closed.out_avals)
  inst = [instantiate] * n_out if isinstance(instantiate, bool) else list(instantiate)

  def fun(*args):
    trace = BatchTrace(core.trace_ctx.trace, axis_name, axis_size)
    try:
      outs = trace.call(lambda *xs: core.eval_jaxpr(closed.jaxpr, closed.consts, *xs),
                        args, in_dims)
      res = []
      for o, i in zip(outs, inst):
        v, d = trace.to_batch_info(o)
        dst = 0 if d is not None or i else None
        out_dims.append(dst)
        res.append(v if dst is None else matchaxis(v, d, 0, axis_size))
      return res
    finally:
      trace.invalidate()

  jaxpr, consts = pe.trace_to_jaxpr(fun, avals, closed.jaxpr.debug_info)
  return core.ClosedJaxpr(jaxpr, consts), out_dims


# ---------------------------------------------------------------- vmap


_TOP_IN_AXES = ("a tuple of entries corresponding to the positional arguments passed to "
                "the function")


def _check_axes_spec(axes, what, top_msg):
  leaves = tree_util.tree_leaves(axes, is_leaf=lambda x: x is None)
  if not all(l is None or (type(l) is int) for l in leaves):
    raise TypeError(f"vmap {what} must be an int, None, or {top_msg}, but got {axes}.")


def _prefix_leaves(prefix, full, what):
  try:
    return tree_util.broadcast_prefix(prefix, full, is_leaf=lambda x: x is None)
  except ValueError:
    errs = tree_util.prefix_errors(prefix, full, is_leaf=lambda x: x is None)
    detail = str(errs[0](f"vmap {what}")) if errs else ""
    raise ValueError(f"vmap {what} specification must be a tree prefix of the "
                     f"corresponding value; \n{detail}") from None


def _mapped_size_error(sizes, names, avals, axes, axis_size):
  """JAX's message listing every mapped axis, grouped by size."""
  lines = [] if axis_size is None else [f"the `axis_size` argument was {axis_size}"]
  where = lambda i: (f"axis {axes[i]} of argument {names[i]} of type "
                     f"{avals[i].str_short(short_dtypes=False)}")
  groups = {}
  for i, s in enumerate(sizes):
    groups.setdefault(s, []).append(i)
  biggest = max(len(g) for g in groups.values())
  for s, g in groups.items():
    if len(g) == 1:
      lines.append(f"one axis had size {s}: {where(g[0])}")
    else:
      q = "most" if len(g) == biggest else "some"
      lines.append(f"{q} axes ({len(g)} of them) had size {s}, e.g. {where(g[0])}")
  return ValueError("vmap got inconsistent sizes for array axes to be mapped:\n" +
                    ";\n".join(f"  * {l}" for l in lines))


def _flat_in_axes(in_axes, args, kwargs, flat):
  """One axis (or None) per flat argument leaf; kwargs are mapped over axis 0."""
  if kwargs or not (in_axes is None or type(in_axes) is int or all(
      a is None or type(a) is int for a in in_axes)):
    return _prefix_leaves((in_axes, 0), (args, kwargs), "in_axes")
  if type(in_axes) is tuple:  # fast path: one int/None per positional argument
    return [ax for ax, x in zip(in_axes, args)
            for _ in range(tree_util.tree_structure(x).num_leaves)]
  return [in_axes] * len(flat)


def _mapped_size(fun, args, kwargs, flat, axes, axis_size):
  """The size of the mapped axis; normalizes ``axes`` (in place) to non-negative."""
  avals = [core.get_aval(x) if a is not None else None for x, a in zip(flat, axes)]
  mapped = [i for i, a in enumerate(axes) if a is not None]
  for i in mapped:
    ax, nd = axes[i], avals[i].ndim
    if not -nd <= ax < nd:
      need = ax + 1 if ax >= 0 else -ax
      raise ValueError(f"vmap was requested to map its argument along axis {ax}, which "
                       f"implies that its rank should be at least {need}, but is only "
                       f"{nd} (its shape is {avals[i].shape})")
    axes[i] = ax % nd
  sizes = [avals[i].shape[axes[i]] for i in mapped]
  size = axis_size if axis_size is not None else sizes[0]
  if any(s != size for s in sizes):
    dbg = api_util.debug_info("vmap", fun, args, kwargs)
    raise _mapped_size_error(sizes, [api_util.arg_name(dbg, i) for i in mapped],
                             [avals[i] for i in mapped], [axes[i] for i in mapped],
                             axis_size)
  return size


def _place_outputs(trace, out_flat, oaxes, size):
  """The outputs' values with their batch axis moved to ``oaxes`` (None: unbatched)."""
  outs = []
  for o, oa in zip(out_flat, oaxes):
    v, d = trace.to_batch_info(o)
    if oa is None:
      if d is not None:
        raise ValueError(f"at vmap out_axes, got axis spec None but output was "
                         f"batched on axis {d}")
      outs.append(v)
      continue
    nd = core.get_aval(v).ndim + (d is None)
    if not -nd <= oa < nd:
      raise ValueError(f"axis {oa} is out of bounds for array of dimension {nd}")
    outs.append(matchaxis(v, d, oa % nd, size))
  return outs


def vmap(fun, in_axes=0, out_axes=0, axis_name=None, axis_size=None):
  """``fun`` mapped over one more array axis (``api.vmap``'s machinery): checks the axes
  specifications, then each call flattens the arguments, finds the mapped size, runs
  ``fun`` on BatchTracers of a new BatchTrace and moves the outputs' batch axes to
  ``out_axes``."""
  if isinstance(in_axes, list):
    in_axes = tuple(in_axes)
  if not (in_axes is None or type(in_axes) in (int, tuple)):
    raise TypeError(f"vmap in_axes must be an int, None, or {_TOP_IN_AXES}, but got "
                    f"{in_axes}.")
  if type(in_axes) is not int:
    _check_axes_spec(in_axes, "in_axes", _TOP_IN_AXES)
  if type(out_axes) is not int:
    _check_axes_spec(out_axes, "out_axes", "(nested) container with those types as leaves")

  def vmap_f(*args, **kwargs):
    if isinstance(in_axes, tuple) and len(in_axes) != len(args):
      raise ValueError(f"vmap in_axes must be an int, None, or {_TOP_IN_AXES}, but got "
                       f"len(in_axes)={len(in_axes)}, len(args)={len(args)}")
    if not args and not kwargs and axis_size is None:
      raise ValueError("vmap wrapped function must be passed at least one argument "
                       "containing an array or axis_size must be specified, got empty "
                       f"*args={args} and **kwargs={kwargs}")
    leaf_args = not kwargs and all(isinstance(a, (ArrayImpl, Tracer)) for a in args)
    if leaf_args:  # fast path: positional array arguments, no pytree to flatten
      flat, in_tree = list(args), None
    else:
      flat, in_tree = tree_util.tree_flatten((args, kwargs))
    axes = _flat_in_axes(in_axes, args, kwargs, flat)
    if axis_size is None and all(a is None for a in axes):
      raise ValueError("vmap must have at least one non-None value in in_axes or "
                       "axis_size must be specified")
    size = _mapped_size(fun, args, kwargs, flat, axes, axis_size)
    flat = [x if a is None or isinstance(x, (ArrayImpl, Tracer)) else asarray_value(x)
            for x, a in zip(flat, axes)]
    trace = BatchTrace(core.trace_ctx.trace, axis_name, size)
    try:
      if leaf_args:
        out = trace.call(fun, flat, axes)
      else:
        def unflat_fun(*xs):
          a, kw = tree_util.tree_unflatten(in_tree, list(xs))
          return fun(*a, **kw)
        out = trace.call(unflat_fun, flat, axes)
      if isinstance(out, (ArrayImpl, Tracer)):
        out_flat, out_tree = [out], None
      else:
        out_flat, out_tree = tree_util.tree_flatten(out)
      oaxes = ([out_axes] * len(out_flat) if out_axes is None or type(out_axes) is int
               else _prefix_leaves(out_axes, out, "out_axes"))
      outs = _place_outputs(trace, out_flat, oaxes, size)
    finally:
      trace.invalidate()
    return outs[0] if out_tree is None else tree_util.tree_unflatten(out_tree, outs)

  functools.update_wrapper(vmap_f, fun)
  name = getattr(fun, "__name__", repr(fun))
  doc = (f"Vectorized version of {name}. Takes similar arguments as {name} but with "
         f"additional array axes over which {name} is mapped.")
  if getattr(fun, "__doc__", None):
    doc += "\n\nOriginal documentation:\n\n" + fun.__doc__
  vmap_f.__doc__ = doc
  return vmap_f

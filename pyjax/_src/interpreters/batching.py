"""vmap's interpreter: BatchTrace/BatchTracer, named axes, and helpers for batch rules.

A BatchTracer holds a value of its parent trace with one extra axis (the batch
axis, at ``batch_dim``); values that do not vary along the batch are never
boxed (``None`` stands for "not batched" in rules). Primitive batch rules live beside each primitive; they have
JAX's signature ``rule(vals, dims, **params) -> (out, out_dim)`` (lists for
multiple results) and run with the parent trace current, so they just call lax.
"""
from __future__ import annotations

from pyjax._src import core
from pyjax._src.core import ShapedArray, Tracer


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
        a = ShapedArray(a.shape[:bd] + a.shape[bd + 1:], a.dtype, a.weak_type)
      self._aval = a
    return a

  def __repr__(self):
    return (f"BatchTracer<{self.aval.str_short(short_dtypes=False)}>"
            f"(batch_dim={self.batch_dim})")

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
    if isinstance(x, BatchTracer) and x._trace is self:
      return x.val, x.batch_dim
    if isinstance(x, Tracer):
      core.check_valid(x)
    return x, None

  def process_primitive(self, prim, args, params):
    vals, dims = [], []
    batched = False
    for x in args:
      if type(x) is BatchTracer and x._trace is self:
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

  def __repr__(self):
    return f"BatchTrace(axis_name={self.axis_name!r}, axis_size={self.axis_size})"


def axis_size(axis_name) -> int:
  """Size of the named axis bound by an enclosing vmap (or any trace naming one)."""
  t = core.trace_ctx.trace
  while t is not None:
    if getattr(t, "axis_name", None) == axis_name:
      return t.axis_size
    # a jaxpr being staged (jit inside vmap) sees the axes of where it is traced
    t = t.parent if t.parent is not None else getattr(t, "outer", None)
  raise NameError(f"unbound axis name: {axis_name}")


# ---------------------------------------------------------------- helpers for rules


def _lax():
  return core.lax_ops


def moveaxis(x, src: int, dst: int):
  """Moves axis ``src`` of ``x`` to position ``dst`` (one transpose, or none)."""
  nd = core.get_aval(x).ndim
  src, dst = src % nd, dst % nd
  if src == dst:
    return x
  perm = [i for i in range(nd) if i != src]
  perm.insert(dst, src)
  return _lax().transpose(x, perm)


def broadcast(x, size: int, axis: int):
  """Inserts a new axis of ``size`` at ``axis`` (values repeated)."""
  aval = core.get_aval(x)
  shape = list(aval.shape)
  shape.insert(axis, size)
  dims = [i for i in range(len(shape)) if i != axis]
  return _lax().broadcast_in_dim(x, tuple(shape), tuple(dims))


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


def broadcast_batcher(prim, scalar_ok=True):
  """Rule for n-ary elementwise primitives whose operands share a shape or are
  scalars (rank 0). Unbatched scalars stay scalars when ``scalar_ok``."""
  def rule(vals, dims, **params):
    avals = [core.get_aval(v) for v in vals]
    ranks = [a.ndim - (d is not None) for a, d in zip(avals, dims)]
    rank = max(ranks)
    # Fast path: every batched operand has full rank and the same batch axis.
    bd = next(d for d in dims if d is not None)
    if all((d == bd and r == rank) or (d is None and r == 0 and scalar_ok)
           for d, r in zip(dims, ranks)):
      return prim.bind(*vals, **params), bd
    size = batch_size(vals, dims)
    shape = next(a.shape if d is None else a.shape[:d] + a.shape[d + 1:]
                 for a, d, r in zip(avals, dims, ranks) if r == rank)
    full = (size, *shape)
    lax = _lax()
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
  from pyjax._src.interpreters import partial_eval as pe
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
      ins = [x if d is None else BatchTracer(trace, x, d) for x, d in zip(args, in_dims)]
      with core.set_current_trace(trace):
        outs = core.eval_jaxpr(closed.jaxpr, closed.consts, *ins)
      res = []
      for o, i in zip(outs, inst):
        v, d = trace.to_batch_info(o)
        if d is None and i:
          v, d = broadcast(v, axis_size, 0), 0
        out_dims.append(None if d is None else 0)
        res.append(v if d is None else moveaxis(v, d, 0))
      return res
    finally:
      trace.invalidate()

  jaxpr, consts = pe.trace_to_jaxpr(fun, avals, closed.jaxpr.debug_info)
  return core.ClosedJaxpr(jaxpr, consts), out_dims

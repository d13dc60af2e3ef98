"""``jax.interpreters.batching``: vmap rules of primitives.

``primitive_batchers[p] = rule`` sets ``p``'s rule ``rule(vals, dims, **params) ->
(out, out_dims)`` (None: not batched); ``axis_primitive_batchers[p]`` takes
``rule(axis_size, axis_name, trace_type, vals, dims, **params)`` and
``fancy_primitive_batchers[p]`` takes ``rule(axis_data, vals, dims, **params)``. pyjax
calls a rule only when an operand is batched (an unbatched application binds the
primitive directly, as JAX's default does). Not provided: ``register_vmappable`` (no
custom vmappable containers).
"""
from __future__ import annotations

from pyjax._src.deprecations import deprecation_getattr as _deprecation_getattr
from pyjax._src.interpreters import batching as _batching
from pyjax._src.interpreters import registries as _reg

__all__ = ["axis_primitive_batchers", "bdim_at_front", "broadcast", "defbroadcasting",
           "defreducer", "defvectorized", "fancy_primitive_batchers",
           "primitive_batchers"]

primitive_batchers = _reg.RuleRegistry("primitive_batchers", "batch",
                                       on_set=_reg.set_axis_name(False))
axis_primitive_batchers = _reg.RuleRegistry(
    "axis_primitive_batchers", "batch", adapt=_reg.adapt_axis_batcher,
    on_set=_reg.set_axis_name(True))
fancy_primitive_batchers = _reg.RuleRegistry(
    "fancy_primitive_batchers", "batch", adapt=_reg.adapt_fancy_batcher,
    on_set=_reg.set_axis_name(True))


def bdim_at_front(x, bdim, size, mesh_axis=None):
  """``x`` with its batch axis first (broadcast to ``size`` when ``bdim`` is None)."""
  del mesh_axis
  return _batching.bdim_at_front(x, bdim, size)


def broadcast(x, sz, axis, mesh_axis=None):
  """``x`` with a new axis of size ``sz`` at ``axis``."""
  del mesh_axis
  return _batching.broadcast(x, sz, axis)


def defvectorized(prim):
  """Rule for a unary elementwise primitive: the batch axis stays where it is."""
  def rule(vals, dims, **params):
    if any(d != dims[0] for d in dims[1:]):
      raise ValueError(f"defvectorized rule of {prim}: operands batched differently, "
                       f"{dims}")
    return prim.bind(*vals, **params), dims[0]
  primitive_batchers[prim] = rule


def defbroadcasting(prim):
  """Rule for an n-ary elementwise primitive whose operands share a shape or are
  scalars."""
  primitive_batchers[prim] = _batching.broadcast_batcher(prim)


def defreducer(prim):
  """Rule for a reduction with an ``axes`` parameter: the reduced axes move past the
  batch axis."""
  def rule(vals, dims, *, axes, **params):
    (x,), (bd,) = vals, dims
    nd = len(x.shape)
    axes = tuple(a + 1 if a >= bd else a for a in axes)
    kept = [i for i in range(nd) if i not in axes]
    return prim.bind(x, axes=axes, **params), kept.index(bd)
  primitive_batchers[prim] = rule


_deprecations = {
    "NotMapped": ("jax.interpreters.batching.NotMapped is deprecated.", None),
}

__getattr__ = _deprecation_getattr(__name__, _deprecations)

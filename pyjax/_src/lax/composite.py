"""lax.composite: a named operation carrying its decomposition (composite_p).

JAX lowers it to ``stablehlo.composite`` calling the decomposition; pyjax lowers the
decomposition inline (IREE would inline it anyway), so the name and attributes show in
jaxprs only. As JAX, it has no JVP or transpose (use custom_jvp/custom_vjp); unlike
JAX it batches (the decomposition batched)."""
from __future__ import annotations

import functools
from functools import partial

from pyjax._src import core, tree_util
from pyjax._src.core import Primitive, Tracer
from pyjax._src.errors import UnexpectedTracerError
from pyjax._src.interpreters import batching
from pyjax._src.lax.control_flow.common import eval_closed, lower_closed, trace_fun
from pyjax._src.lax.utils import _to_array

composite_p = Primitive("composite")
composite_p.multiple_results = True
composite_p.batch_with_axis_name = True


def _composite_impl(*args, name, attributes, version, jaxpr):
  return eval_closed(jaxpr, *args)


def _composite_abstract_eval(*args, name, attributes, version, jaxpr):
  return list(jaxpr.out_avals)


def _composite_jvp(*args, **_):
  raise ValueError(
      "JVP rule for composite not implemented. You can use `jax.custom_jvp` to "
      "add support. See "
      "https://docs.jax.dev/en/latest/_autosummary/jax.custom_jvp.html")


def _composite_transpose(*args, **_):
  raise ValueError(
      "Transpose rule for composite not implemented. You can use"
      "`jax.custom_jvp` or `jax.custom_vjp` to add support. See "
      "https://docs.jax.dev/en/latest/_autosummary/jax.custom_jvp.html")


def _composite_batch(vals, dims, *, axis_name=None, name, attributes, version, jaxpr):
  size = batching.batch_size(vals, dims)
  bj, out_dims = batching.batch_jaxpr(jaxpr, size, list(dims), axis_name)
  return composite_p.bind(*vals, name=name, attributes=attributes, version=version,
                          jaxpr=bj), out_dims


def _composite_lower(ctx, *args, name, attributes, version, jaxpr):
  return lower_closed(ctx, jaxpr, list(args))


composite_p.def_impl(_composite_impl)
composite_p.def_abstract_eval(_composite_abstract_eval)
composite_p.jvp = _composite_jvp
composite_p.transpose = _composite_transpose
composite_p.batch = _composite_batch
composite_p.lower = _composite_lower


def composite(decomposition, name, version=0):
  """Wraps ``decomposition`` as the composite operation ``name`` (keyword arguments of a
  call are its static attributes)."""
  @functools.wraps(decomposition)
  def _decorator(*args, **kwargs):
    if any(isinstance(v, Tracer) for v in kwargs.values()):
      raise UnexpectedTracerError(
          "Found a JAX Tracer as an attribute in the decomposition for the "
          f"composite op '{name}'. This means that the decomposition function "
          "closes over a value that is involved in a JAX transformation. "
          "Any values that aren't explicitly known at compile time must be "
          "explicitly passed as arguments to the composite."
          "\n\nNote: If you are passing jax arrays as attributes, use numpy "
          "arrays instead.")
    flat, tree = tree_util.tree_flatten(args)
    flat = [_to_array(x) for x in flat]
    avals = tree_util.tree_unflatten(tree, [core.get_aval(x) for x in flat])
    closed, consts, out_tree = trace_fun(lambda *a: partial(decomposition, **kwargs)(*a),
                                         tuple(avals), "composite", decomposition)
    # (closed-over tracers of enclosing traces are the jaxpr's leading operands)
    attributes = tuple((k, tuple(tree_util.tree_leaves(v)), tree_util.tree_structure(v))
                       for k, v in kwargs.items())
    out = composite_p.bind(*consts, *flat, name=name, attributes=attributes,
                           version=version, jaxpr=closed)
    return tree_util.tree_unflatten(out_tree, out)
  return _decorator

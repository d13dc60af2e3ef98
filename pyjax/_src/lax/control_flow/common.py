"""Shared machinery of the control-flow primitives (cond, while, scan).

Their bodies are traced once into jaxprs ("initial style"): values the body closes over
that are tracers of an enclosing transformation become explicit leading operands of the
primitive (``consts``), so every transformation sees them; concrete closed-over values stay
in the ClosedJaxpr. The helpers below derive the jaxprs the rules need: the JVP of a body
(``jvp_jaxpr``), its batched form (``batch_jaxpr``, in batching.py) and its known/unknown
split (``partial_eval_jaxpr``, in partial_eval.py).
"""
from __future__ import annotations

import inspect
from typing import Callable, Sequence

import numpy as np

from pyjax._src import api_util, core, tree_util
from pyjax._src.core import ClosedJaxpr, ShapedArray
from pyjax._src.interpreters import ad, lowering
from pyjax._src.interpreters import partial_eval as pe


def trace_fun(fun: Callable, args_avals, what: str, debug_fun=None):
  """Traces ``fun(*args)`` over a pytree (a tuple of arguments) of avals.

  Returns ``(closed, consts, out_tree)``: ``closed`` takes the closed-over tracers
  ``consts`` first, then the flat arguments.
  """
  flat_avals, in_tree = tree_util.tree_flatten(args_avals)

  def check_out(x):
    if not core.is_valid_jaxtype(x):
      raise TypeError(f"{what} output must be an array or pytree of arrays, got "
                      f"{x!r} of type {type(x).__name__}.")

  dbg = api_util.body_debug_info(what, debug_fun or fun, len(flat_avals))
  return api_util.trace_to_jaxpr(fun, flat_avals, dbg, in_tree=in_tree, kwargs=False,
                                 check_out=check_out)


def _carry_name(fun):
  try:
    return next(iter(inspect.signature(fun).parameters), None)
  except (TypeError, ValueError):
    return None


def _bullets(diffs) -> str:
  if len(diffs) == 1:
    return diffs[0][0].upper() + diffs[0][1:] + ".\n"
  return "\n".join(f"  * {d};\n" for d in diffs[:-1]) + f"  * {diffs[-1]}.\n"


def check_carry(what, body_fun, init_tree, in_avals, out_tree, out_avals):
  """JAX's errors for a loop body (``what``) whose output carry differs from its input."""
  name = _carry_name(body_fun)

  def component(path):
    p = tree_util.keystr(path)
    if name:
      return f"the input carry component {name}{p}" if path else f"the input carry {name}"
    return f"the input carry at path {p}" if path else "the input carry"

  if init_tree != out_tree:
    dummy = ShapedArray((), np.float32)
    diffs = [f"{component(path)} is a {a} but the corresponding component of the carry "
             f"output is a {b}, so {why}"
             for path, a, b, why in tree_util.equality_errors(
                 tree_util.tree_unflatten(init_tree, [dummy] * init_tree.num_leaves),
                 tree_util.tree_unflatten(out_tree, [dummy] * out_tree.num_leaves))]
    if diffs:
      raise TypeError(f"{what} function carry input and carry output must have "
                      "the same pytree structure, but they differ:\n\n"
                      f"{_bullets(diffs)}\nRevise the function so that the carry output "
                      "has the same pytree structure as the carry input.")
  paths = [p for p, _ in tree_util.tree_flatten_with_path(
      tree_util.tree_unflatten(init_tree, in_avals))[0]]
  diffs = []
  for path, a, b in zip(paths, in_avals, out_avals):
    if a.shape != b.shape or a.dtype != b.dtype:
      why = "shapes" if a.shape != b.shape else "dtypes"
      diffs.append(f"{component(path)} has type {a.str_short(short_dtypes=False)} but the "
                   f"corresponding output carry component has type "
                   f"{b.str_short(short_dtypes=False)}, so the {why} do not match")
  if diffs:
    raise TypeError(f"{what} function carry input and carry output must have "
                    "equal types, but they differ:\n\n"
                    f"{_bullets(diffs)}\nRevise the function so that all output types "
                    "match the corresponding input types.")


def avals_of(xs) -> list[ShapedArray]:
  return [core.get_aval(x) for x in xs]


def eval_closed(closed: ClosedJaxpr, *args) -> list:
  return core.eval_jaxpr(closed.jaxpr, closed.consts, *args)


def jvp_jaxpr(closed: ClosedJaxpr, nonzeros: Sequence[bool], instantiate):
  """The JVP of ``closed``: inputs are all primals then the tangents of the
  ``nonzeros`` inputs; outputs are all primals then the nonzero output tangents.

  ``instantiate`` (a bool or one per output) forces output tangents to be present.
  Returns ``(jvp_closed, out_nonzeros)``.
  """
  in_avals = closed.in_avals
  n_out = len(closed.out_avals)
  inst = [instantiate] * n_out if isinstance(instantiate, bool) else list(instantiate)
  n = len(in_avals)
  out_nz: list = []

  def fun(*args):
    it = iter(args[n:])
    tans = [next(it) if z else ad.Zero(ad.tangent_aval(a)) for z, a in zip(nonzeros, in_avals)]
    out_p, out_t = ad.jvp_flat(lambda *xs: eval_closed(closed, *xs), list(args[:n]), tans)
    out_t = [ad.instantiate(t) if i else t for t, i in zip(out_t, inst)]
    out_nz[:] = [type(t) is not ad.Zero for t in out_t]
    return list(out_p) + [t for t in out_t if type(t) is not ad.Zero]

  t_avals = [ad.tangent_aval(a) for a, z in zip(in_avals, nonzeros) if z]
  jaxpr, consts = pe.trace_to_jaxpr(fun, list(in_avals) + t_avals, closed.jaxpr.debug_info)
  return ClosedJaxpr(jaxpr, consts), out_nz


def lower_closed(b, closed: ClosedJaxpr, args) -> list:
  """Lowers ``closed`` inline in the builder ``b`` (a function body or a region)."""
  consts = [b.constant(np.asarray(lowering._host(c)), core.get_aval(c))
            for c in closed.consts]
  return b.lower_jaxpr(closed.jaxpr, consts, list(args))

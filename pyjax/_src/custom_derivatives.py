"""User-defined differentiation rules: custom_jvp, custom_vjp, closure_convert.

A call is handed to the current trace (``process_custom_jvp_call`` /
``process_custom_vjp_call``) with flat functions. The JVP trace uses the
user's rule; vmap passes the call on with the body and the rules batched;
staging (jit) records one equation keeping the rules; other traces run the
function body. On the eager path (no transformation active) the function is
simply called.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect

from pyjax._src import api_util, core, dtypes, tree_util
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.lax import lax as lax_mod


@functools.lru_cache(maxsize=1024)
def _n_positional(fun):
  """How many positional parameters ``fun`` has (None: *args, or no signature)."""
  try:
    params = inspect.signature(fun).parameters.values()
  except (TypeError, ValueError):
    return None
  if any(p.kind is p.VAR_POSITIONAL for p in params):
    return None
  return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _resolve_kwargs(fun, args, kwargs):
  """``args`` with ``kwargs`` and the defaults of omitted parameters placed by position
  (as JAX: the rules see every argument)."""
  if not kwargs:
    try:
      n = _n_positional(fun)
    except TypeError:  # (an unhashable callable)
      n = None
    if n is None or n <= len(args):
      return tuple(args)
  try:
    ba = inspect.signature(fun).bind(*args, **kwargs)
  except TypeError as e:
    raise TypeError(f"The function {getattr(fun, '__name__', fun)} was called with "
                    f"arguments that do not match its signature: {e}") from None
  ba.apply_defaults()
  if ba.kwargs:
    raise TypeError("keyword-only arguments are not supported by custom_jvp/custom_vjp "
                    "functions; pass them positionally.")
  return ba.args


def _split(args, nondiff_argnums):
  nondiff = {i: args[i] for i in nondiff_argnums}
  diff = [a for i, a in enumerate(args) if i not in nondiff]
  return nondiff, diff


def _name(f):
  return getattr(f, "__name__", repr(f))


def _prepare(fun, nondiff_argnums, rule, what, args, kwargs):
  """Resolves the call's arguments. Returns ``(args, None)`` on the eager path (just
  call ``fun``), else ``(args, (nondiff, diff, flat, in_tree, fun_flat, store))``."""
  if rule is None:
    raise AttributeError(f"No {what.upper()} defined for custom_{what} function "
                         f"{_name(fun)} using def{what}.")
  args = _resolve_kwargs(fun, args, kwargs)
  if core.trace_ctx.trace is core.eval_trace:
    return args, None
  for i in nondiff_argnums:
    if i >= len(args):
      raise ValueError(f"nondiff_argnums {nondiff_argnums} out of range for "
                       f"{len(args)} arguments")
  nondiff, diff = _split(args, nondiff_argnums)
  f, _ = api_util.static_partial(fun, args, nondiff_argnums)
  flat, in_tree = tree_util.tree_flatten(diff)
  # the body on flat differentiable arguments; ``store`` gets its output tree
  fun_flat, store = api_util.flatten_fun(f, in_tree, kwargs=False)
  fun_flat.__name__ = _name(fun)
  return args, (nondiff, diff, flat, in_tree, fun_flat, store)


def _zeros_for(x):
  return ad.zeros_like_aval(ad.tangent_aval(core.get_aval(x)))


class SymbolicZero:
  """A zero tangent or cotangent known only by its aval: what a ``custom_jvp`` rule
  (and a ``custom_vjp`` bwd) defined with ``symbolic_zeros=True`` receives for inputs
  that are not perturbed, and may return. Attributes other than ``aval`` are the
  aval's (``shape``, ``dtype``, ...)."""

  def __init__(self, aval):
    self.aval = aval

  def __repr__(self):
    return type(self).__name__

  def __getattr__(self, name):
    if name == "aval":
      raise AttributeError(name)
    return getattr(self.aval, name)

  @staticmethod
  def from_primal_value(val) -> "SymbolicZero":
    return SymbolicZero(ad.tangent_aval(core.get_aval(val)))


def zero_from_primal(val, symbolic_zeros=False):
  """Zero tangents for the pytree ``val``: SymbolicZeros or arrays of zeros."""
  def f(x):
    aval = ad.tangent_aval(core.get_aval(x))
    return SymbolicZero(aval) if symbolic_zeros else ad.zeros_like_aval(aval)
  return tree_util.tree_map(f, val)


@dataclasses.dataclass
class CustomVJPPrimal:
  """A primal argument of a ``custom_vjp`` fwd rule defined with
  ``symbolic_zeros=True``: its ``value`` and whether it is ``perturbed``."""
  __slots__ = ("value", "perturbed")
  value: object
  perturbed: bool


def custom_vjp_primal_tree_values(tree):
  """``tree`` with each CustomVJPPrimal leaf replaced by its value."""
  def value(leaf):
    if type(leaf) is not CustomVJPPrimal:
      raise TypeError(f"unexpected leaf type {type(leaf)}")
    return leaf.value
  return tree_util.tree_map(value, tree)


class custom_jvp:
  """A function with a custom JVP rule, set with ``defjvp`` or ``defjvps``."""

  def __init__(self, fun, nondiff_argnums=()):
    functools.update_wrapper(self, fun)
    self.fun = fun
    self.nondiff_argnums = tuple(nondiff_argnums)
    self.jvp = None
    self.symbolic_zeros = False

  def __get__(self, obj, objtype=None):
    return self if obj is None else functools.partial(self, obj)

  def defjvp(self, jvp, symbolic_zeros=False):
    self.jvp = jvp
    self.symbolic_zeros = symbolic_zeros
    return jvp

  def defjvps(self, *jvps):
    """One rule per argument: ``rule(tangent, primal_out, *primals) -> tangent_out``."""
    if self.nondiff_argnums:
      raise TypeError("Can't use ``defjvps`` with ``nondiff_argnums``.")

    def jvp(primals, tangents):
      out = self(*primals)
      terms = [rule(t, out, *primals) for rule, t in zip(jvps, tangents) if rule is not None]
      if not terms:
        return out, tree_util.tree_map(_zeros_for, out)
      return out, functools.reduce(
          lambda a, b: tree_util.tree_map(lambda x, y: x + y, a, b), terms)
    self.defjvp(jvp)

  def __call__(self, *args, **kwargs):
    args, prep = _prepare(self.fun, self.nondiff_argnums, self.jvp, "jvp", args, kwargs)
    if prep is None:
      return self.fun(*args)
    nondiff, diff, flat, in_tree, fun_flat, store = prep
    trace = core.trace_ctx.trace

    symbolic = self.symbolic_zeros

    def jvp_flat(primals, tangents):
      if symbolic:
        tangents = [SymbolicZero(t.aval) if type(t) is ad.Zero else t for t in tangents]
      p = tuple(tree_util.tree_unflatten(in_tree, list(primals)))
      t = tuple(tree_util.tree_unflatten(in_tree, list(tangents)))
      res = self.jvp(*[nondiff[i] for i in sorted(nondiff)], p, t)
      if not isinstance(res, (tuple, list)) or len(res) != 2:
        raise TypeError(f"Custom JVP rule {_name(self.jvp)} for function "
                        f"{_name(self.fun)} must produce a pair (list or tuple of length "
                        f"two) representing primal and tangent outputs, but got {res!r}.")
      out_p, out_t = res
      p_flat, p_tree = tree_util.tree_flatten(out_p)
      t_flat, t_tree = tree_util.tree_flatten(out_t)
      if p_tree != t_tree:
        raise TypeError(f"Custom JVP rule must produce primal and tangent outputs with "
                        f"equal container (pytree) structures, but got {p_tree} and "
                        f"{t_tree} respectively.")
      for po, to in zip(p_flat, t_flat):
        pa, ta = core.get_aval(po), core.get_aval(to)
        if type(to) is SymbolicZero:
          ta = ta.update(dtype=ad.tangent_aval(pa).dtype)
        expect = ad.tangent_aval(pa)
        if pa.shape != ta.shape or (expect.dtype != ta.dtype and
                                    expect.dtype != dtypes.float0):
          raise TypeError(
              f"Custom JVP rule must produce primal and tangent outputs with "
              f"corresponding shapes and dtypes, but {_name(self.jvp)} returned primal "
              f"output {pa.str_short()} and tangent output {ta.str_short()} (expected "
              f"tangent type {expect.str_short()}).")
      store.out_tree = p_tree
      return p_flat, [ad.Zero(x.aval) if type(x) is SymbolicZero else ad._as_array(x)
                      for x in t_flat]

    jvp_flat.rule_name = _name(self.jvp)  # (printed in jaxprs: jvp=f_jvp)
    outs = trace.process_custom_jvp_call(fun_flat, jvp_flat, flat, self.symbolic_zeros)
    return tree_util.tree_unflatten(store.out_tree, outs)


class custom_vjp:
  """A function with a custom VJP rule, set with ``defvjp(fwd, bwd)``."""

  def __init__(self, fun, nondiff_argnums=()):
    functools.update_wrapper(self, fun)
    self.fun = fun
    self.nondiff_argnums = tuple(nondiff_argnums)
    self.fwd = self.bwd = None
    self.symbolic_zeros = False

  def __get__(self, obj, objtype=None):
    return self if obj is None else functools.partial(self, obj)

  def defvjp(self, fwd, bwd, symbolic_zeros=False, optimize_remat=False):
    self.fwd, self.bwd, self.symbolic_zeros = fwd, bwd, symbolic_zeros

  def __call__(self, *args, **kwargs):
    args, prep = _prepare(self.fun, self.nondiff_argnums, self.fwd, "vjp", args, kwargs)
    if prep is None:
      return self.fun(*args)
    nondiff, diff, flat, in_tree, fun_flat, store = prep
    trace = core.trace_ctx.trace
    fwd, _ = api_util.static_partial(self.fwd, args, self.nondiff_argnums)
    res_store = api_util.OutStore()

    symbolic = self.symbolic_zeros

    def fwd_flat(primals, perturbed=None):
      if symbolic:
        if perturbed is None:
          perturbed = [False] * len(primals)
        primals = [CustomVJPPrimal(p, bool(z)) for p, z in zip(primals, perturbed)]
      res = fwd(*tree_util.tree_unflatten(in_tree, list(primals)))
      if not isinstance(res, (tuple, list)) or len(res) != 2:
        raise TypeError(
            f"Custom VJP fwd rule {_name(self.fwd)} for function {_name(self.fun)} must "
            f"produce a pair (list or tuple of length two) representing primal outputs "
            f"and residuals (values stored from the forward pass for use on the backward "
            f"pass), got {res!r}.")
      out, residuals = res
      out_flat, store.out_tree = tree_util.tree_flatten(out)
      res_flat, res_store.out_tree = tree_util.tree_flatten(residuals)
      return out_flat, res_flat

    def bwd_flat(res_flat, cts_flat):
      if symbolic:
        cts_flat = [SymbolicZero(c.aval) if type(c) is ad.Zero else c for c in cts_flat]
      res = tree_util.tree_unflatten(res_store.out_tree, res_flat)
      cts = tree_util.tree_unflatten(store.out_tree, cts_flat)
      cts_in = self.bwd(*[nondiff[i] for i in sorted(nondiff)], res, cts)
      if not isinstance(cts_in, (tuple, list)) or len(cts_in) != len(diff):
        raise TypeError(
            f"Custom VJP bwd rule must produce a tuple of length equal to the number of "
            f"primal inputs ({len(diff)}), but {_name(self.bwd)} produced "
            f"{type(cts_in).__name__}"
            f"{'' if not isinstance(cts_in, (tuple, list)) else ' of length ' + str(len(cts_in))}.")
      out = []
      for arg, ct in zip(diff, cts_in):
        leaves = tree_util.tree_leaves(arg)
        if ct is None:
          out.extend([None] * len(leaves))
          continue
        ct_leaves = tree_util.tree_flatten(ct, is_leaf=lambda x: x is None)[0]
        if len(ct_leaves) != len(leaves):
          raise ValueError(f"Custom VJP bwd rule {_name(self.bwd)} returned a cotangent "
                           f"whose structure does not match its primal input: "
                           f"{tree_util.tree_structure(ct)} vs "
                           f"{tree_util.tree_structure(arg)}.")
        for p, c in zip(leaves, ct_leaves):
          if type(c) is SymbolicZero:
            c = None
          if c is not None:
            pa, ca = core.get_aval(p), core.get_aval(c)
            if pa.shape != ca.shape:
              raise ValueError(
                  f"Custom VJP bwd rule must produce an output with the same shape/dtypes "
                  f"as the args tuple of the primal function, but {_name(self.bwd)} "
                  f"returned {ca.str_short()} for an input of type {pa.str_short()}.")
          out.append(c)
      return out

    fwd_flat.rule_name, bwd_flat.rule_name = _name(self.fwd), _name(self.bwd)
    outs = trace.process_custom_vjp_call(fun_flat, fwd_flat, bwd_flat, flat, None,
                                         self.symbolic_zeros)
    return tree_util.tree_unflatten(store.out_tree, outs)


def closure_convert(fun, *example_args):
  """Returns ``(converted_fun, consts)``: ``converted_fun(*args, *consts)`` equals
  ``fun(*args)`` with the values ``fun`` closes over (traced values included)
  passed explicitly, as custom_vjp rules require."""
  flat, in_tree = tree_util.tree_flatten(example_args)
  closed, _, out_tree = api_util.trace_to_jaxpr(
      fun, [core.get_aval(x) for x in flat], in_tree=in_tree, kwargs=False, hoist=False)
  jaxpr, consts = closed.jaxpr, closed.consts

  def converted(*args):
    a_flat = tree_util.tree_leaves(args[:len(args) - len(consts)])
    outs = core.eval_jaxpr(jaxpr, list(args[len(args) - len(consts):]), *a_flat)
    return tree_util.tree_unflatten(out_tree, outs)

  return converted, list(consts)


class _RuleResiduals:
  """A custom_gradient rule as custom_vjp residuals: its closed-over values are the
  pytree's children; its jaxpr and cotangent tree are static."""
  __slots__ = ("consts", "jaxpr", "out_tree")

  def __init__(self, consts, jaxpr, out_tree):
    self.consts, self.jaxpr, self.out_tree = consts, jaxpr, out_tree


tree_util.register_pytree_node(
    _RuleResiduals, lambda r: (r.consts, (r.jaxpr, r.out_tree)),
    lambda aux, consts: _RuleResiduals(list(consts), *aux))


def custom_gradient(fun):
  """``fun(*args) -> (output, vjp)`` as a function returning ``output`` whose reverse
  derivative is ``vjp(cotangent) -> tuple of cotangents, one per argument`` (as
  TensorFlow's ``tf.custom_gradient``)."""
  @custom_vjp
  def wrapped_fun(*args):
    ans, _ = fun(*args)
    return ans

  def fwd(*args):
    ans, rule = fun(*args)
    flat, in_tree = tree_util.tree_flatten((ans,))
    closed, _, out_tree = api_util.trace_to_jaxpr(
        rule, [core.get_aval(x) for x in flat], in_tree=in_tree, kwargs=False,
        hoist=False)
    return ans, _RuleResiduals(list(closed.consts), closed.jaxpr, out_tree)

  def bwd(res, cts):
    outs = core.eval_jaxpr(res.jaxpr, res.consts, *tree_util.tree_leaves(cts))
    return tuple(tree_util.tree_unflatten(res.out_tree, outs))

  wrapped_fun.defvjp(fwd, bwd)
  return wrapped_fun


# ---------------------------------------------------------------- staged calls
#
# Under jit/make_jaxpr a custom_jvp/custom_vjp call is staged as one equation that
# keeps its rule, so grad(jit(f)) still uses it. The body's closed-over values
# become leading operands (``num_consts``).


def _trace_body(fun, args):
  closed, _, _ = api_util.trace_to_jaxpr(fun, [core.get_aval(a) for a in args], hoist=False)
  return core.ClosedJaxpr(pe.convert_constvars_jaxpr(closed.jaxpr), []), closed.consts


def _call_impl(*args, call_jaxpr, num_consts, **_):
  return core.eval_jaxpr(call_jaxpr.jaxpr, call_jaxpr.consts, *args)


def _call_lower(ctx, *args, call_jaxpr, name, **_):
  return ctx.call(call_jaxpr.jaxpr, call_jaxpr.consts, args, name)


def _call_batch(vals, dims, call_jaxpr, num_consts, name, axis_name, batch_call):
  """vmap of a staged custom call: the batched call, with its rules batched, staged
  again. Closed-over values (the first ``num_consts`` operands) stay closed over."""
  trace = batching.BatchTrace(core.trace_ctx.trace, axis_name,
                              batching.batch_size(vals, dims))
  try:
    boxed = [v if d is None else batching.BatchTracer(trace, v, d)
             for v, d in zip(vals, dims)]
    consts = boxed[:num_consts]

    def body(*xs):
      return core.eval_jaxpr(call_jaxpr.jaxpr, [], *consts, *xs)
    body.__name__ = name
    return _unbox_batched(trace, batch_call(trace, body, boxed[num_consts:]))
  finally:
    trace.invalidate()


class _FunName(str):
  """A rule function printed by its name (``jvp=f_jvp``), as JAX prints it."""


def _fun_name(f) -> _FunName:
  return _FunName(getattr(f, "rule_name", None) or _name(f))


def _pp_call(params):
  """As JAX: ``name`` first, then the rules by function name, sorted; no zero
  ``num_consts``."""
  out = {"call_jaxpr": params["call_jaxpr"], "symbolic_zeros": params["symbolic_zeros"]}
  if params["num_consts"]:
    out["num_consts"] = params["num_consts"]
  for k in ("jvp", "fwd", "bwd"):
    if k in params:
      out[k] = _fun_name(params[k])
  return {"name": _FunName(params["name"]), **{k: out[k] for k in sorted(out)}}


def _staged_call_primitive(name):
  """A call of a traced body (``call_jaxpr``) carrying a custom rule in its params;
  everything but the JVP is the body's."""
  p = core.Primitive(name)
  p.multiple_results = True
  p.def_impl(_call_impl)
  p.def_abstract_eval(lambda *a, call_jaxpr, **_: list(call_jaxpr.out_avals))
  p.lower = _call_lower
  p.pp_params = _pp_call
  p.pp_keep_order = True
  p.batch_with_axis_name = True
  return p


custom_jvp_call_p = _staged_call_primitive("custom_jvp_call")


def _custom_jvp_call_jvp(primals, tangents, *, call_jaxpr, jvp, num_consts, symbolic_zeros,
                         name):
  if any(type(t) is not ad.Zero for t in tangents[:num_consts]):
    # perturbed closed-over values: differentiate the body itself
    return ad.jvp_flat(lambda *xs: core.eval_jaxpr(call_jaxpr.jaxpr, [], *xs),
                       list(primals), list(tangents))
  return jvp(list(primals[num_consts:]),
             [t if symbolic_zeros else ad.instantiate(t) for t in tangents[num_consts:]])


custom_jvp_call_p.jvp = _custom_jvp_call_jvp


def _custom_jvp_call_batch(vals, dims, *, call_jaxpr, jvp, num_consts, symbolic_zeros, name,
                           axis_name=None):
  return _call_batch(vals, dims, call_jaxpr, num_consts, name, axis_name,
                     lambda t, body, args: batch_custom_jvp(t, body, jvp, args,
                                                            symbolic_zeros))


custom_jvp_call_p.batch = _custom_jvp_call_batch


custom_vjp_call_p = _staged_call_primitive("custom_vjp_call")


def _custom_vjp_call_jvp(primals, tangents, *, call_jaxpr, fwd, bwd, num_consts,
                         symbolic_zeros, name):
  if any(type(t) is not ad.Zero for t in tangents[:num_consts]):
    raise TypeError(f"custom_vjp function {name} closes over a value that is being "
                    f"differentiated; pass it as an argument (see jax.closure_convert).")
  trace = ad.JVPTrace(core.trace_ctx.trace)
  try:
    boxed = [ad.JVPTracer(trace, p, t) if type(t) is not ad.Zero else p
             for p, t in zip(primals[num_consts:], tangents[num_consts:])]
    outs = ad.JVPTrace.process_custom_vjp_call(trace, None, fwd, bwd, boxed, None,
                                               symbolic_zeros)
    return ad._unbox_out(trace, outs)
  finally:
    trace.invalidate()


custom_vjp_call_p.jvp = _custom_vjp_call_jvp


def _custom_vjp_call_batch(vals, dims, *, call_jaxpr, fwd, bwd, num_consts, symbolic_zeros,
                           name, axis_name=None):
  return _call_batch(vals, dims, call_jaxpr, num_consts, name, axis_name,
                     lambda t, body, args: batch_custom_vjp(t, body, fwd, bwd, args, None,
                                                            symbolic_zeros))


custom_vjp_call_p.batch = _custom_vjp_call_batch


# ---------------------------------------------------------------- batched calls
#
# Under vmap a custom call stays a custom call: its body and its rules run batched
# on subtraces that share the BatchTrace's tag (so they read its tracers, closed-over
# ones included), and the parent trace gets the call with batched rules. Output batch
# dims are the body's when it ran, else the rule's; a rule run after the body (a staged
# call differentiated later) has its outputs moved/broadcast to the body's dims.


def _run_batched(spec, f, vals, dims):
  """``f(*vals)`` (a flat list of outputs) with ``vals`` batched at ``dims`` on a
  subtrace of ``spec = (tag, axis_name, axis_size)``; returns (values, dims)."""
  tag, axis_name, size = spec
  sub = batching.BatchTrace(core.trace_ctx.trace, axis_name, size)
  sub.tag = tag
  try:
    outs = sub.call(f, vals, dims)
    info = [sub.to_batch_info(o) for o in outs]
  finally:
    sub.invalidate()
  return [v for v, _ in info], [d for _, d in info]


def _unbox_batched(trace, args):
  info = [trace.to_batch_info(x) for x in args]
  return [v for v, _ in info], [d for _, d in info]


def _unbatched_zero(t, d):
  """A symbolic zero tangent as its rule sees it inside the vmap."""
  if d is None:
    return t
  shape = t.aval.shape
  return ad.Zero(t.aval.update(shape=shape[:d] + shape[d + 1:]))


def _match_outs(name, outs, dims, want, size):
  """Outputs moved to the batch dims ``want`` (None: the dims they have)."""
  if want is None:
    return outs, dims
  for d, w in zip(dims, want):
    if w is None and d is not None:
      raise ValueError(
          f"custom rule of {name} under vmap returned an output that varies along "
          f"the mapped axis where the function's own output does not; make the "
          f"function's output depend on the same inputs as its rule's.")
  return [batching.matchaxis(o, d, w, size) for o, d, w in zip(outs, dims, want)], want


def _batched_body(trace, fun, args):
  """What a batched custom call starts from: the operands' values and batch dims, the
  sub-trace spec, a dict ``seen`` of the output dims each batched piece produced, and
  the batched body ``fun_b`` (its output dims go to ``seen["fun"]``)."""
  vals, dims = _unbox_batched(trace, args)
  spec = (trace.tag, trace.axis_name, trace.axis_size)
  seen = {}

  def fun_b(*xs):
    outs, seen["fun"] = _run_batched(spec, fun, xs, dims)
    return outs
  fun_b.__name__ = _name(fun)
  return vals, dims, spec, seen, fun_b


def _call_on_parent(trace, seen, rule, process, *call_args):
  """``process(*call_args)`` with ``trace``'s parent current; its outputs boxed at the
  dims the body gave (or, when only the rule ran, ``seen[rule]``)."""
  prev, core.trace_ctx.trace = core.trace_ctx.trace, trace.parent
  try:
    outs = process(*call_args)
  finally:
    core.trace_ctx.trace = prev
  out_dims = seen["fun"] if "fun" in seen else seen[rule]
  return [o if d is None else batching.BatchTracer(trace, o, d)
          for o, d in zip(outs, out_dims)]


def batch_custom_jvp(trace, fun, jvp, args, symbolic_zeros):
  """BatchTrace's handling of a custom_jvp call: the same call on the parent trace,
  with the body batched and the rule batched (tangents batched like their primals,
  output tangents moved to their primals' dims)."""
  vals, dims, spec, seen, fun_b = _batched_body(trace, fun, args)
  size, name = trace.axis_size, fun_b.__name__

  def jvp_b(primals, tangents):
    n = len(primals)
    tdims = [None if type(t) is ad.Zero else d for t, d in zip(tangents, dims)]
    tangents = [_unbatched_zero(t, d) if type(t) is ad.Zero else t
                for t, d in zip(tangents, dims)]

    def f(*xs):
      p, t = jvp(list(xs[:n]), list(xs[n:]))
      return [*p, *t]
    outs, ods = _run_batched(spec, f, [*primals, *tangents], [*dims, *tdims])
    m = len(outs) // 2
    po, pd, to, td = outs[:m], ods[:m], outs[m:], ods[m:]
    want = seen.get("fun") or [p if p is not None else t for p, t in zip(pd, td)]
    po, _ = _match_outs(name, po, pd, want, size)
    to, _ = _match_outs(name, to, td, want, size)
    seen["jvp"] = want
    return po, to
  return _call_on_parent(trace, seen, "jvp", trace.parent.process_custom_jvp_call,
                         fun_b, jvp_b, vals, symbolic_zeros)


def batch_custom_vjp(trace, fun, fwd, bwd, args, out_avals, symbolic_zeros):
  """BatchTrace's handling of a custom_vjp call: the same call on the parent trace
  with fwd and bwd batched. Residuals keep their batch dims; bwd gets cotangents at
  the outputs' dims and its results go to the inputs' dims, summed over the mapped
  axis for inputs that are not mapped."""
  vals, dims, spec, seen, fun_b = _batched_body(trace, fun, args)
  size, name = trace.axis_size, fun_b.__name__

  def fwd_b(primals, perturbed):
    def f(*xs):
      out, res = fwd(list(xs), perturbed)
      seen["n_out"] = len(out)
      return [*out, *res]
    outs, ods = _run_batched(spec, f, primals, dims)
    n = seen["n_out"]
    out, want = _match_outs(name, outs[:n], ods[:n], seen.get("fun"), size)
    seen["fwd"], seen["res"] = want, ods[n:]
    return out, outs[n:]

  def bwd_b(res, cts):
    nr = len(res)
    outs, ods = _run_batched(spec, lambda *xs: bwd(list(xs[:nr]), list(xs[nr:])),
                             [*res, *cts], [*seen["res"], *seen["fwd"]])
    cts_in = []
    for c, d, w in zip(outs, ods, dims):
      if c is None or d == w:
        cts_in.append(c)
      elif w is None:  # an unmapped input: its cotangent summed over the mapped axis
        cts_in.append(lax_mod.reduce_sum(c, (d,)))
      else:
        cts_in.append(batching.matchaxis(c, d, w, size))
    return cts_in
  return _call_on_parent(trace, seen, "fwd", trace.parent.process_custom_vjp_call,
                         fun_b, fwd_b, bwd_b, vals, out_avals, symbolic_zeros)


batching.custom_batching_rules["custom_jvp"] = batch_custom_jvp
batching.custom_batching_rules["custom_vjp"] = batch_custom_vjp


def _stage(trace, prim, fun, args, **rule_params):
  call_jaxpr, consts = _trace_body(fun, args)
  return trace.process_primitive(prim, [*consts, *args],
                                 dict(call_jaxpr=call_jaxpr, num_consts=len(consts),
                                      name=_name(fun), **rule_params))


def stage_custom_jvp_call(trace, fun, jvp, args, symbolic_zeros):
  """DynamicJaxprTrace's handling: one custom_jvp_call equation."""
  return _stage(trace, custom_jvp_call_p, fun, args, jvp=jvp, symbolic_zeros=symbolic_zeros)


def stage_custom_vjp_call(trace, fun, fwd, bwd, args, symbolic_zeros):
  """DynamicJaxprTrace's handling: one custom_vjp_call equation."""
  return _stage(trace, custom_vjp_call_p, fun, args, fwd=fwd, bwd=bwd,
                symbolic_zeros=symbolic_zeros)


pe.custom_staging_rules["custom_jvp"] = stage_custom_jvp_call
pe.custom_staging_rules["custom_vjp"] = stage_custom_vjp_call


# ---------------------------------------------------------------- linear_call
#
# ``linear_call(fun, fun_transpose, residual_args, linear_args)``: one equation holding
# both functions as jaxprs (their closed-over values as leading operands: the callee's,
# then the transpose's, then the residuals, then the linear arguments). Transposing it
# swaps the two jaxprs; vmap batches every operand at axis 0.


def _trace_open(fun, avals, in_tree):
  closed, _, out_tree = api_util.trace_to_jaxpr(fun, avals, in_tree=in_tree, kwargs=False,
                                                hoist=False)
  return (core.ClosedJaxpr(pe.convert_constvars_jaxpr(closed.jaxpr), []),
          list(closed.consts), out_tree)


def linear_call(fun, fun_transpose, residual_args, linear_args):
  """``fun(residual_args, linear_args)``, a function linear in ``linear_args``, whose
  transpose is ``fun_transpose(residual_args, output_cotangents)`` (used by reverse-mode
  differentiation instead of transposing ``fun``)."""
  res_flat, res_tree = tree_util.tree_flatten(residual_args)
  lin_flat, lin_tree = tree_util.tree_flatten(linear_args)
  res_avals = [core.get_aval(x) for x in res_flat]
  lin_avals = [core.get_aval(x) for x in lin_flat]
  pair = lambda a, b: tree_util.tree_structure((a, b))
  callee, c_consts, out_tree = _trace_open(
      fun, res_avals + lin_avals,
      pair(tree_util.tree_unflatten(res_tree, res_flat),
           tree_util.tree_unflatten(lin_tree, lin_flat)))
  out_avals = callee.out_avals
  ct_example = tree_util.tree_unflatten(out_tree, [
      ad.zeros_like_aval(a) for a in out_avals])
  transpose, t_consts, t_out_tree = _trace_open(
      fun_transpose, res_avals + list(out_avals),
      pair(tree_util.tree_unflatten(res_tree, res_flat), ct_example))
  if t_out_tree != lin_tree or [a.shape for a in transpose.out_avals] != \
      [a.shape for a in lin_avals]:
    raise TypeError(
        f"transpose output pytree structure must match that of linear inputs, got "
        f"output structure {t_out_tree} and input structure {lin_tree}.")
  outs = linear_call_p.bind(*c_consts, *t_consts, *res_flat, *lin_flat, callee=callee,
                            transpose=transpose, num_callee_consts=len(c_consts),
                            num_transpose_consts=len(t_consts), num_res=len(res_flat))
  return tree_util.tree_unflatten(out_tree, outs)


def _lc_split(args, num_callee_consts, num_transpose_consts, num_res):
  nc, nt = num_callee_consts, num_transpose_consts
  return args[:nc], args[nc:nc + nt], args[nc + nt:nc + nt + num_res], \
      args[nc + nt + num_res:]


def _linear_call_impl(*args, callee, transpose, **counts):
  cc, _, res, lin = _lc_split(args, **counts)
  return core.eval_jaxpr(callee.jaxpr, [], *cc, *res, *lin)


def _linear_call_jvp(primals, tangents, **params):
  k = params["num_callee_consts"] + params["num_transpose_consts"] + params["num_res"]
  outs = linear_call_p.bind(*primals, **params)
  touts = linear_call_p.bind(*primals[:k], *map(ad.instantiate, tangents[k:]), **params)
  return outs, touts


def _linear_call_transpose(cts, *args, callee, transpose, num_callee_consts,
                           num_transpose_consts, num_res):
  cc, tc, res, lin = _lc_split(args, num_callee_consts, num_transpose_consts, num_res)
  if any(ad.is_undefined_primal(x) for x in [*cc, *tc, *res]):
    raise ValueError("linear_call: only the linear arguments can be transposed")
  cts = ad.instantiate_cts(cts, callee.out_avals)
  cts_in = linear_call_p.bind(*tc, *cc, *res, *cts, callee=transpose, transpose=callee,
                              num_callee_consts=num_transpose_consts,
                              num_transpose_consts=num_callee_consts, num_res=num_res)
  return [None] * (len(args) - len(lin)) + list(cts_in)


def _linear_call_batch(vals, dims, *, callee, transpose, axis_name=None, **counts):
  size = batching.batch_size(vals, dims)
  vals = [batching.bdim_at_front(v, d, size) for v, d in zip(vals, dims)]
  cc, tc, res, lin = _lc_split(vals, **counts)
  callee_b, _ = batching.batch_jaxpr(callee, size, [0] * len(callee.in_avals), axis_name,
                                     instantiate=True)
  transpose_b, _ = batching.batch_jaxpr(transpose, size, [0] * len(transpose.in_avals),
                                        axis_name, instantiate=True)
  outs = linear_call_p.bind(*vals, callee=callee_b, transpose=transpose_b, **counts)
  return outs, [0] * len(outs)


def _linear_call_lower(ctx, *args, callee, transpose, **counts):
  cc, _, res, lin = _lc_split(args, **counts)
  return ctx.call(callee.jaxpr, callee.consts, [*cc, *res, *lin], "linear_call")


linear_call_p = core.Primitive("linear_call")
linear_call_p.multiple_results = True
linear_call_p.def_impl(_linear_call_impl)
linear_call_p.def_abstract_eval(lambda *a, callee, **_: list(callee.out_avals))
linear_call_p.jvp = _linear_call_jvp
linear_call_p.transpose = _linear_call_transpose
linear_call_p.batch = _linear_call_batch
linear_call_p.batch_with_axis_name = True
linear_call_p.lower = _linear_call_lower

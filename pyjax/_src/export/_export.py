"""``jax.export``: a jitted function lowered to StableHLO text, with its calling
convention (pytrees, avals, platforms), serializable and callable later.

What an ``Exported`` holds and how it runs:

- ``mlir_module()`` is pyjax's StableHLO text of the function (``jit(f).lower(...)
  .as_text()`` with every constant written into the text: no hoisted parameters), and
  ``mlir_module_serialized`` its UTF-8 bytes. It is not JAX's portable VHLO bytecode:
  pyjax and JAX cannot read each other's serialized blobs.
- ``call`` binds ``call_exported_p`` under a ``custom_vjp`` whose backward pass calls
  the exported VJP (``serialize(vjp_order=k)`` stores k orders of it), as JAX does. The
  eager impl compiles the text itself with IREE (disk cache applies); ``jit`` inlines the
  text's functions into the enclosing module. No vmap (JAX has none either).
- Shape polymorphism: pyjax's lowering is shape-specific, so an export with symbolic
  dimensions keeps the jitted function and specializes it per concrete shape at call
  time (traced, lowered and compiled then). Its output shapes are found by tracing at a
  few sizes and fitting affine expressions of the dimension variables (a non-affine
  output shape raises NotImplementedError). ``serialize`` writes its jaxpr
  (``jaxpr_serde``: traced at several sizes, its sizes fitted as dimension
  expressions), read back as a function that rebuilds the concrete jaxpr per call's
  shapes; ``mlir_module()`` raises NotImplementedError.
- Host callbacks, Refs, ordered effects and shardings other than replicated are not
  exportable; ``in_shardings_hlo``/``out_shardings_hlo`` are all None (one device).

The blob ``serialize`` writes: ``MAGIC``, a 2-byte format version, an 8-byte payload
length, the payload and its SHA-256; ``deserialize`` checks each and raises ValueError on
any mismatch. Version 1's payload is JSON (header fields, the module text, nested VJPs);
version 2's (shape-polymorphic exports) an 8-byte JSON length, the JSON (the jaxpr in
place of the module) and the bytes of its constant arrays.
"""
from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import re
import struct
from typing import Any, Callable, Sequence

import numpy as np

from pyjax._src import api, api_util, core, dispatch, dtypes, prng, tree_util
from pyjax._src import pjit
from pyjax._src.api_util import ShapeDtypeStruct
from pyjax._src.array import ArrayImpl, PendingArray, asarray_value
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.custom_derivatives import custom_vjp
from pyjax._src.export import jaxpr_serde, shape_poly
from pyjax._src.export.shape_poly import _DimExpr
from pyjax._src.interpreters import lowering
from pyjax._src.interpreters.lowering import tensor_type
from pyjax._src.tree_registry import default_registry

__all__ = ["DisabledSafetyCheck", "Exported", "export", "deserialize",
           "register_pytree_node_serialization", "register_namedtuple_serialization",
           "maximum_supported_calling_convention_version",
           "minimum_supported_calling_convention_version", "default_export_platform",
           "call_exported", "call_exported_p"]

minimum_supported_calling_convention_version = 9
maximum_supported_calling_convention_version = 10
CALLING_CONVENTION_VERSION = 10

# The platforms pyjax lowers for: its StableHLO text is the same for both (IREE compiles
# it for the device at call time).
_PLATFORMS = ("cpu", "cuda")


class DisabledSafetyCheck:
  """A safety check to skip on (de)serialization: ``platform()`` lets an Exported run
  on a platform it was not exported for."""
  _impl: str

  @classmethod
  def platform(cls) -> "DisabledSafetyCheck":
    """Allows the compilation platform to differ from the export platform."""
    return DisabledSafetyCheck("platform")

  @classmethod
  def custom_call(cls, target_name: str) -> "DisabledSafetyCheck":
    """Allows the serialization of a call target not known to be stable."""
    return DisabledSafetyCheck(f"custom_call:{target_name}")

  def is_custom_call(self) -> str | None:
    m = re.match(r"custom_call:(.+)$", self._impl)
    return m.group(1) if m else None

  def __init__(self, _impl: str):
    self._impl = _impl

  def __str__(self):
    return self._impl

  __repr__ = __str__

  def __eq__(self, other) -> bool:
    return isinstance(other, DisabledSafetyCheck) and self._impl == other._impl

  def __hash__(self) -> int:
    return hash(self._impl)


@dataclasses.dataclass(frozen=True, eq=False)
class Exported:
  """A JAX function lowered to StableHLO (see the module docstring for what pyjax's
  holds). Fields as JAX's; those starting with '_' are private."""
  fun_name: str
  in_tree: tree_util.PyTreeDef
  in_avals: tuple[ShapedArray, ...]
  out_tree: tree_util.PyTreeDef
  out_avals: tuple[ShapedArray, ...]
  _has_named_shardings: bool
  _in_named_shardings: tuple
  _out_named_shardings: tuple
  in_shardings_hlo: tuple
  out_shardings_hlo: tuple
  nr_devices: int
  platforms: tuple[str, ...]
  ordered_effects: tuple
  unordered_effects: tuple
  disabled_safety_checks: Sequence[DisabledSafetyCheck]
  mlir_module_serialized: bytes
  calling_convention_version: int
  module_kept_var_idx: tuple[int, ...]
  uses_global_constants: bool
  _get_vjp: Callable[["Exported"], "Exported"] | None
  # pyjax: (the jitted function a shape-polymorphic export specializes, the map from
  # its exported (args, kwargs) to the jitted function's); None when shapes are fixed.
  _fun: Any = dataclasses.field(default=None, repr=False)
  # pyjax: for a shape-polymorphic export, () -> (its jaxpr's encoding with dimension
  # expressions, the constant arrays): what ``serialize`` writes (jaxpr_serde).
  _serial: Any = dataclasses.field(default=None, repr=False)

  def mlir_module(self, serialized: bool = True) -> str:
    """The StableHLO text of the module (``@main`` takes the flat ``in_avals``)."""
    if self._fun is not None:
      raise NotImplementedError(
          f"pyjax has no module for the shape-polymorphic export of '{self.fun_name}': "
          "its lowering is shape-specific (the Exported specializes the jitted function "
          "per call). Export with concrete shapes to get a module.")
    return self.mlir_module_serialized.decode("utf-8")

  def __str__(self):
    return f"Exported(fun_name={self.fun_name}, ...)"

  def in_shardings_jax(self, mesh) -> Sequence[Any]:
    """The input shardings for ``mesh``: None each (pyjax exports replicated code)."""
    return tuple(None for _ in self.in_avals)

  def out_shardings_jax(self, mesh) -> Sequence[Any]:
    """The output shardings for ``mesh``: None each."""
    return tuple(None for _ in self.out_avals)

  def has_vjp(self) -> bool:
    """Whether this Exported can give its VJP."""
    return self._get_vjp is not None

  def vjp(self) -> "Exported":
    """The exported VJP: flat primal arguments then one cotangent per primal output,
    returning the cotangents of the flat primal arguments."""
    if self._get_vjp is None:
      raise ValueError("No VJP is available")
    return self._get_vjp(self)

  def serialize(self, vjp_order: int = 0) -> bytearray:
    """The bytes ``deserialize`` reads back; with ``vjp_order`` k, k orders of the VJP
    go with them (``grad`` of the deserialized function needs k >= 1)."""
    arrays: list = []
    j = _to_json(self, vjp_order, arrays)
    if self._fun is None:  # (version 1: the JSON alone)
      version, payload = 1, json.dumps(j, separators=(",", ":")).encode()
    else:  # (version 2: JSON, then the constant arrays' bytes)
      meta, raw, off = [], [], 0
      for a in arrays:
        b = a.tobytes()
        meta.append([a.dtype.name, list(a.shape), off, len(b)])
        raw.append(b)
        off += len(b)
      text = json.dumps({"export": j, "arrays": meta}, separators=(",", ":")).encode()
      version, payload = 2, struct.pack("<Q", len(text)) + text + b"".join(raw)
    return bytearray(MAGIC + struct.pack("<HQ", version, len(payload)) + payload
                     + hashlib.sha256(payload).digest())

  def call(self, *args, **kwargs):
    """Calls the exported function on arrays of its pytree structure and shapes; works
    under jit and grad (with a VJP), eagerly and in a process that never saw it."""
    return call_exported(self)(*args, **kwargs)


# ---------------------------------------------------------------- export


def default_export_platform() -> str:
  """The platform ``export`` lowers for by default: 'cuda' when a GPU is in use,
  else 'cpu'."""
  return "cuda" if dispatch.gpu_found else "cpu"


default_lowering_platform = default_export_platform


def export(fun_jit, *, platforms: Sequence[str] | None = None,
           disabled_checks: Sequence[DisabledSafetyCheck] = (),
           _override_lowering_rules=None) -> Callable[..., Exported]:
  """``export(jit(f))(*args, **kwargs)`` -> ``Exported``; the arguments may be arrays or
  ``ShapeDtypeStruct``s, with symbolic dimensions (``symbolic_shape``)."""
  if not isinstance(fun_jit, pjit.JitWrapped):
    raise ValueError(
        f"Function to be exported must be the result of `jit` but is: {fun_jit}")
  if _override_lowering_rules:
    raise NotImplementedError("pyjax's export does not take _override_lowering_rules")
  if platforms is not None:
    platforms = tuple(platforms)
    for p in platforms:
      if p not in _PLATFORMS:
        raise NotImplementedError(
            f"pyjax exports for platforms {_PLATFORMS}, not '{p}'.")
  else:
    platforms = (default_export_platform(),)

  def do_export(*args_specs, **kwargs_specs) -> Exported:
    _check_scopes(fun_jit, args_specs, kwargs_specs)
    leaves, in_tree = tree_util.tree_flatten((args_specs, kwargs_specs))
    symbolic = any(isinstance(d, _DimExpr) for x in leaves
                   for d in getattr(x, "shape", ()))
    if symbolic:
      return _export_symbolic(fun_jit, args_specs, kwargs_specs, platforms,
                              tuple(disabled_checks))
    traced = fun_jit.trace(*args_specs, **kwargs_specs)
    entry = traced._entry
    if entry.has_refs:
      raise NotImplementedError("pyjax cannot export a function that takes or closes "
                                "over Refs")
    if entry.tracer_consts:
      raise ValueError("export: the function closes over values traced by an outer "
                       "transformation")
    closed = entry.closed
    text = lowering.lower_jaxpr(closed, fun_jit._name, hoist=False)
    if text.callbacks:
      raise NotImplementedError("serialization of host_callbacks is not yet implemented")
    n_in, n_out = len(closed.in_avals), len(closed.out_avals)
    return Exported(
        fun_name=fun_jit._name, in_tree=_dyn_tree(fun_jit, args_specs, kwargs_specs),
        in_avals=tuple(closed.in_avals), out_tree=entry.out_tree,
        out_avals=tuple(closed.out_avals), _has_named_shardings=True,
        _in_named_shardings=(None,) * n_in, _out_named_shardings=(None,) * n_out,
        in_shardings_hlo=(None,) * n_in, out_shardings_hlo=(None,) * n_out,
        nr_devices=1, platforms=platforms, ordered_effects=(), unordered_effects=(),
        disabled_safety_checks=tuple(disabled_checks),
        mlir_module_serialized=str(text).encode("utf-8"),
        calling_convention_version=CALLING_CONVENTION_VERSION,
        module_kept_var_idx=tuple(range(n_in)), uses_global_constants=False,
        _get_vjp=lambda exp: _export_vjp(
            exp, lambda *xs: core.jaxpr_as_fun(closed, *xs)))
  return do_export


def _dyn_tree(fun_jit, args, kwargs):
  """The pytree of the (args, kwargs) jit traces: static arguments left out."""
  _, dyn, dkw = fun_jit._split(args, kwargs)
  return tree_util.tree_structure((dyn, dkw))


def _check_scopes(fun_jit, args, kwargs):
  """JAX's error when the symbolic dimensions come from several scopes."""
  first = None
  for path, x in tree_util.tree_flatten_with_path((args, kwargs))[0]:
    for d in getattr(x, "shape", ()):
      if not isinstance(d, _DimExpr):
        continue
      where = shape_poly_path(path)
      if first is None:
        first = (d.scope, where)
      elif d.scope is not first[0]:
        first[0]._check_same_scope(
            d, when=f"when exporting {fun_jit._name}",
            self_descr=f"current (from {first[1]}) ", other_descr=where)


def shape_poly_path(path) -> str:
  """``args[0]``/``kwargs['k']`` for a key path into ``(args, kwargs)``."""
  head = "args" if path[0] == tree_util.SequenceKey(0) else "kwargs"
  return head + tree_util.keystr(tuple(path[1:]))


def _spec_aval(x) -> ShapedArray:
  if isinstance(x, ShapeDtypeStruct):
    return ShapedArray(x.shape, x.dtype, x.weak_type)
  return core.get_aval(x)


def _concrete_specs(tree, avals, env):
  """ShapeDtypeStructs of ``avals`` with the dimension variables set to ``env``."""
  leaves = [ShapeDtypeStruct(tuple(shape_poly._evaluate(d, env) for d in a.shape),
                             a.dtype, weak_type=a.weak_type) for a in avals]
  return tree_util.tree_unflatten(tree, leaves)


def _export_symbolic(fun_jit, args, kwargs, platforms, disabled) -> Exported:
  """A shape-polymorphic export: the jitted function, specialized per call's shapes;
  output shapes fitted as affine expressions of the dimension variables."""
  static_key, dyn, dkw = fun_jit._split(args, kwargs)
  leaves, dyn_tree = tree_util.tree_flatten((dyn, dkw))
  in_avals = tuple(_spec_aval(x) for x in leaves)
  dim_vars = shape_poly.all_dim_vars(in_avals)
  scope = next(d.scope for a in in_avals for d in a.shape if isinstance(d, _DimExpr))
  snums = set(static_key[0])
  skw = {k: v for k, v in kwargs.items() if k not in dkw}

  def with_statics(d_args, d_kwargs):
    """The full (args, kwargs) of a call: the dynamic ones given, the static kept."""
    it = iter(d_args)
    full = [args[i] if i in snums else next(it) for i in range(len(args))]
    return full, {**d_kwargs, **skw}

  def closed_at(env):
    a, k = with_statics(*_concrete_specs(dyn_tree, in_avals, env))
    return fun_jit.trace(*a, **k)._entry

  def trace_at(env):
    entry = closed_at(env)
    return entry.closed.out_avals, entry.out_tree

  def inside(v, n):  # (a value of v within its constrained range)
    lo, hi = scope.bounds(v)
    return int(min(max(n, lo), hi))

  base = {v: inside(v, 7 + 4 * i) for i, v in enumerate(dim_vars)}
  outs0, out_tree = trace_at(base)
  slopes, steps = {}, {}
  for v in dim_vars:
    step = inside(v, base[v] + 6) - base[v] or inside(v, base[v] - 6) - base[v]
    steps[v] = step
    outs_v, _ = trace_at({**base, v: base[v] + step}) if step else (outs0, None)
    slopes[v] = [[(b - a) // step if step else 0 for a, b in zip(o0.shape, o1.shape)]
                 for o0, o1 in zip(outs0, outs_v)]
  out_avals = []
  for j, o in enumerate(outs0):
    dims = []
    for d, size in enumerate(o.shape):
      e = size - sum(slopes[v][j][d] * base[v] for v in dim_vars)
      for v in dim_vars:
        if slopes[v][j][d]:
          e = e + slopes[v][j][d] * _DimExpr._from_var(v, scope)
      dims.append(e)
    out_avals.append(ShapedArray(tuple(dims), o.dtype, o.weak_type))
  check = {v: inside(v, 2 * base[v] + 1 + 3 * i) for i, v in enumerate(dim_vars)}
  outs2, _ = trace_at(check)
  for o, want in zip(outs2, out_avals):
    if tuple(o.shape) != tuple(shape_poly._evaluate(d, check) for d in want.shape):
      raise NotImplementedError(
          f"pyjax cannot export {fun_jit._name} with symbolic shapes: an output shape "
          "is not an affine function of the dimension variables")
  n_in, n_out = len(in_avals), len(out_avals)

  def primal_flat(*xs):
    a, k = with_statics(*tree_util.tree_unflatten(dyn_tree, xs))
    return tree_util.tree_leaves(fun_jit(*a, **k))

  def specialized(in_tree_args):
    """The jitted function's (full args, kwargs) for the exported ones."""
    return with_statics(*in_tree_args)

  def template():
    """The jaxpr ``serialize`` writes, its sizes fitted as dimension expressions."""
    def traced(env):
      entry = closed_at(env)
      if entry.has_refs or entry.tracer_consts:
        raise NotImplementedError("pyjax cannot serialize a function that takes or "
                                  "closes over Refs or outer tracers")
      return entry.closed
    tree, arrays = jaxpr_serde.fit(traced, dim_vars, scope, base, steps, check,
                                   fun_jit._name)
    return jaxpr_serde.to_json(tree), arrays

  return Exported(
      fun_name=fun_jit._name, in_tree=dyn_tree, in_avals=in_avals, out_tree=out_tree,
      out_avals=tuple(out_avals), _has_named_shardings=True,
      _in_named_shardings=(None,) * n_in, _out_named_shardings=(None,) * n_out,
      in_shardings_hlo=(None,) * n_in, out_shardings_hlo=(None,) * n_out,
      nr_devices=1, platforms=platforms, ordered_effects=(), unordered_effects=(),
      disabled_safety_checks=disabled, mlir_module_serialized=b"",
      calling_convention_version=CALLING_CONVENTION_VERSION,
      module_kept_var_idx=tuple(range(n_in)), uses_global_constants=True,
      _get_vjp=lambda exp: _export_vjp(exp, primal_flat), _fun=(fun_jit, specialized),
      _serial=_once(template))


def _once(fn):
  """``fn()``, computed on the first call."""
  memo: list = []

  def get():
    if not memo:
      memo.append(fn())
    return memo[0]
  return get


def _has_tangent(a) -> bool:
  return core.primal_dtype_to_tangent_dtype(a.dtype) != dtypes.float0


def _export_vjp(exp: Exported, primal_flat) -> Exported:
  """The VJP of ``exp`` exported: (flat primals, output cotangents) -> input
  cotangents, as JAX's, except that integer outputs take no cotangent and integer
  inputs get none (JAX passes float0 arrays there; pyjax's jit cannot lower them)."""
  n = len(exp.in_avals)
  ct_idx = [j for j, a in enumerate(exp.out_avals) if _has_tangent(a)]
  in_idx = [i for i, a in enumerate(exp.in_avals) if _has_tangent(a)]

  def fun_vjp(*args_and_cts):
    primals, given = args_and_cts[:n], args_and_cts[n:]
    outs, pullback = api.vjp(primal_flat, *primals)
    cts = [np.zeros(np.shape(o), dtypes.float0) for o in outs]
    for j, ct in zip(ct_idx, given):
      cts[j] = ct
    res = pullback(cts)
    return tuple(res[i] for i in in_idx)

  fun_vjp.__name__ = f"vjp_{exp.fun_name}"
  specs = [ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)
           for a in exp.in_avals]
  specs += [ShapeDtypeStruct(exp.out_avals[j].shape, exp.out_avals[j].dtype)
            for j in ct_idx]
  return export(pjit.jit(fun_vjp), platforms=exp.platforms,
                disabled_checks=exp.disabled_safety_checks)(*specs)


# ---------------------------------------------------------------- calling


def call_exported(exported: Exported) -> Callable:
  """The function ``exported.call`` is."""
  if not isinstance(exported, Exported):
    raise ValueError("The exported argument must be an export.Exported. "
                     f"Found {exported}.")
  cached = exported.__dict__.get("_call")
  if cached is not None:
    return cached

  @custom_vjp
  def f_flat(*args_flat):
    return call_exported_p.bind(*args_flat, exported=exported)

  def f_flat_vjp_fwd(*args_flat):
    return f_flat(*args_flat), args_flat

  def f_flat_vjp_bwd(residual, ct_res_flat):
    exp_vjp = exported.vjp()
    cts = [ct for ct, a in zip(ct_res_flat, exported.out_avals) if _has_tangent(a)]
    got = iter(call_exported(exp_vjp)(*residual, *cts))
    return tuple(next(got) if _has_tangent(a) else np.zeros(np.shape(x), dtypes.float0)
                 for x, a in zip(residual, exported.in_avals))

  f_flat.defvjp(f_flat_vjp_fwd, f_flat_vjp_bwd)
  fast = exported._fun is None
  exp_avals = [(tuple(a.shape), a.dtype) for a in exported.in_avals]

  def f_imported(*args, **kwargs):
    if core.trace_ctx.trace is core.eval_trace:
      # Eagerly: what the custom_vjp and the primitive would run, without them (on
      # arrays of the exported signature, the compiled module directly), keeping the
      # call as cheap as a jitted function's.
      leaves, in_tree = tree_util.tree_flatten((args, kwargs))
      if in_tree == exported.in_tree:
        if fast and all(
            (type(x) is ArrayImpl or type(x) is PendingArray or type(x) is np.ndarray)
            and (x.shape, x.dtype) == s for x, s in zip(leaves, exp_avals)):
          return tree_util.tree_unflatten(exported.out_tree, _run(exported, leaves))
        return tree_util.tree_unflatten(exported.out_tree,
                                        _call_exported_impl(*leaves, exported=exported))
    args_flat, in_tree = tree_util.tree_flatten((args, kwargs))
    if in_tree != exported.in_tree:
      in_args = tree_util.tree_unflatten(in_tree, [0] * in_tree.num_leaves)
      exp_args = tree_util.tree_unflatten(exported.in_tree,
                                          [0] * exported.in_tree.num_leaves)
      msg = ("The invocation args and kwargs must have the same pytree structure as "
             f"when the function '{exported.fun_name}' was exported, but they have the "
             "following structural differences:\n" + "\n".join(
                 f"   - {shape_poly_path(path)} is a {thing1} in the invocation and a "
                 f"{thing2} when exported, so {explanation}.\n"
                 for path, thing1, thing2, explanation
                 in tree_util.equality_errors(in_args, exp_args)))
      raise ValueError(msg)
    return tree_util.tree_unflatten(exported.out_tree, f_flat(*args_flat))

  object.__setattr__(exported, "_call", f_imported)
  return f_imported


call = call_exported

call_exported_p = Primitive("call_exported")
call_exported_p.multiple_results = True


def _arg_descr(exported: Exported, i: int, dim: int | None) -> str:
  paths = tree_util.tree_flatten_with_path(tree_util.tree_unflatten(
      exported.in_tree, [0] * exported.in_tree.num_leaves))[0]
  s = shape_poly_path(paths[i][0])
  return s if dim is None else f"{s}.shape[{dim}]"


def _solve_dim_vars(exported: Exported, shapes) -> dict:
  """The dimension variables' values for arguments of ``shapes``, with JAX's errors."""
  avals = exported.in_avals
  exprs = [(i, d, e) for i, a in enumerate(avals) for d, e in enumerate(a.shape)
           if isinstance(e, _DimExpr)]
  specs = ",".join(f"{_arg_descr(exported, i, None)}.shape = {tuple(a.shape)}"
                   for i, a in enumerate(avals)
                   if any(isinstance(e, _DimExpr) for e in a.shape))
  env: dict = {}
  obtained: list = []

  def fail(detail, head="Input shapes do not match the polymorphic shapes "
           "specification. ", sep=". "):
    got = "".join(obtained)
    raise ValueError(
        f"{head}{detail}{sep}Using the following polymorphic shapes specifications: "
        f"{specs}. "
        f"Obtained dimension variables: {got}. Please see "
        "https://docs.jax.dev/en/latest/export/shape_poly.html#shape-assertion-errors "
        "for more details.")

  pending = list(exprs)
  while pending:
    progress = False
    for item in list(pending):
      i, d, e = item
      unknown = e._vars() - set(env)
      if not unknown:
        continue
      if len(unknown) > 1:
        continue
      v, = unknown
      coeffs = e._coeffs()
      k = coeffs.get(((v, 1),))
      if k is None or any(v in _DimExpr({t: 1}, e.scope)._vars() for t in coeffs
                          if t != ((v, 1),) and t != ()):
        continue  # (not linear in v)
      rest = e - k * _DimExpr._from_var(v, e.scope)
      size = shapes[i][d]
      num = size - shape_poly._evaluate(rest, env)
      if num % k:
        fail(f"Division had remainder {num % k} when computing the value of '{v}'")
      env[v] = num // k
      obtained.append(f"'{v}' = {env[v]} from specification '{e}' for dimension "
                      f"{_arg_descr(exported, i, d)} (= {size}), ")
      if env[v] < 1:
        fail(f"Expected value >= 1 for dimension variable '{v}'")
      pending.remove(item)
      progress = True
    pending = [p for p in pending if p[2]._vars() - set(env)]
    if not progress and pending:
      left = set().union(*(p[2]._vars() for p in pending)) - set(env)
      raise ValueError(
          f"Cannot solve for values of dimension variables {left}. We can only solve "
          "linear uni-variate constraints.")
  for i, d, e in exprs:
    want = shape_poly._evaluate(e, env)
    if shapes[i][d] != want:
      fail(f"Found inconsistency between dimension size {_arg_descr(exported, i, d)} "
           f"(= {shapes[i][d]}) and the specification '{e}' (= {want})")
  if exprs:
    for text, g in exprs[0][2].scope._ge:
      val = shape_poly._evaluate(g, env)
      if val < 0:
        fail(f"Expected '{g}' to be greater or equal to 0, but found {val}.",
             f"Input shapes do not match the symbolic shape constraint {text}. ", "  ")
  return env


def _call_exported_abstract_eval(*in_avals, exported: Exported):
  if len(in_avals) != len(exported.in_avals):
    raise ValueError(f"call_exported: expected {len(exported.in_avals)} arguments, "
                     f"got {len(in_avals)}")
  for i, (exp_aval, aval) in enumerate(zip(exported.in_avals, in_avals)):
    if len(exp_aval.shape) != len(aval.shape):
      raise ValueError(f"Rank mismatch for {_arg_descr(exported, i, None)}: expected "
                       f"{tuple(exp_aval.shape)} and called with {tuple(aval.shape)}")
    if exp_aval.dtype != aval.dtype:
      raise ValueError(f"Dtype mismatch for {_arg_descr(exported, i, None)}: expected "
                       f"{exp_aval.dtype} and called with {aval.dtype}")
    for d, e in enumerate(exp_aval.shape):
      if not isinstance(e, _DimExpr) and e != aval.shape[d]:
        raise ValueError(
            f"Shape mismatch for {_arg_descr(exported, i, d)} (expected same constant): "
            f"expected {tuple(exp_aval.shape)} and called with {tuple(aval.shape)}")
  if not exported.uses_global_constants:
    return list(exported.out_avals)
  env = _solve_dim_vars(exported, [a.shape for a in in_avals])
  return [ShapedArray(tuple(shape_poly._evaluate(d, env) for d in a.shape), a.dtype,
                      a.weak_type) for a in exported.out_avals]


def _check_platform(exported: Exported, platform: str):
  if platform not in exported.platforms and \
      DisabledSafetyCheck.platform() not in exported.disabled_safety_checks:
    raise ValueError(f"Function '{exported.fun_name}' was exported for platforms "
                     f"'{exported.platforms}' but it is used on '{(platform,)}'.")


def _compiled(exported: Exported):
  """The CompiledCall of a shape-specific Exported's module (made once)."""
  c = exported.__dict__.get("_compiled")
  if c is None:
    _check_platform(exported, "cpu")
    closed, _, _ = api_util.trace_to_jaxpr(
        lambda *xs: call_exported_p.bind(*xs, exported=exported),
        list(exported.in_avals))
    c = dispatch.compile_closed_jaxpr(closed, exported.fun_name,
                                      lowering.ModuleText(exported.mlir_module()))
    object.__setattr__(exported, "_compiled", c)
  return c


def _run(exported: Exported, leaves):
  return _compiled(exported)(leaves, ())


def _call_exported_impl(*args, exported: Exported):
  _call_exported_abstract_eval(*(core.get_aval(x) for x in args), exported=exported)
  if exported._fun is not None:  # symbolic: the jitted function on these shapes
    fun, full = exported._fun
    a, k = full(tree_util.tree_unflatten(exported.in_tree, args))
    return tree_util.tree_leaves(fun(*a, **k))
  leaves = [x if isinstance(x, ArrayImpl) else
            asarray_value(np.asarray(x, dtype=a.dtype))
            for x, a in zip(args, exported.in_avals)]
  return _run(exported, leaves)


_FUNC = re.compile(r"func\.func (?:public|private) @([\w$.-]+)")
_SYMBOL = re.compile(r"@([\w$.-]+)")


def _call_exported_lower(ctx, *args, exported: Exported):
  _check_platform(exported, "cpu")
  avals_in = [a.aval for a in args]
  if exported._fun is not None:  # symbolic: lower the function at these shapes
    fun, full = exported._fun
    a, k = full(_concrete_specs(exported.in_tree, exported.in_avals,
                                _solve_dim_vars(exported, [a.shape for a in avals_in])))
    closed = fun.trace(*a, **k).jaxpr
    return ctx.call(closed.jaxpr, closed.consts, list(args), exported.fun_name)
  mb = ctx.module
  key = ("call_exported", id(exported))
  hit = mb._memo.get(key)
  if hit is None:
    text = exported.mlir_module()
    body = text[text.index("{\n", text.index("attributes")) + 2:text.rstrip().rindex("}")]
    names = set(_FUNC.findall(body))
    prefix = f"exported_{lowering._sym(exported.fun_name)}_{next(mb._fn_names)}_"
    body = _SYMBOL.sub(lambda m: "@" + prefix + m.group(1) if m.group(1) in names
                       else m.group(0), body)
    body = body.replace(f"func.func public @{prefix}main",
                        f"func.func private @{prefix}main")
    mb.funcs.append(body)
    hit = mb._memo[key] = (prefix + "main", exported)
  sym = hit[0]
  outs = list(exported.out_avals)
  res = ctx._fresh()
  types = ", ".join(tensor_type(a) for a in outs)
  lhs = f"{res}:{len(outs)} = " if len(outs) > 1 else (f"{res} = " if outs else "")
  ctx.lines.append(f"{ctx.indent}{lhs}func.call @{sym}({', '.join(a.name for a in args)})"
                   f" : ({', '.join(a.type for a in args)}) -> ({types})")
  if len(outs) == 1:
    return [lowering.Val(res, outs[0])]
  return [lowering.Val(f"{res}#{i}", a) for i, a in enumerate(outs)]


def _call_exported_batch(vals, dims, **params):
  raise NotImplementedError("Batching rule for 'call_exported' not implemented")


class _Bare(str):
  def __repr__(self):
    return str(self)


call_exported_p.def_impl(_call_exported_impl)
call_exported_p.def_abstract_eval(_call_exported_abstract_eval)
call_exported_p.lower = _call_exported_lower
call_exported_p.batch = _call_exported_batch
call_exported_p.pp_params = lambda params: {"exported": _Bare(str(params["exported"]))}


# ---------------------------------------------------------------- serialization

MAGIC = b"PYJAXEXP"
# 1: JSON (shape-specific exports: StableHLO text); 2: JSON and the constant arrays'
# bytes (shape-polymorphic exports: a jaxpr, ``jaxpr_serde``). Both are read.
FORMAT_VERSION = 2
_HEADER = len(MAGIC) + struct.calcsize("<HQ")
_DIGEST = 32

# node type -> (serialized name, serialize_auxdata); name -> (type, deserialize, from)
serialization_registry: dict = {}
deserialization_registry: dict = {}


def register_pytree_node_serialization(nodetype, *, serialized_name: str,
                                       serialize_auxdata, deserialize_auxdata,
                                       from_children=None):
  """Registers how ``nodetype``'s pytree auxiliary data is (de)serialized."""
  if nodetype in serialization_registry:
    raise ValueError(
        f"Duplicate serialization registration for type `{nodetype}`. "
        "Previous registration was with serialized_name "
        f"`{serialization_registry[nodetype][0]}`.")
  if serialized_name in deserialization_registry:
    raise ValueError(
        "Duplicate serialization registration for "
        f"serialized_name `{serialized_name}`. "
        "Previous registration was for type "
        f"`{deserialization_registry[serialized_name][0]}`.")
  serialization_registry[nodetype] = (serialized_name, serialize_auxdata)
  deserialization_registry[serialized_name] = (nodetype, deserialize_auxdata,
                                               from_children)
  return nodetype


def register_namedtuple_serialization(nodetype, *, serialized_name: str):
  """Registers a namedtuple class for pytree serialization."""
  if not (isinstance(nodetype, type) and issubclass(nodetype, tuple)
          and hasattr(nodetype, "_fields")):
    raise ValueError("Use `jax.export.register_pytree_node_serialization` for "
                     "types other than `collections.namedtuple`.")
  return register_pytree_node_serialization(
      nodetype, serialized_name=serialized_name,
      serialize_auxdata=lambda aux: b"", deserialize_auxdata=lambda b: None)


def _ordereddict_keys(keys):
  if isinstance(keys, Sequence) and all(isinstance(k, str) for k in keys):
    return json.dumps(list(keys)).encode("utf-8")
  raise NotImplementedError(
      "Serialization of collections.OrderedDict is supported only when the "
      f"keys are strings. Found keys: {keys}.")


register_pytree_node_serialization(
    collections.OrderedDict, serialized_name="collections.OrderedDict",
    serialize_auxdata=_ordereddict_keys,
    deserialize_auxdata=lambda b: tuple(json.loads(b.decode("utf-8"))))


# Typed PRNG keys are pytrees over their uint32 data in pyjax (leaves in JAX): their
# node (aux data: the implementation's name) serializes so key-taking exports do.
register_pytree_node_serialization(
    prng.PRNGKeyArray, serialized_name="pyjax.PRNGKeyArray",
    serialize_auxdata=lambda impl: prng.resolve_prng_impl(impl).name.encode("utf-8"),
    deserialize_auxdata=lambda b: prng.resolve_prng_impl(b.decode("utf-8")))


def _tree_to_json(t: tree_util.PyTreeDef):
  nd = t.node_data()
  if nd is None:
    return "*"
  typ, data = nd
  kids = [_tree_to_json(c) for c in t.children()]
  if typ is type(None):
    return ["none"]
  if typ is tuple or typ is list:
    return [typ.__name__, kids]
  if typ is dict:
    for k in data:
      if not isinstance(k, str):
        raise TypeError("Serialization is supported only for dictionaries with string "
                        f"keys. Found key {k} of type {type(k)}.")
    return ["dict", list(data), kids]
  if typ in serialization_registry:
    name, ser = serialization_registry[typ]
    aux = ser(data)
    if not isinstance(aux, (bytes, bytearray)):
      raise ValueError("The custom serialization function for `node_type` must "
                       f"return a `bytes` object. It returned a {type(aux)}.")
    return ["custom", name, bytes(aux).hex(), kids]
  raise ValueError(
      f"Cannot serialize PyTreeDef containing an unregistered type `{typ}`. "
      "Use `export.register_pytree_node_serialization` or "
      "`export.register_namedtuple_serialization`.")


def _tree_from_json(j) -> tree_util.PyTreeDef:
  leaf = tree_util.tree_structure(0)
  make = tree_util.PyTreeDef.from_node_data_and_children
  if j == "*":
    return leaf
  kind = j[0]
  if kind == "none":
    return tree_util.tree_structure(None)
  if kind in ("tuple", "list"):
    typ = tuple if kind == "tuple" else list
    return make(default_registry, (typ, None), [_tree_from_json(c) for c in j[1]])
  if kind == "dict":
    return make(default_registry, (dict, list(j[1])), [_tree_from_json(c) for c in j[2]])
  if kind == "custom":
    name = j[1]
    if name not in deserialization_registry:
      raise ValueError(
          "Cannot deserialize a PyTreeDef containing an "
          f"unregistered type `{name}`. "
          "Use `export.register_pytree_node_serialization` or "
          "`export.register_namedtuple_serialization`.")
    typ, deser, _ = deserialization_registry[name]
    return make(default_registry, (typ, deser(bytes.fromhex(j[2]))),
                [_tree_from_json(c) for c in j[3]])
  raise ValueError(f"Cannot deserialize PyTreeDef with unknown kind: {kind}")


def _aval_to_json(a: ShapedArray):
  return [[{"d": str(d)} if isinstance(d, _DimExpr) else d for d in a.shape],
          a.dtype.name, bool(a.weak_type)]


def _dtype(name: str) -> np.dtype:
  try:
    return np.dtype(name)
  except TypeError:
    return np.dtype(getattr(dtypes, name))


def _aval_from_json(j, scope=None) -> ShapedArray:
  shape, dt, weak = j
  dims = []
  for d in shape:
    if scope is not None and isinstance(d, dict) and isinstance(d.get("d"), str):
      d, = shape_poly.symbolic_shape(d["d"], scope=scope)
      if not isinstance(d, _DimExpr):
        raise ValueError(f"bad shape {shape}")
    elif not (isinstance(d, int) and d >= 0):
      raise ValueError(f"bad shape {shape}")
    dims.append(d)
  return ShapedArray(tuple(dims), _dtype(dt), bool(weak))


def _to_json(exp: Exported, vjp_order: int, arrays: list) -> dict:
  if exp._fun is not None and exp._serial is None:
    raise NotImplementedError(
        f"pyjax cannot serialize the shape-polymorphic export of '{exp.fun_name}': its "
        "lowering is shape-specific, so such an Exported specializes the jitted function "
        "in the process that exported it. Export with concrete shapes to serialize.")
  out = {
      "fun_name": exp.fun_name,
      "calling_convention_version": exp.calling_convention_version,
      "in_tree": _tree_to_json(exp.in_tree), "out_tree": _tree_to_json(exp.out_tree),
      "in_avals": [_aval_to_json(a) for a in exp.in_avals],
      "out_avals": [_aval_to_json(a) for a in exp.out_avals],
      "nr_devices": exp.nr_devices, "platforms": list(exp.platforms),
      "disabled_checks": [str(c) for c in exp.disabled_safety_checks],
      "module_kept_var_idx": list(exp.module_kept_var_idx),
      "module": None, "vjp": None}
  if exp._fun is None:
    out["module"] = exp.mlir_module()
  else:  # shape-polymorphic: the jaxpr with its sizes as dimension expressions
    tree, arrs = exp._serial()
    scopes = [d.scope for a in exp.in_avals for d in a.shape if isinstance(d, _DimExpr)]
    out["constraints"] = list(scopes[0]._constraints_str)
    out["jaxpr"] = {"tree": tree, "arrays": [len(arrays), len(arrs)]}
    arrays.extend(arrs)
  if vjp_order > 0:
    if not exp.has_vjp():
      raise ValueError("serialization of an Exported that does not have vjps of "
                       "high-enough order")
    out["vjp"] = _to_json(exp.vjp(), vjp_order - 1, arrays)
  return out


def _check_field(j: dict, name: str, typ):
  v = j.get(name)
  if not isinstance(v, typ):
    raise ValueError(f"the field '{name}' is missing or malformed")
  return v


def _check_module(text: str) -> bytes:
  if not text.startswith("module @") or "func.func public @main(" not in text or \
      "@pyjax_host." in text:
    raise ValueError("the module is not a StableHLO module pyjax exported")
  return text.encode("utf-8")


def _from_json(j: dict, arrays=None) -> Exported:
  if not isinstance(j, dict):
    raise ValueError("the payload is not an object")
  if j.get("jaxpr") is not None:
    return _symbolic_from_json(j, arrays)
  version = _check_field(j, "calling_convention_version", int)
  if not (minimum_supported_calling_convention_version <= version <=
          maximum_supported_calling_convention_version):
    raise ValueError(
        f"The serialized calling convention version {version} is outside the range of "
        f"supported versions [{minimum_supported_calling_convention_version}.."
        f"{maximum_supported_calling_convention_version}]")
  in_avals = tuple(_aval_from_json(a) for a in _check_field(j, "in_avals", list))
  out_avals = tuple(_aval_from_json(a) for a in _check_field(j, "out_avals", list))
  in_tree = _tree_from_json(j.get("in_tree"))
  out_tree = _tree_from_json(j.get("out_tree"))
  if in_tree.num_leaves != len(in_avals) or out_tree.num_leaves != len(out_avals):
    raise ValueError("the pytrees do not match the avals")
  vjp = None if j.get("vjp") is None else _from_json(j["vjp"])
  if vjp is not None and vjp._fun is not None:
    raise ValueError("a shape-specific export with a shape-polymorphic VJP")
  return _exported(j, _check_field(j, "fun_name", str), in_tree, in_avals, out_tree,
                   out_avals, version, vjp,
                   mlir_module_serialized=_check_module(_check_field(j, "module", str)),
                   uses_global_constants=False)


def _exported(j, fun_name, in_tree, in_avals, out_tree, out_avals, version, vjp, **rest):
  """An Exported read back: the fields every payload carries, one-device shardings."""
  n_in, n_out = len(in_avals), len(out_avals)
  return Exported(
      fun_name=fun_name, in_tree=in_tree, in_avals=in_avals,
      out_tree=out_tree, out_avals=out_avals, _has_named_shardings=True,
      _in_named_shardings=(None,) * n_in, _out_named_shardings=(None,) * n_out,
      in_shardings_hlo=(None,) * n_in, out_shardings_hlo=(None,) * n_out,
      nr_devices=_check_field(j, "nr_devices", int),
      platforms=tuple(_check_field(j, "platforms", list)),
      ordered_effects=(), unordered_effects=(),
      disabled_safety_checks=tuple(DisabledSafetyCheck(str(c)) for c in
                                   _check_field(j, "disabled_checks", list)),
      calling_convention_version=version,
      module_kept_var_idx=tuple(_check_field(j, "module_kept_var_idx", list)),
      _get_vjp=None if vjp is None else (lambda _: vjp), **rest)


def _symbolic_from_json(j: dict, arrays) -> Exported:
  """A shape-polymorphic Exported read back: its jaxpr, rebuilt and jitted per call's
  sizes (checked here once, at sizes its constraints allow)."""
  if arrays is None:
    raise ValueError("a shape-polymorphic export in a version 1 payload")
  version = _check_field(j, "calling_convention_version", int)
  if not (minimum_supported_calling_convention_version <= version <=
          maximum_supported_calling_convention_version):
    return _from_json({**j, "jaxpr": None})  # (its error)
  constraints = _check_field(j, "constraints", list)
  if not all(isinstance(c, str) for c in constraints):
    raise ValueError("the field 'constraints' is malformed")
  scope = shape_poly.SymbolicScope(constraints)
  in_avals = tuple(_aval_from_json(a, scope) for a in _check_field(j, "in_avals", list))
  out_avals = tuple(_aval_from_json(a, scope)
                    for a in _check_field(j, "out_avals", list))
  in_tree = _tree_from_json(j.get("in_tree"))
  out_tree = _tree_from_json(j.get("out_tree"))
  if in_tree.num_leaves != len(in_avals) or out_tree.num_leaves != len(out_avals):
    raise ValueError("the pytrees do not match the avals")
  jj = _check_field(j, "jaxpr", dict)
  span = jj.get("arrays")
  if not (isinstance(span, list) and len(span) == 2 and all(
      type(k) is int and k >= 0 for k in span) and sum(span) <= len(arrays)):
    raise ValueError("the field 'jaxpr' is malformed")
  mine = arrays[span[0]:span[0] + span[1]]
  template = jaxpr_serde.Template(jj.get("tree"), mine, scope)
  vjp = None if j.get("vjp") is None else _from_json(j["vjp"], arrays)
  if vjp is not None and vjp._fun is None:
    raise ValueError("a shape-polymorphic export with a shape-specific VJP")
  dim_vars = shape_poly.all_dim_vars(in_avals)
  if not dim_vars:
    raise ValueError("a shape-polymorphic export without dimension variables")
  fun_name = _check_field(j, "fun_name", str)
  held: list = []

  def run(*args, **kwargs):
    exp = held[0]
    leaves = tree_util.tree_leaves((args, kwargs))
    env = _solve_dim_vars(exp, [tuple(x.shape) for x in leaves])
    outs = core.jaxpr_as_fun(template.instantiate(env), *leaves)
    return tree_util.tree_unflatten(exp.out_tree, outs)
  run.__name__ = run.__qualname__ = fun_name

  exp = _exported(j, fun_name, in_tree, in_avals, out_tree, out_avals, version, vjp,
                  mlir_module_serialized=b"", uses_global_constants=True,
                  _fun=(pjit.jit(run), lambda in_tree_args: in_tree_args),
                  _serial=lambda: (jj["tree"], mine))
  held.append(exp)
  # the jaxpr at sizes the constraints allow must read back and match the avals
  env = {}
  for i, v in enumerate(dim_vars):
    lo, hi = scope.bounds(v)
    env[v] = int(min(max(7 + 4 * i, lo), hi))
  closed = template.instantiate(env)
  try:  # (abstractly evaluated: each equation's types are checked by its rule)
    retraced, _, _ = api_util.trace_to_jaxpr(lambda *xs: core.jaxpr_as_fun(closed, *xs),
                                             closed.in_avals)
  except (TypeError, ValueError, KeyError, IndexError) as e:
    raise ValueError(f"the serialized jaxpr does not type-check: {e}") from None
  for got, want in [(closed.in_avals, in_avals), (closed.out_avals, out_avals),
                    (retraced.out_avals, out_avals)]:
    if [(tuple(a.shape), a.dtype) for a in got] != [
        (tuple(shape_poly._evaluate(d, env) for d in a.shape), a.dtype) for a in want]:
      raise ValueError("the serialized jaxpr does not match the exported avals")
  return exp


def _read_arrays(payload: bytes):
  """(the JSON object, the constant arrays) of a version 2 payload."""
  if len(payload) < 8:
    raise ValueError("the payload is truncated")
  n, = struct.unpack_from("<Q", payload)
  if n > len(payload) - 8:
    raise ValueError("the payload's JSON length is out of bounds")
  j = json.loads(payload[8:8 + n].decode("utf-8"))
  raw = memoryview(payload)[8 + n:]
  if not isinstance(j, dict) or not isinstance(j.get("arrays"), list):
    raise ValueError("the payload is not an object with arrays")
  arrays = []
  for m in j["arrays"]:
    if not (isinstance(m, list) and len(m) == 4 and isinstance(m[1], list)
            and all(type(k) is int and k >= 0 for k in [*m[1], m[2], m[3]])):
      raise ValueError("an array's description is malformed")
    dt = _dtype(m[0])
    if dt.hasobject or m[3] != int(np.prod(m[1], dtype=np.int64)) * dt.itemsize or \
        m[2] + m[3] > len(raw):
      raise ValueError("an array's description does not match its bytes")
    arrays.append(np.frombuffer(raw[m[2]:m[2] + m[3]], dt).reshape(m[1]).copy())
  return j.get("export"), arrays


def deserialize(blob: bytearray) -> Exported:
  """The Exported ``Exported.serialize`` wrote; damaged bytes raise ValueError."""
  if not isinstance(blob, (bytes, bytearray, memoryview)):
    raise TypeError(f"deserialize expects bytes or a bytearray, got {type(blob)}")
  blob = bytes(blob)
  bad = "jax.export.deserialize: the bytes are not a valid pyjax serialized Exported"
  if len(blob) < _HEADER + _DIGEST or not blob.startswith(MAGIC):
    raise ValueError(f"{bad}: they do not start with pyjax's header (truncated, or "
                     "not written by pyjax's Exported.serialize)")
  version, n = struct.unpack_from("<HQ", blob, len(MAGIC))
  if version not in (1, FORMAT_VERSION):
    raise ValueError(f"{bad}: serialization format version {version} is not supported "
                     f"(this pyjax reads versions 1 to {FORMAT_VERSION})")
  if len(blob) != _HEADER + n + _DIGEST:
    raise ValueError(f"{bad}: expected {_HEADER + n + _DIGEST} bytes, got {len(blob)} "
                     "(truncated or extended)")
  payload = blob[_HEADER:_HEADER + n]
  if hashlib.sha256(payload).digest() != blob[_HEADER + n:]:
    raise ValueError(f"{bad}: checksum mismatch (the bytes are corrupted)")
  try:
    if version == 1:
      return _from_json(json.loads(payload.decode("utf-8")))
    return _from_json(*_read_arrays(payload))
  except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError,
          shape_poly.InconclusiveDimensionOperation,
          RuntimeError) as e:
    raise ValueError(f"{bad}: {e}") from None

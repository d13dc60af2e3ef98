"""Turning a Python function into a jaxpr, written once for every transformation.

The pieces: argnums/static/donate resolution (``resolve_argnums``, ``static_partial``,
``argnums_partial``), a flat view of a pytree function that records its output tree
(``flatten_fun``), debug info naming the flat arguments (``debug_info``),
abstractification with JAX's errors (``abstractify``), and the one entry
``trace_to_jaxpr`` returning the closed jaxpr, the hoisted closed-over tracers of outer
traces and the output tree. Callers own their caches and call paths: nothing here runs
per call of a compiled function.
"""
from __future__ import annotations

import functools
import inspect
from typing import Callable, Sequence

import numpy as np

from pyjax._src import core, dtypes, tree_util
from pyjax._src.array import ArrayImpl
from pyjax._src.core import ClosedJaxpr, DebugInfo, Jaxpr, ShapedArray, Tracer
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.mesh import get_concrete_mesh
from pyjax._src.sharding import NamedSharding, PartitionSpec, Sharding, aval_sharding


class ShapeDtypeStruct:
  """A shape/dtype placeholder accepted wherever an abstract argument is."""
  __slots__ = ("shape", "dtype", "_sharding", "weak_type")

  def __init__(self, shape, dtype, *, sharding=None, weak_type=False):
    self.shape = tuple(shape)
    self.dtype = (dtype if isinstance(dtype, dtypes.ExtendedDType)
                  else dtypes.canonicalize_dtype(dtype))
    if sharding is not None and not isinstance(sharding, (Sharding, PartitionSpec)):
      raise ValueError(f"sharding should be an instance of `jax.sharding.Sharding`, "
                       f"`jax.sharding.PartitionSpec` or `jax.experimental.layout.Format`. "
                       f"Got {sharding} of type {type(sharding)}.")
    self._sharding = sharding
    self.weak_type = weak_type

  ndim = property(lambda self: len(self.shape))
  size = property(lambda self: int(np.prod(self.shape)))

  @property
  def sharding(self):
    """The sharding; a PartitionSpec is read on the mesh set when this is asked."""
    s = self._sharding
    if not isinstance(s, PartitionSpec):
      return s
    mesh = get_concrete_mesh()
    if mesh is None or mesh.empty:
      raise TypeError("When specifying PartitionSpec to `ShapeDtypeStruct`, the context "
                      "mesh cannot be empty. Please use `jax.set_mesh` to set the mesh "
                      "context.")
    return NamedSharding(mesh, s)

  @property
  def aval(self):
    s = self.sharding  # a NamedSharding types the value (Explicit axes)
    return ShapedArray(self.shape, self.dtype, self.weak_type,
                       sharding=aval_sharding(s, len(self.shape))
                       if isinstance(s, NamedSharding) else None)

  def __repr__(self):
    sh = f", sharding={self.sharding}" if self.sharding is not None else ""
    w = ", weak_type=True" if self.weak_type else ""
    return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name}{sh}{w})"

  def __eq__(self, other):
    return (isinstance(other, ShapeDtypeStruct) and self.shape == other.shape
            and self.dtype == other.dtype and self.weak_type == other.weak_type
            and self._sharding == other._sharding)

  def __hash__(self):
    return hash((self.shape, self.dtype, self.weak_type, self._sharding))


def shape_dtype_structs(avals, in_avals=()) -> list[ShapeDtypeStruct]:
  """ShapeDtypeStructs of ``avals``; when some aval (``in_avals`` included) is sharded
  (Explicit axes in types), each gets its sharding over that abstract mesh, replicated
  where it has none (as JAX's)."""
  mesh = next((a.sharding.mesh for a in (*in_avals, *avals)
               if getattr(a, "sharding", None) is not None), None)
  if mesh is None:
    return [ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type) for a in avals]
  return [ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type, sharding=(
      a.sharding if getattr(a, "sharding", None) is not None
      else NamedSharding(mesh, PartitionSpec(*[None] * len(a.shape))))) for a in avals]


# ---------------------------------------------------------------- argnums


def as_tuple(x, kind=int) -> tuple:
  """``x`` (None, one ``kind`` or a sequence of them) as a tuple."""
  if x is None:
    return ()
  return (x,) if isinstance(x, kind) else tuple(x)


def resolve_argnums(fun, argnums, argnames) -> tuple[tuple, tuple]:
  """``(argnums, argnames)`` completed from ``fun``'s signature as JAX does: a number
  also names its parameter and a name also numbers it. Negative numbers stay as given
  (they resolve against each call's arguments); without a signature both stay as given."""
  nums, names = as_tuple(argnums), as_tuple(argnames, str)
  try:
    params = list(inspect.signature(fun).parameters.values())
  except (TypeError, ValueError):
    return nums, names
  pos = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
  named = (pos[i] for i in nums if -len(pos) <= i < len(pos))
  names = tuple(dict.fromkeys((*names, *named)))
  nums = tuple(dict.fromkeys((*nums, *(pos.index(n) for n in names if n in pos))))
  return nums, names


def validate_argnums(fun, nums, names, what: str) -> None:
  """JAX's ValueErrors for ``jit``'s ``{what}_argnums``/``{what}_argnames`` that
  ``fun``'s signature cannot take (none without a signature)."""
  try:
    params = list(inspect.signature(fun).parameters.values())
  except (TypeError, ValueError):
    return
  P = inspect.Parameter
  if not any(p.kind is P.VAR_POSITIONAL for p in params):
    n = sum(p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD) for p in params)
    if nums and (-min(nums) > n or max(nums) >= n):
      raise ValueError(f"Jitted function has {what}_argnums={tuple(nums)}, but only "
                       f"accepts {n} positional arguments.")
  pos_only = {p.name for p in params if p.kind in (P.POSITIONAL_ONLY, P.VAR_POSITIONAL)}
  if bad := pos_only & set(names):
    raise ValueError(f"Jitted function has invalid argnames {bad} in {what}_argnames. "
                     f"These are positional-only")
  if any(p.kind is P.VAR_KEYWORD for p in params):
    return
  valid = {p.name for p in params if p.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY)}
  if bad := set(names) - valid:
    raise ValueError(f"Jitted function has invalid argnames {bad} in {what}_argnames. "
                     f"Function does not take these args.")


def static_argnums_in_range(static_argnums, n: int, what: str) -> tuple:
  """``static_argnums`` made non-negative for ``n`` positional arguments; one out of
  range raises (as make_jaxpr does)."""
  nums = tuple(i % n if i < 0 else i for i in as_tuple(static_argnums))
  for i in nums:
    if i >= n:
      raise ValueError(f"{what} static_argnums {i} is out of range for {n} positional "
                       f"arguments.")
  return nums


def static_partial(fun, args, static_nums, static_kwargs=None):
  """``fun`` as a function of the dynamic arguments only: positions ``static_nums``
  (non-negative) of ``args`` and the keyword arguments ``static_kwargs`` are fixed.
  Returns ``(f, dyn_args)`` with ``f(*dyn_args, **dyn_kwargs)``."""
  n = len(args)
  statics = {i: args[i] for i in static_nums}
  dyn = tuple(a for i, a in enumerate(args) if i not in statics)

  def f(*dyn_args, **kwargs):
    it = iter(dyn_args)
    full = [statics[i] if i in statics else next(it) for i in range(n)]
    if static_kwargs:
      kwargs = {**kwargs, **static_kwargs}
    return fun(*full, **kwargs)
  return f, dyn


def argnums_partial(fun, argnums, args, kwargs):
  """``fun`` as a function of the arguments at ``argnums`` (an int or tuple of ints, as
  grad takes), the others fixed. Returns ``(f, dyn_args)``; JAX's errors for bad
  argnums."""
  nums = as_tuple(argnums)
  for i in nums:
    if not isinstance(i, int):
      raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
    if i >= len(args) or i < -len(args):
      raise TypeError(
          f"differentiating with respect to argnums={argnums} requires at least "
          f"{max(nums) + 1} positional arguments to be passed by the caller, but got "
          f"only {len(args)} positional arguments.")
  nums = tuple(i % len(args) for i in nums)

  def f(*dyn):
    full = list(args)
    for i, d in zip(nums, dyn):
      full[i] = d
    return fun(*full, **kwargs)
  return f, tuple(args[i] for i in nums)


# ---------------------------------------------------------------- flat functions


class OutStore:
  """Filled by a flat function when it runs: its output tree and, with ``has_aux``, the
  auxiliary output's leaves and tree."""
  __slots__ = ("out_tree", "aux_leaves", "aux_tree")

  def __init__(self):
    self.out_tree = self.aux_leaves = self.aux_tree = None


def split_aux(out, name):
  """``(output, aux)`` of a function called with ``has_aux=True``."""
  if not isinstance(out, (tuple, list)) or len(out) != 2:
    raise TypeError(f"{name} with has_aux=True requires the function to return a pair "
                    f"(output, auxiliary_data), got {type(out).__name__}.")
  return out[0], out[1]


def flatten_fun(fun, in_tree, *, kwargs=True, has_aux=None, check_out=None):
  """``fun`` as a function of flat leaves returning a flat list of outputs.

  The leaves unflatten with ``in_tree`` to ``(args, kwargs)`` (to ``args`` with
  ``kwargs=False``). With ``has_aux`` (the transformation's name, for the error) ``fun``
  returns ``(output, aux)``: only the output's leaves are returned, the aux leaves are
  kept in the store. ``check_out(leaf)`` sees every output leaf. Returns
  ``(flat_fun, store)``; ``store.out_tree`` is set once ``flat_fun`` has run.
  """
  store = OutStore()

  def flat_fun(*leaves):
    if kwargs:
      a, kw = tree_util.tree_unflatten(in_tree, list(leaves))
      out = fun(*a, **kw)
    else:
      out = fun(*tree_util.tree_unflatten(in_tree, list(leaves)))
    if has_aux is not None:
      out, aux = split_aux(out, has_aux)
      store.aux_leaves, store.aux_tree = tree_util.tree_flatten(aux)
    out_flat, store.out_tree = tree_util.tree_flatten(out)
    if check_out is not None:
      for o in out_flat:
        check_out(o)
    return out_flat
  return flat_fun, store


# ---------------------------------------------------------------- debug info


def fun_name(fun) -> str:
  return getattr(fun, "__name__", type(fun).__name__)


def fun_source_info(fun) -> str | None:
  """``"name at file:line"`` for a function with Python source (a partial's function, a
  wrapper's wrapped one, as JAX's), else None."""
  while isinstance(fun, functools.partial):
    fun = fun.func
  try:
    fun = inspect.unwrap(fun)
  except ValueError:  # (a cycle of __wrapped__)
    pass
  code = getattr(fun, "__code__", None)
  if code is None:
    return None
  return f"{fun_name(fun)} at {code.co_filename}:{code.co_firstlineno}"


def debug_info(traced_for: str, fun: Callable, args, kwargs, static_argnums=(),
               static_argnames=()) -> DebugInfo:
  """A DebugInfo naming the flat dynamic arguments as ``fun``'s signature does: ``x``,
  ``params[0][1]``, ``args[2]`` when the call does not bind to the signature."""
  name = fun_name(fun)
  src = fun_source_info(fun) or name
  try:
    named = list(inspect.signature(fun).bind(*args, **kwargs).arguments.items())
  except (TypeError, ValueError):
    named = [(f"args[{i}]", a) for i, a in enumerate(args)] + list(kwargs.items())
  arg_names = []
  for i, (nm, a) in enumerate(named):
    if i in static_argnums or nm in static_argnames:
      continue
    paths, _ = tree_util.tree_flatten_with_path(a)
    arg_names.extend(nm + tree_util.keystr(p) for p, _leaf in paths)
  return DebugInfo(traced_for, name, src, tuple(arg_names))


def body_debug_info(traced_for: str, fun, num_args: int) -> DebugInfo | None:
  """DebugInfo of a control-flow body: flat arguments named ``args[i]``; None for a
  callable without Python source."""
  src = fun_source_info(fun)
  if src is None:
    return None
  names = tuple(f"args[{i}]" for i in range(num_args))
  return DebugInfo(traced_for, fun_name(fun), src, names)


def arg_name(dbg: DebugInfo | None, i: int) -> str:
  names = () if dbg is None else dbg.arg_names
  return names[i] if i < len(names) else f"args[{i}]"


# ---------------------------------------------------------------- abstractification


def abstractify(x, argname: str, for_jit: bool = False, fun=None) -> ShapedArray:
  """The aval of argument leaf ``x``; a non-JAX type raises JAX's error: jit's
  ("Error interpreting argument to ``fun`` ...") with ``for_jit``, else make_jaxpr's."""
  if type(x) is ArrayImpl:
    return x.aval
  try:
    return core.get_aval(x)
  except TypeError:
    pass
  msg = getattr(type(x), "_not_a_jax_type_message", None)  # a Ref says what it is
  if msg is not None:
    raise TypeError(msg(x, argname)) from None
  if for_jit:
    raise TypeError(f"Error interpreting argument to {argname if fun is None else fun} "
                    f"as an abstract array. "
                    f"The problematic value is of type {type(x)} and was passed to the "
                    f"function at path {argname}.\nThis typically means that a "
                    f"jit-wrapped function was called with a non-array argument, and this "
                    f"argument was not marked as static using the static_argnums or "
                    f"static_argnames parameters of jax.jit.") from None
  raise TypeError(f"Argument '{argname}' of type {type(x)} is not a valid JAX type. "
                  f"Only arrays, NumPy values, Python scalars and pytrees of them can "
                  f"be passed to transformed functions.") from None


def abstractify_args(leaves, dbg: DebugInfo | None, for_jit: bool = False,
                     fun=None) -> list:
  """``abstractify`` of each flat argument, named by ``dbg`` (jit's errors name ``fun``)."""
  return [abstractify(x, arg_name(dbg, i), for_jit, fun) for i, x in enumerate(leaves)]


# ---------------------------------------------------------------- tracing


def hoist_tracer_consts(jaxpr: Jaxpr, consts) -> tuple[Jaxpr, list, list]:
  """Closed-over tracers of outer traces become leading inputs (as in JAX).

  Returns ``(jaxpr, consts, tracers)``: ``jaxpr`` keeps the concrete ``consts`` as
  constvars and takes the ``tracers`` first among its inputs.
  """
  tv, tc, cv, cc = [], [], [], []
  for v, c in zip(jaxpr.constvars, consts):
    if isinstance(c, Tracer):
      tv.append(v)
      tc.append(c)
    else:
      cv.append(v)
      cc.append(c)
  if not tv:
    return jaxpr, list(consts), []
  return Jaxpr(cv, tv + jaxpr.invars, jaxpr.outvars, jaxpr.eqns, jaxpr.debug_info), cc, tc


def trace_to_jaxpr(fun: Callable, in_avals: Sequence[ShapedArray],
                   debug_info: DebugInfo | None = None, *, in_tree=None, kwargs=True,
                   hoist=True, check_out=None):
  """Stages ``fun`` into a jaxpr over arguments of ``in_avals`` (flat).

  With ``in_tree`` the flat arguments unflatten to ``fun``'s ``(args, kwargs)`` (to its
  ``args`` with ``kwargs=False``; see ``flatten_fun``); without it ``fun`` takes and
  returns flat lists. With ``hoist`` the closed-over tracers of enclosing traces become
  the jaxpr's leading inputs, else they stay among its constants. Returns
  ``(closed, tracer_consts, out_tree)`` (``out_tree`` is None without ``in_tree``).
  """
  store = None
  if in_tree is not None:
    fun, store = flatten_fun(fun, in_tree, kwargs=kwargs, check_out=check_out)
  jaxpr, consts = pe.trace_to_jaxpr(fun, list(in_avals), debug_info)
  tracers = []
  if hoist:
    jaxpr, consts, tracers = hoist_tracer_consts(jaxpr, consts)
  return ClosedJaxpr(jaxpr, consts), tracers, None if store is None else store.out_tree

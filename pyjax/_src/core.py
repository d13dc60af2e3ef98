"""Core of pyjax: abstract values, primitives, traces, tracers and the jaxpr IR.

Interpretation is context-sensitive: ``Primitive.bind`` hands the primitive to
the *current* trace (``trace_ctx.trace``). Every transformation's trace knows
its parent; it unboxes its own tracers (recognised by ``tracer._trace is
self``), treats everything else as a constant, and binds on the parent. The
bottom of the chain is ``EvalTrace``, which runs the primitive's NumPy impl.

Higher layers hand core what it needs from them at run time, once at their import:
the eager path's hook (``set_eval_hook``, by dispatch), the concrete array type
(``register_array_type``, by array) and a few lax operations (``register_lax_ops``).
"""
from __future__ import annotations

import collections
import itertools
import math
import operator
import re
import sys
import types
import threading
import weakref
from contextlib import contextmanager
from typing import Any, Callable, Sequence

import numpy as np

from pyjax._src import dtypes
from pyjax._src import pretty_printer as pp
from pyjax._src.errors import (ConcretizationTypeError, TracerArrayConversionError,
                               TracerBoolConversionError, TracerIntegerConversionError,
                               UnexpectedTracerError, error_repr, out_of_memory)

# ---------------------------------------------------------------- avals


class AbstractValue:
  """Base of abstract values (JAX's ``core.AbstractValue``); ShapedArray is the one
  pyjax uses."""
  __slots__ = ()


class ShapedArray(AbstractValue):
  """The abstract value of an array: shape, dtype, weak_type and, on a mesh with
  Explicit axes, its sharding (a NamedSharding over an AbstractMesh with one spec entry
  per dimension; None when no dimension is split: replicated or unmeshed). JAX's
  ``manual_axis_type`` and ``memory_space`` are accepted and not kept."""
  __slots__ = ("shape", "dtype", "weak_type", "sharding")
  array_abstraction_level = 1

  def __init__(self, shape, dtype, weak_type=False, *, sharding=None,
               manual_axis_type=None, memory_space=None):
    self.shape = tuple(shape)
    try:
      self.dtype = np.dtype(dtype)
    except TypeError:
      if not isinstance(dtype, dtypes.ExtendedDType):  # a typed key's key<fry> stays
        raise
      self.dtype = dtype
    self.weak_type = bool(weak_type)
    if sharding is not None and not _split_sharding(sharding):
      sharding = None  # replicated (or a library's concrete single-device sharding)
    self.sharding = sharding

  ndim = property(lambda self: len(self.shape))
  size = property(lambda self: int(math.prod(self.shape)))

  def update(self, shape=None, dtype=None, weak_type=None, sharding=None, **_jax_only):
    # A new shape drops the sharding unless one is given (its spec was per dimension).
    if sharding is None and (shape is None or tuple(shape) == self.shape):
      sharding = self.sharding
    return ShapedArray(self.shape if shape is None else shape,
                       self.dtype if dtype is None else dtype,
                       self.weak_type if weak_type is None else weak_type,
                       sharding=sharding)

  def strip_weak_type(self):
    return self if not self.weak_type else ShapedArray(self.shape, self.dtype,
                                                       sharding=self.sharding)

  def to_tangent_aval(self):
    """The aval of this value's tangents: itself for inexact dtypes, else float0."""
    return ShapedArray(self.shape, primal_dtype_to_tangent_dtype(self.dtype),
                       self.weak_type, sharding=self.sharding)

  to_cotangent_aval = to_tangent_aval

  def __eq__(self, other):
    return (type(other) is ShapedArray and self.shape == other.shape
            and self.dtype == other.dtype and self.weak_type == other.weak_type
            and self.sharding == other.sharding)

  def __hash__(self):
    return hash((self.shape, self.dtype, self.weak_type, self.sharding))

  def str_short(self, short_dtypes=True):
    if self.dtype == dtypes.float0:
      dt = "float0"
    else:
      dt = dtypes.short_dtype_name(self.dtype) if short_dtypes else self.dtype.name
    s = self.sharding
    if s is None:
      return f"{dt}[{','.join(map(str, self.shape))}]"
    return f"{dt}[{_dims_str(self.shape, s.spec.partitions)}]"

  def __repr__(self):
    w = ", weak_type=True" if self.weak_type else ""
    return f"ShapedArray({self.str_short(short_dtypes=False)}{w})"

  def __str__(self):
    return f"{'~' if self.weak_type else ''}{self.str_short(short_dtypes=False)}"


def _split_sharding(s) -> bool:
  """Whether ``s`` is a sharding that splits some dimension (a spec entry not None)."""
  spec = getattr(s, "spec", None)
  return spec is not None and any(p is not None for p in spec.partitions)


def _dims_str(shape, parts) -> str:
  """JAX's shape text with shardings: ``8@x,4`` / ``8@(x,y)``."""
  return ",".join(f"{n}" if p is None else
                  f"{n}@({','.join(p)})" if isinstance(p, tuple) else f"{n}@{p}"
                  for n, p in zip(shape, parts))


def _shaped_array_fast(shape: tuple, dtype: np.dtype, weak_type: bool) -> ShapedArray:
  """ShapedArray from an already-canonical tuple shape and np.dtype (hot paths)."""
  a = _new_shaped_array(ShapedArray)
  a.shape = shape
  a.dtype = dtype
  a.weak_type = weak_type
  a.sharding = None
  return a


_new_shaped_array = object.__new__


def get_aval(x) -> ShapedArray:
  """Abstract value of any array-like (Array, Tracer, NumPy value or Python scalar)."""
  aval = getattr(x, "aval", None)
  if aval is not None:
    return aval
  if isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic):
    return ShapedArray((), dtypes.canonicalize_dtype(dtypes.dtype(x)),
                       weak_type=type(x) is not bool)
  if isinstance(x, (np.ndarray, np.generic)):
    return ShapedArray(x.shape, dtypes.canonicalize_dtype(x.dtype))
  msg = getattr(type(x), "_not_a_jax_type_message", None)  # a Ref says what it is
  raise TypeError(msg(x) if msg is not None else
                  f"Value {x!r} of type {type(x)} is not a valid JAX type")


def is_valid_jaxtype(x) -> bool:
  try:
    get_aval(x)
    return True
  except TypeError:
    return False


def primal_dtype_to_tangent_dtype(dtype) -> np.dtype:
  """The dtype of a tangent of ``dtype`` values: float0 unless inexact."""
  dtype = np.dtype(dtype)
  return dtype if dtypes.issubdtype(dtype, np.inexact) else np.dtype(dtypes.float0)


def mapped_aval(size: int, axis: int | None, aval: ShapedArray) -> ShapedArray:
  """``aval`` without its mapped ``axis`` (of ``size``); unchanged for None."""
  if axis is None:
    return aval
  if aval.shape[axis] != size:
    raise ValueError(f"mapped_aval: axis {axis} of {aval.str_short()} is not of size "
                     f"{size}")
  return aval.update(shape=aval.shape[:axis] + aval.shape[axis + 1:])


def unmapped_aval(size: int, axis: int | None, aval: ShapedArray,
                  explicit_mesh_axis=None) -> ShapedArray:
  """``aval`` with a new axis of ``size`` at ``axis``; unchanged for None."""
  if axis is None:
    return aval
  if type(axis) is not int:
    raise TypeError(axis)
  return aval.update(shape=aval.shape[:axis] + (size,) + aval.shape[axis:])


# ---------------------------------------------------------------- primitives


# name -> (the Primitive of that name, the module that made it): ``jax.export`` finds a
# serialized jaxpr's primitives here. A name pyjax itself uses twice maps to None; one
# made outside pyjax never replaces pyjax's (a user's later one of its name replaces it).
primitive_registry: dict[str, tuple[Any, str] | None] = {}


def _register_primitive(prim, module: str):
  prev = primitive_registry.get(name := prim.name)
  ours = module.startswith("pyjax.")
  if prev is None and name in primitive_registry:
    return
  if prev is not None and prev[1].startswith("pyjax."):
    if ours:
      primitive_registry[name] = None
    return
  primitive_registry[name] = (prim, module)


class Primitive:
  """A primitive operation. Rules are attributes set beside its definition."""
  multiple_results = False
  # Effectful primitives (debug_callback, io_callback) are never dropped as dead code.
  effectful = False
  call_primitive = map_primitive = ref_primitive = False  # (JAX's flags, read by libraries)

  def __init__(self, name: str):
    self.name = name
    _register_primitive(self, sys._getframe(1).f_globals.get("__name__", ""))
    self.impl: Callable | None = None
    self.abstract_eval: Callable | None = None
    self.jvp: Callable | None = None
    self.transpose: Callable | None = None
    self.batch: Callable | None = None
    self.lower: Callable | None = None
    self.pp_params: Callable | None = None  # custom param formatting
    self.pp_keep_order = False  # params printed in pp_params' order, not sorted
    # pp_seed_names(eqn, context): names a sub-jaxpr's binders before printing it
    self.pp_seed_names: Callable | None = None
    # partial_eval(trace, args, params): how a LinearizeTrace splits an application
    # with both known and unknown inputs (primitives carrying sub-jaxprs).
    self.partial_eval: Callable | None = None
    # batch rule also receives the vmap's ``axis_name`` (primitives holding a jaxpr)
    self.batch_with_axis_name = False
    # sharding_rule(*avals, **params): the output sharding(s) (None: replicated) when an
    # operand's type is sharded (see ``shard_avals``).
    self.sharding_rule: Callable | None = None

  def __repr__(self):
    return self.name

  def bind(self, *args, **params):
    return trace_ctx.trace.process_primitive(self, args, params)

  def def_impl(self, fn):
    self.impl = fn
    return fn

  def def_abstract_eval(self, fn):
    self.abstract_eval = fn
    return fn

  def def_effectful_abstract_eval(self, fn):
    """``fn`` returns (avals, effects); a primitive with effects is never dropped."""
    def abstract_eval(*avals, **params):
      out, effects = fn(*avals, **params)
      if effects:
        self.effectful = True
      return out
    self.abstract_eval = abstract_eval
    return fn

  def bind_with_trace(self, trace, args, params):
    return trace.process_primitive(self, args, params)

  def get_bind_params(self, params):
    return dict(params)

  def rule(self, kind: str):
    """Returns the rule ``kind`` or raises naming the primitive and transformation."""
    r = getattr(self, kind)
    if r is None:
      what = {"jvp": "differentiation (jvp)", "transpose": "reverse-mode transpose",
              "batch": "vmap batching", "lower": "jit lowering to StableHLO",
              "impl": "eager evaluation", "abstract_eval": "abstract evaluation"}[kind]
      raise NotImplementedError(
          f"Primitive '{self.name}' has no rule for {what} yet.")
    return r


# ---------------------------------------------------------------- sharding in types


class ShardingTypeError(Exception):
  """JAX's error for operand shardings that no rule can combine."""


class DuplicateSpecError(Exception):
  """A sharding rule's result splits two dimensions over one mesh axis (``parts``: its
  spec); ``shard_avals`` turns it into JAX's ShardingTypeError."""

  def __init__(self, parts):
    super().__init__(parts)
    self.parts = parts


# True once a sharded array or type has existed: tracing then asks each primitive's
# ``sharding_rule`` for its outputs' shardings; before, nothing pays for it.
sharded_types = False
_on_sharded: list = []


def on_first_sharded(fn: Callable):
  """Calls ``fn()`` when the first sharded array or type appears (now if one has)."""
  _on_sharded.append(fn)
  if sharded_types:
    fn()


def note_sharded():
  """Says a sharded array or type exists (cheap after the first call)."""
  global sharded_types
  if not sharded_types:
    sharded_types = True
    for fn in _on_sharded:
      fn()


def shard_avals(prim, avals, out, params):
  """``out`` (the abstract eval's result) with the shardings of ``prim``'s sharding rule
  when an operand is sharded; unchanged when none is (the output types of primitives
  taking a sharding parameter come from their abstract eval)."""
  for a in avals:
    if getattr(a, "sharding", None) is not None:
      break
  else:
    return out
  rule = prim.sharding_rule
  if rule is None:
    if any(_holds_jaxpr(v) for v in params.values()):
      return out  # control flow, calls: their abstract eval typed the body's outputs
    raise ShardingTypeError(
        f"sharding rule for {prim.name} is not implemented. Please file an issue at "
        f"https://github.com/jax-ml/jax/issues. You can work around this error by "
        f"dropping that operation into full auto sharding mode via: "
        f"`jax.sharding.auto_axes(fun, out_shardings=...)`")
  try:
    shardings = rule(*avals, **params)
  except DuplicateSpecError as e:
    o = out[0] if prim.multiple_results else out
    ins = ", ".join(a.str_short() for a in avals)
    raise ShardingTypeError(
        f"{prim.name} operation with inputs: {ins} produces an illegally sharded result: "
        f"{dtypes.short_dtype_name(o.dtype)}[{_dims_str(o.shape, e.parts)}]") from None
  if not prim.multiple_results:
    return out if out.sharding is shardings else _with_sharding(out, shardings)
  return [_with_sharding(o, s) for o, s in zip(out, shardings)]


def _holds_jaxpr(v):
  if isinstance(v, (tuple, list)):
    return any(_holds_jaxpr(x) for x in v)
  return isinstance(v, (Jaxpr, ClosedJaxpr))


def _with_sharding(aval, sharding):
  if type(aval) is not ShapedArray or aval.sharding is sharding:
    return aval
  return ShapedArray(aval.shape, aval.dtype, aval.weak_type, sharding=sharding)


# ---------------------------------------------------------------- traces


class Trace:
  """One interpretation context. ``parent`` is the trace it binds on."""
  __slots__ = ("parent", "tag", "_valid", "__weakref__")

  def __init__(self, parent=None):
    self.parent = parent
    self.tag = object()
    self._valid = True

  def process_primitive(self, prim, args, params):
    raise NotImplementedError

  # Calls with custom differentiation rules or rematerialization. A trace that
  # does not treat them specially runs the function body on itself.
  def process_custom_jvp_call(self, fun, jvp, args, symbolic_zeros):
    with set_current_trace(self):
      return fun(*args)

  def process_custom_vjp_call(self, fun, fwd, bwd, args, out_avals, symbolic_zeros):
    with set_current_trace(self):
      return fun(*args)

  def process_remat(self, fun, args, saveable):
    with set_current_trace(self):
      return fun(*args)

  def invalidate(self):
    self._valid = False

  def __repr__(self):
    return f"{type(self).__name__}"


# ---------------------------------------------------------------- hooks from higher layers
#
# Filled once, at the import of the layer that provides them; core never imports it.

_array_type: type = type(None)  # ``array.ArrayImpl``: values eval_jaxpr binds as they are
_to_array: Callable = lambda x: x  # ``array.asarray_value``: anything else to an Array


def register_array_type(array_type: type, to_array: Callable):
  global _array_type, _to_array
  _array_type, _to_array = array_type, to_array


class LaxOps:
  """The lax operations lower layers call at run time (Tracer iteration, ad's zeros and
  broadcasts, batching's axis moves); lax registers them with ``register_lax_ops``."""
  index_in_dim = full = broadcast_in_dim = transpose = None


lax_ops = LaxOps()


def register_lax_ops(**fns):
  for name, fn in fns.items():
    if not hasattr(LaxOps, name):
      raise AttributeError(f"LaxOps has no operation {name!r}")
    setattr(lax_ops, name, fn)


# The eager path's hook: None runs each primitive's NumPy impl on the host; dispatch
# sets a function ``(prim, args, params) -> outputs`` while eager operations need more
# (finding GPUs on the first one, then routing operations on GPU arrays to the device).
_eval_hook: Callable | None = None


def set_eval_hook(fn: Callable | None):
  global _eval_hook
  _eval_hook = fn


class EvalTrace(Trace):
  """The bottom trace: runs primitives on concrete values."""
  __slots__ = ()

  def process_primitive(self, prim, args, params):
    hook = _eval_hook
    try:
      if hook is None:  # the host path: no call beyond the impl
        return prim.impl(*args, **params)
      return hook(prim, args, params)
    except MemoryError as e:  # NumPy's: JAX's error, as XLA's allocator raises it
      raise out_of_memory(getattr(e, "_total_size", 0)) from None


eval_trace = EvalTrace()


class _TraceCtx(threading.local):
  trace: Trace = eval_trace
  # inside ensure_compile_time_eval: staging evaluates operations on constants now
  fold_constants: bool = False


trace_ctx = _TraceCtx()


@contextmanager
def set_current_trace(trace: Trace):
  prev = trace_ctx.trace
  trace_ctx.trace = trace
  try:
    yield trace
  finally:
    trace_ctx.trace = prev


def find_cur_trace() -> Trace:
  return trace_ctx.trace


def find_top_trace(_=None) -> Trace:
  """The current trace (JAX's: its argument is ignored since traces are a context)."""
  return trace_ctx.trace


@contextmanager
def take_current_trace():
  """Yields the current trace with evaluation current meanwhile."""
  prev = trace_ctx.trace
  trace_ctx.trace = eval_trace
  try:
    yield prev
  finally:
    trace_ctx.trace = prev


class OpaqueTraceState:
  """Which trace is current, compared by identity (for libraries that check whether
  they are still in the context they were created in)."""
  __slots__ = ("_trace_ref",)

  def __init__(self, trace_ref):
    self._trace_ref = trace_ref

  def __eq__(self, other):
    return isinstance(other, OpaqueTraceState) and self._trace_ref == other._trace_ref

  def __hash__(self):
    return hash(self._trace_ref)


def get_opaque_trace_state(convention=None) -> OpaqueTraceState:
  del convention
  return OpaqueTraceState(weakref.ref(trace_ctx.trace))


def _trace_chain(trace):
  while trace is not None:
    yield trace
    trace = trace.parent


def unsafe_am_i_under_a_jit() -> bool:
  return any(type(t).__name__ == "DynamicJaxprTrace" for t in _trace_chain(trace_ctx.trace))


def unsafe_am_i_under_a_vmap() -> bool:
  return any(type(t).__name__ == "BatchTrace" for t in _trace_chain(trace_ctx.trace))


def unsafe_get_axis_names() -> list:
  return [t.axis_name for t in _trace_chain(trace_ctx.trace)
          if getattr(t, "axis_name", None) is not None][::-1]


@contextmanager
def ensure_compile_time_eval():
  """Context in which staging (jit, make_jaxpr, ...) evaluates operations whose operands
  are all concrete values now, as JAX's; operations on tracers are staged as usual."""
  prev = trace_ctx.fold_constants
  trace_ctx.fold_constants = True
  try:
    yield
  finally:
    trace_ctx.fold_constants = prev


class Tracer:
  """Base class of every transformation's tracer; overloads like ``Array``."""
  __slots__ = ("_trace", "__weakref__")
  __array_priority__ = 1000

  @property
  def aval(self) -> ShapedArray:
    raise NotImplementedError

  shape = property(lambda self: self.aval.shape)
  dtype = property(lambda self: self.aval.dtype)
  ndim = property(lambda self: len(self.aval.shape))
  size = property(lambda self: self.aval.size)
  weak_type = property(lambda self: self.aval.weak_type)

  def __len__(self):
    if not self.aval.shape:
      raise TypeError("len() of unsized object")
    return self.aval.shape[0]

  @property
  def _value(self):
    # Reached when a tracer escapes into eager evaluation.
    raise UnexpectedTracerError(_leak_message(self))

  def to_concrete_value(self):
    """The concrete value behind this tracer if it has one, else None."""
    return None

  def _concrete_or_raise(self, err):
    v = self.to_concrete_value()
    if v is None:
      raise err(self)
    return v

  def __bool__(self):
    if self.aval.shape:
      raise ValueError(
          "The truth value of an array with more than one element is ambiguous. "
          "Use a.any() or a.all()")
    return bool(self._concrete_or_raise(TracerBoolConversionError))

  def __index__(self):
    if not dtypes.issubdtype(self.aval.dtype, np.integer):
      raise TypeError("only integer scalar arrays can be converted to a scalar index")
    return int(self._concrete_or_raise(TracerIntegerConversionError))

  def __int__(self):
    return int(self._concrete_or_raise(
        lambda t: ConcretizationTypeError(t, _conversion_context("int"))))

  def __float__(self):
    return float(self._concrete_or_raise(
        lambda t: ConcretizationTypeError(t, _conversion_context("float"))))

  def __complex__(self):
    return complex(self._concrete_or_raise(
        lambda t: ConcretizationTypeError(t, _conversion_context("complex"))))

  def __array__(self, dtype=None, copy=None):
    v = self.to_concrete_value()
    if v is None:
      raise TracerArrayConversionError(self)
    return np.asarray(v, dtype=dtype)

  def item(self, *args):
    return self._concrete_or_raise(
        lambda t: ConcretizationTypeError(t, "This occurred in the item() method of jax.Array")
    ).item(*args)

  def tolist(self):
    return np.asarray(self._concrete_or_raise(lambda t: ConcretizationTypeError(
        t, f"The tolist() method was called on {error_repr(t)}.{_origin_line(t)}"))).tolist()

  def __hash__(self):
    raise TypeError(f"unhashable type: {type(self).__name__}")

  def __setitem__(self, idx, val):
    raise TypeError(
        "JAX arrays are immutable and do not support in-place item assignment. "
        "Instead of x[idx] = y, use x = x.at[idx].set(y) or another .at[] method: "
        "https://docs.jax.dev/en/latest/_autosummary/jax.numpy.ndarray.at.html")

  def __iter__(self):
    if not self.aval.shape:
      raise TypeError("iteration over a 0-d array")
    index_in_dim = lax_ops.index_in_dim
    return iter([index_in_dim(self, i, keepdims=False)
                 for i in range(self.aval.shape[0])])

  def __reduce__(self):
    raise ConcretizationTypeError(self, "Tracers cannot be pickled.")

  def __copy__(self):
    return self

  def __deepcopy__(self, memo):
    return self

  def __repr__(self):
    return f"{type(self).__name__}<{self.aval.str_short(short_dtypes=False)}>"

  __str__ = __repr__


def _leak_message(tracer) -> str:
  """JAX's message (without the lines where the value was made: pyjax keeps none)."""
  name = type(tracer).__name__
  msg = (f"Encountered an unexpected tracer. A function transformed by JAX had a "
         f"side effect, allowing for a reference to an intermediate value with "
         f"type {tracer.aval.str_short(short_dtypes=False)} wrapped in a "
         f"{_TRACER_CLASS_NAMES.get(name, name)} to escape the scope of the "
         f"transformation.\nJAX transformations require that functions explicitly "
         f"return their outputs, and disallow saving intermediate values to global "
         f"state.")
  dbg = getattr(tracer._trace, "debug_info", None)
  if isinstance(dbg, DebugInfo):
    msg += (f"\nThe function being traced when the value leaked was "
            f"{dbg.func_src_info} traced for {dbg.traced_for}.")
  return msg + ("\nTo catch the leak earlier, try setting the environment variable "
                "JAX_CHECK_TRACER_LEAKS or using the `jax.checking_leaks` context "
                "manager.")


# JAX's class names where pyjax's differ (its messages name the class).
_TRACER_CLASS_NAMES = {"JitTracer": "DynamicJaxprTracer"}


def check_valid(tracer):
  if not tracer._trace._valid:
    raise UnexpectedTracerError(_leak_message(tracer))


def _conversion_context(name: str) -> str:
  """JAX's context for ``int(x)``, ``float(x)``, ``complex(x)`` of a tracer."""
  return (f"The problem arose with the `{name}` function. If trying to convert the data "
          f"type of a value, try using `x.astype({name})` or `jnp.array(x, {name})` "
          f"instead.")


def _origin_line(t) -> str:
  fn = getattr(t, "_origin_msg", None)
  msg = fn() if fn is not None else ""
  return f"\n{msg}" if msg else ""


def concrete_or_error(force, val, context=""):
  """Returns ``force(val)`` for a concrete ``val``; raises ConcretizationTypeError otherwise."""
  if isinstance(val, Tracer):
    v = val.to_concrete_value()
    if v is None:
      raise ConcretizationTypeError(val, context)
    val = v
  return val if force is None else force(val)


def concrete_dim(d, context=""):
  return concrete_or_error(int, d, context)


def canonicalize_shape(shape, context: str = "") -> tuple:
  """A shape (an int or a sequence of them) as a tuple of Python ints; anything else,
  a traced dimension included, raises JAX's TypeError (``context`` ends its first
  line)."""
  if isinstance(shape, int):
    shape = (shape,)
  try:
    return tuple(operator.index(d) for d in shape)
  except TypeError:
    pass
  raise invalid_shape_error(shape, context)


def canonicalize_dim(d, context: str = "") -> int:
  return canonicalize_shape((d,), context)[0]


def invalid_shape_error(shape, context: str = "") -> TypeError:
  msg = f"Shapes must be 1D sequences of concrete values of integer type, got {shape}."
  if context:
    msg += f" {context}."
  try:
    dims = tuple(shape)
  except TypeError:
    dims = ()
  if any(isinstance(d, Tracer) and d.to_concrete_value() is None for d in dims):
    msg += ("\nIf using `jit`, try using `static_argnums` or applying `jit` to smaller "
            "subfunctions.")
    for d in dims:
      origin = getattr(d, "_origin_msg", None) if isinstance(d, Tracer) else None
      origin = origin() if origin is not None else ""
      if origin:
        msg += "\n" + origin
  return TypeError(msg)


# ---------------------------------------------------------------- jaxpr IR


class Var:
  __slots__ = ("aval", "__weakref__")

  def __init__(self, aval: ShapedArray):
    self.aval = aval

  def __repr__(self):
    return f"Var({self.aval.str_short()})"


class DropVar(Var):
  __slots__ = ()


class Literal:
  __slots__ = ("val", "aval")

  def __init__(self, val, aval: ShapedArray):
    self.val = val
    self.aval = aval

  def __repr__(self):
    return f"{_literal_str(self.val, self.aval)}:{self.aval.str_short()}"


def _literal_str(val, aval) -> str:
  """As JAX: a float32 constant prints its float64 value (``1.6699999570846558``); a
  weak-typed scalar of the default dtype prints as the Python scalar it came from."""
  v = np.asarray(val)
  if v.ndim:
    return "[...]"
  k = v.dtype.kind
  if aval.weak_type and (k == "b" or k == "i" and v.dtype == dtypes.default_int_dtype()
                         or k == "f" and v.dtype == dtypes.default_float_dtype()
                         or k == "c" and v.dtype == dtypes.default_complex_dtype()):
    return str(v[()])
  return str(v.item())


class JaxprEqn:
  __slots__ = ("invars", "outvars", "primitive", "params", "source_info")

  def __init__(self, invars, outvars, primitive, params, source_info=None):
    self.invars = list(invars)
    self.outvars = list(outvars)
    self.primitive = primitive
    self.params = params
    self.source_info = source_info

  # JAX's typed effects and equation context: pyjax has neither (``effectful`` flags)
  effects = frozenset()
  ctx = None

  def replace(self, **kw):
    d = dict(invars=self.invars, outvars=self.outvars, primitive=self.primitive,
             params=self.params, source_info=self.source_info)
    kw.pop("effects", None)
    kw.pop("ctx", None)
    d.update(kw)
    return JaxprEqn(**d)

  def __repr__(self):
    return pp_eqn(self, JaxprPpContext()).format().rstrip()


class DebugInfo:
  """Where a traced function came from, to name arguments in error messages."""
  __slots__ = ("traced_for", "func_name", "func_src_info", "arg_names", "result_paths")

  def __init__(self, traced_for, func_name, func_src_info, arg_names, result_paths=None):
    self.traced_for = traced_for
    self.func_name = func_name
    self.func_src_info = func_src_info
    self.arg_names = arg_names
    self.result_paths = result_paths


class Jaxpr:
  __slots__ = ("constvars", "invars", "outvars", "eqns", "debug_info")

  def __init__(self, constvars, invars, outvars, eqns, debug_info=None):
    self.constvars = list(constvars)
    self.invars = list(invars)
    self.outvars = list(outvars)
    self.eqns = list(eqns)
    self.debug_info = debug_info

  in_avals = property(lambda self: [v.aval for v in self.invars])
  out_avals = property(lambda self: [v.aval for v in self.outvars])
  effects = frozenset()

  def replace(self, **kw):
    d = dict(constvars=self.constvars, invars=self.invars, outvars=self.outvars,
             eqns=self.eqns, debug_info=self.debug_info)
    kw.pop("effects", None)
    d.update(kw)
    return Jaxpr(**d)

  def __str__(self):
    return pp_jaxpr_text(self)

  __repr__ = __str__

  def pretty_print(self, **_):
    return pp_jaxpr_text(self)


class ClosedJaxpr:
  """A jaxpr with its constants: what ``make_jaxpr`` returns."""
  __slots__ = ("jaxpr", "consts", "__weakref__")  # (weak: the compiled call cache's key)

  def __init__(self, jaxpr: Jaxpr, consts: Sequence):
    self.jaxpr = jaxpr
    self.consts = list(consts)

  in_avals = property(lambda self: self.jaxpr.in_avals)
  out_avals = property(lambda self: self.jaxpr.out_avals)
  eqns = property(lambda self: self.jaxpr.eqns)
  effects = frozenset()

  def replace(self, *, jaxpr=None, consts=None):
    return ClosedJaxpr(self.jaxpr if jaxpr is None else jaxpr,
                       self.consts if consts is None else consts)
  literals = property(lambda self: self.consts)

  def __str__(self):
    return pp_jaxpr_text(self.jaxpr)

  __repr__ = __str__

  def pretty_print(self, **_):
    return pp_jaxpr_text(self.jaxpr)

  def __call__(self, *args):
    return eval_jaxpr(self.jaxpr, self.consts, *args)


# Called (when set) at the start of each ``eval_jaxpr``: jit's tiered execution stops an
# eager run there (in loop bodies too) once the compiled program is ready.
eval_check = None


def eval_jaxpr(jaxpr: Jaxpr, consts: Sequence, *args) -> list:
  """Evaluates a jaxpr by binding each primitive under the current trace."""
  if eval_check is not None:
    eval_check()
  env: dict[Var, Any] = {}
  if len(args) != len(jaxpr.invars):
    raise TypeError(f"eval_jaxpr: expected {len(jaxpr.invars)} args, got {len(args)}")
  types, to_array = (_array_type, Tracer), _to_array
  as_array = lambda x: x if isinstance(x, types) else to_array(x)
  env.update(zip(jaxpr.constvars, map(as_array, consts)))
  env.update(zip(jaxpr.invars, map(as_array, args)))

  def read(v):
    return v.val if type(v) is Literal else env[v]

  for eqn in jaxpr.eqns:
    outs = eqn.primitive.bind(*map(read, eqn.invars), **eqn.params)
    if not eqn.primitive.multiple_results:
      outs = (outs,)
    for v, o in zip(eqn.outvars, outs):
      if type(v) is not DropVar:
        env[v] = o
  return [read(v) for v in jaxpr.outvars]


def jaxpr_as_fun(closed: ClosedJaxpr, *args) -> list:
  return eval_jaxpr(closed.jaxpr, closed.consts, *args)


def jaxprs_in_params(params):
  """The jaxprs among ``params``' values (or in tuples of them), unclosed."""
  for val in params.values():
    for v in (val if isinstance(val, tuple) else (val,)):
      if isinstance(v, Jaxpr):
        yield v
      elif isinstance(v, ClosedJaxpr):
        yield v.jaxpr


def subjaxprs(jaxpr: Jaxpr):
  """The jaxprs in the params of ``jaxpr``'s equations (not recursively)."""
  for eqn in jaxpr.eqns:
    yield from jaxprs_in_params(eqn.params)


def new_jaxpr_eqn(invars, outvars, primitive, params, effects=frozenset(),
                  source_info=None, ctx=None) -> JaxprEqn:
  """A jaxpr equation (``effects`` and ``ctx`` are JAX's; pyjax keeps neither)."""
  del effects, ctx
  return JaxprEqn(invars, outvars, primitive, params, source_info)


def gensym(suffix: str = ""):
  """A function making fresh Vars of an aval."""
  del suffix
  return Var


# ---------------------------------------------------------------- printing
# As JAX's printer: a pretty-printer document per jaxpr (so lines wrap where JAX's do),
# variables named a, b, ..., z, ba, ... in order of first printing, results that nothing
# reads printed ``_``, and a sub-jaxpr used twice (or of more than 10 equations) printed
# once before the jaxpr as ``let name = { ... } in``.


def _encode(i: int) -> str:
  s = ""
  while True:
    s = chr(ord("a") + i % 26) + s
    i //= 26
    if i == 0:
      return s


class JaxprPpContext:
  """Names of the variables printed so far (shared by all jaxprs of one text)."""

  def __init__(self, var_names: dict | None = None):
    self.var_names: dict = dict(var_names or {})
    self.shared_jaxprs: dict = {}  # Jaxpr -> its name
    self.shared_jaxpr_names: set = set()
    self._counter = itertools.count()

  def name(self, v) -> str:
    n = self.var_names.get(v)
    if n is None:
      while True:
        n = _encode(next(self._counter))
        if n not in self.shared_jaxpr_names:
          break
      self.var_names[v] = n
    return n

  def suggest_same_var_names(self, for_vars, like_vars):
    """``for_vars`` (a sub-jaxpr's binders) take the names of ``like_vars``."""
    if len(for_vars) != len(like_vars):
      return
    used = set()
    for f, l in zip(for_vars, like_vars):
      if (isinstance(l, Var) and l not in used and isinstance(f, Var)
          and f not in self.var_names):
        used.add(l)
        self.var_names[f] = var_str(l, self)


def var_str(v, context: JaxprPpContext, print_dtype: bool = True) -> str:
  if type(v) is Literal:
    s = _literal_str(v.val, v.aval)
    return f"{s}:{v.aval.str_short()}" if print_dtype else s
  if type(v) is DropVar:
    return "_"
  return context.name(v)


def pp_vars(vs, context: JaxprPpContext, *, separator: str = "",
            print_shapes: bool = False) -> pp.Doc:
  if print_shapes:
    docs = [pp.text(f"{var_str(v, context)}:{v.aval.str_short()}") for v in vs]
  else:
    docs = [pp.text(var_str(v, context)) for v in vs]
  return pp.nest(2, pp.group(pp.join(pp.text(separator) + pp.group(pp.brk()), docs)))


_ADDRESS = re.compile(r" at 0x([0-9a-fA-F]+)")


def _param_str(v) -> str:
  if isinstance(v, np.dtype):
    return v.name
  if isinstance(v, type) and issubclass(v, np.generic):
    return np.dtype(v).name
  if isinstance(v, frozenset):
    return f"frozenset({{{', '.join(repr(e) for e in sorted(v))}}})"
  if isinstance(v, types.FunctionType):
    return f"<function {v.__qualname__} at 0xXXXXXXXXXXXX>"
  return _ADDRESS.sub(lambda m: " at 0x" + "X" * len(m.group(1)), str(v))


def pp_kv_pair(k: str, v, context: JaxprPpContext) -> pp.Doc:
  if type(v) is tuple and v and all(isinstance(j, (Jaxpr, ClosedJaxpr)) for j in v):
    pv = pp_jaxprs(v, context)
  elif isinstance(v, Jaxpr):
    pv = pp_jaxpr(v, context)
  elif isinstance(v, ClosedJaxpr):
    pv = pp_jaxpr(v.jaxpr, context)
  else:
    pv = pp.text(_param_str(v))
  return pp.text(f"{k}=") + pv


def pp_kv_pairs(kv_pairs, context: JaxprPpContext) -> pp.Doc:
  if not kv_pairs:
    return pp.nil()
  return pp.group(pp.concat([
      pp.nest(2, pp.concat([
          pp.text("["), pp.brk(""),
          pp.join(pp.brk(), [pp_kv_pair(k, v, context) for k, v in kv_pairs])])),
      pp.brk(""), pp.text("]")]))


def pp_eqn(eqn: JaxprEqn, context: JaxprPpContext) -> pp.Doc:
  """One equation: ``outs = prim[params] ins`` (the primitive's ``pp_params`` picks
  and orders the params; ``pp_seed_names`` names a sub-jaxpr's binders first)."""
  prim = eqn.primitive
  lhs = pp_vars(eqn.outvars, context, print_shapes=True)
  seed = prim.pp_seed_names
  if seed is not None:
    seed(eqn, context)
  params = eqn.params if prim.pp_params is None else prim.pp_params(eqn.params)
  keys = params if prim.pp_keep_order else sorted(params)
  rhs = [pp.text(prim.name), pp_kv_pairs([(k, params[k]) for k in keys], context),
         pp.text(" ") + pp_vars(eqn.invars, context)]
  if eqn.outvars:
    return pp.concat([lhs, pp.text(" = "), *rhs])
  return pp.concat(rhs)


def pp_eqns(eqns, context: JaxprPpContext) -> pp.Doc:
  return pp.join(pp.brk("; "), [pp_eqn(e, context) for e in eqns])


def _pp_skeleton(jaxpr: Jaxpr, context: JaxprPpContext) -> pp.Doc:
  constvars = pp_vars(jaxpr.constvars, context, print_shapes=True)
  invars = pp_vars(jaxpr.invars, context, print_shapes=True)
  eqns = pp_eqns(jaxpr.eqns, context)
  outvars = pp.concat([pp.text("("), pp_vars(jaxpr.outvars, context, separator=","),
                       pp.text(")" if len(jaxpr.outvars) != 1 else ",)")])
  return pp.group(pp.nest(2, pp.concat([
      pp.text("{ "), pp.text("lambda "), constvars, pp.text("; "), invars,
      pp.text(". "), pp.text("let"), pp.nest(2, pp.brk() + eqns), pp.brk(),
      pp.text("in "), outvars])) + pp.text(" }"))


def pp_jaxpr(jaxpr: Jaxpr, context: JaxprPpContext) -> pp.Doc:
  name = context.shared_jaxprs.get(jaxpr)
  if name is not None:
    return pp.text(name)
  return _pp_skeleton(jaxpr, context)


def pp_jaxprs(jaxprs, context: JaxprPpContext) -> pp.Doc:
  jaxprs = [j.jaxpr if isinstance(j, ClosedJaxpr) else j for j in jaxprs]
  return pp.group(pp.concat([
      pp.nest(2, pp.concat([
          pp.text("("), pp.brk(""),
          pp.join(pp.brk(), [pp_jaxpr(j, context) for j in jaxprs])])),
      pp.brk(""), pp.text(")")]))


def _dropvars(jaxpr: Jaxpr) -> dict:
  """The top-level results that nothing reads: printed ``_``."""
  names = {}
  used = {v for v in jaxpr.outvars if isinstance(v, Var)}
  for eqn in reversed(jaxpr.eqns):
    for v in eqn.outvars:
      if v not in used:
        names[v] = "_"
    used.update(v for v in eqn.invars if isinstance(v, Var))
  return names


def pp_toplevel_jaxpr(top: Jaxpr) -> pp.Doc:
  context = JaxprPpContext(_dropvars(top))
  names: dict = {}
  counts: dict = {}
  queue = collections.deque([top])
  while queue:
    jaxpr = queue.popleft()
    counts[jaxpr] = counts.get(jaxpr, 0) + (2 if jaxpr is not top and len(jaxpr.eqns) > 10
                                            else 1)
    for eqn in jaxpr.eqns:
      name = eqn.params.get("name")
      subs = list(jaxprs_in_params(eqn.params))
      queue.extend(subs)
      if name is not None:
        name = str(name).strip("<>")
        for sub in subs:
          names.setdefault(sub, name)
  name_counts: dict = {}
  docs = []
  for jaxpr, c in counts.items():
    if c == 1:
      continue
    name = names.get(jaxpr, "jaxpr")
    count = name_counts.get(name, 0)
    if count > 0:
      name_counts[name] = count + 1
      name += str(count)
    name_counts[name] = name_counts.get(name, 0) + 1
    context.shared_jaxpr_names.add(name)
    context.shared_jaxprs[jaxpr] = name
    docs.append((name, jaxpr))
  out = [pp.concat([pp.text(f"let {name} = "), _pp_skeleton(jaxpr, context),
                    pp.text(" in"), pp.brk()]) for name, jaxpr in docs]
  out.append(pp_jaxpr(top, context))
  return pp.concat(out)


def pp_jaxpr_text(jaxpr: Jaxpr) -> str:
  """``jaxpr``'s text, as JAX prints it (``str(make_jaxpr(f)(x))``)."""
  return pp_toplevel_jaxpr(jaxpr).format()


def jaxpr_has_effects(jaxpr) -> bool:
  """Whether ``jaxpr`` (a Jaxpr or ClosedJaxpr) or a jaxpr in its equations' params
  applies an effectful primitive (one that must run though its results are unused)."""
  j = getattr(jaxpr, "jaxpr", jaxpr)
  for eqn in j.eqns:
    if eqn.primitive.effectful:
      return True
    for v in eqn.params.values():
      subs = v if isinstance(v, tuple) else (v,)
      for sub in subs:
        if isinstance(sub, (Jaxpr, ClosedJaxpr)) and jaxpr_has_effects(sub):
          return True
  return False

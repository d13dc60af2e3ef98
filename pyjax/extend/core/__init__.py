"""``jax.extend.core``: primitives, jaxprs and traces for libraries that extend JAX.

These are pyjax's own core objects (``pyjax._src.core``), not copies: a Primitive made
here binds like lax's, and its rules are installed through ``pyjax.interpreters``'
registries (or set as attributes). What pyjax cannot do: effects are a flag
(``Primitive.effectful``), not typed sets; a ``CallPrimitive`` call runs its function
inline in the current trace (no call equation is staged); there are no symbolic
dimensions.
"""
from __future__ import annotations

from collections.abc import Set as _Set

import numpy as _np

from pyjax._src import core as _core
from pyjax._src import dtypes as _dtypes
from pyjax._src.errors import InconclusiveDimensionOperation, JaxprTypeError
from pyjax.extend.core import primitives

__all__ = [
    "AbstractToken", "CallPrimitive", "ClosedJaxpr", "DebugInfo", "DropVar", "Effect",
    "Effects", "InconclusiveDimensionOperation", "Jaxpr", "JaxprEqn", "JaxprTypeError",
    "Literal", "Primitive", "Token", "TraceTag", "Var", "array_types", "call_impl",
    "check_jaxpr", "concrete_or_error", "find_top_trace", "gensym",
    "get_opaque_trace_state", "jaxpr_as_fun", "jaxprs_in_params", "mapped_aval",
    "new_jaxpr_eqn", "no_effects", "nonempty_axis_env_DO_NOT_USE",
    "primal_dtype_to_tangent_dtype", "primitives", "set_current_trace", "subjaxprs",
    "take_current_trace", "unmapped_aval", "unsafe_am_i_under_a_jit_DO_NOT_USE",
    "unsafe_am_i_under_a_vmap_DO_NOT_USE", "unsafe_get_axis_names_DO_NOT_USE",
    "valid_jaxtype",
]

Primitive = _core.Primitive
Jaxpr = _core.Jaxpr
ClosedJaxpr = _core.ClosedJaxpr
JaxprEqn = _core.JaxprEqn
Var = _core.Var
DropVar = _core.DropVar
Literal = _core.Literal
DebugInfo = _core.DebugInfo
concrete_or_error = _core.concrete_or_error
find_top_trace = _core.find_top_trace
get_opaque_trace_state = _core.get_opaque_trace_state
gensym = _core.gensym
jaxpr_as_fun = _core.jaxpr_as_fun
jaxprs_in_params = _core.jaxprs_in_params
subjaxprs = _core.subjaxprs
mapped_aval = _core.mapped_aval
unmapped_aval = _core.unmapped_aval
new_jaxpr_eqn = _core.new_jaxpr_eqn
primal_dtype_to_tangent_dtype = _core.primal_dtype_to_tangent_dtype
set_current_trace = _core.set_current_trace
take_current_trace = _core.take_current_trace
valid_jaxtype = _core.is_valid_jaxtype
unsafe_am_i_under_a_jit_DO_NOT_USE = _core.unsafe_am_i_under_a_jit
unsafe_am_i_under_a_vmap_DO_NOT_USE = _core.unsafe_am_i_under_a_vmap
unsafe_get_axis_names_DO_NOT_USE = _core.unsafe_get_axis_names


def nonempty_axis_env_DO_NOT_USE() -> bool:
  """Whether a named axis (an enclosing vmap's ``axis_name``) is bound."""
  return bool(_core.unsafe_get_axis_names())


class Effect:
  """Base class of side effects (JAX's; pyjax marks effectful primitives with a flag)."""


Effects = _Set[Effect]
no_effects: Effects = frozenset()


class TraceTag:
  """An identity token for a trace (compared by ``is``)."""
  __slots__ = ()


class AbstractToken(_core.AbstractValue):
  """The abstract value of a token (pyjax's tokens are empty bool arrays)."""
  __slots__ = ()

  def str_short(self, short_dtypes=False):
    return "Tok"

  def to_tangent_aval(self):
    return self

  def __repr__(self):
    return "AbstractToken()"


abstract_token = AbstractToken()


class Token:
  """A token value wrapping its buffer."""
  __slots__ = ("_buf",)

  def __init__(self, buf):
    self._buf = buf

  def block_until_ready(self):
    return self


array_types: set = {_np.ndarray, _np.bool_, _np.int8, _np.int16, _np.int32, _np.int64,
                    _np.uint8, _np.uint16, _np.uint32, _np.uint64, _np.float16,
                    _np.float32, _np.float64, _np.complex64, _np.complex128,
                    _dtypes.bfloat16.type}


class CallPrimitive(Primitive):
  """A primitive whose first operand is a ``linear_util.WrappedFun``. pyjax runs the
  function inline on the current trace (JAX stages a call equation under jit)."""
  multiple_results = True
  call_primitive = True

  def __init__(self, name):
    super().__init__(name)
    self.multiple_results = True

  def bind(self, fun, *args, **params):
    return fun.call_wrapped(*args)

  def get_bind_params(self, params):
    return dict(params)


def call_impl(f, *args, **params):
  """Runs the WrappedFun ``f`` on ``args`` (``params`` belong to the call primitive)."""
  del params
  return f.call_wrapped(*args)


call_p = CallPrimitive("call")
call_p.def_impl(call_impl)


def check_jaxpr(jaxpr: Jaxpr) -> None:
  """Raises JaxprTypeError unless every variable is bound once before it is read and
  each equation's output types are what its primitive's abstract evaluation gives."""
  bound = set()

  def bind(v, where):
    if type(v) is DropVar:
      return
    if v in bound:
      raise JaxprTypeError(f"Variable '{v}' already bound ({where})")
    bound.add(v)

  def read(v, where):
    if type(v) is Literal:
      return v.aval
    if v not in bound:
      raise JaxprTypeError(f"Variable '{v}' not defined ({where})")
    return v.aval

  for v in jaxpr.constvars:
    bind(v, "constvar")
  for v in jaxpr.invars:
    bind(v, "invar")
  for i, eqn in enumerate(jaxpr.eqns):
    where = f"equation {i}: {eqn.primitive}"
    avals = [read(v, where) for v in eqn.invars]
    rule = eqn.primitive.abstract_eval
    if rule is not None:
      out = rule(*avals, **eqn.params)
      out = list(out) if eqn.primitive.multiple_results else [out]
      if len(out) != len(eqn.outvars):
        raise JaxprTypeError(f"{where} has {len(eqn.outvars)} outputs, its abstract "
                             f"evaluation gives {len(out)}")
      for v, a in zip(eqn.outvars, out):
        if (v.aval.shape, v.aval.dtype) != (a.shape, a.dtype):
          raise JaxprTypeError(f"{where}: output type {v.aval.str_short()} is not "
                               f"{a.str_short()}, what the primitive produces")
    for v in eqn.outvars:
      bind(v, where)
    for sub in jaxprs_in_params(eqn.params):
      check_jaxpr(sub)
  for v in jaxpr.outvars:
    read(v, "outvars")

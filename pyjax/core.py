"""``jax.core``: the few names JAX 0.10.2 still exports here, and its deprecation
messages for the rest (the deprecated ones that pyjax has warn and work; removed ones
raise AttributeError with JAX's message). The extension API proper is
``pyjax.extend.core``."""
from __future__ import annotations

from contextlib import contextmanager as _contextmanager
from typing import Any as _Any, Union as _Union

from pyjax._src import core as _core
from pyjax._src import errors as _errors
from pyjax._src.deprecations import deprecation_getattr as _deprecation_getattr
from pyjax.extend import core as _ext

__all__ = ["AbstractValue", "Atom", "ParamDict", "ShapedArray", "Trace", "Tracer",
           "Value", "ensure_compile_time_eval", "eval_context", "eval_jaxpr",
           "max_dim", "min_dim"]

AbstractValue = _core.AbstractValue
ShapedArray = _core.ShapedArray
Trace = _core.Trace
Tracer = _core.Tracer
Atom = _Union[_core.Var, _core.Literal]
ParamDict = dict[str, _Any]
Value = _Any
ensure_compile_time_eval = _core.ensure_compile_time_eval


@_contextmanager
def eval_context():
  """Operations inside run eagerly on concrete values (as ensure_compile_time_eval)."""
  with _core.set_current_trace(_core.eval_trace):
    yield


def eval_jaxpr(jaxpr, consts, *args, propagate_source_info=True) -> list:
  """Evaluates ``jaxpr`` on ``args`` under the current trace (a list of outputs)."""
  del propagate_source_info
  return _core.eval_jaxpr(jaxpr, consts, *args)


def max_dim(d1, d2):
  """``max(d1, d2)`` of two dimension sizes (pyjax has no symbolic dimensions)."""
  return max(_core.concrete_dim(d1), _core.concrete_dim(d2))


def min_dim(d1, d2):
  """``min(d1, d2)`` of two dimension sizes (pyjax has no symbolic dimensions)."""
  return min(_core.concrete_dim(d1), _core.concrete_dim(d2))


def _removed(name, hint=""):
  return (f"jax.core.{name} was deprecated in JAX v0.8.2 and removed in JAX v0.10.0"
          f"{hint}", None)


def _moved(name, where="jax.extend.core"):
  return f"jax.core.{name} is deprecated. Use {where}.{name}."


def _is_constant_dim(d) -> bool:
  try:
    _core.concrete_dim(d)
    return True
  except Exception:
    return False


def _pyjax_gap(name):
  return (f"jax.core.{name} is deprecated in JAX, and pyjax does not implement it.",
          None)


_deprecations = {
    "get_aval": _removed("get_aval", "; use jax.typeof instead."),
    "mapped_aval": _removed("mapped_aval", ". Use jax.extend.core.mapped_aval."),
    "unmapped_aval": _removed("unmapped_aval", ". Use jax.extend.core.unmapped_aval."),
    "set_current_trace": _removed("set_current_trace",
                                  ". Use jax.extend.core.set_current_trace."),
    "take_current_trace": _removed("take_current_trace",
                                   ". Use jax.extend.core.take_current_trace."),
    "traverse_jaxpr_params": _removed("traverse_jaxpr_params", "."),
    "TraceTag": _removed("TraceTag", ". Use jax.extend.core.TraceTag."),
    "call_impl": _removed("call_impl", ". Use jax.extend.core.call_impl."),
    "subjaxprs": _removed("subjaxprs", ". Use jax.extend.core.subjaxprs."),
    "AbstractToken": _removed("AbstractToken", ". Use jax.extend.core.AbstractToken."),
    "CallPrimitive": (_moved("CallPrimitive"), _ext.CallPrimitive),
    "DebugInfo": (_moved("DebugInfo"), _ext.DebugInfo),
    "DropVar": (_moved("DropVar"), _ext.DropVar),
    "Effect": (_moved("Effect"), _ext.Effect),
    "Effects": (_moved("Effects"), _ext.Effects),
    "InconclusiveDimensionOperation": (
        _moved("InconclusiveDimensionOperation", "jax.errors"),
        _errors.InconclusiveDimensionOperation),
    "JaxprTypeError": (_moved("JaxprTypeError", "jax.errors"), _ext.JaxprTypeError),
    "check_jaxpr": (_moved("check_jaxpr"), _ext.check_jaxpr),
    "concrete_or_error": (_moved("concrete_or_error"), _ext.concrete_or_error),
    "find_top_trace": (_moved("find_top_trace"), _ext.find_top_trace),
    "gensym": (_moved("gensym"), _ext.gensym),
    "get_opaque_trace_state": (_moved("get_opaque_trace_state"),
                               _ext.get_opaque_trace_state),
    "jaxprs_in_params": (_moved("jaxprs_in_params"), _ext.jaxprs_in_params),
    "new_jaxpr_eqn": (_moved("new_jaxpr_eqn"), _ext.new_jaxpr_eqn),
    "no_effects": (_moved("no_effects"), _ext.no_effects),
    "nonempty_axis_env_DO_NOT_USE": (
        "jax.core.nonempty_axis_env_DO_NOT_USE is deprecated.",
        _ext.nonempty_axis_env_DO_NOT_USE),
    "primal_dtype_to_tangent_dtype": (_moved("primal_dtype_to_tangent_dtype"),
                                      _ext.primal_dtype_to_tangent_dtype),
    "unsafe_am_i_under_a_jit_DO_NOT_USE": (
        "jax.core.unsafe_am_i_under_a_jit_DO_NOT_USE is deprecated.",
        _ext.unsafe_am_i_under_a_jit_DO_NOT_USE),
    "unsafe_am_i_under_a_vmap_DO_NOT_USE": (
        "jax.core.unsafe_am_i_under_a_vmap_DO_NOT_USE is deprecated.",
        _ext.unsafe_am_i_under_a_vmap_DO_NOT_USE),
    "unsafe_get_axis_names_DO_NOT_USE": (
        "jax.core.unsafe_get_axis_names_DO_NOT_USE is deprecated.",
        _ext.unsafe_get_axis_names_DO_NOT_USE),
    "valid_jaxtype": (_moved("valid_jaxtype"), _ext.valid_jaxtype),
    "abstract_token": ("jax.core.abstract_token is deprecated.", _ext.abstract_token),
    "call": ("jax.core.call is deprecated.", _ext.call_p.bind),
    "is_concrete": ("jax.core.is_concrete is deprecated.",
                    lambda x: not isinstance(x, _core.Tracer)
                    or x.to_concrete_value() is not None),
    "is_constant_dim": ("jax.core.is_constant_dim is deprecated.", _is_constant_dim),
    "is_constant_shape": ("jax.core.is_constant_shape is deprecated.",
                          lambda s: all(map(_is_constant_dim, s))),
    "literalable_types": ("jax.core.literalable_types is deprecated.",
                          _ext.array_types),
    "trace_ctx": ("jax.core.trace_ctx is deprecated.", _core.trace_ctx),
    # JAX's printing settings, output types and per-type tables: pyjax has none.
    "JaxprPpContext": _pyjax_gap("JaxprPpContext"),
    "JaxprPpSettings": _pyjax_gap("JaxprPpSettings"),
    "OutputType": _pyjax_gap("OutputType"),
    "aval_mapping_handlers": _pyjax_gap("aval_mapping_handlers"),
    "concretization_function_error": _pyjax_gap("concretization_function_error"),
    "custom_typechecks": _pyjax_gap("custom_typechecks"),
    "no_axis_name": _pyjax_gap("no_axis_name"),
    "pytype_aval_mappings": _pyjax_gap("pytype_aval_mappings"),
}

__getattr__ = _deprecation_getattr(__name__, _deprecations)

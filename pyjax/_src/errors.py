"""JAX's error classes, with messages that say which value and how to fix it."""
from __future__ import annotations

import traceback

_URL = "https://docs.jax.dev/en/latest/errors.html#jax.errors."


class _JAXErrorMixin:
  """JAX's errors end their message with a link to the class's documentation."""

  def __init__(self, message: str):
    super().__init__(f"{message}\nSee {_URL}{type(self).__name__}")


class JAXTypeError(_JAXErrorMixin, TypeError):
  pass


class JAXIndexError(_JAXErrorMixin, IndexError):
  pass


def _origin(tracer) -> str:
  fn = getattr(tracer, "_origin_msg", None)
  msg = fn() if fn is not None else ""
  return f"\n{msg}" if msg else ""


def error_repr(tracer) -> str:
  """How JAX's errors name a tracer: ``traced array with shape float32[3]``."""
  aval = getattr(tracer, "aval", None)
  if aval is None or not hasattr(aval, "str_short"):
    return f"traced array with aval {aval}"
  return f"traced array with shape {aval.str_short(short_dtypes=False)}"


class ConcretizationTypeError(JAXTypeError):
  def __init__(self, tracer, context: str = ""):
    super().__init__(
        f"Abstract tracer value encountered where concrete value is expected: "
        f"{error_repr(tracer)}\n{context}{_origin(tracer)}\n")


class TracerBoolConversionError(ConcretizationTypeError):
  def __init__(self, tracer):
    JAXTypeError.__init__(
        self, f"Attempted boolean conversion of {error_repr(tracer)}.{_origin(tracer)}")


class TracerIntegerConversionError(JAXTypeError):
  def __init__(self, tracer):
    super().__init__(
        f"The __index__() method was called on {error_repr(tracer)}{_origin(tracer)}")


class TracerArrayConversionError(JAXTypeError):
  def __init__(self, tracer):
    super().__init__(
        f"The numpy.ndarray conversion method __array__() was called on "
        f"{error_repr(tracer)}{_origin(tracer)}")


class NonConcreteBooleanIndexError(JAXIndexError):
  def __init__(self, tracer):
    super().__init__(
        f"Array boolean indices must be concrete; got {tracer.aval.str_short()}\n")


class UnexpectedTracerError(JAXTypeError):
  pass


class KeyReuseError(JAXTypeError):
  pass


class JaxprTypeError(TypeError):
  """A jaxpr that does not type-check."""


class InconclusiveDimensionOperation(Exception):
  """A comparison of symbolic dimensions whose answer is unknown."""


class JaxRuntimeError(RuntimeError):
  """A failure in the runtime (compiling or running a program, allocating memory)."""


# Named as JAX names them (tracebacks read ``pyjax.errors.UnexpectedTracerError``).
for _cls in (JAXTypeError, JAXIndexError, ConcretizationTypeError, TracerBoolConversionError,
             TracerIntegerConversionError, TracerArrayConversionError,
             NonConcreteBooleanIndexError, UnexpectedTracerError, KeyReuseError,
             JaxprTypeError, InconclusiveDimensionOperation, JaxRuntimeError):
  _cls.__module__ = "pyjax.errors"
del _cls


def out_of_memory(nbytes: int) -> JaxRuntimeError:
  return JaxRuntimeError(f"RESOURCE_EXHAUSTED: Out of memory allocating {nbytes} bytes.")


def callback_error(e: BaseException) -> "JaxRuntimeError":
  """JAX's error for a host callback (pure_callback, io_callback, debug callbacks) that
  raised ``e``: its traceback follows JAX's words."""
  tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
  return JaxRuntimeError(f"INTERNAL: CpuCallback error calling callback: {tb}")

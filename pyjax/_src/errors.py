"""JAX's error classes, with messages that say which value and how to fix it."""
from __future__ import annotations

_URL = "https://docs.jax.dev/en/latest/errors.html#jax.errors."


class JAXTypeError(TypeError):
  pass


class JAXIndexError(IndexError):
  pass


def _origin(tracer) -> str:
  fn = getattr(tracer, "_origin_msg", None)
  msg = fn() if fn is not None else ""
  return f"\n{msg}" if msg else ""


class ConcretizationTypeError(JAXTypeError):
  def __init__(self, tracer, context: str = ""):
    super().__init__(
        f"Abstract tracer value encountered where concrete value is expected: "
        f"{tracer}\n{context}{_origin(tracer)}\n"
        f"See {_URL}ConcretizationTypeError")


class TracerBoolConversionError(ConcretizationTypeError):
  def __init__(self, tracer):
    TypeError.__init__(
        self,
        f"Attempted boolean conversion of traced array with shape "
        f"{tracer.aval.str_short()}.{_origin(tracer)}\n"
        f"To branch on a traced value use jax.lax.cond (or jnp.where); to loop while a "
        f"traced condition holds use jax.lax.while_loop.\n"
        f"See {_URL}TracerBoolConversionError")


class TracerIntegerConversionError(JAXTypeError):
  def __init__(self, tracer):
    super().__init__(
        f"The __index__() method was called on traced array with shape "
        f"{tracer.aval.str_short()}.{_origin(tracer)}\n"
        f"See {_URL}TracerIntegerConversionError")


class TracerArrayConversionError(JAXTypeError):
  def __init__(self, tracer):
    super().__init__(
        f"The numpy.ndarray conversion method __array__() was called on traced "
        f"array with shape {tracer.aval.str_short()}.{_origin(tracer)}\n"
        f"See {_URL}TracerArrayConversionError")


class NonConcreteBooleanIndexError(JAXIndexError):
  def __init__(self, tracer):
    super().__init__(
        f"Array boolean indices must be concrete; got {tracer.aval.str_short()}\n\n"
        f"See {_URL}NonConcreteBooleanIndexError")


class UnexpectedTracerError(Exception):
  def __init__(self, msg: str):
    super().__init__(msg + f"\nSee {_URL}UnexpectedTracerError")


class KeyReuseError(JAXTypeError):
  pass


class JaxRuntimeError(RuntimeError):
  """A failure while running a computation (JAX's name for XLA's runtime errors); the
  message starts with the status, e.g. ``RESOURCE_EXHAUSTED: Out of memory ...``."""


def out_of_memory(nbytes: int) -> JaxRuntimeError:
  return JaxRuntimeError(f"RESOURCE_EXHAUSTED: Out of memory allocating {nbytes} bytes.")

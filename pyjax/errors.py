"""JAX's error classes (``jax.errors``)."""
from pyjax._src.errors import (ConcretizationTypeError, InconclusiveDimensionOperation,
                               JAXIndexError, JaxprTypeError, JaxRuntimeError, JAXTypeError,
                               KeyReuseError, NonConcreteBooleanIndexError,
                               TracerArrayConversionError, TracerBoolConversionError,
                               TracerIntegerConversionError, UnexpectedTracerError)

__all__ = [
    "ConcretizationTypeError", "InconclusiveDimensionOperation", "JAXIndexError",
    "JaxprTypeError", "JaxRuntimeError", "JAXTypeError", "KeyReuseError",
    "NonConcreteBooleanIndexError", "TracerArrayConversionError",
    "TracerBoolConversionError", "TracerIntegerConversionError", "UnexpectedTracerError",
]

"""``jax.export``: serialize a jitted function and call it later (see
``pyjax/_src/export/_export.py`` for what pyjax's Exported can and cannot do)."""
from pyjax._src.export._export import (
    DisabledSafetyCheck as DisabledSafetyCheck,
    Exported as Exported,
    export as export,
    deserialize as deserialize,
    register_pytree_node_serialization as register_pytree_node_serialization,
    register_namedtuple_serialization as register_namedtuple_serialization,
    maximum_supported_calling_convention_version as
    maximum_supported_calling_convention_version,
    minimum_supported_calling_convention_version as
    minimum_supported_calling_convention_version,
    default_export_platform as default_export_platform,
)
from pyjax._src.export.shape_poly import (
    SymbolicScope as SymbolicScope,
    is_symbolic_dim as is_symbolic_dim,
    symbolic_shape as symbolic_shape,
    symbolic_args_specs as symbolic_args_specs,
)

__all__ = ["DisabledSafetyCheck", "Exported", "export", "deserialize",
           "register_pytree_node_serialization", "register_namedtuple_serialization",
           "maximum_supported_calling_convention_version",
           "minimum_supported_calling_convention_version", "default_export_platform",
           "SymbolicScope", "is_symbolic_dim", "symbolic_shape", "symbolic_args_specs"]

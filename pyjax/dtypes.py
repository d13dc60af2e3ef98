"""Public dtype utilities, mirroring ``jax.dtypes``."""
from pyjax._src.dtypes import (
    TypePromotionError as TypePromotionError,
    bfloat16 as bfloat16,
    canonicalize_dtype as canonicalize_dtype,
    extended as extended,
    finfo as finfo,
    float0 as float0,
    iinfo as iinfo,
    is_weakly_typed as is_weakly_typed,
    issubdtype as issubdtype,
    itemsize_bits as itemsize_bits,
    prng_key as prng_key,
    promote_types as promote_types,
    result_type as result_type,
    scalar_type_of as scalar_type_of,
)

__all__ = [
    "TypePromotionError", "bfloat16", "canonicalize_dtype", "extended", "finfo", "float0",
    "iinfo", "is_weakly_typed", "issubdtype", "itemsize_bits", "prng_key", "promote_types",
    "result_type", "scalar_type_of",
]

"""``jax.extend.linear_util``: wrapped functions with stacked transformations."""
from pyjax._src.linear_util import (StoreException, WrappedFun, cache, merge_linear_aux,
                                    transformation, transformation2,
                                    transformation_with_aux, transformation_with_aux2,
                                    wrap_init)
from typing import Callable

__all__ = ["Callable", "StoreException", "WrappedFun", "cache", "merge_linear_aux",
           "transformation", "transformation2", "transformation_with_aux",
           "transformation_with_aux2", "wrap_init"]

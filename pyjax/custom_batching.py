"""``jax.custom_batching``: functions with a user-defined vmap rule."""
from pyjax._src.custom_batching import custom_vmap, sequential_vmap

__all__ = ["custom_vmap", "sequential_vmap"]

"""``jax.flatten_util``: ravel a pytree of arrays into one vector and back."""
from pyjax._src.flatten_util import ravel_pytree as ravel_pytree

__all__ = ["ravel_pytree"]

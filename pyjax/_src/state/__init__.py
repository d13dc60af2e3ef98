"""``jax._src.state``: where JAX keeps its mutable-reference types. pyjax's Ref lives in
``_src/ref.py``; this package gives libraries that import these names from JAX's path
(Flax's nnx: ``jax._src.state.types.AbstractRef``) the same classes."""
from pyjax._src.state.types import AbstractRef

__all__ = ["AbstractRef"]

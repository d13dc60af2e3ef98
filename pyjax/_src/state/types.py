"""``jax._src.state.types``: the type of a mutable reference (``AbstractRef``, what
``jax.typeof(ref)`` gives), re-exported from ``_src/ref.py``. JAX's transforms, ref
effects and ``TransformedRef`` are not here: pyjax has no state effects in jaxprs."""
from pyjax._src.ref import AbstractRef

__all__ = ["AbstractRef"]

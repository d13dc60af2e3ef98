"""``jax.ref``: mutable array references (eager cells; see ``pyjax._src.ref``)."""
from pyjax._src.ref import (AbstractRef, Ref, addupdate, empty_ref, free_ref, freeze, get,
                            new_ref, set, swap)

__all__ = ["AbstractRef", "Ref", "addupdate", "empty_ref", "free_ref", "freeze", "get",
           "new_ref", "set", "swap"]

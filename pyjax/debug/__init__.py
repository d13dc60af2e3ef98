"""``jax.debug``: prints, callbacks and breakpoints in staged programs."""
from pyjax._src.debugging import (DebugEffect, OrderedDebugEffect, breakpoint,
                                  debug_callback as callback, debug_log as log,
                                  debug_print as print,
                                  inspect_array_sharding, visualize_array_sharding,
                                  visualize_sharding)

__all__ = ["DebugEffect", "OrderedDebugEffect", "breakpoint", "callback",
           "inspect_array_sharding", "log", "print", "visualize_array_sharding",
           "visualize_sharding"]

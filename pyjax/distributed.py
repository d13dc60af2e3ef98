"""``jax.distributed``: joining the processes of a multi-process run (over MPI)."""
from pyjax._src.distributed import global_state, initialize, is_initialized, shutdown

__all__ = ["global_state", "initialize", "is_initialized", "shutdown"]

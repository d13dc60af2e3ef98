"""``jax.experimental``: the parts pyjax has."""
from pyjax._src.callback import io_callback

__all__ = ["io_callback"]

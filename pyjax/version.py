"""``jax.version``: pyjax's version (``__version__``, ``__version_info__``).

It is pyjax's own number (as ``pyjax.__version__``), not that of the JAX release whose
API it implements (0.10.2)."""
from pyjax._src.version import __version__, __version_info__

__all__ = ["__version__", "__version_info__"]

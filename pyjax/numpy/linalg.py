"""``jax.numpy.linalg``."""
from pyjax._src.numpy.linalg import *  # noqa: F401,F403
from pyjax._src.numpy.linalg import __all__  # noqa: F401

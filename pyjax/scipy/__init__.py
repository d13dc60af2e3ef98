"""``jax.scipy``."""
from pyjax.scipy import linalg  # noqa: F401

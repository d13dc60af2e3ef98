"""``jax.scipy.integrate``."""
from pyjax._src.scipy.integrate import trapezoid

__all__ = ["trapezoid"]

"""``jax.scipy.integrate.trapezoid``: ``jnp.trapezoid`` (JAX jits it; ours runs eagerly,
so its jaxpr has no nested ``jit`` equation)."""
from __future__ import annotations

from pyjax._src.numpy import numerical

__all__ = ["trapezoid"]


def trapezoid(y, x=None, dx=1.0, axis: int = -1):
  """The composite trapezoidal rule along ``axis``, at samples ``x`` or spacing ``dx``."""
  return numerical.trapezoid(y, x, dx, axis)

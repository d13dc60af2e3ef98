"""``jax.scipy.optimize``."""
from pyjax._src.scipy.optimize.minimize import OptimizeResults, minimize

__all__ = ["OptimizeResults", "minimize"]

"""``jax.scipy``."""
from pyjax.scipy import linalg, special, stats

__all__ = ["linalg", "special", "stats"]

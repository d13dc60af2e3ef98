"""``jax.scipy``."""
from pyjax.scipy import linalg, stats

__all__ = ["linalg", "stats"]

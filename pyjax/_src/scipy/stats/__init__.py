"""``jax.scipy.stats``'s implementations: one module per distribution, as JAX's.

The public namespace is ``pyjax.scipy.stats``; this package exports nothing itself.
"""

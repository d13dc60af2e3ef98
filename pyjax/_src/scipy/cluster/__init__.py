"""jax.scipy.cluster's implementations."""

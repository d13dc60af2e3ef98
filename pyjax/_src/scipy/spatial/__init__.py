"""``jax.scipy.spatial``'s implementation."""

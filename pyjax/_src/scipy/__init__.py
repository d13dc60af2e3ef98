"""jax.scipy's implementations (layer 6: built on lax and jax.numpy)."""

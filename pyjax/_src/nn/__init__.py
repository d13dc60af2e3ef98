"""jax.nn's implementation: activations and attention (functions), initializers."""

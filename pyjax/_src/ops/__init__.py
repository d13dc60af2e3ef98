"""Functions shared by jax.nn and jax.scipy (as JAX's ``jax._src.ops``)."""

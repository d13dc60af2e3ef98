"""``jax.scipy`` implementations (layer 6); the public modules live in ``pyjax/scipy``."""

"""``jax.scipy``'s implementations (layer 6); the public modules in ``pyjax/scipy`` re-export."""

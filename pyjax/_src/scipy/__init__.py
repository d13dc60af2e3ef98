"""``jax.scipy``'s implementations (the public modules live in ``pyjax/scipy``)."""

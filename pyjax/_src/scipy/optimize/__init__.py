"""``jax.scipy.optimize``: BFGS and L-BFGS with JAX's strong-Wolfe line search."""

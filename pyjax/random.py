"""pyjax.random: JAX's threefry2x32 random numbers, bit for bit."""
from pyjax._src.random import (
    PRNGKey, ball, bernoulli, beta, binomial, bits, categorical, cauchy, chisquare, choice,
    clone, dirichlet, double_sided_maxwell, exponential, f, fold_in, gamma,
    generalized_normal, geometric, gumbel, key, key_data, key_dtype, key_impl, laplace,
    loggamma, logistic, lognormal, maxwell, multinomial, multivariate_normal, normal,
    orthogonal, pareto, permutation,
    poisson, rademacher, randint, rayleigh, split, t, triangular, truncated_normal, uniform,
    wald, weibull_min, wrap_key_data)

__all__ = [
    "PRNGKey", "ball", "bernoulli", "beta", "binomial", "bits", "categorical", "cauchy",
    "chisquare", "choice", "clone", "dirichlet", "double_sided_maxwell", "exponential", "f",
    "fold_in", "gamma", "generalized_normal", "geometric", "gumbel", "key", "key_data",
    "key_dtype", "key_impl", "laplace", "loggamma", "logistic", "lognormal", "maxwell",
    "multinomial", "multivariate_normal", "normal", "orthogonal", "pareto", "permutation",
    "poisson", "rademacher", "randint", "rayleigh", "split", "t", "triangular",
    "truncated_normal", "uniform", "wald", "weibull_min", "wrap_key_data",
]

"""``jax.scipy.stats``: SciPy's distributions and statistics on lax and jnp."""
from pyjax.scipy.stats import bernoulli as bernoulli
from pyjax.scipy.stats import beta as beta
from pyjax.scipy.stats import betabinom as betabinom
from pyjax.scipy.stats import binom as binom
from pyjax.scipy.stats import cauchy as cauchy
from pyjax.scipy.stats import chi2 as chi2
from pyjax.scipy.stats import dirichlet as dirichlet
from pyjax.scipy.stats import expon as expon
from pyjax.scipy.stats import gamma as gamma
from pyjax.scipy.stats import gennorm as gennorm
from pyjax.scipy.stats import geom as geom
from pyjax.scipy.stats import gumbel_l as gumbel_l
from pyjax.scipy.stats import gumbel_r as gumbel_r
from pyjax.scipy.stats import laplace as laplace
from pyjax.scipy.stats import logistic as logistic
from pyjax.scipy.stats import multinomial as multinomial
from pyjax.scipy.stats import multivariate_normal as multivariate_normal
from pyjax.scipy.stats import nbinom as nbinom
from pyjax.scipy.stats import norm as norm
from pyjax.scipy.stats import pareto as pareto
from pyjax.scipy.stats import poisson as poisson
from pyjax.scipy.stats import t as t
from pyjax.scipy.stats import truncnorm as truncnorm
from pyjax.scipy.stats import uniform as uniform
from pyjax.scipy.stats import vonmises as vonmises
from pyjax.scipy.stats import wrapcauchy as wrapcauchy
from pyjax._src.scipy.stats._core import mode as mode, rankdata as rankdata, sem as sem
from pyjax._src.scipy.stats.kde import gaussian_kde as gaussian_kde

__all__ = [
    "bernoulli", "beta", "betabinom", "binom", "cauchy", "chi2", "dirichlet", "expon",
    "gamma", "gaussian_kde", "gennorm", "geom", "gumbel_l", "gumbel_r", "laplace",
    "logistic", "mode", "multinomial", "multivariate_normal", "nbinom", "norm", "pareto",
    "poisson", "rankdata", "sem", "t", "truncnorm", "uniform", "vonmises", "wrapcauchy",
]

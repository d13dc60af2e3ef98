"""Automatic differentiation variational inference (ADVI) on pyjax.

Fits a diagonal Gaussian to Neal's funnel, an unnormalized density with no closed-form
posterior, by gradient ascent on a Monte Carlo estimate of the evidence lower bound
(ELBO): the reparameterization trick makes the sampled ELBO differentiable in the
variational parameters. Uses ``vmap`` over random keys, ``jit``, ``grad``,
``jax.scipy.stats.norm`` and ``example_libraries.optimizers.adam``; the plots of
JAX's original are replaced by printed numbers.

Run: python examples/advi.py
"""
from functools import partial

import pyjax as jax
import pyjax.numpy as jnp
from pyjax import jit, grad, random, vmap
from pyjax.example_libraries import optimizers
from pyjax.scipy.stats import norm


def diag_gaussian_sample(key, mean, log_std):
  """One sample of a diagonal multivariate Gaussian."""
  return mean + jnp.exp(log_std) * random.normal(key, mean.shape)


def diag_gaussian_logpdf(x, mean, log_std):
  """Log density of a diagonal multivariate Gaussian at one point."""
  return jnp.sum(vmap(norm.logpdf)(x, mean, jnp.exp(log_std)))


def elbo(logprob, key, params):
  """Single-sample Monte Carlo estimate of the variational lower bound."""
  mean, log_std = params
  sample = diag_gaussian_sample(key, mean, log_std)
  return logprob(sample) - diag_gaussian_logpdf(sample, mean, log_std)


def batch_elbo(logprob, key, params, num_samples):
  """The ELBO averaged over ``num_samples`` independent samples."""
  keys = random.split(key, num_samples)
  return jnp.mean(vmap(partial(elbo, logprob), in_axes=(0, None))(keys, params))


def funnel_log_density(params):
  return norm.logpdf(params[0], 0, jnp.exp(params[1])) + norm.logpdf(params[1], 0, 1.35)


def fit(num_steps=100, num_samples=40, step_size=0.1, report_every=10, log=print):
  """Optimizes the variational parameters; returns (mean, log_std) and the objective
  at each reported step."""

  @jit
  def objective(params, t):
    return -batch_elbo(funnel_log_density, random.key(t), params, num_samples)

  opt_init, opt_update, get_params = optimizers.adam(step_size)

  @jit
  def update(i, opt_state):
    return opt_update(i, grad(objective)(get_params(opt_state), i), opt_state)

  opt_state = opt_init((jnp.zeros(2), jnp.zeros(2)))
  history = []
  for t in range(num_steps):
    opt_state = update(t, opt_state)
    if t % report_every == 0 or t == num_steps - 1:
      value = float(objective(get_params(opt_state), t))
      history.append(value)
      log(f"Iteration {t:3d} lower bound {-value:.4f}")
  return get_params(opt_state), history


if __name__ == "__main__":
  print("Optimizing variational parameters...")
  (mean, log_std), _ = fit()
  print(f"mean {mean}  std {jnp.exp(log_std)}")
  print(f"backend: {jax.default_backend()}")

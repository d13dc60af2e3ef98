"""A variational autoencoder (VAE) on binarized 8x8 digits, with stax and optimizers.

JAX's classic ``mnist_vae`` example on scikit-learn's bundled digits (offline): an
encoder to a 10-dimensional diagonal Gaussian, a Bernoulli decoder, the negative ELBO
as the loss, and a whole epoch of momentum steps in one jitted ``lax.fori_loop``
(grad inside the loop body, fresh keys split per step). Prints the test ELBO per epoch.

Run: python examples/mnist_vae.py   (needs pip install -e '.[examples]')
"""
import time

import pyjax as jax
import pyjax.numpy as jnp
from pyjax import jit, grad, lax, random
from pyjax.example_libraries import optimizers, stax
from pyjax.example_libraries.stax import Dense, FanOut, Relu, Softplus

import datasets

LATENT = 10


def gaussian_kl(mu, sigmasq):
  """KL divergence from a diagonal Gaussian to the standard Gaussian."""
  return -0.5 * jnp.sum(1. + jnp.log(sigmasq) - mu**2. - sigmasq)


def gaussian_sample(key, mu, sigmasq):
  return mu + jnp.sqrt(sigmasq) * random.normal(key, mu.shape)


def bernoulli_logpdf(logits, x):
  """Bernoulli log density of binary data x given logits."""
  return -jnp.sum(jnp.logaddexp(0., jnp.where(x, -1., 1.) * logits))


encoder_init, encode = stax.serial(
    Dense(256), Relu, Dense(256), Relu, FanOut(2),
    stax.parallel(Dense(LATENT), stax.serial(Dense(LATENT), Softplus)))
decoder_init, decode = stax.serial(Dense(256), Relu, Dense(256), Relu, Dense(64))


def elbo(key, params, images):
  """Monte Carlo estimate of the evidence lower bound, summed over the batch."""
  enc_params, dec_params = params
  mu_z, sigmasq_z = encode(enc_params, images)
  logits_x = decode(dec_params, gaussian_sample(key, mu_z, sigmasq_z))
  return bernoulli_logpdf(logits_x, images) - gaussian_kl(mu_z, sigmasq_z)


def train(num_epochs=10, batch_size=32, step_size=1e-3, seed=0, log=print):
  """Trains the VAE; returns the test ELBO per image after each epoch."""
  train_images, _, test_images, _ = datasets.digits()
  num_batches = train_images.shape[0] // batch_size
  train_images = jnp.asarray(train_images[:num_batches * batch_size])
  test_images = jnp.asarray(test_images)
  key = random.PRNGKey(seed)
  enc_key, dec_key, key = random.split(key, 3)
  _, enc_params = encoder_init(enc_key, (batch_size, 64))
  _, dec_params = decoder_init(dec_key, (batch_size, LATENT))
  opt_init, opt_update, get_params = optimizers.momentum(step_size, mass=0.9)

  @jit
  def run_epoch(key, opt_state):
    def body(i, carry):
      key, opt_state = carry
      key, elbo_key, data_key = random.split(key, 3)
      batch = lax.dynamic_slice_in_dim(train_images, i * batch_size, batch_size)
      batch = random.bernoulli(data_key, batch)
      loss = lambda params: -elbo(elbo_key, params, batch) / batch_size
      return key, opt_update(i, grad(loss)(get_params(opt_state)), opt_state)
    return lax.fori_loop(0, num_batches, body, (key, opt_state))[1]

  @jit
  def evaluate(opt_state):
    elbo_key, data_key = random.split(random.PRNGKey(seed + 1))
    binarized = random.bernoulli(data_key, test_images)
    return elbo(elbo_key, get_params(opt_state), binarized) / test_images.shape[0]

  opt_state = opt_init((enc_params, dec_params))
  history = []
  for epoch in range(num_epochs):
    tic = time.time()
    key, epoch_key = random.split(key)
    opt_state = run_epoch(epoch_key, opt_state)
    test_elbo = float(evaluate(opt_state))
    history.append(test_elbo)
    log(f"epoch {epoch:2d}  test ELBO {test_elbo:9.4f}  ({time.time() - tic:.2f} s)")
  return history


if __name__ == "__main__":
  train()
  print(f"backend: {jax.default_backend()}")

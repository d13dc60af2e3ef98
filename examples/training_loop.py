"""A training loop the way JAX users write one: pytrees of parameters, a jitted
``value_and_grad`` step that donates the old parameters and optimizer state, updates
with ``jax.tree.map``, minibatches from a permutation key, and an accuracy check.

An MLP (64-128-128-10) with SGD + momentum on scikit-learn's bundled 8x8 digits.
Prints one line per epoch and the final test accuracy.

Run: python examples/training_loop.py   (needs pip install -e '.[examples]')
"""
from functools import partial
import time

import pyjax as jax
import pyjax.numpy as jnp
from pyjax import random
from pyjax.nn import log_softmax, relu

import datasets


def init_params(key, sizes=(64, 128, 128, 10)):
  keys = random.split(key, len(sizes) - 1)
  return [{"w": random.normal(k, (m, n)) * jnp.sqrt(2.0 / m), "b": jnp.zeros(n)}
          for k, m, n in zip(keys, sizes[:-1], sizes[1:])]


def predict(params, x):
  for layer in params[:-1]:
    x = relu(x @ layer["w"] + layer["b"])
  return x @ params[-1]["w"] + params[-1]["b"]


def loss_fn(params, x, y):
  return -jnp.mean(jnp.sum(log_softmax(predict(params, x)) * y, axis=-1))


@partial(jax.jit, donate_argnums=(0, 1))
def train_step(params, velocity, x, y, lr=0.05, mass=0.9):
  loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
  velocity = jax.tree.map(lambda v, g: mass * v + g, velocity, grads)
  params = jax.tree.map(lambda p, v: p - lr * v, params, velocity)
  return params, velocity, loss


@jax.jit
def accuracy(params, x, y):
  return jnp.mean(jnp.argmax(predict(params, x), -1) == jnp.argmax(y, -1))


def train(num_epochs=10, batch_size=64, seed=0, log=print):
  """Trains the MLP; returns (per-epoch mean train loss, final test accuracy)."""
  x_train, y_train, x_test, y_test = map(jnp.asarray, datasets.digits())
  key = random.key(seed)
  key, init_key = random.split(key)
  params = init_params(init_key)
  velocity = jax.tree.map(jnp.zeros_like, params)
  num_batches = x_train.shape[0] // batch_size
  losses = []
  for epoch in range(num_epochs):
    tic = time.time()
    key, perm_key = random.split(key)
    perm = random.permutation(perm_key, x_train.shape[0])
    total = 0.0
    for i in range(num_batches):
      idx = perm[i * batch_size:(i + 1) * batch_size]
      params, velocity, loss = train_step(params, velocity, x_train[idx], y_train[idx])
      total += float(loss)
    losses.append(total / num_batches)
    acc = float(accuracy(params, x_test, y_test))
    log(f"epoch {epoch:2d}  train loss {losses[-1]:.4f}  test accuracy {acc:.4f}"
        f"  ({time.time() - tic:.2f} s)")
  return losses, float(accuracy(params, x_test, y_test))


if __name__ == "__main__":
  _, acc = train()
  print(f"final test accuracy: {acc:.4f}  (backend: {jax.default_backend()})")

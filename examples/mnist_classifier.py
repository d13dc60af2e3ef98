"""JAX's stax MNIST example as a small CNN + MLP, trained with ``optimizers.adam`` on
scikit-learn's 8x8 digits (offline).

Run: python examples/mnist_classifier.py
Prints one line per epoch (time, train and test accuracy) and the final test accuracy.
"""
import itertools
import time

import numpy.random as npr

import pyjax.numpy as jnp
from pyjax import grad, jit, random
from pyjax.example_libraries import optimizers, stax
from pyjax.example_libraries.stax import (Conv, Dense, Flatten, LogSoftmax,
                                          MaxPool, Relu)

import datasets

init_random_params, predict = stax.serial(
    Conv(16, (3, 3), padding="SAME"), Relu,
    MaxPool((2, 2), strides=(2, 2)),
    Flatten,
    Dense(128), Relu,
    Dense(10), LogSoftmax)


def loss(params, batch):
  inputs, targets = batch
  preds = predict(params, inputs)
  return -jnp.mean(jnp.sum(preds * targets, axis=1))


def accuracy(params, batch):
  inputs, targets = batch
  target_class = jnp.argmax(targets, axis=1)
  predicted_class = jnp.argmax(predict(params, inputs), axis=1)
  return jnp.mean(predicted_class == target_class)


def train(num_epochs=20, data=None, step_size=2e-3, batch_size=120, log=print):
  """Trains and returns (params, final test accuracy)."""
  rng = random.key(0)
  train_images, train_labels, test_images, test_labels = (
      data or datasets.digits(flatten=False))
  num_train = train_images.shape[0]
  num_complete_batches, leftover = divmod(num_train, batch_size)
  num_batches = num_complete_batches + bool(leftover)

  def data_stream():
    rng = npr.RandomState(0)
    while True:
      perm = rng.permutation(num_train)
      for i in range(num_batches):
        batch_idx = perm[i * batch_size:(i + 1) * batch_size]
        yield train_images[batch_idx], train_labels[batch_idx]
  batches = data_stream()

  opt_init, opt_update, get_params = optimizers.adam(step_size)

  @jit
  def update(i, opt_state, batch):
    params = get_params(opt_state)
    return opt_update(i, grad(loss)(params, batch), opt_state)

  _, init_params = init_random_params(rng, (-1,) + train_images.shape[1:])
  opt_state = opt_init(init_params)
  itercount = itertools.count()
  test_acc = None
  for epoch in range(num_epochs):
    start_time = time.time()
    for _ in range(num_batches):
      opt_state = update(next(itercount), opt_state, next(batches))
    epoch_time = time.time() - start_time
    params = get_params(opt_state)
    train_acc = accuracy(params, (train_images, train_labels))
    test_acc = accuracy(params, (test_images, test_labels))
    log(f"Epoch {epoch} in {epoch_time:0.2f} sec: training set accuracy {train_acc:.4f}, "
        f"test set accuracy {test_acc:.4f}")
  return get_params(opt_state), float(test_acc)


if __name__ == "__main__":
  t0 = time.time()
  _, acc = train()
  print(f"Final test accuracy {acc:.4f} ({time.time() - t0:.1f} s in all)")

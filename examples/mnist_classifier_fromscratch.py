"""JAX's classic "MNIST from scratch": a tanh MLP trained with plain SGD, written with
``jit``, ``grad`` and ``jax.numpy`` only, on scikit-learn's 8x8 digits (offline).

Run: python examples/mnist_classifier_fromscratch.py
Prints one line per epoch (time, train and test accuracy).
"""
import time

import numpy.random as npr

import pyjax.numpy as jnp
from pyjax import grad, jit
from pyjax.nn import logsumexp

import datasets


def init_random_params(scale, layer_sizes, rng=npr.RandomState(0)):
  return [(scale * rng.randn(m, n), scale * rng.randn(n))
          for m, n, in zip(layer_sizes[:-1], layer_sizes[1:])]


def predict(params, inputs):
  activations = inputs
  for w, b in params[:-1]:
    outputs = jnp.dot(activations, w) + b
    activations = jnp.tanh(outputs)
  final_w, final_b = params[-1]
  logits = jnp.dot(activations, final_w) + final_b
  return logits - logsumexp(logits, axis=1, keepdims=True)


def loss(params, batch):
  inputs, targets = batch
  preds = predict(params, inputs)
  return -jnp.mean(jnp.sum(preds * targets, axis=1))


def accuracy(params, batch):
  inputs, targets = batch
  target_class = jnp.argmax(targets, axis=1)
  predicted_class = jnp.argmax(predict(params, inputs), axis=1)
  return jnp.mean(predicted_class == target_class)


def train(num_epochs=30, data=None, layer_sizes=(64, 512, 512, 10), param_scale=0.1,
          step_size=0.1, batch_size=120, log=print):
  """Trains and returns (params, final test accuracy)."""
  train_images, train_labels, test_images, test_labels = data or datasets.digits()
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

  @jit
  def update(params, batch):
    grads = grad(loss)(params, batch)
    return [(w - step_size * dw, b - step_size * db)
            for (w, b), (dw, db) in zip(params, grads)]

  params = init_random_params(param_scale, list(layer_sizes))
  test_acc = None
  for epoch in range(num_epochs):
    start_time = time.time()
    for _ in range(num_batches):
      params = update(params, next(batches))
    epoch_time = time.time() - start_time
    train_acc = accuracy(params, (train_images, train_labels))
    test_acc = accuracy(params, (test_images, test_labels))
    log(f"Epoch {epoch} in {epoch_time:0.2f} sec: training set accuracy {train_acc:.4f}, "
        f"test set accuracy {test_acc:.4f}")
  return params, float(test_acc)


if __name__ == "__main__":
  t0 = time.time()
  _, acc = train()
  print(f"Final test accuracy {acc:.4f} ({time.time() - t0:.1f} s in all)")

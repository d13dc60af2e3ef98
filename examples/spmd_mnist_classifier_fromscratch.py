"""The MNIST-from-scratch MLP trained data-parallel, in today's JAX SPMD style: a device
mesh with an Explicit ``batch`` axis, each batch split over the devices
(``NamedSharding(mesh, P("batch"))``), the parameters replicated
(``NamedSharding(mesh, P())``), and one jitted training step over the global arrays;
jit works out where the gradients are summed over the devices. On scikit-learn's 8x8
digits (offline).

Run: XLA_FLAGS=--xla_force_host_platform_device_count=4 \\
  python examples/spmd_mnist_classifier_fromscratch.py
Prints the mesh, one line per epoch (time, train and test accuracy) and the shardings of
a batch, of the parameters and of the step's results.
"""
import time

import numpy.random as npr

import pyjax
import pyjax.numpy as jnp
from pyjax.nn import logsumexp
from pyjax.sharding import AxisType, NamedSharding, PartitionSpec as P

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


@pyjax.jit
def accuracy(params, batch):
  inputs, targets = batch
  target_class = jnp.argmax(targets, axis=1)
  predicted_class = jnp.argmax(predict(params, inputs), axis=1)
  return jnp.mean(predicted_class == target_class)


def train(num_epochs=30, data=None, layer_sizes=(64, 512, 512, 10), param_scale=0.1,
          step_size=0.1, batch_size=120, num_devices=None, log=print):
  """Trains on a mesh of ``num_devices`` devices (all of them by default); returns
  (params, final test accuracy)."""
  train_images, train_labels, test_images, test_labels = data or datasets.digits()
  num_devices = num_devices or pyjax.device_count()
  if batch_size % num_devices:
    raise ValueError(f"batch size must be divisible by device count, got {batch_size} "
                     f"and {num_devices}.")
  mesh = pyjax.make_mesh((num_devices,), ("batch",), axis_types=(AxisType.Explicit,))
  batch_sharding = NamedSharding(mesh, P("batch"))  # each device holds a slice
  replicated = NamedSharding(mesh, P())  # each device holds all of it
  log(f"Mesh {mesh}")
  num_train = train_images.shape[0]
  num_batches = num_train // batch_size  # whole batches only: each splits evenly

  def data_stream():
    rng = npr.RandomState(0)
    while True:
      perm = rng.permutation(num_train)
      for i in range(num_batches):
        batch_idx = perm[i * batch_size:(i + 1) * batch_size]
        yield pyjax.device_put((train_images[batch_idx], train_labels[batch_idx]),
                               batch_sharding)
  batches = data_stream()

  @pyjax.jit(donate_argnums=0)
  def update(params, batch):
    grads = pyjax.grad(loss)(params, batch)
    return pyjax.tree.map(lambda p, g: p - step_size * g, params, grads)

  with pyjax.set_mesh(mesh):
    params = pyjax.device_put(init_random_params(param_scale, list(layer_sizes)),
                              replicated)
    train_set = pyjax.device_put((train_images, train_labels), replicated)
    test_set = pyjax.device_put((test_images, test_labels), replicated)
    test_acc = None
    for epoch in range(num_epochs):
      start_time = time.time()
      for _ in range(num_batches):
        batch = next(batches)
        params = update(params, batch)
      epoch_time = time.time() - start_time
      train_acc = accuracy(params, train_set)
      test_acc = accuracy(params, test_set)
      log(f"Epoch {epoch} in {epoch_time:0.2f} sec: training set accuracy "
          f"{train_acc:.4f}, test set accuracy {test_acc:.4f}")
    log(f"Batch sharding {batch[0].sharding.spec}, parameters "
        f"{params[0][0].sharding.spec}, accuracy {test_acc.sharding.spec}")
  return params, float(test_acc)


if __name__ == "__main__":
  t0 = time.time()
  _, acc = train()
  print(f"Final test accuracy {acc:.4f} ({time.time() - t0:.1f} s in all)")

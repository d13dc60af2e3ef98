"""Flax linen on JAX: an MLP (init, apply) and a CNN with Conv, BatchNorm, Dropout and
Dense trained for 50 jitted Optax steps on scikit-learn's 8x8 digits (256 of them)."""
import importlib.util
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import linen as nn

from report import close, exact, tree


class MLP(nn.Module):
  features: tuple = (32, 16, 10)

  @nn.compact
  def __call__(self, x):
    for f in self.features[:-1]:
      x = nn.relu(nn.Dense(f)(x))
    return nn.Dense(self.features[-1])(x)


mlp = MLP()
x = jax.random.uniform(jax.random.PRNGKey(1), (4, 12))
variables = mlp.init(jax.random.PRNGKey(0), x)
tree("mlp.init", variables)
close("mlp.apply", mlp.apply(variables, x))
close("mlp.apply_jit", jax.jit(mlp.apply)(variables, x))
exact("mlp.tabulate_shapes", *[f"{k}:{v.shape}" for k, v in
                               jax.tree_util.tree_leaves_with_path(
                                   jax.eval_shape(mlp.init, jax.random.PRNGKey(0), x))
                               for k in [jax.tree_util.keystr(k)]])


class CNN(nn.Module):
  @nn.compact
  def __call__(self, x, train):
    x = nn.Conv(8, (3, 3), use_bias=False)(x)  # (BatchNorm removes a bias)
    x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
    x = nn.relu(x)
    x = nn.avg_pool(x, (2, 2), strides=(2, 2))
    x = nn.Conv(16, (3, 3), padding="VALID")(x)
    x = nn.relu(x)
    x = x.reshape((x.shape[0], -1))
    x = nn.Dense(32)(x)
    x = nn.Dropout(0.1, deterministic=not train)(x)
    x = nn.relu(x)
    return nn.Dense(10)(x)


# scikit-learn's bundled digits, read without importing sklearn (1.7 s)
data_dir = os.path.join(importlib.util.find_spec("sklearn").submodule_search_locations[0],
                        "datasets", "data")
digits = np.loadtxt(os.path.join(data_dir, "digits.csv.gz"), delimiter=",",
                    max_rows=256)
images = (digits[:, :64] / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
labels = digits[:, 64].astype(np.int32)
cnn = CNN()
variables = jax.jit(cnn.init, static_argnames="train")(jax.random.PRNGKey(2), images[:2],
                                                    train=False)
tree("cnn.init", variables)
params, batch_stats = variables["params"], variables["batch_stats"]
tx = optax.adam(3e-3)
opt_state = tx.init(params)


@jax.jit
def train_step(params, batch_stats, opt_state, x, y, key):
  def loss_fn(params):
    logits, updates = cnn.apply({"params": params, "batch_stats": batch_stats}, x,
                                train=True, rngs={"dropout": key},
                                mutable=["batch_stats"])
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return loss, updates["batch_stats"]
  (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
  updates, opt_state = tx.update(grads, opt_state, params)
  return optax.apply_updates(params, updates), batch_stats, opt_state, loss


@jax.jit
def accuracy(params, batch_stats, x, y):
  logits = cnn.apply({"params": params, "batch_stats": batch_stats}, x, train=False)
  return jnp.mean(jnp.argmax(logits, -1) == y)


key = jax.random.PRNGKey(3)
losses = []
for i in range(50):
  key, sub = jax.random.split(key)
  lo = (i % 4) * 64
  params, batch_stats, opt_state, loss = train_step(
      params, batch_stats, opt_state, images[lo:lo + 64], labels[lo:lo + 64], sub)
  losses.append(loss)
close("cnn.losses_first", *losses[:10])
close("cnn.losses_last", *losses[-5:])
tree("cnn.batch_stats", batch_stats, close)
close("cnn.accuracy", accuracy(params, batch_stats, images, labels))

"""Flax nnx on JAX: a Module with Linear, BatchNorm and Dropout, nnx.Optimizer, an
nnx.jit training step, and split/merge through a plain jax.jit."""
import jax
import jax.numpy as jnp
import optax
from flax import nnx

from report import close, exact, tree


class Model(nnx.Module):
  def __init__(self, din, dhidden, dout, rngs):
    self.linear1 = nnx.Linear(din, dhidden, use_bias=False, rngs=rngs)  # BatchNorm next
    self.bn = nnx.BatchNorm(dhidden, rngs=rngs)
    self.dropout = nnx.Dropout(0.2, rngs=rngs)
    self.linear2 = nnx.Linear(dhidden, dout, rngs=rngs)

  def __call__(self, x):
    x = nnx.relu(self.dropout(self.bn(self.linear1(x))))
    return self.linear2(x)


model = Model(6, 16, 3, nnx.Rngs(0))
graphdef, state = nnx.split(model)
tree("init", nnx.to_pure_dict(state))
exact("param_count", sum(x.size for x in jax.tree_util.tree_leaves(
    nnx.state(model, nnx.Param))))

kx, ky = jax.random.split(jax.random.PRNGKey(1))
x = jax.random.normal(kx, (32, 6))
y = jax.random.normal(ky, (32, 3))
optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)


@nnx.jit
def train_step(model, optimizer, x, y):
  def loss_fn(model):
    return jnp.mean((model(x) - y) ** 2)
  loss, grads = nnx.value_and_grad(loss_fn)(model)
  optimizer.update(model, grads)
  return loss


losses = [train_step(model, optimizer, x, y) for _ in range(12)]
close("losses", *losses)
model.eval()
close("eval_out", model(x))


# the functional API: split, a plain jax.jit over the state, merge
graphdef, state = nnx.split(model)


@jax.jit
def forward(state, x):
  m = nnx.merge(graphdef, state)
  return m(x), nnx.state(m)


out, state2 = forward(state, x)
close("functional_out", out)
m2 = nnx.merge(graphdef, state2)
tree("merged", nnx.to_pure_dict(nnx.state(m2, nnx.Param)), close)

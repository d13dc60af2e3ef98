"""Equinox on JAX: eqx.nn.MLP and Conv2d, filter_jit, filter_grad, tree_at, partition/
combine, and a short Optax training loop."""
import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from report import close, exact, tree

k1, k2, k3, k4 = jax.random.split(jax.random.PRNGKey(0), 4)
mlp = eqx.nn.MLP(in_size=5, out_size=2, width_size=16, depth=2, activation=jax.nn.tanh,
                 key=k1)
tree("mlp.init", eqx.filter(mlp, eqx.is_array))
x = jax.random.normal(k2, (40, 5))
y = jnp.stack([jnp.sin(x[:, 0]) + x[:, 1], x[:, 2] * x[:, 3]], axis=-1)
close("mlp.vmap", jax.vmap(mlp)(x[:4]))


class ConvNet(eqx.Module):
  conv: eqx.nn.Conv2d
  linear: eqx.nn.Linear

  def __init__(self, key):
    ka, kb = jax.random.split(key)
    self.conv = eqx.nn.Conv2d(1, 4, kernel_size=3, padding=1, key=ka)
    self.linear = eqx.nn.Linear(4 * 6 * 6, 3, key=kb)

  def __call__(self, img):
    h = jax.nn.relu(self.conv(img))
    return self.linear(h.reshape(-1))


conv = ConvNet(k3)
tree("conv.init", eqx.filter(conv, eqx.is_array))
imgs = jax.random.normal(k4, (8, 1, 6, 6))
close("conv.out", eqx.filter_jit(eqx.filter_vmap(conv))(imgs))


@eqx.filter_grad
def grad_loss(model, x, y):
  return jnp.mean((jax.vmap(model)(x) - y) ** 2)


g = grad_loss(mlp, x, y)
tree("mlp.grad", eqx.filter(g, eqx.is_array), close)

# tree_at: replace the last layer's bias; partition/combine round trip
mlp2 = eqx.tree_at(lambda m: m.layers[-1].bias, mlp, jnp.full((2,), 0.5))
exact("tree_at", mlp2.layers[-1].bias, mlp.layers[-1].bias)
params, static = eqx.partition(mlp2, eqx.is_inexact_array)
close("combine", jax.vmap(eqx.combine(params, static))(x[:3]))

opt = optax.adam(1e-2)
opt_state = opt.init(eqx.filter(mlp, eqx.is_inexact_array))


@eqx.filter_jit
def step(model, opt_state, x, y):
  loss, grads = eqx.filter_value_and_grad(
      lambda m: jnp.mean((jax.vmap(m)(x) - y) ** 2))(model)
  updates, opt_state = opt.update(grads, opt_state, eqx.filter(model, eqx.is_array))
  return eqx.apply_updates(model, updates), opt_state, loss


model = mlp
losses = []
for _ in range(20):
  model, opt_state, loss = step(model, opt_state, x, y)
  losses.append(loss)
close("train.losses", *losses)
tree("train.params", eqx.filter(model, eqx.is_array), close)

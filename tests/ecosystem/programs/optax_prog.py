"""Optax on JAX: adam, sgd with momentum, chain(clip_by_global_norm, adamw), a schedule,
softmax cross-entropy, inject_hyperparams and MultiSteps (gradient accumulation); every
update step inside jit."""
import jax
import jax.numpy as jnp
import optax

from report import close, exact, tree

key = jax.random.PRNGKey(0)
kx, kw, ky = jax.random.split(key, 3)
x = jax.random.normal(kx, (64, 8))
w_true = jax.random.normal(kw, (8, 3))
labels = jnp.argmax(x @ w_true + 0.1 * jax.random.normal(ky, (64, 3)), axis=-1)
params = {"w": jnp.zeros((8, 3)), "b": jnp.zeros((3,))}
exact("data", x, labels)


def loss_fn(p, x, labels):
  logits = x @ p["w"] + p["b"]
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def train(name, opt, steps=15):
  state = opt.init(params)
  tree(name + ".init_state", state)

  @jax.jit
  def step(p, s):
    loss, g = jax.value_and_grad(loss_fn)(p, x, labels)
    updates, s = opt.update(g, s, p)
    return optax.apply_updates(p, updates), s, loss

  p, s = params, state
  losses = []
  for _ in range(steps):
    p, s, loss = step(p, s)
    losses.append(loss)
  close(name + ".losses", *losses)
  tree(name + ".params", p, close)


train("adam", optax.adam(0.05))
train("sgd_momentum", optax.sgd(0.1, momentum=0.9, nesterov=True))
train("clip_adamw", optax.chain(optax.clip_by_global_norm(0.5),
                                optax.adamw(0.05, weight_decay=1e-2)))
sched = optax.warmup_cosine_decay_schedule(0.0, 0.1, warmup_steps=5, decay_steps=15,
                                           end_value=0.01)
exact("schedule", *[sched(i) for i in range(0, 20, 3)])
close("schedule_jit", *jax.jit(jax.vmap(sched))(jnp.arange(20)))
train("adam_schedule", optax.adam(sched))

# one-hot softmax cross-entropy and its gradient, l2 loss and global norm: one jit
logits = jax.random.normal(jax.random.PRNGKey(3), (5, 4))
onehot = jax.nn.one_hot(jnp.array([0, 3, 1, 2, 3]), 4)


@jax.jit
def losses(logits):
  ce, ce_grad = jax.value_and_grad(
      lambda l: optax.softmax_cross_entropy(l, onehot).sum())(logits)
  return ce, ce_grad, optax.l2_loss(logits, onehot), optax.global_norm(
      params | {"x": logits})


ce, ce_grad, l2, norm = losses(logits)
close("softmax_xent", ce, ce_grad)
close("l2", l2)
close("global_norm", norm)

# hyperparameters in the state; gradient accumulation over 2 steps (its state is built
# from ShapeDtypeStructs: jnp.zeros_like of them)
opt = optax.inject_hyperparams(optax.adam)(learning_rate=0.1)
state = opt.init(params)
updates, state = jax.jit(opt.update)(params | {"w": x[:8, :3]}, state, params)
close("inject_hyperparams", updates["w"], state.hyperparams["learning_rate"])
opt = optax.MultiSteps(optax.sgd(0.1), every_k_schedule=2)
state = opt.init(params)
update = jax.jit(opt.update)
for i in range(3):
  updates, state = update({"w": x[i:i + 8, :3], "b": x[i, :3]}, state, params)
  close(f"multisteps.{i}", updates["w"], updates["b"], state.mini_step)

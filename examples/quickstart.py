"""The JAX quickstart flow on pyjax, end to end, with the time each step took.

Run: python examples/quickstart.py
Ends with a stax network trained with example_libraries.optimizers (a line per epoch);
the training examples on real data are listed in the README.
"""
import time

import numpy as np

import pyjax as jax
import pyjax.numpy as jnp


def step(title):
  def deco(fn):
    t0 = time.perf_counter()
    out = fn()
    dt = (time.perf_counter() - t0) * 1e3
    print(f"--- {title}  ({dt:.2f} ms)")
    if out is not None:
      print(out)
    return fn
  return deco


@step("jnp mirrors NumPy: y = 2 sin(x) cos(x) on linspace(0, 10, 1000)")
def _():
  x = jnp.linspace(0, 10, 1000)
  y = 2 * jnp.sin(x) * jnp.cos(x)
  return f"y[:4] = {y[:4]}   type: {type(y).__name__}, isinstance(y, jax.Array): {isinstance(y, jax.Array)}"


@step("arrays are immutable; use .at[] for functional updates")
def _():
  x = jnp.arange(10)
  try:
    x[0] = 10
  except TypeError as e:
    msg = str(e).split(":")[0]
  y = x.at[0].set(10)
  return f"TypeError: {msg}\n{x}\n{y}"


@step("devices and sharding")
def _():
  x = jnp.arange(5)
  return f"{x.devices()}  {x.sharding}  default_backend={jax.default_backend()}"


@step("jnp.dot of two 1000x1000 float32 matrices (eager, NumPy backend)")
def _():
  x = jnp.asarray(np.random.default_rng(0).normal(size=(1000, 1000)).astype(np.float32))
  t0 = time.perf_counter()
  for _ in range(5):
    jnp.dot(x, x.T).block_until_ready()
  return f"{(time.perf_counter() - t0) / 5 * 1e3:.2f} ms per product"


@step("selu on 1e6 elements (eager)")
def _():
  def selu(x, alpha=1.67, lmbda=1.05):
    return lmbda * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)
  x = jnp.asarray(np.random.default_rng(1).normal(size=(1_000_000,)).astype(np.float32))
  selu(x)
  t0 = time.perf_counter()
  for _ in range(10):
    selu(x).block_until_ready()
  return f"{(time.perf_counter() - t0) / 10 * 1e3:.2f} ms per call"


@step("normalize the rows of a 10000x10 matrix")
def _():
  np.random.seed(1701)
  X = jnp.array(np.random.rand(10000, 10))
  Xn = (X - X.mean(0)) / X.std(0)
  return f"column means ~0: {bool(jnp.allclose(Xn.mean(0), 0, atol=1e-5))}, stds ~1: {bool(jnp.allclose(Xn.std(0), 1, atol=1e-5))}"


@step("make_jaxpr of f(x, y) = dot(x + 1, y + 1)")
def _():
  def f(x, y):
    return jnp.dot(x + 1, y + 1)
  return jax.make_jaxpr(f)(np.random.randn(3, 4), np.random.randn(4))


@step("get_negatives (boolean mask, eager)")
def _():
  x = jnp.array(np.random.default_rng(2).normal(size=10).astype(np.float32))
  return repr(x[x < 0])


@step("grad: derivatives of sum_logistic, to third order, and the Hessian")
def _():
  def sum_logistic(x):
    return jnp.sum(1.0 / (1.0 + jnp.exp(-x)))
  x_small = jnp.arange(3.)
  return (f"grad: {jax.grad(sum_logistic)(x_small)}\n"
          f"grad(grad(grad)) at 1.0: {jax.grad(jax.grad(jax.grad(sum_logistic)))(1.0)!s}\n"
          f"jacobian(exp):\n{jax.jacobian(jnp.exp)(x_small)}\n"
          f"hessian = jacfwd(jacrev):\n{jax.jacfwd(jax.jacrev(sum_logistic))(x_small)}")


@step("vmap: batched matrix-vector products and per-example gradients")
def _():
  mat = jnp.asarray(np.random.default_rng(3).normal(size=(150, 100)).astype(np.float32))
  batched_x = jnp.asarray(np.random.default_rng(4).normal(size=(10, 100)).astype(np.float32))
  manual = jnp.dot(batched_x, mat.T)
  auto = jax.vmap(lambda v: jnp.dot(mat, v))(batched_x)

  def loss(w, x, y):
    return jnp.sum((jnp.tanh(x @ w) - y) ** 2)
  w = jnp.ones((100, 3)) * 0.01
  per_ex = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(w, batched_x, jnp.zeros((10, 3)))
  return (f"vmap == manual batching: {bool(jnp.allclose(manual, auto, atol=1e-4))}\n"
          f"per-example gradient shape: {per_ex.shape}")


@step("jit: selu on 1e6 elements (the first calls run eagerly while IREE compiles)")
def _():
  def selu(x, alpha=1.67, lmbda=1.05):
    return lmbda * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)
  x = jnp.asarray(np.random.default_rng(1).normal(size=(1_000_000,)).astype(np.float32))
  selu_jit = jax.jit(selu)
  t0 = time.perf_counter()
  selu_jit(x).block_until_ready()
  first = time.perf_counter() - t0
  t0 = time.perf_counter()
  compiled = selu_jit.lower(x).compile()  # ahead of time: waits for IREE
  comp = time.perf_counter() - t0
  t0 = time.perf_counter()
  for _ in range(10):
    compiled(x).block_until_ready()
  per = (time.perf_counter() - t0) / 10
  ok = bool(jnp.allclose(compiled(x), selu(x), atol=1e-5))
  return (f"first call {first * 1e3:.1f} ms; compiled in {comp * 1e3:.0f} ms, then "
          f"{per * 1e3:.3f} ms per call; matches eager: {ok}")


@step("grad and jit compose: grad(jit(grad(jit(grad(sum_logistic)))))(1.0)")
def _():
  def sum_logistic(x):
    return jnp.sum(1.0 / (1.0 + jnp.exp(-x)))
  return jax.grad(jax.jit(jax.grad(jax.jit(jax.grad(sum_logistic)))))(1.0)


@step("random: explicit keys, bit-equal to JAX's threefry")
def _():
  from pyjax import random
  key = random.key(0)
  return f"{random.normal(key, (10,))}\nnormal(key(43)) = {random.normal(random.key(43))!s}"


@step("stax + optimizers: an MLP learns two interleaved spirals (jit(value_and_grad), adam)")
def _():
  from pyjax import random
  from pyjax.example_libraries import optimizers, stax
  rng = np.random.default_rng(5)
  t = rng.uniform(0.5, 3 * np.pi, 512)
  label = rng.integers(0, 2, 512)
  r = np.where(label, -1.0, 1.0)[:, None]
  x = jnp.asarray((r * np.stack([t * np.cos(t), t * np.sin(t)], 1) / 10
                   + rng.normal(0, 0.02, (512, 2))).astype(np.float32))
  y = jnp.asarray(np.eye(2, dtype=np.float32)[label])
  init, apply = stax.serial(stax.Dense(64), stax.Tanh, stax.Dense(64), stax.Tanh,
                            stax.Dense(2), stax.LogSoftmax)
  _, params = init(random.key(0), (-1, 2))
  opt_init, opt_update, get_params = optimizers.adam(1e-2)

  def loss(params):
    return -jnp.mean(jnp.sum(apply(params, x) * y, -1))

  @jax.jit
  def update(i, state):
    value, grads = jax.value_and_grad(loss)(get_params(state))
    return value, opt_update(i, grads, state)

  state, lines = opt_init(params), []
  for epoch in range(5):
    for i in range(epoch * 100, (epoch + 1) * 100):
      value, state = update(i, state)
    acc = jnp.mean(jnp.argmax(apply(get_params(state), x), -1) == label)
    lines.append(f"epoch {epoch}: loss {float(value):.4f}, train accuracy {float(acc):.3f}")
  return "\n".join(lines)

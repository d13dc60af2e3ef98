"""Data-parallel training of a small MLP across processes (MPI), or in one process.

  python examples/mpi_data_parallel.py              # one process
  mpirun -n 2 python examples/mpi_data_parallel.py  # two processes, same global batch

Each process draws the same synthetic regression data (seeded) and takes its slice of
every global batch; ``pmap`` runs the gradient on each process's devices and ``pmean``
averages it over every device of every process (MPI all-reduce between processes), so
every process holds the same parameters. The final loss equals the one-process run's
up to float32 reduction order.
"""
import functools
import os
import time

import numpy as np

import pyjax as jax
import pyjax.numpy as jnp
from pyjax import lax

GLOBAL_BATCH, STEPS, LR = 256, 60, 0.05


def init(key, sizes):
  params = []
  for m, n in zip(sizes[:-1], sizes[1:]):
    key, k = jax.random.split(key)
    params.append((jax.random.normal(k, (m, n)) * np.sqrt(2.0 / m), jnp.zeros(n)))
  return params


def predict(params, x):
  for w, b in params[:-1]:
    x = jnp.tanh(x @ w + b)
  w, b = params[-1]
  return x @ w + b


def loss(params, x, y):
  return jnp.mean((predict(params, x) - y) ** 2)


def main():
  if "PMI_RANK" in os.environ or "OMPI_COMM_WORLD_RANK" in os.environ:  # under mpirun
    jax.distributed.initialize()
  nproc, me = jax.process_count(), jax.process_index()
  ndev = jax.local_device_count()
  rng = np.random.default_rng(0)
  x_all = rng.normal(size=(STEPS * GLOBAL_BATCH, 16)).astype(np.float32)
  w_true = rng.normal(size=(16, 1)).astype(np.float32)
  y_all = np.sin(x_all @ w_true) + 0.1 * rng.normal(size=(len(x_all), 1)).astype(np.float32)

  @functools.partial(jax.pmap, axis_name="batch", in_axes=(None, 0, 0))
  def step(params, x, y):
    l, g = jax.value_and_grad(loss)(params, x, y)
    g = lax.pmean(g, "batch")
    new = jax.tree.map(lambda p, d: p - LR * d, params, g)
    return new, lax.pmean(l, "batch")

  params = init(jax.random.key(0), [16, 64, 64, 1])
  per_proc = GLOBAL_BATCH // nproc
  t0 = time.perf_counter()
  for i in range(STEPS):
    batch = slice(i * GLOBAL_BATCH + me * per_proc, i * GLOBAL_BATCH + (me + 1) * per_proc)
    x = x_all[batch].reshape(ndev, per_proc // ndev, 16)
    y = y_all[batch].reshape(ndev, per_proc // ndev, 1)
    params, l = step(params, x, y)
    params = jax.tree.map(lambda p: p[0], params)  # every device holds the same
    if me == 0 and (i % 20 == 0 or i == STEPS - 1):
      print(f"step {i:3d}  loss {float(np.asarray(l)[0]):.6f}")
  if me == 0:
    print(f"processes {nproc}, devices {jax.device_count()}, "
          f"{(time.perf_counter() - t0) / STEPS * 1e3:.1f} ms/step")
    print(f"final loss {float(loss(params, x_all[:GLOBAL_BATCH], y_all[:GLOBAL_BATCH])):.6f}")


if __name__ == "__main__":
  main()

"""Multi-process (MPI) figures, side by side in one run:

1. a 100 MB float32 psum across 2 processes (pmap over one device each) vs a raw
   mpi4py Allreduce of the same buffer;
2. the data-parallel MLP step (examples/mpi_data_parallel.py's, a wider MLP) on 2
   processes vs 1 process, same global batch: with pmap, and as a jit of the gradient
   step over a batch-split global array (partitioned across the processes).

  python bench/bench_mpi.py      (it starts `mpirun -n 2` itself)
"""
import functools
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np

# Compiled code from the first call (the eager tier would be timed); children inherit it.
os.environ.setdefault("PYJAX_JIT_TIERING", "off")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker_psum():
  import pyjax as jax
  from pyjax import lax
  from mpi4py import MPI
  jax.distributed.initialize()
  x = np.ones((1, 25_000_000), np.float32)
  f = jax.pmap(lambda a: lax.psum(a, "i"), axis_name="i")
  f(x).block_until_ready()
  comm, out = MPI.COMM_WORLD, np.empty_like(x)
  comm.Allreduce(x, out)
  raw, ours = [], []
  for _ in range(5):
    comm.Barrier()
    t = time.perf_counter()
    comm.Allreduce(x, out)
    raw.append(time.perf_counter() - t)
    comm.Barrier()
    t = time.perf_counter()
    f(x).block_until_ready()
    ours.append(time.perf_counter() - t)
  if jax.process_index() == 0:
    print(f"RESULT psum {min(ours) * 1e3:.1f} {min(raw) * 1e3:.1f}")


def worker_step():
  import pyjax as jax
  import pyjax.numpy as jnp
  from pyjax import lax
  if "PMI_RANK" in os.environ:
    jax.distributed.initialize()
  nproc, me = jax.process_count(), jax.process_index()
  batch, width = 512, 512
  rng = np.random.default_rng(0)
  x = rng.normal(size=(batch, 784)).astype(np.float32)
  y = rng.normal(size=(batch, 10)).astype(np.float32)
  sizes = [784, width, width, 10]
  params = [(rng.normal(size=(m, n)).astype(np.float32) * 0.05, np.zeros(n, np.float32))
            for m, n in zip(sizes[:-1], sizes[1:])]

  def loss(p, x, y):
    for w, b in p[:-1]:
      x = jnp.tanh(x @ w + b)
    return jnp.mean((x @ p[-1][0] + p[-1][1] - y) ** 2)

  @functools.partial(jax.pmap, axis_name="b", in_axes=(None, 0, 0))
  def step(p, x, y):
    g = lax.pmean(jax.grad(loss)(p, x, y), "b")
    return jax.tree.map(lambda a, d: a - 0.01 * d, p, g)

  per = batch // nproc
  xs, ys = x[me * per:(me + 1) * per][None], y[me * per:(me + 1) * per][None]

  # the same step as jit over a batch-split global array (partitioned across processes)
  mesh = jax.make_mesh((jax.device_count(),), ("b",))
  split = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("b"))
  xg = jax.make_array_from_process_local_data(split, x[me * per:(me + 1) * per])
  yg = jax.make_array_from_process_local_data(split, y[me * per:(me + 1) * per])
  jstep = jax.jit(lambda p, x, y: jax.tree.map(lambda a, d: a - 0.01 * d, p,
                                                jax.grad(loss)(p, x, y)))

  def timed(f, *args):
    jax.block_until_ready(f(*args))
    times = []
    for _ in range(20):
      t = time.perf_counter()
      jax.block_until_ready(f(*args))
      times.append(time.perf_counter() - t)
    return np.median(times) * 1e3

  a, b = timed(step, params, xs, ys), timed(jstep, params, xg, yg)
  if me == 0:
    print(f"RESULT step{nproc} {a:.2f}")
    print(f"RESULT jit{nproc} {b:.2f}")


def main():
  mpirun = shutil.which("mpirun", path=os.path.dirname(sys.executable)) or "mpirun"
  env = dict(os.environ, PYTHONPATH=ROOT)
  me = os.path.abspath(__file__)

  def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600).stdout
    return re.findall(r"RESULT (\S+) (.*)", out)

  psum = dict(run([mpirun, "-n", "2", sys.executable, me, "psum"]))["psum"].split()
  r1 = dict(run([sys.executable, me, "step"]))
  r2 = dict(run([mpirun, "-n", "2", sys.executable, me, "step"]))
  one, two = float(r1["step1"]), float(r2["step2"])
  jone, jtwo = float(r1["jit1"]), float(r2["jit2"])
  ours, raw = map(float, psum)
  print(f"{'case':58s} {'pyjax':>9s} {'reference':>10s} {'ratio':>6s}")
  print(f"{'100 MB f32 psum, 2 processes (ms) vs raw mpi4py Allreduce':58s} "
        f"{ours:9.1f} {raw:10.1f} {raw / ours:6.2f}x bandwidth")
  print(f"{'DP MLP step, batch 512: 2 processes vs 1 process (ms)':58s} "
        f"{two:9.2f} {one:10.2f} {two / one:6.2f}x time")
  print(f"{'the same step as jit on a batch-split array: 2 vs 1 process':58s} "
        f"{jtwo:9.2f} {jone:10.2f} {jtwo / jone:6.2f}x time")


if __name__ == "__main__":
  if len(sys.argv) > 1:
    {"psum": worker_psum, "step": worker_step}[sys.argv[1]]()
  else:
    main()

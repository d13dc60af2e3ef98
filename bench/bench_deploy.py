"""Deployment artifacts (pyjax.deploy): load + first call, and steady call time against
the jitted original in pyjax and in JAX.

Run: python bench/bench_deploy.py [--quick]
An MNIST-style MLP (784-512-512-10, tanh, log-softmax; parameters closed over, so the
artifact holds them) is saved for the host CPU per batch size. The artifact rows run in
a child process that imports only NumPy, iree.runtime and the loader file (pyjax and
IREE's compiler blocked); JAX's rows in another child (XLA's and IREE's worker threads
in one process contend for the cores). Steady times are the best of 5 repeats, in us per
call; load and first-call times are one measurement each, with the CPU time the process
spent on them (all threads) beside: on a busy machine the wall time mostly waits.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

# Compiled code from the first call (the eager tier would be timed); children inherit it.
os.environ.setdefault("PYJAX_JIT_TIERING", "off")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

SIZES = (784, 512, 512, 10)


def params(sizes=SIZES):
  rng = np.random.RandomState(0)
  return [((rng.randn(m, n) / np.sqrt(m)).astype(np.float32),
           (0.1 * rng.randn(n)).astype(np.float32)) for m, n in zip(sizes[:-1], sizes[1:])]


def predict(jnp, logsumexp, ps, x):
  for w, b in ps[:-1]:
    x = jnp.tanh(x @ w + b)
  w, b = ps[-1]
  z = x @ w + b
  return z - logsumexp(z, axis=1, keepdims=True)


def steady(f, x, number, block=lambda y: y):
  import timeit
  block(f(x))
  return min(timeit.repeat(lambda: block(f(x)), number=number, repeat=5)) / number * 1e6


ARTIFACT_CHILD = textwrap.dedent("""
    import importlib.abc, importlib.util, json, sys, time, timeit
    class Block(importlib.abc.MetaPathFinder):
      def find_spec(self, name, path, target=None):
        if name.startswith(("pyjax", "jax", "iree.compiler")):
          raise ImportError(name + " is blocked")
    sys.meta_path.insert(0, Block())
    t = time.perf_counter()
    import numpy as np
    import iree.runtime
    t_import = time.perf_counter() - t
    spec = importlib.util.spec_from_file_location("deploy_runtime", sys.argv[1])
    drt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(drt)
    out = {"import": t_import}
    for path, batch, number in json.loads(sys.argv[2]):
      x = np.random.RandomState(1).rand(batch, 784).astype(np.float32)
      t, c = time.perf_counter(), time.process_time()
      f = drt.load(path)
      t_load = time.perf_counter() - t
      f(x)
      t_first = time.perf_counter() - t
      c_first = time.process_time() - c
      f(x)
      s = min(timeit.repeat(lambda: f(x), number=number, repeat=5)) / number * 1e6
      out[str(batch)] = {"load": t_load, "first": t_first, "cpu": c_first, "steady": s,
                         "driver": f.driver}
    print(json.dumps(out))
""")

JAX_CHILD = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    import jax
    jax.config.update("jax_platforms", "cpu")
    import jax.numpy as jnp
    from jax.nn import logsumexp
    from bench_deploy import params, predict, steady
    ps = params()
    f = jax.jit(lambda x: predict(jnp, logsumexp, ps, x))
    out = {}
    for batch, number in json.loads(sys.argv[2]):
      x = jnp.asarray(__import__("numpy").random.RandomState(1).rand(batch, 784)
                      .astype("float32"))
      out[str(batch)] = steady(f, x, number, lambda y: y.block_until_ready())
    print(json.dumps(out))
""")


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--quick", action="store_true")
  args = ap.parse_args()
  import pyjax
  import pyjax.deploy
  import pyjax.numpy as jnp
  from pyjax.nn import logsumexp
  batches = [(1, 200 if args.quick else 2000), (128, 20 if args.quick else 200)]
  ps = params()
  f = pyjax.jit(lambda x: predict(jnp, logsumexp, ps, x))
  tmp = tempfile.mkdtemp(prefix="bench_deploy")
  jobs, ours, save_s = [], {}, {}
  for batch, number in batches:
    x = np.random.RandomState(1).rand(batch, 784).astype(np.float32)
    path = os.path.join(tmp, f"mlp{batch}.pyjax")
    t = time.perf_counter()
    pyjax.deploy.save(f.lower(x), path)
    save_s[batch] = time.perf_counter() - t
    jobs.append((path, batch, number))
    ours[batch] = steady(f, pyjax.numpy.asarray(x), number,
                         lambda y: y.block_until_ready())
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  p = subprocess.run([sys.executable, "-c", ARTIFACT_CHILD, pyjax.deploy.RUNTIME_FILE,
                      json.dumps(jobs)], capture_output=True, text=True, env=env, cwd=tmp)
  if p.returncode:
    sys.exit(p.stderr)
  art = json.loads(p.stdout.splitlines()[-1])
  p = subprocess.run([sys.executable, "-c", JAX_CHILD, os.path.join(ROOT, "bench"),
                      json.dumps(batches)], capture_output=True, text=True)
  theirs = json.loads(p.stdout.splitlines()[-1]) if p.returncode == 0 else {}
  print(f"pyjax.deploy: MLP {'-'.join(map(str, SIZES))} on {platform.processor() or 'cpu'}"
        f", {os.cpu_count()} CPUs; artifact process: numpy + iree.runtime import "
        f"{art['import'] * 1e3:.0f} ms (not in the rows)")
  print(f"{'batch':>5} | {'save s':>6} | {'load ms':>7} | {'load+1st call ms':>16} | "
        f"{'(its CPU ms)':>12} | "
        f"{'artifact us':>11} | {'pyjax jit us':>12} | {'JAX jit us':>10} | "
        f"{'art/pyjax':>9} | {'art/JAX':>7}")
  for batch, _ in batches:
    a = art[str(batch)]
    j = theirs.get(str(batch))
    jax_us = "-" if j is None else f"{j:.1f}"
    vs_jax = "-" if j is None else f"{a['steady'] / j:.2f}"
    print(f"{batch:>5} | {save_s[batch]:6.2f} | {a['load'] * 1e3:7.1f} | "
          f"{a['first'] * 1e3:16.1f} | {a['cpu'] * 1e3:12.1f} | {a['steady']:11.1f} | "
          f"{ours[batch]:12.1f} | "
          f"{jax_us:>10} | {a['steady'] / ours[batch]:9.2f} | {vs_jax:>7}")
  print(f"(driver: {', '.join(art[str(b)]['driver'] for b, _ in batches)})")

if __name__ == "__main__":
  main()

"""Time to first results: pyjax vs real JAX, each case in a fresh process with an empty
compilation cache (issue 21 item 1).

Run: python bench/bench_compile.py [--reps N]
Rows: the first call of a jitted MLP SGD step (784-512-512-10, batch 128, parameters fed
back), the first 20 calls of it (a short training run, waited for at the end), the first
call of a tiny function (``sin(x) * 2 + 1``) and of per-example gradients over singleton
axes (``jit(vmap(grad))`` on ``x[:, None]``), and a second process on a warm disk cache.
pyjax runs with ``pyjax_jit_tiering`` on (its default: the first calls run eagerly while
IREE compiles in the background) and off (every first call waits for IREE, as before).
Each figure is the median over ``--reps`` fresh processes; import time is not counted.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# One program for both libraries: ``lib`` is "pyjax" or "jax"; prints a JSON dict.
CHILD = r"""
import json, os, sys, time
import numpy as np
lib, case, tiering = sys.argv[1], sys.argv[2], sys.argv[3]
if lib == "jax":
  import jax, jax.numpy as jnp
  jax.config.update("jax_platforms", "cpu")
else:
  sys.path.insert(0, os.environ["PYJAX_ROOT"])
  import pyjax as jax, pyjax.numpy as jnp
  jax.config.update("pyjax_jit_tiering", tiering)
  if os.environ.get("CACHE_DIR"):
    jax.config.update("jax_compilation_cache_dir", os.environ["CACHE_DIR"])

def block(t):
  for x in jax.tree_util.tree_leaves(t):
    x.block_until_ready()

rng = np.random.default_rng(0)
out = {}
if case == "tiny":
  x = jnp.asarray(np.ones(4, np.float32))
  block(x)
  f = jax.jit(lambda x: jnp.sin(x) * 2 + 1)
  t = time.perf_counter()
  block(f(x))
  out["first"] = time.perf_counter() - t
elif case == "perex":  # per-example gradients over singleton axes (x[:, None])
  w = jnp.asarray(rng.standard_normal((784, 10)).astype(np.float32) * 0.05)
  x = jnp.asarray(rng.standard_normal((128, 784)).astype(np.float32))[:, None]
  y = jnp.asarray(rng.standard_normal((128, 10)).astype(np.float32))[:, None]
  block((w, x, y))
  loss = lambda w, x, y: jnp.mean((jnp.tanh(x @ w) - y) ** 2)
  f = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)))
  t = time.perf_counter()
  block(f(w, x, y))
  out["first"] = time.perf_counter() - t
else:
  sizes = [784, 512, 512, 10]
  params = [(jnp.asarray(rng.standard_normal((a, b)).astype(np.float32) * 0.05),
             jnp.zeros(b)) for a, b in zip(sizes[:-1], sizes[1:])]
  x = jnp.asarray(rng.standard_normal((128, 784)).astype(np.float32))
  y = jnp.asarray(rng.standard_normal((128, 10)).astype(np.float32))
  block((params, x, y))

  def loss(params, x, y):
    h = x
    for w, b in params[:-1]:
      h = jnp.maximum(h @ w + b, 0.0)
    w, b = params[-1]
    return jnp.mean((h @ w + b - y) ** 2)

  @jax.jit
  def step(params, x, y):
    g = jax.grad(loss)(params, x, y)
    return [(w - 0.01 * gw, b - 0.01 * gb) for (w, b), (gw, gb) in zip(params, g)]

  t = time.perf_counter()
  p = step(params, x, y)
  block(p)
  out["first"] = time.perf_counter() - t
  for _ in range(19):
    p = step(p, x, y)
  block(p)
  out["first20"] = time.perf_counter() - t
  out["loss"] = float(loss(p, x, y))
print(json.dumps(out))
"""


def child(lib, case, tiering="on", cache_dir=None):
  env = dict(os.environ, PYJAX_ROOT=ROOT)
  env.pop("JAX_COMPILATION_CACHE_DIR", None)
  if cache_dir:
    env["CACHE_DIR"] = cache_dir
  r = subprocess.run([sys.executable, "-c", CHILD, lib, case, tiering], env=env,
                     capture_output=True, text=True)
  if r.returncode != 0:
    sys.stderr.write(r.stderr[-3000:])
    return None
  return json.loads(r.stdout.strip().splitlines()[-1])


def median(lib, case, reps, tiering="on", warm=False):
  runs = []
  for _ in range(reps):
    with tempfile.TemporaryDirectory() as d:
      if warm:  # a first process fills the disk cache
        child(lib, case, "off", d)
      r = child(lib, case, tiering, d if lib == "pyjax" else None)
      if r is not None:
        runs.append(r)
  if not runs:
    return {}
  return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--reps", type=int, default=3)
  args = ap.parse_args()
  import importlib.util
  have_jax = importlib.util.find_spec("jax") is not None
  print(f"# {platform.node()} {os.cpu_count()} cores, python {platform.python_version()}"
        f", median of {args.reps} fresh processes, empty caches")
  rows = []
  for case, key, label in [("mlp", "first", "MLP SGD step, first call"),
                           ("mlp", "first20", "MLP SGD step, first 20 calls"),
                           ("tiny", "first", "sin(x)*2+1, first call"),
                           ("perex", "first", "per-example grads, first call")]:
    rows.append((case, key, label))
  res = {}
  for case in ("mlp", "tiny", "perex"):
    res[("jax", case)] = median("jax", case, args.reps) if have_jax else {}
    res[("on", case)] = median("pyjax", case, args.reps, "on")
    res[("off", case)] = median("pyjax", case, args.reps, "off")
    res[("warm", case)] = median("pyjax", case, args.reps, "on", warm=True)
  print(f"{'case':<32}{'JAX s':>9}{'tiered s':>10}{'ratio':>8}{'sync s':>9}{'ratio':>8}"
        f"{'warm disk s':>13}")
  for case, key, label in rows:
    j = res[("jax", case)].get(key, float("nan"))
    on = res[("on", case)].get(key, float("nan"))
    off = res[("off", case)].get(key, float("nan"))
    warm = res[("warm", case)].get(key, float("nan"))
    print(f"{label:<32}{j:9.3f}{on:10.3f}{on / j:7.2f}x{off:9.3f}{off / j:7.2f}x"
          f"{warm:13.3f}")
  losses = {k: v.get("loss") for k, v in res.items() if k[1] == "mlp"}
  print("final losses:", json.dumps({k[0]: v for k, v in losses.items()}))


if __name__ == "__main__":
  main()

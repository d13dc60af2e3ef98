"""Flax and Optax on pyjax vs real JAX: a training step, an optimizer update, imports.

Run: python bench/bench_ecosystem.py [--rounds N] [--rows cnn,adam]
Rows (float32, state donated, each step fed the previous one's state and waited for):
- a Flax linen CNN on 28x28x1 images, batch 128: Conv(32, 3x3) relu Conv(64, 3x3) relu
  avg_pool(2x2) Dense(128) relu Dense(10), softmax cross-entropy, ``jax.jit`` of
  ``value_and_grad`` and an ``optax.adam`` update;
- ``optax.adam``'s update and ``apply_updates`` alone, jitted, on the parameters of a
  784-512-512-10 MLP (0.67 M floats);
- the time to import flax.linen and optax (jax first; on pyjax through
  ``pyjax.install_as_jax()``), in a fresh process, best of the rounds.

Both sides run the same code in child processes (``--child``): on pyjax, `import jax`
resolves to pyjax, so flax and optax run on it unchanged. Rounds alternate pyjax and
JAX; each step time is the median of its round, each figure the best round. Each pyjax
round gets a fresh disk cache, so its first call is a cold compile, as JAX's is.
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
import time

# Compiled code from the first call (the eager tier would be timed); children inherit it.
os.environ.setdefault("PYJAX_JIT_TIERING", "off")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # this checkout's pyjax, not an installed one

ROWS = {
    "cnn": ("Flax linen CNN value_and_grad+adam", 8),
    "adam": ("Optax adam update, 0.67M params", 40),
}


def _cnn(jax, jnp, nn, optax):
  class CNN(nn.Module):
    @nn.compact
    def __call__(self, x):
      x = nn.relu(nn.Conv(32, (3, 3), padding="VALID")(x))
      x = nn.relu(nn.Conv(64, (3, 3), padding="VALID")(x))
      x = nn.avg_pool(x, (2, 2), strides=(2, 2))
      x = nn.relu(nn.Dense(128)(x.reshape((x.shape[0], -1))))
      return nn.Dense(10)(x)

  model, tx = CNN(), optax.adam(1e-3)
  kx, ky, kp = jax.random.split(jax.random.key(0), 3)
  x = jax.random.normal(kx, (128, 28, 28, 1))
  y = jax.random.randint(ky, (128,), 0, 10)
  params = model.init(kp, x[:1])["params"]

  def step(state, x, y):
    params, opt_state = state

    def loss_fn(p):
      logits = model.apply({"params": p}, x)
      return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), loss
  return jax.jit(step, donate_argnums=0), (params, tx.init(params)), (x, y)


def _adam(jax, jnp, nn, optax):
  sizes = [784, 512, 512, 10]
  keys = jax.random.split(jax.random.key(0), len(sizes) - 1)
  params = [{"w": jax.random.normal(k, (a, b)) * a ** -0.5, "b": jnp.zeros(b)}
            for k, a, b in zip(keys, sizes[:-1], sizes[1:])]
  grads = jax.tree_util.tree_map(lambda p: p * 0.01 + 0.001, params)
  tx = optax.adam(1e-3)

  def step(state, grads):
    params, opt_state = state
    updates, opt_state = tx.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), None
  return jax.jit(step, donate_argnums=0), (params, tx.init(params)), (grads,)


def child(which, names, scale):
  """Runs in a fresh process: import time, then {row: (median step ms, first s)}."""
  t = time.perf_counter()
  if which == "pyjax":
    import pyjax
    pyjax.install_as_jax()
  import jax
  import flax.linen as nn
  import optax
  out = {"import": time.perf_counter() - t, "version": jax.__version__}
  import jax.numpy as jnp
  if which == "jax":
    jax.config.update("jax_platforms", "cpu")
  for name in names:
    f, state, args = {"cnn": _cnn, "adam": _adam}[name](jax, jnp, nn, optax)
    holder = [state]

    def run():
      holder[0], _ = f(holder[0], *args)
      jax.block_until_ready(holder[0])
    t = time.perf_counter()
    run()
    first = time.perf_counter() - t
    run()
    times = []
    for _ in range(max(3, int(ROWS[name][1] * scale))):
      t = time.perf_counter()
      run()
      times.append(time.perf_counter() - t)
    out[name] = (statistics.median(times) * 1e3, first)
  print(json.dumps(out))


def _child(which, names, scale, cache_dir):
  cmd = [sys.executable, os.path.abspath(__file__), "--child", which, "--rows",
         ",".join(names), "--scale", str(scale)]
  env = dict(os.environ, XDG_CACHE_HOME=cache_dir)  # pyjax's disk cache lives under it
  r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
  if r.returncode != 0 or not r.stdout.strip():
    sys.stderr.write(f"{which} child failed:\n{r.stderr[-3000:]}")
    return {}
  return json.loads(r.stdout.strip().splitlines()[-1])


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--rounds", type=int, default=3)
  ap.add_argument("--rows", default="cnn,adam")
  ap.add_argument("--scale", type=float, default=1.0, help="scales the step counts")
  ap.add_argument("--child", choices=["jax", "pyjax"], help=argparse.SUPPRESS)
  args = ap.parse_args()
  names = args.rows.split(",")
  if args.child:
    child(args.child, names, args.scale)
    return
  best = {"pyjax": {}, "jax": {}}
  version = "n/a"
  for _ in range(args.rounds):
    for which in ("pyjax", "jax"):
      with tempfile.TemporaryDirectory() as d:
        r = _child(which, names, args.scale, d)
      v = r.pop("version", None)
      version = v if which == "jax" and v else version
      imp = r.pop("import", None)
      if imp is not None:
        best[which]["import"] = min(best[which].get("import", float("inf")), imp)
      for k, (ms, first) in r.items():
        old = best[which].get(k, (float("inf"), float("inf")))
        best[which][k] = (min(old[0], ms), min(old[1], first))
  print(f"# flax {_version('flax')}, optax {_version('optax')}, {platform.machine()}, "
        f"{os.cpu_count()} cpus, jax {version} (own process), load average "
        f"{os.getloadavg()[0]:.1f} (other processes skew the timings)")
  print(f"{'case':<40}{'pyjax ms':>10}{'jax ms':>10}{'ratio':>8}"
        f"{'pyjax 1st s':>13}{'jax 1st s':>11}")
  print("-" * 92)
  for k in names:
    p, j = best["pyjax"].get(k), best["jax"].get(k)
    if p is None:
      print(f"{ROWS[k][0]:<40}{'failed':>10}")
      continue
    jm = f"{j[0]:10.2f}" if j else f"{'-':>10}"
    ratio = f"{p[0] / j[0]:8.2f}" if j else f"{'-':>8}"
    jf = f"{j[1]:11.2f}" if j else f"{'-':>11}"
    print(f"{ROWS[k][0]:<40}{p[0]:10.2f}{jm}{ratio}{p[1]:13.2f}{jf}")
  p, j = best["pyjax"].get("import"), best["jax"].get("import")
  if p is not None and j is not None:
    print(f"{'import jax, flax.linen, optax (ms)':<40}{p * 1e3:10.0f}{j * 1e3:10.0f}"
          f"{p / j:8.2f}")


def _version(dist):
  from importlib.metadata import PackageNotFoundError, version
  try:
    return version(dist)
  except PackageNotFoundError:
    return "n/a"


if __name__ == "__main__":
  main()

"""Training-step benchmark: pyjax (IREE) vs real JAX (XLA), side by side.

Run: python bench/bench_training.py [--rounds N] [--rows mlp,cnn] [--no-compile]
Rows (float32, batch 128, parameters donated, each step fed the previous one's
parameters and waited for):
- MLP 784-512-512-10: ``jit(value_and_grad(loss))`` and an SGD update in one program;
- a stax-style CNN on 28x28x1 images: Conv(32, 3x3) Relu Conv(64, 3x3) Relu
  MaxPool(2x2, stride 2) Flatten Dense(128) Relu Dense(10) LogSoftmax, cross-entropy,
  ``jit(grad)`` and an SGD update, written with ``lax.conv_general_dilated`` (NHWC,
  HWIO, NHWC: stax's ``Conv``), ``lax.reduce_window`` and jnp as stax's layers are;
- the first call of each (trace, lower, compile) with cold caches.

JAX runs in a child process (``--jax-rows``): XLA's and IREE's worker pools in one
process contend for the cores. Rounds alternate pyjax and JAX so a noisy spell on a
shared machine hits both; each step time is the median of its round, each figure the
best round.
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

import numpy as np

# Compiled code from the first call (the eager tier would be timed); children inherit it.
os.environ.setdefault("PYJAX_JIT_TIERING", "off")

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

jax = jnp = lax = None  # bound by _use(): pyjax's or real JAX's modules


def _use(real_jax: bool):
  global jax, jnp, lax
  if real_jax:
    import jax as j
    j.config.update("jax_platforms", "cpu")
  else:
    import pyjax as j
  import importlib
  jax, jnp = j, importlib.import_module(j.__name__ + ".numpy")
  lax = importlib.import_module(j.__name__ + ".lax")


def _log_softmax(x):
  # jax.nn.log_softmax's sequence of ops
  shifted = x - lax.stop_gradient(x.max(axis=-1, keepdims=True))
  return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=-1, keepdims=True))


def _xent(logits, labels):
  return -jnp.mean(jnp.sum(_log_softmax(logits) * labels, axis=-1))


def mlp_init(rng):
  sizes = [784, 512, 512, 10]
  return [(rng.standard_normal((a, b)).astype(np.float32) * np.float32(a ** -0.5),
           np.zeros(b, np.float32)) for a, b in zip(sizes[:-1], sizes[1:])]


def mlp_apply(params, x):
  for w, b in params[:-1]:
    x = jnp.maximum(jnp.dot(x, w) + b, 0.0)
  w, b = params[-1]
  return _log_softmax(jnp.dot(x, w) + b)


def mlp_step(params, x, y):
  loss, g = jax.value_and_grad(lambda p: -jnp.mean(jnp.sum(mlp_apply(p, x) * y, -1)))(
      params)
  return [(w - 0.01 * gw, b - 0.01 * gb) for (w, b), (gw, gb) in zip(params, g)], loss


DN = ("NHWC", "HWIO", "NHWC")  # stax.Conv's dimension numbers


def cnn_init(rng):
  def conv(cin, cout):
    return (rng.standard_normal((3, 3, cin, cout)).astype(np.float32)
            * np.float32((9 * cin) ** -0.5), np.zeros((1, 1, 1, cout), np.float32))

  def dense(a, b):
    return (rng.standard_normal((a, b)).astype(np.float32) * np.float32(a ** -0.5),
            np.zeros(b, np.float32))
  return [conv(1, 32), conv(32, 64), dense(12 * 12 * 64, 128), dense(128, 10)]


def cnn_apply(params, x):
  (w1, b1), (w2, b2), (w3, b3), (w4, b4) = params
  x = lax.conv_general_dilated(x, w1, (1, 1), "VALID", (1, 1), (1, 1),
                               dimension_numbers=DN) + b1
  x = jnp.maximum(x, 0.0)
  x = lax.conv_general_dilated(x, w2, (1, 1), "VALID", (1, 1), (1, 1),
                               dimension_numbers=DN) + b2
  x = jnp.maximum(x, 0.0)
  x = lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
  x = jnp.reshape(x, (x.shape[0], -1))
  x = jnp.maximum(jnp.dot(x, w3) + b3, 0.0)
  return _log_softmax(jnp.dot(x, w4) + b4)


def cnn_step(params, x, y):
  g = jax.grad(lambda p: -jnp.mean(jnp.sum(cnn_apply(p, x) * y, -1)))(params)
  return [(w - 0.01 * gw, b - 0.01 * gb) for (w, b), (gw, gb) in zip(params, g)]


def _data(name):
  rng = np.random.default_rng(0)
  labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]
  if name == "mlp":
    return mlp_init(rng), rng.standard_normal((128, 784)).astype(np.float32), labels
  return cnn_init(rng), rng.standard_normal((128, 28, 28, 1)).astype(np.float32), labels


ROWS = {
    "mlp": ("MLP 784-512-512-10 value_and_grad+SGD", mlp_step, 40),
    "cnn": ("CNN conv-conv-pool-dense grad+SGD", cnn_step, 8),
}


def _leaves(tree):
  return jax.tree_util.tree_leaves(tree)


def _block(tree):
  for leaf in _leaves(tree):
    leaf.block_until_ready()


def _stepper(name):
  """(first-call seconds, a thunk running one donated step)."""
  _, step, _ = ROWS[name]
  params, x, y = _data(name)
  f = jax.jit(step, donate_argnums=0)
  state = [jax.tree_util.tree_map(jnp.asarray, params)]
  x, y = jnp.asarray(x), jnp.asarray(y)

  def run():
    out = f(state[0], x, y)
    state[0] = out[0] if name == "mlp" else out
    _block(out)
  t = time.perf_counter()
  run()
  return time.perf_counter() - t, run


def measure(names, number_scale=1.0):
  """{name: (median step ms, first-call s)} in this process."""
  out = {}
  for name in names:
    first, run = _stepper(name)
    run()
    n = max(3, int(ROWS[name][2] * number_scale))
    times = []
    for _ in range(n):
      t = time.perf_counter()
      run()
      times.append(time.perf_counter() - t)
    out[name] = (statistics.median(times) * 1e3, first)
  return out


def _child(names, real_jax, cache_dir, scale):
  cmd = [sys.executable, os.path.abspath(__file__), "--child",
         "jax" if real_jax else "pyjax", "--rows", ",".join(names),
         "--scale", str(scale)]
  env = dict(os.environ)
  if cache_dir:
    env["XDG_CACHE_HOME"] = cache_dir  # pyjax's disk cache lives under it
  return json_child(cmd, env)


def json_child(cmd, env=None) -> dict:
  """Runs ``cmd``; the JSON object on its last line of output ({} if it failed, its
  stderr's end then shown)."""
  r = subprocess.run(cmd, capture_output=True, text=True, env=env)
  if r.returncode != 0 or not r.stdout.strip():
    sys.stderr.write(r.stderr[-3000:])
    return {}
  return json.loads(r.stdout.strip().splitlines()[-1])


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--rounds", type=int, default=3)
  ap.add_argument("--rows", default="mlp,cnn")
  ap.add_argument("--scale", type=float, default=1.0, help="scales the step counts")
  ap.add_argument("--child", choices=["jax", "pyjax"], help=argparse.SUPPRESS)
  args = ap.parse_args()
  names = args.rows.split(",")
  if args.child:
    _use(args.child == "jax")
    res = measure(names, args.scale)
    res["version"] = jax.__version__
    print(json.dumps(res))
    return
  # Each pyjax round runs in a fresh process on a fresh disk cache: its first call is a
  # cold compile, as JAX's is.
  best = {"pyjax": {}, "jax": {}}
  version = "n/a"
  for _ in range(args.rounds):
    for which in ("pyjax", "jax"):
      with tempfile.TemporaryDirectory() as d:
        r = _child(names, which == "jax", d, args.scale)
      v = r.pop("version", None)
      version = v if which == "jax" and v else version
      for k, (ms, first) in r.items():
        old = best[which].get(k, (float("inf"), float("inf")))
        best[which][k] = (min(old[0], ms), min(old[1], first))
  print(f"# training step, {platform.machine()}, {os.cpu_count()} cpus, numpy "
        f"{np.__version__}, jax {version} (own process), load average "
        f"{os.getloadavg()[0]:.1f} (other processes skew the timings)")
  print(f"{'case':<40}{'pyjax ms':>10}{'jax ms':>10}{'ratio':>8}"
        f"{'pyjax 1st s':>13}{'jax 1st s':>11}")
  print("-" * 92)
  for k in names:
    p, j = best["pyjax"].get(k), best["jax"].get(k)
    if p is None:
      continue
    jm = f"{j[0]:10.2f}" if j else f"{'-':>10}"
    ratio = f"{p[0] / j[0]:8.2f}" if j else f"{'-':>8}"
    jf = f"{j[1]:11.2f}" if j else f"{'-':>11}"
    print(f"{ROWS[k][0]:<40}{p[0]:10.2f}{jm}{ratio}{p[1]:13.2f}{jf}")


if __name__ == "__main__":
  main()

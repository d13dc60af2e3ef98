"""Steady-state speed of compiled code (issue 21 item 4): pyjax (IREE) vs JAX (XLA).

Run: python bench/bench_steady.py [--rounds N] [--rows mlp,matmul,...] [--scale S]
Rows (float32; each call waited for; compile excluded):
- ``mlp``: a jitted MLP training step, 784-512-512-10, batch 128: ``value_and_grad``
  of a cross-entropy and an SGD update in one program, parameters donated
  (bench_training's step);
- ``matmul``: ``x @ y``, 1000x1000 by 1000x1000;
- ``ew``: ``x * x + x * 2.0`` on 2000x2000;
- ``rnn``: ``jit(value_and_grad)`` of a 200-step ``scan`` RNN, hidden 256, input 64,
  batch 16 (bench_control_flow's RNN);
- ``pex``: per-example gradients, ``jit(vmap(grad(loss), in_axes=(None, 0, 0)))`` of
  bench_jit's MLP (784-512-512-10, relu) with a squared error, batch 128.
Goals (pyjax/JAX): mlp <= 1.0, matmul <= 1.1, ew <= 1.0, rnn <= 1.0, pex <= 1.0.

JAX runs in a child process (``--jax-rows``): XLA's and IREE's worker pools in one
process contend for the cores. Rounds alternate pyjax (this process, its programs
compiled once) and JAX (a fresh child each round); a round's figure for a row is the
median of its timed calls, the table shows the best round of each and the spread
(worst round / best round - 1) beside it, and the ratio of the CPU time a call takes
(all threads of the process: the work done, whatever the wait). The machine may be
shared: the load average is printed with the table; ratios within the spread are noise.
On a loaded machine run it at the highest priority (root; the JAX child inherits it;
with autogroup scheduling, nice counts only inside a session's group):
``setsid sh -c 'echo -20 > /proc/self/autogroup; exec nice -n -20 python
bench/bench_steady.py'``: both sides then see a nearly idle machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import bench_control_flow, bench_jit, bench_training  # noqa: E402

from bench.bench_control_flow import B, H, I, T  # noqa: E402  (the RNN's sizes)

GOALS = {"mlp": 1.0, "matmul": 1.1, "ew": 1.0, "rnn": 1.0, "pex": 1.0}
LABELS = {
    "mlp": "MLP train step, donated (ms)",
    "matmul": "matmul 1000x1000 f32 (ms)",
    "ew": "x*x + x*2  2000x2000 (ms)",
    "rnn": "scan RNN T=200 grad (ms)",
    "pex": "per-example grads b128 (ms)",
}
CALLS = {"mlp": 40, "matmul": 20, "ew": 200, "rnn": 20, "pex": 10}


def _case(name, jax, jnp, lax):
  """(a thunk running one call and waiting for it) for row ``name``."""
  rng = np.random.default_rng(0)
  block = bench_training._block
  if name == "mlp":
    params, x, y = bench_training._data("mlp")
    f = jax.jit(bench_training.mlp_step, donate_argnums=0)
    state = [jax.tree_util.tree_map(jnp.asarray, params)]
    x, y = jnp.asarray(x), jnp.asarray(y)

    def run():
      out = f(state[0], x, y)
      state[0] = out[0]
      block(out)
    return run
  if name in ("matmul", "ew"):
    n = 1000 if name == "matmul" else 2000
    a = jnp.asarray(rng.standard_normal((n, n)).astype(np.float32))
    if name == "matmul":
      b = jnp.asarray(rng.standard_normal((n, n)).astype(np.float32))
      f = jax.jit(lambda a, b: a @ b)
      return lambda: f(a, b).block_until_ready()
    f = jax.jit(lambda x: x * x + x * 2.0)
    return lambda: f(a).block_until_ready()
  if name == "rnn":
    params = tuple(jnp.asarray((rng.normal(size=s) * 0.05).astype(np.float32))
                   for s in [(H, H), (I, H), (H,), (H, 8)])
    xs = jnp.asarray(rng.normal(size=(T, B, I)).astype(np.float32))
    h0 = jnp.zeros((B, H), jnp.float32)
    f = bench_control_flow._rnn(jax)
    return lambda: block(f(params, xs, h0))
  if name == "pex":
    mlp = bench_jit._mlp(jnp)
    sizes = (784, 512, 512, 10)
    params = [(jnp.asarray(rng.standard_normal((m, n)).astype(np.float32) * 0.05),
               jnp.zeros(n, jnp.float32)) for m, n in zip(sizes[:-1], sizes[1:])]
    x = jnp.asarray(rng.standard_normal((128, 784)).astype(np.float32))
    y = jnp.asarray(rng.standard_normal((128, 10)).astype(np.float32))
    loss = lambda p, x, y: jnp.mean((mlp(p, x) - y) ** 2)
    f = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)))
    return lambda: block(f(params, x, y))
  raise ValueError(f"unknown row {name!r}; rows: {', '.join(GOALS)}")


_thunks: dict = {}


def measure(names, real_jax, scale):
  """{row: (median ms of its timed calls, median process CPU ms of a call)} in this
  process (programs compiled once)."""
  bench_training._use(real_jax)
  jax, jnp, lax = bench_training.jax, bench_training.jnp, bench_training.lax
  if not real_jax:
    jax.config.update("pyjax_jit_tiering", "off")  # compiled code from the first call
  out = {}
  for name in names:
    if name not in _thunks:
      _thunks[name] = _case(name, jax, jnp, lax)
      _thunks[name]()  # compile
    run = _thunks[name]
    run()
    times, cpu = [], []
    for _ in range(max(3, int(CALLS[name] * scale))):
      t, c = time.perf_counter(), time.process_time()
      run()
      times.append(time.perf_counter() - t)
      cpu.append(time.process_time() - c)
    out[name] = (statistics.median(times) * 1e3, statistics.median(cpu) * 1e3)
  return out


def _jax_in_child(names, scale):
  return bench_training.json_child(
      [sys.executable, os.path.abspath(__file__), "--jax-rows", "--rows",
       ",".join(names), "--scale", str(scale)])


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--rounds", type=int, default=3)
  ap.add_argument("--rows", default=",".join(GOALS))
  ap.add_argument("--scale", type=float, default=1.0, help="scales the call counts")
  ap.add_argument("--jax-rows", action="store_true", help=argparse.SUPPRESS)
  args = ap.parse_args()
  names = args.rows.split(",")
  if args.jax_rows:
    if bench_jit._import_jax():
      res = measure(names, True, args.scale)
      res["version"] = bench_jit.jax.__version__
      print(json.dumps(res))
    return
  rounds = {"pyjax": [], "jax": []}
  version = "n/a"
  for _ in range(args.rounds):
    rounds["pyjax"].append(measure(names, False, args.scale))
    j = _jax_in_child(names, args.scale)
    if j:
      version = j.pop("version")
      rounds["jax"].append(j)
  print(f"# steady state, {platform.machine()}, {os.cpu_count()} cpus, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, jax {version} (own process), "
        f"{args.rounds} rounds, load average {os.getloadavg()[0]:.1f}")
  print(f"{'case':<30}{'pyjax':>8}{'spread':>7}{'jax':>8}{'spread':>7}{'ratio':>7}"
        f"{'goal':>6}{'cpu ratio':>11}")
  print("-" * 84)
  for name in names:
    p = [r[name][0] for r in rounds["pyjax"]]
    j = [r[name][0] for r in rounds["jax"] if name in r]
    spread = lambda v: f"{max(v) / min(v) - 1:6.0%}" if v else f"{'-':>6}"
    js = f"{min(j):8.2f}" if j else f"{'-':>8}"
    ratio = f"{min(p) / min(j):7.2f}" if j else f"{'-':>7}"
    pc = min(r[name][1] for r in rounds["pyjax"])
    jc = min((r[name][1] for r in rounds["jax"] if name in r), default=None)
    cr = f"{pc / jc:11.2f}" if jc else f"{'-':>11}"
    print(f"{LABELS[name]:<30}{min(p):8.2f} {spread(p)}{js} {spread(j)}{ratio}"
          f"{GOALS[name]:6.1f}{cr}")


if __name__ == "__main__":
  main()

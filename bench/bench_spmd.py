"""SPMD benchmarks: pyjax vs real JAX, side by side, on 4 host CPU devices.

Run: python bench/bench_spmd.py [--rounds N] [--rows pmap_dispatch,...]
Part 1, pmap dispatch overhead of a tiny per-device function (``x + 1`` on f32[4, 8],
one row per device):
- ``pmap_dispatch``: 2000 chained calls (each fed the previous result, as a training loop
  feeds its state), waited for at the end: the time per call;
- ``pmap_call_wait``: one call waited for, the median of 500;
- ``pmap_psum``: as ``pmap_dispatch`` with ``x / psum(x)`` (a collective per call);
- ``pmap_tree``: as ``pmap_dispatch`` with a pytree of 3 arrays in and out.
Both libraries run in child processes (XLA's and IREE's worker pools in one process
contend for the cores), one row per child (a failed row is shown as such), in
alternating rounds so a noisy spell on a shared machine hits
both; each figure is the best round. The first call (trace and compile) is not timed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

N_DEVICES = 4
jax = jnp = lax = None  # bound by _use(): pyjax's or real JAX's modules


def _use(real_jax: bool):
  global jax, jnp, lax
  os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={N_DEVICES}"
  if real_jax:
    import jax as j
    j.config.update("jax_platforms", "cpu")
  else:
    import pyjax as j
  import importlib
  jax, jnp = j, importlib.import_module(j.__name__ + ".numpy")
  lax = importlib.import_module(j.__name__ + ".lax")
  assert jax.device_count() == N_DEVICES, jax.devices()


def _x():
  return jnp.asarray(np.arange(N_DEVICES * 8, dtype=np.float32).reshape(N_DEVICES, 8))


def _chained(f, state, n):
  t = time.perf_counter()
  for _ in range(n):
    state = f(state)
  jax.block_until_ready(state)
  return (time.perf_counter() - t) / n


def row_pmap_dispatch(scale):
  f = jax.pmap(lambda x: x + 1)
  y = jax.block_until_ready(f(_x()))
  return _chained(f, y, int(2000 * scale))


def row_pmap_call_wait(scale):
  f = jax.pmap(lambda x: x + 1)
  x = jax.block_until_ready(f(_x()))
  times = []
  for _ in range(int(500 * scale)):
    t = time.perf_counter()
    f(x).block_until_ready()
    times.append(time.perf_counter() - t)
  return statistics.median(times)


def row_pmap_psum(scale):
  f = jax.pmap(lambda x: x / lax.psum(x, "i"), axis_name="i")
  y = jax.block_until_ready(f(_x() + 1))
  return _chained(f, y, int(2000 * scale))


def row_pmap_tree(scale):
  f = jax.pmap(lambda t: {"a": t["a"] + 1, "b": t["b"] * 2, "c": t["c"] - 1})
  x = _x()
  y = jax.block_until_ready(f({"a": x, "b": x, "c": x}))
  return _chained(f, y, int(2000 * scale))


ROWS = {
    "pmap_dispatch": ("pmap dispatch, x+1, chained", row_pmap_dispatch),
    "pmap_call_wait": ("pmap call + wait, x+1", row_pmap_call_wait),
    "pmap_psum": ("pmap dispatch, x/psum(x), chained", row_pmap_psum),
    "pmap_tree": ("pmap dispatch, 3-leaf dict, chained", row_pmap_tree),
}


def measure(names, scale):
  """{name: seconds per call} in this process."""
  return {name: ROWS[name][1](scale) for name in names}


def _child(name, which, scale):
  """One row in a child process: {name: seconds, "version": ...}, or {name: None} when
  the child failed (JAX aborts a psum whose rendezvous times out on a busy machine)."""
  cmd = [sys.executable, os.path.abspath(__file__), "--child", which, "--rows", name,
         "--scale", str(scale)]
  try:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=150)
  except subprocess.TimeoutExpired:
    return {name: None}
  if r.returncode != 0 or not r.stdout.strip():
    lines = [l for l in r.stderr.splitlines() if not l.startswith("    @")]
    sys.stderr.write(f"{which} {name} failed:\n" + "\n".join(lines[-5:]) + "\n")
    return {name: None}
  return json.loads(r.stdout.strip().splitlines()[-1])


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--rounds", type=int, default=3)
  ap.add_argument("--rows", default=",".join(ROWS))
  ap.add_argument("--scale", type=float, default=1.0, help="scales the call counts")
  ap.add_argument("--profile", action="store_true",
                  help="cProfile pyjax's pmap_dispatch row in this process")
  ap.add_argument("--child", choices=["jax", "pyjax"], help=argparse.SUPPRESS)
  args = ap.parse_args()
  names = args.rows.split(",")
  if args.child:
    _use(args.child == "jax")
    res = measure(names, args.scale)
    res["version"] = jax.__version__
    print(json.dumps(res))
    return
  if args.profile:
    import cProfile
    import pstats
    _use(False)
    cProfile.runctx("row_pmap_dispatch(args.scale)", globals(), {"args": args},
                    "/tmp/bench_spmd.prof")
    pstats.Stats("/tmp/bench_spmd.prof").sort_stats("tottime").print_stats(15)
    return
  best = {"pyjax": {}, "jax": {}}
  version = "n/a"
  for _ in range(args.rounds):
    for name in names:
      for which in ("pyjax", "jax"):
        r = _child(name, which, args.scale)
        v = r.pop("version", None)
        version = v if which == "jax" and v else version
        for k, s in r.items():
          if s is not None:
            best[which][k] = min(best[which].get(k, float("inf")), s)
  print(f"# SPMD part 1: pmap dispatch, {N_DEVICES} host devices, {platform.machine()}, "
        f"{os.cpu_count()} cpus, jax {version} (own process), load average "
        f"{os.getloadavg()[0]:.1f} (other processes skew the timings)")
  print(f"{'case':<40}{'pyjax us':>10}{'jax us':>10}{'ratio':>8}")
  print("-" * 68)
  for k in names:
    p, j = best["pyjax"].get(k), best["jax"].get(k)
    if p is None:
      continue
    jm = f"{j * 1e6:10.1f}" if j else f"{'failed':>10}"
    ratio = f"{p / j:8.2f}" if j else f"{'-':>8}"
    print(f"{ROWS[k][0]:<40}{p * 1e6:10.1f}{jm}{ratio}")


if __name__ == "__main__":
  main()

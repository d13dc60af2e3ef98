"""SPMD benchmarks: pyjax vs real JAX, side by side, on 4 host CPU devices.

Run: python bench/bench_spmd.py [--rounds N] [--rows pmap_dispatch,...]
Part 1, pmap dispatch overhead of a tiny per-device function (``x + 1`` on f32[4, 8],
one row per device):
- ``pmap_dispatch``: 2000 chained calls (each fed the previous result, as a training loop
  feeds its state), waited for at the end: the time per call;
- ``pmap_call_wait``: one call waited for, the median of 500;
- ``pmap_psum``: as ``pmap_dispatch`` with ``x / psum(x)`` (a collective per call);
- ``pmap_tree``: as ``pmap_dispatch`` with a pytree of 3 arrays in and out.
Part 2, a data-parallel training step (MLP 784-512-512-10, relu, cross-entropy; global
batch 512 split over the 4 devices; the per-device gradients summed; SGD; parameters
donated; 20 chained steps waited for at the end: the time per step):
- ``dp_sharded``: ``jit`` of the global step, the batch ``NamedSharding(mesh,
  P("batch"))`` and the parameters replicated (``P()``): XLA partitions it over the
  devices; pyjax runs one program over the global arrays;
- ``dp_one_device``: the same global step jitted on one device, nothing sharded;
- ``dp_vmap``: the vectorized one-program design written out: the per-device gradient
  (128 rows) vmapped over a device axis and summed over it (the collective);
- ``dp_threads``: one program per device with in-memory collectives: 4 threads each run
  the per-device jitted gradient on its shard (committed to its device), the gradients
  are summed and applied in NumPy.
Each part-2 child also prints a checksum of the final parameters (all four designs
compute the same thing).
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
import importlib
import time

import numpy as np

# Compiled code from the first call (the eager tier would be timed); children inherit it.
os.environ.setdefault("PYJAX_JIT_TIERING", "off")

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


# ---------------------------------------------------------------- part 2: data parallel

GLOBAL_BATCH = 512
SIZES = (784, 512, 512, 10)
checksums = {}  # row -> sum of the final parameters (printed by the child)


def _mlp_data():
  rng = np.random.default_rng(0)
  params = [(rng.standard_normal((a, b)).astype(np.float32) * np.float32(a ** -0.5),
             np.zeros(b, np.float32)) for a, b in zip(SIZES[:-1], SIZES[1:])]
  x = rng.standard_normal((GLOBAL_BATCH, SIZES[0])).astype(np.float32)
  y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, GLOBAL_BATCH)]
  return params, x, y


def _loss(params, x, y):
  """Cross-entropy summed over the rows given, over the global batch: the devices'
  gradients sum to the global one."""
  h = x
  for w, b in params[:-1]:
    h = jnp.maximum(jnp.dot(h, w) + b, 0.0)
  w, b = params[-1]
  logits = jnp.dot(h, w) + b
  logp = logits - jax.nn.logsumexp(logits, axis=-1, keepdims=True)
  return -jnp.sum(logp * y) / GLOBAL_BATCH


def _sgd(params, grads):
  return jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads)


def _global_step(params, x, y):
  return _sgd(params, jax.grad(_loss)(params, x, y))


def _vmap_step(params, xs, ys):
  grads = jax.vmap(jax.grad(_loss), in_axes=(None, 0, 0))(params, xs, ys)
  return _sgd(params, jax.tree_util.tree_map(lambda g: g.sum(0), grads))


def _steps(name, step, params, n):
  """Times ``n`` chained steps after a first (compiling) one; records the checksum."""
  params = jax.block_until_ready(step(params))
  t = time.perf_counter()
  for _ in range(n):
    params = step(params)
  jax.block_until_ready(params)
  dt = (time.perf_counter() - t) / n
  checksums[name] = float(sum(np.asarray(l, np.float64).sum()
                              for l in jax.tree_util.tree_leaves(params)))
  return dt


def row_dp_sharded(scale):
  from_sharding = importlib.import_module(jax.__name__ + ".sharding")
  P, NamedSharding = from_sharding.PartitionSpec, from_sharding.NamedSharding
  mesh = jax.make_mesh((N_DEVICES,), ("batch",))
  params, x, y = _mlp_data()
  params = jax.device_put(params, NamedSharding(mesh, P()))
  x, y = jax.device_put((x, y), NamedSharding(mesh, P("batch")))
  f = jax.jit(_global_step, donate_argnums=0)
  return _steps("dp_sharded", lambda p: f(p, x, y), params, int(20 * scale))


def row_dp_one_device(scale):
  params, x, y = _mlp_data()
  params, x, y = jax.tree_util.tree_map(jnp.asarray, (params, x, y))
  f = jax.jit(_global_step, donate_argnums=0)
  return _steps("dp_one_device", lambda p: f(p, x, y), params, int(20 * scale))


def row_dp_vmap(scale):
  params, x, y = _mlp_data()
  shape = (N_DEVICES, GLOBAL_BATCH // N_DEVICES)
  params = jax.tree_util.tree_map(jnp.asarray, params)
  xs = jnp.asarray(x.reshape(shape + x.shape[1:]))
  ys = jnp.asarray(y.reshape(shape + (10,)))
  f = jax.jit(_vmap_step, donate_argnums=0)
  return _steps("dp_vmap", lambda p: f(p, xs, ys), params, int(20 * scale))


def row_dp_threads(scale):
  from concurrent.futures import ThreadPoolExecutor
  params, x, y = _mlp_data()
  devs = jax.devices()[:N_DEVICES]
  k = GLOBAL_BATCH // N_DEVICES
  shards = [jax.device_put((x[i * k:(i + 1) * k], y[i * k:(i + 1) * k]), d)
            for i, d in enumerate(devs)]
  grad = jax.jit(jax.grad(_loss))
  pool = ThreadPoolExecutor(N_DEVICES)

  def one(i, params):
    p = jax.device_put(params, devs[i])
    return [np.asarray(g) for g in jax.tree_util.tree_leaves(grad(p, *shards[i]))]

  def step(params):
    parts = list(pool.map(one, range(N_DEVICES), [params] * N_DEVICES))
    total = [sum(gs) for gs in zip(*parts)]  # the all-reduce, in NumPy
    leaves, tree = jax.tree_util.tree_flatten(params)
    return jax.tree_util.tree_unflatten(
        tree, [np.asarray(p) - np.float32(0.01) * g for p, g in zip(leaves, total)])
  try:
    return _steps("dp_threads", step, params, int(20 * scale))
  finally:
    pool.shutdown()


ROWS = {
    "pmap_dispatch": ("pmap dispatch, x+1, chained", row_pmap_dispatch),
    "pmap_call_wait": ("pmap call + wait, x+1", row_pmap_call_wait),
    "pmap_psum": ("pmap dispatch, x/psum(x), chained", row_pmap_psum),
    "pmap_tree": ("pmap dispatch, 3-leaf dict, chained", row_pmap_tree),
    "dp_sharded": ("DP MLP step, jit over sharded batch", row_dp_sharded),
    "dp_one_device": ("DP MLP step, global jit, one device", row_dp_one_device),
    "dp_vmap": ("DP MLP step, vmapped per-device grad", row_dp_vmap),
    "dp_threads": ("DP MLP step, 4 threads + NumPy sum", row_dp_threads),
}
PART2 = [k for k in ROWS if k.startswith("dp_")]


def measure(names, scale):
  """{name: seconds per call} in this process (and the part-2 checksums)."""
  res = {name: ROWS[name][1](scale) for name in names}
  res.update({f"{k}:checksum": v for k, v in checksums.items()})
  return res


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
  sums = {w: {k: best[w].pop(k) for k in list(best[w]) if k.endswith(":checksum")}
          for w in best}
  _print_part1([k for k in names if k not in PART2], best, version)
  _print_part2([k for k in names if k in PART2], best, sums, version)


def _print_part2(names, best, sums, version):
  if not names:
    return
  print(f"# SPMD part 2: data-parallel MLP step, global batch {GLOBAL_BATCH} over "
        f"{N_DEVICES} host devices, {platform.machine()}, {os.cpu_count()} cpus, jax "
        f"{version}, load average {os.getloadavg()[0]:.1f}")
  print(f"{'case':<40}{'pyjax ms':>10}{'jax ms':>10}{'ratio':>8}{'/1dev':>8}"
        f"{'checksum':>12}")
  print("-" * 88)
  one = best["pyjax"].get("dp_one_device")
  for k in names:
    p, j = best["pyjax"].get(k), best["jax"].get(k)
    if p is None:
      continue
    jm = f"{j * 1e3:10.2f}" if j else f"{'failed':>10}"
    ratio = f"{p / j:8.2f}" if j else f"{'-':>8}"
    rel = f"{p / one:8.2f}" if one else f"{'-':>8}"
    print(f"{ROWS[k][0]:<40}{p * 1e3:10.2f}{jm}{ratio}{rel}"
          f"{sums['pyjax'].get(k + ':checksum', float('nan')):12.5f}")


def _print_part1(names, best, version):
  if not names:
    return
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

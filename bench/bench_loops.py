"""Loops compiled to native code (issue 21 item 2), pyjax side by side with real JAX.

1. ``fori_loop`` with dynamic bounds (a ``while``) of 10^5 scalar steps under jit:
   nanoseconds per iteration, and the pyjax/JAX ratio (goal <= 20).
2. ``jax.random.gamma``, ``poisson`` and ``binomial`` under jit, 10^6 samples: the
   steady-state time of a call and the pyjax/JAX ratio (goal <= 1.5), and each one's
   first-call (compile) time. ``poisson(arg)`` passes the rates as an argument: with a
   constant rate both compilers fold ``lam < 10`` and drop the loop it does not select.
3. A ``while`` of 200 steps over a 10^6-float carry (a ``stablehlo.while``: the body is a
   whole-array op), its predicate on a scalar counter or reducing the carry: time per
   step. ``PYJAX_IREE_PLACE_LOOPS=0`` gives the figures before issue 21 item 4.

Run: python bench/bench_loops.py [--quick] [--only NAME]
Timings are the best of interleaved repeats. The machine is shared: wall times swing
with the other processes' load (printed), so each case also gives the best process CPU
time (all threads; IREE's and XLA's worker pools run in this process) and its ratio,
which the load moves much less.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import pyjax

try:
  import jax
  jax.config.update("jax_platforms", "cpu")
except Exception:  # real JAX is optional here
  jax = None


STEPS = 200  # of the loops over a big carry


def _block(x):
  if hasattr(x, "block_until_ready"):
    x.block_until_ready()
  return x


def _cases(mod, n_samples):
  lax, random, jnp = mod.lax, mod.random, mod.numpy

  def fori(n, x):
    return lax.fori_loop(0, n, lambda i, c: c * 0.999999 + 1e-6, x)

  def gamma(key):
    return random.gamma(key, 2.5, (n_samples,))

  def poisson(key):
    return random.poisson(key, 4.0, (n_samples,))

  def poisson_big(key):
    return random.poisson(key, 30.0, (n_samples,))

  def poisson_arg(key, lam):
    return random.poisson(key, lam, (n_samples,))

  def binomial(key):
    return random.binomial(key, 20.0, 0.3, (n_samples,))

  def carry_counter(n, x):
    return lax.while_loop(lambda c: c[0] < n,
                          lambda c: (c[0] + 1, c[1] * 0.999 + 1e-3), (0, x))[1]

  def carry_reduce(lim, x):
    return lax.while_loop(lambda c: (c < lim).any(), lambda c: c + 0.005, x)

  key = random.key(0)
  zeros = jnp.zeros((1_000_000,), jnp.float32)
  lams = jnp.where(jnp.arange(n_samples) % 2 == 0, 4.0, 30.0).astype(jnp.float32)
  return {"fori_loop (per iteration)": (mod.jit(fori), (jnp.int32(100_000),
                                                        jnp.float32(0.5))),
          "gamma(2.5)": (mod.jit(gamma), (key,)),
          "poisson(4)": (mod.jit(poisson), (key,)),
          "poisson(30)": (mod.jit(poisson_big), (key,)),
          "poisson(arg: 4 and 30)": (mod.jit(poisson_arg), (key, lams)),
          "binomial(20, 0.3)": (mod.jit(binomial), (key,)),
          "while 1e6 carry, counter": (mod.jit(carry_counter), (jnp.int32(STEPS), zeros)),
          "while 1e6 carry, any()": (mod.jit(carry_reduce),
                                     (jnp.float32(STEPS * 0.005 - 1e-3), zeros))}


def _per(case):
  """(scale to the unit, the unit) of a case's times."""
  if case.startswith("fori"):
    return 1e9 / 100_000, "ns"
  if case.startswith("while"):
    return 1e3 / STEPS, "ms"
  return 1e3, "ms"


def _time(calls, reps):
  """{name: (best wall time, best process CPU time)} of ``reps`` rounds of the calls
  ``{name: (fn, args)}``, interleaved."""
  best = {name: (float("inf"), float("inf")) for name in calls}
  for _ in range(reps):
    for name, (fn, args) in calls.items():
      t, c = time.perf_counter(), time.process_time()
      _block(fn(*args))
      t, c = time.perf_counter() - t, time.process_time() - c
      best[name] = (min(best[name][0], t), min(best[name][1], c))
  return best


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--quick", action="store_true")
  ap.add_argument("--only", default="")
  a = ap.parse_args()
  pyjax.config.update("pyjax_jit_tiering", "off")  # compiled code, not the eager tier
  n = 100_000 if a.quick else 1_000_000
  reps = 3 if a.quick else 5
  mods = [("pyjax", pyjax)] + ([("jax", jax)] if jax is not None else [])
  cases = {name: _cases(m, n) for name, m in mods}
  print(f"{platform.node()} {platform.machine()}, {os.cpu_count()} cpus, {n} samples, "
        f"load average {os.getloadavg()[0]:.2f}")
  print(f"{'case':24s} {'pyjax':>10s} {'jax':>10s} {'ratio':>6s} {'cpu pyjax':>10s} "
        f"{'cpu jax':>10s} {'ratio':>6s}   first call pyjax / jax")
  for case in cases["pyjax"]:
    if a.only and a.only not in case:
      continue
    first = {}
    for name, _ in mods:
      fn, args = cases[name][case]
      t = time.perf_counter()
      _block(fn(*args))
      first[name] = time.perf_counter() - t
    row = _time({name: cases[name][case] for name, _ in mods}, reps)
    scale, unit = _per(case)
    nan = (float("nan"), float("nan"))
    (pj, pc), (jx, jc) = ([v * scale for v in row.get(m, nan)] for m in ("pyjax", "jax"))
    print(f"{case:24s} {pj:8.2f}{unit} {jx:8.2f}{unit} {pj / jx:6.2f} {pc:8.2f}{unit} "
          f"{jc:8.2f}{unit} {pc / jc:6.2f}   "
          f"{first['pyjax']:.2f}s / {first.get('jax', float('nan')):.2f}s")
  print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
  main()

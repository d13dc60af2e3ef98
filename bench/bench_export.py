"""Calling a deserialized ``jax.export`` MLP forward vs the jitted original, pyjax vs JAX.

Run: python bench/bench_export.py [--rounds N] [--calls N]
The function: ``predict(params, x)`` of a 784-512-512-10 MLP (relu, float32), batch 128,
the parameters passed as a pytree argument. Each side, in a child process (``--child``):
the jitted original, and the Exported (exported, serialized, deserialized: pyjax's
format; JAX's needs the ``flatbuffers`` package, and without it JAX's row calls the
Exported it made, not a deserialized one) called on the same arrays, each call waited
for; the per-call time is the median of ``--calls`` calls after a warm-up, each figure
the best of the rounds. Rounds alternate pyjax and JAX. The ratio column is exported /
jitted on the same side; the last column pyjax's exported call / JAX's.
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

# Compiled code from the first call (the eager tier would be timed); children inherit it.
os.environ.setdefault("PYJAX_JIT_TIERING", "off")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # this checkout's pyjax, not an installed one


def _child(side: str, calls: int) -> dict:
  import numpy as np
  if side == "pyjax":
    import pyjax as jax
    import pyjax.numpy as jnp
    from pyjax import export
  else:
    import jax
    import jax.numpy as jnp
    from jax import export
  rng = np.random.RandomState(0)
  sizes = [784, 512, 512, 10]
  params = [(rng.randn(m, n).astype(np.float32) / np.sqrt(m), np.zeros(n, np.float32))
            for m, n in zip(sizes[:-1], sizes[1:])]
  params = jax.device_put(params)
  x = jax.device_put(rng.randn(128, 784).astype(np.float32))

  def predict(params, x):
    for w, b in params[:-1]:
      x = jnp.maximum(x @ w + b, 0)
    w, b = params[-1]
    return x @ w + b

  jitted = jax.jit(predict)
  exp = export.export(jitted)(params, x)
  deserialized = True
  try:
    exp = export.deserialize(exp.serialize())
  except ImportError:  # JAX without flatbuffers
    deserialized = False
  call = exp.call

  def timed(f):
    for _ in range(5):
      f(params, x).block_until_ready()
    ts = []
    for _ in range(calls):
      t = time.perf_counter()
      f(params, x).block_until_ready()
      ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e6

  out = np.asarray(call(params, x))
  np.testing.assert_allclose(out, np.asarray(jitted(params, x)), rtol=1e-4, atol=1e-4)
  return {"jit": timed(jitted), "exported": timed(call), "deserialized": deserialized}


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--rounds", type=int, default=3)
  ap.add_argument("--calls", type=int, default=200)
  ap.add_argument("--child")
  a = ap.parse_args()
  if a.child:
    print(json.dumps(_child(a.child, a.calls)))
    return
  best: dict = {}
  for _ in range(a.rounds):
    for side in ("pyjax", "jax"):
      r = subprocess.run([sys.executable, __file__, "--child", side, "--calls",
                          str(a.calls)], capture_output=True, text=True, cwd=ROOT)
      if r.returncode:
        sys.exit(f"{side} child failed:\n{r.stderr}")
      res = json.loads(r.stdout.strip().splitlines()[-1])
      b = best.setdefault(side, res)
      for k in ("jit", "exported"):
        b[k] = min(b[k], res[k])
  print(f"MLP 784-512-512-10 forward, batch 128, float32; {platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; us per call, best of "
        f"{a.rounds} rounds (median of {a.calls} calls)")
  print(f"{'side':<8}{'jit(f)':>10}{'exported':>10}{'exp/jit':>9}{'vs JAX exp':>12}")
  for side in ("pyjax", "jax"):
    b = best[side]
    note = "" if b["deserialized"] else "  (JAX: not deserialized, no flatbuffers)"
    vs = b["exported"] / best["jax"]["exported"]
    print(f"{side:<8}{b['jit']:>10.1f}{b['exported']:>10.1f}"
          f"{b['exported'] / b['jit']:>9.2f}{vs:>12.2f}{note}")


if __name__ == "__main__":
  main()

"""Max-pool benchmark: pyjax vs real JAX (when installed), side by side.

Run: python bench/bench_pool.py
A (16, 32, 64, 64) float32 NCHW array; max pools 2x2 stride 2 (VALID) and 3x3 stride
2 (SAME) via ``lax.reduce_window(x, -inf, lax.max, ...)``. Times the jitted forward +
backward (``value_and_grad`` of ``sum(maxpool(x))``) and the eager forward; prints
each time and pyjax / JAX (lower is better for pyjax). Also times the jitted forward
alone, to split the backward's share.
"""
from __future__ import annotations

import os

import platform
import timeit

import numpy as np

os.environ.setdefault("PYJAX_JIT_TIERING", "off")  # time compiled code, not the eager tier
import pyjax
import pyjax.lax as plax

try:
  import jax
  import jax.lax as jlax
  jax.config.update("jax_platforms", "cpu")
except Exception:  # real JAX is optional
  jax = jlax = None

SHAPE = (16, 32, 64, 64)
POOLS = {"2x2 s2 VALID": ((1, 1, 2, 2), (1, 1, 2, 2), "VALID"),
         "3x3 s2 SAME": ((1, 1, 3, 3), (1, 1, 2, 2), "SAME")}


def _time(fn, number, repeat=5):
  fn()
  return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e3  # ms


def _fns(mod, lax, window):
  wd, ws, pad = window

  def pool(x):
    return lax.reduce_window(x, -np.inf, lax.max, wd, ws, pad)
  fwd_bwd = mod.jit(mod.value_and_grad(lambda x: pool(x).sum()))
  return pool, mod.jit(pool), fwd_bwd


def main():
  x = np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)
  rows = []
  for name, window in POOLS.items():
    libs = [("pyjax", pyjax, plax)] + ([("jax", jax, jlax)] if jax is not None else [])
    res = {}
    for lib, mod, lax in libs:
      xa = mod.numpy.asarray(x)
      pool, jpool, fb = _fns(mod, lax, window)
      t_fb = _time(lambda: mod.block_until_ready(fb(xa)), 5)
      t_jf = _time(lambda: mod.block_until_ready(jpool(xa)), 5)
      t_ef = _time(lambda: mod.block_until_ready(pool(xa)), 3)
      res[lib] = (t_fb, t_jf, t_ef)
      if lib == "jax":  # same numbers
        pv, pg = res["pyjax_out"]
        jv, jg = fb(xa)
        assert np.allclose(pv, jv, rtol=1e-5) and np.array_equal(pg, np.asarray(jg)), name
      else:
        v, g = fb(xa)
        res["pyjax_out"] = (np.asarray(v), np.asarray(g))
    for i, what in enumerate(("jit value_and_grad", "jit forward", "eager forward")):
      p = res["pyjax"][i]
      j = res["jax"][i] if "jax" in res else float("nan")
      rows.append((name, what, p, j, p / j))
  print(f"max pool on {SHAPE} float32, {platform.processor() or platform.machine()}")
  print(f"{'pool':14} {'what':20} {'pyjax ms':>10} {'jax ms':>10} {'pyjax/jax':>10}")
  for name, what, p, j, r in rows:
    print(f"{name:14} {what:20} {p:10.2f} {j:10.2f} {r:10.2f}")


if __name__ == "__main__":
  main()

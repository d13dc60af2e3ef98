"""Eager (un-jitted) reverse-mode benchmark: pyjax vs real JAX (when installed).

Run: python bench/bench_grad.py
MLP 16-32-32-4 (tanh), batch 8, mean-squared loss. Reports the eager grad time,
the forward time and their ratio (reverse mode should cost a small constant
multiple of the forward pass), and pyjax's speed-up over JAX's eager grad.
"""
from __future__ import annotations

import os

import platform
import timeit

import numpy as np

os.environ.setdefault("PYJAX_JIT_TIERING", "off")  # time compiled code, not the eager tier
import pyjax
import pyjax.numpy as pnp

try:
  import jax
  import jax.numpy as jjnp
  jax.config.update("jax_platforms", "cpu")
except Exception:  # real JAX is optional
  jax = jjnp = None


def _time(fn, number):
  fn()
  return min(timeit.repeat(fn, number=number, repeat=7)) / number * 1e3  # ms


def make(np_, sizes=(16, 32, 32, 4), batch=8, seed=0):
  rng = np.random.default_rng(seed)
  params = [(np_.asarray(rng.standard_normal((m, n)).astype(np.float32) * 0.3),
             np_.asarray(rng.standard_normal(n).astype(np.float32) * 0.1))
            for m, n in zip(sizes[:-1], sizes[1:])]
  x = np_.asarray(rng.standard_normal((batch, sizes[0])).astype(np.float32))
  y = np_.asarray(rng.standard_normal((batch, sizes[-1])).astype(np.float32))

  def loss(params):
    h = x
    for w, b in params[:-1]:
      h = np_.tanh(h @ w + b)
    w, b = params[-1]
    return np_.mean((h @ w + b - y) ** 2)
  return loss, params


def _block(tree, mod):
  for leaf in mod.tree_util.tree_leaves(tree):
    leaf.block_until_ready()


def main():
  rows = []
  loss, params = make(pnp)
  fwd = _time(lambda: _block(loss(params), pyjax), 200)
  grd = _time(lambda: _block(pyjax.grad(loss)(params), pyjax), 100)
  rows.append(("pyjax", fwd, grd))
  if jax is not None:
    jloss, jparams = make(jjnp)
    jf = _time(lambda: _block(jloss(jparams), jax), 50)
    jg = _time(lambda: _block(jax.grad(jloss)(jparams), jax), 20)
    rows.append(("jax (eager)", jf, jg))
  print(f"eager MLP 16-32-32-4, batch 8 ({platform.processor() or platform.machine()}, "
        f"numpy {np.__version__}{', jax ' + jax.__version__ if jax else ''})")
  print(f"{'':14s}{'forward ms':>12s}{'grad ms':>12s}{'grad/fwd':>10s}")
  for name, f, g in rows:
    print(f"{name:14s}{f:12.3f}{g:12.3f}{g / f:10.2f}")
  if len(rows) == 2:
    print(f"pyjax eager grad is {rows[1][2] / rows[0][2]:.1f}x faster than JAX's eager grad")


if __name__ == "__main__":
  main()

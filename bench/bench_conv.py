"""Convolution benchmark: pyjax vs real JAX (when installed), side by side.

Run: python bench/bench_conv.py
A (16, 3, 64, 64) NCHW float32 batch with 32 3x3 OIHW filters, SAME padding: eager
forward, jit forward, and jit value_and_grad of the output's sum w.r.t. both operands.
"""
from __future__ import annotations

import os
import platform
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

os.environ.setdefault("PYJAX_JIT_TIERING", "off")  # time compiled code, not the eager tier
import pyjax
import pyjax.lax as plax

try:
  import jax
  import jax.lax as jlax
  jax.config.update("jax_platforms", "cpu")
except Exception:  # real JAX is optional
  jax = jlax = None


def _time(fn, number=20, repeat=7):
  fn()
  return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e3  # ms


def _block(tree, mod):
  for leaf in mod.tree_util.tree_leaves(tree):
    leaf.block_until_ready()


def cases(mod, lax, x, w):
  conv = lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "SAME")
  fwd = mod.jit(conv)
  vg = mod.jit(mod.value_and_grad(lambda x, w: conv(x, w).sum(), (0, 1)))
  xd, wd = mod.numpy.asarray(x), mod.numpy.asarray(w)
  return {
      "eager forward": lambda: _block(conv(xd, wd), mod),
      "jit forward": lambda: _block(fwd(xd, wd), mod),
      "jit value_and_grad": lambda: _block(vg(xd, wd), mod),
  }


def main():
  rng = np.random.default_rng(0)
  x = rng.standard_normal((16, 3, 64, 64)).astype(np.float32)
  w = rng.standard_normal((32, 3, 3, 3)).astype(np.float32)
  ours = {k: _time(f) for k, f in cases(pyjax, plax, x, w).items()}
  theirs = {k: _time(f) for k, f in cases(jax, jlax, x, w).items()} if jax else {}
  print(f"conv (16,3,64,64) x (32,3,3,3) SAME float32 "
        f"({platform.processor() or platform.machine()}, numpy {np.__version__}"
        f"{', jax ' + jax.__version__ if jax else ''})")
  print(f"{'':22s}{'pyjax ms':>10s}{'jax ms':>10s}{'pyjax/jax':>11s}")
  for k, t in ours.items():
    j = theirs.get(k, float("nan"))
    print(f"{k:22s}{t:10.3f}{j:10.3f}{t / j:11.2f}")


if __name__ == "__main__":
  main()

"""jax.nn benchmark: pyjax (IREE) vs real JAX (XLA) under jit, side by side.

Run: python bench/bench_nn.py [--quick]
Rows: ``nn.dot_product_attention`` (batch 8, 512 tokens, 8 heads, 64 dims, float32;
plain and causal), ``nn.softmax`` and ``nn.gelu`` (tanh approximation and exact) of a
(256, 4096) float32 array. Each timed call is waited for (``block_until_ready``).

JAX's rows run in a child process (``--jax-rows``), as in bench_jit.py: XLA's and
IREE's worker threads in one process contend for the cores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("PYJAX_JIT_TIERING", "off")  # time compiled code, not the eager tier
import pyjax  # noqa: E402
import pyjax.nn  # noqa: E402


def _inputs():
  r = np.random.default_rng(0)
  q, k, v = (r.standard_normal((8, 512, 8, 64)).astype(np.float32) for _ in "qkv")
  x = r.standard_normal((256, 4096)).astype(np.float32)
  return (q, k, v), x


def _cases(nn):
  return {
      "attention B8 T512 N8 H64": (lambda q, k, v: nn.dot_product_attention(q, k, v),
                                   "qkv"),
      "attention causal": (lambda q, k, v: nn.dot_product_attention(q, k, v,
                                                                    is_causal=True), "qkv"),
      "softmax (256, 4096)": (lambda x: nn.softmax(x), "x"),
      "gelu tanh (256, 4096)": (lambda x: nn.gelu(x), "x"),
      "gelu exact (256, 4096)": (lambda x: nn.gelu(x, approximate=False), "x"),
  }


def _time(fn, number, repeat=5):
  fn()
  return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e3  # ms


def rows(mod, nn, quick):
  (q, k, v), x = _inputs()
  out = {}
  for name, (f, kind) in _cases(nn).items():
    jf = mod.jit(f)
    args = [mod.numpy.asarray(a) for a in ((q, k, v) if kind == "qkv" else (x,))]
    number = 1 if quick else (3 if kind == "qkv" else 20)
    out[name] = _time(lambda: jf(*args).block_until_ready(), number,
                      repeat=2 if quick else 5)
  return out


def jax_rows(quick):
  import jax
  import jax.nn
  jax.config.update("jax_platforms", "cpu")
  return rows(jax, jax.nn, quick)


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--quick", action="store_true")
  ap.add_argument("--jax-rows", action="store_true", help=argparse.SUPPRESS)
  args = ap.parse_args()
  if args.jax_rows:
    print(json.dumps(jax_rows(args.quick)))
    return
  cmd = [sys.executable, os.path.abspath(__file__), "--jax-rows"] + (
      ["--quick"] if args.quick else [])
  r = subprocess.run(cmd, capture_output=True, text=True)
  theirs = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {}
  ours = rows(pyjax, pyjax.nn, args.quick)
  print(f"# jax.nn under jit, {platform.machine()}, {os.cpu_count()} cpus")
  print(f"{'case':<28}{'pyjax ms':>11}{'jax ms':>11}{'pyjax/jax':>11}")
  print("-" * 61)
  for name, p in ours.items():
    j = theirs.get(name)
    js = f"{j:11.3f}" if j else f"{'-':>11}"
    ratio = f"{p / j:11.2f}" if j else f"{'-':>11}"
    print(f"{name:<28}{p:11.3f}{js}{ratio}")


if __name__ == "__main__":
  main()

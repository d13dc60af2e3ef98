"""Eager-dispatch benchmark: pyjax vs NumPy vs real JAX (when installed), one table.

Run: python bench/bench_eager.py [--quick]
Small arrays measure per-op overhead; large arrays measure throughput, where
pyjax should run at NumPy speed (it calls the same NumPy kernels).
"""
from __future__ import annotations

import argparse
import platform
import timeit

import numpy as np

import pyjax.numpy as pnp

try:
  import jax
  import jax.numpy as jjnp
  jax.config.update("jax_platforms", "cpu")
except Exception:  # real JAX is optional here
  jax = jjnp = None


def _time(fn, number):
  fn()  # warm up (JAX compiles its per-op kernels on first use)
  best = min(timeit.repeat(fn, number=number, repeat=5))
  return best / number * 1e6  # microseconds


def _block(x):
  return x.block_until_ready() if hasattr(x, "block_until_ready") else x


CASES = [
    # name, size, builder(mod, x) -> callable
    ("sin(x)            n=4", 4, lambda m, x: lambda: _block(m.sin(x))),
    ("x + x             n=4", 4, lambda m, x: lambda: _block(x + x)),
    ("x * 2.0           n=4", 4, lambda m, x: lambda: _block(x * 2.0)),
    ("sum(x)            n=4", 4, lambda m, x: lambda: _block(m.sum(x))),
    ("dot(a, a)      4x4", 16, lambda m, x: (lambda a: lambda: _block(m.dot(a, a)))(x.reshape(4, 4))),
    ("sin(x)          n=1e6", 10**6, lambda m, x: lambda: _block(m.sin(x))),
    ("x + x           n=1e6", 10**6, lambda m, x: lambda: _block(x + x)),
    ("exp(x)          n=1e6", 10**6, lambda m, x: lambda: _block(m.exp(x))),
    ("sum(x)          n=1e6", 10**6, lambda m, x: lambda: _block(m.sum(x))),
]


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--quick", action="store_true")
  args = ap.parse_args()
  rng = np.random.default_rng(0)
  print(f"# eager dispatch, {platform.processor() or platform.machine()}, "
        f"numpy {np.__version__}, jax {getattr(jax, '__version__', 'absent')}")
  hdr = f"{'op':24s} {'pyjax us':>10s} {'numpy us':>10s} {'jax us':>10s} {'pyjax/np':>9s} {'pyjax/jax':>10s}"
  print(hdr)
  print("-" * len(hdr))
  for name, n, build in CASES:
    base = rng.normal(size=n).astype(np.float32)
    number = 20000 if n < 1000 else 20
    if args.quick:
      number = max(number // 10, 2)
    t_np = _time(build(np, base), number)
    t_pj = _time(build(pnp, pnp.asarray(base)), number)
    t_jx = _time(build(jjnp, jjnp.asarray(base)), number) if jjnp is not None else float("nan")
    print(f"{name:24s} {t_pj:10.2f} {t_np:10.2f} {t_jx:10.2f} {t_pj / t_np:9.2f} "
          f"{t_pj / t_jx:10.2f}")


if __name__ == "__main__":
  main()

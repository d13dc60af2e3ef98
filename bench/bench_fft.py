"""FFT benchmark: jitted jnp.fft in pyjax vs real JAX (XLA's DUCC) vs numpy.fft.

Programs: fft of 2^20 complex64, rfft of 2^20 float32, fft over the last axis of a
(64, 1024) complex64 batch. Target: jit fft 2^20 complex64 <= 1.5x JAX.

Run: python bench/bench_fft.py [--quick]
Timings are the best of interleaved repeats (the machine is shared); ms per call.
"""
from __future__ import annotations

import os

import argparse
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
except Exception:  # real JAX is optional here
  jax = jjnp = None


def _block(x):
  return x.block_until_ready() if hasattr(x, "block_until_ready") else x


def _inputs(rng):
  n = 2 ** 20
  c = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
  r = rng.standard_normal(n).astype(np.float32)
  b = (rng.standard_normal((64, 1024)) + 1j * rng.standard_normal((64, 1024))).astype(
      np.complex64)
  return {"fft 2^20 c64": ("fft", c), "rfft 2^20 f32": ("rfft", r),
          "fft (64,1024) c64": ("fft", b)}


def _programs(mod, np_mod, inputs):
  progs = {}
  for name, (fn, x) in inputs.items():
    if mod is np:
      f, a = getattr(np.fft, fn), x
      progs[name] = (lambda f=f, a=a: f(a))
    else:
      f, a = mod.jit(getattr(np_mod.fft, fn)), np_mod.asarray(x)
      _block(f(a))
      progs[name] = (lambda f=f, a=a: _block(f(a)))
  return progs


def _check(inputs):
  """pyjax's jitted results vs float64 NumPy (max error relative to the largest value)."""
  for name, (fn, x) in inputs.items():
    got = np.asarray(pyjax.jit(getattr(pnp.fft, fn))(x))
    ref = getattr(np.fft, fn)(x.astype(np.complex128 if fn == "fft" else np.float64))
    print(f"# {name}: max error / max |X| = "
          f"{np.max(np.abs(got - ref)) / np.max(np.abs(ref)):.1e}")


def _measure(progs, number, rounds):
  best = {k: float("inf") for k in progs}
  for _ in range(rounds):  # interleave, so noise hits every program alike
    for k, fn in progs.items():
      best[k] = min(best[k], timeit.timeit(fn, number=number) / number * 1e3)
  return best


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--quick", action="store_true")
  args = ap.parse_args()
  number, rounds = (3, 3) if args.quick else (10, 7)
  inputs = _inputs(np.random.default_rng(1701))
  print(f"# fft, {platform.processor() or platform.machine()}, numpy {np.__version__}, "
        f"jax {getattr(jax, '__version__', 'absent')}")
  _check(inputs)
  results = {"pyjax": _programs(pyjax, pnp, inputs), "numpy": _programs(np, np, inputs)}
  if jax is not None:
    results["jax"] = _programs(jax, jjnp, inputs)
  allp = {(m, k): fn for m, progs in results.items() for k, fn in progs.items()}
  best = _measure(allp, number, rounds)
  mods = list(results)
  hdr = f"{'program':20s}" + "".join(f"{m + ' ms':>12s}" for m in mods)
  if jax is not None:
    hdr += f"{'pyjax/jax':>11s}"
  print(hdr)
  for k in inputs:
    row = f"{k:20s}" + "".join(f"{best[(m, k)]:12.2f}" for m in mods)
    if jax is not None:
      row += f"{best[('pyjax', k)] / best[('jax', k)]:11.2f}"
    print(row)


if __name__ == "__main__":
  main()

"""Control-flow benchmark (issue 6), pyjax side by side with real JAX (when installed).

1. A 200-step ``scan`` RNN (hidden 256, input 64, batch 16), forward + backward under
   ``jit(value_and_grad)``: the pyjax/JAX ratio must stay <= 1.3.
2. ``fori_loop`` of 10^5 scalar steps under jit (a ``while`` in compiled code, no Python per
   iteration): microseconds per iteration. Dynamic bounds make it a while loop; static
   bounds a scan.
Also the eager cost of a small scan (Python evaluation of the body per step).

Run: python bench/bench_control_flow.py [--quick]
Timings are the best of interleaved repeats (the machine is shared).
"""
from __future__ import annotations

import os

import argparse
import platform
import time
import timeit

import numpy as np

os.environ.setdefault("PYJAX_JIT_TIERING", "off")  # time compiled code, not the eager tier
import pyjax

try:
  import jax
  jax.config.update("jax_platforms", "cpu")
except Exception:  # real JAX is optional here
  jax = None

T, H, I, B = 200, 256, 64, 16
N_FORI = 100_000


def _block(x):
  for leaf in (x if isinstance(x, (tuple, list)) else [x]):
    for y in (leaf if isinstance(leaf, (tuple, list)) else [leaf]):
      if hasattr(y, "block_until_ready"):
        y.block_until_ready()
  return x


def _rnn(mod):
  jnp, lax = mod.numpy, mod.lax

  def loss(params, xs, h0):
    W, U, b, V = params

    def step(h, x):
      h = jnp.tanh(h @ W + x @ U + b)
      return h, h @ V

    h, ys = lax.scan(step, h0, xs)
    return jnp.mean(ys ** 2) + jnp.mean(h ** 2)

  return mod.jit(mod.value_and_grad(loss))


def _fori(mod, static):
  lax = mod.lax
  body = lambda i, x: x * 0.999999 + 1e-6
  if static:
    return mod.jit(lambda x: lax.fori_loop(0, N_FORI, body, x))
  return mod.jit(lambda n, x: lax.fori_loop(0, n, body, x))


def _measure(progs, number, rounds):
  best = {k: float("inf") for k in progs}
  for _ in range(rounds):
    for k, fn in progs.items():
      best[k] = min(best[k], timeit.timeit(fn, number=number) / number)
  return best


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--quick", action="store_true")
  args = ap.parse_args()
  rounds = 3 if args.quick else 7
  rng = np.random.default_rng(0)
  params = tuple((rng.normal(size=s) * 0.05).astype(np.float32)
                 for s in [(H, H), (I, H), (H,), (H, 8)])
  xs = rng.normal(size=(T, B, I)).astype(np.float32)
  h0 = np.zeros((B, H), np.float32)
  mods = [("pyjax", pyjax)] + ([("jax", jax)] if jax is not None else [])
  progs, compile_s = {}, {}
  for name, mod in mods:
    f = _rnn(mod)
    p, x, h = (tuple(mod.numpy.asarray(a) for a in params), mod.numpy.asarray(xs),
               mod.numpy.asarray(h0))
    t0 = time.perf_counter()
    _block(f(p, x, h))
    compile_s[f"{name} rnn"] = time.perf_counter() - t0
    progs[f"{name} rnn"] = (lambda f=f, p=p, x=x, h=h: _block(f(p, x, h)))
    fs, fd = _fori(mod, True), _fori(mod, False)
    one = mod.numpy.float32(1.0)
    t0 = time.perf_counter()
    _block(fs(one)), _block(fd(N_FORI, one))
    compile_s[f"{name} fori"] = time.perf_counter() - t0
    progs[f"{name} fori static"] = (lambda fs=fs, one=one: _block(fs(one)))
    progs[f"{name} fori dynamic"] = (lambda fd=fd, one=one: _block(fd(N_FORI, one)))
  best = _measure(progs, 1 if args.quick else 3, rounds)
  v_ours, v_jax = (_rnn(pyjax)(tuple(pyjax.numpy.asarray(a) for a in params),
                               pyjax.numpy.asarray(xs), pyjax.numpy.asarray(h0))[0], None)
  print(f"# {platform.node()} {time.strftime('%Y-%m-%d')}, {platform.processor() or 'cpu'}")
  print(f"{'case':34s} {'pyjax':>12s} {'jax':>12s} {'ratio':>7s}")
  rows = [("scan RNN T=200 H=256 fwd+bwd (ms)", "rnn", 1e3),
          ("fori_loop 1e5 static (us/iter)", "fori static", 1e6 / N_FORI),
          ("fori_loop 1e5 dynamic (us/iter)", "fori dynamic", 1e6 / N_FORI)]
  for label, key, scale in rows:
    ours = best[f"pyjax {key}"] * scale
    theirs = best.get(f"jax {key}")
    if theirs is None:
      print(f"{label:34s} {ours:12.3f} {'-':>12s} {'-':>7s}")
    else:
      theirs *= scale
      print(f"{label:34s} {ours:12.3f} {theirs:12.3f} {ours / theirs:7.2f}")
  for k, v in compile_s.items():
    print(f"# first call (trace+compile) {k}: {v:.2f} s")
  if jax is not None:
    v_jax = _rnn(jax)(params, xs, h0)[0]
    print(f"# loss pyjax {float(v_ours):.7g} jax {float(v_jax):.7g}")


if __name__ == "__main__":
  main()

"""dispatch: the compiled call path's caches stay bounded under repeated transformations."""
from __future__ import annotations

import gc
import os
import resource

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax._src import dispatch, pjit
from pyjax._src.backends import iree


@pytest.fixture(autouse=True)
def cache_dir(tmp_path):
  old = pyjax.config.jax_compilation_cache_dir
  pyjax.config.update("jax_compilation_cache_dir", str(tmp_path))
  yield tmp_path
  pyjax.config.update("jax_compilation_cache_dir", old)


def _rss_mb() -> float:
  try:
    with open("/proc/self/statm") as f:
      return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
  except OSError:  # not Linux: the peak (it grows with a leak too)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def test_repeated_grad_vmap_and_fresh_jits_keep_memory_flat():
  """grad(jit(f)) and vmap(jit(f)) stage new jaxprs on every call; each used to keep its
  compiled program forever (~90 KB a grad call). 5,000 calls: growth stays small."""
  jf = pyjax.jit(lambda x: jnp.sin(x).sum())
  x = jnp.arange(4.0)
  xs = jnp.ones((3, 4))
  g, v = pyjax.grad(jf), pyjax.vmap(jf)

  def loop(n):
    for _ in range(n):
      g(x)
    for _ in range(n):
      v(xs)
    for i in range(n // 2):  # a fresh jitted function each time
      pyjax.jit(lambda a: a * 2.0 + 1.0)(x)

  loop(50)  # warm up (first compiles, allocator pools)
  gc.collect()
  before, modules = _rss_mb(), len(iree._mem_cache)
  programs = len(dispatch._by_jaxpr)  # (other tests' live functions keep theirs)
  loop(2000)
  gc.collect()
  grown = _rss_mb() - before
  assert grown < 20, f"RSS grew by {grown:.1f} MB over 5,000 calls"
  assert len(dispatch._by_jaxpr) <= programs + 4  # the jaxprs died with their calls
  assert len(iree._mem_cache) == modules  # the same few programs, by content
  np.testing.assert_allclose(np.asarray(g(x)), np.cos(np.arange(4.0)), rtol=1e-6)
  np.testing.assert_allclose(np.asarray(v(xs)), [4 * np.sin(1.0)] * 3, rtol=1e-6)


def test_compiled_call_cache_is_bounded_for_live_jaxprs(monkeypatch):
  """Jaxprs kept alive elsewhere keep their programs only up to the cache's bound."""
  monkeypatch.setattr(dispatch, "_by_jaxpr", dispatch.WeakLRUCache(3))
  closed = [pyjax.make_jaxpr(lambda a: a + 1.0)(1.0) for _ in range(5)]  # one text
  outs = [dispatch.run_closed_jaxpr(c, "f", [np.float32(k)])[0] for k, c in
          enumerate(closed)]
  assert [float(o) for o in outs] == [1.0, 2.0, 3.0, 4.0, 5.0]
  assert len(dispatch._by_jaxpr) == 3
  hit = dispatch._by_jaxpr.get(closed[4], ())
  assert hit is not None and dispatch._by_jaxpr.get(closed[0], ()) is None
  assert float(dispatch.run_closed_jaxpr(closed[4], "f", [np.float32(2.0)])[0]) == 3.0
  assert dispatch._by_jaxpr.get(closed[4], ()) is hit  # reused, not recompiled
  del closed[4]
  gc.collect()
  assert len(dispatch._by_jaxpr) == 2  # its entry went with the jaxpr


def test_jit_signature_cache_is_bounded(monkeypatch):
  monkeypatch.setattr(pjit, "MAX_SIGNATURES", 4)
  f = pyjax.jit(lambda a: a.sum())
  for n in range(1, 11):
    assert f.eval_shape(jnp.ones(n)).shape == ()
  assert len(f._cache) == 4
  assert float(f(jnp.ones(11))) == 11.0  # the call path's insertion is bounded too
  assert len(f._cache) == 4


def test_wait_for_tokens_is_registered_at_exit_as_jax():
  """Equinox swaps `jax._src.dispatch.wait_for_tokens` for its own at-exit function:
  it must be callable and registered to run at exit (as in JAX)."""
  import pathlib
  import subprocess
  import sys
  assert dispatch.wait_for_tokens() is None
  code = ("import atexit, sys, jax._src.dispatch as d\n"
          "d.wait_for_tokens.__code__ = (lambda: print('waited')).__code__\n"
          "if sys.argv[1] == 'off': atexit.unregister(d.wait_for_tokens)\n")
  root = pathlib.Path(__file__).resolve().parents[2]
  for arg, out in (("on", "waited\n"), ("off", "")):
    r = subprocess.run([sys.executable, "-m", "pyjax", "-c", code, arg], cwd=root,
                       capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stdout) == (0, out), r.stderr

"""dispatch: tiered execution. A jitted function's first calls run eagerly while IREE
compiles it in the background; the compiled program takes over once it is ready."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax import lax
from pyjax._src import dispatch
from pyjax._src.backends import iree


@pytest.fixture
def gate(tmp_path, monkeypatch):
  """Tiering on, an empty disk cache, and background compiles that wait for
  ``gate.set()`` (at most 120 s)."""
  ev = threading.Event()
  real = dispatch._Plan.precompile

  def precompile(plan):
    ev.wait(120)
    real(plan)
  monkeypatch.setattr(dispatch._Plan, "precompile", precompile)
  ev.submitted = []
  submit = dispatch._background.submit

  def record(plan):
    ev.submitted.append(plan)
    return submit(plan)
  monkeypatch.setattr(dispatch._background, "submit", record)
  old = (pyjax.config.pyjax_jit_tiering, pyjax.config.jax_compilation_cache_dir)
  pyjax.config.update("pyjax_jit_tiering", "on")
  pyjax.config.update("jax_compilation_cache_dir", str(tmp_path))
  iree._mem_cache._d.clear()
  iree._mem_cache.weight = 0
  yield ev
  ev.set()
  pyjax.config.update("pyjax_jit_tiering", old[0])
  pyjax.config.update("jax_compilation_cache_dir", old[1])


def _entry(f):
  (entry,) = {id(e): e for e in f._cache.values()}.values()  # (under two keys)
  return entry


def _wait_compiled(f, *args):
  """Calls ``f`` until its entry holds the compiled program; returns the last result."""
  for _ in range(2000):
    out = f(*args)
    if type(_entry(f).compiled) is dispatch.CompiledCall:
      return out
    _entry(f).compiled.job.done.wait(0.05)
  raise AssertionError("the background compile never finished")


def test_first_calls_run_eagerly_then_compiled(gate):
  def f(x, n):
    return jnp.sin(x) * 2 + n, (x.sum() > 0, jnp.int32(3))
  jf = pyjax.jit(f)
  x = jnp.arange(4.0)
  out = jf(x, 1)
  assert type(_entry(jf).compiled) is dispatch.TieredCall  # still compiling
  ref = f(x, 1)
  for a, b in zip(pyjax.tree_util.tree_leaves(out), pyjax.tree_util.tree_leaves(ref)):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-6)
  # the results are typed as the jaxpr says (a Python-int argument: weak)
  avals = _entry(jf).closed.out_avals
  assert [o.weak_type for o in pyjax.tree_util.tree_leaves(out)] == \
      [a.weak_type for a in avals]
  gate.set()
  out2 = _wait_compiled(jf, x, 1)
  np.testing.assert_allclose(out2[0], ref[0], rtol=1e-6)
  assert type(jf(x, 1)[0]._buf) is iree.DeviceBuffer  # a compiled program's result


def test_tiering_off_compiles_before_returning(gate):
  gate.set()
  pyjax.config.update("pyjax_jit_tiering", "off")
  jf = pyjax.jit(lambda x: x * 3)
  jf(jnp.ones(3))
  assert type(_entry(jf).compiled) is dispatch.CompiledCall


def test_cached_module_is_used_at_once(gate):
  gate.set()
  f = lambda x: jnp.cos(x) - 1  # noqa: E731
  _wait_compiled(pyjax.jit(f), jnp.ones(5))
  jf = pyjax.jit(lambda x: jnp.cos(x) - 1)  # another function, the same module
  jf(jnp.ones(5))
  assert type(_entry(jf).compiled) is dispatch.CompiledCall


def test_donated_arguments_are_deleted_by_an_eager_call(gate):
  jf = pyjax.jit(lambda x, y: (x + y, y), donate_argnums=(0, 1))
  x, y = jnp.ones(3), jnp.arange(3.0)
  s, y2 = jf(x, y)
  assert type(_entry(jf).compiled) is dispatch.TieredCall
  assert x.is_deleted() and y.is_deleted()
  with pytest.raises(RuntimeError, match="deleted"):
    np.asarray(x)
  np.testing.assert_array_equal(s, [1, 2, 3])
  np.testing.assert_array_equal(y2, [0, 1, 2])  # the result outlives its donated input


def test_nested_jit_runs_inline_and_compiles_once(gate):
  inner = pyjax.jit(lambda x: x * 2)
  jf = pyjax.jit(lambda x: inner(x) + inner(x + 1))
  jf(jnp.ones(3))
  assert type(_entry(jf).compiled) is dispatch.TieredCall
  assert len(gate.submitted) == 1  # the outer program only


def test_a_long_eager_loop_stops_when_the_program_is_compiled(gate):
  """A pure program's eager run ends at the next step once the module is ready, and the
  call runs compiled (the loop would take minutes eagerly)."""
  switched = []
  real = dispatch.TieredCall._switch

  def switch(self):
    switched.append(threading.current_thread() is threading.main_thread())
    return real(self)
  dispatch.TieredCall._switch = switch
  try:
    def f(n, x):
      return lax.fori_loop(0, n, lambda i, c: c * 0.5 + 1.0, x)
    jf = pyjax.jit(f)
    threading.Timer(0.3, gate.set).start()
    out = jf(10**8, jnp.float32(0))
  finally:
    dispatch.TieredCall._switch = real
  assert switched == [True]
  assert float(out) == 2.0
  assert type(_entry(jf).compiled) is dispatch.CompiledCall


def test_effects_run_once_per_call(gate, capsys):
  jf = pyjax.jit(lambda x: (pyjax.debug.print("x={x}", x=x), x + 1)[1])
  jf(jnp.float32(1))
  assert type(_entry(jf).compiled) is dispatch.TieredCall
  gate.set()
  _wait_compiled(jf, jnp.float32(2))
  out = capsys.readouterr().out
  assert out.startswith("x=1.0\n")
  assert out.count("x=1.0") == 1


def test_effects_and_a_while_loop_compile_synchronously(gate):
  gate.set()

  def f(n):
    def body(c):
      pyjax.debug.print("{c}", c=c)
      return c + 1
    return lax.while_loop(lambda c: c < n, body, 0)
  jf = pyjax.jit(f)
  jf(2)
  assert type(_entry(jf).compiled) is dispatch.CompiledCall


def test_a_failed_background_compile_compiles_in_the_foreground(gate, monkeypatch):
  def fail(plan):
    raise RuntimeError("simulated compiler failure")
  monkeypatch.setattr(dispatch._Plan, "precompile", fail)
  jf = pyjax.jit(lambda x: x - 4)
  out = _wait_compiled(jf, jnp.ones(2))
  np.testing.assert_array_equal(out, [-3, -3])


def test_jit_under_an_eager_transformation_compiles_first(gate):
  """grad(jit(f)) gives compiled numbers from its first call: seed 001 prints JAX's
  compiled -0.0353256 (the eager value is -0.035325605)."""
  gate.set()

  def sum_logistic(x):
    return jnp.sum(1.0 / (1.0 + jnp.exp(-x)))
  jit, grad = pyjax.jit, pyjax.grad
  assert str(grad(jit(grad(jit(grad(sum_logistic)))))(1.0)) == "-0.0353256"
  assert not gate.submitted


def test_exit_waits_for_the_queued_compiles(tmp_path):
  """A script that exits while its program compiles leaves the module in the disk
  cache (the next run starts compiled) and no compiler process behind."""
  code = (
      "import pyjax, pyjax.numpy as jnp\n"
      "from pyjax._src import dispatch\n"
      "f = pyjax.jit(lambda x: jnp.exp(x) * 3 - x)\n"
      "print(f(jnp.ones(3)))\n"
      "print(type(list(f._cache.values())[-1].compiled).__name__)\n")
  env = dict(os.environ, PYJAX_JIT_TIERING="on", JAX_COMPILATION_CACHE_DIR=str(tmp_path),
             JAX_LOG_COMPILES="1")
  r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                     text=True, timeout=300)
  assert r.returncode == 0, r.stderr
  assert "in the background" in r.stderr  # the first run was tiered
  assert any(f.endswith(".vmfb") for _, _, fs in os.walk(tmp_path) for f in fs)
  code2 = code.replace("print(f(jnp.ones(3)))", "f(jnp.ones(3))")
  r = subprocess.run([sys.executable, "-c", code2], env=env, capture_output=True,
                     text=True, timeout=300)
  assert r.returncode == 0, r.stderr
  assert r.stdout.strip() == "CompiledCall"


def test_config_option_is_checked():
  with pytest.raises(ValueError, match="new enum value"):
    pyjax.config.update("pyjax_jit_tiering", "sometimes")

"""jit with in_shardings/out_shardings, propagated result shardings,
with_sharding_constraint, ShapeDtypeStruct shardings, the arrays-from-shards constructors
and visualize_sharding, against JAX.

The multi-device cases (jit_shardings_cases.py) run in two subprocesses with 4 CPU
devices, one on pyjax and one on JAX from the same text; each line they print is compared.
"""
import os
import re
import subprocess
import sys


import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax.sharding import NamedSharding, PartitionSpec as P

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _start(text):
  env = {**os.environ, "PYTHONPATH": ROOT, "JAX_PLATFORMS": "cpu"}
  return subprocess.Popen([sys.executable, "-c", text], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _lines(proc):
  out, err = proc.communicate(timeout=300)
  assert proc.returncode == 0, err[-3000:]
  return dict(line.split("|", 1) for line in out.splitlines() if "|" in line)


@pytest.fixture(scope="module")
def both():
  pytest.importorskip("jax")
  with open(os.path.join(HERE, "jit_shardings_cases.py")) as f:
    text = f.read()
  ours, theirs = _start(text), _start(text.replace("pyjax", "jax"))
  return _lines(ours), _lines(theirs)


GROUPS = ["auto propagate", "auto reshape", "auto grad", "explicit propagate", "in ",
          "out ", "committed", "incompatible", "sharded plus", "scalar out", "wsc", "sds",
          "eval_shape", "jit eval_shape", "mesh ", "donate", "callback", "single",
          "local data", "shards", "sharding names", "single device sharding", "visualize",
          "jaxpr", "nested", "aot"]


def _as_seed(text):
  """JAX 0.10.2 prints a CPU array's SingleDeviceSharding with `memory_kind=device`; the
  seeds (which pyjax follows where they differ) print `unpinned_host`."""
  return re.sub(r"(SingleDeviceSharding\(device=[^)]*\), memory_kind=)device",
                r"\1unpinned_host", text) if isinstance(text, str) else text


@pytest.mark.parametrize("group", GROUPS)
def test_cases_match_jax(both, group):
  ours, theirs = both
  names = [n for n in theirs if n.startswith(group)]
  assert names, f"no case named {group}*"
  bad = [f"{n}:\n  pyjax: {ours.get(n)}\n  jax:   {theirs[n]}" for n in names
         if ours.get(n) != _as_seed(theirs[n])]
  assert not bad, "\n".join(bad)


def test_every_case_compared(both):
  ours, theirs = both
  assert sorted(ours) == sorted(theirs)
  assert all(any(n.startswith(g) for g in GROUPS) for n in theirs)


# ---------------------------------------------------------------- one device, in process


def test_jit_decorator_factory_donates():
  @pyjax.jit(donate_argnums=0)
  def step(a, b):
    return a * 2 + b

  x = jnp.arange(4.0) + 0
  y = step(x, 1.0)
  assert y.tolist() == [1.0, 3.0, 5.0, 7.0]
  assert x.is_deleted()


def test_bad_sharding_leaves_raise_when_jitting():
  with pytest.raises(TypeError, match="in_shardings leaf specifications are expected to be "
                     "PartitionSpec instances or None, but got 3"):
    pyjax.jit(lambda a: a, in_shardings=3)
  with pytest.raises(TypeError, match="out_shardings leaf specifications"):
    pyjax.jit(lambda a: a, out_shardings=(None, "x"))


def test_unsharded_calls_unchanged():
  f = pyjax.jit(lambda a, b: a + b)
  x = jnp.arange(3.0)
  r = f(x, x)
  assert r.tolist() == [0.0, 2.0, 4.0] and not r.committed
  d = pyjax.devices()[0]
  c = f(pyjax.device_put(x, d), x)  # committed: the result is too (as JAX)
  assert c.committed and c.sharding == pyjax.sharding.SingleDeviceSharding(d)
  assert repr(c.sharding) == ("SingleDeviceSharding(device=CpuDevice(id=0), "
                              "memory_kind=unpinned_host)")  # as seed 001 prints


def test_one_device_shardings():
  mesh = pyjax.make_mesh((1,), ("x",))
  s = NamedSharding(mesh, P("x"))
  f = pyjax.jit(lambda a: a * 2, in_shardings=s, out_shardings=s)
  r = f(np.arange(4.0))
  assert r.tolist() == [0.0, 2.0, 4.0, 6.0] and r.committed
  assert pyjax.lax.with_sharding_constraint(r, s).tolist() == r.tolist()


def test_shape_dtype_struct_sharding():
  mesh = pyjax.make_mesh((1,), ("x",))
  s = NamedSharding(mesh, P("x"))
  a = pyjax.ShapeDtypeStruct((4,), jnp.float32, sharding=s)
  b = pyjax.ShapeDtypeStruct((4,), jnp.float32)
  assert a != b and a == pyjax.ShapeDtypeStruct((4,), np.float32, sharding=s)
  assert hash(a) == hash(pyjax.ShapeDtypeStruct((4,), np.float32, sharding=s))
  assert repr(b) == "ShapeDtypeStruct(shape=(4,), dtype=float32)"
  assert repr(a).endswith(f"sharding={s})")
  out = pyjax.eval_shape(lambda t: t * 2, a)  # typed on the abstract mesh, as JAX's
  assert out != b and out.sharding.spec == P("x") and str(out) == (
      "ShapeDtypeStruct(shape=(4,), dtype=float32, sharding=NamedSharding(mesh="
      "AbstractMesh('x': 1, axis_types=(Explicit,), device_kind=cpu, num_cores=None, "
      "platform=cpu), spec=P('x',)))")
  assert pyjax.jit(lambda t: t.sum(), out_shardings=s).eval_shape(a).sharding is s


def test_shape_dtype_struct_bad_sharding():
  with pytest.raises(ValueError, match="sharding should be an instance of "
                     "`jax.sharding.Sharding`, `jax.sharding.PartitionSpec` or "
                     "`jax.experimental.layout.Format`. Got cpu:0 of type"):
    pyjax.ShapeDtypeStruct((8,), jnp.float32, sharding=pyjax.devices()[0])


def test_make_array_from_callback_wants_a_sharding():
  with pytest.raises(TypeError, match="sharding should be an instance of `jax.sharding`. "
                     r"Got P\('x',\) of type"):
    pyjax.make_array_from_callback((4,), P("x"), lambda i: np.zeros(4)[i])

  def leak(i):
    return pyjax.make_jaxpr(lambda t: pyjax.make_array_from_callback(
        (), pyjax.sharding.SingleDeviceSharding(pyjax.devices()[0]), lambda j: t))(1.0)
  with pytest.raises(pyjax.errors.UnexpectedTracerError,
                     match="cannot be called within a traced context"):
    leak(0)

"""jax.shard_map against real JAX 0.10.2: both run tests/_src/shard_map_cases.py in a
subprocess with 4 host devices (values, errors, jaxpr texts), compared here."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")

CASES = os.path.join(os.path.dirname(__file__), "shard_map_cases.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _start(lib):
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
             PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
  env.pop("JAX_NUM_CPU_DEVICES", None)
  return subprocess.Popen([sys.executable, CASES, lib], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def results():
  procs = {lib: _start(lib) for lib in ("pyjax", "jax")}  # concurrently
  out = {}
  for lib, p in procs.items():
    stdout, stderr = p.communicate(timeout=600)
    assert p.returncode == 0, f"{lib} cases failed:\n{stderr[-4000:]}"
    out[lib] = json.loads(stdout.strip().splitlines()[-1])
  return out["pyjax"], out["jax"]


def _sets(text):
  """Python prints a frozenset of strings in a per-process order: sorted here."""
  return re.sub(r"frozenset\(\{([^}]*)\}\)",
                lambda m: "frozenset({%s})" % ", ".join(sorted(m.group(1).split(", "))),
                text)


def _check(ours, theirs, name):
  if isinstance(theirs, dict) and "v" in theirs:
    assert isinstance(ours, dict) and "v" in ours, (name, ours)
    assert ours["shape"] == theirs["shape"], (name, ours["shape"], theirs["shape"])
    assert ours["dtype"] == theirs["dtype"], (name, ours["dtype"], theirs["dtype"])
    np.testing.assert_allclose(ours["v"], theirs["v"], rtol=2e-6, atol=1e-6, err_msg=name)
  elif isinstance(theirs, dict):
    assert sorted(ours) == sorted(theirs), name
    for k in theirs:
      _check(ours[k], theirs[k], f"{name}.{k}")
  elif isinstance(theirs, list):
    assert len(ours) == len(theirs), name
    for i, (a, b) in enumerate(zip(ours, theirs)):
      _check(a, b, f"{name}[{i}]")
  else:
    assert ours == theirs, name


def test_values(results):
  ours, theirs = results
  assert len(theirs["values"]) >= 50
  for k, v in theirs["values"].items():
    _check(ours["values"][k], v, k)


def test_eager_calls_and_shardings(results):
  ours, theirs = results
  assert theirs["eager"]["sharding_2d"].startswith("NamedSharding(mesh=Mesh('x': 2, 'y': 2")
  _check(ours["eager"], theirs["eager"], "eager")


# JAX 0.10.2 raises an empty AssertionError for a collective over a name no shard_map,
# vmap or pmap binds; pyjax raises the NameError it raises outside shard_map.
_UNBOUND = {"error": "NameError", "msg": "unbound axis name: z"}


# A scan carry that becomes device-varying: JAX's scan sees the carry's varying type
# change (TypeError); pyjax has no such types and the out_specs check catches it.
_OTHER_CLASS = {"vma_scan_carry": ("ValueError", "TypeError")}


def test_errors(results):
  ours, theirs = results
  for k, v in theirs["errors"].items():
    assert v["error"] is not None or k in ("in_specs_none", "smap_no_in_axes"), k
    if k in _OTHER_CLASS:
      assert (ours["errors"][k]["error"], v["error"]) == _OTHER_CLASS[k], k
      continue
    got = ours["errors"][k]
    assert got["error"] == v["error"], (k, got)
    assert _sets(got.get("msg", "")) == _sets(v.get("msg", "")), k
  assert theirs["errors"]["unbound_outside"]["error"] == "NameError"


def test_jaxpr_text(results):
  ours, theirs = results
  for k in ("unchecked", "partial_manual", "jit_unchecked"):
    assert _sets(ours["jaxprs"][k]) == _sets(theirs["jaxprs"][k]), k
  # check_vma=True: JAX types the inner jaxpr with varying axes ({V:x}, pvary); pyjax
  # has no such types: the same jaxpr without them.
  assert ours["jaxprs"]["checked_matmul"] == """\
{ lambda ; a:f32[4,4] b:f32[4,3]. let
    c:f32[4,3] = shard_map[
      check_vma=True
      in_specs=(P('x', 'y'), P('y', None))
      jaxpr={ lambda ; d:f32[2,2] e:f32[2,3]. let
          f:f32[2,3] = dot_general[
            dimension_numbers=(([1], [0]), ([], []))
            preferred_element_type=float32
          ] d e
          g:f32[2,3] = psum_invariant[axes=('y',)] f
        in (g,) }
      mesh=Mesh('x': 2, 'y': 2, axis_types=(Auto, Auto))
      newly_manual_axes=frozenset({'x', 'y'})
      out_specs=(P('x', None),)
    ] a b
  in (c,) }"""


def test_unbound_axis_inside_and_outer_vmap_axis():
  """Run here on one device: a collective over a name nothing binds raises NameError;
  an outer vmap's axis name is usable inside the body (JAX 0.10.2 fails there)."""
  import pyjax
  from pyjax.sharding import Mesh, PartitionSpec as P
  mesh = Mesh(np.array(pyjax.devices()[:1]), ("i",))
  f = pyjax.shard_map(lambda x: pyjax.lax.psum(x, "z"), mesh=mesh, in_specs=P("i"),
                      out_specs=P("i"))
  with pytest.raises(NameError, match="unbound axis name: z"):
    f(np.arange(4.))
  g = pyjax.shard_map(lambda x: pyjax.lax.psum(pyjax.lax.psum(x, "b"), "i"), mesh=mesh,
                      in_specs=P("i"), out_specs=P())
  x = np.arange(8.).reshape(2, 4)
  np.testing.assert_allclose(pyjax.vmap(g, axis_name="b")(x), np.stack([x.sum(0)] * 2))


def test_psum_of_products_is_one_dot(results):
  ours, _ = results
  assert ours["internal"] == ["reshape", "transpose", "reshape", "dot_general"]

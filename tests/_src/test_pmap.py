"""pmap against JAX 0.10.2: pmap_cases.py runs once with pyjax and once with JAX (each in
a subprocess with 8 host CPU devices, the two at once); the tests compare the results
case by case. Where JAX 0.10.2 fails a program that pyjax runs (nested pmap on CPU, its
internal errors for bad input), the expected values or messages are written here."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import pyjax
from pyjax._src import devices as devices_mod, pmap as pmap_mod

SCRIPT = pathlib.Path(__file__).with_name("pmap_cases.py")
ROOT = pathlib.Path(__file__).resolve().parents[2]

# seed 003's README output of the nested pmap program (x = arange(8.).reshape(4, 2))
SEED_F = [[0., -0.7170853], [-3.1085174, -0.4824318], [10.366636, 13.135289],
          [0.22163185, -0.52112055]]
SEED_GRAD = [[-3.2369726, -1.6356447], [4.7572474, 11.606951], [-98.524414, 42.76499],
             [-1.6007166, -1.2568436]]
PMAP_SHARDING = ("NamedSharding(mesh=Mesh('_internal_pmap_axis_name': 4, "
                 "axis_types=(Auto,)), spec=P('_internal_pmap_axis_name',), "
                 "memory_kind=device)")


def _start(lib):
  env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
  return subprocess.Popen([sys.executable, str(SCRIPT), lib], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))


def _finish(p):
  out, err = p.communicate(timeout=600)
  assert p.returncode == 0, err[-3000:]
  return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def runs():
  pytest.importorskip("jax")
  procs = {lib: _start(lib) for lib in ("pyjax", "jax")}
  return {lib: _finish(p) for lib, p in procs.items()}


def _ok(runs, name, lib="pyjax"):
  r = runs[lib][name]
  assert "ok" in r, f"{lib} {name}: {r}"
  return r["ok"]


def _same(a, b, rtol=1e-6, atol=1e-6, shardings=True):
  """Results encoded by pmap_cases.enc agree: values (within tolerance), shapes, dtypes,
  shardings and reprs (when the values are equal to the bit)."""
  if isinstance(a, dict) and "value" in a:
    assert (a["shape"], a["dtype"]) == (b["shape"], b["dtype"])
    np.testing.assert_allclose(np.asarray(a["value"], float), np.asarray(b["value"], float),
                               rtol=rtol, atol=atol)
    if shardings:
      assert a["sharding"] == b["sharding"]
    if a["value"] == b["value"]:
      assert a["repr"] == b["repr"]
  elif isinstance(a, dict):
    assert a.keys() == b.keys()
    for k in a:
      _same(a[k], b[k], rtol, atol, shardings)
  elif isinstance(a, list):
    assert len(a) == len(b)
    for u, v in zip(a, b):
      _same(u, v, rtol, atol, shardings)
  else:
    assert a == b


@pytest.mark.parametrize("name", [
    "basic", "devices_subset", "named", "axes", "pytree_kwargs", "static", "psum_normalize",
    "collectives", "numpy_int_bool_keys", "pmap_of_vmap_jit", "device_put_sharded",
    "device_put_replicated", "chain_and_donate"])
def test_matches_jax(runs, name):
  _same(_ok(runs, name), _ok(runs, name, "jax"))


def test_basic_facts(runs):
  r = _ok(runs, "basic")
  assert r["y"]["sharding"] == PMAP_SHARDING
  assert r["shard1"] == ("Shard(device=CpuDevice(id=1), index=(slice(1, 2, None), "
                         "slice(None, None, None)), replica_id=0, data=[[4. 6.]])")
  assert r["devices"] == [0, 1, 2, 3] and r["nshards"] == 4 and not r["replicated"]
  assert _ok(runs, "counts") == [8, 8] == _ok(runs, "counts", "jax")


def test_jaxpr_is_jit_of_shard_map(runs):
  mine, theirs = _ok(runs, "jaxpr"), _ok(runs, "jaxpr", "jax")
  assert "shard_map[" in mine[0] and "squeeze[dimensions=(1,)]" in mine[1]
  assert mine == theirs


def test_random_programs(runs):
  # seed 003's 8-device program, smaller: pmap(lambda key: random.normal(key, ...))(keys)
  _same(_ok(runs, "random_8"), _ok(runs, "random_8", "jax"), rtol=1e-5, atol=1e-5)
  mats, result, means = _ok(runs, "random_8")
  assert mats["shape"] == [8, 5, 6] and result["shape"] == [8, 5, 5]
  assert means["shape"] == [8]
  assert "Mesh('_internal_pmap_axis_name': 8" in mats["sharding"]


def test_nested_seed_program(runs):
  f, g = _ok(runs, "nested_seed")
  jf, jg = _ok(runs, "nested_seed", "jax")  # JAX: the same program with vmap
  _same(f, jf, rtol=2e-6, shardings=False)
  _same(g, jg, rtol=2e-6, atol=2e-5, shardings=False)
  np.testing.assert_allclose(f["value"], SEED_F, rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(g["value"], SEED_GRAD, rtol=1e-4)
  assert f["sharding"] == PMAP_SHARDING


@pytest.mark.parametrize("name", ["nested_psum", "nested_reused"])
def test_nested_collectives(runs, name):
  _same(_ok(runs, name), _ok(runs, name, "jax"), shardings=False)


@pytest.mark.parametrize("name", ["grad_psum", "vmap_of_pmap", "jit_of_pmap"])
def test_composed_values(runs, name):
  # (JAX's results there carry the pmap's mesh sharding; pyjax's are single-device)
  _same(_ok(runs, name), _ok(runs, name, "jax"), shardings=False)


def test_pbroadcast(runs):
  assert _ok(runs, "pbroadcast")["value"] == [[4., 5.]] * 4


def test_negative_axes(runs):
  r = _ok(runs, "negative_axes")
  assert r["value"] == (np.arange(8.).reshape(4, 2).T * 2).tolist()
  assert r["sharding"].endswith("spec=P(None, '_internal_pmap_axis_name'), "
                                "memory_kind=device)")


def test_no_copy_and_one_trace(runs):
  traces, uploads, y3, sharding = _ok(runs, "no_copy_and_fast_path")
  assert traces == 1 and uploads == 0 and sharding == PMAP_SHARDING
  assert y3["value"] == [[3., 4.], [5., 6.], [7., 8.], [9., 10.]]


# JAX 0.10.2's class and message where they say what is wrong; else JAX's class (or,
# where JAX crashes inside, the class JAX raised before 0.10) with pmap's own message.
ERRORS = {
    "too_many": ("ValueError", "compiling computation that requires 9 logical devices, "
                 "but only 8 XLA devices are available (num_replicas=9)"),
    "inconsistent": ("ValueError", "pmap got inconsistent sizes for array axes to be "
                     "mapped:\n  * one axis had size 4: axis 0 of argument a of type "
                     "float32[4,2];\n  * one axis had size 3: axis 0 of argument b of type "
                     "float32[3,2]"),
    "in_axes_range": ("IndexError", "pmap was requested to map its argument along axis 2, "
                      "which implies that its rank should be at least 3, but is only 2 "
                      "(its shape is (4, 2))"),
    "unbound_inside": ("NameError", "unbound axis name: j"),
    "devices_too_few": ("ValueError", "Leading axis size of input to pmapped function must "
                        "equal the number of local devices passed to pmap. Got "
                        "axis_size=4, num_local_devices=2."),
    "devices_duplicate": ("ValueError", "pmap: devices must be distinct, got "
                          "[CpuDevice(id=0), CpuDevice(id=0)]"),
    "devices_not_device": ("TypeError", "pmap: devices must be a sequence of Devices (from "
                           "jax.devices()), got 'cpu:0' of type str"),
    "out_axes_prefix": ("ValueError", "pytree structure error: different types at key "
                        "path\n    broadcast_prefix prefix_tree\nAt that key path, the "
                        "prefix pytree broadcast_prefix prefix_tree has a subtree of "
                        "type\n    <class 'tuple'>\nbut at the same key path the full "
                        "pytree has a subtree of different type\n    <class "
                        "'pyjax._src.interpreters.partial_eval.JitTracer'>."),
    "nested_too_many": ("ValueError", "compiling computation that requires 16 logical "
                        "devices, but only 8 XLA devices are available (num_replicas=16)"),
}
SAME_AS_JAX = ["unbound_outside", "axis_size", "devices_empty", "global_arg_shapes",
               "no_mapped", "in_axes_prefix", "in_axes_type", "backend", "static_missing",
               "not_callable", "dps_inconsistent", "static_unhashable", "static_donate",
               "in_axes_list"]


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(runs, name):
  assert runs["pyjax"]["err_" + name] == {"error": list(ERRORS[name])}
  jax_cls = runs["jax"]["err_" + name]["error"][0]
  assert jax_cls != "IndivisibleError" or ERRORS[name][0] == "ValueError"


@pytest.mark.parametrize("name", SAME_AS_JAX)
def test_errors_as_jax(runs, name):  # (class and message)
  assert runs["pyjax"]["err_" + name] == runs["jax"]["err_" + name]
  assert "error" in runs["pyjax"]["err_" + name]


# ---------------------------------------------------------------- in process (1 device)


def test_single_device_in_process():
  import pyjax.numpy as jnp
  f = pyjax.pmap(lambda a: a + 1)
  y = f(jnp.ones((1, 3)))
  assert y.tolist() == [[2., 2., 2.]] and f(y).tolist() == [[3., 3., 3.]]
  r = repr(pyjax.pmap(lambda a: a))
  assert r.startswith("<function ") and "<lambda> at 0x" in r
  assert pyjax.pmap is pmap_mod.pmap
  with pytest.raises(ValueError, match="requires 2 logical devices, but only 1"):
    f(jnp.ones((2, 3)))
  with pytest.raises(ValueError, match="empty NamedSharding"):
    f(jnp.ones((0, 3)))
  with pytest.raises(ValueError, match=r"pmap: device CpuDevice\(id=5\) does not exist"):
    pyjax.pmap(lambda a: a, devices=[devices_mod.Device(5)])

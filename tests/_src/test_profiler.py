"""jax.profiler: one trace at a time (JAX's errors), annotations recorded into the
trace file, servers, and what cannot be done."""
import glob
import gzip
import json
import os

import pytest

import pyjax
import pyjax.numpy as jnp

jax = pytest.importorskip("jax")


def _errors(call):
  out = []
  for mod in (pyjax, jax):
    with pytest.raises(Exception) as e:
      call(mod.profiler)
    out.append((type(e.value), str(e.value)))
  return out


def test_errors_as_jax(tmp_path):
  ours, theirs = _errors(lambda p: p.stop_trace())
  assert ours == theirs

  def twice(p):
    p.start_trace(str(tmp_path / "t"))
    try:
      p.start_trace(str(tmp_path / "t"))
    finally:
      p.stop_trace()
  ours, theirs = _errors(twice)
  assert ours == theirs
  ours, theirs = _errors(lambda p: p.stop_server())
  assert ours == theirs


def test_trace_records_annotations(tmp_path):
  p = pyjax.profiler

  @p.annotate_function
  def step(x):
    return x + 1

  @p.annotate_function  # outside a trace: nothing recorded, the call still works
  def outside(x):
    return x
  assert float(outside(jnp.ones(()))) == 1.0
  with p.trace(str(tmp_path), create_perfetto_trace=True):
    for i in range(2):
      with p.StepTraceAnnotation("train", step_num=i):
        with p.TraceAnnotation("inner", size=3):
          step(jnp.ones(2)).block_until_ready()
  files = sorted(glob.glob(str(tmp_path / "plugins" / "profile" / "*" / "*.json.gz")))
  assert len(files) == 2 and os.path.basename(files[0]) == "perfetto_trace.json.gz"
  with gzip.open(files[1]) as f:
    events = json.load(f)["traceEvents"]
  names = [e["name"] for e in events]
  assert names == ["test_trace_records_annotations.<locals>.step", "inner", "train"] * 2
  assert events[2]["args"] == {"step_num": "0"} and events[1]["args"] == {"size": "3"}
  assert all(e["dur"] >= 0 and e["ph"] == "X" for e in events)
  assert events[0]["ts"] >= events[1]["ts"] >= events[2]["ts"]  # nested spans


def test_server_and_memory_profile():
  s = pyjax.profiler.start_server(9999)
  with pytest.raises(ValueError, match="Only one profiler server"):
    pyjax.profiler.start_server(9998)
  pyjax.profiler.stop_server()
  assert s.port == 9999
  with pytest.raises(NotImplementedError):
    pyjax.profiler.device_memory_profile()

"""jax.monitoring: listeners and records as JAX's, and jit's compile events."""
import pytest

import pyjax
import pyjax.numpy as jnp

jax = pytest.importorskip("jax")


@pytest.fixture
def clean():
  yield
  for mod in (pyjax, jax):
    mod.monitoring.clear_event_listeners()


def _exercise(mon):
  log = []
  ev = lambda e, **kw: log.append(("event", e, kw))  # noqa: E731
  dur = lambda e, d, **kw: log.append(("duration", e, d, kw))  # noqa: E731
  span = lambda e, a, b, **kw: log.append(("span", e, a, b, kw))  # noqa: E731
  sc = lambda e, v, **kw: log.append(("scalar", e, v, kw))  # noqa: E731
  mon.register_event_listener(ev)
  mon.register_event_duration_secs_listener(dur)
  mon.register_event_time_span_listener(span)
  mon.register_scalar_listener(sc)
  mon.record_event("/test/a", tag="x", n=1)
  mon.record_event_duration_secs("/test/b", 0.5, tag="y")
  mon.record_event_time_span("/test/c", 1.0, 2.5)
  mon.record_scalar("/test/d", 7, unit="s")
  mon.unregister_event_listener(ev)
  mon.record_event("/test/gone")
  with pytest.raises(AssertionError):
    mon.unregister_event_listener(ev)
  mon.clear_event_listeners()  # as JAX's: scalar listeners stay
  mon.record_event_duration_secs("/test/gone", 1.0)
  mon.record_scalar("/test/kept", 1.5)
  mon.unregister_scalar_listener(sc)
  mon.record_scalar("/test/gone", 2)
  return log


def test_listeners_as_jax(clean):
  assert _exercise(pyjax.monitoring) == _exercise(jax.monitoring)


def test_jit_records_compile_events(clean):
  events = {}

  def on_duration(event, duration, **kw):
    events.setdefault(event, []).append((duration, kw))
  pyjax.monitoring.register_event_duration_secs_listener(on_duration)

  def my_function(x):
    return x * 3.0
  pyjax.jit(my_function)(jnp.ones(3))
  trace = events["/jax/core/compile/jaxpr_trace_duration"]
  assert trace[0][1] == {"fun_name": "my_function"} and trace[0][0] >= 0
  for name in ("/jax/core/compile/jaxpr_to_mlir_module_duration",
               "/jax/core/compile/backend_compile_duration"):
    assert events[name] and all(d >= 0 and set(kw) == {"fun_name"} for d, kw in
                                events[name])

"""Event listeners (``jax.monitoring``): code records named events, durations, time
spans and scalars; every registered listener is called with them, synchronously.

pyjax records JAX's compile events: ``/jax/core/compile/jaxpr_trace_duration`` (jit
tracing), ``/jax/core/compile/jaxpr_to_mlir_module_duration`` (lowering) and
``/jax/core/compile/backend_compile_duration`` (the IREE compile, or its cache hit), each
with ``fun_name``; not JAX's compilation-cache events.
"""
from __future__ import annotations

import time

__all__ = [
    "clear_event_listeners", "get_event_duration_listeners", "get_event_listeners",
    "get_event_time_span_listeners", "get_scalar_listeners", "record_event",
    "record_event_duration_secs", "record_event_time_span", "record_scalar",
    "register_event_duration_secs_listener", "register_event_listener",
    "register_event_time_span_listener", "register_scalar_listener",
    "unregister_event_duration_listener", "unregister_event_listener",
    "unregister_event_time_span_listener", "unregister_scalar_listener",
]

JAXPR_TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"
JAXPR_TO_MLIR_MODULE_EVENT = "/jax/core/compile/jaxpr_to_mlir_module_duration"
BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"

_event_listeners: list = []
_event_duration_secs_listeners: list = []
_event_time_span_listeners: list = []
_scalar_listeners: list = []


def record_event(event: str, **kwargs) -> None:
  """Calls every event listener with ``(event, **kwargs)``."""
  for callback in _event_listeners:
    callback(event, **kwargs)


def record_event_duration_secs(event: str, duration: float, **kwargs) -> None:
  """Calls every duration listener with ``(event, duration, **kwargs)``."""
  for callback in _event_duration_secs_listeners:
    callback(event, duration, **kwargs)


def record_event_time_span(event: str, start_time: float, end_time: float,
                           **kwargs) -> None:
  """Calls every time-span listener with ``(event, start_time, end_time, **kwargs)``."""
  for callback in _event_time_span_listeners:
    callback(event, start_time, end_time, **kwargs)


def record_scalar(event: str, value, **kwargs) -> None:
  """Calls every scalar listener with ``(event, value, **kwargs)``."""
  for callback in _scalar_listeners:
    callback(event, value, **kwargs)


def register_event_listener(callback) -> None:
  _event_listeners.append(callback)


def register_event_duration_secs_listener(callback) -> None:
  _event_duration_secs_listeners.append(callback)


def register_event_time_span_listener(callback) -> None:
  _event_time_span_listeners.append(callback)


def register_scalar_listener(callback) -> None:
  _scalar_listeners.append(callback)


def get_event_listeners() -> list:
  return list(_event_listeners)


def get_event_duration_listeners() -> list:
  return list(_event_duration_secs_listeners)


def get_event_time_span_listeners() -> list:
  return list(_event_time_span_listeners)


def get_scalar_listeners() -> list:
  return list(_scalar_listeners)


def clear_event_listeners() -> None:
  """Removes the event, duration and time-span listeners. As in JAX, scalar listeners
  stay registered."""
  _event_listeners.clear()
  _event_duration_secs_listeners.clear()
  _event_time_span_listeners.clear()


def _unregister(listeners: list, callback) -> None:
  if callback not in listeners:
    raise AssertionError  # JAX asserts that the callback was registered
  listeners.remove(callback)


def unregister_event_listener(callback) -> None:
  _unregister(_event_listeners, callback)


def unregister_event_duration_listener(callback) -> None:
  _unregister(_event_duration_secs_listeners, callback)


def unregister_event_time_span_listener(callback) -> None:
  _unregister(_event_time_span_listeners, callback)


def unregister_scalar_listener(callback) -> None:
  _unregister(_scalar_listeners, callback)


class timed_event:
  """Context manager recording its block's wall time as ``event`` (with ``fun_name``),
  as a scalar (the start time), a duration and a time span, as JAX does."""
  __slots__ = ("event", "fun_name", "start")

  def __init__(self, event: str, fun_name: str):
    self.event, self.fun_name = event, fun_name

  def __enter__(self):
    self.start = time.time()
    record_scalar(self.event, self.start, fun_name=self.fun_name)

  def __exit__(self, exc_type, exc_value, traceback):
    end = time.time()
    record_event_duration_secs(self.event, end - self.start, fun_name=self.fun_name)
    record_event_time_span(self.event, self.start, end, fun_name=self.fun_name)

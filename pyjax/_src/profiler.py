"""The profiler (``jax.profiler``): trace sessions and annotations.

A trace (``start_trace``/``stop_trace`` or ``with trace(log_dir)``) records the
``TraceAnnotation``/``StepTraceAnnotation``/``annotate_function`` spans entered while it
runs, and ``stop_trace`` writes them as a Chrome trace-event file (viewable in Perfetto
or chrome://tracing) to ``log_dir/plugins/profile/<timestamp>/<host>.trace.json.gz``
(``perfetto_trace.json.gz`` beside it with ``create_perfetto_trace``). JAX writes XLA's
``.xplane.pb`` with device activity; pyjax records no device or per-operation events,
and no profiler server exists (``start_server`` keeps JAX's one-server rule only).
``device_memory_profile`` raises NotImplementedError.
"""
from __future__ import annotations

import contextlib
import functools
import gzip
import json
import os
import socket
import threading
import time

__all__ = [
    "ProfileOptions", "StepTraceAnnotation", "TraceAnnotation", "annotate_function",
    "device_memory_profile", "save_device_memory_profile", "start_server", "start_trace",
    "stop_server", "stop_trace", "trace",
]


class ProfileOptions:
  """Collector options (accepted; pyjax's profiler has no collectors to configure)."""

  def __init__(self):
    self.include_dataset_ops = True
    self.host_tracer_level = 2
    self.python_tracer_level = 0
    self.enable_hlo_proto = True
    self.start_timestamp_ns = 0
    self.duration_ms = 0
    self.repository_path = ""
    self.advanced_configuration = {}


class _Session:
  def __init__(self, log_dir, perfetto):
    self.log_dir, self.perfetto = str(log_dir), perfetto
    self.events: list = []
    self.lock = threading.Lock()


_state_lock = threading.Lock()
_session: _Session | None = None
_server = None


def start_trace(log_dir, create_perfetto_link=False, create_perfetto_trace=False,
                profiler_options=None) -> None:
  """Starts recording annotations; one trace at a time (else RuntimeError, as JAX)."""
  global _session
  with _state_lock:
    if _session is not None:
      raise RuntimeError("Profile has already been started. Only one profile may be run "
                         "at a time.")
    _session = _Session(log_dir, create_perfetto_trace or create_perfetto_link)


def stop_trace() -> None:
  """Stops the trace and writes its events under its ``log_dir``."""
  global _session
  with _state_lock:
    session = _session
    if session is None:
      raise RuntimeError("No profile started")
    _session = None
  folder = os.path.join(session.log_dir, "plugins", "profile",
                        time.strftime("%Y_%m_%d_%H_%M_%S"))
  os.makedirs(folder, exist_ok=True)
  data = json.dumps({"displayTimeUnit": "ns", "traceEvents": session.events}).encode()
  names = [f"{socket.gethostname()}.trace.json.gz"]
  if session.perfetto:
    names.append("perfetto_trace.json.gz")
  for name in names:
    with gzip.open(os.path.join(folder, name), "wb") as f:
      f.write(data)


@contextlib.contextmanager
def trace(log_dir, create_perfetto_link=False, create_perfetto_trace=False,
          profiler_options=None):
  """A trace around the block (``start_trace`` ... ``stop_trace``)."""
  start_trace(log_dir, create_perfetto_link, create_perfetto_trace, profiler_options)
  try:
    yield
  finally:
    stop_trace()


class TraceAnnotation:
  """A named span on the trace timeline (recorded only while a trace runs); keyword
  arguments become the event's arguments."""

  def __init__(self, name: str, **kwargs):
    self.name, self.kwargs = name, kwargs
    self._start = None

  def __enter__(self):
    if _session is not None:
      self._start = time.perf_counter_ns()
    return self

  def __exit__(self, exc_type, exc_value, traceback):
    session, start = _session, self._start
    if session is None or start is None:
      return
    self._start = None
    event = {"name": self.name, "ph": "X", "ts": start / 1e3,
             "dur": (time.perf_counter_ns() - start) / 1e3, "pid": os.getpid(),
             "tid": threading.get_ident()}
    if self.kwargs:
      event["args"] = {k: str(v) for k, v in self.kwargs.items()}
    with session.lock:
      session.events.append(event)


class StepTraceAnnotation(TraceAnnotation):
  """A training-step span (``step_num=`` names the step)."""


def annotate_function(func, name: str | None = None, **decorator_kwargs):
  """Decorator: each call of ``func`` is a span named ``name`` (default: its
  qualified name)."""
  name = name or getattr(func, "__qualname__", None) or func.__name__

  @functools.wraps(func)
  def wrapper(*args, **kwargs):
    with TraceAnnotation(name, **decorator_kwargs):
      return func(*args, **kwargs)
  return wrapper


class _ProfilerServer:
  def __init__(self, port):
    self.port = port


def start_server(port: int, requires_backend: bool = True):
  """Keeps JAX's one-server rule; pyjax serves no profiles (nothing listens)."""
  global _server
  if _server is not None:
    raise ValueError("Only one profiler server can be active at a time.")
  _server = _ProfilerServer(port)
  return _server


def stop_server():
  global _server
  if _server is None:
    raise ValueError("No active profiler server.")
  _server = None


def device_memory_profile(backend=None) -> bytes:
  raise NotImplementedError("pyjax cannot take a device memory profile (pprof).")


def save_device_memory_profile(filename, backend=None) -> None:
  raise NotImplementedError("pyjax cannot take a device memory profile (pprof).")

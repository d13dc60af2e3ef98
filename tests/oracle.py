"""Recorded JAX results: the oracle's answers, stored per test module.

JAX's eager mode compiles every operation it has not seen (XLA, tens of ms each), so a
sweep that asks JAX thousands of questions spends most of its time in JAX, not in pyjax.
``Oracle(name).call(fn, *args, **kwargs)`` answers ``fn(*args, **kwargs)`` from
``tests/data/oracle/<name>.pkl.gz`` when that question was recorded there (keyed by the
running test's id, ``fn``'s name, a digest of the arguments and the x64 flag: inputs
drawn anew, as hypothesis draws them, miss and are asked live), and asks JAX otherwise.
Results come back as ``Recorded`` arrays (NumPy arrays with JAX's ``aval.weak_type``),
tuples, lists and dicts of them, scalars, or the exception JAX raised (same class, same
message).

``PYJAX_ORACLE=record python -m pytest <module>`` asks JAX everything and rewrites the
module's file (do it when a test's questions change, or its file grows stale: questions
not found are asked live, which is correct but slow).
``PYJAX_ORACLE=live`` asks JAX everything and writes nothing. A file recorded with
another JAX version than the one installed is ignored; with no JAX installed, the records
answer and a question not recorded skips its test.

A module whose JAX questions all go through the oracle names JAX with ``lazy("jax")``
(and asks through lambdas, so that naming a question does not touch JAX): JAX is then
imported (~2 s) only when a question is not recorded. Keys use pyjax's x64 flag, and a
question asked live runs with JAX's x64 flag set the same.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import gzip
import hashlib
import importlib.metadata
import os
import pickle
import sys

import numpy as np
import pytest

import pyjax

_DIR = os.path.join(os.path.dirname(__file__), "data", "oracle")
MODE = os.environ.get("PYJAX_ORACLE", "use")


class _Aval:
  __slots__ = ("weak_type",)

  def __init__(self, weak_type):
    self.weak_type = weak_type


class Recorded(np.ndarray):
  """A recorded JAX array: its value, dtype and shape, and ``aval.weak_type``."""

  def __array_finalize__(self, obj):
    self.aval = getattr(obj, "aval", _Aval(False))

  @property
  def weak_type(self):
    return self.aval.weak_type


def _encode(x):
  if isinstance(x, (tuple, list)):
    return ("t" if isinstance(x, tuple) else "l", [_encode(v) for v in x])
  if type(x) is dict:
    return ("d", {k: _encode(v) for k, v in x.items()})
  aval = getattr(x, "aval", None)
  if aval is not None and hasattr(x, "__array__"):
    return ("a", np.asarray(x).copy(), bool(aval.weak_type))
  return ("v", x)


def _decode(e):
  kind = e[0]
  if kind == "d":
    return {k: _decode(v) for k, v in e[1].items()}
  if kind in ("t", "l"):
    vals = [_decode(v) for v in e[1]]
    return tuple(vals) if kind == "t" else vals
  if kind == "a":
    r = np.asarray(e[1]).view(Recorded)
    r.aval = _Aval(e[2])
    return r
  return e[1]


def _fn_name(fn):
  """What names ``fn`` the same in every process (no addresses)."""
  if isinstance(fn, functools.partial):
    return ("partial", _fn_name(fn.func), fn.args, sorted(fn.keywords.items()))
  name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
  if not isinstance(name, str):  # (callable objects: their class, and a name if any)
    name = type(fn).__qualname__
  return f"{getattr(fn, '__module__', '')}.{name}", type(fn).__qualname__


def _jax_version():
  try:
    return importlib.metadata.version("jax")
  except importlib.metadata.PackageNotFoundError:
    return None


def _import(name):
  """``name`` imported (skipping the running test when JAX is not installed), with JAX's
  x64 flag set as pyjax's when this is JAX's first import."""
  first = "jax" not in sys.modules
  mod = pytest.importorskip(name)
  if first:
    sys.modules["jax"].config.update("jax_enable_x64", pyjax.config.jax_enable_x64)
  return mod


class lazy:  # noqa: N801 (it stands for a module)
  """A module imported at its first attribute's use: ``jax = lazy("jax")``."""

  def __init__(self, name):
    self._name = name

  def __getattr__(self, attr):
    if attr.startswith("_") and attr != "_src":  # (pytest's probes: _mock_name, ...)
      raise AttributeError(attr)
    return getattr(_import(self._name), attr)


@contextlib.contextmanager
def _jax_x64_as_pyjax():
  """JAX's x64 flag set as pyjax's while JAX answers a question."""
  jax = _import("jax")
  old = jax.config.jax_enable_x64
  jax.config.update("jax_enable_x64", pyjax.config.jax_enable_x64)
  try:
    yield
  finally:
    jax.config.update("jax_enable_x64", old)


class Oracle:
  """The recorded answers of one test module (see the module docstring)."""

  def __init__(self, name: str):
    self.path = os.path.join(_DIR, name + ".pkl.gz")
    self.version = _jax_version()
    self.entries: dict = {}
    self.dirty = False
    if MODE == "use" and os.path.exists(self.path):
      with gzip.open(self.path, "rb") as f:
        stored = pickle.load(f)
      if self.version is None or stored.get("jax_version") == self.version:
        self.entries = stored["entries"]
    if MODE == "record":
      atexit.register(self.save)

  def _key(self, fn, args, kwargs, tag, test):
    if test is None:
      test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    try:
      blob = pickle.dumps((_fn_name(fn), tag, args, sorted(kwargs.items()),
                           pyjax.config.jax_enable_x64), protocol=4)
    except Exception:  # noqa: BLE001 (a question that cannot be named is asked live)
      return None
    return f"{test}#{hashlib.sha1(blob).hexdigest()[:20]}"

  def call(self, fn, *args, oracle_tag=None, oracle_test=None, **kwargs):
    """JAX's answer to ``fn(*args, **kwargs)`` (recorded, or asked now): its result, or
    its exception raised again. ``oracle_tag`` tells apart questions whose function
    names and arguments are the same (lambdas, ``grad`` with different argnums);
    ``oracle_test`` replaces the running test's id in the key, for an answer that
    whichever test comes first asks (module caches, module-scoped fixtures)."""
    key = self._key(fn, args, kwargs, oracle_tag, oracle_test)
    entry = self.entries.get(key) if MODE == "use" and key is not None else None
    if entry is None:
      try:
        with _jax_x64_as_pyjax():
          entry = ("ok", _encode(fn(*args, **kwargs)))
      except Exception as e:  # noqa: BLE001 (JAX's exception is the answer)
        entry = ("err", type(e), str(e))
      if MODE == "record" and key is not None:
        self.entries[key] = entry
        self.dirty = True
    if entry[0] == "err":
      exc = entry[1].__new__(entry[1])
      exc.args = (entry[2],)
      raise exc
    return _decode(entry[1])

  def save(self):
    if not self.dirty:
      return
    os.makedirs(_DIR, exist_ok=True)
    with gzip.open(self.path, "wb", compresslevel=9) as f:
      pickle.dump({"jax_version": self.version, "entries": self.entries}, f,
                  protocol=pickle.HIGHEST_PROTOCOL)
    self.dirty = False

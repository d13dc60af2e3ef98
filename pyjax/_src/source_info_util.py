"""Name stacks and source information (JAX's ``source_info_util``).

``named_scope`` / ``named_call`` push names on a per-thread name stack that
``current_name_stack()`` reads. pyjax records neither the stack nor tracebacks in its
jaxprs or compiled programs: the names are kept for code that reads them back, and
profiles and printed jaxprs do not show them.
"""
from __future__ import annotations

import contextlib
import dataclasses
import threading
import traceback as _traceback
from typing import NamedTuple

__all__ = ["NameStack", "SourceInfo", "current", "current_name_stack",
           "extend_name_stack", "new_name_stack", "new_source_info",
           "register_exclusion", "reset_name_stack", "set_name_stack", "summarize",
           "transform_name_stack", "user_context"]


class Scope(NamedTuple):
  name: str

  def wrap(self, stack: list):
    stack.append(self.name)


class Transform(NamedTuple):
  name: str

  def wrap(self, stack: list):
    if stack:
      stack[-1] = f"{self.name}({stack[-1]})"
    else:
      stack.append(f"{self.name}()")


@dataclasses.dataclass(frozen=True)
class NameStack:
  """Scopes (``a/b``) and transformations (``jvp(b)``) entered so far."""
  stack: tuple = ()

  def extend(self, name: str) -> "NameStack":
    return NameStack((*self.stack, Scope(name)))

  def transform(self, transform_name: str) -> "NameStack":
    return NameStack((*self.stack, Transform(transform_name)))

  def __getitem__(self, idx) -> "NameStack":
    return NameStack(self.stack[idx])

  def __len__(self):
    return len(self.stack)

  def __add__(self, other: "NameStack") -> "NameStack":
    return NameStack(self.stack + other.stack)

  def __radd__(self, other: "NameStack") -> "NameStack":
    return NameStack(other.stack + self.stack)

  def __str__(self) -> str:
    scope: list = []
    for elem in self.stack[::-1]:
      elem.wrap(scope)
    return "/".join(reversed(scope))


def new_name_stack(name: str = "") -> NameStack:
  return NameStack().extend(name) if name else NameStack()


class SourceInfo:
  """A traceback (or None) and a name stack."""
  __slots__ = ("traceback", "name_stack")

  def __init__(self, traceback, name_stack: NameStack):
    self.traceback = traceback
    self.name_stack = name_stack

  def replace(self, *, traceback=None, name_stack=None) -> "SourceInfo":
    return SourceInfo(self.traceback if traceback is None else traceback,
                      self.name_stack if name_stack is None else name_stack)


class _State(threading.local):
  name_stack: NameStack = NameStack()


_state = _State()
_exclusions: list = []


def new_source_info() -> SourceInfo:
  return SourceInfo(None, NameStack())


def current_name_stack() -> NameStack:
  return _state.name_stack


def current() -> SourceInfo:
  """The caller's traceback (a StackSummary) and the current name stack."""
  return SourceInfo(_traceback.extract_stack()[:-1], _state.name_stack)


def register_exclusion(path: str):
  """Marks a file or directory as library code, not the user's, in source summaries."""
  _exclusions.append(path)


def _is_user_frame(frame) -> bool:
  return not any(frame.filename.startswith(p) for p in _exclusions)


def summarize(source_info: SourceInfo, num_frames=1) -> str:
  """``file:line (function)`` of the innermost user frames of ``source_info``."""
  tb = source_info.traceback
  frames = [] if tb is None else [f for f in tb if _is_user_frame(f)][::-1][:num_frames]
  return "\n".join(f"{f.filename}:{f.lineno} ({f.name})" for f in reversed(frames)) \
      or "unknown"


@contextlib.contextmanager
def set_name_stack(name_stack: NameStack):
  prev = _state.name_stack
  _state.name_stack = name_stack
  try:
    yield
  finally:
    _state.name_stack = prev


class _NameStackContext(contextlib.ContextDecorator):
  """Pushes ``change(current stack)`` on entry (each entry afresh, so that it can
  decorate a function) and restores the previous stack on exit."""

  def __init__(self, change):
    self._change = change
    self._prev: list = []

  def __enter__(self):
    self._prev.append(_state.name_stack)
    _state.name_stack = self._change(_state.name_stack)
    return self

  def __exit__(self, *exc):
    _state.name_stack = self._prev.pop()
    return False


def extend_name_stack(name: str) -> _NameStackContext:
  """Context manager (and decorator) pushing the scope ``name``."""
  return _NameStackContext(lambda ns: ns.extend(name))


def reset_name_stack() -> _NameStackContext:
  return _NameStackContext(lambda ns: NameStack())


def transform_name_stack(name: str) -> _NameStackContext:
  return _NameStackContext(lambda ns: ns.transform(name))


@contextlib.contextmanager
def user_context(c, *, name_stack: NameStack | None = None):
  """Runs its body with ``name_stack`` (if given) current; ``c`` (a traceback) is
  not recorded."""
  del c
  if name_stack is None:
    yield
    return
  with set_name_stack(name_stack):
    yield

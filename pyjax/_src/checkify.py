"""``jax.experimental.checkify`` for user checks: ``check``, ``checkify``, ``Error``.

``checkify(f)`` runs ``f`` with a frame on a thread-local stack; each ``check(pred, msg,
*fmt_args)`` records whether it failed and its formatting arguments there, and
``checkify`` returns them as an ``Error`` (a pytree: its arrays flow out of ``jit`` and
``vmap``) with ``f``'s output. A check made on the transformation ``checkify`` runs on
(eager, or the jit/vmap/grad around ``checkify``) records its values directly; one made
inside a transformation within ``f`` (``checkify(jit(f))``, ``lax.scan`` or ``vmap``
bodies, ``grad``) records them when the computation runs, through a debug callback.
Without ``checkify``, an eager check raises at once and a staged one raises JAX's
ValueError at trace time.

What cannot be done here: the automatic checks (``nan_checks``, ``div_checks``,
``index_checks``, ``float_checks``, ``all_checks``) raise NotImplementedError (pyjax has
no checkify interpreter over primitives); a failing check under a ``vmap`` inside ``f``
reports its first failing index (JAX may report another one), and a jitted function
traced under ``checkify`` and then called without it raises at run time on a failed
check. ``Error``'s pytree leaves are (failed flag, arguments) per check, not JAX's codes.
"""
from __future__ import annotations

import threading

import numpy as np

from pyjax._src import core, tree_util
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.core import Tracer
from pyjax._src.debugging import debug_callback
from pyjax._src.lax import lax
from pyjax._src.lax import reductions
from pyjax._src.ref import _staging_between

__all__ = [
    "DivisionByZeroError", "Error", "ErrorCategory", "FailedCheckError", "JaxException",
    "JaxRuntimeError", "NaNError", "OOBError", "all_checks", "automatic_checks", "check",
    "check_error", "checkify", "debug_check", "div_checks", "float_checks",
    "index_checks", "nan_checks", "user_checks",
]


class JaxRuntimeError(ValueError):
  """Raised by ``Error.throw`` (and by a failing check outside ``checkify``)."""


class JaxException(Exception):
  """An error category (the types in ``user_checks``, ``nan_checks``, ...)."""


class FailedCheckError(JaxException):
  """A failed ``check``: its message and formatting arguments."""

  def __init__(self, fmt_string, *fmt_args, **fmt_kwargs):
    super().__init__(*fmt_args, *fmt_kwargs.values())  # its repr shows the arguments
    self.fmt_string, self.fmt_args, self.fmt_kwargs = fmt_string, fmt_args, fmt_kwargs

  def __str__(self):
    return (self.fmt_string.format(*self.fmt_args, **self.fmt_kwargs)
            + " (`check` failed)")


class NaNError(JaxException):
  pass


class DivisionByZeroError(JaxException):
  pass


class OOBError(JaxException):
  pass


ErrorCategory = type[JaxException]
user_checks = frozenset({FailedCheckError})
nan_checks = frozenset({NaNError})
div_checks = frozenset({DivisionByZeroError})
index_checks = frozenset({OOBError})
float_checks = nan_checks | div_checks
automatic_checks = float_checks | index_checks
all_checks = automatic_checks | user_checks


# ---------------------------------------------------------------- the Error value


class Error:
  """The checks a ``checkify``'d function made: per check, whether it failed (a bool
  array: more than a scalar under ``vmap``) and its formatting arguments."""

  def __init__(self, failed, payloads, static):
    self._failed = list(failed)      # bool arrays (or tracers)
    self._payloads = list(payloads)  # per check: the flat formatting arguments
    self._static = tuple(static)     # per check: (msg, treedef of (args, kwargs))

  def _messages(self) -> list[str]:
    """The message of each failing index (one, unbatched), in index order."""
    if not self._failed:
      return []
    failed = [np.asarray(f) for f in self._failed]
    shape = np.broadcast_shapes(*(f.shape for f in failed))
    out = []
    for idx in np.ndindex(shape):
      for f, payload, (msg, tree) in zip(failed, self._payloads, self._static):
        if np.broadcast_to(f, shape)[idx]:
          leaves = [_index(p, idx, shape) for p in payload]
          args, kwargs = tree_util.tree_unflatten(tree, leaves)
          text = str(FailedCheckError(msg, *args, **kwargs))
          out.append(f"at mapped index {', '.join(map(str, idx))}: {text}"
                     if shape else text)
          break
    return out

  def get(self) -> str | None:
    """The failure message(s), or None when every check passed."""
    msgs = self._messages()
    return "\n".join(msgs) if msgs else None

  def get_exception(self) -> JaxException | None:
    """The first failed check as a ``FailedCheckError``, or None."""
    for f, payload, (msg, tree) in zip(self._failed, self._payloads, self._static):
      if np.asarray(f).any():
        leaves = [asarray_value(np.asarray(p)) for p in payload]
        args, kwargs = tree_util.tree_unflatten(tree, leaves)
        return FailedCheckError(msg, *args, **kwargs)
    return None

  def throw(self):
    """Raises ``JaxRuntimeError`` with the message if a check failed."""
    msg = self.get()
    if msg is not None:
      raise JaxRuntimeError(msg)

  def __str__(self):
    return f"Error({self.get()})"

  __repr__ = __str__


def _index(leaf, idx, batch_shape):
  """The formatting argument at mapped index ``idx``: an argument batched like the
  failed flags (leading ``batch_shape``) is indexed, an unbatched one is whole."""
  v = np.asarray(leaf)
  return v[idx] if batch_shape and v.shape[:len(batch_shape)] == batch_shape else v


def _flatten_error(e: Error):
  leaves = list(e._failed) + [x for p in e._payloads for x in p]
  return leaves, (len(e._failed), tuple(len(p) for p in e._payloads), e._static)


def _unflatten_error(aux, leaves):
  n, sizes, static = aux
  failed, rest, payloads = leaves[:n], leaves[n:], []
  for s in sizes:
    payloads.append(rest[:s])
    rest = rest[s:]
  return Error(failed, payloads, static)


tree_util.register_pytree_node(Error, _flatten_error, _unflatten_error)


def init_error() -> Error:
  """An Error with no checks."""
  return Error([], [], [])


# ---------------------------------------------------------------- checkify frames


class _Frame:
  __slots__ = ("trace", "failed", "payloads", "static")

  def __init__(self, trace):
    self.trace = trace
    self.failed, self.payloads, self.static = [], [], []


class _Stack(threading.local):
  def __init__(self):
    self.frames: list[_Frame] = []


_stack = _Stack()


def _runtime_record(failed, payload, msg, tree):
  """Records a check's values when the computation runs (the callback route)."""
  frames = _stack.frames
  if frames:
    f = frames[-1]
    f.failed.append(asarray_value(np.asarray(failed)))
    f.payloads.append([asarray_value(np.asarray(p)) for p in payload])
    f.static.append((msg, tree))
  elif np.asarray(failed).any():
    args, kwargs = tree_util.tree_unflatten(tree, [np.asarray(p) for p in payload])
    raise JaxRuntimeError(str(FailedCheckError(msg, *args, **kwargs)))


def _record(failed, payload, msg, tree, what):
  cur = core.find_cur_trace()
  frames = _stack.frames
  frame = frames[-1] if frames else None
  if frame is None and _staging_between(cur, None) is not None:
    raise ValueError(f"Cannot abstractly evaluate a checkify.{what} which was not "
                     "functionalized. This probably means you tried to stage "
                     f"(jit/scan/pmap/...) a `{what}` without functionalizing it "
                     "through `checkify.checkify`.")
  if frame is not None and cur is frame.trace:  # eager, or the trace around checkify
    frame.failed.append(failed)
    frame.payloads.append(list(payload))
    frame.static.append((msg, tree))
    return
  if frame is None and not any(isinstance(x, Tracer) for x in [failed, *payload]):
    _runtime_record(failed, payload, msg, tree)  # eager, no checkify: raise now
    return
  # Inside a transformation within checkify (or vmap/grad without it): at run time,
  # which must come while checkify runs, i.e. checkify must not be staged itself.
  if frame is not None and _staging_between(frame.trace, None) is not None:
    raise NotImplementedError(
        f"pyjax cannot functionalize a checkify.{what} made inside a jit, scan, "
        "while_loop or cond that is itself inside a staged checkify'd function (e.g. "
        "jit(checkify(f)) where f calls jit or a loop with a check): apply checkify "
        "outside the staged function (checkify(jit(f))), or make the check outside the "
        "inner transformation.")
  debug_callback(lambda fl, *p: _runtime_record(fl, p, msg, tree), failed, *payload)


def _is_array(x) -> bool:
  return isinstance(x, (ArrayImpl, Tracer, np.ndarray, np.generic))


def check(pred, msg: str, *fmt_args, debug: bool = False, **fmt_kwargs) -> None:
  """Records that ``pred`` (a scalar bool) must hold; ``msg.format(*fmt_args,
  **fmt_kwargs)`` describes a failure. The arguments must be pytrees of arrays."""
  _check(pred, msg, fmt_args, fmt_kwargs, "check", debug)


def debug_check(pred, msg: str, *fmt_args, **fmt_kwargs) -> None:
  """``check`` that does nothing outside ``checkify``."""
  if not _stack.frames:
    return
  _check(pred, msg, fmt_args, fmt_kwargs, "check", True)


def _check(pred, msg, fmt_args, fmt_kwargs, what, debug):
  if not isinstance(pred, (bool, np.bool_)) and not _is_array(pred):
    raise TypeError(f"check takes a scalar pred as argument, got {pred}")
  if not isinstance(pred, bool):
    aval = core.get_aval(pred)
    if aval.shape or aval.dtype != np.bool_:
      raise TypeError(f"check takes a scalar pred as argument, got {pred}")
  if not isinstance(msg, str):
    raise TypeError(f"check takes a string as message argument, got {msg!r}")
  leaves, tree = tree_util.tree_flatten((fmt_args, fmt_kwargs))
  for leaf in leaves:
    if not _is_array(leaf):
      raise TypeError("Formatting arguments to checkify.check need to be PyTrees of "
                      f"arrays, but got {leaf!r} of type {type(leaf)}.")
  if isinstance(pred, bool):
    pred = asarray_value(pred)
  if isinstance(pred, (ArrayImpl, np.ndarray, np.generic)) and not _stack.frames \
      and not any(isinstance(x, Tracer) for x in leaves) \
      and _staging_between(core.find_cur_trace(), None) is None:
    if not bool(np.asarray(pred)):  # eager, outside checkify: fail at once
      _runtime_record(np.True_, leaves, msg, tree)
    return
  _record(lax.bitwise_not(pred), leaves, msg, tree, what)


def check_error(error: Error) -> None:
  """Adds ``error``'s checks to the enclosing ``checkify`` (raises them without one)."""
  if not isinstance(error, Error):
    raise TypeError(f"check_error takes an Error as argument, got type {type(error)} "
                    "instead.")
  if not _stack.frames and _staging_between(core.find_cur_trace(), None) is None \
      and not any(isinstance(x, Tracer) for x in tree_util.tree_leaves(error)):
    error.throw()
    return
  for f, payload, (msg, tree) in zip(error._failed, error._payloads, error._static):
    ndim = core.get_aval(f).ndim
    if ndim:  # batched (a vmap around the inner checkify): failed at any index
      f = reductions.reduce_or(f, tuple(range(ndim)))
    _record(f, payload, msg, tree, "check_error")


def checkify(f, errors=user_checks):
  """``f`` returning ``(Error, output)``: its checks are collected, not raised."""
  errors = frozenset(errors)
  unsupported = errors - user_checks
  if unsupported:
    names = sorted(e.__name__ for e in unsupported)
    raise NotImplementedError(f"pyjax's checkify supports user_checks only, not {names}: "
                              "it has no checkify interpreter for automatic NaN, division "
                              "or index checks.")

  def checked(*args, **kwargs):
    frame = _Frame(core.find_cur_trace())
    _stack.frames.append(frame)
    try:
      out = f(*args, **kwargs)
    finally:
      _stack.frames.pop()
    if FailedCheckError not in errors:
      return init_error(), out
    return Error(frame.failed, frame.payloads, frame.static), out

  checked.__name__ = getattr(f, "__name__", "checkified")
  checked.__wrapped__ = f
  return checked

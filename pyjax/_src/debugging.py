"""``jax.debug``: callbacks and prints that work eagerly and in staged programs.

``debug_callback`` and ``debug_print`` are effectful primitives (never dropped as dead
code). Eagerly they run at once; under ``jit`` the compiled program calls back into
Python each time it runs (``callback.lower_callback``); under ``vmap`` they run once
per batch element (JAX's rule: the call is unrolled over the mapped axis); under
differentiation they see the primal values only, in the forward pass.
"""
from __future__ import annotations

import copy
import functools
import logging
import pdb
import string
import sys
from typing import Any, Callable

import numpy as np

from pyjax._src import core, devices, sharding, tree_util
from pyjax._src.core import Primitive
from pyjax._src.lax import slicing
from pyjax._src.callback import lower_callback, run_eagerly


class DebugEffect:
  """The effect of an unordered debug callback."""

  def __repr__(self):
    return "Debug"


class OrderedDebugEffect:
  """The effect of an ordered debug callback (runs in program order)."""

  def __repr__(self):
    return "OrderedDebug"


logger = logging.getLogger(__name__)

debug_effect = DebugEffect()
ordered_debug_effect = OrderedDebugEffect()


def _unrolled_batch(prim):
  """JAX's batch rule for debug callbacks: one call per element of the mapped axis
  (unmapped arguments passed whole)."""
  def rule(vals, dims, **params):
    size = next(x.shape[d] for x, d in zip(vals, dims) if d is not None)
    for i in range(size):
      prim.bind(*[x if d is None else slicing.index_in_dim(x, i, d, keepdims=False)
                  for x, d in zip(vals, dims)], **params)
    return [], []
  return rule


def _primal_jvp(prim):
  """Debug callbacks see primal values only (JAX's JVP rule)."""
  def rule(primals, tangents, **params):
    return prim.bind(*primals, **params), []
  return rule


def _transpose(*_, **__):
  raise ValueError("Transpose doesn't support debugging callbacks.")


# ---------------------------------------------------------------- debug_callback

debug_callback_p = Primitive("debug_callback")
debug_callback_p.multiple_results = True
debug_callback_p.effectful = True


def _debug_callback_abstract(*avals, callback, effect, partitioned):
  return []


def _debug_callback_impl(*args, callback, effect, partitioned):
  run_eagerly(callback, args)
  return []


def _debug_callback_lower(ctx, *args, callback, effect, partitioned):
  return lower_callback(ctx, args, callback, [])


debug_callback_p.def_impl(_debug_callback_impl)
debug_callback_p.def_abstract_eval(_debug_callback_abstract)
debug_callback_p.jvp = _primal_jvp(debug_callback_p)
debug_callback_p.transpose = _transpose
debug_callback_p.batch = _unrolled_batch(debug_callback_p)
debug_callback_p.lower = _debug_callback_lower


def _split_callback_args(args, kwargs):
  """(tree, dynamic leaves, {index: static leaf}): leaves that are not arrays (strings,
  None, ...) stay Python values, as in JAX."""
  flat, tree = tree_util.tree_flatten((args, kwargs))
  dyn, static = [], {}
  for i, a in enumerate(flat):
    try:
      core.get_aval(a)
      dyn.append(a)
    except TypeError:
      static[i] = a
  return tree, dyn, static


def _merge(tree, dyn, static):
  it = iter(dyn)
  flat = [static[i] if i in static else next(it) for i in range(len(dyn) + len(static))]
  return tree_util.tree_unflatten(tree, flat)


def debug_callback(callback: Callable[..., None] | None = None, *args: Any,
                   ordered: bool = False, partitioned: bool = False, **kwargs: Any):
  """Calls ``callback(*args, **kwargs)`` with the values of ``args`` when the
  computation runs (``jax.debug.callback``). With no callback: the two-call form."""
  def _debug_callback(callback, *c_args, **c_kwargs):
    if not callable(callback):
      raise TypeError("first argument to jax.debug.callback must be callable, but got "
                      f"an object of type {type(callback)}")
    tree, dyn, static = _split_callback_args(c_args, c_kwargs)

    def _flat_callback(*arrays):
      a, kw = _merge(tree, arrays, static)
      callback(*a, **kw)
      return ()

    debug_callback_p.bind(*dyn, callback=_flat_callback,
                          effect=ordered_debug_effect if ordered else debug_effect,
                          partitioned=partitioned)

  if callback is not None:
    _debug_callback(callback, *args, **kwargs)
    return None
  if args or kwargs:
    raise TypeError("debug_callback received unexpected arguments in the two-call form:"
                    f" args={args!r} kwargs={kwargs!r}")
  return _debug_callback


# ---------------------------------------------------------------- debug_print

debug_print_p = Primitive("debug_print")
debug_print_p.multiple_results = True
debug_print_p.effectful = True


def _format_print(fmt, np_printoptions, has_placeholders, logging_record, *args,
                  **kwargs):
  if has_placeholders:
    with np.printoptions(**np_printoptions):
      msg = fmt.format(*args, **kwargs)
  else:
    msg = " ".join((fmt, *(str(a) for a in args)))
  if logging_record is not None:
    record = copy.copy(logging_record)
    record.msg = msg
    logger.handle(record)
  else:
    sys.stdout.write(msg + "\n")


def _make_logging_record(level):
  """A log record naming the user's line that called ``jax.debug.log``."""
  f = sys._getframe(1)
  while f is not None and f.f_globals.get("__name__", "").startswith("pyjax"):
    f = f.f_back
  file_name, line_no = ("(unknown file)", 0) if f is None else \
      (f.f_code.co_filename, f.f_lineno)
  return logger.makeRecord(logger.name, level, file_name, line_no, "", (), None)


def _print_callback(params):
  tree, static = params["in_tree"], dict(params["static_args"])
  opts = dict(params["np_printoptions"])
  fmt, has, rec = params["fmt"], params["has_placeholders"], params["logging_record"]

  def _print_callback(*arrays):
    a, kw = _merge(tree, arrays, static)
    _format_print(fmt, opts, has, rec, *a, **kw)
    return ()
  return _print_callback


def _debug_print_abstract(*avals, **params):
  return []


def _debug_print_impl(*args, **params):
  run_eagerly(_print_callback(params), args)
  return []


def _debug_print_lower(ctx, *args, **params):
  return lower_callback(ctx, args, _print_callback(params), [])


debug_print_p.def_impl(_debug_print_impl)
debug_print_p.def_abstract_eval(_debug_print_abstract)
debug_print_p.jvp = _primal_jvp(debug_print_p)
debug_print_p.transpose = _transpose
debug_print_p.batch = _unrolled_batch(debug_print_p)
debug_print_p.lower = _debug_print_lower


class _FormatChecker(string.Formatter):
  """Checks a format string against its arguments without formatting them (JAX's
  errors for missing and unused arguments)."""

  def format_field(self, value, format_spec):
    return ""

  def check_unused_args(self, used_args, args, kwargs):
    unused_args = [arg for i, arg in enumerate(args) if i not in used_args]
    unused_kwargs = [k for k in kwargs if k not in used_args]
    if unused_args:
      raise ValueError(f"Unused positional arguments to `jax.debug.print`: {unused_args}")
    if unused_kwargs:
      raise ValueError(
          f"Unused keyword arguments to `jax.debug.print`: {unused_kwargs}. You may be "
          "passing an f-string (i.e, `f\"{x}\"`) into `jax.debug.print` and instead "
          "should pass in a regular string.")


_formatter = _FormatChecker()


def debug_print(fmt: str | None = None, *args, ordered: bool = False,
                partitioned: bool = False, skip_format_check: bool = False,
                _use_logging: bool = False, **kwargs):
  """Prints ``fmt.format(*args, **kwargs)`` with the values of the arguments when the
  computation runs (``jax.debug.print``). With no format: the two-call form."""
  def _debug_print(fmt: str, *c_args, **c_kwargs):
    if not skip_format_check:
      _formatter.format(fmt, *c_args, **c_kwargs)
    has_placeholders = False
    if fmt:
      _, field_name, *_ = next(iter(string.Formatter().parse(fmt)))
      has_placeholders = field_name is not None
    tree, dyn, static = _split_callback_args(c_args, c_kwargs)
    debug_print_p.bind(*dyn, fmt=fmt, ordered=ordered, partitioned=partitioned,
                       in_tree=tree, static_args=tuple(static.items()),
                       np_printoptions=tuple(np.get_printoptions().items()),
                       has_placeholders=has_placeholders,
                       logging_record=(_make_logging_record(logging.INFO)
                                       if _use_logging else None))

  if fmt is not None:
    _debug_print(fmt, *args, **kwargs)
    return None
  if args or kwargs:
    raise TypeError("debug_print received unexpected arguments in the two-call form:"
                    f" args={args!r} kwargs={kwargs!r}")
  return _debug_print


debug_log = functools.partial(debug_print, _use_logging=True)


# ---------------------------------------------------------------- breakpoint


def breakpoint(*, backend: str | None = None, filter_frames: bool = True,
               num_frames: int | None = None, ordered: bool = False, token=None,
               **kwargs):
  """Enters a debugger (``jax.debug.breakpoint``). Eagerly it is ``pdb.set_trace`` in
  the caller's frame; in a staged program it stops when the program runs, in a
  debugger whose frame holds the caller's local variables as their runtime values."""
  frame = sys._getframe(1)
  names, values = [], []
  for k, v in frame.f_locals.items():
    try:
      core.get_aval(v)
    except TypeError:
      continue
    names.append(k)
    values.append(v)
  if not any(isinstance(v, core.Tracer) for v in values):
    pdb.Pdb().set_trace(frame)
    return token

  def stop(*arrays):
    debug_values = dict(zip(names, arrays))  # the traced locals' runtime values
    print(f"jax.debug.breakpoint: the local arrays are in debug_values "
          f"({', '.join(names)})")
    pdb.Pdb().set_trace()
    del debug_values

  debug_callback(stop, *values, ordered=ordered)
  return token


# ---------------------------------------------------------------- sharding (one device)


def inspect_array_sharding(value, *, callback: Callable[[Any], None]) -> None:
  """Calls ``callback`` with the sharding of ``value`` (``jax.debug.
  inspect_array_sharding``): on one device, a SingleDeviceSharding."""
  def one(x):
    s = getattr(x, "sharding", None)
    callback(s if s is not None else sharding.SingleDeviceSharding(devices.default_device()))
  tree_util.tree_map(one, value)


def visualize_sharding(shape, sharding, *, use_color: bool = True, scale: float = 1.0,
                       min_width: int = 9, max_width: int = 80, color_map=None):
  """Prints the device layout of an array of ``shape`` (one device: one box)."""
  dev = sharding._device_assignment[0] if hasattr(sharding, "_device_assignment") \
      else next(iter(sharding.device_set))
  label = f"{dev.platform.upper()} {dev.id}"
  if len(shape) == 0:
    width = max(min_width, len(label) + 2)
  else:
    width = max(min_width, min(max_width, int(round(scale * 80))))
  inner = width - 2
  pad = inner - len(label)
  left = pad // 2
  rows = 3 if len(shape) >= 2 else 1
  lines = ["┌" + "─" * inner + "┐"]
  mid = rows // 2
  for r in range(rows):
    text = " " * left + label + " " * (pad - left) if r == mid else " " * inner
    lines.append("│" + text + "│")
  lines.append("└" + "─" * inner + "┘")
  sys.stdout.write("\n".join(lines) + "\n")


def visualize_array_sharding(arr, **kwargs):
  """``visualize_sharding`` of an array's own shape and sharding."""
  def show(sharding):
    visualize_sharding(np.shape(arr), sharding, **kwargs)
  inspect_array_sharding(arr, callback=show)

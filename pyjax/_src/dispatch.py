"""The compiled call path of jit: arguments to device buffers, run, results to Arrays.

A jit result is an ``ArrayImpl`` whose ``_value`` is a read-only NumPy view of the
result buffer (no copy on CPU) and whose ``_buf`` keeps the device buffer, so the
next jit call passes it on without an upload. Host arrays are uploaded once: the
buffer is remembered on the (immutable) Array.
"""
from __future__ import annotations

import numpy as np

from pyjax._src import core
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.backends import iree
from pyjax._src.config import config
from pyjax._src.core import ClosedJaxpr


DeviceBuffer = iree.DeviceBuffer


def _deleted_error(x):
  shape = x.aval.str_short(short_dtypes=False)
  return RuntimeError(f"Array has been deleted with shape={shape}.")


def _upload(x: ArrayImpl, driver: str):
  return iree.to_device(np.asarray(x._value), driver)


class CompiledCall:
  """A compiled jaxpr: ``call(leaves, donated) -> list of ArrayImpl``."""

  def __init__(self, closed: ClosedJaxpr, name: str, text: str, platform="cpu"):
    self.text = text
    from pyjax._src.interpreters import lowering
    consts = lowering.hoisted_consts(closed)
    in_avals = [core.get_aval(c) for c in consts] + list(closed.in_avals)
    out_avals = closed.out_avals
    self.driver = iree.pick_driver(in_avals, out_avals, platform)
    vmfb = iree.compile_module(text, platform)
    self.exe = iree.Executable(vmfb, self.driver, len(out_avals))
    self.out_meta = [(tuple(a.shape), a.dtype, a.weak_type) for a in out_avals]
    self.const_views = [self._view(asarray_value(c) if type(c) is not ArrayImpl else c)
                        for c in consts]
    if config.jax_log_compiles:
      import logging
      logging.getLogger("pyjax").warning("Compiled %s for %s", name, self.driver)

  def _view(self, x):
    if type(x) is not ArrayImpl:
      x = asarray_value(x)
    if x._deleted:
      raise _deleted_error(x)
    b = getattr(x, "_buf", None)
    if b is None or b.driver != self.driver:
      b = _upload(x, self.driver)
      if getattr(x, "_buf", None) is None:
        x._buf = b
    return b.view

  def __call__(self, leaves, donated=()):
    views = self.const_views.copy()
    drv = self.driver
    for x in leaves:
      b = getattr(x, "_buf", None) if type(x) is ArrayImpl else None
      views.append(b.view if b is not None and b.driver == drv and not x._deleted
                   else self._view(x))
    outs = self.exe.call(views)
    if donated:
      for x, d in zip(leaves, donated):
        if d and type(x) is ArrayImpl:
          x.delete()
    res = []
    to_host = iree.to_host
    for o, (shape, dtype, weak) in zip(outs, self.out_meta):
      b = DeviceBuffer(o, drv, shape, dtype)
      v = to_host(b, shape, dtype)
      a = ArrayImpl(v if shape else v[()], weak)
      a._buf = b
      res.append(a)
    return res


def compile_closed_jaxpr(closed: ClosedJaxpr, name: str, text: str | None = None,
                         platform: str = "cpu") -> CompiledCall:
  if text is None:
    from pyjax._src.interpreters import lowering
    text = lowering.lower_jaxpr(closed, name)
  return CompiledCall(closed, name, text, platform)


_by_jaxpr: dict[int, tuple[ClosedJaxpr, CompiledCall]] = {}


def run_closed_jaxpr(closed: ClosedJaxpr, name: str, args, donated=()):
  """The impl of the jit primitive: compiles ``closed`` once (per object) and runs it."""
  hit = _by_jaxpr.get(id(closed))
  if hit is None or hit[0] is not closed:
    hit = _by_jaxpr[id(closed)] = (closed, compile_closed_jaxpr(closed, name))
  return hit[1](args, donated)

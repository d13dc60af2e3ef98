"""Operators and NumPy-style methods, installed on ``ArrayImpl`` and ``Tracer`` alike."""
from __future__ import annotations

import warnings

import numpy as np

from pyjax._src.array import ArrayImpl
from pyjax._src import core
from pyjax._src.core import Tracer
from pyjax._src.lax import lax
from pyjax._src.numpy import (array_manipulation, indexing, lax_numpy, reductions, sorting,
                               tensor_contractions, ufuncs)

# The eager broadcasting fast path calls NumPy here: silence its floating-point
# RuntimeWarnings as the primitives' modules do (JAX reports none).
warnings.filterwarnings("ignore", category=RuntimeWarning,
                        module=r"pyjax\._src\.numpy\.array_methods")

_accepted_binop_types = (int, float, complex, bool, np.generic, np.ndarray, ArrayImpl, Tracer)


def _defer(fn, swap=False):
  """Binary operator that returns NotImplemented for unknown operand types."""
  if swap:
    def op(self, other):
      if not isinstance(other, _accepted_binop_types) and not hasattr(other, "__jax_array__"):
        return NotImplemented
      return fn(other, self)
  else:
    def op(self, other):
      if not isinstance(other, _accepted_binop_types) and not hasattr(other, "__jax_array__"):
        return NotImplemented
      return fn(self, other)
  return op


def _fast_binop(prim, npfn, slow, swap=False):
  """``x op y`` for two arrays of one dtype: binds the primitive directly when the
  shapes match; eagerly, NumPy broadcasting replaces broadcast_in_dim + op."""
  def op(self, other):
    if type(other) is ArrayImpl and type(self) is ArrayImpl:
      sv, ov = self._value, other._value
      if sv.dtype == ov.dtype and self.weak_type == other.weak_type and sv.dtype.kind in "fc":
        if swap:
          self, other, sv, ov = other, self, ov, sv
        if sv.shape == ov.shape:
          return prim.bind(self, other)
        if core.trace_ctx.trace is core.eval_trace and (
            not core.sharded_types or (self._device is None and other._device is None)):
          try:
            return ArrayImpl(np.asarray(npfn(sv, ov)), self.weak_type)
          except ValueError:  # shapes do not broadcast: the slow path raises JAX's error
            pass
        if swap:
          self, other = other, self
    if not isinstance(other, _accepted_binop_types) and not hasattr(other, "__jax_array__"):
      return NotImplemented
    return slow(other, self) if swap else slow(self, other)
  return op


_binops = {
    "add": ufuncs.add, "sub": ufuncs.subtract, "mul": ufuncs.multiply,
    "truediv": ufuncs.true_divide, "floordiv": ufuncs.floor_divide,
    "mod": ufuncs.remainder, "divmod": ufuncs.divmod, "pow": ufuncs.power,
    "matmul": tensor_contractions.matmul, "and": ufuncs.bitwise_and,
    "or": ufuncs.bitwise_or, "xor": ufuncs.bitwise_xor, "lshift": ufuncs.left_shift,
    "rshift": ufuncs.right_shift,
}
_cmps = {"eq": ufuncs.equal, "ne": ufuncs.not_equal, "lt": ufuncs.less,
         "le": ufuncs.less_equal, "gt": ufuncs.greater, "ge": ufuncs.greater_equal}


# The methods that call the jnp function of their name (jnp's own objects: the same
# functions ``pyjax.numpy`` exports).
_methods = {
    "all": reductions.all, "any": reductions.any, "argmax": reductions.argmax,
    "argmin": reductions.argmin, "argpartition": sorting.argpartition,
    "argsort": sorting.argsort, "astype": lax_numpy.astype, "choose": lax_numpy.choose,
    "clip": lax_numpy.clip, "compress": lax_numpy.compress, "conj": ufuncs.conjugate,
    "conjugate": ufuncs.conjugate, "cumprod": reductions.cumprod,
    "cumsum": reductions.cumsum, "diagonal": array_manipulation.diagonal,
    "dot": tensor_contractions.dot,
    "max": reductions.max, "mean": reductions.mean, "min": reductions.min,
    "nonzero": indexing.nonzero, "prod": reductions.prod, "ptp": reductions.ptp,
    "ravel": lax_numpy.ravel, "repeat": array_manipulation.repeat,
    "reshape": lax_numpy.reshape,
    "round": lax_numpy.round, "searchsorted": sorting.searchsorted, "sort": sorting.sort,
    "squeeze": lax_numpy.squeeze, "std": reductions.std, "sum": reductions.sum,
    "swapaxes": lax_numpy.swapaxes, "take": indexing.take, "trace": array_manipulation.trace,
    "transpose": lax_numpy.transpose, "var": reductions.var,
}


def _item_access(name):
  fn = _methods[name]

  def m(self, *args, **kwargs):
    return fn(self, *args, **kwargs)
  m.__name__ = name
  return m


def _reshape_method(self, *args, order="C", **kwargs):
  if not args:
    return lax_numpy.reshape(self, kwargs.pop("shape"), order, **kwargs)
  if len(args) == 1:
    args = args[0]  # x.reshape((2, 3)), x.reshape(3), and x.reshape(()) to a scalar
  return lax_numpy.reshape(self, args, order, **kwargs)


def _transpose_method(self, *args):
  if not args or args == (None,):
    return lax_numpy.transpose(self)
  axes = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
  return lax_numpy.transpose(self, axes)


def _flatten(self, order="C"):
  return lax_numpy.ravel(self, order)


def _view(self, dtype=None, type=None):
  if type is not None:
    raise NotImplementedError("`type` argument of array.view() is not supported.")
  if dtype is None:
    return self
  return lax.bitcast_convert_type(self, dtype) if np.dtype(dtype).itemsize == \
      self.dtype.itemsize else _view_resize(self, dtype)


def _view_resize(x, dtype):
  dtype = np.dtype(dtype)
  a, b = x.dtype.itemsize, dtype.itemsize
  if a > b:
    out = lax.bitcast_convert_type(x, dtype)
    return lax.reshape(out, (*x.shape[:-1], x.shape[-1] * (a // b)))
  y = lax.reshape(x, (*x.shape[:-1], x.shape[-1] // (b // a), b // a))
  return lax.bitcast_convert_type(y, dtype)


def _copy(self):
  return lax_numpy.array(self, copy=True)


def _getitem(self, idx):
  return indexing.getitem(self, idx)


def _at(self):
  return indexing._IndexUpdateHelper(self)


def _install(cls):
  for name, fn in _binops.items():
    setattr(cls, f"__{name}__", _defer(fn))
    setattr(cls, f"__r{name}__", _defer(fn, swap=True))
  for name, fn in _cmps.items():
    setattr(cls, f"__{name}__", _defer(fn))
  for name, prim, npfn, slow in (("add", lax.add_p, np.add, ufuncs.add),
                                  ("sub", lax.sub_p, np.subtract, ufuncs.subtract),
                                  ("mul", lax.mul_p, np.multiply, ufuncs.multiply)):
    setattr(cls, f"__{name}__", _fast_binop(prim, npfn, slow))
    setattr(cls, f"__r{name}__", _fast_binop(prim, npfn, slow, swap=True))
  cls.__neg__ = lambda self: ufuncs.negative(self)
  cls.__pos__ = lambda self: ufuncs.positive(self)
  cls.__abs__ = lambda self: ufuncs.absolute(self)
  cls.__invert__ = lambda self: ufuncs.invert(self)
  cls.__round__ = lambda self, ndigits=None: _item_access("round")(self, ndigits or 0)
  cls.__getitem__ = _getitem
  cls.at = property(_at)
  cls.T = property(lambda self: lax_numpy.transpose(self))
  cls.mT = property(lambda self: lax_numpy.matrix_transpose(self))
  cls.real = property(lambda self: ufuncs.real(self))
  cls.imag = property(lambda self: ufuncs.imag(self))
  cls.flat = property(lambda self: iter(lax_numpy.ravel(self)))
  for name in _methods:
    setattr(cls, name, _item_access(name))
  cls.reshape = _reshape_method
  cls.transpose = _transpose_method
  cls.flatten = _flatten
  cls.view = _view
  cls.copy = _copy
  cls.astype = lambda self, dtype, copy=False, device=None: lax_numpy.astype(self, dtype)


def install():
  """Installs the operators and methods on ``ArrayImpl`` and ``Tracer`` (``import pyjax``
  does, once)."""
  for cls in (ArrayImpl, Tracer):
    _install(cls)
  for cls in (ArrayImpl, Tracer):
    cls.__array_namespace__ = _array_namespace


ARRAY_API_VERSION = "2024.12"
_namespace = []  # [pyjax.numpy], registered by that module at its import


def register_namespace(module):
  """The module ``Array.__array_namespace__`` returns (``pyjax.numpy`` registers)."""
  _namespace[:] = [module]


def _array_namespace(self, *, api_version=None):
  if api_version is not None and api_version != ARRAY_API_VERSION:
    raise ValueError(f"{api_version=!r} is not available; available versions are: "
                     f"{[ARRAY_API_VERSION]}")
  return _namespace[0]

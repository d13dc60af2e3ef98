"""jax.numpy's higher-order functions: apply_along_axis, apply_over_axes and piecewise,
built on vmap and ``lax.switch`` as JAX's."""
from __future__ import annotations

import numpy as np

from pyjax._src.interpreters import batching
from pyjax._src.lax import lax, slicing
from pyjax._src.lax.control_flow import conditionals
from pyjax._src.numpy import reductions
from pyjax._src.numpy.lax_numpy import asarray, expand_dims
from pyjax._src.numpy.util import array, canonicalize_axis, check_arraylike
from pyjax._src.numpy.vectorize import vectorize


def apply_along_axis(func1d, axis: int, arr, *args, **kwargs):
  """``func1d`` applied to the 1-D slices of ``arr`` along ``axis`` (nested vmaps)."""
  check_arraylike("apply_along_axis", arr)
  num_dims = np.ndim(arr)
  axis = canonicalize_axis(axis, num_dims)

  def func(a):
    return func1d(a, *args, **kwargs)
  for i in range(1, num_dims - axis):
    func = batching.vmap(func, in_axes=i, out_axes=-1)
  for _ in range(axis):
    func = batching.vmap(func, in_axes=0, out_axes=0)
  return func(asarray(arr))


def apply_over_axes(func, a, axes):
  """``func(a, axis)`` applied for each axis in turn, keeping the dimension."""
  check_arraylike("apply_over_axes", a)
  a = asarray(a)
  for axis in axes:
    b = func(a, axis)
    if b.ndim == a.ndim:
      a = b
    elif b.ndim == a.ndim - 1:
      a = expand_dims(b, axis)
    else:
      raise ValueError("function is not returning an array of the correct shape")
  return a


def piecewise(x, condlist, funclist, *args, **kw):
  """Evaluates the function (or constant) of the last true condition at each element,
  with the default (the extra function, or 0) where none holds."""
  check_arraylike("piecewise", x)
  x = asarray(x)
  nc, nf = len(condlist), len(funclist)
  if nf == nc + 1:
    funclist = funclist[-1:] + funclist[:-1]
  elif nf == nc:
    funclist = [0] + list(funclist)
  else:
    raise ValueError(f"with {nc} condition(s), either {nc} or {nc + 1} functions are "
                     f"expected; got {nf}")
  condlist = asarray(array(condlist, dtype=np.bool_))
  # the index of the last true condition, + 1 (0: none)
  flags = slicing.concatenate([lax.full_like(condlist[:1], False), condlist], 0)
  indices = reductions.argmax(reductions.cumsum(flags, 0), 0)
  dtype = x.dtype

  def call(f):
    return lambda v: lax._convert_element_type(asarray(f(v, *args, **kw)), dtype)

  def const(c):
    return lambda v: array(c, dtype=dtype)
  branches = [call(f) if callable(f) else const(f) for f in funclist]
  return vectorize(conditionals.switch, excluded=(1,))(indices, branches, x)


__all__ = ["apply_along_axis", "apply_over_axes", "piecewise"]

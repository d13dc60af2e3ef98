"""``jax.flatten_util.ravel_pytree``: a pytree of arrays as one flat vector.

The leaves' dtypes promote to one (JAX's lattice); the unravel function splits a vector
of that length back and converts each piece to its leaf's dtype. When every leaf has the
same dtype, unravel keeps the dtype (and weak type) of what it is given, as JAX's; a
mixed-dtype unravel returns strongly typed leaves (weak types are not restored, as in
JAX). A vector of the wrong length raises ``lax.split``'s ValueError.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pyjax._src import dtypes
from pyjax._src.lax import lax
from pyjax._src.lax import slicing
from pyjax._src.tree_util import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["ravel_pytree"]


class _HashablePartial:
  """``partial(f, *args)`` that hashes and compares by ``f``'s code and the args, so
  two unravel functions of the same structure are equal (a jit static argument)."""

  def __init__(self, f, *args):
    self.f, self.args = f, args

  def __eq__(self, other):
    return (type(other) is _HashablePartial and self.f.__code__ == other.f.__code__
            and self.args == other.args)

  def __hash__(self):
    return hash((self.f.__code__, self.args))

  def __call__(self, *args):
    return self.f(*self.args, *args)


def ravel_pytree(pytree: Any) -> tuple[Any, Callable[[Any], Any]]:
  """Ravel a pytree of arrays and scalars into a 1-D array.

  Returns ``(flat, unravel)``: ``flat`` concatenates the raveled leaves in the
  promoted dtype (an empty float32 vector for a tree without leaves) and
  ``unravel(flat)`` rebuilds a pytree of the same structure.
  """
  leaves, treedef = tree_flatten(pytree)
  flat, unravel_list = _ravel_list(leaves)
  return flat, _HashablePartial(_unravel_pytree, treedef, unravel_list)


def _unravel_pytree(treedef: PyTreeDef, unravel_list, flat):
  return tree_unflatten(treedef, unravel_list(flat))


def _no_leaves(_):
  return []


def _ravel_list(lst):
  if not lst:
    return lax.full([0], 0, "float32"), _no_leaves
  from_dtypes = tuple(dtypes.dtype(x, canonicalize=True) for x in lst)
  to_dtype = dtypes.result_type(*from_dtypes)
  sizes = tuple(int(np.size(x)) for x in lst)
  shapes = tuple(tuple(np.shape(x)) for x in lst)
  if all(dt == to_dtype for dt in from_dtypes):
    # One dtype: no conversions, and unravel keeps the dtype of what it is given.
    raveled = slicing.concatenate([lax.reshape(x, (np.size(x),)) for x in lst], 0)
    return raveled, _HashablePartial(_unravel_list_single_dtype, sizes, shapes)
  raveled = slicing.concatenate(
      [lax.reshape(lax.convert_element_type(x, to_dtype), (size,))
       for x, size in zip(lst, sizes)], 0)
  return raveled, _HashablePartial(_unravel_list, sizes, shapes, from_dtypes, to_dtype)


def _unravel_list_single_dtype(sizes, shapes, arr):
  chunks = slicing.split(arr, sizes)
  return [lax.reshape(c, shape) for c, shape in zip(chunks, shapes)]


def _unravel_list(sizes, shapes, from_dtypes, to_dtype, arr):
  arr_dtype = dtypes.dtype(arr, canonicalize=True)
  if arr_dtype != to_dtype:
    raise TypeError(f"unravel function given array of dtype {arr_dtype}, "
                    f"but expected dtype {to_dtype}")
  chunks = slicing.split(arr, sizes)
  return [lax.convert_element_type(lax.reshape(c, shape), dt)
          for c, shape, dt in zip(chunks, shapes, from_dtypes)]

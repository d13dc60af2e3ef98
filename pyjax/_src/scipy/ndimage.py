"""``jax.scipy.ndimage.map_coordinates``: nearest (order 0) and linear (order 1)
interpolation, the same sequence of operations as JAX's.

What it cannot do (as JAX): spline orders above 1, modes other than constant, nearest,
wrap, mirror and reflect. Eager, not under an inner ``jit`` (JAX jits it: its jaxprs
show a nested ``jit`` equation that ours do not).
"""
from __future__ import annotations

import functools
import itertools
import operator

import numpy as np

from pyjax._src import dtypes
from pyjax._src.lax import lax
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import ufuncs

__all__ = ["map_coordinates"]


def _mirror_index_fixer(index, size):
  s = size - 1   # half-wavelength of the triangular wave |x - round(x)|, scaled
  return ufuncs.abs((index + s) % (2 * s) - s)


def _reflect_index_fixer(index, size):
  return ufuncs.floor_divide(_mirror_index_fixer(2 * index + 1, 2 * size + 1) - 1, 2)


_INDEX_FIXERS = {
    'constant': lambda index, size: index,
    'nearest': lambda index, size: jnp.clip(index, 0, size - 1),
    'wrap': lambda index, size: index % size,
    'mirror': _mirror_index_fixer,
    'reflect': _reflect_index_fixer,
}


def _round_half_away_from_zero(a):
  return a if dtypes.issubdtype(a.dtype, np.integer) else lax.round(a)


def _nearest_indices_and_weights(coordinate):
  index = _round_half_away_from_zero(coordinate).astype(np.int32)
  return [(index, coordinate.dtype.type(1))]


def _linear_indices_and_weights(coordinate):
  lower = ufuncs.floor(coordinate)
  upper_weight = coordinate - lower
  lower_weight = 1 - upper_weight
  index = lower.astype(np.int32)
  return [(index, lower_weight), (index + 1, upper_weight)]


def map_coordinates(input, coordinates, order: int, mode: str = 'constant', cval=0.0):
  """``input`` sampled at ``coordinates`` (one array per axis of ``input``)."""
  input_arr = jnp.asarray(input)
  coordinate_arrs = [jnp.asarray(c) for c in coordinates]
  cval = jnp.asarray(cval, input_arr.dtype)
  if len(coordinates) != input_arr.ndim:
    raise ValueError('coordinates must be a sequence of length input.ndim, but '
                     '{} != {}'.format(len(coordinates), input_arr.ndim))
  index_fixer = _INDEX_FIXERS.get(mode)
  if index_fixer is None:
    raise NotImplementedError(
        'jax.scipy.ndimage.map_coordinates does not yet support mode {}. '
        'Currently supported modes are {}.'.format(mode, set(_INDEX_FIXERS)))
  if mode == 'constant':
    def is_valid(index, size):
      return (0 <= index) & (index < size)
  else:
    def is_valid(index, size):
      return True
  if order == 0:
    interp_fun = _nearest_indices_and_weights
  elif order == 1:
    interp_fun = _linear_indices_and_weights
  else:
    raise NotImplementedError(
        'jax.scipy.ndimage.map_coordinates currently requires order<=1')

  valid_1d_interpolations = []
  for coordinate, size in zip(coordinate_arrs, input_arr.shape, strict=True):
    valid_1d_interpolations.append(
        [(index_fixer(index, size), is_valid(index, size), weight)
         for index, weight in interp_fun(coordinate)])

  outputs = []
  for items in itertools.product(*valid_1d_interpolations):
    indices, validities, weights = zip(*items)
    if all(valid is True for valid in validities):
      contribution = input_arr[indices]
    else:
      all_valid = functools.reduce(operator.and_, validities)
      contribution = jnp.where(all_valid, input_arr[indices], cval)
    outputs.append(functools.reduce(operator.mul, weights) * contribution)
  result = sum(outputs[1:], outputs[0])
  if dtypes.issubdtype(input_arr.dtype, np.integer):
    result = _round_half_away_from_zero(result)
  return result.astype(input_arr.dtype)

"""jax.nn.initializers: parameter initializers, drawing from pyjax.random with JAX's
calls in JAX's order, so a key gives JAX's values.

One device only: ``out_sharding`` is accepted and has no effect, except that
``orthogonal`` and ``delta_orthogonal`` raise NotImplementedError for one, as JAX's.
"""
from __future__ import annotations

import math
import typing
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src import random
from pyjax._src.numpy import array_creation, ufuncs
from pyjax._src.numpy import lax_numpy as jnp

__all__ = [
    "Initializer", "constant", "delta_orthogonal", "glorot_normal", "glorot_uniform",
    "he_normal", "he_uniform", "kaiming_normal", "kaiming_uniform", "lecun_normal",
    "lecun_uniform", "normal", "ones", "orthogonal", "truncated_normal", "uniform",
    "variance_scaling", "xavier_normal", "xavier_uniform", "zeros",
]


def _set_module(obj):
  obj.__module__ = "jax.nn.initializers"
  return obj


@_set_module
@typing.runtime_checkable
class Initializer(Protocol):
  """Protocol for the initializers this module builds: ``init(key, shape, dtype)``."""

  def __call__(self, key, shape, dtype=None, out_sharding=None) -> Any:
    raise NotImplementedError


def _default(dtype):
  return dtypes.default_float_dtype() if dtype is None else dtype


def zeros(key, shape, dtype=None, out_sharding=None):
  """An array of zeros (``key`` is ignored)."""
  return array_creation.zeros(shape, _default(dtype))


def ones(key, shape, dtype=None, out_sharding=None):
  """An array of ones (``key`` is ignored)."""
  return array_creation.ones(shape, _default(dtype))


def constant(value, dtype=None):
  """Builds an initializer giving arrays full of ``value``."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    return array_creation.full(shape, value, dtype=_default(dtype))
  return init


def uniform(scale=1e-2, dtype=None):
  """Builds an initializer drawing uniformly from ``[0, scale)``."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    dtype = _default(dtype)
    return random.uniform(key, shape, dtype) * jnp.asarray(scale, dtype)
  return init


def normal(stddev=1e-2, dtype=None):
  """Builds an initializer drawing from a normal with mean 0 and ``stddev``."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    dtype = _default(dtype)
    return random.normal(key, shape, dtype) * jnp.asarray(stddev, dtype)
  return init


def truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0):
  """Builds an initializer drawing a standard normal truncated to ``(lower, upper)``,
  times ``stddev`` (no variance correction)."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    dtype = _default(dtype)
    return random.truncated_normal(key, lower, upper, shape, dtype) * jnp.asarray(
        stddev, dtype)
  return init


def _compute_fans(shape: Sequence[int], in_axis=-2, out_axis=-1, batch_axis=()):
  """(fan_in, fan_out) of a dense or convolution kernel: axes in none of ``in_axis``,
  ``out_axis``, ``batch_axis`` are the receptive field."""
  if isinstance(in_axis, int) and in_axis == -2 and len(shape) <= 1:
    raise ValueError(
        f"Can't compute input and output sizes of a {len(shape)}-dimensional"
        " weights tensor with default in_axis. Must be at least 2D or specify"
        " in_axis explicitly.")

  def size(axes):
    if isinstance(axes, int):
      return shape[axes]
    return math.prod([shape[i] for i in axes])

  in_size, out_size, batch_size = size(in_axis), size(out_axis), size(batch_axis)
  receptive_field_size = math.prod(shape) / in_size / out_size / batch_size
  return in_size * receptive_field_size, out_size * receptive_field_size


def _complex_uniform(key, shape, dtype):
  key_r, key_theta = random.split(key)
  real_dtype = np.array(0, dtype).real.dtype
  dtype = dtypes.to_complex_dtype(real_dtype)
  r = ufuncs.sqrt(2 * random.uniform(key_r, shape, real_dtype)).astype(dtype)
  theta = 2 * np.pi * random.uniform(key_theta, shape, real_dtype).astype(dtype)
  return r * ufuncs.exp(1j * theta)


def _complex_truncated_normal(key, upper, shape, dtype):
  key_r, key_theta = random.split(key)
  real_dtype = np.array(0, dtype).real.dtype
  dtype = dtypes.to_complex_dtype(real_dtype)
  t = ((1 - ufuncs.exp(jnp.asarray(-(upper ** 2), dtype)))
       * random.uniform(key_r, shape, real_dtype).astype(dtype))
  r = ufuncs.sqrt(-ufuncs.log(1 - t))
  theta = 2 * np.pi * random.uniform(key_theta, shape, real_dtype).astype(dtype)
  return r * ufuncs.exp(1j * theta)


def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(),
                     dtype=None):
  """Builds an initializer with variance ``scale / n``, ``n`` from the kernel's fans by
  ``mode`` ('fan_in', 'fan_out', 'fan_avg', 'fan_geo_avg'); ``distribution`` is
  'truncated_normal', 'normal' or 'uniform' (a disk for complex dtypes)."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    shape = tuple(core.concrete_dim(d) for d in shape)
    dtype = _default(dtype)
    fan_in, fan_out = _compute_fans(shape, in_axis, out_axis, batch_axis)
    if mode == "fan_in":
      denominator = fan_in
    elif mode == "fan_out":
      denominator = fan_out
    elif mode == "fan_avg":
      denominator = (fan_in + fan_out) / 2
    elif mode == "fan_geo_avg":
      denominator = (fan_in * fan_out) ** 0.5
    else:
      raise ValueError(f"invalid mode for variance scaling initializer: {mode}")
    variance = jnp.asarray(scale / denominator, dtype=dtype)
    if distribution == "truncated_normal":
      if dtypes.issubdtype(dtype, np.floating):
        # the standard deviation of a standard normal truncated to (-2, 2)
        stddev = ufuncs.sqrt(variance) / jnp.asarray(.87962566103423978, dtype)
        return random.truncated_normal(key, -2, 2, shape, dtype) * stddev
      # the standard deviation of a complex standard normal truncated to 2
      stddev = ufuncs.sqrt(variance) / jnp.asarray(.95311164380491208, dtype)
      return _complex_truncated_normal(key, 2, shape, dtype) * stddev
    elif distribution == "normal":
      return random.normal(key, shape, dtype) * ufuncs.sqrt(variance)
    elif distribution == "uniform":
      if dtypes.issubdtype(dtype, np.floating):
        return random.uniform(key, shape, dtype, -1) * ufuncs.sqrt(3 * variance)
      return _complex_uniform(key, shape, dtype) * ufuncs.sqrt(variance)
    raise ValueError(
        f"invalid distribution for variance scaling initializer: {distribution}")
  return init


def glorot_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
  """variance_scaling(1.0, 'fan_avg', 'uniform')."""
  return variance_scaling(1.0, "fan_avg", "uniform", in_axis=in_axis, out_axis=out_axis,
                          batch_axis=batch_axis, dtype=dtype)


def glorot_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
  """variance_scaling(1.0, 'fan_avg', 'truncated_normal')."""
  return variance_scaling(1.0, "fan_avg", "truncated_normal", in_axis=in_axis,
                          out_axis=out_axis, batch_axis=batch_axis, dtype=dtype)


def lecun_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
  """variance_scaling(1.0, 'fan_in', 'uniform')."""
  return variance_scaling(1.0, "fan_in", "uniform", in_axis=in_axis, out_axis=out_axis,
                          batch_axis=batch_axis, dtype=dtype)


def lecun_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
  """variance_scaling(1.0, 'fan_in', 'truncated_normal')."""
  return variance_scaling(1.0, "fan_in", "truncated_normal", in_axis=in_axis,
                          out_axis=out_axis, batch_axis=batch_axis, dtype=dtype)


def he_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
  """variance_scaling(2.0, 'fan_in', 'uniform')."""
  return variance_scaling(2.0, "fan_in", "uniform", in_axis=in_axis, out_axis=out_axis,
                          batch_axis=batch_axis, dtype=dtype)


def he_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
  """variance_scaling(2.0, 'fan_in', 'truncated_normal')."""
  return variance_scaling(2.0, "fan_in", "truncated_normal", in_axis=in_axis,
                          out_axis=out_axis, batch_axis=batch_axis, dtype=dtype)


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal


def orthogonal(scale=1.0, column_axis=-1, dtype=None):
  """Builds an initializer of Haar-random matrices with orthonormal rows or columns
  (whichever side is smaller) along ``column_axis``, times ``scale``."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    if out_sharding is not None:
      raise NotImplementedError
    dtype = _default(dtype)
    if len(shape) < 2:
      raise ValueError("orthogonal initializer requires at least a 2D shape")
    if any(dim == 0 for dim in shape):
      return array_creation.zeros(shape, dtype=dtype)
    n_rows, n_cols = math.prod(shape) // shape[column_axis], shape[column_axis]
    q = random.orthogonal(key, n_rows, (), dtype, n_cols)
    q = jnp.reshape(q, tuple(np.delete(shape, column_axis)) + (shape[column_axis],))
    q = jnp.moveaxis(q, -1, column_axis)
    return jnp.asarray(scale, dtype) * q
  return init


def delta_orthogonal(scale=1.0, column_axis=-1, dtype=None):
  """Builds an initializer of 3-5D convolution kernels that are zero but for an
  orthogonal matrix at the spatial centre."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    if out_sharding is not None:
      raise NotImplementedError
    dtype = _default(dtype)
    if len(shape) not in [3, 4, 5]:
      raise ValueError("Delta orthogonal initializer requires a 3D, 4D or 5D shape.")
    if shape[-1] < shape[-2]:
      raise ValueError("`fan_in` must be less or equal than `fan_out`. ")
    ortho_matrix = orthogonal(scale=scale, column_axis=column_axis, dtype=dtype)(
        key, shape[-2:])
    w = array_creation.zeros(shape, dtype=dtype)
    centre = tuple((k - 1) // 2 for k in shape[:-2])
    return w.at[centre + (Ellipsis,)].set(ortho_matrix)
  return init


for _f in (zeros, ones, constant, uniform, normal, truncated_normal, variance_scaling,
           glorot_uniform, glorot_normal, lecun_uniform, lecun_normal, he_uniform,
           he_normal, orthogonal, delta_orthogonal, _compute_fans):
  _set_module(_f)
del _f

"""jax.nn's activations and other functions, with JAX's sequences of operations.

JAX wraps most of these in ``jit``; here they run op by op (eager NumPy, or staged into
the caller's trace), so ``make_jaxpr`` shows their operations inline, not a ``pjit``.
"""
from __future__ import annotations

import math
import operator
import warnings

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.config import config
from pyjax._src.custom_derivatives import custom_jvp
from pyjax._src.interpreters.batching import axis_size as _axis_size
from pyjax._src.lax import lax
from pyjax._src.lax import parallel as lax_parallel
from pyjax._src.lax import special as lax_special
from pyjax._src.numpy import array_manipulation, reductions, ufuncs
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy.util import (canonicalize_axis, check_arraylike, ensure_arraylike,
                                   promote_args_inexact)
from pyjax._src.ops.special import logsumexp

__all__ = [
    "celu", "elu", "gelu", "glu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
    "identity", "leaky_relu", "log1mexp", "log_sigmoid", "log_softmax", "logmeanexp",
    "logsumexp", "mish", "one_hot", "relu", "relu6", "selu", "sigmoid", "silu",
    "soft_sign", "softmax", "softplus", "sparse_plus", "sparse_sigmoid", "squareplus",
    "standardize", "swish",
]


# ---------------------------------------------------------------- activations


def identity(x):
  """The argument as an array, unchanged."""
  return ensure_arraylike("identity", x)


@custom_jvp
def relu(x):
  """``max(x, 0)``; its derivative at 0 is 0 (JAX's custom JVP)."""
  return ufuncs.maximum(x, 0)


relu.defjvps(lambda g, ans, x: lax.select(x > 0, g, lax.full_like(g, 0)))


def squareplus(x, b=4):
  """``(x + sqrt(x**2 + b)) / 2``."""
  x, b = ensure_arraylike("squareplus", x, b)
  y = x + ufuncs.sqrt(ufuncs.square(x) + b)
  return y / 2


def softplus(x):
  """``log(1 + exp(x))``, as ``logaddexp(x, 0)``."""
  return ufuncs.logaddexp(x, 0)


def sparse_plus(x):
  """0 below -1, ``(x + 1)**2 / 4`` between, ``x`` from 1."""
  x = ensure_arraylike("sparse_plus", x)
  return jnp.where(x <= -1.0, 0.0, jnp.where(x >= 1.0, x, (x + 1.0)**2 / 4))


def soft_sign(x):
  """``x / (|x| + 1)``."""
  x = ensure_arraylike("soft_sign", x)
  return x / (ufuncs.abs(x) + 1)


def sigmoid(x):
  """``1 / (1 + exp(-x))`` (``lax.logistic``)."""
  return lax.logistic(x)


def sparse_sigmoid(x):
  """0 below -1, ``(x + 1) / 2`` between, 1 from 1."""
  return 0.5 * jnp.clip(x + 1.0, 0.0, 2.0)


def silu(x):
  """``x * sigmoid(x)`` (also called swish)."""
  x = ensure_arraylike("silu", x)
  return x * sigmoid(x)


swish = silu


def mish(x):
  """``x * tanh(softplus(x))``."""
  x = ensure_arraylike("mish", x)
  return x * ufuncs.tanh(softplus(x))


def log_sigmoid(x):
  """``log(sigmoid(x)) = -softplus(-x)``."""
  x = ensure_arraylike("log_sigmoid", x)
  return -softplus(-x)


def elu(x, alpha=1.0):
  """``x`` above 0, else ``alpha * (exp(x) - 1)``."""
  x = ensure_arraylike("elu", x)
  return jnp.where(x > 0, x, alpha * ufuncs.expm1(jnp.where(x > 0, 0., x)))


def leaky_relu(x, negative_slope=1e-2):
  """``x`` from 0, else ``negative_slope * x``."""
  x = ensure_arraylike("leaky_relu", x)
  return jnp.where(x >= 0, x, negative_slope * x)


def hard_tanh(x):
  """``x`` clipped to [-1, 1]."""
  x = ensure_arraylike("hard_tanh", x)
  return jnp.where(x > 1, 1, jnp.where(x < -1, -1, x))


def celu(x, alpha=1.0):
  """``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``."""
  return ufuncs.maximum(x, 0.0) + alpha * ufuncs.expm1(ufuncs.minimum(x, 0.0) / alpha)


def selu(x):
  """Scaled ELU with the self-normalizing constants."""
  alpha = 1.6732632423543772848170429916717
  scale = 1.0507009873554804934193349852946
  return scale * elu(x, alpha)


def gelu(x, approximate: bool = True):
  """Gaussian error linear unit: the tanh approximation, or ``x/2 erfc(-x/sqrt 2)``."""
  [x_arr] = promote_args_inexact("gelu", x)
  if approximate:
    sqrt_2_over_pi = np.sqrt(2 / np.pi).astype(x_arr.dtype)
    cdf = 0.5 * (1.0 + ufuncs.tanh(sqrt_2_over_pi * (x_arr + 0.044715 * (x_arr ** 3))))
    return x_arr * cdf
  sqrt_half = np.sqrt(0.5).astype(x_arr.dtype)
  return jnp.asarray(0.5 * x_arr * (lax_special.erfc(-x_arr * sqrt_half)),
                     dtype=x_arr.dtype)


def glu(x, axis: int = -1):
  """First half of ``x`` along ``axis`` times the sigmoid of the second half."""
  x = ensure_arraylike("glu", x)
  size = x.shape[axis]
  assert size % 2 == 0, "axis size must be divisible by 2"
  x1, x2 = array_manipulation.split(x, 2, axis)
  return x1 * sigmoid(x2)


@custom_jvp
def relu6(x):
  """``min(max(x, 0), 6)``; its derivative at 0 and 6 is 0."""
  return ufuncs.minimum(ufuncs.maximum(x, 0), 6.)


relu6.defjvps(lambda g, ans, x: lax.select((x > 0) & (x < 6), g, lax.full_like(g, 0)))


def hard_sigmoid(x):
  """``relu6(x + 3) / 6``."""
  return relu6(x + 3.) / 6.


def hard_silu(x):
  """``x * hard_sigmoid(x)`` (also called hard_swish)."""
  x = ensure_arraylike("hard_silu", x)
  return x * hard_sigmoid(x)


hard_swish = hard_silu


@custom_jvp
def log1mexp(x):
  """``log(1 - exp(-x))`` for ``x >= 0``, stable on both sides of ``log 2``."""
  x = ensure_arraylike("log1mexp", x)
  c = ufuncs.log(2.0)
  return jnp.where(x < c, ufuncs.log(-ufuncs.expm1(-x)), ufuncs.log1p(-ufuncs.exp(-x)))


log1mexp.defjvps(lambda g, ans, x: g / ufuncs.expm1(x))


# ---------------------------------------------------------------- normalizations


def _count(x, axis, where, keepdims, dtype):
  if where is None:
    shape = np.shape(x)
    if axis is None:
      n = math.prod(shape)
    else:
      axes = axis if isinstance(axis, (tuple, list)) else (axis,)
      n = math.prod(shape[canonicalize_axis(a, len(shape))] for a in axes)
    return lax.convert_element_type(n, dtype)
  return reductions.sum(jnp.broadcast_to(where, np.shape(x)), axis, dtype=dtype,
                        keepdims=keepdims)


def logmeanexp(x, axis=None, where=None, keepdims: bool = False):
  """``logsumexp(x) - log(n)`` over ``axis`` (``n`` the count of included elements)."""
  lse = logsumexp(x, axis=axis, where=where, keepdims=keepdims)
  count = _count(x, axis, where, keepdims, lse.dtype)
  return lse - ufuncs.log(count)


def log_softmax(x, axis=-1, where=None):
  """``x - logsumexp(x)`` over ``axis`` (int, tuple or None); -inf where ``where`` is
  False."""
  x_arr = ensure_arraylike("log_softmax", x)
  x_max = reductions.max(x_arr, axis, where=where, initial=-np.inf, keepdims=True)
  x_safe = x_arr if where is None else jnp.where(where, x_arr, -np.inf)
  shifted = x_safe - lax.stop_gradient(x_max)
  shifted_logsumexp = ufuncs.log(
      reductions.sum(ufuncs.exp(shifted), axis, where=where, keepdims=True))
  result = shifted - shifted_logsumexp
  if where is not None:
    return jnp.where(where, result, -np.inf)
  return result


def softmax(x, axis=-1, where=None):
  """``exp(x) / sum(exp(x))`` over ``axis`` (int, tuple or None); 0 where ``where`` is
  False. With ``jax_softmax_custom_jvp`` on, JAX's custom JVP formulation."""
  if config.jax_softmax_custom_jvp:
    return _softmax(x, axis, where)
  return _softmax_deprecated(x, axis, where)


def _softmax_body(x, axis, where, initial, stop):
  x_max = reductions.max(x, axis, where=where, initial=initial, keepdims=True)
  x_safe = x if where is None else jnp.where(where, x, initial)
  unnormalized = ufuncs.exp(x_safe - (lax.stop_gradient(x_max) if stop else x_max))
  result = unnormalized / reductions.sum(unnormalized, axis, where=where, keepdims=True)
  if where is not None:
    result = jnp.where(where, result, 0)
  return result


def _softmax_impl(x, axis=-1, where=None, initial=-np.inf):
  return _softmax_body(x, axis, where, initial, False)


_softmax = custom_jvp(_softmax_impl, nondiff_argnums=(1,))


@_softmax.defjvp
def _softmax_jvp(axis, primals, tangents):
  (x, where, initial), (x_dot, _, _) = primals, tangents
  y = _softmax(x, axis, where, initial)
  return y, y * (x_dot - (y * x_dot).sum(axis, where=where, keepdims=True))


def _softmax_deprecated(x, axis=-1, where=None, initial=-np.inf):
  return _softmax_body(x, axis, where, initial, True)


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None, *,
                algorithm: str = "fast"):
  """``(x - mean) / sqrt(variance + epsilon)`` over ``axis``; ``algorithm`` 'fast'
  (``E[x^2] - E[x]^2``, clipped at 0) or 'stable' (two passes)."""
  check_arraylike("standardize", x)
  for a in (mean, variance, where):
    if a is not None:
      check_arraylike("standardize", a)
  if mean is None:
    mean = reductions.mean(x, axis, keepdims=True, where=where)
  if variance is None:
    if algorithm == "stable":
      variance = reductions.mean(ufuncs.square(ufuncs.subtract(x, mean)), axis,
                                 keepdims=True, where=where)
    elif algorithm == "fast":
      variance = reductions.mean(ufuncs.square(x), axis, keepdims=True,
                                 where=where) - ufuncs.square(mean)
      variance = jnp.clip(variance, 0)
    else:
      raise ValueError(f"Unknown algorithm '{algorithm}'. Expected 'fast' or 'stable'.")
  return ufuncs.subtract(x, mean) * lax.rsqrt(variance + epsilon)


def _one_hot(x, num_classes, *, dtype, axis):
  try:
    output_pos_axis = canonicalize_axis(axis, x.ndim + 1)
  except TypeError:
    size = _axis_size(axis)
    if num_classes != size:
      raise ValueError(f"Expected num_classes to match the size of axis {axis}, "
                       f"but {num_classes} != {size}") from None
    axis_idx = lax_parallel.axis_index(axis)
    return jnp.asarray(x == axis_idx, dtype=dtype)
  axis = operator.index(axis)
  lhs = lax.expand_dims(x, (axis,))
  rhs_shape = [1] * x.ndim
  rhs_shape.insert(output_pos_axis, num_classes)
  rhs = lax.broadcasted_iota(x.dtype, rhs_shape, output_pos_axis)
  return (lhs == rhs).astype(dtype)


def one_hot(x, num_classes: int, *, dtype=None, axis=-1):
  """Each index of ``x`` as a length-``num_classes`` vector with a 1 at the index (all
  zeros out of range). A float ``x`` warns (DeprecationWarning), as JAX's."""
  num_classes = core.concrete_dim(
      num_classes, "The error arose in jax.nn.one_hot argument `num_classes`.")
  x_arr = jnp.asarray(x)
  if not dtypes.isdtype(x_arr.dtype, "integral"):
    warnings.warn(
        f"jax.nn.one_hot input should be integer-typed; got dtype={x_arr.dtype}",
        DeprecationWarning, stacklevel=2)
  dtype = dtypes.default_float_dtype() if dtype is None else dtype
  return _one_hot(x_arr, num_classes, dtype=dtype, axis=axis)

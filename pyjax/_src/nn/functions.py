"""jax.nn's activations and other functions, with JAX's sequences of operations.

JAX wraps most of these in ``jit``; here they run op by op (eager NumPy, or staged into
the caller's trace), so ``make_jaxpr`` shows their operations inline, not a ``pjit``.
"""
from __future__ import annotations

import functools
import math
import operator
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.config import config
from pyjax._src.custom_derivatives import custom_jvp
from pyjax._src.interpreters.batching import axis_size as _axis_size
from pyjax._src.interpreters.batching import vmap
from pyjax._src.lax import dot as lax_dot
from pyjax._src.lax import lax
from pyjax._src.lax import parallel as lax_parallel
from pyjax._src.lax import special as lax_special
from pyjax._src.numpy import array_creation, array_manipulation, reductions, ufuncs
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy.util import staged_jit
from pyjax._src.numpy.util import (canonicalize_axis, check_arraylike, ensure_arraylike,
                                   promote_args_inexact)
from pyjax._src.ops.special import logsumexp

__all__ = [
    "celu", "dot_product_attention", "elu", "gelu", "get_scaled_dot_general_config",
    "glu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "identity",
    "leaky_relu", "log1mexp", "log_sigmoid", "log_softmax", "logmeanexp", "logsumexp",
    "mish", "one_hot", "relu", "relu6", "scaled_dot_general", "scaled_matmul", "selu",
    "sigmoid", "silu", "soft_sign", "softmax", "softplus", "sparse_plus",
    "sparse_sigmoid", "squareplus", "standardize", "swish",
]


# ---------------------------------------------------------------- activations


def identity(x):
  """The argument as an array, unchanged."""
  return ensure_arraylike("identity", x)


@custom_jvp
@staged_jit
def relu(x):
  """``max(x, 0)``; its derivative at 0 is 0 (JAX's custom JVP)."""
  return ufuncs.maximum(x, 0)


relu.defjvps(lambda g, ans, x: lax.select(x > 0, g, lax.full_like(g, 0)))


@staged_jit
def squareplus(x, b=4):
  """``(x + sqrt(x**2 + b)) / 2``."""
  x, b = ensure_arraylike("squareplus", x, b)
  y = x + ufuncs.sqrt(ufuncs.square(x) + b)
  return y / 2


@staged_jit
def softplus(x):
  """``log(1 + exp(x))``, as ``logaddexp(x, 0)``."""
  return ufuncs.logaddexp(x, 0)


@staged_jit
def sparse_plus(x):
  """0 below -1, ``(x + 1)**2 / 4`` between, ``x`` from 1."""
  x = ensure_arraylike("sparse_plus", x)
  return jnp.where(x <= -1.0, 0.0, jnp.where(x >= 1.0, x, (x + 1.0)**2 / 4))


@staged_jit
def soft_sign(x):
  """``x / (|x| + 1)``."""
  x = ensure_arraylike("soft_sign", x)
  return x / (ufuncs.abs(x) + 1)


def sigmoid(x):
  """``1 / (1 + exp(-x))`` (``lax.logistic``)."""
  return lax.logistic(x)


@staged_jit
def sparse_sigmoid(x):
  """0 below -1, ``(x + 1) / 2`` between, 1 from 1."""
  return 0.5 * jnp.clip(x + 1.0, 0.0, 2.0)


@staged_jit
def silu(x):
  """``x * sigmoid(x)`` (also called swish)."""
  x = ensure_arraylike("silu", x)
  return x * sigmoid(x)


swish = silu


@staged_jit
def mish(x):
  """``x * tanh(softplus(x))``."""
  x = ensure_arraylike("mish", x)
  return x * ufuncs.tanh(softplus(x))


@staged_jit
def log_sigmoid(x):
  """``log(sigmoid(x)) = -softplus(-x)``."""
  x = ensure_arraylike("log_sigmoid", x)
  return -softplus(-x)


@staged_jit
def elu(x, alpha=1.0):
  """``x`` above 0, else ``alpha * (exp(x) - 1)``."""
  x = ensure_arraylike("elu", x)
  return jnp.where(x > 0, x, alpha * ufuncs.expm1(jnp.where(x > 0, 0., x)))


@staged_jit
def leaky_relu(x, negative_slope=1e-2):
  """``x`` from 0, else ``negative_slope * x``."""
  x = ensure_arraylike("leaky_relu", x)
  return jnp.where(x >= 0, x, negative_slope * x)


@staged_jit
def hard_tanh(x):
  """``x`` clipped to [-1, 1]."""
  x = ensure_arraylike("hard_tanh", x)
  return jnp.where(x > 1, 1, jnp.where(x < -1, -1, x))


@staged_jit
def celu(x, alpha=1.0):
  """``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``."""
  return ufuncs.maximum(x, 0.0) + alpha * ufuncs.expm1(ufuncs.minimum(x, 0.0) / alpha)


@staged_jit
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


@staged_jit(static_argnames=('axis',))
def glu(x, axis: int = -1):
  """First half of ``x`` along ``axis`` times the sigmoid of the second half."""
  x = ensure_arraylike("glu", x)
  size = x.shape[axis]
  assert size % 2 == 0, "axis size must be divisible by 2"
  x1, x2 = array_manipulation.split(x, 2, axis)
  return x1 * sigmoid(x2)


@custom_jvp
@staged_jit
def relu6(x):
  """``min(max(x, 0), 6)``; its derivative at 0 and 6 is 0."""
  return ufuncs.minimum(ufuncs.maximum(x, 0), 6.)


relu6.defjvps(lambda g, ans, x: lax.select((x > 0) & (x < 6), g, lax.full_like(g, 0)))


@staged_jit
def hard_sigmoid(x):
  """``relu6(x + 3) / 6``."""
  return relu6(x + 3.) / 6.


@staged_jit
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


@staged_jit(static_argnames=('axis', 'keepdims'))
def logmeanexp(x, axis=None, where=None, keepdims: bool = False):
  """``logsumexp(x) - log(n)`` over ``axis`` (``n`` the count of included elements)."""
  lse = logsumexp(x, axis=axis, where=where, keepdims=keepdims)
  count = _count(x, axis, where, keepdims, lse.dtype)
  return lse - ufuncs.log(count)


@staged_jit(static_argnames=('axis',))
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
    return _softmax(x, axis, where, -np.inf)
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
  y = _softmax(x, axis, where, initial)  # (JAX's rule: tangent of where/initial unused)
  return y, y * (x_dot - (y * x_dot).sum(axis, where=where, keepdims=True))


def _softmax_deprecated(x, axis=-1, where=None, initial=-np.inf):
  return _softmax_body(x, axis, where, initial, True)


@staged_jit(static_argnames=('axis', 'algorithm'))
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


@staged_jit(static_argnames=("num_classes", "dtype", "axis"))
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


# ---------------------------------------------------------------- attention


def _get_large_negative(dtype):
  # capped at float32's range: the softmax runs in float32
  dtype_max = min(dtypes.finfo(dtype).max, dtypes.finfo(np.float32).max)
  return jnp.asarray(-0.7 * dtype_max, dtype=dtype)


def _get_causal_mask(t, s):
  mask = array_manipulation.tril(array_creation.ones((t, s), dtype=bool))
  return mask[None, None, :, :]


def _get_window_mask(t, s, local_window_size):
  query_pos = jnp.asarray(np.arange(t))
  key_pos = jnp.asarray(np.arange(s))
  left_window, right_window = local_window_size
  left_mask = query_pos[..., None] <= key_pos[..., None, :] + left_window
  right_mask = query_pos[..., None] >= key_pos[..., None, :] - right_window
  return ufuncs.logical_and(right_mask, left_mask)[None, None, :, :]


def _get_padding_mask_logits(t, s, q_seqlen, kv_seqlen):
  q_mask = True
  kv_mask = True
  if q_seqlen is not None:
    q_indices = array_creation.arange(0, t)[None, :, None]
    q_mask = q_indices < q_seqlen[:, None, None]
  if kv_seqlen is not None:
    kv_indices = array_creation.arange(0, s)[None, None, :]
    kv_mask = kv_indices < kv_seqlen[:, None, None]
  mask = ufuncs.logical_and(q_mask, kv_mask)
  return mask[:, None, :, :]


def _get_padding_mask_encoded(t, q_seqlen):
  q_indices = array_creation.arange(0, t)[None, :]
  mask = q_indices < q_seqlen[:, None]
  return mask[:, :, None, None]


def _apply_masks(logits, mask, is_causal, q_seqlen, kv_seqlen, local_window_size):
  if (mask is None and not is_causal and q_seqlen is None and kv_seqlen is None and
      local_window_size is None):
    return logits
  combined_mask = array_creation.ones_like(logits, dtype=bool)
  if mask is not None:
    assert mask.dtype == np.dtype(bool)
    combined_mask = ufuncs.logical_and(combined_mask, mask)
  t, s = logits.shape[2], logits.shape[3]
  if is_causal:
    combined_mask = ufuncs.logical_and(combined_mask, _get_causal_mask(t, s))
  if local_window_size is not None:
    combined_mask = ufuncs.logical_and(combined_mask,
                                       _get_window_mask(t, s, local_window_size))
  if q_seqlen is not None or kv_seqlen is not None:
    combined_mask = ufuncs.logical_and(
        combined_mask, _get_padding_mask_logits(t, s, q_seqlen, kv_seqlen))
  return jnp.where(combined_mask, logits, _get_large_negative(logits.dtype))


def _attention_core(query, key, value, bias, mask, *, is_causal, scale, q_seqlen,
                    kv_seqlen, local_window_size, return_residual):
  logits_dtype = jnp.promote_types(query.dtype, np.float32)
  if query.dtype == dtypes.bfloat16:
    precision = lax_dot.DotAlgorithmPreset.BF16_BF16_F32
  elif query.dtype == np.float16:
    precision = lax_dot.DotAlgorithmPreset.F16_F16_F32
  else:
    precision = None
  # JAX's einsums "BTNH,BSNH->BNTS" and "BNTS,BSNH->BTNH", written as head-major
  # dot_generals with leading batch dimensions: IREE runs those ~1.4x faster (same sums).
  qt, kt = jnp.transpose(query, (0, 2, 1, 3)), jnp.transpose(key, (0, 2, 1, 3))
  dims = (((3,), (3,)), ((0, 1), (0, 1)))
  try:
    logits = lax_dot.dot_general(qt, kt, dims, precision=precision,
                                 preferred_element_type=logits_dtype)
  except Exception:  # an algorithm the platform lacks: the default precision, as JAX
    logits = lax_dot.dot_general(qt, kt, dims, preferred_element_type=logits_dtype)
  logits = logits * jnp.asarray(scale, dtype=logits.dtype)
  if bias is not None:
    logits = (logits + bias).astype(logits.dtype)
  padded_logits = _apply_masks(logits, mask, is_causal, q_seqlen, kv_seqlen,
                               local_window_size)
  padded_logits = padded_logits.astype(np.float32)  # the softmax runs in float32
  probs = softmax(padded_logits, axis=-1).astype(key.dtype)
  vt = jnp.transpose(value, (0, 2, 1, 3))  # probs and value: key's dtype (checked)
  encoded = jnp.transpose(
      lax_dot.dot_general(probs, vt, (((3,), (2,)), ((0, 1), (0, 1)))), (0, 2, 1, 3))
  if q_seqlen is not None:
    mask = _get_padding_mask_encoded(encoded.shape[1], q_seqlen)
    encoded = encoded * mask.astype(encoded.dtype)
  if return_residual:
    lse_residual = logsumexp(padded_logits, axis=-1).astype(key.dtype)
    lse_residual = jnp.transpose(lse_residual, (0, 2, 1))  # B N T -> B T N
    return encoded, lax.stop_gradient(lse_residual)
  return encoded


def _attention_xla(query, key, value, bias, mask, *, is_causal, scale, q_seqlen,
                   kv_seqlen, local_window_size, return_residual):
  b, t, n, h = query.shape
  _, _, k, _ = key.shape
  g = n // k
  core_fn = functools.partial(
      _attention_core, is_causal=is_causal, scale=scale, q_seqlen=q_seqlen,
      kv_seqlen=kv_seqlen, local_window_size=local_window_size,
      return_residual=return_residual)
  if g == 1:  # multi-head attention: no group axis to map over (the same sums)
    for x in (bias, mask):
      assert x is None or x.shape[1] in (1, n)
    return core_fn(query, key, value, bias, mask)
  query = jnp.reshape(query, (b, t, k, g, h))

  def grouped(x):
    if x is None:
      return None
    xb, xn, xt, xs = x.shape
    if xn == 1:
      return jnp.broadcast_to(x[:, :, None, :, :], (xb, xn, g, xt, xs))
    assert xn == n
    return jnp.reshape(x, (xb, k, g, xt, xs))

  bias, mask = grouped(bias), grouped(mask)
  out = vmap(core_fn, in_axes=(3, None, None, None if bias is None else 2,
                               None if mask is None else 2), out_axes=3)(
      query, key, value, bias, mask)
  if return_residual:
    encoded, lse_residual = out
    return (jnp.reshape(encoded, (b, t, n, h)), jnp.reshape(lse_residual, (b, t, n)))
  return jnp.reshape(out, (b, t, n, h))


def dot_product_attention(query, key, value, bias=None, mask=None, *, scale=None,
                          is_causal: bool = False, query_seq_lengths=None,
                          key_value_seq_lengths=None, local_window_size=None,
                          implementation=None, return_residual: bool = False):
  """``softmax(Q K^T * scale + bias, masked) V`` per head, for (B,T,N,H) or (T,N,H)
  operands; fewer key/value heads than query heads is grouped-query attention.

  Only the 'xla' implementation (also ``None``) exists here; 'cudnn' raises JAX's
  error for a machine without cuDNN."""
  output_shape = jnp.asarray(query).shape
  residual_shape = output_shape[:-1]

  def ensure_4d(x):
    x = jnp.asarray(x)
    if x.ndim < 4:
      return jnp.expand_dims(x, axis=tuple(range(4 - x.ndim)))
    return x

  query_arr, key_arr, value_arr = ensure_4d(query), ensure_4d(key), ensure_4d(value)
  bias = ensure_4d(bias) if bias is not None else None
  mask = ensure_4d(mask) if mask is not None else None
  if query_seq_lengths is not None:
    query_seq_lengths = jnp.asarray(query_seq_lengths)
  if key_value_seq_lengths is not None:
    key_value_seq_lengths = jnp.asarray(key_value_seq_lengths)
  if isinstance(local_window_size, int):
    local_window_size = (local_window_size, local_window_size)

  def check(x, shape, dtype, name):
    if x is None:
      return
    if x.ndim != len(shape):
      raise ValueError(f"{name} ndim should be {len(shape)}, but got {x.ndim}")
    if dtype is not None and x.dtype != dtype:
      raise ValueError(f"{name} dtype should be {dtype}, but got {x.dtype}")
    for i in range(x.ndim):
      if shape[i] != -1 and x.shape[i] != shape[i]:
        raise ValueError(f"{name} shape should be {shape}: but got {x.shape}")

  b, _, k, h = key_arr.shape
  s = key_arr.shape[1]
  check(value_arr, [b, s, k, h], key_arr.dtype, "value")
  check(query_arr, [b, -1, -1, h], key_arr.dtype, "query")
  check(mask, [-1] * 4, np.dtype(bool), "mask")
  check(bias, [-1] * 4, None, "bias")
  check(query_seq_lengths, [b], np.dtype("int32"), "query_seq_lengths")
  check(key_value_seq_lengths, [b], np.dtype("int32"), "key_value_seq_lengths")
  if query_arr.shape[-2] % k != 0:
    raise ValueError(f"The number of query heads must be a multiple of "
                     f"key/value heads, but got {query_arr.shape[-2]} vs {k}")
  scale_val = (1.0 / np.sqrt(h)) if scale is None else scale
  if implementation == "cudnn":  # JAX's error without cuDNN
    raise RuntimeError("cuDNN is not detected.")
  if implementation not in (None, "xla"):
    raise ValueError(f"Unsupported implementation option: {implementation}")
  out = _attention_xla(
      query_arr, key_arr, value_arr, bias, mask, is_causal=is_causal, scale=scale_val,
      q_seqlen=query_seq_lengths, kv_seqlen=key_value_seq_lengths,
      local_window_size=local_window_size, return_residual=return_residual)
  if return_residual:
    out, residual = out
    return jnp.reshape(out, output_shape), jnp.reshape(residual, residual_shape)
  return jnp.reshape(out, output_shape)


# ---------------------------------------------------------------- block-scaled matmuls


@dataclass(slots=True)
class BlockScaleConfig:
  """A block-scaled quantization config (``get_scaled_dot_general_config``'s result)."""
  mode: str
  block_size: int
  data_type: Any
  scale_type: Any
  global_scale: Any
  infer_only: bool


def _no_cpu_scaled_matmul():
  raise NotImplementedError(
      "MLIR translation rule for primitive 'scaled_matmul' not found for platform cpu")


def scaled_matmul(lhs, rhs, lhs_scales, rhs_scales, preferred_element_type=np.float32):
  """Block-scaled ``(B,M,K) x (B,N,K) -> (B,M,N)``. As JAX's on CPU, it checks the
  shapes and then raises NotImplementedError (it is a cuDNN kernel)."""
  a, b, a_scales, b_scales = lhs, rhs, lhs_scales, rhs_scales
  if not all(x.ndim == 3 for x in (a, b, a_scales, b_scales)):
    raise ValueError("scaled_matmul requires all inputs to be 3-dimensional arrays")
  b_a, _, k_a = a.shape
  b_b, _, k_b = b.shape
  if k_a != k_b or b_a != b_b:
    raise ValueError(
        "scaled_matmul requires inputs a and b to have matching batch (B) "
        f"and contract (K) dimensions, but got shapes {a.shape} and {b.shape}")
  b_as, m_as, k_as = a_scales.shape
  b_bs, n_bs, k_bs = b_scales.shape
  if k_as != k_bs or b_as != b_bs:
    raise ValueError(
        "scaled_matmul requires scales to have matching batch (B) and "
        f"contract (K) dimensions, but got shapes {a_scales.shape} and "
        f"{b_scales.shape}")
  if m_as != a.shape[1] or n_bs != b.shape[1]:
    raise ValueError(
        "scaled_matmul requires scales to match non-contract dimensions of "
        f"inputs, but got shapes a: {a.shape}, b: {b.shape}, a_scales: "
        f"{a_scales.shape}, b_scales: {b_scales.shape}")
  dtypes.check_user_dtype_supported(preferred_element_type, "scaled_matmul")
  _no_cpu_scaled_matmul()


def get_scaled_dot_general_config(mode, global_scale=None):
  """The BlockScaleConfig of 'nvfp4' or 'mxfp8' for ``scaled_dot_general``."""
  if mode == "nvfp4":
    one = array_creation.ones((1,), dtype=np.float32)
    return BlockScaleConfig(
        mode="nvfp4", block_size=16, data_type=dtypes.float4_e2m1fn.type,
        scale_type=dtypes.float8_e4m3fn.type,
        global_scale=one if global_scale is None else global_scale, infer_only=False)
  if mode == "mxfp8":
    return BlockScaleConfig(
        mode="mxfp8", block_size=32, data_type=dtypes.float8_e4m3fn.type,
        scale_type=dtypes.float8_e8m0fnu.type, global_scale=None, infer_only=False)
  raise ValueError(f"Unsupported mode: {mode}")


def scaled_dot_general(lhs, rhs, dimension_numbers, preferred_element_type=np.float32,
                       configs=None, implementation=None):
  """``lax.dot_general`` when ``configs`` is None; with configs (block-scaled
  quantization, a cuDNN kernel) it raises NotImplementedError, as JAX's on CPU."""
  if implementation is not None:
    warnings.warn("Backend selector, now ignored. The system chooses the "
                  "backend automatically.", DeprecationWarning)
  if configs is None:
    return lax_dot.dot_general(lhs, rhs, dimension_numbers,
                               preferred_element_type=preferred_element_type)
  if np.dtype(preferred_element_type) not in (np.dtype("float32"), dtypes.bfloat16,
                                               np.dtype("float16")):
    raise TypeError("Only support preferred_element_type in (f32, bf16, f16), but got "
                    "{preferred_element_type}")
  _no_cpu_scaled_matmul()

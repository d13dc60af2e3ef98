"""jax.random samplers on threefry2x32 keys, reproducing JAX's algorithms exactly.

Every sampler is written with lax / jax.numpy ops on key data so that it works
under transformations. Accepts typed keys (``random.key``) and legacy uint32[2]
keys (``random.PRNGKey``). Each sampler's keyword-only ``out_sharding`` is handled by
the wrapper at the end of this module: the sample, drawn as without it (JAX draws the
same bits), resharded to it.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from pyjax._src import core, dtypes, prng
from pyjax._src.interpreters.batching import vmap
from pyjax._src.custom_derivatives import custom_jvp
from pyjax._src.lax import cpu_numerics
from pyjax._src.lax import lax
from pyjax._src.lax import sorting as lax_sorting
from pyjax._src.lax import special as lax_special
from pyjax._src.lax.control_flow import scan, while_loop
from pyjax._src.lax.sharding_ops import reshard
from pyjax._src.numpy import (array_creation, array_manipulation, indexing, reductions,
                               sorting, ufuncs)
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import linalg as jnp_linalg
from pyjax._src.numpy.einsum import einsum
from pyjax._src.numpy.util import promote_dtypes_inexact
from pyjax._src.prng import PRNGKeyArray, UINT_DTYPES

# ---------------------------------------------------------------- keys


def _check_prng_key(name, key):
  """Returns (typed key, whether it was legacy uint32 data)."""
  if isinstance(key, PRNGKeyArray):
    return key, False
  if not all(hasattr(key, a) for a in ("ndim", "shape", "dtype")):
    raise TypeError("JAX encountered invalid PRNG key data: expected key_data to have "
                    f"ndim, shape, and dtype attributes. Got {key}")
  arr = lax._to_array(key)
  if arr.dtype != np.dtype(np.uint32):
    raise TypeError("JAX encountered invalid PRNG key data: expected key_data.dtype = "
                    f"uint32; got dtype={arr.dtype}")
  if arr.ndim < 1 or arr.shape[-1] != 2:
    raise TypeError("JAX encountered invalid PRNG key data: expected key_data.shape to "
                    f"end with (2,); got shape={arr.shape} for impl=threefry2x32")
  return PRNGKeyArray(prng.threefry_prng_impl, arr), True


def _single_key(name, key):
  key, wrapped = _check_prng_key(name, key)
  if key.ndim:
    raise ValueError(f"{name} accepts a single key, but was given a key array of shape "
                     f"{key.shape} != (). Use jax.vmap for batching.")
  if not wrapped:  # legacy uint32 keys are not tracked, as in JAX
    key._check_reuse("jit-compiled function")
  return key


def _return_key(keys, wrapped):
  return prng.key_data(keys) if wrapped else keys


def _impl_arg(impl):
  return prng.resolve_prng_impl(impl)


def key(seed, *, impl=None):
  """A typed key array (dtype ``key<fry>``) from an integer seed."""
  return prng.random_seed(seed, _impl_arg(impl))


def PRNGKey(seed, *, impl=None):
  """A legacy uint32[2] key from an integer seed."""
  return prng.key_data(prng.random_seed(seed, _impl_arg(impl)))


def key_data(keys):
  if not isinstance(keys, PRNGKeyArray):
    _check_prng_key("key_data", keys)
    return keys
  return prng.key_data(keys)


def wrap_key_data(key_bits_array, *, impl=None):
  return prng.wrap_key_data(key_bits_array, _impl_arg(impl))


def key_impl(keys):
  keys, _ = _check_prng_key("key_impl", keys)
  return keys._impl


def key_dtype(*, impl=None):
  return prng.KeyTy(_impl_arg(impl))


def clone(key):
  """The same key, not marked consumed where its source is (jax_debug_key_reuse)."""
  if isinstance(key, PRNGKeyArray):
    return PRNGKeyArray(key._impl, key._base_array)
  return key


def _canon_shape(shape, name="shape"):
  if isinstance(shape, (int, np.integer)):
    shape = (shape,)
  return core.canonicalize_shape(shape)


def split(key, num=2):
  """Splits a key (or key array) into ``num`` new keys (``num`` may be a shape)."""
  typed, wrapped = _check_prng_key("split", key)
  shape = _canon_shape(num, "num")
  if not wrapped:
    typed._check_reuse("random_split")
  return _return_key(prng.random_split(typed, shape), wrapped)


def fold_in(key, data):
  typed, wrapped = _check_prng_key("fold_in", key)
  if isinstance(data, int):
    if not 0 <= data < 2 ** 32:
      raise OverflowError(f"Python integer {data} out of bounds for uint32")
    data = np.uint32(data)
  return _return_key(prng.random_fold_in(typed, data), wrapped)


def _split(key, num=2):
  return prng.random_split(key, (num,))


def _random_bits(key, bit_width, shape):
  return prng.random_bits(key, bit_width, shape)


# ---------------------------------------------------------------- argument checks


def _check_shape(name, shape, *param_shapes):
  if param_shapes:
    shape_ = _broadcast_shapes(shape, *param_shapes)
    if shape != shape_:
      raise ValueError(f"{name} parameter shapes must be broadcast-compatible with shape "
                       "argument, and the result of broadcasting the shapes must equal "
                       f"the shape argument, but got result {shape_} for shape argument "
                       f"{shape}.")


def _broadcast_shapes(*shapes):
  try:
    return tuple(np.broadcast_shapes(*shapes))
  except ValueError:
    raise ValueError(f"Incompatible shapes for broadcasting: shapes={list(shapes)}") \
        from None


def _float_dtype(name, dtype, allow_complex=False):
  if dtype is None:
    dtype = float
  dt = dtypes.canonicalize_dtype(dtype)
  if not dtypes.issubdtype(dt, np.floating) and not (
      allow_complex and dtypes.issubdtype(dt, np.complexfloating)):
    what = "a float or complex dtype" if allow_complex else "a float dtype"
    raise ValueError(f"dtype argument to `{name}` must be {what}, got {np.dtype(dtype).name}")
  return dt


def _const(dtype, v):
  return np.array(v, dtype)


_FMA_SPLIT = {np.dtype(np.float32): 4097., np.dtype(np.float64): 134217729.}


def _fma(a, b, c):
  """a * b + c rounded once (float32/float64), as XLA's CPU code contracts these.

  Exact product by Dekker's splitting plus an error-free sum; other dtypes are
  rounded per op, as XLA computes them.
  """
  a, b, c = jnp.asarray(a), jnp.asarray(b), jnp.asarray(c)
  split = _FMA_SPLIT.get(np.dtype(a.dtype))
  if split is None:
    return a * b + c
  return cpu_numerics.fma_by_splitting(a, b, c, _const(a.dtype, split), jnp.where,
                                       ufuncs.isfinite)


def _shape(x):
  return tuple(np.shape(x)) if not hasattr(x, "shape") else tuple(x.shape)


# ---------------------------------------------------------------- bits / uniform / normal


def bits(key, shape=(), dtype=None, *, out_sharding=None):
  key = _single_key("bits", key)
  dt = dtypes.canonicalize_dtype(np.uint32 if dtype is None else dtype)
  if dt.kind != "u":
    raise ValueError(f"dtype argument to `bits` must be an unsigned int dtype, got "
                     f"{np.dtype(dtype).name}")
  return _random_bits(key, dt.itemsize * 8, _canon_shape(shape))


def uniform(key, shape=(), dtype=None, minval=0., maxval=1., *, out_sharding=None):
  key = _single_key("uniform", key)
  return _uniform(key, _canon_shape(shape), _float_dtype("uniform", dtype), minval, maxval)


def _uniform(key, shape, dtype, minval, maxval):
  minval = jnp.broadcast_to(lax.convert_element_type(minval, dtype), shape)
  maxval = jnp.broadcast_to(lax.convert_element_type(maxval, dtype), shape)
  fi = dtypes.finfo(dtype)
  nbits, nmant = fi.bits, fi.nmant
  rng_bits = 8 if nmant < 8 else nbits
  b = _random_bits(key, rng_bits, shape)
  udt = UINT_DTYPES[nbits]
  if rng_bits != nbits:
    b = lax.convert_element_type(b, udt)
  one_bits = np.array(1.0, dtype).view(udt)
  fbits = lax.shift_right_logical(b, _const(udt, rng_bits - nmant)) | one_bits
  floats = lax.bitcast_convert_type(fbits, dtype) - _const(dtype, 1.0)
  return lax.max(minval, lax.reshape(_fma(floats, maxval - minval, minval), shape))


def normal(key, shape=(), dtype=None, *, out_sharding=None):
  key = _single_key("normal", key)
  dt = _float_dtype("normal", dtype, allow_complex=True)
  return _normal(key, _canon_shape(shape), dt)


def _normal(key, shape, dtype):
  if dtypes.issubdtype(dtype, np.complexfloating):
    real_dt = np.dtype(np.float32) if dtype == np.complex64 else np.dtype(np.float64)
    k1, k2 = _split(key)
    re, im = _normal_real(k1, shape, real_dt), _normal_real(k2, shape, real_dt)
    return (_const(real_dt, 1 / np.sqrt(2)) * lax.complex(re, im)).astype(dtype)
  return _normal_real(key, shape, dtype)


def _normal_real(key, shape, dtype):
  lo = np.nextafter(np.array(-1., dtype), np.array(np.inf, dtype))
  u = _uniform(key, shape, dtype, lo, 1.)
  return _const(dtype, np.sqrt(2)) * lax_special.erf_inv(u)


def truncated_normal(key, lower, upper, shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("truncated_normal", key)
  if shape is not None:
    shape = _canon_shape(shape)
    _check_shape("truncated_normal", shape, _shape(lower), _shape(upper))
  else:
    shape = _broadcast_shapes(_shape(lower), _shape(upper))
  dt = dtypes.canonicalize_dtype(float if dtype is None else dtype)
  if not dtypes.issubdtype(dt, np.floating):
    raise TypeError("truncated_normal only accepts floating point dtypes.")
  sqrt2 = _const(dt, np.sqrt(2))
  lower = lax.convert_element_type(lower, dt)
  upper = lax.convert_element_type(upper, dt)
  a = lax_special.erf(lower / sqrt2)
  b = lax_special.erf(upper / sqrt2)
  u = _uniform(key, shape, dt, a, b)
  out = sqrt2 * lax_special.erf_inv(u)
  return jnp.clip(out, lax.nextafter(lower, _const(dt, np.inf)),
                  lax.nextafter(upper, _const(dt, -np.inf)))


# ---------------------------------------------------------------- discrete


def bernoulli(key, p=0.5, shape=None, mode="low", *, out_sharding=None):
  key = _single_key("bernoulli", key)
  if mode not in ("low", "high"):
    raise ValueError(f"got mode={mode!r}, expected 'high' or 'low'")
  dt = dtypes.canonicalize_dtype(dtypes.dtype(p))
  if not dtypes.issubdtype(dt, np.floating):
    raise TypeError(f"bernoulli probability `p` must have a floating dtype, got {dt}.")
  if shape is None:
    shape = _shape(p)
  else:
    shape = _canon_shape(shape)
    _check_shape("bernoulli", shape, _shape(p))
  p = jnp.broadcast_to(lax.convert_element_type(p, dt), shape)
  if mode == "high":  # a second uniform refines the first below its resolution
    u = _uniform(key, (2, *shape), dt, 0., 1.)
    u2 = u[1] * _const(dt, 2. ** -dtypes.finfo(dt).nmant)
    return lax.lt(u2, p - u[0])
  return lax.lt(_uniform(key, shape, dt, 0., 1.), p)


def _convert_and_clip_integer(val, dtype):
  val = jnp.asarray(val)
  vdt = val.dtype
  if vdt.kind in "iu" and dtype.kind in "iu":
    lo = max(int(np.iinfo(dtype).min), int(np.iinfo(vdt).min))
    hi = min(int(np.iinfo(dtype).max), int(np.iinfo(vdt).max))
    val = lax.clamp(np.array(lo, vdt), val, np.array(hi, vdt))
  return lax.convert_element_type(val, dtype)


def randint(key, shape, minval, maxval, dtype=int, *, out_sharding=None):
  key = _single_key("randint", key)
  dt = dtypes.canonicalize_dtype(dtype)
  if not dtypes.issubdtype(dt, np.integer):
    raise TypeError(f"randint only accepts integer dtypes, got {np.dtype(dtype).name}")
  shape = _canon_shape(shape)
  _check_shape("randint", shape, _shape(minval), _shape(maxval))
  info = np.iinfo(dt)
  if info.bits < 32:  # sampled in 32 bits (as JAX does) to avoid bias
    minval = jnp.clip(jnp.asarray(minval).astype(np.int32), int(info.min), int(info.max))
    maxval = jnp.clip(jnp.asarray(maxval).astype(np.int32), int(info.min),
                      int(info.max) + 1)
    return _randint(key, shape, minval, maxval, np.dtype(np.int32)).astype(dt)
  return _randint(key, shape, minval, maxval, dt)


def _randint(key, shape, minval, maxval, dt):
  nbits = dt.itemsize * 8
  minval, maxval = jnp.asarray(minval), jnp.asarray(maxval)
  if minval.dtype.kind not in "iu":
    minval = minval.astype(int)
  if maxval.dtype.kind not in "iu":
    maxval = maxval.astype(int)
  top = _convert_and_clip_integer(np.array(np.iinfo(dt).max, dt), maxval.dtype)
  maxval_out_of_range = lax.gt(maxval, top)
  maxval_out_of_range = jnp.broadcast_to(maxval_out_of_range, shape)
  minval = jnp.broadcast_to(_convert_and_clip_integer(minval, dt), shape)
  maxval = jnp.broadcast_to(_convert_and_clip_integer(maxval, dt), shape)
  k1, k2 = _split(key)
  higher = _random_bits(k1, nbits, shape)
  lower = _random_bits(k2, nbits, shape)
  udt = UINT_DTYPES[nbits]
  span = lax.convert_element_type(maxval - minval, udt)
  span = jnp.where(maxval <= minval, np.array(1, udt), span)
  span = jnp.where(maxval_out_of_range & (maxval > minval), span + np.array(1, udt), span)
  mult = lax.rem(np.array(2 ** (nbits // 2), udt) if nbits < 64 else
                 np.array(2 ** 32, udt), span)
  mult = lax.rem(mult * mult, span)
  off = lax.rem(lax.rem(higher, span) * mult + lax.rem(lower, span), span)
  return minval + lax.convert_element_type(off, dt)


def _shuffle(key, x, axis):
  exponent = 3
  size = int(np.prod(x.shape, dtype=np.int64))
  num_rounds = int(np.ceil(exponent * np.log(max(1, size)) / np.log(np.iinfo(np.uint32).max)))
  for _ in range(num_rounds):
    key, subkey = _split(key)
    sort_keys = _random_bits(subkey, 32, x.shape)
    _, x = lax_sorting.sort_key_val(sort_keys, x, axis)
  return x


def permutation(key, x, axis=0, independent=False, *, out_sharding=None):
  return _permutation(_single_key("permutation", key), x, axis, independent)


def _permutation(key, x, axis=0, independent=False):
  if np.ndim(x) == 0 and not hasattr(x, "shape") or getattr(x, "ndim", 1) == 0:
    try:
      n = int(x)
    except TypeError:
      raise TypeError("x must be an integer or at least 1-dimensional") from None
    return _shuffle(key, array_creation.arange(n), 0)
  x = jnp.asarray(x)
  axis = axis + x.ndim if axis < 0 else axis
  if independent or x.ndim == 1:
    return _shuffle(key, x, axis)
  ind = _shuffle(key, array_creation.arange(x.shape[axis]), 0)
  return indexing.take(x, ind, axis, unique_indices=True)


def choice(key, a, shape=(), replace=True, p=None, axis=0, mode=None):
  key = _single_key("choice", key)
  if not isinstance(shape, Sequence):
    raise TypeError("shape argument of jax.random.choice must be a sequence, got "
                    f"{shape}")
  shape = _canon_shape(shape)
  arr = jnp.asarray(a)
  if arr.ndim == 0:
    n_inputs = int(a)
  else:
    axis = axis + arr.ndim if axis < 0 else axis
    n_inputs = arr.shape[axis]
  n_draws = math.prod(shape)
  if n_draws == 0:
    return array_creation.zeros(shape, dtype=arr.dtype)
  if n_inputs <= 0:
    raise ValueError("a must be greater than 0 unless no samples are taken")
  if not replace and n_draws > n_inputs:
    raise ValueError(f"Cannot take a larger sample (size {n_draws}) than population "
                     f"(size {n_inputs}) when 'replace=False'")
  if p is None:
    if replace:
      ind = _randint(key, shape, 0, n_inputs, dtypes.canonicalize_dtype(int))
      result = ind if arr.ndim == 0 else indexing.take(arr, ind, axis)
    else:
      perm = _permutation(key, n_inputs if arr.ndim == 0 else arr, axis)
      result = indexing.take(perm, array_creation.arange(n_draws), axis if arr.ndim else 0)
  else:
    p_arr = jnp.asarray(p)
    if p_arr.shape != (n_inputs,):
      raise ValueError("p must be None or a 1D vector with the same size as a.shape[axis]")
    if replace:
      p_cuml = reductions.cumsum(p_arr)
      r = p_cuml[-1] * (1 - _uniform(key, shape, p_cuml.dtype, 0., 1.))
      ind = sorting.searchsorted(p_cuml, r).astype(int)
    else:
      g = _gumbel(key, (n_inputs,), p_arr.dtype, mode) + ufuncs.log(p_arr)
      ind = sorting.argsort(-g, stable=True)[:n_draws].astype(int)
    result = ind if arr.ndim == 0 else indexing.take(arr, ind, axis)
  return result.reshape(shape if arr.ndim == 0 else
                        arr.shape[:axis] + shape + arr.shape[axis + 1:])


def categorical(key, logits, axis=-1, shape=None, replace=True, mode=None,
                *, out_sharding=None):
  key = _single_key("categorical", key)
  logits = jnp.asarray(logits)
  if axis >= 0:
    axis -= logits.ndim
  batch_shape = tuple(np.delete(logits.shape, axis))
  if shape is None:
    shape = batch_shape
  else:
    shape = _canon_shape(shape)
    _check_shape("categorical", shape, batch_shape)
  prefix = shape[:len(shape) - len(batch_shape)]
  logits_shape = list(shape[len(shape) - len(batch_shape):])
  logits_shape.insert(axis % logits.ndim, logits.shape[axis])
  if replace:
    g = _gumbel(key, (*prefix, *logits_shape), logits.dtype, mode)
    return reductions.argmax(g + lax.expand_dims(logits, tuple(range(len(prefix)))), axis=axis)
  # Gumbel top-k: the k largest perturbed logits, k = prod(prefix).
  perturbed = logits + _gumbel(key, logits.shape, logits.dtype, mode)
  k = math.prod(prefix)
  if k > logits.shape[axis]:
    raise ValueError(f"Number of samples without replacement ({k}) cannot exceed number "
                     f"of categories ({logits.shape[axis]}).")
  order = sorting.argsort(jnp.moveaxis(perturbed, axis, -1), axis=-1, stable=True,
                      descending=True)[..., :k]
  order = order.astype(dtypes.canonicalize_dtype(np.int32))
  return lax.reshape(order, shape, (order.ndim - 1, *range(order.ndim - 1)))


def rademacher(key, shape=(), dtype=int, *, out_sharding=None):
  key = _single_key("rademacher", key)
  dt = dtypes.canonicalize_dtype(dtype)
  b = bernoulli(clone(key), 0.5, _canon_shape(shape)).astype(dt)  # consumed above
  return (2 * b - 1).astype(dt)


# ---------------------------------------------------------------- continuous


def _gumbel(key, shape, dtype, mode=None):
  mode = _gumbel_mode(mode)
  fi = dtypes.finfo(dtype)
  if mode == "high":  # two uniforms give ~2x the mantissa bits near 0
    u = _uniform(key, (2, *shape), dtype, 0., 1.)
    hi, lo = u[0], u[1]
    x = jnp.where(hi >= 0.5, hi, hi + _const(dtype, 2. ** -fi.nmant) * lo + fi.tiny)
    return -ufuncs.log(-ufuncs.log1p(-x))
  u = _uniform(key, shape, dtype, fi.tiny, 1.)
  return -ufuncs.log(-ufuncs.log(u))


def _gumbel_mode(mode):
  if mode is None:
    return "low"
  if mode not in ("highest", "high", "low"):
    raise ValueError(f"Must provide valid mode for gumbel got: {mode}")
  if mode == "highest":
    raise NotImplementedError("gumbel mode='highest' is not implemented; use 'high'.")
  return mode


def gumbel(key, shape=(), dtype=None, mode=None, *, out_sharding=None):
  key = _single_key("gumbel", key)
  return _gumbel(key, _canon_shape(shape), _float_dtype("gumbel", dtype), mode)


def exponential(key, shape=(), dtype=None, *, out_sharding=None):
  key = _single_key("exponential", key)
  return _exponential(key, _canon_shape(shape), _float_dtype("exponential", dtype))


def _exponential(key, shape, dtype):
  u = _uniform(key, shape, dtype, 0., 1.)
  return lax.neg(lax.log1p(lax.neg(u)))


def laplace(key, shape=(), dtype=None, *, out_sharding=None):
  key = _single_key("laplace", key)
  dt = _float_dtype("laplace", dtype)
  shape = _canon_shape(shape)
  u = _uniform(key, shape, dt, -1. + dtypes.finfo(dt).epsneg, 1.)
  return lax.mul(lax.sign(u), lax.log1p(lax.neg(lax.abs(u))))


def logistic(key, shape=(), dtype=None, *, out_sharding=None):
  key = _single_key("logistic", key)
  dt = _float_dtype("logistic", dtype)
  x = _uniform(key, _canon_shape(shape), dt, dtypes.finfo(dt).tiny, 1.)
  return lax.sub(lax.log(x), lax.log1p(lax.neg(x)))


def cauchy(key, shape=(), dtype=None, *, out_sharding=None):
  key = _single_key("cauchy", key)
  dt = _float_dtype("cauchy", dtype)
  u = _uniform(key, _canon_shape(shape), dt, dtypes.finfo(dt).eps, 1.)
  return lax.tan(lax.mul(_const(dt, np.pi), lax.sub(u, _const(dt, 0.5))))


def _param_shape(name, shape, *params):
  if shape is None:
    return _broadcast_shapes(*(_shape(p) for p in params))
  shape = _canon_shape(shape)
  _check_shape(name, shape, *(_shape(p) for p in params))
  return shape


def lognormal(key, sigma=1., shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("lognormal", key)
  dt = _float_dtype("lognormal", dtype)
  shape = _param_shape("lognormal", shape, sigma)
  return ufuncs.exp(_normal_real(key, shape, dt) * lax.convert_element_type(sigma, dt))


def pareto(key, b, shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("pareto", key)
  dt = _float_dtype("pareto", dtype)
  shape = _param_shape("pareto", shape, b)
  b = lax.convert_element_type(b, dt)
  e = _exponential(key, shape, dt)
  return lax.exp(e / b)


def weibull_min(key, scale, concentration, shape=(), dtype=None):
  key = _single_key("weibull_min", key)
  dt = _float_dtype("weibull_min", dtype)
  u = _uniform(key, _canon_shape(shape), dt, 0., 1.)
  return ufuncs.power(-ufuncs.log1p(-u), 1.0 / concentration) * scale


def maxwell(key, shape=(), dtype=None, *, out_sharding=None):
  key = _single_key("maxwell", key)
  dt = _float_dtype("maxwell", dtype)
  x = _normal_real(key, _canon_shape(shape) + (3,), dt)
  sq = x * x
  # The order in which XLA's CPU reduction adds a row of three (measured).
  return ufuncs.sqrt((sq[..., 0] + sq[..., 2]) + sq[..., 1])


def double_sided_maxwell(key, loc, scale, shape=(), dtype=None):
  key = _single_key("double_sided_maxwell", key)
  dt = _float_dtype("double_sided_maxwell", dtype)
  params = _broadcast_shapes(_shape(loc), _shape(scale))
  shape = _canon_shape(shape)
  if not shape:
    shape = params
  shape = shape + params
  mkey, rkey = _split(key)
  m = maxwell(mkey, shape, dt)
  s = rademacher(rkey, shape, dt)
  return _fma(s * m, scale, loc)


# ---------------------------------------------------------------- gamma family


def _gamma_one(key, alpha, log_space):
  """Marsaglia-Tsang for one scalar ``alpha``: JAX's two nested rejection loops."""
  dt = alpha.dtype
  one, zero = _const(dt, 1), _const(dt, 0)
  third = _const(dt, 1 / 3)
  boost = lax.ge(alpha, one)
  alpha_orig = alpha
  alpha = lax.select(boost, alpha, alpha + one)
  d = alpha - third
  c = third / lax.sqrt(d)

  def rejected(state):
    _, X, V, U = state
    c1 = lax.ge(U, _fma(_const(dt, -0.0331), X * X, one))
    c2 = lax.ge(lax.log(U), X * _const(dt, 0.5) + d * (one - V + lax.log(V)))
    return c1 & c2

  def next_x(state):
    x_key, sk = _split(state[0])
    x = _normal_real(sk, (), dt)
    return x_key, x, _fma(x, c, one)

  def propose(state):
    key, x_key, u_key = _split(state[0], 3)
    _, x, v = while_loop(lambda s: lax.le(s[2], zero), next_x, (x_key, zero, -one))
    return key, x * x, v * v * v, _uniform(u_key, (), dt, 0., 1.)

  key, subkey = _split(key)
  # The initial state is rejected, so the loop draws at least once.
  _, _, V, _ = while_loop(rejected, propose, (key, zero, one, _const(dt, 2)))
  if log_space:
    log_samples = lax.neg(_exponential(subkey, (), dt))
    log_boost = lax.select(boost | (log_samples == zero), zero, log_samples * (one / alpha_orig))
    return lax.log(d) + lax.log(V) + log_boost
  samples = one - _uniform(subkey, (), dt, 0., 1.)
  b = lax.select(boost, one, lax.pow(samples, one / alpha_orig))
  return d * V * b


def _gamma(key, a, shape, dtype, log_space):
  """One key per element of ``a`` (split from ``key``), one loop per element, vmapped.
  Differentiable in ``a`` as JAX's: the sample's derivative by implicit differentiation
  of its CDF (``lax.random_gamma_grad``), not through the rejection loops."""
  a = lax.convert_element_type(a, dtype)
  if tuple(a.shape) != shape:
    a = jnp.broadcast_to(a, shape)
  n = math.prod(shape)
  if n == 0:
    return array_creation.zeros(shape, dtype)

  @custom_jvp
  def sample(a):
    keys = prng.random_split(key, (n,))
    one = lambda k, alpha: _gamma_one(k, alpha, log_space)
    return lax.reshape(vmap(one)(keys, lax.reshape(a, (n,))), shape)

  @sample.defjvp
  def sample_jvp(primals, tangents):
    (a,), (ta,) = primals, tangents
    ans = sample(a)
    if log_space:  # d log x = dx / x, with x = exp(ans) kept above 0
      x = lax.exp(ans)
      x = lax.select(lax.eq(x, _const(dtype, 0)), lax.full_like(x, np.finfo(dtype).tiny), x)
      grad = lax_special.random_gamma_grad(a, x) / x
    else:
      grad = lax_special.random_gamma_grad(a, ans)
    return ans, ta * grad

  return sample(a)


def gamma(key, a, shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("gamma", key)
  dt = _float_dtype("gamma", dtype)
  return _gamma(key, a, _param_shape("gamma", shape, a), dt, False)


def loggamma(key, a, shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("loggamma", key)
  dt = _float_dtype("loggamma", dtype)
  return _gamma(key, a, _param_shape("loggamma", shape, a), dt, True)


def beta(key, a, b, shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("beta", key)
  dt = _float_dtype("beta", dtype)
  shape = _param_shape("beta", shape, a, b)
  ka, kb = _split(key)
  lga = _gamma(ka, a, shape, dt, True)
  lgb = _gamma(kb, b, shape, dt, True)
  m = lax.max(lga, lgb)
  ga, gb = ufuncs.exp(lga - m), ufuncs.exp(lgb - m)
  return ga / (ga + gb)


def dirichlet(key, alpha, shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("dirichlet", key)
  dt = _float_dtype("dirichlet", dtype)
  if np.ndim(alpha) < 1:
    raise ValueError(f"dirichlet requires alpha.ndim >= 1, got alpha.ndim == {np.ndim(alpha)}")
  ashape = _shape(alpha)
  if shape is None:
    shape = ashape[:-1]
  else:
    shape = _canon_shape(shape)
    _check_shape("dirichlet", shape, ashape[:-1])
  lg = _gamma(key, alpha, shape + ashape[-1:], dt, True)
  e = ufuncs.exp(lg - reductions.max(lg, axis=-1, keepdims=True))
  return e / reductions.sum(e, axis=-1, keepdims=True)


def t(key, df, shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("t", key)
  dt = _float_dtype("t", dtype)
  shape = _param_shape("t", shape, df)
  df = lax.convert_element_type(df, dt)
  kn, kg = _split(key)
  n = _normal_real(kn, shape, dt)
  half = df / _const(dt, 2)
  g = _gamma(kg, half, shape, dt, False)
  return n * ufuncs.sqrt(half / g)


def chisquare(key, df, shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("chisquare", key)
  dt = _float_dtype("chisquare", dtype)
  shape = _param_shape("chisquare", shape, df)
  half = lax.convert_element_type(df, dt) / _const(dt, 2)
  return ufuncs.exp(_gamma(key, half, shape, dt, True)) * _const(dt, 2)


def generalized_normal(key, p, shape=(), dtype=None, *, out_sharding=None):
  key = _single_key("generalized_normal", key)
  dt = _float_dtype("generalized_normal", dtype)
  shape = _canon_shape(shape)
  k1, k2 = _split(key)
  g = _gamma(k1, 1 / p, shape, dt, False)
  r = rademacher(k2, shape, dt)
  return r * g ** (1 / p)


def ball(key, d, p=2, shape=(), dtype=None, *, out_sharding=None):
  key = _single_key("ball", key)
  dt = _float_dtype("ball", dtype)
  d = int(d)
  if d < 1:
    raise ValueError(f"d must be a positive integer, got {d}")
  shape = _canon_shape(shape)
  k1, k2 = _split(key)
  g = generalized_normal(k1, p, (*shape, d), dt)
  e = _exponential(k2, shape, dt)
  return g / (((ufuncs.abs(g) ** p).sum(-1) + e) ** (1 / p))[..., None]


def f(key, dfnum, dfden, shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("f", key)
  dt = _float_dtype("f", dtype)
  shape = _param_shape("f", shape, dfnum, dfden)
  dfnum = lax.convert_element_type(dfnum, dt)
  dfden = lax.convert_element_type(dfden, dt)
  k_den, k_num = _split(key)
  chi_num = ufuncs.exp(_gamma(k_num, dfnum / _const(dt, 2), shape, dt, True)) * _const(dt, 2)
  chi_den = ufuncs.exp(_gamma(k_den, dfden / _const(dt, 2), shape, dt, True)) * _const(dt, 2)
  return (chi_num / dfnum) / (chi_den / dfden)


# ---------------------------------------------------------------- other families


def rayleigh(key, scale, shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("rayleigh", key)
  dt = _float_dtype("rayleigh", dtype)
  shape = _param_shape("rayleigh", shape, scale)
  u = _uniform(key, shape, dt, 0., 1.)
  scale = jnp.broadcast_to(lax.convert_element_type(scale, dt), shape)
  return scale * lax.sqrt(lax.log(u) * _const(dt, -2))


def wald(key, mean, shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("wald", key)
  dt = _float_dtype("wald", dtype)
  shape = _param_shape("wald", shape, mean)
  k1, k2 = _split(key)
  mean = jnp.broadcast_to(lax.convert_element_type(mean, dt), shape)
  v = _normal_real(k1, shape, dt)
  z = _uniform(k2, shape, dt, 0., 1.)
  y = v * v
  mean_sq = mean * mean
  sqrt_term = lax.sqrt(_fma(_const(dt, 4) * mean, y, mean_sq * (y * y)))
  x = _fma(-(mean / _const(dt, 2)), sqrt_term, mean + mean_sq * y / _const(dt, 2))
  return lax.select(lax.le(z, mean / (mean + x)), x, mean_sq / x)


def geometric(key, p, shape=None, dtype=int, *, out_sharding=None):
  key = _single_key("geometric", key)
  shape = _param_shape("geometric", shape, p)
  p = jnp.asarray(p)
  if not dtypes.issubdtype(p.dtype, np.inexact):
    p = p.astype(dtypes.canonicalize_dtype(float))
  u = _uniform(key, shape, p.dtype, 0., 1.)
  u = jnp.where(u == 0, _const(p.dtype, 1), u)
  log_q = jnp.broadcast_to(lax.log1p(-p), shape)
  g = lax.floor(lax.div(lax.log(u), log_q)) + _const(p.dtype, 1)
  return g.astype(dtypes.canonicalize_dtype(dtype))


def triangular(key, left, mode, right, shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("triangular", key)
  dt = _float_dtype("triangular", dtype)
  shape = _param_shape("triangular", shape, left, mode, right)
  left, mode, right = (jnp.broadcast_to(lax.convert_element_type(v, dt), shape)
                       for v in (left, mode, right))
  fc = (mode - left) / (right - left)
  u = _uniform(key, shape, dt, 0., 1.)
  out1 = left + lax.sqrt(u * (right - left) * (mode - left))
  out2 = right - lax.sqrt((_const(dt, 1) - u) * (right - left) * (right - mode))
  return lax.select(u < fc, out1, out2)


def _poisson_knuth(key, lam, shape, dtype):
  """Knuth: count uniforms until their product falls below exp(-lam)."""
  def body(state):
    k, key, log_prod = state
    key, subkey = _split(key)
    k = lax.select(log_prod > -lam, k + np.array(1, dtype), k)
    return k, key, log_prod + lax.log(_uniform(subkey, shape, np.dtype(np.float32), 0., 1.))

  init = (array_creation.zeros(shape, dtype), key, array_creation.zeros(shape, np.float32))
  k, _, _ = while_loop(lambda s: reductions.any(s[2] > -lam), body, init)
  return (k - np.array(1, dtype)).astype(dtype)


def _poisson_rejection(key, lam, shape, dtype):
  """Hormann's transformed rejection (PTRS), vectorized over all elements."""
  f32 = lambda v: _const(np.float32, v)
  log_lam = lax.log(lam)
  b = _fma(f32(2.53), lax.sqrt(lam), f32(0.931))
  a = _fma(f32(0.02483), b, f32(-0.059))
  inv_alpha = f32(1.1239) + f32(1.1328) / (b - f32(3.4))
  v_r = f32(0.9277) - f32(3.6224) / (b - f32(2))

  def body(state):
    k_out, accepted, key = state
    key, k0, k1 = _split(key, 3)
    u = _uniform(k0, shape, np.dtype(np.float32), 0., 1.) - f32(0.5)
    v = _uniform(k1, shape, np.dtype(np.float32), 0., 1.)
    us = f32(0.5) - abs(u)
    k = lax.floor(_fma(f32(2) * a / us + b, u, lam) + f32(0.43))
    s = lax.log(v * inv_alpha / (a / (us * us) + b))
    t = _fma(k, log_lam, -lam) - lax_special.lgamma(k + f32(1))
    accept1 = (us >= f32(0.07)) & (v <= v_r)
    reject = (k < 0) | ((us < f32(0.013)) & (v > us))
    accept = accept1 | (~reject & (s <= t))
    return lax.select(accept, k, k_out), accepted | accept, key

  init = (array_creation.full(shape, -1, np.float32), array_creation.zeros(shape, bool), key)
  k_out, _, _ = while_loop(lambda s: ~reductions.all(s[1]), body, init)
  return k_out.astype(dtype)


def poisson(key, lam, shape=None, dtype=None, *, out_sharding=None):
  key = _single_key("poisson", key)
  dt = dtypes.canonicalize_dtype(int if dtype is None else dtype)
  shape = _shape(lam) if shape is None else _canon_shape(shape)
  lam = lax.convert_element_type(jnp.broadcast_to(lam, shape), np.float32)
  use_knuth = ufuncs.isnan(lam) | (lam < 10)
  knuth = _poisson_knuth(key, jnp.where(use_knuth, lam, 0.), shape, dt)
  rejection = _poisson_rejection(key, jnp.where(use_knuth, 1e5, lam), shape, dt)
  out = jnp.where(use_knuth, knuth, rejection)
  return jnp.where(lam == 0, array_creation.zeros_like(out), out)


_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
                  0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
                  0.0118967099458917, 0.0104112652619720, 0.00925546218271273,
                  0.00833056343336287)


def _stirling_approx_tail(k):
  """Stirling series tail; tabulated for k <= 9 (the series uses k clamped to 9)."""
  table = jnp.array(_STIRLING_TAIL, dtype=k.dtype)
  use_table = k <= 9
  k = lax.clamp(_const(k.dtype, 0.), k, _const(k.dtype, 9.))
  kp1sq = (k + 1) * (k + 1)
  approx = (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)
  return jnp.where(use_table, table[ufuncs.floor(k).astype(np.int32)], approx)


def _binomial_inversion(key, count, prob, shape, dtype):
  """Sums geometric draws until they pass ``count``: the number drawn is the sample."""
  log1mp = ufuncs.log1p(-prob)
  one = _const(prob.dtype, 1)

  def body(state):
    num_geom, geom_sum, key = state
    subkey, key = _split(key)
    num_geom = lax.select(geom_sum <= count, num_geom + one, num_geom)
    u = _uniform(subkey, shape, prob.dtype, 0., 1.)
    return num_geom, geom_sum + ufuncs.ceil(ufuncs.log(u) / log1mp), key

  init = (array_creation.zeros(shape, prob.dtype), array_creation.zeros(shape, prob.dtype), key)
  num_geom, _, _ = while_loop(lambda s: reductions.any(s[1] <= count), body, init)
  return (num_geom - one).astype(dtype)


def _btrs(key, count, prob, shape, dtype):
  """Hormann's BTRS transformed rejection, vectorized over all elements."""
  stddev = ufuncs.sqrt(count * prob * (1 - prob))
  b = _fma(_const(prob.dtype, 2.53), stddev, _const(prob.dtype, 1.15))
  a = _fma(_const(prob.dtype, 0.01), prob,
           _fma(_const(prob.dtype, 0.0248), b, _const(prob.dtype, -0.0873)))
  c = _fma(count, prob, _const(prob.dtype, 0.5))
  v_r = 0.92 - 4.2 / b
  r = prob / (1 - prob)
  alpha = (2.83 + 5.1 / b) * stddev
  m = ufuncs.floor((count + 1) * prob)

  def body(state):
    k_out, accepted, key = state
    key, k0, k1 = _split(key, 3)
    u = _uniform(k0, shape, prob.dtype, 0., 1.) - 0.5
    v = _uniform(k1, shape, prob.dtype, 0., 1.)
    us = 0.5 - ufuncs.abs(u)
    accept1 = (us >= 0.07) & (v <= v_r)
    k = ufuncs.floor(_fma(2 * a / us + b, u, c))
    reject = (k < 0) | (k > count)
    v = ufuncs.log(v * alpha / (a / (us * us) + b))
    ub = _fma(k + 0.5, ufuncs.log(r * (count - k + 1) / (k + 1)),
              _fma(count + 1, ufuncs.log((count - m + 1) / (count - k + 1)),
                   (m + 0.5) * ufuncs.log((m + 1) / (r * (count - m + 1)))))
    ub = (ub + _stirling_approx_tail(m) + _stirling_approx_tail(count - m)
          - _stirling_approx_tail(k) - _stirling_approx_tail(count - k))
    accept = accept1 | (~reject & (v <= ub))
    return lax.select(accept, k, k_out), accepted | accept, key

  init = (array_creation.full(shape, -1, prob.dtype), array_creation.zeros(shape, bool), key)
  k_out, _, _ = while_loop(lambda s: ~reductions.all(s[1]), body, init)
  return k_out.astype(dtype)


def binomial(key, n, p, shape=None, dtype=None):
  key = _single_key("binomial", key)
  dt = _float_dtype("binomial", dtype)
  shape = _param_shape("binomial", shape, n, p)
  prob = jnp.asarray(p)
  if not dtypes.issubdtype(prob.dtype, np.inexact):
    prob = prob.astype(dtypes.canonicalize_dtype(float))
  count = jnp.broadcast_to(lax.convert_element_type(n, prob.dtype), shape)
  prob = jnp.broadcast_to(prob, shape)
  p_lt_half = prob < 0.5
  q = jnp.where(p_lt_half, prob, 1.0 - prob)
  count_bad = ufuncs.isnan(count) | (count < 0.0)
  count_inf = ufuncs.isinf(count)
  q_nan, q_neg = ufuncs.isnan(q), q < 0.0
  q = jnp.where(q_nan | q_neg, _const(q.dtype, 0.01), q)
  use_inversion = count_bad | (count * q <= 10.0)
  count = ufuncs.floor(count)
  inv = _binomial_inversion(key, jnp.where(use_inversion, count, 0.), q, shape, dt)
  btrs = _btrs(key, jnp.where(use_inversion, 1e4, count), jnp.where(use_inversion, 0.5, q),
               shape, dt)
  out = jnp.where(use_inversion, inv, btrs)
  invalid = q_neg | q_nan | count_bad
  out = jnp.where(invalid, _const(dt, np.nan), out)
  out = jnp.where(count_inf & ~invalid, _const(dt, np.inf), out)
  return jnp.where(p_lt_half | count_bad | q_nan | count_inf, out, count.astype(dt) - out)


def multinomial(key, n, p, *, shape=None, dtype=None, unroll=1):
  """Counts per category: a binomial draw per category from what remains of n."""
  key = _single_key("multinomial", key)
  n, p = jnp.asarray(n), jnp.asarray(p)
  ft = jnp.result_type(n, p, dtypes.canonicalize_dtype(float))
  n, p = n.astype(ft), p.astype(ft)
  shape = tuple(p.shape) if shape is None else _canon_shape(shape)
  n = jnp.broadcast_to(n, shape[:-1])
  p = jnp.moveaxis(jnp.broadcast_to(p, shape), -1, 0)
  remaining = array_manipulation.flip(reductions.cumsum(array_manipulation.flip(p, 0), 0), 0)
  ratios = p / jnp.where(remaining == 0, _const(ft, 1), remaining)

  def draw(left, ratio_key):
    ratio, k = ratio_key
    c = binomial(k, left, jnp.clip(ratio, 0, 1), dtype=left.dtype)
    return left - c, c

  keys = prng.random_split(key, (ratios.shape[0],))
  _, counts = scan(draw, n, (ratios, keys), unroll=unroll)
  return jnp.moveaxis(counts, 0, -1).astype(_float_dtype("multinomial", dtype))


# ---------------------------------------------------------------- samplers using linalg


def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky",
                        *, out_sharding=None):
  key = _single_key("multivariate_normal", key)
  mean, cov = promote_dtypes_inexact(mean, cov)
  if method not in {"svd", "eigh", "cholesky"}:
    raise ValueError("method must be one of {'svd', 'eigh', 'cholesky'}")
  dt = mean.dtype if dtype is None else dtypes.canonicalize_dtype(dtype)
  if not dtypes.issubdtype(dt, np.floating):
    raise ValueError(f"dtype argument to `multivariate_normal` must be a float dtype, got "
                     f"{np.dtype(dt).name}")
  if mean.ndim < 1:
    raise ValueError(f"multivariate_normal requires mean.ndim >= 1, got mean.ndim == "
                     f"{mean.ndim}")
  if cov.ndim < 2:
    raise ValueError(f"multivariate_normal requires cov.ndim >= 2, got cov.ndim == "
                     f"{cov.ndim}")
  n = mean.shape[-1]
  if cov.shape[-2:] != (n, n):
    raise ValueError(f"multivariate_normal requires cov.shape == (..., n, n) for n={n}, "
                     f"but got cov.shape == {cov.shape}.")
  if shape is None:
    shape = _broadcast_shapes(mean.shape[:-1], cov.shape[:-2])
  else:
    shape = _canon_shape(shape)
    _check_shape("normal", shape, mean.shape[:-1], cov.shape[:-2])
  if method == "svd":
    u, s, _ = jnp_linalg.svd(cov)
    factor = u * ufuncs.sqrt(s[..., None, :])
  elif method == "eigh":
    w, v = jnp_linalg.eigh(cov)
    factor = v * ufuncs.sqrt(w[..., None, :])
  else:
    factor = jnp_linalg.cholesky(cov)
  samples = _normal(key, (*shape, n), dt)
  return mean + einsum("...ij,...j->...i", factor, samples)


def orthogonal(key, n, shape=(), dtype=None, m=None, *, out_sharding=None):
  """Haar-random ``(*shape, n, m)`` matrices with orthonormal columns (or rows if n < m):
  QR of a normal matrix, column signs fixed by ``R``'s diagonal."""
  key = _single_key("orthogonal", key)
  shape = _canon_shape(shape)
  dt = _float_dtype("orthogonal", dtype, allow_complex=True)
  n = int(n)
  m = n if m is None else int(m)
  z = _normal(key, (*shape, max(n, m), min(n, m)), dt)
  q, r = jnp_linalg.qr(z)
  x = q * jnp.expand_dims(ufuncs.sign(jnp_linalg.diagonal(r)), -2)
  return jnp.matrix_transpose(x) if n < m else x


# ---------------------------------------------------------------- out_sharding


def _takes_out_sharding(fn):
  """``fn`` with JAX's ``out_sharding=`` keyword: the sample drawn as without it (JAX
  draws the same bits), resharded to it."""
  @functools.wraps(fn)
  def wrapper(*args, out_sharding=None, **kwargs):
    out = fn(*args, **kwargs)
    return out if out_sharding is None else reshard(out, out_sharding)
  return wrapper


for _name in ("bits", "uniform", "randint", "permutation", "normal", "truncated_normal",
              "bernoulli", "beta", "cauchy", "dirichlet", "exponential", "gamma",
              "loggamma", "poisson", "gumbel", "categorical", "laplace", "logistic", "pareto", "t",
              "chisquare", "f", "rademacher", "maxwell", "orthogonal", "generalized_normal",
              "ball", "rayleigh", "wald", "geometric", "triangular", "lognormal",
              "multivariate_normal"):
  if _name in globals():
    globals()[_name] = _takes_out_sharding(globals()[_name])
del _name

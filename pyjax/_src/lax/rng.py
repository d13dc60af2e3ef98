"""rng_bit_generator (XLA's RngBitGenerator as its CPU expander computes it) and
rng_uniform. JAX's key is uint32[4] (uint64[2] also taken): the 64-bit words (key,
state). THREE_FRY is XLA's ThreeFry-2x32 generator; DEFAULT and PHILOX are its
Philox-4x32-10 generator (CPU's default), whose 128-bit counter is (state, key). Both
are written with lax operations on 32-bit words (no 64-bit arithmetic, so they work
with jax_enable_x64 off), so eager and jit compute the same bits, equal to JAX's."""
from __future__ import annotations

import enum

import numpy as np

from pyjax._src import dtypes
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.interpreters import ad, batching
from pyjax._src.lax import lax, slicing
from pyjax._src.lax.lax import (add, bitwise_and, bitwise_or, bitwise_xor, broadcasted_iota,
                                convert_element_type, eq, lt, mul, mulhi, reshape,
                                shift_left, shift_right_logical)
from pyjax._src.lax.utils import _to_array, lower_lax
from pyjax._src.prng import threefry2x32

_U32 = np.dtype(np.uint32)


class RandomAlgorithm(enum.IntEnum):
  """Which PRNG algorithm rng_bit_generator uses."""
  RNG_DEFAULT = 0
  RNG_THREE_FRY = 1
  RNG_PHILOX = 2

  def __str__(self):
    return self.name


def _c(v):
  return np.uint32(v)


def _add_carry(words, inc):
  """``words`` (u32, least significant first) plus the u32 array ``inc``, carried."""
  out = [add(words[0], inc)]
  carry = lt(out[0], inc)
  for w in words[1:]:
    n = add(w, convert_element_type(carry, _U32))
    out.append(n)
    carry = bitwise_and(carry, eq(n, lax.full_like(n, 0)))
  return out


def _linear_iota(shape):
  """Row-major flat indices of ``shape`` (u32), skipping dimensions of size < 2 as XLA."""
  idx = lax.full(shape, 0, _U32)
  prod = 1
  for i in reversed(range(len(shape))):
    if shape[i] < 2:
      continue
    idx = add(idx, mul(broadcasted_iota(_U32, shape, i), lax.full(shape, prod, _U32)))
    prod *= shape[i]
  return idx


def _split_dim(shape):
  """XLA's choice of the dimension whose halves hold a u64 counter's two u32 outputs:
  the first even one, else the largest (the first of equals)."""
  even = [i for i, d in enumerate(shape) if d > 1 and d % 2 == 0]
  if even:
    return even[0]
  odd = [i for i, d in enumerate(shape) if d > 1]
  return max(odd, key=lambda i: (shape[i], -i)) if odd else None


def _threefry_bits(k, s, shape, wide):
  """(bits as u32 words, counters used): k, s are the key's and state's (lo, hi)."""
  n = int(np.prod(shape, dtype=np.int64))

  def hash_(cshape):
    lo, hi = _add_carry([lax.full(cshape, s[0], _U32) if not hasattr(s[0], 'shape') else
                         lax.broadcast_in_dim(s[0], cshape, ()),
                         lax.broadcast_in_dim(s[1], cshape, ())], _linear_iota(cshape))
    return threefry2x32(k[0], k[1], lo, hi)

  if wide:
    o0, o1 = hash_(tuple(shape))
    return (o0, o1), n
  split = _split_dim(shape)
  if split is not None:
    hs = (*shape[:split], -(-shape[split] // 2), 1, *shape[split + 1:])
    o0, o1 = hash_(hs)
    r = slicing.concatenate([o0, o1], split + 1)
    full = list(shape)
    full[split] = hs[split] * 2
    r = reshape(r, tuple(full))
    if shape[split] % 2:
      r = slicing.slice(r, (0,) * len(shape), tuple(shape))
    return r, int(np.prod(hs, dtype=np.int64))
  half = -(-n // 2)
  o0, o1 = hash_((half,))
  if half * 2 != n:
    o1 = slicing.slice_in_dim(o1, 0, half - 1)
  return reshape(slicing.concatenate([o0, o1], 0), tuple(shape)), half


def _philox4x32(s, k):
  k0, k1 = k
  for _ in range(10):
    lo0, hi0 = mul(s[0], _c(0xD2511F53)), mulhi(s[0], lax.full_like(s[0], 0xD2511F53))
    lo1, hi1 = mul(s[2], _c(0xCD9E8D57)), mulhi(s[2], lax.full_like(s[2], 0xCD9E8D57))
    s = [bitwise_xor(bitwise_xor(hi1, s[1]), k0), lo1,
         bitwise_xor(bitwise_xor(hi0, s[3]), k1), lo0]
    k0, k1 = add(k0, _c(0x9E3779B9)), add(k1, _c(0xBB67AE85))
  return s


def _philox_bits(k, s, shape, wide):
  n = int(np.prod(shape, dtype=np.int64))
  m = 2 * n if wide else n
  nv = -(-m // 4)
  ctr = [lax.broadcast_in_dim(w, (nv,), ()) for w in (s[0], s[1], k[0], k[1])]
  ctr = _add_carry(ctr, broadcasted_iota(_U32, (nv,), 0))
  b = _philox4x32(ctr, [lax.broadcast_in_dim(w, (nv,), ()) for w in k])
  if wide:  # u64 j from (b[2j'], b[2j'+1]): pairs (0, 1) then (2, 3), round robin
    lo = reshape(slicing.concatenate([reshape(b[0], (nv, 1)), reshape(b[2], (nv, 1))], 1),
                 (2 * nv,))
    hi = reshape(slicing.concatenate([reshape(b[1], (nv, 1)), reshape(b[3], (nv, 1))], 1),
                 (2 * nv,))
    return (reshape(slicing.slice_in_dim(lo, 0, n), shape),
            reshape(slicing.slice_in_dim(hi, 0, n), shape)), nv
  r = reshape(slicing.concatenate([reshape(x, (nv, 1)) for x in b], 1), (4 * nv,))
  return reshape(slicing.slice_in_dim(r, 0, n), tuple(shape)), nv


def _rng_bit_generator_lax(key, *, shape, dtype, algorithm, out_sharding=None):
  u64_key = key.dtype == np.uint64
  if u64_key:
    words = [convert_element_type(x, _U32) for x in (
        key[0], shift_right_logical(key[0], np.uint64(32)),
        key[1], shift_right_logical(key[1], np.uint64(32)))]
  else:
    words = [key[i] for i in range(4)]
  k, s = words[:2], words[2:]
  wide = np.dtype(dtype).itemsize == 8
  gen = _threefry_bits if algorithm == RandomAlgorithm.RNG_THREE_FRY else _philox_bits
  bits, used = gen(k, s, tuple(shape), wide)
  if wide:
    lo, hi = (convert_element_type(b, np.uint64) for b in bits)
    bits = bitwise_or(lo, shift_left(hi, lax.full_like(hi, 32)))
  else:
    bits = convert_element_type(bits, dtype)
  ns = _add_carry(list(s), lax.full((), used, _U32))
  if u64_key:
    join = lambda lo, hi: bitwise_or(convert_element_type(lo, np.uint64), shift_left(
        convert_element_type(hi, np.uint64), np.uint64(32)))
    new_key = slicing.concatenate([reshape(join(*k), (1,)), reshape(join(*ns), (1,))], 0)
  else:
    new_key = slicing.concatenate([reshape(w, (1,)) for w in (*k, *ns)], 0)
  return [new_key, bits]


rng_bit_generator_p = Primitive("rng_bit_generator")
rng_bit_generator_p.multiple_results = True


def _rng_bit_generator_check(key, *, shape, dtype, algorithm, out_sharding=None):
  if not ((key.shape == (4,) and key.dtype == np.uint32) or
          (key.shape == (2,) and key.dtype == np.uint64)):
    raise AssertionError((list(key.shape), key.dtype.name))
  return [ShapedArray(key.shape, key.dtype, key.weak_type),
          ShapedArray(tuple(shape), np.dtype(dtype))]


def _rng_bit_generator_impl(key, **params):
  _rng_bit_generator_check(key.aval, **params)
  return _rng_bit_generator_lax(key, **params)


def _rng_bit_generator_batch(vals, dims, **params):
  key = batching.bdim_at_front(vals[0], dims[0], vals[0].shape[dims[0]])
  outs = [rng_bit_generator_p.bind(k, **params) for k in slicing.unstack(key)]
  return [slicing.stack([o[0] for o in outs]), slicing.stack([o[1] for o in outs])], [0, 0]


rng_bit_generator_p.def_impl(_rng_bit_generator_impl)
rng_bit_generator_p.def_abstract_eval(_rng_bit_generator_check)
ad.defjvp_zero(rng_bit_generator_p)
rng_bit_generator_p.batch = _rng_bit_generator_batch
rng_bit_generator_p.lower = lower_lax(_rng_bit_generator_lax)


def rng_bit_generator(key, shape, dtype=np.uint32, algorithm=RandomAlgorithm.RNG_DEFAULT,
                      *, out_sharding=None):
  """Stateless random bits of ``shape`` and ``dtype`` (an unsigned integer type) from
  ``key``: ``(new_key, bits)``, as XLA's RngBitGenerator."""
  shape = tuple(int(d) for d in shape)
  dtype = dtypes.canonicalize_dtype(dtype)
  if np.dtype(dtype) not in {np.dtype(t) for t in (np.uint8, np.uint16, np.uint32,
                                                     np.uint64)}:
    raise TypeError(f'rng_bit_generator: unsupported dtype {dtype}')
  return tuple(rng_bit_generator_p.bind(_to_array(key), shape=shape, dtype=np.dtype(dtype),
                                        algorithm=RandomAlgorithm(algorithm),
                                        out_sharding=None))


rng_uniform_p = Primitive("rng_uniform")
_host_rng = np.random.default_rng()


def _rng_uniform_check(a, b, *, shape):
  if a.dtype != b.dtype:
    raise ValueError(f"Arguments to rng_uniform must have identical dtypes, got "
                     f"{a.dtype} and {b.dtype}.")
  if a.shape != () or b.shape != ():
    raise ValueError(f"Arguments to rng_uniform must be scalars; got shapes {a.shape} and "
                     f"{b.shape}.")
  return ShapedArray(tuple(shape), a.dtype, a.weak_type and b.weak_type)


def _rng_uniform_impl(a, b, *, shape):
  aval = _rng_uniform_check(a.aval, b.aval, shape=shape)
  lo, hi = np.asarray(a._value), np.asarray(b._value)
  if aval.dtype.kind in "iu":
    v = _host_rng.integers(lo, hi, size=shape, dtype=aval.dtype, endpoint=False)
  else:
    v = lo + (hi - lo) * _host_rng.random(size=shape)
  return ArrayImpl(np.asarray(v).astype(aval.dtype), aval.weak_type)


def _rng_uniform_lower(ctx, a, b, *, shape):
  raise NotImplementedError("rng_uniform (XLA's stateful RNG) runs eagerly only in pyjax; "
                            "use jax.random or rng_bit_generator under jit")


rng_uniform_p.def_impl(_rng_uniform_impl)
rng_uniform_p.def_abstract_eval(_rng_uniform_check)
ad.defjvp_zero(rng_uniform_p)
rng_uniform_p.lower = _rng_uniform_lower


def rng_uniform(a, b, shape):
  """Stateful uniform random numbers in [a, b) (XLA's Rng; experimental in JAX). The
  values come from the host's generator, not XLA's."""
  return rng_uniform_p.bind(_to_array(a), _to_array(b), shape=tuple(int(d) for d in shape))

"""The threefry2x32 PRNG: the hash primitive, key derivation and typed key arrays.

Numbers match JAX bit for bit: the same counter layouts (``jax_threefry_partitionable``
on, the default, and the legacy layout when off), the same ``split``/``fold_in``
derivations. Everything above the primitive is written with lax ops so keys flow
through transformations; a ``PRNGKeyArray`` is a pytree node whose single child
is its uint32 data of shape ``(*batch, 2)``.
"""
from __future__ import annotations

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src import tree_util
from pyjax._src.array import Array, ArrayImpl
from pyjax._src.config import config
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.errors import KeyReuseError
from pyjax._src.interpreters import batching
from pyjax._src.lax import lax, slicing
from pyjax._src.lax import reductions as lax_reductions

_U32 = np.dtype(np.uint32)
UINT_DTYPES = {8: np.dtype(np.uint8), 16: np.dtype(np.uint16), 32: _U32,
               64: np.dtype(np.uint64)}

# ---------------------------------------------------------------- threefry2x32_p

threefry2x32_p = Primitive("threefry2x32")
threefry2x32_p.multiple_results = True

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _threefry2x32_check(k1, k2, x1, x2):
  args = (k1, k2, x1, x2)
  if any(a.dtype != _U32 for a in args):
    raise TypeError("threefry2x32 requires uint32 arguments, got "
                    f"{[a.dtype.name for a in args]}")
  if len({a.shape for a in args}) != 1:
    raise TypeError("threefry2x32 requires all arguments to have the same shape, got "
                    f"{[a.shape for a in args]}")
  return ShapedArray(k1.shape, _U32)


def _threefry2x32_np(k1, k2, x1, x2):
  """Threefry-2x32 with 20 rounds (Salmon et al. 2011) in wrapping uint32 arithmetic."""
  ks = (k1, k2, k1 ^ k2 ^ np.uint32(0x1BD11BDA))
  a, b = x1 + ks[0], x2 + ks[1]
  for i in range(5):
    for r in _ROTATIONS[i % 2]:
      a = a + b
      b = ((b << np.uint32(r)) | (b >> np.uint32(32 - r))) ^ a
    a = a + ks[(i + 1) % 3]
    b = b + ks[(i + 2) % 3] + np.uint32(i + 1)
  return a, b


def _threefry2x32_impl(k1, k2, x1, x2):
  _threefry2x32_check(k1.aval, k2.aval, x1.aval, x2.aval)
  vals = [np.asarray(a._value, _U32) for a in (k1, k2, x1, x2)]
  with np.errstate(over="ignore"):  # 0-d operands compute on NumPy scalars, which warn
    outs = _threefry2x32_np(*vals)
  return [ArrayImpl(np.asarray(o, _U32)) for o in outs]


def _threefry2x32_abstract_eval(k1, k2, x1, x2):
  aval = _threefry2x32_check(k1, k2, x1, x2)
  return [aval, aval]


def _threefry2x32_batch(vals, dims):
  """Elementwise: bring every operand to the full batched shape, batch axis 0."""
  out, dim = _broadcast_batch(vals, dims)
  return out, [dim, dim]


def _threefry2x32_lower(ctx, k1, k2, x1, x2):
  """The rounds of ``_threefry2x32_np`` unrolled into uint32 StableHLO ops."""
  _threefry2x32_check(k1.aval, k2.aval, x1.aval, x2.aval)
  u32 = lambda v: ctx.full(np.uint32(v), (), _U32)  # broadcast where used
  add = lambda p, q: ctx.binary("add", p, q)

  def rotl(v, r):
    return ctx.binary("or", ctx.binary("shift_left", v, u32(r)),
                      ctx.binary("shift_right_logical", v, u32(32 - r)))

  ks = (k1, k2, ctx.binary("xor", ctx.binary("xor", k1, k2), u32(0x1BD11BDA)))
  a, b = add(x1, ks[0]), add(x2, ks[1])
  for i in range(5):
    for r in _ROTATIONS[i % 2]:
      a = add(a, b)
      b = ctx.binary("xor", rotl(b, r), a)
    a = add(a, ks[(i + 1) % 3])
    b = add(add(b, ks[(i + 2) % 3]), u32(i + 1))
  return [a, b]


_broadcast_batch = batching.broadcast_batcher(threefry2x32_p, scalar_ok=False)
threefry2x32_p.lower = _threefry2x32_lower
threefry2x32_p.def_impl(_threefry2x32_impl)
threefry2x32_p.def_abstract_eval(_threefry2x32_abstract_eval)
threefry2x32_p.batch = _threefry2x32_batch


def threefry2x32(k1, k2, x1, x2):
  """Hashes counters (x1, x2) with key (k1, k2); arguments broadcast together."""
  args = [lax._to_array(a) for a in (k1, k2, x1, x2)]
  shape = np.broadcast_shapes(*(a.shape for a in args))
  args = [a if a.shape == shape else
          lax.broadcast_in_dim(a, shape, tuple(range(len(shape) - a.ndim, len(shape))))
          for a in args]
  return threefry2x32_p.bind(*args)


def threefry_2x32(keypair, count):
  """The legacy hash of a flat counter array: halves are hashed as (x1, x2) pairs."""
  k1, k2 = keypair
  shape = count.shape
  flat = lax.reshape(count, (count.size,))
  odd = count.size % 2
  if odd:
    flat = slicing.concatenate([flat, lax.full((1,), 0, _U32)], 0)
  half = flat.shape[0] // 2
  y1, y2 = threefry2x32(k1, k2, flat[:half], flat[half:])
  out = slicing.concatenate([y1, y2], 0)
  if odd:
    out = out[:-1]
  return lax.reshape(out, shape)


def _iota_2x32(shape):
  """Row-major flat indices of ``shape`` as 64-bit (hi, lo) counter words; eager
  shapes stay below 2**32 elements, so the high word is zero."""
  size = int(np.prod(shape, dtype=np.int64))
  if size >= 2 ** 32:
    raise NotImplementedError(f"random bits for {size} >= 2**32 elements are not supported.")
  lo = lax.reshape(lax.iota(_U32, size), shape)
  return lax.full(shape, 0, _U32), lo


# ---------------------------------------------------------------- key derivation
# These take the raw uint32[2] key data of ONE key.


def threefry_seed(seed):
  seed = lax._to_array(seed)
  if not dtypes.issubdtype(seed.dtype, np.integer):
    raise TypeError(f"PRNG key seed must be an integer; got {seed!r}")
  if seed.shape:
    raise TypeError(f"PRNG key seed must be a scalar; got {seed!r}.")
  if seed.dtype.itemsize == 8:
    k1 = lax.convert_element_type(lax.shift_right_logical(seed, 32), _U32)
  else:
    k1 = lax.full((), 0, _U32)
  if seed.dtype.itemsize == 8 or seed.dtype.kind == "u":
    k2 = lax.convert_element_type(seed & np.array(0xFFFFFFFF, seed.dtype), _U32)
  else:
    k2 = lax.convert_element_type(seed, _U32)
  return slicing.concatenate([lax.reshape(k1, (1,)), lax.reshape(k2, (1,))], 0)


def threefry_split(data, shape):
  shape = tuple(int(d) for d in shape)
  if config.jax_threefry_partitionable:
    hi, lo = _iota_2x32(shape)
    b1, b2 = threefry2x32(data[0], data[1], hi, lo)
    return slicing.concatenate([lax.expand_dims(b1, (len(shape),)),
                            lax.expand_dims(b2, (len(shape),))], len(shape))
  n = int(np.prod(shape, dtype=np.int64))
  counts = lax.iota(_U32, n * 2)
  return lax.reshape(threefry_2x32((data[0], data[1]), counts), (*shape, 2))


def threefry_fold_in(data, d):
  d = lax._to_array(d)
  return threefry_2x32((data[0], data[1]), threefry_seed(lax.convert_element_type(d, _U32)))


def threefry_random_bits(data, bit_width, shape):
  if bit_width not in UINT_DTYPES:
    raise TypeError(f"requires bit field width to be 8, 16, 32 or 64, got {bit_width}")
  shape = tuple(int(d) for d in shape)
  dtype = UINT_DTYPES[bit_width]
  if config.jax_threefry_partitionable:
    hi, lo = _iota_2x32(shape)
    b1, b2 = threefry2x32(data[0], data[1], hi, lo)
    if bit_width == 64:
      return lax.shift_left(lax.convert_element_type(b1, dtype), np.uint64(32)) | \
          lax.convert_element_type(b2, dtype)
    return lax.convert_element_type(b1 ^ b2, dtype)
  size = int(np.prod(shape, dtype=np.int64))
  max_count = -(-bit_width * size // 32)
  if max_count >= 2 ** 32 - 1:
    raise NotImplementedError("random_bits of more than 2**32 words in the legacy "
                              "(non-partitionable) layout is not supported.")
  bits = threefry_2x32((data[0], data[1]), lax.iota(_U32, max_count))
  if bit_width == 64:
    half = max_count // 2
    b1 = lax.convert_element_type(bits[:half], dtype)
    b2 = lax.convert_element_type(bits[half:], dtype)
    bits = lax.shift_left(b1, np.uint64(32)) | b2
  elif bit_width in (8, 16):
    per = 32 // bit_width
    shifts = lax.broadcasted_iota(_U32, (per, max_count), 0) * np.uint32(bit_width)
    parts = lax.shift_right_logical(lax.broadcast(bits, (per,)), shifts)
    parts = parts & np.uint32(np.iinfo(dtype).max)
    bits = lax.reshape(lax.transpose(parts, (1, 0)), (max_count * per,))
    bits = lax.convert_element_type(bits, dtype)[:size]
  return lax.reshape(bits, shape)


# ---------------------------------------------------------------- typed keys


class PRNGImpl:
  """Describes a PRNG implementation (only threefry2x32 is provided)."""

  def __init__(self, name, tag, key_shape):
    self.name, self.tag, self.key_shape = name, tag, key_shape

  def __str__(self):
    return self.name

  def __repr__(self):  # as JAX's PRNGSpec, which key_impl returns
    return repr(self.name)

  def __eq__(self, other):
    return isinstance(other, PRNGImpl) and other.name == self.name

  def __hash__(self):
    return hash(self.name)


threefry_prng_impl = PRNGImpl("threefry2x32", "fry", (2,))


def resolve_prng_impl(impl=None) -> PRNGImpl:
  name = config.jax_default_prng_impl if impl is None else impl
  if isinstance(name, PRNGImpl):
    name = name.name
  if isinstance(name, KeyTy):
    name = name._impl.name
  if name in ("threefry2x32", "threefry"):
    return threefry_prng_impl
  if name in ("rbg", "unsafe_rbg"):
    raise NotImplementedError(
        f"PRNG implementation {name!r} is not supported by pyjax; only 'threefry2x32' "
        "is. Set config.update('jax_default_prng_impl', 'threefry2x32') or pass "
        "impl='threefry2x32'.")
  raise ValueError(f"unrecognized PRNG implementation {name!r}; pyjax supports "
                   "'threefry2x32'.")


class KeyTy(dtypes.ExtendedDType):
  """The dtype of typed key arrays: ``key<fry>``; its scalar ``type`` is ``prng_key``."""
  type = dtypes.prng_key

  def __init__(self, impl: PRNGImpl):
    self._impl = impl
    self.name = f"key<{impl.tag}>"

  def __repr__(self):
    return self.name

  __str__ = __repr__

  def __eq__(self, other):
    return isinstance(other, KeyTy) and other._impl == self._impl

  def __hash__(self):
    return hash(("KeyTy", self._impl))

  itemsize = property(lambda self: 8)
  kind = property(lambda self: "V")


class PRNGKeyArray:
  """An array of typed PRNG keys; the data lives in ``_base_array`` (uint32[..., 2])."""
  __array_priority__ = 100

  def __init__(self, impl: PRNGImpl, base_array, consumed=None):
    self._impl = impl
    self._base_array = base_array
    self._consumed = consumed  # with jax_debug_key_reuse: a bool per key, shared by views

  def _tracked(self):
    """The consumed flags, when eager key-reuse checking is on for this key."""
    if not config.jax_debug_key_reuse or isinstance(self._base_array, core.Tracer):
      return None
    if self._consumed is None:
      self._consumed = np.zeros(self.shape, bool)
    return self._consumed

  def _check_reuse(self, where, consume=True):
    """Raises KeyReuseError if a key in this array was consumed; marks them consumed."""
    consumed = self._tracked()
    if consumed is None:
      return
    if consumed.any():
      raise KeyReuseError(f"Previously-consumed key passed to {where} at index 0\n"
                          "Split a fresh key for each use (jax.random.split), or "
                          "jax.random.clone the key to reuse it on purpose.")
    if consume:
      consumed[...] = True

  dtype = property(lambda self: KeyTy(self._impl))
  aval = property(lambda self: ShapedArray(self.shape, KeyTy(self._impl)))
  itemsize = property(lambda self: 8)
  shape = property(lambda self: tuple(self._base_array.shape[:-1]))
  ndim = property(lambda self: len(self._base_array.shape) - 1)
  size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))

  def __len__(self):
    if not self.shape:
      raise TypeError("len() of unsized object")
    return self.shape[0]

  def __iter__(self):
    if not self.shape:
      raise TypeError("iteration over a 0-d key array")
    return (self[i] for i in range(self.shape[0]))

  def __getitem__(self, idx):
    if not isinstance(idx, tuple):
      idx = (idx,)
    if any(i is Ellipsis for i in idx):
      raise NotImplementedError("Ellipsis indexing of key arrays is not supported.")
    if len(idx) > self.ndim:
      raise IndexError(f"Too many indices for key array of shape {self.shape}: "
                       f"got {len(idx)} indices.")
    consumed = self._tracked()
    if consumed is not None:  # the slice's flags are a view of ours
      consumed = consumed[idx + (Ellipsis,)]
      PRNGKeyArray(self._impl, None, consumed)._check_reuse("slice", consume=False)
    return PRNGKeyArray(self._impl, self._base_array[idx], consumed)

  def reshape(self, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
      shape = tuple(shape[0])
    size = self.size
    shape = tuple(size // max(1, -int(np.prod(shape))) if d == -1 else d for d in shape)
    return PRNGKeyArray(self._impl, lax.reshape(self._base_array, (*shape, 2)))

  def flatten(self):
    return self.reshape(-1)

  ravel = flatten

  @property
  def T(self):
    perm = tuple(reversed(range(self.ndim))) + (self.ndim,)
    return PRNGKeyArray(self._impl, lax.transpose(self._base_array, perm))

  def __eq__(self, other):
    if not isinstance(other, PRNGKeyArray):
      return NotImplemented
    eq = lax.eq(self._base_array, other._base_array)
    return lax_reductions.reduce_and(eq, (eq.ndim - 1,))

  def __ne__(self, other):
    eq = self.__eq__(other)
    return eq if eq is NotImplemented else lax.bitwise_not(eq)

  __hash__ = None

  def __array__(self, dtype=None, copy=None):
    raise TypeError("JAX array with PRNGKey dtype cannot be converted to a NumPy array. "
                    "Use jax.random.key_data(arr) if you wish to extract the underlying "
                    "integer array.")

  def __repr__(self):
    data = self._base_array
    if isinstance(data, core.Tracer):
      return f"Traced<{self.dtype.name}{list(self.shape)}> overlaying {data!r}"
    return (f"Array({self.shape}, dtype={self.dtype.name}) overlaying:\n"
            f"{np.asarray(data)}")

  __str__ = __repr__

  def copy(self):
    return self

  def block_until_ready(self):
    return self


Array.register(PRNGKeyArray)  # isinstance(key, jax.Array) holds, as in JAX
tree_util.register_pytree_node(
    PRNGKeyArray, lambda k: ((k._base_array,), k._impl),
    lambda impl, children: PRNGKeyArray(impl, children[0]))


def random_seed(seed, impl: PRNGImpl) -> PRNGKeyArray:
  if isinstance(seed, PRNGKeyArray):
    raise TypeError("PRNGKey accepts a scalar seed, but was given a PRNG key.")
  if isinstance(seed, int) and not isinstance(seed, bool):
    if not -2 ** 63 <= seed < 2 ** 64:
      raise OverflowError(f"Python int {seed} too large to convert to a 64-bit seed")
    # Without x64 the seed is an int32 (wrapping, as JAX's conversion does).
    hi = (seed >> 32) & 0xFFFFFFFF if config.jax_enable_x64 else 0
    return PRNGKeyArray(impl, lax._to_array(np.array([hi, seed & 0xFFFFFFFF], _U32)))
  seed = lax._to_array(seed)
  if seed.shape:
    raise TypeError(f"PRNG key seed must be a scalar; got {seed!r}.")
  if not dtypes.issubdtype(seed.dtype, np.integer):
    raise TypeError(f"PRNG key seed must be an integer; got {seed!r}")
  return PRNGKeyArray(impl, threefry_seed(seed))


def wrap_key_data(data, impl: PRNGImpl) -> PRNGKeyArray:
  data = lax._to_array(data)
  if data.dtype != _U32:
    raise TypeError(f"random.wrap_key_data requires uint32 key data, got {data.dtype}.")
  if data.ndim < 1 or data.shape[-1] != 2:
    raise TypeError(
        "random.wrap_key_data: threefry2x32 key data must have a trailing dimension "
        f"of size 2, got shape {data.shape}.")
  return PRNGKeyArray(impl, data)


def key_data(keys):
  if isinstance(keys, PRNGKeyArray):
    return keys._base_array
  return keys


def _map_keys(fn, keys: PRNGKeyArray, out_extra_dims):
  """Applies ``fn`` (on one key's uint32[2] data) to every key in ``keys``."""
  data = keys._base_array
  if not keys.shape:
    return fn(data)
  flat = lax.reshape(data, (keys.size, 2))
  outs = [fn(flat[i]) for i in range(keys.size)]
  if not outs:
    raise ValueError("cannot map over an empty key array")
  out = slicing.concatenate([lax.expand_dims(o, (0,)) for o in outs], 0)
  return lax.reshape(out, (*keys.shape, *out.shape[1:]))


def random_split(keys: PRNGKeyArray, shape) -> PRNGKeyArray:
  return PRNGKeyArray(keys._impl, _map_keys(lambda d: threefry_split(d, shape), keys, shape))


def random_fold_in(keys: PRNGKeyArray, data) -> PRNGKeyArray:
  data = lax._to_array(data)
  if data.shape:
    raise ValueError(f"fold_in requires a scalar integer for data, got shape {data.shape}.")
  return PRNGKeyArray(keys._impl, _map_keys(lambda d: threefry_fold_in(d, data), keys, ()))


def random_bits(keys: PRNGKeyArray, bit_width, shape):
  return _map_keys(lambda d: threefry_random_bits(d, bit_width, shape), keys, shape)

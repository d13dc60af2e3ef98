"""The FFT primitive (``jax.lax.fft``): one block with all its rules.

Eager runs NumPy's pocketfft in the operand's precision (float32 stays float32, as
XLA's DUCC on CPU). The lowering is described at ``_fft_lower``.
"""
from __future__ import annotations

import enum
import math

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import lowering as mlir
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.lax import lax, slicing

__all__ = ["FftType", "fft", "fft_p"]


class FftType(enum.IntEnum):
  "Describes which FFT operation to perform."

  FFT = 0
  "Forward complex-to-complex FFT."

  IFFT = 1
  "Inverse complex-to-complex FFT."

  RFFT = 2
  "Forward real-to-complex FFT."

  IRFFT = 3
  "Inverse real-to-complex FFT."


def _str_to_fft_type(s: str) -> FftType:
  if s in ("fft", "FFT"):
    return FftType.FFT
  elif s in ("ifft", "IFFT"):
    return FftType.IFFT
  elif s in ("rfft", "RFFT"):
    return FftType.RFFT
  elif s in ("irfft", "IRFFT"):
    return FftType.IRFFT
  raise ValueError(f"Unknown FFT type '{s}'")


def _complex_dtype(dtype):
  return (np.zeros((), dtype) + np.zeros((), np.complex64)).dtype


def _real_dtype(dtype):
  return np.finfo(dtype).dtype


fft_p = Primitive("fft")


def _fft_abstract(x, *, fft_type, fft_lengths):
  k = len(fft_lengths)
  if k > x.ndim:
    raise ValueError(f"FFT input shape {x.shape} must have at least as many "
                     f"input dimensions as fft_lengths {fft_lengths}.")
  if k > 3:
    raise ValueError(f"FFT rank must be between 1 and 3, but got {k}.")
  if fft_type == FftType.RFFT:
    if x.dtype not in (np.float32, np.float64):
      raise ValueError(f"RFFT input must be float32 or float64, got {x.dtype}")
    if x.shape[-k:] != fft_lengths:
      raise ValueError(f"RFFT input shape {x.shape} minor dimensions must "
                       f"be equal to fft_lengths {fft_lengths}")
    shape = x.shape[:-k] + fft_lengths[:-1] + (fft_lengths[-1] // 2 + 1,)
    dtype = _complex_dtype(x.dtype)
  elif fft_type == FftType.IRFFT:
    if not np.issubdtype(x.dtype, np.complexfloating):
      raise ValueError(f"IRFFT input must be complex64 or complex128, got {x.dtype}")
    if x.shape[-k:-1] != fft_lengths[:-1]:
      raise ValueError(f"IRFFT input shape {x.shape} minor dimensions must "
                       "be equal to all except the last fft_length, got "
                       f"fft_lengths={fft_lengths}")
    if x.shape[-1] != fft_lengths[-1] // 2 + 1:
      raise ValueError(f"IRFFT input shape {x.shape} last dimension must be "
                       f"fft_lengths[-1] // 2 + 1 = {fft_lengths[-1] // 2 + 1}, got "
                       f"fft_lengths={fft_lengths}")
    shape = x.shape[:-k] + fft_lengths
    dtype = _real_dtype(x.dtype)
  else:
    if not np.issubdtype(x.dtype, np.complexfloating):
      raise ValueError(f"FFT input must be complex64 or complex128, got {x.dtype}")
    if x.shape[-k:] != fft_lengths:
      raise ValueError(f"FFT input shape {x.shape} minor dimensions must "
                       f"be equal to fft_lengths {fft_lengths}")
    shape, dtype = x.shape, x.dtype
  return ShapedArray(tuple(shape), np.dtype(dtype))


def _np_fft(v, fft_type, fft_lengths):
  """NumPy's pocketfft on the trailing ``len(fft_lengths)`` axes, in ``v``'s precision."""
  k = len(fft_lengths)
  axes = tuple(range(v.ndim - k, v.ndim))
  if v.size == 0 or 0 in fft_lengths:
    return None
  if fft_type == FftType.FFT:
    return np.fft.fftn(v, axes=axes)
  if fft_type == FftType.IFFT:
    return np.fft.ifftn(v, axes=axes)
  if fft_type == FftType.RFFT:
    return np.fft.rfftn(v, axes=axes)
  return np.fft.irfftn(v, s=fft_lengths, axes=axes)


def _fft_impl(x, *, fft_type, fft_lengths):
  out = _fft_abstract(x.aval, fft_type=fft_type, fft_lengths=fft_lengths)
  r = _np_fft(np.asarray(x._value), fft_type, fft_lengths)
  if r is None:
    r = np.zeros(out.shape, out.dtype)
  return ArrayImpl(np.asarray(r, out.dtype).reshape(out.shape), False)


def _mask(t, n, m, dtype):
  """The ``[m]`` mask of RFFT's Hermitian redundancy: 1 for DC (and Nyquist for even
  ``n``), 2 for the others."""
  mask = lax.full((m,), 2.0, dtype)
  mask = slicing.dynamic_update_slice(mask, lax.full((1,), 1.0, dtype), (0,))
  if not n % 2:
    mask = slicing.dynamic_update_slice(mask, lax.full((1,), 1.0, dtype), (m - 1,))
  return mask


def _scale(z, r):
  """Complex ``z`` times the real ``r`` part by part (what a multiply by ``r + 0j``
  gives for finite values): a complex constant mask folds into an attribute IREE's
  compiler rejects."""
  r = lax.broadcast_in_dim(r, z.shape, tuple(range(z.ndim - r.ndim, z.ndim)))
  return lax.complex(lax.mul(lax.real(z), r), lax.mul(lax.imag(z), r))


def _rfft_transpose(t, fft_lengths):
  n, m = fft_lengths[-1], t.shape[-1]
  rdt = _real_dtype(t.dtype)
  inv_mask = lax.div(lax.full((m,), 1.0, rdt), _mask(t, n, m, rdt))
  N = math.prod(fft_lengths)
  out = fft(_scale(lax.conj(t), inv_mask), FftType.IRFFT, fft_lengths)
  return lax.mul(lax.full((), N, out.dtype), out)


def _irfft_transpose(t, fft_lengths):
  x = fft(t, FftType.RFFT, fft_lengths)
  n = x.shape[-1]
  rdt = _real_dtype(x.dtype)
  mask = _mask(t, fft_lengths[-1], n, rdt)
  scale = 1 / math.prod(fft_lengths)
  out = _scale(x, lax.mul(lax.full((), scale, rdt), mask))
  return lax.conj(out)   # JAX's convention for complex gradients


def _fft_transpose(t, x, *, fft_type, fft_lengths):
  t = ad.instantiate(t)
  if fft_type == FftType.RFFT:
    return [_rfft_transpose(t, fft_lengths)]
  if fft_type == FftType.IRFFT:
    return [_irfft_transpose(t, fft_lengths)]
  return [fft(t, fft_type, fft_lengths)]


def _fft_batch(vals, dims, *, fft_type, fft_lengths):
  x = batching.moveaxis(vals[0], dims[0], 0)
  return fft_p.bind(x, fft_type=fft_type, fft_lengths=fft_lengths), 0


# ---------------------------------------------------------------- lowering
#
# IREE compiles ``stablehlo.fft`` only for one trailing axis of a power-of-two length in
# float32/complex64 (multi-axis, other lengths and float64 fail in its compiler). Those
# go to ``_native_fft_p``; everything else is written with lax operations here, traced
# and lowered in place: axis by axis (a transpose brings each to the end), and for one
# axis of length n: a DFT matmul for n <= _DFT_MAX, a four-step Cooley-Tukey split
# n = n1 * n2 (two batched sub-FFTs, a twiddle multiply, transposes) for composite n,
# and Bluestein's chirp-z (a convolution through power-of-two FFTs) for prime n.

_DFT_MAX = 32
_NATIVE_MIN = 8192
_NATIVE_MAX_ROW = 2 ** 19   # longer rows take radix-2 steps first
_UNROLL_ROWS = 16           # large FFTs of up to this many rows run row by row
_CONST_TWIDDLES = 4096   # up to this size, twiddles are constants of the module

_native_fft_p = Primitive("native_fft")
_native_fft_p.def_impl(_fft_impl)
_native_fft_p.def_abstract_eval(_fft_abstract)


def _native_lower(ctx, x, *, fft_type, fft_lengths):
  return ctx.op("stablehlo.fft", [x], ctx.aval_out,
                f"fft_type = #stablehlo<fft_type {fft_type.name}>, "
                f"fft_length = {mlir._i64_array(fft_lengths)}")


_native_fft_p.lower = _native_lower


def _is_pow2(n):
  return n >= 2 and not n & (n - 1)


def _native_ok(dtype, n):
  """IREE's ``stablehlo.fft`` (radix-2 passes over the whole array) for float32 powers of
  two up to _DFT_MAX (cheap to compile) and from _NATIVE_MIN (where the four-step's
  transposes of the whole array cost more); between, the four-step's matmuls are
  2-5x faster."""
  return (n <= _DFT_MAX or n >= _NATIVE_MIN) and np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.complex64)) and _is_pow2(n)


def _const(v, dtype):
  return lax._to_array(np.asarray(v, dtype))


def _swap_last(x, axis):
  nd = x.ndim
  if axis == nd - 1:
    return x
  perm = list(range(nd))
  perm[axis], perm[-1] = perm[-1], perm[axis]
  return lax.transpose(x, perm)


def _dft_matrix(n):
  """The real ``[2n, 2n]`` matrix taking ``[re x, im x]`` to ``[re X, im X]`` (angles
  reduced exactly: ``j k mod n``)."""
  jk = np.outer(np.arange(n), np.arange(n)) % n
  c, s = np.cos(2 * np.pi * jk / n), -np.sin(2 * np.pi * jk / n)
  return np.block([[c, s], [-s, c]])


_dft_p = Primitive("fft_dft")   # only inside the fft lowering: no transformation rules


def _dft_abstract(x):
  return ShapedArray(x.shape, x.dtype)


def _dft_impl(x):
  v = np.asarray(x._value)
  return ArrayImpl(np.fft.fft(v, axis=-1).astype(x.dtype), False)


def _dft_lower(ctx, x):
  """One real matmul ``[re x, im x] @ M`` (a complex dot_general is four, and compiles
  slower), a barrier (the complex epilogue fused into the matmul fails to vectorize)."""
  aval = x.aval
  *batch, n = aval.shape
  nd = aval.ndim
  rdt = _real_dtype(aval.dtype)
  ra = aval.update(dtype=rdt)
  re, im = ctx.unary("real", x, rdt), ctx.unary("imag", x, rdt)
  both = ctx.op("stablehlo.concatenate", [re, im], ra.update(shape=(*batch, 2 * n)),
                f"dimension = {nd - 1} : i64")
  m = ctx.constant(_dft_matrix(n).astype(rdt), ShapedArray((2 * n, 2 * n), rdt))
  y = ctx.op("stablehlo.dot_general", [both, m], both.aval,
             f"dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = "
             f"[{nd - 1}], rhs_contracting_dimensions = [0]>")
  y = ctx.op("stablehlo.optimization_barrier", [y], y.aval)
  parts = []
  for lo in (0, n):
    parts.append(ctx.op("stablehlo.slice", [y], ra,
                        f"start_indices = {mlir._i64_array([0] * (nd - 1) + [lo])}, "
                        f"limit_indices = {mlir._i64_array([*batch, lo + n])}, "
                        f"strides = {mlir._i64_array([1] * nd)}"))
  return ctx.op("stablehlo.complex", parts, aval)


_dft_p.def_impl(_dft_impl)
_dft_p.def_abstract_eval(_dft_abstract)
_dft_p.lower = _dft_lower


_barrier_p = Primitive("fft_barrier")   # only inside the fft lowering


def _barrier_lower(ctx, x):
  return ctx.op("stablehlo.optimization_barrier", [x], x.aval)


_barrier_p.def_impl(lambda x: x)
_barrier_p.def_abstract_eval(lambda x: ShapedArray(x.shape, x.dtype))
_barrier_p.lower = _barrier_lower


def _cos_sin(count, n, dtype):
  """``cos`` and ``sin`` of ``-2 pi k / n`` for ``k < count``, as products of two small
  float64-accurate tables (``k = a s + b``: ``W^k = W^(a s) W^b``, within 2 ulps): IREE
  compiles the trigonometry of a long iota slowly (it folds it at compile time)."""
  s = 1 << max(0, (count - 1).bit_length() + 1) // 2
  na = -(-count // s)
  ta = -2 * np.pi * np.arange(na) * s / n
  tb = -2 * np.pi * np.arange(s) / n
  ar, ai = (_barrier_p.bind(_const(f(ta), dtype)) for f in (np.cos, np.sin))
  br, bi = _const(np.cos(tb), dtype), _const(np.sin(tb), dtype)
  col = lambda v: lax.broadcast_in_dim(v, (na, s), (0,))
  row = lambda v: lax.broadcast_in_dim(v, (na, s), (1,))
  c = lax.sub(lax.mul(col(ar), row(br)), lax.mul(col(ai), row(bi)))
  si = lax.add(lax.mul(col(ar), row(bi)), lax.mul(col(ai), row(br)))
  flat = lambda v: slicing.slice(lax.reshape(v, (na * s,)), (0,), (count,))
  return flat(c), flat(si)


def _dft(x, n):
  return _dft_p.bind(x)


def _twiddles(n1, n2, dtype):
  """``T[j2, k1] = exp(-2 pi i j2 k1 / n)``, ``n = n1 n2``."""
  n = n1 * n2
  if n <= _CONST_TWIDDLES:
    p = np.outer(np.arange(n2), np.arange(n1))
    return _const(np.exp(-2j * np.pi * p / n), dtype)
  rdt = _real_dtype(dtype)
  i32 = np.dtype(np.int32)
  p = lax.mul(_barrier_p.bind(lax.broadcasted_iota(i32, (n2, n1), 0)),
              lax.broadcasted_iota(i32, (n2, n1), 1))
  # p in [0, n): fold to (-n/2, n/2] so the angle is in (-pi, pi].
  half = lax.full((n2, n1), n // 2, i32)
  p = lax.select(lax.gt(p, half), lax.sub(p, lax.full((n2, n1), n, i32)), p)
  ang = lax.mul(lax.convert_element_type(p, rdt), lax.full((), -2 * np.pi / n, rdt))
  return lax.complex(lax.cos(ang), lax.sin(ang))


def _smallest_split(n):
  """The divisor of ``n`` nearest ``sqrt(n)`` from below (1 for a prime)."""
  for d in range(math.isqrt(n), 0, -1):
    if n % d == 0:
      return d
  return 1


def _c2c(x, inverse):
  """The complex FFT (unnormalized; ``inverse`` scales by 1/n) along the last axis."""
  n = x.shape[-1]
  if n <= 1:
    return x
  big = n >= _NATIVE_MIN and _native_ok(x.dtype, n)
  if big and math.prod(x.shape[:-1]) <= _UNROLL_ROWS:
    if inverse:
      y = lax.conj(_c2c(lax.conj(x), False))
      return lax.mul(y, lax.full((), 1 / n, y.dtype))
    return _big_rows(x, n)
  if _native_ok(x.dtype, n):
    return _native_fft_p.bind(x, fft_type=FftType.IFFT if inverse else FftType.FFT,
                              fft_lengths=(n,))
  if inverse:
    y = lax.conj(_c2c(lax.conj(x), False))
    return lax.mul(y, lax.full((), 1 / n, y.dtype))
  if n <= _DFT_MAX:
    return _dft(x, n)
  n1 = _smallest_split(n)
  if n1 == 1:
    return _bluestein(x, n)
  n2 = n // n1
  batch = x.shape[:-1]
  nb = len(batch)
  a = lax.reshape(x, (*batch, n1, n2))                        # a[j1, j2]
  b = _c2c(lax.transpose(a, (*range(nb), nb + 1, nb)), False)   # b[j2, k1]
  b = lax.mul(b, lax.broadcast_in_dim(_twiddles(n1, n2, x.dtype), b.shape, (nb, nb + 1)))
  c = _c2c(lax.transpose(b, (*range(nb), nb + 1, nb)), False)   # c[k1, k2]
  c = lax.transpose(c, (*range(nb), nb + 1, nb))                # c[k2, k1]: k = k1 + n1 k2
  return lax.reshape(c, (*batch, n))


def _big_rows(x, n):
  """Large power-of-two FFTs row by row: IREE's kernel is 5-10x slower per element on a
  batch than on one row, and beyond 2^19 (8 MiB) on one row too, so a longer row takes
  radix-2 steps (two half-length FFTs of the even and odd entries, combined with
  twiddles) down to 2^19."""
  batch = x.shape[:-1]
  rows = math.prod(batch)
  flat = lax.reshape(x, (rows, n))
  outs = [_big_row(lax.reshape(slicing.slice(flat, (r, 0), (r + 1, n)), (n,)), n)
          for r in range(rows)]
  out = outs[0] if rows == 1 else slicing.concatenate(
      [lax.reshape(o, (1, n)) for o in outs], 0)
  return lax.reshape(out, (*batch, n))


def _big_row(x, n):
  if n <= _NATIVE_MAX_ROW:
    return _native_fft_p.bind(x, fft_type=FftType.FFT, fft_lengths=(n,))
  h = n // 2
  pairs = lax.reshape(x, (h, 2))
  ev = _big_row(lax.reshape(slicing.slice(pairs, (0, 0), (h, 1)), (h,)), h)
  od = _big_row(lax.reshape(slicing.slice(pairs, (0, 1), (h, 2)), (h,)), h)
  rdt = _real_dtype(x.dtype)
  c, s = _cos_sin(h, n, rdt)
  orr, oi = lax.real(od), lax.imag(od)
  tr = lax.sub(lax.mul(c, orr), lax.mul(s, oi))
  ti = lax.add(lax.mul(c, oi), lax.mul(s, orr))
  er, ei = lax.real(ev), lax.imag(ev)
  return slicing.concatenate([lax.complex(lax.add(er, tr), lax.add(ei, ti)),
                              lax.complex(lax.sub(er, tr), lax.sub(ei, ti))], 0)


def _bluestein(x, n):
  """Bluestein's chirp-z: ``X_k = c_k sum_j (x_j c_j) conj(c_{k-j})``,
  ``c_j = exp(-i pi j^2 / n)``, the convolution through power-of-two FFTs."""
  m = 1 << (2 * n - 2).bit_length()
  j = np.arange(n)
  c = np.exp(-1j * np.pi * ((j * j) % (2 * n)) / n)
  kern = np.zeros(m, np.complex128)
  kern[:n] = np.conj(c)
  kern[m - n + 1:] = np.conj(c[1:])[::-1]
  kern_f = np.fft.fft(kern)
  batch = x.shape[:-1]
  cx = lax.broadcast_in_dim(_const(c, x.dtype), x.shape, (x.ndim - 1,))
  a = lax.mul(x, cx)
  # zeros from real parts: IREE cannot splat a complex128 constant (an i128 splat)
  zero = lax.full((*batch, m - n), 0, _real_dtype(x.dtype))
  a = slicing.concatenate([a, lax.complex(zero, zero)], x.ndim - 1)
  fa = _c2c(a, False)
  fa = lax.mul(fa, lax.broadcast_in_dim(_const(kern_f, x.dtype), fa.shape, (x.ndim - 1,)))
  y = _c2c(fa, True)
  y = slicing.slice(y, (0,) * x.ndim, (*batch, n))
  return lax.mul(y, cx)


def _r2c_packed(x, n):
  """A real FFT of even ``n`` from the complex FFT of length n/2 of
  ``z_j = x_2j + i x_2j+1``: ``X_k = E_k + W^k O_k`` with ``E = (Z_k + conj Z_{h-k}) / 2``,
  ``O = (Z_k - conj Z_{h-k}) / 2i`` (half the work of IREE's RFFT, a full complex one)."""
  h, nd, batch = n // 2, x.ndim, x.shape[:-1]
  pairs = lax.reshape(x, (*batch, h, 2))
  lo, hi = (0,) * (nd + 1), (*batch, h, 1)
  ev = lax.reshape(slicing.slice(pairs, lo, hi), (*batch, h))
  od = lax.reshape(slicing.slice(pairs, (*lo[:-1], 1), (*batch, h, 2)), (*batch, h))
  Z = _c2c(lax.complex(ev, od), False)
  Zk = slicing.concatenate([Z, slicing.slice(Z, lo[:-1], (*batch, 1))], nd - 1)
  Zr = lax.conj(lax.rev(Zk, (nd - 1,)))
  rdt = x.dtype
  cos, sin = _cos_sin(h + 1, n, rdt)
  bc = lambda v: lax.broadcast_in_dim(v, Zk.shape, (nd - 1,))
  half = lax.full((), 0.5, rdt)
  sr, si = lax.real(Zk), lax.imag(Zk)
  rr, ri = lax.real(Zr), lax.imag(Zr)
  er, ei = lax.mul(half, lax.add(sr, rr)), lax.mul(half, lax.add(si, ri))
  # O = (S - R) / 2i = ((si - ri) - i (sr - rr)) / 2
  orr, oi = lax.mul(half, lax.sub(si, ri)), lax.mul(half, lax.sub(rr, sr))
  c, s = bc(cos), bc(sin)
  return lax.complex(lax.add(er, lax.sub(lax.mul(c, orr), lax.mul(s, oi))),
                     lax.add(ei, lax.add(lax.mul(c, oi), lax.mul(s, orr))))


def _r2c(x, n):
  if _native_ok(x.dtype, n) and n >= _NATIVE_MIN:
    return _r2c_packed(x, n)
  if _native_ok(x.dtype, n):
    return _native_fft_p.bind(x, fft_type=FftType.RFFT, fft_lengths=(n,))
  m = n // 2 + 1
  y = _c2c(lax.convert_element_type(x, _complex_dtype(x.dtype)), False)
  return slicing.slice(y, (0,) * x.ndim, (*x.shape[:-1], m))


def _c2r(x, n):
  # (IREE's IRFFT of 2^20 fails: its stack allocation limit)
  if _native_ok(x.dtype, n) and n < _NATIVE_MIN:
    return _native_fft_p.bind(x, fft_type=FftType.IRFFT, fft_lengths=(n,))
  m = x.shape[-1]
  nd = x.ndim
  if n - m > 0:   # the other half of the spectrum: X[n - k] = conj(X[k])
    tail = slicing.slice(x, (0,) * (nd - 1) + (1,), (*x.shape[:-1], n - m + 1))
    x = slicing.concatenate([x, lax.conj(lax.rev(tail, (nd - 1,)))], nd - 1)
  return lax.real(_c2c(x, True))


def _along(x, axis, f):
  return _swap_last(f(_swap_last(x, axis)), axis)


def _fft_hlo(x, fft_type, fft_lengths):
  nd, k = x.ndim, len(fft_lengths)
  axes = range(nd - k, nd)
  if fft_type in (FftType.FFT, FftType.IFFT):
    inv = fft_type == FftType.IFFT
    for ax in axes:
      x = _along(x, ax, lambda y: _c2c(y, inv))
    return x
  if fft_type == FftType.RFFT:
    x = _r2c(x, fft_lengths[-1])
    for ax in axes[:-1]:
      x = _along(x, ax, lambda y: _c2c(y, False))
    return x
  for ax in axes[:-1]:
    x = _along(x, ax, lambda y: _c2c(y, True))
  return _c2r(x, fft_lengths[-1])


def _fft_lower(ctx, x, *, fft_type, fft_lengths):
  out = ctx.aval_out
  if out.size == 0 or x.aval.size == 0:
    return ctx.full(0, out.shape, out.dtype)
  # A barrier: on a constant operand IREE hoists the FFT (its stablehlo.fft, its complex
  # matmuls) into its constant evaluation, which fails ("global source initialization
  # order invalid").
  x = ctx.op("stablehlo.optimization_barrier", [x], x.aval)
  jaxpr, consts = pe.trace_to_jaxpr(lambda a: [_fft_hlo(a, fft_type, fft_lengths)],
                                    [x.aval.update(weak_type=False)])
  cs = [ctx.constant(np.asarray(mlir._host(c)), core.get_aval(c)) for c in consts]
  r, = ctx.lower_jaxpr(jaxpr, cs, [x])
  return r


fft_p.def_impl(_fft_impl)
fft_p.def_abstract_eval(_fft_abstract)
fft_p.sharding_rule = lambda x, **_: x.sharding  # JAX's: the operand's spec
ad.deflinear(fft_p, _fft_transpose)
fft_p.batch = _fft_batch
fft_p.lower = _fft_lower


def fft(x, fft_type: FftType | str, fft_lengths):
  """The FFT of kind ``fft_type`` over the trailing ``len(fft_lengths)`` axes of ``x``."""
  if isinstance(fft_type, str):
    typ = _str_to_fft_type(fft_type)
  elif isinstance(fft_type, FftType):
    typ = fft_type
  else:
    raise TypeError(f"Unknown FFT type value '{fft_type}'")
  x = lax._to_array(x)
  dt = core.get_aval(x).dtype
  if typ == FftType.RFFT:
    if dt.kind == "c":
      raise ValueError("only real valued inputs supported for rfft")
    x = lax.convert_element_type(x, dtypes.to_inexact_dtype(dt))
  else:
    x = lax.convert_element_type(x, dtypes.to_complex_dtype(dt))
  fft_lengths = tuple(int(n) for n in fft_lengths)
  if not fft_lengths:
    return x
  return fft_p.bind(x, fft_type=typ, fft_lengths=fft_lengths)

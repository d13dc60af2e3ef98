"""``jax.scipy.fft``: the type-2 discrete cosine transform and its inverse (Makhoul's
FFT formulation, the same sequence of operations as JAX's).

Only type 2 exists (JAX's ``NotImplementedError`` for the others); ``norm`` is None,
"backward" or "ortho"; no ``overwrite_x``/``workers``/``orthogonalize``.
"""
from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.lax import lax, slicing
from pyjax._src.numpy import array_creation, array_manipulation, ufuncs
from pyjax._src.numpy import fft as jnp_fft
from pyjax._src.numpy.util import (array, ensure_arraylike, promote_dtypes_complex,
                                   promote_dtypes_inexact)

__all__ = ["dct", "dctn", "idct", "idctn"]


def _canonicalize_axis(axis, ndim):
  axis = operator.index(axis)
  if not -ndim <= axis < ndim:
    raise ValueError(f"axis {axis} is out of bounds for array of dimension {ndim}")
  return axis + ndim if axis < 0 else axis


def _canonicalize_axes(axes, ndim):
  if isinstance(axes, Sequence):
    axes = tuple(_canonicalize_axis(a, ndim) for a in axes)
    if len(set(axes)) != len(axes):
      raise ValueError(f"repeated axis: {axes}")
    return axes
  return (_canonicalize_axis(axes, ndim),)


def _others(ndim, axis):
  return [a for a in range(ndim) if a != axis]


def _W4(N, ndim, axis, dtype, negate=False):
  """The twiddles exp(-i pi k / 2N), k = 0..N-1 along ``axis`` (``-k`` if ``negate``),
  computed now even under a trace: a constant of the compiled program (IREE compiles a
  complex exp slowly)."""
  with core.ensure_compile_time_eval():
    k = lax.expand_dims(array_creation.arange(N, dtype=dtype), _others(ndim, axis))
    N_arr, k = promote_dtypes_complex(N, -k if negate else k)
    return ufuncs.exp(-.5j * np.pi * k / N_arr)


def _interleave(x, axis):
  """The even entries, then the odd ones reversed (JAX reverses a strided slice; IREE
  fails to compile that concatenated, so this slices the reversed array)."""
  v0 = slicing.slice_in_dim(x, None, None, 2, axis)
  v1 = slicing.slice_in_dim(lax.rev(x, (axis,)), x.shape[axis] % 2, None, 2, axis)
  return slicing.concatenate([v0, v1], axis)


def _deinterleave(x, axis):
  full = slice(None)
  half = math.ceil(x.shape[axis] / 2)
  v0 = x[tuple(slice(None, half) if i == axis else full for i in range(x.ndim))]
  v1 = lax.rev(x[tuple(slice(half, None) if i == axis else full for i in range(x.ndim))],
               (axis,))
  out = array_creation.zeros(x.shape, dtype=x.dtype)
  out = out.at[tuple(slice(None, None, 2) if i == axis else full
                     for i in range(x.ndim))].set(v0)
  return out.at[tuple(slice(1, None, 2) if i == axis else full
                      for i in range(x.ndim))].set(v1)


def _ortho_norm(out, axis):
  with core.ensure_compile_time_eval():   # a constant of the compiled program
    factor = slicing.concatenate([lax.full((1,), 4, out.dtype),
                                  lax.full((out.shape[axis] - 1,), 2, out.dtype)], 0)
    factor = lax.expand_dims(factor, _others(out.ndim, axis))
    factor = lax.sqrt(factor * out.shape[axis])
  return out / factor


def _check(name, type, norm):
  if type != 2:
    raise NotImplementedError('Only DCT type 2 is implemented.')
  if norm is not None and norm not in ['backward', 'ortho']:
    raise ValueError(f"jax.scipy.fft.{name}: {norm=!r} is not implemented")


def _resize(x, axis, n):
  """Zero-pads or truncates ``axis`` to ``n`` (a negative pad truncates)."""
  return slicing.pad(x, array(0, x.dtype),
                     [(0, n - x.shape[axis] if a == axis else 0, 0) for a in range(x.ndim)])


def dct(x, type: int = 2, n: int | None = None, axis: int = -1, norm: str | None = None):
  """DCT-II of ``x`` along ``axis`` (``n``: zero-pad or truncate to that length)."""
  x = ensure_arraylike("dct", x)
  _check("dct", type, norm)
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    return lax.complex(dct(x.real, type=type, n=n, norm=norm, axis=axis),
                       dct(x.imag, type=type, n=n, norm=norm, axis=axis))
  axis = _canonicalize_axis(axis, x.ndim)
  if n is not None:
    x = _resize(x, axis, n)
  N = x.shape[axis]
  V = jnp_fft.fft(_interleave(x, axis), axis=axis)
  out = 2 * (V * _W4(N, x.ndim, axis, V.real.dtype)).real
  return _ortho_norm(out, axis) if norm == 'ortho' else out


def _dct2(x, axes, norm):
  axis1, axis2 = (_canonicalize_axis(a, x.ndim) for a in axes)
  N1, N2 = x.shape[axis1], x.shape[axis2]
  V = jnp_fft.fftn(_interleave(_interleave(x, axis1), axis2), axes=axes)
  flipped = array_manipulation.roll(array_manipulation.flip(V, axis=axis2), shift=1,
                                    axis=axis2)
  w1, w2 = _W4(N1, x.ndim, axis1, V.dtype), _W4(N2, x.ndim, axis2, V.dtype)
  w2n = _W4(N2, x.ndim, axis2, V.dtype, negate=True)
  out = w1 * (w2 * V + w2n * flipped)
  out = 2 * out.real
  if norm == 'ortho':
    return _ortho_norm(_ortho_norm(out, axis1), axis2)
  return out


def _shape_and_axes(x, s, axes):
  if s is not None:
    try:
      s = list(s)
    except TypeError:
      s = [operator.index(s)]
    if len(s) > x.ndim:
      raise ValueError(f"s must have at most x.ndim ({x.ndim}) elements, got {len(s)}")
  if axes is None:
    axes = tuple(range(x.ndim - len(s), x.ndim)) if s is not None else tuple(range(x.ndim))
  else:
    axes = _canonicalize_axes(axes, x.ndim)
  return s, axes


def _pad_to(x, s, axes):
  ns = dict(zip(axes, s))
  return slicing.pad(x, array(0, x.dtype),
                     [(0, ns[a] - x.shape[a] if a in ns else 0, 0) for a in range(x.ndim)])


def dctn(x, type: int = 2, s: Sequence[int] | None = None,
         axes: Sequence[int] | None = None, norm: str | None = None):
  """DCT-II over ``axes`` (two at a time, as JAX composes it)."""
  x = ensure_arraylike("dctn", x)
  _check("dctn", type, norm)
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    return lax.complex(dctn(x.real, type=type, s=s, norm=norm, axes=axes),
                       dctn(x.imag, type=type, s=s, norm=norm, axes=axes))
  s, axes = _shape_and_axes(x, s, axes)
  if len(axes) == 1:
    return dct(x, n=s[0] if s is not None else None, axis=axes[0], norm=norm)
  if s is not None:
    x = _pad_to(x, s, axes)
  if len(axes) == 2:
    return _dct2(x, axes=axes, norm=norm)
  for block in [axes[i:i + 2] for i in range(0, len(axes), 2)]:
    x = dctn(x, axes=block, norm=norm)
  return x


def idct(x, type: int = 2, n: int | None = None, axis: int = -1, norm: str | None = None):
  """The inverse of ``dct`` (a DCT-III, scaled as SciPy's)."""
  x = ensure_arraylike("idct", x)
  _check("idct", type, norm)
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    return lax.complex(idct(x.real, type=type, n=n, norm=norm, axis=axis),
                       idct(x.imag, type=type, n=n, norm=norm, axis=axis))
  axis = _canonicalize_axis(axis, x.ndim)
  if n is not None:
    x = _resize(x, axis, n)
  N = x.shape[axis]
  x, = promote_dtypes_inexact(x)
  if norm is None or norm == 'backward':
    x = _ortho_norm(x, axis)
  x = _ortho_norm(x, axis)
  w4 = _W4(N, x.ndim, axis, x.dtype)
  x = x.astype(w4.dtype)
  x = x / w4
  x = x * 2 * N
  x = jnp_fft.ifft(x, axis=axis)
  return _deinterleave(x.real, axis)


def idctn(x, type: int = 2, s: Sequence[int] | None = None,
          axes: Sequence[int] | None = None, norm: str | None = None):
  """The inverse of ``dctn``: ``idct`` along each axis in turn."""
  x = ensure_arraylike("idctn", x)
  _check("idctn", type, norm)
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    return lax.complex(idctn(x.real, type=type, s=s, norm=norm, axes=axes),
                       idctn(x.imag, type=type, s=s, norm=norm, axes=axes))
  s, axes = _shape_and_axes(x, s, axes)
  if len(axes) == 1:
    return idct(x, n=s[0] if s is not None else None, axis=axes[0], norm=norm)
  if s is not None:
    x = _pad_to(x, s, axes)
  for axis in axes:
    x = idct(x, axis=axis, norm=norm)
  return x

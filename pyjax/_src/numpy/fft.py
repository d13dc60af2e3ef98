"""``jax.numpy.fft``, built on ``lax.fft`` and ``jax.numpy``, as JAX's."""
from __future__ import annotations

import operator

import numpy as np

from pyjax._src import dtypes
from pyjax._src.lax import fft as lax_fft
from pyjax._src.numpy import array_creation, array_manipulation, reductions, ufuncs
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy.util import array, ensure_arraylike, promote_dtypes_inexact

__all__ = ["fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "ifft", "ifft2", "ifftn",
           "ifftshift", "ihfft", "irfft", "irfft2", "irfftn", "rfft", "rfft2", "rfftfreq",
           "rfftn"]


def _fft_norm(s, func_name: str, norm: str):
  if norm == "backward":
    return array(1)
  s, = promote_dtypes_inexact(s)
  if norm == "ortho":
    r = ufuncs.sqrt(reductions.prod(s))
    return r if func_name.startswith("i") else 1 / r
  elif norm == "forward":
    r = reductions.prod(s)
    return r if func_name.startswith("i") else 1 / r
  raise ValueError(f'Invalid norm value {norm}; should be "backward",'
                   '"ortho" or "forward".')


def _fft_core(func_name, fft_type, a, s, axes, norm):
  full_name = f"jax.numpy.fft.{func_name}"
  arr = ensure_arraylike(full_name, a)

  if s is not None:
    s = tuple(map(operator.index, s))
    if np.any(np.less_equal(s, 0)):
      raise ValueError("Shape should be positive.")
  if s is not None and axes is not None and len(s) != len(axes):
    raise ValueError("Shape and axes have different lengths.")

  orig_axes = axes
  if axes is None:
    axes = range(arr.ndim) if s is None else range(arr.ndim - len(s), arr.ndim)
  if len(axes) != len(set(axes)):
    raise ValueError(f"{full_name} does not support repeated axes. Got axes {axes}.")

  if orig_axes is not None:
    axes = tuple(range(arr.ndim - len(axes), arr.ndim))
    arr = jnp.moveaxis(arr, orig_axes, axes)

  if s is not None:
    in_s = list(arr.shape)
    for axis, x in zip(axes, s, strict=True):
      in_s[axis] = x
    if fft_type == lax_fft.FftType.IRFFT:
      in_s[-1] = in_s[-1] // 2 + 1
    arr = arr[tuple(slice(n) for n in in_s)]
    arr = array_manipulation.pad(arr, [(0, x - y) for x, y in zip(in_s, arr.shape)])
  else:
    if fft_type == lax_fft.FftType.IRFFT:
      s = [arr.shape[axis] for axis in axes[:-1]]
      if axes:
        s += [max(0, 2 * (arr.shape[axes[-1]] - 1))]
    else:
      s = [arr.shape[axis] for axis in axes]
  transformed = _fft_core_nd(arr, fft_type, s)
  if norm is not None:
    transformed = transformed * _fft_norm(array(s, dtype=transformed.dtype), func_name, norm)
  if orig_axes is not None:
    transformed = jnp.moveaxis(transformed, axes, orig_axes)
  return transformed


def _fft_core_nd(arr, fft_type, s):
  if len(s) <= 3:
    return lax_fft.fft(arr, fft_type, tuple(s))
  n = 2 if len(s) == 4 else 3
  src = tuple(range(arr.ndim - len(s), arr.ndim - n))
  dst = tuple(range(arr.ndim - len(s) + n, arr.ndim))
  if fft_type in {lax_fft.FftType.RFFT, lax_fft.FftType.FFT}:
    arr = lax_fft.fft(arr, fft_type, tuple(s)[-n:])
    arr = jnp.moveaxis(arr, src, dst)
    arr = _fft_core_nd(arr, lax_fft.FftType.FFT, s[:-n])
    arr = jnp.moveaxis(arr, dst, src)
  else:
    arr = jnp.moveaxis(arr, src, dst)
    arr = _fft_core_nd(arr, lax_fft.FftType.IFFT, s[:-n])
    arr = jnp.moveaxis(arr, dst, src)
    arr = lax_fft.fft(arr, fft_type, tuple(s)[-n:])
  return arr


def fftn(a, s=None, axes=None, norm=None):
  """N-dimensional discrete Fourier transform."""
  return _fft_core("fftn", lax_fft.FftType.FFT, a, s, axes, norm)


def ifftn(a, s=None, axes=None, norm=None):
  """N-dimensional inverse discrete Fourier transform."""
  return _fft_core("ifftn", lax_fft.FftType.IFFT, a, s, axes, norm)


def rfftn(a, s=None, axes=None, norm=None):
  """N-dimensional discrete Fourier transform of a real array."""
  return _fft_core("rfftn", lax_fft.FftType.RFFT, a, s, axes, norm)


def irfftn(a, s=None, axes=None, norm=None):
  """Inverse of ``rfftn``."""
  return _fft_core("irfftn", lax_fft.FftType.IRFFT, a, s, axes, norm)


def _axis_check_1d(func_name, axis):
  full_name = f"jax.numpy.fft.{func_name}"
  if isinstance(axis, (list, tuple)):
    raise ValueError(f"{full_name} does not support multiple axes. Please use {full_name}n. "
                     f"Got axis = {axis!r}.")


def _fft_core_1d(func_name, fft_type, a, n, axis, norm):
  _axis_check_1d(func_name, axis)
  axes = None if axis is None else [axis]
  s = None if n is None else [n]
  return _fft_core(func_name, fft_type, a, s, axes, norm)


def fft(a, n=None, axis=-1, norm=None):
  """One-dimensional discrete Fourier transform."""
  return _fft_core_1d("fft", lax_fft.FftType.FFT, a, n, axis, norm)


def ifft(a, n=None, axis=-1, norm=None):
  """One-dimensional inverse discrete Fourier transform."""
  return _fft_core_1d("ifft", lax_fft.FftType.IFFT, a, n, axis, norm)


def rfft(a, n=None, axis=-1, norm=None):
  """One-dimensional discrete Fourier transform of a real array."""
  return _fft_core_1d("rfft", lax_fft.FftType.RFFT, a, n, axis, norm)


def irfft(a, n=None, axis=-1, norm=None):
  """Inverse of ``rfft``."""
  return _fft_core_1d("irfft", lax_fft.FftType.IRFFT, a, n, axis, norm)


def hfft(a, n=None, axis=-1, norm=None):
  """FFT of a signal with Hermitian symmetry (a real spectrum)."""
  conj_a = ufuncs.conj(a)
  _axis_check_1d("hfft", axis)
  nn = (conj_a.shape[axis] - 1) * 2 if n is None else n
  return _fft_core_1d("hfft", lax_fft.FftType.IRFFT, conj_a, n, axis, norm) * nn


def ihfft(a, n=None, axis=-1, norm=None):
  """Inverse of ``hfft``."""
  _axis_check_1d("ihfft", axis)
  arr = jnp.asarray(a)
  nn = arr.shape[axis] if n is None else n
  output = _fft_core_1d("ihfft", lax_fft.FftType.RFFT, arr, n, axis, norm)
  return ufuncs.conj(output) * (1 / nn)


def _fft_core_2d(func_name, fft_type, a, s, axes, norm):
  full_name = f"jax.numpy.fft.{func_name}"
  if len(axes) != 2:
    raise ValueError(f"{full_name} only supports 2 axes. Got axes = {axes!r}.")
  return _fft_core(func_name, fft_type, a, s, axes, norm)


def fft2(a, s=None, axes=(-2, -1), norm=None):
  """Two-dimensional discrete Fourier transform."""
  return _fft_core_2d("fft2", lax_fft.FftType.FFT, a, s, axes, norm)


def ifft2(a, s=None, axes=(-2, -1), norm=None):
  """Two-dimensional inverse discrete Fourier transform."""
  return _fft_core_2d("ifft2", lax_fft.FftType.IFFT, a, s, axes, norm)


def rfft2(a, s=None, axes=(-2, -1), norm=None):
  """Two-dimensional discrete Fourier transform of a real array."""
  return _fft_core_2d("rfft2", lax_fft.FftType.RFFT, a, s, axes, norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None):
  """Inverse of ``rfft2``."""
  return _fft_core_2d("irfft2", lax_fft.FftType.IRFFT, a, s, axes, norm)


def _freq_checks(name, n, d):
  if isinstance(n, (list, tuple)):
    raise ValueError(f"The n argument of jax.numpy.fft.{name} only takes an int. "
                     f"Got n = {list(n)}.")
  elif isinstance(d, (list, tuple)):
    raise ValueError(f"The d argument of jax.numpy.fft.{name} only takes a single value. "
                     f"Got d = {list(d)}.")


def _on(x, device):
  return x if device is None else x.to_device(device)


def fftfreq(n, d=1.0, *, dtype=None, device=None):
  """Sample frequencies of ``fft``."""
  dtype = dtype or dtypes.default_float_dtype()
  _freq_checks("fftfreq", n, d)
  out_dtype = dtype
  dtype = np.finfo(dtypes.to_inexact_dtype(dtypes.canonicalize_dtype(dtype))).dtype
  i = array_creation.arange(n, dtype=dtype, device=device)
  k = (i + n // 2) % n - n // 2
  result = k.astype(dtype) / _on(array(d * n, dtype=dtype), device)
  return result.astype(out_dtype)


def rfftfreq(n, d=1.0, *, dtype=None, device=None):
  """Sample frequencies of ``rfft``."""
  dtype = dtype or dtypes.default_float_dtype()
  _freq_checks("rfftfreq", n, d)
  if n % 2 == 0:
    k = array_creation.arange(0, n // 2 + 1, dtype=dtype)
  else:
    k = array_creation.arange(0, (n - 1) // 2 + 1, dtype=dtype)
  result = k / array(d * n, dtype=dtype)
  return _on(result, device)


def fftshift(x, axes=None):
  """Shifts the zero-frequency term to the center."""
  x = ensure_arraylike("fftshift", x)
  if axes is None:
    axes = tuple(range(x.ndim))
    shift = [dim // 2 for dim in x.shape]
  elif isinstance(axes, int):
    shift = x.shape[axes] // 2
  else:
    shift = [x.shape[ax] // 2 for ax in axes]
  return array_manipulation.roll(x, shift, axes)


def ifftshift(x, axes=None):
  """Inverse of ``fftshift``."""
  x = ensure_arraylike("ifftshift", x)
  if axes is None:
    axes = tuple(range(x.ndim))
    shift = [-(dim // 2) for dim in x.shape]
  elif isinstance(axes, int):
    shift = -(x.shape[axes] // 2)
  else:
    shift = [-(x.shape[ax] // 2) for ax in axes]
  return array_manipulation.roll(x, shift, axes)

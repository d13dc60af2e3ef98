"""``jax.scipy.signal``: convolutions (a ``conv_general_dilated`` or an FFT product),
detrending and the windowed-FFT spectral functions (stft, istft, csd, welch), the same
sequence of operations as JAX's.

What it cannot do (as JAX): convolve2d/correlate2d only with boundary='fill' and
fillvalue=0; ``method='auto'`` is 'direct'; windows other than 'hann' come from SciPy's
``get_window`` (SciPy must be installed); no ``overwrite_data``.
"""
from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Sequence
from functools import partial

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.interpreters import batching
from pyjax._src.lax import lax, slicing
from pyjax._src.lax.convolution import conv_general_dilated
from pyjax._src.lax.dot import Precision
from pyjax._src.numpy import array_creation, array_manipulation, reductions, ufuncs
from pyjax._src.numpy import fft as jnp_fft
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import linalg
from pyjax._src.numpy.tensor_contractions import matmul
from pyjax._src.numpy.util import (array, check_arraylike, ensure_arraylike,
                                   promote_dtypes_complex, promote_dtypes_inexact)

__all__ = ["convolve", "convolve2d", "correlate", "correlate2d", "csd", "detrend",
           "fftconvolve", "istft", "stft", "welch"]


def _canonicalize_axis(axis, ndim):
  axis = operator.index(axis)
  if not -ndim <= axis < ndim:
    raise ValueError(f"axis {axis} is out of bounds for array of dimension {ndim}")
  return axis + ndim if axis < 0 else axis


def _index_tuple(x):
  x = core.concrete_or_error(None, x, "expected a static index or sequence of indices.")
  try:
    return (operator.index(x),)
  except TypeError:
    return tuple(map(operator.index, x))


def _tuple_delete(t, idx):
  return t[:idx] + t[idx + 1:]


def _tuple_insert(t, idx, val):
  return t[:idx] + (val,) + t[idx:]


# ------------------------------------------------------------------------- convolutions


def fftconvolve(in1, in2, mode: str = "full", axes: Sequence[int] | None = None):
  """N-d convolution as a product of (real) FFTs; ``axes`` limits it to those axes (the
  others are mapped, and must match)."""
  check_arraylike('fftconvolve', in1, in2)
  in1, in2 = promote_dtypes_inexact(in1, in2)
  if in1.ndim != in2.ndim:
    raise ValueError("in1 and in2 should have the same dimensionality")
  if mode not in ["same", "full", "valid"]:
    raise ValueError("mode must be one of ['same', 'full', 'valid']")
  conv = partial(_fftconvolve_unbatched, mode=mode)
  if axes is None:
    return conv(in1, in2)
  axes = tuple(_canonicalize_axis(ax, in1.ndim) for ax in _index_tuple(axes))
  mapped_axes = set(range(in1.ndim)) - set(axes)
  if any(in1.shape[i] != in2.shape[i] for i in mapped_axes):
    raise ValueError(f"mapped axes must have same shape; got {in1.shape=} {in2.shape=} "
                     f"{axes=}")
  for ax in sorted(mapped_axes):
    conv = batching.vmap(conv, in_axes=ax, out_axes=ax)
  return conv(in1, in2)


def _fftconvolve_unbatched(in1, in2, mode):
  full_shape = tuple(s1 + s2 - 1 for s1, s2 in zip(in1.shape, in2.shape))
  fft_shape = full_shape
  if mode == 'valid':
    no_swap = all(s1 >= s2 for s1, s2 in zip(in1.shape, in2.shape))
    swap = all(s1 <= s2 for s1, s2 in zip(in1.shape, in2.shape))
    if not (no_swap or swap):
      raise ValueError("For 'valid' mode, One input must be at least as "
                       "large as the other in every dimension.")
    if swap:
      in1, in2 = in2, in1
  if all(s1 == 1 or s2 == 1 for s1, s2 in zip(in1.shape, in2.shape)):
    conv = in1 * in2
  else:
    if jnp.iscomplexobj(in1):
      fft, ifft = jnp_fft.fftn, jnp_fft.ifftn
    else:
      fft, ifft = jnp_fft.rfftn, jnp_fft.irfftn
    conv = ifft(fft(in1, fft_shape) * fft(in2, fft_shape), fft_shape)
  if mode == "full":
    out_shape = full_shape
  elif mode == "same":
    out_shape = in1.shape
  else:
    out_shape = tuple(s1 - s2 + 1 for s1, s2 in zip(in1.shape, in2.shape))
  start = tuple((f - o) // 2 for f, o in zip(full_shape, out_shape))
  return slicing.dynamic_slice(conv, start, out_shape)


def _convolve_nd(in1, in2, mode, *, precision):
  # Not jnp.convolve's code: 'same' pads differently.
  if mode not in ["full", "same", "valid"]:
    raise ValueError("mode must be one of ['full', 'same', 'valid']")
  if in1.ndim != in2.ndim:
    raise ValueError("in1 and in2 must have the same number of dimensions")
  if in1.size == 0 or in2.size == 0:
    raise ValueError(f"zero-size arrays not supported in convolutions, got shapes "
                     f"{in1.shape} and {in2.shape}.")
  in1, in2 = promote_dtypes_inexact(in1, in2)
  no_swap = all(s1 >= s2 for s1, s2 in zip(in1.shape, in2.shape))
  swap = all(s1 <= s2 for s1, s2 in zip(in1.shape, in2.shape))
  if not (no_swap or swap):
    raise ValueError("One input must be smaller than the other in every dimension.")
  shape_o = in2.shape
  if swap:
    in1, in2 = in2, in1
  shape = in2.shape
  in2 = array_manipulation.flip(in2)
  if mode == 'valid':
    padding = [(0, 0) for _ in shape]
  elif mode == 'same':
    padding = [(s - 1 - (s_o - 1) // 2, s - s_o + (s_o - 1) // 2)
               for s, s_o in zip(shape, shape_o)]
  else:
    padding = [(s - 1, s - 1) for s in shape]
  strides = tuple(1 for _ in shape)
  result = conv_general_dilated(in1[None, None], in2[None, None], strides, padding,
                                precision=precision)
  return result[0, 0]


def convolve(in1, in2, mode: str = 'full', method: str = 'auto', precision=None):
  """N-d convolution; 'auto' and 'direct' are one ``conv_general_dilated``."""
  if method == 'fft':
    return fftconvolve(in1, in2, mode=mode)
  elif method in ['direct', 'auto']:
    in1, in2 = ensure_arraylike("convolve", in1, in2)
    return _convolve_nd(in1, in2, mode, precision=precision)
  raise ValueError(f"Got {method=}; expected 'auto', 'fft', or 'direct'.")


def convolve2d(in1, in2, mode: str = 'full', boundary: str = 'fill', fillvalue=0,
               precision=None):
  """2-d convolution (boundary='fill', fillvalue=0 only)."""
  if boundary != 'fill' or fillvalue != 0:
    raise NotImplementedError("convolve2d() only supports boundary='fill', fillvalue=0")
  if np.ndim(in1) != 2 or np.ndim(in2) != 2:
    raise ValueError("convolve2d() only supports 2-dimensional inputs.")
  in1, in2 = ensure_arraylike("convolve2d", in1, in2)
  return _convolve_nd(in1, in2, mode, precision=precision)


def correlate(in1, in2, mode: str = 'full', method: str = 'auto', precision=None):
  """N-d cross-correlation: ``convolve`` with ``in2`` flipped and conjugated."""
  in1, in2 = ensure_arraylike("correlate", in1, in2)
  return convolve(in1, array_manipulation.flip(in2.conj()), mode, precision=precision,
                  method=method)


def correlate2d(in1, in2, mode: str = 'full', boundary: str = 'fill', fillvalue=0,
                precision=None):
  """2-d cross-correlation (boundary='fill', fillvalue=0 only)."""
  if boundary != 'fill' or fillvalue != 0:
    raise NotImplementedError("correlate2d() only supports boundary='fill', fillvalue=0")
  if np.ndim(in1) != 2 or np.ndim(in2) != 2:
    raise ValueError("correlate2d() only supports 2-dimensional inputs.")
  in1, in2 = ensure_arraylike("correlate2d", in1, in2)
  flip = array_manipulation.flip
  swap = all(s1 <= s2 for s1, s2 in zip(in1.shape, in2.shape))
  same_shape = all(s1 == s2 for s1, s2 in zip(in1.shape, in2.shape))
  if mode == "same":
    result = flip(_convolve_nd(flip(in1), in2.conj(), mode, precision=precision))
  elif mode == "valid":
    if swap and not same_shape:
      result = _convolve_nd(flip(in2), in1.conj(), mode, precision=precision)
    else:
      result = flip(_convolve_nd(flip(in1), in2.conj(), mode, precision=precision))
  else:
    if swap:
      result = _convolve_nd(flip(in2), in1.conj(), mode, precision=precision).conj()
    else:
      result = flip(_convolve_nd(flip(in1), in2.conj(), mode, precision=precision))
  return result


# -------------------------------------------------------------------------- detrending


def detrend(data, axis: int = -1, type: str = 'linear', bp=0, overwrite_data=None):
  """Removes the mean ('constant') or a least-squares line per segment between the
  static breakpoints ``bp`` ('linear')."""
  if overwrite_data is not None:
    raise NotImplementedError("overwrite_data argument not implemented.")
  if type not in ['constant', 'linear']:
    raise ValueError("Trend type must be 'linear' or 'constant'.")
  data_arr, = promote_dtypes_inexact(jnp.asarray(data))
  if type == 'constant':
    return data_arr - data_arr.mean(axis, keepdims=True)
  N = data_arr.shape[axis]
  bp_arr = np.sort(np.unique(np.r_[0, bp, N]))   # static breakpoints
  if bp_arr[0] < 0 or bp_arr[-1] > N:
    raise ValueError("Breakpoints must be non-negative and less than length of data "
                     "along given axis.")
  data_arr = jnp.moveaxis(data_arr, axis, 0)
  shape = data_arr.shape
  data_arr = data_arr.reshape(N, -1)
  for m in range(len(bp_arr) - 1):
    Npts = bp_arr[m + 1] - bp_arr[m]
    A = array_manipulation.vstack([
        array_creation.ones(Npts, dtype=data_arr.dtype),
        array_creation.arange(1, Npts + 1, dtype=data_arr.dtype)
        / Npts.astype(data_arr.dtype)]).T
    sl = slice(bp_arr[m], bp_arr[m + 1])
    coef, *_ = linalg.lstsq(A, data_arr[sl])
    data_arr = data_arr.at[sl].add(-matmul(A, coef, precision=Precision.HIGHEST))
  return jnp.moveaxis(data_arr.reshape(shape), 0, axis)


# ------------------------------------------------------------------ windowed FFTs


def _hann(n):
  if n == 1:
    return array([1.0])
  return ufuncs.sin(array_creation.linspace(0, np.pi, n, endpoint=False)) ** 2


def _get_window(window, n):
  try:
    from scipy.signal import get_window   # optional, as in JAX
  except ImportError as err:
    raise ImportError(f"scipy must be available to use {window=}") from err
  return get_window(window, n)


def _triage_segments(window, nperseg, input_length, dtype):
  """(window array, nperseg) from a window name, tuple or array and ``nperseg``."""
  if isinstance(window, (str, tuple)):
    nperseg_int = input_length if nperseg is None else int(nperseg)
    if nperseg_int > input_length:
      warnings.warn(f'nperseg={nperseg_int} is greater than {input_length=},'
                    f' using nperseg={input_length}')
      nperseg_int = input_length
    win = _hann(nperseg_int) if window == 'hann' else _get_window(window, nperseg_int)
    win = array(win, dtype=dtype)
  else:
    win = jnp.asarray(window, dtype=dtype)
    nperseg_int = win.size if nperseg is None else int(nperseg)
    if win.ndim != 1:
      raise ValueError('window must be 1-D')
    if input_length < win.size:
      raise ValueError('window is longer than input signal')
    if nperseg_int != win.size:
      raise ValueError("value specified for nperseg is different from length of window")
  return win, nperseg_int


def _median_bias(n):
  ii_2 = array_creation.arange(2., n, 2)
  return 1 + reductions.sum(1. / (ii_2 + 1) - 1. / ii_2)


def _fft_helper(x, win, detrend_func, nperseg, noverlap, nfft, sides):
  if x.dtype.kind == 'i':
    x = x.astype(win.dtype)
  *batch_shape, signal_length = x.shape
  if nperseg == 1 and noverlap == 0:
    result = x[..., np.newaxis]
  else:
    step = nperseg - noverlap
    # (int32: pyjax's batched dynamic_slice fails on int64 starts under x64)
    starts = array_creation.arange(signal_length - nperseg + 1, step=step, dtype=np.int32)
    slice_func = partial(slicing.dynamic_slice_in_dim, x, slice_size=nperseg, axis=-1)
    result = batching.vmap(slice_func, out_axes=-2)(starts)
  result = detrend_func(result)
  if jnp.iscomplexobj(win):
    result, = promote_dtypes_complex(result)
  result = win.reshape((1,) * len(batch_shape) + (1, nperseg)) * result
  if sides == 'twosided':
    return jnp_fft.fft(result, n=nfft)
  return jnp_fft.rfft(result.real, n=nfft)


def _odd_ext(x, n, axis=-1):
  if n < 1:
    return x
  if n > x.shape[axis] - 1:
    raise ValueError(f"The extension length n ({n}) is too big. "
                     f"It must not exceed x.shape[axis]-1, which is {x.shape[axis] - 1}.")
  flip = array_manipulation.flip
  left_end = slicing.slice_in_dim(x, 0, 1, axis=axis)
  left_ext = flip(slicing.slice_in_dim(x, 1, n + 1, axis=axis), axis=axis)
  right_end = slicing.slice_in_dim(x, -1, None, axis=axis)
  right_ext = flip(slicing.slice_in_dim(x, -(n + 1), -1, axis=axis), axis=axis)
  return jnp.concatenate((2 * left_end - left_ext, x, 2 * right_end - right_ext),
                         axis=axis)


def _make_pad(mode, **kwargs):
  def pad(x, n, axis=-1):
    pad_width = [(0, 0) for _ in range(x.ndim)]
    pad_width[axis] = (n, n)
    return array_manipulation.pad(x, pad_width, mode, **kwargs)
  return pad


_BOUNDARY_FUNCS = {
    'even': _make_pad('reflect'),
    'odd': _odd_ext,
    'constant': _make_pad('edge'),
    'zeros': _make_pad('constant', constant_values=0.0),
    None: lambda x, *args, **kwargs: x,
}


def _spectral_helper(x, y, fs=1.0, window='hann', nperseg=None, noverlap=None, nfft=None,
                     detrend_type='constant', return_onesided=True, scaling='density',
                     axis=-1, mode='psd', boundary=None, padded=False):
  if mode not in ('psd', 'stft'):
    raise ValueError(f"Unknown value for mode {mode}, must be one of: ('psd', 'stft')")
  if boundary not in _BOUNDARY_FUNCS:
    raise ValueError(f"Unknown boundary option '{boundary}', "
                     f"must be one of: {list(_BOUNDARY_FUNCS.keys())}")
  axis = core.concrete_or_error(operator.index, axis, "axis of windowed-FFT")
  axis = _canonicalize_axis(axis, x.ndim)

  if y is None:
    check_arraylike('spectral_helper', x)
    x, = promote_dtypes_inexact(x)
    y_arr = x
    outershape = _tuple_delete(x.shape, axis)
  else:
    if mode != 'psd':
      raise ValueError("two-argument mode is available only when mode=='psd'")
    check_arraylike('spectral_helper', x, y)
    x, y_arr = promote_dtypes_inexact(x, y)
    if x.ndim != y_arr.ndim:
      raise ValueError("two-arguments must have the same rank ({x.ndim} vs {y.ndim}).")
    try:
      outershape = jnp.broadcast_shapes(_tuple_delete(x.shape, axis),
                                        _tuple_delete(y_arr.shape, axis))
    except ValueError as err:
      raise ValueError('x and y cannot be broadcast together.') from err

  result_dtype = dtypes.to_complex_dtype(x.dtype)
  freq_dtype = np.finfo(result_dtype).dtype

  nperseg_int = 0
  if nperseg is not None:
    nperseg_int = core.concrete_or_error(int, nperseg, "nperseg of windowed-FFT")
    if nperseg_int < 1:
      raise ValueError('nperseg must be a positive integer')
  win, nperseg_int = _triage_segments(window, nperseg if nperseg is None else nperseg_int,
                                      input_length=x.shape[axis], dtype=x.dtype)
  if noverlap is None:
    noverlap_int = nperseg_int // 2
  else:
    noverlap_int = core.concrete_or_error(int, noverlap, "noverlap of windowed-FFT")
  if nfft is None:
    nfft_int = nperseg_int
  else:
    nfft_int = core.concrete_or_error(int, nfft, "nfft of windowed-FFT")

  zeros = array_creation.zeros
  if y is None:
    if x.size == 0:
      return zeros(x.shape, freq_dtype), zeros(x.shape, freq_dtype), zeros(x.shape,
                                                                          result_dtype)
  elif x.size == 0 or y_arr.size == 0:
    shape = _tuple_insert(outershape, min(x.shape[axis], y_arr.shape[axis]), axis)
    return zeros(shape, freq_dtype), zeros(shape, freq_dtype), zeros(shape, result_dtype)

  x = jnp.moveaxis(x, axis, -1)
  if y is not None and y_arr.ndim > 1:
    y_arr = jnp.moveaxis(y_arr, axis, -1)

  zeros_like = array_creation.zeros_like
  if y is not None and x.shape[-1] != y_arr.shape[-1]:
    if x.shape[-1] < y_arr.shape[-1]:
      pad_shape = list(x.shape)
      pad_shape[-1] = y_arr.shape[-1] - x.shape[-1]
      x = jnp.concatenate((x, zeros_like(x, shape=pad_shape)), -1)
    else:
      pad_shape = list(y_arr.shape)
      pad_shape[-1] = x.shape[-1] - y_arr.shape[-1]
      y_arr = jnp.concatenate((y_arr, zeros_like(x, shape=pad_shape)), -1)

  if nfft_int < nperseg_int:
    raise ValueError('nfft must be greater than or equal to nperseg.')
  if noverlap_int >= nperseg_int:
    raise ValueError('noverlap must be less than nperseg.')
  nstep = nperseg_int - noverlap_int

  if boundary is not None:
    ext_func = _BOUNDARY_FUNCS[boundary]
    x = ext_func(x, nperseg_int // 2, axis=-1)
    if y is not None:
      y_arr = ext_func(y_arr, nperseg_int // 2, axis=-1)

  if padded:
    # Pad to a whole number of segments: nperseg + (nseg - 1) * nstep.
    nadd = (-(x.shape[-1] - nperseg_int) % nstep) % nperseg_int
    x = jnp.concatenate((x, zeros_like(x, shape=(*x.shape[:-1], nadd))), axis=-1)
    if y is not None:
      y_arr = jnp.concatenate((y_arr, zeros_like(x, shape=(*y_arr.shape[:-1], nadd))),
                              axis=-1)

  if isinstance(detrend_type, str):
    detrend_func = partial(detrend, type=detrend_type, axis=-1)
  elif callable(detrend_type):
    if axis != -1:
      def detrend_func(d):
        d = jnp.moveaxis(d, axis, -1)
        d = detrend_type(d)
        return jnp.moveaxis(d, -1, axis)
    else:
      detrend_func = detrend_type
  elif not detrend_type:
    def detrend_func(d):
      return d
  else:
    raise ValueError(f'Unsupported detrend type: {detrend_type}')

  if scaling == 'density':
    scale = 1.0 / (fs * (win * win).sum())
  elif scaling == 'spectrum':
    scale = 1.0 / win.sum() ** 2
  else:
    raise ValueError(f'Unknown scaling: {scaling}')
  if mode == 'stft':
    scale = ufuncs.sqrt(scale)
  scale, = promote_dtypes_complex(scale)

  if return_onesided:
    sides = 'onesided'
    if jnp.iscomplexobj(x) or jnp.iscomplexobj(y):
      sides = 'twosided'
      warnings.warn('Input data is complex, switching to return_onesided=False')
  else:
    sides = 'twosided'
  if sides == 'twosided':
    freqs = jnp_fft.fftfreq(nfft_int, 1 / fs, dtype=freq_dtype)
  else:
    freqs = jnp_fft.rfftfreq(nfft_int, 1 / fs, dtype=freq_dtype)

  result = _fft_helper(x, win, detrend_func, nperseg_int, noverlap_int, nfft_int, sides)
  if y is not None:
    result_y = _fft_helper(y_arr, win, detrend_func, nperseg_int, noverlap_int, nfft_int,
                           sides)
    result = ufuncs.conjugate(result) * result_y
  elif mode == 'psd':
    result = ufuncs.conjugate(result) * result
  result *= scale

  if sides == 'onesided' and mode == 'psd':
    # JAX's result.at[..., 1:end].mul(2) as a select (IREE crashes compiling a complex
    # scatter-multiply)
    end = None if nfft_int % 2 else -1
    mask = np.zeros(result.shape[-1], bool)
    mask[1:end] = True
    result = jnp.where(mask, result * 2, result)

  time = array_creation.arange(nperseg_int / 2, x.shape[-1] - nperseg_int / 2 + 1,
                               nperseg_int - noverlap_int, dtype=freq_dtype) / fs
  if boundary is not None:
    time -= (nperseg_int / 2) / fs
  result = result.astype(result_dtype)
  if y is None and mode != 'stft':
    result = result.real
  result = jnp.moveaxis(result, -1, axis)
  return freqs, time, result


def stft(x, fs=1.0, window='hann', nperseg: int = 256, noverlap: int | None = None,
         nfft: int | None = None, detrend: bool = False, return_onesided: bool = True,
         boundary: str | None = 'zeros', padded: bool = True, axis: int = -1):
  """Short-time Fourier transform: (frequencies, segment times, Zxx)."""
  return _spectral_helper(x, None, fs, window, nperseg, noverlap, nfft, detrend,
                          return_onesided, scaling='spectrum', axis=axis, mode='stft',
                          boundary=boundary, padded=padded)


def csd(x, y, fs=1.0, window='hann', nperseg: int | None = None,
        noverlap: int | None = None, nfft: int | None = None, detrend='constant',
        return_onesided: bool = True, scaling: str = 'density', axis: int = -1,
        average: str = 'mean'):
  """Cross power spectral density by Welch's method: (frequencies, Pxy)."""
  freqs, _, Pxy = _spectral_helper(x, y, fs, window, nperseg, noverlap, nfft, detrend,
                                   return_onesided, scaling, axis, mode='psd')
  if y is not None:
    Pxy = Pxy + 0j
  if Pxy.ndim >= 2 and Pxy.size > 0:
    if Pxy.shape[-1] > 1:
      if average == 'median':
        bias = _median_bias(Pxy.shape[-1]).astype(Pxy.dtype)
        if jnp.iscomplexobj(Pxy):
          Pxy = (reductions.median(ufuncs.real(Pxy), axis=-1)
                 + 1j * reductions.median(ufuncs.imag(Pxy), axis=-1))
        else:
          Pxy = reductions.median(Pxy, axis=-1)
        Pxy /= bias
      elif average == 'mean':
        Pxy = Pxy.mean(axis=-1)
      else:
        raise ValueError(f'average must be "median" or "mean", got {average}')
    else:
      Pxy = jnp.reshape(Pxy, Pxy.shape[:-1])
  return freqs, Pxy


def welch(x, fs=1.0, window='hann', nperseg: int | None = None,
          noverlap: int | None = None, nfft: int | None = None, detrend='constant',
          return_onesided: bool = True, scaling: str = 'density', axis: int = -1,
          average: str = 'mean'):
  """Power spectral density by Welch's method: (frequencies, Pxx)."""
  freqs, Pxx = csd(x, None, fs=fs, window=window, nperseg=nperseg, noverlap=noverlap,
                   nfft=nfft, detrend=detrend, return_onesided=return_onesided,
                   scaling=scaling, axis=axis, average=average)
  return freqs, Pxx.real


def _overlap_and_add(x, step_size):
  check_arraylike("_overlap_and_add", x)
  step_size = core.concrete_or_error(int, step_size, "step_size for overlap_and_add")
  if x.ndim < 2:
    raise ValueError('Input must have (..., frames, frame_length) shape.')
  *batch_shape, nframes, segment_len = x.shape
  flat_batchsize = math.prod(batch_shape)
  x = x.reshape((flat_batchsize, nframes, segment_len))
  output_size = step_size * (nframes - 1) + segment_len
  nstep_per_segment = 1 + (segment_len - 1) // step_size
  # B: batch, N: frames, S: steps per segment, T: step_size. Reading the (B, S, 2N, T)
  # array with one row fewer pushes each row's padding to the head of the next.
  padded_segment_len = nstep_per_segment * step_size
  x = array_manipulation.pad(x, ((0, 0), (0, 0), (0, padded_segment_len - segment_len)))
  x = x.reshape((flat_batchsize, nframes, nstep_per_segment, step_size))
  x = x.transpose((0, 2, 1, 3))
  x = array_manipulation.pad(x, ((0, 0), (0, 0), (0, nframes), (0, 0)))
  shrunken = x.shape[2] - 1
  x = x.reshape((flat_batchsize, -1))
  x = x[:, :(nstep_per_segment * shrunken * step_size)]
  x = x.reshape((flat_batchsize, nstep_per_segment, shrunken * step_size))
  x = x.sum(axis=1)[:, :output_size]
  return x.reshape(tuple(batch_shape) + (-1,))


def istft(Zxx, fs=1.0, window='hann', nperseg: int | None = None,
          noverlap: int | None = None, nfft: int | None = None,
          input_onesided: bool = True, boundary: bool = True, time_axis: int = -1,
          freq_axis: int = -2):
  """Inverse STFT by overlap-add: (times, x)."""
  Zxx = ensure_arraylike("istft", Zxx)
  if Zxx.ndim < 2:
    raise ValueError('Input stft must be at least 2d!')
  freq_axis = _canonicalize_axis(freq_axis, Zxx.ndim)
  time_axis = _canonicalize_axis(time_axis, Zxx.ndim)
  if freq_axis == time_axis:
    raise ValueError('Must specify differing time and frequency axes!')
  Zxx = jnp.asarray(Zxx, dtype=dtypes.to_complex_dtype(Zxx.dtype))
  n_default = (2 * (Zxx.shape[freq_axis] - 1) if input_onesided
               else Zxx.shape[freq_axis])
  nperseg_int = core.concrete_or_error(int, nperseg or n_default,
                                       "nperseg: segment length of STFT")
  if nperseg_int < 1:
    raise ValueError('nperseg must be a positive integer')
  if nfft is None:
    nfft_int = n_default
    if input_onesided and nperseg_int == n_default + 1:
      nfft_int += 1   # odd nperseg, no FFT padding
  else:
    nfft_int = core.concrete_or_error(int, nfft, "nfft of STFT")
  if nfft_int < nperseg_int:
    raise ValueError(f'FFT length ({nfft_int}) must be longer than nperseg '
                     f'({nperseg_int}).')
  noverlap_int = core.concrete_or_error(int, noverlap or nperseg_int // 2,
                                        "noverlap of STFT")
  if noverlap_int >= nperseg_int:
    raise ValueError('noverlap must be less than nperseg.')
  nstep = nperseg_int - noverlap_int

  if time_axis != Zxx.ndim - 1 or freq_axis != Zxx.ndim - 2:
    outer_idxs = tuple(i for i in range(Zxx.ndim) if i not in {time_axis, freq_axis})
    Zxx = jnp.transpose(Zxx, outer_idxs + (freq_axis, time_axis))

  ifunc = jnp_fft.irfft if input_onesided else jnp_fft.ifft
  # xsubs: [..., T, N]: frame length T, N frames. (JAX passes nfft, not nfft_int.)
  xsubs = ifunc(Zxx, axis=-2, n=nfft)[..., :nperseg_int, :]

  if isinstance(window, str) and window == 'hann':
    win = _hann(nperseg_int).astype(xsubs.dtype)
  elif isinstance(window, (str, tuple)):
    win = array(_get_window(window, nperseg_int), dtype=xsubs.dtype)
  else:
    win = jnp.asarray(window)
    if len(win.shape) != 1:
      raise ValueError('window must be 1-D')
    if win.shape[0] != nperseg_int:
      raise ValueError(f'window must have length of {nperseg_int}')
  xsubs *= win.sum()   # the 'spectrum' scaling

  win = lax.expand_dims(win, (*range(xsubs.ndim - 2), -1))
  x = _overlap_and_add((xsubs * win).swapaxes(-2, -1), nstep)
  win_squared = array_manipulation.repeat(win * win, xsubs.shape[-1], axis=-1)
  norm = _overlap_and_add(win_squared.swapaxes(-2, -1), nstep)
  if boundary:
    x = x[..., nperseg_int // 2:-(nperseg_int // 2)]
    norm = norm[..., nperseg_int // 2:-(nperseg_int // 2)]
  x /= jnp.where(norm > 1e-10, norm, 1.0)

  if x.ndim > 1 and time_axis != Zxx.ndim - 1:
    if freq_axis < time_axis:
      time_axis -= 1
    x = jnp.moveaxis(x, -1, time_axis)
  time = array_creation.arange(x.shape[0], dtype=np.finfo(x.dtype).dtype) / fs
  return time, x

"""jax.numpy numerical routines: differences, gradients and integrals, interpolation,
phase unwrapping, histograms and covariances."""
from __future__ import annotations

import builtins
import operator

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.lax import lax, slicing
from pyjax._src.numpy import reductions, sorting, ufuncs
from pyjax._src.numpy.array_creation import (ix_, linspace, ones_like, ravel_multi_index,
                                             zeros_like)
from pyjax._src.numpy.array_manipulation import atleast_2d, diagonal
from pyjax._src.numpy.lax_numpy import (_slice_axis, _static_int, broadcast_to, clip,
                                        concatenate, expand_dims, moveaxis, ravel,
                                        squeeze, transpose, where)
from pyjax._src.numpy.sorting import _onehot_take
from pyjax._src.numpy.tensor_contractions import dot
from pyjax._src.numpy.util import staged_jit
from pyjax._src.numpy.util import (asarray as _asarray, canonicalize_axis, check_arraylike,
                                   promote_dtypes_inexact)
from pyjax._src.numpy.util import stack


def interp(x, xp, fp, left=None, right=None, period=None):
  """One-dimensional linear interpolation (``xp`` increasing)."""
  check_arraylike("interp", x, xp, fp)
  x, xp, fp = _asarray(x), _asarray(xp), _asarray(fp)
  if xp.ndim != 1 or fp.ndim != 1:
    raise ValueError("xp and fp must be one-dimensional")
  if xp.shape[0] != fp.shape[0]:
    raise ValueError("xp and fp must be one-dimensional arrays of equal size")
  if xp.shape[0] == 0:
    raise ValueError("xp and fp must be non-empty")
  dtype = dtypes.to_inexact_dtype(dtypes.result_type(x, xp, fp))
  if dtype.kind == "c":
    raise NotImplementedError("complex interp is not implemented in pyjax")
  x, xp, fp = (lax._convert_element_type(v, dtype) for v in (x, xp, fp))
  if period is not None:
    if left is not None or right is not None:
      raise ValueError("Cannot specify left or right with period")
    period = ufuncs.abs(lax._convert_element_type(period, dtype))
    x = ufuncs.remainder(x, period)
    order = sorting.argsort(xp)
    xp, fp = _onehot_take(xp, order), _onehot_take(fp, order)
    xp = ufuncs.remainder(xp, period)
    order = sorting.argsort(xp)
    xp, fp = _onehot_take(xp, order), _onehot_take(fp, order)
    xp = concatenate([ufuncs.subtract(_slice_axis(xp, xp.shape[0] - 1, xp.shape[0], 0), period),
                      xp, ufuncs.add(_slice_axis(xp, 0, 1, 0), period)])
    fp = concatenate([_slice_axis(fp, fp.shape[0] - 1, fp.shape[0], 0), fp,
                      _slice_axis(fp, 0, 1, 0)])
  n = xp.shape[0]
  i = clip(sorting.searchsorted(xp, x, side="right"), 1, builtins.max(n - 1, 1))
  i = lax._convert_element_type(i, np.int32)
  im1 = lax.sub(i, lax._const(i, 1))
  if n == 1:
    i = im1
  x0, x1 = _onehot_take(xp, im1), _onehot_take(xp, i)
  y0, y1 = _onehot_take(fp, im1), _onehot_take(fp, i)
  dx = lax.sub(x1, x0)
  t = lax.div(lax.sub(x, x0), dx)
  out = lax.add(y0, lax.mul(t, lax.sub(y1, y0)))
  out = where(lax.eq(dx, lax._const(dx, 0)), y1, out)
  if period is None:
    lo = lax.reshape(_slice_axis(fp, 0, 1, 0), ())
    hi = lax.reshape(_slice_axis(fp, n - 1, n, 0), ())
    left = lo if left is None else lax._convert_element_type(left, dtype)
    right = hi if right is None else lax._convert_element_type(right, dtype)
    out = where(ufuncs.less(x, lax.reshape(_slice_axis(xp, 0, 1, 0), ())), left, out)
    out = where(ufuncs.greater(x, lax.reshape(_slice_axis(xp, n - 1, n, 0), ())), right, out)
  return out


@staged_jit(static_argnames=('n', 'axis'))
def diff(a, n: int = 1, axis: int = -1, prepend=None, append=None):
  check_arraylike("diff", a)
  a = _asarray(a)
  n = _static_int(n, "n argument of jnp.diff()")
  if n < 0:
    raise ValueError(f"order must be non-negative but got {n}")
  if n == 0:
    return a
  if a.ndim == 0:
    raise ValueError(f"diff requires input that is at least one dimensional; got {a}")
  axis = canonicalize_axis(axis, a.ndim)
  parts = []
  for v in (prepend, a, append):
    if v is None:
      continue
    v = _asarray(v)
    if v.ndim == 0:
      shp = list(a.shape)
      shp[axis] = 1
      v = broadcast_to(v, tuple(shp))
    parts.append(v)
  a = concatenate(parts, axis) if len(parts) > 1 else a
  for _ in range(n):
    m = a.shape[axis]
    if m == 0:
      break
    hi, lo = _slice_axis(a, 1, m, axis), _slice_axis(a, 0, m - 1, axis)
    a = ufuncs.not_equal(hi, lo) if a.dtype == np.bool_ else ufuncs.subtract(hi, lo)
  return a


def ediff1d(ary, to_end=None, to_begin=None):
  check_arraylike("ediff1d", ary)
  a = ravel(ary)
  out = diff(a) if a.shape[0] else a
  parts = []
  if to_begin is not None:
    parts.append(lax._convert_element_type(ravel(to_begin), a.dtype))  # strong: JAX's
  parts.append(out)
  if to_end is not None:
    parts.append(lax._convert_element_type(ravel(to_end), a.dtype))
  return slicing.concatenate(parts, 0) if len(parts) > 1 else out


def bincount(x, weights=None, minlength: int = 0, *, length=None, out_sharding=None):
  """Counts of each non-negative integer (a one-hot sum; ``length`` needed under jit)."""
  check_arraylike("bincount", x)
  x = _asarray(x)
  if x.dtype.kind not in "iub":
    raise TypeError(f"x argument to bincount must have an integer type; got {x.dtype}")
  if x.ndim != 1:
    raise ValueError("only 1-dimensional input supported.")
  minlength = core.concrete_or_error(operator.index, minlength,
                                     "The error occurred because of argument 'minlength' of "
                                     "jnp.bincount.")
  if length is None:
    xv = core.concrete_or_error(np.asarray, x,
                                "The error occurred because of argument 'x' of jnp.bincount. "
                                "To avoid this error, pass a static `length` argument.")
    length = builtins.max(minlength, int(xv.max()) + 1 if xv.size else 0)
  else:
    length = _static_int(length, "length argument of jnp.bincount")
  if weights is None:
    w = lax.full(x.shape, 1, dtypes.default_int_dtype())
  else:
    w = _asarray(weights)
    if w.shape != x.shape:
      raise ValueError("shape of weights must match shape of x.")
  xi = lax._convert_element_type(x, np.int32)
  iota = lax.broadcasted_iota(np.int32, (x.shape[0], length), 1)
  mask = lax.eq(lax.broadcast_in_dim(xi, (x.shape[0], length), (0,)), iota)
  wb = lax.broadcast_in_dim(w, (x.shape[0], length), (0,))
  out = lax.reduce_sum(lax.select(mask, wb, lax.full_like(wb, 0)), (0,))
  if w.dtype == np.bool_:
    out = lax._convert_element_type(out, dtypes.default_int_dtype())
  return out


@staged_jit(static_argnames=('axis',))
def trapezoid(y, x=None, dx=1.0, axis: int = -1):
  """JAX's: a constant spacing multiplies sum(y) - (y[0] + y[-1]) / 2, otherwise the
  trapezoids' areas are summed."""
  if x is None:
    check_arraylike("trapezoid", y)
    y_arr, = promote_dtypes_inexact(y)
    dx_array = _asarray(dx)
    if dx_array.ndim > 0:
      dx_array = lax.expand_dims(dx_array, tuple(range(y_arr.ndim - dx_array.ndim)))
      dx_array = moveaxis(dx_array, axis, -1)
  else:
    check_arraylike("trapezoid", y, x)
    y_arr, x_arr = promote_dtypes_inexact(y, x)
    if x_arr.ndim == 1:
      dx_array = diff(x_arr)
    else:
      dx_array = moveaxis(diff(x_arr, axis=axis), axis, -1)
  y_arr = moveaxis(y_arr, axis, -1)
  if dx_array.ndim == 0 or dx_array.shape[-1] == 1:  # constant spacing
    dx_reduced = dx_array if dx_array.ndim == 0 else dx_array[..., 0]
    return dx_reduced * (y_arr.sum(-1) - 0.5 * (y_arr[..., 0] + y_arr[..., -1]))
  return 0.5 * (dx_array * (y_arr[..., 1:] + y_arr[..., :-1])).sum(-1)


def _cov_weights(n, fweights, aweights):
  """JAX's checks of cov's weights and their product (None without weights)."""
  w = None
  if fweights is not None:
    fweights = _asarray(fweights)
    if np.ndim(fweights) > 1:
      raise RuntimeError("cannot handle multidimensional fweights")
    if np.shape(fweights)[0] != n:
      raise RuntimeError("incompatible numbers of samples and fweights")
    if not dtypes.issubdtype(fweights.dtype, np.integer):
      raise TypeError("fweights must be integer.")
    w = abs(fweights)
  if aweights is not None:
    aweights = _asarray(aweights)
    if np.ndim(aweights) > 1:
      raise RuntimeError("cannot handle multidimensional aweights")
    if np.shape(aweights)[0] != n:
      raise RuntimeError("incompatible numbers of samples and aweights")
    aweights = abs(aweights)
    w = aweights if w is None else w * aweights
  return w, aweights


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
  """Weights (``fweights``, ``aweights``) as JAX: their absolute values are used."""
  m = atleast_2d(_asarray(m))
  dt = dtypes.to_inexact_dtype(m.dtype)
  if not rowvar and m.shape[0] != 1:
    m = m.T if hasattr(m, "T") else transpose(m)
  if y is not None:
    y = atleast_2d(_asarray(y))
    if not rowvar and y.shape[0] != 1:
      y = transpose(y)
    m = concatenate([m, y], 0)
  m = lax._convert_element_type(m, dtypes.to_inexact_dtype(dtypes.result_type(m, dt)))
  if ddof is None:
    ddof = 0 if bias else 1
  n = m.shape[1]
  if fweights is not None or aweights is not None:
    w, aw = _cov_weights(n, fweights, aweights)
    avg, w_sum = reductions.average(m, axis=1, weights=w, returned=True)
    w_sum = w_sum[0]
    if ddof == 0:
      f = w_sum
    elif aw is None:
      f = w_sum - ddof
    else:
      f = w_sum - ddof * reductions.sum(w * aw) / w_sum
    x = m - avg[:, None]
    x_t = transpose(x * lax.broadcast_in_dim(w, x.shape, (x.ndim - 1,)))
    return squeeze(ufuncs.true_divide(dot(x, ufuncs.conj(x_t)), f))
  x = ufuncs.subtract(m, reductions.mean(m, axis=1, keepdims=True))
  c = dot(x, ufuncs.conj(transpose(x)))
  return squeeze(ufuncs.true_divide(c, builtins.max(n - ddof, 0)))


def corrcoef(x, y=None, rowvar=True):
  c = cov(x, y, rowvar)
  if c.ndim == 0:
    return ufuncs.true_divide(c, c)
  d = diagonal(c)
  sd = ufuncs.sqrt(d)
  c = ufuncs.true_divide(c, lax.expand_dims(sd, (1,)))
  c = ufuncs.true_divide(c, lax.expand_dims(sd, (0,)))
  return clip(c, -1, 1) if c.dtype.kind != "c" else c


@staged_jit(static_argnames=('right', 'method'))
def digitize(x, bins, right: bool = False, *, method=None):
  x, bins = _asarray(x), _asarray(bins)
  if bins.ndim != 1:
    raise ValueError(f"digitize: bins must be a 1-dimensional array; got bins={bins}")
  if bins.shape[0] == 0:
    return zeros_like(x, dtype=np.int32)
  side = "left" if right else "right"
  first = lax.reshape(_slice_axis(bins, 0, 1, 0), ())
  last = lax.reshape(_slice_axis(bins, bins.shape[0] - 1, bins.shape[0], 0), ())
  inc = sorting.searchsorted(bins, x, side=side)
  dec = lax.sub(lax.full_like(inc, bins.shape[0]),
                sorting.searchsorted(lax.rev(bins, (0,)), x, side=side))
  return where(ufuncs.greater_equal(last, first), inc, dec)


def histogram_bin_edges(a, bins=10, range=None, weights=None):
  a = ravel(a)
  dt = dtypes.to_inexact_dtype(a.dtype)
  if not isinstance(bins, (int, np.integer)):
    return _asarray(bins)
  if range is None:
    lo, hi = reductions.min(a), reductions.max(a)
  else:
    lo, hi = range
  lo, hi = lax._convert_element_type(lo, dt), lax._convert_element_type(hi, dt)
  eq = lax.eq(lo, hi)
  lo = where(eq, ufuncs.subtract(lo, 0.5), lo)
  hi = where(eq, ufuncs.add(hi, 0.5), hi)
  return linspace(lo, hi, operator.index(bins) + 1, dtype=dt)


def histogram(a, bins=10, range=None, weights=None, density=None):
  a = ravel(a)
  # JAX's: the values (and weights) promoted to inexact, counts of the weights' dtype
  if weights is None:
    a, = promote_dtypes_inexact(a)
    w = ones_like(a)
  else:
    a, w = promote_dtypes_inexact(a, ravel(weights))
  edges = histogram_bin_edges(a, bins, range, weights)
  nb = edges.shape[0] - 1
  idx = ufuncs.subtract(digitize(a, edges), 1)
  last = lax.reshape(_slice_axis(edges, nb, nb + 1, 0), ())
  idx = where(ufuncs.equal(a, last), nb - 1, idx)
  valid = ufuncs.logical_and(ufuncs.greater_equal(idx, 0), ufuncs.less(idx, nb))
  iota = lax.broadcasted_iota(idx.dtype, (a.shape[0], nb), 1)
  mask = ufuncs.logical_and(ufuncs.equal(expand_dims(idx, 1), iota), expand_dims(valid, 1))
  counts = reductions.sum(where(mask, expand_dims(w, 1), 0), axis=0)
  if density:
    widths = diff(edges)
    counts = ufuncs.true_divide(ufuncs.true_divide(counts, widths), reductions.sum(counts))
  return counts, edges


def gradient(f, *varargs, axis=None, edge_order=None):
  if edge_order is not None:
    raise NotImplementedError("The 'edge_order' argument to jnp.gradient is not supported.")
  f = _asarray(f)
  axes = tuple(range(f.ndim)) if axis is None else (
      (canonicalize_axis(axis, f.ndim),) if isinstance(axis, (int, np.integer)) else
      tuple(canonicalize_axis(ax, f.ndim) for ax in axis))
  if len(varargs) == 0:
    spacing = [1.0] * len(axes)
  elif len(varargs) == 1:
    spacing = list(varargs) * len(axes)
  else:
    spacing = list(varargs)
  if len(spacing) != len(axes):
    raise TypeError("Invalid number of spacing arguments")
  (f,) = [lax._convert_element_type(f, dtypes.to_inexact_dtype(f.dtype))]
  outs = []
  for ax, h in zip(axes, spacing):
    n = f.shape[ax]
    if n < 2:
      raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                       "least (edge_order + 1) elements are required.")
    if np.ndim(h) != 0:
      raise NotImplementedError("non-uniform spacing in jnp.gradient is not supported")
    first = ufuncs.subtract(_slice_axis(f, 1, 2, ax), _slice_axis(f, 0, 1, ax))
    last = ufuncs.subtract(_slice_axis(f, n - 1, n, ax), _slice_axis(f, n - 2, n - 1, ax))
    mid = ufuncs.multiply(ufuncs.subtract(_slice_axis(f, 2, n, ax), _slice_axis(f, 0, n - 2, ax)),
                          0.5)
    g = concatenate([first, mid, last], ax)
    outs.append(ufuncs.true_divide(g, h))
  return outs[0] if len(outs) == 1 else outs


def unwrap(p, discont=None, axis: int = -1, period=2 * np.pi):
  p = _asarray(p)
  (p,) = [lax._convert_element_type(p, dtypes.to_inexact_dtype(p.dtype))]
  axis = canonicalize_axis(axis, p.ndim)
  if p.shape[axis] == 0:
    return p
  half = period / 2
  discont = half if discont is None else discont
  dd = diff(p, axis=axis)
  ddmod = ufuncs.subtract(ufuncs.remainder(ufuncs.add(dd, half), period), half)
  ddmod = where(ufuncs.logical_and(ufuncs.equal(ddmod, -half), ufuncs.greater(dd, 0)), half,
                ddmod)
  corr = where(ufuncs.less(ufuncs.abs(dd), discont), 0, ufuncs.subtract(ddmod, dd))
  corr = reductions.cumsum(corr, axis=axis)
  first = _slice_axis(p, 0, 1, axis)
  rest = ufuncs.add(_slice_axis(p, 1, p.shape[axis], axis), corr)
  return concatenate([first, rest], axis)


def histogramdd(sample, bins=10, range=None, weights=None, density=None):
  """Multidimensional histogram of the (N, D) ``sample`` (JAX's: bin indices from
  searchsorted, counts from bincount)."""
  check_arraylike("histogramdd", sample)
  if weights is None:
    sample, = promote_dtypes_inexact(_asarray(sample))
  else:
    check_arraylike("histogramdd", weights)
    if np.shape(weights) != np.shape(sample)[:1]:
      raise ValueError("should have one weight for each sample.")
    sample, weights = promote_dtypes_inexact(_asarray(sample), _asarray(weights))
  N, D = np.shape(sample)
  if range is not None and (len(range) != D or builtins.any(
      r is not None and np.shape(r)[0] != 2 for r in range)):
    raise ValueError(f"For sample.shape={(N, D)}, range must be a sequence of {D} pairs "
                     f"or Nones; got range={range}")
  try:
    bins_per_dim = list(bins)
  except TypeError:
    bins_per_dim = D * [bins]
  else:
    if len(bins_per_dim) != D:
      raise ValueError("should be a bin for each dimension.")
  idx_by_dim, edges_by_dim = [], []
  for i in builtins.range(D):
    col = lax.reshape(_slice_axis(sample, i, i + 1, 1), (N,))
    edges = histogram_bin_edges(col, bins_per_dim[i], None if range is None else range[i],
                                weights)
    idx = sorting.searchsorted(edges, col, side="right")
    last = lax.reshape(_slice_axis(edges, edges.shape[0] - 1, edges.shape[0], 0), ())
    idx = where(ufuncs.equal(col, last), ufuncs.subtract(idx, 1), idx)
    idx_by_dim.append(idx)
    edges_by_dim.append(edges)
  nbins = tuple(e.shape[0] + 1 for e in edges_by_dim)
  xy = ravel_multi_index(tuple(idx_by_dim), nbins, mode="clip")
  hist = lax.reshape(bincount(xy, weights, length=int(np.prod(nbins))), nbins)
  hist = hist[D * (slice(1, -1),)]
  if density:
    hist = lax._convert_element_type(hist, sample.dtype)
    hist = ufuncs.true_divide(hist, reductions.sum(hist))
    for norm in ix_(*[diff(e) for e in edges_by_dim]):
      hist = ufuncs.true_divide(hist, norm)
  return hist, edges_by_dim


def histogram2d(x, y, bins=10, range=None, weights=None, density=None):
  """Two-dimensional histogram of the points (x, y)."""
  check_arraylike("histogram2d", x, y)
  try:
    n = len(bins)
  except TypeError:
    n = 1
  if n != 1 and n != 2:
    edges = _asarray(bins)
    bins = [edges, edges]
  sample = transpose(stack([_asarray(x), _asarray(y)]))
  hist, edges = histogramdd(sample, bins, range, weights, density)
  return hist, edges[0], edges[1]


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]

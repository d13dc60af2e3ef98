"""jax.numpy products and contractions: dot, matmul, tensordot and their kin, built on
lax.dot_general."""
from __future__ import annotations

import builtins
import operator

import numpy as np

from pyjax._src.array import ArrayImpl
from pyjax._src.core import Tracer
from pyjax._src.lax import convolution as lax_conv
from pyjax._src.lax import dot as lax_dot
from pyjax._src.lax import lax
from pyjax._src.lax.sharding_ops import reshard
from pyjax._src.numpy import reductions, ufuncs
from pyjax._src.numpy.array_creation import zeros_like
from pyjax._src.numpy.lax_numpy import (_slice_axis,
                                        broadcast_arrays, broadcast_shapes, broadcast_to,
                                        expand_dims, moveaxis, ravel, squeeze)
from pyjax._src.numpy.util import staged_jit
from pyjax._src.numpy.util import stack
from pyjax._src.numpy.util import (asarray as _asarray, canonicalize_axis, check_arraylike,
                                   promote_dtypes, promote_dtypes_inexact)


def dot(a, b, *, precision=None, preferred_element_type=None, out_sharding=None):
  """Dot product with NumPy's semantics (scalars, vectors, matrices, N-d)."""
  if out_sharding is not None:
    check_arraylike("dot", a, b)
    a, b = promote_dtypes(a, b)
    if a.ndim == 0 or b.ndim == 0:
      return reshard(ufuncs.multiply(a, b), out_sharding)
    contract_b = 0 if b.ndim == 1 else b.ndim - 2
    return lax_dot.dot_general(a, b, (((a.ndim - 1,), (contract_b,)), ((), ())), precision,
                               preferred_element_type=preferred_element_type or a.dtype,
                               out_sharding=out_sharding)
  if preferred_element_type is None and precision is None:
    out = _dot_2d_fast(a, b)
    if out is not None:
      return out
  check_arraylike("dot", a, b)
  a, b = promote_dtypes(a, b)
  pet = preferred_element_type or a.dtype
  if a.ndim == 0 or b.ndim == 0:
    return ufuncs.multiply(a, b)
  contract_b = 0 if b.ndim == 1 else b.ndim - 2  # (dot_general checks the shapes)
  return lax_dot.dot_general(a, b, (((a.ndim - 1,), (contract_b,)), ((), ())), precision,
                             preferred_element_type=pet)


_Arrays = (ArrayImpl, Tracer)


def _dot_2d_fast(a, b):
  """2-D . 2-D or 2-D . 1-D arrays of one dtype (where dot and matmul agree) as one
  dot_general, skipping promotion; None for anything else."""
  if not (isinstance(a, _Arrays) and isinstance(b, _Arrays)):
    return None
  sa, sb = a.shape, b.shape
  if (len(sa) == 2 and 1 <= len(sb) <= 2 and a.dtype == b.dtype
      and a.weak_type == b.weak_type and sa[1] == sb[0]):
    return lax_dot.dot_general_p.bind(a, b, dimension_numbers=(((1,), (0,)), ((), ())),
                                      precision=None, preferred_element_type=a.dtype,
                                      out_sharding=None)
  return None


def matmul(a, b, *, precision=None, preferred_element_type=None, out_sharding=None):
  """Matrix product with batch broadcasting (NumPy's ``@``)."""
  if out_sharding is not None:
    check_arraylike("matmul", a, b)
    a, b = promote_dtypes(a, b)
    if a.ndim == 2 and b.ndim == 2:  # one dot_general producing the asked sharding
      return lax_dot.dot_general(a, b, (((1,), (0,)), ((), ())), precision,
                                 preferred_element_type=preferred_element_type or a.dtype,
                                 out_sharding=out_sharding)
    return reshard(matmul(a, b, precision=precision,
                          preferred_element_type=preferred_element_type), out_sharding)
  if preferred_element_type is None and precision is None:
    out = _dot_2d_fast(a, b)
    if out is not None:
      return out
  check_arraylike("matmul", a, b)
  a, b = promote_dtypes(a, b)
  for i, x in enumerate((a, b)):
    if x.ndim == 0:
      raise ValueError(f"matmul input operand {i} must have ndim at least 1, but it has "
                       f"ndim 0")
  pet = preferred_element_type or a.dtype
  if a.ndim <= 2 and b.ndim <= 2:  # no batch dims: one dot_general, as JAX emits
    if a.shape[-1] != b.shape[0]:
      raise TypeError(f"dot_general requires contracting dimensions to have the same "
                      f"shape, got {a.shape[-1:]} and {b.shape[:1]}.")
    return lax_dot.dot_general(a, b, (((a.ndim - 1,), (0,)), ((), ())), precision,
                               preferred_element_type=pet)
  a_vec, b_vec = a.ndim == 1, b.ndim == 1
  if a_vec:
    a = lax.expand_dims(a, (0,))
  if b_vec:
    b = lax.expand_dims(b, (1,))
  if a.shape[-1] != b.shape[-2]:
    raise TypeError(f"dot_general requires contracting dimensions to have the same shape, "
                    f"got {a.shape[-1:]} and {b.shape[-2:-1]}.")
  batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
  nb = len(batch)
  a = broadcast_to(a, (*batch, *a.shape[-2:]))
  b = broadcast_to(b, (*batch, *b.shape[-2:]))
  out = lax_dot.dot_general(a, b, (((nb + 1,), (nb,)),
                                  (tuple(range(nb)), tuple(range(nb)))),
                            precision, preferred_element_type=pet)
  if a_vec:
    out = lax.squeeze(out, (nb,))
  if b_vec:
    out = lax.squeeze(out, (out.ndim - 1,))
  return out


def vdot(a, b, *, precision=None, preferred_element_type=None):
  a, b = _asarray(a), _asarray(b)
  if a.dtype.kind == "c":
    a = lax.conj(a)
  return dot(ravel(a), ravel(b), precision=precision,
             preferred_element_type=preferred_element_type)


def inner(a, b, *, precision=None, preferred_element_type=None):
  a, b = promote_dtypes(a, b)
  if a.ndim == 0 or b.ndim == 0:
    return ufuncs.multiply(a, b)
  return lax_dot.dot_general(a, b, (((a.ndim - 1,), (b.ndim - 1,)), ((), ())), precision,
                             preferred_element_type=preferred_element_type or a.dtype)


def outer(a, b, out=None):
  a, b = ravel(a), ravel(b)
  return ufuncs.multiply(lax.expand_dims(a, (1,)), lax.expand_dims(b, (0,)))


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None):
  check_arraylike("tensordot", a, b)
  a, b = promote_dtypes(a, b)
  if isinstance(axes, (int, np.integer)):
    n = operator.index(axes)
    if n > builtins.min(a.ndim, b.ndim) or n < 0:
      raise TypeError(f"Number of tensordot axes (axes {n}) exceeds input ranks ({a.shape} "
                      f"and {b.shape})")
    ca, cb = tuple(range(a.ndim - n, a.ndim)), tuple(range(n))
  else:
    ax_a, ax_b = axes
    ax_a = (ax_a,) if isinstance(ax_a, (int, np.integer)) else tuple(ax_a)
    ax_b = (ax_b,) if isinstance(ax_b, (int, np.integer)) else tuple(ax_b)
    if len(ax_a) != len(ax_b):
      raise TypeError(f"tensordot requires axes lists to have equal length, got {ax_a} and "
                      f"{ax_b}.")
    ca = tuple(canonicalize_axis(i, a.ndim) for i in ax_a)
    cb = tuple(canonicalize_axis(i, b.ndim) for i in ax_b)
  return lax_dot.dot_general(a, b, ((ca, cb), ((), ())), precision,
                             preferred_element_type=preferred_element_type or a.dtype)


def cross(a, b, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis=None):
  check_arraylike("cross", a, b)
  a, b = promote_dtypes(a, b)
  if axis is not None:
    axisa = axisb = axisc = axis
  a = moveaxis(a, axisa, -1)
  b = moveaxis(b, axisb, -1)
  if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
    raise ValueError("Dimension must be either 2 or 3 for cross product")

  def comp(v, i):
    return lax.squeeze(_slice_axis(v, i, i + 1, v.ndim - 1), (v.ndim - 1,))

  a0, a1 = comp(a, 0), comp(a, 1)
  b0, b1 = comp(b, 0), comp(b, 1)
  if a.shape[-1] == 2 and b.shape[-1] == 2:
    return ufuncs.subtract(ufuncs.multiply(a0, b1), ufuncs.multiply(a1, b0))
  a2 = comp(a, 2) if a.shape[-1] == 3 else zeros_like(a0)
  b2 = comp(b, 2) if b.shape[-1] == 3 else zeros_like(b0)
  c = broadcast_arrays(ufuncs.subtract(ufuncs.multiply(a1, b2), ufuncs.multiply(a2, b1)),
                       ufuncs.subtract(ufuncs.multiply(a2, b0), ufuncs.multiply(a0, b2)),
                       ufuncs.subtract(ufuncs.multiply(a0, b1), ufuncs.multiply(a1, b0)))
  return moveaxis(stack(c, -1), -1, axisc)


@staged_jit
def kron(a, b):
  check_arraylike("kron", a, b)
  a, b = promote_dtypes(a, b)
  nd = builtins.max(a.ndim, b.ndim)
  a = lax.reshape(a, (1,) * (nd - a.ndim) + a.shape)
  b = lax.reshape(b, (1,) * (nd - b.ndim) + b.shape)
  a = lax.reshape(a, tuple(x for d in a.shape for x in (d, 1)))
  b = lax.reshape(b, tuple(x for d in b.shape for x in (1, d)))
  out = ufuncs.multiply(a, b)
  return lax.reshape(out, tuple(x * y for x, y in zip(a.shape[::2], b.shape[1::2])))


def _conv(name, a, v, mode, flip_v, precision, preferred_element_type):
  """One 1-D conv_general_dilated, as JAX (the longer input is the lhs)."""
  check_arraylike(name, a, v)
  a, v = _asarray(a), _asarray(v)
  if a.ndim != 1 or v.ndim != 1:
    raise ValueError(f"{name}() only support 1-dimensional inputs.")
  if preferred_element_type is None:
    a, v = promote_dtypes_inexact(a, v)
  else:
    a, v = promote_dtypes(a, v)
  if a.shape[0] == 0 or v.shape[0] == 0:
    raise ValueError(f"{name}: inputs cannot be empty, got shapes {a.shape} and {v.shape}.")
  reverse = False
  if not flip_v:
    if v.dtype.kind == "c":
      v = lax.conj(v)
    if a.shape[0] < v.shape[0]:
      a, v, reverse = v, a, True
  else:
    if a.shape[0] < v.shape[0]:
      a, v = v, a
    v = lax.rev(v, (0,))
  m = v.shape[0]
  if mode == "valid":
    padding = [(0, 0)]
  elif mode == "same":
    padding = [(m // 2, m - m // 2 - 1)]
  elif mode == "full":
    padding = [(m - 1, m - 1)]
  else:
    raise ValueError("mode must be one of ['full', 'same', 'valid']")
  out = lax_conv.conv_general_dilated(lax.reshape(a, (1, 1, a.shape[0])),
                                      lax.reshape(v, (1, 1, m)), (1,), padding,
                                      precision=precision,
                                      preferred_element_type=preferred_element_type)
  out = lax.reshape(out, (out.shape[2],))
  return lax.rev(out, (0,)) if reverse else out


def convolve(a, v, mode: str = "full", *, precision=None, preferred_element_type=None):
  return _conv("convolve", a, v, mode, True, precision, preferred_element_type)


def correlate(a, v, mode: str = "valid", *, precision=None, preferred_element_type=None):
  return _conv("correlate", a, v, mode, False, precision, preferred_element_type)


def vecdot(x1, x2, /, *, axis: int = -1, precision=None, preferred_element_type=None):
  x1, x2 = promote_dtypes(x1, x2)
  if x1.shape[axis] != x2.shape[axis]:
    raise ValueError(f"axes must match; got shapes {x1.shape} and {x2.shape} with axis={axis}")
  if x1.dtype.kind == "c":
    x1 = lax.conj(x1)
  return reductions.sum(ufuncs.multiply(x1, x2), axis=axis)


def matvec(x1, x2, /):
  return squeeze(matmul(x1, expand_dims(x2, -1)), -1)


def vecmat(x1, x2, /):
  x1 = _asarray(x1)
  if x1.dtype.kind == "c":
    x1 = lax.conj(x1)
  return squeeze(matmul(expand_dims(x1, -2), x2), -2)


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v) and getattr(_v, "__module__", None) == __name__]

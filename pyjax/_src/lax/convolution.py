"""conv_general_dilated, one block with all its rules, and the lax convolution functions
built on it (conv, conv_with_general_padding, conv_transpose, the dimension-number and
shape helpers, conv_general_dilated_patches / _local).

Eager: im2col as one strided view of the (dilated, padded) input, copied once, and a
batched BLAS matmul per feature/batch group (no loop over output pixels). Compiled: one
``stablehlo.convolution``; half floats run in float32 and complex operands as three real
convolutions (Gauss's trick, as JAX does on CPU)."""
from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import NamedTuple, Union

import numpy as np

from pyjax._src import dtypes
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.interpreters import ad
from pyjax._src.interpreters import lowering as mlir
from pyjax._src.lax.conversions import _convert_element_type, _convert_lower, _convert_np
from pyjax._src.lax.dot import Precision, dot_general
from pyjax._src.lax.lax import (_dilate_dim, _dilate_shape, full, padtype_to_pads, reshape,
                                 rev, transpose)
from pyjax._src.lax.utils import (ShardingTypeError, _to_array, spec_of,
                                  varying_shape_sharding)


class ConvDimensionNumbers(NamedTuple):
  """Describes batch, spatial, and feature dimensions of a convolution.

  Args:
    lhs_spec: ``(batch dimension, feature dimension, spatial dimensions...)``.
    rhs_spec: ``(out feature dimension, in feature dimension, spatial dimensions...)``.
    out_spec: ``(batch dimension, feature dimension, spatial dimensions...)``.
  """
  lhs_spec: Sequence[int]
  rhs_spec: Sequence[int]
  out_spec: Sequence[int]


ConvGeneralDilatedDimensionNumbers = Union[tuple[str, str, str], ConvDimensionNumbers, None]


# ------------------------------------------------------------------ shape helpers

def conv_general_permutations(dimension_numbers):
  """Utility for convolution dimension permutations relative to Conv HLO."""
  lhs_spec, rhs_spec, out_spec = dimension_numbers
  charpairs = ("N", "C"), ("O", "I"), ("N", "C")
  for i, (a, b) in enumerate(charpairs):
    if not dimension_numbers[i].count(a) == dimension_numbers[i].count(b) == 1:
      raise TypeError(f"convolution dimension_numbers[{i}] must contain the characters "
                      f"'{a}' and '{b}' exactly once, got {dimension_numbers[i]}.")
    if len(dimension_numbers[i]) != len(set(dimension_numbers[i])):
      raise TypeError(f"convolution dimension_numbers[{i}] cannot have duplicate "
                      f"characters, got {dimension_numbers[i]}.")
  if not (set(lhs_spec) - set(charpairs[0]) == set(rhs_spec) - set(charpairs[1]) ==
          set(out_spec) - set(charpairs[2])):
    raise TypeError(f"convolution dimension_numbers elements must each have the same set "
                    f"of spatial characters, got {tuple(dimension_numbers)}.")

  def getperm(spec, charpair):
    spatial = [i for i, c in enumerate(spec) if c not in charpair]
    if spec is not rhs_spec:
      spatial = sorted(spatial, key=lambda i: rhs_spec.index(spec[i]))
    return (spec.index(charpair[0]), spec.index(charpair[1])) + tuple(spatial)

  return tuple(map(getperm, dimension_numbers, charpairs))


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers) -> ConvDimensionNumbers:
  """Converts convolution ``dimension_numbers`` to a ``ConvDimensionNumbers``."""
  if isinstance(dimension_numbers, ConvDimensionNumbers):
    return dimension_numbers
  if len(lhs_shape) != len(rhs_shape):
    raise TypeError(f"convolution requires lhs and rhs ndim to be equal, got "
                    f"{len(lhs_shape)} and {len(rhs_shape)}.")
  if dimension_numbers is None:
    iota = tuple(range(len(lhs_shape)))
    return ConvDimensionNumbers(iota, iota, iota)
  if isinstance(dimension_numbers, (list, tuple)):
    if len(dimension_numbers) != 3:
      raise TypeError(f"convolution dimension_numbers list/tuple must be length 3, got "
                      f"{len(dimension_numbers)}.")
    if not all(isinstance(e, str) for e in dimension_numbers):
      raise TypeError(f"convolution dimension_numbers elements must be strings, got "
                      f"{tuple(map(type, dimension_numbers))}.")
    for i, e in enumerate(dimension_numbers):
      if len(e) != len(lhs_shape):
        raise TypeError(f"convolution dimension_numbers[{i}] must have len equal to the "
                        f"ndim of lhs and rhs, got {len(e)} for lhs and rhs shapes "
                        f"{tuple(lhs_shape)} and {tuple(rhs_shape)}.")
    return ConvDimensionNumbers(*conv_general_permutations(dimension_numbers))
  raise TypeError(f"convolution dimension_numbers must be tuple/list or None, got "
                  f"{type(dimension_numbers)}.")


def conv_shape_tuple(lhs_shape, rhs_shape, strides, pads, batch_group_count=1):
  """Compute the shape tuple of a conv given input shapes in canonical order."""
  if isinstance(pads, str):
    pads = padtype_to_pads(lhs_shape[2:], rhs_shape[2:], strides, pads)
  if len(pads) != len(lhs_shape) - 2:
    raise TypeError(f"Wrong number of explicit pads for convolution: expected "
                    f"{len(lhs_shape) - 2}, got {len(pads)}.")
  padded = [int(d) + int(lo) + int(hi) for d, (lo, hi) in zip(lhs_shape[2:], pads)]
  if any(p < 0 for p in padded):
    raise ValueError(f"Negative padding is larger than the size of the corresponding "
                     f"dimension: got padding={pads} for lhs_shape[2:]={tuple(lhs_shape[2:])}")
  for i, s in enumerate(strides):
    if s <= 0:
      raise ValueError(f"conv_general_dilated expects window to have positive stride for "
                       f"{i}-th window dimension, but got {s}.")
  out_space = tuple(max(0, (d - int(k)) // int(s) + 1)
                    for d, k, s in zip(padded, rhs_shape[2:], strides))
  n = int(lhs_shape[0]) // batch_group_count if batch_group_count > 1 else int(lhs_shape[0])
  return (n, int(rhs_shape[0])) + out_space


def conv_general_shape_tuple(lhs_shape, rhs_shape, window_strides, padding,
                             dimension_numbers):
  lhs_perm, rhs_perm, out_perm = conv_general_permutations(dimension_numbers)
  lhs_trans = np.take(lhs_shape, lhs_perm)
  rhs_trans = np.take(rhs_shape, rhs_perm)
  out_trans = conv_shape_tuple(lhs_trans, rhs_trans, window_strides, padding)
  return tuple(int(d) for d in np.take(out_trans, np.argsort(out_perm)))


def conv_transpose_shape_tuple(lhs_shape, rhs_shape, window_strides, padding,
                               dimension_numbers):
  lhs_perm, rhs_perm, out_perm = conv_general_permutations(dimension_numbers)
  lhs_trans = np.take(lhs_shape, lhs_perm)
  rhs_trans = np.take(rhs_shape, rhs_perm)
  if isinstance(padding, str):
    padding = [_conv_transpose_padding(k, s, padding)
               for k, s in zip(rhs_trans[2:], window_strides)]
  padding = [int(np.sum(p)) for p in padding]
  out_space = [(i - 1) * s - k + 2 + p
               for i, k, s, p in zip(lhs_trans[2:], rhs_trans[2:], window_strides, padding)]
  out_trans = (lhs_trans[0], rhs_trans[0], *out_space)
  return tuple(int(d) for d in np.take(out_trans, np.argsort(out_perm)))


def _canonicalize_precision(precision):
  if precision is None:
    return None
  if isinstance(precision, str):
    names = {"highest": "HIGHEST", "float32": "HIGHEST", "high": "HIGH",
             "tensorfloat32": "HIGH", "bfloat16_3x": "HIGH", "default": "DEFAULT",
             "fastest": "DEFAULT", "bfloat16": "DEFAULT"}
    name = names.get(precision.lower(), precision.upper())
    if name in Precision.__members__:
      return Precision[name], Precision[name]
  elif isinstance(precision, Precision):
    return precision, precision
  elif (isinstance(precision, (list, tuple)) and len(precision) == 2 and
        all(isinstance(p, (Precision, str)) for p in precision)):
    return tuple(_canonicalize_precision(p)[0] for p in precision)
  raise ValueError(f"Precision argument must be one of:\n- None,\n- a string, \n- a "
                   f"lax.Precision value,\n- a tuple of two lax.Precision values or "
                   f"strings,\ngot {precision}.")


# ------------------------------------------------------------------ the primitive

conv_general_dilated_p = Primitive("conv_general_dilated")


def _conv_dtypes(lhs_dtype, rhs_dtype, preferred_element_type):
  """(result dtype, dtype the products are summed in)."""
  if lhs_dtype != rhs_dtype:
    raise TypeError(f"lax.conv_general_dilated requires arguments to have the same "
                    f"dtypes, got {lhs_dtype}, {rhs_dtype}.")
  out = lhs_dtype
  if preferred_element_type is not None:
    pet = np.dtype(preferred_element_type)
    _validate_preferred_element_type(lhs_dtype, pet)
    out = pet
  acc = {np.dtype(np.bool_): np.dtype(np.int32), dtypes.bfloat16: np.dtype(np.float32),
         np.dtype(np.float16): np.dtype(np.float32)}.get(out, out)
  return out, acc


def _validate_preferred_element_type(input_dtype, pet):
  isint = lambda d: d.kind in "iu"
  isfloat = lambda d: d.kind == "f" or d == dtypes.bfloat16
  if not (isint(input_dtype) and isfloat(pet)):
    for test in (isint, isfloat, lambda d: d.kind == "c"):
      if test(input_dtype) and not test(pet):
        raise TypeError("Input type is incompatible with `preferred_element_type`. The "
                        "compatible combinations of (input_type, preferred_element_type) "
                        "are (integral, integral), (integral, floating), (floating, "
                        "floating), (complex, complex.")
    if input_dtype.kind == "i" and pet.kind != "i":
      raise TypeError("`preferred_element_type` must have the same signedness as the "
                      "original type.")
  if pet.itemsize < input_dtype.itemsize:
    raise TypeError("`preferred_element_type` must not be narrower than the original type.")


def _conv_general_dilated_shape(lhs, rhs, *, window_strides, padding, lhs_dilation,
                                rhs_dilation, dimension_numbers, feature_group_count,
                                batch_group_count):
  dn = dimension_numbers
  if lhs.ndim != rhs.ndim:
    raise ValueError(f"conv_general_dilated lhs and rhs must have the same number of "
                     f"dimensions, but got {lhs.shape} and {rhs.shape}.")
  if not feature_group_count > 0:
    raise ValueError(f"conv_general_dilated feature_group_count must be a positive "
                     f"integer, got {feature_group_count}.")
  lhs_features = lhs.shape[dn.lhs_spec[1]]
  quot, rem = divmod(lhs_features, feature_group_count)
  if rem:
    raise ValueError(f"conv_general_dilated feature_group_count must divide lhs feature "
                     f"dimension size, but {feature_group_count} does not divide "
                     f"{lhs_features}.")
  if quot != rhs.shape[dn.rhs_spec[1]]:
    raise ValueError(f"conv_general_dilated lhs feature dimension size divided by "
                     f"feature_group_count must equal the rhs input feature dimension "
                     f"size, but {lhs_features} // {feature_group_count} != "
                     f"{rhs.shape[dn.rhs_spec[1]]}.")
  if rhs.shape[dn.rhs_spec[0]] % feature_group_count:
    raise ValueError(f"conv_general_dilated rhs output feature dimension size must be a "
                     f"multiple of feature_group_count, but {rhs.shape[dn.rhs_spec[0]]} "
                     f"is not a multiple of {feature_group_count}.")
  if not batch_group_count > 0:
    raise ValueError(f"conv_general_dilated batch_group_count must be a positive "
                     f"integer, got {batch_group_count}.")
  lhs_batch = lhs.shape[dn.lhs_spec[0]]
  if batch_group_count > 1 and lhs_batch % batch_group_count:
    raise ValueError(f"conv_general_dilated batch_group_count must divide lhs batch "
                     f"dimension size, but {batch_group_count} does not divide "
                     f"{lhs_batch}.")
  if rhs.shape[dn.rhs_spec[0]] % batch_group_count:
    raise ValueError(f"conv_general_dilated rhs output feature dimension size must be a "
                     f"multiple of batch_group_count, but {rhs.shape[dn.rhs_spec[0]]} is "
                     f"not a multiple of {batch_group_count}.")
  if batch_group_count > 1 and feature_group_count > 1:
    raise ValueError(f"At most one of batch_group_count and feature_group_count may be "
                     f"> 1, got batch_group_count={batch_group_count} and "
                     f"feature_group_count={feature_group_count}")
  if len(dn.rhs_spec) - 2 != len(window_strides):
    raise ValueError(f"conv_general_dilated window and window_strides must have the same "
                     f"number of dimensions, but got {len(dn.rhs_spec) - 2} and "
                     f"{len(window_strides)}")
  lhs_trans = _dilate_shape([lhs.shape[d] for d in dn.lhs_spec], lhs_dilation)
  rhs_trans = _dilate_shape([rhs.shape[d] for d in dn.rhs_spec], rhs_dilation)
  out_trans = conv_shape_tuple(lhs_trans, rhs_trans, window_strides, padding,
                               batch_group_count)
  return tuple(out_trans[i] for i in np.argsort(dn.out_spec))


def _conv_general_dilated_abstract(lhs, rhs, *, window_strides, padding, lhs_dilation,
                                   rhs_dilation, dimension_numbers, feature_group_count,
                                   batch_group_count, precision=None,
                                   preferred_element_type=None, out_sharding=None):
  shape = _conv_general_dilated_shape(
      lhs, rhs, window_strides=window_strides, padding=padding, lhs_dilation=lhs_dilation,
      rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
      feature_group_count=feature_group_count, batch_group_count=batch_group_count)
  out, _ = _conv_dtypes(lhs.dtype, rhs.dtype, preferred_element_type)
  weak = lhs.weak_type and rhs.weak_type and preferred_element_type is None
  return ShapedArray(shape, out, weak)


def _conv_np(x, w, *, window_strides, padding, lhs_dilation, rhs_dilation,
             dimension_numbers, feature_group_count, batch_group_count, out_shape, acc):
  """The convolution in NumPy on arrays of dtype ``acc``: im2col + matmul."""
  lspec, rspec, ospec = dimension_numbers
  x = x.transpose(lspec)  # (N, C, *S)
  w = w.transpose(rspec)  # (O, I, *K)
  nsp = x.ndim - 2
  out_canon = tuple(out_shape[d] for d in ospec)
  if math.prod(out_canon) == 0 or x.size == 0 or w.size == 0:
    return np.zeros(out_canon, acc).transpose(np.argsort(ospec))
  if any(d != 1 for d in lhs_dilation):
    xd = np.zeros(x.shape[:2] + _dilate_shape(x.shape[2:], lhs_dilation), acc)
    xd[(slice(None), slice(None), *(slice(None, None, d) for d in lhs_dilation))] = x
    x = xd
  crop = tuple(slice(max(-lo, 0), x.shape[2 + i] - max(-hi, 0))
               for i, (lo, hi) in enumerate(padding))
  x = x[(slice(None), slice(None), *crop)]
  if any(lo > 0 or hi > 0 for lo, hi in padding):
    x = np.pad(x, [(0, 0), (0, 0), *((max(lo, 0), max(hi, 0)) for lo, hi in padding)])
  n, c = x.shape[:2]
  o, i = w.shape[:2]
  ksp = w.shape[2:]
  osp = out_canon[2:]
  st = x.strides
  view = np.lib.stride_tricks.as_strided(
      x, (n, c, *ksp, *osp),
      (st[0], st[1], *(st[2 + d] * rhs_dilation[d] for d in range(nsp)),
       *(st[2 + d] * window_strides[d] for d in range(nsp))), writeable=False)
  kk, pp = math.prod(ksp), math.prod(osp)
  if batch_group_count > 1:
    b = batch_group_count
    patches = view.reshape(b, n // b, c * kk, pp)
    out = np.matmul(w.reshape(b, 1, o // b, i * kk), patches)  # (B, Nb, Ob, P)
    out = out.transpose(1, 0, 2, 3)
  else:
    g = feature_group_count
    patches = view.reshape(n, g, (c // g) * kk, pp)
    out = np.matmul(w.reshape(g, o // g, i * kk), patches)  # (N, G, Og, P)
  return out.reshape(out_canon).transpose(np.argsort(ospec))


def _conv_general_dilated_impl(lhs, rhs, **params):
  aval = _conv_general_dilated_abstract(lhs.aval, rhs.aval, **params)
  out_dtype, acc = _conv_dtypes(lhs.dtype, rhs.dtype, params.get("preferred_element_type"))
  x, w = np.asarray(lhs._value), np.asarray(rhs._value)
  kw = {k: params[k] for k in ("window_strides", "padding", "lhs_dilation", "rhs_dilation",
                               "dimension_numbers", "feature_group_count",
                               "batch_group_count")}
  conv = lambda a, b: _conv_np(a, b, out_shape=aval.shape, acc=a.dtype, **kw)
  if acc.kind == "c":  # three real convolutions, as JAX on CPU (Gauss's trick)
    rdt = np.finfo(acc).dtype
    x, w = x.astype(acc, copy=False), w.astype(acc, copy=False)
    xr, xi, wr, wi = (v.astype(rdt) for v in (x.real, x.imag, w.real, w.imag))
    k1, k2, k3 = conv(xr + xi, wr), conv(xr, wi - wr), conv(xi, wr + wi)
    out = (k1 - k3) + 1j * (k1 + k2)
  else:
    out = conv(_convert_np(x, acc) if x.dtype != acc else x,
               _convert_np(w, acc) if w.dtype != acc else w)
    if out_dtype == np.bool_:
      out = out != 0
    elif acc.kind in "iu" and out.dtype != acc:
      out = out.astype(acc)
  out = _convert_np(np.ascontiguousarray(out), out_dtype)
  return ArrayImpl(np.asarray(out, out_dtype), aval.weak_type)


class _Repr(str):
  def __repr__(self):
    return str(self)


def _conv_pp(params):
  out = dict(params)
  dn = params["dimension_numbers"]
  out["dimension_numbers"] = _Repr(
      f"ConvDimensionNumbers(lhs_spec={tuple(dn.lhs_spec)}, rhs_spec={tuple(dn.rhs_spec)}, "
      f"out_spec={tuple(dn.out_spec)})")
  if params.get("precision") is not None:
    out["precision"] = _Repr("(" + ", ".join(f"Precision.{p.name}"
                                             for p in params["precision"]) + ")")
  return out


conv_general_dilated_p.def_impl(_conv_general_dilated_impl)
conv_general_dilated_p.def_abstract_eval(_conv_general_dilated_abstract)


def _conv_general_dilated_sharding_rule(lhs, rhs, *, dimension_numbers, **params):
  """JAX's: a replicated kernel and an unsplit input feature dimension keep the input's
  sharding (its split dimensions must still divide); else JAX's error."""
  if rhs.sharding is None and spec_of(lhs)[dimension_numbers.lhs_spec[1]] is None:
    out = _conv_general_dilated_abstract(lhs, rhs, dimension_numbers=dimension_numbers,
                                         **params)
    return varying_shape_sharding(out.shape, lhs, "conv_general_dilated")
  raise ShardingTypeError("Please specify the output sharding via `out_sharding` "
                          "parameter of `conv_general_dilated`")


conv_general_dilated_p.sharding_rule = _conv_general_dilated_sharding_rule
conv_general_dilated_p.pp_params = _conv_pp


# ------------------------------------------------------------------ autodiff
# Ignoring spatial dimensions, with m = batch, j = input feature, k = output feature,
# the forward is [m, j] [j, k] -> [m, k]; the lhs transpose [m, k] [k, j] -> [m, j]
# and the rhs transpose [j, m] [m, k] -> [j, k]. Feature groups become batch groups in
# the rhs transpose and stay feature groups (moved to the kernel's output features) in
# the lhs transpose; batch groups the other way round.

def _spec_t(spec):
  return (spec[1], spec[0]) + tuple(spec[2:])


def _reshape_axis_into(src, dst, x):
  """Merges axis ``src`` into axis ``dst`` (numbered after ``src`` is removed), as the
  major part."""
  shape = x.shape
  perm = [i for i in range(len(shape)) if i != src]
  perm.insert(dst, src)
  new_shape = [shape[i] for i in range(len(shape)) if i != src]
  new_shape[dst] *= shape[src]
  return reshape(transpose(x, perm), new_shape)


def _reshape_axis_out_of(src, size1, x):
  shape = list(x.shape)
  shape[src:src + 1] = [size1, shape[src] // size1]
  return reshape(x, shape)


def _conv_general_vjp_lhs_padding(in_shape, window_dimensions, window_strides, out_shape,
                                  padding, lhs_dilation, rhs_dilation):
  lhs_d = _dilate_shape(in_shape, lhs_dilation)
  rhs_d = _dilate_shape(window_dimensions, rhs_dilation)
  out_d = _dilate_shape(out_shape, window_strides)
  before = [r - lo - 1 for r, (lo, _) in zip(rhs_d, padding)]
  after = [a + r - 1 - o - b for a, r, o, b in zip(lhs_d, rhs_d, out_d, before)]
  return tuple(zip(before, after))


def _vjp_rhs_padding(in_shape, window_dimensions, window_strides, out_shape, padding,
                     lhs_dilation, rhs_dilation):
  if not in_shape:
    return ()
  lhs_d = _dilate_shape(in_shape, lhs_dilation)
  rhs_d = _dilate_shape(window_dimensions, rhs_dilation)
  out_d = _dilate_shape(out_shape, window_strides)
  los = [lo for lo, _ in padding]
  his = [o - a + r - lo - 1 for o, a, r, lo in zip(out_d, lhs_d, rhs_d, los)]
  return tuple(zip(los, his))


def _conv_transpose_lhs(g, lhs_aval, rhs, *, window_strides, padding, lhs_dilation,
                        rhs_dilation, dimension_numbers, feature_group_count,
                        batch_group_count, precision, preferred_element_type,
                        out_sharding=None):
  lhs_spec, rhs_spec, out_spec = dimension_numbers
  rhs_shape = rhs.shape
  if feature_group_count > 1:
    rhs = _reshape_axis_out_of(rhs_spec[0], feature_group_count, rhs)
    rhs = _reshape_axis_into(rhs_spec[0], rhs_spec[1], rhs)
  elif batch_group_count > 1:
    rhs = _reshape_axis_out_of(rhs_spec[0], batch_group_count, rhs)
    rhs = _reshape_axis_into(rhs_spec[0], rhs_spec[1], rhs)
    feature_group_count = batch_group_count
  trans_dn = ConvDimensionNumbers(out_spec, _spec_t(rhs_spec), lhs_spec)
  pads = _conv_general_vjp_lhs_padding([lhs_aval.shape[d] for d in lhs_spec[2:]],
                          [rhs_shape[d] for d in rhs_spec[2:]], window_strides,
                          [g.shape[d] for d in out_spec[2:]], padding, lhs_dilation,
                          rhs_dilation)
  revd = rev(rhs, tuple(rhs_spec[2:]))
  if g.dtype != revd.dtype:
    revd = _convert_element_type(revd, g.dtype)
  out = conv_general_dilated(
      g, revd, window_strides=lhs_dilation, padding=pads, lhs_dilation=window_strides,
      rhs_dilation=rhs_dilation, dimension_numbers=trans_dn,
      feature_group_count=feature_group_count, batch_group_count=1, precision=precision,
      preferred_element_type=preferred_element_type)
  if out.dtype != lhs_aval.dtype:
    out = _convert_element_type(out, lhs_aval.dtype, lhs_aval.weak_type)
  if batch_group_count > 1:
    out = _reshape_axis_out_of(lhs_spec[1], batch_group_count, out)
    out = _reshape_axis_into(lhs_spec[1], lhs_spec[0], out)
  return out


def _conv_transpose_rhs(g, lhs, rhs_aval, *, window_strides, padding, lhs_dilation,
                        rhs_dilation, dimension_numbers, feature_group_count,
                        batch_group_count, precision, preferred_element_type,
                        out_sharding=None):
  if math.prod(g.shape) == 0:
    return ad.Zero(rhs_aval)
  lhs_spec, rhs_spec, out_spec = dimension_numbers
  if batch_group_count > 1:
    feature_group_count, batch_group_count = batch_group_count, 1
  elif feature_group_count > 1:
    feature_group_count, batch_group_count = 1, feature_group_count
  trans_dn = ConvDimensionNumbers(_spec_t(lhs_spec), _spec_t(out_spec), _spec_t(rhs_spec))
  pads = _vjp_rhs_padding([lhs.shape[d] for d in lhs_spec[2:]],
                          [rhs_aval.shape[d] for d in rhs_spec[2:]], window_strides,
                          [g.shape[d] for d in out_spec[2:]], padding, lhs_dilation,
                          rhs_dilation)
  if g.dtype != lhs.dtype:
    lhs = _convert_element_type(lhs, g.dtype)
  out = conv_general_dilated(
      lhs, g, window_strides=rhs_dilation, padding=pads, lhs_dilation=lhs_dilation,
      rhs_dilation=window_strides, dimension_numbers=trans_dn,
      feature_group_count=feature_group_count, batch_group_count=batch_group_count,
      precision=precision, preferred_element_type=preferred_element_type)
  if out.dtype != rhs_aval.dtype:
    out = _convert_element_type(out, rhs_aval.dtype, rhs_aval.weak_type)
  return out


def _conv_general_dilated_transpose(ct, lhs, rhs, **params):
  if ad.is_undefined_primal(lhs) and ad.is_undefined_primal(rhs):
    raise ValueError("conv_general_dilated transpose: both operands are linear.")
  if type(ct) is ad.Zero:
    return [None, None]
  if ad.is_undefined_primal(lhs):
    return [_conv_transpose_lhs(ct, lhs.aval, rhs, **params), None]
  return [None, _conv_transpose_rhs(ct, lhs, rhs.aval, **params)]


ad.defjvp(conv_general_dilated_p,
          lambda t, x, y, **params: conv_general_dilated_p.bind(t, y, **params),
          lambda t, x, y, **params: conv_general_dilated_p.bind(x, t, **params))
conv_general_dilated_p.transpose = _conv_general_dilated_transpose


# ------------------------------------------------------------------ batching

def _conv_general_dilated_batch(vals, dims, *, window_strides, padding, lhs_dilation,
                                rhs_dilation, dimension_numbers, feature_group_count,
                                batch_group_count, precision, preferred_element_type,
                                out_sharding=None):
  """The vmapped axis folds into the batch or feature dimensions: one convolution."""
  (lhs, rhs), (lb, rb) = vals, dims
  lhs_spec, rhs_spec, out_spec = dimension_numbers
  kw = dict(window_strides=window_strides, padding=padding, lhs_dilation=lhs_dilation,
            rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
            precision=precision, preferred_element_type=preferred_element_type)
  size = lhs.shape[lb] if lb is not None else rhs.shape[rb]
  if size == 0:
    lshape = [d for i, d in enumerate(lhs.shape) if i != lb]
    rshape = [d for i, d in enumerate(rhs.shape) if i != rb]
    shape = _conv_general_dilated_shape(
        ShapedArray(tuple(lshape), lhs.dtype), ShapedArray(tuple(rshape), rhs.dtype),
        window_strides=window_strides, padding=padding, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
        feature_group_count=feature_group_count, batch_group_count=batch_group_count)
    out_dt, _ = _conv_dtypes(lhs.dtype, rhs.dtype, preferred_element_type)
    return full((0, *shape), 0, out_dt), 0
  if lb is not None and rb is not None:
    if batch_group_count > 1:
      new_lhs = _reshape_axis_into(lb, lhs_spec[0], lhs)
      batch_group_count *= size
    else:
      new_lhs = _reshape_axis_into(lb, lhs_spec[1], lhs)
      feature_group_count *= size
    new_rhs = _reshape_axis_into(rb, rhs_spec[0], rhs)
    out = conv_general_dilated(new_lhs, new_rhs, feature_group_count=feature_group_count,
                               batch_group_count=batch_group_count, **kw)
    return _reshape_axis_out_of(out_spec[1], size, out), out_spec[1]
  if lb is not None:
    if batch_group_count == 1:
      new_lhs = _reshape_axis_into(lb, lhs_spec[0], lhs)
    else:
      new_lhs = _reshape_axis_out_of(lhs_spec[0] + int(lb <= lhs_spec[0]),
                                     batch_group_count, lhs)
      new_lhs = _reshape_axis_into(lb + int(lhs_spec[0] < lb), lhs_spec[0] + 1, new_lhs)
      new_lhs = _reshape_axis_into(lhs_spec[0], lhs_spec[0], new_lhs)
    out = conv_general_dilated(new_lhs, rhs, feature_group_count=feature_group_count,
                               batch_group_count=batch_group_count, **kw)
    return _reshape_axis_out_of(out_spec[0], size, out), out_spec[0]
  if feature_group_count == 1 and batch_group_count == 1:
    new_rhs = _reshape_axis_into(rb, rhs_spec[0], rhs)
    out = conv_general_dilated(lhs, new_rhs, **kw)
    return _reshape_axis_out_of(out_spec[1], size, out), out_spec[1]
  # groups stay outermost in the kernel's output features: factor them out, fold the
  # batch into what remains, put them back (and the same on the output)
  group = feature_group_count if feature_group_count > 1 else batch_group_count
  new_rhs = _reshape_axis_out_of(rhs_spec[0] + int(rb <= rhs_spec[0]), group, rhs)
  new_rhs = _reshape_axis_into(rb + int(rhs_spec[0] < rb), rhs_spec[0] + 1, new_rhs)
  new_rhs = _reshape_axis_into(rhs_spec[0], rhs_spec[0], new_rhs)
  out = conv_general_dilated(lhs, new_rhs, feature_group_count=feature_group_count,
                             batch_group_count=batch_group_count, **kw)
  out = _reshape_axis_out_of(out_spec[1], group, out)
  out = _reshape_axis_out_of(out_spec[1] + 1, size, out)
  out = _reshape_axis_into(out_spec[1], out_spec[1] + 1, out)
  return out, out_spec[1]


conv_general_dilated_p.batch = _conv_general_dilated_batch


# ------------------------------------------------------------------ lowering

def _conv_attrs(nsp, window_strides, padding, lhs_dilation, rhs_dilation,
                dimension_numbers, feature_group_count, batch_group_count):
  (lb, lf, *ls), (ro, ri, *rs), (ob, of, *os_) = dimension_numbers
  lst = lambda v: "[" + ", ".join(map(str, v)) + "]"
  dn = (f"#stablehlo.conv<raw input_batch_dimension = {lb}, input_feature_dimension = {lf}, "
        f"input_spatial_dimensions = {lst(ls)}, kernel_input_feature_dimension = {ri}, "
        f"kernel_output_feature_dimension = {ro}, kernel_spatial_dimensions = {lst(rs)}, "
        f"output_batch_dimension = {ob}, output_feature_dimension = {of}, "
        f"output_spatial_dimensions = {lst(os_)}>")
  pads = ("dense<" + lst(lst(p) for p in padding) + ">" if nsp else "dense<>") + \
      f" : tensor<{nsp}x2xi64>"
  return (f"batch_group_count = {batch_group_count} : i64, dimension_numbers = {dn}, "
          f"feature_group_count = {feature_group_count} : i64, "
          f"lhs_dilation = {mlir._i64_array(lhs_dilation)}, padding = {pads}, "
          f"rhs_dilation = {mlir._i64_array(rhs_dilation)}, "
          f"window_strides = {mlir._i64_array(window_strides)}")


def _conv_general_dilated_lower(ctx, lhs, rhs, *, window_strides, padding, lhs_dilation,
                                rhs_dilation, dimension_numbers, feature_group_count,
                                batch_group_count, precision=None,
                                preferred_element_type=None, out_sharding=None):
  out = ctx.aval_out
  if not out.size or not rhs.aval.size:  # (IREE rejects empty windows): empty sums
    return ctx.full(0, out.shape, out.dtype)
  out_dtype, acc = _conv_dtypes(lhs.aval.dtype, rhs.aval.dtype, preferred_element_type)
  params = dict(window_strides=window_strides, padding=padding, lhs_dilation=lhs_dilation,
                rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
                feature_group_count=feature_group_count, batch_group_count=batch_group_count)

  def operand(v):
    if v.aval.dtype == np.bool_:
      return ctx.select(v, ctx.full(1, v.aval.shape, acc), ctx.full(0, v.aval.shape, acc))
    if v.aval.dtype != out_dtype:
      v = _convert_lower(ctx, v, new_dtype=out_dtype, weak_type=False)
    return ctx.convert(v, acc)

  conv = lambda a, b, dt, native=False: _conv_lower_real(ctx, a, b, out.update(dtype=dt),
                                                         native=native, **params)
  if acc.kind == "c":  # as JAX on CPU: three real convolutions (Gauss's trick)
    # (convolutions: IREE fails to compile three im2col expansions of the parts)
    rdt = np.dtype(np.float32 if acc == np.complex64 else np.float64)
    x, y = operand(lhs), operand(rhs)
    parts = [ctx.op(f"stablehlo.{p}", [v], v.aval.update(dtype=rdt))
             for v in (x, y) for p in ("real", "imag")]
    # (a barrier: IREE fails to compile a convolution whose operand extracts a part of
    # a complex argument, "write affecting operations on global resources")
    xr, xi, yr, yi = ctx.op("stablehlo.optimization_barrier", parts, [p.aval for p in parts])
    k1 = conv(ctx.binary("add", xr, xi), yr, rdt, True)
    k2 = conv(xr, ctx.binary("subtract", yi, yr), rdt, True)
    k3 = conv(xi, ctx.binary("add", yr, yi), rdt, True)
    return ctx.op("stablehlo.complex", [ctx.binary("subtract", k1, k3),
                                        ctx.binary("add", k1, k2)], out.update(dtype=acc))
  r = conv(operand(lhs), operand(rhs), acc)
  if out_dtype == np.bool_:
    return ctx.compare("NE", r, ctx.full(0, r.aval.shape, acc))
  return ctx.convert(r, out_dtype)


# None: chosen per convolution by _conv_strategy; tests force each in turn.
_FORCE_STRATEGY = None
_CL_MIN_CHANNELS = (2, 8)  # (input, output) channels of a "channels_last" convolution


def _conv_strategy(dtype, n, c, o, ksp, osp, feature_group_count, batch_group_count):
  """How a float convolution is lowered. IREE's own convolution kernels (llvm-cpu) are
  fast on a channels-last input, (N, H, W, C) x (H, W, I, O) (a (128,24,24,32) x
  (3,3,32,64) NHWC convolution: 2-3x faster than XLA and than im2col), and 5-35x slower
  than that on NCHW/OIHW, on one input channel or on three output channels. So an
  ungrouped 2-D convolution with two or more input and eight or more output channels
  is one "channels_last" ``stablehlo.convolution`` (the
  operands transposed to that layout behind an optimization barrier, without which IREE
  folds the transposes back into a slow convolution). Others are dot_generals over the
  window's taps: "im2col" (the taps of the input side by side, one contraction over
  channels x taps) when each group has no more input than output channels, else
  "col2im" (one contraction over the input channels giving every tap's output, then the
  taps' shifted slices summed: the input is read once). im2col costs IREE ~1 s more
  compile time a convolution, so small convolutions (under 2**20 multiply-adds) stay
  ``stablehlo.convolution``. A window of over 64 taps (the kernel gradient, whose window
  is the image) with at most 64 output positions is "outer" (one contraction over the
  windows of each output position: IREE's convolution took 12x longer); other large
  windows stay native."""
  taps = math.prod(ksp)
  ungrouped = feature_group_count == batch_group_count == 1
  if dtype.kind != "f":
    return "native"
  if _FORCE_STRATEGY is not None:
    if _FORCE_STRATEGY in ("outer", "channels_last"):
      return _FORCE_STRATEGY if ungrouped else "native"
    return "native" if taps > 64 else _FORCE_STRATEGY
  if batch_group_count > 1:
    ig, og = c, o // batch_group_count
  else:
    ig, og = c // feature_group_count, o // feature_group_count
  macs = n // batch_group_count * o * math.prod(osp) * ig * taps
  if macs < (1 << 20):
    return "native"
  if taps > 64:
    return "outer" if ungrouped and math.prod(osp) <= 64 else "native"
  if ungrouped and len(ksp) == 2 and c >= _CL_MIN_CHANNELS[0] and o >= _CL_MIN_CHANNELS[1]:
    return "channels_last"
  return "im2col" if ig <= og else "col2im"


def _tr(ctx, v, perm):
  perm = tuple(int(p) for p in perm)
  if perm == tuple(range(len(perm))):
    return v
  return ctx.op("stablehlo.transpose", [v],
                v.aval.update(shape=tuple(v.aval.shape[d] for d in perm)),
                f"permutation = {mlir._i64_array(perm)}")


def _dot(ctx, a, b, batch, contract, shape):
  """stablehlo.dot_general of a and b: batch dims ``batch`` = ([a], [b]), contracting
  ``contract`` = ([a], [b])."""
  fs = [(n, v) for n, v in (("lhs_batching_dimensions", batch[0]),
                            ("rhs_batching_dimensions", batch[1]),
                            ("lhs_contracting_dimensions", contract[0]),
                            ("rhs_contracting_dimensions", contract[1])) if v]
  dn = ", ".join(f"{n} = [{', '.join(map(str, v))}]" for n, v in fs)
  return ctx.op("stablehlo.dot_general", [a, b], a.aval.update(shape=tuple(shape)),
                f"dot_dimension_numbers = #stablehlo.dot<{dn}>")


def _geometry(lhs, rhs, out, dimension_numbers):
  """(lspec, rspec, ospec, kernel spatial shape, output spatial shape, batch, input
  features, output features) of a convolution's operands."""
  lspec, rspec, ospec = dimension_numbers
  ksp = tuple(rhs.aval.shape[d] for d in rspec[2:])
  osp = tuple(out.shape[d] for d in ospec[2:])
  n, c = (lhs.aval.shape[d] for d in lspec[:2])
  return lspec, rspec, ospec, ksp, osp, n, c, rhs.aval.shape[rspec[0]]


def _conv_lower_real(ctx, lhs, rhs, out, *, window_strides, padding, lhs_dilation,
                     rhs_dilation, dimension_numbers, feature_group_count,
                     batch_group_count, native=False):
  """One real/integer convolution: a ``stablehlo.convolution``, or, where IREE's
  convolution kernels are slow, the window's taps as strided slices of the padded input
  contracted by ``dot_general``s (all taps in one, im2col; or one per tap, summed)."""
  lspec, rspec, ospec, ksp, osp, n, c, o = _geometry(lhs, rhs, out, dimension_numbers)
  nsp = len(window_strides)
  strategy = "native" if native else _conv_strategy(
      out.dtype, n, c, o, ksp, osp, feature_group_count, batch_group_count)
  if strategy == "channels_last":
    x = _tr(ctx, lhs, (lspec[0], *lspec[2:], lspec[1]))  # (N, *S, C)
    w = _tr(ctx, rhs, (*rspec[2:], rspec[1], rspec[0]))  # (*K, I, O)
    moved = [v for v, u in ((x, lhs), (w, rhs)) if v is not u]
    if moved:  # (else IREE folds the transposes into a slow convolution)
      moved = ctx.op("stablehlo.optimization_barrier", moved, [v.aval for v in moved])
      x = moved.pop(0) if x is not lhs else x
      w = moved.pop(0) if w is not rhs else w
    sp = tuple(range(1, nsp + 1))
    dn = ((0, nsp + 1, *sp), (nsp + 1, nsp, *range(nsp)), (0, nsp + 1, *sp))
    attrs = _conv_attrs(nsp, window_strides, padding, lhs_dilation, rhs_dilation, dn, 1, 1)
    r = ctx.op("stablehlo.convolution", [x, w], out.update(shape=(n, *osp, o)), attrs)
    perm = np.argsort((ospec[0], *ospec[2:], ospec[1]))
    if list(perm) != list(range(nsp + 2)):
      r, = ctx.op("stablehlo.optimization_barrier", [r], [r.aval])
    return _tr(ctx, r, perm)
  if strategy == "native" or out.size == 0 or lhs.aval.size == 0 or rhs.aval.size == 0:
    attrs = _conv_attrs(nsp, window_strides, padding, lhs_dilation, rhs_dilation,
                        dimension_numbers, feature_group_count, batch_group_count)
    return ctx.op("stablehlo.convolution", [lhs, rhs], out, attrs)
  dt = out.dtype
  if strategy == "outer":
    return _conv_lower_outer(ctx, lhs, rhs, out, window_strides, padding, lhs_dilation,
                             rhs_dilation, dimension_numbers)
  if feature_group_count == batch_group_count == 1:
    return _conv_lower_channels_last(ctx, lhs, rhs, out, strategy, window_strides,
                                     padding, lhs_dilation, rhs_dilation,
                                     dimension_numbers)
  x = _tr(ctx, lhs, lspec)  # (N, C, *S)
  w = _tr(ctx, rhs, rspec)  # (O, I, *K)
  zero = ctx.constant(np.zeros((), dt), ShapedArray((), dt))
  g, b = feature_group_count, batch_group_count
  if strategy == "col2im":
    # z[t, n, o, q] = sum_c w[o, c, t] x[n, c, q] in one dot_general that reads x once;
    # then out[n, o, p] = sum_t z[t, n, o, (p * stride + t * rhs_dilation)] of z padded
    # (and dilated: the dot is linear) as x would have been
    kk = math.prod(ksp)
    sp = x.aval.shape[2:]
    sf = math.prod(sp)
    wi = w.aval.shape[1]
    if b > 1:
      wt = mlir.reshape(ctx, w, (b, o // b, wi, kk))
      wt = mlir.reshape(ctx, _tr(ctx, wt, (0, 3, 1, 2)), (b, kk * (o // b), wi))
      xv = mlir.reshape(ctx, x, (b, n // b, c, sf))
      z = _dot(ctx, wt, xv, ([0], [0]), ([2], [2]), (b, kk * (o // b), n // b, sf))
      z = mlir.reshape(ctx, z, (b, kk, o // b, n // b, *sp))
      z = _tr(ctx, z, (1, 3, 0, 2, *range(4, 4 + nsp)))
      nb = n // b
    else:
      wt = mlir.reshape(ctx, w, (g, o // g, wi, kk))
      wt = mlir.reshape(ctx, _tr(ctx, wt, (0, 3, 1, 2)), (g, kk * (o // g), wi))
      xv = mlir.reshape(ctx, x, (n, g, c // g, sf))
      z = _dot(ctx, wt, xv, ([0], [1]), ([2], [2]), (g, kk * (o // g), n, sf))
      z = mlir.reshape(ctx, z, (g, kk, o // g, n, *sp))
      z = _tr(ctx, z, (1, 3, 0, 2, *range(4, 4 + nsp)))
      nb = n
    z = mlir.reshape(ctx, z, (kk, nb, o, *sp))
    lo = [0, 0, 0, *(p[0] for p in padding)]
    hi = [0, 0, 0, *(p[1] for p in padding)]
    interior = [0, 0, 0, *(d - 1 for d in lhs_dilation)]
    if any(lo) or any(hi) or any(interior):
      shp = (kk, nb, o, *(sp[i] + lo[3 + i] + hi[3 + i] + interior[3 + i] * max(sp[i] - 1, 0)
                          for i in range(nsp)))
      z = ctx.op("stablehlo.pad", [z, zero], z.aval.update(shape=shp),
                 f"edge_padding_low = {mlir._i64_array(lo)}, "
                 f"edge_padding_high = {mlir._i64_array(hi)}, "
                 f"interior_padding = {mlir._i64_array(interior)}")
    parts = []
    for ti, t in enumerate(np.ndindex(*ksp)):
      start = [ti, 0, 0, *(t[i] * rhs_dilation[i] for i in range(nsp))]
      limit = [ti + 1, nb, o, *(start[3 + i] + (osp[i] - 1) * window_strides[i] + 1
                                for i in range(nsp))]
      v = ctx.op("stablehlo.slice", [z], z.aval.update(shape=(1, nb, o, *osp)),
                 f"start_indices = {mlir._i64_array(start)}, "
                 f"limit_indices = {mlir._i64_array(limit)}, "
                 f"strides = {mlir._i64_array([1, 1, 1, *window_strides])}")
      parts.append(mlir.reshape(ctx, v, (nb, o, *osp)))
    while len(parts) > 1:  # a tree of sums
      parts = [ctx.binary("add", parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
               for i in range(0, len(parts), 2)]
    return _tr(ctx, parts[0], np.argsort(ospec))
  lo = [0, 0, *(p[0] for p in padding)]
  hi = [0, 0, *(p[1] for p in padding)]
  interior = [0, 0, *(d - 1 for d in lhs_dilation)]
  if any(lo) or any(hi) or any(interior):
    shp = (n, c, *(x.aval.shape[2 + i] + lo[2 + i] + hi[2 + i] +
                   interior[2 + i] * max(x.aval.shape[2 + i] - 1, 0) for i in range(nsp)))
    x = ctx.op("stablehlo.pad", [x, zero], x.aval.update(shape=shp),
               f"edge_padding_low = {mlir._i64_array(lo)}, "
               f"edge_padding_high = {mlir._i64_array(hi)}, "
               f"interior_padding = {mlir._i64_array(interior)}")
  taps = list(np.ndindex(*ksp))
  pf = math.prod(osp)

  def tap(t):
    start = [0, 0, *(t[i] * rhs_dilation[i] for i in range(nsp))]
    limit = [n, c, *(start[2 + i] + (osp[i] - 1) * window_strides[i] + 1
                     for i in range(nsp))]
    v = ctx.op("stablehlo.slice", [x], x.aval.update(shape=(n, c, *osp)),
               f"start_indices = {mlir._i64_array(start)}, "
               f"limit_indices = {mlir._i64_array(limit)}, "
               f"strides = {mlir._i64_array([1, 1, *window_strides])}")
    return v

  ig = c // g
  kk = len(taps)
  if strategy == "im2col":
    cols = [mlir.reshape(ctx, tap(t), (n, c, 1, pf)) for t in taps]
    pat = cols[0] if kk == 1 else ctx.op(
        "stablehlo.concatenate", cols, cols[0].aval.update(shape=(n, c, kk, pf)),
        "dimension = 2 : i64")
    wk = mlir.reshape(ctx, w, (o, w.aval.shape[1], kk))
    if b > 1:
      pat = mlir.reshape(ctx, pat, (b, n // b, c * kk, pf))
      wk = mlir.reshape(ctx, wk, (b, o // b, c * kk))
      r = _dot(ctx, wk, pat, ([0], [0]), ([2], [2]), (b, o // b, n // b, pf))
      r = _tr(ctx, r, (2, 0, 1, 3))  # (Nb, B, Ob, P)
      res = mlir.reshape(ctx, r, (n // b, o, *osp))
    else:
      pat = mlir.reshape(ctx, pat, (n, g, ig * kk, pf))
      wk = mlir.reshape(ctx, wk, (g, o // g, ig * kk))
      r = _dot(ctx, wk, pat, ([0], [1]), ([2], [2]), (g, o // g, n, pf))
      r = _tr(ctx, r, (2, 0, 1, 3))  # (N, G, Og, P)
      res = mlir.reshape(ctx, r, (n, o, *osp))
  else:  # one dot_general per tap, summed
    parts = []
    for t in taps:
      v = tap(t)
      wt = ctx.op("stablehlo.slice", [w], w.aval.update(shape=(o, w.aval.shape[1])
                                                         + (1,) * nsp),
                  f"start_indices = {mlir._i64_array([0, 0, *t])}, "
                  f"limit_indices = {mlir._i64_array([o, w.aval.shape[1], *(i + 1 for i in t)])}, "
                  f"strides = {mlir._i64_array([1] * (nsp + 2))}")
      if b > 1:
        v = mlir.reshape(ctx, v, (b, n // b, c, pf))
        wt = mlir.reshape(ctx, wt, (b, o // b, c))
        parts.append(_dot(ctx, wt, v, ([0], [0]), ([2], [2]), (b, o // b, n // b, pf)))
      else:
        v = mlir.reshape(ctx, v, (n, g, ig, pf))
        wt = mlir.reshape(ctx, wt, (g, o // g, ig))
        parts.append(_dot(ctx, wt, v, ([0], [1]), ([2], [2]), (g, o // g, n, pf)))
    while len(parts) > 1:  # a tree of sums
      parts = [ctx.binary("add", parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
               for i in range(0, len(parts), 2)]
    r = _tr(ctx, parts[0], (2, 0, 1, 3))
    res = mlir.reshape(ctx, r, ((n // b) if b > 1 else n, o, *osp))
  return _tr(ctx, res, np.argsort(ospec))


def _pad_spatial(ctx, x, dims, padding, lhs_dilation):
  """``x`` zero-padded (and interior-padded by ``lhs_dilation``) along its dimensions
  ``dims``, the spatial dimensions of the convolution."""
  nd = x.aval.ndim
  lo, hi, interior = [0] * nd, [0] * nd, [0] * nd
  for i, d in enumerate(dims):
    lo[d], hi[d] = padding[i]
    interior[d] = lhs_dilation[i] - 1
  if not (any(lo) or any(hi) or any(interior)):
    return x
  shp = tuple(d + lo[i] + hi[i] + interior[i] * max(d - 1, 0)
              for i, d in enumerate(x.aval.shape))
  zero = ctx.constant(np.zeros((), x.aval.dtype), ShapedArray((), x.aval.dtype))
  return ctx.op("stablehlo.pad", [x, zero], x.aval.update(shape=shp),
                f"edge_padding_low = {mlir._i64_array(lo)}, "
                f"edge_padding_high = {mlir._i64_array(hi)}, "
                f"interior_padding = {mlir._i64_array(interior)}")


def _window_slice(ctx, x, start, count, strides):
  """``x[start[d] : ... : strides[d]]`` taking ``count[d]`` elements along each d."""
  limit = [s + (c - 1) * st + 1 for s, c, st in zip(start, count, strides)]
  return ctx.op("stablehlo.slice", [x], x.aval.update(shape=tuple(count)),
                f"start_indices = {mlir._i64_array(start)}, "
                f"limit_indices = {mlir._i64_array(limit)}, "
                f"strides = {mlir._i64_array(strides)}")


def _conv_lower_channels_last(ctx, lhs, rhs, out, strategy, window_strides, padding,
                              lhs_dilation, rhs_dilation, dimension_numbers):
  """An ungrouped convolution as plain (unbatched) dot_generals in the channels-last
  layout (N, *S, C) x (*K, I, O) -> (N, *S', O): stax's NHWC/HWIO/NHWC needs no
  transposes, and IREE's matmul kernels take the contraction as one [M, K] x [K, N]
  (a batched dot with a unit batch dimension between others overflowed IREE's stack
  limit on a (128, 32, 26, 26) input). im2col: the taps' strided slices concatenated
  along the channels, one contraction over taps x channels; col2im: one contraction
  over the channels giving every tap's output, then the taps' shifted slices summed."""
  lspec, rspec, ospec, ksp, osp, n, c, o = _geometry(lhs, rhs, out, dimension_numbers)
  nsp = len(window_strides)
  kk = math.prod(ksp)
  x = _tr(ctx, lhs, (lspec[0], *lspec[2:], lspec[1]))  # (N, *S, C)
  w = _tr(ctx, rhs, (*rspec[2:], rspec[1], rspec[0]))  # (*K, I, O)
  if strategy == "im2col":
    x = _pad_spatial(ctx, x, range(1, 1 + nsp), padding, lhs_dilation)
    cols = [_window_slice(ctx, x, [0, *(t[i] * rhs_dilation[i] for i in range(nsp)), 0],
                          [n, *osp, c], [1, *window_strides, 1])
            for t in np.ndindex(*ksp)]
    pat = cols[0] if kk == 1 else ctx.op(
        "stablehlo.concatenate", cols, cols[0].aval.update(shape=(n, *osp, kk * c)),
        f"dimension = {nsp + 1} : i64")
    wk = mlir.reshape(ctx, w, (kk * c, o))
    res = _dot(ctx, pat, wk, ([], []), ([nsp + 1], [0]), (n, *osp, o))
  else:
    sp = x.aval.shape[1:1 + nsp]
    wk = mlir.reshape(ctx, _tr(ctx, w, (nsp, *range(nsp), nsp + 1)), (c, kk * o))
    z = _dot(ctx, x, wk, ([], []), ([nsp + 1], [0]), (n, *sp, kk * o))
    z = _pad_spatial(ctx, mlir.reshape(ctx, z, (n, *sp, kk, o)), range(1, 1 + nsp),
                     padding, lhs_dilation)
    parts = []
    for ti, t in enumerate(np.ndindex(*ksp)):
      v = _window_slice(ctx, z, [0, *(t[i] * rhs_dilation[i] for i in range(nsp)), ti, 0],
                        [n, *osp, 1, o], [1, *window_strides, 1, 1])
      parts.append(mlir.reshape(ctx, v, (n, *osp, o)))
    while len(parts) > 1:  # a tree of sums
      parts = [ctx.binary("add", parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
               for i in range(0, len(parts), 2)]
    res = parts[0]
  return _tr(ctx, res, np.argsort((ospec[0], *ospec[2:], ospec[1])))


def _conv_lower_outer(ctx, lhs, rhs, out, window_strides, padding, lhs_dilation,
                      rhs_dilation, dimension_numbers):
  """An ungrouped convolution with a large window and few output positions (a kernel
  gradient: the window is the image) as one dot_general in the operands' own layouts:
  for each output position the input's window (a strided slice), the windows
  concatenated along the input's batch dimension, contracted with the kernel over
  the input features and the window."""
  lspec, rspec, ospec, ksp, osp, n, _, o = _geometry(lhs, rhs, out, dimension_numbers)
  x = _pad_spatial(ctx, lhs, lspec[2:], padding, lhs_dilation)
  count, strides = list(x.aval.shape), [1] * x.aval.ndim
  for i, d in enumerate(lspec[2:]):
    count[d], strides[d] = ksp[i], rhs_dilation[i]
  wins = []
  for p in np.ndindex(*osp):
    start = [0] * x.aval.ndim
    for i, d in enumerate(lspec[2:]):
      start[d] = p[i] * window_strides[i]
    wins.append(_window_slice(ctx, x, start, count, strides))
  shp = list(count)
  shp[lspec[0]] = len(wins) * n
  pat = wins[0] if len(wins) == 1 else ctx.op(
      "stablehlo.concatenate", wins, wins[0].aval.update(shape=tuple(shp)),
      f"dimension = {lspec[0]} : i64")
  res = _dot(ctx, pat, rhs, ([], []), ([lspec[1], *lspec[2:]], [rspec[1], *rspec[2:]]),
             (len(wins) * n, o))
  res = mlir.reshape(ctx, res, (*osp, n, o))
  return _tr(ctx, res, np.argsort((*ospec[2:], ospec[0], ospec[1])))


conv_general_dilated_p.lower = _conv_general_dilated_lower


# ------------------------------------------------------------------ lax functions

def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None,
                         rhs_dilation=None, dimension_numbers=None, feature_group_count=1,
                         batch_group_count=1, precision=None, preferred_element_type=None,
                         out_sharding=None):
  """General n-dimensional convolution operator, with optional dilation."""
  lhs, rhs = _to_array(lhs), _to_array(rhs)
  dnums = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
  if lhs_dilation is None:
    lhs_dilation = (1,) * (lhs.ndim - 2)
  elif isinstance(padding, str) and any(d != 1 for d in lhs_dilation):
    raise ValueError("String padding is not implemented for transposed convolution using "
                     "this op. Please either exactly specify the required padding or use "
                     "conv_transpose.")
  if rhs_dilation is None:
    rhs_dilation = (1,) * (rhs.ndim - 2)
  if isinstance(padding, str):
    in_sp = [lhs.shape[d] for d in dnums.lhs_spec[2:]]
    k_sp = [_dilate_dim(rhs.shape[d], r) for d, r in zip(dnums.rhs_spec[2:], rhs_dilation)]
    padding = padtype_to_pads(in_sp, k_sp, window_strides, padding)
  else:
    try:
      padding = tuple((operator.index(lo), operator.index(hi)) for lo, hi in padding)
    except (ValueError, TypeError) as e:
      raise ValueError(f"padding argument to conv_general_dilated should be a string or a "
                       f"sequence of (low, high) pairs, got {padding}") from e
  pet = None if preferred_element_type is None else \
      dtypes.canonicalize_dtype(preferred_element_type)
  return conv_general_dilated_p.bind(
      lhs, rhs, window_strides=tuple(int(s) for s in window_strides),
      padding=tuple((int(lo), int(hi)) for lo, hi in padding),
      lhs_dilation=tuple(int(d) for d in lhs_dilation),
      rhs_dilation=tuple(int(d) for d in rhs_dilation),
      dimension_numbers=ConvDimensionNumbers(*(tuple(int(i) for i in s) for s in dnums)),
      feature_group_count=int(feature_group_count),
      batch_group_count=int(batch_group_count),
      precision=_canonicalize_precision(precision), preferred_element_type=pet,
      out_sharding=None)


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
  """Convenience wrapper around ``conv_general_dilated``."""
  return conv_general_dilated(lhs, rhs, window_strides, padding, precision=precision,
                              preferred_element_type=preferred_element_type)


def conv_with_general_padding(lhs, rhs, window_strides, padding, lhs_dilation,
                              rhs_dilation, precision=None, preferred_element_type=None):
  """Convenience wrapper around ``conv_general_dilated``."""
  return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation,
                              rhs_dilation=rhs_dilation, precision=precision,
                              preferred_element_type=preferred_element_type)


def _conv_transpose_padding(k, s, padding):
  """Before and after padding of one dimension of a transposed convolution."""
  if padding == "SAME":
    pad_len = k + s - 2
    pad_a = k - 1 if s > k - 1 else int(np.ceil(pad_len / 2))
  elif padding == "VALID":
    pad_len = k + s - 2 + max(k - s, 0)
    pad_a = k - 1
  elif isinstance(padding, tuple):
    pads = tuple(k - p - 1 for p in padding)
    pad_a = pads[0]
    pad_len = sum(pads)
  else:
    raise ValueError(f"Invalid padding mode: {padding}")
  return pad_a, pad_len - pad_a


def conv_transpose(lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None,
                   transpose_kernel=False, precision=None, preferred_element_type=None,
                   use_consistent_padding=False):
  """Convenience wrapper for calculating the N-d convolution "transpose"."""
  lhs, rhs = _to_array(lhs), _to_array(rhs)
  assert len(lhs.shape) == len(rhs.shape) and len(lhs.shape) >= 2
  ndims = lhs.ndim
  one = (1,) * (ndims - 2)
  if dimension_numbers is None:
    defaults = {2: ("NC", "IO", "NC"), 3: ("NHC", "HIO", "NHC"),
                4: ("NHWC", "HWIO", "NHWC"), 5: ("NHWDC", "HWDIO", "NHWDC")}
    if ndims not in defaults:
      raise ValueError("No 4+ dimensional dimension_number defaults.")
    dimension_numbers = defaults[ndims]
  dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
  k_sdims = [rhs.shape[d] for d in dn.rhs_spec[2:]]
  if rhs_dilation is None:
    rhs_dilation = (1,) * (rhs.ndim - 2)
  if use_consistent_padding or (isinstance(padding, str) and padding in {"SAME", "VALID"}):
    eff = [_dilate_dim(k, r) for k, r in zip(k_sdims, rhs_dilation)]
    rep = [padding] * len(strides) if isinstance(padding, str) else padding
    pads = tuple(_conv_transpose_padding(k, s, p) for k, s, p in zip(eff, strides, rep))
  else:
    pads = padding
  if transpose_kernel:  # flip the spatial dimensions, swap input and output features
    rhs = rev(rhs, tuple(dn.rhs_spec[2:]))
    perm = list(range(rhs.ndim))
    perm[dn.rhs_spec[0]], perm[dn.rhs_spec[1]] = dn.rhs_spec[1], dn.rhs_spec[0]
    rhs = transpose(rhs, perm)
  return conv_general_dilated(lhs, rhs, one, pads, strides, rhs_dilation, dn,
                             precision=precision,
                             preferred_element_type=preferred_element_type)


def conv_general_dilated_patches(lhs, filter_shape, window_strides, padding,
                                 lhs_dilation=None, rhs_dilation=None,
                                 dimension_numbers=None, precision=None,
                                 preferred_element_type=None):
  """Extracts the patches of ``conv_general_dilated``'s receptive field into the output
  feature dimension (ordered ``c`` then the spatial dimensions as in ``rhs_spec``)."""
  lhs = _to_array(lhs)
  filter_shape = tuple(filter_shape)
  dn = conv_dimension_numbers(lhs.shape, (1, 1) + filter_shape, dimension_numbers)
  lhs_spec, rhs_spec, _ = dn
  spatial = math.prod(filter_shape)
  nc = lhs.shape[lhs_spec[1]]
  eye = np.broadcast_to(np.eye(spatial, dtype=lhs.dtype), (nc, spatial, spatial))
  kernel = eye.reshape(nc * spatial, 1, *filter_shape)
  kernel = np.moveaxis(kernel, (0, 1), (rhs_spec[0], rhs_spec[1]))
  return conv_general_dilated(
      lhs, _to_array(np.ascontiguousarray(kernel)), window_strides, padding,
      lhs_dilation, rhs_dilation, dn, feature_group_count=nc,
      precision=None if precision is None else (precision, Precision.DEFAULT),
      preferred_element_type=preferred_element_type)


def conv_general_dilated_local(lhs, rhs, window_strides, padding, filter_shape,
                               lhs_dilation=None, rhs_dilation=None, dimension_numbers=None,
                               precision=None):
  """General n-dimensional unshared convolution (a locally connected layer)."""
  lhs = _to_array(lhs)
  c_precision = _canonicalize_precision(precision)
  if c_precision is None:
    lhs_precision = None
  elif isinstance(c_precision, tuple) and len(c_precision) == 2:
    lhs_precision = c_precision[0]
  else:
    raise ValueError(f"Unsupported precision for conv_general_dilated_local: {precision}")
  patches = conv_general_dilated_patches(lhs, filter_shape, window_strides, padding,
                                         lhs_dilation, rhs_dilation, dimension_numbers,
                                         lhs_precision)
  _, rhs_spec, out_spec = conv_dimension_numbers(lhs.shape, (1, 1) + tuple(filter_shape),
                                                 dimension_numbers)
  lhs_b, rhs_b = list(out_spec[2:]), list(rhs_spec[2:])
  rhs_b = [rhs_b[i] for i in sorted(range(len(rhs_b)), key=lambda k: lhs_b[k])]
  lhs_b = sorted(lhs_b)
  dn = (([out_spec[1]], [rhs_spec[1]]), (lhs_b, rhs_b))
  out = dot_general(patches, rhs, dimension_numbers=dn, precision=precision)
  nd = out.ndim
  src, dst = [nd - 2, nd - 1], [out_spec[0], out_spec[1]]
  order = [i for i in range(nd) if i not in src]
  for d, s in sorted(zip(dst, src)):
    order.insert(d, s)
  return transpose(out, order)

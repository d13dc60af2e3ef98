"""approx_max_k / approx_min_k: the approx_top_k primitive with all its rules.

On CPU XLA runs ApproxTopK's fallback: a sort of the whole reduction dimension with a
plain float comparator (GT for max, LT for min; -0.0 ties 0.0, ties keep index order)
sliced to the output size, i.e. exact results whatever ``recall_target`` says. pyjax
computes that, eager and under jit, with one stable sort. NaN, which that comparator
leaves unordered, is put first (where XLA's sort left it in JAX's tests); XLA's order
among NaNs and around them can differ for other inputs."""
from __future__ import annotations

import math

import numpy as np

from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.interpreters import ad
from pyjax._src.lax import slicing
from pyjax._src.lax.lax import (_canon_axis, broadcasted_iota, convert_element_type, ne, neg)
from pyjax._src.lax.sorting import _take_along_axis, sort_p
from pyjax._src.lax.utils import _float, _to_array, lower_lax as _lower_lax


def _reduction_output_size(n, rank, k, recall_target, aggregate_to_topk, override):
  """XLA's ApproxTopKReductionOutputSize (its CPU/TPU tiling: 1024 for rank 1, else
  128)."""
  if aggregate_to_topk:
    return k
  tiling = 1024 if rank == 1 else 128
  if n <= tiling:
    return n
  if 0 <= override < n:
    raise ValueError(f"reduction_input_size_override {override} must be at least the "
                     f"reduction dimension's size {n}")
  logical = override if override >= 0 else n
  m = min(max(int((1.0 - k) / math.log(recall_target)), tiling), n)
  log2_red = int(math.floor(math.log2(logical // m))) if logical // m > 0 else 0
  if log2_red == 0:
    return n
  log2_red = min(log2_red, int(math.ceil(math.log2(n // tiling))))
  return -(-(-(-n // tiling)) // (1 << log2_red)) * tiling


approx_top_k_p = Primitive("approx_top_k")
approx_top_k_p.multiple_results = True


def _approx_top_k_check(x: ShapedArray, *, k, reduction_dimension, recall_target, is_max_k,
                        reduction_input_size_override, aggregate_to_topk):
  if k <= 0:
    raise ValueError(f'k must be positive, got {k}')
  if x.ndim == 0:
    raise TypeError(f'approx_top_k operand must have >= 1 dimension, got {x.shape}')
  dims = list(x.shape)
  if dims[reduction_dimension] < k:
    raise ValueError('k must be smaller than the size of reduction_dim {}, got {}'.format(
        dims[reduction_dimension], k))
  if x.dtype not in _float:
    raise ValueError('operand must be a floating type')
  dims[reduction_dimension] = _reduction_output_size(
      dims[reduction_dimension], len(dims), k, recall_target, aggregate_to_topk,
      reduction_input_size_override)
  return [ShapedArray(tuple(dims), x.dtype, x.weak_type),
          ShapedArray(tuple(dims), np.dtype(np.int32))]


def _approx_top_k_lax(x, *, k, reduction_dimension, recall_target, is_max_k,
                      reduction_input_size_override, aggregate_to_topk):
  axis = _canon_axis(reduction_dimension, x.ndim)
  out = _approx_top_k_check(x.aval if hasattr(x, "aval") else x, k=k,
                            reduction_dimension=reduction_dimension,
                            recall_target=recall_target, is_max_k=is_max_k,
                            reduction_input_size_override=reduction_input_size_override,
                            aggregate_to_topk=aggregate_to_topk)
  size = out[0].shape[axis]
  iota_ = broadcasted_iota(np.int32, x.shape, axis)
  not_nan = convert_element_type(ne(x, x), np.int8)
  not_nan = neg(not_nan)  # NaN first: key -1
  key = neg(x) if is_max_k else x
  _, _, vals, idx = sort_p.bind(not_nan, key, x, iota_, dimension=axis, is_stable=True,
                                num_keys=2)
  return [slicing.slice_in_dim(vals, 0, size, axis=axis),
          slicing.slice_in_dim(idx, 0, size, axis=axis)]


def _approx_top_k_impl(x, **params):
  return _approx_top_k_lax(x, **params)


def _approx_top_k_jvp(primals, tangents, **params):
  x, = primals
  t, = tangents
  vals, idx = approx_top_k_p.bind(x, **params)
  axis = _canon_axis(params["reduction_dimension"], x.ndim)
  tout = _take_along_axis(t, idx, axis) if type(t) is not ad.Zero else \
      ad.Zero(ad.tangent_aval(vals.aval))
  return [vals, idx], [tout, ad.Zero(ad.tangent_aval(idx.aval))]


def _approx_top_k_batch(vals, dims, *, reduction_dimension, **params):
  x, d = vals[0], dims[0]
  axis = _canon_axis(reduction_dimension, x.ndim - 1)
  return approx_top_k_p.bind(x, reduction_dimension=axis + (d <= axis), **params), [d, d]


approx_top_k_p.def_impl(_approx_top_k_impl)
approx_top_k_p.def_abstract_eval(_approx_top_k_check)
approx_top_k_p.jvp = _approx_top_k_jvp
approx_top_k_p.batch = _approx_top_k_batch
approx_top_k_p.lower = _lower_lax(_approx_top_k_lax)


def _approx_k(operand, k, reduction_dimension, recall_target, is_max_k,
              reduction_input_size_override, aggregate_to_topk):
  operand = _to_array(operand)
  return tuple(approx_top_k_p.bind(
      operand, k=k, reduction_dimension=reduction_dimension, recall_target=recall_target,
      is_max_k=is_max_k, reduction_input_size_override=reduction_input_size_override,
      aggregate_to_topk=aggregate_to_topk))


def approx_max_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True):
  """The ``k`` largest values along ``reduction_dimension`` and their indices (exact on
  CPU, as XLA's fallback)."""
  return _approx_k(operand, k, reduction_dimension, recall_target, True,
                   reduction_input_size_override, aggregate_to_topk)


def approx_min_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True):
  """The ``k`` smallest values along ``reduction_dimension`` and their indices."""
  return _approx_k(operand, k, reduction_dimension, recall_target, False,
                   reduction_input_size_override, aggregate_to_topk)

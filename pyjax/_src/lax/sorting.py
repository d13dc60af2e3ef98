"""sort and top_k, one block each with all its rules, and their lax functions."""
from __future__ import annotations

import operator

import numpy as np

from pyjax._src import dtypes
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.interpreters import ad, batching
from pyjax._src.lax import slicing
from pyjax._src.lax.lax import (_canon_axis, _const, add_p, bitcast_convert_type, bitwise_and,
                                bitwise_not, bitwise_xor, broadcast_in_dim_p,
                                broadcasted_iota, convert_element_type, lt_p, reshape,
                                select_n_p, shift_right_arithmetic)
from pyjax._src.lax.utils import _real_dtype, _to_array, lower_lax as _lower_lax


sort_p = Primitive("sort")
sort_p.multiple_results = True


def _sort_check(*xs: ShapedArray, dimension, is_stable, num_keys):
  if not xs:
    raise TypeError("Sort requires at least one operand")
  if not 1 <= num_keys <= len(xs):
    raise ValueError(f"num_keys={num_keys} must be between 1 and len(operand)={len(xs)}")
  if any(x.shape != xs[0].shape for x in xs):
    raise TypeError(f"Arguments to sort must have equal shapes, got: "
                    f"{' '.join(str(x.shape) for x in xs)}")
  if not 0 <= dimension < xs[0].ndim:
    raise ValueError(f"sort dimension {dimension} out of bounds for shape {xs[0].shape}")
  return list(xs)


def _sort_keys(v):
  """Key columns, primary first, giving JAX's sort order for floats:
  -inf < ... < 0.0 < ... < inf < NaN, where -0.0 ties 0.0 and all NaNs tie (a stable
  sort keeps their order); complex values order by (real, imag)."""
  if v.dtype.kind == "c":
    return _sort_keys(np.real(v)) + _sort_keys(np.imag(v))
  if v.dtype.kind == "f" or v.dtype == dtypes.bfloat16:
    f = v.astype(np.float64)
    nan = np.isnan(f)
    return [nan, np.where(nan, 0.0, f) + 0.0]  # (+ 0.0: -0.0 becomes 0.0)
  return [v]


def _sort_impl(*xs, dimension, is_stable, num_keys):
  _sort_check(*(x.aval for x in xs), dimension=dimension, is_stable=is_stable,
              num_keys=num_keys)
  vals = [np.asarray(x._value) for x in xs]
  keys = [k for v in vals[:num_keys] for k in _sort_keys(v)]
  moved = [np.moveaxis(k, dimension, -1) for k in reversed(keys)]  # lexsort: last is primary
  perm = np.lexsort(moved, axis=-1)
  return [ArrayImpl(np.moveaxis(np.take_along_axis(np.moveaxis(v, dimension, -1), perm, -1),
                                -1, dimension), x.weak_type) for v, x in zip(vals, xs)]


sort_p.def_impl(_sort_impl)
sort_p.def_abstract_eval(_sort_check)
sort_p.sharding_rule = lambda *xs, **_: [x.sharding for x in xs]  # JAX's: as the operands
def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
  shape = primals[0].shape
  idx_dtype = np.dtype(np.int32)
  iota_ = broadcasted_iota(idx_dtype, shape, dimension)
  *outs, perm = sort_p.bind(*primals, iota_, dimension=dimension, is_stable=is_stable,
                            num_keys=num_keys)
  touts = [t if type(t) is ad.Zero else _take_along_axis(t, perm, dimension)
           for t in tangents]
  return outs, touts


def _take_along_axis(t, perm, axis):
  """``t`` reordered by ``perm`` (int32, t's shape but along ``axis``) along ``axis``: the
  gather, with the same operations, that ``jnp.take_along_axis(t, perm, axis)`` binds."""
  shape, ishape = t.shape, perm.shape
  cols = []
  for d, n in enumerate(shape):
    if d == axis:  # normalized as a possibly negative index: perm < 0 ? perm + n : perm
      i = select_n_p.bind(lt_p.bind(perm, ArrayImpl(np.asarray(0, np.int32)[()], True)),
                          perm, add_p.bind(perm, ArrayImpl(np.asarray(n, np.int32)[()])))
    else:  # arange along d, broadcast to perm's shape
      m = ishape[d]
      i = ArrayImpl(np.arange(m, dtype=np.int32).reshape([m if k == d else 1
                                                           for k in range(len(shape))]))
      keep = tuple(k for k, c in enumerate(i.shape) if c == ishape[k])
      if len(keep) != len(shape):
        i = broadcast_in_dim_p.bind(reshape(i, tuple(i.shape[k] for k in keep)),
                                    shape=ishape, broadcast_dimensions=keep, sharding=None)
    cols.append(broadcast_in_dim_p.bind(i, shape=(*ishape, 1), broadcast_dimensions=tuple(
        range(len(shape))), sharding=None))
  indices = cols[0] if len(cols) == 1 else slicing.concatenate_p.bind(*cols, dimension=len(shape))
  dims = tuple(range(len(shape)))
  dn = slicing.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=dims,
                                      start_index_map=dims, operand_batching_dims=(),
                                      start_indices_batching_dims=())
  return slicing.gather(t, indices, dn, (1,) * len(shape), indices_are_sorted=False,
                        unique_indices=False, mode=slicing.GatherScatterMode.FILL_OR_DROP)


sort_p.jvp = _sort_jvp


def _sort_key_lt(b, x, y):
  """(x < y, x == y) in the impl's total order (see ``_sort_keys``) for scalar Vals."""
  dt = x.aval.dtype
  if dt.kind == "c":
    rdt = _real_dtype(dt)
    parts = [(b.unary("real", x, rdt), b.unary("real", y, rdt)),
             (b.unary("imag", x, rdt), b.unary("imag", y, rdt))]
    cols = [c for px, py in parts for c in _float_sort_cols(b, px, py)]
  elif dt.kind == "f" or dt == dtypes.bfloat16:
    cols = _float_sort_cols(b, x, y)
  else:
    cols = [(x, y)]
  return _lex_lt(b, cols)


def _float_sort_cols(b, x, y):
  dt = x.aval.dtype

  def key(v):  # (the compare is a float one: -0.0 == 0.0)
    nan = b.compare("NE", v, v)
    return nan, b.select(nan, b.full(0, (), dt), v)
  return list(zip(key(x), key(y)))


def _lex_lt(b, cols):
  lt = eq = None
  for cx, cy in reversed(cols):
    c_lt, c_eq = b.compare("LT", cx, cy), b.compare("EQ", cx, cy)
    if lt is None:
      lt, eq = c_lt, c_eq
    else:
      lt = b.binary("or", c_lt, b.binary("and", c_eq, lt))
      eq = b.binary("and", c_eq, eq)
  return lt, eq


def _sort_lower(ctx, *xs, dimension, is_stable, num_keys):
  # IREE's sort is not stable: an iota operand breaks ties by position.
  pos = ctx.op("stablehlo.iota", [], ShapedArray(xs[0].aval.shape, np.int32),
               f"iota_dimension = {dimension} : i64")
  # IREE cannot compile a sort of rank >= 2 with two operands that are iotas along
  # the sort dimension fused into it (argsort's and ours); a barrier keeps them out.
  # IREE sorts in place in its operands' buffers, and the barrier's results share the
  # buffers of its operands: a value with other uses (or an equal iota IREE merged with
  # ours) would be seen sorted there. Passing the barrier's results on through a second
  # barrier after the sort gives them a later use, so IREE sorts copies of them.
  ops = ctx.op("stablehlo.optimization_barrier", [*xs, pos],
               [x.aval for x in xs] + [pos.aval])
  scal = [ShapedArray((), x.aval.dtype) for x in ops]

  def body(b, *args):
    cols = [_sort_key_lt(b, args[2 * k], args[2 * k + 1]) for k in range(num_keys)]
    n = 2 * len(xs)
    cols.append((b.compare("LT", args[n], args[n + 1]), None))
    out = None
    for lt, eq in reversed(cols):
      out = lt if out is None else b.binary("or", lt, b.binary("and", eq, out))
    return [out]

  reg = ctx.region([a for s in scal for a in (s, s)], body)
  outs = ctx.op("stablehlo.sort", ops, [x.aval for x in ops],
                f"dimension = {dimension} : i64, is_stable = true", [reg])
  keep = ctx.op("stablehlo.optimization_barrier", [*outs[:-1], *ops],
                [x.aval for x in outs[:-1]] + [x.aval for x in ops])
  return keep[:len(xs)]


sort_p.lower = _sort_lower


def _sort_batch(vals, dims, *, dimension, is_stable, num_keys):
  size = batching.batch_size(vals, dims)
  xs = [batching.bdim_at_front(x, d, size) for x, d in zip(vals, dims)]
  return (sort_p.bind(*xs, dimension=dimension + 1, is_stable=is_stable, num_keys=num_keys),
          [0] * len(xs))


sort_p.batch = _sort_batch


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
  if isinstance(operand, (tuple, list)):
    if not operand:
      raise TypeError("Sort requires at least one operand")
    if not 1 <= num_keys <= len(operand):
      raise ValueError(f"num_keys={num_keys} must be between 1 and len(operand)={len(operand)}")
    ops = [_to_array(o) for o in operand]
    d = _canon_axis(dimension, ops[0].ndim)
    return tuple(sort_p.bind(*ops, dimension=d, is_stable=bool(is_stable),
                             num_keys=int(num_keys)))
  operand = _to_array(operand)
  d = _canon_axis(dimension, operand.ndim)
  return sort_p.bind(operand, dimension=d, is_stable=bool(is_stable), num_keys=1)[0]


def sort_key_val(keys, values, dimension=-1, is_stable=True):
  k, v = sort((keys, values), dimension, is_stable, num_keys=1)
  return k, v


# ---------------------------------------------------------------- top_k
# The k largest along ``axis`` in XLA's total order (NaN > inf > ... > 0.0 > -0.0 >
# ... > -NaN), ties by index: one stable sort of the order's integer key, inverted,
# carrying the values and an iota. Eager and jit run the same lax function.


def _descending_key(x):
  """An integer (or bool-as-uint8) key whose ascending order is ``x``'s descending total
  order."""
  dt = x.dtype
  if dt == np.bool_:
    x = convert_element_type(x, np.uint8)
  elif dt.kind == "f" or dt == dtypes.bfloat16:
    it = np.dtype(f"i{dt.itemsize}")
    i = bitcast_convert_type(x, it)
    sign = shift_right_arithmetic(i, _const(i, 8 * dt.itemsize - 1))
    x = bitwise_xor(i, bitwise_and(sign, _const(i, np.iinfo(it).max)))
  return bitwise_not(x)


def _top_k_lax(x, *, k, axis):
  iota_ = broadcasted_iota(np.int32, x.shape, axis)
  _, vals, idx = sort_p.bind(_descending_key(x), x, iota_, dimension=axis, is_stable=True,
                             num_keys=1)
  return [slicing.slice_in_dim(vals, 0, k, axis=axis),
          slicing.slice_in_dim(idx, 0, k, axis=axis)]


top_k_p = Primitive("top_k")
top_k_p.multiple_results = True


def _top_k_check(x: ShapedArray, *, k, axis):
  if x.dtype.kind == "c":
    raise ValueError("top_k is not compatible with complex inputs.")
  if k < 0:
    raise ValueError(f"k argument to top_k must be nonnegative, got {k}")
  if x.ndim == 0:
    raise TypeError(f"top_k operand must have >= 1 dimension, got {x.shape}")
  if not 0 <= axis < x.ndim:
    raise ValueError(f"axis argument out of range: axis={axis} for operand.shape={x.shape}")
  shape = list(x.shape)
  if shape[axis] < k:
    raise ValueError("k argument to top_k must be no larger than size along axis;"
                     f" got k={k} with shape={shape} and axis={axis}")
  shape[axis] = k
  return [ShapedArray(tuple(shape), x.dtype, x.weak_type),
          ShapedArray(tuple(shape), np.dtype(np.int32))]


def _top_k_impl(x, *, k, axis):
  _top_k_check(x.aval, k=k, axis=axis)
  return _top_k_lax(x, k=k, axis=axis)


def _top_k_jvp(primals, tangents, *, k, axis):
  x, = primals
  t, = tangents
  vals, idx = top_k_p.bind(x, k=k, axis=axis)
  tout = _take_along_axis(t, idx, axis) if type(t) is not ad.Zero else \
      ad.Zero(ad.tangent_aval(vals.aval))
  return [vals, idx], [tout, ad.Zero(ad.tangent_aval(idx.aval))]


def _top_k_batch(vals, dims, *, k, axis):
  x, d = vals[0], dims[0]
  return top_k_p.bind(x, k=k, axis=axis + (d <= axis)), [d, d]


top_k_p.def_impl(_top_k_impl)
top_k_p.def_abstract_eval(_top_k_check)
top_k_p.sharding_rule = lambda x, **_: [x.sharding, x.sharding]  # JAX's
top_k_p.jvp = _top_k_jvp
top_k_p.batch = _top_k_batch
top_k_p.lower = _lower_lax(_top_k_lax)


def top_k(operand, k, *, axis=-1):
  """The ``k`` largest entries along ``axis`` and their int32 indices, largest first."""
  operand = _to_array(operand)
  if operand.ndim == 0:
    raise ValueError(f"axis {axis} is out of bounds for array of dimension 0")
  k = operator.index(k)
  return top_k_p.bind(operand, k=k, axis=_canon_axis(axis, operand.ndim))

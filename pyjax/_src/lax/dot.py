"""dot_general, one block with all its rules, with its precision enum and the lax
functions dot_general and dot."""
from __future__ import annotations

import enum
import math
from typing import Any, NamedTuple, Sequence, Union

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import lowering as mlir
from pyjax._src.lax.cpu_numerics import tree_reduce
from pyjax._src.lax.conversions import _convert_element_type, _convert_lower, _convert_np
from pyjax._src.lax import lax
from pyjax._src.lax.lax import transpose_p
from pyjax._src.lax.reductions import cumsum
from pyjax._src.lax.utils import _real_dtype, _to_array
from pyjax._src.lax.utils import (ShardingTypeError, canon_out_sharding, make_sharding,
                                  mesh_of, param_sharding, spec_of, typed)
from pyjax._src.sharding import NamedSharding, PartitionSpec


class Precision(enum.Enum):
  DEFAULT = 0
  HIGH = 1
  HIGHEST = 2

  def __str__(self):
    return self.name


class DotAlgorithm(NamedTuple):
  """An algorithm for dot products: the operands' and accumulation's types (XLA's CPU
  backend accepts the presets listed in ``_CPU_ALGORITHMS`` only)."""
  lhs_precision_type: Any
  rhs_precision_type: Any
  accumulation_type: Any
  lhs_component_count: int = 1
  rhs_component_count: int = 1
  num_primitive_operations: int = 1
  allow_imprecise_accumulation: bool = False


class DotAlgorithmPreset(enum.Enum):
  """JAX's named dot algorithms; ``precision=`` takes one (or its name)."""
  DEFAULT = enum.auto()
  ANY_F8_ANY_F8_F32 = enum.auto()
  ANY_F8_ANY_F8_F32_FAST_ACCUM = enum.auto()
  ANY_F8_ANY_F8_ANY = enum.auto()
  ANY_F8_ANY_F8_ANY_FAST_ACCUM = enum.auto()
  F16_F16_F16 = enum.auto()
  F16_F16_F32 = enum.auto()
  BF16_BF16_BF16 = enum.auto()
  BF16_BF16_F32 = enum.auto()
  BF16_BF16_F32_X3 = enum.auto()
  BF16_BF16_F32_X6 = enum.auto()
  BF16_BF16_F32_X9 = enum.auto()
  TF32_TF32_F32 = enum.auto()
  TF32_TF32_F32_X3 = enum.auto()
  F32_F32_F32 = enum.auto()
  F64_F64_F64 = enum.auto()

  def __repr__(self) -> str:
    return self.name

  def __str__(self) -> str:
    return self.name

  @property
  def supported_lhs_types(self):
    n = self.name
    if n == "DEFAULT" or n.startswith("ANY_F8"):
      return None
    if n.startswith("F16"):
      return (np.dtype(np.float16),)
    if n in ("BF16_BF16_BF16", "BF16_BF16_F32"):
      return (dtypes.bfloat16, np.dtype(np.float32))
    if n == "F64_F64_F64":
      return (np.dtype(np.float64),)
    return (np.dtype(np.float32),)

  @property
  def supported_rhs_types(self):
    return self.supported_lhs_types

  @property
  def accumulation_type(self):
    n = self.name
    if n in ("DEFAULT", "ANY_F8_ANY_F8_ANY", "ANY_F8_ANY_F8_ANY_FAST_ACCUM"):
      return None
    return {"F16_F16_F16": np.dtype(np.float16), "BF16_BF16_BF16": dtypes.bfloat16,
            "F64_F64_F64": np.dtype(np.float64)}.get(n, np.dtype(np.float32))

  def supported_output_types(self, lhs_dtype, rhs_dtype):
    n = self.name
    if n.startswith("ANY_F8_ANY_F8_F32"):
      return (np.dtype(np.float32), np.dtype(np.float16), dtypes.bfloat16)
    if n in ("F16_F16_F32", "BF16_BF16_F32"):
      half = np.dtype(np.float16) if n.startswith("F16") else dtypes.bfloat16
      both = dtypes.promote_types(lhs_dtype, rhs_dtype) == half
      return (np.dtype(np.float32), half) if both else (np.dtype(np.float32),)
    acc = self.accumulation_type
    return None if acc is None else (acc,)


# The algorithms XLA's CPU backend runs (JAX raises for the others on CPU).
_CPU_ALGORITHMS = {DotAlgorithmPreset.DEFAULT, DotAlgorithmPreset.F16_F16_F16,
                   DotAlgorithmPreset.F32_F32_F32, DotAlgorithmPreset.F64_F64_F64,
                   DotAlgorithmPreset.BF16_BF16_F32, DotAlgorithmPreset.BF16_BF16_F32_X3,
                   DotAlgorithmPreset.BF16_BF16_F32_X6}


def _algorithm_types(precision, xdt, ydt, out_dt):
  """(lhs, rhs, accumulation) dtypes of a dot run with ``precision``, an algorithm:
  JAX's get_algorithm_compute_types; ValueError for those CPU does not run."""
  if precision not in _CPU_ALGORITHMS:
    raise ValueError(f"The precision '{precision}' is not supported by dot_general on CPU")

  def conv(dt, targets):
    if targets is None or np.dtype(dt) in targets:
      return np.dtype(dt)
    return np.dtype(targets[0])

  ld = conv(xdt, precision.supported_lhs_types)
  rd = conv(ydt, precision.supported_rhs_types)
  return ld, rd, conv(out_dt, precision.supported_output_types(ld, rd))


def _is_algorithm(precision):
  return isinstance(precision, (DotAlgorithm, DotAlgorithmPreset))


def canonicalize_precision(precision):
  """A preset's name becomes the preset; everything else is left as it is."""
  if isinstance(precision, str) and precision in DotAlgorithmPreset.__members__:
    return DotAlgorithmPreset[precision]
  return precision


dot_general_p = Primitive("dot_general")


def _dot_general_check(x: ShapedArray, y: ShapedArray, *, dimension_numbers,
                       precision=None, preferred_element_type=None, out_sharding=None):
  (xc, yc), (xb, yb) = dimension_numbers
  if not xb and not yb and len(xc) == 1 and len(yc) == 1:  # one contraction, no batch
    (cx,), (cy,) = xc, yc
    xs, ys = x.shape, y.shape
    if 0 <= cx < len(xs) and 0 <= cy < len(ys) and xs[cx] == ys[cy]:
      out_dtype, _ = _dot_general_dtypes(x.dtype, y.dtype, preferred_element_type)
      return ShapedArray((*xs[:cx], *xs[cx + 1:], *ys[:cy], *ys[cy + 1:]), out_dtype,
                         x.weak_type and y.weak_type)
  for side, v, c, b in (("lhs", x, xc, xb), ("rhs", y, yc, yb)):
    if not all(0 <= d < v.ndim for d in (*c, *b)):
      raise TypeError(f"dot_general requires {side} dimension numbers to be nonnegative and "
                      f"less than the number of axes of the {side} value, got {side}_batch of "
                      f"{b} and {side}_contracting of {c} for {side} of rank {v.ndim}")
  if len(xb) != len(yb):
    raise TypeError(f"dot_general requires equal numbers of lhs_batch and rhs_batch "
                    f"dimensions, got lhs_batch {xb} and rhs_batch {yb}.")
  for side, what, d in (("lhs", "batch", xb), ("rhs", "batch", yb),
                        ("lhs", "contracting", xc), ("rhs", "contracting", yc)):
    if len(set(d)) != len(d):
      raise TypeError(f"dot_general requires {side} {what} dimensions to be distinct, got "
                      f"{side}_{what} {d}.")
  for side, c, b in (("lhs", xc, xb), ("rhs", yc, yb)):
    if set(c) & set(b):
      raise TypeError(f"dot_general requires {side} batch dimensions to be disjoint from "
                      f"contracting dimensions, got {side}_batch {b} and {side}_contracting "
                      f"{c}.")
  if tuple(x.shape[d] for d in xb) != tuple(y.shape[d] for d in yb):
    raise TypeError(f"dot_general requires lhs batch dimensions and rhs batch dimensions "
                    f"to have the same shape, got {tuple(x.shape[d] for d in xb)} and "
                    f"{tuple(y.shape[d] for d in yb)}.")
  if tuple(x.shape[d] for d in xc) != tuple(y.shape[d] for d in yc):
    raise TypeError(f"dot_general requires contracting dimensions to have the same "
                    f"shape, got {tuple(x.shape[d] for d in xc)} and "
                    f"{tuple(y.shape[d] for d in yc)}.")
  out_dtype, _ = _dot_general_dtypes(x.dtype, y.dtype, preferred_element_type)
  batch = [x.shape[d] for d in xb]
  xfree = [s for i, s in enumerate(x.shape) if i not in xc and i not in xb]
  yfree = [s for i, s in enumerate(y.shape) if i not in yc and i not in yb]
  return ShapedArray((*batch, *xfree, *yfree), out_dtype, x.weak_type and y.weak_type)


def _dot_type_rank(dt):
  """XLA's order of operand types (HigherPrecisionType): the higher one wins."""
  real = _real_dtype(dt)
  fl = real.kind == "f" or real == dtypes.bfloat16
  return (dt.kind == "c", dtypes.finfo(real).maxexp if fl else -1,
          dtypes.finfo(real).nmant if fl else -1, 1 if dt == np.bool_ else real.itemsize * 8,
          real.kind != "u")


def _dot_general_dtypes(xdt, ydt, preferred_element_type):
  """(result dtype, compute dtype) of a dot_general as JAX runs it on CPU: the operands
  are converted (saturating) to the compute dtype, the products accumulate there (half
  floats in float32), and the sum is converted (saturating) to the result dtype."""
  if xdt == ydt and (preferred_element_type is None or preferred_element_type == xdt):
    return xdt, xdt  # the common case, without ranking the types
  rx, ry = _dot_type_rank(xdt), _dot_type_rank(ydt)
  if rx == ry and xdt != ydt:
    raise TypeError(f"lax.dot_general argument type error: {xdt}, {ydt}")
  res = xdt if rx >= ry else ydt
  pet = None if preferred_element_type is None else np.dtype(preferred_element_type)
  out = res if pet is None else pet
  if (out != res and res.kind != "f" and res != dtypes.bfloat16 and
      _dot_type_rank(pet)[3] < _dot_type_rank(res)[3]):
    raise TypeError(f"`preferred_element_type` must not be narrower than the original "
                    f"type, got preferred_element_type of {pet} for result type of {res}.")
  if out == res or xdt != ydt:  # mixed operands: both become the result type
    return out, out
  if res.kind in "fc" or res == dtypes.bfloat16:  # accumulate in the wider of the two
    wider = pet.kind in "fc" or pet == dtypes.bfloat16
    return pet, pet if wider and pet.itemsize > res.itemsize else res
  return pet, pet


def _gemv_f32(x, y):
  """XLA's CPU matrix-vector product for fewer than 8 terms: one FMA per term, in
  order (its vectorized tiles take longer rows; NumPy's sum is within an ulp there)."""
  acc = np.zeros(x.shape[:-1], np.float32)
  for k in range(y.shape[0]):
    acc = (x[..., k].astype(np.float64) * np.float64(y[k]) + acc).astype(np.float32)
  return acc


def _dot_general_np(x, y, dimension_numbers, out_dtype, compute):
  (xc, yc), (xb, yb) = dimension_numbers
  if (not xb and y.ndim <= 2 and xc == (x.ndim - 1,) and yc in ((0,), (y.ndim - 1,))
      and x.dtype == y.dtype == out_dtype == compute and out_dtype.kind in "fc"
      and out_dtype.itemsize >= 4 and (x.ndim > 1 or x.size <= 16 * _K_BLOCK)):
    if y.ndim == 1 and x.shape[-1] < 8 and out_dtype == np.float32:
      return _gemv_f32(x, y)
    return np.dot(x, y if yc == (0,) else y.T)  # plain matrix/vector product
  xf = [i for i in range(x.ndim) if i not in xc and i not in xb]
  yf = [i for i in range(y.ndim) if i not in yc and i not in yb]
  # Move to (batch, free, contract) / (batch, contract, free) and use matmul.
  xt = x.transpose((*xb, *xf, *xc))
  yt = y.transpose((*yb, *yc, *yf))
  b = [x.shape[d] for d in xb]
  m = math.prod(x.shape[d] for d in xf)
  n = math.prod(y.shape[d] for d in yf)
  k = math.prod(x.shape[d] for d in xc)
  acc = {np.dtype(np.bool_): np.dtype(np.int32), dtypes.bfloat16: np.dtype(np.float32),
         np.dtype(np.float16): np.dtype(np.float32)}.get(compute, compute)
  xt, yt = (_convert_np(_convert_np(v, compute), acc) for v in (xt, yt))
  if m == n == 1 and k > 16 * _K_BLOCK and acc.kind in "fc":  # BLAS sums in sequence
    out = tree_reduce(np.add, xt.reshape(*b, k) * yt.reshape(*b, k), (len(b),))
    out = out.reshape(*b, 1, 1)
  else:
    out = np.matmul(xt.reshape(*b, m, k), yt.reshape(*b, k, n))
  if compute != acc and compute != np.bool_ or compute.kind in "iu":
    out = out.astype(compute)  # (integer products wrap; half floats round)
  out = _convert_np(out, out_dtype)
  return out.reshape((*b, *(x.shape[d] for d in xf), *(y.shape[d] for d in yf)))


def _dot_general_impl(x, y, *, dimension_numbers, precision=None,
                      preferred_element_type=None, out_sharding=None):
  aval = _dot_general_check(x.aval, y.aval, dimension_numbers=dimension_numbers,
                            preferred_element_type=preferred_element_type)
  if _is_algorithm(precision):  # operands in the algorithm's types, its accumulation
    ld, rd, acc = _algorithm_types(precision, x.dtype, y.dtype, aval.dtype)
    r = _dot_general_impl(_convert_element_type(x, ld, False),
                          _convert_element_type(y, rd, False),
                          dimension_numbers=dimension_numbers, preferred_element_type=acc)
    return _convert_element_type(r, aval.dtype, aval.weak_type)
  _, compute = _dot_general_dtypes(x.dtype, y.dtype, preferred_element_type)
  out = _dot_general_np(np.asarray(x._value), np.asarray(y._value), dimension_numbers,
                        aval.dtype, compute)
  return ArrayImpl(np.asarray(out, aval.dtype), aval.weak_type)


def _dot_general_pp(params):
  (xc, yc), (xb, yb) = params["dimension_numbers"]
  out = {"dimension_numbers": _DimNums(f"(({list(xc)}, {list(yc)}), ({list(xb)}, {list(yb)}))")}
  for k in ("precision", "preferred_element_type"):  # out_sharding: in the type
    if params.get(k) is not None:
      out[k] = params[k]
  return out


class _DimNums(str):
  pass


dot_general_p.def_impl(_dot_general_impl)
dot_general_p.def_abstract_eval(lambda x, y, *, out_sharding=None, **params: typed(
    _dot_general_check(x, y, **params), out_sharding))


def _dot_general_sharding_rule(x, y, *, dimension_numbers, out_sharding=None, **_):
  """JAX's: batch dimensions, then the lhs's free ones, then the rhs's keep their
  shardings; a contraction over dimensions sharded on both sides needs
  ``out_sharding``."""
  mesh = mesh_of(x, y)
  if out_sharding is not None:
    return param_sharding(out_sharding, _dot_out_ndim(x, y, dimension_numbers))
  (xc, yc), (xb, yb) = dimension_numbers
  xs, ys = spec_of(x), spec_of(y)
  xcs, ycs = tuple(xs[i] for i in xc), tuple(ys[i] for i in yc)
  xbs, ybs = tuple(xs[i] for i in xb), tuple(ys[i] for i in yb)
  _specs_match(xbs, ybs, f"dot_general requires lhs batch dimensions and rhs batch "
               f"dimensions to have the consistent sharding, got {xbs} and {ybs}.")
  _specs_match(xcs, ycs, f"dot_general requires contracting dimensions to have "
               f"consistent sharding, got {xcs} and {ycs}.")
  for a, b in zip(xcs, ycs):
    if a is not None and b is not None:
      raise ShardingTypeError(
          f"Contracting dimensions are sharded and it is ambiguous how the output should "
          f"be sharded. Please specify the output sharding via the `out_sharding` "
          f"parameter. Got lhs_contracting_spec={xcs} and rhs_contracting_spec={ycs}")
  parts = [*xbs, *(p for i, p in enumerate(xs) if i not in xc and i not in xb),
           *(p for i, p in enumerate(ys) if i not in yc and i not in yb)]
  return make_sharding(mesh, parts)  # one axis on two dimensions: JAX's error


def _specs_match(a, b, msg):
  for p, q in zip(a, b):
    if p is not None and q is not None and p != q:
      raise ShardingTypeError(msg)


def _dot_out_ndim(x, y, dimension_numbers):
  (xc, yc), (xb, yb) = dimension_numbers
  return x.ndim + y.ndim - 2 * len(xc) - len(xb)


dot_general_p.sharding_rule = _dot_general_sharding_rule
dot_general_p.pp_params = _dot_general_pp
def _ranges_like(*xs):
  start = 0
  for x in xs:
    yield list(range(start, start + len(x)))
    start += len(x)


def _dot_general_transpose_lhs(ct, x, y, *, dimension_numbers, precision=None,
                               preferred_element_type=None, out_sharding=None, swap_ans=False):
  (xc, yc), (xb, yb) = dimension_numbers
  x_ndim, y_ndim = x.aval.ndim, core.get_aval(y).ndim
  x_kept = [i for i in range(x_ndim) if i not in xc and i not in xb]
  y_kept = [i for i in range(y_ndim) if i not in yc and i not in yb]
  if swap_ans:
    ans_batch, ans_y, _ = _ranges_like(xb, y_kept, x_kept)
  else:
    ans_batch, _, ans_y = _ranges_like(xb, x_kept, y_kept)
  dims = ((tuple(ans_y), tuple(y_kept)), (tuple(ans_batch), tuple(yb)))
  xc_sorted_by_y = [xc[i] for i in np.argsort(yc)]
  unsorted = list(xb) + x_kept + xc_sorted_by_y
  out_axes = tuple(int(i) for i in np.argsort(unsorted))
  ds = None  # JAX's: the cotangent comes out split as the operand
  if core.sharded_types:
    mesh = mesh_of(core.get_aval(ct), core.get_aval(y), x.aval)
    if mesh is not None:
      xs = spec_of(x.aval)
      ds = NamedSharding(mesh, PartitionSpec(*(xs[o] for o in unsorted)))
  r = dot_general_p.bind(ct, y, dimension_numbers=dims, precision=precision,
                         preferred_element_type=preferred_element_type, out_sharding=ds)
  if tuple(out_axes) != tuple(range(len(out_axes))):  # (JAX skips identity transposes)
    r = transpose_p.bind(r, permutation=out_axes)
  if r.dtype != x.aval.dtype:
    r = _convert_element_type(r, x.aval.dtype, x.aval.weak_type)
  return r


def _dot_general_transpose(ct, x, y, *, dimension_numbers, precision=None,
                           preferred_element_type=None, out_sharding=None):
  (xc, yc), (xb, yb) = dimension_numbers
  if ad.is_undefined_primal(x) and ad.is_undefined_primal(y):
    raise ValueError("dot_general transpose: both operands are linear.")
  if ad.is_undefined_primal(x):
    return [_dot_general_transpose_lhs(ct, x, y, dimension_numbers=dimension_numbers,
                                       precision=precision,
                                       preferred_element_type=preferred_element_type), None]
  swapped = ((yc, xc), (yb, xb))
  return [None, _dot_general_transpose_lhs(ct, y, x, dimension_numbers=swapped,
                                           precision=precision,
                                           preferred_element_type=preferred_element_type,
                                           swap_ans=True)]


ad.defjvp(dot_general_p,
          lambda t, x, y, **params: dot_general_p.bind(t, y, **params),
          lambda t, x, y, **params: dot_general_p.bind(x, t, **params))
dot_general_p.transpose = _dot_general_transpose


_K_BLOCK = 256


def _k_block(k: int, out_size: int):
  """The block a contraction of ``k`` is cut into (one dividing it: padding would copy
  the operands), or None to leave it whole; the partial products stay under 2**22
  elements."""
  if k <= 16 * _K_BLOCK:
    return None
  lo = max(_K_BLOCK, -(-k * out_size // (1 << 22)))
  for kb in range(lo, min(k // 4, 2 * lo) + 1):
    if k % kb == 0:
      return kb
  return None


def _collapse(ctx, v, groups):
  """``v`` transposed to the dimension ``groups`` in order and each group merged into
  one dimension, size-1 dimensions dropped (a transpose of the dimensions longer than
  1, when their order changes, between two reshapes)."""
  shape = v.aval.shape
  order = [d for g in groups for d in g if shape[d] != 1]
  kept = sorted(order)
  if order != kept:
    v = mlir.reshape(ctx, v, [shape[d] for d in kept])
    perm = [kept.index(d) for d in order]
    v = ctx.op("stablehlo.transpose", [v], v.aval.update(shape=[shape[d] for d in order]),
               f"permutation = {mlir._i64_array(perm)}")
  sizes = [math.prod(shape[d] for d in g) for g in groups]
  return mlir.reshape(ctx, v, [n for n in sizes if n != 1]), [n != 1 for n in sizes]


def _canonical_operands(ctx, x, y, dimension_numbers):
  """The operands of a dot_general as XLA's dot decomposer leaves them: (B, M, K) and
  (B, K, N), the batch, free and contracting dimensions each merged into one and those of
  size 1 dropped; with their dimension numbers and the product's shape (B, M, N), which
  reshapes to the dot_general's result. IREE fails on some other forms (a size-1 free
  dimension beside a batch one: "exceeded stack allocation limit")."""
  (xc, yc), (xb, yb) = dimension_numbers
  xf = [d for d in range(x.aval.ndim) if d not in xb and d not in xc]
  yf = [d for d in range(y.aval.ndim) if d not in yb and d not in yc]
  x, (hb, hm, hk) = _collapse(ctx, x, (xb, xf, xc))
  y, (_, _, hn) = _collapse(ctx, y, (yb, yc, yf))
  b = [0] if hb else []
  dims = (b, [len(b) + hm] if hk else [], b, [len(b)] if hk else [])
  shape = (*x.aval.shape[:len(b) + hm], *y.aval.shape[y.aval.ndim - hn:])
  return x, y, dims, shape


def _dot_general_lower(ctx, x, y, *, dimension_numbers, precision=None,
                       preferred_element_type=None, out_sharding=None):
  out = ctx.aval_out
  (xc, _), _ = dimension_numbers
  if out.size == 0 or not math.prod(x.aval.shape[d] for d in xc):
    return ctx.full(0, out.shape, out.dtype)  # (empty sums: zeros)
  if _is_algorithm(precision):  # as the impl: converted operands, the accumulation type
    ld, rd, acc = _algorithm_types(precision, x.aval.dtype, y.aval.dtype, out.dtype)
    saved, ctx.avals_out = ctx.avals_out, [out.update(dtype=acc)]
    try:
      r = _dot_general_lower(ctx, ctx.convert(x, ld), ctx.convert(y, rd),
                             dimension_numbers=dimension_numbers, preferred_element_type=acc)
    finally:
      ctx.avals_out = saved
    return ctx.convert(r, out.dtype)
  # Compute as the impl does: bool via int32, half floats in float32.
  _, compute = _dot_general_dtypes(x.aval.dtype, y.aval.dtype, preferred_element_type)
  cdt = {np.dtype(np.bool_): np.dtype(np.int32), dtypes.bfloat16: np.dtype(np.float32),
         np.dtype(np.float16): np.dtype(np.float32)}.get(compute, compute)

  def operand(v):
    if v.aval.dtype == np.bool_:
      # IREE folds i1 -> i32 (or a select of 0 and 1, as i8) into a matrix-vector
      # product and fails: a select behind a barrier.
      v = ctx.select(v, ctx.full(1, v.aval.shape, cdt), ctx.full(0, v.aval.shape, cdt))
      return ctx.op("stablehlo.optimization_barrier", [v], [v.aval])[0]
    unsigned = v.aval.dtype.kind == "u" and v.aval.dtype != cdt
    if v.aval.dtype != compute:  # (saturating, when a float becomes an integer)
      v = _convert_lower(ctx, v, new_dtype=compute, weak_type=False)
    v = ctx.convert(v, cdt)
    # IREE folds a widening of unsigned integers into the matmul as a signed one: a
    # barrier keeps the conversion out.
    return ctx.op("stablehlo.optimization_barrier", [v], [v.aval])[0] if unsigned else v

  x, y = operand(x), operand(y)
  x, y, (xb, xc, yb, yc), shape = _canonical_operands(ctx, x, y, dimension_numbers)

  def plain_dot(a, b, dt):
    if not xc:  # one-term sums: a broadcast product
      return ctx.binary("multiply", *(ctx.op("stablehlo.broadcast_in_dim", [v], ShapedArray(
          shape, dt), f"broadcast_dimensions = {mlir._i64_array(ds)}") for v, ds in (
              (a, range(a.aval.ndim)),
              (b, [*range(len(xb)), *range(len(shape) - b.aval.ndim + len(xb), len(shape))]))))
    fields = [(n, v) for n, v in (("lhs_batching_dimensions", xb),
                                  ("rhs_batching_dimensions", yb),
                                  ("lhs_contracting_dimensions", xc),
                                  ("rhs_contracting_dimensions", yc)) if v]
    dn = ", ".join(f"{n} = [{', '.join(map(str, v))}]" for n, v in fields)
    return ctx.op("stablehlo.dot_general", [a, b], ShapedArray(shape, dt),
                  f"dot_dimension_numbers = #stablehlo.dot<{dn}>")

  def dot(a, b, dt):
    # IREE accumulates a whole contraction in sequence (error ~ k): a long one is cut
    # into blocks, a batch dimension of the product, whose sums add as a tree.
    zero = ctx.constant(np.zeros((), dt), ShapedArray((), dt))
    add = lambda r, u, w: [r.binary("add", u, w)]
    k = a.aval.shape[xc[0]] if xc else 1
    if dt.kind in "fc" and a.aval.ndim == b.aval.ndim == len(xb) + 1 and k > 16 * _K_BLOCK:
      # no free dimensions (vector dots): a product summed as a tree, fused by IREE
      return mlir.tree_reduce(ctx, ctx.binary("multiply", a, b), zero, (len(xb),), add)
    kb = xc and dt.kind in "fc" and _k_block(k, math.prod(shape))
    if not kb:
      return plain_dot(a, b, dt)
    nb = k // kb
    a, b = (mlir.reshape(ctx, v, (*v.aval.shape[:c], nb, kb, *v.aval.shape[c + 1:]))
            for v, c in ((a, xc[0]), (b, yc[0])))
    fs = [("lhs_batching_dimensions", [*xb, xc[0]]),
          ("rhs_batching_dimensions", [*yb, yc[0]]),
          ("lhs_contracting_dimensions", [xc[0] + 1]),
          ("rhs_contracting_dimensions", [yc[0] + 1])]
    parts = ctx.op("stablehlo.dot_general", [a, b],
                   ShapedArray((*shape[:len(xb)], nb, *shape[len(xb):]), dt),
                   "dot_dimension_numbers = #stablehlo.dot<" +
                   ", ".join(f"{n} = [{', '.join(map(str, v))}]" for n, v in fs) + ">")
    return mlir.tree_reduce(ctx, parts, zero, (len(xb),), add)

  if cdt.kind == "c":  # IREE cannot vectorize a complex matmul: four real ones
    rdt = np.dtype(np.float32 if cdt == np.complex64 else np.float64)
    parts = [ctx.op(f"stablehlo.{p}", [v], v.aval.update(dtype=rdt))
             for v in (x, y) for p in ("real", "imag")]
    (xr, xi), (yr, yi) = parts[:2], parts[2:]
    re = ctx.binary("subtract", dot(xr, yr, rdt), dot(xi, yi, rdt))
    im = ctx.binary("add", dot(xr, yi, rdt), dot(xi, yr, rdt))
    # (a barrier: fused into the matmuls, the complex epilogue fails to vectorize)
    re, im = ctx.op("stablehlo.optimization_barrier", [re, im], [re.aval, im.aval])
    r = ctx.op("stablehlo.complex", [re, im], ShapedArray(shape, cdt))
  else:
    r = dot(x, y, cdt)
  if r.aval.ndim != out.ndim and 1 in out.shape:
    # IREE fuses the size-1 dimensions' return into the matmul and its consumers and then
    # fails ("exceeded stack allocation limit"): a barrier keeps them apart.
    r = ctx.op("stablehlo.optimization_barrier", [r], [r.aval])[0]
  r = mlir.reshape(ctx, r, out.shape)
  if cdt != compute and compute != np.bool_:
    r = ctx.convert(r, compute)  # half floats round before any conversion
  return _convert_lower(ctx, r, new_dtype=out.dtype, weak_type=False)


dot_general_p.lower = _dot_general_lower


def _dot_general_batch(vals, dims, *, dimension_numbers, **params):
  """Both batched: one more batch dimension. One batched: its batch axis becomes a
  free dimension, so a batched matrix-vector product is one matrix-matrix product."""
  (x, y), (xd, yd) = vals, dims
  (xc, yc), (xb, yb) = dimension_numbers
  if xd is not None and yd is not None:
    x, y = batching.moveaxis(x, xd, 0), batching.moveaxis(y, yd, 0)
    sh = lambda t: tuple(i + 1 for i in t)
    dn = ((sh(xc), sh(yc)), ((0, *sh(xb)), (0, *sh(yb))))
    return dot_general_p.bind(x, y, dimension_numbers=dn, **params), 0
  d = xd if xd is not None else yd
  sh = lambda t: tuple(i + (i >= d) for i in t)
  ny = core.get_aval(y).ndim
  if xd is None and ny - len(yc) - len(yb) == 1:
    # The batch axis is the rhs's only free axis: with the operands swapped it lands
    # just after the batch dimensions and the lhs free axes keep their order.
    dn = ((sh(yc), xc), (sh(yb), xb))
    return dot_general_p.bind(y, x, dimension_numbers=dn, **params), len(xb)
  if xd is not None:
    dn = ((sh(xc), yc), (sh(xb), yb))
    free = [i for i in range(core.get_aval(x).ndim) if i not in dn[0][0] + dn[1][0]]
    out_d = len(xb) + free.index(d)
  else:
    dn = ((xc, sh(yc)), (xb, sh(yb)))
    free = [i for i in range(core.get_aval(y).ndim) if i not in dn[0][1] + dn[1][1]]
    out_d = core.get_aval(x).ndim - len(xc) + free.index(d)
  return dot_general_p.bind(x, y, dimension_numbers=dn, **params), out_d


dot_general_p.batch = _dot_general_batch


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None,
                out_sharding=None):
  lhs, rhs = _to_array(lhs), _to_array(rhs)
  (xc, yc), (xb, yb) = dimension_numbers
  dn = ((tuple(int(i) for i in xc), tuple(int(i) for i in yc)),
        (tuple(int(i) for i in xb), tuple(int(i) for i in yb)))
  pet = None if preferred_element_type is None else \
      dtypes.canonicalize_dtype(preferred_element_type)
  return dot_general_p.bind(lhs, rhs, dimension_numbers=dn,
                            precision=canonicalize_precision(precision),
                            preferred_element_type=pet,
                            out_sharding=canon_out_sharding(out_sharding))


def dot(lhs, rhs, precision=None, preferred_element_type=None, *, out_sharding=None):
  lhs, rhs = _to_array(lhs), _to_array(rhs)
  if 1 <= lhs.ndim <= 2 and 1 <= rhs.ndim <= 2 and lhs.shape[-1] == rhs.shape[0]:
    return dot_general(lhs, rhs, (((lhs.ndim - 1,), (0,)), ((), ())), precision,
                       preferred_element_type, out_sharding=out_sharding)
  raise ValueError(f"jax.lax.dot: dimension_numbers must be specified when not performing "
                   f"simple un-batched matrix-matrix, matrix-vector, or vector-vector "
                   f"products; got lhs_shape={lhs.shape} rhs_shape={rhs.shape}")


DotDimensionNumbers = tuple[tuple[Sequence[int], Sequence[int]],
                            tuple[Sequence[int], Sequence[int]]]
PrecisionLike = Union[None, str, Precision, tuple[str, str], tuple[Precision, Precision],
                      DotAlgorithm, DotAlgorithmPreset]


def batch_matmul(lhs, rhs, precision=None):
  """Batch matrix multiplication."""
  lhs, rhs = _to_array(lhs), _to_array(rhs)
  if min(lhs.ndim, rhs.ndim) < 2:
    raise ValueError(f'Arguments to batch_matmul must be at least 2D, got {lhs.ndim}, '
                     f'{rhs.ndim}')
  if lhs.ndim != rhs.ndim:
    raise ValueError(f'Arguments to batch_matmul must have same ndim, got {lhs.ndim}, '
                     f'{rhs.ndim}')
  batch = tuple(range(lhs.ndim - 2))
  return dot_general(lhs, rhs, (((lhs.ndim - 1,), (rhs.ndim - 2,)), (batch, batch)),
                     precision=precision)


# ---------------------------------------------------------------- ragged_dot, scaled_dot
# Functions of dot_general (JAX has primitives for them; pyjax composes what XLA's CPU
# fallback computes, so jaxprs show the composition).


class RaggedDotDimensionNumbers:
  """Ragged, group and dot dimensions for ragged_dot_general."""

  def __init__(self, dot_dimension_numbers, lhs_ragged_dimensions, rhs_group_dimensions):
    object.__setattr__(self, 'dot_dimension_numbers',
                       tuple(tuple(map(tuple, t)) for t in dot_dimension_numbers))
    object.__setattr__(self, 'lhs_ragged_dimensions', tuple(lhs_ragged_dimensions))
    object.__setattr__(self, 'rhs_group_dimensions', tuple(rhs_group_dimensions))

  def __setattr__(self, name, value):
    raise AttributeError(f"cannot assign to field '{name}'")

  def __eq__(self, other):
    return isinstance(other, RaggedDotDimensionNumbers) and (
        self.dot_dimension_numbers, self.lhs_ragged_dimensions,
        self.rhs_group_dimensions) == (other.dot_dimension_numbers,
                                       other.lhs_ragged_dimensions,
                                       other.rhs_group_dimensions)

  def __hash__(self):
    return hash((self.dot_dimension_numbers, self.lhs_ragged_dimensions,
                 self.rhs_group_dimensions))

  def __repr__(self):
    return (f"RaggedDotDimensionNumbers(dot_dimension_numbers={self.dot_dimension_numbers}, "
            f"lhs_ragged_dimensions={self.lhs_ragged_dimensions}, "
            f"rhs_group_dimensions={self.rhs_group_dimensions})")


_RAGGED_DOT_DN = RaggedDotDimensionNumbers((((1,), (1,)), ((), ())), (0,), (0,))


def ragged_dot_general(lhs, rhs, group_sizes, ragged_dot_dimension_numbers, precision=None,
                       preferred_element_type=None, group_offset=None, out_sharding=None):
  """A dot_general whose ``lhs`` ragged dimension is cut into groups of
  ``group_sizes`` (JAX's three modes: ragged non-contracting dimension with an rhs group
  dimension, ragged contracting dimension (a leading group dimension in the result),
  ragged batch dimension). Each group is a masked dot_general; entries past the groups'
  total are zero. ``group_sizes`` is [g], or [b..., g] with lhs's batch dimensions."""
  lhs, rhs, gs = _to_array(lhs), _to_array(rhs), _to_array(group_sizes)
  if group_offset is not None:
    raise NotImplementedError("Unimplemented group_offset support.")
  dn = ragged_dot_dimension_numbers
  (lc, rc), (lb, rb) = dn.dot_dimension_numbers
  if len(dn.lhs_ragged_dimensions) != 1:
    raise TypeError("ragged_dot_general expects exactly one lhs ragged dimension")
  ragged, = dn.lhs_ragged_dimensions
  groups = dn.rhs_group_dimensions
  mode = 2 if ragged in lc else 3 if ragged in lb else 1
  if (mode == 1) != (len(groups) == 1):
    raise TypeError("ragged_dot_general: an rhs group dimension goes with a ragged "
                    "non-contracting lhs dimension, and only with it")
  pet = dict(precision=precision, preferred_element_type=preferred_element_type)
  if mode == 3:  # a ragged batch dimension: every batch row is a dot of its own (JAX's)
    return dot_general(lhs, rhs, ((lc, rc), (lb, rb)), **pet)
  prefix = tuple(lhs.shape[d] for d in lb)
  if gs.ndim == 1:
    gdims = ()
  elif gs.shape[:-1] == prefix:
    gdims = tuple(lb)
  else:
    raise NotImplementedError(f"group_sizes of shape {gs.shape} for lhs shape {lhs.shape}")
  g = gs.shape[-1]
  if mode == 1 and rhs.shape[groups[0]] != g:
    raise TypeError(f"group_sizes has {g} groups, rhs group dimension {groups[0]} has "
                    f"{rhs.shape[groups[0]]}")
  ends = cumsum(gs, gs.ndim - 1)
  starts = ends - gs
  shape = (g, *lhs.shape)
  bdims = (*(d + 1 for d in gdims), 0)
  row = lax.broadcasted_iota(gs.dtype, shape, ragged + 1)
  mask = lax.bitwise_and(lax.ge(row, lax.broadcast_in_dim(starts, shape, bdims)),
                         lax.lt(row, lax.broadcast_in_dim(ends, shape, bdims)))
  lhs_g = lax.broadcast_in_dim(lhs, shape, tuple(range(1, lhs.ndim + 1)))
  lhs_g = lax.select(mask, lhs_g, lax.full_like(lhs_g, 0))
  if mode == 1:
    dims = ((tuple(c + 1 for c in lc), tuple(rc)),
            ((0, *(b + 1 for b in lb)), (groups[0], *rb)))
    return lax.reduce_sum(dot_general(lhs_g, rhs, dims, **pet), (0,))
  dims = ((tuple(c + 1 for c in lc), tuple(rc)), (tuple(b + 1 for b in lb), tuple(rb)))
  out = dot_general(lhs_g, rhs, dims, **pet)  # (b..., g, m..., n...)
  return lax.transpose(out, (len(lb), *range(len(lb)), *range(len(lb) + 1, out.ndim)))


def ragged_dot(lhs, rhs, group_sizes, precision=None, preferred_element_type=None,
               group_offset=None, out_sharding=None):
  """``lhs`` [m, k] rows in groups of ``group_sizes`` [g], group i times ``rhs[i]``
  [k, n]: the [m, n] result."""
  return ragged_dot_general(lhs, rhs, group_sizes, _RAGGED_DOT_DN, precision=precision,
                            preferred_element_type=preferred_element_type,
                            group_offset=group_offset)


def _scale_broadcast(scale, shape, contracting):
  """``scale`` repeated along the contracting dimensions up to ``shape``."""
  for d in contracting:
    r = shape[d] // scale.shape[d]
    if r == 1:
      continue
    s = scale.shape
    big = (*s[:d + 1], r, *s[d + 1:])
    dims = tuple(i if i <= d else i + 1 for i in range(len(s)))
    scale = lax.reshape(lax.broadcast_in_dim(scale, big, dims),
                        (*s[:d], s[d] * r, *s[d + 1:]))
  return scale


def scaled_dot(lhs, rhs, *, lhs_scale=None, rhs_scale=None, dimension_numbers=None,
               preferred_element_type=None):
  """A block-scaled dot product: ``lhs * lhs_scale`` and ``rhs * rhs_scale`` (scales
  repeated along the contracting dimensions) in bfloat16, contracted by dot_general
  accumulating in ``preferred_element_type`` (bfloat16 by default), as XLA's fallback."""
  lhs, rhs = _to_array(lhs), _to_array(rhs)
  if dimension_numbers is None:
    if lhs.ndim in (0, 1):
      raise TypeError("scaled_dot does not support 0-rank and 1-rank operands.")
    n = lhs.ndim
    dimension_numbers = (((n - 1,), (n - 2,)), (tuple(range(n - 2)), tuple(range(n - 2))))
  (lc, rc), (lb, rb) = dimension_numbers
  for side, op, sc, cd in (("LHS", lhs, lhs_scale, lc), ("RHS", rhs, rhs_scale, rc)):
    if sc is None:
      continue
    sc = _to_array(sc)
    if sc.ndim != op.ndim:
      raise TypeError(
          f"All input tensors must have the same rank. Got lhs rank: {lhs.ndim} rhs rank:"
          f" {rhs.ndim} lhs_scale rank: "
          f"{_to_array(lhs_scale).ndim if lhs_scale is not None else 'N/A'} rhs_scale rank: "
          f"{_to_array(rhs_scale).ndim if rhs_scale is not None else 'N/A'}.")
    for i, size in enumerate(op.shape):
      if i in cd:
        if size % sc.shape[i]:
          raise TypeError(f"{side} contracting dim {i} of size {size} must be divisible by "
                          f"its scale's dim size {sc.shape[i]}.")
        if size // sc.shape[i] < 2:
          raise TypeError(f"The ratio of {side} contracting dim {i} to its scale's dim size"
                          f" ({size // sc.shape[i]}) must be at least 2.")
      elif sc.shape[i] != size:
        raise TypeError(f"{side} dim {i} of size {size} does not match scale dim size "
                        f"{sc.shape[i]}.")
  bf16 = dtypes.bfloat16

  def scaled(op, sc, cd):
    op = _convert_element_type(op, bf16, False)
    if sc is None:
      return op
    sc = _convert_element_type(_scale_broadcast(_to_array(sc), op.shape, cd), bf16, False)
    return lax.mul(op, sc)

  pet = bf16 if preferred_element_type is None else \
      dtypes.canonicalize_dtype(preferred_element_type)
  return dot_general(scaled(lhs, lhs_scale, lc), scaled(rhs, rhs_scale, rc),
                     dimension_numbers, preferred_element_type=pet)

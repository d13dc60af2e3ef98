"""Windowed reductions (reduce_window and its specialised sum/max/min forms), the
select-and-scatter family that differentiates them, and the generic variadic
``lax.reduce``. Each primitive is one block with all its rules; the lax functions follow.

Eager: each operand is base-dilated and padded with the reduction's identity, then read
as a strided window view (``sliding_window_view``), shape ``out + window``; the monoids
reduce that view with a ufunc, the jaxpr'd computations fold it one window element at a
time (a loop over the window, never over the output) on the flattened output, under a
batch trace. Lowering: ``stablehlo.reduce_window`` / ``select_and_scatter`` /
``reduce`` with a region."""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pyjax._src import core, dtypes, tree_util
from pyjax._src.array import ArrayImpl
from pyjax._src.core import ClosedJaxpr, Primitive, ShapedArray, Tracer
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import lowering as mlir
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.lax import lax, reductions, slicing
from pyjax._src.lax.convolution import _conv_general_vjp_lhs_padding
from pyjax._src.lax.lax import _dilate_shape, padtype_to_pads
from pyjax._src.lax.control_flow.common import jvp_jaxpr
from pyjax._src.lax.utils import _to_array, varying_shape_sharding

# ---------------------------------------------------------------- shapes and checks


def _check_shapelike(fun_name, arg_name, obj, non_zero_shape=False):
  if not isinstance(obj, (tuple, list, np.ndarray)):
    raise TypeError(f"{fun_name} {arg_name} must be of type tuple/list/ndarray, "
                    f"got {type(obj)}.")
  if not len(obj):
    return
  if not all(isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_))
             for d in obj):
    raise TypeError(f"{fun_name} {arg_name} must have every element be an integer "
                    f"type, got {tuple(map(type, obj))}.")
  lower, what = (1, "strictly positive") if non_zero_shape else (0, "nonnegative")
  if not all(d >= lower for d in obj):
    raise TypeError(f"{fun_name} {arg_name} must have every element be {what}, "
                    f"got {obj}.")


def reduce_window_shape_tuple(operand_shape, window_dimensions, window_strides, padding,
                              base_dilation=None, window_dilation=None):
  if base_dilation is not None:
    operand_shape = _dilate_shape(operand_shape, base_dilation)
  if window_dilation is not None:
    window_dimensions = _dilate_shape(window_dimensions, window_dilation)
  if len(padding) != len(operand_shape):
    raise ValueError(f"safe_zip() argument 2 is {'shorter' if len(padding) < len(operand_shape) else 'longer'} "
                     f"than argument 1")
  padded = tuple(d + lo + hi for d, (lo, hi) in zip(operand_shape, padding))
  return tuple(builtins.max((d - w) // s + 1, 0)
               for d, w, s in zip(padded, window_dimensions, window_strides))


def _common_shape_rule(operand, window_dimensions, window_strides, padding, base_dilation,
                       window_dilation):
  _check_shapelike("reduce_window", "window_dimensions", window_dimensions,
                   non_zero_shape=True)
  _check_shapelike("reduce_window", "window_strides", window_strides, non_zero_shape=True)
  _check_shapelike("reduce_window", "base_dilation", base_dilation)
  _check_shapelike("reduce_window", "window_dilation", window_dilation)
  if operand.ndim != len(window_dimensions):
    raise TypeError(f"reduce_window got the wrong number of window_dimensions for "
                    f"operand: got operand shape {operand.shape} with window_dimensions "
                    f"{window_dimensions}.")
  for name, v in (("window_strides", window_strides), ("base_dilation", base_dilation),
                  ("window_dilation", window_dilation)):
    if len(v) != len(window_dimensions):
      raise TypeError(f"reduce_window got inconsistent {name} and window_dimensions: "
                      f"got {name} {v} and window_dimensions {window_dimensions}.")
  return reduce_window_shape_tuple(operand.shape, window_dimensions, window_strides,
                                   padding, base_dilation, window_dilation)


# ---------------------------------------------------------------- eager helpers


def _window_view(v, fill, window_dimensions, window_strides, padding, base_dilation,
                 window_dilation):
  """``v`` base-dilated and padded with ``fill``, as a strided view of shape
  ``out_shape + window_dimensions`` (window elements in row-major order)."""
  nd = v.ndim
  out_shape = reduce_window_shape_tuple(v.shape, window_dimensions, window_strides,
                                        padding, base_dilation, window_dilation)
  if any(b != 1 for b in base_dilation):
    big = np.full(_dilate_shape(v.shape, base_dilation), fill, v.dtype)
    big[tuple(slice(None, None, b) for b in base_dilation)] = v
    v = big
  if any(lo < 0 or hi < 0 for lo, hi in padding):
    v = v[tuple(slice(builtins.max(-lo, 0), n - builtins.max(-hi, 0))
                for n, (lo, hi) in zip(v.shape, padding))]
  pads = [(builtins.max(lo, 0), builtins.max(hi, 0)) for lo, hi in padding]
  if any(lo or hi for lo, hi in pads):
    v = np.pad(v, pads, constant_values=np.asarray(fill, v.dtype))
  if any(o == 0 for o in out_shape):
    return np.empty(tuple(out_shape) + tuple(window_dimensions), v.dtype)
  eff = _dilate_shape(window_dimensions, window_dilation)
  view = sliding_window_view(v, eff)
  view = view[tuple(slice(None, None, s) for s in window_strides) +
              tuple(slice(None, None, d) for d in window_dilation)]
  assert view.shape[:nd] == tuple(out_shape), (view.shape, out_shape)
  return view


def _flat_windows(view, nd):
  """A window view as (out_size, K): K window elements of each flattened output."""
  out = view.shape[:nd]
  return view.reshape(math.prod(out), -1)


def _apply_batched(closed: ClosedJaxpr, args):
  """``closed`` (a computation on scalars) applied elementwise to equal-shaped 1-D
  arrays: evaluated once under a batch trace over their common length."""
  n = core.get_aval(args[0]).shape[0]
  trace = batching.BatchTrace(core.trace_ctx.trace, None, n)
  try:
    outs = trace.call(lambda *xs: core.eval_jaxpr(closed.jaxpr, closed.consts, *xs),
                      list(args), [0] * len(args))
    res = []
    for o in outs:
      v, d = trace.to_batch_info(o)
      res.append(batching.matchaxis(v, d, 0, n))
    return res
  finally:
    trace.invalidate()


def _identity(kind, dt):
  return np.asarray(mlir.identity({"sum": "add"}.get(kind, kind), dt))


def _get_max_identity(dt):
  return _identity("max", np.dtype(dt))


def _get_min_identity(dt):
  return _identity("min", np.dtype(dt))


# ---------------------------------------------------------------- lowering helper


def _window_attrs(window_dimensions, window_strides, padding, base_dilation,
                  window_dilation):
  n = len(window_dimensions)
  flat = [p for pr in padding for p in pr]
  return (f"window_dimensions = {mlir._i64_array(window_dimensions)}, "
          f"window_strides = {mlir._i64_array(window_strides)}, "
          f"base_dilations = {mlir._i64_array(base_dilation)}, "
          f"window_dilations = {mlir._i64_array(window_dilation)}, "
          f"padding = {mlir._dense_i64(flat, (n, 2))}")


def _emit_reduce_window(b, operands, inits, out_avals, body, **win):
  # Padding (and base dilation) as an explicit stablehlo.pad with the init values: IREE
  # failed to compile a padded reduce_window whose result feeds several consumers
  # ("write affecting operations on global resources ...").
  padding, bd = win["padding"], win["base_dilation"]
  if any(lo or hi for lo, hi in padding) or any(d != 1 for d in bd):
    nd = len(padding)
    padded = []
    for x, i in zip(operands, inits):
      shape = tuple(lo + hi + (0 if n == 0 else (n - 1) * d + 1)
                    for n, (lo, hi), d in zip(x.aval.shape, padding, bd))
      padded.append(b.op("stablehlo.pad", [x, i], x.aval.update(shape=shape),
                         f"edge_padding_low = {mlir._i64_array([lo for lo, _ in padding])}, "
                         f"edge_padding_high = {mlir._i64_array([hi for _, hi in padding])}, "
                         f"interior_padding = {mlir._i64_array([d - 1 for d in bd])}"))
    operands = padded
    win = dict(win, padding=((0, 0),) * nd, base_dilation=(1,) * nd)
  scal = [i.aval for i in inits]
  reg = b.region(scal + scal, body)
  outs = b.op("stablehlo.reduce_window", list(operands) + list(inits), list(out_avals),
              _window_attrs(**win), [reg])
  # IREE fused a reduce_window with consumers of its result into a dispatch it then
  # failed to compile ("write affecting operations on global resources are restricted
  # to workgroup distributed contexts"): a barrier keeps the window op on its own.
  return b.op("stablehlo.optimization_barrier", outs, [o.aval for o in outs])


# ---------------------------------------------------------------- reduce_window_{sum,max,min}

_HALF = (dtypes.bfloat16, np.dtype(np.float16))


def _np_window_reduce(kind):
  ufunc = {"sum": np.add, "max": np.maximum, "min": np.minimum}[kind]

  def fn(v, **win):
    dt = v.dtype
    if kind == "sum" and dt in _HALF:
      v = v.astype(np.float32)
    view = _window_view(v, _identity(kind, v.dtype), **win)
    nd = v.ndim
    out = np.full(view.shape[:nd], _identity(kind, v.dtype), v.dtype)
    if out.size:
      # one pass per window element over the output (in window order, as XLA folds)
      for off in np.ndindex(*view.shape[nd:]):
        ufunc(out, view[(Ellipsis, *off)], out=out)
    return out.astype(dt, copy=False)
  return fn


def _rw_lower(kind):
  def rule(ctx, x, **win):
    dt = x.aval.dtype
    if dt == np.bool_:  # IREE: no i1 reduce_window; int8 0/1 (max = or, min = and)
      x8 = ctx.select(x, ctx.full(1, x.aval.shape, np.int8), ctx.full(0, x.aval.shape, np.int8))
      out = rule(ctx, x8, **win)
      return ctx.compare("NE", out, ctx.full(0, (), np.int8))
    flip = None
    if dt.kind == "u":  # IREE cannot reduce_window unsigned types: go through signed
      x, flip = mlir.to_signed(ctx, x, kind in ("max", "min"))
    wide = kind == "sum" and dt in _HALF
    if wide:
      x = ctx.convert(x, np.float32)
    cdt = x.aval.dtype
    init = ctx.constant(_identity(kind, cdt), ShapedArray((), cdt))
    op = {"sum": "add", "max": "max", "min": "min"}[kind]
    out_aval = ShapedArray(ctx.aval_out.shape, cdt)
    if math.prod(win["window_dimensions"]) <= _SLICE_WINDOW and out_aval.size:
      out = _slices_reduce(ctx, x, init, op, out_aval, **win)
    else:
      out, = _emit_reduce_window(ctx, [x], [init], [out_aval],
                                 lambda b, a, c: [mlir.scalar_op(b, op, a, c)], **win)
    if dt.kind == "u":
      return mlir.from_signed(ctx, out, dt, flip)
    return ctx.convert(out, dt) if wide else out
  return rule


# Windows of up to this many elements reduce as that many strided slices of the padded
# operand folded elementwise (one fused dispatch): IREE's reduce_window of a padded
# operand ran 2.7x slower than XLA's (3x3 stride-2 max pool).
_SLICE_WINDOW = 16


def _slices_reduce(b, x, init, op, out_aval, *, window_dimensions, window_strides,
                   padding, base_dilation, window_dilation):
  nd = len(window_dimensions)
  if any(lo or hi for lo, hi in padding) or any(d != 1 for d in base_dilation):
    shape = tuple(lo + hi + (0 if n == 0 else (n - 1) * d + 1)
                  for n, (lo, hi), d in zip(x.aval.shape, padding, base_dilation))
    x = b.op("stablehlo.pad", [x, init], x.aval.update(shape=shape),
             f"edge_padding_low = {mlir._i64_array([lo for lo, _ in padding])}, "
             f"edge_padding_high = {mlir._i64_array([hi for _, hi in padding])}, "
             f"interior_padding = {mlir._i64_array([d - 1 for d in base_dilation])}")
  def fold(x, wd, out_shape):
    out = None
    for off in np.ndindex(*wd):
      start = [o * d for o, d in zip(off, window_dilation)]
      limit = [st + (n - 1) * s + 1 for st, n, s in zip(start, out_shape, window_strides)]
      v = b.op("stablehlo.slice", [x], out_aval.update(shape=tuple(out_shape)),
               f"start_indices = {mlir._i64_array(start)}, limit_indices = "
               f"{mlir._i64_array(limit)}, strides = {mlir._i64_array(window_strides)}")
      out = v if out is None else mlir.scalar_op(b, op, out, v)
    return out

  if op == "add" or sum(w > 1 for w in window_dimensions) < 2:
    return fold(x, window_dimensions, out_aval.shape)
  # max/min are exact in any order: one windowed dimension at a time (3 + 3 slices for
  # a 3x3 window instead of 9)
  for d in range(nd):
    if window_dimensions[d] == 1 and window_strides[d] == 1:
      continue
    shape = list(x.aval.shape)
    shape[d] = out_aval.shape[d]
    x = _fold_dim(b, x, op, d, window_dimensions[d], window_strides[d],
                  window_dilation[d], shape)
  return x


def _fold_dim(b, x, op, d, w, stride, dil, shape):
  nd = x.aval.ndim
  out = None
  for k in range(w):
    start = [0] * nd
    start[d] = k * dil
    limit = list(shape)
    limit[d] = start[d] + (shape[d] - 1) * stride + 1
    strides = [1] * nd
    strides[d] = stride
    v = b.op("stablehlo.slice", [x], x.aval.update(shape=tuple(shape)),
             f"start_indices = {mlir._i64_array(start)}, limit_indices = "
             f"{mlir._i64_array(limit)}, strides = {mlir._i64_array(strides)}")
    out = v if out is None else mlir.scalar_op(b, op, out, v)
  return out


def _insert_window_dim(win, bdim):
  def ins(t, v):
    return tuple(t[:bdim]) + (v,) + tuple(t[bdim:])
  return dict(window_dimensions=ins(win["window_dimensions"], 1),
              window_strides=ins(win["window_strides"], 1),
              padding=ins(win["padding"], (0, 0)),
              base_dilation=ins(win["base_dilation"], 1),
              window_dilation=ins(win["window_dilation"], 1))


def _rw_primitive(kind):
  p = Primitive(f"reduce_window_{kind}")
  npfn = _np_window_reduce(kind)

  def abstract(x, **win):
    if kind == "sum" and not (x.dtype.kind in "iufc" or x.dtype == dtypes.bfloat16):
      raise TypeError(f"operand to reduce_window_sum must have a number dtype, got "
                      f"{np.dtype(x.dtype).name}")
    return ShapedArray(_common_shape_rule(x, **win), x.dtype, x.weak_type)

  def impl(x, **win):
    abstract(x.aval, **win)
    return ArrayImpl(npfn(np.asarray(x._value), **win), x.weak_type)

  def batch(vals, dims, **win):
    return p.bind(vals[0], **_insert_window_dim(win, dims[0])), dims[0]

  p.def_impl(impl)
  p.def_abstract_eval(abstract)
  p.sharding_rule = lambda x, **win: varying_shape_sharding(  # JAX's
      abstract(x, **win).shape, x, "reduce_window")
  p.batch = batch
  p.lower = _rw_lower(kind)
  return p


reduce_window_sum_p = _rw_primitive("sum")


def _reduce_window_sum_transpose(ct, x, *, window_dimensions, window_strides, padding,
                                 base_dilation, window_dilation):
  # The adjoint of a window sum is a window sum of the cotangent, stride-dilated and
  # padded (the window is symmetric, so it needs no reversal), read at the base
  # dilation as strides.
  in_shape = x.aval.shape
  pads = _conv_general_vjp_lhs_padding(in_shape, window_dimensions, window_strides,
                                       ct.shape, padding, base_dilation, window_dilation)
  cfg = [(lo, hi, s - 1) for (lo, hi), s in zip(pads, window_strides)]
  padded = slicing.pad(ct, lax._const(ct, 0), cfg)
  ones = (1,) * len(in_shape)
  out = reduce_window_sum_p.bind(padded, window_dimensions=tuple(window_dimensions),
                                 window_strides=tuple(base_dilation),
                                 padding=((0, 0),) * len(in_shape), base_dilation=ones,
                                 window_dilation=tuple(window_dilation))
  assert out.shape == in_shape, (out.shape, in_shape)
  return [out]


ad.deflinear(reduce_window_sum_p, _reduce_window_sum_transpose)
reduce_window_max_p = _rw_primitive("max")
reduce_window_min_p = _rw_primitive("min")


def _chooser_jvp(select_prim):
  def rule(t, x, **win):
    return _select_and_gather_add(t, x, select_prim, **win)
  return rule


# ---------------------------------------------------------------- select_and_gather_add
# The tangent at the position each window's max (ge) / min (le) is taken from: the
# JVP of reduce_window_max/min. XLA folds a window in order, acc = f(acc, x) from
# (init, 0), keeping acc while select(acc, x): the first extreme wins.

select_and_gather_add_p = Primitive("select_and_gather_add")


def _sga_abstract(tangents, operand, *, select_prim, window_dimensions, window_strides,
                  padding, base_dilation, window_dilation):
  if tangents.shape != operand.shape:
    raise TypeError(f"select_and_gather_add tangents and operand shapes must match, "
                    f"got {tangents.shape} and {operand.shape}.")
  shape = _common_shape_rule(operand, window_dimensions, window_strides, padding,
                             base_dilation, window_dilation)
  return ShapedArray(shape, tangents.dtype, tangents.weak_type)


def _np_select(select_prim):
  return np.greater_equal if select_prim is lax.ge_p else np.less_equal


def _sga_impl(tangents, operand, *, select_prim, **win):
  aval = _sga_abstract(tangents.aval, operand.aval, select_prim=select_prim, **win)
  x, t = np.asarray(operand._value), np.asarray(tangents._value)
  init = np.asarray(-np.inf if select_prim is lax.ge_p else np.inf, x.dtype)
  vx = _flat_windows(_window_view(x, init, **win), x.ndim)
  vt = _flat_windows(_window_view(t, np.zeros((), t.dtype), **win), t.ndim)
  keep_fn = _np_select(select_prim)
  acc_x = np.full(vx.shape[0], init, x.dtype)
  acc_t = np.zeros(vx.shape[0], t.dtype)
  for k in range(vx.shape[1]):  # over the window, not the output
    keep = keep_fn(acc_x, vx[:, k])
    acc_x = np.where(keep, acc_x, vx[:, k])
    acc_t = np.where(keep, acc_t, vt[:, k])
  return ArrayImpl(acc_t.reshape(aval.shape), tangents.weak_type)


def _sga_transpose(ct, tangents, operand, *, select_prim, window_dimensions,
                   window_strides, padding, base_dilation, window_dilation):
  assert ad.is_undefined_primal(tangents) and not ad.is_undefined_primal(operand)
  if any(d != 1 for d in window_dilation):
    raise NotImplementedError(
        f"VJP not implemented for select_and_gather (MaxPool) with window dilation, got "
        f"window_dilation={window_dilation}.")
  if type(ct) is ad.Zero:
    return [ad.Zero(tangents.aval), None]
  dil = any(d != 1 for d in base_dilation)
  if dil:
    ident = (_get_max_identity if select_prim is lax.ge_p else _get_min_identity)(
        operand.dtype)
    operand = slicing.pad(operand, ArrayImpl(ident[()], False),
                          tuple((0, 0, d - 1) for d in base_dilation))
  out = select_and_scatter_add_p.bind(ct, operand, select_prim=select_prim,
                                      window_dimensions=window_dimensions,
                                      window_strides=window_strides, padding=padding)
  if dil:
    out = slicing.slice(out, (0,) * out.ndim, out.shape, base_dilation)
  return [out, None]


def _sga_batch(vals, dims, **params):
  size = batching.batch_size(vals, dims)
  t, x = (batching.bdim_at_front(v, d, size) for v, d in zip(vals, dims))
  sp = params.pop("select_prim")
  return select_and_gather_add_p.bind(t, x, select_prim=sp,
                                      **_insert_window_dim(params, 0)), 0


def _sga_lower(ctx, tangents, operand, *, select_prim, **win):
  # A two-operand reduce_window over (value, tangent), as JAX's CPU lowering.
  dt = operand.aval.dtype
  init = -np.inf if select_prim is lax.ge_p else np.inf
  scal = ShapedArray((), dt)
  inits = [ctx.constant(np.array(init, dt), scal),
           ctx.constant(np.zeros((), tangents.aval.dtype), ShapedArray((), tangents.aval.dtype))]
  direction = "GE" if select_prim is lax.ge_p else "LE"

  def body(b, ax, at, x, t):
    keep = b.compare(direction, ax, x)
    return [b.select(keep, ax, x), b.select(keep, at, t)]

  out_x = ShapedArray(ctx.aval_out.shape, dt)
  _, out = _emit_reduce_window(ctx, [operand, tangents], inits, [out_x, ctx.aval_out],
                               body, **win)
  return out


select_and_gather_add_p.def_impl(_sga_impl)
select_and_gather_add_p.def_abstract_eval(_sga_abstract)
ad.defjvp(select_and_gather_add_p,  # linear in its first operand
          lambda g, _, x, **params: select_and_gather_add_p.bind(g, x, **params), None)
select_and_gather_add_p.transpose = _sga_transpose
select_and_gather_add_p.batch = _sga_batch
select_and_gather_add_p.lower = _sga_lower
ad.defjvp(reduce_window_max_p, _chooser_jvp(lax.ge_p))
ad.defjvp(reduce_window_min_p, _chooser_jvp(lax.le_p))


def _select_and_gather_add(tangents, operand, select_prim, window_dimensions,
                           window_strides, padding, base_dilation, window_dilation):
  return select_and_gather_add_p.bind(
      _to_array(tangents), _to_array(operand), select_prim=select_prim,
      window_dimensions=tuple(window_dimensions), window_strides=tuple(window_strides),
      padding=tuple(padding), base_dilation=tuple(base_dilation),
      window_dilation=tuple(window_dilation))


# ---------------------------------------------------------------- select_and_scatter_add
# Each window's source value added at the position its max (ge) / min (le) is taken
# from: the max-pool gradient. Padding is expanded with the select's identity first
# (as JAX's CPU lowering), so padded positions never win over real ones.

select_and_scatter_add_p = Primitive("select_and_scatter_add")


def _ssa_abstract(source, operand, *, select_prim, window_dimensions, window_strides,
                  padding):
  return ShapedArray(operand.shape, source.dtype, source.weak_type)


def _selected_positions(x, select_prim, window_dimensions, window_strides, padding):
  """For each window of ``x`` padded with the select's identity: the flat index into
  the padded array of the element ``select_and_scatter`` selects (XLA's: the first
  element, replaced by each later one the select rejects it for), and the padded
  shape."""
  ident = (_get_max_identity if select_prim is lax.ge_p else _get_min_identity)(x.dtype)
  nd = x.ndim
  ones = (1,) * nd
  win = dict(window_dimensions=window_dimensions, window_strides=window_strides,
             padding=padding, base_dilation=ones, window_dilation=ones)
  vx = _flat_windows(_window_view(x, ident, **win), nd)
  out_shape = reduce_window_shape_tuple(x.shape, window_dimensions, window_strides,
                                        padding)
  padded_shape = tuple(d + lo + hi for d, (lo, hi) in zip(x.shape, padding))
  keep_fn = _np_select(select_prim)
  n, k_all = vx.shape
  if n == 0 or k_all == 0:
    return np.zeros(0, np.intp), out_shape, padded_shape
  sel_x, sel_k = vx[:, 0].copy(), np.zeros(n, np.intp)
  for k in range(1, k_all):
    keep = keep_fn(sel_x, vx[:, k])
    sel_x = np.where(keep, sel_x, vx[:, k])
    sel_k = np.where(keep, sel_k, k)
  wpos = np.unravel_index(sel_k, tuple(window_dimensions))
  opos = np.unravel_index(np.arange(n), out_shape)
  flat = np.ravel_multi_index(tuple(o * s + w for o, s, w in
                                    zip(opos, window_strides, wpos)), padded_shape)
  return flat, out_shape, padded_shape


def _crop(v, padding, shape):
  return v[tuple(slice(lo, lo + d) for (lo, _), d in zip(padding, shape))]


def _ssa_impl(source, operand, *, select_prim, window_dimensions, window_strides, padding):
  x, s = np.asarray(operand._value), np.asarray(source._value)
  if any(lo < 0 or hi < 0 for lo, hi in padding):
    raise NotImplementedError("select_and_scatter_add with negative padding")
  flat, out_shape, padded_shape = _selected_positions(x, select_prim, window_dimensions,
                                                      window_strides, padding)
  if s.shape != tuple(out_shape):
    raise TypeError(f"select_and_scatter_add source shape {s.shape} does not match the "
                    f"window output shape {tuple(out_shape)}")
  size = math.prod(padded_shape)
  if s.dtype.kind == "f" and s.dtype.itemsize >= 4:
    acc = np.bincount(flat, weights=s.reshape(-1).astype(np.float64), minlength=size)
    acc = acc.astype(s.dtype)
  else:
    acc = np.zeros(size, np.float32 if s.dtype in _HALF else s.dtype)
    np.add.at(acc, flat, s.reshape(-1))
    acc = acc.astype(s.dtype)
  out = _crop(acc.reshape(padded_shape), padding, x.shape)
  return ArrayImpl(np.ascontiguousarray(out), source.weak_type)


def _ssa_transpose(ct, source, operand, *, select_prim, window_dimensions, window_strides,
                   padding):
  assert ad.is_undefined_primal(source) and not ad.is_undefined_primal(operand)
  if type(ct) is ad.Zero:
    return [ad.Zero(source.aval), None]
  ones = (1,) * len(window_dimensions)
  return [_select_and_gather_add(ct, operand, select_prim, window_dimensions,
                                 window_strides, padding, ones, ones), None]


def _ssa_batch(vals, dims, *, select_prim, window_dimensions, window_strides, padding):
  size = batching.batch_size(vals, dims)
  s, x = (batching.bdim_at_front(v, d, size) for v, d in zip(vals, dims))
  return select_and_scatter_add_p.bind(
      s, x, select_prim=select_prim, window_dimensions=(1,) + tuple(window_dimensions),
      window_strides=(1,) + tuple(window_strides),
      padding=((0, 0),) + tuple(padding)), 0


def _window_slice(a, offset, window_strides, out_shape):
  """The elements at window offset ``offset`` of every window: a strided slice."""
  return slicing.slice(a, offset, [o + (n - 1) * s + 1 for o, n, s in
                                   zip(offset, out_shape, window_strides)], window_strides)


def _scatter_by_slices(operand, source, init_value, select_fn, scatter_fn,
                       window_dimensions, window_strides, padding, ident=None,
                       scatter_jaxpr=None):
  """select_and_scatter written with strided slices and pads (IREE cannot compile
  ``stablehlo.select_and_scatter``): each window's selected offset is found by folding
  the window's K strided slices of the padded operand in order (XLA's rule: the first
  element, replaced by a later one the select rejects it for; padding never selected),
  then each offset's chosen source values are placed back with an interior-padded pad
  (non-overlapping windows: interleaved by a reshape) and added; a general
  ``scatter_jaxpr`` goes through one scatter of the selected positions instead (a chain
  of K pads and selects took IREE seconds to compile).
  ``ident``: the select's identity, used to pad instead of tracking validity."""
  nd = operand.ndim
  out_shape = source.shape
  padded_shape = tuple(d + lo + hi for d, (lo, hi) in zip(operand.shape, padding))
  offsets = list(np.ndindex(*window_dimensions))
  has_pad = any(lo or hi for lo, hi in padding)
  if has_pad:
    fill = ident if ident is not None else lax._zeros(init_value)
    x = slicing.pad(operand, fill, [(lo, hi, 0) for lo, hi in padding])
  else:
    x = operand
  valid = None
  if has_pad and ident is None:
    valid = slicing.pad(lax.full(operand.shape, True, np.bool_), False,
                        [(lo, hi, 0) for lo, hi in padding])
  if math.prod(out_shape) == 0 or not offsets:
    acc = lax.full(padded_shape, 0, source.dtype) if init_value is None else \
        lax.broadcast_in_dim(init_value, padded_shape, ())
  else:
    sel_v = _window_slice(x, offsets[0], window_strides, out_shape)
    sel_k = lax.full(out_shape, 0, np.int32)
    have = None if valid is None else _window_slice(valid, offsets[0], window_strides,
                                                    out_shape)
    for k, off in enumerate(offsets[1:], 1):
      v = _window_slice(x, off, window_strides, out_shape)
      take = lax.bitwise_not(select_fn(sel_v, v))
      if have is not None:
        ok = _window_slice(valid, off, window_strides, out_shape)
        take = lax.bitwise_and(ok, lax.bitwise_or(lax.bitwise_not(have), take))
        have = lax.bitwise_or(have, ok)
      sel_v = lax.select(take, v, sel_v)
      sel_k = lax.select(take, lax.full(out_shape, k, np.int32), sel_k)
    zero = lax.full(out_shape, 0, source.dtype)
    chosen = [lax.eq(sel_k, lax.full(out_shape, k, np.int32)) for k in range(len(offsets))]
    if have is not None:
      chosen = [lax.bitwise_and(c, have) for c in chosen]
    if init_value is None and tuple(window_strides) == tuple(window_dimensions):
      # non-overlapping windows: interleave the offsets' contributions by a reshape
      parts = [lax.select(c, source, zero) for c in chosen]
      st = lax.reshape(slicing.concatenate([lax.reshape(p_, (1, *out_shape))
                                            for p_ in parts], 0),
                       (*window_dimensions, *out_shape))
      perm = [i for d in range(nd) for i in (nd + d, d)]
      tiled = lax.reshape(lax.transpose(st, perm),
                          tuple(o * w for o, w in zip(out_shape, window_dimensions)))
      cover = tiled.shape
      acc = slicing.pad(tiled, lax._zeros(lax.full((), 0, source.dtype)),
                        [(0, p_ - c, 0) for p_, c in zip(padded_shape, cover)])
    else:
      acc = lax.full(padded_shape, 0, source.dtype) if init_value is None else \
          lax.broadcast_in_dim(init_value, padded_shape, ())
      if scatter_jaxpr is not None:
        # a general scatter computation: one scatter of the windows' selected flat
        # positions, in window order (as XLA applies them)
        size = math.prod(padded_shape)
        idx = lax.full(out_shape, 0, np.int32)
        step = 1
        for d in reversed(range(nd)):
          inner = math.prod(window_dimensions[d + 1:])
          w = lax.rem(lax.div(sel_k, lax.full(out_shape, inner, np.int32)),
                      lax.full(out_shape, window_dimensions[d], np.int32))
          pos = lax.add(lax.mul(lax.broadcasted_iota(np.int32, out_shape, d),
                                lax.full(out_shape, window_strides[d], np.int32)), w)
          idx = lax.add(idx, lax.mul(pos, lax.full(out_shape, step, np.int32)))
          step *= padded_shape[d]
        if have is not None:  # windows wholly in the padding select nothing
          idx = lax.select(have, idx, lax.full(out_shape, size, np.int32))
        m = math.prod(out_shape)
        dn = slicing.ScatterDimensionNumbers((), (0,), (0,))
        acc = slicing._scatter_bind(
            slicing.scatter_p, lax.reshape(acc, (size,)), lax.reshape(idx, (m, 1)),
            lax.reshape(source, (m,)), dn, False, False, slicing.GatherScatterMode.FILL_OR_DROP,
            scatter_jaxpr.jaxpr, scatter_jaxpr.consts)
        acc = lax.reshape(acc, padded_shape)
        offsets = []
      for c, off in zip(chosen, offsets):
        cfg = [(o, p_ - o - (n - 1) * s - 1, s - 1) for o, p_, n, s in
               zip(off, padded_shape, out_shape, window_strides)]
        if init_value is None:
          acc = lax.add(acc, slicing.pad(lax.select(c, source, zero),
                                         lax.full((), 0, source.dtype), cfg))
        else:
          mask = slicing.pad(c, False, cfg)
          placed = slicing.pad(source, lax._zeros(init_value), cfg)
          acc = lax.select(mask, scatter_fn(acc, placed), acc)
  if has_pad:
    acc = slicing.slice(acc, [lo for lo, _ in padding],
                        [lo + d for (lo, _), d in zip(padding, operand.shape)])
  return acc


def _lower_with(fun, ctx, args, **params):
  """Lowers ``fun(*args, **params)`` (lax operations) in place."""
  jaxpr, consts = pe.trace_to_jaxpr(lambda *a: [fun(*a, **params)],
                                    [a.aval.update(weak_type=False) for a in args])
  cs = [ctx.constant(np.asarray(mlir._host(c)), core.get_aval(c)) for c in consts]
  out, = ctx.lower_jaxpr(jaxpr, cs, list(args))
  return out


def _ssa_fun(source, operand, *, select_prim, window_dimensions, window_strides, padding):
  ident = (_get_max_identity if select_prim is lax.ge_p else _get_min_identity)(
      operand.dtype)
  return _scatter_by_slices(operand, source, None, select_prim.bind, None,
                            window_dimensions, window_strides, padding,
                            ident=ArrayImpl(ident[()], False))


def _ssa_lower(ctx, source, operand, **params):
  return _lower_with(_ssa_fun, ctx, [source, operand], **params)


select_and_scatter_add_p.def_impl(_ssa_impl)
select_and_scatter_add_p.def_abstract_eval(_ssa_abstract)
ad.defjvp(select_and_scatter_add_p,  # linear in its first operand
          lambda g, _, x, **params: select_and_scatter_add_p.bind(g, x, **params), None)
select_and_scatter_add_p.transpose = _ssa_transpose
select_and_scatter_add_p.batch = _ssa_batch
select_and_scatter_add_p.lower = _ssa_lower


def _select_and_scatter_add(source, operand, select_prim, window_dimensions,
                            window_strides, padding):
  return select_and_scatter_add_p.bind(
      _to_array(source), _to_array(operand), select_prim=select_prim, window_dimensions=tuple(window_dimensions),
      window_strides=tuple(window_strides), padding=tuple(padding))


# ---------------------------------------------------------------- select_and_scatter
# The general form: select and scatter computations as jaxprs. As in JAX it has no
# JVP, transpose or batching rule.

select_and_scatter_p = Primitive("select_and_scatter")


def _sas_abstract(operand, source, init_value, *, select_jaxpr, select_consts,
                  scatter_jaxpr, scatter_consts, window_dimensions, window_strides, padding):
  _check_shapelike("select_and_scatter", "window_dimensions", window_dimensions)
  _check_shapelike("select_and_scatter", "window_strides", window_strides)
  if len(window_dimensions) != len(window_strides):
    raise TypeError(f"select_and_scatter got inconsistent window_strides and "
                    f"window_dimensions: got window_strides {window_strides} and "
                    f"window_dimensions {window_dimensions}.")
  return ShapedArray(operand.shape, operand.dtype, operand.weak_type)


def _sas_impl(operand, source, init_value, *, select_jaxpr, select_consts, scatter_jaxpr,
              scatter_consts, window_dimensions, window_strides, padding):
  aval = _sas_abstract(operand.aval, source.aval, init_value.aval,
                       select_jaxpr=select_jaxpr, select_consts=select_consts,
                       scatter_jaxpr=scatter_jaxpr, scatter_consts=scatter_consts,
                       window_dimensions=window_dimensions, window_strides=window_strides,
                       padding=padding)
  select = ClosedJaxpr(select_jaxpr, list(select_consts))
  scatter = ClosedJaxpr(scatter_jaxpr, list(scatter_consts))
  x = np.asarray(operand._value)
  nd = x.ndim
  ones = (1,) * nd
  # Padded positions are never selected: the window's elements in the padding are
  # skipped (XLA's semantics), marked by a validity view.
  valid = np.ones(x.shape, bool)
  win = dict(window_dimensions=window_dimensions, window_strides=window_strides,
             padding=padding, base_dilation=ones, window_dilation=ones)
  vx = _flat_windows(_window_view(x, np.zeros((), x.dtype), **win), nd)
  vv = _flat_windows(_window_view(valid, False, **win), nd)
  n, k_all = vx.shape
  out_shape = reduce_window_shape_tuple(x.shape, window_dimensions, window_strides, padding)
  padded_shape = tuple(d + lo + hi for d, (lo, hi) in zip(x.shape, padding))
  acc = np.full(padded_shape, np.asarray(init_value._value), x.dtype).reshape(-1)
  if n and k_all:
    sel_x = vx[:, 0].copy()
    sel_k = np.zeros(n, np.intp)
    have = vv[:, 0].copy()
    for k in range(1, k_all):
      ok = vv[:, k]
      keep, = _apply_batched(select, [ArrayImpl(sel_x), ArrayImpl(np.ascontiguousarray(vx[:, k]))])
      take = ok & (~have | ~np.asarray(keep._value))
      sel_x = np.where(take, vx[:, k], sel_x)
      sel_k = np.where(take, k, sel_k)
      have |= ok
    wpos = np.unravel_index(sel_k, tuple(window_dimensions))
    opos = np.unravel_index(np.arange(n), out_shape)
    flat = np.ravel_multi_index(tuple(o * s + w for o, s, w in
                                      zip(opos, window_strides, wpos)), padded_shape)
    src = np.asarray(source._value).reshape(-1)
    # windows scatter in order; those choosing the same window offset hit distinct
    # positions, so each offset is one vectorized step
    for k in range(k_all):
      m = have & (sel_k == k)
      if m.any():
        pos = flat[m]
        r, = _apply_batched(scatter, [ArrayImpl(acc[pos]), ArrayImpl(src[m])])
        acc[pos] = np.asarray(r._value)
  out = _crop(acc.reshape(padded_shape), padding, x.shape)
  return ArrayImpl(np.ascontiguousarray(out).reshape(aval.shape), operand.weak_type)


def _sas_fun(operand, source, init_value, *, select_jaxpr, select_consts, scatter_jaxpr,
             scatter_consts, window_dimensions, window_strides, padding):
  select = ClosedJaxpr(select_jaxpr, list(select_consts))
  scatter = ClosedJaxpr(scatter_jaxpr, list(scatter_consts))

  def elementwise(closed):
    def fn(a, b):
      shape = a.shape
      flat = [lax.reshape(v, (math.prod(shape),)) for v in (a, b)]
      out, = _apply_batched(closed, flat)
      return lax.reshape(out, shape)
    return fn

  return _scatter_by_slices(operand, source, init_value, elementwise(select),
                            elementwise(scatter), window_dimensions, window_strides,
                            padding, scatter_jaxpr=scatter)


def _sas_lower(ctx, operand, source, init_value, **params):
  # IREE cannot compile stablehlo.select_and_scatter: strided slices and pads instead
  return _lower_with(_sas_fun, ctx, [operand, source, init_value], **params)


select_and_scatter_p.def_impl(_sas_impl)
select_and_scatter_p.def_abstract_eval(_sas_abstract)
select_and_scatter_p.lower = _sas_lower


def _reduction_jaxpr(computation, aval):
  jaxpr, consts = pe.trace_to_jaxpr(lambda x, y: [computation(x, y)], [aval, aval])
  if any(isinstance(c, Tracer) for c in consts):
    raise NotImplementedError("Reduction computations can't close over Tracers. Please "
                              "open an issue at https://github.com/jax-ml/jax.")
  return jaxpr, tuple(consts)


def _select_and_scatter(operand, select, window_dimensions, window_strides, padding,
                        source, init_value, scatter):
  operand, source, init_value = map(_to_array, (operand, source, init_value))
  aval = ShapedArray((), core.get_aval(init_value).dtype)
  sj, sc = _reduction_jaxpr(select, aval)
  tj, tc = _reduction_jaxpr(scatter, aval)
  return select_and_scatter_p.bind(
      operand, source, init_value, select_jaxpr=sj, select_consts=sc, scatter_jaxpr=tj,
      scatter_consts=tc, window_dimensions=tuple(window_dimensions),
      window_strides=tuple(window_strides), padding=tuple(padding))


# ---------------------------------------------------------------- reduce_window (generic)

reduce_window_p = Primitive("reduce_window")
reduce_window_p.multiple_results = True


def _rwg_abstract(*avals, jaxpr, consts, **win):
  n = len(avals) // 2
  ops, inits = avals[:n], avals[n:]
  if any(o.dtype != i.dtype for o, i in zip(ops, inits)):
    raise TypeError(f"reduce_window got inconsistent dtypes for operands and init_values:"
                    f" got operand dtypes {[o.dtype for o in ops]} and init_value dtypes "
                    f"{[i.dtype for i in inits]}.")
  if any(i.shape != () for i in inits):
    raise TypeError(f"reduce_window expected init_values to be scalars but init_values "
                    f"have shapes {[i.shape for i in inits]}.")
  shape = _common_shape_rule(ops[0], **win)
  return [ShapedArray(shape, o.dtype) for o in ops]


def _rwg_impl(*args, jaxpr, consts, **win):
  avals = _rwg_abstract(*(a.aval for a in args), jaxpr=jaxpr, consts=consts, **win)
  n = len(args) // 2
  closed = ClosedJaxpr(jaxpr, list(consts))
  views = []
  for x, i in zip(args[:n], args[n:]):
    v = np.asarray(x._value)
    views.append(_flat_windows(_window_view(v, np.asarray(i._value), **win), v.ndim))
  m = views[0].shape[0]
  accs = [ArrayImpl(np.full(m, np.asarray(i._value), i.dtype)) for i in args[n:]]
  if m:
    for k in range(views[0].shape[1]):
      accs = _apply_batched(closed, accs + [ArrayImpl(np.ascontiguousarray(v[:, k]))
                                            for v in views])
  return [ArrayImpl(np.asarray(a._value).reshape(av.shape).astype(av.dtype, copy=False))
          for a, av in zip(accs, avals)]


def _rwg_jvp(primals, tangents, *, jaxpr, consts, **win):
  n = len(primals) // 2
  operand, init = list(primals[:n]), list(primals[n:])
  if not all(type(t) is ad.Zero for t in tangents[n:]):
    raise TypeError("reduce_window jvp does not support non-zero init_value_tangent.")
  t_ops = [ad.instantiate(t) for t in tangents[:n]]
  t_init = [lax.full((), 0, ad.tangent_aval(core.get_aval(i)).dtype) for i in init]
  jvp_closed, _ = jvp_jaxpr(ClosedJaxpr(jaxpr, list(consts)), [True] * (2 * n), True)

  def wrapper(left, right):
    pl, tl = left[:n], left[n:]
    pr, tr = right[:n], right[n:]
    return list(core.eval_jaxpr(jvp_closed.jaxpr, jvp_closed.consts, *pl, *pr, *tl, *tr))

  outs = _reduce_window(operand + t_ops, init + t_init, wrapper, **_win_args(win))
  return outs[:n], outs[n:]


def _win_args(win):
  return dict(window_dimensions=win["window_dimensions"],
              window_strides=win["window_strides"], padding=win["padding"],
              base_dilation=win["base_dilation"], window_dilation=win["window_dilation"])


def _rwg_batch(vals, dims, *, jaxpr, consts, **win):
  n = len(vals) // 2
  if any(d is not None for d in dims[n:]):
    raise NotImplementedError("reduce_window batching is not implemented for initial "
                              "values")
  size = batching.batch_size(vals, dims)
  ops = [batching.bdim_at_front(v, d, size) for v, d in zip(vals[:n], dims[:n])]
  outs = reduce_window_p.bind(*ops, *vals[n:], jaxpr=jaxpr, consts=consts,
                              **_insert_window_dim(win, 0))
  return outs, [0] * n


def _rwg_lower(ctx, *args, jaxpr, consts, **win):
  n = len(args) // 2

  def body(b, *xs):
    cs = [b.constant(np.asarray(mlir._host(c)), core.get_aval(c)) for c in consts]
    return b.lower_jaxpr(jaxpr, cs, list(xs))

  return _emit_reduce_window(ctx, args[:n], args[n:], ctx.avals_out, body, **win)


reduce_window_p.def_impl(_rwg_impl)
reduce_window_p.def_abstract_eval(_rwg_abstract)
reduce_window_p.jvp = _rwg_jvp
reduce_window_p.batch = _rwg_batch
reduce_window_p.lower = _rwg_lower


# ---------------------------------------------------------------- reduce (generic)

reduce_p = Primitive("reduce")
reduce_p.multiple_results = True


def _reduce_abstract(*avals, computation, jaxpr, dimensions):
  n = len(avals) // 2
  ops, inits = avals[:n], avals[n:]
  if any(i.shape != () for i in inits):
    raise ValueError(f"reduce found non-scalar initial value: {[i.shape for i in inits]}")
  if [o.dtype for o in ops] != [i.dtype for i in inits]:
    raise TypeError(f"reduce operand dtypes should match corresponding initial value "
                    f"dtypes, got operands={[o.str_short() for o in ops]} and "
                    f"initial_values={[i.str_short() for i in inits]}")
  for o in ops:
    for d in dimensions:
      if not 0 <= d < o.ndim:
        raise ValueError(f"reduce dimension {d} out of range for operand of shape "
                         f"{o.shape}")
  return [ShapedArray(tuple(np.delete(np.array(o.shape, int), list(dimensions)).tolist()),
                      o.dtype, o.weak_type and i.weak_type) for o, i in zip(ops, inits)]


def _tree_fold(combine, xs, inits):
  """Folds the leading axis of the 2-D arrays ``xs`` with ``combine`` (applied to
  lists of 1-D arrays) pairwise, halves against halves: earlier elements stay on the
  left, as in XLA's in-order fold."""
  while xs[0].shape[0] > 1:
    n = xs[0].shape[0]
    h = (n + 1) // 2
    left = [slicing.slice_in_dim(x, 0, h, axis=0) for x in xs]
    right = [slicing.slice_in_dim(x, h, n, axis=0) for x in xs]
    if n - h != h:
      right = [slicing.concatenate([r, lax.broadcast_in_dim(i, (1, *r.shape[1:]), ())], 0)
               for r, i in zip(right, inits)]
    shape = left[0].shape
    flat = combine([lax.reshape(v, (math.prod(shape),)) for v in left + right])
    xs = [lax.reshape(v, shape) for v in flat]
  return xs


def _reduce_fun(closed, operands, inits, dimensions):
  """The generic reduction written with lax operations: reduced axes moved to the
  front and flattened, then folded as a tree; differentiable where the computation is."""
  shape = operands[0].shape
  kept = [i for i in range(len(shape)) if i not in dimensions]
  n = math.prod(shape[d] for d in dimensions)
  rest = tuple(shape[i] for i in kept)
  perm = tuple(dimensions) + tuple(kept)
  xs = [lax.reshape(lax.transpose(x, perm), (n, math.prod(rest))) for x in operands]
  if n == 0 or math.prod(rest) == 0:
    return [lax.broadcast_in_dim(i, rest, ()) for i in inits]
  xs = _tree_fold(lambda a: _apply_batched(closed, a), xs, inits)
  return [lax.reshape(x, rest) for x in xs]


def _reduce_impl(*args, computation, jaxpr, dimensions):
  avals = _reduce_abstract(*(a.aval for a in args), computation=computation, jaxpr=jaxpr,
                           dimensions=dimensions)
  n = len(args) // 2
  outs = _reduce_fun(jaxpr, list(args[:n]), list(args[n:]), tuple(dimensions))
  return [ArrayImpl(np.asarray(o._value).reshape(a.shape).astype(a.dtype, copy=False),
                    a.weak_type) for o, a in zip(outs, avals)]


def _reduce_jvp(primals, tangents, *, computation, jaxpr, dimensions):
  n = len(primals) // 2
  if any(type(t) is not ad.Zero for t in tangents[n:]):
    raise NotImplementedError("Gradient of general lax.reduce with non-zero tangents for "
                              "initial values to reduction not implemented")
  inits = list(primals[n:])
  return ad.jvp_flat(lambda *xs: _reduce_fun(jaxpr, list(xs), inits, tuple(dimensions)),
                     list(primals[:n]), list(tangents[:n]))


def _reduce_batch(vals, dims, *, computation, jaxpr, dimensions):
  n = len(vals) // 2
  if any(d is not None for d in dims[n:]):
    raise NotImplementedError
  size = batching.batch_size(vals, dims)
  ops = [batching.bdim_at_front(v, d, size) for v, d in zip(vals[:n], dims[:n])]
  return reduce_p.bind(*ops, *vals[n:], computation=computation, jaxpr=jaxpr,
                       dimensions=tuple(d + 1 for d in dimensions)), [0] * n


def _reduce_lower(ctx, *args, computation, jaxpr, dimensions):
  n = len(args) // 2

  def body(b, *xs):
    cs = [b.constant(np.asarray(mlir._host(c)), core.get_aval(c)) for c in jaxpr.consts]
    return b.lower_jaxpr(jaxpr.jaxpr, cs, list(xs))

  return ctx.reduce(list(args[:n]), list(args[n:]), tuple(dimensions), body)


reduce_p.def_impl(_reduce_impl)
reduce_p.def_abstract_eval(_reduce_abstract)
reduce_p.jvp = _reduce_jvp
reduce_p.batch = _reduce_batch
reduce_p.lower = _reduce_lower
reduce_p.pp_params = lambda params: {"computation": params["computation"],
                                     "jaxpr": params["jaxpr"],
                                     "dimensions": params["dimensions"]}


# ---------------------------------------------------------------- lax API


def _is_concrete(x):
  return not isinstance(x, Tracer)


def _scalar_value(x):
  return np.asarray(x._value if isinstance(x, ArrayImpl) else x)


def _get_monoid_window_reducer(monoid_op, xs):
  if len(xs) != 1:
    return None
  x, = xs
  aval = core.get_aval(x)
  if _is_concrete(x) and aval.shape == ():
    val = _scalar_value(x)
    if monoid_op is lax.add:
      return val == 0 and reduce_window_sum_p
    if monoid_op is lax.max:
      return val == _get_max_identity(aval.dtype) and reduce_window_max_p
    if monoid_op is lax.min:
      return val == _get_min_identity(aval.dtype) and reduce_window_min_p
  return None


def _variadic_reduction_jaxpr(computation, flat_avals, aval_tree):
  avals = tree_util.tree_unflatten(aval_tree, flat_avals)
  flat_in, in_tree = tree_util.tree_flatten((avals, avals))
  out_tree = []

  def flat_computation(*flat_args):
    xs, ys = tree_util.tree_unflatten(in_tree, list(flat_args))
    out = computation(xs, ys)
    leaves, tree = tree_util.tree_flatten(out)
    out_tree.append(tree)
    return [_to_array(v) for v in leaves]

  jaxpr, consts = pe.trace_to_jaxpr(flat_computation, list(flat_in))
  if any(isinstance(c, Tracer) for c in consts):
    raise NotImplementedError("Reduction computations can't close over Tracers. Please "
                              "open an issue at https://github.com/jax-ml/jax.")
  return ClosedJaxpr(jaxpr, consts), out_tree[0]


def _abstract_scalar(x):
  a = core.get_aval(x)
  return ShapedArray(a.shape, a.dtype, a.weak_type)


def _flatten_operands(operands, init_values):
  """The leaves of (pytrees of) operands and init values, with JAX's errors when their
  structures differ; and the operands' tree."""
  flat_operands, operand_tree = tree_util.tree_flatten(operands)
  flat_inits, init_tree = tree_util.tree_flatten(init_values)
  if operand_tree != init_tree:
    raise ValueError(f"Operands must have the same tree structure as init_values: "
                     f"{operand_tree} vs. {init_tree}")
  if len(flat_operands) != len(flat_inits):
    raise ValueError(f"Must have same total number of operands as init_values:  "
                     f"{len(flat_operands)} vs. {len(flat_inits)}")
  return flat_operands, flat_inits, operand_tree


def _reduce_window(operand, init_value, computation, window_dimensions,
                   window_strides=None, padding="VALID", base_dilation=None,
                   window_dilation=None):
  flat_operands, flat_inits, operand_tree = _flatten_operands(operand, init_value)
  if not flat_operands:
    raise ValueError("reduce_window must have at least one operand.")
  flat_operands = [_to_array(x) for x in flat_operands]
  flat_inits = [_to_array(x) for x in flat_inits]
  if isinstance(padding, str):
    dilated = (window_dimensions if window_dilation is None else
               _dilate_shape(window_dimensions, window_dilation))
    padding = tuple(padtype_to_pads(flat_operands[0].shape, dilated,
                                    window_strides or [], padding))
  else:
    padding = tuple((operator.index(lo), operator.index(hi)) for lo, hi in padding)
  nd = len(window_dimensions)
  win = dict(window_dimensions=tuple(window_dimensions),
             window_strides=tuple(window_strides) if window_strides is not None
             else (1,) * nd,
             padding=padding,
             base_dilation=tuple(base_dilation) if base_dilation is not None else (1,) * nd,
             window_dilation=tuple(window_dilation) if window_dilation is not None
             else (1,) * nd)
  p = _get_monoid_window_reducer(computation, flat_inits)
  if p:
    x, = flat_operands
    return tree_util.tree_unflatten(operand_tree, [p.bind(x, **win)])
  closed, out_tree = _variadic_reduction_jaxpr(
      computation, [_abstract_scalar(i) for i in flat_inits], operand_tree)
  if operand_tree != out_tree:
    raise ValueError(f"reduce_window output must have the same tree structure as the "
                     f"operands {operand_tree} vs. {out_tree}")
  outs = reduce_window_p.bind(*flat_operands, *flat_inits, jaxpr=closed.jaxpr,
                              consts=tuple(closed.consts), **win)
  return tree_util.tree_unflatten(out_tree, outs)


def reduce_window(operand, init_value, computation, window_dimensions,
                  window_strides=None, padding="VALID", base_dilation=None,
                  window_dilation=None):
  """Reduction over padded windows (XLA's ReduceWindowWithGeneralPadding)."""
  return _reduce_window(operand, init_value, computation, window_dimensions,
                        window_strides, padding, base_dilation, window_dilation)


def _get_monoid_reducer(monoid_op, xs):
  if len(xs) != 1:
    return None
  x, = xs
  aval = core.get_aval(x)
  dt = aval.dtype
  if _is_concrete(x) and aval.shape == ():
    val = _scalar_value(x)
    intlike = dt == np.bool_ or dt.kind in "iu"
    if monoid_op is lax.add:
      return lax.reduce_sum if np.equal(val, 0) else None
    if monoid_op is lax.mul:
      return reductions.reduce_prod if np.equal(val, 1) else None
    if monoid_op is lax.bitwise_or and intlike:
      return reductions.reduce_or if np.equal(val, np.array(0).astype(dt)) else None
    if monoid_op is lax.bitwise_and and intlike:
      return reductions.reduce_and if np.equal(val, np.array(-1).astype(dt)) else None
    if monoid_op is lax.bitwise_xor and intlike:
      return reductions.reduce_xor if np.equal(val, np.array(0).astype(dt)) else None
    if monoid_op is lax.max:
      return reductions.reduce_max if np.equal(val, _get_max_identity(dt)) else None
    if monoid_op is lax.min:
      return reductions.reduce_min if np.equal(val, _get_min_identity(dt)) else None
  return None


def reduce(operands, init_values, computation, dimensions, out_sharding=None):
  """XLA's Reduce: ``computation`` folds ``dimensions`` of the (pytree of) operands,
  from the scalar ``init_values``."""
  flat_operands, flat_inits, operand_tree = _flatten_operands(operands, init_values)
  flat_operands = [_to_array(x) for x in flat_operands]
  flat_inits = [_to_array(x) for x in flat_inits]
  dimensions = tuple(operator.index(d) for d in dimensions)
  monoid = _get_monoid_reducer(computation, flat_inits)
  if monoid:
    weak = all(core.get_aval(x).weak_type for x in flat_operands + flat_inits)
    out = monoid(*flat_operands, dimensions)
    return lax._convert_element_type(out, out.dtype, weak)
  closed, out_tree = _variadic_reduction_jaxpr(
      computation, [_abstract_scalar(i) for i in flat_inits], operand_tree)
  outs = reduce_p.bind(*flat_operands, *flat_inits, computation=computation,
                       jaxpr=closed, dimensions=dimensions)
  return tree_util.tree_unflatten(out_tree, outs)

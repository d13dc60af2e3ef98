"""Linear-algebra primitives (``jax.lax.linalg``). Each primitive is one block.

Operands are stacks of matrices ``[..., m, n]``; impls call SciPy's LAPACK/BLAS (the
routines jaxlib calls on CPU, so eager results match JAX bit for bit). IREE legalizes
neither ``stablehlo.cholesky`` nor ``stablehlo.triangular_solve``, so cholesky,
triangular_solve, lu and qr lower to ``stablehlo.while`` loops of vector steps in
LAPACK's unblocked order (equal to eager within rounding); eigh and svd lower to
Jacobi sweeps (equal to eager within a few hundred ulps of the largest value; eigenvectors
and singular vectors up to phase).
"""
from __future__ import annotations

import warnings

import numpy as np

from pyjax._src import core
from pyjax._src.array import ArrayImpl
from pyjax._src.core import Primitive, ShapedArray
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import lowering as mlir
from pyjax._src.lax import dot as lax_dot
from pyjax._src.lax import lax, slicing
from pyjax._src.lax import reductions as lax_reductions
from pyjax._src.lax import sorting as lax_sorting
from pyjax._src.lax.utils import ShardingTypeError, make_sharding, spec_of
from pyjax._src.sharding import PartitionSpec

_INT32 = np.dtype(np.int32)


def _float0_zeros(aval):
  return ad.Zero(ad.tangent_aval(aval))


# ---------------------------------------------------------------- helpers on arrays


def _T(x):
  nd = x.ndim
  return lax.transpose(x, (*range(nd - 2), nd - 1, nd - 2))


def _conj(x):
  return lax.conj(x) if x.dtype.kind == "c" else x


def _H(x):
  return _conj(_T(x))


def _mm(a, b):
  """Batched matrix product ``a @ b`` over equal leading dimensions."""
  nb = a.ndim - 2
  batch = tuple(range(nb))
  return lax_dot.dot_general(a, b, (((nb + 1,), (nb,)), (batch, batch)))


def _tri_mask(shape, k, lower):
  rows = lax.broadcasted_iota(_INT32, shape, len(shape) - 2)
  cols = lax.broadcasted_iota(_INT32, shape, len(shape) - 1)
  return lax.ge(lax.add(rows, lax.full((), k, _INT32)), cols) if lower else \
      lax.le(lax.add(rows, lax.full((), k, _INT32)), cols)


def _tril(x, k=0):
  return lax.select(_tri_mask(x.shape, k, True), x, lax.full_like(x, 0))


def _triu(x, k=0):
  return lax.select(_tri_mask(x.shape, k, False), x, lax.full_like(x, 0))


def _eye_like(x, dtype=None):
  """Identity matrices broadcast to ``x``'s shape."""
  rows = lax.broadcasted_iota(_INT32, x.shape, x.ndim - 2)
  cols = lax.broadcasted_iota(_INT32, x.shape, x.ndim - 1)
  return _indicator(lax.eq(rows, cols), dtype or x.dtype)


def _indicator(mask, dtype):
  """1 where ``mask`` else 0. A select, not a convert: IREE can turn a bool -> float
  convert feeding a dot_general into -1 for true."""
  return lax.select(mask, lax.full(mask.shape, 1, dtype), lax.full(mask.shape, 0, dtype))


def _diag(x):
  """The main diagonal of ``x`` ``[..., n, n]`` as ``[..., n]``."""
  return lax.reduce_sum(lax.mul(x, _eye_like(x)), (x.ndim - 1,))


def _real(x):
  return lax.real(x) if x.dtype.kind == "c" else x


def _cast(x, dtype):
  return lax.convert_element_type(x, dtype)


def _check_matrix(name, x: ShapedArray, square=False):
  if x.ndim < 2 or (square and x.shape[-1] != x.shape[-2]):
    what = "square matrices" if square else "matrices"
    raise ValueError(f"{name}: argument must be a stack of {what} (shape [..., m, n]"
                     f"{' with m == n' if square else ''}), got shape {x.shape}")
  if not (x.dtype.kind in "fc" and x.dtype.itemsize >= 4):
    raise TypeError(f"{name}: argument must be float32, float64, complex64 or complex128, "
                    f"got {x.dtype.name}")


def _batch_front(prim):
  """Batch rule for single-operand primitives: the batch axis moves to the front."""
  def rule(vals, dims, **params):
    x = batching.moveaxis(vals[0], dims[0], 0)
    out = prim.bind(x, **params)
    return out, ([0] * len(out) if prim.multiple_results else 0)
  return rule


def _per_matrix(fn, v, *out_shapes):
  """Applies ``fn`` (one matrix -> a tuple of arrays) to each matrix of the stack ``v``;
  ``out_shapes`` are the per-matrix output shapes. SciPy's LAPACK is the one jaxlib
  calls on CPU, so results match JAX bit for bit."""
  batch = v.shape[:-2]
  flat = v.reshape(int(np.prod(batch)), *v.shape[-2:])
  outs = None
  for k, a in enumerate(flat):
    res = fn(a)
    if outs is None:
      outs = [np.empty((flat.shape[0], *shp), r.dtype) for shp, r in zip(out_shapes, res)]
    for o, r in zip(outs, res):
      o[k] = r
  if outs is None:  # an empty stack
    outs = [np.empty((0, *shp), v.dtype) for shp in out_shapes]
  return [o.reshape(*batch, *o.shape[1:]) for o in outs]


# ---------------------------------------------------------------- lowering helpers


def _while(ctx, init, cond, body):
  """``stablehlo.while`` carrying ``init`` (a list of Vals); ``cond(b, *carry)`` returns
  a bool scalar Val, ``body(b, *carry)`` the new carry. Returns the final carry."""
  avals = [v.aval for v in init]
  return ctx.op("stablehlo.while", list(init), avals, "",
                [ctx.region(avals, lambda b, *c: [cond(b, *c)]), ctx.region(avals, body)])


def _fori(ctx, n, init, body):
  """``stablehlo.while`` for ``i`` in ``[0, n)`` carrying ``init`` (a list of Vals);
  ``body(b, i, *carry) -> new carry``. Returns the final carry."""
  def cond(b, i, *_):
    return b.compare("LT", i, b.full(n, (), _INT32))

  def step(b, i, *carry):
    return [b.binary("add", i, b.full(1, (), _INT32)), *body(b, i, *carry)]

  return _while(ctx, [ctx.full(0, (), _INT32), *init], cond, step)[1:]


def _iota(b, shape, axis):
  return b.op("stablehlo.iota", [], ShapedArray(tuple(shape), _INT32),
              f"iota_dimension = {axis} : i64")


def _select_sum(b, mask, x, axis):
  """The entries of ``x`` where ``mask`` holds, summed over ``axis``: an exact gather
  of one entry per row/column (a dot with a one-hot vector would turn inf into NaN)."""
  masked = b.select(mask, x, b.broadcast(b.full(0, (), x.aval.dtype), x.aval.shape))
  return _reduce_sum(b, masked, (axis,))


def _reduce_sum(b, x, axes):
  return b.reduce([x], [b.full(0, (), x.aval.dtype)], tuple(axes),
                  lambda c, u, w: [c.binary("add", u, w)])[0]


def _take(b, x, axis, i):
  """``x`` indexed by the scalar ``i`` along ``axis`` (that axis removed)."""
  idx = _iota(b, x.aval.shape, axis)
  return _select_sum(b, b.compare("EQ", idx, b.broadcast(i, x.aval.shape)), x, axis)


def _contract(b, M, v, axis):
  """``M`` [..., r, c] times the vector ``v`` [..., r or c] over ``M``'s ``axis``, by
  multiply and reduce: IREE's CPU backend fails on matrix-vector dot_generals that
  contract rows (stack limit) and on complex ones (crash)."""
  nd = M.aval.ndim
  keep = tuple(d for d in range(nd) if d != (nd - 1 if axis == nd - 2 else nd - 2))
  return _reduce_sum(b, b.binary("multiply", M, _bcast_dims(b, v, M.aval.shape, keep)), (axis,))


def _bcast_dims(b, x, shape, dims):
  return b.op("stablehlo.broadcast_in_dim", [x], ShapedArray(tuple(shape), x.aval.dtype),
              f"broadcast_dimensions = {mlir._i64_array(dims)}")


def _conj_val(b, x):
  if x.aval.dtype.kind != "c":
    return x
  rdt = np.finfo(x.aval.dtype).dtype
  re, im = b.unary("real", x, rdt), b.unary("imag", x, rdt)
  return b.op("stablehlo.complex", [re, b.unary("negate", im)], x.aval)


def _transpose_val(b, x):
  nd = x.aval.ndim
  perm = (*range(nd - 2), nd - 1, nd - 2)
  shape = tuple(x.aval.shape[p] for p in perm)
  return b.op("stablehlo.transpose", [x], x.aval.update(shape=shape),
              f"permutation = {mlir._i64_array(perm)}")


def _slice(b, x, axis, start, limit, stride=1):
  """``x[..., start:limit:stride, ...]`` along ``axis`` (static bounds)."""
  shape, nd = x.aval.shape, x.aval.ndim
  lo, hi, st = [0] * nd, list(shape), [1] * nd
  lo[axis], hi[axis], st[axis] = start, limit, stride
  out = tuple(len(range(start, limit, stride)) if d == axis else shape[d] for d in range(nd))
  return b.op("stablehlo.slice", [x], x.aval.update(shape=out),
              f"start_indices = {mlir._i64_array(lo)}, limit_indices = {mlir._i64_array(hi)}, "
              f"strides = {mlir._i64_array(st)}")


def _concat(b, xs, axis):
  if len(xs) == 1:
    return xs[0]
  shape = list(xs[0].aval.shape)
  shape[axis] = sum(x.aval.shape[axis] for x in xs)
  return b.op("stablehlo.concatenate", list(xs), xs[0].aval.update(shape=tuple(shape)),
              f"dimension = {axis} : i64")


def _reshape(b, x, shape):
  shape = tuple(shape)
  return x if x.aval.shape == shape else \
      b.op("stablehlo.reshape", [x], x.aval.update(shape=shape))


def _pad_to(b, x, shape):
  """``x`` zero-padded at the high end of each axis to ``shape`` (by concatenation:
  IREE crashes on a complex ``stablehlo.pad``)."""
  for axis, size in enumerate(shape):
    have = x.aval.shape[axis]
    if size > have:
      zshape = (*x.aval.shape[:axis], size - have, *x.aval.shape[axis + 1:])
      x = _concat(b, [x, b.full(0, zshape, x.aval.dtype)], axis)
  return x


def _abs2(b, v):
  """``|v|**2`` in ``v``'s real dtype."""
  if v.aval.dtype.kind != "c":
    return b.binary("multiply", v, v)
  rdt = np.finfo(v.aval.dtype).dtype
  re, im = b.unary("real", v, rdt), b.unary("imag", v, rdt)
  return b.binary("add", b.binary("multiply", re, re), b.binary("multiply", im, im))


def _any(b, pred):
  """Whether ``pred`` holds anywhere (a bool scalar)."""
  if not pred.aval.ndim:
    return pred
  return b.reduce([pred], [b.full(False, (), np.bool_)], tuple(range(pred.aval.ndim)),
                  lambda c, u, w: [c.binary("or", u, w)])[0]


def _nonfinite_poisons(b, x):
  """Per matrix of the input stack ``x``: (NaN where it holds a NaN else 0, NaN where it
  holds a NaN or an inf else 0). Emitted before the Jacobi loops and added to their
  outputs by ``_poisoned``: computed after them, or applied with a select, this trips
  IREE's compiler in programs with two decompositions."""
  nb = x.aval.ndim - 2
  rdt = np.finfo(x.aval.dtype).dtype
  mag = _abs2(b, x)  # NaN stays NaN, inf stays inf

  def poison(bad):
    v = b.select(bad, b.full(np.nan, bad.aval.shape, rdt), b.full(0, bad.aval.shape, rdt))
    return _reduce_sum(b, _reduce_sum(b, v, (nb + 1,)), (nb,))

  return (poison(b.compare("NE", mag, mag)),
          poison(b.unary("not", b.compare("LT", mag, b.full(np.inf, (), rdt)))))


def _poisoned(b, poisons, outs, nan_outs):
  """LAPACK's answers for a matrix with a NaN (every output NaN) or an inf (``nan_outs``,
  the eigen/singular values, NaN); the first axes of each output are the batch."""
  has_nan, nonfinite = poisons
  nb = has_nan.aval.ndim
  res = []
  for i, o in enumerate(outs):
    p = b.convert(nonfinite if i in nan_outs else has_nan, o.aval.dtype)
    res.append(b.binary("add", o, _bcast_dims(b, p, o.aval.shape, tuple(range(nb)))))
  return res


def _nan_matrix_outputs(fn, nan_outs=()):
  """``fn`` on one matrix, except that one with a NaN gets all-NaN outputs and one with
  an inf NaN in ``nan_outs`` (eager twin of ``_poisoned``)."""
  def one(a):
    if np.isfinite(a).all():
      return fn(a)
    res = fn(np.where(np.isfinite(a), a, 0))  # (shapes and dtypes; LAPACK may fail on NaN)
    nan = np.isnan(a).any()
    return tuple(np.full_like(r, np.nan) if nan or i in nan_outs else r
                 for i, r in enumerate(res))
  return one


# Parallel (round-robin) Jacobi sweeps, shared by the eigh and svd lowerings. Indices are
# paired (0, 1), (2, 3), ...: one step rotates all pairs at once (vector ops on the even
# and odd columns), then permutes the indices as players in a round-robin tournament, so
# that the n - 1 steps of a sweep meet every pair once and end in the original order.


def _rr_merge(b, top, bot, axis):
  """Interleaves the even (``top``) and odd (``bot``) entries along ``axis`` after one
  round-robin move: ``top[0]`` stays, the others move one place along the ring
  top[1], ..., top[-1], bot[-1], ..., bot[0] (and back to top[1])."""
  k = top.aval.shape[axis]
  if k > 1:
    t_mid = [_slice(b, top, axis, 1, k - 1)] if k > 2 else []
    top, bot = (_concat(b, [_slice(b, top, axis, 0, 1), _slice(b, bot, axis, 0, 1), *t_mid],
                        axis),
                _concat(b, [_slice(b, bot, axis, 1, k), _slice(b, top, axis, k - 1, k)], axis))
  shape = top.aval.shape
  unit = (*shape[:axis + 1], 1, *shape[axis + 1:])
  both = _concat(b, [_reshape(b, top, unit), _reshape(b, bot, unit)], axis + 1)
  return _reshape(b, both, (*shape[:axis], 2 * k, *shape[axis + 1:]))


def _rr_positions(n):
  """Where ``_rr_merge`` moves each of the indices ``0..n-1`` (n even)."""
  idx = np.arange(n)
  top, bot = idx[0::2], idx[1::2]
  if n > 2:
    top, bot = (np.concatenate([top[:1], bot[:1], top[1:-1]]),
                np.concatenate([bot[1:], top[-1:]]))
  return np.argsort(np.stack([top, bot], 1).reshape(-1))


def _jacobi_rotation(b, app, aqq, apq, skip):
  """``(c, sigma, t)`` of the rotation ``J = [[c, sigma], [-conj(sigma), c]]`` with
  ``J^H [[app, apq], [conj(apq), aqq]] J`` diagonal (``app``, ``aqq`` real; Golub and
  Van Loan's symmetric Schur step on ``|apq|``, phase carried by ``sigma``); the new
  diagonal is ``app - t |apq|``, ``aqq + t |apq|``. The identity where ``skip``."""
  rdt = app.aval.dtype
  shape = app.aval.shape
  one, zero = b.full(1, shape, rdt), b.full(0, shape, rdt)
  mag = b.unary("sqrt", _abs2(b, apq))
  safe = b.select(skip, one, mag)
  tau = b.binary("divide", b.binary("subtract", aqq, app), b.binary("add", safe, safe))
  root = b.unary("sqrt", b.binary("add", one, b.binary("multiply", tau, tau)))
  t = b.binary("divide", b.select(b.compare("GE", tau, zero), one, b.full(-1, shape, rdt)),
               b.binary("add", b.unary("abs", tau), root))
  t = b.select(skip, zero, t)
  c = b.unary("rsqrt", b.binary("add", one, b.binary("multiply", t, t)))
  s = b.binary("multiply", t, c)
  if apq.aval.dtype.kind != "c":
    sigma = b.select(b.compare("LT", apq, zero), b.unary("negate", s), s)
  else:
    re = b.binary("divide", b.unary("real", apq, rdt), safe)
    im = b.binary("divide", b.unary("imag", apq, rdt), safe)
    sigma = b.op("stablehlo.complex", [b.binary("multiply", s, b.select(skip, one, re)),
                                       b.binary("multiply", s, b.select(skip, zero, im))],
                 apq.aval)
  return c, sigma, t


def _rotate_pairs(b, ev, od, c, sigma, axis, rows):
  """The even/odd slices ``ev``, ``od`` (pairs along ``axis``) times ``J`` on the right
  (columns) or ``J^H`` on the left (``rows``): ``c``, ``sigma`` ``[..., k]`` per pair."""
  nb = c.aval.ndim - 1
  shape, dt = ev.aval.shape, ev.aval.dtype
  dims = (*range(nb), axis)
  cb = _bcast_dims(b, b.convert(c, dt), shape, dims)
  sb = _bcast_dims(b, sigma, shape, dims)
  sc = _bcast_dims(b, _conj_val(b, sigma), shape, dims)
  s_ev, s_od = (sc, sb) if rows else (sb, sc)
  return (b.binary("subtract", b.binary("multiply", cb, ev), b.binary("multiply", s_od, od)),
          b.binary("add", b.binary("multiply", s_ev, ev), b.binary("multiply", cb, od)))


def _sort_columns(b, keys, x):
  """The columns of ``x`` ``[..., r, c]`` ordered by ascending ``keys`` ``[..., c]``
  (stable); returns the sorted keys and ``x``."""
  nb = keys.aval.ndim - 1
  kb = _bcast_dims(b, keys, x.aval.shape, (*range(nb), nb + 1))
  ks, x = lax_sorting._sort_lower(b, kb, x, dimension=nb + 1, is_stable=True, num_keys=1)
  return _reshape(b, _slice(b, ks, nb, 0, 1), keys.aval.shape), x


# ---------------------------------------------------------------- cholesky


def _linalg_sharding_rule(prim, ranks):
  """JAX's rule for the decompositions: the operands' matrix dimensions (the last
  ``ranks[i]``) replicated, one batch sharding for all, which the outputs keep."""
  def rule(*avals, **params):
    batch_specs = []
    for i, (rank, a) in enumerate(zip(ranks, avals)):
      spec = spec_of(a)
      if any(s is not None for s in spec[len(spec) - rank:]):
        raise ShardingTypeError(f"Input {i} to {prim.name} must be unsharded on non-batch "
                                f"dimensions, but got {PartitionSpec(*spec)}.")
      batch_specs.append(spec[:len(spec) - rank])
    if any(b != batch_specs[0] for b in batch_specs[1:]):
      raise ShardingTypeError(f"All inputs to {prim.name} must have the same batch "
                              f"sharding, but got {batch_specs}.")
    b = batch_specs[0]
    mesh = avals[0].sharding.mesh if avals[0].sharding is not None else \
        next(a.sharding.mesh for a in avals if a.sharding is not None)
    out = prim.abstract_eval(*avals, **params)
    outs = out if prim.multiple_results else [out]
    shardings = [make_sharding(mesh, (*b, *[None] * (len(o.shape) - len(b)))) for o in outs]
    return shardings if prim.multiple_results else shardings[0]
  return rule


cholesky_p = Primitive("cholesky")


def _cholesky_abstract(x):
  _check_matrix("cholesky", x, square=True)
  return ShapedArray(x.shape, x.dtype)


def _cholesky_one(m):
  """Lower Cholesky factor; a matrix that is not positive definite gives all NaN."""
  import scipy.linalg
  try:
    return (scipy.linalg.cholesky(m, lower=True, check_finite=False),)
  except np.linalg.LinAlgError:
    return (np.full(m.shape, np.nan, m.dtype),)


def _cholesky_impl(x):
  _cholesky_abstract(x.aval)
  v = np.asarray(x._value)
  return ArrayImpl(_per_matrix(_cholesky_one, v, v.shape[-2:])[0].astype(x.dtype), False)


def _cholesky_jvp(primals, tangents):
  x, = primals
  t = ad.instantiate(tangents[0])
  L = cholesky_p.bind(x)
  sym = lax.div(lax.add(t, _H(t)), lax.full((), 2, t.dtype))
  # L^{-1} sym L^{-H}, then phi (lower triangle, halved diagonal).
  tmp = triangular_solve(L, sym, left_side=False, lower=True, transpose_a=True,
                         conjugate_a=True)
  tmp = triangular_solve(L, tmp, left_side=True, lower=True)
  phi = lax.sub(_tril(tmp), lax.mul(lax.full((), 0.5, t.dtype), lax.mul(tmp, _eye_like(tmp))))
  return L, _mm(L, phi)


def _cholesky_lower(ctx, x):
  aval = x.aval
  *batch, n, _ = aval.shape
  nb, dt = len(batch), aval.dtype
  rdt = np.finfo(dt).dtype
  vec = ShapedArray((*batch, n), dt)

  def body(b, j, L):
    acol = _take(b, x, nb + 1, j)                            # A[..., :, j]
    lrow = _take(b, L, nb, j)                                # L[..., j, :]
    v = b.binary("subtract", acol, _contract(b, L, _conj_val(b, lrow), nb + 1))
    vjj = _take(b, v, nb, j)
    d = b.unary("sqrt", b.unary("real", vjj, rdt) if dt.kind == "c" else vjj)
    d = b.convert(d, dt) if dt.kind == "c" else d
    dv = _bcast_dims(b, d, vec.shape, range(nb))
    iota = _iota(b, vec.shape, nb)
    jv = b.broadcast(j, vec.shape)
    col = b.select(b.compare("GT", iota, jv), b.binary("divide", v, dv),
                   b.select(b.compare("EQ", iota, jv), dv, b.full(0, vec.shape, dt)))
    cols = _iota(b, aval.shape, nb + 1)
    return [b.select(b.compare("EQ", cols, b.broadcast(j, aval.shape)),
                     _bcast_dims(b, col, aval.shape, range(nb + 1)), L)]

  L, = _fori(ctx, n, [ctx.full(0, aval.shape, dt)], body)
  # A matrix that is not positive definite gives NaN everywhere, as LAPACK-backed JAX.
  parts = [L] if dt.kind != "c" else [ctx.unary("real", L, rdt), ctx.unary("imag", L, rdt)]
  fin = None
  for p in parts:
    f = ctx.unary("is_finite", p, np.bool_)
    fin = f if fin is None else ctx.binary("and", fin, f)
  init = ctx.full(True, (), np.bool_)
  ok, = ctx.reduce([fin], [init], (nb, nb + 1), lambda b, u, w: [b.binary("and", u, w)])
  ok = _bcast_dims(ctx, ok, aval.shape, range(nb))
  return ctx.select(ok, L, ctx.full(np.nan, aval.shape, dt))


cholesky_p.def_impl(_cholesky_impl)
cholesky_p.def_abstract_eval(_cholesky_abstract)
cholesky_p.sharding_rule = _linalg_sharding_rule(cholesky_p, (2,))
cholesky_p.jvp = _cholesky_jvp
cholesky_p.batch = _batch_front(cholesky_p)
cholesky_p.lower = _cholesky_lower


def cholesky(x, *, symmetrize_input: bool = True):
  """Lower Cholesky factor of ``x`` (only its lower triangle is read unless
  ``symmetrize_input``, which uses ``(x + x^H) / 2``)."""
  x = lax._to_array(x)
  _check_matrix("cholesky", core.get_aval(x), square=True)
  if symmetrize_input:
    x = symmetrize(x)
  return _tril(cholesky_p.bind(x))


def symmetrize(x):
  return lax.div(lax.add(x, _H(x)), lax.full((), 2, x.dtype))


# ---------------------------------------------------------------- triangular_solve


triangular_solve_p = Primitive("triangular_solve")


def _triangular_solve_abstract(a, b, *, left_side, lower, transpose_a, conjugate_a,
                               unit_diagonal):
  _check_matrix("triangular_solve", a, square=True)
  _check_matrix("triangular_solve", b)
  if a.dtype != b.dtype:
    raise TypeError(f"triangular_solve requires a and b to have the same dtype, got "
                    f"{a.dtype.name} and {b.dtype.name}")
  if a.shape[:-2] != b.shape[:-2]:
    raise ValueError(f"triangular_solve: a and b must have equal batch dimensions, got "
                     f"a.shape={a.shape} and b.shape={b.shape}")
  k = b.shape[-2] if left_side else b.shape[-1]
  if k != a.shape[-1]:
    side = "b.shape[-2]" if left_side else "b.shape[-1]"
    raise TypeError(f"triangular_solve: {side} ({k}) must equal a's size {a.shape[-1]} "
                    f"(left_side={left_side}); got a.shape={a.shape}, b.shape={b.shape}")
  return ShapedArray(b.shape, b.dtype)


def _triangular_solve_impl(a, b, **params):
  _triangular_solve_abstract(a.aval, b.aval, **params)
  from scipy.linalg import blas
  av, bv = np.asarray(a._value), np.asarray(b._value)
  trans = 2 if params["conjugate_a"] else int(params["transpose_a"])
  if params["conjugate_a"] and not params["transpose_a"]:
    av, trans = np.conj(av), 0
  trsm = blas.get_blas_funcs("trsm", dtype=av.dtype)   # as jaxlib on CPU

  flat_a = av.reshape(-1, *av.shape[-2:])
  flat_b = bv.reshape(-1, *bv.shape[-2:])
  out = np.empty_like(flat_b)
  for k, (ak, bk) in enumerate(zip(flat_a, flat_b)):
    out[k] = trsm(1.0, ak, bk, side=int(not params["left_side"]), lower=int(params["lower"]),
                  trans_a=trans, diag=int(params["unit_diagonal"]))
  return ArrayImpl(out.reshape(bv.shape).astype(b.dtype), False)


def _op_a(a, transpose_a, conjugate_a):
  a = _conj(a) if conjugate_a else a
  return _T(a) if transpose_a else a


def _triangular_solve_jvp_a(t, ans, a, b, *, left_side, lower, transpose_a, conjugate_a,
                            unit_diagonal):
  k = -1 if unit_diagonal else 0
  t = _tril(t, k) if lower else _triu(t, -k)
  dop = _op_a(t, transpose_a, conjugate_a)
  rhs = _mm(dop, ans) if left_side else _mm(ans, dop)
  return lax.neg(triangular_solve_p.bind(
      a, rhs, left_side=left_side, lower=lower, transpose_a=transpose_a,
      conjugate_a=conjugate_a, unit_diagonal=unit_diagonal))


def _triangular_solve_jvp_b(t, ans, a, b, **params):
  return triangular_solve_p.bind(a, t, **params)


def _triangular_solve_transpose(ct, a, b, *, left_side, lower, transpose_a, conjugate_a,
                                unit_diagonal):
  if ad.is_undefined_primal(a):
    raise ValueError("triangular_solve transpose: the function is not linear in a.")
  ct = ad.instantiate(ct)
  return [None, triangular_solve_p.bind(
      a, ct, left_side=left_side, lower=lower, transpose_a=not transpose_a,
      conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)]


def _triangular_solve_batch(vals, dims, **params):
  size = batching.batch_size(vals, dims)
  a, b = (batching.bdim_at_front(v, d, size) for v, d in zip(vals, dims))
  return triangular_solve_p.bind(a, b, **params), 0


def _triangular_solve_lower(ctx, a, b, *, left_side, lower, transpose_a, conjugate_a,
                            unit_diagonal):
  # Reduce to a left-side solve M X = B by forward/back substitution, one row a step.
  m_ = _conj_val(ctx, a) if conjugate_a else a
  if transpose_a:
    m_, lower = _transpose_val(ctx, m_), not lower
  if not left_side:
    m_, lower, b = _transpose_val(ctx, m_), not lower, _transpose_val(ctx, b)
  *batch, m, n = b.aval.shape
  nb, dt = len(batch), b.aval.dtype
  bd = tuple(range(nb))

  def body(c, k, X):
    i = k if lower else c.binary("subtract", c.full(m - 1, (), _INT32), k)
    mrow = _take(c, m_, nb, i)                         # M[..., i, :]
    x = c.binary("subtract", _take(c, b, nb, i), _contract(c, X, mrow, nb))
    if not unit_diagonal:
      mii = _take(c, mrow, nb, i)
      x = c.binary("divide", x, _bcast_dims(c, mii, x.aval.shape, bd))
    rows = _iota(c, b.aval.shape, nb)
    return [c.select(c.compare("EQ", rows, c.broadcast(i, b.aval.shape)),
                     _bcast_dims(c, x, b.aval.shape, (*bd, nb + 1)), X)]

  X, = _fori(ctx, m, [ctx.full(0, b.aval.shape, dt)], body)
  return X if left_side else _transpose_val(ctx, X)


triangular_solve_p.def_impl(_triangular_solve_impl)
triangular_solve_p.def_abstract_eval(_triangular_solve_abstract)
triangular_solve_p.sharding_rule = _linalg_sharding_rule(triangular_solve_p, (2, 2))
ad.defjvp2(triangular_solve_p, _triangular_solve_jvp_a, _triangular_solve_jvp_b)
triangular_solve_p.transpose = _triangular_solve_transpose
triangular_solve_p.batch = _triangular_solve_batch
triangular_solve_p.lower = _triangular_solve_lower


def triangular_solve(a, b, *, left_side: bool = False, lower: bool = False,
                     transpose_a: bool = False, conjugate_a: bool = False,
                     unit_diagonal: bool = False):
  """Solves ``op(a) @ x = b`` (``left_side``) or ``x @ op(a) = b`` for triangular ``a``.
  A 1-D ``b`` is a vector; leading dimensions of ``a`` and ``b`` broadcast."""
  a, b = lax._to_array(a), lax._to_array(b)
  vec = b.ndim == a.ndim - 1
  if vec:
    b = lax.expand_dims(b, (-1,) if left_side else (-2,))
  batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
  a = _bcast_batch(a, batch)
  b = _bcast_batch(b, batch)
  out = triangular_solve_p.bind(a, b, left_side=bool(left_side), lower=bool(lower),
                                transpose_a=bool(transpose_a), conjugate_a=bool(conjugate_a),
                                unit_diagonal=bool(unit_diagonal))
  return lax.squeeze(out, (-1,) if left_side else (-2,)) if vec else out


def _bcast_batch(x, batch):
  shape = (*batch, *x.shape[-2:])
  if x.shape == shape:
    return x
  return lax.broadcast_in_dim(x, shape, tuple(range(len(shape) - x.ndim, len(shape))))


# ---------------------------------------------------------------- lu


lu_p = Primitive("lu")
lu_p.multiple_results = True


def _lu_abstract(x):
  _check_matrix("lu", x)
  *batch, m, n = x.shape
  k = min(m, n)
  return [ShapedArray(x.shape, x.dtype), ShapedArray((*batch, k), _INT32),
          ShapedArray((*batch, m), _INT32)]


def _pivots_to_permutation_np(piv, m):
  perm = np.broadcast_to(np.arange(m, dtype=np.int32), (*piv.shape[:-1], m)).copy()
  flat, fp = perm.reshape(-1, m), piv.reshape(-1, piv.shape[-1])
  for row, p in zip(flat, fp):
    for i, j in enumerate(p):
      row[i], row[j] = row[j], row[i]
  return perm


def _lu_impl(x):
  _lu_abstract(x.aval)
  import scipy.linalg
  v = np.asarray(x._value)
  m, n = v.shape[-2:]
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # singular matrices: LAPACK's factors, as JAX
    lus, pivs = _per_matrix(lambda a: scipy.linalg.lu_factor(a, check_finite=False), v,
                            (m, n), (min(m, n),))
  pivs = pivs.astype(np.int32)
  return [ArrayImpl(lus.astype(x.dtype), False), ArrayImpl(pivs, False),
          ArrayImpl(_pivots_to_permutation_np(pivs, m), False)]


def _lu_jvp(primals, tangents):
  x, = primals
  lu_, piv, perm = lu_p.bind(x)
  *_, m, n = x.shape
  if m != n:
    raise NotImplementedError("lu: differentiation is implemented for square matrices "
                              f"only, got shape {x.shape}")
  t = ad.instantiate(tangents[0])
  # P dA = dL U + L dU with L unit lower, U upper: solve L^{-1} P dA U^{-1}.
  cols = lax.broadcasted_iota(_INT32, x.shape, x.ndim - 1)
  P = _indicator(lax.eq(lax.broadcast_in_dim(perm, x.shape, tuple(range(x.ndim - 1))), cols),
                 x.dtype)
  L = lax.add(_tril(lu_, -1), _eye_like(lu_))
  U = _triu(lu_)
  la = triangular_solve(L, _mm(P, t), left_side=True, lower=True, unit_diagonal=True)
  lau = triangular_solve(U, la, left_side=False, lower=False)
  dlu = lax.add(_mm(L, _tril(lau, -1)), _mm(_triu(lau), U))
  return [lu_, piv, perm], [dlu, _float0_zeros(piv.aval), _float0_zeros(perm.aval)]


lu_p.def_impl(_lu_impl)
lu_p.def_abstract_eval(_lu_abstract)
lu_p.sharding_rule = _linalg_sharding_rule(lu_p, (2,))
lu_p.jvp = _lu_jvp
lu_p.batch = _batch_front(lu_p)
def _lu_lower(ctx, x):
  # Right-looking LU with partial pivoting, one column a step (LAPACK's getf2 order).
  aval = x.aval
  *batch, m, n = aval.shape
  nb, dt, k = len(batch), aval.dtype, min(m, n)
  bd = tuple(range(nb))
  rdt = np.finfo(dt).dtype
  i32 = _INT32
  mat_i = lambda b, d: _iota(b, aval.shape, d)
  vec_i = lambda b, size: _iota(b, (*batch, size), nb)

  def body(b, j, A, piv, perm):
    rows, cols = mat_i(b, nb), mat_i(b, nb + 1)
    jm = b.broadcast(j, aval.shape)
    col = _select_sum(b, b.compare("EQ", cols, jm), A, nb + 1)            # A[..., :, j]
    if dt.kind == "c":  # LAPACK's icamax compares |re| + |im|
      mag = b.binary("add", b.unary("abs", b.unary("real", col, rdt)),
                     b.unary("abs", b.unary("imag", col, rdt)))
    else:
      mag = b.unary("abs", col)
    ri = vec_i(b, m)
    mag = b.select(b.compare("GE", ri, b.broadcast(j, ri.aval.shape)), mag,
                   b.full(-1, mag.aval.shape, rdt))

    def better(c, av, ai, bv, bi):
      take_a = c.binary("or", c.compare("GT", av, bv),
                        c.binary("and", c.compare("EQ", av, bv), c.compare("LT", ai, bi)))
      return [c.select(take_a, av, bv), c.select(take_a, ai, bi)]
    _, p = b.reduce([mag, ri], [b.full(-2, (), rdt), b.full(m, (), i32)], (nb,), better)
    # Swap rows j and p of A and of perm.
    pm = _bcast_dims(b, p, aval.shape, bd)
    is_j, is_p = b.compare("EQ", rows, jm), b.compare("EQ", rows, pm)
    row_j = _bcast_dims(b, _select_sum(b, is_j, A, nb), aval.shape, (*bd, nb + 1))
    row_p = _bcast_dims(b, _select_sum(b, is_p, A, nb), aval.shape, (*bd, nb + 1))
    A = b.select(is_j, row_p, b.select(is_p, row_j, A))
    pv = _bcast_dims(b, p, perm.aval.shape, bd)
    jv = b.broadcast(j, perm.aval.shape)
    perm_j = _select_sum(b, b.compare("EQ", ri, jv), perm, nb)
    perm_p = _select_sum(b, b.compare("EQ", ri, pv), perm, nb)
    perm = b.select(b.compare("EQ", ri, jv), _bcast_dims(b, perm_p, perm.aval.shape, bd),
                    b.select(b.compare("EQ", ri, pv),
                             _bcast_dims(b, perm_j, perm.aval.shape, bd), perm))
    ki = vec_i(b, k)
    piv = b.select(b.compare("EQ", ki, b.broadcast(j, ki.aval.shape)),
                   _bcast_dims(b, p, piv.aval.shape, bd), piv)
    # Eliminate below the pivot; a zero pivot leaves its (zero) column as it is.
    col = _select_sum(b, b.compare("EQ", cols, jm), A, nb + 1)
    d = _select_sum(b, b.compare("EQ", ri, b.broadcast(j, ri.aval.shape)), col, nb)
    dv = _bcast_dims(b, d, col.aval.shape, bd)
    below = b.compare("GT", ri, b.broadcast(j, ri.aval.shape))
    zero_d = b.compare("EQ", dv, b.full(0, col.aval.shape, dt))
    l = b.select(b.binary("and", below, b.unary("not", zero_d)), b.binary("divide", col, dv),
                 b.full(0, col.aval.shape, dt))
    urow = _select_sum(b, is_j, A, nb)                                     # new row j
    urow = b.select(b.compare("GT", vec_i(b, n), b.broadcast(j, (*batch, n))), urow,
                    b.full(0, urow.aval.shape, dt))
    upd = b.binary("multiply", _bcast_dims(b, l, aval.shape, (*bd, nb)),
                   _bcast_dims(b, urow, aval.shape, (*bd, nb + 1)))
    lcol = b.binary("and", b.compare("EQ", cols, jm), b.compare("GT", rows, jm))
    A = b.select(lcol, _bcast_dims(b, l, aval.shape, (*bd, nb)), b.binary("subtract", A, upd))
    return [A, piv, perm]

  piv0 = ctx.full(0, (*batch, k), i32)
  perm0 = _iota(ctx, (*batch, m), nb)
  return _fori(ctx, k, [x, piv0, perm0], body)


lu_p.lower = _lu_lower


def lu(x):
  """``(lu, pivots, permutation)`` with ``x[..., permutation, :] == L @ U``; ``L`` is
  unit lower (below ``lu``'s diagonal) and ``U`` upper; pivots are 0-based."""
  return tuple(lu_p.bind(lax._to_array(x)))


def lu_pivots_to_permutation(pivots, permutation_size: int):
  """The permutation that applies the row swaps ``pivots`` (``[..., k]``) in order."""
  pivots = lax.convert_element_type(lax._to_array(pivots), _INT32)
  *batch, k = pivots.shape
  nb = len(batch)
  shape = (*batch, permutation_size)
  idx = lax.broadcasted_iota(_INT32, shape, nb)

  def pick(v, mask):  # the entry of v where mask holds, broadcast along the last axis
    s = lax.reduce_sum(lax.select(mask, v, lax.full_like(v, 0)), (nb,))
    return lax.broadcast_in_dim(s, shape, tuple(range(nb)))

  perm = idx
  for i in range(k):
    piv = slicing.slice_in_dim(pivots, i, i + 1, axis=nb)   # [..., 1]
    at_i = lax.eq(idx, lax.full_like(idx, i))
    at_j = lax.eq(idx, lax.broadcast_in_dim(piv, shape, tuple(range(nb + 1))))
    p_i, p_j = pick(perm, at_i), pick(perm, at_j)
    perm = lax.select(at_i, p_j, lax.select(at_j, p_i, perm))
  return perm


# ---------------------------------------------------------------- qr


qr_p = Primitive("qr")
qr_p.multiple_results = True


def _qr_abstract(x, *, full_matrices):
  _check_matrix("qr", x)
  *batch, m, n = x.shape
  k = m if full_matrices else min(m, n)
  return [ShapedArray((*batch, m, k), x.dtype), ShapedArray((*batch, k, n), x.dtype)]


def _qr_impl(x, *, full_matrices):
  import scipy.linalg
  avals = _qr_abstract(x.aval, full_matrices=full_matrices)
  mode = "full" if full_matrices else "economic"
  outs = _per_matrix(lambda a: scipy.linalg.qr(a, mode=mode, check_finite=False),
                     np.asarray(x._value), *(a.shape[-2:] for a in avals))
  return [ArrayImpl(o.astype(x.dtype), False) for o in outs]


def _qr_jvp(primals, tangents, *, full_matrices):
  x, = primals
  q, r = qr_p.bind(x, full_matrices=full_matrices)
  *_, m, n = x.shape
  if m < n or (full_matrices and m != n):
    raise NotImplementedError(
        f"qr: differentiation needs m >= n and full_matrices=False (or a square matrix); "
        f"got shape {x.shape} with full_matrices={full_matrices}")
  t = ad.instantiate(tangents[0])
  dx_rinv = triangular_solve(r, t, left_side=False, lower=False)      # dA R^{-1}
  qt_dx_rinv = _mm(_H(q), dx_rinv)
  low = _tril(qt_dx_rinv, -1)
  do = lax.sub(low, _H(low))                                          # skew-Hermitian
  if x.dtype.kind == "c":
    im_diag = lax.mul(_eye_like(qt_dx_rinv), lax.sub(qt_dx_rinv, _cast(
        lax.real(qt_dx_rinv), x.dtype)))
    do = lax.add(do, im_diag)
  dq = lax.add(_mm(q, lax.sub(do, qt_dx_rinv)), dx_rinv)
  dr = _mm(lax.sub(qt_dx_rinv, do), r)
  return [q, r], [dq, dr]


qr_p.def_impl(_qr_impl)
qr_p.def_abstract_eval(_qr_abstract)
qr_p.sharding_rule = _linalg_sharding_rule(qr_p, (2,))
qr_p.jvp = _qr_jvp
qr_p.batch = _batch_front(qr_p)
def _qr_lower(ctx, x, *, full_matrices):
  # Householder QR as LAPACK's geqr2 (R's diagonal is -sign(Re a_jj) * norm), then Q by
  # applying the reflectors to the identity in reverse (org2r). Complex values are
  # multiplied and reduced elementwise (IREE has no complex matrix-vector dot).
  aval = x.aval
  *batch, m, n = aval.shape
  nb, dt, k = len(batch), aval.dtype, min(m, n)
  bd = tuple(range(nb))
  rdt = np.finfo(dt).dtype
  cplx = dt.kind == "c"
  mcols = m if full_matrices else k
  vec = ShapedArray((*batch, m), dt)

  def real_to(b, v):
    return b.convert(v, dt) if cplx else v

  def reflect(b, M, v, tau):
    """(I - tau v v^H) M, for M [..., m, c] and v [..., m]."""
    shape = M.aval.shape
    vm = _bcast_dims(b, v, shape, (*bd, nb))
    w = _reduce_sum(b, b.binary("multiply", _conj_val(b, vm), M), (nb,))     # v^H M
    tv = b.binary("multiply", vm, _bcast_dims(b, tau, shape, bd))
    return b.binary("subtract", M, b.binary("multiply", tv, _bcast_dims(b, w, shape,
                                                                           (*bd, nb + 1))))

  def factor(b, j, A, V, taus):
    cols = _iota(b, aval.shape, nb + 1)
    jm = b.broadcast(j, aval.shape)
    col = _select_sum(b, b.compare("EQ", cols, jm), A, nb + 1)
    ri = _iota(b, vec.shape, nb)
    jv = b.broadcast(j, vec.shape)
    alpha = _select_sum(b, b.compare("EQ", ri, jv), col, nb)
    below = b.compare("GT", ri, jv)
    xs = b.select(below, col, b.full(0, vec.shape, dt))
    xnorm2 = _reduce_sum(b, _abs2(b, xs), (nb,))
    are = b.unary("real", alpha, rdt) if cplx else alpha
    zero = b.full(0, are.aval.shape, rdt)
    skip = b.compare("EQ", xnorm2, zero)
    if cplx:
      skip = b.binary("and", skip, b.compare("EQ", b.unary("imag", alpha, rdt), zero))
    anorm = b.unary("sqrt", b.binary("add", _abs2(b, alpha), xnorm2))
    neg = b.unary("negate", anorm)
    beta = b.select(b.compare("LT", are, zero), anorm, neg)     # -copysign(norm, Re alpha)
    beta_c = real_to(b, beta)
    tau = b.select(skip, b.full(0, alpha.aval.shape, dt),
                   b.binary("divide", b.binary("subtract", beta_c, alpha), beta_c))
    scale = b.binary("subtract", alpha, beta_c)
    scale = b.select(skip, b.full(1, alpha.aval.shape, dt), scale)
    v = b.select(below, b.binary("divide", xs, _bcast_dims(b, scale, vec.shape, bd)),
                 b.select(b.compare("EQ", ri, jv), b.full(1, vec.shape, dt),
                          b.full(0, vec.shape, dt)))
    H_A = reflect(b, A, v, _conj_val(b, tau))   # H^H A, as zgeqr2
    diag = b.select(skip, alpha, beta_c)
    newcol = b.select(b.compare("LT", ri, jv), col,
                      b.select(b.compare("EQ", ri, jv), _bcast_dims(b, diag, vec.shape, bd),
                               b.full(0, vec.shape, dt)))
    A = b.select(b.compare("GT", cols, jm), H_A,
                 b.select(b.compare("EQ", cols, jm), _bcast_dims(b, newcol, aval.shape,
                                                                 (*bd, nb)), A))
    vshape = V.aval.shape
    vj = b.compare("EQ", _iota(b, vshape, nb + 1), b.broadcast(j, vshape))
    V = b.select(vj, _bcast_dims(b, v, vshape, (*bd, nb)), V)
    ti = _iota(b, taus.aval.shape, nb)
    taus = b.select(b.compare("EQ", ti, b.broadcast(j, ti.aval.shape)),
                    _bcast_dims(b, tau, taus.aval.shape, bd), taus)
    return [A, V, taus]

  V0 = ctx.full(0, (*batch, m, k), dt)
  t0 = ctx.full(0, (*batch, k), dt)
  R, V, taus = _fori(ctx, k, [x, V0, t0], factor)

  def accumulate(b, step, Q):
    j = b.binary("subtract", b.full(k - 1, (), _INT32), step)
    vshape = V.aval.shape
    vmask = b.compare("EQ", _iota(b, vshape, nb + 1), b.broadcast(j, vshape))
    v = _select_sum(b, vmask, V, nb + 1)
    ti = _iota(b, taus.aval.shape, nb)
    tau = _select_sum(b, b.compare("EQ", ti, b.broadcast(j, ti.aval.shape)), taus, nb)
    return [reflect(b, Q, v, tau)]

  qshape = (*batch, m, mcols)
  eye = ctx.select(ctx.compare("EQ", _iota(ctx, qshape, nb), _iota(ctx, qshape, nb + 1)),
                   ctx.full(1, qshape, dt), ctx.full(0, qshape, dt))
  Q, = _fori(ctx, k, [eye], accumulate)
  if not full_matrices and m > k:
    R = _slice(ctx, R, nb, 0, k)
  return [Q, R]


qr_p.lower = _qr_lower


def qr(x, *, pivoting: bool = False, full_matrices: bool = True, use_magma=None):
  """``(q, r)`` with ``x == q @ r``; LAPACK's sign convention (as JAX on CPU)."""
  if pivoting:
    raise NotImplementedError("qr: pivoting=True is not implemented")
  return tuple(qr_p.bind(lax._to_array(x), full_matrices=bool(full_matrices)))


# ---------------------------------------------------------------- eigh


eigh_p = Primitive("eigh")
eigh_p.multiple_results = True


def _eigh_abstract(x, *, lower, sort_eigenvalues):
  _check_matrix("eigh", x, square=True)
  rdt = np.finfo(x.dtype).dtype
  return [ShapedArray(x.shape, x.dtype), ShapedArray(x.shape[:-1], rdt)]


def _eigh_impl(x, *, lower, sort_eigenvalues):
  _eigh_abstract(x.aval, lower=lower, sort_eigenvalues=sort_eigenvalues)
  import scipy.linalg
  n = x.shape[-1]
  # syevd, as jaxlib; eigenvalues ascending.
  w, v = _per_matrix(_nan_matrix_outputs(lambda a: scipy.linalg.eigh(
      a, lower=lower, driver="evd", check_finite=False), nan_outs=(0,)),
                     np.asarray(x._value), (n,), (n, n))
  return [ArrayImpl(v.astype(x.dtype), False), ArrayImpl(w.astype(np.finfo(x.dtype).dtype),
                                                         False)]


def _eigh_jvp(primals, tangents, *, lower, sort_eigenvalues):
  x, = primals
  v, w = eigh_p.bind(x, lower=lower, sort_eigenvalues=sort_eigenvalues)
  t = ad.instantiate(tangents[0])
  vt_dx_v = _mm(_H(v), _mm(t, v))
  nd = x.ndim
  wr = lax.broadcast_in_dim(w, x.shape, (*range(nd - 2), nd - 1))    # w_j at [i, j]
  wc = lax.broadcast_in_dim(w, x.shape, tuple(range(nd - 1)))        # w_i at [i, j]
  eye = _eye_like(wr)
  F = lax.sub(lax.div(lax.full((), 1, wr.dtype), lax.add(eye, lax.sub(wr, wc))), eye)
  dv = _mm(v, lax.mul(_cast(F, x.dtype), vt_dx_v))
  dw = _real(_diag(vt_dx_v))
  return [v, w], [dv, dw]


eigh_p.def_impl(_eigh_impl)
eigh_p.def_abstract_eval(_eigh_abstract)
eigh_p.sharding_rule = _linalg_sharding_rule(eigh_p, (2,))
eigh_p.jvp = _eigh_jvp
eigh_p.batch = _batch_front(eigh_p)
def _eigh_lower(ctx, x, *, lower, sort_eigenvalues):
  # Cyclic Jacobi in parallel (round-robin) order. The carry holds the off-diagonal part
  # of A stacked over the accumulated rotations V (one column rotation serves both), and
  # A's real diagonal apart, updated by the exact formula of each rotation. Pairs whose
  # |a_pq| is below eps * ||A||_F are left alone; sweeps stop when all are.
  poisons = _nonfinite_poisons(ctx, x)
  aval = x.aval
  *batch, n, _ = aval.shape
  nb, dt = len(batch), aval.dtype
  rdt = np.finfo(dt).dtype
  bd = tuple(range(nb))
  if n == 0:
    return [ctx.full(0, aval.shape, dt), ctx.full(0, (*batch, 0), rdt)]
  N = n + n % 2                      # odd sizes get a zero row and column, split off after
  K = N // 2
  mat = (*batch, N, N)
  rows, cols = _iota(ctx, aval.shape, nb), _iota(ctx, aval.shape, nb + 1)
  mirror = _conj_val(ctx, _transpose_val(ctx, x))     # the other triangle, from the read one
  off = ctx.select(ctx.compare("GT" if lower else "LT", rows, cols), x,
                   ctx.select(ctx.compare("EQ", rows, cols), ctx.full(0, aval.shape, dt),
                              mirror))
  d = _select_sum(ctx, ctx.compare("EQ", rows, cols), x, nb + 1)
  d = _pad_to(ctx, ctx.unary("real", d, rdt) if dt.kind == "c" else d, (*batch, N))
  A = _pad_to(ctx, off, mat)
  eye = ctx.select(ctx.compare("EQ", _iota(ctx, mat, nb), _iota(ctx, mat, nb + 1)),
                   ctx.full(1, mat, dt), ctx.full(0, mat, dt))
  W = _concat(ctx, [A, eye], nb)     # [A_off; V]

  eps = float(np.finfo(rdt).eps)
  nrm2 = ctx.binary("add", _reduce_sum(ctx, _abs2(ctx, A), (nb, nb + 1)),
                    _reduce_sum(ctx, ctx.binary("multiply", d, d), (nb,)))
  thr2 = ctx.binary("multiply", nrm2, ctx.full(eps * eps, (), rdt))       # [...]
  pos = _rr_positions(N)

  def at_cols(b, idx):  # [..., K, N]: true in row k at column idx[k]
    shape = (*batch, K, N)
    want = b.constant(np.asarray(idx, np.int32), ShapedArray((K,), _INT32))
    return b.compare("EQ", _iota(b, shape, nb + 1), _bcast_dims(b, want, shape, (nb,)))

  def step(b, _, W, d):
    apq = _select_sum(b, at_cols(b, np.arange(1, N, 2)), _slice(b, W, nb, 0, N, 2), nb + 1)
    app, aqq = _slice(b, d, nb, 0, N, 2), _slice(b, d, nb, 1, N, 2)
    skip = b.unary("not", b.compare("GT", _abs2(b, apq), _bcast_dims(b, thr2, app.aval.shape,
                                                                      bd)))
    c, sigma, t = _jacobi_rotation(b, app, aqq, apq, skip)
    ev, od = _rotate_pairs(b, _slice(b, W, nb + 1, 0, N, 2), _slice(b, W, nb + 1, 1, N, 2),
                           c, sigma, nb + 1, rows=False)
    W = _rr_merge(b, ev, od, nb + 1)
    A, V = _slice(b, W, nb, 0, N), _slice(b, W, nb, N, 2 * N)
    ev, od = _rotate_pairs(b, _slice(b, A, nb, 0, N, 2), _slice(b, A, nb, 1, N, 2),
                           c, sigma, nb, rows=True)
    # The pair's own 2 x 2 block (now in columns pos[2k], pos[2k+1]) is diagonal: zero it.
    own = b.binary("or", at_cols(b, pos[0::2]), at_cols(b, pos[1::2]))
    zero = b.full(0, ev.aval.shape, dt)
    A = _rr_merge(b, b.select(own, zero, ev), b.select(own, zero, od), nb)
    tm = b.binary("multiply", t, b.unary("sqrt", _abs2(b, apq)))
    d = _rr_merge(b, b.binary("subtract", app, tm), b.binary("add", aqq, tm), nb)
    return [_concat(b, [A, V], nb), d]

  max_sweeps = 40

  def cond(b, sweep, W, d):
    A = _slice(b, W, nb, 0, N)
    big = b.reduce([_abs2(b, A)], [b.full(0, (), rdt)], (nb, nb + 1),
                   lambda c, u, w: [c.binary("maximum", u, w)])[0]
    return b.binary("and", b.compare("LT", sweep, b.full(max_sweeps, (), _INT32)),
                    _any(b, b.compare("GT", big, thr2)))

  def sweep(b, i, W, d):
    return [b.binary("add", i, b.full(1, (), _INT32)), *_fori(b, N - 1, [W, d], step)]

  _, W, d = _while(ctx, [ctx.full(0, (), _INT32), W, d], cond, sweep)
  V = _slice(ctx, _slice(ctx, W, nb, N, N + n), nb + 1, 0, n)
  w = _slice(ctx, d, nb, 0, n)
  if sort_eigenvalues:
    w, V = _sort_columns(ctx, w, V)
  return _poisoned(ctx, poisons, [V, w], (1,))


eigh_p.lower = _eigh_lower


# ---------------------------------------------------------------- eig (general matrices)
#
# LAPACK's geev (SciPy's, the routine jaxlib's CPU kernel calls). Under jit the compiled
# program calls it on the host (``FnBuilder.host_call``), as XLA's CPU program calls
# LAPACK: there is no StableHLO op for it.

eig_p = Primitive("eig")
eig_p.multiple_results = True


def _eig_abstract(x, *, compute_left_eigenvectors, compute_right_eigenvectors,
                  enable_eigvec_derivs=False):
  if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
    raise ValueError(f"The input to eig must be a square matrix. Got shape {x.shape[-2:]}.")
  if not (x.dtype.kind in "fc" and x.dtype.itemsize >= 4):
    raise TypeError(f"eig: argument must be float32, float64, complex64 or complex128, "
                    f"got {x.dtype.name}")
  cdt = np.result_type(x.dtype, np.complex64)
  n = 1 + compute_left_eigenvectors + compute_right_eigenvectors
  return [ShapedArray(x.shape[:-1], cdt)] + [ShapedArray(x.shape, cdt)] * (n - 1)


def _eig_numpy(a, left, right):
  """geev on a stack of matrices: [w] + [vl] + [vr] as asked (NaN where it fails)."""
  import scipy.linalg
  cdt = np.result_type(a.dtype, np.complex64)
  n = a.shape[-1]

  def one(m):
    if not np.all(np.isfinite(m)):
      nan = np.full((n, n), np.nan, cdt)
      return (np.full(n, np.nan, cdt), nan, nan)
    w, vl, vr = scipy.linalg.eig(m, left=True, right=True)
    return (w, vl, vr)

  w, vl, vr = _per_matrix(one, np.asarray(a), (n,), (n, n), (n, n))
  outs = [w.astype(cdt)]
  if left:
    outs.append(vl.astype(cdt))
  if right:
    outs.append(vr.astype(cdt))
  return outs


def _eig_impl(x, *, compute_left_eigenvectors, compute_right_eigenvectors,
              enable_eigvec_derivs=False):
  _eig_abstract(core.get_aval(x), compute_left_eigenvectors=compute_left_eigenvectors,
                compute_right_eigenvectors=compute_right_eigenvectors)
  return [ArrayImpl(o, False) for o in _eig_numpy(
      np.asarray(x), compute_left_eigenvectors, compute_right_eigenvectors)]


def _eig_vec_jvp(w, v, u, da):
  """(dw, dv) for eigenpairs (w, v) with dual eigenvectors u (u_i^H v_j = 0 for i != j),
  JAX's nondegenerate perturbation rule under LAPACK's normalisation (unit columns,
  largest component real). v^-1 dA is diag(1 / u_j^H v_j) u^H dA: no solve."""
  nd = v.ndim
  den = lax.reduce_sum(lax.mul(lax.conj(u), v), (nd - 2,))                 # [..., n]
  P = lax.div(_mm(_H(u), _mm(da, v)),
              lax.broadcast_in_dim(den, v.shape, tuple(range(nd - 1))))    # row j / den_j
  dw = _diag(P)
  wr = lax.broadcast_in_dim(w, v.shape, (*range(nd - 2), nd - 1))          # w_j at [i, j]
  wc = lax.broadcast_in_dim(w, v.shape, tuple(range(nd - 1)))              # w_i at [i, j]
  eye = _eye_like(v)
  F = lax.sub(lax.div(lax.full((), 1, v.dtype), lax.add(eye, lax.sub(wr, wc))), eye)
  U = _mm(v, lax.mul(F, P))
  k = lax_reductions.argmax(lax.abs(v), nd - 2, _INT32)                    # [..., n]
  rows = lax.broadcasted_iota(_INT32, v.shape, nd - 2)
  mask = _indicator(lax.eq(rows, lax.broadcast_in_dim(k, v.shape, (*range(nd - 2),
                                                                    nd - 1))), v.dtype)
  re = lax.neg(lax.real(lax.reduce_sum(lax.mul(lax.conj(v), U), (nd - 2,))))
  im = lax.neg(lax.div(lax.imag(lax.reduce_sum(lax.mul(mask, U), (nd - 2,))),
                       lax.real(lax.reduce_sum(lax.mul(mask, v), (nd - 2,)))))
  c = lax.complex(re, im)
  return dw, lax.add(U, lax.mul(v, lax.broadcast_in_dim(c, v.shape,
                                                        (*range(nd - 2), nd - 1))))


def _eig_jvp(primals, tangents, *, compute_left_eigenvectors, compute_right_eigenvectors,
             enable_eigvec_derivs=False):
  if (compute_left_eigenvectors or compute_right_eigenvectors) and \
      not enable_eigvec_derivs:
    raise NotImplementedError(
        'Derivatives of non-symmetric eigenvectors are only valid under assumptions on '
        'the input that JAX cannot check (see the enable_eigvec_derivs argument to '
        'jax.lax.linalg.eig). Pass enable_eigvec_derivs=True to jax.lax.linalg.eig to '
        'opt in. See https://github.com/jax-ml/jax/issues/2748 for discussion.')
  x, = primals
  w, vl, vr = eig_p.bind(x, compute_left_eigenvectors=True,
                         compute_right_eigenvectors=True,
                         enable_eigvec_derivs=enable_eigvec_derivs)
  da = _cast(ad.instantiate(tangents[0]), vr.dtype)
  dw, dvr = _eig_vec_jvp(w, vr, vl, da)
  primal_out, tangent_out = [w], [dw]
  if compute_left_eigenvectors:
    _, dvl = _eig_vec_jvp(lax.conj(w), vl, vr, _H(da))
    primal_out.append(vl)
    tangent_out.append(dvl)
  if compute_right_eigenvectors:
    primal_out.append(vr)
    tangent_out.append(dvr)
  return primal_out, tangent_out


def _eig_lower(ctx, x, *, compute_left_eigenvectors, compute_right_eigenvectors,
               enable_eigvec_derivs=False):
  def host(a):
    return _eig_numpy(a, compute_left_eigenvectors, compute_right_eigenvectors)
  return ctx.host_call(host, [x], list(ctx.avals_out))


eig_p.def_impl(_eig_impl)
eig_p.def_abstract_eval(_eig_abstract)
eig_p.sharding_rule = _linalg_sharding_rule(eig_p, (2,))
eig_p.jvp = _eig_jvp
eig_p.batch = _batch_front(eig_p)
eig_p.lower = _eig_lower


def eig(x, *, compute_left_eigenvectors: bool = True,
        compute_right_eigenvectors: bool = True, enable_eigvec_derivs: bool = False,
        implementation=None, use_magma=None):
  """Eigenvalues (complex) and, as asked, left and right eigenvectors of general square
  matrices: ``[w] + [vl] + [vr]``."""
  return eig_p.bind(x, compute_left_eigenvectors=bool(compute_left_eigenvectors),
                    compute_right_eigenvectors=bool(compute_right_eigenvectors),
                    enable_eigvec_derivs=bool(enable_eigvec_derivs))


def eigh(x, *, lower: bool = True, symmetrize_input: bool = True,
         sort_eigenvalues: bool = True, subset_by_index=None):
  """``(v, w)``: eigenvectors (columns) and ascending eigenvalues of Hermitian ``x``."""
  if subset_by_index is not None:
    raise NotImplementedError("eigh: subset_by_index is not implemented")
  x = lax._to_array(x)
  _check_matrix("eigh", core.get_aval(x), square=True)
  if symmetrize_input:
    x = symmetrize(x)
  v, w = eigh_p.bind(x, lower=bool(lower), sort_eigenvalues=bool(sort_eigenvalues))
  return v, w


# ---------------------------------------------------------------- svd


svd_p = Primitive("svd")
svd_p.multiple_results = True


def _svd_abstract(x, *, full_matrices, compute_uv):
  _check_matrix("svd", x)
  *batch, m, n = x.shape
  k = min(m, n)
  s = ShapedArray((*batch, k), np.finfo(x.dtype).dtype)
  if not compute_uv:
    return [s]
  mu, nv = (m, n) if full_matrices else (k, k)
  return [s, ShapedArray((*batch, m, mu), x.dtype), ShapedArray((*batch, nv, n), x.dtype)]


def _svd_impl(x, *, full_matrices, compute_uv):
  avals = _svd_abstract(x.aval, full_matrices=full_matrices, compute_uv=compute_uv)
  import scipy.linalg

  def one(a):  # gesdd, as jaxlib
    if not compute_uv:
      return (scipy.linalg.svd(a, compute_uv=False, check_finite=False),)
    u, s, vh = scipy.linalg.svd(a, full_matrices=full_matrices, check_finite=False)
    return s, u, vh
  outs = _per_matrix(_nan_matrix_outputs(one, nan_outs=(0,)), np.asarray(x._value),
                     *(a.shape[len(x.shape) - 2:] for a in avals))
  return [ArrayImpl(o.astype(a.dtype), False) for o, a in zip(outs, avals)]


def _svd_jvp(primals, tangents, *, full_matrices, compute_uv):
  x, = primals
  t = ad.instantiate(tangents[0])
  if compute_uv and full_matrices and x.shape[-1] != x.shape[-2]:
    raise NotImplementedError("svd: differentiation with full_matrices=True needs a square "
                              f"matrix, got shape {x.shape}; use full_matrices=False")
  s, U, Vt = svd_p.bind(x, full_matrices=False, compute_uv=True)
  Ut, V = _H(U), _H(Vt)
  dS = _mm(Ut, _mm(t, V))
  ds = _real(_diag(dS))
  if not compute_uv:
    return svd_p.bind(x, full_matrices=full_matrices, compute_uv=False), [ds]
  k = s.shape[-1]
  nd = s.ndim + 1
  shape = (*s.shape[:-1], k, k)
  s_row = lax.broadcast_in_dim(s, shape, (*range(nd - 2), nd - 1))  # s_j at [i, j]
  s_col = lax.broadcast_in_dim(s, shape, tuple(range(nd - 1)))      # s_i at [i, j]
  eye = _eye_like(s_row)
  one = lax.full((), 1, s.dtype)
  F = lax.sub(lax.div(one, lax.add(lax.mul(lax.add(s_row, s_col), lax.sub(s_row, s_col)),
                                    eye)), eye)
  Fc = _cast(F, x.dtype)
  dSS = lax.mul(_cast(s_row, x.dtype), dS)
  SdS = lax.mul(_cast(s_col, x.dtype), dS)
  zero_s = _indicator(lax.eq(s, lax.full((), 0, s.dtype)), s.dtype)
  s_inv = lax.sub(lax.div(one, lax.add(s, zero_s)), zero_s)
  s_inv_mat = lax.mul(_cast(lax.broadcast_in_dim(s_inv, shape, tuple(range(nd - 1))),
                            x.dtype), _cast(eye, x.dtype))
  dUdV_diag = lax.mul(lax.mul(lax.full((), 0.5, x.dtype), lax.sub(dS, _H(dS))), s_inv_mat)
  dU = _mm(U, lax.add(lax.mul(Fc, lax.add(dSS, _H(dSS))), dUdV_diag))
  dV = _mm(V, lax.mul(Fc, lax.add(SdS, _H(SdS))))
  m, n = x.shape[-2:]
  s_div = _cast(lax.broadcast_in_dim(s, (*s.shape[:-1], max(m, n), k),
                                     (*range(nd - 2), nd - 1)), x.dtype)
  if m > n:
    dAV = _mm(t, V)
    dU = lax.add(dU, lax.div(lax.sub(dAV, _mm(U, _mm(Ut, dAV))), s_div))
  if n > m:
    dAHU = _mm(_H(t), U)
    dV = lax.add(dV, lax.div(lax.sub(dAHU, _mm(V, _mm(Vt, dAHU))), s_div))
  return [s, U, Vt], [ds, dU, _H(dV)]


svd_p.def_impl(_svd_impl)
svd_p.def_abstract_eval(_svd_abstract)
svd_p.sharding_rule = _linalg_sharding_rule(svd_p, (2,))
svd_p.jvp = _svd_jvp
svd_p.batch = _batch_front(svd_p)
def _svd_lower(ctx, x, *, full_matrices, compute_uv):
  # One-sided Jacobi (Hestenes) on the columns of the tall one of x and x^H, in parallel
  # (round-robin) order: rotations orthogonalize column pairs of A stacked over the
  # accumulated V until no pair has |a_p^H a_q| > sqrt(m) eps |a_p| |a_q| for a sweep.
  # Singular values are the column norms, U the normalized columns; a Householder QR of
  # U completes it (zero singular values, full_matrices) as an orthonormal basis.
  poisons = _nonfinite_poisons(ctx, x)
  aval = x.aval
  *batch, m, n = aval.shape
  nb, dt = len(batch), aval.dtype
  rdt = np.finfo(dt).dtype
  bd = tuple(range(nb))
  wide = m < n
  if wide:
    x, m, n = _conj_val(ctx, _transpose_val(ctx, x)), n, m
  k = n

  def eye(b, r, c):
    shape = (*batch, r, c)
    return b.select(b.compare("EQ", _iota(b, shape, nb), _iota(b, shape, nb + 1)),
                    b.full(1, shape, dt), b.full(0, shape, dt))

  def outputs(s, U, V):
    if not compute_uv:
      return [s]
    Vh = _conj_val(ctx, _transpose_val(ctx, V))
    if wide:
      U, Vh = V, _conj_val(ctx, _transpose_val(ctx, U))
    return [s, U, Vh]

  if k == 0:
    return outputs(ctx.full(0, (*batch, 0), rdt), eye(ctx, m, m if full_matrices else 0),
                   eye(ctx, 0, 0))
  N = n + n % 2                      # odd sizes get a zero column, split off after
  W = _pad_to(ctx, x, (*batch, m, N))
  if compute_uv:
    W = _concat(ctx, [W, eye(ctx, N, N)], nb)                               # [A; V]
  tol = float(np.finfo(rdt).eps * np.sqrt(m))

  def col_sum(b, v):
    return _reduce_sum(b, v, (nb,))

  def step(b, _, W, rotated):
    ev, od = _slice(b, W, nb + 1, 0, N, 2), _slice(b, W, nb + 1, 1, N, 2)
    aev, aod = _slice(b, ev, nb, 0, m), _slice(b, od, nb, 0, m)
    alpha, beta = col_sum(b, _abs2(b, aev)), col_sum(b, _abs2(b, aod))
    gamma = col_sum(b, b.binary("multiply", _conj_val(b, aev), aod))
    bound = b.binary("multiply", b.binary("multiply", b.unary("sqrt", alpha),
                                          b.unary("sqrt", beta)), b.full(tol, (), rdt))
    rot = b.compare("GT", b.unary("sqrt", _abs2(b, gamma)), bound)   # NaN: no rotation
    c, sigma, _ = _jacobi_rotation(b, alpha, beta, gamma, b.unary("not", rot))
    ev, od = _rotate_pairs(b, ev, od, c, sigma, nb + 1, rows=False)
    return [_rr_merge(b, ev, od, nb + 1), b.binary("or", rotated, _any(b, rot))]

  max_sweeps = 40

  def cond(b, sweep, W, rotated):
    return b.binary("and", rotated, b.compare("LT", sweep, b.full(max_sweeps, (), _INT32)))

  def sweep(b, i, W, _):
    return [b.binary("add", i, b.full(1, (), _INT32)),
            *_fori(b, N - 1, [W, b.full(False, (), np.bool_)], step)]

  _, W, _ = _while(ctx, [ctx.full(0, (), _INT32), W, ctx.full(True, (), np.bool_)], cond,
                   sweep)
  A = _slice(ctx, _slice(ctx, W, nb, 0, m), nb + 1, 0, n)
  s = ctx.unary("sqrt", col_sum(ctx, _abs2(ctx, A)))
  if not compute_uv:
    neg, = lax_sorting._sort_lower(ctx, ctx.unary("negate", s), dimension=nb,
                                   is_stable=True, num_keys=1)
    return outputs(ctx.unary("negate", neg), None, None)
  neg, AV = _sort_columns(ctx, ctx.unary("negate", s),
                          _slice(ctx, _slice(ctx, W, nb, 0, m + n), nb + 1, 0, n))
  s = ctx.unary("negate", neg)
  A, V = _slice(ctx, AV, nb, 0, m), _slice(ctx, AV, nb, m, m + n)
  sb = _bcast_dims(ctx, s, A.aval.shape, (*bd, nb + 1))
  U = ctx.select(ctx.compare("GT", sb, ctx.full(0, sb.aval.shape, rdt)),
                 ctx.binary("divide", A, ctx.convert(sb, dt)), ctx.full(0, A.aval.shape, dt))
  Q, _ = _qr_lower(ctx, U, full_matrices=full_matrices)
  # Q's first k columns are U's up to sign (that of R's diagonal; read here as the sign
  # of Re <u_j, q_j>: an eye-masked diagonal of R trips an IREE CSE bug next to eigh's).
  Qk = _slice(ctx, Q, nb + 1, 0, k)
  dots = _reduce_sum(ctx, ctx.binary("multiply", _conj_val(ctx, U), Qk), (nb,))
  dots = ctx.unary("real", dots, rdt) if dt.kind == "c" else dots
  sign = ctx.select(ctx.compare("LT", dots, ctx.full(0, dots.aval.shape, rdt)),
                    ctx.full(-1, dots.aval.shape, rdt), ctx.full(1, dots.aval.shape, rdt))
  qcols = Q.aval.shape[-1]
  if qcols > k:
    sign = _concat(ctx, [sign, ctx.full(1, (*batch, qcols - k), rdt)], nb)
  U = ctx.binary("multiply", Q, _bcast_dims(ctx, ctx.convert(sign, dt), Q.aval.shape,
                                            (*bd, nb + 1)))
  return _poisoned(ctx, poisons, outputs(s, U, V), (0,))


svd_p.lower = _svd_lower


def svd(x, *, full_matrices: bool = True, compute_uv: bool = True, subset_by_index=None,
        algorithm=None):
  """``(u, s, vh)`` with descending ``s`` (``s`` alone unless ``compute_uv``)."""
  if subset_by_index is not None:
    raise NotImplementedError("svd: subset_by_index is not implemented")
  outs = svd_p.bind(lax._to_array(x), full_matrices=bool(full_matrices),
                    compute_uv=bool(compute_uv))
  if not compute_uv:
    return outs[0]
  s, u, vh = outs
  return u, s, vh


# ---------------------------------------------------------------- schur, hessenberg
#
# LAPACK's gees and gehrd/orghr (SciPy's; jaxlib's CPU kernels call the same routines).
# As JAX's, CPU only and without derivatives; under jit a host call, as eig.

schur_p = Primitive("schur")
schur_p.multiple_results = True


def _schur_abstract(x, *, compute_schur_vectors, sort_eig_vals):
  if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
    raise ValueError(f"The input to schur must be a square matrix. Got shape "
                     f"{x.shape[-2:]}.")
  _check_matrix("schur", x, square=True)
  return [ShapedArray(x.shape, x.dtype)] * (2 if compute_schur_vectors else 1)


def _schur_numpy(a, compute_schur_vectors):
  import scipy.linalg
  n = a.shape[-1]
  out = "complex" if a.dtype.kind == "c" else "real"

  def one(m):
    t, z = scipy.linalg.schur(m, output=out, check_finite=False)
    return t, z
  t, z = _per_matrix(_nan_matrix_outputs(one, nan_outs=(0, 1)), np.asarray(a), (n, n),
                     (n, n))
  outs = [t.astype(a.dtype), z.astype(a.dtype)]
  return outs if compute_schur_vectors else outs[:1]


def _schur_impl(x, *, compute_schur_vectors, sort_eig_vals):
  _schur_abstract(core.get_aval(x), compute_schur_vectors=compute_schur_vectors,
                  sort_eig_vals=sort_eig_vals)
  return [ArrayImpl(o, False) for o in _schur_numpy(np.asarray(x), compute_schur_vectors)]


def _schur_jvp(primals, tangents, **params):
  raise NotImplementedError("Differentiation of schur is not implemented (JAX's schur has "
                            "no derivative rule either)")


def _schur_lower(ctx, x, *, compute_schur_vectors, sort_eig_vals):
  return ctx.host_call(lambda a: _schur_numpy(a, compute_schur_vectors), [x],
                       list(ctx.avals_out))


schur_p.def_impl(_schur_impl)
schur_p.def_abstract_eval(_schur_abstract)
schur_p.sharding_rule = _linalg_sharding_rule(schur_p, (2,))
schur_p.jvp = _schur_jvp
schur_p.batch = _batch_front(schur_p)
schur_p.lower = _schur_lower


def schur(x, *, compute_schur_vectors: bool = True, sort_eig_vals: bool = False,
          select_callable=None):
  """``(T, Q)`` with ``x == Q T Q^H``: real (quasi-triangular T) for real ``x``, complex
  for complex ``x``. ``sort_eig_vals`` and ``select_callable`` are not implemented."""
  if sort_eig_vals:
    raise NotImplementedError("The sort feature of LAPACK's gees routine is not "
                              "implemented.")
  outs = schur_p.bind(lax._to_array(x), compute_schur_vectors=bool(compute_schur_vectors),
                      sort_eig_vals=False)
  return tuple(outs) if compute_schur_vectors else outs[0]


hessenberg_p = Primitive("hessenberg")
hessenberg_p.multiple_results = True


def _hessenberg_abstract(x, *, calc_q):
  if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
    raise ValueError(f"Argument to Hessenberg reduction must have shape [..., n, n], got "
                     f"shape {x.shape}")
  _check_matrix("hessenberg", x, square=True)
  return [ShapedArray(x.shape, x.dtype)] * (2 if calc_q else 1)


def _hessenberg_numpy(a, calc_q):
  import scipy.linalg
  n = a.shape[-1]

  def one(m):
    if n == 0:
      return m, m
    h, q = scipy.linalg.hessenberg(m, calc_q=True, check_finite=False)
    return h, q
  h, q = _per_matrix(_nan_matrix_outputs(one, nan_outs=(0, 1)), np.asarray(a), (n, n),
                     (n, n))
  outs = [h.astype(a.dtype), q.astype(a.dtype)]
  return outs if calc_q else outs[:1]


def _hessenberg_impl(x, *, calc_q):
  _hessenberg_abstract(core.get_aval(x), calc_q=calc_q)
  return [ArrayImpl(o, False) for o in _hessenberg_numpy(np.asarray(x), calc_q)]


def _hessenberg_jvp(primals, tangents, **params):
  raise NotImplementedError("Differentiation of hessenberg is not implemented (JAX's "
                            "hessenberg has no derivative rule either)")


def _hessenberg_lower(ctx, x, *, calc_q):
  return ctx.host_call(lambda a: _hessenberg_numpy(a, calc_q), [x], list(ctx.avals_out))


hessenberg_p.def_impl(_hessenberg_impl)
hessenberg_p.def_abstract_eval(_hessenberg_abstract)
hessenberg_p.sharding_rule = _linalg_sharding_rule(hessenberg_p, (2,))
hessenberg_p.jvp = _hessenberg_jvp
hessenberg_p.batch = _batch_front(hessenberg_p)
hessenberg_p.lower = _hessenberg_lower


def hessenberg_q(x, *, calc_q: bool = True):
  """``(H, Q)`` (``[H]`` unless ``calc_q``) with ``x == Q H Q^H``, H upper Hessenberg.
  Not JAX's ``lax.linalg.hessenberg`` (which returns LAPACK's packed reflectors)."""
  return hessenberg_p.bind(lax._to_array(x), calc_q=bool(calc_q))

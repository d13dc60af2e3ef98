"""``scan`` (the loop primitive with every rule) and the loops built on it: ``map``,
``fori_loop`` and ``associative_scan``.

``scan_p`` operands are ``consts`` (loop-invariant), ``init`` (the carry) and ``xs``
(sliced along axis 0, one slice per iteration); results are the final carry and the
per-iteration outputs ``ys`` stacked along axis 0. Reverse mode splits a scan into a
known scan that also emits the residuals the tangent map needs (stacked per iteration, or
passed once when they do not depend on the iteration) and a linear scan, whose transpose
is again a scan run in the opposite direction.
"""
from __future__ import annotations

import operator
from typing import Callable

import numpy as np

from pyjax._src import core, dtypes, ref, tree_util
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.core import (ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Primitive, ShapedArray,
                             Tracer, Var)
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import lowering as mlir
from pyjax._src.interpreters import native_loops
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.interpreters.lowering import _i64_array
from pyjax._src.lax import lax, reductions, slicing
from pyjax._src.lax.utils import make_sharding, spec_of
from pyjax._src.sharding import PartitionSpec
from pyjax._src.lax.control_flow.common import (avals_of, check_carry, eval_closed, jvp_jaxpr,
                                                lower_closed, trace_fun)
from pyjax._src.lax.control_flow.while_loop import while_loop

# ---------------------------------------------------------------- the scan primitive

scan_p = Primitive("scan")
scan_p.multiple_results = True
scan_p.batch_with_axis_name = True


def _split(args, num_consts, num_carry):
  return (list(args[:num_consts]), list(args[num_consts:num_consts + num_carry]),
          list(args[num_consts + num_carry:]))


def _scan_impl(*args, reverse, length, jaxpr, num_consts, num_carry, linear, unroll,
               _split_transpose):
  consts, carry, xs = _split(args, num_consts, num_carry)
  xs = [np.asarray(x._value) if type(x) is ArrayImpl else np.asarray(x) for x in xs]
  weak = [a.weak_type for a in jaxpr.out_avals[num_carry:]]
  ys = [[] for _ in weak]
  for k in range(length):
    i = length - 1 - k if reverse else k
    outs = eval_closed(jaxpr, *consts, *carry, *[ArrayImpl(x[i]) for x in xs])
    carry = outs[:num_carry]
    for acc, y in zip(ys, outs[num_carry:]):
      acc.append(np.asarray(y._value) if type(y) is ArrayImpl else np.asarray(y))
  stacked = []
  for acc, a in zip(ys, jaxpr.out_avals[num_carry:]):
    if reverse:
      acc.reverse()
    v = np.stack(acc) if acc else np.zeros((0, *a.shape), a.dtype)
    stacked.append(ArrayImpl(v.astype(a.dtype, copy=False), a.weak_type))
  # the carry typed as abstract evaluation says (also when the body never ran)
  carry = [x if x.weak_type == a.weak_type else ArrayImpl(x._value, a.weak_type)
           for x, a in zip(carry, jaxpr.out_avals)]
  return carry + stacked


def _scan_abstract_eval(*avals, length, jaxpr, num_consts, num_carry, **_):
  """The carry leaves typed as the body makes it (JAX's: a weak input carry may leave
  strong), the ys stacked."""
  return list(jaxpr.out_avals[:num_carry]) + [a.update(shape=(length, *a.shape))
                                              for a in jaxpr.out_avals[num_carry:]]


def _permute(closed: ClosedJaxpr, in_order=None, out_order=None) -> ClosedJaxpr:
  """``closed`` with its inputs/outputs reordered (``order[k]`` = old index of new k)."""
  j = closed.jaxpr
  invars = j.invars if in_order is None else [j.invars[i] for i in in_order]
  outvars = j.outvars if out_order is None else [j.outvars[i] for i in out_order]
  return ClosedJaxpr(Jaxpr(j.constvars, invars, outvars, j.eqns, j.debug_info), closed.consts)


def _groups_order(sizes_a, sizes_b):
  """Index order interleaving groups: [a0, b0, a1, b1, ...] for flat lists a ++ b."""
  order, oa, ob = [], 0, sum(sizes_a)
  for na, nb in zip(sizes_a, sizes_b):
    order += list(range(oa, oa + na)) + list(range(ob, ob + nb))
    oa, ob = oa + na, ob + nb
  return order


def _scan_jvp(primals, tangents, *, reverse, length, jaxpr, num_consts, num_carry, linear,
              unroll, _split_transpose):
  nz = [type(t) is not ad.Zero for t in tangents]
  c_nz, carry_nz, x_nz = _split(nz, num_consts, num_carry)
  num_ys = len(jaxpr.out_avals) - num_carry
  while True:  # fixpoint: which carries have a nonzero tangent
    jvp_closed, out_nz = jvp_jaxpr(jaxpr, c_nz + carry_nz + x_nz,
                                   carry_nz + [False] * num_ys)
    new = [a or b for a, b in zip(carry_nz, out_nz[:num_carry])]
    if new == carry_nz:
      break
    carry_nz = new
  y_nz = out_nz[num_carry:]
  n_in = len(primals)
  # jvp_closed: (primals, nz tangents) -> (carry, ys, carry_t, ys_t); scan wants each
  # group (consts, carry, xs) followed by its tangents.
  in_order = _groups_order([num_consts, num_carry, n_in - num_consts - num_carry],
                           [sum(c_nz), sum(carry_nz), sum(x_nz)])
  out_order = _groups_order([num_carry, num_ys], [sum(carry_nz), sum(y_nz)])
  body = _permute(jvp_closed, in_order, out_order)
  tans = [ad.instantiate(t) if nz_ else None
          for t, nz_ in zip(tangents, c_nz + carry_nz + x_nz)]
  consts, carry, xs = _split(primals, num_consts, num_carry)
  ct, carry_t, xt = _split(tans, num_consts, num_carry)
  keep = lambda ts: [t for t in ts if t is not None]
  args = consts + keep(ct) + carry + keep(carry_t) + xs + keep(xt)
  outs = scan_p.bind(*args, reverse=reverse, length=length, jaxpr=body,
                     num_consts=num_consts + len(keep(ct)),
                     num_carry=num_carry + len(keep(carry_t)),
                     linear=(False,) * len(args), unroll=unroll,
                     _split_transpose=_split_transpose)
  n_ct = sum(carry_nz)
  carry_out, carry_t_out = outs[:num_carry], outs[num_carry:num_carry + n_ct]
  ys, ys_t = outs[num_carry + n_ct:num_carry + n_ct + num_ys], outs[num_carry + n_ct + num_ys:]
  out_avals = _scan_abstract_eval(length=length, jaxpr=jaxpr, num_consts=num_consts,
                                  num_carry=num_carry)
  it_c, it_y = iter(carry_t_out), iter(ys_t)
  t_out = [next(it_c) if z else ad.Zero(ad.tangent_aval(a))
           for z, a in zip(carry_nz, out_avals[:num_carry])]
  t_out += [next(it_y) if z else ad.Zero(ad.tangent_aval(a))
            for z, a in zip(y_nz, out_avals[num_carry:])]
  return carry_out + ys, t_out


def _invariant_outputs(jaxpr: Jaxpr, num_invariant_in: int) -> list[bool]:
  """Which outputs depend only on the first ``num_invariant_in`` inputs (and constants)."""
  variant = set(jaxpr.invars[num_invariant_in:])
  for eqn in jaxpr.eqns:
    if any(type(v) is not Literal and v in variant for v in eqn.invars):
      variant.update(eqn.outvars)
  return [type(v) is Literal or v not in variant for v in jaxpr.outvars]


def _scan_partial_eval(trace, args, params):
  """Known inputs run as a scan on the parent trace that also emits residuals; the
  unknown part is staged as a second scan over (residuals, unknown inputs)."""
  jaxpr, num_consts, num_carry = params["jaxpr"], params["num_consts"], params["num_carry"]
  unk = [not trace.is_known(a) for a in args]
  c_unk, carry_unk, x_unk = _split(unk, num_consts, num_carry)
  num_ys = len(jaxpr.out_avals) - num_carry
  while True:  # fixpoint: a carry is unknown if its value out of the body is
    known, unknown, out_unk, num_res = pe.partial_eval_jaxpr(
        jaxpr, c_unk + carry_unk + x_unk, instantiate=carry_unk + [False] * num_ys)
    new = [a or b for a, b in zip(carry_unk, out_unk[:num_carry])]
    if new == carry_unk:
      break
    carry_unk = new
  unk = c_unk + carry_unk + x_unk
  if all(unk):
    return pe.DynamicJaxprTrace.process_primitive(trace, scan_p, list(args), params)
  # Residuals depending only on the known consts are computed once, outside the loop.
  n_kc = num_consts - sum(c_unk)
  n_kcarry = num_carry - sum(carry_unk)
  n_known_out = len(known.out_avals) - num_res
  inv = _invariant_outputs(known.jaxpr, n_kc)[n_known_out:]
  known_args = [a for a, u in zip(args, unk) if not u]
  with core.set_current_trace(trace.parent):
    inv_jaxpr = _select_outputs(known, [n_known_out + i for i, v in enumerate(inv) if v],
                                keep_effects=False)  # (effects run in the loop)
    inv_res = eval_closed(_prefix_inputs(inv_jaxpr, n_kc), *known_args[:n_kc])
  # Variant residuals that are known xs slices are the xs themselves: not re-stacked.
  xs_in = {v: k for k, v in enumerate(known.jaxpr.invars[n_kc + n_kcarry:])}
  var_out = [known.jaxpr.outvars[n_known_out + i] for i, v in enumerate(inv) if not v]
  fwd = [xs_in.get(v) if type(v) is not Literal else None for v in var_out]
  var_idx = [n_known_out + i for i, v in enumerate(inv) if not v]
  stacked_idx = [i for i, f in zip(var_idx, fwd) if f is None]
  known_body = _select_outputs(known, list(range(n_known_out)) + stacked_idx)
  known_outs = trace.parent.process_primitive(
      scan_p, known_args, dict(params, jaxpr=known_body, num_consts=n_kc,
                               num_carry=n_kcarry, linear=(False,) * len(known_args)))
  n_ky = n_known_out - n_kcarry
  stacked = iter(known_outs[n_kcarry + n_ky:])
  known_xs = known_args[n_kc + n_kcarry:]
  var_res = [next(stacked) if f is None else known_xs[f] for f in fwd]
  # unknown: (residuals..., unknown consts, unknown carry, unknown xs); reorder to
  # consts = (invariant residuals, unknown consts), xs = (unknown xs, variant residuals).
  # Known carries made unknown by the fixpoint enter the unknown scan as they are.
  n_uc, n_ucarry, n_ux = sum(c_unk), sum(carry_unk), sum(x_unk)
  res_inv_pos = [i for i, v in enumerate(inv) if v]
  res_var_pos = [i for i, v in enumerate(inv) if not v]
  order = res_inv_pos + list(range(num_res, num_res + n_uc + n_ucarry + n_ux)) + res_var_pos
  unk_body = _permute(unknown, in_order=order)
  consts, carry, xs = _split(list(args), num_consts, num_carry)
  unk_args = (list(inv_res) + [a for a, u in zip(consts, c_unk) if u]
              + [a for a, u in zip(carry, carry_unk) if u]
              + [a for a, u in zip(xs, x_unk) if u] + list(var_res))
  unk_outs = pe.DynamicJaxprTrace.process_primitive(
      trace, scan_p, unk_args,
      dict(params, jaxpr=unk_body, num_consts=len(inv_res) + n_uc, num_carry=n_ucarry,
           linear=(False,) * len(unk_args)))
  k_carry, k_ys = iter(known_outs[:n_kcarry]), iter(known_outs[n_kcarry:n_kcarry + n_ky])
  u_carry, u_ys = iter(unk_outs[:n_ucarry]), iter(unk_outs[n_ucarry:])
  out = [next(u_carry) if u else next(k_carry) for u in carry_unk]
  out += [next(u_ys) if u else next(k_ys) for u in out_unk[num_carry:]]
  return out


def _select_outputs(closed: ClosedJaxpr, idx, keep_effects=True) -> ClosedJaxpr:
  j = closed.jaxpr
  new = Jaxpr(j.constvars, j.invars, [j.outvars[i] for i in idx], j.eqns, j.debug_info)
  return ClosedJaxpr(pe.dce_jaxpr(new, keep_effects), closed.consts)


def _prefix_inputs(closed: ClosedJaxpr, n: int) -> ClosedJaxpr:
  """``closed`` taking only its first ``n`` inputs (the others must be unused)."""
  j = closed.jaxpr
  return ClosedJaxpr(Jaxpr(j.constvars, j.invars[:n], j.outvars, j.eqns, j.debug_info),
                     closed.consts)


def _scan_transpose(cts, *args, reverse, length, jaxpr, num_consts, num_carry, linear,
                    unroll, _split_transpose):
  """The transpose is a scan in the other direction: its carry holds the carry's
  cotangent and the accumulated cotangents of the linear consts."""
  undef = [ad.is_undefined_primal(a) for a in args]
  # Carries are linear in the body even when an initial value is a known (zero) constant,
  # as when a tangent carry was instantiated: its cotangent is dropped.
  c_lin, carry_lin, x_lin = _split(undef, num_consts, num_carry)
  consts, carry, xs = _split(args, num_consts, num_carry)
  in_avals = jaxpr.in_avals
  c_avals, _, x_avals = _split(in_avals, num_consts, num_carry)
  carry_avals = jaxpr.out_avals[:num_carry]  # (a weak carry input's cotangent is strong)
  out_avals = _scan_abstract_eval(length=length, jaxpr=jaxpr, num_consts=num_consts,
                                  num_carry=num_carry)
  cts = ad.instantiate_cts(cts, out_avals)
  ct_carry, ct_ys = cts[:num_carry], cts[num_carry:]
  k_consts = [c for c, l in zip(consts, c_lin) if not l]
  k_xs = [x for x, l in zip(xs, x_lin) if not l]
  lin_c_avals = [a for a, l in zip(c_avals, c_lin) if l]
  n_kc, n_lc = len(k_consts), len(lin_c_avals)

  def body(*vals):
    kc = vals[:n_kc]
    acc = vals[n_kc:n_kc + n_lc]
    ctc = vals[n_kc + n_lc:n_kc + n_lc + num_carry]
    rest = vals[n_kc + n_lc + num_carry:]
    cty, kx = rest[:len(ct_ys)], rest[len(ct_ys):]
    it_c, it_x = iter(kc), iter(kx)
    full = ([ad.UndefinedPrimal(a) if l else next(it_c) for a, l in zip(c_avals, c_lin)]
            + [ad.UndefinedPrimal(a) for a in carry_avals]
            + [ad.UndefinedPrimal(a) if l else next(it_x) for a, l in zip(x_avals, x_lin)])
    res = ad.backward_pass(jaxpr.jaxpr, jaxpr.consts, full, list(ctc) + list(cty))
    res = [ad.zeros_like_aval(a) if r is None else r for r, a in zip(res, in_avals)]
    rc, rcarry, rx = _split(res, num_consts, num_carry)
    new_acc = [ad.add_any_p.bind(a, r) for a, r in zip(acc, [r for r, l in zip(rc, c_lin) if l])]
    return new_acc + rcarry + [r for r, l in zip(rx, x_lin) if l]

  y_avals = [a.update(shape=a.shape[1:]) for a in avals_of(ct_ys)]
  kx_avals = [a.update(shape=a.shape[1:]) for a in avals_of(k_xs)]
  t_jaxpr, t_consts = pe.trace_to_jaxpr(
      body, avals_of(k_consts) + lin_c_avals + list(carry_avals) + y_avals + kx_avals)
  t_closed = ClosedJaxpr(t_jaxpr, t_consts)
  acc0 = [ad.zeros_like_aval(a) for a in lin_c_avals]
  t_args = k_consts + acc0 + list(ct_carry) + list(ct_ys) + k_xs
  outs = scan_p.bind(*t_args, reverse=not reverse, length=length, jaxpr=t_closed,
                     num_consts=n_kc, num_carry=n_lc + num_carry,
                     linear=(False,) * len(t_args), unroll=unroll,
                     _split_transpose=_split_transpose)
  ct_c = iter(outs[:n_lc])
  ct_init = outs[n_lc:n_lc + num_carry]
  ct_x = iter(outs[n_lc + num_carry:])
  return ([next(ct_c) if l else None for l in c_lin]
          + [c if l else None for c, l in zip(ct_init, carry_lin)]
          + [next(ct_x) if l else None for l in x_lin])


def _scan_batch(vals, dims, *, axis_name=None, reverse, length, jaxpr, num_consts,
                num_carry, linear, unroll, _split_transpose):
  size = batching.batch_size(vals, dims)
  c_d, carry_d, x_d = _split(dims, num_consts, num_carry)
  c_b = [d is not None for d in c_d]
  carry_b = [d is not None for d in carry_d]
  x_b = [d is not None for d in x_d]
  num_ys = len(jaxpr.out_avals) - num_carry
  while True:  # fixpoint: a carry is batched if its value out of the body is
    body, out_d = batching.batch_jaxpr(jaxpr, size, [0 if b else None
                                                     for b in c_b + carry_b + x_b],
                                       axis_name, instantiate=carry_b + [False] * num_ys)
    new = [a or (d is not None) for a, d in zip(carry_b, out_d[:num_carry])]
    if new == carry_b:
      break
    carry_b = new
  consts, carry, xs = _split(vals, num_consts, num_carry)
  consts = [batching.moveaxis(v, d, 0) if d is not None else v for v, d in zip(consts, c_d)]
  carry = [batching.bdim_at_front(v, d, size) if b else v
           for v, d, b in zip(carry, carry_d, carry_b)]
  xs = [batching.moveaxis(v, d, 1) if d is not None else v for v, d in zip(xs, x_d)]
  outs = scan_p.bind(*consts, *carry, *xs, reverse=reverse, length=length, jaxpr=body,
                     num_consts=num_consts, num_carry=num_carry, linear=linear,
                     unroll=unroll, _split_transpose=_split_transpose)
  out_dims = [0 if b else None for b in carry_b]
  out_dims += [1 if d is not None else None for d in out_d[num_carry:]]
  return outs, out_dims


def _unroll_factor(unroll, length: int, jaxpr: ClosedJaxpr) -> int:
  """Steps per iteration of the compiled loop. IREE runs a loop's control on the host,
  one submission per iteration, and copies the loop-carried buffers (the stacked ``ys``
  included) each iteration: running several steps per iteration divides both costs.
  With ``unroll=1`` (the default) the factor is picked from the body's size."""
  if length <= 1:
    return max(length, 1)
  if unroll is True:
    return length
  u = int(unroll)
  if u <= 1:
    n = max(len(jaxpr.eqns), 1)
    small = sum(a.size for a in jaxpr.in_avals) <= 1024  # e.g. a scalar fori_loop
    u = max(1, min(_AUTO_UNROLL_OPS // n, 4 * _AUTO_UNROLL_MAX if small else _AUTO_UNROLL_MAX))
  return min(u, length)


_AUTO_UNROLL_OPS = 128   # unrolled body size (equations) the default aims at
_AUTO_UNROLL_MAX = 8


_CHUNK_MIN_BLOCKS = 16        # loops with more blocks than this are split in chunks
_CHUNK_MIN_YS_BYTES = 1 << 18


def _scan_lower(ctx, *args, reverse, length, jaxpr, num_consts, num_carry, unroll, **params):
  """Long scans with big stacked outputs run as chunks: IREE copies every loop-carried
  buffer on each iteration, so a loop writing into the whole ``ys`` costs
  O(iterations x |ys|). Each chunk is a call of one private function (a scan of
  ``chunk`` steps producing its own slice of ``ys``), and the slices are concatenated."""
  consts, carry, xs = _split(args, num_consts, num_carry)
  native = _scan_native(ctx, consts, carry, xs, length, jaxpr, num_carry)
  if native is not None:
    return native
  u = _unroll_factor(unroll, length, jaxpr)
  q = length // u
  y_bytes = length * sum(a.size * a.dtype.itemsize for a in jaxpr.out_avals[num_carry:])
  if q < _CHUNK_MIN_BLOCKS or y_bytes < _CHUNK_MIN_YS_BYTES:
    return _scan_lower_blocks(ctx, consts, carry, xs, reverse, length, jaxpr, num_carry, u)
  m = max(2, int(round(q ** 0.5)))   # blocks per chunk
  n_chunks, steps = q // m, m * u
  chunk_fn = _chunk_jaxpr(jaxpr, num_consts, num_carry, steps, reverse, u, params)
  pieces = []   # (first position, ys Vals)
  for c in range(n_chunks):
    start = length - (c + 1) * steps if reverse else c * steps
    xc = [_static_rows(ctx, x, start, steps) for x in xs]
    outs = ctx.call(chunk_fn.jaxpr, chunk_fn.consts, consts + carry + xc, "scan_chunk")
    carry = list(outs[:num_carry])
    pieces.append((start, list(outs[num_carry:])))
  rest = length - n_chunks * steps
  if rest:
    start = 0 if reverse else n_chunks * steps
    xr = [_static_rows(ctx, x, start, rest) for x in xs]
    outs = _scan_lower_blocks(ctx, consts, carry, xr, reverse, rest, jaxpr, num_carry, u)
    carry = list(outs[:num_carry])
    pieces.append((start, list(outs[num_carry:])))
  pieces.sort(key=lambda p: p[0])
  ys = []
  for k, a in enumerate(jaxpr.out_avals[num_carry:]):
    parts = [p[1][k] for p in pieces]
    ys.append(parts[0] if len(parts) == 1 else ctx.op(
        "stablehlo.concatenate", parts, ShapedArray((length, *a.shape), a.dtype),
        "dimension = 0 : i64"))
  return carry + ys


def _scan_native(ctx, consts, carry, xs, length, jaxpr, num_carry):
  """A scan without xs and ys (a ``fori_loop`` with static bounds) whose body qualifies,
  as a native loop (``native_loops``) counting its steps; else None."""
  if xs or len(jaxpr.out_avals) != num_carry or core.jaxpr_has_effects(jaxpr) or \
      any(v.aval.size > native_loops.MAX_ELEMS for v in consts + carry):
    return None
  i32 = np.dtype(np.int32)
  idx = ShapedArray((), i32)
  n = ctx.constant(np.array(length, i32), idx)

  def cond(b, cs, c):
    return b.compare("LT", c[0], cs[0])

  def body(b, cs, c):
    step = b.binary("add", c[0], b.constant(np.array(1, i32), idx))
    return [step, *lower_closed(b, jaxpr, cs[1:] + c[1:])]

  outs = native_loops.lower_while(ctx, [n, *consts],
                                  [ctx.constant(np.array(0, i32), idx), *carry], cond, body)
  return None if outs is None else outs[1:]


def _chunk_jaxpr(jaxpr, num_consts, num_carry, steps, reverse, u, params) -> ClosedJaxpr:
  """A jaxpr running ``steps`` steps of the scan (lowered as one private function)."""
  in_avals = jaxpr.in_avals
  invars = [Var(a) for a in in_avals[:num_consts + num_carry]]
  invars += [Var(a.update(shape=(steps, *a.shape))) for a in in_avals[num_consts + num_carry:]]
  outs = _scan_abstract_eval(length=steps, jaxpr=jaxpr, num_consts=num_consts,
                             num_carry=num_carry)
  outvars = [Var(a) for a in outs]
  eqn = JaxprEqn(invars, outvars, scan_p,
                 dict(params, reverse=reverse, length=steps, jaxpr=jaxpr, num_consts=num_consts,
                      num_carry=num_carry, unroll=u))
  return ClosedJaxpr(Jaxpr([], invars, outvars, [eqn]), [])


def _static_rows(b, x, start: int, n: int):
  """``x[start:start + n]`` (static bounds)."""
  a = x.aval
  if start == 0 and n == a.shape[0]:
    return x
  lo = [start] + [0] * (a.ndim - 1)
  hi = [start + n] + list(a.shape[1:])
  return b.op("stablehlo.slice", [x], a.update(shape=(n, *a.shape[1:])),
              f"start_indices = {_i64_array(lo)}, limit_indices = {_i64_array(hi)}, "
              f"strides = {_i64_array([1] * a.ndim)}")


def _scan_lower_blocks(ctx, consts, carry, xs, reverse, length, jaxpr, num_carry, u):
  """A ``stablehlo.while`` over blocks of ``u`` steps (``_unroll_factor``), then the
  remaining steps in straight-line code. State: (block index, consts, carry, xs, ys); a
  block slices its ``u`` x's at once and writes its ``u`` y's with one update."""
  y_avals = [ShapedArray((length, *a.shape), a.dtype) for a in jaxpr.out_avals[num_carry:]]
  i32 = np.dtype(np.int32)
  idx_aval = ShapedArray((), i32)
  u = min(u, max(length, 1))
  q, r = divmod(length, u)

  def block(b, cs, cr, xv, yv, start, n):
    """Runs ``n`` steps over positions [start, start + n) (in reverse order if
    ``reverse``); returns the new carry and ys."""
    xblk = [_slice_at(b, x, start, n) for x in xv]
    ys_at = [[None] * n for _ in yv]
    for j in range(n):
      off = n - 1 - j if reverse else j
      xj = [_static_index(b, xb, off) for xb in xblk]
      outs = lower_closed(b, jaxpr, cs + cr + xj)
      cr = list(outs[:num_carry])
      for acc, y in zip(ys_at, outs[num_carry:]):
        acc[off] = y
    new_ys = []
    for y_buf, parts in zip(yv, ys_at):
      a = y_buf.aval
      parts = [b.op("stablehlo.reshape", [p], a.update(shape=(1, *a.shape[1:]))) for p in parts]
      blk = parts[0] if n == 1 else b.op("stablehlo.concatenate", parts,
                                         a.update(shape=(n, *a.shape[1:])),
                                         "dimension = 0 : i64")
      new_ys.append(_update_at(b, y_buf, blk, start))
    return cr, new_ys

  const = lambda b, v: b.constant(np.array(v, i32), idx_aval)
  ys = [ctx.full(0, a.shape, a.dtype) for a in y_avals]
  if q > 1:
    state = [const(ctx, 0)] + consts + carry + xs + ys
    avals = [s_.aval for s_ in state]
    nc, nk, nx = len(consts), len(carry), len(xs)

    def cond(b, k, *rest):
      return [b.compare("LT", k, const(b, q))]

    def body(b, k, *rest):
      cs, cr = list(rest[:nc]), list(rest[nc:nc + nk])
      xv, yv = list(rest[nc + nk:nc + nk + nx]), list(rest[nc + nk + nx:])
      start = b.binary("multiply", k, const(b, u))
      if reverse:  # block k covers [length - (k + 1) u, length - k u)
        start = b.binary("subtract", const(b, length - u), start)
      cr, yv = block(b, cs, cr, xv, yv, start, u)
      return [b.binary("add", k, const(b, 1))] + cs + cr + xv + yv

    outs = mlir.while_op(ctx, state, avals, cond, body,
                         token=core.jaxpr_has_effects(jaxpr))
    carry = list(outs[1 + nc:1 + nc + nk])
    ys = list(outs[1 + nc + nk + nx:])
    done = q
  else:
    done = 0
  for k in range(done, q):  # a single block: straight-line code
    start = length - (k + 1) * u if reverse else k * u
    carry, ys = block(ctx, consts, carry, xs, ys, const(ctx, start), u)
  if r:
    carry, ys = block(ctx, consts, carry, xs, ys, const(ctx, 0 if reverse else q * u), r)
  return list(carry) + list(ys)


def _slice_at(b, x, start, n):
  """``x[start:start + n]`` along axis 0 (``start`` a dynamic scalar)."""
  a = x.aval
  if n == a.shape[0]:
    return x
  zero = b.constant(np.array(0, start.aval.dtype), start.aval)
  return b.op("stablehlo.dynamic_slice", [x, start] + [zero] * (a.ndim - 1),
              a.update(shape=(n, *a.shape[1:])),
              f"slice_sizes = {_i64_array((n, *a.shape[1:]))}")


def _static_index(b, x, i):
  """``x[i]`` for a static ``i`` (axis 0 dropped)."""
  a = x.aval
  if a.shape[0] != 1:
    lo = [i] + [0] * (a.ndim - 1)
    hi = [i + 1] + list(a.shape[1:])
    x = b.op("stablehlo.slice", [x], a.update(shape=(1, *a.shape[1:])),
             f"start_indices = {_i64_array(lo)}, limit_indices = {_i64_array(hi)}, "
             f"strides = {_i64_array([1] * a.ndim)}")
  return b.op("stablehlo.reshape", [x], a.update(shape=a.shape[1:]))


def _update_at(b, ys, blk, start):
  """``ys.at[start:start + len(blk)].set(blk)`` along axis 0."""
  a = ys.aval
  if blk.aval.shape == a.shape:  # (IREE crashes on a full-size update of a splat)
    return blk
  zero = b.constant(np.array(0, start.aval.dtype), start.aval)
  return b.op("stablehlo.dynamic_update_slice", [ys, blk, start] + [zero] * (a.ndim - 1), a)


def _scan_pp_params(params):
  return {k: params[k] for k in ("jaxpr", "length", "num_carry", "num_consts", "reverse",
                                 "unroll")}


scan_p.def_impl(_scan_impl)
scan_p.def_abstract_eval(_scan_abstract_eval)
scan_p.jvp = _scan_jvp
scan_p.partial_eval = _scan_partial_eval
scan_p.transpose = _scan_transpose
scan_p.batch = _scan_batch
scan_p.lower = _scan_lower
scan_p.pp_params = _scan_pp_params


# ---------------------------------------------------------------- scan (the API)


def _leading_length(xs_flat, length):
  sizes = []
  for x in xs_flat:
    shape = np.shape(x) if not hasattr(x, "aval") else x.aval.shape
    if not shape:
      raise ValueError(f"scan got value with no leading axis to scan over: "
                       f"{', '.join(str(x) for x in xs_flat if not np.shape(x))}.")
    sizes.append(shape[0])
  if length is not None:
    try:
      length = operator.index(length)
    except TypeError:
      raise TypeError(f"scan got `length` argument of type {type(length).__name__}; "
                      f"it must be a Python int.") from None
    if length < 0:
      raise ValueError(f"scan got negative `length` {length}.")
    if any(s != length for s in sizes):
      raise ValueError(f"scan got `length` argument of {length} which disagrees with "
                       f"leading axis sizes {sizes}.")
    return length
  if not sizes:
    raise ValueError("scan got no values to scan over and `length` not provided.")
  if len(set(sizes)) > 1:
    raise ValueError(f"scan got values with different leading axis sizes: "
                     f"{', '.join(str(s) for s in sizes)}.")
  return sizes[0]


def scan(f: Callable, init, xs=None, length=None, reverse=False, unroll=1,
         _split_transpose=False):
  """Loops ``f(carry, x) -> (carry, y)`` over the leading axis of ``xs``; returns the
  final carry and the ``y``s stacked."""
  if not callable(f):
    raise TypeError("lax.scan: f argument should be a callable.")
  xs_flat, xs_tree = tree_util.tree_flatten(xs)
  length = _leading_length(xs_flat, length)
  if isinstance(unroll, bool):
    unroll = max(length, 1) if unroll else 1
  init_flat, init_tree = tree_util.tree_flatten(init)
  init_flat = [x if isinstance(x, (ArrayImpl, Tracer)) else _as_array(x) for x in init_flat]
  xs_flat = [x if isinstance(x, (ArrayImpl, Tracer)) else _as_array(x) for x in xs_flat]
  carry_avals = avals_of(init_flat)
  xs_avals = avals_of(xs_flat)
  if any(a.sharding is not None and a.sharding.spec[0] is not None for a in xs_avals):
    raise ValueError("0th dimension of all xs should be replicated. Got " + ", ".join(
        str(a.sharding.spec if a.sharding is not None else
            PartitionSpec(*[None] * len(a.shape))) for a in xs_avals))
  x_avals = [ShapedArray(a.shape[1:], a.dtype, a.weak_type, sharding=None if a.sharding
                         is None else make_sharding(a.sharding.mesh, spec_of(a)[1:]))
             for a in xs_avals]

  def body(carry, x):
    out = f(carry, x)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
      got = core.get_aval(out).str_short(short_dtypes=False) if core.is_valid_jaxtype(out) \
          else repr(out)
      w = "~" if core.is_valid_jaxtype(out) and core.get_aval(out).weak_type else ""
      raise TypeError(f"scan body output must be a pair, got {w}{got}.")
    return tuple(out)

  probed, closed_refs = ref.probe_closed_refs(body)
  for attempt in range(2):
    closed, consts, out_tree = trace_fun(
        probed, (tree_util.tree_unflatten(init_tree, carry_avals),
                 tree_util.tree_unflatten(xs_tree, x_avals)), "scan", debug_fun=f)
    if closed_refs:  # Refs the body closes over: carried (their values) instead
      return _scan_with_refs(f, init, xs, length, reverse, unroll, closed_refs)
    out_kids = tree_util.treedef_children(out_tree)
    carry_out_tree = out_kids[0]
    n_carry = len(carry_avals)
    out_avals = closed.out_avals
    if carry_out_tree != init_tree:
      break
    # JAX's: a weakly typed carry whose output has another dtype is promoted, and traced
    # again; one that differs only in weak type stays (the output carry is the body's)
    promoted = [dtypes.result_type(x, b) if a.weak_type and a.dtype != b.dtype else None
                for x, a, b in zip(init_flat, carry_avals, out_avals)]
    if all(d is None or d == a.dtype for d, a in zip(promoted, carry_avals)):
      break
    init_flat = [x if d is None else lax.convert_element_type(x, d)
                 for x, d in zip(init_flat, promoted)]
    carry_avals = avals_of(init_flat)
  check_carry("scan body", f, init_tree, carry_avals, carry_out_tree,
              out_avals[:carry_out_tree.num_leaves])
  outs = scan_p.bind(*consts, *init_flat, *xs_flat, reverse=bool(reverse), length=length,
                     jaxpr=closed, num_consts=len(consts), num_carry=n_carry,
                     linear=(False,) * (len(consts) + n_carry + len(xs_flat)),
                     unroll=unroll, _split_transpose=_split_transpose)
  carry = tree_util.tree_unflatten(carry_out_tree, outs[:n_carry])
  ys = tree_util.tree_unflatten(out_kids[1], outs[n_carry:])
  return carry, ys


def _scan_with_refs(f, init, xs, length, reverse, unroll, refs):
  """``scan`` of ``f`` closing over ``refs``: their values ride in the carry, and their
  final values are written back to them."""
  g = ref.with_ref_values(f, refs)

  def step(carry_vals, x):
    carry, vals = carry_vals
    (carry, y), vals = g(carry, x, vals)
    return (carry, vals), y
  (carry, vals), ys = scan(step, (init, [ref.get(r) for r in refs]), xs, length=length,
                           reverse=reverse, unroll=unroll)
  for r, v in zip(refs, vals):
    ref.set(r, ..., v)
  return carry, ys


def _as_array(x):
  try:
    return asarray_value(x)
  except TypeError:
    raise TypeError(f"scan: value {x!r} of type {type(x).__name__} is not a valid JAX "
                    f"type.") from None


# ---------------------------------------------------------------- map, fori_loop


def map(f: Callable, xs, *, batch_size: int | None = None):
  """``f`` applied to each slice of ``xs`` along axis 0 (a scan without carry);
  ``batch_size`` runs ``batching.vmap(f)`` on chunks of that many slices."""
  if batch_size is None:
    return scan(lambda _, x: ((), f(x)), (), xs)[1]
  xs_flat, xs_tree = tree_util.tree_flatten(xs)
  n = _leading_length(xs_flat, None)
  batch_size = operator.index(batch_size)
  if batch_size <= 0:
    raise ValueError(f"lax.map: batch_size must be positive, got {batch_size}.")
  num, rem = divmod(n, batch_size)
  parts = []
  if num:
    main = [lax.reshape(x[:num * batch_size], (num, batch_size, *x.shape[1:]))
            for x in xs_flat]
    vf = batching.vmap(f)
    ys = scan(lambda _, x: ((), vf(tree_util.tree_unflatten(xs_tree, x))), (), main)[1]
    parts.append(tree_util.tree_map(
        lambda y: lax.reshape(y, (num * batch_size, *y.shape[2:])), ys))
  if rem:
    tail = tree_util.tree_unflatten(xs_tree, [x[num * batch_size:] for x in xs_flat])
    parts.append(batching.vmap(f)(tail))
  if len(parts) == 1:
    return parts[0]
  return tree_util.tree_map(lambda a, b: slicing.concatenate([a, b], 0), *parts)


def fori_loop(lower, upper, body_fun: Callable, init_val, *, unroll=None):
  """``body_fun(i, val)`` for ``i`` in ``[lower, upper)``. With concrete bounds this is a
  scan (so it is reverse-differentiable); otherwise a while_loop."""
  # JAX's rule: equal dtypes (floats too), or signed integers one of them weak
  lower_dt = dtypes.dtype(lower, canonicalize=True)
  upper_dt = dtypes.dtype(upper, canonicalize=True)
  dt = lower_dt if lower_dt == upper_dt else None
  if dt is None and lower_dt.kind == "i" and upper_dt.kind == "i":
    lower_weak, upper_weak = dtypes.is_weakly_typed(lower), dtypes.is_weakly_typed(upper)
    if lower_weak != upper_weak:
      dt = upper_dt if lower_weak else lower_dt
  if dt is None:
    raise TypeError(f"lower and upper arguments to fori_loop must have equal types, got "
                    f"{lower_dt.name} and {upper_dt.name}")
  lo_c, up_c = _concrete_int(lower), _concrete_int(upper)
  if lo_c is not None and up_c is not None:
    def step(loop_carry, _):  # (JAX's names: its carry errors say loop_carry[1])
      i, x = loop_carry
      return (lax.add(i, 1), body_fun(i, x)), None

    # JAX's: the index counts from int(lower), a Python int (weak int), whatever the
    # bounds' dtype
    (_, out), _ = scan(step, (lo_c, init_val), None, length=max(up_c - lo_c, 0),
                       unroll=1 if unroll is None else unroll)
    return out
  if unroll is not None and unroll is not False and unroll != 1:
    raise ValueError("Can only use `unroll` in `fori_loop` if the loop bounds are statically "
                     "known.")
  # JAX's: a bound is converted only when its dtype differs (a weak one stays weak)
  lo = lower if lower_dt == dt else lax.convert_element_type(lower, dt)
  up = upper if upper_dt == dt else lax.convert_element_type(upper, dt)

  def body(loop_carry):
    i, upper, x = loop_carry
    return lax.add(i, lax._const(i, 1)), upper, body_fun(i, x)
  _, _, out = while_loop(lambda loop_carry: lax.lt(loop_carry[0], loop_carry[1]), body,
                         (lo, up, init_val))
  return out


def _concrete_int(x):
  if isinstance(x, Tracer):
    return None
  try:
    return int(np.asarray(x._value if type(x) is ArrayImpl else x))
  except (TypeError, ValueError):
    return None


# ---------------------------------------------------------------- associative_scan


def associative_scan(fn: Callable, elems, reverse: bool = False, axis: int = 0):
  """Inclusive prefix scan of ``elems`` along ``axis`` with the associative ``fn``,
  in O(log n) parallel steps: combine adjacent pairs, scan the half-length result
  recursively, then fill in the even positions."""
  flat, tree = tree_util.tree_flatten(elems)
  if not flat:
    return elems
  flat = [x if isinstance(x, (ArrayImpl, Tracer)) else _as_array(x) for x in flat]
  nd = flat[0].ndim
  axis = axis + nd if axis < 0 else axis
  if not 0 <= axis < nd:
    raise ValueError(f"associative_scan: axis {axis} is out of bounds for arrays of "
                     f"rank {nd}.")
  sizes = {x.shape[axis] for x in flat}
  if len(sizes) != 1:
    raise ValueError(f"Array inputs to associative_scan must have the same first "
                     f"dimension. (saw: {[x.shape for x in flat]})")
  n = sizes.pop()
  if reverse:
    flat = [lax.rev(x, (axis,)) for x in flat]

  def combine(a, b):
    out = fn(tree_util.tree_unflatten(tree, a), tree_util.tree_unflatten(tree, b))
    out_flat, out_tree = tree_util.tree_flatten(out)
    if out_tree != tree:
      raise ValueError(f"fn must return the same pytree structure as elems, got {out_tree} "
                       f"and {tree}.")
    return out_flat

  def sl(x, start, stop=None, step=1):
    return slicing.slice_in_dim(x, start, stop, step, axis)

  def interleave(a, b):
    """[a0, b0, a1, b1, ...] along ``axis`` (len(a) == len(b) or len(b) + 1)."""
    na, nb = a.shape[axis], b.shape[axis]
    head = sl(a, 0, nb) if na > nb else a
    pair = slicing.concatenate([lax.expand_dims(head, (axis + 1,)),
                            lax.expand_dims(b, (axis + 1,))], axis + 1)
    shape = list(a.shape)
    shape[axis] = 2 * nb
    out = lax.reshape(pair, tuple(shape))
    return slicing.concatenate([out, sl(a, nb, na)], axis) if na > nb else out

  def scan_rec(xs):
    m = xs[0].shape[axis]
    if m < 2:
      return xs
    reduced = combine([sl(x, 0, m - 1, 2) for x in xs], [sl(x, 1, None, 2) for x in xs])
    odd = scan_rec(reduced)
    if m % 2 == 0:
      even = combine([sl(o, 0, -1) for o in odd], [sl(x, 2, None, 2) for x in xs])
    else:
      even = combine(odd, [sl(x, 2, None, 2) for x in xs])
    even = [slicing.concatenate([sl(x, 0, 1), e], axis) for x, e in zip(xs, even)]
    return [interleave(e, o) for e, o in zip(even, odd)]

  out = scan_rec(flat) if n else flat
  if reverse:
    out = [lax.rev(x, (axis,)) for x in out]
  return tree_util.tree_unflatten(tree, out)


# ---------------------------------------------------------------- cumulative ops' JVPs
# As JAX's: cumprod/cummax/cummin/cumlogsumexp differentiate associative_scan (the same
# combine tree, so ties among cummax/cummin inputs share the gradient as in JAX,
# reverse= included). The primitives live in lax/reductions.py.


def _cumulative_jvp(p, combine):
  def jvp(primals, tangents, *, axis, reverse):
    out = p.bind(primals[0], axis=axis, reverse=reverse)
    _, (t,) = ad.jvp_flat(
        lambda x: [associative_scan(combine, x, axis=axis, reverse=reverse)],
        primals, tangents)
    return out, t
  p.jvp = jvp


_cumulative_jvp(reductions.cumprod_p, lax.mul)
_cumulative_jvp(reductions.cummax_p, lax.max)
_cumulative_jvp(reductions.cummin_p, lax.min)
_cumulative_jvp(reductions.cumlogsumexp_p, reductions._logaddexp)

"""Loops compiled to native code: a ``while`` as an ``scf.while`` inside one dispatch.

IREE (3.13) runs a ``stablehlo.while`` on its VM, one dispatch per iteration (~4-8 us a
step). The same loop written as an ``scf.while`` inside a ``linalg.generic`` compiles to
native code in one dispatch (~3-15 ns a step). ``lower_while`` writes a loop that way
when its cond and body qualify:

- scalar mode (``lanes`` None): every loop input (consts and carries) has at most
  ``MAX_ELEMS`` elements; the ``linalg.generic`` has a 0-d iteration space;
- lane mode (``lanes`` = B): a per-lane loop (a ``vmap`` of a while whose predicate is
  batched); the ``linalg.generic`` iterates over the B lanes, each running its own loop
  to its own trip count (what the batched loop computes, lanes done keeping their carry).

Inside the loop a value of a small shape is a list of scalars (the loop's carries are
scalars: IREE cannot bufferize an ``scf.while`` carrying tensors in a dispatch); the
body rebuilds each value as a small tensor (``tensor.from_elements``) and lowers the
jaxpr with the ordinary StableHLO rules, so its numbers are those of the
``stablehlo.while`` lowering. A body qualifies when every op it emits is elementwise or
a shape op on tensors of at most ``MAX_ELEMS`` elements (``_ALLOWED``); matmuls,
gathers, reductions, sorts, host calls and the like keep the ``stablehlo.while``.
Loops nested in a native loop become nested ``scf.while`` ops. Complex values and the
narrow float types do not qualify. A whole-array loop whose predicate is an ``any``/``all``
over its elements (poisson's and binomial's rejection loops) is not split into lanes:
its elements can depend on the whole array's trip count (see docs/architecture.md,
"Native loops").
"""
from __future__ import annotations

import math
import re
from typing import Callable, Sequence

import numpy as np

from pyjax._src.core import ShapedArray
from pyjax._src.interpreters.lowering import FnBuilder, NotNative, Val, tensor_type

__all__ = ["MAX_ELEMS", "lower_while", "lower_switch", "enabled", "set_enabled"]

# Values in a native loop (inputs, carries, intermediates) have at most this many
# elements: each carry element is a scalar of the loop.
MAX_ELEMS = 64
# The generic reads each loop input and writes each carry element as a buffer binding:
# IREE's runtime takes at most 64 a dispatch ("dispatch requiring 200 bindings exceeds
# limit of 64" when loading the module), and it may fuse producers in: at most this many.
MAX_BINDINGS = 32

# StableHLO / CHLO ops a native loop body may hold (elementwise and shape ops).
_ALLOWED = frozenset("""
add subtract multiply divide remainder maximum minimum and or xor not negate abs sign
shift_left shift_right_arithmetic shift_right_logical exponential exponential_minus_one
log log_plus_one logistic sine cosine tan tanh sqrt rsqrt cbrt power floor ceil
round_nearest_even round_nearest_afz is_finite popcnt count_leading_zeros atan2 clamp
select compare convert bitcast_convert constant broadcast_in_dim reshape slice
concatenate transpose pad erf erfc erf_inv lgamma digamma acos asin atan
acosh asinh atanh sinh cosh next_after
""".split())
_OP = re.compile(r'"(stablehlo|chlo)\.(\w+)"')
_TENSOR = re.compile(r"tensor<((?:\d+x)*)")

_state = {"enabled": True}


def enabled() -> bool:
  return _state["enabled"]


def set_enabled(on: bool) -> bool:
  """Turns native loops on or off (for tests and benchmarks); returns the old setting."""
  old, _state["enabled"] = _state["enabled"], bool(on)
  return old


def _signless(dt: np.dtype) -> np.dtype:
  """The dtype a loop scalar of ``dt`` is stored as: unsigned integers as signless ones
  (IREE's scalars are signless), bools as int8 (IREE stores ``tensor<i1>`` as i8 and
  then rejects an i1 ``tensor.from_elements``)."""
  if dt == np.bool_:
    return np.dtype(np.int8)
  return np.dtype(f"i{dt.itemsize}") if dt.kind == "u" else dt


def _to_storage(b: FnBuilder, v: Val) -> Val:
  dt = v.aval.dtype
  st = v.aval.update(dtype=_signless(dt))
  if dt == np.bool_:
    return b.op("stablehlo.convert", [v], st)
  return b.op("stablehlo.bitcast_convert", [v], st) if dt.kind == "u" else v


def _from_storage(b: FnBuilder, v: Val, dt: np.dtype) -> Val:
  if dt == np.bool_:
    return b.compare("NE", v, b.full(0, (), v.aval.dtype))
  return b.op("stablehlo.bitcast_convert", [v], v.aval.update(dtype=dt)) \
      if dt.kind == "u" else v


def _scalar_type(dt: np.dtype) -> str:
  """The element type of ``dt`` as a signless MLIR scalar type."""
  return tensor_type(ShapedArray((), _signless(dt)))[len("tensor<"):-1]


def _check_dtype(dt: np.dtype):
  if dt.kind == "c" or (dt.kind == "V" and dt.itemsize < 2) or dt.itemsize > 8:
    raise NotNative(f"dtype {dt}")
  try:
    _scalar_type(dt)
  except NotImplementedError:
    raise NotNative(f"dtype {dt}") from None


class _NativeBuilder(FnBuilder):
  """A builder for a block inside a native loop. IREE (3.13) miscompiles ops whose
  linalg form reads ``linalg.index`` when they sit in the lane loop's ``linalg.generic``
  (the index becomes the lane's): ``stablehlo.iota`` is written as a constant, and
  ``stablehlo.reverse`` does not qualify."""
  native = True

  def op(self, name, operands, out_avals, attrs="", regions=()):
    if name == "stablehlo.iota":
      aval = out_avals
      dim = int(re.search(r"iota_dimension = (\d+)", attrs).group(1))
      shape = aval.shape
      vals = np.arange(shape[dim]).reshape([-1 if i == dim else 1
                                            for i in range(len(shape))])
      return self.constant(np.broadcast_to(vals, shape).astype(aval.dtype), aval)
    if name == "stablehlo.convert" and out_avals.dtype.kind == "u" and \
        operands[0].aval.dtype.kind in "iub":
      # (IREE fails on an integer -> unsigned convert here: its folded scalar keeps the
      # unsigned type) the same bits through the signed type of the result's width
      src = operands[0]
      if src.aval.dtype.kind == "u":
        src = super().op("stablehlo.bitcast_convert", [src], src.aval.update(
            dtype=_signless(src.aval.dtype)))
        wide = out_avals.dtype.itemsize > src.aval.dtype.itemsize
        if wide:  # zero-extended: through the next wider signed type, masked
          raise NotNative("a widening unsigned convert")
      mid = super().op(name, [src], out_avals.update(dtype=_signless(out_avals.dtype)))
      return super().op("stablehlo.bitcast_convert", [mid], out_avals)
    return super().op(name, operands, out_avals, attrs, regions)


def _sub(b: FnBuilder, extra_indent: str = "  ") -> FnBuilder:
  """A native builder writing lines for a block nested in ``b``'s."""
  s = _NativeBuilder(b.module)
  s._ids = b._ids
  s.indent = b.indent + extra_indent
  return s


def _index(b: FnBuilder, i: int) -> str:
  name = f"%n{next(b._ids)}"
  b.lines.append(f"{b.indent}{name} = arith.constant {i} : index")
  return name


def _extract(b: FnBuilder, v: Val) -> list[str]:
  """The scalars (row-major, signless) of the small tensor ``v``."""
  v = _to_storage(b, v)
  shape = v.aval.shape
  idx: dict[int, str] = {}
  out = []
  for pos in np.ndindex(*shape):
    ins = []
    for i in pos:
      if i not in idx:
        idx[i] = _index(b, i)
      ins.append(idx[i])
    name = f"%n{next(b._ids)}"
    b.lines.append(f"{b.indent}{name} = tensor.extract {v.name}[{', '.join(ins)}] : "
                   f"{v.type}")
    out.append(name)
  return out


def _rebuild(b: FnBuilder, names: Sequence[str], aval: ShapedArray) -> Val:
  """The small tensor of ``aval`` made of the signless scalars ``names``."""
  sl = aval.update(dtype=_signless(aval.dtype))
  name = f"%n{next(b._ids)}"
  b.lines.append(f"{b.indent}{name} = tensor.from_elements {', '.join(names)} : "
                 f"{tensor_type(sl)}")
  return _from_storage(b, Val(name, sl), aval.dtype)


def _split_names(names: Sequence[str], avals: Sequence[ShapedArray]) -> list[list[str]]:
  out, k = [], 0
  for a in avals:
    out.append(list(names[k:k + a.size]))
    k += a.size
  return out


def _scf_while(b: FnBuilder, consts: list[Val], init: list[Val], cond, body) -> list[Val]:
  """An ``scf.while`` in the native block ``b`` over the small tensors ``init``."""
  avals = [v.aval for v in init]
  if any(a.size == 0 for a in avals):
    raise NotNative("an empty carry")
  scal = [s for v in init for s in _extract(b, v)]
  if not scal:
    raise NotNative("a loop without carries")
  types = ", ".join(_scalar_type(a.dtype) for a in avals for _ in range(a.size))
  res = f"%n{next(b._ids)}"
  before = [f"%n{next(b._ids)}" for _ in scal]
  b.lines.append(f"{b.indent}{res}:{len(scal)} = scf.while ("
                 f"{', '.join(f'{a} = {x}' for a, x in zip(before, scal))}) : ({types}) -> "
                 f"({types}) {{")
  cb = _sub(b)
  vals = [_rebuild(cb, ns, a) for ns, a in zip(_split_names(before, avals), avals)]
  pred = cond(cb, consts, vals)
  p8, = _extract(cb, pred)
  p = f"%n{next(b._ids)}"
  cb.lines.append(f"{cb.indent}{p} = arith.trunci {p8} : i8 to i1")
  cb.lines.append(f"{cb.indent}scf.condition({p}) {', '.join(before)} : {types}")
  after = [f"%n{next(b._ids)}" for _ in scal]
  bb = _sub(b)
  vals = [_rebuild(bb, ns, a) for ns, a in zip(_split_names(after, avals), avals)]
  outs = body(bb, consts, vals)
  for o, a in zip(outs, avals):
    if o.aval.shape != a.shape or o.aval.dtype != a.dtype:
      raise NotNative("a body output differs from its carry")
  ys = [s for o in outs for s in _extract(bb, o)]
  bb.lines.append(f"{bb.indent}scf.yield {', '.join(ys)} : {types}")
  head = ", ".join(f"{a}: {t}" for a, t in zip(after, types.split(", ")))
  b.lines += cb.lines + [f"{b.indent}}} do {{", f"{b.indent}^bb0({head}):"] + bb.lines + \
      [f"{b.indent}}}"]
  names = [f"{res}#{i}" for i in range(len(scal))]
  return [_rebuild(b, ns, a) for ns, a in zip(_split_names(names, avals), avals)]


def lower_switch(b: FnBuilder, index: Val, branches: Sequence[Callable],
                 out_avals: Sequence[ShapedArray]) -> list[Val]:
  """A ``cond`` inside a native loop (``b.native``): an ``scf.index_switch`` yielding
  scalars; ``branches[k](builder) -> Vals``. An index out of range takes the last branch,
  as ``stablehlo.case``."""
  if not out_avals:
    raise NotNative("a cond without results")
  for a in out_avals:
    _check_dtype(a.dtype)
  i32, = _extract(b, b.convert(index, np.int32))
  idx = f"%n{next(b._ids)}"
  b.lines.append(f"{b.indent}{idx} = arith.index_cast {i32} : i32 to index")
  types = ", ".join(_scalar_type(a.dtype) for a in out_avals for _ in range(a.size))
  n = sum(a.size for a in out_avals)
  res = f"%n{next(b._ids)}"
  b.lines.append(f"{b.indent}{res}:{n} = scf.index_switch {idx} -> {types}")
  for k, br in enumerate(branches):
    head = f"case {k} {{" if k < len(branches) - 1 else "default {"
    b.lines.append(f"{b.indent}{head}")
    sb = _sub(b)
    outs = br(sb)
    ys = [s for o in outs for s in _extract(sb, o)]
    sb.lines.append(f"{sb.indent}scf.yield {', '.join(ys)} : {types}")
    b.lines += sb.lines + [f"{b.indent}}}"]
  names = [f"{res}#{i}" for i in range(n)]
  return [_rebuild(b, ns, a) for ns, a in zip(_split_names(names, out_avals), out_avals)]


def _check_lines(lines: Sequence[str]):
  """Raises ``NotNative`` on an op or a tensor a native loop must not hold."""
  for line in lines:
    if "func.call" in line:
      raise NotNative("a call")
    for _, name in _OP.findall(line):
      if name not in _ALLOWED:
        raise NotNative(name)
    for dims in _TENSOR.findall(line):
      if dims and math.prod(int(d) for d in dims[:-1].split("x")) > MAX_ELEMS:
        raise NotNative("a big tensor")


def lower_while(ctx: FnBuilder, consts: Sequence[Val], carry: Sequence[Val],
                cond: Callable, body: Callable, lanes: int | None = None,
                batched: Sequence[bool] | None = None) -> list[Val] | None:
  """The final carry of the loop ``while cond(consts, c): c = body(consts, c)`` as
  native code, or None when it does not qualify (nothing is emitted then).

  ``cond(b, consts, carry) -> pred`` and ``body(b, consts, carry) -> carry`` lower one
  step on the builder ``b`` (values of the per-lane shapes). In lane mode (``lanes``
  given) ``batched`` says which of ``consts + carry`` have a leading lane axis (every
  carry must); the results have it too."""
  if not _state["enabled"]:
    return None
  consts, carry = list(consts), list(carry)
  start = len(ctx.lines)
  try:
    if ctx.native:  # nested in a native loop: an scf.while in the same block
      out = _scf_while(ctx, consts, carry, cond, body)
    else:
      out = _lower_generic(ctx, consts, carry, cond, body, lanes, batched)
  except NotNative:
    del ctx.lines[start:]
    return None
  return out


def _lower_generic(ctx, consts, carry, cond, body, lanes, batched):
  """The loop in a ``linalg.generic`` over ``lanes`` (or a 0-d one)."""
  vals = consts + carry
  if batched is None:
    batched = [False] * len(vals)
  if lanes is not None and not all(batched[len(consts):]):
    raise NotNative("an unbatched carry in lane mode")
  lane_avals = []
  for v, bt in zip(vals, batched):
    _check_dtype(v.aval.dtype)
    a = v.aval.update(shape=v.aval.shape[1:]) if bt else v.aval
    if not 0 < a.size <= MAX_ELEMS or (bt and v.aval.shape[0] != lanes) or lanes == 0:
      raise NotNative("a big loop input")
    lane_avals.append(a)
  if len(vals) + sum(a.size for a in lane_avals[len(consts):]) > MAX_BINDINGS:
    raise NotNative("too many buffer bindings")
  # Inputs reach the generic's body as captured signless tensors read with tensor.extract.
  ins = [_to_storage(ctx, v) for v in vals]
  gb = _sub(ctx, "    ")
  lane = None
  if lanes is not None:
    lane = f"%n{next(ctx._ids)}"
    gb.lines.append(f"{gb.indent}{lane} = linalg.index 0 : index")
  idx: dict[int, str] = {}
  lane_vals = []
  for v, a, bt in zip(ins, lane_avals, batched):
    names = []
    for pos in np.ndindex(*a.shape):
      ix = []
      for i in pos:
        if i not in idx:
          idx[i] = _index(gb, i)
        ix.append(idx[i])
      name = f"%n{next(ctx._ids)}"
      gb.lines.append(f"{gb.indent}{name} = tensor.extract {v.name}["
                      f"{', '.join(([lane] if bt else []) + ix)}] : {v.type}")
      names.append(name)
    lane_vals.append(_rebuild(gb, names, a))
  n_pre = len(gb.lines)
  outs = _scf_while(gb, lane_vals[:len(consts)], lane_vals[len(consts):], cond, body)
  _check_lines(gb.lines[n_pre:])
  ys = [s for o in outs for s in _extract(gb, o)]
  c_avals = lane_avals[len(consts):]
  stypes = [_scalar_type(a.dtype) for a in c_avals for _ in range(a.size)]
  shape = () if lanes is None else (lanes,)
  dims = "" if lanes is None else f"{lanes}x"
  otypes = [f"tensor<{dims}{t}>" for t in stypes]
  empties = []
  for t in otypes:
    e = f"%n{next(ctx._ids)}"
    ctx.lines.append(f"{ctx.indent}{e} = tensor.empty() : {t}")
    empties.append(e)
  amap = "affine_map<() -> ()>" if lanes is None else "affine_map<(d0) -> (d0)>"
  iters = "" if lanes is None else '"parallel"'
  res = f"%n{next(ctx._ids)}"
  bargs = ", ".join(f"%n{next(ctx._ids)}: {t}" for t in stypes)
  ctx.lines.append(
      f"{ctx.indent}{res}:{len(otypes)} = linalg.generic {{indexing_maps = ["
      f"{', '.join([amap] * len(otypes))}], iterator_types = [{iters}]}} "
      f"outs({', '.join(empties)} : {', '.join(otypes)}) {{")
  ctx.lines.append(f"{ctx.indent}  ^bb0({bargs}):")
  ctx.lines += gb.lines
  ctx.lines.append(f"{gb.indent}linalg.yield {', '.join(ys)} : {', '.join(stypes)}")
  ctx.lines.append(f"{ctx.indent}}} -> ({', '.join(otypes)})")
  # Each result element is one output of the generic: stacked back into the carries.
  flat = [Val(f"{res}#{i}", ShapedArray(shape, _signless(a.dtype)))
          for i, a in enumerate(a for a in c_avals for _ in range(a.size))]
  result, k = [], 0
  for a in c_avals:
    parts = flat[k:k + a.size]
    k += a.size
    full = a.update(shape=shape + a.shape, dtype=_signless(a.dtype))
    if a.shape == ():
      v = parts[0]
    else:
      one = full.update(shape=shape + (1,))
      parts = [ctx.op("stablehlo.reshape", [p], one) for p in parts]
      v = parts[0] if len(parts) == 1 else ctx.op(
          "stablehlo.concatenate", parts, full.update(shape=shape + (a.size,)),
          f"dimension = {len(shape)} : i64")
      v = ctx.op("stablehlo.reshape", [v], full)
    result.append(_from_storage(ctx, v, a.dtype))
  return result

"""Lowering jaxprs to StableHLO MLIR text.

Ops are written in MLIR's generic form (``"stablehlo.add"(%0, %1) : (...) -> ...``):
one uniform syntax for every op, regions included. A primitive's rule is
``p.lower(ctx, *args, **params)`` where ``args`` are ``Val``s (SSA name + aval) and
``ctx`` is the ``FnBuilder`` of the function being written; ``ctx.avals_out`` holds
the equation's output avals. Rules live beside their primitives; the helpers below
(``elementwise``, ``compare``, ``reduce``, ...) keep them one line long where they can.
"""
from __future__ import annotations

import itertools
import math
import re
from typing import Sequence

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.core import ClosedJaxpr, Jaxpr, Literal, ShapedArray
from pyjax._src.interpreters import partial_eval as pe

# ---------------------------------------------------------------- types


_IEEE_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def _elem_type(dt: np.dtype) -> str:
  dt = np.dtype(dt)
  if dt == np.bool_:
    return "i1"
  if dt.kind == "i":
    return f"i{dt.itemsize * 8}"
  if dt.kind == "u":
    return f"ui{dt.itemsize * 8}"
  if dt == dtypes.bfloat16:
    return "bf16"
  if dt in _IEEE_FLOATS:
    return f"f{dt.itemsize * 8}"
  if dt.kind == "c":
    return f"complex<f{dt.itemsize * 4}>"
  # The narrow ml_dtypes types (float8_*, float4/6, int1/2/4, uint1/2/4): IREE's CPU
  # compiler does not take them (it fails to parse f8 tensor types, its runtime has no
  # buffer element type for sub-byte integers), so jit stops here with a clear error.
  raise NotImplementedError(
      f"jit: dtype {dt.name} is not supported by pyjax's compiled (IREE) backend; "
      f"operations on {dt.name} arrays run eagerly: convert to a supported dtype (e.g. "
      "with .astype(jnp.float32)) outside jit")


def tensor_type(aval: ShapedArray) -> str:
  dims = "".join(f"{d}x" for d in aval.shape)
  return f"tensor<{dims}{_elem_type(aval.dtype)}>"


def _dense(value: np.ndarray) -> str:
  """A ``dense<...>`` attribute holding ``value``'s bytes (any dtype, any shape)."""
  v = np.ascontiguousarray(value)
  if v.dtype == np.bool_:
    v = v.astype(np.uint8)
  if v.size == 1:  # a splat: one element, written once
    v = v.reshape(-1)[:1]
  return f'dense<"0x{v.tobytes().hex().upper()}">'


def _uniform(v: np.ndarray) -> bool:
  """Whether every element of ``v`` has the same bytes (a splat)."""
  b = np.ascontiguousarray(v).view(np.uint8).reshape(v.size, -1)
  return bool((b == b[:1]).all())


def _i64_array(xs) -> str:
  return f"array<i64{': ' if len(xs) else ''}{', '.join(str(int(x)) for x in xs)}>"


def _dense_i64(xs, shape=None) -> str:
  xs = [int(x) for x in xs]
  shape = (len(xs),) if shape is None else shape
  if not xs:
    return f"dense<> : tensor<{'x'.join(map(str, shape))}xi64>"
  body = ", ".join(map(str, xs)) if len(shape) == 1 else \
      str(np.asarray(xs).reshape(shape).tolist())
  return f"dense<{'[' + body + ']' if len(shape) == 1 else body}> : " \
         f"tensor<{'x'.join(map(str, shape))}xi64>"


# ---------------------------------------------------------------- values and builders


class Val:
  """An SSA value in the function being written."""
  __slots__ = ("name", "aval")

  def __init__(self, name: str, aval: ShapedArray):
    self.name = name
    self.aval = aval

  type = property(lambda self: tensor_type(self.aval))

  def __repr__(self):
    return f"Val({self.name}: {self.type})"


class ModuleBuilder:
  """Collects the functions of one module; sub-jaxprs become private functions."""

  def __init__(self, name: str):
    self.name = name
    self.funcs: list[str] = []
    self._fn_names = itertools.count()
    self._memo: dict = {}
    # Host callbacks: the k-th is imported as ``@pyjax_host.cb<k>`` (see ``host_call``).
    self.callbacks: list[HostCallback] = []

  def text(self) -> str:
    body = "\n".join(self.funcs)
    return (f"module @{_sym(self.name)} attributes {{mhlo.num_partitions = 1 : i32, "
            f"mhlo.num_replicas = 1 : i32}} {{\n{body}}}\n")

  def private_func(self, jaxpr: Jaxpr, consts: Sequence, name: str) -> str:
    """Defines ``jaxpr`` (consts inlined as constants) as a private function once."""
    return self.private_func_tokened(jaxpr, consts, name)[0]

  def private_func_tokened(self, jaxpr: Jaxpr, consts: Sequence, name: str):
    """(symbol, tokened): a function making host calls takes the caller's token as its
    first parameter and returns its last token as its last result."""
    key = (id(jaxpr), tuple(id(c) for c in consts))
    hit = self._memo.get(key)
    if hit is not None:
      return hit[0], hit[3]
    sym = f"{_sym(name)}_{next(self._fn_names)}" if name != "main" else "main"
    fb = FnBuilder(self)
    tok = fb._token = Val("%tok", _TOKEN_AVAL)
    n_calls = len(self.callbacks)
    args = [fb.arg(v.aval) for v in jaxpr.invars]
    outs = fb.lower_jaxpr(jaxpr, [fb.constant(np.asarray(_host(c)), core.get_aval(c))
                                  for c in consts], args)
    tokened = len(self.callbacks) > n_calls
    if tokened:
      args, outs = [tok, *args], [*outs, fb._token]
    self._memo[key] = (sym, jaxpr, consts, tokened)  # keep jaxpr alive: its id is the key
    self.funcs.append(fb.finish(sym, args, outs, private=True))
    return sym, tokened


class HostCallback:
  """A Python function the compiled program calls: ``fn(*numpy arrays)`` returns a list
  of NumPy arrays of ``out_avals``. Imported by the module as ``@pyjax_host.cb<k>``."""
  __slots__ = ("fn", "in_avals", "out_avals")

  def __init__(self, fn, in_avals, out_avals):
    self.fn = fn
    self.in_avals = tuple(in_avals)
    self.out_avals = tuple(out_avals)


class ModuleText(str):
  """A module's text and the ``HostCallback``s it imports (``callbacks``, by index).
  The text names a callback only by its index, so it (and its compiled module) is the
  same in every process: the functions are bound when the module is loaded."""
  callbacks: tuple = ()


HOST_MODULE = "pyjax_host"
_TOKEN = np.zeros((), np.int32)
_TOKEN_AVAL = ShapedArray((), np.dtype(np.int32))


def _sym(name: str) -> str:
  s = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in str(name).replace(">", ""))
  return s or "fn"


def _host(x):
  v = getattr(x, "_value", None)
  return x if v is None else v


class NotNative(Exception):
  """A loop cannot be lowered as native code (``native_loops``): it keeps its
  ``stablehlo.while``."""


class FnBuilder:
  """Writes the body of one ``func.func``: ``op`` emits an op and returns its Vals.
  ``native``: the block is inside a native loop (``native_loops``), where calls are
  inlined and host calls are not allowed."""
  native = False

  def __init__(self, module: ModuleBuilder):
    self.module = module
    self.lines: list[str] = []
    self._ids = itertools.count()
    self._nargs = 0
    self.avals_out: list[ShapedArray] = []
    self.indent = "    "
    self._token: Val | None = None  # the last host call's token (see ``host_call``)

  # -------------------------------------------------------------- emission
  def arg(self, aval: ShapedArray) -> Val:
    v = Val(f"%arg{self._nargs}", aval)
    self._nargs += 1
    return v

  def _fresh(self) -> str:
    return f"%{next(self._ids)}"

  def op(self, name: str, operands: Sequence[Val], out_avals, attrs: str = "",
         regions: Sequence[str] = ()) -> Val | list[Val]:
    """Emits ``name`` in generic form. ``out_avals``: one aval (returns a Val) or a list."""
    single = isinstance(out_avals, ShapedArray)
    outs = [out_avals] if single else list(out_avals)
    res = self._fresh()
    ins = ", ".join(o.name for o in operands)
    in_types = ", ".join(o.type for o in operands)
    out_types = ", ".join(tensor_type(a) for a in outs)
    reg = f" ({', '.join(regions)})" if regions else ""
    at = f" {{{attrs}}}" if attrs else ""
    lhs = f"{res}:{len(outs)} = " if len(outs) > 1 else (f"{res} = " if outs else "")
    self.lines.append(f'{self.indent}{lhs}"{name}"({ins}){reg}{at} : ({in_types}) -> '
                      f'{"(" + out_types + ")" if len(outs) != 1 else out_types}')
    if len(outs) == 1:
      v = Val(res, outs[0])
      return v if single else [v]
    return [Val(f"{res}#{i}", a) for i, a in enumerate(outs)]

  def region(self, arg_avals: Sequence[ShapedArray], body) -> str:
    """A region text: ``body(builder, *args) -> list of Vals`` is its block."""
    sub = FnBuilder(self.module)
    sub._ids = self._ids  # SSA names are unique across nested regions
    sub.indent = self.indent + "  "
    sub._token = self._token  # (captured: the region's calls come after ours)
    sub.native = self.native
    args = [Val(f"%r{next(self._ids)}", a) for a in arg_avals]
    outs = body(sub, *args)
    ret = (f'{sub.indent}"stablehlo.return"({", ".join(o.name for o in outs)}) : '
           f'({", ".join(o.type for o in outs)}) -> ()')
    head = ", ".join(f"{a.name}: {a.type}" for a in args)
    return "{\n" + f"{self.indent}^bb0({head}):\n" + "\n".join(sub.lines + [ret]) + \
        f"\n{self.indent}}}"

  def finish(self, sym: str, args: Sequence[Val], outs: Sequence[Val], private=False) -> str:
    vis = "private" if private else "public"
    sig = ", ".join(f"{a.name}: {a.type}" for a in args)
    res = ", ".join(o.type for o in outs)
    ret = f"{self.indent}func.return {', '.join(o.name for o in outs)}" + \
        (f" : {res}" if outs else "")
    return (f"  func.func {vis} @{sym}({sig}) -> ({res}) {{\n" +
            "\n".join(self.lines + [ret]) + "\n  }\n")

  # -------------------------------------------------------------- jaxprs
  def lower_jaxpr(self, jaxpr: Jaxpr, consts: Sequence[Val], args: Sequence[Val]) -> list[Val]:
    env = dict(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))

    def read(v):
      if type(v) is Literal:
        return self.constant(np.asarray(_host(v.val)), v.aval)
      return env[v]

    literal_only = set()  # values computed from literals alone (splats, iotas, ...)
    for eqn in jaxpr.eqns:
      rule = eqn.primitive.rule("lower")
      self.avals_out = [v.aval for v in eqn.outvars]
      ins = list(map(read, eqn.invars))
      if all(type(v) is Literal or v in literal_only for v in eqn.invars):
        if eqn.primitive.name in _SPLAT_REDUCERS and eqn.invars and not self.native:
          # IREE 3.13 miscompiles a reduction of a unary op of a broadcast constant
          # (reduce_sum(neg(broadcast(1.0)), 1) of a 2x3 gave -1, not -3: its codegen
          # drops the reduction once the body reads a constant, repro/splat_reduce.mlir):
          # a barrier hides the constant, so the reduction reads its operand.
          ins[0] = self.op("stablehlo.optimization_barrier", [ins[0]], [ins[0].aval])[0]
        literal_only.update(eqn.outvars)
      outs = rule(self, *ins, **eqn.params)
      if not eqn.primitive.multiple_results:
        outs = [outs]
      for v, o in zip(eqn.outvars, outs):
        if o.aval.dtype != v.aval.dtype or o.aval.shape != v.aval.shape:
          raise AssertionError(f"lowering of {eqn.primitive} gave {o.type}, expected "
                               f"{tensor_type(v.aval)}")
        env[v] = Val(o.name, v.aval)
    return [read(v) for v in jaxpr.outvars]

  def call(self, jaxpr: Jaxpr, consts: Sequence, args: Sequence[Val], name: str) -> list[Val]:
    """Calls ``jaxpr`` as a private function of the module (inline in a native loop)."""
    if self.native:
      return self.lower_jaxpr(jaxpr, [self.constant(np.asarray(_host(c)), core.get_aval(c))
                                      for c in consts], args)
    sym, tokened = self.module.private_func_tokened(jaxpr, consts, name)
    outs = [v.aval for v in jaxpr.outvars]
    if tokened:  # the callee's host calls come after ours
      tok = self.token()
      args, outs = [tok, *args], [*outs, _TOKEN_AVAL]
    res = self._fresh()
    types = ", ".join(tensor_type(a) for a in outs)
    lhs = f"{res}:{len(outs)} = " if len(outs) > 1 else (f"{res} = " if outs else "")
    self.lines.append(f"{self.indent}{lhs}func.call @{sym}({', '.join(a.name for a in args)})"
                      f" : ({', '.join(a.type for a in args)}) -> ({types})")
    vals = [Val(res, outs[0])] if len(outs) == 1 else \
        [Val(f"{res}#{i}", a) for i, a in enumerate(outs)]
    if tokened:
      self._token = vals.pop()
    return vals

  def token(self) -> Val:
    """The last host call's token in this block, or a fresh one when none was made."""
    if self._token is None:
      self._token = self.full(0, (), np.int32)
    return self._token

  def host_call(self, fn, operands: Sequence[Val], out_avals) -> list[Val]:
    """Calls the Python function ``fn(*numpy arrays) -> list of numpy arrays`` (of
    ``out_avals``) from the compiled program, in program order."""
    if self.native:
      raise NotNative("a host call")
    # IREE's scheduler moves a call that waits on computed tensors past later calls:
    # a token (an i32 the host returns) chains the calls of one block in order.
    tok = self.token()
    operands = [tok, *operands]
    out_avals = [*out_avals, tok.aval]

    def with_token(_tok, *xs):
      return [*fn(*xs), _TOKEN]

    mb = self.module
    k = len(mb.callbacks)
    mb.callbacks.append(HostCallback(with_token, [o.aval for o in operands], out_avals))
    sym = f"{HOST_MODULE}.cb{k}"
    in_types = ", ".join(o.type for o in operands)
    out_types = ", ".join(tensor_type(a) for a in out_avals)
    mb.funcs.append(f"  func.func private @{sym}({in_types}) -> ({out_types})\n")
    res = self._fresh()
    n = len(out_avals)
    lhs = f"{res}:{n} = " if n > 1 else (f"{res} = " if n else "")
    self.lines.append(f"{self.indent}{lhs}func.call @{sym}"
                      f"({', '.join(o.name for o in operands)}) : ({in_types}) -> "
                      f"({out_types})")
    outs = [Val(f"{res}#{i}", a) for i, a in enumerate(out_avals)] if n > 1 else \
        [Val(res, out_avals[0])]
    self._token = outs[-1]
    return outs[:-1]

  # -------------------------------------------------------------- helpers for rules
  @property
  def aval_out(self) -> ShapedArray:
    return self.avals_out[0]

  def constant(self, value, aval: ShapedArray) -> Val:
    v = np.asarray(value)
    if v.dtype != aval.dtype:
      v = v.astype(aval.dtype)
    if v.size > 1 and (v.shape != aval.shape or _uniform(v)):
      return self.full(v.reshape(-1)[0], aval.shape, aval.dtype)
    if v.shape != aval.shape:
      v = np.broadcast_to(v, aval.shape)
    if v.dtype == np.complex128:
      # IREE's compiler crashes (SIGFPE) on complex128 array constants, and cannot
      # materialize a complex128 splat (a broadcast scalar: it asks for a 128-bit
      # integer splat, e.g. a loop carry starting at zeros): real and imaginary float64
      # constants, combined behind a barrier so IREE does not fold them back.
      f64 = aval.update(dtype=np.dtype(np.float64))
      parts = self.op("stablehlo.optimization_barrier", [self.constant(v.real, f64),
                                                         self.constant(v.imag, f64)],
                      [f64, f64])
      return self.op("stablehlo.complex", parts, aval)
    return self.op("stablehlo.constant", [], aval, f"value = {_dense(v)} : {tensor_type(aval)}")

  def full(self, value, shape, dtype) -> Val:
    """``value`` broadcast to ``shape`` in ``dtype`` (a scalar constant and a broadcast,
    so the module text does not grow with the shape)."""
    dtype = np.dtype(dtype)
    c = self.constant(np.asarray(value).astype(dtype), ShapedArray((), dtype))
    return self.broadcast(c, shape)

  def broadcast(self, x: Val, shape) -> Val:
    shape = tuple(shape)
    if x.aval.shape == shape:
      return x
    dims = range(len(shape) - x.aval.ndim, len(shape))
    return self.op("stablehlo.broadcast_in_dim", [x], x.aval.update(shape=shape),
                   f"broadcast_dimensions = {_i64_array(dims)}")

  def convert(self, x: Val, dtype) -> Val:
    dtype = np.dtype(dtype)
    if x.aval.dtype == dtype:
      return x
    if dtype == dtypes.bfloat16 and x.aval.dtype.kind in "iub":
      # IREE's integer -> bf16 calls a compiler-rt builtin it cannot link: go via f32
      # and round to bf16 with integer ops (round to nearest even).
      return self._f32_to_bf16(self.op("stablehlo.convert", [x],
                                       x.aval.update(dtype=np.float32)))
    return self.op("stablehlo.convert", [x], x.aval.update(dtype=dtype))

  def _f32_to_bf16(self, x: Val) -> Val:
    i32, shape = np.dtype(np.int32), x.aval.shape
    c = lambda v: self.full(v, shape, i32)
    b = self.op("stablehlo.bitcast_convert", [x], x.aval.update(dtype=i32))
    lsb = self.binary("and", self.binary("shift_right_logical", b, c(16)), c(1))
    r = self.binary("shift_right_logical",
                    self.binary("add", b, self.binary("add", c(0x7FFF), lsb)), c(16))
    r = self.select(self.compare("NE", x, x), c(0x7FC0), r)
    h = self.op("stablehlo.convert", [r], x.aval.update(dtype=np.int16))
    return self.op("stablehlo.bitcast_convert", [h], x.aval.update(dtype=dtypes.bfloat16))

  def binary(self, name: str, x: Val, y: Val, dtype=None) -> Val:
    shape = x.aval.shape or y.aval.shape
    x, y = self.broadcast(x, shape), self.broadcast(y, shape)
    return self.op(f"stablehlo.{name}", [x, y],
                   ShapedArray(shape, x.aval.dtype if dtype is None else dtype))

  def unary(self, name: str, x: Val, dtype=None) -> Val:
    return self.op(name if "." in name else f"stablehlo.{name}", [x],
                   x.aval.update(dtype=x.aval.dtype if dtype is None else dtype))

  def compare(self, direction: str, x: Val, y: Val) -> Val:
    shape = x.aval.shape or y.aval.shape
    x, y = self.broadcast(x, shape), self.broadcast(y, shape)
    dt = x.aval.dtype
    kind = ("FLOAT" if dt.kind in "fcV" or dt == dtypes.bfloat16 else
            "SIGNED" if dt.kind == "i" else "UNSIGNED")
    return self.op("stablehlo.compare", [x, y], ShapedArray(shape, np.bool_),
                   f"comparison_direction = #stablehlo<comparison_direction {direction}>, "
                   f"compare_type = #stablehlo<comparison_type {kind}>")

  def select(self, pred: Val, on_true: Val, on_false: Val) -> Val:
    shape = pred.aval.shape or on_true.aval.shape or on_false.aval.shape
    on_true, on_false = self.broadcast(on_true, shape), self.broadcast(on_false, shape)
    if pred.aval.shape and pred.aval.shape != shape:
      pred = self.broadcast(pred, shape)
    return self.op("stablehlo.select", [pred, on_true, on_false], on_true.aval)

  def reduce(self, operands: Sequence[Val], inits: Sequence[Val], axes, body) -> list[Val]:
    """``stablehlo.reduce`` over ``axes``; ``body(b, *accs, *xs) -> list of Vals``."""
    scal = [ShapedArray((), o.aval.dtype) for o in operands]
    shape = tuple(s for i, s in enumerate(operands[0].aval.shape) if i not in axes)
    reg = self.region(scal + scal, body)
    return self.op("stablehlo.reduce", [*operands, *inits],
                   [ShapedArray(shape, o.aval.dtype) for o in operands],
                   f"dimensions = {_i64_array(sorted(axes))}", [reg])


# ---------------------------------------------------------------- rule factories


def while_op(ctx: FnBuilder, state: Sequence[Val], avals, cond, body,
             token: bool = False) -> list[Val]:
  """A ``stablehlo.while`` over ``state`` (``cond``/``body`` as ``FnBuilder.region``
  bodies). ``token``: the body makes host calls, which a host-call token carried
  along keeps in order with the calls before and after the loop."""
  if not token:
    outs = ctx.op("stablehlo.while", list(state), list(avals), "",
                  [ctx.region(avals, cond), ctx.region(avals, body)])
    return [outs] if isinstance(outs, Val) else outs
  tok = ctx.token()
  avals2 = [*avals, tok.aval]

  def cond2(b, *s):
    return cond(b, *s[:-1])

  def body2(b, *s):
    b._token = s[-1]
    outs = list(body(b, *s[:-1]))
    return [*outs, b._token]

  outs = ctx.op("stablehlo.while", [*state, tok], avals2, "",
                [ctx.region(avals2, cond2), ctx.region(avals2, body2)])
  ctx._token = outs[-1]
  return outs[:-1]


def elementwise(name: str, compute_f32=False, bool_name=None):
  """Rule for an elementwise op ``stablehlo.name`` / ``chlo.name`` (scalar operands are
  broadcast). ``compute_f32`` computes half-precision inputs in float32, as the impls do;
  ``bool_name`` is the op used on bool operands (e.g. ``or`` for add)."""
  full = name if "." in name else f"stablehlo.{name}"

  def rule(ctx, *xs):
    out = ctx.aval_out
    ins = [ctx.broadcast(x, out.shape) for x in xs]
    if bool_name is not None and xs[0].aval.dtype == np.bool_:
      return ctx.op(f"stablehlo.{bool_name}", ins, ShapedArray(out.shape, out.dtype))
    if compute_f32 and out.dtype in (dtypes.bfloat16, np.dtype(np.float16)):
      ins = [ctx.convert(x, np.float32) for x in ins]
      r = ctx.op(full, ins, out.update(dtype=np.float32))
      return ctx.convert(r, out.dtype)
    return ctx.op(full, ins, ShapedArray(out.shape, out.dtype))
  rule.__name__ = f"lower_{name}"
  return rule


def lower_fun(fun, compute_f32=False):
  """A lowering rule from ``fun(*operands, **params)``, written with lax operations (loops
  included): traced on the operands' avals and lowered in place, as JAX's
  ``mlir.lower_fun``. Operands are broadcast to the output's shape first;
  ``compute_f32`` runs half-precision operands in float32. A one-element result is
  computed on two copies of its operands: on one-element while loops IREE's stream
  partitioning failed ("circular dependency")."""
  def rule(ctx, *xs, **params):
    out = ctx.aval_out
    xs = [ctx.broadcast(x, out.shape) for x in xs]
    half = compute_f32 and out.dtype in _HALF
    if half:
      xs = [ctx.convert(x, np.float32) for x in xs]
    one = out.size == 1
    if one:
      xs = [ctx.op("stablehlo.broadcast_in_dim", [ctx.op("stablehlo.reshape", [x],
                                                         x.aval.update(shape=(1,)))],
                   x.aval.update(shape=(2,)), "broadcast_dimensions = array<i64: 0>")
            for x in xs]
    jaxpr, consts = pe.trace_to_jaxpr(lambda *a: [fun(*a, **params)],
                                      [x.aval.update(weak_type=False) for x in xs])
    cs = [ctx.constant(np.asarray(_host(c)), core.get_aval(c)) for c in consts]
    r, = ctx.lower_jaxpr(jaxpr, cs, xs)
    if one:
      r = ctx.op("stablehlo.slice", [r], r.aval.update(shape=(1,)),
                 "start_indices = array<i64: 0>, limit_indices = array<i64: 1>, "
                 "strides = array<i64: 1>")
      r = ctx.op("stablehlo.reshape", [r], r.aval.update(shape=out.shape))
    return ctx.convert(r, out.dtype) if half else r
  rule.__name__ = f"lower_{getattr(fun, '__name__', 'fun')}"
  return rule


_HALF = (dtypes.bfloat16, np.dtype(np.float16))


def scalar_op(b, kind: str, x: Val, y: Val) -> Val:
  """The monoid ``kind`` (add, mul, max, min, and, or, xor) on two values; bools use
  logical ops, as NumPy's sum/prod/max/min do."""
  if x.aval.dtype == np.bool_:
    kind = {"add": "or", "mul": "and", "max": "or", "min": "and"}.get(kind, kind)
  name = {"add": "add", "mul": "multiply", "max": "maximum", "min": "minimum",
          "and": "and", "or": "or", "xor": "xor"}[kind]
  return b.binary(name, x, y)


def identity(kind: str, dt) -> np.ndarray:
  dt = np.dtype(dt)
  if kind in ("add", "or", "xor"):
    return np.zeros((), dt)
  if kind == "mul":
    return np.ones((), dt)
  if kind == "and":
    return np.array(True if dt == np.bool_ else -1).astype(dt)
  if dt == np.bool_:
    return np.array(kind == "min")
  if dt.kind in "iu":
    info = np.iinfo(dt)
    return np.array(info.min if kind == "max" else info.max).astype(dt)
  return np.array(-np.inf if kind == "max" else np.inf).astype(dt)


# Float sums and products reduce as a tree of windows (XLA's CPU backend does so with
# 32-wide windows: its tree reduction rewriter), so they lose accuracy as log(n), not n;
# scans are blocked likewise (XLA lowers cumsum as an associative scan). IREE adds a
# window in sequence: 16-wide windows keep the error at XLA's.
TREE_BLOCK = 16


def _merge_runs(shape, axes):
  """``shape`` with adjacent reduced (and adjacent kept) dimensions merged, and the
  reduced axes of the merged shape."""
  runs: list[list] = []
  for i, s in enumerate(shape):
    if runs and runs[-1][1] == (i in axes):
      runs[-1][0] *= s
    else:
      runs.append([s, i in axes])
  return tuple(s for s, _ in runs), tuple(i for i, (_, r) in enumerate(runs) if r)


def reshape(b, x: Val, shape) -> Val:
  shape = tuple(shape)
  return x if x.aval.shape == shape else \
      b.op("stablehlo.reshape", [x], x.aval.update(shape=shape))


def pad(b, x: Val, value: Val, axis: int, lo: int, hi: int) -> Val:
  """``x`` padded along ``axis`` with the scalar ``value`` (negative: cropped)."""
  if lo == hi == 0:
    return x
  nd, shape = x.aval.ndim, list(x.aval.shape)
  shape[axis] += lo + hi
  low, high = [0] * nd, [0] * nd
  low[axis], high[axis] = lo, hi
  return b.op("stablehlo.pad", [x, value], x.aval.update(shape=tuple(shape)),
              f"edge_padding_low = {_i64_array(low)}, edge_padding_high = "
              f"{_i64_array(high)}, interior_padding = {_i64_array([0] * nd)}")


def _block_shape(n: int, lanes: bool):
  """(window, lanes) for splitting an axis of length ``n`` into blocks of ``window``
  (at most ``TREE_BLOCK``, at least half that) times ``lanes`` interleaved windows with
  no remainder; (``TREE_BLOCK``, 1 or ``TREE_BLOCK``) when none divides ``n``, which
  costs a padded copy (IREE copies a padded or sliced operand, slowly)."""
  k = TREE_BLOCK
  for w in range(k, k // 2 - 1, -1):
    for ls in (range(k, 3, -1) if lanes else ()):
      if n % (w * ls) == 0:
        return w, ls
    if n % w == 0:
      return w, 1
  return k, (k if lanes else 1)


def split_blocks(b, x: Val, init: Val, axis: int, w: int, lanes: int = 1) -> Val:
  """``x`` padded with ``init`` along ``axis`` to a multiple of ``w * lanes``, that
  axis split into (blocks, w, lanes) (no lanes axis when 1)."""
  n, shape = x.aval.shape[axis], x.aval.shape
  x = pad(b, x, init, axis, 0, -n % (w * lanes))
  return reshape(b, x, (*shape[:axis], x.aval.shape[axis] // (w * lanes), w,
                        *((lanes,) if lanes > 1 else ()), *shape[axis + 1:]))


def slice_axis(b, x: Val, axis: int, start: int, stop: int) -> Val:
  shape = x.aval.shape
  if (start, stop) == (0, shape[axis]):
    return x
  lo, hi = [0] * len(shape), list(shape)
  lo[axis], hi[axis] = start, stop
  return b.op("stablehlo.slice", [x], x.aval.update(shape=(*shape[:axis], stop - start,
                                                           *shape[axis + 1:])),
              f"start_indices = {_i64_array(lo)}, limit_indices = {_i64_array(hi)}, "
              f"strides = {_i64_array([1] * len(shape))}")


def _tree_level(b, x: Val, init: Val, axis: int, body) -> Val:
  """One level of ``tree_reduce``: ``axis`` reduced in windows of about 16. Over an
  innermost axis the windows are interleaved (each element of a window ``lanes`` apart),
  so that IREE adds them in vector lanes, as fast as a plain reduce."""
  shape, k = x.aval.shape, TREE_BLOCK
  w, lanes = _block_shape(shape[axis], shape[axis] > k * k and
                          math.prod(shape[axis + 1:]) < k)
  out, = b.reduce([split_blocks(b, x, init, axis, w, lanes)], [init], (axis + 1,), body)
  n = shape[axis] + -shape[axis] % (w * lanes)
  return reshape(b, out, (*shape[:axis], n // w, *shape[axis + 1:]))


def tree_reduce(b, x: Val, init: Val, axes, body) -> Val:
  """The reduction ``body`` over ``axes`` of ``x`` as a tree: each reduced dimension
  (adjacent ones merged) longer than ``TREE_BLOCK`` is first reduced in windows of that
  many, level by level."""
  out_shape = tuple(s for i, s in enumerate(x.aval.shape) if i not in axes)
  shape, raxes = _merge_runs(x.aval.shape, axes)
  if all(shape[a] <= TREE_BLOCK for a in raxes):
    return b.reduce([x], [init], axes, body)[0]
  x = reshape(b, x, shape)
  for a in raxes:
    while x.aval.shape[a] > TREE_BLOCK:
      x = _tree_level(b, x, init, a, body)
  return reshape(b, b.reduce([x], [init], raxes, body)[0], out_shape)


def monoid_reduce(kind: str):
  """Rule for a reduction primitive (``axes`` param); half floats add/multiply in f32,
  bools reduce as uint8, float sums and products as a tree (``tree_reduce``)."""
  def rule(ctx, x, *, axes, **_):
    dt = x.aval.dtype
    # IREE (3.13) reduces i1 element by element: any() of 1e6 bools took 0.9 ms of CPU,
    # 0.05 ms as uint8 (a while loop's predicate over a big carry is such a reduction).
    bools = dt == np.bool_ and kind in ("and", "or", "xor", "max", "min")
    wide = bools or (dt in _HALF and kind in ("add", "mul"))
    if wide:
      x = ctx.convert(x, np.uint8 if bools else np.float32)
    cdt = x.aval.dtype
    init = ctx.constant(identity(kind, cdt), ShapedArray((), cdt))
    body = lambda b, a, c: [scalar_op(b, kind, a, c)]
    if kind in ("add", "mul") and cdt.kind in "fc":
      out = tree_reduce(ctx, x, init, axes, body)
    else:
      out, = ctx.reduce([x], [init], axes, body)
    return ctx.convert(out, dt) if wide else out
  return rule


def _logaddexp(b, x, y):
  mx, mn = b.binary("maximum", x, y), b.binary("minimum", x, y)
  d = b.unary("log_plus_one", b.unary("exponential", b.binary("subtract", mn, mx)))
  r = b.binary("add", mx, d)
  ninf = b.compare("EQ", mx, b.constant(np.array(-np.inf, x.aval.dtype), mx.aval))
  return b.select(ninf, mx, r)


def _window_scan(b, x: Val, init: Val, axis: int, kind: str, reverse: bool) -> Val:
  """The scan as a ``reduce_window`` whose window spans the axis (IREE runs it in
  sequence)."""
  n, scal = x.aval.shape[axis], init.aval
  win = [1] * x.aval.ndim
  win[axis] = n
  pad = [[0, 0] for _ in win]
  pad[axis] = [0, n - 1] if reverse else [n - 1, 0]
  reg = b.region([scal, scal], lambda r, a, c: [_combine(r, kind, a, c)])
  flat = [p for pr in pad for p in pr]
  return b.op("stablehlo.reduce_window", [x, init], x.aval,
              f"window_dimensions = {_i64_array(win)}, "
              f"padding = {_dense_i64(flat, (len(win), 2))}", [reg])


def _combine(b, kind: str, x: Val, y: Val) -> Val:
  return _logaddexp(b, x, y) if kind == "logaddexp" else scalar_op(b, kind, x, y)


def blocked_scan(b, x: Val, init: Val, axis: int, kind: str) -> Val:
  """Inclusive forward scan of a float ``x`` along ``axis``, accurate to log(n): scans
  within blocks of about ``TREE_BLOCK``, the blocks' totals scanned the same way, and
  each block combined with the total of the blocks before it."""
  n, shape = x.aval.shape[axis], x.aval.shape
  if n <= TREE_BLOCK:
    return _window_scan(b, x, init, axis, kind, False)
  w, _ = _block_shape(n, False)
  s = _window_scan(b, split_blocks(b, x, init, axis, w), init, axis + 1, kind, False)
  m = s.aval.shape[axis]
  tot = slice_axis(b, s, axis + 1, w - 1, w)
  tot = reshape(b, tot, (*shape[:axis], m, *shape[axis + 1:]))
  before = pad(b, blocked_scan(b, tot, init, axis, kind), init, axis, 1, -1)
  before = b.op("stablehlo.broadcast_in_dim", [before], s.aval, "broadcast_dimensions = "
                f"{_i64_array([d for d in range(s.aval.ndim) if d != axis + 1])}")
  out = reshape(b, _combine(b, kind, before, s), (*shape[:axis], m * w, *shape[axis + 1:]))
  return slice_axis(b, out, axis, 0, n)


def to_signed(ctx, x, ordered: bool):
  """Unsigned ``x`` as the signed integers of its bits, for the reductions IREE cannot
  compile on unsigned types; ``ordered`` (max/min) flips the top bit first, which keeps
  the order. Returns the value and the flip (None) for ``from_signed``."""
  dt = x.aval.dtype
  flip = None
  if ordered:
    flip = ctx.full(np.array(1 << (dt.itemsize * 8 - 1)).astype(dt), (), dt)
    x = ctx.binary("xor", x, flip)
  return ctx.op("stablehlo.bitcast_convert", [x],
                x.aval.update(dtype=np.dtype(f"i{dt.itemsize}"))), flip


def from_signed(ctx, out, dt, flip):
  """Undoes ``to_signed`` on a result of the reduction."""
  out = ctx.op("stablehlo.bitcast_convert", [out], out.aval.update(dtype=dt))
  return ctx.binary("xor", out, flip) if flip is not None else out


def cumulative(kind: str):
  """Rule for a cumulative primitive: float sums, products and logaddexps as a blocked
  scan (``blocked_scan``), the rest as a ``reduce_window`` whose window spans the
  axis."""
  def rule(ctx, x, *, axis, reverse):
    if not x.aval.size:  # (IREE rejects a reduce_window of an empty window)
      return x
    dt = x.aval.dtype
    wide = dt in _HALF and kind in ("add", "mul", "logaddexp")
    if wide:
      x = ctx.convert(x, np.float32)
    flip = None
    if dt == np.bool_:  # nor bool: use int8 0/1, where or = max and = min
      x8 = ctx.select(x, ctx.full(1, x.aval.shape, np.int8),
                                    ctx.full(0, x.aval.shape, np.int8))
      k = {"add": "max", "mul": "min"}.get(kind, kind)
      out = cumulative(k)(ctx, x8, axis=axis, reverse=reverse)
      return ctx.compare("NE", out, ctx.full(0, (), np.int8))
    if dt.kind == "u":  # IREE cannot reduce_window unsigned types: go through signed
      x, flip = to_signed(ctx, x, kind in ("max", "min"))
    cdt = x.aval.dtype
    init = np.array(-np.inf, cdt) if kind == "logaddexp" else identity(kind, cdt)
    init = ctx.constant(init, ShapedArray((), cdt))
    if kind in ("add", "mul", "logaddexp") and cdt.kind in "fc" and \
        x.aval.shape[axis] > TREE_BLOCK:
      rev = f"dimensions = {_i64_array([axis])}"
      if reverse:
        x = ctx.op("stablehlo.reverse", [x], x.aval, rev)
      out = blocked_scan(ctx, x, init, axis, kind)
      if reverse:
        out = ctx.op("stablehlo.reverse", [out], out.aval, rev)
    else:
      out = _window_scan(ctx, x, init, axis, kind, reverse)
    if dt.kind == "u":
      return from_signed(ctx, out, dt, flip)
    return ctx.convert(out, dt) if wide else out
  return rule


def arg_reduce(direction: str):
  """Rule for argmax (``GT``) / argmin (``LT``): a two-operand reduce over (value, index);
  the first NaN wins, then the extreme value, then the lowest index."""
  def rule(ctx, x, *, axes, index_dtype):
    axis = axes[0]
    dt = x.aval.dtype
    is_float = dt.kind == "f" or dt in _HALF
    idx = ctx.op("stablehlo.iota", [], ShapedArray(x.aval.shape, index_dtype),
                 f"iota_dimension = {axis} : i64")
    kind = "max" if direction == "GT" else "min"
    init_v = ctx.constant(identity(kind, dt), ShapedArray((), dt))
    init_i = ctx.constant(np.zeros((), index_dtype), ShapedArray((), index_dtype))

    def body(b, av, ai, bv, bi):
      better = b.compare(direction, av, bv)
      same = b.compare("EQ", av, bv)
      if is_float:
        an, bn = b.compare("NE", av, av), b.compare("NE", bv, bv)
        better = b.binary("or", better, b.binary("and", an, b.unary("not", bn)))
        same = b.binary("or", same, b.binary("and", an, bn))
      first = b.binary("and", same, b.compare("LT", ai, bi))
      take_a = b.binary("or", better, first)
      return [b.select(take_a, av, bv), b.select(take_a, ai, bi)]

    _, out = ctx.reduce([x, idx], [init_v, init_i], (axis,), body)
    return out
  return rule


def comparison(direction: str):
  def rule(ctx, x, y):
    return ctx.compare(direction, x, y)
  return rule


# ---------------------------------------------------------------- entry points


# Constants with more elements than this become parameters of @main instead of
# being written into the module (big modules compile slowly and cache poorly).
INLINE_CONST_LIMIT = 64


def hoisted_consts(closed: ClosedJaxpr) -> list:
  """The consts of ``closed`` that ``lower_jaxpr`` passes as leading parameters."""
  return [c for c in closed.consts if core.get_aval(c).size > INLINE_CONST_LIMIT]


# Reductions whose operand IREE may see as a splat constant (see FnBuilder.lower_jaxpr).
_SPLAT_REDUCERS = frozenset({
    "reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and", "reduce_or",
    "reduce_xor", "argmax", "argmin", "cumsum", "cumprod", "cummax", "cummin",
    "cumlogsumexp", "reduce"})


def lower_jaxpr(closed: ClosedJaxpr, name: str, hoist: bool = True) -> ModuleText:
  """The module text of ``closed``; ``@main``'s parameters are the hoisted consts
  (see ``hoisted_consts``; none without ``hoist``: every const is written into the
  text, as ``jax.export`` needs) followed by the jaxpr's inputs. Its ``callbacks`` are
  the host functions it imports."""
  jaxpr, consts = closed.jaxpr, closed.consts
  mb = ModuleBuilder(f"jit_{name}")
  fb = FnBuilder(mb)
  hoisted = [(v, c) for v, c in zip(jaxpr.constvars, consts)
             if hoist and core.get_aval(c).size > INLINE_CONST_LIMIT]
  params = [fb.arg(v.aval) for v, _ in hoisted]
  env = {v: p for (v, _), p in zip(hoisted, params)}
  args = [fb.arg(v.aval) for v in jaxpr.invars]
  cvals = [env[v] if v in env else fb.constant(np.asarray(_host(c)), v.aval)
           for v, c in zip(jaxpr.constvars, consts)]
  outs = fb.lower_jaxpr(jaxpr, cvals, args)
  mb.funcs.insert(0, fb.finish("main", params + args, outs))
  text = ModuleText(mb.text())
  text.callbacks = tuple(mb.callbacks)
  return text


# ---------------------------------------------------------------- fusion width

# Ops IREE never fuses into an elementwise dispatch of its neighbours (their results
# reach a consumer through a binding). Everything else we emit (elementwise and chlo
# ops, broadcasts, reshapes, transposes, converts, reductions) may land in one dispatch.
_UNFUSED = frozenset(
    "dot_general convolution sort scatter gather while case if custom_call reduce_window "
    "select_and_scatter concatenate pad slice dynamic_slice dynamic_update_slice reverse "
    "rng rng_bit_generator fft cholesky triangular_solve optimization_barrier all_reduce "
    "all_gather reduce_scatter all_to_all collective_permute".split())
_OP_LINE = re.compile(
    r'^\s*(?:(%[\w]+)(?::\d+)? = )?"(?:stablehlo|chlo)\.(\w+)"\(([^)]*)\)')
_USES = re.compile(r"%[\w]+")
_SCALAR_RESULT = re.compile(r"-> tensor<[a-z][\w<>]*>$")


def fusion_width(text: str, constants: bool = False) -> int:
  """The most distinct tensors that one connected cluster of fusible ops of ``text``
  reads and writes: an upper bound on the buffer bindings of an elementwise dispatch
  IREE may form from it (IREE fuses a cluster of any size into one dispatch, but its
  runtime takes at most 32 bindings a dispatch). Repeated ops count once, as after
  IREE's CSE; constants and values made of constants only are ignored (IREE
  clones them into each dispatch) unless ``constants`` (they are read from buffers);
  a rank-0 result is read by its consumers' clusters without joining them."""
  widest = 0
  for fn in text.split("func.func ")[1:]:  # SSA names are unique within a function
    parent: dict[str, str] = {}  # fusible op result -> union-find parent
    same: dict[str, str] = {}  # result -> the first result of an identical op
    seen: dict[str, str] = {}
    consts: set[str] = set()
    uses: list[tuple[str | None, list[str]]] = []  # (fusible result or None, operands)

    def find(v):
      while parent[v] != v:
        parent[v] = v = parent[parent[v]]
      return v

    def canon(line):
      return [same.get(u, u) for u in (u.split("#")[0] for u in _USES.findall(line))]

    for line in fn.splitlines():
      m = _OP_LINE.match(line)
      if m is None:
        if "return" in line or "func.call" in line:  # values leaving the cluster
          uses.append((None, canon(line.split(" : ")[0])))
        continue
      res, name, args = m.groups()
      ins = canon(args)
      if res is not None and "({" not in line:  # one-line op: CSE it by its text
        key = _USES.sub("", line[m.start(2):]) + ",".join(ins)
        if key in seen:
          same[res] = seen[key]
          continue
        seen[key] = res
      if constants and name == "constant":
        uses.append((None, ins))  # a buffer read by the clusters that use it
        continue
      if res is not None and name not in _UNFUSED and all(u in consts for u in ins):
        consts.add(res)  # a constant, or computed from constants only: cloned
        continue
      # A rank-0 result (a step count, a bias correction) does not join the clusters
      # that read it: each reads it as one more binding (an Adam update's shared
      # scalars joined its independent leaves into one cluster too wide to fuse).
      scalar = _SCALAR_RESULT.search(line) is not None
      fused = res is not None and name not in _UNFUSED and not scalar
      if fused:
        parent[res] = res
        for u in ins:
          if u in parent:
            parent[find(u)] = find(res)
      uses.append((res if fused else None, ins))
    reads: dict[str, set] = {}
    writes: dict[str, set] = {}
    for res, ins in uses:
      root = find(res) if res is not None else None
      for u in ins:
        if u in consts:
          continue
        if u in parent:
          if root is None:  # read by an unfused op or returned: written by the cluster
            writes.setdefault(find(u), set()).add(u)
        elif root is not None:
          reads.setdefault(root, set()).add(u)
    for root in set(reads) | set(writes):
      widest = max(widest, len(reads.get(root, ())) + len(writes.get(root, ())))
  return widest

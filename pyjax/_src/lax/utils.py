"""Helpers that build lax primitives: the dtype sets and checks of their rules, the
conversion of their operands, and the factories of elementwise primitives. Holds no
primitive itself."""
from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import ArrayImpl, asarray_value, from_python_scalar
from pyjax._src.core import Primitive, ShapedArray, ShardingTypeError, Tracer
from pyjax._src.interpreters import batching
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.sharding import (NamedSharding, PartitionSpec, abstract_sharding,
                                 aval_sharding, canonicalize_sharding, spec_axes)

# NumPy reports floating-point exceptions (overflow, divide by zero, invalid) as
# RuntimeWarnings; JAX does not. Silence them for NumPy calls made from our
# primitive modules only (zero cost on the normal path, unlike np.errstate).
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"pyjax\._src\.lax\..*")

# ---------------------------------------------------------------- dtype sets

_bool = {np.dtype(np.bool_)}
_sint = {np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64)}
_uint = {np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64)}
_int = _sint | _uint
_float = {np.dtype(t) for t in (np.float16, np.float32, np.float64)} | {dtypes.bfloat16}
_complex = {np.dtype(np.complex64), np.dtype(np.complex128)}
_inexact = _float | _complex
_num = _int | _inexact
_any = _num | _bool
_int_bool = _int | _bool
_ordered = _int | _float | _bool


class _Number(frozenset):
  """The numeric dtypes as JAX's reductions and cumulative ops check them (against
  ``np.number``): their error message says "subtypes of number"."""


_number = _Number(_num)

_kind_names = [(_bool, "bool"), (_sint, "signedinteger"), (_uint, "unsignedinteger"),
               (_float, "floating"), (_complex, "complexfloating")]


def _accepted_str(accepted) -> str:
  if isinstance(accepted, _Number):
    return "number"
  names = [n for s, n in _kind_names if s <= accepted]
  if _int <= accepted:
    names = [n for n in names if n not in ("signedinteger", "unsignedinteger")] + ["integer"]
  if "floating" not in names:  # e.g. complex/conj accept only float32 and float64
    names += [d.name for d in _float if d in accepted]
  order = ["integer", "floating", "float16", "bfloat16", "float32", "complexfloating",
           "float64", "signedinteger", "unsignedinteger", "bool"]
  return ", ".join(sorted(names, key=order.index))


def _check_dtype(name, dtype, accepted, pos=None):
  if dtype not in accepted:
    at = "" if pos is None else f" at position {pos}"
    raise TypeError(f"{name} does not accept dtype {dtype.name}{at}. Accepted dtypes"
                    f"{at} are subtypes of {_accepted_str(accepted)}.")


def _wrap(v, weak=False):
  return ArrayImpl(v, weak)


# ---------------------------------------------------------------- argument conversion


def _to_array(x, like_dtype=None):
  """Lax-level conversion: Python scalars become weak arrays (of ``like_dtype``'s
  kind when compatible); NumPy values become arrays; arrays/tracers pass."""
  if isinstance(x, (ArrayImpl, Tracer)):
    return x
  if type(x) in (int, float, builtins.complex) and like_dtype is not None:
    kind = {int: "iub", float: "fc", builtins.complex: "c"}[type(x)]
    if like_dtype.kind in kind and not (type(x) is int and like_dtype.kind == "b"):
      return from_python_scalar(x, like_dtype)
  if type(x) in (bool, int, float, complex):
    return from_python_scalar(x)
  if hasattr(x, "__jax_array__"):
    return _to_array(x.__jax_array__(), like_dtype)
  return asarray_value(x)


def _dtype_of(x):
  return getattr(x, "dtype", None)


def _args2(x, y):
  """Converts a pair of lax operands, letting Python scalars take the other's dtype."""
  if type(x) is ArrayImpl and type(y) is ArrayImpl:
    return x, y
  xd = _dtype_of(x) if not isinstance(x, (int, float, builtins.complex)) else None
  yd = _dtype_of(y) if not isinstance(y, (int, float, builtins.complex)) else None
  return _to_array(x, yd), _to_array(y, xd)


# ---------------------------------------------------------------- sharding rules' helpers
#
# A primitive's ``sharding_rule(*avals, **params)`` runs when an operand's type is sharded
# (``core.shard_avals``) and returns each output's sharding: a NamedSharding over the
# operands' abstract mesh with one spec entry per dimension, or None (replicated).


def spec_of(aval) -> tuple:
  """One partition per dimension of ``aval`` (all None when its type is replicated)."""
  s = aval.sharding
  return (None,) * len(aval.shape) if s is None else tuple(s.spec.partitions)


def mesh_of(*avals):
  """The abstract mesh of the sharded operands (JAX's error when they differ)."""
  mesh = None
  for a in avals:
    s = getattr(a, "sharding", None)
    if s is not None:
      if mesh is not None and mesh != s.mesh:
        raise ShardingTypeError(f"Mesh for all inputs should be equal. Got one mesh: "
                                f"{mesh} and another mesh: {s.mesh}")
      mesh = s.mesh
  return mesh


def make_sharding(mesh, parts, unreduced=frozenset(), reduced=frozenset()):
  """The type sharding of ``parts`` on ``mesh`` (None when nothing is split)."""
  if mesh is None or (all(p is None for p in parts) and not unreduced and not reduced):
    return None
  used = [a for p in parts for a in spec_axes(p)]
  if len(used) != len(set(used)):
    raise core.DuplicateSpecError(tuple(parts))
  return NamedSharding(mesh, PartitionSpec(*parts, unreduced=unreduced, reduced=reduced))


def canon_out_sharding(s, what="out_sharding"):
  """An ``out_sharding``/``sharding`` argument as a primitive parameter: None, or a
  NamedSharding (a bare PartitionSpec takes the mesh in context, as JAX's)."""
  if s is None:
    return None
  s = canonicalize_sharding(s, what)
  if not isinstance(s, NamedSharding):
    return None  # one device: nothing to split
  core.note_sharded()
  return abstract_sharding(s)


def typed(aval, sharding):
  """``aval`` typed with the parameter ``sharding`` (None: unchanged)."""
  if sharding is None:
    return aval
  ts = aval_sharding(sharding, len(aval.shape))
  if ts is not None:  # JAX's divisibility error
    for d, (n, e) in enumerate(zip(aval.shape, ts.spec.partitions)):
      k = sub_spec_size(ts.mesh, e)
      if n % k:
        raise ValueError(
            f"Sharding spec {spec_axes(e)} implies that array axis {d} is partitioned {k} "
            f"times, but does not evenly divide the dimension size {n}. Got shape: "
            f"{tuple(aval.shape)} and sharding {ts}")
  return ShapedArray(aval.shape, aval.dtype, aval.weak_type, sharding=ts)


def param_sharding(sharding, ndim):
  """The type sharding of a NamedSharding parameter (None stays None)."""
  return None if sharding is None else aval_sharding(sharding, ndim)


def sub_spec_size(mesh, entry) -> int:
  return math.prod(mesh.shape[a] for a in spec_axes(entry))


def varying_shape_sharding(out_shape, x, name):
  """JAX's rule for ops whose output shape differs from the operand's (slicing,
  padding): the operand's sharding, if each changed sharded dimension still divides."""
  mesh = x.sharding.mesh
  for n, m, e in zip(x.shape, out_shape, spec_of(x)):
    if n != m and e is not None and m % sub_spec_size(mesh, e):
      raise ShardingTypeError(
          f"{name} on sharded dims where out dim ({m}) is not divisible by mesh axes "
          f"({sub_spec_size(mesh, e)}) with spec ({e}) is not implemented. Got input "
          f"type={x.str_short(True)} and output shape={tuple(out_shape)}")
  return x.sharding


def spec_str(parts) -> str:
  return str(tuple(parts))


def broadcasting_sharding_rule(name, *avals):
  """JAX's rule for elementwise operands: per dimension the one sharding they agree on,
  ignoring replicated size-1 dimensions and replicated operands; two different ones
  raise."""
  mesh = mesh_of(*avals)
  shaped = [a for a in avals if a.shape]
  if not shaped:
    return None
  specs = [spec_of(a) for a in shaped]
  out = []
  for i, ss in enumerate(zip(*specs)):
    if all(s == ss[0] for s in ss[1:]):
      out.append(ss[0])
      continue
    r = None
    for s, a in zip(ss, shaped):
      if s is None:
        continue
      if r is not None and s != r:
        raise ShardingTypeError(f"{name} got incompatible shardings for broadcasting: "
                                f"{', '.join(spec_str(sp) for sp in specs)}.")
      r = s
    out.append(r)
  return make_sharding(mesh, out)


def nary_sharding_rule(name):
  """The elementwise rule as a primitive's ``sharding_rule``."""
  return lambda *avals, **_: broadcasting_sharding_rule(name, *avals)


def same_sharding_rule(x, *_, **__):
  """The output is split as the (first) operand."""
  return x.sharding


# ---------------------------------------------------------------- elementwise factories


# The names of elementwise primitives (each output element depends only on the operands'
# elements at its index): the factories below add theirs, other modules theirs.
ELEMENTWISE: set[str] = {"select_n", "convert_element_type", "integer_pow", "clamp", "copy",
                         "copy_p", "reduce_precision", "add_any", "stop_gradient"}


def _unop_dtype_rule(name, accepted, result_dtype=None):
  def rule(x: ShapedArray):
    _check_dtype(name, x.dtype, accepted)
    return x.dtype if result_dtype is None else result_dtype(x.dtype)
  return rule


def unop(name: str, npfn, accepted, result_dtype=None, lower=None) -> Primitive:
  """A unary elementwise primitive computed by ``npfn`` on the buffer."""
  p = Primitive(name)
  ELEMENTWISE.add(name)
  p.lower = lower
  check = _unop_dtype_rule(name, accepted, result_dtype)

  if result_dtype is None:
    def impl(x):
      v = x._value
      if v.dtype not in accepted:
        check(x.aval)
      return ArrayImpl(npfn(v), x.weak_type)
  else:
    def impl(x):
      v = x._value
      dt = check(x.aval)
      return ArrayImpl(np.asarray(npfn(v), dt) if v.ndim else npfn(v).astype(dt), x.weak_type)

  def abstract_eval(x):
    return ShapedArray(x.shape, check(x), x.weak_type)

  p.def_impl(impl)
  p.def_abstract_eval(abstract_eval)
  p.sharding_rule = same_sharding_rule
  p.batch = batching.vectorized_batcher(p)
  return p


def _same_dtypes_check(name, *avals):
  """JAX's check_same_dtypes: all operands share one dtype (tip names the jnp twin)."""
  if any(a.dtype != avals[0].dtype for a in avals[1:]):
    tip = _jnp_name.get(name)
    raise TypeError(
        f"lax.{name} requires arguments to have the same dtypes, got "
        f"{', '.join(a.dtype.name for a in avals)}."
        + (f" (Tip: jnp.{tip} is a similar function that does automatic type promotion "
           f"on inputs)." if tip else ""))


def _binop_shape(name, x: ShapedArray, y: ShapedArray):
  """Shape rule of binary elementwise ops, as JAX 0.10.2's: equal shapes, one of them
  rank 0, or equal ranks whose differing dimensions are 1 in one of them."""
  if x.shape == y.shape or not x.shape or not y.shape:
    return x.shape if x.shape else y.shape
  if len(x.shape) != len(y.shape):
    raise TypeError(f"{name}: arrays must have the same number of dimensions, got "
                    f"{ {len(x.shape), len(y.shape)} }")
  out = []
  for a, b in zip(x.shape, y.shape):
    if a != b and a != 1 and b != 1:
      raise TypeError(f"{name} got incompatible shapes for broadcasting: "
                      f"{x.shape}, {y.shape}.")
    out.append(b if a == 1 else a)
  return tuple(out)


def _degenerate_broadcast_lower(lower):
  """A binary op's lowering with operands of size-1 dimensions broadcast to the
  result's shape first (rank-0 operands are left to the rule)."""
  def rule(ctx, x, y, **params):
    shape = ctx.aval_out.shape
    if x.aval.shape and x.aval.shape != shape:
      x = ctx.broadcast(x, shape)
    if y.aval.shape and y.aval.shape != shape:
      y = ctx.broadcast(y, shape)
    return lower(ctx, x, y, **params)
  rule.__name__ = getattr(lower, "__name__", "lower")
  return rule


def _binop_check(name, x: ShapedArray, y: ShapedArray, accepted):
  shape = _binop_shape(name, x, y)
  for i, a in enumerate((x, y)):
    if a.dtype not in accepted:
      _check_dtype(name, a.dtype, accepted, pos=i)
  _same_dtypes_check(name, x, y)
  return shape


# lax name -> the jax.numpy function that promotes (JAX's table, for error tips)
_jnp_name = {"add": "add", "atan2": "arctan2", "div": "divide", "eq": "equal",
             "max": "maximum", "min": "minimum", "mul": "multiply", "ne": "not_equal",
             "nextafter": "nextafter", "pow": "float_power", "select": "where",
             "shift_left": "left_shift", "shift_right_logical": "right_shift",
             "shift_right_arithmetic": "right_shift", "sub": "subtract",
             "concatenate": "concatenate"}


def binop(name: str, npfn, accepted, result_dtype=None, lower=None,
          check=None) -> Primitive:
  """A binary elementwise primitive. Operands share a dtype (unless ``check``, the
  shape/dtype rule, says otherwise); shapes are equal or one of them is a scalar
  (rank 0); the lax functions broadcast size-1 dimensions first, as JAX's do."""
  p = Primitive(name)
  ELEMENTWISE.add(name)
  p.lower = None if lower is None else _degenerate_broadcast_lower(lower)
  check = check or _binop_check

  def impl(x, y):
    xv, yv = x._value, y._value
    if xv.dtype != yv.dtype or xv.dtype not in accepted or (
        xv.shape != yv.shape and xv.shape and yv.shape):
      check(name, x.aval, y.aval, accepted)
    out = npfn(xv, yv)
    if result_dtype is not None and out.dtype != result_dtype(xv.dtype):
      out = out.astype(result_dtype(xv.dtype))
    return ArrayImpl(out, x.weak_type and y.weak_type)

  def abstract_eval(x, y):
    shape = check(name, x, y, accepted)
    dt = x.dtype if result_dtype is None else result_dtype(x.dtype)
    return ShapedArray(shape, dt, x.weak_type and y.weak_type)

  p.def_impl(impl)
  p.def_abstract_eval(abstract_eval)
  p.sharding_rule = nary_sharding_rule(name)
  p.batch = batching.broadcast_batcher(p, size_one=True)
  return p


def _bool_result(_):
  return np.dtype(np.bool_)


def _real_dtype(dt):
  return np.finfo(dt).dtype if dt.kind == "c" else dt


def _complex_dtype(dt):
  return np.dtype(np.complex128) if dt == np.float64 else np.dtype(np.complex64)


def lower_lax(fun):
  """A lowering rule from ``fun(*operands, **params) -> list``, written with lax
  operations: traced on the operands' avals and lowered in place."""
  def rule(ctx, *xs, **params):
    jaxpr, consts = pe.trace_to_jaxpr(lambda *a: list(fun(*a, **params)),
                                      [ShapedArray(x.aval.shape, x.aval.dtype) for x in xs])
    cs = [ctx.constant(np.asarray(c._value if isinstance(c, ArrayImpl) else c),
                       core.get_aval(c)) for c in consts]
    return ctx.lower_jaxpr(jaxpr, cs, xs)
  return rule

"""Serialized jaxprs: what a shape-polymorphic ``jax.export`` writes (pyjax's own format).

pyjax's tracer has no symbolic dimensions, so a symbolic export's jaxpr is found by
tracing the function at a few sizes of its dimension variables and comparing the
encodings (``fit``): each number that differs between them (a dimension of an aval, a
param such as ``broadcast_in_dim``'s ``shape`` or ``scan``'s ``length``, a literal such
as ``mean``'s divisor) is fitted as an affine expression of the variables and checked at
one more size. ``Template.instantiate(env)`` rebuilds the concrete jaxpr for the call's
values of the variables.

The encoding is JSON-like data plus a list of NumPy arrays (the constants): primitives by
name (``core.primitive_registry``), variables by index, avals, literals, and params of the
kinds pyjax's primitives hold (numbers, strings, tuples, lists, dicts, dtypes, NumPy
scalars, pyjax's enums and named tuples, sub-jaxprs, arrays). Reading imports nothing but
pyjax modules and builds nothing but those kinds. ``jit``, ``custom_jvp_call`` and
``custom_vjp_call`` are inlined (their bodies run; their Python rules are not kept: the
deserialized function differentiates through its serialized VJP).

Cannot: a param holding a Python function (a host callback) or an unregistered
primitive (ValueError naming it); a number depending on the dimension variables other
than affinely (``1/b``, ``b*c``), a constant array or a jaxpr whose structure changes
with them (Python code branching on a shape), which raise NotImplementedError.
"""
from __future__ import annotations

import enum
import importlib
import math
import sys
from typing import Any, Callable

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.array import ArrayImpl
from pyjax._src.export import shape_poly
from pyjax._src.export.shape_poly import _DimExpr

__all__ = ["Template", "encode", "fit"]

# Primitives whose body is inlined: their params hold Python rules, not data.
_INLINE = {"jit": "jaxpr", "custom_jvp_call": "call_jaxpr",
           "custom_vjp_call": "call_jaxpr"}


# ---------------------------------------------------------------- writing


class _Encoder:
  def __init__(self):
    self.arrays: list[np.ndarray] = []

  def array(self, x, where: str, aval=None) -> dict:
    try:  # (as its aval types it: a NumPy int64 constant is int32 with x64 off)
      a = np.asarray(x) if aval is None else np.asarray(x, aval.dtype)
    except Exception:
      a = None
    if a is None or a.dtype == object or a.dtype.kind not in "biufcV" or (
        aval is not None and a.shape != tuple(aval.shape)):
      raise ValueError(f"jax.export cannot serialize the constant of type {type(x)} "
                       f"{where}")
    self.arrays.append(np.ascontiguousarray(a).reshape(a.shape))  # (0-d stays 0-d)
    return {"a": len(self.arrays) - 1}

  def prim(self, p: core.Primitive) -> list:
    reg = core.primitive_registry.get(p.name)
    if reg is None or reg[0] is not p:
      raise ValueError(
          f"jax.export cannot serialize the primitive '{p.name}': it is not a uniquely "
          "named primitive that a reading process can find (define it once, at module "
          "level, with a name no other primitive has)")
    return [p.name, reg[1]]

  def param(self, prim: str, key: str, p):
    if isinstance(p, enum.Enum):
      cls = type(p)
      return {"en": [cls.__module__, cls.__qualname__, p.name]}
    if p is None or isinstance(p, bool):
      return p
    if isinstance(p, np.generic):
      return {"ns": [p.dtype.name, _scalar(p)]}
    if isinstance(p, str):
      return str(p)
    if isinstance(p, int):
      return int(p)
    if isinstance(p, float):
      return float(p)
    if isinstance(p, np.dtype):
      return {"dt": p.name}
    if isinstance(p, type) and issubclass(p, np.generic):
      return {"dt": np.dtype(p).name}
    if isinstance(p, core.ClosedJaxpr):
      return {"cj": _Scope(self).run(p.jaxpr, p.consts)}
    if isinstance(p, core.Jaxpr):
      return {"j": _Scope(self).run(p, None)}
    if isinstance(p, tuple) and hasattr(type(p), "_fields"):
      cls = type(p)
      return {"nt": [cls.__module__, cls.__qualname__,
                     [self.param(prim, key, x) for x in p]]}
    if type(p) is tuple:
      return [self.param(prim, key, x) for x in p]
    if type(p) is list:
      return {"L": [self.param(prim, key, x) for x in p]}
    if type(p) is dict:
      return {"D": [[self.param(prim, key, k), self.param(prim, key, v)]
                    for k, v in p.items()]}
    if type(p) is frozenset:
      return {"fs": [self.param(prim, key, x) for x in sorted(p, key=repr)]}
    if isinstance(p, (np.ndarray, ArrayImpl)):
      return self.array(p, f"in the parameter '{key}' of '{prim}'")
    if isinstance(p, core.Primitive):
      return {"pr": self.prim(p)}
    raise ValueError(
        f"jax.export cannot serialize the primitive '{prim}': its parameter '{key}' "
        f"holds a {type(p).__name__} ({p!r:.60}), which pyjax cannot write (host "
        "callbacks and Python functions cannot be serialized)")


def _aval(a) -> list:
  for d in a.shape:
    if not isinstance(d, (int, np.integer)):
      raise ValueError(f"jax.export: a traced shape {a.shape} is not concrete")
  return [[int(d) for d in a.shape], a.dtype.name, bool(a.weak_type)]


def _scalar(val):
  v = np.asarray(val)
  if v.ndim:
    raise ValueError("jax.export: a non-scalar literal")
  k = v.dtype.kind
  if k == "b":
    return bool(v)
  if k in "iu":
    return int(v)
  if k == "c":
    return [float(v.real), float(v.imag)]
  return float(v)


class _Scope:
  """One encoded jaxpr: its variables numbered in the order they are defined."""

  def __init__(self, enc: _Encoder):
    self.enc = enc
    self.n = 0
    self.consts: list = []
    self.eqns: list = []

  def define(self) -> int:
    self.n += 1
    return self.n - 1

  def const(self, aval, c, where: str) -> int:
    i = self.define()
    self.consts.append([i, _aval(aval), self.enc.array(c, where, aval)])
    return i

  def run(self, jaxpr: core.Jaxpr, consts) -> dict:
    if consts is None and jaxpr.constvars:
      raise ValueError("jax.export cannot serialize an open jaxpr with constants")
    env: dict = {}
    for v, c in zip(jaxpr.constvars, consts or ()):
      env[v] = self.const(v.aval, c, "closed over by the function")
    invars = []
    for v in jaxpr.invars:
      env[v] = self.define()
      invars.append([env[v], _aval(v.aval)])
    self.body(jaxpr, env)
    return {"c": self.consts, "i": invars, "e": self.eqns,
            "o": [_atom(env, v) for v in jaxpr.outvars]}

  def body(self, jaxpr: core.Jaxpr, env: dict):
    for eqn in jaxpr.eqns:
      name = eqn.primitive.name
      ins = [_atom(env, v) for v in eqn.invars]
      if name in _INLINE and isinstance(eqn.params.get(_INLINE[name]), core.ClosedJaxpr):
        sub = eqn.params[_INLINE[name]]
        senv: dict = {}
        for v, c in zip(sub.jaxpr.constvars, sub.consts):
          senv[v] = self.const(v.aval, c, f"of a '{name}' call")
        senv.update(zip(sub.jaxpr.invars, ins))
        self.body(sub.jaxpr, senv)
        for v, o in zip(eqn.outvars, sub.jaxpr.outvars):
          env[v] = _atom(senv, o)
        continue
      params = {k: self.enc.param(name, k, p) for k, p in eqn.params.items()}
      outs = []
      for v in eqn.outvars:
        if type(v) is core.DropVar:
          outs.append([-1, _aval(v.aval)])
        else:
          env[v] = self.define()
          outs.append([env[v], _aval(v.aval)])
      self.eqns.append({"p": self.enc.prim(eqn.primitive), "i": ins, "o": outs,
                        "k": params})


def _atom(env: dict, v):
  if type(v) is core.Literal:
    return {"l": [_aval(v.aval), _scalar(v.val)]}
  return env[v]


def encode(closed: core.ClosedJaxpr) -> tuple[dict, list[np.ndarray]]:
  """The encoding of ``closed`` (all shapes concrete) and its constant arrays."""
  enc = _Encoder()
  return _Scope(enc).run(closed.jaxpr, closed.consts), enc.arrays


# ---------------------------------------------------------------- fitting


def fit(trace_at: Callable[[dict], core.ClosedJaxpr], dim_vars, scope, base: dict,
        steps: dict, check: dict, fun_name: str) -> tuple[Any, list[np.ndarray]]:
  """The encoding of the function ``trace_at`` traces, with each number that depends on
  the dimension variables as a ``_DimExpr`` (JSON-ready after ``to_json``)."""
  t0, arrays = encode(trace_at(base))
  moved = {v: encode(trace_at({**base, v: base[v] + steps[v]}))
           for v in dim_vars if steps[v]}
  tc, arrays_c = encode(trace_at(check))

  def fail(what):
    raise NotImplementedError(
        f"pyjax cannot serialize the shape-polymorphic export of '{fun_name}': {what} "
        "depends on the dimension variables in a way pyjax cannot express (it traces "
        "the function at several sizes and needs the same jaxpr with its sizes affine "
        "in the variables). Export with concrete shapes to serialize.")

  for other in [a for _, a in moved.values()] + [arrays_c]:
    if len(other) != len(arrays) or any(
        x.shape != y.shape or x.dtype != y.dtype or x.tobytes() != y.tobytes()
        for x, y in zip(arrays, other)):
      fail("a constant array of the function")
  var_of = {v: _DimExpr._from_var(v, scope) for v in dim_vars}

  def same(a, b) -> bool:
    if type(a) is not type(b):
      return False
    if type(a) is float and math.isnan(a):
      return math.isnan(b)
    return a == b

  def walk(x0, xs: dict, xc, path: str):
    others = list(xs.values()) + [xc]
    if isinstance(x0, dict):
      if any(not isinstance(o, dict) or o.keys() != x0.keys() for o in others):
        fail(f"the jaxpr's structure (at {path})")
      if isinstance(x0.get("p"), list):  # (an equation: name its primitive)
        path = f"{path}<{x0['p'][0]}>"
      return {k: walk(x0[k], {v: o[k] for v, o in xs.items()}, xc[k], f"{path}.{k}")
              for k in x0}
    if isinstance(x0, list):
      if any(not isinstance(o, list) or len(o) != len(x0) for o in others):
        fail(f"the jaxpr's structure (at {path})")
      return [walk(a, {v: o[i] for v, o in xs.items()}, xc[i], f"{path}[{i}]")
              for i, a in enumerate(x0)]
    if all(same(x0, o) for o in others):
      return x0
    if type(x0) not in (int, float) or any(type(o) is not type(x0) for o in others) \
        or not all(math.isfinite(o) for o in [x0] + others):
      fail(f"a value of the jaxpr (at {path})")
    slopes = {v: (xs[v] - x0) / steps[v] if v in xs else 0 for v in dim_vars}
    const = x0 - sum(slopes[v] * base[v] for v in dim_vars)
    if any(k != int(k) for k in slopes.values()) or const != int(const):
      fail(f"a number of the jaxpr (at {path})")
    e = int(const)
    for v in dim_vars:
      if slopes[v]:
        e = e + int(slopes[v]) * var_of[v]
    if shape_poly._evaluate(e, check) != xc:
      fail(f"a number of the jaxpr (at {path})")
    return e

  return walk(t0, {v: t for v, (t, _) in moved.items()}, tc, "jaxpr"), arrays


def to_json(tree):
  """``tree`` with each ``_DimExpr`` written ``{"d": "2*b + 1"}``."""
  if isinstance(tree, _DimExpr):
    return {"d": str(tree)}
  if isinstance(tree, dict):
    return {k: to_json(v) for k, v in tree.items()}
  if isinstance(tree, list):
    return [to_json(v) for v in tree]
  return tree


# ---------------------------------------------------------------- reading


def _bad(what: str):
  raise ValueError(f"the serialized jaxpr is malformed: {what}")


def _check(cond, what: str):
  if not cond:
    _bad(what)


def _dtype(name) -> np.dtype:
  _check(isinstance(name, str), "a dtype is not a string")
  try:
    return np.dtype(name)
  except TypeError:
    dt = getattr(dtypes, name, None)
    _check(isinstance(dt, (type, np.dtype)), f"unknown dtype {name!r}")
    return np.dtype(dt)


def _pyjax_attr(module, qualname):
  _check(isinstance(module, str) and isinstance(qualname, str)
         and (module == "pyjax" or module.startswith("pyjax.")) and "<" not in qualname,
         f"a reference to {module!r}.{qualname!r} outside pyjax")
  mod = sys.modules.get(module)
  if mod is None:
    try:
      mod = importlib.import_module(module)
    except ImportError:
      _bad(f"no module {module!r}")
  obj = mod
  for part in qualname.split("."):
    obj = getattr(obj, part, None)
  _check(isinstance(obj, type), f"{module}.{qualname} is not a class")
  return obj


def _prim(j) -> core.Primitive:
  _check(isinstance(j, list) and len(j) == 2 and all(isinstance(s, str) for s in j),
         "a primitive reference")
  name, module = j
  reg = core.primitive_registry.get(name)
  if reg is None and module.startswith("pyjax."):
    try:
      importlib.import_module(module)
    except ImportError:
      pass
    reg = core.primitive_registry.get(name)
  _check(reg is not None, f"unknown primitive '{name}'")
  return reg[0]


def _aval_from(j) -> core.ShapedArray:
  _check(isinstance(j, list) and len(j) == 3 and isinstance(j[0], list),
         "an aval")
  shape, dt, weak = j
  _check(all(type(d) is int and d >= 0 for d in shape), f"the shape {shape}")
  return core.ShapedArray(tuple(shape), _dtype(dt), bool(weak))


def _literal(j) -> core.Literal:
  _check(isinstance(j, list) and len(j) == 2, "a literal")
  aval = _aval_from(j[0])
  _check(aval.shape == (), "a literal is not a scalar")
  val = j[1]
  if isinstance(val, list):
    _check(len(val) == 2, "a complex literal")
    val = complex(*val)
  _check(isinstance(val, (bool, int, float, complex)), "a literal's value")
  return core.Literal(ArrayImpl(np.asarray(val, aval.dtype)[()], aval.weak_type), aval)


class _Decoder:
  def __init__(self, arrays: list[np.ndarray]):
    self.arrays = arrays

  def array(self, j) -> np.ndarray:
    _check(isinstance(j, dict) and type(j.get("a")) is int
           and 0 <= j["a"] < len(self.arrays), "an array reference")
    return self.arrays[j["a"]]

  def jaxpr(self, j, closed: bool):
    _check(isinstance(j, dict) and all(isinstance(j.get(k), list) for k in "cieo"),
           "a jaxpr")
    env: dict[int, core.Var] = {}

    def define(i, aval) -> core.Var:
      _check(type(i) is int and i >= 0 and i not in env, "a variable's number")
      env[i] = core.Var(aval)
      return env[i]

    def atom(x):
      if isinstance(x, dict) and "l" in x:
        return _literal(x["l"])
      _check(type(x) is int and x in env, "a variable used before it is defined")
      return env[x]

    constvars, consts = [], []
    for c in j["c"]:
      _check(isinstance(c, list) and len(c) == 3, "a constant")
      aval = _aval_from(c[1])
      arr = self.array(c[2])
      _check(arr.shape == aval.shape and arr.dtype == aval.dtype,
             "a constant's array does not match its aval")
      constvars.append(define(c[0], aval))
      consts.append(arr)
    _check(closed or not constvars, "an open jaxpr with constants")
    invars = []
    for v in j["i"]:
      _check(isinstance(v, list) and len(v) == 2, "an input variable")
      invars.append(define(v[0], _aval_from(v[1])))
    eqns = []
    for e in j["e"]:
      _check(isinstance(e, dict) and isinstance(e.get("i"), list)
             and isinstance(e.get("o"), list) and isinstance(e.get("k"), dict),
             "an equation")
      prim = _prim(e.get("p"))
      ins = [atom(x) for x in e["i"]]
      params = {k: self.param(v) for k, v in e["k"].items()}
      outs = []
      for o in e["o"]:
        _check(isinstance(o, list) and len(o) == 2, "an output variable")
        aval = _aval_from(o[1])
        outs.append(core.DropVar(aval) if o[0] == -1 else define(o[0], aval))
      eqns.append(core.new_jaxpr_eqn(ins, outs, prim, params))
    jaxpr = core.Jaxpr(constvars, invars, [atom(x) for x in j["o"]], eqns)
    return core.ClosedJaxpr(jaxpr, consts) if closed else jaxpr

  def param(self, j):
    if j is None or type(j) in (bool, int, float, str):
      return j
    if isinstance(j, list):
      return tuple(self.param(x) for x in j)
    _check(isinstance(j, dict) and len(j) == 1, "a parameter")
    (kind, v), = j.items()
    if kind == "dt":
      return _dtype(v)
    if kind == "ns":
      _check(isinstance(v, list) and len(v) == 2, "a NumPy scalar")
      val = complex(*v[1]) if isinstance(v[1], list) else v[1]
      return np.asarray(val, _dtype(v[0]))[()]
    if kind == "en":
      _check(isinstance(v, list) and len(v) == 3, "an enum")
      cls = _pyjax_attr(v[0], v[1])
      _check(issubclass(cls, enum.Enum) and v[2] in cls.__members__, "an enum member")
      return cls[v[2]]
    if kind == "nt":
      _check(isinstance(v, list) and len(v) == 3 and isinstance(v[2], list),
             "a named tuple")
      cls = _pyjax_attr(v[0], v[1])
      _check(issubclass(cls, tuple) and hasattr(cls, "_fields")
             and len(cls._fields) == len(v[2]), "a named tuple's class")
      return cls(*(self.param(x) for x in v[2]))
    if kind == "cj":
      return self.jaxpr(v, True)
    if kind == "j":
      return self.jaxpr(v, False)
    if kind in ("L", "fs"):
      _check(isinstance(v, list), "a list")
      items = [self.param(x) for x in v]
      return items if kind == "L" else frozenset(items)
    if kind == "D":
      _check(isinstance(v, list) and all(isinstance(p, list) and len(p) == 2
                                         for p in v), "a dict")
      return {self.param(k): self.param(x) for k, x in v}
    if kind == "a":
      return self.array(j)
    if kind == "pr":
      return _prim(v)
    _bad(f"a parameter of kind {kind!r}")


def _parse_dims(tree, scope):
  if isinstance(tree, dict):
    if set(tree) == {"d"}:
      _check(isinstance(tree["d"], str), "a dimension expression")
      try:
        d, = shape_poly.symbolic_shape(tree["d"], scope=scope)
      except (ValueError, TypeError, KeyError, IndexError) as e:
        _bad(f"the dimension expression {tree['d']!r} ({e})")
      return d
    return {k: _parse_dims(v, scope) for k, v in tree.items()}
  if isinstance(tree, list):
    return [_parse_dims(v, scope) for v in tree]
  return tree


def _substitute(tree, env: dict):
  if isinstance(tree, _DimExpr):
    return shape_poly._evaluate(tree, env)
  if isinstance(tree, dict):
    return {k: _substitute(v, env) for k, v in tree.items()}
  if isinstance(tree, list):
    return [_substitute(v, env) for v in tree]
  return tree


class Template:
  """A serialized jaxpr with symbolic numbers; ``instantiate(env)`` is its concrete
  ClosedJaxpr for the dimension variables' values ``env``."""

  def __init__(self, tree_json, arrays: list[np.ndarray], scope):
    self.tree_json = tree_json  # (as written: dimensions as {"d": text})
    self.arrays = arrays
    self._tree = _parse_dims(tree_json, scope)
    self._cache: dict = {}

  def instantiate(self, env: dict) -> core.ClosedJaxpr:
    key = tuple(sorted(env.items()))
    closed = self._cache.get(key)
    if closed is None:
      closed = _Decoder(self.arrays).jaxpr(_substitute(self._tree, env), True)
      self._cache[key] = closed
    return closed

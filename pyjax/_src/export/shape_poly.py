"""Symbolic dimensions for ``jax.export``: ``symbolic_shape("b, 784")``.

A ``_DimExpr`` is a polynomial with integer coefficients over dimension variables
(each >= 1), normalized and printed as JAX prints it (``2*b + 3``, ``b^2 - 1``).
``+``, ``-``, ``*`` with ints and other dimensions of the same scope are exact;
``==`` compares the normal forms; ``>=``/``>``/``<=``/``<`` are decided from the bounds
every variable >= 1 gives, else raise JAX's ``InconclusiveDimensionOperation``.
``//`` and ``%`` give opaque ``floordiv(..)``/``mod(..)`` factors unless exact.
Constraints (``constraints=``): ``>=``/``<=`` ones narrow one variable's range or are
used as they stand in decisions; ``v == e`` replaces ``v`` by ``e``. Cannot:
``max``/``min``/``non_negative`` factors, equalities of other forms, or decisions that
need more than those bounds (JAX's procedure combines constraints further).
"""
from __future__ import annotations

import re
import traceback
from typing import Any, Sequence

import numpy as np

from pyjax._src import tree_util
from pyjax._src.api_util import ShapeDtypeStruct

__all__ = ["InconclusiveDimensionOperation", "SymbolicScope", "is_symbolic_dim",
           "symbolic_shape", "symbolic_args_specs"]


class InconclusiveDimensionOperation(Exception):
  """Raised when we cannot conclusively compute with symbolic dimensions."""

  _help_msg = """
This error arises for comparison operations with shapes that
are non-constant, and the result of the operation cannot be represented as
a boolean value for all values of the symbolic dimensions involved.

Please see https://docs.jax.dev/en/latest/export/shape_poly.html#comparison-of-symbolic-dimensions-is-partially-supported
for more details.
"""

  def __init__(self, message: str):
    super().__init__(f"{message}{InconclusiveDimensionOperation._help_msg}")


class SymbolicScope:
  """The scope the dimension variables of one ``symbolic_shape`` call live in:
  expressions of different scopes do not mix (JAX's rule)."""

  def __init__(self, constraints_str: Sequence[str] = ()):
    if isinstance(constraints_str, str):
      raise ValueError("The symbolic constraints should be a sequence of strings. "
                       f"Got {constraints_str!r}")
    frame = traceback.extract_stack(limit=4)[0]
    col = getattr(frame, "colno", None)
    self._location = (f"{frame.filename}:{frame.lineno}"
                      f"{'' if col is None else f':{col}'} ({frame.name})")
    self._constraints_str = tuple(c.strip() for c in constraints_str)
    self._eq: dict = {}  # variable -> the expression an equality constraint gives it
    self._ge: list = []  # (constraint text, expression >= 0)
    self._var_bounds: dict = {}  # variable -> (lower, upper) from one-variable ones
    for c in constraints_str:
      self._add_constraint(c)

  def _add_constraint(self, c: str):
    """``e1 >= e2``, ``e1 <= e2`` (bounds and decisions) or ``v == e`` (``v`` is
    replaced by ``e``)."""
    for op in ("==", ">=", "<="):
      if op in c:
        lhs, rhs = c.split(op, 1)
        break
    else:
      raise ValueError("Constraint parsing error: must contain one of '==' or '>=' or "
                       "'<='")
    left = _Parser(lhs, self).expr_only()
    right = _Parser(rhs, self).expr_only()
    if op == "==":
      var = left._single_var() if isinstance(left, _DimExpr) else None
      if var is None:
        raise NotImplementedError(
            f"pyjax supports equality constraints only of the form 'var == expr': {c}")
      self._eq[var] = right
      return
    g = left - right if op == ">=" else right - left
    if not isinstance(g, _DimExpr):
      if g < 0:
        raise ValueError(f"Unsatisfiable explicit constraint: {c}")
      return
    self._ge.append((c.strip(), g))
    coeffs = g._coeffs()
    lin = [t for t in coeffs if t != ()]
    if len(lin) == 1 and len(lin[0]) == 1 and lin[0][0][1] == 1 and \
        isinstance(lin[0][0][0], str):
      v, k, c0 = lin[0][0][0], coeffs[lin[0]], coeffs.get((), 0)
      lo, hi = self._var_bounds.get(v, (1, np.inf))
      if k > 0:
        lo = max(lo, -(c0 // k))  # k*v + c0 >= 0: v >= ceil(-c0 / k)
      else:
        hi = min(hi, c0 // -k)
      self._var_bounds[v] = (lo, hi)

  def bounds(self, v: str):
    """(lower, upper) of variable ``v``: 1 and no upper bound unless constrained."""
    return self._var_bounds.get(v, (1, np.inf))

  def __str__(self):
    return f"scope {id(self)} created at {self._location}"

  def _check_same_scope(self, other: "_DimExpr", when: str = "", self_descr=" ",
                        other_descr="unknown"):
    if other.scope is not self:
      raise ValueError(
          f"Invalid mixing of symbolic scopes {when}.\n"
          f"Expected {self_descr}{self}\n"
          f"and found for '{other}' ({other_descr}) {other.scope}.\n"
          "See https://docs.jax.dev/en/latest/export/shape_poly.html"
          "#user-specified-symbolic-constraints.")


# A factor is a variable name, or (operation, operand, operand) for floordiv/mod.
# A term is a sorted tuple of (factor, exponent); the constant term is ().


def _factor_size(f) -> int:
  if isinstance(f, str):
    return 1
  return 1 + sum(_expr_size(o) for o in f[1:])


def _expr_size(e) -> int:
  if not isinstance(e, _DimExpr):
    return 0
  return sum(_term_size(t) for t, _ in e._terms)


def _term_size(t) -> int:
  return sum(1 + k * _factor_size(f) for f, k in t)


def _factor_key(f):
  if isinstance(f, str):
    return (1, f)
  return (_factor_size(f), "", f[0], tuple(str(o) for o in f[1:]))


def _term_key(t):
  return (_term_size(t), tuple((_factor_key(f), k) for f, k in t))


def _factor_str(f) -> str:
  return f if isinstance(f, str) else f"{f[0]}({f[1]}, {f[2]})"


def _term_str(t) -> str:
  return "*".join(_factor_str(f) if k == 1 else f"{_factor_str(f)}^{k}" for f, k in t)


def _mul_terms(t1, t2):
  d = dict(t1)
  for f, k in t2:
    d[f] = d.get(f, 0) + k
  return tuple(sorted(d.items(), key=lambda fk: _factor_key(fk[0])))


class _DimExpr:
  """A symbolic dimension: a normalized polynomial of dimension variables."""
  __slots__ = ("_terms", "scope", "_hash")

  def __init__(self, coeffs: dict, scope: SymbolicScope):
    self._terms = tuple(sorted(((t, k) for t, k in coeffs.items() if k != 0),
                               key=lambda tk: _term_key(tk[0]), reverse=True))
    self.scope = scope
    self._hash = None

  @staticmethod
  def _make(coeffs: dict, scope) -> "DimSize":
    if all(t == () for t, k in coeffs.items() if k != 0):
      return int(coeffs.get((), 0))
    return _DimExpr(coeffs, scope)

  @staticmethod
  def _from_var(v: str, scope) -> "_DimExpr":
    return _DimExpr({((v, 1),): 1}, scope)

  def _coeffs(self) -> dict:
    return dict(self._terms)

  def _vars(self) -> set:
    out = set()
    for t, _ in self._terms:
      for f, _ in t:
        if isinstance(f, str):
          out.add(f)
        else:
          for o in f[1:]:
            if isinstance(o, _DimExpr):
              out |= o._vars()
    return out

  # -------------------------------------------------------------- printing
  def __str__(self):
    parts = []
    for t, k in self._terms:
      sgn = "+" if k > 0 else "-"
      if t == ():
        parts.append(f"{sgn} {abs(k)}")
      elif abs(k) == 1:
        parts.append(f"{sgn} {_term_str(t)}")
      else:
        parts.append(f"{sgn} {abs(k)}*{_term_str(t)}")
    res = " ".join(parts)
    return res[2:] if res.startswith("+ ") else res

  __repr__ = __str__

  def __hash__(self):
    if self._hash is None:
      self._hash = hash((self._terms, id(self.scope)))
    return self._hash

  # -------------------------------------------------------------- arithmetic
  def _other(self, other, when):
    if isinstance(other, _DimExpr):
      self.scope._check_same_scope(other, when=when)
      return other._coeffs()
    if isinstance(other, (int, np.integer)) and not isinstance(other, bool):
      return {(): int(other)}
    if isinstance(other, (float, complex, np.inexact)):
      _as_value()
    return None

  def _combine(self, other, k):
    o = self._other(other, "for linear combination")
    if o is None:
      return NotImplemented
    c = self._coeffs()
    for t, v in o.items():
      c[t] = c.get(t, 0) + k * v
    return _DimExpr._make(c, self.scope)

  def __add__(self, other):
    return self._combine(other, 1)

  __radd__ = __add__

  def __sub__(self, other):
    return self._combine(other, -1)

  def __rsub__(self, other):
    return (-self)._combine(other, 1)

  def __neg__(self):
    return _DimExpr._make({t: -k for t, k in self._terms}, self.scope)

  def __pos__(self):
    return self

  def __mul__(self, other):
    o = self._other(other, "for multiplication")
    if o is None:
      return NotImplemented
    c: dict = {}
    for t1, k1 in self._terms:
      for t2, k2 in o.items():
        t = _mul_terms(t1, t2)
        c[t] = c.get(t, 0) + k1 * k2
    return _DimExpr._make(c, self.scope)

  __rmul__ = __mul__

  def __pow__(self, power):
    if not isinstance(power, int) or power < 0:
      return NotImplemented
    out = 1
    for _ in range(power):
      out = self * out
    return out

  def _divmod(self, other, op: str):
    o = self._other(other, f"for {op}")
    if o is None:
      return NotImplemented
    if list(o) == [()]:  # by a constant: exact when every coefficient divides
      d = o[()]
      if d != 0 and all(k % d == 0 for _, k in self._terms):
        return self._make({t: k // d for t, k in self._terms}, self.scope) \
            if op == "floordiv" else 0
    elif isinstance(other, _DimExpr) and other._terms == self._terms:
      return 1 if op == "floordiv" else 0
    return _DimExpr({(((op, self, other), 1),): 1}, self.scope)

  def __truediv__(self, other):
    _as_value()

  __rtruediv__ = __truediv__

  def __floordiv__(self, other):
    return self._divmod(other, "floordiv")

  def __rfloordiv__(self, other):
    if not isinstance(other, (int, np.integer)):
      return NotImplemented
    return _DimExpr({((("floordiv", int(other), self), 1),): 1}, self.scope)

  def __mod__(self, other):
    return self._divmod(other, "mod")

  def __rmod__(self, other):
    if not isinstance(other, (int, np.integer)):
      return NotImplemented
    return _DimExpr({((("mod", int(other), self), 1),): 1}, self.scope)

  def __divmod__(self, other):
    return self // other, self % other

  # -------------------------------------------------------------- comparisons
  def __eq__(self, other):
    if isinstance(other, _DimExpr):
      if other.scope is not self.scope:
        return False
      return self._terms == other._terms
    if isinstance(other, (int, np.integer)) and not isinstance(other, bool):
      return False  # a non-constant expression is never a given constant
    return NotImplemented

  def __ne__(self, other):
    r = self.__eq__(other)
    return r if r is NotImplemented else not r

  def _single_var(self) -> str | None:
    if len(self._terms) == 1 and self._terms[0][1] == 1:
      t = self._terms[0][0]
      if len(t) == 1 and t[0][1] == 1 and isinstance(t[0][0], str):
        return t[0][0]
    return None

  def _bounds(self):
    """(lower, upper) over the variables' ranges (>= 1, narrowed by one-variable
    constraints; opaque factors: any integer)."""
    lo = hi = 0.0
    for t, k in self._terms:
      t_lo = t_hi = 1.0
      for f, e in t:
        if not isinstance(f, str):
          t_lo, t_hi = -np.inf, np.inf
          break
        f_lo, f_hi = self.scope.bounds(f)
        t_lo, t_hi = t_lo * f_lo ** e, t_hi * f_hi ** e
      if t_lo == -np.inf:
        lo, hi = -np.inf, np.inf
      elif k > 0:
        lo, hi = lo + k * t_lo, hi + k * t_hi
      else:
        lo, hi = lo + k * t_hi, hi + k * t_lo
    return lo, hi

  def _ge(self, other, op, left, right) -> bool:
    diff = self - other
    if not isinstance(diff, _DimExpr):
      return diff >= 0
    lo, hi = diff._bounds()
    if lo >= 0:
      return True
    if hi < 0:
      return False
    for _, g in self.scope._ge:  # diff = g + (something >= 0) and g >= 0
      d = diff - g
      if (d._bounds()[0] if isinstance(d, _DimExpr) else d) >= 0:
        return True
    scope = ""
    if self.scope._constraints_str:
      scope = (f"\nUsing symbolic {self.scope} with constraints:\n" +
               "\n".join(f"  {c}" for c in self.scope._constraints_str))
    raise InconclusiveDimensionOperation(
        f"Symbolic dimension comparison '{left}' {op} '{right}' is inconclusive.{scope}")

  def __ge__(self, other):
    return self._ge(other, ">=", self, other)

  def __gt__(self, other):
    return self._ge(other + 1, ">", self, other)

  def __le__(self, other):
    return _as_expr(other, self)._ge(self, "<=", self, other)

  def __lt__(self, other):
    return _as_expr(other, self)._ge(self + 1, "<", self, other)

  def __bool__(self):
    raise InconclusiveDimensionOperation(
        f"Symbolic dimension '{self}' used in a context that requires a constant")

  def __int__(self):
    raise InconclusiveDimensionOperation(
        f"Symbolic dimension '{self}' used in a context that requires a constant")

  __index__ = __int__

  # -------------------------------------------------------------- evaluation
  def _evaluate(self, env: dict) -> int:
    """The value of this expression when the variables have the values ``env``."""
    total = 0
    for t, k in self._terms:
      v = k
      for f, e in t:
        if isinstance(f, str):
          fv = env[f]
        else:
          a, b = (_evaluate(o, env) for o in f[1:])
          fv = a // b if f[0] == "floordiv" else a % b
        v *= fv ** e
      total += v
    return total


DimSize = Any  # an int or a _DimExpr


def _as_value():
  """JAX's error for a symbolic dimension used as an array value (``b * 1.5``, ``b / 2``):
  outside an export's tracing it has no value."""
  raise NotImplementedError(
      "Evaluation rule for 'dim_as_value' is not implemented. It seems that you are "
      "using shape polymorphism outside jax.export.")


def _as_expr(x, like: _DimExpr) -> _DimExpr:
  """``x`` as an expression in the scope of ``like`` (ints become constants)."""
  if isinstance(x, _DimExpr):
    return x
  return _DimExpr({(): int(x)}, like.scope)


def _evaluate(d, env: dict) -> int:
  return d._evaluate(env) if isinstance(d, _DimExpr) else int(d)


def is_symbolic_dim(v: Any) -> bool:
  """Whether ``v`` is a symbolic dimension (not an int)."""
  return isinstance(v, _DimExpr)


def all_dim_vars(avals) -> list[str]:
  """The sorted dimension variables appearing in the shapes of ``avals``."""
  out: set = set()
  for a in avals:
    for d in a.shape:
      if isinstance(d, _DimExpr):
        out |= d._vars()
  return sorted(out)


# ---------------------------------------------------------------- parsing

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+)|(?P<name>[A-Za-z_]\w*)|(?P<op>\.\.\.|[-+*^(),]))")


_OP_NAMES = {",": "COMMA", "(": "LPAR", ")": "RPAR", "*": "STAR", "+": "PLUS",
             "-": "MINUS", "^": "CIRCUMFLEX", "...": "ELLIPSIS"}


class _Parser:
  def __init__(self, spec: str, scope: SymbolicScope):
    self.spec = spec
    self.scope = scope
    self.toks = []
    pos = 0
    while pos < len(spec):
      m = _TOKEN.match(spec, pos)
      if m is None or m.end() == pos:
        if spec[pos:].strip() == "":
          break
        raise ValueError(f"syntax error in symbolic shape '{spec}': unexpected "
                         f"character '{spec[pos:].strip()[0]}'")
      kind = m.lastgroup
      self.toks.append((kind, m.group(kind), m.start(kind)))
      pos = m.end()
    self.i = 0
    self.dim = 0

  def peek(self):
    return self.toks[self.i] if self.i < len(self.toks) else ("end", "", len(self.spec))

  def error(self, expected: str):
    kind, val, at = self.peek()
    found = {"end": "ENDMARKER", "num": "NUMBER", "name": "NAME"}.get(kind) or \
        _OP_NAMES.get(val, val)
    if kind == "end":  # (JAX's tokenizer places the end marker on a line of its own)
      at = 0
    raise ValueError(
        f"syntax error in symbolic shape '{self.spec}' in dimension {self.dim}: "
        f"expecting one of {{{expected}}} but found {found}. Parsed "
        f"'{self.spec[:at]}', remaining '{self.spec[at:] if kind != 'end' else ''}'.")

  def take(self, val):
    if self.peek()[1] == val and self.peek()[0] == "op":
      self.i += 1
      return True
    return False

  def shape(self):
    if self.take("("):
      out = self.dims()
      if not self.take(")"):
        self.error(")")
    else:
      out = self.dims()
    if self.peek()[0] != "end":
      self.error("ENDMARKER")
    return tuple(out)

  def expr_only(self):
    e = self.expr()
    if self.peek()[0] != "end":
      self.error("ENDMARKER")
    return e

  def dims(self):
    out = []
    while self.peek()[0] != "end" and self.peek()[1] != ")":
      out.append(self.expr())
      self.dim += 1
      if not self.take(","):
        break
    return out

  def expr(self):
    neg = self.take("-")
    e = self.term()
    if neg:
      e = -e
    while True:
      if self.take("+"):
        e = e + self.signed_term()
      elif self.take("-"):
        e = e - self.signed_term()
      else:
        return e

  def signed_term(self):
    if self.take("-"):  # (JAX's grammar: only a number may follow a second sign)
      if self.peek()[0] != "num":
        self.error("NUMBER")
      return -self.term()
    return self.term()

  def term(self):
    e = self.power()
    while self.take("*"):
      e = e * self.power()
    kind, val, _ = self.peek()
    if kind in ("name", "num") or (kind == "op" and val not in ",+-)^"):
      self.error("STAR")
    return e

  def power(self):
    e = self.atom()
    if self.take("^"):
      kind, val, _ = self.peek()
      if kind != "num":
        self.error("NUMBER")
      self.i += 1
      e = e ** int(val)
    return e

  def atom(self):
    kind, val, _ = self.peek()
    if kind == "num":
      self.i += 1
      return int(val)
    if kind == "name":
      self.i += 1
      if val in ("floordiv", "mod") and self.take("("):
        a = self.expr()
        if not self.take(","):
          self.error("COMMA")
        b = self.expr()
        if not self.take(")"):
          self.error("RPAR")
        return a // b if val == "floordiv" else a % b
      if val in ("max", "min", "non_negative"):
        raise NotImplementedError(f"pyjax's symbolic shapes do not support {val}(...)")
      if val in self.scope._eq:
        return self.scope._eq[val]
      return _DimExpr._from_var(val, self.scope)
    self.error("NAME, MINUS, NUMBER")


def symbolic_shape(shape_spec: str | None, *, constraints: Sequence[str] = (),
                   scope: SymbolicScope | None = None,
                   like: Sequence[int | None] | None = None) -> tuple[DimSize, ...]:
  """The dimensions ``shape_spec`` ("b, 784", "2*b + 1, 3") spells, in a new scope
  (or ``scope``). ``like`` fills "_" and a trailing "..." from a concrete shape."""
  if scope is None:
    scope = SymbolicScope(constraints)
  elif constraints:
    raise ValueError("Cannot specify both a `scope` and `constraints`.")
  spec = "" if shape_spec is None else str(shape_spec)
  if like is not None:
    parts = [p.strip() for p in spec.strip().strip("()").split(",")]
    parts = [p for p in parts if p]
    if parts and parts[-1] == "...":
      parts = parts[:-1] + [str(d) for d in like[len(parts) - 1:]]
    parts = [str(like[i]) if p == "_" else p for i, p in enumerate(parts)]
    spec = ", ".join(parts)
  return _Parser(spec, scope).shape()


def symbolic_args_specs(args, shapes_specs, constraints: Sequence[str] = (),
                        scope: SymbolicScope | None = None):
  """ShapeDtypeStructs for ``args`` with the symbolic shapes ``shapes_specs`` (one spec
  string for all, or a pytree prefix of ``args``; None keeps an argument's shape)."""
  leaves, tree = tree_util.tree_flatten(args)
  if shapes_specs is None or isinstance(shapes_specs, str):
    specs = [shapes_specs] * len(leaves)
  else:
    specs = tree_util.broadcast_prefix(shapes_specs, args, is_leaf=lambda x: x is None)
  if scope is None:
    scope = SymbolicScope(constraints)
  out = []
  for x, s in zip(leaves, specs):
    shape = tuple(np.shape(x))
    dtype = getattr(x, "dtype", None) or np.asarray(x).dtype
    dims = shape if s is None else symbolic_shape(s, scope=scope, like=shape)
    out.append(ShapeDtypeStruct(dims, dtype))
  return tree_util.tree_unflatten(tree, out)


"""Mutable array references (``jax.Ref``, ``jax.new_ref``, ``jax.ref.get/set/...``).

A ``Ref`` is an eager mutable cell holding one array; ``ref[idx]`` reads through jnp
indexing and ``ref[idx] = v`` replaces the held array with ``.at[idx].set(v)``, with
JAX's strict checks (the value's shape and dtype must be exactly those of ``ref[idx]``).

What works as in JAX: everything eagerly; a Ref created inside a transformed function
and used there (its operations are then ordinary traced array operations, jit
included); a Ref passed to a ``jit``'d function or closed over by one (jit traces it
as its value, an input of the jaxpr; the function works on a Ref of that value and jit
writes the final value back after the call); a Ref closed over by the body of a
``scan``/``fori_loop``/``while_loop``/``map`` or a ``cond``/``switch`` branch (its value
rides in the carry or the operands and is written back: the loop is traced once to find
its Refs, then again with them carried); reading a closed-over Ref under
``vmap``/``grad``/``jvp`` (its value is a constant there); writing a closed-over Ref a
vmapped or differentiated value raises JAX's error. What cannot work here: a closed-over
Ref used inside ``make_jaxpr`` (or another staging that is not jit, a loop or a branch)
raises NotImplementedError (pyjax has no state effects in jaxprs: the value would be
baked in at trace time), and a Ref passed as an argument to another transformation
(``vmap``,
``grad``, ``make_jaxpr``, ...) raises TypeError. ``empty_ref`` gives a zero-filled Ref
(JAX leaves its contents undefined and has no eager rule for it); ``free_ref`` does
nothing.
"""
from __future__ import annotations

import contextlib

from pyjax._src import core, dtypes
from pyjax._src.array import asarray_value
from pyjax._src.core import ShapedArray, Tracer
from pyjax._src.interpreters import ad, batching, partial_eval
from pyjax._src.lax import lax

__all__ = ["AbstractRef", "Ref", "addupdate", "empty_ref", "free_ref", "freeze", "get",
           "new_ref", "set", "swap"]


class AbstractRef:
  """The type of a Ref: ``Ref{float32[3]}`` (what ``jax.typeof(ref)`` gives)."""

  def __init__(self, inner_aval: ShapedArray, memory_space=None, kind=None):
    self.inner_aval = inner_aval
    self.memory_space = memory_space
    self.kind = kind

  shape = property(lambda self: self.inner_aval.shape)
  dtype = property(lambda self: self.inner_aval.dtype)
  ndim = property(lambda self: self.inner_aval.ndim)
  size = property(lambda self: self.inner_aval.size)
  weak_type = property(lambda self: self.inner_aval.weak_type)

  def str_short(self, short_dtypes=False):
    inner = self.inner_aval.str_short(short_dtypes=short_dtypes)
    if self.memory_space is not None:
      return f"Ref<{self.memory_space}>{{{inner}}}"
    return f"Ref{{{inner}}}"

  def __repr__(self):
    return self.str_short()

  __str__ = __repr__

  def __eq__(self, other):
    return (type(other) is AbstractRef and self.inner_aval == other.inner_aval
            and self.memory_space == other.memory_space and self.kind == other.kind)

  def __hash__(self):
    return hash((self.inner_aval, self.memory_space, self.kind))


class Ref:
  """A mutable array reference (see the module docstring for what works where)."""
  __slots__ = ("_value", "_aval", "_trace", "__weakref__")

  def __init__(self, value, aval: AbstractRef, trace):
    self._value = value
    self._aval = aval
    self._trace = trace  # the trace the Ref was created on

  # No ``aval`` (JAX's Ref has one): pyjax takes anything with an aval for an array.
  shape = property(lambda self: self._aval.shape)
  dtype = property(lambda self: self._aval.dtype)
  ndim = property(lambda self: self._aval.ndim)
  size = property(lambda self: self._aval.size)

  def __len__(self):
    if not self._aval.shape:
      raise TypeError("len() of unsized object")
    return self._aval.shape[0]

  def __getitem__(self, idx):
    return get(self, idx)

  def __setitem__(self, idx, value):
    set(self, idx, value)

  def addupdate(self, x, idx=()):
    addupdate(self, idx, x)

  @property
  def at(self):
    raise NotImplementedError("Ref.at is not supported (nor is it in JAX); index the "
                              "Ref directly: ref[idx] = value.")

  @property
  def sharding(self):
    return self._value.sharding

  committed = property(lambda self: True)

  def __repr__(self):
    return "Ref" + repr(self._value)[5:]

  def _not_a_jax_type_message(self, argname=None):
    """What core.get_aval and argument abstraction say of a Ref (the TypeError's)."""
    where = "" if argname is None else f" as argument {argname}"
    return (f"pyjax does not support passing a mutable array reference ({self._aval})"
            f"{where} into this transformation (only jit takes Refs); pass its value "
            "(ref[...]) and write the result back outside, or create the Ref inside the "
            "function.")


def _asarray(x):
  return x if isinstance(x, Tracer) else asarray_value(x)


def returned_ref_error(x, dbg) -> ValueError | None:
  """JAX's error for a staged function (jit) that returns a Ref, else None."""
  if not isinstance(x, Ref):
    return None
  src = getattr(dbg, "func_src_info", None) or "function"
  return ValueError(f"function {src} traced for {getattr(dbg, 'traced_for', 'jit')} "
                    f"returned a mutable array reference of type {x._aval}, but mutable "
                    "array references cannot be returned.")


def _staging_between(trace, outer) -> core.Trace | None:
  """The first staging trace met going out from ``trace`` to ``outer`` (exclusive),
  or None. A linearize trace is not one: its known values are computed eagerly."""
  t = trace
  while t is not None and t is not outer:
    if (isinstance(t, partial_eval.DynamicJaxprTrace)
        and not isinstance(t, partial_eval.LinearizeTrace)):
      return t
    t = t.outer if isinstance(t, partial_eval.DynamicJaxprTrace) and t.parent is None \
        else t.parent
  return None


class ClosedRefs:
  """The Refs a jit trace closed over: each became an input of the trace (its value at
  call time) and a proxy Ref on the trace that the function's reads and writes use."""

  def __init__(self, trace):
    self.trace = trace
    self.proxies: dict = {}  # id(Ref) -> (Ref, proxy Ref)

  def pairs(self) -> list:
    return list(self.proxies.values())


_closed_refs: dict = {}  # staging trace -> its ClosedRefs (while jit traces on it)


@contextlib.contextmanager
def functionalize_closed_refs(trace, preset=()):
  """While a function is traced on ``trace``: the Refs it closes over become inputs (see
  ClosedRefs), or use the given ``preset`` (Ref, proxy) pairs."""
  prev = _closed_refs.get(trace)  # (a loop's carried Refs nest inside its probe)
  env = _closed_refs[trace] = ClosedRefs(trace)
  for r, proxy in preset:
    env.proxies[id(r)] = (r, proxy)
  try:
    yield env
  finally:
    if prev is None:
      del _closed_refs[trace]
    else:
      _closed_refs[trace] = prev


def probe_closed_refs(fun):
  """``(probed, found)``: ``probed`` is ``fun`` noting in ``found`` the Refs it closes over
  when a loop or branch traces it (their uses then go to throwaway proxies)."""
  found: list = []

  def probed(*args):
    with functionalize_closed_refs(core.find_cur_trace()) as env:
      out = fun(*args)
    for r, _ in env.pairs():
      if not any(r is f for f in found):
        found.append(r)
    return out
  return probed, found


def with_ref_values(fun, refs):
  """``fun`` taking the values of the closed-over ``refs`` as an extra last argument and
  returning ``(output, their final values)``: its reads and writes of them go to Refs
  over those values (how loops and branches carry Refs)."""
  def wrapped(*args):
    *args, vals = args
    trace = core.find_cur_trace()
    proxies = [Ref(v, r._aval, trace) for r, v in zip(refs, vals)]
    with functionalize_closed_refs(trace, zip(refs, proxies)) as env:
      out = fun(*args)
    if len(env.proxies) != len(refs):
      raise NotImplementedError("pyjax: a loop or branch body closed over different Refs "
                                "when traced again.")
    return out, [p._value for p in proxies]
  return wrapped


def _resolve(ref: Ref, op: str) -> Ref:
  """The Ref to operate on: ``ref``, or its proxy on the jit trace that closes over it."""
  staging = _staging_between(core.find_cur_trace(), ref._trace)
  if staging is None:
    return ref
  env = _closed_refs.get(staging)
  if env is None:
    raise NotImplementedError(
        f"pyjax cannot {op} a mutable array reference ({ref._aval}) created outside the "
        "function being staged (make_jaxpr, ...): pyjax's jaxprs have no state effects "
        "(jit, loops and branches pass closed-over Refs in and out). Pass its value "
        "(ref[...]) in as an argument and write the result back outside, or create the "
        "Ref inside the function.")
  hit = env.proxies.get(id(ref))
  if hit is None:
    proxy = Ref(staging.new_arg(ref._aval.inner_aval), ref._aval, staging)
    hit = env.proxies[id(ref)] = (ref, proxy)
  return hit[1]


def _is_inner(x, ref: Ref) -> bool:
  """Is ``x`` a tracer of a trace nested inside the one ``ref`` was created on?"""
  if not isinstance(x, Tracer) or x._trace is ref._trace:
    return False
  t = x._trace
  while t is not None:
    if t is ref._trace:
      return True
    t = t.outer if isinstance(t, partial_eval.DynamicJaxprTrace) and t.parent is None \
        else t.parent
  return False


def _strip_inner(x, ref: Ref, what: str):
  """``x`` with the tracers of traces inside ``ref``'s peeled off where that loses
  nothing, else JAX's error for writing a vmapped or differentiated value."""
  while _is_inner(x, ref):
    if isinstance(x, batching.BatchTracer):
      if x.batch_dim is not None:
        raise Exception(f"performing {what} operation with vmapped value on an unbatched "
                        f"array reference of type {ref._aval}. Move the array reference "
                        "to be an argument to the vmapped function?")
      x = x.val
    elif isinstance(x, ad.JVPTracer):
      if not isinstance(x.tangent, ad.Zero) and ref._aval.kind != "no_grad_no_remat":
        raise Exception("performing a set/swap operation with a differentiated value on "
                        "a non-differentiated array reference of type "
                        f"{ref._aval}. Move the array reference to be an argument of the "
                        "differentiated function?")
      x = x.primal
    else:
      break
  return x


def _whole(idx) -> bool:
  return (idx is None or idx is Ellipsis
          or (type(idx) is tuple and (not idx or (len(idx) == 1 and idx[0] is Ellipsis))))


def _read(ref: Ref, idx):
  return ref._value if _whole(idx) else ref._value[idx]


def _checked_value(ref: Ref, idx, value, name: str):
  """``value`` as an array of exactly ``ref[idx]``'s shape and dtype (JAX's checks)."""
  value = _asarray(value)
  expected = core.get_aval(_read(ref, idx))
  got = core.get_aval(value)
  transforms = "()" if _whole(idx) else f"(NDIndexer({idx!r}),)"
  if expected.shape != got.shape:
    raise ValueError(f"Invalid shape for `{name}`. Ref shape: {ref.shape}. Expected "
                     f"shape: {expected.shape}. Value shape: {got.shape}. Transforms: "
                     f"{transforms}. ")
  if expected.dtype != got.dtype:
    if name == "addupdate":
      raise ValueError(f"Invalid dtype for `addupdate`. Ref dtype: {ref.dtype}. "
                       f"Value shape: {got.dtype}. ")
    raise ValueError(f"Invalid dtype for `{name}`. Ref dtype: {expected.dtype}. Value "
                     f"dtype: {got.dtype}. ")
  return value


def _write(ref: Ref, idx, value):
  new = value if _whole(idx) else ref._value.at[idx].set(value)
  if core.get_aval(new).weak_type:  # a written buffer is strongly typed, as in JAX
    new = lax.convert_element_type(new, ref.dtype)
  ref._value = new


def _check_ref(ref, fn):
  if not isinstance(ref, Ref):
    raise TypeError(f"{fn} expects a mutable array reference (jax.Ref), got "
                    f"{type(ref).__name__}.")


def get(ref: Ref, idx=None):
  """``ref[idx]``: a copy of the indexed part of the held array."""
  _check_ref(ref, "ref_get")
  return _read(_resolve(ref, "read"), idx)


def swap(ref: Ref, idx, value, _function_name: str = "ref_swap"):
  """Stores ``value`` at ``ref[idx]`` and returns what was there."""
  _check_ref(ref, _function_name)
  ref = _resolve(ref, "write")
  value = _checked_value(ref, idx, value, "swap")
  value = _strip_inner(value, ref, "a set/swap")
  old = _read(ref, idx)
  _write(ref, idx, value)
  return old


def set(ref: Ref, idx, value) -> None:  # noqa: A001 (JAX's name, jax.ref.set)
  """``ref[idx] = value``."""
  swap(ref, idx, value, "ref_set")


def addupdate(ref: Ref, idx, x) -> None:
  """``ref[idx] += x``."""
  _check_ref(ref, "ref_addupdate")
  ref = _resolve(ref, "write")
  x = _checked_value(ref, idx, x, "addupdate")
  x = _strip_inner(x, ref, "an addupdate")
  _write(ref, idx, _read(ref, idx) + x)


def new_ref(init_val, *, memory_space=None, kind=None) -> Ref:
  """A new Ref holding ``init_val`` (an array or scalar; not a list)."""
  if isinstance(init_val, Ref) or not core.is_valid_jaxtype(init_val):
    raise TypeError("Error interpreting argument to new_ref as a JAX value. The "
                    f"problematic value is of type {type(init_val)} and was passed to "
                    "new_ref at position 0.\n")
  value = _asarray(init_val)  # arrays are immutable: writes replace it
  aval = AbstractRef(core.get_aval(value), memory_space, kind)
  return Ref(value, aval, core.find_cur_trace())


def local_ref(value, aval: AbstractRef) -> Ref:
  """A Ref of type ``aval`` over ``value`` on the current trace (jit's Ref arguments)."""
  return Ref(value, aval, core.find_cur_trace())


def empty_ref(ty, memory_space=None) -> Ref:
  """A Ref of type ``ty`` (a ShapedArray or ShapeDtypeStruct), zero-filled."""
  shape, dtype = tuple(ty.shape), ty.dtype
  if isinstance(dtype, dtypes.ExtendedDType):
    raise NotImplementedError(f"empty_ref of {dtype} is not supported by pyjax.")
  value = lax.full(shape, 0, dtype)
  aval = AbstractRef(ShapedArray(shape, value.dtype), memory_space)
  return Ref(value, aval, core.find_cur_trace())


def freeze(ref: Ref):
  """The held array (the Ref stays readable, as in JAX's eager mode)."""
  _check_ref(ref, "freeze")
  return _resolve(ref, "read")._value


def free_ref(ref: Ref):
  """Releases the Ref: a no-op here (the array is freed when unreferenced)."""
  _check_ref(ref, "free_ref")
  return ()

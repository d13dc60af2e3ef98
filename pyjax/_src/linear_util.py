"""Wrapped functions with stacked transformations (JAX's ``linear_util``).

A ``WrappedFun`` holds a function and the transformations applied to it; calling
``call_wrapped`` runs the transformed function. A transformation is a function
``gen(f, *static_args, *args, **kwargs)`` that calls ``f`` (``transformation2``), with
a store for an auxiliary output (``transformation_with_aux2``: read the store through
the returned thunk after the call). The generator-based forms (``transformation``,
``transformation_with_aux``) are JAX's older spelling. pyjax's own transformations do
not use this module: it is the form JAX-extending libraries write against.
"""
from __future__ import annotations

import functools
import weakref
from typing import Any, Callable

__all__ = ["StoreException", "Store", "EqualStore", "WrappedFun", "wrap_init",
           "transformation", "transformation2", "transformation_with_aux",
           "transformation_with_aux2", "cache", "merge_linear_aux"]


class StoreException(Exception):
  pass


_EMPTY = object()


class Store:
  """One value, stored once."""
  __slots__ = ("_val",)

  def __init__(self):
    self._val = _EMPTY

  def store(self, val):
    if self._val is not _EMPTY:
      raise StoreException("Store occupied")
    self._val = val

  def reset(self):
    self._val = _EMPTY

  @property
  def val(self):
    if self._val is _EMPTY:
      raise StoreException("Store empty")
    return self._val

  def __bool__(self):
    return self._val is not _EMPTY


class EqualStore(Store):
  """A store that accepts a second, equal value."""
  __slots__ = ()

  def store(self, val):
    if self._val is _EMPTY:
      self._val = val
      return
    try:
      ok = bool(self._val == val)
    except Exception:
      raise StoreException("Store occupied") from None
    if not ok:
      raise StoreException("Store occupied with not-equal value")


def _fun_name(f, default="<unnamed function>") -> str:
  if isinstance(f, functools.partial):
    return _fun_name(f.func, default)
  return getattr(f, "__name__", default)


class WrappedFun:
  """``f`` with ``transforms`` applied (``f_transformed``), their ``stores``, keyword
  ``params`` and ``debug_info``."""
  __slots__ = ("f", "f_transformed", "transforms", "stores", "params", "in_type",
               "debug_info", "__weakref__")

  def __init__(self, f, f_transformed, transforms, stores, params, in_type, debug_info):
    self.f = f
    self.f_transformed = f_transformed
    self.transforms = transforms
    self.stores = stores
    self.params = params
    self.in_type = in_type
    self.debug_info = debug_info

  @property
  def __name__(self):
    return _fun_name(self.f, "<unnamed wrapped function>")

  def wrap(self, gen, gen_static_args, out_store) -> "WrappedFun":
    """This function with one more transformation (and its store, or None)."""
    lead = (self.f_transformed,) if out_store is None else (self.f_transformed, out_store)
    return WrappedFun(self.f, functools.partial(gen, *lead, *gen_static_args),
                      ((gen, gen_static_args),) + self.transforms,
                      (out_store,) + self.stores, self.params, None, self.debug_info)

  def populate_stores(self, stores):
    for mine, other in zip(self.stores, stores):
      if mine is not None:
        mine.store(other.val)

  def call_wrapped(self, *args, **kwargs):
    return self.f_transformed(*args, **kwargs)

  def replace_debug_info(self, debug_info) -> "WrappedFun":
    return WrappedFun(self.f, self.f_transformed, self.transforms, self.stores,
                      self.params, self.in_type, debug_info)

  def __repr__(self):
    stack = "\n".join(f"{i}   : {_fun_name(g)}   {a}"
                      for i, (g, a) in enumerate(self.transforms))
    return f"Wrapped function:\n{stack}\nCore: {_fun_name(self.f)}\n"

  def __hash__(self):
    return hash((self.f, self.transforms, self.params))

  def __eq__(self, other):
    return (isinstance(other, WrappedFun) and self.f == other.f
            and self.transforms == other.transforms and self.params == other.params)


def wrap_init(f: Callable, params=None, *, debug_info=None) -> WrappedFun:
  """``f`` as a WrappedFun; ``params`` are keyword arguments it is always called with."""
  params_dict = {} if params is None else dict(params)
  return WrappedFun(f, functools.partial(f, **params_dict), (), (),
                    tuple(sorted(params_dict.items())), None, debug_info)


def _curry(f):
  return functools.partial(functools.partial, f)


@_curry
def transformation2(gen, fun: WrappedFun, *gen_static_args) -> WrappedFun:
  """``fun`` with ``gen(f, *gen_static_args, *args, **kwargs)`` applied."""
  return fun.wrap(gen, gen_static_args, None)


@_curry
def transformation_with_aux2(gen, fun: WrappedFun, *gen_static_args,
                             use_eq_store: bool = False, unk_names: bool = False):
  """``(fun transformed, thunk)``: ``gen(f, store, *gen_static_args, *args)`` may put
  one auxiliary value in ``store``; the thunk reads it after a call."""
  del unk_names
  store = EqualStore() if use_eq_store else Store()
  return fun.wrap(gen, gen_static_args, store), lambda: store.val


@_curry
def transformation(gen, fun: WrappedFun, *gen_static_args) -> WrappedFun:
  """The generator form: ``gen(*gen_static_args, *args)`` yields ``(args, kwargs)`` for
  the wrapped function, receives its result and yields the transformed result."""
  def gen2(f, *args, **kwargs):
    it = gen(*args, **kwargs)
    args_, kwargs_ = next(it)
    return it.send(f(*args_, **kwargs_))
  return fun.wrap(gen2, gen_static_args, None)


@_curry
def transformation_with_aux(gen, fun: WrappedFun, *gen_static_args):
  """The generator form with an auxiliary output: the generator's last yield is
  ``(result, aux)``."""
  def gen2(f, store, *args, **kwargs):
    it = gen(*args, **kwargs)
    args_, kwargs_ = next(it)
    ans, aux = it.send(f(*args_, **kwargs_))
    store.store(aux)
    return ans
  store = Store()
  return fun.wrap(gen2, gen_static_args, store), lambda: store.val


def cache(call: Callable, *, explain=None):
  """Memoizes ``call(fun: WrappedFun, *args)`` on the function, its transformations,
  params and ``args`` (hashable); a hit refills ``fun``'s stores."""
  del explain
  caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

  def memoized(fun: WrappedFun, *args):
    try:
      table = caches.setdefault(fun.f, {})
    except TypeError:  # (f not weakly referenceable: no caching)
      return call(fun, *args)
    key = (fun.transforms, fun.params, fun.in_type, args)
    hit = table.get(key)
    if hit is not None:
      ans, stores = hit
      fun.populate_stores(stores)
      return ans
    ans = call(fun, *args)
    table[key] = (ans, fun.stores)
    return ans

  memoized.cache_clear = caches.clear
  memoized.evict_function = lambda f: caches.pop(f, None)
  return memoized


def merge_linear_aux(aux1, aux2) -> tuple[bool, Any]:
  """``(True, aux1())`` if the first store is filled, else ``(False, aux2())``; exactly
  one of the two must be."""
  try:
    out1 = aux1()
  except StoreException:
    try:
      return False, aux2()
    except StoreException:
      raise StoreException("neither store occupied") from None
  try:
    aux2()
  except StoreException:
    return True, out1
  raise StoreException("both stores occupied")

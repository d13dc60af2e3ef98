"""Small helpers below core: the host memory an array may take, and the list and
function helpers of JAX's `jax._src.util` that libraries import (safe_zip, safe_map,
unzip2, split_list, ...), `cache`/`memoize` and `weakref_lru_cache`. Not here: the
jaxlib C++ helpers (Mutex, use_cpp_class)."""
from __future__ import annotations

import functools
import itertools
import operator
import os
import weakref
from collections import OrderedDict
from typing import Any, Callable, Iterable, Sequence, TypeVar

from pyjax._src.config import config
from pyjax._src.errors import out_of_memory

_limit: int | None = None


def host_memory_limit() -> int:
  """Bytes of host memory this process may get: physical memory plus swap, or the
  cgroup's limit when lower (read once)."""
  global _limit
  if _limit is None:
    try:
      total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
      total = 1 << 62  # unknown: no limit
    try:
      with open("/proc/meminfo") as f:
        for line in f:
          if line.startswith("SwapTotal:"):
            total += int(line.split()[1]) * 1024
    except (OSError, ValueError):
      pass
    try:
      with open("/sys/fs/cgroup/memory.max") as f:
        cg = f.read().strip()
      if cg.isdigit():
        total = min(total, int(cg))
    except OSError:
      pass
    _limit = total
  return _limit


def check_allocation(nbytes: int) -> None:
  """Raises JAX's out-of-memory error (RESOURCE_EXHAUSTED) for an array of ``nbytes``
  that cannot fit in host memory. NumPy makes broadcasts as views and Linux maps pages
  lazily, so such an array would otherwise appear at once and fail (or crawl) later."""
  if nbytes > host_memory_limit():
    raise out_of_memory(nbytes)


# ---------------------------------------------------------------- jax._src.util's helpers

T = TypeVar("T")


_blas = None  # (set_num_threads, get_num_threads) of NumPy's OpenBLAS, () if not found


def _find_blas():
  global _blas
  _blas = ()
  try:
    import ctypes
    with open("/proc/self/maps") as f:
      paths = {line.split()[-1] for line in f if "openblas" in line and "/" in line}
    for path in sorted(paths):
      lib = ctypes.CDLL(path)
      for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""),
                             ("openblas_", "64_"), ("openblas_", "")):
        set_ = getattr(lib, f"{prefix}set_num_threads{suffix}", None)
        get = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
        if set_ is not None and get is not None:
          _blas = (set_, get)
          return
  except (OSError, ImportError):
    pass


class one_blas_thread:
  """Runs NumPy's matrix products (OpenBLAS) on one thread inside the block: jit's eager
  tier while IREE compiles on the other cores (two BLAS threads whose partner is
  descheduled spin: matmuls were 10-50x slower). Does nothing where OpenBLAS is not
  found (another BLAS, not Linux)."""
  __slots__ = ("prev",)

  def __enter__(self):
    if _blas is None:
      _find_blas()
    self.prev = None
    if _blas:
      self.prev = _blas[1]()
      if self.prev != 1:
        _blas[0](1)

  def __exit__(self, *exc):
    if self.prev is not None and self.prev != 1:
      _blas[0](self.prev)


def safe_zip(*args) -> list[tuple]:
  """``zip`` as a list, with JAX's ValueError when the lengths differ."""
  if not args:
    raise TypeError("safe_zip requires at least 1 argument")
  args = [a if isinstance(a, (list, tuple)) else list(a) for a in args]
  n = len(args[0])
  for i, a in enumerate(args):
    if len(a) != n:
      raise ValueError(f"safe_zip() argument {i} has length {len(a)} but argument 0 "
                       f"has length {n}. All lengths: {tuple(len(b) for b in args)}")
  return list(zip(*args))


def safe_map(f: Callable[..., T], *args) -> list[T]:
  """``map`` as a list, with JAX's ValueError when the lengths differ."""
  if not args:
    raise TypeError("safe_map requires at least 2 arguments")
  args = [a if isinstance(a, (list, tuple)) else list(a) for a in args]
  n = len(args[0])
  for i, a in enumerate(args[1:], 2):
    if len(a) != n:
      how = "longer" if len(a) > n else "shorter"
      raise ValueError(f"safe_map() argument {i} is {how} than argument 1")
  return list(map(f, *args))


def foreach(f: Callable[..., Any], *args) -> None:
  safe_map(f, *args)


def unzip2(xys: Iterable[tuple]) -> tuple[tuple, tuple]:
  """Sequence of pairs -> pair of tuples."""
  xs, ys = [], []
  for x, y in xys:
    xs.append(x)
    ys.append(y)
  return tuple(xs), tuple(ys)


def unzip3(xyzs: Iterable[tuple]) -> tuple[tuple, tuple, tuple]:
  """Sequence of triples -> triple of tuples."""
  xs, ys, zs = [], [], []
  for x, y, z in xyzs:
    xs.append(x)
    ys.append(y)
    zs.append(z)
  return tuple(xs), tuple(ys), tuple(zs)


def subvals(lst: Sequence[T], replace: Iterable[tuple[int, T]]) -> tuple[T, ...]:
  lst = list(lst)
  for i, v in replace:
    lst[i] = v
  return tuple(lst)


def split_list(args: Sequence[T], ns: Sequence[int]) -> list[list[T]]:
  """``args`` cut into pieces of lengths ``ns``, then the rest."""
  args = list(args)
  lists = []
  for n in ns:
    lists.append(args[:n])
    args = args[n:]
  lists.append(args)
  return lists


def split_list_checked(args: Sequence[T], ns: Sequence[int]) -> list[list[T]]:
  args = list(args)
  assert sum(ns) == len(args) and all(n >= 0 for n in ns)
  return split_list(args, ns)[:-1]


def partition_list(bs: Sequence[bool], lst: Sequence[T]) -> tuple[list[T], list[T]]:
  """(the items where ``bs`` is False, those where it is True)."""
  assert len(bs) == len(lst)
  lists: tuple[list[T], list[T]] = ([], [])
  for b, x in zip(bs, lst):
    lists[b].append(x)
  return lists


def merge_lists(bs: Sequence[bool], l0: Sequence[T], l1: Sequence[T]) -> list[T]:
  """The inverse of ``partition_list``."""
  assert sum(bs) == len(l1) and len(bs) - sum(bs) == len(l0)
  i0, i1 = iter(l0), iter(l1)
  return [next(i1) if b else next(i0) for b in bs]


def concatenate(xs: Iterable[Sequence[T]]) -> list[T]:
  return list(itertools.chain.from_iterable(xs))


flatten = concatenate


def unflatten(xs: Iterable[T], ns: Sequence[int]) -> list[list[T]]:
  """``xs`` cut into pieces of lengths ``ns`` (which must use all of it)."""
  it = iter(xs)
  out = [[next(it) for _ in range(n)] for n in ns]
  done = object()
  assert next(it, done) is done
  return out


def fun_name(fun: Callable, default_name: str = "<unnamed function>") -> str:
  name = getattr(fun, "__name__", None)
  if name is not None:
    return name
  if isinstance(fun, functools.partial):
    return fun_name(fun.func)
  return default_name


def fun_qual_name(fun: Callable) -> str:
  name = getattr(fun, "__qualname__", None)
  if name is not None:
    return name
  if isinstance(fun, functools.partial):
    return fun_qual_name(fun.func)
  return fun_name(fun)


def wraps(wrapped: Callable, namestr: str | None = None, docstr: str | None = None,
          **kwargs) -> Callable[[T], T]:
  """``functools.wraps`` with JAX's ``namestr``/``docstr`` templates."""
  def wrapper(fun):
    try:
      name = fun_name(wrapped)
      doc = getattr(wrapped, "__doc__", "") or ""
      fun.__dict__.update(getattr(wrapped, "__dict__", {}))
      fun.__annotations__ = getattr(wrapped, "__annotations__", {})
      fun.__name__ = name if namestr is None else namestr.format(fun=name)
      fun.__module__ = getattr(wrapped, "__module__", "<unknown module>")
      fun.__doc__ = doc if docstr is None else docstr.format(fun=name, doc=doc, **kwargs)
      fun.__qualname__ = getattr(wrapped, "__qualname__", fun.__name__)
      fun.__wrapped__ = wrapped
    except Exception:  # noqa: BLE001 -- as JAX: a builtin cannot take these attributes
      pass
    return fun
  return wrapper


def curry(f):
  """``curry(f)(*a)(*b) == f(*a, *b)``."""
  return wraps(f)(functools.partial(functools.partial, f))


def canonicalize_axis(axis, num_dims: int) -> int:
  """An axis in [-num_dims, num_dims) as one in [0, num_dims)."""
  axis = operator.index(axis)
  if not -num_dims <= axis < num_dims:
    raise ValueError(f"axis {axis} is out of bounds for array of dimension {num_dims}")
  return axis + num_dims if axis < 0 else axis


def ceil_of_ratio(x: int, y: int) -> int:
  return -(-x // y)


def tuple_insert(t: tuple, idx: int, val) -> tuple:
  assert 0 <= idx <= len(t), (idx, len(t))
  return t[:idx] + (val,) + t[idx:]


def tuple_delete(t: tuple, idx: int) -> tuple:
  assert 0 <= idx < len(t), (idx, len(t))
  return t[:idx] + t[idx + 1:]


def tuple_update(t: tuple, idx: int, val) -> tuple:
  assert 0 <= idx < len(t), (idx, len(t))
  return t[:idx] + (val,) + t[idx + 1:]


def cache(max_size: int | None = 4096, trace_context_in_key=True):
  """``functools.lru_cache``; with ``trace_context_in_key`` the key holds the x64 flag
  (pyjax's only trace context) or, if it is callable, what it returns."""
  if not trace_context_in_key:
    return functools.lru_cache(maxsize=max_size)
  context = (trace_context_in_key if callable(trace_context_in_key)
             else lambda: config.jax_enable_x64)

  def wrap(f):
    @functools.lru_cache(maxsize=max_size)
    def cached(_, *args, **kwargs):
      return f(*args, **kwargs)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
      return cached(context(), *args, **kwargs)

    wrapper.cache_clear = cached.cache_clear
    wrapper.cache_info = cached.cache_info
    return wrapper
  return wrap


memoize = cache(max_size=None)


class WeakrefLRUCacheInfo:
  """The counts of a `WeakrefLRUCache` (attributes, not a tuple: as JAX's)."""
  __slots__ = ("hits", "misses", "maxsize", "currsize")

  def __init__(self, hits, misses, maxsize, currsize):
    self.hits, self.misses, self.maxsize, self.currsize = hits, misses, maxsize, currsize

  def __repr__(self):
    return (f"WeakrefLRUCache(hits={self.hits}, misses={self.misses}, "
            f"maxsize={self.maxsize}, currsize={self.currsize})")


class WeakrefLRUCache:
  """``f`` cached on (its first argument, held weakly and matched by ``==``, the trace
  context, the other arguments): an entry goes when the first argument it was made
  with dies, or as the least recently used beyond ``maxsize``. Unlike JAX's, one cache
  serves all threads."""

  def __init__(self, f, maxsize, trace_context_in_key):
    self._f, self._maxsize = f, maxsize
    self._context = ((lambda: (config.jax_enable_x64,)) if trace_context_in_key
                     else (lambda: ()))
    self._d: OrderedDict = OrderedDict()
    self._hits = self._misses = 0
    functools.update_wrapper(self, f)

  def __call__(self, weak_arg, *args, **kwargs):
    ref = weakref.ref(weak_arg)  # raises JAX's TypeError for int, str, ...
    key = (ref, self._context(), args, tuple(sorted(kwargs.items())))
    d = self._d
    try:
      out = d[key]
    except KeyError:
      pass
    else:
      self._hits += 1
      d.move_to_end(key)
      return out
    self._misses += 1
    out = self._f(weak_arg, *args, **kwargs)
    key = (weakref.ref(weak_arg, self._drop),) + key[1:]
    d[key] = out
    if self._maxsize is not None and len(d) > self._maxsize:
      d.popitem(last=False)
    return out

  def _drop(self, dead):
    for k in [k for k in self._d if k[0] is dead]:
      del self._d[k]

  def evict_weakref(self, obj) -> None:
    ref = weakref.ref(obj)
    for k in [k for k in self._d if k[0] == ref]:
      del self._d[k]

  def cache_keys(self) -> list:
    return [(k[0], k[1], k[2], dict(k[3])) for k in self._d]

  def cache_info(self) -> WeakrefLRUCacheInfo:
    return WeakrefLRUCacheInfo(self._hits, self._misses, self._maxsize, len(self._d))

  def cache_clear(self) -> None:
    self._d.clear()
    self._hits = self._misses = 0


def weakref_lru_cache(f=None, *, maxsize: int | None = 2048,
                      trace_context_in_key: bool = True, explain=None):
  """JAX's LRU cache keyed weakly on the first argument (see `WeakrefLRUCache`);
  ``explain`` (cache-miss explanations) is accepted and unused."""
  if f is None:
    return lambda g: WeakrefLRUCache(g, maxsize, trace_context_in_key)
  return WeakrefLRUCache(f, maxsize, trace_context_in_key)


class HashableFunction:
  """A function compared and hashed by its code and an explicit ``closure``."""

  def __init__(self, f, closure):
    self.f = f
    self.closure = closure

  def __eq__(self, other):
    return (type(other) is HashableFunction and self.f.__code__ == other.f.__code__
            and self.closure == other.closure)

  def __hash__(self):
    return hash((self.f.__code__, self.closure))

  def __call__(self, *args, **kwargs):
    return self.f(*args, **kwargs)

  def __repr__(self):
    return f"<hashable {self.f.__name__} with closure={self.closure}>"


def as_hashable_function(closure):
  return lambda f: HashableFunction(f, closure)


class HashablePartial:
  """A partial application compared and hashed by code and arguments."""

  def __init__(self, f, *args, **kwargs):
    self.f, self.args, self.kwargs = f, args, kwargs

  def __eq__(self, other):
    return (type(other) is HashablePartial and self.f.__code__ == other.f.__code__
            and self.args == other.args and self.kwargs == other.kwargs)

  def __hash__(self):
    kwargs = tuple(sorted(self.kwargs.items(), key=lambda kv: kv[0]))
    return hash((self.f.__code__, self.args, kwargs))

  def __call__(self, *args, **kwargs):
    return self.f(*self.args, *args, **self.kwargs, **kwargs)


class Unhashable:
  __slots__ = ["val"]

  def __init__(self, val):
    self.val = val

  def __eq__(self, other):
    return self.val == other.val


class Hashable:
  __slots__ = ["val"]

  def __init__(self, val):
    self.val = val

  def __hash__(self):
    return hash(self.val)

  def __eq__(self, other):
    return self.val == other.val


class HashableWrapper:
  """``x``, hashed by value where it can be, else by identity."""

  def __init__(self, x):
    self.x = x
    try:
      self.hash = hash(x)
    except TypeError:
      self.hash = None

  def __hash__(self):
    return self.hash if self.hash is not None else id(self.x)

  def __eq__(self, other):
    if not isinstance(other, HashableWrapper):
      return False
    return self.x == other.x if self.hash is not None else self.x is other.x


class OrderedSet:
  """A set that iterates in insertion order."""

  def __init__(self):
    self.elts_set: set = set()
    self.elts_list: list = []

  def add(self, elt) -> None:
    if elt not in self.elts_set:
      self.elts_set.add(elt)
      self.elts_list.append(elt)

  def update(self, elts) -> None:
    for e in elts:
      self.add(e)

  def __iter__(self):
    return iter(self.elts_list)

  def __len__(self) -> int:
    return len(self.elts_list)

  def __contains__(self, elt) -> bool:
    return elt in self.elts_set


def stable_unique(it: Iterable[T]) -> Iterable[T]:
  return dict.fromkeys(it).keys()

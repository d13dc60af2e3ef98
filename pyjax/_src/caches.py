"""Bounded caches. No cache in pyjax may grow with the number of calls: each is keyed by
content over a bounded domain, bounded here, or holds its key weakly.

The operations are single C-level OrderedDict calls, safe under threads without a lock
(a race costs at worst a recomputation, never a wrong value); a weight-bounded cache
takes a lock to keep its total right.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict


def put_bounded(d: dict, key, value, max_size: int) -> None:
  """``d[key] = value``, dropping the oldest insertions beyond ``max_size``: a plain dict
  whose lookups stay as fast as a dict's (the oldest insertion goes first, not the least
  recently used)."""
  d[key] = value
  while len(d) > max_size:
    try:
      d.pop(next(iter(d)), None)
    except (StopIteration, RuntimeError):  # emptied or changed by another thread
      break


_all_caches: weakref.WeakSet = weakref.WeakSet()  # every LRUCache, for clear_all
_clear_fns: list = []


def register_clear(fn) -> None:
  """Registers ``fn()`` to run on ``clear_all`` (for caches that are not LRUCaches)."""
  _clear_fns.append(fn)


def clear_all() -> None:
  """Empties every in-memory cache (``jax.clear_caches``); the disk cache stays."""
  for c in list(_all_caches):
    c.clear()
  for fn in _clear_fns:
    fn()


class LRUCache:
  """At most ``max_size`` entries, or values whose ``weigh(value)`` sum to at most
  ``max_weight``; the least recently used go first."""

  def __init__(self, max_size: int, max_weight: int | None = None, weigh=None):
    _all_caches.add(self)
    self.max_size = max_size
    self.max_weight = max_weight
    self.weigh = weigh
    self.weight = 0
    self._d: OrderedDict = OrderedDict()
    self._lock = threading.Lock() if weigh is not None else None

  def get(self, key, default=None):
    d = self._d
    v = d.get(key, default)
    if v is not default:
      try:
        d.move_to_end(key)
      except KeyError:  # evicted by another thread meanwhile
        pass
    return v

  def __setitem__(self, key, value):
    if self._lock is None:
      d = self._d
      d[key] = value
      d.move_to_end(key)
      while len(d) > self.max_size:
        try:
          d.popitem(last=False)
        except KeyError:
          break
      return
    w = self.weigh(value)
    with self._lock:
      d = self._d
      old = d.pop(key, None)
      if old is not None:
        self.weight -= self.weigh(old)
      if w > self.max_weight:
        return  # larger than the whole cache: not kept
      d[key] = value
      self.weight += w
      while len(d) > self.max_size or self.weight > self.max_weight:
        _, old = d.popitem(last=False)
        self.weight -= self.weigh(old)

  def pop(self, key, default=None):
    if self._lock is None:
      return self._d.pop(key, default)
    with self._lock:
      v = self._d.pop(key, default)
      if v is not default:
        self.weight -= self.weigh(v)
      return v

  def __len__(self):
    return len(self._d)

  def __contains__(self, key):
    return key in self._d

  def clear(self):
    if self._lock is None:
      self._d.clear()
      return
    with self._lock:
      self._d.clear()
      self.weight = 0


class WeakLRUCache:
  """Values keyed by (an object held weakly, a hashable extra): an entry goes when its
  object dies, and beyond ``max_size`` entries the least recently used go first. The
  object is matched by identity."""

  def __init__(self, max_size: int):
    self._lru = LRUCache(max_size)

  def get(self, obj, extra=(), default=None):
    hit = self._lru.get((id(obj), extra))
    if hit is None or hit[0]() is not obj:  # (a dead object's id may be reused)
      return default
    return hit[1]

  def set(self, obj, extra, value) -> None:
    k = (id(obj), extra)
    d = self._lru._d

    def drop(ref):
      if (e := d.get(k)) is not None and e[0] is ref:
        d.pop(k, None)

    self._lru[k] = (weakref.ref(obj, drop), value)

  def __len__(self):
    return len(self._lru)

  def clear(self):
    self._lru.clear()

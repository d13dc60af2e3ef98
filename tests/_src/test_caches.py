"""caches: the bounded caches every pyjax cache is built on."""
from __future__ import annotations

import gc
import threading

from pyjax._src.caches import LRUCache, WeakLRUCache, put_bounded


def test_lru_evicts_least_recently_used():
  c = LRUCache(3)
  for k in "abc":
    c[k] = k.upper()
  assert c.get("a") == "A"  # now the most recent
  c["d"] = "D"
  assert "b" not in c and [c.get(k) for k in "acd"] == ["A", "C", "D"]
  assert c.get("b", 0) == 0 and len(c) == 3
  assert c.pop("a") == "A" and len(c) == 2


def test_lru_by_weight():
  c = LRUCache(100, max_weight=10, weigh=len)
  c["a"], c["b"] = b"xxxx", b"yyyy"
  c.get("a")
  c["c"] = b"zzzz"  # 12 > 10: the least recent ("b") goes
  assert "b" not in c and c.weight == 8
  c["big"] = b"x" * 11  # larger than the whole cache: not kept, nothing evicted
  assert "big" not in c and len(c) == 2
  c["a"] = b"x"  # replacing an entry re-weighs it
  assert c.weight == 5
  assert c.pop("c") == b"zzzz" and c.weight == 1


def test_put_bounded_drops_oldest_insertions():
  d = {}
  for i in range(10):
    put_bounded(d, i, i, 4)
  assert list(d) == [6, 7, 8, 9]


class _Obj:
  pass


def test_weak_lru_drops_entries_with_their_key_and_matches_identity():
  c = WeakLRUCache(8)
  objs = [_Obj() for _ in range(4)]
  for i, o in enumerate(objs):
    c.set(o, (), i)
    c.set(o, ("donated",), -i)
  assert len(c) == 8 and c.get(objs[2]) == 2 and c.get(objs[2], ("donated",)) == -2
  del objs[1:3]
  gc.collect()
  assert len(c) == 4
  assert c.get(_Obj()) is None  # a new object, maybe at a dead one's address: a miss
  c2 = WeakLRUCache(2)
  for o in objs:
    c2.set(o, (), 0)
  c2.set(_Obj(), (), 0)  # dies at once
  gc.collect()
  assert len(c2) == 1


def test_lru_is_consistent_under_threads():
  c = LRUCache(64)

  def work(t):
    for i in range(3000):
      k = (i * 7 + t) % 200
      v = c.get(k)
      assert v is None or v == k * 3
      c[k] = k * 3

  ts = [threading.Thread(target=work, args=(t,)) for t in range(4)]
  for t in ts:
    t.start()
  for t in ts:
    t.join()
  assert len(c) <= 64

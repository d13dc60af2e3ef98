"""pyjax._src.util: the host memory limit; an array that cannot fit raises JAX's
RESOURCE_EXHAUSTED error when it is made, eager or jitted (as XLA's allocator does); the
list and function helpers libraries import from jax._src.util, against JAX's."""
from __future__ import annotations

import numpy as np
import pytest

import pyjax
import pyjax.numpy as pnp
from pyjax._src import util
from util import enable_x64

BIG = (1 << 40,)  # 4 TiB of float32


def _cases(np_, jit):
  return {
      "zeros": lambda: np_.zeros(BIG),
      "ones": lambda: np_.ones(BIG),
      "full": lambda: np_.full(BIG, 2.0),
      "empty": lambda: np_.empty(BIG),
      "zeros_uint8": lambda: np_.zeros((1 << 45,), np.uint8),
      "arange_int": lambda: np_.arange(1 << 40),
      "arange_float": lambda: np_.arange(float(1 << 40)),
      "broadcast_to": lambda: np_.broadcast_to(1.0, BIG),
      "eye": lambda: np_.eye(1 << 21),
      "tile": lambda: np_.tile(np_.ones(4), 1 << 38),
      "jit_result": lambda: jit(lambda: np_.zeros(BIG))(),
      "jit_tile": lambda: jit(lambda x: np_.tile(x, 1 << 38))(np_.ones(4)),
  }


@pytest.mark.parametrize("name", sorted(_cases(pnp, pyjax.jit)))
def test_allocation_too_large_raises_resource_exhausted(name):
  jax = pytest.importorskip("jax")
  with pytest.raises(jax.errors.JaxRuntimeError) as want:
    _cases(jax.numpy, jax.jit)[name]()
  with pytest.raises(pyjax.errors.JaxRuntimeError) as got:
    _cases(pnp, pyjax.jit)[name]()
  assert str(got.value) == str(want.value)
  assert str(got.value).startswith("RESOURCE_EXHAUSTED: Out of memory allocating ")
  assert isinstance(got.value, RuntimeError)


def test_jit_intermediate_too_large_raises_before_compiling():
  """A value inside a program that cannot fit: JAX's error at the call (XLA may fuse
  this one away; IREE's compiler failed on it)."""
  f = pyjax.jit(lambda x: pnp.broadcast_to(x, BIG).sum())
  with pytest.raises(pyjax.errors.JaxRuntimeError,
                     match="^RESOURCE_EXHAUSTED: Out of memory allocating 4398046511104 "):
    f(1.0)
  g = pyjax.jit(lambda x: pyjax.lax.fori_loop(
      0, 2, lambda i, c: c + pnp.zeros(BIG)[:4], x))  # inside a loop body
  with pytest.raises(pyjax.errors.JaxRuntimeError, match="^RESOURCE_EXHAUSTED"):
    g(pnp.ones(4))


def test_limit_and_arrays_that_fit():
  limit = util.host_memory_limit()
  assert 1 << 28 < limit < 1 << 52
  util.check_allocation(limit)
  with pytest.raises(pyjax.errors.JaxRuntimeError):
    util.check_allocation(limit + 1)
  np.testing.assert_array_equal(pnp.zeros((3, 1 << 20)).sum(), 0.0)
  np.testing.assert_array_equal(pyjax.jit(lambda: pnp.arange(4.0) + pnp.ones(4))(),
                                [1.0, 2.0, 3.0, 4.0])
  assert pnp.arange(5.0, step=2).tolist() == [0.0, 2.0, 4.0]


# ---------------------------------------------------------------- jax._src.util's helpers

def _outcome(f, *args):
  try:
    return ("ok", f(*args))
  except Exception as e:  # noqa: BLE001 -- the error is the result compared
    return (type(e).__name__, str(e))


def test_list_helpers_match_jax():
  """The helpers libraries import from jax._src.util: JAX's results and errors."""
  jax = pytest.importorskip("jax")
  from jax._src import util as theirs
  del jax
  add = lambda *a: sum(a)
  cases = [
      ("safe_zip", ([1, 2], (3, 4))), ("safe_zip", ([1], [1, 2])),
      ("safe_zip", ([1, 2], [3])), ("safe_zip", ()), ("safe_zip", (range(2), [1, 2])),
      ("safe_map", (add, [1, 2], (3, 4))), ("safe_map", (add, [1], [1, 2])),
      ("safe_map", (add, [1, 2], [3])), ("safe_map", (add,)),
      ("unzip2", ([(1, 2), (3, 4)],)), ("unzip3", ([(1, 2, 3)],)),
      ("subvals", ([1, 2, 3], [(0, 9)])), ("split_list", ([1, 2, 3, 4], [1, 2])),
      ("split_list_checked", ([1, 2, 3], [1, 2])),
      ("partition_list", ([True, False, True], [1, 2, 3])),
      ("merge_lists", ([True, False, True], [2], [1, 3])),
      ("concatenate", ([[1], [2, 3]],)), ("flatten", ([[1], [2, 3]],)),
      ("unflatten", ([1, 2, 3], [1, 2])), ("canonicalize_axis", (-1, 3)),
      ("canonicalize_axis", (3, 3)), ("ceil_of_ratio", (7, 2)),
      ("tuple_insert", ((1, 2), 1, 9)), ("tuple_delete", ((1, 2), 0)),
      ("tuple_update", ((1, 2), 1, 9)), ("fun_name", (add,)),
  ]
  for name, args in cases:
    assert _outcome(getattr(util, name), *args) == _outcome(getattr(theirs, name), *args), \
        (name, args)
  f = lambda x, y, z: x * 100 + y * 10 + z
  assert util.curry(f)(1)(2, 3) == theirs.curry(f)(1)(2, 3) == 123
  assert list(util.stable_unique([3, 1, 3])) == list(theirs.stable_unique([3, 1, 3]))


def test_hashable_helpers_and_cache():
  def make(k):
    return util.HashableFunction(lambda x: x + k, closure=(k,))
  assert make(1) == make(1) and hash(make(1)) == hash(make(1)) and make(1) != make(2)
  assert make(2)(1) == 3
  p = util.HashablePartial(lambda a, b: a - b, 5)
  assert p == util.HashablePartial(p.f, 5) and p(2) == 3
  s = util.OrderedSet()
  s.update([3, 1, 3])
  assert list(s) == [3, 1] and 1 in s and len(s) == 2
  calls = []

  @util.cache()
  def sq(x):
    calls.append(x)
    return x * x
  assert sq(3) == sq(3) == 9 and calls == [3]
  with enable_x64(not pyjax.config.jax_enable_x64):
    sq(3)  # another trace context: computed again
  assert calls == [3, 3]

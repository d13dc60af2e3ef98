"""pyjax._src.util: the host memory limit; an array that cannot fit raises JAX's
RESOURCE_EXHAUSTED error when it is made, eager or jitted (as XLA's allocator does)."""
from __future__ import annotations

import numpy as np
import pytest

import pyjax
import pyjax.numpy as pnp
from pyjax._src import util

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

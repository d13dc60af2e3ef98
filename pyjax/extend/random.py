"""``jax.extend.random``: PRNG implementations and the threefry hash.

pyjax has one implementation, threefry2x32 (``threefry_prng_impl``). Not provided:
``define_prng_impl`` (user-defined implementations) and the ``rbg``/``unsafe_rbg``
implementations.
"""
from __future__ import annotations

from pyjax._src.prng import random_seed, threefry2x32_p, threefry_2x32, threefry_prng_impl

__all__ = ["random_seed", "seed_with_impl", "threefry2x32_p", "threefry_2x32",
           "threefry_prng_impl"]


def seed_with_impl(impl, seed):
  """A typed key of implementation ``impl`` from an integer ``seed``."""
  return random_seed(seed, impl=impl)

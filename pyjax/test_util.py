"""Test helpers (as jax.test_util)."""
from pyjax._src.public_test_util import check_grads, check_jvp, check_vjp

__all__ = ["check_grads", "check_jvp", "check_vjp"]

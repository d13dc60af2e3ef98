"""Compiled backends for jit (IREE)."""

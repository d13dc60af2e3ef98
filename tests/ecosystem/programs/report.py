"""Printing for the ecosystem programs: one line per result, read by the harness.

``exact(name, *values)`` lines must match JAX's output character for character (initial
weights, shapes, dtypes, messages); ``close(name, *values)`` lines are numbers compared
within the harness's tolerance (losses after training steps). Floats print as the
shortest repr of their float32 (or float64) value; arrays print their float64 sum and
sum of squares (a checksum of every element).
"""
import jax
import numpy as np


def _fmt(v):
  if isinstance(v, str):
    return v
  dtype = getattr(v, "dtype", None)
  if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
    return "key<" + _fmt(jax.random.key_data(v)) + ">"
  a = np.asarray(v)
  if a.dtype == object:
    return str(v)
  if a.ndim == 0:
    if a.dtype.kind == "f":
      return repr(float(a)) if a.dtype == np.float64 else repr(np.float32(a).item())
    return str(a.item())
  a64 = a.astype(np.float64)
  return f"{a.dtype}{list(a.shape)}:{float(a64.sum())!r}:{float((a64 * a64).sum())!r}"


def exact(name, *values):
  print("exact", name, *[_fmt(v) for v in values], flush=True)


def close(name, *values):
  print("close", name, *[_fmt(v) for v in values], flush=True)


def tree(name, t, kind=exact):
  """One line per leaf, in the pytree's order, named by the leaf's key path."""
  for path, leaf in jax.tree_util.tree_leaves_with_path(t):
    kind(name + jax.tree_util.keystr(path), leaf)

"""Shared test helpers: random inputs per dtype and per-dtype closeness checks."""
from __future__ import annotations

import contextlib
import sys

import ml_dtypes
import numpy as np

bfloat16 = np.dtype(ml_dtypes.bfloat16)

# (rtol, atol) per dtype. float32 allows a few ulps: XLA's transcendental
# approximations differ from NumPy's (libm) by up to ~2 ulps.
_TOL = {
    np.dtype(np.float16): (2e-3, 2e-3),
    bfloat16: (1.6e-2, 1.6e-2),
    np.dtype(np.float32): (2e-6, 1e-6),
    np.dtype(np.float64): (1e-13, 1e-14),
    np.dtype(np.complex64): (2e-6, 1e-6),
    np.dtype(np.complex128): (1e-13, 1e-14),
}


def tolerance(dtype, scale=1.0):
  rtol, atol = _TOL.get(np.dtype(dtype), (0.0, 0.0))
  return rtol * scale, atol * scale


def check_close(a, b, dtype=None, *, scale=1.0, rtol=None, atol=None, check_dtype=False,
                err_msg=""):
  """Asserts ``a`` and ``b`` are equal within ``dtype``'s tolerance (exact for
  integers and bools; NaNs must match positions). Lists and tuples compare leaf by
  leaf. ``rtol``/``atol`` replace the table's values (``rtol`` alone sets both);
  ``check_dtype`` also requires equal dtypes (ignored when ``dtype`` is given)."""
  if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
    assert isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)), (type(a), type(b))
    assert len(a) == len(b), f"{len(a)} != {len(b)} {err_msg}"
    for x, y in zip(a, b):
      check_close(x, y, dtype, scale=scale, rtol=rtol, atol=atol, check_dtype=check_dtype,
                  err_msg=err_msg)
    return
  a, b = np.asarray(a), np.asarray(b)
  assert a.shape == b.shape, f"shape {a.shape} != {b.shape} {err_msg}"
  if check_dtype and dtype is None:
    assert a.dtype == b.dtype, f"dtype {a.dtype} != {b.dtype} {err_msg}"
  dtype = np.dtype(dtype if dtype is not None else a.dtype)
  tr, ta = tolerance(dtype, scale)
  if rtol is not None:
    tr, ta = rtol, rtol if atol is None else atol
  elif atol is not None:
    ta = atol
  if dtype.kind in "fc" or dtype == bfloat16 or b.dtype.kind in "fc" or b.dtype == bfloat16:
    wide = np.complex128 if "c" in (dtype.kind, b.dtype.kind) else np.float64
    np.testing.assert_allclose(a.astype(wide), b.astype(wide), rtol=tr, atol=ta,
                               equal_nan=True, err_msg=err_msg)
  else:
    np.testing.assert_array_equal(a, b, err_msg=err_msg)


def special_mismatches(ref, got, rtol):
  """Flat indices where ``got`` differs from JAX's ``ref`` (same dtype and shape):
  integers exactly; complex numbers part by part; floats with NaN-ness, infinities and
  signs of zero exact and finite values within ``rtol`` (values below the smallest
  normal, which XLA flushes, count as zero)."""
  ref, got = np.asarray(ref), np.asarray(got)
  if ref.dtype.kind in "biu":
    return np.nonzero(np.ravel(ref != got))[0]
  if ref.dtype.kind == "c":
    return np.union1d(special_mismatches(ref.real.copy(), got.real.copy(), rtol),
                      special_mismatches(ref.imag.copy(), got.imag.copy(), rtol))
  r, g = ref.astype(np.float64).ravel(), got.astype(np.float64).ravel()
  tiny = float(ml_dtypes.finfo(ref.dtype).tiny)
  r = np.where(np.abs(r) < tiny, 0 * r, r)
  g = np.where(np.abs(g) < tiny, 0 * g, g)
  bad = np.isnan(r) != np.isnan(g)
  num = ~np.isnan(r) & ~np.isnan(g)
  inf = num & (np.isinf(r) | np.isinf(g))
  bad |= inf & (r != g)
  zero = num & (r == 0) & (g == 0)
  bad |= zero & (np.signbit(r) != np.signbit(g))
  fin = num & ~inf & ~zero
  bad |= fin & ~(np.abs(r - g) <= rtol * np.maximum(np.abs(r), 1))
  return np.nonzero(bad)[0]


def same_error_class(ours: type, theirs: type) -> bool:
  """Whether pyjax's exception class stands for JAX's: the same class, or NumPy's
  AxisError (both a ValueError and an IndexError) for an axis out of bounds, where JAX
  raises one or the other depending on the function."""
  return ours is theirs or (ours is np.exceptions.AxisError and
                            theirs in (ValueError, IndexError))


def rand(shape, dtype, rng, *, low=None, high=None, special=False):
  """Random NumPy array of ``dtype``. ``rng`` is a Generator or an int seed. Floats are
  uniform in [low, high) (default [-3, 3)), integers in [low, high] (default the
  dtype's range); ``special`` sprinkles in 0, -0, inf, -inf and NaN."""
  if not isinstance(rng, np.random.Generator):
    rng = np.random.default_rng(rng)
  dtype = np.dtype(dtype)
  shape = tuple(shape)
  if dtype == np.bool_:
    return rng.random(shape) < 0.5
  if dtype.kind in "iu":
    info = np.iinfo(dtype)
    lo = info.min if low is None else max(low, info.min)
    hi = info.max if high is None else min(high, info.max)
    lo, hi = max(lo, -(2 ** 62)), min(hi, 2 ** 62)
    return rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype)
  lo = -3.0 if low is None else low
  hi = 3.0 if high is None else high
  if dtype.kind == "c":
    v = rng.uniform(lo, hi, shape) + 1j * rng.uniform(lo, hi, shape)
  else:
    v = rng.uniform(lo, hi, shape)
  v = np.asarray(v).astype(dtype)
  if special and v.size:
    flat = v.reshape(-1)
    sp = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], np.float64).astype(dtype)
    idx = rng.choice(flat.size, size=min(flat.size, len(sp)), replace=False)
    flat[idx] = sp[:len(idx)]
  return v


@contextlib.contextmanager
def enable_x64(on=True):
  """Turns jax_enable_x64 on (or off) in pyjax and, when imported, real JAX (a JAX
  imported inside, by the oracle, starts with pyjax's flag and leaves with pyjax's)."""
  import pyjax
  jax = sys.modules.get("jax")
  old = pyjax.config.jax_enable_x64
  pyjax.config.update("jax_enable_x64", on)
  if jax is not None:
    jold = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", on)
  try:
    yield
  finally:
    pyjax.config.update("jax_enable_x64", old)
    if jax is not None:
      jax.config.update("jax_enable_x64", jold)
    elif "jax" in sys.modules:
      sys.modules["jax"].config.update("jax_enable_x64", old)


def norm_jaxpr(text: str) -> str:
  """Jaxpr text with line layout removed (JAX puts short jaxprs on one line,
  separating equations with '; ')."""
  import re
  t = re.sub(r"\s*\n\s*", " ", text)
  return re.sub(r"(?<!lambda );\s+(?=[a-z_]+:)", " ", t).replace("let  in", "let in")


def rand_matrix(rng, shape, dtype):
  """Normal random matrices (complex parts for complex dtypes)."""
  v = rng.normal(size=shape)
  if np.dtype(dtype).kind == "c":
    v = v + 1j * rng.normal(size=shape)
  return v.astype(dtype)


def rand_hpd(rng, shape, dtype):
  """Random Hermitian positive-definite matrices (well conditioned)."""
  a = rand_matrix(rng, shape, np.complex128 if np.dtype(dtype).kind == "c" else np.float64)
  n = shape[-1]
  return (a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)).astype(dtype)


def check_jax_dtype(ours, ref):
  """Result dtypes, weak types and shapes agree with real JAX's (leaf by leaf)."""
  ol = ours if isinstance(ours, (list, tuple)) else [ours]
  rl = ref if isinstance(ref, (list, tuple)) else [ref]
  assert len(ol) == len(rl)
  for o, r in zip(ol, rl):
    assert np.dtype(o.dtype) == np.dtype(r.dtype), (o.dtype, r.dtype)
    assert bool(getattr(o, "weak_type", False)) == bool(getattr(r, "weak_type", False)), (
        getattr(o, "weak_type", None), getattr(r, "weak_type", None))
    assert tuple(o.shape) == tuple(r.shape)


def traced(f, *args):
  """Runs ``f`` through make_jaxpr and evaluates the jaxpr (checks it is traceable)."""
  import pyjax
  tu = pyjax.tree_util
  flat, tree = tu.tree_flatten(args)

  def flat_f(*xs):
    return f(*tu.tree_unflatten(tree, xs))

  closed, shapes = pyjax.make_jaxpr(flat_f, return_shape=True)(*flat)
  return tu.tree_unflatten(tu.tree_structure(shapes), closed(*flat))


def square_sum_loss(f, m):
  """``sum(y * y) + sum(y)`` of ``y = f(m, *args)``, as a function of the args: a
  scalar with a non-uniform cotangent, for gradient tests of library functions (``m``:
  the module the function comes from, ours or JAX's)."""
  def loss(*args):
    y = f(m, *args)
    return (y * y).sum() + y.sum()
  return loss

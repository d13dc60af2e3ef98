"""Numerical checks of derivatives: ``check_grads`` compares ``jvp``/``vjp`` with
central finite differences, recursively to a given order (as jax.test_util)."""
from __future__ import annotations

import functools

import numpy as np

from pyjax._src import api, core, dtypes, tree_util
from pyjax._src.array import asarray_value

_EPS = {np.dtype(np.float16): 1e-2, dtypes.bfloat16: 1e-1, np.dtype(np.float32): 1e-3,
        np.dtype(np.float64): 1e-5, np.dtype(np.complex64): 1e-3,
        np.dtype(np.complex128): 1e-5}
_TOL = {np.dtype(np.float16): 5e-2, dtypes.bfloat16: 2e-1, np.dtype(np.float32): 2e-2,
        np.dtype(np.float64): 1e-5, np.dtype(np.complex64): 2e-2,
        np.dtype(np.complex128): 1e-5}


def _dtype(x):
  return core.get_aval(x).dtype


def _leaves_dtype(tree, table, default):
  vals = [table.get(_dtype(l), default) for l in tree_util.tree_leaves(tree)
          if _dtype(l).kind in "fc" or _dtype(l) == dtypes.bfloat16]
  return max(vals) if vals else default


def _check_close(x, y, atol, rtol, err_msg):
  for a, b in zip(tree_util.tree_leaves(x), tree_util.tree_leaves(y)):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype == dtypes.float0 or b.dtype == dtypes.float0:
      continue
    wide = np.complex128 if (a.dtype.kind == "c" or b.dtype.kind == "c") else np.float64
    np.testing.assert_allclose(a.astype(wide), b.astype(wide), atol=atol, rtol=rtol,
                               err_msg=err_msg)
  assert tree_util.tree_structure(x) == tree_util.tree_structure(y), err_msg


def _rand_like(rng, x):
  dt = _dtype(x)
  shape = core.get_aval(x).shape
  if dt.kind == "c":
    v = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
  elif dt.kind == "f" or dt == dtypes.bfloat16:
    v = rng.standard_normal(shape)
  else:
    return np.zeros(shape, dtypes.float0)
  return asarray_value(np.asarray(v).astype(dt))


def _add_scaled(x, t, s):
  if isinstance(t, np.ndarray) and t.dtype == dtypes.float0:
    return x
  return x + s * t


def numerical_jvp(f, primals, tangents, eps):
  """Central difference ``(f(x + eps t) - f(x - eps t)) / (2 eps)``."""
  plus = f(*tree_util.tree_map(lambda x, t: _add_scaled(x, t, eps), primals, tangents))
  minus = f(*tree_util.tree_map(lambda x, t: _add_scaled(x, t, -eps), primals, tangents))
  return tree_util.tree_map(
      lambda a, b: (np.asarray(a, np.complex128 if _dtype(a).kind == "c" else np.float64)
                    - np.asarray(b, np.complex128 if _dtype(b).kind == "c" else np.float64))
      / (2 * eps) if _dtype(a).kind in "fc" or _dtype(a) == dtypes.bfloat16
      else np.zeros(np.shape(a)), plus, minus)


def _inner(xs, ys):
  total = 0.0
  for x, y in zip(tree_util.tree_leaves(xs), tree_util.tree_leaves(ys)):
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype == dtypes.float0 or y.dtype == dtypes.float0:
      continue
    total = total + np.real(np.sum(np.conj(x.astype(np.complex128)) * y.astype(np.complex128)))
  return total


def check_jvp(f, f_jvp, args, atol=None, rtol=None, eps=None, err_msg=""):
  rng = np.random.default_rng(0)
  eps = eps or _leaves_dtype(args, _EPS, 1e-4)
  tol = _leaves_dtype(args, _TOL, 1e-5)
  atol, rtol = atol or tol, rtol or tol
  tangent = tree_util.tree_map(functools.partial(_rand_like, rng), args)
  v_out, t_out = f_jvp(args, tangent)
  _check_close(v_out, f(*args), atol, rtol, f"{err_msg} primal")
  t_expected = numerical_jvp(f, args, tangent, eps)
  _check_close(t_out, t_expected, atol, rtol, f"{err_msg} tangent")


def check_vjp(f, f_vjp, args, atol=None, rtol=None, eps=None, err_msg=""):
  rng = np.random.default_rng(1)
  eps = eps or _leaves_dtype(args, _EPS, 1e-4)
  tol = _leaves_dtype(args, _TOL, 1e-5)
  atol, rtol = atol or tol, rtol or tol
  v_out, vjpfun = f_vjp(*args)
  _check_close(v_out, f(*args), atol, rtol, f"{err_msg} primal")
  tangent = tree_util.tree_map(functools.partial(_rand_like, rng), args)
  tangent_out = numerical_jvp(f, args, tangent, eps)
  cotangent = tree_util.tree_map(functools.partial(_rand_like, rng), v_out)
  conj = lambda t: t if isinstance(t, np.ndarray) and t.dtype == dtypes.float0 else \
      (np.conj(np.asarray(t)) if _dtype(t).kind == "c" else t)
  ct_in = tree_util.tree_map(lambda c: c if isinstance(c, np.ndarray) else
                             asarray_value(np.asarray(conj(c))), cotangent)
  cotangent_out = tree_util.tree_map(lambda c: np.conj(np.asarray(c)), vjpfun(ct_in))
  ip = _inner(tangent, cotangent_out)
  ip_expected = _inner(tangent_out, cotangent)
  _check_close(ip, ip_expected, atol, rtol, f"{err_msg} VJP inner product")


def check_grads(f, args, order, modes=("fwd", "rev"), atol=None, rtol=None, eps=None):
  """Checks ``f``'s derivatives at ``args`` against finite differences up to ``order``."""
  modes = (modes,) if isinstance(modes, str) else tuple(modes)
  for m in modes:
    if m not in ("fwd", "rev"):
      raise ValueError(f"Unknown mode {m!r}: expected 'fwd' and/or 'rev'.")

  def _check(f, args, order, msg):
    if "fwd" in modes:
      fmsg = f"JVP of {msg}" if msg else "JVP"
      check_jvp(f, functools.partial(api.jvp, f), args, atol, rtol, eps, fmsg)
      if order > 1:
        _check(functools.partial(api.jvp, f), (args, args), order - 1, fmsg)
    if "rev" in modes:
      rmsg = f"VJP of {msg}" if msg else "VJP"
      check_vjp(f, functools.partial(api.vjp, f), args, atol, rtol, eps, rmsg)
      if order > 1:
        def f_vjp(*a):
          out, pullback = api.vjp(f, *a)
          return pullback(out)
        _check(f_vjp, args, order - 1, rmsg)

  _check(f, tuple(args), order, "")

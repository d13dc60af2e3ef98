"""``jax.scipy.sparse.linalg``: Krylov solvers (cg, bicgstab, gmres) on pytrees.

The same iterations as JAX's (a ``while_loop`` each, wrapped in ``custom_linear_solve``
so that gradients solve the transposed system). ``A`` and ``M`` are functions or square
matrices. As JAX's, ``cg``/``bicgstab`` return ``info=None`` (no convergence report);
``gmres`` returns 0, or -1 for a NaN result.
"""
from __future__ import annotations

import operator
from functools import partial

import numpy as np

from pyjax._src import dtypes
from pyjax._src.array import Array
from pyjax._src.lax import lax
from pyjax._src.lax.conversions import _convert_element_type
from pyjax._src.lax.control_flow import fori_loop, while_loop
from pyjax._src.lax.control_flow.solves import custom_linear_solve
from pyjax._src.lax.dot import Precision
from pyjax._src.numpy import array_creation, array_manipulation, tensor_contractions, ufuncs
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy.einsum import einsum
from pyjax._src.numpy.util import stack
from pyjax._src.scipy import linalg as jsp_linalg
from pyjax._src.tree_util import Partial, tree_leaves, tree_map, tree_reduce, tree_structure

__all__ = ["bicgstab", "cg", "gmres"]

_dot = partial(tensor_contractions.dot, precision=Precision.HIGHEST)
_vdot = partial(tensor_contractions.vdot, precision=Precision.HIGHEST)
_einsum = partial(einsum, precision=Precision.HIGHEST)


def _vdot_real_part(x, y):
  """Re <x, y> without complex products (for preconditioners and symmetric A)."""
  result = _vdot(ufuncs.real(x), ufuncs.real(y))
  if jnp.iscomplexobj(x) or jnp.iscomplexobj(y):
    result += _vdot(ufuncs.imag(x), ufuncs.imag(y))
  return result


def _vdot_real_tree(x, y):
  return sum(tree_leaves(tree_map(_vdot_real_part, x, y)))


def _vdot_tree(x, y):
  return sum(tree_leaves(tree_map(_vdot, x, y)))


def _norm(x):
  xs = tree_leaves(x)
  return ufuncs.sqrt(sum(map(_vdot_real_part, xs, xs)))


def _mul(scalar, tree):
  return tree_map(partial(operator.mul, scalar), tree)


_add = partial(tree_map, operator.add)
_sub = partial(tree_map, operator.sub)


@Partial
def _identity(x):
  return x


def _normalize_matvec(f):
  """A function computing ``f @ x`` (``f`` a function or a square matrix)."""
  if callable(f):
    return f
  if isinstance(f, (np.ndarray, Array)):
    if f.ndim != 2 or f.shape[0] != f.shape[1]:
      raise ValueError(f"linear operator must be a square matrix, but has shape: {f.shape}")
    return partial(_dot, f)
  if hasattr(f, "__matmul__"):
    if hasattr(f, "shape") and (len(f.shape) != 2 or f.shape[0] != f.shape[1]):
      raise ValueError(f"linear operator must be a square matrix, but has shape: {f.shape}")
    return partial(operator.matmul, f)
  raise TypeError(f"linear operator must be either a function or ndarray: {f}")


def _cg_solve(A, b, x0=None, *, maxiter, tol=1e-5, atol=0.0, M=_identity):
  bs = _vdot_real_tree(b, b)
  atol2 = ufuncs.maximum(ufuncs.square(tol) * bs, ufuncs.square(atol))

  def cond_fun(value):
    _, r, gamma, _, k = value
    rs = ufuncs.real(gamma) if M is _identity else _vdot_real_tree(r, r)
    return (rs > atol2) & (k < maxiter)

  def body_fun(value):
    x, r, gamma, p, k = value
    Ap = A(p)
    alpha = gamma / _vdot_real_tree(p, Ap).astype(dtype)
    x_ = _add(x, _mul(alpha, p))
    r_ = _sub(r, _mul(alpha, Ap))
    z_ = M(r_)
    gamma_ = _vdot_real_tree(r_, z_).astype(dtype)
    p_ = _add(z_, _mul(gamma_ / gamma, p))
    return x_, r_, gamma_, p_, k + 1

  r0 = _sub(b, A(x0))
  p0 = z0 = M(r0)
  dtype = dtypes.result_type(*tree_leaves(p0))
  gamma0 = _vdot_real_tree(r0, z0).astype(dtype)
  x_final, *_ = while_loop(cond_fun, body_fun, (x0, r0, gamma0, p0, 0))
  return x_final


def _bicgstab_solve(A, b, x0=None, *, maxiter, tol=1e-5, atol=0.0, M=_identity):
  bs = _vdot_real_tree(b, b)
  atol2 = ufuncs.maximum(ufuncs.square(tol) * bs, ufuncs.square(atol))

  def cond_fun(value):
    x, r, *_, k = value
    rs = _vdot_real_tree(r, r)
    # k < 0 flags a breakdown (rho, alpha or omega became 0).
    return (rs > atol2) & (k < maxiter) & (k >= 0)

  def body_fun(value):
    x, r, rhat, alpha, omega, rho, p, q, k = value
    rho_ = _vdot_tree(rhat, r)
    beta = rho_ / rho * alpha / omega
    p_ = _add(r, _mul(beta, _sub(p, _mul(omega, q))))
    phat = M(p_)
    q_ = A(phat)
    alpha_ = rho_ / _vdot_tree(rhat, q_)
    s = _sub(r, _mul(alpha_, q_))
    exit_early = _vdot_real_tree(s, s) < atol2
    shat = M(s)
    t = A(shat)
    omega_ = _vdot_tree(t, s) / _vdot_tree(t, t)
    x_ = tree_map(partial(jnp.where, exit_early), _add(x, _mul(alpha_, phat)),
                  _add(x, _add(_mul(alpha_, phat), _mul(omega_, shat))))
    r_ = tree_map(partial(jnp.where, exit_early), s, _sub(s, _mul(omega_, t)))
    k_ = jnp.where((omega_ == 0) | (alpha_ == 0), -11, k + 1)
    k_ = jnp.where(rho_ == 0, -10, k_)
    return x_, r_, rhat, alpha_, omega_, rho_, p_, q_, k_

  r0 = _sub(b, A(x0))
  rho0 = alpha0 = omega0 = _convert_element_type(
      1, *dtypes.lattice_result_type(*tree_leaves(b)))
  x_final, *_ = while_loop(cond_fun, body_fun,
                           (x0, r0, r0, alpha0, omega0, rho0, r0, r0, 0))
  return x_final


def _shapes(pytree):
  return [np.shape(x) for x in tree_leaves(pytree)]


def _isolve(solver, A, b, x0=None, *, tol=1e-5, atol=0.0, maxiter=None, M=None,
            check_symmetric=False):
  if x0 is None:
    x0 = tree_map(array_creation.zeros_like, b)
  b, x0 = tree_map(jnp.asarray, (b, x0))
  if maxiter is None:
    maxiter = 10 * sum(bi.size for bi in tree_leaves(b))
  M = _identity if M is None else M
  A = _normalize_matvec(A)
  M = _normalize_matvec(M)
  if tree_structure(x0) != tree_structure(b):
    raise ValueError(f"x0 and b must have matching tree structure: {tree_structure(x0)} vs "
                     f"{tree_structure(b)}")
  if _shapes(x0) != _shapes(b):
    raise ValueError(f"arrays in x0 and b must have matching shapes: {_shapes(x0)} vs "
                     f"{_shapes(b)}")
  solve = partial(solver, x0=x0, tol=tol, atol=atol, maxiter=maxiter, M=M)
  symmetric = (all(x.dtype.kind != "c" for x in tree_leaves(b)) if check_symmetric
               else False)
  x = custom_linear_solve(A, b, solve=solve, transpose_solve=solve, symmetric=symmetric)
  return x, None


def cg(A, b, x0=None, *, tol=1e-5, atol=0.0, maxiter=None, M=None):
  """Conjugate gradients for Hermitian positive definite ``A``: ``(x, None)``."""
  return _isolve(_cg_solve, A=A, b=b, x0=x0, tol=tol, atol=atol, maxiter=maxiter, M=M,
                 check_symmetric=True)


def bicgstab(A, b, x0=None, *, tol=1e-5, atol=0.0, maxiter=None, M=None):
  """BiCGSTAB for general ``A``: ``(x, None)``."""
  return _isolve(_bicgstab_solve, A=A, b=b, x0=x0, tol=tol, atol=atol, maxiter=maxiter,
                 M=M)


# ---------------------------------------------------------------- GMRES


def _safe_normalize(x, thresh=None):
  norm = _norm(x)
  dtype, weak_type = dtypes.lattice_result_type(*tree_leaves(x))
  if thresh is None:
    thresh = dtypes.finfo(norm.dtype).eps
  thresh = ufuncs.real(jnp.asarray(thresh).astype(dtype))
  use_norm = norm > thresh
  norm_cast = _convert_element_type(norm, dtype, weak_type)
  normalized = tree_map(lambda y: jnp.where(use_norm, y / norm_cast, 0.0), x)
  return normalized, jnp.where(use_norm, norm, 0.0)


def _project_on_columns(A, v):
  v_proj = tree_map(lambda X, y: _einsum("...n,...->n", ufuncs.conj(X), y), A, v)
  return tree_reduce(operator.add, v_proj)


def _iterative_classical_gram_schmidt(Q, x, xnorm, max_iterations=2):
  Q0 = tree_leaves(Q)[0]
  r = array_creation.zeros(Q0.shape[-1], dtype=Q0.dtype)
  q = x
  xnorm_scaled = xnorm / ufuncs.sqrt(2.0)

  def body_function(carry):
    k, q, r, qnorm_scaled = carry
    h = _project_on_columns(Q, q)
    q = _sub(q, tree_map(lambda X: _dot(X, h), Q))
    r = _add(r, h)

    def qnorm_cond(carry):
      k, not_done, _, _ = carry
      return ufuncs.logical_and(not_done, k < max_iterations - 1)

    def qnorm(carry):
      k, _, q, qnorm_scaled = carry
      _, qn = _safe_normalize(q)
      return k, False, q, qn / ufuncs.sqrt(2.0)

    _, _, q, qnorm_scaled = while_loop(qnorm_cond, qnorm, (k, True, q, qnorm_scaled))
    return k + 1, q, r, qnorm_scaled

  def cond_function(carry):
    k, _, r, qnorm_scaled = carry
    _, rnorm = _safe_normalize(r)
    return ufuncs.logical_and(k < max_iterations - 1, rnorm < qnorm_scaled)

  k, q, r, qnorm_scaled = body_function((0, q, r, xnorm_scaled))
  k, q, r, _ = while_loop(cond_function, body_function, (k, q, r, qnorm_scaled))
  return q, r


def _kth_arnoldi_iteration(k, A, M, V, H):
  dtype, _ = dtypes.lattice_result_type(*tree_leaves(V))
  eps = dtypes.finfo(dtype).eps
  v = M(A(tree_map(lambda x: x[..., k], V)))
  _, v_norm_0 = _safe_normalize(v)
  v, h = _iterative_classical_gram_schmidt(V, v, v_norm_0, max_iterations=2)
  # IREE fails to schedule ("cyclic dependencies") a value from before the inner loops
  # compared with one from after them, unless a barrier joins them.
  v, h, v_norm_0 = lax.optimization_barrier((v, h, v_norm_0))
  unit_v, v_norm_1 = _safe_normalize(v, thresh=eps * v_norm_0)
  V = tree_map(lambda X, y: X.at[..., k + 1].set(y), V, unit_v)
  h = h.at[k + 1].set(v_norm_1.astype(dtype))
  H = H.at[k, :].set(h)
  return V, H, v_norm_1 == 0.0


def _rotate_vectors(H, i, cs, sn):
  x1, y1 = H[i], H[i + 1]
  H = H.at[i].set(ufuncs.conj(cs) * x1 - ufuncs.conj(sn) * y1)
  return H.at[i + 1].set(sn * x1 + cs * y1)


def _givens_rotation(a, b):
  b_zero = abs(b) == 0
  a_lt_b = abs(a) < abs(b)
  t = -jnp.where(a_lt_b, a, b) / jnp.where(a_lt_b, b, a)
  r = lax.rsqrt(1 + abs(t) ** 2).astype(t.dtype)
  cs = jnp.where(b_zero, 1, jnp.where(a_lt_b, r * t, r))
  sn = jnp.where(b_zero, 0, jnp.where(a_lt_b, r, r * t))
  return cs, sn


def _apply_givens_rotations(H_row, givens, k):
  R_row = fori_loop(0, k, lambda i, H: _rotate_vectors(H, i, *givens[i, :]), H_row)
  factors = _givens_rotation(R_row[k], R_row[k + 1])
  givens = givens.at[k, :].set(stack(factors))
  return _rotate_vectors(R_row, k, *factors), givens


def _pad_basis(unit_residual, restart):
  return tree_map(lambda x: array_manipulation.pad(x[..., None], ((0, 0),) * x.ndim
                                                   + ((0, restart),)), unit_residual)


def _gmres_incremental(A, b, x0, unit_residual, residual_norm, ptol, restart, M):
  V = _pad_basis(unit_residual, restart)
  dtype = dtypes.result_type(*tree_leaves(b))
  R = array_creation.eye(restart, restart + 1, dtype=dtype)
  givens = array_creation.zeros((restart, 2), dtype=dtype)
  beta_vec = array_creation.zeros(restart + 1, dtype=dtype).at[0].set(
      residual_norm.astype(dtype))

  def loop_cond(carry):
    k, err, _, _, _, _ = carry
    return ufuncs.logical_and(k < restart, err > ptol)

  def arnoldi_qr_step(carry):
    k, _, V, R, beta_vec, givens = carry
    V, H, _ = _kth_arnoldi_iteration(k, A, M, V, R)
    R_row, givens = _apply_givens_rotations(H[k, :], givens, k)
    R = R.at[k, :].set(R_row)
    beta_vec = _rotate_vectors(beta_vec, k, *givens[k, :])
    return k + 1, abs(beta_vec[k + 1]), V, R, beta_vec, givens

  _, residual_norm, V, R, beta_vec, _ = while_loop(
      loop_cond, arnoldi_qr_step, (0, residual_norm, V, R, beta_vec, givens))
  y = jsp_linalg.solve_triangular(R[:, :-1].T, beta_vec[:-1])
  x = _add(x0, tree_map(lambda X: _dot(X[..., :-1], y), V))
  unit_residual, residual_norm = _safe_normalize(M(_sub(b, A(x))))
  return x, unit_residual, residual_norm


def _lstsq(a, b):
  aH = ufuncs.conj(a.T)
  return jsp_linalg.solve(_dot(aH, a), _dot(aH, b), assume_a="pos")


def _gmres_batched(A, b, x0, unit_residual, residual_norm, ptol, restart, M):
  V = _pad_basis(unit_residual, restart)
  dtype, weak_type = dtypes.lattice_result_type(*tree_leaves(b))
  H = _convert_element_type(array_creation.eye(restart, restart + 1, dtype=dtype),
                            weak_type=weak_type)

  def loop_cond(carry):
    _, _, breakdown, k = carry
    return ufuncs.logical_and(k < restart, ufuncs.logical_not(breakdown))

  def arnoldi_process(carry):
    V, H, _, k = carry
    V, H, breakdown = _kth_arnoldi_iteration(k, A, M, V, H)
    return V, H, breakdown, k + 1

  V, H, _, _ = while_loop(loop_cond, arnoldi_process, (V, H, False, 0))
  beta_vec = array_creation.zeros((restart + 1,), dtype=H.dtype).at[0].set(
      residual_norm.astype(dtype))
  y = _lstsq(H.T, beta_vec)
  x = _add(x0, tree_map(lambda X: _dot(X[..., :-1], y), V))
  unit_residual, residual_norm = _safe_normalize(M(_sub(b, A(x))))
  return x, unit_residual, residual_norm


def _gmres_solve(A, b, x0, atol, ptol, restart, maxiter, M, gmres_func):
  unit_residual, residual_norm = _safe_normalize(M(_sub(b, A(x0))))

  def cond_fun(value):
    _, k, _, residual_norm = value
    return ufuncs.logical_and(k < maxiter, residual_norm > atol)

  def body_fun(value):
    x, k, unit_residual, residual_norm = value
    x, unit_residual, residual_norm = gmres_func(A, b, x, unit_residual, residual_norm,
                                                 ptol, restart, M)
    return x, k + 1, unit_residual, residual_norm

  x_final, *_ = while_loop(cond_fun, body_fun, (x0, 0, unit_residual, residual_norm))
  return x_final


def gmres(A, b, x0=None, *, tol=1e-5, atol=0.0, restart=20, maxiter=None, M=None,
          solve_method="batched"):
  """Restarted GMRES for general ``A``: ``(x, info)``, info -1 for a NaN ``x``."""
  if x0 is None:
    x0 = tree_map(array_creation.zeros_like, b)
  M = _identity if M is None else M
  A = _normalize_matvec(A)
  M = _normalize_matvec(M)
  b, x0 = tree_map(jnp.asarray, (b, x0))
  size = sum(bi.size for bi in tree_leaves(b))
  if maxiter is None:
    maxiter = 10 * size
  restart = min(restart, size)
  if tree_structure(x0) != tree_structure(b):
    raise ValueError(f"x0 and b must have matching tree structure: {tree_structure(x0)} vs "
                     f"{tree_structure(b)}")
  b_norm = _norm(b)
  atol = ufuncs.maximum(tol * b_norm, atol)
  Mb_norm = _norm(M(b))
  ptol = Mb_norm * ufuncs.minimum(1.0, atol / b_norm)
  if solve_method == "incremental":
    gmres_func = _gmres_incremental
  elif solve_method == "batched":
    gmres_func = _gmres_batched
  else:
    raise ValueError(f"invalid solve_method {solve_method}, must be either 'incremental' "
                     f"or 'batched'")

  def _solve(A, b):
    return _gmres_solve(A, b, x0, atol, ptol, restart, maxiter, M, gmres_func)
  x = custom_linear_solve(A, b, solve=_solve, transpose_solve=_solve)
  info = jnp.where(ufuncs.isnan(_norm(x)), -1, 0)
  return x, info

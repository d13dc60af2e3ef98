"""``jax.scipy.linalg``: SciPy's linear-algebra API on ``lax.linalg``.

``overwrite_*`` and ``check_finite`` are accepted for SciPy compatibility and ignored.
"""
from __future__ import annotations

import numpy as np

from pyjax._src import core
from pyjax._src.lax import linalg as lax_linalg
from pyjax._src.numpy import array_creation, array_manipulation, tensor_contractions
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import linalg as jnp_linalg
from pyjax._src.numpy import indexing, reductions, sorting, ufuncs
from pyjax._src.numpy.util import ensure_arraylike, promote_dtypes_inexact

__all__ = ["cho_factor", "cho_solve", "cholesky", "det", "eigh", "expm", "inv", "lu",
           "lu_factor", "lu_solve", "qr", "solve", "solve_triangular", "svd"]


def _inexact(*args):
  out = promote_dtypes_inexact(*(ensure_arraylike("jax.scipy.linalg", a) for a in args))
  return out[0] if len(out) == 1 else out


def _H(x):
  return ufuncs.conj(jnp.matrix_transpose(x))


def cholesky(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
  """Reads only the triangle named by ``lower`` (as LAPACK)."""
  a = _inexact(a)
  L = lax_linalg.cholesky(a if lower else _H(a), symmetrize_input=False)
  return L if lower else _H(L)


def cho_factor(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
  return cholesky(a, lower=lower), lower


def cho_solve(c_and_lower, b, overwrite_b: bool = False, check_finite: bool = True):
  c, lower = c_and_lower
  c, b = _inexact(c, b)
  vec = b.ndim == c.ndim - 1
  if vec:
    b = b[..., None]
  # c c^H x = b (lower) or c^H c x = b (upper): two triangular solves.
  y = lax_linalg.triangular_solve(c, b, left_side=True, lower=lower, transpose_a=not lower,
                                  conjugate_a=not lower)
  x = lax_linalg.triangular_solve(c, y, left_side=True, lower=lower, transpose_a=lower,
                                  conjugate_a=lower)
  return x[..., 0] if vec else x


_TRANS = {0: (False, False), "N": (False, False), 1: (True, False), "T": (True, False),
          2: (True, True), "C": (True, True)}


def solve_triangular(a, b, trans=0, lower: bool = False, unit_diagonal: bool = False,
                     overwrite_b: bool = False, debug=None, check_finite: bool = True):
  if trans not in _TRANS:
    raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got "
                     f"{trans!r}")
  a, b = _inexact(a, b)
  transpose_a, conjugate_a = _TRANS[trans]
  return lax_linalg.triangular_solve(a, b, left_side=True, lower=lower,
                                     transpose_a=transpose_a, conjugate_a=conjugate_a,
                                     unit_diagonal=unit_diagonal)


def lu_factor(a, overwrite_a: bool = False, check_finite: bool = True):
  lu_, piv, _ = lax_linalg.lu(_inexact(a))
  return lu_, piv


def lu(a, permute_l: bool = False, overwrite_a: bool = False, check_finite: bool = True):
  """``(p, l, u)`` with ``a == p @ l @ u`` (``(p @ l, u)`` if ``permute_l``)."""
  a = _inexact(a)
  lu_, _, perm = lax_linalg.lu(a)
  m, n = a.shape[-2:]
  k = min(m, n)
  l = array_manipulation.tril(lu_[..., :, :k], -1) + array_creation.eye(m, k, dtype=a.dtype)
  u = array_manipulation.triu(lu_[..., :k, :])
  # a[perm] = l @ u, so p[perm[i], i] = 1; p is real, as SciPy's.
  p = (perm[..., None, :] == array_creation.arange(m, dtype=perm.dtype)[:, None]).astype(
      np.finfo(a.dtype).dtype)
  return (tensor_contractions.matmul(p.astype(a.dtype), l), u) if permute_l else (p, l, u)


def lu_solve(lu_and_piv, b, trans=0, overwrite_b: bool = False, check_finite: bool = True):
  lu_, piv = lu_and_piv
  lu_, b = _inexact(lu_, b)
  if trans not in _TRANS:
    raise ValueError(f"lu_solve: trans must be 0, 1 or 2, got {trans!r}")
  m = lu_.shape[-1]
  perm = lax_linalg.lu_pivots_to_permutation(piv, m)
  vec = b.ndim == lu_.ndim - 1
  if vec:
    b = b[..., None]
  transpose_a, conjugate_a = _TRANS[trans]
  if not transpose_a:  # L U x = b[perm]
    x = jnp_linalg._lu_solve(lu_, perm, b)
  else:  # U^T L^T z = b, then x[perm] = z
    z = lax_linalg.triangular_solve(lu_, b, left_side=True, lower=False, transpose_a=True,
                                    conjugate_a=conjugate_a)
    z = lax_linalg.triangular_solve(lu_, z, left_side=True, lower=True, transpose_a=True,
                                    conjugate_a=conjugate_a, unit_diagonal=True)
    inv_perm = sorting.argsort(perm, axis=-1)
    x = indexing.take_along_axis(z, jnp.broadcast_to(inv_perm[..., :, None], z.shape), axis=-2)
  return x[..., 0] if vec else x


def qr(a, overwrite_a: bool = False, lwork=None, mode: str = "full", pivoting: bool = False,
       check_finite: bool = True):
  if mode not in ("full", "r", "economic"):
    raise ValueError(f"qr: unsupported mode {mode!r}; use 'full', 'r' or 'economic'")
  q, r = lax_linalg.qr(_inexact(a), pivoting=pivoting, full_matrices=mode != "economic")
  return (r,) if mode == "r" else (q, r)


def eigh(a, b=None, lower: bool = True, eigvals_only: bool = False,
         overwrite_a: bool = False, overwrite_b: bool = False, turbo: bool = True,
         eigvals=None, type: int = 1, check_finite: bool = True):
  if b is not None:
    raise NotImplementedError("jax.scipy.linalg.eigh: the generalized problem (b) is not "
                              "implemented; pass b=None")
  if eigvals is not None:
    raise NotImplementedError("jax.scipy.linalg.eigh: eigvals (a subset) is not implemented")
  v, w = lax_linalg.eigh(_inexact(a), lower=lower, symmetrize_input=False)
  return w if eigvals_only else (w, v)


def svd(a, full_matrices: bool = True, compute_uv: bool = True, overwrite_a: bool = False,
        check_finite: bool = True, lapack_driver: str = "gesdd"):
  return lax_linalg.svd(_inexact(a), full_matrices=full_matrices, compute_uv=compute_uv)


def inv(a, overwrite_a: bool = False, check_finite: bool = True):
  return jnp_linalg.inv(a)


def det(a, overwrite_a: bool = False, check_finite: bool = True):
  return jnp_linalg.det(a)


def solve(a, b, lower: bool = False, overwrite_a: bool = False, overwrite_b: bool = False,
          debug: bool = False, check_finite: bool = True, assume_a: str = "gen"):
  """``assume_a='pos'`` solves by Cholesky; the other kinds by LU."""
  if assume_a not in ("gen", "sym", "her", "pos"):
    raise ValueError(f"solve: assume_a must be 'gen', 'sym', 'her' or 'pos', got "
                     f"{assume_a!r}")
  a, b = _inexact(a, b)
  if assume_a != "pos":
    return jnp_linalg.solve(a, b)
  return cho_solve(cho_factor(a, lower=lower), b)


# Pade(13) coefficients of exp and the 1-norm bound up to which one step is accurate
# in double precision (Higham 2005).
_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
           129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
           40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152


def expm(A, *, upper_triangular: bool = False, max_squarings: int = 16):
  """Scaling and squaring with a degree-13 Pade approximant (Higham 2005). Under
  tracing all ``max_squarings`` squarings are computed and selected by the norm."""
  A = _inexact(A)
  if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
    raise ValueError(f"expm: A must be a stack of square matrices, got shape {A.shape}")
  norm1 = reductions.max(reductions.sum(ufuncs.abs(A), axis=-2), axis=-1)
  s = jnp.clip(ufuncs.ceil(ufuncs.log2(norm1 / _THETA13)), 0, max_squarings)
  s = jnp.where(ufuncs.isfinite(s), s, 0)
  A = A / ufuncs.exp2(s).astype(A.dtype)[..., None, None]
  b = _PADE13
  eye = jnp.broadcast_to(array_creation.eye(A.shape[-1], dtype=A.dtype), A.shape)
  A2 = A @ A
  A4 = A2 @ A2
  A6 = A4 @ A2
  U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2)
           + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye)
  V = (A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2)
       + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye)
  R = jnp_linalg.solve(V - U, V + U)
  # Concrete s: square only as often as needed; traced s: all steps, selected per matrix.
  steps = max_squarings if isinstance(s, core.Tracer) else int(np.max(np.asarray(s), initial=0))
  for i in range(steps):
    R = jnp.where((i < s)[..., None, None], R @ R, R)
  return R

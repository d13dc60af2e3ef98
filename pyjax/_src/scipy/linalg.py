"""``jax.scipy.linalg``: SciPy's linear-algebra API on ``lax.linalg``.

``overwrite_*`` and ``check_finite`` are accepted for SciPy compatibility and ignored.
``schur``, ``hessenberg`` and what builds on them (``sqrtm``, ``funm``,
``solve_sylvester``) call LAPACK on the host (also under jit) and have no derivatives,
as JAX's CPU-only ones. ``polar`` computes the polar factors from an SVD for both
``method``s (JAX's default is QDWH iterations: equal within rounding for full-rank
input), and ``eigh_tridiagonal`` solves the dense tridiagonal matrix with ``eigh``
(JAX bisects Sturm sequences; ``select``/``select_range``/``tol`` are not implemented).
"""
from __future__ import annotations

import math
import operator
from functools import partial

import numpy as np

from pyjax._src import dtypes
from pyjax._src.interpreters import ad
from pyjax._src.lax import lax, slicing
from pyjax._src.lax import linalg as lax_linalg
from pyjax._src.lax import special as lax_special
from pyjax._src.lax.control_flow import cond, fori_loop, scan, switch
from pyjax._src.lax.convolution import conv_general_dilated_patches
from pyjax._src.lax.dot import Precision
from pyjax._src.numpy import array_creation, array_manipulation, numerical, tensor_contractions
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import linalg as jnp_linalg
from pyjax._src.numpy import indexing, reductions, sorting, ufuncs
from pyjax._src.numpy.util import (check_arraylike, ensure_arraylike, promote_args_inexact,
                                   promote_dtypes, promote_dtypes_complex,
                                   promote_dtypes_inexact, stack)
from pyjax._src.numpy.vectorize import vectorize

__all__ = [
    "block_diag", "cho_factor", "cho_solve", "cholesky", "circulant", "companion",
    "convolution_matrix", "det", "dft", "eigh", "eigh_tridiagonal", "expm", "expm_frechet",
    "fiedler", "fiedler_companion", "funm", "hadamard", "hankel", "helmert", "hessenberg",
    "hilbert", "inv", "invhilbert", "invpascal", "leslie", "lu", "lu_factor", "lu_solve",
    "pascal", "polar", "qr", "qr_multiply", "rsf2csf", "schur", "solve", "solve_sylvester",
    "solve_triangular", "sqrtm", "svd", "toeplitz"]


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


# ---------------------------------------------------------------- expm (JAX's algorithm)
#
# Scaling and squaring with the Pade degree picked by the 1-norm (Higham 2005), the same
# sequence of operations as JAX so that values and derivatives agree.


def _precise_dot(A, B):
  return tensor_contractions.dot(A, B, precision=Precision.HIGHEST)


def _pade_uv(A, b, powers):
  """U, V of the Pade approximant with coefficients ``b`` from the even powers given."""
  n = A.shape[0]
  ident = array_creation.eye(n, n, dtype=A.dtype)
  A2 = _precise_dot(A, A)
  pw = [ident, A2]
  for _ in range(2, powers + 1):
    pw.append(_precise_dot(pw[-1], A2))
  odd = b[2 * powers + 1] * pw[powers]
  even = b[2 * powers] * pw[powers]
  for k in range(powers - 1, 0, -1):
    odd = odd + b[2 * k + 1] * pw[k]
    even = even + b[2 * k] * pw[k]
  U = _precise_dot(A, odd + b[1] * ident)
  V = even + b[0] * ident
  return U, V


def _pade3(A):
  return _pade_uv(A, (120., 60., 12., 1.), 1)


def _pade5(A):
  return _pade_uv(A, (30240., 15120., 3360., 420., 30., 1.), 2)


def _pade7(A):
  return _pade_uv(A, (17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.), 3)


def _pade9(A):
  return _pade_uv(A, (17643225600., 8821612800., 2075673600., 302702400., 30270240.,
                      2162160., 110880., 3960., 90., 1.), 4)


def _pade13(A):
  b = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
       129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
       40840800., 960960., 16380., 182., 1.)
  n = A.shape[0]
  ident = array_creation.eye(n, n, dtype=A.dtype)
  A2 = _precise_dot(A, A)
  A4 = _precise_dot(A2, A2)
  A6 = _precise_dot(A4, A2)
  U = _precise_dot(A, _precise_dot(A6, b[13] * A6 + b[11] * A4 + b[9] * A2)
                   + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * ident)
  V = (_precise_dot(A6, b[12] * A6 + b[10] * A4 + b[8] * A2)
       + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * ident)
  return U, V


def _calc_P_Q(A):
  A_L1 = jnp_linalg.norm(A, 1)
  if A.dtype in (np.float64, np.complex128):
    maxnorm = 5.371920351148152
    conds = (0.01495585217958292, 0.253939833006323, 0.9504178996162932, 2.097847961257068)
    branches = [_pade3, _pade5, _pade7, _pade9, _pade13]
  elif A.dtype in (np.float32, np.complex64):
    maxnorm = 3.92572478313866
    conds = (0.4258730016922831, 1.880152677804762)
    branches = [_pade3, _pade5, _pade7]
  else:
    raise TypeError(f"A.dtype={A.dtype} is not supported.")
  n_squarings = ufuncs.maximum(0, ufuncs.floor(ufuncs.log2(A_L1 / maxnorm)))
  A = A / (2 ** n_squarings.astype(A.dtype))
  idx = numerical.digitize(A_L1, jnp.asarray(np.array(conds, A_L1.dtype)))
  U, V = switch(idx, branches, A)
  return U + V, -U + V, n_squarings


def _squaring(R, n_squarings, max_squarings):
  def step(c, i):
    return cond(i < n_squarings, lambda x: _precise_dot(x, x), lambda x: x, c), None
  res, _ = scan(step, R, array_creation.arange(max_squarings, dtype=n_squarings.dtype))
  return res


def _expm_2d(A, upper_triangular, max_squarings):
  P, Q, n_squarings = _calc_P_Q(A)

  def compute(args):
    A, P, Q = args
    R = (solve_triangular(Q, P) if upper_triangular else jnp_linalg.solve(Q, P))
    return _squaring(R, n_squarings, max_squarings)
  return cond(n_squarings > max_squarings, lambda args: array_creation.full_like(
      args[0], np.nan), compute, (A, P, Q))


def expm(A, *, upper_triangular: bool = False, max_squarings: int = 16):
  """Matrix exponential (JAX's Pade scaling and squaring); NaN where more than
  ``max_squarings`` squarings would be needed."""
  A, = promote_dtypes_inexact(ensure_arraylike("expm", A))
  if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
    raise ValueError(f"Expected A to be a (batched) square matrix, got A.shape={A.shape!r}.")
  return vectorize(partial(_expm_2d, upper_triangular=upper_triangular,
                           max_squarings=max_squarings), signature="(n,n)->(n,n)")(A)


def expm_frechet(A, E, *, method: str | None = None, compute_expm: bool = True):
  """Frechet derivative of ``expm`` at ``A`` in direction ``E``: JAX's jvp of expm."""
  A = ensure_arraylike("expm_frechet", A)
  E = ensure_arraylike("expm_frechet", E)
  if A.ndim < 2 or A.shape[-2] != A.shape[-1]:
    raise ValueError(f"expected A to be a (batched) square matrix, got A.shape={A.shape}")
  if E.ndim < 2 or E.shape[-2] != E.shape[-1]:
    raise ValueError(f"expected E to be a (batched) square matrix, got E.shape={E.shape}")
  if A.shape != E.shape:
    raise ValueError(f"expected A and E to be the same shape, got A.shape={A.shape} "
                     f"E.shape={E.shape}")
  A, E = promote_dtypes_inexact(A, E)
  (expm_A,), (dA,) = ad.jvp_flat(lambda a: [expm(a)], [A], [E])
  dA = ad.instantiate(dA)
  return (expm_A, dA) if compute_expm else dA


# ---------------------------------------------------------------- special matrices


def block_diag(*arrs):
  """Block-diagonal matrix of 0-, 1- or 2-D arrays (1-D ones are rows)."""
  if len(arrs) == 0:
    arrs = (array_creation.zeros((1, 0)),)
  check_arraylike("block_diag", *arrs)
  arrs = tuple(promote_dtypes(*arrs))
  bad = [i for i, a in enumerate(arrs) if np.ndim(a) > 2]
  if bad:
    raise ValueError(f"Arguments to jax.scipy.linalg.block_diag must have at most 2 "
                     f"dimensions, got {arrs[bad[0]]} at argument {bad[0]}.")
  arrs = [array_manipulation.atleast_2d(a) for a in arrs]
  dtype = arrs[0].dtype
  total = sum(a.shape[1] for a in arrs)
  padded, col = [], 0
  for a in arrs:
    cols = a.shape[1]
    padded.append(slicing.pad(a, np.zeros((), dtype), ((0, 0, 0), (col, total - cols - col,
                                                                   0))))
    col += cols
  return jnp.concatenate(padded, axis=0)


def toeplitz(c, r=None):
  """Toeplitz matrix with first column ``c`` and first row ``r`` (``conj(c)`` if None);
  leading dimensions are batch dimensions."""
  if r is None:
    check_arraylike("toeplitz", c)
    r = ufuncs.conjugate(jnp.asarray(c))
  else:
    check_arraylike("toeplitz", c, r)
  return _toeplitz(array_manipulation.atleast_1d(jnp.asarray(c)),
                   array_manipulation.atleast_1d(jnp.asarray(r)))


def _patches(v, n):
  return conv_general_dilated_patches(
      jnp.reshape(v, (1, v.shape[0], 1)), (n,), (1,), "VALID",
      dimension_numbers=("NTC", "IOT", "NTC"), precision=Precision.HIGHEST)[0]


@partial(vectorize, signature="(m),(n)->(m,n)")
def _toeplitz(c, r):
  ncols, = c.shape
  nrows, = r.shape
  if ncols == 0 or nrows == 0:
    return array_creation.empty((ncols, nrows), dtype=jnp.promote_types(c.dtype, r.dtype))
  elems = jnp.concatenate((c[::-1], r[1:]))
  return array_manipulation.flip(_patches(elems, nrows), axis=0)


def hankel(c, r=None):
  """Hankel matrix with first column ``c`` and last row ``r`` (zeros if None)."""
  if r is None:
    check_arraylike("hankel", c)
    c = jnp.asarray(c)
    r = array_creation.zeros_like(c)
  else:
    check_arraylike("hankel", c, r)
    c, r = jnp.asarray(c), jnp.asarray(r)
  if c.ndim == 0:
    raise ValueError("hankel: c must be at least 1-dimensional, got a scalar.")
  if r.ndim == 0:
    raise ValueError("hankel: r must be at least 1-dimensional, got a scalar.")
  if c.ndim < r.ndim:
    c = lax.expand_dims(c, range(r.ndim - c.ndim))
  elif r.ndim < c.ndim:
    r = lax.expand_dims(r, range(c.ndim - r.ndim))
  return _hankel(c, r)


@partial(vectorize, signature="(m),(n)->(m,n)")
def _hankel(c, r):
  ncols, = c.shape
  nrows, = r.shape
  if ncols == 0 or nrows == 0:
    return array_creation.empty((ncols, nrows), dtype=jnp.result_type(c, r))
  return _patches(jnp.concatenate((c, r[1:])), nrows)


def circulant(c):
  check_arraylike("circulant", c)
  return _circulant(array_manipulation.atleast_1d(jnp.asarray(c)))


@partial(vectorize, signature="(n)->(n,n)")
def _circulant(c):
  n, = c.shape
  idx = (array_creation.arange(n)[:, None] - array_creation.arange(n)[None, :]) % n
  return c[idx]


def leslie(f, s):
  check_arraylike("leslie", f, s)
  f = array_manipulation.atleast_1d(f)
  s = array_manipulation.atleast_1d(s)
  if f.shape[-1] < 2:
    raise ValueError(f"The length of f along the last axis must be at least 2; got shape "
                     f"{f.shape}.")
  if s.shape[-1] != f.shape[-1] - 1:
    raise ValueError(f"Incorrect lengths for f and s. The length of s along the last axis "
                     f"must be one less than the length of f; got f shape {f.shape} and s "
                     f"shape {s.shape}.")
  return _leslie(f, s)


@partial(vectorize, signature="(n),(m)->(n,n)")
def _leslie(f, s):
  f, s = promote_dtypes(f, s)
  return array_manipulation.diag(s, k=-1).at[0].set(f)


def companion(a):
  a, = promote_args_inexact("companion", a)
  a = array_manipulation.atleast_1d(a)
  if a.shape[-1] < 2:
    raise ValueError(f"The length of `a` along the last axis must be at least 2; got shape "
                     f"{a.shape}.")
  return _companion(a)


@partial(vectorize, signature="(n)->(m,m)")
def _companion(a):
  first_row = -a[1:] / a[0]
  m = a.shape[0] - 1
  return array_creation.eye(m, m, k=-1, dtype=first_row.dtype).at[0].set(first_row)


def fiedler(a):
  check_arraylike("fiedler", a)
  a = array_manipulation.atleast_1d(a)
  return ufuncs.abs(a[..., None] - a[..., None, :])


def fiedler_companion(a):
  a, = promote_args_inexact("fiedler_companion", a)
  a = array_manipulation.atleast_1d(a)
  if a.shape[-1] == 0:
    raise ValueError(f"fiedler_companion requires the last axis of 'a' to have nonzero "
                     f"length, but got an array of shape {a.shape}.")
  return _fiedler_companion(a)


@partial(vectorize, signature="(n)->(m,m)")
def _fiedler_companion(a):
  n = a.shape[0] - 1
  if n == 0:
    return array_creation.empty((0, 0), dtype=a.dtype)
  a = a / a[0]
  if n == 1:
    return jnp.reshape(-a[1:], (1, 1))
  i = array_creation.arange(n)[:, None]
  j = array_creation.arange(n)[None, :]
  super_val = -a[ufuncs.minimum(i + 2, n)]
  sub_val = -a[ufuncs.minimum(i + 1, n)]
  i_even, i_odd = i % 2 == 0, i % 2 == 1
  one = jnp.asarray(np.ones((), a.dtype))
  zero = jnp.asarray(np.zeros((), a.dtype))
  conditions = [(i == 0) & (j == 0), (i == 1) & (j == 0), (j == i + 1) & i_even,
                (j == i + 2) & i_even, (j == i - 1) & i_even & (i >= 2),
                (j == i - 2) & i_odd & (i >= 3)]
  return jnp.select(conditions, [-a[1], one, super_val, one, sub_val, one], default=zero)


def convolution_matrix(a, n: int, mode: str = "full"):
  n = operator.index(n)
  if n <= 0:
    raise ValueError(f"n must be a positive integer; got {n}.")
  check_arraylike("convolution_matrix", a)
  a = jnp.asarray(a)
  if a.ndim == 0:
    raise ValueError("convolution_matrix: a must be at least 1-dimensional, got a scalar.")
  m = a.shape[-1]
  if m < 1:
    raise ValueError(f"len(a) must be at least 1; got shape {a.shape}.")
  if mode not in ("full", "valid", "same"):
    raise ValueError(f"mode must be one of 'full', 'valid', 'same'; got {mode!r}.")
  widths = [(0, 0)] * (a.ndim - 1) + [(0, n - 1)]
  az = array_manipulation.pad(a, widths)
  raz = array_manipulation.pad(array_manipulation.flip(a, axis=-1), widths)
  L = m + n - 1
  if mode == "same":
    trim = min(n, m) - 1
    tb, te = trim // 2, trim - trim // 2
  elif mode == "valid":
    tb = te = min(n, m) - 1
  else:
    tb = te = 0
  col0 = slicing.slice_in_dim(az, tb, L - te, axis=-1)
  row0 = slicing.slice_in_dim(raz, L - n - tb, L - tb, axis=-1)
  return toeplitz(col0, row0)


def hilbert(n: int):
  a = lax.broadcasted_iota(dtypes.default_float_dtype(), (n, 1), 0)
  return 1 / (a + a.T + 1)


def _comb(N, k):
  """``scipy.special.comb`` (float, exact=False) as JAX computes it."""
  ok = (k <= N) & (N >= 0) & (k >= 0)
  N = jnp.where(ok, N, 0.0)
  k = jnp.where(ok, k, 0.0)
  res = lax.exp(lax_special.lgamma(N + 1) - lax_special.lgamma(k + 1)
                - lax_special.lgamma(N + 1 - k))
  return jnp.where(ok, res, 0.0)


def invhilbert(n: int):
  a = array_creation.arange(n, dtype=dtypes.default_float_dtype())
  i, j = a[:, None], a[None, :]
  s = i + j
  return ((-1.0) ** s * (s + 1.0) * _comb(n + i, n - j - 1) * _comb(n + j, n - i - 1)
          * _comb(s, i) ** 2)


def _binom(n, k):
  return lax.exp(lax_special.lgamma(n + 1.0) - lax_special.lgamma(n - k + 1.0)
                 - lax_special.lgamma(k + 1.0))


def pascal(n: int, kind: str | None = None):
  """Pascal matrix, float32 as JAX's (exact only while the entries fit)."""
  kind = "symmetric" if kind is None else kind
  valid = ["symmetric", "lower", "upper"]
  if kind not in valid:
    raise ValueError(f"Expected kind to be on of: {valid}; got {kind}")
  a = array_creation.arange(n, dtype=np.float32)
  L_n = _binom(a[:, None], a[None, :])
  if kind == "lower":
    return L_n
  if kind == "upper":
    return L_n.T
  return tensor_contractions.dot(L_n, L_n.T)


def invpascal(n: int, kind: str | None = None):
  kind = "symmetric" if kind is None else kind
  valid = ["symmetric", "lower", "upper"]
  if kind not in valid:
    raise ValueError(f"Expected kind to be one of: {valid}; got {kind}")
  a = array_creation.arange(n, dtype=dtypes.default_float_dtype())
  i, j = a[:, None], a[None, :]
  L_inv = (-1.0) ** (i - j) * _binom(i, j)
  if kind == "lower":
    return L_inv
  if kind == "upper":
    return L_inv.T
  return tensor_contractions.dot(L_inv.T, L_inv)


def helmert(n: int, full: bool = False):
  if n < 1:
    raise ValueError(f"n must be a positive integer; got {n}.")
  i = array_creation.arange(n - 1)[:, None]
  j = array_creation.arange(n)[None, :]
  k = i + 1
  k_f = k.astype(dtypes.default_float_dtype())
  denom = ufuncs.sqrt(k_f * (k_f + 1))
  H = jnp.where(j <= i, 1.0 / denom, jnp.where(j == k, -k_f / denom,
                                                array_creation.zeros_like(denom)))
  if full:
    first = array_creation.full((1, n), 1.0 / ufuncs.sqrt(n), dtype=H.dtype)
    H = jnp.concatenate([first, H], axis=0)
  return H


def hadamard(n: int, dtype=int):
  if n < 1 or not math.log2(n).is_integer():
    raise ValueError(f"n must be a positive power of 2; got {n}.")
  H = array_creation.ones((1, 1), dtype=dtype)
  for _ in range(int(math.log2(n))):
    H = array_manipulation.block([[H, H], [H, -H]])
  return H


def dft(n: int, scale: str | None = None, *, dtype=None):
  if scale is not None and scale not in ("sqrtn", "n"):
    raise ValueError(f"scale must be None, 'sqrtn', or 'n'; got {scale!r}.")
  if dtype is None:
    dtype = dtypes.default_complex_dtype()
  else:
    dtype = dtypes.check_and_canonicalize_user_dtype(dtype, "dft")
    if dtype.kind != "c":
      raise ValueError(f"dtype must be a complex floating-point type; got {dtype}.")
  a = array_creation.arange(n, dtype=dtype)
  omegas = ufuncs.exp(-2j * np.pi * a[:, None] * a[None, :] / n)
  if scale == "sqrtn":
    omegas = omegas / ufuncs.sqrt(n)
  elif scale == "n":
    omegas = omegas / n
  return omegas


# ---------------------------------------------------------------- decompositions on LAPACK


def schur(a, output: str = "real"):
  """``(T, Z)`` with ``a == Z T Z^H`` (LAPACK gees; CPU only, no derivatives)."""
  if output not in ("real", "complex"):
    raise ValueError(f"Expected 'output' to be either 'real' or 'complex', got "
                     f"output={output!r}.")
  a = ensure_arraylike("schur", a)
  if output == "complex":
    a = a.astype(dtypes.to_complex_dtype(a.dtype))
  return lax_linalg.schur(a)


def hessenberg(a, *, calc_q: bool = False, overwrite_a: bool = False,
               check_finite: bool = True):
  """Upper Hessenberg ``H`` (and ``Q`` with ``a == Q H Q^H``): LAPACK gehrd/orghr."""
  a = ensure_arraylike("hessenberg", a)
  if np.shape(a)[-1] == 0:
    z = array_creation.zeros_like(a)
    return (z, z) if calc_q else z
  outs = lax_linalg.hessenberg_q(a, calc_q=calc_q)
  return tuple(outs) if calc_q else outs[0]


def _sqrtm_triu(T):
  diag = ufuncs.sqrt(array_manipulation.diag(T))
  n = diag.size
  U = array_manipulation.diag(diag)

  def i_loop(l, data):
    j, U = data
    i = j - 1 - l
    s = fori_loop(i + 1, j, lambda k, val: val + U[i, k] * U[k, j], 0.0)
    value = jnp.where(T[i, j] == s, 0.0, (T[i, j] - s) / (diag[i] + diag[j]))
    return j, U.at[i, j].set(value)

  def j_loop(j, U):
    _, U = fori_loop(0, j, i_loop, (j, U))
    return U
  return fori_loop(0, n, j_loop, U)


def sqrtm(A, blocksize: int = 1):
  """Principal square root through the complex Schur form (JAX's algorithm; complex
  result). Only ``blocksize=1``."""
  if blocksize > 1:
    raise NotImplementedError("Blocked version is not implemented yet.")
  T, Z = schur(A, output="complex")
  R = _sqrtm_triu(T)
  hi = Precision.HIGHEST
  return tensor_contractions.matmul(tensor_contractions.matmul(Z, R, precision=hi),
                                    ufuncs.conj(Z.T), precision=hi)


def _rsf2csf_2d(T, Z):
  T, Z = promote_dtypes_complex(T, Z)
  eps = dtypes.finfo(T.dtype).eps
  N = T.shape[0]
  if N == 1:
    return T, Z

  def update(m, T, Z):
    mu = jnp_linalg.eigvals(slicing.dynamic_slice(T, (m - 1, m - 1), (2, 2))) - T[m, m]
    r = jnp_linalg.norm(stack([mu[0], T[m, m - 1]])).astype(T.dtype)
    c = mu[0] / r
    s = T[m, m - 1] / r
    G = stack([stack([ufuncs.conj(c), s]), stack([-s, c])]).astype(T.dtype)
    rows = slicing.dynamic_slice_in_dim(T, m - 1, 2, axis=0)
    col_mask = array_creation.arange(N) >= m - 1
    rows_new = jnp.where(~col_mask, rows, G @ jnp.where(col_mask, rows, 0))
    T = slicing.dynamic_update_slice_in_dim(T, rows_new, m - 1, axis=0)
    cols = slicing.dynamic_slice_in_dim(T, m - 1, 2, axis=1)
    row_mask = array_creation.arange(N)[:, None] < m + 1
    cols_new = jnp.where(~row_mask, cols, jnp.where(row_mask, cols, 0) @ ufuncs.conj(G).T)
    T = slicing.dynamic_update_slice_in_dim(T, cols_new, m - 1, axis=1)
    zc = slicing.dynamic_slice_in_dim(Z, m - 1, 2, axis=1)
    Z = slicing.dynamic_update_slice_in_dim(Z, zc @ ufuncs.conj(G).T, m - 1, axis=1)
    return T, Z

  def body(i, TZ):
    m = N - i
    T, Z = TZ
    T, Z = cond(ufuncs.abs(T[m, m - 1]) > eps * (ufuncs.abs(T[m - 1, m - 1])
                                                 + ufuncs.abs(T[m, m])),
                update, lambda m, T, Z: (T, Z), m, T, Z)
    return T.at[m, m - 1].set(0.0), Z
  return fori_loop(1, N, body, (T, Z))


def rsf2csf(T, Z, check_finite: bool = True):
  """Real Schur form to complex Schur form (Givens rotations, as JAX)."""
  T, Z = jnp.asarray(T), jnp.asarray(Z)
  if T.ndim < 2 or T.shape[-1] != T.shape[-2]:
    raise ValueError("Input 'T' must be square.")
  if Z.ndim < 2 or Z.shape[-1] != Z.shape[-2]:
    raise ValueError("Input 'Z' must be square.")
  if T.shape[-1] != Z.shape[-1]:
    raise ValueError(f"Input array shapes must match: Z: {Z.shape} vs. T: {T.shape}")
  return vectorize(_rsf2csf_2d, signature="(n,n),(n,n)->(n,n),(n,n)")(T, Z)


def _funm_11_1_1(F, T):
  # Golub and Van Loan, Matrix Computations, algorithm 11.1.1 (Parlett's recurrence).
  N = T.shape[0]
  minden = ufuncs.abs(T[0, 0])

  def inner(i, p_F_minden):
    p, F, minden = p_F_minden
    j = i + p
    s = T[i - 1, j - 1] * (F[j - 1, j - 1] - F[i - 1, i - 1])
    ind = (array_creation.arange(N) >= i) & (array_creation.arange(N) < j - 1)
    val = (jnp.where(ind, T[i - 1], 0) @ jnp.where(ind, F[:, j - 1], 0)
           - jnp.where(ind, F[i - 1], 0) @ jnp.where(ind, T[:, j - 1], 0))
    s = s + val
    den = T[j - 1, j - 1] - T[i - 1, i - 1]
    s = jnp.where(den != 0, s / den, s)
    return p, F.at[i - 1, j - 1].set(s), ufuncs.minimum(minden, ufuncs.abs(den))

  def outer(p, F_minden):
    _, F, minden = fori_loop(1, N - p + 1, inner, (p, *F_minden))
    return F, minden
  return fori_loop(1, N, outer, (F, minden))


def funm(A, func, disp: bool = True):
  """``func`` of a square matrix by Schur-Parlett (complex result; no derivatives).
  With ``disp=False`` also JAX's error estimate."""
  A = jnp.asarray(A)
  if A.ndim != 2 or A.shape[0] != A.shape[1]:
    raise ValueError("expected square array_like input")
  T, Z = schur(A)
  T, Z = rsf2csf(T, Z)
  F = array_manipulation.diag(func(array_manipulation.diag(T))).astype(T.dtype)
  F, minden = _funm_11_1_1(F, T)
  F = Z @ F @ ufuncs.conj(Z).T
  if disp:
    return F
  tol = dtypes.finfo(np.float32 if F.dtype.char.lower() == "f" else np.float64).eps
  minden = jnp.where(minden == 0.0, tol, minden)
  err = jnp.where(reductions.any(ufuncs.isinf(F)), np.inf, ufuncs.minimum(1, ufuncs.maximum(
      tol, (tol / minden) * jnp_linalg.norm(array_manipulation.triu(T, 1), 1))))
  return F, err


def _solve_sylvester_triangular(R, S, F):
  R, S, F = promote_dtypes_inexact(R, S, F)
  m, n = F.shape

  def step(Y_flat, idx):
    i, j = idx // n, idx % n
    Y = jnp.reshape(Y_flat, (m, n))
    row_term = reductions.sum(jnp.where(array_creation.arange(m) > i, R[i, :] * Y[:, j],
                                        0.0))
    col_term = reductions.sum(jnp.where(array_creation.arange(n) > j, Y[i, :] * S[:, j],
                                        0.0))
    val = (F[i, j] - (row_term + col_term)) / (R[i, i] + S[j, j])
    return Y_flat.at[i * n + j].set(val), None
  Y, _ = scan(step, array_creation.zeros((m * n,), dtype=F.dtype),
              array_creation.arange(m * n - 1, -1, -1))
  return jnp.reshape(Y, (m, n))


def _solve_sylvester_2d(A, B, C, *, method, tol):
  m, n = C.shape[-2:]
  if method == "schur":
    R, U = schur(A, output="complex")
    S, V = schur(ufuncs.conj(B).T, output="complex")
    F = ufuncs.conj(U).T @ C.astype(R.dtype) @ V
    Y = _solve_sylvester_triangular(R, ufuncs.conj(S).T, F)
    X = U @ Y @ ufuncs.conj(V).T
  elif method == "eigen":
    RA, UA = jnp_linalg.eig(A)
    RB, UB = jnp_linalg.eig(B)
    F = solve(UA, C.astype(RA.dtype) @ UB)
    Y = F / (RA[:, None] + RB[None, :])
    X = UA[:m, :m] @ Y[:m, :n] @ inv(UB)[:n, :n]
  else:
    raise ValueError(f'Unrecognized method {method}. The two valid methods are either '
                     f'"schur" or "eigen".')
  if C.dtype.kind != "c":
    X = ufuncs.real(X)
  singular = reductions.any(ufuncs.abs(jnp_linalg.eigvals(A)[:, None]
                                       + jnp_linalg.eigvals(B)[None, :]) < tol)
  return cond(singular, lambda: array_creation.zeros_like(X) * np.nan, lambda: X)


def solve_sylvester(A, B, C, *, method: str = "schur", tol: float = 1e-8):
  """``X`` with ``A X + X B = C`` (Bartels-Stewart through Schur forms, or eigen-
  decompositions); NaN where some ``|eig(A)_i + eig(B)_j| < tol``."""
  A, B, C = promote_dtypes_inexact(jnp.asarray(A), jnp.asarray(B), jnp.asarray(C))
  m, n = C.shape[-2:]
  if A.shape[-2:] != (m, m) or B.shape[-2:] != (n, n):
    raise ValueError(f"Incompatible shapes for Sylvester equation:\nA: {A.shape}\nB: "
                     f"{B.shape}\nC: {C.shape}")
  return vectorize(partial(_solve_sylvester_2d, method=method, tol=tol),
                   signature="(m,m),(n,n),(m,n)->(m,n)")(A, B, C)


def eigh_tridiagonal(d, e, *, eigvals_only: bool = False, select: str = "a",
                     select_range=None, tol=None, key=None):
  """Eigenvalues (ascending) and eigenvectors of the Hermitian tridiagonal matrix with
  diagonal ``d`` and off-diagonal ``e``, through a dense ``eigh`` (JAX bisects; values
  agree within rounding, eigenvectors up to sign). ``select='i'`` takes eigenvalues
  ``select_range[0]..select_range[1]``; ``tol`` and ``key`` are ignored."""
  alpha, beta = jnp.asarray(d), jnp.asarray(e)
  supported = (np.float32, np.float64, np.complex64, np.complex128)
  if alpha.dtype != beta.dtype:
    raise TypeError(f"diagonal and off-diagonal values must have same dtype, got "
                    f"{alpha.dtype} and {beta.dtype}")
  if alpha.dtype not in supported:
    raise TypeError(f"Only float32 and float64 inputs are supported as inputs to "
                    f"jax.scipy.linalg.eigh_tridiagonal, got {alpha.dtype} and {beta.dtype}")
  n = alpha.shape[0]
  if n <= 1:
    w = ufuncs.real(alpha)
    return w if eigvals_only else (w, array_creation.eye(n, dtype=alpha.dtype))
  if select == "a":
    lo, hi = 0, n - 1
  elif select == "i":
    if select_range is None:
      raise ValueError("for select='i', select_range must be specified.")
    if select_range[0] > select_range[1]:
      raise ValueError("Got empty index range in select_range.")
    lo, hi = operator.index(select_range[0]), operator.index(select_range[1])
  elif select == "v":
    raise NotImplementedError("eigh_tridiagonal(..., select='v') is not implemented")
  else:
    raise ValueError("'select must have a value in {'a', 'i', 'v'}.")
  T = (array_manipulation.diag(alpha) + array_manipulation.diag(beta, k=-1)
       + array_manipulation.diag(ufuncs.conj(beta), k=1))
  v, w = lax_linalg.eigh(T, lower=True, symmetrize_input=False)
  w, v = w[lo:hi + 1], v[:, lo:hi + 1]
  return w if eigvals_only else (w, v)


def polar(a, side: str = "right", *, method: str = "qdwh", eps=None, max_iterations=None):
  """``(u, p)``: ``a = u p`` (side 'right') or ``p u`` ('left'), from an SVD for both
  methods (JAX iterates QDWH for 'qdwh': equal within rounding for full-rank ``a``)."""
  a = jnp.asarray(a)
  if a.ndim < 2:
    raise ValueError("The input `a` must be at least a 2-D array.")
  if side not in ("right", "left"):
    raise ValueError("The argument `side` must be either 'right' or 'left'.")
  if method not in ("qdwh", "svd"):
    raise ValueError(f"Unknown polar decomposition method {method}.")
  m, n = a.shape[-2:]
  if method == "qdwh" and not ((m >= n and side == "right") or (m < n and side == "left")):
    raise NotImplementedError(
        f"method='qdwh' only supports mxn matrices where m < n where side='right' and "
        f"m >= n side='left', got {a.shape[-2:]} with side={side!r}")
  a, = promote_dtypes_inexact(a)
  u, s, vh = lax_linalg.svd(a, full_matrices=False)
  s = s.astype(u.dtype)
  unitary = tensor_contractions.matmul(u, vh)
  if side == "right":
    posdef = tensor_contractions.matmul(_H(vh) * s[..., None, :], vh)
  else:
    posdef = tensor_contractions.matmul(u * s[..., None, :], _H(u))
  return unitary, posdef


def qr_multiply(a, c, mode: str = "right", pivoting: bool = False, conjugate: bool = False,
                overwrite_a: bool = False, overwrite_c: bool = False):
  """``(Q @ c, R)`` (mode 'left') or ``(c @ Q, R)`` ('right') from a QR of ``a``; Q is
  formed explicitly (JAX applies the reflectors with ormqr: equal within rounding).
  ``pivoting`` is not implemented."""
  a, c = promote_dtypes_inexact(jnp.asarray(a), jnp.asarray(c))
  if mode not in ("right", "left"):
    raise ValueError(f"mode must be 'right' or 'left', got {mode!r}")
  if pivoting:
    raise NotImplementedError("qr_multiply: pivoting=True is not implemented")
  onedim = c.ndim == 1
  if onedim:
    c = c[:, None] if mode == "left" else c[None, :]
  m, n = a.shape[-2:]
  k = min(m, n)
  if mode == "left":
    if c.shape[-2] != k:
      raise ValueError(f"Array shapes are not compatible for Q @ c operation: a has shape "
                       f"{tuple(a.shape)} so Q has {k} columns, but c has {c.shape[-2]} "
                       f"rows (expected {k}).")
  elif c.shape[-1] != m:
    raise ValueError(f"Array shapes are not compatible for c @ Q operation: a has shape "
                     f"{tuple(a.shape)} so Q has {m} rows, but c has {c.shape[-1]} columns "
                     f"(expected {m}).")
  batch = jnp.broadcast_shapes(a.shape[:-2], c.shape[:-2])
  a = jnp.broadcast_to(a, batch + a.shape[-2:])
  c = jnp.broadcast_to(c, batch + c.shape[-2:])
  q, r = lax_linalg.qr(a, full_matrices=False)
  if conjugate:
    q = ufuncs.conj(q)
  out = tensor_contractions.matmul(q, c) if mode == "left" else \
      tensor_contractions.matmul(c, q)
  if onedim:
    out = jnp.ravel(out)
  return out, array_manipulation.triu(r[..., :k, :])

"""``jax.numpy.linalg``, built on ``lax.linalg`` and ``jax.numpy``."""
from __future__ import annotations

import math
import operator
from typing import NamedTuple

import numpy as np

from pyjax._src.array import Array
from pyjax._src.lax import linalg as lax_linalg
from pyjax._src.numpy import array_creation, array_manipulation, tensor_contractions
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import indexing, reductions, sorting, ufuncs
from pyjax._src.numpy.einsum import einsum
from pyjax._src.numpy.lax_numpy import matrix_transpose
from pyjax._src.numpy.tensor_contractions import vecdot
from pyjax._src.numpy.util import staged_jit
from pyjax._src.numpy.util import canonicalize_axis, ensure_arraylike, promote_dtypes_inexact

__all__ = ["EigResult", "EighResult", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "cond",
           "cross", "det", "diagonal", "eig", "eigh", "eigvals", "eigvalsh", "inv", "lstsq", "matmul",
           "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "multi_dot",
           "norm", "outer", "pinv", "qr", "slogdet", "solve", "svd", "svdvals",
           "tensordot", "tensorinv", "tensorsolve", "trace", "vecdot", "vector_norm"]


class EigResult(NamedTuple):
  eigenvalues: Array
  eigenvectors: Array


class EighResult(NamedTuple):
  eigenvalues: Array
  eigenvectors: Array


class QRResult(NamedTuple):
  Q: Array
  R: Array


class SVDResult(NamedTuple):
  U: Array
  S: Array
  Vh: Array


class SlogdetResult(NamedTuple):
  sign: Array
  logabsdet: Array


def _inexact(name, a):
  a, = promote_dtypes_inexact(ensure_arraylike(name, a))
  return a


def _check_matrix(name, a, square=False):
  if a.ndim < 2:
    raise ValueError(f"jnp.linalg.{name}: argument must be at least two-dimensional, got "
                     f"shape {a.shape}")
  if square and a.shape[-1] != a.shape[-2]:
    raise ValueError(f"jnp.linalg.{name}: last two dimensions must be square, got shape "
                     f"{a.shape}")


def _H(x):
  return ufuncs.conj(matrix_transpose(x))


# ---------------------------------------------------------------- decompositions


def cholesky(a, *, upper: bool = False, symmetrize_input: bool = True):
  a = _inexact("cholesky", a)
  _check_matrix("cholesky", a, square=True)
  L = lax_linalg.cholesky(a, symmetrize_input=symmetrize_input)
  return _H(L) if upper else L


def qr(a, mode: str = "reduced"):
  a = _inexact("qr", a)
  _check_matrix("qr", a)
  if mode not in ("reduced", "complete", "r"):
    raise ValueError(f"jnp.linalg.qr: unsupported mode {mode!r}; use 'reduced', "
                     f"'complete' or 'r'")
  q, r = lax_linalg.qr(a, full_matrices=mode == "complete")
  return r if mode == "r" else QRResult(q, r)


def eig(a):
  """Eigenvalues and right eigenvectors of general square matrices (complex)."""
  a = _inexact("eig", a)
  w, v = lax_linalg.eig(a, compute_left_eigenvectors=False)
  return EigResult(w, v)


def eigvals(a):
  """Eigenvalues of general square matrices (complex)."""
  a = _inexact("eigvals", a)
  return lax_linalg.eig(a, compute_left_eigenvectors=False,
                        compute_right_eigenvectors=False)[0]


def eigh(a, UPLO: str | None = None, symmetrize_input: bool = True):
  a = _inexact("eigh", a)
  _check_matrix("eigh", a, square=True)
  if UPLO not in (None, "L", "U"):
    raise ValueError(f"jnp.linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
  v, w = lax_linalg.eigh(a, lower=UPLO != "U", symmetrize_input=symmetrize_input)
  return EighResult(w, v)


def eigvalsh(a, UPLO: str | None = "L", *, symmetrize_input: bool = True):
  return eigh(a, UPLO, symmetrize_input).eigenvalues


def svd(a, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False,
        subset_by_index=None):
  a = _inexact("svd", a)
  _check_matrix("svd", a)
  if hermitian:
    w, v = eigh(a)
    s = ufuncs.abs(w)
    order = sorting.argsort(-s, axis=-1)   # descending singular values
    s = indexing.take_along_axis(s, order, axis=-1)
    if not compute_uv:
      return s
    sign = indexing.take_along_axis(ufuncs.sign(w), order, axis=-1)
    u = indexing.take_along_axis(v, order[..., None, :], axis=-1)
    vh = _H(u * sign[..., None, :].astype(u.dtype))
    return SVDResult(u, s, vh)
  out = lax_linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv,
                       subset_by_index=subset_by_index)
  return SVDResult(*out) if compute_uv else out


def svdvals(x):
  return svd(x, compute_uv=False)


# ---------------------------------------------------------------- solves and inverses


def _lu_solve(lu, perm, b):
  """Solves ``a x = b`` for ``b`` ``[..., m, n]`` given ``lu(a)``."""
  b = indexing.take_along_axis(b, jnp.broadcast_to(perm[..., :, None], b.shape), axis=-2)
  x = lax_linalg.triangular_solve(lu, b, left_side=True, lower=True, unit_diagonal=True)
  return lax_linalg.triangular_solve(lu, x, left_side=True, lower=False)


def solve(a, b):
  a, b = promote_dtypes_inexact(*ensure_arraylike("solve", a, b))
  _check_matrix("solve", a, square=True)
  vec = b.ndim == 1
  if vec:
    b = b[:, None]
  if b.shape[-2] != a.shape[-1]:
    raise ValueError(f"jnp.linalg.solve: a.shape={a.shape} and b.shape="
                     f"{b.shape[:-1] if vec else b.shape} do not match: b's "
                     f"{'length' if vec else 'rows'} must equal a.shape[-1]")
  batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
  a = jnp.broadcast_to(a, (*batch, *a.shape[-2:]))
  b = jnp.broadcast_to(b, (*batch, *b.shape[-2:]))
  lu, _, perm = lax_linalg.lu(a)
  x = _lu_solve(lu, perm, b)
  return x[..., 0] if vec else x


@staged_jit
def inv(a):
  a = _inexact("inv", a)
  _check_matrix("inv", a, square=True)
  return solve(a, jnp.broadcast_to(array_creation.eye(a.shape[-1], dtype=a.dtype), a.shape))


def slogdet(a, *, method: str | None = None):
  a = _inexact("slogdet", a)
  _check_matrix("slogdet", a, square=True)
  if method not in (None, "lu"):
    raise ValueError(f"jnp.linalg.slogdet: unsupported method {method!r}; use 'lu'")
  dtype = a.dtype
  lu, piv, _ = lax_linalg.lu(a)
  diag = array_manipulation.diagonal(lu, axis1=-2, axis2=-1)
  is_zero = reductions.any(diag == 0, axis=-1)
  parity = reductions.count_nonzero(
      piv != array_creation.arange(a.shape[-1], dtype=piv.dtype), axis=-1)
  if dtype.kind == "c":
    sign = reductions.prod(diag / ufuncs.abs(diag).astype(dtype), axis=-1)
  else:
    sign = jnp.array(1, dtype=dtype)
    parity = parity + reductions.count_nonzero(diag < 0, axis=-1)
  sign = jnp.where(is_zero, jnp.array(0, dtype),
                   sign * (-2 * (parity % 2) + 1).astype(dtype))
  logdet = jnp.where(is_zero, jnp.array(-np.inf, ufuncs.abs(diag).dtype),
                     reductions.sum(ufuncs.log(ufuncs.abs(diag)), axis=-1))
  return SlogdetResult(sign, logdet)


@staged_jit
def det(a):
  """Determinant from the LU factors (its gradient is the LU's: NaN where ``a`` is
  singular, where JAX's cofactor rule stays finite)."""
  a = _inexact("det", a)
  _check_matrix("det", a, square=True)
  lu, piv, _ = lax_linalg.lu(a)
  parity = reductions.count_nonzero(
      piv != array_creation.arange(a.shape[-1], dtype=piv.dtype), axis=-1)
  sign = (-2 * (parity % 2) + 1).astype(a.dtype)
  return sign * reductions.prod(array_manipulation.diagonal(lu, axis1=-2, axis2=-1),
                                axis=-1)


def pinv(a, rtol=None, hermitian: bool = False, *, rcond=None):
  a = _inexact("pinv", a)
  _check_matrix("pinv", a)
  if rcond is not None:
    if rtol is not None:
      raise ValueError("pinv: only one of rtol and rcond may be given")
    rtol = rcond
  m, n = a.shape[-2:]
  if m == 0 or n == 0:
    return array_creation.zeros((*a.shape[:-2], n, m), a.dtype)
  x = ufuncs.conj(a)
  if rtol is None:
    rtol = 10. * max(m, n) * np.asarray(np.finfo(a.dtype).eps)
  rtol = jnp.asarray(rtol)
  u, s, vh = svd(x, full_matrices=False, hermitian=hermitian)
  rtol = jnp.expand_dims(rtol[..., None], tuple(range(s.ndim - rtol.ndim - 1)))
  cutoff = rtol * s[..., 0:1]
  s = jnp.where(s > cutoff, s, np.inf).astype(u.dtype)
  return matmul(matrix_transpose(vh), matrix_transpose(u) / s[..., None]).astype(a.dtype)


def lstsq(a, b, rcond=None, *, numpy_resid: bool = False):
  a, b = promote_dtypes_inexact(*ensure_arraylike("lstsq", a, b))
  if a.ndim != 2:
    raise TypeError(f"{a.ndim}-dimensional array given. Array must be two-dimensional")
  if b.ndim not in (1, 2):
    raise TypeError(f"{b.ndim}-dimensional array given. Array must be one or "
                    f"two-dimensional")
  if a.shape[0] != b.shape[0]:
    raise ValueError(f"lstsq: leading dimensions of a ({a.shape}) and b ({b.shape}) must "
                     f"match")
  vec = b.ndim == 1
  if vec:
    b = b[:, None]
  m, n = a.shape
  eps = np.finfo(a.dtype).eps
  rcond = float(eps) * max(m, n) if rcond is None else jnp.where(rcond < 0, eps, rcond)
  u, s, vt = svd(a, full_matrices=False)
  mask = (s > 0) & (s >= jnp.asarray(rcond, s.dtype) * s[0])
  rank = reductions.sum(mask)
  safe_s = jnp.where(mask, s, 1).astype(a.dtype)
  s_inv = jnp.where(mask, 1 / safe_s, 0)[:, None]
  x = matmul(_H(vt), s_inv * matmul(_H(u), b))
  if numpy_resid and (int(rank) < n or m <= n):
    resid = jnp.asarray([], s.dtype)
  else:
    resid = norm(b - matmul(a, x), axis=0) ** 2
  return (x[:, 0] if vec else x), resid, rank, s


def matrix_power(a, n: int):
  a = ensure_arraylike("matrix_power", a)
  if a.ndim < 2:
    raise TypeError(f"{a.ndim}-dimensional array given. Array must be at least "
                    f"two-dimensional")
  if a.shape[-2] != a.shape[-1]:
    raise TypeError("Last 2 dimensions of the array must be square")
  try:
    n = operator.index(n)
  except TypeError as err:
    raise TypeError(f"exponent must be an integer, got {n}") from err
  if n == 0:
    return jnp.broadcast_to(array_creation.eye(a.shape[-1], dtype=a.dtype), a.shape)
  if n < 0:
    a, n = inv(a), -n
  if n <= 3:
    return a if n == 1 else (a @ a if n == 2 else (a @ a) @ a)
  z = result = None
  while n > 0:  # binary powering, squares from the low bit up (as JAX)
    z = a if z is None else z @ z
    n, bit = divmod(n, 2)
    if bit:
      result = z if result is None else result @ z
  return result


def matrix_rank(M, rtol=None, *, hermitian: bool = False, tol=None):
  if tol is not None:
    if rtol is not None:
      raise ValueError("matrix_rank: only one of tol or rtol may be specified.")
    rtol = tol
  M = _inexact("matrix_rank", M)
  if M.ndim < 2:
    return reductions.any(M != 0).astype(np.int32)
  S = svd(M, full_matrices=False, compute_uv=False, hermitian=hermitian)
  if rtol is None:
    rtol = reductions.max(S, axis=-1) * np.asarray(max(M.shape[-2:]), S.dtype) * \
        np.finfo(S.dtype).eps
  rtol = jnp.asarray(rtol)
  return reductions.sum(S > jnp.expand_dims(rtol, rtol.ndim), axis=-1)


def cond(x, p=None):
  x = _inexact("cond", x)
  _check_matrix("cond", x)
  if x.shape[-1] == 0 or x.shape[-2] == 0:
    raise ValueError(f"jnp.linalg.cond: input array must not be empty; got {x.shape=}")
  if p is None or p == 2:
    s = svdvals(x)
    return s[..., 0] / s[..., -1]
  if p == -2:
    s = svdvals(x)
    r = s[..., -1] / s[..., 0]
  else:
    _check_matrix("cond", x, square=True)
    r = norm(x, ord=p, axis=(-2, -1)) * norm(inv(x), ord=p, axis=(-2, -1))
  # NaN (from a singular x) becomes inf unless x itself has NaNs.
  return jnp.where(ufuncs.isnan(r) & ~reductions.any(ufuncs.isnan(x), axis=(-2, -1)),
                   np.inf, r)


# ---------------------------------------------------------------- norms


def _abs2_sum(x, axis, keepdims):
  return ufuncs.sqrt(reductions.sum(ufuncs.real(x * ufuncs.conj(x)), axis=axis,
                                    keepdims=keepdims))


def _vector_norm(x, ord, axis, keepdims):
  if ord is None or ord == 2:
    return _abs2_sum(x, axis, keepdims)
  if ord == np.inf:
    return reductions.max(ufuncs.abs(x), axis=axis, keepdims=keepdims, initial=0)
  if ord == -np.inf:
    return reductions.min(ufuncs.abs(x), axis=axis, keepdims=keepdims)
  if ord == 0:
    return reductions.sum(x != 0, dtype=np.finfo(x.dtype).dtype, axis=axis,
                          keepdims=keepdims)
  if ord == 1:
    return reductions.sum(ufuncs.abs(x), axis=axis, keepdims=keepdims)
  if isinstance(ord, str):
    raise ValueError(f"Invalid order '{ord}' for vector norm.")
  a = ufuncs.abs(x)
  p = jnp.array(ord, a.dtype)
  return ufuncs.power(reductions.sum(a ** p, axis=axis, keepdims=keepdims),
                      ufuncs.reciprocal(p))


def _matrix_norm(x, ord, axis, keepdims):
  row, col = axis
  if row == col:
    raise ValueError(f"Duplicate axes given: {axis}")
  if ord is None or ord in ("f", "fro"):
    return _abs2_sum(x, axis, keepdims)
  if ord in (1, -1, np.inf, -np.inf):
    # 1: max over columns of column sums; inf: max over rows of row sums.
    summed, other = (row, col) if ord in (1, -1) else (col, row)
    if not keepdims and other > summed:
      other -= 1
    sums = reductions.sum(ufuncs.abs(x), axis=summed, keepdims=keepdims)
    if ord > 0:
      return reductions.max(sums, axis=other, keepdims=keepdims, initial=0)
    return reductions.min(sums, axis=other, keepdims=keepdims)
  if ord in ("nuc", 2, -2):
    s = svdvals(jnp.moveaxis(x, axis, (-2, -1)))
    y = (reductions.max(s, axis=-1, initial=0) if ord == 2 else
         reductions.min(s, axis=-1) if ord == -2 else reductions.sum(s, axis=-1))
    return jnp.expand_dims(y, axis) if keepdims else y
  raise ValueError(f"Invalid order '{ord}' for matrix norm.")


@staged_jit(static_argnames=('ord', 'axis', 'keepdims'))
def norm(x, ord=None, axis=None, keepdims: bool = False):
  x = _inexact("norm", x)
  if axis is None:
    if ord is None:  # any rank: the 2-norm of the flattened array
      return _abs2_sum(x, None, keepdims)
    axis = tuple(range(x.ndim))
  elif isinstance(axis, tuple):
    axis = tuple(canonicalize_axis(a, x.ndim) for a in axis)
  else:
    axis = (canonicalize_axis(axis, x.ndim),)
  if len(axis) == 1:
    return _vector_norm(x, ord, axis, keepdims)
  if len(axis) == 2:
    return _matrix_norm(x, ord, axis, keepdims)
  raise ValueError(f"Improper number of axes for norm: {axis}. Pass one axis (a vector "
                   f"norm) or two (a matrix norm).")


def vector_norm(x, /, *, axis=None, keepdims: bool = False, ord=2):
  x = _inexact("vector_norm", x)
  if axis is None:
    out = _vector_norm(jnp.ravel(x), ord, (0,), False)
    return jnp.reshape(out, (1,) * x.ndim) if keepdims else out
  axis = tuple(canonicalize_axis(a, x.ndim) for a in
               (axis if isinstance(axis, tuple) else (axis,)))
  return _vector_norm(x, ord, axis, keepdims)


def matrix_norm(x, /, *, keepdims: bool = False, ord="fro"):
  return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


# ---------------------------------------------------------------- products and tensors


def diagonal(x, /, *, offset: int = 0):
  return array_manipulation.diagonal(ensure_arraylike("diagonal", x), offset=offset,
                                     axis1=-2, axis2=-1)


def multi_dot(arrays, *, precision=None):
  arrs = [ensure_arraylike("multi_dot", a) for a in arrays]
  if len(arrs) < 2:
    raise ValueError(f"multi_dot requires at least two arrays; got {len(arrs)}")
  if not (arrs[0].ndim in (1, 2) and arrs[-1].ndim in (1, 2)
          and all(a.ndim == 2 for a in arrs[1:-1])):
    raise ValueError("multi_dot: input arrays must all be two-dimensional, except for the "
                     "first and last array which may be 1 or 2 dimensional. Got shapes "
                     f"{[a.shape for a in arrs]}")
  if any(a.shape[-1] != b.shape[0] for a, b in zip(arrs[:-1], arrs[1:])):
    raise ValueError("multi_dot: last dimension of each array must match first dimension "
                     f"of the next. Got shapes {[a.shape for a in arrs]}")
  axes = [(i, i + 1) for i in range(len(arrs))]
  if arrs[0].ndim == 1:
    axes[0] = axes[0][1:]
  if arrs[-1].ndim == 1:
    axes[-1] = axes[-1][:1]
  letters = lambda ax: "".join(chr(ord("a") + i) for i in ax)
  out = letters(sorted({axes[0][0], axes[-1][-1]})) if len(axes[0]) + len(axes[-1]) == 4 \
      else letters(ax for ax in (axes[0][:-1] + axes[-1][1:]))
  spec = ",".join(letters(ax) for ax in axes) + "->" + out
  return einsum(spec, *arrs, optimize="auto", precision=precision)


def tensorinv(a, ind: int = 2):
  a = ensure_arraylike("tensorinv", a)
  ind = operator.index(ind)
  if ind <= 0:
    raise ValueError(f"ind must be a positive integer; got {ind=}")
  left, right = a.shape[:ind], a.shape[ind:]
  rows, cols = math.prod(left), math.prod(right)
  if rows != cols:
    raise ValueError(f"tensorinv is only possible when the product of the first `ind` "
                     f"dimensions equals that of the remaining dimensions; got "
                     f"{a.shape=} with {ind=}.")
  return jnp.reshape(inv(jnp.reshape(a, (rows, cols))), (*right, *left))


def tensorsolve(a, b, axes=None):
  a, b = ensure_arraylike("tensorsolve", a, b)
  if axes is not None:
    a = jnp.moveaxis(a, axes, len(axes) * (a.ndim - 1,))
  out_shape = a.shape[b.ndim:]
  if a.shape[:b.ndim] != b.shape:
    raise ValueError(f"After moving axes to end, leading shape of a must match shape of b; "
                     f"got a.shape={a.shape}, b.shape={b.shape}")
  if b.size != math.prod(out_shape):
    raise ValueError(f"Input arrays must have prod(a.shape[:b.ndim]) == "
                     f"prod(a.shape[b.ndim:]); got a.shape={a.shape}, b.ndim={b.ndim}.")
  a = jnp.reshape(a, (b.size, math.prod(out_shape)))
  return jnp.reshape(solve(a, jnp.ravel(b)), out_shape)


# Array-API forms: positional-only operands, keyword-only options, matrices in the
# last two axes.


def matmul(x1, x2, /, *, precision=None, preferred_element_type=None):
  return tensor_contractions.matmul(x1, x2, precision=precision,
                                    preferred_element_type=preferred_element_type)


def tensordot(x1, x2, /, *, axes=2, precision=None, preferred_element_type=None):
  return tensor_contractions.tensordot(x1, x2, axes, precision=precision,
                                       preferred_element_type=preferred_element_type)


def outer(x1, x2, /):
  x1, x2 = ensure_arraylike("outer", x1, x2)
  if x1.ndim != 1 or x2.ndim != 1:
    raise ValueError(f"Input arrays must be one-dimensional, but they are "
                     f"{x1.ndim=} {x2.ndim=}")
  return tensor_contractions.outer(x1, x2)


def cross(x1, x2, /, *, axis=-1):
  x1, x2 = ensure_arraylike("cross", x1, x2)
  if x1.shape[axis] != 3 or x2.shape[axis] != 3:
    raise ValueError(f"Both input arrays must be (arrays of) 3-dimensional vectors, but "
                     f"they have {x1.shape[axis]=} and {x2.shape[axis]=}")
  return tensor_contractions.cross(x1, x2, axis=axis)


def trace(x, /, *, offset: int = 0, dtype=None):
  return array_manipulation.trace(ensure_arraylike("trace", x), offset=offset, axis1=-2,
                                  axis2=-1, dtype=dtype)

"""lax.linalg primitives: values vs SciPy/JAX, autodiff vs finite differences, vmap vs
a Python loop, jit (StableHLO lowerings) vs eager."""
import numpy as np
import pytest
import scipy.linalg as sla

import pyjax
import pyjax.numpy as jnp
from pyjax import lax
from pyjax._src.public_test_util import check_grads
from oracle import Oracle, lazy
from util import check_close, enable_x64, rand_hpd, rand_matrix

FLOATS = [np.float32, np.float64]
INEXACT = FLOATS + [np.complex64, np.complex128]


_mat, _hpd = rand_matrix, rand_hpd


jax = lazy("jax")
ORACLE = Oracle("test_linalg")


def _jl(name, *args, **kw):
  """JAX's ``lax.linalg.<name>(*args, **kw)``, from the oracle."""
  return ORACLE.call(lambda *a, **k: getattr(jax.lax.linalg, name)(*a, **k), *args,
                     oracle_tag=name, **kw)


@pytest.fixture(autouse=True)
def _x64():
  with enable_x64(True):
    yield


def _scale(dtype):
  return 50 if np.dtype(dtype) in (np.float32, np.complex64) else 100


# ---------------------------------------------------------------- cholesky


@pytest.mark.parametrize("dtype", INEXACT)
@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (2, 3, 5, 5)])
def test_cholesky_values(rng, dtype, shape):
  a = _hpd(rng, shape, dtype)
  got = lax.linalg.cholesky(a)
  assert got.dtype == dtype and got.shape == shape
  want = np.linalg.cholesky(a.astype(np.complex128 if np.dtype(dtype).kind == "c" else
                                     np.float64))
  check_close(got, want.astype(dtype), scale=_scale(dtype))


def test_cholesky_bitwise_jax(rng):
  a = _hpd(rng, (3, 6, 6), np.float32)
  np.testing.assert_array_equal(np.asarray(lax.linalg.cholesky(a)),
                                np.asarray(_jl("cholesky", a)))


def test_cholesky_not_positive_definite_is_nan():
  a = np.stack([np.eye(3), -np.eye(3)]).astype(np.float32)
  got = np.asarray(lax.linalg.cholesky(a))
  want = np.asarray(_jl("cholesky", a))
  np.testing.assert_array_equal(got, want)
  assert np.isnan(got[1][np.tril_indices(3)]).all() and not np.isnan(got[0]).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
def test_cholesky_jit_matches_eager(rng, dtype):
  a = _hpd(rng, (2, 5, 5), dtype)
  a[1] = -a[1]   # not positive definite: NaN in jit as eagerly
  f = lambda x: lax.linalg.cholesky(x)
  check_close(pyjax.jit(f)(a), f(a), scale=_scale(dtype))


def test_cholesky_errors():
  with pytest.raises(ValueError, match="square"):
    lax.linalg.cholesky(np.ones((2, 3), np.float32))
  with pytest.raises(TypeError, match="float32"):
    lax.linalg.cholesky(np.ones((2, 2), np.int32))


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_cholesky_grads(rng, dtype):
  a = _hpd(rng, (4, 4), dtype)
  check_grads(lax.linalg.cholesky, (a,), order=2, modes=("fwd", "rev"))


def test_cholesky_jvp_matches_jax(rng):
  a, t = _hpd(rng, (4, 4), np.float64), _mat(rng, (4, 4), np.float64)
  got = pyjax.jvp(lax.linalg.cholesky, (a,), (t,))
  want = ORACLE.call(lambda a, t: jax.jvp(jax.lax.linalg.cholesky, (a,), (t,)), a, t)
  for g, w in zip(got, want):
    check_close(g, np.asarray(w), scale=10)


def test_cholesky_vmap(rng):
  a = _hpd(rng, (3, 4, 4), np.float32)
  a = np.moveaxis(a, 0, 2)
  got = pyjax.vmap(lax.linalg.cholesky, in_axes=2)(a)
  want = np.stack([np.asarray(lax.linalg.cholesky(a[:, :, i])) for i in range(3)])
  check_close(got, want)


# ---------------------------------------------------------------- triangular_solve


FLAGS = [dict(left_side=l, lower=lo, transpose_a=t, conjugate_a=c, unit_diagonal=u)
         for l in (True, False) for lo in (True, False) for t in (True, False)
         for c in (False, True) for u in (False, True) if not (c and not t)]


def _tri_reference(a, b, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
  a = np.tril(a) if lower else np.triu(a)
  if unit_diagonal:
    a = a - np.diag(np.diag(a)) + np.eye(a.shape[-1])
  op = a.T if transpose_a else a
  op = np.conj(op) if conjugate_a else op
  return np.linalg.solve(op, b) if left_side else np.linalg.solve(op.T, b.T).T


@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: "-".join(k for k, v in f.items() if v)
                         or "none")
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_triangular_solve_values(rng, flags, dtype):
  a = _hpd(rng, (4, 4), dtype)
  b = _mat(rng, (4, 3) if flags["left_side"] else (3, 4), dtype)
  got = lax.linalg.triangular_solve(a, b, **flags)
  check_close(got, _tri_reference(a, b, **flags), scale=100)


@pytest.mark.parametrize("flags", FLAGS[::3], ids=str)
def test_triangular_solve_matches_jax_and_jit(rng, flags):
  a = _hpd(rng, (2, 4, 4), np.complex64)
  b = _mat(rng, (2, 4, 3) if flags["left_side"] else (2, 3, 4), np.complex64)
  got = lax.linalg.triangular_solve(a, b, **flags)
  np.testing.assert_array_equal(np.asarray(got),
                                np.asarray(_jl("triangular_solve", a, b, **flags)))
  f = lambda x, y: lax.linalg.triangular_solve(x, y, **flags)
  check_close(pyjax.jit(f)(a, b), got, scale=50)


def test_triangular_solve_vector_and_broadcast(rng):
  a = _hpd(rng, (2, 3, 3), np.float64)
  b = _mat(rng, (2, 3), np.float64)
  got = lax.linalg.triangular_solve(a, b, left_side=True, lower=True)
  want = np.stack([sla.solve_triangular(m, v, lower=True) for m, v in zip(a, b)])
  check_close(got, want)
  got = lax.linalg.triangular_solve(a, b, left_side=False, lower=True)
  want = np.stack([sla.solve_triangular(m, v, lower=True, trans=1) for m, v in zip(a, b)])
  check_close(got, want)


@pytest.mark.parametrize("flags", [FLAGS[0], FLAGS[5], FLAGS[-1]], ids=str)
def test_triangular_solve_grads(rng, flags):
  a = _hpd(rng, (3, 3), np.complex128)
  b = _mat(rng, (3, 2) if flags["left_side"] else (2, 3), np.complex128)
  f = lambda x, y: lax.linalg.triangular_solve(x, y, **flags)
  check_grads(f, (a, b), order=2, modes=("fwd", "rev"))


def test_triangular_solve_vmap(rng):
  a = _hpd(rng, (4, 3, 3), np.float64)
  b = _mat(rng, (3, 2), np.float64)
  f = lambda x, y: lax.linalg.triangular_solve(x, y, left_side=True, lower=False)
  got = pyjax.vmap(f, in_axes=(0, None))(a, b)
  check_close(got, np.stack([np.asarray(f(m, b)) for m in a]))
  bs = _mat(rng, (3, 2, 5), np.float64)
  got = pyjax.vmap(f, in_axes=(None, 2), out_axes=1)(a[0], bs)
  check_close(got, np.stack([np.asarray(f(a[0], bs[..., i])) for i in range(5)], 1))


def test_triangular_solve_errors():
  with pytest.raises(TypeError, match="must equal"):
    lax.linalg.triangular_solve(np.eye(3), np.ones((2, 2)), left_side=True)
  with pytest.raises(TypeError, match="same dtype"):
    lax.linalg.triangular_solve(np.eye(2, dtype=np.float32), np.ones((2, 2)), left_side=True)


# ---------------------------------------------------------------- lu


@pytest.mark.parametrize("dtype", INEXACT)
@pytest.mark.parametrize("shape", [(4, 4), (2, 5, 3), (3, 5)])
def test_lu_matches_jax(rng, dtype, shape):
  a = _mat(rng, shape, dtype)
  got = lax.linalg.lu(a)
  want = _jl("lu", a)
  for g, w in zip(got, want):
    assert g.dtype == w.dtype and g.shape == w.shape
    np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
  lu_, _, perm = (np.asarray(v) for v in got)
  k = min(shape[-2:])
  L = np.tril(lu_[..., :, :k], -1) + np.eye(shape[-2], k)
  U = np.triu(lu_[..., :k, :])
  check_close(np.take_along_axis(a, perm[..., None], -2), L @ U, scale=20)


def test_lu_pivots_to_permutation(rng):
  piv = np.array([[2, 2, 3, 3], [1, 3, 2, 3]], np.int32)
  np.testing.assert_array_equal(np.asarray(lax.linalg.lu_pivots_to_permutation(piv, 5)),
                                np.asarray(_jl("lu_pivots_to_permutation", piv, 5)))


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_lu_grads(rng, dtype):
  a = _mat(rng, (4, 4), dtype)
  check_grads(lambda x: lax.linalg.lu(x)[0], (a,), order=2, modes=("fwd", "rev"))


def test_lu_vmap(rng):
  a = _mat(rng, (3, 4, 4), np.float32)
  outs = pyjax.vmap(lax.linalg.lu)(a)
  for i in range(3):
    for o, w in zip(outs, lax.linalg.lu(a[i])):
      np.testing.assert_array_equal(np.asarray(o[i]), np.asarray(w))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
@pytest.mark.parametrize("shape", [(4, 4), (2, 5, 3), (3, 5)])
def test_lu_jit_matches_eager(rng, dtype, shape):
  a = _mat(rng, shape, dtype)
  a[..., 1, :] = 0   # a zero row: a zero pivot column later on for the square cases
  got, want = pyjax.jit(lax.linalg.lu)(a), lax.linalg.lu(a)
  check_close(got[0], want[0], scale=50)
  np.testing.assert_array_equal(np.asarray(got[1]), np.asarray(want[1]))
  np.testing.assert_array_equal(np.asarray(got[2]), np.asarray(want[2]))
  f = lambda x: pyjax.jvp(lambda y: lax.linalg.lu(y)[0], (x,), (x,))[1]
  if shape[-1] == shape[-2] and np.dtype(dtype).kind == "f":  # IREE: complex matmuls fail
    b = _mat(rng, shape, dtype)
    check_close(pyjax.jit(f)(b), f(b), scale=50)


# ---------------------------------------------------------------- qr


@pytest.mark.parametrize("dtype", INEXACT)
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 3)])
@pytest.mark.parametrize("full", [True, False])
def test_qr_matches_jax(rng, dtype, shape, full):
  a = _mat(rng, shape, dtype)
  q, r = lax.linalg.qr(a, full_matrices=full)
  wq, wr = _jl("qr", a, full_matrices=full)
  assert q.shape == wq.shape and r.shape == wr.shape and q.dtype == wq.dtype
  np.testing.assert_array_equal(np.asarray(q), np.asarray(wq))
  np.testing.assert_array_equal(np.asarray(r), np.asarray(wr))
  check_close(np.asarray(q) @ np.asarray(r), a, scale=20)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3)])
def test_qr_grads(rng, dtype, shape):
  a = _mat(rng, shape, dtype)
  check_grads(lambda x: lax.linalg.qr(x, full_matrices=False), (a,), order=2,
              modes=("fwd", "rev"))


def test_qr_vmap_and_jvp_error(rng):
  a = _mat(rng, (3, 4, 2), np.float64)
  q, r = pyjax.vmap(lambda x: lax.linalg.qr(x, full_matrices=False), in_axes=1)(a)
  for i in range(3):
    wq, wr = lax.linalg.qr(a[:, i], full_matrices=False)
    np.testing.assert_array_equal(np.asarray(q[i]), np.asarray(wq))
    np.testing.assert_array_equal(np.asarray(r[i]), np.asarray(wr))
  with pytest.raises(NotImplementedError, match="m >= n"):
    pyjax.jvp(lambda x: lax.linalg.qr(x, full_matrices=False), (a[0].T,), (a[0].T,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
@pytest.mark.parametrize("shape", [(4, 4), (2, 5, 3), (3, 5)])
@pytest.mark.parametrize("full", [True, False])
def test_qr_jit_matches_eager(rng, dtype, shape, full):
  a = _mat(rng, shape, dtype)
  a[..., :, 1] = 0   # a zero column: LAPACK's identity reflector
  f = lambda x: lax.linalg.qr(x, full_matrices=full)
  for g, w in zip(pyjax.jit(f)(a), f(a)):
    check_close(g, w, scale=50)


# ---------------------------------------------------------------- eigh


@pytest.mark.parametrize("dtype", INEXACT)
@pytest.mark.parametrize("lower", [True, False])
def test_eigh_matches_jax(rng, dtype, lower):
  a = _mat(rng, (2, 5, 5), dtype)
  v, w = lax.linalg.eigh(a, lower=lower, symmetrize_input=False)
  wv, ww = _jl("eigh", a, lower=lower, symmetrize_input=False)
  assert w.dtype == ww.dtype and v.dtype == wv.dtype
  np.testing.assert_array_equal(np.asarray(w), np.asarray(ww))
  np.testing.assert_array_equal(np.asarray(v), np.asarray(wv))
  h = np.tril(a) if lower else np.triu(a)
  h = h + np.conj(np.swapaxes(h, -1, -2)) - np.eye(5) * np.real(np.diagonal(a, 0, -2, -1))[
      ..., None, :]
  check_close(h @ np.asarray(v), np.asarray(v) * np.asarray(w)[..., None, :], dtype,
              scale=100)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_eigh_grads(rng, dtype):
  a = _hpd(rng, (4, 4), dtype)
  check_grads(lambda x: lax.linalg.eigh(x)[1], (a,), order=2, modes=("fwd", "rev"))
  # Eigenvectors up to phase: |v| is phase-free.
  check_grads(lambda x: jnp.abs(lax.linalg.eigh(x)[0]), (a,), order=2, modes=("fwd", "rev"))


def test_eigh_jvp_matches_jax(rng):
  a, t = _hpd(rng, (4, 4), np.float64), _mat(rng, (4, 4), np.float64)
  got = pyjax.jvp(lambda x: lax.linalg.eigh(x), (a,), (t,))
  want = ORACLE.call(lambda a, t: jax.jvp(lambda x: jax.lax.linalg.eigh(x), (a,), (t,)),
                     a, t)
  for g, w in zip(got, want):
    for gi, wi in zip(g, w):
      check_close(gi, np.asarray(wi), scale=100)


def test_eigh_vmap(rng):
  a = _hpd(rng, (3, 4, 4), np.float32)
  v, w = pyjax.vmap(lax.linalg.eigh)(a)
  for i in range(3):
    wv, ww = lax.linalg.eigh(a[i])
    np.testing.assert_array_equal(np.asarray(w[i]), np.asarray(ww))


def _H(x):
  return np.conj(np.swapaxes(x, -1, -2))


def _check_unitary(q, dtype, scale):
  """Orthonormal columns (or rows, for a wide ``q``)."""
  q = np.asarray(q)
  g = _H(q) @ q if q.shape[-2] >= q.shape[-1] else q @ _H(q)
  check_close(g, np.broadcast_to(np.eye(g.shape[-1]), g.shape), dtype, scale=scale)


def _check_eigh(v, w, want_w, h, dtype, scale, sort=True):
  """``(v, w)`` from jit against eager's eigenvalues ``want_w`` and the Hermitian ``h``."""
  v, w = np.asarray(v), np.asarray(w)
  assert v.dtype == dtype and w.dtype == np.finfo(dtype).dtype
  assert v.shape == h.shape and w.shape == h.shape[:-1]
  norm = max(np.abs(np.asarray(want_w)).max(), 1)   # errors relative to ||h||_2
  check_close((np.sort(w, -1) if not sort else w) / norm, want_w / norm, dtype, scale=scale)
  check_close(h @ v / norm, v * w[..., None, :] / norm, dtype, scale=scale)
  _check_unitary(v, dtype, scale)


def _hermitian_part(a, lower):
  """The Hermitian matrix LAPACK reads from one triangle of ``a``."""
  t = np.tril(a, -1) if lower else np.triu(a, 1)
  return t + _H(t) + np.real(np.diagonal(a, 0, -2, -1))[..., None] * np.eye(a.shape[-1])


def _degenerate_hermitian(rng, dtype):
  """Repeated eigenvalues: q diag(1, 1, 1, 2, -3) q^H, the identity and zero (5 x 5)."""
  q = np.linalg.qr(_mat(rng, (5, 5), dtype).astype(np.complex128))[0]
  q = q if np.dtype(dtype).kind == "c" else np.real(q)
  rep = (q * np.array([1., 1., 1., 2., -3.])) @ _H(q)
  return np.stack([rep, np.eye(5), np.zeros((5, 5))]).astype(dtype)


@pytest.mark.parametrize("dtype", INEXACT)
def test_eigh_jit_matches_eager(rng, dtype):
  a = _mat(rng, (2, 5, 5), dtype)          # not Hermitian: each triangle says another matrix
  b = _mat(rng, (4, 4), dtype)
  deg = _degenerate_hermitian(rng, dtype)
  eig = lambda x, **kw: lax.linalg.eigh(x, symmetrize_input=False, **kw)
  f = lambda a, b, deg: (eig(a), eig(a, lower=False, sort_eigenvalues=False), eig(b), eig(deg))
  got, want = pyjax.jit(f)(a, b, deg), f(a, b, deg)
  scale = _scale(dtype)
  _check_eigh(*got[0], want[0][1], _hermitian_part(a, True), dtype, scale)
  _check_eigh(*got[1], want[1][1], _hermitian_part(a, False), dtype, scale, sort=False)
  _check_eigh(*got[2], want[2][1], _hermitian_part(b, True), dtype, scale)
  _check_eigh(*got[3], want[3][1], _hermitian_part(deg, True), dtype, scale)
  np.testing.assert_array_equal(np.asarray(got[3][1])[1:], [[1] * 5, [0] * 5])


def test_eigh_jit_grad_vmap_and_size_64(rng):
  a = _hpd(rng, (4, 4), np.float64)
  f = lambda x: jnp.sum(lax.linalg.eigh(x)[1] ** 2) + lax.linalg.eigh(x)[1][0]
  check_close(pyjax.jit(pyjax.grad(f))(a), pyjax.grad(f)(a), scale=1e3)
  b = _hpd(rng, (3, 4, 4), np.float32)
  v, w = pyjax.vmap(pyjax.jit(lax.linalg.eigh))(b)
  for i in range(3):
    _check_eigh(v[i], w[i], lax.linalg.eigh(b[i])[1], b[i], np.float32, 50)
  c = _mat(rng, (64, 64), np.float32)
  v, w = pyjax.jit(lax.linalg.eigh)(c + c.T)
  _check_eigh(v, w, np.linalg.eigvalsh((c + c.T).astype(np.float64)), c + c.T, np.float32,
              scale=100)


# ---------------------------------------------------------------- svd


@pytest.mark.parametrize("dtype", INEXACT)
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (2, 3, 5)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_matches_jax(rng, dtype, shape, full):
  a = _mat(rng, shape, dtype)
  got = lax.linalg.svd(a, full_matrices=full)
  want = _jl("svd", a, full_matrices=full)
  for g, w in zip(got, want):
    assert g.dtype == w.dtype and g.shape == w.shape
    np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
  s = lax.linalg.svd(a, compute_uv=False)
  np.testing.assert_array_equal(np.asarray(s), np.asarray(_jl("svd", a, compute_uv=False)))
  u, s, vh = (np.asarray(x) for x in lax.linalg.svd(a, full_matrices=False))
  check_close((u * s[..., None, :]) @ vh, a, scale=50)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 4)])
def test_svd_grads(rng, dtype, shape):
  a = _mat(rng, shape, dtype)
  check_grads(lambda x: lax.linalg.svd(x, compute_uv=False), (a,), order=2,
              modes=("fwd", "rev"))
  rec = lambda x: (lambda u, s, vh: (u * s[..., None, :].astype(u.dtype)) @ vh)(
      *lax.linalg.svd(x, full_matrices=False))
  check_grads(rec, (a,), order=2, modes=("fwd", "rev"))
  if dtype == np.float64:   # real singular vectors are sign-fixed by LAPACK: check them too
    check_grads(lambda x: lax.linalg.svd(x, full_matrices=False), (a,), order=2,
                modes=("fwd", "rev"))


def test_svd_vmap(rng):
  a = _mat(rng, (3, 4, 2), np.float64)
  s = pyjax.vmap(lambda x: lax.linalg.svd(x, compute_uv=False), in_axes=2)(a)
  check_close(s, np.stack([np.linalg.svd(a[..., i], compute_uv=False) for i in range(2)]))


def _check_svd(got, want, a, dtype, scale, full):
  """``(u, s, vh)`` from jit against eager's and the matrix ``a``."""
  u, s, vh = (np.asarray(x) for x in got)
  for g, w in zip((u, s, vh), want):
    assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
  norm = max(np.asarray(want[1]).max(initial=0), 1)   # errors relative to ||a||_2
  check_close(s / norm, want[1] / norm, dtype, scale=scale)
  assert (np.diff(s, axis=-1) <= 0).all()
  k = s.shape[-1]
  check_close((u[..., :, :k] * s[..., None, :]) @ vh[..., :k, :] / norm, a / norm, dtype,
              scale=scale)
  _check_unitary(u, dtype, scale)
  _check_unitary(vh, dtype, scale)
  if full:
    assert u.shape[-1] == u.shape[-2] and vh.shape[-1] == vh.shape[-2]


@pytest.mark.parametrize("dtype", INEXACT)
def test_svd_jit_matches_eager(rng, dtype):
  tall = _mat(rng, (2, 5, 3), dtype)
  wide = _mat(rng, (3, 4), dtype)
  low = np.stack([_mat(rng, (4, 2), dtype) @ _mat(rng, (2, 4), dtype),      # rank 2
                  np.zeros((4, 4), dtype)])
  def f(tall, wide, low):
    svd = lax.linalg.svd
    return (svd(tall), svd(tall, full_matrices=False), svd(tall, compute_uv=False),
            svd(wide), svd(wide, full_matrices=False), svd(low))
  got, want = pyjax.jit(f)(tall, wide, low), f(tall, wide, low)
  scale = _scale(dtype)
  _check_svd(got[0], want[0], tall, dtype, scale, True)
  _check_svd(got[1], want[1], tall, dtype, scale, False)
  assert got[2].shape == want[2].shape and got[2].dtype == want[2].dtype
  norm = np.asarray(want[2]).max()
  check_close(got[2] / norm, want[2] / norm, dtype, scale=scale)
  _check_svd(got[3], want[3], wide, dtype, scale, True)
  _check_svd(got[4], want[4], wide, dtype, scale, False)
  _check_svd(got[5], want[5], low, dtype, scale, True)
  np.testing.assert_array_equal(np.asarray(got[5][1])[1], 0)


def test_svd_jit_grad_vmap_and_size_64(rng):
  a = _mat(rng, (4, 3), np.float64)
  f = lambda x: jnp.sum(lax.linalg.svd(x, compute_uv=False) ** 3)
  check_close(pyjax.jit(pyjax.grad(f))(a), pyjax.grad(f)(a), scale=1e3)
  b = _mat(rng, (3, 2, 4), np.float32)
  outs = pyjax.vmap(pyjax.jit(lax.linalg.svd))(b)
  for i in range(3):
    _check_svd([o[i] for o in outs], lax.linalg.svd(b[i]), b[i], np.float32, 50, True)
  c = _mat(rng, (64, 48), np.float32)
  got = pyjax.jit(lambda x: lax.linalg.svd(x, full_matrices=False))(c)
  _check_svd(got, lax.linalg.svd(c, full_matrices=False), c, np.float32, 100, False)


def test_lowerings_at_size_64(rng):
  """Sizes where IREE's CPU backend refused row-contracting matrix-vector dot_generals."""
  a = _mat(rng, (64, 64), np.float32)
  h = _hpd(rng, (64, 64), np.float32)
  for f, x in [(lax.linalg.cholesky, h), (lax.linalg.lu, a), (lax.linalg.qr, a),
               (lambda x: lax.linalg.triangular_solve(x, a, left_side=True, lower=True), h)]:
    got, want = pyjax.jit(f)(x), f(x)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    for g, w in zip(got, want):
      np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-3, atol=1e-4)


def test_eigh_and_svd_jit_empty():
  f = lambda x, y: (lax.linalg.eigh(x), lax.linalg.svd(y), lax.linalg.svd(y.T, full_matrices=False))
  x, y = np.zeros((2, 0, 0), np.float32), np.zeros((0, 3), np.float32)
  leaves = pyjax.tree_util.tree_leaves
  for g, w in zip(leaves(pyjax.jit(f)(x, y)), leaves(f(x, y))):
    assert g.shape == w.shape and g.dtype == w.dtype
    np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_eigh_svd_nan_and_inf_inputs():
  # A matrix with a NaN: JAX's (LAPACK's) eigh and svd give NaN everywhere; eager svd
  # raised ValueError, eager eigh LinAlgError and jitted eigh finite eigenvalues. An inf:
  # NaN eigen/singular values. Batched: the finite matrix beside them is unaffected.
  a = np.array([[4., 1, 0.5], [1, 3, 0.2], [0.5, 0.2, 2]], np.float32)
  stack = np.stack([a, a, a])
  stack[0, 1, 1], stack[1, 1, 1] = np.nan, np.inf
  jl = lazy("jax.numpy.linalg")
  cases = [(lambda m: pyjax.numpy.linalg.eigh(m)[0], lambda m: jl.eigh(m)[0]),
           (lambda m: pyjax.numpy.linalg.svd(m, compute_uv=False),
            lambda m: jl.svd(m, compute_uv=False))]
  for i, (pf, jf) in enumerate(cases):
    ref = np.asarray(ORACLE.call(jf, stack, oracle_tag=i))
    for f in (pf, pyjax.jit(pf)):
      got = np.asarray(f(stack))
      np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
      np.testing.assert_allclose(got[2], ref[2], rtol=1e-5)
  for f in (pyjax.numpy.linalg.eigh, pyjax.jit(pyjax.numpy.linalg.eigh)):
    w, v = f(stack[:1])
    assert np.isnan(np.asarray(w)).all() and np.isnan(np.asarray(v)).all()
  for f in (pyjax.numpy.linalg.svd, pyjax.jit(pyjax.numpy.linalg.svd)):
    assert all(np.isnan(np.asarray(o)).all() for o in f(stack[:1]))

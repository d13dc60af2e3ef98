"""jax.numpy.linalg and jax.scipy.linalg: values vs NumPy/SciPy and JAX, gradients vs
finite differences, vmap vs a loop, jit vs eager where the primitives lower."""
import numpy as np
import pytest
import scipy.linalg as sla

import pyjax
import pyjax.numpy as jnp
import pyjax.scipy.linalg as jsl
from pyjax._src.public_test_util import check_grads
from oracle import Oracle, lazy
from util import check_close, enable_x64, rand_hpd, rand_matrix


_mat, _hpd = rand_matrix, rand_hpd
jax = lazy("jax")
ORACLE = Oracle("test_linalg_numpy")


@pytest.fixture(autouse=True)
def _x64():
  with enable_x64(True):
    yield


DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def _close(got, want, dtype, scale=100):
  got = got if isinstance(got, (tuple, list)) else (got,)
  want = want if isinstance(want, (tuple, list)) else (want,)
  assert len(got) == len(want)
  for g, w in zip(got, want):
    w = np.asarray(w)
    assert np.asarray(g).shape == w.shape, (np.asarray(g).shape, w.shape)
    assert np.asarray(g).dtype.kind == w.dtype.kind, (np.asarray(g).dtype, w.dtype)
    check_close(np.asarray(g).astype(w.dtype), w, dtype if w.dtype.kind in "fc" else w.dtype,
                scale=scale)


# ---------------------------------------------------------------- jnp.linalg vs NumPy/JAX

# name, args builder (rng, dtype) -> args
CASES = {
    "cholesky": lambda r, d: (_hpd(r, (2, 4, 4), d),),
    "det": lambda r, d: (_mat(r, (3, 4, 4), d),),
    "slogdet": lambda r, d: (_mat(r, (3, 4, 4), d),),
    "inv": lambda r, d: (_mat(r, (2, 4, 4), d),),
    "solve": lambda r, d: (_mat(r, (2, 4, 4), d), _mat(r, (2, 4, 3), d)),
    "pinv": lambda r, d: (_mat(r, (2, 5, 3), d),),
    "matrix_rank": lambda r, d: (_mat(r, (5, 3), d) @ _mat(r, (3, 6), d),),
    "svdvals": lambda r, d: (_mat(r, (2, 4, 6), d),),
    "eigvalsh": lambda r, d: (_hpd(r, (2, 5, 5), d),),
    "cond": lambda r, d: (_mat(r, (4, 4), d),),
    "matrix_power": lambda r, d: (_mat(r, (2, 3, 3), d), 6),
    "tensorinv": lambda r, d: (_mat(r, (2, 3, 6), d),),
    "multi_dot": lambda r, d: ([_mat(r, (3,), d), _mat(r, (3, 4), d), _mat(r, (4, 2), d)],),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_linalg_vs_numpy_and_jax(rng, name, dtype):
  args = CASES[name](rng, dtype)
  got = getattr(jnp.linalg, name)(*args)
  want = getattr(np.linalg, name)(*args)
  _close(got, want, dtype)
  with enable_x64(True):
    jwant = ORACLE.call(lambda *a: getattr(jax.numpy.linalg, name)(*a), *args)
  jw = jwant if isinstance(jwant, tuple) else (jwant,)
  g = got if isinstance(got, tuple) else (got,)
  assert [np.asarray(x).dtype for x in g] == [np.asarray(x).dtype for x in jw]
  _close(got, jwant, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_decompositions(rng, dtype):
  a = _mat(rng, (2, 5, 3), dtype)
  for mode in ("reduced", "complete", "r"):
    got = jnp.linalg.qr(a, mode)
    want = ORACLE.call(lambda a, mode: jax.numpy.linalg.qr(a, mode), a, mode)
    _close(tuple(got) if mode != "r" else got, tuple(want) if mode != "r" else want, dtype)
  got = jnp.linalg.svd(a, full_matrices=False)
  want = ORACLE.call(lambda a: jax.numpy.linalg.svd(a, full_matrices=False), a)
  _close(tuple(got), tuple(want), dtype)
  assert type(got).__name__ == "SVDResult" and got.S.shape == (2, 3)
  h = _hpd(rng, (2, 4, 4), dtype)
  w, v = jnp.linalg.eigh(h)
  check_close(h @ np.asarray(v), np.asarray(v) * np.asarray(w)[..., None, :], dtype, scale=100)
  _close(w, np.linalg.eigvalsh(h), dtype)
  u, s, vh = jnp.linalg.svd(h, hermitian=True)
  _close(s, np.linalg.svd(h, compute_uv=False), dtype)
  check_close((np.asarray(u) * np.asarray(s)[..., None, :]) @ np.asarray(vh), h, dtype,
              scale=100)
  U = jnp.linalg.cholesky(h, upper=True)
  check_close(np.conj(np.swapaxes(np.asarray(U), -1, -2)) @ np.asarray(U), h, dtype, scale=100)


def test_solve_shapes(rng):
  a, b = _mat(rng, (3, 3), np.float64), _mat(rng, (3,), np.float64)
  _close(jnp.linalg.solve(a, b), np.linalg.solve(a, b), np.float64)
  a2, b2 = _mat(rng, (2, 1, 3, 3), np.float64), _mat(rng, (4, 3, 2), np.float64)
  _close(jnp.linalg.solve(a2, b2), np.linalg.solve(a2, b2), np.float64)
  with pytest.raises(ValueError, match="must equal"):
    jnp.linalg.solve(a, np.ones(4))
  with pytest.raises(ValueError, match="square"):
    jnp.linalg.inv(np.ones((2, 3)))


def test_singular(rng):
  a = np.array([[1., 2.], [2., 4.]])
  assert float(jnp.linalg.det(a)) == 0.0
  sign, logdet = jnp.linalg.slogdet(a)
  assert float(sign) == 0.0 and float(logdet) == -np.inf
  assert int(jnp.linalg.matrix_rank(a)) == 1
  _close(jnp.linalg.pinv(a), np.linalg.pinv(a), np.float64)


ORDS_VEC = [None, 0, 1, -1, 2, -2, np.inf, -np.inf, 3, 0.5]
ORDS_MAT = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


@pytest.mark.parametrize("dtype", [np.float32, np.complex128])
def test_norm(rng, dtype):
  x = _mat(rng, (3, 4, 5), dtype)
  for ord in ORDS_VEC:
    for axis in (0, -1):
      for keepdims in (False, True):
        _close(jnp.linalg.norm(x, ord, axis, keepdims), np.linalg.norm(x, ord, axis, keepdims),
               dtype)
  _close(jnp.linalg.norm(x[0, 0], 3), np.linalg.norm(x[0, 0], 3), dtype)
  for ord in ORDS_MAT:
    for axis in ((1, 2), (2, 0)):
      for keepdims in (False, True):
        _close(jnp.linalg.norm(x, ord, axis, keepdims), np.linalg.norm(x, ord, axis, keepdims),
               dtype)
  _close(jnp.linalg.norm(x), np.linalg.norm(x), dtype)
  _close(jnp.linalg.norm(x[0], "nuc"), np.linalg.norm(x[0], "nuc"), dtype)
  _close(jnp.linalg.vector_norm(x, ord=1, keepdims=True),
         np.linalg.vector_norm(x, ord=1, keepdims=True), dtype)
  _close(jnp.linalg.vector_norm(x, axis=(0, 2)), np.linalg.vector_norm(x, axis=(0, 2)), dtype)
  _close(jnp.linalg.matrix_norm(x, ord="nuc"), np.linalg.matrix_norm(x, ord="nuc"), dtype)
  with pytest.raises(ValueError, match="Invalid order"):
    jnp.linalg.norm(x, "bad", axis=(0, 1))
  with pytest.raises(ValueError, match="Improper number of axes"):
    jnp.linalg.norm(x, 2, axis=(0, 1, 2))


def test_products_and_tensors(rng):
  a, b = _mat(rng, (2, 3, 4), np.float64), _mat(rng, (2, 4, 5), np.float64)
  _close(jnp.linalg.matmul(a, b), np.linalg.matmul(a, b), np.float64)
  _close(jnp.linalg.tensordot(a, b[0], axes=1), np.linalg.tensordot(a, b[0], axes=1),
         np.float64)
  _close(jnp.linalg.outer(a[0, 0], b[0, 0]), np.linalg.outer(a[0, 0], b[0, 0]), np.float64)
  _close(jnp.linalg.cross(a[..., :3], b[:, :3, :3]),
         np.linalg.cross(a[..., :3], b[:, :3, :3]), np.float64)
  _close(jnp.linalg.trace(a[..., :3]), np.linalg.trace(a[..., :3]), np.float64)
  _close(jnp.linalg.diagonal(a, offset=1), np.linalg.diagonal(a, offset=1), np.float64)
  _close(jnp.linalg.vecdot(a, a), np.linalg.vecdot(a, a), np.float64)
  _close(jnp.linalg.matrix_transpose(a), np.linalg.matrix_transpose(a), np.float64)
  m = _mat(rng, (5, 2), np.float64)
  t = _mat(rng, (6, 6), np.float64).reshape(2, 3, 6)
  _close(jnp.linalg.tensorinv(t, 2), np.linalg.tensorinv(t, 2), np.float64)
  A = _mat(rng, (2, 3, 6), np.float64)
  B = _mat(rng, (2, 3), np.float64)
  _close(jnp.linalg.tensorsolve(A, B), np.linalg.tensorsolve(A, B), np.float64)
  for arrs in ([a[0], b[0], m], [a[0, 0], b[0], b[1, 0, :]]):
    _close(jnp.linalg.multi_dot(arrs), np.linalg.multi_dot(arrs), np.float64)


def test_lstsq(rng):
  a, b = _mat(rng, (6, 3), np.float64), _mat(rng, (6, 2), np.float64)
  got = jnp.linalg.lstsq(a, b)
  want = np.linalg.lstsq(a, b)
  for g, w in zip(got, want):
    _close(g, w, np.float64)
  x, resid, rank, s = jnp.linalg.lstsq(a.T, b[:3, 0])
  jx = ORACLE.call(lambda a, b: jax.numpy.linalg.lstsq(a, b), a.T, b[:3, 0])
  _close((x, resid, rank, s), jx, np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_grads(rng, dtype):
  a = _mat(rng, (3, 3), dtype) + 3 * np.eye(3)
  h = _hpd(rng, (3, 3), dtype)
  b = _mat(rng, (3, 2), dtype)
  for f, args in [(jnp.linalg.det, (a,)), (lambda x: jnp.linalg.slogdet(x)[1], (a,)),
                  (jnp.linalg.inv, (a,)), (jnp.linalg.solve, (a, b)), (jnp.linalg.pinv, (a,)),
                  (jnp.linalg.eigvalsh, (h,)), (jnp.linalg.cholesky, (h,)),
                  (lambda x: jnp.linalg.norm(x, "nuc"), (a,)),
                  (lambda x: jnp.linalg.norm(x, 2), (a,)),
                  (lambda x: jnp.linalg.matrix_power(x, -3), (a,))]:
    check_grads(f, args, order=2, modes=("fwd", "rev"))


def test_grad_matches_jax(rng):
  a = _mat(rng, (4, 4), np.float64)
  for name in ("det", "inv", "pinv", "eigvalsh"):
    f = lambda x: getattr(jnp.linalg, name)(x).sum()
    jf = lambda x: getattr(jax.numpy.linalg, name)(x).sum()
    _close(pyjax.grad(f)(a), ORACLE.call(lambda a: jax.grad(jf)(a), a, oracle_tag=name),
           np.float64)


def test_vmap(rng):
  a, b = _mat(rng, (4, 3, 3), np.float64), _mat(rng, (3, 4), np.float64)
  got = pyjax.vmap(jnp.linalg.solve, in_axes=(0, 1))(a, b)
  _close(got, np.stack([np.linalg.solve(a[i], b[:, i]) for i in range(4)]), np.float64)
  got = pyjax.vmap(jnp.linalg.slogdet)(a)
  want = [np.linalg.slogdet(a[i]) for i in range(4)]
  _close(got, (np.array([w[0] for w in want]), np.array([w[1] for w in want])), np.float64)


def test_jit_matches_eager(rng):
  h, b = _hpd(rng, (2, 5, 5), np.float32), _mat(rng, (2, 5, 3), np.float32)
  f = lambda h, b: jsl.cho_solve(jsl.cho_factor(h, lower=True), b)
  check_close(pyjax.jit(f)(h, b), f(h, b), scale=100)
  check_close(f(h, b), np.linalg.solve(h.astype(np.float64), b), np.float32, scale=100)
  g = lambda h: jnp.linalg.cholesky(h)
  check_close(pyjax.jit(g)(h), g(h), scale=50)
  a = _mat(rng, (2, 5, 5), np.float32)
  for f, args in [(jnp.linalg.solve, (a, b)), (jnp.linalg.inv, (a,)), (jnp.linalg.det, (a,)),
                  (jnp.linalg.slogdet, (a,)),
                  (pyjax.grad(lambda x: jnp.linalg.det(x).sum()), (a,)),
                  (lambda x, y: jsl.lu_solve(jsl.lu_factor(x), y, trans=1), (a, b))]:
    _close(pyjax.jit(f)(*args), f(*args), np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.complex128])
def test_eigh_and_svd_family_under_jit(rng, dtype):
  """jnp.linalg's eigh/svd users under jit vs eager (vectors checked up to phase)."""
  h = _hpd(rng, (2, 4, 4), dtype)
  a = _mat(rng, (2, 5, 3), dtype)
  a[1, :, 2] = a[1, :, 0] + a[1, :, 1]          # rank 2

  # pinv divides by inf past the cutoff; complex x / inf is NaN under jit (lax.div's
  # lowering, not svd's), so complex pinv is checked on the full-rank matrix only.
  full_rank = 1 if np.dtype(dtype).kind == "c" else 2

  def f(h, a):
    w, v = jnp.linalg.eigh(h)
    u, s, vh = jnp.linalg.svd(a)
    return (w, v, jnp.linalg.eigvalsh(h, UPLO="U"), s, u, vh, jnp.linalg.svdvals(a),
            jnp.linalg.pinv(a[:full_rank]), jnp.linalg.matrix_rank(a),
            jnp.linalg.norm(a, ord=2, axis=(1, 2)), jnp.linalg.norm(h[0], ord=-2),
            jnp.linalg.norm(a[0], ord="nuc"), jnp.linalg.cond(h))
  got, want = pyjax.jit(f)(h, a), f(h, a)
  for i in (0, 2, 3, 6, 7, 8, 9, 10, 11, 12):
    _close(got[i], want[i], dtype, scale=200)
  np.testing.assert_array_equal(np.asarray(got[8]), [3, 2])
  w, v, s, u, vh = (np.asarray(got[i]) for i in (0, 1, 3, 4, 5))
  _close(v @ (w[..., None] * np.conj(np.swapaxes(v, -1, -2))), h, dtype, scale=200)
  _close((u[..., :3] * s[..., None, :]) @ vh, a, dtype, scale=200)
  _close(np.conj(np.swapaxes(u, -1, -2)) @ u, np.broadcast_to(np.eye(5, dtype=dtype), (2, 5, 5)),
         dtype, scale=200)


# ---------------------------------------------------------------- jax.scipy.linalg


@pytest.mark.parametrize("dtype", [np.float32, np.complex128])
def test_scipy_linalg(rng, dtype):
  a, b = _mat(rng, (4, 4), dtype), _mat(rng, (4, 2), dtype)
  h = _hpd(rng, (4, 4), dtype)
  for lower in (True, False):
    _close(jsl.cholesky(h, lower=lower), sla.cholesky(h, lower=lower), dtype)
    _close(jsl.cho_solve(jsl.cho_factor(h, lower=lower), b),
           sla.cho_solve(sla.cho_factor(h, lower=lower), b), dtype)
    for trans in (0, 1, 2, "N", "T", "C"):
      for unit in (False, True):
        _close(jsl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit),
               sla.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit),
               dtype, scale=1000)
  for shape in ((4, 4), (3, 4), (4, 3)):
    m = _mat(rng, shape, dtype)
    _close(jsl.lu(m), sla.lu(m), dtype)
    _close(jsl.lu(m, permute_l=True), sla.lu(m, permute_l=True), dtype)
  _close(jsl.lu_factor(a), sla.lu_factor(a), dtype)
  for trans in (0, 1, 2):
    _close(jsl.lu_solve(jsl.lu_factor(a), b, trans=trans),
           sla.lu_solve(sla.lu_factor(a), b, trans=trans), dtype)
  _close(jsl.lu_solve(jsl.lu_factor(a), b[:, 0]), sla.lu_solve(sla.lu_factor(a), b[:, 0]),
         dtype)
  for mode in ("full", "r", "economic"):
    _close(jsl.qr(a[:, :3], mode=mode), sla.qr(a[:, :3], mode=mode), dtype)
  _close(jsl.eigh(h, eigvals_only=True), sla.eigh(h, eigvals_only=True), dtype)
  w, v = jsl.eigh(h, lower=False)
  check_close(np.triu(h) @ np.asarray(v) - np.asarray(v) * np.asarray(w) +
              np.conj(np.triu(h, 1)).T @ np.asarray(v), np.zeros_like(h), dtype, scale=1000)
  _close(jsl.svd(a), sla.svd(a), dtype)
  _close(jsl.svd(a, compute_uv=False), sla.svd(a, compute_uv=False), dtype)
  _close(jsl.inv(a), sla.inv(a), dtype)
  _close(jsl.det(a), sla.det(a), dtype)
  _close(jsl.solve(a, b), sla.solve(a, b), dtype)
  _close(jsl.solve(h, b, assume_a="pos"), sla.solve(h, b, assume_a="pos"), dtype)


@pytest.mark.parametrize("scale", [1e-3, 1., 30.])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_expm(rng, dtype, scale):
  a = (_mat(rng, (2, 4, 4), dtype) * scale).astype(dtype)
  got = np.asarray(jsl.expm(a))
  want = np.stack([sla.expm(m.astype(np.complex128 if np.dtype(dtype).kind == "c" else
                                      np.float64)) for m in a])
  err = np.abs(got - want).max() / np.abs(want).max()
  assert err < (5e-5 if dtype == np.float32 else 1e-12), err


def test_expm_grad_and_jit(rng):
  a = _mat(rng, (3, 3), np.float64)
  check_grads(jsl.expm, (a,), order=1, modes=("fwd", "rev"))
  _close(pyjax.grad(lambda x: jsl.expm(x).sum())(a),
         ORACLE.call(lambda a: jax.grad(lambda x: jax.scipy.linalg.expm(x).sum())(a), a),
         np.float64, scale=1000)


def test_scipy_errors():
  with pytest.raises(NotImplementedError, match="generalized"):
    jsl.eigh(np.eye(2), np.eye(2))
  with pytest.raises(ValueError, match="trans"):
    jsl.solve_triangular(np.eye(2), np.ones(2), trans=3)
  with pytest.raises(ValueError, match="assume_a"):
    jsl.solve(np.eye(2), np.ones(2), assume_a="banded")

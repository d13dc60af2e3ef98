"""jax.scipy.linalg's names beyond the factorizations (test_linalg_numpy.py has those):
special matrices, expm/expm_frechet, schur/hessenberg and what builds on them, polar,
qr_multiply, eigh_tridiagonal. One table: values vs JAX (and SciPy), one jitted program
for all rows vs eager, grad vs JAX's grad, vmap vs a loop; JAX's errors."""
import numpy as np
import pytest
import scipy.linalg as sla

import pyjax
import pyjax.numpy as jnp
import pyjax.scipy.linalg as psl
from util import check_close


def _jax():
  return pytest.importorskip("jax")


_R = np.random.default_rng(1)


def _m(*shape):
  return _R.normal(size=shape).astype(np.float32)


A44, B33, C43, V5, W3 = _m(4, 4), _m(3, 3), _m(4, 3), _m(5), _m(3)
SPD = (A44 @ A44.T + 4 * np.eye(4)).astype(np.float32)
D5, E4 = _m(5), _m(4)
B2_44 = _m(2, 4, 4)


# name, fn(module, *args), args, scipy reference (fn(scipy.linalg, *args)) or None,
# flags: "g" differentiate (vs JAX's grad of the real sum) in the first argument, "v"
# vmap over a leading axis of the first argument, "j" in the jitted program (a
# representative set: compiling is the cost; sqrtm, solve_sylvester fail in IREE).
ROWS = [
    ("block_diag", lambda m, a, b, c: m.block_diag(a, b, c), (A44, V5, B33),
     lambda s, a, b, c: s.block_diag(a, b, c), "gj"),
    ("circulant", lambda m, c: m.circulant(c), (V5,), lambda s, c: s.circulant(c), "gvj"),
    ("companion", lambda m, a: m.companion(a), (V5,), lambda s, a: s.companion(a), "gvj"),
    ("convolution_matrix_full", lambda m, a: m.convolution_matrix(a, 3), (V5,),
     lambda s, a: s.convolution_matrix(a, 3), "gvj"),
    ("convolution_matrix_same", lambda m, a: m.convolution_matrix(a, 4, "same"), (V5,),
     lambda s, a: s.convolution_matrix(a, 4, "same"), "g"),
    ("convolution_matrix_valid", lambda m, a: m.convolution_matrix(a, 3, "valid"), (V5,),
     lambda s, a: s.convolution_matrix(a, 3, "valid"), ""),
    ("dft", lambda m: m.dft(6), (), lambda s: s.dft(6), "j"),
    ("dft_sqrtn", lambda m: m.dft(5, "sqrtn"), (), lambda s: s.dft(5, "sqrtn"), ""),
    ("fiedler", lambda m, a: m.fiedler(a), (V5,), lambda s, a: s.fiedler(a), "vj"),
    ("fiedler_companion", lambda m, a: m.fiedler_companion(a), (V5,),
     lambda s, a: s.fiedler_companion(a), "gv"),
    ("hadamard", lambda m: m.hadamard(8), (), lambda s: s.hadamard(8), "j"),
    ("hadamard_f", lambda m: m.hadamard(4, np.float32), (), None, ""),
    ("hankel", lambda m, c, r: m.hankel(c, r), (V5, W3), lambda s, c, r: s.hankel(c, r),
     "gvj"),
    ("hankel_c", lambda m, c: m.hankel(c), (V5,), lambda s, c: s.hankel(c), "g"),
    ("toeplitz", lambda m, c, r: m.toeplitz(c, r), (V5, W3),
     lambda s, c, r: s.toeplitz(c, r), "gvj"),
    ("toeplitz_c", lambda m, c: m.toeplitz(c), (V5,), lambda s, c: s.toeplitz(c), "g"),
    ("helmert", lambda m: m.helmert(5), (), lambda s: s.helmert(5), "j"),
    ("helmert_full", lambda m: m.helmert(4, full=True), (), lambda s: s.helmert(4, True), ""),
    ("hilbert", lambda m: m.hilbert(5), (), lambda s: s.hilbert(5), "j"),
    ("invhilbert", lambda m: m.invhilbert(4), (), lambda s: s.invhilbert(4), ""),
    ("pascal", lambda m: m.pascal(5), (), lambda s: s.pascal(5), ""),
    ("pascal_lower", lambda m: m.pascal(5, "lower"), (), lambda s: s.pascal(5, "lower"), ""),
    ("invpascal", lambda m: m.invpascal(5), (), lambda s: s.invpascal(5), ""),
    ("invpascal_upper", lambda m: m.invpascal(4, "upper"), (),
     lambda s: s.invpascal(4, "upper"), ""),
    ("leslie", lambda m, f, s_: m.leslie(f, s_), (V5, E4), lambda s, f, s_: s.leslie(f, s_),
     "gvj"),
    ("expm", lambda m, a: m.expm(a), (A44,), lambda s, a: s.expm(a), "gvj"),
    ("expm_small", lambda m, a: m.expm(a * 0.01), (A44,), lambda s, a: s.expm(a * 0.01),
     "g"),
    ("expm_big", lambda m, a: m.expm(a * 3), (A44,), lambda s, a: s.expm(a * 3), ""),
    ("expm_frechet", lambda m, a, e: m.expm_frechet(a, e), (A44, SPD),
     lambda s, a, e: s.expm_frechet(a, e), "gv"),
    ("schur", lambda m, a: m.schur(a), (A44,), lambda s, a: s.schur(a), "vj"),
    ("schur_complex", lambda m, a: m.schur(a, "complex"), (A44,),
     lambda s, a: s.schur(a, "complex"), ""),
    ("hessenberg", lambda m, a: m.hessenberg(a), (A44,), lambda s, a: s.hessenberg(a), "v"),
    ("hessenberg_q", lambda m, a: m.hessenberg(a, calc_q=True), (A44,),
     lambda s, a: s.hessenberg(a, calc_q=True), "j"),
    ("sqrtm", lambda m, a: m.sqrtm(a), (SPD,), lambda s, a: s.sqrtm(a.astype(np.complex64)),
     ""),
    ("rsf2csf", lambda m, a: m.rsf2csf(*m.schur(a)), (A44,),
     lambda s, a: s.rsf2csf(*s.schur(a)), ""),
    ("funm", lambda m, a: m.funm(a, lambda x: x * x), (A44,),
     lambda s, a: s.funm(a, lambda x: x * x), ""),
    ("funm_err", lambda m, a: m.funm(a, lambda x: x * x, disp=False), (A44,), None, ""),
    ("solve_sylvester", lambda m, a, b, c: m.solve_sylvester(a, b, c), (A44, B33, C43),
     lambda s, a, b, c: s.solve_sylvester(a, b, c), ""),
    ("solve_sylvester_eigen",
     lambda m, a, b, c: m.solve_sylvester(a, b, c, method="eigen"), (A44, B33, C43),
     lambda s, a, b, c: s.solve_sylvester(a, b, c), ""),
    ("eigh_tridiagonal", lambda m, d, e: m.eigh_tridiagonal(d, e, eigvals_only=True),
     (D5, E4), lambda s, d, e: s.eigh_tridiagonal(d, e, eigvals_only=True), "j"),
    ("eigh_tridiagonal_i",
     lambda m, d, e: m.eigh_tridiagonal(d, e, eigvals_only=True, select="i",
                                        select_range=(1, 3)),
     (D5, E4), lambda s, d, e: s.eigh_tridiagonal(d, e, eigvals_only=True, select="i",
                                                  select_range=(1, 3)), ""),
    ("polar", lambda m, a: m.polar(a), (C43,), None, "vj"),
    ("polar_left", lambda m, a: m.polar(a.T, "left"), (C43,), None, ""),
    ("polar_svd", lambda m, a: m.polar(a, method="svd"), (C43,), None, "g"),
    ("qr_multiply", lambda m, a, c: m.qr_multiply(a, c), (C43, _m(2, 4)),
     lambda s, a, c: s.qr_multiply(a, c), "j"),
    ("qr_multiply_left", lambda m, a, c: m.qr_multiply(a, c, mode="left"), (C43, _m(3, 2)),
     lambda s, a, c: s.qr_multiply(a, c, mode="left"), ""),
    ("qr_multiply_vec", lambda m, a, c: m.qr_multiply(a, c), (C43, V5[:4]),
     lambda s, a, c: s.qr_multiply(a, c), ""),
    ("qr_multiply_batched", lambda m, a, c: m.qr_multiply(a, c), (B2_44, _m(3, 4)), None, ""),
]
IDS = [r[0] for r in ROWS]
_ROW = {r[0]: r for r in ROWS}
# Eigenvectors, Schur vectors and polar factors are unique only up to phase: compare
# them by what they reconstruct.
_PHASED = {"eigh_tridiagonal", "polar", "polar_left", "polar_svd"}


def _leaves(x):
  return [np.asarray(v) for v in (x if isinstance(x, (tuple, list)) else [x])]


def _close(ours, ref, scale=30):
  o, r = _leaves(ours), _leaves(ref)
  assert len(o) == len(r)
  for a, b in zip(o, r):
    assert a.shape == b.shape, (a.shape, b.shape)
    check_close(a.astype(b.dtype) if b.dtype.kind in "fc" else a, b,
                np.float32 if b.dtype.kind in "fc" else b.dtype, scale=scale)


@pytest.mark.parametrize("name", IDS)
def test_value_vs_jax(name):
  jax = _jax()
  _, f, args, _, _ = _ROW[name]
  ours = f(psl, *args)
  ref = f(jax.scipy.linalg, *args)
  o, r = _leaves(ours), _leaves(ref)
  for a, b in zip(o, r):
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
  _close(ours, ref, scale=300 if name.startswith(("invhilbert", "invpascal")) else 30)


@pytest.mark.parametrize("name", [r[0] for r in ROWS if r[3] is not None])
def test_value_vs_scipy(name):
  _, f, args, ref, _ = _ROW[name]
  ours = f(psl, *args)
  want = ref(sla, *[a.astype(np.float64) for a in args])
  o, w = _leaves(ours), _leaves(want)
  factors = name.startswith(("schur", "hessenberg")) or name == "rsf2csf"
  for a, b in zip(o, w):
    b = np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    if not factors:
      check_close(a, b.astype(a.dtype) if a.dtype.kind in "fc" else b, rtol=3e-4,
                  atol=3e-4)
  if name.startswith("schur") or name == "rsf2csf":
    # float32 vs SciPy's float64 factors: compare what they reconstruct and the spectrum.
    T, Z = o[:2]
    a = args[0]
    check_close(Z @ T @ np.conj(Z.T), a.astype(T.dtype), rtol=1e-4, atol=1e-4)
    got = np.diag(T) if name != "schur" else np.linalg.eigvals(T)
    for ev in np.linalg.eigvals(a.astype(np.float64)):
      assert np.min(np.abs(got - ev)) < 1e-4, (got, ev)


# The jitted rows in three programs (IREE's compiler crashed on all of them in one).
_LAPACK = {"schur", "hessenberg_q", "eigh_tridiagonal", "polar", "qr_multiply"}


@pytest.fixture(scope="module")
def jitted():
  outs = {}
  groups = ([r for r in ROWS if "j" in r[4] and r[0] not in _LAPACK | {"expm"}],
            [r for r in ROWS if r[0] in _LAPACK], [_ROW["expm"]])
  for rows in groups:
    def all_rows(args, rows=rows):
      return [f(psl, *a) for (_, f, _, _, _), a in zip(rows, args)]
    res = pyjax.jit(all_rows)([r[2] for r in rows])
    outs.update({r[0]: o for r, o in zip(rows, res)})
  return outs


@pytest.mark.parametrize("name", [r[0] for r in ROWS if "j" in r[4]])
def test_jit_vs_eager(name, jitted):
  _, f, args, _, _ = _ROW[name]
  eager = f(psl, *args)
  for a, b in zip(_leaves(jitted[name]), _leaves(eager)):
    assert a.dtype == b.dtype and a.shape == b.shape
    check_close(a, b, np.float32 if b.dtype.kind in "fc" else b.dtype, scale=30)


def _real_sum(x):
  return sum(jnp.sum(jnp.real(v)) if hasattr(v, "dtype") else 0.0 for v in
             (x if isinstance(x, (tuple, list)) else [x]))


@pytest.mark.parametrize("name", [r[0] for r in ROWS if "g" in r[4]])
def test_grad_vs_jax(name):
  jax = _jax()
  _, f, args, _, _ = _ROW[name]
  rest = args[1:]
  ours = pyjax.grad(lambda x: _real_sum(f(psl, x, *rest)))(args[0])
  ref = jax.grad(lambda x: sum(jax.numpy.sum(jax.numpy.real(v)) for v in
                               jax.tree.leaves(f(jax.scipy.linalg, x, *rest))))(args[0])
  check_close(ours, np.asarray(ref), np.float32, scale=300)


@pytest.mark.parametrize("name", [r[0] for r in ROWS if "v" in r[4]])
def test_vmap_vs_loop(name):
  _, f, args, _, _ = _ROW[name]
  xs = np.stack([args[0], args[0] * 0.5 + 0.25, -args[0]])
  rest = args[1:]
  got = pyjax.vmap(lambda x: f(psl, x, *rest))(xs)
  want = [f(psl, x, *rest) for x in xs]
  for i, g in enumerate(_leaves(got)):
    for k in range(3):
      check_close(g[k], _leaves(want[k])[i], np.float32, scale=30)


def test_reconstructions():
  T, Z = psl.schur(A44)
  check_close(Z @ T @ Z.T, A44, rtol=1e-5, atol=1e-5)
  H, Q = psl.hessenberg(A44, calc_q=True)
  check_close(Q @ H @ Q.T, A44, rtol=1e-5, atol=1e-5)
  assert np.all(np.tril(np.asarray(H), -2) == 0)
  S = psl.sqrtm(SPD)
  check_close(S @ S, SPD.astype(np.complex64), rtol=1e-4, atol=1e-4)
  X = psl.solve_sylvester(A44, B33, C43)
  check_close(A44 @ X + X @ B33, C43, rtol=1e-4, atol=1e-4)
  for side, a in (("right", C43), ("left", C43.T)):
    u, p = psl.polar(a, side)
    check_close(u @ p if side == "right" else p @ u, a, rtol=1e-5, atol=1e-5)
    jax = _jax()
    ju, jp = jax.scipy.linalg.polar(a, side)
    check_close(u, np.asarray(ju), rtol=1e-4, atol=1e-4)
    check_close(p, np.asarray(jp), rtol=1e-4, atol=1e-4)
  w, v = psl.eigh_tridiagonal(D5, E4)
  T5 = np.diag(D5) + np.diag(E4, 1) + np.diag(E4, -1)
  check_close(T5 @ v, v * w, rtol=1e-4, atol=1e-4)
  check_close(w, sla.eigh_tridiagonal(D5, E4, eigvals_only=True), rtol=1e-5, atol=1e-5)


def test_public_names_match_jax():
  jax = _jax()
  want = sorted(n for n in dir(jax.scipy.linalg) if not n.startswith("_"))
  assert sorted(psl.__all__) == want
  assert sorted(n for n in dir(psl) if not n.startswith("_")) == want
  import pyjax.scipy as ps
  assert "sparse" in ps.__all__ and "linalg" in ps.__all__


def test_schur_hessenberg_have_no_derivative():
  with pytest.raises(NotImplementedError, match="schur"):
    pyjax.grad(lambda a: psl.schur(a)[0].sum())(A44)
  with pytest.raises(NotImplementedError, match="hessenberg"):
    pyjax.grad(lambda a: psl.hessenberg(a).sum())(A44)


ERRORS = [
    ("schur_output", lambda m: m.schur(A44, output="x")),
    ("schur_nonsquare", lambda m: m.schur(C43)),
    ("hessenberg_nonsquare", lambda m: m.hessenberg(C43)),
    ("hadamard", lambda m: m.hadamard(6)),
    ("helmert", lambda m: m.helmert(0)),
    ("dft_scale", lambda m: m.dft(4, "x")),
    ("dft_dtype", lambda m: m.dft(4, dtype=np.float32)),
    ("convolution_matrix_mode", lambda m: m.convolution_matrix(V5, 3, "x")),
    ("convolution_matrix_n", lambda m: m.convolution_matrix(V5, 0)),
    ("leslie", lambda m: m.leslie(V5, W3)),
    ("companion", lambda m: m.companion(np.ones(1, np.float32))),
    ("fiedler_companion", lambda m: m.fiedler_companion(np.ones(0, np.float32))),
    ("toeplitz_list", lambda m: m.toeplitz([1.0, 2.0])),
    ("hankel_scalar", lambda m: m.hankel(np.float32(1.0))),
    ("block_diag_3d", lambda m: m.block_diag(B2_44)),
    ("expm_shape", lambda m: m.expm(C43)),
    ("expm_frechet_shape", lambda m: m.expm_frechet(A44, B33)),
    ("rsf2csf", lambda m: m.rsf2csf(C43, A44)),
    ("polar_1d", lambda m: m.polar(V5)),
    ("polar_side", lambda m: m.polar(C43, "up")),
    ("polar_qdwh_wide", lambda m: m.polar(C43.T)),
    ("qr_multiply_mode", lambda m: m.qr_multiply(C43, C43, mode="x")),
    ("qr_multiply_shape", lambda m: m.qr_multiply(C43, C43)),
    ("solve_sylvester_shape", lambda m: m.solve_sylvester(A44, B33, A44)),
    ("eigh_tridiagonal_dtype", lambda m: m.eigh_tridiagonal(D5, E4.astype(np.int32))),
    ("eigh_tridiagonal_select", lambda m: m.eigh_tridiagonal(D5, E4, select="x")),
    ("sqrtm_blocksize", lambda m: m.sqrtm(SPD, blocksize=2)),
]


@pytest.mark.parametrize("name", [e[0] for e in ERRORS])
def test_errors_match_jax(name):
  jax = _jax()
  f = dict(ERRORS)[name]
  with pytest.raises(Exception) as theirs:
    f(jax.scipy.linalg)
  with pytest.raises(type(theirs.value)):
    f(psl)

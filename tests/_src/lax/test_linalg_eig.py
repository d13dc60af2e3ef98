"""lax.linalg.eig / jnp.linalg.eig, eigvals: vs JAX, jit vs eager, vmap, eigenvalue JVP."""
import numpy as np
import pytest

import pyjax
import pyjax.numpy as pnp
from pyjax.lax import linalg as plinalg

from util import check_close, enable_x64

jax = pytest.importorskip("jax")

RNG = np.random.default_rng(0)
A32 = RNG.standard_normal((3, 4, 4)).astype(np.float32)   # a stack: complex pairs likely
A64c = (RNG.standard_normal((4, 4)) + 1j * RNG.standard_normal((4, 4)))


def _sorted(w):
  w = np.asarray(w)
  return np.sort_complex(np.round(w, 4)) if w.ndim == 1 else \
      np.stack([_sorted(x) for x in w])


def _check_eigpairs(a, w, vl=None, vr=None, tol=1e-4):
  a, w = np.asarray(a), np.asarray(w)
  if vr is not None:
    vr = np.asarray(vr)
    check_close(a.astype(vr.dtype) @ vr, vr * w[..., None, :], rtol=tol, atol=tol)
  if vl is not None:
    vl = np.asarray(vl)
    lhs = np.conj(np.swapaxes(vl, -1, -2)) @ a.astype(vl.dtype)
    check_close(lhs, np.conj(np.swapaxes(vl, -1, -2)) * w[..., :, None], rtol=tol, atol=tol)


@pytest.fixture(scope="module")
def jitted():
  @pyjax.jit
  def f(a, c):
    w, vl, vr = plinalg.eig(a)
    wc, vc = pnp.linalg.eig(c)
    return w, vl, vr, wc, vc, pnp.linalg.eigvals(a)
  return f(A32, A64c)


def test_eager_vs_jax():
  w, vl, vr = plinalg.eig(A32)
  jw, jvl, jvr = jax.lax.linalg.eig(A32)
  assert w.dtype == jw.dtype == np.complex64 and vr.shape == jvr.shape
  check_close(_sorted(w), _sorted(jw), rtol=1e-4, atol=1e-4)
  _check_eigpairs(A32, w, vl, vr)
  # The same geev normalisation: unit columns with a real largest component.
  check_close(np.abs(np.asarray(vr)), np.abs(np.asarray(jvr)), rtol=1e-4, atol=1e-4)
  wc, vc = pnp.linalg.eig(A64c)
  check_close(_sorted(wc), _sorted(np.linalg.eigvals(A64c)), rtol=1e-6, atol=1e-6)
  _check_eigpairs(A64c, wc, vr=vc, tol=1e-6)
  assert len(plinalg.eig(A32, compute_left_eigenvectors=False,
                         compute_right_eigenvectors=False)) == 1


def test_jit_vs_eager(jitted):
  w, vl, vr, wc, vc, ev = jitted
  ew, evl, evr = plinalg.eig(A32)
  check_close(w, ew, rtol=1e-5, atol=1e-5)
  check_close(vr, evr, rtol=1e-5, atol=1e-5)
  check_close(vl, evl, rtol=1e-5, atol=1e-5)
  check_close(ev, ew, rtol=1e-5, atol=1e-5)
  check_close(wc, pnp.linalg.eig(A64c)[0])
  _check_eigpairs(A64c, wc, vr=vc, tol=1e-6)


def test_vmap_vs_loop():
  w = pyjax.vmap(pnp.linalg.eigvals)(A32)
  check_close(w, np.stack([np.asarray(pnp.linalg.eigvals(a)) for a in A32]))


def test_eigenvalue_jvp_vs_jax():
  a = A32[0].astype(np.float64)
  t = RNG.standard_normal((4, 4))
  with jax.enable_x64(True) if hasattr(jax, "enable_x64") else jax.experimental.enable_x64():
    jw, jdw = jax.jvp(lambda x: jax.numpy.linalg.eigvals(x), (a,), (t,))
    jw, jdw = np.asarray(jw), np.asarray(jdw)
  with enable_x64():
    w, dw = pyjax.jvp(pnp.linalg.eigvals, (a,), (t,))
    w, dw = np.asarray(w), np.asarray(dw)
  order, jorder = np.argsort(np.round(w, 6)), np.argsort(np.round(jw, 6))
  check_close(w[order], jw[jorder], rtol=1e-8, atol=1e-8)
  check_close(dw[order], jdw[jorder], rtol=1e-6, atol=1e-6)


def test_eigenvector_jvp_vs_jax():
  a = A32[0].astype(np.float64)
  t = RNG.standard_normal((4, 4))

  def f(lin):
    return lambda x: lin.eig(x, enable_eigvec_derivs=True)

  with jax.enable_x64(True) if hasattr(jax, "enable_x64") else jax.experimental.enable_x64():
    jp, jt = jax.jvp(f(jax.lax.linalg), (a,), (t,))
    jp, jt = [np.asarray(o) for o in jp], [np.asarray(o) for o in jt]
  with enable_x64():
    p, tt = pyjax.jvp(f(plinalg), (a,), (t,))
    p, tt = [np.asarray(o) for o in p], [np.asarray(o) for o in tt]
  # Both from geev: the same eigenvalue order and normalisation.
  check_close(p, jp, rtol=1e-9, atol=1e-9)
  check_close(tt, jt, rtol=1e-6, atol=1e-6)
  # And vs finite differences (right eigenvectors of real eigenvalues: a complex pair
  # may swap places or phases between the two evaluations).
  eps = 1e-6
  with enable_x64():
    hi = np.asarray(plinalg.eig(a + eps * t)[2])
    lo = np.asarray(plinalg.eig(a - eps * t)[2])
  real = np.abs(p[0].imag) < 1e-12
  assert real.any()
  check_close(tt[2][:, real], ((hi - lo) / (2 * eps))[:, real], rtol=1e-5, atol=1e-5)


def test_errors():
  with pytest.raises(NotImplementedError, match="enable_eigvec_derivs"):
    pyjax.jvp(lambda x: plinalg.eig(x)[2], (A32[0],), (A32[1],))
  with pytest.raises(ValueError, match="square"):
    pnp.linalg.eig(np.ones((2, 3), np.float32))

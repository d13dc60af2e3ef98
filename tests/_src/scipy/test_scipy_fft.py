"""jax.scipy.fft (dct, dctn, idct, idctn) from one table: values vs JAX and SciPy
(eager), every case jitted in one program vs eager, grads vs JAX's and finite
differences, vmap vs a loop, float64, the namespace and JAX's errors."""
import numpy as np
import pytest
import scipy.fft as sfft

import pyjax
import pyjax.scipy.fft as pfft
from pyjax.test_util import check_grads
from util import check_close, enable_x64, same_error_class, square_sum_loss

jax = pytest.importorskip("jax")
import jax.scipy.fft as jfft  # noqa: E402

_rng = np.random.default_rng(0)
R = _rng.standard_normal((4, 8)).astype(np.float32)
R6 = _rng.standard_normal((3, 6)).astype(np.float32)
R3 = _rng.standard_normal((2, 4, 8)).astype(np.float32)
C = (_rng.standard_normal((4, 8)) + 1j * _rng.standard_normal((4, 8))).astype(np.complex64)
I = np.arange(16, dtype=np.int32).reshape(2, 8)

# (id, function of (module, x), operand, SciPy's function of x); the same row runs on
# pyjax.scipy.fft, jax.scipy.fft and SciPy.
CASES = [
    ("dct", lambda m, x: m.dct(x), R, lambda x: sfft.dct(x)),
    ("dct_n_pad", lambda m, x: m.dct(x, n=8, axis=0), R, lambda x: sfft.dct(x, n=8, axis=0)),
    ("dct_n_trunc_ortho", lambda m, x: m.dct(x, n=4, norm="ortho"), R,
     lambda x: sfft.dct(x, n=4, norm="ortho")),
    ("dct_backward_odd", lambda m, x: m.dct(x, norm="backward"), R6,
     lambda x: sfft.dct(x, norm="backward")),
    ("dct_complex", lambda m, x: m.dct(x), C, lambda x: sfft.dct(x)),
    ("dct_int", lambda m, x: m.dct(x), I, lambda x: sfft.dct(x.astype(np.float32))),
    ("idct", lambda m, x: m.idct(x), R, lambda x: sfft.idct(x)),
    ("idct_ortho_axis0", lambda m, x: m.idct(x, axis=0, norm="ortho"), R,
     lambda x: sfft.idct(x, axis=0, norm="ortho")),
    ("idct_n", lambda m, x: m.idct(x, n=4), R, lambda x: sfft.idct(x, n=4)),
    ("idct_odd", lambda m, x: m.idct(x), R6, lambda x: sfft.idct(x)),
    ("dctn", lambda m, x: m.dctn(x), R, lambda x: sfft.dctn(x)),
    ("dctn_3d", lambda m, x: m.dctn(x), R3, lambda x: sfft.dctn(x)),
    ("dctn_s", lambda m, x: m.dctn(x, s=[2, 4]), R, lambda x: sfft.dctn(x, s=[2, 4])),
    ("dctn_axes_ortho", lambda m, x: m.dctn(x, axes=(0, 2), norm="ortho"), R3,
     lambda x: sfft.dctn(x, axes=(0, 2), norm="ortho")),
    ("dctn_one_axis", lambda m, x: m.dctn(x, s=4, axes=[0]), R,
     lambda x: sfft.dctn(x, s=4, axes=[0])),
    ("dctn_complex", lambda m, x: m.dctn(x), C, lambda x: sfft.dctn(x)),
    ("idctn", lambda m, x: m.idctn(x), R, lambda x: sfft.idctn(x)),
    ("idctn_s_ortho", lambda m, x: m.idctn(x, s=(4, 4), norm="ortho"), R3,
     lambda x: sfft.idctn(x, s=(4, 4), norm="ortho")),
    ("idctn_axes", lambda m, x: m.idctn(x, axes=(-1, 0)), R3,
     lambda x: sfft.idctn(x, axes=(-1, 0))),
]
IDS = [c[0] for c in CASES]


GRADS = [c for c in CASES if c[2].dtype == np.float32]


@pytest.fixture(scope="module")
def jax_ref():
  """JAX's values and gradients of every case, from one jax.jit program (JAX's eager
  op-by-op dispatch costs seconds a case here)."""
  def prog(*xs):
    vals = [f(jfft, x) for (_, f, _, _), x in zip(CASES, xs)]
    grads = [jax.grad(square_sum_loss(f, jfft))(x) for (_, f, x0, _), x in zip(CASES, xs)
             if x0.dtype == np.float32]
    return vals, grads
  return jax.jit(prog)(*[x for _, _, x, _ in CASES])


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_eager_vs_jax_and_scipy(i, jax_ref):
  name, f, x, ref = CASES[i]
  ours = f(pfft, x)
  theirs = jax_ref[0][i]
  assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, (ours.dtype, theirs.dtype)
  check_close(ours, theirs, scale=10)
  check_close(ours, ref(x).astype(ours.dtype), rtol=2e-5, atol=2e-5)


# Each function and variant under jit, in one program (IREE compiles each DCT length's
# FFT formulation in seconds: a subset of CASES).
JIT = [c for c in CASES if c[0] in ("dct_backward_odd", "dct_complex", "idct_ortho_axis0",
                                    "idct_odd", "dctn_axes_ortho", "idctn_s_ortho")]


def test_jit_vs_eager_one_program():
  args = [x for _, _, x, _ in JIT]

  def prog(*xs):
    return [f(pfft, x) for (_, f, _, _), x in zip(JIT, xs)]

  for (name, *_), j, e in zip(JIT, pyjax.jit(prog)(*args), prog(*args)):
    assert j.dtype == e.dtype and j.shape == e.shape, name
    check_close(j, e, scale=10, err_msg=name)


def test_grad_vs_jax(jax_ref):
  for (name, f, x, _), theirs in zip(GRADS, jax_ref[1]):
    ours = pyjax.grad(square_sum_loss(f, pfft))(x)
    check_close(ours, theirs, rtol=1e-5, atol=1e-4, err_msg=name)


def test_grad_finite_differences_x64():
  with enable_x64():
    for name, f, x, _ in GRADS[::3]:
      check_grads(lambda a: f(pfft, a), (x.astype(np.float64),), order=1,
                  modes=("fwd", "rev"))


def test_vmap_vs_loop():
  for name, f, x, _ in CASES[::2]:
    xb = np.stack([x, 2 * x, x[::-1]])
    got = pyjax.vmap(lambda a: f(pfft, a))(xb)
    want = np.stack([np.asarray(f(pfft, xb[i])) for i in range(3)])
    check_close(got, want, scale=10, err_msg=name)


def test_x64_vs_scipy():
  with enable_x64():
    x = R3.astype(np.float64)
    for f in (lambda m, a: m.dct(a), lambda m, a: m.idctn(a, norm="ortho"),
              lambda m, a: m.dctn(a, s=(3, 5))):
      ours = f(pfft, x)
      assert ours.dtype == np.float64
      check_close(ours, f(sfft, x), rtol=1e-12, atol=1e-12)
    check_close(pyjax.jit(lambda a: f(pfft, a))(x), ours, rtol=1e-12, atol=1e-12)


def test_namespace():
  assert sorted(pfft.__all__) == sorted(n for n in dir(jfft) if not n.startswith("_"))
  assert pyjax.scipy.fft is pfft


ERRORS = [
    ("type1", lambda m: m.dct(R, type=1)), ("type3_idctn", lambda m: m.idctn(R, type=3)),
    ("norm_forward", lambda m: m.dct(R, norm="forward")),
    ("norm_idct", lambda m: m.idct(R, norm="bad")),
    ("s_too_long", lambda m: m.dctn(R, s=(2, 2, 2))),
    ("repeated_axes", lambda m: m.dctn(R3, axes=(0, 0))),
    ("axis_out_of_range", lambda m: m.dct(R, axis=2)),
    ("list_input", lambda m: m.dct([1.0, 2.0])),
]


@pytest.mark.parametrize("name,f", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_vs_jax(name, f):
  with pytest.raises(Exception) as theirs:
    f(jfft)
  with pytest.raises(Exception) as ours:
    f(pfft)
  assert same_error_class(ours.type, theirs.type), (ours.value, theirs.value)
  gist = str(theirs.value).split(":")[-1].split(".")[0][:40].strip()
  assert gist in str(ours.value), (str(ours.value), str(theirs.value))

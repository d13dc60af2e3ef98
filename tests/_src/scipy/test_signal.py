"""jax.scipy.signal from one table: values vs JAX (one jax.jit program) and SciPy,
a subset jitted in one program vs eager, grads vs JAX's and finite differences, vmap
vs a loop, the namespace and JAX's errors."""
import warnings

import numpy as np
import pytest
import scipy.signal as ss

import pyjax
import pyjax.scipy.signal as psig
from pyjax.test_util import check_grads
from util import check_close, enable_x64, same_error_class, square_sum_loss

jax = pytest.importorskip("jax")
import jax.scipy.signal as jsig  # noqa: E402

_rng = np.random.default_rng(1)
A = _rng.standard_normal((5, 7)).astype(np.float32)
B = _rng.standard_normal((3, 4)).astype(np.float32)
C = (_rng.standard_normal((5, 7)) + 1j * _rng.standard_normal((5, 7))).astype(np.complex64)
A1 = _rng.standard_normal(20).astype(np.float32)
B1 = _rng.standard_normal(5).astype(np.float32)
X = _rng.standard_normal((2, 48)).astype(np.float32)
Y = _rng.standard_normal((2, 48)).astype(np.float32)


def _stft_z(m, x):
  return m.stft(x, nperseg=16)[2]


# (id, function of (module, *arrays), arrays, SciPy's function of the arrays or None)
CASES = [
    ("convolve_full", lambda m, a, b: m.convolve(a, b), (A, B), ss.convolve),
    ("convolve_same_swap", lambda m, a, b: m.convolve(b, a, mode="same"), (A, B),
     lambda a, b: ss.convolve(b, a, mode="same")),
    ("convolve_valid_1d", lambda m, a, b: m.convolve(a, b, mode="valid"), (A1, B1),
     lambda a, b: ss.convolve(a, b, mode="valid")),
    ("convolve_fft", lambda m, a, b: m.convolve(a, b, method="fft"), (A1, B1),
     lambda a, b: ss.convolve(a, b, method="fft")),
    ("correlate_same", lambda m, a, b: m.correlate(a, b, mode="same"), (A, B),
     lambda a, b: ss.correlate(a, b, mode="same")),
    ("correlate_complex", lambda m, a, b: m.correlate(a, b), (C, B),
     lambda a, b: ss.correlate(a, b)),
    ("convolve2d_full", lambda m, a, b: m.convolve2d(a, b), (A, B), ss.convolve2d),
    ("convolve2d_valid", lambda m, a, b: m.convolve2d(a, b, mode="valid"), (A, B),
     lambda a, b: ss.convolve2d(a, b, mode="valid")),
    ("correlate2d_full_swap", lambda m, a, b: m.correlate2d(b, a), (A, B),
     lambda a, b: ss.correlate2d(b, a)),
    ("correlate2d_same", lambda m, a, b: m.correlate2d(a, b, mode="same"), (A, B),
     lambda a, b: ss.correlate2d(a, b, mode="same")),
    ("correlate2d_valid_swap", lambda m, a, b: m.correlate2d(b, a, mode="valid"), (A, B),
     lambda a, b: ss.correlate2d(b, a, mode="valid")),
    ("fftconvolve_full", lambda m, a, b: m.fftconvolve(a, b), (A, B), ss.fftconvolve),
    ("fftconvolve_same", lambda m, a, b: m.fftconvolve(a, b, mode="same"), (A, B),
     lambda a, b: ss.fftconvolve(a, b, mode="same")),
    ("fftconvolve_valid_axes", lambda m, a, b: m.fftconvolve(a, b[:, :5], mode="valid",
                                                              axes=1), (X, Y),
     lambda a, b: ss.fftconvolve(a, b[:, :5], mode="valid", axes=1)),
    ("detrend_linear", lambda m, x: m.detrend(x), (X,), ss.detrend),
    ("detrend_constant_axis0", lambda m, x: m.detrend(x, axis=0, type="constant"), (X,),
     lambda x: ss.detrend(x, axis=0, type="constant")),
    ("detrend_bp", lambda m, x: m.detrend(x, bp=[10, 30]), (X,),
     lambda x: ss.detrend(x, bp=[10, 30])),
    ("stft", _stft_z, (X,), lambda x: ss.stft(x, nperseg=16)[2]),
    ("stft_even_hamming", lambda m, x: m.stft(x, window="hamming", nperseg=15, noverlap=5,
                                              nfft=20, boundary="even")[2], (X,),
     lambda x: ss.stft(x, window="hamming", nperseg=15, noverlap=5, nfft=20,
                       boundary="even")[2]),
    ("stft_axis0_odd_twosided", lambda m, x: m.stft(x.T, nperseg=8, axis=0, boundary="odd",
                                                    padded=False,
                                                    return_onesided=False)[2], (X,),
     lambda x: ss.stft(x.T, nperseg=8, axis=0, boundary="odd", padded=False,
                       return_onesided=False)[2]),
    ("istft", lambda m, x: m.istft(_stft_z(m, x), nperseg=16)[1], (X,), None),
    ("welch", lambda m, x: m.welch(x, nperseg=16)[1], (X,),
     lambda x: ss.welch(x, nperseg=16)[1]),
    ("welch_median_spectrum", lambda m, x: m.welch(x, nperseg=16, average="median",
                                                   scaling="spectrum",
                                                   detrend="linear")[1], (X,),
     lambda x: ss.welch(x, nperseg=16, average="median", scaling="spectrum",
                        detrend="linear")[1]),
    ("csd", lambda m, x, y: m.csd(x, y, nperseg=16)[1], (X, Y),
     lambda x, y: ss.csd(x, y, nperseg=16)[1]),
    ("csd_short_y", lambda m, x, y: m.csd(x, y[:1, :40], nperseg=16, fs=2.0)[1], (X, Y),
     None),   # (SciPy does not broadcast the outer axes of x and y)
]
IDS = [c[0] for c in CASES]
# Cases with a real float output: differentiable with a real loss.
GRADS = [c for c in CASES if c[0] not in ("correlate_complex", "stft", "stft_even_hamming",
                                          "stft_axis0_odd_twosided", "csd", "csd_short_y",
                                          "welch_median_spectrum")]


@pytest.fixture(scope="module")
def jax_ref():
  """JAX's values and gradients of every case from one jax.jit program (JAX's eager
  dispatch costs seconds a case here)."""
  def prog(args):
    vals = [f(jsig, *a) for (_, f, _, _), a in zip(CASES, args)]
    grads = [jax.grad(square_sum_loss(f, jsig))(*a) for (n, f, _, _), a in zip(CASES, args)
             if n in {g[0] for g in GRADS}]
    return vals, grads
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    return jax.jit(prog)([a for _, _, a, _ in CASES])


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_eager_vs_jax_and_scipy(i, jax_ref):
  name, f, args, ref = CASES[i]
  ours = f(psig, *args)
  theirs = jax_ref[0][i]
  assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, (ours.dtype, theirs.dtype)
  check_close(ours, theirs, rtol=2e-5, atol=2e-5)
  if ref is not None:
    check_close(ours, ref(*args).astype(ours.dtype), rtol=2e-4, atol=2e-5)


def test_istft_inverts_stft():
  f, t, z = psig.stft(X, nperseg=16)
  tt, x = psig.istft(z, nperseg=16)
  st, sx = ss.istft(np.asarray(z), nperseg=16)
  check_close(x, sx.astype(np.float32), rtol=1e-5, atol=1e-5)
  check_close(tt, st.astype(np.float32))
  check_close(x[..., :X.shape[-1]], X, rtol=1e-5, atol=1e-5)
  jt, jx = jax.jit(lambda a: jsig.istft(a, time_axis=-2, freq_axis=-1))(
      np.asarray(z).swapaxes(-1, -2))
  pt, px = psig.istft(np.asarray(z).swapaxes(-1, -2), time_axis=-2, freq_axis=-1)
  check_close(px, jx, rtol=1e-5, atol=1e-5)
  check_close(pt, jt)


def test_freqs_and_times_vs_jax():
  for fn, kw in [("stft", {"nperseg": 16, "fs": 3.0}), ("welch", {"nperseg": 12}),
                 ("csd", {"nperseg": 16, "return_onesided": False})]:
    args = (X, Y) if fn == "csd" else (X,)
    ours = getattr(psig, fn)(*args, **kw)
    theirs = jax.jit(lambda *a: getattr(jsig, fn)(*a, **kw))(*args)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
      assert o.dtype == t.dtype and o.shape == t.shape, (fn, o.dtype, t.dtype)
      check_close(o, t, rtol=1e-5, atol=1e-6)


# Under jit, in one program: a subset (stft, istft and linear detrend compile too, but
# take 20-40 s each here; welch and csd run stft's path).
JIT = [c for c in CASES if c[0] in ("convolve_full", "correlate2d_same",
                                    "fftconvolve_valid_axes", "welch", "csd")]


def test_jit_vs_eager_one_program():
  def prog(args):
    return [f(psig, *a) for (_, f, _, _), a in zip(JIT, args)]
  args = [a for _, _, a, _ in JIT]
  for (name, *_), j, e in zip(JIT, pyjax.jit(prog)(args), prog(args)):
    assert j.dtype == e.dtype and j.shape == e.shape, name
    check_close(j, e, rtol=2e-5, atol=2e-5, err_msg=name)


def test_grad_vs_jax(jax_ref):
  for (name, f, args, _), theirs in zip(GRADS, jax_ref[1]):
    ours = pyjax.grad(square_sum_loss(f, psig))(*args)
    check_close(ours, theirs, rtol=1e-4, atol=1e-4, err_msg=name)


def test_grad_finite_differences_x64():
  with enable_x64():
    for name, f, args, _ in GRADS[::4]:
      check_grads(lambda *a: f(psig, *a), tuple(a.astype(np.float64) for a in args),
                  order=1, modes=("fwd", "rev"))


def test_vmap_vs_loop():
  for name, f, args, _ in CASES[::3]:
    xb = np.stack([args[0], 2 * args[0], args[0][::-1]])
    g = lambda a: f(psig, a, *args[1:])  # noqa: E731
    got = pyjax.vmap(g)(xb)
    want = np.stack([np.asarray(g(xb[i])) for i in range(3)])
    check_close(got, want, rtol=2e-5, atol=2e-5, err_msg=name)


def test_namespace():
  assert sorted(psig.__all__) == sorted(n for n in dir(jsig) if not n.startswith("_"))
  assert pyjax.scipy.signal is psig


ERRORS = [
    ("mode", lambda m: m.convolve(A, B, mode="bad")),
    ("method", lambda m: m.convolve(A, B, method="bad")),
    ("ndim", lambda m: m.convolve(A, B1)),
    ("not_smaller", lambda m: m.convolve(A, np.ones((6, 2), np.float32))),
    ("empty", lambda m: m.convolve(A, B[:0])),
    ("boundary2d", lambda m: m.convolve2d(A, B, boundary="wrap")),
    ("ndim2d", lambda m: m.correlate2d(A1, B1)),
    ("fft_mode", lambda m: m.fftconvolve(A, B, mode="bad")),
    ("fft_mapped_axes", lambda m: m.fftconvolve(A, B, axes=0)),
    ("detrend_type", lambda m: m.detrend(X, type="quadratic")),
    ("detrend_bp", lambda m: m.detrend(X, bp=[60])),
    ("noverlap", lambda m: m.stft(X, nperseg=8, noverlap=8)),
    ("nfft", lambda m: m.welch(X, nperseg=16, nfft=8)),
    ("scaling", lambda m: m.welch(X, scaling="bad")),
    ("average", lambda m: m.welch(X, nperseg=16, average="mode")),
    ("boundary", lambda m: m.stft(X, boundary="bad")),
    ("window_nperseg", lambda m: m.welch(X, window=np.ones(8), nperseg=4)),
    ("istft_1d", lambda m: m.istft(A1)),
    ("istft_axes", lambda m: m.istft(C, time_axis=0, freq_axis=0)),
]


@pytest.mark.parametrize("name,f", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_vs_jax(name, f):
  with pytest.raises(Exception) as theirs:
    f(jsig)
  with pytest.raises(Exception) as ours:
    f(psig)
  assert same_error_class(ours.type, theirs.type), (ours.value, theirs.value)
  gist = str(theirs.value).split(".")[0][:40].strip()
  assert gist in str(ours.value), (str(ours.value), str(theirs.value))

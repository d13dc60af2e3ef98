"""jax.numpy.fft: every function with n/s/axes/norm variants vs JAX (eager), all cases'
jit vs eager in one program, grads vs JAX and finite differences, vmap vs a loop,
float64 under x64, dtypes and errors vs JAX."""
import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax._src.public_test_util import check_grads
from pyjax.numpy import fft as jfft
from util import check_close, enable_x64

_rng = np.random.default_rng(0)
R = _rng.standard_normal((4, 6)).astype(np.float32)
R3 = _rng.standard_normal((2, 3, 4)).astype(np.float32)
C = (_rng.standard_normal((4, 6)) + 1j * _rng.standard_normal((4, 6))).astype(np.complex64)
C3 = (_rng.standard_normal((2, 3, 5)) + 1j * _rng.standard_normal((2, 3, 5))).astype(
    np.complex64)
I = np.arange(8, dtype=np.int32).reshape(2, 4)

# name, operand, kwargs
CASES = [
    ("fft", C, {}), ("fft", C, {"n": 8}), ("fft", C, {"n": 3, "axis": 0}),
    ("fft", R, {"norm": "ortho"}), ("fft", I, {}),
    ("ifft", C, {"norm": "forward"}), ("ifft", C, {"n": 5, "axis": -2}),
    ("rfft", R, {}), ("rfft", R, {"n": 9, "norm": "ortho"}), ("rfft", R, {"axis": 0}),
    ("rfft", I, {"norm": "forward"}),
    ("irfft", C, {}), ("irfft", C, {"n": 7}), ("irfft", C, {"axis": 0, "norm": "ortho"}),
    ("hfft", C, {}), ("hfft", C, {"n": 5, "norm": "forward"}),
    ("ihfft", R, {}), ("ihfft", R, {"n": 4, "axis": 0, "norm": "ortho"}),
    ("fft2", C, {}), ("fft2", C3, {"s": (4, 4), "axes": (0, 2)}),
    ("ifft2", C3, {"norm": "ortho"}),
    ("rfft2", R3, {}), ("rfft2", R3, {"axes": (0, 1), "norm": "forward"}),
    ("irfft2", C3, {}), ("irfft2", C3, {"s": (3, 6)}),
    ("fftn", C3, {}), ("fftn", C3, {"axes": (0, 2)}), ("fftn", R3, {"s": (3, 2)}),
    ("ifftn", C3, {"norm": "forward"}), ("ifftn", C3, {"axes": (1,)}),
    ("rfftn", R3, {}), ("rfftn", R3, {"s": (4, 6), "axes": (2, 0)}),
    ("irfftn", C3, {}), ("irfftn", C3, {"s": (2, 3, 8), "norm": "ortho"}),
    ("fftshift", R3, {}), ("fftshift", R3, {"axes": 1}), ("ifftshift", C3, {}),
    ("ifftshift", C3, {"axes": (0, 2)}),
]


def _jax():
  return pytest.importorskip("jax")


def _ids(cases):
  return [f"{n}-{i}" for i, (n, _, _) in enumerate(cases)]


@pytest.mark.parametrize("name,x,kw", CASES, ids=_ids(CASES))
def test_eager_vs_jax(name, x, kw):
  jax = _jax()
  ours = getattr(jfft, name)(x, **kw)
  ref = getattr(jax.numpy.fft, name)(x, **kw)
  assert ours.dtype == ref.dtype and ours.shape == ref.shape, (ours.dtype, ref.dtype)
  check_close(ours, ref, scale=3)


# Every function under jit, with n/s/axes/norm variants, in one program (a subset of
# CASES: IREE compiles each FFT formulation of each length in about a second).
JIT = [CASES[i] for i in (0, 2, 3, 4, 5, 7, 8, 10, 11, 13, 14, 16, 17, 18, 19, 20, 21, 23,
                          24, 26, 28, 30, 32, 34, 36, 37)]


def test_jit_vs_eager_one_program():
  args = [x for _, x, _ in JIT]

  def prog(*xs):
    return [getattr(jfft, n)(x, **kw) for (n, _, kw), x in zip(JIT, xs)]

  jitted = pyjax.jit(prog)(*args)
  assert {n for n, _, _ in JIT} == {n for n, _, _ in CASES}
  for (n, x, kw), j, e in zip(JIT, jitted, prog(*args)):
    assert j.dtype == e.dtype and j.shape == e.shape
    check_close(j, e, scale=3, err_msg=f"{n} {kw}")


def test_x64_eager_and_jit():
  jax = _jax()
  with enable_x64():
    xs = [R.astype(np.float64), C3.astype(np.complex128), C.astype(np.complex128)]
    fns = [lambda a: jfft.rfft(a, n=12), lambda a: jfft.fftn(a),
           lambda a: jfft.irfft(a, axis=0)]
    refs = [jax.numpy.fft.rfft(xs[0], n=12), jax.numpy.fft.fftn(xs[1]),
            jax.numpy.fft.irfft(xs[2], axis=0)]
    eager = [f(x) for f, x in zip(fns, xs)]
    jitted = pyjax.jit(lambda *a: [f(x) for f, x in zip(fns, a)])(*xs)
    for e, j, r in zip(eager, jitted, refs):
      assert e.dtype == r.dtype == j.dtype
      check_close(e, r, scale=10)
      check_close(j, r, scale=10)
    assert jfft.fft(np.arange(4)).dtype == np.complex128
    assert jfft.fftfreq(4).dtype == np.float64


GRADS = [("fft", {}), ("rfft", {}), ("rfft", {"n": 7}), ("irfft", {}),
         ("irfft", {"n": 7}), ("hfft", {}), ("ihfft", {}), ("rfft2", {}),
         ("irfftn", {"norm": "ortho"})]


def _grad_arg(name, dtype=np.float32):
  cdt = np.complex128 if dtype == np.float64 else np.complex64
  if name in ("rfft", "ihfft", "rfft2"):
    return R.astype(dtype)
  return C.astype(cdt)


def _loss(mod, name, kw):
  def f(x):
    y = getattr(mod, name)(x, **kw)
    return (y * y.conj()).real.sum() + y.real.sum() if y.dtype.kind == "c" else \
        (y * y).sum() + y.sum()
  return f


def test_grad_vs_jax():
  jax = _jax()
  for name, kw in GRADS:
    x = _grad_arg(name)
    ours = pyjax.grad(_loss(jfft, name, kw))(x)
    ref = jax.grad(_loss(jax.numpy.fft, name, kw))(x)
    assert ours.dtype == ref.dtype
    check_close(ours, ref, scale=20, err_msg=f"{name} {kw}")


def test_grad_finite_differences_x64():
  with enable_x64():
    for name, kw in GRADS:
      check_grads(_loss(jfft, name, kw), (_grad_arg(name, np.float64),), order=1,
                  modes=("fwd", "rev"))


def test_vmap_vs_loop():
  xb = np.stack([C, 2 * C, C[::-1]])
  for f in (lambda a: jfft.fft(a, n=8), lambda a: jfft.irfft2(a),
            lambda a: jfft.fftshift(a, axes=0)):
    for axis in (0, 1):
      xa = np.moveaxis(xb, 0, axis)
      got = pyjax.vmap(f, in_axes=axis)(xa)
      want = np.stack([np.asarray(f(np.take(xa, i, axis))) for i in range(3)])
      check_close(got, want)


def test_freqs_vs_jax():
  jax = _jax()
  for name, args, kw in [("fftfreq", (5,), {}), ("fftfreq", (8, 0.1), {}),
                         ("fftfreq", (6,), {"dtype": np.float16}),
                         ("fftfreq", (6,), {"dtype": np.int32}),
                         ("rfftfreq", (7, 2.0), {}), ("rfftfreq", (8,), {}),
                         ("rfftfreq", (8,), {"dtype": np.float16})]:
    ours = getattr(jfft, name)(*args, **kw)
    ref = getattr(jax.numpy.fft, name)(*args, **kw)
    assert ours.dtype == ref.dtype and ours.shape == ref.shape, (name, kw, ours.dtype)
    check_close(ours, ref, dtype=np.float32 if ours.dtype != np.int32 else None)
  dev = pyjax.devices()[0]
  assert jfft.fftfreq(4, device=dev).devices() == {dev}
  assert jfft.rfftfreq(4, device=dev).devices() == {dev}
  check_close(pyjax.jit(lambda: jfft.fftfreq(6, 0.5))(), jfft.fftfreq(6, 0.5))


def test_namespace():
  assert jnp.fft is jfft
  assert jnp.fft.rfft is jfft.rfft
  assert sorted(jfft.__all__) == sorted(n for n in dir(_jax().numpy.fft)
                                        if not n.startswith("_"))


ERRORS = [
    ("fft", (C,), {"axis": (0, 1)}), ("rfft", (C,), {}), ("fft", (C,), {"norm": "bad"}),
    ("fftn", (C,), {"s": (2, 0)}), ("fftn", (C,), {"s": (2,), "axes": (0, 1)}),
    ("fftn", (C,), {"axes": (0, 0)}), ("fft2", (C3,), {"axes": (0,)}),
    ("fftn", (np.ones((2,) * 5, np.complex64),), {}),
    ("fftfreq", ([4],), {}), ("fftfreq", (4, [1.0]), {}), ("rfftfreq", ((4,),), {}),
    ("fft", ([1.0, 2.0],), {}), ("irfft2", (C3,), {"axes": (0, 1, 2)}),
    ("fft", (C,), {"n": 0}),
]


@pytest.mark.parametrize("name,args,kw", ERRORS, ids=_ids(ERRORS))
def test_errors_vs_jax(name, args, kw):
  jax = _jax()
  try:
    getattr(jax.numpy.fft, name)(*args, **kw)
  except Exception as e:
    theirs = e
  else:
    theirs = None
  if theirs is None:   # JAX accepts it (a 5-D fftn): so must we, with its values
    check_close(getattr(jfft, name)(*args, **kw), getattr(jax.numpy.fft, name)(*args, **kw),
                scale=3)
    return
  with pytest.raises(type(theirs)) as ours:
    getattr(jfft, name)(*args, **kw)
  gist = str(theirs).split(".")[0][:40]
  assert gist in str(ours.value), (str(ours.value), str(theirs))

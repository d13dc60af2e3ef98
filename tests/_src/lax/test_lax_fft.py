"""lax.fft: values vs JAX, jit vs eager (one program per dtype family), JAX's transposes
(grad vs JAX and vs finite differences), vmap vs a loop, float64 under x64, errors."""
import numpy as np
import pytest

import pyjax
from pyjax import lax
from pyjax._src.lax import fft as lax_fft
from pyjax._src.public_test_util import check_grads
from util import check_close, enable_x64

FftType = lax.FftType

# (operand shape, number of fft axes): power-of-two lengths (IREE's stablehlo.fft in
# float32), small DFTs, four-step composites (48, 100, 120), Bluestein primes (37, 67)
# and 1-, 2-, 3-D transforms. Eager runs all of them; one jitted program per dtype
# family runs JIT_CASES (IREE compiles each FFT formulation in about a second).
SHAPES = [((8,), 1), ((3, 16), 1), ((5,), 1), ((2, 12), 1), ((48,), 1), ((37,), 1),
          ((2, 67), 1), ((100,), 1), ((4, 8), 2), ((6, 10), 2), ((2, 4, 8), 3),
          ((3, 5, 6), 3), ((2, 3, 5, 4), 2), ((120,), 1), ((1,), 1), ((2, 1), 1),
          ((1024,), 1)]
JIT_CASES = [("FFT", (8,), 1), ("FFT", (5,), 1), ("FFT", (48,), 1), ("FFT", (37,), 1),
             ("FFT", (6, 8), 2), ("IFFT", (2, 12), 1), ("RFFT", (2, 12), 1),
             ("RFFT", (3, 5, 6), 3), ("IRFFT", (16,), 1), ("IRFFT", (2, 10), 1),
             ("FFT", (2, 1), 1)]


def _operand(typ, shape, k, dtype, rng):
  rdt = np.float64 if dtype == np.float64 else np.float32
  cdt = np.complex128 if dtype == np.float64 else np.complex64
  if typ == "RFFT":
    return rng.standard_normal(shape).astype(rdt), shape[-k:]
  if typ == "IRFFT":
    n = shape[-1]
    s = (*shape[:-1], n // 2 + 1)
    return (rng.standard_normal(s) + 1j * rng.standard_normal(s)).astype(cdt), shape[-k:]
  return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(cdt), \
      shape[-k:]


def _cases(dtype, jit=False):
  rng = np.random.default_rng(0)
  if jit:
    return [(typ, *_operand(typ, shape, k, dtype, rng)) for typ, shape, k in JIT_CASES]
  return [(typ, *_operand(typ, shape, k, dtype, rng))
          for typ in ("FFT", "IFFT", "RFFT", "IRFFT") for shape, k in SHAPES]


def _fft(typ, lengths):
  return lambda a: lax.fft(a, typ, lengths)


def _numpy_ref(typ, x, lengths):
  axes = tuple(range(x.ndim - len(lengths), x.ndim))
  fn = {"FFT": np.fft.fftn, "IFFT": np.fft.ifftn, "RFFT": np.fft.rfftn}.get(typ)
  if fn is not None:
    return fn(x.astype(np.complex128 if typ != "RFFT" else np.float64), axes=axes)
  return np.fft.irfftn(x.astype(np.complex128), s=lengths, axes=axes)


def _check(cases, outs, scale):
  for (t, x, lens), e in zip(cases, outs):
    ref = _numpy_ref(t, x, lens)
    check_close(e, ref.astype(np.asarray(e).dtype), rtol=0,
                atol=scale * max(1, np.max(np.abs(ref))), err_msg=f"{t} {x.shape} {lens}")


def _check_all(dtype, scale):
  cases = _cases(dtype)
  eager = [lax.fft(x, t, lens) for t, x, lens in cases]
  _check(cases, eager, scale)
  jcases = _cases(dtype, jit=True)
  jitted = pyjax.jit(lambda *xs: [lax.fft(x, t, lens) for (t, _, lens), x in
                                  zip(jcases, xs)])(*[x for _, x, _ in jcases])
  _check(jcases, jitted, scale)
  for (t, x, lens), j in zip(jcases, jitted):
    assert j.dtype == lax.fft(x, t, lens).dtype
  return cases, eager


def test_values_float32_eager_jit_vs_jax():
  jax = pytest.importorskip("jax")
  cases, eager = _check_all(np.float32, 2e-6)
  for (t, x, lens), e in zip(cases, eager):
    ref = jax.lax.fft(x, t, lens)
    assert np.asarray(e).dtype == ref.dtype and e.shape == ref.shape
    check_close(e, ref, rtol=0, atol=2e-6 * max(1, np.max(np.abs(np.asarray(ref)))))


def test_values_float64_eager_jit():
  with enable_x64():
    cases, eager = _check_all(np.float64, 1e-13)
    assert {np.asarray(e).dtype for e in eager} == {np.dtype(np.complex128),
                                                      np.dtype(np.float64)}


def test_large_lengths_accuracy():
  """Error grows slowly with n (like a tree of butterflies, as XLA's): 2^14 rows (IREE's
  stablehlo.fft row by row), 1031 (prime: Bluestein through a four-step 4096 = 64 x 64),
  rfft 2^14 (packed into a complex 2^13), irfft 2^14. (2^20, whose rows take a radix-2
  step first, is checked by bench/bench_fft.py: it compiles and runs too long here.)"""
  rng = np.random.default_rng(1)
  cx = lambda *s: (rng.standard_normal(s) + 1j * rng.standard_normal(s)).astype(np.complex64)
  xs = [cx(2, 2 ** 14), cx(1031), rng.standard_normal(2 ** 14).astype(np.float32),
        cx(2 ** 13 + 1)]
  kinds = ["fft", "ifft", "rfft", "irfft"]
  lens = [2 ** 14, 1031, 2 ** 14, 2 ** 14]
  outs = pyjax.jit(lambda *a: [lax.fft(x, t, (n,)) for x, t, n in zip(a, kinds, lens)])(*xs)
  for x, t, n, o in zip(xs, kinds, lens, outs):
    ref = _numpy_ref(t.upper(), x, (n,))
    err = np.max(np.abs(np.asarray(o) - ref)) / np.max(np.abs(ref))
    assert err < 1e-6, (t, x.shape, err)


def test_fft_type_spellings_and_lengths():
  x = np.arange(8, dtype=np.float32)
  a = lax.fft(x, "rfft", (8,))
  b = lax.fft(x, FftType.RFFT, [8])
  c = lax.fft(x, "RFFT", (8,))
  check_close(a, b)
  check_close(a, c)
  # real input to FFT/IFFT converts to complex; integers too, as JAX
  assert lax.fft(np.arange(4, dtype=np.int32), "fft", (4,)).dtype == np.complex64
  assert lax.fft(np.ones(4, np.float32), "ifft", (4,)).dtype == np.complex64
  # no lengths: the (converted) operand itself
  assert lax.fft(np.ones(4, np.float32), "fft", ()).dtype == np.complex64
  assert lax.FftType is lax_fft.FftType and int(FftType.IRFFT) == 3


@pytest.mark.parametrize("args,needle", [
    ((np.ones(4, np.complex64), "rfft", (4,)), "only real valued inputs"),
    ((np.ones((4, 5), np.complex64), "irfft", (4, 6)), "IRFFT"),
    ((np.ones((4, 5), np.complex64), "irfft", (3, 8)), "IRFFT input shape"),
    ((np.ones((2, 3, 4, 5, 6), np.complex64), "fft", (3, 4, 5, 6)), "rank"),
    ((np.ones((4,), np.complex64), "fft", (2, 4)), "at least as many"),
    ((np.ones((4,), np.complex64), "fft", (8,)), "minor dimensions"),
    ((np.ones((4,), np.float32), "rfft", (8,)), "minor dimensions"),
    ((np.ones((4,), np.complex64), "dft", (4,)), "Unknown FFT type"),
    ((np.ones((4,), np.complex64), 0, (4,)), "Unknown FFT type value"),
])
def test_errors_vs_jax(args, needle):
  jax = pytest.importorskip("jax")
  with pytest.raises(Exception) as theirs:
    jax.lax.fft(*args)
  with pytest.raises(Exception) as ours:
    lax.fft(*args)
  assert needle in str(ours.value), str(ours.value)
  # JAX raises MLIRError (a jaxlib class) where XLA's verifier rejects the shapes;
  # we raise ValueError there, JAX's own class elsewhere.
  want = theirs.type if theirs.type in (ValueError, TypeError) else ValueError
  assert ours.type is want, (ours.type, theirs.type)
  with pytest.raises(want):
    pyjax.jit(lambda a: lax.fft(a, *args[1:]))(args[0])


GRAD_CASES = [("FFT", (6,), (6,)), ("IFFT", (2, 8), (2, 8)), ("RFFT", (8,), (8,)),
              ("RFFT", (7,), (7,)), ("IRFFT", (5,), (8,)), ("IRFFT", (4,), (7,)),
              ("RFFT", (3, 6), (3, 6)), ("IRFFT", (3, 4), (3, 6))]


def _loss(f, w):
  def g(x):
    y = f(x)
    return (y * w).real.sum() if np.iscomplexobj(w) else (y * w).sum()
  return g


def _grad_case(typ, in_shape, lens, rng, c_dt=np.complex64, r_dt=np.float32):
  out_shape = lens[:-1] + (lens[-1] // 2 + 1,) if typ == "RFFT" else lens
  real_in = typ == "RFFT"
  x = rng.standard_normal(in_shape)
  x = x.astype(r_dt) if real_in else (x + 1j * rng.standard_normal(in_shape)).astype(c_dt)
  w = rng.standard_normal(out_shape)
  w = w.astype(r_dt) if typ == "IRFFT" else (w + 1j * rng.standard_normal(out_shape)).astype(c_dt)
  return x, w


def test_grad_vs_jax():
  jax = pytest.importorskip("jax")
  rng = np.random.default_rng(2)
  data = [_grad_case(*c, rng) for c in GRAD_CASES]
  for (typ, in_shape, lens), (x, w) in zip(GRAD_CASES, data):
    ours = pyjax.grad(_loss(_fft(typ, lens), w))(x)
    ref = jax.grad(_loss(lambda a: jax.lax.fft(a, typ, lens), w))(x)
    assert np.asarray(ours).dtype == ref.dtype
    check_close(ours, ref, scale=10, err_msg=f"{typ} {in_shape}")
  # the transposes under jit: one program of the RFFT/IRFFT grads (odd and even n)
  sel = [2, 3, 4, 5]
  grads = pyjax.jit(lambda *xs: [pyjax.grad(_loss(_fft(*GRAD_CASES[i][::2]), data[i][1]))(x)
                                 for i, x in zip(sel, xs)])(*[data[i][0] for i in sel])
  for i, g in zip(sel, grads):
    typ, _, lens = GRAD_CASES[i]
    ref = jax.grad(_loss(lambda a: jax.lax.fft(a, typ, lens), data[i][1]))(data[i][0])
    check_close(g, ref, scale=10, err_msg=f"jit {typ} {lens}")


def test_grad_finite_differences_x64():
  rng = np.random.default_rng(3)
  with enable_x64():
    for typ, in_shape, lens in GRAD_CASES:
      x, w = _grad_case(typ, in_shape, lens, rng, np.complex128, np.float64)
      check_grads(_loss(_fft(typ, lens), w), (x,), order=2, modes=("fwd", "rev"))


def test_vmap_vs_loop():
  rng = np.random.default_rng(4)
  for typ, in_shape, lens in [("FFT", (3, 8), (8,)), ("RFFT", (3, 4, 6), (4, 6)),
                              ("IRFFT", (2, 5, 3), (5, 4)), ("IFFT", (5, 4), (5, 4))]:
    x, _ = _grad_case(typ, in_shape, lens, rng)
    for axis in range(x.ndim - len(lens) + 1):
      xb = np.moveaxis(np.stack([x] * 2 + [x * 2]), 0, axis)
      got = pyjax.vmap(_fft(typ, lens), in_axes=axis)(xb)
      want = np.stack([np.asarray(_fft(typ, lens)(np.take(xb, i, axis)))
                       for i in range(3)])
      check_close(got, want)


def test_make_jaxpr():
  jax = pytest.importorskip("jax")
  x = np.ones((4, 8), np.float32)
  jx = pyjax.make_jaxpr(lambda a: lax.fft(a, "rfft", (4, 8)))(x)
  assert "fft[" in str(jx)
  ref = jax.make_jaxpr(lambda a: jax.lax.fft(a, "rfft", (4, 8)))(x).out_avals[0]
  assert (ref.shape, ref.dtype) == (jx.out_avals[0].shape, jx.out_avals[0].dtype)

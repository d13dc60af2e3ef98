"""The compile sweep (compile_sweep.py): lax and jax.numpy functions under jit over
0-size, 1-size and scalar shapes in float16, bfloat16, float64, int8, uint64 and
complex dtypes, against eager. By default a sample (a slice of the functions, on a few
(dtype, shape) cases, each one program); ``-m slow`` runs every case with every
function (about 40 programs of ~300 functions: tens of minutes)."""
from __future__ import annotations

import numpy as np
import pytest

import pyjax
from compile_sweep import DTYPES, SHAPES, sweep_case
from util import bfloat16

# (dtype, shape, part): every 12th applicable function from ``part`` on.
PARTS = 12
SAMPLE = [
    (np.dtype(np.float16), (2, 0, 3), 0),
    (bfloat16, (1, 1), 5),
    (np.dtype(np.int8), (), 7),
    (np.dtype(np.complex64), (3, 1, 2), 2),
    (np.dtype(np.uint64), (1,), 9),
    (np.dtype(np.float64), (0,), 4),
]


def _check(dtype, shape, part=0, parts=1):
  n, problems = sweep_case(np.dtype(dtype), shape, part=part, parts=parts)
  assert n > 5, n  # (the sweep found its functions)
  assert not problems, "\n".join(f"{label}: {msg}" for label, msg in problems)


@pytest.mark.parametrize("dtype,shape,part", SAMPLE,
                         ids=[f"{np.dtype(d).name}-{s}" for d, s, _ in SAMPLE])
def test_compile_sweep_sample(dtype, shape, part):
  _check(dtype, shape, part, PARTS)


@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_compile_sweep_full(dtype, shape):
  _check(dtype, shape)


def _findings(m):
  """The cases the sweep found failing in IREE (or eagerly wrong), in one program."""
  lax_, np_ = m.lax, m.numpy
  def f(h0, h203, h1, s, c, b4, b45, i1, cx, cy):
    cx = np_.asarray(cx)
    return [lax_.cumsum(h0, 0), lax_.cumprod(h203, 1), lax_.cummax(h0, 0),
            lax_.cumlogsumexp(h203, 1, reverse=True), np_.nancumprod(h203, axis=1),
            np_.unwrap(h1), lax_.dynamic_slice(s, (), ()),
            lax_.dynamic_update_slice(s, s * 2, ()),
            lax_.bitcast_convert_type(c, np.complex64), np_.matmul(b4, b45),
            *lax_.unstack(i1), lax_.max(cx, cy), lax_.min(cx, cy),
            cx.at[np.array([0, 2])].max(cy[:2]), cx.at[1].min(cy[0], mode="drop"),
            cx.at[::2].add(cy[:4]), lax_.pad(cx, c, [(1, -2, 2)]),
            lax_.cumlogsumexp(cx[:0], 0)]
  return f


def test_sweep_findings_vs_jax():
  jax = pytest.importorskip("jax")
  rng = np.random.default_rng(0)
  args = (np.ones((0,), np.float16), np.ones((2, 0, 3), np.float16),
          np.array([2.5], np.float16), np.float32(1.5), np.complex64(1 + 2j),
          rng.random((4,)) < 0.5, rng.random((4, 5)) < 0.5, np.array([3], np.int8),
          np.array([1 + 2j, 3 - 1j, 2, np.nan, 1, 1j * np.nan, 2 + 2j], np.complex64),
          np.array([1 + 3j, 5, 1 + 9j, 1, np.nan, 5, 2 + 2j], np.complex64))
  want = jax.jit(_findings(jax))(*args)
  for got in (_findings(pyjax)(*args), pyjax.jit(_findings(pyjax))(*args)):
    assert len(got) == len(want)
    for g, w in zip(got, want):
      assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
      np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_empty_kernel_convolution_under_jit():
  # (JAX's verifier rejects these; pyjax computes them, jit as eager)
  f = lambda x, w: pyjax.lax.conv_general_dilated(x, w, (1,), "SAME")
  for xs, ws in (((1, 1, 0), (1, 1, 0)), ((1, 1, 3), (1, 1, 0)), ((2, 0, 3), (4, 0, 1))):
    x, w = np.ones(xs, np.float32), np.ones(ws, np.float32)
    e, j = f(x, w), pyjax.jit(f)(x, w)
    assert e.shape == j.shape
    np.testing.assert_array_equal(np.asarray(e), np.asarray(j))

"""The compile sweep (compile_sweep.py): lax and jax.numpy functions under jit over
0-size, 1-size and scalar shapes in float16, bfloat16, float64, int8, uint64 and
complex dtypes, against eager. By default a sample (a slice of the functions, on a few
(dtype, shape) cases, each one program); ``-m slow`` runs every case with every
function (about 40 programs of ~300 functions: tens of minutes)."""
from __future__ import annotations

import numpy as np
import pytest

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

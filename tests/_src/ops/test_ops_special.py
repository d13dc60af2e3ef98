"""logsumexp (pyjax/_src/ops/special.py) against SciPy and real JAX: values, jit (one
program), grad against JAX's grad, vmap against a loop, errors; from one table."""
import numpy as np
import pytest
import scipy.special

import pyjax
from pyjax._src.ops.special import logsumexp
from util import check_close, enable_x64, rand, same_error_class

jax = pytest.importorskip("jax")
from jax.scipy.special import logsumexp as jlogsumexp  # noqa: E402


def _f(lse, a, b=None, w=None, **kw):
  return lse(a, b=b, where=w, **kw)


# (id, kwargs, shapes of a, b, where (None: absent), differentiable, scipy reference)
ROWS = [
    ("all", {}, ((3, 4), None, None), True, lambda a, b, w: scipy.special.logsumexp(a)),
    ("axis1", dict(axis=1), ((3, 4), None, None), True,
     lambda a, b, w: scipy.special.logsumexp(a, 1)),
    ("axis_tuple", dict(axis=(0, 2), keepdims=True), ((2, 3, 4), None, None), True,
     lambda a, b, w: scipy.special.logsumexp(a, (0, 2), keepdims=True)),
    ("neg_axis", dict(axis=-1), ((3, 4), None, None), True, None),
    ("b", dict(axis=0), ((3, 4), (3, 4), None), True,
     lambda a, b, w: scipy.special.logsumexp(a, 0, b=np.abs(b))),
    ("b_bcast", dict(axis=1), ((3, 4), (4,), None), True, None),
    ("sign", dict(axis=1, return_sign=True), ((3, 4), (3, 4), None), True,
     lambda a, b, w: scipy.special.logsumexp(a, 1, b=b, return_sign=True)),
    ("where", dict(axis=1), ((3, 4), None, (3, 4)), True,
     lambda a, b, w: scipy.special.logsumexp(np.where(w, a, -np.inf), 1)),
    ("where_b", dict(axis=None, keepdims=True), ((3, 4), (3, 4), (3, 4)), True, None),
]
IDS = [r[0] for r in ROWS]
BY_ID = {r[0]: r for r in ROWS}


def _args(row, batch=None):
  rng = np.random.default_rng(IDS.index(row[0]))
  pre = () if batch is None else (batch,)
  a = rand(pre + row[2][0], np.float32, rng)
  b = None if row[2][1] is None else rand(pre + row[2][1], np.float32, rng)
  if b is not None and row[0] == "b":
    b = np.abs(b)  # a positive sum: no NaN
  w = None if row[2][2] is None else rand(pre + row[2][2], np.bool_, rng)
  if w is not None:
    w[..., 0] = True
  return a, b, w


def _call(lse, row, a, b, w):
  return _f(lse, a, b, w, **row[1])


def _np(x):
  return tuple(np.asarray(v) for v in x) if isinstance(x, tuple) else np.asarray(x)


@pytest.mark.parametrize("name", IDS)
def test_value_matches_jax_and_scipy(name):
  row = BY_ID[name]
  args = _args(row)
  got = _call(logsumexp, row, *args)
  check_close(got, _np(_call(jlogsumexp, row, *args)), scale=2, check_dtype=True)
  if row[4] is not None:
    check_close(got, tuple(np.float32(v) for v in row[4](*args))
                if isinstance(got, tuple) else np.float32(row[4](*args)), scale=4)


# (b_bcast compiles only without IREE's multi-use fusion: its own program, test_jit_broadcast_b)
JIT_IDS = [i for i in IDS if i != "b_bcast"]


@pytest.fixture(scope="module")
def jitted_all():
  rows = [BY_ID[i] for i in JIT_IDS]

  def many(*xs):
    return [_call(logsumexp, row, *x) for row, x in zip(rows, xs)]
  return pyjax.jit(many)(*[_args(row) for row in rows])


@pytest.mark.parametrize("name", JIT_IDS)
def test_jit_matches_eager(jitted_all, name):
  row = BY_ID[name]
  check_close(jitted_all[JIT_IDS.index(name)], _call(logsumexp, row, *_args(row)),
              scale=2, check_dtype=True)


def test_jit_broadcast_b():
  """IREE's multi-use fusion fails this program; the backend recompiles without it."""
  row = BY_ID["b_bcast"]
  got = pyjax.jit(lambda *x: _call(logsumexp, row, *x))(*_args(row))
  check_close(got, _call(logsumexp, row, *_args(row)), scale=2)


@pytest.mark.parametrize("name", IDS)
def test_grad_matches_jax(name):
  row = BY_ID[name]
  a, b, w = _args(row)
  nums = (0,) if b is None else (0, 1)

  def loss(lse):
    def f(a, b):
      out = _call(lse, row, a, b, w)
      out = out[0] if isinstance(out, tuple) else out
      return (out * np.arange(1., out.size + 1).reshape(np.shape(out))).sum()
    return f

  got = pyjax.grad(loss(logsumexp), nums)(a, b)
  want = jax.grad(loss(jlogsumexp), nums)(a, b)
  check_close(got, [np.asarray(x) for x in want], scale=4)


@pytest.mark.parametrize("name", IDS)
def test_vmap_matches_loop(name):
  row = BY_ID[name]
  a, b, w = _args(row, batch=3)
  got = pyjax.vmap(lambda a, b, w: _call(logsumexp, row, a, b, w),
                   in_axes=(0, None if b is None else 0, None if w is None else 0))(a, b, w)
  want = [_call(logsumexp, row, a[j], None if b is None else b[j], None if w is None
                else w[j]) for j in range(3)]
  if isinstance(got, tuple):
    for p in range(2):
      check_close(got[p], np.stack([np.asarray(x[p]) for x in want]), scale=2)
  else:
    check_close(got, np.stack([np.asarray(x) for x in want]), scale=2)


def test_special_values():
  a = np.array([[-np.inf, -np.inf], [np.inf, 1.], [np.nan, 0.], [0., 0.]], np.float32)
  b = np.array([[1., 1.], [1., 1.], [1., 1.], [1., -1.]], np.float32)
  for kw in (dict(axis=1), dict(axis=1, b=b), dict(axis=1, b=b, return_sign=True)):
    check_close(_np(logsumexp(a, **kw)), _np(jlogsumexp(a, **kw)))
  # a negative sum without return_sign is NaN, as JAX's and SciPy's
  assert np.isnan(logsumexp(np.zeros(2, np.float32), b=np.array([1., -2.], np.float32)))


def test_dtypes_and_complex():
  check_close(logsumexp(np.arange(4)), jlogsumexp(np.arange(4)), check_dtype=True)
  z = (rand((3, 4), np.float32, 1) + 1j * rand((3, 4), np.float32, 2)).astype(np.complex64)
  check_close(logsumexp(z, axis=1), jlogsumexp(z, axis=1), scale=4, check_dtype=True)
  with enable_x64():
    x = rand((5,), np.float64, 3)
    got = logsumexp(x)
    assert got.dtype == np.float64
    check_close(got, scipy.special.logsumexp(x))


@pytest.mark.parametrize("kw", [dict(axis=2), dict(axis=(0, 0)), dict(axis=(-3,))],
                         ids=str)
def test_errors_match_jax(kw):
  a = np.ones((2, 3), np.float32)
  with pytest.raises(Exception) as theirs:
    jlogsumexp(a, **kw)
  with pytest.raises(Exception) as ours:
    logsumexp(a, **kw)
  assert same_error_class(ours.type, theirs.type), (ours.value, theirs.value)

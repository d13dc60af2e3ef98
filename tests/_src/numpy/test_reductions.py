"""jax.numpy reductions against NumPy (axis/keepdims/where/dtype, 0-d and empty inputs),
result dtypes against real JAX, NaN-aware reductions, quantiles and errors."""

import functools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import pyjax
import pyjax.numpy as jnp

import util
from oracle import Oracle, lazy
from util import check_jax_dtype, rand, traced

jax = lazy("jax")
jax_np = lazy("jax.numpy")
ORACLE = Oracle("test_reductions")

# (these compare with NumPy and JAX results of the same dtype)
check_close = functools.partial(util.check_close, check_dtype=True)

DTYPES = [np.float32, np.int32, np.bool_, np.float16, np.uint8, np.int8]
SHAPES = [(), (0,), (5,), (3, 4), (2, 0, 3), (2, 3, 4)]
RED = ["sum", "prod", "max", "min", "mean", "var", "std", "all", "any"]


def _axes_for(shape):
  out = [None]
  for i in range(len(shape)):
    out += [i, -1 - i]
  if len(shape) >= 2:
    out += [(0, len(shape) - 1)]
  return out


def _np_ref(name, x, **kw):
  dt = x.dtype
  fn = getattr(np, name)
  if name in ("sum", "prod") and "dtype" not in kw:
    if dt == np.bool_ or dt.kind in "iu":
      kw["dtype"] = np.uint32 if dt.kind == "u" else np.int32
  if name in ("mean", "var", "std") and "dtype" not in kw:
    if dt.kind in "iub":
      x = x.astype(np.float32)
    elif dt == np.float16:
      x = x.astype(np.float32)
      return fn(x, **kw).astype(np.float16)
  return fn(x, **kw)


def _can_reduce(name, shape, axis):
  if name not in ("max", "min"):
    return True
  if axis is None:
    return int(np.prod(shape)) > 0
  axes = axis if isinstance(axis, tuple) else (axis,)
  return all(shape[a] > 0 for a in axes)


@pytest.mark.parametrize("name", RED)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_reduction_vs_numpy(name, dtype, shape):
  x = rand(shape, dtype, 0, low=-5, high=5)
  if name == "prod" and np.dtype(dtype).kind in "iu":
    x = (x % 3).astype(dtype)
  for axis in _axes_for(shape):
    for keepdims in (False, True):
      if not _can_reduce(name, shape, axis):
        with pytest.raises(ValueError):
          getattr(jnp, name)(jnp.asarray(x), axis=axis, keepdims=keepdims)
        continue
      with np.errstate(all="ignore"):
        ref = _np_ref(name, x, axis=axis, keepdims=keepdims)
      ours = getattr(jnp, name)(jnp.asarray(x), axis=axis, keepdims=keepdims)
      check_close(ours, np.asarray(ref), rtol=2e-2 if dtype == np.float16 else 1e-5,
                  check_dtype=name not in ("all", "any") or True)


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "mean", "var", "std", "all",
                                  "any"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_], ids=lambda d: np.dtype(d).name)
def test_reduction_where(name, dtype):
  x = rand((3, 4), dtype, 1, low=-5, high=5)
  where = rand((3, 4), np.bool_, 2, low=-5, high=5)
  where[:, 0] = True
  kw = {"initial": -100} if name == "max" else {"initial": 100} if name == "min" else {}
  if dtype == np.bool_ and name in ("max", "min"):
    kw = {"initial": False if name == "max" else True}
  for axis in (None, 0, 1):
    with np.errstate(all="ignore"):
      ref = _np_ref(name, x, axis=axis, where=where, **kw)
    ours = getattr(jnp, name)(jnp.asarray(x), axis=axis, where=jnp.asarray(where), **kw)
    check_close(ours, np.asarray(ref))


def test_where_broadcasts():
  x = rand((3, 4), np.float32, 0, low=-5, high=5)
  w = np.array([True, False, True, True])
  check_close(jnp.sum(jnp.asarray(x), axis=0, where=jnp.asarray(w)), np.sum(x, 0, where=w))
  check_close(jnp.mean(jnp.asarray(x), axis=1, where=jnp.asarray(w)), np.mean(x, 1, where=w))


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.float16, np.bool_],
                         ids=lambda d: np.dtype(d).name)
def test_dtype_argument(name, dtype):
  x = (rand((3, 4), np.int32, 3, low=-5, high=5) % 3).astype(np.float32)
  if name == "mean" and dtype == np.bool_:
    with pytest.raises(TypeError):  # as in JAX: division of booleans
      jnp.mean(jnp.asarray(x), axis=1, dtype=dtype)
    return
  ours = getattr(jnp, name)(jnp.asarray(x), axis=1, dtype=dtype)
  ref = getattr(np, name)(x, axis=1, dtype=dtype)
  check_close(ours, ref, rtol=2e-2)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_, np.float16],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)], ids=str)
def test_arg_reductions(name, dtype, shape):
  x = rand(shape, dtype, 4, low=-5, high=5)
  for axis in [None] + list(range(len(shape))) + [-1]:
    for keepdims in (False, True):
      ours = getattr(jnp, name)(jnp.asarray(x), axis=axis, keepdims=keepdims)
      ref = getattr(np, name)(x, axis=axis, keepdims=keepdims)
      check_close(ours, np.asarray(ref).astype(np.int32))


def test_arg_reductions_nan_and_empty():
  x = np.array([1., np.nan, 3.], np.float32)
  assert int(jnp.argmax(jnp.asarray(x))) == np.argmax(x)
  assert int(jnp.argmin(jnp.asarray(x))) == np.argmin(x)
  with pytest.raises(ValueError):
    jnp.argmax(jnp.zeros((0,)))
  with pytest.raises(ValueError):
    jnp.argmin(jnp.zeros((2, 0)), axis=1)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_, np.int8, np.uint8],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(), (0,), (5,), (3, 4)], ids=str)
def test_cumulative(name, dtype, shape):
  x = rand(shape, dtype, 5, low=-5, high=5)
  if name == "cumprod" and np.dtype(dtype).kind in "iu":
    x = (x % 3).astype(dtype)
  axes = [None] + list(range(len(shape)))
  for axis in axes:
    ours = getattr(jnp, name)(jnp.asarray(x), axis=axis)
    ref = _np_cum(name, x, axis)
    check_close(ours, ref)


def _np_cum(name, x, axis):
  dt = x.dtype
  kw = {"dtype": np.int32 if dt == np.bool_ else dt}
  return getattr(np, name)(x, axis=axis, **kw)


# ------------------------------------------------------------ result dtypes vs real JAX

JAX_CASES = [
  ("sum", {}), ("sum", {"axis": 0}), ("sum", {"dtype": np.float16}),
  ("sum", {"promote_integers": False}), ("prod", {}), ("max", {"axis": -1}),
  ("min", {"keepdims": True}), ("mean", {}), ("mean", {"axis": 1, "keepdims": True}),
  ("var", {"ddof": 1}), ("std", {"axis": 0}), ("all", {}), ("any", {"axis": 0}),
  ("argmax", {}), ("argmin", {"axis": 1, "keepdims": True}), ("cumsum", {}),
  ("cumprod", {"axis": 0}), ("nansum", {}), ("nanmean", {"axis": 0}), ("nanmax", {}),
  ("nanmin", {"axis": 1}), ("nanprod", {}), ("nanvar", {"axis": 0}), ("nanstd", {}),
  ("nanargmax", {"axis": 0}), ("nanargmin", {}), ("nancumsum", {"axis": 1}),
  ("nancumprod", {}), ("median", {}), ("median", {"axis": 0, "keepdims": True}),
  ("ptp", {"axis": 1}), ("count_nonzero", {"axis": 0}), ("average", {"axis": 1}),
  ("average", {"returned": True}), ("nanmedian", {"axis": 1}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_, np.float16, np.uint8],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,kw", JAX_CASES, ids=[f"{n}-{i}" for i, (n, _) in
                                                     enumerate(JAX_CASES)])
def test_result_dtype_vs_jax(name, kw, dtype):
  x = rand((3, 4), dtype, 6, low=-5, high=5)
  if name in ("nanmedian", "median") and dtype == np.bool_:
    return
  try:
    ref = ORACLE.call(lambda x, kw: getattr(jax_np, name)(jax_np.asarray(x), **kw), x, kw)
  except (TypeError, ValueError) as e:
    with pytest.raises(type(e)):
      getattr(jnp, name)(jnp.asarray(x), **kw)
    return
  ours = getattr(jnp, name)(jnp.asarray(x), **kw)
  check_jax_dtype(ours, ref)
  f16 = dtype == np.float16 or kw.get("dtype") == np.float16
  check_close(ours, ref, rtol=2e-2 if f16 else 1e-5)


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "max", "var"])
def test_python_scalar_weak_type_vs_jax(name):
  for v in (3, 2.5):
    ref = ORACLE.call(lambda v: getattr(jax_np, name)(v), v)
    ours = getattr(jnp, name)(v)
    check_jax_dtype(ours, ref)
    check_close(ours, ref)


# ------------------------------------------------------------ NaN-aware, average, quantiles

nanm = np.array([[1., np.nan, 3., 2.], [np.nan, np.nan, np.nan, np.nan],
                 [0., 2., -1., np.inf]], np.float32)


@pytest.mark.parametrize("name", ["nansum", "nanprod", "nanmax", "nanmin", "nanmean", "nanvar",
                                  "nanstd", "nancumsum", "nancumprod", "nanmedian"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_nan_reductions_vs_numpy(name, axis):
  with np.errstate(all="ignore"), pytest.warns() if False else _nowarn():
    ref = getattr(np, name)(nanm, axis=axis)
  ours = getattr(jnp, name)(jnp.asarray(nanm), axis=axis)
  check_close(ours, np.asarray(ref).astype(np.float32))


@pytest.mark.parametrize("name", ["nanargmax", "nanargmin"])
def test_nanarg(name):
  x = np.array([[1., np.nan, 3.], [np.nan, -1, 7]], np.float32)
  for axis in (None, 0, 1):
    check_close(getattr(jnp, name)(jnp.asarray(x), axis=axis),
                np.asarray(getattr(np, name)(x, axis=axis)).astype(np.int32))
  # All-NaN slices give -1 (NumPy raises).
  assert int(getattr(jnp, name)(jnp.asarray([np.nan, np.nan]))) == -1


def test_nan_reductions_int_passthrough():
  x = np.arange(6, dtype=np.int32).reshape(2, 3)
  check_close(jnp.nansum(jnp.asarray(x), axis=0), np.nansum(x, axis=0).astype(np.int32))
  check_close(jnp.nanmax(jnp.asarray(x)), np.nanmax(x))
  check_close(jnp.nanmean(jnp.asarray(x)), np.float32(np.nanmean(x)))


class _nowarn:
  def __enter__(self):
    import warnings
    self._w = warnings.catch_warnings()
    self._w.__enter__()
    warnings.simplefilter("ignore")

  def __exit__(self, *a):
    self._w.__exit__(*a)


def test_average():
  x = rand((3, 4), np.float32, 7, low=-5, high=5)
  w = np.abs(rand((4,), np.float32, 8, low=-5, high=5)) + 0.1
  avg, sw = jnp.average(jnp.asarray(x), axis=1, weights=jnp.asarray(w), returned=True)
  ravg, rsw = np.average(x, axis=1, weights=w, returned=True)
  check_close(avg, ravg)
  check_close(sw, rsw.astype(np.float32))
  w2 = np.abs(rand((3, 4), np.float32, 9, low=-5, high=5)) + 0.1
  check_close(jnp.average(jnp.asarray(x), weights=jnp.asarray(w2)),
              np.float32(np.average(x, weights=w2)))
  check_close(jnp.average(jnp.asarray(x), axis=0, keepdims=True),
              np.average(x, axis=0, keepdims=True))
  with pytest.raises(ValueError):
    jnp.average(jnp.asarray(x), weights=jnp.asarray(w))
  with pytest.raises(ValueError):
    jnp.average(jnp.asarray(x), axis=1, weights=jnp.ones(3))


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_quantile_vs_numpy(method, axis, keepdims):
  x = rand((5, 6), np.float32, 10, low=-5, high=5)
  q = np.array([0., 0.1, 0.5, 0.75, 1.], np.float32)
  ref = np.quantile(x, q, axis=axis, method=method, keepdims=keepdims).astype(np.float32)
  ours = jnp.quantile(jnp.asarray(x), jnp.asarray(q), axis=axis, method=method,
                      keepdims=keepdims)
  check_close(ours, ref, rtol=1e-5)
  ref = np.percentile(x, 30, axis=axis, method=method, keepdims=keepdims).astype(np.float32)
  check_close(jnp.percentile(jnp.asarray(x), 30, axis=axis, method=method, keepdims=keepdims),
              ref, rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple), st.integers(0, 5))
def test_median_vs_numpy(shape, seed):
  x = rand(shape, np.float32, seed, low=-5, high=5)
  ax = seed % len(shape)
  check_close(jnp.median(jnp.asarray(x)), np.float32(np.median(x)))
  check_close(jnp.median(jnp.asarray(x), axis=ax), np.median(x, axis=ax).astype(np.float32))


def test_median_nan_and_int():
  x = np.array([1., np.nan, 3.], np.float32)
  assert np.isnan(float(jnp.median(jnp.asarray(x))))
  check_close(jnp.nanmedian(jnp.asarray(x)), np.float32(2.0))
  check_close(jnp.median(jnp.asarray([1, 2, 3, 4])), np.float32(2.5))
  check_close(jnp.nanquantile(jnp.asarray(nanm), 0.5, axis=1),
              np.nanquantile(nanm, 0.5, axis=1).astype(np.float32))


# ------------------------------------------------------------ hypothesis over shapes/axes

shape_axis = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple).flatmap(
    lambda s: st.tuples(st.just(s), st.one_of(
        st.none(), st.integers(-len(s), len(s) - 1) if s else st.none(),
        st.lists(st.integers(0, len(s) - 1), unique=True, max_size=len(s)).map(tuple)
        if s else st.none())))


@settings(max_examples=60, deadline=None)
@given(shape_axis, st.sampled_from(["sum", "prod", "mean", "all", "any", "max"]),
       st.booleans(), st.sampled_from([np.float32, np.int32]))
def test_reductions_hypothesis(sa, name, keepdims, dtype):
  shape, axis = sa
  x = rand(shape, dtype, 11, low=-5, high=5)
  if name == "prod":
    x = (x % 3).astype(dtype)
  if not _can_reduce(name, shape, axis):
    with pytest.raises(ValueError):
      getattr(jnp, name)(jnp.asarray(x), axis=axis, keepdims=keepdims)
    return
  with np.errstate(all="ignore"):
    ref = _np_ref(name, x, axis=axis, keepdims=keepdims)
  check_close(getattr(jnp, name)(jnp.asarray(x), axis=axis, keepdims=keepdims), np.asarray(ref))


# ------------------------------------------------------------ tracing


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "max", "argmax", "cumsum",
                                  "nansum", "nanmean", "nanmax", "nanvar", "median",
                                  "nanargmin"])
def test_reductions_traceable(name):
  x = jnp.asarray(nanm if name.startswith("nan") else rand((3, 4), np.float32, 12, low=-5, high=5))
  fn = lambda a: getattr(jnp, name)(a, axis=1)
  check_close(traced(fn, x), fn(x))


def test_quantile_traceable():
  x = jnp.asarray(rand((4, 5), np.float32, 13, low=-5, high=5))
  fn = lambda a, q: jnp.quantile(a, q, axis=0)
  q = jnp.asarray([0.2, 0.9])
  check_close(traced(fn, x, q), fn(x, q))


# ------------------------------------------------------------ errors


@pytest.mark.parametrize("fn", [
    lambda: jnp.sum(jnp.ones((2, 3)), axis=2),
    lambda: jnp.sum(jnp.ones((2, 3)), axis=-3),
    lambda: jnp.mean(jnp.ones(3), axis=(0, 0)),
    lambda: jnp.max(jnp.zeros((0,))),
    lambda: jnp.min(jnp.zeros((2, 0)), axis=1),
    lambda: jnp.argmax(jnp.ones(3), axis=1),
    lambda: jnp.cumsum(jnp.ones(3), axis=1),
    lambda: jnp.max(jnp.ones(3), where=jnp.ones(3, bool)),
    lambda: jnp.quantile(jnp.ones(3), jnp.ones((2, 2))),
    lambda: jnp.median(jnp.zeros(0)),
], ids=["axis", "neg_axis", "dup_axis", "empty_max", "empty_min", "argmax_axis",
        "cumsum_axis", "where_no_initial", "q_rank", "empty_median"])
def test_value_errors(fn):
  with pytest.raises(ValueError):
    fn()


def test_type_errors():
  with pytest.raises(TypeError):
    jnp.sum([1, 2])
  with pytest.raises(TypeError):
    jnp.mean((1, 2))
  with pytest.raises(TypeError):
    jnp.sum(jnp.ones(3), axis=1.5)
  with pytest.raises(NotImplementedError):
    jnp.sum(jnp.ones(3), out=jnp.ones(()))


def test_bool_results_match_jax():
  """JAX's lax rejects bool in add/mul/reduce_sum/reduce_prod/cumsum/cumprod; jnp turns
  a bool result into logical or/and, or accumulates in int and converts back."""
  b = np.array([[True, False, True], [False, False, True]])
  i = np.array([[1, 0, 2], [0, 0, 3]], np.int32)
  cases = [
      lambda m, v: m.sum(v), lambda m, v: m.prod(v, axis=1),
      lambda m, v: m.sum(v, dtype=bool), lambda m, v: m.prod(v, axis=0, dtype=bool),
      lambda m, v: m.sum(v, axis=1, dtype=bool, initial=True),
      lambda m, v: m.prod(v, dtype=bool, where=np.zeros_like(b)),
      lambda m, v: m.cumsum(v, axis=1), lambda m, v: m.cumprod(v),
      lambda m, v: m.cumsum(v, axis=1, dtype=bool), lambda m, v: m.cumprod(v, dtype=bool),
      lambda m, v: m.square(v), lambda m, v: m.add(v, v), lambda m, v: m.multiply(v, v),
      lambda m, v: m.asarray(v) * m.asarray(v),
  ]
  for k, f in enumerate(cases):
    for x in (b, i):
      want = ORACLE.call(lambda x: f(jax.numpy, x), x, oracle_tag=k)
      for got in (f(jnp, x), pyjax.jit(lambda v: f(jnp, v))(x)):
        assert got.dtype == want.dtype, (k, x.dtype, got.dtype, want.dtype)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=str(k))

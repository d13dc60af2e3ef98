"""NumPy indexing, .at[] updates, take/nonzero: vs NumPy and under tracing."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import pyjax
import pyjax.numpy as jnp
from pyjax._src.errors import NonConcreteBooleanIndexError
from pyjax._src.numpy import indexing as I

SHAPE = (4, 5, 3)
X = np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE)


def _entry(draw, n):
  kind = draw(st.sampled_from(["int", "slice", "none", "arr", "bool"]))
  if kind == "int":
    return draw(st.integers(-n, n - 1)), 1
  if kind == "slice":
    b = st.one_of(st.none(), st.integers(-n - 2, n + 2))
    step = draw(st.one_of(st.none(), st.sampled_from([1, 2, 3, -1, -2])))
    return slice(draw(b), draw(b), step), 1
  if kind == "none":
    return None, 0
  if kind == "arr":
    k = draw(st.integers(0, 3))
    return np.array(draw(st.lists(st.integers(-n, n - 1), min_size=k, max_size=k)),
                    np.int32), 1
  return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))), 1


@st.composite
def index_exprs(draw):
  idx, dim = [], 0
  ell = draw(st.booleans())
  nent = draw(st.integers(1, 4))
  narr = 0
  for _ in range(nent):
    if dim >= len(SHAPE):
      break
    e, used = _entry(draw, SHAPE[dim])
    if isinstance(e, np.ndarray):
      if narr and e.dtype != np.bool_:
        e = e[:1] if len(e) else np.array([0], np.int32)
      narr += 1
    idx.append(e)
    dim += used
  if ell:
    idx.insert(draw(st.integers(0, len(idx))), Ellipsis)
  return tuple(idx)


@settings(max_examples=300, deadline=None)
@given(index_exprs())
def test_getitem_vs_numpy(idx):
  try:
    ref = X[idx]
  except IndexError:
    return
  out = jnp.asarray(X)[idx]
  assert out.shape == ref.shape, idx
  np.testing.assert_array_equal(np.asarray(out), ref)


def _eval(closed, *args):
  """eval_jaxpr with Literals wrapped as arrays (core.eval_jaxpr passes raw values)."""
  from pyjax._src import core
  from pyjax._src.array import ArrayImpl
  j = closed.jaxpr
  env = dict(zip(j.constvars, closed.consts))
  env.update(zip(j.invars, args))
  read = lambda v: (ArrayImpl(np.asarray(v.val, v.aval.dtype)[()], v.aval.weak_type)
                    if type(v) is core.Literal else env[v])
  for e in j.eqns:
    out = e.primitive.bind(*map(read, e.invars), **e.params)
    env.update(zip(e.outvars, out if e.primitive.multiple_results else (out,)))
  return read(j.outvars[0])


@settings(max_examples=150, deadline=None)
@given(index_exprs())
def test_getitem_traced_vs_numpy(idx):
  try:
    ref = X[idx]
  except IndexError:
    return
  jaxpr = pyjax.make_jaxpr(lambda x: x[idx])(X)
  out = _eval(jaxpr, jnp.asarray(X))
  np.testing.assert_array_equal(np.asarray(out), ref)


@settings(max_examples=150, deadline=None)
@given(index_exprs(), st.sampled_from(["set", "add", "multiply", "min", "max"]))
def test_at_vs_numpy(idx, op):
  try:
    sel = X[idx]
  except IndexError:
    return
  vals = np.asarray(np.random.RandomState(0).randn(*np.shape(sel)), np.float32)
  ref = X.copy()
  flat_ids = np.arange(X.size).reshape(X.shape)[idx]
  if op == "set":
    if len(np.unique(flat_ids)) != flat_ids.size:
      return  # order of duplicate writes is unspecified
    ref[idx] = vals
  else:
    uf = {"add": np.add, "multiply": np.multiply, "min": np.minimum, "max": np.maximum}[op]
    r = ref.reshape(-1)
    uf.at(r, flat_ids.reshape(-1), vals.reshape(-1))
  out = getattr(jnp.asarray(X).at[idx], op)(vals)
  np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-6)


def test_at_methods_scalar_index():
  x = jnp.asarray(np.arange(4.0, dtype=np.float32))
  np.testing.assert_array_equal(x.at[1].set(7.0), [0, 7, 2, 3])
  np.testing.assert_array_equal(x.at[-1].add(1.0), [0, 1, 2, 4])
  np.testing.assert_array_equal(x.at[1].subtract(1.0), [0, 0, 2, 3])
  np.testing.assert_array_equal(x.at[2].divide(2.0), [0, 1, 1, 3])
  np.testing.assert_array_equal(x.at[3].power(2.0), [0, 1, 2, 9])
  np.testing.assert_array_equal(x.at[1].mul(3.0), [0, 3, 2, 3])
  np.testing.assert_array_equal(x.at[0].apply(lambda v: v + 100), [100, 1, 2, 3])
  np.testing.assert_array_equal(x.at[10].set(5.0), x)  # out of bounds: dropped
  np.testing.assert_array_equal(x.at[np.array([1, 7])].get(mode="fill", fill_value=-3),
                                [1, -3])
  y = jnp.asarray(np.zeros(3, np.int32)).at[0].set(2)
  assert y.dtype == np.int32
  assert repr(x.at) == f"_IndexUpdateHelper({x!r})"


def test_getitem_clamps_like_jax():
  x = jnp.asarray(np.arange(4.0, dtype=np.float32))
  assert float(x[5]) == 3.0 and float(x[-7]) == 0.0


def test_immutable():
  x = jnp.asarray(np.arange(4.0, dtype=np.float32))
  with pytest.raises(TypeError, match="immutable"):
    x[0] = 1.0


def test_list_index_error():
  x = jnp.asarray(np.arange(4.0, dtype=np.float32))
  with pytest.raises(TypeError, match="non-tuple sequence"):
    x[[0, 1]]


def test_nonconcrete_bool_index():
  x = np.arange(4.0, dtype=np.float32)
  with pytest.raises(NonConcreteBooleanIndexError):
    pyjax.make_jaxpr(lambda x: x[x > 1])(x)


def test_take_and_friends():
  x = np.arange(20.0, dtype=np.float32).reshape(4, 5)
  np.testing.assert_array_equal(I.take(x, np.array([1, 7, -1])), [1, 7, 19])
  np.testing.assert_array_equal(I.take(x, np.array([1, 9]), axis=0)[1], np.full(5, np.nan))
  np.testing.assert_array_equal(I.take(x, np.array([0, 2]), axis=1), x[:, [0, 2]])
  i = np.array([[1], [0], [2], [4]])
  np.testing.assert_array_equal(I.take_along_axis(x, i, 1), np.take_along_axis(x, i, 1))
  for a in (x > 7, np.zeros(3), np.eye(3)):
    for o, r in zip(I.nonzero(a), np.nonzero(a)):
      np.testing.assert_array_equal(o, r)
    np.testing.assert_array_equal(I.argwhere(a), np.argwhere(a))
    np.testing.assert_array_equal(I.flatnonzero(a), np.flatnonzero(a))
  r = I.nonzero(x > 17, size=3, fill_value=-1)
  np.testing.assert_array_equal(r[0], [3, 3, -1])
  np.testing.assert_array_equal(r[1], [3, 4, -1])


def test_nonzero_requires_size_under_tracing():
  from pyjax._src.errors import ConcretizationTypeError
  with pytest.raises(ConcretizationTypeError, match="size argument of jnp.nonzero"):
    pyjax.make_jaxpr(lambda x: I.nonzero(x))(np.ones(3, np.float32))


def test_at_jaxpr_matches_jax():
  jax = pytest.importorskip("jax")
  norm = lambda s: " ".join(str(s).split())
  x = np.ones((4, 5), np.float32)
  ours = pyjax.make_jaxpr(lambda x: x.at[1].set(1.0))(x)
  ref = jax.make_jaxpr(lambda x: x.at[1].set(1.0))(x)
  assert norm(ours) == norm(ref)

"""pyjax.example_libraries.stax against JAX's: init (bit-exact parameters for the same
key), apply (eager, and every layer in one jitted program), grads, vmap, errors and
public names.

The rows and JAX's results for them live in tests/data/make_stax_expected.py and the
table it writes (stax_expected.json; JAX's eager mode compiles every op, minutes for
the table); ``test_table_is_jax`` recomputes rows with the installed JAX.
"""
import importlib.util
import os

import numpy as np
import pytest

import pyjax
import pyjax.numpy as pjnp
from pyjax.example_libraries import stax as pstax

from util import same_error_class

jax = pytest.importorskip("jax")
jjnp = jax.numpy
from jax.example_libraries import stax as jstax  # noqa: E402

_DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")
_spec = importlib.util.spec_from_file_location(
    "make_stax_expected", os.path.join(_DATA, "make_stax_expected.py"))
rows = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rows)

IDS, LAYERS = rows.IDS, rows.LAYERS
TABLE = rows.load()
# float32 convolutions and reductions sum in another order than XLA's
RTOL, ATOL = 2e-5, 1e-6


def _np(tree):
  return [np.asarray(x) for x in pyjax.tree_util.tree_leaves(tree)]


def test_table_covers_every_row():
  assert set(TABLE) == set(IDS)


def test_table_is_jax():
  """The stored table is what the installed JAX computes (one row recomputed live:
  JAX's eager mode is the cost)."""
  name = "Dense"
  k = IDS.index(name)
  live = rows.compute(k, "jax")
  want = TABLE[name]
  assert tuple(live["out_shape"]) == want["out_shape"]
  for a, b in zip(live["params"] + [live["out"]], want["params"] + [want["out"]]):
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("k", range(len(LAYERS)), ids=IDS)
def test_init_bit_exact(k):
  """Same output shape and bit-identical parameters for the same key."""
  _, oshape, params = rows.init_row(k, "pyjax")
  want = TABLE[IDS[k]]
  assert tuple(oshape) == want["out_shape"]
  ours = _np(params)
  assert len(ours) == len(want["params"])
  for a, b in zip(ours, want["params"]):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def test_typed_key_init():
  """A typed key (random.key(0)) gives the bits of PRNGKey(0), as in JAX."""
  k = IDS.index("cnn")
  _, _, params = rows.init_row(k, "pyjax", key=pyjax.random.key(0))
  for a, b in zip(_np(params), TABLE["cnn"]["params"]):
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("k", range(len(LAYERS)), ids=IDS)
def test_apply(k):
  apply, _, params = rows.init_row(k, "pyjax")
  out = np.asarray(apply(params, pjnp.asarray(rows.input_of(k)),
                         **rows.apply_kwargs(k, "pyjax")))
  want = TABLE[IDS[k]]["out"]
  assert out.dtype == want.dtype and out.shape == want.shape
  np.testing.assert_allclose(out, want, rtol=RTOL, atol=ATOL)


@pytest.fixture(scope="module")
def jitted():
  """Every layer's apply in ONE jitted program (compiled once)."""
  applies, params, kws = [], [], []
  for k in range(len(LAYERS)):
    apply, _, p = rows.init_row(k, "pyjax")
    applies.append(apply)
    params.append(p)
    kws.append(rows.apply_kwargs(k, "pyjax"))

  @pyjax.jit
  def f(params, xs, kws):
    return [a(p, x, **kw) for a, p, x, kw in zip(applies, params, xs, kws)]
  return f(params, [pjnp.asarray(rows.input_of(k)) for k in range(len(LAYERS))], kws)


@pytest.mark.parametrize("k", range(len(LAYERS)), ids=IDS)
def test_jit(jitted, k):
  np.testing.assert_allclose(np.asarray(jitted[k]), TABLE[IDS[k]]["out"], rtol=RTOL,
                             atol=ATOL)


@pytest.mark.parametrize("k", rows.GRAD_ROWS, ids=[IDS[k] for k in rows.GRAD_ROWS])
def test_grad(k):
  """Gradients of sum(sin(apply(params, x))) w.r.t. parameters and input."""
  ours = rows.compute(k, "pyjax")["grad"]
  want = TABLE[IDS[k]]["grad"]
  assert len(ours) == len(want)
  for a, b in zip(ours, want):
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_grad_finite_differences():
  """A small CNN's gradient against finite differences (float64)."""
  from util import enable_x64
  from pyjax.test_util import check_grads
  with enable_x64(True):
    init, apply = pstax.serial(pstax.Conv(2, (2, 2), padding="SAME"), pstax.Tanh,
                               pstax.AvgPool((2, 2)), pstax.Flatten, pstax.Dense(2))
    _, params = init(pyjax.random.PRNGKey(1), (2, 4, 4, 1))
    params = pyjax.tree_util.tree_map(lambda p: pjnp.asarray(p, pjnp.float64), params)
    x = pjnp.asarray(np.random.default_rng(0).normal(size=(2, 4, 4, 1)))
    check_grads(lambda p: pjnp.sum(apply(p, x) ** 2), (params,), order=1, modes=["rev"])


VMAP_ROWS = [IDS.index(n) for n in ("Dense", "Conv", "ConvTranspose", "BatchNorm",
                                     "MaxPool_same_stride", "AvgPool_NCHW", "Softmax",
                                     "FanInConcat", "cnn")]


@pytest.mark.parametrize("k", VMAP_ROWS, ids=[IDS[k] for k in VMAP_ROWS])
def test_vmap(k):
  """vmap of apply over a stack of inputs (and, for the rng layers, of keys), against a
  loop."""
  apply, _, params = rows.init_row(k, "pyjax")
  xs = [pjnp.asarray(rows.input_of(k) * (j + 1)) for j in range(3)]
  if LAYERS[k][3]:
    keys = pyjax.random.split(pyjax.random.PRNGKey(3), 3)
    got = pyjax.vmap(lambda x, key: apply(params, x, rng=key))(pjnp.stack(xs), keys)
    want = [apply(params, x, rng=keys[j]) for j, x in enumerate(xs)]
  else:
    got = pyjax.vmap(lambda x: apply(params, x))(pjnp.stack(xs))
    want = [apply(params, x) for x in xs]
  for j in range(3):
    np.testing.assert_allclose(np.asarray(got[j]), np.asarray(want[j]), rtol=1e-5,
                               atol=1e-6)


def _both_raise(f_ours, f_ref):
  with pytest.raises(Exception) as e:
    f_ours()
  with pytest.raises(Exception) as r:
    f_ref()
  assert same_error_class(type(e.value), type(r.value)), (e.value, r.value)
  return str(e.value), str(r.value)


@pytest.mark.parametrize("name,make,good,bad", [
    ("Dense", lambda s: s.Dense(3), (2, 4), (2, 5)),
    ("Conv_channels", lambda s: s.Conv(3, (2, 2)), (1, 4, 4, 2), (1, 4, 4, 3)),
    ("Conv_rank", lambda s: s.Conv(3, (2, 2)), (1, 4, 4, 2), (4, 4, 2)),
    ("BatchNorm_rank", lambda s: s.BatchNorm(), (2, 3, 3, 2), (3, 2)),
])
def test_wrong_input_shape(name, make, good, bad):
  """Params made for one input shape, applied to another: JAX's error class (the
  underlying lax operation's; stax checks nothing itself)."""
  init, apply = make(pstax)
  jinit, japply = make(jstax)
  _, p = init(pyjax.random.PRNGKey(0), good)
  jp = pyjax.tree_util.tree_map(lambda a: jjnp.asarray(np.asarray(a)), p)
  x = np.ones(bad, np.float32)
  _both_raise(lambda: apply(p, pjnp.asarray(x)), lambda: japply(jp, jjnp.asarray(x)))


def test_dropout_needs_rng():
  _, apply = pstax.Dropout(0.5)
  _, japply = jstax.Dropout(0.5)
  ours, ref = _both_raise(lambda: apply((), pjnp.ones(3)), lambda: japply((), jjnp.ones(3)))
  assert ours == ref


IMPORT_HELPERS = {"functools", "math", "jnp", "lax", "random"}


def test_public_names():
  theirs = {n for n in dir(jstax) if not n.startswith("_")} - IMPORT_HELPERS
  assert set(pstax.__all__) == theirs
  assert all(hasattr(pstax, n) for n in pstax.__all__)
  assert pstax.glorot is pstax.glorot_normal and pstax.randn is pstax.normal

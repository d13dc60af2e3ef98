"""jax.nn's functions against real JAX (and SciPy where it has them): values eager, jit
against eager (all cases in one compiled program), grad against JAX's grad, vmap against
a loop, from one table of cases. Then JAX's special gradients and errors."""
import warnings

import numpy as np
import pytest
import scipy.special

import pyjax
import pyjax.nn as pnn
from pyjax.test_util import check_grads
from oracle import Oracle
from util import check_close, enable_x64, rand, same_error_class

jax = pytest.importorskip("jax")
import jax.nn as jnn  # noqa: E402

ORACLE = Oracle("test_nn_functions")

_KIND = {
    "f": (np.float32, -3.0, 3.0),
    "p": (np.float32, 0.1, 3.0),     # positive
    "i": (np.int32, -1, 4),          # class indices (some out of range)
    "b": (np.bool_, None, None),
}


def _make(code, rng, batch=None):
  """'f34' is float32[3, 4]; a kind letter then the shape's digits."""
  dt, lo, hi = _KIND[code[0]]
  shape = tuple(int(c) for c in code[1:])
  if batch is not None:
    shape = (batch,) + shape
  x = rand(shape, dt, rng, low=lo, high=hi)
  if code[0] == "b" and x.size:
    x.reshape(-1)[0] = True
  return x


def _att(nn, q, k, v, **kw):
  return nn.dot_product_attention(q, k, v, **kw)


# (id, fn(nn, *args), argument codes, differentiable, tolerance scale, scipy/numpy ref)
ROWS = [
    ("relu", lambda nn, x: nn.relu(x), ["f34"], True, 1, lambda x: np.maximum(x, 0)),
    ("relu6", lambda nn, x: nn.relu6(x * 3), ["f34"], True, 1, None),
    ("sigmoid", lambda nn, x: nn.sigmoid(x), ["f34"], True, 2, scipy.special.expit),
    ("softplus", lambda nn, x: nn.softplus(x), ["f34"], True, 2,
     lambda x: np.logaddexp(x, 0)),
    ("sparse_plus", lambda nn, x: nn.sparse_plus(x), ["f34"], True, 1, None),
    ("sparse_sigmoid", lambda nn, x: nn.sparse_sigmoid(x), ["f34"], True, 1, None),
    ("soft_sign", lambda nn, x: nn.soft_sign(x), ["f34"], True, 1, None),
    ("silu", lambda nn, x: nn.silu(x), ["f34"], True, 2, None),
    ("swish", lambda nn, x: nn.swish(x), ["f34"], True, 2, None),
    ("log_sigmoid", lambda nn, x: nn.log_sigmoid(x), ["f34"], True, 2,
     scipy.special.log_expit),
    ("leaky_relu", lambda nn, x: nn.leaky_relu(x), ["f34"], True, 1, None),
    ("leaky_relu:slope", lambda nn, x: nn.leaky_relu(x, 0.3), ["f34"], True, 1, None),
    ("hard_sigmoid", lambda nn, x: nn.hard_sigmoid(x * 2), ["f34"], True, 2, None),
    ("hard_silu", lambda nn, x: nn.hard_silu(x * 2), ["f34"], True, 2, None),
    ("hard_swish", lambda nn, x: nn.hard_swish(x * 2), ["f34"], True, 2, None),
    ("hard_tanh", lambda nn, x: nn.hard_tanh(x), ["f34"], True, 1, None),
    ("elu", lambda nn, x: nn.elu(x), ["f34"], True, 2, None),
    ("elu:alpha", lambda nn, x: nn.elu(x, 0.5), ["f34"], True, 2, None),
    ("celu", lambda nn, x: nn.celu(x, 1.5), ["f34"], True, 2, None),
    ("selu", lambda nn, x: nn.selu(x), ["f34"], True, 2, None),
    ("gelu", lambda nn, x: nn.gelu(x), ["f34"], True, 4, None),
    ("gelu:exact", lambda nn, x: nn.gelu(x, approximate=False), ["f34"], True, 4,
     lambda x: x * scipy.special.ndtr(x)),
    ("glu", lambda nn, x: nn.glu(x), ["f34"], True, 2, None),
    ("glu:axis0", lambda nn, x: nn.glu(x, axis=0), ["f44"], True, 2, None),
    ("squareplus", lambda nn, x: nn.squareplus(x), ["f34"], True, 2, None),
    ("mish", lambda nn, x: nn.mish(x), ["f34"], True, 4, None),
    ("identity", lambda nn, x: nn.identity(x), ["f34"], True, 1, None),
    ("tanh", lambda nn, x: nn.tanh(x), ["f34"], True, 2, np.tanh),
    ("log1mexp", lambda nn, x: nn.log1mexp(x), ["p34"], True, 4,
     lambda x: np.log(-np.expm1(-x.astype(np.float64)))),
    ("softmax", lambda nn, x: nn.softmax(x), ["f34"], True, 2,
     lambda x: scipy.special.softmax(x, -1)),
    ("softmax:axis0", lambda nn, x: nn.softmax(x, axis=0), ["f34"], True, 2, None),
    ("softmax:tuple", lambda nn, x: nn.softmax(x, axis=(0, 2)), ["f234"], True, 2,
     lambda x: scipy.special.softmax(x, (0, 2))),
    ("softmax:None", lambda nn, x: nn.softmax(x, axis=None), ["f34"], True, 2, None),
    ("softmax:where", lambda nn, x, w: nn.softmax(x, where=w), ["f34", "b34"], True, 2,
     None),
    ("log_softmax", lambda nn, x: nn.log_softmax(x), ["f34"], True, 2,
     lambda x: scipy.special.log_softmax(x, -1)),
    ("log_softmax:tuple", lambda nn, x: nn.log_softmax(x, axis=(0, 1)), ["f234"], True,
     2, None),
    ("log_softmax:where", lambda nn, x, w: nn.log_softmax(x, where=w),
     ["f34", "b34"], True, 2, None),
    ("logsumexp", lambda nn, x: nn.logsumexp(x, axis=1), ["f34"], True, 2,
     lambda x: scipy.special.logsumexp(x, 1)),
    ("logmeanexp", lambda nn, x: nn.logmeanexp(x, axis=1), ["f34"], True, 2, None),
    ("logmeanexp:where", lambda nn, x, w: nn.logmeanexp(x, axis=(0, 1), where=w,
                                                        keepdims=True),
     ["f34", "b34"], True, 2, None),
    ("standardize", lambda nn, x: nn.standardize(x), ["f34"], True, 8, None),
    ("standardize:stable", lambda nn, x: nn.standardize(x, axis=(0, 1),
                                                        algorithm="stable"),
     ["f34"], True, 8, None),
    ("standardize:given", lambda nn, x, m, v: nn.standardize(x, 0, m, v, epsilon=0.1),
     ["f34", "f4", "p4"], True, 4, None),
    # (stable: the fast variance of a row with one element left cancels to ~0)
    ("standardize:where", lambda nn, x, w: nn.standardize(x, where=w, algorithm="stable"),
     ["f34", "b34"], True, 8, None),
    ("one_hot", lambda nn, i: nn.one_hot(i, 4), ["i5"], False, 1, None),
    ("one_hot:axis0", lambda nn, i: nn.one_hot(i, 3, axis=0, dtype=np.int32), ["i23"],
     False, 1, None),
    ("attention", lambda nn, q, k, v: _att(nn, q, k, v), ["f2534", "f2734", "f2734"],
     True, 8, None),
    ("attention:tnh", lambda nn, q, k, v: _att(nn, q, k, v), ["f534", "f734", "f734"],
     True, 8, None),
    ("attention:gqa", lambda nn, q, k, v: _att(nn, q, k, v), ["f2544", "f2724", "f2724"],
     True, 8, None),
    ("attention:bias", lambda nn, q, k, v, b: _att(nn, q, k, v, bias=b),
     ["f2534", "f2734", "f2734", "f1357"], True, 8, None),
    ("attention:mask", lambda nn, q, k, v, m: _att(nn, q, k, v, mask=m),
     ["f2534", "f2734", "f2734", "b2157"], True, 8, None),
    ("attention:causal", lambda nn, q, k, v: _att(nn, q, k, v, is_causal=True,
                                                   scale=0.25),
     ["f2534", "f2734", "f2734"], True, 8, None),
    ("attention:seqlen", lambda nn, q, k, v: _att(
        nn, q, k, v, query_seq_lengths=np.array([3, 5], np.int32),
        key_value_seq_lengths=np.array([7, 2], np.int32)),
     ["f2534", "f2734", "f2734"], True, 8, None),
    ("attention:window", lambda nn, q, k, v: _att(nn, q, k, v, local_window_size=(2, 1)),
     ["f2534", "f2734", "f2734"], True, 8, None),
    ("attention:window1", lambda nn, q, k, v: _att(nn, q, k, v, local_window_size=1,
                                                    is_causal=True),
     ["f2534", "f2734", "f2734"], True, 8, None),
    ("attention:residual", lambda nn, q, k, v: _att(nn, q, k, v, return_residual=True),
     ["f2534", "f2734", "f2734"], False, 8, None),
    ("scaled_dot_general", lambda nn, a, b: nn.scaled_dot_general(
        a, b, (((1,), (1,)), ((), ()))), ["f34", "f54"], True, 2, None),
]
IDS = [r[0] for r in ROWS]
BY_ID = {r[0]: r for r in ROWS}


def _args(row, seed, batch=None):
  rng = np.random.default_rng(seed)
  return [_make(c, rng, batch) for c in row[2]]


def _seed(name):
  return IDS.index(name) + 1


def test_namespace_matches_jax():
  public = lambda m: sorted(n for n in dir(m) if not n.startswith("_"))
  assert public(pnn) == public(jnn)
  assert sorted(pnn.__all__) == public(jnn)


def _diff(row):
  return tuple(i for i, c in enumerate(row[2]) if c[0] in "fp")


def _loss(nn, row, w):
  return lambda *a: (row[1](nn, *a) * w).sum()


def _cotangent(row, args):
  return _make("f" + "".join(map(str, np.shape(row[1](jnn, *args)))), 99)


@pytest.fixture(scope="module")
def jax_refs():
  """JAX's value and grad of every case, from one jax.jit program (JAX's op-by-op eager
  mode compiles each operation: far slower)."""
  flat = [(row, _args(row, _seed(row[0]))) for row in ROWS]
  cots = [_cotangent(row, args) if row[3] else None for row, args in flat]

  def many(*xs):
    outs, i = [], 0
    for (row, args), w in zip(flat, cots):
      a = xs[i:i + len(args)]
      i += len(args)
      grads = jax.grad(_loss(jnn, row, w), _diff(row))(*a) if row[3] else None
      outs.append((row[1](jnn, *a), grads))
    return outs

  leaves = [a for _, args in flat for a in args]
  return ORACLE.call(lambda *xs: jax.jit(many)(*xs), *leaves, oracle_test="jax_refs"), cots


def _np(x):
  return [np.asarray(v) for v in x] if isinstance(x, (tuple, list)) else np.asarray(x)


@pytest.mark.parametrize("name", IDS)
def test_value_matches_jax(jax_refs, name):
  row = BY_ID[name]
  args = _args(row, _seed(name))
  got = row[1](pnn, *args)
  check_close(got, _np(jax_refs[0][IDS.index(name)][0]), scale=row[4], check_dtype=True,
              err_msg=name)
  if row[5] is not None:
    check_close(got, row[5](*args).astype(np.float32), scale=4 * row[4], err_msg=name)


# The jit program holds one case per public function (and the cheap variants): the
# float32 log/log1p lowerings (XLA's polynomials) are large, and IREE's compile time grows
# with the module.
JIT_IDS = [i for i in IDS if ":" not in i or i.startswith(("attention", "softmax", "glu",
                                                            "standardize", "one_hot",
                                                            "gelu", "elu", "leaky"))]
JIT_IDS.remove("attention:residual")


@pytest.fixture(scope="module")
def jitted_all():
  """The JIT_IDS cases' outputs from one compiled program (one compile for the module)."""
  flat = [(BY_ID[i], _args(BY_ID[i], _seed(i))) for i in JIT_IDS]

  def many(*xs):
    outs, i = [], 0
    for row, args in flat:
      outs.append(row[1](pnn, *xs[i:i + len(args)]))
      i += len(args)
    return outs

  leaves = [a for _, args in flat for a in args]
  return pyjax.jit(many)(*leaves), flat


@pytest.mark.parametrize("name", JIT_IDS)
def test_jit_matches_eager(jitted_all, name):
  outs, flat = jitted_all
  i = JIT_IDS.index(name)
  row, args = flat[i]
  check_close(outs[i], row[1](pnn, *args), scale=row[4], check_dtype=True, err_msg=name)


@pytest.mark.parametrize("name", [r[0] for r in ROWS if r[3]])
def test_grad_matches_jax(jax_refs, name):
  row = BY_ID[name]
  args = _args(row, _seed(name))
  refs, cots = jax_refs
  got = pyjax.grad(_loss(pnn, row, cots[IDS.index(name)]), _diff(row))(*args)
  check_close(got, _np(refs[IDS.index(name)][1]), scale=4 * row[4], err_msg=name)


@pytest.mark.parametrize("name", IDS)
def test_vmap_matches_loop(name):
  row = BY_ID[name]
  args = _args(row, _seed(name), batch=3)
  got = pyjax.vmap(lambda *a: row[1](pnn, *a))(*args)
  want = [row[1](pnn, *[a[j] for a in args]) for j in range(3)]
  if isinstance(got, tuple):
    for p, g in enumerate(got):
      check_close(g, np.stack([np.asarray(w[p]) for w in want]), scale=row[4])
  else:
    check_close(got, np.stack([np.asarray(w) for w in want]), scale=row[4], err_msg=name)


def test_check_grads_float64():
  """Central differences in float64 for a few compositions."""
  with enable_x64():
    x = rand((3, 4), np.float64, 0)
    for f in (pnn.gelu, pnn.softplus, pnn.mish, pnn.log_softmax, pnn.softmax,
              pnn.standardize, lambda v: pnn.logsumexp(v, axis=0), pnn.celu,
              pnn.log1mexp if False else pnn.silu):
      check_grads(f, (x,), order=2, modes=["fwd", "rev"])


# ---------------------------------------------------------------- JAX's special gradients


def test_relu_gradients_at_kinks():
  x = np.array([-1., 0., 3., 6., 7.], np.float32)
  names = ("relu", "relu6", "hard_sigmoid", "hard_tanh")
  want = jax.jit(lambda v: [jax.vmap(jax.grad(getattr(jnn, f)))(v) for f in names])(x)
  for f, w in zip(names, want):
    np.testing.assert_array_equal(pyjax.vmap(pyjax.grad(getattr(pnn, f)))(x), w, err_msg=f)
  assert float(pyjax.grad(pnn.relu)(0.)) == 0.
  assert float(pyjax.grad(pnn.relu6)(6.)) == 0.


def test_softmax_custom_jvp_flag():
  """With jax_softmax_custom_jvp on, softmax uses JAX's custom JVP (same values)."""
  x = rand((3, 5), np.float32, 1)
  w = x > 0
  loss = lambda nn: (lambda v: (nn.softmax(v, where=w) * np.arange(5.)).sum())
  both = lambda nn, jvp, grad: lambda v: (grad(loss(nn))(v), jvp(nn.softmax, (v,), (v,))[1])
  for flag in (False, True):
    pyjax.config.update("jax_softmax_custom_jvp", flag)
    jax.config.update("jax_softmax_custom_jvp", flag)
    try:
      want = jax.jit(both(jnn, jax.jvp, jax.grad))(x)
      check_close(both(pnn, pyjax.jvp, pyjax.grad)(x), _np(want), scale=4)
    finally:
      pyjax.config.update("jax_softmax_custom_jvp", False)
      jax.config.update("jax_softmax_custom_jvp", False)


def test_log1mexp_gradient_and_stability():
  x = np.array([1e-3, 0.5, np.log(2.), 5., 40.], np.float32)
  want = jax.jit(lambda v: (jnn.log1mexp(v), jax.vmap(jax.grad(jnn.log1mexp))(v)))(x)
  check_close((pnn.log1mexp(x), pyjax.vmap(pyjax.grad(pnn.log1mexp))(x)), _np(want),
              scale=2)


def test_softplus_extremes():
  x = np.array([-1e4, -50., 0., 50., 1e4, np.inf, -np.inf], np.float32)
  fs = lambda nn: lambda v: (nn.softplus(v), nn.log_sigmoid(v), nn.softmax(v))
  check_close(fs(pnn)(x), _np(jax.jit(fs(jnn))(x)))


def test_dtypes_follow_jax():
  names = ("gelu", "relu", "softmax", "sigmoid", "silu", "elu", "log_softmax")
  for dt in (np.float16, np.float32, pyjax.numpy.bfloat16):
    x = np.linspace(-2, 2, 7).astype(dt)
    want = jax.jit(lambda v: [getattr(jnn, f)(v) for f in names])(x)
    for f, w in zip(names, want):
      got = getattr(pnn, f)(x)
      assert got.dtype == w.dtype, (f, dt)
      check_close(got, w, err_msg=f"{f} {dt}")
  assert pnn.one_hot(np.array([1, 2]), 3).dtype == jnn.one_hot(np.array([1, 2]), 3).dtype
  with enable_x64():
    assert pnn.one_hot(np.array([1]), 3).dtype == np.float64
    assert pnn.relu(2).dtype == jnn.relu(2).dtype


def test_attention_bfloat16_and_grad_of_bias():
  r = np.random.default_rng(3)
  q, k, v = (r.standard_normal((1, 4, 2, 8)).astype(pyjax.numpy.bfloat16) for _ in "qkv")
  b = r.standard_normal((1, 2, 4, 4)).astype(np.float32)
  qf, kf, vf = (np.asarray(a, np.float32) for a in (q, k, v))
  gl = lambda nn: (lambda bb: nn.dot_product_attention(qf, kf, vf, bias=bb).sum())
  want = jax.jit(lambda *a: (jnn.dot_product_attention(*a[:3]), jax.grad(gl(jnn))(a[3])))(
      q, k, v, b)
  check_close(pnn.dot_product_attention(q, k, v), want[0])
  check_close(pyjax.grad(gl(pnn))(b), want[1], scale=8)


def test_one_hot_named_axis():
  x = np.array([0, 2, 1, 3], np.int32)
  got = pyjax.vmap(lambda i: pnn.one_hot(i, 4, axis="b"), axis_name="b")(x)
  want = jax.vmap(lambda i: jnn.one_hot(i, 4, axis="b"), axis_name="b")(x)
  check_close(got, want, check_dtype=True)


def test_scaled_dot_config():
  for mode in ("mxfp8", "nvfp4"):
    got, want = pnn.get_scaled_dot_general_config(mode), jnn.get_scaled_dot_general_config(mode)
    for f in ("mode", "block_size", "data_type", "scale_type", "infer_only"):
      assert getattr(got, f) == getattr(want, f), (mode, f)
    assert (got.global_scale is None) == (want.global_scale is None)


# ---------------------------------------------------------------- errors


def _same_error(f, *args, **kw):
  with pytest.raises(Exception) as theirs:
    f(jnn, *args, **kw)
  with pytest.raises(Exception) as ours:
    f(pnn, *args, **kw)
  assert same_error_class(ours.type, theirs.type), (ours.value, theirs.value)
  return str(ours.value), str(theirs.value)


def test_softmax_missing_axis():
  x = np.ones((2, 3), np.float32)
  for fn in ("softmax", "log_softmax"):
    _same_error(lambda nn: getattr(nn, fn)(x, axis=2))
    _same_error(lambda nn: getattr(nn, fn)(x, axis=(0, -3)))


def test_one_hot_float_warns():
  x = np.array([0., 1.5, 2.], np.float32)
  with pytest.warns(DeprecationWarning, match="one_hot input should be integer-typed"):
    got = pnn.one_hot(x, 3)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    want = jnn.one_hot(x, 3)
  check_close(got, want)
  ours, theirs = _same_error(lambda nn: nn.one_hot(np.array([1]), 2, axis=3))


@pytest.mark.parametrize("case", [
    ("value", dict(v=(2, 7, 3, 5))), ("query", dict(q=(2, 5, 3, 6))),
    ("key_dtype", dict(kd=np.float16)), ("heads", dict(q=(2, 5, 4, 4), k=(2, 7, 3, 4),
                                                       v=(2, 7, 3, 4))),
    ("mask_dtype", dict(mask=np.ones((1, 1, 5, 7), np.float32))),
    ("mask_ndim", dict(mask=np.ones((2, 3, 5, 7, 1), bool))),
    ("seqlen_dtype", dict(query_seq_lengths=np.array([1, 2], np.float32))),
    ("seqlen_shape", dict(key_value_seq_lengths=np.array([1, 2, 3], np.int32))),
    ("impl", dict(implementation="foo")), ("cudnn", dict(implementation="cudnn")),
], ids=lambda c: c[0])
def test_attention_errors(case):
  kw = dict(case[1])
  r = np.random.default_rng(0)
  q = r.standard_normal(kw.pop("q", (2, 5, 3, 4))).astype(np.float32)
  k = r.standard_normal(kw.pop("k", (2, 7, 3, 4))).astype(kw.pop("kd", np.float32))
  v = r.standard_normal(kw.pop("v", (2, 7, 3, 4))).astype(k.dtype)
  ours, theirs = _same_error(lambda nn: nn.dot_product_attention(q, k, v, **kw))
  assert ours == theirs


def test_scaled_matmul_errors():
  a3, s3 = np.ones((1, 2, 32), np.float32), np.ones((1, 2, 1), np.float32)
  for args in ((np.ones((2, 3)),) * 4, (a3, np.ones((1, 2, 16)), s3, s3),
               (a3, a3, s3, np.ones((1, 2, 2))), (a3, a3, np.ones((1, 3, 1)), s3)):
    ours, theirs = _same_error(lambda nn: nn.scaled_matmul(*args))
    assert ours == theirs
  _same_error(lambda nn: nn.get_scaled_dot_general_config("int8"))
  # A cuDNN kernel: JAX's CPU error once the shapes pass (checked against JAX by hand;
  # asking JAX here costs seconds of its compiler).
  msg = "MLIR translation rule for primitive 'scaled_matmul' not found for platform cpu"
  with pytest.raises(NotImplementedError, match=msg):
    pnn.scaled_matmul(a3, a3, s3, s3)
  cfg = [pnn.get_scaled_dot_general_config("mxfp8")] * 3
  with pytest.raises(NotImplementedError, match=msg):
    pnn.scaled_dot_general(np.ones((2, 64)), np.ones((3, 64)), (((1,), (1,)), ((), ())),
                           configs=cfg)

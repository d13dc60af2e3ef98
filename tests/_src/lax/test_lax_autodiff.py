"""check_grads (forward and reverse, to second order) for every differentiable lax
primitive, float32 and float64, with broadcasting and edge cases."""

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax import lax
from pyjax.test_util import check_grads
from lax_ops import BINARY as LAX_BINARY, UNARY as LAX_UNARY
from util import enable_x64

FLOATS = [np.float32, np.float64]
SHAPES = [(), (3,), (2, 3)]


def _check(f, args, dtype, order=2, modes=("fwd", "rev"), **kw):
  if np.dtype(dtype).itemsize == 8 or np.dtype(dtype) == np.complex128:
    with enable_x64(True):
      check_grads(f, [np.asarray(a, dtype) for a in args], order, modes, **kw)
  else:
    check_grads(f, [np.asarray(a, dtype) for a in args], order, modes, **kw)


def _u(rng, shape, lo, hi):
  return rng.uniform(lo, hi, size=shape)


# Differentiable unary ops beyond the shared table's: name -> (function, low, high).
UNARY_EXTRA = {
    "abs_neg": (lax.abs, -2, -0.3),
    "integer_pow3": (lambda x: lax.integer_pow(x, 3), -2, 2),
    "integer_pow_neg2": (lambda x: lax.integer_pow(x, -2), 0.5, 2),
    "reduce_precision": (lambda x: lax.reduce_precision(x, 8, 23), -2, 2),
    "convert_f64": (lambda x: lax.convert_element_type(x, np.float32), -2, 2),
}
UNARY = {**{n: (getattr(lax, n), *op.grad) for n, op in LAX_UNARY.items() if op.grad},
         **UNARY_EXTRA}


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_grads(name, shape, dtype, rng):
  f, lo, hi = UNARY[name]
  # float32 outputs: compare at float32 precision
  kw = dict(atol=2e-2, rtol=2e-2, eps=1e-3) if name in ("convert_f64", "reduce_precision") else {}
  _check(f, [_u(rng, shape, lo, hi)], dtype, **kw)


BINARY = {n: (getattr(lax, n), *op.grad) for n, op in LAX_BINARY.items() if op.grad}


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shapes", [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((), (2, 3)),
                                    ((2, 3), ())], ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_grads(name, shapes, dtype, rng):
  f, (lo1, hi1), (lo2, hi2) = BINARY[name]
  _check(f, [_u(rng, shapes[0], lo1, hi1), _u(rng, shapes[1], lo2, hi2)], dtype)


def test_max_min_tie_splits_gradient():
  g = pyjax.grad(lambda x: lax.max(x, 1.0))(1.0)
  assert float(g) == 0.5
  g = pyjax.grad(lambda x, y: lax.min(x, y), argnums=(0, 1))(2.0, 2.0)
  assert [float(v) for v in g] == [0.5, 0.5]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_special_binary_grads(dtype, rng):
  a, x = _u(rng, (4,), 0.5, 3), _u(rng, (4,), 0.5, 3)
  _check(lambda x: lax.igamma(np.asarray(a, x.dtype), x), [x], dtype)
  _check(lambda x: lax.igammac(np.asarray(a, x.dtype), x), [x], dtype)
  _check(lambda a: lax.igamma(a, np.asarray(x, a.dtype)), [a], dtype, order=1,
         atol=5e-3 if dtype == np.float64 else None, rtol=5e-3 if dtype == np.float64 else None)
  _check(lambda x: lax.polygamma(np.full(x.shape, 1.0, x.dtype), x), [x], dtype, order=1)
  _check(lambda q: lax.zeta(np.full(q.shape, 3.0, q.dtype), q), [x], dtype, order=1)


def test_special_grads_not_implemented():
  with pytest.raises(NotImplementedError, match="polygamma"):
    pyjax.grad(lambda m: lax.polygamma(m, 2.0))(1.0)


COMPLEX = {
    "real": lax.real, "imag": lax.imag, "conj": lax.conj, "abs": lax.abs,
    "exp": lax.exp, "sin": lax.sin, "log": lax.log, "sqrt": lax.sqrt, "tanh": lax.tanh,
    "mul_self": lambda z: lax.mul(z, z), "div": lambda z: lax.div(z, lax.add(z, 3.0 + 0j)),
}


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(COMPLEX))
def test_complex_grads(name, dtype, rng):
  z = _u(rng, (3,), 0.5, 2) + 1j * _u(rng, (3,), 0.5, 2)
  _check(COMPLEX[name], [z], dtype)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
def test_complex_from_parts(dtype, rng):
  _check(lambda x, y: lax.abs(lax.complex(x, y)), [_u(rng, (3,), 0.5, 2),
                                                    _u(rng, (3,), 0.5, 2)], dtype)


# Structural and reduction primitives: (function of one or two arrays, arg shapes).
STRUCTURAL = {
    "broadcast_in_dim": (lambda x: lax.broadcast_in_dim(x, (2, 3, 4), (1, 2)), [(3, 1)]),
    "broadcast_scalar": (lambda x: lax.broadcast_in_dim(x, (2, 3), ()), [()]),
    "reshape": (lambda x: lax.reshape(x, (3, 2)), [(2, 3)]),
    "reshape_dims": (lambda x: lax.reshape(x, (6,), (1, 0)), [(2, 3)]),
    "transpose": (lambda x: lax.transpose(x, (2, 0, 1)), [(2, 3, 4)]),
    "squeeze": (lambda x: lax.squeeze(x, (0, 2)), [(1, 3, 1)]),
    "expand_dims": (lambda x: lax.expand_dims(x, (0, 2)), [(2, 3)]),
    "rev": (lambda x: lax.rev(x, (0,)), [(3, 2)]),
    "concatenate": (lambda x, y: lax.concatenate([x, y, x], 1), [(2, 3), (2, 1)]),
    "pad": (lambda x, p: lax.pad(x, p, ((1, 2, 1), (0, -1, 0))), [(3, 2), ()]),
    "pad_negative": (lambda x: lax.pad(x, np.array(0, x.dtype), ((-1, 1, 0), (2, -2, 2))),
                     [(4, 3)]),
    "select_n": (lambda x, y: lax.select(x > 0, x, y), [(2, 3), (2, 3)]),
    "select_n_scalar_pred": (lambda x, y: lax.select_n(np.int32(1), x, y, x), [(3,), (3,)]),
    "clamp": (lambda lo, x: lax.clamp(lo - 0.45, x, np.asarray(0.5, x.dtype)), [(), (5,)]),
    "dot": (lambda x, y: lax.dot(x, y), [(2, 3), (3, 4)]),
    "dot_vec": (lambda x, y: lax.dot(x, y), [(3,), (3,)]),
    "dot_general_batch": (lambda x, y: lax.dot_general(x, y, (((2,), (1,)), ((0,), (0,)))),
                          [(2, 3, 4), (2, 4, 5)]),
    "dot_general_odd": (lambda x, y: lax.dot_general(x, y, (((0, 2), (2, 0)), ((1,), (1,)))),
                        [(2, 3, 4), (4, 3, 2)]),
    "reduce_sum": (lambda x: lax.reduce_sum(x, (0, 2)), [(2, 3, 4)]),
    "reduce_max": (lambda x: lax.reduce_max(x, (1,)), [(3, 4)]),
    "reduce_min": (lambda x: lax.reduce_min(x, (0, 1)), [(3, 4)]),
    "reduce_prod": (lambda x: lax.reduce_prod(x, (1,)), [(3, 4)]),
    "cumsum": (lambda x: lax.cumsum(x, 1), [(2, 5)]),
    "cumsum_rev": (lambda x: lax.cumsum(x, 0, reverse=True), [(4, 2)]),
    "cumprod": (lambda x: lax.cumprod(x, 0), [(5,)]),
    "cummax": (lambda x: lax.cummax(x, 1, reverse=True), [(2, 5)]),
    "cummin": (lambda x: lax.cummin(x, 0), [(5,)]),
    "cumlogsumexp": (lambda x: lax.cumlogsumexp(x, 0), [(5,)]),
    "sort": (lambda x: lax.sort(x, 1), [(2, 5)]),
    "sort_multi": (lambda x, y: lax.sort((x, y), 0, num_keys=1)[1], [(5,), (5,)]),
    "slice": (lambda x: lax.slice(x, (1, 0), (3, 4), (1, 2)), [(4, 4)]),
    "dynamic_slice": (lambda x: lax.dynamic_slice(x, (1, np.int32(2)), (2, 2)), [(4, 4)]),
    "dynamic_slice_clamped": (lambda x: lax.dynamic_slice(x, (3,), (2,)), [(4,)]),
    "dynamic_update_slice": (lambda x, u: lax.dynamic_update_slice(x, u, (1, 0)),
                             [(4, 3), (2, 3)]),
}


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(STRUCTURAL))
def test_structural_grads(name, dtype, rng):
  f, shapes = STRUCTURAL[name]
  args = [rng.permutation(np.prod(s, dtype=int)).reshape(s) / 3.0 - 1.0 + 0.05 * rng.random(s)
          for s in shapes]  # distinct values: no ties in max/sort
  _check(f, args, dtype)


def test_stop_gradient():
  x = np.array([1.0, -2.0, 3.0], np.float32)
  g = pyjax.grad(lambda x: jnp.sum(x * lax.stop_gradient(x)))(x)
  np.testing.assert_array_equal(np.asarray(g), x)
  out, t = pyjax.jvp(lax.stop_gradient, (x,), (np.ones(3, np.float32),))
  np.testing.assert_array_equal(np.asarray(t), np.zeros(3))
  tree = lax.stop_gradient({"a": jnp.ones(2), "i": jnp.arange(2)})
  assert tree["i"].dtype == np.int32
  assert "stop_gradient" in str(pyjax.make_jaxpr(lax.stop_gradient)(1.0))


def test_reduce_prod_with_zeros():
  with enable_x64(True):
    x = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0], [2.0, 3.0, 4.0]])
    check_grads(lambda x: lax.reduce_prod(x, (1,)), [x], 2)
    g = pyjax.grad(lambda x: lax.reduce_prod(x, (0,)))(np.array([2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(np.asarray(g), [0.0, 6.0, 0.0])


def test_empty_and_zero_d(rng):
  with enable_x64(True):
    check_grads(lambda x: lax.reduce_sum(lax.sin(x), (0,)), [np.zeros((0,))], 2)
    check_grads(lambda x: lax.exp(x) * 2.0, [np.zeros((0, 3))], 2)
    check_grads(lambda x: lax.mul(x, x), [np.array(1.5)], 2)
    g = pyjax.grad(lambda x: jnp.sum(x))(np.zeros((0, 2), np.float32))
    assert g.shape == (0, 2) and g.dtype == np.float32


# gather / scatter with repeated indices, through jax.numpy indexing.
IDX = np.array([0, 2, 2, 4], np.int32)
GATHER_SCATTER = {
    "gather_repeat": (lambda x: jnp.asarray(x)[IDX], [(5,)]),
    "gather_2d": (lambda x: jnp.asarray(x)[np.array([[0, 1], [1, 1]]), 1:], [(3, 4)]),
    "gather_fill": (lambda x: jnp.asarray(x).at[np.array([1, 7])].get(mode="fill", fill_value=2.0),
                    [(4,)]),
    "take_along_axis": (lambda x: jnp.take_along_axis(x, np.array([[2, 0], [1, 1]]), 1),
                        [(2, 3)]),
    "scatter_add_repeat": (lambda x, u: jnp.asarray(x).at[IDX].add(u), [(5,), (4,)]),
    "scatter_sub": (lambda x, u: jnp.asarray(x).at[IDX].subtract(u), [(5,), (4,)]),
    "scatter_set_repeat": (lambda x, u: jnp.asarray(x).at[IDX].set(u), [(5,), (4,)]),
    "scatter_set_unique": (lambda x, u: jnp.asarray(x).at[np.array([3, 1])].set(
        u, unique_indices=True), [(5,), (2,)]),
    "scatter_mul_unique": (lambda x, u: jnp.asarray(x).at[np.array([3, 1])].multiply(
        u, unique_indices=True), [(5,), (2,)]),
    "scatter_mul_operand": (lambda x: jnp.asarray(x).at[IDX].multiply(2.5), [(5,)]),
    "scatter_max_repeat": (lambda x, u: jnp.asarray(x).at[IDX].max(u), [(5,), (4,)]),
    "scatter_min_repeat": (lambda x, u: jnp.asarray(x).at[IDX].min(u), [(5,), (4,)]),
    "scatter_2d_window": (lambda x, u: jnp.asarray(x).at[np.array([0, 0, 2])].add(u),
                          [(3, 2), (3, 2)]),
}


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(GATHER_SCATTER))
def test_gather_scatter_grads(name, dtype, rng):
  f, shapes = GATHER_SCATTER[name]
  args = [rng.permutation(np.prod(s, dtype=int)).reshape(s) / 2.0 - 1.0 + 0.1 * rng.random(s)
          for s in shapes]
  _check(f, args, dtype)


def test_scatter_mul_repeated_updates_raises():
  x, u = jnp.ones(5), jnp.ones(4)
  with pytest.raises(NotImplementedError, match="unique_indices=True"):
    pyjax.grad(lambda u: jnp.sum(x.at[IDX].multiply(u)))(u)


def test_scatter_set_repeated_winner_gets_gradient():
  # The last update to a repeated index wins (as NumPy and XLA on CPU); only it
  # gets a gradient, and the overwritten operand entry gets none.
  x, u = jnp.zeros(3), jnp.array([1.0, 2.0, 3.0])
  idx = np.array([1, 1, 2])
  out = x.at[idx].set(u)
  g = pyjax.grad(lambda u: jnp.sum(x.at[idx].set(u) * jnp.array([1.0, 10.0, 100.0])))(u)
  winners = np.asarray(out)[idx] == np.asarray(u)
  np.testing.assert_array_equal(np.asarray(g), np.where(winners, [10.0, 10.0, 100.0], 0.0))
  gx = pyjax.grad(lambda x: jnp.sum(x.at[idx].set(u)))(x)
  np.testing.assert_array_equal(np.asarray(gx), [1.0, 0.0, 0.0])


ZERO_JVP = {
    "floor": lax.floor, "ceil": lax.ceil, "round": lax.round, "sign": lax.sign,
    "is_finite": lax.is_finite, "lt": lambda x: lax.lt(x, 0.5),
    "argmax": lambda x: lax.argmax(x, 0, np.int32),
    "convert_int": lambda x: lax.convert_element_type(x, np.int32),
    "bitcast": lambda x: lax.bitcast_convert_type(x, np.int32),
}


@pytest.mark.parametrize("name", sorted(ZERO_JVP))
def test_zero_derivative_primitives(name):
  x = np.array([0.3, 1.7, -2.2], np.float32)
  out, t = pyjax.jvp(ZERO_JVP[name], (x,), (np.ones(3, np.float32),))
  expected = np.asarray(ZERO_JVP[name](x))
  np.testing.assert_array_equal(np.asarray(out), expected)
  if expected.dtype.kind == "f":
    np.testing.assert_array_equal(np.asarray(t), np.zeros_like(expected))
  else:
    assert np.asarray(t).dtype == pyjax.dtypes.float0 and t.shape == expected.shape


def test_missing_rule_error_names_primitive():
  with pytest.raises(NotImplementedError, match="'nextafter'.*differentiation"):
    pyjax.grad(lambda x: lax.nextafter(x, 2.0))(1.0)


def test_against_jax_oracle(rng):
  jax = pytest.importorskip("jax")
  fns = [
      (lambda x: jnp.sum(jnp.tanh(x) * jnp.exp(-x ** 2)), lambda x: jax.numpy.sum(
          jax.numpy.tanh(x) * jax.numpy.exp(-x ** 2))),
      (lambda x: jnp.max(jnp.abs(x)), lambda x: jax.numpy.max(jax.numpy.abs(x))),
      (lambda x: jnp.sum(jnp.sort(x) * jnp.arange(5.0)),
       lambda x: jax.numpy.sum(jax.numpy.sort(x) * jax.numpy.arange(5.0))),
      (lambda x: jnp.var(x) + jnp.std(x), lambda x: jax.numpy.var(x) + jax.numpy.std(x)),
      (lambda x: jnp.sum(jnp.cumprod(x)), lambda x: jax.numpy.sum(jax.numpy.cumprod(x))),
      (lambda x: jnp.linalg.norm(x) if hasattr(jnp, "linalg") else jnp.sqrt(jnp.sum(x * x)),
       lambda x: jax.numpy.sqrt(jax.numpy.sum(x * x))),
  ]
  x = rng.standard_normal(5).astype(np.float32)
  for ours, theirs in fns:
    np.testing.assert_allclose(np.asarray(pyjax.grad(ours)(x)), np.asarray(jax.grad(theirs)(x)),
                               rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(np.asarray(pyjax.hessian(ours)(x)),
                               np.asarray(jax.hessian(theirs)(x)), rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("name", ["real_imag_sq", "imag", "real"])
def test_real_imag_cotangents_strong_as_jax(name):
  """real/imag transpose to ``complex(ct, <strong NumPy zero>)`` as JAX's: the gradient
  of a real function of a Python complex is strongly typed (the autodiff cookbook)."""
  jax = pytest.importorskip("jax")
  fns = {"real_imag_sq": lambda m: lambda z: m.real(z) ** 2 + m.imag(z) ** 2,
         "imag": lambda m: lambda z: m.imag(z) * 2, "real": lambda m: m.real}
  got = pyjax.grad(fns[name](jnp))(3. + 4j)
  want = jax.grad(fns[name](jax.numpy))(3. + 4j)
  assert repr(got) == repr(want)
  assert (str(pyjax.make_jaxpr(pyjax.grad(fns[name](jnp)))(3. + 4j))
          == str(jax.make_jaxpr(jax.grad(fns[name](jax.numpy)))(3. + 4j)))


@pytest.mark.parametrize("op,x", [("sqrt", 2.), ("tan", .7), ("asin", .3), ("acos", .3),
                                  ("atan", .7), ("asinh", .7), ("acosh", 2.),
                                  ("atanh", .3), ("logistic", .7), ("sin", 1.),
                                  ("cos", 1.), ("tanh", 2.)])
def test_second_derivatives_as_jax(op, x):
  """The JVP rules are JAX's formulas and the eager float32 kernels XLA's, so eager
  second derivatives print JAX's digits (the custom-derivatives tutorial's
  grad(grad(jnp.sqrt))(2.) is -0.08838835)."""
  jax = pytest.importorskip("jax")
  got = pyjax.grad(pyjax.grad(getattr(lax, op)))(x)
  want = jax.grad(jax.grad(getattr(jax.lax, op)))(x)
  assert repr(got) == repr(want)

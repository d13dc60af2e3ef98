"""Autodiff API: jvp, linearize, vjp, grad, value_and_grad, Jacobians, Hessians,
checkpoint; seed examples; JAX's errors."""
import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax import (checkpoint, grad, hessian, jacfwd, jacrev, jvp, linearize,
                   value_and_grad, vjp)
from pyjax.test_util import check_grads
from util import enable_x64


def seed_tanh(x):
  y = jnp.exp(-2.0 * x)
  return (1.0 - y) / (1.0 + y)


def sum_logistic(x):
  return jnp.sum(1.0 / (1.0 + jnp.exp(-x)))


# ---------------------------------------------------------------- seeds


def test_seed_grad_tanh_any_order():
  assert str(grad(seed_tanh)(1.0)) == "0.4199743"
  assert str(grad(grad(grad(seed_tanh)))(1.0)) == "0.6216267"
  assert str(grad(grad(grad(jnp.tanh)))(1.0)) == "0.62162673"  # (JAX 0.10.2: tanh's JVP)


def test_seed_sum_logistic():
  x_small = jnp.arange(3.)
  assert str(grad(sum_logistic)(x_small)) == "[0.25       0.19661197 0.10499357]"
  assert str(grad(grad(grad(sum_logistic)))(1.0)) == "-0.035325605"
  assert str(pyjax.jacobian(jnp.exp)(x_small)) == (
      "[[1.        0.        0.       ]\n [0.        2.7182817 0.       ]\n"
      " [0.        0.        7.389056 ]]")
  expected = ("[[-0.         -0.         -0.        ]\n [-0.         -0.09085776 -0.        ]\n"
              " [-0.         -0.         -0.07996249]]")
  assert str(jacfwd(jacrev(sum_logistic))(x_small)) == expected
  assert str(hessian(sum_logistic)(x_small)) == expected


def test_seed_python_control_flow():
  def abs_val(x):
    if x > 0:
      return x
    else:
      return -x
  assert str(grad(abs_val)(1.0)) == "1.0"
  assert str(grad(abs_val)(-1.0)) == "-1.0"


def test_seed_grad_of_sum_of_vector_function():
  def f(x):
    return jnp.sin(x) * x
  x = jnp.arange(4.0)
  g = grad(lambda x: jnp.sum(f(x)))(x)
  np.testing.assert_allclose(np.asarray(g), np.sin(np.arange(4.0)) +
                             np.arange(4.0) * np.cos(np.arange(4.0)), rtol=1e-6)


def test_finite_differences_agree():
  x = jnp.arange(3.)
  eps = 1e-3
  fd = jnp.array([(sum_logistic(x + eps * v) - sum_logistic(x - eps * v)) / (2 * eps)
                  for v in jnp.eye(len(x))])
  np.testing.assert_allclose(np.asarray(grad(sum_logistic)(x)), np.asarray(fd), atol=1e-3)


# ---------------------------------------------------------------- jvp / linearize / vjp


def test_jvp_linearize_vjp_agree(rng):
  def f(x, y):
    return {"a": jnp.sin(x) * y, "b": jnp.sum(x * x) + y[0]}
  x, y = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
  tx, ty = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
  out, tout = jvp(f, (x, y), (tx, ty))
  out2, f_jvp = linearize(f, x, y)
  tout2 = f_jvp(tx, ty)
  for k in ("a", "b"):
    np.testing.assert_allclose(np.asarray(out[k]), np.asarray(out2[k]), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(tout[k]), np.asarray(tout2[k]), rtol=1e-5)
  _, pullback = vjp(f, x, y)
  ct = {"a": rng.standard_normal(3).astype(np.float32), "b": np.float32(0.7)}
  cx, cy = pullback(ct)
  lhs = np.vdot(ct["a"], tout["a"]) + ct["b"] * np.asarray(tout["b"])
  rhs = np.vdot(np.asarray(cx), tx) + np.vdot(np.asarray(cy), ty)
  np.testing.assert_allclose(lhs, rhs, rtol=1e-4)


def test_has_aux():
  f = lambda x: (jnp.sin(x), {"aux": x * 2})
  out, t, aux = jvp(f, (1.0,), (1.0,), has_aux=True)
  assert float(aux["aux"]) == 2.0 and abs(float(t) - np.cos(1.0)) < 1e-6
  out, pullback, aux = vjp(f, 1.0, has_aux=True)
  assert float(aux["aux"]) == 2.0
  g, aux = grad(lambda x: (jnp.sin(x), x + 1), has_aux=True)(0.5)
  assert abs(float(g) - np.cos(0.5)) < 1e-6 and float(aux) == 1.5
  assert not isinstance(aux, pyjax._src.core.Tracer)
  (v, aux), g = value_and_grad(lambda x: (x * x, 3), has_aux=True)(2.0)
  assert float(v) == 4.0 and float(g) == 4.0 and aux == 3


def test_argnums_and_value_and_grad():
  f = lambda x, y, z: x * y ** 2 + z
  gx, gz = grad(f, argnums=(0, 2))(2.0, 3.0, 4.0)
  assert float(gx) == 9.0 and float(gz) == 1.0
  assert float(grad(f, argnums=-2)(2.0, 3.0, 4.0)) == 12.0
  v, g = value_and_grad(f, argnums=1)(2.0, 3.0, 4.0)
  assert float(v) == 22.0 and float(g) == 12.0
  assert float(grad(lambda x, *, k: x * k)(2.0, k=3.0)) == 3.0


def test_pytree_inputs_and_outputs():
  params = {"w": jnp.ones((2, 3)), "b": [jnp.zeros(3), 1.0]}
  loss = lambda p: jnp.sum(jnp.ones(2) @ p["w"] + p["b"][0]) * p["b"][1]
  g = grad(loss)(params)
  np.testing.assert_array_equal(np.asarray(g["w"]), np.ones((2, 3)))
  np.testing.assert_array_equal(np.asarray(g["b"][0]), np.ones(3))
  assert float(g["b"][1]) == 6.0


def test_closures_loops_recursion():
  def power(x, n):
    return 1.0 if n == 0 else x * power(x, n - 1)
  assert float(grad(lambda x: power(x, 5))(2.0)) == 80.0

  def loop(x):
    acc = x
    for i in range(3):
      acc = jnp.sin(acc) + i
    return acc
  check_grads(loop, (np.float64(0.3),), 2)
  c = jnp.array(3.0)
  assert float(grad(lambda x: c * x * x)(2.0)) == 12.0


def test_int_inputs_float0():
  g = grad(lambda x, i: x * i, argnums=(0, 1), allow_int=True)(2.0, 3)
  assert float(g[0]) == 3.0
  assert np.asarray(g[1]).dtype == pyjax.dtypes.float0
  out, t = jvp(lambda x: x * 2, (3,), (np.zeros((), pyjax.dtypes.float0),))
  assert int(out) == 6 and np.asarray(t).dtype == pyjax.dtypes.float0
  _, pullback = vjp(lambda x, i: x * i, 2.0, 3)
  cx, ci = pullback(1.0)
  assert float(cx) == 3.0 and np.asarray(ci).dtype == pyjax.dtypes.float0


def test_higher_order_equivalences(rng):
  def f(x):
    return jnp.sum(jnp.tanh(x) * jnp.roll(x, 1) ** 2) + jnp.prod(jnp.cos(x))
  x = rng.standard_normal(4).astype(np.float32)
  h1 = np.asarray(jacfwd(jacrev(f))(x))
  h2 = np.asarray(jacrev(jacfwd(f))(x))
  h3 = np.asarray(hessian(f)(x))
  h4 = np.asarray(jacfwd(jacfwd(f))(x))
  np.testing.assert_allclose(h1, h2, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(h1, h3, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(h1, h4, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(h1, h1.T, rtol=1e-4, atol=1e-5)


def test_jacobian_shapes_and_argnums(rng):
  f = lambda x, y: jnp.outer(x, y)
  x, y = jnp.ones(2), jnp.arange(3.0)
  jx, jy = jacrev(f, argnums=(0, 1))(x, y)
  assert jx.shape == (2, 3, 2) and jy.shape == (2, 3, 3)
  fx, fy = jacfwd(f, argnums=(0, 1))(x, y)
  np.testing.assert_allclose(np.asarray(jx), np.asarray(fx))
  np.testing.assert_allclose(np.asarray(jy), np.asarray(fy))
  j, aux = jacrev(lambda x: (x * 2, x.sum()), has_aux=True)(x)
  assert j.shape == (2, 2) and float(aux) == 2.0


def test_complex_conventions():
  jax = pytest.importorskip("jax")
  z = np.array(1.0 + 2.0j, np.complex64)
  for f, jf in [(lambda z: jnp.abs(z) ** 2, lambda z: jax.numpy.abs(z) ** 2),
                (lambda z: jnp.real(z * jnp.conj(z) + jnp.sin(z)),
                 lambda z: jax.numpy.real(z * jax.numpy.conj(z) + jax.numpy.sin(z)))]:
    np.testing.assert_allclose(complex(grad(f)(z)), complex(jax.grad(jf)(z)), rtol=1e-6)
  g = grad(lambda z: jnp.sin(z) * z, holomorphic=True)(z)
  jg = jax.grad(lambda z: jax.numpy.sin(z) * z, holomorphic=True)(z)
  np.testing.assert_allclose(complex(g), complex(jg), rtol=1e-6)
  jac = jacfwd(lambda z: z ** 2, holomorphic=True)(jnp.array([1 + 1j, 2.0], np.complex64))
  np.testing.assert_allclose(np.asarray(jac), np.diag([2 + 2j, 4.0]), rtol=1e-6)
  jac = jacrev(lambda z: z ** 2, holomorphic=True)(jnp.array([1 + 1j, 2.0], np.complex64))
  np.testing.assert_allclose(np.asarray(jac), np.diag([2 + 2j, 4.0]), rtol=1e-6)


# ---------------------------------------------------------------- errors (JAX's wording)


def test_grad_errors():
  with pytest.raises(TypeError, match=r"Gradient only defined for scalar-output functions. "
                                      r"Output had shape: \(3,\)."):
    grad(lambda x: x)(jnp.ones(3))
  with pytest.raises(TypeError, match="grad requires real- or complex-valued inputs .* but "
                                      "got int32. If you want to use Boolean- or integer"):
    grad(lambda x: x * 1.0)(1)
  with pytest.raises(TypeError, match="grad requires real-valued outputs .* but got "
                                      "complex64. For holomorphic differentiation"):
    grad(lambda x: x)(1j)
  with pytest.raises(TypeError, match="holomorphic=True requires inputs with complex dtype, "
                                      "but got float32"):
    grad(lambda x: x, holomorphic=True)(1.0)
  with pytest.raises(TypeError, match=r"argnums=3 requires at least 4 positional arguments "
                                      r"to be passed by the caller, but got only 1"):
    grad(lambda x, y: x, argnums=3)(1.0)
  with pytest.raises(TypeError, match="Gradient only defined for scalar-output functions. "
                                      "Output was"):
    grad(lambda x: [x])(1.0)
  with pytest.raises(TypeError, match="expected a callable"):
    grad(3)


def test_jvp_errors():
  with pytest.raises(TypeError, match="must be tuples or lists; found float and float"):
    jvp(lambda x: x, 1.0, 1.0)
  with pytest.raises(TypeError, match="must have the same tree structure"):
    jvp(lambda x: x, (1.0,), ([1.0],))
  with pytest.raises(ValueError, match=r"different primal and tangent shapes;Got primal "
                                       r"shape \(3,\) and tangent shape as \(2,\)"):
    jvp(lambda x: x, (jnp.ones(3),), (jnp.ones(2),))
  with pytest.raises(TypeError, match="expected tangent dtype float32, but got tangent "
                                      "dtype int32"):
    jvp(lambda x: x, (jnp.ones(2),), (jnp.ones(2, np.int32),))


def test_vjp_errors():
  _, pullback = vjp(lambda x: x * 2, jnp.ones(2))
  with pytest.raises(ValueError, match=r"got float32\[3\], but expected float32\[2\]"):
    pullback(jnp.ones(3))
  with pytest.raises(ValueError, match="unexpected tree structure"):
    pullback((jnp.ones(2),))
  with pytest.raises(ValueError, match=r"got int32\[2\], but expected float32\[2\]"):
    pullback(jnp.ones(2, np.int32))


def test_tracer_leak_raises():
  leaked = []

  def f(x):
    leaked.append(x)
    return x * 2
  grad(f)(1.0)
  with pytest.raises(pyjax.errors.UnexpectedTracerError):
    jnp.sin(leaked[0]) + 1


def test_value_dependent_control_flow_under_grad_uses_concrete_values():
  def f(x):
    return x ** 2 if x.sum() > 0 else -x
  assert float(grad(lambda x: jnp.sum(f(x)))(jnp.ones(2))[0]) == 2.0


def test_tracer_reprs():
  seen = []
  grad(lambda x: (seen.append(repr(x)), x * 1.0)[1])(1.0)
  assert seen[0] == "GradTracer(primal=1.0, typeof(tangent)=f32[])"
  jvp(lambda x: (seen.append(repr(x)), x)[1], (1.0,), (2.0,))
  assert seen[1] == "JVPTracer(primal=1.0, tangent=2.0)"


def test_grad_jaxpr_matches_jax_structure():
  text = str(pyjax.make_jaxpr(grad(lambda x: jnp.sin(x) * x))(1.0))
  assert "cos a" in text and "add_any" in text


def test_checkpoint_recomputes_and_matches():
  f = lambda x: jnp.sin(jnp.sin(x)) * x
  fc = checkpoint(f)
  assert float(grad(fc)(1.3)) == pytest.approx(float(grad(f)(1.3)), rel=1e-6)
  assert float(grad(grad(fc))(1.3)) == pytest.approx(float(grad(grad(f))(1.3)), rel=1e-5)
  # the backward pass recomputes sin(x): two sin of the input in the grad jaxpr
  text = str(pyjax.make_jaxpr(grad(fc))(1.3))
  assert text.count("sin a") == 2
  text_saved = str(pyjax.make_jaxpr(grad(checkpoint(
      f, policy=pyjax.checkpoint_policies.everything_saveable)))(1.3))
  assert text_saved.count("sin a") == 1
  with enable_x64(True):
    check_grads(checkpoint(lambda x, y: jnp.tanh(x * y)), (np.float64(0.4), np.float64(1.1)), 2)


def test_checkpoint_static_argnums_and_pytrees():
  @pyjax.remat
  def g(p, x):
    return jnp.sum(p["w"] * x) + p["b"]
  gp = grad(g)({"w": jnp.ones(3), "b": 1.0}, jnp.arange(3.0))
  np.testing.assert_array_equal(np.asarray(gp["w"]), [0.0, 1.0, 2.0])
  h = checkpoint(lambda x, n: x ** n, static_argnums=(1,))
  assert float(grad(h)(2.0, 3)) == 12.0


def test_linear_transpose():
  f = lambda x: jnp.array([x[0] + x[1], 2 * x[1]])
  ft = pyjax.linear_transpose(f, jnp.zeros(2))
  ct, = ft(jnp.array([1.0, 1.0]))
  np.testing.assert_array_equal(np.asarray(ct), [1.0, 3.0])


def test_mlp_grad_against_jax(rng):
  jax = pytest.importorskip("jax")
  sizes = [16, 32, 32, 4]
  params = [(rng.standard_normal((m, n)).astype(np.float32) * 0.3,
             rng.standard_normal(n).astype(np.float32) * 0.1)
            for m, n in zip(sizes[:-1], sizes[1:])]
  x = rng.standard_normal((8, 16)).astype(np.float32)
  y = rng.standard_normal((8, 4)).astype(np.float32)

  def make_loss(np_):
    def loss(params):
      h = x
      for w, b in params[:-1]:
        h = np_.tanh(h @ w + b)
      w, b = params[-1]
      return np_.mean((h @ w + b - y) ** 2)
    return loss
  ours = grad(make_loss(jnp))(params)
  theirs = jax.grad(make_loss(jax.numpy))(params)
  for (a, b), (c, d) in zip(ours, theirs):
    np.testing.assert_allclose(np.asarray(a), np.asarray(c), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(b), np.asarray(d), rtol=1e-4, atol=1e-6)

"""custom_jvp, custom_vjp and closure_convert: the rules are used under every
transformation and composition (vmap, jit, grad, Jacobians), as JAX uses them."""
from functools import partial

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax import custom_jvp, custom_vjp, grad, jvp, tree_util
from util import check_close


def test_custom_jvp():
  @custom_jvp
  def f(x, y):
    return jnp.sin(x) * y

  @f.defjvp
  def f_jvp(primals, tangents):
    x, y = primals
    xd, yd = tangents
    return f(x, y), jnp.cos(x) * xd * y + jnp.sin(x) * yd
  assert abs(float(grad(f)(2.0, 3.0)) - 3 * np.cos(2.0)) < 1e-5
  out, t = jvp(f, (2.0, 3.0), (1.0, 0.0))
  assert abs(float(t) - 3 * np.cos(2.0)) < 1e-5
  assert abs(float(grad(grad(f))(2.0, 3.0)) + 3 * np.sin(2.0)) < 1e-5


def test_custom_jvp_rule_is_used_not_the_body():
  @custom_jvp
  def safe_log1pexp(x):
    return jnp.log(1.0 + jnp.exp(x))
  safe_log1pexp.defjvps(lambda t, ans, x: t * (1.0 - 1.0 / (1.0 + jnp.exp(x))))
  assert float(grad(safe_log1pexp)(100.0)) == 1.0  # the body's derivative is nan
  assert float(safe_log1pexp(1.0)) == pytest.approx(np.log1p(np.e), rel=1e-6)


def test_custom_jvp_nondiff_argnums():
  @partial(custom_jvp, nondiff_argnums=(0,))
  def app(f, x):
    return f(x)

  @app.defjvp
  def app_jvp(f, primals, tangents):
    x, = primals
    t, = tangents
    return app(f, x), 3.0 * t
  assert float(grad(lambda x: app(jnp.sin, x))(1.0)) == 3.0


def test_custom_jvp_errors():
  @custom_jvp
  def f(x):
    return x

  with pytest.raises(AttributeError, match="No JVP defined"):
    grad(f)(1.0)
  f.defjvp(lambda p, t: (p[0], (t[0], t[0])))
  with pytest.raises(TypeError, match="equal container"):
    grad(f)(1.0)


def test_custom_vjp():
  @custom_vjp
  def f(x, y):
    return jnp.sin(x) * y

  def f_fwd(x, y):
    return f(x, y), (jnp.cos(x), jnp.sin(x), y)

  def f_bwd(res, g):
    cos_x, sin_x, y = res
    return (cos_x * g * y, sin_x * g)
  f.defvjp(f_fwd, f_bwd)
  gx, gy = grad(f, argnums=(0, 1))(2.0, 3.0)
  assert abs(float(gx) - 3 * np.cos(2.0)) < 1e-5 and abs(float(gy) - np.sin(2.0)) < 1e-6
  assert float(f(2.0, 3.0)) == pytest.approx(3 * np.sin(2.0), rel=1e-6)
  with pytest.raises(TypeError, match="can't apply forward-mode autodiff"):
    jvp(f, (2.0, 3.0), (1.0, 1.0))


def test_custom_vjp_clip_gradient_none_cotangents():
  @custom_vjp
  def clip_gradient(lo, hi, x):
    return x

  def fwd(lo, hi, x):
    return x, (lo, hi)

  def bwd(res, g):
    lo, hi = res
    return (None, None, jnp.clip(g, lo, hi))
  clip_gradient.defvjp(fwd, bwd)
  g = grad(lambda x: clip_gradient(-0.75, 0.75, jnp.sin(x)) * 3)(0.1)
  assert float(g) == pytest.approx(0.75 * np.cos(0.1), rel=1e-6)


def test_custom_vjp_nondiff_and_errors():
  @partial(custom_vjp, nondiff_argnums=(0,))
  def scale(k, x):
    return k * x
  scale.defvjp(lambda k, x: (k * x, None), lambda k, res, g: (k * g * 10,))
  assert float(grad(lambda x: scale(2.0, x))(1.0)) == 20.0

  @custom_vjp
  def bad(x):
    return x
  bad.defvjp(lambda x: (x, None), lambda res, g: (g, g))
  with pytest.raises(TypeError, match="tuple of length equal to the number of primal"):
    grad(bad)(1.0)


def test_closure_convert():
  def outer(y):
    f = lambda x: x * y
    conv, consts = pyjax.closure_convert(f, 1.0)
    return conv(2.0, *consts)
  assert float(outer(3.0)) == 6.0
  assert float(grad(outer)(3.0)) == 2.0



def test_custom_rules_survive_jit():
  @custom_jvp
  def softplus(x):
    return jnp.log(1.0 + jnp.exp(x))
  softplus.defjvps(lambda t, ans, x: t * (1.0 - 1.0 / (1.0 + jnp.exp(x))))
  text = str(pyjax.make_jaxpr(softplus)(1.0))
  assert "custom_jvp_call[" in text and "name=softplus" in text
  assert float(grad(pyjax.jit(softplus))(100.0)) == 1.0  # body's derivative is nan
  assert float(pyjax.jit(grad(softplus))(100.0)) == 1.0
  np.testing.assert_allclose(np.asarray(pyjax.vmap(pyjax.jit(softplus))(jnp.arange(3.0))),
                             np.log1p(np.exp(np.arange(3.0))), rtol=1e-6)

  @custom_vjp
  def clip_gradient(lo, hi, x):
    return x
  clip_gradient.defvjp(lambda lo, hi, x: (x, (lo, hi)),
                       lambda res, g: (None, None, jnp.clip(g, *res)))
  f = lambda x: clip_gradient(-0.75, 0.75, jnp.sin(x)) * 3
  assert float(grad(pyjax.jit(f))(0.1)) == pytest.approx(0.75 * np.cos(0.1), rel=1e-6)
  assert "custom_vjp_call[" in str(pyjax.make_jaxpr(f)(0.1))
  with pytest.raises(TypeError, match="can't apply forward-mode autodiff"):
    jvp(pyjax.jit(f), (0.1,), (1.0,))


# ---------------------------------------------------------------- rules under vmap
#
# Every composition of vmap with grad/jit/jacobians must use the custom rules. Each
# case runs on pyjax and on JAX (the oracle) with the same inputs.


def _defs(J):
  """Custom functions written with the API ``J`` (pyjax or jax)."""
  jnp = J.numpy

  @J.custom_vjp
  def clip(x):
    return x
  clip.defvjp(lambda x: (x, None), lambda _, g: (jnp.clip(g, -0.1, 0.1),))

  @J.custom_jvp
  def sin2(x):  # the rule is not the body's derivative
    return jnp.sin(x)
  sin2.defjvp(lambda p, t: (sin2(p[0]), 2.0 * jnp.cos(p[0]) * t[0]))

  @J.custom_vjp
  def mul(x, y):
    return x * y
  mul.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: (3.0 * g * r[1], 5.0 * g * r[0]))

  @J.custom_jvp
  def mulj(x, y):
    return x * y
  mulj.defjvp(lambda p, t: (p[0] * p[1], 3.0 * t[0] * p[1] + 5.0 * t[1] * p[0]))

  @J.custom_jvp
  def add_y(x, y):  # the output tangent ignores x: unbatched where the primal is not
    return x + y
  add_y.defjvp(lambda p, t: (p[0] + p[1], 4.0 * t[1]))

  @J.custom_vjp
  def colsum(x):  # a reduction: batch dims move through fwd and bwd
    return x.sum(0)
  colsum.defvjp(lambda x: (x.sum(0), x.shape[0]),
                lambda n, g: (jnp.broadcast_to(7.0 * g, (n,) + g.shape),))

  @partial(J.custom_vjp, nondiff_argnums=(0,))
  def scaled(k, x):
    return k * x
  scaled.defvjp(lambda k, x: (k * x, None), lambda k, _, g: (10.0 * k * g,))

  @partial(J.custom_jvp, nondiff_argnums=(0,))
  def app(f, x):
    return f(x)
  app.defjvp(lambda f, p, t: (app(f, p[0]), 3.0 * f(p[0]) * t[0]))

  @J.custom_vjp
  def tree_fn(d):  # pytrees in and out
    return d["a"] * d["b"], d["a"] + d["b"]
  tree_fn.defvjp(lambda d: (tree_fn(d), d),
                 lambda d, g: ({"a": 2.0 * g[0] * d["b"] + g[1],
                                "b": 3.0 * g[0] * d["a"] - g[1]},))

  def is_zero(t):
    return type(t).__name__ in ("SymbolicZero", "Zero")

  @J.custom_jvp
  def symz(x, y):
    return x * y

  def symz_jvp(p, t):
    tx = 0.0 if is_zero(t[0]) else 7.0 * t[0] * p[1]
    ty = 0.0 if is_zero(t[1]) else 11.0 * t[1] * p[0]
    return p[0] * p[1], tx + ty + 0.0 * p[0]
  symz.defjvp(symz_jvp, symbolic_zeros=True)

  @J.custom_vjp
  def apply_conv(x, *consts):  # the closure_convert pattern of JAX's docs
    return conv_fn[0](x, *consts)

  def apply_fwd(x, *consts):
    return conv_fn[0](x, *consts), (x, consts)

  def apply_bwd(res, g):
    x, consts = res
    _, vjp_fn = J.vjp(conv_fn[0], x, *consts)
    gs = vjp_fn(g)
    return (0.5 * gs[0],) + tuple(2.0 * c for c in gs[1:])
  apply_conv.defvjp(apply_fwd, apply_bwd)
  conv_fn = [None]

  def with_closure(x, w):
    conv, consts = J.closure_convert(lambda v: jnp.sin(v) * w, x)
    conv_fn[0] = conv
    return apply_conv(x, *consts)

  @J.custom_jvp
  def inner_vmap(x):  # vmap inside the body and inside the rule
    return J.vmap(jnp.sin)(x)
  inner_vmap.defjvp(lambda p, t: (inner_vmap(p[0]),
                                  J.vmap(lambda a, b: 6.0 * a * b)(jnp.cos(p[0]), t[0])))

  @J.custom_vjp
  def inner_vmap_v(x):
    return J.vmap(jnp.sin)(x)
  inner_vmap_v.defvjp(lambda x: (inner_vmap_v(x), jnp.cos(x)),
                      lambda c, g: (J.vmap(lambda a, b: 9.0 * a * b)(c, g),))

  @J.custom_jvp
  def normed(x):  # a collective over the vmap's named axis, in the body and the rule
    return x / J.lax.psum(x, "i")
  normed.defjvp(lambda p, t: (normed(p[0]), 2.0 * t[0] * J.lax.psum(p[0], "i")))

  return dict(normed=normed, clip=clip, sin2=sin2, mul=mul, mulj=mulj, add_y=add_y,
              colsum=colsum, scaled=scaled, app=app, tree_fn=tree_fn, symz=symz,
              with_closure=with_closure, inner_vmap=inner_vmap, inner_vmap_v=inner_vmap_v)


def _cases():
  """name -> case(J, d, x, m): x a (3,) vector, m a (3, 4) matrix."""
  sm = lambda J, f: (lambda *a: J.numpy.sum(f(*a)))
  return {
      "grad(vmap(vjp))": lambda J, d, x, m: J.grad(sm(J, J.vmap(d["clip"])))(5.0 * x),
      "grad(vmap(jvp))": lambda J, d, x, m: J.grad(sm(J, J.vmap(d["sin2"])))(x),
      "vmap(grad(vjp))": lambda J, d, x, m: J.vmap(J.grad(lambda a: 5.0 * d["clip"](a)))(x),
      "vmap(grad(jvp))": lambda J, d, x, m: J.vmap(J.grad(d["sin2"]))(x),
      "vmap(grad(grad(jvp)))": lambda J, d, x, m: J.vmap(J.grad(J.grad(d["sin2"])))(x),
      "grad(jit(vmap(vjp)))": lambda J, d, x, m: J.grad(
          sm(J, J.jit(J.vmap(d["clip"]))))(5.0 * x),
      "grad(jit(vmap(jvp)))": lambda J, d, x, m: J.grad(sm(J, J.jit(J.vmap(d["sin2"]))))(x),
      "jit(grad(vmap))": lambda J, d, x, m: J.jit(J.grad(
          lambda a: sm(J, J.vmap(d["clip"]))(a) + sm(J, J.vmap(d["sin2"]))(a)))(x),
      "grad(vmap(jit(vjp)))": lambda J, d, x, m: J.grad(
          sm(J, J.vmap(J.jit(d["clip"]))))(5.0 * x),
      "grad(vmap(jit(jvp)))": lambda J, d, x, m: J.grad(sm(J, J.vmap(J.jit(d["sin2"]))))(x),
      "jacrev(vmap(vjp))": lambda J, d, x, m: J.jacrev(J.vmap(d["clip"]))(x),
      "jacrev(vmap(jvp))": lambda J, d, x, m: J.jacrev(J.vmap(d["sin2"]))(x),
      "jacfwd(vmap(jvp))": lambda J, d, x, m: J.jacfwd(J.vmap(d["sin2"]))(x),
      "jvp(vmap(jvp))": lambda J, d, x, m: J.jvp(J.vmap(d["sin2"]), (x,), (x + 1.0,)),
      "grad(vmap(vmap(vjp)))": lambda J, d, x, m: J.grad(
          sm(J, J.vmap(J.vmap(d["mul"]), in_axes=(1, None))))(m, x),
      "unmapped input vjp": lambda J, d, x, m: J.grad(
          sm(J, J.vmap(d["mul"], in_axes=(0, None))), argnums=(0, 1))(x, 2.0),
      "unmapped input jvp": lambda J, d, x, m: J.grad(
          sm(J, J.vmap(d["mulj"], in_axes=(0, None))), argnums=(0, 1))(x, 2.0),
      "tangent unbatched": lambda J, d, x, m: J.grad(
          sm(J, J.vmap(d["add_y"], in_axes=(0, None))), argnums=(0, 1))(x, 2.0),
      "tangent unbatched, jit": lambda J, d, x, m: J.grad(
          sm(J, J.jit(J.vmap(d["add_y"], in_axes=(0, None)))), argnums=(0, 1))(x, 2.0),
      "named axis": lambda J, d, x, m: J.grad(
          lambda a: J.numpy.sum(J.vmap(d["normed"], axis_name="i")(a) * a))(x),
      "in_axes=2 out_axes=1": lambda J, d, x, m: J.grad(lambda a: J.numpy.sum(
          J.vmap(d["colsum"], in_axes=2, out_axes=1)(a)
          * J.numpy.arange(8.0).reshape(2, 4)))(J.numpy.stack([m, 2 * m]).reshape(3, 2, 4)),
      "vmap(grad(colsum))": lambda J, d, x, m: J.vmap(
          J.grad(lambda a: J.numpy.sum(d["colsum"](a) ** 2)), in_axes=1)(m),
      "nondiff vjp": lambda J, d, x, m: J.grad(
          sm(J, J.vmap(lambda a: d["scaled"](2.0, a))))(x),
      "nondiff jvp": lambda J, d, x, m: J.grad(
          sm(J, J.vmap(lambda a: d["app"](J.numpy.sin, a))))(x),
      "pytrees": lambda J, d, x, m: J.grad(lambda a, b: J.numpy.sum(
          J.vmap(d["tree_fn"])({"a": a, "b": b})[0] * 2.0 + J.vmap(d["tree_fn"])(
              {"a": a, "b": b})[1]), argnums=(0, 1))(x, x + 1.0),
      "symbolic_zeros": lambda J, d, x, m: J.grad(sm(J, J.vmap(d["symz"])))(x, x + 1.0),
      "closure_convert": lambda J, d, x, m: J.grad(
          sm(J, J.vmap(d["with_closure"], in_axes=(0, None))), argnums=(0, 1))(x, 1.5),
      "vmap in rule (jvp)": lambda J, d, x, m: J.grad(sm(J, J.vmap(d["inner_vmap"])))(m),
      "vmap in rule (vjp)": lambda J, d, x, m: J.grad(sm(J, J.vmap(d["inner_vmap_v"])))(m),
      "vmap(grad(vmap(vjp)))": lambda J, d, x, m: J.vmap(J.grad(sm(J, J.vmap(d["mul"]))))(
          m, 2.0 * m),
  }


@pytest.fixture(scope="module")
def vmap_results():
  jax = pytest.importorskip("jax")
  rng = np.random.default_rng(0)
  x = rng.uniform(0.2, 1.2, 3).astype(np.float32)
  m = rng.uniform(0.2, 1.2, (3, 4)).astype(np.float32)
  out = {}
  for J in (pyjax, jax):
    d = _defs(J)
    out[J.__name__] = {k: case(J, d, x, m) for k, case in _cases().items()}
  return out


@pytest.mark.parametrize("name", list(_cases()))
def test_custom_rules_under_vmap_match_jax(vmap_results, name):
  ours, theirs = vmap_results["pyjax"][name], vmap_results["jax"][name]
  check_close(tree_util.tree_leaves(ours), tree_util.tree_leaves(theirs), rtol=1e-5,
              atol=1e-6, err_msg=name)


def test_rule_varying_where_the_body_does_not():
  """A rule's output that varies along the mapped axis where the body's does not: right
  where only the rule runs; a clear error where the body was staged first (JAX raises
  an internal error or gives a wrong gradient there)."""
  jax = pytest.importorskip("jax")

  def make(J):
    @J.custom_jvp
    def only_y(x, y):
      return y * 1.0
    only_y.defjvp(lambda p, t: (p[1] * 1.0, t[1] + 2.0 * t[0] * p[0]))
    return lambda x, y: J.vmap(only_y, in_axes=(0, None))(x, y)
  x = np.arange(3.0, dtype=np.float32)
  f, fj = make(pyjax), make(jax)
  check_close(grad(lambda a: jnp.sum(f(a, 2.0)))(x),
              jax.grad(lambda a: jax.numpy.sum(fj(a, 2.0)))(x))
  with pytest.raises(ValueError, match="custom rule of only_y under vmap returned an "
                     "output that varies along the mapped axis"):
    grad(lambda a: jnp.sum(pyjax.jit(f)(a, 2.0)))(x)


def test_rules_see_omitted_defaults():
  """As JAX: a custom_jvp/custom_vjp call fills in omitted defaulted parameters, so the
  rules get every argument by position."""
  seen = []

  @pyjax.custom_jvp
  def f(x, scale=2.0):
    return x * scale

  @f.defjvp
  def f_jvp(primals, tangents):
    seen.append(len(primals))
    x, scale = primals
    return f(x, scale), tangents[0] * scale

  @pyjax.custom_vjp
  def g(x, scale=3.0):
    return x * scale

  g.defvjp(lambda x, scale: (g(x, scale), scale), lambda s, ct: (ct * s, None))
  assert float(pyjax.grad(f)(1.0)) == 2.0 and seen == [2]
  assert float(pyjax.grad(g)(1.0)) == 3.0
  assert float(pyjax.grad(lambda x: f(x, 5.0))(1.0)) == 5.0


# ---------------------------------------------------------------- the public module


def _symbolic_programs(top):
  """custom_jvp / custom_vjp with symbolic_zeros=True, custom_gradient and linear_call,
  written against ``top``'s public API; returns (results, what the rules saw)."""
  import importlib
  cd = importlib.import_module(f"{top.__name__}.custom_derivatives")
  J = top
  seen = []

  @J.custom_jvp
  def g(x, y):
    return x * y

  def g_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    seen.append(("jvp", type(tx) is cd.SymbolicZero, type(ty) is cd.SymbolicZero))
    tout = 0.0
    if type(tx) is not cd.SymbolicZero:
      tout = tout + tx * y
    if type(ty) is not cd.SymbolicZero:
      tout = tout + x * ty
    return g(x, y), tout
  g.defjvp(g_jvp, symbolic_zeros=True)

  @J.custom_jvp
  def zero_out(x):
    return x * 2.0
  zero_out.defjvp(lambda p, t: (zero_out(*p), cd.SymbolicZero.from_primal_value(p[0])),
                  symbolic_zeros=True)

  @J.custom_vjp
  def k(x, y):
    return x * y

  def k_fwd(x, y):
    seen.append(("fwd", x.perturbed, y.perturbed))
    x, y = cd.custom_vjp_primal_tree_values((x, y))
    return k(x, y), (x, y)

  def k_bwd(res, ct):
    seen.append(("bwd", type(ct) is cd.SymbolicZero))
    x, y = res
    return ct * y * 10.0, None
  k.defvjp(k_fwd, k_bwd, symbolic_zeros=True)

  @J.custom_vjp
  def two(x):
    return x * 2.0, x * 3.0
  two.defvjp(lambda x: (two(x.value), None),
             lambda _, cts: (seen.append(("bwd2", [type(c) is cd.SymbolicZero
                                                    for c in cts])) or
                             (sum(0.0 if type(c) is cd.SymbolicZero else c for c in cts),)),
             symbolic_zeros=True)

  @cd.custom_gradient
  def cg(x, y):
    return x * y, lambda ct: (ct * y * 5.0, ct * x)

  def lin(x, y):
    return x + cd.linear_call(lambda r, v: v / r, lambda r, t: 7.0 * t / r, y, x)

  xs = np.arange(1.0, 4.0, dtype=np.float32)
  out = {
      "g_grad_x": J.grad(g)(2.0, 5.0),
      # one jitted program for the staged cases (compiling is the cost)
      "jitted": J.jit(lambda a, b: (J.grad(g, 1)(a, b), J.grad(k)(a, b),
                                    J.grad(lin)(a, b)))(2.0, 5.0),
      "g_vmap_grad": J.vmap(J.grad(g))(xs, xs),
      "zero_jvp": J.jvp(zero_out, (2.0,), (1.0,))[1],
      "k_grad": J.grad(k)(2.0, 3.0),
      "two_grad": J.grad(lambda x: two(x)[1])(2.0),
      "cg_grad": J.grad(cg, (0, 1))(3.0, 4.0),
      "cg_vmap": J.vmap(J.grad(cg))(xs, xs),
      "lin": lin(1.0, 2.0),
      "lin_grad": J.grad(lin)(1.0, 2.0),
      "zero_from_primal": cd.zero_from_primal((1.0, np.int32(2))),
  }
  return out, seen


def test_public_module_matches_jax():
  jax = pytest.importorskip("jax")
  want, want_seen = _symbolic_programs(jax)
  got, got_seen = _symbolic_programs(pyjax)
  assert got_seen == want_seen
  for key in want:
    check_close(tree_util.tree_leaves(got[key]), jax.tree_util.tree_leaves(want[key]),
                err_msg=key)
  zf = got["zero_from_primal"]
  assert zf[1].dtype == pyjax.dtypes.float0


def test_symbolic_zero_attributes():
  from pyjax.custom_derivatives import CustomVJPPrimal, SymbolicZero
  z = SymbolicZero.from_primal_value(np.ones((2, 3), np.int32))
  assert z.shape == (2, 3) and z.dtype == pyjax.dtypes.float0 and repr(z) == "SymbolicZero"
  p = CustomVJPPrimal(1.0, True)
  assert p.value == 1.0 and p.perturbed
  with pytest.raises(TypeError, match="unexpected leaf type"):
    pyjax.custom_derivatives.custom_vjp_primal_tree_values([1.0])


def _custom_vjp_jvp_log(jax, jnp):
  """The order in which fwd, the function and the error come under jvp (and jacfwd)."""
  log = []

  @jax.custom_vjp
  def f(x):
    log.append("f")
    return jnp.sin(x)

  def f_fwd(x):
    log.append("fwd")
    return f(x), jnp.cos(x)

  def f_bwd(res, g):
    log.append("bwd")
    return (res * g,)
  f.defvjp(f_fwd, f_bwd)
  for name, run in [("jvp", lambda: jax.jvp(f, (1.,), (1.,))),
                    ("jacfwd", lambda: jax.jacfwd(f)(1.)),
                    ("jvp in make_jaxpr",
                     lambda: jax.make_jaxpr(lambda x: jax.jvp(f, (x,), (1.,)))(1.)),
                    ("grad", lambda: jax.grad(f)(1.))]:
    log.append(name)
    try:
      run()
    except TypeError as e:
      log.append(str(e).splitlines()[0])
  return log


def test_custom_vjp_under_jvp_runs_fwd_before_raising():
  """Issue 22 item 5: as in JAX, fwd (and the function it calls) run, then the error."""
  err = "can't apply forward-mode autodiff (jvp) to a custom_vjp function."
  want = ["jvp", "fwd", "f", err, "jacfwd", "fwd", "f", err,
          "jvp in make_jaxpr", "fwd", "f",  # (staged: no error until it runs)
          "grad", "fwd", "f", "bwd"]
  assert _custom_vjp_jvp_log(pyjax, jnp) == want
  jax = pytest.importorskip("jax")
  assert _custom_vjp_jvp_log(jax, jax.numpy) == want

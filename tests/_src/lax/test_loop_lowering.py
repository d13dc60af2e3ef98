"""Loops lowered to native code (``native_loops``): an ``scf.while`` in one
``linalg.generic`` for scalar and per-lane loops, ``stablehlo.while`` for the rest.

Each op runs inside a per-lane loop (a vmapped ``while_loop`` with per-lane trip
counts: lane mode), all in one jitted program, against eager evaluation and real JAX;
scalar loops, static-bound ``fori_loop`` (a scan), nested loops, cond in a loop,
int/float/bool carries and x64 likewise; loops that do not qualify keep their
``stablehlo.while``; poisson's and binomial's whole-array rejection loops give JAX's bits.
"""
import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax import lax
from pyjax._src.interpreters import native_loops
from util import check_close

F32_SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-30, -1e-30, 1e-37, 88.0,
                        -88.0, 100.0, 1e10, -1e10, 3e38, -3e38, np.inf, -np.inf, np.nan,
                        2.0 ** 31, -2.0 ** 31, 4e9, 255.5, -0.5, 1.5, 2.5, 7.25, 1e5, 0.1,
                        np.pi, 1e-7], np.float32)
I32_A = np.array([7, -7, 0, 1, -1, 2 ** 31 - 1, -2 ** 31, -2 ** 31, 100, -100, 13, 5, 255,
                  -256, 65536, 3], np.int32)
I32_B = np.array([2, 2, 0, 0, -1, -1, -1, 1, 33, 40, -3, 31, 32, 0, 17, 7], np.int32)


def _ops(mod):
  """name -> (op, input names): each run inside a per-lane loop."""
  lax_, jnp_ = mod.lax, mod.numpy
  f32, i32, u32 = jnp_.float32, jnp_.int32, jnp_.uint32
  return {
      "exp": (lax_.exp, "x"), "log": (lax_.log, "x"), "sin": (lax_.sin, "x"),
      "cos": (lax_.cos, "x"), "tan": (lax_.tan, "x"), "tanh": (lax_.tanh, "x"),
      "sqrt": (lax_.sqrt, "x"), "rsqrt": (lax_.rsqrt, "x"), "floor": (lax_.floor, "x"),
      "ceil": (lax_.ceil, "x"), "round_even": (lambda x: lax_.round(x, 1), "x"),
      "round_afz": (lambda x: lax_.round(x, 0), "x"), "abs": (lax_.abs, "x"),
      "neg": (lax_.neg, "x"), "sign": (lax_.sign, "x"), "expm1": (lax_.expm1, "x"),
      "log1p": (lax_.log1p, "x"), "erf": (lax_.erf, "x"), "logistic": (lax_.logistic, "x"),
      "atan": (lax_.atan, "x"), "is_finite": (lax_.is_finite, "x"),
      "cbrt": (lax_.cbrt, "x"), "lgamma": (lax_.lgamma, "x"),
      "atan2": (lax_.atan2, "xy"), "pow": (lax_.pow, "xy"), "max": (lax_.max, "xy"),
      "min": (lax_.min, "xy"), "div": (lax_.div, "xy"), "rem": (lax_.rem, "xy"),
      "add_mul": (lambda x, y: x * y + x, "xy"), "lt": (lax_.lt, "xy"),
      "ne": (lax_.ne, "xy"), "select": (lambda x, y: lax_.select(x < y, x, y), "xy"),
      "clamp": (lambda x, y: lax_.clamp(f32(-1.5), x, f32(2.0)), "xy"),
      "integer_pow": (lambda x: lax_.integer_pow(x, 3), "x"),
      "to_i32": (lambda x: x.astype(i32), "x"),
      "to_u8": (lambda x: x.astype(jnp_.uint8), "x"),
      "to_bool": (lambda x: x.astype(bool), "x"),
      "to_f16": (lambda x: x.astype(jnp_.float16), "x"),
      "to_bf16": (lambda x: x.astype(jnp_.bfloat16), "x"),
      "idiv": (lax_.div, "ab"), "irem": (lax_.rem, "ab"), "imax": (lax_.max, "ab"),
      "imul": (lax_.mul, "ab"), "shl": (lax_.shift_left, "ab"),
      "sar": (lax_.shift_right_arithmetic, "ab"), "shr": (lax_.shift_right_logical, "ab"),
      "i_to_f": (lambda a: a.astype(f32), "a"), "popcnt": (lax_.population_count, "a"),
      "clz": (lax_.clz, "a"), "not": (lax_.bitwise_not, "a"),
      "u32": (lambda a, b: (a.astype(u32) // (b.astype(u32) | u32(1))) ^
              lax_.shift_right_logical(a.astype(u32), u32(3)), "ab"),
      "u32_to_f": (lambda a: a.astype(u32).astype(f32), "a"),
      "bool_ops": (lambda a, b: ((a > b) & (a != 0)) | ~(b < 0), "ab"),
      "f16_arith": (lambda x, y: (x.astype(jnp_.float16) * y.astype(jnp_.float16) +
                                  jnp_.float16(1)), "xy"),
  }


def _groups(mod):
  """[(input names, [(name, op)])]: ops of the same inputs, 12 to a loop (a native loop
  has at most ``native_loops.MAX_BINDINGS`` inputs and carry elements)."""
  by_inputs = {}
  for name, (op, names) in _ops(mod).items():
    by_inputs.setdefault(names, []).append((name, op))
  return [(names, fns[i:i + 12]) for names, fns in by_inputs.items()
          for i in range(0, len(fns), 12)]


def _program(mod):
  """A function of (x, y, a, b, nf, ni) running every op of ``_ops`` in per-lane loops
  (a loop per dozen ops of the same inputs: few dispatches to compile)."""
  groups = _groups(mod)

  def in_loop(fns):
    def all_ops(*args):
      return tuple(op(*args) for _, op in fns)

    def lane(n, *args):
      outs = mod.eval_shape(all_ops, *args)
      init = (0, args, tuple(mod.numpy.zeros(o.shape, o.dtype) for o in outs))

      def body(s):
        return s[0] + 1, s[1], all_ops(*s[1])
      return mod.lax.while_loop(lambda s: s[0] < n, body, init)[2]
    return mod.vmap(lane)

  def program(x, y, a, b, nf, ni):
    env = {"x": x, "y": y, "a": a, "b": b}
    out = {}
    for names, fns in groups:
      res = in_loop(fns)(nf if names[0] in "xy" else ni, *(env[c] for c in names))
      out.update((name, r) for (name, _), r in zip(fns, res))
    return out
  return program


def _inputs():
  x = F32_SPECIAL
  y = np.roll(F32_SPECIAL, 5)
  nf = (np.arange(len(x)) % 3 + 1).astype(np.int32)
  ni = (np.arange(len(I32_A)) % 3 + 1).astype(np.int32)
  return x, y, I32_A, I32_B, nf, ni


@pytest.fixture(scope="module")
def ops_results():
  fn = pyjax.jit(_program(pyjax))
  args = _inputs()
  text = fn.lower(*args).as_text()
  return text, fn(*args)


def test_ops_lower_natively(ops_results):
  text, _ = ops_results
  assert "stablehlo.while" not in text
  assert text.count("scf.while") == len(_groups(pyjax))


def test_ops_in_lane_loops_vs_eager(ops_results):
  _, got = ops_results
  with np.errstate(all="ignore"):
    ref = _program(pyjax)(*_inputs())
  for name in got:
    # (jit and eager differ by an ulp where IREE fuses a multiply-add; transcendental
    # functions by the documented few ulps)
    check_close(got[name], ref[name], scale=4, err_msg=name)


# Checked against real JAX too: the ops whose edge semantics the loop must keep (NaN
# max/min, integer division by zero, shifts past the width, saturating and rounding
# conversions); the transcendental ones (slow for XLA to compile) against eager only.
_VS_JAX = ("max min div rem idiv irem imax imul shl sar shr to_i32 to_u8 to_bool to_f16 "
           "to_bf16 round_even round_afz floor ceil sign clamp select u32 u32_to_f i_to_f "
           "popcnt clz not bool_ops integer_pow f16_arith exp log sqrt rsqrt lt ne "
           "is_finite abs neg add_mul").split()


def test_ops_in_lane_loops_vs_jax(ops_results):
  jax = pytest.importorskip("jax")
  _, got = ops_results
  x, y, a, b, _, _ = _inputs()
  env = {"x": x, "y": y, "a": a, "b": b}
  ops = _ops(jax)
  ref = jax.jit(lambda env: {name: ops[name][0](*(env[c] for c in ops[name][1]))
                             for name in _VS_JAX})(env)
  for name in _VS_JAX:
    check_close(got[name], np.asarray(ref[name]), scale=4, err_msg=name)


# ---------------------------------------------------------------- scalar loops


def _scalar_program(mod):
  lax_, jnp_ = mod.lax, mod.numpy

  def program(n, x, k):
    # dynamic-bound fori_loop (a while): float, int and bool carries
    def body(i, c):
      f, m, b = c
      f = f * jnp_.float32(0.999) + lax_.sin(i.astype(jnp_.float32))
      return f, m * 3 + i, b ^ (m > i)
    dyn = lax_.fori_loop(0, n, body, (x, k, False))
    # static-bound fori_loop (a scan without xs)
    stat = lax_.fori_loop(0, 50, body, (x, k, True))

    # nested loops: an inner while whose trip count depends on the outer carry
    def outer(c):
      i, acc = c
      _, inner = lax_.while_loop(lambda s: s[0] < i % 4, lambda s: (s[0] + 1, s[1] * 1.5),
                                 (0, acc))
      return i + 1, inner - jnp_.floor(inner)
    nested = lax_.while_loop(lambda c: c[0] < n, outer, (0, x))[1]
    # a small vector carry (elementwise on 3 elements)
    three = jnp_.array([1., 2., 3.], jnp_.float32)
    vec = lax_.fori_loop(0, n, lambda i, v: v * 0.5 + three,
                         jnp_.zeros(3, jnp_.float32))
    # cond and switch in the body (an scf.index_switch)
    def branchy(i, c):
      c = lax_.cond(i % 3 == 0, lambda v: v * 0.5, lambda v: v + 1.0, c)
      return lax_.switch(i % 4, [lambda v: v, lambda v: v * 2, lambda v: v - 3.0], c)
    conds = lax_.fori_loop(0, n, branchy, x)
    return dyn, stat, nested, vec, conds
  return program


@pytest.fixture(scope="module")
def scalar_results():
  args = (np.int32(37), np.float32(0.25), np.int32(3))
  fn = pyjax.jit(_scalar_program(pyjax))
  return fn.lower(*args).as_text(), fn(*args), args


def test_scalar_loops_lower_natively(scalar_results):
  text, _, _ = scalar_results
  assert "stablehlo.while" not in text
  assert text.count("linalg.generic") == 5  # the nested loop is inside its outer one
  assert text.count("scf.while") == 6 and text.count("scf.index_switch") == 2


def test_scalar_loops_vs_eager_and_jax(scalar_results):
  _, got, args = scalar_results
  ref = _scalar_program(pyjax)(*args)
  check_close(got, ref, scale=4)
  jax = pytest.importorskip("jax")
  check_close(got, [np.asarray(r) for r in jax.tree_util.tree_leaves(
      jax.jit(_scalar_program(jax))(*args))] and
      list(map(lambda t: tuple(np.asarray(v) for v in t) if isinstance(t, tuple)
               else np.asarray(t), jax.jit(_scalar_program(jax))(*args))), scale=4)


def test_random_keys_in_lane_loops():
  """A per-lane loop splitting its key and drawing: threefry's uint32 arithmetic and
  small (2,) key values inside the native loop; the same bits as eager."""
  def per_lane(mod):
    def two(k):
      def body(c):
        k, t = c
        k, s = mod.random.split(k)
        return k, t + mod.random.uniform(s)
      return mod.lax.while_loop(lambda c: c[1] < 3.0, body, (k, 0.0))[1]
    return mod.vmap(two)
  keys = pyjax.random.split(pyjax.random.key(0), 8)
  fn = pyjax.jit(per_lane(pyjax))
  assert "stablehlo.while" not in fn.lower(keys).as_text()
  got = fn(keys)
  check_close(got, per_lane(pyjax)(keys))  # (eager threefry: JAX's bits, tested there)


def test_x64_carries(x64):
  def f(n, x, k):
    return lax.fori_loop(0, n, lambda i, c: (c[0] * 1.0000001 + 1e-9, c[1] * 3 + i), (x, k))
  args = (np.int64(1000), np.float64(0.5), np.int64(2 ** 40))
  fn = pyjax.jit(f)
  text = fn.lower(*args).as_text()
  assert "stablehlo.while" not in text and "f64" in text and "i64" in text
  got = fn(*args)
  assert got[0].dtype == np.float64 and got[1].dtype == np.int64
  check_close(got, f(*args))
  jax = pytest.importorskip("jax")
  with jax.enable_x64(True) if hasattr(jax, "enable_x64") else _jax_x64(jax):
    ref = jax.jit(f.__wrapped__ if hasattr(f, "__wrapped__") else _jax_f(jax))(*args)
  check_close(got, tuple(np.asarray(r) for r in ref))


def _jax_f(jax):
  def f(n, x, k):
    return jax.lax.fori_loop(0, n, lambda i, c: (c[0] * 1.0000001 + 1e-9, c[1] * 3 + i),
                             (x, k))
  return f


class _jax_x64:
  def __init__(self, jax):
    self.jax = jax

  def __enter__(self):
    self.old = self.jax.config.jax_enable_x64
    self.jax.config.update("jax_enable_x64", True)

  def __exit__(self, *_):
    self.jax.config.update("jax_enable_x64", self.old)


# ---------------------------------------------------------------- loops kept as while


@pytest.mark.parametrize("name", ["dot", "gather", "reduce", "big_carry", "callback",
                                  "disabled"])
def test_non_qualifying_loops_keep_stablehlo_while(name):
  big = jnp.arange(100.0, dtype=jnp.float32)
  m = jnp.eye(2, dtype=jnp.float32) * 0.5
  loops = {
      "dot": lambda n: lax.fori_loop(0, n, lambda i, c: c @ m, jnp.ones((2, 2))),
      "gather": lambda n: lax.fori_loop(0, n, lambda i, c: c + big[i], 0.0),
      "reduce": lambda n: lax.fori_loop(0, n, lambda i, c: c + jnp.sum(c), jnp.ones(4)),
      "big_carry": lambda n: lax.fori_loop(0, n, lambda i, c: c * 0.5, big),
      "callback": lambda n: lax.fori_loop(
          0, n, lambda i, c: (pyjax.debug.callback(lambda v: None, c), c + 1)[1], 0.0),
      "disabled": lambda n: lax.fori_loop(0, n, lambda i, c: c * 0.5 + 1, 1.0),
  }
  old = native_loops.set_enabled(name != "disabled")
  try:
    text = pyjax.jit(loops[name]).lower(np.int32(3)).as_text()
  finally:
    native_loops.set_enabled(old)
  assert "stablehlo.while" in text
  assert "scf.while" not in text


def test_iree_failure_on_a_native_loop_falls_back(monkeypatch):
  """A module whose native loop IREE fails to compile is compiled again with its loops
  as ``stablehlo.while``: the user gets the result, not IREE's error."""
  from pyjax._src import compiler
  real = compiler.backend_compile_and_load
  seen = []

  def fail_native(backend, text, *args, **kwargs):
    seen.append("scf.while" in text)
    if "scf.while" in text:
      e = RuntimeError("IREE failed to compile the lowered module: (simulated)")
      e._pyjax_iree_failure = True
      raise e
    return real(backend, text, *args, **kwargs)
  monkeypatch.setattr(compiler, "backend_compile_and_load", fail_native)
  f = pyjax.jit(lambda n, x: lax.fori_loop(0, n, lambda i, c: c * 0.5 + 1.0, x),
                donate_argnums=1)
  out = f(np.int32(4), jnp.float32(0.0))
  assert seen == [True, False]
  check_close(out, np.float32(1.875))
  assert native_loops.enabled()


# ---------------------------------------------------------------- vectorized rejection loops


def _samplers(mod):
  def draw(key, lam, n, p):
    r = mod.random
    return r.poisson(key, lam), r.binomial(key, n, p)
  return draw


def test_vectorized_rejection_loops_match_jax_bits():
  """poisson's and binomial's loops draw for every element at each step and keep an
  element's latest accepted draw (PTRS, BTRS), so a sample depends on the whole array's
  trip count: run per lane, most samples would change. Bit for bit as JAX under jit, for
  both algorithms of each, rates and counts at and around their switch points and
  invalid ones, and two keys."""
  jax = pytest.importorskip("jax")
  rng = np.random.default_rng(0)
  lam = rng.choice(np.array([0, 0.5, 1, 4, 9.99, 10, 12, 30, 100, 1e3, np.nan, -1],
                            np.float32), (8, 8))
  n = rng.choice(np.array([0, 1, 5, 20, 40, 100, 1e3, np.nan, np.inf, -1], np.float32),
                 (8, 8))
  p = rng.choice(np.array([0, 0.1, 0.3, 0.5, 0.7, 0.95, 1, np.nan, -0.1, 1.2],
                          np.float32), (8, 8))
  fn, ref = pyjax.jit(_samplers(pyjax)), jax.jit(_samplers(jax))
  for seed in (0, 7):
    got = fn(pyjax.random.key(seed), lam, n, p)
    want = ref(jax.random.key(seed), lam, n, p)
    for g, w in zip(got, want):
      assert g.dtype == w.dtype and g.shape == w.shape
      np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def _knuth(mod, n):
  """Knuth's Poisson loop over ``n`` elements, the rate a scalar closed over by cond and
  body: once a constant, once an argument; the carries start as constant zeros."""
  lax_, jnp_, random = mod.lax, mod.numpy, mod.random

  def one(key, lam):
    def body(s):
      k, key, lp = s
      key, sub = random.split(key)
      k = lax_.select(lp > -lam, k + 1, k)
      return k, key, lp + jnp_.log(random.uniform(sub, (n,)))
    init = (jnp_.zeros((n,), jnp_.int32), key, jnp_.zeros((n,), jnp_.float32))
    return lax_.while_loop(lambda s: (s[2] > -lam).any(), body, init)[0]

  def f(key, lam):
    return one(key, jnp_.float32(4.0)), one(random.fold_in(key, 1), lam)
  return f


def test_big_rejection_loop_with_constant_carries_compiles():
  """IREE 3.13 evaluates a while's predicate once before the loop; with the carries'
  constant initial values folded in, it put a dead 4 MB result of that reduction on the
  stack and failed the compile (repro/while_const_carry_stack.mlir). The loop's operands
  go through an optimization barrier: it compiles, and gives eager's and JAX's bits."""
  jax = pytest.importorskip("jax")
  n = 1_000_000
  key, lam = pyjax.random.key(3), np.float32(2.5)
  got = pyjax.jit(_knuth(pyjax, n))(key, lam)
  eager = _knuth(pyjax, n)(key, lam)
  want = jax.jit(_knuth(jax, n))(jax.random.key(3), lam)
  for g, e, w in zip(got, eager, want):
    assert g.shape == (n,) and g.dtype == np.int32
    np.testing.assert_array_equal(np.asarray(g), np.asarray(e))
    np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
  assert 4.9 < np.asarray(got[0]).mean() < 5.1  # 1 + Poisson(4)

"""Special values (+-0, +-inf, NaN, the largest finite, integer extremes, 0 and -1)
through the elementwise lax operations and the jnp functions built on them, eagerly and
under jit, against JAX: bitwise where JAX is exact (NaN-ness, infinities, signs of zero),
within a few ulps elsewhere. One jitted program per dtype holds every op (all value
combinations batched in one array). Known differences are strict xfails with reasons.

Subnormal operands are not swept: XLA's CPU code flushes them to zero in some ops and
not in others (0 / 1e-45 is NaN in JAX, float64 included); results that JAX flushes to
zero compare equal to a subnormal here."""
import ml_dtypes
import numpy as np
import pytest

import pyjax
import pyjax.numpy as pjnp
from pyjax import lax
from oracle import Oracle, lazy
from util import bfloat16, enable_x64, special_mismatches

jax = lazy("jax")
jnp = lazy("jax.numpy")
ORACLE = Oracle("test_special_values")

FLOATS = [np.dtype(np.float16), bfloat16, np.dtype(np.float32), np.dtype(np.float64)]
INTS = [np.dtype(t) for t in ("int8", "int16", "int32", "int64", "uint8", "uint16",
                              "uint32", "uint64")]
ids = lambda d: np.dtype(d).name  # noqa: E731

UNARY = ["neg", "sign", "floor", "ceil", "is_finite", "exp", "exp2", "log", "log1p",
         "expm1", "tanh", "logistic", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
         "cosh", "asinh", "acosh", "atanh", "sqrt", "rsqrt", "cbrt", "erf", "erfc",
         "erf_inv", "lgamma", "digamma", "bessel_i0e", "bessel_i1e", "abs", "square",
         "reciprocal", "round"]
BINARY = ["add", "sub", "mul", "div", "rem", "pow", "max", "min", "nextafter", "atan2"]

_HALF = ("float16", "bfloat16")
# (op, dtype names or None for all, mode or None for both): why it still differs.
KNOWN = {
    ("max", None, "eager"): "max(0, -0) is NumPy's (the second) where XLA gives +0; "
    "fixing it costs a select on every eager max",
    ("min", None, "eager"): "as max",
    ("nextafter", ("float16",), "eager"): "nextafter(0, -0) for float16",
}


def _known(op, dt, mode):
  for (o, dts, m), why in KNOWN.items():
    if o == op and (dts is None or dt.name in dts) and (m is None or m == mode):
      return why
  return None


def float_values(dt):
  mx = float(ml_dtypes.finfo(dt).max)
  return np.array([0., -0., np.inf, -np.inf, np.nan, mx, -mx, 1, -1, .5, -2.5, 3],
                  np.float64).astype(dt)


def int_values(dt):
  ii = np.iinfo(dt)
  v = [0, 1, 7, 3, ii.max, ii.max - 1]
  if ii.min < 0:
    v += [-1, -3, ii.min, ii.min + 1]
  return np.array(v, dt)


def _rtol(dt):
  return {2: 1e-2, 4: 2e-5, 8: 1e-12}[np.dtype(dt).itemsize] if dt != bfloat16 else 2e-2


def mismatches(ref, got, dt):
  """Indices where ``got`` differs from JAX's ``ref``: NaN-ness, infinities and signs of
  zero exactly; finite values within a few ulps (results below the smallest normal,
  which XLA flushes, equal zero)."""
  ref, got = np.asarray(ref), np.asarray(got)
  assert got.dtype == ref.dtype and got.shape == ref.shape, (got.dtype, ref.dtype)
  rtol = 0 if ref.dtype.kind in "biu" else _rtol(
      ref.real.dtype if ref.dtype.kind == "c" else ref.dtype)
  return special_mismatches(ref, got, rtol)


def _check(name, ref, got, dt, args):
  bad = mismatches(ref, got, dt)
  assert not len(bad), f"{name} {dt.name}: " + "; ".join(
      f"{tuple(a.ravel()[i] for a in args)} -> {np.ravel(got)[i]!r}, JAX "
      f"{np.ravel(ref)[i]!r}" for i in bad[:6])


_programs = {}


def _run(kind, dt, mode):
  """Every op of ``kind`` on the special values of ``dt``: eagerly, or as one jitted
  program (compiled once per module)."""
  key = (kind, dt, mode)
  if key not in _programs:
    names = UNARY if kind == "unary" else BINARY
    v = float_values(dt)
    args = (v,) if kind == "unary" else tuple(
        a.ravel() for a in np.meshgrid(v, v, indexing="ij"))

    def ops(*xs):
      return tuple(getattr(lax, n)(*xs) for n in names)

    f = pyjax.jit(ops) if mode == "jit" else ops
    with enable_x64():
      out = [np.asarray(o) for o in f(*args)]
      ref = [np.asarray(r) for r in ORACLE.call(
          lambda *a: [getattr(jax.lax, n)(*a) for n in names], *args,
          oracle_tag=(kind, dt.name), oracle_test="_run")]
    _programs[key] = args, dict(zip(names, out)), dict(zip(names, ref))
  return _programs[key]


def _cases(names):
  out = []
  for n in names:
    for dt in FLOATS:
      for mode in ("eager", "jit"):
        why = _known(n, dt, mode)
        marks = [pytest.mark.xfail(reason=why, strict=True)] if why else []
        out.append(pytest.param(n, dt, mode, marks=marks, id=f"{n}-{dt.name}-{mode}"))
  return out


@pytest.mark.parametrize("name,dt,mode", _cases(UNARY))
def test_unary_special_values(name, dt, mode):
  args, got, ref = _run("unary", dt, mode)
  _check(name, ref[name], got[name], dt, args)


@pytest.mark.parametrize("name,dt,mode", _cases(BINARY))
def test_binary_special_values(name, dt, mode):
  args, got, ref = _run("binary", dt, mode)
  _check(name, ref[name], got[name], dt, args)


def test_atan2_zeros_and_infinities_jit():
  # IREE's atan2 gave NaN for (+-0, +-0) and (+-inf, +-inf): so did jnp.angle(0j).
  z = np.array([0., -0., np.inf, -np.inf], np.float32)
  x, y = (a.ravel() for a in np.meshgrid(z, z, indexing="ij"))
  got = np.asarray(pyjax.jit(pjnp.arctan2)(x, y))
  ref = np.asarray(ORACLE.call(lambda x, y: jnp.arctan2(x, y), x, y))
  np.testing.assert_array_equal(got, ref)
  assert np.array_equal(np.signbit(got), np.signbit(ref))
  c = np.array([0j, -0j, 1j, -1 + 0j], np.complex64)
  np.testing.assert_array_equal(np.asarray(pyjax.jit(pjnp.angle)(c)),
                                np.asarray(ORACLE.call(lambda c: jnp.angle(c), c)))


def test_igamma_infinite_a_eager_and_jit():
  # SciPy (the eager path) gives P(inf, x) = 0 where XLA's algorithm gives NaN.
  # (a = 0 still differs from JAX, eagerly and under jit: JAX gives NaN for x > 0.)
  a = np.array([np.inf, -np.inf, 2.0], np.float32)
  x = np.array([0., 0.5, 1., 3., np.inf, np.nan], np.float32)
  a, x = (t.ravel() for t in np.meshgrid(a, x, indexing="ij"))
  for f in ("igamma", "igammac"):
    ref = np.asarray(ORACLE.call(lambda a, x: getattr(jax.lax, f)(a, x), a, x,
                                 oracle_tag=f))
    for got in (getattr(lax, f)(a, x), pyjax.jit(getattr(lax, f))(a, x)):
      assert not len(special_mismatches(ref, np.asarray(got), 1e-6)), (f, got, ref)


_INT_FUNCS = ["floor_divide", "remainder", "fmod", "divmod"]


@pytest.mark.parametrize("dt", INTS, ids=ids)
def test_integer_division_special_values(dt):
  # x // 0 is -2 for x != 0 (JAX's floor_divide over lax.div's -1), x % 0 is 0,
  # INT_MIN // -1 is INT_MIN; lax.div(INT_MIN, 3) overflowed |INT_MIN| eagerly.
  v = int_values(dt)
  x, y = (a.ravel() for a in np.meshgrid(v, v, indexing="ij"))

  def fns(x, y):
    return (lax.div(x, y), lax.rem(x, y), *(
        r for n in _INT_FUNCS for r in pyjax.tree.leaves(getattr(pjnp, n)(x, y))))

  def jfns(x, y):
    return (jax.lax.div(x, y), jax.lax.rem(x, y), *(
        r for n in _INT_FUNCS for r in jax.tree.leaves(getattr(jnp, n)(x, y))))

  with enable_x64():
    ref = ORACLE.call(jfns, x, y)
    for mode, f in (("eager", fns), ("jit", pyjax.jit(fns))):
      for k, (r, g) in enumerate(zip(ref, f(x, y))):
        _check(f"{mode} output {k}", r, g, dt, (x, y))


def test_float_floor_divide_and_remainder_special_values():
  v = float_values(np.dtype(np.float32))
  x, y = (a.ravel() for a in np.meshgrid(v, v, indexing="ij"))
  names = ["floor_divide", "remainder", "divmod"]

  def fns(mod, x, y):
    tree = (pyjax if mod is pjnp else jax).tree
    return tuple(r for n in names for r in tree.leaves(getattr(mod, n)(x, y)))

  ref = ORACLE.call(lambda x, y: fns(jnp, x, y), x, y)
  for f in (lambda a, b: fns(pjnp, a, b), pyjax.jit(lambda a, b: fns(pjnp, a, b))):
    for k, (r, g) in enumerate(zip(ref, f(x, y))):
      _check(f"output {k}", r, g, np.dtype(np.float32), (x, y))


def test_complex_reciprocal_of_zero_jit():
  # integer_pow(x, -1) lowered complex 1 / 0 as IREE's divide: NaN + NaN i (JAX: inf +
  # nan i).
  c = np.array([0j, 1 + 1j, 2, np.inf], np.complex64)
  for f in (pjnp.reciprocal, pyjax.jit(pjnp.reciprocal)):
    got, ref = np.asarray(f(c)), np.asarray(ORACLE.call(lambda c: jnp.reciprocal(c), c))
    np.testing.assert_array_equal(np.isnan(got.real), np.isnan(ref.real))
    np.testing.assert_array_equal(np.isnan(got.imag), np.isnan(ref.imag))
    np.testing.assert_array_equal(np.isinf(got.real), np.isinf(ref.real))


@pytest.mark.parametrize("dt", [np.dtype(np.float32), bfloat16], ids=ids)
def test_trig_large_arguments_jit(dt):
  # IREE's float32 sin/cos/tan reduce the argument in float32: wrong from |x| = 256 on,
  # sin(3.4e38) was -inf.
  x = np.float32(2.0) ** np.arange(0, 128, dtype=np.float32)
  x = np.concatenate([x, x * np.float32(1.37), -x]).astype(dt)
  f = pyjax.jit(lambda v: (pjnp.sin(v), pjnp.cos(v), pjnp.tan(v)))
  for got, ref in zip(f(x), ORACLE.call(lambda x: (jnp.sin(x), jnp.cos(x), jnp.tan(x)), x)):
    _check("trig", np.asarray(ref), np.asarray(got), dt, (x,))



def test_trig_float32_within_an_ulp_jit():
  """jit's float32 sin/cos/tan (float64 argument reduction, float64 polynomials) are
  within one float32 ulp of float64's, on arrays with no |x| >= 2**31 (the fast path
  alone) and on one that has some (those elements from the float64 kernels)."""
  rng = np.random.default_rng(0)
  small = np.concatenate([rng.uniform(-np.pi / 4, np.pi / 4, 4000),
                          rng.uniform(-1e4, 1e4, 4000),
                          rng.uniform(-2.0 ** 31, 2.0 ** 31, 4000),
                          10.0 ** rng.uniform(-30, 0, 4000)]).astype(np.float32)
  mixed = np.concatenate([small[:100], [3.4e38, -2.0 ** 40, 2.0 ** 31]]).astype(np.float32)
  f = pyjax.jit(lambda v: (pjnp.sin(v), pjnp.cos(v), pjnp.tan(v)))
  for x in (small, mixed):
    x64 = x.astype(np.float64)
    for got, ref in zip(f(x), (np.sin(x64), np.cos(x64), np.tan(x64))):
      ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
      assert np.all(np.abs(np.asarray(got, np.float64) - ref) <= ulp), \
          np.max(np.abs(np.asarray(got, np.float64) - ref) / ulp)


@pytest.mark.parametrize("dt", [np.dtype(np.float32), np.dtype(np.float16)], ids=ids)
def test_jnp_binary_float_functions_special_values(dt):
  """jnp's float_power, hypot, heaviside, ldexp and rint (built from lax ops) over the
  special values, eager and jit, as JAX."""
  v = float_values(dt)
  x, y = (a.ravel() for a in np.meshgrid(v, v, indexing="ij"))
  e = np.resize(np.array([0, 1, -1, 3, -3, 200, -200], np.int32), len(x))

  def fns(m, x, y, e):
    return (m.float_power(x, y), m.hypot(x, y), m.heaviside(x, y), m.ldexp(x, e),
            m.rint(x))
  ref = ORACLE.call(lambda *a: fns(jnp, *a), x, y, e)
  for mode, f in (("eager", lambda *a: fns(pjnp, *a)),
                  ("jit", pyjax.jit(lambda *a: fns(pjnp, *a)))):
    for k, (r, g) in enumerate(zip(ref, f(x, y, e))):
      _check(f"{mode} output {k}", np.asarray(r), np.asarray(g), dt, (x, y))


@pytest.mark.parametrize("dt", [np.dtype(np.int32), np.dtype(np.int8), np.dtype(np.uint8)],
                         ids=ids)
def test_jnp_integer_power(dt):
  v = int_values(dt)
  p = np.array([0, 1, 2, 3, 7, 31, 63], dt)
  x, y = (a.ravel() for a in np.meshgrid(v, p, indexing="ij"))
  ref = np.asarray(ORACLE.call(lambda x, y: jnp.power(x, y), x, y))
  for mode, f in (("eager", pjnp.power), ("jit", pyjax.jit(pjnp.power))):
    _check(f"{mode} power", ref, np.asarray(f(x, y)), dt, (x, y))


def test_complex_log_special_values():
  """Complex log (and jnp's log2/log10/angle built on it) and abs at zeros, infinities,
  NaN and the ends of the range, eager and jit, as JAX (IREE's complex log had NaN
  phases at 0 and infinity, and its |z| under/overflowed: abs(1e-30+1e-30j) was 0)."""
  v = np.array([0., -0., 1., -2., np.inf, -np.inf, np.nan, 1e-30, 3e38, 0.5], np.float32)
  re, im = (a.ravel() for a in np.meshgrid(v, v, indexing="ij"))
  z = (re + 1j * im).astype(np.complex64)
  z.real, z.imag = re, im  # (keep -0 and NaN parts exactly)

  def fns(m, z):
    return m.log(z), m.log2(z), m.log10(z), m.angle(z), m.abs(z)
  ref = ORACLE.call(lambda z: fns(jnp, z), z)
  for mode, f in (("eager", lambda z: fns(pjnp, z)), ("jit", pyjax.jit(lambda z:
                                                                      fns(pjnp, z)))):
    for k, (r, g) in enumerate(zip(ref, f(z))):
      r, g = np.asarray(r), np.asarray(g)
      for part in ((np.real, np.imag) if r.dtype.kind == "c" else (np.real,)):
        # (atol: XLA flushes subnormal results to zero)
        np.testing.assert_allclose(part(g), part(r), rtol=1e-6,
                                   atol=np.finfo(np.float32).tiny, err_msg=f"{mode} {k}")


def test_complex_abs_and_log_of_a_scalar():
  z = np.complex64(complex(np.inf, np.nan))
  assert np.isnan(pjnp.abs(z))
  assert np.isnan(np.asarray(ORACLE.call(lambda z: jnp.abs(z), z)))
  w = np.complex64(3 + 4j)
  np.testing.assert_allclose(pjnp.log(w), ORACLE.call(lambda w: jnp.log(w), w), rtol=1e-6)

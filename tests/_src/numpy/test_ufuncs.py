"""Every function of ``pyjax._src.numpy.ufuncs`` against JAX, over special values (+-0,
+-inf, NaN, the largest finite, integer extremes, negative integers) in each dtype JAX
accepts for it (float32, int32, uint8, bool, complex64): eagerly, and under jit with
all the functions of one dtype in one compiled program. Where JAX raises, pyjax must
raise the same error class. Finite floats compare within a few ulps, NaN-ness,
infinities and signs of zero exactly (results below the smallest normal, which XLA
flushes, equal zero)."""
import inspect

import numpy as np
import pytest

import pyjax
import pyjax.numpy as pjnp
from pyjax._src.numpy import ufuncs as pufuncs
from oracle import Oracle
from util import same_error_class, special_mismatches

jax = pytest.importorskip("jax")
jnp = jax.numpy
ORACLE = Oracle("test_ufuncs")

# (pyjax names JAX does not have are not compared)
NAMES = sorted(n for n in pufuncs.__all__ if hasattr(jnp, n))


def _arity(name):
  ps = inspect.signature(getattr(pufuncs, name)).parameters.values()
  return sum(p.default is inspect.Parameter.empty and p.kind in
             (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in ps)


def _values(dt):
  dt = np.dtype(dt)
  if dt == np.bool_:
    return np.array([False, True])
  if dt.kind in "iu":
    ii = np.iinfo(dt)
    v = [0, 1, 2, 3, 7, 12, ii.max, ii.max - 1]
    if ii.min < 0:
      v += [-1, -3, -12, ii.min, ii.min + 1]
    return np.array(v, dt)
  if dt.kind == "f":
    mx = float(np.finfo(dt).max)
    return np.array([0., -0., np.inf, -np.inf, np.nan, mx, -mx, 1, -1, .5, -2.5, 3, 1e-3,
                     100.5], dt)
  part = np.array([0., -0., 1., -2.5, np.inf, -np.inf, np.nan, .5], np.float32)
  re, im = (a.ravel() for a in np.meshgrid(part, part, indexing="ij"))
  z = np.zeros(re.shape, dt)
  z.real, z.imag = re, im
  return z


DTYPES = [np.dtype(t) for t in (np.float32, np.int32, np.uint8, np.bool_, np.complex64)]

_C = "complex64"
_CZERO = "complex functions computed by NumPy eagerly: signs of zero and NaN parts differ"
# (name, dtype name, mode): why pyjax still differs from JAX. Not compared in the sweeps;
# test_known_differences_still_differ fails once one is fixed (remove it here then).
KNOWN = {
    **{(n, "float32", "eager"): "max(0, -0) is NumPy's (the second operand) where XLA "
       "gives +0 (as lax.max, test_special_values.py)" for n in ("maximum", "minimum")},
    ("i0", "float32", "jit"): "i0(+-3.4e38) is NaN under jit (exp(|x|) * i0e(x) = inf * "
    "0), JAX inf",
    **{(n, _C, "eager"): _CZERO for n in (
        "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh",
        "asin", "asinh", "atan", "atanh", "arctan2", "atan2", "cos", "cosh", "divide",
        "true_divide", "exp", "exp2", "expm1", "float_power", "power", "log10", "log2",
        "log1p", "reciprocal", "rint", "sign", "sin", "sinc", "sinh", "sqrt", "tan",
        "tanh")},
    **{(n, _C, "jit"): "complex functions under jit: infinite and NaN parts (IREE's "
       "complex kernels), branch cuts at -0 parts" for n in (
        "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh",
        "asin", "asinh", "atan", "atanh", "arctan2", "atan2", "cos", "cosh", "exp",
        "float_power", "power", "log1p", "sin", "sinh", "sqrt")},
    **{(n, _C, m): "complex logaddexp is not implemented (lax.add of complex and float)"
       for n in ("logaddexp", "logaddexp2") for m in ("eager", "jit")},
}


def _args(name, dt):
  v = _values(dt)
  if name in ("gcd", "lcm") and dt.kind == "i":  # JAX's Euclid loop never ends on INT_MIN
    v = v[v != np.iinfo(dt).min]
  if _arity(name) == 1:
    return (v,)
  if name == "ldexp":  # (the exponent must be an integer)
    e = np.array([0, 1, -1, 3, -3, 200, -200], np.int32)
    x, y = (a.ravel() for a in np.meshgrid(v, e, indexing="ij"))
    return x, y
  x, y = (a.ravel() for a in np.meshgrid(v, v, indexing="ij"))
  return x, y


def _leaves(out, tree):
  return [np.asarray(o) for o in tree.leaves(out)]


def _mismatches(ref, got):
  """Indices where ``got`` differs from JAX's ``ref``."""
  if got.dtype != ref.dtype or got.shape != ref.shape:
    return f"dtype/shape {got.dtype}{got.shape}, JAX {ref.dtype}{ref.shape}"
  return special_mismatches(ref, got, 4e-6)


def _report(name, dt, mode, args, refs, gots):
  msgs = []
  if len(refs) != len(gots):
    return [f"{name} {dt.name} {mode}: {len(gots)} outputs, JAX {len(refs)}"]
  for k, (r, g) in enumerate(zip(refs, gots)):
    bad = _mismatches(r, g)
    if isinstance(bad, str):
      msgs.append(f"{name} {dt.name} {mode} out {k}: {bad}")
    elif len(bad):
      msgs.append(f"{name} {dt.name} {mode} out {k}: " + "; ".join(
          f"{tuple(a[i] for a in args)} -> {g.ravel()[i]!r}, JAX {r.ravel()[i]!r}"
          for i in bad[:4]))
  return msgs


_REF = {}


def _reference(dt):
  """JAX's results (or error classes) for every function on ``dt``'s values."""
  if dt not in _REF:
    out = {}
    for name in NAMES:
      args = _args(name, dt)
      try:
        out[name] = _leaves(ORACLE.call(getattr(jnp, name), *args, oracle_tag=name), jax.tree)
      except Exception as e:  # noqa: BLE001  (the class is compared)
        out[name] = type(e)
    _REF[dt] = out
  return _REF[dt]


@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: d.name)
def test_ufuncs_eager_match_jax(dt):
  ref = _reference(dt)
  msgs = []
  for name in NAMES:
    if (name, dt.name, "eager") in KNOWN:
      continue
    args = _args(name, dt)
    try:
      got = _leaves(getattr(pufuncs, name)(*args), pyjax.tree)
    except Exception as e:  # noqa: BLE001
      if not (isinstance(ref[name], type) and same_error_class(type(e), ref[name])):
        msgs.append(f"{name} {dt.name} eager: raised {type(e).__name__}: {e}; JAX "
                    f"{ref[name] if isinstance(ref[name], type) else 'ok'}")
      continue
    if isinstance(ref[name], type):
      msgs.append(f"{name} {dt.name} eager: no error, JAX raised {ref[name].__name__}")
      continue
    msgs += _report(name, dt, "eager", args, ref[name], got)
  assert not msgs, "\n".join(msgs)


def _jit_chunks(dt):
  ref = _reference(dt)
  names = [n for n in NAMES if not isinstance(ref[n], type) and (n, dt.name, "jit")
           not in KNOWN]
  return [names[i:i + _CHUNK] for i in range(0, len(names), _CHUNK)]


# IREE's compile time grows with the square of a program's size: programs of ~20
# functions compile faster in all than one of ~100.
_CHUNK = 20
# (uint8 and bool run eagerly only: their jit programs repeat int32's lowering, and the
# CI time budget is tight)
_JIT_DTYPES = [np.dtype(t) for t in (np.float32, np.int32, np.complex64)]
_JIT_CASES = [(dt, k) for dt in _JIT_DTYPES for k in range(
    -(-len([n for n in NAMES if (n, dt.name, "jit") not in KNOWN]) // _CHUNK))]


@pytest.mark.parametrize("dt,chunk", _JIT_CASES, ids=lambda v: getattr(v, "name", str(v)))
def test_ufuncs_jit_match_jax(dt, chunk):
  """A compiled program holds the chunk's functions (those JAX accepts for ``dt``)."""
  chunks = _jit_chunks(dt)
  if chunk >= len(chunks):
    return  # (the functions JAX rejects for dt leave fewer chunks)
  names = chunks[chunk]
  ref = _reference(dt)
  args = [_args(n, dt) for n in names]

  def many(*flat):
    outs, i = [], 0
    for n, a in zip(names, args):
      outs.append(getattr(pufuncs, n)(*flat[i:i + len(a)]))
      i += len(a)
    return outs

  got = pyjax.jit(many)(*[a for aa in args for a in aa])
  msgs = []
  for n, a, g in zip(names, args, got):
    msgs += _report(n, dt, "jit", a, ref[n], _leaves(g, pyjax.tree))
  assert not msgs, "\n".join(msgs)


def test_known_differences_still_differ():
  """Each KNOWN difference is still there (the jit ones in one program per dtype)."""
  fixed, jitted = [], {}
  for (name, dtn, mode) in KNOWN:
    dt = np.dtype(dtn)
    if mode == "jit":
      jitted.setdefault(dt, []).append(name)
      continue
    args, ref = _args(name, dt), _reference(dt)[name]
    try:
      got = _leaves(getattr(pufuncs, name)(*args), pyjax.tree)
    except Exception:  # noqa: BLE001
      continue
    if not isinstance(ref, type) and not _report(name, dt, mode, args, ref, got):
      fixed.append((name, dtn, mode))
  for dt, names in jitted.items():
    ref = _reference(dt)
    names = [n for n in names if not isinstance(ref[n], type)]
    args = [_args(n, dt) for n in names]

    def many(*flat, names=names, args=args):
      outs, i = [], 0
      for n, a in zip(names, args):
        try:
          outs.append(getattr(pufuncs, n)(*flat[i:i + len(a)]))
        except Exception:  # noqa: BLE001  (still not implemented: still different)
          outs.append(None)
        i += len(a)
      return outs
    got = pyjax.jit(many)(*[a for aa in args for a in aa])
    for n, a, g in zip(names, args, got):
      if g is not None and not _report(n, dt, "jit", a, ref[n], _leaves(g, pyjax.tree)):
        fixed.append((n, dt.name, "jit"))
  assert not fixed, f"fixed (remove from KNOWN): {fixed}"


def test_public_ufunc_names_are_the_module_functions():
  """jnp's names call these functions (directly, or through a jnp.ufunc object)."""
  for name in NAMES:
    f = getattr(pjnp, name)
    assert f is getattr(pufuncs, name) or f._call is getattr(pufuncs, name), name

"""jax.scipy.ndimage.map_coordinates, and the small modules beside it:
integrate.trapezoid, interpolate.RegularGridInterpolator (a pytree) and cluster.vq.vq.
One table: values vs JAX (one jax.jit program) and SciPy, all cases jitted in one
program vs eager, grads vs JAX's and finite differences, vmap vs a loop, namespaces,
JAX's errors."""
import numpy as np
import pytest
import scipy.cluster.vq as svq
import scipy.integrate as sint
import scipy.interpolate as sinterp
import scipy.ndimage as snd

import pyjax
import pyjax.scipy as psp
from pyjax.test_util import check_grads
from util import check_close, enable_x64, same_error_class, square_sum_loss

jax = pytest.importorskip("jax")
import jax.scipy as jsp  # noqa: E402
import jax.scipy.cluster.vq  # noqa: E402,F401
import jax.scipy.integrate  # noqa: E402,F401
import jax.scipy.interpolate  # noqa: E402,F401
import jax.scipy.ndimage  # noqa: E402,F401

_rng = np.random.default_rng(2)
IMG = _rng.standard_normal((5, 6)).astype(np.float32)
IMGI = (IMG * 10).astype(np.int32)
CO = np.stack([_rng.uniform(-3, 8, (4, 3)), _rng.uniform(-3, 9, (4, 3))]).astype(np.float32)
Y = _rng.standard_normal((3, 7)).astype(np.float32)
XS = np.sort(_rng.standard_normal(7)).astype(np.float32)
G0 = np.linspace(0, 1, 5).astype(np.float32)
G1 = np.array([0, .5, 2, 3], np.float32)
V = _rng.standard_normal((5, 4, 2)).astype(np.float32)
PTS = _rng.uniform(-.2, 3.2, (6, 2)).astype(np.float32)
OBS = _rng.standard_normal((10, 3)).astype(np.float32)
CB = _rng.standard_normal((4, 3)).astype(np.float32)
MODES = ["constant", "nearest", "wrap", "mirror", "reflect"]
SND_MODE = {"constant": "grid-constant", "wrap": "grid-wrap"}   # SciPy's matching names


def _mc(order, mode):
  return lambda m, im, co: m.ndimage.map_coordinates(im, list(co), order, mode=mode,
                                                     cval=1.5)


def _mc_ref(order, mode):
  return lambda im, co: snd.map_coordinates(im, co, order=order, cval=1.5,
                                            mode=SND_MODE.get(mode, mode))


def _rgi(method, fill_value=np.nan):
  return lambda m, v, pts: m.interpolate.RegularGridInterpolator(
      (G0, G1), v, method=method, fill_value=fill_value)(pts)


def _rgi_ref(method, fill_value=np.nan):
  return lambda v, pts: sinterp.RegularGridInterpolator(
      (G0, G1), v, method=method, bounds_error=False, fill_value=fill_value)(pts)


# (id, function of (module, *arrays), arrays, SciPy's function or None, differentiable)
CASES = (
    [(f"map_coordinates_{o}_{md}", _mc(o, md), (IMG, CO), _mc_ref(o, md), o == 1)
     for o in (0, 1) for md in MODES]
    + [(f"map_coordinates_int_{o}_{md}", _mc(o, md), (IMGI, CO), None, False)
       for o in (0, 1) for md in ("constant", "reflect")]
    + [("trapezoid", lambda m, y: m.integrate.trapezoid(y), (Y,), sint.trapezoid, True),
       ("trapezoid_x", lambda m, y, x: m.integrate.trapezoid(y, x), (Y, XS),
        sint.trapezoid, True),
       ("trapezoid_dx_axis0", lambda m, y: m.integrate.trapezoid(y, dx=0.5, axis=0), (Y,),
        lambda y: sint.trapezoid(y, dx=0.5, axis=0), True),
       ("rgi_linear", _rgi("linear"), (V, PTS), _rgi_ref("linear"), True),
       ("rgi_nearest", _rgi("nearest"), (V, PTS), _rgi_ref("nearest"), False),
       ("rgi_linear_fill0", _rgi("linear", 0.0), (V[..., 0], PTS),
        _rgi_ref("linear", 0.0), True),
       ("rgi_nearest_nofill", _rgi("nearest", None), (V[..., 0], PTS),
        _rgi_ref("nearest", None), False),
       ("vq", lambda m, o, c: m.cluster.vq.vq(o, c), (OBS, CB), svq.vq, False),
       ("vq_1d", lambda m, o, c: m.cluster.vq.vq(o[:, 0], c[:, 0]), (OBS, CB),
        lambda o, c: svq.vq(o[:, :1], c[:, :1]), False)])
IDS = [c[0] for c in CASES]
GRADS = [c for c in CASES if c[4]]


@pytest.fixture(scope="module")
def jax_ref():
  """JAX's values and gradients (w.r.t. the first array) of every case, one jax.jit."""
  def prog(args):
    vals = [f(jsp, *a) for (_, f, _, _, _), a in zip(CASES, args)]
    grads = [jax.grad(square_sum_loss(f, jsp))(*a)
             for (_, f, _, _, d), a in zip(CASES, args) if d]
    return vals, grads
  return jax.jit(prog)([a for _, _, a, _, _ in CASES])


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_eager_vs_jax_and_scipy(i, jax_ref):
  name, f, args, ref, _ = CASES[i]
  ours, theirs = f(psp, *args), jax_ref[0][i]
  if not isinstance(ours, tuple):
    ours, theirs = (ours,), (theirs,)
  for o, t in zip(ours, theirs, strict=True):
    assert o.dtype == t.dtype and o.shape == t.shape, (o.dtype, t.dtype, o.shape, t.shape)
    check_close(o, t, rtol=2e-6, atol=1e-6)
  if ref is not None:
    want = ref(*args)
    for o, w in zip(ours, want if isinstance(want, tuple) else (want,)):
      check_close(o, np.asarray(w).astype(o.dtype), rtol=2e-5, atol=2e-5)


def test_jit_vs_eager_one_program():
  def prog(args):
    return [f(psp, *a) for (_, f, _, _, _), a in zip(CASES, args)]
  args = [a for _, _, a, _, _ in CASES]
  for name, j, e in zip(IDS, pyjax.jit(prog)(args), prog(args)):
    check_close(list(j) if isinstance(j, tuple) else j,
                list(e) if isinstance(e, tuple) else e, rtol=2e-6, atol=1e-6,
                check_dtype=True, err_msg=name)


def test_grad_vs_jax(jax_ref):
  for (name, f, args, _, _), theirs in zip(GRADS, jax_ref[1]):
    check_close(pyjax.grad(square_sum_loss(f, psp))(*args), theirs, rtol=1e-5, atol=1e-5,
                err_msg=name)


def test_grad_finite_differences_x64():
  with enable_x64():
    for name, f, args, _, _ in GRADS:
      if name == "rgi_linear":   # NaN-filled outside the grid: finite differences are NaN
        continue
      a64 = tuple(a.astype(np.float64) for a in args)
      # (away from the kinks of linear interpolation: the coordinates stay fixed)
      check_grads(lambda a: f(psp, a, *a64[1:]), a64[:1], order=1, modes=("fwd", "rev"))


def test_vmap_vs_loop():
  for name, f, args, _, _ in CASES[::2]:
    xb = np.stack([args[0], 2 * args[0], args[0][::-1]])
    g = lambda a: f(psp, a, *args[1:])  # noqa: E731
    got = pyjax.vmap(g)(xb)
    want = [g(xb[i]) for i in range(3)]
    if isinstance(got, tuple):
      for k, leaf in enumerate(got):
        check_close(leaf, np.stack([np.asarray(w[k]) for w in want]), err_msg=name)
    else:
      check_close(got, np.stack([np.asarray(w) for w in want]), rtol=2e-6, atol=1e-6,
                  err_msg=name)


def test_interpolator_is_a_pytree():
  interp = psp.interpolate.RegularGridInterpolator((G0, G1), V, method="nearest")
  leaves, tree = pyjax.tree_util.tree_flatten(interp)
  assert len(leaves) == 4   # two grid arrays, values, fill_value
  back = pyjax.tree_util.tree_unflatten(tree, leaves)
  assert back.method == "nearest" and back.bounds_error is False
  out = pyjax.jit(lambda it, p: it(p))(interp, PTS)
  check_close(out, interp(PTS))
  jinterp = jsp.interpolate.RegularGridInterpolator((G0, G1), V, method="nearest")
  assert len(jax.tree_util.tree_leaves(jinterp)) == len(leaves)


def test_namespaces():
  for name in ["ndimage", "integrate", "interpolate", "cluster", "cluster.vq"]:
    ours, theirs = psp, jsp
    for part in name.split("."):
      ours, theirs = getattr(ours, part), getattr(theirs, part)
    assert sorted(ours.__all__) == sorted(n for n in dir(theirs) if not n.startswith("_"))


ERRORS = [
    ("mc_len", lambda m: m.ndimage.map_coordinates(IMG, [CO[0]], 1)),
    ("mc_mode", lambda m: m.ndimage.map_coordinates(IMG, list(CO), 1, mode="grid-wrap")),
    ("mc_order", lambda m: m.ndimage.map_coordinates(IMG, list(CO), 3)),
    ("rgi_method", lambda m: m.interpolate.RegularGridInterpolator((G0, G1), V,
                                                                   method="cubic")),
    ("rgi_call_method", lambda m: m.interpolate.RegularGridInterpolator((G0, G1), V)(
        PTS, method="cubic")),
    ("rgi_bounds_error", lambda m: m.interpolate.RegularGridInterpolator(
        (G0, G1), V, bounds_error=True)),
    ("rgi_too_many_grids", lambda m: m.interpolate.RegularGridInterpolator(
        (G0, G1, G1), V[..., 0])),
    ("rgi_fill_complex", lambda m: m.interpolate.RegularGridInterpolator(
        (G0, G1), V, fill_value=1j)),
    ("rgi_dim", lambda m: m.interpolate.RegularGridInterpolator((G0, G1), V)(
        np.ones((2, 3), np.float32))),
    ("vq_rank", lambda m: m.cluster.vq.vq(OBS, CB[:, 0])),
    ("vq_3d", lambda m: m.cluster.vq.vq(OBS[None], CB[None])),
    ("vq_list", lambda m: m.cluster.vq.vq([1.0], CB[:, 0])),
]


@pytest.mark.parametrize("name,f", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_vs_jax(name, f):
  with pytest.raises(Exception) as theirs:
    f(jsp)
  with pytest.raises(Exception) as ours:
    f(psp)
  assert same_error_class(ours.type, theirs.type), (ours.value, theirs.value)
  gist = str(theirs.value).split(".")[0][:40].strip()
  assert gist in str(ours.value), (str(ours.value), str(theirs.value))

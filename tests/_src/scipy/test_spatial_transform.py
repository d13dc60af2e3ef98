"""jax.scipy.spatial.transform (Rotation, Slerp) against real JAX and SciPy.

One op table; the value, jit, vmap and grad tests share it."""
import contextlib
import itertools

import numpy as np
import pytest

import pyjax
import pyjax.numpy as pnp
from pyjax.scipy.spatial import transform as ptransform
from util import check_close

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
from jax.scipy.spatial import transform as jtransform  # noqa: E402

sst = pytest.importorskip("scipy.spatial.transform")

N = 5
SEQS = ["".join(p) for p in itertools.permutations("xyz")] + [
    a + b + a for a in "xyz" for b in "xyz" if a != b]
SEQS = SEQS + [s.upper() for s in SEQS]
# The sequences the Euler rows use: all 24 eagerly; under jit and grad two (each
# sequence adds ~100 small ops to a program, and compiling all 24 costs minutes).
FEW_SEQS = ["xyz", "ZXZ"]
_seqs = [SEQS]


@contextlib.contextmanager
def few_seqs():
  _seqs[0] = FEW_SEQS
  try:
    yield
  finally:
    _seqs[0] = SEQS


def _quats(rng):
  return rng.normal(size=(N, 4)).astype(np.float32)


def _mats(rng):
  return sst.Rotation.from_quat(rng.normal(size=(N, 4))).as_matrix().astype(np.float32)


def _vecs(rng):
  return rng.normal(size=(N, 3)).astype(np.float32)


def _angles(rng):
  return rng.uniform(-1.4, 1.4, size=(N, 3)).astype(np.float32)


def _euler_all(m, q, degrees):
  r = m.Rotation.from_quat(q)
  return [r.as_euler(s, degrees=degrees) for s in _seqs[0]]


def _from_euler_all(m, a, degrees):
  a = a * (57.29577951308232 if degrees else 1)
  return [m.Rotation.from_euler(s, a, degrees=degrees).as_matrix() for s in _seqs[0]]


def _slerp(m, q, t):
  r = m.Rotation.from_quat(q)
  if m is sst:
    s = sst.Slerp(np.arange(N, dtype=np.float32), r)
  else:
    s = m.Slerp.init(np.arange(N, dtype=np.float32), r)
  return s(t[:, 0] * 0 + np.linspace(0, N - 1, N, dtype=np.float32)).as_matrix()


# (name, fn(module, *inputs), input makers, scipy too, vmap, grad). ``module`` is a
# transform module (ours, JAX's or SciPy's); fn returns an array or list of arrays.
OPS = [
    ("quat", lambda m, q: m.Rotation.from_quat(q).as_quat(), [_quats], False, True, True),
    ("quat-canonical", lambda m, q: m.Rotation.from_quat(q).as_quat(
        canonical=True, scalar_first=True), [_quats], True, True, True),
    ("as_matrix", lambda m, q: m.Rotation.from_quat(q).as_matrix(), [_quats], True, True,
     True),
    ("from_matrix", lambda m, x: m.Rotation.from_matrix(x).as_matrix(), [_mats], True,
     True, False),
    ("rotvec", lambda m, q: m.Rotation.from_quat(q).as_rotvec(), [_quats], True, True,
     True),
    ("rotvec-deg", lambda m, q: m.Rotation.from_quat(q).as_rotvec(degrees=True),
     [_quats], True, True, True),
    ("from_rotvec", lambda m, v: m.Rotation.from_rotvec(v).as_matrix(), [_vecs], True,
     True, True),
    ("from_rotvec-deg", lambda m, v: m.Rotation.from_rotvec(v * 50, degrees=True
                                                            ).as_matrix(), [_vecs], True,
     True, True),
    ("as_euler", lambda m, q: _euler_all(m, q, False), [_quats], True, True, True),
    ("as_euler-deg", lambda m, q: _euler_all(m, q, True), [_quats], True, True, False),
    ("from_euler", lambda m, a: _from_euler_all(m, a, False), [_angles], True, True,
     True),
    ("from_euler-deg", lambda m, a: _from_euler_all(m, a, True), [_angles], True, True,
     False),
    ("mrp", lambda m, q: m.Rotation.from_quat(q).as_mrp(), [_quats], True, True, True),
    ("from_mrp", lambda m, v: m.Rotation.from_mrp(v * 0.3).as_matrix(), [_vecs], True,
     True, True),
    ("apply", lambda m, q, v: m.Rotation.from_quat(q).apply(v), [_quats, _vecs], True,
     True, True),
    ("apply-inverse", lambda m, q, v: m.Rotation.from_quat(q).apply(v, inverse=True),
     [_quats, _vecs], True, True, True),
    ("inv", lambda m, q: m.Rotation.from_quat(q).inv().as_matrix(), [_quats], True, True,
     True),
    ("magnitude", lambda m, q: m.Rotation.from_quat(q).magnitude(), [_quats], True, True,
     True),
    ("mul", lambda m, p, q: (m.Rotation.from_quat(p) * m.Rotation.from_quat(q)
                             ).as_matrix(), [_quats, _quats], True, True, True),
    ("mean", lambda m, q, v: m.Rotation.from_quat(q).mean(v[:, 0] ** 2).as_matrix(),
     [_quats, _vecs], True, False, False),
    ("getitem-concat", lambda m, q: m.Rotation.concatenate(
        [m.Rotation.from_quat(q)[1:3], m.Rotation.from_quat(q)[:1]]).as_matrix(),
     [_quats], True, False, True),
    ("slerp", _slerp, [_quats, _vecs], True, False, False),
]
IDS = [o[0] for o in OPS]


def _inputs(rng, op):
  return [mk(rng) for mk in op[2]]


def _ours(op, *xs):
  return op[1](ptransform, *(pnp.asarray(x) for x in xs))


def _theirs(op, *xs):
  return op[1](jtransform, *(jnp.asarray(x) for x in xs))


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_vs_jax_and_scipy(op, rng):
  xs = _inputs(rng, op)
  ours = _ours(op, *xs)
  check_close(ours, _theirs(op, *xs), rtol=2e-5, atol=2e-5, check_dtype=True)
  if op[3]:
    ref = op[1](sst, *(x.astype(np.float64) for x in xs))
    check_close(ours, ref, rtol=1e-4, atol=1e-4)


@pytest.fixture(scope="module")
def jitted():
  """Every row's inputs and jitted outputs, from one compiled program."""
  rng = np.random.default_rng(1)
  inputs = [_inputs(rng, op) for op in OPS]
  with few_seqs():
    outs = pyjax.jit(lambda ins: [_ours(op, *xs) for op, xs in zip(OPS, ins)])(inputs)
    eager = [_ours(op, *xs) for op, xs in zip(OPS, inputs)]
  return outs, eager


@pytest.mark.parametrize("i", range(len(OPS)), ids=IDS)
def test_jit(jitted, i):
  outs, eager = jitted
  check_close(outs[i], eager[i], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("op", [o for o in OPS if o[4]], ids=[o[0] for o in OPS if o[4]])
def test_vmap(op, rng):
  xs = _inputs(rng, op)
  got = pyjax.vmap(lambda *a: _ours(op, *a))(*(pnp.asarray(x) for x in xs))
  for b in range(2):
    one = _ours(op, *(x[b] for x in xs))
    check_close(pyjax.tree_util.tree_map(lambda t: t[b], got), one, rtol=1e-5,
                atol=1e-5)


@pytest.mark.parametrize("op", [o for o in OPS if o[5]], ids=[o[0] for o in OPS if o[5]])
def test_grad(op, rng):
  xs = _inputs(rng, op)

  def loss(mod, fn, np_):
    def f(x0, *rest):
      out = fn(op, x0, *rest)
      leaves = out if isinstance(out, list) else [out]
      return sum(np_.sum(np_.sin(leaf)) for leaf in leaves)
    return f

  with few_seqs():
    ours = pyjax.grad(loss(ptransform, _ours, pnp))(*(pnp.asarray(x) for x in xs))
    ref = jax.grad(loss(jtransform, _theirs, jnp))(*(jnp.asarray(x) for x in xs))
  check_close(ours, ref, rtol=1e-4, atol=1e-4)


def test_pytree_and_misc():
  q = pnp.asarray(np.eye(4, dtype=np.float32))
  r = ptransform.Rotation.from_quat(q)
  leaves, tree = pyjax.tree_util.tree_flatten(r)
  assert len(leaves) == 1 and leaves[0].shape == (4, 4)
  assert pyjax.tree_util.tree_unflatten(tree, leaves).quat.shape == (4, 4)
  assert len(r) == 4 and not r.single and r[0].single
  s = ptransform.Slerp.init([0., 1., 2., 3.], r)
  assert len(pyjax.tree_util.tree_leaves(s)) == 4
  out = pyjax.jit(lambda rot: rot.inv())(r)
  assert isinstance(out, ptransform.Rotation)
  check_close(ptransform.Rotation.identity().as_quat(),
              jtransform.Rotation.identity().as_quat(), check_dtype=True)
  assert s(1.5).single
  check_close(s(1.5).as_matrix(), jtransform.Slerp.init(
      jnp.arange(4.), jtransform.Rotation.from_quat(jnp.eye(4)))(1.5).as_matrix(),
      rtol=1e-6, atol=1e-6)


def test_errors():
  P, J = ptransform, jtransform
  qp, qj = pnp.ones(4), jnp.ones(4)
  cases = [
      lambda m, q: m.Rotation.from_euler("xyzx", [1., 2., 3., 4.]),
      lambda m, q: m.Rotation.from_euler("xYz", [1., 2., 3.]),
      lambda m, q: m.Rotation.from_euler("xxy", [1., 2., 3.]),
      lambda m, q: m.Rotation.from_quat(q).as_euler("xy"),
      lambda m, q: m.Rotation.from_quat(q).as_euler("xYz"),
      lambda m, q: m.Rotation.from_quat(q).as_euler("xxz"),
      lambda m, q: m.Rotation.from_quat(q)[0],
      lambda m, q: len(m.Rotation.from_quat(q)),
      lambda m, q: m.Rotation.random(None),
      lambda m, q: m.Slerp.init([0., 1.], q),
      lambda m, q: m.Slerp.init([0.], m.Rotation.from_quat(q[None])),
      lambda m, q: m.Slerp.init([0., 1., 2.], m.Rotation.from_quat(m_stack(m, q))),
      lambda m, q: m.Rotation.from_quat(m_stack(m, q)).mean(weights=[1.]),
  ]
  for case in cases:
    with pytest.raises(Exception) as ours:
      case(P, qp)
    with pytest.raises(Exception) as ref:
      case(J, qj)
    assert type(ours.value) is type(ref.value)
    assert str(ours.value) == str(ref.value)


def m_stack(m, q):
  return (pnp if m is ptransform else jnp).stack([q, q])


def test_public_names():
  assert sorted(ptransform.__all__) == sorted(
      n for n in dir(jtransform) if not n.startswith("_"))
  for name in ("Rotation", "Slerp"):
    assert ({n for n in dir(getattr(jtransform, name)) if not n.startswith("_")}
            == {n for n in dir(getattr(ptransform, name)) if not n.startswith("_")})

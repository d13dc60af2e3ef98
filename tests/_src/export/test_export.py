"""jax.export against JAX 0.10.2: symbolic shapes (printing, arithmetic, decisions,
errors), Exported's fields and reprs, calling (eagerly, under jit and grad; JAX's
errors), shape-polymorphic exports, and pyjax's own serialization (JAX's needs
flatbuffers, absent here): round trip, damaged bytes, a call in a fresh process."""
import collections
import hashlib
import json
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax import export
from util import check_close

jax = pytest.importorskip("jax")
jjnp = pytest.importorskip("jax.numpy")
jexport = pytest.importorskip("jax.export")


def _outcome(fn):
  try:
    return ("ok", str(fn()))
  except Exception as e:  # the class name and message must match JAX's
    return (type(e).__name__, re.sub(r"scope \d+", "scope N", str(e).split(" at ")[0]))


# ---------------------------------------------------------------- symbolic shapes

_EXPRS = [
    lambda a, b, c: b + 1, lambda a, b, c: 2 * b, lambda a, b, c: b * 2 + 3,
    lambda a, b, c: 1 - b, lambda a, b, c: b * b, lambda a, b, c: -b,
    lambda a, b, c: (b + 1) * (b - 1), lambda a, b, c: a + c, lambda a, b, c: c + a,
    lambda a, b, c: a * c + 2 * a - 3, lambda a, b, c: 2 - a * c,
    lambda a, b, c: (a + c) * (a + c), lambda a, b, c: a - a, lambda a, b, c: 0 * a,
    lambda a, b, c: b % 2, lambda a, b, c: 6 // b, lambda a, b, c: (2 * b) // 2,
    lambda a, b, c: (2 * b + 4) // 2, lambda a, b, c: b // 2 + 1, lambda a, b, c: b ** 2,
    lambda a, b, c: b >= 1, lambda a, b, c: b > 0, lambda a, b, c: b == b,
    lambda a, b, c: b != 1, lambda a, b, c: b == 3, lambda a, b, c: b == b + 1,
    lambda a, b, c: 1 <= b, lambda a, b, c: b <= b + 1, lambda a, b, c: b < b + 1,
    lambda a, b, c: b > 3, lambda a, b, c: b < 3, lambda a, b, c: 3 > b,
    lambda a, b, c: a < c, lambda a, b, c: a + c == c + a, lambda a, b, c: int(b),
    lambda a, b, c: b - 1 >= 0, lambda a, b, c: 2 * a - a > 0,
    lambda a, b, c: b * 1.5, lambda a, b, c: b + 1.5, lambda a, b, c: b / 2,
    lambda a, b, c: 1.5 * b, lambda a, b, c: 2 / b,
]


def test_symbolic_dims_as_jax():
  ours = export.symbolic_shape("a, b, c")
  theirs = jexport.symbolic_shape("a, b, c")
  for i, fn in enumerate(_EXPRS):
    assert _outcome(lambda: fn(*ours)) == _outcome(lambda: fn(*theirs)), i
  assert export.is_symbolic_dim(ours[0]) and not export.is_symbolic_dim(3)
  b1, b2 = export.symbolic_shape("b")[0], export.symbolic_shape("b")[0]
  assert b1 != b2 and hash(ours[1]) == hash(ours[1])  # other scope: another variable


_CONSTRAINED = [
    lambda b, c: b >= 16, lambda b, c: b >= 10, lambda b, c: b > 16, lambda b, c: b < 16,
    lambda b, c: c <= 9, lambda b, c: c < 8, lambda b, c: c >= 1, lambda b, c: b - c >= 8,
    lambda b, c: b <= 2000, lambda b, c: b < 1000, lambda b, c: 2 * b >= 32,
    lambda b, c: b * c >= 16, lambda b, c: b + c >= 17]


def test_symbolic_constraints_as_jax():
  cs = ("b >= 16", "c <= 8", "b <= 1024")
  ours, theirs = export.symbolic_shape("b, c", constraints=cs), \
      jexport.symbolic_shape("b, c", constraints=cs)
  for i, fn in enumerate(_CONSTRAINED):
    assert _outcome(lambda: fn(*ours)) == _outcome(lambda: fn(*theirs)), i
  for cs in [("b == 3",), ("b >= c",), ("b > 3",), ("c == 2*b",), ("b",)]:
    assert _outcome(lambda: export.symbolic_shape("b, c", constraints=cs)) == \
        _outcome(lambda: jexport.symbolic_shape("b, c", constraints=cs))
  ours, theirs = (t.symbolic_shape("b, c", constraints=("b >= c",))
                  for t in (export, jexport))
  for fn in (lambda b, c: b >= c, lambda b, c: b + 1 > c, lambda b, c: c >= b):
    assert _outcome(lambda: fn(*ours)) == _outcome(lambda: fn(*theirs))


@pytest.mark.parametrize("spec", [
    "b, 784", "(b, 3)", "", "2*b + 1, b", "b*b, 3", "b^2 - 1, -b + 3", "a, a + c",
    "floordiv(b, 2), mod(b, 3)", "b,", "b +", "2b", "b, c...", "b, , 3", "b, (c",
    "b ^ 2", "b^c", "b) ", "b * ", "3 b", "b, c)", "b - -c", "floordiv(b)", "b , 3 3"])
def test_symbolic_shape_parsing(spec):
  assert _outcome(lambda: export.symbolic_shape(spec)) == \
      _outcome(lambda: jexport.symbolic_shape(spec))


def test_symbolic_args_specs():
  x = np.zeros((3, 4), np.float32)
  ours = export.symbolic_args_specs((x, {"k": x}), "b, 4")
  theirs = jexport.symbolic_args_specs((x, {"k": x}), "b, 4")
  assert repr(ours) == repr(theirs)
  assert repr(export.symbolic_args_specs(x, "_, b")) == \
      repr(jexport.symbolic_args_specs(x, "_, b"))


# ---------------------------------------------------------------- exporting and calling

W = np.random.RandomState(0).randn(12, 5).astype(np.float32)
X = np.random.RandomState(1).randn(4, 12).astype(np.float32)
P = {"b": np.linspace(-1, 1, 5).astype(np.float32)}


def _mlp(np_):
  def predict(p, x):
    return {"y": np_.tanh(x @ W + p["b"]), "n": (x.sum(),)}
  return predict


def _fields(exp):
  return (repr(exp.in_avals), repr(exp.out_avals), repr(exp.in_tree), repr(exp.out_tree),
          exp.fun_name, exp.platforms, exp.nr_devices, exp.in_shardings_hlo,
          exp.out_shardings_hlo, exp.ordered_effects, exp.unordered_effects,
          tuple(exp.disabled_safety_checks), exp.calling_convention_version,
          exp.module_kept_var_idx, exp.uses_global_constants, str(exp))


@pytest.fixture(scope="module")
def mlp():
  ours = export.export(pyjax.jit(_mlp(jnp)))(P, X)
  theirs = jexport.export(jax.jit(_mlp(jjnp)))(P, X)
  return ours, theirs


def test_exported_fields(mlp):
  ours, theirs = mlp
  assert _fields(ours) == _fields(theirs)
  assert ours.mlir_module().startswith("module @jit_predict")
  assert "func.func public @main" in ours.mlir_module()
  assert ours.in_shardings_jax(None) == (None, None) and ours.has_vjp()
  weak = export.export(pyjax.jit(lambda x, s: x * s))(np.float32(1), 2.0)
  jweak = jexport.export(jax.jit(lambda x, s: x * s))(np.float32(1), 2.0)
  assert _fields(weak) == _fields(jweak)
  for t, e in ((pyjax, export), (jax, jexport)):  # static arguments: not in in_tree
    f = t.jit(lambda x, n, mode="a": x * n if mode == "a" else x + n,
              static_argnums=1, static_argnames="mode")
    spec = t.ShapeDtypeStruct(e.symbolic_shape("b, 3"), np.float32)
    if t is pyjax:
      ours_st = (e.export(f)(X[:2, :3], 3, mode="b"), e.export(f)(spec, 3, mode="b"))
    else:
      theirs_st = (e.export(f)(X[:2, :3], 3, mode="b"), e.export(f)(spec, 3, mode="b"))
  for o, t in zip(ours_st, theirs_st):
    assert _fields(o) == _fields(t)
  assert sorted(export.__all__) == sorted(jexport.__all__)
  assert export.default_export_platform() == "cpu"
  assert export.maximum_supported_calling_convention_version == \
      jexport.maximum_supported_calling_convention_version


def test_call_eager_jit_grad(mlp):
  ours, theirs = mlp

  def loss(call):
    return lambda p: call(p, X)["y"].sum()
  r, jr = ours.call(P, X), theirs.call(P, X)
  check_close(r["y"], jr["y"], scale=4)
  check_close(r["n"][0], jr["n"][0], scale=4)
  jg = jax.grad(loss(theirs.call))(P)["b"]
  check_close(pyjax.grad(loss(ours.call))(P)["b"], jg, scale=4)
  # jit of the call and of its gradient: one program
  y, g = pyjax.jit(lambda p: (ours.call(p, X)["y"], pyjax.grad(loss(ours.call))(p)))(P)
  check_close(y, jr["y"], scale=4)
  check_close(g["b"], jg, scale=4)


def test_call_errors(mlp):
  ours, theirs = mlp
  bad = [lambda e, t: e.call(P, X[:3]), lambda e, t: e.call(P, X.astype(np.int32)),
         lambda e, t: e.call(P, X[0]), lambda e, t: e.call(P), lambda e, t: e.call([P], X),
         lambda e, t: e.call(P, x=X), lambda e, t: t.vmap(e.call, in_axes=(None, 0))(
             P, np.stack([X, X]))]
  for i, fn in enumerate(bad):
    assert _outcome(lambda: fn(ours, pyjax)) == _outcome(lambda: fn(theirs, jax)), i
  assert _outcome(lambda: export.export(_mlp(jnp))(P, X)) == \
      _outcome(lambda: jexport.export(_mlp(jjnp))(P, X))


def test_platforms():
  cuda = dict(platforms=("cuda",))
  for checks in [(), (export.DisabledSafetyCheck.platform(),)]:
    ours = export.export(pyjax.jit(_mlp(jnp)), **cuda, disabled_checks=checks)(P, X)
    theirs = jexport.export(jax.jit(_mlp(jjnp)), **cuda, disabled_checks=[
        jexport.DisabledSafetyCheck.platform() for _ in checks])(P, X)
    assert ours.platforms == theirs.platforms
    if checks:
      check_close(ours.call(P, X)["y"], theirs.call(P, X)["y"], scale=4)
    else:
      assert _outcome(lambda: ours.call(P, X)) == _outcome(lambda: theirs.call(P, X))
  with pytest.raises(NotImplementedError, match="tpu"):
    export.export(pyjax.jit(_mlp(jnp)), platforms=("tpu",))(P, X)


# ---------------------------------------------------------------- shape polymorphism


def test_symbolic_export():
  def g(np_):
    return lambda x, y: (np_.sin(x).sum(0), np_.concatenate([x, x]), y["k"] * 2,
                         x.reshape(-1))
  y = {"k": np.int32(1)}
  ours = export.export(pyjax.jit(g(jnp)))(
      pyjax.ShapeDtypeStruct(export.symbolic_shape("b, 3"), np.float32), y)
  theirs = jexport.export(jax.jit(g(jjnp)))(
      jax.ShapeDtypeStruct(jexport.symbolic_shape("b, 3"), np.float32), y)
  assert _fields(ours) == _fields(theirs)
  # The MLP with a symbolic batch: eagerly at the batch of `mlp` (the same program as
  # that export's, from the cache), under jit with its gradient at another batch.
  mlp, jmlp = (e.export(t.jit(_mlp(n)))(P, t.ShapeDtypeStruct(
      e.symbolic_shape("b, 12"), np.float32)) for e, t, n in
      ((export, pyjax, jnp), (jexport, jax, jjnp)))
  assert _fields(mlp) == _fields(jmlp)
  check_close(mlp.call(P, X)["y"], jmlp.call(P, X)["y"], scale=4)

  def loss(call):
    return lambda x: call(P, x)["y"].sum()
  out, gx = pyjax.jit(lambda x: (mlp.call(P, x), pyjax.grad(loss(mlp.call))(x)))(X[:3])
  check_close(out["y"], jmlp.call(P, X[:3])["y"], scale=4)
  check_close(gx, jax.grad(loss(jmlp.call))(X[:3]), scale=4)

  def two(np_, t):
    a, = t.export.symbolic_shape("a")
    return t.export.export(t.jit(lambda u, v: u[:, None] + v))(
        t.ShapeDtypeStruct((a,), np.float32), t.ShapeDtypeStruct((a,), np.float32))
  pairs = [(two(jnp, pyjax), two(jjnp, jax))]
  for spec, cs in [("2*b, 3", ()), ("b + 2, 3", ()), ("b, 3", ("b >= 4",)),
                   ("b, 3", ("b <= 4",))]:
    pairs.append(tuple(t.export.export(t.jit(lambda x: x * 2))(
        t.ShapeDtypeStruct(t.export.symbolic_shape(spec, constraints=cs), np.float32))
        for t in (pyjax, jax)))
  calls = [lambda e: e.call(np.zeros(3, np.float32), np.zeros(4, np.float32)),
           lambda e: e.call(np.zeros((3, 3), np.float32)),
           lambda e: e.call(np.zeros((2, 3), np.float32)),
           lambda e: e.call(np.zeros((3, 3), np.float32)),
           lambda e: e.call(np.zeros((5, 3), np.float32))]
  for (o, t), c in zip(pairs, calls):
    assert repr(o.in_avals) == repr(t.in_avals)
    assert _outcome(lambda: c(o)) == _outcome(lambda: c(t))
  assert _outcome(lambda: export.export(pyjax.jit(lambda u, v: u + v))(
      pyjax.ShapeDtypeStruct(export.symbolic_shape("a"), np.float32),
      pyjax.ShapeDtypeStruct(export.symbolic_shape("a"), np.float32)))[0] == "ValueError"
  assert _fields(export.deserialize(ours.serialize())) == _fields(ours)  # (more: serde)
  with pytest.raises(NotImplementedError, match="shape-polymorphic"):
    ours.mlir_module()
  xs = np.zeros((2, 3, 3), np.float32)
  assert _outcome(lambda: pyjax.vmap(ours.call, in_axes=(0, None))(xs, y)) == \
      _outcome(lambda: jax.vmap(theirs.call, in_axes=(0, None))(xs, y))


# ---------------------------------------------------------------- serialization


def test_serialize_round_trip(mlp):
  ours, theirs = mlp
  blob = ours.serialize(vjp_order=1)
  assert isinstance(blob, bytearray)
  back = export.deserialize(blob)
  assert _fields(back) == _fields(ours) and back.mlir_module() == ours.mlir_module()
  check_close(back.call(P, X)["y"], theirs.call(P, X)["y"], scale=4)
  check_close(pyjax.grad(lambda p: back.call(p, X)["y"].sum())(P)["b"],
              jax.grad(lambda p: theirs.call(p, X)["y"].sum())(P)["b"], scale=4)
  no_vjp = export.deserialize(ours.serialize())
  with pytest.raises(ValueError, match="No VJP is available"):
    pyjax.grad(lambda p: no_vjp.call(p, X)["y"].sum())(P)
  with pytest.raises(ValueError, match="high-enough order"):
    no_vjp.serialize(vjp_order=1)


def test_damaged_bytes(mlp):
  blob = bytes(mlp[0].serialize())
  cases = [blob[:n] for n in (0, 5, 17, 18, 100, len(blob) - 1)]
  cases += [blob[:i] + bytes([blob[i] ^ 0x40]) + blob[i + 1:]
            for i in range(0, len(blob), max(1, len(blob) // 40))]
  cases += [blob + b"\0", b"not an export at all", bytes(64)]
  for bad in cases:
    with pytest.raises(ValueError, match="not a valid pyjax serialized Exported"):
      export.deserialize(bad)
  with pytest.raises(TypeError):
    export.deserialize("text")
  # well-formed envelopes (right length and checksum) around bad payloads
  payload = json.loads(blob[18:-32])

  def pack(p):
    data = p if isinstance(p, bytes) else json.dumps(p).encode()
    return blob[:10] + struct.pack("<Q", len(data)) + data + hashlib.sha256(data).digest()
  assert export.deserialize(pack(payload)).fun_name == "predict"
  for bad in [b"{not json", b"[]", {**payload, "module": "func.func @evil"},
              {**payload, "in_avals": [[[-1], "float32", False]]},
              {**payload, "in_avals": [[[2], "no_such_dtype", False]]},
              {**payload, "in_tree": ["weird"]},
              {**payload, "calling_convention_version": 99}]:
    with pytest.raises(ValueError, match="not a valid pyjax serialized Exported"):
      export.deserialize(pack(bad))


def test_call_in_fresh_process(mlp, tmp_path):
  ours, theirs = mlp
  path = tmp_path / "mlp.exported"
  path.write_bytes(ours.serialize(vjp_order=1))
  code = (
      "import sys, numpy as np, pyjax\nfrom pyjax import export\n"
      f"e = export.deserialize(open({str(path)!r}, 'rb').read())\n"
      "x = np.random.RandomState(1).randn(4, 12).astype(np.float32)\n"
      "p = {'b': np.linspace(-1, 1, 5).astype(np.float32)}\n"
      "np.save(sys.stdout.buffer, np.asarray(e.call(p, x)['y']))\n"
      "np.save(sys.stdout.buffer, np.asarray(pyjax.grad(lambda p: "
      "e.call(p, x)['y'].sum())(p)['b']))\n")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
  import io
  buf = io.BytesIO(out.stdout)
  y, gb = np.load(buf), np.load(buf)
  check_close(y, theirs.call(P, X)["y"], scale=4)
  check_close(gb, jax.grad(lambda p: theirs.call(p, X)["y"].sum())(P)["b"], scale=4)


def test_pytree_serialization():
  x = np.ones(2, np.float32)

  class Foo:
    pass
  pyjax.tree_util.register_pytree_node(Foo, lambda f: ((), None), lambda a, c: Foo())
  with pytest.raises(ValueError, match="Cannot serialize PyTreeDef containing an "
                     "unregistered type .*Foo.*register_pytree_node_serialization"):
    export.export(pyjax.jit(lambda x: (x, Foo())))(x).serialize()
  with pytest.raises(TypeError, match="only for dictionaries with string keys"):
    export.export(pyjax.jit(lambda d: d))({1: x}).serialize()
  NT = collections.namedtuple("NT", "a b")
  export.register_namedtuple_serialization(NT, serialized_name="test_export.NT")
  with pytest.raises(ValueError, match="Duplicate serialization registration"):
    export.register_namedtuple_serialization(NT, serialized_name="other")
  od = collections.OrderedDict(z=x, a=2 * x)
  e = export.export(pyjax.jit(lambda t, d: (NT(t.b, t.a), d)))(NT(x, x[:1]), od)
  back = export.deserialize(e.serialize())
  assert back.in_tree == e.in_tree and back.out_tree == e.out_tree
  key = pyjax.random.key(0)  # (a pytree node in pyjax: its node serializes)
  e = export.export(pyjax.jit(lambda k: pyjax.random.split(k)))(key)
  back_key = export.deserialize(e.serialize())
  assert back_key.in_tree == e.in_tree and back_key.out_tree == e.out_tree
  t, d = pyjax.tree.unflatten(back.out_tree, [1, 2, 3, 4])
  assert t == NT(1, 2) and d == collections.OrderedDict(z=3, a=4) and list(d) == ["z", "a"]

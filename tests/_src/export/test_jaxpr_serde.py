"""Serialized shape-polymorphic exports (pyjax/_src/export/jaxpr_serde.py) against JAX
0.10.2's values: an MLP with a symbolic batch read back in a fresh process, control flow,
where/gather with gradients, the errors (damaged bytes, what cannot be written)."""
import hashlib
import io
import json
import struct
import subprocess
import sys

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax import export, lax
from util import check_close

jax = pytest.importorskip("jax")
jjnp = pytest.importorskip("jax.numpy")
jexport = pytest.importorskip("jax.export")
jlax = pytest.importorskip("jax.lax")

_R = np.random.RandomState(0)
W4 = np.linspace(0.5, 2, 4).astype(np.float32)
P = [(_R.randn(6, 5).astype(np.float32), _R.randn(5).astype(np.float32)),
     (_R.randn(5, 3).astype(np.float32), _R.randn(3).astype(np.float32))]


def _predict(t):
  def predict(params, x):
    for w, b in params:
      x = t.nn.relu(x @ w + b)
    return {"logp": t.nn.log_softmax(x), "mean": x.mean(axis=0)}
  return predict


def _spec(t, shape, dtype=np.float32):
  return t.ShapeDtypeStruct(t.export.symbolic_shape(shape), dtype)


def _specs(t, *shapes):
  b, = t.export.symbolic_shape("b")
  return [t.ShapeDtypeStruct(tuple(b if d == "b" else d for d in s), dt)
          for s, dt in shapes]


def _loops_gathers(t, np_, lax_):
  def f(x, idx):
    c, ys = lax_.scan(lambda c, r: (c + r.sum(), t.nn.gelu(r) * 2), 0.0, x)
    acc = lax_.fori_loop(0, x.shape[0], lambda i, a: a * 0.5 + x[i],
                         np_.zeros(x.shape[1], np.float32))
    z = np_.where(x > 0, x, 0.1 * x) * W4  # (W4: a constant array in the jaxpr)
    k = lax_.cond(x.sum() > 0, lambda z: z * 2, lambda z: z - 1, x[::-1])
    return (c, ys, acc, z[np_.arange(x.shape[0]), idx], np_.take(z, idx, axis=1),
            z.reshape(-1), np_.var(x, axis=0), np_.cumsum(x, axis=0), k,
            x.astype(np_.bfloat16) * 2)  # (a 0-d bfloat16 constant)
  return f


@pytest.fixture(scope="module")
def mlp():
  x = pyjax.ShapeDtypeStruct((export.symbolic_shape("b")[0], 6), np.float32)
  ours = export.export(pyjax.jit(_predict(pyjax)))(P, x)
  return ours, bytes(ours.serialize(vjp_order=1))


def test_mlp_in_fresh_process(mlp, tmp_path):
  _, blob = mlp
  path = tmp_path / "predict.exported"
  path.write_bytes(blob)
  xs = [_R.randn(n, 6).astype(np.float32) for n in (3, 8)]
  np.savez(tmp_path / "in.npz", *[a for wb in P for a in wb], *xs)
  code = (  # (the reading process never sees the Python function)
      "import sys, numpy as np, pyjax\nfrom pyjax import export\n"
      f"e = export.deserialize(open({str(path)!r}, 'rb').read())\n"
      f"d = np.load({str(tmp_path / 'in.npz')!r}); a = [d[f'arr_{{i}}'] for i in "
      "range(6)]\np = [(a[0], a[1]), (a[2], a[3])]\n"
      "for x in a[4:]:\n"
      "  r = e.call(p, x)\n"
      "  np.save(sys.stdout.buffer, np.asarray(r['logp']))\n"
      "  np.save(sys.stdout.buffer, np.asarray(r['mean']))\n"
      "sys.stdout.buffer.write(bytes(e.serialize(vjp_order=1)))\n")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
  buf = io.BytesIO(out.stdout)
  got = [np.load(buf) for _ in range(4)]
  assert buf.read() == blob  # (written back, the same bytes)
  jpredict = jax.jit(_predict(jax))
  for i, x in enumerate(xs):
    want = jpredict(P, x)
    check_close(got[2 * i], want["logp"], scale=4)
    check_close(got[2 * i + 1], want["mean"], scale=4)


def test_mlp_read_back(mlp):
  ours, blob = mlp
  back = export.deserialize(blob)
  assert repr(back.in_avals) == repr(ours.in_avals) and back.out_tree == ours.out_tree
  assert repr(back.out_avals) == "(ShapedArray(float32[b,3]), ShapedArray(float32[3]))"
  x = _R.randn(5, 6).astype(np.float32)
  want = jax.jit(_predict(jax))(P, x)
  got = pyjax.jit(back.call)(P, x)  # (under jit: inlined)
  check_close([got["logp"], got["mean"]], [want["logp"], want["mean"]], scale=4)
  # eagerly through the serialized VJP (not under jit: pyjax's jit(grad(log_softmax))
  # is wrong on main, a bug outside export)
  loss = lambda call: lambda p: call(p, x)["logp"].sum()
  check_close(pyjax.grad(loss(back.call))(P), jax.grad(loss(jax.jit(_predict(jax))))(P),
              scale=4)
  theirs = jexport.export(jax.jit(_predict(jax)))(
      P, jax.ShapeDtypeStruct((jexport.symbolic_shape("b")[0], 6), np.float32))
  for bad in [np.zeros((5, 7), np.float32), np.zeros((5, 6), np.int32)]:
    with pytest.raises(ValueError) as ours_err:
      back.call(P, bad)
    with pytest.raises(ValueError) as their_err:
      theirs.call(P, bad)
    assert str(ours_err.value) == str(their_err.value)
  with pytest.raises(NotImplementedError, match="shape-polymorphic"):
    back.mlir_module()


def test_loops_and_gathers():
  ours, theirs = _loops_gathers(pyjax, jnp, lax), _loops_gathers(jax, jjnp, jlax)
  exp = export.export(pyjax.jit(ours))(
      *_specs(pyjax, (("b", 4), np.float32), (("b",), np.int32)))
  blob = exp.serialize(vjp_order=1)  # (the VJP's jaxpr: scatter-adds, a reverse scan)
  assert W4.tobytes() in blob
  back = export.deserialize(blob)
  assert repr(back.vjp().in_avals) == repr(exp.vjp().in_avals)
  for n in (1, 6):
    args = (_R.randn(n, 4).astype(np.float32), _R.randint(0, 4, n).astype(np.int32))
    check_close(back.call(*args), jax.jit(theirs)(*args), scale=4)


def test_two_variables_read_back():
  def f(np_):
    return lambda x, y: (np_.concatenate([x, x, y]), x.sum() * y.shape[0],
                         np_.zeros((x.shape[0] + 2, 3)))
  exps = []
  for t, n in ((pyjax, jnp), (jax, jjnp)):
    b, c = t.export.symbolic_shape("b, c", constraints=("b >= 4", "c <= 9"))
    exps.append(t.export.export(t.jit(f(n)))(t.ShapeDtypeStruct((b, 3), np.float32),
                                             t.ShapeDtypeStruct((c, 3), np.float32)))
  ours, theirs = exps
  back = export.deserialize(ours.serialize())
  assert repr(back.out_avals) == repr(theirs.out_avals)
  y = np.ones((2, 3), np.float32)
  for x, y in [(np.ones((2, 3), np.float32), y), (np.ones((5, 3), np.float32),
                                                   np.ones((10, 3), np.float32))]:
    with pytest.raises(ValueError) as ours_err:
      back.call(x, y)
    with pytest.raises(ValueError) as their_err:
      theirs.call(x, y)
    assert str(ours_err.value) == str(their_err.value)


def test_what_cannot_be_written():
  b = _spec(pyjax, "b, 2")
  cases = [(NotImplementedError, r"<div>.*depends on the dimension variables",
            lambda x: x / x.shape[0] ** 2),
           (NotImplementedError, "a constant array", lambda x: x + np.ones(x.shape)),
           (ValueError, "primitive 'pure_callback': its parameter 'callback'",
            lambda x: pyjax.pure_callback(lambda a: a, pyjax.ShapeDtypeStruct(
                x.shape, x.dtype), x))]
  for err, msg, f in cases:
    exp = export.export(pyjax.jit(f))(b)
    with pytest.raises(err, match=msg):
      exp.serialize()


def test_damaged_bytes(mlp):
  blob = mlp[1]
  assert struct.unpack_from("<H", blob, 8) == (2,)
  cases = [blob[:n] for n in (0, 17, 30, len(blob) - 1)]
  cases += [blob[:i] + bytes([blob[i] ^ 0x10]) + blob[i + 1:]
            for i in range(0, len(blob), max(1, len(blob) // 30))]
  for bad in cases + [blob + b"\0"]:
    with pytest.raises(ValueError, match="not a valid pyjax serialized Exported"):
      export.deserialize(bad)
  # well-formed envelopes (length, checksum) around bad payloads
  payload = blob[18:-32]
  n, = struct.unpack_from("<Q", payload)
  j, raw = json.loads(payload[8:8 + n]), payload[8 + n:]

  def pack(j, raw=raw):
    text = json.dumps(j).encode()
    p = struct.pack("<Q", len(text)) + text + raw
    return blob[:10] + struct.pack("<Q", len(p)) + p + hashlib.sha256(p).digest()
  assert export.deserialize(pack(j)).fun_name == "predict"
  text = json.dumps(j)
  eqn = json.dumps(j["export"]["jaxpr"]["tree"]["e"][0])
  first = j["export"]["jaxpr"]["tree"]["e"][0]
  bads = [text.replace('"dot_general"', '"no_such_op"'),
          text.replace('{"dt": "float32"}', '{"en": ["os", "system", "x"]}'),
          text.replace('{"d": "b"}', '{"d": "b +"}'),
          text.replace(eqn, json.dumps({**first, "i": [999, 998]})),
          text.replace('"float32"', '"object"', 1),
          text.replace('"shape": [{"d": "b"}, 5]', '"shape": [{"d": "b"}, 4]'),
          text.replace('"dot_general"', '"add"', 1)]  # (types that do not check)
  assert all(b != text for b in bads)
  for bad in [json.loads(b) for b in bads] + [{**j, "arrays": [["float32", [9999], 0,
                                                                 39996]]}]:
    with pytest.raises(ValueError, match="not a valid pyjax serialized Exported"):
      export.deserialize(pack(bad))

"""pyjax.deploy: artifacts saved from jit's stages, loaded in a process that has neither
IREE's compiler nor pyjax (only the loader file, NumPy and iree.runtime), compared with
JAX; the file format's checks and the loader's argument checks."""
from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import pyjax
import pyjax.deploy as deploy
import pyjax.numpy as jnp
from pyjax._src import deploy_runtime
from util import check_close

jax = pytest.importorskip("jax")

Out = collections.namedtuple("Out", ["logits", "aux"])


def mlp(params, x):
  for w, b in params[:-1]:
    x = jnp.tanh(x @ w + b)
  w, b = params[-1]
  return x @ w + b


def predict(params, x, *, temperature=1.0):
  logits = mlp(params, x) / temperature
  return {"probs": _softmax(logits), "top": (jnp.argmax(logits, -1), None)}


def _softmax(z):
  z = z - z.max(-1, keepdims=True)
  e = jnp.exp(z)
  return e / e.sum(-1, keepdims=True)


def _params(rng, sizes):
  return [(rng.standard_normal((m, n)).astype(np.float32) / np.sqrt(m),
           rng.standard_normal(n).astype(np.float32) * 0.1)
          for m, n in zip(sizes[:-1], sizes[1:])]


# The loader's process: the compiler and every pyjax module are blocked; the loader is
# the file alone, loaded by path.
RUNNER = textwrap.dedent("""
    import importlib.abc, importlib.util, json, sys, time
    class Block(importlib.abc.MetaPathFinder):
      prefixes = ("pyjax", "jax", "iree.compiler")
      def find_spec(self, name, path, target=None):
        if name.startswith(self.prefixes):
          raise ImportError(f"{name} is blocked")
    sys.meta_path.insert(0, Block())
    import numpy as np
    import iree.runtime
    spec = importlib.util.spec_from_file_location("deploy_runtime", sys.argv[1])
    drt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(drt)
    jobs = json.load(open(sys.argv[2]))
    out, times = {}, {}
    for name, (path, npz) in jobs.items():
      d = np.load(npz)
      args = [d[k] for k in sorted(d.files) if k.startswith("a")]
      t = time.perf_counter()
      f = drt.load(path)
      res = f(*[[(args[2 * i], args[2 * i + 1]) for i in range(len(args) // 2 - 1)],
                args[-2]], **({"temperature": args[-1]} if name == "host" else {}))
      times[name] = time.perf_counter() - t
      if isinstance(res, dict):
        out[name + ".probs"] = res["probs"]
        out[name + ".top"] = res["top"][0]
        assert res["top"][1] is None and isinstance(res["top"], tuple)
      else:
        assert type(res).__name__ == "Out" and res._fields == ("logits", "aux"), res
        out[name + ".logits"], out[name + ".aux"] = res.logits, res.aux["mean"]
    blocked = [m for m in sys.modules if m.startswith(("pyjax", "iree.compiler"))]
    assert not blocked, blocked
    # Where pyjax is installed but IREE's compiler is not: pyjax.deploy.load.
    Block.prefixes = ("iree.compiler",)
    sys.path.insert(0, sys.argv[4])
    import pyjax.deploy
    assert pyjax.deploy.__file__.startswith(sys.argv[4])
    f = pyjax.deploy.load(jobs["generic"][0])
    d = np.load(jobs["generic"][1])
    args = [d[k] for k in sorted(d.files)]
    res = f([(args[0], args[1]), (args[2], args[3])], args[4])
    assert (res.logits == out["generic.logits"]).all()
    assert not [m for m in sys.modules if m.startswith("iree.compiler")]
    np.savez(sys.argv[3], **out)
    print(json.dumps(times))
""")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
  """Artifacts of an MLP: ``host`` from a Compiled (parameters as arguments, a dict
  result with an argmax and a None), ``x86-64`` from a Lowered (parameters closed over:
  constants in the file; a namedtuple result), their inputs and pyjax's results."""
  d = tmp_path_factory.mktemp("deploy")
  rng = np.random.default_rng(0)
  params = _params(rng, [20, 32, 10])
  x = rng.standard_normal((5, 20)).astype(np.float32)
  t = np.float32(0.7)
  lowered = pyjax.jit(predict).lower(params, x, temperature=t)
  compiled = lowered.compile()
  host = deploy.save(compiled, d / "host.pyjax")  # (jit's module: no compile)

  def closed(params_unused, x):
    y = mlp(params, x)
    return Out(y, {"mean": y.mean(0)})
  generic = deploy.save(pyjax.jit(closed).lower(params, x), d / "generic.pyjax",
                        target="x86-64")
  return dict(dir=d, params=params, x=x, t=t, host=host, generic=generic,
              ours={"host": compiled(params, x, temperature=t),
                    "generic": closed(params, x)}, lowered=lowered)


def test_artifacts_run_with_only_the_runtime(saved):
  d = saved["dir"]
  flat = [a for wb in saved["params"] for a in wb]
  jobs = {}
  for name in ("host", "generic"):
    npz = d / f"{name}.npz"
    np.savez(npz, **{f"a{i:02d}": a for i, a in enumerate([*flat, saved["x"],
                                                           saved["t"]])})
    jobs[name] = (str(saved[name]), str(npz))
  (d / "jobs.json").write_text(json.dumps(jobs))
  (d / "run.py").write_text(RUNNER)
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  root = os.path.dirname(os.path.dirname(pyjax.__file__))
  p = subprocess.run([sys.executable, str(d / "run.py"), deploy.RUNTIME_FILE,
                      str(d / "jobs.json"), str(d / "out.npz"), root], cwd=d, env=env,
                     capture_output=True, text=True, timeout=120)
  assert p.returncode == 0, p.stderr
  times = json.loads(p.stdout.strip().splitlines()[-1])
  assert max(times.values()) < 1.0, times  # load + first call (bench: ~1-2 ms)
  got = np.load(d / "out.npz")
  # The oracle: JAX on the same inputs.
  jp = [(jax.numpy.asarray(w), jax.numpy.asarray(b)) for w, b in saved["params"]]

  def jmlp(x):
    for w, b in jp[:-1]:
      x = jax.numpy.tanh(x @ w + b)
    return x @ jp[-1][0] + jp[-1][1]
  logits = jmlp(saved["x"])
  check_close(got["host.probs"], jax.nn.softmax(logits / saved["t"]), scale=4)
  np.testing.assert_array_equal(got["host.top"], np.argmax(logits, -1))
  check_close(got["generic.logits"], logits, scale=4)
  check_close(got["generic.aux"], logits.mean(0), scale=4)
  # and exactly what pyjax's jit computes (the same module); eager for the other
  ours = saved["ours"]
  np.testing.assert_array_equal(got["host.probs"], ours["host"]["probs"])
  check_close(got["generic.logits"], ours["generic"].logits, scale=4)
  assert got["host.top"].dtype == np.int32 and got["host.probs"].dtype == np.float32


def test_header_and_in_process_load(saved):
  header, _ = deploy.read(saved["generic"])
  assert header["target"] == "x86-64" and header["machine"] == "x86_64"
  # (the weights are constants in the file; the biases, small, are in the module)
  assert len(header["consts"]) == 2 and header["fun_name"] == "closed"
  assert header["in_avals"][-1] == [[5, 20], "float32"]
  f = deploy.load(saved["generic"])
  assert "closed(" in repr(f) and f.driver == "local-sync"
  res = f(saved["params"], saved["x"])
  assert isinstance(res, tuple) and res._fields == ("logits", "aux")
  check_close(res.logits, saved["ours"]["generic"].logits, scale=4)
  on_pool = deploy.load(saved["generic"], driver="local-task")  # IREE's worker pool
  assert on_pool.driver == "local-task"
  np.testing.assert_array_equal(on_pool(saved["params"], saved["x"]).logits, res.logits)
  h = deploy.load(saved["host"])
  assert h.header["cpu_features"] is not None and h.header["x64"] is False
  # 64-bit NumPy inputs are read as 32-bit ones (x64 off, as jit does); Python scalars
  # go where a dtype of their kind is expected.
  wide = [(w.astype(np.float64), b) for w, b in saved["params"]]
  a = h(wide, saved["x"].astype(np.float64), temperature=0.7)
  b = h(saved["params"], saved["x"], temperature=saved["t"])
  np.testing.assert_array_equal(a["probs"], b["probs"])
  assert not b["probs"].flags.writeable


def test_call_errors_name_the_argument(saved):
  f = deploy.load(saved["host"])
  p, x = saved["params"], saved["x"]
  with pytest.raises(TypeError, match="saved for 2 positional arguments and called "
                                      "with 1"):
    f(x, temperature=1.0)
  with pytest.raises(ValueError, match=r"Shape mismatch for args\[1\]\.shape\[0\] "
                                       r"\(expected same constant\): expected \(5, 20\) "
                                       r"and called with \(4, 20\)"):
    f(p, x[:4], temperature=1.0)
  with pytest.raises(ValueError, match=r"Rank mismatch for args\[0\]\[1\]\[1\]: "
                                       r"expected \(10,\)"):
    f([p[0], (p[1][0], p[1][1][None])], x, temperature=1.0)
  with pytest.raises(ValueError, match=r"Dtype mismatch for args\[1\]: expected float32 "
                                       "and called with int32"):
    f(p, x.astype(np.int32), temperature=1.0)
  with pytest.raises(ValueError, match=r"Dtype mismatch for kwargs\['temperature'\]: "
                                       "expected float32 and called with a Python int"):
    f(p, x, temperature=1)
  with pytest.raises(ValueError, match=r"args\[0\] is a tuple in the invocation and a "
                                       "list when saved"):
    f(tuple(p), x, temperature=1.0)
  with pytest.raises(ValueError, match=r"kwargs is a dict in the invocation and a dict "
                                       r"with keys \['temperature'\] \(called with "
                                       r"\[\]\) when saved"):
    f(p, x)
  with pytest.raises(ValueError, match=r"args\[0\]\[0\] is a tuple in the invocation "
                                       r"and a tuple of 2 elements \(called with 3\)"):
    f([(*p[0], p[0][0]), p[1]], x, temperature=1.0)
  with pytest.raises(TypeError, match=r"args\[1\]: expected an array of float32, got str"):
    f(p, "x", temperature=1.0)


def test_plain_positional_arrays(tmp_path):
  """The call path without a pytree: conversions and errors as with one."""
  f = pyjax.jit(lambda x, s: (x * s + 1, s))
  x = np.arange(12, dtype=np.float32).reshape(3, 4)
  a = deploy.load(deploy.save(f.lower(x, np.float32(2)), tmp_path / "flat.pyjax"))
  y, s = a(np.asfortranarray(x), np.float32(2))  # (copied to C order)
  np.testing.assert_array_equal(y, x * 2 + 1)
  assert s.shape == () and s == 2 and isinstance(a(x, 2.0), tuple)
  with pytest.raises(ValueError, match=r"Dtype mismatch for args\[1\]: expected float32 "
                                       "and called with int8"):
    a(x, np.int8(2))
  with pytest.raises(ValueError, match=r"Rank mismatch for args\[0\]: expected \(3, 4\) "
                                       r"and called with \(12,\)"):
    a(x.ravel(), 2.0)
  with pytest.raises(ValueError, match=r"kwargs is a dict in the invocation and a dict "
                                       r"with keys \[\] \(called with \['t'\]\)"):
    a(x, 2.0, t=2.0)
  with pytest.raises(TypeError, match="<lambda> was saved for 2 positional arguments "
                                      "and called with 1"):
    a(x, s=2.0)
  # Anything shaped like jax.export's Exported saves the same (its module takes no
  # hoisted constants).
  lowered = f.lower(x, np.float32(2))

  class Exported:
    fun_name = "scaled"
    in_avals, out_avals = lowered._entry.closed.in_avals, lowered._entry.closed.out_avals
    in_tree, out_tree = lowered.in_tree, lowered.out_tree

    def mlir_module(self):
      return lowered.as_text()
  b = deploy.load(deploy.save(Exported(), tmp_path / "exp.pyjax"))
  assert b.fun_name == "scaled"
  np.testing.assert_array_equal(b(x, 3.0)[0], x * 3 + 1)

  class Symbolic(Exported):  # a batch-polymorphic export: refused before its module
    in_avals = (pyjax.ShapeDtypeStruct((3, 4), np.float32), types.SimpleNamespace(
        shape=("b", 4), dtype=np.dtype(np.float32)))

    def mlir_module(self):
      raise AssertionError("not asked for")
  with pytest.raises(ValueError, match=r"the arguments have a symbolic shape \('b', 4\); "
                                       "an artifact needs concrete shapes"):
    deploy.save(Symbolic(), tmp_path / "sym.pyjax")

  class Dropped(Exported):
    module_kept_var_idx = (1,)
  with pytest.raises(ValueError, match="dropped unused arguments"):
    deploy.save(Dropped(), tmp_path / "drop.pyjax")


def _rewrite(src, dst, edit_header=None, version=None):
  """A copy of artifact ``src`` with its header edited, checksum made valid again."""
  import hashlib
  blob = bytearray(open(src, "rb").read())
  P = deploy_runtime._PREFIX
  magic, ver, n, _ = P.unpack_from(blob)
  head = json.loads(blob[P.size:P.size + n])
  if edit_header:
    edit_header(head)
  new = json.dumps(head, separators=(",", ":")).encode()
  assert len(new) <= n
  new += b" " * (n - len(new))  # (same length: the payload does not move)
  blob[P.size:P.size + n] = new
  P.pack_into(blob, 0, magic, ver if version is None else version, n,
              hashlib.sha256(blob[P.size:]).digest())
  open(dst, "wb").write(bytes(blob))
  return dst


def test_damaged_foreign_and_newer_files(saved, tmp_path):
  src = saved["host"]
  blob = open(src, "rb").read()
  (tmp_path / "trunc").write_bytes(blob[:len(blob) // 2])
  with pytest.raises(deploy.ArtifactError, match="is damaged: its checksum"):
    deploy.load(tmp_path / "trunc")
  flipped = bytearray(blob)
  flipped[-100] ^= 1
  (tmp_path / "flip").write_bytes(bytes(flipped))
  with pytest.raises(deploy.ArtifactError, match="is damaged"):
    deploy.load(tmp_path / "flip")
  (tmp_path / "other").write_bytes(b"\x00" * 10)
  with pytest.raises(deploy.ArtifactError, match="is not a pyjax deployment artifact"):
    deploy.load(tmp_path / "other")
  _rewrite(src, tmp_path / "v9", version=9)
  with pytest.raises(deploy.ArtifactError, match="format version 9; this loader reads "
                                                 "version 1"):
    deploy.load(tmp_path / "v9")
  _rewrite(src, tmp_path / "bad", lambda h: (h["vmfb"].update(nbytes=10**9),
                                             h.update(compiler="")))
  with pytest.raises(deploy.ArtifactError, match="outside the file"):
    deploy.load(tmp_path / "bad")

  blob = bytearray(blob)  # a module IREE's runtime refuses (checksum made valid)
  header, _ = deploy.read(src)
  start = header["vmfb"]["offset"]
  blob[start:start + 64] = bytes(64)
  (tmp_path / "vm").write_bytes(bytes(blob))
  _rewrite(tmp_path / "vm", tmp_path / "vm")
  with pytest.raises(RuntimeError, match="IREE's runtime .* refused the module in .*vm'"
                                         ", compiled by IREE .* for 'local-sync'.*Install "
                                         "the iree-base-runtime release"):
    deploy.load(tmp_path / "vm")

  def other_cpu(h):
    h["cpu_features"] = ["avx512_nonexistent", *h["cpu_features"][:2]]
  _rewrite(src, tmp_path / "cpu", other_cpu)
  with pytest.raises(RuntimeError, match="lacks features it may use: avx512_nonexistent."
                                         "*target='x86-64'"):
    deploy.load(tmp_path / "cpu")


def test_save_errors(saved, tmp_path):
  x = saved["x"]
  with pytest.raises(ValueError, match=r"target must be one of \['host', 'x86-64', "
                                       r"'cuda'\], got 'arm'"):
    deploy.save(saved["lowered"], tmp_path / "a", target="arm")
  with pytest.raises(TypeError, match="expected jit\\(f\\).lower\\(...\\), its "
                                      ".compile\\(\\), or a jax.export.Exported, got "
                                      "function"):
    deploy.save(predict, tmp_path / "a")

  def loud(x):
    pyjax.debug.print("x={x}", x=x)
    return x + 1
  with pytest.raises(ValueError, match="loud calls back into Python"):
    deploy.save(pyjax.jit(loud).lower(x), tmp_path / "a")

  @pyjax.tree_util.register_pytree_node_class
  class Box:
    def __init__(self, v):
      self.v = v

    def tree_flatten(self):
      return (self.v,), None

    @classmethod
    def tree_unflatten(cls, aux, kids):
      return cls(*kids)
  with pytest.raises(ValueError, match="the arguments hold a Box node"):
    deploy.save(pyjax.jit(lambda b: b.v * 2).lower(Box(x)), tmp_path / "a")
  assert not os.listdir(tmp_path)  # nothing written, no temporary left


def test_cuda_artifact_compiles_without_a_gpu(saved, tmp_path):
  lowered = pyjax.jit(mlp).lower(saved["params"], saved["x"])
  path = deploy.save(lowered, tmp_path / "gpu.pyjax", target="cuda", cuda_arch="sm_80")
  header, blob = deploy.read(path)
  assert header["target"] == "cuda" and header["machine"] is None
  v = header["vmfb"]
  assert b"sm_80" in bytes(blob[v["offset"]:v["offset"] + v["nbytes"]])
  if "cuda" not in deploy_runtime._runtime().query_available_drivers() or \
      not os.path.exists("/dev/nvidiactl"):
    with pytest.raises(RuntimeError, match="'cuda'"):
      deploy.load(path)


def test_save_a_jax_export(tmp_path):
  """jax.export's Exported (fresh and deserialized) saves as jit's stages do."""
  export = pytest.importorskip("pyjax.export")  # (issue 23 part 1: merged from wt-x1)
  w = np.linspace(-1, 1, 64 * 16, dtype=np.float32).reshape(64, 16)

  def f(p, x):
    return {"y": jnp.tanh(x @ w + p["b"])}
  p, x = {"b": np.full(16, 0.5, np.float32)}, np.ones((4, 64), np.float32)
  exp = export.export(pyjax.jit(f))(p, x)
  want = np.asarray(pyjax.jit(f)(p, x)["y"])
  for i, e in enumerate((exp, export.deserialize(exp.serialize()))):
    a = deploy.load(deploy.save(e, tmp_path / f"{i}.pyjax"))
    assert a.fun_name == "f"
    np.testing.assert_array_equal(a(p, x)["y"], want)

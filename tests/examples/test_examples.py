"""The examples in examples/ run, learn, and print JAX's numbers.

Each example is loaded from its source twice: as written (on pyjax), and with "pyjax"
replaced by "jax" (the one change a JAX user makes); a short run of its training
function is compared between the two: same keys, same initial parameters, the same
losses up to float32 rounding accumulated over the steps. scikit-learn (the digits)
is in the test extras.
"""
import os
import sys
import types

import numpy as np
import pytest

import pyjax
from oracle import Oracle

# JAX's runs of the examples (recorded: tests/oracle.py; keyed by the test and the
# call's arguments, not the example's source: re-record after changing an example)
ORACLE = Oracle("test_examples")

_EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "examples")
sys.path.insert(0, _EXAMPLES)  # (for the examples' `import datasets`)

import datasets  # noqa: E402


def _load(name, lib="pyjax"):
  """The example module ``name`` on pyjax, or (lib="jax") on real JAX."""
  if lib == "jax":
    pytest.importorskip("jax")
  path = os.path.join(_EXAMPLES, f"{name}.py")
  with open(path) as f:
    src = f.read()
  if lib == "jax":
    src = src.replace("pyjax", "jax")
  mod = types.ModuleType(f"example_{name}_{lib}")
  mod.__file__ = path
  exec(compile(src, path, "exec"), mod.__dict__)
  return mod


def _quiet(*_):
  pass


def _subset(flatten, n_train=60, n_test=30):
  tr_x, tr_y, te_x, te_y = datasets.digits(flatten=flatten)
  return tr_x[:n_train], tr_y[:n_train], te_x[:n_test], te_y[:n_test]


def test_digits_dataset():
  tr_x, tr_y, te_x, te_y = datasets.digits(flatten=False)
  assert tr_x.shape == (1440, 8, 8, 1) and te_x.shape == (357, 8, 8, 1)
  assert tr_y.shape == (1440, 10) and np.all(tr_y.sum(1) == 1)
  assert 0 <= tr_x.min() and tr_x.max() <= 1 and tr_x.dtype == np.float32


@pytest.mark.parametrize("name,flatten,kwargs", [
    ("mnist_classifier_fromscratch", True, {"layer_sizes": (64, 32, 10)}),
    ("mnist_classifier", False, {}),
])
def test_classifier_epoch_matches_jax(name, flatten, kwargs):
  def run(lib):
    lines = []
    params, acc = _load(name, lib).train(num_epochs=1, data=_subset(flatten),
                                         batch_size=20, log=lines.append, **kwargs)
    return lines, acc, [np.asarray(x) for x in pyjax.tree_util.tree_leaves(params)]
  lines, acc, leaves = run("pyjax")
  _, jax_acc, jax_leaves = ORACLE.call(run, "jax", oracle_tag=name)
  assert len(lines) == 1 and lines[0].startswith("Epoch 0 in ")
  assert "test set accuracy" in lines[0]
  assert abs(acc - jax_acc) <= 1 / 30  # one test image of 30 may flip
  for ours, theirs in zip(leaves, jax_leaves, strict=True):
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-5)


def test_training_loop_matches_jax():
  ours = _load("training_loop").train(num_epochs=2, log=_quiet)
  theirs = ORACLE.call(lambda: _load("training_loop", "jax").train(num_epochs=2, log=_quiet))
  np.testing.assert_allclose(ours[0], theirs[0], rtol=2e-3)
  assert ours[1] > 0.9 and abs(ours[1] - theirs[1]) <= 2 / 357


def test_advi_matches_jax():
  (mean, log_std), ours = _load("advi").fit(num_steps=30, log=_quiet)
  _, theirs = ORACLE.call(lambda: _load("advi", "jax").fit(num_steps=30, log=_quiet))
  np.testing.assert_allclose(ours, theirs, rtol=2e-3)
  assert ours[-1] < ours[0]


def test_mnist_vae_matches_jax():
  ours = _load("mnist_vae").train(num_epochs=2, log=_quiet)
  theirs = ORACLE.call(lambda: _load("mnist_vae", "jax").train(num_epochs=2, log=_quiet))
  np.testing.assert_allclose(ours, theirs, rtol=2e-3)
  assert ours[1] > ours[0]


_SPMD_RUN = """
import sys
sys.path.insert(0, {examples!r})
import datasets
import spmd_mnist_classifier_fromscratch as ex
tr_x, tr_y, te_x, te_y = datasets.digits()
params, acc = ex.train(num_epochs=4, data=(tr_x[:240], tr_y[:240], te_x[:240], te_y[:240]),
                       layer_sizes=(64, 32, 10), batch_size=40, step_size=0.5)
print("final", acc)
"""


def test_spmd_mnist_matches_jax(tmp_path):
  """The SPMD example on 4 CPU devices, on pyjax and on JAX (each in a subprocess, the
  device count set by XLA_FLAGS): the same mesh, accuracies and shardings."""
  import subprocess
  pytest.importorskip("jax")
  with open(os.path.join(_EXAMPLES, "spmd_mnist_classifier_fromscratch.py")) as f:
    src = f.read()
  jax_dir = tmp_path / "jax"
  jax_dir.mkdir()
  (jax_dir / "spmd_mnist_classifier_fromscratch.py").write_text(src.replace("pyjax", "jax"))
  root = os.path.dirname(_EXAMPLES)
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
         "PYTHONPATH": root, "JAX_PLATFORMS": "cpu"}
  procs = []
  for first in (_EXAMPLES, str(jax_dir)):
    code = f"import sys; sys.path.insert(0, {first!r})\n" + _SPMD_RUN.format(
        examples=_EXAMPLES)
    procs.append(subprocess.Popen([sys.executable, "-c", code], cwd=root, env=env,
                                  text=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE))
  outs = []
  for p in procs:
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err[-3000:]
    outs.append(out.splitlines())
  ours, theirs = outs
  assert ours[0] == theirs[0] == "Mesh Mesh('batch': 4, axis_types=(Explicit,))"
  assert ours[-2] == theirs[-2] == ("Batch sharding P('batch',), parameters P(None, None), "
                                    "accuracy P()")
  accs = [[float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith("Epoch")]
          + [float(lines[-1].split()[1])] for lines in (ours, theirs)]
  assert len(accs[0]) == 5 and accs[0][-1] > 0.7
  np.testing.assert_allclose(accs[0], accs[1], atol=1 / 240 + 1e-6)  # one image may flip


def test_deploy_mlp_serves_with_the_runtime_alone(tmp_path):
  """The artifact and loader deploy_mlp writes score the test set in a process that
  cannot import pyjax or IREE's compiler, as pyjax does."""
  import subprocess
  mod = _load("deploy_mlp")
  acc = mod.build(str(tmp_path), num_epochs=1, data=_subset(True), log=_quiet,
                  layer_sizes=(64, 32, 10), batch_size=20)
  block = ("import sys, importlib.abc\n"
           "class B(importlib.abc.MetaPathFinder):\n"
           "  def find_spec(self, name, path, target=None):\n"
           "    if name.startswith(('pyjax', 'jax', 'iree.compiler')):\n"
           "      raise ImportError(name + ' is blocked')\n"
           "sys.meta_path.insert(0, B())\n"
           "sys.argv = ['serve.py']\n"
           "exec(compile(open('serve.py').read(), 'serve.py', 'exec'))\n")
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  p = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=env,
                     capture_output=True, text=True, timeout=120)
  assert p.returncode == 0, p.stderr
  assert p.stdout.splitlines()[-1] == f"test accuracy {acc:.4f}", p.stdout

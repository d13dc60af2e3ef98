"""The training examples in examples/ run: each one's ``train`` for one epoch on a tiny
subset of the digits (scikit-learn is in the test extras), printing its epoch line."""
import importlib.util
import os

import numpy as np
import pytest

import pyjax

_EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "examples")


def _load(name):
  spec = importlib.util.spec_from_file_location(
      f"example_{name}", os.path.join(_EXAMPLES, f"{name}.py"))
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)
  return mod


def _subset(flatten, n_train=60, n_test=30):
  import datasets
  tr_x, tr_y, te_x, te_y = datasets.digits(flatten=flatten)
  return tr_x[:n_train], tr_y[:n_train], te_x[:n_test], te_y[:n_test]


def test_digits_dataset():
  _load("mnist_classifier_fromscratch")  # puts examples/ on sys.path for datasets
  import datasets
  tr_x, tr_y, te_x, te_y = datasets.digits(flatten=False)
  assert tr_x.shape == (1440, 8, 8, 1) and te_x.shape == (357, 8, 8, 1)
  assert tr_y.shape == (1440, 10) and np.all(tr_y.sum(1) == 1)
  assert 0 <= tr_x.min() and tr_x.max() <= 1 and tr_x.dtype == np.float32


@pytest.mark.parametrize("name,flatten,kwargs", [
    ("mnist_classifier_fromscratch", True, {"layer_sizes": (64, 32, 10)}),
    ("mnist_classifier", False, {}),
])
def test_example_trains_one_epoch(name, flatten, kwargs):
  mod = _load(name)
  lines = []
  params, acc = mod.train(num_epochs=1, data=_subset(flatten), batch_size=20,
                          log=lines.append, **kwargs)
  assert len(lines) == 1 and lines[0].startswith("Epoch 0 in ")
  assert "test set accuracy" in lines[0]
  assert 0.0 <= acc <= 1.0
  leaves = [np.asarray(x) for x in pyjax.tree_util.tree_leaves(params)]
  assert leaves and all(np.all(np.isfinite(x)) for x in leaves)

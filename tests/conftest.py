import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
# (lax_ops: the table of lax ops that the lax, lowering, batching and autodiff sweeps share)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_src", "lax"))
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# jit compiles before its first call returns (tiering runs first calls eagerly, which
# would test the eager path twice); tests of tiering turn it on themselves. Subprocesses
# the tests start inherit this. PYJAX_TEST_JIT_TIERING=on runs the suite tiered (a check
# that eager first calls give what compiled ones do).
os.environ["PYJAX_JIT_TIERING"] = os.environ.get("PYJAX_TEST_JIT_TIERING", "off")


@pytest.fixture
def rng(request):
  """A NumPy Generator seeded from the test id (reproducible per test)."""
  import zlib
  return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def x64():
  from util import enable_x64
  with enable_x64(True):
    yield


def pytest_configure(config):
  config.addinivalue_line(
      "markers", "slow: a long sweep (tests/_src/interpreters/test_compile_sweep.py), left "
      "out of the suite unless a -m expression is given (run it with -m slow)")


def pytest_collection_modifyitems(config, items):
  """Deselects the tests marked ``slow`` unless ``-m`` chooses what runs."""
  if config.option.markexpr:
    return
  slow = [i for i in items if i.get_closest_marker("slow")]
  if slow:
    config.hook.pytest_deselected(items=slow)
    items[:] = [i for i in items if not i.get_closest_marker("slow")]

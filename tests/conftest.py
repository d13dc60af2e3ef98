import collections
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


# The modules that take longest (a cold run's CPU time per module, >= 20 s), first:
# under `-n` a module runs on one worker (--dist loadscope), and modules start in the
# order below (--no-loadscope-reorder), so one of these started last would hold the
# run's end on one core. Re-rank them when a module's time changes much.
LONG_MODULES = (
    "tests/_src/test_random.py", "tests/_src/interpreters/test_lowering.py",
    "tests/_src/lax/test_linalg.py", "tests/_src/scipy/test_special_extra.py",
    "tests/_src/lax/test_lax.py", "tests/_src/scipy/test_stats.py",
    "tests/_src/backends/test_iree.py", "tests/_src/lax/test_special_values.py",
    "tests/_src/scipy/test_spatial_transform.py", "tests/examples/test_examples.py",
    "tests/ecosystem/test_ecosystem.py", "tests/_src/lax/control_flow/test_loops.py",
    "tests/_src/numpy/test_jnp_transforms.py", "tests/_src/test_distributed.py",
    "tests/_src/scipy/test_scipy_linalg.py", "tests/_src/numpy/test_linalg_numpy.py",
    "tests/_src/lax/test_convolution.py", "tests/_src/numpy/test_ufuncs.py",
    "tests/_src/lax/control_flow/test_conditionals.py",
    "tests/_src/numpy/test_lax_numpy.py", "tests/_src/scipy/test_optimize.py",
    "tests/_src/scipy/test_special.py", "tests/_src/test_pjit.py",
    "tests/_src/test_pmap.py", "tests/_src/nn/test_initializers.py")


def _run_order(items):
  """LONG_MODULES first, then the other modules by number of tests (xdist's own order);
  each module's tests stay together and in order."""
  rank = {m: i for i, m in enumerate(LONG_MODULES)}
  module = {id(i): i.nodeid.split("::")[0] for i in items}
  count = collections.Counter(module.values())
  items.sort(key=lambda i: (rank.get(module[id(i)], len(rank)), -count[module[id(i)]],
                            module[id(i)]))


def pytest_collection_modifyitems(config, items):
  """Deselects the tests marked ``slow`` unless ``-m`` chooses what runs; orders the
  modules (``_run_order``)."""
  _run_order(items)
  if config.option.markexpr:
    return
  slow = [i for i in items if i.get_closest_marker("slow")]
  if slow:
    config.hook.pytest_deselected(items=slow)
    items[:] = [i for i in items if not i.get_closest_marker("slow")]

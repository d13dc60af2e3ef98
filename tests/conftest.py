import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
# (lax_ops: the table of lax ops that the lax, lowering, batching and autodiff sweeps share)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_src", "lax"))
os.environ.setdefault("JAX_PLATFORMS", "cpu")


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

"""Under `mpirun -n 2`: process 1 raises before a collective process 0 is waiting in;
process 0 must raise JAX's JaxRuntimeError naming process 1's error, in bounded time."""
import time

import numpy as np

import pyjax as jax
from pyjax import lax

jax.distributed.initialize()
t = time.monotonic()
if jax.process_index() == 1:
  raise ValueError("boom in process 1")
try:
  jax.pmap(lambda a: lax.psum(a, "i"), axis_name="i")(np.ones((1, 3), np.float32))
except Exception as e:
  print(f"CAUGHT {type(e).__name__} after {time.monotonic() - t:.1f} s: {e}", flush=True)
  raise

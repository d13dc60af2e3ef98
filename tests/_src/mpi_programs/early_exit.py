"""Under `mpirun -n 2`: process 1 ends while process 0 waits in a collective it never
joins; process 0 must raise JAX's JaxRuntimeError saying process 1 exited."""
import numpy as np, time
import pyjax as jax
from pyjax import lax
jax.distributed.initialize()
f = jax.pmap(lambda a: lax.psum(a, "i"), axis_name="i")
f(np.ones((1, 3), np.float32))
if jax.process_index() == 0:
  t = time.monotonic()
  try:
    f(np.ones((1, 3), np.float32))
  except Exception as e:
    print(f"CAUGHT {type(e).__name__} after {time.monotonic() - t:.1f} s: {e}", flush=True)

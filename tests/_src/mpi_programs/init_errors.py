"""One process, no MPI launch: jax.distributed.initialize's errors (JAX's)."""
import pyjax as jax


def expect(exc, fn, text):
  try:
    fn()
  except exc as e:
    assert text in str(e), str(e)
    print("OK", text[:40])
    return
  raise AssertionError(f"no {exc.__name__}")


expect(RuntimeError, lambda: jax.distributed.initialize(num_processes=2, process_id=0),
       "mpirun -n 2")
expect(TypeError, lambda: jax.distributed.initialize(process_id=-1),
       "process_id must be a nonnegative int")
expect(ValueError, lambda: jax.distributed.initialize(num_processes=2, process_id=3),
       "process_id < num_processes")
assert not jax.distributed.is_initialized()
jax.devices()
expect(RuntimeError, lambda: jax.distributed.initialize(),
       "must be called before any JAX calls")
print("DONE")

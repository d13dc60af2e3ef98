import sys; sys.path.insert(0, "tests/_src"); sys.path.insert(0, "tests")
import test_debugging as t, numpy as np, jax, pyjax, jax.numpy as jnp, pyjax.numpy as pnp
fj, fo = t._program(jax, jnp), t._program(pyjax, pnp)
for mode in sys.argv[1:]:
  if mode == "jit":
    a = t._capture(lambda: jax.jit(fj)(t.X, 3)); b = t._capture(lambda: pyjax.jit(fo)(t.X, 3))
  else:
    a = t._capture(lambda: jax.vmap(fj, in_axes=(0, None))(np.stack([t.X, t.X + 1]), 3)); b = t._capture(lambda: pyjax.vmap(fo, in_axes=(0, None))(np.stack([t.X, t.X + 1]), 3))
  import itertools
  for x, y in itertools.zip_longest(a.splitlines(), b.splitlines()): print(f"{x!s:45} | {y}")

"""Run with 4 host devices (tests/_src/test_partition.py): each case's function,
partitioned (``partition.partition``) and run as a shard_map, against the function
itself; cases marked local must partition without moving data (no all_gather)."""
import os
import sys

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
import numpy as np  # noqa: E402

import pyjax as jax  # noqa: E402
import pyjax.numpy as jnp  # noqa: E402
from pyjax import lax  # noqa: E402
from pyjax._src import partition, shard_map as shard_map_mod  # noqa: E402
from pyjax.sharding import AxisType, NamedSharding, PartitionSpec as P  # noqa: E402

mesh = jax.make_mesh((2, 2), ("a", "b"), axis_types=(AxisType.Auto,) * 2)
rng = np.random.default_rng(0)


def arr(*shape, dtype=np.float32):
  return (rng.normal(size=shape) * 2).astype(dtype)


def mlp_loss(params, x, y):
  for w, b in params[:-1]:
    x = jnp.tanh(x @ w + b)
  w, b = params[-1]
  return jnp.mean((x @ w + b - y) ** 2)


params = [(arr(6, 8), arr(8)), (arr(8, 3), arr(3))]

# (name, function, args, specs (None: replicated), whether it must move no data)
CASES = [
    ("elementwise", lambda x, y: jnp.sin(x) * y + 1, (arr(8, 4), arr(8, 4)),
     (P("a", "b"), P("a", "b")), True),
    ("elementwise_mixed", lambda x, y: x * y - x, (arr(8, 4), arr(8, 4)),
     (P("a", None), P(None, "b")), False),
    ("bias", lambda x, b: jnp.maximum(x + b, 0), (arr(8, 4), arr(4)), (P("a"), None), True),
    ("matmul_batch", lambda x, w: x @ w, (arr(8, 6), arr(6, 5)), (P("a"), None), True),
    ("matmul_contract", lambda x, w: x @ w, (arr(8, 6), arr(6, 5)),
     (P(None, "a"), P("a", None)), True),
    ("matmul_free", lambda x, w: x @ w, (arr(8, 6), arr(6, 4)),
     (P("a", None), P(None, "b")), True),
    ("matmul_one_side", lambda x, w: x @ w, (arr(8, 6), arr(6, 5)), (P(None, "b"), None),
     True),
    ("batched_matmul", lambda x, w: jnp.einsum("bij,bjk->bik", x, w),
     (arr(4, 3, 6), arr(4, 6, 2)), (P("a"), P("a")), True),
    ("reductions", lambda x: (x.sum(0), x.max(1), x.mean(), jnp.min(x)), (arr(8, 4),),
     (P("a", "b"),), True),
    ("int_ops", lambda x, y: (x + y * 3, (x > y).sum(0)),
     (arr(8, 4, dtype=np.int32), arr(8, 4, dtype=np.int32)), (P("a"), P("a")), True),
    ("transpose", lambda x: x.T * 2, (arr(8, 4),), (P("a", "b"),), True),
    ("reshape_lead", lambda x: x.reshape(8, 8) + 1, (arr(8, 4, 2),), (P("a"),), True),
    ("slice", lambda x: x[:, :2] * 3, (arr(8, 4),), (P("a"),), True),
    ("concat", lambda x, y: jnp.concatenate([x, y], axis=1), (arr(8, 2), arr(8, 3)),
     (P("a"), P("a")), True),
    ("softmax", lambda x: jax.nn.softmax(x, axis=-1), (arr(8, 4),), (P("a"),), True),
    ("logsumexp", lambda x: jax.nn.logsumexp(x, axis=0), (arr(8, 4),), (P("a"),), False),
    ("nested_jit", jax.jit(lambda x, y: jax.jit(jnp.tanh)(x) * y), (arr(8, 4), arr(8, 4)),
     (P("a"), P("a")), True),
    ("fallback_cumsum", lambda x: jnp.cumsum(x, axis=0), (arr(8, 4),), (P("a"),), False),
    ("fallback_sort_rev", lambda x: (jnp.sort(x, axis=0), x[::-1]), (arr(8, 4),),
     (P("a", "b"),), False),
    ("fallback_scan", lambda x: lax.scan(lambda c, r: (c + r, c * r), jnp.zeros(4), x),
     (arr(8, 4),), (P("a"),), False),
    ("mlp_grad", jax.value_and_grad(mlp_loss), (params, arr(8, 6), arr(8, 3)),
     (None, P(("a", "b")), P(("a", "b"))), True),
]

def main():
  bad = 0
  for name, f, args, specs, local in CASES:
    flat, tree = jax.tree.flatten(args)
    spec_leaves = jax.tree.flatten(
        jax.tree.map(lambda _, s: s, args, specs, is_leaf=lambda s: s is None or
                     isinstance(s, P)) if False else specs, is_leaf=lambda s: s is None or
        isinstance(s, P))[0]
    per_leaf = []
    for a, s in zip(args, spec_leaves):
      per_leaf += [s] * len(jax.tree.leaves(a))
    closed = jax.make_jaxpr(lambda *xs: f(*jax.tree.unflatten(tree, xs)))(*flat)
    in_dims = [partition.dims_of(s or P(), np.ndim(x)) for x, s in zip(flat, per_leaf)]
    params_ = partition.partition(closed, in_dims, mesh)
    placed = [jax.device_put(x, NamedSharding(mesh, s or P())) for x, s in zip(flat, per_leaf)]
    got = shard_map_mod.shard_map_p.bind(*placed, **params_)
    want = jax.tree.leaves(f(*args))
    for g, w in zip(got, want):
      if np.shape(g) != np.shape(w) or not np.allclose(np.asarray(g), np.asarray(w),
                                                        rtol=2e-5, atol=2e-5):
        print(f"FAIL {name}: got {np.asarray(g)!r} want {np.asarray(w)!r}")
        bad += 1
    moves = str(params_["jaxpr"]).count("all_gather")
    if local and moves:
      print(f"FAIL {name}: {moves} all_gather in the partitioned body:\n{params_['jaxpr']}")
      bad += 1
    print(f"OK {name} ({moves} all_gather)")
  print("ALL OK" if not bad else f"{bad} FAILED")
  sys.exit(1 if bad else 0)


if __name__ == "__main__":
  main()

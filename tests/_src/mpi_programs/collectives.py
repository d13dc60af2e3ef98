"""Run under `mpirun -n 2` with 2 CPU devices per process (tests/_src/test_distributed.py):
every collective across the processes, checked against NumPy on the global data.
Prints `OK <case>` per case (process 0) and `DONE`."""
import os
import sys

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
import numpy as np  # noqa: E402

import pyjax as jax  # noqa: E402
import pyjax.numpy as jnp  # noqa: E402
from pyjax import lax  # noqa: E402
from pyjax.experimental import multihost_utils as mh  # noqa: E402
from pyjax.sharding import NamedSharding, PartitionSpec as P  # noqa: E402

jax.distributed.initialize()
me, nproc = jax.process_index(), jax.process_count()
N = jax.device_count()
assert nproc == 2 and N == 4, (nproc, N)


def check(name, got, want):
  got = np.asarray(got)
  if got.shape != np.shape(want) or not np.allclose(got, want, rtol=1e-6, atol=1e-6):
    print(f"FAIL {name} (process {me}): got {got!r}, want {np.asarray(want)!r}", flush=True)
    sys.exit(1)
  if me == 0:
    print(f"OK {name}", flush=True)


# devices and processes
check("devices", [d.id for d in jax.devices()], [0, 1, 2048, 2049])
check("local_devices", [d.id for d in jax.local_devices()], [2048 * me, 2048 * me + 1])
check("process_index", [d.process_index for d in jax.devices()], [0, 0, 1, 1])

# global data: member k of the mesh axis holds rows [2k, 2k+2) of G
G = np.arange(8 * 3, dtype=np.float32).reshape(8, 3) ** 1.5 / 7
mesh = jax.make_mesh((4,), ("x",))
x = jax.make_array_from_process_local_data(NamedSharding(mesh, P("x")), G[4 * me:4 * me + 4])
check("global_shape", x.shape, (8, 3))
assert not x.is_fully_addressable
assert repr(x) == "Array(shape=(8, 3), dtype=float32)", repr(x)
try:
  np.asarray(x)
  raise AssertionError("no error")
except RuntimeError as e:
  assert "spans non-addressable" in str(e)
check("addressable_shards", np.concatenate([np.asarray(s.data) for s in x.addressable_shards]),
      G[4 * me:4 * me + 4])
check("process_allgather", mh.process_allgather(x, tiled=True), G)
check("eager_sum", jnp.sum(x), G.sum())
check("eager_elementwise", mh.process_allgather(jnp.sin(x) * 2, tiled=True), np.sin(G) * 2)
check("jit_global", mh.process_allgather(jax.jit(lambda a: jnp.sum(a ** 2, axis=1) + 1)(x), tiled=True), (G ** 2).sum(1) + 1)

# jit over the sharded batch, partitioned (GSPMD's way): a loss and its gradient
W = (np.arange(15, dtype=np.float32).reshape(3, 5) - 7) / 10


def loss(w, a):
  h = jnp.tanh(a @ w)
  return jnp.mean(h ** 2) + 0.1 * jnp.sum(jnp.maximum(h, 0).reshape(8, 5)[:, :2])


lj, gj = jax.jit(jax.value_and_grad(loss))(W, x)
lw, gw = jax.value_and_grad(loss)(W, jnp.asarray(G))  # one process, the whole batch
check("jit_partitioned_loss", lj, np.asarray(lw))
check("jit_partitioned_grad", gj, np.asarray(gw))
bx = jax.jit(lambda a, w: jnp.tanh(a @ w) * 2)(x, W)
assert bx.sharding.spec == P("x", None), bx.sharding
check("jit_partitioned_batch", mh.process_allgather(bx, tiled=True), np.tanh(G @ W) * 2)

blocks = G.reshape(4, 2, 3)  # per member


def smap(f, out_specs=P()):
  return jax.jit(jax.shard_map(f, mesh=mesh, in_specs=P("x"), out_specs=out_specs,
                               check_vma=False))


check("psum", smap(lambda a: lax.psum(a, "x"))(x), blocks.sum(0))
check("psum_chain", smap(lambda a: lax.psum(lax.psum(a, "x") * 2 + a, "x"))(x),
      9 * blocks.sum(0))
tup = smap(lambda a: lax.psum((a, a[0] * 3, (a > 10).astype(jnp.int32)), "x"))(x)
check("psum_tree_combined", jnp.concatenate([tup[0].ravel(), tup[1], tup[2].ravel()]),
      np.concatenate([blocks.sum(0).ravel(), 3 * blocks[:, 0].sum(0),
                      (blocks > 10).sum(0).ravel()]))
check("pmax", smap(lambda a: lax.pmax(a, "x"))(x), blocks.max(0))
check("pmin", smap(lambda a: lax.pmin(a, "x"))(x), blocks.min(0))
check("pmean", smap(lambda a: lax.pmean(a, "x"))(x), blocks.mean(0))
check("all_gather_tiled", smap(lambda a: lax.all_gather(a, "x", tiled=True))(x), G)
check("all_gather", smap(lambda a: lax.all_gather(a, "x"))(x), blocks)
idx = smap(lambda a: lax.axis_index("x")[None], P("x"))(x)
check("axis_index", mh.process_allgather(idx, tiled=True), np.arange(4))
perm = [(i, (i + 1) % 4) for i in range(4)]
pp = smap(lambda a: lax.ppermute(a, "x", perm), P("x"))(x)
check("ppermute", mh.process_allgather(pp, tiled=True), np.roll(blocks, 1, 0).reshape(8, 3))
part = [(0, 3), (3, 1)]  # members 1 and 2 receive nothing (zeros)
pp2 = smap(lambda a: lax.ppermute(a, "x", part), P("x"))(x)
want = np.zeros_like(blocks)
want[3], want[1] = blocks[0], blocks[3]
check("ppermute_partial", mh.process_allgather(pp2, tiled=True), want.reshape(8, 3))
rs = smap(lambda a: lax.psum_scatter(jnp.tile(a, (2, 1)), "x", tiled=True), P("x"))(x)
check("psum_scatter", mh.process_allgather(rs, tiled=True),
      np.tile(blocks.sum(0), (2, 1)))
a2a = smap(lambda a: lax.all_to_all(jnp.tile(a, (2, 1)), "x", 0, 0, tiled=True), P("x"))(x)
# member k receives piece k (one row) of each member's (4, 3) tile, concatenated
tiles = np.tile(blocks, (1, 2, 1))  # (member, 4, 3)
check("all_to_all", mh.process_allgather(a2a, tiled=True),
      np.concatenate([tiles[:, k] for k in range(4)]))

pb = smap(lambda a: lax.pbroadcast(a, "x", source=2), P("x"))(x)
check("pbroadcast", mh.process_allgather(pb, tiled=True), np.tile(blocks[2], (4, 1)))

# a 2-d mesh: 'p' spans the processes, 'd' is local
mesh2 = jax.make_mesh((2, 2), ("p", "d"))
H = np.arange(8 * 4, dtype=np.float32).reshape(8, 4)
y = jax.make_array_from_process_local_data(NamedSharding(mesh2, P("p", "d")),
                                           H[4 * me:4 * me + 4])
f2 = jax.jit(jax.shard_map(lambda a: (lax.psum(a, "p"), lax.psum(a, ("p", "d"))),
                           mesh=mesh2, in_specs=P("p", "d"), out_specs=(P(None, "d"), P()),
                           check_vma=False))
s_p, s_all = f2(y)
check("psum_2d_p", s_p, H.reshape(2, 4, 4).sum(0))
check("psum_2d_all", s_all, H.reshape(2, 4, 2, 2).sum((0, 2)))

# pmap: each process maps its local data over its devices; the axis spans all four
loc = G[4 * me:4 * me + 4].reshape(2, 2, 3)
out = jax.pmap(lambda a: (lax.psum(a, "i"), lax.axis_index("i")), axis_name="i")(loc)
check("pmap_psum", out[0], np.broadcast_to(blocks.sum(0), (2, 2, 3)))
check("pmap_axis_index", out[1], [2 * me, 2 * me + 1])

# multihost_utils
check("broadcast_one_to_all", mh.broadcast_one_to_all(np.float32(me + 5)), 5.0)
check("process_allgather_stack", mh.process_allgather(np.float32(me)), [0.0, 1.0])
mh.sync_global_devices("end")
mh.assert_equal(np.arange(3))
try:
  mh.assert_equal(np.float32(me), "differs")
  raise AssertionError("no error")
except AssertionError as e:
  assert "differs" in str(e)
try:
  jax.distributed.initialize()
  raise AssertionError("no error")
except RuntimeError as e:
  assert "should only be called once" in str(e), e
if me == 0:
  print("OK multihost_utils")
  print("DONE", flush=True)

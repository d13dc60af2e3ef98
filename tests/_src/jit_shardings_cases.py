"""The multi-device cases of test_jit_shardings.py: run in a subprocess with 4 CPU devices
(XLA_FLAGS), once with pyjax and once with JAX (the text with "pyjax" -> "jax"); each line
is ``name|result``, results and errors printed alike."""
import os
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
import numpy as np
import pyjax
import pyjax.numpy as jnp
from pyjax.sharding import AxisType, NamedSharding, PartitionSpec as P

def show(name, f):
  try:
    r = f()
  except Exception as e:
    r = f"{type(e).__name__}: {e}"
  print(f"{name}|{r}".replace("\n", "\\n"))

def info(a):
  return f"{a.shape} {a.dtype} {a.sharding} {np.asarray(a).round(4).tolist()}"

g = np.arange(32., dtype=np.float32).reshape(8, 4)
wv = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
for kind in ("auto", "explicit"):
  at = AxisType.Auto if kind == "auto" else AxisType.Explicit
  mesh = pyjax.make_mesh((4,), ("batch",), axis_types=(at,))
  x = pyjax.device_put(g, NamedSharding(mesh, P("batch")))
  w = pyjax.device_put(wv, NamedSharding(mesh, P()))
  f = pyjax.jit(lambda x, w: (x, x * 2, x @ w, x.sum(), x.sum(0), x.sum(1), x.T,
                              jnp.tanh(x @ w).mean(1), x[:, 1:3],
                              jnp.concatenate([x, x], 1), (x - x.mean(0)) / 2,
                              x.reshape(8, 2, 2)))
  if kind == "auto":  # (Explicit meshes: JAX asks for the reshape's out_sharding)
    for i, o in enumerate(pyjax.jit(lambda x: (x.reshape(4, 8), x.reshape(32),
                                               x.reshape(2, 4, 4), x.reshape(16, 2)))(x)):
      show(f"{kind} reshape {i}", lambda: info(o))
  for i, o in enumerate(f(x, w)):
    show(f"{kind} propagate {i}", lambda: info(o))
  # f(w, x) with the batch dimension contracted: the loss's gradient wrt replicated w
  loss = lambda w, x: jnp.sum(jnp.tanh(x @ w) ** 2)
  if kind == "auto":
    for i, o in enumerate(pyjax.jit(pyjax.value_and_grad(loss))(w, x)):
      show(f"{kind} grad {i}", lambda: info(o))

mesh = pyjax.make_mesh((4,), ("x",), axis_types=(AxisType.Auto,))
s, r = NamedSharding(mesh, P("x")), NamedSharding(mesh, P())
x = pyjax.device_put(np.arange(8.), s)
ident = lambda a: a
def pair(a, b):
  return a + b
show("in mismatch", lambda: pyjax.jit(ident, in_shardings=r)(x))
show("in indivisible", lambda: pyjax.jit(ident, in_shardings=s)(np.arange(6.)))
show("in spec no mesh", lambda: pyjax.jit(ident, in_shardings=P("x"))(np.arange(8.)))
show("in wrong length", lambda: pyjax.jit(pair, in_shardings=(s,))(x, x))
show("in places", lambda: info(pyjax.jit(pair, in_shardings=(s, None))(np.arange(8.),
                                                                   np.ones(8))))
show("in prefix", lambda: [info(o) for o in pyjax.jit(lambda t: t, in_shardings=((s, r),))(
    (np.arange(8.), np.arange(3.)))])
show("in kwargs", lambda: pyjax.jit(ident, in_shardings=s)(a=np.arange(8.)))
show("in bad leaf", lambda: pyjax.jit(ident, in_shardings=3))
show("out tuple", lambda: [info(o) for o in pyjax.jit(
    lambda a: (a, a * 2), out_shardings=(r, s))(np.arange(8.))])
show("out prefix mismatch", lambda: pyjax.jit(lambda a: (a, a), out_shardings=(r, s, s))(
    np.arange(8.)))
show("out indivisible", lambda: pyjax.jit(ident, out_shardings=s)(np.arange(6.)))
show("out one for all", lambda: [info(o) for o in pyjax.jit(
    lambda a: {"u": a, "v": a * 2}, out_shardings=s)(np.arange(8.)).values()])
show("committed device", lambda: info(pyjax.jit(lambda a: a * 2)(
    pyjax.device_put(np.arange(8.), pyjax.devices()[1]))))
show("incompatible devices", lambda: pyjax.jit(pair)(
    x, pyjax.device_put(np.arange(8.), pyjax.devices()[1])))
show("sharded plus uncommitted", lambda: info(pyjax.jit(pair)(x, np.ones(8))))
show("scalar out", lambda: info(pyjax.jit(lambda a: (a * 2).sum())(x)))
wsc = pyjax.lax.with_sharding_constraint
show("wsc eager", lambda: info(wsc(np.arange(8.), s)))
show("wsc indivisible", lambda: wsc(np.arange(6.), s))
show("wsc spec no mesh", lambda: wsc(np.arange(8.), P("x")))
show("wsc rank", lambda: wsc(np.arange(8.), NamedSharding(mesh, P("x", None))))
show("wsc bad leaf", lambda: wsc(np.arange(8.), 3))
show("wsc in jit", lambda: info(pyjax.jit(lambda a: wsc(a * 2, s))(np.arange(8.))))
show("wsc pytree", lambda: [info(o) for o in wsc((np.arange(8.), np.arange(4.)), (s, r))])
show("wsc keeps input", lambda: info(x) + " / " + info(wsc(x, r)) + " / " + info(x))
show("sds", lambda: pyjax.ShapeDtypeStruct((8,), jnp.float32, sharding=s))
show("eval_shape sharded", lambda: pyjax.eval_shape(lambda a: a * 2, x))
show("jit eval_shape", lambda: pyjax.jit(lambda a: a * 2).eval_shape(x))
show("jit eval_shape out", lambda: pyjax.jit(lambda a: a * 2,
                                             out_shardings=r).eval_shape(x))
with pyjax.set_mesh(mesh):
  show("mesh in spec", lambda: info(pyjax.jit(ident, in_shardings=P("x"))(np.arange(8.))))
  show("mesh out spec", lambda: info(pyjax.jit(ident, out_shardings=P())(np.arange(8.))))
  show("mesh wsc spec", lambda: info(wsc(np.arange(8.), P("x"))))
  show("mesh wsc bad axis", lambda: wsc(np.arange(8.), P("y")))

@pyjax.jit(donate_argnums=0)
def step(a, b):
  return a + b
show("donate factory", lambda: info(step(np.arange(3.), 1.0)))

# (the cases above share few programs: each distinct one compiles, cold, in ~1 s)
# arrays from shards, on a 2-d mesh
mesh2 = pyjax.make_mesh((2, 2), ("x", "y"), axis_types=(AxisType.Auto,) * 2)
s2 = NamedSharding(mesh2, P("x", "y"))
show("callback", lambda: info(pyjax.make_array_from_callback((8, 4), s2, lambda i: g[i])))
show("callback replicated", lambda: info(pyjax.make_array_from_callback(
    (8, 4), NamedSharding(mesh2, P()), lambda i: g[i])))
show("callback scalar", lambda: info(pyjax.make_array_from_callback(
    (), NamedSharding(mesh2, P()), lambda i: 3)))
show("callback f64", lambda: info(pyjax.make_array_from_callback(
    (8, 4), s2, lambda i: g[i].astype(np.float64))))
show("callback dtype", lambda: pyjax.make_array_from_callback((8, 4), s2, lambda i: g[i],
                                                              dtype=jnp.int32))
show("callback shape", lambda: pyjax.make_array_from_callback((8, 4), s2, lambda i: g))
idx = s2.addressable_devices_indices_map((8, 4))
arrs = [pyjax.device_put(g[i], d) for d, i in idx.items()]
show("single", lambda: info(pyjax.make_array_from_single_device_arrays((8, 4), s2, arrs)))
show("single reversed", lambda: info(pyjax.make_array_from_single_device_arrays(
    (8, 4), s2, arrs[::-1])))
show("single count", lambda: pyjax.make_array_from_single_device_arrays(
    (8, 4), s2, arrs[:3]))
show("single same device", lambda: pyjax.make_array_from_single_device_arrays(
    (8, 4), s2, [pyjax.device_put(g[i], pyjax.devices()[0]) for i in idx.values()]))
show("single shape", lambda: pyjax.make_array_from_single_device_arrays(
    (8, 4), s2, [pyjax.device_put(g[:2], d) for d in idx]))
show("single iterator", lambda: pyjax.make_array_from_single_device_arrays(
    (8, 4), s2, iter(arrs)))
show("single dtype", lambda: pyjax.make_array_from_single_device_arrays(
    (8, 4), s2, arrs, dtype=jnp.int32))
show("local data", lambda: info(pyjax.make_array_from_process_local_data(
    NamedSharding(mesh2, P(("x", "y"))), g)))
show("local data shape", lambda: info(pyjax.make_array_from_process_local_data(
    s2, g, (8, 4))))
show("local data bad shape", lambda: pyjax.make_array_from_process_local_data(
    s2, g, (16, 4)))
for spec in [P(), P("x"), P(None, "y"), P(("x", "y")), P("y", "x"), P("y")]:
  z = pyjax.device_put(g, NamedSharding(mesh2, spec))
  show(f"shards {spec}", lambda: (
      z.is_fully_replicated, sorted(d.id for d in z.devices()),
      [(sh.device.id, sh.index, sh.replica_id, np.asarray(sh.data).sum())
       for sh in z.addressable_shards],
      [(sh.device.id, sh.index, sh.replica_id) for sh in z.global_shards],
      repr(z.addressable_shards[-1])))
show("sharding names", lambda: sorted(
    n for n in ("make_single_device_sharding", "NamedSharding", "SingleDeviceSharding")
    if hasattr(pyjax.sharding, n)))
show("single device sharding", lambda: pyjax.sharding.make_single_device_sharding(
    pyjax.devices()[2]))


def drawn(a):
  import contextlib
  import io
  buf = io.StringIO()
  with contextlib.redirect_stdout(buf):
    pyjax.debug.visualize_array_sharding(a)
  return buf.getvalue()


mesh1 = pyjax.make_mesh((4,), ("x",), axis_types=(AxisType.Auto,))
for shape, m, spec in [((8, 4), mesh2, P("x", "y")), ((8, 4), mesh2, P("x")),
                       ((8,), mesh1, P("x")), ((3,), mesh1, P()),
                       ((128, 8), mesh2, P(("x", "y"))), ((16, 16), mesh2, P(None, "y")),
                       ((4, 4), mesh2, P())]:
  show(f"visualize {shape} {spec}", lambda: drawn(
      pyjax.device_put(np.zeros(shape, np.float32), NamedSharding(m, spec))))
show("visualize one device", lambda: drawn(jnp.ones((4, 4))))
show("visualize 3-d", lambda: drawn(jnp.ones((2, 2, 2))))

fs = pyjax.jit(lambda a: a * 2, in_shardings=s, out_shardings=s)
show("jaxpr jit shardings", lambda: pyjax.make_jaxpr(fs)(np.arange(8.)))
show("jaxpr jit some shardings", lambda: pyjax.make_jaxpr(pyjax.jit(
    lambda a, b: (a * b, a), in_shardings=(s, None), out_shardings=(None, s)))(
        np.arange(8.), 2.))
show("jaxpr wsc", lambda: pyjax.make_jaxpr(lambda a: wsc(a, s))(np.arange(8.)))
with pyjax.set_mesh(mesh):
  show("jaxpr wsc mesh", lambda: pyjax.make_jaxpr(lambda a: wsc(a, P("x")))(np.arange(8.)))
show("nested jit shardings", lambda: info(pyjax.jit(lambda a: fs(a))(np.arange(8.))))
show("nested jit reduced", lambda: info(pyjax.jit(lambda a: fs(a).sum())(np.arange(8.))))
with pyjax.set_mesh(mesh):
  show("mesh wsc jit", lambda: info(pyjax.jit(lambda a: wsc(a * 2, P("x")))(np.arange(8.))))
sds_spec = pyjax.ShapeDtypeStruct((8,), jnp.float32, sharding=P("x"))  # (read lazily)
show("sds spec no mesh", lambda: repr(sds_spec))
with pyjax.set_mesh(mesh):
  show("sds spec", lambda: repr(sds_spec))

mesh_e = pyjax.make_mesh((4,), ("x",), axis_types=(AxisType.Explicit,))
xe = pyjax.device_put(np.arange(8.), NamedSharding(mesh_e, P("x")))
show("eval_shape explicit", lambda: pyjax.eval_shape(lambda a: a * 2, xe))
show("eval_shape explicit jit sum", lambda: pyjax.jit(lambda a: a.sum()).eval_shape(xe))
show("aot explicit", lambda: info(pyjax.jit(lambda a: a * 2).lower(xe).compile()(xe)))
show("aot auto", lambda: info(pyjax.jit(lambda a: a * 2).lower(x).compile()(x)))

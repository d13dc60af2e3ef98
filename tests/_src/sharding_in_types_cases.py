"""The cases of test_sharding_in_types.py: run as a script under pyjax or JAX (argv[1])
with 4 host devices, it prints one ``label: result`` line per case."""
import os
import sys

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"

if sys.argv[1] == "jax":
  import jax
  import jax.numpy as jnp
  from jax.sharding import AxisType, NamedSharding, PartitionSpec as P
else:
  sys.path.insert(0, os.getcwd())
  import pyjax as jax
  import pyjax.numpy as jnp
  from pyjax.sharding import AxisType, NamedSharding, PartitionSpec as P

import numpy as np  # noqa: E402


def out(label, f):
  try:
    r = f()
  except Exception as e:  # noqa: BLE001 (the error is the result)
    print(f"{label}: ERR {type(e).__name__}: {str(e).splitlines()[0]}")
    return
  if isinstance(r, str):
    print(f"{label}: {r}")
  elif isinstance(r, (list, tuple)):
    print(f"{label}: {' | '.join(_show(v) for v in r)}")
  else:
    print(f"{label}: {_show(r)}")


def _show(r):
  if isinstance(r, str):
    return r
  s = getattr(r, "sharding", None)
  spec = f" {s.spec}" if isinstance(s, NamedSharding) else ""
  return f"{jax.typeof(r)}{spec} sum={float(np.asarray(r, np.float64).sum()):.6g}"


mesh = jax.make_mesh((2, 2), ("x", "y"), axis_types=(AxisType.Explicit,) * 2)
ns = lambda *spec: NamedSharding(mesh, P(*spec))  # noqa: E731
x = jax.device_put(jnp.arange(32.0).reshape(8, 4), ns("x", None))
xy = jax.device_put(jnp.arange(32.0).reshape(8, 4) / 7, ns("x", "y"))
w = jax.device_put(jnp.ones((8, 4)), ns(None, "y"))
wy = jax.device_put(jnp.ones((8, 4)), ns("y", None))
b = jax.device_put(jnp.arange(24.0).reshape(4, 6) / 5, ns("y", None))
b2 = jax.device_put(jnp.arange(24.0).reshape(4, 6) / 3, ns(None, "y"))
x2 = jax.device_put(jnp.ones((8, 4)), ns(("x", "y"), None))

# types and printing
out("typeof", lambda: str(jax.typeof(x)))
out("typeof_repr", lambda: repr(jax.typeof(xy)))
out("typeof_tuple", lambda: str(jax.typeof(x2)))
out("typeof_plain", lambda: str(jax.typeof(jnp.ones(3))))
out("sharding", lambda: repr(x.sharding))
# elementwise
out("mul", lambda: x * 2)
out("sin_add", lambda: jnp.sin(x) + 1.0)
out("mixed", lambda: x + w)
out("conflict", lambda: x + wy)
out("where", lambda: jnp.where(x > 3, x, 0.0))
out("astype", lambda: x.astype(jnp.int32))
out("relu", lambda: jax.nn.relu(x - 5))
# shapes
out("transpose", lambda: x.T)
out("split_dim", lambda: x.reshape(2, 4, 4))
out("merge_dims", lambda: x.reshape(32))
out("split_tuple", lambda: x2.reshape(2, 4, 4))
out("bad_reshape", lambda: x.reshape(4, 8))
out("expand_dims", lambda: jnp.expand_dims(x, 1))
out("squeeze", lambda: jnp.squeeze(x.reshape(8, 1, 4), 1))
out("broadcast", lambda: jnp.broadcast_to(x[:, None, :], (8, 3, 4)))
out("slice_free", lambda: x[:, 1:3])
out("concat", lambda: jnp.concatenate([x, x], axis=1))
out("stack_axis1", lambda: jnp.stack([x, x], axis=1))
out("stack_conflict", lambda: jnp.stack([x, wy]))
out("unstack_free", lambda: jax.lax.unstack(x, axis=1))
out("unstack_sharded_axis", lambda: jax.lax.unstack(x, axis=0))
# reductions
out("sum0", lambda: jnp.sum(x, axis=0))
out("sum1", lambda: jnp.sum(x, axis=1))
out("sum_all", lambda: jnp.sum(x))
out("max1", lambda: jnp.max(x, axis=1))
out("argmax1", lambda: jnp.argmax(x, axis=1))
out("argmin0", lambda: jnp.argmin(x, axis=0))
out("cumsum1", lambda: jnp.cumsum(x, axis=1))
out("cumsum0", lambda: jnp.cumsum(x, axis=0))
out("sort1", lambda: jnp.sort(-x, axis=1))
# dot_general
out("dot_free", lambda: x @ b2)
out("dot_one_side", lambda: xy @ b2)
out("dot_contract", lambda: xy @ b)
out("dot_einsum", lambda: jnp.einsum("ij,jk->ik", x, b2))
# jaxprs
out("jaxpr_elementwise", lambda: " ".join(str(jax.make_jaxpr(
    lambda v: jnp.sin(v) * 2)(x)).split()))
out("jaxpr_dot", lambda: " ".join(str(jax.make_jaxpr(lambda u, v: u @ v)(x, b2)).split()))
out("jaxpr_reshard", lambda: " ".join(str(jax.make_jaxpr(
    lambda v: jax.sharding.reshard(v, ns(None, "x")))(x)).split()))
# reshard
out("reshard", lambda: jax.sharding.reshard(x, ns(None, "y")))
out("reshard_pytree", lambda: list(jax.sharding.reshard((x, w), ns("y"))))
out("reshard_none", lambda: jax.sharding.reshard(x, None))
out("reshard_spec_no_mesh", lambda: jax.sharding.reshard(x, P("x")))
out("eval_shape", lambda: repr(jax.eval_shape(lambda v: v * 2, x)))
out("jaxpr_shape_dtype_struct", lambda: " ".join(str(jax.make_jaxpr(lambda v: v + 1)(
    jax.ShapeDtypeStruct((8, 4), jnp.float32, sharding=ns("x")))).split()))
# jit
jf = jax.jit(lambda u, v: (jnp.tanh(u @ v), jnp.sum(u, axis=0)))
out("jit", lambda: list(jf(x, b2)))
out("jit_again", lambda: list(jf(x * 1, b2)))
out("jit_unsharded", lambda: list(jf(jnp.ones((8, 4)), jnp.ones((4, 6)))))
out("jit_resharded", lambda: list(jf(w, b2)))
with jax.set_mesh(mesh):  # (JAX's grad of a sharded function needs the mesh set)
  # grad: the cotangents are split as their primals
  g = jax.grad(lambda u, v: jnp.sum(jnp.tanh(u @ v / 64)), argnums=(0, 1))
  out("grad_dot", lambda: list(g(x, b2)))
  out("grad_sum", lambda: jax.grad(lambda u: jnp.sum(jnp.sin(u)))(x))
  out("grad_reshard", lambda: jax.grad(
      lambda u: jnp.sum(jax.sharding.reshard(u, ns(None, "y")) ** 2))(x))
  out("mesh_in_jit", lambda: repr(jax.jit(lambda v: jnp.zeros(
      (2,)) + 0 * jnp.sum(v))(x).shape) + " " + repr(jax.sharding.get_abstract_mesh()))
  out("reshard_spec", lambda: jax.sharding.reshard(x, P("y")))
  out("zeros", lambda: jnp.zeros((8, 4), out_sharding=P("x")))
  out("ones", lambda: jnp.ones((8, 4), out_sharding=P(None, "y")))
  out("full", lambda: jnp.full((8, 4), 3.0, out_sharding=P("x", "y")))
  out("arange", lambda: jnp.arange(8, out_sharding=P("x")))
  out("zeros_plain", lambda: jnp.zeros((8, 4)))
  out("jaxpr_zeros", lambda: " ".join(str(jax.make_jaxpr(
      lambda: jnp.zeros((8, 4), out_sharding=P("x")))()).split()))
  out("dot_out", lambda: jnp.dot(xy, b, out_sharding=P("x", None)))
  out("matmul_out", lambda: jnp.matmul(xy, b, out_sharding=P("x", "y")))
  out("einsum_out", lambda: jnp.einsum("ij,jk->ik", xy, b, out_sharding=P("x", None)))
  out("dot_general_out", lambda: jax.lax.dot_general(
      xy, b, (((1,), (0,)), ((), ())), out_sharding=P(None, "x")))
  out("grad_dot_out", lambda: list(jax.grad(lambda u, v: jnp.sum(
      jnp.dot(u, v, out_sharding=P("x", None))), argnums=(0, 1))(xy, b)))
  out("auto_axes", lambda: jax.jit(jax.sharding.auto_axes(
      lambda z: z * 2, out_sharding=P("x", None)))(x))
  out("jaxpr_auto_axes", lambda: " ".join(str(jax.make_jaxpr(jax.sharding.auto_axes(
      lambda z: z * 2, out_sharding=P("x", None)))(x)).split()))
  out("auto_axes_missing", lambda: jax.sharding.auto_axes(lambda z: z)(x))
  sq = jax.device_put(jnp.eye(4) * 2, ns("x", None))
  out("dup_axis", lambda: jnp.linalg.cholesky(sq))
  out("fft", lambda: jnp.fft.fft(x, axis=1))
  out("reduce_window", lambda: jax.lax.reduce_window(x, 0.0, jax.lax.add, (1, 2), (1, 1),
                                                     "VALID"))
  out("gather", lambda: x[jnp.array([0, 1])])
  out("rev", lambda: x[::-1])
  out("pad", lambda: jnp.pad(x, ((0, 0), (1, 1))))
  out("clip", lambda: jnp.clip(x, 1.0, 5.0))
  out("softmax", lambda: jax.nn.softmax(x, axis=1))
  out("logsumexp", lambda: jax.nn.logsumexp(x, axis=1))
  out("top_k", lambda: jax.lax.top_k(x, 2)[0])
  out("plain_plus_sharded", lambda: jnp.ones((8, 4)) + x)
  out("scan_xs", lambda: jax.lax.scan(lambda c, r: (c + r, c), jnp.zeros(4), x)[0])
  out("cond", lambda: jax.lax.cond(True, lambda v: v * 2, lambda v: v, x))
  out("vmap", lambda: jax.vmap(lambda r: r * 2)(x))
  out("zeros_like", lambda: jnp.zeros_like(x))
  out("array_copy", lambda: jnp.array(x))
  out("at_set_row", lambda: x.at[0].set(1.0))
  out("at_set_col", lambda: x.at[:, 0].set(1.0))
  out("stack", lambda: jnp.stack([x, x]))
  out("jit_device_put", lambda: jax.jit(lambda v: jax.device_put(v, P(None, "y")))(x))
  out("jit_constraint", lambda: jax.jit(
      lambda v: jax.lax.with_sharding_constraint(v * 2, P("x", None)))(x))
  out("grad_remat", lambda: jax.grad(lambda v: jnp.sum(jax.checkpoint(jnp.sin)(v)))(x))
  out("jit_grad", lambda: jax.jit(jax.grad(lambda v: jnp.sum(jnp.tanh(v / 32))))(x))
  out("reshape_out", lambda: jnp.reshape(x, (4, 8), out_sharding=P("x")))
  out("method_reshape_out", lambda: x.reshape(4, 8, out_sharding=P(None, "x")))
  out("ravel_out", lambda: jnp.ravel(x.T, out_sharding=P("x")))
  out("broadcast_out", lambda: jax.lax.broadcast_in_dim(x, (8, 4, 2), (0, 1),
                                                        out_sharding=P("x", None, "y")))
  out("jaxpr_reshape_out", lambda: " ".join(str(jax.make_jaxpr(
      lambda v: jnp.reshape(v, (4, 8), out_sharding=P("x")))(x)).split()))
  out("jaxpr_arange", lambda: " ".join(str(jax.make_jaxpr(
      lambda: jnp.arange(8, out_sharding=ns("x")))()).split()))
  seen = []

  def body(r):
    seen.append(str(jax.typeof(r)))
    return r * 2
  out("vmap_types", lambda: [jax.vmap(body)(x), jax.vmap(body, in_axes=1)(x),
                             jax.vmap(body)(xy), " ".join(seen)])
  out("jit_vmap", lambda: jax.jit(jax.vmap(lambda r: jnp.sum(r * 2)))(xy))
  out("jaxpr_vmap", lambda: " ".join(str(jax.make_jaxpr(
      jax.vmap(lambda r: jnp.sin(r) + 1))(xy)).split()))
  out("at_set_out", lambda: x.at[0].set(1.0, out_sharding=P("x")))
  out("at_add_out", lambda: x.at[1, 2].add(5.0, out_sharding=P(None, "y")))
  out("at_get_out", lambda: x.at[jnp.array([0, 3, 5, 7])].get(out_sharding=P("x")))
  out("jit_at_set_out", lambda: jax.jit(
      lambda v: v.at[0].set(1.0, out_sharding=P("x")))(x))
  out("lax_dot_out", lambda: jax.lax.dot(xy, b, out_sharding=P("x", None)))
  out("reduce_sum_out", lambda: jax.lax.reduce_sum(xy, (1,), out_sharding=P("y")))
  out("lax_broadcast_out", lambda: jax.lax.broadcast(xy, (2,), out_sharding=P(None, "x")))
  sq2 = jax.device_put(jnp.eye(4) * 2 + 1, ns("x", None))
  out("qr_sharded", lambda: jnp.linalg.qr(sq2)[0])
  out("svd_sharded", lambda: jnp.linalg.svd(sq2)[1])
  out("conv", lambda: jax.lax.conv(x[None, None], jnp.ones((1, 1, 3, 3)), (1, 1), "SAME"))
  out("random_out", lambda: jax.random.normal(jax.random.key(0), (8, 4),
                                               out_sharding=P("x")))
  out("zeros_indivisible", lambda: jnp.zeros((3, 4), out_sharding=P("x")))
  out("where_conflict", lambda: jnp.where(x > 1, x, wy))
  out("concat_conflict", lambda: jnp.concatenate([x, wy]))
  out("dynamic_slice", lambda: jax.lax.dynamic_slice(x, (2, 0), (4, 2)))
  out("dynamic_update_conflict", lambda: jax.lax.dynamic_update_slice(
      x, jnp.zeros((2, 2)), (0, 0)))
# a mesh with Auto axes: the types carry no sharding, eager results keep it
amesh = jax.make_mesh((2, 2), ("x", "y"), axis_types=(AxisType.Auto,) * 2)
xa = jax.device_put(jnp.arange(32.0).reshape(8, 4), NamedSharding(amesh, P("x", None)))
out("auto_typeof", lambda: str(jax.typeof(xa)))
out("auto_mul", lambda: xa * 2)
out("explicit_axes_no_mesh", lambda: jax.sharding.explicit_axes(
    lambda z: z * 2, in_sharding=NamedSharding(amesh, P("x", None)))(xa))
with jax.set_mesh(amesh):
  out("explicit_axes", lambda: jax.sharding.explicit_axes(
      lambda z: z * 2, in_sharding=P("x", None))(xa))
  out("jaxpr_explicit_axes", lambda: " ".join(str(jax.make_jaxpr(
      jax.sharding.explicit_axes(lambda z: jnp.sum(z, axis=1) * 2,
                                 in_sharding=P("x", None)))(xa)).split()))

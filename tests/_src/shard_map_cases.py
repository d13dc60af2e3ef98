"""shard_map cases for tests/_src/test_shard_map.py, run in a subprocess with 4 host
devices under real JAX (``python shard_map_cases.py jax``) or pyjax (``pyjax``); prints
one JSON object: values (one jitted program for most cases, a few eager calls),
errors (class and message) and jaxpr texts."""
import json
import sys

import numpy as np

if sys.argv[1] == "jax":
  import jax
  jax.config.update("jax_num_cpu_devices", 4)
else:
  import pyjax as jax

jnp, lax = jax.numpy, jax.lax
P = jax.sharding.PartitionSpec
Mesh = jax.sharding.Mesh
devs = np.array(jax.devices())
m1 = Mesh(devs, ("i",))
m2 = Mesh(devs.reshape(2, 2), ("x", "y"))
smap = jax.shard_map
RING = [(k, (k + 1) % 4) for k in range(4)]


def sm1(f, i=P("i"), o=P("i"), **kw):
  return smap(f, mesh=m1, in_specs=i, out_specs=o, **kw)


def sm2(f, i, o, **kw):
  return smap(f, mesh=m2, in_specs=i, out_specs=o, **kw)


g2 = sm2(lambda a, b: lax.psum(a @ b, "y"), (P("x", "y"), P("y", None)), P("x", None))


def loss_dp(w, x):
  return sm1(lambda w, x: lax.pmean(((x @ w) ** 2).sum(), "i"), i=(P(), P("i")), o=P())(w, x)


def closure(x, y):
  return sm1(lambda a: lax.psum(a * y, "i"), o=P())(x)


# name -> f(a8, a16, b43): run inside two jits, one per mesh ("m2_" cases on the 2-D
# mesh: JAX 0.10.2 fails one program mixing shard_maps over the two meshes)
VALUES = {
    "double": lambda a8, a16, b: sm1(lambda x: x * 2)(a8),
    "psum": lambda a8, a16, b: sm1(lambda x: lax.psum(x, "i"), o=P())(a8),
    "pmean": lambda a8, a16, b: sm1(lambda x: lax.pmean(x, "i"), o=P())(a8),
    "pmax": lambda a8, a16, b: sm1(lambda x: lax.pmax(x, "i"), o=P())(a8),
    "pmin": lambda a8, a16, b: sm1(lambda x: lax.pmin(-x, "i"), o=P())(a8),
    "all_gather": lambda a8, a16, b: sm1(lambda x: lax.all_gather(x, "i"))(a8),
    "all_gather_tiled": lambda a8, a16, b: sm1(
        lambda x: lax.all_gather(x, "i", tiled=True))(a8),
    "all_gather_axis1": lambda a8, a16, b: sm1(lambda x: lax.all_gather(x, "i", axis=1))(a16),
    "psum_scatter": lambda a8, a16, b: sm1(lambda x: lax.psum_scatter(x, "i", tiled=True),
                                           i=P(), o=P("i"))(a8 * a8),
    "psum_scatter_untiled": lambda a8, a16, b: sm1(lambda x: lax.psum_scatter(x, "i"),
                                                   i=P(None, "i"))(a16),
    "all_to_all": lambda a8, a16, b: sm1(lambda x: lax.all_to_all(x, "i", 0, 0, tiled=True))(
        a16.reshape(16)),
    "all_to_all_2d": lambda a8, a16, b: sm1(lambda x: lax.all_to_all(x, "i", 1, 0, tiled=True))(
        jnp.concatenate([a16, a16 + 16]).reshape(8, 4)),
    "all_to_all_untiled": lambda a8, a16, b: sm1(lambda x: lax.all_to_all(x[0], "i", 0, 0)[None],
                                                 i=P("i"))(a16.reshape(4, 4)),
    "ppermute": lambda a8, a16, b: sm1(lambda x: lax.ppermute(x, "i", RING))(a8),
    "ppermute_partial": lambda a8, a16, b: sm1(lambda x: lax.ppermute(x, "i", [(0, 1), (2, 3)]))(
        a8),
    "axis_index": lambda a8, a16, b: sm1(lambda x: x + lax.axis_index("i"))(a8),
    "replicated_in": lambda a8, a16, b: sm1(lambda x, y: x * y, i=(P("i"), P()))(a8, b[0, 1]),
    "pytree": lambda a8, a16, b: sm1(
        lambda d: {"s": d["a"] + d["b"], "t": d["a"] * 2},
        i=({"a": P("i"), "b": P("i")},), o={"s": P("i"), "t": P("i")})({"a": a8, "b": a8 + 1}),
    "out_prefix": lambda a8, a16, b: sm1(lambda x: (x, x * 3), o=P("i"))(a8),
    "unchecked_replicated": lambda a8, a16, b: sm1(lambda x: x, o=P(), check_vma=False)(a8),
    "int_psum": lambda a8, a16, b: sm1(lambda x: lax.psum(x, "i"), o=P())(
        a8.astype(jnp.int32)),
    "m2_matmul_psum": lambda a8, a16, b: g2(a16, b),
    "m2_psum_xy": lambda a8, a16, b: sm2(lambda a: lax.psum(a, ("x", "y")), P("x", "y"), P())(
        a16),
    "m2_psum_x": lambda a8, a16, b: sm2(lambda a: lax.psum(a, "x"), P("x", "y"), P(None, "y"))(
        a16),
    "m2_all_gather_xy": lambda a8, a16, b: sm2(
        lambda a: lax.all_gather(a, ("x", "y"), tiled=True), P(("x", "y")), P(("x", "y")))(a8),
    "m2_all_gather_yx": lambda a8, a16, b: sm2(
        lambda a: lax.all_gather(a, ("y", "x"), axis=1), P(("x", "y")), P(("x", "y")))(a8),
    "m2_axis_index_xy": lambda a8, a16, b: sm2(
        lambda a: a + lax.axis_index(("x", "y")), P(("x", "y")), P(("x", "y")))(a8),
    "m2_axis_index_yx": lambda a8, a16, b: sm2(
        lambda a: a + lax.axis_index(("y", "x")), P(("x", "y")), P(("x", "y")))(a8),
    "m2_ppermute_xy": lambda a8, a16, b: sm2(
        lambda a: lax.ppermute(a, ("x", "y"), RING), P(("x", "y")), P(("x", "y")))(a8),
    "m2_ppermute_y": lambda a8, a16, b: sm2(
        lambda a: lax.ppermute(a, "y", [(0, 1), (1, 0)]), P("x", "y"), P("x", "y"))(a16),
    "m2_psum_scatter_xy": lambda a8, a16, b: sm2(
        lambda a: lax.psum_scatter(a, ("x", "y"), tiled=True), P(), P(("x", "y")))(a8),
    "m2_psum_scatter_xy_untiled": lambda a8, a16, b: sm2(
        lambda a: lax.psum_scatter(a, ("x", "y")), P(None, ("x", "y")), P(("x", "y")))(a16),
    "m2_all_to_all_xy": lambda a8, a16, b: sm2(
        lambda a: lax.all_to_all(a, ("x", "y"), 0, 0, tiled=True), P(("x", "y")),
        P(("x", "y")))(a16.reshape(16)),
    "m2_all_to_all_xy_untiled": lambda a8, a16, b: sm2(
        lambda a: lax.all_to_all(a, ("x", "y"), 1, 0), P(("x", "y")), P(("x", "y")))(a16),
    "m2_spec_yx": lambda a8, a16, b: sm2(lambda a: a * 1, P(("y", "x")), P(("y", "x")))(a8),
    "m2_out_transposed": lambda a8, a16, b: sm2(lambda a: a.T, P("x", "y"), P("y", "x"))(a16),
    "m2_partial_manual": lambda a8, a16, b: smap(
        lambda a: lax.psum(a, "x"), mesh=m2, in_specs=P("x"), out_specs=P(),
        axis_names={"x"})(a16),
    "m2_unchecked_member0": lambda a8, a16, b: sm2(
        lambda a: a + lax.axis_index("y"), P("x"), P("x"), check_vma=False)(a16),
    "m2_grad": lambda a8, a16, b: jax.grad(lambda a, b: (g2(a, b) ** 2).sum(), argnums=(0, 1))(
        a16, b),
    "m2_grad_scalar": lambda a8, a16, b: jax.grad(
        lambda a, s: sm2(lambda a, s: a * s, (P("x", "y"), P()), P("x", "y"))(a, s).sum(),
        argnums=(0, 1))(a16, b[0, 1]),
    "m2_grad_pmean": lambda a8, a16, b: jax.grad(
        lambda a: (sm2(lambda a: lax.pmean(a, "x"), P("x", "y"), P(None, "y"))(a) ** 2).sum())(
        a16),
    "grad_all_gather": lambda a8, a16, b: jax.grad(
        lambda a: (sm1(lambda x: lax.all_gather(x, "i", tiled=True) * x.sum())(a) ** 2).sum())(
        a8),
    "grad_ppermute": lambda a8, a16, b: jax.grad(
        lambda a: (sm1(lambda x: lax.ppermute(x, "i", RING) * jnp.arange(2.))(a) ** 2).sum())(
        a8),
    "grad_data_parallel": lambda a8, a16, b: jax.value_and_grad(loss_dp)(
        b[:2, :] @ jnp.ones((3, 2)), a16.reshape(8, 2) @ jnp.ones((2, 2)) / 8),
    "m2_vmap": lambda a8, a16, b: jax.vmap(g2, in_axes=(0, None))(jnp.stack([a16, a16 + 1]), b),
    "vmap_axis1": lambda a8, a16, b: jax.vmap(sm1(lambda x: lax.psum(x, "i"), o=P()),
                                              in_axes=1)(a16.reshape(8, 2)),
    "m2_jvp": lambda a8, a16, b: jax.jvp(g2, (a16, b), (jnp.ones_like(a16), jnp.ones_like(b))),
    "of_jit": lambda a8, a16, b: sm1(jax.jit(lambda x: lax.psum(x * 2, "i")), o=P())(a8),
    "of_vmap": lambda a8, a16, b: sm1(jax.vmap(lambda x: lax.psum(x, "i")), o=P())(
        a16.reshape(8, 2)),
    "of_grad_unchecked": lambda a8, a16, b: sm1(
        jax.grad(lambda x: lax.psum((x ** 2).sum(), "i")), check_vma=False)(a8),
    "closure": lambda a8, a16, b: closure(a8, b[0, 1]),
    "closure_grad": lambda a8, a16, b: jax.grad(lambda x, y: closure(x, y).sum(),
                                                argnums=(0, 1))(a8, b[0, 1]),
    "closure_vmap": lambda a8, a16, b: jax.vmap(closure, in_axes=(None, 0))(a8, b[0]),
    "scan_inside": lambda a8, a16, b: sm1(
        lambda x: lax.scan(lambda c, y: (c + lax.psum(y, "i"), c), 0.0, x)[1])(a8),
}


def a8_a16_b():
  return (jnp.arange(8.), jnp.arange(16.).reshape(4, 4),
          jnp.arange(12.).reshape(4, 3) / 10)


def eager_cases():
  a8, a16, b = a8_a16_b()
  r1 = sm1(lambda x: x + 1)(np.arange(8, dtype=np.float32))
  r2 = g2(a16, b)
  r3 = sm2(lambda a: a, P("x", "y"), P("x", "y"))(a16)
  me = jax.make_mesh((2, 2), ("x", "y"))  # Explicit axes: in_specs inferred
  xs = jax.device_put(a16, jax.sharding.NamedSharding(me, P("x", "y")))
  r4 = smap(lambda a: a * 2, mesh=me, out_specs=P("x", "y"))(xs)
  with jax.set_mesh(me):
    r5 = smap(lambda a: a.sum(keepdims=True), out_specs=P("x", "y"))(xs)
  return {
      "explicit_inferred": r4, "explicit_sharding": str(r4.sharding),
      "explicit_given": smap(lambda a: a * 2, mesh=me, in_specs=P("x", "y"),
                             out_specs=P("x", "y"))(xs),
      "context_mesh": r5,
      "eager_numpy_in": r1, "eager_matmul_psum": r2,
      "eager_grad": jax.grad(lambda a: (g2(a, b) ** 2).sum())(a16),
      "eager_vmap": jax.vmap(sm1(lambda x: lax.psum(x, "i"), o=P()))(a16.reshape(2, 8)),
      "sharding_1d": str(r1.sharding), "sharding_2d": str(r3.sharding),
      "sharding_rep": str(r2.sharding),
      "shards": [str(s.index) for s in r3.addressable_shards],
  }


def f(x):
  return x


def _err(fn):
  try:
    fn()
  except Exception as e:  # noqa: BLE001 (the class and text are what is compared)
    return {"error": type(e).__name__, "msg": str(e)}
  return {"error": None}


def error_cases():
  a8, a16, _ = a8_a16_b()
  E = {
      "in_prefix": lambda: smap(lambda x, y: x, mesh=m2, in_specs=(P("x"), P("x"), P()),
                                out_specs=P("x"))(a16, a16),
      "out_prefix": lambda: smap(lambda x: (x, x), mesh=m2, in_specs=P("x"),
                                 out_specs=(P("x"), P("x"), P()))(a16),
      "unknown_in": lambda: smap(f, mesh=m2, in_specs=P("z"), out_specs=P("x"))(a16),
      "unknown_out": lambda: smap(f, mesh=m2, in_specs=P("x"), out_specs=P("z"))(a16),
      "in_too_long": lambda: smap(f, mesh=m2, in_specs=P("x", None, None),
                                  out_specs=P("x"))(a16),
      "out_too_long": lambda: smap(lambda x: x.sum(1), mesh=m2, in_specs=P("x"),
                                   out_specs=P("x", "y"))(a16),
      "scalar_out_too_long": lambda: smap(lambda x: x.sum(), mesh=m2, in_specs=P("x"),
                                          out_specs=P("x"))(a16),
      "indivisible": lambda: smap(f, mesh=m2, in_specs=P(("x", "y")), out_specs=P("x"))(
          jnp.arange(6.)),
      "indivisible_two": lambda: smap(lambda x, y: x, mesh=m2, in_specs=(P("x"), P(None, "y")),
                                      out_specs=P("x"))(jnp.ones((3, 2)), jnp.ones((2, 3))),
      "out_twice": lambda: smap(f, mesh=m2, in_specs=P("x"), out_specs=P("x", "x"))(a16),
      "in_twice": lambda: smap(f, mesh=m2, in_specs=P("x", "x"), out_specs=P("x"))(a16),
      "vma_eager": lambda: smap(f, mesh=m2, in_specs=P("x", "y"), out_specs=P("x"))(a16),
      "vma_jit": lambda: jax.jit(smap(f, mesh=m2, in_specs=P("x", "y"), out_specs=P("x")))(
          a16),
      "vma_tuple_jit": lambda: jax.jit(smap(lambda x, y: (x, y * 2), mesh=m2,
                                            in_specs=(P("x", "y"), P("y")),
                                            out_specs=(P("x", "y"), P())))(a16, a16),
      "vma_gathered": lambda: jax.jit(smap(lambda x: lax.all_gather(x, ("x", "y"), tiled=True),
                                           mesh=m2, in_specs=P(("x", "y")), out_specs=P()))(a8),
      "no_mesh": lambda: smap(f, in_specs=P("x"), out_specs=P("x"))(a16),
      "spec_not_p": lambda: smap(f, mesh=m2, in_specs="x", out_specs=P("x"))(a16),
      "in_specs_none": lambda: smap(f, mesh=m2, in_specs=None, out_specs=P("x"))(a16),
      "no_in_specs_auto": lambda: smap(f, mesh=m2, out_specs=P())(a16),
      "axis_names_bad": lambda: smap(f, mesh=m2, in_specs=P("x"), out_specs=P("x"),
                                     axis_names={"q"})(a16),
      "not_callable": lambda: smap(3, mesh=m2, in_specs=P("x"), out_specs=P("x")),
      "psum_scatter_size": lambda: sm1(lambda x: lax.psum_scatter(x, "i", tiled=True))(a8),
      "explicit_mismatch": lambda: smap(
          lambda a: a, mesh=jax.make_mesh((2, 2), ("x", "y")), in_specs=P("x", "y"),
          out_specs=P("x", "y"))(a16),
      "unbound_outside": lambda: lax.psum(a8, "i"),
  }
  return {k: _err(v) for k, v in E.items()}


def jaxpr_cases():
  a8, a16, b = a8_a16_b()
  unchecked = sm1(lambda x: x * 2, check_vma=False)
  partial_manual = smap(lambda x, y: (x * y, y), mesh=m2, in_specs=(P("x"), P()),
                        out_specs=(P("x"), P()), check_vma=False, axis_names={"x"})
  return {
      "unchecked": str(jax.make_jaxpr(unchecked)(a8)),
      "partial_manual": str(jax.make_jaxpr(partial_manual)(a16, b[0, 0])),
      "jit_unchecked": str(jax.make_jaxpr(jax.jit(unchecked))(a8)),
      "checked_matmul": str(jax.make_jaxpr(g2)(a16, b)),
  }


def encode(v):
  if isinstance(v, (list, tuple)):
    return [encode(x) for x in v]
  if isinstance(v, dict):
    return {k: encode(x) for k, x in sorted(v.items())}
  if isinstance(v, str):
    return v
  x = np.asarray(v)
  return {"dtype": str(x.dtype), "shape": list(x.shape), "v": x.astype(float).ravel().tolist()}


def main():
  vals = {}
  for two in (False, True):
    sub = {k: fn for k, fn in VALUES.items() if k.startswith("m2_") == two}
    vals.update(jax.jit(lambda *xs: {k: fn(*xs) for k, fn in sub.items()})(*a8_a16_b()))
  out = {"values": encode(vals), "eager": encode(eager_cases()), "errors": error_cases(),
         "jaxprs": jaxpr_cases()}
  print(json.dumps(out))


if __name__ == "__main__":
  main()

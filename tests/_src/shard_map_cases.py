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
  return sm1(lambda w, x: lax.pmean(((x @ w) ** 2).sum(), "i"), i=(P(), P("i")),
             o=P())(w, x)


def closure(x, y):
  return sm1(lambda a: lax.psum(a * y, "i"), o=P())(x)


def vma_ok(f):
  """A case whose replicated output check_vma must accept (f(shard, scalar))."""
  return lambda v, m, b: sm1(f, i=(P("i"), P()), o=P())(v, b[0, 1] + 1)


# name -> f(v, m, b): run inside two jits, one per mesh ("m2_" cases on the 2-D
# mesh: JAX 0.10.2 fails one program mixing shard_maps over the two meshes)
VALUES = {
    "double": lambda v, m, b: sm1(lambda x: x * 2)(v),
    "psum": lambda v, m, b: sm1(lambda x: lax.psum(x, "i"), o=P())(v),
    "pmean": lambda v, m, b: sm1(lambda x: lax.pmean(x, "i"), o=P())(v),
    "pmax": lambda v, m, b: sm1(lambda x: lax.pmax(x, "i"), o=P())(v),
    "pmin": lambda v, m, b: sm1(lambda x: lax.pmin(-x, "i"), o=P())(v),
    "all_gather": lambda v, m, b: sm1(lambda x: lax.all_gather(x, "i"))(v),
    "all_gather_tiled": lambda v, m, b: sm1(
        lambda x: lax.all_gather(x, "i", tiled=True))(v),
    "all_gather_axis1": lambda v, m, b: sm1(lambda x: lax.all_gather(x, "i", axis=1))(m),
    "psum_scatter": lambda v, m, b: sm1(lambda x: lax.psum_scatter(x, "i", tiled=True),
                                           i=P(), o=P("i"))(v * v),
    "psum_scatter_untiled": lambda v, m, b: sm1(lambda x: lax.psum_scatter(x, "i"),
                                                   i=P(None, "i"))(m),
    "all_to_all": lambda v, m, b: sm1(lambda x: lax.all_to_all(x, "i", 0, 0, tiled=True))(
        m.reshape(16)),
    "all_to_all_2d": lambda v, m, b: sm1(
        lambda x: lax.all_to_all(x, "i", 1, 0, tiled=True))(
        jnp.concatenate([m, m + 16]).reshape(8, 4)),
    "all_to_all_untiled": lambda v, m, b: sm1(
        lambda x: lax.all_to_all(x[0], "i", 0, 0)[None],
                                                 i=P("i"))(m.reshape(4, 4)),
    "ppermute": lambda v, m, b: sm1(lambda x: lax.ppermute(x, "i", RING))(v),
    "ppermute_partial": lambda v, m, b: sm1(
        lambda x: lax.ppermute(x, "i", [(0, 1), (2, 3)]))(
        v),
    "axis_index": lambda v, m, b: sm1(lambda x: x + lax.axis_index("i"))(v),
    "replicated_in": lambda v, m, b: sm1(lambda x, y: x * y, i=(P("i"), P()))(v, b[0, 1]),
    "pytree": lambda v, m, b: sm1(
        lambda d: {"s": d["a"] + d["b"], "t": d["a"] * 2},
        i=({"a": P("i"), "b": P("i")},), o={"s": P("i"), "t": P("i")})(
        {"a": v, "b": v + 1}),
    "out_prefix": lambda v, m, b: sm1(lambda x: (x, x * 3), o=P("i"))(v),
    "unchecked_replicated": lambda v, m, b: sm1(lambda x: x, o=P(), check_vma=False)(v),
    "int_psum": lambda v, m, b: sm1(lambda x: lax.psum(x, "i"), o=P())(
        v.astype(jnp.int32)),
    "m2_matmul_psum": lambda v, m, b: g2(m, b),
    "m2_psum_xy": lambda v, m, b: sm2(lambda a: lax.psum(a, ("x", "y")), P("x", "y"), P())(
        m),
    "m2_psum_x": lambda v, m, b: sm2(lambda a: lax.psum(a, "x"), P("x", "y"), P(None, "y"))(
        m),
    "m2_all_gather_xy": lambda v, m, b: sm2(
        lambda a: lax.all_gather(a, ("x", "y"), tiled=True), P(("x", "y")),
        P(("x", "y")))(v),
    "m2_all_gather_yx": lambda v, m, b: sm2(
        lambda a: lax.all_gather(a, ("y", "x"), axis=1), P(("x", "y")), P(("x", "y")))(v),
    "m2_axis_index_xy": lambda v, m, b: sm2(
        lambda a: a + lax.axis_index(("x", "y")), P(("x", "y")), P(("x", "y")))(v),
    "m2_axis_index_yx": lambda v, m, b: sm2(
        lambda a: a + lax.axis_index(("y", "x")), P(("x", "y")), P(("x", "y")))(v),
    "m2_ppermute_xy": lambda v, m, b: sm2(
        lambda a: lax.ppermute(a, ("x", "y"), RING), P(("x", "y")), P(("x", "y")))(v),
    "m2_ppermute_y": lambda v, m, b: sm2(
        lambda a: lax.ppermute(a, "y", [(0, 1), (1, 0)]), P("x", "y"), P("x", "y"))(m),
    "m2_psum_scatter_xy": lambda v, m, b: sm2(
        lambda a: lax.psum_scatter(a, ("x", "y"), tiled=True), P(), P(("x", "y")))(v),
    "m2_psum_scatter_xy_untiled": lambda v, m, b: sm2(
        lambda a: lax.psum_scatter(a, ("x", "y")), P(None, ("x", "y")), P(("x", "y")))(m),
    "m2_all_to_all_xy": lambda v, m, b: sm2(
        lambda a: lax.all_to_all(a, ("x", "y"), 0, 0, tiled=True), P(("x", "y")),
        P(("x", "y")))(m.reshape(16)),
    "m2_all_to_all_xy_untiled": lambda v, m, b: sm2(
        lambda a: lax.all_to_all(a, ("x", "y"), 1, 0), P(("x", "y")), P(("x", "y")))(m),
    "m2_spec_yx": lambda v, m, b: sm2(lambda a: a * 1, P(("y", "x")), P(("y", "x")))(v),
    "m2_out_transposed": lambda v, m, b: sm2(lambda a: a.T, P("x", "y"), P("y", "x"))(m),
    "m2_partial_manual": lambda v, m, b: smap(
        lambda a: lax.psum(a, "x"), mesh=m2, in_specs=P("x"), out_specs=P(),
        axis_names={"x"})(m),
    "m2_unchecked_member0": lambda v, m, b: sm2(
        lambda a: a + lax.axis_index("y"), P("x"), P("x"), check_vma=False)(m),
    "m2_grad": lambda v, m, b: jax.grad(lambda a, b: (g2(a, b) ** 2).sum(), argnums=(0, 1))(
        m, b),
    "m2_grad_scalar": lambda v, m, b: jax.grad(
        lambda a, s: sm2(lambda a, s: a * s, (P("x", "y"), P()), P("x", "y"))(a, s).sum(),
        argnums=(0, 1))(m, b[0, 1]),
    "m2_grad_pmean": lambda v, m, b: jax.grad(
        lambda a: (sm2(lambda a: lax.pmean(a, "x"), P("x", "y"), P(None, "y"))(a) ** 2
                   ).sum())(
        m),
    "grad_all_gather": lambda v, m, b: jax.grad(
        lambda a: (sm1(lambda x: lax.all_gather(x, "i", tiled=True) * x.sum())(a) ** 2
                   ).sum())(
        v),
    "grad_ppermute": lambda v, m, b: jax.grad(
        lambda a: (sm1(lambda x: lax.ppermute(x, "i", RING) * jnp.arange(2.))(a) ** 2
                   ).sum())(
        v),
    "grad_data_parallel": lambda v, m, b: jax.value_and_grad(loss_dp)(
        b[:2, :] @ jnp.ones((3, 2)), m.reshape(8, 2) @ jnp.ones((2, 2)) / 8),
    "m2_vmap": lambda v, m, b: jax.vmap(g2, in_axes=(0, None))(jnp.stack([m, m + 1]), b),
    "vmap_axis1": lambda v, m, b: jax.vmap(sm1(lambda x: lax.psum(x, "i"), o=P()),
                                              in_axes=1)(m.reshape(8, 2)),
    "m2_jvp": lambda v, m, b: jax.jvp(g2, (m, b), (jnp.ones_like(m), jnp.ones_like(b))),
    "of_jit": lambda v, m, b: sm1(jax.jit(lambda x: lax.psum(x * 2, "i")), o=P())(v),
    "of_vmap": lambda v, m, b: sm1(jax.vmap(lambda x: lax.psum(x, "i")), o=P())(
        m.reshape(8, 2)),
    "of_grad_checked": lambda v, m, b: sm1(
        jax.grad(lambda x: lax.psum((x ** 2).sum(), "i")))(v),
    "of_grad_pmean_sharded_param": lambda v, m, b: sm1(
        jax.grad(lambda w, x: lax.pmean((x * w).sum(), "i")), i=(P("i"), P("i")))(v, v + 1),
    "of_grad_unchecked": lambda v, m, b: sm1(
        jax.grad(lambda x: lax.psum((x ** 2).sum(), "i")), check_vma=False)(v),
    "closure": lambda v, m, b: closure(v, b[0, 1]),
    "closure_grad": lambda v, m, b: jax.grad(lambda x, y: closure(x, y).sum(),
                                                argnums=(0, 1))(v, b[0, 1]),
    "closure_vmap": lambda v, m, b: jax.vmap(closure, in_axes=(None, 0))(v, b[0]),
    "vma_scan_carry": vma_ok(
        lambda a, s: lax.scan(lambda c, y: (c * s, y * c), s, a)[0]),
    "vma_scan_psum": vma_ok(
        lambda a, s: lax.scan(lambda c, y: (c + lax.psum(y, "i"), y), s, a)[0]),
    "vma_while": vma_ok(lambda a, s: lax.while_loop(lambda c: c < 10., lambda c: c * s, s)),
    "vma_while_varying_pred": vma_ok(lambda a, s: lax.while_loop(
        lambda c: c[0] < a[0] + 1, lambda c: (c[0] + 1, c[1] * s), (s, s))[1]),
    "vma_cond_varying_pred": vma_ok(
        lambda a, s: lax.cond(a[0] > 1, lambda: s, lambda: s * 2)),
    "vma_fori": vma_ok(lambda a, s: lax.fori_loop(0, 3, lambda i, c: c * s, s)),
    "vma_custom_jvp": vma_ok(
        lambda a, s: jax.nn.relu(s) + jax.nn.relu(lax.psum(a, "i")).sum()),
    "vma_jit": vma_ok(lambda a, s: jax.jit(lambda u, w: (u * w, w * 2))(a, s)[1]),
    "scan_inside": lambda v, m, b: sm1(
        lambda x: lax.scan(lambda c, y: (c + lax.psum(y, "i"), c), 0.0, x)[1])(v),
}


def inputs():
  return (jnp.arange(8.), jnp.arange(16.).reshape(4, 4),
          jnp.arange(12.).reshape(4, 3) / 10)


def eager_cases():
  v, m, b = inputs()
  r1 = sm1(lambda x: x + 1)(np.arange(8, dtype=np.float32))
  r2 = g2(m, b)
  r3 = sm2(lambda a: a, P("x", "y"), P("x", "y"))(m)
  me = jax.make_mesh((2, 2), ("x", "y"))  # Explicit axes: in_specs inferred
  xs = jax.device_put(m, jax.sharding.NamedSharding(me, P("x", "y")))
  r4 = smap(lambda a: a * 2, mesh=me, out_specs=P("x", "y"))(xs)
  with jax.set_mesh(me):
    r5 = smap(lambda a: a.sum(keepdims=True), out_specs=P("x", "y"))(xs)
  with jax.set_mesh(m2):
    r6 = jax.smap(lambda a: lax.psum(a, "x") + a, in_axes=1, out_axes=1, axis_name="x")(m)
    r7 = jax.smap(lambda a, s: a * s, in_axes=(0, None), out_axes=0, axis_name="y")(m, 2.0)
  return {
      "explicit_inferred": r4, "explicit_sharding": str(r4.sharding),
      "explicit_given": smap(lambda a: a * 2, mesh=me, in_specs=P("x", "y"),
                             out_specs=P("x", "y"))(xs),
      "context_mesh": r5, "smap": r6, "smap_none_axis": r7,
      "eager_numpy_in": r1, "eager_matmul_psum": r2,
      "eager_grad": jax.grad(lambda a: (g2(a, b) ** 2).sum())(m),
      "eager_vmap": jax.vmap(sm1(lambda x: lax.psum(x, "i"), o=P()))(m.reshape(2, 8)),
      "sharding_1d": str(r1.sharding), "sharding_2d": str(r3.sharding),
      "sharding_rep": str(r2.sharding),
      "shards": [str(s.index) for s in r3.addressable_shards],
  }


def f(x):
  return x


def _with_mesh(mesh, fn):
  with jax.set_mesh(mesh):
    return fn()


def _err(fn):
  try:
    fn()
  except Exception as e:  # noqa: BLE001 (the class and text are what is compared)
    return {"error": type(e).__name__, "msg": str(e)}
  return {"error": None}


def error_cases():
  v, m, _ = inputs()
  E = {
      "in_prefix": lambda: smap(lambda x, y: x, mesh=m2, in_specs=(P("x"), P("x"), P()),
                                out_specs=P("x"))(m, m),
      "out_prefix": lambda: smap(lambda x: (x, x), mesh=m2, in_specs=P("x"),
                                 out_specs=(P("x"), P("x"), P()))(m),
      "unknown_in": lambda: smap(f, mesh=m2, in_specs=P("z"), out_specs=P("x"))(m),
      "unknown_out": lambda: smap(f, mesh=m2, in_specs=P("x"), out_specs=P("z"))(m),
      "in_too_long": lambda: smap(f, mesh=m2, in_specs=P("x", None, None),
                                  out_specs=P("x"))(m),
      "out_too_long": lambda: smap(lambda x: x.sum(1), mesh=m2, in_specs=P("x"),
                                   out_specs=P("x", "y"))(m),
      "scalar_out_too_long": lambda: smap(lambda x: x.sum(), mesh=m2, in_specs=P("x"),
                                          out_specs=P("x"))(m),
      "indivisible": lambda: smap(f, mesh=m2, in_specs=P(("x", "y")), out_specs=P("x"))(
          jnp.arange(6.)),
      "indivisible_two": lambda: smap(lambda x, y: x, mesh=m2,
                                      in_specs=(P("x"), P(None, "y")),
                                      out_specs=P("x"))(jnp.ones((3, 2)), jnp.ones((2, 3))),
      "out_twice": lambda: smap(f, mesh=m2, in_specs=P("x"), out_specs=P("x", "x"))(m),
      "in_twice": lambda: smap(f, mesh=m2, in_specs=P("x", "x"), out_specs=P("x"))(m),
      "vma_eager": lambda: smap(f, mesh=m2, in_specs=P("x", "y"), out_specs=P("x"))(m),
      "vma_jit": lambda: jax.jit(smap(f, mesh=m2, in_specs=P("x", "y"), out_specs=P("x")))(
          m),
      "vma_tuple_jit": lambda: jax.jit(smap(lambda x, y: (x, y * 2), mesh=m2,
                                            in_specs=(P("x", "y"), P("y")),
                                            out_specs=(P("x", "y"), P())))(m, m),
      "vma_gathered": lambda: jax.jit(smap(
          lambda x: lax.all_gather(x, ("x", "y"), tiled=True), mesh=m2,
          in_specs=P(("x", "y")), out_specs=P()))(v),
      "no_mesh": lambda: smap(f, in_specs=P("x"), out_specs=P("x"))(m),
      "spec_not_p": lambda: smap(f, mesh=m2, in_specs="x", out_specs=P("x"))(m),
      "in_specs_none": lambda: smap(f, mesh=m2, in_specs=None, out_specs=P("x"))(m),
      "no_in_specs_auto": lambda: smap(f, mesh=m2, out_specs=P())(m),
      "axis_names_bad": lambda: smap(f, mesh=m2, in_specs=P("x"), out_specs=P("x"),
                                     axis_names={"q"})(m),
      "not_callable": lambda: smap(3, mesh=m2, in_specs=P("x"), out_specs=P("x")),
      "psum_scatter_size": lambda: sm1(lambda x: lax.psum_scatter(x, "i", tiled=True))(v),
      "vma_scan_carry": lambda: jax.jit(sm1(
          lambda a: lax.scan(lambda c, y: (c + y, y), 0.0, a)[0], o=P()))(v),
      "explicit_mismatch": lambda: smap(
          lambda a: a, mesh=jax.make_mesh((2, 2), ("x", "y")), in_specs=P("x", "y"),
          out_specs=P("x", "y"))(m),
      "smap_no_in_axes": lambda: jax.smap(f, out_axes=0, axis_name="x"),
      "smap_in_axes_auto": lambda: _with_mesh(
          m2, lambda: jax.smap(f, out_axes=0, axis_name="x")(m)),
      "smap_tuple_name": lambda: jax.smap(f, in_axes=0, out_axes=0, axis_name=("x",)),
      "unbound_outside": lambda: lax.psum(v, "i"),
  }
  return {k: _err(v) for k, v in E.items()}


def jaxpr_cases():
  v, m, b = inputs()
  unchecked = sm1(lambda x: x * 2, check_vma=False)
  partial_manual = smap(lambda x, y: (x * y, y), mesh=m2, in_specs=(P("x"), P()),
                        out_specs=(P("x"), P()), check_vma=False, axis_names={"x"})
  return {
      "unchecked": str(jax.make_jaxpr(unchecked)(v)),
      "partial_manual": str(jax.make_jaxpr(partial_manual)(m, b[0, 0])),
      "jit_unchecked": str(jax.make_jaxpr(jax.jit(unchecked))(v)),
      "checked_matmul": str(jax.make_jaxpr(g2)(m, b)),
  }


def internal_cases():
  """pyjax only: the primitives of the global program of a contraction split over the
  devices and psum'd (the psum of per-device products is folded into one dot)."""
  from pyjax._src import shard_map as impl
  f = sm1(lambda x, w: lax.psum(x @ w, "i"), i=(P(None, "i"), P("i", None)), o=P())
  x = np.ones((8, 8), np.float32)
  closed = impl._expanded([jax.typeof(x)] * 2, jax.make_jaxpr(f)(x, x).eqns[0].params)
  return [e.primitive.name for e in closed.jaxpr.eqns]


def encode(v):
  if isinstance(v, (list, tuple)):
    return [encode(x) for x in v]
  if isinstance(v, dict):
    return {k: encode(x) for k, x in sorted(v.items())}
  if isinstance(v, str):
    return v
  x = np.asarray(v)
  return {"dtype": str(x.dtype), "shape": list(x.shape),
          "v": x.astype(float).ravel().tolist()}


def main():
  vals = {}
  for two in (False, True):
    sub = {k: fn for k, fn in VALUES.items() if k.startswith("m2_") == two}
    vals.update(jax.jit(lambda *xs: {k: fn(*xs) for k, fn in sub.items()})(*inputs()))
  out = {"values": encode(vals), "eager": encode(eager_cases()), "errors": error_cases(),
         "jaxprs": jaxpr_cases()}
  if sys.argv[1] == "pyjax":
    out["internal"] = internal_cases()
  print(json.dumps(out))


if __name__ == "__main__":
  main()

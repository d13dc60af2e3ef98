"""pmap programs run by test_pmap.py in a subprocess with 8 host CPU devices, once with
pyjax and once with real JAX (``python pmap_cases.py pyjax|jax``). Prints one JSON
object: case name -> result (value, shape, dtype, sharding, repr) or error (class,
message). Where JAX 0.10.2 cannot run a program (nested pmap on CPU), the JAX run
computes the same semantics with vmap."""
import json
import os
import sys
import time
from functools import partial

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
LIB = sys.argv[1]
if LIB == "pyjax":
  import pyjax as jax
  import pyjax.numpy as jnp
  from pyjax import lax, random
  from pyjax._src import dispatch
  from pyjax._src.pmap import device_put_replicated, device_put_sharded
else:
  import jax
  import jax.numpy as jnp
  from jax import lax, random
  from jax._src.api import device_put_replicated, device_put_sharded
import numpy as np

RESULTS = {}
TIMES = {}


def enc(r):
  if hasattr(r, "shape") and hasattr(r, "dtype"):
    return {"value": np.asarray(r).tolist(), "shape": list(r.shape), "dtype": str(r.dtype),
            "sharding": str(getattr(r, "sharding", None)), "repr": repr(r)}
  if isinstance(r, (tuple, list)):
    return [enc(x) for x in r]
  if isinstance(r, dict):
    return {k: enc(v) for k, v in r.items()}
  return r


def case(name):
  def deco(f):
    t0 = time.perf_counter()
    try:
      RESULTS[name] = {"ok": enc(f())}
    except Exception as e:  # noqa: BLE001 (the error is the result)
      RESULTS[name] = {"error": [type(e).__name__, str(e)]}
    TIMES[name] = round(time.perf_counter() - t0, 3)
    return f
  return deco


x = jnp.arange(8.).reshape(4, 2)


@case("basic")
def _():
  y = jax.pmap(lambda a: a * 2)(x)
  return {"y": y, "shard1": repr(y.addressable_shards[1]),
          "nshards": len(y.addressable_shards),
          "devices": sorted(d.id for d in y.devices()), "replicated": y.is_fully_replicated}


@case("devices_subset")
def _():
  y = jax.pmap(lambda a: a - 1, devices=jax.devices()[5:7])(jnp.ones((2, 3)))
  return [y, [repr(s.device) for s in y.addressable_shards]]


@case("named")
def _():
  return jax.pmap(lambda a: a + 1, axis_name="i")(x)


@case("jaxpr")
def _():
  return [str(jax.make_jaxpr(jax.pmap(lambda a: a * 2))(x)),
          str(jax.make_jaxpr(jax.pmap(lambda a: lax.psum(a, "i"), axis_name="i",
                                      in_axes=1))(x.T)),
          str(jax.make_jaxpr(jax.pmap(lambda a, b: (a * b, b), in_axes=(0, None),
                                      out_axes=(1, None)))(x, 2.0))]


@case("axes")
def _():
  f = jax.pmap(lambda a, b, c, d: (a * 2, a + b, 3.0, c * 2, (d["k"] - a).sum()),
               in_axes=(0, None, 1, {"k": 0}), out_axes=(0, 0, None, 1, 0))
  return list(f(x, jnp.ones(2), x.T, {"k": x}))


@case("pytree_kwargs")
def _():
  out = jax.pmap(lambda d, t, b: {"s": d["a"] * t[0] - b, "t": t[1] - 1},
                 in_axes=({"a": 0}, (None, 1)))({"a": x}, (2.0, x.T), b=x * 3)
  return out


@case("static")
def _():
  f = jax.pmap(lambda a, s, b: a * s[0] + b, static_broadcasted_argnums=1)
  return [f(x, (3.0,), x), f(x, (4.0,), x)]


@case("psum_normalize")
def _():
  @partial(jax.pmap, axis_name="i")
  def normalize(v):
    return v / lax.psum(v, "i")
  return normalize(jnp.arange(4.))


@case("collectives")
def _():
  def f(v):
    return (lax.pmean(v, "i"), lax.pmax(v, "i"), lax.pmin(v, "i"),
            lax.all_gather(v, "i"), lax.all_gather(v, "i", tiled=True),
            lax.ppermute(v, "i", [(0, 1), (1, 2), (2, 3), (3, 0)]),
            lax.axis_index("i"), lax.psum_scatter(jnp.tile(v, 4), "i", tiled=True),
            lax.pshuffle(v, "i", [3, 2, 1, 0]),
            lax.all_to_all(jnp.tile(v, (4, 1)), "i", 0, 0),
            lax.pswapaxes(jnp.tile(v, (4, 1)), "i", 0))
  return list(jax.pmap(f, axis_name="i")(x))


@case("numpy_int_bool_keys")
def _():
  keys = random.split(random.key(0), 4)
  a, b, k = jax.pmap(lambda a, b, k: (a * 2, b > 1, random.normal(k, (2,))))(
      np.arange(4, dtype=np.int32), np.arange(4.), keys)
  return [a, b, k]


@case("random_8")
def _():
  # seed 003's 8-device program with 5x6 matrices instead of 5000x6000
  keys = random.split(random.PRNGKey(0), 8)
  mats = jax.pmap(lambda key: random.normal(key, (5, 6)))(keys)
  result = jax.pmap(lambda m: jnp.dot(m, m.T))(mats)
  return [mats, result, jax.pmap(jnp.mean)(result)]


@case("nested_seed")
def _():
  # seed 003's README program; JAX 0.10.2 cannot run nested pmap on CPU, so its run
  # is the same program with vmap
  pm = jax.pmap if LIB == "pyjax" else jax.vmap

  @pm
  def f(v):
    y = jnp.sin(v)

    @pm
    def g(z):
      return jnp.cos(z) * jnp.tan(y.sum()) * jnp.tanh(v).sum()
    return jax.grad(lambda w: jnp.sum(g(w)))(v)
  return [f(x), jax.grad(lambda v: jnp.sum(f(v)))(x)]


@case("nested_psum")
def _():
  pm = jax.pmap if LIB == "pyjax" else jax.vmap

  @partial(pm, axis_name="i")
  def f(v):
    @partial(pm, axis_name="j")
    def g(w):
      return (lax.psum(w, "i"), lax.psum(w, "j"), lax.psum(w, ("i", "j")))
    return g(v)
  return list(f(x))


@case("nested_reused")
def _():
  # one pmapped function called at the top level and inside another pmap
  g = jax.pmap(lambda w: w * 10 + lax.psum(w, "j"), axis_name="j")
  top = g(x[0])
  pm = jax.pmap if LIB == "pyjax" else jax.vmap
  inner = g if LIB == "pyjax" else jax.vmap(lambda w: w * 10 + lax.psum(w, "j"),
                                            axis_name="j")
  return [top, pm(lambda v: inner(v))(x)]


@case("grad_psum")
def _():
  f = jax.pmap(lambda b: lax.psum(b * b, "i"), axis_name="i")
  return jax.grad(lambda a: f(a).sum())(jnp.arange(4.))


@case("vmap_of_pmap")
def _():
  return jax.vmap(jax.pmap(lambda a: a * lax.psum(a, "i"), axis_name="i"))(
      jnp.arange(24.).reshape(3, 4, 2))


@case("pmap_of_vmap_jit")
def _():
  return [jax.pmap(jax.vmap(lambda a: a * 2))(jnp.ones((4, 3))),
          jax.pmap(jax.jit(lambda a: a * 3))(jnp.ones((4, 3))),
          jax.pmap(lambda a: jax.jit(lambda b: lax.psum(b, "i"))(a), axis_name="i")(
              jnp.arange(4.))]


@case("jit_of_pmap")
def _():
  f = jax.pmap(lambda b: b + lax.psum(b, "i"), axis_name="i")
  return jax.jit(lambda a: f(a) * 2)(x)


@case("device_put_sharded")
def _():
  devs = jax.devices()[:2]
  s = device_put_sharded([jnp.ones(2), jnp.zeros(2)], devs)
  t = device_put_sharded([{"a": np.float32(1)}, {"a": np.float32(2)}], devs)
  return [s, t, repr(s.addressable_shards[1])]


@case("device_put_replicated")
def _():
  return device_put_replicated({"w": jnp.arange(3.)}, jax.devices()[:4])


@case("chain_and_donate")
def _():
  y = jax.pmap(lambda a: a + 1)(x)
  z = jax.pmap(lambda a: a * 2, donate_argnums=0)(y)
  w = jax.pmap(lambda a: a * 2, donate_argnums=0)(x)
  return [z, y.is_deleted(), x.is_deleted(), w]


@case("counts")
def _():
  return [jax.local_device_count(), jax.device_count()]


ERRORS = {
    "too_many": lambda: jax.pmap(lambda a: a)(jnp.ones((9, 2))),
    "inconsistent": lambda: jax.pmap(lambda a, b: a + b)(jnp.ones((4, 2)),
                                                         jnp.ones((3, 2))),
    "in_axes_range": lambda: jax.pmap(lambda a: a, in_axes=2)(jnp.ones((4, 2))),
    "unbound_inside": lambda: jax.pmap(lambda a: lax.psum(a, "j"), axis_name="i")(x),
    "unbound_outside": lambda: lax.psum(1.0, "i"),
    "axis_size": lambda: jax.pmap(lambda a: a, axis_size=3)(x),
    "devices_empty": lambda: jax.pmap(lambda a: a, devices=[])(x),
    "devices_too_few": lambda: jax.pmap(lambda a: a, devices=jax.devices()[:2])(x),
    "devices_duplicate": lambda: jax.pmap(lambda a: a, devices=[jax.devices()[0]] * 2)(
        jnp.ones((2, 2))),
    "devices_not_device": lambda: jax.pmap(lambda a: a, devices=["cpu:0"])(
        jnp.ones((1, 2))),
    "global_arg_shapes": lambda: jax.pmap(lambda a: a, global_arg_shapes=1),
    "no_mapped": lambda: jax.pmap(lambda a: a)(3.0),
    "in_axes_prefix": lambda: jax.pmap(lambda a: a, in_axes=(0, 0))(x),
    "in_axes_type": lambda: jax.pmap(lambda a: a, in_axes="x"),
    "backend": lambda: jax.pmap(lambda a: a, backend="gpu")(x),
    "static_missing": lambda: jax.pmap(lambda a, s: a, static_broadcasted_argnums=1)(x),
    "not_callable": lambda: jax.pmap(3),
    "static_unhashable": lambda: jax.pmap(lambda a, s: a, static_broadcasted_argnums=1)(
        x, [1, 2]),
    "static_donate": lambda: jax.pmap(lambda a, b: a, donate_argnums=(0, 1),
                                      static_broadcasted_argnums=1),
    "out_axes_prefix": lambda: jax.pmap(lambda a: a, out_axes=(0, 1))(x),
    "in_axes_list": lambda: jax.pmap(lambda a: a, in_axes=[0])(x),
    "nested_too_many": lambda: jax.pmap(jax.pmap(lambda a: a))(jnp.ones((4, 4))),
    "dps_inconsistent": lambda: device_put_sharded([jnp.ones(2), jnp.ones(3)],
                                                   jax.devices()[:2]),
}
for _name, _f in ERRORS.items():
  case("err_" + _name)(_f)


if LIB == "pyjax":
  @case("pbroadcast")  # (JAX 0.10.2 cannot lower it on CPU)
  def _():
    return jax.pmap(lambda v: lax.pbroadcast(v, "i", 2), axis_name="i")(x)

  @case("negative_axes")  # (JAX 0.10.2 gives wrong shapes: its specs ignore the sign)
  def _():
    return jax.pmap(lambda a: a * 2, in_axes=-1, out_axes=-1)(x.T)

  @case("no_copy_and_fast_path")
  def _():
    traces, uploads = [], []
    up = dispatch._upload
    dispatch._upload = lambda a, d: (uploads.append(1), up(a, d))[1]
    try:
      f = jax.pmap(lambda a: (traces.append(1), a + 1)[1])
      y = f(x)
      y2 = f(y)
      y3 = f(y2)
      n_up = len(uploads)
    finally:
      dispatch._upload = up
    return [len(traces), n_up, y3, str(y2.sharding)]

print(json.dumps(TIMES), file=sys.stderr)
print(json.dumps(RESULTS))

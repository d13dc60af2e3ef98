"""Oracle table for tests/example_libraries/test_stax.py: the layers and what JAX
gives for them.

``LAYERS`` is the one list of rows. ``compute(k, lib)`` builds row ``k``'s layer with
``lib``'s stax (``"jax"`` or ``"pyjax"``), initializes it from ``PRNGKey(0)`` and
applies it eagerly to ``input_of(k)``, and takes the gradient of ``sum(sin(out))``
with respect to the parameters and the input. Run this file with real JAX installed to
regenerate ``stax_expected.json`` (arrays stored as hex bytes, so they compare
exactly); JAX's eager mode compiles every op, ~2 min here, which is why the test
reads a table.

    python tests/data/make_stax_expected.py
"""
from __future__ import annotations

import importlib
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "stax_expected.json")

# (name, make(stax, jnp) -> layer, input shape(s), apply needs an rng)
LAYERS = [
    ("Dense", lambda s, n: s.Dense(5), (3, 4), False),
    ("Dense_3d_init", lambda s, n: s.Dense(3, W_init=s.randn(0.5), b_init=s.zeros),
     (2, 3, 4), False),
    ("Conv", lambda s, n: s.Conv(4, (3, 3)), (2, 6, 6, 3), False),
    ("Conv_same_stride", lambda s, n: s.Conv(3, (3, 2), strides=(2, 2), padding="SAME"),
     (2, 7, 6, 2), False),
    ("GeneralConv_NCHW", lambda s, n: s.GeneralConv(("NCHW", "OIHW", "NCHW"), 4, (3, 2)),
     (2, 3, 6, 5), False),
    ("ConvTranspose", lambda s, n: s.ConvTranspose(3, (3, 3), strides=(2, 2),
                                                   padding="SAME"), (2, 4, 4, 2), False),
    ("Conv1DTranspose", lambda s, n: s.Conv1DTranspose(3, (3,)), (2, 5, 2), False),
    ("GeneralConvTranspose", lambda s, n: s.GeneralConvTranspose(
        ("NCHW", "IOHW", "NCHW"), 2, (2, 3), strides=(1, 2)), (2, 3, 4, 4), False),
    ("BatchNorm", lambda s, n: s.BatchNorm(), (2, 4, 4, 3), False),
    ("BatchNorm_axis0_noscale", lambda s, n: s.BatchNorm(axis=0, scale=False), (6, 3),
     False),
    ("BatchNorm_nocenter", lambda s, n: s.BatchNorm(axis=(0, 1), center=False),
     (4, 3, 2), False),
    ("BatchNorm_plain", lambda s, n: s.BatchNorm(axis=(0,), center=False, scale=False),
     (5, 2), False),
    ("Dropout", lambda s, n: s.Dropout(0.7), (4, 6), True),
    ("Dropout_test", lambda s, n: s.Dropout(0.7, mode="test"), (4, 6), True),
    ("MaxPool", lambda s, n: s.MaxPool((2, 2)), (2, 5, 5, 3), False),
    ("MaxPool_same_stride", lambda s, n: s.MaxPool((3, 3), strides=(2, 2), padding="SAME"),
     (2, 7, 6, 2), False),
    ("SumPool", lambda s, n: s.SumPool((2, 2), strides=(2, 2)), (2, 6, 6, 2), False),
    ("AvgPool_same", lambda s, n: s.AvgPool((3, 3), strides=(2, 2), padding="SAME"),
     (2, 5, 5, 2), False),
    ("AvgPool_NCHW", lambda s, n: s.AvgPool((2, 2), padding="SAME", spec="NCHW"),
     (2, 3, 5, 4), False),
    ("Flatten", lambda s, n: s.Flatten, (2, 3, 4), False),
    ("Identity", lambda s, n: s.Identity, (2, 3), False),
    ("FanOut_parallel_FanInSum", lambda s, n: s.serial(
        s.FanOut(2), s.parallel(s.Dense(4), s.Identity), s.FanInSum), (3, 4), False),
    ("FanInConcat", lambda s, n: s.serial(
        s.FanOut(3), s.parallel(s.Dense(2), s.Dense(3), s.Tanh), s.FanInConcat()),
     (3, 4), False),
    ("FanInConcat_axis0", lambda s, n: s.serial(s.FanOut(2), s.FanInConcat(0)), (3, 4),
     False),
    ("shape_dependent", lambda s, n: s.shape_dependent(lambda shape: s.Dense(shape[-1])),
     (3, 4), False),
    ("Tanh", lambda s, n: s.Tanh, (3, 4), False),
    ("Relu", lambda s, n: s.Relu, (3, 4), False),
    ("Exp", lambda s, n: s.Exp, (3, 4), False),
    ("LogSoftmax", lambda s, n: s.LogSoftmax, (3, 4), False),
    ("Softmax", lambda s, n: s.Softmax, (3, 4), False),
    ("Softplus", lambda s, n: s.Softplus, (3, 4), False),
    ("Sigmoid", lambda s, n: s.Sigmoid, (3, 4), False),
    ("Elu", lambda s, n: s.Elu, (3, 4), False),
    ("LeakyRelu", lambda s, n: s.LeakyRelu, (3, 4), False),
    ("Selu", lambda s, n: s.Selu, (3, 4), False),
    ("Gelu", lambda s, n: s.Gelu, (3, 4), False),
    ("elementwise_kwargs", lambda s, n: s.elementwise(n.clip, min=-0.5, max=0.5), (3, 4),
     False),
    ("cnn", lambda s, n: s.serial(
        s.Conv(4, (3, 3), padding="SAME"), s.BatchNorm(), s.Relu,
        s.MaxPool((2, 2), strides=(2, 2)), s.Conv(6, (3, 3)), s.Gelu,
        s.AvgPool((2, 2)), s.Flatten, s.Dense(8), s.Dropout(0.9), s.Selu, s.Dense(3),
        s.LogSoftmax), (3, 8, 8, 1), True),
]
IDS = [r[0] for r in LAYERS]


def input_of(k):
  shape = LAYERS[k][2]
  return (np.random.default_rng(k).normal(size=shape) * 1.5).astype(np.float32)




def modules(lib):
  """(stax, jnp, random, grad, tree_util) of ``lib``: "jax" or "pyjax"."""
  top = importlib.import_module(lib)
  stax = importlib.import_module(f"{lib}.example_libraries.stax")
  return stax, importlib.import_module(f"{lib}.numpy"), top.random, top.grad, top.tree_util


def apply_kwargs(k, lib):
  if not LAYERS[k][3]:
    return {}
  return {"rng": modules(lib)[2].PRNGKey(7)}


def loss_fn(apply, jnp, kw):
  def loss(params, x):
    return jnp.sum(jnp.sin(apply(params, x, **kw)))
  return loss


# every row is smooth at its random input (MaxPool: no ties; Relu: no zeros)
GRAD_ROWS = list(range(len(LAYERS)))


def init_row(k, lib, key=None):
  """(apply_fun, output shape, params) of row ``k`` built with ``lib``'s stax."""
  stax, jnp, random, _, _ = modules(lib)
  init, apply = LAYERS[k][1](stax, jnp)
  out_shape, params = init(random.PRNGKey(0) if key is None else key, LAYERS[k][2])
  return apply, out_shape, params


def compute(k, lib):
  """Row ``k``'s params, output and gradients (NumPy arrays), eagerly with ``lib``."""
  stax, jnp, random, grad, tree_util = modules(lib)
  apply, out_shape, params = init_row(k, lib)
  x = jnp.asarray(input_of(k))
  kw = apply_kwargs(k, lib)
  out = apply(params, x, **kw)
  res = {"out_shape": [int(d) for d in out_shape],
         "params": [np.asarray(p) for p in tree_util.tree_leaves(params)],
         "out": np.asarray(out)}
  if k in GRAD_ROWS:
    g = grad(loss_fn(apply, jnp, kw), argnums=(0, 1))(params, x)
    res["grad"] = [np.asarray(a) for a in tree_util.tree_leaves(g)]
  return res


def encode(a):
  a = np.ascontiguousarray(a)
  return [str(a.dtype), list(a.shape), a.tobytes().hex()]


def decode(e):
  dtype, shape, data = e
  return np.frombuffer(bytes.fromhex(data), dtype=dtype).reshape(shape)


def load():
  """{row name: {"out_shape", "params", "out", "grad"}} with decoded arrays."""
  with open(TABLE) as f:
    raw = json.load(f)["rows"]
  out = {}
  for name, r in raw.items():
    out[name] = {"out_shape": tuple(r["out_shape"]),
                 "params": [decode(e) for e in r["params"]], "out": decode(r["out"])}
    if "grad" in r:
      out[name]["grad"] = [decode(e) for e in r["grad"]]
  return out


def main():
  import jax
  rows = {}
  for k in range(len(LAYERS)):
    r = compute(k, "jax")
    rows[IDS[k]] = {"out_shape": r["out_shape"], "params": [encode(p) for p in r["params"]],
                    "out": encode(r["out"])}
    if "grad" in r:
      rows[IDS[k]]["grad"] = [encode(g) for g in r["grad"]]
  with open(TABLE, "w") as f:
    json.dump({"jax": jax.__version__, "rows": rows}, f, indent=0, sort_keys=True)
    f.write("\n")


if __name__ == "__main__":
  main()

"""Oracle cases for tests/_src/test_random.py and the table they are checked against.

``CASES`` is the one list of cases: each draws samples with a ``random`` module
(``jax.random`` or ``pyjax.random``) and its numpy namespace. Run this file with
real JAX installed to regenerate ``random_expected.json`` (bits stored as hex so
float16/bfloat16 and NaNs compare exactly):

    python tests/data/make_random_expected.py
"""
from __future__ import annotations

import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "random_expected.json")

# (id, fn(random, jnp), x64, partitionable, exact). Cases marked inexact may
# differ from JAX by an ulp: the gamma family passes through XLA's a / sqrt(b) ->
# a * rsqrt(b) rewrite, whose rsqrt is a hardware estimate (not portable), where
# pyjax divides exactly; maxwell's reduction order is chosen by XLA per shape.
_F = [("f32", "float32"), ("f16", "float16"), ("bf16", "bfloat16")]


def _cases():
  c = []

  def add(name, fn, x64=False, part=True, exact=True):
    c.append((name, fn, x64, part, exact))

  for seed in (0, 1, 43):
    add(f"normal-scalar-{seed}", lambda r, n, s=seed: r.normal(r.key(s)))
    add(f"split-{seed}", lambda r, n, s=seed: r.key_data(r.split(r.key(s), 4)))
    add(f"fold_in-{seed}", lambda r, n, s=seed: r.key_data(r.fold_in(r.key(s), 7)))
  add("normal-3x4", lambda r, n: r.normal(r.key(5), (3, 4)))
  add("normal-legacy-key", lambda r, n: r.normal(r.PRNGKey(5), (6,)))
  add("normal-c64", lambda r, n: r.normal(r.key(2), (3,), n.complex64))
  add("normal-f64", lambda r, n: r.normal(r.key(3), (6,), n.float64), x64=True)
  add("uniform-f64-bounds", lambda r, n: r.uniform(r.key(3), (5,), n.float64, -2., 5.),
      x64=True)
  add("truncated_normal-f64", lambda r, n: r.truncated_normal(r.key(3), -1., 2., (5,),
                                                              n.float64), x64=True)
  add("exponential-f64", lambda r, n: r.exponential(r.key(4), (5,), n.float64), x64=True)
  add("lognormal-f64", lambda r, n: r.lognormal(r.key(4), .5, (5,), n.float64), x64=True)
  for tag, dt in _F:
    add(f"uniform-{tag}", lambda r, n, d=dt: r.uniform(r.key(1), (7,), getattr(n, d)))
    add(f"uniform-bounds-{tag}", lambda r, n, d=dt: r.uniform(r.key(1), (7,), getattr(n, d),
                                                               0.3, 2.7))
    add(f"normal-{tag}", lambda r, n, d=dt: r.normal(r.key(8), (7,), getattr(n, d)))
    add(f"exponential-{tag}", lambda r, n, d=dt: r.exponential(r.key(9), (5,), getattr(n, d)))
    add(f"cauchy-{tag}", lambda r, n, d=dt: r.cauchy(r.key(9), (5,), getattr(n, d)))
    add(f"laplace-{tag}", lambda r, n, d=dt: r.laplace(r.key(9), (5,), getattr(n, d)))
  for bits in (8, 16, 32):
    add(f"bits-u{bits}", lambda r, n, b=bits: r.bits(r.key(6), (5,), getattr(n, f"uint{b}")))
    add(f"bits-u{bits}-legacy", lambda r, n, b=bits: r.bits(r.key(6), (5,),
                                                            getattr(n, f"uint{b}")),
        part=False)
  add("bits-u64", lambda r, n: r.bits(r.key(6), (3,), n.uint64), x64=True)
  add("bits-u64-legacy", lambda r, n: r.bits(r.key(6), (3,), n.uint64), x64=True, part=False)
  add("normal-legacy-layout", lambda r, n: r.normal(r.key(43)), part=False)
  add("split-legacy-layout", lambda r, n: r.key_data(r.split(r.key(4), 3)), part=False)
  add("uniform-legacy-layout", lambda r, n: r.uniform(r.key(4), (3, 3)), part=False)
  add("truncated_normal", lambda r, n: r.truncated_normal(r.key(3), -1., 2., (6,)))
  add("bernoulli", lambda r, n: r.bernoulli(r.key(3), 0.3, (8,)))
  add("bernoulli-high", lambda r, n: r.bernoulli(r.key(3), 0.3, (8,), mode="high"))
  add("randint", lambda r, n: r.randint(r.key(3), (8,), 0, 10))
  add("randint-int8-clip", lambda r, n: r.randint(r.key(3), (8,), -5, 300, n.int8))
  add("randint-uint32", lambda r, n: r.randint(r.key(3), (4,), 0, np.uint32(3_000_000_000),
                                                n.uint32))
  add("randint-int64", lambda r, n: r.randint(r.key(3), (4,), -2 ** 40, 2 ** 40, n.int64),
      x64=True)
  add("categorical", lambda r, n: r.categorical(r.key(4), n.array([0.1, 1.0, 2.0])))
  add("categorical-batch", lambda r, n: r.categorical(
      r.key(4), n.log(n.array([[.2, .3, .5], [.6, .2, .2]])), shape=(4, 2)))
  add("categorical-noreplace", lambda r, n: r.categorical(
      r.key(4), n.array([[.1, 1., 2., .3], [1., 1., 1., 1.]]), shape=(3, 2), replace=False))
  add("gumbel", lambda r, n: r.gumbel(r.key(5), (6,)))
  add("gumbel-high", lambda r, n: r.gumbel(r.key(5), (6,), mode="high"))
  add("logistic", lambda r, n: r.logistic(r.key(5), (6,)))
  add("choice", lambda r, n: r.choice(r.key(6), 5, (3,)))
  add("choice-noreplace", lambda r, n: r.choice(r.key(6), n.arange(10) * 2, (4,),
                                                replace=False))
  add("choice-p", lambda r, n: r.choice(r.key(6), 5, (3,),
                                        p=n.array([.1, .2, .3, .2, .2])))
  add("choice-p-noreplace", lambda r, n: r.choice(r.key(6), 5, (3,), replace=False,
                                                  p=n.array([.1, .2, .3, .2, .2])))
  add("permutation-int", lambda r, n: r.permutation(r.key(7), 10))
  add("permutation-axis1", lambda r, n: r.permutation(r.key(7), n.arange(12).reshape(3, 4),
                                                      axis=1))
  add("permutation-independent", lambda r, n: r.permutation(
      r.key(7), n.arange(12).reshape(3, 4), independent=True))
  add("pareto", lambda r, n: r.pareto(r.key(8), 2.0, (4,)))
  add("lognormal", lambda r, n: r.lognormal(r.key(8), 0.5, (4,)))
  add("weibull_min", lambda r, n: r.weibull_min(r.key(8), 1.5, 2.0, (4,)))
  # XLA's CPU reduction order for maxwell's sum of squares depends on the shape.
  add("maxwell", lambda r, n: r.maxwell(r.key(8), (4,)), exact=False)
  add("double_sided_maxwell", lambda r, n: r.double_sided_maxwell(r.key(8), 0.5, 2.0, (4,)),
      exact=False)
  add("rayleigh", lambda r, n: r.rayleigh(r.key(8), 2.0, (5,)))
  add("wald", lambda r, n: r.wald(r.key(8), 1.5, (5,)))
  add("geometric", lambda r, n: r.geometric(r.key(8), 0.3, (5,)))
  add("triangular", lambda r, n: r.triangular(r.key(8), 0., 1., 3., (5,)))
  add("f", lambda r, n: r.f(r.key(8), 3., 4., (3,)), exact=False)
  add("poisson-small", lambda r, n: r.poisson(r.key(8), 3.0, (6,)))
  add("poisson-mixed", lambda r, n: r.poisson(r.key(8), n.array([0., 1., 5., 12., 100.])))
  add("multinomial", lambda r, n: r.multinomial(r.key(8), n.array([5., 100.]), n.array(
      [[.1, .2, .3, .4], [.25, .25, .25, .25]])))
  add("binomial-small", lambda r, n: r.binomial(r.key(8), 5., 0.3, (6,)))
  add("binomial-mixed", lambda r, n: r.binomial(r.key(8), n.array([0., 3., 20., 1000.]),
                                                n.array([.5, .2, .7, .05])))
  add("rademacher", lambda r, n: r.rademacher(r.key(8), (6,)))
  for seed in (0, 1):
    add(f"gamma-{seed}", lambda r, n, s=seed: r.gamma(r.key(s), n.array([0.5, 1.0, 3.0])),
        exact=False)
    add(f"loggamma-{seed}", lambda r, n, s=seed: r.loggamma(r.key(s), n.array([0.5, 3.0])),
        exact=False)
    add(f"beta-{seed}", lambda r, n, s=seed: r.beta(r.key(s), 2.0, 3.0, (3,)), exact=False)
    add(f"dirichlet-{seed}", lambda r, n, s=seed: r.dirichlet(r.key(s), n.array([1., 2., 3.])),
        exact=False)
    add(f"t-{seed}", lambda r, n, s=seed: r.t(r.key(s), 3.0, (3,)), exact=False)
    add(f"chisquare-{seed}", lambda r, n, s=seed: r.chisquare(r.key(s), 3.0, (3,)),
        exact=False)
  add("gamma-f64", lambda r, n: r.gamma(r.key(2), 2.5, (3,), n.float64), x64=True,
      exact=False)
  add("generalized_normal", lambda r, n: r.generalized_normal(r.key(9), 1.5, (4,)),
      exact=False)
  add("ball", lambda r, n: r.ball(r.key(9), 3, 2, (2,)), exact=False)
  return c


CASES = _cases()


def encode(x):
  x = np.asarray(x)
  return {"dtype": str(x.dtype), "shape": list(x.shape), "hex": x.tobytes().hex()}


def decode(entry):
  import ml_dtypes  # noqa: F401  (registers bfloat16 with NumPy)
  dt = np.dtype(ml_dtypes.bfloat16) if entry["dtype"] == "bfloat16" else np.dtype(entry["dtype"])
  return np.frombuffer(bytes.fromhex(entry["hex"]), dt).reshape(entry["shape"])


def run_case(case, random, jnp, config):
  _, fn, x64, part, _ = case
  old = (config.jax_enable_x64, config.jax_threefry_partitionable)
  config.update("jax_enable_x64", x64)
  config.update("jax_threefry_partitionable", part)
  try:
    return np.asarray(fn(random, jnp))
  finally:
    config.update("jax_enable_x64", old[0])
    config.update("jax_threefry_partitionable", old[1])


def main():
  import jax
  import jax.numpy as jnp
  table = {case[0]: encode(run_case(case, jax.random, jnp, jax.config)) for case in CASES}
  with open(TABLE, "w") as f:
    json.dump({"jax_version": jax.__version__, "cases": table}, f, indent=0, sort_keys=True)
  print(f"wrote {len(table)} cases to {TABLE}")


if __name__ == "__main__":
  main()

"""Oracle cases for tests/_src/test_random.py and the table they are checked against.

``CASES`` is the one list of cases. A case draws samples from one key with a
``random`` module (``jax.random`` or ``pyjax.random``) and its numpy namespace;
``run_case`` runs it in one of ``MODES``: eager, under ``jit`` with the key as
an argument, or under ``vmap`` over three keys split from it. Run this file with
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
MODES = ("eager", "jit", "vmap")

# Tolerances (rtol) where pyjax provably cannot reproduce XLA's bits; every other
# case must match bit for bit in every mode.
# - GAMMA: XLA rewrites a / sqrt(b) -> a * rsqrt(b) in the Marsaglia-Tsang constant
#   and its rsqrt is a hardware estimate refined by Newton steps (not portable);
#   pyjax divides exactly. Off by an ulp or so, amplified by the rejection test's
#   powers: the gamma family (beta, dirichlet, t, chisquare, f, generalized_normal,
#   ball) within 2e-6.
# - REDUCE: XLA's CPU reduction order for maxwell's row of three depends on shape.
# - TAN_JIT: IREE's float32 tan is not glibc's tanf (which XLA calls): cauchy
#   under jit within 4 ulps.
# - ERF_JIT: IREE's float32 erf is not XLA's rational approximation:
#   truncated_normal under jit.
# - F64_JIT: IREE's float64 exp/log1p are not XLA's Cephes-style ones (1 ulp).
# - BF16_JIT: IREE fuses a bfloat16 multiply-add in float32 without rounding the
#   product to bfloat16 (uniform's scale step); XLA rounds it. One bfloat16 ulp of
#   the uniform, amplified by cauchy's tan and gumbel's log(-log u) near 1: 5%.
# - HALF_VMAP: float16 log/log1p chains over the batched (3, 5) shape: XLA's fused
#   float16 kernel rounds differently from its per-op results (2 ulps of float16).
# - RECIP_VMAP: XLA divides by a broadcast divisor as a multiply by its reciprocal;
#   vmap broadcasts pareto's unbatched parameter (1 ulp).
GAMMA = {"eager": 2e-6, "jit": 2e-6, "vmap": 2e-6}
REDUCE = {"eager": 1e-6, "jit": 1e-6, "vmap": 1e-6}
TAN_JIT = {"jit": 5e-7}
ERF_JIT = {"jit": 2e-6}
F64_JIT = {"jit": 1e-15}
BF16_JIT = {"jit": 5e-2}
HALF_VMAP = {"vmap": 2e-3}
RECIP_VMAP = {"vmap": 2e-7}
_F = [("f32", "float32"), ("f16", "float16"), ("bf16", "bfloat16")]


def _cases():
  c = []

  def add(name, fn, seed=0, x64=False, part=True, legacy=False, tol=None):
    """``fn(random, jnp, key)``; ``tol``: rtol per mode where bits may differ."""
    c.append((name, fn, seed, x64, part, legacy, tol or {}))

  for seed in (0, 1, 43):
    add(f"normal-scalar-{seed}", lambda r, n, k: r.normal(k), seed)
    add(f"split-{seed}", lambda r, n, k: r.key_data(r.split(k, 4)), seed)
    add(f"fold_in-{seed}", lambda r, n, k: r.key_data(r.fold_in(k, 7)), seed)
  add("normal-3x4", lambda r, n, k: r.normal(k, (3, 4)), 5)
  add("normal-legacy-key", lambda r, n, k: r.normal(k, (6,)), 5, legacy=True)
  add("split-legacy-key", lambda r, n, k: r.split(k, 3), 5, legacy=True)
  add("normal-c64", lambda r, n, k: r.normal(k, (3,), n.complex64), 2)
  add("normal-c128", lambda r, n, k: r.normal(k, (3,), n.complex128), 2, x64=True,
      tol=F64_JIT)
  add("normal-f64", lambda r, n, k: r.normal(k, (6,), n.float64), 3, x64=True)
  add("uniform-f64-bounds", lambda r, n, k: r.uniform(k, (5,), n.float64, -2., 5.), 3,
      x64=True)
  add("truncated_normal-f64", lambda r, n, k: r.truncated_normal(k, -1., 2., (5,), n.float64),
      3, x64=True, tol=F64_JIT)
  add("exponential-f64", lambda r, n, k: r.exponential(k, (5,), n.float64), 4, x64=True,
      tol=F64_JIT)
  add("lognormal-f64", lambda r, n, k: r.lognormal(k, .5, (5,), n.float64), 4, x64=True,
      tol=F64_JIT)
  add("gumbel-f64", lambda r, n, k: r.gumbel(k, (5,), n.float64), 4, x64=True, tol=F64_JIT)
  add("randint-x64", lambda r, n, k: r.randint(k, (5,), 0, 100), 4, x64=True)
  for tag, dt in _F:
    bf = BF16_JIT if tag == "bf16" else None
    add(f"uniform-{tag}", lambda r, n, k, d=dt: r.uniform(k, (7,), getattr(n, d)), 1)
    add(f"uniform-bounds-{tag}", lambda r, n, k, d=dt: r.uniform(k, (7,), getattr(n, d),
                                                                 0.3, 2.7), 1, tol=bf)
    add(f"normal-{tag}", lambda r, n, k, d=dt: r.normal(k, (7,), getattr(n, d)), 8, tol=bf)
    add(f"exponential-{tag}", lambda r, n, k, d=dt: r.exponential(k, (5,), getattr(n, d)), 9)
    add(f"cauchy-{tag}", lambda r, n, k, d=dt: r.cauchy(k, (5,), getattr(n, d)), 9,
        tol=TAN_JIT if tag == "f32" else bf)
    add(f"laplace-{tag}", lambda r, n, k, d=dt: r.laplace(k, (5,), getattr(n, d)), 9)
    add(f"logistic-{tag}", lambda r, n, k, d=dt: r.logistic(k, (5,), getattr(n, d)), 9,
        tol=HALF_VMAP if tag == "f16" else bf)
    add(f"gumbel-{tag}", lambda r, n, k, d=dt: r.gumbel(k, (5,), getattr(n, d)), 9,
        tol=HALF_VMAP if tag == "f16" else bf)
  for bits in (8, 16, 32):
    add(f"bits-u{bits}", lambda r, n, k, b=bits: r.bits(k, (5,), getattr(n, f"uint{b}")), 6)
    add(f"bits-u{bits}-legacy", lambda r, n, k, b=bits: r.bits(k, (5,),
                                                               getattr(n, f"uint{b}")),
        6, part=False)
  add("bits-u64", lambda r, n, k: r.bits(k, (3,), n.uint64), 6, x64=True)
  add("bits-u64-legacy", lambda r, n, k: r.bits(k, (3,), n.uint64), 6, x64=True, part=False)
  add("normal-legacy-layout", lambda r, n, k: r.normal(k), 43, part=False)
  add("split-legacy-layout", lambda r, n, k: r.key_data(r.split(k, 3)), 4, part=False)
  add("uniform-legacy-layout", lambda r, n, k: r.uniform(k, (3, 3)), 4, part=False)
  add("truncated_normal", lambda r, n, k: r.truncated_normal(k, -1., 2., (6,)), 3,
      tol=ERF_JIT)
  add("truncated_normal-batch", lambda r, n, k: r.truncated_normal(
      k, n.array([-2., 0.]), n.array([[1.], [3.]])), 3, tol=ERF_JIT)
  add("bernoulli", lambda r, n, k: r.bernoulli(k, 0.3, (8,)), 3)
  add("bernoulli-batch", lambda r, n, k: r.bernoulli(k, n.array([.1, .5, .9]), (2, 3)), 3)
  add("bernoulli-high", lambda r, n, k: r.bernoulli(k, 0.3, (8,), mode="high"), 3)
  for seed in (3, 11):
    add(f"randint-{seed}", lambda r, n, k: r.randint(k, (8,), 0, 10), seed)
    add(f"randint-2d-{seed}", lambda r, n, k: r.randint(k, (2, 3), -7, n.array([1, 50, 9])),
        seed)
  add("randint-int8-clip", lambda r, n, k: r.randint(k, (8,), -5, 300, n.int8), 3)
  add("randint-uint32", lambda r, n, k: r.randint(k, (4,), 0, np.uint32(3_000_000_000),
                                                  n.uint32), 3)
  add("randint-int64", lambda r, n, k: r.randint(k, (4,), -2 ** 40, 2 ** 40, n.int64), 3,
      x64=True)
  add("categorical", lambda r, n, k: r.categorical(k, n.array([0.1, 1.0, 2.0])), 4)
  add("categorical-batch", lambda r, n, k: r.categorical(
      k, n.log(n.array([[.2, .3, .5], [.6, .2, .2]])), shape=(4, 2)), 4)
  add("categorical-axis0", lambda r, n, k: r.categorical(
      k, n.array([[.1, 1.], [2., .3], [0., 0.]]), axis=0), 4)
  add("categorical-noreplace", lambda r, n, k: r.categorical(
      k, n.array([[.1, 1., 2., .3], [1., 1., 1., 1.]]), shape=(3, 2), replace=False), 4)
  add("gumbel-high", lambda r, n, k: r.gumbel(k, (6,), mode="high"), 5)
  for seed in (6, 12):
    add(f"choice-{seed}", lambda r, n, k: r.choice(k, 5, (3,)), seed)
    add(f"choice-noreplace-{seed}", lambda r, n, k: r.choice(k, n.arange(10) * 2, (4,),
                                                             replace=False), seed)
    add(f"choice-p-{seed}", lambda r, n, k: r.choice(k, 5, (3,),
                                                     p=n.array([.1, .2, .3, .2, .2])), seed)
    add(f"choice-p-noreplace-{seed}", lambda r, n, k: r.choice(
        k, 5, (3,), replace=False, p=n.array([.1, .2, .3, .2, .2])), seed)
  add("choice-2d-axis1", lambda r, n, k: r.choice(k, n.arange(12).reshape(3, 4), (2,),
                                                  axis=1), 6)
  add("choice-2d-noreplace", lambda r, n, k: r.choice(k, n.arange(12).reshape(4, 3), (2, 2),
                                                      replace=False), 6)
  for seed in (7, 13):
    add(f"permutation-int-{seed}", lambda r, n, k: r.permutation(k, 10), seed)
    add(f"permutation-axis1-{seed}", lambda r, n, k: r.permutation(
        k, n.arange(12).reshape(3, 4), axis=1), seed)
    add(f"permutation-independent-{seed}", lambda r, n, k: r.permutation(
        k, n.arange(12).reshape(3, 4), independent=True), seed)
  add("pareto", lambda r, n, k: r.pareto(k, 2.0, (4,)), 8)
  add("pareto-batch", lambda r, n, k: r.pareto(k, n.array([1., 3.]), (3, 2)), 8,
      tol=RECIP_VMAP)
  add("lognormal", lambda r, n, k: r.lognormal(k, 0.5, (4,)), 8)
  add("weibull_min", lambda r, n, k: r.weibull_min(k, 1.5, 2.0, (4,)), 8)
  add("maxwell", lambda r, n, k: r.maxwell(k, (4,)), 8, tol=REDUCE)
  add("double_sided_maxwell", lambda r, n, k: r.double_sided_maxwell(k, 0.5, 2.0, (4,)), 8,
      tol=REDUCE)
  add("rayleigh", lambda r, n, k: r.rayleigh(k, 2.0, (5,)), 8)
  add("wald", lambda r, n, k: r.wald(k, 1.5, (5,)), 8)
  add("geometric", lambda r, n, k: r.geometric(k, 0.3, (5,)), 8)
  add("geometric-batch", lambda r, n, k: r.geometric(k, n.array([.05, .5, .95])), 8)
  add("triangular", lambda r, n, k: r.triangular(k, 0., 1., 3., (5,)), 8)
  add("rademacher", lambda r, n, k: r.rademacher(k, (6,)), 8)
  add("rademacher-f32", lambda r, n, k: r.rademacher(k, (6,), n.float32), 8)
  for seed in (8, 21):
    add(f"poisson-small-{seed}", lambda r, n, k: r.poisson(k, 3.0, (6,)), seed)
    add(f"poisson-mixed-{seed}", lambda r, n, k: r.poisson(
        k, n.array([0., 1., 5., 12., 100., 1e4])), seed)
    add(f"binomial-small-{seed}", lambda r, n, k: r.binomial(k, 5., 0.3, (6,)), seed)
    add(f"binomial-mixed-{seed}", lambda r, n, k: r.binomial(
        k, n.array([0., 3., 20., 1000., 50.]), n.array([.5, .2, .7, .05, .9])), seed)
    add(f"multinomial-{seed}", lambda r, n, k: r.multinomial(k, n.array([5., 100.]), n.array(
        [[.1, .2, .3, .4], [.25, .25, .25, .25]])), seed)
  add("poisson-int64", lambda r, n, k: r.poisson(k, n.array([2., 30.]), (3, 2), n.int64), 8,
      x64=True)
  add("binomial-f64", lambda r, n, k: r.binomial(k, n.array([4., 40.]), .3, (2,), n.float64),
      8, x64=True)
  for seed in (0, 1):
    add(f"gamma-{seed}", lambda r, n, k: r.gamma(k, n.array([0.5, 1.0, 3.0])), seed, tol=GAMMA)
    add(f"gamma-small-{seed}", lambda r, n, k: r.gamma(k, n.array([1e-3, .1, 10., 1e3])), seed,
        tol=GAMMA)
    add(f"loggamma-{seed}", lambda r, n, k: r.loggamma(k, n.array([0.5, 3.0])), seed,
        tol=GAMMA)
    add(f"beta-{seed}", lambda r, n, k: r.beta(k, 2.0, 3.0, (3,)), seed, tol=GAMMA)
    add(f"dirichlet-{seed}", lambda r, n, k: r.dirichlet(k, n.array([1., 2., 3.])), seed,
        tol=GAMMA)
    add(f"t-{seed}", lambda r, n, k: r.t(k, 3.0, (3,)), seed, tol=GAMMA)
    add(f"chisquare-{seed}", lambda r, n, k: r.chisquare(k, 3.0, (3,)), seed, tol=GAMMA)
    add(f"f-{seed}", lambda r, n, k: r.f(k, 3., 4., (3,)), seed, tol=GAMMA)
    add(f"generalized_normal-{seed}", lambda r, n, k: r.generalized_normal(k, 1.5, (4,)),
        seed, tol=GAMMA)
    add(f"ball-{seed}", lambda r, n, k: r.ball(k, 3, 2, (2,)), seed, tol=GAMMA)
  add("gamma-f64", lambda r, n, k: r.gamma(k, 2.5, (3,), n.float64), 2, x64=True, tol=GAMMA)
  add("gamma-2d", lambda r, n, k: r.gamma(k, n.array([[.5], [4.]]), (2, 3)), 2, tol=GAMMA)
  add("dirichlet-batch", lambda r, n, k: r.dirichlet(k, n.array([.5, 1., 2.]), (2,)), 2,
      tol=GAMMA)
  return c


CASES = _cases()


def _family(name):
  head, _, tail = name.rpartition("-")
  return head if tail.isdigit() else name


# Under jit, one case per family: the others differ in seed only, and each IREE
# compile of a rejection sampler's loops takes seconds (4-10 s). Samplers that are
# gamma's loop under a transformation (t, chisquare, f, generalized_normal, ball) and
# gamma's batch-shape variants compile gamma's program again: their eager and vmap
# cases check them, gamma/gamma-small/loggamma/beta/dirichlet/gamma-f64 the jit path.
_JIT_SAME_PROGRAM = {"t", "chisquare", "f", "generalized_normal", "ball", "gamma-2d",
                     "dirichlet-batch"}
JIT_CASES = [c for c in list({_family(c[0]): c for c in reversed(CASES)}.values())[::-1]
             if _family(c[0]) not in _JIT_SAME_PROGRAM]


def encode(x):
  x = np.asarray(x)
  return {"dtype": str(x.dtype), "shape": list(x.shape), "hex": x.tobytes().hex()}


def decode(entry):
  import ml_dtypes  # noqa: F401  (registers bfloat16 with NumPy)
  dt = np.dtype(ml_dtypes.bfloat16) if entry["dtype"] == "bfloat16" else np.dtype(entry["dtype"])
  return np.frombuffer(bytes.fromhex(entry["hex"]), dt).reshape(entry["shape"])


def run_case(case, lib, mode="eager"):
  """Runs ``case`` with ``lib`` (the ``jax`` or ``pyjax`` module) in ``mode``."""
  _, fn, seed, x64, part, legacy, _ = case
  r, n, config = lib.random, lib.numpy, lib.config
  old = (config.jax_enable_x64, config.jax_threefry_partitionable)
  config.update("jax_enable_x64", x64)
  config.update("jax_threefry_partitionable", part)
  try:
    key = r.PRNGKey(seed) if legacy else r.key(seed)
    draw = lambda k: fn(r, n, k)
    if mode == "jit":
      return np.asarray(lib.jit(draw)(key))
    if mode == "vmap":
      return np.asarray(lib.vmap(draw)(r.split(key, 3)))
    return np.asarray(draw(key))
  finally:
    config.update("jax_enable_x64", old[0])
    config.update("jax_threefry_partitionable", old[1])


def main():
  import jax
  table = {f"{case[0]}/{mode}": encode(run_case(case, jax, mode))
           for case in CASES for mode in MODES}
  with open(TABLE, "w") as f:
    json.dump({"jax_version": jax.__version__, "cases": table}, f, indent=0, sort_keys=True)
  print(f"wrote {len(table)} entries to {TABLE}")


if __name__ == "__main__":
  main()

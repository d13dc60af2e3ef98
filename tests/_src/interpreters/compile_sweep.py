"""The compile sweep (issue 21): every lax function and every jax.numpy function that
takes one or two arrays, plus the structural lax operations with their parameters
made from the operand's shape, compiled under jit over shapes with 0-size and 1-size
dimensions and scalars, in float16, bfloat16, float64, int8, uint64 and complex dtypes.
A function that runs eagerly and traces on an operand joins that (dtype, shape) case's
one jitted program, whose results must equal eager's. The cases whose program IREE
fails to compile are cut in halves until the failing functions are found.

Used by test_compile_sweep.py (a sample by default; every case with ``-m slow``) and
runnable: ``python tests/_src/interpreters/compile_sweep.py [dtype ...]``."""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
import pyjax  # noqa: E402
import pyjax.numpy as jnp  # noqa: E402
from pyjax import lax  # noqa: E402
from util import bfloat16, check_close, enable_x64, rand  # noqa: E402

DTYPES = [np.dtype(t) for t in (np.float16, bfloat16, np.float64, np.int8, np.uint64,
                                np.complex64, np.complex128)]
SHAPES = [(), (0,), (1,), (1, 1), (2, 0, 3), (3, 1, 2)]

# Not swept: they change global state, need axis names, or take no arrays.
SKIP = {
    "set_printoptions", "printoptions", "get_printoptions", "load", "save", "fromfile",
    "fromstring", "frombuffer", "fromiter", "fromfunction", "frompyfunc", "vectorize",
    "piecewise", "from_dlpack", "iterable", "axis_index", "axis_size", "psum", "pmax",
    "pmin", "pmean", "ppermute", "pshuffle", "pswapaxes", "all_gather", "all_to_all",
    "psum_scatter", "ragged_all_to_all", "pbroadcast", "pcast", "precv", "psend",
    "create_token", "after_all", "composite", "stage", "dce_sink", "platform_dependent",
    "with_sharding_constraint", "device_put", "rng_uniform", "rng_bit_generator",
    "shape_as_value",
}


def _nd(x):
  return x.ndim


def _structural(lax_, jnp_):
  """(name, fn(x, y)) of lax operations whose parameters follow the operand's shape."""
  all_axes = lambda x: tuple(range(_nd(x)))
  first = lambda f: lambda x, y: f(x, y) if _nd(x) else None
  ops = [
      ("reduce_sum", lambda x, y: lax_.reduce_sum(x, all_axes(x))),
      ("reduce_max", lambda x, y: lax_.reduce_max(x, all_axes(x))),
      ("reduce_min", lambda x, y: lax_.reduce_min(x, all_axes(x))),
      ("reduce_prod", lambda x, y: lax_.reduce_prod(x, all_axes(x))),
      ("reduce_and", lambda x, y: lax_.reduce_and(x, all_axes(x))),
      ("reduce_or", lambda x, y: lax_.reduce_or(x, all_axes(x))),
      ("reduce_xor", lambda x, y: lax_.reduce_xor(x, all_axes(x))),
      ("argmax", first(lambda x, y: lax_.argmax(x, 0, np.int32))),
      ("argmin", first(lambda x, y: lax_.argmin(x, _nd(x) - 1, np.int32))),
      ("cumsum", first(lambda x, y: lax_.cumsum(x, 0))),
      ("cumprod", first(lambda x, y: lax_.cumprod(x, _nd(x) - 1, reverse=True))),
      ("cummax", first(lambda x, y: lax_.cummax(x, 0))),
      ("cummin", first(lambda x, y: lax_.cummin(x, 0))),
      ("cumlogsumexp", first(lambda x, y: lax_.cumlogsumexp(x, 0))),
      ("sort", first(lambda x, y: lax_.sort(x))),
      ("sort_key_val", first(lambda x, y: lax_.sort_key_val(x, y, 0))),
      ("top_k", first(lambda x, y: lax_.top_k(x, min(1, x.shape[-1])))),
      ("rev", lambda x, y: lax_.rev(x, all_axes(x))),
      ("transpose", lambda x, y: lax_.transpose(x, all_axes(x)[::-1])),
      ("reshape", lambda x, y: lax_.reshape(x, (x.size,))),
      ("broadcast_in_dim", lambda x, y: lax_.broadcast_in_dim(
          x, (2, *x.shape), tuple(range(1, _nd(x) + 1)))),
      ("expand_dims", lambda x, y: lax_.expand_dims(x, (0,))),
      ("squeeze", lambda x, y: lax_.squeeze(x, tuple(i for i, s in enumerate(x.shape)
                                                     if s == 1))),
      ("pad", lambda x, y: lax_.pad(x, np.zeros((), x.dtype), [(1, 2, 1)] * _nd(x))),
      ("pad_neg", lambda x, y: lax_.pad(x, np.ones((), x.dtype), [(-1, 1, 0)] * _nd(x))),
      ("slice", lambda x, y: lax_.slice(x, (0,) * _nd(x), x.shape, (2,) * _nd(x))),
      ("dynamic_slice", lambda x, y: lax_.dynamic_slice(
          x, (np.int32(0),) * _nd(x), tuple(min(1, s) for s in x.shape))),
      ("dynamic_update_slice", lambda x, y: lax_.dynamic_update_slice(
          x, lax_.slice(y, (0,) * _nd(x), tuple(min(1, s) for s in x.shape)),
          (np.int32(0),) * _nd(x))),
      ("concatenate", first(lambda x, y: lax_.concatenate([x, y, x], 0))),
      ("select_n", lambda x, y: lax_.select_n(lax_.ne(x, y), x, y)),
      ("clamp", lambda x, y: lax_.clamp(y, x, y)),
      ("integer_pow3", lambda x, y: lax_.integer_pow(x, 3)),
      ("integer_pow-2", lambda x, y: lax_.integer_pow(x, -2)),
      ("round", lambda x, y: lax_.round(x, lax_.RoundingMethod.TO_NEAREST_EVEN)),
      ("reduce_precision", lambda x, y: lax_.reduce_precision(x, 5, 10)),
      ("dot_general", lambda x, y: lax_.dot_general(x, y, (all_axes(x)[-1:],) * 2
                                                    + (((), ()),))),
      ("dot_general_batch", first(lambda x, y: lax_.dot_general(
          x, y, ((all_axes(x)[1:2],) * 2, ((0,), (0,)))))),
      ("reduce_window", lambda x, y: lax_.reduce_window(
          x, np.zeros((), x.dtype), lax_.add, (min(2, s) or 1 for s in x.shape),
          (1,) * _nd(x), "VALID")),
      ("gather", first(lambda x, y: x[jnp_.array([0, -1])] if x.shape[0] else x[0:0])),
      ("scatter_add", first(lambda x, y: x.at[x.shape[0] - 1].add(y[0]))),
      ("scatter_set", first(lambda x, y: x.at[::2].set(y[::2]))),
      ("scatter_max", first(lambda x, y: x.at[0].max(y[0], mode="drop"))),
      ("fori_loop", lambda x, y: lax_.fori_loop(0, 3, lambda i, c: c + y, x)),
      ("scan", first(lambda x, y: lax_.scan(lambda c, a: (c + a, c * a), y[0], x))),
      ("cond", lambda x, y: lax_.cond(lax_.reduce_sum(lax_.convert_element_type(
          lax_.ne(x, y), np.int32), all_axes(x)) > 0, lambda: x, lambda: y)),
      ("conv", lambda x, y: lax_.conv_general_dilated(
          lax_.reshape(x, (1, 1, x.size)), lax_.reshape(y, (1, 1, y.size))[:, :, :1],
          (1,), "SAME")),
  ]
  for t in ("float32", "int32", "bool", "complex64", "float16", "bfloat16", "uint8"):
    ops.append((f"convert_{t}", lambda x, y, t=t: lax_.convert_element_type(x, np.dtype(
        bfloat16 if t == "bfloat16" else t))))
  ops.append(("bitcast", lambda x, y: lax_.bitcast_convert_type(x, {
      1: np.uint8, 2: np.int16, 4: np.float32, 8: np.int64, 16: np.complex128}[
          x.dtype.itemsize] if x.dtype.kind != "c" else np.float64)))
  return ops


def candidates():
  """(label, fn(x, y)) of every function tried: lax and jnp, unary and binary, and the
  structural lax operations."""
  out = []
  for mod_name, mod in (("lax", lax), ("jnp", jnp)):
    for name in sorted(getattr(mod, "__all__", dir(mod))):
      f = getattr(mod, name, None)
      if (name in SKIP or name.startswith("_") or name.endswith("_p") or not callable(f)
          or isinstance(f, type)):
        continue
      out.append((f"{mod_name}.{name}(x)", lambda x, y, f=f: f(x)))
      out.append((f"{mod_name}.{name}(x,y)", lambda x, y, f=f: f(x, y)))
  out += [(f"lax.{n}", fn) for n, fn in _structural(lax, jnp)]
  return out


def _is_result(out):
  leaves = pyjax.tree_util.tree_leaves(out)
  return bool(leaves) and all(isinstance(v, pyjax.Array) for v in leaves)


def operands(dtype, shape, seed=0):
  rng = np.random.default_rng(seed)
  if dtype.kind in "iu":
    return rand(shape, dtype, rng, low=0, high=9), rand(shape, dtype, rng, low=1, high=5)
  return (rand(shape, dtype, rng, low=0.1, high=2),
          rand(shape, dtype, rng, low=0.2, high=1.5))


def applicable(ops, x, y):
  """The ``ops`` that run eagerly on ``(x, y)`` and trace, with their eager results."""
  keep = []
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for label, fn in ops:
      try:
        out = fn(x, y)
        if out is None or not _is_result(out):
          continue
        pyjax.make_jaxpr(fn)(x, y)
      except Exception:  # noqa: BLE001 (not this operand's function: not swept)
        continue
      keep.append((label, fn, out))
  return keep


def _run(cases, x, y):
  fns = [fn for _, fn, _ in cases]
  f = pyjax.jit(lambda x, y: [fn(x, y) for fn in fns])
  return f(x, y)


def _failures(cases, x, y, err):
  """The cases whose compile fails, cutting ``cases`` in halves; (label, message)."""
  if len(cases) == 1:
    return [(cases[0][0], err)]
  bad = []
  for part in (cases[:len(cases) // 2], cases[len(cases) // 2:]):
    try:
      _run(part, x, y)
    except Exception as e:  # noqa: BLE001
      bad += _failures(part, x, y, f"{type(e).__name__}: {str(e)[:300]}")
  return bad


def _tol(dtype):
  dtype = np.dtype(dtype)
  return {np.dtype(np.float16): 4e-3, bfloat16: 3e-2, np.dtype(np.float32): 2e-5,
          np.dtype(np.complex64): 2e-5}.get(dtype, 1e-12 if dtype.kind in "fc" else 0)


def sweep_case(dtype, shape, ops=None, part=0, parts=1):
  """Compiles one (dtype, shape) program of every applicable op (of every ``parts``-th
  candidate from ``part`` on: a sample); returns (count, [(label, problem)]) where a
  problem is a compile failure or a mismatch with eager."""
  x, y = operands(dtype, shape)
  with enable_x64(dtype in (np.float64, np.uint64, np.complex128)):
    x, y = jnp.asarray(x), jnp.asarray(y)
    cases = applicable((candidates() if ops is None else ops)[part::parts], x, y)
    try:
      got = _run(cases, x, y)
    except Exception as e:  # noqa: BLE001
      return len(cases), _failures(cases, x, y, f"{type(e).__name__}: {str(e)[:300]}")
    problems = []
    for (label, _, want), g in zip(cases, got):
      ws, gs = pyjax.tree_util.tree_leaves(want), pyjax.tree_util.tree_leaves(g)
      try:
        for w, v in zip(ws, gs):
          assert w.dtype == v.dtype and w.shape == v.shape, (w.dtype, v.dtype, w.shape,
                                                            v.shape)
          t = _tol(w.dtype)
          check_close(np.asarray(v), np.asarray(w), rtol=t, atol=t)
      except AssertionError as e:
        problems.append((label, "mismatch: " + str(e)[:300]))
  return len(cases), problems


def main(argv):
  """``[--parts N] [dtype ...]``: with N, each case compiles every N-th function, from
  an offset that moves from case to case (a quicker sweep: each function in about one
  case in N)."""
  parts = 1
  if argv[:1] == ["--parts"]:
    parts, argv = int(argv[1]), argv[2:]
  dts = [np.dtype(bfloat16 if a == "bfloat16" else a) for a in argv] or DTYPES
  total, bad, k = 0, [], 0
  for dt in dts:
    for shape in SHAPES:
      n, problems = sweep_case(dt, shape, part=k % parts, parts=parts)
      k += 1
      total += n
      print(f"{dt.name:11s} {str(shape):10s} {n:4d} functions, {len(problems)} problems",
            flush=True)
      for label, msg in problems:
        print(f"    {label}: {msg}", flush=True)
        bad.append((dt.name, shape, label))
  print(f"{total} compiled cases, {len(bad)} problems")
  return 1 if bad else 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))

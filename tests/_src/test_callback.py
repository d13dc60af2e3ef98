"""pure_callback and io_callback vs JAX: values, jit, vmap methods, errors."""
import io
import sys

import numpy as np
import pytest

import pyjax
import pyjax.numpy as pnp
from pyjax.experimental import io_callback

from util import check_close

jax = pytest.importorskip("jax")
jnp = jax.numpy
jax_io_callback = pytest.importorskip("jax.experimental").io_callback


def _sin(x):
  return np.sin(np.asarray(x))


def _cases(j, io_cb):
  """(name, function, args) cases, the same for JAX and pyjax."""
  sds = j.ShapeDtypeStruct

  def pc(x, method=None):
    return j.pure_callback(_sin, sds(x.shape, x.dtype), x, vmap_method=method)

  def two(x, y):  # a pytree of results, an unbatched argument
    return j.pure_callback(lambda a, b: {"s": np.asarray(a + b),
                                         "p": np.asarray(a * b).sum(-1)},
                           {"s": sds(x.shape, x.dtype), "p": sds(x.shape[:-1], x.dtype)},
                           x, y, vmap_method="broadcast_all")

  def shape_seen(x, y):  # what the callback is called with under each vmap_method
    return [j.pure_callback(lambda a, b: np.broadcast_to(np.asarray(
        [a.ndim, b.ndim, a.shape[0], b.shape[0]], np.int32), (*a.shape[:-1], 4)),
                            sds((4,), np.int32), x, y, vmap_method=m)
            for m in ("expand_dims", "broadcast_all", "sequential",
                      "sequential_unrolled")]

  def io(x):
    return io_cb(lambda a: np.asarray(a) * 2, sds(x.shape, x.dtype), x)

  x = np.linspace(0.1, 1.0, 6, dtype=np.float32).reshape(2, 3)
  y = np.arange(3, dtype=np.float32)
  return [
      ("plain", lambda x: pc(x), (x,)),
      ("jit", j.jit(lambda x: pc(x) + 1), (x,)),
      ("vmap_seq", j.jit(j.vmap(lambda v: pc(v, "sequential"))), (x,)),
      ("vmap_unrolled", j.vmap(lambda v: pc(v, "sequential_unrolled")), (x,)),
      ("vmap_expand", j.vmap(lambda v: pc(v, "expand_dims")), (x,)),
      ("vmap_two", j.jit(j.vmap(two, in_axes=(0, None))), (x, y)),
      ("vmap_shapes", j.vmap(shape_seen, in_axes=(0, None)), (x, y)),
      ("io_jit", j.jit(io), (x,)),
      ("io_vmap", j.vmap(io), (x,)),
      ("custom_jvp_grad", j.grad(_with_jvp(j)), (np.float32(0.3),)),
  ]


def _with_jvp(j):
  @j.custom_jvp
  def f(x):
    return j.pure_callback(_sin, j.ShapeDtypeStruct((), np.float32), x)

  @f.defjvp
  def f_jvp(p, t):
    return f(p[0]), j.numpy.cos(p[0]) * t[0]
  return f


@pytest.mark.parametrize("i", range(10))
def test_values_match_jax(i):
  name, f_ours, args = _cases(pyjax, io_callback)[i]
  _, f_jax, _ = _cases(jax, jax_io_callback)[i]
  ours, theirs = f_ours(*args), f_jax(*args)
  check_close(jax.tree_util.tree_leaves(pyjax.device_get(ours)),
              jax.tree_util.tree_leaves(jax.device_get(theirs)), err_msg=name)


def _error(f, *args):
  try:
    r = f(*args)
    jax.block_until_ready(r) if "jax" in type(r).__module__ else None
    pyjax.block_until_ready(r)
  except Exception as e:  # noqa: BLE001
    return type(e).__name__, str(e)
  return None


@pytest.mark.parametrize("case", ["shape", "dtype", "jvp", "vmap_none", "io_ordered_vmap",
                                  "raises"])
def test_errors_match_jax(case):
  def make(j, io_cb):
    sds = j.ShapeDtypeStruct
    x = np.arange(3, dtype=np.float32)
    if case == "shape":
      return j.jit(lambda v: j.pure_callback(lambda a: a, sds((2,), np.float32), v)), x
    if case == "dtype":
      return j.jit(lambda v: j.pure_callback(lambda a: np.asarray(a).astype(np.int32),
                                             sds((3,), np.float32), v)), x
    if case == "jvp":
      return j.grad(lambda v: j.pure_callback(_sin, sds((), np.float32), v)), x[1]
    if case == "vmap_none":
      return j.vmap(lambda v: j.pure_callback(_sin, sds((), np.float32), v)), x
    if case == "io_ordered_vmap":
      return j.vmap(lambda v: io_cb(_sin, sds((), np.float32), v, ordered=True)), x

    def boom(a):
      raise ZeroDivisionError("boom")
    return j.jit(lambda v: j.pure_callback(boom, sds((3,), np.float32), v)), x
  f_ours, x = make(pyjax, io_callback)
  f_jax, _ = make(jax, jax_io_callback)
  ours, theirs = _error(f_ours, x), _error(f_jax, x)
  assert ours is not None and theirs is not None
  assert ours[0] == theirs[0]
  # The gist: JAX's first line (a traceback follows for callback errors) and last line.
  assert ours[1].splitlines()[0] == theirs[1].splitlines()[0]
  assert ours[1].strip().splitlines()[-1] == theirs[1].strip().splitlines()[-1]


def test_eager_shape_error():
  with pytest.raises(pyjax.errors.JaxRuntimeError, match="Incorrect output shape"):
    pyjax.pure_callback(lambda a: a, pyjax.ShapeDtypeStruct((2,), np.float32),
                        pnp.arange(3.0))


def test_io_callback_ordered_runs_in_order_each_call():
  log = []

  def rec(a):
    log.append(float(a))
    return np.asarray(a, np.float32)

  @pyjax.jit
  def f(x):
    sds = pyjax.ShapeDtypeStruct((), np.float32)
    a = io_callback(rec, sds, x, ordered=True)
    b = io_callback(rec, sds, x * 2, ordered=True)
    io_callback(rec, sds, a + b, ordered=True)  # unused: still runs
    return x
  f(np.float32(1))
  f(np.float32(2))
  assert log == [1.0, 2.0, 3.0, 2.0, 4.0, 6.0]


def test_unused_pure_callback_may_be_dropped_but_values_right():
  out = io.StringIO()
  old, sys.stdout = sys.stdout, out
  try:
    r = pyjax.jit(lambda x: pyjax.pure_callback(
        lambda a: np.asarray(a) + 1, pyjax.ShapeDtypeStruct((), np.float32), x))(
            np.float32(1))
  finally:
    sys.stdout = old
  assert float(r) == 2.0


def test_same_program_text_binds_its_own_callbacks():
  # Two programs whose text is the same (callbacks are named by index) each call their
  # own Python function, also when the second one's module comes from the cache.
  def make(k):
    return pyjax.jit(lambda x: pyjax.pure_callback(
        lambda a: np.asarray(a) + np.float32(k), pyjax.ShapeDtypeStruct((), np.float32),
        x))
  f1, f2 = make(1), make(2)
  assert float(f1(np.float32(0))) == 1.0
  assert float(f2(np.float32(0))) == 2.0
  assert f1.lower(np.float32(0)).as_text() == f2.lower(np.float32(0)).as_text()


def test_callback_calling_jax_inside_jit():
  # A callback may itself run eager and jitted pyjax code.
  g = pyjax.jit(lambda a: a * 3)
  f = pyjax.jit(lambda x: pyjax.pure_callback(
      lambda a: np.asarray(g(a) + pnp.sin(a)), pyjax.ShapeDtypeStruct((2,), np.float32),
      x))
  x = np.array([0.5, 1.0], np.float32)
  check_close(f(x), x * 3 + np.sin(x))

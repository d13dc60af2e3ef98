"""JAX's error classes (``pyjax.errors``) and the classes shape errors raise: each bad
input raises the class JAX raises, eager and under jit, with a message that names the
problem."""
import re

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax import errors
from util import same_error_class


def test_error_classes_match_jax():
  jax = pytest.importorskip("jax")
  theirs = {n: c for n, c in vars(jax.errors).items() if isinstance(c, type)}
  assert sorted(theirs) == sorted(n for n, c in vars(errors).items() if isinstance(c, type)
                                  and issubclass(c, BaseException))
  for n, c in theirs.items():
    assert [k.__name__ for k in getattr(errors, n).__mro__] == [k.__name__ for k in c.__mro__]


def test_unexpected_tracer_error_is_a_type_error():
  leaked = []
  pyjax.jit(lambda x: leaked.append(x) or x)(1.0)
  with pytest.raises(TypeError) as info:
    leaked[0] + 1
  assert type(info.value) is errors.UnexpectedTracerError
  msg = str(info.value)
  assert "unexpected tracer" in msg
  assert msg.count("See https://docs.jax.dev/en/latest/errors.html#jax.errors."
                   "UnexpectedTracerError") == 1


def _z(*shape, dtype=np.float32):
  return np.zeros(shape, dtype)


_i = lambda *shape: np.zeros(shape, np.int32)

# name -> (f(jnp, lax, *args), args, a pattern the message must contain). Left out: bad
# inputs where JAX's class is an accident of its implementation (lax.reshape of a wrong
# size fails in JAX's MLIR verifier, a zero lax.slice stride divides by zero, a
# negative jnp.tile fails in MLIR, jnp.ravel_multi_index asserts). jnp.split's errors
# are in tests/_src/numpy/test_lax_numpy.py's ERRORS, which also matches JAX's message.
ROWS = {
    "reshape size": (lambda jnp, lax, x: jnp.reshape(x, (4, 2)), [_z(2, 3)], "reshape"),
    "reshape two -1": (lambda jnp, lax, x: jnp.reshape(x, (-1, -1)), [_z(2, 3)],
                       "one unknown axis size"),
    "reshape order": (lambda jnp, lax, x: jnp.reshape(x, (3, 2), order="Q"), [_z(2, 3)],
                      "'order' argument: Q"),
    "broadcast_in_dim rank": (lambda jnp, lax, x: lax.broadcast_in_dim(x, (2, 3), (0,)),
                              [_z(2, 3)], "broadcast_dimensions"),
    "broadcast_in_dim size": (lambda jnp, lax, x: lax.broadcast_in_dim(x, (4, 3), (0, 1)),
                              [_z(2, 3)], "broadcast_in_dim"),
    "broadcast_to": (lambda jnp, lax, x: jnp.broadcast_to(x, (4, 3)), [_z(2, 3)],
                     r"broadcast|\(4, 3\)"),
    "broadcast_to rank": (lambda jnp, lax, x: jnp.broadcast_to(x, (3,)), [_z(2, 3)],
                          r"broadcast|rank"),
    "broadcast_arrays": (lambda jnp, lax, x, y: jnp.broadcast_arrays(x, y),
                         [_z(2, 3), _z(4)], "Incompatible shapes for broadcasting"),
    "concatenate shapes": (lambda jnp, lax, x, y: jnp.concatenate([x, y]),
                           [_z(2, 3), _z(2, 4)], "concatenate"),
    "concatenate ranks": (lambda jnp, lax, x, y: jnp.concatenate([x, y]), [_z(2, 3), _z(3)],
                          "different numbers of dimensions"),
    "concatenate axis": (lambda jnp, lax, x, y: jnp.concatenate([x, y], axis=2),
                         [_z(2, 3), _z(2, 3)], "axis 2 is out of bounds"),
    "lax.concatenate": (lambda jnp, lax, x, y: lax.concatenate([x, y], 0),
                        [_z(2, 3), _z(2, 4)], "concatenate"),
    "dot_general contracting": (lambda jnp, lax, x, y: lax.dot_general(
        x, y, (((1,), (0,)), ((), ()))), [_z(2, 3), _z(4, 5)], "contracting dimensions"),
    "dot_general batch": (lambda jnp, lax, x, y: lax.dot_general(
        x, y, (((2,), (1,)), ((0,), (0,)))), [_z(2, 3, 4), _z(3, 4, 5)], "batch dimensions"),
    "dot": (lambda jnp, lax, x, y: jnp.dot(x, y), [_z(2, 3), _z(4, 5)], "dot"),
    "matmul": (lambda jnp, lax, x, y: jnp.matmul(x, y), [_z(2, 3), _z(4, 5)],
               "contracting dimensions"),
    "matmul @": (lambda jnp, lax, x, y: x @ y, [_z(2, 3), _z(4, 5)],
                 "contracting dimensions"),
    "matmul vectors": (lambda jnp, lax, x, y: jnp.matmul(x, y), [_z(3), _z(4)],
                       "contracting dimensions"),
    "matmul batch": (lambda jnp, lax, x, y: jnp.matmul(x, y), [_z(2, 2, 3), _z(3, 3, 5)],
                     r"matmul|broadcast"),
    "matmul scalar": (lambda jnp, lax, x, y: jnp.matmul(x, y), [_z(), _z(4, 5)], "matmul"),
    "lax.dot": (lambda jnp, lax, x, y: lax.dot(x, y), [_z(2, 3), _z(4, 5)],
                "dimension_numbers must be specified"),
    "vdot": (lambda jnp, lax, x, y: jnp.vdot(x, y), [_z(3), _z(4)], r"\(3,\)|\(4,\)"),
    "inner": (lambda jnp, lax, x, y: jnp.inner(x, y), [_z(2, 3), _z(2, 4)], r"3|4"),
    "tensordot": (lambda jnp, lax, x, y: jnp.tensordot(x, y, axes=1), [_z(2, 3), _z(4, 5)],
                  r"3|4"),
    "einsum": (lambda jnp, lax, x, y: jnp.einsum("ij,jk->ik", x, y), [_z(2, 3), _z(4, 5)],
               r"j|3|4"),
    "einsum operands": (lambda jnp, lax, x, y: jnp.einsum("ij,jk,kl->il", x, y),
                        [_z(2, 3), _z(3, 5)], "operand"),
    "transpose repeated": (lambda jnp, lax, x: jnp.transpose(x, (0, 0)), [_z(2, 3)],
                           "isn't a permutation"),
    "transpose length": (lambda jnp, lax, x: jnp.transpose(x, (0,)), [_z(2, 3)],
                         "isn't a permutation"),
    "lax.transpose": (lambda jnp, lax, x: lax.transpose(x, (0, 0)), [_z(2, 3)],
                      "permutation"),
    "squeeze size": (lambda jnp, lax, x: jnp.squeeze(x, 0), [_z(2, 3)], "squeeze"),
    "squeeze axis": (lambda jnp, lax, x: jnp.squeeze(x, 3), [_z(1, 3)], "out of bounds"),
    "lax.squeeze": (lambda jnp, lax, x: lax.squeeze(x, (0,)), [_z(2, 3)], "squeeze"),
    "expand_dims axis": (lambda jnp, lax, x: jnp.expand_dims(x, 4), [_z(2, 3)],
                         "out of bounds"),
    "expand_dims repeated": (lambda jnp, lax, x: jnp.expand_dims(x, (0, 0)), [_z(2, 3)],
                             "repeated"),
    "lax.slice bounds": (lambda jnp, lax, x: lax.slice(x, (0, 0), (3, 3)), [_z(2, 3)],
                         "limit_indices"),
    "lax.slice order": (lambda jnp, lax, x: lax.slice(x, (1, 0), (0, 3)), [_z(2, 3)],
                        "limit_indices"),
    "dynamic_slice size": (lambda jnp, lax, x: lax.dynamic_slice(x, (0, 0), (3, 3)),
                           [_z(2, 3)], "slice_sizes"),
    "dynamic_slice rank": (lambda jnp, lax, x: lax.dynamic_slice(x, (0,), (1,)), [_z(2, 3)],
                           r"dynamic_slice|indices"),
    "dynamic_update_slice size": (lambda jnp, lax, x, y: lax.dynamic_update_slice(
        x, y, (0, 0)), [_z(2, 3), _z(3, 3)], "update"),
    "dynamic_update_slice rank": (lambda jnp, lax, x, y: lax.dynamic_update_slice(
        x, y, (0, 0)), [_z(2, 3), _z(3)], "update"),
    "dynamic_update_slice dtype": (lambda jnp, lax, x, y: lax.dynamic_update_slice(
        x, y, (0, 0)), [_z(2, 3), _i(1, 3)], "dtype"),
    "gather dims": (lambda jnp, lax, x, i: lax.gather(x, i, lax.GatherDimensionNumbers(
        offset_dims=(), collapsed_slice_dims=(0,), start_index_map=(0,)), (1,)),
        [_z(2, 3), _i(2, 1)], "slice_sizes"),
    "scatter dims": (lambda jnp, lax, x, i, u: lax.scatter_add(
        x, i, u, lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                             scatter_dims_to_operand_dims=(0,))),
        [_z(4), _i(2, 1), _z(3)], "updates"),
    "pad config": (lambda jnp, lax, x: lax.pad(x, 0.0, [(1, 1, 0)]), [_z(2, 3)],
                   "padding_config"),
    "pad interior": (lambda jnp, lax, x: lax.pad(x, 0.0, [(1, 1, -1), (0, 0, 0)]),
                     [_z(2, 3)], "interior"),
    "pad dtype": (lambda jnp, lax, x: lax.pad(x, np.int32(0), [(1, 1, 0), (0, 0, 0)]),
                  [_z(2, 3)], "padding_value"),
    "jnp.pad width": (lambda jnp, lax, x: jnp.pad(x, [(1, 1)] * 3), [_z(2, 3)], "pad"),
    "select which": (lambda jnp, lax, c, x, y: lax.select(c, x, y),
                     [np.zeros(2, bool), _z(2, 3), _z(2, 3)], "which"),
    "select dtype": (lambda jnp, lax, c, x, y: lax.select(c, x, y),
                     [_z(2, 3), _z(2, 3), _z(2, 3)], "which"),
    "select cases": (lambda jnp, lax, c, x, y: lax.select(c, x, y),
                     [np.zeros((2, 3), bool), _z(2, 3), _z(3, 2)], "cases"),
    "where": (lambda jnp, lax, c, x, y: jnp.where(c, x, y),
              [np.zeros(2, bool), _z(2, 3), _z(2, 3)], "Incompatible shapes"),
    "+ ranks": (lambda jnp, lax, x, y: x + y, [_z(2, 3), _z(4)], "Incompatible shapes"),
    "add shapes": (lambda jnp, lax, x, y: jnp.add(x, y), [_z(2, 3), _z(2, 4)],
                   "add got incompatible shapes"),
    "* shapes": (lambda jnp, lax, x, y: x * y, [_z(2, 3), _z(3, 2)], "incompatible shapes"),
    "< shapes": (lambda jnp, lax, x, y: x < y, [_z(2, 3), _z(3, 2)], "incompatible shapes"),
    "lax.add shapes": (lambda jnp, lax, x, y: lax.add(x, y), [_z(2, 3), _z(3)], "add"),
    "lax.add dtypes": (lambda jnp, lax, x, y: lax.add(x, y), [_z(3), _i(3)], "add"),
    "sum axis": (lambda jnp, lax, x: jnp.sum(x, axis=2), [_z(2, 3)], "axis 2"),
    "sum repeated axis": (lambda jnp, lax, x: jnp.sum(x, axis=(0, 0)), [_z(2, 3)],
                          "duplicate"),
    "max axis": (lambda jnp, lax, x: jnp.max(x, axis=-3), [_z(2, 3)], "axis -3"),
    "mean axis": (lambda jnp, lax, x: jnp.mean(x, axis=5), [_z(2, 3)], "axis 5"),
    "argmax axis": (lambda jnp, lax, x: jnp.argmax(x, axis=2), [_z(2, 3)], "axis 2"),
    "cumsum axis": (lambda jnp, lax, x: jnp.cumsum(x, axis=2), [_z(2, 3)], "axis 2"),
    "lax.reduce_sum axes": (lambda jnp, lax, x: lax.reduce_sum(x, (2,)), [_z(2, 3)],
                            r"axes|2"),
    "stack shapes": (lambda jnp, lax, x, y: jnp.stack([x, y]), [_z(2, 3), _z(3, 2)],
                     "same shape"),
    "stack ranks": (lambda jnp, lax, x, y: jnp.stack([x, y]), [_z(2, 3), _z(3)],
                    r"shape|dimensions"),
    "stack axis": (lambda jnp, lax, x, y: jnp.stack([x, y], axis=3), [_z(2, 3), _z(2, 3)],
                   "axis 3"),
    "vstack": (lambda jnp, lax, x, y: jnp.vstack([x, y]), [_z(2, 3), _z(2, 4)],
               "concatenate"),
    "split uneven": (lambda jnp, lax, x: jnp.split(x, 4), [_z(6)], "equal division"),
    "take axis": (lambda jnp, lax, x: jnp.take(x, np.array([0]), axis=3), [_z(2, 3)],
                  "axis 3"),
    "take_along_axis": (lambda jnp, lax, x, i: jnp.take_along_axis(x, i, axis=0),
                        [_z(2, 3), _i(2)], "dimensions"),
    "moveaxis axis": (lambda jnp, lax, x: jnp.moveaxis(x, 3, 0), [_z(2, 3)], "axis 3"),
    "moveaxis lengths": (lambda jnp, lax, x: jnp.moveaxis(x, (0, 1), (0,)), [_z(2, 3)],
                         "number of elements"),
    "moveaxis repeated": (lambda jnp, lax, x: jnp.moveaxis(x, (0, 0), (0, 1)), [_z(2, 3)],
                          "permutation"),
    "swapaxes": (lambda jnp, lax, x: jnp.swapaxes(x, 0, 3), [_z(2, 3)], "axis 3"),
    "flip axis": (lambda jnp, lax, x: jnp.flip(x, 3), [_z(2, 3)], "axis 3"),
    "roll axis": (lambda jnp, lax, x: jnp.roll(x, 1, axis=3), [_z(2, 3)], "axis 3"),
    "repeat": (lambda jnp, lax, x: jnp.repeat(x, np.array([1, 2, 3]), axis=0), [_z(2, 3)],
               r"broadcast.*\(3,\).*\(2,\)"),
    "lax.rev": (lambda jnp, lax, x: lax.rev(x, (3,)), [_z(2, 3)], "dimensions"),
    "clamp": (lambda jnp, lax, x: lax.clamp(np.zeros(2, np.float32), x, np.float32(1)),
              [_z(2, 3)], "clamp"),
    "too many indices": (lambda jnp, lax, x: x[0, 0, 0], [_z(2, 3)], "Too many indices"),
    "diagonal axes": (lambda jnp, lax, x: jnp.diagonal(x, axis1=0, axis2=0), [_z(2, 3)],
                      r"axis1=0 and axis2=0|permutation"),
    "trace": (lambda jnp, lax, x: jnp.trace(x), [_z(3)], "dimensions"),
    "solve": (lambda jnp, lax, x, y: jnp.linalg.solve(x, y), [_z(2, 3), _z(2)], "square"),
    "inv": (lambda jnp, lax, x: jnp.linalg.inv(x), [_z(2, 3)], "square"),
    "append": (lambda jnp, lax, x, y: jnp.append(x, y, axis=0), [_z(2, 3), _z(2, 4)],
               "concatenate"),
    "sort axis": (lambda jnp, lax, x: jnp.sort(x, axis=2), [_z(2, 3)], "axis 2"),
    "lax.sort dimension": (lambda jnp, lax, x: lax.sort(x, dimension=2), [_z(2, 3)],
                           "axis 2"),
    "iota dimension": (lambda jnp, lax: lax.broadcasted_iota(np.int32, (2, 3), 2), [],
                       "dimension"),
    "zeros negative": (lambda jnp, lax: jnp.zeros((2, -1)), [], "negative"),
    "ones negative": (lambda jnp, lax: jnp.ones((2, -1)), [], "negative"),
    "full negative": (lambda jnp, lax: jnp.full((2, -1), 1.0), [], "negative"),
}


def _raised(J, f, args, jit):
  g = lambda *a: f(J.numpy, J.lax, *a)
  try:
    (J.jit(g) if jit else g)(*[J.numpy.asarray(a) for a in args])
  except Exception as e:  # noqa: BLE001 (the class is what is compared)
    return e
  return None


@pytest.fixture(scope="module")
def jax_errors():
  jax = pytest.importorskip("jax")
  return {name: type(_raised(jax, f, args, False)) for name, (f, args, _) in ROWS.items()}


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("name", list(ROWS))
def test_shape_errors_raise_jax_class(jax_errors, name, jit):
  f, args, pattern = ROWS[name]
  theirs = jax_errors[name]
  assert theirs is not type(None), f"JAX accepts {name}: not a bad input"
  e = _raised(pyjax, f, args, jit)
  assert e is not None, f"{name}: pyjax raised nothing, JAX raises {theirs.__name__}"
  assert same_error_class(type(e), theirs), \
      f"{name}: pyjax raised {type(e).__name__}, JAX {theirs.__name__}: {e}"
  assert re.search(pattern, str(e)), f"{name}: message does not name the problem: {e}"


def test_program_too_large_for_memory_is_jax_resource_error():
  """A program whose arrays cannot fit in memory is never compiled (IREE would fold the
  constant at compile time): calling it raises JAX's runtime error."""
  def big():
    return jnp.zeros(1 << 40).sum()
  with pytest.raises(errors.JaxRuntimeError,
                     match=r"^RESOURCE_EXHAUSTED: Out of memory allocating 4398046511104 "
                           r"bytes\.$"):
    pyjax.jit(big)()


def test_compiler_out_of_memory_is_jax_resource_error(monkeypatch):
  """IREE running out of memory while compiling: JAX's runtime error naming the function
  and its largest array, IREE's output as the cause."""
  from pyjax._src.backends import iree

  def fail(*a, **k):
    raise RuntimeError("IREE failed to compile the lowered module:\nRESOURCE_EXHAUSTED; "
                       "failed to allocate")
  monkeypatch.setattr(iree, "compile_module", fail)

  def big(x):
    return jnp.zeros((1000, 1000)).sum() + x
  with pytest.raises(errors.JaxRuntimeError) as info:
    pyjax.jit(big)(np.float32(1.0))
  msg = str(info.value)
  assert msg.startswith("RESOURCE_EXHAUSTED: Out of memory while compiling jit(big)")
  assert "float32[1000,1000]" in msg and "IREE" not in msg
  assert "RESOURCE_EXHAUSTED" in str(info.value.__cause__)


def test_abstract_huge_input_lowers_and_compiles():
  compiled = pyjax.jit(lambda x: x.sum()).lower(
      pyjax.ShapeDtypeStruct((1 << 40,), jnp.float32)).compile()
  assert compiled is not None


def test_compiler_failure_is_jax_error_naming_the_function(monkeypatch):
  from pyjax._src.backends import iree

  def fail(*a, **k):
    raise RuntimeError("IREE failed to compile the lowered module:\n<stdin>:3:5: error: "
                       "'foo.bar' op is broken\nModule: ...")
  monkeypatch.setattr(iree, "compile_module", fail)

  def my_fn(x):
    return x * 3.0 + 1.0
  with pytest.raises(errors.JaxRuntimeError, match=r"^INTERNAL: .*jit\(my_fn\).*"
                     r"'foo.bar' op is broken") as info:
    pyjax.jit(my_fn)(np.float32(2.0))
  assert "IREE failed" in str(info.value.__cause__)

"""Error classes and messages against JAX 0.10.2 (issue 22 item 4): the error paths JAX's
tutorials (the sharp bits, jit, control flow, autodiff) and the seeds exercise.

Each case is one function run twice in this process, on pyjax and on JAX, from the same
source lines (so the messages' ``file:line`` agree). The exception's class name and first
line must match; cases in ``_WHOLE`` must match in full. Normalized: addresses, the
package name (``pyjax`` reads ``jax``), and JAX 0.10.2's tracer repr ``JitTracer(...)``
written as the seeds print it (``JitTracer<...>``, seed 001).
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import pyjax
import pyjax.numpy as pjnp
from pyjax import lax as plax

jax = pytest.importorskip("jax")
import jax.numpy as jjnp  # noqa: E402
from jax import lax as jlax  # noqa: E402

CASES = {}


def case(fn):
  CASES[fn.__name__] = fn
  return fn


# ------------------------------------------------------------------ shapes under jit
# (JAX: a traced dimension is core.canonicalize_shape's TypeError, not a concretization
# error; jnp.arange, linspace, repeat, split, pad, sum(axis=...) concretize instead.)

@case
def ones_traced(jax, jnp, lax):
  jax.jit(lambda n: jnp.ones(n))(3)


@case
def zeros_traced_tuple(jax, jnp, lax):
  jax.jit(lambda n: jnp.zeros((n, 2)))(3)


@case
def full_traced(jax, jnp, lax):
  jax.jit(lambda n: jnp.full((n,), 1.0))(3)


@case
def empty_traced(jax, jnp, lax):
  jax.jit(lambda n: jnp.empty(n))(3)


@case
def zeros_like_shape_traced(jax, jnp, lax):
  jax.jit(lambda x, n: jnp.zeros_like(x, shape=(n,)))(jnp.ones(3), 2)


@case
def reshape_traced(jax, jnp, lax):
  jax.jit(lambda x, n: jnp.reshape(x, (n,)))(jnp.ones(4), 4)


@case
def reshape_method_traced(jax, jnp, lax):
  jax.jit(lambda x, n: x.reshape((n, -1)))(jnp.ones(4), 2)


@case
def lax_reshape_traced(jax, jnp, lax):
  jax.jit(lambda x, n: lax.reshape(x, (n,)))(jnp.ones(4), 4)


@case
def broadcast_to_traced(jax, jnp, lax):
  jax.jit(lambda x, n: jnp.broadcast_to(x, (n, 3)))(jnp.ones(3), 2)


@case
def iota_traced(jax, jnp, lax):
  jax.jit(lambda n: lax.iota(jnp.int32, n))(3)


@case
def lax_full_traced(jax, jnp, lax):
  jax.jit(lambda n: lax.full((n,), 0.))(3)


@case
def eye_traced(jax, jnp, lax):
  jax.jit(lambda n: jnp.eye(n))(3)


@case
def random_shape_traced(jax, jnp, lax):
  jax.jit(lambda n: jax.random.normal(jax.random.key(0), (n,)))(3)


@case
def dynamic_slice_size_traced(jax, jnp, lax):
  jax.jit(lambda x, n: lax.dynamic_slice(x, (0,), (n,)))(jnp.ones(3), 2)


@case
def shape_from_sum(jax, jnp, lax):
  jax.jit(lambda x: jnp.ones(x.sum()))(jnp.ones(3, jnp.int32))


@case
def shape_float(jax, jnp, lax):
  jnp.ones((2.0, 3))


@case
def arange_traced(jax, jnp, lax):
  jax.jit(lambda n: jnp.arange(n))(3)


@case
def arange_traced_stop(jax, jnp, lax):
  jax.jit(lambda n: jnp.arange(0, n))(3)


@case
def linspace_traced(jax, jnp, lax):
  jax.jit(lambda n: jnp.linspace(0., 1., n))(3)


@case
def repeat_traced(jax, jnp, lax):
  jax.jit(lambda x, n: jnp.repeat(x, n))(jnp.ones(3), 2)


@case
def split_traced(jax, jnp, lax):
  jax.jit(lambda x, n: jnp.split(x, n))(jnp.ones(4), 2)


@case
def pad_traced(jax, jnp, lax):
  jax.jit(lambda x, n: jnp.pad(x, n))(jnp.ones(3), 1)


@case
def sum_axis_traced(jax, jnp, lax):
  jax.jit(lambda x, n: jnp.sum(x, axis=n))(jnp.ones(3), 0)


@case
def expand_dims_traced(jax, jnp, lax):
  jax.jit(lambda x, n: jnp.expand_dims(x, n))(jnp.ones(3), 0)


@case
def transpose_traced_axes(jax, jnp, lax):
  jax.jit(lambda x, n: jnp.transpose(x, (n, 0)))(jnp.ones((2, 2)), 1)


@case
def slice_traced(jax, jnp, lax):
  jax.jit(lambda x, n: x[:n])(jnp.ones(3), 2)


# ------------------------------------------------------------------ concrete values

@case
def if_on_tracer(jax, jnp, lax):
  def f(x):
    if x > 0:
      return x
    return -x
  jax.jit(f)(1.)


@case
def while_on_tracer(jax, jnp, lax):
  def f(x):
    while x < 3:
      x = x + 1
    return x
  jax.jit(f)(1.)


@case
def if_on_two_args(jax, jnp, lax):
  def f(x, y, z):
    return x if x + y + z > 0 else y
  jax.jit(f)(1., 2., 3.)


@case
def bool_of_tracer(jax, jnp, lax):
  jax.jit(lambda x: bool(x))(1.)


@case
def int_of_tracer(jax, jnp, lax):
  jax.jit(lambda x: int(x))(1.)


@case
def float_of_tracer(jax, jnp, lax):
  jax.jit(lambda x: float(x))(1.)


@case
def range_of_tracer(jax, jnp, lax):
  jax.jit(lambda n: [i for i in range(n)])(3)


@case
def list_index_tracer(jax, jnp, lax):
  jax.jit(lambda i: [1, 2, 3][i])(1)


@case
def np_asarray_tracer(jax, jnp, lax):
  jax.jit(lambda x: np.asarray(x))(jnp.ones(2))


@case
def tolist_tracer(jax, jnp, lax):
  jax.jit(lambda x: x.tolist())(jnp.ones(2))


@case
def item_tracer(jax, jnp, lax):
  jax.jit(lambda x: x.item())(jnp.ones(()))


@case
def grad_of_if(jax, jnp, lax):
  def f(x):
    return x if x > 0 else -x
  jax.jit(jax.grad(f))(1.)


@case
def float_of_vector(jax, jnp, lax):
  float(jnp.ones(3))


# ------------------------------------------------------------------ dynamic shapes

@case
def bool_index_traced(jax, jnp, lax):
  jax.jit(lambda x: x[x > 0])(jnp.ones(3))


@case
def nonzero_traced(jax, jnp, lax):
  jax.jit(lambda x: jnp.nonzero(x))(jnp.ones(3))


@case
def where_one_arg_traced(jax, jnp, lax):
  jax.jit(lambda x: jnp.where(x > 0))(jnp.ones(3))


@case
def argwhere_traced(jax, jnp, lax):
  jax.jit(lambda x: jnp.argwhere(x))(jnp.ones(3))


@case
def unique_traced(jax, jnp, lax):
  jax.jit(lambda x: jnp.unique(x))(jnp.ones(3))


# ------------------------------------------------------------------ sharp bits

@case
def inplace_update(jax, jnp, lax):
  x = jnp.ones(3)
  x[0] = 2.


@case
def inplace_update_traced(jax, jnp, lax):
  def f(x):
    x[0] = 2.
    return x
  jax.jit(f)(jnp.ones(3))


@case
def list_input(jax, jnp, lax):
  jnp.sum([1, 2, 3])


@case
def jit_str_argument(jax, jnp, lax):
  jax.jit(lambda x: x)("a")


@case
def jit_static_unhashable(jax, jnp, lax):
  jax.jit(lambda x, y: x, static_argnums=1)(1., [1])


@case
def leaked_tracer(jax, jnp, lax):
  store = []
  jax.jit(lambda x: store.append(x) or x)(1.)
  store[0] + 1


@case
def float_index(jax, jnp, lax):
  jnp.ones(3)[jnp.array([1.5])]


@case
def reshape_bad_size(jax, jnp, lax):
  jnp.ones(4).reshape(3)


@case
def add_shape_mismatch(jax, jnp, lax):
  jnp.ones(3) + jnp.ones(4)


@case
def dot_shape_mismatch(jax, jnp, lax):
  jnp.dot(jnp.ones(3), jnp.ones(4))


@case
def lax_add_dtypes(jax, jnp, lax):
  lax.add(jnp.ones(3), jnp.ones(3, jnp.int32))


@case
def astype_unknown(jax, jnp, lax):
  jnp.ones(3).astype("foo")


@case
def random_int_key(jax, jnp, lax):
  jax.random.normal(0, (2,))


# ------------------------------------------------------------------ autodiff

@case
def grad_int_input(jax, jnp, lax):
  jax.grad(lambda x: x * 2)(1)


@case
def grad_vector_output(jax, jnp, lax):
  jax.grad(lambda x: x * 2)(jnp.ones(3))


@case
def grad_complex_output(jax, jnp, lax):
  jax.grad(lambda x: x * 1j)(1.)


@case
def jvp_tangent_dtype(jax, jnp, lax):
  jax.jvp(lambda x: x, (1.,), (1,))


@case
def jvp_tangent_tree(jax, jnp, lax):
  jax.jvp(lambda x: x, (1.,), ((1., 2.),))


@case
def jvp_int_tangent(jax, jnp, lax):
  jax.jvp(lambda x: x * 2, (1,), (1,))


@case
def jacrev_int_input(jax, jnp, lax):
  jax.jacrev(lambda n: n * 2.)(2)


@case
def jacfwd_int_input(jax, jnp, lax):
  jax.jacfwd(lambda n: n * 2.)(2)


@case
def jacfwd_complex_input(jax, jnp, lax):
  jax.jacfwd(lambda n: n * 2.)(2j)


def _float0_grad(jax):
  return jax.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(1., 2)[1]


@case
def float0_numpy_add(jax, jnp, lax):
  _float0_grad(jax) + 1  # a host ndarray: NumPy's error


@case
def float0_jnp_add(jax, jnp, lax):
  jnp.add(_float0_grad(jax), 1)


# ------------------------------------------------------------------ vmap

@case
def vmap_size_mismatch(jax, jnp, lax):
  jax.vmap(lambda x, y: x + y)(jnp.ones(3), jnp.ones(4))


@case
def vmap_axis_out_of_range(jax, jnp, lax):
  jax.vmap(lambda x: x, in_axes=1)(jnp.ones(3))


@case
def vmap_scalar(jax, jnp, lax):
  jax.vmap(lambda x: x)(1.)


@case
def vmap_in_axes_tree(jax, jnp, lax):
  jax.vmap(lambda x: x, in_axes=(0, 0))(jnp.ones(3))


# ------------------------------------------------------------------ control flow

@case
def scan_carry_tree(jax, jnp, lax):
  lax.scan(lambda c, x: ((c, c), x), 0., jnp.ones(3))


@case
def cond_branch_tree(jax, jnp, lax):
  lax.cond(True, lambda x: x, lambda x: (x, x), 1.)


@case
def cond_branch_dtype(jax, jnp, lax):
  lax.cond(True, lambda x: x, lambda x: x.astype(jnp.int32), 1.)


@case
def cond_vector_predicate(jax, jnp, lax):
  lax.cond(jnp.ones(2) > 0, lambda x: x, lambda x: x, 1.)


@case
def while_body_tree(jax, jnp, lax):
  lax.while_loop(lambda c: c < 3, lambda c: (c, c), 0)


@case
def fori_loop_tree(jax, jnp, lax):
  lax.fori_loop(0, 3, lambda i, c: (c, c), 0.)


# ------------------------------------------------------------------ more API errors

@case
def static_ndarray(jax, jnp, lax):
  jax.jit(lambda x, n: x * n[0], static_argnums=1)(1., np.array([1]))


@case
def static_argnames_unknown(jax, jnp, lax):
  jax.jit(lambda x: x, static_argnames="y")


@case
def static_argnums_out_of_range(jax, jnp, lax):
  jax.jit(lambda x: x, static_argnums=2)


@case
def grad_fori_dynamic(jax, jnp, lax):
  loop = jax.jit(lambda x, n: lax.fori_loop(0, n, lambda i, c: c * x, 1.))  # n traced
  jax.grad(loop)(2., 3)


@case
def grad_while(jax, jnp, lax):
  jax.grad(lambda x: lax.while_loop(lambda c: c < 10., lambda c: c * 2., x))(1.)


@case
def tree_map_list_arity(jax, jnp, lax):
  jax.tree.map(lambda a, b: a + b, [1, 2], [1, 2, 3])


@case
def tree_map_dict_keys(jax, jnp, lax):
  jax.tree.map(lambda a, b: a + b, {"a": 1}, {"b": 1})


@case
def tree_map_node_type(jax, jnp, lax):
  jax.tree.map(lambda a, b: a + b, (1, 2), [1, 2])


@case
def switch_float_index(jax, jnp, lax):
  lax.switch(1.5, [lambda: 1., lambda: 2.])


@case
def scan_xs_lengths(jax, jnp, lax):
  lax.scan(lambda c, x: (c, x), 0., (jnp.ones(3), jnp.ones(4)))


@case
def scan_no_length(jax, jnp, lax):
  lax.scan(lambda c, x: (c, x), 0., None)


@case
def vmap_out_axes_unbatched(jax, jnp, lax):
  jax.vmap(lambda x: 1., out_axes=1)(jnp.ones(3))


@case
def matmul_scalar(jax, jnp, lax):
  jnp.matmul(1., jnp.ones(3))


@case
def int_out_of_bounds(jax, jnp, lax):
  jnp.array(2**40, jnp.int32)


@case
def device_put_string(jax, jnp, lax):
  jax.device_put(1., "cpu")


@case
def asarray_string(jax, jnp, lax):
  jnp.asarray("abc")


@case
def lax_dot_mismatch(jax, jnp, lax):
  lax.dot(jnp.ones((2, 3)), jnp.ones((2, 3)))


@case
def value_and_grad_int(jax, jnp, lax):
  jax.value_and_grad(lambda x: x)(1)


@case
def hessian_int(jax, jnp, lax):
  jax.hessian(lambda x: x)(1)


@case
def make_jaxpr_int_of_tracer(jax, jnp, lax):
  jax.make_jaxpr(lambda x: int(x))(1.)  # (JAX's make_jaxpr traces as jit: "for jit")


@case
def make_jaxpr_str_argument(jax, jnp, lax):
  jax.make_jaxpr(lambda x: x)("a")


@case
def vstack_of_tuples(jax, jnp, lax):  # (the autodiff cookbook's loop_mjp)
  jnp.vstack([(jnp.ones(2),), (jnp.ones(2),)])


@case
def hstack_of_lists(jax, jnp, lax):
  jnp.hstack([[1., 2.], jnp.ones(2)])


_MORE_WHOLE = {
    "static_ndarray", "static_argnames_unknown", "static_argnums_out_of_range",
    "grad_fori_dynamic", "grad_while", "tree_map_list_arity", "tree_map_dict_keys",
    "tree_map_node_type", "switch_float_index", "scan_xs_lengths", "scan_no_length",
    "vmap_out_axes_unbatched", "matmul_scalar", "int_out_of_bounds", "device_put_string",
    "asarray_string", "lax_dot_mismatch", "value_and_grad_int", "hessian_int",
    "make_jaxpr_int_of_tracer", "make_jaxpr_str_argument", "vstack_of_tuples",
    "hstack_of_lists",
}


# Cases whose whole message (not only the first line) is JAX's.
_WHOLE = {
    "ones_traced", "zeros_traced_tuple", "full_traced", "empty_traced", "reshape_traced",
    "reshape_method_traced", "lax_reshape_traced", "broadcast_to_traced", "iota_traced",
    "lax_full_traced", "eye_traced", "random_shape_traced", "dynamic_slice_size_traced",
    "shape_from_sum", "shape_float", "arange_traced", "arange_traced_stop",
    "linspace_traced", "repeat_traced", "split_traced", "pad_traced", "sum_axis_traced",
    "expand_dims_traced", "transpose_traced_axes", "slice_traced", "if_on_tracer",
    "while_on_tracer", "if_on_two_args", "bool_of_tracer", "int_of_tracer",
    "float_of_tracer", "range_of_tracer", "list_index_tracer", "np_asarray_tracer",
    "tolist_tracer", "item_tracer", "nonzero_traced", "where_one_arg_traced",
    "argwhere_traced", "unique_traced", "bool_index_traced", "inplace_update",
    "inplace_update_traced", "list_input", "jit_str_argument", "jit_static_unhashable",
    "reshape_bad_size", "add_shape_mismatch", "dot_shape_mismatch", "lax_add_dtypes",
    "grad_int_input", "grad_vector_output", "grad_complex_output", "jvp_tangent_dtype",
    "jvp_tangent_tree", "vmap_size_mismatch", "vmap_axis_out_of_range", "vmap_scalar",
    "vmap_in_axes_tree", "scan_carry_tree", "cond_branch_tree", "cond_branch_dtype",
    "jvp_int_tangent", "jacrev_int_input", "jacfwd_int_input", "jacfwd_complex_input",
    "float0_numpy_add", "float0_jnp_add", "float_index", "float_of_vector",
    "random_int_key", "zeros_like_shape_traced", "astype_unknown", "cond_vector_predicate",
    "while_body_tree", "grad_of_if", "fori_loop_tree",
}


def _normalize(msg: str) -> str:
  msg = re.sub(r"0x[0-9a-fA-F]+", "0x", msg)
  msg = re.sub(r"\bpyjax\b", "jax", msg)
  return re.sub(r"JitTracer\(([^()]*)\)", r"JitTracer<\1>", msg)


def _outcome(fn, jax_mod, jnp, lax):
  try:
    fn(jax_mod, jnp, lax)
  except Exception as e:  # noqa: BLE001 (the class is what is compared)
    return type(e), _normalize(str(e))
  return None, ""


@pytest.fixture(scope="module")
def outcomes():
  """Every case's (class, message) on pyjax and on JAX, each run once."""
  ours = {k: _outcome(f, pyjax, pjnp, plax) for k, f in CASES.items()}
  theirs = {k: _outcome(f, jax, jjnp, jlax) for k, f in CASES.items()}
  return ours, theirs


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_matches_jax(outcomes, name):
  (ours, ours_msg), (theirs, theirs_msg) = outcomes[0][name], outcomes[1][name]
  assert theirs is not None, f"{name}: JAX raised nothing (not an error case)"
  assert ours is not None, f"{name}: pyjax raised nothing; JAX raised {theirs.__name__}"
  assert ours.__name__ == theirs.__name__, (ours_msg, theirs_msg)
  # the builtin classes it is caught as agree too
  for base in (TypeError, ValueError, IndexError):
    assert issubclass(ours, base) == issubclass(theirs, base), (name, base)
  assert ours_msg.splitlines()[:1] == theirs_msg.splitlines()[:1]
  if name in _WHOLE or name in _MORE_WHOLE:
    assert ours_msg == theirs_msg


def test_shape_error_names_the_argument():
  """The traced-shape TypeError says which argument the dimension came from."""
  with pytest.raises(TypeError) as e:
    pyjax.jit(lambda x, n: pjnp.ones((2, n)))(1., 3)
  msg = str(e.value)
  assert msg.startswith("Shapes must be 1D sequences of concrete values of integer type, "
                        "got (2, JitTracer<~int32[]>).")
  assert "depends on the value of the argument n." in msg
  assert not isinstance(e.value, pyjax.errors.ConcretizationTypeError)

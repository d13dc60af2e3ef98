"""``jax.scipy.interpolate.RegularGridInterpolator``: linear and nearest interpolation on
a rectilinear grid (after SciPy's, as JAX's), registered as a pytree (children: grid,
values, fill_value; aux: method, bounds_error).

What it cannot do (as JAX): ``bounds_error=True`` (NotImplementedError: it cannot take
effect under jit), methods other than 'linear' and 'nearest'; the grid is not checked.
"""
from __future__ import annotations

from itertools import product

import numpy as np

from pyjax._src.numpy import array_creation, sorting
from pyjax._src.numpy.lax_numpy import asarray, broadcast_arrays, where
from pyjax._src.numpy.util import check_arraylike, promote_dtypes_inexact
from pyjax._src.tree_util import register_pytree_node

__all__ = ["RegularGridInterpolator"]


def _ndim_coords_from_arrays(points, ndim=None):
  if isinstance(points, tuple) and len(points) == 1:
    points = points[0]   # an argument tuple
  if isinstance(points, tuple):
    p = broadcast_arrays(*points)
    for p_other in p[1:]:
      if p_other.shape != p[0].shape:
        raise ValueError("coordinate arrays do not have the same shape")
    points = array_creation.empty(p[0].shape + (len(points),), dtype=float)
    for j, item in enumerate(p):
      points = points.at[..., j].set(item)
  else:
    check_arraylike("_ndim_coords_from_arrays", points)
    points = asarray(points)
    if points.ndim == 1:
      points = points.reshape(-1, 1) if ndim is None else points.reshape(-1, ndim)
  return points


class RegularGridInterpolator:
  """Interpolation on a regular grid in arbitrary dimensions (SciPy's API)."""

  def __init__(self, points, values, method="linear", bounds_error=False,
               fill_value=np.nan):
    if method not in ("linear", "nearest"):
      raise ValueError(f"method {method!r} is not defined")
    self.method = method
    self.bounds_error = bounds_error
    if self.bounds_error:
      raise NotImplementedError("`bounds_error` takes no effect under JIT")
    check_arraylike("RegularGridInterpolator", values)
    if len(points) > values.ndim:
      raise ValueError(f"there are {len(points)} point arrays, but values has "
                       f"{values.ndim} dimensions")
    values, = promote_dtypes_inexact(values)
    if fill_value is not None:
      check_arraylike("RegularGridInterpolator", fill_value)
      fill_value = asarray(fill_value)
      if not np.can_cast(fill_value.dtype, values.dtype, casting='same_kind'):
        raise ValueError("fill_value must be either 'None' or of a type compatible with "
                         "values")
    self.fill_value = fill_value
    check_arraylike("RegularGridInterpolator", *points)
    self.grid = tuple(asarray(p) for p in points)
    self.values = values

  def __call__(self, xi, method=None):
    method = self.method if method is None else method
    if method not in ("linear", "nearest"):
      raise ValueError(f"method {method!r} is not defined")
    ndim = len(self.grid)
    xi = _ndim_coords_from_arrays(xi, ndim=ndim)
    if xi.shape[-1] != len(self.grid):
      raise ValueError("the requested sample points xi have dimension"
                       f" {xi.shape[1]}, but this RegularGridInterpolator has"
                       f" dimension {ndim}")
    xi_shape = xi.shape
    xi = xi.reshape(-1, xi_shape[-1])
    indices, norm_distances, out_of_bounds = self._find_indices(xi.T)
    if method == "linear":
      result = self._evaluate_linear(indices, norm_distances)
    else:
      result = self._evaluate_nearest(indices, norm_distances)
    if not self.bounds_error and self.fill_value is not None:
      bc_shp = result.shape[:1] + (1,) * (result.ndim - 1)
      result = where(out_of_bounds.reshape(bc_shp), self.fill_value, result)
    return result.reshape(xi_shape[:-1] + self.values.shape[ndim:])

  def _evaluate_linear(self, indices, norm_distances):
    vslice = (slice(None),) + (None,) * (self.values.ndim - len(indices))
    values = asarray(0.)
    # each i and i + 1 is an edge
    for edge_indices in product(*[[i, i + 1] for i in indices]):
      weight = asarray(1.)
      for ei, i, yi in zip(edge_indices, indices, norm_distances):
        weight *= where(ei == i, 1 - yi, yi)
      values += self.values[edge_indices] * weight[vslice]
    return values

  def _evaluate_nearest(self, indices, norm_distances):
    idx_res = [where(yi <= .5, i, i + 1) for i, yi in zip(indices, norm_distances)]
    return self.values[tuple(idx_res)]

  def _find_indices(self, xi):
    indices = []
    norm_distances = []   # distance to the lower edge, in cell units
    out_of_bounds = array_creation.zeros((xi.shape[1],), dtype=bool)
    for x, g in zip(xi, self.grid):
      i = sorting.searchsorted(g, x) - 1
      i = where(i < 0, 0, i)
      i = where(i > g.size - 2, g.size - 2, i)
      indices.append(i)
      norm_distances.append((x - g[i]) / (g[i + 1] - g[i]))
      if not self.bounds_error:
        out_of_bounds += x < g[0]
        out_of_bounds += x > g[-1]
    return indices, norm_distances, out_of_bounds


register_pytree_node(
    RegularGridInterpolator,
    lambda obj: ((obj.grid, obj.values, obj.fill_value), (obj.method, obj.bounds_error)),
    lambda aux, children: RegularGridInterpolator(*children[:2], *aux, *children[2:]),
)

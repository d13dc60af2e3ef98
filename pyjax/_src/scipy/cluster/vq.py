"""``jax.scipy.cluster.vq.vq``: each observation's nearest code (Euclidean), as JAX's
(``check_finite`` is ignored)."""
from __future__ import annotations

import operator

from pyjax._src.interpreters import batching
from pyjax._src.numpy import linalg, reductions
from pyjax._src.numpy.util import check_arraylike, promote_dtypes_inexact

__all__ = ["vq"]


def vq(obs, code_book, check_finite: bool = True):
  """(code, distance): the index of each row of ``obs``'s nearest row of ``code_book``
  and the distance to it. 1-D inputs are single features."""
  del check_finite
  check_arraylike("scipy.cluster.vq.vq", obs, code_book)
  obs_arr, cb_arr = promote_dtypes_inexact(obs, code_book)
  if obs_arr.ndim != cb_arr.ndim:
    raise ValueError("Observation and code_book should have the same rank")
  if obs_arr.ndim == 1:
    obs_arr, cb_arr = obs_arr[..., None], cb_arr[..., None]
  if obs_arr.ndim != 2:
    raise ValueError("ndim different than 1 or 2 are not supported")
  dist = batching.vmap(lambda ob: linalg.norm(ob[None] - cb_arr, axis=-1))(obs_arr)
  code = reductions.argmin(dist, axis=-1)
  dist_min = batching.vmap(operator.getitem)(dist, code)
  return code, dist_min

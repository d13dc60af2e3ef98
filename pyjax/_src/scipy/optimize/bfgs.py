"""BFGS (Nocedal & Wright Alg. 6.1) as JAX writes it: one ``while_loop`` of steps, each a
strong-Wolfe line search and the inverse-Hessian update, the same ops in the same order."""
from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple

import numpy as np

from pyjax._src.lax.dot import Precision
from pyjax._src.lax.control_flow import while_loop
from pyjax._src.numpy import array_creation, tensor_contractions, ufuncs
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import linalg as jnp_linalg
from pyjax._src.numpy.einsum import einsum
from pyjax._src.numpy.util import array
from pyjax._src.scipy.optimize.line_search import line_search, value_and_grad

__all__ = ["minimize_bfgs"]

_dot = partial(tensor_contractions.dot, precision=Precision.HIGHEST)
_einsum = partial(einsum, precision=Precision.HIGHEST)


class _BFGSResults(NamedTuple):
  """The loop state: ``converged`` (gradient norm below gtol), ``failed`` (line search
  failed), ``k`` steps, ``nfev``/``ngev``/``nhev`` evaluations, the iterate ``x_k`` with
  ``f_k``, ``g_k`` and inverse Hessian ``H_k``, ``status`` and the last line search's."""
  converged: object
  failed: object
  k: object
  nfev: object
  ngev: object
  nhev: object
  x_k: object
  f_k: object
  g_k: object
  H_k: object
  old_old_fval: object
  status: object
  line_search_status: object


def minimize_bfgs(fun: Callable, x0, maxiter: int | None = None, norm=np.inf,
                  gtol: float = 1e-5, line_search_maxiter: int = 10) -> _BFGSResults:
  """Minimizes ``fun`` (1-D array -> real scalar) from ``x0`` with BFGS."""
  if maxiter is None:
    maxiter = np.size(x0) * 200
  d = x0.shape[0]
  initial_H = array_creation.eye(d, dtype=x0.dtype)
  f_0, g_0 = value_and_grad(fun, x0)
  state = _BFGSResults(
      converged=jnp_linalg.norm(g_0, ord=norm) < gtol, failed=array(0, np.int32), k=0,
      nfev=1, ngev=1,
      nhev=0, x_k=x0, f_k=f_0, g_k=g_0, H_k=initial_H,
      old_old_fval=f_0 + jnp_linalg.norm(g_0) / 2, status=0, line_search_status=0)

  def cond_fun(state):
    return (ufuncs.logical_not(state.converged) & (state.failed == 0)
            & (state.k < maxiter))

  def body_fun(state):
    p_k = -_dot(state.H_k, state.g_k)
    ls = line_search(fun, state.x_k, p_k, old_fval=state.f_k,
                     old_old_fval=state.old_old_fval, gfk=state.g_k,
                     maxiter=line_search_maxiter)
    state = state._replace(nfev=state.nfev + ls.nfev, ngev=state.ngev + ls.ngev,
                           failed=ls.failed.astype(np.int32),
                           line_search_status=ls.status)
    s_k = ls.a_k * p_k
    x_kp1 = state.x_k + s_k
    f_kp1 = ls.f_k
    g_kp1 = ls.g_k
    y_k = g_kp1 - state.g_k
    rho_k = ufuncs.reciprocal(_dot(y_k, s_k))
    sy_k = s_k[:, np.newaxis] * y_k[np.newaxis, :]
    w = array_creation.eye(d, dtype=rho_k.dtype) - rho_k * sy_k
    H_kp1 = (_einsum("ij,jk,lk", w, state.H_k, w)
             + rho_k * s_k[:, np.newaxis] * s_k[np.newaxis, :])
    H_kp1 = jnp.where(ufuncs.isfinite(rho_k), H_kp1, state.H_k)
    converged = jnp_linalg.norm(g_kp1, ord=norm) < gtol
    return state._replace(converged=converged, k=state.k + 1, x_k=x_kp1, f_k=f_kp1,
                          g_k=g_kp1, H_k=H_kp1, old_old_fval=state.f_k)

  state = while_loop(cond_fun, body_fun, state)
  state = state._replace(failed=state.failed != 0)
  status = jnp.where(
      state.converged, 0,  # converged
      jnp.where(state.k == maxiter, 1,  # max iterations
                jnp.where(state.failed, 2 + state.line_search_status,  # line search
                          -1)))  # undefined
  return state._replace(status=status)

"""L-BFGS (Nocedal & Wright Alg. 7.5, complex variables after Sorber et al. 2012) as JAX
writes it: the two-loop recursion over a rolled history of ``maxcor`` pairs."""
from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple

import numpy as np

from pyjax._src import dtypes
from pyjax._src.lax.dot import Precision
from pyjax._src.lax.control_flow import fori_loop, while_loop
from pyjax._src.numpy import array_creation, array_manipulation, tensor_contractions
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import linalg as jnp_linalg
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.util import array
from pyjax._src.scipy.optimize.line_search import line_search, value_and_grad

__all__ = ["LBFGSResults", "minimize_lbfgs"]

_dot = partial(tensor_contractions.dot, precision=Precision.HIGHEST)


class LBFGSResults(NamedTuple):
  """The loop state. ``status``: 0 nominal, 1 max iterations, 2 max function
  evaluations, 3 max gradient evaluations, 4 insufficient progress (ftol), 5 line search
  failed; ``ls_status`` is the last line search's."""
  converged: object
  failed: object
  k: object
  nfev: object
  ngev: object
  x_k: object
  f_k: object
  g_k: object
  s_history: object
  y_history: object
  rho_history: object
  gamma: object
  status: object
  ls_status: object


def minimize_lbfgs(fun: Callable, x0, maxiter: float | None = None, norm=np.inf,
                   maxcor: int = 10, ftol: float = 2.220446049250313e-09,
                   gtol: float = 1e-05, maxfun: float | None = None,
                   maxgrad: float | None = None, maxls: int = 20):
  """Minimizes ``fun`` (1-D array -> real scalar) from ``x0`` with L-BFGS."""
  d = len(x0)
  dtype = dtypes.dtype(x0)
  # At least one termination condition; the others never trigger.
  if maxiter is None and maxfun is None and maxgrad is None:
    maxiter = d * 200
  if maxiter is None:
    maxiter = np.inf
  if maxfun is None:
    maxfun = np.inf
  if maxgrad is None:
    maxgrad = np.inf

  f_0, g_0 = value_and_grad(fun, x0)
  state_initial = LBFGSResults(
      converged=array(False, dtype=bool), failed=array(False, dtype=bool), k=0, nfev=1,
      ngev=1, x_k=x0, f_k=f_0, g_k=g_0,
      s_history=array_creation.zeros((maxcor, d), dtype=dtype),
      y_history=array_creation.zeros((maxcor, d), dtype=dtype),
      rho_history=array_creation.zeros((maxcor,), dtype=dtype), gamma=1., status=0,
      ls_status=0)

  def cond_fun(state):
    return (~state.converged) & (~state.failed)

  def body_fun(state):
    p_k = _two_loop_recursion(state)
    ls = line_search(f=fun, xk=state.x_k, pk=p_k, old_fval=state.f_k, gfk=state.g_k,
                     maxiter=maxls)
    s_k = jnp.asarray(ls.a_k).astype(p_k.dtype) * p_k
    x_kp1 = state.x_k + s_k
    f_kp1 = ls.f_k
    g_kp1 = ls.g_k
    y_k = g_kp1 - state.g_k
    rho_k_inv = ufuncs.real(_dot(y_k, s_k))
    rho_k = ufuncs.reciprocal(rho_k_inv).astype(y_k.dtype)
    gamma = rho_k_inv / ufuncs.real(_dot(ufuncs.conj(y_k), y_k))

    status = array(0)
    status = jnp.where(state.f_k - f_kp1 < ftol, 4, status)
    status = jnp.where(state.ngev >= maxgrad, 3, status)
    status = jnp.where(state.nfev >= maxfun, 2, status)
    status = jnp.where(state.k >= maxiter, 1, status)
    status = jnp.where(ls.failed, 5, status)
    converged = jnp_linalg.norm(g_kp1, ord=norm) < gtol
    return state._replace(
        converged=converged, failed=(status > 0) & (~converged), k=state.k + 1,
        nfev=state.nfev + ls.nfev, ngev=state.ngev + ls.ngev,
        x_k=x_kp1.astype(state.x_k.dtype), f_k=f_kp1.astype(state.f_k.dtype),
        g_k=g_kp1.astype(state.g_k.dtype),
        s_history=_update_history_vectors(state.s_history, s_k),
        y_history=_update_history_vectors(state.y_history, y_k),
        rho_history=_update_history_scalars(state.rho_history, rho_k),
        gamma=gamma.astype(state.g_k.dtype), status=jnp.where(converged, 0, status),
        ls_status=ls.status)

  return while_loop(cond_fun, body_fun, state_initial)


def _two_loop_recursion(state: LBFGSResults):
  dtype = state.rho_history.dtype
  his_size = len(state.rho_history)
  curr_size = jnp.where(state.k < his_size, state.k, his_size)
  q = -ufuncs.conj(state.g_k)
  a_his = array_creation.zeros_like(state.rho_history)

  def body_fun1(j, carry):
    i = his_size - 1 - j
    _q, _a_his = carry
    a_i = state.rho_history[i] * _dot(ufuncs.conj(state.s_history[i]),
                                      _q).real.astype(dtype)
    _a_his = _a_his.at[i].set(a_i)
    _q = _q - a_i * ufuncs.conj(state.y_history[i])
    return _q, _a_his

  q, a_his = fori_loop(0, curr_size, body_fun1, (q, a_his))
  q = state.gamma * q

  def body_fun2(j, _q):
    i = his_size - curr_size + j
    b_i = state.rho_history[i] * _dot(state.y_history[i], _q).real.astype(dtype)
    return _q + (a_his[i] - b_i) * state.s_history[i]

  return fori_loop(0, curr_size, body_fun2, q)


def _update_history_vectors(history, new):
  return array_manipulation.roll(history, -1, axis=0).at[-1, :].set(new)


def _update_history_scalars(history, new):
  return array_manipulation.roll(history, -1, axis=0).at[-1].set(new)

"""``jax.scipy.optimize.minimize``: SciPy's entry point for JAX's BFGS and L-BFGS.

As JAX's: gradients come from autodiff; ``x0`` must be 1-D; the result cannot be
differentiated; ``tol`` is accepted and ignored (use ``options={'gtol': ...}``)."""
from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

from pyjax._src.numpy import ufuncs
from pyjax._src.scipy.optimize.bfgs import minimize_bfgs
from pyjax._src.scipy.optimize.lbfgs import minimize_lbfgs

__all__ = ["OptimizeResults", "minimize"]


class OptimizeResults(NamedTuple):
  """Optimization results.

  ``x`` solution; ``success``; ``status``: 0 converged, 1 max BFGS iterations, 3 zoom
  failed, 4 saddle point, 5 max line search iterations, -1 undefined; ``fun``, ``jac``
  and ``hess_inv`` (None for L-BFGS) at ``x``; ``nfev``, ``njev``, ``nit``.
  """
  x: Any
  success: Any
  status: Any
  fun: Any
  jac: Any
  hess_inv: Any
  nfev: Any
  njev: Any
  nit: Any


def minimize(fun: Callable, x0, args: tuple = (), *, method: str, tol: float | None = None,
             options: Mapping[str, Any] | None = None) -> OptimizeResults:
  """Minimizes ``fun(x, *args)`` over 1-D ``x`` from ``x0``.

  ``method``: ``"BFGS"`` or ``"l-bfgs-experimental-do-not-rely-on-this"``; ``options``
  holds the solver's keywords (``maxiter``, ``gtol``, ``norm``, ``line_search_maxiter``
  for BFGS; ``maxcor``, ``ftol``, ``maxfun``, ``maxgrad``, ``maxls`` for L-BFGS).
  """
  if options is None:
    options = {}
  if not isinstance(args, tuple):
    raise TypeError(f"args argument to jax.scipy.optimize.minimize must be a tuple, got "
                    f"{args}")

  def fun_with_args(x):
    return fun(x, *args)

  if method.lower() == "bfgs":
    r = minimize_bfgs(fun_with_args, x0, **options)
    return OptimizeResults(
        x=r.x_k, success=r.converged & ufuncs.logical_not(r.failed), status=r.status,
        fun=r.f_k, jac=r.g_k, hess_inv=r.H_k, nfev=r.nfev, njev=r.ngev, nit=r.k)
  if method.lower() == "l-bfgs-experimental-do-not-rely-on-this":
    r = minimize_lbfgs(fun_with_args, x0, **options)
    return OptimizeResults(
        x=r.x_k, success=r.converged & ufuncs.logical_not(r.failed), status=r.status,
        fun=r.f_k, jac=r.g_k, hess_inv=None, nfev=r.nfev, njev=r.ngev, nit=r.k)
  raise ValueError(f"Method {method} not recognized")

"""JAX's inexact line search (strong Wolfe conditions, Nocedal & Wright Alg. 3.5/3.6).

The same sequence of operations as JAX's ``line_search.py``, so that iterates, ``nfev``
and ``nit`` match JAX's. Both zoom loops run (the one not taken passes straight
through), as in JAX; nothing is branched with ``cond``.
"""
from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple

import numpy as np

from pyjax._src import core, dtypes
from pyjax._src.interpreters import ad
from pyjax._src.lax import lax
from pyjax._src.lax.dot import Precision
from pyjax._src.lax.control_flow import while_loop
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import tensor_contractions, ufuncs
from pyjax._src.numpy.util import array, promote_dtypes_inexact

__all__ = ["line_search", "value_and_grad"]

_dot = partial(tensor_contractions.dot, precision=Precision.HIGHEST)


def value_and_grad(f: Callable, x):
  """``jax.value_and_grad(f)(x)`` for one array ``x`` (the api layer is above us)."""
  x = ad._as_array(x)
  aval = core.get_aval(x)
  if not (dtypes.issubdtype(aval.dtype, np.inexact) or aval.dtype == dtypes.bfloat16):
    raise TypeError(
        f"grad requires real- or complex-valued inputs (input dtype that is a sub-dtype "
        f"of np.inexact), but got {aval.dtype.name}. If you want to use Boolean- or "
        f"integer-valued inputs, use vjp or set allow_int to True.")
  out, jaxpr, consts, nonzero = ad.linearize_flat(lambda v: [f(v)], [x])
  ans = out[0]
  ans_aval = core.get_aval(ans)
  if ans_aval.shape:
    raise TypeError(f"Gradient only defined for scalar-output functions. Output had "
                    f"shape: {ans_aval.shape}.")
  if not (dtypes.issubdtype(ans_aval.dtype, np.floating)
          or ans_aval.dtype == dtypes.bfloat16):
    raise TypeError(
        f"grad requires real-valued outputs (output dtype that is a sub-dtype of "
        f"np.floating), but got {ans_aval.dtype.name}. For differentiation of functions "
        f"with integer outputs, use jax.vjp directly.")
  g = None
  if nonzero[0]:
    g = ad.linear_transpose_flat(jaxpr, consts, [lax.full((), 1, ans_aval.dtype)])[0]
  if g is None:
    g = ad.zeros_like_aval(ad.tangent_aval(aval))
  return ans, g


def _cubicmin(a, fa, fpa, b, fb, c, fc):
  dtype = jnp.result_type(a, fa, fpa, b, fb, c, fc)
  C = fpa
  db = b - a
  dc = c - a
  denom = (db * dc) ** 2 * (db - dc)
  d1 = array([[dc ** 2, -db ** 2], [-dc ** 3, db ** 3]], dtype=dtype)
  d2 = array([fb - fa - C * db, fc - fa - C * dc], dtype=dtype)
  A, B = _dot(d1, d2) / denom
  radical = B * B - 3. * A * C
  return a + (-B + ufuncs.sqrt(radical)) / (3. * A)


def _quadmin(a, fa, fpa, b, fb):
  D = fa
  C = fpa
  db = b - a
  B = (fb - D - C * db) / (db ** 2)
  return a - C / (2. * B)


def _binary_replace(replace_bit, original, new, keys=None):
  if keys is None:
    keys = new.keys()
  return {key: jnp.where(replace_bit, new[key], original[key]) for key in keys}


class _ZoomState(NamedTuple):
  done: object
  failed: object
  j: object
  a_lo: object
  phi_lo: object
  dphi_lo: object
  a_hi: object
  phi_hi: object
  dphi_hi: object
  a_rec: object
  phi_rec: object
  a_star: object
  phi_star: object
  dphi_star: object
  g_star: object
  nfev: object
  ngev: object


def _zoom(restricted_func_and_grad, wolfe_one, wolfe_two, a_lo, phi_lo, dphi_lo, a_hi,
          phi_hi, dphi_hi, g_0, pass_through):
  """Zoom (Alg. 3.6): cubic, then quadratic, then bisection steps into [a_lo, a_hi]."""
  state = _ZoomState(
      done=False, failed=False, j=0, a_lo=a_lo, phi_lo=phi_lo, dphi_lo=dphi_lo,
      a_hi=a_hi, phi_hi=phi_hi, dphi_hi=dphi_hi, a_rec=(a_lo + a_hi) / 2.,
      phi_rec=(phi_lo + phi_hi) / 2., a_star=1., phi_star=phi_lo, dphi_star=dphi_lo,
      g_star=g_0, nfev=0, ngev=0)
  delta1 = 0.2
  delta2 = 0.1

  def body(state):
    dalpha = state.a_hi - state.a_lo
    a = ufuncs.minimum(state.a_hi, state.a_lo)
    b = ufuncs.maximum(state.a_hi, state.a_lo)
    cchk = delta1 * dalpha
    qchk = delta2 * dalpha
    # A bracket this small stops the search: the Wolfe conditions are not met.
    threshold = jnp.where(dtypes.finfo(dalpha.dtype).bits < 64, 1e-5, 1e-10)
    state = state._replace(failed=state.failed | (dalpha <= threshold))

    # The cubic minimizer may be nan; the bounds checks then reject it.
    a_j_cubic = _cubicmin(state.a_lo, state.phi_lo, state.dphi_lo, state.a_hi,
                          state.phi_hi, state.a_rec, state.phi_rec)
    use_cubic = (state.j > 0) & (a_j_cubic > a + cchk) & (a_j_cubic < b - cchk)
    a_j_quad = _quadmin(state.a_lo, state.phi_lo, state.dphi_lo, state.a_hi,
                        state.phi_hi)
    use_quad = (~use_cubic) & (a_j_quad > a + qchk) & (a_j_quad < b - qchk)
    a_j_bisection = (state.a_lo + state.a_hi) / 2.
    use_bisection = (~use_cubic) & (~use_quad)

    a_j = jnp.where(use_cubic, a_j_cubic, state.a_rec)
    a_j = jnp.where(use_quad, a_j_quad, a_j)
    a_j = jnp.where(use_bisection, a_j_bisection, a_j)

    phi_j, dphi_j, g_j = restricted_func_and_grad(a_j)
    phi_j = phi_j.astype(state.phi_lo.dtype)
    dphi_j = dphi_j.astype(state.dphi_lo.dtype)
    g_j = g_j.astype(state.g_star.dtype)
    state = state._replace(nfev=state.nfev + 1, ngev=state.ngev + 1)

    hi_to_j = wolfe_one(a_j, phi_j) | (phi_j >= state.phi_lo)
    star_to_j = wolfe_two(dphi_j) & (~hi_to_j)
    hi_to_lo = (dphi_j * (state.a_hi - state.a_lo) >= 0.) & (~hi_to_j) & (~star_to_j)
    lo_to_j = (~hi_to_j) & (~star_to_j)

    state = state._replace(**_binary_replace(
        hi_to_j, state._asdict(),
        dict(a_hi=a_j, phi_hi=phi_j, dphi_hi=dphi_j, a_rec=state.a_hi,
             phi_rec=state.phi_hi)))
    state = state._replace(done=star_to_j | state.done, **_binary_replace(
        star_to_j, state._asdict(),
        dict(a_star=a_j, phi_star=phi_j, dphi_star=dphi_j, g_star=g_j)))
    state = state._replace(**_binary_replace(
        hi_to_lo, state._asdict(),
        dict(a_hi=state.a_lo, phi_hi=state.phi_lo, dphi_hi=state.dphi_lo,
             a_rec=state.a_hi, phi_rec=state.phi_hi)))
    state = state._replace(**_binary_replace(
        lo_to_j & ~hi_to_lo, state._asdict(),
        dict(a_rec=state.a_lo, phi_rec=state.phi_lo)))
    state = state._replace(**_binary_replace(
        lo_to_j, state._asdict(), dict(a_lo=a_j, phi_lo=phi_j, dphi_lo=dphi_j)))
    state = state._replace(j=state.j + 1)
    # JAX allows more zoom steps than SciPy (10).
    return state._replace(failed=state.failed | (state.j >= 30))

  return while_loop(lambda s: (~s.done) & (~pass_through) & (~s.failed), body, state)


class _LineSearchState(NamedTuple):
  done: object
  failed: object
  i: object
  a_i1: object
  phi_i1: object
  dphi_i1: object
  nfev: object
  ngev: object
  a_star: object
  phi_star: object
  dphi_star: object
  g_star: object


class _LineSearchResults(NamedTuple):
  """Results of the line search: ``failed`` (the strong Wolfe conditions were not met),
  ``nit``, ``nfev``, ``ngev``, ``k`` (iterations + 1), ``a_k`` (the step), ``f_k`` and
  ``g_k`` (value and gradient there), ``status`` (0 passed, 1 zoom failed, 3 maxiter)."""
  failed: object
  nit: object
  nfev: object
  ngev: object
  k: object
  a_k: object
  f_k: object
  g_k: object
  status: object


def line_search(f, xk, pk, old_fval=None, old_old_fval=None, gfk=None, c1=1e-4, c2=0.9,
                maxiter=20):
  """Inexact line search along the descent direction ``pk`` satisfying the strong Wolfe
  conditions. ``old_old_fval`` only picks the first trial step, as in JAX."""
  xk, pk = promote_dtypes_inexact(xk, pk)

  def restricted_func_and_grad(t):
    t = array(t, dtype=pk.dtype)
    phi, g = value_and_grad(f, xk + t * pk)
    dphi = ufuncs.real(_dot(g, pk))
    return phi, dphi, g

  if old_fval is None or gfk is None:
    phi_0, dphi_0, gfk = restricted_func_and_grad(0)
  else:
    phi_0 = old_fval
    dphi_0 = ufuncs.real(_dot(gfk, pk))
  if old_old_fval is not None:
    candidate_start_value = 1.01 * 2 * (phi_0 - old_old_fval) / dphi_0
    start_value = jnp.where(candidate_start_value > 1, 1.0, candidate_start_value)
  else:
    start_value = 1

  def wolfe_one(a_i, phi_i):
    # The negation of the sufficient-decrease condition.
    return phi_i > phi_0 + c1 * a_i * dphi_0

  def wolfe_two(dphi_i):
    return ufuncs.abs(dphi_i) <= -c2 * dphi_0

  fresh = old_fval is None or gfk is None
  state = _LineSearchState(
      done=array(False, dtype=bool), failed=array(False, dtype=bool),
      # Wright and Nocedal start at 1 (SciPy at 0: scipy/scipy#12157).
      i=1, a_i1=0., phi_i1=phi_0, dphi_i1=dphi_0, nfev=1 if fresh else 0,
      ngev=1 if fresh else 0, a_star=0., phi_star=phi_0, dphi_star=dphi_0, g_star=gfk)

  def body(state):
    # No amax: the step doubles, as in SciPy. The next step is chosen first.
    a_i = jnp.where(state.i == 1, start_value, state.a_i1 * 2.)
    phi_i, dphi_i, g_i = restricted_func_and_grad(a_i)
    state = state._replace(nfev=state.nfev + 1, ngev=state.ngev + 1)

    star_to_zoom1 = wolfe_one(a_i, phi_i) | ((phi_i >= state.phi_i1) & (state.i > 1))
    star_to_i = wolfe_two(dphi_i) & (~star_to_zoom1)
    star_to_zoom2 = (dphi_i >= 0.) & (~star_to_zoom1) & (~star_to_i)

    zoom1 = _zoom(restricted_func_and_grad, wolfe_one, wolfe_two, state.a_i1,
                  state.phi_i1, state.dphi_i1, a_i, phi_i, dphi_i, gfk, ~star_to_zoom1)
    state = state._replace(nfev=state.nfev + zoom1.nfev, ngev=state.ngev + zoom1.ngev)
    zoom2 = _zoom(restricted_func_and_grad, wolfe_one, wolfe_two, a_i, phi_i, dphi_i,
                  state.a_i1, state.phi_i1, state.dphi_i1, gfk, ~star_to_zoom2)
    state = state._replace(nfev=state.nfev + zoom2.nfev, ngev=state.ngev + zoom2.ngev)

    keys = ["a_star", "phi_star", "dphi_star", "g_star"]
    state = state._replace(
        done=star_to_zoom1 | state.done,
        failed=(star_to_zoom1 & zoom1.failed) | state.failed,
        **_binary_replace(star_to_zoom1, state._asdict(), zoom1._asdict(), keys=keys))
    state = state._replace(
        done=star_to_i | state.done,
        **_binary_replace(star_to_i, state._asdict(),
                          dict(a_star=a_i, phi_star=phi_i, dphi_star=dphi_i, g_star=g_i)))
    state = state._replace(
        done=star_to_zoom2 | state.done,
        failed=(star_to_zoom2 & zoom2.failed) | state.failed,
        **_binary_replace(star_to_zoom2, state._asdict(), zoom2._asdict(), keys=keys))
    return state._replace(i=state.i + 1, a_i1=a_i, phi_i1=phi_i, dphi_i1=dphi_i)

  state = while_loop(lambda s: (~s.done) & (s.i <= maxiter) & (~s.failed), body, state)

  status = jnp.where(state.failed, array(1), jnp.where(state.i > maxiter, array(3),
                                                        array(0)))
  # Below 64 bits a too-small step freezes the optimizer: floor it at 1e-8.
  alpha_k = jnp.asarray(state.a_star)
  alpha_k = jnp.where((dtypes.finfo(alpha_k.dtype).bits != 64)
                      & (ufuncs.abs(alpha_k) < 1e-8),
                      ufuncs.sign(alpha_k) * 1e-8, alpha_k)
  return _LineSearchResults(
      failed=state.failed | (~state.done), nit=state.i - 1, nfev=state.nfev,
      ngev=state.ngev, k=state.i, a_k=alpha_k, f_k=state.phi_star, g_k=state.g_star,
      status=status)

"""custom_linear_solve (its primitive linear_solve_p) and custom_root, as JAX's.

``linear_solve_p`` carries four ClosedJaxprs (matvec, vecmat, solve, transpose_solve;
the last two may be None) and takes each one's closed-over tracers, then ``b``. It runs
``solve``; its JVP solves again for ``b' - A' x``; its transpose solves the transposed
system with ``transpose_solve``; vmap batches every jaxpr with ``b`` (and the solution)
batched; jit lowers ``solve`` inline. ``custom_root`` is a custom_jvp function whose JVP
solves the linearized system with ``tangent_solve`` (implicit differentiation)."""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

from pyjax._src import core, tree_util
from pyjax._src.core import Primitive
from pyjax._src.custom_derivatives import custom_jvp
from pyjax._src.interpreters import ad, batching
from pyjax._src.interpreters import partial_eval as pe
from pyjax._src.lax import lax
from pyjax._src.lax.control_flow.common import avals_of, eval_closed, lower_closed, trace_fun


class _LinearSolveTuple(NamedTuple):
  matvec: object
  vecmat: object
  solve: object
  transpose_solve: object

  def transpose(self):
    return type(self)(self.vecmat, self.matvec, self.transpose_solve, self.solve)


def _split(args, const_lengths):
  params, start = [], 0
  for n in const_lengths:
    params.append(list(args[start:start + n]))
    start += n
  return _LinearSolveTuple(*params), list(args[start:])


def _flatten(params):
  return [x for p in params for x in p]


def _check_tree(func_name, expected_name, actual_tree, expected_tree, has_aux=False):
  if has_aux:
    children = actual_tree.children() if hasattr(actual_tree, "children") else None
    if not children or len(children) != 2:
      raise ValueError(f"{func_name}() produced no auxiliary output, but has_aux=True.")
    actual_tree = children[0]
  if actual_tree != expected_tree:
    raise TypeError(f"{func_name}() output pytree structure must match {expected_name}, "
                    f"got {actual_tree} and {expected_tree}.")


linear_solve_p = Primitive("custom_linear_solve")
linear_solve_p.multiple_results = True


def _linear_solve_impl(*args, const_lengths, jaxprs):
  params, b = _split(args, const_lengths)
  return eval_closed(jaxprs.solve, *params.solve, *b)


def _linear_solve_abstract_eval(*args, const_lengths, jaxprs):
  return list(jaxprs.solve.out_avals)


def _linear_solve_jvp(primals, tangents, *, const_lengths, jaxprs):
  # A x = b  =>  A' x + A x' = b'  =>  x' = A^{-1} (b' - A' x)
  kw = dict(const_lengths=const_lengths, jaxprs=jaxprs)
  x = linear_solve_p.bind(*primals, **kw)
  params, _ = _split(primals, const_lengths)
  params_dot, b_dot = _split(tangents, const_lengths)
  n = len(b_dot)
  x_leaves = x[:n]
  if all(type(t) is ad.Zero for t in params_dot.matvec):
    rhs = b_dot
  else:
    _, mv_dot = ad.jvp_flat(lambda *p: eval_closed(jaxprs.matvec, *p, *x_leaves),
                            params.matvec, params_dot.matvec)
    rhs = [ad.add_tangents(bd, lax.neg(ad.instantiate(m)) if type(m) is not ad.Zero else m)
           for bd, m in zip(b_dot, mv_dot)]
  rhs = [ad.instantiate(t) if type(t) is ad.Zero else t for t in rhs]
  x_dot = linear_solve_p.bind(*_flatten(params), *rhs, **kw)
  aux_dot = [ad.Zero(ad.tangent_aval(core.get_aval(a))) for a in x[n:]]
  return x, list(x_dot[:n]) + aux_dot


def _linear_solve_transpose(cts, *args, const_lengths, jaxprs):
  if jaxprs.transpose_solve is None:
    raise TypeError("transpose_solve required for backwards mode automatic "
                    "differentiation of custom_linear_solve")
  params, b = _split(args, const_lengths)
  if any(ad.is_undefined_primal(x) for x in _flatten(params)):
    raise NotImplementedError("custom_linear_solve transposed with respect to the "
                              "parameters of matvec or solve")
  n = len(b)
  x_ct = [ad.zeros_like_aval(x.aval) if c is None or type(c) is ad.Zero else c
          for c, x in zip(cts[:n], b)]
  out = linear_solve_p.bind(*_flatten(params.transpose()), *x_ct,
                            const_lengths=const_lengths.transpose(),
                            jaxprs=jaxprs.transpose())
  return [None] * sum(const_lengths) + list(out[:n])


def _linear_solve_batch(vals, dims, *, axis_name=None, const_lengths, jaxprs):
  size = batching.batch_size(vals, dims)
  params_v, b_v = _split(vals, const_lengths)
  params_d, b_d = _split(dims, const_lengths)
  b_v = [batching.bdim_at_front(x, d, size) for x, d in zip(b_v, b_d)]  # b always batched
  nb = len(b_v)
  new = []
  for closed, ds in zip(jaxprs, params_d):
    if closed is None:
      new.append(None)
      continue
    bj, _ = batching.batch_jaxpr(closed, size, list(ds) + [0] * nb, axis_name,
                                 instantiate=True)
    new.append(bj)
  out = linear_solve_p.bind(*_flatten(params_v), *b_v, const_lengths=const_lengths,
                            jaxprs=_LinearSolveTuple(*new))
  return out, [0] * len(out)


def _linear_solve_lower(ctx, *args, const_lengths, jaxprs):
  params, b = _split(args, const_lengths)
  return lower_closed(ctx, jaxprs.solve, [*params.solve, *b])


linear_solve_p.def_impl(_linear_solve_impl)
linear_solve_p.def_abstract_eval(_linear_solve_abstract_eval)
linear_solve_p.jvp = _linear_solve_jvp
linear_solve_p.transpose = _linear_solve_transpose
linear_solve_p.batch = _linear_solve_batch
linear_solve_p.batch_with_axis_name = True
linear_solve_p.lower = _linear_solve_lower


def _transpose_one_output(linear_fun, primals):
  """The transpose of the linear function ``linear_fun`` (pytree -> same pytree)."""
  flat, tree = tree_util.tree_flatten(primals)
  avals = [a.update(weak_type=False) for a in avals_of(flat)]

  def transposed(y):
    jaxpr, consts = pe.trace_to_jaxpr(
        lambda *xs: tree_util.tree_leaves(linear_fun(tree_util.tree_unflatten(tree, xs))),
        avals)
    cts = ad.linear_transpose_flat(jaxpr, consts, tree_util.tree_leaves(y))
    return tree_util.tree_unflatten(
        tree, [lax.full(a.shape, 0, a.dtype) if c is None or type(c) is ad.Zero else c
               for c, a in zip(cts, avals)])
  return transposed


def custom_linear_solve(matvec, b, solve, transpose_solve=None, symmetric=False,
                        has_aux=False):
  """Solves ``matvec(x) = b`` with ``solve`` and differentiates implicitly, as
  ``jax.lax.custom_linear_solve``."""
  b_flat, tree = tree_util.tree_flatten(b)
  b_flat = [lax._to_array(x) for x in b_flat]
  b = tree_util.tree_unflatten(tree, b_flat)
  b_avals = tuple(a.update(weak_type=False) for a in avals_of(b_flat))
  args_avals = (tree_util.tree_unflatten(tree, list(b_avals)),)

  def trace(fun, what, aux=False):
    closed, consts, out_tree = trace_fun(fun, args_avals, what)
    _check_tree(what, "b", out_tree, tree, aux)
    return closed, consts, out_tree

  matvec_j, matvec_c, _ = trace(matvec, "matvec")
  solve_j, solve_c, solve_tree = trace(partial(solve, matvec), "solve", has_aux)
  if transpose_solve is None:
    vecmat_j = tr_solve_j = None
    vecmat_c = tr_solve_c = []
  else:
    vecmat = matvec if symmetric else _transpose_one_output(matvec, b)
    vecmat_j, vecmat_c, _ = trace(vecmat, "vecmat")
    tr_solve_j, tr_solve_c, _ = trace(partial(transpose_solve, vecmat), "transpose_solve",
                                   has_aux)
  all_consts = [matvec_c, vecmat_c, solve_c, tr_solve_c]
  const_lengths = _LinearSolveTuple(*map(len, all_consts))
  jaxprs = _LinearSolveTuple(matvec_j, vecmat_j, solve_j, tr_solve_j)
  out = linear_solve_p.bind(*_flatten(all_consts), *b_flat, const_lengths=const_lengths,
                            jaxprs=jaxprs)
  return tree_util.tree_unflatten(solve_tree, out)


# ---------------------------------------------------------------- custom_root


def custom_root(f, initial_guess, solve, tangent_solve, has_aux=False):
  """Finds a root of ``f`` with ``solve`` and differentiates it implicitly with
  ``tangent_solve``, as ``jax.lax.custom_root``."""
  guess_flat, tree = tree_util.tree_flatten(initial_guess)
  guess_flat = [lax._to_array(x) for x in guess_flat]
  avals = tuple(a.update(weak_type=False) for a in avals_of(guess_flat))
  args_avals = (tree_util.tree_unflatten(tree, list(avals)),)
  f_j, f_c, out_tree = trace_fun(f, args_avals, "f")
  _check_tree("f", "initial_guess", out_tree, tree)
  solve_j, solve_c, sol_tree = trace_fun(partial(solve, f), args_avals, "solve")
  _check_tree("solve", "initial_guess", sol_tree, tree, has_aux)

  def linearize_and_solve(x, b):
    x_flat = tree_util.tree_leaves(x)

    def f_jvp(t):
      _, out = ad.jvp_flat(lambda *xs: tree_util.tree_leaves(
          f(tree_util.tree_unflatten(tree, xs))), x_flat, tree_util.tree_leaves(t))
      return tree_util.tree_unflatten(out_tree, [ad.instantiate(o) for o in out])
    return tangent_solve(f_jvp, b)

  ls_j, ls_c, ls_tree = trace_fun(linearize_and_solve, args_avals * 2, "tangent_solve")
  _check_tree("tangent_solve", "x", ls_tree, tree)
  nf, ns = len(f_c), len(solve_c)
  n_sol = len(f_j.out_avals)

  @custom_jvp
  def _custom_root(*args):
    return eval_closed(solve_j, *args[nf:nf + ns], *args[nf + ns + len(ls_c):])

  @_custom_root.defjvp
  def _root_jvp(primals, tangents):
    sol = _custom_root(*primals)
    solution, aux = list(sol[:n_sol]), list(sol[n_sol:])
    fp, fd = list(primals[:nf]), list(tangents[:nf])
    ls_params = list(primals[nf + ns:nf + ns + len(ls_c)])
    _, rhs = ad.jvp_flat(lambda *p: eval_closed(f_j, *p, *solution), fp,
                         [ad.Zero(ad.tangent_aval(core.get_aval(p))) if
                          type(t) is ad.Zero else t for p, t in zip(fp, fd)])
    rhs = [ad.instantiate(r) for r in rhs]
    sol_dot = [lax.neg(s) for s in eval_closed(ls_j, *ls_params, *solution, *rhs)]
    return solution + aux, sol_dot + [lax.zeros_like_array(a) for a in aux]

  out = _custom_root(*f_c, *solve_c, *ls_c, *guess_flat)
  return tree_util.tree_unflatten(sol_tree, out)

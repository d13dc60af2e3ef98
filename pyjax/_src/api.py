"""Public transformations that need only the core: make_jaxpr, eval_shape, device_put."""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from pyjax._src import core, devices as _devices, dtypes, tree_util
from pyjax._src.array import ArrayImpl, asarray_value
from pyjax._src.core import ShapedArray, Tracer
from pyjax._src.interpreters import partial_eval as pe


class ShapeDtypeStruct:
  """A shape/dtype placeholder accepted wherever an abstract argument is."""
  __slots__ = ("shape", "dtype", "sharding", "weak_type")

  def __init__(self, shape, dtype, *, sharding=None, weak_type=False):
    self.shape = tuple(shape)
    self.dtype = dtypes.canonicalize_dtype(dtype)
    self.sharding = sharding
    self.weak_type = weak_type

  ndim = property(lambda self: len(self.shape))
  size = property(lambda self: int(np.prod(self.shape)))

  @property
  def aval(self):
    return ShapedArray(self.shape, self.dtype, self.weak_type)

  def __repr__(self):
    w = ", weak_type=True" if self.weak_type else ""
    return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name}{w})"

  def __eq__(self, other):
    return (isinstance(other, ShapeDtypeStruct) and self.shape == other.shape
            and self.dtype == other.dtype and self.weak_type == other.weak_type)

  def __hash__(self):
    return hash((self.shape, self.dtype, self.weak_type))


def _abstractify(x, argname) -> ShapedArray:
  try:
    return core.get_aval(x)
  except TypeError:
    raise TypeError(f"Argument '{argname}' of type {type(x)} is not a valid JAX type. "
                    f"Only arrays, NumPy values, Python scalars and pytrees of them can "
                    f"be passed to transformed functions.") from None


def _static_args(fun, args, kwargs, static_argnums, what):
  static_argnums = (static_argnums,) if isinstance(static_argnums, int) else \
      tuple(static_argnums)
  n = len(args)
  static_argnums = tuple(i % n if i < 0 else i for i in static_argnums)
  for i in static_argnums:
    if i >= n:
      raise ValueError(f"{what} static_argnums {i} is out of range for {n} positional "
                       f"arguments.")
  dyn = [a for i, a in enumerate(args) if i not in static_argnums]
  return static_argnums, dyn


def make_jaxpr(fun: Callable, static_argnums: int | Sequence[int] = (),
               axis_env=None, return_shape: bool = False, abstracted_axes=None):
  """Returns a function that gives the ``ClosedJaxpr`` of ``fun`` for given arguments."""
  if isinstance(static_argnums, int):
    static_argnums = (static_argnums,)

  @functools.wraps(fun)
  def make_jaxpr_f(*args, **kwargs):
    sargs, dyn = _static_args(fun, args, kwargs, static_argnums, "make_jaxpr")
    flat, in_tree = tree_util.tree_flatten((tuple(dyn), kwargs))
    dbg = core.debug_info("make_jaxpr", fun, args, kwargs, sargs)
    names = dbg.arg_names
    in_avals = [_abstractify(x, names[i] if i < len(names) else f"args[{i}]")
                for i, x in enumerate(flat)]
    out_tree_box = []

    def flat_fun(*tracers):
      dyn_args, kw = tree_util.tree_unflatten(in_tree, list(tracers))
      it = iter(dyn_args)
      full = [a if i in sargs else next(it) for i, a in enumerate(args)]
      out = fun(*full, **kw)
      out_flat, out_tree = tree_util.tree_flatten(out)
      out_tree_box.append(out_tree)
      return out_flat

    jaxpr, consts = pe.trace_to_jaxpr(flat_fun, in_avals, dbg)
    closed = core.ClosedJaxpr(jaxpr, consts)
    if return_shape:
      shapes = [ShapeDtypeStruct(v.aval.shape, v.aval.dtype, weak_type=v.aval.weak_type)
                for v in jaxpr.outvars]
      return closed, tree_util.tree_unflatten(out_tree_box[0], shapes)
    return closed

  make_jaxpr_f.__name__ = f"make_jaxpr({getattr(fun, '__name__', repr(fun))})"
  return make_jaxpr_f


def eval_shape(fun: Callable, *args, **kwargs):
  """Output shapes/dtypes of ``fun`` without running it (as ShapeDtypeStructs)."""
  _, shapes = make_jaxpr(fun, return_shape=True)(*args, **kwargs)
  return shapes


def device_put(x, device=None, *, src=None, donate=False, may_alias=None):
  """Places a pytree of array-likes on ``device`` (host memory on CPU)."""
  if device is not None and not isinstance(device, (_devices.Device, _devices.Sharding)):
    raise TypeError(f"device_put: device must be a Device or Sharding, got {device!r}")
  dev = device._device if isinstance(device, _devices.SingleDeviceSharding) else device

  def put(leaf):
    if isinstance(leaf, Tracer):
      return leaf
    if isinstance(leaf, ArrayImpl):
      return leaf if dev is None else ArrayImpl(leaf._value, leaf.weak_type, dev)
    if isinstance(leaf, ShapeDtypeStruct):
      raise TypeError("device_put: ShapeDtypeStruct is not a concrete value")
    arr = asarray_value(leaf)
    return arr if dev is None else ArrayImpl(arr._value, arr.weak_type, dev)
  return tree_util.tree_map(put, x)


def device_get(x):
  """Copies a pytree of arrays to NumPy values on the host."""
  return tree_util.tree_map(lambda l: np.asarray(l) if isinstance(l, ArrayImpl) else l, x)


def block_until_ready(x):
  """Waits for every array in a pytree to be computed; returns the pytree."""
  for leaf in tree_util.tree_leaves(x):
    if hasattr(leaf, "block_until_ready"):
      leaf.block_until_ready()
  return x


# ---------------------------------------------------------------- autodiff (ad.py owns the machinery)


def _check_callable(fun, what):
  if not callable(fun):
    raise TypeError(f"{what} expected a callable value, got {fun!r}")


def _as_tuple_argnums(argnums):
  return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def _dyn_args(fun, argnums, args, kwargs):
  """Splits ``args`` into the differentiated ones and a function of them."""
  nums = _as_tuple_argnums(argnums)
  for i in nums:
    if not isinstance(i, int):
      raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
    if i >= len(args) or i < -len(args):
      raise TypeError(
          f"differentiating with respect to argnums={argnums} requires at least "
          f"{max(nums) + 1} positional arguments to be passed by the caller, but got "
          f"only {len(args)} positional arguments.")
  nums = tuple(i % len(args) for i in nums)

  def f_partial(*dyn):
    full = list(args)
    for i, d in zip(nums, dyn):
      full[i] = d
    return fun(*full, **kwargs)
  return f_partial, tuple(args[i] for i in nums)


def _leaf_dtype(x, argname):
  try:
    return core.get_aval(x).dtype
  except TypeError:
    raise TypeError(f"Argument '{argname}' of type {type(x)} is not a valid JAX type."
                    ) from None


def _check_input_dtype(name, x, holomorphic, allow_int):
  dt = _leaf_dtype(x, type(x).__name__)
  if holomorphic:
    if dt.kind != "c":
      raise TypeError(f"{name} with holomorphic=True requires inputs with complex dtype, "
                      f"but got {dt.name}.")
  if dtypes.issubdtype(dt, np.inexact) or dt == dtypes.bfloat16:
    return
  if (dt.kind in "iub" or dt == dtypes.float0) and allow_int:
    return
  if name == "grad":
    raise TypeError(
        f"grad requires real- or complex-valued inputs (input dtype that is a sub-dtype of "
        f"np.inexact), but got {dt.name}. If you want to use Boolean- or integer-valued "
        f"inputs, use vjp or set allow_int to True.")
  raise TypeError(
      f"{name} requires real-valued inputs (input dtype that is a sub-dtype of "
      f"np.floating), but got {dt.name}. If you want to use Boolean- or integer-valued "
      f"inputs, use vjp or set allow_int to True.")


def _check_output_dtype(name, dt, holomorphic):
  if holomorphic:
    if dt.kind != "c":
      raise TypeError(f"{name} with holomorphic=True requires outputs with complex dtype, "
                      f"but got {dt.name}.")
  elif dt.kind == "c":
    raise TypeError(
        f"{name} requires real-valued outputs (output dtype that is a sub-dtype of "
        f"np.floating), but got {dt.name}. For holomorphic differentiation, pass "
        f"holomorphic=True. For differentiation of non-holomorphic functions involving "
        f"complex outputs, use jax.vjp directly.")
  elif not (dtypes.issubdtype(dt, np.floating) or dt == dtypes.bfloat16):
    raise TypeError(
        f"{name} requires real-valued outputs (output dtype that is a sub-dtype of "
        f"np.floating), but got {dt.name}. For differentiation of functions with integer "
        f"outputs, use jax.vjp directly.")


def jvp(fun: Callable, primals, tangents, has_aux: bool = False):
  """Forward-mode Jacobian-vector product: ``(fun(*primals), J @ tangents)``."""
  from pyjax._src.interpreters import ad
  _check_callable(fun, "jvp")
  if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
    raise TypeError(f"primal and tangent arguments to jax.jvp must be tuples or lists; "
                    f"found {type(primals).__name__} and {type(tangents).__name__}.")
  p_flat, p_tree = tree_util.tree_flatten(tuple(primals))
  t_flat, t_tree = tree_util.tree_flatten(tuple(tangents))
  if p_tree != t_tree:
    raise TypeError(f"primal and tangent arguments to jax.jvp must have the same tree "
                    f"structure; primals have tree structure {p_tree} whereas tangents "
                    f"have tree structure {t_tree}.")
  p_flat = [ad._as_array(p) for p in p_flat]
  ts = []
  for p, t in zip(p_flat, t_flat):
    pa = core.get_aval(p)
    ta = core.get_aval(t)  # float0 arrays included
    expected = ad.tangent_aval(pa).dtype
    if ta.dtype != expected and not (type(t) is float and expected.kind == "f"):
      raise TypeError(
          f"primal and tangent arguments to jax.jvp do not match; dtypes must be equal, "
          f"or in case of int/bool primal dtype the tangent dtype must be float0.Got "
          f"primal dtype {pa.dtype.name} and so expected tangent dtype {expected.name}, "
          f"but got tangent dtype {ta.dtype.name} instead.")
    if pa.shape != ta.shape:
      raise ValueError(f"jvp called with different primal and tangent shapes;Got primal "
                       f"shape {pa.shape} and tangent shape as {ta.shape}")
    ts.append(ad.Zero(ad.tangent_aval(pa)) if expected == dtypes.float0
              else ad._as_array(t))
  out_tree_box = []

  def flat_fun(*xs):
    out = fun(*tree_util.tree_unflatten(p_tree, list(xs)))
    if has_aux:
      out, aux = _split_aux(out, "jvp")
      aux_flat, aux_tree = tree_util.tree_flatten(aux)
      out_tree_box.append(aux_tree)
      flat, tree = tree_util.tree_flatten(out)
      out_tree_box.insert(0, tree)
      return flat + aux_flat
    flat, tree = tree_util.tree_flatten(out)
    out_tree_box.append(tree)
    return flat

  out_p, out_t = ad.jvp_flat(flat_fun, p_flat, ts)
  out_t = [ad.instantiate(t) for t in out_t]
  out_tree = out_tree_box[0]
  n = out_tree.num_leaves
  primal_out = tree_util.tree_unflatten(out_tree, out_p[:n])
  tangent_out = tree_util.tree_unflatten(out_tree, out_t[:n])
  if has_aux:
    return primal_out, tangent_out, tree_util.tree_unflatten(out_tree_box[1], out_p[n:])
  return primal_out, tangent_out


def _split_aux(out, name):
  if not isinstance(out, (tuple, list)) or len(out) != 2:
    raise TypeError(f"{name} with has_aux=True requires the function to return a pair "
                    f"(output, auxiliary_data), got {type(out).__name__}.")
  return out[0], out[1]


def _linearize(fun, primals, has_aux, what):
  """Linearizes ``fun(*primals)`` (pytrees). Returns outputs, trees, the linear jaxpr."""
  from pyjax._src.interpreters import ad
  p_flat, in_tree = tree_util.tree_flatten(tuple(primals))
  for i, p in enumerate(p_flat):
    _leaf_dtype(p, f"primals[{i}]")
  p_flat = [ad._as_array(p) for p in p_flat]
  box = {}

  def flat_fun(*xs):
    out = fun(*tree_util.tree_unflatten(in_tree, list(xs)))
    if has_aux:
      out, aux = _split_aux(out, what)
      box["aux"] = tree_util.tree_flatten(aux)
    flat, tree = tree_util.tree_flatten(out)
    for o in flat:
      _leaf_dtype(o, "output")
    box["out_tree"] = tree
    return flat

  def grab_aux(trace):
    if has_aux:
      flat, tree = box["aux"]
      box["aux"] = (ad.unbox_aux(trace, flat), tree)

  out_p, jaxpr, consts, nonzero = ad.linearize_flat(flat_fun, p_flat, grab_aux)
  aux = tree_util.tree_unflatten(box["aux"][1], box["aux"][0]) if has_aux else None
  return p_flat, in_tree, out_p, box["out_tree"], jaxpr, consts, nonzero, aux


class _VJP:
  """The pullback returned by ``vjp``: maps output cotangents to input cotangents."""

  def __init__(self, fun, p_flat, in_tree, out_p, out_tree, jaxpr, consts, nonzero):
    self.fun, self.p_flat, self.in_tree = fun, p_flat, in_tree
    self.out_avals = [core.get_aval(o) for o in out_p]
    self.out_tree, self.jaxpr, self.consts, self.nonzero = out_tree, jaxpr, consts, nonzero

  def __call__(self, ct):
    from pyjax._src.interpreters import ad
    ct_flat, ct_tree = tree_util.tree_flatten(ct)
    if ct_tree != self.out_tree:
      name = getattr(self.fun, "__name__", repr(self.fun))
      raise ValueError(
          f"unexpected tree structure of argument to vjp function: got {ct_tree}, but "
          f"expected to match {self.out_tree} (the output structure of the "
          f"differentiated function {name}).")
    cts = []
    for c, aval, nz in zip(ct_flat, self.out_avals, self.nonzero):
      ca = core.get_aval(c)  # float0 arrays included
      expect = ad.tangent_aval(aval)
      if ca.shape != expect.shape or ca.dtype != expect.dtype:
        raise ValueError(
            f"unexpected JAX type (e.g. shape/dtype) for argument to VJP function: got "
            f"{ca.str_short(False)}, but expected {expect.str_short(False)} because the "
            f"corresponding output of the differentiated function had JAX type "
            f"{aval.str_short(False)}")
      if nz:
        cts.append(ad._as_array(c))
    cts_in = ad.linear_transpose_flat(self.jaxpr, self.consts, cts)
    it = iter(cts_in)
    out = []
    for p in self.p_flat:
      aval = core.get_aval(p)
      if ad.is_float(aval.dtype):
        c = next(it)
        out.append(ad.zeros_like_aval(aval) if c is None else c)
      else:
        out.append(ad.zeros_like_aval(ad.tangent_aval(aval)))
    return tree_util.tree_unflatten(self.in_tree, out)

  def __repr__(self):
    return f"VJP(fun={getattr(self.fun, '__name__', self.fun)}, in_tree={self.in_tree})"


def vjp(fun: Callable, *primals, has_aux: bool = False, reduce_axes=()):
  """Reverse mode: returns ``(fun(*primals), vjp_fun)`` (and aux with ``has_aux``)."""
  _check_callable(fun, "vjp")
  p_flat, in_tree, out_p, out_tree, jaxpr, consts, nonzero, aux = _linearize(
      fun, primals, has_aux, "vjp")
  pullback = _VJP(fun, p_flat, in_tree, out_p, out_tree, jaxpr, consts, nonzero)
  out = tree_util.tree_unflatten(out_tree, out_p)
  return (out, pullback, aux) if has_aux else (out, pullback)


def linearize(fun: Callable, *primals, has_aux: bool = False):
  """Returns ``(fun(*primals), f_jvp)`` where ``f_jvp`` evaluates the staged tangent map."""
  from pyjax._src.interpreters import ad
  _check_callable(fun, "linearize")
  p_flat, in_tree, out_p, out_tree, jaxpr, consts, nonzero, aux = _linearize(
      fun, primals, has_aux, "linearize")
  in_avals = [core.get_aval(p) for p in p_flat]
  out_avals = [ad.tangent_aval(core.get_aval(o)) for o in out_p]

  def f_jvp(*tangents):
    t_flat, t_tree = tree_util.tree_flatten(tuple(tangents))
    if t_tree != in_tree:
      raise TypeError(f"linearized function called on tangent values inconsistent with "
                      f"the original primal values: expected structure {in_tree}, got "
                      f"{t_tree}.")
    lin_in = []
    for t, a in zip(t_flat, in_avals):
      ta = core.get_aval(t)
      if ad.is_float(a.dtype):
        if ta.shape != a.shape or ta.dtype != a.dtype:
          raise ValueError(f"linearized function called on tangent values inconsistent "
                           f"with the original primal values: got {ta.str_short()} for "
                           f"primal aval {a.str_short()}")
        lin_in.append(t)
    outs = iter(core.eval_jaxpr(jaxpr, consts, *lin_in))
    flat = [next(outs) if nz else ad.zeros_like_aval(a) for nz, a in zip(nonzero, out_avals)]
    return tree_util.tree_unflatten(out_tree, flat)

  out = tree_util.tree_unflatten(out_tree, out_p)
  return (out, f_jvp, aux) if has_aux else (out, f_jvp)


def value_and_grad(fun: Callable, argnums=0, has_aux: bool = False,
                   holomorphic: bool = False, allow_int: bool = False, reduce_axes=()):
  """Returns a function computing ``fun``'s value and its gradient w.r.t. ``argnums``."""
  _check_callable(fun, "value_and_grad")
  return _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, "value_and_grad")


def _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, name):
  from pyjax._src.interpreters import ad

  @functools.wraps(fun)
  def value_and_grad_f(*args, **kwargs):
    f_partial, dyn = _dyn_args(fun, argnums, args, kwargs)
    for leaf in tree_util.tree_leaves(dyn):
      _check_input_dtype("grad", leaf, holomorphic, allow_int)
    res = vjp(f_partial, *dyn, has_aux=has_aux)
    ans, pullback = res[0], res[1]
    if not (isinstance(ans, (ArrayImpl, Tracer)) or type(ans) in (int, float, complex)
            or isinstance(ans, (np.ndarray, np.generic))):
      raise TypeError(f"Gradient only defined for scalar-output functions. Output was "
                      f"{ans!r}.")
    aval = core.get_aval(ans)
    if aval.shape:
      raise TypeError(f"Gradient only defined for scalar-output functions. Output had "
                      f"shape: {aval.shape}.")
    _check_output_dtype("grad", aval.dtype, holomorphic)
    from pyjax._src.lax import lax
    g = pullback(lax.full((), 1, aval.dtype))
    g = g[0] if isinstance(argnums, int) else g
    if has_aux:
      return (ans, res[2]), g
    return ans, g

  return value_and_grad_f


def grad(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
         allow_int: bool = False, reduce_axes=()):
  """Returns a function computing the gradient of scalar-valued ``fun``."""
  _check_callable(fun, "grad")
  vg = _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, "grad")

  def grad_f(*args, **kwargs):
    out, g = vg(*args, **kwargs)
    return (g, out[1]) if has_aux else g

  functools.update_wrapper(grad_f, fun)
  return grad_f


def _std_basis(flat_leaves):
  """Rows of the identity, split and reshaped like ``flat_leaves``: one (N, *shape) each."""
  from pyjax._src.lax import lax
  sizes = [int(np.prod(core.get_aval(l).shape)) for l in flat_leaves]
  n = sum(sizes)
  dt = dtypes.lattice_result_type(*[core.get_aval(l).dtype for l in flat_leaves])[0] \
      if flat_leaves else np.dtype(np.float32)
  eye = np.eye(n, dtype=dt)
  out, start = [], 0
  for l, sz in zip(flat_leaves, sizes):
    aval = core.get_aval(l)
    out.append(ArrayImpl(eye[:, start:start + sz].reshape((n, *aval.shape)).astype(
        aval.dtype), False))
    start += sz
  return out


def _unravel(pytree_leaves, axis, arr, n_total):
  """Splits ``arr``'s ``axis`` (of length n_total) into pieces shaped like the leaves."""
  from pyjax._src.lax import lax, slicing
  out, start = [], 0
  for leaf in pytree_leaves:
    shape = core.get_aval(leaf).shape
    sz = int(np.prod(shape))
    ax = axis % arr.ndim
    piece = slicing.slice_in_dim(arr, start, start + sz, axis=ax)
    out.append(lax.reshape(piece, (*arr.shape[:ax], *shape, *arr.shape[ax + 1:])))
    start += sz
  return out


def _jac_inputs(name, fun, argnums, args, kwargs, holomorphic, allow_int):
  """The differentiated arguments of a Jacobian call, flattened and dtype-checked."""
  f_partial, dyn = _dyn_args(fun, argnums, args, kwargs)
  in_flat, in_tree = tree_util.tree_flatten(dyn)
  for leaf in in_flat:
    _check_input_dtype(name, leaf, holomorphic, allow_int)
  return f_partial, dyn, in_flat, in_tree


def jacfwd(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False):
  """Jacobian of ``fun`` by forward mode, vectorized over the input basis with vmap."""
  _check_callable(fun, "jacfwd")

  @functools.wraps(fun)
  def jacfun(*args, **kwargs):
    f_partial, dyn, in_flat, in_tree = _jac_inputs("jacfwd", fun, argnums, args, kwargs,
                                                   holomorphic, False)
    basis = _std_basis(in_flat)

    def pushfwd(*tangent_flat):
      tangents = tree_util.tree_unflatten(in_tree, list(tangent_flat))
      res = jvp(f_partial, dyn, tangents, has_aux=has_aux)
      return res if has_aux else (*res, None)

    y, jac, aux = vmap(pushfwd, out_axes=(None, -1, None))(*basis)
    y_flat, y_tree = tree_util.tree_flatten(y)
    if not holomorphic:
      for leaf in y_flat:
        if core.get_aval(leaf).dtype.kind == "c":
          _check_output_dtype("jacfwd", core.get_aval(leaf).dtype, False)
    n = len(basis[0]) if basis else 0
    jac_flat = tree_util.tree_leaves(jac)
    per_out = [tree_util.tree_unflatten(in_tree, _unravel(in_flat, -1, j, n))
               for j in jac_flat]
    if isinstance(argnums, int):
      per_out = [p[0] for p in per_out]
    out = tree_util.tree_unflatten(y_tree, per_out)
    return (out, aux) if has_aux else out

  return jacfun


def jacrev(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
           allow_int: bool = False):
  """Jacobian of ``fun`` by reverse mode, vectorized over the output basis with vmap."""
  _check_callable(fun, "jacrev")

  @functools.wraps(fun)
  def jacfun(*args, **kwargs):
    f_partial, dyn, in_flat, in_tree = _jac_inputs("jacrev", fun, argnums, args, kwargs,
                                                   holomorphic, allow_int)
    res = vjp(f_partial, *dyn, has_aux=has_aux)
    y, pullback = res[0], res[1]
    y_flat, y_tree = tree_util.tree_flatten(y)
    for leaf in y_flat:
      _check_output_dtype("jacrev", core.get_aval(leaf).dtype, holomorphic) \
          if holomorphic or core.get_aval(leaf).dtype.kind == "c" else None
    basis = _std_basis(y_flat)
    jac = vmap(lambda *ct: pullback(tree_util.tree_unflatten(y_tree, list(ct))))(*basis)
    # jac: tuple (per dyn arg) of pytrees with leaves (M, *in_shape).
    jac_in_flat = tree_util.tree_leaves(jac)
    m = sum(int(np.prod(core.get_aval(l).shape)) for l in y_flat)
    per_in = [_unravel(y_flat, 0, j, m) for j in jac_in_flat]  # [in][out]
    per_out = [tree_util.tree_unflatten(in_tree, [per_in[i][o] for i in range(len(per_in))])
               for o in range(len(y_flat))]
    if isinstance(argnums, int):
      per_out = [p[0] for p in per_out]
    out = tree_util.tree_unflatten(y_tree, per_out)
    return (out, res[2]) if has_aux else out

  return jacfun


jacobian = jacrev


def hessian(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False):
  """Hessian of scalar ``fun``: ``jacfwd(jacrev(fun))``."""
  return jacfwd(jacrev(fun, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)


def linear_transpose(fun: Callable, *primals, reduce_axes=()):
  """Transpose of the linear function ``fun`` at (shape/dtype of) ``primals``."""
  from pyjax._src.interpreters import ad
  zeros = tree_util.tree_map(lambda x: ad.zeros_like_aval(core.ShapedArray(
      np.shape(x), dtypes.canonicalize_dtype(x.dtype))), primals)
  p_flat, in_tree, out_p, out_tree, jaxpr, consts, nonzero, _ = _linearize(
      fun, zeros, False, "linear_transpose")
  return _VJP(fun, p_flat, in_tree, out_p, out_tree, jaxpr, consts, nonzero)



# ---------------------------------------------------------------- vmap (batching.py owns the machinery)


def _check_axes_spec(axes, what, top_msg):
  leaves = tree_util.tree_leaves(axes, is_leaf=lambda x: x is None)
  if not all(l is None or (type(l) is int) for l in leaves):
    raise TypeError(f"vmap {what} must be an int, None, or {top_msg}, but got {axes}.")


def _prefix_leaves(prefix, full, what):
  try:
    return tree_util.broadcast_prefix(prefix, full, is_leaf=lambda x: x is None)
  except ValueError:
    errs = tree_util.prefix_errors(prefix, full, is_leaf=lambda x: x is None)
    detail = str(errs[0](f"vmap {what}")) if errs else ""
    raise ValueError(f"vmap {what} specification must be a tree prefix of the "
                     f"corresponding value; \n{detail}") from None


def _mapped_size_error(sizes, names, avals, axes, axis_size):
  """JAX's message listing every mapped axis, grouped by size."""
  lines = [] if axis_size is None else [f"the `axis_size` argument was {axis_size}"]
  where = lambda i: (f"axis {axes[i]} of argument {names[i]} of type "
                     f"{avals[i].str_short(short_dtypes=False)}")
  groups = {}
  for i, s in enumerate(sizes):
    groups.setdefault(s, []).append(i)
  biggest = max(len(g) for g in groups.values())
  for s, g in groups.items():
    if len(g) == 1:
      lines.append(f"one axis had size {s}: {where(g[0])}")
    else:
      q = "most" if len(g) == biggest else "some"
      lines.append(f"{q} axes ({len(g)} of them) had size {s}, e.g. {where(g[0])}")
  return ValueError("vmap got inconsistent sizes for array axes to be mapped:\n" +
                    ";\n".join(f"  * {l}" for l in lines))


def vmap(fun: Callable, in_axes=0, out_axes=0, axis_name=None, axis_size=None,
         spmd_axis_name=None) -> Callable:
  """Vectorizing map: ``fun`` over one more array axis, the loop pushed into each
  primitive's batch rule (kwargs are mapped over axis 0). ``spmd_axis_name`` is
  accepted and ignored (it only names a sharding)."""
  from pyjax._src.interpreters import batching
  if isinstance(in_axes, list):
    in_axes = tuple(in_axes)
  top = ("a tuple of entries corresponding to the positional arguments passed to the "
         "function")
  if not (in_axes is None or type(in_axes) in (int, tuple)):
    raise TypeError(f"vmap in_axes must be an int, None, or {top}, but got {in_axes}.")
  if type(in_axes) is not int:
    _check_axes_spec(in_axes, "in_axes", top)
  if type(out_axes) is not int:
    _check_axes_spec(out_axes, "out_axes", "(nested) container with those types as leaves")

  def vmap_f(*args, **kwargs):
    if isinstance(in_axes, tuple) and len(in_axes) != len(args):
      raise ValueError(f"vmap in_axes must be an int, None, or {top}, but got "
                       f"len(in_axes)={len(in_axes)}, len(args)={len(args)}")
    if not args and not kwargs and axis_size is None:
      raise ValueError("vmap wrapped function must be passed at least one argument "
                       "containing an array or axis_size must be specified, got empty "
                       f"*args={args} and **kwargs={kwargs}")
    leaf_args = not kwargs and all(isinstance(a, (ArrayImpl, Tracer)) for a in args)
    if leaf_args:  # fast path: positional array arguments, no pytree to flatten
      flat, in_tree = list(args), None
    else:
      flat, in_tree = tree_util.tree_flatten((args, kwargs))
    if kwargs or not (in_axes is None or type(in_axes) is int or all(
        a is None or type(a) is int for a in in_axes)):
      axes = _prefix_leaves((in_axes, 0), (args, kwargs), "in_axes")
    elif type(in_axes) is tuple:  # fast path: one int/None per positional argument
      axes = [ax for ax, x in zip(in_axes, args)
              for _ in range(tree_util.tree_structure(x).num_leaves)]
    else:
      axes = [in_axes] * len(flat)
    if axis_size is None and all(a is None for a in axes):
      raise ValueError("vmap must have at least one non-None value in in_axes or "
                       "axis_size must be specified")
    avals = [core.get_aval(x) if a is not None else None for x, a in zip(flat, axes)]
    mapped = [i for i, a in enumerate(axes) if a is not None]
    for i in mapped:
      ax, nd = axes[i], avals[i].ndim
      if not -nd <= ax < nd:
        need = ax + 1 if ax >= 0 else -ax
        raise ValueError(f"vmap was requested to map its argument along axis {ax}, which "
                         f"implies that its rank should be at least {need}, but is only "
                         f"{nd} (its shape is {avals[i].shape})")
      axes[i] = ax % nd
    sizes = [avals[i].shape[axes[i]] for i in mapped]
    size = axis_size if axis_size is not None else sizes[0]
    if any(s != size for s in sizes):
      names = core.debug_info("vmap", fun, args, kwargs).arg_names
      nm = lambda i: names[i] if i < len(names) else f"args[{i}]"
      raise _mapped_size_error(sizes, [nm(i) for i in mapped], [avals[i] for i in mapped],
                               [axes[i] for i in mapped], axis_size)
    trace = batching.BatchTrace(core.trace_ctx.trace, axis_name, size)
    try:
      ins = [x if a is None else batching.BatchTracer(
          trace, x if isinstance(x, (ArrayImpl, Tracer)) else asarray_value(x), a)
             for x, a in zip(flat, axes)]
      a_args, a_kwargs = (ins, {}) if leaf_args else tree_util.tree_unflatten(in_tree, ins)
      ctx = core.trace_ctx
      prev, ctx.trace = ctx.trace, trace
      try:
        out = fun(*a_args, **a_kwargs)
      finally:
        ctx.trace = prev
      if isinstance(out, (ArrayImpl, Tracer)):
        out_flat, out_tree = [out], None
      else:
        out_flat, out_tree = tree_util.tree_flatten(out)
      oaxes = ([out_axes] * len(out_flat) if out_axes is None or type(out_axes) is int
               else _prefix_leaves(out_axes, out, "out_axes"))
      outs = []
      for o, oa in zip(out_flat, oaxes):
        v, d = trace.to_batch_info(o)
        if oa is None:
          if d is not None:
            raise ValueError(f"at vmap out_axes, got axis spec None but output was "
                             f"batched on axis {d}")
          outs.append(v)
          continue
        nd = core.get_aval(v).ndim + (d is None)
        if not -nd <= oa < nd:
          raise ValueError(f"axis {oa} is out of bounds for array of dimension {nd}")
        if d != oa % nd:
          with core.set_current_trace(trace.parent):
            v = batching.matchaxis(v, d, oa % nd, size)
        outs.append(v)
    finally:
      trace.invalidate()
    return outs[0] if out_tree is None else tree_util.tree_unflatten(out_tree, outs)

  functools.update_wrapper(vmap_f, fun)
  name = getattr(fun, "__name__", repr(fun))
  doc = (f"Vectorized version of {name}. Takes similar arguments as {name} but with "
         f"additional array axes over which {name} is mapped.")
  if getattr(fun, "__doc__", None):
    doc += "\n\nOriginal documentation:\n\n" + fun.__doc__
  vmap_f.__doc__ = doc
  return vmap_f


# ---------------------------------------------------------------- jit (pjit.py / dispatch.py own the machinery)

from pyjax._src.pjit import jit  # noqa: E402

"""``pmap``: a parallel map over devices, as JAX 0.10.2 builds it (a jit of a
``shard_map`` over a 1-D mesh of the devices), and ``device_put_sharded`` /
``device_put_replicated``.

The per-device function squeezes the mapped axes of its shards; shard_map runs it
vmapped over the device axis (named ``axis_name``, so the collectives of
``lax/parallel.py`` reduce over it) inside one jit: all the devices' work is one compiled
program over the global arrays. Results are Arrays sharded over a ``Mesh`` of the devices
used, as JAX's. A pmap called while another is traced (nested pmap, which JAX 0.10.2
rejects on CPU) maps inside it with a named vmap: its devices count against the product
of the enclosing sizes.

Not built: several processes (``axis_size`` is the local size); ``.lower()`` gives the
jitted program's Lowered; results of grad/vmap/jit of a pmap are not sharded (JAX's
are); typed PRNG key results carry no sharding.
"""
from __future__ import annotations

import functools
import threading
from typing import Callable

import numpy as np

from pyjax._src import api_util, core, devices as devices_mod, dispatch, multiprocess, pjit
from pyjax._src import tree_util
from pyjax._src.array import ArrayImpl, GlobalArray, PendingArray, asarray_value
from pyjax._src.caches import put_bounded
from pyjax._src.config import config
from pyjax._src.interpreters import batching
from pyjax._src.lax import lax, slicing
from pyjax._src.mesh import Mesh
from pyjax._src.shard_map import shard_map
from pyjax._src.sharding import NamedSharding, PartitionSpec

__all__ = ["pmap", "device_put_sharded", "device_put_replicated"]

DEFAULT_AXIS_NAME = "_internal_pmap_axis_name"

# Signatures (traced and compiled programs) one pmapped function keeps.
MAX_SIGNATURES = 1024


class _Nesting(threading.local):
  """Sizes of the pmaps being traced on this thread, outermost first."""

  def __init__(self):
    self.sizes = []


_nesting = _Nesting()


# ---------------------------------------------------------------- argument checks


def _check_axes_spec(axes, what):
  if not all(type(l) is int for l in tree_util.tree_leaves(axes)):
    raise TypeError(f"pmap {what} must be an int, None, or (nested) container with those "
                    f"types as leaves, but got {axes}.")


def _flat_in_axes(in_axes, dyn_nums, dyn_args, kwargs, n_flat, in_tree):
  """One axis (or None) per flat argument leaf of ``(dyn_args, kwargs)``."""
  if dyn_nums is not None and isinstance(in_axes, tuple):
    in_axes = tuple(in_axes[i] for i in dyn_nums if i < len(in_axes))
  if type(in_axes) is int and (in_axes == 0 or not kwargs):
    return [in_axes] * n_flat
  if in_axes is None and not kwargs:
    return [None] * n_flat
  try:
    return tree_util.broadcast_prefix((in_axes, 0), (dyn_args, kwargs),
                                      is_leaf=lambda x: x is None)
  except ValueError:
    errs = tree_util.prefix_errors((in_axes, 0), (dyn_args, kwargs))
    msg = str(errs[0]("pmap in_axes")) if errs else "pmap in_axes: not a tree prefix"
    msg += ("\n\nThe 'full pytree' here is the tuple of arguments passed positionally to "
            "the pmapped function, and the value of `in_axes` must be a tree prefix of "
            "that tuple. But it was not a prefix.")
    if kwargs:
      msg += ("\n\nWhen some arguments are passed by keyword to the pmapped function, "
              "they are not included in the comparison to `in_axes`. Instead, each "
              "argument passed by keyword is mapped over its leading axis. See the "
              "description of `in_axes` in the `pmap` docstring: "
              "https://docs.jax.dev/en/latest/_autosummary/jax.pmap.html#jax.pmap")
    msg += ("\n\nCheck that the value of the `in_axes` argument to `pmap` is a tree "
            "prefix of the tuple of arguments passed positionally to the pmapped "
            "function.")
    raise ValueError(msg) from None


def _mapped_size(fun, args, kwargs, flat, axes):
  """The mapped axis size; normalizes ``axes`` in place (negative axes count from the
  end). Raises JAX's errors for no mapped argument, an axis out of range and
  inconsistent sizes."""
  avals = []
  for i, (x, a) in enumerate(zip(flat, axes)):
    avals.append(core.get_aval(x) if a is not None else None)
  mapped = [i for i, a in enumerate(axes) if a is not None and avals[i].ndim > 0]
  if not mapped:
    raise ValueError("pmap requires at least one argument with a mapped axis.")
  for i, a in enumerate(axes):
    if a is None:
      continue
    nd = avals[i].ndim
    if not -nd <= a < nd:
      need = a + 1 if a >= 0 else -a
      raise IndexError(f"pmap was requested to map its argument along axis {a}, which "
                       f"implies that its rank should be at least {need}, but is only "
                       f"{nd} (its shape is {avals[i].shape})")
    axes[i] = a % nd
  sizes = [avals[i].shape[axes[i]] for i in mapped]
  if any(s != sizes[0] for s in sizes):
    dbg = api_util.debug_info("pmap", fun, args, kwargs)
    err = batching._mapped_size_error(
        sizes, [api_util.arg_name(dbg, i) for i in mapped], [avals[i] for i in mapped],
        [axes[i] for i in mapped], None)
    raise ValueError(str(err).replace("vmap got", "pmap got", 1)) from None
  return sizes[0]


def _mesh_devices(devices, backend, size):
  """The devices a pmap of ``size`` runs on; JAX's errors when there are too few."""
  nested = 1
  for s in _nesting.sizes:
    nested *= s
  if devices is not None:
    if size > len(devices):
      raise ValueError(f"Leading axis size of input to pmapped function must equal the "
                       f"number of local devices passed to pmap. Got axis_size={size}, "
                       f"num_local_devices={len(devices)}.")
    if nested > 1:
      raise ValueError("Nested pmap with explicit devices argument.")
    return devices[:size]
  avail = devices_mod.devices(backend)
  need = size * nested
  if need > len(avail):
    raise ValueError(f"compiling computation that requires {need} logical devices, but "
                     f"only {len(avail)} XLA devices are available (num_replicas={need})")
  return tuple(avail[:size])


def _check_devices(devices):
  known = {d.id: d for d in devices_mod.devices()}
  for d in devices:
    if not isinstance(d, devices_mod.Device):
      raise TypeError(f"pmap: devices must be a sequence of Devices (from jax.devices()), "
                      f"got {d!r} of type {type(d).__name__}")
    if d.platform == "cpu" and known.get(d.id) != d:
      raise ValueError(f"pmap: device {d!r} does not exist; the devices are "
                       f"{list(known.values())}")
  ids = [(d.platform, d.id) for d in devices]
  if len(set(ids)) != len(ids):
    raise ValueError(f"pmap: devices must be distinct, got {list(devices)}")


@functools.lru_cache(maxsize=256)
def _mesh(devices, axis_name):
  return Mesh(np.array(devices, dtype=object), (axis_name,))


def _out_sharding(mesh, axis_name, axis, ndim):
  if axis is None:
    return NamedSharding(mesh, PartitionSpec())
  return NamedSharding(mesh, PartitionSpec(*([None] * (axis % ndim)), axis_name))


# ---------------------------------------------------------------- one signature


class _Program:
  """One traced signature: the jit of the device-mapped function and its outputs'
  shardings (found when it is first traced)."""
  __slots__ = ("jitted", "donating", "in_shardings", "mesh", "shardings", "out_axes",
               "entry", "flat_axes")

  def __init__(self, jitted, donating, in_shardings, mesh):
    self.jitted, self.donating, self.in_shardings = jitted, donating, in_shardings
    self.mesh = mesh
    self.shardings = None
    self.out_axes = None
    self.entry = None  # the jit's compiled entry, for the fast path


def _axes_to_spec(axis_name, axis):
  return PartitionSpec() if axis is None else PartitionSpec(*[None] * axis, axis_name)


def _out_axes_prefix(out_axes, out):
  """One out_axes entry per output leaf (JAX's pytree error when not a prefix)."""
  return tree_util.broadcast_prefix(out_axes, out, is_leaf=lambda x: x is None)


def _shard_mapped(fun, in_tree, in_axes, out_axes, size, axis_name, mesh, box):
  """The flat function the jit traces, as JAX 0.10.2's: a shard_map over the 1-D mesh
  whose per-device function squeezes the mapped axes, calls ``fun`` and puts the
  mapped axis back into the outputs (out_axes None: the first device's value)."""

  def _fun(*flat):
    xs = [x if a is None else lax.squeeze(x, (a,)) for x, a in zip(flat, in_axes)]
    args, kwargs = tree_util.tree_unflatten(in_tree, xs)
    _nesting.sizes.append(size)
    try:
      out = fun(*args, **kwargs)
    finally:
      _nesting.sizes.pop()
    out_flat, out_tree = tree_util.tree_flatten(out)
    oaxes = _out_axes_prefix(out_axes, out)
    outs, ndims = [], []
    for o, oa in zip(out_flat, oaxes):
      if oa is None:
        outs.append(o)
        ndims.append(None)
        continue
      nd = core.get_aval(o).ndim + 1
      if not 0 <= oa < nd:
        raise ValueError(f"axis {oa} is out of bounds for array of dimension {nd}")
      outs.append(lax.expand_dims(o, (oa,)))
      ndims.append(nd)
    box[:] = [list(oaxes), ndims]
    return tree_util.tree_unflatten(out_tree, outs)

  in_specs = tuple(_axes_to_spec(axis_name, a) for a in in_axes)
  out_specs = tree_util.tree_map(lambda a: _axes_to_spec(axis_name, a), out_axes,
                                 is_leaf=lambda x: x is None)
  return shard_map(_fun, mesh=mesh, in_specs=in_specs, out_specs=out_specs,
                   check_vma=False, axis_names=frozenset({axis_name}))


def _device_mapped(fun, in_tree, in_axes, out_axes, size, axis_name, box):
  """The flat function the jit traces for a nested pmap or negative out_axes: ``fun``
  over the device axis (a named vmap); outputs whose out_axes is None keep the first
  device's value."""

  def _fun(*flat):
    trace = batching.BatchTrace(core.trace_ctx.trace, axis_name, size)
    _nesting.sizes.append(size)
    try:
      def body(*xs):
        a, kw = tree_util.tree_unflatten(in_tree, list(xs))
        return fun(*a, **kw)
      out = trace.call(body, list(flat), in_axes)
      out_flat, out_tree = tree_util.tree_flatten(out)
      oaxes = _out_axes_prefix(out_axes, out)
      outs, ndims = [], []
      for o, oa in zip(out_flat, oaxes):
        v, d = trace.to_batch_info(o)
        if oa is None:
          if d is not None:
            v = slicing.index_in_dim(v, 0, d, keepdims=False)
          outs.append(v)
          ndims.append(None)
          continue
        nd = core.get_aval(v).ndim + (d is None)
        if not -nd <= oa < nd:
          raise ValueError(f"axis {oa} is out of bounds for array of dimension {nd}")
        outs.append(batching.matchaxis(v, d, oa % nd, size))
        ndims.append(nd)
    finally:
      _nesting.sizes.pop()
      trace.invalidate()
    box[:] = [[None if oa is None else oa % nd for oa, nd in zip(oaxes, ndims)], ndims]
    return tree_util.tree_unflatten(out_tree, outs)

  return _fun


# ---------------------------------------------------------------- pmap


class _Pmap:
  """The state of one ``pmap(fun, ...)``: its options and its signature cache."""

  def __init__(self, fun, axis_name, in_axes, out_axes, static_nums, devices, backend,
               axis_size, donate_nums):
    self.fun = fun
    self.axis_name = axis_name
    self.in_axes = in_axes
    self.out_axes = out_axes
    self.static_nums = static_nums
    self.devices = devices
    self.backend = backend
    self.axis_size = axis_size
    self.donate_nums = donate_nums
    self.cache = {}
    self.simple = not static_nums and not donate_nums

  def program(self, args, kwargs):
    """(program, flat dynamic arguments) for this call; traces on a new signature."""
    n = len(args)
    if self.static_nums:
      if max(self.static_nums) >= n:
        raise ValueError(
            f"pmapped function has static_broadcasted_argnums={self.static_nums} but was "
            f"called with only {n} positional argument{'s' if n > 1 else ''}. All static "
            f"broadcasted arguments must be passed positionally.")
      statics = tuple(_hash_static(self.fun, i, args[i]) for i in self.static_nums)
      dyn_nums = [i for i in range(n) if i not in self.static_nums]
      dyn_args = tuple(args[i] for i in dyn_nums)
    else:
      statics, dyn_nums, dyn_args = (), None, args
    flat, in_tree = tree_util.tree_flatten((dyn_args, kwargs))
    nested = bool(_nesting.sizes)
    key = (in_tree, statics, nested, tuple(pjit._sig(x) for x in flat))
    prog = self.cache.get(key)
    if prog is None:
      prog = self._make(args, kwargs, statics, dyn_nums, dyn_args, flat, in_tree)
      put_bounded(self.cache, key, prog, MAX_SIGNATURES)
    elif nested:  # a nested pmap: its devices count against the enclosing ones
      _mesh_devices(self.devices, self.backend, prog.mesh.axis_sizes[0])
    return prog, flat

  def _make(self, args, kwargs, statics, dyn_nums, dyn_args, flat, in_tree):
    axes = _flat_in_axes(self.in_axes, dyn_nums, dyn_args, kwargs, len(flat), in_tree)
    size = _mapped_size(self.fun, args, kwargs, flat, axes)
    if size == 0:
      raise ValueError(f"One of in_shardings leaf specifications got an empty "
                       f"NamedSharding: NamedSharding(mesh=Mesh(), "
                       f"spec=P({self.axis_name!r},)) which is not allowed.")
    if self.axis_size is not None and self.axis_size != size:
      raise ValueError(f"Specified axis_size {self.axis_size} doesn't match received "
                       f"axis_size {size}.")
    if multiprocess.active() and self.devices is None and not _nesting.sizes:
      # As JAX: each process maps its own data over its first ``size`` devices; the
      # axis spans every process's (``size * process_count`` members).
      mesh = _mesh(_process_devices(self.backend, size), self.axis_name)
    else:
      mesh = _mesh(_mesh_devices(self.devices, self.backend, size), self.axis_name)
    fun = self.fun
    if dyn_nums is not None:
      fun = _with_statics(fun, self.static_nums, statics, len(args))
    donate = ()
    if self.donate_nums:
      flags = []
      for i, a in enumerate(dyn_args):
        flags += [i in self.donate_nums] * len(tree_util.tree_leaves(a))
      donate = tuple(i for i, f in enumerate(flags) if f)
    box = []
    if _nesting.sizes or any(a < 0 for a in tree_util.tree_leaves(self.out_axes)):
      mapped = _device_mapped(fun, in_tree, axes, self.out_axes, size, self.axis_name, box)
    else:
      mapped = _shard_mapped(fun, in_tree, axes, self.out_axes, size, self.axis_name,
                             mesh, box)
    # As JAX, a donated argument is given up only when it is already laid out as the
    # program's input (a pmap result fed to the next pmap); otherwise it is copied in.
    in_shardings = [_out_sharding(mesh, self.axis_name, a, 1 if a is None else a + 1)
                    for a in axes] if donate else None
    prog = _Program(pjit.jit(mapped), pjit.jit(mapped, donate_argnums=donate) if donate
                    else None, in_shardings, mesh)
    prog.out_axes = box
    prog.flat_axes = axes
    return prog

  def shardings(self, prog):
    s = prog.shardings
    if s is None and prog.out_axes:
      axes, ndims = prog.out_axes
      s = prog.shardings = [_out_sharding(prog.mesh, self.axis_name, a, nd)
                            for a, nd in zip(axes, ndims)]
    return s

  def call(self, args, kwargs):
    """(the outputs, the program run)."""
    prog, flat = self.program(args, kwargs)
    if prog.mesh.is_multi_process and core.trace_ctx.trace is core.eval_trace:
      return self._call_processes(prog, flat), prog
    at_top = (core.trace_ctx.trace is core.eval_trace and not config.jax_disable_jit
              and not dispatch.gpu_found)
    e = prog.entry
    if at_top and e is not None and prog.donating is None:  # the compiled call directly
      outs = e.compiled(flat, ())
      for a, s in zip(outs, prog.shardings):
        a._device = s
      return (outs[0] if e.one_leaf else tree_util.tree_unflatten(e.out_tree, outs)), prog
    jitted = prog.jitted
    if prog.donating is not None and all(
        getattr(flat[i], "_device", None) == prog.in_shardings[i]
        for i in prog.donating._donate_nums):
      jitted = prog.donating
    out = jitted(*flat)
    if core.trace_ctx.trace is core.eval_trace:
      leaves = tree_util.tree_leaves(out)
      shardings = self.shardings(prog)
      for a, s in zip(leaves, shardings):
        if type(a) is ArrayImpl or type(a) is PendingArray:
          a._device = s
      if at_top and jitted is prog.jitted and shardings is not None:
        _, e, _ = jitted._entry(tuple(flat), {})  # (a cache hit: traced just now)
        if e.compiled is not None and not e.tracer_consts and \
            all(type(a) is ArrayImpl or type(a) is PendingArray for a in leaves):
          prog.entry = e
    return out, prog

  def _call_processes(self, prog, flat):
    """A multi-process call (JAX's): this process's mapped data become its block of global
    Arrays over the mesh of every process's devices, and the results' blocks come back
    as Arrays over this process's devices."""
    mesh, name = prog.mesh, self.axis_name
    ins = [x if a is None else multiprocess.from_process_local(
        NamedSharding(mesh, _axes_to_spec(name, a)), np.asarray(x))
        for x, a in zip(flat, prog.flat_axes)]
    out = prog.jitted(*ins)
    local = mesh.local_mesh

    def back(o):
      if type(o) is GlobalArray:
        return ArrayImpl(o._value, o.weak_type, NamedSharding(local, o._device.spec))
      return o
    return tree_util.tree_map(back, out)



def _process_devices(backend, size):
  """Every process's first ``size`` devices, process by process."""
  out = []
  for p in range(devices_mod.process_count()):
    local = devices_mod.local_devices(p, backend)
    if size > len(local):
      raise ValueError(f"compiling computation that requires {size} logical devices per "
                       f"process, but process {p} has only {len(local)} devices "
                       f"(num_replicas={size * devices_mod.process_count()})")
    out.extend(local[:size])
  return tuple(out)


def _hash_static(fun, i, v):
  try:
    hash(v)
  except TypeError:
    raise ValueError(
        f"Non-hashable static arguments are not supported, as this can lead to unexpected "
        f"cache-misses. Static argument (index {i}) of type {type(v)} for function "
        f"{api_util.fun_name(fun)} is non-hashable.") from None
  return v


def _with_statics(fun, static_nums, statics, n):
  """``fun`` of the dynamic positional arguments, the static ones bound."""
  def f(*dyn, **kwargs):
    it, st = iter(dyn), iter(statics)
    return fun(*[next(st) if i in static_nums else next(it) for i in range(n)], **kwargs)
  return f


def _index_tuple(x, what):
  if x is None:
    return ()
  if isinstance(x, int):
    return (x,)
  try:
    return tuple(int(i) for i in x)
  except TypeError:
    raise TypeError(f"pmap: {what} must be an int or a sequence of ints, got {x!r}"
                    ) from None


def pmap(fun: Callable, axis_name=None, *, in_axes=0, out_axes=0,
         static_broadcasted_argnums=(), devices=None, backend: str | None = None,
         axis_size: int | None = None, donate_argnums=()):
  """``fun`` mapped over an array axis, one slice per device (JAX 0.10.2's pmap).

  All devices' work is one compiled program (the device axis vectorized); see the module
  docstring for what is not built."""
  if not callable(fun):
    raise TypeError(f"Expected a callable value, got {fun}")
  if devices is not None:
    if not devices:
      raise ValueError("'devices' argument to pmap must be non-empty, or None.")
    devices = tuple(devices)
    _check_devices(devices)
  axis_name = DEFAULT_AXIS_NAME if axis_name is None else axis_name
  static_nums = _index_tuple(static_broadcasted_argnums, "static_broadcasted_argnums")
  donate = _index_tuple(donate_argnums, "donate_argnums")
  if set(static_nums) & set(donate):
    raise ValueError(f"`static_argnums` {sorted(set(static_nums))} and `donate_argnums` "
                     f"{sorted(set(donate))} cannot intersect.")
  # donated positions count among the dynamic (non-static) arguments
  donate_nums = tuple(sorted(d - sum(s < d for s in static_nums) for d in donate))
  _check_axes_spec(in_axes, "in_axes")
  _check_axes_spec(out_axes, "out_axes")
  p = _Pmap(fun, axis_name, in_axes, out_axes, static_nums, devices, backend, axis_size,
            donate_nums)
  cache = {}  # fast path: the arguments' signatures -> _Program
  eval_trace = core.eval_trace
  trace_ctx = core.trace_ctx

  @functools.wraps(fun)
  def pmapped(*args, **kwargs):
    if p.simple and not kwargs and trace_ctx.trace is eval_trace \
        and not config.jax_disable_jit:
      # Fast path: positional array arguments, one cache lookup and one compiled call.
      key = []
      for a in args:
        t = type(a)
        if t is not ArrayImpl and t is not PendingArray:
          break
        b = a._buf
        key.append((b.shape, b.dtype, a.weak_type) if b is not None else pjit._sig(a))
      else:
        key = tuple(key)
        fast = cache.get(key)
        if fast is not None:
          c = fast.entry.compiled
          if c is not None and not dispatch.gpu_found:
            outs = c(args, ())
            for a, s in zip(outs, fast.shardings):
              a._device = s
            e = fast.entry
            return outs[0] if e.one_leaf else tree_util.tree_unflatten(e.out_tree, outs)
        out, prog = p.call(args, kwargs)
        if prog.entry is not None:
          put_bounded(cache, key, prog, MAX_SIGNATURES)
        return out
    return p.call(args, kwargs)[0]

  pmapped.lower = lambda *args, **kwargs: _lower(p, args, kwargs)
  return pmapped


def _lower(p, args, kwargs):
  prog, flat = p.program(args, kwargs)
  return prog.jitted.lower(*flat)


# ---------------------------------------------------------------- device_put_*


def device_put_sharded(shards, devices):
  """Stacks ``shards`` (a sequence of pytrees of the same structure, one per device)
  into Arrays sharded over ``devices`` along a new leading axis."""
  if not isinstance(shards, (list, tuple)):
    raise TypeError(f"device_put_sharded `shards` input must be a sequence; got "
                    f"{type(shards)}")
  if len(shards) != len(devices):
    raise ValueError(f"len(shards) = {len(shards)} must equal len(devices) = "
                     f"{len(devices)}.")
  mesh = _mesh(tuple(devices), "_device_put_sharded")
  sharding = NamedSharding(mesh, PartitionSpec("_device_put_sharded"))

  def stack(*xs):
    arrs = [x if isinstance(x, ArrayImpl) else asarray_value(x) for x in xs]
    avals = [a.aval for a in arrs]
    for a1, a2 in zip(avals[:-1], avals[1:]):
      if a1 != a2:
        raise ValueError(f"the shards passed to device_put_sharded must have consistent "
                         f"shape and dtype, but got {a1.str_short(short_dtypes=False)} and "
                         f"{a2.str_short(short_dtypes=False)}.")
    v = np.stack([np.asarray(a._value) for a in arrs])
    return ArrayImpl(v, arrs[0].weak_type, sharding)

  return tree_util.tree_map(stack, *shards)


def device_put_replicated(x, devices):
  """``x`` (a pytree) broadcast along a new leading axis, one copy per device."""
  if not isinstance(devices, (list, tuple)) or not devices:
    raise ValueError("`devices` argument to `device_put_replicated must be a non-empty "
                     "sequence.")
  mesh = _mesh(tuple(devices), "_device_put_replicated")
  sharding = NamedSharding(mesh, PartitionSpec("_device_put_replicated"))

  def rep(leaf):
    a = leaf if isinstance(leaf, ArrayImpl) else asarray_value(leaf)
    v = np.asarray(a._value)
    v = np.ascontiguousarray(np.broadcast_to(v[None], (len(devices),) + v.shape))
    return ArrayImpl(v, a.weak_type, sharding)

  return tree_util.tree_map(rep, x)

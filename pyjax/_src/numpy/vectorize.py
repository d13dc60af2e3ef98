"""``jnp.vectorize``: NumPy's vectorize (with gufunc signatures and excluded arguments)
built on ``vmap``, as JAX's: the broadcast (non-core) dimensions become nested vmaps,
size-1 dimensions are squeezed and expanded back instead of being mapped."""
from __future__ import annotations

import functools
import re
import warnings

from pyjax._src.config import config
from pyjax._src.interpreters import batching
from pyjax._src.numpy.lax_numpy import asarray, expand_dims, squeeze
from pyjax._src.numpy.util import broadcast_shapes

_DIMENSION_NAME = r"\w+"
_CORE_DIMENSION_LIST = "(?:{0:}(?:,{0:})*)?".format(_DIMENSION_NAME)
_ARGUMENT = rf"\({_CORE_DIMENSION_LIST}\)"
_ARGUMENT_LIST = "{0:}(?:,{0:})*".format(_ARGUMENT)
_SIGNATURE = "^{0:}->{0:}$".format(_ARGUMENT_LIST)


def _parse_gufunc_signature(signature):
  """'(m,n),(n)->(m)' -> ([('m', 'n'), ('n',)], [('m',)])."""
  if not re.match(_SIGNATURE, signature):
    raise ValueError(f"not a valid gufunc signature: {signature}")
  return tuple([tuple(re.findall(_DIMENSION_NAME, arg)) for arg in re.findall(_ARGUMENT, part)]
               for part in signature.split("->"))


def _update_dim_sizes(dim_sizes, shape, core_dims, error_context, *, is_input):
  n = len(core_dims)
  if is_input:
    if len(shape) < n:
      raise ValueError(f"input with shape {shape!r} does not have enough dimensions for "
                       f"all core dimensions {core_dims!r} {error_context}")
  elif len(shape) != n:
    raise ValueError(f"output shape {shape!r} does not match core dimensions "
                     f"{core_dims!r} {error_context}")
  for dim, size in zip(core_dims, shape[len(shape) - n:] if core_dims else ()):
    if dim not in dim_sizes:
      dim_sizes[dim] = size
    elif size != dim_sizes[dim]:
      raise ValueError(f"inconsistent size for core dimension {dim!r}: {size!r} vs "
                       f"{dim_sizes[dim]!r} {error_context}")


def _parse_input_dimensions(args, input_core_dims, error_context):
  if len(args) != len(input_core_dims):
    raise TypeError(f"wrong number of positional arguments: expected "
                    f"{len(input_core_dims)!r}, got {len(args)!r} {error_context}")
  shapes, dim_sizes = [], {}
  for arg, core_dims in zip(args, input_core_dims):
    _update_dim_sizes(dim_sizes, arg.shape, core_dims, error_context, is_input=True)
    shapes.append(arg.shape[:arg.ndim - len(core_dims)])
  return broadcast_shapes(*shapes), dim_sizes


def _check_output_dims(func, dim_sizes, output_core_dims, error_context):
  def wrapped(*args):
    out = func(*args)
    outs = out if isinstance(out, tuple) else [out]
    if len(output_core_dims) > 1 and not isinstance(out, tuple):
      raise TypeError(f"output must be a tuple when multiple outputs are expected, "
                      f"got: {out!r}\n{error_context}")
    if len(outs) != len(output_core_dims):
      raise TypeError(f"wrong number of output arguments: expected "
                      f"{len(output_core_dims)!r}, got {len(outs)!r} {error_context}")
    sizes = dict(dim_sizes)
    for o, core_dims in zip(outs, output_core_dims):
      _update_dim_sizes(sizes, tuple(getattr(o, "shape", ())), core_dims, error_context,
                        is_input=False)
    return out
  return wrapped


def _apply_excluded(func, excluded, args, kwargs):
  """``func`` with the excluded arguments bound: the rest are mapped."""
  if not excluded:
    return func, args, kwargs
  dynamic_args = [a for i, a in enumerate(args) if i not in excluded]
  dynamic_kwargs = {k: v for k, v in kwargs.items() if k not in excluded}
  static_args = [(i, args[i]) for i in sorted(e for e in excluded if isinstance(e, int))
                 if i < len(args)]
  static_kwargs = {k: v for k, v in kwargs.items() if k in excluded}

  def new_func(*args, **kwargs):
    args = list(args)
    for i, a in static_args:
      args.insert(i, a)
    return func(*args, **kwargs, **static_kwargs)
  return new_func, dynamic_args, dynamic_kwargs


def vectorize(pyfunc, *, excluded=frozenset(), signature=None):
  """Vectorizes ``pyfunc`` over the leading (broadcast) dimensions of its arguments with
  ``vmap``; ``signature`` names the core dimensions each call sees."""
  if any(not isinstance(e, (str, int)) for e in excluded):
    raise TypeError("jax.numpy.vectorize can only exclude integer or string arguments, "
                    f"but excluded={excluded!r}")
  if any(isinstance(e, int) and e < 0 for e in excluded):
    raise ValueError(f"excluded={excluded!r} contains negative numbers")

  @functools.wraps(pyfunc)
  def wrapped(*args, **kwargs):
    error_context = (f"on vectorized function with excluded={excluded!r} and "
                     f"signature={signature!r}")
    func, args, kwargs = _apply_excluded(pyfunc, excluded, args, kwargs)
    if signature is not None:
      input_core_dims, output_core_dims = _parse_gufunc_signature(signature)
    else:
      input_core_dims, output_core_dims = [()] * len(args), None
    none_args = {i for i, a in enumerate(args) if a is None}
    if none_args:
      if any(input_core_dims[i] != () for i in none_args):
        raise ValueError(f"Cannot pass None at locations {none_args} with "
                         f"signature={signature!r}")
      func, args, _ = _apply_excluded(func, none_args, args, {})
      input_core_dims = [d for i, d in enumerate(input_core_dims) if i not in none_args]
    args = tuple(asarray(a) for a in args)
    broadcast_shape, dim_sizes = _parse_input_dimensions(args, input_core_dims,
                                                         error_context)
    checked = func if output_core_dims is None else _check_output_dims(
        func, dim_sizes, output_core_dims, error_context)
    if config.jax_numpy_rank_promotion != "allow":
      ranks = [a.ndim - len(c) for a, c in zip(args, input_core_dims) if a.ndim != 0]
      if len(set(ranks)) > 1:
        msg = (f"operands with shapes {[a.shape for a in args]} require rank promotion "
               f"for jnp.vectorize function with signature {signature}. Set the "
               "jax_numpy_rank_promotion config option to 'allow' to disable this "
               "message; for more information, see "
               "https://docs.jax.dev/en/latest/rank_promotion_warning.html.")
        if config.jax_numpy_rank_promotion == "raise":
          raise ValueError(msg)
        warnings.warn(msg)
    squeezed, rev_shapes = [], []
    for a, core_dims in zip(args, input_core_dims):
      noncore = a.shape[:a.ndim - len(core_dims)]
      rev_shapes.append(((1,) * (len(broadcast_shape) - len(noncore)) + noncore)[::-1])
      squeezed.append(squeeze(a, tuple(i for i, s in enumerate(noncore) if s == 1)))
    f, expand = checked, []
    for negdim, sizes in enumerate(zip(*rev_shapes)):
      in_axes = tuple(None if s == 1 else 0 for s in sizes)
      if all(ax is None for ax in in_axes):
        expand.append(len(broadcast_shape) - 1 - negdim)
      else:
        f = batching.vmap(f, in_axes)
    out = f(*squeezed)
    if not expand:
      return out
    if isinstance(out, tuple):
      return tuple(expand_dims(o, expand) for o in out)
    return expand_dims(out, expand)

  return wrapped


__all__ = ["vectorize"]

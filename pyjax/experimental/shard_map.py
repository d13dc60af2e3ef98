"""``jax.experimental.shard_map``: the legacy signature (deprecated in JAX 0.8.0, as
there: a DeprecationWarning on access) over ``jax.shard_map``."""
import warnings

from pyjax._src import shard_map as _shmap

__all__: list = []  # shard_map: the deprecated name, through __getattr__


def _legacy_shard_map(f, mesh, in_specs, out_specs, check_rep=True):
  """Please use `jax.shard_map`. `jax.experimental.shard_map.shard_map`
  has been deprecated."""
  return _shmap.shard_map(f, mesh=mesh, in_specs=in_specs, out_specs=out_specs,
                          axis_names=set(), check_vma=check_rep)


_legacy_shard_map.__name__ = "shard_map"


def __getattr__(name):
  if name == "shard_map":
    warnings.warn("jax.experimental.shard_map is deprecated in v0.8.0. Used jax.shard_map "
                  "instead.", DeprecationWarning, stacklevel=2)
    return _legacy_shard_map
  raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

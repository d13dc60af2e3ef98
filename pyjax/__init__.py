"""pyjax: JAX, written again in Python (NumPy eager backend, IREE for jit)."""
from pyjax._src.config import config
from pyjax._src.array import Array, Shard
from pyjax._src.devices import (Device, default_backend, device_count, devices,
                                local_device_count, local_devices, process_count,
                                process_index)
from pyjax._src.core import ensure_compile_time_eval
from pyjax._src.mesh import make_mesh, set_mesh
from pyjax._src.sharding import NamedSharding, PartitionSpec as P
from pyjax._src.core import get_aval as _get_aval
from pyjax._src.dtypes import float0
from pyjax._src.api import (ShapeDtypeStruct, block_until_ready, device_get, device_put,
                            eval_shape, make_jaxpr, vmap)
from pyjax._src.api import jit
from pyjax._src.api import (make_array_from_callback, make_array_from_process_local_data,
                            make_array_from_single_device_arrays)
from pyjax._src.api import (grad, hessian, jacfwd, jacobian, jacrev, jvp, linear_transpose,
                            linearize, value_and_grad, vjp)
from pyjax._src.api import named_call, named_scope
from pyjax._src.custom_derivatives import (closure_convert, custom_gradient, custom_jvp,
                                           custom_vjp)
from pyjax._src.ad_checkpoint import checkpoint, checkpoint_policies, remat
from pyjax._src.callback import pure_callback
from pyjax._src.jax_alias import install_as_jax
from pyjax._src.shard_map import shard_map, smap
from pyjax._src.pmap import device_put_replicated, device_put_sharded, pmap
from pyjax._src.ref import Ref, empty_ref, free_ref, freeze, new_ref
from pyjax._src.api import (clear_caches, copy_to_host_async, effects_barrier,
                            live_arrays, make_user_context, print_environment_info)
from pyjax._src.config import (array_garbage_collection_guard, check_tracer_leaks,
                               checking_leaks, debug_infs, debug_key_reuse, debug_nans,
                               default_device, default_matmul_precision, default_prng_impl,
                               disable_jit, enable_checks, enable_custom_prng, enable_x64,
                               explain_cache_misses, jax2tf_associative_scan_reductions,
                               legacy_prng_key, log_compiles, no_execution, no_tracing,
                               numpy_dtype_promotion, numpy_rank_promotion,
                               softmax_custom_jvp, thread_guard, threefry_partitionable,
                               transfer_guard, transfer_guard_device_to_device,
                               transfer_guard_device_to_host, transfer_guard_host_to_device)
from pyjax._src import ref as _ref
from pyjax._src.numpy import array_methods as _array_methods
_array_methods.install()  # Array and Tracer operators and methods, before any use
from pyjax import dtypes, errors, lax, numpy, random, tree, tree_util  # noqa: E402
from pyjax import nn, scipy  # noqa: E402
from pyjax import debug, experimental, sharding  # noqa: E402
from pyjax import api_util, core, custom_batching, custom_derivatives  # noqa: E402
from pyjax import interpreters, stages  # noqa: E402
from pyjax import dlpack, monitoring, profiler, ref, typing, version  # noqa: E402
from pyjax import distributed  # noqa: E402
from pyjax import export as export  # noqa: E402
from pyjax._src.lax.sharding_ops import reshard  # noqa: E402

from pyjax._src import version as _version  # noqa: E402
__version__ = _version.__version__
# The JAX API version pyjax implements: what `jax.__version__` reads after
# install_as_jax() (written once, in _src/version.py).
__jax_version__ = _version._jax_api_version


def typeof(x):
  """The abstract value of ``x``: a ShapedArray (key arrays' with a key dtype), or an
  AbstractRef for a Ref."""
  if isinstance(x, _ref.Ref):
    return x._aval
  return _get_aval(x)


def host_count():
  return process_count()


def host_id():
  return process_index()


__all__ = [
    "api_util", "Array", "array_garbage_collection_guard", "block_until_ready",
    "check_tracer_leaks", "checking_leaks", "checkpoint", "checkpoint_policies",
    "clear_caches", "closure_convert", "config", "copy_to_host_async", "core",
    "custom_batching", "custom_derivatives", "custom_gradient", "custom_jvp",
    "custom_vjp", "debug", "debug_infs", "debug_key_reuse", "debug_nans",
    "default_backend", "default_device", "default_matmul_precision",
    "default_prng_impl", "Device", "device_count", "device_get", "device_put",
    "device_put_replicated", "device_put_sharded", "devices", "disable_jit",
    "distributed", "dlpack", "dtypes", "effects_barrier", "empty_ref", "enable_checks",
    "enable_custom_prng", "enable_x64", "ensure_compile_time_eval", "errors",
    "eval_shape", "experimental", "explain_cache_misses", "export", "float0",
    "free_ref", "freeze", "grad", "hessian", "host_count", "host_id", "install_as_jax",
    "interpreters", "jacfwd", "jacobian", "jacrev",
    "jax2tf_associative_scan_reductions", "jit", "jvp", "lax", "legacy_prng_key",
    "linear_transpose", "linearize", "live_arrays", "local_device_count",
    "local_devices", "log_compiles", "make_array_from_callback",
    "make_array_from_process_local_data", "make_array_from_single_device_arrays",
    "make_jaxpr", "make_mesh", "make_user_context", "monitoring", "named_call",
    "named_scope", "NamedSharding", "new_ref", "nn", "no_execution", "no_tracing",
    "numpy", "numpy_dtype_promotion", "numpy_rank_promotion", "P", "pmap",
    "print_environment_info", "process_count", "process_index", "profiler",
    "pure_callback", "random", "Ref", "ref", "remat", "reshard", "scipy", "set_mesh",
    "ShapeDtypeStruct", "Shard", "shard_map", "sharding", "smap", "softmax_custom_jvp",
    "stages", "thread_guard", "threefry_partitionable", "transfer_guard",
    "transfer_guard_device_to_device", "transfer_guard_device_to_host",
    "transfer_guard_host_to_device", "tree", "tree_util", "typeof", "typing",
    "value_and_grad", "version", "vjp", "vmap",
]

# jax._src.xla_bridge must be an attribute of jax._src after `import jax` (Chex reads it).
from pyjax._src import xla_bridge as _xla_bridge  # noqa: E402
del _xla_bridge

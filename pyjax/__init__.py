"""pyjax: JAX, written again in Python (NumPy eager backend, IREE for jit)."""
from pyjax._src.config import config
from pyjax._src.array import Array
from pyjax._src.devices import (Device, default_backend, device_count, devices,
                                local_device_count, local_devices, process_count,
                                process_index)
from pyjax._src.core import ensure_compile_time_eval
from pyjax._src.core import get_aval as _get_aval
from pyjax._src.dtypes import float0
from pyjax._src.api import (ShapeDtypeStruct, block_until_ready, device_get, device_put,
                            eval_shape, make_jaxpr, vmap)
from pyjax._src.api import jit
from pyjax._src.api import (grad, hessian, jacfwd, jacobian, jacrev, jvp, linear_transpose,
                            linearize, value_and_grad, vjp)
from pyjax._src.api import named_call, named_scope
from pyjax._src.custom_derivatives import (closure_convert, custom_gradient, custom_jvp,
                                           custom_vjp)
from pyjax._src.ad_checkpoint import checkpoint, checkpoint_policies, remat
from pyjax._src.callback import pure_callback
from pyjax._src.jax_alias import install_as_jax
from pyjax._src.ref import Ref, empty_ref, free_ref, freeze, new_ref
from pyjax._src import ref as _ref
from pyjax._src.numpy import array_methods as _array_methods
_array_methods.install()  # Array and Tracer operators and methods, before any use
from pyjax import dtypes, errors, lax, numpy, random, tree, tree_util  # noqa: E402
from pyjax import nn, scipy  # noqa: E402
from pyjax import debug, experimental  # noqa: E402
from pyjax import ref, typing  # noqa: E402
from pyjax import api_util, core, custom_derivatives, interpreters, stages  # noqa: E402

__version__ = "0.1.0"
# The JAX API version pyjax implements: what `jax.__version__` reads after
# install_as_jax() (the one place it is written).
__jax_version__ = "0.10.2"


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
    "Array", "Device", "Ref", "ShapeDtypeStruct", "api_util", "block_until_ready",
    "checkpoint", "checkpoint_policies", "closure_convert", "config", "core",
    "custom_derivatives", "custom_gradient", "custom_jvp", "custom_vjp", "debug",
    "default_backend", "device_count", "device_get", "device_put", "devices", "dtypes",
    "empty_ref", "ensure_compile_time_eval", "errors", "eval_shape", "experimental",
    "float0", "free_ref", "freeze", "grad", "hessian", "host_count", "host_id",
    "install_as_jax", "interpreters", "jacfwd", "jacobian", "jacrev", "jit", "jvp",
    "lax", "linear_transpose", "linearize", "local_device_count", "local_devices",
    "make_jaxpr", "named_call", "named_scope", "new_ref", "nn", "numpy",
    "process_count", "process_index", "pure_callback", "random", "ref", "remat",
    "scipy", "stages", "tree", "tree_util", "typeof", "typing", "value_and_grad", "vjp",
    "vmap",
]

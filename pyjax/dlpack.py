"""``jax.dlpack``: arrays from DLPack tensors (``from_dlpack``).

Only host (CPU) tensors are taken, through NumPy's DLPack; the value is copied into the
new array (JAX shares the buffer), so a producer's later writes do not reach it. An
array exports itself with ``__dlpack__`` (the host value, shared).
"""
import numpy as np

from pyjax._src import dtypes
from pyjax._src.api import device_put
from pyjax._src.array import DLDeviceType, asarray_value
from pyjax._src.sharding import Sharding

__all__ = ["from_dlpack", "is_supported_dtype"]

SUPPORTED_DTYPES = frozenset(np.dtype(d) for d in (
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
    dtypes.bfloat16, "float32", "float64", "complex64", "complex128", "bool"))


def is_supported_dtype(dtype) -> bool:
  """Can a DLPack tensor of ``dtype`` become an array?"""
  if dtype is None:
    raise TypeError(f"Expected a string or dtype-like object; got {dtype=}")
  return np.dtype(dtype) in SUPPORTED_DTYPES


def from_dlpack(external_array, device=None, copy=None):
  """An array with the value of ``external_array`` (an object with ``__dlpack__`` and
  ``__dlpack_device__`` on the host); on ``device`` when given."""
  if isinstance(device, Sharding):
    devs = device.device_set
    if len(devs) > 1:
      raise ValueError("from_dlpack can only unpack a dlpack tensor onto a singular "
                       f"device, but a Sharding with {len(devs)} devices was provided.")
  if not (hasattr(external_array, "__dlpack__")
          and hasattr(external_array, "__dlpack_device__")):
    raise TypeError("The array passed to from_dlpack must have __dlpack__ and "
                    "__dlpack_device__ methods.")
  dl_type, _ = external_array.__dlpack_device__()
  if dl_type not in (DLDeviceType.kDLCPU, DLDeviceType.kDLCUDAHost):
    if dl_type in (DLDeviceType.kDLCUDA, DLDeviceType.kDLROCM):
      raise NotImplementedError("pyjax.dlpack.from_dlpack takes host (CPU) tensors "
                                f"only; this one is on device type {dl_type}.")
    raise TypeError("Array passed to from_dlpack is on unsupported device type "
                    f"(DLDeviceType: {dl_type}, array: {external_array}")
  value = np.from_dlpack(external_array)
  value = np.array(value)  # a copy: the producer may write to its buffer
  value.flags.writeable = False
  arr = asarray_value(value)
  return arr if device is None else device_put(arr, device)

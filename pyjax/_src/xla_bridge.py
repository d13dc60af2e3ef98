"""`jax._src.xla_bridge`: the backends (one `devices.Client` per platform) and the
device and process queries by backend, under JAX's names. Libraries reach into it:
Chex's `set_n_cpu_devices` reads `_backends` to learn whether the CPU devices exist yet
(after that, `XLA_FLAGS` can no longer change their count).

It cannot register backend factories or PJRT plugins or make topologies; `tpu`, `rocm`
and `oneapi` are never present. Several processes: `distributed.initialize` (MPI).
"""
from __future__ import annotations

import warnings

from pyjax._src import devices as _devices
from pyjax._src.devices import Client

__all__ = [
    "Client", "backends", "backends_are_initialized", "canonicalize_platform",
    "default_backend", "device_count", "devices", "expand_platform_alias",
    "get_backend", "get_device_backend", "host_count", "host_id", "host_ids",
    "is_known_platform", "known_platforms", "local_device_count", "local_devices",
    "process_count", "process_index", "process_indices", "using_pjrt_c_api",
]

# The initialized backends by name: the same dict `devices` fills (a backend enters it
# when its devices are first asked for).
_backends: dict[str, Client] = _devices._backends

_platform_aliases = {"cuda": "gpu", "rocm": "gpu", "oneapi": "gpu"}
_alias_to_platforms = {"gpu": ["cuda", "rocm", "oneapi"]}


def known_platforms() -> set[str]:
  return {"cpu", "tpu", *_platform_aliases, *_platform_aliases.values()}


def is_known_platform(platform: str) -> bool:
  return platform in known_platforms()


def backends() -> dict[str, Client]:
  """Every backend present, initialized now: {"cpu": ..., "cuda": ...}."""
  allowed = _devices._platforms_allowed()
  gpus = _devices.gpu_devices()
  if "cpu" in allowed or not gpus:
    _devices._init_devices()
  return {k: _backends[k] for k in ("cpu", "cuda") if k in _backends}


def backends_are_initialized() -> bool:
  return len(_backends) != 0


def _clear_backends() -> None:
  """Forgets the backends (and the CPU devices): the next use makes them again, reading
  `jax_num_cpu_devices` / `XLA_FLAGS` anew. Arrays made before keep their devices."""
  _devices._clear_cpu_devices()


def canonicalize_platform(platform: str) -> str:
  """"gpu" as the GPU backend present ("cuda"); other names unchanged."""
  platforms = _alias_to_platforms.get(platform)
  if platforms is None:
    return platform
  b = backends()
  for p in platforms:
    if p in b:
      return p
  raise RuntimeError(f"Unknown backend: '{platform}' requested, but no platforms that "
                     f"are instances of {platform} are present. Platforms present are: "
                     + ",".join(b))


def expand_platform_alias(platform: str) -> list[str]:
  return list(_alias_to_platforms.get(platform, [platform]))


def get_backend(platform: None | str | Client = None) -> Client:
  """The backend of ``platform`` (a name, an alias such as "gpu", or a Client, which is
  returned as is); None: the default backend."""
  if platform is not None and not isinstance(platform, str):
    return platform
  bs = backends()
  if platform is None:
    return bs["cuda" if _devices.default_backend() == "gpu" else "cpu"]
  platform = canonicalize_platform(platform)
  backend = bs.get(platform)
  if backend is None:
    raise RuntimeError(f"Unknown backend {platform}. Available backends are {list(bs)}")
  return backend


def get_device_backend(device=None) -> Client:
  if device is not None:
    return get_backend("cuda" if device.platform == "gpu" else device.platform)
  return get_backend()


def default_backend() -> str:
  return get_backend(None).platform


def devices(backend: None | str | Client = None) -> list:
  return get_backend(backend).devices()


def device_count(backend: None | str | Client = None) -> int:
  return int(get_backend(backend).device_count())


def local_device_count(backend: None | str | Client = None) -> int:
  return int(get_backend(backend).local_device_count())


def local_devices(process_index: int | None = None,
                  backend: None | str | Client = None,
                  host_id: int | None = None) -> list:
  if host_id is not None:
    warnings.warn(
        "The argument to jax.local_devices has been renamed from `host_id` to "
        "`process_index`. This alias will eventually be removed; please update "
        "your code.")
    process_index = host_id
  if process_index is None:
    process_index = get_backend(backend).process_index()
  if not (0 <= process_index < process_count(backend)):
    raise ValueError(f"Unknown process_index {process_index}")
  return [d for d in devices(backend) if d.process_index == process_index]


def process_index(backend: None | str | Client = None) -> int:
  return get_backend(backend).process_index()


def process_count(backend: None | str | Client = None) -> int:
  return max((d.process_index for d in devices(backend)), default=0) + 1


def process_indices(backend: None | str | Client = None) -> list[int]:
  return list(range(process_count(backend)))


# JAX's deprecated aliases, with JAX's warning texts (as written there).
def host_id(backend: None | str | Client = None) -> int:
  warnings.warn("jax.process_index has been renamed to jax.process_index. This alias "
                "will eventually be removed; please update your code.")
  return process_index(backend)


def host_count(backend: None | str | Client = None) -> int:
  warnings.warn("jax.process_count has been renamed to jax.process_count. This alias "
                "will eventually be removed; please update your code.")
  return process_count(backend)


def host_ids(backend: None | str | Client = None) -> list[int]:
  warnings.warn("jax.process_indexs has been renamed to jax.process_indices. This alias "
                "will eventually be removed; please update your code.")
  return process_indices(backend)


def using_pjrt_c_api(backend=None) -> bool:
  return "PJRT C API" in get_backend(backend).platform_version

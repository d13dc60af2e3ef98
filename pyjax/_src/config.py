"""Global configuration: ``pyjax.config.update(name, value)`` as in JAX.

Options are plain attributes on the ``config`` object so that hot paths read
them with one attribute lookup (``config.jax_enable_x64``).
"""
from __future__ import annotations

import contextlib
import functools
import os


def _env_bool(name: str, default: bool) -> bool:
  v = os.environ.get(name.upper())
  if v is None:
    return default
  return v.strip().lower() in ("1", "true", "yes", "on", "t", "y")


def _env_int(name: str, default: int) -> int:
  v = os.environ.get(name.upper())
  try:
    return default if v is None else int(v)
  except ValueError:
    raise ValueError(f'Invalid value "{v}" for JAX flag {name}') from None


def _env_float(name: str, default: float) -> float:
  v = os.environ.get(name.upper())
  try:
    return default if v is None else float(v)
  except ValueError:
    raise ValueError(f'Invalid value "{v}" for JAX flag {name}') from None


class Config:
  """Holds every option; ``update`` validates names and notifies listeners."""

  def __init__(self):
    self._defaults = {}
    self._listeners = {}
    self._define("jax_enable_x64", _env_bool("jax_enable_x64", False))
    self._define("jax_num_cpu_devices", _env_int("jax_num_cpu_devices", -1))
    self._define("jax_platforms", os.environ.get("JAX_PLATFORMS", ""))
    self._define("jax_platform_name", os.environ.get("JAX_PLATFORM_NAME", ""))
    self._define("jax_default_device", None)
    self._define("jax_disable_jit", _env_bool("jax_disable_jit", False))
    self._define("jax_numpy_rank_promotion",
                 os.environ.get("JAX_NUMPY_RANK_PROMOTION", "allow"))
    self._define("jax_numpy_dtype_promotion",
                 os.environ.get("JAX_NUMPY_DTYPE_PROMOTION", "standard"))
    self._define("jax_default_matmul_precision", None)
    self._define("jax_threefry_partitionable",
                 _env_bool("jax_threefry_partitionable", True))
    self._define("jax_default_prng_impl", "threefry2x32")
    self._define("jax_debug_key_reuse", _env_bool("jax_debug_key_reuse", False))
    self._define("jax_compilation_cache_dir",
                 os.environ.get("JAX_COMPILATION_CACHE_DIR"))
    # Bytes the on-disk compilation cache may hold; the least recently used entries go
    # first. -1: no limit; 0: no disk cache (JAX's meanings; JAX's default is -1).
    self._define("jax_compilation_cache_max_size",
                 _env_int("jax_compilation_cache_max_size", 1 << 30))
    # False: no disk cache at all (JAX's meaning; on by default, as JAX's).
    self._define("jax_enable_compilation_cache",
                 _env_bool("jax_enable_compilation_cache", True))
    # Modules compiled faster than this are not written to the disk cache. JAX's default
    # is 1.0 s (XLA compiles small CPU programs in milliseconds); IREE takes 0.1-1 s for
    # most programs and a cache read ~1 ms, so pyjax's default, 0, caches every module.
    self._define("jax_persistent_cache_min_compile_time_secs",
                 _env_float("jax_persistent_cache_min_compile_time_secs", 0.0))
    # Modules of fewer bytes are not written to the disk cache (0 or -1: any size).
    self._define("jax_persistent_cache_min_entry_size_bytes",
                 _env_int("jax_persistent_cache_min_entry_size_bytes", 0))
    self._define("jax_debug_nans", _env_bool("jax_debug_nans", False))
    self._define("jax_debug_infs", _env_bool("jax_debug_infs", False))
    self._define("jax_softmax_custom_jvp", _env_bool("jax_softmax_custom_jvp", False))
    self._define("jax_log_compiles", _env_bool("jax_log_compiles", False))
    self._define("jax_traceback_filtering", "auto")
    # pyjax's own: "on" runs a jitted function's first calls eagerly while IREE compiles
    # it in the background (no compile stall); "off" waits for the compile, as JAX does
    # (for benchmarks and bit-reproducible first calls).
    self._define("pyjax_jit_tiering", os.environ.get("PYJAX_JIT_TIERING", "on"))
    # Accepted so JAX programs that set them run; pyjax does not act on them (yet):
    # leak checking (pyjax's leaked tracers always raise on use), extra internal checks,
    # cache-miss explanations, transfer guards (one host memory), the no-tracing and
    # no-execution guards, custom-PRNG upgrades, and the legacy-key policy.
    self._define("jax_check_tracer_leaks", _env_bool("jax_check_tracer_leaks", False))
    self._define("jax_enable_checks", _env_bool("jax_enable_checks", False))
    self._define("jax_explain_cache_misses", _env_bool("jax_explain_cache_misses", False))
    for kind in ("", "_host_to_device", "_device_to_device", "_device_to_host"):
      self._define(f"jax_transfer_guard{kind}", None)
    self._define("jax_no_tracing", False)
    self._define("jax_no_execution", False)
    self._define("jax_enable_custom_prng", False)
    self._define("jax_legacy_prng_key", "allow")
    self._define("jax_thread_guard", False)  # multi-process only: pyjax has one process
    self._define("jax_array_garbage_collection_guard", None)
    self._define("jax2tf_associative_scan_reductions", False)

  def _define(self, name, value):
    self._defaults[name] = value
    object.__setattr__(self, name, value)

  def update(self, name: str, value) -> None:
    if name not in self._defaults:
      raise AttributeError(f"Unrecognized config option: {name}")
    _check_option(name, value)
    object.__setattr__(self, name, value)
    for fn in self._listeners.get(name, ()):
      fn(value)

  def on_update(self, name: str, fn) -> None:
    """Registers ``fn(value)`` to be called whenever option ``name`` changes."""
    self._listeners.setdefault(name, []).append(fn)

  def read(self, name: str):
    return getattr(self, name)

  def __setattr__(self, name, value):
    if not name.startswith("_"):
      raise AttributeError(f"Use config.update({name!r}, value) to change options.")
    object.__setattr__(self, name, value)

  @property
  def values(self):
    return {k: getattr(self, k) for k in self._defaults}

  def __repr__(self):
    return f"Config({self.values})"


_MATMUL_PRECISIONS = [
    "default", "high", "highest", "bfloat16", "tensorfloat32", "float32",
    "ANY_F8_ANY_F8_F32", "ANY_F8_ANY_F8_F32_FAST_ACCUM", "ANY_F8_ANY_F8_ANY",
    "ANY_F8_ANY_F8_ANY_FAST_ACCUM", "F16_F16_F16", "F16_F16_F32", "BF16_BF16_BF16",
    "BF16_BF16_F32", "BF16_BF16_F32_X3", "BF16_BF16_F32_X6", "BF16_BF16_F32_X9",
    "TF32_TF32_F32", "TF32_TF32_F32_X3", "F32_F32_F32", "F64_F64_F64"]
_GUARD_LEVELS = ["allow", "log", "disallow", "log_explicit", "disallow_explicit"]
# name -> (allowed values, None allowed?) for JAX's "new enum value" errors.
_ENUMS = {
    "jax_numpy_rank_promotion": (["allow", "warn", "raise"], False),
    "jax_default_prng_impl": (["threefry2x32", "threefry4x32", "rbg", "unsafe_rbg",
                               "philox2x32", "philox4x32"], False),
    "jax_default_matmul_precision": (_MATMUL_PRECISIONS, True),
    "jax_array_garbage_collection_guard": (["allow", "log", "fatal"], True),
    "pyjax_jit_tiering": (["on", "off"], False),
    **{f"jax_transfer_guard{k}": (_GUARD_LEVELS, True)
       for k in ("", "_host_to_device", "_device_to_device", "_device_to_host")},
}
# name -> (allowed values, the name of JAX's enum class) for its "not a valid" errors.
_ENUM_CLASSES = {
    "jax_numpy_dtype_promotion": (["standard", "strict"], "NumpyDtypePromotion"),
    "jax_legacy_prng_key": (["allow", "warn", "error"], "LegacyPrngKeyState"),
}


# Numeric options: JAX's ValueError for a value of another type.
_INTS = frozenset(("jax_compilation_cache_max_size",
                   "jax_persistent_cache_min_entry_size_bytes", "jax_num_cpu_devices"))
_FLOATS = frozenset(("jax_persistent_cache_min_compile_time_secs",))


def _check_option(name, value):
  """JAX's ValueError for a value an enum or numeric option does not take."""
  if name in _INTS and value is not None and not isinstance(value, int):
    raise ValueError(f"new int config value must be None or of type int, got {value} of "
                     f"type {type(value)}")
  if name in _FLOATS and value is not None and not isinstance(value, (float, int)):
    raise ValueError(f"new float config value must be None or of type float, got {value} "
                     f"of type {type(value)}")
  if name in _ENUMS:
    values, none_ok = _ENUMS[name]
    if value in values or (none_ok and value is None):
      return
    prefix = "None or in" if none_ok else "in"
    raise ValueError(f"new enum value must be {prefix} {values}, got {value} of type "
                     f"{type(value)}.")
  if name in _ENUM_CLASSES:
    values, cls = _ENUM_CLASSES[name]
    if value not in values:
      raise ValueError(f"{value!r} is not a valid {cls}")


class _NoDefault:
  def __repr__(self):
    return "<no_default>"


no_default = _NoDefault()


class State:
  """One option as JAX exposes it at top level (``jax.debug_nans``): ``.value`` reads
  it, ``State(new)`` is a context manager (and decorator) that sets it. The setting is
  process-wide (JAX's is thread-local) and goes through ``config.update``."""

  def __init__(self, name, default_context_manager_value=no_default, doc=""):
    self._name = name
    self.__name__ = name[4:] if name.startswith("jax_") else name
    self._default_context_manager_value = default_context_manager_value
    self.__doc__ = f"Context manager for `{name}` config option.\n\n{doc}"

  name = property(lambda self: self._name)
  value = property(lambda self: getattr(config, self._name))

  def __bool__(self):
    raise TypeError("bool() not supported for instances of type 'State' (did you mean "
                    "to use 'State.value' instead?)")

  def __call__(self, new_val=no_default):
    return StateContextManager(self, new_val)

  def __repr__(self):
    return f"<pyjax State {self._name}={self.value!r}>"


class StateContextManager:
  """Sets a State's option on entry and restores the previous value on exit."""
  __slots__ = ("state", "new_val", "prev")

  def __init__(self, state, new_val):
    self.state = state
    if new_val is no_default:
      new_val = state._default_context_manager_value
      if new_val is no_default:
        raise TypeError(f"Context manager for {state.__name__} config option requires an "
                        "argument representing the new value for the config option.")
    _check_option(state._name, new_val)
    self.new_val = new_val

  def __enter__(self):
    self.prev = getattr(config, self.state._name)
    config.update(self.state._name, self.new_val)

  def __exit__(self, exc_type, exc_value, traceback):
    config.update(self.state._name, self.prev)

  def __call__(self, func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
      with StateContextManager(self.state, self.new_val):
        return func(*args, **kwargs)
    return wrapper


config = Config()


def _bool_state(name, doc=""):
  """A boolean option's State: ``State()`` with no value turns it on, as in JAX."""
  return State(name, True, doc)


enable_x64 = _bool_state("jax_enable_x64", doc="Enable 64-bit types to be used")
debug_nans = _bool_state("jax_debug_nans", doc="Raise on NaNs produced by operations.")
debug_infs = _bool_state("jax_debug_infs", doc="Raise on infs produced by operations.")
log_compiles = _bool_state("jax_log_compiles", doc="Log each compile of jit.")
default_matmul_precision = State("jax_default_matmul_precision")
numpy_rank_promotion = State("jax_numpy_rank_promotion")
numpy_dtype_promotion = State("jax_numpy_dtype_promotion")
default_device = State("jax_default_device")
default_prng_impl = State("jax_default_prng_impl")
threefry_partitionable = _bool_state("jax_threefry_partitionable")
debug_key_reuse = _bool_state("jax_debug_key_reuse")
softmax_custom_jvp = _bool_state("jax_softmax_custom_jvp")
check_tracer_leaks = _bool_state("jax_check_tracer_leaks", doc="Accepted; no effect.")
checking_leaks = functools.partial(check_tracer_leaks, True)
enable_checks = _bool_state("jax_enable_checks", doc="Accepted; no effect in pyjax.")
explain_cache_misses = _bool_state("jax_explain_cache_misses", doc="Accepted; no effect.")
transfer_guard_host_to_device = State("jax_transfer_guard_host_to_device")
transfer_guard_device_to_device = State("jax_transfer_guard_device_to_device")
transfer_guard_device_to_host = State("jax_transfer_guard_device_to_host")
no_tracing = _bool_state("jax_no_tracing", doc="Accepted; no effect in pyjax.")
no_execution = _bool_state("jax_no_execution", doc="Accepted; no effect in pyjax.")
enable_custom_prng = _bool_state("jax_enable_custom_prng")
legacy_prng_key = State("jax_legacy_prng_key")
thread_guard = _bool_state("jax_thread_guard", doc="Accepted; no effect (one process).")
array_garbage_collection_guard = State("jax_array_garbage_collection_guard",
                                       doc="Accepted; no effect in pyjax.")
jax2tf_associative_scan_reductions = _bool_state("jax2tf_associative_scan_reductions",
                                                 doc="Accepted; no effect in pyjax.")


@contextlib.contextmanager
def transfer_guard(new_val):
  """Sets all transfer guard levels (accepted; pyjax does not guard transfers)."""
  _check_option("jax_transfer_guard", new_val)
  with contextlib.ExitStack() as stack:
    for st in (transfer_guard_host_to_device, transfer_guard_device_to_device,
               transfer_guard_device_to_host):
      stack.enter_context(st(new_val))
    stack.enter_context(StateContextManager(_transfer_guard, new_val))
    yield


_transfer_guard = State("jax_transfer_guard")


def disable_jit(disable: bool = True):
  """Context manager under which ``jit`` runs its function eagerly."""
  return StateContextManager(_disable_jit, disable)


_disable_jit = State("jax_disable_jit")

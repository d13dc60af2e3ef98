"""Runs a pyjax deployment artifact (``pyjax.deploy.save``) with IREE's runtime alone.

This file imports nothing from pyjax, and nothing but the standard library, NumPy and
``iree.runtime`` (the ``iree-base-runtime`` wheel): copy it next to an artifact
(``pyjax.deploy.RUNTIME_FILE`` names it) and import it where neither pyjax nor IREE's
compiler is installed::

    import deploy_runtime
    predict = deploy_runtime.load("mlp.pyjax")
    logits = predict(params, images)  # NumPy arrays in, NumPy arrays out

The artifact is one file: ``MAGIC``, the format version (u32), the header's length
(u32), a SHA-256 of everything after it, the header (JSON: the function's name, target,
input and output shapes, dtypes and pytree structures, and where the payload's parts
lie, counted from the payload's start), then the payload: IREE's VM flatbuffer and the
constants the program takes as leading inputs, each 64-byte aligned. A truncated,
damaged or foreign file, or one of another format version, raises ``ArtifactError``.

What it cannot do: pytrees are rebuilt from tuples, lists, dicts (string or integer
keys), ``OrderedDict``s, namedtuples (a new class of the same name and fields) and
None; results are read-only NumPy arrays (copy to write); one call at a time per loaded
artifact; no symbolic (batch-polymorphic) shapes.
"""
from __future__ import annotations

import atexit
import collections
import hashlib
import json
import os
import platform
import struct
import threading

import numpy as np

__all__ = ["Artifact", "ArtifactError", "FORMAT_VERSION", "MAGIC", "load", "read"]

MAGIC = b"PYJAXDEP"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sII32s")  # magic, version, header length, SHA-256
ALIGN = 64
# CPU programs moving fewer bytes than this run on the calling thread (local-sync);
# larger ones on IREE's worker pool (local-task), as pyjax's jit runs them.
SMALL_PROGRAM_BYTES = 1 << 20
# local-task's worker stacks: the artifact's dispatches may keep up to 256 KiB of tiles
# on their stack (pyjax's CPU flags); IREE's default stack is 128 KiB.
WORKER_STACK_BYTES = 1 << 20


class ArtifactError(ValueError):
  """A file that is not a readable pyjax deployment artifact."""


def payload_start(header_bytes: int) -> int:
  """Where the payload begins (its parts' offsets count from there)."""
  n = _PREFIX.size + header_bytes
  return -(-n // ALIGN) * ALIGN


# ---------------------------------------------------------------- reading the file

def read(path) -> tuple[dict, memoryview]:
  """(header, the whole file's bytes) of the artifact at ``path``, checked."""
  with open(path, "rb") as f:
    blob = f.read()
  where = f"{os.fspath(path)!r}"
  if len(blob) < _PREFIX.size or blob[:len(MAGIC)] != MAGIC:
    raise ArtifactError(f"{where} is not a pyjax deployment artifact (it does not start "
                        f"with {MAGIC!r}); write one with pyjax.deploy.save.")
  _, version, n, digest = _PREFIX.unpack_from(blob)
  if version != FORMAT_VERSION:
    raise ArtifactError(f"{where} has artifact format version {version}; this loader "
                        f"reads version {FORMAT_VERSION}. Load it with the pyjax (or its "
                        "deploy_runtime.py) that saved it, or save it again.")
  if hashlib.sha256(memoryview(blob)[_PREFIX.size:]).digest() != digest:
    raise ArtifactError(f"{where} is damaged: its checksum does not match its contents "
                        "(a truncated or modified file). Copy or save it again.")
  try:
    header = json.loads(blob[_PREFIX.size:_PREFIX.size + n].decode("utf-8"))
    base = payload_start(n)
    for part in [header["vmfb"], *header["consts"]]:
      part["offset"] += base
      if part["offset"] + part["nbytes"] > len(blob):
        raise ArtifactError(f"{where} is damaged: a payload part lies outside the file.")
  except (UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
    if isinstance(e, ArtifactError):
      raise
    raise ArtifactError(f"{where} has an unreadable header: {e!r}") from None
  return header, memoryview(blob)


# ---------------------------------------------------------------- pytrees as JSON
# A structure is "*" (a leaf), None, {"tuple": [...]}, {"list": [...]},
# {"dict": [[key, child], ...]} (JAX's order: sorted keys), {"odict": [[key, child],
# ...]} (insertion order) or {"namedtuple": name, "fields": [...], "children": [...]}.

def _kind(spec):
  return "leaf" if spec == "*" else "None" if spec is None else next(iter(spec))


def _describe(spec) -> str:
  k = _kind(spec)
  if k == "leaf":
    return "an array"
  if k == "namedtuple":
    return f"a namedtuple {spec['namedtuple']}"
  return {"None": "None", "tuple": "a tuple", "list": "a list", "dict": "a dict",
          "odict": "an OrderedDict"}[k]


def _mismatch(path, x, spec, why=""):
  got = ("None" if x is None else f"a {type(x).__name__}")
  return ValueError(f"The invocation args and kwargs must have the same pytree structure "
                    f"as when the function was saved: {path} is {got} in the invocation "
                    f"and {_describe(spec)}{why} when saved.")


def flatten(spec, x, path: str, out: list) -> None:
  """Appends ``(path, leaf)`` for each leaf of ``x``, which must have structure
  ``spec`` (JAX's leaf order)."""
  k = _kind(spec)
  if k == "leaf":
    if x is None or isinstance(x, (tuple, list, dict)):
      raise _mismatch(path, x, spec)
    out.append((path, x))
  elif k == "None":
    if x is not None:
      raise _mismatch(path, x, spec)
  elif k in ("tuple", "list"):
    cls = tuple if k == "tuple" else list
    if type(x) is not cls:
      raise _mismatch(path, x, spec)
    kids = spec[k]
    if len(x) != len(kids):
      raise _mismatch(path, x, spec, f" of {len(kids)} elements (called with {len(x)})")
    for i, (c, s) in enumerate(zip(x, kids)):
      flatten(s, c, f"{path}[{i}]", out)
  elif k in ("dict", "odict"):
    if not isinstance(x, dict):
      raise _mismatch(path, x, spec)
    keys = [key for key, _ in spec[k]]
    if set(x) != set(keys):
      raise _mismatch(path, x, spec, f" with keys {sorted(keys, key=repr)} (called with "
                                     f"{sorted(x, key=repr)})")
    for key, s in spec[k]:
      flatten(s, x[key], f"{path}[{key!r}]", out)
  else:  # namedtuple
    if not isinstance(x, tuple) or list(getattr(x, "_fields", ())) != spec["fields"]:
      raise _mismatch(path, x, spec, f" with fields {spec['fields']}")
    for f, c, s in zip(spec["fields"], x, spec["children"]):
      flatten(s, c, f"{path}.{f}", out)


_namedtuples: dict = {}


def unflatten(spec, leaves):
  """The pytree of structure ``spec`` holding ``leaves`` (an iterator), in order."""
  k = _kind(spec)
  if k == "leaf":
    return next(leaves)
  if k == "None":
    return None
  if k == "tuple":
    return tuple(unflatten(s, leaves) for s in spec["tuple"])
  if k == "list":
    return [unflatten(s, leaves) for s in spec["list"]]
  if k == "dict":
    return {key: unflatten(s, leaves) for key, s in spec["dict"]}
  if k == "odict":
    return collections.OrderedDict((key, unflatten(s, leaves)) for key, s in spec["odict"])
  name, fields = spec["namedtuple"], tuple(spec["fields"])
  cls = _namedtuples.get((name, fields))
  if cls is None:
    cls = _namedtuples[(name, fields)] = collections.namedtuple(name, fields)
  return cls(*(unflatten(s, leaves) for s in spec["children"]))


# ---------------------------------------------------------------- IREE's runtime

_lock = threading.Lock()
_rt = None
_instance = None
_devices: dict = {}


def _runtime():
  global _rt, _instance
  if _rt is None:
    import iree.runtime as rt  # (here: reading a header needs no runtime)
    _instance = rt.VmInstance()
    _rt = rt
  return _rt


def _device(driver: str):
  d = _devices.get(driver)
  if d is None:
    with _lock:
      d = _devices.get(driver)
      if d is None:
        rt = _runtime()
        if driver == "local-task" and \
            "task_worker_stack_size" not in os.environ.get("IREE_PY_RUNTIME_FLAGS", ""):
          rt.flags.parse_flags(f"--task_worker_stack_size={WORKER_STACK_BYTES}")
        if driver not in rt.query_available_drivers():
          raise RuntimeError(f"IREE's runtime here has no {driver!r} driver (it has "
                             f"{sorted(rt.query_available_drivers())}).")
        try:
          d = rt.get_driver(driver).create_default_device()
        except Exception as e:
          raise RuntimeError(f"IREE's {driver!r} driver found no device: {e}") from None
        _devices[driver] = d
  return d


def _pin_at_exit():
  """IREE's objects must outlive what was made from them, which Python's teardown does
  not order: at exit the instance and devices are kept alive for good (as pyjax does)."""
  if _rt is None:
    return
  import ctypes
  for o in [_instance, *_devices.values()]:
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(o))
  off = getattr(getattr(_rt, "_binding", None), "disable_leak_checker", None)
  if off is not None:
    off()


atexit.register(_pin_at_exit)


def _element_types(rt):
  E = rt.HalElementType
  return {"bool": E.BOOL_8, "int8": E.SINT_8, "int16": E.SINT_16, "int32": E.SINT_32,
          "int64": E.SINT_64, "uint8": E.UINT_8, "uint16": E.UINT_16,
          "uint32": E.UINT_32, "uint64": E.UINT_64, "float16": E.FLOAT_16,
          "float32": E.FLOAT_32, "float64": E.FLOAT_64, "bfloat16": E.BFLOAT_16,
          "complex64": E.COMPLEX_64, "complex128": E.COMPLEX_128}


def _dtype(name: str) -> np.dtype:
  if name == "bfloat16":
    import ml_dtypes  # (only artifacts with bfloat16 values need it)
    return np.dtype(ml_dtypes.bfloat16)
  return np.dtype(name)


# 64-bit types that JAX reads as 32-bit ones while jax_enable_x64 is off.
_NARROW = {"float64": "float32", "int64": "int32", "uint64": "uint32",
           "complex128": "complex64"}
_SCALAR_KINDS = {bool: "b", int: "iu", float: "f", complex: "c"}


def _cpu_features() -> set | None:
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        k, _, v = line.partition(":")
        if k.strip() in ("flags", "Features"):
          return set(v.split())
  except OSError:
    pass
  return None


def _check_cpu(header, where):
  machine = header.get("machine")
  if machine and machine != platform.machine():
    raise RuntimeError(f"{where} was compiled for {machine} CPUs; this is a "
                       f"{platform.machine()} machine. Save it again with a target for "
                       "this machine.")
  need = header.get("cpu_features")
  have = _cpu_features()
  if need and have is not None and not set(need) <= have:
    missing = sorted(set(need) - have)
    raise RuntimeError(
        f"{where} was compiled for the CPU it was saved on (target='host'), and this CPU "
        f"lacks features it may use: {', '.join(missing[:12])}"
        f"{' ...' if len(missing) > 12 else ''}. Running it could die of an illegal "
        "instruction: save it with target='x86-64' (any x86-64 CPU) instead.")


class Artifact:
  """A loaded artifact: call it with arguments of the saved structure (NumPy arrays
  or values NumPy converts); it returns NumPy arrays in the saved output structure."""

  def __init__(self, header: dict, blob, driver: str | None = None, path=None):
    self.header = header
    where = repr(os.fspath(path)) if path is not None else "the artifact"
    self.fun_name = header["fun_name"]
    self.target = header["target"]
    self.in_avals = [(tuple(s), _dtype(d)) for s, d in header["in_avals"]]
    self.out_avals = [(tuple(s), _dtype(d)) for s, d in header["out_avals"]]
    self.in_tree, self.out_tree = header["in_tree"], header["out_tree"]
    self._x64 = header["x64"]
    if self.target == "cuda":
      driver = driver or "cuda"
    else:
      _check_cpu(header, where)
      if driver is None:  # (the constants are inputs too)
        consts = [(c["shape"], _dtype(c["dtype"])) for c in header["consts"]]
        nbytes = sum(int(np.prod(s)) * d.itemsize for s, d in
                     [*consts, *self.in_avals, *self.out_avals])
        driver = "local-sync" if nbytes < SMALL_PROGRAM_BYTES else "local-task"
    self.driver = driver
    rt = _runtime()
    dev = self._dev = _device(driver)
    self._E = _element_types(rt)
    self._rt = rt
    v = header["vmfb"]
    vmfb = blob[v["offset"]:v["offset"] + v["nbytes"]]
    try:
      module = rt.VmModule.copy_buffer(_instance, vmfb)
      self._context = rt.VmContext(_instance, [rt.create_hal_module(_instance, dev),
                                               module])
    except (RuntimeError, ValueError, IndexError) as e:
      from iree.runtime import version
      raise RuntimeError(
          f"IREE's runtime {version.VERSION} refused the module in {where}, compiled by "
          f"IREE {header.get('compiler', '(unknown)').split('-')[0]} for {driver!r}: {e}. "
          "Install the iree-base-runtime release of that compiler, or save the artifact "
          "again with this runtime's compiler.") from None
    self._fn = module.lookup_function(header["entry"])
    if self._fn is None:
      raise ArtifactError(f"{where} has no function {header['entry']!r}.")
    self._consts = []
    for c in header["consts"]:
      a = np.frombuffer(blob[c["offset"]:c["offset"] + c["nbytes"]], _dtype(c["dtype"]))
      self._consts.append(self._upload(a.reshape(c["shape"]), c["dtype"]))
    self._lock = threading.Lock()
    # The call path's constants: each input's (shape, dtype, dtype name), whether the
    # arguments are plain positional arrays (no pytree to walk), the allocator's call.
    self._ins = [(s, d, n) for (s, d), (_, n) in zip(self.in_avals, header["in_avals"])]
    self._outs = [(s, d, n) for (s, d), (_, n) in zip(self.out_avals,
                                                      header["out_avals"])]
    args_spec, kwargs_spec = self.in_tree["tuple"]
    self._flat = kwargs_spec == {"dict": []} and all(
        c == "*" for c in args_spec["tuple"])
    self._alloc = dev.allocator.allocate_buffer_copy
    self._mem, self._usage = rt.MemoryType.DEVICE_LOCAL, rt.BufferUsage.DEFAULT
    self._host_memory = driver in ("local-sync", "local-task")

  def __repr__(self):
    ins = ", ".join(f"{d.name}{list(s)}" for s, d in self.in_avals)
    return f"<pyjax.deploy.Artifact {self.fun_name}({ins}) target={self.target!r} " \
           f"driver={self.driver!r}>"

  def _upload(self, a: np.ndarray, dtype_name: str):
    if not a.flags.c_contiguous:
      a = np.asarray(a, order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
    if dtype_name == "bfloat16":
      a = a.view(np.uint16)
    rt = self._rt
    return self._dev.allocator.allocate_buffer_copy(
        memory_type=rt.MemoryType.DEVICE_LOCAL, allowed_usage=rt.BufferUsage.DEFAULT,
        device=self._dev, buffer=a, element_type=self._E[dtype_name])

  def _convert(self, path, x, shape, dtype):
    """``x`` as an array of ``dtype`` (JAX's conversions), checked against ``shape``."""
    if type(x) in _SCALAR_KINDS:  # a Python scalar: weakly typed, as jit traced it
      if dtype.kind not in _SCALAR_KINDS[type(x)]:
        raise ValueError(f"Dtype mismatch for {path}: expected {dtype.name} and called "
                         f"with a Python {type(x).__name__}")
      a = np.asarray(x, dtype)
    else:
      try:
        a = np.asarray(x)
      except Exception as e:
        raise TypeError(f"{path}: expected an array of {dtype.name}, got "
                        f"{type(x).__name__} ({e})") from None
      if a.dtype != dtype:
        if not self._x64 and _NARROW.get(a.dtype.name) == dtype.name:
          a = a.astype(dtype)  # as jit reads it with 64-bit types off
        elif a.dtype == object or a.dtype.kind in "USV":
          raise TypeError(f"{path}: expected an array of {dtype.name}, got "
                          f"{type(x).__name__} of dtype {a.dtype}")
        else:
          raise ValueError(f"Dtype mismatch for {path}: expected {dtype.name} and "
                           f"called with {a.dtype.name}")
    if a.shape != shape:
      if a.ndim != len(shape):
        raise ValueError(f"Rank mismatch for {path}: expected {shape} and called with "
                         f"{a.shape}")
      i = next(i for i, (p, q) in enumerate(zip(a.shape, shape)) if p != q)
      raise ValueError(f"Shape mismatch for {path}.shape[{i}] (expected same constant): "
                       f"expected {shape} and called with {a.shape}")
    return a

  def __call__(self, *args, **kwargs):
    ins = self._ins
    if self._flat and not kwargs and len(args) == len(ins):
      leaves = args
    else:
      pairs = []
      args_spec, kwargs_spec = self.in_tree["tuple"]
      if len(args) != len(args_spec["tuple"]):
        raise TypeError(f"{self.fun_name} was saved for {len(args_spec['tuple'])} "
                        f"positional arguments and called with {len(args)}.")
      flatten(args_spec, tuple(args), "args", pairs)
      flatten(kwargs_spec, kwargs, "kwargs", pairs)
      leaves = [x for _, x in pairs]
    rt, alloc, dev, E = self._rt, self._alloc, self._dev, self._E
    arg_list = rt.VmVariantList(len(self._consts) + len(leaves))
    for bv in self._consts:
      arg_list.push_ref(bv)
    for i, (x, (shape, dtype, name)) in enumerate(zip(leaves, ins)):
      if type(x) is not np.ndarray or x.dtype != dtype or x.shape != shape or \
          not x.flags.c_contiguous:
        x = self._convert(self._path(i, args, kwargs), x, shape, dtype)
        x = np.asarray(x, order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
      if name == "bfloat16":
        x = x.view(np.uint16)
      arg_list.push_ref(alloc(memory_type=self._mem, allowed_usage=self._usage,
                              device=dev, buffer=x, element_type=E[name]))
    ret = rt.VmVariantList(len(self._outs))
    with self._lock:
      self._context.invoke(self._fn, arg_list, ret)
    get, BV = ret.get_as_object, rt.HalBufferView
    outs = [self._host(get(i, BV), *o) for i, o in enumerate(self._outs)]
    if self.out_tree == "*":
      return outs[0]
    return unflatten(self.out_tree, iter(outs))

  def _path(self, i, args, kwargs) -> str:
    """The path of the ``i``-th input leaf in the call's arguments (for errors)."""
    if self._flat and not kwargs:
      return f"args[{i}]"
    pairs = []
    args_spec, kwargs_spec = self.in_tree["tuple"]
    flatten(args_spec, tuple(args), "args", pairs)
    flatten(kwargs_spec, kwargs, "kwargs", pairs)
    return pairs[i][0]

  def _host(self, bv, shape, dtype, name):
    if not all(shape):
      return np.empty(shape, dtype)
    raw = np.uint16 if name == "bfloat16" else dtype
    if self._host_memory:
      a = np.frombuffer(bv.map(), raw)  # (the mapping stays alive as the array's base)
    else:
      a = np.asarray(self._rt.DeviceArray(self._dev, bv, override_dtype=raw).to_host())
    if raw is not dtype:
      a = a.view(dtype)
    a = a.reshape(shape)
    a.flags.writeable = False
    return a


def load(path, driver: str | None = None) -> Artifact:
  """The artifact at ``path``, loaded and ready to call. ``driver``: IREE's driver to
  run it on (default: ``cuda`` for a CUDA artifact; for a CPU one ``local-sync`` for
  small programs, ``local-task``, IREE's worker pool, for larger ones)."""
  header, blob = read(path)
  return Artifact(header, blob, driver, path)

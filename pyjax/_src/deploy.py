"""``pyjax.deploy.save``: a compiled program as one file that IREE's runtime runs alone.

``save`` compiles a ``jit(f).lower(...)`` (``Lowered``), its ``.compile()``
(``Compiled``), or anything with ``mlir_module()``, ``in_avals``, ``out_avals``,
``in_tree`` and ``out_tree`` (``jax.export``'s ``Exported``) with the IREE flags jit
uses, for one target, and writes the module, the constants it takes as inputs and its
calling convention in the format ``deploy_runtime`` documents and reads. The host
target reuses jit's compilation cache (saving a function just jitted compiles nothing).

What it cannot do: programs calling back into Python (``jax.debug.print``,
``pure_callback``, ``io_callback``, ``jnp.linalg.eig``), programs with Refs, symbolic
shapes, and pytrees with nodes other than tuples, lists, dicts, ``OrderedDict``s,
namedtuples and None. A CUDA artifact is compiled for IREE's default GPU architecture
unless ``cuda_arch`` names one (e.g. ``"sm_80"``).
"""
from __future__ import annotations

import collections
import hashlib
import json
import os
import platform
import tempfile

import numpy as np

from pyjax._src import core, deploy_runtime
from pyjax._src.backends import iree
from pyjax._src.config import config
from pyjax._src.interpreters import lowering
from pyjax._src.version import __version__

__all__ = ["TARGETS", "save", "tree_to_json"]

TARGETS = ("host", "x86-64", "cuda")


def _target_flags(target: str, cuda_arch: str | None) -> tuple:
  if target == "host":
    return iree.CPU_FLAGS
  if target == "x86-64":  # any x86-64 CPU: LLVM's baseline (SSE2), no host features
    return tuple(f for f in iree.CPU_FLAGS if not f.startswith("--iree-llvmcpu-target-cpu=")
                 ) + ("--iree-llvmcpu-target-cpu=x86-64",
                      "--iree-llvmcpu-target-triple=x86_64-unknown-linux-gnu")
  if target == "cuda":
    return iree.CUDA_FLAGS + ((f"--iree-cuda-target={cuda_arch}",) if cuda_arch else ())
  raise ValueError(f"pyjax.deploy.save: target must be one of {list(TARGETS)}, got "
                   f"{target!r}.")


def tree_to_json(treedef, what: str):
  """``treedef`` in ``deploy_runtime``'s JSON form; other node types raise."""
  data = treedef.node_data()
  if data is None:
    return "*"
  typ, aux = data
  kids = [tree_to_json(c, what) for c in treedef.children()]
  if typ is type(None):
    return None
  if typ is tuple:
    return {"tuple": kids}
  if typ is list:
    return {"list": kids}
  if typ in (dict, collections.OrderedDict):
    for k in aux:
      if type(k) not in (str, int):
        raise ValueError(f"pyjax.deploy.save: the {what} have a dict key {k!r} of type "
                         f"{type(k).__name__}; an artifact keeps only str and int keys.")
    return {"dict" if typ is dict else "odict": [[k, c] for k, c in zip(aux, kids)]}
  if isinstance(typ, type) and issubclass(typ, tuple) and hasattr(typ, "_fields"):
    return {"namedtuple": typ.__name__, "fields": list(typ._fields), "children": kids}
  raise ValueError(
      f"pyjax.deploy.save: the {what} hold a {typ.__name__} node; an artifact rebuilds "
      "only tuples, lists, dicts, OrderedDicts, namedtuples and None without pyjax. "
      "Wrap the function so that it takes and returns those (e.g. a dict of arrays).")


def _aval_json(a, what: str):
  shape = tuple(a.shape)
  if not all(type(d) is int for d in shape):
    raise ValueError(f"pyjax.deploy.save: the {what} have a symbolic shape {shape}; an "
                     "artifact needs concrete shapes. Export for a fixed batch size.")
  return [list(shape), np.dtype(a.dtype).name]


def _program(obj):
  """(module text, hoisted constants, in avals, out avals, in tree, out tree, name)."""
  entry = getattr(obj, "_entry", None)
  if entry is not None and hasattr(entry, "closed"):  # jit's Lowered / Compiled
    if entry.has_refs:
      raise ValueError("pyjax.deploy.save: the function reads or writes Refs "
                       "(jax.ref); an artifact holds pure functions only.")
    closed = entry.closed
    dbg = closed.jaxpr.debug_info
    name = dbg.func_name if dbg is not None else "fn"
    text = lowering.lower_jaxpr(closed, name)
    consts = [np.asarray(c) for c in lowering.hoisted_consts(closed)]
    return (text, consts, closed.in_avals, closed.out_avals, entry.in_tree,
            entry.out_tree, name)
  if callable(getattr(obj, "mlir_module", None)) and hasattr(obj, "in_avals"):
    for a in obj.in_avals:  # (before asking for a module a symbolic export lacks)
      _aval_json(a, "arguments")
    kept = getattr(obj, "module_kept_var_idx", None)
    if kept is not None and tuple(kept) != tuple(range(len(obj.in_avals))):
      raise ValueError("pyjax.deploy.save: the exported module dropped unused "
                       "arguments (module_kept_var_idx); export with keep_unused=True.")
    text = obj.mlir_module()
    name = getattr(obj, "fun_name", None) or "fn"
    return text, [], obj.in_avals, obj.out_avals, obj.in_tree, obj.out_tree, name
  raise TypeError(
      f"pyjax.deploy.save: expected jit(f).lower(...), its .compile(), or a "
      f"jax.export.Exported, got {type(obj).__name__}.")


def _check_loads(vmfb: bytes, n_out: int) -> None:
  """Loads ``vmfb`` on this machine's CPU runtime: IREE refuses a module with a dispatch
  over its binding limit only when loading it."""
  iree.Executable(vmfb, "local-sync", n_out)


def _cpu_identity(target: str) -> dict:
  if target == "cuda":
    return {"machine": None, "cpu_features": None}
  if target == "x86-64":
    return {"machine": "x86_64", "cpu_features": None}
  return {"machine": platform.machine(),
          "cpu_features": sorted(deploy_runtime._cpu_features() or ())}


def save(obj, path, target: str = "host", *, cuda_arch: str | None = None) -> str:
  """Compiles ``obj`` for ``target`` and writes the artifact to ``path``; returns the
  path. ``target``: ``"host"`` (this machine's CPU and its features: fastest, refused
  by the loader on CPUs lacking them), ``"x86-64"`` (any x86-64 CPU) or ``"cuda"``
  (NVIDIA GPUs; compiles without one). Load it with ``pyjax.deploy.load`` or
  ``deploy_runtime.load``."""
  flags = _target_flags(target, cuda_arch)
  text, consts, in_avals, out_avals, in_tree, out_tree, name = _program(obj)
  if in_tree is None or out_tree is None:
    raise ValueError("pyjax.deploy.save: the object carries no pytree structure of its "
                     "arguments and results (in_tree / out_tree).")
  if getattr(text, "callbacks", ()) or f"@{lowering.HOST_MODULE}." in text:
    raise ValueError(
        f"pyjax.deploy.save: {name} calls back into Python (jax.debug.print, "
        "jax.debug.callback, pure_callback, io_callback, or an operation pyjax computes "
        "on the host such as jnp.linalg.eig); an artifact runs without Python. Remove "
        "the callbacks from the function you save.")
  header = {
      "format": "pyjax.deploy", "fun_name": name, "entry": "main", "target": target,
      "in_avals": [_aval_json(a, "arguments") for a in in_avals],
      "out_avals": [_aval_json(a, "results") for a in out_avals],
      "in_tree": tree_to_json(in_tree, "arguments"),
      "out_tree": tree_to_json(out_tree, "results"),
      "x64": bool(config.jax_enable_x64),
      "compiler": iree.compiler_version(), "pyjax": __version__,
      **_cpu_identity(target),
  }
  platform_ = "gpu" if target == "cuda" else "cpu"
  vmfb = iree.compile_module(str(text), platform_, base=flags)
  if target == "host" or (target == "x86-64" and platform.machine() == "x86_64"):
    try:
      _check_loads(vmfb, len(out_avals))
    except (IndexError, RuntimeError, ValueError) as e:
      if not iree.binding_limit_error(e):
        raise
      vmfb = iree.compile_module(str(text), platform_, bounded=True, base=flags)
  parts, offset = [], 0

  def place(data: bytes) -> dict:
    nonlocal offset
    offset = -(-offset // deploy_runtime.ALIGN) * deploy_runtime.ALIGN
    parts.append((offset, data))
    where = {"offset": offset, "nbytes": len(data)}
    offset += len(data)
    return where

  header["vmfb"] = place(bytes(vmfb))
  header["consts"] = []
  for c in consts:
    aval = core.get_aval(c)
    raw = np.ascontiguousarray(c)
    entry = place(raw.tobytes())
    entry.update(shape=list(aval.shape), dtype=np.dtype(aval.dtype).name)
    header["consts"].append(entry)
  head = json.dumps(header, separators=(",", ":")).encode()
  start = deploy_runtime.payload_start(len(head))
  body = bytearray(start - deploy_runtime._PREFIX.size + offset)
  body[:len(head)] = head
  base = start - deploy_runtime._PREFIX.size
  for off, data in parts:
    body[base + off:base + off + len(data)] = data
  prefix = deploy_runtime._PREFIX.pack(deploy_runtime.MAGIC, deploy_runtime.FORMAT_VERSION,
                                       len(head), hashlib.sha256(body).digest())
  path = os.fspath(path)
  d = os.path.dirname(os.path.abspath(path))
  fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-artifact-")
  try:
    with os.fdopen(fd, "wb") as f:
      f.write(prefix)
      f.write(body)
    os.chmod(tmp, 0o644)  # (mkstemp makes it private)
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.unlink(tmp)
    raise
  return path

"""`import jax` resolving to pyjax: the import hook behind `pyjax.install_as_jax()` and
`python -m pyjax`.

A `sys.meta_path` finder maps `jax[.rest]` to `pyjax[.rest]` and registers the same
module object under both names (`jax.numpy is pyjax.numpy`): the pyjax module is
imported once, as itself, and the `jax.*` entry is an alias of it, never a second copy.
Only the top level differs: `jax` is a thin module holding pyjax's attributes (copied at
install; names pyjax gains later are found through its `__getattr__`) with JAX's version,
so code that branches on `jax.__version__` sees the JAX API pyjax implements
(`pyjax.__jax_version__`) while `pyjax.__version__` stays our own. `jax.version`,
`jaxlib` and `jaxlib.version` are small version-only modules: pyjax has no jaxlib, and
any other `jaxlib.X` raises ModuleNotFoundError saying so.

A `jax.X` that pyjax lacks raises ModuleNotFoundError naming it as a pyjax gap. Aliased
modules get a module `__getattr__` (run only when normal lookup misses, so attribute
access is not slowed) that names a missing attribute the same way; `from jax.X import
name` gets an ImportError saying so (the hook reads the calling instruction).

It cannot: undo itself, alias into a process where the real jax is already imported
(an ImportError says so), or make `pyjax.X.__name__` read `jax.X`.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import opcode
import sys
import types

__all__ = ["install_as_jax"]

_IMPORT_FROM = opcode.opmap["IMPORT_FROM"]
_ROOTS = ("jax", "jaxlib")
_HOOK = "__pyjax_alias_getattr__"  # marks a module __getattr__ installed here
# Attributes of the pyjax package the thin `jax` module does not take.
_OWN = frozenset(("__name__", "__spec__", "__loader__", "__package__", "__path__",
                  "__file__", "__cached__", "__version__", "__builtins__",
                  "__getattr__", "__dir__", "__jax_version__", "install_as_jax"))


# The submodules `import jax` imports in JAX 0.10.2 (attributes of `jax` without an
# import of their own): here imported on first use, when pyjax has them.
JAX_SUBMODULES = {
    "api_util", "core", "custom_batching", "custom_derivatives", "debug", "distributed",
    "dlpack", "dtypes", "errors", "experimental", "export", "ffi", "image",
    "interpreters", "lax", "lib", "monitoring", "nn", "numpy", "ops", "profiler",
    "random", "ref", "scipy", "sharding", "stages", "tree", "tree_util", "typing",
}


def _gap_message(name: str) -> str:
  return (f"pyjax does not implement {name} (yet): a part of JAX that pyjax has not "
          "written; please report it with the program that needs it.")


def _version_info(version: str) -> tuple[int, ...]:
  return tuple(int(p) for p in version.split("."))


def _missing_attribute(module_name: str, jax_name: str, name: str):
  """The error for ``name`` missing from a module: an ImportError when the caller is a
  ``from ... import name`` statement, else an AttributeError."""
  try:
    frame = sys._getframe(2)
  except ValueError:
    frame = None
  where = f"{jax_name}.{name}"
  if (frame is not None and not name.startswith("__")
      and frame.f_code.co_code[frame.f_lasti] == _IMPORT_FROM):
    return ImportError(f"cannot import name {name!r} from {jax_name!r}: "
                       + _gap_message(where), name=jax_name)
  if name.startswith("__"):
    return AttributeError(f"module {module_name!r} has no attribute {name!r}")
  return AttributeError(f"module {module_name!r} has no attribute {name!r}: "
                        + _gap_message(where))


def _install_getattr(module: types.ModuleType, jax_name: str) -> None:
  """Gives ``module`` a ``__getattr__`` naming missing attributes as pyjax gaps (the
  module's own ``__getattr__``, if any, is asked first)."""
  d = module.__dict__
  prev = d.get("__getattr__")
  if prev is not None and getattr(prev, _HOOK, False):
    return
  module_name = module.__name__

  def __getattr__(name):
    if prev is not None:
      try:
        return prev(name)
      except AttributeError:
        pass
    raise _missing_attribute(module_name, jax_name, name)

  setattr(__getattr__, _HOOK, True)
  d["__getattr__"] = __getattr__


def _top_module(pyjax: types.ModuleType, loader) -> types.ModuleType:
  """The thin `jax` module: pyjax's attributes under JAX's version."""
  version = pyjax.__jax_version__
  jax = types.ModuleType("jax", pyjax.__doc__)
  d = jax.__dict__
  d.update((k, v) for k, v in vars(pyjax).items() if k not in _OWN)
  if "__all__" in d:
    d["__all__"] = [n for n in d["__all__"] if n not in _OWN]
  d.update(__version__=version, __version_info__=_version_info(version),
           __path__=[], __package__="jax", __file__=pyjax.__file__, __loader__=loader,
           __spec__=importlib.machinery.ModuleSpec("jax", loader, is_package=True))

  def __getattr__(name):
    if name not in _OWN:
      try:
        return getattr(pyjax, name)
      except AttributeError:
        pass
      if name in JAX_SUBMODULES:  # imported by `import jax` in JAX: import it now
        try:
          return importlib.import_module("jax." + name)
        except ModuleNotFoundError as e:
          if e.name != "jax." + name:
            raise
    raise _missing_attribute("jax", "jax", name)

  def __dir__():
    return sorted(set(d) | (set(dir(pyjax)) - _OWN))

  setattr(__getattr__, _HOOK, True)
  d["__getattr__"] = __getattr__
  d["__dir__"] = __dir__
  return jax


def _version_module(name: str, version: str, loader, **extra) -> types.ModuleType:
  mod = types.ModuleType(name, f"The JAX API version pyjax implements ({version}).")
  info = _version_info(version)
  mod.__dict__.update(
      _version=version, __version__=version, __version_info__=info,
      _release_version=version, _version_as_tuple=_version_info,
      __loader__=loader, __spec__=importlib.machinery.ModuleSpec(name, loader), **extra)
  return mod


class _Prebuilt(importlib.abc.Loader):
  """Loads the modules built at install (`jax`, `jax.version`, `jaxlib`, ...)."""

  def __init__(self):
    self.modules: dict[str, types.ModuleType] = {}

  def create_module(self, spec):
    return self.modules[spec.name]

  def exec_module(self, module):
    pass


class _Alias(importlib.abc.Loader):
  """Loads `jax.X` as the module `pyjax.X`, the same object, its own spec kept."""

  def create_module(self, spec):
    state = spec.loader_state
    module = importlib.import_module(state["target"])
    # The import system sets __spec__ of whatever create_module returns: keep pyjax's.
    state["spec"] = module.__spec__
    return module

  def exec_module(self, module):
    spec = module.__spec__
    module.__spec__ = spec.loader_state["spec"]
    _install_getattr(module, spec.name)


class JaxAliasFinder(importlib.abc.MetaPathFinder):
  """Finds `jax`, `jax.X` (as `pyjax.X`) and `jaxlib` for the import system."""

  def __init__(self, pyjax: types.ModuleType):
    self.prebuilt = _Prebuilt()
    self.alias = _Alias()
    version = pyjax.__jax_version__
    loader = self.prebuilt
    jax = _top_module(pyjax, loader)
    jax_version = _version_module(
        "jax.version", version, loader, _minimum_jaxlib_version=version,
        _minimum_jaxlib_version_info=_version_info(version))
    jax.version = jax_version
    jaxlib = _version_module("jaxlib", version, loader, __path__=[])
    jaxlib.__spec__ = importlib.machinery.ModuleSpec("jaxlib", loader, is_package=True)
    jaxlib.__doc__ = ("pyjax has no jaxlib (it runs on NumPy and IREE): this module "
                      "holds only the version of the JAX API pyjax implements.")
    jaxlib_version = _version_module("jaxlib.version", version, loader)
    jaxlib.version = jaxlib_version
    for mod in (jax, jax_version, jaxlib, jaxlib_version):
      loader.modules[mod.__name__] = mod

  def find_spec(self, fullname, path=None, target=None):
    root = fullname.partition(".")[0]
    if root not in _ROOTS:
      return None
    mod = self.prebuilt.modules.get(fullname)
    if mod is not None:
      return mod.__spec__
    if root == "jaxlib":
      raise ModuleNotFoundError(
          f"No module named {fullname!r}: pyjax has no jaxlib (it runs on NumPy and "
          "IREE, not XLA); only jaxlib.__version__ and jaxlib.version exist.",
          name=fullname)
    target_name = "pyjax" + fullname[3:]
    try:
      found = importlib.util.find_spec(target_name)
    except ModuleNotFoundError:
      found = None
    if found is None:
      raise ModuleNotFoundError(f"No module named {fullname!r}: "
                                + _gap_message(fullname), name=fullname)
    return importlib.machinery.ModuleSpec(
        fullname, self.alias, loader_state={"target": target_name},
        is_package=found.submodule_search_locations is not None)


def install_as_jax() -> None:
  """Makes `import jax` and every `import jax.X` resolve to pyjax's modules in this
  process (call it before importing code that imports jax). Idempotent.

  Raises ImportError if the real jax or jaxlib is already imported: the two cannot
  share the name."""
  if any(isinstance(f, JaxAliasFinder) for f in sys.meta_path):
    return
  for name, mod in sorted(sys.modules.items(), key=lambda kv: len(kv[0])):
    if name.partition(".")[0] in _ROOTS and mod is not None:
      where = getattr(mod, "__file__", None) or "an unknown location"
      raise ImportError(
          f"pyjax.install_as_jax(): the real {name!r} is already imported (from "
          f"{where}), so `import jax` cannot become pyjax in this process. Call "
          "pyjax.install_as_jax() before anything imports jax, or run the program "
          "with `python -m pyjax script.py`.", name=name)
  finder = JaxAliasFinder(sys.modules["pyjax"])
  sys.meta_path.insert(0, finder)
  for name in ("jax", "jax.version", "jaxlib", "jaxlib.version"):
    sys.modules[name] = finder.prebuilt.modules[name]
  # pyjax's modules imported so far are jax's now; later ones when imported as jax.X
  for name, mod in list(sys.modules.items()):
    if name.startswith("pyjax.") and mod is not None:
      jax_name = "jax" + name[5:]
      sys.modules.setdefault(jax_name, mod)
      _install_getattr(mod, jax_name)

"""Imports follow the layers of docs/architecture.md.

Reads every module under pyjax/ with ast (imports inside functions included) and
fails on an import that goes up the layers, on any import cycle among pyjax modules,
and on more than 10 function-level imports of pyjax modules or one without a
`# reason` comment on its line. It cannot see imports made through importlib or
__import__, nor names reached as attributes of a module imported elsewhere.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PKG = ROOT / "pyjax"

MAX_FUNCTION_LEVEL = 10

# (layer, name, module patterns). A pattern ending in ".*" covers a package's modules
# at any depth, the package itself included.
LAYERS = [
    (0, "base", ["pyjax._src.config", "pyjax._src.errors", "pyjax._src.dtypes",
                 "pyjax._src.tree_util", "pyjax._src.tree_keys",
                 "pyjax._src.tree_registry", "pyjax._src.util",
                 "pyjax._src.caches", "pyjax._src.traceback_util",
                 "pyjax._src.deprecations", "pyjax._src.linear_util",
                 "pyjax._src.source_info_util", "pyjax._src.monitoring",
                 "pyjax._src.version", "pyjax._src.profiler",
                 "pyjax._src.deploy_runtime", "pyjax._src.pretty_printer"]),
    (1, "core", ["pyjax._src.core"]),
    (2, "array", ["pyjax._src.devices", "pyjax._src.mesh", "pyjax._src.sharding",
               "pyjax._src.array", "pyjax._src.xla_bridge", "pyjax._src.literals",
               "pyjax._src.layout", "pyjax._src.distributed"]),
    (3, "interp", ["pyjax._src.interpreters.*", "pyjax._src.api_util"]),
    (4, "lax", ["pyjax._src.lax.*", "pyjax._src.custom_derivatives",
                "pyjax._src.custom_batching",
                "pyjax._src.ad_checkpoint", "pyjax._src.prng", "pyjax._src.callback",
                "pyjax._src.ref", "pyjax._src.state.*",
                "pyjax._src.debugging"]),
    (5, "dispatch", ["pyjax._src.backends.*", "pyjax._src.compiler", "pyjax._src.dispatch",
                     "pyjax._src.pjit", "pyjax._src.shard_map", "pyjax._src.pmap",
                     "pyjax._src.multiprocess", "pyjax._src.partition"]),
    (6, "libs", ["pyjax._src.numpy.*", "pyjax._src.random", "pyjax._src.scipy.*",
                 "pyjax._src.checkify",
                 "pyjax._src.ops.*",
                 "pyjax._src.nn.*", "pyjax._src.flatten_util"]),
    (7, "api", ["pyjax._src.api", "pyjax._src.public_test_util", "pyjax._src",
                "pyjax._src.multihost_utils",
                "pyjax._src.deploy",
                "pyjax._src.jax_alias", "pyjax._src.export.*",
                "pyjax"]),
]
# The public namespace modules (pyjax/numpy, pyjax/lax, pyjax/tree_util, ...): every
# module outside pyjax._src sits in the api layer.
PUBLIC_LAYER = 7


def layer_of(mod):
  best = None  # (specificity, layer)
  for layer, _, patterns in LAYERS:
    for pat in patterns:
      if pat.endswith(".*"):
        base = pat[:-2]
        hit = mod == base or mod.startswith(base + ".")
        spec = len(base)
      else:
        hit = mod == pat
        spec = len(pat) + 1
      if hit and (best is None or spec > best[0]):
        best = (spec, layer)
  if best is not None:
    return best[1]
  if not mod.startswith("pyjax._src.") and mod != "pyjax._src":
    return PUBLIC_LAYER
  return None


def module_name(path):
  rel = path.relative_to(ROOT).with_suffix("")
  parts = list(rel.parts)
  if parts[-1] == "__init__":
    parts.pop()
  return ".".join(parts)


def all_modules():
  return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _resolve(mod, is_pkg, level, target):
  """The absolute name `from <level dots><target> import ...` refers to."""
  if level == 0:
    return target
  base = mod.split(".") if is_pkg else mod.split(".")[:-1]
  if level > 1:
    base = base[:-(level - 1)]
  return ".".join(base + ([target] if target else []))


class _Imports(ast.NodeVisitor):
  """Collects (target module, line, function-level?) for every pyjax import."""

  def __init__(self, mod, is_pkg, modules):
    self.mod, self.is_pkg, self.modules = mod, is_pkg, modules
    self.depth = 0
    self.found = []

  def _func(self, node):
    self.depth += 1
    self.generic_visit(node)
    self.depth -= 1

  visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _func

  def _target(self, name):
    # The longest prefix of `name` that is a pyjax module.
    parts = name.split(".")
    while parts:
      cand = ".".join(parts)
      if cand in self.modules:
        return cand
      parts.pop()
    return None

  def _add(self, target, node):
    if target is not None and target != self.mod:
      self.found.append((target, node.lineno, self.depth > 0))

  def visit_Import(self, node):
    for alias in node.names:
      if alias.name == "pyjax" or alias.name.startswith("pyjax."):
        self._add(self._target(alias.name), node)

  def visit_ImportFrom(self, node):
    base = _resolve(self.mod, self.is_pkg, node.level, node.module or "")
    if not (base == "pyjax" or base.startswith("pyjax.")):
      return
    for alias in node.names:
      sub = f"{base}.{alias.name}"
      # `from pkg import submodule` imports the submodule (and the package).
      if sub in self.modules:
        self._add(sub, node)
      else:
        self._add(self._target(base), node)


def collect():
  """{module: [(target, line, function_level, source line)]} for all pyjax modules."""
  modules = all_modules()
  out = {}
  for mod, path in modules.items():
    src = path.read_text()
    lines = src.splitlines()
    v = _Imports(mod, path.name == "__init__.py", modules)
    v.visit(ast.parse(src, str(path)))
    out[mod] = [(t, ln, fl, lines[ln - 1]) for t, ln, fl in v.found]
  return out


def _fmt(mod, target, line, fl):
  where = "function-level" if fl else "top-level"
  return (f"  {mod} [{layer_of(mod)}] -> {target} [{layer_of(target)}]"
          f"  (line {line}, {where})")


def test_every_module_has_a_layer():
  unmapped = sorted(m for m in all_modules() if layer_of(m) is None)
  if unmapped:
    print("modules without a layer (add them to LAYERS):")
    print("\n".join(f"  {m}" for m in unmapped))
  assert not unmapped, unmapped


def test_no_import_goes_up_the_layers():
  bad = []
  for mod, imports in collect().items():
    lm = layer_of(mod)
    for target, line, fl, _ in imports:
      lt = layer_of(target)
      if lm is not None and lt is not None and lt > lm:
        bad.append(_fmt(mod, target, line, fl))
  if bad:
    print(f"{len(bad)} imports go up the layers:")
    print("\n".join(bad))
  assert not bad


def _cycles(graph):
  """The strongly connected components with more than one module (Tarjan)."""
  index, low, on, stack, out = {}, {}, set(), [], []
  counter = [0]

  def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(graph.get(v, ())):
      if w not in index:
        visit(w)
        low[v] = min(low[v], low[w])
      elif w in on:
        low[v] = min(low[v], index[w])
    if low[v] == index[v]:
      comp = []
      while True:
        w = stack.pop()
        on.discard(w)
        comp.append(w)
        if w == v:
          break
      if len(comp) > 1:
        out.append(sorted(comp))

  for v in sorted(graph):
    if v not in index:
      visit(v)
  return out


def _is_package_parent(mod, target):
  # Importing `pyjax.a.b` runs `pyjax.a/__init__.py` first; that edge from a
  # submodule to its own ancestors is how Python imports work, not a dependency.
  return mod.startswith(target + ".")


def test_no_import_cycles():
  imports = collect()
  graph = {m: {t for t, *_ in imps if not _is_package_parent(m, t)}
           for m, imps in imports.items()}
  cycles = _cycles(graph)
  if cycles:
    print(f"{len(cycles)} import cycles:")
    for comp in cycles:
      members = set(comp)
      print(f"  cycle of {len(comp)}: {', '.join(comp)}")
      for mod in comp:
        for target, line, fl, _ in imports[mod]:
          if target in members and not _is_package_parent(mod, target):
            print("  " + _fmt(mod, target, line, fl))
  assert not cycles


def test_function_level_imports_are_few_and_explained():
  found = [(mod, t, ln, src) for mod, imps in collect().items()
           for t, ln, fl, src in imps if fl]
  unexplained = [f for f in found if "# reason" not in f[3]]
  if found:
    print(f"{len(found)} function-level imports of pyjax modules "
          f"(at most {MAX_FUNCTION_LEVEL}):")
    for mod, t, ln, src in found:
      mark = "" if "# reason" in src else "   <- no `# reason` comment"
      print(f"  {mod}:{ln} -> {t}{mark}")
  assert len(found) <= MAX_FUNCTION_LEVEL and not unexplained


@pytest.mark.parametrize("mod,layer", [
    ("pyjax._src.core", 1), ("pyjax._src.lax.control_flow.loops", 4),
    ("pyjax._src.numpy.linalg", 6), ("pyjax.numpy", 7), ("pyjax", 7),
    ("pyjax._src.interpreters.ad", 3), ("pyjax._src.backends.iree", 5),
    ("pyjax._src.nowhere", None),
])
def test_layer_of(mod, layer):
  assert layer_of(mod) == layer


def test_cycle_finder():
  assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
  assert _cycles({"a": {"b"}, "b": set()}) == []

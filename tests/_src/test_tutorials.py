"""JAX's tutorials, cell by cell, on pyjax and on JAX: the same printed output.

The code cells of JAX's tutorials are data in ``tests/_src/tutorial_cells/*.cells`` (one
file a tutorial, cells in order after ``# -- cell`` lines; ``# -- cell skip: why`` is not
run, ``# -- cell xfail: why`` still differs, for the reason given). Each tutorial runs
in a fresh namespace as a notebook does: a cell's printed output, then the repr of its
last expression (unless it ends with ``;`` or is None), or ``Class: first line`` of its
exception. ``jax`` imports in the cells import ``pyjax`` on pyjax's side. ``%`` lines
(``%timeit x``) run their statement once. JAX's outputs come from the oracle's records
(``PYJAX_ORACLE=record`` after changing a cell).

``python tests/_src/test_tutorials.py`` prints the fraction of cells whose output is
JAX's and each difference.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import pathlib
import re
import sys

import pytest

import pyjax

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from oracle import Oracle  # noqa: E402

ORACLE = Oracle("test_tutorials")
CELLS_DIR = pathlib.Path(__file__).resolve().parent / "tutorial_cells"
# Options a tutorial may set, put back after it so that it does not leak into the suite.
_OPTIONS = ("jax_enable_x64", "jax_debug_nans", "jax_debug_infs", "jax_disable_jit",
            "jax_numpy_rank_promotion", "jax_default_matmul_precision",
            "jax_check_tracer_leaks", "jax_log_compiles")


def read_cells(path: pathlib.Path) -> list[tuple[str, str, str]]:
  """``(source, mark, reason)`` per cell: mark is "", "skip" or "xfail"."""
  cells: list[tuple[str, str, str]] = []
  lines: list[str] | None = None
  for line in path.read_text().splitlines():
    m = re.match(r"# -- cell(?: (skip|xfail): (.*))?$", line)
    if m:
      lines = []
      cells.append((lines, m.group(1) or "", m.group(2) or ""))
    elif lines is not None:
      lines.append(line)
  return [("\n".join(src).strip("\n") + "\n", mark, why) for src, mark, why in cells]


TUTORIALS = {p.stem: read_cells(p) for p in sorted(CELLS_DIR.glob("*.cells"))}
# Tutorials that compile a jitted program in most cells (IREE: ~0.5 s each, cold): marked
# slow, outside the default suite's 30 s (``-m slow`` runs them).
SLOW = {"thinking_in_jax", "debugging", "custom_derivatives", "jit_compilation"}


def _importing(package: str):
  """``__import__`` that reads ``jax`` as ``package``."""
  real = builtins.__import__

  def imp(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and package != "jax" and (name == "jax" or name.startswith("jax.")):
      name = package + name[3:]
    return real(name, globals, locals, fromlist, level)
  return imp


def _magic(line: str) -> str:
  m = re.match(r"(\s*)%+(?:timeit|time)\s+(?:-\S+\s+)*(.*)$", line)
  if m:
    return f"{m.group(1)}_ = {m.group(2)}"
  return "" if line.lstrip().startswith(("%", "!")) else line


def _normalize(text: str) -> str:
  text = re.sub(r"0x[0-9a-fA-F]{6,}", "0x?", text)
  return re.sub(r"JitTracer\(([^()]*)\)", r"JitTracer<\1>", text)


def run_cell(source: str, ns: dict) -> str:
  """The cell's output as a notebook shows it."""
  source = "\n".join(_magic(line) for line in source.splitlines())
  tree = ast.parse(source)
  last = None
  if tree.body and isinstance(tree.body[-1], ast.Expr):
    if not source.rstrip().endswith(";"):
      last = ast.Expression(tree.body.pop().value)
  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    try:
      exec(compile(tree, "<cell>", "exec"), ns)
      if last is not None:
        value = eval(compile(last, "<cell>", "eval"), ns)
        if value is not None:
          print(repr(value))
    except Exception as e:  # noqa: BLE001 (the exception is the cell's output)
      first = (str(e).strip().splitlines() or [""])[0]
      print(f"{type(e).__name__}: {first}")
  return _normalize(out.getvalue())


def run_tutorial(package: str, cells: tuple) -> list:
  """Outputs of ``cells`` (``(source, run)`` pairs; None where not run) on ``package``
  (``"jax"`` or ``"pyjax"``), in one fresh namespace."""
  mod = __import__(package)
  config = mod.config
  saved = {k: getattr(config, k) for k in _OPTIONS if hasattr(config, k)}
  ns = {"__name__": "__main__",
        "__builtins__": dict(vars(builtins), __import__=_importing(package))}
  try:
    return [run_cell(src, ns) if run else None for src, run in cells]
  finally:
    for k, v in saved.items():
      if getattr(config, k) != v:
        config.update(k, v)


def _jax_outputs(name: str, cells: tuple) -> list:
  return run_tutorial("jax", cells)


_OUTPUTS: dict = {}


def outputs(name: str) -> tuple[list, list]:
  """JAX's and pyjax's outputs of tutorial ``name``'s cells."""
  if name not in _OUTPUTS:
    cells = tuple((src, mark != "skip") for src, mark, _ in TUTORIALS[name])
    want = ORACLE.call(_jax_outputs, name, cells, oracle_test=name)
    got = run_tutorial("pyjax", cells)
    _OUTPUTS[name] = (want, got)
  return _OUTPUTS[name]


def _params():
  out = []
  for name, cells in TUTORIALS.items():
    for i, (_, mark, why) in enumerate(cells):
      marks = [pytest.mark.slow] if name in SLOW else []
      if mark == "skip":
        marks.append(pytest.mark.skip(reason=why))
      elif mark == "xfail":
        marks.append(pytest.mark.xfail(strict=True, reason=why))
      out.append(pytest.param(name, i, marks=marks, id=f"{name}-{i}"))
  return out


@pytest.mark.parametrize("name,index", _params())
def test_cell(name, index):
  want, got = outputs(name)
  assert got[index] == want[index]


def test_cells_file_format():
  assert len(TUTORIALS) >= 12 and SLOW <= set(TUTORIALS)
  for name, cells in TUTORIALS.items():
    assert cells, name
    for src, mark, why in cells:
      ast.parse("\n".join(_magic(line) for line in src.splitlines()))
      assert mark == "" or why.strip(), (name, src)


def test_run_cell():
  ns = {"__builtins__": dict(vars(builtins), __import__=_importing("pyjax"))}
  assert run_cell("import jax\nx = jax.numpy.arange(2)\nprint(1)\nx", ns) == (
      "1\nArray([0, 1], dtype=int32)\n")
  assert run_cell("x.shape;", ns) == ""
  assert run_cell("%timeit y = 3\ny", ns) == "3\n"
  assert run_cell("jax.jit(lambda x: x.reshape(x))(x)", ns).startswith("TypeError: ")
  assert ns["jax"] is pyjax


def main(names):
  same = total = 0
  for name, cells in TUTORIALS.items():
    if names and name not in names:
      continue
    want, got = outputs(name)
    for i, (w, g) in enumerate(zip(want, got)):
      if w is None:
        continue
      total += 1
      if w == g:
        same += 1
      else:
        print(f"--- {name}[{i}] {cells[i][1]} {cells[i][2]}\n{cells[i][0]}")
        print(f"JAX:\n{w}pyjax:\n{g}")
  print(f"{same}/{total} cells give JAX's output ({100 * same / max(total, 1):.1f}%)")


if __name__ == "__main__":
  main(sys.argv[1:])

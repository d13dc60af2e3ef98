"""`python -m pyjax script.py [args]` (or `-m module`, `-c code`): runs an unmodified JAX
program on pyjax.

Like `python -m cProfile`: `import jax` (and `jax.X`) resolve to pyjax
(`pyjax.install_as_jax()`), `sys.argv` is the program's, the script runs as `__main__`
(runpy), and the exit status and traceback are python's own. It cannot start an
interactive session or take python's own options (`-O`, `-W`, ...: give them to python).
"""
from __future__ import annotations

import builtins
import importlib.util
import os
import runpy
import sys
import types

import pyjax

__all__ = ["main"]

USAGE = """\
usage: python -m pyjax script.py [args ...]
       python -m pyjax -m module [args ...]
       python -m pyjax -c code [args ...]

Runs a JAX program on pyjax: `import jax` and every `import jax.X` resolve to pyjax."""


def _strip_runner_frames(tb):
  """The traceback from the first frame that is not this runner's or runpy's."""
  runner = {__file__, runpy.__file__, "<frozen runpy>"}
  while tb is not None and tb.tb_frame.f_code.co_filename in runner:
    tb = tb.tb_next
  return tb


def _module_found(name: str) -> bool:
  """Whether module ``name`` can be run; if not, python's message on stderr."""
  try:
    found = importlib.util.find_spec(name) is not None
  except (ImportError, ValueError) as e:
    print(f"{sys.executable}: Error while finding module specification for {name!r} "
          f"({type(e).__name__}: {e})", file=sys.stderr)
    return False
  if not found:
    print(f"{sys.executable}: No module named {name}", file=sys.stderr)
  return found


def _run_code(code: str) -> None:
  """Runs ``code`` as `python -c` does: in a fresh `__main__` module."""
  module = types.ModuleType("__main__")
  module.__builtins__ = builtins
  saved = sys.modules["__main__"]
  sys.modules["__main__"] = module
  try:
    exec(compile(code, "<string>", "exec"), module.__dict__)
  finally:
    sys.modules["__main__"] = saved


def main(argv: list[str] | None = None) -> int:
  """Runs the program ``argv`` names (``sys.argv[1:]`` by default); returns the exit
  status of a run that ends without an exception."""
  argv = list(sys.argv[1:] if argv is None else argv)
  if not argv or argv[0] in ("-h", "--help"):
    print(USAGE, file=sys.stdout if argv else sys.stderr)
    return 0 if argv else 2
  option = argv[0] if argv[0] in ("-m", "-c") else None
  if option and len(argv) < 2:
    what = "a module name" if option == "-m" else "the code to run"
    print(f"python -m pyjax: argument {option}: expected {what}\n" + USAGE,
          file=sys.stderr)
    return 2
  if argv[0].startswith("-") and not option:
    print(f"python -m pyjax: unknown option {argv[0]!r}\n" + USAGE, file=sys.stderr)
    return 2
  if not option and not os.path.exists(argv[0]):
    print(f"python -m pyjax: can't open file {os.path.abspath(argv[0])!r}: "
          "[Errno 2] No such file or directory", file=sys.stderr)
    return 2
  pyjax.install_as_jax()
  if argv[0] == "-m" and not _module_found(argv[1]):
    return 1
  try:
    if argv[0] == "-m":
      sys.argv = argv[1:]
      runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    elif argv[0] == "-c":
      sys.argv = ["-c", *argv[2:]]
      sys.path[0] = ""  # as `python -c`: the current folder
      _run_code(argv[1])
    else:
      script = argv[0]
      sys.argv = argv
      # As `python script.py`: the script's folder first on the path, __file__ absolute.
      sys.path[0] = os.path.dirname(os.path.abspath(script))
      runpy.run_path(os.path.abspath(script), run_name="__main__")
  except (SystemExit, KeyboardInterrupt):
    raise
  except BaseException as e:  # noqa: B036 -- printed as python prints it
    e = e.with_traceback(_strip_runner_frames(e.__traceback__))
    sys.excepthook(type(e), e, e.__traceback__)
    return 1
  return 0


if __name__ == "__main__":
  sys.exit(main())

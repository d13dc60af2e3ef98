"""Running unmodified JAX code: `python -m pyjax script.py` (pyjax/__main__.py) and
`pyjax.install_as_jax()` (pyjax/_src/jax_alias.py), in subprocesses: `import jax` and
`jax.X` are pyjax's modules (one object per name), JAX's version, argv, exit status and
traceback as python's own, and the errors for what pyjax lacks."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

import pyjax
from pyjax.__main__ import main

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Runs under `python -m pyjax`, prints one JSON object of facts.
PROBE = textwrap.dedent("""
    import json, os, sys
    import jax
    # pyjax's modules imported before the program are registered under jax names
    eager = [sys.modules.get("jax.random") is sys.modules["pyjax.random"],
             sys.modules.get("jax._src.api") is sys.modules["pyjax._src.api"]]
    import jax.numpy as jnp
    from jax import lax
    from jax.scipy import special
    import jax._src.core
    from jax._src import traceback_util, util, compiler
    from jax._src.tree_util import _registry
    import jax.version, jaxlib, jaxlib.version
    import pyjax, pyjax.numpy, pyjax.scipy.special, pyjax._src.core
    import pyjax.tree_util
    import jax.tree_util  # after pyjax.tree_util: the same object
    # modules pyjax's __init__ does not import: jax's name first, then pyjax's, and back
    import jax.example_libraries.stax as stax
    import pyjax.example_libraries.stax
    import pyjax.example_libraries.optimizers
    from jax.example_libraries import optimizers
    import jax.example_libraries.optimizers  # registers the jax name too

    # a submodule `import jax` gives in JAX, which pyjax imports on first use
    from pyjax._src import jax_alias
    jax_alias.JAX_SUBMODULES.update({"test_util", "no_such_submodule"})
    lazy = ["pyjax.test_util" in sys.modules,
            jax.test_util is sys.modules["pyjax.test_util"],
            sys.modules["jax.test_util"] is jax.test_util,
            hasattr(jax, "no_such_submodule")]

    def err(f):
      try:
        f()
      except BaseException as e:
        return [type(e).__name__, str(e), getattr(e, "name", None)]
      return None

    def imp(stmt):
      return lambda: exec(stmt, {})

    out = {
      "argv": sys.argv, "name": __name__, "file": __file__,
      "versions": [jax.__version__, list(jax.__version_info__), jax.version.__version__,
                   jax.version._version, jaxlib.__version__, jaxlib.version.__version__],
      "pyjax_version": pyjax.__version__, "jax_version": pyjax.__jax_version__,
      "same": [jnp is pyjax.numpy, jax.numpy is jnp, lax is pyjax.lax,
               special is pyjax.scipy.special, jax._src.core is pyjax._src.core,
               jax.tree_util is pyjax.tree_util, sys.modules["jax.numpy"] is jnp,
               sys.modules["jax._src.core"] is pyjax._src.core, jax.jit is pyjax.jit,
               jax.config is pyjax.config, stax is pyjax.example_libraries.stax,
               optimizers is pyjax.example_libraries.optimizers,
               sys.modules["jax.example_libraries.optimizers"] is optimizers],
      "specs": [jnp.__spec__.name, jnp.__name__, jax.__spec__.name, jax.__name__],
      "lazy": lazy, "eager": eager, "jax_is_pyjax": jax is pyjax,
      "has_install": hasattr(jax, "install_as_jax"),
      "internals": [callable(traceback_util.api_boundary),
                    util.safe_zip([1], [2]) == [(1, 2)], tuple in _registry,
                    callable(compiler.backend_compile_and_load)],
      "jit": jax.jit(lambda x: x * 2 + 1)(jnp.arange(3)).tolist(),
      "hasattr": [hasattr(jax, "no_such_name"), hasattr(jax.numpy, "no_such_name"),
                  hasattr(jax, "numpy")],
      "errors": {
        "module": err(imp("import jax.no_such_module")),
        "internal": err(imp("import jax._src.no_such_module")),
        "from_missing": err(imp("from jax.lax import no_such_name")),
        "from_top": err(imp("from jax import no_such_name")),
        "attribute": err(lambda: jax.lax.no_such_name),
        "top_attribute": err(lambda: jax.no_such_name),
        "top_submodule": err(lambda: jax.no_such_submodule),
        "eager_attribute": err(lambda: jax.random.no_such_name),
        "jaxlib": err(imp("import jaxlib.xla_client")),
      },
    }
    print(json.dumps(out))
""")


def _run(args, cwd=ROOT, **kw):
  return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                        timeout=120, **kw)


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
  script = tmp_path_factory.mktemp("alias") / "probe.py"
  script.write_text(PROBE)
  r = _run(["-m", "pyjax", str(script), "a", "--b"])
  assert r.returncode == 0, r.stderr
  return script, json.loads(r.stdout)


def test_script_runs_as_main_with_its_argv(probe):
  script, out = probe
  assert out["argv"] == [str(script), "a", "--b"]
  assert out["name"] == "__main__" and out["file"] == str(script)
  assert out["jit"] == [1, 3, 5]


def test_versions(probe):
  jax = pytest.importorskip("jax")
  import jaxlib
  _, out = probe
  v = jax.__version__
  assert out["versions"] == [v, list(jax.__version_info__), v, v, jaxlib.__version__,
                             jaxlib.__version__]
  assert out["pyjax_version"] == pyjax.__version__ != v
  assert out["jax_version"] == v


def test_one_module_object_per_name(probe):
  _, out = probe
  assert all(out["same"]), out["same"]
  assert out["specs"] == ["pyjax.numpy", "pyjax.numpy", "jax", "jax"]
  assert not out["jax_is_pyjax"] and not out["has_install"]
  assert out["internals"] == [True, True, True, True]
  assert out["hasattr"] == [False, False, True]
  assert out["lazy"] == [False, True, True, False]
  assert out["eager"] == [True, True]


def test_missing_modules_and_names_are_named_as_gaps(probe):
  jax = pytest.importorskip("jax")
  _, out = probe
  e = out["errors"]
  gap = "pyjax does not implement {} (yet)"
  # JAX's own words first, then the pyjax gap
  try:
    import jax.no_such_module  # noqa: F401
  except ModuleNotFoundError as theirs:
    assert e["module"][1].startswith(str(theirs))
  assert e["module"][0] == "ModuleNotFoundError" and e["module"][2] == "jax.no_such_module"
  assert gap.format("jax.no_such_module") in e["module"][1]
  assert e["internal"][0] == "ModuleNotFoundError"
  assert gap.format("jax._src.no_such_module") in e["internal"][1]
  assert e["from_missing"][0] == "ImportError"
  assert e["from_missing"][1].startswith("cannot import name 'no_such_name' from 'jax.lax'")
  assert gap.format("jax.lax.no_such_name") in e["from_missing"][1]
  assert e["from_top"][0] == "ImportError"
  assert gap.format("jax.no_such_name") in e["from_top"][1]
  assert e["attribute"][0] == "AttributeError"
  assert gap.format("jax.lax.no_such_name") in e["attribute"][1]
  try:
    jax.no_such_name
  except AttributeError as theirs:
    assert e["top_attribute"][1].startswith(str(theirs))
  assert e["eager_attribute"][0] == "AttributeError"
  assert gap.format("jax.random.no_such_name") in e["eager_attribute"][1]
  assert e["top_submodule"][0] == "AttributeError"
  assert gap.format("jax.no_such_submodule") in e["top_submodule"][1]
  assert e["jaxlib"][0] == "ModuleNotFoundError"
  assert "pyjax has no jaxlib" in e["jaxlib"][1]


FAIL = textwrap.dedent("""
    import sys
    def inner(n):
      if n == "exit":
        sys.exit(3)
      raise ValueError(f"boom {n}")
    def outer():
      try:
        inner(sys.argv[1])
      except KeyError:
        pass
    outer()
""")


def test_exit_status_and_traceback_are_python_s(tmp_path):
  script = tmp_path / "fail.py"
  script.write_text(FAIL)
  ours = _run(["-m", "pyjax", str(script), "raise"])
  theirs = _run([str(script), "raise"])
  assert ours.returncode == theirs.returncode == 1
  assert ours.stderr == theirs.stderr
  assert 'in inner\n    raise ValueError(f"boom {n}")' in ours.stderr


def test_run_module(tmp_path, monkeypatch, capsys):
  """`-m module`: run as __main__ with its argv, SystemExit passes through; a missing
  module gets python's message and status 1 (here in this process: the alias itself,
  which cannot be installed beside the real jax, is left out)."""
  monkeypatch.setattr(pyjax, "install_as_jax", lambda: None)
  monkeypatch.setattr(sys, "argv", list(sys.argv))
  monkeypatch.syspath_prepend(str(tmp_path))
  (tmp_path / "failmod_e1.py").write_text(FAIL)
  with pytest.raises(SystemExit) as info:
    main(["-m", "failmod_e1", "exit"])
  assert info.value.code == 3
  assert sys.argv[1:] == ["exit"]
  assert main(["-m", "no_such_module_e1"]) == 1
  assert capsys.readouterr().err == f"{sys.executable}: No module named no_such_module_e1\n"


def test_install_as_jax_in_a_program(tmp_path):
  """install_as_jax() after pyjax modules are imported: the same objects; twice is
  fine."""
  code = textwrap.dedent("""
      import pyjax.numpy as pnp
      import pyjax
      pyjax.install_as_jax()
      pyjax.install_as_jax()
      import jax.numpy as jnp
      import jax
      from jax.numpy import linalg
      import pyjax.numpy.linalg
      assert jnp is pnp and jax.numpy is pnp and linalg is pyjax.numpy.linalg
      assert jax.__version__ == pyjax.__jax_version__
      print(jnp.sum(jnp.arange(4.0)))
  """)
  r = _run(["-c", code])
  assert r.returncode == 0, r.stderr
  assert r.stdout == "6.0\n"


def test_install_as_jax_after_real_jax_raises():
  pytest.importorskip("jax")  # the real jax is imported in this process
  with pytest.raises(ImportError, match=r"the real 'jax' is already imported .* Call "
                     r"pyjax.install_as_jax\(\) before anything imports jax"):
    pyjax.install_as_jax()
  assert not any(type(f).__name__ == "JaxAliasFinder" for f in sys.meta_path)


def test_command_line_errors(capsys, tmp_path):
  assert main([]) == 2
  assert capsys.readouterr().err.startswith("usage: python -m pyjax script.py")
  assert main(["--help"]) == 0
  assert "python -m pyjax -m module" in capsys.readouterr().out
  assert main(["-m"]) == 2
  assert "expected a module name" in capsys.readouterr().err
  assert main(["-x"]) == 2
  assert "unknown option '-x'" in capsys.readouterr().err
  missing = tmp_path / "missing.py"
  assert main([str(missing)]) == 2
  assert capsys.readouterr().err == (f"python -m pyjax: can't open file '{missing}': "
                                     "[Errno 2] No such file or directory\n")


def test_run_code(monkeypatch, capsys):
  """`-c code`: run in a fresh __main__ with python's argv, path and traceback."""
  monkeypatch.setattr(pyjax, "install_as_jax", lambda: None)
  monkeypatch.setattr(sys, "argv", list(sys.argv))
  monkeypatch.setattr(sys, "path", list(sys.path))
  main_module = sys.modules["__main__"]
  code = "import sys; print(sys.argv, __name__, repr(sys.path[0])); x = 1"
  assert main(["-c", code, "a", "--b"]) == 0
  assert capsys.readouterr().out == "['-c', 'a', '--b'] __main__ ''\n"
  assert sys.modules["__main__"] is main_module and not hasattr(main_module, "x")
  assert main(["-c", "1/0"]) == 1
  assert capsys.readouterr().err == ('Traceback (most recent call last):\n'
                                     '  File "<string>", line 1, in <module>\n'
                                     'ZeroDivisionError: division by zero\n')
  assert main(["-c"]) == 2
  assert "argument -c: expected the code to run" in capsys.readouterr().err

"""Optax, Flax (linen, nnx), Equinox and Chex programs give JAX's numbers on pyjax.

Each program in ``programs/`` is plain JAX code. It runs twice, in subprocesses: under
real JAX (``python prog.py``) and under pyjax (``python -m pyjax prog.py``: ``import
jax`` resolves to pyjax inside the libraries too). JAX's run is recorded by the oracle
(``tests/oracle.py``), keyed by the program's and ``report.py``'s text and the
libraries' versions: it runs again only when one of those changed. Their printed lines
(``report.py``) must agree: ``exact`` lines character for character (data, initial weights, shapes,
error messages), ``close`` lines within ``RTOL``/``ATOL`` (losses and parameters after
jitted training steps: XLA and IREE round float32 sums differently).
"""
import concurrent.futures
import hashlib
import importlib.metadata
import importlib.util
import math
import os
import subprocess
import sys

import pytest

from oracle import Oracle

ORACLE = Oracle("test_ecosystem")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")
LIBRARIES = {"optax_prog": ["optax"], "flax_linen_prog": ["flax", "optax", "sklearn"],
             "flax_nnx_prog": ["flax", "optax"], "equinox_prog": ["equinox", "optax"],
             "chex_prog": ["chex"]}
DISTRIBUTIONS = {"sklearn": "scikit-learn"}  # (import name -> distribution name)
RTOL, ATOL = 1e-4, 1e-5
TIMEOUT = 300
# Lines known to differ from JAX, by program and line name, with the reason. Each must
# still differ (strict): when the gap closes, the test fails until the entry goes.
KNOWN = {
    "flax_nnx_prog": {
        "init['dropout']['rngs']['key']":
            "pyjax's typed key arrays are pytree nodes over their uint32 data (JAX's "
            "are leaves), so tree paths and leaves of key-holding states differ",
    },
}


def _run(args):
  env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=ROOT)
  proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=TIMEOUT)
  return proc.returncode, proc.stdout, proc.stderr[-3000:]


def _run_program(name):
  return _run([os.path.join(PROGRAMS, name + ".py")])


def _run_jax(name):
  """The program's run under real JAX, from the oracle (run now if not recorded)."""
  texts = []
  for f in (name + ".py", "report.py"):
    with open(os.path.join(PROGRAMS, f), "rb") as fh:
      texts.append(hashlib.sha1(fh.read()).hexdigest())
  versions = [importlib.metadata.version(DISTRIBUTIONS.get(lib, lib))
              for lib in LIBRARIES[name]]
  return ORACLE.call(_run_program, name, oracle_test=name, oracle_tag=(texts, versions))


@pytest.fixture(scope="module")
def outputs():
  """Every program under JAX and under pyjax, two processes at a time (two cores),
  started once for the module: ``{(name, 'jax' | 'pyjax'): (rc, stdout, stderr)}``."""
  jobs = {}
  for name, libs in LIBRARIES.items():
    if any(importlib.util.find_spec(lib) is None for lib in libs):
      continue  # its test skips
    path = os.path.join(PROGRAMS, name + ".py")
    jobs[name, "jax"] = (_run_jax, name)
    jobs[name, "pyjax"] = (_run, ["-m", "pyjax", path])
  with concurrent.futures.ThreadPoolExecutor(2) as pool:
    futures = {k: pool.submit(*v) for k, v in jobs.items()}
    return {k: f.result() for k, f in futures.items()}


def _close(a, b):
  return a == b or math.isclose(float(a), float(b), rel_tol=RTOL, abs_tol=ATOL)


def _same_value(a, b):
  """Tokens of a ``close`` line: numbers, or 'dtype[shape]:sum:sum_of_squares'."""
  if ":" in a or ":" in b:
    ha, *va = a.split(":")
    hb, *vb = b.split(":")
    return ha == hb and len(va) == len(vb) and all(map(_close, va, vb))
  try:
    return _close(a, b)
  except ValueError:
    return a == b


def compare(expected, got, known=()):
  """The lines of ``got`` that differ from ``expected`` (JAX's), with both texts, and
  the names in ``known`` whose lines matched (known differences that went away)."""
  exp_lines, got_lines = expected.splitlines(), got.splitlines()
  bad, known_left = [], set(known)
  for i in range(max(len(exp_lines), len(got_lines))):
    e = exp_lines[i] if i < len(exp_lines) else "<missing>"
    g = got_lines[i] if i < len(got_lines) else "<missing>"
    et, gt = e.split(" "), g.split(" ")
    if et[0] == gt[0] == "close" and len(et) == len(gt) and et[1] == gt[1]:
      ok = all(map(_same_value, et[2:], gt[2:]))
    else:
      ok = e == g
    if len(et) > 1 and et[1] in known:
      if not ok:
        known_left.discard(et[1])
      continue
    if not ok:
      bad.append(f"JAX:   {e}\npyjax: {g}")
  return bad, sorted(known_left)


@pytest.mark.parametrize("name", list(LIBRARIES))
def test_program_matches_jax(outputs, name):
  for lib in LIBRARIES[name]:  # (not imported here: the programs import them)
    if importlib.util.find_spec(lib) is None:
      pytest.skip(f"needs {lib}")
  rc, jax_out, jax_err = outputs[name, "jax"]
  assert rc == 0, f"{name} failed under JAX:\n{jax_err[-3000:]}"
  assert jax_out.count("\n") > 5
  rc, out, err = outputs[name, "pyjax"]
  assert rc == 0, f"{name} failed under pyjax:\n{out[-1500:]}\n{err[-3000:]}"
  bad, fixed = compare(jax_out, out, KNOWN.get(name, {}))
  assert not bad, f"{name}: {len(bad)} lines differ from JAX:\n" + "\n".join(bad[:10])
  assert not fixed, f"{name}: known differences now match; remove them from KNOWN: {fixed}"


def test_compare_catches_differences():
  base = "exact w float32[2]:1.0:0.5\nclose loss 1.0 float32[3]:2.0:4.0\n"
  n_bad = lambda got, known=(): len(compare(base, got, known)[0])
  assert compare(base, base) == ([], [])
  assert n_bad(base.replace("1.0 ", "1.00001 ")) == 0  # within RTOL
  assert n_bad(base.replace("1.0 ", "1.001 ")) == 1
  assert n_bad(base.replace("4.0", "4.01")) == 1
  assert n_bad(base.replace("0.5", "0.50000001")) == 1  # exact line
  assert n_bad(base.replace("[3]", "[4]")) == 1
  assert n_bad(base.splitlines()[0]) == 1  # a missing line
  # a known difference is excused while it differs, and reported once it matches
  assert compare(base, base.replace("0.5", "0.6"), ["w"]) == ([], [])
  assert compare(base, base, ["w"]) == ([], ["w"])

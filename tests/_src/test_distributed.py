"""Multi-process runs over MPI: `mpirun -n 2` runs the programs in mpi_programs/ and the
data-parallel example (issue: collectives across processes vs NumPy, the example's final
loss vs the one-process run, a failing process). Skipped, with the reason, where mpi4py
or mpirun is missing."""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROGS = pathlib.Path(__file__).resolve().parent / "mpi_programs"


def _mpirun():
  pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install 'pyjax[mpi]')")
  exe = shutil.which("mpirun", path=os.path.dirname(sys.executable)) or shutil.which("mpirun")
  if exe is None:
    pytest.skip("no mpirun on PATH or beside the Python executable")
  return exe


def _env():
  env = dict(os.environ)
  env.pop("XLA_FLAGS", None)
  env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
  return env


def run(args, n=2, timeout=300):
  cmd = [_mpirun(), "-n", str(n), sys.executable, *args] if n else [sys.executable, *args]
  t = time.monotonic()
  p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env(),
                     cwd=ROOT)
  return p, time.monotonic() - t


def test_collectives_across_two_processes():
  p, _ = run([str(PROGS / "collectives.py")])
  assert p.returncode == 0 and "DONE" in p.stdout, p.stdout[-3000:] + p.stderr[-3000:]
  oks = [l for l in p.stdout.splitlines() if l.startswith("OK ")]
  assert len(oks) == 33, p.stdout


def test_data_parallel_example_matches_one_process():
  ex = str(ROOT / "examples" / "mpi_data_parallel.py")
  one, _ = run([ex], n=0)
  two, _ = run([ex])
  assert one.returncode == 0, one.stderr[-3000:]
  assert two.returncode == 0, two.stdout[-3000:] + two.stderr[-3000:]
  assert "processes 2, devices 2" in two.stdout

  def final(out):
    return float(re.search(r"final loss ([0-9.]+)", out).group(1))
  assert final(two.stdout) == pytest.approx(final(one.stdout), rel=1e-5)


def test_a_failing_process_stops_the_others():
  p, dt = run([str(PROGS / "fault.py")], timeout=120)
  assert p.returncode != 0
  out = p.stdout + p.stderr
  assert "CAUGHT JaxRuntimeError" in out, out[-3000:]
  assert "process 1 failed (ValueError: boom in process 1)" in out, out[-3000:]
  assert dt < 60, dt


def test_initialize_errors_without_mpirun():
  pytest.importorskip("mpi4py")
  p, _ = run([str(PROGS / "init_errors.py")], n=0, timeout=120)
  assert p.returncode == 0 and "DONE" in p.stdout, p.stdout + p.stderr[-3000:]


def test_a_process_that_exits_stops_the_others():
  p, dt = run([str(PROGS / "early_exit.py")], timeout=120)
  assert "CAUGHT JaxRuntimeError" in p.stdout and "process 1 failed (it exited)" in \
      p.stdout, p.stdout[-3000:] + p.stderr[-3000:]
  assert dt < 60, dt

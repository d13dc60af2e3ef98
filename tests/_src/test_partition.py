"""partition.partition (jit across processes, GSPMD's common cases) checked in one
process with 4 host devices: tests/_src/partition_cases.py runs every case partitioned
as a shard_map against the function itself, and checks that the cases GSPMD runs
without moving data partition without an all_gather."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_partitioned_cases_match():
  env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
  env.pop("JAX_NUM_CPU_DEVICES", None)
  p = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "_src",
                                                   "partition_cases.py")],
                     capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
  assert p.returncode == 0 and "ALL OK" in p.stdout, p.stdout[-4000:] + p.stderr[-4000:]
  assert p.stdout.count("OK ") >= 21

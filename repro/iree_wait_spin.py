"""IREE (3.13) runtime: a blocking wait spins on the calling thread after its wake-up.

``iree_async_semaphore_multi_wait`` (what a fence wait and a synchronous invoke on
local-task run) registers a timepoint whose callback, on the worker that signals the
semaphore, posts the waiter's notification and only then stores ``completed = 1``. The
woken waiter cancels the timepoint, finds it dispatched, and spins (``pause``) until
``completed``. Woken on the signalling worker's core, the waiter preempts that worker
(the kernel favours a thread that slept) and spins while the worker waits for a core.
On a 2-core machine ``x * x + x * 2`` on 2000x2000 float32 spent a third of its calls in
that loop (perf: ``_runtime`` 0x246810-0x24681e). Waiting under SCHED_BATCH (no wake-up
preemption) avoids it. This script times the same call both ways, IREE alone (no pyjax):

  python repro/iree_wait_spin.py

and prints the median wall and process CPU time per call for each policy. 2026-12-06,
the 2-core VM: SCHED_OTHER 1.06-1.23 ms wall, 1.71-2.17 ms CPU; SCHED_BATCH 0.73 ms
wall, 1.22-1.35 ms CPU.
"""
import ctypes
import os
import statistics
import time

import numpy as np
from iree import compiler, runtime as rt

MLIR = """
func.func @main(%x: tensor<2000x2000xf32>) -> tensor<2000x2000xf32> {
  %two = stablehlo.constant dense<2.0> : tensor<2000x2000xf32>
  %0 = stablehlo.multiply %x, %x : tensor<2000x2000xf32>
  %1 = stablehlo.multiply %x, %two : tensor<2000x2000xf32>
  %2 = stablehlo.add %0, %1 : tensor<2000x2000xf32>
  return %2 : tensor<2000x2000xf32>
}
"""


def main():
  vmfb = compiler.compile_str(
      MLIR, input_type="stablehlo",
      extra_args=["--iree-hal-target-device=local",
                  "--iree-hal-local-target-device-backends=llvm-cpu",
                  "--iree-llvmcpu-target-cpu=host"])
  # pyjax's runtime set-up: three unpinned workers on 2 cores, and glibc keeping freed
  # blocks (else every 16 MB result page-faults afresh and hides the effect).
  rt.flags.parse_flags("--task_topology_group_count=3")
  mallopt = ctypes.CDLL(None).mallopt
  mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
  mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
  config = rt.Config("local-task")
  ctx = rt.SystemContext(config=config)
  ctx.add_vm_module(rt.VmModule.copy_buffer(ctx.instance, vmfb))
  f = ctx.modules.module["main"]
  x = rt.asdevicearray(config.device, np.ones((2000, 2000), np.float32))
  f(x)
  for policy in ("SCHED_OTHER", "SCHED_BATCH") * 2:
    os.sched_setscheduler(0, getattr(os, policy), os.sched_param(0))
    wall, cpu = [], []
    for _ in range(300):
      t, c = time.perf_counter(), time.process_time()
      f(x)
      wall.append(time.perf_counter() - t)
      cpu.append(time.process_time() - c)
    print(f"{policy}: wall {statistics.median(wall) * 1e3:.3f} ms, "
          f"CPU {statistics.median(cpu) * 1e3:.3f} ms per call")
  os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


if __name__ == "__main__":
  main()

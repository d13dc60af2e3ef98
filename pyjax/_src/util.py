"""Small helpers below core: the host memory an array may take."""
from __future__ import annotations

import os

from pyjax._src.errors import out_of_memory

_limit: int | None = None


def host_memory_limit() -> int:
  """Bytes of host memory this process may get: physical memory plus swap, or the
  cgroup's limit when lower (read once)."""
  global _limit
  if _limit is None:
    try:
      total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
      total = 1 << 62  # unknown: no limit
    try:
      with open("/proc/meminfo") as f:
        for line in f:
          if line.startswith("SwapTotal:"):
            total += int(line.split()[1]) * 1024
    except (OSError, ValueError):
      pass
    try:
      with open("/sys/fs/cgroup/memory.max") as f:
        cg = f.read().strip()
      if cg.isdigit():
        total = min(total, int(cg))
    except OSError:
      pass
    _limit = total
  return _limit


def check_allocation(nbytes: int) -> None:
  """Raises JAX's out-of-memory error (RESOURCE_EXHAUSTED) for an array of ``nbytes``
  that cannot fit in host memory. NumPy makes broadcasts as views and Linux maps pages
  lazily, so such an array would otherwise appear at once and fail (or crawl) later."""
  if nbytes > host_memory_limit():
    raise out_of_memory(nbytes)

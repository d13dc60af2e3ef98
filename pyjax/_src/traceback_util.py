"""`jax._src.traceback_util`: the names libraries use to mark their frames (Equinox's
and Flax's `api_boundary` / `register_exclusion`).

pyjax does not filter tracebacks (`jax_traceback_filtering` is accepted and ignored):
`api_boundary` returns its function unchanged and an error shows every frame, pyjax's
and the libraries' own. `register_exclusion` records paths, which `include_frame` and
`filter_traceback` honour for code that filters by hand.
"""
from __future__ import annotations

import os
import traceback
import types

__all__ = ["SimplifiedTraceback", "UnfilteredStackTrace", "api_boundary",
           "filter_traceback", "format_exception_only", "include_filename",
           "include_frame", "register_exclusion"]

_exclude_paths: list[str] = []


def register_exclusion(path: str) -> None:
  """Marks files under ``path`` as library-internal (for ``include_frame``)."""
  _exclude_paths.append(path)


def _path_starts_with(path: str, prefix: str) -> bool:
  path, prefix = os.path.abspath(path), os.path.abspath(prefix)
  try:
    return os.path.commonpath([path, prefix]) == prefix
  except ValueError:  # different drives
    return False


def include_filename(filename: str) -> bool:
  return not any(_path_starts_with(filename, p) for p in _exclude_paths)


def include_frame(f: types.FrameType) -> bool:
  return include_filename(f.f_code.co_filename)


def filter_traceback(tb: types.TracebackType) -> types.TracebackType | None:
  """``tb`` without the frames of excluded files."""
  out = None
  for f, lineno in reversed(list(traceback.walk_tb(tb))):
    if include_frame(f):
      out = types.TracebackType(out, f, f.f_lasti, lineno)
  return out


def format_exception_only(e: BaseException) -> str:
  return "".join(traceback.format_exception_only(type(e), e)).strip()


class UnfilteredStackTrace(Exception):
  pass


class SimplifiedTraceback(Exception):
  pass


def api_boundary(fun=None, *, repro_api_name: str | None = None,
                 repro_user_func: bool = False):
  """JAX's traceback-filtering boundary; pyjax does not filter, so ``fun`` itself."""
  if fun is None:
    return lambda f: f
  return fun

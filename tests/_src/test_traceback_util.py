"""pyjax._src.traceback_util (jax._src.traceback_util for Equinox and Flax): api_boundary
leaves functions as they are (pyjax does not filter tracebacks); registered exclusions
are honoured by include_frame / filter_traceback."""
from __future__ import annotations

import os
import sys

import pytest

from pyjax._src import traceback_util


def test_api_boundary_returns_the_function():
  def f(x):
    return x + 1
  assert traceback_util.api_boundary(f) is f
  assert traceback_util.api_boundary(repro_api_name="f")(f) is f


def test_exclusions(monkeypatch):
  monkeypatch.setattr(traceback_util, "_exclude_paths", [])
  here = os.path.abspath(__file__)
  assert traceback_util.include_filename(here)
  traceback_util.register_exclusion(os.path.dirname(here))
  assert traceback_util._exclude_paths == [os.path.dirname(here)]
  assert not traceback_util.include_filename(here)
  assert not traceback_util.include_frame(sys._getframe())
  assert traceback_util.include_filename(os.__file__)

  def inner():
    raise ValueError("x")
  with pytest.raises(ValueError) as info:
    inner()
  assert traceback_util.filter_traceback(info.value.__traceback__) is None
  assert traceback_util.format_exception_only(info.value) == "ValueError: x"

"""pyjax._src.compiler: every jit program is compiled through the module attribute
`backend_compile_and_load` (what Chex's restrict_backends patches); an error raised by
such a wrapper reaches the caller unchanged, IREE's own become JAX's INTERNAL error."""
from __future__ import annotations

import numpy as np
import pytest

import pyjax
from pyjax._src import compiler


class Forbidden(RuntimeError):
  pass


def test_compiles_go_through_the_patchable_function(monkeypatch):
  inner = compiler.backend_compile_and_load
  seen = []

  def wrapper(backend, *args, **kwargs):
    seen.append(backend.platform)
    if backend.platform == "cpu":
      raise Forbidden("Compiling a JAX program for cpu is forbidden")
    return inner(backend, *args, **kwargs)
  monkeypatch.setattr(compiler, "backend_compile_and_load", wrapper)
  with pytest.raises(Forbidden, match="forbidden"):
    pyjax.jit(lambda x: x * 7.0)(np.float32(2.0))
  assert seen == ["cpu"]
  monkeypatch.setattr(compiler, "backend_compile_and_load",
                      lambda b, *a, **k: (seen.append(b.platform), inner(b, *a, **k))[1])
  assert float(pyjax.jit(lambda x: x * 7.0)(np.float32(2.0))) == 14.0
  assert seen == ["cpu", "cpu"]
  assert compiler.backend("cuda").platform == "gpu"

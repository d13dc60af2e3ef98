"""``pyjax.deploy``: compiled programs as files that run with IREE's runtime alone.

``save(jit(f).lower(*args), "f.pyjax")`` compiles ``f`` for a target (``"host"``,
``"x86-64"``, ``"cuda"``) and writes one file; ``load("f.pyjax")`` returns a callable
taking and returning NumPy arrays in ``f``'s pytree structures. Not part of JAX.

The loader is ``RUNTIME_FILE`` (``pyjax/_src/deploy_runtime.py``), which imports
nothing from pyjax: where pyjax is not installed, copy that one file beside the
artifact and ``import deploy_runtime; deploy_runtime.load(path)``; it needs only NumPy
and ``iree-base-runtime``. See docs/deploy.md.
"""
from __future__ import annotations

from pyjax._src import deploy_runtime as _deploy_runtime
from pyjax._src.deploy import TARGETS, save
from pyjax._src.deploy_runtime import (FORMAT_VERSION, Artifact, ArtifactError, load,
                                       read)

__all__ = ["Artifact", "ArtifactError", "FORMAT_VERSION", "RUNTIME_FILE", "TARGETS",
           "load", "read", "save"]

RUNTIME_FILE = _deploy_runtime.__file__

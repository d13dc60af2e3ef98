"""``jax.extend``: access to the machinery under pyjax's transformations, for libraries
that define primitives or transformations of their own.

pyjax has ``backend``, ``core``, ``linear_util``, ``random`` and ``source_info_util``;
the rule registries are ``pyjax.interpreters.{ad,batching,mlir,partial_eval}``. Not
provided: ``ffi``, ``ifrt_programs``, ``lowering``, ``mlir``, ``pallas``, ``sharding``
and ``xla`` (JAX's XLA/MLIR-binding layers, which pyjax does not have).
"""
from pyjax.extend import backend, core, linear_util, random, source_info_util

__all__ = ["backend", "core", "linear_util", "random", "source_info_util"]

"""``jax.extend``: access to the machinery under pyjax's transformations, for libraries
that define primitives or transformations of their own.

pyjax has ``core``, ``linear_util`` and ``source_info_util``; the rule registries are
``pyjax.interpreters.{ad,batching,mlir,partial_eval}``. Not provided: ``backend``,
``ffi``, ``ifrt_programs``, ``lowering``, ``mlir``, ``pallas``, ``random``,
``sharding`` and ``xla`` (JAX's XLA/MLIR-binding layers, which pyjax does not have).
"""
from pyjax.extend import core, linear_util, source_info_util

__all__ = ["core", "linear_util", "source_info_util"]

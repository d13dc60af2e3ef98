"""``jax.interpreters``: the rule registries of autodiff (``ad``), vmap
(``batching``), lowering (``mlir``) and staging (``partial_eval``)."""
from pyjax.interpreters import ad, batching, mlir, partial_eval

__all__ = ["ad", "batching", "mlir", "partial_eval"]

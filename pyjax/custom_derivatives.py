"""``jax.custom_derivatives``: functions with user-defined differentiation rules.

``symbolic_zeros=True`` (``custom_jvp.defjvp``, ``custom_vjp.defvjp``) passes
``SymbolicZero`` for tangents/cotangents known to be zero and ``CustomVJPPrimal``
(value, perturbed) to a custom_vjp's fwd. Not provided: ``remat_opt_p`` (pyjax's
``optimize_remat`` is accepted and ignored).
"""
from pyjax._src.custom_derivatives import (CustomVJPPrimal, SymbolicZero, closure_convert,
                                           custom_gradient, custom_jvp, custom_jvp_call_p,
                                           custom_vjp, custom_vjp_call_p,
                                           custom_vjp_primal_tree_values, linear_call,
                                           zero_from_primal)

__all__ = ["CustomVJPPrimal", "SymbolicZero", "closure_convert", "custom_gradient",
           "custom_jvp", "custom_jvp_call_p", "custom_vjp", "custom_vjp_call_p",
           "custom_vjp_primal_tree_values", "linear_call", "zero_from_primal"]

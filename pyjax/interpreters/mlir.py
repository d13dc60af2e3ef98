"""``jax.interpreters.mlir``: lowering rules of primitives.

``register_lowering(p, rule)`` sets ``p``'s rule ``rule(ctx, *operands, **params) ->
list of results``. pyjax writes StableHLO as text with its own builder and has no MLIR
Python bindings, so the rules that work are those made by ``lower_fun`` (from a
function of JAX operations) or that compose such rules; a rule building ``ir``/``hlo``
operations directly cannot run. Rules for a platform other than the CPU are kept but
unused (pyjax lowers one rule per primitive for every device).
"""
from __future__ import annotations

from typing import Callable as _Callable

from pyjax._src.interpreters import registries as _reg

__all__ = ["LoweringRule", "LoweringRuleContext", "lower_fun", "register_lowering"]

LoweringRule = _Callable

LoweringRuleContext = _reg.LoweringRuleContext
lower_fun = _reg.lower_fun

_lowerings = _reg.RuleRegistry("lowerings", "lower", adapt=_reg.adapt_lowering)
_platform_lowerings: dict = {}


def register_lowering(prim, rule, platform: str | None = None, *, inline=True,
                      cacheable=True):
  """Sets ``prim``'s lowering to ``rule``; returns ``rule``."""
  del inline, cacheable
  if platform in (None, "cpu"):
    _lowerings[prim] = rule
  else:
    _platform_lowerings.setdefault(prim, {})[platform] = rule
  return rule

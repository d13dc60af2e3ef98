"""Structured control flow: cond/switch, while_loop, scan and the loops built on them."""
from pyjax._src.lax.control_flow.loops import (associative_scan, fori_loop, map, scan,
                                               scan_p)
from pyjax._src.lax.control_flow.while_loop import while_loop, while_p
from pyjax._src.lax.control_flow.conditionals import cond, cond_p, switch

__all__ = ["associative_scan", "cond", "cond_p", "fori_loop", "map", "scan", "scan_p",
           "switch", "while_loop", "while_p"]

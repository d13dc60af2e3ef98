"""``jax.experimental.layout``: ``Layout``, ``Format`` (see ``pyjax._src.layout``)."""
from pyjax._src.layout import Format, Layout, with_layout_constraint

__all__ = ["Format", "Layout", "with_layout_constraint"]

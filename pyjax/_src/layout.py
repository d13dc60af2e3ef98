"""Array layouts (``jax.experimental.layout``): ``Layout`` (the order of dimensions in
memory, major to minor) and ``Format`` (a layout with a sharding).

pyjax's arrays are always row-major (C order), untiled: ``Layout(major_to_minor=(0, 1,
..., n-1), tiling=())``. A ``Format`` can be built and compared as in JAX, but jit takes
no ``in_shardings``/``out_shardings`` formats and ``with_layout_constraint`` only checks
that the layout fits the value.
"""
from __future__ import annotations

from pyjax._src.sharding import Sharding

__all__ = ["Format", "Layout", "with_layout_constraint"]


class AutoLayoutSingleton:
  def __repr__(self):
    return "AUTO"


AutoLayout = AutoLayoutSingleton()


class Layout:
  """The order of an array's dimensions in memory (and its tiling)."""
  AUTO = AutoLayout

  def __init__(self, major_to_minor, tiling=None, sub_byte_element_size_in_bits: int = 0):
    self.major_to_minor = tuple(major_to_minor)
    self.tiling = None if tiling is None else tuple(map(tuple, tiling))
    self.sub_byte_element_size_in_bits = sub_byte_element_size_in_bits

  def __repr__(self):
    return (f"Layout(major_to_minor={self.major_to_minor}, tiling={self.tiling}, "
            f"sub_byte_element_size_in_bits={self.sub_byte_element_size_in_bits})")

  def __hash__(self):
    return hash((self.major_to_minor, self.tiling, self.sub_byte_element_size_in_bits))

  def __eq__(self, other):
    return (isinstance(other, Layout) and self.major_to_minor == other.major_to_minor
            and self.tiling == other.tiling
            and self.sub_byte_element_size_in_bits == other.sub_byte_element_size_in_bits)

  def update(self, **kwargs):
    return Layout(kwargs.get("major_to_minor", self.major_to_minor),
                  kwargs.get("tiling", self.tiling),
                  kwargs.get("sub_byte_element_size_in_bits",
                             self.sub_byte_element_size_in_bits))

  def check_compatible_aval(self, aval_shape):
    if len(self.major_to_minor) != len(aval_shape):
      raise ValueError("Length of major_to_minor and the rank of the value should match. "
                       f"Got major_to_minor={self.major_to_minor} and shape={aval_shape}")


def row_major(ndim: int) -> Layout:
  """The layout of every pyjax array of rank ``ndim``."""
  return Layout(tuple(range(ndim)), ())


class Format:
  """A layout (a ``Layout``, ``Layout.AUTO`` or None) with a sharding (or None)."""
  __slots__ = ("layout", "sharding")

  def __init__(self, layout=None, sharding=None):
    if isinstance(layout, Layout) and sharding is None:
      raise ValueError(
          f"Sharding has to be concrete when layout is of type {type(layout)}. Please "
          "pass a `jax.sharding.NamedSharding` or `jax.sharding.SingleDeviceSharding` to "
          f"the sharding argument. Got sharding {sharding}")
    if not isinstance(layout, (Layout, type(None), AutoLayoutSingleton)):
      raise TypeError(
          "Invalid value received for the layout argument. Expected values are `None`, "
          f"`Layout.AUTO` or an instance of `Layout`. Got {layout} of type {type(layout)}")
    if not isinstance(sharding, (Sharding, type(None))):
      raise TypeError(
          "Invalid value received for the sharding argument. Expected values are `None` "
          f"or an instance of `jax.Sharding`. Got {sharding} of type {type(sharding)}")
    self.layout = layout
    self.sharding = sharding

  def __repr__(self):
    return f"Format(layout={self.layout}, sharding={self.sharding})"

  def __hash__(self):
    return hash((self.layout, self.sharding))

  def __eq__(self, other):
    return (isinstance(other, Format) and self.layout == other.layout
            and self.sharding == other.sharding)


def with_layout_constraint(x, layout):
  """``x`` itself, after checking that ``layout`` fits its rank (pyjax cannot change a
  value's layout: every array is row-major)."""
  if isinstance(layout, Layout):
    layout.check_compatible_aval(x.shape)
  elif not isinstance(layout, AutoLayoutSingleton):
    raise TypeError(f"with_layout_constraint: expected a Layout, got {layout!r}.")
  return x

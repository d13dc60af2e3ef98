"""``jax.sharding``: meshes, partition specs and shardings."""
from pyjax._src.mesh import (AbstractMesh, AxisType, Mesh, get_abstract_mesh, get_mesh,
                             set_mesh, use_mesh)
from pyjax._src.sharding import (NamedSharding, PartitionSpec, Sharding,
                                 SingleDeviceSharding)
from pyjax._src.lax.sharding_ops import auto_axes, explicit_axes, reshard

__all__ = [
    "AbstractMesh", "AxisType", "Mesh", "NamedSharding", "PartitionSpec", "Sharding",
    "SingleDeviceSharding", "auto_axes", "explicit_axes", "get_abstract_mesh", "get_mesh",
    "reshard", "set_mesh", "use_mesh",
]

"""``jax.sharding``: meshes, partition specs and shardings."""
from pyjax._src.mesh import (AbstractMesh, AxisType, Mesh, get_abstract_mesh, get_mesh,
                             set_mesh, use_mesh)
from pyjax._src.sharding import (NamedSharding, PartitionSpec, Sharding,
                                 SingleDeviceSharding)

__all__ = [
    "AbstractMesh", "AxisType", "Mesh", "NamedSharding", "PartitionSpec", "Sharding",
    "SingleDeviceSharding", "get_abstract_mesh", "get_mesh", "set_mesh", "use_mesh",
]

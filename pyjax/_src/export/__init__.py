"""``jax.export``'s implementation: ``_export`` (Exported, export, serialization, the
``call_exported`` primitive) and ``shape_poly`` (symbolic dimensions)."""

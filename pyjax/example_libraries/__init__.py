"""``jax.example_libraries``: the small example libraries ``stax`` (neural-net layers)
and ``optimizers`` (first-order optimizers), written on pyjax's public API as JAX's are.
Import the submodules explicitly (``from pyjax.example_libraries import stax``)."""

__all__: list[str] = []

"""``jax.lax.linalg``: linear-algebra primitives."""
from pyjax._src.lax.linalg import (
    cholesky, cholesky_p, eig, eig_p, eigh, eigh_p, lu, lu_p, lu_pivots_to_permutation, qr,
    qr_p, svd, svd_p, symmetrize, triangular_solve, triangular_solve_p)

__all__ = [
    'cholesky', 'cholesky_p', 'eig', 'eig_p', 'eigh', 'eigh_p', 'lu', 'lu_p',
    'lu_pivots_to_permutation', 'qr', 'qr_p', 'svd', 'svd_p', 'symmetrize', 'triangular_solve', 'triangular_solve_p'
]

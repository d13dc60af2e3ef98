"""``jax.scipy.special``."""
from pyjax._src.scipy.special import (
    beta, betainc, betaln, digamma, entr, erf, erfc, erfinv, expit, factorial, gamma,
    gammainc, gammaincc, gammaln, gammasgn, i0, i0e, i1, i1e, log_ndtr, logit,
    multigammaln, ndtr, ndtri, poch, xlog1py, xlogy)

__all__ = [
    "beta", "betainc", "betaln", "digamma", "entr", "erf", "erfc", "erfinv", "expit",
    "factorial", "gamma", "gammainc", "gammaincc", "gammaln", "gammasgn", "i0", "i0e",
    "i1", "i1e", "log_ndtr", "logit", "multigammaln", "ndtr", "ndtri", "poch",
    "xlog1py", "xlogy",
]

"""``jax.scipy.special``.

``logsumexp``, ``softmax`` and ``log_softmax`` come from ``jax.nn``'s implementation.
``lpmn`` and ``lpmn_values`` are deprecated (a DeprecationWarning on first access), as in JAX.
"""

from pyjax._src.deprecations import deprecation_getattr as _deprecation_getattr
from pyjax._src.nn.functions import log_softmax, softmax
from pyjax._src.ops.special import logsumexp

from pyjax._src.scipy.special import (
    bernoulli, bessel_jn, beta, betainc, betaln, boxcox, boxcox1p, comb, dawsn, digamma,
    entr, erf, erfc, erfcx, erfinv, exp1, expi, expit, expn, factorial, fresnel, gamma,
    gammainc, gammaincc, gammaln, gammasgn, hyp1f1, hyp2f1, i0, i0e, i1, i1e, kl_div,
    log_ndtr, loggamma, logit, multigammaln, ndtr, ndtri, owens_t, poch, polygamma,
    rel_entr, sici, spence, sph_harm_y, wofz, xlog1py, xlogy, zeta, lpmn as
    _deprecated_lpmn, lpmn_values as _deprecated_lpmn_values)

__all__ = [
    "bernoulli", "bessel_jn", "beta", "betainc", "betaln", "boxcox", "boxcox1p", "comb",
    "dawsn", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp1", "expi",
    "expit", "expn", "factorial", "fresnel", "gamma", "gammainc", "gammaincc",
    "gammaln", "gammasgn", "hyp1f1", "hyp2f1", "i0", "i0e", "i1", "i1e", "kl_div",
    "log_ndtr", "log_softmax", "loggamma", "logit", "logsumexp", "multigammaln", "ndtr",
    "ndtri", "owens_t", "poch", "polygamma", "rel_entr", "sici", "softmax", "spence",
    "sph_harm_y", "wofz", "xlog1py", "xlogy", "zeta",
]

_deprecations = {
    "lpmn": ("jax.scipy.special.lpmn is deprecated; no replacement is planned.",
             _deprecated_lpmn),
    "lpmn_values": ("jax.scipy.special.lpmn_values is deprecated; no replacement is "
                    "planned.", _deprecated_lpmn_values),
    "sph_harm": ("jax.scipy.special.sph_harm was deprecated in v0.7.0 and removed in "
                 "v0.10.0. Use jax.scipy.special.sph_harm_y instead.", None),
}


# (as JAX's: a deprecated name warns on its first access only)
__getattr__ = _deprecation_getattr(__name__, _deprecations)

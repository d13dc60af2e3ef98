"""``jax.scipy.stats.vonmises``: the von Mises distribution (nan for kappa <= 0)."""
from __future__ import annotations

import numpy as np

from pyjax._src.lax import lax
from pyjax._src.lax import special as lax_special
from pyjax._src.lax.lax import _const as _lax_const
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import ufuncs
from pyjax._src.numpy.util import promote_args_inexact

__all__ = ["logpdf", "pdf"]


def logpdf(x, kappa):
  x, kappa = promote_args_inexact("vonmises.logpdf", x, kappa)
  zero = _lax_const(kappa, 0)
  val = (kappa * (ufuncs.cos(x) - 1)
         - ufuncs.log(2 * np.pi * lax_special.bessel_i0e(kappa)))
  return jnp.where(lax.gt(kappa, zero), val, np.nan)


def pdf(x, kappa):
  return lax.exp(logpdf(x, kappa))

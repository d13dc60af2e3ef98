"""``jax.numpy``: NumPy's API built from lax primitives."""
import numpy as _np

from pyjax._src.array import Array as ndarray
from pyjax._src.dtypes import (finfo, iinfo, issubdtype, promote_types, result_type, float0,
                               isdtype)
from pyjax._src.numpy.scalar_types import *  # noqa: F401,F403
from pyjax._src.numpy.lax_numpy import *  # noqa: F401,F403
from pyjax._src.numpy.reductions import *  # noqa: F401,F403
from pyjax._src.numpy.ufuncs import *  # noqa: F401,F403

generic, number, inexact, floating, complexfloating = (_np.generic, _np.number, _np.inexact,
                                                       _np.floating, _np.complexfloating)
integer, signedinteger, unsignedinteger = _np.integer, _np.signedinteger, _np.unsignedinteger
pi, e, inf, nan, euler_gamma, newaxis = _np.pi, _np.e, _np.inf, _np.nan, _np.euler_gamma, None
dtype = _np.dtype

"""``jax.numpy``: NumPy's API built from lax primitives."""
import numpy as _np

from pyjax._src.array import Array as ndarray
from pyjax._src.dtypes import (finfo, iinfo, issubdtype, float0, isdtype)
from pyjax._src.numpy.scalar_types import *  # noqa: F401,F403
from pyjax._src.numpy.lax_numpy import *  # noqa: F401,F403
from pyjax._src.numpy.array_creation import *  # noqa: F401,F403
from pyjax._src.numpy.array_manipulation import *  # noqa: F401,F403
from pyjax._src.numpy.tensor_contractions import *  # noqa: F401,F403
from pyjax._src.numpy.numerical import *  # noqa: F401,F403
from pyjax._src.numpy.polynomial import *  # noqa: F401,F403
from pyjax._src.numpy.window_functions import *  # noqa: F401,F403
from pyjax._src.numpy.reductions import *  # noqa: F401,F403
from pyjax._src.numpy.ufuncs import *  # noqa: F401,F403
from pyjax._src.numpy.sorting import *  # noqa: F401,F403
from pyjax._src.numpy.setops import *  # noqa: F401,F403
from pyjax._src.numpy.einsum import einsum, einsum_path  # noqa: F401

from pyjax._src.numpy.indexing import *  # noqa: F401,F403

generic, number, inexact, floating, complexfloating = (_np.generic, _np.number, _np.inexact,
                                                       _np.floating, _np.complexfloating)
integer, signedinteger, unsignedinteger = _np.integer, _np.signedinteger, _np.unsignedinteger
flexible, character, object_ = _np.flexible, _np.character, _np.object_
pi, e, inf, nan, euler_gamma, newaxis = _np.pi, _np.e, _np.inf, _np.nan, _np.euler_gamma, None
dtype = _np.dtype
pow = power  # noqa: F405
bitwise_invert = bitwise_not  # noqa: F405
ComplexWarning = getattr(_np.exceptions, "ComplexWarning", Warning)
printoptions, set_printoptions, get_printoptions = (_np.printoptions, _np.set_printoptions,
                                                    _np.get_printoptions)
save, savez, load = _np.save, _np.savez, _np.load
index_exp, s_ = _np.index_exp, _np.s_
from pyjax.numpy import linalg  # noqa: E402

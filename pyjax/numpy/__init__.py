"""``jax.numpy``: NumPy's API built from lax primitives."""
import sys as _sys

import numpy as _np

from pyjax._src.array import Array as ndarray
from pyjax._src.numpy import array_methods as _array_methods
from pyjax._src.dtypes import (finfo, iinfo, issubdtype, isdtype)
from pyjax._src.numpy.scalar_types import (
    bfloat16, bool, bool_, cdouble, complex128, complex64, complex_, csingle, double,
    float16, float32, float4_e2m1fn, float64, float6_e2m3fn, float6_e3m2fn, float8_e3m4,
    float8_e4m3, float8_e4m3b11fnuz, float8_e4m3fn, float8_e4m3fnuz, float8_e5m2,
    float8_e5m2fnuz, float8_e8m0fnu, float_, int1, int16, int2, int32, int4, int64, int8,
    int_, single, uint, uint1, uint16, uint2, uint32, uint4, uint64, uint8
)
from pyjax._src.numpy.lax_numpy import (
    allclose, around, array_equal, array_equiv, array_repr, array_str, asarray, astype,
    broadcast_arrays, broadcast_shapes, broadcast_to, can_cast, choose, clip, compress,
    concat, concatenate, copy, expand_dims, extract, isclose, iscomplex, iscomplexobj,
    isreal, isrealobj, isscalar, iterable, matrix_transpose, moveaxis, nan_to_num, ndim,
    permute_dims, promote_types, ravel, reshape, result_type, round, select,
    shape, size, squeeze, swapaxes, transpose, where
)
from pyjax._src.numpy.util import array, stack
from pyjax._src.numpy.array_creation import (
    arange, c_, diag_indices, diag_indices_from, empty, empty_like, eye, from_dlpack,
    frombuffer, fromfile, fromfunction, fromiter, fromstring, full, full_like, geomspace,
    identity, indices, ix_, linspace, logspace, mask_indices, meshgrid, mgrid, ogrid, ones,
    ones_like, r_, ravel_multi_index, tri, tril_indices, tril_indices_from, triu_indices,
    triu_indices_from, unravel_index, vander, zeros, zeros_like
)
from pyjax._src.numpy.array_manipulation import (
    append, array_split, atleast_1d, atleast_2d, atleast_3d, block, column_stack, delete,
    diag, diagflat, diagonal, dsplit, dstack, fill_diagonal, flip, fliplr, flipud, hsplit,
    hstack, insert, packbits, pad, place, put, put_along_axis, repeat, resize, roll,
    rollaxis, rot90, split, tile, trace, tril, trim_zeros, triu, unpackbits,
    unstack, vsplit, vstack
)
from pyjax._src.numpy.tensor_contractions import (
    convolve, correlate, cross, dot, inner, kron, matmul, matvec, outer, tensordot, vdot,
    vecdot, vecmat
)
from pyjax._src.numpy.numerical import (
    bincount, corrcoef, cov, diff, digitize, ediff1d, gradient, histogram, histogram2d,
    histogram_bin_edges, histogramdd, interp, trapezoid, unwrap
)
from pyjax._src.numpy.polynomial import (
    poly, polyadd, polyder, polydiv, polyfit, polyint, polymul, polysub, polyval, roots
)
from pyjax._src.numpy.window_functions import (
    bartlett, blackman, hamming, hanning, kaiser
)
from pyjax._src.numpy.reductions import (
    all, amax, amin, any, argmax, argmin, average, count_nonzero, cumprod, cumsum,
    cumulative_prod, cumulative_sum, max, mean, median, min, nanargmax, nanargmin,
    nancumprod, nancumsum, nanmax, nanmean, nanmedian, nanmin, nanpercentile, nanprod,
    nanquantile, nanstd, nansum, nanvar, percentile, prod, ptp, quantile, std, sum, var
)
from pyjax._src.numpy.ufuncs import (
    abs, absolute, acos, acosh, angle, arccos, arccosh, arcsin, arcsinh, arctan,
    arctan2, arctanh, asin, asinh, atan, atan2, atanh, bitwise_count,
    bitwise_left_shift, bitwise_not, bitwise_right_shift, cbrt, ceil, conj, conjugate,
    copysign, cos, cosh, deg2rad, degrees, divide, divmod, equal, exp, exp2, expm1,
    fabs, float_power, floor, floor_divide, fmax, fmin, fmod, frexp, gcd, greater,
    greater_equal, heaviside, hypot, i0, imag, invert, isfinite, isinf, isnan, isneginf,
    isposinf, lcm, ldexp, left_shift, less, less_equal, log, log10, log1p, log2,
    logical_not, mod, modf, nextafter, not_equal, positive, power, rad2deg, radians,
    real, reciprocal, remainder, right_shift, rint, sign, signbit, sin, sinc, sinh,
    spacing, sqrt, square, tan, tanh, true_divide, trunc
)
from pyjax._src.numpy.sorting import (
    argpartition, argsort, lexsort, partition, searchsorted, sort, sort_complex
)
from pyjax._src.numpy.setops import (
    intersect1d, isin, setdiff1d, setxor1d, union1d, unique, unique_all,
    unique_counts, unique_inverse, unique_values
)
from pyjax._src.numpy.indexing import (
    argwhere, flatnonzero, nonzero, take, take_along_axis
)
from pyjax._src.numpy.einsum import einsum, einsum_path
from pyjax._src.numpy.ufunc_api import (
    add, bitwise_and, bitwise_or, bitwise_xor, frompyfunc, logaddexp, logaddexp2,
    logical_and, logical_or, logical_xor, maximum, minimum, multiply, negative, subtract,
    ufunc
)
from pyjax._src.numpy.vectorize import vectorize
from pyjax._src.numpy.functional import apply_along_axis, apply_over_axes, piecewise

generic, number, inexact, floating, complexfloating = (_np.generic, _np.number, _np.inexact,
                                                       _np.floating, _np.complexfloating)
integer, signedinteger, unsignedinteger = _np.integer, _np.signedinteger, _np.unsignedinteger
flexible, character, object_ = _np.flexible, _np.character, _np.object_
pi, e, inf, nan, euler_gamma, newaxis = _np.pi, _np.e, _np.inf, _np.nan, _np.euler_gamma, None
dtype = _np.dtype
pow = power
bitwise_invert = bitwise_not
ComplexWarning = getattr(_np.exceptions, "ComplexWarning", Warning)
printoptions, set_printoptions, get_printoptions = (_np.printoptions, _np.set_printoptions,
                                                    _np.get_printoptions)
save, savez, load = _np.save, _np.savez, _np.load
index_exp, s_ = _np.index_exp, _np.s_
from pyjax.numpy import fft, linalg  # noqa: E402  (after the names they build on)

__all__ = [
    'ComplexWarning', 'abs', 'absolute', 'acos', 'acosh', 'add', 'all', 'allclose', 'amax',
    'amin', 'angle', 'any', 'append', 'apply_along_axis', 'apply_over_axes', 'arange',
    'arccos', 'arccosh', 'arcsin', 'arcsinh', 'arctan', 'arctan2', 'arctanh', 'argmax',
    'argmin', 'argpartition', 'argsort', 'argwhere', 'around', 'array', 'array_equal',
    'array_equiv', 'array_repr', 'array_split', 'array_str', 'asarray', 'asin', 'asinh',
    'astype', 'atan', 'atan2', 'atanh', 'atleast_1d', 'atleast_2d', 'atleast_3d',
    'average', 'bartlett', 'bfloat16', 'bincount', 'bitwise_and', 'bitwise_count',
    'bitwise_invert', 'bitwise_left_shift', 'bitwise_not', 'bitwise_or',
    'bitwise_right_shift', 'bitwise_xor', 'blackman', 'block', 'bool', 'bool_',
    'broadcast_arrays', 'broadcast_shapes', 'broadcast_to', 'c_', 'can_cast', 'cbrt',
    'cdouble', 'ceil', 'character', 'choose', 'clip', 'column_stack', 'complex128',
    'complex64', 'complex_', 'complexfloating', 'compress', 'concat', 'concatenate',
    'conj', 'conjugate', 'convolve', 'copy', 'copysign', 'corrcoef', 'correlate', 'cos',
    'cosh', 'count_nonzero', 'cov', 'cross', 'csingle', 'cumprod', 'cumsum',
    'cumulative_prod', 'cumulative_sum', 'deg2rad', 'degrees', 'delete', 'diag',
    'diag_indices', 'diag_indices_from', 'diagflat', 'diagonal', 'diff', 'digitize',
    'divide', 'divmod', 'dot', 'double', 'dsplit', 'dstack', 'dtype', 'e', 'ediff1d',
    'einsum', 'einsum_path', 'empty', 'empty_like', 'equal', 'euler_gamma', 'exp', 'exp2',
    'expand_dims', 'expm1', 'extract', 'eye', 'fabs', 'fft', 'fill_diagonal', 'finfo',
    'flatnonzero', 'flexible', 'flip', 'fliplr', 'flipud', 'float16', 'float32',
    'float4_e2m1fn', 'float64', 'float6_e2m3fn', 'float6_e3m2fn', 'float8_e3m4',
    'float8_e4m3', 'float8_e4m3b11fnuz', 'float8_e4m3fn', 'float8_e4m3fnuz', 'float8_e5m2',
    'float8_e5m2fnuz', 'float8_e8m0fnu', 'float_', 'float_power', 'floating', 'floor',
    'floor_divide', 'fmax', 'fmin', 'fmod', 'frexp', 'from_dlpack', 'frombuffer',
    'fromfile', 'fromfunction', 'fromiter', 'frompyfunc', 'fromstring', 'full',
    'full_like', 'gcd', 'generic', 'geomspace', 'get_printoptions', 'gradient', 'greater',
    'greater_equal', 'hamming', 'hanning', 'heaviside', 'histogram', 'histogram2d',
    'histogram_bin_edges', 'histogramdd', 'hsplit', 'hstack', 'hypot', 'i0', 'identity',
    'iinfo', 'imag', 'index_exp', 'indices', 'inexact', 'inf', 'inner', 'insert',
    'int1', 'int16', 'int2', 'int32', 'int4', 'int64', 'int8', 'int_', 'integer', 'interp',
    'intersect1d', 'invert', 'isclose', 'iscomplex', 'iscomplexobj', 'isdtype', 'isfinite',
    'isin', 'isinf', 'isnan', 'isneginf', 'isposinf', 'isreal', 'isrealobj', 'isscalar',
    'issubdtype', 'iterable', 'ix_', 'kaiser', 'kron', 'lcm', 'ldexp', 'left_shift',
    'less', 'less_equal', 'lexsort', 'linalg', 'linspace', 'load', 'log', 'log10', 'log1p',
    'log2', 'logaddexp', 'logaddexp2', 'logical_and', 'logical_not', 'logical_or',
    'logical_xor', 'logspace', 'mask_indices', 'matmul', 'matrix_transpose', 'matvec',
    'max', 'maximum', 'mean', 'median', 'meshgrid', 'mgrid', 'min', 'minimum', 'mod',
    'modf', 'moveaxis', 'multiply', 'nan', 'nan_to_num', 'nanargmax', 'nanargmin',
    'nancumprod', 'nancumsum', 'nanmax', 'nanmean', 'nanmedian', 'nanmin', 'nanpercentile',
    'nanprod', 'nanquantile', 'nanstd', 'nansum', 'nanvar', 'ndarray', 'ndim', 'negative',
    'newaxis', 'nextafter', 'nonzero', 'not_equal', 'number', 'object_', 'ogrid', 'ones',
    'ones_like', 'outer', 'packbits', 'pad', 'partition', 'percentile', 'permute_dims',
    'pi', 'piecewise', 'place', 'poly', 'polyadd', 'polyder', 'polydiv', 'polyfit',
    'polyint', 'polymul', 'polysub', 'polyval', 'positive', 'pow', 'power', 'printoptions',
    'prod', 'promote_types', 'ptp', 'put', 'put_along_axis', 'quantile', 'r_', 'rad2deg',
    'radians', 'ravel', 'ravel_multi_index', 'real', 'reciprocal', 'remainder', 'repeat',
    'reshape', 'resize', 'result_type', 'right_shift', 'rint', 'roll', 'rollaxis', 'roots',
    'rot90', 'round', 's_', 'save', 'savez', 'searchsorted',
    'select', 'set_printoptions', 'setdiff1d', 'setxor1d', 'shape', 'sign', 'signbit',
    'signedinteger', 'sin', 'sinc', 'single', 'sinh', 'size', 'sort', 'sort_complex',
    'spacing', 'split', 'sqrt', 'square', 'squeeze', 'stack', 'std', 'subtract', 'sum',
    'swapaxes', 'take', 'take_along_axis', 'tan', 'tanh', 'tensordot', 'tile', 'trace',
    'transpose', 'trapezoid', 'tri', 'tril', 'tril_indices', 'tril_indices_from',
    'trim_zeros', 'triu', 'triu_indices', 'triu_indices_from', 'true_divide', 'trunc',
    'ufunc', 'uint', 'uint1', 'uint16', 'uint2', 'uint32', 'uint4', 'uint64', 'uint8',
    'union1d', 'unique', 'unique_all', 'unique_counts', 'unique_inverse', 'unique_values',
    'unpackbits', 'unravel_index', 'unsignedinteger', 'unstack', 'unwrap', 'vander', 'var',
    'vdot', 'vecdot', 'vecmat', 'vectorize', 'vsplit', 'vstack', 'where', 'zeros',
    'zeros_like'
]

__array_api_version__ = _array_methods.ARRAY_API_VERSION
_array_methods.register_namespace(_sys.modules[__name__])

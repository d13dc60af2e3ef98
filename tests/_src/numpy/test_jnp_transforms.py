"""Every jax.numpy function that takes arrays, under the transformations: compiled
``jit`` against eager, ``vmap`` against a Python loop over the batch, and ``grad`` (a
reverse-mode VJP) against central differences in float64 where differentiable.

The jit cases are compiled a few programs at a time (one jitted function returning the
outputs of ~50 cases), not one program per case.
"""
import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax.test_util import check_grads
from util import check_close, enable_x64, rand

# Names in dir(jax.numpy) that are not swept, and why.
EXCLUDED = {
    # dtypes, scalar types, dtype/promotion queries and other non-array helpers
    "can_cast", "isdtype", "issubdtype", "promote_types", "result_type", "iterable",
    "isscalar", "iscomplexobj", "isrealobj", "ndim", "shape", "size", "broadcast_shapes",
    "einsum_path", "finfo", "iinfo", "dtype",
    # printing, files and buffers
    "array_repr", "array_str", "get_printoptions", "set_printoptions", "printoptions",
    "load", "save", "savez", "fromfile", "frombuffer", "fromiter", "fromstring",
    # creation from shapes and Python scalars only (no array operand)
    "arange", "eye", "identity", "tri", "tril_indices", "triu_indices", "diag_indices",
    "indices", "mask_indices", "linspace", "logspace", "geomspace", "bartlett", "blackman",
    "hamming", "hanning", "kaiser", "empty", "ones", "zeros", "fromfunction",
    # submodules (swept in test_linalg_numpy.py and test_numpy_fft.py)
    "linalg", "fft",
    # takes a DLPack-capable object (a NumPy array), not traced arrays
    "from_dlpack",
}

_KIND = {
    "f": (np.float32, -2.0, 2.0),   # float
    "p": (np.float32, 0.5, 2.0),    # positive float
    "u": (np.float32, -0.9, 0.9),   # float in (-1, 1)
    "g": (np.float32, 1.2, 3.0),    # float > 1
    "i": (np.int32, -5, 5),         # small int
    "n": (np.int32, 0, 3),          # small non-negative int
    "b": (np.bool_, None, None),
    "c": (np.complex64, -2.0, 2.0),
}


def _make(code, rng, batch=None):
  """``code`` is a kind letter then the shape's digits: 'f34' is float32[3, 4]."""
  dt, lo, hi = _KIND[code[0]]
  shape = tuple(int(c) for c in code[1:])
  if batch is not None:
    shape = (batch,) + shape
  x = rand(shape, dt, rng, low=lo, high=hi)
  if code[0] in "fpugc" and x.size:  # no ties for sorts, max/min and their gradients
    x = x + np.linspace(0, 1e-2, x.size).reshape(shape).astype(x.dtype)
  return x


def _s(x):
  return jnp.sort(x)


# name -> (function of the arrays (None: jnp.<name> itself), operand codes, flags).
# Flags: "g" differentiable (grad vs finite differences), "v-" no vmap check,
# "j-" no jit check. Each case's id is its key; a suffix after ":" names a variant.
CASES = {
    "abs": (None, "f34", "g"), "absolute": (None, "i34", ""), "acos": (None, "u34", "g"),
    "acosh": (None, "g34", "g"), "add": (None, "f34 f34", "g"),
    "all": (lambda x: jnp.all(x, axis=0), "b34", ""), "allclose": (None, "f34 f34", ""),
    "amax": (lambda x: jnp.amax(x, 1), "f34", "g"),
    "amin": (lambda x: jnp.amin(x, 0), "f34", "g"),
    "angle": (None, "c34", ""), "any": (lambda x: jnp.any(x, axis=1), "b34", ""),
    "append": (lambda x, y: jnp.append(x, y, axis=0), "f34 f24", "g"),
    "apply_along_axis": (lambda x: jnp.apply_along_axis(lambda v: jnp.sum(v * v), 1, x),
                         "f34", "g"),
    "apply_over_axes": (lambda x: jnp.apply_over_axes(jnp.sum, x, [0]), "f34", "g"),
    "arccos": (None, "u34", "g"), "arccosh": (None, "g34", "g"),
    "arcsin": (None, "u34", "g"),
    "arcsinh": (None, "f34", "g"), "arctan": (None, "f34", "g"),
    "arctan2": (None, "f34 p34", "g"), "arctanh": (None, "u34", "g"),
    "argmax": (lambda x: jnp.argmax(x, 1), "f34", ""),
    "argmin": (lambda x: jnp.argmin(x, 0), "f34", ""),
    "argpartition": (lambda x: jnp.argpartition(x, 2, axis=1), "f34", ""),
    "argsort": (lambda x: jnp.argsort(x, axis=0), "f34", ""),
    "argwhere": (lambda x: jnp.argwhere(x, size=6, fill_value=-1), "b34", ""),
    "around": (lambda x: jnp.around(x, 1), "f34", ""),
    "array": (lambda x: jnp.array(x, dtype=jnp.float32), "i34", ""),
    "array_equal": (None, "i34 i34", ""), "array_equiv": (None, "i34 i4", ""),
    "array_split": (lambda x: jnp.array_split(x, 3, axis=1), "f34", "g"),
    "asarray": (lambda x: jnp.asarray(x, jnp.float32), "i34", ""),
    "asin": (None, "u34", "g"), "asinh": (None, "f34", "g"),
    "astype": (lambda x: jnp.astype(x, jnp.int32), "f34", ""),
    "atan": (None, "f34", "g"), "atan2": (None, "f34 p34", "g"),
    "atanh": (None, "u34", "g"),
    "atleast_1d": (None, "f", "g"), "atleast_2d": (None, "f4", "g"),
    "atleast_3d": (None, "f34", "g"),
    "average": (lambda x, w: jnp.average(x, axis=1, weights=w), "f34 p4", "g"),
    "bincount": (lambda x: jnp.bincount(x, length=5), "n6", ""),
    "bincount:weights": (lambda x, w: jnp.bincount(x.ravel(), w.ravel(), length=4),
                         "n34 f34", "g"),
    "bitwise_and": (None, "i34 i34", ""), "bitwise_count": (None, "i34", ""),
    "bitwise_invert": (None, "i34", ""),
    "bitwise_left_shift": (None, "i34 n34", ""), "bitwise_not": (None, "b34", ""),
    "bitwise_or": (None, "i34 i34", ""), "bitwise_right_shift": (None, "i34 n34", ""),
    "bitwise_xor": (None, "b34 b34", ""),
    "block": (lambda x, y: jnp.block([[x, y], [y, x]]), "f23 f23", "g"),
    "broadcast_arrays": (None, "f34 f4", "g"),
    "broadcast_to": (lambda x: jnp.broadcast_to(x, (2, 3, 4)), "f4", "g"),
    "cbrt": (None, "p34", "g"), "ceil": (None, "f34", ""),
    "choose": (lambda i, x, y: jnp.choose(i, [x, y], mode="clip"), "n34 f34 f34", "g"),
    "clip": (lambda x, lo: jnp.clip(x, lo, 1.0), "f34 u4", "g"),
    "column_stack": (lambda x, y: jnp.column_stack([x, y]), "f3 f34", "g"),
    "compress": (lambda c, x: jnp.compress(c, x, axis=0, size=2), "b3 f34", "g"),
    "concat": (lambda x, y: jnp.concat([x, y], axis=1), "f34 f32", "g"),
    "concatenate": (lambda x, y: jnp.concatenate([x, y]), "f34 f24", "g"),
    "conj": (None, "c34", ""), "conjugate": (None, "f34", "g"),
    "convolve": (None, "f5 f3", "g"), "copy": (None, "f34", "g"),
    "copysign": (None, "f34 f34", ""), "corrcoef": (None, "f34", "g"),
    "correlate": (lambda x, y: jnp.correlate(x, y, "full"), "f5 f3", "g"),
    "cos": (None, "f34", "g"), "cosh": (None, "f34", "g"),
    "count_nonzero": (lambda x: jnp.count_nonzero(x, axis=1), "i34", ""),
    "cov": (None, "f34", "g"), "cross": (None, "f43 f43", "g"),
    "cumprod": (lambda x: jnp.cumprod(x, axis=1), "p34", "g"),
    "cumsum": (lambda x: jnp.cumsum(x, axis=0), "f34", "g"),
    "cumulative_prod": (lambda x: jnp.cumulative_prod(x, axis=1, include_initial=True),
                        "p34", "g"),
    "cumulative_sum": (lambda x: jnp.cumulative_sum(x, axis=1), "i34", ""),
    "deg2rad": (None, "f34", "g"), "degrees": (None, "f34", "g"),
    "delete": (lambda x: jnp.delete(x, 1, axis=1), "f34", "g"),
    "diag": (None, "f34", "g"), "diag:1d": (lambda x: jnp.diag(x, 1), "f4", "g"),
    "diag_indices_from": (None, "f33", "v-"),
    "diagflat": (None, "f22", "g"), "diagonal": (lambda x: jnp.diagonal(x, 1), "f34", "g"),
    "diff": (lambda x: jnp.diff(x, 2, axis=1), "f34", "g"),
    "digitize": (lambda x, b: jnp.digitize(x, _s(b)), "f34 f5", ""),
    "divide": (None, "f34 p34", "g"), "divmod": (None, "f34 p34", ""),
    "dot": (None, "f34 f42", "g"), "dsplit": (lambda x: jnp.dsplit(x, 2), "f234", "g"),
    "dstack": (lambda x, y: jnp.dstack([x, y]), "f34 f34", "g"),
    "ediff1d": (lambda x: jnp.ediff1d(x, to_begin=x[:1]), "f6", "g"),
    "einsum": (lambda x, y: jnp.einsum("ij,kj->ik", x, y), "f34 f24", "g"),
    "empty_like": (None, "f34", ""),
    "equal": (None, "i34 i34", ""), "exp": (None, "f34", "g"), "exp2": (None, "f34", "g"),
    "expand_dims": (lambda x: jnp.expand_dims(x, (0, 2)), "f34", "g"),
    "expm1": (None, "f34", "g"),
    "extract": (lambda c, x: jnp.extract(c, x, size=5), "b34 f34", "g"),
    "fabs": (None, "f34", "g"),
    "fill_diagonal": (lambda x, v: jnp.fill_diagonal(x, v, inplace=False), "f33 f", "g"),
    "flatnonzero": (lambda x: jnp.flatnonzero(x, size=5), "i34", ""),
    "flip": (lambda x: jnp.flip(x, 1), "f34", "g"), "fliplr": (None, "f34", "g"),
    "flipud": (None, "f34", "g"), "float_power": (None, "p34 f34", "g"),
    "floor": (None, "f34", ""), "floor_divide": (None, "f34 p34", ""),
    "floor_divide:int": (jnp.floor_divide, "i34 n34", ""),
    "frompyfunc": (lambda x, y: jnp.frompyfunc(lambda a, b: a * b + a, 2, 1)(x, y),
                   "f34 f4", "g"),
    "fmax": (None, "f34 f34", "g"), "fmin": (None, "f34 f34", "g"),
    "fmod": (None, "f34 p34", ""), "frexp": (None, "f34", ""),
    "full": (lambda v: jnp.full((2, 3), v), "f", "g"),
    "full_like": (lambda x, v: jnp.full_like(x, v), "i34 f", ""),
    "gcd": (None, "i34 i34", ""),
    "gradient": (lambda x: jnp.gradient(x, axis=1), "f34", "g"),
    "greater": (None, "f34 f34", ""), "greater_equal": (None, "f34 f34", ""),
    "heaviside": (None, "f34 f34", ""),
    "histogram": (lambda x: jnp.histogram(x, bins=4, range=(-2, 2)), "f34", ""),
    "histogram_bin_edges": (lambda x: jnp.histogram_bin_edges(x, bins=4), "f34", "g"),
    "histogram2d": (lambda x, y: jnp.histogram2d(x, y, bins=3, range=[(-2, 2), (-2, 2)]),
                    "f6 f6", ""),
    "histogramdd": (lambda x: jnp.histogramdd(x, bins=2, range=[(-2, 2)] * 3), "f43", ""),
    "hsplit": (lambda x: jnp.hsplit(x, 2), "f34", "g"),
    "hstack": (lambda x, y: jnp.hstack([x, y]), "f34 f32", "g"),
    "hypot": (None, "f34 f34", "g"), "i0": (None, "f34", "g"), "imag": (None, "c34", ""),
    "inner": (None, "f34 f24", "g"),
    "insert": (lambda x, v: jnp.insert(x, 1, v, axis=1), "f34 f3", "g"),
    "interp": (lambda x, xp, fp: jnp.interp(x, _s(xp), fp), "f34 f5 f5", ""),
    "intersect1d": (lambda x, y: jnp.intersect1d(x, y, size=4, fill_value=0), "i6 i6", ""),
    "invert": (None, "i34", ""), "isclose": (None, "f34 f34", ""),
    "iscomplex": (None, "c34", ""), "isfinite": (None, "f34", ""),
    "isin": (None, "i34 i5", ""), "isinf": (None, "f34", ""), "isnan": (None, "f34", ""),
    "isneginf": (None, "f34", ""), "isposinf": (None, "f34", ""),
    "isreal": (None, "c34", ""),
    "ix_": (None, "i3 i2", "v-"),
    "kron": (None, "f22 f23", "g"), "lcm": (None, "i34 i34", ""),
    "ldexp": (None, "f34 i34", ""), "left_shift": (None, "i34 n34", ""),
    "less": (None, "f34 f34", ""), "less_equal": (None, "f34 f34", ""),
    "lexsort": (lambda x, y: jnp.lexsort([x, y]), "n6 n6", ""),
    "log": (None, "p34", "g"), "log10": (None, "p34", "g"), "log1p": (None, "p34", "g"),
    "log2": (None, "p34", "g"), "logaddexp": (None, "f34 f34", "g"),
    "logaddexp2": (None, "f34 f34", "g"), "logical_and": (None, "b34 b34", ""),
    "logical_not": (None, "b34", ""), "logical_or": (None, "b34 i34", ""),
    "logical_xor": (None, "b34 b34", ""), "matmul": (None, "f234 f42", "g"),
    "matrix_transpose": (None, "f234", "g"), "matvec": (None, "f34 f4", "g"),
    "max": (lambda x: jnp.max(x, axis=1), "f34", "g"), "maximum": (None, "f34 f34", "g"),
    "mean": (lambda x: jnp.mean(x, axis=0), "f34", "g"),
    "median": (lambda x: jnp.median(x, axis=1), "f34", "g"),
    "meshgrid": (None, "f3 f2", "g"), "min": (lambda x: jnp.min(x), "f34", "g"),
    "minimum": (None, "f34 f34", "g"), "mod": (None, "f34 p34", ""),
    "mod:int": (jnp.mod, "i34 g34", ""), "modf": (None, "f34", ""),
    "moveaxis": (lambda x: jnp.moveaxis(x, 0, 2), "f234", "g"),
    "multiply": (None, "f34 f34", "g"),
    "nan_to_num": (None, "f34", "g"),
    "nanargmax": (lambda x: jnp.nanargmax(x, 1), "f34", ""),
    "nanargmin": (lambda x: jnp.nanargmin(x, 0), "f34", ""),
    "nancumprod": (lambda x: jnp.nancumprod(x, 1), "p34", "g"),
    "nancumsum": (lambda x: jnp.nancumsum(x, 0), "f34", "g"),
    "nanmax": (lambda x: jnp.nanmax(x, 1), "f34", "g"),
    "nanmean": (lambda x: jnp.nanmean(x, 1), "f34", "g"),
    "nanmedian": (lambda x: jnp.nanmedian(x, 0), "f34", "g"),
    "nanmin": (lambda x: jnp.nanmin(x, 0), "f34", "g"),
    "nanpercentile": (lambda x: jnp.nanpercentile(x, 30.0, axis=1), "f34", "g"),
    "nanprod": (lambda x: jnp.nanprod(x, 1), "p34", "g"),
    "nanquantile": (lambda x: jnp.nanquantile(x, 0.4, axis=0), "f34", "g"),
    "nanstd": (lambda x: jnp.nanstd(x, 1), "f34", "g"),
    "nansum": (lambda x: jnp.nansum(x, 0), "f34", "g"),
    "nanvar": (lambda x: jnp.nanvar(x, 1), "f34", "g"),
    "negative": (None, "f34", "g"), "nextafter": (None, "f34 f34", ""),
    "nonzero": (lambda x: jnp.nonzero(x, size=5), "i34", ""),
    "not_equal": (None, "f34 f34", ""), "ones_like": (None, "f34", ""),
    "outer": (None, "f3 f4", "g"),
    "packbits": (lambda b: jnp.packbits(b, axis=1), "b34", ""),
    "pad": (lambda x: jnp.pad(x, ((1, 0), (2, 1))), "f34", "g"),
    "pad:reflect": (lambda x: jnp.pad(x, 2, mode="reflect"), "f34", "g"),
    "partition": (lambda x: jnp.partition(x, 1, axis=0), "f34", "g"),
    "percentile": (lambda x, q: jnp.percentile(x, q, axis=1), "f34 n", "g"),
    "permute_dims": (lambda x: jnp.permute_dims(x, (2, 0, 1)), "f234", "g"),
    "piecewise": (lambda x: jnp.piecewise(x, [x < 0, x > 1], [lambda v: -v, lambda v: v * 3,
                                                               0.5]), "f34", "g"),
    "place": (lambda x, v: jnp.place(x, x > 0, v, inplace=False), "f34 f3", ""),
    "poly": (None, "f3", "g"), "polydiv": (lambda u, v: jnp.polydiv(u, v + 3.0), "f5 p2", "g"),
    # (j-: with other loops in one program IREE fails on svd's while loop; polyfit's jit
    # has its own program in test_jnp_extra.py)
    "polyfit": (lambda x, y: jnp.polyfit(x, y, 2), "f6 f6", "j-"),
    "polyadd": (None, "f3 f4", "g"), "polyder": (None, "f5", "g"),
    "polyint": (None, "f4", "g"),
    "roots": (lambda p: jnp.sort_complex(jnp.roots(p, strip_zeros=False)), "p4", ""),
    "polymul": (None, "f3 f4", "g"), "polysub": (None, "f4 f3", "g"),
    "polyval": (None, "f4 f34", "g"), "positive": (None, "f34", "g"),
    "pow": (None, "p34 f34", "g"), "power": (None, "p34 f34", "g"),
    "power:int": (jnp.power, "i34 n34", ""),
    "prod": (lambda x: jnp.prod(x, axis=1), "p34", "g"),
    "put": (lambda x, v: jnp.put(x, jnp.array([0, 5, 11]), v, inplace=False), "f34 f3", "g"),
    "put_along_axis": (lambda x, i, v: jnp.put_along_axis(x, i, v, axis=1, inplace=False),
                       "f34 n31 f31", "g"),
    "ptp": (lambda x: jnp.ptp(x, axis=0), "f34", "g"),
    "quantile": (lambda x: jnp.quantile(x, 0.25, axis=1, method="nearest"), "f34", "g"),
    "rad2deg": (None, "f34", "g"), "radians": (None, "f34", "g"),
    "ravel": (None, "f34", "g"),
    "ravel_multi_index": (lambda i, j: jnp.ravel_multi_index((i, j), (3, 4), mode="clip"),
                          "n5 n5", ""),
    "real": (None, "c34", ""), "reciprocal": (None, "p34", "g"),
    "remainder": (None, "f34 p34", ""),
    "repeat": (lambda x: jnp.repeat(x, 2, axis=1), "f34", "g"),
    "reshape": (lambda x: jnp.reshape(x, (2, 6)), "f34", "g"),
    "resize": (lambda x: jnp.resize(x, (5, 3)), "f34", "g"),
    "right_shift": (None, "i34 n34", ""), "rint": (None, "f34", ""),
    "roll": (lambda x: jnp.roll(x, 2, axis=1), "f34", "g"),
    "roll:traced": (lambda x, s: jnp.roll(x, s[0] - 5, axis=1), "f34 i1", ""),
    "rollaxis": (lambda x: jnp.rollaxis(x, 2), "f234", "g"),
    "rot90": (None, "f34", "g"), "round": (lambda x: jnp.round(x, 1), "f34", ""),
    "searchsorted": (lambda a, v: jnp.searchsorted(_s(a), v), "f6 f34", ""),
    "select": (lambda c, x, y: jnp.select([c, ~c], [x, y], 0.5), "b34 f34 f34", "g"),
    "setdiff1d": (lambda x, y: jnp.setdiff1d(x, y, size=4, fill_value=0), "i6 i6", ""),
    "setxor1d": (lambda x, y: jnp.setxor1d(x, y, size=4, fill_value=0), "i6 i6", ""),
    "sign": (None, "f34", ""), "signbit": (None, "f34", ""), "sin": (None, "f34", "g"),
    "sinc": (None, "f34", "g"), "sinh": (None, "f34", "g"),
    "sort": (lambda x: jnp.sort(x, axis=0), "f34", "g"),
    "sort_complex": (None, "f6", ""), "spacing": (None, "f34", ""),
    "split": (lambda x: jnp.split(x, [1, 3], axis=1), "f34", "g"),
    "sqrt": (None, "p34", "g"), "square": (None, "f34", "g"),
    "squeeze": (None, "f314", "g"),
    "stack": (lambda x, y: jnp.stack([x, y], 1), "f34 f34", "g"),
    "std": (lambda x: jnp.std(x, axis=1, ddof=1), "f34", "g"),
    "subtract": (None, "f34 f34", "g"), "sum": (lambda x: jnp.sum(x, axis=0), "f34", "g"),
    "swapaxes": (lambda x: jnp.swapaxes(x, 0, 1), "f34", "g"),
    "take": (lambda x, i: jnp.take(x, i, axis=1), "f34 n5", "g"),
    "take_along_axis": (lambda x, i: jnp.take_along_axis(x, i, axis=1), "f34 n32", "g"),
    "tan": (None, "u34", "g"), "tanh": (None, "f34", "g"),
    "tensordot": (lambda x, y: jnp.tensordot(x, y, 1), "f34 f42", "g"),
    "tile": (lambda x: jnp.tile(x, (2, 1)), "f34", "g"),
    "trace": (None, "f34", "g"), "transpose": (None, "f234", "g"),
    "trapezoid": (lambda y, x: jnp.trapezoid(y, _s(x)), "f34 f4", "g"),
    "tril": (lambda x: jnp.tril(x, 1), "f34", "g"),
    "tril_indices_from": (None, "f33", "v-"),
    "trim_zeros": (lambda x: jnp.trim_zeros(x), "n6", "j- v-"),
    "triu": (None, "f34", "g"), "triu_indices_from": (lambda x: jnp.triu_indices_from(x, 1),
                                                   "f34", "v-"),
    "true_divide": (None, "f34 p34", "g"), "trunc": (None, "f34", ""),
    "union1d": (lambda x, y: jnp.union1d(x, y, size=8, fill_value=0), "i6 i6", ""),
    "unique": (lambda x: jnp.unique(x, size=6, fill_value=0), "i34", ""),
    "unique_all": (lambda x: jnp.unique_all(x, size=6, fill_value=0), "i34", ""),
    "unique_counts": (lambda x: jnp.unique_counts(x, size=6, fill_value=0), "i34", ""),
    "unique_inverse": (lambda x: jnp.unique_inverse(x, size=6, fill_value=0), "i34", ""),
    "unique_values": (lambda x: jnp.unique_values(x, size=6, fill_value=0), "i34", ""),
    "unpackbits": (lambda x: jnp.unpackbits(x.astype(jnp.uint8), axis=1), "n34", ""),
    "unravel_index": (lambda i: jnp.unravel_index(i, (3, 4)), "n6", ""),
    "unstack": (lambda x: jnp.unstack(x, axis=1), "f34", "g"),
    "unwrap": (lambda x: jnp.unwrap(x * 3.0), "f34", "g"),
    "vander": (lambda x: jnp.vander(x, 3), "f4", "g"),
    "var": (lambda x: jnp.var(x, axis=0), "f34", "g"), "vdot": (None, "f34 f34", "g"),
    "vectorize": (lambda x, y: jnp.vectorize(jnp.dot, signature="(n),(n)->()")(x, y),
                  "f34 f4", "g"),
    "vecdot": (None, "f34 f34", "g"), "vecmat": (None, "f3 f34", "g"),
    "vsplit": (lambda x: jnp.vsplit(x, 3), "f34", "g"),
    "vstack": (lambda x, y: jnp.vstack([x, y]), "f34 f4", "g"),
    "where": (None, "b34 f34 f34", "g"), "zeros_like": (None, "f34", ""),
}
IDS = sorted(CASES)


def _fn(name):
  f = CASES[name][0]
  return f if f is not None else getattr(jnp, name)


def _args(name, rng, batch=None):
  return [_make(c, rng, batch) for c in CASES[name][1].split()]


def test_every_array_function_is_swept():
  names = {n for n in dir(jnp) if not n.startswith("_")}
  dtypes_ = {n for n in names if isinstance(getattr(jnp, n), type)}
  consts = {n for n in names if not callable(getattr(jnp, n))}
  swept = {k.split(":")[0] for k in CASES}
  missing = sorted(names - dtypes_ - consts - EXCLUDED - swept)
  assert not missing, missing
  assert not swept - names, sorted(swept - names)


def _leaves(out):
  return pyjax.tree_util.tree_leaves(out)


def _check_outs(got, want, name, scale):
  got, want = _leaves(got), _leaves(want)
  assert len(got) == len(want), name
  for g, w in zip(got, want):
    g, w = np.asarray(g), np.asarray(w)
    check_close(g, w, scale=scale, err_msg=name)


# ------------------------------------------------------------ jit vs eager, batched

_JIT_IDS = [n for n in IDS if "j-" not in CASES[n][2]]
_CHUNK = 55
_CHUNKS = [_JIT_IDS[i:i + _CHUNK] for i in range(0, len(_JIT_IDS), _CHUNK)]


@pytest.mark.parametrize("chunk", range(len(_CHUNKS)))
def test_jit_matches_eager(chunk):
  """One compiled program holds all the chunk's cases."""
  names = _CHUNKS[chunk]
  rng = np.random.default_rng(chunk)
  args = [_args(n, rng) for n in names]
  flat = [a for aa in args for a in aa]

  def many(*xs):
    outs, i = [], 0
    for n, aa in zip(names, args):
      outs.append(_fn(n)(*xs[i:i + len(aa)]))
      i += len(aa)
    return outs

  bad = []
  for n, aa in zip(names, args):  # (names the culprits of a failure to trace)
    try:
      pyjax.make_jaxpr(_fn(n))(*aa)
    except Exception as e:  # noqa: BLE001
      bad.append(f"{n}: {type(e).__name__}: {str(e).splitlines()[0]}")
  assert not bad, "\n".join(bad)
  got = pyjax.jit(many)(*flat)
  for n, g, aa in zip(names, got, args):
    _check_outs(g, _fn(n)(*aa), n, scale=16)


# ------------------------------------------------------------ vmap vs a Python loop

_VMAP_IDS = [n for n in IDS if "v-" not in CASES[n][2]]


@pytest.mark.parametrize("name", _VMAP_IDS)
def test_vmap_matches_loop(name):
  rng = np.random.default_rng(len(name))
  args = _args(name, rng, batch=3)
  f = _fn(name)
  got = pyjax.vmap(f)(*args)
  outs = [f(*[a[i] for a in args]) for i in range(3)]
  want = [np.stack([np.asarray(_leaves(o)[k]) for o in outs]) for k in
          range(len(_leaves(outs[0])))]
  _check_outs(got, want, name, scale=4)


# ------------------------------------------------------------ grad vs finite differences

_GRAD_IDS = [n for n in IDS if "g" in CASES[n][2].split()]


@pytest.mark.parametrize("name", _GRAD_IDS)
def test_grad_matches_finite_differences(name):
  """Reverse mode (VJP) in float64 against central differences, with respect to the
  float operands (the others held fixed)."""
  rng = np.random.default_rng(len(name) + 7)
  args = _args(name, rng)
  f = _fn(name)
  fl = [i for i, a in enumerate(args) if a.dtype.kind == "f"]
  with enable_x64(True):
    wide = [a.astype(np.float64) if i in fl else a for i, a in enumerate(args)]

    def g(*xs):
      full = list(wide)
      for i, x in zip(fl, xs):
        full[i] = x
      out = f(*full)
      return [o for o in _leaves(out) if jnp.issubdtype(o.dtype, jnp.inexact)]

    check_grads(g, [wide[i] for i in fl], 1, modes=("rev",), atol=1e-5, rtol=1e-5)

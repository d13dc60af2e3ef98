"""jax.numpy shape, math, sorting, set and einsum functions: against NumPy, real JAX
(dtypes and weak types, when installed), and through make_jaxpr (traceability)."""

import functools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import pyjax
import pyjax.numpy as jnp
from pyjax._src import core

import util
from oracle import Oracle, lazy
from util import check_jax_dtype, rand, same_error_class, traced

jax = lazy("jax")
jax_np = lazy("jax.numpy")
ORACLE = Oracle("test_lax_numpy")

# (these compare with NumPy and JAX results of the same dtype)
check_close = functools.partial(util.check_close, check_dtype=True)

F32, I32, B, F16 = np.float32, np.int32, np.bool_, np.float16
x34 = rand((3, 4), F32, 0, low=-5, high=5)
i34 = rand((3, 4), I32, 1, low=-5, high=5)
b34 = rand((3, 4), B, 2, low=-5, high=5)
h34 = rand((3, 4), F16, 3, low=-5, high=5)
v7 = rand((7,), F32, 4, low=-5, high=5)
nanv = np.array([1., np.nan, 2., -np.inf, 4.], F32)
nanm = np.array([[1., np.nan, 3.], [np.nan, np.nan, np.nan], [0., 2., -1.]], F32)
sq3 = rand((3, 3), F32, 5, low=-5, high=5)
t234 = rand((2, 3, 4), F32, 6, low=-5, high=5)

# (id, fn(m, *arrays), arrays, traceable). ``m`` is jax.numpy or pyjax.numpy.
CASES = [
  ("split", lambda m, x: m.split(x, 2, axis=1), [x34], True),
  ("split_idx", lambda m, x: m.split(x, [2, 5]), [v7], True),
  ("split_dup_idx", lambda m, x: m.split(x, [1, 5, 5]), [v7], True),
  ("array_split", lambda m, x: m.array_split(x, 3), [v7], True),
  ("array_split_many", lambda m, x: m.array_split(x, 9), [v7], True),
  ("hsplit", lambda m, x: m.hsplit(x, 2), [x34], True),
  ("hsplit1d", lambda m, x: m.hsplit(x, [3]), [v7], True),
  ("vsplit", lambda m, x: m.vsplit(x, 3), [x34], True),
  ("vsplit_1d", lambda m, x: m.vsplit(x, [2]), [v7], True),
  ("dsplit", lambda m, x: m.dsplit(x, 2), [t234], True),
  ("tile", lambda m, x: m.tile(x, (2, 1, 2)), [x34], True),
  ("tile_int", lambda m, x: m.tile(x, 2), [v7], True),
  ("tile_bool", lambda m, x: m.tile(x, (2, 1)), [b34], True),
  ("tile_0d", lambda m, x: m.tile(x, 3), [np.float32(2)], True),
  ("tile_zero", lambda m, x: m.tile(x, (0, 2)), [x34], True),
  ("repeat", lambda m, x: m.repeat(x, 2, axis=1), [x34], True),
  ("repeat_arr", lambda m, x: m.repeat(x, np.array([1, 0, 2]), axis=0), [i34], True),
  ("repeat_flat", lambda m, x: m.repeat(x, 3), [b34], True),
  ("repeat_0d", lambda m, x: m.repeat(x, 3), [np.int32(4)], True),
  ("repeat_trl", lambda m, x: m.repeat(x, np.array([1, 0, 1]), total_repeat_length=5),
   [np.array([1, 2, 3], I32)], True),
  ("repeat_trl_short", lambda m, x: m.repeat(x, 2, total_repeat_length=3),
   [np.array([1, 2, 3], I32)], True),
  ("flip", lambda m, x: m.flip(x), [x34], True),
  ("flip_ax", lambda m, x: m.flip(x, (0, 2)), [t234], True),
  ("flip_0d", lambda m, x: m.flip(x), [np.float32(3)], True),
  ("fliplr", lambda m, x: m.fliplr(x), [i34], True),
  ("flipud", lambda m, x: m.flipud(x), [h34], True),
  ("roll", lambda m, x: m.roll(x, 5), [x34], True),
  ("roll_neg", lambda m, x: m.roll(x, -9, axis=1), [x34], True),
  ("roll_multi", lambda m, x: m.roll(x, (1, -1), (0, 1)), [i34], True),
  ("roll_empty", lambda m, x: m.roll(x, 2, 0), [np.zeros((0, 3), F32)], True),
  ("rot90", lambda m, x: m.rot90(x), [x34], True),
  ("rot90_2", lambda m, x: m.rot90(x, -2), [x34], True),
  ("rot90_3", lambda m, x: m.rot90(x, 3, axes=(2, 0)), [t234], True),
  ("atleast_1d", lambda m, x: m.atleast_1d(x), [np.float32(1)], True),
  ("atleast_2d_multi", lambda m, x, y: m.atleast_2d(x, y), [v7, np.int32(1)], True),
  ("atleast_3d_1d", lambda m, x: m.atleast_3d(x), [v7], True),
  ("atleast_3d_2d", lambda m, x: m.atleast_3d(x), [x34], True),
  ("hstack", lambda m, x, y: m.hstack([x, y]), [x34, i34], True),
  ("hstack_1d", lambda m, x: m.hstack([x, x]), [v7], True),
  ("vstack", lambda m, x: m.vstack([x, x]), [v7], True),
  ("dstack", lambda m, x, y: m.dstack([x, y]), [x34, b34], True),
  ("column_stack", lambda m, x: m.column_stack([x, x]), [v7], True),
  ("column_stack_2d", lambda m, x, y: m.column_stack([x, y]), [x34, i34], True),
  ("append", lambda m, x: m.append(x, x, axis=0), [x34], True),
  ("append_flat", lambda m, x: m.append(x, 2.5), [i34], True),
  ("pad_const", lambda m, x: m.pad(x, ((1, 2), (0, 3)), constant_values=7), [x34], True),
  ("pad_const_int", lambda m, x: m.pad(x, 2), [i34], True),
  ("pad_const_pairs", lambda m, x: m.pad(x, ((1, 2), (0, 3)), constant_values=((1, 2), (3, 4))),
   [x34], True),
  ("pad_edge", lambda m, x: m.pad(x, 2, mode="edge"), [x34], True),
  ("pad_reflect", lambda m, x: m.pad(x, ((5, 2), (7, 3)), mode="reflect"), [x34], True),
  ("pad_symmetric", lambda m, x: m.pad(x, ((5, 2), (7, 3)), mode="symmetric"), [i34], True),
  ("pad_wrap", lambda m, x: m.pad(x, ((5, 2), (7, 3)), mode="wrap"), [x34], True),
  ("pad_maximum", lambda m, x: m.pad(x, ((1, 2), (2, 1)), mode="maximum"), [x34], True),
  ("pad_minimum_stat", lambda m, x: m.pad(x, 2, mode="minimum", stat_length=2), [x34], True),
  ("pad_mean_int", lambda m, x: m.pad(x, ((1, 2), (2, 1)), mode="mean"), [i34], True),
  ("pad_linear_ramp", lambda m, x: m.pad(x, ((1, 2), (2, 1)), mode="linear_ramp",
                                         end_values=3), [x34], True),
  ("pad_bool", lambda m, x: m.pad(x, 1, mode="wrap"), [b34], True),
  ("diag_1d", lambda m, x: m.diag(x, 2), [v7], True),
  ("diag_1d_neg", lambda m, x: m.diag(x, -1), [v7], True),
  ("diag_2d", lambda m, x: m.diag(x, 1), [x34], True),
  ("diag_2d_far", lambda m, x: m.diag(x, 9), [x34], True),
  ("diagonal", lambda m, x: m.diagonal(x, -1, 2, 0), [t234], True),
  ("diagonal_bool", lambda m, x: m.diagonal(x), [b34], True),
  ("diagflat", lambda m, x: m.diagflat(x, -2), [i34], True),
  ("trace", lambda m, x: m.trace(x), [x34], True),
  ("trace_offset", lambda m, x: m.trace(x, 1, dtype=np.float32), [i34], True),
  ("trace_bool", lambda m, x: m.trace(x), [b34], True),
  ("trace_3d", lambda m, x: m.trace(x, 0, 1, 2), [t234], True),
  ("tri", lambda m: m.tri(3, 4, 1), [], True),
  ("tri_dtype", lambda m: m.tri(3, dtype=np.int32), [], True),
  ("tril", lambda m, x: m.tril(x, -1), [x34], True),
  ("triu", lambda m, x: m.triu(x, 1), [t234], True),
  ("tril_indices", lambda m: m.tril_indices(3, 1, 4), [], True),
  ("triu_indices", lambda m: m.triu_indices(4), [], True),
  ("tril_indices_from", lambda m, x: m.tril_indices_from(x), [x34], True),
  ("diag_indices", lambda m: m.diag_indices(3, 3), [], True),
  ("meshgrid", lambda m, x, y: m.meshgrid(x, y, x), [v7[:3], v7[:4]], True),
  ("meshgrid_ij_sparse", lambda m, x, y: m.meshgrid(x, y, indexing="ij", sparse=True),
   [v7[:3], np.arange(4, dtype=I32)], True),
  ("indices", lambda m: m.indices((2, 3)), [], True),
  ("indices_sparse", lambda m: m.indices((2, 3), sparse=True), [], True),
  ("ix_", lambda m, x, y: m.ix_(x, y), [np.arange(2, dtype=I32), np.arange(3, dtype=I32)], True),
  ("clip", lambda m, x: m.clip(x, 1.5, 3), [i34], True),
  ("clip_int", lambda m, x: m.clip(x, 1, 3), [i34], True),
  ("clip_max", lambda m, x: m.clip(x, max=0.2), [x34], True),
  ("clip_none", lambda m, x: m.clip(x), [x34], True),
  ("clip_arr", lambda m, x, y: m.clip(x, y), [x34, v7[:4]], True),
  ("round", lambda m, x: m.round(x, 2), [x34], True),
  ("round_half_even", lambda m, x: m.round(x), [np.array([0.5, 1.5, 2.5, -0.5, -1.5], F32)], True),
  ("round_f16", lambda m, x: m.round(x, 1), [h34], True),
  ("round_int", lambda m, x: m.round(x, 2), [i34], True),
  ("round_neg_dec", lambda m, x: m.round(x, -1), [np.array([15., 25., 149.], F32)], True),
  ("around", lambda m, x: m.around(x), [x34], True),
  ("round_complex", lambda m, x: m.round(x), [np.array([1.5 + 2.5j], np.complex64)], True),
  ("round_py", lambda m: m.round(2.5), [], True),
  ("isclose", lambda m, x, y: m.isclose(x, y), [np.array([1., np.inf, np.nan, 1e-9, -np.inf], F32),
                                               np.array([1.000001, np.inf, np.nan, 0, np.inf], F32)], True),
  ("isclose_nan", lambda m, x, y: m.isclose(x, y, equal_nan=True),
   [np.array([1., np.nan], F32), np.array([1., np.nan], F32)], True),
  ("isclose_int", lambda m, x: m.isclose(x, x), [i34], True),
  ("isclose_py", lambda m: m.isclose(1, 1.0), [], True),
  ("allclose", lambda m, x, y: m.allclose(x, y), [x34, x34 + 1e-7], True),
  ("array_equal", lambda m, x: m.array_equal(x, x), [i34], True),
  ("array_equal_shape", lambda m, x, y: m.array_equal(x, y), [x34, v7], True),
  ("array_equal_nan", lambda m, x: m.array_equal(x, x, equal_nan=True), [nanv], True),
  ("array_equiv", lambda m, x: m.array_equiv(x, 1), [np.array([1, 1], I32)], True),
  ("array_equiv_bad", lambda m, x, y: m.array_equiv(x, y), [x34, v7], True),
  ("nan_to_num", lambda m, x: m.nan_to_num(x, posinf=9.0), [np.array([np.nan, np.inf, -np.inf, 1.], F32)], True),
  ("nan_to_num_f16", lambda m, x: m.nan_to_num(x), [np.array([np.nan, np.inf, -np.inf], F16)], True),
  ("nan_to_num_int", lambda m, x: m.nan_to_num(x), [i34], True),
  ("interp", lambda m, x, xp, fp: m.interp(x, xp, fp),
   [np.array([-1, 0.5, 1.7, 3.0, 5.0, 4.0], F32), np.array([0., 1., 2., 4.], F32),
    np.array([1., 3., 2., 0.], F32)], True),
  ("interp_lr", lambda m, x, xp, fp: m.interp(x, xp, fp, left=-7, right=9),
   [np.array([-1, 0.5, 5.0], F32), np.array([0., 1., 2., 4.], F32), np.array([1., 3., 2., 0.], F32)], True),
  ("interp_int", lambda m, x, xp, fp: m.interp(x, xp, fp),
   [np.array([0.5, 3.], F32), np.array([0, 1, 2], I32), np.array([1, 2, 4], I32)], True),
  ("interp_period", lambda m, x, xp, fp: m.interp(x, xp, fp, period=360),
   [np.array([-1, 0.5, 5.0, 370], F32), np.array([0., 90., 180., 270.], F32),
    np.array([1., 3., 2., 0.], F32)], True),
  ("cross", lambda m, x, y: m.cross(x, y), [x34[:, :3], x34[::-1, :3]], True),
  ("cross_2_3", lambda m, x, y: m.cross(x, y), [np.array([1., 2.], F32), np.array([3., 4., 5.], F32)], True),
  ("cross_2_2", lambda m, x, y: m.cross(x, y), [np.array([1, 2], I32), np.array([3, 4], I32)], True),
  ("cross_axis", lambda m, x, y: m.cross(x, y, axis=0), [x34[:3], x34[::-1][:3]], True),
  ("kron", lambda m, x, y: m.kron(x, y), [x34, i34[:2, :2]], True),
  ("kron_1d_2d", lambda m, x, y: m.kron(x, y), [v7[:2], sq3], True),
  ("diff", lambda m, x: m.diff(x, 2, axis=0), [x34], True),
  ("diff_pre_app", lambda m, x: m.diff(x, prepend=0, append=np.array([1., 2.], F32)), [v7], True),
  ("diff_bool", lambda m, x: m.diff(x), [np.array([True, False, False])], True),
  ("diff_n0", lambda m, x: m.diff(x, 0), [x34], True),
  ("diff_int", lambda m, x: m.diff(x, 3), [i34], True),
  ("ediff1d", lambda m, x: m.ediff1d(x, to_begin=np.array([1, 2]), to_end=3), [x34], True),
  ("ediff1d_cast", lambda m, x: m.ediff1d(x, to_begin=1.5), [np.arange(5, dtype=I32)], True),
  ("convolve", lambda m, x, y: m.convolve(x, y), [v7, v7[:3]], True),
  ("convolve_same_swap", lambda m, x, y: m.convolve(x, y, mode="same"), [v7[:2], v7], True),
  ("convolve_valid", lambda m, x, y: m.convolve(x, y, mode="valid"), [v7, v7[:3]], True),
  ("correlate_same", lambda m, x, y: m.correlate(x, y, mode="same"), [v7, v7[:4]], True),
  ("correlate_full_swap", lambda m, x, y: m.correlate(x, y, mode="full"), [v7[:2], v7], True),
  ("correlate_int", lambda m, x, y: m.correlate(x, y), [np.arange(5, dtype=I32), np.array([1, 2], I32)], True),
  ("bincount", lambda m, x: m.bincount(x), [np.array([0, 1, 1, 3, 3, 3], I32)], False),
  ("bincount_len", lambda m, x: m.bincount(x, length=2), [np.array([0, 1, 1, 3], I32)], True),
  ("bincount_w", lambda m, x, w: m.bincount(x, w, minlength=6, length=6),
   [np.array([0, 1, 1, 3], I32), np.array([.5, 1., 2., 3.], F32)], True),
  ("sort", lambda m, x: m.sort(x), [np.array([3., np.nan, 1., -np.inf, 2., -0.0, 0.0], F32)], True),
  ("sort_axis0_desc", lambda m, x: m.sort(x, axis=0, descending=True), [x34], True),
  ("sort_none", lambda m, x: m.sort(x, axis=None), [i34], True),
  ("sort_bool", lambda m, x: m.sort(x), [b34], True),
  ("sort_f16", lambda m, x: m.sort(x, axis=0), [h34], True),
  ("sort_empty", lambda m, x: m.sort(x), [np.zeros((2, 0), F32)], True),
  ("argsort", lambda m, x: m.argsort(x), [np.array([3, 1, 2, 1, 3], I32)], True),
  ("argsort_desc", lambda m, x: m.argsort(x, descending=True), [np.array([3, 1, 2, 1, 3], I32)], True),
  ("argsort_desc_2d", lambda m, x: m.argsort(x, axis=0, descending=True), [np.array([[1, 2], [1, 0], [3, 2]], I32)], True),
  ("argsort_none", lambda m, x: m.argsort(x, axis=None), [x34], True),
  ("argsort_nan", lambda m, x: m.argsort(x), [nanv], True),
  ("lexsort", lambda m, a, b: m.lexsort((a, b)), [np.array([1, 2, 1, 2], I32), np.array([0, 0, 1, 0], I32)], True),
  ("lexsort_2d", lambda m, a, b: m.lexsort((a, b), axis=0), [i34, b34], True),
  ("searchsorted", lambda m, a, v: m.searchsorted(a, v),
   [np.array([1., 2., 2., 3.], F32), np.array([[0, 2, 2.5], [3, 4, np.nan]], F32)], True),
  ("searchsorted_right", lambda m, a, v: m.searchsorted(a, v, side="right"),
   [np.array([1., 2., 2., 3.], F32), np.array([0, 2, 2.5, 3, 4], F32)], True),
  ("searchsorted_scalar", lambda m, a: m.searchsorted(a, 2), [np.array([1, 2, 3], I32)], True),
  ("searchsorted_sorter", lambda m, a, s, v: m.searchsorted(a, v, sorter=s),
   [np.array([3., 1., 2.], F32), np.array([1, 2, 0], I32), np.array([0.5, 2.5, 4.], F32)], True),
  ("partition_sorted", lambda m, x: m.sort(m.partition(x, 3)), [v7], True),
  ("unique", lambda m, x: m.unique(x, return_index=True, return_inverse=True, return_counts=True),
   [np.array([3, 1, 2, 1, 3], I32)], False),
  ("unique_2d", lambda m, x: m.unique(x), [i34], False),
  ("unique_size", lambda m, x: m.unique(x, size=5), [np.array([3, 1, 2, 1, 3], I32)], False),
  ("unique_fill", lambda m, x: m.unique(x, size=5, fill_value=0), [np.array([3, 1, 2, 1, 3], I32)], False),
  ("unique_axis", lambda m, x: m.unique(x, axis=0), [np.array([[1, 2], [1, 2], [0, 1]], I32)], False),
  ("unique_nan", lambda m, x: m.unique(x), [np.array([np.nan, 1., np.nan], F32)], False),
  ("isin", lambda m, x, t: m.isin(x, t), [i34, np.array([1, 2, 3], I32)], True),
  ("isin_invert", lambda m, x, t: m.isin(x, t, invert=True), [i34, np.array([[1], [2]], I32)], True),
  ("union1d", lambda m, a, b: m.union1d(a, b), [np.array([3, 1], I32), np.array([2., 1.], F32)], False),
  ("intersect1d", lambda m, a, b: m.intersect1d(a, b), [np.array([3, 1, 2], I32), np.array([2, 1, 7], I32)], False),
  ("setdiff1d", lambda m, a, b: m.setdiff1d(a, b), [np.array([3, 1, 2], I32), np.array([2], I32)], False),
  ("setxor1d", lambda m, a, b: m.setxor1d(a, b), [np.array([3, 1, 2], I32), np.array([2, 5], I32)], False),
  ("einsum_matmul", lambda m, x: m.einsum("ij,jk->ik", x, x.T), [x34], True),
  ("einsum_trace", lambda m, x: m.einsum("ii", x), [sq3], True),
  ("einsum_diag", lambda m, x: m.einsum("ii->i", x), [sq3], True),
  ("einsum_ellipsis", lambda m, a, b, c: m.einsum("...ij,jk,kk->i...", a, b, c),
   [t234, x34.T, sq3], True),
  ("einsum_chain", lambda m, a, b: m.einsum("ij,jk,kl->il", a, b, a), [x34, x34.T], True),
  ("einsum_outer", lambda m, a, b: m.einsum("i,j", a, b), [v7, v7[:3]], True),
  ("einsum_int_scalar", lambda m, a: m.einsum("ij,ij->", a, a), [i34], True),
  ("einsum_mixed", lambda m, a, b: m.einsum("ij,ij->i", a, b), [i34, x34], True),
  ("einsum_bcast", lambda m, a, b: m.einsum("...i,...i->...", a, b),
   [np.ones((2, 1, 3), F32), np.ones((4, 3), F32)], True),
  ("einsum_sum", lambda m, a: m.einsum("ijk->j", a), [t234], True),
  ("einsum_transpose", lambda m, a: m.einsum("ijk->kij", a), [t234], True),
  ("einsum_batch", lambda m, a, b: m.einsum("bij,bjk->bki", a, b), [t234, np.swapaxes(t234, 1, 2)], True),
  ("einsum_pet", lambda m, a: m.einsum("ij,jk->ik", a, a.T, preferred_element_type=np.float32), [i34], True),
  ("iscomplexobj", lambda m, x: m.asarray(m.iscomplexobj(x)), [x34], False),
  ("vander", lambda m, x: m.vander(x), [np.array([1, 2, 3], I32)], True),
  ("vander_inc", lambda m, x: m.vander(x, 4, increasing=True), [v7[:3]], True),
  ("select", lambda m, x, y: m.select([x > 0, x < -2], [x, y], 9), [i34, x34], True),
  ("cov", lambda m, x: m.cov(x), [x34], True),
  ("cov_weights", lambda m, x, f, a: m.cov(x, fweights=f, aweights=a),
   [x34, np.array([1, 2, 3, 1], I32), np.array([.5, 1., 2., .25], F32)], True),
  ("cov_aweights_ddof0", lambda m, x, a: m.cov(x, aweights=a, ddof=0),
   [x34, np.array([.5, 1., 2., .25], F32)], True),
  ("corrcoef", lambda m, x: m.corrcoef(x), [x34], True),
  ("unravel_index", lambda m, x: m.unravel_index(x, (3, 4)), [np.array([5, 7, -1], I32)], True),
  ("ravel_multi_index", lambda m, a, b: m.ravel_multi_index((a, b), (3, 4), mode="clip"),
   [np.array([1, 2], I32), np.array([3, 9], I32)], True),
  ("trapezoid", lambda m, x: m.trapezoid(x, axis=0), [x34], True),
  ("trapezoid_x", lambda m, y, x: m.trapezoid(y, x), [x34, np.array([0., 1., 3., 4.], F32)], True),
  ("logspace", lambda m: m.logspace(0, 2, 5), [], True),
  ("geomspace", lambda m: m.geomspace(1, 100, 3), [], True),
  ("copy", lambda m, x: m.copy(x), [x34], True),
  ("delete", lambda m, x: m.delete(x, np.array([0, 2]), axis=1), [x34], True),
  ("delete_slice", lambda m, x: m.delete(x, slice(1, None, 2)), [i34], True),
  ("fill_diagonal", lambda m, x: m.fill_diagonal(x, 5, inplace=False), [x34], True),
  ("rollaxis", lambda m, x: m.rollaxis(x, 2), [t234], True),
  ("where_bcast", lambda m, c, x: m.where(c, x, 5.0), [b34, v7[:4]], True),
]
IDS = [c[0] for c in CASES]


def _args(mod, arrays):
  return [mod.asarray(a) for a in arrays]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_jax(case):
  _, fn, arrays, _ = case
  ref = ORACLE.call(lambda: fn(jax_np, *_args(jax_np, arrays)))
  ours = fn(jnp, *_args(jnp, arrays))
  if isinstance(ref, tuple) and not isinstance(ours, tuple) and hasattr(ours, "_fields"):
    ours = tuple(ours)
  check_close(ours, ref, rtol=2e-2 if np.float16 in [np.asarray(a).dtype for a in arrays]
              else 1e-4)
  check_jax_dtype(ours, ref)


@pytest.mark.parametrize("case", [c for c in CASES if c[3]], ids=[c[0] for c in CASES if c[3]])
def test_traceable(case):
  _, fn, arrays, _ = case
  if not arrays:
    return
  args = _args(jnp, arrays)
  eager = fn(jnp, *args)
  check_close(traced(lambda *a: fn(jnp, *a), *args), eager)


# ------------------------------------------------------------ against NumPy, random shapes

shapes_st = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
dtypes_st = st.sampled_from([np.float32, np.int32, np.bool_, np.float16])


@settings(max_examples=40, deadline=None)
@given(shapes_st, dtypes_st, st.integers(0, 3))
def test_flip_roll_vs_numpy(shape, dtype, seed):
  x = rand(shape, dtype, seed, low=-5, high=5)
  check_close(jnp.flip(jnp.asarray(x)), np.flip(x))
  if x.ndim:
    ax = seed % x.ndim
    check_close(jnp.roll(jnp.asarray(x), seed - 1, ax), np.roll(x, seed - 1, ax))
    check_close(jnp.flip(jnp.asarray(x), ax), np.flip(x, ax))
  check_close(jnp.roll(jnp.asarray(x), seed + 2), np.roll(x, seed + 2))


@settings(max_examples=40, deadline=None)
@given(shapes_st, dtypes_st, st.integers(0, 3))
def test_tile_repeat_vs_numpy(shape, dtype, r):
  x = rand(shape, dtype, r, low=-5, high=5)
  check_close(jnp.tile(jnp.asarray(x), (r, 2)), np.tile(x, (r, 2)))
  check_close(jnp.repeat(jnp.asarray(x), r), np.repeat(x, r))
  if x.ndim:
    check_close(jnp.repeat(jnp.asarray(x), r, axis=-1), np.repeat(x, r, axis=-1))
    reps = np.arange(x.shape[0]) % 3
    check_close(jnp.repeat(jnp.asarray(x), reps, axis=0), np.repeat(x, reps, axis=0))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), dtypes_st,
       st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]), st.integers(0, 5))
def test_pad_vs_numpy(shape, dtype, mode, w):
  x = rand(shape, dtype, w, low=-5, high=5)
  pw = [(w % 3, (w * 7) % 6) for _ in shape]
  check_close(jnp.pad(jnp.asarray(x), pw, mode=mode), np.pad(x, pw, mode=mode))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=2, max_size=4).map(tuple), dtypes_st,
       st.integers(-4, 4))
def test_diagonal_tri_vs_numpy(shape, dtype, k):
  x = rand(shape, dtype, 1, low=-5, high=5)
  check_close(jnp.diagonal(jnp.asarray(x), k), np.diagonal(x, k))
  check_close(jnp.diagonal(jnp.asarray(x), k, -1, 0), np.diagonal(x, k, -1, 0))
  check_close(jnp.tril(jnp.asarray(x), k), np.tril(x, k))
  check_close(jnp.triu(jnp.asarray(x), k), np.triu(x, k))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 9), st.integers(1, 4), dtypes_st)
def test_split_vs_numpy(n, k, dtype):
  x = rand((n, 2), dtype, 0, low=-5, high=5)
  for o, r in zip(jnp.array_split(jnp.asarray(x), k), np.array_split(x, k)):
    check_close(o, r)
  if n % k == 0:
    for o, r in zip(jnp.split(jnp.asarray(x), k), np.split(x, k)):
      check_close(o, r)


@settings(max_examples=40, deadline=None)
@given(shapes_st, st.sampled_from([np.float32, np.int32, np.bool_]), st.integers(0, 3),
       st.booleans())
def test_sort_argsort_vs_numpy(shape, dtype, seed, descending):
  x = rand(shape, dtype, seed, low=-5, high=5)
  if x.ndim == 0:
    check_close(jnp.sort(jnp.asarray(x), axis=None), np.sort(x, axis=None))
    return
  ax = seed % x.ndim
  ref = np.sort(x, axis=ax, kind="stable")
  idx = np.argsort(x, axis=ax, kind="stable")
  if descending:
    ref = np.flip(ref, ax)
    idx = np.flip(np.argsort(np.flip(x, ax), axis=ax, kind="stable"), ax)
    idx = x.shape[ax] - 1 - idx
  check_close(jnp.sort(jnp.asarray(x), axis=ax, descending=descending), ref)
  check_close(jnp.argsort(jnp.asarray(x), axis=ax, descending=descending), idx,
              check_dtype=False)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 8), st.integers(0, 6), st.sampled_from(["left", "right"]))
def test_searchsorted_vs_numpy(n, m, side):
  a = np.sort(rand((n,), np.int32, n, low=-5, high=5))
  v = rand((m,), np.int32, m, low=-5, high=5)
  check_close(jnp.searchsorted(jnp.asarray(a), jnp.asarray(v), side=side),
              np.searchsorted(a, v, side=side).astype(np.int32))


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["ij,jk->ik", "ij,jk", "i,i", "ij->ji", "ii->i", "ijk,ikl->ijl",
                        "ij,kj->ik", "...j,j->...", "ab,bc,cd->ad", "iij->j", "ij,ij,ij->i",
                        "i,j,k->ijk", "bij,bjk,bkl->bil"]), st.integers(0, 3))
def test_einsum_vs_numpy(spec, seed):
  ins = spec.split("->")[0].split(",")
  sizes = dict(zip("abcdijklm", [2, 3, 4, 2, 3, 3, 4, 2, 3]))
  ops = []
  for k, s in enumerate(ins):
    shp = tuple(3 if c == "." else sizes[c] for c in s.replace("...", "."))
    ops.append(rand(shp, np.float32, seed + k, low=-5, high=5))
  check_close(jnp.einsum(spec, *[jnp.asarray(o) for o in ops]), np.einsum(spec, *ops), rtol=1e-4)


def test_einsum_path():
  path, info = jnp.einsum_path("ij,jk,kl->il", jnp.ones((2, 3)), jnp.ones((3, 4)),
                               jnp.ones((4, 5)))
  assert len(path) == 2 and all(isinstance(p, tuple) for p in path)


def test_misc_predicates():
  assert jnp.isscalar(1.0) and jnp.isscalar(jnp.float32(1)) and jnp.isscalar(jnp.asarray(1))
  assert not jnp.isscalar(jnp.ones(2)) and not jnp.isscalar([1])
  assert jnp.iscomplexobj(jnp.ones(2, jnp.complex64)) and jnp.isrealobj(jnp.ones(2))
  assert jnp.result_type(jnp.int32, 1.0) == np.float32
  assert jnp.promote_types(np.int8, np.uint8) == np.int16
  assert jnp.can_cast(np.int8, np.int32) and not jnp.can_cast(np.float32, np.int32)
  assert jnp.dtype("float32") == np.float32
  assert isinstance(jnp.ones(2), jnp.ndarray)
  assert jnp.pi == np.pi and jnp.newaxis is None and np.isnan(jnp.nan)
  c = jnp.copy(jnp.ones(2))
  assert c.dtype == np.float32


# ------------------------------------------------------------ tracing-specific behaviour


def test_unique_under_tracing_raises():
  with pytest.raises(core.ConcretizationTypeError):
    pyjax.make_jaxpr(jnp.unique)(jnp.arange(3))


def test_repeat_traced_repeats_raises():
  with pytest.raises(core.ConcretizationTypeError):
    pyjax.make_jaxpr(lambda r: jnp.repeat(jnp.arange(3), r))(jnp.asarray(2))


def test_bincount_needs_length_under_tracing():
  with pytest.raises(core.ConcretizationTypeError):
    pyjax.make_jaxpr(jnp.bincount)(jnp.arange(3))
  jaxpr = pyjax.make_jaxpr(lambda x: jnp.bincount(x, length=4))(jnp.arange(3))
  assert "reduce_sum" in str(jaxpr)


def test_searchsorted_is_traceable_jaxpr():
  jaxpr = pyjax.make_jaxpr(jnp.searchsorted)(jnp.arange(4.), jnp.ones(3))
  assert "reduce_sum" in str(jaxpr)


# ------------------------------------------------------------ errors

ERRORS = [
  (ValueError, lambda: jnp.split(jnp.ones(5), 2)),
  (ZeroDivisionError, lambda: jnp.split(jnp.ones(5), 0)),
  (IndexError, lambda: jnp.split(jnp.ones(5), 1, axis=1)),
  (IndexError, lambda: jnp.dsplit(jnp.ones((2, 2)), 2)),
  (ValueError, lambda: jnp.tril(jnp.ones(3))),
  (ValueError, lambda: jnp.triu(jnp.ones(3))),
  (ValueError, lambda: jnp.fliplr(jnp.ones(3))),
  (ValueError, lambda: jnp.flip(jnp.ones(3), 1)),
  (ValueError, lambda: jnp.rot90(jnp.ones(3))),
  (ValueError, lambda: jnp.rot90(jnp.ones((2, 2)), axes=(0, 0))),
  (ValueError, lambda: jnp.diagonal(jnp.ones(3))),
  (ValueError, lambda: jnp.diag(jnp.ones((2, 2, 2)))),
  (ValueError, lambda: jnp.pad(jnp.ones(3), -1)),
  (NotImplementedError, lambda: jnp.pad(jnp.ones(3), 1, mode="bogus")),
  (ValueError, lambda: jnp.pad(jnp.ones((2, 2)), ((1, 2, 3),))),
  (ValueError, lambda: jnp.repeat(jnp.ones(3), jnp.array([1, 2]))),
  (TypeError, lambda: jnp.repeat(jnp.ones(3), -1)),
  (NotImplementedError, lambda: jnp.round(jnp.arange(3), -1)),
  (ValueError, lambda: jnp.interp(jnp.ones(2), jnp.ones(3), jnp.ones(2))),
  (ValueError, lambda: jnp.cross(jnp.ones(4), jnp.ones(3))),
  (ValueError, lambda: jnp.diff(jnp.ones(3), -1)),
  (ValueError, lambda: jnp.diff(jnp.asarray(1.0))),
  (ValueError, lambda: jnp.searchsorted(jnp.ones(3), 1, side="middle")),
  (ValueError, lambda: jnp.searchsorted(jnp.ones((2, 2)), 1)),
  (TypeError, lambda: jnp.bincount(jnp.ones(3))),
  (ValueError, lambda: jnp.meshgrid(jnp.ones((2, 2)))),
  (ValueError, lambda: jnp.meshgrid(jnp.ones(2), indexing="xx")),
  (TypeError, lambda: jnp.lexsort(())),
  (ValueError, lambda: jnp.partition(jnp.ones(3), 5)),
  (TypeError, lambda: jnp.sort([3, 1])),
  (TypeError, lambda: jnp.clip([1, 2], 0, 1)),
  (ValueError, lambda: jnp.convolve(jnp.ones(3), jnp.ones(2), mode="bad")),
  (ValueError, lambda: jnp.convolve(jnp.ones((3, 3)), jnp.ones(2))),
  (ValueError, lambda: jnp.einsum("ij,jk->ik", jnp.ones((2, 3)), jnp.ones((4, 5)))),
  (ValueError, lambda: jnp.average(jnp.ones((2, 3)), weights=jnp.ones(3))),
  (ValueError, lambda: jnp.quantile(jnp.ones(3), 0.5, method="bogus")),
]


@pytest.mark.parametrize("exc,fn", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(exc, fn):
  with pytest.raises(exc):
    fn()


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_jax(i):
  """Real JAX raises for the same call, the same exception class, with the same first
  line of message (unless JAX's names a tracer, whose text differs)."""
  _, fn = ERRORS[i]
  import types
  g = types.FunctionType(fn.__code__, {**fn.__globals__, "jnp": jax_np})
  with pytest.raises(Exception) as je:
    ORACLE.call(g)
  with pytest.raises(Exception) as pe:
    fn()
  assert same_error_class(type(pe.value), type(je.value)), (type(pe.value), type(je.value))
  first = lambda e: (str(e).splitlines() or [""])[0]  # noqa: E731
  if "Tracer(" not in first(je.value):
    assert first(pe.value) == first(je.value)



# ------------------------------------------------------------ extras (closures over module m)

_x = rand((3, 4), F32, 20, low=-5, high=5)
_v = np.array([0.2, 6.4, 3.0, 1.6, 9.9], F32)
EXTRA = {
 'concat': lambda m: m.concat([m.asarray(_x), m.asarray(_x)], axis=1),
 'permute_dims': lambda m: m.permute_dims(m.asarray(_x), (1, 0)),
 'unstack': lambda m: m.unstack(m.asarray(_x), axis=1),
 'vecdot': lambda m: m.vecdot(m.asarray(_x), m.asarray(_x)),
 'matvec': lambda m: m.matvec(m.asarray(_x), m.asarray(_x[0])),
 'vecmat': lambda m: m.vecmat(m.asarray(_x[:, 0]), m.asarray(_x)),
 'block': lambda m: m.block([[m.ones((2, 2)), m.zeros((2, 3))], [m.ones((1, 2)), m.zeros((1, 3))]]),
 'block1': lambda m: m.block([m.ones(2), m.zeros(3)]),
 'resize': lambda m: m.resize(m.asarray(_x), (5, 3)),
 'insert': lambda m: m.insert(m.asarray(_x), 1, 5.0, axis=1),
 'insert_multi': lambda m: m.insert(m.arange(5), m.asarray([1, 3]), m.asarray([10, 20])),
 'trim_zeros': lambda m: m.trim_zeros(m.asarray([0, 0, 1, 2, 0])),
 'digitize': lambda m: m.digitize(m.asarray(_v), m.asarray([0., 1., 2.5, 4.])),
 'digitize_r': lambda m: m.digitize(m.asarray(_v), m.asarray([0., 1., 3.0, 4.]), right=True),
 'digitize_dec': lambda m: m.digitize(m.asarray(_v), m.asarray([4., 3., 1., 0.])),
 'hist': lambda m: m.histogram(m.asarray(_v), bins=3),
 'hist_rng': lambda m: m.histogram(m.asarray(_v), bins=4, range=(0, 8), density=True),
 'hbe': lambda m: m.histogram_bin_edges(m.asarray(_v), 4),
 'gradient': lambda m: m.gradient(m.asarray(_x)),
 'gradient_ax': lambda m: m.gradient(m.asarray(_x), 2.0, axis=1),
 'polyval': lambda m: m.polyval(m.asarray([1., 2., 3.]), m.asarray(_v)),
 'polyadd': lambda m: m.polyadd(m.asarray([1., 2., 3.]), m.asarray([4., 5.])),
 'polysub': lambda m: m.polysub(m.asarray([1., 2.]), m.asarray([4., 5., 6.])),
 'polymul': lambda m: m.polymul(m.asarray([1., 2.]), m.asarray([4., 5., 6.])),
 'polymul_i': lambda m: m.polymul(m.asarray([1, 2]), m.asarray([4, 5, 6])),
 'polyder': lambda m: m.polyder(m.asarray([1., 2., 3., 4.]), 2),
 'polyint': lambda m: m.polyint(m.asarray([1., 2., 3.]), 2),
 'bartlett': lambda m: m.bartlett(5), 'blackman': lambda m: m.blackman(6), 'hamming': lambda m: m.hamming(5), 'hanning': lambda m: m.hanning(4), 'kaiser': lambda m: m.kaiser(5, 3.0),
 'fromfunction': lambda m: m.fromfunction(lambda i, j: i + j, (2, 3), dtype=int),
 'unwrap': lambda m: m.unwrap(m.asarray([0., 3., 6.5, 9.9, 1.])),
 'mask_indices': lambda m: m.mask_indices(3, np.triu),
 'choose': lambda m: m.choose(m.asarray([0, 1, 2, 1]), [m.arange(4), m.arange(4) * 10, m.arange(4.) * 100]),
 'choose_clip': lambda m: m.choose(m.asarray([0, 5, -1]), [m.arange(3), m.arange(3) * 10], mode='clip'),
 'compress': lambda m: m.compress(m.asarray([True, False, True]), m.asarray(_x), axis=0),
 'extract': lambda m: m.extract(m.asarray(_x) > 0, m.asarray(_x)),
 'mgrid': lambda m: m.mgrid[0:2, 0:3], 'ogrid': lambda m: m.ogrid[0:2, 0:3], 'r_': lambda m: m.r_[1:3, 7], 'c_': lambda m: m.c_[m.arange(2), m.arange(2)],
 'pow': lambda m: m.pow(m.asarray(_x), 2), 'bitwise_invert': lambda m: m.bitwise_invert(m.arange(3)),
}


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_extras_match_jax(name):
  ref = ORACLE.call(lambda: EXTRA[name](jax_np))
  ours = EXTRA[name](jnp)
  check_close(ours, ref, rtol=1e-4)
  check_jax_dtype(ours, ref)


def test_like_functions_take_duck_typed_shapes():
  """zeros_like/ones_like/empty_like/full_like take anything with shape and dtype (a
  ShapeDtypeStruct: Optax's MultiSteps builds its state from them), as JAX's; and
  JAX's keywords (``out_sharding``, empty_like's ``prototype``)."""
  cases = [((2, 3), np.float32, {}), ((2,), np.int32, {"dtype": np.float32}),
           ((2,), np.int32, {"shape": (3, 1)})]
  for shape, dt, kw in cases:
    for name in ("zeros_like", "ones_like", "empty_like"):
      got = getattr(jnp, name)(pyjax.ShapeDtypeStruct(shape, dt), **kw)
      want = ORACLE.call(lambda name, shape, dt, kw: getattr(jax.numpy, name)(
          jax.ShapeDtypeStruct(shape, dt), **kw), name, shape, dt, kw)
      assert (got.shape, got.dtype, got.weak_type) == (want.shape, want.dtype,
                                                       want.weak_type), (name, kw)
      np.testing.assert_array_equal(got, want)
    got = jnp.full_like(pyjax.ShapeDtypeStruct(shape, dt), 7, **kw)
    want = ORACLE.call(lambda shape, dt, kw: jax.numpy.full_like(
        jax.ShapeDtypeStruct(shape, dt), 7, **kw), shape, dt, kw)
    assert (got.shape, got.dtype) == (want.shape, want.dtype)
    np.testing.assert_array_equal(got, want)
  sds = pyjax.ShapeDtypeStruct((2, 3), np.float32)
  np.testing.assert_array_equal(jnp.full_like(sds, jnp.arange(3.)),
                                np.tile(np.arange(3.), (2, 1)))
  traced_out = pyjax.jit(lambda: jnp.zeros_like(sds))()
  assert traced_out.shape == (2, 3) and traced_out.dtype == np.float32
  np.testing.assert_array_equal(jnp.empty_like(prototype=jnp.ones(2)), np.zeros(2))
  np.testing.assert_array_equal(jnp.ones_like(jnp.ones(2), out_sharding=None), np.ones(2))
  with pytest.raises(TypeError, match="zeros_like requires ndarray or scalar arguments"):
    jnp.zeros_like(object())

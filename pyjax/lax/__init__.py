"""``jax.lax``: the primitive operations."""
from pyjax._src.lax.lax import (
    abs, acos, acosh, add, asin, asinh, atan, atan2, atanh, bitwise_and, bitwise_not,
    bitwise_or, bitwise_xor, broadcast, broadcast_in_dim, broadcast_to_rank,
    broadcasted_iota, cbrt, ceil, clamp, clz, complex, conj, cos, cosh, div,
    eq, exp, exp2, expand_dims, expm1, floor, full, full_like, ge, gt, imag, integer_pow,
    iota, is_finite, le, log, log1p, logistic, lt, max, min, mul, ne, neg, nextafter,
    population_count, pow, real, reciprocal, reduce_sum, rem, reshape, rev, round,
    RoundingMethod, rsqrt, select, select_n, shift_left, shift_right_arithmetic,
    shift_right_logical, sign, sin, sinh, sqrt, square, squeeze, stop_gradient, sub, tan,
    tanh, transpose, zeros_like_array, abs_p, acos_p, acosh_p, add_p, and_p, asin_p,
    asinh_p, atan2_p, atan_p, atanh_p, broadcast_in_dim_p, cbrt_p, ceil_p, clamp_p, clz_p,
    complex_p, conj_p, cos_p, cosh_p, div_p, eq_p, exp2_p, exp_p, expm1_p,
    floor_p, ge_p, gt_p, imag_p, integer_pow_p, iota_p, is_finite_p, le_p, log1p_p, log_p,
    logistic_p, lt_p, max_p, min_p, mul_p, ne_p, neg_p, nextafter_p, not_p, or_p,
    population_count_p, pow_p, real_p, reduce_sum_p, rem_p, reshape_p, rev_p, round_p,
    rsqrt_p, select_n_p, shift_left_p, shift_right_arithmetic_p, shift_right_logical_p,
    sign_p, sin_p, sinh_p, sqrt_p, square_p, squeeze_p, sub_p, tan_p, tanh_p, transpose_p,
    xor_p)
from pyjax._src.lax.conversions import (
    bitcast_convert_type, convert_element_type, reduce_precision, bitcast_convert_type_p,
    convert_element_type_p, reduce_precision_p)
from pyjax._src.lax.special import (
    bessel_i0e, bessel_i1e, digamma, erf, erf_inv, erfc, igamma, igamma_grad_a, igammac,
    lgamma, polygamma, random_gamma_grad, zeta, bessel_i0e_p, bessel_i1e_p, digamma_p,
    erf_inv_p, erf_p, erfc_p, igamma_p, igammac_p, lgamma_p)
from pyjax._src.lax.reductions import (
    argmax, argmin, cumlogsumexp, cummax, cummin, cumprod, cumsum, reduce_and, reduce_max,
    reduce_min, reduce_or, reduce_prod, reduce_xor, argmax_p, argmin_p, cumlogsumexp_p,
    cummax_p, cummin_p, cumprod_p, cumsum_p, reduce_and_p, reduce_max_p, reduce_min_p,
    reduce_or_p, reduce_prod_p, reduce_xor_p)
from pyjax._src.lax.windowed_reductions import (
    reduce, reduce_p, reduce_window, reduce_window_max_p,
    reduce_window_min_p, reduce_window_p, reduce_window_shape_tuple, reduce_window_sum_p,
    select_and_gather_add_p, select_and_scatter_add_p, select_and_scatter_p)
from pyjax._src.lax.dot import (
    dot, dot_general, Precision, dot_general_p)
from pyjax._src.lax.fft import FftType, fft, fft_p
from pyjax._src.lax.convolution import (
    ConvDimensionNumbers, ConvGeneralDilatedDimensionNumbers, conv, conv_dimension_numbers,
    conv_general_dilated, conv_general_dilated_local, conv_general_dilated_p,
    conv_general_dilated_patches, conv_general_permutations, conv_general_shape_tuple,
    conv_shape_tuple, conv_transpose, conv_transpose_shape_tuple, conv_with_general_padding)
from pyjax._src.lax.sorting import (
    sort, sort_key_val, sort_p)
from pyjax._src.lax.slicing import (
    concatenate, concatenate_p, pad, pad_p, GatherDimensionNumbers, GatherScatterMode, ScatterDimensionNumbers, dynamic_index_in_dim,
    dynamic_slice, dynamic_slice_in_dim, dynamic_slice_p, dynamic_update_index_in_dim,
    dynamic_update_slice, dynamic_update_slice_in_dim, dynamic_update_slice_p, gather,
    gather_p, index_in_dim, scatter, scatter_add, scatter_add_p, scatter_apply, scatter_max,
    scatter_max_p, scatter_min, scatter_min_p, scatter_mul, scatter_mul_p, scatter_p,
    scatter_sub, scatter_sub_p, slice, slice_in_dim, slice_p)
from pyjax._src.lax.parallel import (
    all_gather, all_gather_p, all_to_all, all_to_all_p, axis_index, axis_index_p, axis_size,
    pmax, pmax_p, pmean, pmin, pmin_p, ppermute, ppermute_p, pshuffle, psum, psum_p,
    psum_scatter, reduce_scatter_p)
from pyjax._src.lax.control_flow.loops import associative_scan, fori_loop, map, scan, scan_p
from pyjax._src.lax.control_flow.while_loop import while_loop, while_p
from pyjax._src.lax.control_flow.conditionals import cond, cond_p, switch
from pyjax._src.lax.lax import (
    AccuracyMode, Tolerance, after_all, after_all_p, broadcast_like, broadcast_shapes, collapse,
    copy_p, create_token, create_token_p, dce_sink, dce_sink_p, empty, eq_to_p, le_to_p,
    lt_to_p, mulhi, mulhi_p, optimization_barrier, optimization_barrier_p, padtype_to_pads,
    shape_as_value,
    stage, stage_p, stop_gradient_p)
from pyjax._src.dtypes import dtype
from pyjax._src.lax.special import (
    betainc, igamma_grad_a_p, polygamma_p, regularized_incomplete_beta_p, zeta_p)
from pyjax._src.lax.dot import (
    DotAlgorithm, DotAlgorithmPreset, DotDimensionNumbers, PrecisionLike,
    RaggedDotDimensionNumbers, batch_matmul, ragged_dot, ragged_dot_general, scaled_dot)
from pyjax._src.lax.sorting import top_k, top_k_p
from pyjax._src.lax.ann import approx_max_k, approx_min_k, approx_top_k_p
from pyjax._src.lax.slicing import (
    index_take, split, split_p, stack, stack_p, tile, tile_p, unstack, unstack_p)
from pyjax._src.lax.parallel import (
    pbroadcast, pcast, precv, psend, pswapaxes, ragged_all_to_all, ragged_all_to_all_p)
from pyjax._src.lax.control_flow.solves import (
    custom_linear_solve, custom_root, linear_solve_p)
from pyjax._src.lax.control_flow.conditionals import platform_dependent
from pyjax._src.lax.composite import composite
from pyjax._src.lax.rng import (
    RandomAlgorithm, rng_bit_generator, rng_bit_generator_p, rng_uniform, rng_uniform_p)
from pyjax._src.lax.sharding_ops import (
    device_put_p, sharding_constraint_p, with_sharding_constraint)
from pyjax.lax import linalg  # noqa: E402

__all__ = [
    'ConvDimensionNumbers', 'ConvGeneralDilatedDimensionNumbers',
    'GatherDimensionNumbers', 'GatherScatterMode', 'Precision', 'RoundingMethod',
    'ScatterDimensionNumbers', 'abs', 'abs_p', 'acos', 'acos_p', 'acosh', 'acosh_p', 'add',
    'add_p', 'all_gather', 'all_gather_p', 'all_to_all', 'all_to_all_p', 'and_p', 'argmax',
    'argmax_p', 'argmin', 'argmin_p', 'asin', 'asin_p', 'asinh', 'asinh_p',
    'associative_scan', 'atan', 'atan2', 'atan2_p', 'atan_p', 'atanh', 'atanh_p',
    'axis_index', 'axis_index_p', 'axis_size', 'bessel_i0e', 'bessel_i0e_p', 'bessel_i1e',
    'bessel_i1e_p', 'bitcast_convert_type', 'bitcast_convert_type_p', 'bitwise_and',
    'bitwise_not', 'bitwise_or', 'bitwise_xor', 'broadcast', 'broadcast_in_dim',
    'broadcast_in_dim_p', 'broadcast_to_rank', 'broadcasted_iota', 'cbrt', 'cbrt_p', 'ceil',
    'ceil_p', 'clamp', 'clamp_p', 'clz', 'clz_p', 'complex', 'complex_p', 'concatenate',
    'concatenate_p', 'cond', 'cond_p', 'conj', 'conj_p', 'conv', 'conv_dimension_numbers',
    'conv_general_dilated', 'conv_general_dilated_local', 'conv_general_dilated_p',
    'conv_general_dilated_patches', 'conv_general_permutations', 'conv_general_shape_tuple',
    'conv_shape_tuple', 'conv_transpose', 'conv_transpose_shape_tuple',
    'conv_with_general_padding', 'convert_element_type',
    'convert_element_type_p', 'cos', 'cos_p', 'cosh', 'cosh_p', 'cumlogsumexp',
    'cumlogsumexp_p', 'cummax', 'cummax_p', 'cummin', 'cummin_p', 'cumprod', 'cumprod_p',
    'cumsum', 'cumsum_p', 'digamma', 'digamma_p', 'div', 'div_p', 'dot', 'dot_general',
    'dot_general_p', 'dynamic_index_in_dim', 'dynamic_slice', 'dynamic_slice_in_dim',
    'dynamic_slice_p', 'dynamic_update_index_in_dim', 'dynamic_update_slice',
    'dynamic_update_slice_in_dim', 'dynamic_update_slice_p', 'eq', 'eq_p', 'erf', 'erf_inv',
    'erf_inv_p', 'erf_p', 'erfc', 'erfc_p', 'exp', 'exp2', 'exp2_p', 'exp_p', 'expand_dims',
    'expm1', 'expm1_p', 'fft', 'fft_p', 'FftType', 'floor', 'floor_p', 'fori_loop', 'full', 'full_like', 'gather',
    'gather_p', 'ge', 'ge_p', 'gt', 'gt_p', 'igamma', 'igamma_grad_a', 'igamma_p',
    'igammac', 'igammac_p', 'imag', 'imag_p', 'index_in_dim', 'integer_pow',
    'integer_pow_p', 'iota', 'iota_p', 'is_finite', 'is_finite_p', 'le', 'le_p', 'lgamma',
    'lgamma_p', 'linalg', 'log', 'log1p', 'log1p_p', 'log_p', 'logistic', 'logistic_p',
    'lt', 'lt_p', 'map', 'max', 'max_p', 'min', 'min_p', 'mul', 'mul_p', 'ne', 'ne_p',
    'neg', 'neg_p', 'nextafter', 'nextafter_p', 'not_p', 'or_p', 'pad', 'pad_p',
    'padtype_to_pads', 'pmax',
    'pmax_p', 'pmean', 'pmin', 'pmin_p', 'polygamma', 'population_count',
    'population_count_p', 'pow', 'pow_p', 'ppermute', 'ppermute_p', 'pshuffle', 'psum',
    'psum_p', 'psum_scatter', 'random_gamma_grad', 'real', 'real_p', 'reciprocal', 'reduce',
    'reduce_and', 'reduce_and_p', 'reduce_max', 'reduce_max_p', 'reduce_min',
    'reduce_min_p', 'reduce_or', 'reduce_or_p', 'reduce_p', 'reduce_precision', 'reduce_precision_p',
    'reduce_prod', 'reduce_prod_p', 'reduce_scatter_p', 'reduce_sum', 'reduce_sum_p', 'reduce_window', 'reduce_window_max_p', 'reduce_window_min_p', 'reduce_window_p', 'reduce_window_shape_tuple', 'reduce_window_sum_p',
    'reduce_xor', 'reduce_xor_p', 'rem', 'rem_p', 'reshape', 'reshape_p', 'rev', 'rev_p',
    'round', 'round_p', 'rsqrt', 'rsqrt_p', 'scan', 'scan_p', 'scatter', 'scatter_add',
    'scatter_add_p', 'scatter_apply', 'scatter_max', 'scatter_max_p', 'scatter_min',
    'scatter_min_p', 'scatter_mul', 'scatter_mul_p', 'scatter_p', 'scatter_sub',
    'scatter_sub_p', 'select', 'select_and_gather_add_p', 'select_and_scatter_add_p', 'select_and_scatter_p', 'select_n', 'select_n_p', 'shift_left', 'shift_left_p',
    'shift_right_arithmetic', 'shift_right_arithmetic_p', 'shift_right_logical',
    'shift_right_logical_p', 'sign', 'sign_p', 'sin', 'sin_p', 'sinh', 'sinh_p', 'slice',
    'slice_in_dim', 'slice_p', 'sort', 'sort_key_val', 'sort_p', 'sqrt', 'sqrt_p', 'square',
    'square_p', 'squeeze', 'squeeze_p', 'stop_gradient', 'sub', 'sub_p', 'switch', 'tan',
    'tan_p', 'tanh', 'tanh_p', 'transpose', 'transpose_p', 'while_loop', 'while_p', 'xor_p',
    'zeros_like_array', 'zeta'
]

# issue 16 item 5: the remaining public names of jax.lax
__all__ += [
    'AccuracyMode', 'DotAlgorithm', 'DotAlgorithmPreset', 'DotDimensionNumbers',
    'PrecisionLike', 'RaggedDotDimensionNumbers', 'RandomAlgorithm', 'Tolerance',
    'after_all', 'after_all_p', 'approx_max_k', 'approx_min_k', 'approx_top_k_p',
    'batch_matmul', 'betainc', 'broadcast_like', 'broadcast_shapes', 'collapse',
    'composite', 'copy_p', 'create_token', 'create_token_p', 'custom_linear_solve',
    'custom_root', 'dce_sink', 'dce_sink_p', 'device_put_p', 'dtype', 'empty', 'eq_to_p',
    'igamma_grad_a_p', 'index_take', 'le_to_p', 'linear_solve_p', 'lt_to_p', 'mulhi',
    'mulhi_p', 'optimization_barrier', 'optimization_barrier_p', 'pbroadcast', 'pcast',
    'platform_dependent', 'polygamma_p', 'precv', 'psend', 'pswapaxes', 'ragged_all_to_all',
    'ragged_all_to_all_p', 'ragged_dot', 'ragged_dot_general',
    'regularized_incomplete_beta_p', 'rng_bit_generator', 'rng_bit_generator_p',
    'rng_uniform', 'rng_uniform_p', 'scaled_dot', 'shape_as_value',
    'sharding_constraint_p', 'split', 'split_p', 'stack', 'stack_p', 'stage', 'stage_p',
    'stop_gradient_p', 'tile', 'tile_p', 'top_k', 'top_k_p', 'unstack', 'unstack_p',
    'with_sharding_constraint', 'zeta_p',
]

"""lax.conv_general_dilated and the convolution functions vs JAX: values (eager), every
case jitted in one program, grads (vs JAX and finite differences), vmap vs a loop, and
JAX's errors."""
import numpy as np
import pytest

import pyjax
import pyjax.lax as plax
from pyjax._src import dtypes
from pyjax.test_util import check_grads
from tests.oracle import Oracle, lazy
from tests.util import check_close, enable_x64, norm_jaxpr, same_error_class

jax = lazy("jax")
jlax = lazy("jax.lax")
ORACLE = Oracle("test_convolution")


def _jlax(name, *args, **kw):
  """JAX's ``lax.<name>(*args, **kw)``, from the oracle."""
  return ORACLE.call(lambda *a, **k: getattr(jlax, name)(*a, **k), *args, oracle_tag=name,
                     **kw)

F32 = np.float32


def _conv(**kw):
  return lambda lax, x, w: lax.conv_general_dilated(x, w, **kw)


def _transpose(**kw):
  return lambda lax, x, w: lax.conv_transpose(x, w, **kw)


# (name, lhs shape, rhs shape, function of (lax, lhs, rhs), dtype)
CASES = [
    ("1d_valid", (2, 3, 9), (4, 3, 3), _conv(window_strides=(1,), padding="VALID"), F32),
    ("1d_same_stride", (2, 3, 10), (4, 3, 4), _conv(window_strides=(3,), padding="SAME"), F32),
    ("1d_same_lower", (2, 3, 10), (4, 3, 4),
     _conv(window_strides=(2,), padding="SAME_LOWER"), F32),
    ("2d_same", (2, 3, 9, 8), (4, 3, 3, 3), _conv(window_strides=(1, 1), padding="SAME"), F32),
    ("2d_valid_strides", (2, 3, 9, 8), (4, 3, 3, 2),
     _conv(window_strides=(2, 3), padding="VALID"), F32),
    ("2d_explicit_neg", (2, 3, 9, 8), (4, 3, 3, 2),
     _conv(window_strides=(1, 2), padding=[(2, 1), (-1, 0)]), F32),
    ("2d_lhs_dil", (2, 3, 5, 6), (4, 3, 3, 2),
     _conv(window_strides=(1, 1), padding=[(2, 2), (1, 1)], lhs_dilation=(2, 3)), F32),
    ("2d_rhs_dil", (2, 3, 9, 8), (4, 3, 3, 2),
     _conv(window_strides=(2, 1), padding="SAME", rhs_dilation=(2, 3)), F32),
    ("2d_both_dil", (1, 2, 6, 7), (3, 2, 2, 3),
     _conv(window_strides=(2, 2), padding=[(1, 0), (0, 2)], lhs_dilation=(2, 1),
           rhs_dilation=(1, 2)), F32),
    ("2d_groups", (2, 6, 7, 7), (9, 2, 3, 3),
     _conv(window_strides=(1, 1), padding="SAME", feature_group_count=3), F32),
    ("2d_depthwise", (2, 4, 7, 6), (4, 1, 3, 3),
     _conv(window_strides=(2, 2), padding="VALID", feature_group_count=4), F32),
    ("2d_batch_groups", (6, 2, 7, 7), (6, 2, 3, 3),
     _conv(window_strides=(1, 1), padding="VALID", batch_group_count=3), F32),
    ("2d_nhwc", (2, 9, 8, 3), (3, 2, 3, 4),
     _conv(window_strides=(1, 2), padding="SAME",
           dimension_numbers=("NHWC", "HWIO", "NHWC")), F32),
    ("2d_mixed_dn", (9, 3, 2, 8), (2, 4, 3, 3),
     _conv(window_strides=(1, 1), padding="VALID",
           dimension_numbers=("HCNW", "WOIH", "CWNH")), F32),
    ("2d_dn_object", (2, 3, 6, 6), (4, 3, 2, 2),
     lambda lax, x, w: lax.conv_general_dilated(
         x, w, (1, 1), "VALID",
         dimension_numbers=lax.ConvDimensionNumbers((0, 1, 2, 3), (0, 1, 2, 3),
                                                    (0, 1, 2, 3))), F32),
    ("3d_same", (1, 2, 5, 6, 4), (3, 2, 3, 2, 2),
     _conv(window_strides=(1, 2, 1), padding="SAME"), F32),
    ("3d_ndhwc_groups", (2, 5, 4, 4, 4), (2, 2, 2, 2, 6),
     _conv(window_strides=(1, 1, 2), padding="VALID", feature_group_count=2,
           dimension_numbers=("NDHWC", "DHWIO", "NDHWC")), F32),
    ("precision", (2, 3, 6, 6), (4, 3, 3, 3),
     lambda lax, x, w: lax.conv(x, w, (1, 1), "SAME", precision=lax.Precision.HIGHEST), F32),
    ("conv", (2, 3, 8, 8), (4, 3, 3, 3),
     lambda lax, x, w: lax.conv(x, w, (2, 2), "SAME"), F32),
    ("conv_general_padding", (2, 3, 8, 8), (4, 3, 3, 3),
     lambda lax, x, w: lax.conv_with_general_padding(x, w, (1, 1), [(1, 0), (0, 1)],
                                                     (1, 2), (2, 1)), F32),
    ("transpose_same", (2, 5, 6, 3), (3, 3, 3, 4),
     _transpose(strides=(2, 2), padding="SAME"), F32),
    ("transpose_valid_kernel", (2, 5, 6, 3), (3, 3, 4, 3),
     _transpose(strides=(2, 1), padding="VALID", transpose_kernel=True), F32),
    ("transpose_explicit_nchw", (2, 3, 5, 5), (3, 4, 3, 3),
     _transpose(strides=(2, 2), padding=[(1, 2), (0, 1)],
                dimension_numbers=("NCHW", "IOHW", "NCHW")), F32),
    ("transpose_1d_dil", (2, 7, 3), (3, 3, 4),
     _transpose(strides=(3,), padding="SAME", rhs_dilation=(2,)), F32),
    ("transpose_consistent", (2, 5, 5, 3), (3, 3, 3, 4),
     _transpose(strides=(2, 2), padding=[(1, 1), (0, 1)], use_consistent_padding=True),
     F32),
    ("f16", (2, 3, 7, 7), (4, 3, 3, 3), _conv(window_strides=(1, 1), padding="SAME"),
     np.float16),
    ("bf16", (2, 3, 7, 7), (4, 3, 3, 3), _conv(window_strides=(1, 1), padding="SAME"),
     dtypes.bfloat16),
    ("c64", (2, 3, 7, 7), (4, 3, 3, 3),
     _conv(window_strides=(2, 1), padding="SAME", feature_group_count=1), np.complex64),
    ("int32", (2, 4, 7, 7), (4, 2, 3, 3),
     _conv(window_strides=(1, 1), padding="SAME", feature_group_count=2), np.int32),
    ("int8_pet_int32", (2, 3, 7, 7), (4, 3, 3, 3),
     _conv(window_strides=(1, 1), padding="VALID", preferred_element_type=np.int32), np.int8),
    ("int8_pet_f32", (2, 3, 7, 7), (4, 3, 3, 3),
     _conv(window_strides=(1, 1), padding="VALID", preferred_element_type=np.float32),
     np.int8),
    ("f16_pet_f32", (2, 3, 7, 7), (4, 3, 3, 3),
     _conv(window_strides=(1, 1), padding="SAME", preferred_element_type=np.float32),
     np.float16),
    ("uint8", (2, 3, 5, 5), (2, 3, 2, 2), _conv(window_strides=(1, 1), padding="VALID"),
     np.uint8),
    ("bool", (2, 3, 5, 5), (2, 3, 2, 2), _conv(window_strides=(1, 1), padding="SAME"),
     np.bool_),
    ("empty_out", (2, 3, 2, 2), (4, 3, 3, 3), _conv(window_strides=(1, 1), padding="VALID"),
     F32),
]
IDS = [c[0] for c in CASES]
FLOAT_CASES = [c for c in CASES if c[4] == F32]


def _args(case, seed=0):
  _, ls, rsh, _, dt = case
  r = np.random.RandomState(seed)
  dt = np.dtype(dt)
  if dt == np.bool_:
    return r.rand(*ls) < 0.3, r.rand(*rsh) < 0.3
  if dt.kind in "iu":
    return (r.randint(0 if dt.kind == "u" else -5, 6, ls).astype(dt),
            r.randint(0 if dt.kind == "u" else -5, 6, rsh).astype(dt))
  x, w = r.uniform(-1, 1, ls), r.uniform(-1, 1, rsh)
  if dt.kind == "c":
    x, w = x + 1j * r.uniform(-1, 1, ls), w + 1j * r.uniform(-1, 1, rsh)
  return x.astype(dt), w.astype(dt)


def _tol(dt):
  dt = np.dtype(dt)
  return {np.dtype(np.float16): 3e-3, dtypes.bfloat16: 2e-2}.get(dt, 1e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_eager_vs_jax(case):
  x, w = _args(case)
  ref = ORACLE.call(lambda x, w: case[3](jlax, x, w), x, w)
  out = case[3](plax, x, w)
  assert out.dtype == ref.dtype and out.shape == ref.shape
  tol = _tol(ref.dtype)
  check_close(out, ref, rtol=tol, atol=tol)


def test_jit_vs_eager_all_cases():
  """Every case in one compiled program."""
  args = [_args(c) for c in CASES]
  f = lambda args: [c[3](plax, x, w) for c, (x, w) in zip(CASES, args)]
  outs = pyjax.jit(f)(args)
  for c, o, e in zip(CASES, outs, f(args)):
    assert o.dtype == e.dtype, c[0]
    tol = _tol(e.dtype)
    check_close(o, e, rtol=tol, atol=tol, err_msg=c[0])


def _loss(case, lax):
  """sum(conv(x, w) * ct): a gradient with a non-uniform cotangent."""
  def f(x, w):
    y = case[3](lax, x, w)
    ct = np.sin(np.arange(np.prod(y.shape))).reshape(y.shape).astype(y.dtype)
    return (y * ct).sum()
  return f


GRAD_CASES = [c for c in FLOAT_CASES if c[0] != "empty_out"]
JIT_GRAD_CASES = ["1d_same_lower", "2d_valid_strides", "2d_explicit_neg", "2d_both_dil",
                  "2d_depthwise", "2d_batch_groups", "2d_mixed_dn", "3d_ndhwc_groups",
                  "transpose_explicit_nchw", "transpose_1d_dil"]


def test_grad_vs_jax_eager_and_jit():
  """Eager grads of every float32 case vs JAX's, and a spread of them jitted in one
  program (the transposed convolutions: strides as lhs dilation, batch groups, ...)."""
  args = [_args(c, 1) for c in GRAD_CASES]
  ours = lambda cases, args: [pyjax.grad(_loss(c, plax), (0, 1))(x, w)
                              for c, (x, w) in zip(cases, args)]
  eager = ours(GRAD_CASES, args)
  for c, (x, w), e in zip(GRAD_CASES, args, eager):
    ref = ORACLE.call(lambda x, w: jax.grad(_loss(c, jlax), (0, 1))(x, w), x, w,
                      oracle_tag=c[0])
    check_close(e, ref, rtol=2e-5, atol=2e-5, err_msg=c[0])
  some = [i for i, c in enumerate(GRAD_CASES) if c[0] in JIT_GRAD_CASES]
  jitted = pyjax.jit(lambda a: ours([GRAD_CASES[i] for i in some], a))(
      [args[i] for i in some])
  for i, j in zip(some, jitted):
    check_close(j, eager[i], rtol=2e-5, atol=2e-5, err_msg=GRAD_CASES[i][0])


def test_grad_is_convolution():
  c = next(c for c in CASES if c[0] == "2d_batch_groups")
  x, w = _args(c)
  jaxpr = pyjax.make_jaxpr(pyjax.grad(_loss(c, plax), (0, 1)))(x, w)
  text = str(jaxpr)
  assert text.count("conv_general_dilated[") == 3, text


FD_CASES = ["1d_same_stride", "2d_both_dil", "2d_groups", "2d_batch_groups", "2d_mixed_dn",
            "transpose_valid_kernel", "3d_same"]


@pytest.mark.parametrize("name", FD_CASES)
def test_grad_finite_differences_x64(name):
  c = next(c for c in CASES if c[0] == name)
  with enable_x64():
    x, w = (v.astype(np.float64) for v in _args(c, 2))
    f = lambda x, w: c[3](plax, x, w)
    check_grads(f, (x, w), order=2, modes=("fwd", "rev"), atol=1e-6,
                                rtol=1e-6)


VMAP_CASES = ["1d_valid", "2d_same", "2d_lhs_dil", "2d_groups", "2d_batch_groups",
              "2d_nhwc", "2d_mixed_dn", "transpose_same", "3d_ndhwc_groups"]


@pytest.mark.parametrize("name", VMAP_CASES)
@pytest.mark.parametrize("which", ["lhs", "rhs", "both"])
def test_vmap_vs_loop(name, which):
  c = next(c for c in CASES if c[0] == name)
  r = np.random.RandomState(3)
  x, w = _args(c)
  xs = np.stack([x, *(r.uniform(-1, 1, x.shape).astype(F32) for _ in range(2))], 1)
  ws = np.stack([w, *(r.uniform(-1, 1, w.shape).astype(F32) for _ in range(2))], 2)
  f = lambda x, w: c[3](plax, x, w)
  xa, xb = (xs, 1) if which in ("lhs", "both") else (x, None)
  wa, wb = (ws, 2) if which in ("rhs", "both") else (w, None)
  out = pyjax.vmap(f, (xb, wb))(xa, wa)
  loop = np.stack([np.asarray(f(xs[:, i] if xb is not None else x,
                                ws[:, :, i] if wb is not None else w)) for i in range(3)])
  check_close(out, loop, rtol=1e-5, atol=1e-5)
  # one convolution, not one per example
  text = str(pyjax.make_jaxpr(pyjax.vmap(f, (xb, wb)))(xa, wa))
  assert text.count("conv_general_dilated[") == 1


def test_vmap_jit_and_grad_of_vmap():
  c = next(c for c in CASES if c[0] == "2d_groups")
  x, w = _args(c)
  xs, ws = np.stack([x, x * 2]), np.stack([w, -w])
  f = lambda x, w: c[3](plax, x, w)
  check_close(pyjax.jit(pyjax.vmap(f))(xs, ws), pyjax.vmap(f)(xs, ws), rtol=1e-5, atol=1e-5)
  g = pyjax.grad(lambda x, w: pyjax.vmap(f)(x, w).sum(), (0, 1))(xs, ws)
  jf = lambda x, w: c[3](jlax, x, w)
  ref = ORACLE.call(lambda xs, ws: jax.grad(lambda x, w: jax.vmap(jf)(x, w).sum(), (0, 1))(
      xs, ws), xs, ws)
  check_close(g, ref, rtol=2e-5, atol=2e-5)


def test_vmap_size_zero():
  c = next(c for c in CASES if c[0] == "2d_same")
  x, w = _args(c)
  f = lambda x, w: c[3](plax, x, w)
  out = pyjax.vmap(f, (0, None))(np.zeros((0, *x.shape), F32), w)
  assert out.shape == (0, 2, 4, 9, 8)


X = np.ones((4, 2, 5, 5), F32)
W = np.ones((6, 2, 3, 3), F32)
ERRORS = [
    lambda lax: lax.conv(X, W, (1,), "VALID"),
    lambda lax: lax.conv(X, W[:, :1], (1, 1), "VALID"),
    lambda lax: lax.conv(X, W[0], (1, 1), "VALID"),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), "VALID",
                                         dimension_numbers=("NCHW", "OIHX", "NCHW")),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), "VALID",
                                         dimension_numbers=("NCHW", "OIHW")),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), "VALID",
                                         dimension_numbers=("NCH", "OIHW", "NCHW")),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), "VALID",
                                         dimension_numbers=("NCHH", "OIHW", "NCHW")),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), "VALID",
                                         dimension_numbers=("NXHW", "OIHW", "NCHW")),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), "VALID",
                                         dimension_numbers=(1, 2, 3)),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), "VALID", dimension_numbers="NCHW"),
    lambda lax: lax.conv(X, W, (1, 1), "FOO"),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), [(1, 1)]),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), [1, 2]),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), [(-3, -3), (0, 0)]),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), "VALID", feature_group_count=3),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), "VALID", feature_group_count=0),
    lambda lax: lax.conv_general_dilated(X, W[:3, :1], (1, 1), "VALID",
                                         feature_group_count=2),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), "VALID", batch_group_count=3),
    lambda lax: lax.conv_general_dilated(X, W[:5], (1, 1), "VALID", batch_group_count=2),
    lambda lax: lax.conv_general_dilated(X, W[:, :1], (1, 1), "VALID",
                                         feature_group_count=2, batch_group_count=2),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), "VALID", rhs_dilation=(0, 1)),
    lambda lax: lax.conv_general_dilated(X, W, (1, 1), "SAME", lhs_dilation=(2, 1)),
    lambda lax: lax.conv(X, W.astype(np.float16), (1, 1), "VALID"),
    lambda lax: lax.conv(X, W, (1, 1), "VALID", preferred_element_type=np.float16),
    lambda lax: lax.conv(X.astype(np.int32), W.astype(np.int32), (1, 1), "VALID",
                         preferred_element_type=np.uint32),
    lambda lax: lax.conv(X, W, (1, 1), "VALID", preferred_element_type=np.int32),
    lambda lax: lax.conv(X, W, (1, 1), "VALID", precision="nonsense"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_vs_jax(i):
  with pytest.raises(Exception) as theirs:
    ORACLE.call(lambda: ERRORS[i](jlax))
  with pytest.raises(Exception) as ours:
    ERRORS[i](plax)
  assert same_error_class(ours.type, theirs.type), (ours.value, theirs.value)
  t, o = str(theirs.value), str(ours.value)
  assert o.split("\n")[0][:50] == t.split("\n")[0][:50], (o, t)


def test_non_positive_stride():
  # JAX's eager call fails in the StableHLO verifier with this message; ours earlier
  for s in ((0, 1), (1, -1)):
    with pytest.raises(ValueError, match="expects window to have positive stride"):
      plax.conv(X, W, s, "VALID")
    with pytest.raises(ValueError, match="expects window to have positive stride"):
      _jlax("conv", X, W, s, "VALID")


def test_helpers_vs_jax():
  for dn in [("NHWC", "HWIO", "NHWC"), ("NCHW", "OIHW", "NCHW"), ("HCNW", "WOIH", "CWNH")]:
    assert plax.conv_dimension_numbers((1,) * 4, (1,) * 4, dn) == \
        tuple(_jlax("conv_dimension_numbers", (1,) * 4, (1,) * 4, dn))
    assert plax.conv_general_permutations(dn) == _jlax("conv_general_permutations", dn)
    for pad in ("SAME", "VALID", [(1, 2), (0, 1)]):
      args = ((2, 9, 8, 3) if dn[0] == "NHWC" else (2, 3, 9, 8), (3, 2, 3, 4), (2, 1), pad, dn)
      assert plax.conv_general_shape_tuple(*args) == \
          _jlax("conv_general_shape_tuple", *args)
      assert plax.conv_transpose_shape_tuple(*args) == \
          tuple(_jlax("conv_transpose_shape_tuple", *args))
  assert plax.conv_dimension_numbers((1, 2, 3), (1, 2, 3), None) == \
      _jlax("conv_dimension_numbers", (1, 2, 3), (1, 2, 3), None)
  for pad in ("SAME", "SAME_LOWER", "VALID", "same"):
    for shapes in [((5, 6), (3, 2), (2, 1)), ((7,), (4,), (3,)), ((4, 4), (5, 1), (1, 3))]:
      assert plax.padtype_to_pads(*shapes, pad) == _jlax("padtype_to_pads", *shapes, pad)
  for pads in ("SAME", [(1, 1), (0, 2)]):
    assert plax.conv_shape_tuple((2, 3, 9, 8), (4, 3, 3, 2), (2, 1), pads) == \
        _jlax("conv_shape_tuple", (2, 3, 9, 8), (4, 3, 3, 2), (2, 1), pads)
  assert plax.conv_shape_tuple((6, 3, 9, 8), (4, 3, 3, 2), (1, 1), "VALID", 2) == \
      _jlax("conv_shape_tuple", (6, 3, 9, 8), (4, 3, 3, 2), (1, 1), "VALID", 2)
  assert plax.ConvGeneralDilatedDimensionNumbers is not None


@pytest.mark.parametrize("dn", [None, ("NHWC", "HWIO", "NHWC"), ("HNCW", "OIWH", "CWNH")])
def test_patches_and_local_vs_jax(dn):
  r = np.random.RandomState(4)
  ls = (2, 7, 6, 3) if dn and dn[0] == "NHWC" else (2, 3, 7, 6)
  x = r.uniform(-1, 1, ls).astype(F32)
  kw = dict(filter_shape=(3, 2), window_strides=(2, 1), padding="SAME",
            rhs_dilation=(1, 2), dimension_numbers=dn)
  ref = _jlax("conv_general_dilated_patches", x, **kw)
  out = plax.conv_general_dilated_patches(x, **kw)
  check_close(out, ref, rtol=1e-6, atol=1e-6)
  # the local kernel's shape follows the dimension numbers
  lspec, rspec, ospec = _jlax("conv_dimension_numbers", x.shape, (1, 1, 3, 2), dn)
  oshape = ref.shape
  rshape = [0] * 4
  rshape[rspec[0]] = 5
  rshape[rspec[1]] = ref.shape[ospec[1]]
  for i in range(2):
    rshape[rspec[2 + i]] = oshape[ospec[2 + i]]
  w = r.uniform(-1, 1, rshape).astype(F32)
  kw.pop("filter_shape")
  ref = _jlax("conv_general_dilated_local", x, w, filter_shape=(3, 2), **kw)
  out = plax.conv_general_dilated_local(x, w, filter_shape=(3, 2), **kw)
  check_close(out, ref, rtol=1e-5, atol=1e-5)


def test_jaxpr_text_and_weak_type():
  x, w = _args(CASES[3])
  f = lambda lax: (lambda x, w: lax.conv(x, w, (1, 1), "SAME", precision="highest"))
  ours = norm_jaxpr(str(pyjax.make_jaxpr(f(plax))(x, w)))
  theirs = norm_jaxpr(ORACLE.call(lambda x, w: str(jax.make_jaxpr(f(jlax))(x, w)), x, w))
  assert ours == theirs
  o = plax.conv(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), (1, 1), "VALID")
  assert o.dtype == np.float32


@pytest.mark.parametrize("strategy", [None, "im2col", "col2im"])
def test_float64_x64_jit(strategy, monkeypatch):
  from pyjax._src.lax import convolution
  monkeypatch.setattr(convolution, "_FORCE_STRATEGY", strategy)
  with enable_x64():
    c = next(c for c in CASES if c[0] == "2d_groups")
    x, w = (v.astype(np.float64) for v in _args(c))
    ref = ORACLE.call(lambda x, w: c[3](jlax, x, w), x, w)
    out = pyjax.jit(lambda x, w: c[3](plax, x, w))(x, w)
    assert out.dtype == np.float64
    check_close(out, ref, rtol=1e-12, atol=1e-12)
    check_close(c[3](plax, x, w), ref, rtol=1e-12, atol=1e-12)


LOWERING_CASES = ["1d_same_stride", "2d_explicit_neg", "2d_both_dil", "2d_groups",
                  "2d_batch_groups", "2d_mixed_dn", "3d_ndhwc_groups", "transpose_valid_kernel"]


@pytest.mark.parametrize("strategy", ["im2col", "col2im", "outer", "channels_last"])
def test_jit_each_lowering(strategy, monkeypatch):
  """Large float convolutions lower as dot_generals over the window's taps (small ones,
  as all the cases above, as stablehlo.convolution): each way, forced, on a spread of
  cases and two grads in one program."""
  from pyjax._src.lax import convolution
  monkeypatch.setattr(convolution, "_FORCE_STRATEGY", strategy)
  cases = [c for c in CASES if c[0] in LOWERING_CASES]
  gcases = [c for c in cases if c[0] in ("2d_both_dil", "2d_batch_groups")]
  args, gargs = [_args(c) for c in cases], [_args(c, 1) for c in gcases]

  def f(args, gargs):
    return ([c[3](plax, x, w) for c, (x, w) in zip(cases, args)],
            [pyjax.grad(_loss(c, plax), (0, 1))(x, w) for c, (x, w) in zip(gcases, gargs)])
  outs = pyjax.jit(f)(args, gargs)
  monkeypatch.setattr(convolution, "_FORCE_STRATEGY", None)
  check_close(outs, f(args, gargs), rtol=2e-5, atol=2e-5)


def test_large_conv_lowering_choice():
  from pyjax._src.lax import convolution
  x, w = np.ones((16, 3, 64, 64), F32), np.ones((32, 3, 3, 3), F32)
  conv = lambda x, w: plax.conv(x, w, (1, 1), "SAME")
  text = pyjax.jit(pyjax.grad(lambda x, w: conv(x, w).sum(), (0, 1))).lower(x, w).as_text()
  # forward: a channels-last convolution; input gradient (3 output channels) by col2im,
  # the kernel gradient by its output positions (dot_generals)
  assert text.count("stablehlo.dot_general") == 2 and text.count("stablehlo.convolution") == 1
  assert convolution._conv_strategy(np.dtype(F32), 2, 3, 4, (3, 3), (9, 8), 1, 1) == "native"
  big = lambda c, ksp, g=1: convolution._conv_strategy(np.dtype(F32), 128, c, 64, ksp,
                                                       (24,) * len(ksp), g, 1)
  assert big(32, (3, 3)) == "channels_last" and big(1, (3, 3)) == "im2col"
  assert big(32, (5,)) == "im2col" and big(128, (3, 3), 2) == "col2im"

"""The extension API's public modules (jax.core, jax.extend.*, jax.interpreters.*,
jax.custom_derivatives, jax.stages, jax.api_util, lax's *_p): their names against real
JAX's, JAX's deprecations, and the pieces not covered by the registries' tests
(linear_util, api_util, partial_eval, source_info_util, named_scope)."""
import importlib
import warnings

import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from util import check_close

jax = pytest.importorskip("jax")

_MLIR_BINDINGS = ("pyjax writes StableHLO text with its own builder: JAX's MLIR-binding "
                  "helpers have nothing to act on")

# module -> {name JAX has that pyjax leaves out: why}
LEFT_OUT = {
    "core": {},
    "extend.core": {},
    "extend.core.primitives": {
        "call_p": "staged call primitives: extend.core.call_p runs inline",
        "closed_call_p": "no closed_call primitive",
        "name_p": "checkpoint names are a trace hook, not a primitive",
        "remat_p": "checkpointing is a trace hook, not a primitive",
        "get_p": "no Ref primitives", "swap_p": "no Ref primitives",
        "empty2_p": "no such primitive",
        "random_bits_p": "no typed-key primitives", "random_fold_in_p": "(typed keys)",
        "random_gamma_p": "(typed keys)", "random_seed_p": "(typed keys)",
        "random_split_p": "(typed keys)",
        "householder_product_p": "LAPACK-only linalg primitives pyjax lacks",
        "tridiagonal_p": "(LAPACK-only)", "tridiagonal_solve_p": "(LAPACK-only)",
        "hessenberg_p": "(LAPACK-only)", "schur_p": "(LAPACK-only)",
    },
    "extend.linear_util": {},
    "extend.backend": {"ifrt_proxy": "no IFRT (pyjax compiles with IREE)"},
    "extend.random": {n: "only threefry2x32: no user-defined or rbg implementations"
                      for n in ["define_prng_impl", "rbg_prng_impl",
                                "unsafe_rbg_prng_impl"]},
    "extend.source_info_util": {},
    "interpreters.ad": {},
    "interpreters.batching": {
        "register_vmappable": "no custom vmappable containers",
        "unregister_vmappable": "no custom vmappable containers",
    },
    "interpreters.mlir": {n: _MLIR_BINDINGS for n in [
        "AxisContext", "ConstantHandler", "DEVICE_TO_DEVICE_TYPE", "LoweringParameters",
        "LoweringResult", "Mesh", "MeshAxisName", "ModuleContext", "RECV_FROM_HOST_TYPE",
        "SEND_TO_HOST_TYPE", "SPMDAxisContext", "ShapePolyLoweringState",
        "ShardingContext", "Token", "TokenSet", "Value", "aval_to_ir_type",
        "aval_to_ir_types", "core_call_lowering", "dense_int_array",
        "dense_int_elements", "dtype_to_ir_type", "emit_python_callback",
        "flatten_ir_types", "flatten_ir_values", "i32_attr", "i64_attr", "ir",
        "ir_attribute", "ir_constant", "ir_constants", "ir_tree_registry",
        "ir_type_handlers", "jaxpr_subcomp", "lower_jaxpr_to_fun",
        "lower_jaxpr_to_module", "lowerable_effects", "make_ir_context",
        "merge_mlir_modules", "module_to_bytecode", "module_to_string",
        "register_constant_handler", "shape_tensor", "token_type",
        "unflatten_ir_values_like_types"]},
    "interpreters.partial_eval": {n: "pyjax's partial evaluation has no per-primitive "
                                  "rules of JAX's form" for n in [
        "custom_partial_eval_rules", "dce_jaxpr_call_rule", "dce_jaxpr_closed_call_rule",
        "dce_rules", "partial_eval_jaxpr_custom_rules"]},
    "custom_derivatives": {"remat_opt_p": "optimize_remat is accepted and ignored"},
    "stages": {},
    "custom_batching": {},
    "api_util": {},
}


def _public(mod):
  return {n for n in dir(mod) if not n.startswith("_")}


@pytest.mark.parametrize("name", sorted(LEFT_OUT))
def test_names_match_jax(name):
  theirs = _public(importlib.import_module(f"jax.{name}"))
  ours = _public(importlib.import_module(f"pyjax.{name}"))
  left_out = LEFT_OUT[name]
  assert sorted(theirs - ours - set(left_out)) == []
  assert sorted(set(left_out) & ours) == []  # (a name left out that we now have)
  assert sorted(set(left_out) - theirs) == []


def test_lax_exports_jax_primitives():
  theirs = {n for n in dir(jax.lax) if n.endswith("_p")}
  ours = {n for n in dir(pyjax.lax) if n.endswith("_p")}
  assert sorted(theirs - ours) == []
  for n in theirs:
    assert isinstance(getattr(pyjax.lax, n), pyjax.extend.core.Primitive), n
  assert pyjax.lax.stop_gradient_p is pyjax.extend.core.primitives.stop_gradient_p


def test_top_level_names():
  for n in ["core", "custom_derivatives", "custom_batching", "interpreters", "stages",
            "api_util", "named_scope", "named_call", "custom_gradient"]:
    assert hasattr(jax, n) and hasattr(pyjax, n), n


@pytest.mark.parametrize("name", ["get_aval", "mapped_aval", "set_current_trace",
                                  "subjaxprs", "TraceTag", "nonexistent_name"])
def test_core_removed_names_raise_like_jax(name):
  with pytest.raises(AttributeError) as theirs:
    getattr(jax.core, name)
  with pytest.raises(AttributeError) as ours:
    getattr(pyjax.core, name)
  assert str(ours.value) == str(theirs.value).replace("'jax.core'", "'pyjax.core'")


@pytest.mark.parametrize("name", ["find_top_trace", "get_opaque_trace_state", "DropVar",
                                  "new_jaxpr_eqn", "valid_jaxtype", "JaxprTypeError",
                                  "primal_dtype_to_tangent_dtype", "concrete_or_error"])
def test_core_deprecated_names_warn_like_jax(name):
  msgs = []
  for mod in (jax.core, pyjax.core):
    with warnings.catch_warnings(record=True) as w:
      warnings.simplefilter("always")
      mod.__getattr__.cache_clear()  # (a deprecated name warns on first access only)
      assert getattr(mod, name) is not None
    msgs.append([str(x.message) for x in w if x.category is DeprecationWarning])
  assert msgs[1] == msgs[0] and msgs[0]


def test_core_gaps_say_pyjax():
  with pytest.raises(AttributeError, match="pyjax does not implement it"):
    pyjax.core.JaxprPpSettings


def test_abstract_values_and_avals():
  a = pyjax.core.ShapedArray((2, 3), np.int32)
  assert isinstance(a, pyjax.core.AbstractValue)
  assert a.to_tangent_aval() == pyjax.core.ShapedArray((2, 3), pyjax.dtypes.float0)
  assert str(a.to_tangent_aval().str_short()) == "float0[2,3]"
  f = pyjax.core.ShapedArray((2,), np.float32)
  assert f.to_tangent_aval() is not None and f.to_tangent_aval() == f
  ec = pyjax.extend.core
  assert ec.mapped_aval(2, 0, a) == pyjax.core.ShapedArray((3,), np.int32)
  assert ec.unmapped_aval(4, 1, a) == pyjax.core.ShapedArray((2, 4, 3), np.int32)
  assert ec.unmapped_aval(4, None, a) is a
  with pytest.raises(ValueError, match="not of size 5"):
    ec.mapped_aval(5, 0, a)
  assert ec.primal_dtype_to_tangent_dtype(np.int32) == jax.dtypes.float0
  assert ec.primal_dtype_to_tangent_dtype(np.float16) == np.float16
  assert ec.valid_jaxtype(1.0) and not ec.valid_jaxtype("a")
  # flax builds avals with JAX's keywords (nn.scan): accepted, no sharding kept
  s = pyjax.core.ShapedArray(shape=(2,), dtype=np.float32, sharding=None, weak_type=True)
  assert s.sharding is None and s.weak_type and s.update(sharding=None) == s


def test_traces_and_jaxpr_helpers():
  ec = pyjax.extend.core
  top = ec.get_opaque_trace_state(convention="flax")
  seen = {}

  def f(x):
    seen["inside"] = ec.get_opaque_trace_state()
    seen["jit"] = ec.unsafe_am_i_under_a_jit_DO_NOT_USE()
    seen["trace"] = ec.find_top_trace((x,))
    with ec.take_current_trace() as t:
      seen["taken"] = t
    return pyjax.lax.cond(x > 0, lambda y: y * 2, lambda y: y, x)
  closed = pyjax.make_jaxpr(f)(1.0)
  assert seen["inside"] != top and top == ec.get_opaque_trace_state()
  assert seen["jit"] and not ec.unsafe_am_i_under_a_jit_DO_NOT_USE()
  assert seen["taken"] is seen["trace"]
  assert isinstance(closed, ec.ClosedJaxpr) and isinstance(closed.jaxpr, ec.Jaxpr)
  subs = list(ec.subjaxprs(closed.jaxpr))
  assert subs and all(isinstance(s, ec.Jaxpr) for s in subs)
  assert ec.jaxpr_as_fun(closed, 3.0)[0] == 6.0
  assert pyjax.core.eval_jaxpr(closed.jaxpr, closed.consts, -3.0)[0] == -3.0
  ec.check_jaxpr(closed.jaxpr)
  # a hand-built jaxpr and its errors
  v = ec.gensym()
  x, y = v(pyjax.core.ShapedArray((), np.float32)), v(pyjax.core.ShapedArray((), np.float32))
  eqn = ec.new_jaxpr_eqn([x, x], [y], pyjax.lax.mul_p, {}, ec.no_effects)
  j = ec.Jaxpr([], [x], [y], [eqn])
  ec.check_jaxpr(j)
  assert ec.jaxpr_as_fun(ec.ClosedJaxpr(j, []), 3.0)[0] == 9.0
  with pytest.raises(ec.JaxprTypeError, match="not defined"):
    ec.check_jaxpr(ec.Jaxpr([], [], [y], [eqn]))
  bad = ec.new_jaxpr_eqn([x, x], [v(pyjax.core.ShapedArray((2,), np.float32))],
                         pyjax.lax.mul_p, {}, ec.no_effects)
  with pytest.raises(ec.JaxprTypeError, match="output type"):
    ec.check_jaxpr(ec.Jaxpr([], [x], [], [bad]))
  # JAX-style rewriting: replace(), effects, ctx
  j2 = j.replace(eqns=[eqn.replace(params={}, effects=eqn.effects, ctx=eqn.ctx)])
  assert j2.eqns[0].primitive is pyjax.lax.mul_p and j2.effects == ec.no_effects
  c2 = closed.replace(jaxpr=closed.jaxpr)
  assert c2.jaxpr is closed.jaxpr and ec.jaxpr_as_fun(c2, 3.0)[0] == 6.0
  assert not ec.Primitive("x").call_primitive and ec.CallPrimitive("y").call_primitive
  assert pyjax.core.max_dim(2, 5) == 5 and pyjax.core.min_dim(2, 5) == 2
  with pyjax.core.eval_context():
    assert not isinstance(jnp.ones(2) + 1, pyjax.core.Tracer)


def test_vmap_axis_names_visible():
  ec = pyjax.extend.core
  out = {}

  def f(x):
    out["names"] = ec.unsafe_get_axis_names_DO_NOT_USE()
    out["vmap"] = ec.unsafe_am_i_under_a_vmap_DO_NOT_USE()
    out["env"] = ec.nonempty_axis_env_DO_NOT_USE()
    return x
  pyjax.vmap(pyjax.vmap(f, axis_name="i"), axis_name="j")(jnp.ones((2, 2)))
  assert out == {"names": ["j", "i"], "vmap": True, "env": True}


def test_linear_util_and_api_util_match_jax():
  """flax's lazy_init pattern: wrap_init, flatten_fun, trace_to_jaxpr_nounits."""
  def run(top):
    lu = importlib.import_module(f"{top.__name__}.extend.linear_util")
    au = importlib.import_module(f"{top.__name__}.api_util")
    pe = importlib.import_module(f"{top.__name__}.interpreters.partial_eval")
    core = importlib.import_module(f"{top.__name__}.core")

    def fn(params, x, *, scale):
      w = params["w"] * scale  # known: computed now
      return {"w": w, "y": x @ w}
    args = ({"w": np.full((3, 2), 0.5, np.float32)},
            top.ShapeDtypeStruct((4, 3), np.float32))
    kwargs = {"scale": 2.0}
    flat, in_tree = top.tree_util.tree_flatten((args, kwargs))
    dbg = au.debug_info("lazy_init", fn, args, kwargs)
    f_flat, out_tree = au.flatten_fun(lu.wrap_init(fn, debug_info=dbg), in_tree)
    pvals = [pe.PartialVal.unknown(core.ShapedArray(x.shape, x.dtype))
             if isinstance(x, top.ShapeDtypeStruct) else pe.PartialVal.known(x)
             for x in flat]
    jaxpr, out_pvals, consts = pe.trace_to_jaxpr_nounits(f_flat, pvals)
    known = [pv.is_known() for pv in out_pvals]
    vals = [pv.get_known() if pv.is_known() else pv.get_aval() for pv in out_pvals]
    tree = out_tree()
    ran = top.core.eval_jaxpr(jaxpr, consts, np.ones((4, 3), np.float32))
    return known, vals, tree, ran
  kj, vj, tj, rj = run(jax)
  kp, vp, tp, rp = run(pyjax)
  assert kp == kj == [True, False] and str(tp) == str(tj)
  check_close(vp[0], vj[0])
  assert (vp[1].shape, vp[1].dtype) == (vj[1].shape, vj[1].dtype)
  check_close(rp, rj)


def test_linear_util_transformations():
  lu = pyjax.extend.linear_util
  f = lu.wrap_init(lambda x, y=1: x * y, {"y": 3})
  assert f.call_wrapped(2) == 6

  @lu.transformation_with_aux2
  def count(g, store, k, *args):
    out = g(*args) + k
    store.store(out * 10)
    return out
  g, aux = count(f, 1)
  assert g.call_wrapped(2) == 7 and aux() == 70

  @lu.transformation
  def double_in(*args):
    out = yield tuple(2 * a for a in args), {}
    yield out - 1
  assert double_in(f).call_wrapped(2) == 11
  with pytest.raises(lu.StoreException, match="Store empty"):
    count(f, 0)[1]()
  calls = []

  @lu.cache
  def traced(fun, n):
    calls.append(n)
    return fun.call_wrapped(n)
  assert traced(f, 2) == traced(f, 2) == 6 and calls == [2]
  assert lu.merge_linear_aux(lambda: 1, lambda: (_ for _ in ()).throw(
      lu.StoreException("x"))) == (True, 1)


def test_api_util_helpers_match_jax():
  for top in (jax, pyjax):
    au = importlib.import_module(f"{top.__name__}.api_util")
    tree = top.tree_util.tree_structure((((1, 2), 3), {"b": 4, "c": (5, 6)}))
    assert au.donation_vector((0,), ("c",), tree) == (True, True, False, False, True,
                                                      True)
    assert au.rebase_donate_argnums((3, 4, 7), (0, 1, 5)) == (1, 2, 4)
    assert au.flatten_axes("vmap in_axes", top.tree_util.tree_structure(((1, 2), 3)),
                           (0, None)) == [0, 0, None]
    assert au.shaped_abstractify(np.ones((2,), np.int32)) == top.core.ShapedArray(
        (2,), np.int32)
    with pytest.raises(ValueError, match="argument 2 is longer than argument 1"):
      au.safe_map(lambda a, b: a, [1], [1, 2])
    with pytest.raises(ValueError, match="argument 3 is shorter than argument 1"):
      au.safe_map(lambda a, b, c: a, [1, 2], [1, 2], [3])


def test_named_scope_and_name_stack():
  siu = pyjax.extend.source_info_util
  seen = []

  @pyjax.named_scope("outer")
  def f(x):
    with pyjax.named_scope("inner"):
      seen.append(str(siu.current_name_stack()))
    return x * 2
  g = pyjax.named_call(lambda x: (seen.append(str(siu.current_name_stack())), x)[1],
                       name="called")
  assert float(pyjax.jit(f)(1.0)) == 2.0
  f(1.0)
  g(1.0)
  with siu.transform_name_stack("jvp"), siu.extend_name_stack("a"):
    seen.append(str(siu.current_name_stack()))
  assert seen == ["outer/inner", "outer/inner", "called", "jvp(a)"]
  assert str(siu.current_name_stack()) == ""
  with pytest.raises(TypeError, match="named_scope name argument must be a string"):
    pyjax.named_scope(3)
  assert str(siu.new_name_stack("x").extend("y")) == "x/y"
  assert "test_extension_api.py" in siu.summarize(siu.current())


def test_stages_names():
  lowered = pyjax.jit(lambda x: x + 1).lower(1.0)
  assert isinstance(lowered, pyjax.stages.Lowered)
  assert isinstance(lowered.compile(), pyjax.stages.Compiled)
  info = pyjax.stages.ArgInfo(pyjax.core.ShapedArray((2,), np.float32), False)
  assert info.shape == (2,) and info.dtype == np.float32 and not info.donated


def test_ensure_compile_time_eval_matches_jax():
  def run(top):
    jnp_ = importlib.import_module(f"{top.__name__}.numpy")
    kinds = []

    def f(x):
      with top.ensure_compile_time_eval():
        y = jnp_.sin(2.0)  # constant: evaluated now
        k = int(jnp_.argmax(jnp_.array([1, 3, 2])))  # so it can be a Python int
        z = x + 1  # on a tracer: staged
        g = top.grad(lambda a: a * y)(x)  # transformations still see their tracers
        kinds.append((isinstance(y, top.core.Tracer), isinstance(z, top.core.Tracer)))
      return z * y + k + g
    return top.jit(f)(np.float32(3.0)), top.make_jaxpr(f)(1.0), kinds
  jv, jj, jk = run(jax)
  pv, pj, pk = run(pyjax)
  check_close(pv, jv)
  assert pk == jk == [(False, True), (False, True)]
  folded = lambda j: not {e.primitive.name for e in j.eqns} & {"sin", "argmax", "iota"}
  assert folded(pj) and folded(jj)


def test_extend_backend():
  eb = pyjax.extend.backend
  b = eb.get_backend()
  assert b.platform == jax.extend.backend.get_backend().platform == "cpu"
  assert b.devices() == pyjax.devices() and b.device_count() == 1
  assert eb.get_backend("cpu") is b and list(eb.backends()) == ["cpu"]
  assert eb.get_default_device() == pyjax.devices()[0]
  assert eb.backend_xla_version() is None
  with pytest.raises(RuntimeError, match="tpu"):
    eb.get_backend("tpu")
  with pytest.raises(NotImplementedError, match="IREE, not XLA"):
    eb.get_compile_options(1, 1)


def test_ad_jvp_and_linearize_flat_forms():
  ad = pyjax.interpreters.ad
  f = lambda x, y: (x * y, jnp.sin(x), 3.0)
  outs, touts = ad.jvp(f, [2.0, 3.0], [1.0, None])
  check_close(touts, [3.0, np.cos(2.0), 0.0], np.float32)
  outs, touts, aux = ad.jvp(lambda x: (x * 2, "aux"), [1.0], [1.0], has_aux=True,
                            instantiate=False)
  assert aux == "aux" and float(touts[0]) == 2.0
  out, zeros, jaxpr, consts = ad.linearize(f, [2.0, 3.0])
  assert zeros == [False, False, True] and len(jaxpr.invars) == 2
  lin = pyjax.core.eval_jaxpr(jaxpr, consts, 1.0, 0.0)
  check_close(lin, [3.0, np.cos(2.0)], np.float32)


def test_extend_random_threefry_matches_jax():
  key = np.array([1, 2], np.uint32)
  count = np.arange(6, dtype=np.uint32)
  want = jax.extend.random.threefry_2x32(key, count)
  check_close(pyjax.extend.random.threefry_2x32(key, count), want)
  k = pyjax.extend.random.seed_with_impl(pyjax.extend.random.threefry_prng_impl, 42)
  check_close(pyjax.random.key_data(k), jax.random.key_data(jax.random.key(42)))

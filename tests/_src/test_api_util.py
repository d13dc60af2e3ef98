"""api_util: argnums resolution, flat functions, debug info, abstractify, tracing."""
import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax._src import api_util, core, tree_util
from pyjax._src.core import ShapedArray

F32 = ShapedArray((), np.float32)


# ---------------------------------------------------------------- argnums


def test_resolve_argnums_maps_numbers_and_names_both_ways():
  def f(a, b, c=1, *, d=2):
    return a
  assert api_util.resolve_argnums(f, 1, None) == ((1,), ("b",))
  assert api_util.resolve_argnums(f, None, "c") == ((2,), ("c",))
  assert api_util.resolve_argnums(f, (0,), ("c", "d")) == ((0, 2), ("c", "d", "a"))
  # a negative number names its parameter from the end, whose number joins it
  assert api_util.resolve_argnums(f, -1, ()) == ((-1, 2), ("c",))
  # out of the signature's range: kept, names nothing
  assert api_util.resolve_argnums(f, 5, ()) == ((5,), ())
  assert api_util.resolve_argnums(f, None, None) == ((), ())


def test_resolve_argnums_without_signature():
  class NoSig:
    __signature__ = "not a signature"

    def __call__(self, *a):
      return a
  assert api_util.resolve_argnums(NoSig(), (0, 1), "x") == ((0, 1), ("x",))


def test_static_argnums_in_range():
  assert api_util.static_argnums_in_range(-1, 3, "make_jaxpr") == (2,)
  assert api_util.static_argnums_in_range((0, -2), 3, "make_jaxpr") == (0, 1)
  with pytest.raises(ValueError, match="make_jaxpr static_argnums 3 is out of range for 3 "
                     "positional arguments"):
    api_util.static_argnums_in_range(3, 3, "make_jaxpr")


def test_static_partial():
  def f(a, b, c, **kw):
    return a, b, c, kw
  g, dyn = api_util.static_partial(f, ("A", "B", "C"), (1,), {"s": 5})
  assert dyn == ("A", "C")
  assert g("x", "y", k=1) == ("x", "B", "y", {"k": 1, "s": 5})


def test_argnums_partial_and_its_errors():
  f = lambda a, b, c, scale=1: (a, b, c, scale)
  g, dyn = api_util.argnums_partial(f, (0, -1), (1, 2, 3), {"scale": 4})
  assert dyn == (1, 3)
  assert g(10, 30) == (10, 2, 30, 4)
  with pytest.raises(TypeError, match="requires at least 4 positional arguments to be "
                     "passed by the caller, but got only 3"):
    api_util.argnums_partial(f, 3, (1, 2, 3), {})
  with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints"):
    api_util.argnums_partial(f, (0.5,), (1, 2, 3), {})


# ---------------------------------------------------------------- flatten_fun


def test_flatten_fun_records_out_tree_and_aux():
  leaves, in_tree = tree_util.tree_flatten(((1, {"a": 2}), {"k": 3}))
  flat, store = api_util.flatten_fun(lambda x, d, k: ({"s": x + d["a"] + k}, [k]), in_tree,
                                     has_aux="jvp")
  assert store.out_tree is None
  assert flat(*leaves) == [6]
  assert store.out_tree == tree_util.tree_structure({"s": 0})
  assert store.aux_leaves == [3]
  assert store.aux_tree == tree_util.tree_structure([0])
  bad, _ = api_util.flatten_fun(lambda x: x, tree_util.tree_structure((0,)), kwargs=False,
                                has_aux="vjp")
  with pytest.raises(TypeError, match=r"vjp with has_aux=True requires the function to "
                     r"return a pair \(output, auxiliary_data\), got int"):
    bad(1)


def test_flatten_fun_checks_outputs():
  seen = []
  flat, _ = api_util.flatten_fun(lambda x: (x, x), tree_util.tree_structure((0,)),
                                 kwargs=False, check_out=seen.append)
  flat(7)
  assert seen == [7, 7]


# ---------------------------------------------------------------- debug info


def test_debug_info_arg_names():
  def f(x, params, *, scale):
    return x
  dbg = api_util.debug_info("jit", f, (1.0, [{"w": 1, "b": 2}, (3,)]), {"scale": 4})
  assert dbg.traced_for == "jit" and dbg.func_name == "f"
  assert dbg.func_src_info.startswith("f at ") and __file__ in dbg.func_src_info
  assert dbg.arg_names == ("x", "params[0]['b']", "params[0]['w']", "params[1][0]",
                           "scale")
  # static arguments, by number or by name, have no names
  dbg = api_util.debug_info("jit", f, (1.0, [5]), {"scale": 4}, (1,), ("scale",))
  assert dbg.arg_names == ("x",)
  # a call not binding to the signature names positions
  dbg = api_util.debug_info("make_jaxpr", f, (1.0, 2.0, 3.0), {})
  assert dbg.arg_names == ("args[0]", "args[1]", "args[2]")
  assert api_util.arg_name(dbg, 1) == "args[1]" and api_util.arg_name(dbg, 9) == "args[9]"
  assert api_util.arg_name(None, 0) == "args[0]"


def test_body_debug_info():
  def body(c, x):
    return c, x
  dbg = api_util.body_debug_info("scan", body, 3)
  assert dbg.arg_names == ("args[0]", "args[1]", "args[2]")
  assert dbg.func_src_info.startswith("body at ")
  assert api_util.body_debug_info("scan", np.add, 2) is None  # no Python source


def test_jit_names_dynamic_args_after_a_static_keyword():
  def f(n, x):
    if x > 0:
      return x
    return x * n
  with pytest.raises(pyjax.errors.TracerBoolConversionError,
                     match="depends on the value of the argument x"):
    pyjax.jit(f, static_argnames="n")(n=2, x=np.float32(1))


# ---------------------------------------------------------------- abstractify


def test_abstractify():
  assert api_util.abstractify(jnp.ones(3), "x") == ShapedArray((3,), np.float32)
  assert api_util.abstractify(2.0, "x") == ShapedArray((), np.float32, weak_type=True)
  with pytest.raises(TypeError, match=r"Argument 'p\[0\]' of type <class 'str'> is not a "
                     "valid JAX type. Only arrays, NumPy values"):
    api_util.abstractify("s", "p[0]")
  with pytest.raises(TypeError, match=r"Error interpreting argument to p\[0\] as an "
                     r"abstract array. The problematic value is of type <class 'str'> and "
                     r"was passed to the function at path p\[0\]"):
    api_util.abstractify("s", "p[0]", for_jit=True)
  dbg = api_util.debug_info("make_jaxpr", lambda x, y: x, (1.0, "s"), {})
  with pytest.raises(TypeError, match="Argument 'y' of type"):
    api_util.abstractify_args([1.0, "s"], dbg)


# ---------------------------------------------------------------- tracing


def test_trace_to_jaxpr_pytree_function():
  leaves, in_tree = tree_util.tree_flatten(((1.0,), {"y": 2.0}))
  closed, tracers, out_tree = api_util.trace_to_jaxpr(
      lambda x, y: {"s": x + y, "d": (x * y,)}, [F32, F32], in_tree=in_tree)
  assert tracers == []
  assert out_tree == tree_util.tree_structure({"s": 0, "d": (0,)})
  assert [str(a) for a in closed.in_avals] == ["float32[]"] * 2
  assert [float(v) for v in closed(*leaves)] == [2.0, 3.0]  # dict leaves: "d", "s"


def test_trace_to_jaxpr_flat_function_keeps_concrete_consts():
  c = np.arange(3.0, dtype=np.float32)
  closed, tracers, out_tree = api_util.trace_to_jaxpr(lambda x: [x * jnp.asarray(c)], [F32])
  assert out_tree is None and tracers == []
  assert len(closed.jaxpr.constvars) == 1 and len(closed.consts) == 1


def test_trace_to_jaxpr_hoists_closed_over_tracers():
  seen = {}

  def outer(y):
    def inner(x):
      return [x + y * 2.0]
    closed, tracers, _ = api_util.trace_to_jaxpr(inner, [F32])
    seen["hoisted"] = (closed, tracers)
    kept, kept_tracers, _ = api_util.trace_to_jaxpr(inner, [F32], hoist=False)
    seen["kept"] = (kept, kept_tracers)
    return y
  pyjax.make_jaxpr(outer)(1.0)
  closed, tracers = seen["hoisted"]
  assert len(tracers) == 1 and isinstance(tracers[0], core.Tracer)
  assert closed.jaxpr.constvars == [] and len(closed.jaxpr.invars) == 2  # y first, then x
  assert closed.consts == []
  kept, kept_tracers = seen["kept"]
  assert kept_tracers == [] and len(kept.jaxpr.invars) == 1
  assert len(kept.consts) == 1 and isinstance(kept.consts[0], core.Tracer)


def test_hoist_tracer_consts_without_tracers_is_the_identity():
  closed, _, _ = api_util.trace_to_jaxpr(lambda x: [x * jnp.ones(2)], [F32], hoist=False)
  jaxpr, consts, tracers = api_util.hoist_tracer_consts(closed.jaxpr, closed.consts)
  assert jaxpr is closed.jaxpr and consts == closed.consts and tracers == []


def test_trace_to_jaxpr_debug_info_reaches_errors():
  def f(x):
    return [x] if x > 0 else [x]
  dbg = api_util.debug_info("make_jaxpr", f, (1.0,), {})
  with pytest.raises(pyjax.errors.TracerBoolConversionError,
                     match="tracing the function f at .* for make_jaxpr"):
    api_util.trace_to_jaxpr(f, [F32], dbg)


def test_shape_dtype_struct_is_the_public_one():
  assert pyjax.ShapeDtypeStruct is api_util.ShapeDtypeStruct
  assert api_util.shape_dtype_structs([ShapedArray((2,), np.int32)]) == [
      pyjax.ShapeDtypeStruct((2,), np.int32)]

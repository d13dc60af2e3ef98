"""jax.experimental.checkify (user checks) against JAX: messages through eager code,
jit/vmap/grad around and inside checkify, loops, check_error; and JAX's errors."""
import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp
from pyjax.experimental import checkify as ck

jax = pytest.importorskip("jax")
import jax.numpy as jjnp  # noqa: E402
from jax.experimental import checkify as jck  # noqa: E402


def _f(c, m):
  def f(x):
    c.check(x > 0, "x must be positive, got {}", x)
    c.check(x < 10, "x too big: {x}", x=x)
    return m.log(x)
  return f


CASES = {  # name -> (function of (jax module, checkify module, numpy module), argument)
    "eager_fail": (lambda j, c, m: c.checkify(_f(c, m)), -1.0),
    "eager_pass": (lambda j, c, m: c.checkify(_f(c, m)), 2.0),
    "second_check": (lambda j, c, m: c.checkify(_f(c, m)), 20.0),
    "jit_outside": (lambda j, c, m: j.jit(c.checkify(_f(c, m))), 20.0),
    "jit_cond_inside": (lambda j, c, m: c.checkify(j.jit(
        lambda x: j.lax.cond(x > 5, _f(c, m), _f(c, m), x))), -3.0),
    "vmap_outside": (lambda j, c, m: j.vmap(c.checkify(_f(c, m))), [1.0, -2.0, 30.0]),
    "scan_inside": (lambda j, c, m: c.checkify(
        lambda x: j.lax.scan(lambda s, y: (s + _f(c, m)(y), None), 0.0, x)),
        [1.0, -2.0, -3.0]),
    "map_inside": (lambda j, c, m: c.checkify(lambda x: j.lax.map(_f(c, m), x)),
                   [1.0, 2.0, 11.0]),
    "grad_inside": (lambda j, c, m: c.checkify(j.grad(_f(c, m))), -2.0),
    "first_of_two": (lambda j, c, m: c.checkify(
        lambda x: (c.check(x > 0, "a"), c.check(x > 1, "b"))), 0.0),
    "array_payload": (lambda j, c, m: c.checkify(
        lambda x: c.check(m.all(x > 0), "v {}", x)), [-1, 0, 1]),
    "debug_check": (lambda j, c, m: c.checkify(
        lambda x: c.debug_check(x > 0, "dbg {}", x)), -1.0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_messages_as_jax(name):
  make, arg = CASES[name]
  got = []
  for j, c, m in ((pyjax, ck, jnp), (jax, jck, jjnp)):
    err, out = make(j, c, m)(m.asarray(arg, dtype=m.float32 if name != "array_payload"
                                      else m.int32))
    leaves = pyjax.tree.leaves(out)
    got.append((err.get(), str(err), np.asarray(leaves[0]).tolist() if leaves else None))
    if err.get() is None:
      err.throw()  # no error: nothing raised
  assert got[0][:2] == got[1][:2]
  if got[1][2] is not None:
    np.testing.assert_allclose(got[0][2], got[1][2], rtol=1e-6)


def test_throw_get_exception_and_eager_checks():
  msgs = []
  for j, c, m in ((pyjax, ck, jnp), (jax, jck, jjnp)):
    err, _ = c.checkify(_f(c, m))(m.float32(-1.0))
    out = [repr(err.get_exception()), str(err.get_exception())]
    with pytest.raises(c.JaxRuntimeError) as e:
      err.throw()
    out.append(str(e.value))
    with pytest.raises(c.JaxRuntimeError) as e:  # eager, outside checkify: at once
      _f(c, m)(m.float32(-1.0))
    out.append(str(e.value))
    out.append(float(_f(c, m)(m.float32(1.0))))
    out.append(c.check(True, "fine"))
    out.append(c.debug_check(False, "ignored outside checkify"))
    msgs.append(out)
  assert msgs[0] == msgs[1]
  assert issubclass(ck.JaxRuntimeError, ValueError)
  assert len(ck.user_checks) == 1 and ck.all_checks > ck.user_checks
  assert ck.all_checks == ck.automatic_checks | ck.user_checks


def test_check_error():
  got = []
  for j, c, m in ((pyjax, ck, jnp), (jax, jck, jjnp)):
    def g(x):
      err, y = c.checkify(_f(c, m))(x)
      c.check_error(err)
      return y
    got.append(c.checkify(g)(m.float32(-2.0))[0].get())
    with pytest.raises(c.JaxRuntimeError) as e:
      g(m.float32(-2.0))
    got.append(str(e.value))
    got.append(c.checkify(g)(m.float32(3.0))[0].get())
  assert got[:3] == got[3:]


@pytest.mark.parametrize("case", ["pred_array", "pred_int", "python_float_arg",
                                  "jit_without_checkify", "check_error_type"])
def test_errors_as_jax(case):
  got = []
  for j, c, m in ((pyjax, ck, jnp), (jax, jck, jjnp)):
    calls = {
        "pred_array": lambda: c.check(m.array([True, False]), "arr"),
        "pred_int": lambda: c.check(1, "int"),
        "python_float_arg": lambda: c.check(True, "x {}", -1.0),
        "jit_without_checkify": lambda: j.jit(_f(c, m))(m.float32(-1.0)),
        "check_error_type": lambda: c.check_error("not an error"),
    }
    with pytest.raises(Exception) as e:
      calls[case]()
    got.append((type(e.value), str(e.value)))
  assert got[0][0] is got[1][0]
  assert got[0][1] == got[1][1]


def test_not_implemented():
  with pytest.raises(NotImplementedError, match="user_checks only"):
    ck.checkify(jnp.sin, errors=ck.float_checks)
  f = _f(ck, jnp)
  with pytest.raises(NotImplementedError, match="inside a staged checkify"):
    pyjax.jit(ck.checkify(lambda x: pyjax.lax.map(f, x)))(jnp.ones(2))
  err, _ = ck.checkify(jnp.sin, errors=frozenset())(1.0)
  assert err.get() is None

"""jax.debug.print / callback / breakpoint / sharding views: printed output vs JAX."""
import io
import sys

import numpy as np
import pytest

import pyjax
import pyjax.numpy as pnp
from pyjax.experimental import io_callback

jax = pytest.importorskip("jax")
jnp = jax.numpy


def _program(j, np_):
  """The same program in JAX (``j``) or pyjax: prints eagerly-traced values in every
  place jax.debug.print may appear."""
  lax = j.lax

  def f(x, n):
    j.debug.print("start x={x} n={n}", x=x, n=n)
    j.debug.print("plain", x[0], n, skip_format_check=True)  # no placeholders
    j.debug.print("fmt {:.3f} {a} {b!r:>6}", x[1], a=x * 2, b="str")
    j.debug.callback(lambda a, *, k: print("callback", a, k, type(a).__name__ in
                                           ("ArrayImpl", "PendingArray")), x, k=n)

    def body(i, c):
      j.debug.print("fori i={} c={}", i, c)
      return c * 2

    y = lax.fori_loop(0, 3, body, x)

    def wbody(c):
      j.debug.print("while c={}", c)
      return c + 1

    w = lax.while_loop(lambda c: c < n, wbody, 0)

    def sbody(c, xi):
      j.debug.print("scan c={} xi={}", c, xi)
      return c + xi, c

    s, ss = lax.scan(sbody, np_.float32(0), x)
    cnd = lax.cond(n > 1, lambda v: (j.debug.print("cond true {}", v), v + 1)[1],
                   lambda v: (j.debug.print("cond false {}", v), v - 1)[1], x[0])

    @j.jit
    def inner(v):
      j.debug.print("nested {}", v)
      return v * 3

    z = inner(y)
    j.debug.print("end {} {} {} {} {}", z, w, s, ss, cnd, ordered=True)
    return z.sum() + w + s + cnd

  return f


def _capture(fn):
  old = sys.stdout
  sys.stdout = buf = io.StringIO()
  try:
    fn()
  finally:
    sys.stdout = old
  return buf.getvalue()


X = np.array([1.0, 2.0, 3.0], np.float32)


@pytest.fixture(scope="module")
def outputs():
  f_jax, f_ours = _program(jax, jnp), _program(pyjax, pnp)
  res = {}
  for name, make in [
      ("eager", lambda j, f: lambda: f(X, 3)),
      ("jit", lambda j, f: lambda: j.jit(f, static_argnums=())(X, 3)),
      ("grad", lambda j, f: lambda: j.grad(f)(X, 3)),
      ("vmap", lambda j, f: lambda: j.vmap(f, in_axes=(0, None))(np.stack([X, X + 1]), 3)),
  ]:
    res[name] = (_capture(make(jax, f_jax)), _capture(make(pyjax, f_ours)))
  return res


@pytest.mark.parametrize("mode", ["eager", "jit", "grad", "vmap"])
def test_print_matches_jax(outputs, mode):
  theirs, ours = outputs[mode]
  # The callback's type check line says True in both. Under jit (and vmap, whose
  # fori_loop is compiled) unordered prints come in an order XLA schedules, so only the
  # lines are compared there; program order holds for ordered ones (test below).
  if mode in ("jit", "vmap"):
    assert sorted(ours.splitlines()) == sorted(theirs.splitlines())
  else:
    assert ours.splitlines() == theirs.splitlines()


def test_ordered_prints_in_program_order():
  def f(j):
    def g(x):
      j.debug.print("a {}", x, ordered=True)
      y = x * 2
      j.debug.print("b {}", y, ordered=True)

      def body(i, c):
        j.debug.print("loop {} {}", i, c, ordered=True)
        return c + y
      z = j.lax.fori_loop(0, 3, body, y)

      @j.jit
      def inner(v):
        j.debug.print("inner {}", v * 5, ordered=True)
        return v - 1
      z = inner(z + 1)
      j.debug.print("c {}", z + 1, ordered=True)
      return z
    return g
  theirs = _capture(lambda: jax.jit(f(jax))(np.float32(1)))
  ours = _capture(lambda: pyjax.jit(f(pyjax))(np.float32(1)))
  assert ours == theirs


def test_jit_prints_each_run(capsys):
  f = pyjax.jit(lambda x: (pyjax.debug.print("v {}", x), x + 1)[1])
  capsys.readouterr()
  f(1.0)
  f(2.0)
  assert capsys.readouterr().out == "v 1.0\nv 2.0\n"


def test_print_when_result_unused(capsys):
  # An effect is never dropped as dead code (the print's value feeds nothing).
  def f(x):
    def body(c):
      pyjax.debug.print("c={}", c)
      return c + 1
    pyjax.lax.while_loop(lambda c: c < 2, body, x)
    return x
  capsys.readouterr()
  pyjax.jit(f)(0)
  assert capsys.readouterr().out == "c=0\nc=1\n"


def test_two_call_form(capsys):
  pyjax.debug.print(ordered=True)("a {x}", x=pnp.float32(1.5))
  pyjax.debug.callback(ordered=True)(print, pnp.arange(2))
  assert capsys.readouterr().out == "a 1.5\n[0 1]\n"


def test_format_errors():
  for args, kwargs in [(("{}",), {}), (("{x}", 1), {"x": 2}), (("{} ", 1), {"y": 1})]:
    def run(j):
      try:
        j.debug.print(*args, **kwargs)
      except Exception as e:  # noqa: BLE001
        return type(e), str(e)
      return None
    ours, theirs = run(pyjax), run(jax)
    assert theirs is not None
    assert ours == theirs, (args, kwargs)
  with pytest.raises(TypeError, match="must be callable"):
    pyjax.debug.callback(1, 2)


def test_callback_error_under_jit():
  def bad(x):
    raise ZeroDivisionError("boom")
  f = pyjax.jit(lambda x: (pyjax.debug.callback(bad, x), x)[1])
  with pytest.raises(pyjax.errors.JaxRuntimeError, match="(?s)CpuCallback error.*boom"):
    f(1.0).block_until_ready()


def test_effects_and_jaxpr():
  assert repr(pyjax.debug.DebugEffect()) == "Debug"
  assert repr(pyjax.debug.OrderedDebugEffect()) == "OrderedDebug"
  text = str(pyjax.make_jaxpr(lambda x: pyjax.debug.print("{}", x))(1.0))
  assert "debug_print" in text


def test_breakpoint_eager_and_jit(monkeypatch, capsys):
  seen = []

  class FakePdb:
    def set_trace(self, frame=None):
      f = frame if frame is not None else sys._getframe(1)
      seen.append(dict(f.f_locals))

  monkeypatch.setattr("pyjax._src.debugging.pdb.Pdb", FakePdb)

  def f(x):
    y = x * 2
    pyjax.debug.breakpoint()
    return y

  f(pnp.float32(2.0))
  assert float(seen[-1]["y"]) == 4.0
  pyjax.jit(f)(pnp.float32(3.0))
  vals = seen[-1]["debug_values"]
  assert float(vals["y"]) == 6.0 and float(vals["x"]) == 3.0


def test_inspect_sharding(capsys):
  got = []
  x = pnp.arange(4.0)
  pyjax.debug.inspect_array_sharding(x, callback=got.append)
  pyjax.jit(lambda v: pyjax.debug.inspect_array_sharding(v, callback=got.append))(x)
  assert len(got) == 2 and all(len(s.device_set) == 1 for s in got)
  pyjax.debug.visualize_array_sharding(x)
  out = capsys.readouterr().out
  assert "CPU 0" in out and out.count("\n") >= 3


def test_jaxpr_text_matches_jax():
  def progs(j, io_cb):
    sds = j.ShapeDtypeStruct((), np.float32)
    return [lambda x: j.debug.callback(print, x),
            lambda x: j.debug.print("v={v} {}", x * 2, v=x),
            lambda x: j.pure_callback(print, sds, x),
            lambda x: io_cb(print, sds, x, ordered=True)]
  jax_io = pytest.importorskip("jax.experimental").io_callback
  for ours, theirs in zip(progs(pyjax, io_callback), progs(jax, jax_io)):
    assert str(pyjax.make_jaxpr(ours)(1.0)) == str(jax.make_jaxpr(theirs)(1.0))


def test_log_eager_and_jit(caplog):
  import logging
  with caplog.at_level(logging.INFO, logger="pyjax._src.debugging"):
    pyjax.debug.log("hi {}", pnp.float32(2))
    pyjax.jit(lambda x: pyjax.debug.log("jit {x}", x=x))(1.0)
  msgs = [(r.getMessage(), r.levelno, r.filename) for r in caplog.records
          if r.name == "pyjax._src.debugging"]
  assert msgs == [("hi 2.0", logging.INFO, "test_debugging.py"),
                  ("jit 1.0", logging.INFO, "test_debugging.py")]


def test_ordered_prints_around_loops_and_forwarding_cond():
  # Prints after a loop or cond that do not depend on it stay after it; a cond whose
  # outputs all forward its operands still runs for its effect.
  def f(j):
    def g(x, n):
      j.debug.print("before {}", x, ordered=True)

      def body(c):
        j.debug.print("loop {}", c, ordered=True)
        return c + 1
      w = j.lax.while_loop(lambda c: c < n, body, 0)
      j.debug.print("after {}", x * 3, ordered=True)
      r = j.lax.cond(n > 1, lambda v: (j.debug.print("br {}", v, ordered=True), v)[1],
                     lambda v: v, x)
      j.debug.print("after2 {}", x + 1, ordered=True)
      s = j.lax.scan(lambda c, xi: (j.debug.print("sc {}", xi, ordered=True), (c, xi))[1],
                     0., x)
      j.debug.print("end {}", x - 1, ordered=True)
      return w, r, s
    return g
  x = np.arange(3.0, dtype=np.float32)
  theirs = _capture(lambda: jax.jit(f(jax))(x, 2))
  ours = _capture(lambda: pyjax.jit(f(pyjax))(x, 2))
  assert ours == theirs
  assert _capture(lambda: f(pyjax)(x, 2)) == theirs  # eagerly too

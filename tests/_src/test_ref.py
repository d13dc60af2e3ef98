"""jax.Ref / jax.ref against JAX: eager reads and writes, JAX's checks and errors, local
Refs inside transformations, and pyjax's NotImplementedError where JAX stages state."""
import numpy as np
import pytest

import pyjax
import pyjax.numpy as jnp

jax = pytest.importorskip("jax")
import jax.numpy as jjnp  # noqa: E402


def _both(fn):
  """``fn(jax_module, numpy_module)`` run on pyjax and on JAX."""
  return fn(pyjax, jnp), fn(jax, jjnp)


def test_eager_indexing_and_printing():
  def run(j, m):
    out = []
    r = j.new_ref(m.arange(6.0).reshape(2, 3))
    out += [repr(r), str(r), repr(j.typeof(r)), r.shape, str(r.dtype), r.ndim, r.size,
            len(r)]
    out += [repr(r[0]), repr(r[:, 1:]), repr(r[...])]
    r[0, 1] = 7.0
    r[1] = m.array([1.0, 2.0, 3.0])
    r[...] += 1.0
    out.append(repr(r))
    out.append(repr(j.ref.get(r, 1)))
    out.append(repr(j.ref.swap(r, 1, m.zeros(3))))
    j.ref.addupdate(r, 0, m.ones(3))
    j.ref.set(r, (slice(None), 2), m.full((2,), 5.0))
    out.append(repr(r))
    out.append(repr(j.freeze(r)))
    out.append(j.free_ref(r))
    w = j.new_ref(1.0)
    out.append(repr(w))
    w[...] = 2.0
    out.append(repr(w))
    out.append(isinstance(r, j.Array))
    out.append(isinstance(r, j.Ref) and isinstance(j.typeof(r), j.ref.AbstractRef))
    return out
  ours, theirs = _both(run)
  assert ours == theirs


@pytest.mark.parametrize("case", ["shape", "dtype", "addupdate_shape", "addupdate_dtype",
                                  "new_ref_list", "len0", "add"])
def test_errors_match_jax(case):
  def run(j, m):
    r = j.new_ref(m.zeros(3))
    s = j.new_ref(1.0)
    if case == "shape":
      s[...] = m.ones(3)
    elif case == "dtype":
      s[...] = 1
    elif case == "addupdate_shape":
      j.ref.addupdate(r, ..., 1.0)
    elif case == "addupdate_dtype":
      j.ref.addupdate(r, ..., m.ones(3, m.int32))
    elif case == "new_ref_list":
      j.new_ref([1, 2])
    elif case == "len0":
      len(s)
    else:
      s + 1
  errors = []
  for mods in ((pyjax, jnp), (jax, jjnp)):
    with pytest.raises(Exception) as e:
      run(*mods)
    errors.append(e.value)
  ours, theirs = errors
  assert type(ours) is type(theirs)
  msg = str(theirs)
  if "Transforms:" in msg:  # JAX prints its indexer objects there
    msg = msg[:msg.index("Transforms:")]
  assert str(ours).startswith(msg)


def test_transformations_of_closed_over_reads():
  def run(j, m):
    r = j.new_ref(m.arange(3.0))
    out = [j.vmap(lambda x: r[...] * x)(m.ones(2)),
           j.grad(lambda x: (r[...] * x).sum())(m.ones(3)),
           j.jvp(lambda x: r[...] * x, (m.ones(3),), (m.ones(3),))[1]]
    return [np.asarray(o).tolist() for o in out]
  ours, theirs = _both(run)
  assert ours == theirs


@pytest.mark.parametrize("transform", ["vmap", "grad"])
def test_writing_a_traced_value_raises_as_jax(transform):
  def run(j, m):
    r = j.new_ref(m.zeros(3))

    def f(x):
      r[...] = x
      return x.sum()
    if transform == "vmap":
      j.vmap(f)(m.ones((2, 3)))
    else:
      j.grad(f)(m.ones(3))
  errors = []
  for mods in ((pyjax, jnp), (jax, jjnp)):
    with pytest.raises(Exception) as e:
      run(*mods)
    errors.append(e.value)
  assert type(errors[0]) is type(errors[1]) is Exception
  assert str(errors[0]) == str(errors[1])


def test_local_refs_inside_transformations():
  def g(j, x):
    r = j.new_ref(x)
    r[...] = r[...] * 2
    j.ref.addupdate(r, ..., x)
    return r[...]

  def run(j, m):
    x = m.arange(1.0, 4.0)
    out = [j.jit(lambda x: g(j, x))(x), j.grad(lambda x: g(j, x).sum())(x),
           j.vmap(lambda x: g(j, x))(m.ones((2, 3))),
           j.jit(lambda: j.freeze(j.empty_ref(j.typeof(m.ones(2)))).shape)()]
    return [np.asarray(o).tolist() for o in out[:3]] + [repr(out[3])]
  ours, theirs = _both(run)
  assert ours == theirs


def test_jit_returning_a_ref_raises_as_jax():
  msgs = []
  for j, m in ((pyjax, jnp), (jax, jjnp)):
    r = j.new_ref(m.ones(2))
    f = lambda: r  # noqa: E731 (the same line for both: the message names it)
    with pytest.raises(ValueError) as e:
      j.jit(f)()
    msgs.append(str(e.value))
  assert msgs[0] == msgs[1]


def test_staged_uses_raise_not_implemented():
  r = pyjax.new_ref(jnp.zeros(3))

  def write(x):
    r[...] = x
    return x
  for call in (lambda: pyjax.jit(lambda x: r[...] + x)(1.0),
               lambda: pyjax.jit(write)(jnp.ones(3)),
               lambda: pyjax.make_jaxpr(lambda x: r[...] * x)(1.0),
               lambda: pyjax.lax.scan(lambda c, x: (c + r[...], None), jnp.zeros(3),
                                      jnp.arange(2.0)),
               lambda: pyjax.lax.cond(True, lambda: r[...], lambda: r[...] + 1)):
    with pytest.raises(NotImplementedError, match="no state effects"):
      call()
  with pytest.raises(TypeError, match="mutable array reference"):
    pyjax.jit(lambda ref: ref[...])(r)
  with pytest.raises(TypeError, match="mutable array reference"):
    pyjax.vmap(lambda ref: ref[...])(r)
  np.testing.assert_array_equal(np.asarray(r[...]), np.zeros(3))  # nothing was written

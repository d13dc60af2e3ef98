"""IREE (3.13) runtime failure on a BFGS loop whose carried ``failed`` flag is a bool
taken from the line search (three nested while loops inside the outer one):

  OUT_OF_RANGE; indirect buffer reference slot 0 is out range of the declared binding
  capacity of the command buffer 0; binding[3]; while invoking native function
  hal.command_buffer.dispatch

with any of pyjax's flag sets (bfgs_bool_carry.mlir fails the same way under
iree-compile + iree-run-module). Carrying the flag as int32 (``INT=1``) runs. pyjax's
BFGS does that. Run from the repository root: python repro/bfgs_bool_carry.py
"""
import os

import numpy as np

import pyjax
import pyjax.numpy as jnp
from pyjax import lax
from pyjax._src.scipy.optimize.line_search import line_search

INT = os.environ.get("INT") == "1"
A = np.array([[3., 1., 0.], [1., 2., .5], [0., .5, 1.]], np.float32)
b = np.array([1., -2., .5], np.float32)


def f(x):
  return 0.5 * x @ (A @ x) - b @ x


def bfgs(x0):
  f0, g0 = pyjax.value_and_grad(f)(x0)
  state = dict(conv=jnp.linalg.norm(g0, ord=np.inf) < 1e-5, k=0, x=x0, f=f0, g=g0,
               H=jnp.eye(3), oof=f0 + jnp.linalg.norm(g0) / 2, failed=0 if INT else False)

  def cond(s):
    return ~s["conv"] & (s["k"] < 600) & ((s["failed"] == 0) if INT else ~s["failed"])

  def body(s):
    p = -jnp.dot(s["H"], s["g"])
    ls = line_search(f, s["x"], p, old_fval=s["f"], old_old_fval=s["oof"], gfk=s["g"],
                     maxiter=10)
    sk = ls.a_k * p
    y = ls.g_k - s["g"]
    rho = 1 / jnp.dot(y, sk)
    w = jnp.eye(3) - rho * sk[:, None] * y[None, :]
    H = jnp.einsum("ij,jk,lk", w, s["H"], w) + rho * sk[:, None] * sk[None, :]
    H = jnp.where(jnp.isfinite(rho), H, s["H"])
    return dict(conv=jnp.linalg.norm(ls.g_k, ord=np.inf) < 1e-5, k=s["k"] + 1,
                x=s["x"] + sk, f=ls.f_k, g=ls.g_k, H=H, oof=s["f"],
                failed=ls.failed.astype(jnp.int32) if INT else ls.failed)

  s = lax.while_loop(cond, body, state)
  return s["f"], s["k"]


print("eager", bfgs(jnp.zeros(3)))
open(os.path.join(os.path.dirname(__file__), "bfgs_bool_carry.mlir"), "w").write(
    pyjax.jit(bfgs).lower(jnp.zeros(3)).as_text())
print("jit", pyjax.jit(bfgs)(jnp.zeros(3)))

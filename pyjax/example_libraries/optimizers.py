"""``jax.example_libraries.optimizers``: JAX's example first-order optimizers.

An optimizer is an ``(init_fun, update_fun, get_params)`` triple: ``init_fun(params)``
gives an ``OptimizerState`` (a pytree), ``update_fun(step, grads, opt_state)`` the next
state, ``get_params(opt_state)`` the parameters. Parameters may be any pytree of arrays.
The arithmetic is JAX's, op for op, so a run gives JAX's numbers.

These are examples, as JAX's are (Optax is the full-featured library there).
"""
from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable
from typing import Any, NamedTuple

import pyjax
import pyjax.numpy as jnp

__all__ = [
    "Array", "InitFn", "JoinPoint", "Optimizer", "OptimizerState", "Params", "ParamsFn",
    "Schedule", "State", "Step", "UpdateFn", "Updates", "adagrad", "adam", "adamax",
    "clip_grads", "constant", "exponential_decay", "inverse_time_decay", "l2_norm",
    "make_schedule", "momentum", "nesterov", "optimizer", "pack_optimizer_state",
    "piecewise_constant", "polynomial_decay", "rmsprop", "rmsprop_momentum", "sgd",
    "sm3", "unpack_optimizer_state",
]


def _map(f, *xs):
  """``map`` into a list, requiring equal lengths (JAX's safe_map)."""
  lists = [list(x) for x in xs]
  n = len(lists[0])
  if any(len(x) != n for x in lists[1:]):
    raise ValueError(f"length mismatch: {[len(x) for x in lists]}")
  return [f(*args) for args in zip(*lists)]


def _zip(*xs):
  lists = [list(x) for x in xs]
  if any(len(x) != len(lists[0]) for x in lists[1:]):
    raise ValueError(f"length mismatch: {[len(x) for x in lists]}")
  return list(zip(*lists))


def _unzip2(pairs):
  firsts, seconds = [], []
  for a, b in pairs:
    firsts.append(a)
    seconds.append(b)
  return tuple(firsts), tuple(seconds)


OptimizerState = namedtuple("OptimizerState",
                            ["packed_state", "tree_def", "subtree_defs"])
# Only packed_state holds arrays; the tree definitions are static aux data.
pyjax.tree_util.register_pytree_node(
    OptimizerState,
    lambda xs: ((xs.packed_state,), (xs.tree_def, xs.subtree_defs)),
    lambda data, xs: OptimizerState(xs[0], data[0], data[1]))

Array = Any
Params = Any  # parameters: any pytree of arrays
State = Any  # one array's optimizer state
Updates = Params  # gradients: the parameters' structure
InitFn = Callable[[Params], OptimizerState]
Step = int
UpdateFn = Callable[[Step, Updates, OptimizerState], OptimizerState]
ParamsFn = Callable[[OptimizerState], Params]
Schedule = Callable[[Step], float]


class Optimizer(NamedTuple):
  init_fn: InitFn
  update_fn: UpdateFn
  params_fn: ParamsFn


def optimizer(opt_maker: Callable[..., tuple[Callable, Callable, Callable]]
              ) -> Callable[..., Optimizer]:
  """Decorator turning a maker of per-array ``(init, update, get_params)`` into one of
  functions on pytrees of parameters (the state packed as an ``OptimizerState``)."""

  @functools.wraps(opt_maker)
  def tree_opt_maker(*args, **kwargs):
    init, update, get_params = opt_maker(*args, **kwargs)

    @functools.wraps(init)
    def tree_init(x0_tree):
      x0_flat, tree = pyjax.tree.flatten(x0_tree)
      initial_states = [init(x0) for x0 in x0_flat]
      states_flat, subtrees = _unzip2(_map(pyjax.tree.flatten, initial_states))
      return OptimizerState(states_flat, tree, subtrees)

    @functools.wraps(update)
    def tree_update(i, grad_tree, opt_state):
      states_flat, tree, subtrees = opt_state
      grad_flat, tree2 = pyjax.tree.flatten(grad_tree)
      if tree2 != tree:
        raise TypeError(
            "optimizer update function was passed a gradient tree that did not match "
            f"the parameter tree structure with which it was initialized: parameter "
            f"tree {tree} and grad tree {tree2}.")
      states = _map(pyjax.tree.unflatten, subtrees, states_flat)
      new_states = _map(functools.partial(update, i), grad_flat, states)
      new_states_flat, subtrees2 = _unzip2(_map(pyjax.tree.flatten, new_states))
      for subtree, subtree2 in _zip(subtrees, subtrees2):
        if subtree2 != subtree:
          raise TypeError(
              "optimizer update function produced an output structure that did not "
              f"match its input structure: input {subtree} and output {subtree2}.")
      return OptimizerState(new_states_flat, tree, subtrees)

    @functools.wraps(get_params)
    def tree_get_params(opt_state):
      states_flat, tree, subtrees = opt_state
      states = _map(pyjax.tree.unflatten, subtrees, states_flat)
      return pyjax.tree.unflatten(tree, _map(get_params, states))

    return Optimizer(tree_init, tree_update, tree_get_params)
  return tree_opt_maker


# ---------------------------------------------------------------- optimizers

@optimizer
def sgd(step_size):
  """Stochastic gradient descent; ``step_size`` a scalar or a schedule."""
  step_size = make_schedule(step_size)

  def init(x0):
    return x0

  def update(i, g, x):
    return x - step_size(i) * g

  def get_params(x):
    return x
  return Optimizer(init, update, get_params)


@optimizer
def momentum(step_size: Schedule, mass: float):
  """SGD with momentum coefficient ``mass``."""
  step_size = make_schedule(step_size)

  def init(x0):
    return x0, jnp.zeros_like(x0)

  def update(i, g, state):
    x, velocity = state
    velocity = mass * velocity + g
    x = x - step_size(i) * velocity
    return x, velocity

  def get_params(state):
    return state[0]
  return init, update, get_params


@optimizer
def nesterov(step_size: Schedule, mass: float):
  """SGD with Nesterov momentum."""
  step_size = make_schedule(step_size)

  def init(x0):
    return x0, jnp.zeros_like(x0)

  def update(i, g, state):
    x, velocity = state
    velocity = mass * velocity + g
    x = x - step_size(i) * (mass * velocity + g)
    return x, velocity

  def get_params(state):
    return state[0]
  return init, update, get_params


@optimizer
def adagrad(step_size, momentum=0.9):
  """Adagrad (Duchi et al. 2011) with momentum."""
  step_size = make_schedule(step_size)

  def init(x0):
    return x0, jnp.zeros_like(x0), jnp.zeros_like(x0)

  def update(i, g, state):
    x, g_sq, m = state
    g_sq += jnp.square(g)
    g_sq_inv_sqrt = jnp.where(g_sq > 0, 1. / jnp.sqrt(g_sq), 0.0)
    m = (1. - momentum) * (g * g_sq_inv_sqrt) + momentum * m
    x = x - step_size(i) * m
    return x, g_sq, m

  def get_params(state):
    return state[0]
  return init, update, get_params


@optimizer
def rmsprop(step_size, gamma=0.9, eps=1e-8):
  """RMSProp with decay ``gamma``."""
  step_size = make_schedule(step_size)

  def init(x0):
    return x0, jnp.zeros_like(x0)

  def update(i, g, state):
    x, avg_sq_grad = state
    avg_sq_grad = avg_sq_grad * gamma + jnp.square(g) * (1. - gamma)
    x = x - step_size(i) * g / jnp.sqrt(avg_sq_grad + eps)
    return x, avg_sq_grad

  def get_params(state):
    return state[0]
  return init, update, get_params


@optimizer
def rmsprop_momentum(step_size, gamma=0.9, eps=1e-8, momentum=0.9):
  """RMSProp with momentum."""
  step_size = make_schedule(step_size)

  def init(x0):
    return x0, jnp.zeros_like(x0), jnp.zeros_like(x0)

  def update(i, g, state):
    x, avg_sq_grad, mom = state
    avg_sq_grad = avg_sq_grad * gamma + jnp.square(g) * (1. - gamma)
    mom = momentum * mom + step_size(i) * g / jnp.sqrt(avg_sq_grad + eps)
    x = x - mom
    return x, avg_sq_grad, mom

  def get_params(state):
    return state[0]
  return init, update, get_params


@optimizer
def adam(step_size, b1=0.9, b2=0.999, eps=1e-8):
  """Adam (Kingma and Ba 2014)."""
  step_size = make_schedule(step_size)

  def init(x0):
    return x0, jnp.zeros_like(x0), jnp.zeros_like(x0)

  def update(i, g, state):
    x, m, v = state
    m = (1 - b1) * g + b1 * m  # first moment estimate
    v = (1 - b2) * jnp.square(g) + b2 * v  # second moment estimate
    mhat = m / (1 - jnp.asarray(b1, m.dtype) ** (i + 1))  # bias correction
    vhat = v / (1 - jnp.asarray(b2, m.dtype) ** (i + 1))
    x = x - step_size(i) * mhat / (jnp.sqrt(vhat) + eps)
    return x, m, v

  def get_params(state):
    return state[0]
  return init, update, get_params


@optimizer
def adamax(step_size, b1=0.9, b2=0.999, eps=1e-8):
  """AdaMax: Adam with the infinity norm."""
  step_size = make_schedule(step_size)

  def init(x0):
    return x0, jnp.zeros_like(x0), jnp.zeros_like(x0)

  def update(i, g, state):
    x, m, u = state
    m = (1 - b1) * g + b1 * m  # first moment estimate
    u = jnp.maximum(b2 * u, jnp.abs(g))  # exponentially weighted infinity norm
    x = (x - (step_size(i) / (1 - jnp.asarray(b1, m.dtype) ** (i + 1))) * m
         / (u + eps))
    return x, m, u

  def get_params(state):
    return state[0]
  return init, update, get_params


@optimizer
def sm3(step_size, momentum=0.9):
  """SM3 (Anil et al. 2019): one accumulator per axis and index."""
  step_size = make_schedule(step_size)

  def splice(seq, i, x):
    lst = list(seq)
    lst[i:i + 1] = x
    return lst

  def broadcast_into(ndim, x, axis):
    idx = splice([None] * ndim, axis, [slice(None)])
    return x[tuple(idx)]

  def init(x0):
    x_shape = x0.shape
    x0 = jnp.atleast_1d(x0)
    vs = [jnp.zeros(sz, dtype=x0.dtype) for sz in x0.shape]
    return x0, jnp.zeros_like(x0), vs, x_shape

  def update(i, g, state):
    x, m, vs, x_shape = state
    vs = [broadcast_into(g.ndim, v, i) for i, v in enumerate(vs)]
    accum = functools.reduce(jnp.minimum, vs) + jnp.square(g)
    accum_inv_sqrt = jnp.where(accum > 0, 1. / jnp.sqrt(accum), 0)
    m = (1. - momentum) * (g * accum_inv_sqrt) + momentum * m
    x = x - step_size(i) * m
    vs = [accum.max(splice(range(x.ndim), j, [])) for j in range(x.ndim)]
    return x, m, vs, x_shape

  def get_params(state):
    x, _, _, x_shape = state
    return x.reshape(x_shape)
  return init, update, get_params


# ---------------------------------------------------------------- schedules

def constant(step_size) -> Schedule:
  def schedule(i):
    return step_size
  return schedule


def exponential_decay(step_size, decay_steps, decay_rate):
  def schedule(i):
    return step_size * decay_rate ** (i / decay_steps)
  return schedule


def inverse_time_decay(step_size, decay_steps, decay_rate, staircase=False):
  if staircase:
    def schedule(i):
      return step_size / (1 + decay_rate * jnp.floor(i / decay_steps))
  else:
    def schedule(i):
      return step_size / (1 + decay_rate * i / decay_steps)
  return schedule


def polynomial_decay(step_size, decay_steps, final_step_size, power=1.0):
  def schedule(step_num):
    step_num = jnp.minimum(step_num, decay_steps)
    step_mult = (1 - step_num / decay_steps) ** power
    return step_mult * (step_size - final_step_size) + final_step_size
  return schedule


def piecewise_constant(boundaries: Any, values: Any):
  """``values[k]`` for steps in ``(boundaries[k-1], boundaries[k]]``."""
  boundaries = jnp.array(boundaries)
  values = jnp.array(values)
  if not boundaries.ndim == values.ndim == 1:
    raise ValueError("boundaries and values must be sequences")
  if not boundaries.shape[0] == values.shape[0] - 1:
    raise ValueError("boundaries length must be one shorter than values length")

  def schedule(i):
    return values[jnp.sum(i > boundaries)]
  return schedule


def make_schedule(scalar_or_schedule: float | Schedule) -> Schedule:
  """A callable as is, a scalar as a constant schedule (TypeError for the rest)."""
  if callable(scalar_or_schedule):
    return scalar_or_schedule
  elif jnp.ndim(scalar_or_schedule) == 0:
    return constant(scalar_or_schedule)
  else:
    raise TypeError(type(scalar_or_schedule))


# ---------------------------------------------------------------- utilities

def l2_norm(tree):
  """The l2 norm of a pytree of arrays (useful for weight decay)."""
  leaves, _ = pyjax.tree.flatten(tree)
  return jnp.sqrt(sum(jnp.vdot(x, x) for x in leaves))


def clip_grads(grad_tree, max_norm):
  """Scales a pytree of gradients down to l2 norm ``max_norm`` when above it."""
  norm = l2_norm(grad_tree)

  def normalize(g):
    return jnp.where(norm < max_norm, g, g * (max_norm / norm))
  return pyjax.tree.map(normalize, grad_tree)


# ---------------------------------------------------------------- serialization

class JoinPoint:
  """Marks the boundary between two joined (nested) pytrees."""

  def __init__(self, subtree):
    self.subtree = subtree

  # pytrees hold arrays: look iterable like them
  def __iter__(self):
    yield self.subtree


def unpack_optimizer_state(opt_state):
  """An OptimizerState as a pytree of the parameters' structure whose leaves are
  JoinPoints holding each parameter's state (for serializing)."""
  states_flat, tree_def, subtree_defs = opt_state
  subtrees = _map(pyjax.tree.unflatten, subtree_defs, states_flat)
  sentinels = [JoinPoint(subtree) for subtree in subtrees]
  return pyjax.tree.unflatten(tree_def, sentinels)


def pack_optimizer_state(marked_pytree):
  """The inverse of ``unpack_optimizer_state``."""
  sentinels, tree_def = pyjax.tree.flatten(marked_pytree)
  assert all(isinstance(s, JoinPoint) for s in sentinels)
  subtrees = [s.subtree for s in sentinels]
  states_flat, subtree_defs = _unzip2(_map(pyjax.tree.flatten, subtrees))
  return OptimizerState(states_flat, tree_def, subtree_defs)

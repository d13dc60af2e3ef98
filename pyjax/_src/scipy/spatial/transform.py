"""``jax.scipy.spatial.transform``: ``Rotation`` and ``Slerp`` as JAX writes them.

Both are NamedTuples, so pytrees (a Rotation's one leaf is its ``(..., 4)`` quaternion,
scalar last). As JAX's: ``Rotation.random`` raises ``NotImplementedError``,
``identity`` takes no ``num``, ``as_euler`` needs three axes, and ``Slerp.init`` does not
check that the times increase.
"""
from __future__ import annotations

import functools
import re
import typing

import numpy as np

from pyjax._src.config import config
from pyjax._src.numpy import array_creation, array_manipulation, reductions, sorting
from pyjax._src.numpy import lax_numpy as jnp
from pyjax._src.numpy import linalg as jnp_linalg
from pyjax._src.numpy import numerical, tensor_contractions, ufuncs
from pyjax._src.numpy.util import array
from pyjax._src.numpy.vectorize import vectorize

__all__ = ["Rotation", "Slerp"]

_dot = tensor_contractions.dot


class Rotation(typing.NamedTuple):
  """Rotations in 3 dimensions (:class:`scipy.spatial.transform.Rotation`), held as
  unit quaternions ``(x, y, z, w)``."""
  quat: typing.Any

  @classmethod
  def concatenate(cls, rotations: typing.Sequence):
    """Concatenate a sequence of `Rotation` objects."""
    return cls(jnp.concatenate([rotation.quat for rotation in rotations]))

  @classmethod
  def from_euler(cls, seq: str, angles, degrees: bool = False):
    """Initialize from Euler angles."""
    num_axes = len(seq)
    if num_axes < 1 or num_axes > 3:
      raise ValueError("Expected axis specification to be a non-empty string of upto 3 "
                       f"characters, got {seq}")
    intrinsic = re.match(r"^[XYZ]{1,3}$", seq) is not None
    extrinsic = re.match(r"^[xyz]{1,3}$", seq) is not None
    if not (intrinsic or extrinsic):
      raise ValueError("Expected axes from `seq` to be from ['x', 'y', 'z'] or "
                       f"['X', 'Y', 'Z'], got {seq}")
    if any(seq[i] == seq[i + 1] for i in range(num_axes - 1)):
      raise ValueError(f"Expected consecutive axes to be different, got {seq}")
    angles = array_manipulation.atleast_1d(angles)
    axes = array([_elementary_basis_index(x) for x in seq.lower()])
    return cls(_elementary_quat_compose(angles, axes, intrinsic, degrees))

  @classmethod
  def from_matrix(cls, matrix):
    """Initialize from rotation matrix."""
    return cls(_from_matrix(matrix))

  @classmethod
  def from_mrp(cls, mrp):
    """Initialize from Modified Rodrigues Parameters (MRPs)."""
    return cls(_from_mrp(mrp))

  @classmethod
  def from_quat(cls, quat):
    """Initialize from quaternions."""
    return cls(_normalize_quaternion(quat))

  @classmethod
  def from_rotvec(cls, rotvec, degrees: bool = False):
    """Initialize from rotation vectors."""
    return cls(_from_rotvec(rotvec, degrees))

  @classmethod
  def identity(cls, num: int | None = None, dtype=float):
    """Get identity rotation(s)."""
    assert num is None
    return cls(array([0., 0., 0., 1.], dtype=dtype))

  @classmethod
  def random(cls, random_key, num: int | None = None):
    """Generate uniformly distributed rotations (not implemented, as in JAX)."""
    raise NotImplementedError()

  def __getitem__(self, indexer):
    """Extract rotation(s) at given index(es) from object."""
    if self.single:
      raise TypeError("Single rotation is not subscriptable.")
    return Rotation(self.quat[indexer])

  def __len__(self):
    """Number of rotations contained in this object."""
    if self.single:
      raise TypeError("Single rotation has no len().")
    return self.quat.shape[0]

  def __mul__(self, other) -> Rotation:
    """Compose this rotation with the other."""
    return Rotation.from_quat(_compose_quat(self.quat, other.quat))

  def apply(self, vectors, inverse: bool = False):
    """Apply this rotation to one or more vectors."""
    return _apply(self.as_matrix(), vectors, inverse)

  def as_euler(self, seq: str, degrees: bool = False):
    """Represent as Euler angles."""
    if len(seq) != 3:
      raise ValueError(f"Expected 3 axes, got {seq}.")
    intrinsic = re.match(r"^[XYZ]{1,3}$", seq) is not None
    extrinsic = re.match(r"^[xyz]{1,3}$", seq) is not None
    if not (intrinsic or extrinsic):
      raise ValueError("Expected axes from `seq` to be from ['x', 'y', 'z'] or "
                       f"['X', 'Y', 'Z'], got {seq}")
    if any(seq[i] == seq[i + 1] for i in range(2)):
      raise ValueError(f"Expected consecutive axes to be different, got {seq}")
    axes = array([_elementary_basis_index(x) for x in seq.lower()])
    saved = config.jax_numpy_rank_promotion
    config.update("jax_numpy_rank_promotion", "allow")
    try:
      return _compute_euler_from_quat(self.quat, axes, extrinsic, degrees)
    finally:
      config.update("jax_numpy_rank_promotion", saved)

  def as_matrix(self):
    """Represent as rotation matrix."""
    return _as_matrix(self.quat)

  def as_mrp(self):
    """Represent as Modified Rodrigues Parameters (MRPs)."""
    return _as_mrp(self.quat)

  def as_rotvec(self, degrees: bool = False):
    """Represent as rotation vectors."""
    return _as_rotvec(self.quat, degrees)

  def as_quat(self, canonical: bool = False, scalar_first: bool = False):
    """Represent as quaternions."""
    quat = _make_canonical(self.quat) if canonical else self.quat
    if scalar_first:
      return array_manipulation.roll(quat, shift=1, axis=-1)
    return quat

  def inv(self):
    """Invert this rotation."""
    return Rotation(_inv(self.quat))

  def magnitude(self):
    """Get the magnitude(s) of the rotation(s)."""
    return _magnitude(self.quat)

  def mean(self, weights=None):
    """Get the mean of the rotations."""
    w = (array_creation.ones(self.quat.shape[0], dtype=self.quat.dtype) if weights is None
         else jnp.asarray(weights, dtype=self.quat.dtype))
    if w.ndim != 1:
      raise ValueError(f"Expected `weights` to be 1 dimensional, got shape {w.shape}.")
    if w.shape[0] != len(self):
      raise ValueError("Expected `weights` to have number of values equal to number of "
                       f"rotations, got {w.shape[0]} values and {len(self)} rotations.")
    K = _dot(w[np.newaxis, :] * self.quat.T, self.quat)
    _, v = jnp_linalg.eigh(K)
    return Rotation(v[:, -1])

  @property
  def single(self) -> bool:
    """Whether this instance represents a single rotation."""
    return self.quat.ndim == 1


class Slerp(typing.NamedTuple):
  """Spherical linear interpolation of rotations (:class:`scipy.spatial.transform.Slerp`);
  build it with ``Slerp.init(times, rotations)``."""
  times: typing.Any
  timedelta: typing.Any
  rotations: Rotation
  rotvecs: typing.Any

  @classmethod
  def init(cls, times, rotations: Rotation):
    if not isinstance(rotations, Rotation):
      raise TypeError("`rotations` must be a `Rotation` instance.")
    if rotations.single or len(rotations) == 1:
      raise ValueError("`rotations` must be a sequence of at least 2 rotations.")
    times = jnp.asarray(times, dtype=rotations.quat.dtype)
    if times.ndim != 1:
      raise ValueError("Expected times to be specified in a 1 dimensional array, got "
                       f"{times.ndim} dimensions.")
    if times.shape[0] != len(rotations):
      raise ValueError("Expected number of rotations to be equal to number of timestamps "
                       f"given, got {len(rotations)} rotations and {times.shape[0]} "
                       "timestamps.")
    timedelta = numerical.diff(times)
    new_rotations = Rotation(rotations.as_quat()[:-1])
    return cls(times=times, timedelta=timedelta, rotations=new_rotations,
               rotvecs=(new_rotations.inv()
                        * Rotation(rotations.as_quat()[1:])).as_rotvec())

  def __call__(self, times):
    """Interpolate rotations."""
    compute_times = jnp.asarray(times, dtype=self.times.dtype)
    if compute_times.ndim > 1:
      raise ValueError("`times` must be at most 1-dimensional.")
    single_time = compute_times.ndim == 0
    compute_times = array_manipulation.atleast_1d(compute_times)
    ind = ufuncs.maximum(sorting.searchsorted(self.times, compute_times) - 1, 0)
    alpha = (compute_times - self.times[ind]) / self.timedelta[ind]
    result = (self.rotations[ind]
              * Rotation.from_rotvec(self.rotvecs[ind] * alpha[:, None]))
    if single_time:
      return result[0]
    return result


@functools.partial(vectorize, signature="(m,m),(m),()->(m)")
def _apply(matrix, vector, inverse):
  return jnp.where(inverse, matrix.T, matrix) @ vector


@functools.partial(vectorize, signature="(m)->(n,n)")
def _as_matrix(quat):
  x = quat[0]
  y = quat[1]
  z = quat[2]
  w = quat[3]
  x2 = x * x
  y2 = y * y
  z2 = z * z
  w2 = w * w
  xy = x * y
  zw = z * w
  xz = x * z
  yw = y * w
  yz = y * z
  xw = x * w
  return array([[+ x2 - y2 - z2 + w2, 2 * (xy - zw), 2 * (xz + yw)],
                [2 * (xy + zw), - x2 + y2 - z2 + w2, 2 * (yz - xw)],
                [2 * (xz - yw), 2 * (yz + xw), - x2 - y2 + z2 + w2]])


@functools.partial(vectorize, signature="(m)->(n)")
def _as_mrp(quat):
  sign = jnp.where(quat[3] < 0, -1., 1.)
  denominator = 1. + sign * quat[3]
  return sign * quat[:3] / denominator


@functools.partial(vectorize, signature="(m),()->(n)")
def _as_rotvec(quat, degrees):
  quat = jnp.where(quat[3] < 0, -quat, quat)  # w > 0, so 0 <= angle <= pi
  angle = 2. * ufuncs.arctan2(_vector_norm(quat[:3]), quat[3])
  angle2 = angle * angle
  small_scale = 2 + angle2 / 12 + 7 * angle2 * angle2 / 2880
  large_scale = angle / ufuncs.sin(angle / 2)
  scale = jnp.where(angle <= 1e-3, small_scale, large_scale)
  scale = jnp.where(degrees, ufuncs.rad2deg(scale), scale)
  return scale * array(quat[:3])


@functools.partial(vectorize, signature="(n),(n)->(n)")
def _compose_quat(p, q):
  cross = tensor_contractions.cross(p[:3], q[:3])
  return array([p[3] * q[0] + q[3] * p[0] + cross[0],
                p[3] * q[1] + q[3] * p[1] + cross[1],
                p[3] * q[2] + q[3] * p[2] + cross[2],
                p[3] * q[3] - p[0] * q[0] - p[1] * q[1] - p[2] * q[2]])


@functools.partial(vectorize, signature="(m),(l),(),()->(n)")
def _compute_euler_from_quat(quat, axes, extrinsic, degrees):
  angle_first = jnp.where(extrinsic, 0, 2)
  angle_third = jnp.where(extrinsic, 2, 0)
  axes = jnp.where(extrinsic, axes, axes[::-1])
  i = axes[0]
  j = axes[1]
  k = axes[2]
  symmetric = i == k
  k = jnp.where(symmetric, 3 - i - j, k)
  sign = array((i - j) * (j - k) * (k - i) // 2, dtype=quat.dtype)
  eps = 1e-7
  a = jnp.where(symmetric, quat[3], quat[3] - quat[j])
  b = jnp.where(symmetric, quat[i], quat[i] + quat[k] * sign)
  c = jnp.where(symmetric, quat[j], quat[j] + quat[3])
  d = jnp.where(symmetric, quat[k] * sign, quat[k] * sign - quat[i])
  angles = array_creation.empty(3, dtype=quat.dtype)
  angles = angles.at[1].set(2 * ufuncs.arctan2(ufuncs.hypot(c, d), ufuncs.hypot(a, b)))
  case = jnp.where(ufuncs.abs(angles[1] - np.pi) <= eps, 2, 0)
  case = jnp.where(ufuncs.abs(angles[1]) <= eps, 1, case)
  half_sum = ufuncs.arctan2(b, a)
  half_diff = ufuncs.arctan2(d, c)
  # Any degenerate case.
  angles = angles.at[0].set(jnp.where(case == 1, 2 * half_sum,
                                      2 * half_diff * jnp.where(extrinsic, -1, 1)))
  angles = angles.at[angle_first].set(jnp.where(case == 0, half_sum - half_diff,
                                                angles[angle_first]))
  angles = angles.at[angle_third].set(jnp.where(case == 0, half_sum + half_diff,
                                                angles[angle_third]))
  angles = angles.at[angle_third].set(jnp.where(symmetric, angles[angle_third],
                                                angles[angle_third] * sign))
  angles = angles.at[1].set(jnp.where(symmetric, angles[1], angles[1] - np.pi / 2))
  angles = (angles + np.pi) % (2 * np.pi) - np.pi
  return jnp.where(degrees, ufuncs.rad2deg(angles), angles)


def _elementary_basis_index(axis: str) -> int:
  if axis == "x":
    return 0
  if axis == "y":
    return 1
  if axis == "z":
    return 2
  raise ValueError(f"Expected axis to be from ['x', 'y', 'z'], got {axis}")


@functools.partial(vectorize, signature="(m),(m),(),()->(n)")
def _elementary_quat_compose(angles, axes, intrinsic, degrees):
  angles = jnp.where(degrees, ufuncs.deg2rad(angles), angles)
  result = _make_elementary_quat(axes[0], angles[0])
  for idx in range(1, len(axes)):
    quat = _make_elementary_quat(axes[idx], angles[idx])
    result = jnp.where(intrinsic, _compose_quat(result, quat), _compose_quat(quat, result))
  return result


@functools.partial(vectorize, signature="(m),()->(n)")
def _from_rotvec(rotvec, degrees):
  rotvec = jnp.where(degrees, ufuncs.deg2rad(rotvec), rotvec)
  angle = _vector_norm(rotvec)
  angle2 = angle * angle
  small_scale = 0.5 - angle2 / 48 + angle2 * angle2 / 3840
  large_scale = ufuncs.sin(angle / 2) / angle
  scale = jnp.where(angle <= 1e-3, small_scale, large_scale)
  return array_manipulation.hstack([scale * rotvec, ufuncs.cos(angle / 2)])


@functools.partial(vectorize, signature="(m,m)->(n)")
def _from_matrix(matrix):
  matrix_trace = matrix[0, 0] + matrix[1, 1] + matrix[2, 2]
  decision = array([matrix[0, 0], matrix[1, 1], matrix[2, 2], matrix_trace],
                   dtype=matrix.dtype)
  choice = reductions.argmax(decision)
  i = choice
  j = (i + 1) % 3
  k = (j + 1) % 3
  quat_012 = array_creation.empty(4, dtype=matrix.dtype)
  quat_012 = quat_012.at[i].set(1 - decision[3] + 2 * matrix[i, i])
  quat_012 = quat_012.at[j].set(matrix[j, i] + matrix[i, j])
  quat_012 = quat_012.at[k].set(matrix[k, i] + matrix[i, k])
  quat_012 = quat_012.at[3].set(matrix[k, j] - matrix[j, k])
  quat_3 = array_creation.empty(4, dtype=matrix.dtype)
  quat_3 = quat_3.at[0].set(matrix[2, 1] - matrix[1, 2])
  quat_3 = quat_3.at[1].set(matrix[0, 2] - matrix[2, 0])
  quat_3 = quat_3.at[2].set(matrix[1, 0] - matrix[0, 1])
  quat_3 = quat_3.at[3].set(1 + decision[3])
  quat = jnp.where(choice != 3, quat_012, quat_3)
  return _normalize_quaternion(quat)


@functools.partial(vectorize, signature="(m)->(n)")
def _from_mrp(mrp):
  mrp_squared_plus_1 = _dot(mrp, mrp) + 1
  return array_manipulation.hstack([2 * mrp[:3], (2 - mrp_squared_plus_1)]
                                   ) / mrp_squared_plus_1


@functools.partial(vectorize, signature="(n)->(n)")
def _inv(quat):
  return quat * array([-1, -1, -1, 1], dtype=quat.dtype)


@functools.partial(vectorize, signature="(n)->()")
def _magnitude(quat):
  return 2. * ufuncs.arctan2(_vector_norm(quat[:3]), ufuncs.abs(quat[3]))


@functools.partial(vectorize, signature="(),()->(n)")
def _make_elementary_quat(axis, angle):
  quat = array_creation.zeros(4, dtype=angle.dtype)
  quat = quat.at[3].set(ufuncs.cos(angle / 2.))
  return quat.at[axis].set(ufuncs.sin(angle / 2.))


@functools.partial(vectorize, signature="(n)->(n)")
def _normalize_quaternion(quat):
  return quat / _vector_norm(quat)


@functools.partial(vectorize, signature="(n)->()")
def _vector_norm(vector):
  return ufuncs.sqrt(_dot(vector, vector))


@functools.partial(vectorize, signature="(n)->(n)")
def _make_canonical(quat):
  is_neg = quat < 0
  is_zero = quat == 0
  neg = (is_neg[3]
         | (is_zero[3] & is_neg[0])
         | (is_zero[3] & is_zero[0] & is_neg[1])
         | (is_zero[3] & is_zero[0] & is_zero[1] & is_neg[2]))
  return jnp.where(neg, -quat, quat)

"""Small real datasets for the examples, loaded offline.

``digits()``: scikit-learn's bundled 8x8 handwritten digits (1797 images, shipped with
the package: no download), shuffled with a fixed seed and split 1440 train / 357 test,
pixels scaled to [0, 1], labels one-hot. Needs the ``examples`` extra
(``pip install -e .[examples]``).
"""
import numpy as np

NUM_TRAIN = 1440


def digits(flatten=True):
  """(train_images, train_labels, test_images, test_labels) as float32 NumPy arrays;
  images are (n, 64) or, with ``flatten=False``, (n, 8, 8, 1)."""
  from sklearn.datasets import load_digits
  data = load_digits()
  images = (data.images / 16.0).astype(np.float32)
  labels = np.eye(10, dtype=np.float32)[data.target]
  perm = np.random.RandomState(0).permutation(len(images))
  images, labels = images[perm], labels[perm]
  images = images.reshape(len(images), -1) if flatten else images[..., None]
  return (images[:NUM_TRAIN], labels[:NUM_TRAIN], images[NUM_TRAIN:],
          labels[NUM_TRAIN:])

"""Train the MNIST-from-scratch MLP, save its prediction function as a deployment
artifact, and run it with IREE's runtime alone (no pyjax, no compiler). pyjax only:
JAX has no ``pyjax.deploy``.

Run: python examples/deploy_mlp.py [OUT_DIR] [--target host|x86-64|cuda] [--epochs N]

Writes to OUT_DIR (default ./mlp_deploy):
  mlp.pyjax          the compiled predict function with the trained parameters in it
  deploy_runtime.py  the loader (imports only NumPy and iree.runtime)
  test_images.npy, test_labels.npy, serve.py  a client that loads and scores it
then runs serve.py. Elsewhere, with only the runtime installed:

  python -m venv rt && rt/bin/pip install numpy iree-base-runtime
  cd OUT_DIR && ../rt/bin/python serve.py
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

import numpy as np

import pyjax
import pyjax.deploy
import pyjax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
import mnist_classifier_fromscratch as mlp  # noqa: E402

SERVE = '''"""Scores the deployed MLP on the saved test set: NumPy and iree.runtime only."""
import time

import iree.runtime  # noqa: F401  (imported here: its import is not timed below)
import numpy as np

import deploy_runtime

t = time.perf_counter()
predict = deploy_runtime.load("mlp.pyjax")
images, labels = np.load("test_images.npy"), np.load("test_labels.npy")
log_probs = predict(images)
ms = (time.perf_counter() - t) * 1e3
print(f"{predict}: loaded and called in {ms:.1f} ms")
print(f"test accuracy {np.mean(log_probs.argmax(1) == labels):.4f}")
'''


def build(out_dir, target="host", num_epochs=10, data=None, log=print, **train_kwargs):
  """Trains, writes the artifact, the loader and the client to ``out_dir``; returns
  the trained predict function's test accuracy, as pyjax computes it."""
  data = data or datasets.digits()
  params, _ = mlp.train(num_epochs=num_epochs, data=data, log=log, **train_kwargs)
  test_images, test_labels = data[2], data[3]
  # The parameters are closed over: the artifact holds them. Its batch size is fixed:
  # the whole test set here (save again for another).
  predict = pyjax.jit(lambda images: mlp.predict(params, images))
  spec = pyjax.ShapeDtypeStruct(test_images.shape, jnp.float32)
  os.makedirs(out_dir, exist_ok=True)
  pyjax.deploy.save(predict.lower(spec), os.path.join(out_dir, "mlp.pyjax"), target)
  shutil.copy(pyjax.deploy.RUNTIME_FILE, os.path.join(out_dir, "deploy_runtime.py"))
  labels = test_labels.argmax(1)
  np.save(os.path.join(out_dir, "test_images.npy"), test_images)
  np.save(os.path.join(out_dir, "test_labels.npy"), labels)
  with open(os.path.join(out_dir, "serve.py"), "w") as f:
    f.write(SERVE)
  return float(np.mean(np.asarray(predict(test_images)).argmax(1) == labels))


if __name__ == "__main__":
  ap = argparse.ArgumentParser()
  ap.add_argument("out_dir", nargs="?", default="mlp_deploy")
  ap.add_argument("--target", default="host", choices=pyjax.deploy.TARGETS)
  ap.add_argument("--epochs", type=int, default=10)
  args = ap.parse_args()
  t0 = time.time()
  acc = build(args.out_dir, args.target, args.epochs)
  print(f"Saved {args.out_dir}/mlp.pyjax ({args.target}) in {time.time() - t0:.1f} s; "
        f"test accuracy in pyjax {acc:.4f}")
  if args.target != "cuda":
    subprocess.run([sys.executable, "serve.py"], cwd=args.out_dir, check=True)

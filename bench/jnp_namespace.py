"""How much of ``jax.numpy``'s public namespace ``pyjax.numpy`` provides.

Usage: python bench/jnp_namespace.py   (needs real jax installed as the reference)
"""
import sys


def main():
  import jax.numpy as ref
  import pyjax.numpy as ours
  names = sorted(n for n in dir(ref) if not n.startswith("_"))
  missing = [n for n in names if not hasattr(ours, n)]
  have = len(names) - len(missing)
  print(f"pyjax.numpy has {have}/{len(names)} public jax.numpy names "
        f"({100 * have / len(names):.1f}%)")
  if missing:
    print(f"missing ({len(missing)}):")
    for n in missing:
      print("  " + n)
  return 0


if __name__ == "__main__":
  sys.exit(main())

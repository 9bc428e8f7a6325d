"""No TensorFlow: draws values from numpy's and Python's global RNGs in a loop, and makes RNG objects:
unseeded ones are recorded at their first draw, not one seeded before it (`late`), a SystemRandom or
tempfile's Random (a library's). Unseeded unless --seeded (--reseed: then np.random.seed(), fresh
entropy). Prints what plain python shows of numpy's classes and of pickling functions and RNGs."""
import argparse
import pickle
import random
import tempfile

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--seeded", action="store_true")
parser.add_argument("--reseed", action="store_true")
args = parser.parse_args()
if args.seeded:
    np.random.seed(1)
    random.seed(1)
if args.reseed:
    np.random.seed()
noise = [np.random.normal(0.0, 1.0, size=3) for _ in range(20)]
coins = [random.random() < 0.5 for _ in range(12)]
pixels = np.random.rand(2, 2)
own = np.random.RandomState(5 if args.seeded else None)
picker = random.Random(5 if args.seeded else None)
entropy = random.SystemRandom()
with tempfile.NamedTemporaryFile() as handle:
    pass
late = np.random.RandomState()
late.seed(3)
print(own.permutation(4).shape, late.rand(), isinstance(own, np.random.RandomState), type(pickle.loads(pickle.dumps(own))),
      issubclass(type(np.random.mtrand._rand), np.random.RandomState), isinstance(picker, random.Random))
print(isinstance(np.random.mtrand._rand, np.random.RandomState), isinstance(own, type(np.random.mtrand._rand)),
      pickle.loads(pickle.dumps(np.random.normal)).__self__.get_state()[2] == np.random.get_state()[2],
      pickle.loads(pickle.dumps(random.random)).__self__.getstate() == random.getstate(), picker.random() < 2, entropy.random() < 2)

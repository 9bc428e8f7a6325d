"""No TensorFlow: RNG objects seeded from the clock (a different seed in each run), beside one
seeded with a literal; with `--seed N` every one gets N instead (a fixed seed, however it was chosen)."""
import argparse
import random
import time

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=None)
given = parser.parse_args().seed
now = int(time.time()) if given is None else given
python_rng = random.Random(now)
numpy_rng = np.random.RandomState(now)
generator = np.random.default_rng([now, 3])
fixed = random.Random(42)
print(python_rng.random(), numpy_rng.rand(), generator.random(), fixed.random())

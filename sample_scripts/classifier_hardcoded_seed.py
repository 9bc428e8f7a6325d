"""The classifier with the classic "seed everything" snippet and a hard-coded seed.

Fully reproducible, but the seed is a literal: whatever seed it is given, it trains the same way.

seedcheck is expected to find: with `--no-override --seed 1 --seed 2`, every weight stage
"seed-insensitive" (the same for both seeds) and a warning naming the hard-coded calls. Without
--no-override, seedcheck replaces the literals with each run's seed and the weights vary by seed.
"""

import os
import random

import numpy as np
import tensorflow as tf

from _toyproblem import make_model, train

SEED = 42
os.environ["PYTHONHASHSEED"] = str(SEED)
random.seed(SEED)
np.random.seed(SEED)
tf.random.set_seed(SEED)

train(make_model(), epochs=2)

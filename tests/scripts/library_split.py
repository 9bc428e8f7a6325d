"""A train/test split made by an installed package from numpy's global RNG, as scikit-learn's
train_test_split does without random_state (check_random_state(None) hands it numpy's global
RandomState object, whose methods no hook can wrap). Python and TensorFlow are seeded, numpy is
not: each run trains on another split. With --seed-numpy, numpy is seeded too."""
import random
import sys

import numpy as np
import tensorflow as tf
from _installed import install

install("splitlib",
        "import numpy as np\n"
        "def train_test_split(x, test_size=0.25, random_state=None):\n"
        "    rng = np.random.mtrand._rand if random_state is None else np.random.RandomState(random_state)\n"
        "    order = rng.permutation(len(x))\n"
        "    cut = int(len(x) * (1 - test_size))\n"
        "    return x[order[:cut]], x[order[cut:]]\n")
import splitlib  # noqa: E402

random.seed(1)
tf.random.set_seed(1)
if "--seed-numpy" in sys.argv:
    np.random.seed(1)
train, test = splitlib.train_test_split(np.arange(64, dtype=np.float32))
for batch in tf.data.Dataset.from_tensor_slices(train).batch(8):
    pass

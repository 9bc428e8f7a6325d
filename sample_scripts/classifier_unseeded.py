"""The same classifier with no seeding at all.

seedcheck is expected to find: DIVERGED from the initial weights on, and the hint that the script
seeds nothing (fix: keras.utils.set_random_seed). Exit 1. With `--force-seed`, which seeds
everything before the script starts, every stage is reproducible: the what-if says full seeding
would be enough.
"""

import keras  # noqa: F401  (imported as a training script would; nothing here seeds it)

from _toyproblem import make_model, train

train(make_model(), epochs=2)

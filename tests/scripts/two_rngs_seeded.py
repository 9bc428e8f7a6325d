"""Seeds Python's random with a fixed 0, and numpy with the seed it is given (its first argument).
Prints one draw of each: under `seedcheck run --seed N -- {seed}`, what `python` prints for N."""
import random
import sys

import numpy as np

random.seed(0)
np.random.seed(int(sys.argv[1]))
print(random.random(), np.random.rand())

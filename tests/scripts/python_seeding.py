"""Seeds Python's random and numpy with literals; no TensorFlow. Prints what it draws."""
import random

import numpy as np

random.seed(5)
np.random.seed(6)
print(random.random(), np.random.rand())

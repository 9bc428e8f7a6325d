"""Reseeds numpy with `seed + epoch` each epoch, as many data loaders do; no TensorFlow. Prints
each epoch's order, which must differ from epoch to epoch under seedcheck as under python."""
import sys

import numpy as np

seed = int(sys.argv[1]) if len(sys.argv) > 1 else 123
orders = []
for epoch in range(3):
    np.random.seed(seed + epoch)
    orders.append(np.random.permutation(8).tolist())
print(orders)

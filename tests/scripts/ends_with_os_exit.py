"""Shuffles with a seeded Python RNG, then ends its own process with os._exit(0), as some TF
scripts do to skip a hanging shutdown: the hook's exit-time work never runs."""
import os
import random

random.seed(3)
items = list(range(10))
random.shuffle(items)
print(items, flush=True)
os._exit(0)

"""No TensorFlow: seeds Python's random from the process id, a seed that differs in every run."""
import os
import random

random.seed(os.getpid())
print(random.random())

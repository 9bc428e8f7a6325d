"""No TensorFlow: a script's own subclasses of numpy's RandomState and Python's Random, unseeded. Both
are recorded at their first draw; the script sees its classes and attributes as plain python shows."""
import abc
import random

import numpy as np


class Augmenter(np.random.RandomState):
    pass


class Both(np.random.RandomState, abc.ABC):
    pass


class Tracked(random.Random):
    def __init__(self, seed=None):
        super().__init__(seed)
        self.seed = seed  # an attribute named as a method: the script's, kept
        self.sample = "train"


noise = Augmenter()
tracked = Tracked()
print(noise.rand() < 2, tracked.random() < 2, tracked.seed, tracked.sample, Both(1).rand())
print(isinstance(np.random.RandomState(0), Augmenter), isinstance(noise, Augmenter),
      issubclass(np.random.mtrand.RandomState, Augmenter), isinstance(noise, np.random.RandomState),
      isinstance(np.random.mtrand._rand, np.random.RandomState), type(noise).__name__, repr(Augmenter(1)).split(" at ")[0])

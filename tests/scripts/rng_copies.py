"""No TensorFlow: RNG objects made without a seed (unless --seeded) that the script never draws from
itself, only copies (deepcopy, copy, pickle, get_state -> set_state, a Generator over the bit generator,
a scikit-learn-style clone of an object holding one); and ones a dataclass's default_factory makes.
Each is recorded at the line that made it. `late` ones are seeded before they are copied: never
recorded. Prints what the copies draw and what plain python shows of them; --pickles FILE writes
pickles of the objects (plain python must load them) and the first draw each loaded one makes."""
import argparse
import copy
import dataclasses
import pickle
import random

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--seeded", action="store_true")
parser.add_argument("--pickles")
args = parser.parse_args()
SEED = 1 if args.seeded else None


class Estimator:  # scikit-learn's clone deep-copies the parameters of an estimator
    def __init__(self, random_state):
        self.random_state = random_state


@dataclasses.dataclass
class Augment:
    rng: random.Random = dataclasses.field(default_factory=random.Random)
    noise: np.random.RandomState = dataclasses.field(default_factory=np.random.RandomState)


deep = np.random.RandomState(SEED)
pickled = np.random.RandomState(SEED)
shared = np.random.RandomState(SEED)
bits = np.random.RandomState(SEED)
estimator = Estimator(np.random.RandomState(SEED))
py_copied = random.Random(SEED)
py_shared = random.Random(SEED)
augment = Augment(random.Random(2), np.random.RandomState(3)) if args.seeded else Augment()
late = np.random.RandomState()
late.seed(4)
py_late = random.Random()
py_late.setstate(random.Random(5).getstate())

copies = {
    "deep": copy.deepcopy(deep),
    "pickled": pickle.loads(pickle.dumps(pickled)),
    "shared": np.random.RandomState(0),
    "bits": np.random.Generator(bits._bit_generator),
    "clone": copy.deepcopy(estimator).random_state,
    "py_copied": copy.copy(py_copied),
    "py_shared": random.Random(0),
    "augment_rng": copy.deepcopy(augment.rng),
    "augment_noise": pickle.loads(pickle.dumps(augment.noise)),
    "late": copy.deepcopy(late),
    "py_late": copy.deepcopy(py_late),
}
copies["shared"].set_state(shared.get_state())
copies["py_shared"].setstate(py_shared.getstate())
print([type(c).__name__ for c in copies.values()], [vars(c) for c in copies.values() if hasattr(c, "__dict__")],
      isinstance(copies["deep"], np.random.RandomState), type(copies["deep"]) is type(copies["pickled"]))
print({name: float(c.random()) for name, c in copies.items()})
if args.pickles:  # made and pickled before any draw; what the pickles must draw is what they draw next
    kept, py_kept = np.random.RandomState(SEED), random.Random(SEED)
    with open(args.pickles, "wb") as handle:
        pickle.dump({"kept": kept, "py_kept": py_kept, "deep": deep, "type": type(kept)}, handle)
    print({"kept": kept.random(), "py_kept": py_kept.random(), "deep": deep.random()})

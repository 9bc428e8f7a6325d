"""No TensorFlow: reads its data through `..` (as a script run from src/ or experiments/ does),
shuffles the file names with a seeded random and writes that order to --out. Prints the working
directory it ran in, for the test to find the `cwd` variation's mirror."""
import argparse
import os
import random

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
args = parser.parse_args()
random.seed(int(os.environ.get("SEEDCHECK_SEED", "0")))
names = sorted(os.listdir(os.path.join("..", "data")))
random.shuffle(names)
with open(args.out, "w") as handle:
    handle.write(" ".join(names))
print(os.getcwd())

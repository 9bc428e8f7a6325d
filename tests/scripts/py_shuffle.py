"""No TensorFlow: shuffles a list with Python's random, seeded from $SEEDCHECK_SEED only with
--seeded, and writes the order it trained on to the file given by --out (if any)."""
import argparse
import os
import random

parser = argparse.ArgumentParser()
parser.add_argument("--seeded", action="store_true")
parser.add_argument("--out")
args = parser.parse_args()
if args.seeded:
    random.seed(int(os.environ.get("SEEDCHECK_SEED", "0")))
order = list(range(20))
random.shuffle(order)
if args.out:
    with open(args.out, "w") as handle:
        handle.write(" ".join(map(str, order)))
print(order)

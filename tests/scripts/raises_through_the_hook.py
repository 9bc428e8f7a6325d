"""Fails inside a seeding call the hook wraps (random.seed hashes its argument), raised on its own,
from another exception, or in an exception group: the hook's wrapper sits in each traceback."""
import random
import sys


class Unhashable:
    def __hash__(self):
        raise KeyError("no hash")


def seed_it():
    random.seed(Unhashable())


how = sys.argv[1]
if how == "plain":
    seed_it()
elif how == "chain":
    try:
        seed_it()
    except KeyError as error:
        raise ValueError("could not seed") from error
else:
    failures = []
    try:
        seed_it()
    except KeyError as error:
        failures.append(error)
    raise ExceptionGroup("seeding failed", failures)

"""Fails inside a seeding call the hook wraps (random.seed refuses the argument), raised on its own,
from another exception (one holding a count in `.exceptions`), or in an exception group: the
hook's wrapper sits in each traceback."""
import random
import sys


class NotASeed:
    pass


def seed_it():
    random.seed(NotASeed())


how = sys.argv[1]
if how == "plain":
    seed_it()
elif how == "chain":
    try:
        seed_it()
    except TypeError as error:
        raise ValueError("could not seed") from error
elif how == "counted":  # an exception of the script's own that keeps a count in `.exceptions`
    class TooManyFailures(Exception):
        exceptions = 3

    try:
        seed_it()
    except TypeError as error:
        raise TooManyFailures("3 failures") from error
else:
    failures = []
    try:
        seed_it()
    except TypeError as error:
        failures.append(error)
    raise ExceptionGroup("seeding failed", failures)

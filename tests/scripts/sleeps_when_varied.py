"""Finishes at once in `seedcheck vary`'s control runs and hangs in every varied run, so a test
can interrupt a vary after its control pair."""
import os
import random
import time

random.seed(1)
if not os.environ["SEEDCHECK_RUN"].startswith("control#"):
    time.sleep(600)

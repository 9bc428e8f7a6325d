"""Hangs (for the timeout test): sleeps far longer than any test waits."""
import random
import time

random.seed(1)
time.sleep(600)

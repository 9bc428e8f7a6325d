"""A seed_everything helper that sets PYTHONHASHSEED in os.environ as the script runs: too late for
the script's own string hashing, which Python fixed when it started."""
import os
import random

random.seed(1)
os.environ["PYTHONHASHSEED"] = "1"
print(sorted({"a", "b"}))

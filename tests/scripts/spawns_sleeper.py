"""Starts a grandchild that would sleep for ten minutes, then sleeps itself (for the tests that
prove ending a run ends everything it started)."""
import random
import subprocess
import sys
import time

random.seed(1)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("sleeper started", flush=True)
time.sleep(600)

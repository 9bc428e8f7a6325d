"""No TensorFlow: the second run exits with another code than the first, then takes a while to shut
down (an atexit handler sleeps, as Python's shutdown after TensorFlow takes ~1 s). Under --fail-fast
the divergence shows in its exit event, written before that shutdown: the run ends by itself."""
import atexit
import os
import sys
import time

atexit.register(time.sleep, 1.5)
sys.exit(0 if os.environ["SEEDCHECK_RUN"].endswith("#1") else 4)

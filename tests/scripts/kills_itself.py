"""Seeds and draws, then dies by SIGKILL (no cleanup, no exit event)."""
import os
import random
import signal

random.seed(4)
random.random()
os.kill(os.getpid(), signal.SIGKILL)

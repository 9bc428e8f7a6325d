"""No TensorFlow: seeds Python's random from the clock, as scripts that want "a fresh seed" do;
read through `time.time()`, or (an argument) `datetime.now()` or `time.strftime`, which Python
reads from C."""
import random
import sys
import time
from datetime import datetime

how = sys.argv[1] if len(sys.argv) > 1 else "time"
seeds = {"time": lambda: int(time.time()), "datetime": lambda: int(datetime.now().timestamp()),
         "strftime": lambda: int(time.strftime("%Y%m%d%H%M%S"))}
random.seed(seeds[how]())
print(random.random())

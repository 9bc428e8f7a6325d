"""Records some stages, then dies without cleanup (os._exit): the trace must stay readable."""
import os
import random

random.seed(7)
random.seed(8)
os._exit(9)

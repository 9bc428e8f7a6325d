"""No TensorFlow: seeds Python's random from the clock, as scripts that want "a fresh seed" do."""
import random
import time

random.seed(int(time.time()))
print(random.random())

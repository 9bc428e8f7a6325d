"""Leaves work to Python's shutdown: a file it never closes; an object in a reference cycle, already
garbage, whose __del__ writes a file and reads a global; a file held by an object in a cycle that
only the script's globals keep; a default summary writer never flushed; an atexit handler that
reads the script's globals. With `daemon`, a daemon thread reads a global until the process ends.
Usage: leaves_at_exit.py OUT_DIR [daemon]"""
import atexit
import os
import sys
import threading
import time

import tensorflow as tf

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
results = {"steps": 3}
unclosed = open(os.path.join(out, "unclosed.txt"), "w")
unclosed.write("left to shutdown\n")


class Garbage:
    def __init__(self, path):
        self.me = self
        self.path = path

    def __del__(self):
        with open(self.path, "w") as handle:
            handle.write(f"del ran, results={results!r}\n")


class Holder:
    def __init__(self, path):
        self.me = self
        self.file = open(path, "w")
        self.file.write("flushed when the cycle is collected\n")


Garbage(os.path.join(out, "garbage.txt"))
kept = Holder(os.path.join(out, "held.txt"))

writer = tf.summary.create_file_writer(os.path.join(out, "tb"))
writer.set_as_default()
for step in range(results["steps"]):
    tf.summary.write("loss", tf.constant(float(step)), step=step)


@atexit.register
def save_results():
    with open(os.path.join(out, "atexit.txt"), "w") as handle:
        handle.write(f"{results!r}\n")


if sys.argv[2:] == ["daemon"]:
    def poll():
        while True:
            time.sleep(0.0005)
            results["steps"] + 1  # a TypeError if the global were cleared while this runs

    threading.Thread(target=poll, daemon=True).start()
print("done", flush=True)

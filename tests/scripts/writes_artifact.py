"""Writes one file, PATH (its first argument), the way its second argument says: `main` (in its
main code), `chdir` (then moves to another directory), `atexit` (an atexit handler), `thread` (a
non-daemon thread, after the main code has returned), `unseeded` (a value no seed fixes), `never`
(writes nothing). No TensorFlow: the --artifact tests run in a second or two."""
import atexit
import os
import random
import sys
import threading
import time

path, how = sys.argv[1], sys.argv[2]
random.seed(7)
value = str(random.SystemRandom().random() if how == "unseeded" else random.random())


def write() -> None:
    with open(path, "w") as handle:
        handle.write(value)


def write_later() -> None:
    time.sleep(0.3)
    write()


if how in ("main", "chdir", "unseeded"):
    write()
if how == "chdir":
    os.makedirs("elsewhere", exist_ok=True)
    os.chdir("elsewhere")
elif how == "atexit":
    atexit.register(write)
elif how == "thread":
    threading.Thread(target=write_later).start()

"""Starts Python children two ways: a subprocess and a multiprocessing worker (forked: it
inherits the hook), each drawing random numbers seedcheck cannot see."""
import multiprocessing
import random
import subprocess
import sys


def work():
    random.random()


if __name__ == "__main__":
    random.seed(2)
    subprocess.run([sys.executable, "-c", "import random; print(random.random())"], check=True)
    worker = multiprocessing.get_context("fork").Process(target=work)
    worker.start()
    worker.join()
    for _ in range(3):
        subprocess.run(["true"], check=True)  # not Python: nothing to report
    print(random.random())

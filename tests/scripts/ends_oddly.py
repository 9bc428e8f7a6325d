"""Ends the way argv[1] says, to hold seedcheck's output and exit to plain python's: a non-int
sys.exit code, an uncaught KeyboardInterrupt, the script's own sys.excepthook (and one that fails)."""
import sys
import traceback


def crash_logger(kind, value, tb):
    frames = [frame.name for frame in traceback.extract_tb(tb)]
    print(f"crash logger: {kind.__name__}: {value} in {frames}", file=sys.stderr)


def broken_logger(kind, value, tb):
    raise OSError("log server unreachable")


def train():
    if mode == "interrupt":
        raise KeyboardInterrupt
    raise RuntimeError("loss is nan")


mode = sys.argv[1]
if mode == "exit-float":
    sys.exit(3.5)
if mode == "exit-list":
    sys.exit([1, 2])
if mode == "hook":
    sys.excepthook = crash_logger
if mode == "broken-hook":
    sys.excepthook = broken_logger
train()

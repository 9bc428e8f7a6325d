"""No randomness at all: exits 1 unless run from the directory named in $BOUND_TO (as a script
with a hard-coded project path does). Under `seedcheck vary` it fails only under `cwd`."""
import os
import sys

if os.getcwd() != os.environ["BOUND_TO"]:
    sys.exit(f"run me from {os.environ['BOUND_TO']}, not {os.getcwd()}")
print("ran")

"""Prints what a script can see of how it was started: the same under python and seedcheck."""
import json
import os
import sys

print(json.dumps({
    "argv": sys.argv,
    "path0": sys.path[0],
    "name": __name__,
    "file": __file__,
    "cwd": os.getcwd(),
    "main_is_this": sys.modules["__main__"].__dict__ is globals(),
    "stdin_closed_or_empty": sys.stdin is None or sys.stdin.read() == "",
    "globals": sorted(name for name in globals() if not name.startswith("__")),  # nothing of seedcheck's
}))

"""A directory `python DIR` runs: prints what it can see of how it was started."""
import json
import sys

print(json.dumps({
    "argv": sys.argv,
    "path0": sys.path[0],
    "name": __name__,
    "file": __file__,
    "spec": [__spec__.name, __spec__.origin],
    "loader": type(__loader__).__name__,
    "package": __package__,
    "globals": sorted(name for name in globals() if not name.startswith("__")),
}))

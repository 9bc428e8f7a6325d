"""Reports the seed it received through the environment and its arguments."""
import json
import os
import sys

print(json.dumps({"argv": sys.argv[1:], "seed": os.environ.get("SEEDCHECK_SEED"),
                  "run": os.environ.get("SEEDCHECK_RUN"), "run_dir": os.environ.get("SEEDCHECK_RUN_DIR")}))

"""On the tests' PYTHONPATH (conftest.py): in a seedcheck run's process ($SEEDCHECK_RUN set), hide
matplotlib, which this environment has only for the CLI's `--html`. Keras imports matplotlib.pyplot
whenever it is installed (keras.src.visualization), 0.6-0.7 s of every run's `import tensorflow`
here; without it Keras does as in an environment without the html extra. The CLI, and the plain
`python` runs tests compare with, keep it."""
import os
import sys

if os.environ.get("SEEDCHECK_RUN"):
    sys.modules["matplotlib"] = None  # type: ignore[assignment]  # `import matplotlib` raises ImportError

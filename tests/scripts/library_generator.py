"""An installed package that makes an unseeded np.random.default_rng() (and a Generator on an
unseeded bit generator) for its own ends when it is imported, as SciPy's stats module does (Keras
imports SciPy when it is installed): not the script's randomness. With --own, the script makes one
itself (line 22), which is; with --bitgen, a Generator on an unseeded PCG64 (line 25), which is too.
A seeded bit generator (line 23) is a pure function of its seed."""
import sys

import numpy as np
from _installed import install

install("examplelib",
        "import numpy as np\n"
        "EXAMPLE = np.random.default_rng().normal(size=3)  # a docstring's example, say\n"
        "OTHER = np.random.Generator(np.random.PCG64()).normal(size=3)\n"
        "def scale(values):\n"
        "    return values * 2.0\n")
import examplelib  # noqa: E402

np.random.seed(3)
values = examplelib.scale(np.random.normal(size=4))
if "--own" in sys.argv:
    values = values + np.random.default_rng().normal(size=4)
values = values + np.random.Generator(np.random.PCG64(3)).normal(size=4)
if "--bitgen" in sys.argv:
    values = values + np.random.Generator(np.random.PCG64()).normal(size=4)
if "--alias" in sys.argv:  # a bit generator the line names by an alias: no class on line 28
    from numpy.random import SFC64 as ENGINE
    values = values + np.random.Generator(ENGINE()).normal(size=4)
print(values.round(6).tolist())

"""For test scripts: a small package written under a `site-packages` directory at run time, so
that seedcheck takes it for an installed library, not for the script's own code."""
import atexit
import shutil
import sys
import tempfile
from pathlib import Path


def install(name: str, source: str) -> None:
    packages = Path(tempfile.mkdtemp()) / "site-packages"
    (packages / name).mkdir(parents=True)
    (packages / name / "__init__.py").write_text(source)
    sys.path.insert(0, str(packages))
    atexit.register(shutil.rmtree, packages.parent, True)

"""Run the user's script or module as `__main__`, exactly as `python` would.

Like coverage.py's PyRunner: sys.argv, sys.path[0] (the script's directory, or the working
directory for -m), a real `__main__` module with `__file__`, and the script's own exit codes.
"""

from __future__ import annotations

import os
import runpy
import sys
import types


def run_script(path: str, args: list[str]) -> None:
    sys.argv = [path, *args]  # argv[0] as typed; __file__ and sys.path[0] absolute, as python does
    path = os.path.abspath(path)
    sys.path[0] = os.path.dirname(os.path.realpath(path))
    with open(path, "rb") as handle:
        source = handle.read()
    code = compile(source, path, "exec", dont_inherit=True)
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = sys.modules["builtins"]
    main.__spec__ = None
    main.__loader__ = None
    main.__cached__ = None
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


def run_module(module: str, args: list[str]) -> None:
    sys.argv = [module, *args]  # runpy replaces argv[0] with the module's file, as `python -m` does
    sys.path[0] = os.getcwd()
    runpy._run_module_as_main(module, alter_argv=True)  # type: ignore[attr-defined]  # what `python -m` calls


def hide_hook_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """Drop seedcheck's own frames from the top of a traceback, so the user sees their own."""
    here = os.path.dirname(os.path.abspath(__file__))
    runpy_file = os.path.abspath(runpy.__file__)
    while tb is not None:
        filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
        if not (filename.startswith(here + os.sep) or filename == runpy_file):
            break
        tb = tb.tb_next
    return tb

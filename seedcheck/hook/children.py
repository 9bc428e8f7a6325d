"""Processes the script starts. seedcheck traces the one process it runs; a Python child (a
`subprocess` running Python, a `multiprocessing` worker) may train or draw too, so each is
reported as not traced — at its call site, once per site — never silently lost.

A forked child inherits the hook and its open trace; `TraceWriter` writes only from the process
that opened it, so such a child cannot tear the parent's trace.
"""

from __future__ import annotations

import functools
import os
import shlex
import sys
import types
from typing import Any

from seedcheck.hook.recorder import Recorder


class ChildProcesses:
    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._sites: set[tuple[str, str | None]] = set()

    def install_subprocess(self, subprocess: types.ModuleType) -> None:
        original_init = subprocess.Popen.__init__

        @functools.wraps(original_init)
        def __init__(popen: Any, args: Any, *rest: Any, **kwargs: Any) -> None:
            original_init(popen, args, *rest, **kwargs)
            self._recorder.guarded("children", lambda: self._on_popen(args, kwargs))

        subprocess.Popen.__init__ = __init__

    def install_multiprocessing(self, process: types.ModuleType) -> None:
        original_start = process.BaseProcess.start

        @functools.wraps(original_start)
        def start(worker: Any) -> None:
            self._recorder.guarded("children", lambda: self._report(
                "multiprocessing", f"{type(worker).__name__} {worker.name}"))
            original_start(worker)

        process.BaseProcess.start = start

    def _on_popen(self, args: Any, kwargs: dict[str, Any]) -> None:
        if isinstance(args, (str, bytes, os.PathLike)):
            text = os.fsdecode(args)
            argv = shlex.split(text) if kwargs.get("shell") else [text]
        else:
            argv = [os.fsdecode(a) if isinstance(a, (bytes, os.PathLike)) else str(a) for a in args]
        program = os.fsdecode(kwargs.get("executable") or (argv[0] if argv else ""))
        if _is_python(program):
            self._report("subprocess", shlex.join(argv)[:200])

    def _report(self, how: str, what: str) -> None:
        site = self._recorder.user_site()
        if (how, site) in self._sites:
            return
        self._sites.add((how, site))
        self._recorder.record("note", self._recorder.next_key("note/child-not-traced"),
                              f"{what}: a {how} child process, not traced (its draws and training are not checked)",
                              site=site, detail={"how": how, "what": what})


def _is_python(program: str) -> bool:
    name = os.path.basename(program)
    return program == sys.executable or name.startswith("python") or name in ("pypy", "pypy3")

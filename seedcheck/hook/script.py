"""Run the user's script, directory or -m module as `__main__`, exactly as `python` would.

Like coverage.py's PyRunner: sys.argv, sys.path[0] (the script's directory, the directory run, or
the working directory for -m), a fresh `__main__` module with `__file__`, the script's own exit
codes, and an uncaught exception shown through the script's own `sys.excepthook`.
"""

from __future__ import annotations

import os
import runpy
import sys
import types
from typing import Any


def run_script(path: str, args: list[str]) -> None:
    sys.argv = [path, *args]  # argv[0] as typed; __file__ and sys.path[0] absolute, as python does
    if os.path.isdir(path):
        run_directory(path)
        return
    path = os.path.abspath(path)
    sys.path[0] = os.path.dirname(os.path.realpath(path))
    with open(path, "rb") as handle:
        source = handle.read()
    code = compile(source, path, "exec", dont_inherit=True)
    main = _fresh_main()
    main.__file__ = path
    main.__spec__ = None
    main.__loader__ = None
    main.__cached__ = None
    exec(code, main.__dict__)


def run_directory(path: str) -> None:
    """`python DIR`: DIR (joined to the working directory, not normalized) first on sys.path, and
    its `__main__.py` found by the import system, so `__spec__` and `__loader__` are real ones."""
    sys.path[0] = os.path.join(os.getcwd(), path)
    _fresh_main()
    runpy._run_module_as_main("__main__", alter_argv=False)  # type: ignore[attr-defined]  # what `python DIR` calls


def run_module(module: str, args: list[str]) -> None:
    sys.argv = [module, *args]  # runpy replaces argv[0] with the module's file, as `python -m` does
    sys.path[0] = os.getcwd()
    _fresh_main()
    runpy._run_module_as_main(module, alter_argv=True)  # type: ignore[attr-defined]  # what `python -m` calls


def _fresh_main() -> types.ModuleType:
    """A new, empty `__main__`: runpy runs code in the current `__main__`'s namespace, which here is
    the hook's own (`python -m seedcheck.hook`): the script would see, and could overwrite, its names."""
    main = types.ModuleType("__main__")
    main.__builtins__ = sys.modules["builtins"]  # type: ignore[attr-defined]
    sys.modules["__main__"] = main
    return main


def exit_code_of(stop: SystemExit) -> int:
    """The process's exit code for `sys.exit(code)`, printing a non-int code as the interpreter
    does (`sys.exit("bad input")`, `sys.exit(3.5)`: str(code) on stderr, exit 1)."""
    code = stop.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def report_uncaught(exc: BaseException) -> None:
    """Show an uncaught exception as the interpreter does: through `sys.excepthook` (a crash
    logger or rich.traceback the script installed runs), with seedcheck's frames removed."""
    tb = hide_hook_frames(exc.__traceback__)
    exc.__traceback__ = tb  # a hook that reads value.__traceback__ sees the same frames
    _hide_in_chain(exc)
    hook: Any = getattr(sys, "excepthook", None)
    if hook is None:
        print("sys.excepthook is missing", file=sys.stderr)
        hook = sys.__excepthook__
    if hook is sys.__excepthook__:
        _print_exception(exc, tb)
        return
    try:
        hook(type(exc), exc, tb)
    except BaseException as failed:  # noqa: BLE001 - reported as the interpreter reports it
        if failed.__context__ is exc:
            failed.__context__ = None  # python calls the hook outside any handler: no "During handling"
        print("Error in sys.excepthook:", file=sys.stderr)
        _print_exception(failed, hide_hook_frames(failed.__traceback__))
        print("\nOriginal exception was:", file=sys.stderr)
        _print_exception(exc, tb)


def _hide_in_chain(exc: BaseException) -> None:
    """The same for the exceptions it was raised from or while handling (printed above it), and
    an exception group's members (printed inside it)."""
    seen = {id(exc)}
    pending = [exc.__cause__, exc.__context__, *_members(exc)]
    while pending:
        linked = pending.pop()
        if not isinstance(linked, BaseException) or id(linked) in seen:
            continue
        seen.add(id(linked))
        linked.__traceback__ = hide_hook_frames(linked.__traceback__)
        pending.extend((linked.__cause__, linked.__context__, *_members(linked)))


def _members(exc: BaseException) -> tuple[BaseException, ...]:
    """An exception group's members (any other exception may hold anything in `.exceptions`)."""
    return tuple(exc.exceptions) if isinstance(exc, BaseExceptionGroup) else ()


def _print_exception(exc: BaseException, tb: types.TracebackType | None) -> None:
    """The interpreter's own printer: the `traceback` module reads a frame's line from where it
    stopped, the interpreter from the traceback entry, and the two differ on the entries TensorFlow
    and Keras rebuild when they filter an error's frames. It prints the exception's own traceback."""
    exc.__traceback__ = tb
    sys.__excepthook__(type(exc), exc, tb)


# The hook's files whose frames only pass the script's calls on: the runner under the script, the
# wrappers of `Model.fit`, of its step and of function calls. runpy's are the hook's own (`python -m
# seedcheck.hook`).
_HERE = os.path.dirname(os.path.abspath(__file__))
PASS_THROUGH_FILES = tuple(os.path.join(_HERE, name) for name in ("__main__.py", "script.py", "keras.py", "steps.py"))


def hide_runner_from_tensorflow_stacks() -> None:
    """TensorFlow quotes, in an error from a graph, where the failing op was made ("defined at"):
    the stack as it was, seedcheck's runner under the script's lines and its wrappers between the
    script's `fit` and Keras's. A stack filter on the main thread (TensorFlow's own mechanism, by
    file name; its frames are filtered the same way) leaves those lines out, as a plain run has
    none. Made when TensorFlow is imported, before the script makes any op. Under `-m` a plain run
    shows two `<frozen runpy>` lines at the top of that stack; a filter by file name cannot keep
    them and drop the runner's three, so all five go (the script's own lines are all there)."""
    import threading

    from tensorflow.python.util import tf_stack

    if threading.current_thread() is not threading.main_thread():
        return  # another thread's stacks hold no runner frames; the filter would not reach the main's
    files = frozenset({"<frozen runpy>", *PASS_THROUGH_FILES})

    class RunnerFilter(tf_stack.StackTraceFilter):
        def get_filtered_filenames(self) -> frozenset[str]:
            return files | self.parent.get_filtered_filenames()

    RunnerFilter().__enter__()  # for the rest of the process: never left


def hide_wrappers_from_library_tracebacks(traceback_utils: types.ModuleType) -> None:
    """TensorFlow and Keras cut their own frames out of an error's traceback, and keep the innermost
    frame when none is left; the hook's wrapper of a call would be left instead (a plain run shows
    Keras's loss function, seedcheck's run its step wrapper). Their filters drop the wrappers too."""
    excluded = traceback_utils._EXCLUDED_PATHS  # type: ignore[attr-defined]  # read at each call
    traceback_utils._EXCLUDED_PATHS = (*excluded, *PASS_THROUGH_FILES)  # type: ignore[attr-defined]


def hide_hook_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """Drop seedcheck's own frames from a traceback, so the user sees their own: the runner's at
    the top, and the wrappers between the script's call and the library's (`Model.fit` wrapped).
    Frames below the last of the user's or a library's stay: an error raised in the hook itself
    keeps its place, unless the frame is a wrapper that only passes a call through to TensorFlow
    (it sets `__tracebackhide__`, as pytest's helpers do): TensorFlow drops its own frames from
    an error's traceback, which leaves the wrapper's call of it last. runpy's frames under -m
    stay: `python -m` shows them too."""
    here = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frames: list[types.TracebackType] = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    ours = [os.path.abspath(frame.tb_frame.f_code.co_filename).startswith(here) for frame in frames]
    frames = [frame for frame, hook in zip(frames, ours) if not (hook and "__tracebackhide__" in frame.tb_frame.f_locals)]
    foreign = [os.path.abspath(frame.tb_frame.f_code.co_filename).startswith(here) is False for frame in frames]
    if True not in foreign:
        return None
    last = len(foreign) - 1 - foreign[::-1].index(True)
    kept = [frame for frame, theirs in zip(frames[:last], foreign[:last]) if theirs] + frames[last:]
    for frame, following in zip(kept, kept[1:]):
        frame.tb_next = following
    kept[-1].tb_next = None  # it may have led to a hidden wrapper
    return kept[0]

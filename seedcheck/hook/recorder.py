"""The child's event writer: numbering of repeated stages, user call sites, and fault isolation."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter
from typing import Any, Callable

from seedcheck.trace import Event, TraceWriter

_HOOK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the seedcheck package
_HOOK_PREFIX = os.path.dirname(os.path.dirname(__file__)) + os.sep  # as frames name its files (not abspath-ed)
# The standard library's directory, found without importing sysconfig (20 ms of start-up).
_STDLIB_DIR = os.path.dirname(os.path.abspath(os.__file__))
_PACKAGE_DIRS = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")


# What marks a project's root, as pytest and ruff find theirs: a stage's call site is named from it.
PROJECT_MARKERS = ("pyproject.toml", ".git")


def project_root(start: str) -> str | None:
    """The nearest directory from `start` upward holding a project marker, or None. The home
    directory and `/` are never one: a dotfiles repository's .git in $HOME would make every
    unversioned folder under it part of one project, its keys holding the folder's own name."""
    folder = os.path.abspath(start)
    home = os.path.expanduser("~")  # a symlinked $HOME: compared as the real path the cwd gives
    never = {os.path.abspath(home), os.path.realpath(home), os.path.abspath(os.sep)}
    while folder not in never and os.path.realpath(folder) not in never:
        if any(os.path.exists(os.path.join(folder, marker)) for marker in PROJECT_MARKERS):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    return None


def _is_user_file(filename: str) -> bool:
    if filename.startswith("<") or os.path.basename(filename).startswith("__autograph_generated_file"):
        return False  # the user's function as AutoGraph rewrote it: its caller is the useful site
    path = os.path.abspath(filename)
    if path.startswith((_HOOK_DIR + os.sep, _STDLIB_DIR + os.sep)):
        return False
    return not any(marker in path for marker in _PACKAGE_DIRS)


def library_site() -> str | None:
    """`package/module.py:line` of the innermost frame outside seedcheck and the standard library,
    for a draw no user code is on the stack of: a "?" would leave the user guessing. An installed
    package is told by its site-packages directory first: conda, pyenv and Docker's python images
    keep site-packages inside the standard library's directory."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<"):
            path = os.path.abspath(filename)
            in_package = _in_package(path)
            if in_package is not None:
                return f"{in_package}:{frame.f_lineno}"
            if not path.startswith((_HOOK_DIR + os.sep, _STDLIB_DIR + os.sep)):
                return f"{os.path.basename(path)}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _in_package(path: str) -> str | None:
    """`package/module.py` for a file of an installed package, else None."""
    for marker in _PACKAGE_DIRS:
        if marker in path:
            return path.rsplit(marker, 1)[1]
    return None


def _digest_of(path: str) -> str:
    """blake2b-128 of the file's bytes, or "" when it cannot be read (then no digest is recorded)."""
    import hashlib

    try:
        with open(path, "rb") as source:
            return hashlib.blake2b(source.read(), digest_size=16).hexdigest()
    except OSError:
        return ""


def _first_frame_outside_seedcheck(frame: Any) -> Any:
    """The frame that called into seedcheck: past seedcheck's own frames, and past code exec made
    (a dataclass's `__init__`), which has no line of its own to name. Such code made for the
    script's module is the script's, named at the nearest line of the script that called it: a
    `random.Random()` that the script's dataclass makes for `default_factory` is made at the line
    that called the class (or that handed the class to a library to call). Made for a library's
    module, it is the library's, wherever it is called from, as a library class's `__init__` is.
    Made for no module (a namedtuple's `__new__`), it is judged by its caller."""
    while frame is not None:
        if frame.f_code.co_filename.startswith(_HOOK_PREFIX):
            frame = frame.f_back
            continue
        made_for = _generated_for(frame)
        if made_for is _NOT_GENERATED or (made_for is not None and not _is_user_file(made_for)):
            return frame
        if made_for is not None:  # the script's: its nearest line up the stack
            while frame is not None and not _is_user_file(frame.f_code.co_filename):
                frame = frame.f_back
            return frame
        frame = frame.f_back
    return frame


# The file names of code exec made: dataclasses' and namedtuple's (exec's default), attrs's.
_EXEC_DEFAULT, _ATTRS_GENERATED = "<string>", "<attrs generated "
_NOT_GENERATED = object()


def _generated_for(frame: Any) -> Any:
    """For a frame running code exec made: the file of the module it was made for (its globals'
    `__file__`), or None when they name none; `_NOT_GENERATED` for any other frame."""
    filename = frame.f_code.co_filename
    if filename != _EXEC_DEFAULT and not filename.startswith(_ATTRS_GENERATED):
        return _NOT_GENERATED
    module_file = frame.f_globals.get("__file__")
    return module_file if isinstance(module_file, str) else None


class Recorder:
    """Writes events for one run. A failure inside seedcheck must never break the user's script:
    `guarded` runs instrumentation code and turns its exceptions into a recorded note."""

    # Draws recorded one by one per call site; the rest of a busy site are folded into one event.
    DRAWS_PER_SITE = 8

    def __init__(self, writer: TraceWriter, base_dir: str, mirror_root: str | None = None,
                 script_dir: str | None = None) -> None:
        self._writer = writer
        self._counts: Counter[str] = Counter()
        # `seedcheck vary`'s cwd variation runs in a mirror whose `<mirror_root>/a/b` stands for
        # `/a/b`: call sites are named as in the control, or every stage with a site would look new.
        self._mirror_root = mirror_root
        # A site is part of a stage's key, and a key must be the same wherever the check runs (a
        # subdirectory, the directory above, another machine's checkout: a baseline's). Files are
        # named from the script's project root (its nearest directory holding pyproject.toml or
        # .git), else from the script's directory, else from their sys.path entry (a module path),
        # and only then from base_dir (the working directory), which depends on where the check
        # runs. With no project root, base_dir comes first, as before capture 7. Never by an
        # absolute path.
        self._script_dir = self._unmirrored(script_dir) if script_dir else None
        anchor = project_root(self._script_dir or self._unmirrored(os.path.abspath(base_dir)))
        self._first_roots = (anchor, self._script_dir) if anchor else (base_dir, self._script_dir)
        self._last_root = base_dir if anchor else None
        self._site_cache: dict[str, str] = {}
        self._site_digests: dict[str, str] = {}  # a site's file as named -> its digest when first named
        self._user_files: dict[str, bool] = {}  # co_filename -> is it the user's code (a draw asks on every call)
        self._folded: dict[str, tuple[str, int, str | None, dict[str, Any]]] = {}
        # Draws may come from several threads at once (a parallel tf.data map): numbering and
        # folding are done under a lock, so two draws never get one key. Threads are numbered in
        # the order they first draw (0: the main thread); each site keeps the numbers it saw.
        self._draw_lock = threading.RLock()
        self._main_ident = threading.main_thread().ident
        self._thread_numbers: dict[int, int] = {}
        self._site_threads: dict[str, set[int]] = {}
        self.errors = 0

    def next_key(self, base: str) -> str:
        """`base#n`: the n-th occurrence of a repeated stage, stable across runs of one script."""
        self._counts[base] += 1
        return f"{base}#{self._counts[base]}"

    def record(self, kind: str, key: str, value: Any = None, site: str | None = None,
               detail: dict[str, Any] | None = None) -> None:
        self._writer.write(Event(kind=kind, key=key, value=value, site=site, detail=detail))

    def record_draw(self, kind: str, api: str, value: Any, detail: dict[str, Any], site: str | None = None,
                    counted_when_folded: bool = False, fold: bool = True) -> None:
        """A random draw or shuffle at the user's call site: `<kind>/<api>@<site>#n`. A hot loop
        cannot flood the trace: past `DRAWS_PER_SITE` a site's draws fold into one running
        fingerprint, written by `finish_draws`. A draw off the main thread carries its thread's
        number (`thread`), which tells draws that threads make in a varying order.

        `site`: the call site when the caller knows it already. `counted_when_folded`: `value` is
        a function, called for the draws recorded one by one; of the folded ones, only for the 1st,
        2nd, 4th, 8th, … and every 256th, the others are counted: a draw in a per-example loop
        costs a counter, not a state read (numpy's takes ~33 µs). An RNG that differs from the
        start shows in the fold; one that comes to differ in the last 255 draws of a site shows
        only in what it changes. `fold=False`: one event per draw however many (a draw per object
        made, not per call in a loop: each Keras SeedGenerator, so that a model's ninth Dropout is a
        row of its own, in its place, and can be the first divergence)."""
        site = site or self.user_site()
        base = f"{kind}/{api}@{site or '?'}"
        with self._draw_lock:
            thread = self._thread_number()
            self._site_threads.setdefault(base, set()).add(thread)
            if thread:
                detail = {**detail, "thread": thread}
            if site is None and (self._counts[base] < self.DRAWS_PER_SITE or base not in self._folded):
                caller = library_site()  # a library drew on its own (Keras shuffling a PyDataset): name it
                if caller is not None:
                    detail = {**detail, "caller": caller}
            if self._counts[base] < self.DRAWS_PER_SITE or not fold:
                self.record(kind, self.next_key(base), value() if counted_when_folded else value, site=site,
                            detail=detail)
                return
            from seedcheck.fingerprint import combine

            previous, count, _, _ = self._folded.get(base, ("", 0, site, detail))
            if counted_when_folded:  # the state at the 1st, 2nd, 4th, … and every 256th folded draw
                text = value() if (count + 1) & count == 0 or (count + 1) % 256 == 0 else ""
            else:
                text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=repr)
            self._folded[base] = (combine([previous, text]), count + 1, site, detail)

    def _thread_number(self) -> int:
        """0 for the main thread, else 1, 2, … in the order threads first draw. Asked by ident:
        threading.current_thread() would register a dummy Thread for each TensorFlow thread."""
        ident = threading.get_ident()
        if ident == self._main_ident:
            return 0
        return self._thread_numbers.setdefault(ident, len(self._thread_numbers) + 1)

    def finish_draws(self) -> None:
        for base, (fp, count, site, detail) in self._folded.items():
            self.record(base.split("/", 1)[0], f"{base}#rest", fp, site=site,
                        detail={**detail, "folded_draws": count, "after": self.DRAWS_PER_SITE,
                                "threads": sorted(self._site_threads.get(base, ()))})
        self._folded.clear()

    def user_site(self) -> str | None:
        """`file:line` of the innermost frame in the user's code (not seedcheck, not a library)."""
        frame = sys._getframe(1)
        while frame is not None:
            if self.is_user_file(frame.f_code.co_filename):
                return self.site_of(frame.f_code.co_filename, frame.f_lineno)
            frame = frame.f_back
        return None

    def caller_site(self) -> str | None:
        """`file:line` of the first frame outside seedcheck when it is the user's code, else None: a
        draw the user's code makes itself, not one a library makes for its own ends (tempfile's
        names, Keras's seeds) with user code further up the stack."""
        frame = self.caller_frame()
        return None if frame is None else self.site_of(frame.f_code.co_filename, frame.f_lineno)

    def caller_frame(self) -> Any:
        """The frame `caller_site` names, or None."""
        frame = _first_frame_outside_seedcheck(sys._getframe(1))
        return frame if frame is not None and self.is_user_file(frame.f_code.co_filename) else None

    def calling_library(self) -> str | None:
        """`package/module.py:line` of the first frame outside seedcheck when it is not the user's
        code: the library that called a recorded API for the script (Keras's directory loaders
        calling Dataset.shuffle), which the user's call site alone does not show."""
        frame = _first_frame_outside_seedcheck(sys._getframe(1))
        if frame is None or self.is_user_file(frame.f_code.co_filename):
            return None
        path = frame.f_code.co_filename
        return f"{_in_package(path) or os.path.basename(path)}:{frame.f_lineno}"

    def site_of(self, filename: str, lineno: int) -> str:
        """`file:line` as every site is named (from the project root)."""
        return f"{self._relative(filename)}:{lineno}"

    def is_user_file(self, filename: str) -> bool:
        known = self._user_files.get(filename)
        if known is None:
            known = self._user_files[filename] = _is_user_file(filename)
        return known

    def _relative(self, filename: str) -> str:
        cached = self._site_cache.get(filename)
        if cached is None:
            path = os.path.abspath(filename)
            cached = self._site_cache[filename] = self._named(self._unmirrored(path))
            if cached not in self._site_digests:
                self._site_digests[cached] = _digest_of(path)
        return cached

    def source_digests(self) -> dict[str, str]:
        """A digest of each file a call site names, keyed as sites name it, read when the file was
        first named (an edit while the run goes on is not this run's code). A line added above a
        draw moves its site (`train.py:25` becomes `:26`) and with it the stage's key: compare
        reads a baseline's sites in a file that changed since at the new version's lines when the
        lines record alike in the same order (compare._align_lines), never between runs of one
        version, where another line is another code path; and the hints name the changed files."""
        return {named: digest for named, digest in list(self._site_digests.items()) if digest}

    def _unmirrored(self, path: str) -> str:
        """The real path `vary`'s cwd mirror (`<mirror_root>/a/b` for `/a/b`) stands for."""
        if self._mirror_root and path.startswith(self._mirror_root + os.sep):
            return path[len(self._mirror_root):]
        return path

    def _named(self, path: str) -> str:
        """`path` relative to the project root (else the working directory) or the script's
        directory, else to the longest sys.path entry holding it, else to the working directory
        (with a project root); else as it is."""
        for root in self._first_roots:
            if root and path.startswith(root.rstrip(os.sep) + os.sep):
                return os.path.relpath(path, root)
        entries = [self._unmirrored(os.path.abspath(entry))  # a relative entry: from the cwd, as imports read it
                   for entry in sys.path if entry and isinstance(entry, str)]
        holding = [entry for entry in entries if path.startswith(entry.rstrip(os.sep) + os.sep)]
        if holding:
            return os.path.relpath(path, max(holding, key=len))
        last = self._last_root
        return os.path.relpath(path, last) if last and path.startswith(last.rstrip(os.sep) + os.sep) else path

    def guarded(self, what: str, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as err:  # noqa: BLE001 - instrumentation must not break the script
            self.hook_error(what, err)

    def hook_error(self, what: str, err: Exception) -> None:
        """Record a failure of seedcheck's own code (the first 20), from inside its `except`."""
        self.errors += 1
        if self.errors <= 20:
            import traceback

            self.record("note", self.next_key(f"note/hook-error/{what}"), f"{type(err).__name__}: {err}",
                        detail={"traceback": traceback.format_exc(limit=6)})

    def close(self) -> None:
        self._writer.close()

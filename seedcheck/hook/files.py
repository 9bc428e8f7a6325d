"""Files a run reads that an earlier run of the same check wrote: a checkpoint restored, weights or
a model loaded, a dataset loaded (`Dataset.load`), from a path outside the run's own directory,
written since the check began. The second run then resumes from the first one's state (its
training, its RNG state): the runs are not independent, and a difference shows as a divergence
with no cause of the script's own. Said as a warning, once per path, like a file cache the runs
share (pipeline.py).

A file the run wrote itself and reads back as it left it (ModelCheckpoint's best model, loaded
after fit) is its own: the saving APIs are wrapped to remember what each write left (modification
time in ns and size), and a read of a file that still matches is not a shared one. A file another
run has written since (runs in parallel, one path) no longer matches, and is, however recently it
was written. A file the run never wrote, last written after its process started, is taken as its
own (a pretrained file it downloaded with keras.utils.get_file, which no wrapper sees): what an
earlier run left was there before it began."""

from __future__ import annotations

import functools
import os
from typing import Any, Callable

from seedcheck.hook.patches import replace_everywhere
from seedcheck.hook.recorder import Recorder


class SharedFiles:
    def __init__(self, recorder: Recorder, check_started: float | None, run_started: float | None = None) -> None:
        self._recorder = recorder
        self._check_started = check_started
        self._run_started = run_started
        self._noted: set[str] = set()
        self._written: dict[str, tuple[int, int]] = {}  # absolute path -> (mtime_ns, size) this run's write left

    def install_tensorflow(self, tf: Any) -> None:
        checkpoint = tf.train.Checkpoint
        # save, write and CheckpointManager.save all write through `_write`, which returns the
        # prefix written (save's with its `-<n>`); the public two where it is missing.
        for name in ("_write",) if hasattr(checkpoint, "_write") else ("save", "write"):
            setattr(checkpoint, name, self._writing(getattr(checkpoint, name), bound=True))
        for name in ("restore", "read"):
            setattr(checkpoint, name, self._wrap(f"tf.train.Checkpoint.{name}", getattr(checkpoint, name), bound=True))
        # A dataset saved by an earlier run and loaded by this one ("preprocess once, then load"):
        # tf.data.experimental.save and load call these two.
        dataset = tf.data.Dataset
        dataset.save = self._writing(dataset.save, bound=True)
        dataset.load = staticmethod(self._wrap("tf.data.Dataset.load", dataset.load))

    def install_keras(self, keras: Any) -> None:
        for name in ("save", "save_weights"):  # ModelCheckpoint saves through these
            setattr(keras.Model, name, self._writing(getattr(keras.Model, name), bound=True))
        for name in ("save_model", "save_weights"):  # keras.saving's, called with the model first
            original = getattr(keras.saving, name, None)
            if original is not None:
                replace_everywhere(("keras",), name, original, self._writing(original, bound=True))
        keras.Model.load_weights = self._wrap("Model.load_weights", keras.Model.load_weights, bound=True)
        original = keras.models.load_model
        replace_everywhere(("keras",), "load_model", original, self._wrap("keras.models.load_model", original))

    def _writing(self, original: Callable[..., Any], bound: bool = False) -> Callable[..., Any]:
        @functools.wraps(original)
        def writing(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            path = result if isinstance(result, str) else _path_argument(args, kwargs, bound)
            self._recorder.guarded("files", lambda: self._remember(path))
            return result

        return writing

    def _remember(self, path: Any) -> None:
        if self._check_started is None or not isinstance(path, (str, os.PathLike)):
            return
        for written in _files_of(os.path.abspath(os.fspath(path))):
            self._written[written] = _left(os.stat(written))

    def _wrap(self, api: str, original: Callable[..., Any], bound: bool = False) -> Callable[..., Any]:
        @functools.wraps(original)
        def reading(*args: Any, **kwargs: Any) -> Any:
            path = _path_argument(args, kwargs, bound)
            self._recorder.guarded("files", lambda: self._check(api, path))
            return original(*args, **kwargs)

        return reading

    def _check(self, api: str, path: Any) -> None:
        if self._check_started is None or not isinstance(path, (str, os.PathLike)):
            return
        absolute = os.path.abspath(os.fspath(path))
        if absolute in self._noted or in_run_directory(absolute):
            return
        stats = {p: os.stat(p) for p in _files_of(absolute)}
        latest = max((stat.st_mtime for stat in stats.values()), default=0.0)
        if not stats or latest < self._check_started:
            return  # written before this check: a pretrained file every run reads alike
        if any(p in self._written for p in stats):
            if all(self._written.get(p) == _left(stat) for p, stat in stats.items()):
                return  # as this run's own write left it
            # else written over since, by a run beside this one (--jobs): its ModelCheckpoint's path
        elif self._run_started is not None and latest >= self._run_started:
            return  # written while this run ran: its own (keras.utils.get_file's download), as far as it can tell
        self._noted.add(absolute)
        site = self._recorder.user_site()
        self._recorder.record(
            "note", self._recorder.next_key(f"note/shared-file@{site or '?'}"),
            f"{api}({os.fspath(path)!r}){f' at {site}' if site else ''} reads a file written since this check "
            "began, outside the run's own directory: by an earlier run (or one running beside it), so this run "
            "starts from that run's state and the runs are not independent; write such files under "
            "$SEEDCHECK_RUN_DIR, or remove them before each run",
            site=site, detail={"warning": True, "path": os.fspath(path), "api": api})


def _path_argument(args: tuple, kwargs: dict[str, Any], bound: bool) -> Any:
    """The path a saving or loading call names: its first argument after `self`, or by keyword."""
    first = 1 if bound else 0
    if len(args) > first:
        return args[first]
    for keyword in ("save_path", "filepath", "file_prefix", "path"):
        if keyword in kwargs:
            return kwargs[keyword]
    return None


def _files_of(path: str) -> list[str]:
    """The files a path names that exist: a checkpoint is named by its prefix (`ckpt-2` stands for
    `ckpt-2.index` and its data files), a Keras file by itself, a saved dataset by the files in its
    directory (the first _MAX_FILES)."""
    if os.path.isdir(path):
        found: list[str] = []
        for folder, _, names in os.walk(path):
            found.extend(os.path.join(folder, name) for name in names)
            if len(found) >= _MAX_FILES:
                break
        return sorted(found)[:_MAX_FILES]
    return [p for p in (path, path + ".index") if os.path.exists(p)]


_MAX_FILES = 1000


def _left(stat: os.stat_result) -> tuple[int, int]:
    """What a write left of a file, to tell it later from another's: (mtime in ns, size)."""
    return stat.st_mtime_ns, stat.st_size


def in_run_directory(path: str) -> bool:
    """Whether `path` lies under this run's own directory ($SEEDCHECK_RUN_DIR): no other run reads it."""
    run_dir = os.environ.get("SEEDCHECK_RUN_DIR")
    return bool(run_dir) and os.path.abspath(path).startswith(os.path.abspath(run_dir) + os.sep)

"""`output/<path>` stages: fingerprints of the files a run writes (`--artifact PATH`).

The runner takes them once the run's process has ended, not the hook at the end of the script's
main code: Python's shutdown (joining non-daemon threads, then atexit handlers) may still write
files. A file counts as the run's only if the run wrote it: its identity (device, inode, size,
mtime, ctime) is taken before the run starts and again after it ends, so a file left over from an
earlier run, unchanged, is "not written" rather than a false match. Relative paths start from the
directory the run started in, whatever directory the script moved to.

A zip archive (`.keras`, `.npz`) is fingerprinted by its members' names and contents, not its
bytes: zip headers carry the time of writing, a `.keras` file's metadata.json its save date, and
its config.json `shared_object_id`s that are Python object ids (memory addresses). Two identical
models saved by two processes would otherwise always look different. Nothing else is dropped.
"""

from __future__ import annotations

import json
import os
import stat
import time
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

import xxhash

VOLATILE_METADATA_KEYS = ("date_saved",)  # written into .keras metadata.json by model.save

FileIdentity = tuple[int, int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns


@dataclass(frozen=True)
class Artifact:
    """One --artifact file of one run: the template (the stage key, alike for every run), the path it
    names for this run, and the file's identity before the run started (None: no file there)."""

    template: str
    path: str
    before: FileIdentity | None
    started_ns: int = 0  # when the run started (wall clock): what was written in its directory since


def artifact_path(template: str, seed: int | None, run_dir: str, start_dir: str) -> str:
    """The file `template` names for one run: `{run_dir}` and `{seed}` replaced, relative paths taken
    from the directory the run starts in."""
    path = template.replace("{run_dir}", run_dir)
    if seed is not None:
        path = path.replace("{seed}", str(seed))
    return os.path.join(start_dir, path)  # an absolute path stays as it is


def file_identity(path: str) -> FileIdentity | None:
    """What changes whenever a file is written or replaced; None if no regular file is there. ctime
    is kept besides mtime because a copy that restores the source's mtime (shutil.copy2) still sets it."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def before_run(templates: tuple[str, ...] | list[str], seed: int | None, run_dir: str,
               start_dir: str) -> list[Artifact]:
    """Each artifact's path for this run and what is there now, taken just before the run starts."""
    artifacts = []
    started_ns = time.time_ns()
    for template in templates:
        path = artifact_path(template, seed, run_dir, start_dir)
        artifacts.append(Artifact(template, path, file_identity(path), started_ns))
    return artifacts


def output_records(artifacts: list[Artifact], t: float) -> list[dict[str, Any]]:
    """One `output` event per artifact, taken after the run's process ended: a fingerprint of a file
    the run wrote, or value None with `missing` (and `unchanged` when a file from before is there)."""
    records = []
    for artifact in artifacts:
        value, detail = _observe(artifact)
        records.append({"kind": "output", "key": f"output/{artifact.template}", "value": value, "site": None,
                        "detail": {"path": artifact.path, **detail}, "t": t})
    return records


def _observe(artifact: Artifact) -> tuple[str | None, dict[str, Any]]:
    after = file_identity(artifact.path)
    if after is None or after == artifact.before:
        written = written_beside(artifact)
        return None, {"missing": True, **({"unchanged": True} if after is not None else {}),
                      **({"written_beside": written} if written else {})}
    try:
        return fingerprint_file(artifact.path)
    except OSError as err:
        return None, {"missing": True, "unreadable": err.strerror or str(err)}


def written_beside(artifact: Artifact, most: int = 3) -> list[str]:
    """The files the run wrote in the directory its missing artifact names (their names, newest
    first, a few at most): a path mistyped in --artifact, or in the script, shows the file meant."""
    directory = os.path.dirname(artifact.path) or "."
    written: list[tuple[int, str]] = []
    try:
        entries = [entry for entry in os.scandir(directory) if entry.is_file()]
    except OSError:
        return []
    for entry in entries:
        try:
            modified = entry.stat().st_mtime_ns
        except OSError:  # removed since it was listed (another run's temporary file)
            continue
        if modified >= artifact.started_ns and entry.name != os.path.basename(artifact.path):
            written.append((modified, entry.name))
    return [name for _, name in sorted(written, reverse=True)[:most]]


def fingerprint_file(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    if zipfile.is_zipfile(path):
        try:
            return _fingerprint_zip(path)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError):
            pass  # a damaged, encrypted or unusual archive: its bytes, as any other file
    digest = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest(), {"size": os.path.getsize(path)}


def _fingerprint_zip(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    digest = xxhash.xxh3_128()
    with zipfile.ZipFile(path) as archive:
        members = sorted(archive.namelist())
        for name in members:
            digest.update(name.encode() + b"\0")
            digest.update(_member_bytes(archive, name))
    return digest.hexdigest(), {"size": os.path.getsize(path), "zip_members": len(members)}


def _member_bytes(archive: zipfile.ZipFile, name: str) -> bytes:
    data = archive.read(name)
    base = os.path.basename(name)
    if base not in ("metadata.json", "config.json"):
        return data
    try:
        document = json.loads(data)
    except ValueError:
        return data
    if base == "metadata.json" and isinstance(document, dict):
        document = {k: v for k, v in document.items() if k not in VOLATILE_METADATA_KEYS}
    else:
        document = _renumber_shared_objects(document, {})
    return json.dumps(document, sort_keys=True).encode()


def _renumber_shared_objects(node: Any, numbers: dict[Any, int]) -> Any:
    """`shared_object_id` values are id()s of the saving process: number them by first appearance."""
    if isinstance(node, dict):
        return {key: (numbers.setdefault(value, len(numbers)) if key == "shared_object_id"
                      else _renumber_shared_objects(value, numbers)) for key, value in node.items()}
    if isinstance(node, list):
        return [_renumber_shared_objects(item, numbers) for item in node]
    return node

"""`output/<path>` stages: fingerprints of the files a run writes (`--artifact PATH`).

A zip archive (`.keras`, `.npz`) is fingerprinted by its members' names and contents, not its
bytes: zip headers carry the time of writing, a `.keras` file's metadata.json its save date, and
its config.json `shared_object_id`s that are Python object ids (memory addresses). Two identical
models saved by two processes would otherwise always look different. Nothing else is dropped.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import xxhash

from seedcheck.hook.recorder import Recorder

VOLATILE_METADATA_KEYS = ("date_saved",)  # written into .keras metadata.json by model.save


def fingerprint_file(path: str) -> tuple[str, dict[str, Any]]:
    if zipfile.is_zipfile(path):
        digest = xxhash.xxh3_128()
        with zipfile.ZipFile(path) as archive:
            members = sorted(archive.namelist())
            for name in members:
                digest.update(name.encode() + b"\0")
                digest.update(_member_bytes(archive, name))
        return digest.hexdigest(), {"size": os.path.getsize(path), "zip_members": len(members)}
    digest = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest(), {"size": os.path.getsize(path)}


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


def record_artifacts(recorder: Recorder, templates: list[str], seed: int | None, run_dir: str | None = None) -> None:
    """One stage per `--artifact`, keyed by the path as given (so runs of every seed line up), with
    `{seed}` in it replaced by the run's seed and `{run_dir}` by its own directory to find the file."""
    for template in templates:
        path = template.replace("{run_dir}", run_dir) if run_dir else template
        path = path.replace("{seed}", str(seed)) if seed is not None else path
        if not os.path.isfile(path):
            recorder.record("output", f"output/{template}", None, detail={"path": path, "missing": True})
            continue
        value, detail = fingerprint_file(path)
        recorder.record("output", f"output/{template}", value, detail={"path": path, **detail})

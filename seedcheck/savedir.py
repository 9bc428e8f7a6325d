"""Where a check's files go: a new `.seedcheck/runs/<time>/`, or `--save DIR`, whose earlier runs'
files `--force` replaces, and only those: anything else there is the user's."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path
from typing import Any

from seedcheck.runner import MANIFEST, RunPlan
from seedcheck.saved import died_at_start
from seedcheck.trace import has_trace_header
from seedcheck.usage import UsageProblem, checked_path_kind


def save_dir_path(save_dir: Path | None) -> Path:
    """--save, or a new `.seedcheck/runs/<time>/` that no earlier run has taken."""
    if save_dir is not None:
        return save_dir
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    save_dir = Path(".seedcheck") / "runs" / stamp
    suffix = 1
    while save_dir.exists():
        suffix += 1
        save_dir = Path(".seedcheck") / "runs" / f"{stamp}-{suffix}"
    return save_dir


def replaced_by_force(save_dir: Path, saved: Path) -> bool:
    """Whether `--save save_dir --force` replaces the saved runs at `saved`: they are that directory,
    or one of the traces `--force` deletes there (a baseline elsewhere under it is left alone)."""
    try:
        if not save_dir.is_dir():
            return False
        folder, target = save_dir.resolve(), saved.resolve()
        return target == folder or target in {path.resolve() for path in seedcheck_files(save_dir)}
    except OSError:
        return False


def prepare_save_dir(plan: RunPlan, force: bool) -> None:
    """Make the save directory ready for the plan's runs. Earlier runs' files (traces, their logs
    and run directories, the manifest) are replaced only with --force; anything else there is the
    user's and is never touched, nor overwritten by a run's file of the same name."""
    save_dir = plan.save_dir
    if checked_path_kind(save_dir, "--save ") == "dir":
        old = seedcheck_files(save_dir)
        if old and not force:
            raise UsageProblem(f"--save {save_dir} already holds {len(old)} files of earlier runs; choose "
                               "another directory or pass --force to replace them")
        try:
            for stale in old:
                if stale.is_dir() and not stale.is_symlink():
                    shutil.rmtree(stale)  # an old run's own outputs ($SEEDCHECK_RUN_DIR)
                else:
                    stale.unlink(missing_ok=True)
        except OSError as err:
            raise UsageProblem(f"--force: cannot remove {err.filename or save_dir}: {err.strerror}") from None
        for spec in plan.runs:
            for name in (spec.trace_file, f"{spec.file_stem}.stdout.log", f"{spec.file_stem}.stderr.log"):
                if (save_dir / name).exists():
                    raise UsageProblem(f"--save {save_dir}: {name} is there and was not written by seedcheck; "
                                       "move it or choose another directory")
    try:
        save_dir.mkdir(parents=True, exist_ok=True)
        probe = save_dir / ".seedcheck-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise UsageProblem(f"cannot write to --save {save_dir}: {err.strerror}") from None


def seedcheck_files(save_dir: Path) -> list[Path]:
    """The files earlier runs left in a save directory: the manifest, each trace (a `.jsonl` whose
    first line is a seedcheck trace header, or one the manifest names), and the logs and run
    directory that go with it."""
    manifest = save_dir / MANIFEST
    stems: set[str] = set()
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8")).get("runs", [])
        stems.update(entry["trace"].removesuffix(".jsonl") for entry in listed
                     if isinstance(entry, dict) and _plain_trace_name(entry.get("trace")))
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    for path in save_dir.glob("*.jsonl"):
        if not path.is_file():
            continue  # a directory, or a link to nothing
        if died_at_start(path, entry=None) or has_trace_header(path):
            stems.add(path.name.removesuffix(".jsonl"))
    found = [manifest] if manifest.is_file() else []
    for stem in sorted(stems):
        for path in (save_dir / f"{stem}.jsonl", save_dir / f"{stem}.stdout.log", save_dir / f"{stem}.stderr.log",
                     save_dir / stem):
            if path.exists() or path.is_symlink():
                found.append(path)
    return found


def _plain_trace_name(name: Any) -> bool:
    """A manifest's trace name that can only mean a file in its own directory: a manifest comes with
    saved runs from anywhere, and `--force` deletes what it names (`../x.jsonl`, `/x.jsonl`, `.jsonl`)."""
    if not isinstance(name, str) or not name.endswith(".jsonl") or Path(name).name != name or "\\" in name:
        return False
    return name.removesuffix(".jsonl") not in ("", ".", "..")

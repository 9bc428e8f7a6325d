"""Helpers shared by the end-to-end tests: run the real CLI in a subprocess, read its report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
REPORT_SCHEMA = json.loads((REPO / "seedcheck" / "report" / "report-1.schema.json").read_text())
SAMPLES = REPO / "sample_scripts"
SCRIPTS = Path(__file__).resolve().parent / "scripts"
_TERMINAL_SIZE = {"COLUMNS", "LINES"}
# Every process the tests start finds runs_without_matplotlib/sitecustomize.py, which hides
# matplotlib from seedcheck's runs (not from the CLI): a fifth of each TensorFlow run's start-up.
_HIDES_MATPLOTLIB = str(Path(__file__).resolve().parent / "runs_without_matplotlib")
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [_HIDES_MATPLOTLIB, os.environ.get("PYTHONPATH")]))


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None

    def stage(self, key: str) -> dict[str, Any]:
        assert self.report is not None
        matches = [s for s in self.report["stages"] if s["key"] == key]
        assert matches, f"no stage {key}; stages: {[s['key'] for s in self.report['stages']]}"
        return matches[0]

    def stages(self, prefix: str) -> list[dict[str, Any]]:
        assert self.report is not None
        return [s for s in self.report["stages"] if s["key"].startswith(prefix)]


def seedcheck(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
              timeout: float = 300, clear_env: bool = False) -> CliResult:
    """`python -m seedcheck ARGS`, exactly as a user would run it, with TF's chatter silenced.
    `env` adds to the environment, or with `clear_env` replaces it. The report is piped, so it is as
    wide as piped output is, unless `env` sets $COLUMNS: the one inherited (a developer's shell, or
    pytest-xdist's workers, which set COLUMNS=80) would re-wrap the text the tests read."""
    full_env = {**({} if clear_env else os.environ), "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    asked = set() if clear_env else set(env or {})  # a `clear_env` env is a copy of the environment
    for name in _TERMINAL_SIZE - asked:
        full_env.pop(name, None)
    process = subprocess.run([sys.executable, "-m", "seedcheck", *map(str, args)], cwd=cwd or REPO,
                             capture_output=True, text=True, env=full_env, timeout=timeout)
    return CliResult(process.returncode, process.stdout, process.stderr, None)


def seedcheck_json(*args: str | Path, tmp_path: Path, **kwargs: Any) -> CliResult:
    """Run with `--json FILE --save DIR -q` and parse the report."""
    report_file = tmp_path / "report.json"
    ours = ["--json", report_file, "--save", tmp_path / "runs", "-q"]
    split = args.index("--") if "--" in args else len(args)  # after `--`, arguments are the script's
    result = seedcheck(*args[:split], *ours, *args[split:], **kwargs)
    assert report_file.exists(), f"no report written; exit {result.code}\n{result.stderr}"
    result.report = json.loads(report_file.read_text())
    validate_report(result.report)
    return result


def validate_report(report: dict[str, Any]) -> None:
    """Every JSON report a test makes must match the schema the project publishes."""
    import jsonschema

    jsonschema.validate(report, REPORT_SCHEMA, cls=jsonschema.Draft202012Validator)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first: `pytest -n 2` hands tests out in this order, and a long test left
    to the end (the `vary` ones, in the last file) ran alone while the other worker idled."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: the rest keep their order


@pytest.fixture
def samples() -> Path:
    return SAMPLES


def processes_marked(marker: str | Path) -> list[int]:
    """Live processes whose environment contains `marker` (a test's own tmp path): every process a
    run starts, the script's own children included, inherits $SEEDCHECK_RUN_DIR, which holds it.
    Used to prove that nothing is left behind."""
    needle = str(marker).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone, or a zombie
            continue
    return found

"""The user's mistakes, as seedcheck reports them: one line, exit 2, before any run starts."""

from __future__ import annotations

from pathlib import Path

import click

from seedcheck.compare import EXIT_USAGE
from seedcheck.saved import SavedRunsError, path_kind


EMPTY_PATH = "an empty path (an unset variable?) would mean the current directory; name one"
EMPTY_FILE = "an empty path (an unset variable?) names no file; name one"  # a report file, not a folder


class UsageProblem(click.ClickException):
    """A user error: reported as one line, exit 2."""

    exit_code = EXIT_USAGE


def checked_path_kind(path: Path, option: str) -> str | None:
    """saved.path_kind, a bad path (a name too long) being a usage error that names the option."""
    try:
        return path_kind(path)
    except SavedRunsError as err:
        raise UsageProblem(f"{option}{err}") from None


def refuse_empty(paths: tuple[str, ...] | list[str], what: str) -> None:
    """Refuse an empty path among the ones named by `what`: `compare "$OUT"` with OUT unset must
    not read the working directory as if it were the saved runs."""
    if any(not path for path in paths):
        raise UsageProblem(f"{what}: {EMPTY_PATH}")

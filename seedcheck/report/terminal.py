"""The report's console, which never lets a trace or a log drive the user's terminal.

Keys, call sites, script names and stderr lines come from traces and logs that seedcheck did not
write itself (a saved trace can be anyone's). Rich escapes its own markup in them, but passes escape
sequences through: an OSC sequence in a call site would retitle the terminal, `ESC [2J` clear it.
Everything written goes through `ControlFilter`, which shows any control character as `\\xNN` text;
only colour codes (SGR, `ESC [ … m`) pass, and only when the console itself is writing colour. It
also drops the spaces Rich pads a table's last column with, so a CI log or a saved report has no
trailing blanks (nothing the report draws has a background colour, so nothing visible is lost).
"""

from __future__ import annotations

import os
import re
import sys
from typing import IO

from rich.console import Console

_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"
_ANY_CONTROL = re.compile(_CONTROL)
_COLOUR_OR_CONTROL = re.compile(r"\x1b\[[0-9;]*m|" + _CONTROL)
_TRAILING_SPACES = re.compile(r"(?:\x1b\[[0-9;]*m)*(?: (?:\x1b\[[0-9;]*m)*)+(?=\n)")
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def _colours_only(match: re.Match[str]) -> str:
    return "".join(_COLOUR.findall(match.group()))


def _visible(match: re.Match[str]) -> str:
    text = match.group()
    return text if len(text) > 1 else f"\\x{ord(text):02x}"


def visible_controls(text: str) -> str:
    """`text` with every control character but newline and tab written as `\\xNN`."""
    return _ANY_CONTROL.sub(_visible, text)


class ControlFilter:
    """A text stream that writes control characters as visible `\\xNN` (newline and tab excepted)."""

    def __init__(self, stream: IO[str], colour: bool) -> None:
        self._stream = stream
        self._pattern = _COLOUR_OR_CONTROL if colour else _ANY_CONTROL
        self.colour = colour

    def write(self, text: str) -> int:
        return self._stream.write(_TRAILING_SPACES.sub(_colours_only, self._pattern.sub(_visible, text)))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", "utf-8")


class ReportConsole(Console):
    """Rich's Console, except that a closed stdout (`| head`) raises BrokenPipeError to the CLI,
    which knows the verdict's exit code; Rich's own handling exits 1, which means "diverged"."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def report_console(stream: IO[str] | None = None) -> Console:
    """The report's console on stdout. Piped output (CI logs) has no terminal width to follow: use
    a width that fits the table rather than Rich's 80 columns, unless $COLUMNS says otherwise."""
    stream = stream or sys.stdout
    probe = Console(file=stream)
    width = None if probe.is_terminal or "COLUMNS" in os.environ else 130
    colour = probe.color_system is not None
    return ReportConsole(file=ControlFilter(stream, colour), width=width, force_terminal=probe.is_terminal,
                   color_system=probe.color_system or None, no_color=probe.no_color)  # type: ignore[arg-type]

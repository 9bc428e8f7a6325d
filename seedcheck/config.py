"""Project defaults from `[tool.seedcheck]` in pyproject.toml; options on the command line win.

The nearest pyproject.toml from the working directory upward is read (as pytest and ruff find
theirs); paths in it are relative to its directory. Every value is checked here, so a typo is one
clear error naming the key, not a surprise three training runs later.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

MAX_SEED = 2**32 - 1  # numpy's legacy seed range, the narrowest of the seeding APIs
SECTION = "[tool.seedcheck]"


class ConfigError(Exception):
    """A bad configuration; the message is one line naming the file and the key."""


@dataclass
class Config:
    path: Path | None = None  # the pyproject.toml read, if any
    values: dict[str, Any] = field(default_factory=dict)  # checked values, by option name

    def defaults_for(self, command: str) -> dict[str, Any]:
        """Click's default_map for one command: the keys that command has."""
        return {key: value for key, value in self.values.items() if command in KEYS[key].commands}


@dataclass(frozen=True)
class Key:
    expected: str
    check: Callable[[Any], bool]
    commands: tuple[str, ...]
    path: bool = False  # relative to the pyproject.toml's directory


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and value == value and value not in (float("inf"), float("-inf"))


def _list_of(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, list) and all(check(item) for item in value)


RUN_AND_COMPARE = ("run", "compare")
KEYS: dict[str, Key] = {
    # Empty is refused: it would mean "no seed" (the script's own seeding), which leaving the key out says.
    "seeds": Key(f"a non-empty list of whole numbers from 0 to {MAX_SEED}",
                 lambda value: _list_of(lambda v: _is_int(v) and 0 <= v <= MAX_SEED)(value) and value != [],
                 ("run", "vary")),
    "repeats": Key("a whole number ≥ 1", lambda v: _is_int(v) and v >= 1, ("run",)),
    "timeout": Key("a number of seconds > 0", lambda v: _is_number(v) and v > 0, ("run", "vary")),
    "every": Key("a whole number of steps ≥ 1", lambda v: _is_int(v) and v >= 1, ("run", "vary")),
    "jobs": Key("a whole number ≥ 1", lambda v: _is_int(v) and v >= 1, ("run", "vary")),
    "fail_fast": Key("true or false", lambda v: isinstance(v, bool), ("run",)),
    "max_steps": Key("a whole number of steps ≥ 1", lambda v: _is_int(v) and v >= 1, ("run", "vary")),
    "artifacts": Key("a list of paths", _list_of(lambda v: isinstance(v, str) and v != ""), ("run", "vary"), path=True),
    "rtol": Key("a number ≥ 0", lambda v: _is_number(v) and v >= 0, (*RUN_AND_COMPARE, "vary")),
    "atol": Key("a number ≥ 0", lambda v: _is_number(v) and v >= 0, (*RUN_AND_COMPARE, "vary")),
    "ignore": Key("a list of stage-key patterns", _list_of(lambda v: isinstance(v, str) and v != ""), (*RUN_AND_COMPARE, "vary")),
    "baseline": Key("a path to saved runs", lambda v: isinstance(v, str) and v != "", RUN_AND_COMPARE, path=True),
}
SINGLE_TO_LIST = ("seeds", "artifacts", "ignore")  # `seeds = 1` reads as `seeds = [1]`


def find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load(start: Path | None = None) -> Config:
    start = Path.cwd() if start is None else start
    path = find_pyproject(start)
    if path is None:
        return Config()
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as err:
        raise ConfigError(f"cannot read {_shown(path)}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{_shown(path)} is not valid TOML: {err}") from None
    except UnicodeDecodeError:  # TOML is UTF-8; an editor may have saved UTF-16 or Latin-1
        raise ConfigError(f"{_shown(path)} is not valid TOML: not UTF-8 text") from None
    section = document.get("tool", {}).get("seedcheck") if isinstance(document.get("tool"), dict) else None
    if section is None:
        return Config(path=path)
    if not isinstance(section, dict):
        raise ConfigError(f"{_shown(path)}: {SECTION} must be a table of settings")
    return Config(path=path, values=_checked(section, path))


def _checked(section: dict[str, Any], path: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in section.items():
        key = KEYS.get(name)
        if key is None:
            close = difflib.get_close_matches(name, KEYS, n=1)
            suggestion = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(KEYS)})"
            raise ConfigError(f"{_shown(path)} {SECTION}: unknown key {name!r}{suggestion}")
        if name in SINGLE_TO_LIST and not isinstance(value, list):
            value = [value]
        if not key.check(value):
            raise ConfigError(f"{_shown(path)} {SECTION} {name}: expected {key.expected}, got {_toml_repr(value)}")
        if key.path:
            value = [_relative(item, path.parent) for item in value] if isinstance(value, list) else _relative(value, path.parent)
        values[name] = value
    return values


def _relative(value: str, base: Path) -> str:
    """A path from the config, made relative to the working directory (what the CLI takes). One that
    starts with `{run_dir}` is already a run's own directory, wherever the config is."""
    if os.path.isabs(value) or value.startswith("{run_dir}"):
        return value
    return os.path.relpath(base / value)


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _toml_repr(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_repr(v) for v in value) + "]"
    return repr(value)

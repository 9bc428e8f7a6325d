"""The trace: one JSON Lines file per run, a header line then one event per line.

Written by the hook in the child (`TraceWriter`), read by everything else (`read_trace`). Each
line is flushed as it is written, so a crash, a timeout or Ctrl-C leaves every event up to that
point readable; a torn last line is dropped and reported, never fatal. JSON only, never pickle:
traces travel between machines and must be safe to open.

This module is imported inside the user's process: besides the standard library it needs only
orjson, which encodes a weight snapshot (~220 floats) in ~7 µs where `json` takes ~115 µs (measured
here: float repr dominates); with `--every 1` that is a snapshot per training step.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import TYPE_CHECKING, Any, BinaryIO

try:
    import orjson
except ImportError:  # not installed (a platform without its wheels): the standard library writes
    orjson = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from pathlib import Path

# Version of the trace format. Bump on any change a reader of the previous version would
# misread, and log it here:
#   1 (seedcheck 0.1.0): header {seedcheck_trace, seedcheck, run, seed, command, started, ...};
#                        events {kind, key, value, site, detail, t}.
#                        Later in 1 (no reader misreads it): `output` events are appended by the
#                        runner after the `exit` event, once the run's process has ended.
TRACE_FORMAT = 1

# Version of what the hook records (header field `capture`; a trace without it is 1). Bump when a
# seedcheck records a stage an earlier one did not, or stops recording one, and log it here: a
# stage only the traces of one capture version hold is not the script's doing, so a baseline an
# older seedcheck recorded is not failed for it (compare.py).
#   1: up to 2026-11-26.
#   2: an unseeded np.random.default_rng() made by a library (SciPy) is no longer recorded; the
#      initial values of variables made while a tf.function is traced (a model built inside fit)
#      and fit's init snapshot for such a model; `metrics/evaluate#<n>/<name>`. Not a stage but a
#      value: fit's data count of a dataset of unknown length no longer counts the failed last read
#      (a baseline of such a script needs recording again).
#   3: `weights/final/trained-variables` (variables an optimizer updated that no model holds); a
#      loop pass still open at the exit gets weights only if it read the last batch. Not a stage
#      but a value: a tf.random.Generator's creation holds the state of its first draw (so a
#      reset_from_seed in between counts), and is not recorded for a generator never drawn from.
#      Init events and weights snapshots carry each variable's `uid` (which tells variables of one
#      name apart: compare._mark_superseded).
#   4: the data `model.predict` reads is `data/predict#<n>` (before: a partial `data/loop@<its
#      line>/pass-<n>`, recorded at the exit); `tf.data.Dataset.random` calls (sample_from_datasets').
#   5: a Keras SeedGenerator is recorded at the line that made it (before: its first use), one
#      row each (before: past 8 at one line, folded into `…#rest` at the exit). Not a stage but a
#      value: a seeding call Keras makes inside one of its utilities (keras.utils.split_dataset's
#      random.seed) is passed through, no longer overridden by the run's seed.
#      `weights/final/script-variables` (tf.Variables and keras.Variables the script's lines made,
#      that no model or optimizer step holds: a loop that updates them by hand).
#   6: a call site in a file outside the working directory is named from the script's directory,
#      else from the file's sys.path entry (before: its absolute path), so keys do not depend on
#      where a check runs; compare reads an older trace's absolute key as the newer one's
#      (compare._align_sites). No stage begun or stopped.
#   7: a call site is named from the script's project root (its nearest directory holding
#      pyproject.toml or .git; before: the working directory), so a check run from a subdirectory
#      of the project has a baseline's keys; compare reads an older trace's key as the newer one
#      whose path its own ends with, or that ends with its own (compare._align_sites). No stage
#      begun or stopped.
#   8: an unseeded np.random.RandomState() or random.Random() a line of the script makes,
#      `rng/numpy.random.RandomState@<site>#n` and `rng/random.Random@<site>#n` (the state at its
#      first draw; not recorded when the script seeds it before drawing); eager stateless TF draws,
#      `rng/tf.random.stateless_<op>@<site>#n` (with the seed they were given).
#   9: such an RNG object is recorded at its first state read too (a copy, a pickle, `get_state`,
#      numpy's `_bit_generator`), which a copy draws from in its place (detail `state_read`); code
#      exec made (a dataclass's or attrs class's `__init__`) is judged by the line that called it, so
#      what a script's dataclass `default_factory` makes or draws is the script's: RNG objects,
#      `default_rng()`, value draws, stateless TF draws. An RNG object seeded with a time read during
#      the run (`random.Random(int(time.time()))`, RandomState, default_rng) is recorded, with its seed.
#  10: a numpy bit generator or SeedSequence a line of the script makes without a seed
#      (`np.random.Generator(np.random.PCG64())`), `rng/numpy.random.<class>@<site>#n` (its entropy).
#  11: one made where the line names no such class (an alias, a `default_factory=PCG64`) is
#      `rng/numpy.random.bit_generator@<site>#n` (before: `numpy.random.SeedSequence`).
CAPTURE_VERSION = 11
# A seed that was the current time when given (hook/clock.py) carries `clock: <unit>` in its detail.
# Per unit: how the report says it ("the current time <phrase>"), and the tick two runs must start
# within to be given the same one.
CLOCK_UNITS = {"s": ("in seconds", "second"), "ms": ("in milliseconds", "millisecond"),
               "µs": ("in microseconds", "microsecond"), "ns": ("in nanoseconds", "nanosecond"),
               "YmdHMS": ("as YYYYMMDDhhmmss", "second"), "YmdHM": ("as YYYYMMDDhhmm", "minute")}
# The stage keys (fnmatch patterns) each version began or stopped recording: only these are let off.
CAPTURE_CHANGES: dict[int, tuple[str, ...]] = {
    2: ("rng/numpy.random.default_rng@*", "init/*", "weights/fit#*/init", "metrics/evaluate#*"),
    3: ("weights/final/trained-variables", "weights/loop@*", "rng/tf.random.Generator.from_*"),
    4: ("data/predict#*", "data/loop@*", "weights/loop@*", "shuffle/tf.data.Dataset.random@*"),
    5: ("rng/keras.random.SeedGenerator@*", "weights/final/script-variables"),
    8: ("rng/numpy.random.RandomState@*", "rng/random.Random@*", "rng/tf.random.stateless_*"),
    9: ("rng/numpy.random.*", "rng/random.*", "rng/tf.random.stateless_*"),
    10: ("rng/numpy.random.*",),
    11: ("rng/numpy.random.SeedSequence@*", "rng/numpy.random.bit_generator@*"),
}

KINDS = ("env", "seed", "init", "data", "weights", "metrics", "shuffle", "rng", "output", "note", "exit")


class TraceError(Exception):
    """A trace cannot be read; the message is one line that says why and what to do."""


def json_safe(value: Any) -> Any:
    """Make `value` strict JSON: non-finite floats become the strings "NaN"/"Infinity"/"-Infinity".

    Strict JSON keeps traces readable by any parser, and a NaN loss compares equal to a NaN loss
    (float NaN never equals itself, which would report a false divergence).
    """
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


class Event:
    """One recorded event. Plain classes, not dataclasses: the hook imports this module into the
    user's process, where `dataclasses` (and the `inspect` it pulls in) cost ~8 ms of start-up."""

    __slots__ = ("kind", "key", "value", "site", "detail", "t")

    def __init__(self, kind: str, key: str, value: Any = None, site: str | None = None,
                 detail: dict[str, Any] | None = None, t: float = 0.0) -> None:
        self.kind, self.key, self.value, self.site, self.detail, self.t = kind, key, value, site, detail, t

    def _fields(self) -> tuple[Any, ...]:
        return (self.kind, self.key, self.value, self.site, self.detail, self.t)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Event) and self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # value and detail may be lists and dicts

    def __repr__(self) -> str:
        return (f"Event(kind={self.kind!r}, key={self.key!r}, value={self.value!r}, site={self.site!r}, "
                f"detail={self.detail!r}, t={self.t!r})")


class Trace:
    def __init__(self, path: Path, header: dict[str, Any], events: list[Event] | None = None,
                 torn_tail: bool = False) -> None:
        self.path = path
        self.header = header
        self.events: list[Event] = events if events is not None else []
        self.torn_tail = torn_tail  # the last line was cut short (the run died mid-write)

    def __repr__(self) -> str:
        return f"Trace(path={self.path!r}, run={self.run!r}, events={len(self.events)}, torn_tail={self.torn_tail})"

    @property
    def run(self) -> str:
        return str(self.header.get("run", self.path.stem))

    @property
    def seed(self) -> int | None:
        return self.header.get("seed")

    def find(self, key: str) -> Event | None:
        for event in self.events:
            if event.key == key:
                return event
        return None


class TraceWriter:
    """Appends events to a trace, one flushed line each."""

    def __init__(self, path: str | os.PathLike[str], header: dict[str, Any]) -> None:
        self._file: BinaryIO = open(path, "wb")
        self._pid = os.getpid()  # a forked child inherits this writer: it must not write
        self._start = time.monotonic()
        self._write({"seedcheck_trace": TRACE_FORMAT, "capture": CAPTURE_VERSION, **header})

    def write(self, event: Event) -> None:
        record = {
            "kind": event.kind,
            "key": event.key,
            "value": event.value,
            "site": event.site,
            "detail": event.detail,
            "t": round(time.monotonic() - self._start, 6),
        }
        self._write(record)

    def _write(self, record: dict[str, Any]) -> None:
        if self._file.closed or os.getpid() != self._pid:
            return
        self._file.write(encode_line(record))
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed and os.getpid() == self._pid:
            self._file.close()


def encode_line(record: dict[str, Any]) -> bytes:
    """One trace line, UTF-8, strict JSON (non-finite floats spelt as `json_safe` spells them)."""
    if orjson is not None and _all_finite(record):  # orjson would write NaN as null
        try:
            return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE)
        except orjson.JSONEncodeError:  # an int past 64 bits, a lone surrogate: json takes those
            pass
    try:
        line = json.dumps(record, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a NaN or infinity somewhere: strict JSON spells them as strings
        line = json.dumps(json_safe(record), separators=(",", ":"), allow_nan=False)
    return (line + "\n").encode()


def _all_finite(value: Any) -> bool:
    """No NaN or infinity anywhere in `value`. A list is summed first (one C call for the common
    list of floats): a finite sum means every item is finite."""
    kind = type(value)
    if kind is float:
        return value - value == 0.0  # inf - inf and nan - nan are nan
    if kind is dict:
        return all(_all_finite(item) for item in value.values())
    if kind is list or kind is tuple:
        try:
            total = sum(value, 0.0)
        except (TypeError, OverflowError):  # not all numbers, or an int too big for a float
            return all(_all_finite(item) for item in value)
        return total - total == 0.0 or all(_all_finite(item) for item in value)
    if isinstance(value, float):  # a float subclass (numpy.float64)
        return math.isfinite(value)
    return True


def read_trace(path: str | os.PathLike[str]) -> Trace:
    """Read a trace, or raise `TraceError` with one line naming the file and the problem."""
    from pathlib import Path  # here, not at the top: the hook, which only writes, never needs it

    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TraceError(f"{path}: no such trace file") from None
    except IsADirectoryError:
        raise TraceError(f"{path}: is a directory, not a trace file") from None
    except OSError as err:
        raise TraceError(f"{path}: cannot read ({err.strerror})") from None
    raw = raw.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark, as some Windows editors save UTF-8
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        complete = raw.rfind(b"\n") + 1
        if err.start < complete:
            raise TraceError(f"{path}: not a seedcheck trace (not UTF-8 text)") from None
        # The last line was cut inside a character (the run died mid-write): a torn tail, below.
        text = raw[:complete].decode("utf-8") + raw[complete:].decode("utf-8", "replace")
    lines = text.split("\n")
    if not lines[0].strip():
        raise TraceError(f"{path}: empty file, not a seedcheck trace (the run may have died before it started)")
    header = _parse_line(lines[0])
    if not isinstance(header, dict) or "seedcheck_trace" not in header:
        raise TraceError(f"{path}: not a seedcheck trace (no seedcheck_trace header on line 1)")
    version = header["seedcheck_trace"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise TraceError(f"{path}: not a seedcheck trace (bad format version {version!r})")
    if version > TRACE_FORMAT:
        raise TraceError(
            f"{path}: trace format {version} was written by a newer seedcheck "
            f"(this one reads format {TRACE_FORMAT} and older); upgrade seedcheck to read it"
        )
    seed = header.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise TraceError(f"{path}: not a seedcheck trace (the header's seed is {seed!r}, not a whole number)")
    trace = Trace(path=path, header=header)
    body = lines[1:]
    # A file that ends in "\n" splits into a final empty string; anything else is a torn tail.
    last = len(body) - 1
    for number, line in enumerate(body, start=2):
        if not line.strip():
            continue
        event = parse_event(line)
        if event is None:
            if number - 2 == last:
                trace.torn_tail = True
                break
            raise TraceError(f"{path}: line {number} is not a seedcheck event; the trace is corrupt")
        trace.events.append(event)
    return trace


def has_trace_header(path: str | os.PathLike[str]) -> bool:
    """Whether a file's first line is a seedcheck trace header: how a trace is told from another
    `.jsonl` in the same folder without reading it all."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(1 << 16)
    except OSError:
        return False
    if not first.strip():
        return False
    try:
        header = json.loads(first.decode("utf-8-sig"))
    except ValueError:
        return False
    return isinstance(header, dict) and "seedcheck_trace" in header


def parse_event(line: str) -> Event | None:
    """One event line, or None if the line is not one (torn, foreign, or the header)."""
    record = _parse_line(line)
    if record is None or not _is_event(record):
        return None
    return Event(kind=record["kind"], key=record["key"], value=record.get("value"), site=record.get("site"),
                 detail=record.get("detail"), t=float(record.get("t") or 0.0))


class TraceTail:
    """Reads a trace that is still being written: each `read()` returns the events completed since
    the last call (a line is complete once its newline is written; the writer flushes per event)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = path
        self._offset = 0
        self._partial = b""

    def read(self) -> list[Event]:
        try:
            with open(self._path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except OSError:
            return []
        self._offset += len(chunk)
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        events = []
        for line in lines:
            event = parse_event(line.decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)
        return events


def _parse_line(line: str) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):  # ValueError covers JSONDecodeError and over-long integers
        return None


def _is_event(record: Any) -> bool:
    return (
        isinstance(record, dict)
        and isinstance(record.get("kind"), str)
        and isinstance(record.get("key"), str)
        and (record.get("site") is None or isinstance(record.get("site"), str))
        and (record.get("detail") is None or isinstance(record.get("detail"), dict))
        and (record.get("t") is None or _is_time(record["t"]))
    )


def _is_time(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float
        return False

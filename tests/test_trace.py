"""The trace format: TraceWriter, read_trace, json_safe and the reader's errors.

Fast, standard library plus hypothesis: no TensorFlow.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seedcheck.trace import KINDS, TRACE_FORMAT, Event, Trace, TraceError, TraceWriter, json_safe, read_trace

HEADER = {"seedcheck": "0.1.0", "run": "s123#1", "seed": 123, "command": ["train.py"], "started": "2025-01-01T00:00:00"}


# -- helpers ----------------------------------------------------------------------------------------

def sample_events() -> list[Event]:
    return [
        Event("env", "env", {"python": "3.11.7", "tf": "2.21.0"}),
        Event("seed", "seed/tf.random.set_seed#1", 123, site="train.py:4",
              detail={"api": "tf.random.set_seed", "asked": 1, "applied": 123}),
        Event("weights", "weights/fit#1/init", "9c1e0000", site="train.py:12",
              detail={"variables": [{"name": "dense/kernel", "shape": [2, 3], "dtype": "float32",
                                     "fp": "9c1e", "norm": 1.5, "sample": [0.25, -0.5, 1.0]}]}),
        Event("data", "data/fit#1/epoch-1", "5d02", detail={"batches": 3, "first_batches": ["a", "b", "c"]}),
        Event("metrics", "metrics/fit#1/epoch-1", 0.4123),
        Event("exit", "exit", {"code": 0, "exception": None, "duration_s": 1.25}),
    ]


def write_trace(path: Path, events: list[Event], header: dict | None = None) -> Path:
    writer = TraceWriter(path, dict(HEADER if header is None else header))
    try:
        for event in events:
            writer.write(event)
    finally:
        writer.close()
    return path


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def header_line(**fields) -> str:
    return json.dumps({"seedcheck_trace": TRACE_FORMAT, **HEADER, **fields})


def event_line(key: str = "metrics/fit#1/epoch-1", value=0.5, kind: str = "metrics") -> str:
    return json.dumps({"kind": kind, "key": key, "value": value, "site": None, "detail": None, "t": 0.1})


def strict_loads(line: str):
    """json.loads that refuses the non-standard NaN/Infinity tokens."""
    def refuse(token):
        raise ValueError(f"non-strict JSON token {token}")
    return json.loads(line, parse_constant=refuse)


def same_event_content(a: Event, b: Event) -> bool:
    return (a.kind, a.key, a.value, a.site, a.detail) == (b.kind, b.key, b.value, b.site, b.detail)


def assert_one_line_error(err: TraceError, path: Path) -> str:
    message = str(err)
    assert "\n" not in message
    assert str(path) in message
    return message


# -- the writer -------------------------------------------------------------------------------------

def test_writer_first_line_is_the_header(tmp_path):
    path = tmp_path / "t.jsonl"
    writer = TraceWriter(path, HEADER)
    try:
        lines = lines_of(path)  # read while the writer is still open
        assert len(lines) == 1
        header = json.loads(lines[0])
        assert header["seedcheck_trace"] == 1 == TRACE_FORMAT
        assert header["run"] == "s123#1"
        assert header["seed"] == 123
        assert header["command"] == ["train.py"]
    finally:
        writer.close()


def test_writer_flushes_each_event_as_it_is_written(tmp_path):
    path = tmp_path / "t.jsonl"
    writer = TraceWriter(path, HEADER)
    try:
        for count, event in enumerate(sample_events(), start=1):
            writer.write(event)
            text = path.read_text(encoding="utf-8")  # the writer is still open
            assert text.endswith("\n")
            lines = text.splitlines()
            assert len(lines) == 1 + count
            record = json.loads(lines[-1])
            assert set(record) == {"kind", "key", "value", "site", "detail", "t"}
            assert (record["kind"], record["key"]) == (event.kind, event.key)
            assert isinstance(record["t"], (int, float)) and record["t"] >= 0
            # ...and the partial file is already a readable trace.
            trace = read_trace(path)
            assert len(trace.events) == count and not trace.torn_tail
    finally:
        writer.close()


def test_writer_ignores_writes_after_close(tmp_path):
    path = tmp_path / "t.jsonl"
    writer = TraceWriter(path, HEADER)
    writer.write(Event("metrics", "metrics/fit#1/epoch-1", 1.0))
    writer.close()
    writer.write(Event("metrics", "metrics/fit#1/epoch-2", 2.0))
    writer.close()
    assert len(lines_of(path)) == 2


# -- round trip -------------------------------------------------------------------------------------

def test_read_trace_round_trips_events(tmp_path):
    events = sample_events()
    path = write_trace(tmp_path / "s123#1.jsonl", events)
    trace = read_trace(path)
    assert isinstance(trace, Trace)
    assert trace.path == path
    assert trace.header["seedcheck_trace"] == TRACE_FORMAT
    assert {k: trace.header[k] for k in HEADER} == HEADER
    assert trace.run == "s123#1"
    assert trace.seed == 123
    assert not trace.torn_tail
    assert len(trace.events) == len(events)
    for read, written in zip(trace.events, events):
        assert same_event_content(read, written), (read, written)
        assert isinstance(read.t, float) and read.t >= 0
    assert trace.find("data/fit#1/epoch-1").detail["first_batches"] == ["a", "b", "c"]
    assert trace.find("no/such/key") is None


def test_tuples_and_non_string_keys_are_written_as_json(tmp_path):
    path = write_trace(tmp_path / "t.jsonl", [Event("env", "env", {"shape": (2, 3), 7: "seven"})])
    assert read_trace(path).events[0].value == {"shape": [2, 3], "7": "seven"}


def test_run_defaults_to_the_file_name_without_a_run_field(tmp_path):
    path = tmp_path / "own#1.jsonl"
    path.write_text(json.dumps({"seedcheck_trace": 1}) + "\n", encoding="utf-8")
    trace = read_trace(path)
    assert trace.run == "own#1"
    assert trace.seed is None
    assert trace.events == []


def test_older_or_equal_format_versions_are_read(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(header_line(seedcheck_trace=TRACE_FORMAT) + "\n" + event_line() + "\n", encoding="utf-8")
    assert len(read_trace(path).events) == 1


# -- non-finite floats ------------------------------------------------------------------------------

def test_json_safe_maps_non_finite_floats_to_strings():
    value = {"loss": math.nan, "nested": [math.inf, (-math.inf, 1.5)], 3: {"ok": 2, "s": "x", "n": None}}
    assert json_safe(value) == {"loss": "NaN", "nested": ["Infinity", ["-Infinity", 1.5]],
                                "3": {"ok": 2, "s": "x", "n": None}}
    assert json_safe(math.nan) == "NaN"
    assert json_safe(math.inf) == "Infinity"
    assert json_safe(-math.inf) == "-Infinity"
    assert json_safe(0.5) == 0.5
    assert json_safe(True) is True


def test_non_finite_floats_are_written_as_strict_json(tmp_path):
    path = write_trace(tmp_path / "t.jsonl", [
        Event("metrics", "metrics/fit#1/epoch-1", math.nan,
              detail={"logs": {"loss": math.inf, "val_loss": -math.inf, "acc": 0.5}}),
        Event("weights", "weights/fit#1/epoch-1", "fp",
              detail={"variables": [{"name": "w", "sample": [1.0, math.nan, math.inf]}]}),
    ])
    text = path.read_text(encoding="utf-8")
    for token in ("NaN", "Infinity"):
        # only ever inside strings, never as bare (non-standard) JSON tokens
        assert f":{token}" not in text and f",{token}" not in text and f"[{token}" not in text
    records = [strict_loads(line) for line in text.splitlines()]  # every line is strict JSON
    assert records[1]["value"] == "NaN"
    assert records[1]["detail"]["logs"] == {"loss": "Infinity", "val_loss": "-Infinity", "acc": 0.5}
    assert records[2]["detail"]["variables"][0]["sample"] == [1.0, "NaN", "Infinity"]
    trace = read_trace(path)
    assert trace.events[0].value == "NaN"  # so a NaN loss equals a NaN loss in the next run


def test_values_the_fast_encoder_cannot_take_are_written_all_the_same(tmp_path):
    """orjson writes NaN as null and refuses ints past 64 bits and lone surrogates: each must still
    be written, as strict JSON, and read back as the standard library would have written it."""
    import numpy as np

    events = [
        Event("seed", "seed/random.seed#1", 2**100, detail={"asked": -(2**70)}),
        Event("note", "note/x#1", "surrogate \udcff in a file name"),
        Event("metrics", "metrics/fit#1/epoch-1/loss", float(np.float64(0.25)), detail={"n": np.float64(0.5)}),
        Event("weights", "weights/step-1", "fp", detail={"variables": [{"sample": [1e308, 1e308, -0.0]}],
                                                         "ids": {1: "int keys become strings"}}),
        Event("metrics", "metrics/fit#1/epoch-1/val", 1.0, detail={"nested": [[0.5, [math.nan]]]}),
    ]
    path = write_trace(tmp_path / "t.jsonl", events)
    records = [strict_loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert records[1]["value"] == 2**100 and records[1]["detail"]["asked"] == -(2**70)
    assert records[2]["value"] == "surrogate \udcff in a file name"
    assert records[3]["detail"] == {"n": 0.5}
    assert records[4]["detail"] == {"variables": [{"sample": [1e308, 1e308, -0.0]}], "ids": {"1": "int keys become strings"}}
    assert records[5]["detail"] == {"nested": [[0.5, ["NaN"]]]}


def test_a_last_line_cut_inside_a_character_is_a_torn_tail(tmp_path):
    path = write_trace(tmp_path / "t.jsonl", [Event("note", "note/a#1", "ok"), Event("note", "note/b#1", "naïve ✓")])
    raw = path.read_bytes()
    cut = raw.index("✓".encode()) + 1  # inside the 3-byte character
    path.write_bytes(raw[:cut])
    trace = read_trace(path)
    assert [e.key for e in trace.events] == ["note/a#1"] and trace.torn_tail
    path.write_bytes(raw[:raw.index(b"\n") + 1] + b"\xff\n" + raw[raw.index(b"\n") + 1:])
    with pytest.raises(TraceError, match="not UTF-8 text"):
        read_trace(path)


# -- torn and corrupt files -------------------------------------------------------------------------

def test_torn_last_line_is_dropped_and_reported(tmp_path):
    events = sample_events()
    path = write_trace(tmp_path / "t.jsonl", events)
    full_line = json.dumps({"kind": "metrics", "key": "metrics/fit#1/epoch-2", "value": 0.3,
                            "site": None, "detail": None, "t": 2.0})
    with path.open("a", encoding="utf-8") as f:
        f.write(full_line[: len(full_line) // 2])  # the run died mid-write: no newline
    trace = read_trace(path)
    assert trace.torn_tail is True
    assert len(trace.events) == len(events)
    assert all(same_event_content(a, b) for a, b in zip(trace.events, events))


def test_complete_last_line_without_newline_is_kept(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(header_line() + "\n" + event_line("metrics/a") + "\n" + event_line("metrics/b"), encoding="utf-8")
    trace = read_trace(path)
    assert [e.key for e in trace.events] == ["metrics/a", "metrics/b"]
    assert trace.torn_tail is False


def test_corrupt_line_in_the_middle_names_its_line_number(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([header_line(), event_line("metrics/a"), '{"kind": "metrics", "ke',
                               event_line("metrics/b")]) + "\n", encoding="utf-8")
    with pytest.raises(TraceError) as info:
        read_trace(path)
    message = assert_one_line_error(info.value, path)
    assert "line 3" in message


def test_non_event_json_in_the_middle_is_corrupt(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([header_line(), event_line("metrics/a"), event_line("metrics/b"), "[1, 2, 3]",
                               event_line("metrics/c")]) + "\n", encoding="utf-8")
    with pytest.raises(TraceError) as info:
        read_trace(path)
    assert "line 4" in assert_one_line_error(info.value, path)


def _make_bad_file(tmp_path: Path, case: str) -> Path:
    path = tmp_path / f"{case}.jsonl"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "blank":
        path.write_bytes(b"  \n\n")
    elif case == "not-json":
        path.write_text("hello, this is not json\nat all\n", encoding="utf-8")
    elif case == "json-without-header":
        path.write_text(event_line() + "\n" + event_line() + "\n", encoding="utf-8")
    elif case == "json-array":
        path.write_text("[1, 2, 3]\n", encoding="utf-8")
    elif case == "not-utf8":
        path.write_bytes(b'{"seedcheck_trace": 1}\n\xff\xfe\x80 binary \x00\n')
    elif case == "directory":
        path.mkdir()
    elif case == "missing":
        pass
    elif case == "bad-version":
        path.write_text(json.dumps({"seedcheck_trace": "one"}) + "\n", encoding="utf-8")
    elif case == "seed-not-a-number":
        path.write_text(header_line(seed="abc") + "\n" + event_line() + "\n", encoding="utf-8")
    elif case == "newer-version":
        path.write_text(header_line(seedcheck_trace=TRACE_FORMAT + 1) + "\n" + event_line() + "\n", encoding="utf-8")
    else:  # pragma: no cover
        raise AssertionError(case)
    return path


@pytest.mark.parametrize("case", ["empty", "blank", "not-json", "json-without-header", "json-array", "not-utf8",
                                  "directory", "missing", "bad-version", "seed-not-a-number", "newer-version"])
def test_unreadable_files_raise_one_line_trace_error_naming_the_path(tmp_path, case):
    path = _make_bad_file(tmp_path, case)
    with pytest.raises(TraceError) as info:
        read_trace(path)
    assert_one_line_error(info.value, path)


def test_newer_format_version_says_to_upgrade(tmp_path):
    path = _make_bad_file(tmp_path, "newer-version")
    with pytest.raises(TraceError) as info:
        read_trace(path)
    message = assert_one_line_error(info.value, path)
    assert "upgrade" in message.lower()
    assert str(TRACE_FORMAT + 1) in message


def test_a_byte_order_mark_before_the_header_is_read_past(tmp_path):
    """Some Windows editors save UTF-8 with a BOM; the trace is still the same trace."""
    plain = write_trace(tmp_path / "t.jsonl", sample_events())
    marked = tmp_path / "bom.jsonl"
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert read_trace(marked).events == read_trace(plain).events
    assert read_trace(marked).header == read_trace(plain).header


def test_read_trace_accepts_a_str_path(tmp_path):
    path = write_trace(tmp_path / "t.jsonl", sample_events())
    assert len(read_trace(str(path)).events) == len(sample_events())


@pytest.mark.parametrize("line", [
    '{"kind":"metrics","key":"k","value":1,"site":null,"detail":null,"t":' + "9" * 400 + "}",
    '{"kind":"metrics","key":"k","value":' + "9" * 5000 + ',"site":null,"detail":null,"t":0}',
    "BODY_IS_HEADER",
])
def test_huge_integers_give_trace_or_trace_error(tmp_path, line):
    path = tmp_path / "t.jsonl"
    if line == "BODY_IS_HEADER":
        path.write_text('{"seedcheck_trace":' + "9" * 5000 + "}\n", encoding="utf-8")
    else:
        path.write_text(header_line() + "\n" + line + "\n", encoding="utf-8")
    try:
        read_trace(path)
    except TraceError as err:
        assert_one_line_error(err, path)


# -- property: read_trace returns a Trace or raises TraceError, nothing else -----------------------

def read_bytes_safely(data: bytes) -> Trace | None:
    """read_trace over `data`; None when it raised TraceError. Any other exception fails the test."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "t.jsonl"
        path.write_bytes(data)
        try:
            trace = read_trace(path)
        except TraceError as err:
            assert_one_line_error(err, path)
            return None
        assert isinstance(trace, Trace)
        return trace


json_scalars = (st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True, allow_infinity=True)
                | st.text(max_size=12))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=6)
events_strategy = st.builds(
    Event,
    kind=st.sampled_from(KINDS),
    key=st.text(min_size=1, max_size=20),
    value=json_values,
    site=st.none() | st.text(max_size=15),
    detail=st.none() | st.dictionaries(st.text(max_size=6), json_values, max_size=3),
)


def valid_trace_bytes(events: list[Event]) -> bytes:
    with tempfile.TemporaryDirectory() as directory:
        return write_trace(Path(directory) / "t.jsonl", events).read_bytes()


# database=None: no .hypothesis/examples cache written into the repository.
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, database=None,
                             suppress_health_check=[HealthCheck.too_slow])
TRACE_PROPERTY_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=80)


@PROPERTY_SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_give_trace_or_trace_error(data):
    read_bytes_safely(data)


@PROPERTY_SETTINGS
@given(st.binary(max_size=300))
def test_header_then_random_bytes_give_trace_or_trace_error(body):
    read_bytes_safely(header_line().encode() + b"\n" + body)


@TRACE_PROPERTY_SETTINGS
@given(st.lists(events_strategy, max_size=6), st.data())
def test_truncated_trace_keeps_a_prefix_of_its_events(events, data):
    full = valid_trace_bytes(events)
    original = read_bytes_safely(full)
    assert original is not None and len(original.events) == len(events)
    # The writer's timestamps make the length vary between runs: draw a number, not an offset.
    cut = data.draw(st.integers(0, 2**20), label="cut") % (len(full) + 1)
    truncated = read_bytes_safely(full[:cut])
    if truncated is None:
        # only a cut within the header line may make the file unreadable
        assert cut < full.index(b"\n")
        return
    complete_lines = full[:cut].count(b"\n")
    assert complete_lines - 1 <= len(truncated.events) <= len(events)
    assert truncated.events == original.events[: len(truncated.events)]
    assert truncated.torn_tail == (len(truncated.events) < len(events) and not full[:cut].endswith(b"\n")
                                   and complete_lines - 1 == len(truncated.events))


@TRACE_PROPERTY_SETTINGS
@given(st.lists(events_strategy, min_size=1, max_size=6), st.data())
def test_mutated_trace_gives_trace_or_trace_error(events, data):
    full = bytearray(valid_trace_bytes(events))
    position = data.draw(st.integers(0, 2**20), label="position") % len(full)
    full[position] = data.draw(st.integers(0, 255), label="byte")
    read_bytes_safely(bytes(full))

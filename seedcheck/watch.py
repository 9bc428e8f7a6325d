"""--fail-fast: compare runs' events while they are being written, and say as soon as two runs of
one seed disagree on a stage that counts (the same rules as `compare`: the environment and
ignored stages never count, a tolerance is honoured)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from seedcheck.compare import (BITWISE, CONTEXT_KINDS, INFORMATIONAL_KINDS, TOLERANT_KINDS, Tolerance,
                               canonical, event_deviation)
from seedcheck.trace import Event


class DivergenceWatch:
    def __init__(self, tolerance: Tolerance = BITWISE, ignore: tuple[str, ...] = ()) -> None:
        self._tolerance = tolerance
        self._ignore = ignore
        self._first: dict[tuple[int | None, str], tuple[str, Event]] = {}  # (seed, key) -> first run's event
        self._seen: set[tuple[str, str]] = set()
        self.divergence: tuple[str, str, str] | None = None  # (key, run, other run)

    def feed(self, run: str, seed: int | None, events: list[Event]) -> tuple[str, str, str] | None:
        """Take a run's new events; return (stage key, run, other run) at the first disagreement."""
        for event in events:
            if self.divergence is not None:
                break
            if event.kind in INFORMATIONAL_KINDS or event.kind in CONTEXT_KINDS or (run, event.key) in self._seen:
                continue
            self._seen.add((run, event.key))
            if any(fnmatchcase(event.key, pattern) for pattern in self._ignore):
                continue
            first_run, first = self._first.setdefault((seed, event.key), (run, event))
            if first_run == run or (canonical(first.value) == canonical(event.value) and not _seeds_differ(first, event)):
                continue
            if (self._tolerance.active and event.kind in TOLERANT_KINDS
                    and event_deviation(first, event, self._tolerance) is not None):
                continue
            self.divergence = (event.key, first_run, run)
        return self.divergence


def _seeds_differ(first: Event, second: Event) -> bool:
    """Agreeing values that compare still fails: a seed the script asked for that --seed overrode
    alike, or a seed both runs read from their clocks (compare._asked_varies, compare._clock_seeded,
    which asks it of every run of the seed)."""
    details = [event.detail if isinstance(event.detail, dict) else {} for event in (first, second)]
    if all(detail.get("clock") for detail in details):
        return True
    return first.kind == "seed" and canonical(details[0].get("asked")) != canonical(details[1].get("asked"))

"""The run's settings, passed from the runner to the child in one environment variable."""

from __future__ import annotations

import json
import os

ENV_VAR = "SEEDCHECK_HOOK"


class HookSettings:
    """A plain class rather than a dataclass: `dataclasses` (and `inspect`) cost ~8 ms of every
    run's start-up, and the hook's start-up is what a script without TensorFlow pays."""

    FIELDS = ("trace", "run", "seed", "script", "module", "args", "override", "force_seed", "every",
              "max_steps", "command", "variation", "check_started")

    def __init__(self, trace: str, run: str, seed: int | None, script: str | None = None,
                 module: str | None = None, args: list[str] | None = None, override: bool = True,
                 force_seed: bool = False, every: int | None = None, max_steps: int | None = None,
                 command: list[str] | None = None, variation: dict | None = None,
                 check_started: float | None = None) -> None:
        self.trace = trace
        self.run = run
        self.seed = seed
        self.script = script
        self.module = module
        self.args = list(args or [])
        self.override = override
        self.force_seed = force_seed
        self.every = every  # weights every K optimizer steps
        self.max_steps = max_steps  # end training after N optimizer steps
        self.command = list(command or [])
        self.variation = dict(variation or {})  # `seedcheck vary`: see seedcheck.hook.variations
        self.check_started = check_started  # epoch seconds: files written since are this check's

    def to_env(self) -> str:
        return json.dumps({name: getattr(self, name) for name in self.FIELDS})

    @classmethod
    def from_env(cls) -> "HookSettings":
        raw = os.environ.get(ENV_VAR)
        if not raw:
            raise SystemExit(f"seedcheck.hook: {ENV_VAR} is not set; run scripts through `seedcheck run`")
        return cls(**json.loads(raw))

"""The run's settings, passed from the runner to the child in one environment variable."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

ENV_VAR = "SEEDCHECK_HOOK"


@dataclass
class HookSettings:
    trace: str
    run: str
    seed: int | None
    script: str | None = None
    module: str | None = None
    args: list[str] = field(default_factory=list)
    override: bool = True
    force_seed: bool = False
    every: int | None = None  # weights every K optimizer steps
    max_steps: int | None = None  # end training after N optimizer steps
    artifacts: list[str] = field(default_factory=list)  # files to fingerprint after the run
    run_dir: str | None = None  # the run's own output directory ({run_dir})
    command: list[str] = field(default_factory=list)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> "HookSettings":
        raw = os.environ.get(ENV_VAR)
        if not raw:
            raise SystemExit(f"seedcheck.hook: {ENV_VAR} is not set; run scripts through `seedcheck run`")
        return cls(**json.loads(raw))

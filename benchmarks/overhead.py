"""Measure what seedcheck costs: the hook's overhead on training (a small CNN, `fit` and a
tf.function loop, default capture and `--every 1`), its start-up on a script that never imports
TensorFlow, and the time to a verdict against the runs themselves.

Training time is what the workload measures around its own training (`train_seconds=`), so the
ratios speak of the hook's per-step and per-epoch work, not of TensorFlow's import.

The plain run and the hooked runs train in lockstep: all three processes start, and once all are
ready to train they take turns, one block of 16 optimizer steps each (~0.1 s), round and round
until all have finished (see `benchmarks/cnn_training.py`). On a shared VM whose speed drifts by
±20–40 % from one second to the next, runs timed one after the other compare stretches of
different speed; in lockstep every stretch is shared by all of them. Each round rotates who goes
first. Printed: median training time per variant with the min–max over rounds, the ratio of the
medians (the figure held to the targets) with a 90 % bootstrap interval over the rounds (is it
under the target, or only at it?), the per-round ratios, the CPU-time ratio, the
median ratio of matching blocks (block i of the hooked run against block i of the plain run in
the same round: the per-step cost), and the typical training ratio (each block's median over the
rounds, summed: a stall of the VM is voted out in its block instead of moving a whole round),
split into the first block's excess (compile and tracing: paid once per run) and the ratio of the
other blocks (what each further step costs: the overhead a longer training tends to).
Run: `make bench` or `.venv/bin/python benchmarks/overhead.py --rounds 5`.
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from seedcheck.hook.settings import ENV_VAR, HookSettings  # noqa: E402

# MNIST-sized: 60000 images, batch 64, 2 epochs: 1876 optimizer steps in 118 blocks, ~9 s of training here.
CNN = ["benchmarks/cnn_training.py", "--examples", "60000", "--epochs", "2"]
TRAINING = ["sample_scripts/classifier_fully_seeded.py", "--epochs", "3"]
NO_TF = ["tests/scripts/python_seeding.py"]
TARGETS = {"default": 1.02, "--every 1": 1.10}
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3"}


def timed(command: list[str], env: dict[str, str]) -> float:
    """Whole-process seconds."""
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def hooked_env(trace: Path, script: list[str], every: int | None = None) -> dict[str, str]:
    settings = HookSettings(trace=str(trace), run="bench#1", seed=None, script=script[0], args=script[1:], every=every)
    return {**os.environ, **QUIET, ENV_VAR: settings.to_env()}


def command_for(script: list[str], variant: int | None | bool, trace: Path) -> tuple[list[str], dict[str, str]]:
    """`False`: the plain script; else the hooked one with that `--every` (None: the default)."""
    if variant is False:
        return [sys.executable, *script], {**os.environ, **QUIET}
    return [sys.executable, "-m", "seedcheck.hook"], hooked_env(trace, script, variant)  # type: ignore[arg-type]


def lockstep(runs: dict[str, tuple[list[str], dict[str, str]]]) -> dict[str, dict[str, Any]]:
    """Start every run; once all are ready to train, hand out turns (one block of steps each) in
    order until every run has finished. Returns what each printed: train_seconds,
    train_cpu_seconds, block_seconds."""
    started: dict[str, tuple[subprocess.Popen[str], int, int]] = {}
    for name, (command, env) in runs.items():
        go_read, go_write = os.pipe()
        done_read, done_write = os.pipe()
        process = subprocess.Popen(command, cwd=REPO, env={**env, "SEEDCHECK_BENCH_TURNS": f"{go_read},{done_write}"},
                                   pass_fds=(go_read, done_write), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        os.close(go_read)
        os.close(done_write)
        started[name] = (process, go_write, done_read)
    try:
        for name, (_, _, done_read) in started.items():
            if os.read(done_read, 1) != b"r":
                raise SystemExit(f"benchmark: {name} ended before training")
        live = list(started)
        while live:
            for name in list(live):
                _, go_write, done_read = started[name]
                try:
                    os.write(go_write, b"g")
                    turn_over = os.read(done_read, 1)
                except BrokenPipeError:
                    turn_over = b""
                if not turn_over:  # finished: its end of the pipes closed
                    live.remove(name)
        results = {}
        for name, (process, _, _) in started.items():
            out, _ = process.communicate()
            if process.returncode:
                raise SystemExit(f"benchmark: {name} exited with code {process.returncode}")
            printed = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
            results[name] = {"train": float(printed["train_seconds"]), "cpu": float(printed["train_cpu_seconds"]),
                             "blocks": [float(b) for b in printed["block_seconds"].split(",")]}
        return results
    finally:
        for process, go_write, done_read in started.values():
            for fd in (go_write, done_read):
                os.close(fd)
            if process.poll() is None:
                process.kill()
                process.wait()


def training_overhead(script: list[str], variants: dict[str, int | None | bool], rounds: int, workdir: Path
                      ) -> list[dict[str, dict[str, Any]]]:
    """`rounds` lockstep sessions of every variant, the order rotated each round."""
    sessions = []
    names = list(variants)
    for index in range(rounds):
        order = names[index % len(names):] + names[:index % len(names)]
        runs = {name: command_for(script, variants[name], workdir / f"{name.replace(' ', '')}-{index}.jsonl")
                for name in order}
        sessions.append(lockstep(runs))
    return sessions


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f}s (min {min(values):.3f}, max {max(values):.3f})"


def overhead_lines(sessions: list[dict[str, dict[str, Any]]]) -> list[str]:
    plain = [s["plain"]["train"] for s in sessions]
    lines = [f"  plain     training {spread(plain)}"]
    for name in sessions[0]:
        if name == "plain":
            continue
        hooked = [s[name]["train"] for s in sessions]
        ratio = statistics.median(hooked) / statistics.median(plain)
        per_round = sorted(h / p for h, p in zip(hooked, plain))
        cpu = statistics.median(s[name]["cpu"] for s in sessions) / statistics.median(s["plain"]["cpu"] for s in sessions)
        blocks = [h / p for s in sessions for h, p in zip(s[name]["blocks"], s["plain"]["blocks"]) if p > 0]
        typical = typical_split(sessions, name)
        target = TARGETS.get(name)
        verdict = f" (target ≤ {target:.2f}x: {'met' if ratio <= target else 'NOT met'})" if target else ""
        if target:
            low, high = ratio_interval(plain, hooked)  # printed only beside a target
            verdict += (f"; 90 % interval {low:.3f}–{high:.3f}x, "
                        + ("wholly under the target" if high <= target else
                           "wholly over the target" if low > target else "straddling the target"))
        lines.append(f"  {name:<9} training {spread(hooked)}\n"
                     f"            ratio of medians {ratio:.3f}x{verdict}; per round {per_round[0]:.3f}–{per_round[-1]:.3f} "
                     f"(median {statistics.median(per_round):.3f}x); CPU time {cpu:.3f}x; "
                     f"matching blocks median {statistics.median(blocks):.3f}x"
                     + (f"; typical training {typical[0]:.3f}x: first block {typical[1] * 1000:+.0f} ms, "
                        f"the rest {typical[2]:.3f}x" if typical is not None else ""))
    return lines


def ratio_interval(plain: list[float], hooked: list[float], resamples: int = 4000) -> tuple[float, float]:
    """A 90 % bootstrap interval for the ratio of medians: the rounds (lockstep sessions, each a
    plain and a hooked time) drawn again with replacement. It says how far the figure held to the
    target could move in another run of the same rounds on this machine; with few rounds it is
    rough (it cannot reach beyond the rounds seen), but it separates "under the target" from
    "at it". Seeded, so the same times print the same interval."""
    draw = random.Random(0)
    indices = range(len(plain))
    ratios = sorted(statistics.median(hooked[i] for i in picked) / statistics.median(plain[i] for i in picked)
                    for picked in (draw.choices(indices, k=len(plain)) for _ in range(resamples)))
    return ratios[int(0.05 * resamples)], ratios[int(0.95 * resamples) - 1]


def typical_blocks(sessions: list[dict[str, dict[str, Any]]], variant: str) -> list[float] | None:
    """A typical round of `variant`: each block's median over the rounds. A stall of the VM lands
    in one block of one round and is voted out there, where in a whole run's time it moves that
    round's ratio by a point or more. None when the runs' blocks do not line up."""
    if len({len(s[name]["blocks"]) for s in sessions for name in s}) != 1:
        return None
    return [statistics.median(blocks) for blocks in zip(*(s[variant]["blocks"] for s in sessions))]


def typical_split(sessions: list[dict[str, dict[str, Any]]], name: str) -> tuple[float, float, float] | None:
    """For the typical rounds of `name` and of the plain run: (whole training, hooked ÷ plain;
    what the first block (compile, tracing, 16 steps) takes longer, in seconds; the other blocks,
    hooked ÷ plain). The first block's excess is paid once per run; the ratio of the others is
    what every further step costs, so it is the overhead a longer training tends to."""
    hooked, plain = typical_blocks(sessions, name), typical_blocks(sessions, "plain")
    if hooked is None or plain is None or len(plain) < 2:
        return None
    return sum(hooked) / sum(plain), hooked[0] - plain[0], sum(hooked[1:]) / sum(plain[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    # seedcheck as a pip install leaves it, compiled: an editable install where PYTHONDONTWRITEBYTECODE
    # is set (this VM) would compile the hook's modules again in every run (`make bytecode`).
    compileall.compile_dir(REPO / "seedcheck", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"seedcheck overhead, {args.rounds} rounds in lockstep, {os.cpu_count()} CPUs")
        for mode, title in (("fit", "CNN, 28x28 images, Keras fit"), ("loop", "CNN, GradientTape loop in a tf.function")):
            sessions = training_overhead([*CNN, "--mode", mode], {"plain": False, "default": None, "--every 1": 1},
                                         args.rounds, work)
            print(f"{title}:")
            for line in overhead_lines(sessions):
                print(line)
        plain, hooked = [], []
        for index in range(args.rounds * 4):  # A/B/A/B: start-up is short, and no lockstep is needed
            plain.append(timed(*command_for(NO_TF, False, work / "unused")))
            hooked.append(timed(*command_for(NO_TF, None, work / f"no-tf-{index}.jsonl")))
        extra_ms = (statistics.median(hooked) - statistics.median(plain)) * 1000
        print(f"non-TF script start-up: plain {spread(plain)}, hooked {spread(hooked)}; "
              f"hook adds {extra_ms:.0f} ms (target ≤ 50 ms)")
        lone = statistics.median(timed(*command_for(TRAINING, False, work / "unused")) for _ in range(3))
        for label, extra in (("--repeats 3", []), ("--repeats 3 --jobs 2", ["--jobs", "2"])):
            verdict = _verdict(work, [*TRAINING[:1], "--seed", "1", "--repeats", "3", *extra, "--", *TRAINING[1:]])
            print(f"time to verdict, seedcheck run {label}: {verdict:.2f}s = {verdict / (3 * lone):.2f}x "
                  f"three plain runs ({3 * lone:.2f}s)")
        diverging = ["sample_scripts/classifier_tf_seed_only.py", "--seed", "1", "--repeats", "3", "--fail-fast"]
        verdict = _verdict(work, diverging)
        print(f"time to verdict on a script diverging at init, --repeats 3 --fail-fast: {verdict:.2f}s "
              f"= {verdict / lone:.2f}x one plain run ({lone:.2f}s)")


def _verdict(work: Path, arguments: list[str]) -> float:
    """Wall time of one `seedcheck run` (whatever its verdict)."""
    split = arguments.index("--") if "--" in arguments else len(arguments)
    ours = ["--save", str(work / f"verdict-{time.monotonic_ns()}"), "-q"]
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "seedcheck", "run", *arguments[:split], *ours, *arguments[split:]],
                   cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return time.perf_counter() - started


if __name__ == "__main__":
    main()

"""Measure what seedcheck costs: the hook's overhead on training (a small CNN, `fit` and a
tf.function loop, default capture and `--every 1`), its start-up on a script that never imports
TensorFlow, and the time to a verdict against the runs themselves.

Training time is what the workload measures around its own training (`train_seconds=`), so the
ratios speak of the hook's per-step and per-epoch work, not of TensorFlow's import.

Plain and hooked runs are interleaved (A/B/A/B...) in one invocation so drift in machine load hits
both alike; figures are medians with the min–max spread, and the ratio of the minimums too: on a
shared 2-vCPU VM whole epochs now and then take twice as long, and the fastest round of each
variant is the least disturbed measure of what it costs. The median of the per-round ratios pairs
each hooked run with the plain run just before it, so a slow stretch of the machine falls on both. Run: `make bench` or
`.venv/bin/python benchmarks/overhead.py --rounds 5`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from seedcheck.hook.settings import ENV_VAR, HookSettings  # noqa: E402

# 8192 images, batch 64, 3 epochs: 384 optimizer steps, ~8 s of training here.
CNN = ["benchmarks/cnn_training.py", "--examples", "8192"]
TRAINING = ["sample_scripts/classifier_fully_seeded.py", "--epochs", "3"]
NO_TF = ["tests/scripts/python_seeding.py"]
TARGETS = {"default": 1.02, "--every 1": 1.10}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float | None, float | None]:
    """(whole-process seconds, the training seconds and training CPU seconds the workload printed,
    if it printed them)."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, check=True, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    whole = time.perf_counter() - started
    printed = dict(line.split("=", 1) for line in done.stdout.splitlines() if line.startswith("train_"))
    train, cpu = printed.get("train_seconds"), printed.get("train_cpu_seconds")
    return whole, float(train) if train else None, float(cpu) if cpu else None


def hooked_env(trace: Path, script: list[str], every: int | None = None) -> dict[str, str]:
    settings = HookSettings(trace=str(trace), run="bench#1", seed=None, script=script[0], args=script[1:], every=every)
    return {**os.environ, ENV_VAR: settings.to_env(), "TF_CPP_MIN_LOG_LEVEL": "3"}


def interleaved(script: list[str], variants: dict[str, int | None], rounds: int, workdir: Path
                ) -> dict[str, list[tuple[float, float | None, float | None]]]:
    """Plain, then each hooked variant, round after round (A/B/C/A/B/C…): drift in the machine's
    load falls on every variant alike."""
    plain_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    times: dict[str, list[tuple[float, float | None, float | None]]] = {"plain": [], **{name: [] for name in variants}}
    for index in range(rounds):
        times["plain"].append(timed([sys.executable, *script], plain_env))
        for name, every in variants.items():
            env = hooked_env(workdir / f"{name.replace(' ', '')}-{index}.jsonl", script, every)
            times[name].append(timed([sys.executable, "-m", "seedcheck.hook"], env))
    return times


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f}s (min {min(values):.3f}, max {max(values):.3f})"


def ratio_line(label: str, times: dict[str, list[tuple[float, float | None, float | None]]], which: int) -> list[str]:
    plain = [t[which] for t in times["plain"]]
    lines = [f"  {label:<9} {'plain':<9} {spread(plain)}"]  # type: ignore[arg-type]
    for name in times:
        if name == "plain":
            continue
        hooked = [t[which] for t in times[name]]
        ratios = sorted(h / p for h, p in zip(hooked, plain))  # type: ignore[operator]
        ratio = statistics.median(hooked) / statistics.median(plain)  # type: ignore[type-var]
        best = min(hooked) / min(plain)  # type: ignore[type-var]
        target = f" (target ≤ {TARGETS[name]:.2f}x)" if which == 1 and name in TARGETS else ""
        paired = statistics.median(ratios)
        lines.append(f"  {'':<9} {name:<9} {spread(hooked)}  ratio of medians {ratio:.3f}x{target}; "  # type: ignore[arg-type]
                     f"of minimums {best:.3f}x; per-round ratios {ratios[0]:.3f}–{ratios[-1]:.3f} "
                     f"(median {paired:.3f}x)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"seedcheck overhead, {args.rounds} interleaved rounds, {os.cpu_count()} CPUs")
        for mode, title in (("fit", "CNN, 28x28 images, Keras fit"), ("loop", "CNN, GradientTape loop in a tf.function")):
            times = interleaved([*CNN, "--mode", mode], {"default": None, "--every 1": 1}, args.rounds, work)
            print(f"{title}:")
            for line in ratio_line("training", times, 1) + ratio_line("train CPU", times, 2) + \
                    ratio_line("process", times, 0):
                print(line)
        times = interleaved(NO_TF, {"hooked": None}, args.rounds * 4, work)
        plain, hooked = [t[0] for t in times["plain"]], [t[0] for t in times["hooked"]]
        extra_ms = (statistics.median(hooked) - statistics.median(plain)) * 1000
        print(f"non-TF script start-up: plain {spread(plain)}, hooked {spread(hooked)}; "
              f"hook adds {extra_ms:.0f} ms (target ≤ 50 ms)")
        lone = statistics.median(t[0] for t in interleaved(TRAINING, {}, 3, work)["plain"])
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

"""Runs side by side: the cases they share, ratios against the first run, and why two runs may
not be comparable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from blazepose_onnx.bench.results import BenchRun, CaseResult

NOISY_SPREAD = 1.5  # p90 / median above this: the machine was busy or throttling


@dataclass(frozen=True)
class Pair:
    """One case timed in the first run (`base`) and in another (`other`)."""

    base: CaseResult
    other: CaseResult

    @property
    def time_ratio(self) -> float:
        """The other run's median step time over the first's (below 1: faster)."""
        return self.other.p("total", "p50") / self.base.p("total", "p50")

    @property
    def fps_ratio(self) -> float:
        return self.other.frames_per_second / self.base.frames_per_second


def spread(case: CaseResult) -> float:
    """p90 over median of the step time: 1.0 for a perfectly steady case."""
    return case.p("total", "p90") / case.p("total", "p50")


def faster_or_slower(time_ratio: float) -> str:
    """`1.25x faster` for a time ratio of 0.8, `1.10x slower` for 1.1."""
    if time_ratio <= 1:
        return f"{1 / time_ratio:.2f}x faster"
    return f"{time_ratio:.2f}x slower"


def pairs(base: BenchRun, other: BenchRun) -> list[Pair]:
    """The cases of `other` that `base` has too, in `base`'s order."""
    theirs = {case.key: case for case in other.cases}
    return [Pair(case, theirs[case.key]) for case in base.cases if case.key in theirs]


def _inputs(run: BenchRun) -> tuple:
    image, video = run.inputs["image"], run.inputs["video"]
    return image["sha256"], video["sha256"], video["frames"]


def notes(runs: Sequence[BenchRun]) -> list[str]:
    """One line per reason a run's figures do not compare with the first run's: other inputs,
    other iteration or warm-up counts, cases the first run lacks, or a noisy case."""
    base = runs[0]
    found = []
    for run in runs[1:]:
        if _inputs(run) != _inputs(base):
            found.append(f"{run.name} timed other inputs than {base.name} (image or video differ)")
        if (run.iterations, run.warmup) != (base.iterations, base.warmup):
            found.append(
                f"{run.name} timed {run.iterations} steps after {run.warmup} warm-up, "
                f"{base.name} {base.iterations} after {base.warmup}"
            )
        keys = {case.key for case in base.cases}
        missing = [case.label for case in run.cases if case.key not in keys]
        if missing:
            found.append(f"{base.name} has no {', '.join(missing)} to compare with")
    for run in runs:
        for case in run.cases:
            if spread(case) > NOISY_SPREAD:
                found.append(
                    f"{run.name}: {case.label} is noisy (p90/median {spread(case):.2f} > "
                    f"{NOISY_SPREAD}): the machine was busy; time it again"
                )
    return found

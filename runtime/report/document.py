"""A `blazepose bench --json` document read back and checked: the only source of a report's
figures."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blazepose_onnx.cli.bench_arguments import BENCH_FORMAT, BENCH_VERSION
from blazepose_onnx.common.plural import counted
from blazepose_onnx.errors import InputError

SPLIT = ("detector", "landmarker", "other")


class ReportError(InputError):
    """A file that is not a bench JSON this version reads, or a report that cannot be written."""


@dataclass(frozen=True)
class Case:
    """One timed configuration of a run, as its JSON gives it."""

    implementation: str
    provider: str
    variant: str
    precision: str
    mode: str
    batch: int
    threads: str
    iterations: int
    warmup: int
    frames_per_second: float
    percentiles_ms: dict[str, dict[str, float]]
    samples_ms: dict[str, list[float]]
    placement: dict[str, dict] = field(default_factory=dict)  # absent before placement was kept
    partial_placement: list[str] = field(default_factory=list)

    @property
    def is_mediapipe(self) -> bool:
        return self.implementation.startswith("MediaPipe")

    @property
    def key(self) -> tuple:
        """What identifies the case across runs (the implementation's version aside)."""
        implementation = "MediaPipe" if self.is_mediapipe else self.implementation
        return (
            implementation,
            self.provider,
            self.precision,
            self.variant,
            self.mode,
            self.batch,
            self.threads,
        )

    @property
    def label(self) -> str:
        """`cpu fp32 lite image batch 1`, `MediaPipe 1.2.2 lite video`."""
        if self.is_mediapipe:
            return f"{self.implementation} {self.variant} {self.mode}"
        size = f"batch {self.batch}" if self.mode == "image" else counted(self.batch, "stream")
        return f"{self.provider} {self.precision} {self.variant} {self.mode} {size}"

    def p(self, stage: str, q: str) -> float:
        """The run's own percentile `q` ("p50", "p90", "p99") of `stage`, in ms."""
        return self.percentiles_ms[stage][q]

    def median_step_split(self) -> dict[str, float] | None:
        """Detector, landmarker and other ms of the step whose total is the median one (the
        lower of the two middle steps for an even count), so the parts add up to that step's
        total; None where the stages were not timed (MediaPipe)."""
        if not all(stage in self.samples_ms for stage in SPLIT):
            return None
        totals = self.samples_ms["total"]
        order = sorted(range(len(totals)), key=totals.__getitem__)
        middle = order[(len(order) - 1) // 2]
        return {stage: self.samples_ms[stage][middle] for stage in SPLIT}


@dataclass(frozen=True)
class BenchRun:
    """A whole bench JSON: how it was run, the machine, its cases."""

    name: str
    command: str
    warmup: int
    iterations: int
    inputs: dict[str, dict[str, Any]]
    machine: dict[str, Any]
    cases: list[Case]
    text: str


def placement_text(provider: str, placement: dict, partial: list[str]) -> str:
    """'all nodes on cpu', or PARTIAL naming each model the provider runs only part of ('' when
    nothing was placed: MediaPipe)."""
    if not placement:
        return ""
    return "PARTIAL: " + "; ".join(partial) if partial else f"all nodes on {provider}"


def _case(raw: dict[str, Any]) -> Case:
    return Case(
        implementation=raw["implementation"],
        provider=raw["provider"],
        variant=raw["variant"],
        precision=raw["precision"],
        mode=raw["mode"],
        batch=int(raw["batch"]),
        threads=str(raw["threads"]),
        iterations=int(raw["iterations"]),
        warmup=int(raw["warmup"]),
        frames_per_second=float(raw["frames_per_second"]),
        percentiles_ms=raw["percentiles_ms"],
        samples_ms=raw["samples_ms"],
        placement=raw.get("placement", {}),
        partial_placement=list(raw.get("partial_placement", [])),
    )


def parse_run(text: str, name: str) -> BenchRun:
    """The run in bench JSON `text` (named `name` on the page); ReportError, one line, when it
    is not one this version reads."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{name} is not JSON: {exc}") from exc
    legacy = isinstance(raw, dict) and "format" not in raw and "results" in raw  # version 1
    if not legacy and (not isinstance(raw, dict) or raw.get("format") != BENCH_FORMAT):
        raise ReportError(f"{name} is not a `blazepose bench --json` file")
    if raw.get("version", 1) != BENCH_VERSION:
        raise ReportError(
            f"{name} is bench JSON version {raw.get('version', 1)}, this blazepose reads version "
            f"{BENCH_VERSION} (with every step's time): run `blazepose bench --json` again"
        )
    try:
        cases = [_case(result) for result in raw["results"]]
        run = BenchRun(
            name,
            raw["command"],
            int(raw["warmup"]),
            int(raw["iterations"]),
            raw["inputs"],
            raw["machine"],
            cases,
            text,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(f"{name} is incomplete bench JSON: {type(exc).__name__} {exc}") from exc
    if not cases:
        raise ReportError(f"{name} has no timed case")
    return run


def read_run(path: Path, name: str | None = None) -> BenchRun:
    """The bench JSON at `path`, checked, named `name` (default: the file's name)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    return parse_run(text, name or path.name)


def read_runs(paths: Sequence[Path]) -> list[BenchRun]:
    """The runs at `paths`, each named by as much of its path as tells it from the others
    (`a/bench.json`, `b/bench.json`: two --report folders hold files of the same name)."""
    return [read_run(path, name) for path, name in zip(paths, distinct_names(paths), strict=True)]


def distinct_names(paths: Sequence[Path]) -> list[str]:
    """The shortest tails of `paths` (file name, then parent folders) that differ."""
    parts = [Path(os.path.normpath(os.path.abspath(p))).parts for p in paths]
    for depth in range(1, max(map(len, parts)) + 1):
        names = [str(Path(*p[-depth:])) for p in parts]
        if len(set(names)) == len(names):
            return names
    return [str(p) for p in paths]  # the same file twice: as given

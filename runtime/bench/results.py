"""What a benchmark run gives: one `CaseResult` per timed case, the run's JSON document (what
`blazepose bench --json` writes, and `bench report`/`bench compare` read back, checked) and its
Markdown table. Light: no ONNX Runtime import, so the CLI's parser and report pages use it.

The JSON is versioned: version 2 added every timed step's milliseconds (`samples_ms`), the
warm-up, the inputs' digests and the command.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from blazepose_onnx.common.digest import sha256_file
from blazepose_onnx.common.plural import counted
from blazepose_onnx.errors import InputError

BENCH_FORMAT = "blazepose-bench"
BENCH_VERSION = 2
MODES = ("image", "video", "video-parallel", "people")
VIDEO_FRAMES = 120  # frames of the clip a run times
# A step's time: in total, inside each model (from `model_stats`) and the rest (on the host).
STAGES = ("total", "detector", "landmarker", "other")
SPLIT = STAGES[1:]  # detector, landmarker, other: a step's parts


def median_step(samples: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """Every stage's time in the step whose total is the median one (the lower of the two
    middle steps for an even count), so the parts add up to that step's total."""
    totals = samples["total"]
    middle = sorted(range(len(totals)), key=totals.__getitem__)[(len(totals) - 1) // 2]
    return {stage: values[middle] for stage, values in samples.items()}


class ReportError(InputError):
    """A file that is not a bench JSON this version reads, or a report that cannot be written."""


@dataclass(frozen=True)
class CaseResult:
    """One timed case: what ran, its latency percentiles (ms per step, per stage), throughput,
    every timed step's milliseconds (warm-up excluded) and where ONNX Runtime placed each
    model's nodes (`Placement.to_dict` per model; empty for MediaPipe)."""

    implementation: str
    provider: str
    variant: str
    mode: str
    batch: int
    threads: str
    iterations: int
    frames_per_second: float
    percentiles_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    precision: str = "fp32"
    warmup: int = 0
    samples_ms: dict[str, list[float]] = field(default_factory=dict)
    placement: dict[str, dict] = field(default_factory=dict)  # absent before placement was kept
    # 'landmarker 180/185 nodes (5 on cpu)' per model whose nodes the case's provider does not
    # all run (empty when it runs them all, or for MediaPipe): from `placement` when timed, as
    # the JSON says when read back
    partial_placement: list[str] | None = None

    def __post_init__(self) -> None:
        if self.partial_placement is None:
            object.__setattr__(self, "partial_placement", self._partial_placement())

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
        """Detector, landmarker and other ms of the step whose total is the median one, so the
        parts add up to that step's total; None where the stages were not timed (MediaPipe)."""
        if not all(stage in self.samples_ms for stage in SPLIT):
            return None
        step = median_step(self.samples_ms)
        return {stage: step[stage] for stage in SPLIT}

    def _partial_placement(self) -> list[str]:
        found = []
        for role, placed in self.placement.items():
            total, nodes = placed["total"], placed["nodes"]
            if nodes.get(self.provider, 0) != total:
                others = ", ".join(
                    f"{n} on {p}" for p, n in sorted(nodes.items()) if p != self.provider
                )
                found.append(f"{role} {nodes.get(self.provider, 0)}/{total} nodes ({others})")
        return found

    @property
    def placement_text(self) -> str:
        """'all nodes on cpu', or PARTIAL naming each model the provider runs only part of ('' when
        nothing was placed: MediaPipe)."""
        if not self.placement:
            return ""
        partial = self.partial_placement
        return "PARTIAL: " + "; ".join(partial) if partial else f"all nodes on {self.provider}"


@dataclass(frozen=True)
class BenchRun:
    """A whole bench JSON: how it was run, the machine, its cases."""

    name: str
    command: str
    warmup: int
    iterations: int
    inputs: dict[str, dict[str, Any]]
    machine: dict[str, Any]
    cases: list[CaseResult]
    text: str


def mediapipe_mode(mode: str) -> str:
    """The MediaPipe mode a mode of ours compares with: video for video-parallel."""
    return "video" if mode.startswith("video") else mode


def mediapipe_reference(case: CaseResult, cases: Sequence[CaseResult]) -> CaseResult | None:
    """MediaPipe's case among `cases` of the same variant and (`mediapipe_mode`) mode, for a
    case of ours."""
    if case.is_mediapipe:
        return None
    wanted = (case.variant, mediapipe_mode(case.mode))
    return next((c for c in cases if c.is_mediapipe and (c.variant, c.mode) == wanted), None)


def run_info(
    argv: Sequence[str], warmup: int, iterations: int, image: Path, video: Path
) -> dict[str, Any]:
    """How a run was made: the command, the timed steps and the inputs (with digests, so that
    runs on other machines can be checked to have timed the same files)."""
    return {
        "command": shlex.join(["blazepose", *argv]),
        "warmup": warmup,
        "iterations": iterations,
        "inputs": {
            "image": {"path": str(image), "sha256": sha256_file(image)},
            "video": {"path": str(video), "sha256": sha256_file(video), "frames": VIDEO_FRAMES},
        },
    }


def run_document(
    results: Sequence[CaseResult], machine: dict[str, Any], run: dict[str, Any]
) -> str:
    """The run as JSON: format and version, how it was run (`run_info`), the machine, and per
    case its fields and, flagged, the models its provider runs only part of."""
    document = {
        "format": BENCH_FORMAT,
        "version": BENCH_VERSION,
        **run,
        "machine": machine,
        "results": [asdict(r) for r in results],
    }
    return json.dumps(document, indent=1)


def _case(raw: dict[str, Any]) -> CaseResult:
    return CaseResult(
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
    """The run in bench JSON `text`.

    Args:
        text: what `blazepose bench --json` wrote.
        name: the run's name on a page.

    Returns:
        The run: its cases, machine and command.

    Raises:
        ReportError: not bench JSON this version reads (one line saying why).
    """
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
    """The bench JSON at `path`, checked (`parse_run`).

    Args:
        path: the JSON file.
        name: the run's name on a page (None: the file's name).

    Raises:
        ReportError: the file cannot be read or is not bench JSON this version reads.
    """
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


def markdown_table(results: Sequence[CaseResult], machine: dict[str, Any]) -> str:
    """A Markdown table, with MediaPipe's matching configuration as the reference ratio."""
    lines = [
        f"Machine: {machine['cpu']}, {machine['logical_cores']} logical cores, onnxruntime "
        f"{machine['onnxruntime']} ({machine['providers']}).",
        "",
        "| implementation | provider | variant | mode | batch/streams/people | threads | p50 ms "
        "| p90 ms | p99 ms | detector p50 | landmarker p50 | other p50 | frames/s | vs MediaPipe "
        "| placement |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        p = r.percentiles_ms
        stage = [f"{p[s]['p50']:.2f}" if s in p else "" for s in SPLIT]
        mp_ref = mediapipe_reference(r, results)
        ratio = (
            f"{mp_ref.frames_per_second and r.frames_per_second / mp_ref.frames_per_second:.2f}x "
            "throughput"
            if mp_ref
            else ""
        )
        provider = r.provider if r.precision == "fp32" else f"{r.provider} ({r.precision})"
        lines.append(
            f"| {r.implementation} | {provider} | {r.variant} | {r.mode} | {r.batch} | "
            f"{r.threads} | {p['total']['p50']:.2f} | {p['total']['p90']:.2f} | "
            f"{p['total']['p99']:.2f} | "
            + " | ".join(stage)
            + f" | {r.frames_per_second:.1f} | {ratio} | {r.placement_text} |"
        )
    return "\n".join(lines)

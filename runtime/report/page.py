"""The report pages: one self-contained HTML file each (inline SVG and CSS, no script, no
network), every figure read from the runs' JSON."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from blazepose_onnx.bench.results import SPLIT, BenchRun, CaseResult, mediapipe_reference
from blazepose_onnx.common.plural import counted
from blazepose_onnx.report.charts import MEDIAPIPE, OURS, Row, fps_chart, latency_chart, split_chart
from blazepose_onnx.report.compare import faster_or_slower, notes, pairs, spread

GENERATOR = "blazepose-onnx bench report"
RUN_COLOURS = ("#1f6fb4", "#e8710a", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "asimd", "neon", "sve")
SIMD_PREFIXES = ("avx512", "amx")
CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { background: #fff4d6; border-left: 4px solid #e8a800; padding: 4px 10px; margin: 4px 0; }
.answer { background: #eaf3fb; border-left: 4px solid #7aa7d6; padding: 4px 10px; margin: 4px 0; }
figure.chart { margin: 12px 0; } figure.chart svg { max-width: 100%; height: auto; }
code { background: #f3f3f3; padding: 1px 4px; }
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _table(table_id: str, header: Sequence[str], rows: Iterable[Sequence[tuple]]) -> str:
    """A table whose cells are (text, field) pairs; a field marks a number (`data-field`)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    head = f"<tr>{head}</tr>" if head else ""
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n" data-field="{field}">{_e(text)}</td>'
            if field
            else f"<td>{_e(text)}</td>"
            for text, field in row
        )
        body.append(f"<tr>{cells}</tr>")
    return f'<table id="{table_id}">{head}{"".join(body)}</table>'


def _page(title: str, sections: Sequence[str]) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="generator" content="{GENERATOR}"><title>{_e(title)}</title>'
        f"<style>{CSS}</style></head><body><h1>{_e(title)}</h1>{''.join(sections)}</body></html>\n"
    )


CHARTS = (
    (
        "latency",
        latency_chart,
        "Box: 25th to 75th percentile of the timed steps; black line: "
        "median (p50); diamond: p90; whisker: fastest step to p99; dots: steps slower than p99.",
    ),
    (
        "fps",
        fps_chart,
        "Frames per step over the median step time (video-parallel: every "
        "stream's frames over the wall time).",
    ),
    (
        "split",
        split_chart,
        "The median step's time inside the detector and the landmarker "
        "(model_stats) and the rest on the host; MediaPipe's median step, hatched, is not split.",
    ),
)


def _charts(rows: Sequence[Row]) -> str:
    return "".join(
        f'<figure class="chart" data-chart="{name}" data-rows="{len(rows)}">{draw(rows)}'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
        for name, draw, caption in CHARTS
    )


def _ms(value: float) -> str:
    return f"{value:.2f}"


def _vs_mediapipe(case: CaseResult, run: BenchRun) -> str:
    reference = mediapipe_reference(case, run.cases)
    if reference is None:
        return ""
    return f"{case.frames_per_second / reference.frames_per_second:.2f}x"


def _cases_table(run: BenchRun) -> str:
    header = [
        "case",
        "implementation",
        "threads",
        "steps",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "frames/s",
        *(f"{s} p50 ms" for s in SPLIT),
        "throughput vs MediaPipe",
        "placement",
    ]
    rows = []
    for case in run.cases:
        stages = [
            (_ms(case.p(s, "p50")), s) if s in case.percentiles_ms else ("", None) for s in SPLIT
        ]
        rows.append(
            [
                (case.label, None),
                (case.implementation, None),
                (case.threads, None),
                (case.iterations, "iterations"),
                *((_ms(case.p("total", q)), q) for q in ("p50", "p90", "p99")),
                (f"{case.frames_per_second:.1f}", "fps"),
                *stages,
                (_vs_mediapipe(case, run), "vs_mediapipe"),
                (case.placement_text, None),
            ]
        )
    return _table("cases", header, rows)


def _answer(variant: str, mode: str, run: BenchRun) -> str:
    """The fastest case of ours for `variant` and `mode`; against MediaPipe where it was timed:
    that case's throughput and, one frame per step as MediaPipe takes them, the median step."""
    ours = [c for c in run.cases if (c.variant, c.mode) == (variant, mode) and not c.is_mediapipe]
    best = max(ours, key=lambda c: c.frames_per_second)
    line = (
        f"{variant} {mode}: fastest here is {best.label}, {best.frames_per_second:.1f} "
        f"frames/s (median step {_ms(best.p('total', 'p50'))} ms)"
    )
    reference = mediapipe_reference(best, run.cases)
    if reference is None:
        return line
    line += (
        f"; {best.frames_per_second / reference.frames_per_second:.2f}x the throughput of "
        f"{reference.implementation} ({reference.frames_per_second:.1f} frames/s, median "
        f"step {_ms(reference.p('total', 'p50'))} ms)"
    )
    single = [c for c in ours if c.batch == 1]
    if single:
        quickest = min(single, key=lambda c: c.p("total", "p50"))
        ratio = quickest.p("total", "p50") / reference.p("total", "p50")
        line += f"; one frame at a time, {quickest.label} takes {ratio:.2f}x MediaPipe's time"
    return line


def _answers(run: BenchRun) -> str:
    """Per variant and mode of ours, the answer; a note where MediaPipe was not timed."""
    groups = sorted({(c.variant, c.mode) for c in run.cases if not c.is_mediapipe})
    lines = [f'<p class="answer">{_e(_answer(variant, mode, run))}</p>' for variant, mode in groups]
    if not any(c.is_mediapipe for c in run.cases):
        lines.append(
            '<p class="note">MediaPipe was not timed in this run (<code>blazepose bench '
            "--mediapipe-bundles DIR</code> times it beside ours).</p>"
        )
    return "".join(lines)


def _method(run: BenchRun) -> str:
    return (
        f"<p>Every case ran {counted(run.warmup, 'untimed warm-up step')}, then "
        f"{run.iterations} timed "
        "ones (video-parallel: that many per stream, pooled); the warm-up is in no figure. "
        "Percentiles are of the timed steps (numpy's linear interpolation); the split is the "
        "median step's own time in each model (the public <code>model_stats</code>) and the "
        f"rest on the host. Command: <code>{_e(run.command)}</code></p>"
    )


def _flags(flags: str) -> str:
    chosen = [f for f in flags.split() if f in SIMD_FLAGS or f.startswith(SIMD_PREFIXES)]
    return " ".join(chosen) or "none of the vector extensions ONNX Runtime uses"


def _machine_rows(run: BenchRun) -> list[tuple[str, str]]:
    m = run.machine
    packages = ", ".join(f"{name} {version}" for name, version in m.get("packages", {}).items())
    return [
        ("CPU", m["cpu"]),
        ("vector flags", _flags(m.get("cpu_flags", ""))),
        ("logical cores", m["logical_cores"]),
        ("GPU and driver", m.get("gpu") or "none found"),
        ("ONNX Runtime", f"{m['onnxruntime']} ({m['providers']})"),
        ("packages", packages),
        ("Python", m["python"]),
        ("platform", m["platform"]),
    ]


def _machine(run: BenchRun) -> str:
    rows = [[(name, None), (value, None)] for name, value in _machine_rows(run)]
    return _table("machine", [], rows)


def run_page(run: BenchRun) -> str:
    """The page of one run: answers, the cases table, the charts, the machine."""
    rows = [Row(c.label, c, MEDIAPIPE if c.is_mediapipe else OURS) for c in run.cases]
    machine = run.machine
    title = f"blazepose bench: {machine['cpu']}, {machine['logical_cores']} logical cores"
    return _page(
        title,
        [
            "<h2>Which backend is fastest here</h2>",
            _answers(run),
            "<h2>Cases</h2>",
            _method(run),
            _cases_table(run),
            "<h2>Charts</h2>",
            _charts(rows),
            "<h2>Machine</h2>",
            _machine(run),
        ],
    )


def _runs_table(runs: Sequence[BenchRun]) -> str:
    header = ["run", "CPU", "logical cores", "GPU", "ONNX Runtime", "steps", "command"]
    rows = [
        [
            (r.name, None),
            (r.machine["cpu"], None),
            (r.machine["logical_cores"], None),
            (r.machine.get("gpu") or "none", None),
            (r.machine["onnxruntime"], None),
            (f"{r.iterations} after {r.warmup} warm-up", None),
            (r.command, None),
        ]
        for r in runs
    ]
    return _table("runs", header, rows)


def _ratios_table(runs: Sequence[BenchRun]) -> str:
    base = runs[0]
    header = [
        "case",
        "run",
        f"{base.name} p50 ms",
        "p50 ms",
        "time vs first",
        "time ratio",
        "frames/s ratio",
        f"{base.name} p90/p50",
        "p90/p50",
    ]
    rows = [
        [
            (pair.base.label, None),
            (run.name, None),
            (_ms(pair.base.p("total", "p50")), "base_p50"),
            (_ms(pair.other.p("total", "p50")), "p50"),
            (faster_or_slower(pair.time_ratio), None),
            (f"{pair.time_ratio:.3f}", "time_ratio"),
            (f"{pair.fps_ratio:.3f}", "fps_ratio"),
            (f"{spread(pair.base):.2f}", "base_spread"),
            (f"{spread(pair.other):.2f}", "spread"),
        ]
        for run in runs[1:]
        for pair in pairs(base, run)
    ]
    return _table("ratios", header, rows)


def compare_rows(runs: Sequence[BenchRun]) -> list[Row]:
    """Chart rows grouped by case (in order of first appearance), one per run that has it."""
    keys = list(dict.fromkeys(case.key for run in runs for case in run.cases))
    by_run = [{case.key: case for case in run.cases} for run in runs]
    return [
        Row(f"{cases[key].label} · {run.name}", cases[key], RUN_COLOURS[k % len(RUN_COLOURS)])
        for key in keys
        for k, (run, cases) in enumerate(zip(runs, by_run, strict=True))
        if key in cases
    ]


def compare_page(runs: Sequence[BenchRun]) -> str:
    """The page of several runs against the first: notes, ratios, charts grouped by case."""
    problems = "".join(f'<p class="note">{_e(line)}</p>' for line in notes(runs)) or (
        "<p>Same inputs, steps and warm-up in every run; no case is noisy.</p>"
    )
    return _page(
        f"blazepose bench compare: {len(runs)} runs against {runs[0].name}",
        [
            "<h2>Runs</h2>",
            _runs_table(runs),
            "<h2>Can they be compared?</h2>",
            problems,
            "<h2>Against the first run</h2>",
            "<p>Time ratio: a case's median step time over the first run's (below 1: faster); "
            "p90/p50 is each run's spread.</p>",
            _ratios_table(runs),
            "<h2>Charts, grouped by case</h2>",
            _charts(compare_rows(runs)),
        ],
    )

"""The report's three charts as inline SVG (matplotlib, no pyplot state): latency boxes,
frames per second, and the split of the median step into detector, landmarker and host time.

Each chart draws one row per `Row`; every drawn row element carries an SVG id
(`latency-<k>`, `fps-<k>`, `split-<k>-<stage>`) so that a browser's DOM can be counted.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from blazepose_onnx.bench.results import SPLIT, CaseResult

OURS, MEDIAPIPE = "#1f6fb4", "#e8710a"
STAGE_COLOURS = {"detector": "#4c72b0", "landmarker": "#55a868", "other": "#c4a000"}
if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text: small, selectable, the page's font
    "svg.hashsalt": "blazepose-report",  # the same JSON gives the same page, byte for byte
    "font.size": 9,
}


@dataclass(frozen=True)
class Row:
    """One bar or box of a chart: a case, its label and colour."""

    label: str
    case: CaseResult
    colour: str


def _figure(rows: Sequence[Row], title: str, xlabel: str) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(9.0, 0.9 + 0.32 * len(rows)), layout="constrained")
    axes = figure.subplots()
    axes.set_title(title, loc="left")
    axes.set_xlabel(xlabel)
    axes.set_yticks(range(len(rows)), [row.label for row in rows])
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.grid(axis="x", alpha=0.3)
    return figure, axes


def _svg(figure: Figure) -> str:
    """`figure` as an `<svg>` element to inline in HTML (no XML prologue)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def latency_chart(rows: Sequence[Row]) -> str:
    """Per row a box of the timed steps' milliseconds: box from the 25th to the 75th
    percentile, line at the median (p50), diamond at p90, whisker from the fastest step to p99,
    dots for the steps above p99."""
    with matplotlib.rc_context(STYLE):
        figure, axes = _figure(rows, "Latency per step (ms)", "ms per step")
        for k, row in enumerate(rows):
            steps = np.array(row.case.samples_ms["total"])
            q1, q3 = np.percentile(steps, (25, 75))
            p50, p90, p99 = (row.case.p("total", q) for q in ("p50", "p90", "p99"))
            axes.hlines(k, steps.min(), p99, colors=row.colour, linewidth=1)
            box = axes.barh(
                k, q3 - q1, left=q1, height=0.55, color=row.colour, alpha=0.35, edgecolor=row.colour
            )
            box[0].set_gid(f"latency-{k}")
            axes.vlines(p50, k - 0.3, k + 0.3, colors="black", linewidth=2)
            axes.plot([p90], [k], marker="D", color="black", markersize=4)
            axes.plot([p99], [k], marker="|", color="black", markersize=10)
            slow = steps[steps > p99]
            axes.plot(slow, np.full(len(slow), k), ".", color=row.colour, markersize=3)
        axes.set_xlim(left=0)
        return _svg(figure)


def fps_chart(rows: Sequence[Row]) -> str:
    """Frames per second per row, the value written beside each bar."""
    with matplotlib.rc_context(STYLE):
        figure, axes = _figure(rows, "Throughput (frames per second)", "frames/s")
        for k, row in enumerate(rows):
            fps = row.case.frames_per_second
            (bar,) = axes.barh(k, fps, height=0.6, color=row.colour)
            bar.set_gid(f"fps-{k}")
            axes.annotate(f" {fps:.1f}", (fps, k), va="center", fontsize=8)
        axes.margins(x=0.12)
        return _svg(figure)


def split_chart(rows: Sequence[Row]) -> str:
    """Detector, landmarker and host ("other") milliseconds of each row's median step, stacked;
    a row without the split (MediaPipe) is its median total, hatched."""
    with matplotlib.rc_context(STYLE):
        figure, axes = _figure(rows, "Where the median step's time goes (ms)", "ms")
        for k, row in enumerate(rows):
            split = row.case.median_step_split()
            if split is None:
                (bar,) = axes.barh(
                    k,
                    row.case.p("total", "p50"),
                    height=0.6,
                    color="white",
                    edgecolor=row.colour,
                    hatch="///",
                    label="total, not split",
                )
                bar.set_gid(f"split-{k}-total")
                continue
            left = 0.0
            for stage in SPLIT:
                (bar,) = axes.barh(
                    k, split[stage], left=left, height=0.6, color=STAGE_COLOURS[stage], label=stage
                )
                bar.set_gid(f"split-{k}-{stage}")
                left += split[stage]
        handles, labels = axes.get_legend_handles_labels()
        named = dict(zip(labels, handles, strict=True))  # one entry per stage
        figure.legend(named.values(), named.keys(), loc="outside right upper", fontsize=8)
        return _svg(figure)

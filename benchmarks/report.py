"""Markdown report of a pytest-benchmark JSON file: ours vs MediaPipe per group, with ratios.

python benchmarks/report.py results.json

Every number comes from the per-round samples the suites record (`timed_rounds` in conftest.py,
each inside pytest-benchmark's own timed call): a row is the case's median round, its total and
that same round's split into detector, landmarker and the rest, so the split adds up to the total.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

from blazepose_onnx.bench.results import median_step


def _label(bench: dict) -> str:
    info = bench["extra_info"]
    if info.get("impl") == "mediapipe":
        return "MediaPipe 1.2.2"
    return f"blazepose-onnx ({info.get('provider', 'cpu')}, threads={info.get('threads', 'all')})"


def median_round(bench: dict) -> dict[str, float]:
    """The round with the median total (`median_step`), ms per stage."""
    step = median_step(bench["extra_info"]["step_seconds"])
    return {stage: seconds * 1e3 for stage, seconds in step.items()}


def _split(round_ms: dict[str, float]) -> list[str]:
    """Detector, landmarker and other (with its share) cells; empty without a split."""
    if "detector" not in round_ms:
        return ["", "", ""]
    share = round_ms["other"] / round_ms["total"] * 100
    return [
        f"{round_ms['detector']:.1f}",
        f"{round_ms['landmarker']:.1f}",
        f"{round_ms['other']:.2f} ({share:.0f}%)",
    ]


def report(data: dict) -> str:
    groups: dict[str, list[dict]] = defaultdict(list)
    for bench in data["benchmarks"]:
        groups[bench["group"]].append(bench)
    machine = data.get("machine_info", {})
    rounds = " or ".join(str(n) for n in sorted({b["stats"]["rounds"] for b in data["benchmarks"]}))
    lines = [
        f"Machine: {machine.get('cpu', {}).get('brand_raw', '?')}, "
        f"{machine.get('cpu', {}).get('count', '?')} logical cores; per case its median round "
        f"(of {rounds}), split within that round.",
        "",
        "| case | implementation | median ms | vs MediaPipe | detector ms | landmarker ms "
        "| other ms (share) |",
        "|---|---|---|---|---|---|---|",
    ]
    for group, benches in sorted(groups.items()):
        reference = next((b for b in benches if b["extra_info"].get("impl") == "mediapipe"), None)
        reference_ms = median_round(reference)["total"] if reference else None
        for bench in sorted(benches, key=_label):
            round_ms = median_round(bench)
            ratio = f"{round_ms['total'] / reference_ms:.2f}x" if reference_ms else "n/a"
            lines.append(
                f"| {group} | {_label(bench)} | {round_ms['total']:.1f} | {ratio} | "
                + " | ".join(_split(round_ms))
                + " |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        print(report(json.load(handle)))

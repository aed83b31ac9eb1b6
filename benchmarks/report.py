"""Markdown report of a pytest-benchmark JSON file: ours vs MediaPipe per group, with ratios.

python benchmarks/report.py results.json
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def _label(bench: dict) -> str:
    info = bench["extra_info"]
    if info.get("impl") == "mediapipe":
        return "MediaPipe 1.2.2"
    return f"blazepose-onnx ({info.get('provider', 'cpu')}, threads={info.get('threads', 'all')})"


def report(data: dict) -> str:
    groups: dict[str, list[dict]] = defaultdict(list)
    for bench in data["benchmarks"]:
        groups[bench["group"]].append(bench)
    machine = data.get("machine_info", {})
    lines = [
        f"Machine: {machine.get('cpu', {}).get('brand_raw', '?')}, "
        f"{machine.get('cpu', {}).get('count', '?')} logical cores; "
        f"medians of {data['benchmarks'][0]['stats']['rounds']} rounds.",
        "",
        "| case | implementation | median ms | vs MediaPipe | detector ms | landmarker ms "
        "| other ms (share) |",
        "|---|---|---|---|---|---|---|",
    ]
    for group, benches in sorted(groups.items()):
        reference = next((b for b in benches if b["extra_info"].get("impl") == "mediapipe"), None)
        for bench in sorted(benches, key=_label):
            median = bench["stats"]["median"] * 1e3
            ratio = f"{median / (reference['stats']['median'] * 1e3):.2f}x" if reference else "n/a"
            info = bench["extra_info"]
            split = ["", "", ""]
            if "total_ms" in info:
                share = info["other_ms"] / info["total_ms"] * 100
                split = [
                    f"{info['detector_ms']:.1f}",
                    f"{info['landmarker_ms']:.1f}",
                    f"{info['other_ms']:.2f} ({share:.0f}%)",
                ]
            lines.append(
                f"| {group} | {_label(bench)} | {median:.1f} | {ratio} | "
                + " | ".join(split)
                + " |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        print(report(json.load(handle)))

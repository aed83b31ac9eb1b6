"""The legacy `solutions.pose.Pose` against MediaPipe 0.10.21's own, in one run.

    python benchmarks/legacy_bench.py [--rounds 3] [--calls 40] [--json legacy_bench.json]

Needs MediaPipe 0.10.21 next to the project (docs/install.md#beside-mediapipe gives the pins).
Per model complexity: ms per IMAGE call (static_image_mode, sample photo) and per tracked VIDEO
frame (the sample clip), each implementation timed in interleaved rounds; the median of the
round medians is reported with our/their ratio. MediaPipe uses one core; ours default threads.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from blazepose_onnx import samples
from blazepose_onnx.bench.timing import time_steps
from blazepose_onnx.io.video_reader import read_frames
from blazepose_onnx.solutions import pose as ours


def _median_ms(step, calls: int) -> float:
    return float(np.median(time_steps(step, calls)["total"]) * 1e3)


def _cases(pose_module, complexity: int, image: np.ndarray, frames: list) -> dict:
    still = pose_module.Pose(static_image_mode=True, model_complexity=complexity)
    video = pose_module.Pose(model_complexity=complexity)
    for frame in frames[:5]:  # warm up; the stream then tracks
        video.process(frame)
    still.process(image)
    index = iter(range(10**9))
    return {
        "image": (lambda: still.process(image), still),
        "video": (lambda: video.process(frames[5 + next(index) % (len(frames) - 5)]), video),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    try:
        import mediapipe as mp
    except ImportError:
        print(
            "MediaPipe 0.10.21 is not installed here (docs/install.md#beside-mediapipe)",
            file=sys.stderr,
        )
        return 1
    image = cv2.cvtColor(cv2.imread(str(samples.IMAGE)), cv2.COLOR_BGR2RGB)
    frames = read_frames(str(samples.VIDEO))
    rows = []
    for complexity in (0, 1, 2):
        impls = {
            "blazepose-onnx": _cases(ours, complexity, image, frames),
            f"mediapipe {mp.__version__}": _cases(mp.solutions.pose, complexity, image, frames),
        }
        for mode in ("image", "video"):
            medians: dict[str, list[float]] = {name: [] for name in impls}
            for _ in range(args.rounds):
                for name, cases in impls.items():
                    medians[name].append(_median_ms(cases[mode][0], args.calls))
            result = {name: float(np.median(values)) for name, values in medians.items()}
            ours_ms, theirs_ms = result.values()
            rows.append(
                {"complexity": complexity, "mode": mode, **result, "ratio": ours_ms / theirs_ms}
            )
            print(json.dumps(rows[-1]), flush=True)
        for cases in impls.values():
            for _, pose in cases.values():
                pose.close()
    print("| complexity | mode | blazepose-onnx ms | MediaPipe 0.10.21 ms | ratio |")
    print("|---|---|---|---|---|")
    for r in rows:
        ours_ms, theirs_ms = list(r.values())[2:4]
        cells = [
            r["complexity"],
            r["mode"],
            f"{ours_ms:.1f}",
            f"{theirs_ms:.1f}",
            f"{r['ratio']:.2f}",
        ]
        print("| " + " | ".join(map(str, cells)) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

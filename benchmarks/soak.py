"""Soak test: many frames through VIDEO mode, resident memory reported at intervals.

    python benchmarks/soak.py --frames 10000 --model lite

Frames cycle through tests/data/squat.mp4 with increasing timestamps; every `--every` frames the
process's resident set size (VmRSS) is printed. After the warm-up, RSS should stay flat (growth
under 5%); the exit code is 1 when it does not.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions, RunningMode
from blazepose_onnx.io.video_reader import read_frames

CLIP = Path(__file__).resolve().parent.parent / "tests" / "data" / "squat.mp4"


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--model", default="lite")
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=1000)
    args = parser.parse_args()
    frames = read_frames(str(CLIP))
    options = PoseLandmarkerOptions(
        model=args.model, running_mode=RunningMode.VIDEO, output_segmentation_masks=True
    )
    start, baseline, readings = time.perf_counter(), None, []
    with PoseLandmarker.create_from_options(options) as landmarker:
        for i in range(args.frames):
            landmarker.detect_for_video(frames[i % len(frames)], i * 33)
            if (i + 1) % args.every == 0:
                rss = rss_mib()
                readings.append(rss)
                if i + 1 >= args.warmup and baseline is None:
                    baseline = rss
                fps = (i + 1) / (time.perf_counter() - start)
                print(f"frame {i + 1:6d}  RSS {rss:7.1f} MiB  {fps:6.1f} fps", flush=True)
    growth = (readings[-1] - baseline) / baseline * 100 if baseline else 0.0
    print(
        f"RSS after warm-up: {baseline:.1f} MiB, at the end: {readings[-1]:.1f} MiB "
        f"({growth:+.2f}%), max {max(readings):.1f} MiB"
    )
    return 0 if growth < 5.0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Cost of tracking many people, interleaved (this machine drifts 15-20% minute to minute).

    python benchmarks/people_bench.py --model lite --rounds 5

Each round times, one after the other, MediaPipe's single-person tracked VIDEO mode on the
sample clip (`blazepose bench --modes video`) and the `people` cases (`--modes people`: 1, 2 and
4 copies of the clip side by side, `person_detector="ssd"`, the default detection interval).
Per case: frames/s, and per person and frame the mean time outside the detector and the
detector's share, as ratios to the single-person frame's landmarker time (the issue's
yardstick: at most 1.15 plus the detector's share) and to its whole time but the detector.
Medians and ranges over the rounds.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from blazepose_onnx.bench.cases import case_options, time_people, time_video
from blazepose_onnx.io.video_reader import read_frames
from blazepose_onnx.samples import VIDEO


def mean_ms(samples: dict[str, list[float]], stage: str) -> float:
    return float(np.mean(samples[stage]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="lite")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--people", default="1,2,4")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", help="write every round's numbers")
    args = parser.parse_args()
    frames = read_frames(str(VIDEO))
    people = [int(n) for n in args.people.split(",")]
    timed = dict(
        options=case_options("cpu", args.model, threads=args.threads), warmup=10,
        iterations=args.iterations,
    )  # fmt: skip
    rounds = []
    for _ in range(args.rounds):
        single = time_video(frames=frames, streams=1, **timed).samples_ms
        row = {
            "single landmarker ms": mean_ms(single, "landmarker"),
            "single frame ms, without the detector": mean_ms(single, "total")
            - mean_ms(single, "detector"),
            "people": {},
        }
        for count in people:
            samples = time_people(frames=frames, people=count, **timed).samples_ms
            total, detector = mean_ms(samples, "total"), mean_ms(samples, "detector")
            row["people"][count] = {
                "frames/s": 1000 / total,
                "ms per person, without the detector": (total - detector) / count,
                "detector ms per person": detector / count,
            }
        rounds.append(row)
        print(json.dumps(row), flush=True)
    print(f"{args.model}, medians (ranges) over {args.rounds} interleaved rounds:")
    single = [r["single landmarker ms"] for r in rounds]
    whole = [r["single frame ms, without the detector"] for r in rounds]
    print(
        f"single-person tracked frame: landmarker {np.median(single):.2f} ms, all but the "
        f"detector {np.median(whole):.2f} ms"
    )
    for count in people:
        cells = {key: [r["people"][count][key] for r in rounds] for key in rounds[0]["people"][1]}
        ratio = [
            r["people"][count]["ms per person, without the detector"] / r["single landmarker ms"]
            for r in rounds
        ]
        shares = [
            r["people"][count]["detector ms per person"] / r["single landmarker ms"] for r in rounds
        ]
        line = ", ".join(
            f"{key} {np.median(v):.2f} ({min(v):.2f}-{max(v):.2f})" for key, v in cells.items()
        )
        frame_ratio = [
            r["people"][count]["ms per person, without the detector"]
            / r["single frame ms, without the detector"]
            for r in rounds
        ]
        print(
            f"{count} people: {line}; x single landmarker {np.median(ratio):.3f} "
            f"({min(ratio):.3f}-{max(ratio):.3f}) + detector {np.median(shares):.3f}; "
            f"x single frame {np.median(frame_ratio):.3f} "
            f"({min(frame_ratio):.3f}-{max(frame_ratio):.3f})"
        )
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rounds, out, indent=1)


if __name__ == "__main__":
    main()

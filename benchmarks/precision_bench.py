"""bf16 against fp32: landmark drift on the parity media, and speed side by side in one run.

Needs onnxruntime-openvino (`pip install -e ".[openvino,dev]"`); with mediapipe 1.2.2 installed
too and `--mediapipe-bundles DIR`, MediaPipe Tasks is timed in the same rounds.

    python benchmarks/precision_bench.py [--variants lite,full,heavy] [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions, RunningMode
from blazepose_onnx.backend.provider_check import bf16_problem
from blazepose_onnx.bench.timing import frame_feeder, time_steps
from blazepose_onnx.io.inputs import read_image
from blazepose_onnx.io.video_reader import read_frames

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CONFIGS = {
    "cpu fp32": {"providers": ["cpu"]},
    "openvino fp32": {"providers": ["openvino"]},
    "openvino bf16": {"providers": ["openvino"], "precision": "bf16"},
}
VIDEOS = {"squat.mp4": 1, "dance.mp4": 2}  # clip -> num_poses
IMAGE_POSES = 4


def poses(variant: str, config: dict, media: dict) -> dict[str, list]:
    """(landmarks, world) per image ('images') and per frame of each clip."""
    options = PoseLandmarkerOptions(model=variant, num_poses=IMAGE_POSES, **config)
    with PoseLandmarker.create_from_options(options) as landmarker:
        found = {"images": [landmarker.detect(i).as_arrays() for i in media["images"].values()]}
    for clip, num_poses in VIDEOS.items():
        options = PoseLandmarkerOptions(
            model=variant, num_poses=num_poses, running_mode=RunningMode.VIDEO, **config
        )
        with PoseLandmarker.create_from_options(options) as landmarker:
            found[clip] = [
                landmarker.detect_for_video(frame, k * 33).as_arrays()
                for k, frame in enumerate(media[clip])
            ]
    return found


def matched(reference: tuple, other: tuple) -> tuple:
    """`other`'s poses in the order of the reference poses they are nearest to."""
    landmarks = reference[0][..., :2]
    best = min(
        itertools.permutations(range(len(landmarks))),
        key=lambda order: np.abs(other[0][list(order), :, :2] - landmarks).sum(),
    )
    return other[0][list(best)], other[1][list(best)]


def drift(reference: list, other: list) -> dict:
    """How far `other` is from `reference` where both found the same number of poses (poses
    paired by position, not by order)."""
    same = [(r, o) for r, o in zip(reference, other, strict=True) if len(r[0]) == len(o[0])]
    pairs = [(r, matched(r, o)) for r, o in same if len(r[0])]
    xy = np.concatenate([np.abs(o[0][..., :2] - r[0][..., :2]).ravel() for r, o in pairs])
    world = np.concatenate([np.linalg.norm(o[1] - r[1], axis=-1).ravel() * 1000 for r, o in pairs])
    visibility = np.concatenate([np.abs(o[0][..., 3] - r[0][..., 3]).ravel() for r, o in pairs])
    return {
        "same_pose_count": len(same) / len(reference),
        "xy_mean": float(xy.mean()),
        "xy_p99": float(np.percentile(xy, 99)),
        "xy_max": float(xy.max()),
        "world_mm_mean": float(world.mean()),
        "world_mm_max": float(world.max()),
        "visibility_max": float(visibility.max()),
    }


def timed_steps(variant: str, config: dict, image: np.ndarray, frames: list) -> dict:
    """No-argument callables for one IMAGE call and one tracked VIDEO frame."""
    still = PoseLandmarker.create_from_options(PoseLandmarkerOptions(model=variant, **config))
    video = PoseLandmarker.create_from_options(
        PoseLandmarkerOptions(model=variant, running_mode=RunningMode.VIDEO, **config)
    )
    return {
        "image": lambda: still.detect(image),
        "video": frame_feeder(frames, video.detect_for_video),
    }


def mediapipe_steps(variant: str, bundles: Path, image: np.ndarray, frames: list) -> dict:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    def make(mode):
        asset = BaseOptions(model_asset_path=str(bundles / f"pose_landmarker_{variant}.task"))
        options = vision.PoseLandmarkerOptions(base_options=asset, running_mode=mode)
        return vision.PoseLandmarker.create_from_options(options)

    still, video = make(vision.RunningMode.IMAGE), make(vision.RunningMode.VIDEO)
    mp_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=image)
    mp_frames = [mp.Image(image_format=mp.ImageFormat.SRGB, data=f) for f in frames]
    return {
        "image": lambda: still.detect(mp_image),
        "video": frame_feeder(mp_frames, video.detect_for_video),
    }


def speed(steps: dict[str, dict], rounds: int, calls: int) -> dict:
    """Median over interleaved rounds of each round's median ms per call."""
    medians: dict = {(name, mode): [] for name in steps for mode in steps[name]}
    for _ in range(rounds):
        for (name, mode), rounds in medians.items():
            times = time_steps(steps[name][mode], calls, warmup=3)["total"]
            rounds.append(float(np.median(times)) * 1e3)
    return {f"{name} {mode}": float(np.median(v)) for (name, mode), v in medians.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="lite,full,heavy")
    parser.add_argument("--mediapipe-bundles", type=Path)
    parser.add_argument("--max-frames", type=int, help="frames per clip (default: all)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument("--calls", type=int, default=30, help="timed calls per round and case")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    configs = dict(CONFIGS)
    if bf16_problem() is not None:
        print(f"openvino bf16 left out: {bf16_problem()}", file=sys.stderr)
        del configs["openvino bf16"]
    media: dict = {"images": {p.name: read_image(p) for p in sorted(DATA.glob("*.jpg"))}}
    media.update({clip: read_frames(str(DATA / clip), limit=args.max_frames) for clip in VIDEOS})
    report: dict = {"media": [*media["images"], *VIDEOS]}
    image, frames = media["images"]["messi5.jpg"], media["squat.mp4"]
    for variant in args.variants.split(","):
        found = {name: poses(variant, config, media) for name, config in configs.items()}
        steps = {
            name: timed_steps(variant, config, image, frames) for name, config in configs.items()
        }
        if args.mediapipe_bundles:
            steps["mediapipe 1.2.2"] = mediapipe_steps(
                variant, args.mediapipe_bundles, image, frames
            )
        report[variant] = {
            "drift_vs_cpu_fp32": {
                name: {part: drift(found["cpu fp32"][part], found[name][part]) for part in parts}
                for name, parts in found.items()
                if name != "cpu fp32"
            },
            "ms_per_call": speed(steps, args.rounds, args.calls),
        }
        print(variant, json.dumps(report[variant], indent=1), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

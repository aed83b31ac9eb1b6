"""Golden outputs from MediaPipe itself, for the parity tests.

Runs MediaPipe's PoseLandmarker (mediapipe==1.2.2, in its own virtual environment, never a
project dependency) on tests/data with MediaPipe-loadable bundles (see add_metadata.py), and
writes tests/golden/image.json and tests/golden/video.json. Regenerate with
tests/golden/regenerate.sh.

    python make_goldens.py BUNDLE_DIR OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions, vision

DATA = Path(__file__).resolve().parent.parent / "data"
VARIANTS = ("lite", "full", "heavy")
IMAGES = ("astronaut.jpg", "bus.jpg", "messi5.jpg", "zidane.jpg")
VIDEOS = {"squat.mp4": 1, "dance.mp4": 3}  # clip -> num_poses
VIDEO_FRAMES = 120
DECIMALS = 6


def _landmarks(lists) -> list:
    return [
        [[round(v, DECIMALS) for v in (p.x, p.y, p.z, p.visibility, p.presence)] for p in pose]
        for pose in lists
    ]


def mask_rle(mask: np.ndarray) -> dict:
    """Run lengths of the mask > 0.5, row-major, starting with a run of zeros."""
    flat = (mask.reshape(mask.shape[0], mask.shape[1]) > 0.5).ravel().astype(np.int8)
    changes = np.flatnonzero(np.diff(np.concatenate([[0], flat, [1 - flat[-1]]])))
    return {"shape": list(mask.shape[:2]), "runs": np.diff(np.concatenate([[0], changes])).tolist()}


def _result(result, with_masks: bool) -> dict:
    out = {
        "landmarks": _landmarks(result.pose_landmarks),
        "world_landmarks": _landmarks(result.pose_world_landmarks),
    }
    if with_masks:
        out["masks"] = [mask_rle(m.numpy_view()) for m in result.segmentation_masks or []]
    return out


def _options(bundle: Path, mode, num_poses: int, masks: bool):
    return vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(bundle)),
        running_mode=mode,
        num_poses=num_poses,
        output_segmentation_masks=masks,
    )


def image_goldens(bundle_dir: Path) -> dict:
    goldens = {}
    for variant in VARIANTS:
        bundle = bundle_dir / f"pose_landmarker_{variant}.task"
        for name in IMAGES:
            rgb = cv2.cvtColor(cv2.imread(str(DATA / name)), cv2.COLOR_BGR2RGB)
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
            for num_poses in (1, 5):
                options = _options(bundle, vision.RunningMode.IMAGE, num_poses, True)
                with vision.PoseLandmarker.create_from_options(options) as landmarker:
                    result = landmarker.detect(image)
                goldens[f"{variant}/{name}/{num_poses}"] = _result(result, True)
    return goldens


def video_goldens(bundle_dir: Path) -> dict:
    goldens = {}
    for variant in VARIANTS:
        bundle = bundle_dir / f"pose_landmarker_{variant}.task"
        for name, num_poses in VIDEOS.items():
            capture = cv2.VideoCapture(str(DATA / name))
            frames = []
            options = _options(bundle, vision.RunningMode.VIDEO, num_poses, False)
            with vision.PoseLandmarker.create_from_options(options) as landmarker:
                for index in range(VIDEO_FRAMES):
                    ok, frame = capture.read()
                    if not ok:
                        break
                    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                    image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
                    frames.append(_result(landmarker.detect_for_video(image, index * 33), False))
            goldens[f"{variant}/{name}/{num_poses}"] = frames
    return goldens


def main(bundle_dir: str, out_dir: str) -> None:
    out = Path(out_dir)
    meta = {"mediapipe": mp.__version__, "video_timestamp_step_ms": 33}
    for kind, make in (("image", image_goldens), ("video", video_goldens)):
        data = {"meta": meta, "goldens": make(Path(bundle_dir))}
        (out / f"{kind}.json").write_text(json.dumps(data, separators=(",", ":")))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

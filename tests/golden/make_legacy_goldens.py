"""Golden outputs of MediaPipe's legacy `mp.solutions.pose` (mediapipe==0.10.21, the last
release that has it), for the parity tests of `blazepose_onnx.solutions.pose`.

Two steps, two environments (regenerate_legacy.sh runs both):

    python make_legacy_goldens.py decode WORK          # the project's Python and OpenCV
    python make_legacy_goldens.py run WORK OUT_DIR     # mediapipe 0.10.21's own venv

`decode` writes the test images and the first frames of the clips, decoded by the project's
OpenCV, to WORK/inputs.npz with their sha256, so both sides see the same pixels; `run` checks the
hashes, copies the lite/heavy landmarkers from WORK (0.10.21 would download them) and writes
OUT_DIR/legacy.json.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "data"
IMAGES = ("astronaut.jpg", "bus.jpg", "messi5.jpg", "zidane.jpg")
CLIPS = ("squat.mp4", "dance.mp4")
FRAMES = 60
MASK_EVERY = 15  # video masks are stored for every 15th frame (size)
DECIMALS = 6
LANDMARKERS = {0: "lite", 2: "heavy"}  # complexity 1 (full) ships in the wheel


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def decode(work: Path) -> None:
    import cv2

    from blazepose_onnx.converter.bundle import read_bundle
    from blazepose_onnx.converter.paths import bundle_path
    from blazepose_onnx.io.video_reader import read_frames

    arrays = {
        name: cv2.cvtColor(cv2.imread(str(DATA / name)), cv2.COLOR_BGR2RGB) for name in IMAGES
    }
    for clip in CLIPS:
        arrays[clip] = np.stack(read_frames(str(DATA / clip), limit=FRAMES))
    work.mkdir(parents=True, exist_ok=True)
    np.savez(work / "inputs.npz", **arrays)
    (work / "inputs.sha256.json").write_text(json.dumps({k: digest(v) for k, v in arrays.items()}))
    for variant in LANDMARKERS.values():
        landmarker = read_bundle(bundle_path(variant)).landmarker
        (work / f"pose_landmark_{variant}.tflite").write_bytes(landmarker)


def mask_rle(mask: np.ndarray) -> dict:
    """Run lengths of mask > 0.5, row-major, starting with a run of zeros."""
    flat = (mask > 0.5).ravel().astype(np.int8)
    changes = np.flatnonzero(np.diff(np.concatenate([[0], flat, [1 - flat[-1]]])))
    return {"shape": list(mask.shape[:2]), "runs": np.diff(np.concatenate([[0], changes])).tolist()}


def _landmarks(landmark_list) -> list | None:
    if landmark_list is None:
        return None
    return [
        [round(v, DECIMALS) for v in (p.x, p.y, p.z, p.visibility)] for p in landmark_list.landmark
    ]


def _record(results, with_mask: bool) -> dict:
    record = {
        "landmarks": _landmarks(results.pose_landmarks),
        "world_landmarks": _landmarks(results.pose_world_landmarks),
    }
    if with_mask and results.segmentation_mask is not None:
        record["mask"] = mask_rle(results.segmentation_mask)
    return record


def run(work: Path, out_dir: Path) -> None:
    import mediapipe as mp

    package = Path(mp.__file__).parent / "modules" / "pose_landmark"
    for variant in LANDMARKERS.values():
        shutil.copy(work / f"pose_landmark_{variant}.tflite", package)
    inputs = np.load(work / "inputs.npz")
    expected = json.loads((work / "inputs.sha256.json").read_text())
    for name in expected:
        if digest(inputs[name]) != expected[name]:
            raise SystemExit(f"{name}: decoded pixels differ between the environments")
    pose = mp.solutions.pose
    goldens: dict = {}
    for complexity in (0, 1, 2):
        with pose.Pose(static_image_mode=True, model_complexity=complexity,
                       enable_segmentation=True) as model:  # fmt: skip
            for name in IMAGES:
                goldens[f"image/{complexity}/{name}"] = _record(model.process(inputs[name]), True)
        for clip in CLIPS:
            for smooth in (True, False):
                settings = {"smooth_landmarks": smooth, "smooth_segmentation": smooth}
                with pose.Pose(
                    model_complexity=complexity, enable_segmentation=True, **settings
                ) as model:
                    goldens[f"video/{complexity}/{clip}/smooth={smooth}"] = [
                        _record(model.process(frame), k % MASK_EVERY == 0)
                        for k, frame in enumerate(inputs[clip])
                    ]
    meta = {"mediapipe": mp.__version__, "frames": FRAMES, "mask_every": MASK_EVERY}
    (out_dir / "legacy.json").write_text(
        json.dumps({"meta": meta, "goldens": goldens}, separators=(",", ":"))
    )


if __name__ == "__main__":
    if sys.argv[1] == "decode":
        decode(Path(sys.argv[2]))
    else:
        run(Path(sys.argv[2]), Path(sys.argv[3]))

"""`solutions.pose.Pose` against MediaPipe 0.10.21's own `mp.solutions.pose` (goldens made by
tests/golden/make_legacy_goldens.py from pixels decoded by this project's OpenCV).

Measured (mean |dx|,|dy| over landmarks MediaPipe reports visible):
- IMAGE (static_image_mode, segmentation on), every complexity: the same pose-found decision on
  every image; 0.0005-0.0022, astronaut lite 0.0065 (its ROI is 2.4x the image); world landmarks
  0.7-5.4 mm; mask IoU 0.979-0.998.
- VIDEO, 60 frames, smoothing on and off, segmentation on: squat 0.0005-0.0008 per frame (world
  2.5-3.8 mm, mask IoU >= 0.97); dance (one small dancer of three, tracked): heavy 0.0014-0.0016,
  lite and full 0.006-0.009 median, where the heavily smoothed tracking ROI (one-euro 0.01/10 on
  the auxiliary points) carries sub-pixel differences from frame to frame.
Thresholds sit just above these. Tasks' tracking rule (the next ROI from the raw auxiliary points)
fails them: squat 0.0015-0.0017.
With OpenCV 4.x (the [triton] install's numpy<2 pins it there; CI's lowest-versions stage) the
decoded frames are the same, but its bilinear warps round differently from OpenCV 5 (whose
rounding MediaPipe's own build shares), and the tracked small dancer drifts off within 60 frames
(lite: median 0.012, p90 0.18). There dance is held to the pose-found agreement only; squat,
whose ROI is stable, to every bound.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from blazepose_onnx.io.video_reader import read_frames
from blazepose_onnx.solutions import pose as mp_pose

GOLDEN = json.loads((Path(__file__).parents[2] / "golden" / "legacy.json").read_text())
META, GOLDENS = GOLDEN["meta"], GOLDEN["goldens"]
IMAGE_CASES = sorted(k for k in GOLDENS if k.startswith("image/"))
VIDEO_CASES = sorted(k for k in GOLDENS if k.startswith("video/"))
OPENCV_MAJOR = int(cv2.__version__.split(".")[0])


def decode_rle(mask: dict) -> np.ndarray:
    runs = np.asarray(mask["runs"])
    return np.repeat(np.arange(len(runs)) % 2, runs).reshape(mask["shape"]).astype(bool)


def iou(ours: np.ndarray, gold: dict) -> float:
    a, b = ours > 0.5, decode_rle(gold)
    return float((a & b).sum() / (a | b).sum())


@pytest.fixture(scope="module")
def clips(data_dir):
    return {
        name: read_frames(str(data_dir / name), limit=META["frames"])
        for name in ("squat.mp4", "dance.mp4")
    }


@pytest.mark.parametrize("case", IMAGE_CASES)
def test_image_parity_with_mediapipe_legacy(case, images, model_dir):
    _, complexity, name = case.split("/")
    gold = GOLDENS[case]
    with mp_pose.Pose(
        static_image_mode=True, model_complexity=int(complexity), enable_segmentation=True
    ) as pose:
        results = pose.process(images[Path(name).stem])
    assert (results.pose_landmarks is None) == (gold["landmarks"] is None), case
    if gold["landmarks"] is None:
        assert results.pose_world_landmarks is None and results.segmentation_mask is None
        return
    ours, expected = results.pose_landmarks.to_array(), np.array(gold["landmarks"])
    visible = expected[:, 3] >= 0.5
    xy = np.abs(ours[:, :2] - expected[:, :2])
    assert xy[visible].mean() <= 0.007 and xy.max() <= 0.06, (case, xy[visible].mean(), xy.max())
    assert np.abs(ours[:, 3] - expected[:, 3]).mean() <= 0.02, case
    world = np.abs(
        results.pose_world_landmarks.to_array()[:, :3] - np.array(gold["world_landmarks"])[:, :3]
    )
    assert world[visible].mean() <= 0.006 and world.mean() <= 0.008, (case, world.mean())
    assert iou(results.segmentation_mask, gold["mask"]) >= 0.97, case


@pytest.mark.slow
@pytest.mark.parametrize("case", VIDEO_CASES)
def test_video_parity_with_mediapipe_legacy(case, clips, model_dir):
    _, complexity, clip, smooth = case.split("/")
    smooth = smooth == "smooth=True"
    same, means, visible, world, ious = 0, [], [], [], []
    with mp_pose.Pose(
        model_complexity=int(complexity),
        smooth_landmarks=smooth,
        enable_segmentation=True,
        smooth_segmentation=smooth,
    ) as pose:
        for frame, gold in zip(clips[clip], GOLDENS[case], strict=True):
            results = pose.process(frame)
            if (results.pose_landmarks is None) != (gold["landmarks"] is None):
                continue
            same += 1
            if gold["landmarks"] is None:
                continue
            ours, expected = results.pose_landmarks.to_array(), np.array(gold["landmarks"])
            xy = np.abs(ours[:, :2] - expected[:, :2])
            means.append(xy.mean())
            visible.extend(xy[expected[:, 3] >= 0.5].ravel())
            gold_world = np.array(gold["world_landmarks"])[:, :3]
            world.append(np.abs(results.pose_world_landmarks.to_array()[:, :3] - gold_world).mean())
            if "mask" in gold:
                ious.append(iou(results.segmentation_mask, gold["mask"]))
    means, agreement = np.array(means), same / len(GOLDENS[case])
    if clip == "squat.mp4":
        assert agreement == 1.0, case
        assert means.mean() <= 0.0012, (case, means.mean())
        assert np.quantile(visible, 0.99) <= 0.006, (case, np.quantile(visible, 0.99))
        assert np.mean(world) <= 0.005, (case, np.mean(world))
        assert min(ious) >= 0.96, (case, min(ious))
    else:
        limit = 0.003 if complexity == "2" else 0.012  # see the module docstring
        assert agreement >= 0.95, (case, agreement)
        if OPENCV_MAJOR < 5:
            return  # its warps round differently: the tracked dancer drifts (docstring)
        assert np.median(means) <= limit, (case, np.median(means))
        assert np.quantile(means, 0.9) <= 2.5 * limit, (case, np.quantile(means, 0.9))
        assert np.median(world) <= (0.01 if complexity == "2" else 0.04), case
        assert np.mean(ious) >= 0.92, (case, np.mean(ious))

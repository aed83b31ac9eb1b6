"""IMAGE-mode parity with MediaPipe 1.2.2 (goldens made by tests/golden/make_goldens.py).

Thresholds (normalised image units, metres for world landmarks), per matched pose:
- landmarks MediaPipe reports visible (visibility >= 0.5): mean |dx|,|dy| <= 0.005, max <= 0.03;
- all 33 landmarks: mean <= 0.006, max <= 0.05 (out-of-frame, extrapolated landmarks move with
  single-pixel rounding differences; see docs/performance.md#parity-with-mediapipe);
- mean |d visibility|, |d presence| <= 0.02;
- world landmarks mean |d| <= 0.006 m over visible landmarks, <= 0.008 m over all;
- segmentation mask IoU at 0.5 >= 0.97.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

GOLDEN = json.loads((Path(__file__).parent.parent / "golden" / "image.json").read_text())["goldens"]
CASES = sorted(GOLDEN)


def decode_rle(mask: dict) -> np.ndarray:
    runs = np.asarray(mask["runs"])
    return np.repeat(np.arange(len(runs)) % 2, runs).reshape(mask["shape"]).astype(bool)


def pose_differences(
    ours: np.ndarray, world: np.ndarray, gold: np.ndarray, gold_world: np.ndarray
) -> dict:
    visible = gold[:, 3] >= 0.5
    xy = np.abs(ours[:, :2] - gold[:, :2])
    return {
        "visible_mean": xy[visible].mean() if visible.any() else 0.0,
        "visible_max": xy[visible].max() if visible.any() else 0.0,
        "all_mean": xy.mean(),
        "all_max": xy.max(),
        "visibility": np.abs(ours[:, 3] - gold[:, 3]).mean(),
        "presence": np.abs(ours[:, 4] - gold[:, 4]).mean(),
        "world_visible": np.abs(world - gold_world[:, :3])[visible].mean()
        if visible.any()
        else 0.0,
        "world_all": np.abs(world - gold_world[:, :3]).mean(),
    }


def assert_pose_parity(diff: dict, label: str) -> None:
    assert diff["visible_mean"] <= 0.005, (label, diff)
    assert diff["visible_max"] <= 0.03, (label, diff)
    assert diff["all_mean"] <= 0.006, (label, diff)
    assert diff["all_max"] <= 0.05, (label, diff)
    assert diff["visibility"] <= 0.02 and diff["presence"] <= 0.02, (label, diff)
    assert diff["world_visible"] <= 0.006, (label, diff)
    assert diff["world_all"] <= 0.008, (label, diff)


@pytest.mark.parametrize("case", CASES)
def test_image_parity_with_mediapipe(case, landmarker_factory, images):
    variant, image_name, num_poses = case.split("/")
    gold = GOLDEN[case]
    result = landmarker_factory(variant, int(num_poses), masks=True).detect(
        images[Path(image_name).stem]
    )
    landmarks, world = result.as_arrays()
    assert len(landmarks) == len(gold["landmarks"]), case
    for i, (gold_pose, gold_world) in enumerate(
        zip(gold["landmarks"], gold["world_landmarks"], strict=True)
    ):
        diff = pose_differences(landmarks[i], world[i], np.array(gold_pose), np.array(gold_world))
        assert_pose_parity(diff, case)
        ours_mask = result.segmentation_masks[i] > 0.5
        gold_mask = decode_rle(gold["masks"][i])
        iou = (ours_mask & gold_mask).sum() / (ours_mask | gold_mask).sum()
        assert iou >= 0.97, (case, iou)

"""Drawing utilities on a real result."""

from __future__ import annotations

import numpy as np
import pytest

from blazepose_onnx import POSE_CONNECTIONS, PoseLandmark
from blazepose_onnx.drawing import (
    HIGH_VISIBILITY_COLOR,
    LOW_VISIBILITY_COLOR,
    draw_landmarks,
    draw_mask,
    draw_pose,
    id_color,
    visibility_colors,
)
from blazepose_onnx.results import PoseLandmarkerResult


def test_draw_landmarks_marks_the_pose_in_place(landmarker_factory, images):
    image = images["messi5"].copy()
    result = landmarker_factory("lite", masks=True).detect(image)
    canvas = image.copy()
    assert draw_landmarks(canvas, result) is canvas
    nose = result.pose_landmarks[0][PoseLandmark.NOSE]
    x, y = round(nose.x * image.shape[1]), round(nose.y * image.shape[0])
    assert tuple(canvas[y, x]) == HIGH_VISIBILITY_COLOR[:3]  # visible: green
    changed = (canvas != image).any(axis=2)
    assert changed[0:100, 0:100].sum() == 0  # the far corner (no person, no mask) is untouched
    assert changed.mean() > 0.01


def test_single_pose_list_like_mediapipe(landmarker_factory, images):
    result = landmarker_factory("lite").detect(images["messi5"])
    from_result = draw_landmarks(images["messi5"].copy(), result)
    from_list = draw_landmarks(images["messi5"].copy(), result.pose_landmarks[0], POSE_CONNECTIONS)
    np.testing.assert_array_equal(from_result, from_list)


def test_visibility_colour_scale():
    colours = visibility_colors(np.array([0.0, 1.0, 0.5]))
    assert tuple(colours[0]) == LOW_VISIBILITY_COLOR and tuple(colours[1]) == HIGH_VISIBILITY_COLOR
    assert (
        colours[2].tolist()
        == np.rint((np.array(LOW_VISIBILITY_COLOR) + HIGH_VISIBILITY_COLOR) / 2).tolist()
    )


def test_low_visibility_landmarks_can_be_hidden():
    canvas = np.zeros((100, 100, 3), np.uint8)
    landmarks = np.zeros((33, 5))
    landmarks[:, :2] = 0.5
    landmarks[:, 3] = 0.1
    draw_pose(canvas, landmarks, min_visibility=0.5)
    assert not canvas.any()
    draw_pose(canvas, landmarks)
    assert canvas.any()
    assert len(POSE_CONNECTIONS) == 35


def test_mask_overlay_and_bad_canvases():
    canvas = np.zeros((10, 20, 3), np.uint8)
    mask = np.zeros((10, 20), np.float32)
    mask[:, :10] = 1.0
    draw_mask(canvas, mask, color=(200, 0, 0), alpha=0.5)
    assert canvas[0, 0].tolist() == [100, 0, 0] and canvas[0, 15].tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="does not match"):
        draw_mask(canvas, mask[:5])
    with pytest.raises(TypeError, match="HxWx3 uint8"):
        draw_pose(np.zeros((10, 10), np.uint8), np.zeros((33, 5)))


def test_each_id_gets_its_colour_and_a_label(landmarker_factory, images):
    result = landmarker_factory("lite").detect(images["messi5"])
    landmarks, world = result.as_arrays()
    world = np.concatenate([world, landmarks[..., 3:]], axis=2)
    colours = [id_color(i) for i in range(64)]
    assert len(set(colours)) == 64  # many ids, none sharing a colour
    for pose_id in (3, 41):
        relabelled = PoseLandmarkerResult(landmarks, world, None, [pose_id])
        plain = draw_landmarks(np.zeros_like(images["messi5"]), relabelled)
        labelled = draw_landmarks(np.zeros_like(images["messi5"]), relabelled, label_ids=True)
        top = int(landmarks[0, :, 1].min() * images["messi5"].shape[0])
        text = (labelled != plain).any(axis=2)
        assert text[:top].sum() > 50  # the label, above the head
        assert (labelled[:top] == colours[pose_id]).all(axis=2).sum() > 20  # in the id's colour

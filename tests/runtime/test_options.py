"""PoseLandmarkerOptions: MediaPipe's names, defaults, ranges and errors."""

from __future__ import annotations

import pytest

from blazepose_onnx import BaseOptions, PoseLandmarkerOptions, RunningMode
from blazepose_onnx.options import MAX_NUM_POSES


def test_defaults_match_mediapipe():
    options = PoseLandmarkerOptions().validated()
    assert options.running_mode is RunningMode.IMAGE
    assert options.num_poses == 1
    assert options.min_pose_detection_confidence == 0.5
    assert options.min_pose_presence_confidence == 0.5
    assert options.min_tracking_confidence == 0.5
    assert options.output_segmentation_masks is False
    assert options.result_callback is None


def test_num_poses_unset_is_one_or_everyone_with_a_person_detector():
    """MediaPipe's 1 without a person detector (parity); everyone, up to MAX_NUM_POSES, with
    one (the one option); a value given is a cap in both cases."""
    assert PoseLandmarkerOptions().num_poses is None
    assert PoseLandmarkerOptions(person_detector="ssd").validated().num_poses == MAX_NUM_POSES
    for detector in (None, "ssd"):
        assert (
            PoseLandmarkerOptions(num_poses=3, person_detector=detector).validated().num_poses == 3
        )
    with pytest.raises(ValueError, match="num_poses"):
        PoseLandmarkerOptions(num_poses=MAX_NUM_POSES + 1, person_detector="ssd").validated()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("num_poses", 0),
        ("num_poses", 2.0),
        ("num_poses", True),
        ("min_pose_detection_confidence", 1.5),
        ("min_pose_presence_confidence", -0.1),
        ("min_tracking_confidence", "0.5"),
        ("output_segmentation_masks", 1),
        ("running_mode", "BATCH"),
        ("providers", "cpu"),
        ("providers", []),
        ("model", 3),
    ],
)
def test_bad_option_raises_value_error_naming_it(field, value):
    with pytest.raises(ValueError, match=field):
        PoseLandmarkerOptions(**{field: value}).validated()


def test_callback_rules():
    with pytest.raises(ValueError, match="result_callback must not be provided in IMAGE"):
        PoseLandmarkerOptions(result_callback=print).validated()
    with pytest.raises(ValueError, match="result_callback must be provided in LIVE_STREAM"):
        PoseLandmarkerOptions(running_mode=RunningMode.LIVE_STREAM).validated()


def test_mediapipe_style_base_options_and_string_mode():
    options = PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path="x.task"), running_mode="video"
    ).validated()
    assert options.model == "x.task" and options.running_mode is RunningMode.VIDEO

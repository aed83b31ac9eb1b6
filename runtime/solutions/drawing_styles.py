"""MediaPipe's legacy `drawing_styles` for pose: left side orange, right side cyan (BGR)."""

from __future__ import annotations

from collections.abc import Mapping

from blazepose_onnx.landmarks import PoseLandmark
from blazepose_onnx.solutions.drawing_utils import WHITE_COLOR, DrawingSpec

POSE_LANDMARK_THICKNESS = 2
LEFT_COLOR = (0, 138, 255)
RIGHT_COLOR = (231, 217, 0)


def get_default_pose_landmarks_style() -> Mapping[int, DrawingSpec]:
    """A DrawingSpec per pose landmark: left side, right side and the nose."""
    left = DrawingSpec(color=LEFT_COLOR, thickness=POSE_LANDMARK_THICKNESS)
    right = DrawingSpec(color=RIGHT_COLOR, thickness=POSE_LANDMARK_THICKNESS)
    style: dict[int, DrawingSpec] = {
        landmark: left if "LEFT" in landmark.name else right
        for landmark in PoseLandmark
        if landmark is not PoseLandmark.NOSE
    }
    style[PoseLandmark.NOSE] = DrawingSpec(color=WHITE_COLOR, thickness=POSE_LANDMARK_THICKNESS)
    return style

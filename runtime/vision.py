"""MediaPipe's `vision` namespace for the pose landmarker, so ported code keeps its names:
`vision.PoseLandmarker`, `vision.PoseLandmarkerOptions`, `vision.RunningMode`,
`vision.PoseLandmarksConnections.POSE_LANDMARKS`, and the `drawing_utils` and `drawing_styles`
modules MediaPipe's Tasks API has here:

    from blazepose_onnx.tasks.python import BaseOptions, vision   # was mediapipe.tasks.python
    from blazepose_onnx.tasks.python.vision import drawing_utils  # was mediapipe.tasks...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from blazepose_onnx.landmarks import POSE_CONNECTIONS, PoseLandmark
from blazepose_onnx.options import PoseLandmarkerOptions, RunningMode
from blazepose_onnx.pose_landmarker import PoseLandmarker
from blazepose_onnx.results import PoseLandmarkerResult
from blazepose_onnx.solutions import drawing_styles, drawing_utils


@dataclass(frozen=True)
class Connection:
    """Two landmark indices joined in the skeleton, as MediaPipe Tasks names them."""

    start: int
    end: int


class PoseLandmarksConnections:
    """MediaPipe Tasks' pose skeleton: `POSE_LANDMARKS`, a list of `Connection`s."""

    POSE_LANDMARKS: ClassVar[list[Connection]] = [Connection(a, b) for a, b in POSE_CONNECTIONS]
    Connection = Connection


__all__ = [
    "POSE_CONNECTIONS",
    "PoseLandmark",
    "PoseLandmarker",
    "PoseLandmarkerOptions",
    "PoseLandmarkerResult",
    "PoseLandmarksConnections",
    "RunningMode",
    "drawing_styles",
    "drawing_utils",
]

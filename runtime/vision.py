"""MediaPipe's `vision` namespace for the pose landmarker, so ported code keeps its names:
`vision.PoseLandmarker`, `vision.PoseLandmarkerOptions`, `vision.RunningMode`, ...

    from blazepose_onnx.tasks.python import BaseOptions, vision   # was mediapipe.tasks.python
"""

from blazepose_onnx.landmarks import POSE_CONNECTIONS, PoseLandmark
from blazepose_onnx.options import PoseLandmarkerOptions, RunningMode
from blazepose_onnx.pose_landmarker import PoseLandmarker
from blazepose_onnx.results import PoseLandmarkerResult

PoseLandmarksConnections = POSE_CONNECTIONS

__all__ = [
    "POSE_CONNECTIONS",
    "PoseLandmark",
    "PoseLandmarker",
    "PoseLandmarkerOptions",
    "PoseLandmarkerResult",
    "PoseLandmarksConnections",
    "RunningMode",
]

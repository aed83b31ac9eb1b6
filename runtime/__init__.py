"""blazepose-onnx runtime: MediaPipe's Pose Landmarker pipeline over ONNX Runtime.

from runtime import PoseLandmarker, PoseLandmarkerOptions
with PoseLandmarker.create_from_options(PoseLandmarkerOptions(model="full")) as landmarker:
    result = landmarker.detect(rgb_image)
"""

from runtime.errors import LandmarkerClosedError, ProviderError
from runtime.landmarks import POSE_CONNECTIONS, PoseLandmark
from runtime.multistream import MultiStreamPoseLandmarker
from runtime.options import BaseOptions, PoseLandmarkerOptions, RunningMode
from runtime.pose_landmarker import PoseLandmarker
from runtime.results import Landmark, PoseLandmarkerResult

__all__ = [
    "POSE_CONNECTIONS",
    "BaseOptions",
    "Landmark",
    "LandmarkerClosedError",
    "MultiStreamPoseLandmarker",
    "PoseLandmark",
    "PoseLandmarker",
    "PoseLandmarkerOptions",
    "PoseLandmarkerResult",
    "ProviderError",
    "RunningMode",
]

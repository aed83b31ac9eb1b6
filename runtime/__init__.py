"""blazepose-onnx: MediaPipe's Pose Landmarker pipeline over ONNX Runtime.

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions
with PoseLandmarker.create_from_options(PoseLandmarkerOptions(model="full")) as landmarker:
    result = landmarker.detect(rgb_image)

The package is the repository's `runtime/` folder; `blazepose_onnx.converter` (the `converter/`
folder) turns MediaPipe's models into ONNX, `blazepose_onnx.cli` is the command line.
"""

from importlib import metadata as _metadata
from importlib.util import find_spec as _find_spec

if _find_spec("onnxruntime") is None:
    raise ImportError(
        "blazepose-onnx needs one ONNX Runtime build and none is installed: "
        "pip install 'blazepose-onnx[cpu]' (or [gpu], [openvino], [directml])"
    )

from blazepose_onnx import solutions
from blazepose_onnx.errors import LandmarkerClosedError, ProviderError
from blazepose_onnx.landmarks import POSE_CONNECTIONS, PoseLandmark
from blazepose_onnx.mp_image import Image, ImageFormat
from blazepose_onnx.multistream import MultiStreamPoseLandmarker
from blazepose_onnx.options import BaseOptions, PoseLandmarkerOptions, RunningMode
from blazepose_onnx.pose_landmarker import PoseLandmarker
from blazepose_onnx.results import Landmark, PoseLandmarkerResult

try:
    __version__ = _metadata.version("blazepose-onnx")
except _metadata.PackageNotFoundError:  # a checkout that is not installed
    __version__ = "0+unknown"

__all__ = [
    "POSE_CONNECTIONS",
    "BaseOptions",
    "Image",
    "ImageFormat",
    "Landmark",
    "LandmarkerClosedError",
    "MultiStreamPoseLandmarker",
    "PoseLandmark",
    "PoseLandmarker",
    "PoseLandmarkerOptions",
    "PoseLandmarkerResult",
    "ProviderError",
    "RunningMode",
    "__version__",
    "solutions",
]

"""blazepose-onnx: MediaPipe's Pose Landmarker pipeline over ONNX Runtime.

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions
with PoseLandmarker.create_from_options(PoseLandmarkerOptions(model="full")) as landmarker:
    result = landmarker.detect(rgb_image)

The package is the repository's `runtime/` folder; `blazepose_onnx.converter` (the `converter/`
folder) turns MediaPipe's models into ONNX, `blazepose_onnx.cli` is the command line;
`blazepose_onnx.extract(sources, out)` turns a dataset of photos and videos into Parquet.
Its names are imported on first use, so `import blazepose_onnx` is cheap; without an ONNX
Runtime build, using one raises ImportError with the command that installs one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from blazepose_onnx._version import __version__
from blazepose_onnx.common.install import require_onnxruntime

if TYPE_CHECKING:
    from blazepose_onnx import extract, samples, solutions
    from blazepose_onnx.errors import BlazePoseError, LandmarkerClosedError, ProviderError
    from blazepose_onnx.landmarks import POSE_CONNECTIONS, PoseLandmark
    from blazepose_onnx.mp_image import Image, ImageFormat
    from blazepose_onnx.multistream import MultiStreamPoseLandmarker
    from blazepose_onnx.options import BaseOptions, PoseLandmarkerOptions, RunningMode
    from blazepose_onnx.pose_landmarker import PoseLandmarker
    from blazepose_onnx.results import Landmark, PoseLandmarkerResult

# Subpackages reached as attributes (mp.solutions.pose); `extract` is a callable module.
_MODULES = ("extract", "samples", "solutions")
_HOMES = {
    "extract": "blazepose_onnx.extract",
    "samples": "blazepose_onnx.samples",
    "solutions": "blazepose_onnx.solutions",
    "BlazePoseError": "blazepose_onnx.errors",
    "LandmarkerClosedError": "blazepose_onnx.errors",
    "ProviderError": "blazepose_onnx.errors",
    "POSE_CONNECTIONS": "blazepose_onnx.landmarks",
    "PoseLandmark": "blazepose_onnx.landmarks",
    "Image": "blazepose_onnx.mp_image",
    "ImageFormat": "blazepose_onnx.mp_image",
    "MultiStreamPoseLandmarker": "blazepose_onnx.multistream",
    "BaseOptions": "blazepose_onnx.options",
    "PoseLandmarkerOptions": "blazepose_onnx.options",
    "RunningMode": "blazepose_onnx.options",
    "PoseLandmarker": "blazepose_onnx.pose_landmarker",
    "Landmark": "blazepose_onnx.results",
    "PoseLandmarkerResult": "blazepose_onnx.results",
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'blazepose_onnx' has no attribute {name!r}")
    require_onnxruntime()
    module = importlib.import_module(home)
    value = module if name in _MODULES else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "POSE_CONNECTIONS",
    "BaseOptions",
    "BlazePoseError",
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
    "extract",
    "samples",
    "solutions",
]

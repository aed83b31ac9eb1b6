"""The types of the values the public API takes, for annotating code that calls it (as
`numpy.typing` does for numpy):

    from blazepose_onnx.typing import ImageLike

    def poses(landmarker: PoseLandmarker, image: ImageLike) -> int:
        return len(landmarker.detect(image).pose_landmarks)

Each string option is a `Literal` of the values it accepts, so a type checker catches a
misspelt one (`color="rbg"`) before it runs; the modules that check them at run time read their
lists from here (`typing.get_args`). Imports nothing heavy (numpy only for type checkers), so
the command line's options may use it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, Union

if TYPE_CHECKING:
    import numpy as np


class SupportsNumpyView(Protocol):
    """An image with MediaPipe's `mp.Image` interface: `blazepose_onnx.Image`, or MediaPipe's
    own `mp.Image`."""

    def numpy_view(self) -> np.ndarray: ...


ImageLike: TypeAlias = Union["np.ndarray", SupportsNumpyView, str, "os.PathLike[str]"]
"""What `detect`, `detect_for_video`, `detect_async`, `detect_batch` (each item) and the
multi-stream `process` take: a numpy array (HxW, HxWx1, HxWx3 or HxWx4; uint8, or float32 or
float64 in [0, 1]; its channel order given by `color`), an `mp.Image`-like object, or an image
file's path (decoded with its own channels)."""

ColorOrder: TypeAlias = Literal["rgb", "bgr", "rgba", "bgra", "gray"]
"""The channel order of an image array: 'rgb' (MediaPipe's), 'bgr' (OpenCV's), 'rgba', 'bgra',
or 'gray' (one channel)."""

Precision: TypeAlias = Literal["fp32", "fp16", "bf16"]
"""The compute precision: 'fp32', 'fp16' (fp16 models, for GPUs) or 'bf16' (bfloat16 on
OpenVINO's CPU plugin; opt-in, drifts from fp32)."""

ErrorMode: TypeAlias = Literal["raise", "return"]
"""What `detect_batch` does with an image it refuses: raise its error, or return it in the
image's place."""

RunningModeName: TypeAlias = Literal[
    "IMAGE", "VIDEO", "LIVE_STREAM", "image", "video", "live_stream"
]
"""A `RunningMode` by name (either case), as `PoseLandmarkerOptions.running_mode` accepts it."""

ProviderName: TypeAlias = Literal[
    "cpu", "cuda", "tensorrt", "openvino", "coreml", "directml", "auto"
]
"""An execution provider by short name ('auto' picks the fastest one available). The run-time
check also takes them in capitals; a type checker holds to these, the documented spelling."""

ProviderSpec: TypeAlias = ProviderName | tuple[ProviderName, Mapping[str, Any]]
"""One entry of `providers`: a name, or a (name, options) pair such as
`("tensorrt", {"fp16": True})`."""

TritonProtocol: TypeAlias = Literal["grpc", "http"]
"""How `TritonPoseClient` talks to the server."""

KeypointSet: TypeAlias = Literal["mediapipe33", "coco17"]
"""The landmarks an export keeps: MediaPipe's 33, or COCO's 17 (in COCO's order)."""

__all__ = [
    "ColorOrder",
    "ErrorMode",
    "ImageLike",
    "KeypointSet",
    "Precision",
    "ProviderName",
    "ProviderSpec",
    "RunningModeName",
    "SupportsNumpyView",
    "TritonProtocol",
]

"""MediaPipe's `mediapipe.tasks.python` path: `BaseOptions` and the `vision` namespace, so
porting MediaPipe's pose landmarker example is replacing `mediapipe` by `blazepose_onnx`
(`from blazepose_onnx.tasks.python.vision import drawing_utils` works too: `vision` is
`blazepose_onnx.vision`, importable under this path)."""

import sys

from blazepose_onnx import vision
from blazepose_onnx.options import BaseOptions

sys.modules[f"{__name__}.vision"] = vision

__all__ = ["BaseOptions", "vision"]

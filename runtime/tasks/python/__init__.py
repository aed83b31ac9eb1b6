"""MediaPipe's `mediapipe.tasks.python` path: `BaseOptions` and the `vision` namespace, so
porting MediaPipe's pose landmarker example is replacing `mediapipe` by `blazepose_onnx`."""

from blazepose_onnx import vision
from blazepose_onnx.options import BaseOptions

__all__ = ["BaseOptions", "vision"]

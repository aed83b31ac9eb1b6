"""The converter's option values, free of its heavy imports (onnx, tflite): the command line's
parser reads them here, so `blazepose-convert --help` and its usage errors start at once."""

from __future__ import annotations

BACKENDS = ("native", "tf2onnx")
WEIGHT_STORAGE = ("fp32", "fp16")
PRECISIONS = ("fp32", "fp16")  # compute precision; graph inputs/outputs stay float32

"""blazepose-onnx converter: MediaPipe pose `.task` bundles to verified ONNX models.

Public API: `fetch_bundles`, `convert_bundle`, `convert_variant`, `verify_models`, and the
error types in `blazepose_onnx.converter.errors`. The command line is `blazepose-convert`.
"""

from __future__ import annotations

CONVERTER_VERSION = "0.1.0"

from blazepose_onnx.converter.convert import convert_bundle, convert_variant  # noqa: E402
from blazepose_onnx.converter.sources import fetch_bundles  # noqa: E402

__all__ = ["CONVERTER_VERSION", "convert_bundle", "convert_variant", "fetch_bundles"]

"""blazepose-onnx converter: MediaPipe pose `.task` bundles to verified ONNX models.

Public API: `fetch_bundles`, `convert_bundle`, `convert_variant`, `verify_models`, and the
error types in `blazepose_onnx.converter.errors`. The command line is `blazepose-convert`.
The functions are imported on first use: importing a submodule (paths, errors, fileio) does
not load onnx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what static readers (type checkers, the API reference) see
    from blazepose_onnx.converter.convert import convert_bundle, convert_variant
    from blazepose_onnx.converter.sources import fetch_bundles
    from blazepose_onnx.converter.verify import verify_models

CONVERTER_VERSION = "0.1.0"

_HOMES = {
    "convert_bundle": "blazepose_onnx.converter.convert",
    "convert_variant": "blazepose_onnx.converter.convert",
    "fetch_bundles": "blazepose_onnx.converter.sources",
    "verify_models": "blazepose_onnx.converter.verify",
}


def __getattr__(name: str) -> Any:
    """Import a public function on first use (PEP 562)."""
    if name not in _HOMES:
        raise AttributeError(f"module 'blazepose_onnx.converter' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "CONVERTER_VERSION",
    "convert_bundle",
    "convert_variant",
    "fetch_bundles",
    "verify_models",
]

"""blazepose-onnx converter: MediaPipe pose `.task` bundles to verified ONNX models.

Public API: fetching and converting (`fetch_bundles`, `convert_bundle`, `convert_variant`; on
first use `ensure_converted`, `ensure_bundle_converted`, `ensure_person_detector`), checking
(`verify_models`), where converted models live (`default_model_dir`, `onnx_paths`,
`model_files`, `person_detector_paths`, `PERSON_DETECTOR_DIR`), what they are (`VARIANTS`,
`load_manifest`; a file's `read_metadata`, `load_converted`, `BATCH_DIM`), and the error types
in `blazepose_onnx.converter.errors`. The runtime reaches the converter through
this API alone. The command line is `blazepose-convert`. Names are imported on first use:
importing the package or `errors` does not load onnx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what static readers (type checkers, the API reference) see
    from blazepose_onnx.converter.convert import (
        convert_bundle,
        convert_variant,
        ensure_bundle_converted,
        ensure_converted,
    )
    from blazepose_onnx.converter.interface import BATCH_DIM, read_metadata
    from blazepose_onnx.converter.manifest import VARIANTS, load_manifest
    from blazepose_onnx.converter.paths import (
        PERSON_DETECTOR_DIR,
        default_model_dir,
        model_files,
        onnx_paths,
        person_detector_paths,
    )
    from blazepose_onnx.converter.person_models import ensure_person_detector
    from blazepose_onnx.converter.seal import load_converted
    from blazepose_onnx.converter.sources import fetch_bundles
    from blazepose_onnx.converter.verify import verify_models

CONVERTER_VERSION = "0.1.0"

_HOMES = {
    "BATCH_DIM": "blazepose_onnx.converter.interface",
    "PERSON_DETECTOR_DIR": "blazepose_onnx.converter.paths",
    "VARIANTS": "blazepose_onnx.converter.manifest",
    "convert_bundle": "blazepose_onnx.converter.convert",
    "convert_variant": "blazepose_onnx.converter.convert",
    "default_model_dir": "blazepose_onnx.converter.paths",
    "ensure_bundle_converted": "blazepose_onnx.converter.convert",
    "ensure_converted": "blazepose_onnx.converter.convert",
    "ensure_person_detector": "blazepose_onnx.converter.person_models",
    "fetch_bundles": "blazepose_onnx.converter.sources",
    "load_converted": "blazepose_onnx.converter.seal",
    "load_manifest": "blazepose_onnx.converter.manifest",
    "model_files": "blazepose_onnx.converter.paths",
    "onnx_paths": "blazepose_onnx.converter.paths",
    "person_detector_paths": "blazepose_onnx.converter.paths",
    "read_metadata": "blazepose_onnx.converter.interface",
    "verify_models": "blazepose_onnx.converter.verify",
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    if name not in _HOMES:
        raise AttributeError(f"module 'blazepose_onnx.converter' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "BATCH_DIM",
    "CONVERTER_VERSION",
    "PERSON_DETECTOR_DIR",
    "VARIANTS",
    "convert_bundle",
    "convert_variant",
    "default_model_dir",
    "ensure_bundle_converted",
    "ensure_converted",
    "ensure_person_detector",
    "fetch_bundles",
    "load_converted",
    "load_manifest",
    "model_files",
    "onnx_paths",
    "person_detector_paths",
    "read_metadata",
    "verify_models",
]

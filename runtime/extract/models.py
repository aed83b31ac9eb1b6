"""The model files a run uses and their hashes, which make a dataset's poses reproducible."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from blazepose_onnx.common.digest import sha256_file
from blazepose_onnx.options import PoseLandmarkerOptions
from blazepose_onnx.pipeline.builtin_detectors import is_builtin


@functools.lru_cache(maxsize=8)
def _file_sha256(path: Path, mtime_ns: int) -> str:
    """`sha256_file`, once per file version (path and modification time)."""
    return sha256_file(path)


def model_hashes(options: PoseLandmarkerOptions) -> dict[str, str]:
    """sha256 of the detector and landmarker files these options run, by role, and of the
    person detector's ONNX file when one replaces the pose detector (a built-in's converted
    model, fetched and converted here on first use)."""
    from blazepose_onnx.backend.models import builtin_person_detector_path, resolve_model

    paths = resolve_model(options.model, options.model_precision, options.trust_unverified)
    if is_builtin(options.person_detector):
        paths["person_detector"] = builtin_person_detector_path(
            options.person_detector, options.model
        )
    elif isinstance(options.person_detector, (str, os.PathLike)):
        paths["person_detector"] = Path(options.person_detector)
    return {
        f"{role}_sha256": _file_sha256(path, path.stat().st_mtime_ns)
        for role, path in paths.items()
    }

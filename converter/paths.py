"""Where models live: `models/` in a source checkout, else a user cache directory."""

from __future__ import annotations

import os
from pathlib import Path

from blazepose_onnx.common.install import SOURCE_ROOT

MODEL_DIR_ENV = "BLAZEPOSE_MODEL_DIR"


def default_model_dir() -> Path:
    """The model directory: $BLAZEPOSE_MODEL_DIR, the checkout's models/, or the user cache."""
    override = os.environ.get(MODEL_DIR_ENV)
    if override:
        return Path(override).expanduser()
    if (SOURCE_ROOT / "pyproject.toml").is_file() and (
        SOURCE_ROOT / "models" / "manifest.json"
    ).is_file():
        return SOURCE_ROOT / "models"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "blazepose-onnx"


def bundle_path(variant: str, model_dir: Path | None = None) -> Path:
    """Path of the `.task` bundle of `variant` in the model directory."""
    return (model_dir or default_model_dir()) / f"pose_landmarker_{variant}.task"


def onnx_paths(
    variant: str, model_dir: Path | None = None, precision: str = "fp32"
) -> dict[str, Path]:
    """Paths of the converted ONNX models of `variant`, by role (`<role>.fp16.onnx` for fp16);
    they may not exist yet (`ensure_converted` makes them).

    Args:
        variant: 'lite', 'full', 'heavy' (or a converted custom bundle's variant).
        model_dir: where they live (None: `default_model_dir()`).
        precision: 'fp32' or 'fp16'.

    Returns:
        The paths by role ('detector', 'landmarker').
    """
    folder = (model_dir or default_model_dir()) / variant
    return model_files(folder, precision)


def model_files(folder: Path, precision: str = "fp32") -> dict[str, Path]:
    """The detector and landmarker files of one precision in a model folder."""
    suffix = ".onnx" if precision == "fp32" else f".{precision}.onnx"
    return {role: folder / f"{role}{suffix}" for role in ("detector", "landmarker")}


PERSON_DETECTOR_DIR = "person_detectors"


def person_detector_paths(name: str, model_dir: Path | None = None) -> dict[str, Path]:
    """The TFLite original and the converted ONNX model of a built-in person detector."""
    folder = (model_dir or default_model_dir()) / PERSON_DETECTOR_DIR
    return {"tflite": folder / f"{name}.tflite", "onnx": folder / f"{name}.onnx"}

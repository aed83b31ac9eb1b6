"""Which ONNX files a `model` option means, and what their metadata says about inputs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import onnx
import onnxruntime as ort
from blazepose_onnx.converter.bundle import read_bundle
from blazepose_onnx.converter.convert import convert_bundle, ensure_converted, identify_variant
from blazepose_onnx.converter.interface import read_metadata
from blazepose_onnx.converter.manifest import VARIANTS
from blazepose_onnx.converter.paths import default_model_dir, model_files, onnx_paths
from blazepose_onnx.converter.tflite_graph import weights_fingerprint


@dataclass(frozen=True)
class InputSpec:
    """What a converted model expects: input name and square size."""

    name: str
    size: int


def resolve_model(model: str | os.PathLike, precision: str = "fp32") -> dict[str, Path]:
    """Paths of the detector and landmarker ONNX models for a `model` option.

    'lite' | 'full' | 'heavy' (fetched and converted on first use), a `.task` bundle
    (converted once into the model directory), or a directory with both ONNX files
    (`<role>.onnx`, or `<role>.fp16.onnx` for fp16 precision).
    """
    if isinstance(model, str) and model in VARIANTS:
        return ensure_converted(model, precision=precision)
    path = Path(model)
    if not path.exists():
        raise FileNotFoundError(
            f"model not found: {path} (expected {', '.join(VARIANTS)} or a path)"
        )
    if path.is_dir():
        pair = model_files(path, precision)
        for role_path in pair.values():
            if not role_path.is_file():
                raise FileNotFoundError(f"model directory {path} has no {role_path.name}")
        return pair
    if path.suffix == ".task":
        return _converted_bundle(path, precision)
    raise ValueError(
        f"model {path} must be a .task bundle or a directory with detector.onnx and landmarker.onnx"
    )


def _converted_bundle(path: Path, precision: str) -> dict[str, Path]:
    bundle = read_bundle(path)
    variant = identify_variant(bundle)
    if variant is not None:
        existing = onnx_paths(variant, default_model_dir(), precision)
        fingerprint = weights_fingerprint(bundle.landmarker)
        if existing["landmarker"].is_file() and existing["detector"].is_file():
            meta = read_metadata(onnx.load(str(existing["landmarker"])))
            if meta.get("blazepose.weights_fingerprint") == fingerprint:
                return existing
    return convert_bundle(path, precision=precision)


def input_spec(session: ort.InferenceSession) -> InputSpec:
    """The input name and size recorded by the converter in the model's metadata_props."""
    meta = session.get_modelmeta().custom_metadata_map
    return InputSpec(meta["blazepose.input"], int(meta["blazepose.input_size"]))

"""The models the runtime hands an execution provider, written out for other runtimes
(`blazepose-convert export VARIANT --for PROVIDER --out DIR`)."""

from __future__ import annotations

import os
from pathlib import Path

from blazepose_onnx.backend.models import builtin_person_detector_model, resolve_session_models
from blazepose_onnx.backend.providers import ProviderRequest, model_form
from blazepose_onnx.common.fileio import write_bytes_atomic
from blazepose_onnx.converter.errors import ConverterError
from blazepose_onnx.pipeline.pose_pipeline import LANDMARKER_OUTPUTS


def provider_models(
    model: str | os.PathLike,
    provider: ProviderRequest,
    precision: str = "fp32",
    masks: bool = False,
    person_detector: str | None = None,
) -> dict[str, bytes]:
    """The serialised detector and landmarker a session on `provider` (a name, or a name and
    its options) is built from: the outputs the pipeline reads (with the segmentation mask when
    `masks`), a uint8 NHWC input; on CoreML a fixed batch (`batch_size`, 1 by default) and
    float32 pixel values 0-255 as input. With a built-in `person_detector` ('ssd'), its model
    too, as role "person_detector" (on CoreML: batch 1, it runs one image at a time)."""
    outputs = {
        "detector": None,
        "landmarker": LANDMARKER_OUTPUTS + (["segmentation"] if masks else []),
    }
    form = model_form([provider])
    models = resolve_session_models(model, precision, False, outputs, form)
    if person_detector is not None:
        models["person_detector"] = builtin_person_detector_model(person_detector, model, form)
    return {role: data for role, (_, data) in models.items()}


def export_models(
    model: str | os.PathLike,
    provider: str,
    out: str | os.PathLike,
    precision: str = "fp32",
    masks: bool = False,
    person_detector: str | None = None,
) -> dict[str, Path]:
    """Write `provider_models` to `out`/detector.onnx and `out`/landmarker.onnx (and
    `out`/person_detector.onnx with a `person_detector`). A file there that is not an earlier
    export (a converted model, anything else) is left alone: error."""
    models = provider_models(model, provider, precision, masks, person_detector)
    targets = {role: Path(out) / f"{role}.onnx" for role in models}
    for target in targets.values():
        if target.exists() and not _is_export(target):
            raise ConverterError(
                f"{target} exists and is not a model written by blazepose-convert export: "
                "choose another --out (or remove it)"
            )
    return {role: write_bytes_atomic(targets[role], data) for role, data in models.items()}


def _is_export(path: Path) -> bool:
    """Whether `path` is a regular file holding a session model (uint8 NHWC input)."""
    import onnx

    from blazepose_onnx.converter import read_metadata

    if not path.is_file() or path.is_symlink():
        return False
    try:
        meta = read_metadata(onnx.load(str(path), load_external_data=False))
    except Exception:  # not ONNX at all
        return False
    return meta.get("blazepose.input_layout") == "NHWC"

"""The runtime's edits of converted models: the same numbers, less graph, uint8 input."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from blazepose_onnx.backend.graph_edits import (
    prune_to_outputs,
    session_model,
    with_uint8_image_input,
)
from blazepose_onnx.converter.interface import INPUT_RANGE, read_metadata
from blazepose_onnx.converter.paths import onnx_paths
from blazepose_onnx.pipeline.detector import detector_input
from blazepose_onnx.pipeline.landmarker import crop_inputs
from blazepose_onnx.pipeline.pose_pipeline import LANDMARKER_OUTPUTS

ROI_ON_MESSI = np.array([[0.5, 0.45, 0.8, 0.8, 0.0]])


def _run(model: str | bytes, image: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = [value.name for value in session.get_outputs()]
    return dict(zip(names, session.run(names, {"image": image}), strict=True))


def _host_scaled(images: np.ndarray, role: str) -> np.ndarray:
    """What the converted model's float NCHW input expects, computed with numpy."""
    low, high = INPUT_RANGE[role]
    scaled = images.transpose(0, 3, 1, 2).astype(np.float32) * np.float32((high - low) / 255)
    return scaled + np.float32(low)


@pytest.mark.parametrize("variant", ["lite", "full"])
def test_pruned_landmarker_gives_the_same_outputs_without_the_segmentation_head(
    model_dir, images, variant
):
    path = onnx_paths(variant, model_dir)["landmarker"]
    model = onnx.load(str(path))
    pruned = prune_to_outputs(model, LANDMARKER_OUTPUTS)
    assert [value.name for value in pruned.graph.output] == [
        name for name in (value.name for value in model.graph.output) if name in LANDMARKER_OUTPUTS
    ]
    assert len(pruned.graph.node) < len(model.graph.node)
    assert len(pruned.graph.initializer) < len(model.graph.initializer)
    onnx.checker.check_model(pruned)
    assert pruned.metadata_props == model.metadata_props
    crops = _host_scaled(crop_inputs(images["messi5"], ROI_ON_MESSI), "landmarker")
    whole = _run(str(path), crops)
    kept = _run(pruned.SerializeToString(), crops)
    assert set(kept) == set(LANDMARKER_OUTPUTS)
    for name in LANDMARKER_OUTPUTS:
        np.testing.assert_allclose(kept[name], whole[name], atol=1e-4, err_msg=name)


@pytest.mark.parametrize("role", ["detector", "landmarker"])
def test_uint8_input_equals_scaling_on_the_host(model_dir, images, role):
    """The in-graph transpose, cast and scaling give the model exactly the host's floats."""
    path = onnx_paths("full", model_dir)[role]
    model = onnx.load(str(path))
    edited = with_uint8_image_input(model)
    onnx.checker.check_model(edited)
    meta = read_metadata(edited)
    assert meta["blazepose.input_layout"] == "NHWC"
    assert json.loads(meta["blazepose.input_range"]) == [0, 255]
    (image_input,) = edited.graph.input
    assert image_input.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    if role == "detector":
        pixels = detector_input(images["messi5"])[0]
    else:
        pixels = crop_inputs(images["messi5"], ROI_ON_MESSI)
    ours = _run(edited.SerializeToString(), pixels)
    reference = _run(str(path), _host_scaled(pixels, role))
    for name, value in reference.items():
        np.testing.assert_allclose(ours[name], value, rtol=0, atol=1e-5, err_msg=name)


def test_session_model_prunes_only_when_asked(model_dir):
    path = onnx_paths("full", model_dir)["landmarker"]
    every = onnx.load_from_string(session_model(path, "landmarker", None))
    also_every = onnx.load_from_string(
        session_model(path, "landmarker", [*LANDMARKER_OUTPUTS, "segmentation"])
    )
    pruned = onnx.load_from_string(session_model(path, "landmarker", LANDMARKER_OUTPUTS))
    assert {value.name for value in every.graph.output} == {
        *LANDMARKER_OUTPUTS,
        "segmentation",
    }
    assert len(also_every.graph.node) == len(every.graph.node)
    assert {value.name for value in pruned.graph.output} == set(LANDMARKER_OUTPUTS)


def test_unknown_output_and_already_edited_models_are_refused(model_dir):
    model = onnx.load(str(onnx_paths("full", model_dir)["landmarker"]))
    with pytest.raises(ValueError, match=r"no output.*masks"):
        prune_to_outputs(model, ["landmarks", "masks"])
    with pytest.raises(ValueError, match="NCHW float input, found layout 'NHWC'"):
        with_uint8_image_input(with_uint8_image_input(model))


def test_landmarker_runs_the_segmentation_head_only_when_masks_are_asked_for(
    landmarker_factory, images
):
    without = landmarker_factory("full", masks=False)
    with_masks = landmarker_factory("full", masks=True)
    outputs = {
        name: {value.name for value in lm.pipeline.landmarker.get_outputs()}
        for name, lm in (("without", without), ("with", with_masks))
    }
    assert "segmentation" not in outputs["without"] and "segmentation" in outputs["with"]
    a, b = without.detect(images["messi5"]), with_masks.detect(images["messi5"])
    assert len(a.pose_landmarks) == len(b.pose_landmarks) == 1
    coords = [np.array([[p.x, p.y, p.z] for p in result.pose_landmarks[0]]) for result in (a, b)]
    np.testing.assert_allclose(coords[0], coords[1], atol=1e-5)

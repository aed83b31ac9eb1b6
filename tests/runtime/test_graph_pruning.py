"""Pruning the landmarker to the outputs in use: the same numbers, less graph."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from converter.paths import onnx_paths
from runtime.graph_pruning import model_for_outputs, prune_to_outputs
from runtime.landmarker import crop_inputs
from runtime.pipeline import LANDMARKER_OUTPUTS

ROI_ON_MESSI = np.array([[0.5, 0.45, 0.8, 0.8, 0.0]])


def _run(model: str | bytes, crops: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = [value.name for value in session.get_outputs()]
    return dict(zip(names, session.run(names, {"image": crops}), strict=True))


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
    assert pruned.metadata_props == model.metadata_props  # input spec still readable
    crops = crop_inputs(images["messi5"], ROI_ON_MESSI)
    whole = _run(str(path), crops)
    kept = _run(pruned.SerializeToString(), crops)
    assert set(kept) == set(LANDMARKER_OUTPUTS)
    for name in LANDMARKER_OUTPUTS:
        np.testing.assert_allclose(kept[name], whole[name], atol=1e-4, err_msg=name)


def test_model_for_outputs_keeps_the_file_when_everything_is_wanted(model_dir):
    path = onnx_paths("full", model_dir)["landmarker"]
    every_output = [*LANDMARKER_OUTPUTS, "segmentation"]
    assert model_for_outputs(path, every_output) == str(path)
    assert model_for_outputs(path, None) == str(path)
    assert isinstance(model_for_outputs(path, LANDMARKER_OUTPUTS), bytes)


def test_unknown_output_is_refused(model_dir):
    model = onnx.load(str(onnx_paths("full", model_dir)["landmarker"]))
    with pytest.raises(ValueError, match=r"no output.*masks"):
        prune_to_outputs(model, ["landmarks", "masks"])


def test_landmarker_runs_the_segmentation_head_only_when_masks_are_asked_for(
    landmarker_factory, images
):
    without = landmarker_factory("full", masks=False)
    with_masks = landmarker_factory("full", masks=True)
    outputs = {
        name: {value.name for value in lm._pipeline.landmarker.get_outputs()}
        for name, lm in (("without", without), ("with", with_masks))
    }
    assert "segmentation" not in outputs["without"] and "segmentation" in outputs["with"]
    a, b = without.detect(images["messi5"]), with_masks.detect(images["messi5"])
    assert len(a.pose_landmarks) == len(b.pose_landmarks) == 1
    coords = [np.array([[p.x, p.y, p.z] for p in result.pose_landmarks[0]]) for result in (a, b)]
    np.testing.assert_allclose(coords[0], coords[1], atol=1e-5)

"""Node placement read from ONNX Runtime's own record of each session, and the refusal of a
provider that runs only part of a model. Runs on the test provider (CI: cpu, and openvino in
its OpenVINO environment, where a real partial placement is made)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from onnx import TensorProto, helper

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions, ProviderError
from blazepose_onnx.backend.placement import RECORDS_ASSIGNMENT
from blazepose_onnx.backend.provider_models import provider_models
from blazepose_onnx.backend.providers import available_providers, create_session


def test_every_session_has_its_placement(landmarker_factory, test_providers):
    """All nodes of both models on the test provider, counted by ONNX Runtime (its assignment
    record on onnxruntime >= 1.24; a profiled warm-up run on older ones: CI's lowest stage)."""
    provider = test_providers[0]
    placement = landmarker_factory("lite").placement
    assert set(placement) == {"detector", "landmarker"}
    for role, placed in placement.items():
        assert placed.model == role
        assert placed.source == ("assignment" if RECORDS_ASSIGNMENT else "profile")
        assert placed.nodes == {provider: placed.total} and placed.total > 100
        assert placed.runs_all(provider)
        assert placed.describe(provider) == f"{role} {placed.total}/{placed.total} nodes"


def test_the_person_detectors_session_has_its_placement(model_dir, ssd_model, test_providers):
    """`person_detector="ssd"`: its session is one more model in the placement, every node of
    it on the requested provider (the pose detector still runs: it turns each box)."""
    options = PoseLandmarkerOptions(model="lite", person_detector="ssd", providers=test_providers)
    with PoseLandmarker.create_from_options(options) as landmarker:
        placement = landmarker.placement
    assert list(placement) == ["detector", "landmarker", "person_detector"]
    placed = placement["person_detector"]
    assert placed.model == "person_detector" and placed.total > 100
    assert placed.nodes == {test_providers[0]: placed.total}


def test_placement_stays_readable_after_close(model_dir, test_providers):
    landmarker = PoseLandmarker.create_from_options(
        PoseLandmarkerOptions(model="lite", providers=test_providers)
    )
    before = landmarker.placement
    landmarker.close()
    assert landmarker.placement == before


def test_profiled_placement_gives_time_shares(model_dir, test_providers):
    """`profile=True`: a second, profiled run measures each provider's share of node time."""
    model = provider_models("lite", test_providers[0])["landmarker"]
    session = create_session(model, test_providers, name="landmarker", profile=True)
    placed = session.placement
    assert placed.time_share == {test_providers[0]: 1.0}
    assert placed.to_dict()["time_share"] == {test_providers[0]: 1.0}
    assert sum(placed.nodes.values()) > 100


def _half_supported_model() -> bytes:
    """x -> Add -> Det -> Add: OpenVINO has no Det, so ONNX Runtime gives it and the Add after
    it to the CPU provider (2 of 3 nodes)."""
    nodes = [
        helper.make_node("Add", ["x", "x"], ["a"]),
        helper.make_node("Det", ["a"], ["d"]),
        helper.make_node("Add", ["d", "d"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "partial",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return model.SerializeToString()


@pytest.mark.skipif(
    "openvino" not in available_providers(),
    reason="a partial placement needs a second provider: runs in CI's OpenVINO environment",
)
def test_partial_placement_is_an_error_unless_accepted(caplog):
    model = _half_supported_model()
    with pytest.raises(ProviderError) as caught:
        create_session(model, ["openvino"], label="half.onnx", name="half")
    message = str(caught.value)
    assert "provider 'openvino' runs only part of half.onnx: half 1/3 nodes (2 on cpu)" in message
    assert "provider_fallback=True" in message
    with caplog.at_level(logging.WARNING, logger="blazepose_onnx.backend.providers"):
        session = create_session(
            model, ["openvino"], provider_fallback=True, label="half.onnx", name="half"
        )
    assert "half 1/3 nodes (2 on cpu)" in caplog.text
    assert session.placement.nodes == {"openvino": 1, "cpu": 2}
    x = np.array([[1, 2], [3, 4]], np.float32)
    np.testing.assert_allclose(session.run(None, {"x": x})[0], 2 * np.linalg.det(2 * x), rtol=1e-5)

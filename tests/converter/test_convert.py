"""Converted models: interface, metadata, symbolic batch, weight storage, integrity checks."""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from blazepose_onnx.converter import CONVERTER_VERSION
from blazepose_onnx.converter.bundle import MEMBERS, Bundle, write_bundle
from blazepose_onnx.converter.convert import convert_bundle, identify_variant
from blazepose_onnx.converter.errors import IntegrityError
from blazepose_onnx.converter.interface import read_metadata
from blazepose_onnx.converter.verify import model_inputs

EXPECTED_OUTPUTS = {
    "detector": {"boxes": ["batch", 2254, 12], "scores": ["batch", 2254, 1]},
    "landmarker": {
        "landmarks": ["batch", 195],
        "pose_flag": ["batch", 1],
        "segmentation": ["batch", 1, 256, 256],
        "heatmap": ["batch", 39, 64, 64],
        "world_landmarks": ["batch", 117],
    },
}


def _dims(value: onnx.ValueInfoProto) -> list:
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


@pytest.mark.parametrize("variant", ["lite", "full", "heavy"])
@pytest.mark.parametrize("role", ["detector", "landmarker"])
def test_interface_and_metadata(model_dir, bundles, variant, role):
    model = onnx.load(str(model_dir / variant / f"{role}.onnx"), load_external_data=False)
    size = 224 if role == "detector" else 256
    assert [(i.name, _dims(i)) for i in model.graph.input] == [("image", ["batch", 3, size, size])]
    assert {o.name: _dims(o) for o in model.graph.output} == EXPECTED_OUTPUTS[role]
    meta = read_metadata(model)
    assert (
        model.ir_version == 8 and model.opset_import[0].version == 17
    )  # loadable by older runtimes
    assert meta["blazepose.role"] == role
    assert meta["blazepose.variant"] == variant
    assert meta["blazepose.input_layout"] == "NCHW"
    assert json.loads(meta["blazepose.input_range"]) == (
        [-1.0, 1.0] if role == "detector" else [0.0, 1.0]
    )
    assert meta["blazepose.converter_version"] == CONVERTER_VERSION
    assert set(json.loads(meta["blazepose.outputs"])) == set(EXPECTED_OUTPUTS[role])
    assert (
        meta["blazepose.source_sha256"] == hashlib.sha256(bundles[variant].model(role)).hexdigest()
    )


def test_batch_is_symbolic_and_equals_single_runs(model_dir, data_dir):
    session = ort.InferenceSession(
        str(model_dir / "full" / "landmarker.onnx"), providers=["CPUExecutionProvider"]
    )
    batch = model_inputs("landmarker", data_dir).transpose(0, 3, 1, 2).copy()
    together = session.run(None, {"image": batch})
    for i in range(batch.shape[0]):
        alone = session.run(None, {"image": batch[i : i + 1]})
        for a, b in zip(together, alone, strict=True):
            np.testing.assert_allclose(a[i : i + 1], b, rtol=0, atol=1e-5)


def test_fp16_weight_storage_is_smaller_and_numerically_identical(bundles, tmp_path, data_dir):
    path = write_bundle(tmp_path / "lite.task", bundles["lite"])
    fp32 = convert_bundle(path, tmp_path / "fp32")["landmarker"]
    fp16 = convert_bundle(path, tmp_path / "fp16", weights="fp16")["landmarker"]
    assert fp16.stat().st_size < 0.6 * fp32.stat().st_size
    assert read_metadata(onnx.load(str(fp16)))["blazepose.weights"] == "fp16"
    x = model_inputs("landmarker", data_dir)[:2].transpose(0, 3, 1, 2).copy()
    a = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"]).run(None, {"image": x})
    b = ort.InferenceSession(str(fp16), providers=["CPUExecutionProvider"]).run(None, {"image": x})
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)


def test_variant_is_identified_from_weights(bundles):
    for variant, bundle in bundles.items():
        assert identify_variant(bundle) == variant


def test_tampered_weights_are_refused_then_accepted_with_trust(bundles, tamper, tmp_path, caplog):
    lite = bundles["lite"]
    path = write_bundle(tmp_path / "bad.task", Bundle(tamper(lite.detector), lite.landmarker))
    with pytest.raises(IntegrityError, match="fingerprint"):
        convert_bundle(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with caplog.at_level(logging.WARNING):
        written = convert_bundle(path, tmp_path / "out", trust_unverified=True)
    assert "does not match" in caplog.text
    assert all(p.is_file() for p in written.values())


def test_unknown_landmarker_is_refused_unless_trusted(bundles, tamper, tmp_path):
    lite = bundles["lite"]
    path = write_bundle(tmp_path / "mine.task", Bundle(lite.detector, tamper(lite.landmarker)))
    with pytest.raises(IntegrityError, match="match no known variant"):
        convert_bundle(path, tmp_path / "out")
    written = convert_bundle(path, tmp_path / "out", trust_unverified=True)
    assert written["landmarker"].parent.name == "custom-mine"


def test_bundle_members_are_stored_by_name(model_dir):
    with zipfile.ZipFile(model_dir / "pose_landmarker_full.task") as archive:
        infos = {info.filename: info for info in archive.infolist()}
    assert set(infos) == set(MEMBERS.values())
    assert all(info.compress_type == zipfile.ZIP_STORED for info in infos.values())

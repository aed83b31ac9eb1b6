"""Parity of converted models with the TFLite originals, both backends, all variants."""

from __future__ import annotations

import pytest

from blazepose_onnx.converter.bundle import write_bundle
from blazepose_onnx.converter.convert import convert_bundle
from blazepose_onnx.converter.errors import ModelFormatError, ModelNotFoundError
from blazepose_onnx.converter.paths import onnx_paths
from blazepose_onnx.converter.verify import TOLERANCES, format_table, verify_models

VARIANTS = ["lite", "full", "heavy"]


def _assert_within_tolerance(diffs):
    table = format_table(diffs)
    assert {d.output for d in diffs} == set(TOLERANCES), table
    assert all(d.ok for d in diffs), table
    # The real-image crops and random inputs produce real, non-trivial outputs on both sides.
    assert all(d.mean_abs > 0 for d in diffs if d.output != "pose_flag"), table


@pytest.mark.parametrize("variant", VARIANTS)
def test_native_backend_matches_tflite(bundles, model_dir, data_dir, variant):
    diffs = verify_models(bundles[variant], onnx_paths(variant, model_dir), data_dir)
    _assert_within_tolerance(diffs)


@pytest.mark.tf2onnx
@pytest.mark.parametrize("variant", VARIANTS)
def test_tf2onnx_backend_matches_tflite(bundles, tmp_path, data_dir, variant):
    pytest.importorskip("tf2onnx")
    path = write_bundle(tmp_path / f"{variant}.task", bundles[variant])
    written = convert_bundle(path, tmp_path, backend="tf2onnx")
    _assert_within_tolerance(verify_models(bundles[variant], written, data_dir))


def test_corrupt_onnx_is_reported(bundles, tmp_path, model_dir):
    paths = onnx_paths("lite", tmp_path)
    paths["detector"].parent.mkdir(parents=True)
    paths["detector"].write_bytes(b"\x08\x07garbage, not a protobuf")
    paths["landmarker"].write_bytes((model_dir / "lite" / "landmarker.onnx").read_bytes()[:5000])
    with pytest.raises(ModelFormatError, match=r"detector\.onnx: not a valid ONNX model"):
        verify_models(bundles["lite"], {"detector": paths["detector"]}, None)
    with pytest.raises(ModelFormatError, match=r"landmarker\.onnx: not a valid ONNX model"):
        verify_models(bundles["lite"], {"landmarker": paths["landmarker"]}, None)


def test_missing_onnx_says_to_convert(bundles, tmp_path):
    with pytest.raises(ModelNotFoundError, match="run `blazepose-convert convert` first"):
        verify_models(bundles["lite"], onnx_paths("lite", tmp_path), None)

